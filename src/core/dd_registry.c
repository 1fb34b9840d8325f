/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The IoT registry's handler table: operation name → handler, for the dispatcher. The
 * handlers live in dd_registry_things.c, dd_registry_certs.c,
 * dd_registry_types.c, dd_registry_principals.c.
 */
#include "dd/ctx.h"
#include "core/dd_registry_handlers.h"

const struct dd_handler dd_registry_handlers[] = {
	{ "iot", "CreateThing", dd_iot_create_thing },
	{ "iot", "DescribeThing", dd_iot_describe_thing },
	{ "iot", "ListThings", dd_iot_list_things },
	{ "iot", "UpdateThing", dd_iot_update_thing },
	{ "iot", "DeleteThing", dd_iot_delete_thing },
	{ "iot", "CreateThingGroup", dd_iot_create_thing_group },
	{ "iot", "CreateDynamicThingGroup", dd_iot_create_dynamic_thing_group },
	{ "iot", "DescribeThingGroup", dd_iot_describe_thing_group },
	{ "iot", "ListThingGroups", dd_iot_list_thing_groups },
	{ "iot", "UpdateThingGroup", dd_iot_update_thing_group },
	{ "iot", "UpdateDynamicThingGroup", dd_iot_update_dynamic_thing_group },
	{ "iot", "DeleteThingGroup", dd_iot_delete_thing_group },
	{ "iot", "DeleteDynamicThingGroup", dd_iot_delete_dynamic_thing_group },
	{ "iot", "AddThingToThingGroup", dd_iot_add_thing_to_thing_group },
	{ "iot", "RemoveThingFromThingGroup", dd_iot_remove_thing_from_thing_group },
	{ "iot", "UpdateThingGroupsForThing", dd_iot_update_thing_groups_for_thing },
	{ "iot", "ListThingsInThingGroup", dd_iot_list_things_in_thing_group },
	{ "iot", "ListThingGroupsForThing", dd_iot_list_thing_groups_for_thing },
	{ "iot", "CreateThingType", dd_iot_create_thing_type },
	{ "iot", "DescribeThingType", dd_iot_describe_thing_type },
	{ "iot", "ListThingTypes", dd_iot_list_thing_types },
	{ "iot", "UpdateThingType", dd_iot_update_thing_type },
	{ "iot", "DeprecateThingType", dd_iot_deprecate_thing_type },
	{ "iot", "DeleteThingType", dd_iot_delete_thing_type },
	{ "iot", "CreateBillingGroup", dd_iot_create_billing_group },
	{ "iot", "DescribeBillingGroup", dd_iot_describe_billing_group },
	{ "iot", "ListBillingGroups", dd_iot_list_billing_groups },
	{ "iot", "UpdateBillingGroup", dd_iot_update_billing_group },
	{ "iot", "DeleteBillingGroup", dd_iot_delete_billing_group },
	{ "iot", "AddThingToBillingGroup", dd_iot_add_thing_to_billing_group },
	{ "iot", "RemoveThingFromBillingGroup", dd_iot_remove_thing_from_billing_group },
	{ "iot", "ListThingsInBillingGroup", dd_iot_list_things_in_billing_group },
	{ "iot", "ListThingPrincipalsV2", dd_iot_list_thing_principals_v2 },
	{ "iot", "ListPrincipalThingsV2", dd_iot_list_principal_things_v2 },
	{ "iot", "AttachPrincipalPolicy", dd_iot_attach_principal_policy },
	{ "iot", "DetachPrincipalPolicy", dd_iot_detach_principal_policy },
	{ "iot", "ListPrincipalPolicies", dd_iot_list_principal_policies },
	{ "iot", "ListPolicyPrincipals", dd_iot_list_policy_principals },
	{ NULL, NULL, NULL },
};

const struct dd_raw_route dd_registry_raw_routes[] = {
	{ NULL, NULL, NULL },
};

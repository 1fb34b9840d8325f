/* SPDX-License-Identifier: Apache-2.0 */
/* The IoT registry's API handlers (see dd_ctx.h for the handler contract). */
#ifndef DD_REGISTRY_HANDLERS_H
#define DD_REGISTRY_HANDLERS_H

#include "dd/ctx.h"

#define DD_HANDLER(fn) int fn(struct dd_ctx *c, json_t *in, json_t **out)

DD_HANDLER(dd_iot_create_thing);
DD_HANDLER(dd_iot_describe_thing);
DD_HANDLER(dd_iot_list_things);
DD_HANDLER(dd_iot_update_thing);
DD_HANDLER(dd_iot_delete_thing);
DD_HANDLER(dd_iot_create_thing_group);
DD_HANDLER(dd_iot_create_dynamic_thing_group);
DD_HANDLER(dd_iot_describe_thing_group);
DD_HANDLER(dd_iot_list_thing_groups);
DD_HANDLER(dd_iot_update_thing_group);
DD_HANDLER(dd_iot_update_dynamic_thing_group);
DD_HANDLER(dd_iot_delete_thing_group);
DD_HANDLER(dd_iot_delete_dynamic_thing_group);
DD_HANDLER(dd_iot_add_thing_to_thing_group);
DD_HANDLER(dd_iot_remove_thing_from_thing_group);
DD_HANDLER(dd_iot_update_thing_groups_for_thing);
DD_HANDLER(dd_iot_list_things_in_thing_group);
DD_HANDLER(dd_iot_list_thing_groups_for_thing);
/* dd_registry_types.c */
DD_HANDLER(dd_iot_create_thing_type);
DD_HANDLER(dd_iot_describe_thing_type);
DD_HANDLER(dd_iot_list_thing_types);
DD_HANDLER(dd_iot_update_thing_type);
DD_HANDLER(dd_iot_deprecate_thing_type);
DD_HANDLER(dd_iot_delete_thing_type);
DD_HANDLER(dd_iot_create_billing_group);
DD_HANDLER(dd_iot_describe_billing_group);
DD_HANDLER(dd_iot_list_billing_groups);
DD_HANDLER(dd_iot_update_billing_group);
DD_HANDLER(dd_iot_delete_billing_group);
DD_HANDLER(dd_iot_add_thing_to_billing_group);
DD_HANDLER(dd_iot_remove_thing_from_billing_group);
DD_HANDLER(dd_iot_list_things_in_billing_group);
/* dd_registry_principals.c */
DD_HANDLER(dd_iot_list_thing_principals_v2);
DD_HANDLER(dd_iot_list_principal_things_v2);
DD_HANDLER(dd_iot_attach_principal_policy);
DD_HANDLER(dd_iot_detach_principal_policy);
DD_HANDLER(dd_iot_list_principal_policies);
DD_HANDLER(dd_iot_list_policy_principals);
/* src/api/dd_iot_policies.c: AttachPolicy and DetachPolicy, which AttachPrincipalPolicy and
 * DetachPrincipalPolicy (dd_registry_principals.c) call. */
DD_HANDLER(dd_iot_attach_policy);
DD_HANDLER(dd_iot_detach_policy);
/* src/api/dd_iot_ingest.c: the connection-events route, also called by the broker
 * plugin's writer and the demo. */
int dd_iot_ingest_connection_events(struct dd_ctx *c, const char *body, size_t len, json_t **out);

#endif

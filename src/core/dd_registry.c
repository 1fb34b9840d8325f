/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The IoT registry's handler table: operation name → handler, for the dispatcher. The
 * handlers live in dd_registry_certs.c, dd_registry_policies.c,
 * dd_registry_misc.c,
 * dd_registry_rules.c and dd_registry_domains.c (things, thing groups, thing types,
 * billing groups and the principal listings have their own tables in src/api/).
 */
#include "dd/ctx.h"
#include "core/dd_registry_handlers.h"

const struct dd_handler dd_registry_handlers[] = {
	{ "iot", "CreatePolicy", dd_iot_create_policy },
	{ "iot", "GetPolicy", dd_iot_get_policy },
	{ "iot", "ListPolicies", dd_iot_list_policies },
	{ "iot", "DeletePolicy", dd_iot_delete_policy },
	{ "iot", "CreatePolicyVersion", dd_iot_create_policy_version },
	{ "iot", "GetPolicyVersion", dd_iot_get_policy_version },
	{ "iot", "ListPolicyVersions", dd_iot_list_policy_versions },
	{ "iot", "SetDefaultPolicyVersion", dd_iot_set_default_policy_version },
	{ "iot", "DeletePolicyVersion", dd_iot_delete_policy_version },
	{ "iot", "AttachPolicy", dd_iot_attach_policy },
	{ "iot", "DetachPolicy", dd_iot_detach_policy },
	{ "iot", "ListTargetsForPolicy", dd_iot_list_targets_for_policy },
	{ "iot", "ListAttachedPolicies", dd_iot_list_attached_policies },
	{ "iot", "AttachThingPrincipal", dd_iot_attach_thing_principal },
	{ "iot", "DetachThingPrincipal", dd_iot_detach_thing_principal },
	{ "iot", "ListThingPrincipals", dd_iot_list_thing_principals },
	{ "iot", "ListPrincipalThings", dd_iot_list_principal_things },
	{ "iot", "GetEffectivePolicies", dd_iot_get_effective_policies },
	{ "iot", "TestAuthorization", dd_iot_test_authorization },
	{ "iot", "CreateRoleAlias", dd_iot_create_role_alias },
	{ "iot", "DescribeRoleAlias", dd_iot_describe_role_alias },
	{ "iot", "ListRoleAliases", dd_iot_list_role_aliases },
	{ "iot", "UpdateRoleAlias", dd_iot_update_role_alias },
	{ "iot", "DeleteRoleAlias", dd_iot_delete_role_alias },
	{ "iot", "GetLoggingOptions", dd_iot_get_logging_options },
	{ "iot", "SetLoggingOptions", dd_iot_set_logging_options },
	{ "iot", "GetV2LoggingOptions", dd_iot_get_v2_logging_options },
	{ "iot", "SetV2LoggingOptions", dd_iot_set_v2_logging_options },
	{ "iot", "SetV2LoggingLevel", dd_iot_set_v2_logging_level },
	{ "iot", "ListV2LoggingLevels", dd_iot_list_v2_logging_levels },
	{ "iot", "DeleteV2LoggingLevel", dd_iot_delete_v2_logging_level },
	{ "iot", "TagResource", dd_iot_tag_resource },
	{ "iot", "UntagResource", dd_iot_untag_resource },
	{ "iot", "ListTagsForResource", dd_iot_list_tags_for_resource },
	{ "iot", "DescribeEndpoint", dd_iot_describe_endpoint },
	{ "iot", "CreateTopicRule", dd_iot_create_topic_rule }, /* stored only */
	{ "iot", "GetTopicRule", dd_iot_get_topic_rule }, /* stored only */
	{ "iot", "ListTopicRules", dd_iot_list_topic_rules }, /* stored only */
	{ "iot", "ReplaceTopicRule", dd_iot_replace_topic_rule }, /* stored only */
	{ "iot", "EnableTopicRule", dd_iot_enable_topic_rule }, /* stored only */
	{ "iot", "DisableTopicRule", dd_iot_disable_topic_rule }, /* stored only */
	{ "iot", "DeleteTopicRule", dd_iot_delete_topic_rule }, /* stored only */
	{ "iot", "CreateDomainConfiguration", dd_iot_create_domain_configuration }, /* stored only */
	{ "iot", "DescribeDomainConfiguration", dd_iot_describe_domain_configuration }, /* stored only */
	{ "iot", "ListDomainConfigurations", dd_iot_list_domain_configurations }, /* stored only */
	{ "iot", "UpdateDomainConfiguration", dd_iot_update_domain_configuration }, /* stored only */
	{ "iot", "DeleteDomainConfiguration", dd_iot_delete_domain_configuration }, /* stored only */
	{ NULL, NULL, NULL },
};

const struct dd_raw_route dd_registry_raw_routes[] = {
	{ "POST", "/connection-events", dd_iot_ingest_connection_events },
	{ NULL, NULL, NULL },
};

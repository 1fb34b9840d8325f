/* SPDX-License-Identifier: Apache-2.0 */
/* The IoT registry's API handlers (see dd_ctx.h for the handler contract). */
#ifndef DD_REGISTRY_HANDLERS_H
#define DD_REGISTRY_HANDLERS_H

#include "dd/ctx.h"

#define DD_HANDLER(fn) int fn(struct dd_ctx *c, json_t *in, json_t **out)

DD_HANDLER(dd_iot_create_policy);
DD_HANDLER(dd_iot_get_policy);
DD_HANDLER(dd_iot_list_policies);
DD_HANDLER(dd_iot_delete_policy);
DD_HANDLER(dd_iot_create_policy_version);
DD_HANDLER(dd_iot_get_policy_version);
DD_HANDLER(dd_iot_list_policy_versions);
DD_HANDLER(dd_iot_set_default_policy_version);
DD_HANDLER(dd_iot_delete_policy_version);
DD_HANDLER(dd_iot_attach_policy);
DD_HANDLER(dd_iot_detach_policy);
DD_HANDLER(dd_iot_list_targets_for_policy);
DD_HANDLER(dd_iot_list_attached_policies);
DD_HANDLER(dd_iot_attach_thing_principal);
DD_HANDLER(dd_iot_detach_thing_principal);
DD_HANDLER(dd_iot_list_thing_principals);
DD_HANDLER(dd_iot_list_principal_things);
DD_HANDLER(dd_iot_get_effective_policies);
DD_HANDLER(dd_iot_test_authorization);
DD_HANDLER(dd_iot_create_role_alias);
DD_HANDLER(dd_iot_describe_role_alias);
DD_HANDLER(dd_iot_list_role_aliases);
DD_HANDLER(dd_iot_update_role_alias);
DD_HANDLER(dd_iot_delete_role_alias);
DD_HANDLER(dd_iot_get_logging_options);
DD_HANDLER(dd_iot_set_logging_options);
DD_HANDLER(dd_iot_get_v2_logging_options);
DD_HANDLER(dd_iot_set_v2_logging_options);
DD_HANDLER(dd_iot_set_v2_logging_level);
DD_HANDLER(dd_iot_list_v2_logging_levels);
DD_HANDLER(dd_iot_delete_v2_logging_level);
DD_HANDLER(dd_iot_tag_resource);
DD_HANDLER(dd_iot_untag_resource);
DD_HANDLER(dd_iot_list_tags_for_resource);
DD_HANDLER(dd_iot_describe_endpoint);
/* dd_registry_rules.c (stored only) */
DD_HANDLER(dd_iot_create_topic_rule);
DD_HANDLER(dd_iot_get_topic_rule);
DD_HANDLER(dd_iot_list_topic_rules);
DD_HANDLER(dd_iot_replace_topic_rule);
DD_HANDLER(dd_iot_enable_topic_rule);
DD_HANDLER(dd_iot_disable_topic_rule);
DD_HANDLER(dd_iot_delete_topic_rule);
/* dd_registry_domains.c (stored only) */
DD_HANDLER(dd_iot_create_domain_configuration);
DD_HANDLER(dd_iot_describe_domain_configuration);
DD_HANDLER(dd_iot_list_domain_configurations);
DD_HANDLER(dd_iot_update_domain_configuration);
DD_HANDLER(dd_iot_delete_domain_configuration);
int dd_iot_ingest_connection_events(struct dd_ctx *c, const char *body, size_t len, json_t **out);

#endif

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

#endif

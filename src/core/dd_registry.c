/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The IoT registry's handler table: operation name → handler, for the dispatcher. The
 * handlers live in dd_registry_certs.c, dd_registry_policies.c,
 * dd_registry_rules.c and dd_registry_domains.c (things, thing groups, thing types,
 * billing groups and the principal listings have their own tables in src/api/).
 * handlers live in dd_registry_things.c, dd_registry_certs.c,
 * dd_registry_types.c, dd_registry_principals.c.
 */
#include "dd/ctx.h"
#include "core/dd_registry_handlers.h"

const struct dd_handler dd_registry_handlers[] = {
	{ NULL, NULL, NULL },
};

const struct dd_raw_route dd_registry_raw_routes[] = {
	{ NULL, NULL, NULL },
};

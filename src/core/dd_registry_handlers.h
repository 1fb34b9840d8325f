/* SPDX-License-Identifier: Apache-2.0 */
/* The IoT registry's API handlers (see dd_ctx.h for the handler contract). */
#ifndef DD_REGISTRY_HANDLERS_H
#define DD_REGISTRY_HANDLERS_H

#include "dd/ctx.h"

#define DD_HANDLER(fn) int fn(struct dd_ctx *c, json_t *in, json_t **out)

/* src/api/dd_iot_policies.c: AttachPolicy and DetachPolicy, which AttachPrincipalPolicy and
 * DetachPrincipalPolicy (dd_registry_principals.c) call. */
DD_HANDLER(dd_iot_attach_policy);
DD_HANDLER(dd_iot_detach_policy);
/* src/api/dd_iot_ingest.c: the connection-events route, also called by the broker
 * plugin's writer and the demo. */
int dd_iot_ingest_connection_events(struct dd_ctx *c, const char *body, size_t len, json_t **out);

#endif

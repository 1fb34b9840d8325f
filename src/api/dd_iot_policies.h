/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The IoT policy handlers other API files call: AttachPolicy and DetachPolicy, which the
 * deprecated AttachPrincipalPolicy and DetachPrincipalPolicy (dd_iot_principals.c) answer
 * with. The handler contract is dd/ctx.h's.
 */
#ifndef DD_IOT_POLICIES_H
#define DD_IOT_POLICIES_H

#include "dd/ctx.h"

int dd_iot_policies_attach(struct dd_ctx *c, json_t *in, json_t **out);
int dd_iot_policies_detach(struct dd_ctx *c, json_t *in, json_t **out);

#endif

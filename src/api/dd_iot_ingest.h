/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The connection-events extension route (POST /connection-events, NDJSON), also called
 * in process by the broker plugin's writer and the demo.
 */
#ifndef DD_IOT_INGEST_H
#define DD_IOT_INGEST_H

#include "dd/ctx.h"

int dd_iot_ingest_connection_events(struct dd_ctx *c, const char *body, size_t len, json_t **out);

#endif

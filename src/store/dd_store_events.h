/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Connection events in the store: the connect and disconnect records of MQTT clients
 * (ingested in batches from the broker or the connection-events route), appended in
 * arrival order per account and region. Functions return 0 or a negative DD_E* (DD_EIO
 * for a store error) and run in the caller's transaction when one is open.
 */
#ifndef DD_STORE_EVENTS_H
#define DD_STORE_EVENTS_H

#include <stdint.h>

#include "dd/common.h"

struct dd_db;

/* One event; the optional members are NULL when unknown. */
struct dd_store_events_event {
	const char *event;          /* "connect" or "disconnect" */
	const char *client_id;
	const char *certificate_id; /* 64 hex, or NULL */
	const char *principal;      /* or NULL */
	int64_t ts_ms;
	const char *source_ip;      /* or NULL */
	const char *reason;         /* a disconnect reason, or NULL */
};

/* Appends one event. */
int dd_store_events_insert(struct dd_db *db, const char *account_region,
			   const struct dd_store_events_event *e) DD_MUST_CHECK;

#endif

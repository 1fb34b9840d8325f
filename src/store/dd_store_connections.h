/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the broker side reads and records about MQTT connections: the certificate and CA
 * status a connection is admitted on, the certificates attached to a thing, an account's
 * logging settings, whether a client id is connected (its last recorded connection
 * event) and its connection history (the demo's tally), and the broker's connection counters per region (kept by the plugin, read by
 * GET /metrics). The connection events themselves go through the event ingestion.
 * Returns 0 or a negative DD_E* (DD_ENOTFOUND, DD_EIO for a store error).
 */
#ifndef DD_STORE_CONNECTIONS_H
#define DD_STORE_CONNECTIONS_H

#include <stddef.h>
#include <stdint.h>

#include "dd/common.h"
#include "dd/region.h"

struct dd_db;

/* The registration a client certificate is admitted on. */
struct dd_store_connections_cert {
	char account_region[DD_ACCOUNT_REGION_SIZE];
	char status[32];
	char ca_id[65];    /* "" when registered without a CA */
	char issuer[1024]; /* "" when unknown */
	char serial[128];
};

/* The registration of certificate cert_id in region (of account only_account, unless it
 * is ""), an ACTIVE one first when several accounts registered it. DD_ENOTFOUND when none. */
int dd_store_connections_cert_find(struct dd_db *db, const char *cert_id, const char *only_account,
				   const char *region, struct dd_store_connections_cert *out) DD_MUST_CHECK;
/* The status of CA ca_id of account_region into status. DD_ENOTFOUND when none. */
int dd_store_connections_ca_status(struct dd_db *db, const char *account_region, const char *ca_id, char *status,
				   size_t len) DD_MUST_CHECK;

/* Called for each principal ARN (valid during the call); non-zero stops and is returned. */
typedef int (*dd_store_connections_text_fn)(const char *text, void *ud);
/* The principals attached to thing of account_region. */
int dd_store_connections_thing_principals(struct dd_db *db, const char *account_region, const char *thing,
					  dd_store_connections_text_fn fn, void *ud) DD_MUST_CHECK;
/* The stored logging settings of account_region as JSON text: v1 (SetLoggingOptions) and
 * v2 (SetV2LoggingOptions), each "" when never set. */
int dd_store_connections_logging(struct dd_db *db, const char *account_region, char *v1, size_t v1len, char *v2,
				 size_t v2len) DD_MUST_CHECK;
/* The event ("connect" or "disconnect") last recorded for client_id in account_region.
 * DD_ENOTFOUND when it never connected. */
int dd_store_connections_last_event(struct dd_db *db, const char *account_region, const char *client_id, char *event,
				    size_t len) DD_MUST_CHECK;
/* Counts the recorded events of client_id in account_region; reason (size rlen, may be
 * NULL) receives the last disconnect's reason ("" when none). */
int dd_store_connections_tally(struct dd_db *db, const char *account_region, const char *client_id, int *connects,
			       int *disconnects, char *reason, size_t rlen) DD_MUST_CHECK;

/* The broker's connection counters of one region. */
struct dd_store_connections_stats {
	char region[64];
	int64_t connected;   /* clients connected at updated_ms */
	int64_t connects;    /* admitted connections, since the store was created */
	int64_t disconnects; /* ended connections */
	int64_t refusals;    /* refused connection attempts */
	int64_t updated_ms;
};
/* Adds the counts of d to region's counters and sets its connected gauge to d->connected
 * and its time to d->updated_ms (d->region is ignored). Call it inside a write
 * transaction (it reads, then writes). */
int dd_store_connections_stats_add(struct dd_db *db, const char *region, const struct dd_store_connections_stats *d) DD_MUST_CHECK;
typedef int (*dd_store_connections_stats_fn)(const struct dd_store_connections_stats *s, void *ud);
/* Every region's counters, by region. */
int dd_store_connections_stats_list(struct dd_db *db, dd_store_connections_stats_fn fn, void *ud) DD_MUST_CHECK;

#endif

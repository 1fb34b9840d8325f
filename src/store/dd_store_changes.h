/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The change journal's storage: a table of changes with a monotonically increasing
 * sequence that the broker plugin polls (cheap, indexed by sequence), explicit notes
 * (iot-data DeleteConnection), pruning, and the reads behind the broker's CA bundle and
 * its recorded endpoint. Every function runs in the caller's transaction if one is open.
 * Returns 0 or a negative DD_E* (DD_EIO for a store error).
 */
#ifndef DD_STORE_CHANGES_H
#define DD_STORE_CHANGES_H

#include <stddef.h>
#include <stdint.h>

#include "dd/common.h"
#include "dd/region.h"

struct dd_db;

/* One journal entry. */
struct dd_change {
	int64_t seq;
	/* "<account>/<region>" of the changed row (the journal holds every region's changes;
	 * a broker applies those of its own region) */
	char account_region[DD_ACCOUNT_REGION_SIZE];
	/* cert (subject: certificate id), ca and crl (CA id), policy (target ARN or policy
	 * name), thing (principal ARN or thing name), group (thing name), grouptree (group
	 * name), logging (settings key or log target), connection (client id) */
	char kind[16];
	char subject[2048];
	char arg[256]; /* connection: {"cleanSession":…, "preventWillMessage":…} */
};

/* Appends one change of account_region. */
int dd_store_changes_note(struct dd_db *db, const char *account_region, const char *kind, const char *subject,
			  const char *arg, int64_t now_ms) DD_MUST_CHECK;
/* The last sequence number written (0 when none). */
int dd_store_changes_last(struct dd_db *db, int64_t *seq) DD_MUST_CHECK;
/* Up to max changes with seq > after, in order, into out; *n receives the count. */
int dd_store_changes_read(struct dd_db *db, int64_t after, struct dd_change *out, size_t max, size_t *n) DD_MUST_CHECK;
/* Deletes changes older than before_ms, always keeping the newest one (so the sequence
 * never goes back). */
int dd_store_changes_prune(struct dd_db *db, int64_t before_ms) DD_MUST_CHECK;
/* *last receives the highest sequence above after that changed the broker's trust
 * anchors (a CA, or a self-signed certificate registered without a CA), 0 when none. */
int dd_store_changes_trust_last(struct dd_db *db, int64_t after, int64_t *last) DD_MUST_CHECK;

/* Called for each PEM text (valid during the call); a non-zero return stops the listing
 * and is returned. */
typedef int (*dd_store_changes_pem_fn)(const char *pem, void *ud);
/* The PEM of every ACTIVE registered CA of every account and region, in a stable order. */
int dd_store_changes_active_cas(struct dd_db *db, dd_store_changes_pem_fn fn, void *ud) DD_MUST_CHECK;
/* The PEM of every ACTIVE self-signed device certificate registered without a CA. */
int dd_store_changes_self_signed(struct dd_db *db, dd_store_changes_pem_fn fn, void *ud) DD_MUST_CHECK;

/* The MQTT endpoint ("127.0.0.1:8883") recorded for the broker serving region. get:
 * DD_ENOTFOUND when none was recorded. */
int dd_store_changes_endpoint_set(struct dd_db *db, const char *region, const char *host_port) DD_MUST_CHECK;
int dd_store_changes_endpoint_get(struct dd_db *db, const char *region, char *out, size_t outlen) DD_MUST_CHECK;

#endif

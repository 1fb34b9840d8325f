/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The change journal: a table `changes` with a monotonically increasing sequence that the
 * broker plugin polls to feel, within a second, what `serve` (or an admin command, or a
 * mitigation) changed. Certificate, CA and CRL changes, policy attachments and default
 * versions, thing principals, thing attributes, group membership and logging settings are
 * written by triggers (migration "change journal") inside the transaction that makes the
 * change; iot-data DeleteConnection is noted here explicitly. Also writes the broker's CA
 * bundle (the server CA and every ACTIVE registered CA) for the TLS listener.
 */
#ifndef DD_CHANGES_H
#define DD_CHANGES_H

#include <stdint.h>

#include "dd/common.h"
#include "dd/store.h"

struct dd_change {
	int64_t seq;
	char account[16];
	char kind[16];     /* cert, ca, crl, policy, thing, group, logging, connection */
	char subject[2048]; /* certificate id, CA id, target ARN, thing, client id, … */
	char arg[256];     /* connection: {"cleanSession":…, "preventWillMessage":…} */
};

/* Appends one change inside the caller's write transaction. */
int dd_changes_note(struct dd_db *db, const char *account, const char *kind, const char *subject,
		    const char *arg, int64_t now_ms) DD_MUST_CHECK;
/* The last sequence number written (0 when none). */
int dd_changes_last(struct dd_db *db, int64_t *seq) DD_MUST_CHECK;
/* Up to max changes with seq > after, in order, into out; *n receives the count. */
int dd_changes_read(struct dd_db *db, int64_t after, struct dd_change *out, size_t max, size_t *n) DD_MUST_CHECK;
/* Deletes changes older than before_ms (the broker only needs the last seconds). */
int dd_changes_prune(struct dd_db *db, int64_t before_ms) DD_MUST_CHECK;

/* Writes path (atomically: temporary file + rename, mode 0644) with server_ca_pem followed
 * by the PEM of every ACTIVE registered CA of every account. */
int dd_changes_write_ca_bundle(struct dd_db *db, const char *server_ca_pem, const char *path) DD_MUST_CHECK;

/* The iot-data operations applied by the broker (DeleteConnection): dd_broker_handlers,
 * declared with the other handler tables in server/dd_api.h. */

#endif

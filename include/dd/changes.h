/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The change journal: a table `changes` with a monotonically increasing sequence that the
 * broker plugin polls to feel, within a second, what `serve` (or an admin command, or a
 * mitigation) changed. Certificate, CA and CRL changes, policy attachments and default
 * versions, thing principals, thing attributes, group membership and logging settings are
 * written by triggers (migration "change journal") inside the transaction that makes the
 * change; iot-data DeleteConnection is noted here explicitly. Also writes the broker's CA
 * bundle (the server CA and every ACTIVE registered CA) for the TLS listener. Implemented
 * by src/core/broker/ (dd_changes.c: the journal and the bundle; dd_broker.c: the
 * endpoint and serve's keeper) over store/dd_store_changes.h.
 */
#ifndef DD_CHANGES_H
#define DD_CHANGES_H

#include <stddef.h>
#include <stdint.h>

#include "dd/common.h"
#include "dd/region.h"
#include "store/dd_store_changes.h" /* struct dd_change */

struct dd_db;

/* Appends one change of account_region inside the caller's write transaction. */
int dd_changes_note(struct dd_db *db, const char *account_region, const char *kind, const char *subject,
		    const char *arg, int64_t now_ms) DD_MUST_CHECK;
/* The last sequence number written (0 when none). */
int dd_changes_last(struct dd_db *db, int64_t *seq) DD_MUST_CHECK;
/* Up to max changes with seq > after, in order, into out; *n receives the count. */
int dd_changes_read(struct dd_db *db, int64_t after, struct dd_change *out, size_t max, size_t *n) DD_MUST_CHECK;
/* Deletes changes older than before_ms (the broker only needs the last seconds). */
int dd_changes_prune(struct dd_db *db, int64_t before_ms) DD_MUST_CHECK;

/* Writes path (atomically: temporary file + rename, mode 0644) with server_ca_pem followed
 * by the PEM of every ACTIVE registered CA of every account and region, and the same certificates,
 * plus the ACTIVE self-signed device certificates registered without a CA, as an OpenSSL
 * hash directory `cas/` next to it (the broker's capath: OpenSSL looks certificates up
 * there at each verification, so they are trusted without restarting the broker). */
int dd_changes_write_ca_bundle(struct dd_db *db, const char *server_ca_pem, const char *path) DD_MUST_CHECK;

/* The MQTT endpoint ("127.0.0.1:8883") of the broker serving region, recorded by
 * `broker-config --region` in server_meta; DescribeEndpoint in that region answers it for
 * iot:Data and iot:Data-ATS. get: 0 and the value, DD_ENOTFOUND when no broker was
 * configured for region, or DD_EIO. */
int dd_broker_endpoint_set(struct dd_db *db, const char *region, const char *host_port) DD_MUST_CHECK;
int dd_broker_endpoint_get(struct dd_db *db, const char *region, char *out, size_t outlen) DD_MUST_CHECK;

/* Appends the broker connection metrics (Prometheus text) of every region whose plugin
 * recorded counters: connected clients, connects, disconnects and refusals, and the age of
 * the record at now_ms. Nothing when no broker plugin ever ran on this store. 0, DD_EIO
 * or DD_ENOMEM. */
struct dd_buf;
int dd_broker_metrics(struct dd_db *db, int64_t now_ms, struct dd_buf *b) DD_MUST_CHECK;

/* serve's keeper thread: once DIR/broker/ exists (broker-config made it), rewrites the CA
 * bundle within a second of a CA change or of a self-signed certificate registered without
 * a CA, and prunes journal entries older than an hour. */
struct dd_service;
int dd_broker_keeper_start(struct dd_service *svc) DD_MUST_CHECK;
void dd_broker_keeper_stop(void);

/* The iot-data operations applied by the broker (DeleteConnection): dd_iot_broker_handlers
 * (src/api/dd_iot_broker.c), declared with the other handler tables in server/dd_api.h. */

#endif

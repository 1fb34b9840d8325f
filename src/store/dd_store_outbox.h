/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The delivery side of the durable SNS outbox (table sns_outbox; the rows themselves are
 * written by the SNS publisher through its own store file): claim the next due row under
 * a per-account cap on rows in flight, record the outcome (delivered, retry later,
 * failed for good), put rows left in flight by a stopped process back in the queue,
 * count the queue, and purge old settled rows. A row moves PENDING -> INFLIGHT (claim,
 * attempts + 1) -> DELIVERED | PENDING (retry at next_at) | FAILED; CANCELLED and
 * UNDELIVERABLE rows are set elsewhere. Each function runs its own short write
 * transaction unless it says otherwise. Times are epoch milliseconds.
 */
#ifndef DD_STORE_OUTBOX_H
#define DD_STORE_OUTBOX_H

#include "dd/common.h"

struct dd_db;

/* A claimed row; every string is owned by the row (dd_store_outbox_row_clear frees them). */
struct dd_store_outbox_row {
	int64_t id;
	int attempts;             /* including the one just claimed */
	char *account, *topic_arn, *subscription_arn, *message_id, *type, *protocol, *endpoint;
	char *subject;            /* NULL when the message has none */
	char *body;
};

void dd_store_outbox_row_clear(struct dd_store_outbox_row *row);

/* Claims the row due first (by next_at, then id) among the accounts that have fewer than
 * per_account rows INFLIGHT under a live lease: a PENDING row due at now_ms, or an INFLIGHT
 * row whose lease expired (its instance died). It becomes INFLIGHT with attempts + 1,
 * leased to owner for lease_ms. Lease times are now_ms on SQLite, the database server's
 * clock on PostgreSQL (as dd_store_lease.h); next_at is always compared with now_ms. On
 * PostgreSQL concurrent claims (dd_db_begin_claim) skip each other's rows without waiting.
 * Returns 1 with *row filled, 0 when no row is due, DD_ENOMEM or DD_EIO. */
int dd_store_outbox_claim(struct dd_db *db, int64_t now_ms, int per_account, const char *owner, int64_t lease_ms,
			  struct dd_store_outbox_row *row) DD_MUST_CHECK;
/* An INFLIGHT row leased to owner was delivered. DD_ENOTFOUND when the row is not INFLIGHT
 * (any more) or was taken over by another instance. */
int dd_store_outbox_complete(struct dd_db *db, int64_t id, const char *owner, int64_t now_ms) DD_MUST_CHECK;
/* An INFLIGHT row's delivery failed; it is due again at next_at_ms. */
int dd_store_outbox_retry(struct dd_db *db, int64_t id, const char *owner, int64_t next_at_ms, int64_t now_ms,
			  const char *error) DD_MUST_CHECK;
/* An INFLIGHT row's delivery failed for the last time: FAILED (kept, counted). */
int dd_store_outbox_fail(struct dd_db *db, int64_t id, const char *owner, int64_t now_ms, const char *error) DD_MUST_CHECK;
/* Every INFLIGHT row whose lease expired (before now_ms; on PostgreSQL by the database
 * server's clock) (a delivery cut short by a stop or
 * a crash; never one another live instance is delivering) becomes PENDING and due at
 * now_ms; *requeued (may be NULL) counts them. */
int dd_store_outbox_requeue_inflight(struct dd_db *db, int64_t now_ms, int64_t *requeued) DD_MUST_CHECK;

/* Every INFLIGHT row leased to owner (a stopping instance) becomes PENDING and due at
 * now_ms; *released (may be NULL) counts them. */
int dd_store_outbox_release_owner(struct dd_db *db, const char *owner, int64_t now_ms, int64_t *released) DD_MUST_CHECK;

struct dd_store_outbox_counts {
	int64_t pending, inflight, delivered, failed, undeliverable;
};
/* The whole queue's rows by status (every account). */
int dd_store_outbox_counts(struct dd_db *db, struct dd_store_outbox_counts *out) DD_MUST_CHECK;
/* Deletes DELIVERED and CANCELLED rows last updated before before_ms; *deleted may be NULL. */
int dd_store_outbox_purge(struct dd_db *db, int64_t before_ms, int64_t *deleted) DD_MUST_CHECK;

#endif

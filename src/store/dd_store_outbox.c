/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dd_store_outbox.h over the sns_outbox table. On SQLite the claim is one UPDATE ...
 * RETURNING whose subquery picks the due row and applies the per-account cap, so two
 * workers can never claim the same row (the write lock orders them) and the cap is read in
 * the same transaction that takes the row; on PostgreSQL claimers run side by side, each
 * locking the row it picks (FOR UPDATE SKIP LOCKED, claim_row_locks), and the lease times
 * are the database server's clock. A claim leases the row to its instance
 * (lease_owner, lease_until); an INFLIGHT row whose lease expired (its instance was
 * killed) is claimable again by any instance. Outcomes only change a row that is still
 * INFLIGHT under the caller's lease, so a row cancelled or taken over meanwhile keeps
 * its state.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/dd_store_int.h"
#include "dd/store.h"
#include "store/dd_store_outbox.h"

void dd_store_outbox_row_clear(struct dd_store_outbox_row *r)
{
	free(r->account);
	free(r->topic_arn);
	free(r->subscription_arn);
	free(r->message_id);
	free(r->type);
	free(r->protocol);
	free(r->endpoint);
	free(r->subject);
	free(r->body);
	memset(r, 0, sizeof *r);
}

static char *col_dup(struct dd_stmt *st, int i)
{
	return dd_col_is_null(st, i) ? NULL : strdup(dd_col_text(st, i));
}

/* The due rows: PENDING and due at ?1 (the caller's clock: next_at is written with it),
 * or INFLIGHT under a lease expired at NOW (the lease clock: ?1 on SQLite, the server's
 * on PostgreSQL, DD_DB_PG_NOW_MS). */
#define DUE(T, NOW) "((" T "status = 'PENDING' AND " T "next_at <= ?1) OR (" T "status = 'INFLIGHT'" \
	" AND coalesce(" T "lease_until, 0) < " NOW "))"
/* o's account has fewer than ?2 rows INFLIGHT under a live lease. */
#define UNDER_CAP(NOW) "(SELECT count(*) FROM sns_outbox f WHERE f.status = 'INFLIGHT' AND f.account = o.account" \
	" AND coalesce(f.lease_until, 0) >= " NOW ") < ?2"
#define CLAIM_SET(NOW) "UPDATE sns_outbox SET status = 'INFLIGHT', attempts = attempts + 1, updated = ?1," \
	" lease_owner = ?3, lease_until = " NOW " + ?4"
#define CLAIM_RETURNING \
	" RETURNING id, attempts, account, topic_arn, subscription_arn, message_id, type, protocol, endpoint, subject, body"
#define PG_NOW DD_DB_PG_NOW_MS

/* Reads the claimed row RETURNING gave into *j: 1, 0 (none), DD_ENOMEM or DD_EIO. */
static int claimed_row(struct dd_stmt *st, struct dd_store_outbox_row *j)
{
	int rc = dd_stmt_step(st);
	if (rc != DD_STMT_ROW) {
		dd_stmt_reset(st);
		return rc == DD_STMT_DONE ? 0 : DD_EIO;
	}
	j->id = dd_col_int64(st, 0);
	j->attempts = dd_col_int(st, 1);
	j->account = col_dup(st, 2);
	j->topic_arn = col_dup(st, 3);
	j->subscription_arn = col_dup(st, 4);
	j->message_id = col_dup(st, 5);
	j->type = col_dup(st, 6);
	j->protocol = col_dup(st, 7);
	j->endpoint = col_dup(st, 8);
	j->subject = col_dup(st, 9);
	j->body = col_dup(st, 10);
	while (dd_stmt_step(st) == DD_STMT_ROW)
		;
	dd_stmt_reset(st);
	if (!j->account || !j->topic_arn || !j->subscription_arn || !j->message_id || !j->type || !j->protocol ||
	    !j->endpoint || !j->body) {
		dd_store_outbox_row_clear(j);
		return DD_ENOMEM;
	}
	return 1;
}

/* SQLite (one writer, the claim is a write transaction): one UPDATE ... RETURNING whose
 * subquery picks the due row and applies the cap. */
static int claim_one_writer(struct dd_db *db, int64_t now, int per_account, const char *owner, int64_t lease_ms,
			    struct dd_store_outbox_row *j)
{
	struct dd_stmt *st = dd_db_stmt(db, CLAIM_SET("?1") " WHERE id = (SELECT o.id FROM sns_outbox o WHERE "
					    DUE("o.", "?1") " AND " UNDER_CAP("?1") " ORDER BY o.next_at, o.id LIMIT 1)"
					    " AND " DUE("", "?1") CLAIM_RETURNING);
	if (!st)
		return DD_EIO;
	dd_bind_int64(st, 1, now);
	dd_bind_int64(st, 2, per_account);
	dd_bind_text(st, 3, owner);
	dd_bind_int64(st, 4, lease_ms);
	return claimed_row(st, j);
}

/* PostgreSQL (a claim transaction, dd_db_begin_claim: claimers run side by side): the due
 * row is read and locked FOR UPDATE SKIP LOCKED, so a concurrent claimer takes the next
 * one without waiting; the claims of one account then take that account's advisory lock
 * (class 25701, its hash) and the UPDATE re-checks the cap on a snapshot taken after it,
 * which sees the claims committed before, so the cap holds between servers. When the cap
 * was reached meanwhile, the next due row is tried (a few times). */
static int claim_row_locks(struct dd_db *db, int64_t now, int per_account, const char *owner, int64_t lease_ms,
			   struct dd_store_outbox_row *j)
{
	for (int tries = 0; tries < 4; tries++) {
		struct dd_stmt *st = dd_db_stmt(db, "SELECT o.id, o.account FROM sns_outbox o WHERE " DUE("o.", PG_NOW)
						    " AND " UNDER_CAP(PG_NOW) " ORDER BY o.next_at, o.id LIMIT 1"
						    " FOR UPDATE OF o SKIP LOCKED");
		if (!st)
			return DD_EIO;
		dd_bind_int64(st, 1, now);
		dd_bind_int64(st, 2, per_account);
		int rc = dd_stmt_step(st);
		if (rc != DD_STMT_ROW) {
			dd_stmt_reset(st);
			return rc == DD_STMT_DONE ? 0 : DD_EIO;
		}
		int64_t id = dd_col_int64(st, 0);
		char account[64];
		snprintf(account, sizeof account, "%s", dd_col_text(st, 1));
		dd_stmt_reset(st);
		st = dd_db_stmt(db, "SELECT pg_advisory_xact_lock(25701, hashtext(?1))");
		if (!st)
			return DD_EIO;
		dd_bind_text(st, 1, account);
		rc = dd_stmt_step(st);
		dd_stmt_reset(st);
		if (rc != DD_STMT_ROW)
			return DD_EIO;
		st = dd_db_stmt(db, CLAIM_SET(PG_NOW) " WHERE id = ?5 AND " DUE("", PG_NOW) " AND (SELECT count(*)"
				    " FROM sns_outbox f WHERE f.status = 'INFLIGHT' AND f.account = ?6"
				    " AND coalesce(f.lease_until, 0) >= " PG_NOW ") < ?2" CLAIM_RETURNING);
		if (!st)
			return DD_EIO;
		dd_bind_int64(st, 1, now);
		dd_bind_int64(st, 2, per_account);
		dd_bind_text(st, 3, owner);
		dd_bind_int64(st, 4, lease_ms);
		dd_bind_int64(st, 5, id);
		dd_bind_text(st, 6, account);
		if ((rc = claimed_row(st, j)) != 0)
			return rc;
	}
	return 0;
}

int dd_store_outbox_claim(struct dd_db *db, int64_t now_ms, int per_account, const char *owner, int64_t lease_ms,
			  struct dd_store_outbox_row *row)
{
	memset(row, 0, sizeof *row);
	if (dd_db_begin_claim(db))
		return DD_EIO;
	int rc = dd_db_row_locks(db) ? claim_row_locks(db, now_ms, per_account, owner, lease_ms, row)
				     : claim_one_writer(db, now_ms, per_account, owner, lease_ms, row);
	if (rc < 0) {
		dd_db_rollback(db);
		return rc;
	}
	if (dd_db_commit(db)) {
		dd_store_outbox_row_clear(row);
		return DD_EIO;
	}
	return rc;
}

static int settle(struct dd_db *db, int64_t id, const char *owner, const char *status, int64_t next_at, int64_t now,
		  const char *error)
{
	if (dd_db_begin_write(db))
		return DD_EIO;
	struct dd_stmt *st = dd_db_stmt(db, "UPDATE sns_outbox SET status = ?2, next_at = ?3, updated = ?4, last_error = ?5,"
					  " lease_owner = NULL, lease_until = NULL"
					  " WHERE id = ?1 AND status = 'INFLIGHT' AND lease_owner = ?6");
	if (!st) {
		dd_db_rollback(db);
		return DD_EIO;
	}
	dd_bind_int64(st, 1, id);
	dd_bind_text(st, 2, status);
	dd_bind_int64(st, 3, next_at);
	dd_bind_int64(st, 4, now);
	dd_bind_text(st, 5, error);
	dd_bind_text(st, 6, owner);
	if (dd_step_done(st)) {
		dd_db_rollback(db);
		return DD_EIO;
	}
	int changed = dd_db_changes(db);
	if (dd_db_commit(db))
		return DD_EIO;
	return changed ? 0 : DD_ENOTFOUND;
}

int dd_store_outbox_complete(struct dd_db *db, int64_t id, const char *owner, int64_t now_ms)
{
	return settle(db, id, owner, "DELIVERED", now_ms, now_ms, NULL);
}

int dd_store_outbox_retry(struct dd_db *db, int64_t id, const char *owner, int64_t next_at_ms, int64_t now_ms,
			  const char *error)
{
	return settle(db, id, owner, "PENDING", next_at_ms, now_ms, error);
}

int dd_store_outbox_fail(struct dd_db *db, int64_t id, const char *owner, int64_t now_ms, const char *error)
{
	return settle(db, id, owner, "FAILED", now_ms, now_ms, error);
}

/* Runs one requeueing UPDATE (?1 the time, ?2 the owner when given) in a write
 * transaction of its own; *changed the rows it requeued. */
static int requeue(struct dd_db *db, const char *sql, int64_t now_ms, const char *owner, int64_t *changed)
{
	if (changed)
		*changed = 0;
	if (dd_db_begin_write(db))
		return DD_EIO;
	struct dd_stmt *st = dd_db_stmt(db, sql);
	if (!st) {
		dd_db_rollback(db);
		return DD_EIO;
	}
	dd_bind_int64(st, 1, now_ms);
	if (owner)
		dd_bind_text(st, 2, owner);
	if (dd_step_done(st)) {
		dd_db_rollback(db);
		return DD_EIO;
	}
	int64_t n = dd_db_changes(db);
	if (dd_db_commit(db))
		return DD_EIO;
	if (changed)
		*changed = n;
	return 0;
}

#define REQUEUE(NOW) "UPDATE sns_outbox SET status = 'PENDING', next_at = ?1, lease_owner = NULL," \
	" lease_until = NULL WHERE status = 'INFLIGHT' AND coalesce(lease_until, 0) < " NOW

int dd_store_outbox_requeue_inflight(struct dd_db *db, int64_t now_ms, int64_t *requeued)
{
	return requeue(db, dd_db_is_pg(db) ? REQUEUE(PG_NOW) : REQUEUE("?1"), now_ms, NULL, requeued);
}

int dd_store_outbox_release_owner(struct dd_db *db, const char *owner, int64_t now_ms, int64_t *released)
{
	return requeue(db,
		       "UPDATE sns_outbox SET status = 'PENDING', next_at = ?1, lease_owner = NULL,"
		       " lease_until = NULL WHERE status = 'INFLIGHT' AND lease_owner = ?2",
		       now_ms, owner, released);
}

int dd_store_outbox_counts(struct dd_db *db, struct dd_store_outbox_counts *out)
{
	memset(out, 0, sizeof *out);
	struct dd_stmt *st = dd_db_stmt(db, "SELECT coalesce(sum(CASE WHEN status = 'PENDING' THEN 1 ELSE 0 END), 0), coalesce(sum(CASE WHEN status = 'INFLIGHT' THEN 1 ELSE 0 END), 0),"
					  " coalesce(sum(CASE WHEN status = 'FAILED' THEN 1 ELSE 0 END), 0), coalesce(sum(CASE WHEN status = 'UNDELIVERABLE' THEN 1 ELSE 0 END), 0),"
					  " coalesce(sum(CASE WHEN status = 'DELIVERED' THEN 1 ELSE 0 END), 0) FROM sns_outbox");
	if (!st)
		return DD_EIO;
	int rc = dd_stmt_step(st);
	if (rc == DD_STMT_ROW) {
		out->pending = dd_col_int64(st, 0);
		out->inflight = dd_col_int64(st, 1);
		out->failed = dd_col_int64(st, 2);
		out->undeliverable = dd_col_int64(st, 3);
		out->delivered = dd_col_int64(st, 4);
	}
	dd_stmt_reset(st);
	return rc == DD_STMT_ROW ? 0 : DD_EIO;
}

int dd_store_outbox_purge(struct dd_db *db, int64_t before_ms, int64_t *deleted)
{
	if (deleted)
		*deleted = 0;
	if (dd_db_begin_write(db))
		return DD_EIO;
	struct dd_stmt *st = dd_db_stmt(db, "DELETE FROM sns_outbox WHERE status IN ('DELIVERED', 'CANCELLED') AND updated < ?1");
	if (!st) {
		dd_db_rollback(db);
		return DD_EIO;
	}
	dd_bind_int64(st, 1, before_ms);
	if (dd_step_done(st)) {
		dd_db_rollback(db);
		return DD_EIO;
	}
	int64_t n = dd_db_changes(db);
	if (dd_db_commit(db))
		return DD_EIO;
	if (deleted)
		*deleted = n;
	return 0;
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * SQLite implementation of the change journal's storage (store/dd_store_changes.h). The
 * journal rows themselves are mostly written by triggers (migration "change journal");
 * this file adds explicit notes, the poll by sequence, pruning, and the trust-anchor and
 * endpoint reads of the broker.
 */
#include "store/dd_store_int.h"
#include "store/dd_store_changes.h"

#include <stdio.h>

#include "dd/store.h"

int dd_store_changes_note(struct dd_db *db, const char *account_region, const char *kind, const char *subject,
			  const char *arg, int64_t now_ms)
{
	struct dd_stmt *st = dd_db_stmt(db, "INSERT INTO changes(account_region, kind, subject, arg, ts) VALUES (?1, ?2, ?3, ?4, ?5)");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account_region);
	dd_bind_text(st, 2, kind);
	dd_bind_text(st, 3, subject);
	dd_bind_text(st, 4, arg);
	dd_bind_int64(st, 5, now_ms);
	return dd_step_done(st);
}

int dd_store_changes_last(struct dd_db *db, int64_t *seq)
{
	struct dd_stmt *st = dd_db_stmt(db, "SELECT max(seq) FROM changes");
	return st ? dd_store_step_int64(st, seq) : DD_EIO;
}

int dd_store_changes_read(struct dd_db *db, int64_t after, struct dd_change *out, size_t max, size_t *n)
{
	*n = 0;
	struct dd_stmt *st = dd_db_stmt(db, "SELECT seq, account_region, kind, subject, arg FROM changes WHERE seq > ?1 ORDER BY seq LIMIT ?2");
	if (!st)
		return DD_EIO;
	dd_bind_int64(st, 1, after);
	dd_bind_int64(st, 2, (int64_t)max);
	int s = DD_STMT_DONE;
	while (*n < max && (s = dd_stmt_step(st)) == DD_STMT_ROW) {
		struct dd_change *c = &out[(*n)++];
		c->seq = dd_col_int64(st, 0);
		snprintf(c->account_region, sizeof c->account_region, "%s", dd_col_text(st, 1));
		snprintf(c->kind, sizeof c->kind, "%s", dd_col_text(st, 2));
		snprintf(c->subject, sizeof c->subject, "%s", dd_col_text(st, 3));
		snprintf(c->arg, sizeof c->arg, "%s", dd_col_text(st, 4));
	}
	dd_stmt_reset(st);
	return *n == max || s == DD_STMT_DONE ? 0 : DD_EIO;
}

int dd_store_changes_prune(struct dd_db *db, int64_t before_ms)
{
	struct dd_stmt *st = dd_db_stmt(db, "DELETE FROM changes WHERE ts < ?1 AND seq < (SELECT max(seq) FROM changes)");
	if (!st)
		return DD_EIO;
	dd_bind_int64(st, 1, before_ms);
	return dd_step_done(st);
}

int dd_store_changes_trust_last(struct dd_db *db, int64_t after, int64_t *last)
{
	struct dd_stmt *st = dd_db_stmt(db, "SELECT max(c.seq) FROM changes c WHERE c.seq > ?1 AND (c.kind = 'ca' OR"
					  " (c.kind = 'cert' AND EXISTS (SELECT 1 FROM certificates k WHERE k.account_region = c.account_region"
					  " AND k.id = c.subject AND k.self_signed = 1 AND (k.ca_id IS NULL OR k.ca_id = ''))))");
	if (!st)
		return DD_EIO;
	dd_bind_int64(st, 1, after);
	int s = dd_stmt_step(st);
	if (s == DD_STMT_ROW)
		*last = dd_col_int64(st, 0);
	dd_stmt_reset(st);
	return s == DD_STMT_ROW ? 0 : DD_EIO;
}

/* Runs a one-column PEM listing through fn. */
static int list_pems(struct dd_db *db, const char *sql, dd_store_changes_pem_fn fn, void *ud)
{
	struct dd_stmt *st = dd_db_stmt(db, sql);
	if (!st)
		return DD_EIO;
	int s = DD_STMT_DONE, rc = 0;
	while (!rc && (s = dd_stmt_step(st)) == DD_STMT_ROW)
		rc = fn(dd_col_text(st, 0), ud);
	dd_stmt_reset(st);
	return rc ? rc : s == DD_STMT_DONE ? 0 : DD_EIO;
}

int dd_store_changes_active_cas(struct dd_db *db, dd_store_changes_pem_fn fn, void *ud)
{
	return list_pems(db, "SELECT pem FROM ca_certificates WHERE status = 'ACTIVE' ORDER BY account_region, id", fn, ud);
}

int dd_store_changes_self_signed(struct dd_db *db, dd_store_changes_pem_fn fn, void *ud)
{
	return list_pems(db,
			 "SELECT pem FROM certificates WHERE status = 'ACTIVE' AND self_signed = 1 AND (ca_id IS NULL OR ca_id = '')"
			 " ORDER BY account_region, id",
			 fn, ud);
}

int dd_store_changes_endpoint_set(struct dd_db *db, const char *region, const char *host_port)
{
	struct dd_stmt *st = dd_db_stmt(db, "INSERT INTO server_meta(key, value) VALUES ('broker_endpoint/' || ?2, ?1)"
					 " ON CONFLICT(key) DO UPDATE SET value = excluded.value");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, host_port);
	dd_bind_text(st, 2, region);
	return dd_step_done(st);
}

int dd_store_changes_endpoint_get(struct dd_db *db, const char *region, char *out, size_t outlen)
{
	struct dd_stmt *st = dd_db_stmt(db, "SELECT value FROM server_meta WHERE key = 'broker_endpoint/' || ?1");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, region);
	int s = dd_stmt_step(st);
	if (s == DD_STMT_ROW)
		snprintf(out, outlen, "%s", dd_col_text(st, 0));
	dd_stmt_reset(st);
	return s == DD_STMT_ROW ? 0 : s == DD_STMT_DONE ? DD_ENOTFOUND : DD_EIO;
}

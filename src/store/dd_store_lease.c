/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dd_store_lease.h over the work_leases table. Taking a lease is one upsert whose
 * conditional DO UPDATE only fires on an expired or own row, so two instances racing for
 * a unit cannot both get it: the store orders their writes and the loser's update finds
 * the winner's live lease. Written in the SQL SQLite and PostgreSQL share, except for
 * "now": on SQLite the caller's clock (one machine), on PostgreSQL the database server's
 * (DD_LEASE_PG_NOW, the same clock for every server on the database, whatever their own
 * clocks say), so each statement is a pair of literals built from one template.
 */
#include <stdio.h>

#include "store/dd_store_int.h"
#include "store/dd_store_lease.h"

/* Lease time on PostgreSQL: the server's wall clock in epoch ms (clock_timestamp(), not
 * the transaction's start). SQLite's statements take the bound now_ms instead. */
#define PG_NOW DD_DB_PG_NOW_MS

#define ACQUIRE(NOW)                                                                                            \
	"INSERT INTO work_leases(kind, unit, owner, expires_ms) VALUES (?1, ?2, ?3, " NOW " + ?5)"                 \
	" ON CONFLICT(kind, unit) DO UPDATE SET owner = excluded.owner, expires_ms = excluded.expires_ms"          \
	" WHERE work_leases.owner = excluded.owner OR work_leases.expires_ms < " NOW

int dd_store_lease_acquire(struct dd_db *db, const char *kind, const char *unit, const char *owner, int64_t now_ms,
			   int64_t lease_ms, bool *got)
{
	*got = false;
	struct dd_stmt *st = dd_db_stmt(db, dd_db_is_pg(db) ? ACQUIRE(PG_NOW) : ACQUIRE("?4"));
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, kind);
	dd_bind_text(st, 2, unit);
	dd_bind_text(st, 3, owner);
	dd_bind_int64(st, 4, now_ms);
	dd_bind_int64(st, 5, lease_ms);
	if (dd_step_done(st))
		return DD_EIO;
	*got = dd_db_changes(db) == 1;
	return 0;
}

#define PEEK(NOW) "SELECT owner, " NOW " - expires_ms FROM work_leases WHERE kind = ?1 AND unit = ?2"

int dd_store_lease_peek(struct dd_db *db, const char *kind, const char *unit, int64_t now_ms, char *owner, size_t n,
			int64_t *late_ms, bool *found)
{
	*found = false;
	*late_ms = 0;
	if (n)
		owner[0] = 0;
	struct dd_stmt *st = dd_db_stmt(db, dd_db_is_pg(db) ? PEEK(PG_NOW) : PEEK("?3"));
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, kind);
	dd_bind_text(st, 2, unit);
	dd_bind_int64(st, 3, now_ms);
	int rc = dd_stmt_step(st);
	if (rc == DD_STMT_ROW) {
		*found = true;
		if (n)
			snprintf(owner, n, "%s", dd_col_text(st, 0));
		*late_ms = dd_col_int64(st, 1);
	}
	dd_stmt_reset(st);
	return rc == DD_STMT_ROW || rc == DD_STMT_DONE ? 0 : DD_EIO;
}

#define HOLD(NOW) "UPDATE work_leases SET expires_ms = " NOW " + ?5 WHERE kind = ?1 AND unit = ?2 AND owner = ?3"

int dd_store_lease_hold(struct dd_db *db, const char *kind, const char *unit, const char *owner, int64_t now_ms,
			int64_t lease_ms, bool *held)
{
	*held = false;
	struct dd_stmt *st = dd_db_stmt(db, dd_db_is_pg(db) ? HOLD(PG_NOW) : HOLD("?4"));
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, kind);
	dd_bind_text(st, 2, unit);
	dd_bind_text(st, 3, owner);
	dd_bind_int64(st, 4, now_ms);
	dd_bind_int64(st, 5, lease_ms);
	if (dd_step_done(st))
		return DD_EIO;
	*held = dd_db_changes(db) == 1;
	return 0;
}

#define RENEW(NOW) "UPDATE work_leases SET expires_ms = " NOW " + ?3 WHERE owner = ?1"
/* the heartbeat on PostgreSQL: the rows it can lock now (see dd_store_lease.h) */
#define RENEW_UNLOCKED                                                                                          \
	"UPDATE work_leases SET expires_ms = " PG_NOW " + ?3 WHERE (kind, unit) IN (SELECT kind, unit FROM"        \
	" work_leases WHERE owner = ?1 FOR UPDATE SKIP LOCKED)"

int dd_store_lease_renew_owner(struct dd_db *db, const char *owner, int64_t now_ms, int64_t lease_ms, int64_t *n)
{
	struct dd_stmt *st = dd_db_stmt(db, !dd_db_is_pg(db)  ? RENEW("?2")
					    : lease_ms >= 0 && dd_db_row_locks(db) ? RENEW_UNLOCKED
										 : RENEW(PG_NOW));
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, owner);
	dd_bind_int64(st, 2, now_ms);
	dd_bind_int64(st, 3, lease_ms);
	if (dd_step_done(st))
		return DD_EIO;
	if (n)
		*n = dd_db_changes(db);
	return 0;
}

int dd_store_lease_release(struct dd_db *db, const char *kind, const char *unit, const char *owner)
{
	struct dd_stmt *st = dd_db_stmt(db, "DELETE FROM work_leases WHERE kind = ?1 AND unit = ?2 AND owner = ?3");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, kind);
	dd_bind_text(st, 2, unit);
	dd_bind_text(st, 3, owner);
	return dd_step_done(st) ? DD_EIO : 0;
}

#define OTHERS(NOW) "SELECT unit, owner, expires_ms FROM work_leases WHERE kind = ?1 AND owner <> ?2 AND expires_ms >= " NOW

int dd_store_lease_others(struct dd_db *db, const char *kind, const char *owner, int64_t now_ms, dd_store_lease_fn fn,
			  void *ud)
{
	struct dd_stmt *st = dd_db_stmt(db, dd_db_is_pg(db) ? OTHERS(PG_NOW) : OTHERS("?3"));
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, kind);
	dd_bind_text(st, 2, owner);
	dd_bind_int64(st, 3, now_ms);
	int rc, ret = 0;
	while ((rc = dd_stmt_step(st)) == DD_STMT_ROW)
		if ((ret = fn(dd_col_text(st, 0), dd_col_text(st, 1), dd_col_int64(st, 2), ud)))
			break;
	dd_stmt_reset(st);
	if (ret)
		return ret;
	return rc == DD_STMT_DONE ? 0 : DD_EIO;
}

#define PURGE(NOW) "DELETE FROM work_leases WHERE expires_ms < " NOW " - ?2"

int dd_store_lease_purge(struct dd_db *db, int64_t now_ms, int64_t age_ms)
{
	struct dd_stmt *st = dd_db_stmt(db, dd_db_is_pg(db) ? PURGE(PG_NOW) : PURGE("?1"));
	if (!st)
		return DD_EIO;
	dd_bind_int64(st, 1, now_ms);
	dd_bind_int64(st, 2, age_ms);
	return dd_step_done(st) ? DD_EIO : 0;
}

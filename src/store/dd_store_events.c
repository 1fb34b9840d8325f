/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Connection events in the store (store/dd_store_events.h), on SQLite and PostgreSQL: the
 * append-only table connection_events, keyed by client (m017), seq from a counter.
 */
#include "store/dd_store_int.h"
#include "store/dd_store_events.h"

#include "dd/store.h"

/* The next seq: SQLite's table has no rowid (m017), so its counter is a server_meta row;
 * PostgreSQL's is the sequence connection_events_seq. Either gives each caller its own
 * value, in or out of a transaction. */
static int next_seq(struct dd_db *db, int64_t *seq)
{
	struct dd_stmt *st = dd_db_stmt(db, dd_db_is_pg(db) ? "SELECT nextval('connection_events_seq')"
							   : "UPDATE server_meta SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT)"
							     " WHERE key = 'connection_events/seq' RETURNING CAST(value AS INTEGER)");
	return st ? dd_store_step_int64(st, seq) : DD_EIO;
}

int dd_store_events_insert(struct dd_db *db, const char *ar, const struct dd_store_events_event *e)
{
	int64_t seq;
	int rc = next_seq(db, &seq);
	if (rc)
		return rc;
	struct dd_stmt *st = dd_db_stmt(db, "INSERT INTO connection_events(seq, account_region, event, client_id,"
					  " certificate_id, principal, ts, source_ip, reason) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
	if (!st)
		return DD_EIO;
	dd_bind_int64(st, 1, seq);
	dd_bind_text(st, 2, ar);
	dd_bind_text(st, 3, e->event);
	dd_bind_text(st, 4, e->client_id);
	dd_bind_text(st, 5, e->certificate_id);
	dd_bind_text(st, 6, e->principal);
	dd_bind_int64(st, 7, e->ts_ms);
	dd_bind_text(st, 8, e->source_ip);
	dd_bind_text(st, 9, e->reason);
	return dd_step_done(st);
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * SQLite implementation of connection events (store/dd_store_events.h): the append-only
 * table connection_events.
 */
#include "store/dd_store_int.h"
#include "store/dd_store_events.h"

#include "dd/store.h"

int dd_store_events_insert(struct dd_db *db, const char *ar, const struct dd_store_events_event *e)
{
	struct dd_stmt *st = dd_db_stmt(db, "INSERT INTO connection_events(account_region, event, client_id, certificate_id,"
					  " principal, ts, source_ip, reason) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, ar);
	dd_bind_text(st, 2, e->event);
	dd_bind_text(st, 3, e->client_id);
	dd_bind_text(st, 4, e->certificate_id);
	dd_bind_text(st, 5, e->principal);
	dd_bind_int64(st, 6, e->ts_ms);
	dd_bind_text(st, 7, e->source_ip);
	dd_bind_text(st, 8, e->reason);
	return dd_step_done(st);
}

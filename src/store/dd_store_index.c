/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The fleet index's reads (store/dd_store_index.h): thing group memberships in one
 * ordered scan of thing_group_members (served by its (account_region, thing_name) index),
 * and a client's last connection event through the connection_events_client index.
 */
#include "store/dd_store_index.h"

#include <stdio.h>

#include "store/dd_store_int.h"

int dd_store_index_memberships(struct dd_db *db, const char *account_region, dd_store_index_member_fn fn, void *ud)
{
	struct dd_stmt *st = dd_db_stmt(db, "SELECT thing_name, group_name FROM thing_group_members WHERE account_region = ?1"
					  " ORDER BY thing_name, group_name");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account_region);
	return dd_stmt_each_text_pair(st, fn, ud);
}

int dd_store_index_connectivity(struct dd_db *db, const char *account_region, const char *client_id,
				struct dd_store_index_conn *out)
{
	struct dd_stmt *st = dd_db_stmt(db, "SELECT event, ts, coalesce(reason, '') FROM connection_events"
					  " WHERE account_region = ?1 AND client_id = ?2 ORDER BY ts DESC, seq DESC LIMIT 1");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account_region);
	dd_bind_text(st, 2, client_id);
	int s = dd_stmt_step(st);
	if (s == DD_STMT_ROW) {
		snprintf(out->event, sizeof out->event, "%s", dd_col_text(st, 0));
		out->ts_ms = dd_col_int64(st, 1);
		snprintf(out->reason, sizeof out->reason, "%s", dd_col_text(st, 2));
	}
	dd_stmt_reset(st);
	return s == DD_STMT_ROW ? 0 : s == DD_STMT_DONE ? DD_ENOTFOUND : DD_EIO;
}

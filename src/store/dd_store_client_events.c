/* SPDX-License-Identifier: Apache-2.0 */
/*
 * SQLite implementation of one client's connection history (dd_store_client_events.h):
 * the events of connection_events in arrival order.
 */
#include "store/dd_store_int.h"
#include "store/dd_store_client_events.h"

#include <stdio.h>
#include <string.h>

#include "dd/store.h"

int dd_store_client_events_tally(struct dd_db *db, const char *account_region, const char *client_id, int *connects,
				 int *disconnects, char *reason, size_t rlen)
{
	*connects = *disconnects = 0;
	if (reason && rlen)
		reason[0] = '\0';
	struct dd_stmt *st = dd_db_stmt(db, "SELECT event, reason FROM connection_events WHERE account_region = ?1"
					  " AND client_id = ?2 ORDER BY seq");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account_region);
	dd_bind_text(st, 2, client_id);
	int rc;
	while ((rc = dd_stmt_step(st)) == DD_STMT_ROW) {
		if (strcmp(dd_col_text(st, 0), "connect") == 0) {
			(*connects)++;
		} else {
			(*disconnects)++;
			if (reason && rlen)
				snprintf(reason, rlen, "%s", dd_col_text(st, 1));
		}
	}
	dd_stmt_reset(st);
	return rc == DD_STMT_DONE ? 0 : DD_EIO;
}

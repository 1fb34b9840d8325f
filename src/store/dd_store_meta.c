/* SPDX-License-Identifier: Apache-2.0 */
/*
 * SQLite implementation of the server settings store (dd_store_meta.h): table
 * server_meta(key PRIMARY KEY, value).
 */
#include "store/dd_store_int.h"
#include "store/dd_store_meta.h"

#include <stdlib.h>
#include <string.h>

#include "dd/store.h"

int dd_store_meta_get(struct dd_db *db, const char *key, char **value)
{
	struct dd_stmt *st = dd_db_stmt(db, "SELECT value FROM server_meta WHERE key = ?1");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, key);
	int rc = dd_stmt_step(st), ret = rc == DD_STMT_DONE ? DD_ENOTFOUND : DD_EIO;
	if (rc == DD_STMT_ROW) {
		*value = strdup(dd_col_text(st, 0));
		ret = *value ? 0 : DD_ENOMEM;
	}
	dd_stmt_reset(st);
	return ret;
}

int dd_store_meta_put(struct dd_db *db, const char *key, const char *value)
{
	struct dd_stmt *st = dd_db_stmt(db, "INSERT INTO server_meta(key, value) VALUES (?1, ?2)"
					  " ON CONFLICT(key) DO UPDATE SET value = excluded.value");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, key);
	dd_bind_text(st, 2, value);
	return dd_step_done(st);
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * SQLite implementation of the per-account settings (store/dd_store_settings.h): the
 * tables settings (key → text value) and v2_log_levels.
 */
#include "store/dd_store_int.h"
#include "store/dd_store_settings.h"

#include <stdlib.h>
#include <string.h>

#include "dd/store.h"

int dd_store_settings_get(struct dd_db *db, const char *ar, const char *key, char **value)
{
	*value = NULL;
	struct dd_stmt *st = dd_db_stmt(db, "SELECT value FROM settings WHERE account_region = ?1 AND key = ?2");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, ar);
	dd_bind_text(st, 2, key);
	int r = dd_stmt_step(st), rc = 0;
	if (r == DD_STMT_ROW) {
		*value = strdup(dd_col_text(st, 0));
		if (!*value)
			rc = DD_ENOMEM;
	} else
		rc = r == DD_STMT_DONE ? DD_ENOTFOUND : DD_EIO;
	dd_stmt_reset(st);
	return rc;
}

int dd_store_settings_put(struct dd_db *db, const char *ar, const char *key, const char *value)
{
	struct dd_stmt *st = dd_db_stmt(db, "INSERT INTO settings(account_region, key, value) VALUES (?1, ?2, ?3)"
					  " ON CONFLICT(account_region, key) DO UPDATE SET value = excluded.value");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, ar);
	dd_bind_text(st, 2, key);
	dd_bind_text(st, 3, value);
	return dd_step_done(st);
}

int dd_store_settings_log_level_put(struct dd_db *db, const char *ar, const char *type, const char *name,
				    const char *level)
{
	/* delete, then insert: the change journal notes both (v2_log_levels has no update
	 * trigger), as SQLite's INSERT OR REPLACE did; the caller's transaction makes it one */
	int rc = dd_store_settings_log_level_delete(db, ar, type, name ? name : "");
	if (rc)
		return rc;
	struct dd_stmt *st = dd_db_stmt(db, "INSERT INTO v2_log_levels(account_region, target_type, target_name, level)"
					  " VALUES (?1, ?2, ?3, ?4)");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, ar);
	dd_bind_text(st, 2, type);
	dd_bind_text(st, 3, name ? name : "");
	dd_bind_text(st, 4, level);
	return dd_step_done(st);
}

int dd_store_settings_log_level_delete(struct dd_db *db, const char *ar, const char *type, const char *name)
{
	struct dd_stmt *st = dd_db_stmt(db, "DELETE FROM v2_log_levels WHERE account_region = ?1 AND target_type = ?2"
					  " AND target_name = ?3");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, ar);
	dd_bind_text(st, 2, type);
	dd_bind_text(st, 3, name);
	return dd_step_done(st);
}

struct log_level_cb {
	dd_store_settings_log_level_fn fn;
	void *ud;
};

static int log_level_row(struct dd_stmt *st, void *ctx)
{
	const struct log_level_cb *c = ctx;
	return c->fn(c->ud, dd_col_text(st, 0), dd_col_text(st, 1), dd_col_text(st, 2));
}

int dd_store_settings_log_levels_list(struct dd_db *db, const char *ar, const char *type, const char *after, int limit,
				      dd_store_settings_log_level_fn fn, void *ud)
{
	struct dd_stmt *st = dd_db_stmt(db, "SELECT target_type, target_name, level FROM v2_log_levels WHERE account_region = ?1"
					  " AND (?2 IS NULL OR target_type = ?2) AND target_type || '/' || target_name > ?3"
					  " ORDER BY target_type || '/' || target_name LIMIT ?4");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, ar);
	dd_bind_text(st, 2, type);
	dd_bind_text(st, 3, after ? after : "");
	dd_bind_int64(st, 4, limit);
	return dd_stmt_each(st, log_level_row, &(struct log_level_cb){ fn, ud }, DD_EACH_LIST);
}

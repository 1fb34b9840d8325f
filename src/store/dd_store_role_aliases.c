/* SPDX-License-Identifier: Apache-2.0 */
/*
 * SQLite implementation of role aliases (store/dd_store_role_aliases.h): the table
 * role_aliases.
 */
#include "store/dd_store_int.h"
#include "store/dd_store_role_aliases.h"

#include <stdio.h>
#include <string.h>

#include "dd/store.h"

static int changed(struct dd_db *db, int missing)
{
	return dd_db_changes(db) > 0 ? 0 : missing;
}

int dd_store_role_aliases_insert(struct dd_db *db, const char *ar, const char *alias, const char *role_arn,
				 int64_t duration, int64_t now_ms)
{
	struct dd_stmt *st = dd_db_stmt(db, "INSERT INTO role_aliases(account_region, alias, role_arn, duration, created,"
					  " modified) VALUES (?1, ?2, ?3, ?4, ?5, ?5) ON CONFLICT DO NOTHING");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, ar);
	dd_bind_text(st, 2, alias);
	dd_bind_text(st, 3, role_arn);
	dd_bind_int64(st, 4, duration);
	dd_bind_int64(st, 5, now_ms);
	int rc = dd_step_done(st);
	return rc ? rc : changed(db, DD_EEXIST);
}

int dd_store_role_aliases_get(struct dd_db *db, const char *ar, const char *alias, struct dd_store_role_aliases_row *out)
{
	memset(out, 0, sizeof *out);
	struct dd_stmt *st = dd_db_stmt(db, "SELECT role_arn, duration, created, modified FROM role_aliases"
					  " WHERE account_region = ?1 AND alias = ?2");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, ar);
	dd_bind_text(st, 2, alias);
	int r = dd_stmt_step(st);
	if (r == DD_STMT_ROW) {
		snprintf(out->role_arn, sizeof out->role_arn, "%s", dd_col_text(st, 0));
		out->duration = dd_col_int64(st, 1);
		out->created = dd_col_int64(st, 2);
		out->modified = dd_col_int64(st, 3);
	}
	dd_stmt_reset(st);
	if (r == DD_STMT_ROW)
		return 0;
	return r == DD_STMT_DONE ? DD_ENOTFOUND : DD_EIO;
}

int dd_store_role_aliases_update(struct dd_db *db, const char *ar, const char *alias, const char *role_arn,
				 int64_t duration, int64_t now_ms)
{
	struct dd_stmt *st = dd_db_stmt(db, "UPDATE role_aliases SET role_arn = coalesce(?3, role_arn),"
					  " duration = CASE WHEN ?4 < 0 THEN duration ELSE ?4 END, modified = ?5"
					  " WHERE account_region = ?1 AND alias = ?2");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, ar);
	dd_bind_text(st, 2, alias);
	dd_bind_text(st, 3, role_arn);
	dd_bind_int64(st, 4, duration);
	dd_bind_int64(st, 5, now_ms);
	int rc = dd_step_done(st);
	return rc ? rc : changed(db, DD_ENOTFOUND);
}

int dd_store_role_aliases_delete(struct dd_db *db, const char *ar, const char *alias)
{
	struct dd_stmt *st = dd_db_stmt(db, "DELETE FROM role_aliases WHERE account_region = ?1 AND alias = ?2");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, ar);
	dd_bind_text(st, 2, alias);
	int rc = dd_step_done(st);
	return rc ? rc : changed(db, DD_ENOTFOUND);
}

struct alias_cb {
	dd_store_role_aliases_fn fn;
	void *ud;
};

static int alias_row(struct dd_stmt *st, void *ctx)
{
	const struct alias_cb *c = ctx;
	return c->fn(c->ud, dd_col_text(st, 0));
}

int dd_store_role_aliases_list(struct dd_db *db, const char *ar, const char *after, bool ascending, int limit,
			       dd_store_role_aliases_fn fn, void *ud)
{
	struct dd_stmt *st =
		ascending ? dd_db_stmt(db, "SELECT alias FROM role_aliases WHERE account_region = ?1 AND alias > ?2 ORDER BY alias LIMIT ?3")
			  : dd_db_stmt(db, "SELECT alias FROM role_aliases WHERE account_region = ?1 AND (?2 = '' OR alias < ?2)"
					   " ORDER BY alias DESC LIMIT ?3");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, ar);
	dd_bind_text(st, 2, after ? after : "");
	dd_bind_int64(st, 3, limit);
	return dd_stmt_each(st, alias_row, &(struct alias_cb){ fn, ud }, DD_EACH_LIST);
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * SQLite implementation of dd_store_types.h over thing_types, billing_groups, the
 * billing_group column of things and the tags of a deleted type or billing group.
 */
#include "store/dd_store_int.h"
#include "store/dd_store_types.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dd/store.h"

void dd_store_types_row_clear(struct dd_store_types_row *row)
{
	free(row->description);
	free(row->searchable);
	free(row->mqtt5);
	memset(row, 0, sizeof *row);
}

void dd_store_types_billing_row_clear(struct dd_store_types_billing_row *row)
{
	free(row->description);
	memset(row, 0, sizeof *row);
}

static char *dup_or_null(struct dd_stmt *st, int col)
{
	return dd_col_is_null(st, col) ? NULL : strdup(dd_col_text(st, col));
}

static int exec2(struct dd_db *db, const char *sql, const char *a, const char *b)
{
	struct dd_stmt *st = dd_db_stmt(db, sql);
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, a);
	dd_bind_text(st, 2, b);
	return dd_step_done(st);
}

static int exists2(struct dd_db *db, const char *sql, const char *a, const char *b)
{
	struct dd_stmt *st = dd_db_stmt(db, sql);
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, a);
	dd_bind_text(st, 2, b);
	int r = dd_stmt_step(st);
	dd_stmt_reset(st);
	return r == DD_STMT_ROW ? 1 : r == DD_STMT_DONE ? 0 : DD_EIO;
}

static int changed(struct dd_db *db, int rc)
{
	if (!rc && dd_db_changes(db) == 0)
		return DD_ENOTFOUND;
	return rc;
}

static int list_names(struct dd_stmt *st, dd_store_types_name_fn fn, void *ud)
{
	int r, rc = 0;
	while ((r = dd_stmt_step(st)) == DD_STMT_ROW)
		if ((rc = fn(dd_col_text(st, 0), ud)))
			break;
	if (!rc && r != DD_STMT_DONE)
		rc = DD_EIO;
	dd_stmt_reset(st);
	return rc;
}

/* ---- thing types ---- */

#define TYPE_COLS "name, type_id, description, searchable, mqtt5, deprecated, coalesce(deprecation_ms, 0), created"

/* own: copies the texts (else they point into the statement's row) */
static int type_fill(struct dd_stmt *st, struct dd_store_types_row *row, bool own)
{
	snprintf(row->name, sizeof row->name, "%s", dd_col_text(st, 0));
	snprintf(row->id, sizeof row->id, "%s", dd_col_text(st, 1));
	row->deprecated = dd_col_int(st, 5) != 0;
	row->deprecated_ms = dd_col_int64(st, 6);
	row->created_ms = dd_col_int64(st, 7);
	if (!own) {
		row->description = dd_col_is_null(st, 2) ? NULL : (char *)dd_col_text(st, 2);
		row->searchable = (char *)dd_col_text(st, 3);
		row->mqtt5 = dd_col_is_null(st, 4) ? NULL : (char *)dd_col_text(st, 4);
		return 0;
	}
	row->description = dup_or_null(st, 2);
	row->searchable = strdup(dd_col_text(st, 3));
	row->mqtt5 = dup_or_null(st, 4);
	if (!row->searchable || (!dd_col_is_null(st, 2) && !row->description) ||
	    (!dd_col_is_null(st, 4) && !row->mqtt5)) {
		dd_store_types_row_clear(row);
		return DD_ENOMEM;
	}
	return 0;
}

int dd_store_types_get(struct dd_db *db, const char *account_region, const char *name, struct dd_store_types_row *row)
{
	memset(row, 0, sizeof *row);
	struct dd_stmt *st = dd_db_stmt(db, "SELECT " TYPE_COLS " FROM thing_types WHERE account_region = ?1 AND name = ?2");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account_region);
	dd_bind_text(st, 2, name);
	int r = dd_stmt_step(st);
	int rc = r == DD_STMT_ROW ? type_fill(st, row, true) : r == DD_STMT_DONE ? DD_ENOTFOUND : DD_EIO;
	dd_stmt_reset(st);
	return rc;
}

int dd_store_types_insert(struct dd_db *db, const char *account_region, const struct dd_store_types_row *row)
{
	int e = exists2(db, "SELECT 1 FROM thing_types WHERE account_region = ?1 AND name = ?2", account_region, row->name);
	if (e)
		return e < 0 ? e : DD_EEXIST;
	struct dd_stmt *st = dd_db_stmt(db, "INSERT INTO thing_types(account_region, name, type_id, description, searchable, mqtt5,"
					  " deprecated, created) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 0, ?7)");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account_region);
	dd_bind_text(st, 2, row->name);
	dd_bind_text(st, 3, row->id);
	dd_bind_text(st, 4, row->description);
	dd_bind_text(st, 5, row->searchable ? row->searchable : "[]");
	dd_bind_text(st, 6, row->mqtt5);
	dd_bind_int64(st, 7, row->created_ms);
	return dd_step_done(st);
}

int dd_store_types_update(struct dd_db *db, const char *account_region, const char *name, bool set_description,
			  const char *description, const char *searchable, const char *mqtt5)
{
	struct dd_stmt *st = dd_db_stmt(db, "UPDATE thing_types SET description = CASE WHEN ?3 <> 0 THEN ?4 ELSE description END,"
					  " searchable = coalesce(?5, searchable), mqtt5 = coalesce(?6, mqtt5)"
					  " WHERE account_region = ?1 AND name = ?2");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account_region);
	dd_bind_text(st, 2, name);
	dd_bind_int64(st, 3, set_description);
	dd_bind_text(st, 4, description);
	dd_bind_text(st, 5, searchable);
	dd_bind_text(st, 6, mqtt5);
	return changed(db, dd_step_done(st));
}

int dd_store_types_deprecate(struct dd_db *db, const char *account_region, const char *name, bool undo, int64_t now_ms)
{
	struct dd_stmt *st = dd_db_stmt(db, undo
		? "UPDATE thing_types SET deprecated = 0, deprecation_ms = NULL WHERE account_region = ?1 AND name = ?2"
		: "UPDATE thing_types SET deprecated = 1, deprecation_ms = CASE WHEN deprecated <> 0 THEN deprecation_ms ELSE ?3 END"
		  " WHERE account_region = ?1 AND name = ?2");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account_region);
	dd_bind_text(st, 2, name);
	if (!undo)
		dd_bind_int64(st, 3, now_ms);
	return changed(db, dd_step_done(st));
}

int dd_store_types_delete(struct dd_db *db, const char *account_region, const char *name, const char *arn)
{
	int rc = exec2(db, "DELETE FROM thing_types WHERE account_region = ?1 AND name = ?2", account_region, name);
	if (!rc && arn)
		rc = exec2(db, "DELETE FROM tags WHERE account_region = ?1 AND resource_arn = ?2", account_region, arn);
	return rc;
}

int dd_store_types_thing_count(struct dd_db *db, const char *account_region, const char *name, int64_t *n)
{
	struct dd_stmt *st = dd_db_stmt(db, "SELECT count(*) FROM things WHERE account_region = ?1 AND type_name = ?2");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account_region);
	dd_bind_text(st, 2, name);
	int r = dd_stmt_step(st);
	if (r == DD_STMT_ROW)
		*n = dd_col_int64(st, 0);
	dd_stmt_reset(st);
	return r == DD_STMT_ROW ? 0 : DD_EIO;
}

struct type_cb {
	dd_store_types_row_fn fn;
	void *ud;
};

static int type_row(struct dd_stmt *st, void *ctx)
{
	const struct type_cb *c = ctx;
	struct dd_store_types_row row;
	type_fill(st, &row, false);
	return c->fn(&row, c->ud);
}

int dd_store_types_list(struct dd_db *db, const char *account_region, const char *name, const char *after, int limit,
			dd_store_types_row_fn fn, void *ud)
{
	struct dd_stmt *st = dd_db_stmt(db, "SELECT " TYPE_COLS " FROM thing_types WHERE account_region = ?1 AND name > ?2"
					  " AND (?3 IS NULL OR name = ?3) ORDER BY name LIMIT ?4");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account_region);
	dd_bind_text(st, 2, after ? after : "");
	dd_bind_text(st, 3, name);
	dd_bind_int64(st, 4, limit > 0 ? limit : INT64_MAX);
	return dd_stmt_each(st, type_row, &(struct type_cb){ fn, ud }, DD_EACH_PASS);
}

/* ---- billing groups ---- */

int dd_store_types_billing_get(struct dd_db *db, const char *account_region, const char *name,
			       struct dd_store_types_billing_row *row)
{
	memset(row, 0, sizeof *row);
	struct dd_stmt *st = dd_db_stmt(db, "SELECT name, group_id, description, version, created FROM billing_groups"
					  " WHERE account_region = ?1 AND name = ?2");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account_region);
	dd_bind_text(st, 2, name);
	int r = dd_stmt_step(st), rc = 0;
	if (r == DD_STMT_ROW) {
		snprintf(row->name, sizeof row->name, "%s", dd_col_text(st, 0));
		snprintf(row->id, sizeof row->id, "%s", dd_col_text(st, 1));
		row->description = dup_or_null(st, 2);
		row->version = dd_col_int64(st, 3);
		row->created_ms = dd_col_int64(st, 4);
		if (!dd_col_is_null(st, 2) && !row->description)
			rc = DD_ENOMEM;
	} else
		rc = r == DD_STMT_DONE ? DD_ENOTFOUND : DD_EIO;
	dd_stmt_reset(st);
	return rc;
}

int dd_store_types_billing_insert(struct dd_db *db, const char *account_region, const struct dd_store_types_billing_row *row)
{
	int e = exists2(db, "SELECT 1 FROM billing_groups WHERE account_region = ?1 AND name = ?2", account_region, row->name);
	if (e)
		return e < 0 ? e : DD_EEXIST;
	struct dd_stmt *st = dd_db_stmt(db, "INSERT INTO billing_groups(account_region, name, group_id, description, version, created)"
					  " VALUES (?1, ?2, ?3, ?4, 1, ?5)");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account_region);
	dd_bind_text(st, 2, row->name);
	dd_bind_text(st, 3, row->id);
	dd_bind_text(st, 4, row->description);
	dd_bind_int64(st, 5, row->created_ms);
	return dd_step_done(st);
}

int dd_store_types_billing_update(struct dd_db *db, const char *account_region, const char *name, bool set_description,
				  const char *description)
{
	struct dd_stmt *st = dd_db_stmt(db, "UPDATE billing_groups SET description = CASE WHEN ?3 <> 0 THEN ?4 ELSE description END,"
					  " version = version + 1 WHERE account_region = ?1 AND name = ?2");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account_region);
	dd_bind_text(st, 2, name);
	dd_bind_int64(st, 3, set_description);
	dd_bind_text(st, 4, description);
	return changed(db, dd_step_done(st));
}

int dd_store_types_billing_delete(struct dd_db *db, const char *account_region, const char *name, const char *arn)
{
	int rc = exec2(db, "DELETE FROM billing_groups WHERE account_region = ?1 AND name = ?2", account_region, name);
	if (!rc)
		rc = exec2(db, "UPDATE things SET billing_group = NULL WHERE account_region = ?1 AND billing_group = ?2",
			   account_region, name);
	if (!rc && arn)
		rc = exec2(db, "DELETE FROM tags WHERE account_region = ?1 AND resource_arn = ?2", account_region, arn);
	return rc;
}

int dd_store_types_billing_list(struct dd_db *db, const char *account_region, const char *prefix, const char *after,
				int limit, dd_store_types_name_fn fn, void *ud)
{
	struct dd_stmt *st = dd_db_stmt(db, "SELECT name FROM billing_groups WHERE account_region = ?1 AND name > ?2"
					  " AND (?3 IS NULL OR substr(name, 1, length(?3)) = ?3) ORDER BY name LIMIT ?4");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account_region);
	dd_bind_text(st, 2, after ? after : "");
	dd_bind_text(st, 3, prefix);
	dd_bind_int64(st, 4, limit > 0 ? limit : INT64_MAX);
	return list_names(st, fn, ud);
}

int dd_store_types_billing_set(struct dd_db *db, const char *account_region, const char *thing, const char *group)
{
	struct dd_stmt *st = dd_db_stmt(db, "UPDATE things SET billing_group = ?3 WHERE account_region = ?1 AND name = ?2");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account_region);
	dd_bind_text(st, 2, thing);
	dd_bind_text(st, 3, group);
	return changed(db, dd_step_done(st));
}

int dd_store_types_billing_things(struct dd_db *db, const char *account_region, const char *group, const char *after,
				  int limit, dd_store_types_name_fn fn, void *ud)
{
	struct dd_stmt *st = dd_db_stmt(db, "SELECT name FROM things WHERE account_region = ?1 AND billing_group = ?2 AND name > ?3"
					  " ORDER BY name LIMIT ?4");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account_region);
	dd_bind_text(st, 2, group);
	dd_bind_text(st, 3, after ? after : "");
	dd_bind_int64(st, 4, limit > 0 ? limit : INT64_MAX);
	return list_names(st, fn, ud);
}

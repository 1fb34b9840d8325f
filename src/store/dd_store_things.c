/* SPDX-License-Identifier: Apache-2.0 */
/*
 * SQLite implementation of dd_store_things.h over the things table (and the memberships
 * a deleted thing leaves in thing_group_members). Attribute filters of the listing use
 * json_extract on the stored attribute text.
 */
#include "store/dd_store_int.h"
#include "store/dd_store_things.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dd/store.h"

void dd_store_things_row_clear(struct dd_store_things_row *row)
{
	free(row->attributes);
	memset(row, 0, sizeof *row);
}

#define THING_COLS "name, thing_id, coalesce(type_name, ''), coalesce(billing_group, ''), attributes, version, created"

static int fill_row(struct dd_stmt *st, struct dd_store_things_row *row, bool own)
{
	dd_str_copy(row->name, sizeof row->name, dd_col_text(st, 0));
	dd_str_copy(row->id, sizeof row->id, dd_col_text(st, 1));
	dd_str_copy(row->type, sizeof row->type, dd_col_text(st, 2));
	dd_str_copy(row->billing_group, sizeof row->billing_group, dd_col_text(st, 3));
	row->version = dd_col_int64(st, 5);
	row->created_ms = dd_col_int64(st, 6);
	if (!own) {
		row->attributes = (char *)dd_col_text(st, 4);
		return 0;
	}
	row->attributes = strdup(dd_col_text(st, 4));
	return row->attributes ? 0 : DD_ENOMEM;
}

int dd_store_things_get(struct dd_db *db, const char *account_region, const char *name, struct dd_store_things_row *row)
{
	memset(row, 0, sizeof *row);
	struct dd_stmt *st = dd_db_stmt(db, "SELECT " THING_COLS " FROM things WHERE account_region = ?1 AND name = ?2");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account_region);
	dd_bind_text(st, 2, name);
	int r = dd_stmt_step(st);
	int rc = r == DD_STMT_ROW ? fill_row(st, row, true) : r == DD_STMT_DONE ? DD_ENOTFOUND : DD_EIO;
	dd_stmt_reset(st);
	return rc;
}

int dd_store_things_exists(struct dd_db *db, const char *account_region, const char *name)
{
	struct dd_stmt *st = dd_db_stmt(db, "SELECT 1 FROM things WHERE account_region = ?1 AND name = ?2");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account_region);
	dd_bind_text(st, 2, name);
	int r = dd_stmt_step(st);
	dd_stmt_reset(st);
	return r == DD_STMT_ROW ? 1 : r == DD_STMT_DONE ? 0 : DD_EIO;
}

int dd_store_things_insert(struct dd_db *db, const char *account_region, const char *name, const char *id,
			   const char *type, const char *attributes, int64_t created_ms)
{
	int e = dd_store_things_exists(db, account_region, name);
	if (e)
		return e < 0 ? e : DD_EEXIST;
	struct dd_stmt *st = dd_db_stmt(db, "INSERT INTO things(account_region, name, thing_id, type_name, attributes, version, created)"
					  " VALUES (?1, ?2, ?3, ?4, ?5, 1, ?6)");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account_region);
	dd_bind_text(st, 2, name);
	dd_bind_text(st, 3, id);
	dd_bind_text(st, 4, type);
	dd_bind_text(st, 5, attributes ? attributes : "{}");
	dd_bind_int64(st, 6, created_ms);
	return dd_step_done(st);
}

int dd_store_things_update(struct dd_db *db, const char *account_region, const char *name, const char *type,
			   const char *attributes)
{
	struct dd_stmt *st = dd_db_stmt(db, "UPDATE things SET type_name = ?3, attributes = ?4, version = version + 1"
					  " WHERE account_region = ?1 AND name = ?2");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account_region);
	dd_bind_text(st, 2, name);
	dd_bind_text(st, 3, type);
	dd_bind_text(st, 4, attributes ? attributes : "{}");
	int rc = dd_step_done(st);
	if (!rc && dd_db_changes(db) == 0)
		rc = DD_ENOTFOUND;
	return rc;
}

int dd_store_things_delete(struct dd_db *db, const char *account_region, const char *name)
{
	static const char *const dels[] = {
		"DELETE FROM things WHERE account_region = ?1 AND name = ?2",
		"DELETE FROM thing_group_members WHERE account_region = ?1 AND thing_name = ?2",
	};
	for (size_t i = 0; i < 2; i++) {
		struct dd_stmt *st = dd_db_stmt(db, dels[i]);
		if (!st)
			return DD_EIO;
		dd_bind_text(st, 1, account_region);
		dd_bind_text(st, 2, name);
		int rc = dd_step_done(st);
		if (rc)
			return rc;
	}
	return 0;
}

struct thing_cb {
	dd_store_things_row_fn fn;
	void *ud;
};

static int thing_row(struct dd_stmt *st, void *ctx)
{
	const struct thing_cb *c = ctx;
	struct dd_store_things_row row;
	fill_row(st, &row, false);
	return c->fn(&row, c->ud);
}

int dd_store_things_list(struct dd_db *db, const char *account_region, const struct dd_store_things_filter *filter,
			 const char *after, int limit, dd_store_things_row_fn fn, void *ud)
{
	static const struct dd_store_things_filter none = { 0 };
	if (!filter)
		filter = &none;
	char path[300] = "";
	if (filter->attribute) {
		/* a JSON path naming one member; a name with '"' cannot be a stored member */
		if (strchr(filter->attribute, '"') || strlen(filter->attribute) > 260)
			return 0;
		snprintf(path, sizeof path, "$.\"%s\"", filter->attribute);
	}
	/* the same JSON path ($."name") as SQLite's json_extract and PostgreSQL's jsonpath */
	struct dd_stmt *st = dd_db_is_pg(db)
		? dd_db_stmt(db,
		"SELECT " THING_COLS " FROM things WHERE account_region = ?1 AND name > ?2"
		" AND (?3 IS NULL OR type_name = ?3)"
		" AND (?4 IS NULL OR jsonb_path_query_first(CAST(attributes AS jsonb), CAST(?4 AS jsonpath)) IS NOT NULL)"
		" AND (?5 IS NULL OR (?6 = 0 AND jsonb_path_query_first(CAST(attributes AS jsonb), CAST(?4 AS jsonpath)) #>> '{}' = ?5)"
		"      OR (?6 = 1 AND substr(jsonb_path_query_first(CAST(attributes AS jsonb), CAST(?4 AS jsonpath)) #>> '{}',"
		"                            1, length(?5)) = ?5))"
		" ORDER BY name LIMIT ?7")
		: dd_db_stmt(db,
		"SELECT " THING_COLS " FROM things WHERE account_region = ?1 AND name > ?2"
		" AND (?3 IS NULL OR type_name = ?3)"
		" AND (?4 IS NULL OR json_extract(attributes, ?4) IS NOT NULL)"
		" AND (?5 IS NULL OR (?6 = 0 AND json_extract(attributes, ?4) = ?5)"
		"      OR (?6 = 1 AND substr(json_extract(attributes, ?4), 1, length(?5)) = ?5))"
		" ORDER BY name LIMIT ?7");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account_region);
	dd_bind_text(st, 2, after ? after : "");
	dd_bind_text(st, 3, filter->type);
	dd_bind_text(st, 4, filter->attribute ? path : NULL);
	dd_bind_text(st, 5, filter->attribute ? filter->value : NULL);
	dd_bind_int64(st, 6, filter->prefix);
	dd_bind_int64(st, 7, limit > 0 ? limit : INT64_MAX);
	return dd_stmt_each(st, thing_row, &(struct thing_cb){ fn, ud }, DD_EACH_PASS);
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * SQLite implementation of dd_store_groups.h over thing_groups and thing_group_members
 * (and policy_targets, for the attachments a deleted group leaves). Descendants are
 * found with a recursive common table expression over the parent column.
 */
#include "store/dd_store_int.h"
#include "store/dd_store_groups.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dd/store.h"

void dd_store_groups_row_clear(struct dd_store_groups_row *row)
{
	free(row->description);
	free(row->attributes);
	free(row->query_string);
	memset(row, 0, sizeof *row);
}

static char *dup_or_null(struct dd_stmt *st, int col)
{
	return dd_col_is_null(st, col) ? NULL : strdup(dd_col_text(st, col));
}

/* Steps st, calling fn with column 0 of each row; resets st. */
static int list_names(struct dd_stmt *st, dd_store_groups_name_fn fn, void *ud)
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

/* Binds ?1 and ?2, then steps a statement of no rows. */
static int exec2(struct dd_db *db, const char *sql, const char *a, const char *b)
{
	struct dd_stmt *st = dd_db_stmt(db, sql);
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, a);
	dd_bind_text(st, 2, b);
	return dd_step_done(st);
}

int dd_store_groups_get(struct dd_db *db, const char *account_region, const char *name, struct dd_store_groups_row *row)
{
	memset(row, 0, sizeof *row);
	struct dd_stmt *st = dd_db_stmt(db,
		"SELECT name, group_id, coalesce(parent, ''), description, attributes, dynamic, query_string,"
		" coalesce(index_name, ''), coalesce(query_version, ''), version, created FROM thing_groups"
		" WHERE account_region = ?1 AND name = ?2");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account_region);
	dd_bind_text(st, 2, name);
	int r = dd_stmt_step(st), rc = 0;
	if (r == DD_STMT_ROW) {
		snprintf(row->name, sizeof row->name, "%s", dd_col_text(st, 0));
		snprintf(row->id, sizeof row->id, "%s", dd_col_text(st, 1));
		snprintf(row->parent, sizeof row->parent, "%s", dd_col_text(st, 2));
		row->description = dup_or_null(st, 3);
		row->attributes = strdup(dd_col_text(st, 4));
		row->dynamic = dd_col_int(st, 5) != 0;
		row->query_string = dup_or_null(st, 6);
		snprintf(row->index_name, sizeof row->index_name, "%s", dd_col_text(st, 7));
		snprintf(row->query_version, sizeof row->query_version, "%s", dd_col_text(st, 8));
		row->version = dd_col_int64(st, 9);
		row->created_ms = dd_col_int64(st, 10);
		if (!row->attributes || (!dd_col_is_null(st, 3) && !row->description) ||
		    (!dd_col_is_null(st, 6) && !row->query_string)) {
			dd_store_groups_row_clear(row);
			rc = DD_ENOMEM;
		}
	} else
		rc = r == DD_STMT_DONE ? DD_ENOTFOUND : DD_EIO;
	dd_stmt_reset(st);
	return rc;
}

int dd_store_groups_insert(struct dd_db *db, const char *account_region, const struct dd_store_groups_row *row)
{
	struct dd_stmt *st = dd_db_stmt(db, "SELECT 1 FROM thing_groups WHERE account_region = ?1 AND name = ?2");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account_region);
	dd_bind_text(st, 2, row->name);
	int r = dd_stmt_step(st);
	dd_stmt_reset(st);
	if (r != DD_STMT_DONE)
		return r == DD_STMT_ROW ? DD_EEXIST : DD_EIO;
	st = dd_db_stmt(db,
		"INSERT INTO thing_groups(account_region, name, group_id, parent, description, attributes, dynamic, query_string,"
		" index_name, query_version, version, created) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, 1, ?11)");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account_region);
	dd_bind_text(st, 2, row->name);
	dd_bind_text(st, 3, row->id);
	dd_bind_text(st, 4, row->parent[0] ? row->parent : NULL);
	dd_bind_text(st, 5, row->description);
	dd_bind_text(st, 6, row->attributes ? row->attributes : "{}");
	dd_bind_int64(st, 7, row->dynamic);
	dd_bind_text(st, 8, row->dynamic ? row->query_string : NULL);
	dd_bind_text(st, 9, row->dynamic ? row->index_name : NULL);
	dd_bind_text(st, 10, row->dynamic ? row->query_version : NULL);
	dd_bind_int64(st, 11, row->created_ms);
	return dd_step_done(st);
}

int dd_store_groups_update(struct dd_db *db, const char *account_region, const char *name, const char *description,
			   const char *attributes, const char *query_string)
{
	struct dd_stmt *st = dd_db_stmt(db,
		"UPDATE thing_groups SET description = coalesce(?3, description), attributes = coalesce(?4, attributes),"
		" query_string = coalesce(?5, query_string), version = version + 1 WHERE account_region = ?1 AND name = ?2");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account_region);
	dd_bind_text(st, 2, name);
	dd_bind_text(st, 3, description);
	dd_bind_text(st, 4, attributes);
	dd_bind_text(st, 5, query_string);
	int rc = dd_step_done(st);
	if (!rc && dd_db_changes(db) == 0)
		rc = DD_ENOTFOUND;
	return rc;
}

int dd_store_groups_delete(struct dd_db *db, const char *account_region, const char *name, const char *arn)
{
	int rc = exec2(db, "DELETE FROM thing_groups WHERE account_region = ?1 AND name = ?2", account_region, name);
	if (!rc)
		rc = dd_store_groups_member_clear(db, account_region, name);
	if (!rc && arn)
		rc = exec2(db, "DELETE FROM policy_targets WHERE account_region = ?1 AND target = ?2", account_region, arn);
	return rc;
}

static int count2(struct dd_db *db, const char *sql, const char *a, const char *b, int64_t *n)
{
	struct dd_stmt *st = dd_db_stmt(db, sql);
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, a);
	dd_bind_text(st, 2, b);
	int r = dd_stmt_step(st);
	if (r == DD_STMT_ROW)
		*n = dd_col_int64(st, 0);
	dd_stmt_reset(st);
	return r == DD_STMT_ROW ? 0 : DD_EIO;
}

int dd_store_groups_child_count(struct dd_db *db, const char *account_region, const char *name, int64_t *n)
{
	return count2(db, "SELECT count(*) FROM thing_groups WHERE account_region = ?1 AND parent = ?2", account_region,
		      name, n);
}

int dd_store_groups_list(struct dd_db *db, const char *account_region, enum dd_store_groups_scope scope,
			 const char *parent, const char *prefix, const char *after, int limit, dd_store_groups_name_fn fn,
			 void *ud)
{
	struct dd_stmt *st = dd_db_stmt(db,
		"WITH RECURSIVE sub(n) AS (SELECT name FROM thing_groups WHERE ?6 = 3 AND account_region = ?1 AND parent = ?3"
		" UNION SELECT g.name FROM thing_groups g JOIN sub ON g.parent = sub.n WHERE g.account_region = ?1)"
		" SELECT name FROM thing_groups WHERE account_region = ?1 AND name > ?2"
		" AND CASE ?6 WHEN 0 THEN 1 = 1 WHEN 1 THEN coalesce(parent, '') = '' WHEN 2 THEN parent = ?3"
		" ELSE name IN (SELECT n FROM sub) END"
		" AND (?4 IS NULL OR substr(name, 1, length(?4)) = ?4) ORDER BY name LIMIT ?5");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account_region);
	dd_bind_text(st, 2, after ? after : "");
	dd_bind_text(st, 3, parent);
	dd_bind_text(st, 4, prefix);
	dd_bind_int64(st, 5, limit > 0 ? limit : INT64_MAX);
	dd_bind_int64(st, 6, scope == DD_STORE_GROUPS_ALL ? 0 : scope == DD_STORE_GROUPS_ROOTS ? 1
							  : scope == DD_STORE_GROUPS_CHILDREN ? 2 : 3);
	return list_names(st, fn, ud);
}

int dd_store_groups_dynamic_list(struct dd_db *db, const char *account_region, dd_store_groups_dynamic_fn fn, void *ud)
{
	struct dd_stmt *st = dd_db_stmt(db, "SELECT name, coalesce(query_string, '') FROM thing_groups"
					  " WHERE account_region = ?1 AND dynamic = 1 ORDER BY name");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account_region);
	return dd_stmt_each_text_pair(st, fn, ud);
}

/* ---- memberships ---- */

static int exec3(struct dd_db *db, const char *sql, const char *a, const char *b, const char *c)
{
	struct dd_stmt *st = dd_db_stmt(db, sql);
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, a);
	dd_bind_text(st, 2, b);
	dd_bind_text(st, 3, c);
	return dd_step_done(st);
}

int dd_store_groups_member_is(struct dd_db *db, const char *account_region, const char *group, const char *thing)
{
	struct dd_stmt *st = dd_db_stmt(db, "SELECT 1 FROM thing_group_members WHERE account_region = ?1 AND group_name = ?2"
					  " AND thing_name = ?3");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account_region);
	dd_bind_text(st, 2, group);
	dd_bind_text(st, 3, thing);
	int r = dd_stmt_step(st);
	dd_stmt_reset(st);
	return r == DD_STMT_ROW ? 1 : r == DD_STMT_DONE ? 0 : DD_EIO;
}

int dd_store_groups_member_add(struct dd_db *db, const char *account_region, const char *group, const char *thing)
{
	return exec3(db, "INSERT INTO thing_group_members(account_region, group_name, thing_name) VALUES (?1, ?2, ?3)"
			 " ON CONFLICT DO NOTHING",
		     account_region, group, thing);
}

int dd_store_groups_member_remove(struct dd_db *db, const char *account_region, const char *group, const char *thing)
{
	return exec3(db, "DELETE FROM thing_group_members WHERE account_region = ?1 AND group_name = ?2 AND thing_name = ?3",
		     account_region, group, thing);
}

int dd_store_groups_member_clear(struct dd_db *db, const char *account_region, const char *group)
{
	return exec2(db, "DELETE FROM thing_group_members WHERE account_region = ?1 AND group_name = ?2", account_region,
		     group);
}

int dd_store_groups_member_count(struct dd_db *db, const char *account_region, const char *thing, int64_t *n)
{
	return count2(db, "SELECT count(*) FROM thing_group_members WHERE account_region = ?1 AND thing_name = ?2",
		      account_region, thing, n);
}

int dd_store_groups_member_newest_dynamic(struct dd_db *db, const char *account_region, const char *thing, char *buf,
					  size_t len)
{
	struct dd_stmt *st = dd_db_stmt(db,
		"SELECT m.group_name FROM thing_group_members m JOIN thing_groups g ON g.account_region = m.account_region"
		" AND g.name = m.group_name WHERE m.account_region = ?1 AND m.thing_name = ?2 AND g.dynamic = 1"
		" ORDER BY g.created DESC, g.name DESC LIMIT 1");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account_region);
	dd_bind_text(st, 2, thing);
	int r = dd_stmt_step(st);
	if (r == DD_STMT_ROW)
		snprintf(buf, len, "%s", dd_col_text(st, 0));
	dd_stmt_reset(st);
	return r == DD_STMT_ROW ? 0 : r == DD_STMT_DONE ? DD_ENOTFOUND : DD_EIO;
}

int dd_store_groups_member_list(struct dd_db *db, const char *account_region, const char *group, bool recursive,
				const char *after, int limit, dd_store_groups_name_fn fn, void *ud)
{
	struct dd_stmt *st = recursive
		? dd_db_stmt(db,
			"WITH RECURSIVE sub(name) AS (SELECT name FROM thing_groups WHERE account_region = ?1 AND name = ?2"
			" UNION SELECT g.name FROM thing_groups g JOIN sub ON g.parent = sub.name"
			" WHERE g.account_region = ?1) SELECT DISTINCT thing_name FROM thing_group_members WHERE account_region = ?1"
			" AND group_name IN (SELECT name FROM sub) AND thing_name > ?3 ORDER BY thing_name LIMIT ?4")
		: dd_db_stmt(db,
			"SELECT thing_name FROM thing_group_members WHERE account_region = ?1 AND group_name = ?2 AND thing_name > ?3"
			" ORDER BY thing_name LIMIT ?4");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account_region);
	dd_bind_text(st, 2, group);
	dd_bind_text(st, 3, after ? after : "");
	dd_bind_int64(st, 4, limit > 0 ? limit : INT64_MAX);
	return list_names(st, fn, ud);
}

int dd_store_groups_member_list_groups(struct dd_db *db, const char *account_region, const char *thing,
				       const char *after, int limit, dd_store_groups_name_fn fn, void *ud)
{
	struct dd_stmt *st = dd_db_stmt(db,
		"SELECT group_name FROM thing_group_members WHERE account_region = ?1 AND thing_name = ?2 AND group_name > ?3"
		" ORDER BY group_name LIMIT ?4");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account_region);
	dd_bind_text(st, 2, thing);
	dd_bind_text(st, 3, after ? after : "");
	dd_bind_int64(st, 4, limit > 0 ? limit : INT64_MAX);
	return list_names(st, fn, ud);
}

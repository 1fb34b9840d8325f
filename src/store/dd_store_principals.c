/* SPDX-License-Identifier: Apache-2.0 */
/*
 * SQLite implementation of dd_store_principals.h over thing_principals, policy_targets
 * and (for the existence of a policy) policies. Thing groups are the targets whose ARN
 * names a thing group (arn:…:thinggroup/…).
 */
#include "store/dd_store_int.h"
#include "store/dd_store_principals.h"

#include <stddef.h>

#include "dd/store.h"

static int list_pairs(struct dd_stmt *st, bool typed, dd_store_principals_fn fn, void *ud)
{
	int r, rc = 0;
	while ((r = dd_stmt_step(st)) == DD_STMT_ROW)
		if ((rc = fn(dd_col_text(st, 0), typed ? dd_col_text(st, 1) : "", ud)))
			break;
	if (!rc && r != DD_STMT_DONE)
		rc = DD_EIO;
	dd_stmt_reset(st);
	return rc;
}

int dd_store_principals_thing_count(struct dd_db *db, const char *account_region, const char *thing, int64_t *n)
{
	struct dd_stmt *st = dd_db_stmt(db, "SELECT count(*) FROM thing_principals WHERE account_region = ?1 AND thing_name = ?2");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account_region);
	dd_bind_text(st, 2, thing);
	int r = dd_stmt_step(st);
	if (r == DD_STMT_ROW)
		*n = dd_col_int64(st, 0);
	dd_stmt_reset(st);
	return r == DD_STMT_ROW ? 0 : DD_EIO;
}

static int typed_list(struct dd_db *db, const char *sql, const char *account_region, const char *key, const char *type,
		      const char *after, int limit, dd_store_principals_fn fn, void *ud)
{
	struct dd_stmt *st = dd_db_stmt(db, sql);
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account_region);
	dd_bind_text(st, 2, key);
	dd_bind_text(st, 3, after ? after : "");
	dd_bind_text(st, 4, type);
	dd_bind_int64(st, 5, limit > 0 ? limit : INT64_MAX);
	return list_pairs(st, true, fn, ud);
}

int dd_store_principals_of_thing(struct dd_db *db, const char *account_region, const char *thing, const char *type,
				 const char *after, int limit, dd_store_principals_fn fn, void *ud)
{
	return typed_list(db,
			  "SELECT principal, type FROM thing_principals WHERE account_region = ?1 AND thing_name = ?2"
			  " AND principal > ?3 AND (?4 IS NULL OR type = ?4) ORDER BY principal LIMIT ?5",
			  account_region, thing, type, after, limit, fn, ud);
}

int dd_store_principals_things_of(struct dd_db *db, const char *account_region, const char *principal, const char *type,
				  const char *after, int limit, dd_store_principals_fn fn, void *ud)
{
	return typed_list(db,
			  "SELECT thing_name, type FROM thing_principals WHERE account_region = ?1 AND principal = ?2"
			  " AND thing_name > ?3 AND (?4 IS NULL OR type = ?4) ORDER BY thing_name LIMIT ?5",
			  account_region, principal, type, after, limit, fn, ud);
}

static int ordered_list(struct dd_db *db, const char *sql_asc, const char *sql_desc, const char *account_region,
			const char *key, bool ascending, const char *after, int limit, dd_store_principals_fn fn, void *ud)
{
	struct dd_stmt *st = dd_db_stmt(db, ascending ? sql_asc : sql_desc);
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account_region);
	dd_bind_text(st, 2, key);
	/* the first descending page starts after every key */
	if (ascending || (after && after[0]))
		dd_bind_text(st, 3, after ? after : "");
	dd_bind_int64(st, 4, limit > 0 ? limit : INT64_MAX);
	return list_pairs(st, false, fn, ud);
}

int dd_store_principals_policies_of(struct dd_db *db, const char *account_region, const char *target, bool ascending,
				    const char *after, int limit, dd_store_principals_fn fn, void *ud)
{
	return ordered_list(db,
			    "SELECT policy_name FROM policy_targets WHERE account_region = ?1 AND target = ?2 AND policy_name > ?3"
			    " ORDER BY policy_name LIMIT ?4",
			    "SELECT policy_name FROM policy_targets WHERE account_region = ?1 AND target = ?2"
			    " AND (?3 IS NULL OR policy_name < ?3) ORDER BY policy_name DESC LIMIT ?4",
			    account_region, target, ascending, after, limit, fn, ud);
}

int dd_store_principals_of_policy(struct dd_db *db, const char *account_region, const char *policy, bool ascending,
				  const char *after, int limit, dd_store_principals_fn fn, void *ud)
{
	return ordered_list(db,
			    "SELECT target FROM policy_targets WHERE account_region = ?1 AND policy_name = ?2 AND target > ?3"
			    " AND target NOT LIKE 'arn:%:thinggroup/%' ORDER BY target LIMIT ?4",
			    "SELECT target FROM policy_targets WHERE account_region = ?1 AND policy_name = ?2"
			    " AND (?3 IS NULL OR target < ?3) AND target NOT LIKE 'arn:%:thinggroup/%' ORDER BY target DESC LIMIT ?4",
			    account_region, policy, ascending, after, limit, fn, ud);
}

int dd_store_principals_policy_exists(struct dd_db *db, const char *account_region, const char *policy)
{
	struct dd_stmt *st = dd_db_stmt(db, "SELECT 1 FROM policies WHERE account_region = ?1 AND name = ?2");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account_region);
	dd_bind_text(st, 2, policy);
	int r = dd_stmt_step(st);
	dd_stmt_reset(st);
	return r == DD_STMT_ROW ? 1 : r == DD_STMT_DONE ? 0 : DD_EIO;
}

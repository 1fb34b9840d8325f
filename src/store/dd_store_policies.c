/* SPDX-License-Identifier: Apache-2.0 */
/*
 * SQLite implementation of the policy aggregate (store/dd_store_policies.h): the tables
 * policies, policy_versions, policy_targets and thing_principals, and read-only lookups in
 * certificates, thing_groups, thing_group_members and things. Each function runs its
 * statements on the caller's connection, inside the caller's transaction when one is open.
 */
#include "store/dd_store_int.h"
#include "store/dd_store_policies.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dd/store.h"

/* Steps a one-row query whose column 0 is a count; *n = 0 when there is no row. */
static int count_of(struct dd_stmt *st, int64_t *n)
{
	int r = dd_stmt_step(st);
	*n = r == DD_STMT_ROW ? dd_col_int64(st, 0) : 0;
	dd_stmt_reset(st);
	return r == DD_STMT_ROW || r == DD_STMT_DONE ? 0 : DD_EIO;
}

struct name_cb {
	dd_store_policies_name_fn fn;
	void *ud;
};

static int name_row(struct dd_stmt *st, void *ctx)
{
	const struct name_cb *c = ctx;
	return c->fn(c->ud, dd_col_text(st, 0));
}

/* Steps a query of names (column 0), calling fn for each. */
static int names_of(struct dd_stmt *st, dd_store_policies_name_fn fn, void *ud)
{
	return dd_stmt_each(st, name_row, &(struct name_cb){ fn, ud }, DD_EACH_LIST);
}

/* Steps a query that may return one row; *yes when it does. */
static int exists_of(struct dd_stmt *st, bool *yes)
{
	int r = dd_stmt_step(st);
	*yes = r == DD_STMT_ROW;
	dd_stmt_reset(st);
	return r == DD_STMT_ROW || r == DD_STMT_DONE ? 0 : DD_EIO;
}

static int changed(struct dd_db *db)
{
	return dd_db_changes(db) > 0 ? 0 : DD_ENOTFOUND;
}

int dd_store_policies_get(struct dd_db *db, const char *ar, const char *name, struct dd_store_policies_row *out)
{
	memset(out, 0, sizeof *out);
	struct dd_stmt *st = dd_db_stmt(db, "SELECT default_version, next_version, created, modified, generation_id"
					  " FROM policies WHERE account_region = ?1 AND name = ?2");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, ar);
	dd_bind_text(st, 2, name);
	int r = dd_stmt_step(st);
	if (r == DD_STMT_ROW) {
		out->default_version = dd_col_int64(st, 0);
		out->next_version = dd_col_int64(st, 1);
		out->created = dd_col_int64(st, 2);
		out->modified = dd_col_int64(st, 3);
		snprintf(out->generation_id, sizeof out->generation_id, "%s", dd_col_text(st, 4));
	}
	dd_stmt_reset(st);
	if (r == DD_STMT_ROW)
		return 0;
	return r == DD_STMT_DONE ? DD_ENOTFOUND : DD_EIO;
}

static int version_insert(struct dd_db *db, const char *ar, const char *name, int64_t version, const char *doc,
			  int64_t now_ms)
{
	struct dd_stmt *st = dd_db_stmt(db, "INSERT INTO policy_versions(account_region, policy_name, version, document, created)"
					  " VALUES (?1, ?2, ?3, ?4, ?5)");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, ar);
	dd_bind_text(st, 2, name);
	dd_bind_int64(st, 3, version);
	dd_bind_text(st, 4, doc);
	dd_bind_int64(st, 5, now_ms);
	return dd_step_done(st);
}

int dd_store_policies_insert(struct dd_db *db, const char *ar, const char *name, const char *doc,
			     const char *generation_id, int64_t now_ms)
{
	struct dd_stmt *st = dd_db_stmt(db, "INSERT INTO policies(account_region, name, default_version, next_version,"
					  " created, modified, generation_id) VALUES (?1, ?2, 1, 2, ?3, ?3, ?4) ON CONFLICT DO NOTHING");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, ar);
	dd_bind_text(st, 2, name);
	dd_bind_int64(st, 3, now_ms);
	dd_bind_text(st, 4, generation_id);
	int rc = dd_step_done(st);
	if (rc)
		return rc;
	if (changed(db))
		return DD_EEXIST;
	return version_insert(db, ar, name, 1, doc, now_ms);
}

int dd_store_policies_delete(struct dd_db *db, const char *ar, const char *name)
{
	struct dd_stmt *st = dd_db_stmt(db, "DELETE FROM policies WHERE account_region = ?1 AND name = ?2");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, ar);
	dd_bind_text(st, 2, name);
	int rc = dd_step_done(st);
	if (rc)
		return rc;
	if (changed(db))
		return DD_ENOTFOUND;
	st = dd_db_stmt(db, "DELETE FROM policy_versions WHERE account_region = ?1 AND policy_name = ?2");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, ar);
	dd_bind_text(st, 2, name);
	return dd_step_done(st);
}

int dd_store_policies_list(struct dd_db *db, const char *ar, const char *after, bool ascending, int limit,
			   dd_store_policies_name_fn fn, void *ud)
{
	struct dd_stmt *st =
		ascending ? dd_db_stmt(db, "SELECT name FROM policies WHERE account_region = ?1 AND name > ?2 ORDER BY name LIMIT ?3")
			  : dd_db_stmt(db, "SELECT name FROM policies WHERE account_region = ?1 AND (?2 = '' OR name < ?2)"
					   " ORDER BY name DESC LIMIT ?3");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, ar);
	dd_bind_text(st, 2, after ? after : "");
	dd_bind_int64(st, 3, limit);
	return names_of(st, fn, ud);
}

int dd_store_policies_versions_count(struct dd_db *db, const char *ar, const char *name, int64_t *n)
{
	struct dd_stmt *st = dd_db_stmt(db, "SELECT count(*) FROM policy_versions WHERE account_region = ?1 AND policy_name = ?2");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, ar);
	dd_bind_text(st, 2, name);
	return count_of(st, n);
}

int dd_store_policies_version_add(struct dd_db *db, const char *ar, const char *name, const char *doc, bool set_default,
				  const char *generation_id, int64_t now_ms, int64_t *version)
{
	struct dd_store_policies_row p;
	int rc = dd_store_policies_get(db, ar, name, &p);
	if (rc)
		return rc;
	struct dd_stmt *st = dd_db_stmt(db, "UPDATE policies SET next_version = next_version + 1, modified = ?3, generation_id = ?5,"
					  " default_version = CASE WHEN ?4 <> 0 THEN next_version ELSE default_version END"
					  " WHERE account_region = ?1 AND name = ?2");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, ar);
	dd_bind_text(st, 2, name);
	dd_bind_int64(st, 3, now_ms);
	dd_bind_int64(st, 4, set_default);
	dd_bind_text(st, 5, generation_id);
	rc = dd_step_done(st);
	if (!rc)
		rc = version_insert(db, ar, name, p.next_version, doc, now_ms);
	if (!rc)
		*version = p.next_version;
	return rc;
}

int dd_store_policies_version_get(struct dd_db *db, const char *ar, const char *name, int64_t version, char **doc,
				  int64_t *created)
{
	*doc = NULL;
	struct dd_stmt *st = dd_db_stmt(db, "SELECT document, created FROM policy_versions"
					  " WHERE account_region = ?1 AND policy_name = ?2 AND version = ?3");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, ar);
	dd_bind_text(st, 2, name);
	dd_bind_int64(st, 3, version);
	int r = dd_stmt_step(st), rc = 0;
	if (r == DD_STMT_ROW) {
		*doc = strdup(dd_col_text(st, 0));
		if (!*doc)
			rc = DD_ENOMEM;
		if (created)
			*created = dd_col_int64(st, 1);
	} else
		rc = r == DD_STMT_DONE ? DD_ENOTFOUND : DD_EIO;
	dd_stmt_reset(st);
	return rc;
}

int dd_store_policies_default_doc(struct dd_db *db, const char *ar, const char *name, char **doc)
{
	*doc = NULL;
	struct dd_store_policies_row p;
	int rc = dd_store_policies_get(db, ar, name, &p);
	return rc ? rc : dd_store_policies_version_get(db, ar, name, p.default_version, doc, NULL);
}

struct version_cb {
	dd_store_policies_version_fn fn;
	void *ud;
};

static int version_row(struct dd_stmt *st, void *ctx)
{
	const struct version_cb *c = ctx;
	return c->fn(c->ud, dd_col_int64(st, 0), dd_col_int64(st, 1));
}

int dd_store_policies_versions_list(struct dd_db *db, const char *ar, const char *name, dd_store_policies_version_fn fn,
				    void *ud)
{
	struct dd_stmt *st = dd_db_stmt(db, "SELECT version, created FROM policy_versions WHERE account_region = ?1"
					  " AND policy_name = ?2 ORDER BY version DESC");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, ar);
	dd_bind_text(st, 2, name);
	return dd_stmt_each(st, version_row, &(struct version_cb){ fn, ud }, DD_EACH_LIST);
}

int dd_store_policies_version_set_default(struct dd_db *db, const char *ar, const char *name, int64_t version,
					  const char *generation_id, int64_t now_ms)
{
	struct dd_stmt *st = dd_db_stmt(db, "UPDATE policies SET default_version = ?3, modified = ?4, generation_id = ?5"
					  " WHERE account_region = ?1 AND name = ?2");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, ar);
	dd_bind_text(st, 2, name);
	dd_bind_int64(st, 3, version);
	dd_bind_int64(st, 4, now_ms);
	dd_bind_text(st, 5, generation_id);
	int rc = dd_step_done(st);
	return rc ? rc : changed(db);
}

int dd_store_policies_version_delete(struct dd_db *db, const char *ar, const char *name, int64_t version)
{
	struct dd_stmt *st = dd_db_stmt(db, "DELETE FROM policy_versions WHERE account_region = ?1 AND policy_name = ?2 AND version = ?3");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, ar);
	dd_bind_text(st, 2, name);
	dd_bind_int64(st, 3, version);
	int rc = dd_step_done(st);
	return rc ? rc : changed(db);
}

/* ---- targets ----------------------------------------------------------------------- */

static int target_exec(struct dd_db *db, const char *sql, const char *ar, const char *name, const char *target)
{
	struct dd_stmt *st = dd_db_stmt(db, sql);
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, ar);
	dd_bind_text(st, 2, name);
	dd_bind_text(st, 3, target);
	return dd_step_done(st);
}

int dd_store_policies_attach(struct dd_db *db, const char *ar, const char *name, const char *target)
{
	return target_exec(db, "INSERT INTO policy_targets(account_region, policy_name, target) VALUES (?1, ?2, ?3)"
			  " ON CONFLICT DO NOTHING",
			   ar, name, target);
}

int dd_store_policies_detach(struct dd_db *db, const char *ar, const char *name, const char *target)
{
	return target_exec(db, "DELETE FROM policy_targets WHERE account_region = ?1 AND policy_name = ?2 AND target = ?3", ar,
			   name, target);
}

int dd_store_policies_targets_count(struct dd_db *db, const char *ar, const char *name, int64_t *n)
{
	struct dd_stmt *st = dd_db_stmt(db, "SELECT count(*) FROM policy_targets WHERE account_region = ?1 AND policy_name = ?2");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, ar);
	dd_bind_text(st, 2, name);
	return count_of(st, n);
}

int dd_store_policies_target_policies_count(struct dd_db *db, const char *ar, const char *target, const char *except,
					    int64_t *n)
{
	struct dd_stmt *st = dd_db_stmt(db, "SELECT count(*) FROM policy_targets WHERE account_region = ?1 AND target = ?2"
					  " AND (?3 IS NULL OR policy_name <> ?3)");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, ar);
	dd_bind_text(st, 2, target);
	dd_bind_text(st, 3, except);
	return count_of(st, n);
}

int dd_store_policies_targets_list(struct dd_db *db, const char *ar, const char *name, const char *after, int limit,
				   dd_store_policies_name_fn fn, void *ud)
{
	struct dd_stmt *st = dd_db_stmt(db, "SELECT target FROM policy_targets WHERE account_region = ?1 AND policy_name = ?2"
					  " AND target > ?3 ORDER BY target LIMIT ?4");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, ar);
	dd_bind_text(st, 2, name);
	dd_bind_text(st, 3, after ? after : "");
	dd_bind_int64(st, 4, limit);
	return names_of(st, fn, ud);
}

int dd_store_policies_target_policies(struct dd_db *db, const char *ar, const char *target, dd_store_policies_name_fn fn,
				      void *ud)
{
	struct dd_stmt *st = dd_db_stmt(db, "SELECT policy_name FROM policy_targets WHERE account_region = ?1 AND target = ?2"
					  " ORDER BY policy_name");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, ar);
	dd_bind_text(st, 2, target);
	return names_of(st, fn, ud);
}

/* ---- thing principals -------------------------------------------------------------- */

int dd_store_policies_principal_attach(struct dd_db *db, const char *ar, const char *thing, const char *principal,
				       const char *type)
{
	struct dd_stmt *st = dd_db_stmt(db, "INSERT INTO thing_principals(account_region, thing_name, principal, type)"
					  " VALUES (?1, ?2, ?3, ?4) ON CONFLICT(account_region, thing_name, principal)"
					  " DO UPDATE SET type = excluded.type");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, ar);
	dd_bind_text(st, 2, thing);
	dd_bind_text(st, 3, principal);
	dd_bind_text(st, 4, type);
	return dd_step_done(st);
}

int dd_store_policies_principal_detach(struct dd_db *db, const char *ar, const char *thing, const char *principal)
{
	return target_exec(db, "DELETE FROM thing_principals WHERE account_region = ?1 AND thing_name = ?2 AND principal = ?3", ar,
			   thing, principal);
}

int dd_store_policies_principal_attached(struct dd_db *db, const char *ar, const char *thing, const char *principal,
					 bool *yes)
{
	struct dd_stmt *st = dd_db_stmt(db, "SELECT 1 FROM thing_principals WHERE account_region = ?1 AND thing_name = ?2"
					  " AND principal = ?3");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, ar);
	dd_bind_text(st, 2, thing);
	dd_bind_text(st, 3, principal);
	return exists_of(st, yes);
}

int dd_store_policies_principal_things_count(struct dd_db *db, const char *ar, const char *principal,
					     const char *except, int64_t *n)
{
	struct dd_stmt *st = dd_db_stmt(db, "SELECT count(*) FROM thing_principals WHERE account_region = ?1 AND principal = ?2"
					  " AND (?3 IS NULL OR thing_name <> ?3)");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, ar);
	dd_bind_text(st, 2, principal);
	dd_bind_text(st, 3, except);
	return count_of(st, n);
}

int dd_store_policies_principal_things(struct dd_db *db, const char *ar, const char *principal, const char *after,
				       int limit, dd_store_policies_name_fn fn, void *ud)
{
	struct dd_stmt *st = dd_db_stmt(db, "SELECT thing_name FROM thing_principals WHERE account_region = ?1 AND principal = ?2"
					  " AND thing_name > ?3 ORDER BY thing_name LIMIT ?4");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, ar);
	dd_bind_text(st, 2, principal);
	dd_bind_text(st, 3, after ? after : "");
	dd_bind_int64(st, 4, limit);
	return names_of(st, fn, ud);
}

int dd_store_policies_thing_principals(struct dd_db *db, const char *ar, const char *thing, const char *after,
				       int limit, dd_store_policies_name_fn fn, void *ud)
{
	struct dd_stmt *st = dd_db_stmt(db, "SELECT principal FROM thing_principals WHERE account_region = ?1 AND thing_name = ?2"
					  " AND principal > ?3 ORDER BY principal LIMIT ?4");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, ar);
	dd_bind_text(st, 2, thing);
	dd_bind_text(st, 3, after ? after : "");
	dd_bind_int64(st, 4, limit);
	return names_of(st, fn, ud);
}

/* ---- reads of neighbouring aggregates ---------------------------------------------- */

int dd_store_policies_cert_exists(struct dd_db *db, const char *ar, const char *id, bool *yes)
{
	struct dd_stmt *st = dd_db_stmt(db, "SELECT 1 FROM certificates WHERE account_region = ?1 AND id = ?2");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, ar);
	dd_bind_text(st, 2, id);
	return exists_of(st, yes);
}

int dd_store_policies_group_exists(struct dd_db *db, const char *ar, const char *group, bool *yes)
{
	struct dd_stmt *st = dd_db_stmt(db, "SELECT 1 FROM thing_groups WHERE account_region = ?1 AND name = ?2");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, ar);
	dd_bind_text(st, 2, group);
	return exists_of(st, yes);
}

int dd_store_policies_group_parent(struct dd_db *db, const char *ar, const char *group, char *parent, size_t parentlen)
{
	parent[0] = '\0';
	struct dd_stmt *st = dd_db_stmt(db, "SELECT parent FROM thing_groups WHERE account_region = ?1 AND name = ?2");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, ar);
	dd_bind_text(st, 2, group);
	int r = dd_stmt_step(st);
	if (r == DD_STMT_ROW)
		snprintf(parent, parentlen, "%s", dd_col_text(st, 0));
	dd_stmt_reset(st);
	return r == DD_STMT_ROW || r == DD_STMT_DONE ? 0 : DD_EIO;
}

int dd_store_policies_thing_groups(struct dd_db *db, const char *ar, const char *thing, dd_store_policies_name_fn fn,
				   void *ud)
{
	struct dd_stmt *st = dd_db_stmt(db, "SELECT group_name FROM thing_group_members WHERE account_region = ?1 AND thing_name = ?2");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, ar);
	dd_bind_text(st, 2, thing);
	return names_of(st, fn, ud);
}

int dd_store_policies_thing_info(struct dd_db *db, const char *ar, const char *thing, char *type, size_t typelen,
				 char **attributes)
{
	*attributes = NULL;
	type[0] = '\0';
	struct dd_stmt *st = dd_db_stmt(db, "SELECT type_name, attributes FROM things WHERE account_region = ?1 AND name = ?2");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, ar);
	dd_bind_text(st, 2, thing);
	int r = dd_stmt_step(st), rc = 0;
	if (r == DD_STMT_ROW) {
		snprintf(type, typelen, "%s", dd_col_text(st, 0));
		*attributes = strdup(dd_col_text(st, 1));
		if (!*attributes)
			rc = DD_ENOMEM;
	} else
		rc = r == DD_STMT_DONE ? DD_ENOTFOUND : DD_EIO;
	dd_stmt_reset(st);
	return rc;
}

int dd_store_policies_cert_subject(struct dd_db *db, const char *ar, const char *id, char *cn, size_t cnlen, char *serial,
				   size_t seriallen)
{
	cn[0] = serial[0] = '\0';
	struct dd_stmt *st = dd_db_stmt(db, "SELECT subject_cn, serial FROM certificates WHERE account_region = ?1 AND id = ?2");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, ar);
	dd_bind_text(st, 2, id);
	int r = dd_stmt_step(st);
	if (r == DD_STMT_ROW) {
		snprintf(cn, cnlen, "%s", dd_col_text(st, 0));
		snprintf(serial, seriallen, "%s", dd_col_text(st, 1));
	}
	dd_stmt_reset(st);
	if (r == DD_STMT_ROW)
		return 0;
	return r == DD_STMT_DONE ? DD_ENOTFOUND : DD_EIO;
}

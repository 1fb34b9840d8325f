/* SPDX-License-Identifier: Apache-2.0 */
/*
 * SQLite implementation of the IAM users, groups and access keys store
 * (dd_store_iam_users.h). Users and groups have parallel tables (iam_users / iam_groups;
 * their inline policies and attachments are written by dd_store_iam.c's principal
 * functions and only read together here, for what applies to a user): the statements of each kind are string literals in one table indexed by the kind, as
 * the statement cache keys on the literal's address. Names are COLLATE NOCASE columns,
 * which gives IAM's case-insensitive names.
 */
#include "store/dd_store_int.h"
#include "store/dd_store_iam_users.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dd/store.h"

struct kind_sql {
	const char *get, *count, *insert, *delete, *deps;
};

#define KIND_SQL(T, IDCOL, DEPS)                                                                                \
	{ "SELECT name, " IDCOL ", path, created FROM " T " WHERE account = ?1 AND name = ?2",                 \
	  "SELECT count(*) FROM " T " WHERE account = ?1",                                                      \
	  "INSERT INTO " T "(account, name, " IDCOL ", path, created) VALUES (?1, ?2, ?3, ?4, ?5)",            \
	  "DELETE FROM " T " WHERE account = ?1 AND name = ?2",                                                 \
	  DEPS }

static const struct kind_sql SQL[] = {
	[DD_STORE_IAM_USER] = KIND_SQL("iam_users", "user_id",
		"SELECT (SELECT count(*) FROM iam_access_keys WHERE account = ?1 AND user_name = ?2),"
		" (SELECT count(*) FROM iam_user_policies WHERE account = ?1 AND user_name = ?2),"
		" (SELECT count(*) FROM iam_user_attachments WHERE account = ?1 AND user_name = ?2),"
		" (SELECT count(*) FROM iam_group_members WHERE account = ?1 AND user_name = ?2)"),
	[DD_STORE_IAM_GROUP] = KIND_SQL("iam_groups", "group_id",
		"SELECT 0,"
		" (SELECT count(*) FROM iam_group_policies WHERE account = ?1 AND group_name = ?2),"
		" (SELECT count(*) FROM iam_group_attachments WHERE account = ?1 AND group_name = ?2),"
		" (SELECT count(*) FROM iam_group_members WHERE account = ?1 AND group_name = ?2)"),
};

/* The statements of kind; NULL for a role (not an entity of this store). */
static const struct kind_sql *sql_of(enum dd_store_iam_kind kind)
{
	return kind == DD_STORE_IAM_USER || kind == DD_STORE_IAM_GROUP ? &SQL[kind] : NULL;
}

/* Runs a statement of one count(*) row with up to three text parameters. */
static int count3(struct dd_db *db, const char *sql, const char *a1, const char *a2, const char *a3, int64_t *n)
{
	struct dd_stmt *st = dd_db_stmt(db, sql);
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, a1);
	if (a2)
		dd_bind_text(st, 2, a2);
	if (a3)
		dd_bind_text(st, 3, a3);
	int rc = dd_stmt_step(st);
	if (rc == DD_STMT_ROW)
		*n = dd_col_int64(st, 0);
	dd_stmt_reset(st);
	return rc == DD_STMT_ROW ? 0 : DD_EIO;
}

/* Runs a write of three text parameters; DD_ENOTFOUND when it changed no row and
 * must_change is set. */
static int write3(struct dd_db *db, const char *sql, const char *a1, const char *a2, const char *a3, bool must_change)
{
	struct dd_stmt *st = dd_db_stmt(db, sql);
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, a1);
	dd_bind_text(st, 2, a2);
	if (a3)
		dd_bind_text(st, 3, a3);
	int rc = dd_step_done(st);
	if (!rc && must_change && dd_db_changes(db) == 0)
		rc = DD_ENOTFOUND;
	return rc;
}

struct text_cb {
	dd_store_iam_users_text_fn fn;
	void *ud;
};

static int text_row(struct dd_stmt *st, void *ctx)
{
	const struct text_cb *c = ctx;
	return c->fn(dd_col_text(st, 0), c->ud);
}

/* Steps st calling fn with column 0 text; resets st. */
static int each_text(struct dd_stmt *st, dd_store_iam_users_text_fn fn, void *ud)
{
	return dd_stmt_each(st, text_row, &(struct text_cb){ fn, ud }, DD_EACH_LIST);
}

/* Reads an entity row (name, id, path, created). */
static void entity_row(struct dd_stmt *st, struct dd_store_iam_users_entity *e)
{
	snprintf(e->name, sizeof e->name, "%s", dd_col_text(st, 0));
	snprintf(e->id, sizeof e->id, "%s", dd_col_text(st, 1));
	snprintf(e->path, sizeof e->path, "%s", dd_col_text(st, 2));
	e->created_ms = dd_col_int64(st, 3);
}

struct entity_cb {
	dd_store_iam_users_entity_fn fn;
	void *ud;
};

static int entity_each_row(struct dd_stmt *st, void *ctx)
{
	const struct entity_cb *c = ctx;
	struct dd_store_iam_users_entity e;
	entity_row(st, &e);
	return c->fn(&e, c->ud);
}

static int each_entity(struct dd_stmt *st, dd_store_iam_users_entity_fn fn, void *ud)
{
	return dd_stmt_each(st, entity_each_row, &(struct entity_cb){ fn, ud }, DD_EACH_LIST);
}

int dd_store_iam_users_entity_get(struct dd_db *db, enum dd_store_iam_kind kind, const char *account,
				  const char *name, struct dd_store_iam_users_entity *out)
{
	const struct kind_sql *ks = sql_of(kind);
	if (!ks)
		return DD_EINVAL;
	struct dd_stmt *st = dd_db_stmt(db, ks->get);
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account);
	dd_bind_text(st, 2, name ? name : "");
	int rc = dd_stmt_step(st);
	if (rc == DD_STMT_ROW)
		entity_row(st, out);
	dd_stmt_reset(st);
	return rc == DD_STMT_ROW ? 0 : rc == DD_STMT_DONE ? DD_ENOTFOUND : DD_EIO;
}

int dd_store_iam_users_entity_count(struct dd_db *db, enum dd_store_iam_kind kind, const char *account, int64_t *n)
{
	const struct kind_sql *ks = sql_of(kind);
	return ks ? count3(db, ks->count, account, NULL, NULL, n) : DD_EINVAL;
}

int dd_store_iam_users_entity_insert(struct dd_db *db, enum dd_store_iam_kind kind, const char *account,
				     const struct dd_store_iam_users_entity *e)
{
	const struct kind_sql *ks = sql_of(kind);
	if (!ks)
		return DD_EINVAL;
	struct dd_stmt *st = dd_db_stmt(db, ks->insert);
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account);
	dd_bind_text(st, 2, e->name);
	dd_bind_text(st, 3, e->id);
	dd_bind_text(st, 4, e->path);
	dd_bind_int64(st, 5, e->created_ms);
	return dd_step_done(st);
}

int dd_store_iam_users_entity_delete(struct dd_db *db, enum dd_store_iam_kind kind, const char *account,
				     const char *name)
{
	const struct kind_sql *ks = sql_of(kind);
	return ks ? write3(db, ks->delete, account, name, NULL, true) : DD_EINVAL;
}

int dd_store_iam_users_entity_deps(struct dd_db *db, enum dd_store_iam_kind kind, const char *account,
				   const char *name, struct dd_store_iam_users_deps *out)
{
	const struct kind_sql *ks = sql_of(kind);
	if (!ks)
		return DD_EINVAL;
	struct dd_stmt *st = dd_db_stmt(db, ks->deps);
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account);
	dd_bind_text(st, 2, name);
	int rc = dd_stmt_step(st);
	if (rc == DD_STMT_ROW) {
		out->access_keys = dd_col_int64(st, 0);
		out->inline_policies = dd_col_int64(st, 1);
		out->attached_policies = dd_col_int64(st, 2);
		out->memberships = dd_col_int64(st, 3);
	}
	dd_stmt_reset(st);
	return rc == DD_STMT_ROW ? 0 : DD_EIO;
}

int dd_store_iam_users_user_list(struct dd_db *db, const char *account, const char *path_prefix, const char *after,
				 int limit, dd_store_iam_users_entity_fn fn, void *ud)
{
	struct dd_stmt *st = dd_db_stmt(db, "SELECT name, user_id, path, created FROM iam_users WHERE account = ?1"
					  " AND name > ?2 AND substr(path, 1, length(?3)) = ?3 ORDER BY name LIMIT ?4");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account);
	dd_bind_text(st, 2, after ? after : "");
	dd_bind_text(st, 3, path_prefix ? path_prefix : "/");
	dd_bind_int64(st, 4, limit);
	return each_entity(st, fn, ud);
}

/* ---- group memberships ---------------------------------------------------------------- */

int dd_store_iam_users_group_members(struct dd_db *db, const char *account, const char *group, const char *after,
				     int limit, dd_store_iam_users_entity_fn fn, void *ud)
{
	struct dd_stmt *st = dd_db_stmt(db, "SELECT u.name, u.user_id, u.path, u.created FROM iam_group_members m JOIN iam_users u"
					  " ON u.account = m.account AND u.name = m.user_name WHERE m.account = ?1 AND m.group_name = ?2"
					  " AND u.name > ?3 ORDER BY u.name LIMIT ?4");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account);
	dd_bind_text(st, 2, group);
	dd_bind_text(st, 3, after ? after : "");
	dd_bind_int64(st, 4, limit);
	return each_entity(st, fn, ud);
}

int dd_store_iam_users_user_groups(struct dd_db *db, const char *account, const char *user, const char *after,
				   int limit, dd_store_iam_users_entity_fn fn, void *ud)
{
	struct dd_stmt *st = dd_db_stmt(db, "SELECT g.name, g.group_id, g.path, g.created FROM iam_group_members m JOIN iam_groups g"
					  " ON g.account = m.account AND g.name = m.group_name WHERE m.account = ?1 AND m.user_name = ?2"
					  " AND g.name > ?3 ORDER BY g.name LIMIT ?4");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account);
	dd_bind_text(st, 2, user);
	dd_bind_text(st, 3, after ? after : "");
	dd_bind_int64(st, 4, limit);
	return each_entity(st, fn, ud);
}

int dd_store_iam_users_membership_count(struct dd_db *db, const char *account, const char *user,
					const char *except_group, int64_t *n)
{
	/* the column before "?3 IS NULL": PostgreSQL gives ?3 the column's case-insensitive type */
	struct dd_stmt *st = dd_db_stmt(db, "SELECT count(*) FROM iam_group_members WHERE account = ?1 AND user_name = ?2"
					  " AND (group_name <> ?3 OR ?3 IS NULL)");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account);
	dd_bind_text(st, 2, user);
	dd_bind_text(st, 3, except_group);
	int rc = dd_stmt_step(st);
	if (rc == DD_STMT_ROW)
		*n = dd_col_int64(st, 0);
	dd_stmt_reset(st);
	return rc == DD_STMT_ROW ? 0 : DD_EIO;
}

int dd_store_iam_users_membership_add(struct dd_db *db, const char *account, const char *group, const char *user)
{
	return write3(db, "INSERT INTO iam_group_members(account, group_name, user_name) VALUES (?1, ?2, ?3)"
			  " ON CONFLICT DO NOTHING",
		      account, group, user, false);
}

int dd_store_iam_users_membership_remove(struct dd_db *db, const char *account, const char *group, const char *user)
{
	return write3(db, "DELETE FROM iam_group_members WHERE account = ?1 AND group_name = ?2 AND user_name = ?3",
		      account, group, user, true);
}

/* ---- what applies to a user -------------------------------------------------------------- */

struct doc_cb {
	dd_store_iam_users_doc_fn fn;
	void *ud;
};

static int doc_row(struct dd_stmt *st, void *ctx)
{
	const struct doc_cb *c = ctx;
	return c->fn(dd_col_text(st, 0), dd_col_text(st, 1), c->ud);
}

int dd_store_iam_users_user_inline_documents(struct dd_db *db, const char *account, const char *user,
					     dd_store_iam_users_doc_fn fn, void *ud)
{
	struct dd_stmt *st = dd_db_stmt(db, "SELECT policy_name, document FROM iam_user_policies WHERE account = ?1 AND user_name = ?2"
					  " UNION ALL SELECT p.policy_name, p.document FROM iam_group_members m JOIN iam_group_policies p"
					  " ON p.account = m.account AND p.group_name = m.group_name WHERE m.account = ?1 AND m.user_name = ?2");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account);
	dd_bind_text(st, 2, user);
	return dd_stmt_each(st, doc_row, &(struct doc_cb){ fn, ud }, DD_EACH_LIST);
}

int dd_store_iam_users_user_attached_arns(struct dd_db *db, const char *account, const char *user,
					  dd_store_iam_users_text_fn fn, void *ud)
{
	struct dd_stmt *st = dd_db_stmt(db, "SELECT policy_arn FROM iam_user_attachments WHERE account = ?1 AND user_name = ?2"
					  " UNION SELECT a.policy_arn FROM iam_group_members m JOIN iam_group_attachments a"
					  " ON a.account = m.account AND a.group_name = m.group_name WHERE m.account = ?1 AND m.user_name = ?2");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account);
	dd_bind_text(st, 2, user);
	return each_text(st, fn, ud);
}

/* ---- access keys ---------------------------------------------------------------------------- */

int dd_store_iam_users_key_count(struct dd_db *db, const char *account, const char *user, int64_t *n)
{
	return count3(db, "SELECT count(*) FROM iam_access_keys WHERE account = ?1 AND user_name = ?2", account, user, NULL, n);
}

int dd_store_iam_users_key_insert(struct dd_db *db, const char *account, const char *user, const char *access_key,
				  const char *secret, int64_t created_ms)
{
	struct dd_stmt *st = dd_db_stmt(db, "INSERT INTO iam_access_keys(access_key, account, user_name, secret, status, created)"
					  " VALUES (?2, ?1, ?3, ?4, 'Active', ?5)");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account);
	dd_bind_text(st, 2, access_key);
	dd_bind_text(st, 3, user);
	dd_bind_text(st, 4, secret);
	dd_bind_int64(st, 5, created_ms);
	return dd_step_done(st);
}

struct key_cb {
	dd_store_iam_users_key_fn fn;
	void *ud;
	const char *account;
};

static int key_row(struct dd_stmt *st, void *ctx)
{
	const struct key_cb *c = ctx;
	struct dd_store_iam_users_key k;
	memset(&k, 0, sizeof k);
	snprintf(k.access_key, sizeof k.access_key, "%s", dd_col_text(st, 0));
	snprintf(k.account, sizeof k.account, "%s", c->account);
	snprintf(k.user, sizeof k.user, "%s", dd_col_text(st, 3));
	k.active = strcmp(dd_col_text(st, 1), "Active") == 0;
	k.created_ms = dd_col_int64(st, 2);
	return c->fn(&k, c->ud);
}

int dd_store_iam_users_key_list(struct dd_db *db, const char *account, const char *user, const char *after, int limit,
				dd_store_iam_users_key_fn fn, void *ud)
{
	struct dd_stmt *st = dd_db_stmt(db, "SELECT access_key, status, created, user_name FROM iam_access_keys WHERE account = ?1"
					  " AND user_name = ?2 AND access_key > ?3 ORDER BY access_key LIMIT ?4");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account);
	dd_bind_text(st, 2, user);
	dd_bind_text(st, 3, after ? after : "");
	dd_bind_int64(st, 4, limit);
	return dd_stmt_each(st, key_row, &(struct key_cb){ fn, ud, account }, DD_EACH_LIST);
}

int dd_store_iam_users_key_set_active(struct dd_db *db, const char *account, const char *user, const char *access_key,
				      bool active)
{
	struct dd_stmt *st = dd_db_stmt(db, "UPDATE iam_access_keys SET status = ?4 WHERE account = ?1 AND user_name = ?2"
					  " AND access_key = ?3");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account);
	dd_bind_text(st, 2, user);
	dd_bind_text(st, 3, access_key ? access_key : "");
	dd_bind_text(st, 4, active ? "Active" : "Inactive");
	int rc = dd_step_done(st);
	if (!rc && dd_db_changes(db) == 0)
		rc = DD_ENOTFOUND;
	return rc;
}

int dd_store_iam_users_key_delete(struct dd_db *db, const char *account, const char *user, const char *access_key)
{
	return write3(db, "DELETE FROM iam_access_keys WHERE account = ?1 AND user_name = ?2 AND access_key = ?3", account,
		      user, access_key ? access_key : "", true);
}

int dd_store_iam_users_key_find(struct dd_db *db, const char *access_key, struct dd_store_iam_users_key *out)
{
	struct dd_stmt *st = dd_db_stmt(db, "SELECT k.account, k.user_name, u.user_id, k.secret, k.status, k.created"
					  " FROM iam_access_keys k JOIN iam_users u ON u.account = k.account"
					  " AND u.name = k.user_name WHERE k.access_key = ?1");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, access_key);
	int rc = dd_stmt_step(st);
	if (rc != DD_STMT_ROW) {
		dd_stmt_reset(st);
		return rc == DD_STMT_DONE ? DD_ENOTFOUND : DD_EIO;
	}
	memset(out, 0, sizeof *out);
	snprintf(out->access_key, sizeof out->access_key, "%s", access_key);
	snprintf(out->account, sizeof out->account, "%s", dd_col_text(st, 0));
	snprintf(out->user, sizeof out->user, "%s", dd_col_text(st, 1));
	snprintf(out->user_id, sizeof out->user_id, "%s", dd_col_text(st, 2));
	snprintf(out->secret, sizeof out->secret, "%s", dd_col_text(st, 3));
	out->active = strcmp(dd_col_text(st, 4), "Active") == 0;
	out->created_ms = dd_col_int64(st, 5);
	dd_stmt_reset(st);
	return 0;
}

struct secret_cb {
	dd_store_iam_users_key_secret_fn fn;
	void *ud;
};

static int secret_row(struct dd_stmt *st, void *ctx)
{
	const struct secret_cb *c = ctx;
	struct dd_store_iam_users_key_secret k = { dd_col_text(st, 0), dd_col_text(st, 1), dd_col_text(st, 2) };
	return c->fn(&k, c->ud);
}

int dd_store_iam_users_key_secrets(struct dd_db *db, dd_store_iam_users_key_secret_fn fn, void *ud)
{
	struct dd_stmt *st = dd_db_stmt(db, "SELECT access_key, account, secret FROM iam_access_keys ORDER BY access_key");
	if (!st)
		return DD_EIO;
	return dd_stmt_each(st, secret_row, &(struct secret_cb){ fn, ud }, DD_EACH_LIST);
}

int dd_store_iam_users_key_set_secret(struct dd_db *db, const char *access_key, const char *stored)
{
	struct dd_stmt *st = dd_db_stmt(db, "UPDATE iam_access_keys SET secret = ?2 WHERE access_key = ?1");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, access_key);
	dd_bind_text(st, 2, stored);
	int rc = dd_step_done(st);
	if (!rc && dd_db_changes(db) == 0)
		rc = DD_ENOTFOUND;
	return rc;
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The SQLite implementation of dd_store_iam.h: tables iam_roles, iam_policies,
 * iam_policy_versions, and per principal kind the inline-policy table
 * (iam_role_policies, iam_user_policies, iam_group_policies) and the attachment table
 * (iam_role_attachments, …). Names are COLLATE NOCASE columns, so every lookup by name is
 * case-insensitive and returns the stored spelling. The statements of the three principal
 * kinds are string literals chosen from one table (the statement cache is keyed by the
 * SQL text's address).
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/dd_store_int.h"
#include "dd/store.h"
#include "store/dd_store_iam.h"

/* ---- helpers ------------------------------------------------------------------------- */

static char *dup_col(struct dd_stmt *st, int col, int *rc)
{
	if (dd_col_is_null(st, col))
		return NULL;
	char *s = strdup(dd_col_text(st, col));
	if (!s)
		*rc = DD_ENOMEM;
	return s;
}

static const char *borrow_col(struct dd_stmt *st, int col)
{
	return dd_col_is_null(st, col) ? NULL : dd_col_text(st, col);
}

/* Runs a "SELECT count(*) / one integer" statement already bound. */
static int one_int(struct dd_stmt *st, int64_t *n)
{
	int rc = dd_stmt_step(st);
	if (rc == DD_STMT_ROW)
		*n = dd_col_int64(st, 0);
	dd_stmt_reset(st);
	if (rc == DD_STMT_ROW)
		return 0;
	return rc == DD_STMT_DONE ? DD_ENOTFOUND : DD_EIO;
}

/* Steps a bound write statement; DD_ENOTFOUND when it changed no row. */
static int write_one(struct dd_db *db, struct dd_stmt *st)
{
	int rc = dd_step_done(st);
	if (rc)
		return rc;
	return dd_db_changes(db) ? 0 : DD_ENOTFOUND;
}

/* Ends a listing loop: the statement's last step code, or the callback's stop value. */
static int end_list(struct dd_stmt *st, int step, int stop)
{
	dd_stmt_reset(st);
	if (stop)
		return stop;
	return step == DD_STMT_DONE ? 0 : DD_EIO;
}

static int64_t limit_of(int limit)
{
	return limit > 0 ? limit : INT64_MAX; /* no limit (PostgreSQL refuses LIMIT -1) */
}

/* ---- roles ------------------------------------------------------------------------- */

#define ROLE_COLS "name, role_id, path, trust_policy, description, permissions_boundary, tags, max_session, created"

static void role_borrow(struct dd_stmt *st, struct dd_store_iam_role *r)
{
	*r = (struct dd_store_iam_role){
		.name = (char *)dd_col_text(st, 0), .role_id = (char *)dd_col_text(st, 1),
		.path = (char *)dd_col_text(st, 2), .trust_policy = (char *)dd_col_text(st, 3),
		.description = (char *)borrow_col(st, 4), .boundary = (char *)borrow_col(st, 5),
		.tags = (char *)dd_col_text(st, 6), .max_session = dd_col_int64(st, 7),
		.created_ms = dd_col_int64(st, 8),
	};
}

void dd_store_iam_role_clear(struct dd_store_iam_role *r)
{
	if (!r)
		return;
	free(r->name);
	free(r->role_id);
	free(r->path);
	free(r->trust_policy);
	free(r->description);
	free(r->boundary);
	free(r->tags);
	memset(r, 0, sizeof *r);
}

int dd_store_iam_role_get(struct dd_db *db, const char *account, const char *name, struct dd_store_iam_role *out)
{
	struct dd_stmt *st = dd_db_stmt(db, "SELECT " ROLE_COLS " FROM iam_roles WHERE account = ?1 AND name = ?2");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account);
	dd_bind_text(st, 2, name ? name : "");
	int step = dd_stmt_step(st);
	if (step != DD_STMT_ROW) {
		dd_stmt_reset(st);
		return step == DD_STMT_DONE ? DD_ENOTFOUND : DD_EIO;
	}
	int rc = 0;
	struct dd_store_iam_role r = {
		.name = dup_col(st, 0, &rc), .role_id = dup_col(st, 1, &rc), .path = dup_col(st, 2, &rc),
		.trust_policy = dup_col(st, 3, &rc), .description = dup_col(st, 4, &rc), .boundary = dup_col(st, 5, &rc),
		.tags = dup_col(st, 6, &rc), .max_session = dd_col_int64(st, 7),
		.created_ms = dd_col_int64(st, 8),
	};
	dd_stmt_reset(st);
	if (!rc && (!r.name || !r.role_id || !r.path || !r.trust_policy || !r.tags))
		rc = DD_ENOMEM;
	if (rc) {
		dd_store_iam_role_clear(&r);
		return rc;
	}
	*out = r;
	return 0;
}

int dd_store_iam_role_count(struct dd_db *db, const char *account, int64_t *n)
{
	struct dd_stmt *st = dd_db_stmt(db, "SELECT count(*) FROM iam_roles WHERE account = ?1");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account);
	return one_int(st, n);
}

static int exists(struct dd_stmt *st)
{
	if (!st)
		return DD_EIO;
	int step = dd_stmt_step(st);
	dd_stmt_reset(st);
	return step == DD_STMT_ROW ? 1 : step == DD_STMT_DONE ? 0 : DD_EIO;
}

int dd_store_iam_role_insert(struct dd_db *db, const char *account, const struct dd_store_iam_role *r)
{
	struct dd_stmt *st = dd_db_stmt(db, "SELECT 1 FROM iam_roles WHERE account = ?1 AND name = ?2");
	if (st) {
		dd_bind_text(st, 1, account);
		dd_bind_text(st, 2, r->name);
	}
	int e = exists(st);
	if (e)
		return e > 0 ? DD_EEXIST : e;
	st = dd_db_stmt(db, "INSERT INTO iam_roles(account, name, role_id, path, trust_policy, description, max_session,"
			    " permissions_boundary, tags, created) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, coalesce(?9, '[]'), ?10)");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account);
	dd_bind_text(st, 2, r->name);
	dd_bind_text(st, 3, r->role_id);
	dd_bind_text(st, 4, r->path);
	dd_bind_text(st, 5, r->trust_policy);
	dd_bind_text(st, 6, r->description);
	dd_bind_int64(st, 7, r->max_session);
	dd_bind_text(st, 8, r->boundary);
	dd_bind_text(st, 9, r->tags);
	dd_bind_int64(st, 10, r->created_ms);
	return dd_step_done(st);
}

int dd_store_iam_role_delete(struct dd_db *db, const char *account, const char *name)
{
	struct dd_stmt *st = dd_db_stmt(db, "DELETE FROM iam_roles WHERE account = ?1 AND name = ?2");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account);
	dd_bind_text(st, 2, name);
	return write_one(db, st);
}

int dd_store_iam_role_set_trust(struct dd_db *db, const char *account, const char *name, const char *trust_policy)
{
	struct dd_stmt *st = dd_db_stmt(db, "UPDATE iam_roles SET trust_policy = ?3 WHERE account = ?1 AND name = ?2");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account);
	dd_bind_text(st, 2, name);
	dd_bind_text(st, 3, trust_policy);
	return write_one(db, st);
}

int dd_store_iam_role_set_tags(struct dd_db *db, const char *account, const char *name, const char *tags)
{
	struct dd_stmt *st = dd_db_stmt(db, "UPDATE iam_roles SET tags = coalesce(?3, '[]') WHERE account = ?1 AND name = ?2");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account);
	dd_bind_text(st, 2, name);
	dd_bind_text(st, 3, tags);
	return write_one(db, st);
}

struct role_cb {
	dd_store_iam_role_fn fn;
	void *ud;
};

static int role_row(struct dd_stmt *st, void *ctx)
{
	const struct role_cb *c = ctx;
	struct dd_store_iam_role r;
	role_borrow(st, &r);
	return c->fn(&r, c->ud);
}

int dd_store_iam_role_list(struct dd_db *db, const char *account, const char *after, const char *path_prefix,
			   int limit, dd_store_iam_role_fn fn, void *ud)
{
	struct dd_stmt *st = dd_db_stmt(db, "SELECT " ROLE_COLS " FROM iam_roles WHERE account = ?1 AND name > ?2"
					  " AND (?3 IS NULL OR substr(path, 1, length(?3)) = ?3) ORDER BY name LIMIT ?4");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account);
	dd_bind_text(st, 2, after ? after : "");
	dd_bind_text(st, 3, path_prefix);
	dd_bind_int64(st, 4, limit_of(limit));
	return dd_stmt_each(st, role_row, &(struct role_cb){ fn, ud }, DD_EACH_PASS);
}

int dd_store_iam_role_boundary_count(struct dd_db *db, const char *account, const char *policy_arn, int64_t *n)
{
	struct dd_stmt *st = dd_db_stmt(db, "SELECT count(*) FROM iam_roles WHERE account = ?1 AND permissions_boundary = ?2");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account);
	dd_bind_text(st, 2, policy_arn);
	return one_int(st, n);
}

/* ---- principals ---------------------------------------------------------------------- */

/* The statements of one principal kind. */
struct kind_sql {
	const char *name, *pol_put, *pol_get, *pol_delete, *pol_count, *pol_list;
	const char *att_insert, *att_delete, *att_count, *att_list;
};

#define KIND_SQL(T, POL, ATT, COL)                                                                              \
	{ "SELECT name FROM " T " WHERE account = ?1 AND name = ?2",                                            \
	  "INSERT INTO " POL "(account, " COL ", policy_name, document) VALUES (?1, ?2, ?3, ?4)"               \
	  " ON CONFLICT(account, " COL ", policy_name) DO UPDATE SET document = excluded.document",             \
	  "SELECT policy_name, document FROM " POL " WHERE account = ?1 AND " COL " = ?2 AND policy_name = ?3", \
	  "DELETE FROM " POL " WHERE account = ?1 AND " COL " = ?2 AND policy_name = ?3",                       \
	  "SELECT count(*) FROM " POL " WHERE account = ?1 AND " COL " = ?2",                                   \
	  "SELECT policy_name, document FROM " POL " WHERE account = ?1 AND " COL " = ?2 AND policy_name > ?3"  \
	  " ORDER BY policy_name LIMIT ?4",                                                                     \
	  "INSERT INTO " ATT "(account, " COL ", policy_arn) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",       \
	  "DELETE FROM " ATT " WHERE account = ?1 AND " COL " = ?2 AND policy_arn = ?3",                        \
	  "SELECT count(*) FROM " ATT " WHERE account = ?1 AND " COL " = ?2 AND (?3 IS NULL OR policy_arn <> ?3)", \
	  "SELECT policy_arn FROM " ATT " WHERE account = ?1 AND " COL " = ?2 AND policy_arn > ?3"              \
	  " ORDER BY policy_arn LIMIT ?4" }

static const struct kind_sql kinds[] = {
	[DD_STORE_IAM_ROLE] = KIND_SQL("iam_roles", "iam_role_policies", "iam_role_attachments", "role_name"),
	[DD_STORE_IAM_USER] = KIND_SQL("iam_users", "iam_user_policies", "iam_user_attachments", "user_name"),
	[DD_STORE_IAM_GROUP] = KIND_SQL("iam_groups", "iam_group_policies", "iam_group_attachments", "group_name"),
};

static const struct kind_sql *kind_of(enum dd_store_iam_kind k)
{
	return (unsigned)k < sizeof kinds / sizeof kinds[0] ? &kinds[k] : NULL;
}

/* A statement of kind k bound with account and principal (?1, ?2); NULL on error. */
static struct dd_stmt *kind_stmt(struct dd_db *db, enum dd_store_iam_kind k, size_t off, const char *account,
			       const char *principal)
{
	const struct kind_sql *ks = kind_of(k);
	if (!ks)
		return NULL;
	struct dd_stmt *st = dd_db_stmt(db, *(const char *const *)((const char *)ks + off));
	if (st) {
		dd_bind_text(st, 1, account);
		dd_bind_text(st, 2, principal ? principal : "");
	}
	return st;
}

#define KSTMT(db, k, member, account, principal) kind_stmt(db, k, offsetof(struct kind_sql, member), account, principal)

int dd_store_iam_principal_name(struct dd_db *db, enum dd_store_iam_kind kind, const char *account, const char *name,
				char canon[128])
{
	struct dd_stmt *st = KSTMT(db, kind, name, account, name);
	if (!st)
		return DD_EIO;
	int step = dd_stmt_step(st);
	if (step == DD_STMT_ROW)
		snprintf(canon, 128, "%s", dd_col_text(st, 0));
	dd_stmt_reset(st);
	return step == DD_STMT_ROW ? 0 : step == DD_STMT_DONE ? DD_ENOTFOUND : DD_EIO;
}

int dd_store_iam_inline_put(struct dd_db *db, enum dd_store_iam_kind kind, const char *account, const char *principal,
			    const char *policy_name, const char *document)
{
	struct dd_stmt *st = KSTMT(db, kind, pol_put, account, principal);
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 3, policy_name);
	dd_bind_text(st, 4, document);
	return dd_step_done(st);
}

int dd_store_iam_inline_get(struct dd_db *db, enum dd_store_iam_kind kind, const char *account, const char *principal,
			    const char *policy_name, char canon[128], char **document)
{
	struct dd_stmt *st = KSTMT(db, kind, pol_get, account, principal);
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 3, policy_name ? policy_name : "");
	int step = dd_stmt_step(st), rc = 0;
	if (step == DD_STMT_ROW) {
		snprintf(canon, 128, "%s", dd_col_text(st, 0));
		if (!(*document = strdup(dd_col_text(st, 1))))
			rc = DD_ENOMEM;
	} else {
		rc = step == DD_STMT_DONE ? DD_ENOTFOUND : DD_EIO;
	}
	dd_stmt_reset(st);
	return rc;
}

int dd_store_iam_inline_delete(struct dd_db *db, enum dd_store_iam_kind kind, const char *account,
			       const char *principal, const char *policy_name)
{
	struct dd_stmt *st = KSTMT(db, kind, pol_delete, account, principal);
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 3, policy_name ? policy_name : "");
	return write_one(db, st);
}

int dd_store_iam_inline_count(struct dd_db *db, enum dd_store_iam_kind kind, const char *account,
			      const char *principal, int64_t *n)
{
	struct dd_stmt *st = KSTMT(db, kind, pol_count, account, principal);
	return st ? one_int(st, n) : DD_EIO;
}

int dd_store_iam_inline_list(struct dd_db *db, enum dd_store_iam_kind kind, const char *account, const char *principal,
			     const char *after, int limit, dd_store_iam_inline_fn fn, void *ud)
{
	struct dd_stmt *st = KSTMT(db, kind, pol_list, account, principal);
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 3, after ? after : "");
	dd_bind_int64(st, 4, limit_of(limit));
	int step = DD_STMT_DONE, stop = 0;
	while (!stop && (step = dd_stmt_step(st)) == DD_STMT_ROW)
		stop = fn(dd_col_text(st, 0), dd_col_text(st, 1), ud);
	return end_list(st, step, stop);
}

int dd_store_iam_attach(struct dd_db *db, enum dd_store_iam_kind kind, const char *account, const char *principal,
			const char *policy_arn)
{
	struct dd_stmt *st = KSTMT(db, kind, att_insert, account, principal);
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 3, policy_arn);
	return dd_step_done(st);
}

int dd_store_iam_detach(struct dd_db *db, enum dd_store_iam_kind kind, const char *account, const char *principal,
			const char *policy_arn)
{
	struct dd_stmt *st = KSTMT(db, kind, att_delete, account, principal);
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 3, policy_arn ? policy_arn : "");
	return write_one(db, st);
}

int dd_store_iam_attached_count(struct dd_db *db, enum dd_store_iam_kind kind, const char *account,
				const char *principal, const char *except_arn, int64_t *n)
{
	struct dd_stmt *st = KSTMT(db, kind, att_count, account, principal);
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 3, except_arn);
	return one_int(st, n);
}

int dd_store_iam_attached_list(struct dd_db *db, enum dd_store_iam_kind kind, const char *account,
			       const char *principal, const char *after, int limit, dd_store_iam_arn_fn fn, void *ud)
{
	struct dd_stmt *st = KSTMT(db, kind, att_list, account, principal);
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 3, after ? after : "");
	dd_bind_int64(st, 4, limit_of(limit));
	int step = DD_STMT_DONE, stop = 0;
	while (!stop && (step = dd_stmt_step(st)) == DD_STMT_ROW)
		stop = fn(dd_col_text(st, 0), ud);
	return end_list(st, step, stop);
}

int dd_store_iam_attachment_count(struct dd_db *db, const char *account, const char *policy_arn, int64_t *n)
{
	struct dd_stmt *st = dd_db_stmt(db,
		"SELECT (SELECT count(*) FROM iam_role_attachments WHERE account = ?1 AND policy_arn = ?2)"
		" + (SELECT count(*) FROM iam_user_attachments WHERE account = ?1 AND policy_arn = ?2)"
		" + (SELECT count(*) FROM iam_group_attachments WHERE account = ?1 AND policy_arn = ?2)");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account);
	dd_bind_text(st, 2, policy_arn);
	return one_int(st, n);
}

/* ---- customer managed policies ------------------------------------------------------- */

#define POLICY_COLS "name, arn, policy_id, path, description, tags, default_version, created, updated"

static void policy_borrow(struct dd_stmt *st, struct dd_store_iam_policy *p)
{
	*p = (struct dd_store_iam_policy){
		.name = (char *)dd_col_text(st, 0), .arn = (char *)dd_col_text(st, 1),
		.policy_id = (char *)dd_col_text(st, 2), .path = (char *)dd_col_text(st, 3),
		.description = (char *)borrow_col(st, 4), .tags = (char *)dd_col_text(st, 5),
		.default_version = dd_col_int64(st, 6), .created_ms = dd_col_int64(st, 7),
		.updated_ms = dd_col_int64(st, 8),
	};
}

void dd_store_iam_policy_clear(struct dd_store_iam_policy *p)
{
	if (!p)
		return;
	free(p->name);
	free(p->arn);
	free(p->policy_id);
	free(p->path);
	free(p->description);
	free(p->tags);
	memset(p, 0, sizeof *p);
}

static int policy_fetch(struct dd_stmt *st, struct dd_store_iam_policy *out)
{
	int step = dd_stmt_step(st);
	if (step != DD_STMT_ROW) {
		dd_stmt_reset(st);
		return step == DD_STMT_DONE ? DD_ENOTFOUND : DD_EIO;
	}
	int rc = 0;
	struct dd_store_iam_policy p = {
		.name = dup_col(st, 0, &rc), .arn = dup_col(st, 1, &rc), .policy_id = dup_col(st, 2, &rc),
		.path = dup_col(st, 3, &rc), .description = dup_col(st, 4, &rc), .tags = dup_col(st, 5, &rc),
		.default_version = dd_col_int64(st, 6), .created_ms = dd_col_int64(st, 7),
		.updated_ms = dd_col_int64(st, 8),
	};
	dd_stmt_reset(st);
	if (!rc && (!p.name || !p.arn || !p.policy_id || !p.path || !p.tags))
		rc = DD_ENOMEM;
	if (rc) {
		dd_store_iam_policy_clear(&p);
		return rc;
	}
	*out = p;
	return 0;
}

int dd_store_iam_policy_get(struct dd_db *db, const char *account, const char *name, struct dd_store_iam_policy *out)
{
	struct dd_stmt *st = dd_db_stmt(db, "SELECT " POLICY_COLS " FROM iam_policies WHERE account = ?1 AND name = ?2");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account);
	dd_bind_text(st, 2, name ? name : "");
	return policy_fetch(st, out);
}

int dd_store_iam_policy_get_by_arn(struct dd_db *db, const char *account, const char *arn,
				   struct dd_store_iam_policy *out)
{
	struct dd_stmt *st = dd_db_stmt(db, "SELECT " POLICY_COLS " FROM iam_policies WHERE account = ?1 AND arn = ?2");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account);
	dd_bind_text(st, 2, arn ? arn : "");
	return policy_fetch(st, out);
}

int dd_store_iam_policy_count(struct dd_db *db, const char *account, int64_t *n)
{
	struct dd_stmt *st = dd_db_stmt(db, "SELECT count(*) FROM iam_policies WHERE account = ?1");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account);
	return one_int(st, n);
}

int dd_store_iam_policy_insert(struct dd_db *db, const char *account, const struct dd_store_iam_policy *p,
			       const char *document)
{
	struct dd_stmt *st = dd_db_stmt(db, "SELECT 1 FROM iam_policies WHERE account = ?1 AND name = ?2");
	if (st) {
		dd_bind_text(st, 1, account);
		dd_bind_text(st, 2, p->name);
	}
	int e = exists(st);
	if (e)
		return e > 0 ? DD_EEXIST : e;
	st = dd_db_stmt(db, "INSERT INTO iam_policies(account, name, arn, policy_id, path, description, default_version,"
			    " next_version, tags, created, updated) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 1, 2, coalesce(?7, '[]'), ?8, ?8)");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account);
	dd_bind_text(st, 2, p->name);
	dd_bind_text(st, 3, p->arn);
	dd_bind_text(st, 4, p->policy_id);
	dd_bind_text(st, 5, p->path);
	dd_bind_text(st, 6, p->description);
	dd_bind_text(st, 7, p->tags);
	dd_bind_int64(st, 8, p->created_ms);
	int rc = dd_step_done(st);
	if (rc)
		return rc;
	st = dd_db_stmt(db, "INSERT INTO iam_policy_versions(account, policy_name, version, document, created)"
			    " VALUES (?1, ?2, 1, ?3, ?4)");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account);
	dd_bind_text(st, 2, p->name);
	dd_bind_text(st, 3, document);
	dd_bind_int64(st, 4, p->created_ms);
	return dd_step_done(st);
}

int dd_store_iam_policy_delete(struct dd_db *db, const char *account, const char *name)
{
	struct dd_stmt *st = dd_db_stmt(db, "DELETE FROM iam_policy_versions WHERE account = ?1 AND policy_name = ?2");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account);
	dd_bind_text(st, 2, name ? name : "");
	int rc = dd_step_done(st);
	if (rc)
		return rc;
	st = dd_db_stmt(db, "DELETE FROM iam_policies WHERE account = ?1 AND name = ?2");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account);
	dd_bind_text(st, 2, name ? name : "");
	return write_one(db, st);
}

struct policy_cb {
	dd_store_iam_policy_fn fn;
	void *ud;
};

static int policy_row(struct dd_stmt *st, void *ctx)
{
	const struct policy_cb *c = ctx;
	struct dd_store_iam_policy p;
	policy_borrow(st, &p);
	return c->fn(&p, c->ud);
}

int dd_store_iam_policy_list(struct dd_db *db, const char *account, dd_store_iam_policy_fn fn, void *ud)
{
	struct dd_stmt *st = dd_db_stmt(db, "SELECT " POLICY_COLS " FROM iam_policies WHERE account = ?1 ORDER BY name");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account);
	return dd_stmt_each(st, policy_row, &(struct policy_cb){ fn, ud }, DD_EACH_PASS);
}

int dd_store_iam_policy_default_document(struct dd_db *db, const char *account, const char *arn, char canon[160],
					 char **document)
{
	struct dd_stmt *st = dd_db_stmt(db, "SELECT p.name, v.document FROM iam_policies p JOIN iam_policy_versions v"
					  " ON v.account = p.account AND v.policy_name = p.name AND v.version = p.default_version"
					  " WHERE p.account = ?1 AND p.arn = ?2");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account);
	dd_bind_text(st, 2, arn ? arn : "");
	int step = dd_stmt_step(st), rc = 0;
	if (step == DD_STMT_ROW) {
		snprintf(canon, 160, "%s", dd_col_text(st, 0));
		if (!(*document = strdup(dd_col_text(st, 1))))
			rc = DD_ENOMEM;
	} else {
		rc = step == DD_STMT_DONE ? DD_ENOTFOUND : DD_EIO;
	}
	dd_stmt_reset(st);
	return rc;
}

int dd_store_iam_policy_version_add(struct dd_db *db, const char *account, const char *name, const char *document,
				    int64_t now_ms, bool set_default, int64_t *version)
{
	struct dd_stmt *st = dd_db_stmt(db, "SELECT next_version FROM iam_policies WHERE account = ?1 AND name = ?2");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account);
	dd_bind_text(st, 2, name ? name : "");
	int64_t next;
	int rc = one_int(st, &next);
	if (rc)
		return rc;
	st = dd_db_stmt(db, "INSERT INTO iam_policy_versions(account, policy_name, version, document, created)"
			    " VALUES (?1, ?2, ?3, ?4, ?5)");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account);
	dd_bind_text(st, 2, name);
	dd_bind_int64(st, 3, next);
	dd_bind_text(st, 4, document);
	dd_bind_int64(st, 5, now_ms);
	if ((rc = dd_step_done(st)))
		return rc;
	st = dd_db_stmt(db, "UPDATE iam_policies SET next_version = ?3 + 1, updated = ?4,"
			    " default_version = CASE WHEN ?5 <> 0 THEN ?3 ELSE default_version END WHERE account = ?1 AND name = ?2");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account);
	dd_bind_text(st, 2, name);
	dd_bind_int64(st, 3, next);
	dd_bind_int64(st, 4, now_ms);
	dd_bind_int64(st, 5, set_default);
	if ((rc = dd_step_done(st)))
		return rc;
	*version = next;
	return 0;
}

int dd_store_iam_policy_version_count(struct dd_db *db, const char *account, const char *name, int64_t *n)
{
	struct dd_stmt *st = dd_db_stmt(db, "SELECT count(*) FROM iam_policy_versions WHERE account = ?1 AND policy_name = ?2");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account);
	dd_bind_text(st, 2, name ? name : "");
	return one_int(st, n);
}

int dd_store_iam_policy_version_get(struct dd_db *db, const char *account, const char *name, int64_t version,
				    char **document, int64_t *created_ms, bool *is_default)
{
	struct dd_stmt *st = dd_db_stmt(db, "SELECT v.document, v.created, p.default_version FROM iam_policy_versions v"
					  " JOIN iam_policies p ON p.account = v.account AND p.name = v.policy_name"
					  " WHERE v.account = ?1 AND v.policy_name = ?2 AND v.version = ?3");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account);
	dd_bind_text(st, 2, name ? name : "");
	dd_bind_int64(st, 3, version);
	int step = dd_stmt_step(st), rc = 0;
	if (step == DD_STMT_ROW) {
		*created_ms = dd_col_int64(st, 1);
		*is_default = dd_col_int64(st, 2) == version;
		if (!(*document = strdup(dd_col_text(st, 0))))
			rc = DD_ENOMEM;
	} else {
		rc = step == DD_STMT_DONE ? DD_ENOTFOUND : DD_EIO;
	}
	dd_stmt_reset(st);
	return rc;
}

int dd_store_iam_policy_version_list(struct dd_db *db, const char *account, const char *name,
				     dd_store_iam_version_fn fn, void *ud)
{
	struct dd_stmt *st = dd_db_stmt(db, "SELECT v.version, v.created, p.default_version FROM iam_policy_versions v"
					  " JOIN iam_policies p ON p.account = v.account AND p.name = v.policy_name"
					  " WHERE v.account = ?1 AND v.policy_name = ?2 ORDER BY v.version DESC");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account);
	dd_bind_text(st, 2, name ? name : "");
	int step = DD_STMT_DONE, stop = 0;
	while (!stop && (step = dd_stmt_step(st)) == DD_STMT_ROW)
		stop = fn(dd_col_int64(st, 0), dd_col_int64(st, 1),
			  dd_col_int64(st, 0) == dd_col_int64(st, 2), ud);
	return end_list(st, step, stop);
}

int dd_store_iam_policy_version_delete(struct dd_db *db, const char *account, const char *name, int64_t version)
{
	struct dd_stmt *st = dd_db_stmt(db, "DELETE FROM iam_policy_versions WHERE account = ?1 AND policy_name = ?2 AND version = ?3");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account);
	dd_bind_text(st, 2, name ? name : "");
	dd_bind_int64(st, 3, version);
	return write_one(db, st);
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * IAM users, groups and access keys (awsQuery), and STS GetCallerIdentity: users with
 * inline and attached policies, groups with members and their own inline and attached
 * policies, and up to two access keys per user (Active or Inactive). The secret of a key
 * is returned once, by CreateAccessKey, and kept in the store because SigV4 verification
 * needs it (HMAC keys cannot be hashed); the store lives in the 0700 data directory. Users
 * and groups are per account (IAM is global); names are case-insensitive as in IAM. The
 * limits and error codes are AWS's (IAM quotas: 2 access keys per user, 10 groups per
 * user, 10 managed policies per user or group, 2,048 characters of inline policy per
 * user, 5,120 per group). Every write bumps a generation counter that the authorization
 * cache keys on.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/dd_registry_int.h"
#include "dd/iam.h"
#include "dd/policy.h"

#define MAX_USERS 5000
#define MAX_GROUPS 300
#define MAX_KEYS_PER_USER 2
#define MAX_GROUPS_PER_USER 10
#define MAX_ATTACHED 10
#define USER_INLINE_MAX 2048
#define GROUP_INLINE_MAX 5120

static _Atomic uint64_t generation = 1;

uint64_t dd_iam_generation(void) { return atomic_load(&generation); }
void dd_iam_generation_bump(void) { atomic_fetch_add(&generation, 1); }

/* Users and groups share their policy and attachment handlers: what differs is here,
 * with the SQL of each (string literals: the store caches statements by address). */
struct kind {
	const char *label;       /* "user" / "group" */
	const char *member;      /* input member naming the entity: "UserName" / "GroupName" */
	size_t inline_max;
	const char *quota;
	const char *q_get, *q_load, *q_count_name, *q_count, *q_insert;
	const char *q_pol_others, *q_pol_put, *q_pol_get, *q_pol_delete, *q_pol_list;
	const char *q_att_list, *q_att_others, *q_att_insert, *q_att_delete;
};

#define KIND_SQL(T, IDCOL, POL, ATT, COL)                                                                       \
	"SELECT name, " IDCOL " FROM " T " WHERE account = ?1 AND name = ?2",                                   \
	"SELECT name, " IDCOL ", path, created FROM " T " WHERE account = ?1 AND name = ?2",                    \
	"SELECT count(*) FROM " T " WHERE account = ?1 AND name = ?2",                                          \
	"SELECT count(*) FROM " T " WHERE account = ?1",                                                        \
	"INSERT INTO " T "(account, name, " IDCOL ", path, created) VALUES (?1, ?2, ?3, ?4, ?5)",              \
	"SELECT document FROM " POL " WHERE account = ?1 AND " COL " = ?2 AND policy_name <> ?3",              \
	"INSERT INTO " POL "(account, " COL ", policy_name, document) VALUES (?1, ?2, ?3, ?4)"                 \
	" ON CONFLICT(account, " COL ", policy_name) DO UPDATE SET document = excluded.document",               \
	"SELECT policy_name, document FROM " POL " WHERE account = ?1 AND " COL " = ?2 AND policy_name = ?3",  \
	"DELETE FROM " POL " WHERE account = ?1 AND " COL " = ?2 AND policy_name = ?3",                        \
	"SELECT policy_name FROM " POL " WHERE account = ?1 AND " COL " = ?2 AND policy_name > ?3"             \
	" ORDER BY policy_name",                                                                                \
	"SELECT policy_arn FROM " ATT " WHERE account = ?1 AND " COL " = ?2 AND policy_arn > ?3"               \
	" ORDER BY policy_arn",                                                                                 \
	"SELECT count(*) FROM " ATT " WHERE account = ?1 AND " COL " = ?2 AND policy_arn <> ?3",               \
	"INSERT OR IGNORE INTO " ATT "(account, " COL ", policy_arn) VALUES (?1, ?2, ?3)",                     \
	"DELETE FROM " ATT " WHERE account = ?1 AND " COL " = ?2 AND policy_arn = ?3"

static const struct kind K_USER = { "user", "UserName", USER_INLINE_MAX, "PoliciesPerUser",
	KIND_SQL("iam_users", "user_id", "iam_user_policies", "iam_user_attachments", "user_name") };
static const struct kind K_GROUP = { "group", "GroupName", GROUP_INLINE_MAX, "PoliciesPerGroup",
	KIND_SQL("iam_groups", "group_id", "iam_group_policies", "iam_group_attachments", "group_name") };

static int db_fail(struct dd_ctx *c)
{
	if (dd_db_in_tx(c->db))
		dd_db_rollback(c->db);
	return dd_fail(c, DD_EIO, "ServiceFailure", "An internal store error occurred.");
}

static int done(struct dd_ctx *c)
{
	if (dd_db_commit(c->db))
		return db_fail(c);
	dd_iam_generation_bump();
	return 0;
}

static struct dd_ctx *rollback(struct dd_ctx *c)
{
	if (dd_db_in_tx(c->db))
		dd_db_rollback(c->db);
	return c;
}

/* dd_fail after rolling back an open transaction */
#define fail_rb(c, ...) dd_fail(rollback(c), __VA_ARGS__)

/* Random IAM-style id: prefix then uppercase letters and digits, total len characters. */
static void rand_id(const char *prefix, const char *alphabet, char *out, size_t len)
{
	size_t n = strlen(prefix), na = strlen(alphabet);
	memcpy(out, prefix, n);
	while (n < len) {
		unsigned char r[64];
		if (dd_random_bytes(r, sizeof r))
			memset(r, 7, sizeof r);
		for (size_t i = 0; i < sizeof r && n < len; i++)
			if (r[i] < 256 - 256 % na)
				out[n++] = alphabet[r[i] % na];
	}
	out[len] = '\0';
}

static const char UPPER_DIGITS[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
static const char SECRET_CHARS[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int64_t count_q(struct dd_ctx *c, const char *sql, const char *a2, const char *a3)
{
	sqlite3_stmt *st = dd_db_stmt(c->db, sql);
	if (!st)
		return -1;
	dd_bind_text(st, 1, c->account);
	if (a2)
		dd_bind_text(st, 2, a2);
	if (a3)
		dd_bind_text(st, 3, a3);
	int64_t n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
	sqlite3_reset(st);
	return n;
}

static int page_in(struct dd_ctx *c, json_t *in, char *after, size_t afterlen, int *size)
{
	after[0] = '\0';
	const char *m = dd__str(in, "Marker");
	if (m && *m && dd_page_token_parse(m, after, afterlen))
		return dd_fail(c, DD_EINVAL, "ValidationError", "Invalid Marker.");
	int64_t n = dd__int(in, "MaxItems", 100);
	if (n < 1 || n > 1000)
		return dd_fail(c, DD_EINVAL, "ValidationError", "MaxItems must be between 1 and 1000.");
	*size = (int)n;
	return 0;
}

static void page_out(json_t *out, bool more, const char *last)
{
	json_object_set_new(out, "IsTruncated", json_boolean(more));
	dd__page_next(out, "Marker", more, last);
}

static json_t *encoded(const char *doc)
{
	char *e = dd_iam_url_encode(doc);
	json_t *j = json_string(e ? e : "");
	free(e);
	return j;
}

/* The entity's stored name (canonical case) and, for users, id; fails c with NoSuchEntity
 * (rolling back an open transaction). */
static int entity_get(struct dd_ctx *c, const struct kind *k, const char *name, char canon[128], char *id,
		      size_t idlen)
{
	sqlite3_stmt *st = dd_db_stmt(c->db, k->q_get);
	if (!st)
		return db_fail(c);
	dd_bind_text(st, 1, c->account);
	dd_bind_text(st, 2, name ? name : "");
	bool found = sqlite3_step(st) == SQLITE_ROW;
	if (found) {
		snprintf(canon, 128, "%s", dd_col_text(st, 0));
		if (id)
			snprintf(id, idlen, "%s", dd_col_text(st, 1));
	}
	sqlite3_reset(st);
	if (!found)
		return fail_rb(c, DD_ENOTFOUND, "NoSuchEntity", k == &K_USER ? "The user with name %s cannot be found."
									  : "The group with name %s cannot be found.", name ? name : "");
	return 0;
}

/* The user a request names, or the caller when UserName is absent (an IAM user only: the
 * root has no user entity here). */
static const char *user_arg(struct dd_ctx *c, json_t *in)
{
	const char *u = dd__str(in, "UserName");
	return u ? u : c->caller_user;
}

static int need_user_arg(struct dd_ctx *c, const char *u)
{
	if (!u)
		return dd_fail(c, DD_EINVAL, "ValidationError",
			       "UserName must be given when the caller is the account root: this server keeps no root access keys in IAM.");
	return 0;
}

static json_t *entity_json(struct dd_ctx *c, const struct kind *k, sqlite3_stmt *st)
{
	/* columns: name, id, path, created */
	char arn[512];
	snprintf(arn, sizeof arn, "arn:aws:iam::%s:%s%s%s", c->account, k->label, dd_col_text(st, 2), dd_col_text(st, 0));
	if (k == &K_USER)
		return json_pack("{s:s, s:s, s:s, s:s, s:o}", "Path", dd_col_text(st, 2), "UserName", dd_col_text(st, 0),
				 "UserId", dd_col_text(st, 1), "Arn", arn, "CreateDate", dd_json_time(sqlite3_column_int64(st, 3)));
	return json_pack("{s:s, s:s, s:s, s:s, s:o}", "Path", dd_col_text(st, 2), "GroupName", dd_col_text(st, 0),
			 "GroupId", dd_col_text(st, 1), "Arn", arn, "CreateDate", dd_json_time(sqlite3_column_int64(st, 3)));
}

static int entity_load(struct dd_ctx *c, const struct kind *k, const char *name, json_t **out)
{
	sqlite3_stmt *st = dd_db_stmt(c->db, k->q_load);
	if (!st)
		return db_fail(c);
	dd_bind_text(st, 1, c->account);
	dd_bind_text(st, 2, name);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_reset(st);
		return dd_fail(c, DD_ENOTFOUND, "NoSuchEntity", k == &K_USER ? "The user with name %s cannot be found."
									   : "The group with name %s cannot be found.", name);
	}
	*out = entity_json(c, k, st);
	sqlite3_reset(st);
	return *out ? 0 : dd_fail(c, DD_ENOMEM, "ServiceFailure", "out of memory");
}

static int check_path(struct dd_ctx *c, const char *path)
{
	if (path[0] != '/' || path[strlen(path) - 1] != '/')
		return dd_fail(c, DD_EINVAL, "ValidationError", "The specified value for path is invalid. It must begin and end with / and contain only alphanumeric characters and/or / characters.");
	return 0;
}

static int entity_create(struct dd_ctx *c, const struct kind *k, json_t *in, json_t **out)
{
	const char *name = dd__str(in, k->member), *path = dd__str(in, "Path");
	if (!path)
		path = "/";
	if (check_path(c, path))
		return c->err;
	if (k == &K_USER && (json_object_get(in, "PermissionsBoundary") || json_object_get(in, "Tags")))
		return dd_fail(c, DD_EINVAL, "ValidationError", "PermissionsBoundary and Tags on users are not supported by this server.");
	char id[22];
	rand_id(k == &K_USER ? "AIDA" : "AGPA", UPPER_DIGITS, id, 21);
	if (dd_db_begin_write(c->db))
		return db_fail(c);
	int64_t n = count_q(c, k->q_count_name, name, NULL);
	int64_t total = count_q(c, k->q_count, NULL, NULL);
	if (n < 0 || total < 0)
		return db_fail(c);
	if (n > 0)
		return fail_rb(c, DD_EEXIST, "EntityAlreadyExists", k == &K_USER ? "User with name %s already exists."
										 : "Group with name %s already exists.", name);
	if (total >= (k == &K_USER ? MAX_USERS : MAX_GROUPS)) {
		dd_db_rollback(c->db);
		return dd_fail(c, DD_ELIMIT, "LimitExceeded", "Cannot exceed quota for %s: %d",
			       k == &K_USER ? "UsersPerAccount" : "GroupsPerAccount", k == &K_USER ? MAX_USERS : MAX_GROUPS);
	}
	sqlite3_stmt *st = dd_db_stmt(c->db, k->q_insert);
	if (!st)
		return db_fail(c);
	dd_bind_text(st, 1, c->account);
	dd_bind_text(st, 2, name);
	dd_bind_text(st, 3, id);
	dd_bind_text(st, 4, path);
	dd_bind_int64(st, 5, c->now_ms);
	if (dd_step_done(st) || done(c))
		return db_fail(c);
	json_t *e = NULL;
	if (entity_load(c, k, name, &e))
		return c->err;
	*out = json_pack("{s:o}", k == &K_USER ? "User" : "Group", e);
	return 0;
}

static int iam_create_user(struct dd_ctx *c, json_t *in, json_t **out) { return entity_create(c, &K_USER, in, out); }
static int iam_create_group(struct dd_ctx *c, json_t *in, json_t **out) { return entity_create(c, &K_GROUP, in, out); }

static int iam_get_user(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *u = user_arg(c, in);
	if (!u) {
		/* the root: AWS answers with the account's root identity */
		char arn[64];
		snprintf(arn, sizeof arn, "arn:aws:iam::%s:root", c->account);
		*out = json_pack("{s:{s:s, s:s, s:s, s:o}}", "User", "UserId", c->account, "Arn", arn, "Path", "/",
				 "CreateDate", dd_json_time(0));
		return 0;
	}
	json_t *e = NULL;
	if (entity_load(c, &K_USER, u, &e))
		return c->err;
	*out = json_pack("{s:o}", "User", e);
	return 0;
}

static int iam_list_users(struct dd_ctx *c, json_t *in, json_t **out)
{
	char after[256];
	int size;
	const char *prefix = dd__str(in, "PathPrefix");
	if (page_in(c, in, after, sizeof after, &size))
		return c->err;
	sqlite3_stmt *st = dd_db_stmt(c->db, "SELECT name, user_id, path, created FROM iam_users WHERE account = ?1"
					     " AND name > ?2 AND substr(path, 1, length(?3)) = ?3 ORDER BY name LIMIT ?4");
	if (!st)
		return db_fail(c);
	dd_bind_text(st, 1, c->account);
	dd_bind_text(st, 2, after);
	dd_bind_text(st, 3, prefix ? prefix : "/");
	dd_bind_int64(st, 4, size + 1);
	json_t *users = json_array();
	char last[256] = "";
	bool more = false;
	int n = 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (n++ == size) {
			more = true;
			break;
		}
		json_array_append_new(users, entity_json(c, &K_USER, st));
		snprintf(last, sizeof last, "%s", dd_col_text(st, 0));
	}
	sqlite3_reset(st);
	*out = json_pack("{s:o}", "Users", users);
	page_out(*out, more, last);
	return 0;
}

static int delete_conflict(struct dd_ctx *c, const char *msg)
{
	dd_db_rollback(c->db);
	return dd_fail(c, DD_ECONFLICT, "DeleteConflict", "%s", msg);
}

static int run_sql(struct dd_ctx *c, const char *sql, const char *a2)
{
	sqlite3_stmt *st = dd_db_stmt(c->db, sql);
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, c->account);
	if (a2)
		dd_bind_text(st, 2, a2);
	return dd_step_done(st);
}

static int iam_delete_user(struct dd_ctx *c, json_t *in, json_t **out)
{
	char canon[128];
	(void)out;
	if (dd_db_begin_write(c->db))
		return db_fail(c);
	if (entity_get(c, &K_USER, dd__str(in, "UserName"), canon, NULL, 0))
		return c->err;
	int64_t keys = count_q(c, "SELECT count(*) FROM iam_access_keys WHERE account = ?1 AND user_name = ?2", canon, NULL);
	int64_t pols = count_q(c, "SELECT count(*) FROM iam_user_policies WHERE account = ?1 AND user_name = ?2", canon, NULL);
	int64_t atts = count_q(c, "SELECT count(*) FROM iam_user_attachments WHERE account = ?1 AND user_name = ?2", canon, NULL);
	int64_t grps = count_q(c, "SELECT count(*) FROM iam_group_members WHERE account = ?1 AND user_name = ?2", canon, NULL);
	if (keys < 0 || pols < 0 || atts < 0 || grps < 0)
		return db_fail(c);
	if (keys)
		return delete_conflict(c, "Cannot delete entity, must delete access keys first.");
	if (pols)
		return delete_conflict(c, "Cannot delete entity, must delete policies first.");
	if (atts)
		return delete_conflict(c, "Cannot delete entity, must detach all policies first.");
	if (grps)
		return delete_conflict(c, "Cannot delete entity, must remove user from all groups first.");
	if (run_sql(c, "DELETE FROM iam_users WHERE account = ?1 AND name = ?2", canon) || done(c))
		return db_fail(c);
	return 0;
}

static int iam_delete_group(struct dd_ctx *c, json_t *in, json_t **out)
{
	char canon[128];
	(void)out;
	if (dd_db_begin_write(c->db))
		return db_fail(c);
	if (entity_get(c, &K_GROUP, dd__str(in, "GroupName"), canon, NULL, 0))
		return c->err;
	int64_t mem = count_q(c, "SELECT count(*) FROM iam_group_members WHERE account = ?1 AND group_name = ?2", canon, NULL);
	int64_t pols = count_q(c, "SELECT count(*) FROM iam_group_policies WHERE account = ?1 AND group_name = ?2", canon, NULL);
	int64_t atts = count_q(c, "SELECT count(*) FROM iam_group_attachments WHERE account = ?1 AND group_name = ?2", canon, NULL);
	if (mem < 0 || pols < 0 || atts < 0)
		return db_fail(c);
	if (mem)
		return delete_conflict(c, "Cannot delete entity, must remove users from group first.");
	if (pols)
		return delete_conflict(c, "Cannot delete entity, must delete policies first.");
	if (atts)
		return delete_conflict(c, "Cannot delete entity, must detach all policies first.");
	if (run_sql(c, "DELETE FROM iam_groups WHERE account = ?1 AND name = ?2", canon) || done(c))
		return db_fail(c);
	return 0;
}

static int iam_get_group(struct dd_ctx *c, json_t *in, json_t **out)
{
	char after[256], canon[128];
	int size;
	if (page_in(c, in, after, sizeof after, &size) || entity_get(c, &K_GROUP, dd__str(in, "GroupName"), canon, NULL, 0))
		return c->err;
	json_t *g = NULL;
	if (entity_load(c, &K_GROUP, canon, &g))
		return c->err;
	sqlite3_stmt *st = dd_db_stmt(c->db, "SELECT u.name, u.user_id, u.path, u.created FROM iam_group_members m JOIN iam_users u"
					     " ON u.account = m.account AND u.name = m.user_name WHERE m.account = ?1 AND m.group_name = ?2"
					     " AND u.name > ?3 ORDER BY u.name LIMIT ?4");
	if (!st) {
		json_decref(g);
		return db_fail(c);
	}
	dd_bind_text(st, 1, c->account);
	dd_bind_text(st, 2, canon);
	dd_bind_text(st, 3, after);
	dd_bind_int64(st, 4, size + 1);
	json_t *users = json_array();
	char last[256] = "";
	bool more = false;
	int n = 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (n++ == size) {
			more = true;
			break;
		}
		json_array_append_new(users, entity_json(c, &K_USER, st));
		snprintf(last, sizeof last, "%s", dd_col_text(st, 0));
	}
	sqlite3_reset(st);
	*out = json_pack("{s:o, s:o}", "Group", g, "Users", users);
	page_out(*out, more, last);
	return 0;
}

static int iam_add_user_to_group(struct dd_ctx *c, json_t *in, json_t **out)
{
	char g[128], u[128];
	(void)out;
	if (dd_db_begin_write(c->db))
		return db_fail(c);
	if (entity_get(c, &K_GROUP, dd__str(in, "GroupName"), g, NULL, 0) ||
	    entity_get(c, &K_USER, dd__str(in, "UserName"), u, NULL, 0))
		return c->err;
	int64_t have = count_q(c, "SELECT count(*) FROM iam_group_members WHERE account = ?1 AND user_name = ?2 AND group_name <> ?3", u, g);
	if (have < 0)
		return db_fail(c);
	if (have >= MAX_GROUPS_PER_USER) {
		dd_db_rollback(c->db);
		return dd_fail(c, DD_ELIMIT, "LimitExceeded", "Cannot exceed quota for GroupsPerUser: %d", MAX_GROUPS_PER_USER);
	}
	sqlite3_stmt *st = dd_db_stmt(c->db, "INSERT OR IGNORE INTO iam_group_members(account, group_name, user_name) VALUES (?1, ?2, ?3)");
	if (!st)
		return db_fail(c);
	dd_bind_text(st, 1, c->account);
	dd_bind_text(st, 2, g);
	dd_bind_text(st, 3, u);
	if (dd_step_done(st) || done(c))
		return db_fail(c);
	return 0;
}

static int iam_remove_user_from_group(struct dd_ctx *c, json_t *in, json_t **out)
{
	char g[128], u[128];
	(void)out;
	if (dd_db_begin_write(c->db))
		return db_fail(c);
	if (entity_get(c, &K_GROUP, dd__str(in, "GroupName"), g, NULL, 0) ||
	    entity_get(c, &K_USER, dd__str(in, "UserName"), u, NULL, 0))
		return c->err;
	sqlite3_stmt *st = dd_db_stmt(c->db, "DELETE FROM iam_group_members WHERE account = ?1 AND group_name = ?2 AND user_name = ?3");
	if (!st)
		return db_fail(c);
	dd_bind_text(st, 1, c->account);
	dd_bind_text(st, 2, g);
	dd_bind_text(st, 3, u);
	if (dd_step_done(st))
		return db_fail(c);
	if (sqlite3_changes(dd_db_handle(c->db)) == 0)
		return fail_rb(c, DD_ENOTFOUND, "NoSuchEntity", "The user with name %s is not a member of the group.", u);
	if (done(c))
		return c->err;
	return 0;
}

static int iam_list_groups_for_user(struct dd_ctx *c, json_t *in, json_t **out)
{
	char after[256], u[128];
	int size;
	if (page_in(c, in, after, sizeof after, &size) || entity_get(c, &K_USER, dd__str(in, "UserName"), u, NULL, 0))
		return c->err;
	sqlite3_stmt *st = dd_db_stmt(c->db, "SELECT g.name, g.group_id, g.path, g.created FROM iam_group_members m JOIN iam_groups g"
					     " ON g.account = m.account AND g.name = m.group_name WHERE m.account = ?1 AND m.user_name = ?2"
					     " AND g.name > ?3 ORDER BY g.name LIMIT ?4");
	if (!st)
		return db_fail(c);
	dd_bind_text(st, 1, c->account);
	dd_bind_text(st, 2, u);
	dd_bind_text(st, 3, after);
	dd_bind_int64(st, 4, size + 1);
	json_t *groups = json_array();
	char last[256] = "";
	bool more = false;
	int n = 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (n++ == size) {
			more = true;
			break;
		}
		json_array_append_new(groups, entity_json(c, &K_GROUP, st));
		snprintf(last, sizeof last, "%s", dd_col_text(st, 0));
	}
	sqlite3_reset(st);
	*out = json_pack("{s:o}", "Groups", groups);
	page_out(*out, more, last);
	return 0;
}

/* ---- access keys ------------------------------------------------------------------- */

static int iam_create_access_key(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *name = user_arg(c, in);
	char u[128];
	if (need_user_arg(c, name))
		return c->err;
	char key[21], secret[41];
	rand_id("AKIA", UPPER_DIGITS, key, 20);
	rand_id("", SECRET_CHARS, secret, 40);
	if (dd_db_begin_write(c->db))
		return db_fail(c);
	if (entity_get(c, &K_USER, name, u, NULL, 0))
		return c->err;
	int64_t n = count_q(c, "SELECT count(*) FROM iam_access_keys WHERE account = ?1 AND user_name = ?2", u, NULL);
	if (n < 0)
		return db_fail(c);
	if (n >= MAX_KEYS_PER_USER) {
		dd_db_rollback(c->db);
		return dd_fail(c, DD_ELIMIT, "LimitExceeded", "Cannot exceed quota for AccessKeysPerUser: %d", MAX_KEYS_PER_USER);
	}
	sqlite3_stmt *st = dd_db_stmt(c->db, "INSERT INTO iam_access_keys(access_key, account, user_name, secret, status, created)"
					     " VALUES (?2, ?1, ?3, ?4, 'Active', ?5)");
	if (!st)
		return db_fail(c);
	dd_bind_text(st, 1, c->account);
	dd_bind_text(st, 2, key);
	dd_bind_text(st, 3, u);
	dd_bind_text(st, 4, secret);
	dd_bind_int64(st, 5, c->now_ms);
	if (dd_step_done(st) || done(c))
		return db_fail(c);
	*out = json_pack("{s:{s:s, s:s, s:s, s:s, s:o}}", "AccessKey", "UserName", u, "AccessKeyId", key, "Status", "Active",
			 "SecretAccessKey", secret, "CreateDate", dd_json_time(c->now_ms));
	memset(secret, 0, sizeof secret);
	return 0;
}

static int iam_list_access_keys(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *name = user_arg(c, in);
	char after[256], u[128];
	int size;
	if (need_user_arg(c, name) || page_in(c, in, after, sizeof after, &size) || entity_get(c, &K_USER, name, u, NULL, 0))
		return c->err;
	sqlite3_stmt *st = dd_db_stmt(c->db, "SELECT access_key, status, created FROM iam_access_keys WHERE account = ?1"
					     " AND user_name = ?2 AND access_key > ?3 ORDER BY access_key LIMIT ?4");
	if (!st)
		return db_fail(c);
	dd_bind_text(st, 1, c->account);
	dd_bind_text(st, 2, u);
	dd_bind_text(st, 3, after);
	dd_bind_int64(st, 4, size + 1);
	json_t *keys = json_array();
	char last[256] = "";
	bool more = false;
	int n = 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (n++ == size) {
			more = true;
			break;
		}
		json_array_append_new(keys, json_pack("{s:s, s:s, s:s, s:o}", "UserName", u, "AccessKeyId", dd_col_text(st, 0),
						      "Status", dd_col_text(st, 1), "CreateDate",
						      dd_json_time(sqlite3_column_int64(st, 2))));
		snprintf(last, sizeof last, "%s", dd_col_text(st, 0));
	}
	sqlite3_reset(st);
	*out = json_pack("{s:o}", "AccessKeyMetadata", keys);
	page_out(*out, more, last);
	return 0;
}

/* UpdateAccessKey (status non-NULL) and DeleteAccessKey. */
static int key_change(struct dd_ctx *c, json_t *in, const char *status)
{
	const char *name = user_arg(c, in), *key = dd__str(in, "AccessKeyId");
	char u[128];
	if (need_user_arg(c, name))
		return c->err;
	if (status && strcmp(status, "Active") && strcmp(status, "Inactive"))
		return dd_fail(c, DD_EINVAL, "ValidationError", "1 validation error detected: Value '%.40s' at 'status' failed to satisfy constraint: Member must satisfy enum value set: [Active, Inactive]", status);
	if (dd_db_begin_write(c->db))
		return db_fail(c);
	if (entity_get(c, &K_USER, name, u, NULL, 0))
		return c->err;
	sqlite3_stmt *st = dd_db_stmt(c->db, status ? "UPDATE iam_access_keys SET status = ?4 WHERE account = ?1 AND user_name = ?2 AND access_key = ?3"
						    : "DELETE FROM iam_access_keys WHERE account = ?1 AND user_name = ?2 AND access_key = ?3");
	if (!st)
		return db_fail(c);
	dd_bind_text(st, 1, c->account);
	dd_bind_text(st, 2, u);
	dd_bind_text(st, 3, key);
	if (status)
		dd_bind_text(st, 4, status);
	if (dd_step_done(st))
		return db_fail(c);
	if (sqlite3_changes(dd_db_handle(c->db)) == 0)
		return fail_rb(c, DD_ENOTFOUND, "NoSuchEntity", "The Access Key with id %s cannot be found.", key);
	return done(c);
}

static int iam_update_access_key(struct dd_ctx *c, json_t *in, json_t **out)
{
	(void)out;
	return key_change(c, in, dd__str(in, "Status") ? dd__str(in, "Status") : "");
}

static int iam_delete_access_key(struct dd_ctx *c, json_t *in, json_t **out)
{
	(void)out;
	return key_change(c, in, NULL);
}

int dd_iam_access_key_find(struct dd_db *db, const char *access_key, struct dd_iam_key *out)
{
	sqlite3_stmt *st = dd_db_stmt(db, "SELECT k.account, k.user_name, u.user_id, k.secret, k.status FROM iam_access_keys k"
					  " JOIN iam_users u ON u.account = k.account AND u.name = k.user_name WHERE k.access_key = ?1");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, access_key);
	int rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_reset(st);
		return rc == SQLITE_DONE ? DD_ENOTFOUND : DD_EIO;
	}
	memset(out, 0, sizeof *out);
	snprintf(out->account, sizeof out->account, "%s", dd_col_text(st, 0));
	snprintf(out->user, sizeof out->user, "%s", dd_col_text(st, 1));
	snprintf(out->user_id, sizeof out->user_id, "%s", dd_col_text(st, 2));
	snprintf(out->secret, sizeof out->secret, "%s", dd_col_text(st, 3));
	out->active = strcmp(dd_col_text(st, 4), "Active") == 0;
	sqlite3_reset(st);
	return 0;
}

/* ---- inline policies of users and groups ------------------------------------------- */

static int put_policy(struct dd_ctx *c, const struct kind *k, json_t *in)
{
	const char *pname = dd__str(in, "PolicyName"), *doc = dd__str(in, "PolicyDocument");
	char err[DD_POLICY_ERRMSG_SIZE], canon[128];
	int rc = dd_policy_validate(doc, strlen(doc), DD_POLICY_IAM, err, sizeof err);
	if (rc == DD_ENOMEM)
		return dd_fail(c, rc, "ServiceFailure", "out of memory");
	if (rc)
		return dd_fail(c, DD_EINVAL, "MalformedPolicyDocument", "%s", err);
	if (dd_db_begin_write(c->db))
		return db_fail(c);
	if (entity_get(c, k, dd__str(in, k->member), canon, NULL, 0))
		return c->err;
	size_t total = dd_policy_count_nonws(doc, strlen(doc));
	sqlite3_stmt *st = dd_db_stmt(c->db, k->q_pol_others);
	if (!st)
		return db_fail(c);
	dd_bind_text(st, 1, c->account);
	dd_bind_text(st, 2, canon);
	dd_bind_text(st, 3, pname);
	while (sqlite3_step(st) == SQLITE_ROW)
		total += dd_policy_count_nonws(dd_col_text(st, 0), strlen(dd_col_text(st, 0)));
	sqlite3_reset(st);
	if (total > k->inline_max) {
		dd_db_rollback(c->db);
		return dd_fail(c, DD_ELIMIT, "LimitExceeded", "Maximum policy size of %zu bytes exceeded for %s %s", k->inline_max,
			       k->label, canon);
	}
	st = dd_db_stmt(c->db, k->q_pol_put);
	if (!st)
		return db_fail(c);
	dd_bind_text(st, 1, c->account);
	dd_bind_text(st, 2, canon);
	dd_bind_text(st, 3, pname);
	dd_bind_text(st, 4, doc);
	if (dd_step_done(st))
		return db_fail(c);
	return done(c);
}

static int get_policy(struct dd_ctx *c, const struct kind *k, json_t *in, json_t **out)
{
	const char *pname = dd__str(in, "PolicyName");
	char canon[128];
	if (entity_get(c, k, dd__str(in, k->member), canon, NULL, 0))
		return c->err;
	sqlite3_stmt *st = dd_db_stmt(c->db, k->q_pol_get);
	if (!st)
		return db_fail(c);
	dd_bind_text(st, 1, c->account);
	dd_bind_text(st, 2, canon);
	dd_bind_text(st, 3, pname);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_reset(st);
		return dd_fail(c, DD_ENOTFOUND, "NoSuchEntity", k == &K_USER ? "The user policy with name %s cannot be found."
									   : "The group policy with name %s cannot be found.", pname);
	}
	*out = json_pack("{s:s, s:s, s:o}", k->member, canon, "PolicyName", dd_col_text(st, 0), "PolicyDocument",
			 encoded(dd_col_text(st, 1)));
	sqlite3_reset(st);
	return 0;
}

static int delete_policy(struct dd_ctx *c, const struct kind *k, json_t *in)
{
	const char *pname = dd__str(in, "PolicyName");
	char canon[128];
	if (dd_db_begin_write(c->db))
		return db_fail(c);
	if (entity_get(c, k, dd__str(in, k->member), canon, NULL, 0))
		return c->err;
	sqlite3_stmt *st = dd_db_stmt(c->db, k->q_pol_delete);
	if (!st)
		return db_fail(c);
	dd_bind_text(st, 1, c->account);
	dd_bind_text(st, 2, canon);
	dd_bind_text(st, 3, pname);
	if (dd_step_done(st))
		return db_fail(c);
	if (sqlite3_changes(dd_db_handle(c->db)) == 0)
		return fail_rb(c, DD_ENOTFOUND, "NoSuchEntity", k == &K_USER ? "The user policy with name %s cannot be found."
									    : "The group policy with name %s cannot be found.", pname);
	return done(c);
}

/* ListUserPolicies / ListGroupPolicies (att false) and ListAttached…Policies (att true). */
static int list_policies(struct dd_ctx *c, const struct kind *k, json_t *in, bool att, json_t **out)
{
	char after[1200], canon[128];
	int size;
	const char *prefix = dd__str(in, "PathPrefix");
	if (page_in(c, in, after, sizeof after, &size) || entity_get(c, k, dd__str(in, k->member), canon, NULL, 0))
		return c->err;
	sqlite3_stmt *st = dd_db_stmt(c->db, att ? k->q_att_list : k->q_pol_list);
	if (!st)
		return db_fail(c);
	dd_bind_text(st, 1, c->account);
	dd_bind_text(st, 2, canon);
	dd_bind_text(st, 3, after);
	json_t *items = json_array();
	char last[1200] = "";
	bool more = false;
	int n = 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *v = dd_col_text(st, 0);
		if (att && prefix) {
			/* the path of a policy ARN: from after ":policy" to the last '/' */
			const char *p = strstr(v, ":policy/");
			const char *slash = strrchr(v, '/');
			size_t plen = p && slash ? (size_t)(slash - (p + 7)) + 1 : 1;
			const char *path = p ? p + 7 : "/";
			if (strlen(prefix) > plen || strncmp(path, prefix, strlen(prefix)) != 0)
				continue;
		}
		if (n++ == size) {
			more = true;
			break;
		}
		if (att) {
			const char *slash = strrchr(v, '/');
			json_array_append_new(items, json_pack("{s:s, s:s}", "PolicyName", slash ? slash + 1 : v, "PolicyArn", v));
		} else {
			json_array_append_new(items, json_string(v));
		}
		snprintf(last, sizeof last, "%s", v);
	}
	sqlite3_reset(st);
	*out = json_pack("{s:o}", att ? "AttachedPolicies" : "PolicyNames", items);
	page_out(*out, more, last);
	return 0;
}

/* A policy ARN that can be attached: AWS managed, or a customer managed policy of c's
 * account. Fails c with NoSuchEntity (rolling back). */
static int policy_attachable(struct dd_ctx *c, const char *arn)
{
	if (dd_iam_managed_find(arn))
		return 0;
	int64_t n = count_q(c, "SELECT count(*) FROM iam_policies WHERE account = ?1 AND arn = ?2", arn, NULL);
	if (n < 0)
		return db_fail(c);
	if (n == 0)
		return fail_rb(c, DD_ENOTFOUND, "NoSuchEntity", "Policy %s does not exist or is not attachable.", arn);
	return 0;
}

static int attach(struct dd_ctx *c, const struct kind *k, json_t *in, bool on)
{
	const char *arn = dd__str(in, "PolicyArn");
	char canon[128];
	if (dd_db_begin_write(c->db))
		return db_fail(c);
	if (entity_get(c, k, dd__str(in, k->member), canon, NULL, 0))
		return c->err;
	if (on) {
		if (policy_attachable(c, arn))
			return c->err;
		int64_t have = count_q(c, k->q_att_others, canon, arn);
		if (have < 0)
			return db_fail(c);
		if (have >= MAX_ATTACHED) {
			dd_db_rollback(c->db);
			return dd_fail(c, DD_ELIMIT, "LimitExceeded", "Cannot exceed quota for %s: %d", k->quota, MAX_ATTACHED);
		}
	}
	sqlite3_stmt *st = dd_db_stmt(c->db, on ? k->q_att_insert : k->q_att_delete);
	if (!st)
		return db_fail(c);
	dd_bind_text(st, 1, c->account);
	dd_bind_text(st, 2, canon);
	dd_bind_text(st, 3, arn);
	if (dd_step_done(st))
		return db_fail(c);
	if (!on && sqlite3_changes(dd_db_handle(c->db)) == 0)
		return fail_rb(c, DD_ENOTFOUND, "NoSuchEntity", "Policy %s was not found.", arn);
	return done(c);
}

#define UNUSED_OUT (void)out
static int iam_put_user_policy(struct dd_ctx *c, json_t *in, json_t **out) { UNUSED_OUT; return put_policy(c, &K_USER, in); }
static int iam_put_group_policy(struct dd_ctx *c, json_t *in, json_t **out) { UNUSED_OUT; return put_policy(c, &K_GROUP, in); }
static int iam_get_user_policy(struct dd_ctx *c, json_t *in, json_t **out) { return get_policy(c, &K_USER, in, out); }
static int iam_get_group_policy(struct dd_ctx *c, json_t *in, json_t **out) { return get_policy(c, &K_GROUP, in, out); }
static int iam_delete_user_policy(struct dd_ctx *c, json_t *in, json_t **out) { UNUSED_OUT; return delete_policy(c, &K_USER, in); }
static int iam_delete_group_policy(struct dd_ctx *c, json_t *in, json_t **out) { UNUSED_OUT; return delete_policy(c, &K_GROUP, in); }
static int iam_list_user_policies(struct dd_ctx *c, json_t *in, json_t **out) { return list_policies(c, &K_USER, in, false, out); }
static int iam_list_group_policies(struct dd_ctx *c, json_t *in, json_t **out) { return list_policies(c, &K_GROUP, in, false, out); }
static int iam_list_attached_user_policies(struct dd_ctx *c, json_t *in, json_t **out) { return list_policies(c, &K_USER, in, true, out); }
static int iam_list_attached_group_policies(struct dd_ctx *c, json_t *in, json_t **out) { return list_policies(c, &K_GROUP, in, true, out); }
static int iam_attach_user_policy(struct dd_ctx *c, json_t *in, json_t **out) { UNUSED_OUT; return attach(c, &K_USER, in, true); }
static int iam_attach_group_policy(struct dd_ctx *c, json_t *in, json_t **out) { UNUSED_OUT; return attach(c, &K_GROUP, in, true); }
static int iam_detach_user_policy(struct dd_ctx *c, json_t *in, json_t **out) { UNUSED_OUT; return attach(c, &K_USER, in, false); }
static int iam_detach_group_policy(struct dd_ctx *c, json_t *in, json_t **out) { UNUSED_OUT; return attach(c, &K_GROUP, in, false); }

/* ---- the documents that apply to a user ---------------------------------------------- */

static int docs_push(struct dd_iam_policy_docs *d, const char *name, const char *arn, const char *doc)
{
	struct dd_iam_policy_doc *n = realloc(d->items, (d->n + 1) * sizeof *n);
	if (!n)
		return DD_ENOMEM;
	d->items = n;
	struct dd_iam_policy_doc *e = &d->items[d->n++];
	e->name = strdup(name);
	e->arn = arn ? strdup(arn) : NULL;
	e->document = strdup(doc);
	return e->name && e->document && (!arn || e->arn) ? 0 : DD_ENOMEM;
}

int dd_iam_user_policies(struct dd_db *db, const char *account, const char *user, struct dd_iam_policy_docs *out)
{
	struct dd_iam_policy_docs d = { 0 };
	sqlite3_stmt *st = dd_db_stmt(db, "SELECT name FROM iam_users WHERE account = ?1 AND name = ?2");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account);
	dd_bind_text(st, 2, user);
	int found = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_reset(st);
	if (!found)
		return DD_ENOTFOUND;
	int rc = 0;
	/* inline: the user's, then its groups' */
	st = dd_db_stmt(db, "SELECT policy_name, document FROM iam_user_policies WHERE account = ?1 AND user_name = ?2"
			    " UNION ALL SELECT p.policy_name, p.document FROM iam_group_members m JOIN iam_group_policies p"
			    " ON p.account = m.account AND p.group_name = m.group_name WHERE m.account = ?1 AND m.user_name = ?2");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account);
	dd_bind_text(st, 2, user);
	while (!rc && sqlite3_step(st) == SQLITE_ROW)
		rc = docs_push(&d, dd_col_text(st, 0), NULL, dd_col_text(st, 1));
	sqlite3_reset(st);
	/* attached: the user's and its groups' (AWS managed from the static table) */
	char **arns = NULL;
	size_t narns = 0;
	st = rc ? NULL : dd_db_stmt(db, "SELECT policy_arn FROM iam_user_attachments WHERE account = ?1 AND user_name = ?2"
					" UNION SELECT a.policy_arn FROM iam_group_members m JOIN iam_group_attachments a"
					" ON a.account = m.account AND a.group_name = m.group_name WHERE m.account = ?1 AND m.user_name = ?2");
	if (!rc && !st)
		rc = DD_EIO;
	if (st) {
		dd_bind_text(st, 1, account);
		dd_bind_text(st, 2, user);
		while (!rc && sqlite3_step(st) == SQLITE_ROW) {
			char **na = realloc(arns, (narns + 1) * sizeof *na);
			if (!na) {
				rc = DD_ENOMEM;
				break;
			}
			arns = na;
			if (!(arns[narns] = strdup(dd_col_text(st, 0))))
				rc = DD_ENOMEM;
			else
				narns++;
		}
		sqlite3_reset(st);
	}
	for (size_t i = 0; i < narns && !rc; i++) {
		const struct dd_iam_managed_policy *m = dd_iam_managed_find(arns[i]);
		if (m) {
			rc = docs_push(&d, m->name, m->arn, m->document);
			continue;
		}
		st = dd_db_stmt(db, "SELECT p.name, v.document FROM iam_policies p JOIN iam_policy_versions v"
				    " ON v.account = p.account AND v.policy_name = p.name AND v.version = p.default_version"
				    " WHERE p.account = ?1 AND p.arn = ?2");
		if (!st) {
			rc = DD_EIO;
			break;
		}
		dd_bind_text(st, 1, account);
		dd_bind_text(st, 2, arns[i]);
		if (sqlite3_step(st) == SQLITE_ROW)
			rc = docs_push(&d, dd_col_text(st, 0), arns[i], dd_col_text(st, 1));
		sqlite3_reset(st);
	}
	for (size_t i = 0; i < narns; i++)
		free(arns[i]);
	free(arns);
	if (rc) {
		dd_iam_policy_docs_clear(&d);
		return rc;
	}
	*out = d;
	return 0;
}

/* ---- STS --------------------------------------------------------------------------- */

static int sts_get_caller_identity(struct dd_ctx *c, json_t *in, json_t **out)
{
	(void)in;
	char arn[256];
	if (c->caller_user) {
		char path[128] = "/";
		sqlite3_stmt *st = dd_db_stmt(c->db, "SELECT path FROM iam_users WHERE account = ?1 AND name = ?2");
		if (st) {
			dd_bind_text(st, 1, c->account);
			dd_bind_text(st, 2, c->caller_user);
			if (sqlite3_step(st) == SQLITE_ROW)
				snprintf(path, sizeof path, "%s", dd_col_text(st, 0));
			sqlite3_reset(st);
		}
		snprintf(arn, sizeof arn, "arn:aws:iam::%s:user%s%s", c->account, path, c->caller_user);
		*out = json_pack("{s:s, s:s, s:s}", "UserId", c->caller_user_id ? c->caller_user_id : "", "Account", c->account,
				 "Arn", arn);
	} else {
		snprintf(arn, sizeof arn, "arn:aws:iam::%s:root", c->account);
		*out = json_pack("{s:s, s:s, s:s}", "UserId", c->account, "Account", c->account, "Arn", arn);
	}
	return *out ? 0 : dd_fail(c, DD_ENOMEM, "InternalFailure", "out of memory");
}

const struct dd_handler dd_iam_user_handlers[] = {
	{ "iam", "CreateUser", iam_create_user },
	{ "iam", "GetUser", iam_get_user },
	{ "iam", "ListUsers", iam_list_users },
	{ "iam", "DeleteUser", iam_delete_user },
	{ "iam", "CreateAccessKey", iam_create_access_key },
	{ "iam", "ListAccessKeys", iam_list_access_keys },
	{ "iam", "UpdateAccessKey", iam_update_access_key },
	{ "iam", "DeleteAccessKey", iam_delete_access_key },
	{ "iam", "PutUserPolicy", iam_put_user_policy },
	{ "iam", "GetUserPolicy", iam_get_user_policy },
	{ "iam", "DeleteUserPolicy", iam_delete_user_policy },
	{ "iam", "ListUserPolicies", iam_list_user_policies },
	{ "iam", "AttachUserPolicy", iam_attach_user_policy },
	{ "iam", "DetachUserPolicy", iam_detach_user_policy },
	{ "iam", "ListAttachedUserPolicies", iam_list_attached_user_policies },
	{ "iam", "CreateGroup", iam_create_group },
	{ "iam", "GetGroup", iam_get_group },
	{ "iam", "DeleteGroup", iam_delete_group },
	{ "iam", "AddUserToGroup", iam_add_user_to_group },
	{ "iam", "RemoveUserFromGroup", iam_remove_user_from_group },
	{ "iam", "ListGroupsForUser", iam_list_groups_for_user },
	{ "iam", "PutGroupPolicy", iam_put_group_policy },
	{ "iam", "GetGroupPolicy", iam_get_group_policy },
	{ "iam", "DeleteGroupPolicy", iam_delete_group_policy },
	{ "iam", "ListGroupPolicies", iam_list_group_policies },
	{ "iam", "AttachGroupPolicy", iam_attach_group_policy },
	{ "iam", "DetachGroupPolicy", iam_detach_group_policy },
	{ "iam", "ListAttachedGroupPolicies", iam_list_attached_group_policies },
	{ "sts", "GetCallerIdentity", sts_get_caller_identity },
	{ NULL, NULL, NULL },
};

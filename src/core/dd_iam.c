/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The IAM subset (awsQuery): roles with trust policies, inline role policies, customer
 * managed policies with up to five versions, role attachments, role tags, and the AWS
 * managed policies of dd_iam_managed.c. Names are case-insensitive as in IAM (the
 * tables use COLLATE NOCASE); the stored name keeps the case it was created with.
 * Documents are validated on every write (trust policies here, identity policies by the
 * policy engine) and stored as submitted; responses carry them percent-encoded, as AWS
 * does, which botocore decodes. Every row is scoped to the caller's account, and an ARN
 * naming another account resolves to nothing.
 */
#include <ctype.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/dd_registry_int.h"
#include "dd/buf.h"
#include "dd/iam.h"
#include "dd/policy.h"

#define ROLE_TRUST_MAX 2048
#define ROLE_INLINE_MAX 10240
#define POLICY_MAX 6144
#define MAX_ROLES 1000
#define MAX_POLICIES 1500
#define MAX_ATTACHED 10
#define MAX_VERSIONS 5
#define MAX_TAGS 50

/* ---- pure helpers ------------------------------------------------------------------ */

char *dd_iam_url_encode(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strlen(s);
	char *o = malloc(n * 3 + 1);
	if (!o)
		return NULL;
	char *p = o;
	for (const unsigned char *q = (const unsigned char *)s; *q; q++) {
		if (isalnum(*q) || *q == '-' || *q == '_' || *q == '.' || *q == '~') {
			*p++ = (char)*q;
		} else {
			*p++ = '%';
			*p++ = hex[*q >> 4];
			*p++ = hex[*q & 15];
		}
	}
	*p = '\0';
	return o;
}

static json_t *encoded(const char *doc)
{
	char *e = dd_iam_url_encode(doc ? doc : "");
	json_t *j = e ? json_string(e) : NULL;
	free(e);
	return j;
}

static bool is_string_or_strings(json_t *v)
{
	if (json_is_string(v))
		return true;
	if (!json_is_array(v) || json_array_size(v) == 0)
		return false;
	size_t i;
	json_t *e;
	json_array_foreach(v, i, e) if (!json_is_string(e)) return false;
	return true;
}

static int check_principal(json_t *p, char *err, size_t errlen)
{
	if (json_is_string(p)) {
		if (strcmp(json_string_value(p), "*") != 0) {
			snprintf(err, errlen, "Invalid principal in policy: \"%s\"", json_string_value(p));
			return DD_EINVAL;
		}
		return 0;
	}
	if (!json_is_object(p) || json_object_size(p) == 0) {
		snprintf(err, errlen, "Invalid principal in policy: Principal must be \"*\" or an object");
		return DD_EINVAL;
	}
	const char *k;
	json_t *v;
	json_object_foreach(p, k, v) {
		if (strcmp(k, "AWS") && strcmp(k, "Service") && strcmp(k, "Federated") && strcmp(k, "CanonicalUser")) {
			snprintf(err, errlen, "Invalid principal in policy: unknown principal type \"%s\"", k);
			return DD_EINVAL;
		}
		if (!is_string_or_strings(v)) {
			snprintf(err, errlen, "Invalid principal in policy: %s must be a string or a list of strings", k);
			return DD_EINVAL;
		}
	}
	return 0;
}

static int check_action(json_t *a, const char *member, char *err, size_t errlen)
{
	if (!is_string_or_strings(a)) {
		snprintf(err, errlen, "%s must be a string or a non-empty list of strings", member);
		return DD_EINVAL;
	}
	json_t *one = json_is_string(a) ? a : NULL;
	size_t i = 0, n = json_is_array(a) ? json_array_size(a) : 1;
	for (i = 0; i < n; i++) {
		const char *s = json_string_value(one ? one : json_array_get(a, i));
		if (strcmp(s, "*") != 0 && !strchr(s, ':')) {
			snprintf(err, errlen, "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc. (\"%s\")", s);
			return DD_EINVAL;
		}
	}
	return 0;
}

int dd_iam_trust_validate(const char *text, char *err, size_t errlen)
{
	json_error_t je;
	json_t *doc = json_loads(text ? text : "", JSON_REJECT_DUPLICATES, &je);
	int rc = DD_EINVAL;
	if (!doc || !json_is_object(doc)) {
		snprintf(err, errlen, "This policy contains invalid Json");
		goto out;
	}
	const char *k;
	json_t *v;
	json_object_foreach(doc, k, v) {
		if (strcmp(k, "Version") && strcmp(k, "Statement") && strcmp(k, "Id")) {
			snprintf(err, errlen, "Syntax errors in policy: unknown field %s", k);
			goto out;
		}
	}
	json_t *ver = json_object_get(doc, "Version");
	if (ver && (!json_is_string(ver) || (strcmp(json_string_value(ver), "2012-10-17") &&
					     strcmp(json_string_value(ver), "2008-10-17")))) {
		snprintf(err, errlen, "The policy must contain a valid version string");
		goto out;
	}
	json_t *st = json_object_get(doc, "Statement");
	if (!st || (!json_is_object(st) && (!json_is_array(st) || json_array_size(st) == 0))) {
		snprintf(err, errlen, "Syntax errors in policy: Statement is missing or empty");
		goto out;
	}
	size_t n = json_is_array(st) ? json_array_size(st) : 1;
	for (size_t i = 0; i < n; i++) {
		json_t *s = json_is_array(st) ? json_array_get(st, i) : st;
		if (!json_is_object(s)) {
			snprintf(err, errlen, "Syntax errors in policy: statement %zu is not an object", i + 1);
			goto out;
		}
		json_object_foreach(s, k, v) {
			if (!strcmp(k, "Resource") || !strcmp(k, "NotResource")) {
				snprintf(err, errlen, "Has prohibited field %s", k);
				goto out;
			}
			if (strcmp(k, "Sid") && strcmp(k, "Effect") && strcmp(k, "Principal") && strcmp(k, "NotPrincipal") &&
			    strcmp(k, "Action") && strcmp(k, "NotAction") && strcmp(k, "Condition")) {
				snprintf(err, errlen, "Syntax errors in policy: unknown field %s in statement %zu", k, i + 1);
				goto out;
			}
		}
		const char *eff = json_string_value(json_object_get(s, "Effect"));
		if (!eff || (strcmp(eff, "Allow") && strcmp(eff, "Deny"))) {
			snprintf(err, errlen, "Missing or invalid Effect in statement %zu (must be Allow or Deny)", i + 1);
			goto out;
		}
		json_t *p = json_object_get(s, "Principal"), *np = json_object_get(s, "NotPrincipal");
		if (!p == !np) {
			snprintf(err, errlen, "AssumeRolepolicy statement %zu must contain exactly one of Principal or NotPrincipal", i + 1);
			goto out;
		}
		if (check_principal(p ? p : np, err, errlen))
			goto out;
		json_t *a = json_object_get(s, "Action"), *na = json_object_get(s, "NotAction");
		if (!a == !na) {
			snprintf(err, errlen, "Statement %zu must contain exactly one of Action or NotAction", i + 1);
			goto out;
		}
		if (check_action(a ? a : na, a ? "Action" : "NotAction", err, errlen))
			goto out;
		json_t *cond = json_object_get(s, "Condition");
		if (cond && !json_is_object(cond)) {
			snprintf(err, errlen, "Syntax errors in policy: Condition of statement %zu must be an object", i + 1);
			goto out;
		}
	}
	rc = 0;
out:
	json_decref(doc);
	return rc;
}

static bool strings_match(json_t *v, const char *want, bool pattern)
{
	size_t n = json_is_array(v) ? json_array_size(v) : 1;
	for (size_t i = 0; i < n; i++) {
		const char *s = json_string_value(json_is_array(v) ? json_array_get(v, i) : v);
		if (!s)
			continue;
		if (pattern ? fnmatch(s, want, FNM_CASEFOLD) == 0 : strcmp(s, want) == 0)
			return true;
	}
	return false;
}

bool dd_iam_trust_allows_service(const char *trust_policy, const char *service)
{
	json_t *doc = json_loads(trust_policy ? trust_policy : "", 0, NULL);
	json_t *st = json_object_get(doc, "Statement");
	size_t n = json_is_array(st) ? json_array_size(st) : (json_is_object(st) ? 1 : 0);
	bool allow = false, deny = false;
	for (size_t i = 0; i < n; i++) {
		json_t *s = json_is_array(st) ? json_array_get(st, i) : st;
		json_t *a = json_object_get(s, "Action");
		json_t *p = json_object_get(s, "Principal");
		if (!a || !p || !strings_match(a, "sts:AssumeRole", true))
			continue;
		bool who = (json_is_string(p) && strcmp(json_string_value(p), "*") == 0) ||
			   (json_object_get(p, "Service") && strings_match(json_object_get(p, "Service"), service, false));
		if (!who)
			continue;
		const char *eff = json_string_value(json_object_get(s, "Effect"));
		if (eff && strcmp(eff, "Deny") == 0)
			deny = true;
		else if (eff && strcmp(eff, "Allow") == 0)
			allow = true;
	}
	json_decref(doc);
	return allow && !deny;
}

/* ---- request helpers --------------------------------------------------------------- */

static int db_fail(struct dd_ctx *c)
{
	dd_db_rollback(c->db);
	return dd_fail(c, DD_EIO, "ServiceFailure", "An internal store error occurred.");
}

static void iam_id(const char *prefix, char out[22])
{
	static const char alnum[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	size_t n = strlen(prefix);
	memcpy(out, prefix, n);
	while (n < 21) {
		unsigned char r[32];
		if (dd_random_bytes(r, sizeof r))
			memset(r, 7, sizeof r);
		for (size_t i = 0; i < sizeof r && n < 21; i++)
			if (r[i] < 252)
				out[n++] = alnum[r[i] % 36];
	}
	out[21] = '\0';
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

static void make_role_arn(char *buf, size_t len, const char *account, const char *path, const char *name)
{
	snprintf(buf, len, "arn:aws:iam::%s:role%s%s", account, path, name);
}

/* Parses a stored JSON array (tags); an empty array when absent or unreadable. */
static json_t *json_array_text(const char *text)
{
	json_t *j = text && *text ? json_loads(text, 0, NULL) : NULL;
	if (json_is_array(j))
		return j;
	json_decref(j);
	return json_array();
}

/* Builds the Role structure from a row of ROLE_COLS. */
#define ROLE_COLS "name, role_id, path, trust_policy, description, max_session, permissions_boundary, tags, created"

static json_t *role_json(struct dd_ctx *c, sqlite3_stmt *st, bool full)
{
	char arn[1200];
	make_role_arn(arn, sizeof arn, c->account, dd_col_text(st, 2), dd_col_text(st, 0));
	json_t *r = json_pack("{s:s, s:s, s:s, s:s, s:o, s:o, s:I}", "Path", dd_col_text(st, 2),
			      "RoleName", dd_col_text(st, 0), "RoleId", dd_col_text(st, 1), "Arn", arn,
			      "CreateDate", dd_json_time(sqlite3_column_int64(st, 8)),
			      "AssumeRolePolicyDocument", encoded(dd_col_text(st, 3)),
			      "MaxSessionDuration", (json_int_t)sqlite3_column_int64(st, 5));
	if (!r)
		return NULL;
	if (sqlite3_column_type(st, 4) != SQLITE_NULL)
		json_object_set_new(r, "Description", json_string(dd_col_text(st, 4)));
	if (sqlite3_column_type(st, 6) != SQLITE_NULL)
		json_object_set_new(r, "PermissionsBoundary",
				    json_pack("{s:s, s:s}", "PermissionsBoundaryType", "Policy",
					      "PermissionsBoundaryArn", dd_col_text(st, 6)));
	if (full) {
		json_t *tags = json_array_text(dd_col_text(st, 7));
		if (json_array_size(tags))
			json_object_set_new(r, "Tags", tags);
		else
			json_decref(tags);
		json_object_set_new(r, "RoleLastUsed", json_object());
	}
	return r;
}

/* Loads a role's Role structure, or fails c with NoSuchEntity. */
static int role_load(struct dd_ctx *c, const char *name, json_t **out)
{
	sqlite3_stmt *st = dd_db_stmt(c->db, "SELECT " ROLE_COLS " FROM iam_roles WHERE account = ?1 AND name = ?2");
	if (!st)
		return db_fail(c);
	dd_bind_text(st, 1, c->account);
	dd_bind_text(st, 2, name);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_reset(st);
		return dd_fail(c, DD_ENOTFOUND, "NoSuchEntity", "The role with name %s cannot be found.", name);
	}
	*out = role_json(c, st, true);
	sqlite3_reset(st);
	return *out ? 0 : dd_fail(c, DD_ENOMEM, "ServiceFailure", "out of memory");
}

/* The stored (canonical) name of a role; fails c with NoSuchEntity. */
static int role_name(struct dd_ctx *c, const char *name, char *buf, size_t len)
{
	sqlite3_stmt *st = dd_db_stmt(c->db, "SELECT name FROM iam_roles WHERE account = ?1 AND name = ?2");
	if (!st)
		return db_fail(c);
	dd_bind_text(st, 1, c->account);
	dd_bind_text(st, 2, name);
	int found = sqlite3_step(st) == SQLITE_ROW;
	if (found)
		snprintf(buf, len, "%s", dd_col_text(st, 0));
	sqlite3_reset(st);
	if (!found) {
		if (dd_db_in_tx(c->db))
			dd_db_rollback(c->db);
		return dd_fail(c, DD_ENOTFOUND, "NoSuchEntity", "The role with name %s cannot be found.", name);
	}
	return 0;
}

static int64_t count_of(struct dd_ctx *c, sqlite3_stmt *st, const char *a2, const char *a3)
{
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

/* Validates an IAM Tags list: at most MAX_TAGS, no duplicate keys. */
static int check_tags(struct dd_ctx *c, json_t *tags)
{
	if (!tags)
		return 0;
	if (json_array_size(tags) > MAX_TAGS)
		return dd_fail(c, DD_ELIMIT, "LimitExceeded", "Cannot exceed quota for TagsPerRole: %d", MAX_TAGS);
	for (size_t i = 0; i < json_array_size(tags); i++)
		for (size_t j = i + 1; j < json_array_size(tags); j++)
			if (json_equal(json_object_get(json_array_get(tags, i), "Key"),
				       json_object_get(json_array_get(tags, j), "Key")))
				return dd_fail(c, DD_EINVAL, "InvalidInput", "Duplicate tag keys found. Please note that Tag keys are case insensitive.");
	return 0;
}

static char *dump_compact(json_t *j)
{
	return json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
}

static int check_identity_doc(struct dd_ctx *c, const char *doc, size_t limit, const char *quota)
{
	char err[DD_POLICY_ERRMSG_SIZE];
	int rc = dd_policy_validate(doc, strlen(doc), DD_POLICY_IAM, err, sizeof err);
	if (rc == DD_ENOMEM)
		return dd_fail(c, rc, "ServiceFailure", "out of memory");
	if (rc)
		return dd_fail(c, DD_EINVAL, "MalformedPolicyDocument", "%s", err);
	if (limit && dd_policy_count_nonws(doc, strlen(doc)) > limit)
		return dd_fail(c, DD_ELIMIT, "LimitExceeded", "Cannot exceed quota for %s: %zu", quota, limit);
	return 0;
}

static int check_trust(struct dd_ctx *c, const char *doc)
{
	char err[256];
	if (dd_iam_trust_validate(doc, err, sizeof err))
		return dd_fail(c, DD_EINVAL, "MalformedPolicyDocument", "%s", err);
	if (dd_policy_count_nonws(doc, strlen(doc)) > ROLE_TRUST_MAX)
		return dd_fail(c, DD_ELIMIT, "LimitExceeded", "Cannot exceed quota for ACLSizePerRole: %d", ROLE_TRUST_MAX);
	return 0;
}

/* ---- roles ------------------------------------------------------------------------- */

static int iam_create_role(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *name = dd__str(in, "RoleName"), *doc = dd__str(in, "AssumeRolePolicyDocument");
	const char *path = dd__str(in, "Path"), *desc = dd__str(in, "Description");
	const char *boundary = dd__str(in, "PermissionsBoundary");
	int64_t maxs = dd__int(in, "MaxSessionDuration", 3600);
	json_t *tags = json_object_get(in, "Tags");
	if (!path)
		path = "/";
	if (path[0] != '/' || path[strlen(path) - 1] != '/')
		return dd_fail(c, DD_EINVAL, "ValidationError", "The specified value for path is invalid. It must begin and end with / and contain only alphanumeric characters and/or / characters.");
	if (maxs < 3600 || maxs > 43200)
		return dd_fail(c, DD_EINVAL, "ValidationError", "The requested MaxSessionDuration exceeds the allowed range of 3600 to 43200 seconds.");
	if (check_trust(c, doc) || check_tags(c, tags))
		return c->err;
	/* a boundary is an AWS managed policy or a customer managed policy of this account */
	struct dd_arn ba;
	if (boundary && !dd_iam_managed_find(boundary) &&
	    (dd_iam_arn_parse(boundary, &ba) || strcmp(ba.partition, "aws") || strcmp(ba.service, "iam") ||
	     strncmp(ba.resource, "policy/", 7) != 0 || strcmp(ba.account, c->account) != 0))
		return dd_fail(c, DD_EINVAL, "InvalidInput", "ARN %s is not valid.", boundary);
	char id[22];
	iam_id("AROA", id);
	char *tag_text = tags ? dump_compact(tags) : NULL;
	if (dd_db_begin_write(c->db)) {
		free(tag_text);
		return db_fail(c);
	}
	int64_t n = count_of(c, dd_db_stmt(c->db, "SELECT count(*) FROM iam_roles WHERE account = ?1 AND name = ?2"), name, NULL);
	int64_t total = count_of(c, dd_db_stmt(c->db, "SELECT count(*) FROM iam_roles WHERE account = ?1"), NULL, NULL);
	if (n < 0 || total < 0)
		goto dberr;
	if (n > 0) {
		dd_db_rollback(c->db);
		free(tag_text);
		return dd_fail(c, DD_EEXIST, "EntityAlreadyExists", "Role with name %s already exists.", name);
	}
	if (total >= MAX_ROLES) {
		dd_db_rollback(c->db);
		free(tag_text);
		return dd_fail(c, DD_ELIMIT, "LimitExceeded", "Cannot exceed quota for RolesPerAccount: %d", MAX_ROLES);
	}
	sqlite3_stmt *st = dd_db_stmt(c->db,
		"INSERT INTO iam_roles(account, name, role_id, path, trust_policy, description, max_session,"
		" permissions_boundary, tags, created) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, coalesce(?9, '[]'), ?10)");
	if (!st)
		goto dberr;
	dd_bind_text(st, 1, c->account);
	dd_bind_text(st, 2, name);
	dd_bind_text(st, 3, id);
	dd_bind_text(st, 4, path);
	dd_bind_text(st, 5, doc);
	dd_bind_text(st, 6, desc);
	dd_bind_int64(st, 7, maxs);
	dd_bind_text(st, 8, boundary);
	dd_bind_text(st, 9, tag_text);
	dd_bind_int64(st, 10, c->now_ms);
	if (dd_step_done(st) || dd_db_commit(c->db))
		goto dberr;
	free(tag_text);
	json_t *role = NULL;
	if (role_load(c, name, &role))
		return c->err;
	json_object_del(role, "RoleLastUsed");
	*out = json_pack("{s:o}", "Role", role);
	return 0;
dberr:
	free(tag_text);
	return db_fail(c);
}

static int iam_get_role(struct dd_ctx *c, json_t *in, json_t **out)
{
	json_t *role = NULL;
	if (role_load(c, dd__str(in, "RoleName"), &role))
		return c->err;
	*out = json_pack("{s:o}", "Role", role);
	return 0;
}

static int iam_list_roles(struct dd_ctx *c, json_t *in, json_t **out)
{
	char after[256];
	int size;
	if (page_in(c, in, after, sizeof after, &size))
		return c->err;
	const char *prefix = dd__str(in, "PathPrefix");
	sqlite3_stmt *st = dd_db_stmt(c->db,
		"SELECT " ROLE_COLS " FROM iam_roles WHERE account = ?1 AND name > ?2"
		" AND (?3 IS NULL OR substr(path, 1, length(?3)) = ?3) ORDER BY name LIMIT ?4");
	if (!st)
		return db_fail(c);
	dd_bind_text(st, 1, c->account);
	dd_bind_text(st, 2, after);
	dd_bind_text(st, 3, prefix);
	dd_bind_int64(st, 4, size + 1);
	json_t *roles = json_array();
	char last[256] = "";
	bool more = false;
	int n = 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (n++ == size) {
			more = true;
			break;
		}
		json_array_append_new(roles, role_json(c, st, false));
		snprintf(last, sizeof last, "%s", dd_col_text(st, 0));
	}
	sqlite3_reset(st);
	*out = json_pack("{s:o}", "Roles", roles);
	page_out(*out, more, last);
	return 0;
}

static int iam_delete_role(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *name = dd__str(in, "RoleName");
	char canon[128];
	if (dd_db_begin_write(c->db))
		return db_fail(c);
	if (role_name(c, name, canon, sizeof canon))
		return c->err;
	int64_t attached = count_of(c, dd_db_stmt(c->db, "SELECT count(*) FROM iam_role_attachments WHERE account = ?1 AND role_name = ?2"), canon, NULL);
	int64_t inl = count_of(c, dd_db_stmt(c->db, "SELECT count(*) FROM iam_role_policies WHERE account = ?1 AND role_name = ?2"), canon, NULL);
	if (attached < 0 || inl < 0)
		return db_fail(c);
	if (attached > 0 || inl > 0) {
		dd_db_rollback(c->db);
		return dd_fail(c, DD_ECONFLICT, "DeleteConflict", attached > 0
			       ? "Cannot delete entity, must detach all policies first."
			       : "Cannot delete entity, must delete policies first.");
	}
	sqlite3_stmt *st = dd_db_stmt(c->db, "DELETE FROM iam_roles WHERE account = ?1 AND name = ?2");
	if (!st)
		return db_fail(c);
	dd_bind_text(st, 1, c->account);
	dd_bind_text(st, 2, canon);
	if (dd_step_done(st) || dd_db_commit(c->db))
		return db_fail(c);
	(void)out;
	return 0;
}

static int iam_update_assume_role_policy(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *name = dd__str(in, "RoleName"), *doc = dd__str(in, "PolicyDocument");
	if (check_trust(c, doc))
		return c->err;
	sqlite3_stmt *st = dd_db_stmt(c->db, "UPDATE iam_roles SET trust_policy = ?3 WHERE account = ?1 AND name = ?2");
	if (!st)
		return db_fail(c);
	dd_bind_text(st, 1, c->account);
	dd_bind_text(st, 2, name);
	dd_bind_text(st, 3, doc);
	if (dd_step_done(st))
		return db_fail(c);
	if (sqlite3_changes(dd_db_handle(c->db)) == 0)
		return dd_fail(c, DD_ENOTFOUND, "NoSuchEntity", "The role with name %s cannot be found.", name);
	(void)out;
	return 0;
}

/* ---- role tags --------------------------------------------------------------------- */

static int load_tags(struct dd_ctx *c, const char *name, char *canon, size_t canonlen, json_t **tags)
{
	sqlite3_stmt *st = dd_db_stmt(c->db, "SELECT name, tags FROM iam_roles WHERE account = ?1 AND name = ?2");
	if (!st)
		return db_fail(c);
	dd_bind_text(st, 1, c->account);
	dd_bind_text(st, 2, name);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_reset(st);
		if (dd_db_in_tx(c->db))
			dd_db_rollback(c->db);
		return dd_fail(c, DD_ENOTFOUND, "NoSuchEntity", "The role with name %s cannot be found.", name);
	}
	snprintf(canon, canonlen, "%s", dd_col_text(st, 0));
	*tags = json_array_text(dd_col_text(st, 1));
	sqlite3_reset(st);
	return 0;
}

static int save_tags(struct dd_ctx *c, const char *canon, json_t *tags)
{
	char *t = dump_compact(tags);
	sqlite3_stmt *st = dd_db_stmt(c->db, "UPDATE iam_roles SET tags = ?3 WHERE account = ?1 AND name = ?2");
	if (!st || !t) {
		free(t);
		return db_fail(c);
	}
	dd_bind_text(st, 1, c->account);
	dd_bind_text(st, 2, canon);
	dd_bind_text(st, 3, t);
	free(t);
	if (dd_step_done(st) || dd_db_commit(c->db))
		return db_fail(c);
	return 0;
}

static void tag_remove(json_t *tags, const char *key)
{
	for (size_t i = 0; i < json_array_size(tags);) {
		const char *k = json_string_value(json_object_get(json_array_get(tags, i), "Key"));
		if (k && strcasecmp(k, key) == 0)
			json_array_remove(tags, i);
		else
			i++;
	}
}

static int iam_tag_role(struct dd_ctx *c, json_t *in, json_t **out)
{
	json_t *add = json_object_get(in, "Tags"), *tags = NULL;
	char canon[128];
	if (check_tags(c, add))
		return c->err;
	if (dd_db_begin_write(c->db))
		return db_fail(c);
	if (load_tags(c, dd__str(in, "RoleName"), canon, sizeof canon, &tags))
		return c->err;
	size_t i;
	json_t *t;
	json_array_foreach(add, i, t) {
		tag_remove(tags, json_string_value(json_object_get(t, "Key")));
		json_array_append(tags, t);
	}
	if (json_array_size(tags) > MAX_TAGS) {
		json_decref(tags);
		dd_db_rollback(c->db);
		return dd_fail(c, DD_ELIMIT, "LimitExceeded", "Cannot exceed quota for TagsPerRole: %d", MAX_TAGS);
	}
	int rc = save_tags(c, canon, tags);
	json_decref(tags);
	(void)out;
	return rc;
}

static int iam_untag_role(struct dd_ctx *c, json_t *in, json_t **out)
{
	json_t *keys = json_object_get(in, "TagKeys"), *tags = NULL;
	char canon[128];
	if (dd_db_begin_write(c->db))
		return db_fail(c);
	if (load_tags(c, dd__str(in, "RoleName"), canon, sizeof canon, &tags))
		return c->err;
	size_t i;
	json_t *k;
	json_array_foreach(keys, i, k) if (json_is_string(k)) tag_remove(tags, json_string_value(k));
	int rc = save_tags(c, canon, tags);
	json_decref(tags);
	(void)out;
	return rc;
}

static int iam_list_role_tags(struct dd_ctx *c, json_t *in, json_t **out)
{
	json_t *tags = NULL;
	char canon[128];
	if (load_tags(c, dd__str(in, "RoleName"), canon, sizeof canon, &tags))
		return c->err;
	*out = json_pack("{s:o, s:b}", "Tags", tags, "IsTruncated", 0);
	return 0;
}

/* ---- inline role policies ------------------------------------------------------------ */

static int iam_put_role_policy(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *name = dd__str(in, "RoleName"), *pname = dd__str(in, "PolicyName");
	const char *doc = dd__str(in, "PolicyDocument");
	if (check_identity_doc(c, doc, 0, NULL))
		return c->err;
	char canon[128];
	if (dd_db_begin_write(c->db))
		return db_fail(c);
	if (role_name(c, name, canon, sizeof canon))
		return c->err;
	/* the aggregate size of a role's inline policies is limited */
	size_t total = dd_policy_count_nonws(doc, strlen(doc));
	sqlite3_stmt *st = dd_db_stmt(c->db, "SELECT document FROM iam_role_policies WHERE account = ?1 AND role_name = ?2 AND policy_name <> ?3");
	if (!st)
		return db_fail(c);
	dd_bind_text(st, 1, c->account);
	dd_bind_text(st, 2, canon);
	dd_bind_text(st, 3, pname);
	while (sqlite3_step(st) == SQLITE_ROW)
		total += dd_policy_count_nonws(dd_col_text(st, 0), strlen(dd_col_text(st, 0)));
	sqlite3_reset(st);
	if (total > ROLE_INLINE_MAX) {
		dd_db_rollback(c->db);
		return dd_fail(c, DD_ELIMIT, "LimitExceeded", "Maximum policy size of %d bytes exceeded for role %s",
			       ROLE_INLINE_MAX, canon);
	}
	st = dd_db_stmt(c->db, "INSERT INTO iam_role_policies(account, role_name, policy_name, document) VALUES (?1, ?2, ?3, ?4)"
			       " ON CONFLICT(account, role_name, policy_name) DO UPDATE SET document = excluded.document");
	if (!st)
		return db_fail(c);
	dd_bind_text(st, 1, c->account);
	dd_bind_text(st, 2, canon);
	dd_bind_text(st, 3, pname);
	dd_bind_text(st, 4, doc);
	if (dd_step_done(st) || dd_db_commit(c->db))
		return db_fail(c);
	(void)out;
	return 0;
}

static int iam_get_role_policy(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *name = dd__str(in, "RoleName"), *pname = dd__str(in, "PolicyName");
	char canon[128];
	if (role_name(c, name, canon, sizeof canon))
		return c->err;
	sqlite3_stmt *st = dd_db_stmt(c->db, "SELECT policy_name, document FROM iam_role_policies WHERE account = ?1 AND role_name = ?2 AND policy_name = ?3");
	if (!st)
		return db_fail(c);
	dd_bind_text(st, 1, c->account);
	dd_bind_text(st, 2, canon);
	dd_bind_text(st, 3, pname);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_reset(st);
		return dd_fail(c, DD_ENOTFOUND, "NoSuchEntity", "The role policy with name %s cannot be found.", pname);
	}
	*out = json_pack("{s:s, s:s, s:o}", "RoleName", canon, "PolicyName", dd_col_text(st, 0),
			 "PolicyDocument", encoded(dd_col_text(st, 1)));
	sqlite3_reset(st);
	return 0;
}

static int iam_list_role_policies(struct dd_ctx *c, json_t *in, json_t **out)
{
	char after[256], canon[128];
	int size;
	if (page_in(c, in, after, sizeof after, &size) || role_name(c, dd__str(in, "RoleName"), canon, sizeof canon))
		return c->err;
	sqlite3_stmt *st = dd_db_stmt(c->db, "SELECT policy_name FROM iam_role_policies WHERE account = ?1 AND role_name = ?2"
					     " AND policy_name > ?3 ORDER BY policy_name LIMIT ?4");
	if (!st)
		return db_fail(c);
	dd_bind_text(st, 1, c->account);
	dd_bind_text(st, 2, canon);
	dd_bind_text(st, 3, after);
	dd_bind_int64(st, 4, size + 1);
	json_t *names = json_array();
	char last[256] = "";
	bool more = false;
	int n = 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (n++ == size) {
			more = true;
			break;
		}
		json_array_append_new(names, json_string(dd_col_text(st, 0)));
		snprintf(last, sizeof last, "%s", dd_col_text(st, 0));
	}
	sqlite3_reset(st);
	*out = json_pack("{s:o}", "PolicyNames", names);
	page_out(*out, more, last);
	return 0;
}

static int iam_delete_role_policy(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *pname = dd__str(in, "PolicyName");
	char canon[128];
	if (role_name(c, dd__str(in, "RoleName"), canon, sizeof canon))
		return c->err;
	sqlite3_stmt *st = dd_db_stmt(c->db, "DELETE FROM iam_role_policies WHERE account = ?1 AND role_name = ?2 AND policy_name = ?3");
	if (!st)
		return db_fail(c);
	dd_bind_text(st, 1, c->account);
	dd_bind_text(st, 2, canon);
	dd_bind_text(st, 3, pname);
	if (dd_step_done(st))
		return db_fail(c);
	if (sqlite3_changes(dd_db_handle(c->db)) == 0)
		return dd_fail(c, DD_ENOTFOUND, "NoSuchEntity", "The role policy with name %s cannot be found.", pname);
	(void)out;
	return 0;
}

/* ---- managed policies ---------------------------------------------------------------- */

/* A resolved policy ARN: AWS managed (static) or customer managed (name in the store). */
struct pol {
	const struct dd_iam_managed_policy *aws;
	char name[160];
};

/* Resolves arn in c's account; fails c with NoSuchEntity ("does not exist or is not
 * attachable" when attaching). */
static int policy_resolve(struct dd_ctx *c, const char *arn, struct pol *p, bool attach)
{
	memset(p, 0, sizeof *p);
	p->aws = dd_iam_managed_find(arn);
	if (p->aws)
		return 0;
	char prefix[64];
	snprintf(prefix, sizeof prefix, "arn:aws:iam::%s:policy/", c->account);
	const char *slash = strrchr(arn, '/');
	if (strncmp(arn, prefix, strlen(prefix)) == 0 && slash && slash[1] && strlen(slash + 1) < sizeof p->name) {
		sqlite3_stmt *st = dd_db_stmt(c->db, "SELECT name FROM iam_policies WHERE account = ?1 AND arn = ?2");
		if (!st)
			return db_fail(c);
		dd_bind_text(st, 1, c->account);
		dd_bind_text(st, 2, arn);
		bool found = sqlite3_step(st) == SQLITE_ROW;
		if (found)
			snprintf(p->name, sizeof p->name, "%s", dd_col_text(st, 0));
		sqlite3_reset(st);
		if (found)
			return 0;
	}
	if (dd_db_in_tx(c->db))
		dd_db_rollback(c->db);
	if (attach)
		return dd_fail(c, DD_ENOTFOUND, "NoSuchEntity", "Policy %s does not exist or is not attachable.", arn);
	return dd_fail(c, DD_ENOTFOUND, "NoSuchEntity", "Policy %s was not found.", arn);
}

static int64_t attachment_count(struct dd_ctx *c, const char *arn)
{
	return count_of(c, dd_db_stmt(c->db, "SELECT (SELECT count(*) FROM iam_role_attachments WHERE account = ?1 AND policy_arn = ?2)"
					      " + (SELECT count(*) FROM iam_user_attachments WHERE account = ?1 AND policy_arn = ?2)"
					      " + (SELECT count(*) FROM iam_group_attachments WHERE account = ?1 AND policy_arn = ?2)"), arn, NULL);
}

static int64_t boundary_count(struct dd_ctx *c, const char *arn)
{
	return count_of(c, dd_db_stmt(c->db, "SELECT count(*) FROM iam_roles WHERE account = ?1 AND permissions_boundary = ?2"), arn, NULL);
}

static json_t *managed_json(struct dd_ctx *c, const struct dd_iam_managed_policy *m, bool full)
{
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:b, s:o, s:o}", "PolicyName", m->name,
			      "PolicyId", m->policy_id, "Arn", m->arn, "Path", m->path, "DefaultVersionId", m->version_id,
			      "AttachmentCount", (json_int_t)attachment_count(c, m->arn),
			      "PermissionsBoundaryUsageCount", (json_int_t)boundary_count(c, m->arn), "IsAttachable", 1,
			      "CreateDate", dd_json_time(m->created_ms), "UpdateDate", dd_json_time(m->updated_ms));
	if (o && full)
		json_object_set_new(o, "Description", json_string(m->description));
	return o;
}

#define POLICY_COLS "name, arn, policy_id, path, description, default_version, tags, created, updated"

static json_t *local_json(struct dd_ctx *c, sqlite3_stmt *st, bool full)
{
	char ver[24];
	snprintf(ver, sizeof ver, "v%lld", (long long)sqlite3_column_int64(st, 5));
	const char *arn = dd_col_text(st, 1);
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:b, s:o, s:o}", "PolicyName", dd_col_text(st, 0),
			      "PolicyId", dd_col_text(st, 2), "Arn", arn, "Path", dd_col_text(st, 3), "DefaultVersionId", ver,
			      "AttachmentCount", (json_int_t)attachment_count(c, arn),
			      "PermissionsBoundaryUsageCount", (json_int_t)boundary_count(c, arn), "IsAttachable", 1,
			      "CreateDate", dd_json_time(sqlite3_column_int64(st, 7)),
			      "UpdateDate", dd_json_time(sqlite3_column_int64(st, 8)));
	if (o && full) {
		if (sqlite3_column_type(st, 4) != SQLITE_NULL)
			json_object_set_new(o, "Description", json_string(dd_col_text(st, 4)));
		json_t *tags = json_array_text(dd_col_text(st, 6));
		if (json_array_size(tags))
			json_object_set_new(o, "Tags", tags);
		else
			json_decref(tags);
	}
	return o;
}

static int local_load(struct dd_ctx *c, const char *name, bool full, json_t **out)
{
	sqlite3_stmt *st = dd_db_stmt(c->db, "SELECT " POLICY_COLS " FROM iam_policies WHERE account = ?1 AND name = ?2");
	if (!st)
		return db_fail(c);
	dd_bind_text(st, 1, c->account);
	dd_bind_text(st, 2, name);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_reset(st);
		return dd_fail(c, DD_ENOTFOUND, "NoSuchEntity", "Policy %s was not found.", name);
	}
	*out = local_json(c, st, full);
	sqlite3_reset(st);
	return 0;
}

static int iam_create_policy(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *name = dd__str(in, "PolicyName"), *doc = dd__str(in, "PolicyDocument");
	const char *path = dd__str(in, "Path"), *desc = dd__str(in, "Description");
	json_t *tags = json_object_get(in, "Tags");
	if (!path)
		path = "/";
	if (path[0] != '/' || path[strlen(path) - 1] != '/')
		return dd_fail(c, DD_EINVAL, "ValidationError", "The specified value for path is invalid. It must begin and end with / and contain only alphanumeric characters and/or / characters.");
	if (check_identity_doc(c, doc, POLICY_MAX, "PolicySize") || check_tags(c, tags))
		return c->err;
	char arn[1200], id[22];
	snprintf(arn, sizeof arn, "arn:aws:iam::%s:policy%s%s", c->account, path, name);
	iam_id("ANPA", id);
	char *tag_text = tags ? dump_compact(tags) : NULL;
	if (dd_db_begin_write(c->db)) {
		free(tag_text);
		return db_fail(c);
	}
	int64_t n = count_of(c, dd_db_stmt(c->db, "SELECT count(*) FROM iam_policies WHERE account = ?1 AND name = ?2"), name, NULL);
	int64_t total = count_of(c, dd_db_stmt(c->db, "SELECT count(*) FROM iam_policies WHERE account = ?1"), NULL, NULL);
	if (n < 0 || total < 0)
		goto dberr;
	if (n > 0 || total >= MAX_POLICIES) {
		dd_db_rollback(c->db);
		free(tag_text);
		if (n > 0)
			return dd_fail(c, DD_EEXIST, "EntityAlreadyExists", "A policy called %s already exists. Duplicate names are not allowed.", name);
		return dd_fail(c, DD_ELIMIT, "LimitExceeded", "Cannot exceed quota for PoliciesPerAccount: %d", MAX_POLICIES);
	}
	sqlite3_stmt *st = dd_db_stmt(c->db,
		"INSERT INTO iam_policies(account, name, arn, policy_id, path, description, default_version, next_version,"
		" tags, created, updated) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 1, 2, coalesce(?7, '[]'), ?8, ?8)");
	if (!st)
		goto dberr;
	dd_bind_text(st, 1, c->account);
	dd_bind_text(st, 2, name);
	dd_bind_text(st, 3, arn);
	dd_bind_text(st, 4, id);
	dd_bind_text(st, 5, path);
	dd_bind_text(st, 6, desc);
	dd_bind_text(st, 7, tag_text);
	dd_bind_int64(st, 8, c->now_ms);
	if (dd_step_done(st))
		goto dberr;
	st = dd_db_stmt(c->db, "INSERT INTO iam_policy_versions(account, policy_name, version, document, created) VALUES (?1, ?2, 1, ?3, ?4)");
	if (!st)
		goto dberr;
	dd_bind_text(st, 1, c->account);
	dd_bind_text(st, 2, name);
	dd_bind_text(st, 3, doc);
	dd_bind_int64(st, 4, c->now_ms);
	if (dd_step_done(st) || dd_db_commit(c->db))
		goto dberr;
	free(tag_text);
	json_t *p = NULL;
	if (local_load(c, name, false, &p))
		return c->err;
	if (tags && json_array_size(tags))
		json_object_set(p, "Tags", tags);
	*out = json_pack("{s:o}", "Policy", p);
	return 0;
dberr:
	free(tag_text);
	return db_fail(c);
}

static int iam_get_policy(struct dd_ctx *c, json_t *in, json_t **out)
{
	struct pol p;
	json_t *o = NULL;
	if (policy_resolve(c, dd__str(in, "PolicyArn"), &p, false))
		return c->err;
	if (p.aws)
		o = managed_json(c, p.aws, true);
	else if (local_load(c, p.name, true, &o))
		return c->err;
	*out = json_pack("{s:o}", "Policy", o);
	return 0;
}

/* Parses "v<n>"; returns n or -1. */
static int64_t version_num(const char *v)
{
	int64_t n;
	if (!v || v[0] != 'v' || dd_parse_int64(v + 1, 1, 1000000, &n))
		return -1;
	return n;
}

static int iam_get_policy_version(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *arn = dd__str(in, "PolicyArn"), *vid = dd__str(in, "VersionId");
	struct pol p;
	if (policy_resolve(c, arn, &p, false))
		return c->err;
	if (p.aws) {
		if (strcmp(vid, p.aws->version_id) != 0)
			return dd_fail(c, DD_ENOTFOUND, "NoSuchEntity", "Policy %s version %s does not exist or is not attachable.", arn, vid);
		*out = json_pack("{s:{s:o, s:s, s:b, s:o}}", "PolicyVersion", "Document", encoded(p.aws->document),
				 "VersionId", vid, "IsDefaultVersion", 1, "CreateDate", dd_json_time(p.aws->updated_ms));
		return 0;
	}
	int64_t v = version_num(vid);
	sqlite3_stmt *st = dd_db_stmt(c->db,
		"SELECT v.document, v.created, p.default_version FROM iam_policy_versions v JOIN iam_policies p"
		" ON p.account = v.account AND p.name = v.policy_name"
		" WHERE v.account = ?1 AND v.policy_name = ?2 AND v.version = ?3");
	if (!st)
		return db_fail(c);
	dd_bind_text(st, 1, c->account);
	dd_bind_text(st, 2, p.name);
	dd_bind_int64(st, 3, v);
	if (v < 0 || sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_reset(st);
		return dd_fail(c, DD_ENOTFOUND, "NoSuchEntity", "Policy %s version %s does not exist or is not attachable.", arn, vid);
	}
	*out = json_pack("{s:{s:o, s:s, s:b, s:o}}", "PolicyVersion", "Document", encoded(dd_col_text(st, 0)),
			 "VersionId", vid, "IsDefaultVersion", sqlite3_column_int64(st, 2) == v,
			 "CreateDate", dd_json_time(sqlite3_column_int64(st, 1)));
	sqlite3_reset(st);
	return 0;
}

static int cmp_arn(const void *a, const void *b)
{
	json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
	return strcmp(json_string_value(json_object_get(x, "Arn")), json_string_value(json_object_get(y, "Arn")));
}

static int iam_list_policies(struct dd_ctx *c, json_t *in, json_t **out)
{
	char after[1200];
	int size;
	if (page_in(c, in, after, sizeof after, &size))
		return c->err;
	const char *scope = dd__str(in, "Scope"), *prefix = dd__str(in, "PathPrefix");
	bool only_attached = dd__bool(in, "OnlyAttached", false);
	if (!scope)
		scope = "All";
	json_t *all = json_array();
	if (strcmp(scope, "Local") != 0)
		for (size_t i = 0; i < dd_iam_managed_count(); i++)
			json_array_append_new(all, managed_json(c, dd_iam_managed_at(i), false));
	if (strcmp(scope, "AWS") != 0) {
		sqlite3_stmt *st = dd_db_stmt(c->db, "SELECT " POLICY_COLS " FROM iam_policies WHERE account = ?1");
		if (!st) {
			json_decref(all);
			return db_fail(c);
		}
		dd_bind_text(st, 1, c->account);
		while (sqlite3_step(st) == SQLITE_ROW)
			json_array_append_new(all, local_json(c, st, false));
		sqlite3_reset(st);
	}
	size_t n = json_array_size(all);
	json_t **v = calloc(n ? n : 1, sizeof *v);
	if (!v) {
		json_decref(all);
		return dd_fail(c, DD_ENOMEM, "ServiceFailure", "out of memory");
	}
	for (size_t i = 0; i < n; i++)
		v[i] = json_array_get(all, i);
	qsort(v, n, sizeof *v, cmp_arn);
	json_t *page = json_array();
	bool more = false;
	char last[1200] = "";
	for (size_t i = 0; i < n; i++) {
		const char *arn = json_string_value(json_object_get(v[i], "Arn"));
		const char *path = json_string_value(json_object_get(v[i], "Path"));
		if (strcmp(arn, after) <= 0)
			continue;
		if (prefix && strncmp(path, prefix, strlen(prefix)) != 0)
			continue;
		if (only_attached && json_integer_value(json_object_get(v[i], "AttachmentCount")) == 0)
			continue;
		if ((int)json_array_size(page) == size) {
			more = true;
			break;
		}
		json_array_append(page, v[i]);
		snprintf(last, sizeof last, "%s", arn);
	}
	free(v);
	json_decref(all);
	*out = json_pack("{s:o}", "Policies", page);
	page_out(*out, more, last);
	return 0;
}

static int local_only(struct dd_ctx *c, const char *arn, struct pol *p)
{
	if (policy_resolve(c, arn, p, false))
		return c->err;
	if (p->aws) {
		if (dd_db_in_tx(c->db))
			dd_db_rollback(c->db);
		return dd_fail(c, DD_EINVAL, "InvalidInput", "The AWS managed policy %s cannot be modified.", arn);
	}
	return 0;
}

static int iam_create_policy_version(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *arn = dd__str(in, "PolicyArn"), *doc = dd__str(in, "PolicyDocument");
	bool set_default = dd__bool(in, "SetAsDefault", false);
	struct pol p;
	if (check_identity_doc(c, doc, POLICY_MAX, "PolicySize"))
		return c->err;
	if (dd_db_begin_write(c->db))
		return db_fail(c);
	if (local_only(c, arn, &p))
		return c->err;
	int64_t nv = count_of(c, dd_db_stmt(c->db, "SELECT count(*) FROM iam_policy_versions WHERE account = ?1 AND policy_name = ?2"), p.name, NULL);
	int64_t next = count_of(c, dd_db_stmt(c->db, "SELECT next_version FROM iam_policies WHERE account = ?1 AND name = ?2"), p.name, NULL);
	if (nv < 0 || next < 0)
		return db_fail(c);
	if (nv >= MAX_VERSIONS) {
		dd_db_rollback(c->db);
		return dd_fail(c, DD_ELIMIT, "LimitExceeded", "A managed policy can have up to %d versions. Before you create a new version, you must delete an existing version.", MAX_VERSIONS);
	}
	sqlite3_stmt *st = dd_db_stmt(c->db, "INSERT INTO iam_policy_versions(account, policy_name, version, document, created) VALUES (?1, ?2, ?3, ?4, ?5)");
	if (!st)
		return db_fail(c);
	dd_bind_text(st, 1, c->account);
	dd_bind_text(st, 2, p.name);
	dd_bind_int64(st, 3, next);
	dd_bind_text(st, 4, doc);
	dd_bind_int64(st, 5, c->now_ms);
	if (dd_step_done(st))
		return db_fail(c);
	st = dd_db_stmt(c->db, "UPDATE iam_policies SET next_version = ?3 + 1, updated = ?4,"
			       " default_version = CASE WHEN ?5 THEN ?3 ELSE default_version END WHERE account = ?1 AND name = ?2");
	if (!st)
		return db_fail(c);
	dd_bind_text(st, 1, c->account);
	dd_bind_text(st, 2, p.name);
	dd_bind_int64(st, 3, next);
	dd_bind_int64(st, 4, c->now_ms);
	dd_bind_int64(st, 5, set_default);
	if (dd_step_done(st) || dd_db_commit(c->db))
		return db_fail(c);
	char vid[24];
	snprintf(vid, sizeof vid, "v%lld", (long long)next);
	*out = json_pack("{s:{s:s, s:b, s:o}}", "PolicyVersion", "VersionId", vid, "IsDefaultVersion", set_default,
			 "CreateDate", dd_json_time(c->now_ms));
	return 0;
}

static int iam_list_policy_versions(struct dd_ctx *c, json_t *in, json_t **out)
{
	struct pol p;
	if (policy_resolve(c, dd__str(in, "PolicyArn"), &p, false))
		return c->err;
	json_t *vs = json_array();
	if (p.aws) {
		json_array_append_new(vs, json_pack("{s:s, s:b, s:o}", "VersionId", p.aws->version_id, "IsDefaultVersion", 1,
						    "CreateDate", dd_json_time(p.aws->updated_ms)));
	} else {
		sqlite3_stmt *st = dd_db_stmt(c->db,
			"SELECT v.version, v.created, p.default_version FROM iam_policy_versions v JOIN iam_policies p"
			" ON p.account = v.account AND p.name = v.policy_name"
			" WHERE v.account = ?1 AND v.policy_name = ?2 ORDER BY v.version DESC");
		if (!st) {
			json_decref(vs);
			return db_fail(c);
		}
		dd_bind_text(st, 1, c->account);
		dd_bind_text(st, 2, p.name);
		while (sqlite3_step(st) == SQLITE_ROW) {
			char vid[24];
			snprintf(vid, sizeof vid, "v%lld", (long long)sqlite3_column_int64(st, 0));
			json_array_append_new(vs, json_pack("{s:s, s:b, s:o}", "VersionId", vid, "IsDefaultVersion",
							    sqlite3_column_int64(st, 0) == sqlite3_column_int64(st, 2),
							    "CreateDate", dd_json_time(sqlite3_column_int64(st, 1))));
		}
		sqlite3_reset(st);
	}
	*out = json_pack("{s:o, s:b}", "Versions", vs, "IsTruncated", 0);
	return 0;
}

static int iam_delete_policy_version(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *arn = dd__str(in, "PolicyArn"), *vid = dd__str(in, "VersionId");
	struct pol p;
	if (dd_db_begin_write(c->db))
		return db_fail(c);
	if (local_only(c, arn, &p))
		return c->err;
	int64_t v = version_num(vid);
	int64_t dflt = count_of(c, dd_db_stmt(c->db, "SELECT default_version FROM iam_policies WHERE account = ?1 AND name = ?2"), p.name, NULL);
	if (dflt == v) {
		dd_db_rollback(c->db);
		return dd_fail(c, DD_ECONFLICT, "DeleteConflict", "Cannot delete the default version of a policy.");
	}
	sqlite3_stmt *st = dd_db_stmt(c->db, "DELETE FROM iam_policy_versions WHERE account = ?1 AND policy_name = ?2 AND version = ?3");
	if (!st)
		return db_fail(c);
	dd_bind_text(st, 1, c->account);
	dd_bind_text(st, 2, p.name);
	dd_bind_int64(st, 3, v);
	if (dd_step_done(st))
		return db_fail(c);
	if (sqlite3_changes(dd_db_handle(c->db)) == 0) {
		dd_db_rollback(c->db);
		return dd_fail(c, DD_ENOTFOUND, "NoSuchEntity", "Policy %s version %s does not exist.", arn, vid);
	}
	if (dd_db_commit(c->db))
		return db_fail(c);
	(void)out;
	return 0;
}

static int iam_delete_policy(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *arn = dd__str(in, "PolicyArn");
	struct pol p;
	if (dd_db_begin_write(c->db))
		return db_fail(c);
	if (local_only(c, arn, &p))
		return c->err;
	int64_t att = attachment_count(c, arn);
	int64_t nv = count_of(c, dd_db_stmt(c->db, "SELECT count(*) FROM iam_policy_versions WHERE account = ?1 AND policy_name = ?2"), p.name, NULL);
	if (att < 0 || nv < 0)
		return db_fail(c);
	if (att > 0 || boundary_count(c, arn) > 0) {
		dd_db_rollback(c->db);
		return dd_fail(c, DD_ECONFLICT, "DeleteConflict", "Cannot delete a policy attached to entities.");
	}
	if (nv > 1) {
		dd_db_rollback(c->db);
		return dd_fail(c, DD_ECONFLICT, "DeleteConflict", "This policy has more than one version. Before you delete a policy, you must delete the policy's versions. The default version is deleted with the policy.");
	}
	sqlite3_stmt *st = dd_db_stmt(c->db, "DELETE FROM iam_policy_versions WHERE account = ?1 AND policy_name = ?2");
	if (!st)
		return db_fail(c);
	dd_bind_text(st, 1, c->account);
	dd_bind_text(st, 2, p.name);
	if (dd_step_done(st))
		return db_fail(c);
	st = dd_db_stmt(c->db, "DELETE FROM iam_policies WHERE account = ?1 AND name = ?2");
	if (!st)
		return db_fail(c);
	dd_bind_text(st, 1, c->account);
	dd_bind_text(st, 2, p.name);
	if (dd_step_done(st) || dd_db_commit(c->db))
		return db_fail(c);
	(void)out;
	return 0;
}

/* ---- attachments ------------------------------------------------------------------- */

static int iam_attach_role_policy(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *arn = dd__str(in, "PolicyArn");
	char canon[128];
	struct pol p;
	if (dd_db_begin_write(c->db))
		return db_fail(c);
	if (role_name(c, dd__str(in, "RoleName"), canon, sizeof canon) ||
	    policy_resolve(c, arn, &p, true))
		return c->err;
	int64_t have = count_of(c, dd_db_stmt(c->db, "SELECT count(*) FROM iam_role_attachments WHERE account = ?1 AND role_name = ?2 AND policy_arn <> ?3"), canon, arn);
	if (have < 0)
		return db_fail(c);
	if (have >= MAX_ATTACHED) {
		dd_db_rollback(c->db);
		return dd_fail(c, DD_ELIMIT, "LimitExceeded", "Cannot exceed quota for PoliciesPerRole: %d", MAX_ATTACHED);
	}
	sqlite3_stmt *st = dd_db_stmt(c->db, "INSERT OR IGNORE INTO iam_role_attachments(account, role_name, policy_arn) VALUES (?1, ?2, ?3)");
	if (!st)
		return db_fail(c);
	dd_bind_text(st, 1, c->account);
	dd_bind_text(st, 2, canon);
	dd_bind_text(st, 3, arn);
	if (dd_step_done(st) || dd_db_commit(c->db))
		return db_fail(c);
	(void)out;
	return 0;
}

static int iam_detach_role_policy(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *arn = dd__str(in, "PolicyArn");
	char canon[128];
	if (role_name(c, dd__str(in, "RoleName"), canon, sizeof canon))
		return c->err;
	sqlite3_stmt *st = dd_db_stmt(c->db, "DELETE FROM iam_role_attachments WHERE account = ?1 AND role_name = ?2 AND policy_arn = ?3");
	if (!st)
		return db_fail(c);
	dd_bind_text(st, 1, c->account);
	dd_bind_text(st, 2, canon);
	dd_bind_text(st, 3, arn);
	if (dd_step_done(st))
		return db_fail(c);
	if (sqlite3_changes(dd_db_handle(c->db)) == 0)
		return dd_fail(c, DD_ENOTFOUND, "NoSuchEntity", "Policy %s was not found.", arn);
	(void)out;
	return 0;
}

/* The path part of a policy ARN ("/service-role/"). */
static void arn_path(const char *arn, char *buf, size_t len)
{
	const char *p = strstr(arn, ":policy/");
	const char *slash = strrchr(arn, '/');
	if (!p || !slash || slash < p + 7) {
		snprintf(buf, len, "/");
		return;
	}
	p += 7;
	snprintf(buf, len, "%.*s", (int)(slash - p + 1), p);
}

static int iam_list_attached_role_policies(struct dd_ctx *c, json_t *in, json_t **out)
{
	char after[1200], canon[128];
	int size;
	const char *prefix = dd__str(in, "PathPrefix");
	if (page_in(c, in, after, sizeof after, &size) || role_name(c, dd__str(in, "RoleName"), canon, sizeof canon))
		return c->err;
	sqlite3_stmt *st = dd_db_stmt(c->db, "SELECT policy_arn FROM iam_role_attachments WHERE account = ?1 AND role_name = ?2"
					     " AND policy_arn > ?3 ORDER BY policy_arn");
	if (!st)
		return db_fail(c);
	dd_bind_text(st, 1, c->account);
	dd_bind_text(st, 2, canon);
	dd_bind_text(st, 3, after);
	json_t *list = json_array();
	char last[1200] = "";
	bool more = false;
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *arn = dd_col_text(st, 0);
		char path[1024];
		arn_path(arn, path, sizeof path);
		if (prefix && strncmp(path, prefix, strlen(prefix)) != 0)
			continue;
		if ((int)json_array_size(list) == size) {
			more = true;
			break;
		}
		const char *slash = strrchr(arn, '/');
		json_array_append_new(list, json_pack("{s:s, s:s}", "PolicyName", slash ? slash + 1 : arn, "PolicyArn", arn));
		snprintf(last, sizeof last, "%s", arn);
	}
	sqlite3_reset(st);
	*out = json_pack("{s:o}", "AttachedPolicies", list);
	page_out(*out, more, last);
	return 0;
}

/* ---- C API for the audit and mitigation engines ------------------------------------ */

static char *dup_or_null(sqlite3_stmt *st, int col)
{
	return sqlite3_column_type(st, col) == SQLITE_NULL ? NULL : strdup(dd_col_text(st, col));
}

void dd_iam_role_clear(struct dd_iam_role *r)
{
	if (!r)
		return;
	free(r->name);
	free(r->arn);
	free(r->role_id);
	free(r->path);
	free(r->trust_policy);
	free(r->description);
	memset(r, 0, sizeof *r);
}

int dd_iam_role_get(struct dd_db *db, const char *account, const char *role_arn, struct dd_iam_role *out)
{
	if (!db || !account || !role_arn)
		return DD_EINVAL;
	const char *name = role_arn;
	if (strncmp(role_arn, "arn:", 4) == 0) {
		char prefix[64];
		snprintf(prefix, sizeof prefix, "arn:aws:iam::%s:role/", account);
		const char *slash = strrchr(role_arn, '/');
		if (strncmp(role_arn, prefix, strlen(prefix)) != 0 || !slash)
			return DD_ENOTFOUND;
		name = slash + 1;
	}
	sqlite3_stmt *st = dd_db_stmt(db, "SELECT name, role_id, path, trust_policy, description, max_session, created"
					  " FROM iam_roles WHERE account = ?1 AND name = ?2");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account);
	dd_bind_text(st, 2, name);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_reset(st);
		return DD_ENOTFOUND;
	}
	char arn[1200];
	make_role_arn(arn, sizeof arn, account, dd_col_text(st, 2), dd_col_text(st, 0));
	if (strncmp(role_arn, "arn:", 4) == 0 && strcmp(arn, role_arn) != 0) {
		sqlite3_reset(st);
		return DD_ENOTFOUND;
	}
	struct dd_iam_role r = {
		.name = strdup(dd_col_text(st, 0)), .arn = strdup(arn), .role_id = strdup(dd_col_text(st, 1)),
		.path = strdup(dd_col_text(st, 2)), .trust_policy = strdup(dd_col_text(st, 3)),
		.description = dup_or_null(st, 4), .max_session = sqlite3_column_int(st, 5),
		.created_ms = sqlite3_column_int64(st, 6),
	};
	sqlite3_reset(st);
	if (!r.name || !r.arn || !r.role_id || !r.path || !r.trust_policy) {
		dd_iam_role_clear(&r);
		return DD_ENOMEM;
	}
	*out = r;
	return 0;
}

void dd_iam_policy_docs_clear(struct dd_iam_policy_docs *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->n; i++) {
		free(d->items[i].name);
		free(d->items[i].arn);
		free(d->items[i].document);
	}
	free(d->items);
	d->items = NULL;
	d->n = 0;
}

static int docs_add(struct dd_iam_policy_docs *d, const char *name, const char *arn, const char *doc)
{
	struct dd_iam_policy_doc *n = realloc(d->items, (d->n + 1) * sizeof *n);
	if (!n)
		return DD_ENOMEM;
	d->items = n;
	struct dd_iam_policy_doc *e = &d->items[d->n];
	e->name = strdup(name);
	e->arn = arn ? strdup(arn) : NULL;
	e->document = strdup(doc);
	d->n++;
	return e->name && e->document && (!arn || e->arn) ? 0 : DD_ENOMEM;
}

int dd_iam_role_policies(struct dd_db *db, const char *account, const char *role_arn, struct dd_iam_policy_docs *out)
{
	struct dd_iam_role r;
	int rc = dd_iam_role_get(db, account, role_arn, &r);
	if (rc)
		return rc;
	struct dd_iam_policy_docs d = { 0 };
	sqlite3_stmt *st = dd_db_stmt(db, "SELECT policy_name, document FROM iam_role_policies WHERE account = ?1 AND role_name = ?2 ORDER BY policy_name");
	if (!st) {
		rc = DD_EIO;
		goto out;
	}
	dd_bind_text(st, 1, account);
	dd_bind_text(st, 2, r.name);
	while (!rc && sqlite3_step(st) == SQLITE_ROW)
		rc = docs_add(&d, dd_col_text(st, 0), NULL, dd_col_text(st, 1));
	sqlite3_reset(st);
	char **arns = NULL;
	size_t narns = 0;
	st = dd_db_stmt(db, "SELECT policy_arn FROM iam_role_attachments WHERE account = ?1 AND role_name = ?2 ORDER BY policy_arn");
	if (!st) {
		rc = rc ? rc : DD_EIO;
		goto out;
	}
	dd_bind_text(st, 1, account);
	dd_bind_text(st, 2, r.name);
	while (!rc && sqlite3_step(st) == SQLITE_ROW) {
		char **na = realloc(arns, (narns + 1) * sizeof *na);
		if (!na || !(na[narns] = strdup(dd_col_text(st, 0)))) {
			arns = na ? na : arns;
			rc = DD_ENOMEM;
			break;
		}
		arns = na;
		narns++;
	}
	sqlite3_reset(st);
	for (size_t i = 0; i < narns && !rc; i++) {
		const struct dd_iam_managed_policy *m = dd_iam_managed_find(arns[i]);
		if (m) {
			rc = docs_add(&d, m->name, m->arn, m->document);
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
			rc = docs_add(&d, dd_col_text(st, 0), arns[i], dd_col_text(st, 1));
		sqlite3_reset(st);
	}
	for (size_t i = 0; i < narns; i++)
		free(arns[i]);
	free(arns);
out:
	dd_iam_role_clear(&r);
	if (rc) {
		dd_iam_policy_docs_clear(&d);
		return rc;
	}
	*out = d;
	return 0;
}

int dd_iam_arn_parse(const char *arn, struct dd_arn *out)
{
	if (!arn || strncmp(arn, "arn:", 4) != 0)
		return DD_EINVAL;
	struct dd_arn a;
	char *fields[4] = { a.partition, a.service, a.region, a.account };
	size_t sizes[4] = { sizeof a.partition, sizeof a.service, sizeof a.region, sizeof a.account };
	const char *p = arn + 4;
	for (int i = 0; i < 4; i++) {
		const char *colon = strchr(p, ':');
		if (!colon || (size_t)(colon - p) >= sizes[i])
			return DD_EINVAL;
		memcpy(fields[i], p, (size_t)(colon - p));
		fields[i][colon - p] = '\0';
		p = colon + 1;
	}
	if (!a.partition[0] || !a.service[0] || !*p)
		return DD_EINVAL;
	a.resource = p;
	*out = a;
	return 0;
}

int dd_iam_role_arn_check(const char *account, const char *arn)
{
	struct dd_arn a;
	if (dd_iam_arn_parse(arn, &a) || strcmp(a.partition, "aws") || strcmp(a.service, "iam") || a.region[0] ||
	    strncmp(a.resource, "role/", 5) != 0 || !a.resource[5] || a.resource[strlen(a.resource) - 1] == '/')
		return DD_EINVAL;
	if (!account || strcmp(a.account, account) != 0)
		return DD_EDENIED;
	return 0;
}

int dd_iam_role_trusts_service(struct dd_db *db, const char *account, const char *role_arn, const char *service, bool *out)
{
	struct dd_iam_role r;
	int rc = dd_iam_role_get(db, account, role_arn, &r);
	if (rc)
		return rc;
	*out = dd_iam_trust_allows_service(r.trust_policy, service);
	dd_iam_role_clear(&r);
	return 0;
}

const struct dd_handler dd_iam_handlers[] = {
	{ "iam", "CreateRole", iam_create_role },
	{ "iam", "GetRole", iam_get_role },
	{ "iam", "ListRoles", iam_list_roles },
	{ "iam", "DeleteRole", iam_delete_role },
	{ "iam", "UpdateAssumeRolePolicy", iam_update_assume_role_policy },
	{ "iam", "TagRole", iam_tag_role },
	{ "iam", "UntagRole", iam_untag_role },
	{ "iam", "ListRoleTags", iam_list_role_tags },
	{ "iam", "PutRolePolicy", iam_put_role_policy },
	{ "iam", "GetRolePolicy", iam_get_role_policy },
	{ "iam", "ListRolePolicies", iam_list_role_policies },
	{ "iam", "DeleteRolePolicy", iam_delete_role_policy },
	{ "iam", "AttachRolePolicy", iam_attach_role_policy },
	{ "iam", "DetachRolePolicy", iam_detach_role_policy },
	{ "iam", "ListAttachedRolePolicies", iam_list_attached_role_policies },
	{ "iam", "CreatePolicy", iam_create_policy },
	{ "iam", "GetPolicy", iam_get_policy },
	{ "iam", "GetPolicyVersion", iam_get_policy_version },
	{ "iam", "ListPolicies", iam_list_policies },
	{ "iam", "DeletePolicy", iam_delete_policy },
	{ "iam", "CreatePolicyVersion", iam_create_policy_version },
	{ "iam", "ListPolicyVersions", iam_list_policy_versions },
	{ "iam", "DeletePolicyVersion", iam_delete_policy_version },
	{ NULL, NULL, NULL },
};

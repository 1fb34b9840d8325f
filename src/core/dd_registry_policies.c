/* SPDX-License-Identifier: Apache-2.0 */
/*
 * IoT policies and their versions (at most 5, one default), attachment to targets
 * (certificate ARNs, thing-group ARNs, Cognito identity ids), thing principals, and the
 * two questions a user asks before any broker exists: GetEffectivePolicies and
 * TestAuthorization, answered by the policy engine over the principal's policies (its own
 * and those of the groups of the things it is attached to, parents included).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/dd_registry_int.h"
#include "core/dd_registry_handlers.h"
#include "dd/authz.h"
#include "dd/policy.h"

#define MAX_VERSIONS 5
#define MAX_POLICIES_PER_TARGET 10

static int validate_doc(struct dd_ctx *c, const char *doc)
{
	char msg[DD_POLICY_ERRMSG_SIZE];
	int rc = dd_policy_validate(doc, strlen(doc), DD_POLICY_IOT, msg, sizeof msg);
	if (rc == DD_ENOMEM)
		return dd_fail(c, rc, "InternalFailureException", "out of memory");
	if (rc)
		return dd_fail(c, DD_EINVAL, "MalformedPolicyException", "%s", msg);
	return 0;
}

struct policy_row {
	bool found;
	int64_t default_version, next_version, created, modified;
	char generation[37];
};

static int load_policy(struct dd_ctx *c, const char *name, struct policy_row *p)
{
	memset(p, 0, sizeof *p);
	sqlite3_stmt *st = dd_db_stmt(c->db, "SELECT default_version, next_version, created, modified, generation_id"
					     " FROM policies WHERE account_region = ?1 AND name = ?2");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, c->account_region);
	dd_bind_text(st, 2, name);
	if (sqlite3_step(st) == SQLITE_ROW) {
		p->found = true;
		p->default_version = sqlite3_column_int64(st, 0);
		p->next_version = sqlite3_column_int64(st, 1);
		p->created = sqlite3_column_int64(st, 2);
		p->modified = sqlite3_column_int64(st, 3);
		snprintf(p->generation, sizeof p->generation, "%s", dd_col_text(st, 4));
	}
	sqlite3_reset(st);
	return 0;
}

static int not_found(struct dd_ctx *c, const char *name)
{
	return dd_fail(c, DD_ENOTFOUND, "ResourceNotFoundException", "Policy not found: %s", name);
}

static char *version_doc(struct dd_ctx *c, const char *name, int64_t version, int64_t *created)
{
	sqlite3_stmt *st = dd_db_stmt(c->db, "SELECT document, created FROM policy_versions WHERE account_region = ?1 AND policy_name = ?2 AND version = ?3");
	if (!st)
		return NULL;
	dd_bind_text(st, 1, c->account_region);
	dd_bind_text(st, 2, name);
	dd_bind_int64(st, 3, version);
	char *doc = NULL;
	if (sqlite3_step(st) == SQLITE_ROW) {
		doc = strdup(dd_col_text(st, 0));
		if (created)
			*created = sqlite3_column_int64(st, 1);
	}
	sqlite3_reset(st);
	return doc;
}

static int insert_version(struct dd_ctx *c, const char *name, int64_t version, const char *doc)
{
	sqlite3_stmt *st = dd_db_stmt(c->db, "INSERT INTO policy_versions(account_region, policy_name, version, document, created) VALUES (?1, ?2, ?3, ?4, ?5)");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, c->account_region);
	dd_bind_text(st, 2, name);
	dd_bind_int64(st, 3, version);
	dd_bind_text(st, 4, doc);
	dd_bind_int64(st, 5, c->now_ms);
	return dd_step_done(st);
}


int dd_iot_create_policy(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *name = dd__str(in, "policyName");
	const char *doc = dd__str(in, "policyDocument");
	if (validate_doc(c, doc))
		return c->err;
	char gen[37];
	dd__uuid(gen);
	if (dd_db_begin_write(c->db))
		return dd__db_fail(c);
	struct policy_row p;
	if (load_policy(c, name, &p))
		return dd__db_fail(c);
	if (p.found) {
		dd_db_rollback(c->db);
		char arn[700];
		dd__arn_buf(c, arn, sizeof arn, "policy/%s", name);
		return dd_fail_exists(c, name, arn, "Policy cannot be created - name already exists (name=%s)", name);
	}
	sqlite3_stmt *st = dd_db_stmt(c->db, "INSERT INTO policies(account_region, name, default_version, next_version, created, modified, generation_id)"
					     " VALUES (?1, ?2, 1, 2, ?3, ?3, ?4)");
	if (!st)
		return dd__db_fail(c);
	dd_bind_text(st, 1, c->account_region);
	dd_bind_text(st, 2, name);
	dd_bind_int64(st, 3, c->now_ms);
	dd_bind_text(st, 4, gen);
	char arn[700];
	dd__arn_buf(c, arn, sizeof arn, "policy/%s", name);
	if (dd_step_done(st) || insert_version(c, name, 1, doc) || dd__tags_put(c, arn, json_object_get(in, "tags")) ||
	    dd_db_commit(c->db))
		return dd__db_fail(c);
	*out = json_pack("{s:s, s:s, s:s, s:s}", "policyName", name, "policyArn", arn, "policyDocument", doc,
			 "policyVersionId", "1");
	return 0;
}

int dd_iot_get_policy(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *name = dd__str(in, "policyName");
	struct policy_row p;
	if (load_policy(c, name, &p))
		return dd__db_fail(c);
	if (!p.found)
		return not_found(c, name);
	char *doc = version_doc(c, name, p.default_version, NULL);
	if (!doc)
		return dd__db_fail(c);
	char ver[32];
	snprintf(ver, sizeof ver, "%lld", (long long)p.default_version);
	*out = json_pack("{s:s, s:o, s:s, s:s, s:o, s:o, s:s}", "policyName", name, "policyArn",
			 dd__arn(c, "policy/%s", name), "policyDocument", doc, "defaultVersionId", ver,
			 "creationDate", dd_json_time(p.created), "lastModifiedDate", dd_json_time(p.modified),
			 "generationId", p.generation);
	free(doc);
	return 0;
}

static json_t *policy_row(struct dd_ctx *c, sqlite3_stmt *st, char *key, size_t keylen)
{
	snprintf(key, keylen, "%s", dd_col_text(st, 0));
	return json_pack("{s:s, s:o}", "policyName", key, "policyArn", dd__arn(c, "policy/%s", key));
}

/* Marker-based listing of names (policies, role aliases): marker is our opaque token. */
int dd_iot_list_policies(struct dd_ctx *c, json_t *in, json_t **out)
{
	char after[512];
	int size;
	if (dd__page(c, in, "marker", "pageSize", 250, 250, after, sizeof after, &size))
		return c->err;
	bool asc = dd__bool(in, "ascendingOrder", true);
	sqlite3_stmt *st = asc
		? dd_db_stmt(c->db, "SELECT name FROM policies WHERE account_region = ?1 AND name > ?2 ORDER BY name LIMIT ?3")
		: dd_db_stmt(c->db, "SELECT name FROM policies WHERE account_region = ?1 AND (?2 = '' OR name < ?2) ORDER BY name DESC LIMIT ?3");
	if (!st)
		return dd__db_fail(c);
	dd_bind_text(st, 1, c->account_region);
	dd_bind_text(st, 2, after);
	dd_bind_int64(st, 3, size + 1);
	return dd__page_list(c, st, size, policy_row, "policies", "nextMarker", out);
}

static int count_rows(struct dd_ctx *c, const char *sql, const char *a, const char *b)
{
	sqlite3_stmt *st = dd_db_stmt(c->db, sql);
	if (!st)
		return -1;
	dd_bind_text(st, 1, c->account_region);
	dd_bind_text(st, 2, a);
	if (b)
		dd_bind_text(st, 3, b);
	int n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
	sqlite3_reset(st);
	return n;
}

int dd_iot_delete_policy(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *name = dd__str(in, "policyName");
	*out = NULL;
	if (dd_db_begin_write(c->db))
		return dd__db_fail(c);
	struct policy_row p;
	if (load_policy(c, name, &p))
		return dd__db_fail(c);
	if (!p.found) {
		dd_db_rollback(c->db);
		return not_found(c, name);
	}
	int targets = count_rows(c, "SELECT count(*) FROM policy_targets WHERE account_region = ?1 AND policy_name = ?2", name, NULL);
	int versions = count_rows(c, "SELECT count(*) FROM policy_versions WHERE account_region = ?1 AND policy_name = ?2", name, NULL);
	if (targets < 0 || versions < 0)
		return dd__db_fail(c);
	if (targets > 0) {
		dd_db_rollback(c->db);
		return dd_fail(c, DD_ECONFLICT, "DeleteConflictException",
			       "The policy cannot be deleted as the policy is attached to one or more principals (name=%s)", name);
	}
	if (versions > 1) {
		dd_db_rollback(c->db);
		return dd_fail(c, DD_ECONFLICT, "DeleteConflictException",
			       "Cannot delete the policy because it has one or more policy versions attached to it (name=%s)", name);
	}
	static const char *const dels[] = {
		"DELETE FROM policies WHERE account_region = ?1 AND name = ?2",
		"DELETE FROM policy_versions WHERE account_region = ?1 AND policy_name = ?2",
	};
	for (int i = 0; i < 2; i++) {
		sqlite3_stmt *st = dd_db_stmt(c->db, dels[i]);
		if (!st)
			return dd__db_fail(c);
		dd_bind_text(st, 1, c->account_region);
		dd_bind_text(st, 2, name);
		if (dd_step_done(st))
			return dd__db_fail(c);
	}
	if (dd_db_commit(c->db))
		return dd__db_fail(c);
	return 0;
}

int dd_iot_create_policy_version(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *name = dd__str(in, "policyName");
	const char *doc = dd__str(in, "policyDocument");
	bool set_default = dd__bool(in, "setAsDefault", false);
	if (validate_doc(c, doc))
		return c->err;
	if (dd_db_begin_write(c->db))
		return dd__db_fail(c);
	struct policy_row p;
	if (load_policy(c, name, &p))
		return dd__db_fail(c);
	if (!p.found) {
		dd_db_rollback(c->db);
		return not_found(c, name);
	}
	int versions = count_rows(c, "SELECT count(*) FROM policy_versions WHERE account_region = ?1 AND policy_name = ?2", name, NULL);
	if (versions < 0)
		return dd__db_fail(c);
	if (versions >= MAX_VERSIONS) {
		dd_db_rollback(c->db);
		return dd_fail(c, DD_ELIMIT, "VersionsLimitExceededException",
			       "The policy %s already has the maximum number of versions (%d)", name, MAX_VERSIONS);
	}
	int64_t v = p.next_version;
	char gen[37];
	dd__uuid(gen);
	sqlite3_stmt *st = dd_db_stmt(c->db, "UPDATE policies SET next_version = next_version + 1, modified = ?3, generation_id = ?5,"
					     " default_version = CASE WHEN ?4 THEN next_version ELSE default_version END"
					     " WHERE account_region = ?1 AND name = ?2");
	if (!st)
		return dd__db_fail(c);
	dd_bind_text(st, 1, c->account_region);
	dd_bind_text(st, 2, name);
	dd_bind_int64(st, 3, c->now_ms);
	dd_bind_int64(st, 4, set_default);
	dd_bind_text(st, 5, gen);
	if (dd_step_done(st) || insert_version(c, name, v, doc) || dd_db_commit(c->db))
		return dd__db_fail(c);
	char ver[32];
	snprintf(ver, sizeof ver, "%lld", (long long)v);
	*out = json_pack("{s:o, s:s, s:s, s:b}", "policyArn", dd__arn(c, "policy/%s", name), "policyDocument", doc,
			 "policyVersionId", ver, "isDefaultVersion", set_default);
	return 0;
}

static int parse_version(struct dd_ctx *c, json_t *in, int64_t *v)
{
	if (dd_parse_int64(dd__str(in, "policyVersionId"), 1, INT32_MAX, v))
		return dd_fail(c, DD_EINVAL, "InvalidRequestException", "policyVersionId must be a positive number.");
	return 0;
}

int dd_iot_get_policy_version(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *name = dd__str(in, "policyName");
	int64_t v, created = 0;
	if (parse_version(c, in, &v))
		return c->err;
	struct policy_row p;
	if (load_policy(c, name, &p))
		return dd__db_fail(c);
	if (!p.found)
		return not_found(c, name);
	char *doc = version_doc(c, name, v, &created);
	if (!doc)
		return dd_fail(c, DD_ENOTFOUND, "ResourceNotFoundException", "Policy version %lld of %s not found", (long long)v, name);
	*out = json_pack("{s:o, s:s, s:s, s:s, s:b, s:o, s:o, s:s}", "policyArn", dd__arn(c, "policy/%s", name),
			 "policyName", name, "policyDocument", doc, "policyVersionId", dd__str(in, "policyVersionId"),
			 "isDefaultVersion", v == p.default_version, "creationDate", dd_json_time(created),
			 "lastModifiedDate", dd_json_time(created), "generationId", p.generation);
	free(doc);
	return 0;
}

int dd_iot_list_policy_versions(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *name = dd__str(in, "policyName");
	struct policy_row p;
	if (load_policy(c, name, &p))
		return dd__db_fail(c);
	if (!p.found)
		return not_found(c, name);
	sqlite3_stmt *st = dd_db_stmt(c->db, "SELECT version, created FROM policy_versions WHERE account_region = ?1 AND policy_name = ?2 ORDER BY version DESC");
	if (!st)
		return dd__db_fail(c);
	dd_bind_text(st, 1, c->account_region);
	dd_bind_text(st, 2, name);
	json_t *arr = json_array();
	while (sqlite3_step(st) == SQLITE_ROW) {
		char ver[32];
		int64_t v = sqlite3_column_int64(st, 0);
		snprintf(ver, sizeof ver, "%lld", (long long)v);
		json_array_append_new(arr, json_pack("{s:s, s:b, s:o}", "versionId", ver, "isDefaultVersion",
						     v == p.default_version, "createDate",
						     dd_json_time(sqlite3_column_int64(st, 1))));
	}
	sqlite3_reset(st);
	*out = json_pack("{s:o}", "policyVersions", arr);
	return 0;
}

/* The start of a change to one policy version: parses policyVersionId, opens the write
 * transaction and checks the policy and the version exist. On failure the transaction is
 * closed and c carries the error. */
static int begin_version_change(struct dd_ctx *c, json_t *in, const char *name, int64_t *v, struct policy_row *p)
{
	if (parse_version(c, in, v))
		return c->err;
	if (dd_db_begin_write(c->db))
		return dd__db_fail(c);
	if (load_policy(c, name, p))
		return dd__db_fail(c);
	char *doc = p->found ? version_doc(c, name, *v, NULL) : NULL;
	if (!doc) {
		dd_db_rollback(c->db);
		return dd_fail(c, DD_ENOTFOUND, "ResourceNotFoundException", "Policy version %lld of %s not found",
			       (long long)*v, name);
	}
	free(doc);
	return 0;
}

int dd_iot_set_default_policy_version(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *name = dd__str(in, "policyName");
	int64_t v;
	struct policy_row p;
	*out = NULL;
	if (begin_version_change(c, in, name, &v, &p))
		return c->err;
	char gen[37];
	dd__uuid(gen);
	sqlite3_stmt *st = dd_db_stmt(c->db, "UPDATE policies SET default_version = ?3, modified = ?4, generation_id = ?5 WHERE account_region = ?1 AND name = ?2");
	if (!st)
		return dd__db_fail(c);
	dd_bind_text(st, 1, c->account_region);
	dd_bind_text(st, 2, name);
	dd_bind_int64(st, 3, v);
	dd_bind_int64(st, 4, c->now_ms);
	dd_bind_text(st, 5, gen);
	if (dd_step_done(st) || dd_db_commit(c->db))
		return dd__db_fail(c);
	return 0;
}

int dd_iot_delete_policy_version(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *name = dd__str(in, "policyName");
	int64_t v;
	struct policy_row p;
	*out = NULL;
	if (begin_version_change(c, in, name, &v, &p))
		return c->err;
	if (v == p.default_version) {
		dd_db_rollback(c->db);
		return dd_fail(c, DD_ECONFLICT, "DeleteConflictException", "Cannot delete the default version of policy %s", name);
	}
	sqlite3_stmt *st = dd_db_stmt(c->db, "DELETE FROM policy_versions WHERE account_region = ?1 AND policy_name = ?2 AND version = ?3");
	if (!st)
		return dd__db_fail(c);
	dd_bind_text(st, 1, c->account_region);
	dd_bind_text(st, 2, name);
	dd_bind_int64(st, 3, v);
	if (dd_step_done(st) || dd_db_commit(c->db))
		return dd__db_fail(c);
	return 0;
}

/* ---- targets ----------------------------------------------------------------------- */

/* Is target an existing certificate, CA-less cert, thing group or a Cognito identity of
 * this account? Fails c with the AWS error when not. */
static int check_target(struct dd_ctx *c, const char *target)
{
	char prefix[128];
	snprintf(prefix, sizeof prefix, "arn:aws:iot:%s:%s:", c->region, c->account);
	size_t pl = strlen(prefix);
	if (strncmp(target, "arn:", 4) != 0) {
		/* a Cognito identity id: region:uuid */
		if (strchr(target, ':'))
			return 0;
		return dd_fail(c, DD_EINVAL, "InvalidRequestException", "Invalid target: %s", target);
	}
	if (strncmp(target, prefix, pl) != 0)
		return dd_fail(c, DD_ENOTFOUND, "ResourceNotFoundException", "Target not found: %s", target);
	const char *res = target + pl;
	int n = -1;
	if (strncmp(res, "cert/", 5) == 0)
		n = count_rows(c, "SELECT count(*) FROM certificates WHERE account_region = ?1 AND id = ?2", res + 5, NULL);
	else if (strncmp(res, "thinggroup/", 11) == 0)
		n = count_rows(c, "SELECT count(*) FROM thing_groups WHERE account_region = ?1 AND name = ?2", res + 11, NULL);
	else
		return dd_fail(c, DD_EINVAL, "InvalidRequestException", "Policies attach to certificates, thing groups or Cognito identities, not %s", target);
	if (n < 0)
		return dd__db_fail(c);
	if (n == 0)
		return dd_fail(c, DD_ENOTFOUND, "ResourceNotFoundException", "Target not found: %s", target);
	return 0;
}

int dd_iot_attach_policy(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *name = dd__str(in, "policyName");
	const char *target = dd__str(in, "target");
	*out = NULL;
	if (dd_db_begin_write(c->db))
		return dd__db_fail(c);
	struct policy_row p;
	if (load_policy(c, name, &p))
		return dd__db_fail(c);
	if (!p.found) {
		dd_db_rollback(c->db);
		return not_found(c, name);
	}
	if (check_target(c, target)) {
		dd_db_rollback(c->db);
		return c->err;
	}
	int n = count_rows(c, "SELECT count(*) FROM policy_targets WHERE account_region = ?1 AND target = ?2 AND policy_name <> ?3", target, name);
	if (n < 0)
		return dd__db_fail(c);
	if (n >= MAX_POLICIES_PER_TARGET) {
		dd_db_rollback(c->db);
		return dd_fail(c, DD_ELIMIT, "LimitExceededException", "A target can have at most %d policies attached", MAX_POLICIES_PER_TARGET);
	}
	sqlite3_stmt *st = dd_db_stmt(c->db, "INSERT OR IGNORE INTO policy_targets(account_region, policy_name, target) VALUES (?1, ?2, ?3)");
	if (!st)
		return dd__db_fail(c);
	dd_bind_text(st, 1, c->account_region);
	dd_bind_text(st, 2, name);
	dd_bind_text(st, 3, target);
	if (dd_step_done(st) || dd_db_commit(c->db))
		return dd__db_fail(c);
	return 0;
}

int dd_iot_detach_policy(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *name = dd__str(in, "policyName");
	const char *target = dd__str(in, "target");
	*out = NULL;
	if (dd_db_begin_write(c->db))
		return dd__db_fail(c);
	struct policy_row p;
	if (load_policy(c, name, &p))
		return dd__db_fail(c);
	/* DetachPolicy declares no ResourceNotFoundException: detaching a policy that does not
	 * exist, or is not attached to the target, leaves nothing attached and succeeds */
	if (!p.found) {
		dd_db_rollback(c->db);
		return 0;
	}
	sqlite3_stmt *st = dd_db_stmt(c->db, "DELETE FROM policy_targets WHERE account_region = ?1 AND policy_name = ?2 AND target = ?3");
	if (!st)
		return dd__db_fail(c);
	dd_bind_text(st, 1, c->account_region);
	dd_bind_text(st, 2, name);
	dd_bind_text(st, 3, target);
	if (dd_step_done(st) || dd_db_commit(c->db))
		return dd__db_fail(c);
	return 0;
}

int dd_iot_list_targets_for_policy(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *name = dd__str(in, "policyName");
	char after[1024];
	int size;
	if (dd__page(c, in, "marker", "pageSize", 250, 250, after, sizeof after, &size))
		return c->err;
	struct policy_row p;
	if (load_policy(c, name, &p))
		return dd__db_fail(c);
	if (!p.found)
		return not_found(c, name);
	sqlite3_stmt *st = dd_db_stmt(c->db, "SELECT target FROM policy_targets WHERE account_region = ?1 AND policy_name = ?2 AND target > ?3 ORDER BY target LIMIT ?4");
	if (!st)
		return dd__db_fail(c);
	dd_bind_text(st, 1, c->account_region);
	dd_bind_text(st, 2, name);
	dd_bind_text(st, 3, after);
	dd_bind_int64(st, 4, size + 1);
	return dd__page_list(c, st, size, dd__row_text0, "targets", "nextMarker", out);
}

/* Collects the policy names that apply to a target: its own and, for a thing group with
 * recursive, its ancestors'. names is a JSON array of strings (deduplicated). */
static int collect_target_policies(struct dd_ctx *c, const char *target, bool recursive, json_t *names)
{
	sqlite3_stmt *st = dd_db_stmt(c->db, "SELECT policy_name FROM policy_targets WHERE account_region = ?1 AND target = ?2 ORDER BY policy_name");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, c->account_region);
	dd_bind_text(st, 2, target);
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *n = dd_col_text(st, 0);
		bool dup = false;
		size_t i;
		json_t *e;
		json_array_foreach(names, i, e) if (strcmp(json_string_value(e), n) == 0) dup = true;
		if (!dup)
			json_array_append_new(names, json_string(n));
	}
	sqlite3_reset(st);
	if (!recursive)
		return 0;
	const char *g = strstr(target, ":thinggroup/");
	if (!g)
		return 0;
	/* walk to the root */
	char cur[256];
	snprintf(cur, sizeof cur, "%s", g + 12);
	for (int depth = 0; depth < 8; depth++) {
		st = dd_db_stmt(c->db, "SELECT parent FROM thing_groups WHERE account_region = ?1 AND name = ?2");
		if (!st)
			return DD_EIO;
		dd_bind_text(st, 1, c->account_region);
		dd_bind_text(st, 2, cur);
		char parent[256] = "";
		if (sqlite3_step(st) == SQLITE_ROW)
			snprintf(parent, sizeof parent, "%s", dd_col_text(st, 0));
		sqlite3_reset(st);
		if (!parent[0])
			break;
		char arn[700];
		dd__arn_buf(c, arn, sizeof arn, "thinggroup/%s", parent);
		if (collect_target_policies(c, arn, false, names))
			return DD_EIO;
		snprintf(cur, sizeof cur, "%s", parent);
	}
	return 0;
}

int dd_iot_list_attached_policies(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *target = dd__str(in, "target");
	bool recursive = dd__bool(in, "recursive", false);
	char after[512];
	int size;
	if (dd__page(c, in, "marker", "pageSize", 250, 250, after, sizeof after, &size))
		return c->err;
	if (check_target(c, target))
		return c->err;
	json_t *names = json_array();
	if (collect_target_policies(c, target, recursive, names)) {
		json_decref(names);
		return dd__db_fail(c);
	}
	json_t *arr = json_array();
	size_t i;
	json_t *e;
	int n = 0;
	bool more = false;
	char last[256] = "";
	json_array_foreach(names, i, e) {
		const char *nm = json_string_value(e);
		if (strcmp(nm, after) <= 0 && after[0])
			continue;
		if (n == size) {
			more = true;
			break;
		}
		json_array_append_new(arr, json_pack("{s:s, s:o}", "policyName", nm, "policyArn", dd__arn(c, "policy/%s", nm)));
		snprintf(last, sizeof last, "%s", nm);
		n++;
	}
	json_decref(names);
	*out = json_pack("{s:o}", "policies", arr);
	dd__page_next(*out, "nextMarker", more, last);
	return 0;
}

/* ---- thing principals -------------------------------------------------------------- */

static int check_principal(struct dd_ctx *c, const char *principal)
{
	char prefix[128];
	snprintf(prefix, sizeof prefix, "arn:aws:iot:%s:%s:cert/", c->region, c->account);
	if (strncmp(principal, prefix, strlen(prefix)) != 0) {
		if (strncmp(principal, "arn:", 4) == 0 && !strstr(principal, ":cert/"))
			return dd_fail(c, DD_EINVAL, "InvalidRequestException", "Principal must be a certificate ARN: %s", principal);
		return dd_fail(c, DD_ENOTFOUND, "ResourceNotFoundException", "The certificate given in the principal does not exist.");
	}
	int n = count_rows(c, "SELECT count(*) FROM certificates WHERE account_region = ?1 AND id = ?2", principal + strlen(prefix), NULL);
	if (n < 0)
		return dd__db_fail(c);
	if (n == 0)
		return dd_fail(c, DD_ENOTFOUND, "ResourceNotFoundException", "The certificate given in the principal does not exist.");
	return 0;
}

int dd_iot_attach_thing_principal(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *thing = dd__str(in, "thingName");
	const char *principal = dd__str(in, "principal");
	const char *type = dd__str(in, "thingPrincipalType");
	*out = NULL;
	if (dd_db_begin_write(c->db))
		return dd__db_fail(c);
	if (!dd__thing_exists(c, thing)) {
		dd_db_rollback(c->db);
		return dd_fail(c, DD_ENOTFOUND, "ResourceNotFoundException", "Thing %s cannot be found.", thing);
	}
	if (check_principal(c, principal)) {
		dd_db_rollback(c->db);
		return c->err;
	}
	if (type && strcmp(type, "EXCLUSIVE_THING") == 0) {
		int n = count_rows(c, "SELECT count(*) FROM thing_principals WHERE account_region = ?1 AND principal = ?2 AND thing_name <> ?3", principal, thing);
		if (n > 0) {
			dd_db_rollback(c->db);
			return dd_fail(c, DD_ECONFLICT, "InvalidRequestException", "The principal is already attached to another thing; it cannot be attached exclusively.");
		}
	}
	sqlite3_stmt *st = dd_db_stmt(c->db, "INSERT OR REPLACE INTO thing_principals(account_region, thing_name, principal, type) VALUES (?1, ?2, ?3, ?4)");
	if (!st)
		return dd__db_fail(c);
	dd_bind_text(st, 1, c->account_region);
	dd_bind_text(st, 2, thing);
	dd_bind_text(st, 3, principal);
	dd_bind_text(st, 4, type ? type : "NON_EXCLUSIVE_THING");
	if (dd_step_done(st) || dd_db_commit(c->db))
		return dd__db_fail(c);
	return 0;
}

int dd_iot_detach_thing_principal(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *thing = dd__str(in, "thingName");
	const char *principal = dd__str(in, "principal");
	*out = NULL;
	if (dd_db_begin_write(c->db))
		return dd__db_fail(c);
	if (!dd__thing_exists(c, thing)) {
		dd_db_rollback(c->db);
		return dd_fail(c, DD_ENOTFOUND, "ResourceNotFoundException", "Thing %s cannot be found.", thing);
	}
	sqlite3_stmt *st = dd_db_stmt(c->db, "DELETE FROM thing_principals WHERE account_region = ?1 AND thing_name = ?2 AND principal = ?3");
	if (!st)
		return dd__db_fail(c);
	dd_bind_text(st, 1, c->account_region);
	dd_bind_text(st, 2, thing);
	dd_bind_text(st, 3, principal);
	if (dd_step_done(st) || dd_db_commit(c->db))
		return dd__db_fail(c);
	return 0;
}

static int list_pairs(struct dd_ctx *c, json_t *in, json_t **out, const char *sql, const char *key,
		      const char *out_member)
{
	char after[1024];
	int size;
	if (dd__page(c, in, "nextToken", "maxResults", 50, 250, after, sizeof after, &size))
		return c->err;
	sqlite3_stmt *st = dd_db_stmt(c->db, sql);
	if (!st)
		return dd__db_fail(c);
	dd_bind_text(st, 1, c->account_region);
	dd_bind_text(st, 2, key);
	dd_bind_text(st, 3, after);
	dd_bind_int64(st, 4, size + 1);
	return dd__page_list(c, st, size, dd__row_text0, out_member, "nextToken", out);
}

int dd__policy_target_check(struct dd_ctx *c, const char *target) { return check_target(c, target); }
int dd__thing_principal_check(struct dd_ctx *c, const char *principal) { return check_principal(c, principal); }

int dd_iot_list_thing_principals(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *thing = dd__str(in, "thingName");
	if (!dd__thing_exists(c, thing))
		return dd_fail(c, DD_ENOTFOUND, "ResourceNotFoundException", "Thing %s cannot be found.", thing);
	return list_pairs(c, in, out,
			  "SELECT principal FROM thing_principals WHERE account_region = ?1 AND thing_name = ?2 AND principal > ?3 ORDER BY principal LIMIT ?4",
			  thing, "principals");
}

int dd_iot_list_principal_things(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *principal = dd__str(in, "principal");
	if (check_principal(c, principal))
		return c->err;
	return list_pairs(c, in, out,
			  "SELECT thing_name FROM thing_principals WHERE account_region = ?1 AND principal = ?2 AND thing_name > ?3 ORDER BY thing_name LIMIT ?4",
			  principal, "things");
}

/* ---- effective policies and authorization ------------------------------------------ */

/* The names of every policy that applies to a principal: attached to it directly, and
 * attached to any group (with ancestors) of the given thing or of the things it is
 * attached to. */
static int effective_policy_names(struct dd_ctx *c, const char *principal, const char *thing, json_t *names)
{
	if (principal && collect_target_policies(c, principal, false, names))
		return DD_EIO;
	json_t *things = json_array();
	if (thing)
		json_array_append_new(things, json_string(thing));
	else if (principal) {
		sqlite3_stmt *st = dd_db_stmt(c->db, "SELECT thing_name FROM thing_principals WHERE account_region = ?1 AND principal = ?2");
		if (!st) {
			json_decref(things);
			return DD_EIO;
		}
		dd_bind_text(st, 1, c->account_region);
		dd_bind_text(st, 2, principal);
		while (sqlite3_step(st) == SQLITE_ROW)
			json_array_append_new(things, json_string(dd_col_text(st, 0)));
		sqlite3_reset(st);
	}
	size_t i;
	json_t *t;
	json_array_foreach(things, i, t) {
		sqlite3_stmt *st = dd_db_stmt(c->db, "SELECT group_name FROM thing_group_members WHERE account_region = ?1 AND thing_name = ?2");
		if (!st) {
			json_decref(things);
			return DD_EIO;
		}
		dd_bind_text(st, 1, c->account_region);
		dd_bind_text(st, 2, json_string_value(t));
		json_t *groups = json_array();
		while (sqlite3_step(st) == SQLITE_ROW)
			json_array_append_new(groups, json_string(dd_col_text(st, 0)));
		sqlite3_reset(st);
		size_t k;
		json_t *g;
		json_array_foreach(groups, k, g) {
			char arn[700];
			dd__arn_buf(c, arn, sizeof arn, "thinggroup/%s", json_string_value(g));
			if (collect_target_policies(c, arn, true, names)) {
				json_decref(groups);
				json_decref(things);
				return DD_EIO;
			}
		}
		json_decref(groups);
	}
	json_decref(things);
	return 0;
}

static char *default_doc(struct dd_ctx *c, const char *name)
{
	struct policy_row p;
	if (load_policy(c, name, &p) || !p.found)
		return NULL;
	return version_doc(c, name, p.default_version, NULL);
}

int dd_iot_get_effective_policies(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *principal = dd__str(in, "principal");
	const char *thing = dd__str(in, "thingName");
	if (!principal && !thing && !dd__str(in, "cognitoIdentityPoolId"))
		return dd_fail(c, DD_EINVAL, "InvalidRequestException", "Give a principal, a thingName or a cognitoIdentityPoolId.");
	if (thing && !dd__thing_exists(c, thing))
		return dd_fail(c, DD_ENOTFOUND, "ResourceNotFoundException", "Thing %s cannot be found.", thing);
	/* a certificate ARN must name a certificate of c's account (never another account's) */
	if (principal && strncmp(principal, "arn:", 4) == 0 && check_principal(c, principal))
		return c->err;
	json_t *names = json_array();
	if (effective_policy_names(c, principal, thing, names)) {
		json_decref(names);
		return dd__db_fail(c);
	}
	json_t *arr = json_array();
	size_t i;
	json_t *e;
	json_array_foreach(names, i, e) {
		char *doc = default_doc(c, json_string_value(e));
		if (!doc)
			continue;
		json_array_append_new(arr, json_pack("{s:s, s:o, s:s}", "policyName", json_string_value(e), "policyArn",
						     dd__arn(c, "policy/%s", json_string_value(e)), "policyDocument", doc));
		free(doc);
	}
	json_decref(names);
	*out = json_pack("{s:o}", "effectivePolicies", arr);
	return 0;
}

static json_t *policy_list(struct dd_ctx *c, json_t *names, size_t only)
{
	json_t *arr = json_array();
	size_t i;
	json_t *e;
	json_array_foreach(names, i, e) {
		if (only != SIZE_MAX && i != only)
			continue;
		json_array_append_new(arr, json_pack("{s:s, s:o}", "policyName", json_string_value(e), "policyArn",
						     dd__arn(c, "policy/%s", json_string_value(e))));
	}
	return arr;
}

int dd_iot_test_authorization(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *principal = dd__str(in, "principal");
	const char *client_id = dd__str(in, "clientId");
	json_t *auth_infos = json_object_get(in, "authInfos");
	if (!principal && !dd__str(in, "cognitoIdentityPoolId"))
		return dd_fail(c, DD_EINVAL, "InvalidRequestException", "Give a principal or a cognitoIdentityPoolId.");
	if (principal && strncmp(principal, "arn:", 4) == 0 && check_principal(c, principal))
		return c->err;
	json_t *names = json_array();
	if (effective_policy_names(c, principal, NULL, names)) {
		json_decref(names);
		return dd__db_fail(c);
	}
	/* policyNamesToAdd / policyNamesToSkip */
	size_t i;
	json_t *e;
	json_array_foreach(json_object_get(in, "policyNamesToAdd"), i, e) {
		bool dup = false;
		size_t k;
		json_t *x;
		json_array_foreach(names, k, x) if (strcmp(json_string_value(x), json_string_value(e)) == 0) dup = true;
		if (!dup)
			json_array_append(names, e);
	}
	json_array_foreach(json_object_get(in, "policyNamesToSkip"), i, e) {
		size_t k;
		json_t *x;
		json_array_foreach(names, k, x) {
			if (strcmp(json_string_value(x), json_string_value(e)) == 0) {
				json_array_remove(names, k);
				break;
			}
		}
	}
	size_t n = json_array_size(names);
	struct dd_policy **pols = calloc(n ? n : 1, sizeof *pols);
	if (!pols) {
		json_decref(names);
		return dd_fail(c, DD_ENOMEM, "InternalFailureException", "out of memory");
	}
	int rc = 0;
	for (i = 0; i < n && !rc; i++) {
		const char *pn = json_string_value(json_array_get(names, i));
		char *doc = default_doc(c, pn);
		if (!doc) {
			rc = dd_fail(c, DD_ENOTFOUND, "ResourceNotFoundException", "Policy not found: %s", pn);
			break;
		}
		char msg[DD_POLICY_ERRMSG_SIZE];
		if (dd_policy_compile(doc, strlen(doc), DD_POLICY_IOT, &pols[i], msg, sizeof msg))
			pols[i] = NULL; /* stored documents were validated; skip if not */
		free(doc);
	}
	/* ${iot:Connection.Thing.*} and ${iot:Certificate.*}, bound as the broker binds them */
	struct dd_authz_binding bind = { 0 };
	if (!rc && principal && dd_authz_bind(c, principal, client_id, &bind))
		rc = dd__db_fail(c);
	json_t *results = json_array();
	json_array_foreach(auth_infos, i, e) {
		if (rc)
			break;
		const char *type = dd__str(e, "actionType");
		char action[64];
		snprintf(action, sizeof action, "iot:%c%s", type ? type[0] : 'X', type ? type + 1 : "");
		for (char *p = action + 5; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		enum dd_policy_decision overall = DD_POLICY_ALLOW;
		size_t deciding = SIZE_MAX;
		size_t k;
		json_t *res;
		json_t *resources = json_object_get(e, "resources");
		if (json_array_size(resources) == 0)
			overall = DD_POLICY_IMPLICIT_DENY;
		json_array_foreach(resources, k, res) {
			struct dd_policy_request req;
			dd_authz_request(&bind, action, json_string_value(res), client_id, NULL, &req);
			enum dd_policy_decision d;
			struct dd_policy_explain ex;
			if (dd_policy_evaluate((const struct dd_policy *const *)pols, n, &req, &d, &ex)) {
				d = DD_POLICY_IMPLICIT_DENY;
				ex.policy_index = SIZE_MAX;
			}
			if (d == DD_POLICY_EXPLICIT_DENY) {
				overall = d;
				deciding = ex.policy_index;
				break;
			}
			if (d == DD_POLICY_IMPLICIT_DENY && overall == DD_POLICY_ALLOW) {
				overall = d;
				deciding = SIZE_MAX;
			}
			if (d == DD_POLICY_ALLOW && overall == DD_POLICY_ALLOW)
				deciding = ex.policy_index;
		}
		/* AWS always answers both containers, each list empty unless it decided */
		json_t *allowed = json_array(), *implicit = json_array(), *explicit = json_array();
		const char *decision = "IMPLICIT_DENY";
		if (overall == DD_POLICY_ALLOW) {
			decision = "ALLOWED";
			json_decref(allowed);
			allowed = policy_list(c, names, deciding);
		} else if (overall == DD_POLICY_EXPLICIT_DENY) {
			decision = "EXPLICIT_DENY";
			json_decref(explicit);
			explicit = policy_list(c, names, deciding);
		} else {
			json_decref(implicit);
			implicit = policy_list(c, names, SIZE_MAX);
		}
		json_t *r = json_pack("{s:O, s:s, s:{s:o}, s:{s:{s:o}, s:{s:o}}}", "authInfo", e, "authDecision", decision,
				      "allowed", "policies", allowed, "denied", "implicitDeny", "policies", implicit,
				      "explicitDeny", "policies", explicit);
		if (!r) {
			rc = dd_fail(c, DD_ENOMEM, "InternalFailureException", "out of memory");
			break;
		}
		json_object_set_new(r, "missingContextValues", json_array());
		json_array_append_new(results, r);
	}
	for (i = 0; i < n; i++)
		dd_policy_free(pols[i]);
	free(pols);
	json_decref(names);
	dd_authz_binding_clear(&bind);
	if (rc) {
		json_decref(results);
		return rc;
	}
	*out = json_pack("{s:o}", "authResults", results);
	return 0;
}

int dd__effective_policy_names(struct dd_ctx *c, const char *principal, const char *thing, json_t *names)
{
	return effective_policy_names(c, principal, thing, names);
}

char *dd__policy_default_doc(struct dd_ctx *c, const char *name)
{
	return default_doc(c, name);
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The IAM wire API for roles and policies (awsQuery): roles with trust policies, inline
 * role policies, customer managed policies with up to five versions, role attachments,
 * role tags, and the AWS managed policies of core/iam/dd_iam_managed.c. This file reads
 * the request members, picks the AWS error codes and builds the responses; the rules
 * shared with users and groups (inline policy sizes, attachment quotas) are
 * core/iam/dd_iam_policy.c's, trust policy checks core/iam/dd_iam_trust.c's, and the SQL
 * is the store's (store/dd_store_iam.h). Names are case-insensitive as in IAM; the stored
 * name keeps the case it was created with. Documents are validated on every write and
 * stored as submitted; responses carry them percent-encoded, as AWS does, which botocore
 * decodes. Every row is scoped to the caller's account, and an ARN naming another
 * account resolves to nothing.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/dd_api_common.h"
#include "core/iam/dd_iam_customer.h"
#include "core/iam/dd_iam_policy.h"
#include "core/iam/dd_iam_role.h"
#include "dd/iam.h"
#include "dd/policy.h"
#include "store/dd_store_iam.h"

#define ROLE_TRUST_MAX 2048
#define POLICY_MAX 6144
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

/* ---- request helpers --------------------------------------------------------------- */

static int db_fail(struct dd_ctx *c)
{
	if (dd_db_in_tx(c->db))
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

/* Fails c with the AWS error of a core/iam result (rolled back already); einval_code is
 * the code of DD_EINVAL. */
static int core_fail_as(struct dd_ctx *c, int rc, const char *msg, const char *einval_code)
{
	switch (rc) {
	case DD_EEXIST:
		return dd_fail(c, rc, "EntityAlreadyExists", "%s", msg);
	case DD_ECONFLICT:
		return dd_fail(c, rc, "DeleteConflict", "%s", msg);
	case DD_ENOTFOUND:
		return dd_fail(c, rc, "NoSuchEntity", "%s", msg);
	case DD_ELIMIT:
		return dd_fail(c, rc, "LimitExceeded", "%s", msg);
	case DD_EINVAL:
		return dd_fail(c, rc, einval_code, "%s", msg);
	case DD_ENOMEM:
		return dd_fail(c, rc, "ServiceFailure", "out of memory");
	default:
		return db_fail(c);
	}
}

/* The same for the policy rules, whose DD_EINVAL is a malformed document. */
static int core_fail(struct dd_ctx *c, int rc, const char *msg)
{
	return core_fail_as(c, rc, msg, "MalformedPolicyDocument");
}

/* The Role structure of r. */
static json_t *role_json(struct dd_ctx *c, const struct dd_store_iam_role *r, bool full)
{
	char arn[1200];
	make_role_arn(arn, sizeof arn, c->account, r->path, r->name);
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:o, s:o, s:I}", "Path", r->path, "RoleName", r->name, "RoleId",
			      r->role_id, "Arn", arn, "CreateDate", dd_json_time(r->created_ms),
			      "AssumeRolePolicyDocument", encoded(r->trust_policy),
			      "MaxSessionDuration", (json_int_t)r->max_session);
	if (!o)
		return NULL;
	if (r->description)
		json_object_set_new(o, "Description", json_string(r->description));
	if (r->boundary)
		json_object_set_new(o, "PermissionsBoundary",
				    json_pack("{s:s, s:s}", "PermissionsBoundaryType", "Policy",
					      "PermissionsBoundaryArn", r->boundary));
	if (full) {
		json_t *tags = json_array_text(r->tags);
		if (json_array_size(tags))
			json_object_set_new(o, "Tags", tags);
		else
			json_decref(tags);
		json_object_set_new(o, "RoleLastUsed", json_object());
	}
	return o;
}

static int no_role(struct dd_ctx *c, const char *name)
{
	if (dd_db_in_tx(c->db))
		dd_db_rollback(c->db);
	return dd_fail(c, DD_ENOTFOUND, "NoSuchEntity", "The role with name %s cannot be found.", name ? name : "");
}

/* Loads a role's Role structure, or fails c with NoSuchEntity. */
static int role_load(struct dd_ctx *c, const char *name, json_t **out)
{
	struct dd_store_iam_role r;
	int rc = dd_store_iam_role_get(c->db, c->account, name, &r);
	if (rc == DD_ENOTFOUND)
		return no_role(c, name);
	if (rc)
		return db_fail(c);
	*out = role_json(c, &r, true);
	dd_store_iam_role_clear(&r);
	return *out ? 0 : dd_fail(c, DD_ENOMEM, "ServiceFailure", "out of memory");
}

/* The stored (canonical) name of a role; fails c with NoSuchEntity (rolling back). */
static int role_name(struct dd_ctx *c, const char *name, char canon[128])
{
	char msg[256];
	int rc = dd_iam_policy_principal(c->db, DD_STORE_IAM_ROLE, c->account, name, canon, msg, sizeof msg);
	if (rc && dd_db_in_tx(c->db))
		dd_db_rollback(c->db);
	return rc ? core_fail(c, rc, msg) : 0;
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
	char msg[DD_POLICY_ERRMSG_SIZE + 64];
	int rc = dd_iam_policy_validate(doc, limit, quota, msg, sizeof msg);
	return rc ? core_fail(c, rc, msg) : 0;
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
	struct dd_store_iam_role r = {
		.name = (char *)name, .role_id = id, .path = (char *)path, .trust_policy = (char *)doc,
		.description = (char *)desc, .boundary = (char *)boundary, .tags = tag_text, .max_session = maxs,
		.created_ms = c->now_ms,
	};
	char msg[512];
	int rc = dd_iam_role_create(c->db, c->account, &r, msg, sizeof msg);
	free(tag_text);
	if (rc)
		return core_fail_as(c, rc, msg, "InvalidInput");
	json_t *role = NULL;
	if (role_load(c, name, &role))
		return c->err;
	json_object_del(role, "RoleLastUsed");
	*out = json_pack("{s:o}", "Role", role);
	return 0;
}

static int iam_get_role(struct dd_ctx *c, json_t *in, json_t **out)
{
	json_t *role = NULL;
	if (role_load(c, dd__str(in, "RoleName"), &role))
		return c->err;
	*out = json_pack("{s:o}", "Role", role);
	return 0;
}

/* A page of a listing: items appended until size, then "more". */
struct page {
	struct dd_ctx *c;
	json_t *items;
	int size;
	bool more;
	char last[1200];
	const char *prefix;
};

static int role_row(const struct dd_store_iam_role *r, void *ud)
{
	struct page *p = ud;
	if ((int)json_array_size(p->items) == p->size) {
		p->more = true;
		return 1;
	}
	json_t *o = role_json(p->c, r, false);
	if (!o)
		return DD_ENOMEM;
	json_array_append_new(p->items, o);
	snprintf(p->last, sizeof p->last, "%s", r->name);
	return 0;
}

static int iam_list_roles(struct dd_ctx *c, json_t *in, json_t **out)
{
	char after[256];
	struct page p = { .c = c };
	if (page_in(c, in, after, sizeof after, &p.size))
		return c->err;
	p.items = json_array();
	int rc = dd_store_iam_role_list(c->db, c->account, after, dd__str(in, "PathPrefix"), p.size + 1, role_row, &p);
	if (rc < 0) {
		json_decref(p.items);
		return rc == DD_ENOMEM ? dd_fail(c, rc, "ServiceFailure", "out of memory") : db_fail(c);
	}
	*out = json_pack("{s:o}", "Roles", p.items);
	page_out(*out, p.more, p.last);
	return 0;
}

static int iam_delete_role(struct dd_ctx *c, json_t *in, json_t **out)
{
	char msg[512];
	int rc = dd_iam_role_delete(c->db, c->account, dd__str(in, "RoleName"), msg, sizeof msg);
	(void)out;
	return rc ? core_fail_as(c, rc, msg, "InvalidInput") : 0;
}

static int iam_update_assume_role_policy(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *name = dd__str(in, "RoleName"), *doc = dd__str(in, "PolicyDocument");
	if (check_trust(c, doc))
		return c->err;
	int rc = dd_store_iam_role_set_trust(c->db, c->account, name ? name : "", doc);
	if (rc == DD_ENOTFOUND)
		return no_role(c, name);
	if (rc)
		return db_fail(c);
	(void)out;
	return 0;
}

/* ---- role tags --------------------------------------------------------------------- */

static int load_tags(struct dd_ctx *c, const char *name, char canon[128], json_t **tags)
{
	struct dd_store_iam_role r;
	int rc = dd_store_iam_role_get(c->db, c->account, name, &r);
	if (rc == DD_ENOTFOUND)
		return no_role(c, name);
	if (rc)
		return db_fail(c);
	snprintf(canon, 128, "%s", r.name);
	*tags = json_array_text(r.tags);
	dd_store_iam_role_clear(&r);
	return 0;
}

static int save_tags(struct dd_ctx *c, const char *canon, json_t *tags)
{
	char *t = dump_compact(tags);
	int rc = t ? dd_store_iam_role_set_tags(c->db, c->account, canon, t) : DD_ENOMEM;
	free(t);
	if (rc || dd_db_commit(c->db))
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
	if (load_tags(c, dd__str(in, "RoleName"), canon, &tags))
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
	if (load_tags(c, dd__str(in, "RoleName"), canon, &tags))
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
	if (load_tags(c, dd__str(in, "RoleName"), canon, &tags))
		return c->err;
	*out = json_pack("{s:o, s:b}", "Tags", tags, "IsTruncated", 0);
	return 0;
}

/* ---- inline role policies ------------------------------------------------------------ */

static int iam_put_role_policy(struct dd_ctx *c, json_t *in, json_t **out)
{
	char msg[DD_POLICY_ERRMSG_SIZE + 64];
	int rc = dd_iam_policy_inline_put(c->db, DD_STORE_IAM_ROLE, c->account, dd__str(in, "RoleName"),
					  dd__str(in, "PolicyName"), dd__str(in, "PolicyDocument"), msg, sizeof msg);
	(void)out;
	return rc ? core_fail(c, rc, msg) : 0;
}

static int iam_get_role_policy(struct dd_ctx *c, json_t *in, json_t **out)
{
	char msg[512], canon[128], pcanon[128];
	char *doc = NULL;
	int rc = dd_iam_policy_inline_get(c->db, DD_STORE_IAM_ROLE, c->account, dd__str(in, "RoleName"),
					  dd__str(in, "PolicyName"), canon, pcanon, &doc, msg, sizeof msg);
	if (rc)
		return core_fail(c, rc, msg);
	*out = json_pack("{s:s, s:s, s:o}", "RoleName", canon, "PolicyName", pcanon, "PolicyDocument", encoded(doc));
	free(doc);
	return 0;
}

static int name_row(const char *name, const char *document, void *ud)
{
	struct page *p = ud;
	(void)document;
	if ((int)json_array_size(p->items) == p->size) {
		p->more = true;
		return 1;
	}
	json_array_append_new(p->items, json_string(name));
	snprintf(p->last, sizeof p->last, "%s", name);
	return 0;
}

static int iam_list_role_policies(struct dd_ctx *c, json_t *in, json_t **out)
{
	char after[256], canon[128];
	struct page p = { .c = c };
	if (page_in(c, in, after, sizeof after, &p.size) || role_name(c, dd__str(in, "RoleName"), canon))
		return c->err;
	p.items = json_array();
	if (dd_store_iam_inline_list(c->db, DD_STORE_IAM_ROLE, c->account, canon, after, p.size + 1, name_row, &p) < 0) {
		json_decref(p.items);
		return db_fail(c);
	}
	*out = json_pack("{s:o}", "PolicyNames", p.items);
	page_out(*out, p.more, p.last);
	return 0;
}

static int iam_delete_role_policy(struct dd_ctx *c, json_t *in, json_t **out)
{
	char msg[512];
	int rc = dd_iam_policy_inline_delete(c->db, DD_STORE_IAM_ROLE, c->account, dd__str(in, "RoleName"),
					     dd__str(in, "PolicyName"), msg, sizeof msg);
	(void)out;
	return rc ? core_fail(c, rc, msg) : 0;
}

/* ---- managed policies ---------------------------------------------------------------- */

/* A resolved policy ARN: AWS managed (static) or customer managed (in the store). */
struct pol {
	const struct dd_iam_managed_policy *aws;
	struct dd_store_iam_policy local;
};

static void pol_clear(struct pol *p)
{
	dd_store_iam_policy_clear(&p->local);
}

/* Resolves arn in c's account; fails c with NoSuchEntity (rolling back). */
static int policy_resolve(struct dd_ctx *c, const char *arn, struct pol *p)
{
	memset(p, 0, sizeof *p);
	p->aws = dd_iam_managed_find(arn ? arn : "");
	if (p->aws)
		return 0;
	int rc = dd_store_iam_policy_get_by_arn(c->db, c->account, arn, &p->local);
	if (rc == DD_ENOTFOUND) {
		if (dd_db_in_tx(c->db))
			dd_db_rollback(c->db);
		return dd_fail(c, DD_ENOTFOUND, "NoSuchEntity", "Policy %s was not found.", arn ? arn : "");
	}
	return rc ? db_fail(c) : 0;
}

static int64_t attachment_count(struct dd_ctx *c, const char *arn)
{
	int64_t n = 0;
	return dd_store_iam_attachment_count(c->db, c->account, arn, &n) ? -1 : n;
}

static int64_t boundary_count(struct dd_ctx *c, const char *arn)
{
	int64_t n = 0;
	return dd_store_iam_role_boundary_count(c->db, c->account, arn, &n) ? -1 : n;
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

static json_t *local_json(struct dd_ctx *c, const struct dd_store_iam_policy *p, bool full)
{
	char ver[24];
	snprintf(ver, sizeof ver, "v%lld", (long long)p->default_version);
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:b, s:o, s:o}", "PolicyName", p->name,
			      "PolicyId", p->policy_id, "Arn", p->arn, "Path", p->path, "DefaultVersionId", ver,
			      "AttachmentCount", (json_int_t)attachment_count(c, p->arn),
			      "PermissionsBoundaryUsageCount", (json_int_t)boundary_count(c, p->arn), "IsAttachable", 1,
			      "CreateDate", dd_json_time(p->created_ms), "UpdateDate", dd_json_time(p->updated_ms));
	if (o && full) {
		if (p->description)
			json_object_set_new(o, "Description", json_string(p->description));
		json_t *tags = json_array_text(p->tags);
		if (json_array_size(tags))
			json_object_set_new(o, "Tags", tags);
		else
			json_decref(tags);
	}
	return o;
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
	struct dd_store_iam_policy p = {
		.name = (char *)name, .arn = arn, .policy_id = id, .path = (char *)path, .description = (char *)desc,
		.tags = tag_text, .created_ms = c->now_ms,
	};
	char msg[512];
	int rc = dd_iam_customer_create(c->db, c->account, &p, doc, msg, sizeof msg);
	if (rc) {
		free(tag_text);
		return core_fail_as(c, rc, msg, "InvalidInput");
	}
	struct dd_store_iam_policy stored;
	free(tag_text);
	rc = dd_store_iam_policy_get(c->db, c->account, name, &stored);
	if (rc == DD_ENOTFOUND)
		return dd_fail(c, DD_ENOTFOUND, "NoSuchEntity", "Policy %s was not found.", name);
	if (rc)
		return db_fail(c);
	json_t *o = local_json(c, &stored, false);
	dd_store_iam_policy_clear(&stored);
	if (o && tags && json_array_size(tags))
		json_object_set(o, "Tags", tags);
	*out = json_pack("{s:o}", "Policy", o);
	return 0;
}

static int iam_get_policy(struct dd_ctx *c, json_t *in, json_t **out)
{
	struct pol p;
	if (policy_resolve(c, dd__str(in, "PolicyArn"), &p))
		return c->err;
	json_t *o = p.aws ? managed_json(c, p.aws, true) : local_json(c, &p.local, true);
	pol_clear(&p);
	*out = json_pack("{s:o}", "Policy", o);
	return 0;
}

static int iam_get_policy_version(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *arn = dd__str(in, "PolicyArn"), *vid = dd__str(in, "VersionId");
	struct pol p;
	if (policy_resolve(c, arn, &p))
		return c->err;
	if (p.aws) {
		if (!vid || strcmp(vid, p.aws->version_id) != 0)
			return dd_fail(c, DD_ENOTFOUND, "NoSuchEntity", "Policy %s version %s does not exist or is not attachable.", arn, vid ? vid : "");
		*out = json_pack("{s:{s:o, s:s, s:b, s:o}}", "PolicyVersion", "Document", encoded(p.aws->document),
				 "VersionId", vid, "IsDefaultVersion", 1, "CreateDate", dd_json_time(p.aws->updated_ms));
		return 0;
	}
	int64_t v = dd_iam_customer_version_num(vid), created = 0;
	bool is_default = false;
	char *doc = NULL;
	int rc = v < 0 ? DD_ENOTFOUND : dd_store_iam_policy_version_get(c->db, c->account, p.local.name, v, &doc, &created, &is_default);
	pol_clear(&p);
	if (rc == DD_ENOTFOUND)
		return dd_fail(c, DD_ENOTFOUND, "NoSuchEntity", "Policy %s version %s does not exist or is not attachable.", arn, vid ? vid : "");
	if (rc)
		return db_fail(c);
	*out = json_pack("{s:{s:o, s:s, s:b, s:o}}", "PolicyVersion", "Document", encoded(doc), "VersionId", vid,
			 "IsDefaultVersion", is_default, "CreateDate", dd_json_time(created));
	free(doc);
	return 0;
}

static int cmp_arn(const void *a, const void *b)
{
	json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
	return strcmp(json_string_value(json_object_get(x, "Arn")), json_string_value(json_object_get(y, "Arn")));
}

static int policy_row(const struct dd_store_iam_policy *p, void *ud)
{
	struct page *pg = ud;
	json_t *o = local_json(pg->c, p, false);
	return o ? json_array_append_new(pg->items, o) == 0 ? 0 : DD_ENOMEM : DD_ENOMEM;
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
		struct page pg = { .c = c, .items = all };
		int rc = dd_store_iam_policy_list(c->db, c->account, policy_row, &pg);
		if (rc) {
			json_decref(all);
			return rc == DD_ENOMEM ? dd_fail(c, rc, "ServiceFailure", "out of memory") : db_fail(c);
		}
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

static int iam_create_policy_version(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *doc = dd__str(in, "PolicyDocument");
	bool set_default = dd__bool(in, "SetAsDefault", false);
	if (check_identity_doc(c, doc, POLICY_MAX, "PolicySize"))
		return c->err;
	char msg[512];
	int64_t version = 0;
	int rc = dd_iam_customer_version_add(c->db, c->account, dd__str(in, "PolicyArn"), doc, c->now_ms, set_default,
					     &version, msg, sizeof msg);
	if (rc)
		return core_fail_as(c, rc, msg, "InvalidInput");
	char vid[24];
	snprintf(vid, sizeof vid, "v%lld", (long long)version);
	*out = json_pack("{s:{s:s, s:b, s:o}}", "PolicyVersion", "VersionId", vid, "IsDefaultVersion", set_default,
			 "CreateDate", dd_json_time(c->now_ms));
	return 0;
}

static int version_row(int64_t version, int64_t created_ms, bool is_default, void *ud)
{
	char vid[24];
	snprintf(vid, sizeof vid, "v%lld", (long long)version);
	json_t *o = json_pack("{s:s, s:b, s:o}", "VersionId", vid, "IsDefaultVersion", is_default, "CreateDate",
			      dd_json_time(created_ms));
	return o && json_array_append_new(ud, o) == 0 ? 0 : DD_ENOMEM;
}

static int iam_list_policy_versions(struct dd_ctx *c, json_t *in, json_t **out)
{
	struct pol p;
	if (policy_resolve(c, dd__str(in, "PolicyArn"), &p))
		return c->err;
	json_t *vs = json_array();
	int rc = 0;
	if (p.aws)
		json_array_append_new(vs, json_pack("{s:s, s:b, s:o}", "VersionId", p.aws->version_id, "IsDefaultVersion", 1,
						    "CreateDate", dd_json_time(p.aws->updated_ms)));
	else
		rc = dd_store_iam_policy_version_list(c->db, c->account, p.local.name, version_row, vs);
	pol_clear(&p);
	if (rc) {
		json_decref(vs);
		return rc == DD_ENOMEM ? dd_fail(c, rc, "ServiceFailure", "out of memory") : db_fail(c);
	}
	*out = json_pack("{s:o, s:b}", "Versions", vs, "IsTruncated", 0);
	return 0;
}

static int iam_delete_policy_version(struct dd_ctx *c, json_t *in, json_t **out)
{
	char msg[1400];
	int rc = dd_iam_customer_version_delete(c->db, c->account, dd__str(in, "PolicyArn"), dd__str(in, "VersionId"),
						msg, sizeof msg);
	(void)out;
	return rc ? core_fail_as(c, rc, msg, "InvalidInput") : 0;
}

static int iam_delete_policy(struct dd_ctx *c, json_t *in, json_t **out)
{
	char msg[1400];
	int rc = dd_iam_customer_delete(c->db, c->account, dd__str(in, "PolicyArn"), msg, sizeof msg);
	(void)out;
	return rc ? core_fail_as(c, rc, msg, "InvalidInput") : 0;
}

/* ---- attachments ------------------------------------------------------------------- */

static int iam_attach_role_policy(struct dd_ctx *c, json_t *in, json_t **out)
{
	char msg[512];
	int rc = dd_iam_policy_attach(c->db, DD_STORE_IAM_ROLE, c->account, dd__str(in, "RoleName"),
				      dd__str(in, "PolicyArn"), msg, sizeof msg);
	(void)out;
	return rc ? core_fail(c, rc, msg) : 0;
}

static int iam_detach_role_policy(struct dd_ctx *c, json_t *in, json_t **out)
{
	char msg[512];
	int rc = dd_iam_policy_detach(c->db, DD_STORE_IAM_ROLE, c->account, dd__str(in, "RoleName"),
				      dd__str(in, "PolicyArn"), msg, sizeof msg);
	(void)out;
	return rc ? core_fail(c, rc, msg) : 0;
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

static int attached_row(const char *arn, void *ud)
{
	struct page *p = ud;
	char path[1024];
	arn_path(arn, path, sizeof path);
	if (p->prefix && strncmp(path, p->prefix, strlen(p->prefix)) != 0)
		return 0;
	if ((int)json_array_size(p->items) == p->size) {
		p->more = true;
		return 1;
	}
	const char *slash = strrchr(arn, '/');
	json_array_append_new(p->items, json_pack("{s:s, s:s}", "PolicyName", slash ? slash + 1 : arn, "PolicyArn", arn));
	snprintf(p->last, sizeof p->last, "%s", arn);
	return 0;
}

static int iam_list_attached_role_policies(struct dd_ctx *c, json_t *in, json_t **out)
{
	char after[1200], canon[128];
	struct page p = { .c = c, .prefix = dd__str(in, "PathPrefix") };
	if (page_in(c, in, after, sizeof after, &p.size) || role_name(c, dd__str(in, "RoleName"), canon))
		return c->err;
	p.items = json_array();
	if (dd_store_iam_attached_list(c->db, DD_STORE_IAM_ROLE, c->account, canon, after, 0, attached_row, &p) < 0) {
		json_decref(p.items);
		return db_fail(c);
	}
	*out = json_pack("{s:o}", "AttachedPolicies", p.items);
	page_out(*out, p.more, p.last);
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

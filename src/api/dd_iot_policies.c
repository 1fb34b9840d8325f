/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The IoT policy API: policies and their versions (at most 5, one default), attachment to
 * targets (certificate ARNs, thing-group ARNs, Cognito identity ids, at most 10 policies a
 * target), thing principals, and the two questions a user asks before any broker exists:
 * GetEffectivePolicies and TestAuthorization, answered by the policy engine
 * (core/policy/dd_authz.c) over the principal's policies (its own and those of the groups
 * of the things it is attached to, parents included). The rows live in
 * store/dd_store_policies.c.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/dd_iot_policies.h"
#include "api/dd_api_common.h"
#include "dd/authz.h"
#include "dd/policy.h"
#include "store/dd_store_policies.h"

/* The request's account, region and store connection as the authorization rules take them
 * (a compound literal that lives until the end of the enclosing block). */
#define scope_of(c) (&(const struct dd_authz_scope){ .db = (c)->db, .account = (c)->account, \
						     .region = (c)->region, .account_region = (c)->account_region })

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

static int not_found(struct dd_ctx *c, const char *name)
{
	if (dd_db_in_tx(c->db))
		dd_db_rollback(c->db);
	return dd_fail(c, DD_ENOTFOUND, "ResourceNotFoundException", "Policy not found: %s", name);
}

/* Loads a policy: 0, or fails c (not found: ResourceNotFoundException; store error) after
 * rolling back an open transaction. */
static int load_policy(struct dd_ctx *c, const char *name, struct dd_store_policies_row *p)
{
	int rc = dd_store_policies_get(c->db, c->account_region, name, p);
	if (rc == DD_ENOTFOUND)
		return not_found(c, name);
	return rc ? dd__db_fail(c) : 0;
}

/* A page of a listing of names, built from a store callback. */
struct name_page {
	struct dd_ctx *c;
	json_t *arr;
	int n, size;
	bool more;
	bool policy_items; /* {policyName, policyArn} instead of the bare name */
	char last[1024];
};

static int name_item(void *ud, const char *name)
{
	struct name_page *pg = ud;
	if (pg->n == pg->size) {
		pg->more = true;
		return 1;
	}
	json_t *item = pg->policy_items ? json_pack("{s:s, s:o}", "policyName", name, "policyArn",
						    dd__arn(pg->c, "policy/%s", name))
					: json_string(name);
	if (json_array_append_new(pg->arr, item))
		return DD_ENOMEM;
	snprintf(pg->last, sizeof pg->last, "%s", name);
	pg->n++;
	return 0;
}

/* {member: [page…]} with the token when more rows exist, into *out; or fails c. */
static int name_page_finish(struct dd_ctx *c, struct name_page *pg, int rc, const char *member, const char *token_member,
			    json_t **out)
{
	if (rc) {
		json_decref(pg->arr);
		return dd__db_fail(c);
	}
	*out = json_pack("{s:o}", member, pg->arr);
	dd__page_next(*out, token_member, pg->more, pg->last);
	return 0;
}

static int create_policy(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *name = dd__str(in, "policyName");
	const char *doc = dd__str(in, "policyDocument");
	if (validate_doc(c, doc))
		return c->err;
	char gen[37], arn[700];
	dd_random_uuid(gen);
	dd__arn_buf(c, arn, sizeof arn, "policy/%s", name);
	if (dd_db_begin_write(c->db))
		return dd__db_fail(c);
	int rc = dd_store_policies_insert(c->db, c->account_region, name, doc, gen, c->now_ms);
	if (rc == DD_EEXIST) {
		dd_db_rollback(c->db);
		return dd_fail_exists(c, name, arn, "Policy cannot be created - name already exists (name=%s)", name);
	}
	if (rc || dd__tags_put(c, arn, json_object_get(in, "tags")) || dd_db_commit(c->db))
		return dd__db_fail(c);
	*out = json_pack("{s:s, s:s, s:s, s:s}", "policyName", name, "policyArn", arn, "policyDocument", doc,
			 "policyVersionId", "1");
	return 0;
}

static int get_policy(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *name = dd__str(in, "policyName");
	struct dd_store_policies_row p;
	if (load_policy(c, name, &p))
		return c->err;
	char *doc = NULL;
	if (dd_store_policies_version_get(c->db, c->account_region, name, p.default_version, &doc, NULL))
		return dd__db_fail(c);
	char ver[32];
	snprintf(ver, sizeof ver, "%lld", (long long)p.default_version);
	*out = json_pack("{s:s, s:o, s:s, s:s, s:o, s:o, s:s}", "policyName", name, "policyArn",
			 dd__arn(c, "policy/%s", name), "policyDocument", doc, "defaultVersionId", ver,
			 "creationDate", dd_json_time(p.created), "lastModifiedDate", dd_json_time(p.modified),
			 "generationId", p.generation_id);
	free(doc);
	return 0;
}

/* Marker-based listing of names: marker is our opaque token. */
static int list_policies(struct dd_ctx *c, json_t *in, json_t **out)
{
	char after[512];
	struct name_page pg = { .c = c, .policy_items = true };
	if (dd__page(c, in, "marker", "pageSize", 250, 250, after, sizeof after, &pg.size))
		return c->err;
	bool asc = dd__bool(in, "ascendingOrder", true);
	pg.arr = json_array();
	int rc = dd_store_policies_list(c->db, c->account_region, after, asc, pg.size + 1, name_item, &pg);
	return name_page_finish(c, &pg, rc, "policies", "nextMarker", out);
}

static int delete_policy(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *name = dd__str(in, "policyName");
	*out = NULL;
	if (dd_db_begin_write(c->db))
		return dd__db_fail(c);
	struct dd_store_policies_row p;
	if (load_policy(c, name, &p))
		return c->err;
	int64_t targets = 0, versions = 0;
	if (dd_store_policies_targets_count(c->db, c->account_region, name, &targets) ||
	    dd_store_policies_versions_count(c->db, c->account_region, name, &versions))
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
	if (dd_store_policies_delete(c->db, c->account_region, name) || dd_db_commit(c->db))
		return dd__db_fail(c);
	return 0;
}

static int create_policy_version(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *name = dd__str(in, "policyName");
	const char *doc = dd__str(in, "policyDocument");
	bool set_default = dd__bool(in, "setAsDefault", false);
	if (validate_doc(c, doc))
		return c->err;
	if (dd_db_begin_write(c->db))
		return dd__db_fail(c);
	struct dd_store_policies_row p;
	if (load_policy(c, name, &p))
		return c->err;
	int64_t versions = 0;
	if (dd_store_policies_versions_count(c->db, c->account_region, name, &versions))
		return dd__db_fail(c);
	if (versions >= MAX_VERSIONS) {
		dd_db_rollback(c->db);
		return dd_fail(c, DD_ELIMIT, "VersionsLimitExceededException",
			       "The policy %s already has the maximum number of versions (%d)", name, MAX_VERSIONS);
	}
	char gen[37];
	dd_random_uuid(gen);
	int64_t v = 0;
	if (dd_store_policies_version_add(c->db, c->account_region, name, doc, set_default, gen, c->now_ms, &v) ||
	    dd_db_commit(c->db))
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

static int version_missing(struct dd_ctx *c, const char *name, int64_t v)
{
	if (dd_db_in_tx(c->db))
		dd_db_rollback(c->db);
	return dd_fail(c, DD_ENOTFOUND, "ResourceNotFoundException", "Policy version %lld of %s not found", (long long)v, name);
}

static int get_policy_version(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *name = dd__str(in, "policyName");
	int64_t v, created = 0;
	if (parse_version(c, in, &v))
		return c->err;
	struct dd_store_policies_row p;
	if (load_policy(c, name, &p))
		return c->err;
	char *doc = NULL;
	int rc = dd_store_policies_version_get(c->db, c->account_region, name, v, &doc, &created);
	if (rc == DD_ENOTFOUND)
		return version_missing(c, name, v);
	if (rc)
		return dd__db_fail(c);
	*out = json_pack("{s:o, s:s, s:s, s:s, s:b, s:o, s:o, s:s}", "policyArn", dd__arn(c, "policy/%s", name),
			 "policyName", name, "policyDocument", doc, "policyVersionId", dd__str(in, "policyVersionId"),
			 "isDefaultVersion", v == p.default_version, "creationDate", dd_json_time(created),
			 "lastModifiedDate", dd_json_time(created), "generationId", p.generation_id);
	free(doc);
	return 0;
}

struct version_list {
	json_t *arr;
	int64_t default_version;
};

static int version_item(void *ud, int64_t v, int64_t created)
{
	struct version_list *vl = ud;
	char ver[32];
	snprintf(ver, sizeof ver, "%lld", (long long)v);
	return json_array_append_new(vl->arr, json_pack("{s:s, s:b, s:o}", "versionId", ver, "isDefaultVersion",
							v == vl->default_version, "createDate", dd_json_time(created)))
		       ? DD_ENOMEM
		       : 0;
}

static int list_policy_versions(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *name = dd__str(in, "policyName");
	struct dd_store_policies_row p;
	if (load_policy(c, name, &p))
		return c->err;
	struct version_list vl = { .arr = json_array(), .default_version = p.default_version };
	if (dd_store_policies_versions_list(c->db, c->account_region, name, version_item, &vl)) {
		json_decref(vl.arr);
		return dd__db_fail(c);
	}
	*out = json_pack("{s:o}", "policyVersions", vl.arr);
	return 0;
}

/* The start of a change to one policy version: parses policyVersionId, opens the write
 * transaction and checks the policy and the version exist. On failure the transaction is
 * closed and c carries the error. */
static int begin_version_change(struct dd_ctx *c, json_t *in, const char *name, int64_t *v,
				struct dd_store_policies_row *p)
{
	if (parse_version(c, in, v))
		return c->err;
	if (dd_db_begin_write(c->db))
		return dd__db_fail(c);
	int rc = dd_store_policies_get(c->db, c->account_region, name, p);
	char *doc = NULL;
	if (!rc)
		rc = dd_store_policies_version_get(c->db, c->account_region, name, *v, &doc, NULL);
	free(doc);
	if (rc == DD_ENOTFOUND)
		return version_missing(c, name, *v);
	return rc ? dd__db_fail(c) : 0;
}

static int set_default_policy_version(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *name = dd__str(in, "policyName");
	int64_t v;
	struct dd_store_policies_row p;
	*out = NULL;
	if (begin_version_change(c, in, name, &v, &p))
		return c->err;
	char gen[37];
	dd_random_uuid(gen);
	if (dd_store_policies_version_set_default(c->db, c->account_region, name, v, gen, c->now_ms) || dd_db_commit(c->db))
		return dd__db_fail(c);
	return 0;
}

static int delete_policy_version(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *name = dd__str(in, "policyName");
	int64_t v;
	struct dd_store_policies_row p;
	*out = NULL;
	if (begin_version_change(c, in, name, &v, &p))
		return c->err;
	if (v == p.default_version) {
		dd_db_rollback(c->db);
		return dd_fail(c, DD_ECONFLICT, "DeleteConflictException", "Cannot delete the default version of policy %s", name);
	}
	if (dd_store_policies_version_delete(c->db, c->account_region, name, v) || dd_db_commit(c->db))
		return dd__db_fail(c);
	return 0;
}

/* ---- targets ----------------------------------------------------------------------- */

int dd__policy_target_check(struct dd_ctx *c, const char *target)
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
	bool yes = false;
	int rc;
	if (strncmp(res, "cert/", 5) == 0)
		rc = dd_store_policies_cert_exists(c->db, c->account_region, res + 5, &yes);
	else if (strncmp(res, "thinggroup/", 11) == 0)
		rc = dd_store_policies_group_exists(c->db, c->account_region, res + 11, &yes);
	else
		return dd_fail(c, DD_EINVAL, "InvalidRequestException", "Policies attach to certificates, thing groups or Cognito identities, not %s", target);
	if (rc)
		return dd__db_fail(c);
	if (!yes)
		return dd_fail(c, DD_ENOTFOUND, "ResourceNotFoundException", "Target not found: %s", target);
	return 0;
}

int dd_iot_policies_attach(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *name = dd__str(in, "policyName");
	const char *target = dd__str(in, "target");
	*out = NULL;
	if (dd_db_begin_write(c->db))
		return dd__db_fail(c);
	struct dd_store_policies_row p;
	if (load_policy(c, name, &p))
		return c->err;
	if (dd__policy_target_check(c, target)) {
		if (dd_db_in_tx(c->db))
			dd_db_rollback(c->db);
		return c->err;
	}
	int64_t n = 0;
	if (dd_store_policies_target_policies_count(c->db, c->account_region, target, name, &n))
		return dd__db_fail(c);
	if (n >= MAX_POLICIES_PER_TARGET) {
		dd_db_rollback(c->db);
		return dd_fail(c, DD_ELIMIT, "LimitExceededException", "A target can have at most %d policies attached", MAX_POLICIES_PER_TARGET);
	}
	if (dd_store_policies_attach(c->db, c->account_region, name, target) || dd_db_commit(c->db))
		return dd__db_fail(c);
	return 0;
}

int dd_iot_policies_detach(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *name = dd__str(in, "policyName");
	const char *target = dd__str(in, "target");
	*out = NULL;
	if (dd_db_begin_write(c->db))
		return dd__db_fail(c);
	struct dd_store_policies_row p;
	int rc = dd_store_policies_get(c->db, c->account_region, name, &p);
	/* DetachPolicy declares no ResourceNotFoundException: detaching a policy that does not
	 * exist, or is not attached to the target, leaves nothing attached and succeeds */
	if (rc == DD_ENOTFOUND) {
		dd_db_rollback(c->db);
		return 0;
	}
	if (rc || dd_store_policies_detach(c->db, c->account_region, name, target) || dd_db_commit(c->db))
		return dd__db_fail(c);
	return 0;
}

static int list_targets_for_policy(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *name = dd__str(in, "policyName");
	char after[1024];
	struct name_page pg = { .c = c };
	if (dd__page(c, in, "marker", "pageSize", 250, 250, after, sizeof after, &pg.size))
		return c->err;
	struct dd_store_policies_row p;
	if (load_policy(c, name, &p))
		return c->err;
	pg.arr = json_array();
	int rc = dd_store_policies_targets_list(c->db, c->account_region, name, after, pg.size + 1, name_item, &pg);
	return name_page_finish(c, &pg, rc, "targets", "nextMarker", out);
}

/* The names the authorization rules found, as the JSON array of strings the handlers page
 * and edit; NULL when out of memory. Clears l. */
static json_t *names_json(struct dd_authz_names *l)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < l->n; i++)
		if (json_array_append_new(a, json_string(l->v[i]))) {
			json_decref(a);
			a = NULL;
		}
	dd_authz_names_clear(l);
	return a;
}

static int list_attached_policies(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *target = dd__str(in, "target");
	bool recursive = dd__bool(in, "recursive", false);
	char after[512];
	int size;
	if (dd__page(c, in, "marker", "pageSize", 250, 250, after, sizeof after, &size))
		return c->err;
	if (dd__policy_target_check(c, target))
		return c->err;
	struct dd_authz_names found = { 0 };
	if (dd_authz_target_policies(scope_of(c), target, recursive, &found)) {
		dd_authz_names_clear(&found);
		return dd__db_fail(c);
	}
	json_t *names = names_json(&found);
	if (!names)
		return dd_fail(c, DD_ENOMEM, "InternalFailureException", "Out of memory.");
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

int dd__thing_principal_check(struct dd_ctx *c, const char *principal)
{
	char prefix[128];
	snprintf(prefix, sizeof prefix, "arn:aws:iot:%s:%s:cert/", c->region, c->account);
	if (strncmp(principal, prefix, strlen(prefix)) != 0) {
		if (strncmp(principal, "arn:", 4) == 0 && !strstr(principal, ":cert/"))
			return dd_fail(c, DD_EINVAL, "InvalidRequestException", "Principal must be a certificate ARN: %s", principal);
		return dd_fail(c, DD_ENOTFOUND, "ResourceNotFoundException", "The certificate given in the principal does not exist.");
	}
	bool yes = false;
	if (dd_store_policies_cert_exists(c->db, c->account_region, principal + strlen(prefix), &yes))
		return dd__db_fail(c);
	if (!yes)
		return dd_fail(c, DD_ENOTFOUND, "ResourceNotFoundException", "The certificate given in the principal does not exist.");
	return 0;
}

static int attach_thing_principal(struct dd_ctx *c, json_t *in, json_t **out)
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
	if (dd__thing_principal_check(c, principal)) {
		if (dd_db_in_tx(c->db))
			dd_db_rollback(c->db);
		return c->err;
	}
	if (type && strcmp(type, "EXCLUSIVE_THING") == 0) {
		int64_t n = 0;
		if (dd_store_policies_principal_things_count(c->db, c->account_region, principal, thing, &n))
			return dd__db_fail(c);
		if (n > 0) {
			dd_db_rollback(c->db);
			return dd_fail(c, DD_ECONFLICT, "InvalidRequestException", "The principal is already attached to another thing; it cannot be attached exclusively.");
		}
	}
	if (dd_store_policies_principal_attach(c->db, c->account_region, thing, principal, type ? type : "NON_EXCLUSIVE_THING") ||
	    dd_db_commit(c->db))
		return dd__db_fail(c);
	return 0;
}

static int detach_thing_principal(struct dd_ctx *c, json_t *in, json_t **out)
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
	if (dd_store_policies_principal_detach(c->db, c->account_region, thing, principal) || dd_db_commit(c->db))
		return dd__db_fail(c);
	return 0;
}

static int list_thing_principals(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *thing = dd__str(in, "thingName");
	if (!dd__thing_exists(c, thing))
		return dd_fail(c, DD_ENOTFOUND, "ResourceNotFoundException", "Thing %s cannot be found.", thing);
	char after[1024];
	struct name_page pg = { .c = c };
	if (dd__page(c, in, "nextToken", "maxResults", 50, 250, after, sizeof after, &pg.size))
		return c->err;
	pg.arr = json_array();
	int rc = dd_store_policies_thing_principals(c->db, c->account_region, thing, after, pg.size + 1, name_item, &pg);
	return name_page_finish(c, &pg, rc, "principals", "nextToken", out);
}

static int list_principal_things(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *principal = dd__str(in, "principal");
	if (dd__thing_principal_check(c, principal))
		return c->err;
	char after[1024];
	struct name_page pg = { .c = c };
	if (dd__page(c, in, "nextToken", "maxResults", 50, 250, after, sizeof after, &pg.size))
		return c->err;
	pg.arr = json_array();
	int rc = dd_store_policies_principal_things(c->db, c->account_region, principal, after, pg.size + 1, name_item, &pg);
	return name_page_finish(c, &pg, rc, "things", "nextToken", out);
}

/* ---- effective policies and authorization ------------------------------------------ */

static int get_effective_policies(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *principal = dd__str(in, "principal");
	const char *thing = dd__str(in, "thingName");
	if (!principal && !thing && !dd__str(in, "cognitoIdentityPoolId"))
		return dd_fail(c, DD_EINVAL, "InvalidRequestException", "Give a principal, a thingName or a cognitoIdentityPoolId.");
	if (thing && !dd__thing_exists(c, thing))
		return dd_fail(c, DD_ENOTFOUND, "ResourceNotFoundException", "Thing %s cannot be found.", thing);
	/* a certificate ARN must name a certificate of c's account (never another account's) */
	if (principal && strncmp(principal, "arn:", 4) == 0 && dd__thing_principal_check(c, principal))
		return c->err;
	struct dd_authz_names found = { 0 };
	if (dd_authz_effective_policy_names(scope_of(c), principal, thing, &found)) {
		dd_authz_names_clear(&found);
		return dd__db_fail(c);
	}
	json_t *names = names_json(&found);
	if (!names)
		return dd_fail(c, DD_ENOMEM, "InternalFailureException", "Out of memory.");
	json_t *arr = json_array();
	size_t i;
	json_t *e;
	json_array_foreach(names, i, e) {
		char *doc = dd_authz_default_doc(scope_of(c), json_string_value(e));
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

static int test_authorization(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *principal = dd__str(in, "principal");
	const char *client_id = dd__str(in, "clientId");
	json_t *auth_infos = json_object_get(in, "authInfos");
	if (!principal && !dd__str(in, "cognitoIdentityPoolId"))
		return dd_fail(c, DD_EINVAL, "InvalidRequestException", "Give a principal or a cognitoIdentityPoolId.");
	if (principal && strncmp(principal, "arn:", 4) == 0 && dd__thing_principal_check(c, principal))
		return c->err;
	struct dd_authz_names found = { 0 };
	if (dd_authz_effective_policy_names(scope_of(c), principal, NULL, &found)) {
		dd_authz_names_clear(&found);
		return dd__db_fail(c);
	}
	json_t *names = names_json(&found);
	if (!names)
		return dd_fail(c, DD_ENOMEM, "InternalFailureException", "Out of memory.");
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
		char *doc = dd_authz_default_doc(scope_of(c), pn);
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
	if (!rc && principal && dd_authz_bind(scope_of(c), principal, client_id, &bind))
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
		json_t *resources = json_object_get(e, "resources");
		size_t nres = json_array_size(resources);
		const char **res = calloc(nres ? nres : 1, sizeof *res);
		if (!res) {
			rc = dd_fail(c, DD_ENOMEM, "InternalFailureException", "out of memory");
			break;
		}
		for (size_t k = 0; k < nres; k++)
			res[k] = json_string_value(json_array_get(resources, k));
		size_t deciding;
		enum dd_policy_decision overall = dd_authz_decide_resources((const struct dd_policy *const *)pols, n, &bind,
									    action, res, nres, client_id, &deciding);
		free(res);
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

const struct dd_handler dd_iot_policies_handlers[] = {
	{ "iot", "CreatePolicy", create_policy },
	{ "iot", "GetPolicy", get_policy },
	{ "iot", "ListPolicies", list_policies },
	{ "iot", "DeletePolicy", delete_policy },
	{ "iot", "CreatePolicyVersion", create_policy_version },
	{ "iot", "GetPolicyVersion", get_policy_version },
	{ "iot", "ListPolicyVersions", list_policy_versions },
	{ "iot", "SetDefaultPolicyVersion", set_default_policy_version },
	{ "iot", "DeletePolicyVersion", delete_policy_version },
	{ "iot", "AttachPolicy", dd_iot_policies_attach },
	{ "iot", "DetachPolicy", dd_iot_policies_detach },
	{ "iot", "ListTargetsForPolicy", list_targets_for_policy },
	{ "iot", "ListAttachedPolicies", list_attached_policies },
	{ "iot", "AttachThingPrincipal", attach_thing_principal },
	{ "iot", "DetachThingPrincipal", detach_thing_principal },
	{ "iot", "ListThingPrincipals", list_thing_principals },
	{ "iot", "ListPrincipalThings", list_principal_things },
	{ "iot", "GetEffectivePolicies", get_effective_policies },
	{ "iot", "TestAuthorization", test_authorization },
	{ NULL, NULL, NULL },
};

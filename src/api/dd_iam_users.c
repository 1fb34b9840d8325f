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
 * cache keys on. This is the wire layer: JSON in and out, paging markers and IAM's error
 * codes. The quotas and the rules of every write are src/core/iam/dd_iam_user.c; the
 * rows live in src/store/dd_store_iam_users.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/dd_api_common.h"
#include "dd/iam.h"
#include "core/iam/dd_iam_user.h"
#include "store/dd_store_iam_users.h"

#define USER DD_STORE_IAM_USER
#define GROUP DD_STORE_IAM_GROUP
typedef enum dd_store_iam_kind kind_t;
typedef struct dd_store_iam_users_entity entity_t;

/* Users and groups share their policy and attachment handlers: what differs is here. */
struct kind {
	const char *label;       /* "user" / "group" */
	const char *member;      /* input member naming the entity: "UserName" / "GroupName" */
};

static const struct kind KINDS[] = {
	[USER] = { "user", "UserName" },
	[GROUP] = { "group", "GroupName" },
};

static int db_fail(struct dd_ctx *c)
{
	if (dd_db_in_tx(c->db))
		dd_db_rollback(c->db);
	return dd_fail(c, DD_EIO, "ServiceFailure", "An internal store error occurred.");
}

/* A store error: out of memory, or any other as a store failure (rolling back). */
static int store_fail(struct dd_ctx *c, int rc)
{
	if (rc == DD_ENOMEM) {
		if (dd_db_in_tx(c->db))
			dd_db_rollback(c->db);
		return dd_fail(c, rc, "ServiceFailure", "out of memory");
	}
	return db_fail(c);
}

/* A rule's answer (dd_iam_user.h) as IAM's error code; einval_code names DD_EINVAL's. */
static int rule_fail(struct dd_ctx *c, int rc, const char *msg, const char *einval_code)
{
	const char *code = rc == DD_ENOTFOUND ? "NoSuchEntity" : rc == DD_EEXIST ? "EntityAlreadyExists"
			 : rc == DD_ELIMIT ? "LimitExceeded" : rc == DD_ECONFLICT ? "DeleteConflict"
			 : rc == DD_EINVAL ? einval_code : "ServiceFailure";
	return dd_fail(c, rc, code, "%s", msg);
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

/* The entity a request names, with its stored name (canonical case); fails c with
 * NoSuchEntity. */
static int entity_get(struct dd_ctx *c, kind_t k, const char *name, entity_t *e)
{
	char msg[DD_IAM_USER_MSG_SIZE];
	int rc = dd_iam_user_entity_get(c->db, k, c->account, name, e, msg, sizeof msg);
	return rc ? rule_fail(c, rc, msg, "ValidationError") : 0;
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

static json_t *entity_json(struct dd_ctx *c, kind_t k, const entity_t *e)
{
	char arn[1200];
	snprintf(arn, sizeof arn, "arn:aws:iam::%s:%s%s%s", c->account, KINDS[k].label, e->path, e->name);
	if (k == USER)
		return json_pack("{s:s, s:s, s:s, s:s, s:o}", "Path", e->path, "UserName", e->name, "UserId", e->id, "Arn",
				 arn, "CreateDate", dd_json_time(e->created_ms));
	return json_pack("{s:s, s:s, s:s, s:s, s:o}", "Path", e->path, "GroupName", e->name, "GroupId", e->id, "Arn", arn,
			 "CreateDate", dd_json_time(e->created_ms));
}

/* A page of a listing being collected: fn appends at most size items, then notes that
 * one more row exists. */
struct page {
	struct dd_ctx *c;
	kind_t kind;
	json_t *items;
	int size, n;
	bool more;
	const char *prefix;      /* attached policies: the PathPrefix filter */
	char last[1200];
};

static int page_room(struct page *p, const char *key)
{
	if (p->n++ == p->size) {
		p->more = true;
		return 1;
	}
	snprintf(p->last, sizeof p->last, "%s", key);
	return 0;
}

static int page_entity(const entity_t *e, void *ud)
{
	struct page *p = ud;
	if (page_room(p, e->name))
		return 1;
	json_array_append_new(p->items, entity_json(p->c, p->kind, e));
	return 0;
}

static int check_path(struct dd_ctx *c, const char *path)
{
	if (path[0] != '/' || path[strlen(path) - 1] != '/')
		return dd_fail(c, DD_EINVAL, "ValidationError", "The specified value for path is invalid. It must begin and end with / and contain only alphanumeric characters and/or / characters.");
	return 0;
}

static int entity_create(struct dd_ctx *c, kind_t k, json_t *in, json_t **out)
{
	const char *name = dd__str(in, KINDS[k].member), *path = dd__str(in, "Path");
	char msg[DD_IAM_USER_MSG_SIZE];
	if (!path)
		path = "/";
	if (check_path(c, path))
		return c->err;
	if (k == USER && (json_object_get(in, "PermissionsBoundary") || json_object_get(in, "Tags")))
		return dd_fail(c, DD_EINVAL, "ValidationError", "PermissionsBoundary and Tags on users are not supported by this server.");
	entity_t e;
	int rc = dd_iam_user_entity_create(c->db, k, c->account, name, path, c->now_ms, &e, msg, sizeof msg);
	if (rc)
		return rule_fail(c, rc, msg, "ValidationError");
	*out = json_pack("{s:o}", k == USER ? "User" : "Group", entity_json(c, k, &e));
	return 0;
}

static int iam_create_user(struct dd_ctx *c, json_t *in, json_t **out) { return entity_create(c, USER, in, out); }
static int iam_create_group(struct dd_ctx *c, json_t *in, json_t **out) { return entity_create(c, GROUP, in, out); }

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
	entity_t e;
	if (entity_get(c, USER, u, &e))
		return c->err;
	*out = json_pack("{s:o}", "User", entity_json(c, USER, &e));
	return 0;
}

static int iam_list_users(struct dd_ctx *c, json_t *in, json_t **out)
{
	char after[256];
	struct page p = { .c = c, .kind = USER };
	if (page_in(c, in, after, sizeof after, &p.size))
		return c->err;
	p.items = json_array();
	int rc = dd_store_iam_users_user_list(c->db, c->account, dd__str(in, "PathPrefix"), after, p.size + 1,
					      page_entity, &p);
	if (rc) {
		json_decref(p.items);
		return store_fail(c, rc);
	}
	*out = json_pack("{s:o}", "Users", p.items);
	page_out(*out, p.more, p.last);
	return 0;
}

static int entity_delete(struct dd_ctx *c, kind_t k, json_t *in)
{
	char msg[DD_IAM_USER_MSG_SIZE];
	int rc = dd_iam_user_entity_delete(c->db, k, c->account, dd__str(in, KINDS[k].member), msg, sizeof msg);
	return rc ? rule_fail(c, rc, msg, "ValidationError") : 0;
}

static int iam_delete_user(struct dd_ctx *c, json_t *in, json_t **out)
{
	(void)out;
	return entity_delete(c, USER, in);
}

static int iam_delete_group(struct dd_ctx *c, json_t *in, json_t **out)
{
	(void)out;
	return entity_delete(c, GROUP, in);
}

static int iam_get_group(struct dd_ctx *c, json_t *in, json_t **out)
{
	char after[256];
	entity_t g;
	struct page p = { .c = c, .kind = USER };
	if (page_in(c, in, after, sizeof after, &p.size) || entity_get(c, GROUP, dd__str(in, "GroupName"), &g))
		return c->err;
	p.items = json_array();
	int rc = dd_store_iam_users_group_members(c->db, c->account, g.name, after, p.size + 1, page_entity, &p);
	if (rc) {
		json_decref(p.items);
		return store_fail(c, rc);
	}
	*out = json_pack("{s:o, s:o}", "Group", entity_json(c, GROUP, &g), "Users", p.items);
	page_out(*out, p.more, p.last);
	return 0;
}

static int iam_add_user_to_group(struct dd_ctx *c, json_t *in, json_t **out)
{
	char msg[DD_IAM_USER_MSG_SIZE];
	(void)out;
	int rc = dd_iam_user_membership_add(c->db, c->account, dd__str(in, "GroupName"), dd__str(in, "UserName"), msg,
					    sizeof msg);
	return rc ? rule_fail(c, rc, msg, "ValidationError") : 0;
}

static int iam_remove_user_from_group(struct dd_ctx *c, json_t *in, json_t **out)
{
	char msg[DD_IAM_USER_MSG_SIZE];
	(void)out;
	int rc = dd_iam_user_membership_remove(c->db, c->account, dd__str(in, "GroupName"), dd__str(in, "UserName"), msg,
					       sizeof msg);
	return rc ? rule_fail(c, rc, msg, "ValidationError") : 0;
}

static int iam_list_groups_for_user(struct dd_ctx *c, json_t *in, json_t **out)
{
	char after[256];
	entity_t u;
	struct page p = { .c = c, .kind = GROUP };
	if (page_in(c, in, after, sizeof after, &p.size) || entity_get(c, USER, dd__str(in, "UserName"), &u))
		return c->err;
	p.items = json_array();
	int rc = dd_store_iam_users_user_groups(c->db, c->account, u.name, after, p.size + 1, page_entity, &p);
	if (rc) {
		json_decref(p.items);
		return store_fail(c, rc);
	}
	*out = json_pack("{s:o}", "Groups", p.items);
	page_out(*out, p.more, p.last);
	return 0;
}

/* ---- access keys ------------------------------------------------------------------- */

static int iam_create_access_key(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *name = user_arg(c, in);
	char key[21], secret[41], user[65], msg[DD_IAM_USER_MSG_SIZE];
	if (need_user_arg(c, name))
		return c->err;
	int rc = dd_iam_user_key_create(c->db, c->svc ? c->svc->iam_secrets : NULL, c->account, name, c->now_ms, key,
					secret, user, msg, sizeof msg);
	if (rc) {
		memset(secret, 0, sizeof secret);
		return rule_fail(c, rc, msg, "ValidationError");
	}
	*out = json_pack("{s:{s:s, s:s, s:s, s:s, s:o}}", "AccessKey", "UserName", user, "AccessKeyId", key, "Status",
			 "Active", "SecretAccessKey", secret, "CreateDate", dd_json_time(c->now_ms));
	memset(secret, 0, sizeof secret);
	return 0;
}

static int page_key(const struct dd_store_iam_users_key *k, void *ud)
{
	struct page *p = ud;
	if (page_room(p, k->access_key))
		return 1;
	json_array_append_new(p->items, json_pack("{s:s, s:s, s:s, s:o}", "UserName", k->user, "AccessKeyId",
						  k->access_key, "Status", k->active ? "Active" : "Inactive",
						  "CreateDate", dd_json_time(k->created_ms)));
	return 0;
}

static int iam_list_access_keys(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *name = user_arg(c, in);
	char after[256];
	entity_t u;
	struct page p = { .c = c };
	if (need_user_arg(c, name) || page_in(c, in, after, sizeof after, &p.size) || entity_get(c, USER, name, &u))
		return c->err;
	p.items = json_array();
	int rc = dd_store_iam_users_key_list(c->db, c->account, u.name, after, p.size + 1, page_key, &p);
	if (rc) {
		json_decref(p.items);
		return store_fail(c, rc);
	}
	*out = json_pack("{s:o}", "AccessKeyMetadata", p.items);
	page_out(*out, p.more, p.last);
	return 0;
}

/* UpdateAccessKey (status non-NULL) and DeleteAccessKey. */
static int key_change(struct dd_ctx *c, json_t *in, const char *status)
{
	const char *name = user_arg(c, in), *key = dd__str(in, "AccessKeyId");
	char msg[DD_IAM_USER_MSG_SIZE];
	if (need_user_arg(c, name))
		return c->err;
	if (status && strcmp(status, "Active") && strcmp(status, "Inactive"))
		return dd_fail(c, DD_EINVAL, "ValidationError", "1 validation error detected: Value '%.40s' at 'status' failed to satisfy constraint: Member must satisfy enum value set: [Active, Inactive]", status);
	int rc = dd_iam_user_key_update(c->db, c->account, name, key, status && strcmp(status, "Active") == 0, !status, msg,
					sizeof msg);
	return rc ? rule_fail(c, rc, msg, "ValidationError") : 0;
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

/* ---- inline policies of users and groups ------------------------------------------- */

static int put_policy(struct dd_ctx *c, kind_t k, json_t *in)
{
	char msg[DD_IAM_USER_MSG_SIZE];
	int rc = dd_iam_user_policy_put(c->db, k, c->account, dd__str(in, KINDS[k].member), dd__str(in, "PolicyName"),
					dd__str(in, "PolicyDocument"), msg, sizeof msg);
	return rc ? rule_fail(c, rc, msg, "MalformedPolicyDocument") : 0;
}

static int get_policy(struct dd_ctx *c, kind_t k, json_t *in, json_t **out)
{
	const char *pname = dd__str(in, "PolicyName");
	char name[128];
	char *doc = NULL;
	entity_t e;
	if (entity_get(c, k, dd__str(in, KINDS[k].member), &e))
		return c->err;
	int rc = dd_store_iam_inline_get(c->db, k, c->account, e.name, pname, name, &doc);
	if (rc == DD_ENOTFOUND)
		return dd_fail(c, DD_ENOTFOUND, "NoSuchEntity", k == USER ? "The user policy with name %s cannot be found."
									 : "The group policy with name %s cannot be found.", pname ? pname : "");
	if (rc)
		return store_fail(c, rc);
	*out = json_pack("{s:s, s:s, s:o}", KINDS[k].member, e.name, "PolicyName", name, "PolicyDocument", encoded(doc));
	free(doc);
	return 0;
}

static int delete_policy(struct dd_ctx *c, kind_t k, json_t *in)
{
	char msg[DD_IAM_USER_MSG_SIZE];
	int rc = dd_iam_user_policy_delete(c->db, k, c->account, dd__str(in, KINDS[k].member), dd__str(in, "PolicyName"),
					   msg, sizeof msg);
	return rc ? rule_fail(c, rc, msg, "ValidationError") : 0;
}

static int page_policy_name(const char *v, const char *document, void *ud)
{
	(void)document;
	struct page *p = ud;
	if (page_room(p, v))
		return 1;
	json_array_append_new(p->items, json_string(v));
	return 0;
}

static int page_attached(const char *v, void *ud)
{
	struct page *p = ud;
	if (p->prefix) {
		/* the path of a policy ARN: from after ":policy" to the last '/' */
		const char *pp = strstr(v, ":policy/");
		const char *slash = strrchr(v, '/');
		size_t plen = pp && slash ? (size_t)(slash - (pp + 7)) + 1 : 1;
		const char *path = pp ? pp + 7 : "/";
		if (strlen(p->prefix) > plen || strncmp(path, p->prefix, strlen(p->prefix)) != 0)
			return 0;
	}
	if (page_room(p, v))
		return 1;
	const char *slash = strrchr(v, '/');
	json_array_append_new(p->items, json_pack("{s:s, s:s}", "PolicyName", slash ? slash + 1 : v, "PolicyArn", v));
	return 0;
}

/* ListUserPolicies / ListGroupPolicies (att false) and ListAttached…Policies (att true). */
static int list_policies(struct dd_ctx *c, kind_t k, json_t *in, bool att, json_t **out)
{
	char after[1200];
	entity_t e;
	struct page p = { .c = c, .kind = k, .prefix = att ? dd__str(in, "PathPrefix") : NULL };
	if (page_in(c, in, after, sizeof after, &p.size) || entity_get(c, k, dd__str(in, KINDS[k].member), &e))
		return c->err;
	p.items = json_array();
	int rc = att ? dd_store_iam_attached_list(c->db, k, c->account, e.name, after, 0, page_attached, &p)
		     : dd_store_iam_inline_list(c->db, k, c->account, e.name, after, 0, page_policy_name, &p);
	if (rc > 0)
		rc = 0; /* the page is full */
	if (rc) {
		json_decref(p.items);
		return store_fail(c, rc);
	}
	*out = json_pack("{s:o}", att ? "AttachedPolicies" : "PolicyNames", p.items);
	page_out(*out, p.more, p.last);
	return 0;
}

static int attach(struct dd_ctx *c, kind_t k, json_t *in, bool on)
{
	char msg[DD_IAM_USER_MSG_SIZE];
	int rc = dd_iam_user_attach(c->db, k, c->account, dd__str(in, KINDS[k].member), dd__str(in, "PolicyArn"), on, msg,
				    sizeof msg);
	return rc ? rule_fail(c, rc, msg, "ValidationError") : 0;
}

#define UNUSED_OUT (void)out
static int iam_put_user_policy(struct dd_ctx *c, json_t *in, json_t **out) { UNUSED_OUT; return put_policy(c, USER, in); }
static int iam_put_group_policy(struct dd_ctx *c, json_t *in, json_t **out) { UNUSED_OUT; return put_policy(c, GROUP, in); }
static int iam_get_user_policy(struct dd_ctx *c, json_t *in, json_t **out) { return get_policy(c, USER, in, out); }
static int iam_get_group_policy(struct dd_ctx *c, json_t *in, json_t **out) { return get_policy(c, GROUP, in, out); }
static int iam_delete_user_policy(struct dd_ctx *c, json_t *in, json_t **out) { UNUSED_OUT; return delete_policy(c, USER, in); }
static int iam_delete_group_policy(struct dd_ctx *c, json_t *in, json_t **out) { UNUSED_OUT; return delete_policy(c, GROUP, in); }
static int iam_list_user_policies(struct dd_ctx *c, json_t *in, json_t **out) { return list_policies(c, USER, in, false, out); }
static int iam_list_group_policies(struct dd_ctx *c, json_t *in, json_t **out) { return list_policies(c, GROUP, in, false, out); }
static int iam_list_attached_user_policies(struct dd_ctx *c, json_t *in, json_t **out) { return list_policies(c, USER, in, true, out); }
static int iam_list_attached_group_policies(struct dd_ctx *c, json_t *in, json_t **out) { return list_policies(c, GROUP, in, true, out); }
static int iam_attach_user_policy(struct dd_ctx *c, json_t *in, json_t **out) { UNUSED_OUT; return attach(c, USER, in, true); }
static int iam_attach_group_policy(struct dd_ctx *c, json_t *in, json_t **out) { UNUSED_OUT; return attach(c, GROUP, in, true); }
static int iam_detach_user_policy(struct dd_ctx *c, json_t *in, json_t **out) { UNUSED_OUT; return attach(c, USER, in, false); }
static int iam_detach_group_policy(struct dd_ctx *c, json_t *in, json_t **out) { UNUSED_OUT; return attach(c, GROUP, in, false); }

/* ---- STS --------------------------------------------------------------------------- */

static int sts_get_caller_identity(struct dd_ctx *c, json_t *in, json_t **out)
{
	(void)in;
	char arn[1200];
	if (c->caller_user) {
		entity_t e;
		const char *path = dd_store_iam_users_entity_get(c->db, USER, c->account, c->caller_user, &e) == 0 ? e.path : "/";
		snprintf(arn, sizeof arn, "arn:aws:iam::%s:user%s%s", c->account, path, c->caller_user);
		*out = json_pack("{s:s, s:s, s:s}", "UserId", c->caller_user_id ? c->caller_user_id : "", "Account", c->account,
				 "Arn", arn);
	} else {
		snprintf(arn, sizeof arn, "arn:aws:iam::%s:root", c->account);
		*out = json_pack("{s:s, s:s, s:s}", "UserId", c->account, "Account", c->account, "Arn", arn);
	}
	return *out ? 0 : dd_fail(c, DD_ENOMEM, "InternalFailure", "out of memory");
}

const struct dd_handler dd_iam_users_handlers[] = {
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

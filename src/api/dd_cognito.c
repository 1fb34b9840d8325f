/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Cognito identity wire API (awsJson1_1): identity pools (create, describe, list,
 * update, delete) and their roles (SetIdentityPoolRoles / GetIdentityPoolRoles). A pool's
 * configuration is kept as the JSON the client sent (minus the id), its roles map
 * separately, so the audit reads roles without parsing configuration. Pools are scoped
 * to the caller's account and region; a pool id of another region or account is not found.
 * GetId, which AWS serves unsigned, runs for the account and region owning the pool
 * (dd_cognito_pool_owner, core/cognito/dd_cognito_pool.c, finds them). The SQL is the
 * store's (store/dd_store_cognito.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/dd_api_common.h"
#include "dd/cognito.h"
#include "dd/iam.h"
#include "store/dd_store_cognito.h"

#define MAX_POOLS 1000

static const char *const config_members[] = {
	"IdentityPoolName", "AllowUnauthenticatedIdentities", "AllowClassicFlow", "SupportedLoginProviders",
	"DeveloperProviderName", "OpenIdConnectProviderARNs", "CognitoIdentityProviders", "SamlProviderARNs",
	"IdentityPoolTags", NULL,
};

static int cog_db_fail(struct dd_ctx *c)
{
	if (dd_db_in_tx(c->db))
		dd_db_rollback(c->db);
	return dd_fail(c, DD_EIO, "InternalErrorException", "An internal store error occurred.");
}

static int not_found(struct dd_ctx *c, const char *id)
{
	return dd_fail(c, DD_ENOTFOUND, "ResourceNotFoundException", "IdentityPool '%s' not found.", id);
}

/* The configuration members of in as a new object. */
static json_t *config_of(json_t *in)
{
	json_t *o = json_object();
	for (int i = 0; config_members[i]; i++) {
		json_t *v = json_object_get(in, config_members[i]);
		if (v)
			json_object_set(o, config_members[i], v);
	}
	return o;
}

static json_t *pool_json(const char *id, const char *config_text)
{
	json_t *o = json_loads(config_text, 0, NULL);
	if (!o)
		o = json_object();
	json_object_set_new(o, "IdentityPoolId", json_string(id));
	if (!json_object_get(o, "AllowClassicFlow"))
		json_object_set_new(o, "AllowClassicFlow", json_false());
	return o;
}

static int cog_create_identity_pool(struct dd_ctx *c, json_t *in, json_t **out)
{
	char uuid[37], id[128];
	dd_random_uuid(uuid);
	snprintf(id, sizeof id, "%s:%s", c->region, uuid);
	json_t *cfg = config_of(in);
	char *text = json_dumps(cfg, JSON_COMPACT);
	json_decref(cfg);
	if (!text)
		return dd_fail(c, DD_ENOMEM, "InternalErrorException", "out of memory");
	int64_t n = 0;
	if (dd_db_begin_write(c->db) || dd_store_cognito_count(c->db, c->account, c->region, &n))
		goto dberr;
	if (n >= MAX_POOLS) {
		dd_db_rollback(c->db);
		free(text);
		return dd_fail(c, DD_ELIMIT, "LimitExceededException", "You have reached the limit of %d identity pools.", MAX_POOLS);
	}
	struct dd_store_cognito_pool p = {
		.id = id, .region = (char *)c->region, .name = (char *)dd__str(in, "IdentityPoolName"), .config = text,
		.created_ms = c->now_ms,
	};
	if (dd_store_cognito_insert(c->db, c->account, &p) || dd_db_commit(c->db))
		goto dberr;
	*out = pool_json(id, text);
	free(text);
	return 0;
dberr:
	free(text);
	return cog_db_fail(c);
}

static int cog_describe_identity_pool(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *id = dd__str(in, "IdentityPoolId");
	struct dd_store_cognito_pool p;
	int rc = dd_store_cognito_get(c->db, c->account, c->region, id, &p);
	if (rc == DD_ENOTFOUND)
		return not_found(c, id);
	if (rc)
		return cog_db_fail(c);
	*out = pool_json(id, p.config);
	dd_store_cognito_clear(&p);
	return 0;
}

struct list_page {
	json_t *items;
	int64_t size;
	bool more;
	char last[256];
};

static int list_row(const struct dd_store_cognito_pool *p, void *ud)
{
	struct list_page *pg = ud;
	if ((int64_t)json_array_size(pg->items) == pg->size) {
		pg->more = true;
		return 1;
	}
	json_array_append_new(pg->items, json_pack("{s:s, s:s}", "IdentityPoolId", p->id, "IdentityPoolName", p->name));
	snprintf(pg->last, sizeof pg->last, "%s", p->id);
	return 0;
}

static int cog_list_identity_pools(struct dd_ctx *c, json_t *in, json_t **out)
{
	char after[256] = "";
	const char *tok = dd__str(in, "NextToken");
	if (tok && *tok && dd_page_token_parse(tok, after, sizeof after))
		return dd_fail(c, DD_EINVAL, "InvalidParameterException", "The NextToken is not valid.");
	int64_t size = dd__int(in, "MaxResults", 60);
	if (size < 1 || size > 60)
		return dd_fail(c, DD_EINVAL, "InvalidParameterException", "MaxResults must be between 1 and 60.");
	struct list_page pg = { .items = json_array(), .size = size };
	if (dd_store_cognito_list(c->db, c->account, c->region, after, (int)size + 1, list_row, &pg) < 0) {
		json_decref(pg.items);
		return cog_db_fail(c);
	}
	*out = json_pack("{s:o}", "IdentityPools", pg.items);
	dd__page_next(*out, "NextToken", pg.more, pg.last);
	return 0;
}

static int cog_update_identity_pool(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *id = dd__str(in, "IdentityPoolId");
	json_t *cfg = config_of(in);
	char *text = json_dumps(cfg, JSON_COMPACT);
	json_decref(cfg);
	if (!text)
		return dd_fail(c, DD_ENOMEM, "InternalErrorException", "out of memory");
	int rc = dd_store_cognito_update(c->db, c->account, c->region, id, dd__str(in, "IdentityPoolName"), text);
	if (rc) {
		free(text);
		return rc == DD_ENOTFOUND ? not_found(c, id) : cog_db_fail(c);
	}
	*out = pool_json(id, text);
	free(text);
	return 0;
}

static int cog_delete_identity_pool(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *id = dd__str(in, "IdentityPoolId");
	int rc = dd_store_cognito_delete(c->db, c->account, c->region, id);
	if (rc)
		return rc == DD_ENOTFOUND ? not_found(c, id) : cog_db_fail(c);
	(void)out;
	return 0;
}

static int cog_set_identity_pool_roles(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *id = dd__str(in, "IdentityPoolId");
	json_t *roles = json_object_get(in, "Roles"), *mappings = json_object_get(in, "RoleMappings");
	const char *k;
	json_t *v;
	json_object_foreach(roles, k, v) {
		if (strcmp(k, "authenticated") != 0 && strcmp(k, "unauthenticated") != 0)
			return dd_fail(c, DD_EINVAL, "InvalidParameterException",
				       "Invalid role type '%s': only 'authenticated' and 'unauthenticated' are allowed.", k);
		const char *arn = json_string_value(v);
		if (dd_iam_role_arn_check(c->account, arn))
			return dd_fail(c, DD_EINVAL, "InvalidParameterException",
				       "Invalid role ARN for '%s': a role of account %s is required.", k, c->account);
	}
	char *rt = (roles ? json_dumps(roles, JSON_COMPACT) : strdup("{}"));
	char *mt = mappings ? json_dumps(mappings, JSON_COMPACT) : NULL;
	int rc = 0;
	if (!rt || (mappings && !mt)) {
		rc = dd_fail(c, DD_ENOMEM, "InternalErrorException", "out of memory");
	} else {
		int src = dd_store_cognito_set_roles(c->db, c->account, c->region, id, rt, mt);
		if (src)
			rc = src == DD_ENOTFOUND ? not_found(c, id) : cog_db_fail(c);
	}
	free(rt);
	free(mt);
	(void)out;
	return rc;
}

static int cog_get_identity_pool_roles(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *id = dd__str(in, "IdentityPoolId");
	struct dd_store_cognito_pool p;
	int rc = dd_store_cognito_get(c->db, c->account, c->region, id, &p);
	if (rc == DD_ENOTFOUND)
		return not_found(c, id);
	if (rc)
		return cog_db_fail(c);
	json_t *roles = json_loads(p.roles, 0, NULL);
	json_t *o = json_pack("{s:s, s:o}", "IdentityPoolId", id, "Roles", roles ? roles : json_object());
	if (p.role_mappings) {
		json_t *m = json_loads(p.role_mappings, 0, NULL);
		if (m)
			json_object_set_new(o, "RoleMappings", m);
	}
	dd_store_cognito_clear(&p);
	*out = o;
	return 0;
}

/* GetId (served without a signature: the caller's account and region are the pool's).
 * Every call issues a new unauthenticated identity id, as AWS does for a caller without
 * Logins. The server keeps no identities: it issues neither credentials nor OpenID
 * tokens, so nothing would read them, and an unsigned call never writes to the store. */
static int cog_get_id(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *id = dd__str(in, "IdentityPoolId");
	const char *acct = dd__str(in, "AccountId");
	if (acct && strcmp(acct, c->account) != 0)
		return not_found(c, id);
	struct dd_store_cognito_pool p;
	int rc = dd_store_cognito_get(c->db, c->account, c->region, id, &p);
	if (rc == DD_ENOTFOUND)
		return not_found(c, id);
	if (rc)
		return cog_db_fail(c);
	json_t *cfg = json_loads(p.config, 0, NULL);
	dd_store_cognito_clear(&p);
	bool unauth = json_is_true(json_object_get(cfg, "AllowUnauthenticatedIdentities"));
	json_decref(cfg);
	json_t *logins = json_object_get(in, "Logins");
	if (logins && json_object_size(logins) > 0)
		return dd_fail(c, DD_EDENIED, "NotAuthorizedException",
			       "Invalid login token. This server does not verify identity provider tokens.");
	if (!unauth)
		return dd_fail(c, DD_EDENIED, "NotAuthorizedException",
			       "Unauthenticated access is not supported for this identity pool.");
	char uuid[37], identity[128];
	dd_random_uuid(uuid);
	snprintf(identity, sizeof identity, "%s:%s", c->region, uuid);
	*out = json_pack("{s:s}", "IdentityId", identity);
	return *out ? 0 : dd_fail(c, DD_ENOMEM, "InternalErrorException", "out of memory");
}

const struct dd_handler dd_cognito_handlers[] = {
	{ "cognito-identity", "CreateIdentityPool", cog_create_identity_pool },
	{ "cognito-identity", "DescribeIdentityPool", cog_describe_identity_pool },
	{ "cognito-identity", "ListIdentityPools", cog_list_identity_pools },
	{ "cognito-identity", "UpdateIdentityPool", cog_update_identity_pool },
	{ "cognito-identity", "DeleteIdentityPool", cog_delete_identity_pool },
	{ "cognito-identity", "SetIdentityPoolRoles", cog_set_identity_pool_roles },
	{ "cognito-identity", "GetIdentityPoolRoles", cog_get_identity_pool_roles },
	{ "cognito-identity", "GetId", cog_get_id },
	{ NULL, NULL, NULL },
};

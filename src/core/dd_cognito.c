/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Cognito identity subset (awsJson1_1): identity pools (create, describe, list,
 * update, delete) and their roles (SetIdentityPoolRoles / GetIdentityPoolRoles). A pool's
 * configuration is kept as the JSON the client sent (minus the id), its roles map in its
 * own column, so the audit reads roles without parsing configuration. Pools are scoped
 * to the caller's account and region; a pool id of another region or account is not found.
 * GetId, which AWS serves unsigned, runs for the account and region owning the pool
 * (dd_cognito_pool_owner finds them).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/dd_registry_int.h"
#include "dd/cognito.h"
#include "dd/iam.h"

#define MAX_POOLS 1000

static const char *const config_members[] = {
	"IdentityPoolName", "AllowUnauthenticatedIdentities", "AllowClassicFlow", "SupportedLoginProviders",
	"DeveloperProviderName", "OpenIdConnectProviderARNs", "CognitoIdentityProviders", "SamlProviderARNs",
	"IdentityPoolTags", NULL,
};

static int cog_db_fail(struct dd_ctx *c)
{
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
	dd__uuid(uuid);
	snprintf(id, sizeof id, "%s:%s", c->region, uuid);
	json_t *cfg = config_of(in);
	char *text = json_dumps(cfg, JSON_COMPACT);
	json_decref(cfg);
	if (!text)
		return dd_fail(c, DD_ENOMEM, "InternalErrorException", "out of memory");
	if (dd_db_begin_write(c->db)) {
		free(text);
		return cog_db_fail(c);
	}
	sqlite3_stmt *st = dd_db_stmt(c->db, "SELECT count(*) FROM cognito_pools WHERE account = ?1 AND region = ?2");
	if (!st)
		goto dberr;
	dd_bind_text(st, 1, c->account);
	dd_bind_text(st, 2, c->region);
	int64_t n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
	sqlite3_reset(st);
	if (n < 0)
		goto dberr;
	if (n >= MAX_POOLS) {
		dd_db_rollback(c->db);
		free(text);
		return dd_fail(c, DD_ELIMIT, "LimitExceededException", "You have reached the limit of %d identity pools.", MAX_POOLS);
	}
	st = dd_db_stmt(c->db, "INSERT INTO cognito_pools(account, id, region, name, config, roles, created)"
			       " VALUES (?1, ?2, ?3, ?4, ?5, '{}', ?6)");
	if (!st)
		goto dberr;
	dd_bind_text(st, 1, c->account);
	dd_bind_text(st, 2, id);
	dd_bind_text(st, 3, c->region);
	dd_bind_text(st, 4, dd__str(in, "IdentityPoolName"));
	dd_bind_text(st, 5, text);
	dd_bind_int64(st, 6, c->now_ms);
	if (dd_step_done(st) || dd_db_commit(c->db))
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
	sqlite3_stmt *st = dd_db_stmt(c->db, "SELECT config FROM cognito_pools WHERE account = ?1 AND id = ?2 AND region = ?3");
	if (!st)
		return cog_db_fail(c);
	dd_bind_text(st, 1, c->account);
	dd_bind_text(st, 2, id);
	dd_bind_text(st, 3, c->region);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_reset(st);
		return not_found(c, id);
	}
	*out = pool_json(id, dd_col_text(st, 0));
	sqlite3_reset(st);
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
	sqlite3_stmt *st = dd_db_stmt(c->db, "SELECT id, name FROM cognito_pools WHERE account = ?1 AND region = ?2 AND id > ?3"
					     " ORDER BY id LIMIT ?4");
	if (!st)
		return cog_db_fail(c);
	dd_bind_text(st, 1, c->account);
	dd_bind_text(st, 2, c->region);
	dd_bind_text(st, 3, after);
	dd_bind_int64(st, 4, size + 1);
	json_t *pools = json_array();
	char last[256] = "";
	bool more = false;
	int64_t n = 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (n++ == size) {
			more = true;
			break;
		}
		json_array_append_new(pools, json_pack("{s:s, s:s}", "IdentityPoolId", dd_col_text(st, 0),
						       "IdentityPoolName", dd_col_text(st, 1)));
		snprintf(last, sizeof last, "%s", dd_col_text(st, 0));
	}
	sqlite3_reset(st);
	*out = json_pack("{s:o}", "IdentityPools", pools);
	dd__page_next(*out, "NextToken", more, last);
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
	sqlite3_stmt *st = dd_db_stmt(c->db, "UPDATE cognito_pools SET config = ?4, name = ?5 WHERE account = ?1 AND id = ?2 AND region = ?3");
	if (!st) {
		free(text);
		return cog_db_fail(c);
	}
	dd_bind_text(st, 1, c->account);
	dd_bind_text(st, 2, id);
	dd_bind_text(st, 3, c->region);
	dd_bind_text(st, 4, text);
	dd_bind_text(st, 5, dd__str(in, "IdentityPoolName"));
	if (dd_step_done(st)) {
		free(text);
		return cog_db_fail(c);
	}
	if (sqlite3_changes(dd_db_handle(c->db)) == 0) {
		free(text);
		return not_found(c, id);
	}
	*out = pool_json(id, text);
	free(text);
	return 0;
}

static int cog_delete_identity_pool(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *id = dd__str(in, "IdentityPoolId");
	sqlite3_stmt *st = dd_db_stmt(c->db, "DELETE FROM cognito_pools WHERE account = ?1 AND id = ?2 AND region = ?3");
	if (!st)
		return cog_db_fail(c);
	dd_bind_text(st, 1, c->account);
	dd_bind_text(st, 2, id);
	dd_bind_text(st, 3, c->region);
	if (dd_step_done(st))
		return cog_db_fail(c);
	if (sqlite3_changes(dd_db_handle(c->db)) == 0)
		return not_found(c, id);
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
	sqlite3_stmt *st = dd_db_stmt(c->db, "UPDATE cognito_pools SET roles = ?4, role_mappings = ?5 WHERE account = ?1 AND id = ?2 AND region = ?3");
	int rc = 0;
	if (!st || !rt) {
		rc = cog_db_fail(c);
	} else {
		dd_bind_text(st, 1, c->account);
		dd_bind_text(st, 2, id);
		dd_bind_text(st, 3, c->region);
		dd_bind_text(st, 4, rt);
		dd_bind_text(st, 5, mt);
		if (dd_step_done(st))
			rc = cog_db_fail(c);
		else if (sqlite3_changes(dd_db_handle(c->db)) == 0)
			rc = not_found(c, id);
	}
	free(rt);
	free(mt);
	(void)out;
	return rc;
}

static int cog_get_identity_pool_roles(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *id = dd__str(in, "IdentityPoolId");
	sqlite3_stmt *st = dd_db_stmt(c->db, "SELECT roles, role_mappings FROM cognito_pools WHERE account = ?1 AND id = ?2 AND region = ?3");
	if (!st)
		return cog_db_fail(c);
	dd_bind_text(st, 1, c->account);
	dd_bind_text(st, 2, id);
	dd_bind_text(st, 3, c->region);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_reset(st);
		return not_found(c, id);
	}
	json_t *roles = json_loads(dd_col_text(st, 0), 0, NULL);
	json_t *o = json_pack("{s:s, s:o}", "IdentityPoolId", id, "Roles", roles ? roles : json_object());
	if (sqlite3_column_type(st, 1) != SQLITE_NULL) {
		json_t *m = json_loads(dd_col_text(st, 1), 0, NULL);
		if (m)
			json_object_set_new(o, "RoleMappings", m);
	}
	sqlite3_reset(st);
	*out = o;
	return 0;
}

/* ---- C API ------------------------------------------------------------------------- */

void dd_cognito_pools_free(struct dd_cognito_pool *pools, size_t n)
{
	for (size_t i = 0; pools && i < n; i++) {
		free(pools[i].id);
		free(pools[i].name);
		free(pools[i].region);
		free(pools[i].auth_role_arn);
		free(pools[i].unauth_role_arn);
	}
	free(pools);
}

static char *role_of(json_t *roles, const char *key)
{
	const char *s = json_string_value(json_object_get(roles, key));
	return s ? strdup(s) : NULL;
}

int dd_cognito_pools_list(struct dd_db *db, const char *account, const char *region,
			  struct dd_cognito_pool **out, size_t *n)
{
	sqlite3_stmt *st = dd_db_stmt(db, "SELECT id, name, region, config, roles FROM cognito_pools"
					  " WHERE account = ?1 AND (?2 IS NULL OR region = ?2) ORDER BY id");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account);
	dd_bind_text(st, 2, region);
	struct dd_cognito_pool *p = NULL;
	size_t k = 0;
	int rc = 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		struct dd_cognito_pool *np = realloc(p, (k + 1) * sizeof *np);
		if (!np) {
			rc = DD_ENOMEM;
			break;
		}
		p = np;
		json_t *cfg = json_loads(dd_col_text(st, 3), 0, NULL);
		json_t *roles = json_loads(dd_col_text(st, 4), 0, NULL);
		struct dd_cognito_pool *e = &p[k++];
		e->id = strdup(dd_col_text(st, 0));
		e->name = strdup(dd_col_text(st, 1));
		e->region = strdup(dd_col_text(st, 2));
		e->allow_unauthenticated = json_is_true(json_object_get(cfg, "AllowUnauthenticatedIdentities"));
		e->auth_role_arn = role_of(roles, "authenticated");
		e->unauth_role_arn = role_of(roles, "unauthenticated");
		json_decref(cfg);
		json_decref(roles);
		if (!e->id || !e->name || !e->region) {
			rc = DD_ENOMEM;
			break;
		}
	}
	sqlite3_reset(st);
	if (rc) {
		dd_cognito_pools_free(p, k);
		return rc;
	}
	*out = p;
	*n = k;
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
	sqlite3_stmt *st = dd_db_stmt(c->db, "SELECT config FROM cognito_pools WHERE account = ?1 AND id = ?2 AND region = ?3");
	if (!st)
		return cog_db_fail(c);
	dd_bind_text(st, 1, c->account);
	dd_bind_text(st, 2, id);
	dd_bind_text(st, 3, c->region);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_reset(st);
		return not_found(c, id);
	}
	json_t *cfg = json_loads(dd_col_text(st, 0), 0, NULL);
	sqlite3_reset(st);
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
	dd__uuid(uuid);
	snprintf(identity, sizeof identity, "%s:%s", c->region, uuid);
	*out = json_pack("{s:s}", "IdentityId", identity);
	return *out ? 0 : dd_fail(c, DD_ENOMEM, "InternalErrorException", "out of memory");
}

int dd_cognito_pool_owner(struct dd_db *db, const char *pool_id, char account[13], char region[64])
{
	/* pool ids are "<region>:<uuid>" with a random uuid: one row, whatever the account */
	sqlite3_stmt *st = dd_db_stmt(db, "SELECT account, region FROM cognito_pools WHERE id = ?1 LIMIT 2");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, pool_id);
	int rows = 0;
	int rc = DD_ENOTFOUND;
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (++rows > 1) {
			rc = DD_ENOTFOUND; /* never served to a caller who cannot say whose it is */
			break;
		}
		const char *a = dd_col_text(st, 0), *r = dd_col_text(st, 1);
		if (strlen(a) != 12 || strlen(r) >= 64)
			break;
		memcpy(account, a, 13);
		memcpy(region, r, strlen(r) + 1);
		rc = 0;
	}
	sqlite3_reset(st);
	return rc;
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

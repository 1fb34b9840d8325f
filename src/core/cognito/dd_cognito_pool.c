/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Identity pools as the audit's Cognito role checks and the unsigned GetId route read
 * them (dd/cognito.h): every pool of an account with whether it allows unauthenticated
 * identities and its two role ARNs (read from the stored configuration and roles map),
 * and the account and region owning a pool id. The SQL is the store's
 * (store/dd_store_cognito.h).
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "dd/cognito.h"
#include "store/dd_store_cognito.h"

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

struct pools {
	struct dd_cognito_pool *v;
	size_t n;
};

static int pool_row(const struct dd_store_cognito_pool *sp, void *ud)
{
	struct pools *ps = ud;
	struct dd_cognito_pool *np = realloc(ps->v, (ps->n + 1) * sizeof *np);
	if (!np)
		return DD_ENOMEM;
	ps->v = np;
	json_t *cfg = json_loads(sp->config, 0, NULL);
	json_t *roles = json_loads(sp->roles, 0, NULL);
	struct dd_cognito_pool *e = &ps->v[ps->n++];
	e->id = strdup(sp->id);
	e->name = strdup(sp->name);
	e->region = strdup(sp->region);
	e->allow_unauthenticated = json_is_true(json_object_get(cfg, "AllowUnauthenticatedIdentities"));
	e->auth_role_arn = role_of(roles, "authenticated");
	e->unauth_role_arn = role_of(roles, "unauthenticated");
	json_decref(cfg);
	json_decref(roles);
	return e->id && e->name && e->region ? 0 : DD_ENOMEM;
}

int dd_cognito_pools_list(struct dd_db *db, const char *account, const char *region,
			  struct dd_cognito_pool **out, size_t *n)
{
	struct pools ps = { 0 };
	int rc = dd_store_cognito_list(db, account, region, NULL, 0, pool_row, &ps);
	if (rc) {
		dd_cognito_pools_free(ps.v, ps.n);
		return rc;
	}
	*out = ps.v;
	*n = ps.n;
	return 0;
}

int dd_cognito_pool_owner(struct dd_db *db, const char *pool_id, char account[13], char region[64])
{
	return dd_store_cognito_owner(db, pool_id, account, region);
}

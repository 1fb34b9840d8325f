/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Cognito identity subset: identity pools and their roles (authenticated and
 * unauthenticated IAM role ARNs), as the audit's Cognito role checks read them. Pools
 * are regional (id "<region>:<uuid>") and scoped to one account.
 */
#ifndef DD_COGNITO_H
#define DD_COGNITO_H

#include <stdbool.h>

#include "dd/common.h"
#include "dd/store.h"

/* One identity pool and its roles. Strings are owned; a role is NULL when not set. */
struct dd_cognito_pool {
	char *id;
	char *name;
	char *region;
	bool allow_unauthenticated;
	char *auth_role_arn;
	char *unauth_role_arn;
};

/* Lists every identity pool of account (all regions when region is NULL), ordered by id.
 * On success *out is an owned array of *n pools (free with dd_cognito_pools_free) and
 * 0 is returned; DD_EIO or DD_ENOMEM otherwise. */
int dd_cognito_pools_list(struct dd_db *db, const char *account, const char *region,
			  struct dd_cognito_pool **out, size_t *n) DD_MUST_CHECK;
void dd_cognito_pools_free(struct dd_cognito_pool *pools, size_t n);
/* The account and region owning the identity pool pool_id, for the operations AWS serves
 * without a signature (GetId and the like). Returns 0, DD_ENOTFOUND or DD_EIO. */
int dd_cognito_pool_owner(struct dd_db *db, const char *pool_id, char account[13], char region[64]) DD_MUST_CHECK;

#endif

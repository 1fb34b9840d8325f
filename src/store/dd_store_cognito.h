/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Storage of Cognito identity pools: per account, each pool with its region, name, its
 * configuration (the JSON object text the client sent, minus the id), its roles map
 * ({"authenticated": ARN, "unauthenticated": ARN} as JSON text) and its role mappings
 * (JSON text or NULL). Pool ids ("<region>:<uuid>") are unique across accounts. Functions
 * return 0, DD_ENOTFOUND, DD_EIO or DD_ENOMEM; no function opens a transaction. Listing
 * callbacks receive borrowed strings valid only during the call; a non-zero return stops
 * the listing and is returned.
 */
#ifndef DD_STORE_COGNITO_H
#define DD_STORE_COGNITO_H

#include <stdint.h>

#include "dd/common.h"

struct dd_db;

/* A pool; owned strings from dd_store_cognito_get (free with dd_store_cognito_clear),
 * borrowed in listing callbacks. role_mappings is NULL when not set. */
struct dd_store_cognito_pool {
	char *id;
	char *region;
	char *name;
	char *config;
	char *roles;
	char *role_mappings;
	int64_t created_ms;
};
void dd_store_cognito_clear(struct dd_store_cognito_pool *p);

/* Number of pools of account in region. */
int dd_store_cognito_count(struct dd_db *db, const char *account, const char *region, int64_t *n) DD_MUST_CHECK;
/* Inserts p (roles NULL means "{}"); DD_EEXIST when the id is taken. */
int dd_store_cognito_insert(struct dd_db *db, const char *account,
			    const struct dd_store_cognito_pool *p) DD_MUST_CHECK;
/* The pool id of account in region. DD_ENOTFOUND (also for another region's pool). */
int dd_store_cognito_get(struct dd_db *db, const char *account, const char *region, const char *id,
			 struct dd_store_cognito_pool *out) DD_MUST_CHECK;
/* Replaces the pool's name and configuration. DD_ENOTFOUND. */
int dd_store_cognito_update(struct dd_db *db, const char *account, const char *region, const char *id,
			    const char *name, const char *config) DD_MUST_CHECK;
/* Replaces the pool's roles (NULL: "{}") and role mappings (NULL: none). DD_ENOTFOUND. */
int dd_store_cognito_set_roles(struct dd_db *db, const char *account, const char *region, const char *id,
			       const char *roles, const char *role_mappings) DD_MUST_CHECK;
int dd_store_cognito_delete(struct dd_db *db, const char *account, const char *region,
			    const char *id) DD_MUST_CHECK;

typedef int (*dd_store_cognito_fn)(const struct dd_store_cognito_pool *p, void *ud);
/* The pools of account in region (every region when NULL) with id > after ("" or NULL:
 * from the start), in id order, at most limit (<= 0: all). */
int dd_store_cognito_list(struct dd_db *db, const char *account, const char *region, const char *after,
			  int limit, dd_store_cognito_fn fn, void *ud) DD_MUST_CHECK;
/* The account and region owning pool id, whatever the account. DD_ENOTFOUND (also when
 * the id is ambiguous or the stored values do not fit). */
int dd_store_cognito_owner(struct dd_db *db, const char *id, char account[13], char region[64]) DD_MUST_CHECK;

#endif

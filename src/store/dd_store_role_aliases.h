/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Role aliases in the store: alias → IAM role ARN and credential duration, with creation
 * and modification times (epoch ms), per account and region. Functions return 0 or a
 * negative DD_E* (DD_ENOTFOUND, DD_EEXIST, DD_EIO for a store error) and run in the
 * caller's transaction when one is open. Listing callbacks return 0 to go on, > 0 to stop
 * (the listing returns 0), < 0 to stop with that error.
 */
#ifndef DD_STORE_ROLE_ALIASES_H
#define DD_STORE_ROLE_ALIASES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dd/common.h"

struct dd_db;

struct dd_store_role_aliases_row {
	char role_arn[2049];
	int64_t duration;
	int64_t created;
	int64_t modified;
};

typedef int (*dd_store_role_aliases_fn)(void *ud, const char *alias);

/* DD_EEXIST when the alias is taken. */
int dd_store_role_aliases_insert(struct dd_db *db, const char *account_region, const char *alias,
				 const char *role_arn, int64_t duration, int64_t now_ms) DD_MUST_CHECK;
int dd_store_role_aliases_get(struct dd_db *db, const char *account_region, const char *alias,
			      struct dd_store_role_aliases_row *out) DD_MUST_CHECK;
/* Changes the role (NULL: kept) and the duration (< 0: kept). DD_ENOTFOUND without it. */
int dd_store_role_aliases_update(struct dd_db *db, const char *account_region, const char *alias,
				 const char *role_arn, int64_t duration, int64_t now_ms) DD_MUST_CHECK;
int dd_store_role_aliases_delete(struct dd_db *db, const char *account_region, const char *alias) DD_MUST_CHECK;
/* Aliases after `after`, ascending or (after "" = from the end) descending, at most limit. */
int dd_store_role_aliases_list(struct dd_db *db, const char *account_region, const char *after, bool ascending,
			       int limit, dd_store_role_aliases_fn fn, void *ud) DD_MUST_CHECK;

#endif

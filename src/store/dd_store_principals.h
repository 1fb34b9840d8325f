/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Storage of principal attachments as the principal listings read them: principals
 * attached to things (with the attachment's type, EXCLUSIVE_THING or
 * NON_EXCLUSIVE_THING) and policies attached to targets (certificates, Cognito
 * identities, thing groups). Functions run inside the caller's transaction when one is
 * open and return 0 or a negative DD_E* (DD_ENOTFOUND, DD_EIO).
 */
#ifndef DD_STORE_PRINCIPALS_H
#define DD_STORE_PRINCIPALS_H

#include <stdbool.h>
#include <stdint.h>

#include "dd/common.h"

struct dd_db;

/* Listing callback: the key (principal, thing or policy name, or target) and, for
 * thing attachments, the attachment type ("" otherwise); valid during the call. A nonzero
 * return stops the listing and is returned. */
typedef int (*dd_store_principals_fn)(const char *key, const char *type, void *ud);

/* Number of principals attached to thing. */
int dd_store_principals_thing_count(struct dd_db *db, const char *account_region, const char *thing,
				    int64_t *n) DD_MUST_CHECK;
/* Principals attached to thing, after `after` in order, at most limit (<= 0: no limit),
 * only attachments of type when type is not NULL. */
int dd_store_principals_of_thing(struct dd_db *db, const char *account_region, const char *thing, const char *type,
				 const char *after, int limit, dd_store_principals_fn fn, void *ud) DD_MUST_CHECK;
/* Things principal is attached to, after `after` in order, likewise. */
int dd_store_principals_things_of(struct dd_db *db, const char *account_region, const char *principal, const char *type,
				  const char *after, int limit, dd_store_principals_fn fn, void *ud) DD_MUST_CHECK;
/* Policies attached to target, in name order after `after` (ascending), or before
 * `after` ("" or NULL: from the end) when descending. */
int dd_store_principals_policies_of(struct dd_db *db, const char *account_region, const char *target, bool ascending,
				    const char *after, int limit, dd_store_principals_fn fn, void *ud) DD_MUST_CHECK;
/* The principals (targets other than thing groups) policy is attached to, in the same
 * order as dd_store_principals_policies_of. */
int dd_store_principals_of_policy(struct dd_db *db, const char *account_region, const char *policy, bool ascending,
				  const char *after, int limit, dd_store_principals_fn fn, void *ud) DD_MUST_CHECK;
/* 1 when the policy exists, 0 when not, DD_EIO. */
int dd_store_principals_policy_exists(struct dd_db *db, const char *account_region, const char *policy) DD_MUST_CHECK;

#endif

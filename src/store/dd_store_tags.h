/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Resource tags in the store: (resource ARN, key) → value per account and region, and the
 * question TagResource asks first — does the tagged resource exist? — answered for every
 * kind of IoT resource we keep (thing, thinggroup, thingtype, billinggroup, rule,
 * domainconfiguration, policy, rolealias, cert, cacert, mitigationaction, scheduledaudit).
 * Functions return 0 or a negative DD_E* (DD_EINVAL for an unknown kind, DD_EIO for a
 * store error) and run in the caller's transaction when one is open. Listing callbacks
 * return 0 to go on, > 0 to stop (the listing returns 0), < 0 to stop with that error.
 */
#ifndef DD_STORE_TAGS_H
#define DD_STORE_TAGS_H

#include <stdbool.h>
#include <stddef.h>

#include "dd/common.h"

struct dd_db;

typedef int (*dd_store_tags_fn)(void *ud, const char *key, const char *value);

/* Sets (creates or replaces) one tag. */
int dd_store_tags_put(struct dd_db *db, const char *account_region, const char *arn, const char *key,
		      const char *value) DD_MUST_CHECK;
/* Removes one tag (0 also when it was not there). */
int dd_store_tags_delete(struct dd_db *db, const char *account_region, const char *arn, const char *key) DD_MUST_CHECK;
/* Removes every tag of a resource. */
int dd_store_tags_delete_all(struct dd_db *db, const char *account_region, const char *arn) DD_MUST_CHECK;
/* The tags of a resource by key, after `after` ("" for the start), at most limit. */
int dd_store_tags_list(struct dd_db *db, const char *account_region, const char *arn, const char *after, int limit,
		       dd_store_tags_fn fn, void *ud) DD_MUST_CHECK;
/* Does a resource of kind (the first segment of an IoT ARN's resource, e.g. "thinggroup")
 * and id (the rest after the '/') exist? DD_EINVAL for a kind that takes no tags. */
int dd_store_tags_resource_exists(struct dd_db *db, const char *account_region, const char *kind, const char *id,
				  bool *yes) DD_MUST_CHECK;

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Thing type and billing group rules. A deprecated thing type takes no new things; a type
 * can be deleted only when it was deprecated at least DD_REGISTRY_TYPES_DELETE_DELAY_MS
 * before (on the service clock) and no thing has it. A thing is in at most one billing
 * group. Functions run inside the caller's transaction and return 0 or a negative DD_E*
 * with a message in msg: DD_ENOTFOUND, DD_EINVAL (the rule refuses), DD_EIO (store).
 */
#ifndef DD_REGISTRY_TYPES_H
#define DD_REGISTRY_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dd/common.h"

struct dd_db;

#define DD_REGISTRY_TYPES_DELETE_DELAY_MS (5 * 60 * 1000)

/* Can a thing be given this type? */
int dd_registry_types_usable(struct dd_db *db, const char *account_region, const char *type, char *msg,
			     size_t msglen) DD_MUST_CHECK;
/* Deletes the type (and the tags of arn) when the rules allow it at now_ms. */
int dd_registry_types_delete(struct dd_db *db, const char *account_region, const char *name, const char *arn,
			     int64_t now_ms, char *msg, size_t msglen) DD_MUST_CHECK;
/* Puts thing in billing group group. Already there: 0 and *changed false; in another
 * billing group: DD_EINVAL. */
int dd_registry_types_billing_add(struct dd_db *db, const char *account_region, const char *group, const char *thing,
				  bool *changed, char *msg, size_t msglen) DD_MUST_CHECK;
/* Takes thing out of billing group group (not in it: 0 and *changed false). */
int dd_registry_types_billing_remove(struct dd_db *db, const char *account_region, const char *group,
				     const char *thing, bool *changed, char *msg, size_t msglen) DD_MUST_CHECK;

#endif

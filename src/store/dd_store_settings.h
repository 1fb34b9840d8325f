/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Per-account-and-region settings in the store: named values kept as text (the v1 and v2
 * logging options are JSON object text under "logging_v1" / "logging_v2"), and the v2 log
 * levels of logging targets (targetType, targetName — "" for DEFAULT — and a level).
 * Functions return 0 or a negative DD_E* (DD_ENOTFOUND, DD_EIO for a store error) and run
 * in the caller's transaction when one is open. Listing callbacks return 0 to go on,
 * > 0 to stop (the listing returns 0), < 0 to stop with that error.
 */
#ifndef DD_STORE_SETTINGS_H
#define DD_STORE_SETTINGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dd/common.h"

struct dd_db;

/* The value of key (malloc'd, caller frees). DD_ENOTFOUND when it was never set. */
int dd_store_settings_get(struct dd_db *db, const char *account_region, const char *key, char **value) DD_MUST_CHECK;
/* Sets (creates or replaces) key. */
int dd_store_settings_put(struct dd_db *db, const char *account_region, const char *key,
			  const char *value) DD_MUST_CHECK;

typedef int (*dd_store_settings_log_level_fn)(void *ud, const char *target_type, const char *target_name,
					      const char *level);
/* Sets (creates or replaces) the level of a target. */
int dd_store_settings_log_level_put(struct dd_db *db, const char *account_region, const char *target_type,
				    const char *target_name, const char *level) DD_MUST_CHECK;
/* Removes a target's level (0 also when it had none). */
int dd_store_settings_log_level_delete(struct dd_db *db, const char *account_region, const char *target_type,
				       const char *target_name) DD_MUST_CHECK;
/* The levels, of one target type (NULL: all), ordered by "<type>/<name>", after that key
 * ("" for the start), at most limit. */
int dd_store_settings_log_levels_list(struct dd_db *db, const char *account_region, const char *target_type,
				      const char *after, int limit, dd_store_settings_log_level_fn fn,
				      void *ud) DD_MUST_CHECK;

#endif

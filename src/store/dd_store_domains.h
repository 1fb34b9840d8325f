/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Domain configurations in the store: name, the 5-letter id of its ARN, its settings (a
 * JSON object text), status, service type, domain type and the times of creation and of
 * the last status change, per account and region. Functions return 0 or a negative DD_E*
 * (DD_ENOTFOUND, DD_EEXIST, DD_EIO for a store error) and run in the caller's
 * transaction when one is open. Callbacks return 0 to go on, > 0 to stop (the call
 * returns 0), < 0 to stop with that error.
 */
#ifndef DD_STORE_DOMAINS_H
#define DD_STORE_DOMAINS_H

#include <stdbool.h>
#include <stdint.h>

#include "dd/common.h"

struct dd_db;

struct dd_store_domains_row {
	const char *name;
	const char *arn_id;
	const char *config;       /* JSON object text */
	const char *status;       /* ENABLED / DISABLED */
	const char *service_type;
	const char *domain_type;
	int64_t status_changed;
	int64_t created;
};

typedef int (*dd_store_domains_fn)(void *ud, const struct dd_store_domains_row *r);

/* How many configurations the account has in the region, and whether name is one. */
int dd_store_domains_count(struct dd_db *db, const char *account_region, const char *name, int64_t *total,
			   bool *exists) DD_MUST_CHECK;
/* DD_EEXIST when the name is taken. */
int dd_store_domains_insert(struct dd_db *db, const char *account_region,
			    const struct dd_store_domains_row *r) DD_MUST_CHECK;
/* Calls fn once with the configuration. DD_ENOTFOUND without it. */
int dd_store_domains_get(struct dd_db *db, const char *account_region, const char *name, dd_store_domains_fn fn,
			 void *ud) DD_MUST_CHECK;
/* Configurations after `after` by name, of one service type (NULL: all), at most limit. */
int dd_store_domains_list(struct dd_db *db, const char *account_region, const char *after,
			  const char *service_type, int limit, dd_store_domains_fn fn, void *ud) DD_MUST_CHECK;
/* Sets the settings and (status not NULL) the status; status_changed_ms, when >= 0,
 * becomes the time of the last status change. DD_ENOTFOUND without it. */
int dd_store_domains_update(struct dd_db *db, const char *account_region, const char *name, const char *config,
			    const char *status, int64_t status_changed_ms) DD_MUST_CHECK;
int dd_store_domains_delete(struct dd_db *db, const char *account_region, const char *name) DD_MUST_CHECK;

#endif

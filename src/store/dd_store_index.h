/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the fleet index reads from the store besides things and groups themselves: every
 * thing group membership of an account and region in one ordered pass (so a search over
 * the fleet does not ask per thing), and the last connection event of a client id (its
 * connectivity). The indexing configuration is a setting (dd_store_settings.h, key
 * DD_STORE_INDEX_CONFIG_KEY). Functions run in the caller's transaction when one is open
 * and return 0 or a negative DD_E* (DD_ENOTFOUND, DD_EIO for a store error).
 */
#ifndef DD_STORE_INDEX_H
#define DD_STORE_INDEX_H

#include <stddef.h>
#include <stdint.h>

#include "dd/common.h"

struct dd_db;

/* The settings key of the indexing configuration (JSON object text). */
#define DD_STORE_INDEX_CONFIG_KEY "indexing_configuration"

/* Called per membership (valid during the call); nonzero stops and is returned. */
typedef int (*dd_store_index_member_fn)(const char *thing, const char *group, void *ud);
/* Every membership of account_region, ordered by thing name, then group name. */
int dd_store_index_memberships(struct dd_db *db, const char *account_region, dd_store_index_member_fn fn,
			       void *ud) DD_MUST_CHECK;

/* The last connection event of a client id. */
struct dd_store_index_conn {
	char event[16];   /* "connect" or "disconnect" */
	int64_t ts_ms;
	char reason[72];  /* the disconnect reason, "" when none */
};
/* The last event recorded for client_id in account_region into *out. DD_ENOTFOUND when
 * the client never connected. */
int dd_store_index_connectivity(struct dd_db *db, const char *account_region, const char *client_id,
				struct dd_store_index_conn *out) DD_MUST_CHECK;

#endif

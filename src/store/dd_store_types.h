/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Storage of thing types and billing groups. A thing type keeps its description, its
 * searchable attributes (a JSON array as text), its MQTT5 configuration (JSON object text
 * or none) and whether and since when it is deprecated. A billing group keeps its
 * description and a version that every update increments; a thing is in at most one
 * billing group, kept as a field of the thing. Deleting a type or a billing group also
 * deletes the tags of its ARN, and deleting a billing group empties it. Functions run
 * inside the caller's transaction when one is open and return 0 or a negative DD_E*
 * (DD_ENOTFOUND, DD_EEXIST, DD_EIO).
 */
#ifndef DD_STORE_TYPES_H
#define DD_STORE_TYPES_H

#include <stdbool.h>
#include <stdint.h>

#include "store/dd_store_things.h"

struct dd_db;

struct dd_store_types_row {
	char name[DD_STORE_NAME_MAX];
	char id[37];
	char *description; /* NULL when none; owned */
	char *searchable;  /* JSON array text; owned */
	char *mqtt5;       /* JSON object text, NULL when none; owned */
	bool deprecated;
	int64_t deprecated_ms; /* when deprecated (kept from the first deprecation) */
	int64_t created_ms;
};

/* Frees what a row owns and empties it. */
void dd_store_types_row_clear(struct dd_store_types_row *row);
/* Listing callback: row is valid during the call. A nonzero return stops the listing. */
typedef int (*dd_store_types_row_fn)(const struct dd_store_types_row *row, void *ud);

/* The type into *row (clear it afterwards); DD_ENOTFOUND when there is none. */
int dd_store_types_get(struct dd_db *db, const char *account_region, const char *name,
		       struct dd_store_types_row *row) DD_MUST_CHECK;
/* A new, not deprecated type from row. DD_EEXIST when the name is taken. */
int dd_store_types_insert(struct dd_db *db, const char *account_region, const struct dd_store_types_row *row) DD_MUST_CHECK;
/* Sets the description when set_description (to description, NULL: none), and the
 * searchable attributes and MQTT5 configuration when not NULL. DD_ENOTFOUND when none. */
int dd_store_types_update(struct dd_db *db, const char *account_region, const char *name, bool set_description,
			  const char *description, const char *searchable, const char *mqtt5) DD_MUST_CHECK;
/* Deprecates the type at now_ms (a type deprecated already keeps its first date), or with
 * undo makes it usable again. DD_ENOTFOUND when there is no such type. */
int dd_store_types_deprecate(struct dd_db *db, const char *account_region, const char *name, bool undo,
			     int64_t now_ms) DD_MUST_CHECK;
/* Deletes the type and the tags of arn. */
int dd_store_types_delete(struct dd_db *db, const char *account_region, const char *name, const char *arn) DD_MUST_CHECK;
/* Number of things that have the type. */
int dd_store_types_thing_count(struct dd_db *db, const char *account_region, const char *name, int64_t *n) DD_MUST_CHECK;
/* Types named after `after` in name order, at most limit (<= 0: no limit); only the one
 * named name when name is not NULL. */
int dd_store_types_list(struct dd_db *db, const char *account_region, const char *name, const char *after, int limit,
			dd_store_types_row_fn fn, void *ud) DD_MUST_CHECK;

/* ---- billing groups ---- */

struct dd_store_types_billing_row {
	char name[DD_STORE_NAME_MAX];
	char id[37];
	char *description; /* NULL when none; owned */
	int64_t version;
	int64_t created_ms;
};

void dd_store_types_billing_row_clear(struct dd_store_types_billing_row *row);
/* Callback of the name listings: a nonzero return stops the listing and is returned. */
typedef int (*dd_store_types_name_fn)(const char *name, void *ud);

/* The billing group into *row (clear it afterwards); DD_ENOTFOUND when there is none. */
int dd_store_types_billing_get(struct dd_db *db, const char *account_region, const char *name,
			       struct dd_store_types_billing_row *row) DD_MUST_CHECK;
/* A new billing group (version 1) from row. DD_EEXIST when the name is taken. */
int dd_store_types_billing_insert(struct dd_db *db, const char *account_region,
				  const struct dd_store_types_billing_row *row) DD_MUST_CHECK;
/* Sets the description when set_description and adds one to the version. */
int dd_store_types_billing_update(struct dd_db *db, const char *account_region, const char *name, bool set_description,
				  const char *description) DD_MUST_CHECK;
/* Deletes the billing group, takes its things out of it and deletes the tags of arn. */
int dd_store_types_billing_delete(struct dd_db *db, const char *account_region, const char *name,
				  const char *arn) DD_MUST_CHECK;
/* Billing group names after `after`, starting with prefix when not NULL. */
int dd_store_types_billing_list(struct dd_db *db, const char *account_region, const char *prefix, const char *after,
				int limit, dd_store_types_name_fn fn, void *ud) DD_MUST_CHECK;
/* Puts thing in billing group group (NULL: in none). DD_ENOTFOUND when no such thing. */
int dd_store_types_billing_set(struct dd_db *db, const char *account_region, const char *thing,
			       const char *group) DD_MUST_CHECK;
/* Names of the things in the billing group, after `after`, at most limit. */
int dd_store_types_billing_things(struct dd_db *db, const char *account_region, const char *group, const char *after,
				  int limit, dd_store_types_name_fn fn, void *ud) DD_MUST_CHECK;

#endif

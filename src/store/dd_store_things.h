/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Storage of things: one row per thing of an account and region with its id, type,
 * attributes (a JSON object kept as text), version and billing group. A thing's version
 * starts at 1 and every update adds one. Deleting a thing also drops its thing group
 * memberships (the billing group is a field of the thing and goes with it). Functions run
 * inside the caller's transaction when one is open (dd_db_begin_write / _read) and return
 * 0 or a negative DD_E* (DD_ENOTFOUND, DD_EEXIST, DD_EIO for a store error).
 */
#ifndef DD_STORE_THINGS_H
#define DD_STORE_THINGS_H

#include <stdbool.h>
#include <stdint.h>

#include "dd/common.h"

struct dd_db;

/* Room for a resource name (thing, group, type: AWS allows 128 characters) and its NUL. */
#define DD_STORE_NAME_MAX 256

struct dd_store_things_row {
	char name[DD_STORE_NAME_MAX];
	char id[37];
	char type[DD_STORE_NAME_MAX];          /* "" when the thing has no type */
	char billing_group[DD_STORE_NAME_MAX]; /* "" when in none */
	char *attributes;                      /* JSON object text; owned by the row */
	int64_t version;
	int64_t created_ms;
};

/* Frees what a row owns (its attributes) and empties it. */
void dd_store_things_row_clear(struct dd_store_things_row *row);

/* Listing callback: row is valid during the call only. A nonzero return stops the listing
 * and is returned by it. */
typedef int (*dd_store_things_row_fn)(const struct dd_store_things_row *row, void *ud);

/* The thing name of account_region into *row (clear it afterwards). DD_ENOTFOUND when
 * there is none. */
int dd_store_things_get(struct dd_db *db, const char *account_region, const char *name,
			struct dd_store_things_row *row) DD_MUST_CHECK;
/* 1 when the thing exists, 0 when not, DD_EIO. */
int dd_store_things_exists(struct dd_db *db, const char *account_region, const char *name) DD_MUST_CHECK;
/* A new thing (version 1). type may be NULL; attributes is JSON object text. DD_EEXIST
 * when the name is taken. */
int dd_store_things_insert(struct dd_db *db, const char *account_region, const char *name, const char *id,
			   const char *type, const char *attributes, int64_t created_ms) DD_MUST_CHECK;
/* Replaces the type (NULL: none) and the attributes and adds one to the version.
 * DD_ENOTFOUND when there is no such thing. */
int dd_store_things_update(struct dd_db *db, const char *account_region, const char *name, const char *type,
			   const char *attributes) DD_MUST_CHECK;
/* Deletes the thing and its thing group memberships (nothing to delete is not an error). */
int dd_store_things_delete(struct dd_db *db, const char *account_region, const char *name) DD_MUST_CHECK;

/* Which things ListThings answers: with type, those of that type; with attribute, those
 * having it, and with value also its value equal to value (or starting with it, prefix). */
struct dd_store_things_filter {
	const char *type;
	const char *attribute;
	const char *value;
	bool prefix;
};

/* Things with a name after `after` ("" from the start), in name order, at most limit,
 * matching filter (NULL: all). */
int dd_store_things_list(struct dd_db *db, const char *account_region, const struct dd_store_things_filter *filter,
			 const char *after, int limit, dd_store_things_row_fn fn, void *ud) DD_MUST_CHECK;

#endif

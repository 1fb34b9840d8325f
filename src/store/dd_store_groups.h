/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Storage of thing groups and their memberships. A group is static (members added and
 * removed one by one) or dynamic (a fleet-indexing query decides; the members are kept
 * here too, materialized by src/core/registry/dd_registry_groups.c, so every reader of
 * memberships sees one set). A static group may have a parent; a group's version starts
 * at 1 and every update adds one. Deleting a group drops its memberships and the policy
 * attachments that name its ARN. Functions run inside the caller's transaction when one
 * is open and return 0 or a negative DD_E* (DD_ENOTFOUND, DD_EEXIST, DD_EIO).
 */
#ifndef DD_STORE_GROUPS_H
#define DD_STORE_GROUPS_H

#include <stdbool.h>
#include <stdint.h>

#include "store/dd_store_things.h"

struct dd_db;

struct dd_store_groups_row {
	char name[DD_STORE_NAME_MAX];
	char id[37];
	char parent[DD_STORE_NAME_MAX]; /* "" for a root group */
	char *description;              /* NULL when none; owned */
	char *attributes;               /* JSON object text; owned */
	bool dynamic;
	char *query_string;             /* dynamic groups; NULL otherwise; owned */
	char index_name[64];            /* dynamic groups; "" otherwise */
	char query_version[32];         /* dynamic groups; "" otherwise */
	int64_t version;
	int64_t created_ms;
};

/* Frees what a row owns and empties it. */
void dd_store_groups_row_clear(struct dd_store_groups_row *row);

/* Callback of the name listings: a nonzero return stops the listing and is returned. */
typedef int (*dd_store_groups_name_fn)(const char *name, void *ud);

/* The group into *row (clear it afterwards); DD_ENOTFOUND when there is none. */
int dd_store_groups_get(struct dd_db *db, const char *account_region, const char *name,
			struct dd_store_groups_row *row) DD_MUST_CHECK;
/* A new group from row (name, id, parent ("" none), description, attributes, dynamic,
 * query_string, index_name, query_version, created_ms; version 1). DD_EEXIST when taken. */
int dd_store_groups_insert(struct dd_db *db, const char *account_region, const struct dd_store_groups_row *row) DD_MUST_CHECK;
/* Sets those of description, attributes and query_string that are not NULL and adds one
 * to the version. DD_ENOTFOUND when there is no such group. */
int dd_store_groups_update(struct dd_db *db, const char *account_region, const char *name, const char *description,
			   const char *attributes, const char *query_string) DD_MUST_CHECK;
/* Deletes the group, its memberships and the policy attachments to arn (its ARN). */
int dd_store_groups_delete(struct dd_db *db, const char *account_region, const char *name, const char *arn) DD_MUST_CHECK;
/* Number of groups whose parent is name. */
int dd_store_groups_child_count(struct dd_db *db, const char *account_region, const char *name, int64_t *n) DD_MUST_CHECK;

/* Which groups dd_store_groups_list gives. */
enum dd_store_groups_scope {
	DD_STORE_GROUPS_ALL,         /* every group */
	DD_STORE_GROUPS_ROOTS,       /* groups without a parent */
	DD_STORE_GROUPS_CHILDREN,    /* direct children of parent */
	DD_STORE_GROUPS_DESCENDANTS, /* every descendant of parent */
};
/* Group names after `after` in name order, at most limit (<= 0: no limit), in scope,
 * starting with prefix when not NULL. */
int dd_store_groups_list(struct dd_db *db, const char *account_region, enum dd_store_groups_scope scope,
			 const char *parent, const char *prefix, const char *after, int limit, dd_store_groups_name_fn fn,
			 void *ud) DD_MUST_CHECK;
/* Every dynamic group of the account: name and query (valid during the call). */
typedef int (*dd_store_groups_dynamic_fn)(const char *name, const char *query, void *ud);
int dd_store_groups_dynamic_list(struct dd_db *db, const char *account_region, dd_store_groups_dynamic_fn fn,
				 void *ud) DD_MUST_CHECK;

/* ---- memberships ---- */

/* 1 when thing is a member of group, 0 when not, DD_EIO. */
int dd_store_groups_member_is(struct dd_db *db, const char *account_region, const char *group, const char *thing) DD_MUST_CHECK;
/* Adds (already a member is not an error) or removes (not a member is not an error). */
int dd_store_groups_member_add(struct dd_db *db, const char *account_region, const char *group, const char *thing) DD_MUST_CHECK;
int dd_store_groups_member_remove(struct dd_db *db, const char *account_region, const char *group, const char *thing) DD_MUST_CHECK;
/* Removes every member of group. */
int dd_store_groups_member_clear(struct dd_db *db, const char *account_region, const char *group) DD_MUST_CHECK;
/* Number of groups thing is a member of. */
int dd_store_groups_member_count(struct dd_db *db, const char *account_region, const char *thing, int64_t *n) DD_MUST_CHECK;
/* The most recently created dynamic group thing is a member of into buf; DD_ENOTFOUND
 * when it is in none. */
int dd_store_groups_member_newest_dynamic(struct dd_db *db, const char *account_region, const char *thing, char *buf,
					  size_t len) DD_MUST_CHECK;
/* Members of group (with recursive, also of its descendants, each thing once), names
 * after `after` in order, at most limit (<= 0: no limit). */
int dd_store_groups_member_list(struct dd_db *db, const char *account_region, const char *group, bool recursive,
				const char *after, int limit, dd_store_groups_name_fn fn, void *ud) DD_MUST_CHECK;
/* Groups thing is a member of, names after `after` in order, at most limit. */
int dd_store_groups_member_list_groups(struct dd_db *db, const char *account_region, const char *thing,
				       const char *after, int limit, dd_store_groups_name_fn fn, void *ud) DD_MUST_CHECK;

#endif

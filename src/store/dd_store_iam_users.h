/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The store of IAM users, groups and access keys: the users and groups of an account
 * (names compare case-insensitively, as in IAM, and each function hands back the stored
 * spelling), group memberships, the inline policies (documents as JSON text) and attached
 * policy ARNs of users and groups, and the access keys of users with their secrets as
 * the core seals them (opaque text here; the SigV4 verifier looks keys up by id in any
 * account). Users and groups are one kind of
 * entity with two tables each: most functions take the kind. Rows are keyed by the
 * account alone (IAM is global). Writes run inside the caller's write transaction
 * (dd_db_begin_write); reads may run inside or outside one. Every function returns 0 or a
 * negative DD_E*: DD_ENOTFOUND for a missing row, DD_EIO for a store error. Listings call
 * fn once a row in key order; fn returns 0 to go on, > 0 to stop (the listing returns 0)
 * or < 0 to abort (the listing returns it). Row strings are valid during the call only.
 */
#ifndef DD_STORE_IAM_USERS_H
#define DD_STORE_IAM_USERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dd/common.h"
#include "store/dd_store_iam.h"

struct dd_db;


/* A user or a group; the kind is DD_STORE_IAM_USER or DD_STORE_IAM_GROUP of
 * dd_store_iam.h (DD_STORE_IAM_ROLE is DD_EINVAL here). */
struct dd_store_iam_users_entity {
	char name[129];
	char id[32];        /* AIDA… / AGPA… */
	char path[513];
	int64_t created_ms;
};
typedef int (*dd_store_iam_users_entity_fn)(const struct dd_store_iam_users_entity *e, void *ud);
/* A listing of one text value a row (policy names, policy ARNs, documents). */
typedef int (*dd_store_iam_users_text_fn)(const char *value, void *ud);

/* The entity named name (any case). DD_ENOTFOUND when there is none. */
int dd_store_iam_users_entity_get(struct dd_db *db, enum dd_store_iam_kind kind, const char *account,
				  const char *name, struct dd_store_iam_users_entity *out) DD_MUST_CHECK;
/* The number of entities of the kind in account. */
int dd_store_iam_users_entity_count(struct dd_db *db, enum dd_store_iam_kind kind, const char *account,
				    int64_t *n) DD_MUST_CHECK;
/* Adds an entity. DD_EEXIST when one of that name (any case) exists. */
int dd_store_iam_users_entity_insert(struct dd_db *db, enum dd_store_iam_kind kind, const char *account,
				     const struct dd_store_iam_users_entity *e) DD_MUST_CHECK;
/* Removes an entity (its dependents must be gone: see entity_deps). DD_ENOTFOUND. */
int dd_store_iam_users_entity_delete(struct dd_db *db, enum dd_store_iam_kind kind, const char *account,
				     const char *name) DD_MUST_CHECK;

/* What still refers to an entity: access keys (users only), inline policies, attached
 * policies, and group memberships (a user's groups, a group's members). */
struct dd_store_iam_users_deps {
	int64_t access_keys, inline_policies, attached_policies, memberships;
};
int dd_store_iam_users_entity_deps(struct dd_db *db, enum dd_store_iam_kind kind, const char *account,
				   const char *name, struct dd_store_iam_users_deps *out) DD_MUST_CHECK;

/* The users of account whose name sorts after `after` ("" for the first) and whose path
 * starts with path_prefix, by name, at most limit rows. */
int dd_store_iam_users_user_list(struct dd_db *db, const char *account, const char *path_prefix, const char *after,
				 int limit, dd_store_iam_users_entity_fn fn, void *ud) DD_MUST_CHECK;

/* ---- group memberships ---- */

/* The members (users) of group, by name after `after`, at most limit rows. */
int dd_store_iam_users_group_members(struct dd_db *db, const char *account, const char *group, const char *after,
				     int limit, dd_store_iam_users_entity_fn fn, void *ud) DD_MUST_CHECK;
/* The groups of user, by name after `after`, at most limit rows. */
int dd_store_iam_users_user_groups(struct dd_db *db, const char *account, const char *user, const char *after,
				   int limit, dd_store_iam_users_entity_fn fn, void *ud) DD_MUST_CHECK;
/* The number of groups user belongs to other than except_group (NULL: all). */
int dd_store_iam_users_membership_count(struct dd_db *db, const char *account, const char *user,
					const char *except_group, int64_t *n) DD_MUST_CHECK;
/* Adds user to group (0 also when already a member). */
int dd_store_iam_users_membership_add(struct dd_db *db, const char *account, const char *group,
				      const char *user) DD_MUST_CHECK;
/* Removes user from group. DD_ENOTFOUND when it was not a member. */
int dd_store_iam_users_membership_remove(struct dd_db *db, const char *account, const char *group,
					 const char *user) DD_MUST_CHECK;

/* The inline policies and attached policy ARNs of users and groups are stored by the
 * principal functions of dd_store_iam.h (dd_store_iam_inline_*, dd_store_iam_attach…),
 * one set for roles, users and groups. */

/* ---- what applies to a user (for authorization) ---- */

/* The documents of the user's inline policies, then those of its groups' (fn gets the
 * policy name and document). */
typedef int (*dd_store_iam_users_doc_fn)(const char *name, const char *document, void *ud);
int dd_store_iam_users_user_inline_documents(struct dd_db *db, const char *account, const char *user,
					     dd_store_iam_users_doc_fn fn, void *ud) DD_MUST_CHECK;
/* The distinct ARNs attached to the user or to any of its groups. */
int dd_store_iam_users_user_attached_arns(struct dd_db *db, const char *account, const char *user,
					  dd_store_iam_users_text_fn fn, void *ud) DD_MUST_CHECK;
/* ---- access keys ---- */

struct dd_store_iam_users_key {
	char access_key[32];
	char account[13];
	char user[65];      /* IAM user names have at most 64 characters */
	char user_id[32];   /* filled by key_find only */
	char secret[384];   /* filled by key_find only: the stored (sealed) form */
	bool active;        /* status Active (else Inactive) */
	int64_t created_ms;
};
typedef int (*dd_store_iam_users_key_fn)(const struct dd_store_iam_users_key *k, void *ud);

/* The number of access keys of user. */
int dd_store_iam_users_key_count(struct dd_db *db, const char *account, const char *user,
				 int64_t *n) DD_MUST_CHECK;
/* Adds an Active key. DD_EEXIST when the key id exists. */
int dd_store_iam_users_key_insert(struct dd_db *db, const char *account, const char *user, const char *access_key,
				  const char *secret, int64_t created_ms) DD_MUST_CHECK;
/* The keys of user after `after`, by key id, at most limit rows (no secrets). */
int dd_store_iam_users_key_list(struct dd_db *db, const char *account, const char *user, const char *after,
				int limit, dd_store_iam_users_key_fn fn, void *ud) DD_MUST_CHECK;
/* Sets a key of user Active or Inactive. DD_ENOTFOUND. */
int dd_store_iam_users_key_set_active(struct dd_db *db, const char *account, const char *user,
				      const char *access_key, bool active) DD_MUST_CHECK;
/* Removes a key of user. DD_ENOTFOUND. */
int dd_store_iam_users_key_delete(struct dd_db *db, const char *account, const char *user,
				  const char *access_key) DD_MUST_CHECK;
/* One key's stored secret, for re-sealing. */
struct dd_store_iam_users_key_secret {
	const char *access_key;
	const char *account;
	const char *stored;
};
typedef int (*dd_store_iam_users_key_secret_fn)(const struct dd_store_iam_users_key_secret *k, void *ud);
/* Every access key of every account with its stored secret, by key id; fn returning
 * non-zero stops (a negative value is returned). */
int dd_store_iam_users_key_secrets(struct dd_db *db, dd_store_iam_users_key_secret_fn fn, void *ud) DD_MUST_CHECK;
/* Replaces the stored secret of a key. DD_ENOTFOUND. */
int dd_store_iam_users_key_set_secret(struct dd_db *db, const char *access_key, const char *stored) DD_MUST_CHECK;
/* A key by id in any account, with its user's id and the secret. DD_ENOTFOUND. */
int dd_store_iam_users_key_find(struct dd_db *db, const char *access_key,
				struct dd_store_iam_users_key *out) DD_MUST_CHECK;

#endif

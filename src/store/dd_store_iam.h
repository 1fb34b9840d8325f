/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Storage of the IAM subset: roles (trust policy, tags, permissions boundary), customer
 * managed policies and their versions, and the policies of a principal — inline policies
 * and managed-policy attachments — for the three principal kinds (role, user, group),
 * which share one set of functions parameterized by dd_store_iam_kind. Every row is
 * scoped to one account; names (of roles, users, groups, policies) compare
 * case-insensitively as in IAM and keep the case they were created with: the "canonical"
 * name a lookup returns is the stored one. Policy documents and tag lists cross this
 * interface as JSON text, stored as given. No function opens a transaction: callers
 * group calls with dd_db_begin_write / dd_db_commit. Functions return 0, DD_ENOTFOUND,
 * DD_EEXIST (a duplicate), DD_EIO (store failure) or DD_ENOMEM. Listing callbacks
 * receive borrowed strings valid only during the call; a non-zero return stops the
 * listing and is returned.
 */
#ifndef DD_STORE_IAM_H
#define DD_STORE_IAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dd/common.h"

struct dd_db;

/* The principals that have inline policies and managed-policy attachments. */
enum dd_store_iam_kind {
	DD_STORE_IAM_ROLE,
	DD_STORE_IAM_USER,
	DD_STORE_IAM_GROUP,
};

/* ---- roles ------------------------------------------------------------------------- */

/* A role. Filled by dd_store_iam_role_get with owned strings (free with
 * dd_store_iam_role_clear); passed to listing callbacks with borrowed ones. description
 * and boundary are NULL when not set; tags is a JSON array text ("[]" when none). */
struct dd_store_iam_role {
	char *name;
	char *role_id;
	char *path;
	char *trust_policy;
	char *description;
	char *boundary; /* permissions boundary policy ARN */
	char *tags;
	int64_t max_session;
	int64_t created_ms;
};
void dd_store_iam_role_clear(struct dd_store_iam_role *r);

int dd_store_iam_role_get(struct dd_db *db, const char *account, const char *name,
			  struct dd_store_iam_role *out) DD_MUST_CHECK;
/* Number of roles of account. */
int dd_store_iam_role_count(struct dd_db *db, const char *account, int64_t *n) DD_MUST_CHECK;
/* Inserts r (tags NULL means none); DD_EEXIST when a role of that name exists. */
int dd_store_iam_role_insert(struct dd_db *db, const char *account,
			     const struct dd_store_iam_role *r) DD_MUST_CHECK;
/* Deletes the role row only (its policies are the caller's to check). DD_ENOTFOUND. */
int dd_store_iam_role_delete(struct dd_db *db, const char *account, const char *name) DD_MUST_CHECK;
int dd_store_iam_role_set_trust(struct dd_db *db, const char *account, const char *name,
				const char *trust_policy) DD_MUST_CHECK;
int dd_store_iam_role_set_tags(struct dd_db *db, const char *account, const char *name,
			       const char *tags) DD_MUST_CHECK;

typedef int (*dd_store_iam_role_fn)(const struct dd_store_iam_role *r, void *ud);
/* Roles of account with name > after (case-insensitively; "" or NULL for the start) and
 * path starting with path_prefix (NULL: any), in name order, at most limit (<= 0: all). */
int dd_store_iam_role_list(struct dd_db *db, const char *account, const char *after, const char *path_prefix,
			   int limit, dd_store_iam_role_fn fn, void *ud) DD_MUST_CHECK;
/* Number of roles of account whose permissions boundary is policy_arn. */
int dd_store_iam_role_boundary_count(struct dd_db *db, const char *account, const char *policy_arn,
				     int64_t *n) DD_MUST_CHECK;

/* ---- principals: canonical names, inline policies, attachments ---------------------- */

/* The stored name of the role / user / group name (canon holds at least 128 bytes). */
int dd_store_iam_principal_name(struct dd_db *db, enum dd_store_iam_kind kind, const char *account,
				const char *name, char canon[128]) DD_MUST_CHECK;

/* Creates or replaces the inline policy policy_name of the principal. */
int dd_store_iam_inline_put(struct dd_db *db, enum dd_store_iam_kind kind, const char *account,
			    const char *principal, const char *policy_name, const char *document) DD_MUST_CHECK;
/* The inline policy: its stored name (canon, at least 128 bytes) and an owned copy of its
 * document (free()). DD_ENOTFOUND. */
int dd_store_iam_inline_get(struct dd_db *db, enum dd_store_iam_kind kind, const char *account,
			    const char *principal, const char *policy_name, char canon[128],
			    char **document) DD_MUST_CHECK;
int dd_store_iam_inline_delete(struct dd_db *db, enum dd_store_iam_kind kind, const char *account,
			       const char *principal, const char *policy_name) DD_MUST_CHECK;
int dd_store_iam_inline_count(struct dd_db *db, enum dd_store_iam_kind kind, const char *account,
			      const char *principal, int64_t *n) DD_MUST_CHECK;
typedef int (*dd_store_iam_inline_fn)(const char *policy_name, const char *document, void *ud);
/* Inline policies of the principal with name > after, in name order, at most limit
 * (<= 0: all). */
int dd_store_iam_inline_list(struct dd_db *db, enum dd_store_iam_kind kind, const char *account,
			     const char *principal, const char *after, int limit, dd_store_iam_inline_fn fn,
			     void *ud) DD_MUST_CHECK;

/* Attaches policy_arn to the principal; attaching it again is not an error. */
int dd_store_iam_attach(struct dd_db *db, enum dd_store_iam_kind kind, const char *account,
			const char *principal, const char *policy_arn) DD_MUST_CHECK;
/* DD_ENOTFOUND when it was not attached. */
int dd_store_iam_detach(struct dd_db *db, enum dd_store_iam_kind kind, const char *account,
			const char *principal, const char *policy_arn) DD_MUST_CHECK;
/* Number of policies attached to the principal, not counting except_arn (NULL: none). */
int dd_store_iam_attached_count(struct dd_db *db, enum dd_store_iam_kind kind, const char *account,
				const char *principal, const char *except_arn, int64_t *n) DD_MUST_CHECK;
typedef int (*dd_store_iam_arn_fn)(const char *policy_arn, void *ud);
/* Policies attached to the principal with ARN > after, in ARN order, at most limit
 * (<= 0: all). */
int dd_store_iam_attached_list(struct dd_db *db, enum dd_store_iam_kind kind, const char *account,
			       const char *principal, const char *after, int limit, dd_store_iam_arn_fn fn,
			       void *ud) DD_MUST_CHECK;
/* Number of roles, users and groups of account policy_arn is attached to. */
int dd_store_iam_attachment_count(struct dd_db *db, const char *account, const char *policy_arn,
				  int64_t *n) DD_MUST_CHECK;

/* ---- customer managed policies ------------------------------------------------------- */

/* A customer managed policy; owned strings from the getters (dd_store_iam_policy_clear),
 * borrowed in listing callbacks. description NULL when not set; tags JSON array text. */
struct dd_store_iam_policy {
	char *name;
	char *arn;
	char *policy_id;
	char *path;
	char *description;
	char *tags;
	int64_t default_version; /* the number n of version "vn" */
	int64_t created_ms, updated_ms;
};
void dd_store_iam_policy_clear(struct dd_store_iam_policy *p);

int dd_store_iam_policy_get(struct dd_db *db, const char *account, const char *name,
			    struct dd_store_iam_policy *out) DD_MUST_CHECK;
int dd_store_iam_policy_get_by_arn(struct dd_db *db, const char *account, const char *arn,
				   struct dd_store_iam_policy *out) DD_MUST_CHECK;
int dd_store_iam_policy_count(struct dd_db *db, const char *account, int64_t *n) DD_MUST_CHECK;
/* Inserts p with document as its version 1, the default (p->default_version and
 * updated_ms are ignored; tags NULL means none). DD_EEXIST for a duplicate name. */
int dd_store_iam_policy_insert(struct dd_db *db, const char *account, const struct dd_store_iam_policy *p,
			       const char *document) DD_MUST_CHECK;
/* Deletes the policy and all its versions. DD_ENOTFOUND. */
int dd_store_iam_policy_delete(struct dd_db *db, const char *account, const char *name) DD_MUST_CHECK;
typedef int (*dd_store_iam_policy_fn)(const struct dd_store_iam_policy *p, void *ud);
/* Every customer managed policy of account, in name order. */
int dd_store_iam_policy_list(struct dd_db *db, const char *account, dd_store_iam_policy_fn fn,
			     void *ud) DD_MUST_CHECK;
/* The name and an owned copy of the default version's document (free()) of the policy
 * with this ARN. DD_ENOTFOUND. */
int dd_store_iam_policy_default_document(struct dd_db *db, const char *account, const char *arn,
					 char canon[160], char **document) DD_MUST_CHECK;

/* Adds a version with the next unused number (numbers are never reused), making it the
 * default when set_default; *version gets its number. DD_ENOTFOUND. */
int dd_store_iam_policy_version_add(struct dd_db *db, const char *account, const char *name, const char *document,
				    int64_t now_ms, bool set_default, int64_t *version) DD_MUST_CHECK;
int dd_store_iam_policy_version_count(struct dd_db *db, const char *account, const char *name,
				      int64_t *n) DD_MUST_CHECK;
/* Version `version` of the policy: an owned copy of its document (free()), its creation
 * time and whether it is the default. DD_ENOTFOUND. */
int dd_store_iam_policy_version_get(struct dd_db *db, const char *account, const char *name, int64_t version,
				    char **document, int64_t *created_ms, bool *is_default) DD_MUST_CHECK;
typedef int (*dd_store_iam_version_fn)(int64_t version, int64_t created_ms, bool is_default, void *ud);
/* The versions of the policy, newest first. */
int dd_store_iam_policy_version_list(struct dd_db *db, const char *account, const char *name,
				     dd_store_iam_version_fn fn, void *ud) DD_MUST_CHECK;
/* DD_ENOTFOUND when there is no such version. */
int dd_store_iam_policy_version_delete(struct dd_db *db, const char *account, const char *name,
				       int64_t version) DD_MUST_CHECK;

#endif

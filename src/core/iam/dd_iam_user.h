/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The rules of IAM users and groups (dd_iam_user.c), below the API: IAM's quotas (5,000
 * users and 300 groups an account, 2 access keys a user, 10 groups a user, 10 managed
 * policies a user or group, 2,048 / 5,120 non-blank characters of inline policy a user /
 * group), what blocks a delete, and which policy ARNs attach. Every write runs in its own
 * short write transaction on db (the caller must not be in one), is all or nothing, and
 * bumps the IAM generation when it commits. Each returns 0 or a negative DD_E* with a
 * one-line message in msg (AWS's wording): DD_ENOTFOUND (no such user, group, policy or
 * key), DD_EEXIST (the name is taken), DD_ELIMIT (a quota), DD_ECONFLICT (a delete that
 * dependents block), DD_EINVAL (a malformed policy document), DD_EIO (the store).
 */
#ifndef DD_CORE_IAM_USER_H
#define DD_CORE_IAM_USER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dd/common.h"
#include "dd/iam.h"
#include "store/dd_store_iam_users.h"

#define DD_IAM_USER_MSG_SIZE 512

/* Creates a user or group with a new random id (AIDA… / AGPA…); *out is the stored row. */
int dd_iam_user_entity_create(struct dd_db *db, enum dd_store_iam_kind kind, const char *account,
			      const char *name, const char *path, int64_t now_ms,
			      struct dd_store_iam_users_entity *out, char *msg, size_t msglen) DD_MUST_CHECK;
/* Deletes a user (no access keys, inline or attached policies or groups left) or a group
 * (no members, inline or attached policies left). */
int dd_iam_user_entity_delete(struct dd_db *db, enum dd_store_iam_kind kind, const char *account,
			      const char *name, char *msg, size_t msglen) DD_MUST_CHECK;
/* The entity named name (any case), or DD_ENOTFOUND with msg. */
int dd_iam_user_entity_get(struct dd_db *db, enum dd_store_iam_kind kind, const char *account,
			   const char *name, struct dd_store_iam_users_entity *out, char *msg,
			   size_t msglen) DD_MUST_CHECK;

/* Adds user to group (0 when already a member) / removes it (DD_ENOTFOUND when not). */
int dd_iam_user_membership_add(struct dd_db *db, const char *account, const char *group, const char *user,
			       char *msg, size_t msglen) DD_MUST_CHECK;
int dd_iam_user_membership_remove(struct dd_db *db, const char *account, const char *group, const char *user,
				  char *msg, size_t msglen) DD_MUST_CHECK;

/* Creates an Active access key for user: its id (AKIA…, 20 characters) into key, its
 * secret (40 characters, returned only here; stored sealed under secrets) into secret,
 * the user's stored name into user_out. DD_EIO when secrets is NULL. */
int dd_iam_user_key_create(struct dd_db *db, const struct dd_iam_secrets *secrets, const char *account,
			   const char *user, int64_t now_ms, char key[21], char secret[41], char user_out[65], char *msg,
			   size_t msglen) DD_MUST_CHECK;
/* Sets a key of user Active or Inactive, or deletes it (remove). */
int dd_iam_user_key_update(struct dd_db *db, const char *account, const char *user, const char *key, bool active,
			   bool remove, char *msg, size_t msglen) DD_MUST_CHECK;

/* Creates or replaces an inline policy of a user or group (document: IAM policy JSON). */
int dd_iam_user_policy_put(struct dd_db *db, enum dd_store_iam_kind kind, const char *account,
			   const char *entity, const char *pname, const char *document, char *msg,
			   size_t msglen) DD_MUST_CHECK;
int dd_iam_user_policy_delete(struct dd_db *db, enum dd_store_iam_kind kind, const char *account,
			      const char *entity, const char *pname, char *msg, size_t msglen) DD_MUST_CHECK;
/* Attaches (on) or detaches a managed policy ARN: AWS managed, or a customer managed
 * policy of account. */
int dd_iam_user_attach(struct dd_db *db, enum dd_store_iam_kind kind, const char *account, const char *entity,
		       const char *arn, bool on, char *msg, size_t msglen) DD_MUST_CHECK;

#endif

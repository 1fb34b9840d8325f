/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The rules of customer managed policies: unique names and the per-account quota, at most
 * DD_IAM_CUSTOMER_MAX_VERSIONS versions, the default version never deleted on its own, and
 * a policy deleted only when nothing uses it (no attachment, no permissions boundary) and
 * only its default version is left. Policies are named by ARN; an AWS managed policy's ARN
 * is refused (DD_EINVAL, it cannot be modified). Each write runs in its own write
 * transaction and leaves nothing behind on failure; functions return 0 or a negative DD_E*
 * with the AWS error message in msg.
 */
#ifndef DD_IAM_CUSTOMER_H
#define DD_IAM_CUSTOMER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dd/iam.h"
#include "store/dd_store_iam.h"

#define DD_IAM_CUSTOMER_MAX_PER_ACCOUNT 1500
#define DD_IAM_CUSTOMER_MAX_VERSIONS 5

/* Creates p with document as its default version v1 (p and document already validated):
 * DD_EEXIST, DD_ELIMIT, DD_EIO. */
int dd_iam_customer_create(struct dd_db *db, const char *account, const struct dd_store_iam_policy *p,
			   const char *document, char *msg, size_t msglen) DD_MUST_CHECK;
/* Adds a version (the default one when set_default); *version gets its number.
 * DD_ENOTFOUND, DD_EINVAL (AWS managed), DD_ELIMIT, DD_EIO. */
int dd_iam_customer_version_add(struct dd_db *db, const char *account, const char *arn, const char *document,
				int64_t now_ms, bool set_default, int64_t *version, char *msg,
				size_t msglen) DD_MUST_CHECK;
/* Deletes version version_id ("v<n>"): DD_ENOTFOUND, DD_EINVAL, DD_ECONFLICT (the default
 * version), DD_EIO. */
int dd_iam_customer_version_delete(struct dd_db *db, const char *account, const char *arn, const char *version_id,
				   char *msg, size_t msglen) DD_MUST_CHECK;
/* Deletes the policy and its default version: DD_ENOTFOUND, DD_EINVAL, DD_ECONFLICT
 * (attached, used as a boundary, or more than one version left), DD_EIO. */
int dd_iam_customer_delete(struct dd_db *db, const char *account, const char *arn, char *msg,
			   size_t msglen) DD_MUST_CHECK;
/* Parses a version id "v<n>": n, or -1 when it is not one. */
int64_t dd_iam_customer_version_num(const char *version_id);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The policies of an IAM principal — a role, a user or a group — as rules shared by the
 * three kinds: inline policies (validated as identity policies, their aggregate size
 * limited per kind) and managed-policy attachments (an AWS managed policy or a customer
 * managed policy of the same account, at most ten per principal), and the collection of
 * the documents that apply to a principal for evaluation. Every write runs in its own
 * write transaction on db and leaves nothing behind on failure. Functions return 0 or a
 * negative DD_E* with a one-line message in msg (the text of the AWS error):
 * DD_EINVAL (a malformed document), DD_ENOTFOUND (no such principal / policy / inline
 * policy), DD_ELIMIT (a quota), DD_EIO, DD_ENOMEM. Principal and policy names compare
 * case-insensitively; the stored spelling is returned where a canon buffer is given.
 */
#ifndef DD_IAM_POLICY_H
#define DD_IAM_POLICY_H

#include <stddef.h>

#include "dd/iam.h"
#include "store/dd_store_iam.h"

#define DD_IAM_POLICY_MAX_ATTACHED 10

/* The stored name of the principal (canon at least 128 bytes); DD_ENOTFOUND with
 * "The <kind> with name <name> cannot be found." */
int dd_iam_policy_principal(struct dd_db *db, enum dd_store_iam_kind kind, const char *account, const char *name,
			    char canon[128], char *msg, size_t msglen) DD_MUST_CHECK;

/* Validates document as an identity policy (limit: its non-white-space size, 0 for
 * none; quota: the quota name reported when it is exceeded). */
int dd_iam_policy_validate(const char *document, size_t limit, const char *quota, char *msg,
			   size_t msglen) DD_MUST_CHECK;

/* PutRolePolicy / PutUserPolicy / PutGroupPolicy: validates the document, checks the
 * principal exists and the aggregate size of its inline policies, then stores it. */
int dd_iam_policy_inline_put(struct dd_db *db, enum dd_store_iam_kind kind, const char *account,
			     const char *principal, const char *policy_name, const char *document, char *msg,
			     size_t msglen) DD_MUST_CHECK;
/* Get…Policy: canon_principal and canon_policy (128 bytes each) and an owned document. */
int dd_iam_policy_inline_get(struct dd_db *db, enum dd_store_iam_kind kind, const char *account,
			     const char *principal, const char *policy_name, char canon_principal[128],
			     char canon_policy[128], char **document, char *msg, size_t msglen) DD_MUST_CHECK;
int dd_iam_policy_inline_delete(struct dd_db *db, enum dd_store_iam_kind kind, const char *account,
				const char *principal, const char *policy_name, char *msg,
				size_t msglen) DD_MUST_CHECK;

/* Attach…Policy: the principal exists, policy_arn is attachable in account, and the
 * principal has fewer than DD_IAM_POLICY_MAX_ATTACHED other policies attached. Attaching
 * an attached policy again succeeds. */
int dd_iam_policy_attach(struct dd_db *db, enum dd_store_iam_kind kind, const char *account, const char *principal,
			 const char *policy_arn, char *msg, size_t msglen) DD_MUST_CHECK;
/* Detach…Policy: DD_ENOTFOUND "Policy <arn> was not found." when it was not attached. */
int dd_iam_policy_detach(struct dd_db *db, enum dd_store_iam_kind kind, const char *account, const char *principal,
			 const char *policy_arn, char *msg, size_t msglen) DD_MUST_CHECK;

/* Appends the inline policies of the principal (canonical name), in name order. */
int dd_iam_policy_docs_add_inline(struct dd_db *db, enum dd_store_iam_kind kind, const char *account,
				  const char *principal, struct dd_iam_policy_docs *d) DD_MUST_CHECK;
/* Appends the default document of managed policy arn (AWS managed from the static table,
 * customer managed from the store); a customer policy that no longer exists adds nothing. */
int dd_iam_policy_docs_add_managed(struct dd_db *db, const char *account, const char *arn,
				   struct dd_iam_policy_docs *d) DD_MUST_CHECK;
/* Appends the documents of the policies attached to the principal, in ARN order. */
int dd_iam_policy_docs_add_attached(struct dd_db *db, enum dd_store_iam_kind kind, const char *account,
				    const char *principal, struct dd_iam_policy_docs *d) DD_MUST_CHECK;

#endif

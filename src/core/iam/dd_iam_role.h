/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The rules of creating and deleting a role (the reads the engines use are in dd/iam.h).
 * Each function runs in its own write transaction and leaves nothing behind on failure;
 * it returns 0 or a negative DD_E* with the AWS error message in msg.
 */
#ifndef DD_IAM_ROLE_H
#define DD_IAM_ROLE_H

#include <stddef.h>

#include "dd/iam.h"
#include "store/dd_store_iam.h"

#define DD_IAM_ROLE_MAX_PER_ACCOUNT 1000

/* Creates r (fields already validated): DD_EEXIST when a role of that name exists
 * (whatever its case), DD_ELIMIT at DD_IAM_ROLE_MAX_PER_ACCOUNT roles, DD_EIO. */
int dd_iam_role_create(struct dd_db *db, const char *account, const struct dd_store_iam_role *r, char *msg,
		       size_t msglen) DD_MUST_CHECK;
/* Deletes the role name: DD_ENOTFOUND, DD_ECONFLICT while policies are attached to it or
 * it has inline policies, DD_EIO. */
int dd_iam_role_delete(struct dd_db *db, const char *account, const char *name, char *msg,
		       size_t msglen) DD_MUST_CHECK;

#endif

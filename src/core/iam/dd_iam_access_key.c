/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The IAM user access key a SigV4 signature names, looked up in any account (the key id
 * is unique across accounts): the account, the user and its id, the secret, and whether
 * the key is Active (inactive keys are returned too and say so).
 */
#include <stdio.h>
#include <string.h>

#include "dd/iam.h"
#include "store/dd_store_iam_users.h"

int dd_iam_access_key_find(struct dd_db *db, const char *access_key, struct dd_iam_key *out)
{
	struct dd_store_iam_users_key k;
	int rc = dd_store_iam_users_key_find(db, access_key, &k);
	if (rc)
		return rc;
	memset(out, 0, sizeof *out);
	snprintf(out->account, sizeof out->account, "%s", k.account);
	snprintf(out->user, sizeof out->user, "%s", k.user);
	snprintf(out->user_id, sizeof out->user_id, "%s", k.user_id);
	snprintf(out->secret, sizeof out->secret, "%s", k.secret);
	out->active = k.active;
	memset(&k, 0, sizeof k);
	return 0;
}

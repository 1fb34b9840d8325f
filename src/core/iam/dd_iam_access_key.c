/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The IAM user access key a SigV4 signature names, looked up in any account (the key id
 * is unique across accounts): the account, the user and its id, the secret (opened from
 * its sealed stored form with the server's IAM secrets key, dd_iam_secrets.c), and
 * whether the key is Active (inactive keys are returned too and say so).
 */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "dd/iam.h"
#include "store/dd_store_iam_users.h"

int dd_iam_access_key_find(struct dd_db *db, const struct dd_iam_secrets *secrets, const char *access_key,
			   struct dd_iam_key *out)
{
	struct dd_store_iam_users_key k;
	int rc = dd_store_iam_users_key_find(db, access_key, &k);
	if (rc)
		return rc;
	memset(out, 0, sizeof *out);
	rc = secrets ? dd_iam_secrets_open(secrets, k.account, k.access_key, k.secret, out->secret, sizeof out->secret)
		     : DD_ENOTFOUND;
	if (rc) {
		dd_log_error("iam: the stored secret of access key %s does not open (%s); the key is refused",
			     k.access_key, rc == DD_ENOTFOUND ? "sealed under another IAM secrets key" : "altered or not sealed");
		OPENSSL_cleanse(&k, sizeof k);
		OPENSSL_cleanse(out, sizeof *out);
		return DD_ECRYPTO;
	}
	snprintf(out->account, sizeof out->account, "%s", k.account);
	snprintf(out->user, sizeof out->user, "%s", k.user);
	snprintf(out->user_id, sizeof out->user_id, "%s", k.user_id);
	out->active = k.active;
	OPENSSL_cleanse(&k, sizeof k);
	return 0;
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Access keys: the AWS shared-credentials INI format with one extra key, account_id, one
 * profile per access key. Loaded once at start; read-only afterwards.
 */
#ifndef DD_SERVER_CREDS_H
#define DD_SERVER_CREDS_H

#include "dd/common.h"

struct dd_cred {
	char profile[128];
	char access_key[129];
	char secret[129];
	char account[13];
};

struct dd_creds {
	struct dd_cred *items;
	size_t n;
};

/* Loads path. Returns 0, DD_ENOTFOUND if it does not exist, DD_EDENIED when its mode lets
 * group or others read or write it (err gives the chmod command), or DD_EINVAL with err naming
 * the line and problem (each profile needs all three keys, account_id 12 digits, no
 * duplicate access key). */
int dd_creds_load(const char *path, struct dd_creds *out, char *err, size_t errlen) DD_MUST_CHECK;
/* Creates path (mode 0600, never overwriting) with one random key pair and account. */
int dd_creds_generate(const char *path, struct dd_creds *out, char *err, size_t errlen) DD_MUST_CHECK;
const struct dd_cred *dd_creds_find(const struct dd_creds *c, const char *access_key);
void dd_creds_free(struct dd_creds *c);

#endif

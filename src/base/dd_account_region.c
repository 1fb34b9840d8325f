/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The account_region key of regional rows ("<account>/<region>", dd/region.h): built from a
 * 12-digit account and a region name, and split back. Pure functions, used by every
 * layer (the API context, the engines, the broker plugin, the command line).
 */
#include "dd/region.h"

#include <stdio.h>
#include <string.h>

int dd_account_region_make(char out[DD_ACCOUNT_REGION_SIZE], const char *account, const char *region)
{
	if (!account || !region || strlen(account) != 12 || strspn(account, "0123456789") != 12 ||
	    region[0] < 'a' || region[0] > 'z' || strlen(region) > 63 ||
	    strspn(region, "abcdefghijklmnopqrstuvwxyz0123456789-") != strlen(region))
		return DD_EINVAL;
	snprintf(out, DD_ACCOUNT_REGION_SIZE, "%s/%s", account, region);
	return 0;
}

int dd_account_region_split(const char *key, char account[13], char *region, size_t regionlen)
{
	size_t n = key ? strlen(key) : 0;
	if (n < 14 || strspn(key, "0123456789") != 12 || key[12] != '/' || n - 13 >= regionlen)
		return DD_EINVAL;
	memcpy(account, key, 12);
	account[12] = '\0';
	memcpy(region, key + 13, n - 13 + 1);
	return 0;
}

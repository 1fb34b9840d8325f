/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Opaque paging tokens: base64 of "v1:" and the last key of the page; a token that does
 * not decode to that form, or is longer than 4096 characters, is refused.
 */
#include "dd/ctx.h"

#include <stdlib.h>
#include <string.h>

#include "dd/buf.h"

char *dd_page_token_make(const char *last_key)
{
	size_t n = strlen(last_key);
	char *raw = malloc(n + 4);
	if (!raw)
		return NULL;
	memcpy(raw, "v1:", 3);
	memcpy(raw + 3, last_key, n + 1);
	char *t = dd_base64_encode((unsigned char *)raw, n + 3);
	free(raw);
	return t;
}

int dd_page_token_parse(const char *token, char *key, size_t keylen)
{
	size_t n = 0;
	if (!token || strlen(token) > 4096)
		return DD_EINVAL;
	unsigned char *raw = dd_base64_decode(token, strlen(token), &n);
	if (!raw)
		return DD_EINVAL;
	int rc = DD_EINVAL;
	if (n >= 3 && memcmp(raw, "v1:", 3) == 0 && n - 3 < keylen && !memchr(raw + 3, 0, n - 3)) {
		memcpy(key, raw + 3, n - 3);
		key[n - 3] = '\0';
		rc = 0;
	}
	free(raw);
	return rc;
}

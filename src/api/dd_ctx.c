/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Request-context helpers shared by every API handler family (the wire layer): the
 * context's account_region key, error recording with the AWS error code, opaque
 * pagination tokens, timestamps in AWS JSON form. The account_region key itself is built
 * and split in src/base/dd_account_region.c, which the layers below use too.
 */
#include "dd/ctx.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dd/buf.h"

int dd_ctx_set_account_region(struct dd_ctx *c)
{
	return dd_account_region_make(c->account_region, c->account, c->region);
}

int dd_fail(struct dd_ctx *c, int err, const char *code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->err_msg, sizeof c->err_msg, fmt, ap);
	va_end(ap);
	c->err = err;
	c->err_code = code;
	return err;
}

int dd_fail_exists(struct dd_ctx *c, const char *resource_id, const char *resource_arn, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->err_msg, sizeof c->err_msg, fmt, ap);
	va_end(ap);
	snprintf(c->err_resource_id, sizeof c->err_resource_id, "%s", resource_id ? resource_id : "");
	snprintf(c->err_resource_arn, sizeof c->err_resource_arn, "%s", resource_arn ? resource_arn : "");
	c->err = DD_EEXIST;
	c->err_code = "ResourceAlreadyExistsException";
	return DD_EEXIST;
}

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

json_t *dd_json_time(int64_t ms) { return json_real((double)ms / 1000.0); }

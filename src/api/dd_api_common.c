/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Wire helpers shared by the IoT API handler files: ARNs, input accessors, keyset paging
 * with opaque tokens (valid across restarts since they carry only the last key), ids,
 * resource names from ARNs, role ARN checks, and the store-error answer.
 *
 * Listing pattern (no statements above the store; copy it for a new listing). The store
 * exposes a listing that takes the last key of the previous page ("" for the first), a
 * limit and a row callback (dd_store_things_list, dd_store_groups_list, …). The handler
 * reads the page with dd__page, asks the store for size + 1 rows, and its callback hands
 * each row's key to dd__page_take: true means the row belongs on the page (append its
 * item to pg->arr), false that it is the extra row, which only shows that another page
 * exists. dd__page_reply then answers {member: items} with the next token made from the
 * last key taken (dd__page_next), or the store error:
 *
 *	static int row(const struct dd_store_things_row *r, void *ud)
 *	{
 *		struct dd__page *pg = ud;
 *		if (dd__page_take(pg, r->name))
 *			json_array_append_new(pg->arr, item_of(r));
 *		return 0;
 *	}
 *	…
 *	struct dd__page pg;
 *	dd__page_start(&pg, json_array(), size);
 *	int rc = dd_store_things_list(c->db, c->account_region, &filter, after, size + 1, row, &pg);
 *	return dd__page_reply(c, &pg, rc, "things", "nextToken", out);
 *
 * A listing of bare names passes dd__page_name_row as the callback.
 */
#include "api/dd_api_common.h"
#include "core/registry/dd_registry_query.h"
#include "dd/iam.h"
#include "store/dd_store_things.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

json_t *dd__arn(struct dd_ctx *c, const char *fmt, ...)
{
	char res[1024], out[1200];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(res, sizeof res, fmt, ap);
	va_end(ap);
	snprintf(out, sizeof out, "arn:aws:iot:%s:%s:%s", c->region, c->account, res);
	return json_string(out);
}

char *dd__arn_buf(struct dd_ctx *c, char *buf, size_t len, const char *fmt, ...)
{
	char res[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(res, sizeof res, fmt, ap);
	va_end(ap);
	snprintf(buf, len, "arn:aws:iot:%s:%s:%s", c->region, c->account, res);
	return buf;
}

const char *dd__str(json_t *in, const char *key) { return json_string_value(json_object_get(in, key)); }

int64_t dd__int(json_t *in, const char *key, int64_t dflt)
{
	json_t *v = json_object_get(in, key);
	return json_is_integer(v) ? (int64_t)json_integer_value(v) : dflt;
}

bool dd__bool(json_t *in, const char *key, bool dflt)
{
	json_t *v = json_object_get(in, key);
	return json_is_boolean(v) ? json_is_true(v) : dflt;
}

int dd__page(struct dd_ctx *c, json_t *in, const char *token_member, const char *size_member,
	     int dflt, int max, char *after, size_t afterlen, int *size)
{
	after[0] = '\0';
	const char *tok = dd__str(in, token_member);
	if (tok && *tok && dd_page_token_parse(tok, after, afterlen))
		return dd_fail(c, DD_EINVAL, "InvalidRequestException", "The %s is not valid.", token_member);
	int64_t n = dd__int(in, size_member, dflt);
	if (n < 1 || n > max)
		return dd_fail(c, DD_EINVAL, "InvalidRequestException", "%s must be between 1 and %d.", size_member, max);
	*size = (int)n;
	return 0;
}

void dd__page_next(json_t *out, const char *member, bool more, const char *last)
{
	if (!more || !last)
		return;
	char *t = dd_page_token_make(last);
	if (t)
		json_object_set_new(out, member, json_string(t));
	free(t);
}

int dd__page_key_split(struct dd_ctx *c, const char *key, char sep, const char *token_member, int64_t *num,
		       char *rest, size_t restlen)
{
	const char *p = strchr(key, sep);
	char digits[24];
	size_t n = p ? (size_t)(p - key) : 0;
	if (!p || n == 0 || n >= sizeof digits || strlen(p + 1) >= restlen)
		return dd_fail(c, DD_EINVAL, "InvalidRequestException", "The %s is not valid.", token_member);
	memcpy(digits, key, n);
	digits[n] = '\0';
	if (dd_parse_int64(digits, 0, INT64_MAX, num))
		return dd_fail(c, DD_EINVAL, "InvalidRequestException", "The %s is not valid.", token_member);
	memcpy(rest, p + 1, strlen(p + 1) + 1);
	return 0;
}

void dd__page_start(struct dd__page *pg, json_t *arr, int size)
{
	pg->arr = arr;
	pg->size = size;
	pg->n = 0;
	pg->more = false;
	pg->last[0] = '\0';
}

bool dd__page_take(struct dd__page *pg, const char *key)
{
	if (pg->n >= pg->size) {
		pg->more = true;
		return false;
	}
	pg->n++;
	snprintf(pg->last, sizeof pg->last, "%s", key);
	return true;
}

static void page_done(struct dd__page *pg, json_t *out, const char *token_member)
{
	dd__page_next(out, token_member, pg->more, pg->last);
}

int dd__page_name_row(const char *name, void *ud)
{
	struct dd__page *pg = ud;
	if (dd__page_take(pg, name) && json_array_append_new(pg->arr, json_string(name)))
		return DD_ENOMEM;
	return 0;
}

int dd__page_reply(struct dd_ctx *c, struct dd__page *pg, int rc, const char *member, const char *token_member,
		   json_t **out)
{
	json_t *o = rc || !pg->arr ? NULL : json_pack("{s:o}", member, pg->arr);
	if (!o) {
		if (!rc)
			return dd_fail(c, DD_ENOMEM, "InternalFailureException", "out of memory");
		json_decref(pg->arr);
		return dd__db_fail(c);
	}
	page_done(pg, o, token_member);
	*out = o;
	return 0;
}

bool dd__thing_exists(struct dd_ctx *c, const char *name)
{
	return dd_store_things_exists(c->db, c->account_region, name) == 1;
}

int dd__name_from_arn(struct dd_ctx *c, const char *s, const char *kind, const char **name)
{
	struct dd_arn a;
	size_t kl = strlen(kind);
	if (!s || strncmp(s, "arn:", 4) != 0) {
		*name = s;
		return 0;
	}
	if (dd_iam_arn_parse(s, &a) || strcmp(a.service, "iot") || strncmp(a.resource, kind, kl) != 0 ||
	    a.resource[kl] != '/' || !a.resource[kl + 1])
		return dd_fail(c, DD_EINVAL, "InvalidRequestException", "%.700s is not a %s ARN.", s, kind);
	if (strcmp(a.partition, "aws") || strcmp(a.account, c->account) || strcmp(a.region, c->region))
		return dd_fail(c, DD_ENOTFOUND, "ResourceNotFoundException", "%.700s does not exist.", s);
	*name = a.resource + kl + 1;
	return 0;
}

int dd__role_arn_ok(struct dd_ctx *c, const char *field, const char *arn, const char *code)
{
	switch (dd_iam_role_arn_check(c->account, arn)) {
	case 0: return 0;
	case DD_EDENIED:
		return dd_fail(c, DD_EINVAL, code, "%s %.700s names a role of another account; only roles of account %s can be used.",
			       field, arn, c->account);
	default: return dd_fail(c, DD_EINVAL, code, "%s must be an IAM role ARN: %.700s", field, arn ? arn : "(missing)");
	}
}

int dd__db_fail(struct dd_ctx *c)
{
	dd_db_rollback(c->db);
	return dd_fail(c, DD_EIO, "InternalFailureException", "An internal store error occurred.");
}

static const char *json_attr(const char *name, void *ud)
{
	return json_string_value(json_object_get((json_t *)ud, name));
}

int dd__query_match(const char *query, const char *thing_name, const char *type_name, json_t *attributes, char *err,
		    size_t errlen)
{
	return dd_registry_query_match(query, thing_name, type_name, attributes ? json_attr : NULL, attributes, err, errlen);
}

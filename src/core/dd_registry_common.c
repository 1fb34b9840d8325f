/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Helpers shared by the registry handler files: ARNs, input accessors, keyset paging with
 * opaque tokens (valid across restarts since they carry only the last key), ids, and a
 * small evaluator for the fleet-indexing query subset dynamic thing groups use:
 * `field:value` (with * wildcards and "quoted" values), `field<n`, `field<=n`, `field>n`,
 * `field>=n`, AND / OR / NOT, parentheses, and implicit AND; fields thingName,
 * thingTypeName and attributes.<name>.
 */
#include "core/dd_registry_int.h"
#include "dd/iam.h"

#include <ctype.h>
#include <fnmatch.h>
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

int dd__page_collect(struct dd_ctx *c, sqlite3_stmt *st, int size, dd__row_fn fn, json_t *arr, json_t *out,
		     const char *token_member)
{
	char key[2048] = "";
	int n = 0, rc;
	bool more = false;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == size) {
			more = true;
			break;
		}
		json_t *item = fn(c, st, key, sizeof key);
		if (item)
			json_array_append_new(arr, item);
		n++;
	}
	sqlite3_reset(st);
	if (!more && rc != SQLITE_DONE)
		return dd__db_fail(c);
	dd__page_next(out, token_member, more, key);
	return 0;
}

int dd__page_list(struct dd_ctx *c, sqlite3_stmt *st, int size, dd__row_fn fn, const char *member,
		  const char *token_member, json_t **out)
{
	json_t *arr = json_array();
	json_t *o = json_pack("{s:o}", member, arr);
	if (dd__page_collect(c, st, size, fn, arr, o, token_member)) {
		json_decref(o);
		return c->err;
	}
	*out = o;
	return 0;
}

json_t *dd__row_text0(struct dd_ctx *c, sqlite3_stmt *st, char *key, size_t keylen)
{
	(void)c;
	snprintf(key, keylen, "%s", dd_col_text(st, 0));
	return json_string(key);
}

void dd__uuid(char out[37])
{
	unsigned char r[16];
	if (dd_random_bytes(r, sizeof r))
		memset(r, 0x42, sizeof r);
	r[6] = (unsigned char)((r[6] & 0x0f) | 0x40);
	r[8] = (unsigned char)((r[8] & 0x3f) | 0x80);
	char hex[33];
	dd_hex_encode(r, 16, hex);
	snprintf(out, 37, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12, hex + 16, hex + 20);
}

bool dd__thing_exists(struct dd_ctx *c, const char *name)
{
	sqlite3_stmt *st = dd_db_stmt(c->db, "SELECT 1 FROM things WHERE account_region = ?1 AND name = ?2");
	if (!st)
		return false;
	dd_bind_text(st, 1, c->account_region);
	dd_bind_text(st, 2, name);
	bool found = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_reset(st);
	return found;
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

/* ---- fleet-indexing query subset --------------------------------------------------- */

struct qparser {
	const char *p;
	const char *thing, *type;
	json_t *attrs;
	char *err;
	size_t errlen;
	bool failed;
	int depth;
};

static void skip_ws(struct qparser *q)
{
	while (*q->p && isspace((unsigned char)*q->p))
		q->p++;
}

static bool keyword(struct qparser *q, const char *kw)
{
	skip_ws(q);
	size_t n = strlen(kw);
	if (strncmp(q->p, kw, n) == 0 && (q->p[n] == '\0' || isspace((unsigned char)q->p[n]) || q->p[n] == '(')) {
		q->p += n;
		return true;
	}
	return false;
}

static void qfail(struct qparser *q, const char *msg)
{
	if (!q->failed)
		snprintf(q->err, q->errlen, "Invalid query: %s near '%.40s'", msg, q->p);
	q->failed = true;
}

static int q_or(struct qparser *q);

static int q_term(struct qparser *q)
{
	skip_ws(q);
	if (++q->depth > 32) {
		qfail(q, "too deeply nested");
		return 0;
	}
	int r = 0;
	if (keyword(q, "NOT")) {
		r = !q_term(q);
		q->depth--;
		return r;
	}
	if (*q->p == '(') {
		q->p++;
		r = q_or(q);
		skip_ws(q);
		if (*q->p != ')')
			qfail(q, "expected ')'");
		else
			q->p++;
		q->depth--;
		return r;
	}
	char field[160];
	size_t n = 0;
	while (*q->p && (isalnum((unsigned char)*q->p) || strchr("._-@/#,", *q->p)) && n + 1 < sizeof field)
		field[n++] = *q->p++;
	field[n] = '\0';
	if (!n) {
		qfail(q, "expected a field");
		return 0;
	}
	char op[3] = { 0 };
	if (*q->p == ':' ) {
		op[0] = ':';
		q->p++;
	} else if (*q->p == '<' || *q->p == '>') {
		op[0] = *q->p++;
		if (*q->p == '=')
			op[1] = *q->p++;
	} else {
		qfail(q, "expected ':' or a comparison");
		return 0;
	}
	char value[512];
	n = 0;
	if (*q->p == '"') {
		q->p++;
		while (*q->p && *q->p != '"' && n + 1 < sizeof value)
			value[n++] = *q->p++;
		if (*q->p != '"') {
			qfail(q, "unterminated quoted value");
			return 0;
		}
		q->p++;
	} else {
		while (*q->p && !isspace((unsigned char)*q->p) && *q->p != ')' && n + 1 < sizeof value)
			value[n++] = *q->p++;
	}
	value[n] = '\0';
	if (!n) {
		qfail(q, "expected a value");
		return 0;
	}
	const char *actual = NULL;
	if (strcmp(field, "thingName") == 0)
		actual = q->thing;
	else if (strcmp(field, "thingTypeName") == 0)
		actual = q->type;
	else if (strncmp(field, "attributes.", 11) == 0)
		actual = json_string_value(json_object_get(q->attrs, field + 11));
	else {
		qfail(q, "unsupported field");
		return 0;
	}
	q->depth--;
	/* a comparison's value must be a number whatever the thing, so that a query that
	 * validated (against no thing) never fails against a real one */
	char *e1 = NULL, *e2 = NULL;
	double b = op[0] == ':' ? 0 : strtod(value, &e2);
	if (op[0] != ':' && (!e2 || *e2)) {
		qfail(q, "comparison needs a number");
		return 0;
	}
	if (!actual)
		return 0;
	if (op[0] == ':')
		return fnmatch(value, actual, 0) == 0;
	double a = strtod(actual, &e1);
	if (!e1 || *e1 || e1 == actual)
		return 0;
	if (op[0] == '<')
		return op[1] ? a <= b : a < b;
	return op[1] ? a >= b : a > b;
}

static int q_and(struct qparser *q)
{
	int r = q_term(q);
	for (;;) {
		skip_ws(q);
		if (q->failed || !*q->p || *q->p == ')')
			return r;
		const char *save = q->p;
		if (keyword(q, "OR")) {
			q->p = save;
			return r;
		}
		keyword(q, "AND");
		int r2 = q_term(q);
		r = r && r2;
	}
}

static int q_or(struct qparser *q)
{
	int r = q_and(q);
	while (!q->failed && keyword(q, "OR")) {
		int r2 = q_and(q);
		r = r || r2;
	}
	return r;
}

int dd__query_match(const char *query, const char *thing_name, const char *type_name,
		    json_t *attributes, char *err, size_t errlen)
{
	struct qparser q = { .p = query, .thing = thing_name, .type = type_name, .attrs = attributes,
			     .err = err, .errlen = errlen };
	int r = q_or(&q);
	skip_ws(&q);
	if (!q.failed && *q.p)
		qfail(&q, "unexpected text");
	return q.failed ? DD_EINVAL : r;
}

int dd__dynamic_groups_refresh_thing(struct dd_ctx *c, const char *thing)
{
	sqlite3_stmt *st = dd_db_stmt(c->db, "SELECT type_name, attributes FROM things WHERE account_region = ?1 AND name = ?2");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, c->account_region);
	dd_bind_text(st, 2, thing);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_reset(st);
		return 0;
	}
	char *type = sqlite3_column_type(st, 0) == SQLITE_NULL ? NULL : strdup(dd_col_text(st, 0));
	json_t *attrs = json_loads(dd_col_text(st, 1), 0, NULL);
	sqlite3_reset(st);
	int rc = 0;
	st = dd_db_stmt(c->db, "SELECT name, query_string FROM thing_groups WHERE account_region = ?1 AND dynamic = 1");
	if (!st) {
		rc = DD_EIO;
		goto out;
	}
	dd_bind_text(st, 1, c->account_region);
	struct {
		char *name;
		int match;
	} *g = NULL;
	size_t n = 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		void *ng = realloc(g, (n + 1) * sizeof *g);
		if (!ng)
			break;
		g = ng;
		char err[256];
		g[n].name = strdup(dd_col_text(st, 0));
		g[n].match = dd__query_match(dd_col_text(st, 1), thing, type, attrs, err, sizeof err) == 1;
		n++;
	}
	sqlite3_reset(st);
	for (size_t i = 0; i < n && !rc; i++) {
		sqlite3_stmt *w = g[i].match
			? dd_db_stmt(c->db, "INSERT OR IGNORE INTO thing_group_members(account_region, group_name, thing_name) VALUES (?1, ?2, ?3)")
			: dd_db_stmt(c->db, "DELETE FROM thing_group_members WHERE account_region = ?1 AND group_name = ?2 AND thing_name = ?3");
		if (!w) {
			rc = DD_EIO;
			break;
		}
		dd_bind_text(w, 1, c->account_region);
		dd_bind_text(w, 2, g[i].name);
		dd_bind_text(w, 3, thing);
		rc = dd_step_done(w);
	}
	for (size_t i = 0; i < n; i++)
		free(g[i].name);
	free(g);
out:
	free(type);
	json_decref(attrs);
	return rc;
}

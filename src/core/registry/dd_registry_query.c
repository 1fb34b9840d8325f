/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A recursive-descent evaluator for the fleet-indexing query subset of
 * dd_registry_query.h: or := and (OR and)*; and := term ((AND)? term)*; term := NOT term |
 * ( or ) | field op value. Nesting is limited to 32 levels; errors name the text near
 * the problem.
 */
#include "core/registry/dd_registry_query.h"

#include <ctype.h>
#include <fnmatch.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dd/common.h"

struct qparser {
	const char *p;
	const char *thing, *type;
	dd_registry_query_attr_fn attr;
	void *ud;
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
		actual = q->attr ? q->attr(field + 11, q->ud) : NULL;
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

int dd_registry_query_match(const char *query, const char *thing_name, const char *type_name,
			    dd_registry_query_attr_fn attr, void *ud, char *err, size_t errlen)
{
	struct qparser q = { .p = query ? query : "", .thing = thing_name, .type = type_name, .attr = attr, .ud = ud,
			     .err = err, .errlen = errlen };
	int r = q_or(&q);
	skip_ws(&q);
	if (!q.failed && *q.p)
		qfail(&q, "unexpected text");
	return q.failed ? DD_EINVAL : r;
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The fleet-indexing query parser and evaluator (dd_index_query.h): a recursive-descent
 * parser over the text into an array of nodes (operators point at their operands by
 * index), and a recursive evaluator over that tree. The parser checks every bound before
 * it reads (text length, nesting depth, term count, node count), so no input makes it
 * recurse or allocate without limit; errors name the problem and the byte offset.
 */
#include "core/registry/dd_index_query.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum kind { K_AND, K_OR, K_NOT, K_MATCH, K_EXISTS, K_RANGE };

struct node {
	enum kind kind;
	int left, right;       /* operands of AND / OR; NOT uses left */
	char *field;           /* terms */
	enum dd_index_type type;
	char *value;           /* K_MATCH: the exact value, or the pattern (escapes kept) when glob */
	bool glob;
	double num;            /* K_MATCH of a number */
	char *lo, *hi;         /* K_RANGE: NULL is unbounded */
	bool lo_inc, hi_inc, lo_num, hi_num;
	double nlo, nhi;
};

#define MAX_NODES (4 * DD_INDEX_QUERY_MAX_TERMS + 2 * DD_INDEX_QUERY_MAX_DEPTH)

struct dd_index_query {
	struct node n[MAX_NODES];
	int count;
	int root;
};

struct parser {
	const char *s;
	size_t i;
	struct dd_index_query *q;
	dd_index_field_fn resolve;
	void *ud;
	char *err;
	size_t errlen;
	int depth, terms;
	bool failed, nomem;
};

bool dd_index_query_number(const char *t, double *out)
{
	const char *p = t;
	if (*p == '-' || *p == '+')
		p++;
	size_t digits = 0;
	while (isdigit((unsigned char)*p))
		p++, digits++;
	if (*p == '.') {
		p++;
		while (isdigit((unsigned char)*p))
			p++, digits++;
	}
	if (!digits)
		return false;
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '-' || *p == '+')
			p++;
		if (!isdigit((unsigned char)*p))
			return false;
		while (isdigit((unsigned char)*p))
			p++;
	}
	if (*p || p - t > 64)
		return false;
	errno = 0;
	double d = strtod(t, NULL);
	if (!isfinite(d))
		return false;
	*out = d;
	return true;
}

static void fail(struct parser *p, const char *fmt, ...) DD_PRINTF(2, 3);
static void fail(struct parser *p, const char *fmt, ...)
{
	if (p->failed)
		return;
	p->failed = true;
	char msg[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (p->err && p->errlen)
		snprintf(p->err, p->errlen, "Invalid query: %s at offset %zu.", msg, p->i);
}

static int new_node(struct parser *p, enum kind k)
{
	if (p->q->count >= MAX_NODES) {
		fail(p, "the query has too many operators");
		return -1;
	}
	int i = p->q->count++;
	memset(&p->q->n[i], 0, sizeof p->q->n[i]);
	p->q->n[i].kind = k;
	p->q->n[i].left = p->q->n[i].right = -1;
	return i;
}

static void skip_ws(struct parser *p)
{
	while (p->s[p->i] && isspace((unsigned char)p->s[p->i]))
		p->i++;
}

static bool at_keyword(struct parser *p, const char *kw)
{
	size_t n = strlen(kw);
	if (strncmp(p->s + p->i, kw, n) != 0)
		return false;
	char c = p->s[p->i + n];
	return c == '\0' || isspace((unsigned char)c) || c == '(';
}

static bool field_char(char c)
{
	return isalnum((unsigned char)c) || (c && strchr("._-@/#,$", c));
}

static char *dup_n(struct parser *p, const char *s, size_t n)
{
	char *d = malloc(n + 1);
	if (!d) {
		p->nomem = true;
		fail(p, "out of memory");
		return NULL;
	}
	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

/* A scalar: "quoted" (escapes \" and \\) or a bare word ending at white space, ')' or one
 * of stop. *glob tells whether a bare word had an unescaped * or ?; the result keeps the
 * escapes when it did (a pattern), and drops them otherwise. NULL after fail(). */
static char *scalar(struct parser *p, const char *stop, bool *glob)
{
	char buf[DD_INDEX_QUERY_MAX_LEN + 1], raw[DD_INDEX_QUERY_MAX_LEN + 1];
	size_t n = 0, r = 0;
	*glob = false;
	if (p->s[p->i] == '"') {
		size_t start = p->i++;
		while (p->s[p->i] && p->s[p->i] != '"') {
			if (p->s[p->i] == '\\' && p->s[p->i + 1])
				p->i++;
			buf[n++] = p->s[p->i++];
		}
		if (p->s[p->i] != '"') {
			p->i = start;
			fail(p, "unterminated quoted value");
			return NULL;
		}
		p->i++;
		return dup_n(p, buf, n);
	}
	while (p->s[p->i] && !isspace((unsigned char)p->s[p->i]) && p->s[p->i] != ')' && !strchr(stop, p->s[p->i])) {
		char c = p->s[p->i];
		if (c == '\\' && !p->s[p->i + 1]) {
			/* would escape whatever follows the query: a ')' around it, say */
			fail(p, "a backslash at the end escapes nothing");
			return NULL;
		}
		if (c == '\\') {
			raw[r++] = c;
			raw[r++] = p->s[p->i + 1];
			buf[n++] = p->s[p->i + 1];
			p->i += 2;
			continue;
		}
		if (c == '*' || c == '?')
			*glob = true;
		raw[r++] = c;
		buf[n++] = c;
		p->i++;
	}
	if (!n) {
		fail(p, "expected a value");
		return NULL;
	}
	return *glob ? dup_n(p, raw, r) : dup_n(p, buf, n);
}

/* Checks a range bound against the field's type. */
static bool bound_ok(struct parser *p, struct node *t, const char *b, double *num, bool *isnum)
{
	*isnum = dd_index_query_number(b, num);
	if (t->type == DD_INDEX_NUMBER && !*isnum) {
		fail(p, "field %s is a number and '%.40s' is not", t->field, b);
		return false;
	}
	return true;
}

static int range_bound(struct parser *p, struct node *t, char **out, double *num, bool *isnum)
{
	skip_ws(p);
	char c = p->s[p->i];
	if (c == '*' && (isspace((unsigned char)p->s[p->i + 1]) || p->s[p->i + 1] == ']' || p->s[p->i + 1] == '}')) {
		p->i++;
		*out = NULL;
		return 0;
	}
	bool glob;
	if (!(*out = scalar(p, "]}", &glob)))
		return -1;
	if (glob) {
		fail(p, "wildcards are not allowed in a range");
		return -1;
	}
	return bound_ok(p, t, *out, num, isnum) ? 0 : -1;
}

static int term(struct parser *p)
{
	size_t start = p->i;
	while (field_char(p->s[p->i]))
		p->i++;
	if (p->i == start) {
		fail(p, p->s[p->i] ? "expected a field name" : "expected a term");
		return -1;
	}
	if (++p->terms > DD_INDEX_QUERY_MAX_TERMS) {
		fail(p, "the query has more than %d terms", DD_INDEX_QUERY_MAX_TERMS);
		return -1;
	}
	int i = new_node(p, K_MATCH);
	if (i < 0)
		return -1;
	struct node *t = &p->q->n[i];
	if (!(t->field = dup_n(p, p->s + start, p->i - start)))
		return -1;
	char c = p->s[p->i];
	if (c != ':' && c != '<' && c != '>') {
		fail(p, "expected ':' or a comparison after field %s", t->field);
		return -1;
	}
	char rerr[200] = "";
	if (p->resolve(t->field, &t->type, rerr, sizeof rerr, p->ud)) {
		p->i = start;
		fail(p, "%s", rerr[0] ? rerr : "unknown field");
		return -1;
	}
	p->i++;
	if (c == '<' || c == '>') {
		bool inc = p->s[p->i] == '=';
		if (inc)
			p->i++;
		if (t->type == DD_INDEX_BOOLEAN) {
			fail(p, "field %s is a boolean and cannot be compared", t->field);
			return -1;
		}
		bool glob;
		char *v = scalar(p, "", &glob);
		if (!v)
			return -1;
		t->kind = K_RANGE;
		double num;
		bool isnum;
		if (c == '>') {
			t->lo = v, t->lo_inc = inc;
		} else {
			t->hi = v, t->hi_inc = inc;
		}
		if (glob) {
			fail(p, "wildcards are not allowed in a comparison");
			return -1;
		}
		if (!bound_ok(p, t, v, &num, &isnum))
			return -1;
		if (c == '>')
			t->nlo = num, t->lo_num = isnum;
		else
			t->nhi = num, t->hi_num = isnum;
		return i;
	}
	c = p->s[p->i];
	if (c == '[' || c == '{') {
		t->kind = K_RANGE;
		t->lo_inc = c == '[';
		if (t->type == DD_INDEX_BOOLEAN) {
			fail(p, "field %s is a boolean and takes no range", t->field);
			return -1;
		}
		p->i++;
		if (range_bound(p, t, &t->lo, &t->nlo, &t->lo_num))
			return -1;
		skip_ws(p);
		if (!at_keyword(p, "TO")) {
			fail(p, "expected TO in the range of %s", t->field);
			return -1;
		}
		p->i += 2;
		if (range_bound(p, t, &t->hi, &t->nhi, &t->hi_num))
			return -1;
		skip_ws(p);
		c = p->s[p->i];
		if (c != ']' && c != '}') {
			fail(p, "expected ']' or '}' to close the range of %s", t->field);
			return -1;
		}
		t->hi_inc = c == ']';
		p->i++;
		return i;
	}
	if (c == '*' && (!p->s[p->i + 1] || isspace((unsigned char)p->s[p->i + 1]) || p->s[p->i + 1] == ')')) {
		p->i++;
		t->kind = K_EXISTS;
		return i;
	}
	if (!c || isspace((unsigned char)c) || c == ')') {
		fail(p, "expected a value after %s:", t->field);
		return -1;
	}
	size_t vstart = p->i;
	if (!(t->value = scalar(p, "", &t->glob)))
		return -1;
	if (t->type == DD_INDEX_NUMBER && (t->glob || !dd_index_query_number(t->value, &t->num))) {
		p->i = vstart;
		fail(p, "field %s is a number and '%.40s' is not", t->field, t->value);
		return -1;
	}
	if (t->type == DD_INDEX_BOOLEAN && (t->glob || (strcmp(t->value, "true") && strcmp(t->value, "false")))) {
		p->i = vstart;
		fail(p, "field %s is a boolean and '%.40s' is not true or false", t->field, t->value);
		return -1;
	}
	return i;
}

static int parse_or(struct parser *p);

static int unary(struct parser *p)
{
	skip_ws(p);
	if (at_keyword(p, "NOT") || p->s[p->i] == '(') {
		if (++p->depth > DD_INDEX_QUERY_MAX_DEPTH) {
			fail(p, "the query is nested more than %d levels deep", DD_INDEX_QUERY_MAX_DEPTH);
			return -1;
		}
		int r;
		if (p->s[p->i] == '(') {
			size_t open = p->i++;
			r = parse_or(p);
			skip_ws(p);
			if (r >= 0 && p->s[p->i] != ')') {
				if (!p->s[p->i])
					p->i = open;
				fail(p, "expected ')'");
				r = -1;
			} else if (r >= 0) {
				p->i++;
			}
		} else {
			p->i += 3;
			int n = new_node(p, K_NOT);
			r = n < 0 ? -1 : unary(p);
			if (r >= 0) {
				p->q->n[n].left = r;
				r = n;
			}
		}
		p->depth--;
		return r;
	}
	return term(p);
}

static bool at_and_end(struct parser *p)
{
	skip_ws(p);
	return !p->s[p->i] || p->s[p->i] == ')' || at_keyword(p, "OR");
}

/* Steps over the binary operator op (AND, OR) at p and the spaces after it; fails unless a
 * term follows. */
static int skip_operator(struct parser *p, const char *op)
{
	p->i += strlen(op);
	skip_ws(p);
	if (!p->s[p->i] || p->s[p->i] == ')' || at_keyword(p, "OR") || at_keyword(p, "AND")) {
		fail(p, "expected a term after %s", op);
		return -1;
	}
	return 0;
}

/* A new node of kind over the subtrees l and r; -1 when either failed or no node is left. */
static int join(struct parser *p, enum kind kind, int l, int r)
{
	int n = l < 0 || r < 0 ? -1 : new_node(p, kind);
	if (n < 0)
		return -1;
	p->q->n[n].left = l;
	p->q->n[n].right = r;
	return n;
}

static int parse_and(struct parser *p)
{
	int l = unary(p);
	while (l >= 0 && !at_and_end(p)) {
		if (at_keyword(p, "AND")) {
			if (skip_operator(p, "AND"))
				return -1;
		}
		l = join(p, K_AND, l, unary(p));
	}
	return l;
}

static int parse_or(struct parser *p)
{
	skip_ws(p);
	if (at_keyword(p, "OR") || at_keyword(p, "AND")) {
		fail(p, "expected a term before %s", at_keyword(p, "OR") ? "OR" : "AND");
		return -1;
	}
	int l = parse_and(p);
	while (l >= 0) {
		skip_ws(p);
		if (!at_keyword(p, "OR"))
			break;
		if (skip_operator(p, "OR"))
			return -1;
		l = join(p, K_OR, l, parse_and(p));
	}
	return l;
}

void dd_index_query_free(struct dd_index_query *q)
{
	if (!q)
		return;
	for (int i = 0; i < q->count; i++) {
		free(q->n[i].field);
		free(q->n[i].value);
		free(q->n[i].lo);
		free(q->n[i].hi);
	}
	free(q);
}

int dd_index_query_parse(const char *text, dd_index_field_fn resolve, void *ud, struct dd_index_query **out,
			 char *err, size_t errlen)
{
	struct parser p = { .s = text ? text : "", .resolve = resolve, .ud = ud, .err = err, .errlen = errlen };
	size_t len = strnlen(p.s, DD_INDEX_QUERY_MAX_LEN + 1);
	if (len > DD_INDEX_QUERY_MAX_LEN) {
		snprintf(err, errlen, "Invalid query: the query is longer than %d characters.", DD_INDEX_QUERY_MAX_LEN);
		return DD_EINVAL;
	}
	skip_ws(&p);
	if (!p.s[p.i]) {
		snprintf(err, errlen, "Invalid query: the query is empty.");
		return DD_EINVAL;
	}
	if (!(p.q = calloc(1, sizeof *p.q)))
		return DD_ENOMEM;
	p.q->root = parse_or(&p);
	skip_ws(&p);
	if (!p.failed && p.s[p.i])
		fail(&p, p.s[p.i] == ')' ? "unbalanced ')'" : "unexpected text '%.20s'", p.s + p.i);
	if (p.failed || p.q->root < 0) {
		if (!p.failed)
			fail(&p, "expected a term");
		dd_index_query_free(p.q);
		return p.nomem ? DD_ENOMEM : DD_EINVAL;
	}
	*out = p.q;
	return 0;
}

/* ---- evaluation ---- */

/* Does s match pattern (* any run, ? one byte, \ makes the next byte literal)? Linear
 * backtracking to the last star only, so no pattern is exponential. */
static bool glob_match(const char *pat, const char *s)
{
	const char *star_p = NULL, *star_s = NULL;
	while (*s) {
		if (*pat == '*') {
			star_p = ++pat;
			star_s = s;
			continue;
		}
		if (*pat == '?') {
			pat++, s++;
			continue;
		}
		const char *lit = (*pat == '\\' && pat[1]) ? pat + 1 : pat;
		if (*lit && *lit == *s) {
			pat = lit + 1, s++;
			continue;
		}
		if (!star_p)
			return false;
		pat = star_p;
		s = ++star_s;
	}
	while (*pat == '*')
		pat++;
	return !*pat;
}

/* v against bound b: <0, 0, >0, or 2 when they cannot be compared. */
static int compare(const struct node *t, const char *v, const char *b, double nb, bool bnum)
{
	double dv;
	if (t->type == DD_INDEX_NUMBER || bnum) {
		if (dd_index_query_number(v, &dv))
			return dv < nb ? -1 : dv > nb ? 1 : 0;
		if (t->type == DD_INDEX_NUMBER)
			return 2;
	}
	int c = strcmp(v, b);
	return c < 0 ? -1 : c > 0;
}

static bool value_match(const struct node *t, const char *v)
{
	switch (t->kind) {
	case K_EXISTS:
		return true;
	case K_MATCH:
		if (t->type == DD_INDEX_NUMBER) {
			double d;
			return dd_index_query_number(v, &d) && d == t->num;
		}
		return t->glob ? glob_match(t->value, v) : strcmp(t->value, v) == 0;
	case K_RANGE:
		if (t->lo) {
			int c = compare(t, v, t->lo, t->nlo, t->lo_num);
			if (c == 2 || c < 0 || (c == 0 && !t->lo_inc))
				return false;
		}
		if (t->hi) {
			int c = compare(t, v, t->hi, t->nhi, t->hi_num);
			if (c == 2 || c > 0 || (c == 0 && !t->hi_inc))
				return false;
		}
		return true;
	default:
		return false;
	}
}

static int eval(const struct dd_index_query *q, int i, dd_index_values_fn values, void *ud)
{
	const struct node *n = &q->n[i];
	switch (n->kind) {
	case K_AND:
		return eval(q, n->left, values, ud) && eval(q, n->right, values, ud);
	case K_OR:
		return eval(q, n->left, values, ud) || eval(q, n->right, values, ud);
	case K_NOT:
		return !eval(q, n->left, values, ud);
	default: {
		const char *v[32];
		size_t k = values(n->field, v, 32, ud);
		for (size_t j = 0; j < k && j < 32; j++)
			if (v[j] && value_match(n, v[j]))
				return 1;
		return 0;
	}
	}
}

int dd_index_query_match(const struct dd_index_query *q, dd_index_values_fn values, void *ud)
{
	return eval(q, q->root, values, ud);
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Policy documents: parse (jansson), validate, compile and evaluate. A compiled policy
 * lives in one arena owned by struct dd_policy and is never modified after compilation,
 * so it can be shared between threads. Resource patterns are compiled into a list of ops
 * (literal run, '*', '?', variable); the escapes ${*} ${?} ${$} become literal runs and
 * variables exist only for Version 2012-10-17. Evaluation walks the statements once,
 * resolves variables straight from the request and never allocates: an unresolved
 * variable makes its pattern match nothing, a substituted value is always literal text,
 * dates compare as seconds since the epoch, and a statement with an unsupported condition
 * operator (BinaryEquals) never applies.
 */
#define DD_POLICY_INTERNAL 1
#include "dd/policy.h"

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---------------------------------------------------------------- arena -------- */

struct dd__policy_chunk {
	struct dd__policy_chunk *next;
	size_t used, size;
	max_align_t data[];
};

static void *arena_alloc(struct dd__policy_chunk **head, size_t n)
{
	const size_t align = sizeof(max_align_t);
	n = (n + align - 1) / align * align;
	if (n == 0)
		n = align;
	struct dd__policy_chunk *c = *head;
	if (!c || c->size - c->used < n) {
		size_t sz = n > 4096 ? n : 4096;
		c = malloc(sizeof(*c) + sz);
		if (!c)
			return NULL;
		c->next = *head;
		c->used = 0;
		c->size = sz;
		*head = c;
	}
	void *p = (char *)c->data + c->used;
	c->used += n;
	return p;
}

static void *arena_calloc(struct dd__policy_chunk **head, size_t count, size_t size)
{
	if (size && count > SIZE_MAX / size)
		return NULL;
	void *p = arena_alloc(head, count * size);
	if (p)
		memset(p, 0, count * size);
	return p;
}

static char *arena_strndup(struct dd__policy_chunk **head, const char *s, size_t n)
{
	char *p = arena_alloc(head, n + 1);
	if (p) {
		memcpy(p, s, n);
		p[n] = '\0';
	}
	return p;
}

static void arena_free(struct dd__policy_chunk *c)
{
	while (c) {
		struct dd__policy_chunk *next = c->next;
		free(c);
		c = next;
	}
}

/* ---------------------------------------------------------------- helpers ------ */

static const unsigned char lower_tab[256] = {
#define R(x) x, x + 1, x + 2, x + 3, x + 4, x + 5, x + 6, x + 7
	R(0), R(8), R(16), R(24), R(32), R(40), R(48), R(56), 64,
	'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o', 'p', 'q',
	'r', 's', 't', 'u', 'v', 'w', 'x', 'y', 'z', 91, 92, 93, 94, 95, R(96), R(104),
	R(112), R(120), R(128), R(136), R(144), R(152), R(160), R(168), R(176), R(184),
	R(192), R(200), R(208), R(216), R(224), R(232), R(240), R(248)
#undef R
};

static inline unsigned char lc(unsigned char c) { return lower_tab[c]; }

static bool streq_ci_n(const char *a, size_t an, const char *b, size_t bn)
{
	if (an != bn)
		return false;
	for (size_t i = 0; i < an; i++)
		if (lc((unsigned char)a[i]) != lc((unsigned char)b[i]))
			return false;
	return true;
}

static bool starts_ci(const char *s, size_t n, const char *prefix)
{
	size_t pn = strlen(prefix);
	return n >= pn && streq_ci_n(s, pn, prefix, pn);
}

DD_PRINTF(3, 4)
static void seterr(char *err, size_t errsz, const char *fmt, ...)
{
	if (!err || errsz == 0)
		return;
	va_list ap;
	va_start(ap, fmt);
	int r = vsnprintf(err, errsz, fmt, ap);
	va_end(ap);
	if (r < 0)
		err[0] = '\0';
}

size_t dd_policy_count_nonws(const char *text, size_t len)
{
	size_t n = 0;
	if (!text)
		return 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];
		if (c == ' ' || c == '\t' || c == '\n' || c == '\r')
			continue;
		if ((c & 0xC0) == 0x80) /* UTF-8 continuation byte */
			continue;
		n++;
	}
	return n;
}

/* ---------------------------------------------------------------- matching ----- */

bool dd__policy_act_match(const struct dd__policy_act *a, const char *s, size_t n)
{
	const char *p = a->lc;
	size_t pn = a->len;
	if (!a->glob) {
		if (pn != n)
			return false;
		for (size_t i = 0; i < n; i++)
			if ((unsigned char)p[i] != lc((unsigned char)s[i]))
				return false;
		return true;
	}
	size_t pi = 0, si = 0, star_p = SIZE_MAX, star_s = 0;
	while (si < n) {
		if (pi < pn && p[pi] == '*') {
			star_p = ++pi;
			star_s = si;
			continue;
		}
		if (pi < pn && (p[pi] == '?' || (unsigned char)p[pi] == lc((unsigned char)s[si]))) {
			pi++;
			si++;
			continue;
		}
		if (star_p == SIZE_MAX)
			return false;
		pi = star_p;
		si = ++star_s;
	}
	while (pi < pn && p[pi] == '*')
		pi++;
	return pi == pn;
}

static const char *const true_values[] = { "true" };
static const char *const false_values[] = { "false" };

static const struct dd_policy_attr *find_attr(const struct dd_policy_attr *a, size_t n,
					      const char *key, size_t keylen, bool icase)
{
	for (size_t i = 0; i < n; i++) {
		const char *k = a[i].key;
		if (!k)
			continue;
		if (icase) {
			if (streq_ci_n(k, strlen(k), key, keylen))
				return &a[i];
		} else if (strncmp(k, key, keylen) == 0 && k[keylen] == '\0') {
			return &a[i];
		}
	}
	return NULL;
}

/* Looks up a variable or condition key. Returns false when the request has no value;
 * otherwise vals and nvals hold the values (borrowed from the request or static). */
static bool lookup(const struct dd_policy_request *r, uint8_t var, const char *name,
		   size_t namelen, const char *const **vals, size_t *nvals)
{
	if (!r)
		return false;
	const char *const *scalar = NULL;
	switch (var) {
	case DD__VAR_CLIENT_ID: scalar = &r->client_id; break;
	case DD__VAR_THING_NAME: scalar = &r->thing_name; break;
	case DD__VAR_THING_TYPE: scalar = &r->thing_type_name; break;
	case DD__VAR_SOURCE_IP: scalar = &r->source_ip; break;
	case DD__VAR_IS_ATTACHED:
		*vals = r->is_attached ? true_values : false_values;
		*nvals = 1;
		return true;
	case DD__VAR_THING_ATTR:
	case DD__VAR_CERT:
	case DD__VAR_GENERIC: {
		const struct dd_policy_attr *a;
		if (var == DD__VAR_THING_ATTR)
			a = find_attr(r->thing_attributes, r->n_thing_attributes, name, namelen,
				      false);
		else if (var == DD__VAR_CERT)
			a = find_attr(r->cert, r->n_cert, name, namelen, false);
		else
			a = find_attr(r->keys, r->n_keys, name, namelen, true);
		if (!a || !a->values)
			return false;
		*vals = a->values;
		*nvals = a->nvalues;
		return true;
	}
	default:
		return false;
	}
	if (!*scalar)
		return false;
	*vals = scalar;
	*nvals = 1;
	return true;
}

/* Resolves a variable used inside a pattern to one literal value. Multi-valued, empty or
 * absent values do not resolve; nor does a certificate value holding * $ + ? #. */
static bool resolve_var(const struct dd_policy_request *r, const struct dd__policy_op *op,
			const char **out, size_t *outlen)
{
	const char *const *vals;
	size_t nv;
	if (!lookup(r, op->var, op->str, op->len, &vals, &nv) || nv != 1 || !vals[0] ||
	    !vals[0][0])
		return false;
	if (op->var == DD__VAR_CERT && strpbrk(vals[0], "*$+?#"))
		return false;
	*out = vals[0];
	*outlen = strlen(vals[0]);
	return true;
}

/* The text of op i (literal run or resolved variable). */
static inline void op_text(const struct dd__policy_op *ops, uint32_t i,
			   const struct dd_policy_request *r, const char **t, size_t *tn)
{
	if (ops[i].kind == DD__OP_LIT) {
		*t = ops[i].str;
		*tn = ops[i].len;
	} else if (!resolve_var(r, &ops[i], t, tn)) {
		*t = "";
		*tn = 0;
	}
}

bool dd__policy_pat_match(const struct dd__policy_pat *p, const char *s, size_t n,
			  const struct dd_policy_request *r, bool icase)
{
	if (p->match_all)
		return true;
	const struct dd__policy_op *ops = p->ops;
	const uint32_t nops = p->nops;
	/* Cheap rejections on the leading and trailing literal runs (the ARN prefix, a fixed
	 * suffix) before any variable is resolved. */
	uint32_t first = 0;
	size_t si = 0;
	if (nops && ops[0].kind == DD__OP_LIT) {
		if (n < ops[0].len)
			return false;
		if (icase ? !streq_ci_n(ops[0].str, ops[0].len, s, ops[0].len)
			  : memcmp(ops[0].str, s, ops[0].len) != 0)
			return false;
		if (nops == 1)
			return n == ops[0].len;
		first = 1;
		si = ops[0].len;
	}
	if (nops > 1 && ops[nops - 1].kind == DD__OP_LIT) {
		const struct dd__policy_op *last = &ops[nops - 1];
		if (n - si < last->len)
			return false;
		if (icase ? !streq_ci_n(last->str, last->len, s + n - last->len, last->len)
			  : memcmp(last->str, s + n - last->len, last->len) != 0)
			return false;
	}
	if (p->has_var) {
		for (uint32_t i = first; i < nops; i++) {
			const char *t;
			size_t tn;
			if (ops[i].kind == DD__OP_VAR && !resolve_var(r, &ops[i], &t, &tn))
				return false;
		}
	}
	/* Greedy glob with one backtrack point over the remaining ops: a text op (literal or
	 * resolved variable) is compared as a whole chunk; on a mismatch the last '*' absorbs
	 * one more character, which is equivalent to the character-wise algorithm. */
	uint32_t pi = first, star_pi = UINT32_MAX;
	size_t star_si = 0;
	for (;;) {
		if (pi < nops && ops[pi].kind == DD__OP_STAR) {
			while (pi < nops && ops[pi].kind == DD__OP_STAR)
				pi++;
			if (pi == nops)
				return true; /* a trailing '*' absorbs the rest */
			star_pi = pi;
			star_si = si;
			continue;
		}
		if (pi == nops) {
			if (si == n)
				return true;
		} else if (ops[pi].kind == DD__OP_QMARK) {
			if (si < n) {
				pi++;
				si++;
				continue;
			}
		} else {
			const char *t;
			size_t tn;
			op_text(ops, pi, r, &t, &tn);
			if (tn <= n - si &&
			    (icase ? streq_ci_n(t, tn, s + si, tn) : memcmp(t, s + si, tn) == 0)) {
				pi++;
				si += tn;
				continue;
			}
		}
		if (star_pi == UINT32_MAX || star_si >= n)
			return false;
		pi = star_pi;
		si = ++star_si;
	}
}

/* ---------------------------------------------------------------- conditions --- */

static bool parse_ip(const char *s, struct dd__policy_cidr *out, bool allow_prefix)
{
	char buf[64];
	size_t n = strlen(s);
	if (n == 0 || n >= sizeof buf)
		return false;
	memcpy(buf, s, n + 1);
	char *slash = strchr(buf, '/');
	long prefix = -1;
	if (slash) {
		if (!allow_prefix)
			return false;
		*slash = '\0';
		const char *ps = slash + 1;
		if (!*ps || strlen(ps) > 3)
			return false;
		prefix = 0;
		for (; *ps; ps++) {
			if (*ps < '0' || *ps > '9')
				return false;
			prefix = prefix * 10 + (*ps - '0');
		}
	}
	memset(out, 0, sizeof *out);
	if (inet_pton(AF_INET, buf, out->addr) == 1) {
		out->family = 4;
		if (prefix > 32)
			return false;
		out->prefix = (uint8_t)(prefix < 0 ? 32 : prefix);
		return true;
	}
	if (inet_pton(AF_INET6, buf, out->addr) == 1) {
		out->family = 6;
		if (prefix > 128)
			return false;
		out->prefix = (uint8_t)(prefix < 0 ? 128 : prefix);
		return true;
	}
	return false;
}

static bool cidr_contains(const struct dd__policy_cidr *net, const struct dd__policy_cidr *ip)
{
	if (net->family != ip->family)
		return false;
	unsigned full = net->prefix / 8, rest = net->prefix % 8;
	if (memcmp(net->addr, ip->addr, full) != 0)
		return false;
	if (rest) {
		unsigned char mask = (unsigned char)(0xFF << (8 - rest));
		if ((net->addr[full] & mask) != (ip->addr[full] & mask))
			return false;
	}
	return true;
}

static bool parse_number(const char *s, double *out)
{
	if (!s || !*s)
		return false;
	char *end;
	errno = 0;
	double d = strtod(s, &end);
	if (errno || *end || !isfinite(d))
		return false;
	*out = d;
	return true;
}

/* Reads exactly n decimal digits at *s into *out and advances *s. */
static bool digits(const char **s, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)(*s)[i];
		if (ch < '0' || ch > '9')
			return false;
		v = v * 10 + (ch - '0');
	}
	*s += n;
	*out = v;
	return true;
}

static bool leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

/*
 * A date as IAM's Date operators take it, into seconds since the epoch: either epoch
 * seconds (digits, optionally with a fraction), or one of the W3C profiles of ISO 8601
 * that IAM accepts: YYYY-MM-DD, YYYY-MM-DDThh:mmTZD, YYYY-MM-DDThh:mm:ssTZD and
 * YYYY-MM-DDThh:mm:ss.sTZD, where TZD is Z, +hh:mm or -hh:mm (a date alone is midnight
 * UTC). A bare number is always epoch seconds, so "2026" is 2026 seconds after 1970,
 * not a year. Bounded: at most 64 characters are looked at.
 */
static bool parse_date(const char *s, double *out)
{
	if (!s || !*s || strnlen(s, 65) > 64)
		return false;
	bool all_num = true;
	int dots = 0;
	for (const char *p = s; *p; p++) {
		if (*p == '.')
			dots++;
		else if (*p < '0' || *p > '9')
			all_num = false;
	}
	if (all_num && dots <= 1 && s[0] != '.')
		return parse_number(s, out);
	int y, mo, d, h = 0, mi = 0, sec = 0;
	double frac = 0;
	const char *p = s;
	if (!digits(&p, 4, &y) || *p++ != '-' || !digits(&p, 2, &mo) || *p++ != '-' ||
	    !digits(&p, 2, &d))
		return false;
	if (mo < 1 || mo > 12)
		return false;
	static const int mdays[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	if (d < 1 || d > mdays[mo - 1] + (mo == 2 && leap(y)))
		return false;
	int64_t offset = 0;
	if (*p == 'T' || *p == 't') {
		p++;
		if (!digits(&p, 2, &h) || *p++ != ':' || !digits(&p, 2, &mi))
			return false;
		if (*p == ':') {
			p++;
			if (!digits(&p, 2, &sec))
				return false;
			if (*p == '.') {
				const char *f = ++p;
				double scale = 0.1;
				while (*p >= '0' && *p <= '9') {
					frac += (*p - '0') * scale;
					scale /= 10;
					p++;
				}
				if (p == f)
					return false;
			}
		}
		if (h > 23 || mi > 59 || sec > 60) /* 60: a leap second, as ISO 8601 allows */
			return false;
		if (*p == 'Z' || *p == 'z') {
			p++;
		} else if (*p == '+' || *p == '-') {
			int sign = *p++ == '-' ? -1 : 1, oh, om;
			if (!digits(&p, 2, &oh) || *p++ != ':' || !digits(&p, 2, &om) || oh > 23 || om > 59)
				return false;
			offset = sign * (oh * 3600 + om * 60);
		} else {
			return false; /* a time needs its zone designator */
		}
	}
	if (*p)
		return false;
	int64_t t = dd_time_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - offset;
	*out = (double)t + frac;
	return true;
}

/* Does one request value match policy value index j (before negation)? */
static bool cond_value_match(const struct dd__policy_cond *c, uint32_t j, const char *v,
			     const struct dd_policy_request *r)
{
	const struct dd__policy_pat *p = &c->values[j];
	switch (c->op) {
	case DD__COND_STRING_EQUALS:
	case DD__COND_STRING_LIKE:
	case DD__COND_ARN_LIKE:
		return dd__policy_pat_match(p, v, strlen(v), r, c->ignore_case);
	case DD__COND_BOOL:
		return streq_ci_n(v, strlen(v), p->raw, strlen(p->raw));
	case DD__COND_IP: {
		struct dd__policy_cidr ip;
		return c->cidrs[j].family && parse_ip(v, &ip, false) &&
		       cidr_contains(&c->cidrs[j], &ip);
	}
	case DD__COND_NUMERIC_EQ:
	case DD__COND_NUMERIC_LT:
	case DD__COND_NUMERIC_LE:
	case DD__COND_NUMERIC_GT:
	case DD__COND_NUMERIC_GE: {
		double x, y = c->numbers[j];
		if (isnan(y) || !parse_number(v, &x))
			return false;
		switch (c->op) {
		case DD__COND_NUMERIC_EQ: return x == y;
		case DD__COND_NUMERIC_LT: return x < y;
		case DD__COND_NUMERIC_LE: return x <= y;
		case DD__COND_NUMERIC_GT: return x > y;
		default: return x >= y;
		}
	}
	case DD__COND_DATE_EQ:
	case DD__COND_DATE_LT:
	case DD__COND_DATE_LE:
	case DD__COND_DATE_GT:
	case DD__COND_DATE_GE: {
		double x, y = c->numbers[j];
		if (isnan(y) || !parse_date(v, &x))
			return false;
		switch (c->op) {
		case DD__COND_DATE_EQ: return x == y;
		case DD__COND_DATE_LT: return x < y;
		case DD__COND_DATE_LE: return x <= y;
		case DD__COND_DATE_GT: return x > y;
		default: return x >= y;
		}
	}
	default:
		return false;
	}
}

/* One request value against the policy values: OR over values, then negation. */
static bool cond_one(const struct dd__policy_cond *c, const char *v,
		     const struct dd_policy_request *r)
{
	if (!v)
		return false;
	bool any = false;
	for (uint32_t j = 0; j < c->nvalues && !any; j++)
		any = cond_value_match(c, j, v, r);
	return c->negate ? !any : any;
}

static bool cond_holds(const struct dd__policy_cond *c, const struct dd_policy_request *r)
{
	const char *const *vals = NULL;
	size_t nv = 0;
	bool present = lookup(r, c->key_var, c->key_name, c->key_name_len, &vals, &nv);
	if (present && nv == 0 && c->set == 0)
		present = false;
	if (c->op == DD__COND_NULL) {
		/* "true": the key is absent; "false": it is present. */
		bool want_absent = false;
		for (uint32_t j = 0; j < c->nvalues; j++)
			if (streq_ci_n(c->values[j].raw, strlen(c->values[j].raw), "true", 4))
				want_absent = true;
		return want_absent ? !present : present;
	}
	if (c->set == 1) { /* ForAllValues: true on the empty set */
		if (!present)
			return true;
		for (size_t i = 0; i < nv; i++)
			if (!cond_one(c, vals[i], r))
				return false;
		return true;
	}
	if (c->set == 2) { /* ForAnyValue: false on the empty set */
		if (!present)
			return c->if_exists;
		for (size_t i = 0; i < nv; i++)
			if (cond_one(c, vals[i], r))
				return true;
		return false;
	}
	if (!present)
		return c->if_exists || c->negate;
	/* Single-valued operator: any request value satisfies it. */
	for (size_t i = 0; i < nv; i++)
		if (cond_one(c, vals[i], r))
			return true;
	return false;
}

/* ---------------------------------------------------------------- evaluation --- */

static bool stmt_applies(const struct dd__policy_stmt *st, const struct dd_policy_request *r,
			 size_t alen, size_t rlen)
{
	bool hit = false;
	for (uint32_t i = 0; i < st->nactions && !hit; i++)
		hit = dd__policy_act_match(&st->actions[i], r->action, alen);
	if (hit == st->not_action)
		return false;
	hit = false;
	for (uint32_t i = 0; i < st->nresources && !hit; i++)
		hit = dd__policy_pat_match(&st->resources[i], r->resource, rlen, r, false);
	if (hit == st->not_resource)
		return false;
	for (uint32_t i = 0; i < st->nconds; i++)
		if (!cond_holds(&st->conds[i], r))
			return false;
	return true;
}

int dd_policy_evaluate(const struct dd_policy *const *policies, size_t n,
		       const struct dd_policy_request *req, enum dd_policy_decision *decision,
		       struct dd_policy_explain *explain)
{
	if (!req || !req->action || !req->resource || !decision || (n && !policies))
		return DD_EINVAL;
	const size_t alen = strlen(req->action), rlen = strlen(req->resource);
	size_t allow_p = SIZE_MAX, allow_s = SIZE_MAX, skipped = 0;
	const char *allow_sid = NULL;
	for (size_t p = 0; p < n; p++) {
		const struct dd_policy *pol = policies[p];
		if (!pol)
			continue;
		for (uint32_t s = 0; s < pol->nstmts; s++) {
			const struct dd__policy_stmt *st = &pol->stmts[s];
			if (!st->deny && allow_p != SIZE_MAX)
				continue; /* an Allow is already known: only Denies matter now */
			if (st->unsupported) {
				skipped++;
				continue;
			}
			if (!stmt_applies(st, req, alen, rlen))
				continue;
			if (st->deny) {
				*decision = DD_POLICY_EXPLICIT_DENY;
				if (explain) {
					explain->decision = DD_POLICY_EXPLICIT_DENY;
					explain->policy_index = p;
					explain->statement_index = s;
					explain->sid = st->sid;
					explain->skipped_unsupported = skipped;
				}
				return 0;
			}
			allow_p = p;
			allow_s = s;
			allow_sid = st->sid;
		}
	}
	enum dd_policy_decision d = allow_p == SIZE_MAX ? DD_POLICY_IMPLICIT_DENY : DD_POLICY_ALLOW;
	*decision = d;
	if (explain) {
		explain->decision = d;
		explain->policy_index = allow_p;
		explain->statement_index = allow_s;
		explain->sid = allow_sid;
		explain->skipped_unsupported = skipped;
	}
	return 0;
}

const char *dd_policy_decision_name(enum dd_policy_decision decision)
{
	switch (decision) {
	case DD_POLICY_ALLOW: return "ALLOW";
	case DD_POLICY_EXPLICIT_DENY: return "EXPLICIT_DENY";
	default: return "IMPLICIT_DENY";
	}
}

size_t dd_policy_explain_format(const struct dd_policy_explain *e, char *buf, size_t size)
{
	int r;
	if (!e)
		r = snprintf(buf, size, "no explanation");
	else if (e->decision == DD_POLICY_IMPLICIT_DENY)
		r = snprintf(buf, size, "implicitly denied: no statement allows it%s",
			     e->skipped_unsupported ? " (statements with unsupported conditions skipped)" : "");
	else if (e->sid)
		r = snprintf(buf, size, "%s by policy %zu statement %zu (Sid \"%s\")",
			     e->decision == DD_POLICY_ALLOW ? "allowed" : "explicitly denied",
			     e->policy_index, e->statement_index, e->sid);
	else
		r = snprintf(buf, size, "%s by policy %zu statement %zu",
			     e->decision == DD_POLICY_ALLOW ? "allowed" : "explicitly denied",
			     e->policy_index, e->statement_index);
	return r < 0 ? 0 : (size_t)r;
}

int dd_policy_role_allows(const struct dd_policy *const *policies, size_t n,
			  const char *action, const char *resource, bool *allowed)
{
	if (!action || !resource || !allowed)
		return DD_EINVAL;
	struct dd_policy_request req = { .action = action, .resource = resource };
	enum dd_policy_decision d;
	int rc = dd_policy_evaluate(policies, n, &req, &d, NULL);
	if (rc)
		return rc;
	*allowed = d == DD_POLICY_ALLOW;
	return 0;
}

size_t dd_policy_statement_count(const struct dd_policy *p) { return p ? p->nstmts : 0; }
bool dd_policy_has_variables_enabled(const struct dd_policy *p) { return p && p->vars; }
size_t dd_policy_unsupported_count(const struct dd_policy *p) { return p ? p->nunsupported : 0; }

void dd_policy_free(struct dd_policy *policy)
{
	if (!policy)
		return;
	struct dd__policy_chunk *a = policy->arena;
	arena_free(a); /* the policy itself lives in its arena */
}

/* ---------------------------------------------------------------- compilation -- */

struct cctx {
	struct dd__policy_chunk *arena;
	enum dd_policy_dialect dialect;
	bool vars;
	char *err;
	size_t errsz;
	size_t stmt_index; /* 1-based for messages; 0 = document level */
	const char *sid;
	int rc;
};

DD_PRINTF(2, 3)
static int fail(struct cctx *c, const char *fmt, ...)
{
	char msg[200];
	va_list ap;
	va_start(ap, fmt);
	int r = vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (r < 0)
		msg[0] = '\0';
	if (c->stmt_index == 0)
		seterr(c->err, c->errsz, "%s", msg);
	else if (c->sid)
		seterr(c->err, c->errsz, "Statement %zu (Sid \"%.64s\"): %s", c->stmt_index, c->sid,
		       msg);
	else
		seterr(c->err, c->errsz, "Statement %zu: %s", c->stmt_index, msg);
	c->rc = DD_EINVAL;
	return DD_EINVAL;
}

static int nomem(struct cctx *c)
{
	seterr(c->err, c->errsz, "out of memory");
	c->rc = DD_ENOMEM;
	return DD_ENOMEM;
}

struct var_name {
	const char *prefix;
	uint8_t var;
	bool is_prefix; /* name continues after prefix (key of attribute / cert field) */
};

static const struct var_name var_names[] = {
	{ "iot:ClientId", DD__VAR_CLIENT_ID, false },
	{ "iot:Connection.Thing.ThingName", DD__VAR_THING_NAME, false },
	{ "iot:Connection.Thing.ThingTypeName", DD__VAR_THING_TYPE, false },
	{ "iot:Connection.Thing.IsAttached", DD__VAR_IS_ATTACHED, false },
	{ "aws:SourceIp", DD__VAR_SOURCE_IP, false },
	{ "iot:Certificate.", DD__VAR_CERT, true },
};

/* Classifies a variable / condition key name into (var, name). */
static void classify_key(const char *s, size_t n, uint8_t *var, const char **name,
			 size_t *namelen)
{
	static const char attr[] = "iot:Connection.Thing.Attributes[";
	const size_t attrn = sizeof attr - 1;
	if (n > attrn + 1 && starts_ci(s, n, attr) && s[n - 1] == ']') {
		*var = DD__VAR_THING_ATTR;
		*name = s + attrn;
		*namelen = n - attrn - 1;
		return;
	}
	for (size_t i = 0; i < sizeof var_names / sizeof var_names[0]; i++) {
		const struct var_name *v = &var_names[i];
		size_t pn = strlen(v->prefix);
		if (v->is_prefix ? (n > pn && starts_ci(s, n, v->prefix))
				 : streq_ci_n(s, n, v->prefix, pn)) {
			*var = v->var;
			*name = s + (v->is_prefix ? pn : 0);
			*namelen = v->is_prefix ? n - pn : n;
			return;
		}
	}
	*var = DD__VAR_GENERIC;
	*name = s;
	*namelen = n;
}

/* Compiles one pattern. glob: '*' and '?' are wildcards (else literal). */
static int compile_pat(struct cctx *c, const char *s, bool glob, struct dd__policy_pat *out)
{
	size_t n = strlen(s);
	if (n > UINT32_MAX / 2)
		return fail(c, "pattern too long");
	/* Worst case: every character its own op. */
	struct dd__policy_op *ops = arena_calloc(&c->arena, n + 1, sizeof *ops);
	char *lit = arena_alloc(&c->arena, n + 1); /* literal bytes after escape processing */
	out->raw = arena_strndup(&c->arena, s, n);
	if (!ops || !lit || !out->raw)
		return nomem(c);
	uint32_t nops = 0;
	size_t litn = 0;
	bool has_var = false;
	for (size_t i = 0; i < n;) {
		char ch = s[i];
		if (glob && (ch == '*' || ch == '?')) {
			if (ch == '*' && nops && ops[nops - 1].kind == DD__OP_STAR) {
				i++;
				continue; /* "**" == "*" */
			}
			ops[nops++].kind = ch == '*' ? DD__OP_STAR : DD__OP_QMARK;
			i++;
			continue;
		}
		if (c->vars && ch == '$' && i + 1 < n && s[i + 1] == '{') {
			const char *close = memchr(s + i + 2, '}', n - i - 2);
			if (close) {
				const char *vn = s + i + 2;
				size_t vl = (size_t)(close - vn);
				size_t next = (size_t)(close - s) + 1;
				char esc = 0;
				if (vl == 1 && (vn[0] == '*' || vn[0] == '?' || vn[0] == '$'))
					esc = vn[0];
				if (esc || vl > 0) {
					if (esc) {
						ch = esc; /* fall through to the literal path */
						i = next - 1;
					} else {
						uint8_t var;
						const char *name;
						size_t namelen;
						classify_key(vn, vl, &var, &name, &namelen);
						char *nm = arena_strndup(&c->arena, name, namelen);
						if (!nm)
							return nomem(c);
						ops[nops].kind = DD__OP_VAR;
						ops[nops].var = var;
						ops[nops].str = nm;
						ops[nops].len = (uint32_t)namelen;
						nops++;
						has_var = true;
						i = next;
						continue;
					}
				}
			}
		}
		/* literal byte: extend the previous literal op when it ends here */
		lit[litn] = ch;
		if (nops && ops[nops - 1].kind == DD__OP_LIT &&
		    ops[nops - 1].str + ops[nops - 1].len == lit + litn) {
			ops[nops - 1].len++;
		} else {
			ops[nops].kind = DD__OP_LIT;
			ops[nops].str = lit + litn;
			ops[nops].len = 1;
			nops++;
		}
		litn++;
		i++;
	}
	out->ops = ops;
	out->nops = nops;
	out->has_var = has_var;
	out->match_all = nops == 1 && ops[0].kind == DD__OP_STAR;
	return 0;
}

/* Reads a string-or-array-of-strings member into a NULL-free list of borrowed strings. */
static int string_list(struct cctx *c, const json_t *v, const char *field,
		       const char ***out, size_t *n)
{
	if (json_is_string(v)) {
		const char **l = arena_alloc(&c->arena, sizeof *l);
		if (!l)
			return nomem(c);
		l[0] = json_string_value(v);
		*out = l;
		*n = 1;
		return 0;
	}
	if (!json_is_array(v))
		return fail(c, "%s must be a string or an array of strings", field);
	size_t k = json_array_size(v);
	if (k == 0)
		return fail(c, "%s must not be empty", field);
	const char **l = arena_calloc(&c->arena, k, sizeof *l);
	if (!l)
		return nomem(c);
	for (size_t i = 0; i < k; i++) {
		const json_t *e = json_array_get(v, i);
		if (!json_is_string(e))
			return fail(c, "%s must be a string or an array of strings", field);
		l[i] = json_string_value(e);
	}
	*out = l;
	*n = k;
	return 0;
}

static bool valid_service(const char *s, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '-' || ch == '.'))
			return false;
	}
	return true;
}

static int compile_actions(struct cctx *c, const json_t *v, const char *field,
			   struct dd__policy_stmt *st)
{
	const char **l;
	size_t k;
	int rc = string_list(c, v, field, &l, &k);
	if (rc)
		return rc;
	struct dd__policy_act *acts = arena_calloc(&c->arena, k, sizeof *acts);
	if (!acts)
		return nomem(c);
	for (size_t i = 0; i < k; i++) {
		const char *a = l[i];
		size_t n = strlen(a);
		if (!(n == 1 && a[0] == '*')) {
			const char *colon = strchr(a, ':');
			if (!colon)
				return fail(c, "Action \"%.80s\" must be prefixed by a service, e.g. iot:Publish", a);
			if (!valid_service(a, (size_t)(colon - a)))
				return fail(c, "Action \"%.80s\": the service prefix must not contain wildcards", a);
			if (colon[1] == '\0')
				return fail(c, "Action \"%.80s\" names no action", a);
		}
		char *low = arena_strndup(&c->arena, a, n);
		acts[i].raw = arena_strndup(&c->arena, a, n);
		if (!low || !acts[i].raw)
			return nomem(c);
		for (size_t j = 0; j < n; j++)
			low[j] = (char)lc((unsigned char)low[j]);
		acts[i].lc = low;
		acts[i].len = (uint32_t)n;
		acts[i].glob = strpbrk(a, "*?") != NULL;
	}
	st->actions = acts;
	st->nactions = (uint32_t)k;
	return 0;
}

static int compile_resources(struct cctx *c, const json_t *v, const char *field,
			     struct dd__policy_stmt *st)
{
	const char **l;
	size_t k;
	int rc = string_list(c, v, field, &l, &k);
	if (rc)
		return rc;
	struct dd__policy_pat *pats = arena_calloc(&c->arena, k, sizeof *pats);
	if (!pats)
		return nomem(c);
	for (size_t i = 0; i < k; i++) {
		if (strcmp(l[i], "*") != 0 && strncmp(l[i], "arn:", 4) != 0)
			return fail(c, "%s \"%.80s\" must be in ARN format or \"*\"", field, l[i]);
		if ((rc = compile_pat(c, l[i], true, &pats[i])))
			return rc;
	}
	st->resources = pats;
	st->nresources = (uint32_t)k;
	return 0;
}

struct op_name {
	const char *name;
	uint8_t op;
	bool negate;
	bool ignore_case;
};

static const struct op_name cond_ops[] = {
	{ "StringEquals", DD__COND_STRING_EQUALS, false, false },
	{ "StringNotEquals", DD__COND_STRING_EQUALS, true, false },
	{ "StringEqualsIgnoreCase", DD__COND_STRING_EQUALS, false, true },
	{ "StringNotEqualsIgnoreCase", DD__COND_STRING_EQUALS, true, true },
	{ "StringLike", DD__COND_STRING_LIKE, false, false },
	{ "StringNotLike", DD__COND_STRING_LIKE, true, false },
	{ "StringLikeIgnoreCase", DD__COND_STRING_LIKE, false, true },
	{ "StringNotLikeIgnoreCase", DD__COND_STRING_LIKE, true, true },
	{ "NumericEquals", DD__COND_NUMERIC_EQ, false, false },
	{ "NumericNotEquals", DD__COND_NUMERIC_EQ, true, false },
	{ "NumericLessThan", DD__COND_NUMERIC_LT, false, false },
	{ "NumericLessThanEquals", DD__COND_NUMERIC_LE, false, false },
	{ "NumericGreaterThan", DD__COND_NUMERIC_GT, false, false },
	{ "NumericGreaterThanEquals", DD__COND_NUMERIC_GE, false, false },
	{ "Bool", DD__COND_BOOL, false, false },
	{ "IpAddress", DD__COND_IP, false, false },
	{ "NotIpAddress", DD__COND_IP, true, false },
	{ "ArnEquals", DD__COND_ARN_LIKE, false, false },
	{ "ArnLike", DD__COND_ARN_LIKE, false, false },
	{ "ArnNotEquals", DD__COND_ARN_LIKE, true, false },
	{ "ArnNotLike", DD__COND_ARN_LIKE, true, false },
	{ "Null", DD__COND_NULL, false, false },
	{ "DateEquals", DD__COND_DATE_EQ, false, false },
	{ "DateNotEquals", DD__COND_DATE_EQ, true, false },
	{ "DateLessThan", DD__COND_DATE_LT, false, false },
	{ "DateLessThanEquals", DD__COND_DATE_LE, false, false },
	{ "DateGreaterThan", DD__COND_DATE_GT, false, false },
	{ "DateGreaterThanEquals", DD__COND_DATE_GE, false, false },
	/* A known AWS operator this engine does not evaluate: the statement never applies. */
	{ "BinaryEquals", DD__COND_UNSUPPORTED, false, false },
};

/* Parses "[ForAllValues:|ForAnyValue:]Operator[IfExists]". */
static bool parse_cond_op(const char *s, struct dd__policy_cond *out)
{
	size_t n = strlen(s);
	out->set = 0;
	if (starts_ci(s, n, "ForAllValues:")) {
		out->set = 1;
		s += 13;
		n -= 13;
	} else if (starts_ci(s, n, "ForAnyValue:")) {
		out->set = 2;
		s += 12;
		n -= 12;
	}
	out->if_exists = false;
	if (n > 8 && strcmp(s + n - 8, "IfExists") == 0) {
		out->if_exists = true;
		n -= 8;
	}
	for (size_t i = 0; i < sizeof cond_ops / sizeof cond_ops[0]; i++) {
		if (strlen(cond_ops[i].name) == n && strncmp(cond_ops[i].name, s, n) == 0) {
			if (out->if_exists && cond_ops[i].op == DD__COND_NULL)
				return false; /* NullIfExists does not exist */
			out->op = cond_ops[i].op;
			out->negate = cond_ops[i].negate;
			out->ignore_case = cond_ops[i].ignore_case;
			return true;
		}
	}
	return false;
}

/* Converts a scalar JSON condition value to text in the arena. */
static const char *scalar_text(struct cctx *c, const json_t *v)
{
	char buf[64];
	if (json_is_string(v))
		return json_string_value(v);
	if (json_is_true(v))
		return "true";
	if (json_is_false(v))
		return "false";
	if (json_is_integer(v))
		snprintf(buf, sizeof buf, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	else if (json_is_real(v))
		snprintf(buf, sizeof buf, "%.17g", json_real_value(v));
	else
		return NULL;
	return arena_strndup(&c->arena, buf, strlen(buf));
}

static int compile_conditions(struct cctx *c, const json_t *v, struct dd__policy_stmt *st)
{
	if (!json_is_object(v))
		return fail(c, "Condition must be an object");
	size_t count = 0;
	const char *opname;
	const json_t *block;
	json_object_foreach((json_t *)v, opname, block) {
		if (!json_is_object(block) || json_object_size(block) == 0)
			return fail(c, "Condition operator %.64s must map to a non-empty object", opname);
		count += json_object_size(block);
	}
	struct dd__policy_cond *conds = arena_calloc(&c->arena, count ? count : 1, sizeof *conds);
	if (!conds)
		return nomem(c);
	size_t k = 0;
	json_object_foreach((json_t *)v, opname, block) {
		struct dd__policy_cond proto;
		memset(&proto, 0, sizeof proto);
		if (!parse_cond_op(opname, &proto))
			return fail(c, "Unknown condition operator %.64s", opname);
		const char *key;
		const json_t *val;
		json_object_foreach((json_t *)block, key, val) {
			struct dd__policy_cond *cd = &conds[k++];
			*cd = proto;
			size_t kn = strlen(key);
			if (kn == 0 || !strchr(key, ':'))
				return fail(c, "Condition key \"%.64s\" must be prefixed by a service, e.g. iot:ClientId", key);
			cd->key = arena_strndup(&c->arena, key, kn);
			if (!cd->key)
				return nomem(c);
			const char *name;
			size_t namelen;
			classify_key(cd->key, kn, &cd->key_var, &name, &namelen);
			cd->key_name = name;
			cd->key_name_len = (uint32_t)namelen;
			size_t nv = json_is_array(val) ? json_array_size(val) : 1;
			if (nv == 0)
				return fail(c, "Condition %.64s on %.64s has no value", opname, key);
			struct dd__policy_pat *pats = arena_calloc(&c->arena, nv, sizeof *pats);
			if (!pats)
				return nomem(c);
			if (cd->op == DD__COND_IP)
				cd->cidrs = arena_calloc(&c->arena, nv, sizeof *cd->cidrs);
			double *nums = NULL;
			const bool numeric = cd->op >= DD__COND_NUMERIC_EQ && cd->op <= DD__COND_NUMERIC_GE;
			const bool date = cd->op >= DD__COND_DATE_EQ && cd->op <= DD__COND_DATE_GE;
			if (numeric || date)
				cd->numbers = nums = arena_calloc(&c->arena, nv, sizeof *nums);
			if ((cd->op == DD__COND_IP && !cd->cidrs) || ((numeric || date) && !nums))
				return nomem(c);
			for (size_t j = 0; j < nv; j++) {
				const json_t *e = json_is_array(val) ? json_array_get(val, j) : val;
				const char *t = scalar_text(c, e);
				if (!t)
					return fail(c, "Condition %.64s on %.64s: values must be strings, numbers or booleans", opname, key);
				bool glob = cd->op == DD__COND_STRING_LIKE || cd->op == DD__COND_ARN_LIKE;
				int rc = compile_pat(c, t, glob, &pats[j]);
				if (rc)
					return rc;
				if (cd->op == DD__COND_IP) {
					struct dd__policy_cidr *cidr = (struct dd__policy_cidr *)&cd->cidrs[j];
					if (!parse_ip(t, cidr, true))
						return fail(c, "Condition %.64s on %.64s: \"%.64s\" is not an IP address or CIDR block", opname, key, t);
				} else if (numeric && !parse_number(t, &nums[j])) {
					return fail(c, "Condition %.64s on %.64s: \"%.64s\" is not a number", opname, key, t);
				} else if (date && !parse_date(t, &nums[j])) {
					return fail(c, "Condition %.64s on %.64s: \"%.64s\" is not a date (ISO 8601, e.g. 2026-01-31T12:00:00Z, or seconds since the epoch)", opname, key, t);
				} else if (cd->op == DD__COND_BOOL || cd->op == DD__COND_NULL) {
					if (strcasecmp(t, "true") && strcasecmp(t, "false"))
						return fail(c, "Condition %.64s on %.64s: \"%.64s\" is not true or false", opname, key, t);
				}
			}
			cd->values = pats;
			cd->nvalues = (uint32_t)nv;
			if (cd->op == DD__COND_UNSUPPORTED)
				st->unsupported = true;
			if (cd->op == DD__COND_BOOL && cd->key_var == DD__VAR_IS_ATTACHED &&
			    !cd->negate && cd->set == 0 && !cd->if_exists && nv == 1 &&
			    strcasecmp(pats[0].raw, "true") == 0)
				st->is_attached_true = true;
		}
	}
	st->conds = conds;
	st->nconds = (uint32_t)k;
	return 0;
}

static bool sid_ok(const char *s)
{
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9')))
			return false;
	}
	return true;
}

static int compile_stmt(struct cctx *c, const json_t *js, struct dd__policy_stmt *st)
{
	if (!json_is_object(js))
		return fail(c, "must be an object");
	const json_t *sid = json_object_get(js, "Sid");
	if (sid) {
		if (!json_is_string(sid))
			return fail(c, "Sid must be a string");
		st->sid = arena_strndup(&c->arena, json_string_value(sid), strlen(json_string_value(sid)));
		if (!st->sid)
			return nomem(c);
		c->sid = st->sid;
		if (c->dialect == DD_POLICY_IAM && !sid_ok(st->sid))
			return fail(c, "Sid must contain only letters and digits");
	}
	const char *key;
	const json_t *val;
	json_object_foreach((json_t *)js, key, val) {
		static const char *const known[] = { "Sid", "Effect", "Action", "NotAction",
						     "Resource", "NotResource", "Condition" };
		bool ok = false;
		for (size_t i = 0; i < sizeof known / sizeof known[0] && !ok; i++)
			ok = strcmp(key, known[i]) == 0;
		if (!ok && (strcmp(key, "Principal") == 0 || strcmp(key, "NotPrincipal") == 0))
			return fail(c, "Policy document should not specify a principal.");
		if (!ok)
			return fail(c, "unknown field \"%.64s\"", key);
	}
	const json_t *eff = json_object_get(js, "Effect");
	if (!eff)
		return fail(c, "missing required field Effect");
	if (!json_is_string(eff) ||
	    (strcmp(json_string_value(eff), "Allow") && strcmp(json_string_value(eff), "Deny")))
		return fail(c, "Effect must be \"Allow\" or \"Deny\"");
	st->deny = strcmp(json_string_value(eff), "Deny") == 0;

	const json_t *a = json_object_get(js, "Action"), *na = json_object_get(js, "NotAction");
	if (a && na)
		return fail(c, "must not contain both Action and NotAction");
	if (!a && !na)
		return fail(c, "missing required field Action");
	st->not_action = na != NULL;
	int rc = compile_actions(c, a ? a : na, a ? "Action" : "NotAction", st);
	if (rc)
		return rc;

	const json_t *r = json_object_get(js, "Resource"), *nr = json_object_get(js, "NotResource");
	if (r && nr)
		return fail(c, "must not contain both Resource and NotResource");
	if (!r && !nr)
		return fail(c, "missing required field Resource");
	st->not_resource = nr != NULL;
	if ((rc = compile_resources(c, r ? r : nr, r ? "Resource" : "NotResource", st)))
		return rc;

	const json_t *cond = json_object_get(js, "Condition");
	if (cond && (rc = compile_conditions(c, cond, st)))
		return rc;
	return 0;
}

int dd_policy_compile_json(const json_t *doc, enum dd_policy_dialect dialect,
			   struct dd_policy **out, char *errmsg, size_t errsz)
{
	if (errmsg && errsz)
		errmsg[0] = '\0';
	if (!out || (dialect != DD_POLICY_IOT && dialect != DD_POLICY_IAM)) {
		seterr(errmsg, errsz, "invalid arguments");
		return DD_EINVAL;
	}
	struct cctx c = { .dialect = dialect, .err = errmsg, .errsz = errsz };
	struct dd_policy *pol = arena_calloc(&c.arena, 1, sizeof *pol);
	if (!pol)
		return nomem(&c);
	pol->dialect = dialect;
	if (!json_is_object(doc)) {
		fail(&c, "Policy document must be a JSON object");
		goto out;
	}
	const char *key;
	const json_t *val;
	json_object_foreach((json_t *)doc, key, val) {
		if (strcmp(key, "Version") && strcmp(key, "Statement") && strcmp(key, "Id")) {
			fail(&c, "Unknown field \"%.64s\" in policy document", key);
			goto out;
		}
	}
	const json_t *ver = json_object_get(doc, "Version");
	if (ver) {
		const char *vs = json_is_string(ver) ? json_string_value(ver) : NULL;
		if (!vs || (strcmp(vs, "2012-10-17") && strcmp(vs, "2008-10-17"))) {
			fail(&c, "Version must be \"2012-10-17\" or \"2008-10-17\"");
			goto out;
		}
		c.vars = strcmp(vs, "2012-10-17") == 0;
	}
	const json_t *id = json_object_get(doc, "Id");
	if (id && !json_is_string(id)) {
		fail(&c, "Id must be a string");
		goto out;
	}
	pol->vars = c.vars;
	const json_t *stl = json_object_get(doc, "Statement");
	if (!stl) {
		fail(&c, "Missing required field Statement");
		goto out;
	}
	size_t ns = json_is_array(stl) ? json_array_size(stl) : 1;
	if (!json_is_array(stl) && !json_is_object(stl)) {
		fail(&c, "Statement must be an object or an array of objects");
		goto out;
	}
	if (ns == 0) {
		fail(&c, "Statement must not be empty");
		goto out;
	}
	if (ns > UINT32_MAX) {
		fail(&c, "too many statements");
		goto out;
	}
	struct dd__policy_stmt *stmts = arena_calloc(&c.arena, ns, sizeof *stmts);
	if (!stmts) {
		nomem(&c);
		goto out;
	}
	for (size_t i = 0; i < ns; i++) {
		c.stmt_index = i + 1;
		c.sid = NULL;
		const json_t *js = json_is_array(stl) ? json_array_get(stl, i) : stl;
		if (compile_stmt(&c, js, &stmts[i]))
			goto out;
		if (stmts[i].sid && stmts[i].sid[0]) {
			for (size_t j = 0; j < i; j++) {
				if (stmts[j].sid && strcmp(stmts[j].sid, stmts[i].sid) == 0) {
					fail(&c, "Statement IDs (SID) in a single policy must be unique");
					goto out;
				}
			}
		}
		if (stmts[i].unsupported)
			pol->nunsupported++;
	}
	pol->stmts = stmts;
	pol->nstmts = (uint32_t)ns;
	pol->arena = c.arena;
	*out = pol;
	return 0;
out:
	arena_free(c.arena);
	return c.rc ? c.rc : DD_EINVAL;
}

int dd_policy_compile(const char *text, size_t len, enum dd_policy_dialect dialect,
		      struct dd_policy **out, char *errmsg, size_t errsz)
{
	if (errmsg && errsz)
		errmsg[0] = '\0';
	if (!text || !out) {
		seterr(errmsg, errsz, "invalid arguments");
		return DD_EINVAL;
	}
	json_error_t jerr;
	json_t *doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!doc) {
		seterr(errmsg, errsz, "Syntax error at line %d column %d: %.120s", jerr.line,
		       jerr.column, jerr.text);
		return json_error_code(&jerr) == json_error_out_of_memory ? DD_ENOMEM : DD_EINVAL;
	}
	int rc = dd_policy_compile_json(doc, dialect, out, errmsg, errsz);
	json_decref(doc);
	return rc;
}

int dd_policy_validate(const char *text, size_t len, enum dd_policy_dialect dialect,
		       char *errmsg, size_t errsz)
{
	struct dd_policy *p = NULL;
	int rc = dd_policy_compile(text, len, dialect, &p, errmsg, errsz);
	if (rc)
		return rc;
	dd_policy_free(p);
	if (dialect == DD_POLICY_IOT) {
		size_t nc = dd_policy_count_nonws(text, len);
		if (nc > DD_POLICY_IOT_MAX_CHARS) {
			seterr(errmsg, errsz,
			       "Policy document is %zu characters long (excluding whitespace); the limit is %d",
			       nc, DD_POLICY_IOT_MAX_CHARS);
			return DD_ELIMIT;
		}
	}
	return 0;
}

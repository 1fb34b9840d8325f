/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The IoT SQL of topic rules, checked for syntax only (no rule is evaluated): a SELECT
 * list, FROM a quoted MQTT topic filter, an optional WHERE; expressions with operators,
 * functions, nested fields, object and array literals, CASE and nested SELECT VALUE. A
 * problem is reported as "Line L:C <problem> near '<text>'" (the message AWS's
 * SqlParseException carries). Also the MQTT topic-filter match ListTopicRules filters by.
 */
#include "core/registry/dd_rule_sql.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

enum tok { T_END, T_IDENT, T_NUM, T_STR, T_PUNCT, T_ERR };

struct sqlp {
	const char *s, *p;
	enum tok t;
	const char *ts;   /* token start */
	size_t tl;        /* token length */
	int depth;
	bool failed;
	char *err;
	size_t errlen;
};

static void sfail(struct sqlp *q, const char *fmt, ...) DD_PRINTF(2, 3);
static void sfail(struct sqlp *q, const char *fmt, ...)
{
	if (q->failed)
		return;
	q->failed = true;
	char msg[200];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	int line = 1, col = 0;
	for (const char *x = q->s; x < q->ts; x++) {
		if (*x == '\n') {
			line++;
			col = 0;
		} else {
			col++;
		}
	}
	snprintf(q->err, q->errlen, "Line %d:%d %s near '%.*s'", line, col, msg, (int)(q->tl > 40 ? 40 : q->tl), q->ts);
}

static void next(struct sqlp *q)
{
	while (*q->p && isspace((unsigned char)*q->p))
		q->p++;
	q->ts = q->p;
	q->tl = 0;
	char ch = *q->p;
	if (!ch) {
		q->t = T_END;
		return;
	}
	if (isalpha((unsigned char)ch) || ch == '_' || ch == '$') {
		while (isalnum((unsigned char)*q->p) || *q->p == '_' || *q->p == '$')
			q->p++;
		q->t = T_IDENT;
	} else if (ch == '`') {
		/* a quoted identifier */
		q->p++;
		while (*q->p && *q->p != '`')
			q->p++;
		if (!*q->p) {
			q->t = T_ERR;
			q->tl = (size_t)(q->p - q->ts);
			sfail(q, "unterminated quoted identifier");
			return;
		}
		q->p++;
		q->t = T_IDENT;
	} else if (isdigit((unsigned char)ch) || (ch == '.' && isdigit((unsigned char)q->p[1]))) {
		while (isdigit((unsigned char)*q->p) || *q->p == '.')
			q->p++;
		if (*q->p == 'e' || *q->p == 'E') {
			q->p++;
			if (*q->p == '+' || *q->p == '-')
				q->p++;
			while (isdigit((unsigned char)*q->p))
				q->p++;
		}
		q->t = T_NUM;
	} else if (ch == '\'' || ch == '"') {
		q->p++;
		while (*q->p && *q->p != ch) {
			if (*q->p == '\\' && q->p[1])
				q->p++;
			q->p++;
		}
		if (!*q->p) {
			q->t = T_ERR;
			q->tl = (size_t)(q->p - q->ts);
			sfail(q, "unterminated string");
			return;
		}
		q->p++;
		q->t = T_STR;
	} else {
		static const char *const two[] = { "<>", "!=", "<=", ">=", "||" };
		q->t = T_PUNCT;
		for (size_t i = 0; i < sizeof two / sizeof two[0]; i++) {
			if (strncmp(q->p, two[i], 2) == 0) {
				q->p += 2;
				q->tl = 2;
				return;
			}
		}
		if (!strchr("()[]{},.:*/%+-=<>", ch)) {
			q->t = T_ERR;
			q->tl = 1;
			sfail(q, "unexpected character");
			return;
		}
		q->p++;
	}
	q->tl = (size_t)(q->p - q->ts);
}

static bool is_kw(struct sqlp *q, const char *kw)
{
	return q->t == T_IDENT && strlen(kw) == q->tl && strncasecmp(q->ts, kw, q->tl) == 0;
}

static bool is_p(struct sqlp *q, const char *p)
{
	return q->t == T_PUNCT && strlen(p) == q->tl && strncmp(q->ts, p, q->tl) == 0;
}

static bool accept_kw(struct sqlp *q, const char *kw)
{
	if (!is_kw(q, kw))
		return false;
	next(q);
	return true;
}

static bool accept_p(struct sqlp *q, const char *p)
{
	if (!is_p(q, p))
		return false;
	next(q);
	return true;
}

static void expect_p(struct sqlp *q, const char *p)
{
	if (!accept_p(q, p))
		sfail(q, "expected '%s'", p);
}

static const char *const reserved[] = { "SELECT", "FROM", "WHERE", "AND", "OR", "NOT", "AS", "CASE", "WHEN",
					"THEN", "ELSE", "END", "IS", "VALUE" };

static bool reserved_word(struct sqlp *q)
{
	for (size_t i = 0; i < sizeof reserved / sizeof reserved[0]; i++)
		if (is_kw(q, reserved[i]))
			return true;
	return false;
}

static void expr(struct sqlp *q);
static void select_body(struct sqlp *q, bool nested);

static void primary(struct sqlp *q)
{
	if (q->failed)
		return;
	if (++q->depth > 64) {
		sfail(q, "expression nested too deeply");
		return;
	}
	if (q->t == T_NUM || q->t == T_STR || is_kw(q, "TRUE") || is_kw(q, "FALSE") || is_kw(q, "NULL") ||
	    is_kw(q, "UNDEFINED")) {
		next(q);
	} else if (accept_p(q, "(")) {
		if (is_kw(q, "SELECT"))
			select_body(q, true);
		else
			expr(q);
		expect_p(q, ")");
	} else if (accept_p(q, "{")) {
		if (!is_p(q, "}")) {
			do {
				if (q->t != T_STR && q->t != T_IDENT) {
					sfail(q, "expected an object key");
					break;
				}
				next(q);
				expect_p(q, ":");
				expr(q);
			} while (!q->failed && accept_p(q, ","));
		}
		expect_p(q, "}");
	} else if (accept_p(q, "[")) {
		if (!is_p(q, "]")) {
			do
				expr(q);
			while (!q->failed && accept_p(q, ","));
		}
		expect_p(q, "]");
	} else if (accept_kw(q, "CASE")) {
		if (!is_kw(q, "WHEN"))
			expr(q);
		int whens = 0;
		while (!q->failed && accept_kw(q, "WHEN")) {
			expr(q);
			if (!accept_kw(q, "THEN"))
				sfail(q, "expected THEN");
			expr(q);
			whens++;
		}
		if (!whens)
			sfail(q, "expected WHEN");
		if (accept_kw(q, "ELSE"))
			expr(q);
		if (!accept_kw(q, "END"))
			sfail(q, "expected END");
	} else if (q->t == T_IDENT && !reserved_word(q)) {
		next(q);
		if (accept_p(q, "(")) {
			if (!is_p(q, ")")) {
				do {
					if (!accept_p(q, "*"))
						expr(q);
					/* cast(value AS type) */
					if (!q->failed && accept_kw(q, "AS")) {
						if (q->t != T_IDENT)
							sfail(q, "expected a type after AS");
						else
							next(q);
					}
				} while (!q->failed && accept_p(q, ","));
			}
			expect_p(q, ")");
		}
	} else {
		sfail(q, "expected an expression");
	}
	/* postfix: .field, .*, [index] */
	for (;;) {
		if (q->failed)
			break;
		if (accept_p(q, ".")) {
			if (accept_p(q, "*"))
				break;
			if (q->t != T_IDENT) {
				sfail(q, "expected a field name");
				break;
			}
			next(q);
		} else if (accept_p(q, "[")) {
			expr(q);
			expect_p(q, "]");
		} else {
			break;
		}
	}
	q->depth--;
}

static void unary(struct sqlp *q)
{
	if (accept_p(q, "-") || accept_p(q, "+")) {
		if (++q->depth > 64) {
			sfail(q, "expression nested too deeply");
			return;
		}
		unary(q);
		q->depth--;
		return;
	}
	primary(q);
}

static void binary_level(struct sqlp *q, int level);

static void not_level(struct sqlp *q)
{
	if (accept_kw(q, "NOT")) {
		if (++q->depth > 64) {
			sfail(q, "expression nested too deeply");
			return;
		}
		not_level(q);
		q->depth--;
		return;
	}
	binary_level(q, 2);
}

/* levels: 0 OR, 1 AND, (NOT), 2 comparison, 3 additive, 4 multiplicative */
static void binary_level(struct sqlp *q, int level)
{
	if (q->failed)
		return;
	if (level == 5) {
		unary(q);
		return;
	}
	if (level == 0 || level == 1) {
		if (level == 1)
			not_level(q);
		else
			binary_level(q, 1);
		while (!q->failed && accept_kw(q, level == 0 ? "OR" : "AND")) {
			if (level == 1)
				not_level(q);
			else
				binary_level(q, 1);
		}
		return;
	}
	binary_level(q, level + 1);
	for (;;) {
		if (q->failed)
			return;
		bool op = false;
		if (level == 2) {
			if (accept_kw(q, "IS")) {
				accept_kw(q, "NOT");
				if (!accept_kw(q, "NULL") && !accept_kw(q, "UNDEFINED"))
					sfail(q, "expected NULL or UNDEFINED after IS");
				continue;
			}
			op = accept_p(q, "=") || accept_p(q, "<>") || accept_p(q, "!=") || accept_p(q, "<") ||
			     accept_p(q, "<=") || accept_p(q, ">") || accept_p(q, ">=");
		} else if (level == 3) {
			op = accept_p(q, "+") || accept_p(q, "-") || accept_p(q, "||");
		} else {
			op = accept_p(q, "*") || accept_p(q, "/") || accept_p(q, "%");
		}
		if (!op)
			return;
		binary_level(q, level + 1);
	}
}

static void expr(struct sqlp *q) { binary_level(q, 0); }

/* a quoted MQTT topic filter: levels split by '/', '+' a whole level, '#' only the last */
static void topic_filter(struct sqlp *q, char *topic, size_t topiclen)
{
	if (q->t != T_STR) {
		sfail(q, "expected a quoted topic filter after FROM");
		return;
	}
	size_t n = q->tl - 2;
	if (n == 0 || n >= topiclen) {
		sfail(q, "the topic filter must have 1 to %zu characters", topiclen - 1);
		return;
	}
	memcpy(topic, q->ts + 1, n);
	topic[n] = '\0';
	for (size_t i = 0; i < n; i++) {
		bool start = i == 0 || topic[i - 1] == '/', end = i + 1 == n || topic[i + 1] == '/';
		if (topic[i] == '+' && !(start && end)) {
			sfail(q, "'+' must be a whole level of the topic filter");
			return;
		}
		if (topic[i] == '#' && !(start && i + 1 == n)) {
			sfail(q, "'#' must be the last level of the topic filter");
			return;
		}
	}
	next(q);
}

static void select_body(struct sqlp *q, bool nested)
{
	if (!accept_kw(q, "SELECT")) {
		sfail(q, "expected SELECT");
		return;
	}
	if (accept_kw(q, "VALUE")) {
		expr(q);
	} else {
		do {
			if (accept_p(q, "*"))
				continue;
			expr(q);
			if (accept_kw(q, "AS")) {
				if (q->t != T_IDENT || reserved_word(q))
					sfail(q, "expected a name after AS");
				else
					next(q);
			} else if (q->t == T_IDENT && !reserved_word(q)) {
				next(q); /* alias without AS */
			}
		} while (!q->failed && accept_p(q, ","));
	}
	if (!accept_kw(q, "FROM")) {
		sfail(q, "expected FROM");
		return;
	}
	if (nested) {
		expr(q);
		if (accept_kw(q, "WHERE"))
			expr(q);
	}
}

int dd_rule_sql_check(const char *sql, char *topic, size_t topiclen, char *err, size_t errlen)
{
	struct sqlp q = { .s = sql, .p = sql, .err = err, .errlen = errlen };
	next(&q);
	select_body(&q, false);
	if (!q.failed)
		topic_filter(&q, topic, topiclen);
	if (!q.failed && accept_kw(&q, "WHERE"))
		expr(&q);
	if (!q.failed && q.t != T_END)
		sfail(&q, "unexpected text");
	return q.failed ? DD_EINVAL : 0;
}


bool dd_rule_sql_topic_matches(const char *filter, const char *topic)
{
	for (;;) {
		size_t fl = strcspn(filter, "/"), tl = strcspn(topic, "/");
		if (fl == 1 && filter[0] == '#')
			return true;
		if (!(fl == 1 && filter[0] == '+') && (fl != tl || strncmp(filter, topic, fl) != 0))
			return false;
		filter += fl;
		topic += tl;
		if (!*filter || !*topic) {
			if (!*filter && !*topic)
				return true;
			/* "a/#" matches "a" */
			return !*topic && strcmp(filter, "/#") == 0;
		}
		filter++;
		topic++;
	}
}

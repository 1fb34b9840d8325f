/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Topic rules and domain configurations, kept as STORED STATE ONLY: a rule's SQL is checked
 * syntactically (SELECT list, FROM a quoted MQTT topic filter, optional WHERE; expressions
 * with operators, functions, nested fields, object and array literals, CASE and nested
 * SELECT VALUE), refused with SqlParseException naming the line and column, and its actions
 * are stored as given; no broker evaluates rules and no action runs. A missing rule answers
 * UnauthorizedException, the error AWS gives (the model declares no ResourceNotFound for
 * rules). Domain configurations keep their settings and status; no endpoint serves them.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/dd_registry_int.h"
#include "core/dd_registry_handlers.h"
#include "dd/buf.h"

/* ---- IoT SQL syntax ---------------------------------------------------------------- */

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

/* Checks rule SQL; the FROM topic filter into topic. Returns 0 or DD_EINVAL with err. */
static int sql_check(const char *sql, char *topic, size_t topiclen, char *err, size_t errlen)
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

int dd__rule_sql_check(const char *sql, char *topic, size_t topiclen, char *err, size_t errlen)
{
	return sql_check(sql, topic, topiclen, err, errlen);
}

/* does the MQTT topic filter match topic? */
static bool topic_matches(const char *filter, const char *topic)
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

/* ---- topic rules ------------------------------------------------------------------- */

#define DD_MAX_TOPIC 512

static int rule_missing(struct dd_ctx *c, const char *name)
{
	return dd_fail(c, DD_EDENIED, "UnauthorizedException", "Topic rule %s does not exist or you are not authorized to access it.",
		       name);
}

/* Checks a TopicRulePayload: the SQL (into topic) and one action kind per action. */
static int payload_check(struct dd_ctx *c, json_t *payload, char *topic, size_t topiclen)
{
	char err[400];
	const char *sql = dd__str(payload, "sql");
	if (!sql || sql_check(sql, topic, topiclen, err, sizeof err))
		return dd_fail(c, DD_EINVAL, "SqlParseException", "%s", sql ? err : "topicRulePayload.sql is required");
	const char *ver = dd__str(payload, "awsIotSqlVersion");
	if (ver && strcmp(ver, "2015-10-08") && strcmp(ver, "2016-03-23") && strcmp(ver, "beta"))
		return dd_fail(c, DD_EINVAL, "InvalidRequestException",
			       "topicRulePayload.awsIotSqlVersion must be 2015-10-08, 2016-03-23 or beta, not %.64s", ver);
	json_t *actions = json_object_get(payload, "actions");
	size_t i;
	json_t *a;
	json_array_foreach(actions, i, a) {
		if (json_object_size(a) != 1)
			return dd_fail(c, DD_EINVAL, "InvalidRequestException",
				       "topicRulePayload.actions[%zu] must name exactly one action.", i);
	}
	json_t *ea = json_object_get(payload, "errorAction");
	if (ea && json_object_size(ea) != 1)
		return dd_fail(c, DD_EINVAL, "InvalidRequestException", "topicRulePayload.errorAction must name exactly one action.");
	return 0;
}

/* tags from the x-amz-tagging header, "k1=v1&k2=v2", as [{Key, Value}] (new reference) */
static json_t *tagging(struct dd_ctx *c, const char *h)
{
	json_t *tags = json_array();
	while (h && *h) {
		size_t n = strcspn(h, "&");
		const char *eq = memchr(h, '=', n);
		size_t kl = eq ? (size_t)(eq - h) : n;
		char *k = dd_uri_decode(h, kl, true);
		char *v = eq ? dd_uri_decode(eq + 1, n - kl - 1, true) : strdup("");
		if (!k || !v || !*k || strlen(k) > 128 || strlen(v) > 256 || json_array_size(tags) >= 50) {
			free(k);
			free(v);
			json_decref(tags);
			dd_fail(c, DD_EINVAL, "InvalidRequestException", "tags must be key=value pairs joined by '&' (keys of 1 to 128, values of at most 256 characters, at most 50 tags).");
			return NULL;
		}
		json_array_append_new(tags, json_pack("{s:s, s:s}", "Key", k, "Value", v));
		free(k);
		free(v);
		h += n;
		if (*h == '&')
			h++;
	}
	return tags;
}

static int delete_tags(struct dd_ctx *c, const char *arn)
{
	sqlite3_stmt *st = dd_db_stmt(c->db, "DELETE FROM tags WHERE account_region = ?1 AND resource_arn = ?2");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, c->account_region);
	dd_bind_text(st, 2, arn);
	return dd_step_done(st);
}

static char *opt_dump(json_t *j) { return j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) : NULL; }

int dd_iot_create_topic_rule(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *name = dd__str(in, "ruleName");
	json_t *payload = json_object_get(in, "topicRulePayload");
	char topic[DD_MAX_TOPIC], arn[700];
	*out = NULL;
	if (payload_check(c, payload, topic, sizeof topic))
		return c->err;
	json_t *tags = tagging(c, dd__str(in, "tags"));
	if (!tags)
		return c->err;
	dd__arn_buf(c, arn, sizeof arn, "rule/%s", name);
	char *actions = opt_dump(json_object_get(payload, "actions"));
	char *error_action = opt_dump(json_object_get(payload, "errorAction"));
	int rc = 0;
	if (dd_db_begin_write(c->db)) {
		rc = dd__db_fail(c);
		goto out;
	}
	sqlite3_stmt *st = dd_db_stmt(c->db, "INSERT OR IGNORE INTO topic_rules(account_region, name, sql, topic, description,"
					     " actions, error_action, disabled, sql_version, created) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)");
	if (!st) {
		rc = dd__db_fail(c);
		goto out;
	}
	dd_bind_text(st, 1, c->account_region);
	dd_bind_text(st, 2, name);
	dd_bind_text(st, 3, dd__str(payload, "sql"));
	dd_bind_text(st, 4, topic);
	dd_bind_text(st, 5, dd__str(payload, "description"));
	dd_bind_text(st, 6, actions ? actions : "[]");
	dd_bind_text(st, 7, error_action);
	dd_bind_int64(st, 8, dd__bool(payload, "ruleDisabled", false));
	dd_bind_text(st, 9, dd__str(payload, "awsIotSqlVersion"));
	dd_bind_int64(st, 10, c->now_ms);
	if (dd_step_done(st)) {
		rc = dd__db_fail(c);
		goto out;
	}
	if (sqlite3_changes(dd_db_handle(c->db)) == 0) {
		dd_db_rollback(c->db);
		rc = dd_fail_exists(c, name, arn, "Topic rule %s already exists.", name);
		goto out;
	}
	if (dd__tags_put(c, arn, tags) || dd_db_commit(c->db))
		rc = dd__db_fail(c);
out:
	json_decref(tags);
	free(actions);
	free(error_action);
	return rc;
}

int dd_iot_get_topic_rule(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *name = dd__str(in, "ruleName");
	sqlite3_stmt *st = dd_db_stmt(c->db, "SELECT sql, description, actions, error_action, disabled, sql_version, created"
					     " FROM topic_rules WHERE account_region = ?1 AND name = ?2");
	if (!st)
		return dd__db_fail(c);
	dd_bind_text(st, 1, c->account_region);
	dd_bind_text(st, 2, name);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_reset(st);
		return rule_missing(c, name);
	}
	json_t *actions = json_loads(dd_col_text(st, 2), 0, NULL);
	json_t *rule = json_pack("{s:s, s:s, s:o, s:o, s:b}", "ruleName", name, "sql", dd_col_text(st, 0), "createdAt",
				 dd_json_time(sqlite3_column_int64(st, 6)), "actions", actions ? actions : json_array(),
				 "ruleDisabled", sqlite3_column_int(st, 4) != 0);
	if (sqlite3_column_type(st, 1) != SQLITE_NULL)
		json_object_set_new(rule, "description", json_string(dd_col_text(st, 1)));
	if (sqlite3_column_type(st, 3) != SQLITE_NULL) {
		json_t *ea = json_loads(dd_col_text(st, 3), 0, NULL);
		if (ea)
			json_object_set_new(rule, "errorAction", ea);
	}
	if (sqlite3_column_type(st, 5) != SQLITE_NULL)
		json_object_set_new(rule, "awsIotSqlVersion", json_string(dd_col_text(st, 5)));
	sqlite3_reset(st);
	*out = json_pack("{s:o, s:o}", "ruleArn", dd__arn(c, "rule/%s", name), "rule", rule);
	return 0;
}

int dd_iot_list_topic_rules(struct dd_ctx *c, json_t *in, json_t **out)
{
	char after[512];
	int size;
	if (dd__page(c, in, "nextToken", "maxResults", 1000, 10000, after, sizeof after, &size))
		return c->err;
	const char *topic = dd__str(in, "topic");
	json_t *dis = json_object_get(in, "ruleDisabled");
	sqlite3_stmt *st = dd_db_stmt(c->db, "SELECT name, topic, created, disabled FROM topic_rules WHERE account_region = ?1"
					     " AND name > ?2 AND (?3 IS NULL OR disabled = ?3) ORDER BY name");
	if (!st)
		return dd__db_fail(c);
	dd_bind_text(st, 1, c->account_region);
	dd_bind_text(st, 2, after);
	if (json_is_boolean(dis))
		dd_bind_int64(st, 3, json_is_true(dis));
	/* the topic filter is applied here (a rule is listed for a topic its filter equals or
	 * matches), so the page is filled from the filtered rows */
	json_t *arr = json_array();
	char last[256] = "";
	bool more = false;
	int n = 0, rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *nm = dd_col_text(st, 0), *tp = dd_col_text(st, 1);
		if (topic && strcmp(topic, tp) != 0 && !topic_matches(tp, topic))
			continue;
		if (n == size) {
			more = true;
			break;
		}
		json_array_append_new(arr, json_pack("{s:o, s:s, s:s, s:o, s:b}", "ruleArn", dd__arn(c, "rule/%s", nm),
						     "ruleName", nm, "topicPattern", tp, "createdAt",
						     dd_json_time(sqlite3_column_int64(st, 2)), "ruleDisabled",
						     sqlite3_column_int(st, 3) != 0));
		snprintf(last, sizeof last, "%s", nm);
		n++;
	}
	sqlite3_reset(st);
	if (!more && rc != SQLITE_DONE) {
		json_decref(arr);
		return dd__db_fail(c);
	}
	*out = json_pack("{s:o}", "rules", arr);
	dd__page_next(*out, "nextToken", more, last);
	return 0;
}

int dd_iot_replace_topic_rule(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *name = dd__str(in, "ruleName");
	json_t *payload = json_object_get(in, "topicRulePayload");
	char topic[DD_MAX_TOPIC];
	*out = NULL;
	if (payload_check(c, payload, topic, sizeof topic))
		return c->err;
	char *actions = opt_dump(json_object_get(payload, "actions"));
	char *error_action = opt_dump(json_object_get(payload, "errorAction"));
	int rc = 0;
	if (dd_db_begin_write(c->db)) {
		rc = dd__db_fail(c);
		goto out;
	}
	/* the whole payload replaces the rule (ruleDisabled too); the creation date stays */
	sqlite3_stmt *st = dd_db_stmt(c->db, "UPDATE topic_rules SET sql = ?3, topic = ?4, description = ?5, actions = ?6,"
					     " error_action = ?7, disabled = ?8, sql_version = ?9 WHERE account_region = ?1 AND name = ?2");
	if (!st) {
		rc = dd__db_fail(c);
		goto out;
	}
	dd_bind_text(st, 1, c->account_region);
	dd_bind_text(st, 2, name);
	dd_bind_text(st, 3, dd__str(payload, "sql"));
	dd_bind_text(st, 4, topic);
	dd_bind_text(st, 5, dd__str(payload, "description"));
	dd_bind_text(st, 6, actions ? actions : "[]");
	dd_bind_text(st, 7, error_action);
	dd_bind_int64(st, 8, dd__bool(payload, "ruleDisabled", false));
	dd_bind_text(st, 9, dd__str(payload, "awsIotSqlVersion"));
	if (dd_step_done(st)) {
		rc = dd__db_fail(c);
		goto out;
	}
	if (sqlite3_changes(dd_db_handle(c->db)) == 0) {
		dd_db_rollback(c->db);
		rc = rule_missing(c, name);
		goto out;
	}
	if (dd_db_commit(c->db))
		rc = dd__db_fail(c);
out:
	free(actions);
	free(error_action);
	return rc;
}

static int rule_exec(struct dd_ctx *c, const char *name, const char *sql_literal, bool tags_too)
{
	if (dd_db_begin_write(c->db))
		return dd__db_fail(c);
	sqlite3_stmt *st = dd_db_stmt(c->db, sql_literal);
	if (!st)
		return dd__db_fail(c);
	dd_bind_text(st, 1, c->account_region);
	dd_bind_text(st, 2, name);
	if (dd_step_done(st))
		return dd__db_fail(c);
	if (sqlite3_changes(dd_db_handle(c->db)) == 0) {
		dd_db_rollback(c->db);
		return rule_missing(c, name);
	}
	char arn[700];
	dd__arn_buf(c, arn, sizeof arn, "rule/%s", name);
	if ((tags_too && delete_tags(c, arn)) || dd_db_commit(c->db))
		return dd__db_fail(c);
	return 0;
}

int dd_iot_enable_topic_rule(struct dd_ctx *c, json_t *in, json_t **out)
{
	*out = NULL;
	return rule_exec(c, dd__str(in, "ruleName"),
			 "UPDATE topic_rules SET disabled = 0 WHERE account_region = ?1 AND name = ?2", false);
}

int dd_iot_disable_topic_rule(struct dd_ctx *c, json_t *in, json_t **out)
{
	*out = NULL;
	return rule_exec(c, dd__str(in, "ruleName"),
			 "UPDATE topic_rules SET disabled = 1 WHERE account_region = ?1 AND name = ?2", false);
}

int dd_iot_delete_topic_rule(struct dd_ctx *c, json_t *in, json_t **out)
{
	*out = NULL;
	return rule_exec(c, dd__str(in, "ruleName"), "DELETE FROM topic_rules WHERE account_region = ?1 AND name = ?2", true);
}

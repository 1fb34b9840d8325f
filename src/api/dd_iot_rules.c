/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The topic rule API (CreateTopicRule … DeleteTopicRule), kept as STORED STATE ONLY: a
 * rule's SQL is checked syntactically (core/registry/dd_rule_sql.c) and refused with
 * SqlParseException naming the line and column, and its actions are stored as given; no
 * broker evaluates rules and no action runs. A missing rule answers UnauthorizedException,
 * the error AWS gives (the model declares no ResourceNotFound for rules). Tags come from
 * the x-amz-tagging header. The rows live in store/dd_store_rules.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/dd_api_common.h"
#include "core/registry/dd_rule_sql.h"
#include "dd/buf.h"
#include "store/dd_store_rules.h"
#include "store/dd_store_tags.h"

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
	if (!sql || dd_rule_sql_check(sql, topic, topiclen, err, sizeof err))
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

static char *opt_dump(json_t *j) { return j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) : NULL; }

/* A TopicRulePayload as a stored rule (actions and errorAction dumped into *actions and
 * *error_action, which the caller frees). */
static void payload_rule(json_t *payload, const char *topic, char **actions, char **error_action,
			 struct dd_store_rules_rule *r)
{
	*actions = opt_dump(json_object_get(payload, "actions"));
	*error_action = opt_dump(json_object_get(payload, "errorAction"));
	*r = (struct dd_store_rules_rule){
		.sql = dd__str(payload, "sql"),
		.topic = topic,
		.description = dd__str(payload, "description"),
		.actions = *actions ? *actions : "[]",
		.error_action = *error_action,
		.sql_version = dd__str(payload, "awsIotSqlVersion"),
		.disabled = dd__bool(payload, "ruleDisabled", false),
	};
}

static int create_topic_rule(struct dd_ctx *c, json_t *in, json_t **out)
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
	char *actions, *error_action;
	struct dd_store_rules_rule r;
	payload_rule(payload, topic, &actions, &error_action, &r);
	r.created = c->now_ms;
	int rc = 0;
	if (dd_db_begin_write(c->db)) {
		rc = dd__db_fail(c);
		goto out;
	}
	rc = dd_store_rules_insert(c->db, c->account_region, name, &r);
	if (rc == DD_EEXIST) {
		dd_db_rollback(c->db);
		rc = dd_fail_exists(c, name, arn, "Topic rule %s already exists.", name);
		goto out;
	}
	if (rc || dd__tags_put(c, arn, tags) || dd_db_commit(c->db))
		rc = dd__db_fail(c);
out:
	json_decref(tags);
	free(actions);
	free(error_action);
	return rc;
}

static int rule_json(void *ud, const char *name, const struct dd_store_rules_rule *r)
{
	json_t **rule = ud;
	json_t *actions = json_loads(r->actions, 0, NULL);
	*rule = json_pack("{s:s, s:s, s:o, s:o, s:b}", "ruleName", name, "sql", r->sql, "createdAt", dd_json_time(r->created),
			  "actions", actions ? actions : json_array(), "ruleDisabled", r->disabled);
	if (!*rule)
		return DD_ENOMEM;
	if (r->description)
		json_object_set_new(*rule, "description", json_string(r->description));
	if (r->error_action) {
		json_t *ea = json_loads(r->error_action, 0, NULL);
		if (ea)
			json_object_set_new(*rule, "errorAction", ea);
	}
	if (r->sql_version)
		json_object_set_new(*rule, "awsIotSqlVersion", json_string(r->sql_version));
	return 0;
}

static int get_topic_rule(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *name = dd__str(in, "ruleName");
	json_t *rule = NULL;
	int rc = dd_store_rules_get(c->db, c->account_region, name, rule_json, &rule);
	if (rc == DD_ENOTFOUND)
		return rule_missing(c, name);
	if (rc) {
		json_decref(rule);
		return rc == DD_ENOMEM ? dd_fail(c, rc, "InternalFailureException", "out of memory") : dd__db_fail(c);
	}
	*out = json_pack("{s:o, s:o}", "ruleArn", dd__arn(c, "rule/%s", name), "rule", rule);
	return 0;
}

struct rule_page {
	struct dd_ctx *c;
	const char *topic;
	json_t *arr;
	int n, size;
	bool more;
	char last[256];
};

static int rule_item(void *ud, const char *name, const struct dd_store_rules_rule *r)
{
	struct rule_page *pg = ud;
	/* the topic filter is applied here (a rule is listed for a topic its filter equals or
	 * matches), so the page is filled from the filtered rows */
	if (pg->topic && strcmp(pg->topic, r->topic) != 0 && !dd_rule_sql_topic_matches(r->topic, pg->topic))
		return 0;
	if (pg->n == pg->size) {
		pg->more = true;
		return 1;
	}
	json_array_append_new(pg->arr, json_pack("{s:o, s:s, s:s, s:o, s:b}", "ruleArn", dd__arn(pg->c, "rule/%s", name),
						 "ruleName", name, "topicPattern", r->topic, "createdAt",
						 dd_json_time(r->created), "ruleDisabled", r->disabled));
	snprintf(pg->last, sizeof pg->last, "%s", name);
	pg->n++;
	return 0;
}

static int list_topic_rules(struct dd_ctx *c, json_t *in, json_t **out)
{
	char after[512];
	struct rule_page pg = { .c = c, .topic = dd__str(in, "topic") };
	if (dd__page(c, in, "nextToken", "maxResults", 1000, 10000, after, sizeof after, &pg.size))
		return c->err;
	json_t *dis = json_object_get(in, "ruleDisabled");
	pg.arr = json_array();
	if (dd_store_rules_list(c->db, c->account_region, after, json_is_boolean(dis) ? json_is_true(dis) : -1, rule_item,
				&pg)) {
		json_decref(pg.arr);
		return dd__db_fail(c);
	}
	*out = json_pack("{s:o}", "rules", pg.arr);
	dd__page_next(*out, "nextToken", pg.more, pg.last);
	return 0;
}

static int replace_topic_rule(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *name = dd__str(in, "ruleName");
	json_t *payload = json_object_get(in, "topicRulePayload");
	char topic[DD_MAX_TOPIC];
	*out = NULL;
	if (payload_check(c, payload, topic, sizeof topic))
		return c->err;
	char *actions, *error_action;
	struct dd_store_rules_rule r;
	payload_rule(payload, topic, &actions, &error_action, &r);
	int rc = 0;
	if (dd_db_begin_write(c->db)) {
		rc = dd__db_fail(c);
		goto out;
	}
	/* the whole payload replaces the rule (ruleDisabled too); the creation date stays */
	rc = dd_store_rules_replace(c->db, c->account_region, name, &r);
	if (rc == DD_ENOTFOUND) {
		dd_db_rollback(c->db);
		rc = rule_missing(c, name);
		goto out;
	}
	if (rc || dd_db_commit(c->db))
		rc = dd__db_fail(c);
out:
	free(actions);
	free(error_action);
	return rc;
}

enum rule_change { RULE_ENABLE, RULE_DISABLE, RULE_DELETE };

static int rule_change(struct dd_ctx *c, const char *name, enum rule_change what)
{
	if (dd_db_begin_write(c->db))
		return dd__db_fail(c);
	int rc = what == RULE_DELETE ? dd_store_rules_delete(c->db, c->account_region, name)
				     : dd_store_rules_set_disabled(c->db, c->account_region, name, what == RULE_DISABLE);
	if (rc == DD_ENOTFOUND) {
		dd_db_rollback(c->db);
		return rule_missing(c, name);
	}
	char arn[700];
	dd__arn_buf(c, arn, sizeof arn, "rule/%s", name);
	if (rc || (what == RULE_DELETE && dd_store_tags_delete_all(c->db, c->account_region, arn)) || dd_db_commit(c->db))
		return dd__db_fail(c);
	return 0;
}

static int enable_topic_rule(struct dd_ctx *c, json_t *in, json_t **out)
{
	*out = NULL;
	return rule_change(c, dd__str(in, "ruleName"), RULE_ENABLE);
}

static int disable_topic_rule(struct dd_ctx *c, json_t *in, json_t **out)
{
	*out = NULL;
	return rule_change(c, dd__str(in, "ruleName"), RULE_DISABLE);
}

static int delete_topic_rule(struct dd_ctx *c, json_t *in, json_t **out)
{
	*out = NULL;
	return rule_change(c, dd__str(in, "ruleName"), RULE_DELETE);
}

const struct dd_handler dd_iot_rules_handlers[] = {
	{ "iot", "CreateTopicRule", create_topic_rule }, /* stored only */
	{ "iot", "GetTopicRule", get_topic_rule }, /* stored only */
	{ "iot", "ListTopicRules", list_topic_rules }, /* stored only */
	{ "iot", "ReplaceTopicRule", replace_topic_rule }, /* stored only */
	{ "iot", "EnableTopicRule", enable_topic_rule }, /* stored only */
	{ "iot", "DisableTopicRule", disable_topic_rule }, /* stored only */
	{ "iot", "DeleteTopicRule", delete_topic_rule }, /* stored only */
	{ NULL, NULL, NULL },
};

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Device Defender audit API (wire layer): account audit configuration (merge
 * semantics, seed aliases accepted and answered with API names), on-demand tasks (start,
 * describe, list, cancel), findings (list newest first, describe, related resources),
 * suppressions and scheduled audits, plus two extension routes: role service usage import
 * (for the unused-services check) and the test clock. JSON in and out, paging tokens and
 * AWS error codes live here; the rows come from store/dd_store_audit.h, tasks are created
 * by the engine (core/audit/dd_audit_engine.h), which runs them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/audit/dd_audit_checks.h"
#include "core/audit/dd_audit_engine.h"
#include "api/dd_api_common.h"
#include "dd/audit.h"
#include "dd/iam.h"
#include "store/dd_store_audit.h"

#define MAX_IN_PROGRESS 10
#define MAX_SCHEDULED 5

static int bad_name(struct dd_ctx *c)
{
	return dd_fail(c, DD_EINVAL, "InvalidRequestException", "Request contains an invalid Audit Check Name.");
}

/* ---- configuration ----------------------------------------------------------------- */

struct config {
	char *role_arn;
	json_t *targets;
	json_t *checks;
	bool found;
};

static int load_config(struct dd_ctx *c, struct config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	struct dd_store_audit_config row;
	int rc = dd_store_audit_config_get(c->db, c->account_region, &row);
	if (rc && rc != DD_ENOTFOUND)
		return rc;
	if (!rc) {
		cfg->found = true;
		cfg->role_arn = row.role_arn;
		row.role_arn = NULL;
		cfg->targets = json_loads(row.targets, 0, NULL);
		cfg->checks = json_loads(row.checks, 0, NULL);
		dd_store_audit_config_clear(&row);
	}
	if (!cfg->targets)
		cfg->targets = json_object();
	if (!cfg->checks)
		cfg->checks = json_object();
	return 0;
}

static void free_config(struct config *cfg)
{
	free(cfg->role_arn);
	json_decref(cfg->targets);
	json_decref(cfg->checks);
}

static bool check_enabled(struct config *cfg, const char *name)
{
	return json_is_true(json_object_get(json_object_get(cfg->checks, name), "enabled"));
}

static int dd_iot_describe_account_audit_configuration(struct dd_ctx *c, json_t *in, json_t **out)
{
	(void)in;
	struct config cfg;
	if (load_config(c, &cfg))
		return dd__db_fail(c);
	json_t *checks = json_object();
	for (size_t i = 0; i < dd_audit_ncheck; i++) {
		const struct dd_audit_check *k = &dd_audit_checks[i];
		json_t *cur = json_object_get(cfg.checks, k->name);
		json_t *o = json_pack("{s:b}", "enabled", json_is_true(json_object_get(cur, "enabled")));
		if (k->config_key) {
			json_t *conf = json_object_get(cur, "configuration");
			if (!json_is_object(conf)) {
				char dflt[32];
				snprintf(dflt, sizeof dflt, "%d", k->config_default);
				json_object_set_new(o, "configuration", json_pack("{s:s}", k->config_key, dflt));
			} else {
				json_object_set(o, "configuration", conf);
			}
		}
		json_object_set_new(checks, k->name, o);
	}
	*out = json_pack("{s:O, s:o}", "auditNotificationTargetConfigurations", cfg.targets, "auditCheckConfigurations", checks);
	if (cfg.role_arn)
		json_object_set_new(*out, "roleArn", json_string(cfg.role_arn));
	free_config(&cfg);
	return 0;
}

static int role_trusts_iot(struct dd_ctx *c, const char *role, const char *what)
{
	bool ok = false;
	int rc = dd_iam_role_trusts_service(c->db, c->account, role, "iot.amazonaws.com", &ok);
	if (rc == DD_ENOTFOUND)
		return dd_fail(c, DD_EINVAL, "InvalidRequestException", "The %s %s does not exist.", what, role);
	if (rc)
		return dd__db_fail(c);
	if (!ok)
		return dd_fail(c, DD_EINVAL, "InvalidRequestException",
			       "The %s %s does not trust iot.amazonaws.com to assume it.", what, role);
	return 0;
}

static int dd_iot_update_account_audit_configuration(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *role = dd__str(in, "roleArn");
	json_t *targets = json_object_get(in, "auditNotificationTargetConfigurations");
	json_t *checks = json_object_get(in, "auditCheckConfigurations");
	*out = NULL;
	/* validate everything before writing anything */
	const char *name;
	json_t *v;
	json_t *canon = json_object();
	json_object_foreach(checks, name, v) {
		const struct dd_audit_check *k = dd_audit_checks_find(name);
		if (!k) {
			json_decref(canon);
			return bad_name(c);
		}
		json_t *conf = json_object_get(v, "configuration");
		if (json_is_object(conf) && json_object_size(conf)) {
			const char *ck;
			json_t *cv;
			json_object_foreach(conf, ck, cv) {
				int64_t n;
				if (!k->config_key || strcmp(ck, k->config_key) != 0) {
					json_decref(canon);
					return dd_fail(c, DD_EINVAL, "InvalidRequestException",
						       "Configuration key %s is not valid for check %s.", ck, k->name);
				}
				if (dd_parse_int64(json_string_value(cv), k->config_min, k->config_max, &n)) {
					json_decref(canon);
					return dd_fail(c, DD_EINVAL, "InvalidRequestException",
						       "%s must be a whole number of days from %d to %d.", ck, k->config_min, k->config_max);
				}
			}
		}
		json_object_set(canon, k->name, v);
	}
	if (role && (dd__role_arn_ok(c, "roleArn", role, "InvalidRequestException") || role_trusts_iot(c, role, "audit role"))) {
		json_decref(canon);
		return c->err;
	}
	json_t *sns = json_object_get(targets, "SNS");
	if (sns) {
		const char *srole = dd__str(sns, "roleArn");
		const char *topic = dd__str(sns, "targetArn");
		if (json_is_true(json_object_get(sns, "enabled")) && (!srole || !topic)) {
			json_decref(canon);
			return dd_fail(c, DD_EINVAL, "InvalidRequestException", "An enabled SNS target needs targetArn and roleArn.");
		}
		if (srole && (dd__role_arn_ok(c, "auditNotificationTargetConfigurations.SNS.roleArn", srole, "InvalidRequestException") ||
			      role_trusts_iot(c, srole, "SNS notification role"))) {
			json_decref(canon);
			return c->err;
		}
		struct dd_arn ta;
		if (topic && (dd_iam_arn_parse(topic, &ta) || strcmp(ta.partition, "aws") || strcmp(ta.service, "sns") ||
			      !ta.region[0] || strchr(ta.resource, ':'))) {
			json_decref(canon);
			return dd_fail(c, DD_EINVAL, "InvalidRequestException", "targetArn must be an SNS topic ARN.");
		}
		if (topic && strcmp(ta.account, c->account)) {
			json_decref(canon);
			return dd_fail(c, DD_EINVAL, "InvalidRequestException",
				       "targetArn %.700s names a topic of another account; only topics of account %s can be used.",
				       topic, c->account);
		}
	}
	if (dd_db_begin_write(c->db)) {
		json_decref(canon);
		return dd__db_fail(c);
	}
	struct config cfg;
	if (load_config(c, &cfg)) {
		json_decref(canon);
		return dd__db_fail(c);
	}
	json_object_foreach(canon, name, v) {
		json_t *cur = json_object_get(cfg.checks, name);
		json_t *merged = json_is_object(cur) ? json_deep_copy(cur) : json_object();
		if (json_object_get(v, "enabled"))
			json_object_set(merged, "enabled", json_object_get(v, "enabled"));
		json_t *conf = json_object_get(v, "configuration");
		if (json_is_object(conf) && json_object_size(conf))
			json_object_set(merged, "configuration", conf);
		json_object_set_new(cfg.checks, name, merged);
	}
	json_decref(canon);
	if (sns)
		json_object_set(cfg.targets, "SNS", sns);
	char *ttext = json_dumps(cfg.targets, JSON_COMPACT | JSON_SORT_KEYS);
	char *ctext = json_dumps(cfg.checks, JSON_COMPACT | JSON_SORT_KEYS);
	int rc = ttext && ctext ? dd_store_audit_config_put(c->db, c->account_region, role ? role : cfg.role_arn, ttext, ctext)
			       : DD_ENOMEM;
	free(ttext);
	free(ctext);
	free_config(&cfg);
	if (rc || dd_db_commit(c->db))
		return dd__db_fail(c);
	return 0;
}

static int dd_iot_delete_account_audit_configuration(struct dd_ctx *c, json_t *in, json_t **out)
{
	bool del_sched = dd__bool(in, "deleteScheduledAudits", false);
	*out = NULL;
	if (dd_db_begin_write(c->db))
		return dd__db_fail(c);
	int64_t n = 0;
	if (dd_store_audit_scheduled_count(c->db, c->account_region, &n))
		return dd__db_fail(c);
	if (n > 0 && !del_sched) {
		dd_db_rollback(c->db);
		return dd_fail(c, DD_ECONFLICT, "InvalidRequestException",
			       "The account has scheduled audits; pass deleteScheduledAudits to delete them too.");
	}
	if (dd_store_audit_config_delete(c->db, c->account_region) ||
	    dd_store_audit_scheduled_delete_all(c->db, c->account_region) || dd_db_commit(c->db))
		return dd__db_fail(c);
	return 0;
}

/* ---- tasks ------------------------------------------------------------------------- */

/* Canonical, deduplicated check names; fails c for an unknown or disabled check. */
static json_t *target_checks(struct dd_ctx *c, json_t *names, struct config *cfg)
{
	json_t *out = json_array();
	size_t i;
	json_t *n;
	json_array_foreach(names, i, n) {
		const struct dd_audit_check *k = dd_audit_checks_find(json_string_value(n));
		if (!k) {
			json_decref(out);
			bad_name(c);
			return NULL;
		}
		if (!check_enabled(cfg, k->name)) {
			json_decref(out);
			dd_fail(c, DD_EINVAL, "InvalidRequestException", "Check %s is not enabled in the account audit configuration.", k->name);
			return NULL;
		}
		bool dup = false;
		size_t j;
		json_t *x;
		json_array_foreach(out, j, x) if (strcmp(json_string_value(x), k->name) == 0) dup = true;
		if (!dup)
			json_array_append_new(out, json_string(k->name));
	}
	if (json_array_size(out) == 0) {
		json_decref(out);
		dd_fail(c, DD_EINVAL, "InvalidRequestException", "targetCheckNames must name at least one check.");
		return NULL;
	}
	return out;
}

/* An IN_PROGRESS task of the checks (a JSON array of API names) through the engine. */
static int task_create(struct dd_ctx *c, const char *type, json_t *checks, int64_t now, char task_id[33])
{
	size_t n = json_array_size(checks), i;
	const char **names = calloc(n ? n : 1, sizeof *names);
	if (!names)
		return DD_ENOMEM;
	json_t *v;
	json_array_foreach(checks, i, v) names[i] = json_string_value(v);
	int rc = dd_audit_engine_task_create(c->db, c->account_region, type, NULL, names, n, now, now - 31LL * 86400000,
					     task_id);
	free(names);
	return rc;
}

static int dd_iot_start_on_demand_audit_task(struct dd_ctx *c, json_t *in, json_t **out)
{
	struct config cfg;
	if (load_config(c, &cfg))
		return dd__db_fail(c);
	json_t *checks = target_checks(c, json_object_get(in, "targetCheckNames"), &cfg);
	free_config(&cfg);
	if (!checks)
		return c->err;
	int64_t n = 0;
	if (dd_store_audit_tasks_count_in_progress(c->db, c->account_region, "ON_DEMAND_AUDIT_TASK", &n)) {
		json_decref(checks);
		return dd__db_fail(c);
	}
	if (n >= MAX_IN_PROGRESS) {
		json_decref(checks);
		return dd_fail(c, DD_ELIMIT, "LimitExceededException",
			       "At most %d on-demand audit tasks can be in progress at once.", MAX_IN_PROGRESS);
	}
	int64_t now = dd_service_now_ms(c->svc);
	char task_id[33];
	int rc = task_create(c, "ON_DEMAND_AUDIT_TASK", checks, now, task_id);
	json_decref(checks);
	if (rc)
		return dd__db_fail(c);
	dd_audit_engine_wake(c->svc);
	*out = json_pack("{s:s}", "taskId", task_id);
	return 0;
}

struct task_stats {
	json_t *details;
	int64_t total, inprog, waiting, compliant, noncompl, failed, canceled;
};

static int task_check_json(const struct dd_store_audit_task_check *k, void *ud)
{
	struct task_stats *ts = ud;
	const char *status = k->status;
	json_t *d = json_pack("{s:s}", "checkRunStatus", status);
	if (strncmp(status, "COMPLETED", 9) == 0) {
		json_object_set_new(d, "checkCompliant", json_boolean(strcmp(status, "COMPLETED_COMPLIANT") == 0));
		json_object_set_new(d, "totalResourcesCount", json_integer(k->total));
		json_object_set_new(d, "nonCompliantResourcesCount", json_integer(k->noncompliant));
		json_object_set_new(d, "suppressedNonCompliantResourcesCount", json_integer(k->suppressed));
	}
	if (k->error_code)
		json_object_set_new(d, "errorCode", json_string(k->error_code));
	if (k->message)
		json_object_set_new(d, "message", json_string(k->message));
	json_object_set_new(ts->details, k->check_name, d);
	ts->total++;
	if (strcmp(status, "IN_PROGRESS") == 0) ts->inprog++;
	else if (strcmp(status, "WAITING_FOR_DATA_COLLECTION") == 0) ts->waiting++;
	else if (strcmp(status, "COMPLETED_COMPLIANT") == 0) ts->compliant++;
	else if (strcmp(status, "COMPLETED_NON_COMPLIANT") == 0) ts->noncompl++;
	else if (strcmp(status, "FAILED") == 0) ts->failed++;
	else if (strcmp(status, "CANCELED") == 0) ts->canceled++;
	return 0;
}

static int task_head_json(const struct dd_store_audit_task *t, void *ud)
{
	json_t **o = ud;
	*o = json_pack("{s:s, s:s, s:o}", "taskType", t->task_type, "taskStatus", t->status, "taskStartTime",
		       dd_json_time(t->start_ms));
	if (*o && t->scheduled_name)
		json_object_set_new(*o, "scheduledAuditName", json_string(t->scheduled_name));
	return *o ? 0 : DD_ENOMEM;
}

/* The DescribeAuditTask output of a task. DD_ENOTFOUND when absent. */
static int task_json(struct dd_db *db, const char *account_region, const char *task_id, json_t **out)
{
	json_t *o = NULL;
	int rc = dd_store_audit_task_get(db, account_region, task_id, task_head_json, &o);
	if (rc) {
		json_decref(o);
		return rc;
	}
	struct task_stats ts = { .details = json_object() };
	rc = dd_store_audit_task_checks(db, account_region, task_id, task_check_json, &ts);
	if (rc) {
		json_decref(ts.details);
		json_decref(o);
		return rc;
	}
	json_object_set_new(o, "taskStatistics",
			    json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "totalChecks", (json_int_t)ts.total,
				      "inProgressChecks", (json_int_t)ts.inprog, "waitingForDataCollectionChecks",
				      (json_int_t)ts.waiting, "compliantChecks", (json_int_t)ts.compliant,
				      "nonCompliantChecks", (json_int_t)ts.noncompl, "failedChecks", (json_int_t)ts.failed,
				      "canceledChecks", (json_int_t)ts.canceled));
	json_object_set_new(o, "auditDetails", ts.details);
	*out = o;
	return 0;
}

/* A page of a listing: items until size, then one more row only says that more exist. */
struct page {
	json_t *arr;
	int size, n;
	bool more;
	char key[2048];
};

#define PAGE_FULL 1 /* a callback's stop code: not an error */

static bool page_full(struct page *pg)
{
	if (pg->n == pg->size) {
		pg->more = true;
		return true;
	}
	pg->n++;
	return false;
}

/* The listing's output {member: items} with the token, or the failure. */
static int page_out(struct dd_ctx *c, struct page *pg, int rc, const char *member, json_t **out)
{
	if (rc < 0) {
		json_decref(pg->arr);
		return dd__db_fail(c);
	}
	*out = json_pack("{s:o}", member, pg->arr);
	dd__page_next(*out, "nextToken", pg->more, pg->key);
	return 0;
}

static int dd_iot_describe_audit_task(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *id = dd__str(in, "taskId");
	int rc = task_json(c->db, c->account_region, id, out);
	if (rc == DD_ENOTFOUND)
		return dd_fail(c, rc, "ResourceNotFoundException", "Audit task %s not found.", id);
	if (rc)
		return dd__db_fail(c);
	return 0;
}

static int task_row(const struct dd_store_audit_task *t, void *ud)
{
	struct page *pg = ud;
	if (page_full(pg))
		return PAGE_FULL;
	snprintf(pg->key, sizeof pg->key, "%lld|%s", (long long)t->start_ms, t->task_id);
	json_array_append_new(pg->arr, json_pack("{s:s, s:s, s:s}", "taskId", t->task_id, "taskStatus", t->status,
						 "taskType", t->task_type));
	return 0;
}

static int dd_iot_list_audit_tasks(struct dd_ctx *c, json_t *in, json_t **out)
{
	char after[128];
	int size;
	if (dd__page(c, in, "nextToken", "maxResults", 25, 250, after, sizeof after, &size))
		return c->err;
	json_t *jstart = json_object_get(in, "startTime"), *jend = json_object_get(in, "endTime");
	int64_t start = (int64_t)(json_number_value(jstart) * 1000.0);
	int64_t end = (int64_t)(json_number_value(jend) * 1000.0);
	if (end < start)
		return dd_fail(c, DD_EINVAL, "InvalidRequestException", "endTime must not be before startTime.");
	/* keyset on (start_ms DESC, task_id): the token holds "start|id" */
	int64_t a_ms = INT64_MAX;
	char a_id[40] = "";
	if (after[0] && dd__page_key_split(c, after, '|', "nextToken", &a_ms, a_id, sizeof a_id))
		return c->err;
	struct dd_store_audit_tasks_filter f = {
		.start_ms = start, .end_ms = end, .task_type = dd__str(in, "taskType"), .status = dd__str(in, "taskStatus"),
		.after_ms = a_ms, .after_id = a_id,
	};
	struct page pg = { .arr = json_array(), .size = size };
	int rc = dd_store_audit_tasks_list(c->db, c->account_region, &f, size + 1, task_row, &pg);
	return page_out(c, &pg, rc, "tasks", out);
}

static int dd_iot_cancel_audit_task(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *id = dd__str(in, "taskId");
	*out = NULL;
	if (dd_db_begin_write(c->db))
		return dd__db_fail(c);
	json_t *cur = NULL;
	int rc = dd_store_audit_task_get(c->db, c->account_region, id, task_head_json, &cur);
	if (rc == DD_ENOTFOUND) {
		dd_db_rollback(c->db);
		return dd_fail(c, DD_ENOTFOUND, "ResourceNotFoundException", "Audit task %s not found.", id);
	}
	if (rc)
		return dd__db_fail(c);
	char status[32];
	snprintf(status, sizeof status, "%s", json_string_value(json_object_get(cur, "taskStatus")));
	json_decref(cur);
	if (strcmp(status, "IN_PROGRESS") != 0) {
		dd_db_rollback(c->db);
		return dd_fail(c, DD_ECONFLICT, "InvalidRequestException", "Audit task %s is %s and cannot be canceled.", id, status);
	}
	if (dd_store_audit_task_cancel(c->db, c->account_region, id, dd_service_now_ms(c->svc)) || dd_db_commit(c->db))
		return dd__db_fail(c);
	return 0;
}

/* ---- findings ---------------------------------------------------------------------- */

static json_t *finding_json(const struct dd_store_audit_finding *f)
{
	json_t *res = json_loads(f->resource, 0, NULL);
	json_t *rel = json_loads(f->related, 0, NULL);
	return json_pack("{s:s, s:s, s:s, s:o, s:o, s:s, s:o, s:o, s:s, s:s, s:b}", "findingId", f->finding_id,
			 "taskId", f->task_id, "checkName", f->check_name, "taskStartTime", dd_json_time(f->task_start_ms),
			 "findingTime", dd_json_time(f->finding_ms), "severity", f->severity, "nonCompliantResource",
			 res ? res : json_object(), "relatedResources", rel ? rel : json_array(), "reasonForNonCompliance",
			 f->reason, "reasonForNonComplianceCode", f->reason_code, "isSuppressed", f->suppressed);
}

static int finding_row(const struct dd_store_audit_finding *f, void *ud)
{
	struct page *pg = ud;
	if (page_full(pg))
		return PAGE_FULL;
	snprintf(pg->key, sizeof pg->key, "%lld|%s", (long long)f->finding_ms, f->finding_id);
	json_array_append_new(pg->arr, finding_json(f));
	return 0;
}

static int dd_iot_list_audit_findings(struct dd_ctx *c, json_t *in, json_t **out)
{
	char after[128];
	int size;
	if (dd__page(c, in, "nextToken", "maxResults", 25, 250, after, sizeof after, &size))
		return c->err;
	const char *task = dd__str(in, "taskId");
	const char *check_in = dd__str(in, "checkName");
	const char *check = NULL;
	if (check_in) {
		const struct dd_audit_check *k = dd_audit_checks_find(check_in);
		if (!k)
			return bad_name(c);
		check = k->name;
	}
	json_t *rid = json_object_get(in, "resourceIdentifier");
	char *key = rid ? dd_audit_checks_resource_key(rid) : NULL;
	json_t *js = json_object_get(in, "startTime"), *je = json_object_get(in, "endTime");
	if (task && (js || je)) {
		free(key);
		return dd_fail(c, DD_EINVAL, "InvalidRequestException", "Give either taskId or startTime and endTime, not both.");
	}
	if ((js && !je) || (je && !js)) {
		free(key);
		return dd_fail(c, DD_EINVAL, "InvalidRequestException", "startTime and endTime go together.");
	}
	int64_t start = js ? (int64_t)(json_number_value(js) * 1000.0) : 0;
	int64_t end = je ? (int64_t)(json_number_value(je) * 1000.0) : INT64_MAX;
	json_t *sup = json_object_get(in, "listSuppressedFindings");
	int64_t a_ms = INT64_MAX;
	char a_id[40] = "";
	if (after[0] && dd__page_key_split(c, after, '|', "nextToken", &a_ms, a_id, sizeof a_id)) {
		free(key);
		return c->err;
	}
	struct dd_store_audit_findings_filter f = {
		.task_id = task, .check_name = check, .resource_key = key, .start_ms = start, .end_ms = end,
		.suppressed = json_is_boolean(sup) ? json_is_true(sup) : -1, .after_ms = a_ms, .after_id = a_id,
	};
	struct page pg = { .arr = json_array(), .size = size };
	int rc = dd_store_audit_findings_list(c->db, c->account_region, &f, size + 1, finding_row, &pg);
	free(key);
	return page_out(c, &pg, rc, "findings", out);
}

static int finding_get_fn(const struct dd_store_audit_finding *f, void *ud)
{
	json_t **out = ud;
	*out = finding_json(f);
	return *out ? 0 : DD_ENOMEM;
}

/* The finding as JSON, or NULL when absent (or on a store failure, *rc set). */
static json_t *load_finding(struct dd_ctx *c, const char *id, int *rc)
{
	json_t *f = NULL;
	*rc = dd_store_audit_findings_get(c->db, c->account_region, id, finding_get_fn, &f);
	if (*rc == DD_ENOTFOUND)
		*rc = 0;
	return f;
}

static int dd_iot_describe_audit_finding(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *id = dd__str(in, "findingId");
	int rc;
	json_t *f = load_finding(c, id, &rc);
	if (rc)
		return dd__db_fail(c);
	if (!f)
		return dd_fail(c, DD_ENOTFOUND, "ResourceNotFoundException", "Audit finding %s not found.", id);
	*out = json_pack("{s:o}", "finding", f);
	return 0;
}

static int dd_iot_list_related_resources_for_audit_finding(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *id = dd__str(in, "findingId");
	char after[32];
	int size;
	if (dd__page(c, in, "nextToken", "maxResults", 25, 250, after, sizeof after, &size))
		return c->err;
	int64_t from = 0;
	if (after[0] && dd_parse_int64(after, 0, INT32_MAX, &from))
		return dd_fail(c, DD_EINVAL, "InvalidRequestException", "The nextToken is not valid.");
	int rc;
	json_t *f = load_finding(c, id, &rc);
	if (rc)
		return dd__db_fail(c);
	if (!f)
		return dd_fail(c, DD_ENOTFOUND, "ResourceNotFoundException", "Audit finding %s not found.", id);
	json_t *rel = json_object_get(f, "relatedResources");
	json_t *arr = json_array();
	size_t total = json_array_size(rel), i;
	for (i = (size_t)from; i < total && json_array_size(arr) < (size_t)size; i++)
		json_array_append(arr, json_array_get(rel, i));
	*out = json_pack("{s:o}", "relatedResources", arr);
	if (i < total) {
		char next[32];
		snprintf(next, sizeof next, "%zu", i);
		dd__page_next(*out, "nextToken", true, next);
	}
	json_decref(f);
	return 0;
}

/* ---- suppressions ------------------------------------------------------------------ */

static int suppression_key(struct dd_ctx *c, json_t *in, const char **check, char **key)
{
	const struct dd_audit_check *k = dd_audit_checks_find(dd__str(in, "checkName"));
	if (!k)
		return bad_name(c);
	json_t *rid = json_object_get(in, "resourceIdentifier");
	if (!json_is_object(rid) || json_object_size(rid) == 0)
		return dd_fail(c, DD_EINVAL, "InvalidRequestException", "resourceIdentifier is required.");
	*check = k->name;
	*key = dd_audit_checks_resource_key(rid);
	return *key ? 0 : dd_fail(c, DD_ENOMEM, "InternalFailureException", "out of memory");
}

static int suppression_write(struct dd_ctx *c, json_t *in, bool create)
{
	const char *check;
	char *key;
	if (suppression_key(c, in, &check, &key))
		return c->err;
	json_t *exp = json_object_get(in, "expirationDate");
	json_t *indef = json_object_get(in, "suppressIndefinitely");
	if (create && !exp && !json_is_true(indef)) {
		free(key);
		return dd_fail(c, DD_EINVAL, "InvalidRequestException", "Give expirationDate or suppressIndefinitely.");
	}
	if (exp && json_is_true(indef)) {
		free(key);
		return dd_fail(c, DD_EINVAL, "InvalidRequestException", "expirationDate and suppressIndefinitely are exclusive.");
	}
	int64_t exp_ms = exp ? (int64_t)(json_number_value(exp) * 1000.0) : 0;
	if (exp && exp_ms <= dd_service_now_ms(c->svc)) {
		free(key);
		return dd_fail(c, DD_EINVAL, "InvalidRequestException", "expirationDate must be in the future.");
	}
	char *res = json_dumps(json_object_get(in, "resourceIdentifier"), JSON_COMPACT | JSON_SORT_KEYS);
	if (!res || dd_db_begin_write(c->db)) {
		free(key);
		free(res);
		return dd__db_fail(c);
	}
	struct dd_store_audit_suppression sp = {
		.check_name = check, .resource_key = key, .resource = res, .has_expiration = exp != NULL,
		.expiration_ms = exp_ms, .indefinite = json_is_true(indef), .description = dd__str(in, "description"),
	};
	int rc = create ? dd_store_audit_suppressions_insert(c->db, c->account_region, &sp)
			: dd_store_audit_suppressions_update(c->db, c->account_region, &sp, exp != NULL, json_is_boolean(indef));
	free(key);
	free(res);
	if (rc == DD_EEXIST) {
		dd_db_rollback(c->db);
		return dd_fail(c, DD_EEXIST, "ResourceAlreadyExistsException", "A suppression for this check and resource already exists.");
	}
	if (rc == DD_ENOTFOUND) {
		dd_db_rollback(c->db);
		return dd_fail(c, DD_ENOTFOUND, "ResourceNotFoundException", "No suppression for this check and resource.");
	}
	if (rc || dd_db_commit(c->db))
		return dd__db_fail(c);
	return 0;
}

static int dd_iot_create_audit_suppression(struct dd_ctx *c, json_t *in, json_t **out)
{
	*out = NULL;
	return suppression_write(c, in, true);
}

static int dd_iot_update_audit_suppression(struct dd_ctx *c, json_t *in, json_t **out)
{
	*out = NULL;
	return suppression_write(c, in, false);
}

static json_t *suppression_json(const struct dd_store_audit_suppression *sp)
{
	json_t *rid = json_loads(sp->resource, 0, NULL);
	json_t *o = json_pack("{s:s, s:o, s:b}", "checkName", sp->check_name, "resourceIdentifier",
			      rid ? rid : json_object(), "suppressIndefinitely", sp->indefinite);
	if (sp->has_expiration)
		json_object_set_new(o, "expirationDate", dd_json_time(sp->expiration_ms));
	if (sp->description)
		json_object_set_new(o, "description", json_string(sp->description));
	return o;
}

static int suppression_get_fn(const struct dd_store_audit_suppression *sp, void *ud)
{
	json_t **out = ud;
	*out = suppression_json(sp);
	return *out ? 0 : DD_ENOMEM;
}

static int dd_iot_describe_audit_suppression(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *check = NULL;
	char *key = NULL;
	if (suppression_key(c, in, &check, &key))
		return c->err;
	int rc = dd_store_audit_suppressions_get(c->db, c->account_region, check, key, suppression_get_fn, out);
	free(key);
	if (rc == DD_ENOTFOUND)
		return dd_fail(c, DD_ENOTFOUND, "ResourceNotFoundException", "No suppression for this check and resource.");
	if (rc)
		return dd__db_fail(c);
	return 0;
}

static int dd_iot_delete_audit_suppression(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *check = NULL;
	char *key = NULL;
	*out = NULL;
	if (suppression_key(c, in, &check, &key))
		return c->err;
	if (dd_db_begin_write(c->db)) {
		free(key);
		return dd__db_fail(c);
	}
	int rc = dd_store_audit_suppressions_delete(c->db, c->account_region, check, key);
	free(key);
	/* DeleteAuditSuppression declares no ResourceNotFoundException: deleting a suppression
	 * that does not exist succeeds, as in AWS */
	if (rc || dd_db_commit(c->db))
		return dd__db_fail(c);
	return 0;
}

static int suppression_row(const struct dd_store_audit_suppression *sp, void *ud)
{
	struct page *pg = ud;
	if (page_full(pg))
		return PAGE_FULL;
	snprintf(pg->key, sizeof pg->key, "%s\n%s", sp->check_name, sp->resource_key);
	json_array_append_new(pg->arr, suppression_json(sp));
	return 0;
}

static int dd_iot_list_audit_suppressions(struct dd_ctx *c, json_t *in, json_t **out)
{
	char after[2048];
	int size;
	if (dd__page(c, in, "nextToken", "maxResults", 25, 250, after, sizeof after, &size))
		return c->err;
	const char *check = NULL;
	if (dd__str(in, "checkName")) {
		const struct dd_audit_check *k = dd_audit_checks_find(dd__str(in, "checkName"));
		if (!k)
			return bad_name(c);
		check = k->name;
	}
	/* the token is "<check>\n<resource key>" of the last item */
	const char *after_key = "";
	char *nl = strchr(after, '\n');
	if (nl) {
		*nl = '\0';
		after_key = nl + 1;
	} else if (after[0]) {
		return dd_fail(c, DD_EINVAL, "InvalidRequestException", "The nextToken is not valid.");
	}
	json_t *rid = json_object_get(in, "resourceIdentifier");
	char *key = rid ? dd_audit_checks_resource_key(rid) : NULL;
	bool asc = dd__bool(in, "ascendingOrder", true);
	struct page pg = { .arr = json_array(), .size = size };
	int rc = dd_store_audit_suppressions_list(c->db, c->account_region, check, key, after, after_key, asc, size + 1,
						  suppression_row, &pg);
	free(key);
	return page_out(c, &pg, rc, "suppressions", out);
}

/* ---- scheduled audits -------------------------------------------------------------- */

static int validate_schedule(struct dd_ctx *c, const char *freq, const char *dom, const char *dow)
{
	if (!freq)
		return 0;
	bool weekly = strcmp(freq, "WEEKLY") == 0 || strcmp(freq, "BIWEEKLY") == 0;
	bool monthly = strcmp(freq, "MONTHLY") == 0;
	if (weekly && !dow)
		return dd_fail(c, DD_EINVAL, "InvalidRequestException", "dayOfWeek is required for a %s scheduled audit.", freq);
	if (!weekly && dow)
		return dd_fail(c, DD_EINVAL, "InvalidRequestException", "dayOfWeek is only allowed for WEEKLY and BIWEEKLY scheduled audits.");
	if (monthly && !dom)
		return dd_fail(c, DD_EINVAL, "InvalidRequestException", "dayOfMonth is required for a MONTHLY scheduled audit.");
	if (!monthly && dom)
		return dd_fail(c, DD_EINVAL, "InvalidRequestException", "dayOfMonth is only allowed for MONTHLY scheduled audits.");
	return 0;
}

static int scheduled_exists(const struct dd_store_audit_scheduled *sa, void *ud)
{
	(void)sa;
	(void)ud;
	return 0;
}

static int dd_iot_create_scheduled_audit(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *name = dd__str(in, "scheduledAuditName");
	const char *freq = dd__str(in, "frequency");
	const char *dom = dd__str(in, "dayOfMonth"), *dow = dd__str(in, "dayOfWeek");
	if (validate_schedule(c, freq, dom, dow))
		return c->err;
	struct config cfg;
	if (load_config(c, &cfg))
		return dd__db_fail(c);
	json_t *checks = target_checks(c, json_object_get(in, "targetCheckNames"), &cfg);
	free_config(&cfg);
	if (!checks)
		return c->err;
	char *text = json_dumps(checks, JSON_COMPACT);
	json_decref(checks);
	if (dd_db_begin_write(c->db)) {
		free(text);
		return dd__db_fail(c);
	}
	int64_t n = 0;
	int erc = dd_store_audit_scheduled_count(c->db, c->account_region, &n);
	if (!erc)
		erc = dd_store_audit_scheduled_get(c->db, c->account_region, name, scheduled_exists, NULL);
	if (erc && erc != DD_ENOTFOUND) {
		free(text);
		return dd__db_fail(c);
	}
	if (erc == 0) {
		free(text);
		dd_db_rollback(c->db);
		return dd_fail(c, DD_EEXIST, "ResourceAlreadyExistsException", "Scheduled audit %s already exists.", name);
	}
	if (n >= MAX_SCHEDULED) {
		free(text);
		dd_db_rollback(c->db);
		return dd_fail(c, DD_ELIMIT, "LimitExceededException", "An account can have at most %d scheduled audits.", MAX_SCHEDULED);
	}
	struct dd_store_audit_scheduled row = {
		.account_region = c->account_region, .name = name, .frequency = freq, .day_of_month = dom,
		.day_of_week = dow, .checks = text, .created = dd_service_now_ms(c->svc),
	};
	int rc = text ? dd_store_audit_scheduled_insert(c->db, &row) : DD_ENOMEM;
	free(text);
	char arn[700];
	dd__arn_buf(c, arn, sizeof arn, "scheduledaudit/%s", name);
	if (rc || dd__tags_put(c, arn, json_object_get(in, "tags")) || dd_db_commit(c->db))
		return dd__db_fail(c);
	dd_audit_engine_wake(c->svc);
	*out = json_pack("{s:s}", "scheduledAuditArn", arn);
	return 0;
}

struct scheduled_ctx {
	struct dd_ctx *c;
	json_t *out;
};

static json_t *scheduled_json(struct dd_ctx *c, const struct dd_store_audit_scheduled *sa, bool with_checks)
{
	json_t *o = json_pack("{s:s, s:o, s:s}", "scheduledAuditName", sa->name, "scheduledAuditArn",
			      dd__arn(c, "scheduledaudit/%s", sa->name), "frequency", sa->frequency);
	if (!o)
		return NULL;
	if (with_checks) {
		json_t *checks = json_loads(sa->checks, 0, NULL);
		json_object_set_new(o, "targetCheckNames", checks ? checks : json_array());
	}
	if (sa->day_of_month)
		json_object_set_new(o, "dayOfMonth", json_string(sa->day_of_month));
	if (sa->day_of_week)
		json_object_set_new(o, "dayOfWeek", json_string(sa->day_of_week));
	return o;
}

static int scheduled_get_fn(const struct dd_store_audit_scheduled *sa, void *ud)
{
	struct scheduled_ctx *sc = ud;
	sc->out = scheduled_json(sc->c, sa, true);
	return sc->out ? 0 : DD_ENOMEM;
}

static int dd_iot_describe_scheduled_audit(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *name = dd__str(in, "scheduledAuditName");
	struct scheduled_ctx sc = { .c = c };
	int rc = dd_store_audit_scheduled_get(c->db, c->account_region, name, scheduled_get_fn, &sc);
	if (rc == DD_ENOTFOUND)
		return dd_fail(c, DD_ENOTFOUND, "ResourceNotFoundException", "Scheduled audit %s not found.", name);
	if (rc)
		return dd__db_fail(c);
	*out = sc.out;
	return 0;
}

static int dd_iot_update_scheduled_audit(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *name = dd__str(in, "scheduledAuditName");
	json_t *cur = NULL;
	if (dd_iot_describe_scheduled_audit(c, in, &cur))
		return c->err;
	const char *freq = dd__str(in, "frequency") ? dd__str(in, "frequency") : dd__str(cur, "frequency");
	bool freq_changed = dd__str(in, "frequency") != NULL;
	const char *dom = dd__str(in, "dayOfMonth") ? dd__str(in, "dayOfMonth") : freq_changed ? NULL : dd__str(cur, "dayOfMonth");
	const char *dow = dd__str(in, "dayOfWeek") ? dd__str(in, "dayOfWeek") : freq_changed ? NULL : dd__str(cur, "dayOfWeek");
	if (validate_schedule(c, freq, dom, dow)) {
		json_decref(cur);
		return c->err;
	}
	char *text = NULL;
	if (json_object_get(in, "targetCheckNames")) {
		struct config cfg;
		if (load_config(c, &cfg)) {
			json_decref(cur);
			return dd__db_fail(c);
		}
		json_t *checks = target_checks(c, json_object_get(in, "targetCheckNames"), &cfg);
		free_config(&cfg);
		if (!checks) {
			json_decref(cur);
			return c->err;
		}
		text = json_dumps(checks, JSON_COMPACT);
		json_decref(checks);
	}
	if (dd_db_begin_write(c->db)) {
		json_decref(cur);
		free(text);
		return dd__db_fail(c);
	}
	int rc = dd_store_audit_scheduled_update(c->db, c->account_region, name, freq, dom, dow, text);
	free(text);
	json_decref(cur);
	if (rc || dd_db_commit(c->db))
		return dd__db_fail(c);
	dd_audit_engine_wake(c->svc);
	*out = json_pack("{s:o}", "scheduledAuditArn", dd__arn(c, "scheduledaudit/%s", name));
	return 0;
}

static int dd_iot_delete_scheduled_audit(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *name = dd__str(in, "scheduledAuditName");
	*out = NULL;
	if (dd_db_begin_write(c->db))
		return dd__db_fail(c);
	int rc = dd_store_audit_scheduled_delete(c->db, c->account_region, name);
	if (rc == DD_ENOTFOUND) {
		dd_db_rollback(c->db);
		return dd_fail(c, DD_ENOTFOUND, "ResourceNotFoundException", "Scheduled audit %s not found.", name);
	}
	if (rc)
		return dd__db_fail(c);
	if (dd_db_commit(c->db))
		return dd__db_fail(c);
	return 0;
}

struct scheduled_page {
	struct page pg;
	struct dd_ctx *c;
};

static int scheduled_row(const struct dd_store_audit_scheduled *sa, void *ud)
{
	struct scheduled_page *sp = ud;
	if (page_full(&sp->pg))
		return PAGE_FULL;
	snprintf(sp->pg.key, sizeof sp->pg.key, "%s", sa->name);
	json_array_append_new(sp->pg.arr, scheduled_json(sp->c, sa, false));
	return 0;
}

static int dd_iot_list_scheduled_audits(struct dd_ctx *c, json_t *in, json_t **out)
{
	char after[256];
	int size;
	if (dd__page(c, in, "nextToken", "maxResults", 25, 250, after, sizeof after, &size))
		return c->err;
	struct scheduled_page sp = { .pg = { .arr = json_array(), .size = size }, .c = c };
	int rc = dd_store_audit_scheduled_list(c->db, c->account_region, after, size + 1, scheduled_row, &sp);
	return page_out(c, &sp.pg, rc, "scheduledAudits", out);
}

/* ---- extension routes -------------------------------------------------------------- */

/* POST /role-service-usage {"roleArn": "...", "services": {"s3": <last used, epoch ms>, ...}}
 * replaces the usage records of one role (what IAM's "last accessed" data would give). */
static int dd_iot_import_role_service_usage(struct dd_ctx *c, const char *body, size_t len, json_t **out)
{
	json_error_t je;
	json_t *j = json_loadb(body, len, 0, &je);
	const char *role = dd__str(j, "roleArn");
	json_t *services = json_object_get(j, "services");
	if (!role || !json_is_object(services)) {
		json_decref(j);
		return dd_fail(c, DD_EINVAL, "InvalidRequestException", "Send {\"roleArn\": \"...\", \"services\": {\"<service>\": <epoch ms>, ...}}.");
	}
	if (dd__role_arn_ok(c, "roleArn", role, "InvalidRequestException")) {
		json_decref(j);
		return c->err;
	}
	const char *svc;
	json_t *v;
	json_object_foreach(services, svc, v) {
		if (!json_is_integer(v) || strlen(svc) > 64 || !*svc) {
			/* svc belongs to j: format the message before j is freed */
			int rc = dd_fail(c, DD_EINVAL, "InvalidRequestException", "services.%.64s must be epoch milliseconds.", svc);
			json_decref(j);
			return rc;
		}
	}
	if (dd_db_begin_write(c->db)) {
		json_decref(j);
		return dd__db_fail(c);
	}
	size_t n = json_object_size(services), k = 0;
	const char **names = calloc(n ? n : 1, sizeof *names);
	int64_t *last = calloc(n ? n : 1, sizeof *last);
	int rc = names && last ? 0 : DD_ENOMEM;
	json_object_foreach(services, svc, v) {
		if (rc)
			break;
		names[k] = svc;
		last[k++] = json_integer_value(v);
	}
	if (!rc)
		rc = dd_store_audit_role_usage_replace(c->db, c->account_region, role, names, last, k);
	free(names);
	free(last);
	json_decref(j);
	if (rc || dd_db_commit(c->db))
		return dd__db_fail(c);
	*out = json_pack("{s:i}", "imported", (int)n);
	return 0;
}

/* POST /admin/clock {"nowMs": N} or {"advanceMs": N}: moves the service clock. Only a
 * server started with --test-clock accepts it. */
static int dd_iot_admin_clock(struct dd_ctx *c, const char *body, size_t len, json_t **out)
{
	if (!c->svc->test_clock)
		return dd_fail(c, DD_EDENIED, "UnauthorizedException", "The clock can only be moved on a server started with --test-clock.");
	json_error_t je;
	json_t *j = json_loadb(body, len, 0, &je);
	json_t *now = json_object_get(j, "nowMs"), *adv = json_object_get(j, "advanceMs");
	if (json_is_integer(now))
		c->svc->clock_offset_ms = json_integer_value(now) - dd_time_now_ms();
	else if (json_is_integer(adv))
		c->svc->clock_offset_ms += json_integer_value(adv);
	else {
		json_decref(j);
		return dd_fail(c, DD_EINVAL, "InvalidRequestException", "Send {\"nowMs\": N} or {\"advanceMs\": N}.");
	}
	json_decref(j);
	dd_audit_engine_wake(c->svc);
	*out = json_pack("{s:I}", "nowMs", (json_int_t)dd_service_now_ms(c->svc));
	return 0;
}

const struct dd_handler dd_iot_audit_handlers[] = {
	{ "iot", "DescribeAccountAuditConfiguration", dd_iot_describe_account_audit_configuration },
	{ "iot", "UpdateAccountAuditConfiguration", dd_iot_update_account_audit_configuration },
	{ "iot", "DeleteAccountAuditConfiguration", dd_iot_delete_account_audit_configuration },
	{ "iot", "StartOnDemandAuditTask", dd_iot_start_on_demand_audit_task },
	{ "iot", "DescribeAuditTask", dd_iot_describe_audit_task },
	{ "iot", "ListAuditTasks", dd_iot_list_audit_tasks },
	{ "iot", "CancelAuditTask", dd_iot_cancel_audit_task },
	{ "iot", "ListAuditFindings", dd_iot_list_audit_findings },
	{ "iot", "DescribeAuditFinding", dd_iot_describe_audit_finding },
	{ "iot", "ListRelatedResourcesForAuditFinding", dd_iot_list_related_resources_for_audit_finding },
	{ "iot", "CreateAuditSuppression", dd_iot_create_audit_suppression },
	{ "iot", "UpdateAuditSuppression", dd_iot_update_audit_suppression },
	{ "iot", "DescribeAuditSuppression", dd_iot_describe_audit_suppression },
	{ "iot", "DeleteAuditSuppression", dd_iot_delete_audit_suppression },
	{ "iot", "ListAuditSuppressions", dd_iot_list_audit_suppressions },
	{ "iot", "CreateScheduledAudit", dd_iot_create_scheduled_audit },
	{ "iot", "DescribeScheduledAudit", dd_iot_describe_scheduled_audit },
	{ "iot", "UpdateScheduledAudit", dd_iot_update_scheduled_audit },
	{ "iot", "DeleteScheduledAudit", dd_iot_delete_scheduled_audit },
	{ "iot", "ListScheduledAudits", dd_iot_list_scheduled_audits },
	{ NULL, NULL, NULL },
};

const struct dd_raw_route dd_iot_audit_raw_routes[] = {
	{ "POST", "/role-service-usage", dd_iot_import_role_service_usage },
	{ "POST", "/admin/clock", dd_iot_admin_clock },
	{ NULL, NULL, NULL },
};

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Device Defender audit API: account audit configuration (merge semantics, seed
 * aliases accepted and answered with API names), on-demand tasks (start, describe, list,
 * cancel), findings (list newest first, describe, related resources), suppressions and
 * scheduled audits, plus two extension routes: role service usage import (for the
 * unused-services check) and the test clock. The work itself runs in dd_audit_engine.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/dd_audit_engine.h"
#include "core/dd_audit_int.h"
#include "core/dd_registry_int.h"
#include "dd/audit.h"
#include "dd/iam.h"

int dd_iot_describe_account_audit_configuration(struct dd_ctx *c, json_t *in, json_t **out);
int dd_iot_update_account_audit_configuration(struct dd_ctx *c, json_t *in, json_t **out);
int dd_iot_delete_account_audit_configuration(struct dd_ctx *c, json_t *in, json_t **out);
int dd_iot_start_on_demand_audit_task(struct dd_ctx *c, json_t *in, json_t **out);
int dd_iot_describe_audit_task(struct dd_ctx *c, json_t *in, json_t **out);
int dd_iot_list_audit_tasks(struct dd_ctx *c, json_t *in, json_t **out);
int dd_iot_cancel_audit_task(struct dd_ctx *c, json_t *in, json_t **out);
int dd_iot_list_audit_findings(struct dd_ctx *c, json_t *in, json_t **out);
int dd_iot_describe_audit_finding(struct dd_ctx *c, json_t *in, json_t **out);
int dd_iot_list_related_resources_for_audit_finding(struct dd_ctx *c, json_t *in, json_t **out);
int dd_iot_create_audit_suppression(struct dd_ctx *c, json_t *in, json_t **out);
int dd_iot_update_audit_suppression(struct dd_ctx *c, json_t *in, json_t **out);
int dd_iot_describe_audit_suppression(struct dd_ctx *c, json_t *in, json_t **out);
int dd_iot_delete_audit_suppression(struct dd_ctx *c, json_t *in, json_t **out);
int dd_iot_list_audit_suppressions(struct dd_ctx *c, json_t *in, json_t **out);
int dd_iot_create_scheduled_audit(struct dd_ctx *c, json_t *in, json_t **out);
int dd_iot_describe_scheduled_audit(struct dd_ctx *c, json_t *in, json_t **out);
int dd_iot_update_scheduled_audit(struct dd_ctx *c, json_t *in, json_t **out);
int dd_iot_delete_scheduled_audit(struct dd_ctx *c, json_t *in, json_t **out);
int dd_iot_list_scheduled_audits(struct dd_ctx *c, json_t *in, json_t **out);
int dd_iot_import_role_service_usage(struct dd_ctx *c, const char *body, size_t len, json_t **out);
int dd_iot_admin_clock(struct dd_ctx *c, const char *body, size_t len, json_t **out);

#define MAX_IN_PROGRESS 10
#define MAX_SCHEDULED 5

static int bad_name(struct dd_ctx *c)
{
	return dd_fail(c, DD_EINVAL, "InvalidRequestException", "Request contains an invalid Audit Check Name.");
}

void dd__audit_wake(struct dd_service *svc) { dd_audit_wake(svc); }

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
	sqlite3_stmt *st = dd_db_stmt(c->db, "SELECT role_arn, targets, checks FROM audit_config WHERE account_region = ?1");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, c->account_region);
	if (sqlite3_step(st) == SQLITE_ROW) {
		cfg->found = true;
		if (sqlite3_column_type(st, 0) != SQLITE_NULL)
			cfg->role_arn = strdup(dd_col_text(st, 0));
		cfg->targets = json_loads(dd_col_text(st, 1), 0, NULL);
		cfg->checks = json_loads(dd_col_text(st, 2), 0, NULL);
	}
	sqlite3_reset(st);
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

int dd_iot_describe_account_audit_configuration(struct dd_ctx *c, json_t *in, json_t **out)
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

int dd_iot_update_account_audit_configuration(struct dd_ctx *c, json_t *in, json_t **out)
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
		const struct dd_audit_check *k = dd_audit_check_find(name);
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
	sqlite3_stmt *st = dd_db_stmt(c->db, "INSERT OR REPLACE INTO audit_config(account_region, role_arn, targets, checks) VALUES (?1, ?2, ?3, ?4)");
	int rc = st && ttext && ctext ? 0 : DD_EIO;
	if (!rc) {
		dd_bind_text(st, 1, c->account_region);
		dd_bind_text(st, 2, role ? role : cfg.role_arn);
		dd_bind_text(st, 3, ttext);
		dd_bind_text(st, 4, ctext);
		rc = dd_step_done(st);
	}
	free(ttext);
	free(ctext);
	free_config(&cfg);
	if (rc || dd_db_commit(c->db))
		return dd__db_fail(c);
	return 0;
}

static int count(struct dd_ctx *c, const char *sql)
{
	sqlite3_stmt *st = dd_db_stmt(c->db, sql);
	if (!st)
		return -1;
	dd_bind_text(st, 1, c->account_region);
	int n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
	sqlite3_reset(st);
	return n;
}

int dd_iot_delete_account_audit_configuration(struct dd_ctx *c, json_t *in, json_t **out)
{
	bool del_sched = dd__bool(in, "deleteScheduledAudits", false);
	*out = NULL;
	if (dd_db_begin_write(c->db))
		return dd__db_fail(c);
	int n = count(c, "SELECT count(*) FROM scheduled_audits WHERE account_region = ?1");
	if (n < 0)
		return dd__db_fail(c);
	if (n > 0 && !del_sched) {
		dd_db_rollback(c->db);
		return dd_fail(c, DD_ECONFLICT, "InvalidRequestException",
			       "The account has scheduled audits; pass deleteScheduledAudits to delete them too.");
	}
	static const char *const sqls[] = {
		"DELETE FROM audit_config WHERE account_region = ?1",
		"DELETE FROM scheduled_audits WHERE account_region = ?1",
	};
	for (int i = 0; i < 2; i++) {
		sqlite3_stmt *st = dd_db_stmt(c->db, sqls[i]);
		if (!st)
			return dd__db_fail(c);
		dd_bind_text(st, 1, c->account_region);
		if (dd_step_done(st))
			return dd__db_fail(c);
	}
	if (dd_db_commit(c->db))
		return dd__db_fail(c);
	return 0;
}

/* ---- tasks ------------------------------------------------------------------------- */

int dd__audit_task_create(struct dd_db *db, const char *account_region, const char *type,
			  const char *scheduled_name, json_t *checks, int64_t start_ms, int64_t window_start_ms,
			  char task_id[33])
{
	unsigned char r[16];
	if (dd_random_bytes(r, sizeof r))
		return DD_ECRYPTO;
	dd_hex_encode(r, 16, task_id);
	char *text = json_dumps(checks, JSON_COMPACT);
	if (!text)
		return DD_ENOMEM;
	if (dd_db_begin_write(db)) {
		free(text);
		return DD_EIO;
	}
	sqlite3_stmt *st = dd_db_stmt(db, "INSERT INTO audit_tasks(account_region, task_id, task_type, status, scheduled_name,"
					 " start_ms, checks, window_start_ms) VALUES (?1, ?2, ?3, 'IN_PROGRESS', ?4, ?5, ?6, ?7)");
	int rc = st ? 0 : DD_EIO;
	if (!rc) {
		dd_bind_text(st, 1, account_region);
		dd_bind_text(st, 2, task_id);
		dd_bind_text(st, 3, type);
		dd_bind_text(st, 4, scheduled_name);
		dd_bind_int64(st, 5, start_ms);
		dd_bind_text(st, 6, text);
		dd_bind_int64(st, 7, window_start_ms);
		rc = dd_step_done(st);
	}
	free(text);
	size_t i;
	json_t *n;
	json_array_foreach(checks, i, n) {
		if (rc)
			break;
		st = dd_db_stmt(db, "INSERT INTO audit_task_checks(account_region, task_id, check_name, status) VALUES (?1, ?2, ?3, 'IN_PROGRESS')");
		if (!st) {
			rc = DD_EIO;
			break;
		}
		dd_bind_text(st, 1, account_region);
		dd_bind_text(st, 2, task_id);
		dd_bind_text(st, 3, json_string_value(n));
		rc = dd_step_done(st);
	}
	if (rc) {
		dd_db_rollback(db);
		return rc;
	}
	return dd_db_commit(db);
}

/* Canonical, deduplicated check names; fails c for an unknown or disabled check. */
static json_t *target_checks(struct dd_ctx *c, json_t *names, struct config *cfg)
{
	json_t *out = json_array();
	size_t i;
	json_t *n;
	json_array_foreach(names, i, n) {
		const struct dd_audit_check *k = dd_audit_check_find(json_string_value(n));
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

int dd_iot_start_on_demand_audit_task(struct dd_ctx *c, json_t *in, json_t **out)
{
	struct config cfg;
	if (load_config(c, &cfg))
		return dd__db_fail(c);
	json_t *checks = target_checks(c, json_object_get(in, "targetCheckNames"), &cfg);
	free_config(&cfg);
	if (!checks)
		return c->err;
	int n = count(c, "SELECT count(*) FROM audit_tasks WHERE account_region = ?1 AND status = 'IN_PROGRESS' AND task_type = 'ON_DEMAND_AUDIT_TASK'");
	if (n < 0) {
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
	int rc = dd__audit_task_create(c->db, c->account_region, "ON_DEMAND_AUDIT_TASK", NULL, checks, now,
				       now - 31LL * 86400000, task_id);
	json_decref(checks);
	if (rc)
		return dd__db_fail(c);
	dd__audit_wake(c->svc);
	*out = json_pack("{s:s}", "taskId", task_id);
	return 0;
}

int dd__audit_task_json(struct dd_db *db, const char *account_region, const char *task_id, json_t **out)
{
	sqlite3_stmt *st = dd_db_stmt(db, "SELECT task_type, status, scheduled_name, start_ms FROM audit_tasks WHERE account_region = ?1 AND task_id = ?2");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account_region);
	dd_bind_text(st, 2, task_id);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_reset(st);
		return DD_ENOTFOUND;
	}
	json_t *o = json_pack("{s:s, s:s, s:o}", "taskType", dd_col_text(st, 0), "taskStatus", dd_col_text(st, 1),
			      "taskStartTime", dd_json_time(sqlite3_column_int64(st, 3)));
	if (sqlite3_column_type(st, 2) != SQLITE_NULL)
		json_object_set_new(o, "scheduledAuditName", json_string(dd_col_text(st, 2)));
	sqlite3_reset(st);
	st = dd_db_stmt(db, "SELECT check_name, status, total, noncompliant, suppressed, error_code, message FROM audit_task_checks"
			    " WHERE account_region = ?1 AND task_id = ?2 ORDER BY check_name");
	if (!st) {
		json_decref(o);
		return DD_EIO;
	}
	dd_bind_text(st, 1, account_region);
	dd_bind_text(st, 2, task_id);
	json_t *details = json_object();
	int64_t total = 0, inprog = 0, waiting = 0, compliant = 0, noncompl = 0, failed = 0, canceled = 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *status = dd_col_text(st, 1);
		json_t *d = json_pack("{s:s}", "checkRunStatus", status);
		bool done = strncmp(status, "COMPLETED", 9) == 0;
		if (done) {
			json_object_set_new(d, "checkCompliant", json_boolean(strcmp(status, "COMPLETED_COMPLIANT") == 0));
			json_object_set_new(d, "totalResourcesCount", json_integer(sqlite3_column_int64(st, 2)));
			json_object_set_new(d, "nonCompliantResourcesCount", json_integer(sqlite3_column_int64(st, 3)));
			json_object_set_new(d, "suppressedNonCompliantResourcesCount", json_integer(sqlite3_column_int64(st, 4)));
		}
		if (sqlite3_column_type(st, 5) != SQLITE_NULL)
			json_object_set_new(d, "errorCode", json_string(dd_col_text(st, 5)));
		if (sqlite3_column_type(st, 6) != SQLITE_NULL)
			json_object_set_new(d, "message", json_string(dd_col_text(st, 6)));
		json_object_set_new(details, dd_col_text(st, 0), d);
		total++;
		if (strcmp(status, "IN_PROGRESS") == 0) inprog++;
		else if (strcmp(status, "WAITING_FOR_DATA_COLLECTION") == 0) waiting++;
		else if (strcmp(status, "COMPLETED_COMPLIANT") == 0) compliant++;
		else if (strcmp(status, "COMPLETED_NON_COMPLIANT") == 0) noncompl++;
		else if (strcmp(status, "FAILED") == 0) failed++;
		else if (strcmp(status, "CANCELED") == 0) canceled++;
	}
	sqlite3_reset(st);
	json_object_set_new(o, "taskStatistics",
			    json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "totalChecks", (json_int_t)total,
				      "inProgressChecks", (json_int_t)inprog, "waitingForDataCollectionChecks", (json_int_t)waiting,
				      "compliantChecks", (json_int_t)compliant, "nonCompliantChecks", (json_int_t)noncompl,
				      "failedChecks", (json_int_t)failed, "canceledChecks", (json_int_t)canceled));
	json_object_set_new(o, "auditDetails", details);
	*out = o;
	return 0;
}

int dd_iot_describe_audit_task(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *id = dd__str(in, "taskId");
	int rc = dd__audit_task_json(c->db, c->account_region, id, out);
	if (rc == DD_ENOTFOUND)
		return dd_fail(c, rc, "ResourceNotFoundException", "Audit task %s not found.", id);
	if (rc)
		return dd__db_fail(c);
	return 0;
}

static json_t *task_row(struct dd_ctx *c, sqlite3_stmt *st, char *key, size_t keylen)
{
	(void)c;
	snprintf(key, keylen, "%lld|%s", (long long)sqlite3_column_int64(st, 3), dd_col_text(st, 0));
	return json_pack("{s:s, s:s, s:s}", "taskId", dd_col_text(st, 0), "taskStatus", dd_col_text(st, 1),
			 "taskType", dd_col_text(st, 2));
}

int dd_iot_list_audit_tasks(struct dd_ctx *c, json_t *in, json_t **out)
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
	sqlite3_stmt *st = dd_db_stmt(c->db,
		"SELECT task_id, status, task_type, start_ms FROM audit_tasks WHERE account_region = ?1 AND start_ms >= ?2 AND start_ms <= ?3"
		" AND (?4 IS NULL OR task_type = ?4) AND (?5 IS NULL OR status = ?5)"
		" AND (start_ms < ?6 OR (start_ms = ?6 AND task_id > ?7)) ORDER BY start_ms DESC, task_id LIMIT ?8");
	if (!st)
		return dd__db_fail(c);
	dd_bind_text(st, 1, c->account_region);
	dd_bind_int64(st, 2, start);
	dd_bind_int64(st, 3, end);
	dd_bind_text(st, 4, dd__str(in, "taskType"));
	dd_bind_text(st, 5, dd__str(in, "taskStatus"));
	dd_bind_int64(st, 6, a_ms);
	dd_bind_text(st, 7, a_id);
	dd_bind_int64(st, 8, size + 1);
	return dd__page_list(c, st, size, task_row, "tasks", "nextToken", out);
}

int dd_iot_cancel_audit_task(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *id = dd__str(in, "taskId");
	*out = NULL;
	if (dd_db_begin_write(c->db))
		return dd__db_fail(c);
	sqlite3_stmt *st = dd_db_stmt(c->db, "SELECT status FROM audit_tasks WHERE account_region = ?1 AND task_id = ?2");
	if (!st)
		return dd__db_fail(c);
	dd_bind_text(st, 1, c->account_region);
	dd_bind_text(st, 2, id);
	char status[32] = "";
	if (sqlite3_step(st) == SQLITE_ROW)
		snprintf(status, sizeof status, "%s", dd_col_text(st, 0));
	sqlite3_reset(st);
	if (!status[0]) {
		dd_db_rollback(c->db);
		return dd_fail(c, DD_ENOTFOUND, "ResourceNotFoundException", "Audit task %s not found.", id);
	}
	if (strcmp(status, "IN_PROGRESS") != 0) {
		dd_db_rollback(c->db);
		return dd_fail(c, DD_ECONFLICT, "InvalidRequestException", "Audit task %s is %s and cannot be canceled.", id, status);
	}
	static const char *const sqls[] = {
		"UPDATE audit_tasks SET status = 'CANCELED', end_ms = ?3 WHERE account_region = ?1 AND task_id = ?2",
		"UPDATE audit_task_checks SET status = 'CANCELED' WHERE account_region = ?1 AND task_id = ?2 AND status = 'IN_PROGRESS'",
	};
	for (int i = 0; i < 2; i++) {
		st = dd_db_stmt(c->db, sqls[i]);
		if (!st)
			return dd__db_fail(c);
		dd_bind_text(st, 1, c->account_region);
		dd_bind_text(st, 2, id);
		if (i == 0)
			dd_bind_int64(st, 3, dd_service_now_ms(c->svc));
		if (dd_step_done(st))
			return dd__db_fail(c);
	}
	if (dd_db_commit(c->db))
		return dd__db_fail(c);
	return 0;
}

/* ---- findings ---------------------------------------------------------------------- */

static json_t *finding_json(sqlite3_stmt *st)
{
	/* columns: finding_id, task_id, check_name, task_start_ms, finding_ms, severity,
	 * resource, related, reason, reason_code, suppressed */
	json_t *res = json_loads(dd_col_text(st, 6), 0, NULL);
	json_t *rel = json_loads(dd_col_text(st, 7), 0, NULL);
	return json_pack("{s:s, s:s, s:s, s:o, s:o, s:s, s:o, s:o, s:s, s:s, s:b}", "findingId", dd_col_text(st, 0),
			 "taskId", dd_col_text(st, 1), "checkName", dd_col_text(st, 2), "taskStartTime",
			 dd_json_time(sqlite3_column_int64(st, 3)), "findingTime", dd_json_time(sqlite3_column_int64(st, 4)),
			 "severity", dd_col_text(st, 5), "nonCompliantResource", res ? res : json_object(),
			 "relatedResources", rel ? rel : json_array(), "reasonForNonCompliance", dd_col_text(st, 8),
			 "reasonForNonComplianceCode", dd_col_text(st, 9), "isSuppressed", sqlite3_column_int(st, 10) != 0);
}

static json_t *finding_row(struct dd_ctx *c, sqlite3_stmt *st, char *key, size_t keylen)
{
	(void)c;
	snprintf(key, keylen, "%lld|%s", (long long)sqlite3_column_int64(st, 4), dd_col_text(st, 0));
	return finding_json(st);
}

int dd_iot_list_audit_findings(struct dd_ctx *c, json_t *in, json_t **out)
{
	char after[128];
	int size;
	if (dd__page(c, in, "nextToken", "maxResults", 25, 250, after, sizeof after, &size))
		return c->err;
	const char *task = dd__str(in, "taskId");
	const char *check_in = dd__str(in, "checkName");
	const char *check = NULL;
	if (check_in) {
		const struct dd_audit_check *k = dd_audit_check_find(check_in);
		if (!k)
			return bad_name(c);
		check = k->name;
	}
	json_t *rid = json_object_get(in, "resourceIdentifier");
	char *key = rid ? dd__audit_resource_key(rid) : NULL;
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
	sqlite3_stmt *st = dd_db_stmt(c->db,
		"SELECT finding_id, task_id, check_name, task_start_ms, finding_ms, severity, resource, related, reason,"
		" reason_code, suppressed FROM audit_findings WHERE account_region = ?1 AND (?2 IS NULL OR task_id = ?2)"
		" AND (?3 IS NULL OR check_name = ?3) AND (?4 IS NULL OR resource_key = ?4)"
		" AND finding_ms >= ?5 AND finding_ms <= ?6 AND (?7 IS NULL OR suppressed = ?7)"
		" AND (finding_ms < ?8 OR (finding_ms = ?8 AND finding_id > ?9))"
		" ORDER BY finding_ms DESC, finding_id LIMIT ?10");
	if (!st) {
		free(key);
		return dd__db_fail(c);
	}
	dd_bind_text(st, 1, c->account_region);
	dd_bind_text(st, 2, task);
	dd_bind_text(st, 3, check);
	dd_bind_text(st, 4, key);
	dd_bind_int64(st, 5, start);
	dd_bind_int64(st, 6, end);
	if (json_is_boolean(sup))
		dd_bind_int64(st, 7, json_is_true(sup));
	dd_bind_int64(st, 8, a_ms);
	dd_bind_text(st, 9, a_id);
	dd_bind_int64(st, 10, size + 1);
	free(key);
	return dd__page_list(c, st, size, finding_row, "findings", "nextToken", out);
}

static json_t *load_finding(struct dd_ctx *c, const char *id)
{
	sqlite3_stmt *st = dd_db_stmt(c->db, "SELECT finding_id, task_id, check_name, task_start_ms, finding_ms, severity, resource,"
					     " related, reason, reason_code, suppressed FROM audit_findings WHERE account_region = ?1 AND finding_id = ?2");
	if (!st)
		return NULL;
	dd_bind_text(st, 1, c->account_region);
	dd_bind_text(st, 2, id);
	json_t *f = sqlite3_step(st) == SQLITE_ROW ? finding_json(st) : NULL;
	sqlite3_reset(st);
	return f;
}

int dd_iot_describe_audit_finding(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *id = dd__str(in, "findingId");
	json_t *f = load_finding(c, id);
	if (!f)
		return dd_fail(c, DD_ENOTFOUND, "ResourceNotFoundException", "Audit finding %s not found.", id);
	*out = json_pack("{s:o}", "finding", f);
	return 0;
}

int dd_iot_list_related_resources_for_audit_finding(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *id = dd__str(in, "findingId");
	char after[32];
	int size;
	if (dd__page(c, in, "nextToken", "maxResults", 25, 250, after, sizeof after, &size))
		return c->err;
	int64_t from = 0;
	if (after[0] && dd_parse_int64(after, 0, INT32_MAX, &from))
		return dd_fail(c, DD_EINVAL, "InvalidRequestException", "The nextToken is not valid.");
	json_t *f = load_finding(c, id);
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
	const struct dd_audit_check *k = dd_audit_check_find(dd__str(in, "checkName"));
	if (!k)
		return bad_name(c);
	json_t *rid = json_object_get(in, "resourceIdentifier");
	if (!json_is_object(rid) || json_object_size(rid) == 0)
		return dd_fail(c, DD_EINVAL, "InvalidRequestException", "resourceIdentifier is required.");
	*check = k->name;
	*key = dd__audit_resource_key(rid);
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
	if (dd_db_begin_write(c->db)) {
		free(key);
		free(res);
		return dd__db_fail(c);
	}
	sqlite3_stmt *st = dd_db_stmt(c->db, "SELECT 1 FROM audit_suppressions WHERE account_region = ?1 AND check_name = ?2 AND resource_key = ?3");
	int rc = st ? 0 : DD_EIO;
	bool exists = false;
	if (!rc) {
		dd_bind_text(st, 1, c->account_region);
		dd_bind_text(st, 2, check);
		dd_bind_text(st, 3, key);
		exists = sqlite3_step(st) == SQLITE_ROW;
		sqlite3_reset(st);
	}
	if (!rc && create && exists) {
		dd_db_rollback(c->db);
		free(key);
		free(res);
		return dd_fail(c, DD_EEXIST, "ResourceAlreadyExistsException", "A suppression for this check and resource already exists.");
	}
	if (!rc && !create && !exists) {
		dd_db_rollback(c->db);
		free(key);
		free(res);
		return dd_fail(c, DD_ENOTFOUND, "ResourceNotFoundException", "No suppression for this check and resource.");
	}
	if (!rc) {
		st = create ? dd_db_stmt(c->db, "INSERT INTO audit_suppressions(account_region, check_name, resource_key, resource, expiration_ms,"
						" indefinite, description) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")
			    : dd_db_stmt(c->db, "UPDATE audit_suppressions SET expiration_ms = CASE WHEN ?8 THEN ?5 ELSE expiration_ms END,"
						" indefinite = CASE WHEN ?9 THEN ?6 WHEN ?8 THEN 0 ELSE indefinite END,"
						" description = coalesce(?7, description), resource = ?4"
						" WHERE account_region = ?1 AND check_name = ?2 AND resource_key = ?3");
		if (!st)
			rc = DD_EIO;
	}
	if (!rc) {
		dd_bind_text(st, 1, c->account_region);
		dd_bind_text(st, 2, check);
		dd_bind_text(st, 3, key);
		dd_bind_text(st, 4, res);
		if (exp)
			dd_bind_int64(st, 5, exp_ms);
		dd_bind_int64(st, 6, json_is_true(indef));
		dd_bind_text(st, 7, dd__str(in, "description"));
		if (!create) {
			dd_bind_int64(st, 8, exp != NULL);
			dd_bind_int64(st, 9, json_is_boolean(indef));
		}
		rc = dd_step_done(st);
	}
	free(key);
	free(res);
	if (rc || dd_db_commit(c->db))
		return dd__db_fail(c);
	return 0;
}

int dd_iot_create_audit_suppression(struct dd_ctx *c, json_t *in, json_t **out)
{
	*out = NULL;
	return suppression_write(c, in, true);
}

int dd_iot_update_audit_suppression(struct dd_ctx *c, json_t *in, json_t **out)
{
	*out = NULL;
	return suppression_write(c, in, false);
}

static json_t *suppression_json(sqlite3_stmt *st)
{
	/* check_name, resource, expiration_ms, indefinite, description */
	json_t *rid = json_loads(dd_col_text(st, 1), 0, NULL);
	json_t *o = json_pack("{s:s, s:o, s:b}", "checkName", dd_col_text(st, 0), "resourceIdentifier",
			      rid ? rid : json_object(), "suppressIndefinitely", sqlite3_column_int(st, 3) != 0);
	if (sqlite3_column_type(st, 2) != SQLITE_NULL)
		json_object_set_new(o, "expirationDate", dd_json_time(sqlite3_column_int64(st, 2)));
	if (sqlite3_column_type(st, 4) != SQLITE_NULL)
		json_object_set_new(o, "description", json_string(dd_col_text(st, 4)));
	return o;
}

int dd_iot_describe_audit_suppression(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *check;
	char *key;
	if (suppression_key(c, in, &check, &key))
		return c->err;
	sqlite3_stmt *st = dd_db_stmt(c->db, "SELECT check_name, resource, expiration_ms, indefinite, description FROM audit_suppressions"
					     " WHERE account_region = ?1 AND check_name = ?2 AND resource_key = ?3");
	if (!st) {
		free(key);
		return dd__db_fail(c);
	}
	dd_bind_text(st, 1, c->account_region);
	dd_bind_text(st, 2, check);
	dd_bind_text(st, 3, key);
	free(key);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_reset(st);
		return dd_fail(c, DD_ENOTFOUND, "ResourceNotFoundException", "No suppression for this check and resource.");
	}
	*out = suppression_json(st);
	sqlite3_reset(st);
	return 0;
}

int dd_iot_delete_audit_suppression(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *check;
	char *key;
	*out = NULL;
	if (suppression_key(c, in, &check, &key))
		return c->err;
	if (dd_db_begin_write(c->db)) {
		free(key);
		return dd__db_fail(c);
	}
	sqlite3_stmt *st = dd_db_stmt(c->db, "DELETE FROM audit_suppressions WHERE account_region = ?1 AND check_name = ?2 AND resource_key = ?3");
	if (!st) {
		free(key);
		return dd__db_fail(c);
	}
	dd_bind_text(st, 1, c->account_region);
	dd_bind_text(st, 2, check);
	dd_bind_text(st, 3, key);
	free(key);
	if (dd_step_done(st))
		return dd__db_fail(c);
	/* DeleteAuditSuppression declares no ResourceNotFoundException: deleting a suppression
	 * that does not exist succeeds, as in AWS */
	if (dd_db_commit(c->db))
		return dd__db_fail(c);
	return 0;
}

static json_t *suppression_row(struct dd_ctx *c, sqlite3_stmt *st, char *key, size_t keylen)
{
	(void)c;
	snprintf(key, keylen, "%s", dd_col_text(st, 5));
	return suppression_json(st);
}

int dd_iot_list_audit_suppressions(struct dd_ctx *c, json_t *in, json_t **out)
{
	char after[2048];
	int size;
	if (dd__page(c, in, "nextToken", "maxResults", 25, 250, after, sizeof after, &size))
		return c->err;
	const char *check = NULL;
	if (dd__str(in, "checkName")) {
		const struct dd_audit_check *k = dd_audit_check_find(dd__str(in, "checkName"));
		if (!k)
			return bad_name(c);
		check = k->name;
	}
	json_t *rid = json_object_get(in, "resourceIdentifier");
	char *key = rid ? dd__audit_resource_key(rid) : NULL;
	bool asc = dd__bool(in, "ascendingOrder", true);
	sqlite3_stmt *st = asc
		? dd_db_stmt(c->db, "SELECT check_name, resource, expiration_ms, indefinite, description, check_name || '\n' || resource_key"
				    " FROM audit_suppressions WHERE account_region = ?1 AND (?2 IS NULL OR check_name = ?2) AND (?3 IS NULL OR resource_key = ?3)"
				    " AND check_name || '\n' || resource_key > ?4 ORDER BY check_name || '\n' || resource_key LIMIT ?5")
		: dd_db_stmt(c->db, "SELECT check_name, resource, expiration_ms, indefinite, description, check_name || '\n' || resource_key"
				    " FROM audit_suppressions WHERE account_region = ?1 AND (?2 IS NULL OR check_name = ?2) AND (?3 IS NULL OR resource_key = ?3)"
				    " AND (?4 = '' OR check_name || '\n' || resource_key < ?4) ORDER BY check_name || '\n' || resource_key DESC LIMIT ?5");
	if (!st) {
		free(key);
		return dd__db_fail(c);
	}
	dd_bind_text(st, 1, c->account_region);
	dd_bind_text(st, 2, check);
	dd_bind_text(st, 3, key);
	dd_bind_text(st, 4, after);
	dd_bind_int64(st, 5, size + 1);
	free(key);
	return dd__page_list(c, st, size, suppression_row, "suppressions", "nextToken", out);
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

int dd_iot_create_scheduled_audit(struct dd_ctx *c, json_t *in, json_t **out)
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
	int n = count(c, "SELECT count(*) FROM scheduled_audits WHERE account_region = ?1");
	sqlite3_stmt *st = dd_db_stmt(c->db, "SELECT 1 FROM scheduled_audits WHERE account_region = ?1 AND name = ?2");
	bool exists = false;
	if (st) {
		dd_bind_text(st, 1, c->account_region);
		dd_bind_text(st, 2, name);
		exists = sqlite3_step(st) == SQLITE_ROW;
		sqlite3_reset(st);
	}
	if (n < 0 || !st) {
		free(text);
		return dd__db_fail(c);
	}
	if (exists) {
		free(text);
		dd_db_rollback(c->db);
		return dd_fail(c, DD_EEXIST, "ResourceAlreadyExistsException", "Scheduled audit %s already exists.", name);
	}
	if (n >= MAX_SCHEDULED) {
		free(text);
		dd_db_rollback(c->db);
		return dd_fail(c, DD_ELIMIT, "LimitExceededException", "An account can have at most %d scheduled audits.", MAX_SCHEDULED);
	}
	int64_t now = dd_service_now_ms(c->svc);
	st = dd_db_stmt(c->db, "INSERT INTO scheduled_audits(account_region, name, frequency, day_of_month, day_of_week, checks, created)"
			       " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
	int rc = st ? 0 : DD_EIO;
	if (!rc) {
		dd_bind_text(st, 1, c->account_region);
		dd_bind_text(st, 2, name);
		dd_bind_text(st, 3, freq);
		dd_bind_text(st, 4, dom);
		dd_bind_text(st, 5, dow);
		dd_bind_text(st, 6, text);
		dd_bind_int64(st, 7, now);
		rc = dd_step_done(st);
	}
	free(text);
	char arn[700];
	dd__arn_buf(c, arn, sizeof arn, "scheduledaudit/%s", name);
	if (rc || dd__tags_put(c, arn, json_object_get(in, "tags")) || dd_db_commit(c->db))
		return dd__db_fail(c);
	dd__audit_wake(c->svc);
	*out = json_pack("{s:s}", "scheduledAuditArn", arn);
	return 0;
}

int dd_iot_describe_scheduled_audit(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *name = dd__str(in, "scheduledAuditName");
	sqlite3_stmt *st = dd_db_stmt(c->db, "SELECT frequency, day_of_month, day_of_week, checks FROM scheduled_audits WHERE account_region = ?1 AND name = ?2");
	if (!st)
		return dd__db_fail(c);
	dd_bind_text(st, 1, c->account_region);
	dd_bind_text(st, 2, name);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_reset(st);
		return dd_fail(c, DD_ENOTFOUND, "ResourceNotFoundException", "Scheduled audit %s not found.", name);
	}
	json_t *checks = json_loads(dd_col_text(st, 3), 0, NULL);
	json_t *o = json_pack("{s:s, s:o, s:s, s:o}", "frequency", dd_col_text(st, 0), "targetCheckNames",
			      checks ? checks : json_array(), "scheduledAuditName", name, "scheduledAuditArn",
			      dd__arn(c, "scheduledaudit/%s", name));
	if (sqlite3_column_type(st, 1) != SQLITE_NULL)
		json_object_set_new(o, "dayOfMonth", json_string(dd_col_text(st, 1)));
	if (sqlite3_column_type(st, 2) != SQLITE_NULL)
		json_object_set_new(o, "dayOfWeek", json_string(dd_col_text(st, 2)));
	sqlite3_reset(st);
	*out = o;
	return 0;
}

int dd_iot_update_scheduled_audit(struct dd_ctx *c, json_t *in, json_t **out)
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
	sqlite3_stmt *st = dd_db_stmt(c->db, "UPDATE scheduled_audits SET frequency = ?3, day_of_month = ?4, day_of_week = ?5,"
					     " checks = coalesce(?6, checks) WHERE account_region = ?1 AND name = ?2");
	int rc = st ? 0 : DD_EIO;
	if (!rc) {
		dd_bind_text(st, 1, c->account_region);
		dd_bind_text(st, 2, name);
		dd_bind_text(st, 3, freq);
		dd_bind_text(st, 4, dom);
		dd_bind_text(st, 5, dow);
		dd_bind_text(st, 6, text);
		rc = dd_step_done(st);
	}
	free(text);
	json_decref(cur);
	if (rc || dd_db_commit(c->db))
		return dd__db_fail(c);
	dd__audit_wake(c->svc);
	*out = json_pack("{s:o}", "scheduledAuditArn", dd__arn(c, "scheduledaudit/%s", name));
	return 0;
}

int dd_iot_delete_scheduled_audit(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *name = dd__str(in, "scheduledAuditName");
	*out = NULL;
	if (dd_db_begin_write(c->db))
		return dd__db_fail(c);
	sqlite3_stmt *st = dd_db_stmt(c->db, "DELETE FROM scheduled_audits WHERE account_region = ?1 AND name = ?2");
	if (!st)
		return dd__db_fail(c);
	dd_bind_text(st, 1, c->account_region);
	dd_bind_text(st, 2, name);
	if (dd_step_done(st))
		return dd__db_fail(c);
	if (sqlite3_changes(dd_db_handle(c->db)) == 0) {
		dd_db_rollback(c->db);
		return dd_fail(c, DD_ENOTFOUND, "ResourceNotFoundException", "Scheduled audit %s not found.", name);
	}
	if (dd_db_commit(c->db))
		return dd__db_fail(c);
	return 0;
}

static json_t *scheduled_row(struct dd_ctx *c, sqlite3_stmt *st, char *key, size_t keylen)
{
	snprintf(key, keylen, "%s", dd_col_text(st, 0));
	json_t *o = json_pack("{s:s, s:o, s:s}", "scheduledAuditName", key, "scheduledAuditArn",
			      dd__arn(c, "scheduledaudit/%s", key), "frequency", dd_col_text(st, 1));
	if (sqlite3_column_type(st, 2) != SQLITE_NULL)
		json_object_set_new(o, "dayOfMonth", json_string(dd_col_text(st, 2)));
	if (sqlite3_column_type(st, 3) != SQLITE_NULL)
		json_object_set_new(o, "dayOfWeek", json_string(dd_col_text(st, 3)));
	return o;
}

int dd_iot_list_scheduled_audits(struct dd_ctx *c, json_t *in, json_t **out)
{
	char after[256];
	int size;
	if (dd__page(c, in, "nextToken", "maxResults", 25, 250, after, sizeof after, &size))
		return c->err;
	sqlite3_stmt *st = dd_db_stmt(c->db, "SELECT name, frequency, day_of_month, day_of_week FROM scheduled_audits"
					     " WHERE account_region = ?1 AND name > ?2 ORDER BY name LIMIT ?3");
	if (!st)
		return dd__db_fail(c);
	dd_bind_text(st, 1, c->account_region);
	dd_bind_text(st, 2, after);
	dd_bind_int64(st, 3, size + 1);
	return dd__page_list(c, st, size, scheduled_row, "scheduledAudits", "nextToken", out);
}

/* ---- extension routes -------------------------------------------------------------- */

/* POST /role-service-usage {"roleArn": "...", "services": {"s3": <last used, epoch ms>, ...}}
 * replaces the usage records of one role (what IAM's "last accessed" data would give). */
int dd_iot_import_role_service_usage(struct dd_ctx *c, const char *body, size_t len, json_t **out)
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
	sqlite3_stmt *st = dd_db_stmt(c->db, "DELETE FROM role_service_usage WHERE account_region = ?1 AND role_arn = ?2");
	int rc = st ? 0 : DD_EIO;
	if (!rc) {
		dd_bind_text(st, 1, c->account_region);
		dd_bind_text(st, 2, role);
		rc = dd_step_done(st);
	}
	json_object_foreach(services, svc, v) {
		if (rc)
			break;
		st = dd_db_stmt(c->db, "INSERT INTO role_service_usage(account_region, role_arn, service, last_used) VALUES (?1, ?2, ?3, ?4)");
		if (!st) {
			rc = DD_EIO;
			break;
		}
		dd_bind_text(st, 1, c->account_region);
		dd_bind_text(st, 2, role);
		dd_bind_text(st, 3, svc);
		dd_bind_int64(st, 4, json_integer_value(v));
		rc = dd_step_done(st);
	}
	size_t n = json_object_size(services);
	json_decref(j);
	if (rc || dd_db_commit(c->db))
		return dd__db_fail(c);
	*out = json_pack("{s:i}", "imported", (int)n);
	return 0;
}

/* POST /admin/clock {"nowMs": N} or {"advanceMs": N}: moves the service clock. Only a
 * server started with --test-clock accepts it. */
int dd_iot_admin_clock(struct dd_ctx *c, const char *body, size_t len, json_t **out)
{
	if (!c->svc->test_clock)
		return dd_fail(c, DD_EDENIED, "UnauthorizedException", "The clock can only be moved on a server started with --test-clock.");
	json_error_t je;
	json_t *j = json_loadb(body, len, 0, &je);
	json_t *now = json_object_get(j, "nowMs"), *adv = json_object_get(j, "advanceMs");
	if (json_is_integer(now))
		c->svc->clock_offset_ms = json_integer_value(now) - dd_now_ms();
	else if (json_is_integer(adv))
		c->svc->clock_offset_ms += json_integer_value(adv);
	else {
		json_decref(j);
		return dd_fail(c, DD_EINVAL, "InvalidRequestException", "Send {\"nowMs\": N} or {\"advanceMs\": N}.");
	}
	json_decref(j);
	dd__audit_wake(c->svc);
	*out = json_pack("{s:I}", "nowMs", (json_int_t)dd_service_now_ms(c->svc));
	return 0;
}

const struct dd_handler dd_audit_handlers[] = {
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

const struct dd_raw_route dd_audit_raw_routes[] = {
	{ "POST", "/role-service-usage", dd_iot_import_role_service_usage },
	{ "POST", "/admin/clock", dd_iot_admin_clock },
	{ NULL, NULL, NULL },
};

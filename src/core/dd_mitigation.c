/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Device Defender mitigation actions: the definitions (Create / Update / Delete / Describe
 * / List MitigationAction) and the audit mitigation actions tasks (Start / Describe /
 * List / Cancel, ListAuditMitigationActionsExecutions). A definition is validated once,
 * here: exactly one actionParams member, which fixes the action type for good; a role
 * that exists and trusts iot.amazonaws.com; existing groups, topic and logging role.
 * Starting a task validates the whole check -> actions mapping against each check's
 * allowed action types before anything is written, then, in one write transaction,
 * stores the task with a snapshot of the action definitions and expands its target into
 * one PENDING execution row per (finding, action) — SKIPPED at once for suppressed
 * findings. The engine (dd_mitigation_engine.c) runs the PENDING rows; nothing here
 * changes the registry.
 */
#include <stdlib.h>
#include <string.h>

#include "core/dd_audit_int.h"
#include "core/dd_registry_int.h"
#include "dd/iam.h"
#include "dd/mitigation.h"

#define MAX_ACTIONS_PER_ACCOUNT 100
#define MAX_TASKS_IN_PROGRESS 10
#define MAX_ACTIONS_PER_CHECK 5
#define MAX_FINDING_IDS 25

int dd_iot_create_mitigation_action(struct dd_ctx *c, json_t *in, json_t **out);
int dd_iot_update_mitigation_action(struct dd_ctx *c, json_t *in, json_t **out);
int dd_iot_delete_mitigation_action(struct dd_ctx *c, json_t *in, json_t **out);
int dd_iot_describe_mitigation_action(struct dd_ctx *c, json_t *in, json_t **out);
int dd_iot_list_mitigation_actions(struct dd_ctx *c, json_t *in, json_t **out);
int dd_iot_start_audit_mitigation_actions_task(struct dd_ctx *c, json_t *in, json_t **out);
int dd_iot_describe_audit_mitigation_actions_task(struct dd_ctx *c, json_t *in, json_t **out);
int dd_iot_list_audit_mitigation_actions_tasks(struct dd_ctx *c, json_t *in, json_t **out);
int dd_iot_list_audit_mitigation_actions_executions(struct dd_ctx *c, json_t *in, json_t **out);
int dd_iot_cancel_audit_mitigation_actions_task(struct dd_ctx *c, json_t *in, json_t **out);

/* actionParams member -> action type, in the model's order. */
static const struct {
	const char *member;
	const char *type;
} kinds[] = {
	{ "updateDeviceCertificateParams", "UPDATE_DEVICE_CERTIFICATE" },
	{ "updateCACertificateParams", "UPDATE_CA_CERTIFICATE" },
	{ "addThingsToThingGroupParams", "ADD_THINGS_TO_THING_GROUP" },
	{ "replaceDefaultPolicyVersionParams", "REPLACE_DEFAULT_POLICY_VERSION" },
	{ "enableIoTLoggingParams", "ENABLE_IOT_LOGGING" },
	{ "publishFindingToSnsParams", "PUBLISH_FINDING_TO_SNS" },
};
#define NKINDS (sizeof kinds / sizeof kinds[0])

#define INVALID(c, ...) dd_fail((c), DD_EINVAL, "InvalidRequestException", __VA_ARGS__)
#define S(x) ((x) ? (x) : "")

/* The first of a and b that is not NULL (the other is released). */
static json_t *or_else(json_t *a, json_t *b)
{
	if (a) {
		json_decref(b);
		return a;
	}
	return b;
}

static int role_ok(struct dd_ctx *c, const char *field, const char *role)
{
	bool trusts = false;
	if (dd__role_arn_ok(c, field, role, "InvalidRequestException"))
		return c->err;
	int rc = dd_iam_role_trusts_service(c->db, c->account, role, "iot.amazonaws.com", &trusts);
	if (rc == DD_ENOTFOUND)
		return INVALID(c, "%s: the role %s does not exist.", field, role);
	if (rc)
		return dd__db_fail(c);
	if (!trusts)
		return INVALID(c, "%s: the role %s does not trust iot.amazonaws.com to assume it.", field, role);
	return 0;
}

/* Does the SNS topic exist in the caller's account? Its ARN names its region. */
static bool sns_topic_exists(struct dd_ctx *c, const char *topic_arn)
{
	sqlite3_stmt *st = dd_db_stmt(c->db, "SELECT 1 FROM sns_topics WHERE account = ?1 AND arn = ?2");
	if (!st)
		return false;
	dd_bind_text(st, 1, c->account);
	dd_bind_text(st, 2, topic_arn);
	bool found = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_reset(st);
	return found;
}

/* Does the regional row exist? sql selects by account_region (?1) and key (?2). */
static bool row_exists(struct dd_ctx *c, const char *sql, const char *key)
{
	sqlite3_stmt *st = dd_db_stmt(c->db, sql);
	if (!st)
		return false;
	dd_bind_text(st, 1, c->account_region);
	dd_bind_text(st, 2, key);
	bool found = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_reset(st);
	return found;
}

/* Validates actionParams; sets *type (static string) and a normalized copy in *norm. */
static int validate_params(struct dd_ctx *c, json_t *params, const char **type, json_t **norm)
{
	const char *member = NULL;
	json_t *p = NULL;
	size_t set = 0;
	for (size_t i = 0; i < NKINDS; i++) {
		json_t *v = json_object_get(params, kinds[i].member);
		if (v && !json_is_null(v)) {
			set++;
			member = kinds[i].member;
			p = v;
			*type = kinds[i].type;
		}
	}
	if (set != 1)
		return INVALID(c, "actionParams must contain exactly one of updateDeviceCertificateParams, updateCACertificateParams,"
			       " addThingsToThingGroupParams, replaceDefaultPolicyVersionParams, enableIoTLoggingParams,"
			       " publishFindingToSnsParams");
	json_t *n = NULL;
	if (!strcmp(*type, "UPDATE_DEVICE_CERTIFICATE") || !strcmp(*type, "UPDATE_CA_CERTIFICATE")) {
		const char *a = dd__str(p, "action");
		if (!a || strcmp(a, "DEACTIVATE"))
			return INVALID(c, "actionParams.%s.action must be DEACTIVATE", member);
		n = json_pack("{s:s}", "action", a);
	} else if (!strcmp(*type, "ADD_THINGS_TO_THING_GROUP")) {
		json_t *groups = json_object_get(p, "thingGroupNames");
		size_t ng = json_array_size(groups);
		if (ng < 1 || ng > 10)
			return INVALID(c, "actionParams.addThingsToThingGroupParams.thingGroupNames must name 1 to 10 thing groups");
		size_t i;
		json_t *g;
		json_array_foreach(groups, i, g) {
			const char *name = json_string_value(g);
			sqlite3_stmt *st = dd_db_stmt(c->db, "SELECT dynamic FROM thing_groups WHERE account_region = ?1 AND name = ?2");
			if (!st)
				return dd__db_fail(c);
			dd_bind_text(st, 1, c->account_region);
			dd_bind_text(st, 2, name);
			int r = sqlite3_step(st);
			bool dynamic = r == SQLITE_ROW && sqlite3_column_int(st, 0) != 0;
			sqlite3_reset(st);
			if (r != SQLITE_ROW)
				return INVALID(c, "actionParams.addThingsToThingGroupParams.thingGroupNames: the thing group %s does not exist.", name);
			if (dynamic)
				return INVALID(c, "actionParams.addThingsToThingGroupParams.thingGroupNames: %s is a dynamic thing group; things can only be added to static groups.", name);
		}
		n = json_pack("{s:O, s:b}", "thingGroupNames", groups, "overrideDynamicGroups",
			      json_is_true(json_object_get(p, "overrideDynamicGroups")));
	} else if (!strcmp(*type, "REPLACE_DEFAULT_POLICY_VERSION")) {
		const char *t = dd__str(p, "templateName");
		if (!t || strcmp(t, "BLANK_POLICY"))
			return INVALID(c, "actionParams.replaceDefaultPolicyVersionParams.templateName must be BLANK_POLICY");
		n = json_pack("{s:s}", "templateName", t);
	} else if (!strcmp(*type, "ENABLE_IOT_LOGGING")) {
		const char *lvl = dd__str(p, "logLevel");
		const char *role = dd__str(p, "roleArnForLogging");
		if (!lvl || (strcmp(lvl, "DEBUG") && strcmp(lvl, "INFO") && strcmp(lvl, "WARN") && strcmp(lvl, "ERROR")))
			return INVALID(c, "actionParams.enableIoTLoggingParams.logLevel must be DEBUG, INFO, WARN or ERROR, not %s", S(lvl));
		if (role_ok(c, "actionParams.enableIoTLoggingParams.roleArnForLogging", role))
			return c->err;
		n = json_pack("{s:s, s:s}", "roleArnForLogging", role, "logLevel", lvl);
	} else {
		const char *topic = dd__str(p, "topicArn");
		if (!topic || !sns_topic_exists(c, topic))
			return INVALID(c, "actionParams.publishFindingToSnsParams.topicArn: the topic %s does not exist.", S(topic));
		n = json_pack("{s:s}", "topicArn", topic);
	}
	if (!n)
		return dd_fail(c, DD_ENOMEM, "InternalFailureException", "Out of memory.");
	*norm = json_pack("{s:o}", member, n);
	return 0;
}

/* ---- definitions ------------------------------------------------------------------- */

struct action_row {
	bool found;
	char id[40];
	char type[40];
	char role[2100];
	json_t *params;
	int64_t created, modified;
};

static int load_action(struct dd_ctx *c, const char *name, struct action_row *a)
{
	memset(a, 0, sizeof *a);
	sqlite3_stmt *st = dd_db_stmt(c->db, "SELECT action_id, action_type, role_arn, params, created, modified"
					     " FROM mitigation_actions WHERE account_region = ?1 AND name = ?2");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, c->account_region);
	dd_bind_text(st, 2, name);
	if (sqlite3_step(st) == SQLITE_ROW) {
		a->found = true;
		snprintf(a->id, sizeof a->id, "%s", dd_col_text(st, 0));
		snprintf(a->type, sizeof a->type, "%s", dd_col_text(st, 1));
		snprintf(a->role, sizeof a->role, "%s", dd_col_text(st, 2));
		a->params = json_loads(dd_col_text(st, 3), 0, NULL);
		a->created = sqlite3_column_int64(st, 4);
		a->modified = sqlite3_column_int64(st, 5);
	}
	sqlite3_reset(st);
	if (a->found && !a->params)
		a->params = json_object();
	return 0;
}

int dd_iot_create_mitigation_action(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *name = dd__str(in, "actionName");
	const char *role = dd__str(in, "roleArn");
	const char *type = NULL;
	json_t *params = NULL;
	if (role_ok(c, "roleArn", role) || validate_params(c, json_object_get(in, "actionParams"), &type, &params))
		return c->err;
	char *ptext = json_dumps(params, JSON_COMPACT);
	json_decref(params);
	if (!ptext)
		return dd_fail(c, DD_ENOMEM, "InternalFailureException", "Out of memory.");
	char arn[512];
	dd__arn_buf(c, arn, sizeof arn, "mitigationaction/%s", name);
	char id[37];
	dd__uuid(id);
	int rc = 0;
	if (dd_db_begin_write(c->db)) {
		free(ptext);
		return dd__db_fail(c);
	}
	if (row_exists(c, "SELECT 1 FROM mitigation_actions WHERE account_region = ?1 AND name = ?2", name)) {
		dd_db_rollback(c->db);
		free(ptext);
		return dd_fail(c, DD_EEXIST, "ResourceAlreadyExistsException", "Mitigation action %s already exists.", name);
	}
	sqlite3_stmt *st = dd_db_stmt(c->db, "SELECT count(*) FROM mitigation_actions WHERE account_region = ?1");
	int64_t n = 0;
	if (st) {
		dd_bind_text(st, 1, c->account_region);
		n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
		sqlite3_reset(st);
	}
	if (n >= MAX_ACTIONS_PER_ACCOUNT) {
		dd_db_rollback(c->db);
		free(ptext);
		return dd_fail(c, DD_ELIMIT, "LimitExceededException", "An account can have at most %d mitigation actions.",
			       MAX_ACTIONS_PER_ACCOUNT);
	}
	int64_t now = dd_service_now_ms(c->svc);
	st = dd_db_stmt(c->db, "INSERT INTO mitigation_actions(account_region, name, action_id, action_type, role_arn, params,"
			       " created, modified) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)");
	if (!st)
		rc = DD_EIO;
	else {
		dd_bind_text(st, 1, c->account_region);
		dd_bind_text(st, 2, name);
		dd_bind_text(st, 3, id);
		dd_bind_text(st, 4, type);
		dd_bind_text(st, 5, role);
		dd_bind_text(st, 6, ptext);
		dd_bind_int64(st, 7, now);
		rc = dd_step_done(st);
	}
	json_t *tags = json_object_get(in, "tags");
	if (!rc && json_array_size(tags))
		rc = dd__tags_put(c, arn, tags);
	free(ptext);
	if (rc || dd_db_commit(c->db))
		return dd__db_fail(c);
	*out = json_pack("{s:s, s:s}", "actionArn", arn, "actionId", id);
	return 0;
}

int dd_iot_update_mitigation_action(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *name = dd__str(in, "actionName");
	const char *role = dd__str(in, "roleArn");
	json_t *pin = json_object_get(in, "actionParams");
	struct action_row a;
	if (load_action(c, name, &a))
		return dd__db_fail(c);
	if (!a.found)
		return dd_fail(c, DD_ENOTFOUND, "ResourceNotFoundException", "Mitigation action %s does not exist.", name);
	json_decref(a.params);
	if (role && role_ok(c, "roleArn", role))
		return c->err;
	char *ptext = NULL;
	if (pin) {
		const char *type = NULL;
		json_t *params = NULL;
		if (validate_params(c, pin, &type, &params))
			return c->err;
		if (strcmp(type, a.type)) {
			json_decref(params);
			return INVALID(c, "actionParams cannot change the action type of an existing action (%s); create a new action for %s.",
				       a.type, type);
		}
		ptext = json_dumps(params, JSON_COMPACT);
		json_decref(params);
		if (!ptext)
			return dd_fail(c, DD_ENOMEM, "InternalFailureException", "Out of memory.");
	}
	if (dd_db_begin_write(c->db)) {
		free(ptext);
		return dd__db_fail(c);
	}
	sqlite3_stmt *st = dd_db_stmt(c->db, "UPDATE mitigation_actions SET role_arn = coalesce(?3, role_arn),"
					     " params = coalesce(?4, params), modified = ?5 WHERE account_region = ?1 AND name = ?2");
	int rc = st ? 0 : DD_EIO;
	if (!rc) {
		dd_bind_text(st, 1, c->account_region);
		dd_bind_text(st, 2, name);
		dd_bind_text(st, 3, role);
		dd_bind_text(st, 4, ptext);
		dd_bind_int64(st, 5, dd_service_now_ms(c->svc));
		rc = dd_step_done(st);
	}
	free(ptext);
	if (rc || dd_db_commit(c->db))
		return dd__db_fail(c);
	*out = json_pack("{s:o, s:s}", "actionArn", dd__arn(c, "mitigationaction/%s", name), "actionId", a.id);
	return 0;
}

int dd_iot_delete_mitigation_action(struct dd_ctx *c, json_t *in, json_t **out)
{
	/* AWS models no ResourceNotFoundException here: deleting an absent action succeeds. */
	const char *name = dd__str(in, "actionName");
	char arn[512];
	dd__arn_buf(c, arn, sizeof arn, "mitigationaction/%s", name);
	*out = NULL;
	if (dd_db_begin_write(c->db))
		return dd__db_fail(c);
	sqlite3_stmt *st = dd_db_stmt(c->db, "DELETE FROM mitigation_actions WHERE account_region = ?1 AND name = ?2");
	if (!st)
		return dd__db_fail(c);
	dd_bind_text(st, 1, c->account_region);
	dd_bind_text(st, 2, name);
	if (dd_step_done(st))
		return dd__db_fail(c);
	st = dd_db_stmt(c->db, "DELETE FROM tags WHERE account_region = ?1 AND resource_arn = ?2");
	if (!st)
		return dd__db_fail(c);
	dd_bind_text(st, 1, c->account_region);
	dd_bind_text(st, 2, arn);
	if (dd_step_done(st) || dd_db_commit(c->db))
		return dd__db_fail(c);
	return 0;
}

int dd_iot_describe_mitigation_action(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *name = dd__str(in, "actionName");
	struct action_row a;
	if (load_action(c, name, &a))
		return dd__db_fail(c);
	if (!a.found)
		return dd_fail(c, DD_ENOTFOUND, "ResourceNotFoundException", "Mitigation action %s does not exist.", name);
	*out = json_pack("{s:s, s:s, s:o, s:s, s:s, s:o, s:o, s:o}", "actionName", name, "actionType", a.type, "actionArn",
			 dd__arn(c, "mitigationaction/%s", name), "actionId", a.id, "roleArn", a.role, "actionParams",
			 a.params, "creationDate", dd_json_time(a.created), "lastModifiedDate", dd_json_time(a.modified));
	return 0;
}

static json_t *action_row(struct dd_ctx *c, sqlite3_stmt *st, char *key, size_t keylen)
{
	snprintf(key, keylen, "%s", dd_col_text(st, 0));
	return json_pack("{s:s, s:o, s:o}", "actionName", key, "actionArn", dd__arn(c, "mitigationaction/%s", key),
			 "creationDate", dd_json_time(sqlite3_column_int64(st, 1)));
}

int dd_iot_list_mitigation_actions(struct dd_ctx *c, json_t *in, json_t **out)
{
	char after[200];
	int size;
	if (dd__page(c, in, "nextToken", "maxResults", 25, 250, after, sizeof after, &size))
		return c->err;
	sqlite3_stmt *st = dd_db_stmt(c->db, "SELECT name, created FROM mitigation_actions WHERE account_region = ?1"
					     " AND (?2 IS NULL OR action_type = ?2) AND name > ?3 ORDER BY name LIMIT ?4");
	if (!st)
		return dd__db_fail(c);
	dd_bind_text(st, 1, c->account_region);
	dd_bind_text(st, 2, dd__str(in, "actionType"));
	dd_bind_text(st, 3, after);
	dd_bind_int64(st, 4, size + 1);
	return dd__page_list(c, st, size, action_row, "actionIdentifiers", "nextToken", out);
}

/* ---- starting a task --------------------------------------------------------------- */

static int bad_check(struct dd_ctx *c)
{
	return dd_fail(c, DD_EINVAL, "InvalidRequestException", "Request contains an invalid Audit Check Name.");
}

static bool type_allowed(const struct dd_audit_check *chk, const char *type)
{
	if (!strcmp(type, "PUBLISH_FINDING_TO_SNS"))
		return true;
	for (const char *const *m = chk->mitigations; m && *m; m++)
		if (!strcmp(*m, type))
			return true;
	return false;
}

/* Validates auditCheckToActionsMapping into *mapping (API check names) and the action
 * definitions snapshot *defs (one entry per distinct action, mapping order). */
static int validate_mapping(struct dd_ctx *c, json_t *in, json_t **mapping, json_t **defs)
{
	if (!json_is_object(in) || json_object_size(in) == 0)
		return INVALID(c, "auditCheckToActionsMapping must map at least one audit check to its actions.");
	json_t *m = json_object(), *d = json_array(), *seen = json_object();
	const char *k;
	json_t *v;
	int rc = 0;
	json_object_foreach(in, k, v) {
		const struct dd_audit_check *chk = dd_audit_check_find(k);
		if (!chk) {
			rc = bad_check(c);
			break;
		}
		if (json_object_get(m, chk->name)) {
			rc = INVALID(c, "auditCheckToActionsMapping names the check %s twice.", chk->name);
			break;
		}
		size_t n = json_array_size(v);
		if (n < 1 || n > MAX_ACTIONS_PER_CHECK) {
			rc = dd_fail(c, DD_EINVAL, "InvalidRequestException",
				     "auditCheckToActionsMapping.%s must list 1 to %d mitigation action names.", chk->name,
				     MAX_ACTIONS_PER_CHECK);
			break;
		}
		json_t *list = json_array();
		json_object_set_new(m, chk->name, list);
		size_t i;
		json_t *an;
		json_array_foreach(v, i, an) {
			const char *name = json_string_value(an);
			for (size_t j = 0; j < i; j++)
				if (name && !strcmp(name, json_string_value(json_array_get(v, j)))) {
					rc = INVALID(c, "auditCheckToActionsMapping.%s lists the action %s twice.", chk->name, name);
					break;
				}
			if (rc)
				break;
			struct action_row a;
			if (load_action(c, name ? name : "", &a)) {
				rc = dd__db_fail(c);
				break;
			}
			if (!a.found) {
				rc = INVALID(c, "auditCheckToActionsMapping.%s: the mitigation action %s does not exist.", chk->name, name);
				break;
			}
			if (!type_allowed(chk, a.type)) {
				json_decref(a.params);
				rc = dd_fail(c, DD_EINVAL, "InvalidRequestException",
					     "The mitigation action %s (%s) cannot be applied to findings of %s.", name, a.type,
					     chk->name);
				break;
			}
			json_array_append_new(list, json_string(name));
			if (!json_object_get(seen, name)) {
				json_object_set_new(seen, name, json_true());
				json_array_append_new(d, json_pack("{s:s, s:s, s:s, s:o}", "name", name, "id", a.id, "roleArn",
								   a.role, "actionParams", a.params));
			} else {
				json_decref(a.params);
			}
		}
		if (rc)
			break;
	}
	json_decref(seen);
	if (rc) {
		json_decref(m);
		json_decref(d);
		return rc;
	}
	*mapping = m;
	*defs = d;
	return 0;
}

/* Checks the target's form and canonicalizes it into *target (API check names). */
static int validate_target(struct dd_ctx *c, json_t *in, json_t *mapping, json_t **target)
{
	const char *audit = dd__str(in, "auditTaskId");
	json_t *ids = json_object_get(in, "findingIds");
	json_t *filter = json_object_get(in, "auditCheckToReasonCodeFilter");
	if (json_is_null(ids))
		ids = NULL;
	if (json_is_null(filter))
		filter = NULL;
	if ((audit && ids) || (!audit && !ids))
		return INVALID(c, "target must name either an auditTaskId (optionally with auditCheckToReasonCodeFilter) or findingIds.");
	if (filter && !audit)
		return INVALID(c, "target.auditCheckToReasonCodeFilter needs target.auditTaskId.");
	if (ids) {
		size_t n = json_array_size(ids);
		if (n < 1 || n > MAX_FINDING_IDS)
			return dd_fail(c, DD_EINVAL, "InvalidRequestException", "target.findingIds must list 1 to %d findings.",
				       MAX_FINDING_IDS);
		*target = json_pack("{s:O}", "findingIds", ids);
		return 0;
	}
	json_t *t = json_pack("{s:s}", "auditTaskId", audit);
	if (filter) {
		if (!json_is_object(filter) || json_object_size(filter) == 0) {
			json_decref(t);
			return INVALID(c, "target.auditCheckToReasonCodeFilter must name at least one check.");
		}
		json_t *f = json_object();
		json_object_set_new(t, "auditCheckToReasonCodeFilter", f);
		const char *k;
		json_t *codes;
		json_object_foreach(filter, k, codes) {
			const struct dd_audit_check *chk = dd_audit_check_find(k);
			if (!chk) {
				json_decref(t);
				return bad_check(c);
			}
			if (!json_object_get(mapping, chk->name)) {
				json_decref(t);
				return INVALID(c, "target.auditCheckToReasonCodeFilter names %s, which auditCheckToActionsMapping does not map to any action.", chk->name);
			}
			if (json_array_size(codes) < 1) {
				json_decref(t);
				return INVALID(c, "target.auditCheckToReasonCodeFilter.%s must list at least one reason code.", chk->name);
			}
			size_t i;
			json_t *code;
			json_array_foreach(codes, i, code) {
				const char *s = json_string_value(code);
				bool ok = false;
				for (const char *const *r = chk->reason_codes; s && r && *r; r++)
					ok = ok || !strcmp(*r, s);
				if (!ok) {
					json_decref(t);
					return INVALID(c, "target.auditCheckToReasonCodeFilter: %s is not a reason code of %s.", s, chk->name);
				}
			}
			json_object_set(f, chk->name, codes);
		}
	}
	*target = t;
	return 0;
}

/* Inside the write transaction: the target's findings exist and are mapped. */
static int check_target_findings(struct dd_ctx *c, json_t *target, json_t *mapping)
{
	const char *audit = dd__str(target, "auditTaskId");
	if (audit) {
		sqlite3_stmt *st = dd_db_stmt(c->db, "SELECT status FROM audit_tasks WHERE account_region = ?1 AND task_id = ?2");
		if (!st)
			return dd__db_fail(c);
		dd_bind_text(st, 1, c->account_region);
		dd_bind_text(st, 2, audit);
		char status[32] = "";
		if (sqlite3_step(st) == SQLITE_ROW)
			snprintf(status, sizeof status, "%s", dd_col_text(st, 0));
		sqlite3_reset(st);
		if (!status[0])
			return INVALID(c, "target.auditTaskId: the audit task %s does not exist.", audit);
		if (!strcmp(status, "IN_PROGRESS"))
			return INVALID(c, "target.auditTaskId: the audit task %s is still in progress.", audit);
		return 0;
	}
	size_t i;
	json_t *id;
	json_array_foreach(json_object_get(target, "findingIds"), i, id) {
		sqlite3_stmt *st = dd_db_stmt(c->db, "SELECT check_name FROM audit_findings WHERE account_region = ?1 AND finding_id = ?2");
		if (!st)
			return dd__db_fail(c);
		dd_bind_text(st, 1, c->account_region);
		dd_bind_text(st, 2, json_string_value(id));
		char check[128] = "";
		if (sqlite3_step(st) == SQLITE_ROW)
			snprintf(check, sizeof check, "%s", dd_col_text(st, 0));
		sqlite3_reset(st);
		if (!check[0])
			return INVALID(c, "target.findingIds: the finding %s does not exist.", json_string_value(id));
		if (!json_object_get(mapping, check))
			return INVALID(c, "target.findingIds: the finding %s is a %s finding, which auditCheckToActionsMapping does not map to any action.",
				       json_string_value(id), check);
	}
	return 0;
}

/* Inserts the executions of one (check, action position) for the target. */
static int expand(struct dd_ctx *c, const char *task_id, json_t *target, const char *check, int seq,
		  const char *action, const char *action_id, int64_t now)
{
	const char *audit = dd__str(target, "auditTaskId");
	sqlite3_stmt *st;
	if (audit)
		st = dd_db_stmt(c->db,
			"INSERT INTO mitigation_executions(account_region, task_id, finding_id, seq, check_name, action_name, action_id,"
			" status, start_ms, end_ms, message)"
			" SELECT account_region, ?2, finding_id, ?3, check_name, ?4, ?5, CASE WHEN sup THEN 'SKIPPED' ELSE 'PENDING' END,"
			" CASE WHEN sup THEN ?6 END, CASE WHEN sup THEN ?6 END,"
			" CASE WHEN sup THEN 'The finding is suppressed: mitigation actions are not applied to suppressed findings.' END"
			" FROM (SELECT f.account_region, f.finding_id, f.check_name, (f.suppressed = 1 OR EXISTS (SELECT 1 FROM audit_suppressions s"
			"  WHERE s.account_region = f.account_region AND s.check_name = f.check_name AND s.resource_key = f.resource_key"
			"  AND (s.indefinite = 1 OR s.expiration_ms IS NULL OR s.expiration_ms > ?6))) AS sup"
			"  FROM audit_findings f WHERE f.account_region = ?1 AND f.task_id = ?7 AND f.check_name = ?8"
			"  AND (?9 IS NULL OR f.reason_code IN (SELECT value FROM json_each(?9))))");
	else
		st = dd_db_stmt(c->db,
			"INSERT INTO mitigation_executions(account_region, task_id, finding_id, seq, check_name, action_name, action_id,"
			" status, start_ms, end_ms, message)"
			" SELECT account_region, ?2, finding_id, ?3, check_name, ?4, ?5, CASE WHEN sup THEN 'SKIPPED' ELSE 'PENDING' END,"
			" CASE WHEN sup THEN ?6 END, CASE WHEN sup THEN ?6 END,"
			" CASE WHEN sup THEN 'The finding is suppressed: mitigation actions are not applied to suppressed findings.' END"
			" FROM (SELECT f.account_region, f.finding_id, f.check_name, (f.suppressed = 1 OR EXISTS (SELECT 1 FROM audit_suppressions s"
			"  WHERE s.account_region = f.account_region AND s.check_name = f.check_name AND s.resource_key = f.resource_key"
			"  AND (s.indefinite = 1 OR s.expiration_ms IS NULL OR s.expiration_ms > ?6))) AS sup"
			"  FROM audit_findings f WHERE f.account_region = ?1 AND f.check_name = ?8"
			"  AND f.finding_id IN (SELECT value FROM json_each(?7)))");
	if (!st)
		return DD_EIO;
	char *arg = NULL, *codes = NULL;
	dd_bind_text(st, 1, c->account_region);
	dd_bind_text(st, 2, task_id);
	dd_bind_int64(st, 3, seq);
	dd_bind_text(st, 4, action);
	dd_bind_text(st, 5, action_id);
	dd_bind_int64(st, 6, now);
	if (audit) {
		dd_bind_text(st, 7, audit);
		json_t *cf = json_object_get(json_object_get(target, "auditCheckToReasonCodeFilter"), check);
		codes = cf ? json_dumps(cf, JSON_COMPACT) : NULL;
		dd_bind_text(st, 9, codes);
	} else {
		arg = json_dumps(json_object_get(target, "findingIds"), JSON_COMPACT);
		dd_bind_text(st, 7, arg);
	}
	dd_bind_text(st, 8, check);
	int rc = dd_step_done(st);
	free(arg);
	free(codes);
	return rc;
}

static int start_existing(struct dd_ctx *c, const char *task_id, const char *token, const char *hash, json_t **out)
{
	sqlite3_stmt *st = dd_db_stmt(c->db, "SELECT client_token, request_hash FROM mitigation_tasks WHERE account_region = ?1 AND task_id = ?2");
	if (!st)
		return dd__db_fail(c);
	dd_bind_text(st, 1, c->account_region);
	dd_bind_text(st, 2, task_id);
	int found = 0;
	if (sqlite3_step(st) == SQLITE_ROW)
		found = strcmp(dd_col_text(st, 0), token) ? 2 : strcmp(dd_col_text(st, 1), hash) ? 3 : 1;
	sqlite3_reset(st);
	if (found == 1) {
		*out = json_pack("{s:s}", "taskId", task_id);
		return 1;
	}
	if (found == 2)
		return dd_fail(c, DD_EEXIST, "TaskAlreadyExistsException",
			       "An audit mitigation actions task %s already exists (started with another clientRequestToken).", task_id);
	if (found == 3)
		return dd_fail(c, DD_EEXIST, "TaskAlreadyExistsException",
			       "An audit mitigation actions task %s already exists with this clientRequestToken but other parameters.", task_id);
	st = dd_db_stmt(c->db, "SELECT task_id FROM mitigation_tasks WHERE account_region = ?1 AND client_token = ?2");
	if (!st)
		return dd__db_fail(c);
	dd_bind_text(st, 1, c->account_region);
	dd_bind_text(st, 2, token);
	char other[160] = "";
	if (sqlite3_step(st) == SQLITE_ROW)
		snprintf(other, sizeof other, "%s", dd_col_text(st, 0));
	sqlite3_reset(st);
	if (other[0])
		return dd_fail(c, DD_EEXIST, "TaskAlreadyExistsException",
			       "The clientRequestToken was already used to start the audit mitigation actions task %s.", other);
	return 0;
}

int dd_iot_start_audit_mitigation_actions_task(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *task_id = dd__str(in, "taskId");
	const char *token = dd__str(in, "clientRequestToken");
	char gen_token[37];
	if (!token || !*token) {
		dd__uuid(gen_token);
		token = gen_token;
	}
	json_t *mapping = NULL, *defs = NULL, *target = NULL;
	if (validate_mapping(c, json_object_get(in, "auditCheckToActionsMapping"), &mapping, &defs))
		return c->err;
	if (validate_target(c, json_object_get(in, "target"), mapping, &target)) {
		json_decref(mapping);
		json_decref(defs);
		return c->err;
	}
	json_t *req = json_pack("{s:O, s:O}", "target", target, "mapping", mapping);
	char *req_text = json_dumps(req, JSON_COMPACT | JSON_SORT_KEYS);
	char *t_text = json_dumps(target, JSON_COMPACT);
	char *m_text = json_dumps(mapping, JSON_COMPACT);
	char *d_text = json_dumps(defs, JSON_COMPACT);
	json_decref(req);
	char hash[65] = "";
	int rc = 0;
	if (!req_text || !t_text || !m_text || !d_text) {
		rc = dd_fail(c, DD_ENOMEM, "InternalFailureException", "Out of memory.");
		goto out;
	}
	dd_sha256_hex(req_text, strlen(req_text), hash);
	if (dd_db_begin_write(c->db)) {
		rc = dd__db_fail(c);
		goto out;
	}
	int ex = start_existing(c, task_id, token, hash, out);
	if (ex) {
		dd_db_rollback(c->db);
		rc = ex > 0 ? 0 : ex;
		goto out;
	}
	sqlite3_stmt *st = dd_db_stmt(c->db, "SELECT count(*) FROM mitigation_tasks WHERE account_region = ?1 AND status = 'IN_PROGRESS'");
	int64_t running = 0;
	if (st) {
		dd_bind_text(st, 1, c->account_region);
		running = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
		sqlite3_reset(st);
	}
	if (running >= MAX_TASKS_IN_PROGRESS) {
		dd_db_rollback(c->db);
		rc = dd_fail(c, DD_ELIMIT, "LimitExceededException",
			     "At most %d audit mitigation actions tasks can be in progress at once.", MAX_TASKS_IN_PROGRESS);
		goto out;
	}
	if (check_target_findings(c, target, mapping)) {
		dd_db_rollback(c->db);
		rc = c->err;
		goto out;
	}
	int64_t now = dd_service_now_ms(c->svc);
	st = dd_db_stmt(c->db, "INSERT INTO mitigation_tasks(account_region, task_id, status, client_token, request_hash, target,"
			       " mapping, actions, audit_task_id, start_ms) VALUES (?1, ?2, 'IN_PROGRESS', ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
	if (!st) {
		rc = dd__db_fail(c);
		goto out;
	}
	dd_bind_text(st, 1, c->account_region);
	dd_bind_text(st, 2, task_id);
	dd_bind_text(st, 3, token);
	dd_bind_text(st, 4, hash);
	dd_bind_text(st, 5, t_text);
	dd_bind_text(st, 6, m_text);
	dd_bind_text(st, 7, d_text);
	dd_bind_text(st, 8, dd__str(target, "auditTaskId"));
	dd_bind_int64(st, 9, now);
	if (dd_step_done(st)) {
		rc = dd__db_fail(c);
		goto out;
	}
	const char *check;
	json_t *list;
	json_t *filter = json_object_get(target, "auditCheckToReasonCodeFilter");
	json_object_foreach(mapping, check, list) {
		if (filter && !json_object_get(filter, check))
			continue;
		size_t i;
		json_t *an;
		json_array_foreach(list, i, an) {
			const char *aid = "";
			size_t j;
			json_t *d;
			json_array_foreach(defs, j, d)
				if (!strcmp(dd__str(d, "name"), json_string_value(an)))
					aid = dd__str(d, "id");
			if (expand(c, task_id, target, check, (int)i, json_string_value(an), aid, now)) {
				rc = dd__db_fail(c);
				goto out;
			}
		}
	}
	if (dd_db_commit(c->db)) {
		rc = dd__db_fail(c);
		goto out;
	}
	dd_mitigation_wake(c->svc);
	*out = json_pack("{s:s}", "taskId", task_id);
out:
	free(req_text);
	free(t_text);
	free(m_text);
	free(d_text);
	json_decref(mapping);
	json_decref(defs);
	json_decref(target);
	return rc;
}

/* ---- reading tasks ----------------------------------------------------------------- */

static json_t *task_statistics(struct dd_ctx *c, const char *task_id, json_t *mapping)
{
	json_t *stats = json_object();
	const char *check;
	json_t *v;
	json_object_foreach(mapping, check, v)
		json_object_set_new(stats, check, json_pack("{s:I, s:I, s:I, s:I, s:I}", "totalFindingsCount", (json_int_t)0,
							    "failedFindingsCount", (json_int_t)0, "succeededFindingsCount",
							    (json_int_t)0, "skippedFindingsCount", (json_int_t)0,
							    "canceledFindingsCount", (json_int_t)0));
	sqlite3_stmt *st = dd_db_stmt(c->db,
		/* one row per finding (its check is the same on every row: a bare column), in key order */
		"SELECT check_name, count(*), sum(failed), sum(NOT failed AND canceled), sum(NOT failed AND NOT canceled AND skipped),"
		" sum(ok) FROM (SELECT check_name, max(status = 'FAILED') AS failed, max(status = 'CANCELED') AS canceled,"
		" min(status = 'SKIPPED') AS skipped, min(status = 'COMPLETED') AS ok FROM mitigation_executions"
		" WHERE account_region = ?1 AND task_id = ?2 GROUP BY finding_id) GROUP BY check_name");
	if (!st)
		return stats;
	dd_bind_text(st, 1, c->account_region);
	dd_bind_text(st, 2, task_id);
	while (sqlite3_step(st) == SQLITE_ROW)
		json_object_set_new(stats, dd_col_text(st, 0),
				    json_pack("{s:I, s:I, s:I, s:I, s:I}", "totalFindingsCount",
					      (json_int_t)sqlite3_column_int64(st, 1), "failedFindingsCount",
					      (json_int_t)sqlite3_column_int64(st, 2), "succeededFindingsCount",
					      (json_int_t)sqlite3_column_int64(st, 5), "skippedFindingsCount",
					      (json_int_t)sqlite3_column_int64(st, 4), "canceledFindingsCount",
					      (json_int_t)sqlite3_column_int64(st, 3)));
	sqlite3_reset(st);
	return stats;
}

int dd_iot_describe_audit_mitigation_actions_task(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *id = dd__str(in, "taskId");
	sqlite3_stmt *st = dd_db_stmt(c->db, "SELECT status, start_ms, end_ms, target, mapping, actions FROM mitigation_tasks"
					     " WHERE account_region = ?1 AND task_id = ?2");
	if (!st)
		return dd__db_fail(c);
	dd_bind_text(st, 1, c->account_region);
	dd_bind_text(st, 2, id);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_reset(st);
		return dd_fail(c, DD_ENOTFOUND, "ResourceNotFoundException", "Audit mitigation actions task %s not found.", id);
	}
	json_t *mapping = json_loads(dd_col_text(st, 4), 0, NULL);
	json_t *o = json_pack("{s:s, s:o, s:o, s:o, s:o}", "taskStatus", dd_col_text(st, 0), "startTime",
			      dd_json_time(sqlite3_column_int64(st, 1)), "target",
			      or_else(json_loads(dd_col_text(st, 3), 0, NULL), json_object()), "auditCheckToActionsMapping",
			      mapping ? json_incref(mapping) : json_object(), "actionsDefinition",
			      or_else(json_loads(dd_col_text(st, 5), 0, NULL), json_array()));
	if (o && sqlite3_column_type(st, 2) != SQLITE_NULL)
		json_object_set_new(o, "endTime", dd_json_time(sqlite3_column_int64(st, 2)));
	sqlite3_reset(st);
	if (!o) {
		json_decref(mapping);
		return dd_fail(c, DD_ENOMEM, "InternalFailureException", "Out of memory.");
	}
	json_object_set_new(o, "taskStatistics", task_statistics(c, id, mapping));
	json_decref(mapping);
	*out = o;
	return 0;
}

static json_t *mtask_row(struct dd_ctx *c, sqlite3_stmt *st, char *key, size_t keylen)
{
	(void)c;
	snprintf(key, keylen, "%lld|%s", (long long)sqlite3_column_int64(st, 2), dd_col_text(st, 0));
	return json_pack("{s:s, s:o, s:s}", "taskId", dd_col_text(st, 0), "startTime",
			 dd_json_time(sqlite3_column_int64(st, 2)), "taskStatus", dd_col_text(st, 1));
}

int dd_iot_list_audit_mitigation_actions_tasks(struct dd_ctx *c, json_t *in, json_t **out)
{
	char after[200];
	int size;
	if (dd__page(c, in, "nextToken", "maxResults", 25, 250, after, sizeof after, &size))
		return c->err;
	int64_t start = (int64_t)(json_number_value(json_object_get(in, "startTime")) * 1000.0);
	int64_t end = (int64_t)(json_number_value(json_object_get(in, "endTime")) * 1000.0);
	if (end < start)
		return dd_fail(c, DD_EINVAL, "InvalidRequestException", "endTime must not be before startTime.");
	int64_t a_ms = INT64_MAX;
	char a_id[160] = "";
	if (after[0] && dd__page_key_split(c, after, '|', "nextToken", &a_ms, a_id, sizeof a_id))
		return c->err;
	sqlite3_stmt *st = dd_db_stmt(c->db,
		"SELECT t.task_id, t.status, t.start_ms FROM mitigation_tasks t WHERE t.account_region = ?1 AND t.start_ms >= ?2"
		" AND t.start_ms <= ?3 AND (?4 IS NULL OR t.status = ?4)"
		" AND (?5 IS NULL OR t.audit_task_id = ?5 OR EXISTS (SELECT 1 FROM mitigation_executions e JOIN audit_findings f"
		"  ON f.account_region = e.account_region AND f.finding_id = e.finding_id WHERE e.account_region = t.account_region AND e.task_id = t.task_id"
		"  AND e.seq = 0 AND f.task_id = ?5))"
		" AND (?6 IS NULL OR EXISTS (SELECT 1 FROM mitigation_executions e WHERE e.account_region = t.account_region AND e.finding_id = ?6"
		"  AND e.task_id = t.task_id))"
		" AND (t.start_ms < ?7 OR (t.start_ms = ?7 AND t.task_id > ?8)) ORDER BY t.start_ms DESC, t.task_id LIMIT ?9");
	if (!st)
		return dd__db_fail(c);
	dd_bind_text(st, 1, c->account_region);
	dd_bind_int64(st, 2, start);
	dd_bind_int64(st, 3, end);
	dd_bind_text(st, 4, dd__str(in, "taskStatus"));
	dd_bind_text(st, 5, dd__str(in, "auditTaskId"));
	dd_bind_text(st, 6, dd__str(in, "findingId"));
	dd_bind_int64(st, 7, a_ms);
	dd_bind_text(st, 8, a_id);
	dd_bind_int64(st, 9, size + 1);
	return dd__page_list(c, st, size, mtask_row, "tasks", "nextToken", out);
}

static json_t *execution_row(struct dd_ctx *c, sqlite3_stmt *st, char *key, size_t keylen)
{
	(void)c;
	json_t *e = json_pack("{s:s, s:s, s:s, s:s, s:s}", "taskId", dd_col_text(st, 9), "findingId", dd_col_text(st, 0),
			      "actionName", dd_col_text(st, 2), "actionId", dd_col_text(st, 3), "status", dd_col_text(st, 4));
	if (sqlite3_column_type(st, 5) != SQLITE_NULL)
		json_object_set_new(e, "startTime", dd_json_time(sqlite3_column_int64(st, 5)));
	if (sqlite3_column_type(st, 6) != SQLITE_NULL)
		json_object_set_new(e, "endTime", dd_json_time(sqlite3_column_int64(st, 6)));
	if (sqlite3_column_type(st, 7) != SQLITE_NULL)
		json_object_set_new(e, "errorCode", json_string(dd_col_text(st, 7)));
	if (sqlite3_column_type(st, 8) != SQLITE_NULL)
		json_object_set_new(e, "message", json_string(dd_col_text(st, 8)));
	snprintf(key, keylen, "%lld|%s", (long long)sqlite3_column_int64(st, 1), dd_col_text(st, 0));
	return e;
}

int dd_iot_list_audit_mitigation_actions_executions(struct dd_ctx *c, json_t *in, json_t **out)
{
	char after[200];
	int size;
	if (dd__page(c, in, "nextToken", "maxResults", 25, 250, after, sizeof after, &size))
		return c->err;
	/* keyset on (finding_id, seq): the token holds "seq|finding" */
	int64_t a_seq = -1;
	char a_f[160] = "";
	if (after[0] && dd__page_key_split(c, after, '|', "nextToken", &a_seq, a_f, sizeof a_f))
		return c->err;
	sqlite3_stmt *st = dd_db_stmt(c->db,
		"SELECT finding_id, seq, action_name, action_id, status, start_ms, end_ms, error_code, message, task_id FROM mitigation_executions"
		" WHERE account_region = ?1 AND task_id = ?2 AND (?3 IS NULL OR finding_id = ?3) AND (?4 IS NULL OR status = ?4)"
		" AND (finding_id > ?5 OR (finding_id = ?5 AND seq > ?6)) ORDER BY finding_id, seq LIMIT ?7");
	if (!st)
		return dd__db_fail(c);
	const char *task = dd__str(in, "taskId");
	dd_bind_text(st, 1, c->account_region);
	dd_bind_text(st, 2, task);
	dd_bind_text(st, 3, dd__str(in, "findingId"));
	dd_bind_text(st, 4, dd__str(in, "actionStatus"));
	dd_bind_text(st, 5, a_f);
	dd_bind_int64(st, 6, a_seq);
	dd_bind_int64(st, 7, size + 1);
	return dd__page_list(c, st, size, execution_row, "actionsExecutions", "nextToken", out);
}

int dd_iot_cancel_audit_mitigation_actions_task(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *id = dd__str(in, "taskId");
	*out = NULL;
	if (dd_db_begin_write(c->db))
		return dd__db_fail(c);
	sqlite3_stmt *st = dd_db_stmt(c->db, "SELECT status FROM mitigation_tasks WHERE account_region = ?1 AND task_id = ?2");
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
		return dd_fail(c, DD_ENOTFOUND, "ResourceNotFoundException", "Audit mitigation actions task %s not found.", id);
	}
	if (strcmp(status, "IN_PROGRESS")) {
		dd_db_rollback(c->db);
		return dd_fail(c, DD_ECONFLICT, "InvalidRequestException",
			       "Audit mitigation actions task %s is %s and cannot be canceled.", id, status);
	}
	static const char *const sqls[] = {
		"UPDATE mitigation_tasks SET status = 'CANCELED', end_ms = ?3 WHERE account_region = ?1 AND task_id = ?2",
		"UPDATE mitigation_executions SET status = 'CANCELED', end_ms = ?3,"
		" message = 'The task was canceled before this action was applied.'"
		" WHERE account_region = ?1 AND task_id = ?2 AND status = 'PENDING'",
	};
	int64_t now = dd_service_now_ms(c->svc);
	for (int i = 0; i < 2; i++) {
		st = dd_db_stmt(c->db, sqls[i]);
		if (!st)
			return dd__db_fail(c);
		dd_bind_text(st, 1, c->account_region);
		dd_bind_text(st, 2, id);
		dd_bind_int64(st, 3, now);
		if (dd_step_done(st))
			return dd__db_fail(c);
	}
	if (dd_db_commit(c->db))
		return dd__db_fail(c);
	return 0;
}

const struct dd_handler dd_mitigation_handlers[] = {
	{ "iot", "CreateMitigationAction", dd_iot_create_mitigation_action },
	{ "iot", "UpdateMitigationAction", dd_iot_update_mitigation_action },
	{ "iot", "DeleteMitigationAction", dd_iot_delete_mitigation_action },
	{ "iot", "DescribeMitigationAction", dd_iot_describe_mitigation_action },
	{ "iot", "ListMitigationActions", dd_iot_list_mitigation_actions },
	{ "iot", "StartAuditMitigationActionsTask", dd_iot_start_audit_mitigation_actions_task },
	{ "iot", "DescribeAuditMitigationActionsTask", dd_iot_describe_audit_mitigation_actions_task },
	{ "iot", "ListAuditMitigationActionsTasks", dd_iot_list_audit_mitigation_actions_tasks },
	{ "iot", "ListAuditMitigationActionsExecutions", dd_iot_list_audit_mitigation_actions_executions },
	{ "iot", "CancelAuditMitigationActionsTask", dd_iot_cancel_audit_mitigation_actions_task },
	{ NULL, NULL, NULL },
};

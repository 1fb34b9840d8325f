/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The wire side of Device Defender mitigation actions: the definitions (Create / Update /
 * Delete / Describe / List MitigationAction) and the audit mitigation actions tasks
 * (Start / Describe / List / Cancel, ListAuditMitigationActionsExecutions), exported as
 * dd_iot_mitigation_handlers. JSON in and out, paging tokens and AWS error codes here;
 * the rows are read and written through src/store/dd_store_mitigation.h. A definition is validated once,
 * here: exactly one actionParams member, which fixes the action type for good; a role
 * that exists and trusts iot.amazonaws.com; existing groups, topic and logging role.
 * Starting a task validates the whole check -> actions mapping against each check's
 * allowed action types before anything is written, then, in one write transaction,
 * stores the task with a snapshot of the action definitions and expands its target into
 * one PENDING execution row per (finding, action) — SKIPPED at once for suppressed
 * findings. The engine (src/core/mitigation/dd_mitigation_engine.c) runs the PENDING
 * rows; nothing here changes the registry.
 */
#include <stdlib.h>
#include <string.h>

#include "core/audit/dd_audit_checks.h"
#include "api/dd_api_common.h"
#include "core/mitigation/dd_mitigation_rules.h"
#include "dd/iam.h"
#include "dd/mitigation.h"
#include "store/dd_store_audit.h"
#include "store/dd_store_groups.h"
#include "store/dd_store_mitigation.h"
#include "store/dd_store_sns.h"

#define MAX_ACTIONS_PER_ACCOUNT DD_MITIGATION_MAX_ACTIONS_PER_ACCOUNT
#define MAX_TASKS_IN_PROGRESS DD_MITIGATION_MAX_TASKS_IN_PROGRESS
#define MAX_ACTIONS_PER_CHECK DD_MITIGATION_MAX_ACTIONS_PER_CHECK
#define MAX_FINDING_IDS DD_MITIGATION_MAX_FINDING_IDS

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
	bool found = false;
	return dd_store_sns_topic_exists(c->db, c->account, topic_arn, &found) == 0 && found;
}

/* Validates actionParams; sets *type (static string) and a normalized copy in *norm. */
static int validate_params(struct dd_ctx *c, json_t *params, const char **type, json_t **norm)
{
	const char *member = NULL;
	json_t *p = NULL;
	size_t set = 0;
	for (size_t i = 0; i < dd_mitigation_rules_nkinds; i++) {
		json_t *v = json_object_get(params, dd_mitigation_rules_kinds[i].member);
		if (v && !json_is_null(v)) {
			set++;
			member = dd_mitigation_rules_kinds[i].member;
			p = v;
			*type = dd_mitigation_rules_kinds[i].type;
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
			struct dd_store_groups_row row;
			int r = dd_store_groups_get(c->db, c->account_region, name ? name : "", &row);
			if (r && r != DD_ENOTFOUND)
				return dd__db_fail(c);
			bool dynamic = !r && row.dynamic;
			if (!r)
				dd_store_groups_row_clear(&row);
			if (r)
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
	struct dd_store_mitigation_action sa;
	int rc = dd_store_mitigation_action_get(c->db, c->account_region, name, &sa);
	if (rc == DD_ENOTFOUND)
		return 0;
	if (rc)
		return rc;
	a->found = true;
	snprintf(a->id, sizeof a->id, "%s", sa.id);
	snprintf(a->type, sizeof a->type, "%s", sa.type);
	snprintf(a->role, sizeof a->role, "%s", sa.role_arn);
	a->params = json_loads(sa.params, 0, NULL);
	a->created = sa.created_ms;
	a->modified = sa.modified_ms;
	dd_store_mitigation_action_clear(&sa);
	if (!a->params)
		a->params = json_object();
	return 0;
}

static int create_mitigation_action(struct dd_ctx *c, json_t *in, json_t **out)
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
	dd_random_uuid(id);
	if (dd_db_begin_write(c->db)) {
		free(ptext);
		return dd__db_fail(c);
	}
	struct dd_store_mitigation_action existing;
	int rc = dd_store_mitigation_action_get(c->db, c->account_region, name, &existing);
	if (rc == 0) {
		dd_store_mitigation_action_clear(&existing);
		dd_db_rollback(c->db);
		free(ptext);
		return dd_fail(c, DD_EEXIST, "ResourceAlreadyExistsException", "Mitigation action %s already exists.", name);
	}
	int64_t n = 0;
	if ((rc != DD_ENOTFOUND) || dd_store_mitigation_action_count(c->db, c->account_region, &n)) {
		free(ptext);
		return dd__db_fail(c);
	}
	if (n >= MAX_ACTIONS_PER_ACCOUNT) {
		dd_db_rollback(c->db);
		free(ptext);
		return dd_fail(c, DD_ELIMIT, "LimitExceededException", "An account can have at most %d mitigation actions.",
			       MAX_ACTIONS_PER_ACCOUNT);
	}
	rc = dd_store_mitigation_action_insert(c->db, c->account_region, name, id, type, role, ptext,
					       dd_service_now_ms(c->svc));
	json_t *tags = json_object_get(in, "tags");
	if (!rc && json_array_size(tags))
		rc = dd__tags_put(c, arn, tags);
	free(ptext);
	if (rc || dd_db_commit(c->db))
		return dd__db_fail(c);
	*out = json_pack("{s:s, s:s}", "actionArn", arn, "actionId", id);
	return 0;
}

static int update_mitigation_action(struct dd_ctx *c, json_t *in, json_t **out)
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
	int rc = dd_store_mitigation_action_update(c->db, c->account_region, name, role, ptext, dd_service_now_ms(c->svc));
	free(ptext);
	if (rc == DD_ENOTFOUND) {
		dd_db_rollback(c->db);
		return dd_fail(c, DD_ENOTFOUND, "ResourceNotFoundException", "Mitigation action %s does not exist.", name);
	}
	if (rc || dd_db_commit(c->db))
		return dd__db_fail(c);
	*out = json_pack("{s:o, s:s}", "actionArn", dd__arn(c, "mitigationaction/%s", name), "actionId", a.id);
	return 0;
}

static int delete_mitigation_action(struct dd_ctx *c, json_t *in, json_t **out)
{
	/* AWS models no ResourceNotFoundException here: deleting an absent action succeeds. */
	const char *name = dd__str(in, "actionName");
	char arn[512];
	dd__arn_buf(c, arn, sizeof arn, "mitigationaction/%s", name);
	*out = NULL;
	if (dd_db_begin_write(c->db))
		return dd__db_fail(c);
	if (dd_store_mitigation_action_delete(c->db, c->account_region, name, arn) || dd_db_commit(c->db))
		return dd__db_fail(c);
	return 0;
}

static int describe_mitigation_action(struct dd_ctx *c, json_t *in, json_t **out)
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

/* Collects at most size listing items; a row beyond them only says there are more. */
struct page {
	struct dd_ctx *c;
	json_t *items;
	int size, n;
	bool more;
	char last[400];
};

static bool page_full(struct page *p)
{
	if (p->n < p->size)
		return false;
	p->more = true;
	return true;
}

static int page_add(struct page *p, json_t *item)
{
	if (!item || json_array_append_new(p->items, item))
		return DD_ENOMEM;
	p->n++;
	return 0;
}

/* {member: items} with the next token when more rows exist, into *out; or fails c. */
static int page_finish(struct page *p, int rc, const char *member, json_t **out)
{
	if (rc < 0) {
		json_decref(p->items);
		return dd__db_fail(p->c);
	}
	json_t *o = json_pack("{s:o}", member, p->items);
	if (!o)
		return dd_fail(p->c, DD_ENOMEM, "InternalFailureException", "Out of memory.");
	dd__page_next(o, "nextToken", p->more, p->last);
	*out = o;
	return 0;
}

static int action_item(const char *name, int64_t created_ms, void *ud)
{
	struct page *p = ud;
	if (page_full(p))
		return 1;
	snprintf(p->last, sizeof p->last, "%s", name);
	return page_add(p, json_pack("{s:s, s:o, s:o}", "actionName", name, "actionArn",
				     dd__arn(p->c, "mitigationaction/%s", name), "creationDate", dd_json_time(created_ms)));
}

static int list_mitigation_actions(struct dd_ctx *c, json_t *in, json_t **out)
{
	char after[200];
	int size;
	if (dd__page(c, in, "nextToken", "maxResults", 25, 250, after, sizeof after, &size))
		return c->err;
	struct page p = { .c = c, .items = json_array(), .size = size };
	int rc = dd_store_mitigation_action_list(c->db, c->account_region, dd__str(in, "actionType"), after, size + 1,
						 action_item, &p);
	return page_finish(&p, rc, "actionIdentifiers", out);
}

/* ---- starting a task --------------------------------------------------------------- */

static int bad_check(struct dd_ctx *c)
{
	return dd_fail(c, DD_EINVAL, "InvalidRequestException", "Request contains an invalid Audit Check Name.");
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
		const struct dd_audit_check *chk = dd_audit_checks_find(k);
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
			if (!dd_mitigation_rules_type_allowed(chk->mitigations, a.type)) {
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
			const struct dd_audit_check *chk = dd_audit_checks_find(k);
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

static int copy_task_status(const struct dd_store_audit_task *t, void *ud)
{
	snprintf(ud, 32, "%s", t->status ? t->status : "");
	return 0;
}

static int copy_check_name(const struct dd_store_audit_finding *f, void *ud)
{
	snprintf(ud, 128, "%s", f->check_name ? f->check_name : "");
	return 0;
}

/* Inside the write transaction: the target's findings exist and are mapped. */
static int check_target_findings(struct dd_ctx *c, json_t *target, json_t *mapping)
{
	const char *audit = dd__str(target, "auditTaskId");
	if (audit) {
		char status[32];
		int rc = dd_store_audit_task_get(c->db, c->account_region, audit, copy_task_status, status);
		if (rc == DD_ENOTFOUND)
			return INVALID(c, "target.auditTaskId: the audit task %s does not exist.", audit);
		if (rc)
			return dd__db_fail(c);
		if (!strcmp(status, "IN_PROGRESS"))
			return INVALID(c, "target.auditTaskId: the audit task %s is still in progress.", audit);
		return 0;
	}
	size_t i;
	json_t *id;
	json_array_foreach(json_object_get(target, "findingIds"), i, id) {
		const char *fid = json_string_value(id);
		char check[128] = "";
		int rc = dd_store_audit_findings_get(c->db, c->account_region, fid ? fid : "", copy_check_name, check);
		if (rc == DD_ENOTFOUND)
			return INVALID(c, "target.findingIds: the finding %s does not exist.", S(fid));
		if (rc)
			return dd__db_fail(c);
		if (!json_object_get(mapping, check))
			return INVALID(c, "target.findingIds: the finding %s is a %s finding, which auditCheckToActionsMapping does not map to any action.",
				       S(fid), check);
	}
	return 0;
}

/* The strings of a JSON array into a new array of borrowed pointers (*n of them). */
static const char **strings_of(json_t *arr, size_t *n)
{
	*n = json_array_size(arr);
	const char **v = calloc(*n ? *n : 1, sizeof *v);
	for (size_t i = 0; v && i < *n; i++) {
		v[i] = json_string_value(json_array_get(arr, i));
		if (!v[i])
			v[i] = "";
	}
	return v;
}

/* Inserts the executions of one (check, action position) for the target. */
static int expand(struct dd_ctx *c, const char *task_id, json_t *target, const char *check, int seq,
		  const char *action, const char *action_id, int64_t now)
{
	struct dd_store_mitigation_expand x = {
		.task_id = task_id, .check = check, .action_name = action, .action_id = action_id, .seq = seq,
		.now_ms = now, .audit_task_id = dd__str(target, "auditTaskId"),
	};
	const char **list = NULL;
	if (x.audit_task_id) {
		json_t *cf = json_object_get(json_object_get(target, "auditCheckToReasonCodeFilter"), check);
		if (cf && !(list = strings_of(cf, &x.n_codes)))
			return DD_ENOMEM;
		x.reason_codes = list;
	} else {
		if (!(list = strings_of(json_object_get(target, "findingIds"), &x.n_ids)))
			return DD_ENOMEM;
		x.finding_ids = list;
	}
	int rc = dd_store_mitigation_execution_expand(c->db, c->account_region, &x);
	free(list);
	return rc;
}

static int start_existing(struct dd_ctx *c, const char *task_id, const char *token, const char *hash, json_t **out)
{
	struct dd_store_mitigation_task t;
	int rc = dd_store_mitigation_task_get(c->db, c->account_region, task_id, &t);
	if (rc && rc != DD_ENOTFOUND)
		return dd__db_fail(c);
	int found = 0;
	if (!rc) {
		found = strcmp(t.client_token, token) ? 2 : strcmp(t.request_hash, hash) ? 3 : 1;
		dd_store_mitigation_task_clear(&t);
	}
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
	char other[160];
	rc = dd_store_mitigation_task_by_token(c->db, c->account_region, token, other, sizeof other);
	if (rc && rc != DD_ENOTFOUND)
		return dd__db_fail(c);
	if (!rc)
		return dd_fail(c, DD_EEXIST, "TaskAlreadyExistsException",
			       "The clientRequestToken was already used to start the audit mitigation actions task %s.", other);
	return 0;
}

static int start_audit_mitigation_actions_task(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *task_id = dd__str(in, "taskId");
	const char *token = dd__str(in, "clientRequestToken");
	char gen_token[37];
	if (!token || !*token) {
		dd_random_uuid(gen_token);
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
	dd_hex_sha256(req_text, strlen(req_text), hash);
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
	int64_t running = 0;
	if (dd_store_mitigation_task_count_in_progress(c->db, c->account_region, &running)) {
		rc = dd__db_fail(c);
		goto out;
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
	struct dd_store_mitigation_task t = {
		.client_token = (char *)token, .request_hash = hash, .target = t_text, .mapping = m_text, .actions = d_text,
		.audit_task_id = (char *)dd__str(target, "auditTaskId"), .start_ms = now,
	};
	if (dd_store_mitigation_task_insert(c->db, c->account_region, task_id, &t)) {
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
	dd_mitigation_engine_wake(c->svc);
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

static json_t *stats_item(int64_t total, int64_t failed, int64_t succeeded, int64_t skipped, int64_t canceled)
{
	return json_pack("{s:I, s:I, s:I, s:I, s:I}", "totalFindingsCount", (json_int_t)total, "failedFindingsCount",
			 (json_int_t)failed, "succeededFindingsCount", (json_int_t)succeeded, "skippedFindingsCount",
			 (json_int_t)skipped, "canceledFindingsCount", (json_int_t)canceled);
}

static int stats_row(const char *check, int64_t total, int64_t failed, int64_t succeeded, int64_t skipped,
		     int64_t canceled, void *ud)
{
	json_object_set_new(ud, check, stats_item(total, failed, succeeded, skipped, canceled));
	return 0;
}

static json_t *task_statistics(struct dd_ctx *c, const char *task_id, json_t *mapping)
{
	json_t *stats = json_object();
	const char *check;
	json_t *v;
	json_object_foreach(mapping, check, v)
		json_object_set_new(stats, check, stats_item(0, 0, 0, 0, 0));
	if (dd_store_mitigation_task_stats(c->db, c->account_region, task_id, stats_row, stats))
		dd_log_warn("mitigation: the statistics of task %s could not be read", task_id);
	return stats;
}

static int describe_audit_mitigation_actions_task(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *id = dd__str(in, "taskId");
	struct dd_store_mitigation_task t;
	int rc = dd_store_mitigation_task_get(c->db, c->account_region, id, &t);
	if (rc == DD_ENOTFOUND)
		return dd_fail(c, DD_ENOTFOUND, "ResourceNotFoundException", "Audit mitigation actions task %s not found.", id);
	if (rc)
		return dd__db_fail(c);
	json_t *mapping = json_loads(t.mapping, 0, NULL);
	json_t *o = json_pack("{s:s, s:o, s:o, s:o, s:o}", "taskStatus", t.status, "startTime", dd_json_time(t.start_ms),
			      "target", or_else(json_loads(t.target, 0, NULL), json_object()), "auditCheckToActionsMapping",
			      mapping ? json_incref(mapping) : json_object(), "actionsDefinition",
			      or_else(json_loads(t.actions, 0, NULL), json_array()));
	if (o && t.end_ms >= 0)
		json_object_set_new(o, "endTime", dd_json_time(t.end_ms));
	dd_store_mitigation_task_clear(&t);
	if (!o) {
		json_decref(mapping);
		return dd_fail(c, DD_ENOMEM, "InternalFailureException", "Out of memory.");
	}
	json_object_set_new(o, "taskStatistics", task_statistics(c, id, mapping));
	json_decref(mapping);
	*out = o;
	return 0;
}

static int task_item(const char *task_id, const char *status, int64_t start_ms, void *ud)
{
	struct page *p = ud;
	if (page_full(p))
		return 1;
	snprintf(p->last, sizeof p->last, "%lld|%s", (long long)start_ms, task_id);
	return page_add(p, json_pack("{s:s, s:o, s:s}", "taskId", task_id, "startTime", dd_json_time(start_ms),
				     "taskStatus", status));
}

static int list_audit_mitigation_actions_tasks(struct dd_ctx *c, json_t *in, json_t **out)
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
	struct dd_store_mitigation_task_filter f = {
		.start_ms = start, .end_ms = end, .status = dd__str(in, "taskStatus"),
		.audit_task_id = dd__str(in, "auditTaskId"), .finding_id = dd__str(in, "findingId"),
		.after_start_ms = a_ms, .after_task_id = a_id, .limit = size + 1,
	};
	struct page p = { .c = c, .items = json_array(), .size = size };
	int rc = dd_store_mitigation_task_list(c->db, c->account_region, &f, task_item, &p);
	return page_finish(&p, rc, "tasks", out);
}

static int execution_item(const struct dd_store_mitigation_execution *x, void *ud)
{
	struct page *p = ud;
	if (page_full(p))
		return 1;
	json_t *e = json_pack("{s:s, s:s, s:s, s:s, s:s}", "taskId", x->task_id, "findingId", x->finding_id,
			      "actionName", x->action_name, "actionId", x->action_id, "status", x->status);
	if (e && x->start_ms >= 0)
		json_object_set_new(e, "startTime", dd_json_time(x->start_ms));
	if (e && x->end_ms >= 0)
		json_object_set_new(e, "endTime", dd_json_time(x->end_ms));
	if (e && x->error_code)
		json_object_set_new(e, "errorCode", json_string(x->error_code));
	if (e && x->message)
		json_object_set_new(e, "message", json_string(x->message));
	snprintf(p->last, sizeof p->last, "%lld|%s", (long long)x->seq, x->finding_id);
	return page_add(p, e);
}

static int list_audit_mitigation_actions_executions(struct dd_ctx *c, json_t *in, json_t **out)
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
	struct page p = { .c = c, .items = json_array(), .size = size };
	int rc = dd_store_mitigation_execution_list(c->db, c->account_region, dd__str(in, "taskId"), dd__str(in, "findingId"),
						    dd__str(in, "actionStatus"), a_f, a_seq, size + 1, execution_item, &p);
	return page_finish(&p, rc, "actionsExecutions", out);
}

static int cancel_audit_mitigation_actions_task(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *id = dd__str(in, "taskId");
	*out = NULL;
	if (dd_db_begin_write(c->db))
		return dd__db_fail(c);
	char status[32];
	int rc = dd_store_mitigation_task_status(c->db, c->account_region, id, status, sizeof status);
	if (rc == DD_ENOTFOUND) {
		dd_db_rollback(c->db);
		return dd_fail(c, DD_ENOTFOUND, "ResourceNotFoundException", "Audit mitigation actions task %s not found.", id);
	}
	if (rc)
		return dd__db_fail(c);
	if (!dd_mitigation_rules_task_active(status)) {
		dd_db_rollback(c->db);
		return dd_fail(c, DD_ECONFLICT, "InvalidRequestException",
			       "Audit mitigation actions task %s is %s and cannot be canceled.", id, status);
	}
	if (dd_store_mitigation_task_cancel(c->db, c->account_region, id, dd_service_now_ms(c->svc)) || dd_db_commit(c->db))
		return dd__db_fail(c);
	return 0;
}

const struct dd_handler dd_iot_mitigation_handlers[] = {
	{ "iot", "CreateMitigationAction", create_mitigation_action },
	{ "iot", "UpdateMitigationAction", update_mitigation_action },
	{ "iot", "DeleteMitigationAction", delete_mitigation_action },
	{ "iot", "DescribeMitigationAction", describe_mitigation_action },
	{ "iot", "ListMitigationActions", list_mitigation_actions },
	{ "iot", "StartAuditMitigationActionsTask", start_audit_mitigation_actions_task },
	{ "iot", "DescribeAuditMitigationActionsTask", describe_audit_mitigation_actions_task },
	{ "iot", "ListAuditMitigationActionsTasks", list_audit_mitigation_actions_tasks },
	{ "iot", "ListAuditMitigationActionsExecutions", list_audit_mitigation_actions_executions },
	{ "iot", "CancelAuditMitigationActionsTask", cancel_audit_mitigation_actions_task },
	{ NULL, NULL, NULL },
};

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The mitigation engine: a dd_workers pool claims IN_PROGRESS audit mitigation actions
 * tasks from the store under a lease (dd/lease.h: one worker of one `serve` instance per
 * task; a task left by a stopped or killed process is still IN_PROGRESS, so it is claimed
 * and resumed once its lease expired; results are written only while the lease holds,
 * and an SNS message is queued once per (task, finding, action)) and runs their PENDING executions
 * in (finding, position) order. Each execution applies one action to one finding with
 * the permissions of the action's role, evaluated with the policy engine against the
 * resource it changes; a missing permission, a missing role or a failed change makes it
 * FAILED and the later executions of the same finding SKIPPED. Certificate status changes go through dd_certs_set_status, so they follow
 * UpdateCertificate's rules (they exist once); the other registry changes go through the
 * registry's and the store's functions. The state an execution changed is recorded in
 * its row (`prior`) for a later revert. Results are written in batches; certificate
 * status changes join one write transaction of up to TX_BATCH executions that commits
 * with their results (one transaction per change made 20,000 deactivations take
 * three times as long); the changes that are not idempotent (a new policy version, an SNS message) have their result written
 * right after the change, so a crash repeats at most the idempotent changes of one
 * batch. When no execution is left the task becomes FAILED (any execution failed) or
 * COMPLETED; a canceled task stays CANCELED. No SQL here: src/store/dd_store_mitigation.c.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/dd_workers.h"
#include "core/registry/dd_registry_groups.h"
#include "core/mitigation/dd_mitigation_rules.h"
#include "dd/region.h"
#include "dd/certs.h"
#include "dd/metrics.h"
#include "dd/iam.h"
#include "dd/lease.h"
#include "dd/mitigation.h"
#include "dd/policy.h"
#include "dd/sns.h"
#include "store/dd_store_audit.h"
#include "store/dd_store_certs.h"
#include "store/dd_store_groups.h"
#include "store/dd_store_mitigation.h"
#include "store/dd_store_policies.h"
#include "store/dd_store_principals.h"
#include "store/dd_store_settings.h"

#define MAX_WORKERS 4
#define MAX_CLAIMED 16
#define BATCH 1024
/* certificate status changes committed together with their results */
#define TX_BATCH 256
#define CANCEL_CHECK_EVERY 32

/* The blank template of REPLACE_DEFAULT_POLICY_VERSION: a policy that allows nothing. */
static const char blank_policy[] =
	"{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Deny\",\"Action\":\"iot:*\",\"Resource\":\"*\"}]}";

struct dd_mitigation_engine {
	struct dd_service *svc;
	struct dd_workers *pool;
	/* tasks being run, "<account_region>/<task>"; only touched by the pool's claim and
	 * release callbacks, which the pool serializes */
	char claimed[MAX_CLAIMED][DD_ACCOUNT_REGION_SIZE + 160];
};

/* ---- one task's actions ------------------------------------------------------------ */

struct act {
	const char *name, *id, *role;  /* borrowed from the task's actionsDefinition */
	const char *type;
	json_t *params;                /* the type's member of actionParams */
	struct dd_policy **pols;
	size_t npols;
	char role_error[512];          /* non-empty: every execution of this action fails */
};

/* A result waiting for flush. The strings are owned; NULL where there is none. */
struct result {
	char *finding_id;
	int64_t seq;
	const char *status;            /* a literal */
	int64_t start_ms, end_ms;
	char *error_code, *message;
	char *prior;                   /* the execution's prior, JSON text */
};

/* An execution of the page of pending ones being run; the strings are owned. */
struct pending {
	char *finding_id;
	int64_t seq;
	char *action;
};

struct pending_page {
	struct pending *v;
	size_t n, cap;
};

/* Room for element n of the array v (cap elements of size bytes): v, or its larger copy
 * (cap updated), or NULL when out of memory (v unchanged). */
static void *grow(void *v, size_t *cap, size_t n, size_t size)
{
	if (n < *cap)
		return v;
	size_t c = *cap ? *cap * 2 : 64;
	void *p = realloc(v, c * size);
	if (p)
		*cap = c;
	return p;
}

struct run {
	struct dd_service *svc;
	struct dd_workers *pool;
	struct dd_db *db;
	const char *account_region, *task_id;  /* account_region: "<account>/<region>" */
	char account[13], region[64];           /* split from account_region, for IAM and ARNs */
	json_t *defs;
	struct act *acts;
	size_t nacts;
	struct result *results;        /* pending result rows */
	size_t nresults, results_cap;
	int64_t t0_ms;                 /* this run started (log, metrics) */
	/* An open write transaction holding up to TX_BATCH certificate status changes; flush
	 * writes the pending results into it and commits both together. */
	bool tx;
	unsigned tx_n;
	bool tx_broken;                /* a store error inside it: roll back, halt */
	char unit[DD_ACCOUNT_REGION_SIZE + 160]; /* the lease's unit: "<account_region>/<task>" */
	bool lost;                     /* another instance took the lease: stop, store nothing */
};

/* In the caller's write transaction: does this instance still hold the task's lease? */
static bool lease_held(struct run *r)
{
	bool held = false;
	if (r->lost || dd_lease_hold(r->svc, r->db, "mitigation", r->unit, &held) || !held) {
		if (!r->lost)
			dd_log_warn("mitigation: task %s: the lease was lost to another instance; stopping", r->task_id);
		r->lost = true;
		return false;
	}
	return true;
}

/* The same in a transaction of its own (before a change that is not idempotent). */
static bool lease_check(struct run *r)
{
	if (dd_db_begin_write(r->db))
		return false;
	bool held = lease_held(r);
	if (dd_db_commit(r->db)) {
		dd_db_rollback(r->db);
		return false;
	}
	return held;
}

static json_t *load_finding(struct run *r, const char *id, bool full);

static void act_load_role(struct run *r, struct act *a)
{
	bool trusts = false;
	int rc = dd_iam_role_trusts_service(r->db, r->account, a->role, "iot.amazonaws.com", &trusts);
	if (rc == DD_ENOTFOUND) {
		snprintf(a->role_error, sizeof a->role_error, "The role %s of mitigation action %s does not exist.", a->role, a->name);
		return;
	}
	if (rc || !trusts) {
		snprintf(a->role_error, sizeof a->role_error, rc ? "The role %s of mitigation action %s could not be read."
				: "The role %s of mitigation action %s does not trust iot.amazonaws.com to assume it.",
			 a->role, a->name);
		return;
	}
	struct dd_iam_policy_docs docs = { 0 };
	if (dd_iam_role_policies(r->db, r->account, a->role, &docs)) {
		snprintf(a->role_error, sizeof a->role_error, "The policies of role %s could not be read.", a->role);
		return;
	}
	a->pols = calloc(docs.n ? docs.n : 1, sizeof *a->pols);
	for (size_t i = 0; a->pols && i < docs.n; i++) {
		char msg[DD_POLICY_ERRMSG_SIZE];
		if (dd_policy_compile(docs.items[i].document, strlen(docs.items[i].document), DD_POLICY_IAM,
				      &a->pols[a->npols], msg, sizeof msg) == 0)
			a->npols++;
		else
			dd_log_warn("mitigation: policy %s of role %s does not compile (%s); it grants nothing",
				    docs.items[i].name, a->role, msg);
	}
	if (!a->pols)
		snprintf(a->role_error, sizeof a->role_error, "Out of memory.");
	dd_iam_policy_docs_clear(&docs);
}

static void acts_free(struct run *r)
{
	for (size_t i = 0; i < r->nacts; i++) {
		for (size_t j = 0; j < r->acts[i].npols; j++)
			dd_policy_free(r->acts[i].pols[j]);
		free(r->acts[i].pols);
	}
	free(r->acts);
	r->acts = NULL;
	r->nacts = 0;
}

static int acts_load(struct run *r)
{
	size_t n = json_array_size(r->defs);
	r->acts = calloc(n ? n : 1, sizeof *r->acts);
	if (!r->acts)
		return DD_ENOMEM;
	r->nacts = n;
	for (size_t i = 0; i < n; i++) {
		json_t *d = json_array_get(r->defs, i);
		struct act *a = &r->acts[i];
		a->name = json_string_value(json_object_get(d, "name"));
		a->id = json_string_value(json_object_get(d, "id"));
		a->role = json_string_value(json_object_get(d, "roleArn"));
		json_t *p = json_object_get(d, "actionParams");
		const char *member;
		json_t *v;
		json_object_foreach(p, member, v) {
			const char *type = dd_mitigation_rules_type_of(member);
			if (type) {
				a->type = type;
				a->params = v;
			}
		}
		if (!a->name || !a->role || !a->type) {
			snprintf(a->role_error, sizeof a->role_error, "The definition of this mitigation action is damaged.");
			continue;
		}
		act_load_role(r, a);
	}
	return 0;
}

static struct act *act_find(struct run *r, const char *name)
{
	for (size_t i = 0; i < r->nacts; i++)
		if (r->acts[i].name && !strcmp(r->acts[i].name, name))
			return &r->acts[i];
	return NULL;
}

/* ---- an execution's outcome -------------------------------------------------------- */

struct outcome {
	char code[64];
	char msg[1024];
	json_t *prior;    /* owned; what was changed and how it was before */
};

static int fail(struct outcome *o, const char *code, const char *fmt, ...) DD_PRINTF(3, 4);
static int fail(struct outcome *o, const char *code, const char *fmt, ...)
{
	snprintf(o->code, sizeof o->code, "%s", code);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(o->msg, sizeof o->msg, fmt, ap);
	va_end(ap);
	return -1;
}

/* Does the action's role allow iam_action on resource? Sets the outcome when not. */
static bool allowed(struct act *a, const char *iam_action, const char *resource, struct outcome *o)
{
	bool ok = false;
	if (dd_policy_role_allows((const struct dd_policy *const *)a->pols, a->npols, iam_action, resource, &ok) || !ok) {
		fail(o, "AccessDeniedException", "The role %s of mitigation action %s is not allowed to perform %s on %s.",
		     a->role, a->name, iam_action, resource);
		return false;
	}
	return true;
}

static void arn(struct run *r, char *buf, size_t len, const char *kind, const char *id)
{
	snprintf(buf, len, "arn:aws:iot:%s:%s:%s/%s", r->region, r->account, kind, id);
}

static int do_certificate(struct run *r, struct act *a, json_t *rid, bool ca, struct outcome *o)
{
	const char *id = json_string_value(json_object_get(rid, ca ? "caCertificateId" : "deviceCertificateId"));
	if (!id)
		return fail(o, "InvalidRequestException", "The finding does not name a %s.", ca ? "CA certificate" : "device certificate");
	char res[512];
	arn(r, res, sizeof res, ca ? "cacert" : "cert", id);
	if (!allowed(a, ca ? "iot:UpdateCACertificate" : "iot:UpdateCertificate", res, o))
		return -1;
	/* Status changes are batched: they join the run's write transaction (opened here
	 * when none is), which flush commits with their results. */
	if (!r->tx) {
		if (dd_db_begin_write(r->db))
			return fail(o, "InternalFailureException", "The store is unavailable.");
		r->tx = true;
		r->tx_n = 0;
	}
	/* The status before, by primary key only (dd_certs_get also derives the revocation
	 * state from the CA graph, far too slow to do once per execution). */
	char before[32];
	int rc = dd_store_certs_status(r->db, r->account_region, ca ? DD_STORE_CERTS_CA : DD_STORE_CERTS_DEVICE, id, before);
	if (rc == DD_ENOTFOUND)
		return fail(o, "ResourceNotFoundException", "The %s %s does not exist.", ca ? "CA certificate" : "certificate", id);
	if (rc) {
		r->tx_broken = true;
		return fail(o, "InternalFailureException", "The certificate %s could not be read.", id);
	}
	o->prior = json_pack("{s:s, s:s, s:s}", "resource", res, "status", before, "newStatus", "INACTIVE");
	if (!strcmp(before, "INACTIVE"))
		return 0;
	/* UpdateCertificate's / UpdateCACertificate's rules, in the run's transaction */
	char msg[256];
	rc = dd_certs_set_status(r->db, r->account_region, ca ? DD_CERT_CA : DD_CERT_DEVICE, id, "INACTIVE",
				 dd_service_now_ms(r->svc), msg, sizeof msg);
	if (rc == DD_ENOTFOUND)
		return fail(o, "ResourceNotFoundException", "%s", msg);
	if (rc == DD_EINVAL || rc == DD_ECONFLICT)
		return fail(o, "InvalidRequestException", "%s", msg);
	if (rc) {
		r->tx_broken = true;
		return fail(o, "InternalFailureException", "The store is unavailable.");
	}
	return 0;
}

static int append_name(const char *name, void *ud)
{
	return json_array_append_new(ud, json_string(name)) ? DD_ENOMEM : 0;
}

static int append_thing(const char *thing, const char *type, void *ud)
{
	(void)type;
	return append_name(thing, ud);
}

/* The thing groups of a thing, as a JSON array of names. */
static json_t *groups_of(struct run *r, const char *thing)
{
	json_t *g = json_array();
	if (g && dd_store_groups_member_list_groups(r->db, r->account_region, thing, "", 0, append_name, g))
		dd_log_warn("mitigation: the groups of thing %s could not be read", thing);
	return g;
}

static bool in_list(json_t *list, const char *s)
{
	size_t i;
	json_t *v;
	json_array_foreach(list, i, v)
		if (!strcmp(json_string_value(v), s))
			return true;
	return false;
}

static int do_add_things(struct run *r, struct act *a, json_t *rid, struct outcome *o)
{
	const char *id = json_string_value(json_object_get(rid, "deviceCertificateId"));
	if (!id)
		return fail(o, "InvalidRequestException", "The finding does not name a device certificate.");
	char cert[512];
	arn(r, cert, sizeof cert, "cert", id);
	if (!allowed(a, "iot:ListPrincipalThings", cert, o))
		return -1;
	json_t *groups = json_object_get(a->params, "thingGroupNames");
	bool override = json_is_true(json_object_get(a->params, "overrideDynamicGroups"));
	size_t i;
	json_t *g;
	json_array_foreach(groups, i, g) {
		char garn[512];
		arn(r, garn, sizeof garn, "thinggroup", json_string_value(g));
		if (!allowed(a, "iot:AddThingToThingGroup", garn, o))
			return -1;
	}
	if (dd_db_begin_write(r->db))
		return fail(o, "InternalFailureException", "The store is unavailable.");
	json_t *things = json_array();
	int lrc = things ? dd_store_principals_things_of(r->db, r->account_region, cert, NULL, "", 0, append_thing, things)
			 : DD_ENOMEM;
	json_t *changes = json_array();
	int rc = !lrc ? 0 : -1;
	json_t *t;
	json_array_foreach(things, i, t) {
		const char *thing = json_string_value(t);
		char tarn[512];
		arn(r, tarn, sizeof tarn, "thing", thing);
		if (!allowed(a, "iot:AddThingToThingGroup", tarn, o)) {
			rc = -1;
			break;
		}
		json_t *before = groups_of(r, thing);
		size_t j;
		json_array_foreach(groups, j, g) {
			char msg[600] = "";
			rc = dd_registry_groups_add_member(r->db, r->account_region, json_string_value(g), thing, override,
							   msg, sizeof msg);
			if (rc) {
				fail(o, rc == DD_EIO || !msg[0] ? "InternalFailureException"
				     : rc == DD_ENOTFOUND ? "ResourceNotFoundException" : "InvalidRequestException",
				     "%s", msg[0] ? msg : "The store is unavailable.");
				break;
			}
		}
		if (rc) {
			json_decref(before);
			break;
		}
		json_t *after = groups_of(r, thing);
		json_t *added = json_array(), *removed = json_array();
		json_t *v;
		json_array_foreach(after, j, v)
			if (!in_list(before, json_string_value(v)))
				json_array_append(added, v);
		json_array_foreach(before, j, v)
			if (!in_list(after, json_string_value(v)))
				json_array_append(removed, v);
		json_array_append_new(changes, json_pack("{s:s, s:o, s:o, s:o}", "thingName", thing, "groupsBefore", before,
							 "added", added, "removed", removed));
		json_decref(after);
	}
	json_decref(things);
	if (rc || dd_db_commit(r->db)) {
		dd_db_rollback(r->db);
		json_decref(changes);
		if (!o->code[0])
			fail(o, "InternalFailureException", "The store is unavailable.");
		return -1;
	}
	o->prior = json_pack("{s:s, s:o}", "certificate", cert, "things", changes);
	return 0;
}

static int do_blank_policy(struct run *r, struct act *a, json_t *rid, struct outcome *o)
{
	const char *name = json_string_value(json_object_get(json_object_get(rid, "policyVersionIdentifier"), "policyName"));
	if (!name)
		return fail(o, "InvalidRequestException", "The finding does not name an IoT policy.");
	char res[512];
	arn(r, res, sizeof res, "policy", name);
	if (!allowed(a, "iot:CreatePolicyVersion", res, o))
		return -1;
	if (dd_db_begin_write(r->db))
		return fail(o, "InternalFailureException", "The store is unavailable.");
	char gen[37];
	dd_random_uuid(gen);
	/* a new default version, unless the policy has all the versions it may have */
	struct dd_store_policies_row pol;
	int64_t def = 0, next = 0, count = 0;
	int rc = dd_store_policies_get(r->db, r->account_region, name, &pol);
	if (!rc)
		def = pol.default_version;
	if (!rc)
		rc = dd_store_policies_versions_count(r->db, r->account_region, name, &count);
	if (!rc && count >= DD_MITIGATION_MAX_POLICY_VERSIONS)
		rc = DD_ELIMIT;
	if (!rc)
		rc = dd_store_policies_version_add(r->db, r->account_region, name, blank_policy, true, gen,
						   dd_service_now_ms(r->svc), &next);
	if (rc == DD_ENOTFOUND || rc == DD_ELIMIT) {
		dd_db_rollback(r->db);
		if (rc == DD_ENOTFOUND)
			return fail(o, "ResourceNotFoundException", "The policy %s does not exist.", name);
		return fail(o, "VersionsLimitExceededException",
			    "The policy %s already has the maximum number of versions (%d); delete a version to let the blank version be added.",
			    name, DD_MITIGATION_MAX_POLICY_VERSIONS);
	}
	if (rc || dd_db_commit(r->db)) {
		dd_db_rollback(r->db);
		return fail(o, "InternalFailureException", "The store is unavailable.");
	}
	char dv[32], nv[32];
	snprintf(dv, sizeof dv, "%lld", (long long)def);
	snprintf(nv, sizeof nv, "%lld", (long long)next);
	o->prior = json_pack("{s:s, s:s, s:s}", "policyName", name, "defaultVersionId", dv, "newVersionId", nv);
	return 0;
}

static int do_logging(struct run *r, struct act *a, struct outcome *o)
{
	const char *role = json_string_value(json_object_get(a->params, "roleArnForLogging"));
	const char *level = json_string_value(json_object_get(a->params, "logLevel"));
	if (!role || !level)
		return fail(o, "InvalidRequestException", "The action's enableIoTLoggingParams are incomplete.");
	if (!allowed(a, "iot:SetV2LoggingOptions", "*", o) || !allowed(a, "iam:PassRole", role, o))
		return -1;
	if (dd_db_begin_write(r->db))
		return fail(o, "InternalFailureException", "The store is unavailable.");
	char *cur_text = NULL;
	int rc = dd_store_settings_get(r->db, r->account_region, "logging_v2", &cur_text);
	if (rc == DD_ENOTFOUND)
		rc = 0; /* never set: logging is off */
	json_t *cur = cur_text ? json_loads(cur_text, 0, NULL) : NULL;
	free(cur_text);
	json_t *prior = cur ? json_deep_copy(cur) : json_null();
	if (!cur)
		cur = json_object();
	json_object_set_new(cur, "roleArn", json_string(role));
	json_object_set_new(cur, "defaultLogLevel", json_string(level));
	json_object_set_new(cur, "disableAllLogs", json_false());
	char *text = json_dumps(cur, JSON_COMPACT);
	json_decref(cur);
	if (!rc)
		rc = text ? dd_store_settings_put(r->db, r->account_region, "logging_v2", text) : DD_ENOMEM;
	free(text);
	if (rc || dd_db_commit(r->db)) {
		dd_db_rollback(r->db);
		json_decref(prior);
		return fail(o, "InternalFailureException", "The store is unavailable.");
	}
	o->prior = json_pack("{s:o}", "loggingV2", prior);
	return 0;
}

static int do_publish(struct run *r, struct act *a, json_t *finding, struct outcome *o)
{
	const char *topic = json_string_value(json_object_get(a->params, "topicArn"));
	if (!topic)
		return fail(o, "InvalidRequestException", "The action's publishFindingToSnsParams are incomplete.");
	if (!allowed(a, "sns:Publish", topic, o))
		return -1;
	json_t *msg = load_finding(r, json_string_value(json_object_get(finding, "findingId")), true);
	if (!msg)
		return fail(o, "ResourceNotFoundException", "The finding no longer exists.");
	json_object_set_new(msg, "accountId", json_string(r->account));
	json_object_set_new(msg, "mitigationActionsTaskId", json_string(r->task_id));
	json_object_set_new(msg, "mitigationActionName", json_string(a->name));
	char *text = json_dumps(msg, JSON_COMPACT);
	json_decref(msg);
	if (!text)
		return fail(o, "InternalFailureException", "Out of memory.");
	char mid[37], key[600];
	/* one message per (task, finding, action), however often the execution runs */
	snprintf(key, sizeof key, "mitigation/%s/%s/%s", r->task_id, json_string_value(json_object_get(finding, "findingId")),
		 a->name);
	int rc = dd_sns_publish_once(r->svc, r->db, r->account, topic, key, text, mid);
	free(text);
	if (rc == DD_ENOTFOUND)
		return fail(o, "ResourceNotFoundException", "The topic %s does not exist.", topic);
	if (rc)
		return fail(o, "InternalFailureException", "The finding could not be published to %s (%s).", topic, dd_strerror(rc));
	dd_outbox_wake(r->svc);
	o->prior = json_pack("{s:s, s:s}", "topicArn", topic, "messageId", mid);
	return 0;
}

/* Applies one action to one finding. Returns 0 (COMPLETED) or -1 (FAILED, o set). */
static int apply(struct run *r, struct act *a, json_t *finding, struct outcome *o)
{
	if (a->role_error[0])
		return fail(o, "AccessDeniedException", "%s", a->role_error);
	json_t *rid = json_object_get(json_object_get(finding, "nonCompliantResource"), "resourceIdentifier");
	if (!strcmp(a->type, "UPDATE_DEVICE_CERTIFICATE"))
		return do_certificate(r, a, rid, false, o);
	if (!strcmp(a->type, "UPDATE_CA_CERTIFICATE"))
		return do_certificate(r, a, rid, true, o);
	if (!strcmp(a->type, "ADD_THINGS_TO_THING_GROUP"))
		return do_add_things(r, a, rid, o);
	if (!strcmp(a->type, "REPLACE_DEFAULT_POLICY_VERSION")) {
		/* a new policy version is not idempotent: only while the task is still ours */
		if (!lease_check(r))
			return fail(o, "InternalFailureException", "The task was taken over by another instance.");
		return do_blank_policy(r, a, rid, o);
	}
	if (!strcmp(a->type, "ENABLE_IOT_LOGGING"))
		return do_logging(r, a, o);
	return do_publish(r, a, finding, o);
}

/* ---- the task loop ----------------------------------------------------------------- */

struct finding_load {
	bool full;
	json_t *out;
};

static int finding_json(const struct dd_store_audit_finding *f, void *ud)
{
	struct finding_load *l = ud;
#define S(x) ((x) ? (x) : "")
	json_t *res = json_loads(f->resource ? f->resource : "", 0, NULL);
	if (!l->full) {
		l->out = json_pack("{s:o, s:s}", "nonCompliantResource", res ? res : json_object(), "findingId", S(f->finding_id));
		return 0;
	}
	json_t *rel = json_loads(f->related ? f->related : "", 0, NULL);
	l->out = json_pack("{s:s, s:s, s:s, s:I, s:I, s:s, s:o, s:o, s:s, s:s, s:b}", "findingId", S(f->finding_id),
			   "taskId", S(f->task_id), "checkName", S(f->check_name), "taskStartTime", (json_int_t)f->task_start_ms,
			   "findingTime", (json_int_t)f->finding_ms, "severity", S(f->severity), "nonCompliantResource",
			   res ? res : json_object(), "relatedResources", rel ? rel : json_array(),
			   "reasonForNonCompliance", S(f->reason), "reasonForNonComplianceCode",
			   S(f->reason_code), "isSuppressed", f->suppressed);
#undef S
	return 0;
}

/* The finding as the engine needs it: findingId and nonCompliantResource only, unless full (the
 * whole finding, for PUBLISH_FINDING_TO_SNS). NULL when it does not exist. */
static json_t *load_finding(struct run *r, const char *id, bool full)
{
	struct finding_load l = { full, NULL };
	if (dd_store_audit_findings_get(r->db, r->account_region, id ? id : "", finding_json, &l)) {
		json_decref(l.out);
		return NULL;
	}
	return l.out;
}

static void results_clear(struct run *r)
{
	for (size_t i = 0; i < r->nresults; i++) {
		struct result *x = &r->results[i];
		free(x->finding_id);
		free(x->error_code);
		free(x->message);
		free(x->prior);
	}
	r->nresults = 0;
}

/* Writes the pending result rows in one transaction: the run's open one (committing its
 * certificate status changes with them) or one of their own. */
static int flush(struct run *r)
{
	if (r->tx_broken) {
		/* the batch's changes are rolled back with their results; the executions stay
		 * PENDING and run again when the task resumes */
		dd_db_rollback(r->db);
		r->tx = r->tx_broken = false;
		results_clear(r);
		return DD_EIO;
	}
	if (r->nresults == 0 && !r->tx)
		return 0;
	if (!r->tx && dd_db_begin_write(r->db))
		return DD_EIO;
	r->tx = false;
	if (!lease_held(r)) {
		dd_db_rollback(r->db);
		results_clear(r);
		return DD_ECONFLICT;
	}
	int rc = 0;
	for (size_t i = 0; i < r->nresults; i++) {
		const struct result *x = &r->results[i];
		struct dd_store_mitigation_result res = {
			.finding_id = x->finding_id, .seq = x->seq, .status = x->status,
			.start_ms = x->start_ms, .end_ms = x->end_ms,
			.error_code = x->error_code, .message = x->message, .prior = x->prior,
		};
		if ((rc = dd_store_mitigation_execution_set_result(r->db, r->account_region, r->task_id, &res)))
			break;
	}
	if (rc || dd_db_commit(r->db)) {
		dd_db_rollback(r->db);
		results_clear(r);
		return DD_EIO;
	}
	results_clear(r);
	return 0;
}

static bool is_certificate_action(const struct act *a)
{
	return a && a->type && (!strcmp(a->type, "UPDATE_DEVICE_CERTIFICATE") || !strcmp(a->type, "UPDATE_CA_CERTIFICATE"));
}

static void record(struct run *r, const char *finding, int64_t seq, const char *status, int64_t start, int64_t end,
		   const char *code, const char *msg, json_t *prior)
{
	struct result *v = grow(r->results, &r->results_cap, r->nresults, sizeof *v);
	if (!v)
		return; /* not stored: the execution stays PENDING and runs again on resume */
	r->results = v;
	struct result *x = &v[r->nresults];
	*x = (struct result){
		.finding_id = strdup(finding), .seq = seq, .status = status, .start_ms = start, .end_ms = end,
		.error_code = code && *code ? strdup(code) : NULL, .message = msg && *msg ? strdup(msg) : NULL,
		.prior = prior ? json_dumps(prior, JSON_COMPACT) : NULL,
	};
	if (!x->finding_id || (code && *code && !x->error_code) || (msg && *msg && !x->message)) {
		free(x->finding_id);
		free(x->error_code);
		free(x->message);
		free(x->prior);
		return;
	}
	r->nresults++;
}

/* Is the task still to be run (not canceled, not stopping)? */
static bool go_on(struct run *r)
{
	char st[32];
	return !r->lost && !dd_workers_stopping(r->pool) &&
	       dd_store_mitigation_task_status(r->db, r->account_region, r->task_id, st, sizeof st) == 0 &&
	       dd_mitigation_rules_task_active(st);
}

static bool earlier_failed(struct run *r, const char *finding, int64_t seq)
{
	bool f = false;
	if (dd_store_mitigation_execution_earlier_failed(r->db, r->account_region, r->task_id, finding, seq, &f))
		return false;
	return f;
}

static void settle(struct run *r)
{
	int64_t left = -1, failed = 0;
	if (dd_store_mitigation_execution_counts(r->db, r->account_region, r->task_id, &left, &failed) || left != 0)
		return;
	if (dd_db_begin_write(r->db))
		return;
	const char *status = failed ? "FAILED" : "COMPLETED";
	if (!lease_held(r)) {
		dd_db_rollback(r->db);
		return;
	}
	int rc = dd_store_mitigation_task_finish(r->db, r->account_region, r->task_id, status, dd_service_now_ms(r->svc));
	if ((rc && rc != DD_ENOTFOUND) || dd_db_commit(r->db)) {
		dd_db_rollback(r->db);
		return;
	}
	if (rc == DD_ENOTFOUND)
		return; /* canceled meanwhile */
	dd_log_info("mitigation: task %s %s: %lld failed executions, %lld ms", r->task_id, status, (long long)failed,
		    (long long)(dd_time_now_ms() - r->t0_ms));
	dd_metrics_task("mitigation", status, dd_time_now_ms() - r->t0_ms);
}

static int append_pending(const char *finding, int64_t seq, const char *action, void *ud)
{
	struct pending_page *p = ud;
	struct pending *v = grow(p->v, &p->cap, p->n, sizeof *v);
	if (!v)
		return DD_ENOMEM;
	p->v = v;
	char *f = strdup(finding), *a = strdup(action);
	if (!f || !a) {
		free(f);
		free(a);
		return DD_ENOMEM;
	}
	v[p->n++] = (struct pending){ f, seq, a };
	return 0;
}

static void pending_clear(struct pending_page *p)
{
	for (size_t i = 0; i < p->n; i++) {
		free(p->v[i].finding_id);
		free(p->v[i].action);
	}
	p->n = 0;
}

static int run_task(struct dd_service *svc, struct dd_workers *pool, const char *account_region, const char *task_id)
{
	struct run r = { .svc = svc, .pool = pool, .account_region = account_region, .task_id = task_id };
	snprintf(r.unit, sizeof r.unit, "%s/%s", account_region, task_id);
	if (dd_account_region_split(account_region, r.account, r.region, sizeof r.region)) {
		dd_log_error("mitigation: task %s: malformed account_region %s", task_id, account_region);
		return DD_EINVAL;
	}
	r.db = dd_store_db(svc->store);
	if (!r.db)
		return DD_EIO;
	struct dd_store_mitigation_task t;
	int rc = dd_store_mitigation_task_get(r.db, account_region, task_id, &t);
	if (rc)
		return rc == DD_ENOTFOUND ? 0 : rc;
	r.defs = json_loads(t.actions, 0, NULL);
	dd_store_mitigation_task_clear(&t);
	if (!r.defs || acts_load(&r)) {
		json_decref(r.defs);
		return DD_ENOMEM;
	}
	r.t0_ms = dd_time_now_ms();
	dd_log_info("mitigation: task %s of %s started: %zu actions", task_id, account_region, r.nacts);
	char last_f[160] = "", cur_f[160] = "";
	int64_t last_seq = -1;
	bool cur_failed = false, first = true, halted = false;
	json_t *finding = NULL;
	unsigned since_check = 0;
	struct pending_page page = { NULL, 0, 0 };
	while (!halted) {
		if (!go_on(&r))
			break;
		pending_clear(&page);
		if (dd_store_mitigation_execution_pending(r.db, account_region, task_id, last_f, last_seq, BATCH,
							  append_pending, &page) || page.n == 0)
			break;
		for (size_t i = 0; i < page.n; i++) {
			const char *fid = page.v[i].finding_id;
			int64_t seq = page.v[i].seq;
			const char *aname = page.v[i].action;
			if (++since_check >= CANCEL_CHECK_EVERY) {
				since_check = 0;
				if (!go_on(&r)) {
					halted = true;
					break;
				}
			}
			if (first || strcmp(fid, cur_f)) {
				snprintf(cur_f, sizeof cur_f, "%s", fid);
				json_decref(finding);
				finding = load_finding(&r, fid, false);
				cur_failed = seq > 0 && earlier_failed(&r, fid, seq);
				first = false;
			}
			snprintf(last_f, sizeof last_f, "%s", fid);
			last_seq = seq;
			int64_t t0 = dd_service_now_ms(svc);
			struct act *a = act_find(&r, aname);
			if (cur_failed) {
				record(&r, fid, seq, "SKIPPED", t0, t0, NULL,
				       "An earlier mitigation action for this finding failed, so this one was skipped.", NULL);
				continue;
			}
			/* the other actions open their own transactions: commit the batch first */
			if (r.tx && !is_certificate_action(a) && flush(&r)) {
				dd_log_error("mitigation: task %s: results could not be stored", task_id);
				halted = true;
				break;
			}
			struct outcome o = { "", "", NULL };
			int arc;
			if (!finding)
				arc = fail(&o, "ResourceNotFoundException", "The finding %s no longer exists.", fid);
			else if (!a)
				arc = fail(&o, "ResourceNotFoundException", "The mitigation action %s is not in the task's definitions.", aname);
			else
				arc = apply(&r, a, finding, &o);
			int64_t t1 = dd_service_now_ms(svc);
			if (arc) {
				cur_failed = true;
				dd_log_info("mitigation: task %s: %s on finding %s failed: %s", task_id, aname, fid, o.msg);
			}
			record(&r, fid, seq, arc ? "FAILED" : "COMPLETED", t0, t1, arc ? o.code : NULL, arc ? o.msg : NULL, o.prior);
			json_decref(o.prior);
			bool now = !arc && a && (!strcmp(a->type, "REPLACE_DEFAULT_POLICY_VERSION") || !strcmp(a->type, "PUBLISH_FINDING_TO_SNS"));
			if (r.tx && ++r.tx_n >= TX_BATCH)
				now = true;
			if ((now || r.tx_broken || r.nresults >= BATCH) && flush(&r)) {
				dd_log_error("mitigation: task %s: results could not be stored", task_id);
				halted = true;
				break;
			}
		}
		if (flush(&r)) {
			dd_log_error("mitigation: task %s: results could not be stored", task_id);
			break;
		}
	}
	rc = 0;
	if (flush(&r)) {
		dd_log_error("mitigation: task %s: results could not be stored", task_id);
		rc = DD_EIO;
	}
	json_decref(finding);
	if (!dd_workers_stopping(pool) && !r.lost)
		settle(&r);
	pending_clear(&page);
	free(page.v);
	results_clear(&r);
	free(r.results);
	acts_free(&r);
	json_decref(r.defs);
	return rc;
}

/* ---- the pool's callbacks ---------------------------------------------------------- */

struct job {
	char key[DD_ACCOUNT_REGION_SIZE + 160];  /* "<account_region>/<task>" */
	char account_region[DD_ACCOUNT_REGION_SIZE];
	char task[160];
};

struct pick {
	struct dd_mitigation_engine *e;
	struct job *job;
	int seen;        /* candidates read */
};

/* The first claimable task (oldest first) that no worker here runs. */
static int pick_task(const char *account_region, const char *task_id, void *ud)
{
	struct pick *p = ud;
	char key[sizeof p->job->key];
	p->seen++;
	snprintf(key, sizeof key, "%s/%s", account_region, task_id);
	for (int i = 0; i < MAX_CLAIMED; i++)
		if (!strcmp(p->e->claimed[i], key))
			return 0;
	snprintf(p->job->key, sizeof p->job->key, "%s", key);
	snprintf(p->job->account_region, sizeof p->job->account_region, "%s", account_region);
	snprintf(p->job->task, sizeof p->job->task, "%s", task_id);
	return 1;
}

/* dd_lease_claim's pick, in the claim transaction: of the IN_PROGRESS tasks nobody holds a
 * live lease of (the store skips, on PostgreSQL, those another claimer is taking), the
 * oldest no worker here runs. The candidate read locks the rows it returns, so it reads
 * one; only when that one is claimed here (its worker let the lease go and is ending) it
 * reads MAX_CLAIMED + 1, which always hold an unclaimed one when there is one. */
static int pick_claimable(struct dd_db *db, int64_t now_ms, void *ud, char *unit, size_t n)
{
	struct pick *p = ud;
	p->seen = 0;
	int rc = dd_store_mitigation_task_claimable(db, now_ms, 1, pick_task, p);
	if (rc == 0 && p->seen > 0)
		rc = dd_store_mitigation_task_claimable(db, now_ms, MAX_CLAIMED + 1, pick_task, p);
	if (rc == 1)
		snprintf(unit, n, "%s", p->job->key);
	return rc;
}

/* The picked task is still IN_PROGRESS (read in the lease's transaction). */
static int task_wanted(struct dd_db *db, void *ud)
{
	const struct job *j = ((const struct pick *)ud)->job;
	char status[32];
	if (dd_store_mitigation_task_status(db, j->account_region, j->task, status, sizeof status))
		return 0;
	return strcmp(status, "IN_PROGRESS") == 0;
}

static int m_claim(struct dd_workers *w, void *ud, void **out)
{
	(void)w;
	struct dd_mitigation_engine *e = ud;
	int free_slot = -1;
	for (int i = 0; i < MAX_CLAIMED && free_slot < 0; i++)
		if (!e->claimed[i][0])
			free_slot = i;
	if (free_slot < 0)
		return 0;
	struct dd_db *db = dd_store_db(e->svc->store);
	if (!db)
		return DD_EIO;
	struct job *j = calloc(1, sizeof *j);
	if (!j)
		return DD_ENOMEM;
	/* the oldest task no worker here runs and no instance holds; another instance may take
	 * it between the read and the lease (SQLite, or an expired lease): pick again */
	int rc = 0;
	struct pick p = { e, j, 0 };
	for (int tries = 0; tries < 3; tries++) {
		char unit[sizeof j->key];
		rc = dd_lease_claim(e->svc, db, "mitigation", pick_claimable, task_wanted, &p, unit, sizeof unit);
		if (rc != -1)
			break;
	}
	if (rc != 1) {
		free(j);
		return 0;
	}
	snprintf(e->claimed[free_slot], sizeof e->claimed[free_slot], "%s", j->key);
	*out = j;
	return 1;
}

static int m_run(struct dd_workers *w, void *ud, void *job)
{
	struct dd_mitigation_engine *e = ud;
	struct job *j = job;
	int rc = run_task(e->svc, w, j->account_region, j->task);
	struct dd_db *db = dd_store_db(e->svc->store);
	if (db && !dd_workers_stopping(w))
		dd_lease_drop(e->svc, db, "mitigation", j->key);
	return rc;
}

static void m_release(struct dd_workers *w, void *ud, void *job, int rc)
{
	(void)w;
	(void)rc;
	struct dd_mitigation_engine *e = ud;
	struct job *j = job;
	for (int i = 0; i < MAX_CLAIMED; i++)
		if (!strcmp(e->claimed[i], j->key))
			e->claimed[i][0] = '\0';
	free(j);
}

int dd_mitigation_engine_start(struct dd_service *svc)
{
	struct dd_mitigation_engine *e = calloc(1, sizeof *e);
	if (!e)
		return DD_ENOMEM;
	e->svc = svc;
	/* IOTDEFENDER_MITIGATION_WORKERS=0 queues tasks without running them (tests). */
	int64_t n = 2;
	const char *env = getenv("IOTDEFENDER_MITIGATION_WORKERS");
	if (env && dd_parse_int64(env, 0, MAX_WORKERS, &n))
		n = 2;
	struct dd_workers_config wc = {
		.name = "mitigation", .nthreads = (int)n, .idle_ms = 5000, .claim = m_claim, .run = m_run,
		.release = m_release, .ud = e,
	};
	int rc = dd_workers_start(&wc, &e->pool);
	if (rc) {
		free(e);
		return rc;
	}
	__atomic_store_n(&svc->mitigation, e, __ATOMIC_RELEASE);
	return 0;
}

void dd_mitigation_engine_wake(struct dd_service *svc)
{
	struct dd_mitigation_engine *e = svc ? __atomic_load_n(&svc->mitigation, __ATOMIC_ACQUIRE) : NULL;
	if (e)
		dd_workers_wake(e->pool);
}

void dd_mitigation_engine_stop(struct dd_service *svc)
{
	struct dd_mitigation_engine *e = __atomic_load_n(&svc->mitigation, __ATOMIC_ACQUIRE);
	if (!e)
		return;
	__atomic_store_n(&svc->mitigation, NULL, __ATOMIC_RELEASE);
	dd_workers_stop(e->pool);
	free(e);
}

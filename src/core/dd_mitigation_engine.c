/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The mitigation engine: worker threads take IN_PROGRESS audit mitigation actions tasks
 * from the store (so a task left by a stopped or killed process is resumed) and run
 * their PENDING executions in (finding, position) order. Each execution applies one
 * action to one finding with the permissions of the action's role, evaluated with the
 * policy engine against the resource it changes; a missing permission, a missing role
 * or a failed change makes it FAILED and the later executions of the same finding
 * SKIPPED. The state an execution changed is recorded in its row (`prior`) for a later
 * revert. Results are written in batches; the changes that are not idempotent (a new
 * policy version, an SNS message) have their result written right after the change, so
 * a crash repeats at most the idempotent changes of one batch. When no execution is
 * left the task becomes FAILED (any execution failed) or COMPLETED; a canceled task
 * stays CANCELED.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/dd_registry_int.h"
#include "dd/iam.h"
#include "dd/mitigation.h"
#include "dd/policy.h"
#include "dd/sns.h"

#define MAX_WORKERS 4
#define MAX_CLAIMED 16
#define BATCH 1024
#define CANCEL_CHECK_EVERY 32

/* The blank template of REPLACE_DEFAULT_POLICY_VERSION: a policy that allows nothing. */
static const char blank_policy[] =
	"{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Deny\",\"Action\":\"iot:*\",\"Resource\":\"*\"}]}";

struct dd_mitigation_engine {
	struct dd_service *svc;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stop;
	unsigned long wake_seq;
	pthread_t workers[MAX_WORKERS];
	int nworkers;
	char claimed[MAX_CLAIMED][DD_ACCOUNT_REGION_SIZE + 160];
	struct dd_mitigation_engine *next;
};

/* The service has no member for this engine: a short list keyed by service. */
static pthread_mutex_t engines_mu = PTHREAD_MUTEX_INITIALIZER;
static struct dd_mitigation_engine *engines;

/* ---- one task's actions ------------------------------------------------------------ */

struct act {
	const char *name, *id, *role;  /* borrowed from the task's actionsDefinition */
	const char *type;
	json_t *params;                /* the type's member of actionParams */
	struct dd_policy **pols;
	size_t npols;
	char role_error[512];          /* non-empty: every execution of this action fails */
};

struct run {
	struct dd_service *svc;
	struct dd_db *db;
	const char *account_region, *task_id;  /* account_region: "<account>/<region>" */
	char account[13], region[64];           /* split from account_region, for IAM and ARNs */
	json_t *defs;
	struct act *acts;
	size_t nacts;
	json_t *results;               /* pending result rows */
	bool tx;                       /* a batch write transaction is open (certificate changes) */
};

static int flush(struct run *r);
static json_t *load_finding(struct run *r, const char *id, bool full);

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
		for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++)
			if (json_object_get(p, kinds[k].member)) {
				a->type = kinds[k].type;
				a->params = json_object_get(p, kinds[k].member);
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

/* The certificate's status by primary key (dd_certs_get also derives the revocation
 * state from the CA graph, far too slow to do once per execution); "" when absent. */
static int cert_status(struct run *r, bool ca, const char *id, char *out, size_t len)
{
	sqlite3_stmt *st = ca ? dd_db_stmt(r->db, "SELECT status FROM ca_certificates WHERE account_region = ?1 AND id = ?2")
			      : dd_db_stmt(r->db, "SELECT status FROM certificates WHERE account_region = ?1 AND id = ?2");
	out[0] = '\0';
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, r->account_region);
	dd_bind_text(st, 2, id);
	if (sqlite3_step(st) == SQLITE_ROW)
		snprintf(out, len, "%s", dd_col_text(st, 0));
	sqlite3_reset(st);
	return 0;
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
	/* Certificate changes are batched: they run inside the open batch transaction that
	 * also records their results (see flush), with UpdateCertificate's rules. */
	if (!r->tx) {
		if (dd_db_begin_write(r->db))
			return fail(o, "InternalFailureException", "The store is unavailable.");
		r->tx = true;
	}
	char before[32];
	if (cert_status(r, ca, id, before, sizeof before))
		return fail(o, "InternalFailureException", "The certificate %s could not be read.", id);
	if (!before[0])
		return fail(o, "ResourceNotFoundException", "The %s %s does not exist.", ca ? "CA certificate" : "certificate", id);
	o->prior = json_pack("{s:s, s:s, s:s}", "resource", res, "status", before, "newStatus", "INACTIVE");
	if (!strcmp(before, "INACTIVE"))
		return 0;
	if (!ca && (!strcmp(before, "REVOKED") || !strcmp(before, "PENDING_TRANSFER")))
		return fail(o, "InvalidRequestException", "The certificate %s is %s; its status cannot be changed.", id, before);
	char gen[37];
	dd__uuid(gen);
	sqlite3_stmt *st = ca
		? dd_db_stmt(r->db, "UPDATE ca_certificates SET status = 'INACTIVE', modified = ?3, customer_version = customer_version + 1,"
				    " generation_id = ?4 WHERE account_region = ?1 AND id = ?2")
		: dd_db_stmt(r->db, "UPDATE certificates SET status = 'INACTIVE', modified = ?3, customer_version = customer_version + 1,"
				    " generation_id = ?4 WHERE account_region = ?1 AND id = ?2");
	if (!st)
		return fail(o, "InternalFailureException", "The store is unavailable.");
	dd_bind_text(st, 1, r->account_region);
	dd_bind_text(st, 2, id);
	dd_bind_int64(st, 3, dd_service_now_ms(r->svc));
	dd_bind_text(st, 4, gen);
	if (dd_step_done(st))
		return fail(o, "InternalFailureException", "The store is unavailable.");
	return 0;
}

/* The thing groups of a thing, as a JSON array of names. */
static json_t *groups_of(struct run *r, const char *thing)
{
	json_t *g = json_array();
	sqlite3_stmt *st = dd_db_stmt(r->db, "SELECT group_name FROM thing_group_members WHERE account_region = ?1 AND thing_name = ?2 ORDER BY group_name");
	if (!st)
		return g;
	dd_bind_text(st, 1, r->account_region);
	dd_bind_text(st, 2, thing);
	while (sqlite3_step(st) == SQLITE_ROW)
		json_array_append_new(g, json_string(dd_col_text(st, 0)));
	sqlite3_reset(st);
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
	sqlite3_stmt *st = dd_db_stmt(r->db, "SELECT thing_name FROM thing_principals WHERE account_region = ?1 AND principal = ?2 ORDER BY thing_name");
	if (st) {
		dd_bind_text(st, 1, r->account_region);
		dd_bind_text(st, 2, cert);
		while (sqlite3_step(st) == SQLITE_ROW)
			json_array_append_new(things, json_string(dd_col_text(st, 0)));
		sqlite3_reset(st);
	}
	struct dd_ctx cx = { .svc = r->svc, .db = r->db, .account = r->account, .region = r->region,
			     .request_id = "mitigation", .now_ms = dd_service_now_ms(r->svc) };
	json_t *changes = json_array();
	int rc = st && dd_ctx_set_account_region(&cx) == 0 ? 0 : -1;
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
			rc = dd__thing_group_add_member(&cx, json_string_value(g), thing, override);
			if (rc) {
				fail(o, cx.err_code ? cx.err_code : "InternalFailureException", "%s",
				     cx.err_msg[0] ? cx.err_msg : "The store is unavailable.");
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
	sqlite3_stmt *st = dd_db_stmt(r->db, "SELECT default_version, next_version, (SELECT count(*) FROM policy_versions v"
					     " WHERE v.account_region = p.account_region AND v.policy_name = p.name) FROM policies p"
					     " WHERE p.account_region = ?1 AND p.name = ?2");
	if (!st) {
		dd_db_rollback(r->db);
		return fail(o, "InternalFailureException", "The store is unavailable.");
	}
	dd_bind_text(st, 1, r->account_region);
	dd_bind_text(st, 2, name);
	int64_t def = 0, next = 0, count = 0;
	bool found = sqlite3_step(st) == SQLITE_ROW;
	if (found) {
		def = sqlite3_column_int64(st, 0);
		next = sqlite3_column_int64(st, 1);
		count = sqlite3_column_int64(st, 2);
	}
	sqlite3_reset(st);
	if (!found) {
		dd_db_rollback(r->db);
		return fail(o, "ResourceNotFoundException", "The policy %s does not exist.", name);
	}
	if (count >= 5) {
		dd_db_rollback(r->db);
		return fail(o, "VersionsLimitExceededException",
			    "The policy %s already has the maximum number of versions (5); delete a version to let the blank version be added.",
			    name);
	}
	int64_t now = dd_service_now_ms(r->svc);
	char gen[37];
	dd__uuid(gen);
	int rc = 0;
	st = dd_db_stmt(r->db, "INSERT INTO policy_versions(account_region, policy_name, version, document, created) VALUES (?1, ?2, ?3, ?4, ?5)");
	if (!st)
		rc = DD_EIO;
	else {
		dd_bind_text(st, 1, r->account_region);
		dd_bind_text(st, 2, name);
		dd_bind_int64(st, 3, next);
		dd_bind_text(st, 4, blank_policy);
		dd_bind_int64(st, 5, now);
		rc = dd_step_done(st);
	}
	if (!rc) {
		st = dd_db_stmt(r->db, "UPDATE policies SET next_version = next_version + 1, default_version = ?3, modified = ?4,"
				       " generation_id = ?5 WHERE account_region = ?1 AND name = ?2");
		if (!st)
			rc = DD_EIO;
		else {
			dd_bind_text(st, 1, r->account_region);
			dd_bind_text(st, 2, name);
			dd_bind_int64(st, 3, next);
			dd_bind_int64(st, 4, now);
			dd_bind_text(st, 5, gen);
			rc = dd_step_done(st);
		}
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
	sqlite3_stmt *st = dd_db_stmt(r->db, "SELECT value FROM settings WHERE account_region = ?1 AND key = 'logging_v2'");
	json_t *cur = NULL;
	if (st) {
		dd_bind_text(st, 1, r->account_region);
		if (sqlite3_step(st) == SQLITE_ROW)
			cur = json_loads(dd_col_text(st, 0), 0, NULL);
		sqlite3_reset(st);
	}
	json_t *prior = cur ? json_deep_copy(cur) : json_null();
	if (!cur)
		cur = json_object();
	json_object_set_new(cur, "roleArn", json_string(role));
	json_object_set_new(cur, "defaultLogLevel", json_string(level));
	json_object_set_new(cur, "disableAllLogs", json_false());
	char *text = json_dumps(cur, JSON_COMPACT);
	json_decref(cur);
	int rc = text && st ? 0 : DD_EIO;
	if (!rc) {
		st = dd_db_stmt(r->db, "INSERT OR REPLACE INTO settings(account_region, key, value) VALUES (?1, 'logging_v2', ?2)");
		if (!st)
			rc = DD_EIO;
		else {
			dd_bind_text(st, 1, r->account_region);
			dd_bind_text(st, 2, text);
			rc = dd_step_done(st);
		}
	}
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
	char mid[37];
	int rc = dd_sns_publish(r->svc, r->db, r->account, topic, NULL, text, mid);
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
	bool cert = !strcmp(a->type, "UPDATE_DEVICE_CERTIFICATE") || !strcmp(a->type, "UPDATE_CA_CERTIFICATE");
	if (!cert && flush(r))
		return fail(o, "InternalFailureException", "The store is unavailable.");
	if (!strcmp(a->type, "UPDATE_DEVICE_CERTIFICATE"))
		return do_certificate(r, a, rid, false, o);
	if (!strcmp(a->type, "UPDATE_CA_CERTIFICATE"))
		return do_certificate(r, a, rid, true, o);
	if (!strcmp(a->type, "ADD_THINGS_TO_THING_GROUP"))
		return do_add_things(r, a, rid, o);
	if (!strcmp(a->type, "REPLACE_DEFAULT_POLICY_VERSION"))
		return do_blank_policy(r, a, rid, o);
	if (!strcmp(a->type, "ENABLE_IOT_LOGGING"))
		return do_logging(r, a, o);
	return do_publish(r, a, finding, o);
}

/* ---- the task loop ----------------------------------------------------------------- */

/* The finding as the engine needs it: findingId and nonCompliantResource only, unless full (the
 * whole finding, for PUBLISH_FINDING_TO_SNS). NULL when it does not exist. */
static json_t *load_finding(struct run *r, const char *id, bool full)
{
	if (!full) {
		sqlite3_stmt *st = dd_db_stmt(r->db, "SELECT resource FROM audit_findings WHERE account_region = ?1 AND finding_id = ?2");
		if (!st)
			return NULL;
		dd_bind_text(st, 1, r->account_region);
		dd_bind_text(st, 2, id);
		json_t *f = NULL;
		if (sqlite3_step(st) == SQLITE_ROW) {
			json_t *res = json_loads(dd_col_text(st, 0), 0, NULL);
			f = json_pack("{s:o, s:s}", "nonCompliantResource", res ? res : json_object(), "findingId", id);
		}
		sqlite3_reset(st);
		return f;
	}
	sqlite3_stmt *st = dd_db_stmt(r->db, "SELECT finding_id, task_id, check_name, task_start_ms, finding_ms, severity, resource,"
					     " related, reason, reason_code, suppressed FROM audit_findings WHERE account_region = ?1 AND finding_id = ?2");
	if (!st)
		return NULL;
	dd_bind_text(st, 1, r->account_region);
	dd_bind_text(st, 2, id);
	json_t *f = NULL;
	if (sqlite3_step(st) == SQLITE_ROW) {
		json_t *res = json_loads(dd_col_text(st, 6), 0, NULL);
		json_t *rel = json_loads(dd_col_text(st, 7), 0, NULL);
		f = json_pack("{s:s, s:s, s:s, s:I, s:I, s:s, s:o, s:o, s:s, s:s, s:b}", "findingId", dd_col_text(st, 0),
			      "taskId", dd_col_text(st, 1), "checkName", dd_col_text(st, 2), "taskStartTime",
			      (json_int_t)sqlite3_column_int64(st, 3), "findingTime", (json_int_t)sqlite3_column_int64(st, 4),
			      "severity", dd_col_text(st, 5), "nonCompliantResource", res ? res : json_object(),
			      "relatedResources", rel ? rel : json_array(), "reasonForNonCompliance", dd_col_text(st, 8),
			      "reasonForNonComplianceCode", dd_col_text(st, 9), "isSuppressed", sqlite3_column_int(st, 10) != 0);
	}
	sqlite3_reset(st);
	return f;
}

static int flush(struct run *r)
{
	if (json_array_size(r->results) == 0 && !r->tx)
		return 0;
	if (!r->tx && dd_db_begin_write(r->db))
		return DD_EIO;
	r->tx = false;
	size_t i;
	json_t *row;
	int rc = 0;
	json_array_foreach(r->results, i, row) {
		/* a CANCELED row is overwritten only by an action that really ran */
		sqlite3_stmt *st = dd_db_stmt(r->db,
			"UPDATE mitigation_executions SET status = ?5, start_ms = ?6, end_ms = ?7, error_code = ?8, message = ?9,"
			" prior = ?10 WHERE account_region = ?1 AND task_id = ?2 AND finding_id = ?3 AND seq = ?4"
			" AND (status IN ('PENDING', 'IN_PROGRESS') OR (status = 'CANCELED' AND ?5 IN ('COMPLETED', 'FAILED')))");
		if (!st) {
			rc = DD_EIO;
			break;
		}
		dd_bind_text(st, 1, r->account_region);
		dd_bind_text(st, 2, r->task_id);
		dd_bind_text(st, 3, json_string_value(json_array_get(row, 0)));
		dd_bind_int64(st, 4, json_integer_value(json_array_get(row, 1)));
		dd_bind_text(st, 5, json_string_value(json_array_get(row, 2)));
		dd_bind_int64(st, 6, json_integer_value(json_array_get(row, 3)));
		dd_bind_int64(st, 7, json_integer_value(json_array_get(row, 4)));
		dd_bind_text(st, 8, json_string_value(json_array_get(row, 5)));
		dd_bind_text(st, 9, json_string_value(json_array_get(row, 6)));
		dd_bind_text(st, 10, json_string_value(json_array_get(row, 7)));
		if ((rc = dd_step_done(st)))
			break;
	}
	if (rc || dd_db_commit(r->db)) {
		dd_db_rollback(r->db);
		return DD_EIO;
	}
	json_array_clear(r->results);
	return 0;
}

static void record(struct run *r, const char *finding, int64_t seq, const char *status, int64_t start, int64_t end,
		   const char *code, const char *msg, json_t *prior)
{
	char *ptext = prior ? json_dumps(prior, JSON_COMPACT) : NULL;
	json_t *row = json_pack("[s, I, s, I, I, s?, s?, s?]", finding, (json_int_t)seq, status, (json_int_t)start,
				(json_int_t)end, code && *code ? code : NULL, msg && *msg ? msg : NULL, ptext);
	free(ptext);
	if (row)
		json_array_append_new(r->results, row);
}

static const char *task_status(struct run *r, char *buf, size_t len)
{
	sqlite3_stmt *st = dd_db_stmt(r->db, "SELECT status FROM mitigation_tasks WHERE account_region = ?1 AND task_id = ?2");
	buf[0] = '\0';
	if (!st)
		return buf;
	dd_bind_text(st, 1, r->account_region);
	dd_bind_text(st, 2, r->task_id);
	if (sqlite3_step(st) == SQLITE_ROW)
		snprintf(buf, len, "%s", dd_col_text(st, 0));
	sqlite3_reset(st);
	return buf;
}

static bool earlier_failed(struct run *r, const char *finding, int64_t seq)
{
	sqlite3_stmt *st = dd_db_stmt(r->db, "SELECT 1 FROM mitigation_executions WHERE account_region = ?1 AND task_id = ?2"
					     " AND finding_id = ?3 AND seq < ?4 AND status = 'FAILED'");
	if (!st)
		return false;
	dd_bind_text(st, 1, r->account_region);
	dd_bind_text(st, 2, r->task_id);
	dd_bind_text(st, 3, finding);
	dd_bind_int64(st, 4, seq);
	bool f = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_reset(st);
	return f;
}

static bool stopping(struct dd_mitigation_engine *e)
{
	pthread_mutex_lock(&e->mu);
	bool s = e->stop;
	pthread_mutex_unlock(&e->mu);
	return s;
}

static void settle(struct run *r)
{
	sqlite3_stmt *st = dd_db_stmt(r->db, "SELECT sum(status IN ('PENDING', 'IN_PROGRESS')), sum(status = 'FAILED')"
					     " FROM mitigation_executions WHERE account_region = ?1 AND task_id = ?2");
	if (!st)
		return;
	dd_bind_text(st, 1, r->account_region);
	dd_bind_text(st, 2, r->task_id);
	int64_t left = -1, failed = 0;
	if (sqlite3_step(st) == SQLITE_ROW) {
		left = sqlite3_column_int64(st, 0);
		failed = sqlite3_column_int64(st, 1);
	}
	sqlite3_reset(st);
	if (left != 0)
		return;
	if (dd_db_begin_write(r->db))
		return;
	st = dd_db_stmt(r->db, "UPDATE mitigation_tasks SET status = ?3, end_ms = ?4 WHERE account_region = ?1 AND task_id = ?2 AND status = 'IN_PROGRESS'");
	if (st) {
		dd_bind_text(st, 1, r->account_region);
		dd_bind_text(st, 2, r->task_id);
		dd_bind_text(st, 3, failed ? "FAILED" : "COMPLETED");
		dd_bind_int64(st, 4, dd_service_now_ms(r->svc));
	}
	if (!st || dd_step_done(st) || dd_db_commit(r->db)) {
		dd_db_rollback(r->db);
		return;
	}
	dd_log_info("mitigation: task %s %s", r->task_id, failed ? "FAILED" : "COMPLETED");
}

static void run_task(struct dd_mitigation_engine *e, const char *account_region, const char *task_id)
{
	struct run r = { .svc = e->svc, .account_region = account_region, .task_id = task_id };
	if (dd_account_region_split(account_region, r.account, r.region, sizeof r.region)) {
		dd_log_error("mitigation: task %s: malformed account_region %s", task_id, account_region);
		return;
	}
	r.db = dd_store_db(e->svc->store);
	if (!r.db)
		return;
	sqlite3_stmt *st = dd_db_stmt(r.db, "SELECT actions FROM mitigation_tasks WHERE account_region = ?1 AND task_id = ?2");
	if (!st)
		return;
	dd_bind_text(st, 1, account_region);
	dd_bind_text(st, 2, task_id);
	if (sqlite3_step(st) == SQLITE_ROW)
		r.defs = json_loads(dd_col_text(st, 0), 0, NULL);
	sqlite3_reset(st);
	if (!r.defs || acts_load(&r)) {
		json_decref(r.defs);
		return;
	}
	r.results = json_array();
	char last_f[160] = "", cur_f[160] = "";
	int64_t last_seq = -1;
	bool cur_failed = false, first = true, halted = false;
	json_t *finding = NULL;
	unsigned since_check = 0;
	while (!halted) {
		char tstat[32];
		if (stopping(e) || strcmp(task_status(&r, tstat, sizeof tstat), "IN_PROGRESS"))
			break;
		json_t *batch = json_array();
		st = dd_db_stmt(r.db, "SELECT finding_id, seq, action_name FROM mitigation_executions WHERE account_region = ?1 AND task_id = ?2"
				      " AND (finding_id > ?3 OR (finding_id = ?3 AND seq > ?4)) AND status IN ('PENDING', 'IN_PROGRESS')"
				      " ORDER BY finding_id, seq LIMIT ?5");
		if (!st) {
			json_decref(batch);
			break;
		}
		dd_bind_text(st, 1, account_region);
		dd_bind_text(st, 2, task_id);
		dd_bind_text(st, 3, last_f);
		dd_bind_int64(st, 4, last_seq);
		dd_bind_int64(st, 5, BATCH);
		while (sqlite3_step(st) == SQLITE_ROW)
			json_array_append_new(batch, json_pack("[s, I, s]", dd_col_text(st, 0), (json_int_t)sqlite3_column_int64(st, 1),
							       dd_col_text(st, 2)));
		sqlite3_reset(st);
		if (json_array_size(batch) == 0) {
			json_decref(batch);
			break;
		}
		size_t i;
		json_t *row;
		json_array_foreach(batch, i, row) {
			const char *fid = json_string_value(json_array_get(row, 0));
			int64_t seq = json_integer_value(json_array_get(row, 1));
			const char *aname = json_string_value(json_array_get(row, 2));
			if (++since_check >= CANCEL_CHECK_EVERY) {
				since_check = 0;
				if (stopping(e) || strcmp(task_status(&r, tstat, sizeof tstat), "IN_PROGRESS")) {
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
			int64_t t0 = dd_service_now_ms(e->svc);
			struct act *a = act_find(&r, aname);
			if (cur_failed) {
				record(&r, fid, seq, "SKIPPED", t0, t0, NULL,
				       "An earlier mitigation action for this finding failed, so this one was skipped.", NULL);
				continue;
			}
			struct outcome o = { "", "", NULL };
			int rc;
			if (!finding)
				rc = fail(&o, "ResourceNotFoundException", "The finding %s no longer exists.", fid);
			else if (!a)
				rc = fail(&o, "ResourceNotFoundException", "The mitigation action %s is not in the task's definitions.", aname);
			else
				rc = apply(&r, a, finding, &o);
			int64_t t1 = dd_service_now_ms(e->svc);
			if (rc) {
				cur_failed = true;
				dd_log_info("mitigation: task %s: %s on finding %s failed: %s", task_id, aname, fid, o.msg);
			}
			record(&r, fid, seq, rc ? "FAILED" : "COMPLETED", t0, t1, rc ? o.code : NULL, rc ? o.msg : NULL, o.prior);
			json_decref(o.prior);
			bool now = !rc && a && (!strcmp(a->type, "REPLACE_DEFAULT_POLICY_VERSION") || !strcmp(a->type, "PUBLISH_FINDING_TO_SNS"));
			if ((now || json_array_size(r.results) >= BATCH) && flush(&r)) {
				dd_log_error("mitigation: task %s: results could not be stored", task_id);
				halted = true;
				break;
			}
		}
		json_decref(batch);
		if (flush(&r)) {
			dd_log_error("mitigation: task %s: results could not be stored", task_id);
			break;
		}
	}
	if (flush(&r))
		dd_log_error("mitigation: task %s: results could not be stored", task_id);
	json_decref(finding);
	if (!stopping(e))
		settle(&r);
	json_decref(r.results);
	acts_free(&r);
	json_decref(r.defs);
}

/* ---- workers ----------------------------------------------------------------------- */

static bool claim(struct dd_mitigation_engine *e, const char *key)
{
	int free_slot = -1;
	for (int i = 0; i < MAX_CLAIMED; i++) {
		if (!strcmp(e->claimed[i], key))
			return false;
		if (!e->claimed[i][0] && free_slot < 0)
			free_slot = i;
	}
	if (free_slot < 0)
		return false;
	snprintf(e->claimed[free_slot], sizeof e->claimed[free_slot], "%s", key);
	return true;
}

static void unclaim(struct dd_mitigation_engine *e, const char *key)
{
	for (int i = 0; i < MAX_CLAIMED; i++)
		if (!strcmp(e->claimed[i], key))
			e->claimed[i][0] = '\0';
}

static void *worker(void *arg)
{
	struct dd_mitigation_engine *e = arg;
	pthread_mutex_lock(&e->mu);
	while (!e->stop) {
		unsigned long seq = e->wake_seq;
		pthread_mutex_unlock(&e->mu);
		struct dd_db *db = dd_store_db(e->svc->store);
		char account_region[DD_ACCOUNT_REGION_SIZE] = "", task[160] = "", key[DD_ACCOUNT_REGION_SIZE + 160] = "";
		if (db) {
			sqlite3_stmt *st = dd_db_stmt(db, "SELECT account_region, task_id FROM mitigation_tasks WHERE status = 'IN_PROGRESS' ORDER BY start_ms");
			pthread_mutex_lock(&e->mu);
			while (st && sqlite3_step(st) == SQLITE_ROW) {
				snprintf(key, sizeof key, "%s/%s", dd_col_text(st, 0), dd_col_text(st, 1));
				if (claim(e, key)) {
					snprintf(account_region, sizeof account_region, "%s", dd_col_text(st, 0));
					snprintf(task, sizeof task, "%s", dd_col_text(st, 1));
					break;
				}
			}
			pthread_mutex_unlock(&e->mu);
			if (st)
				sqlite3_reset(st);
		}
		if (task[0]) {
			run_task(e, account_region, task);
			pthread_mutex_lock(&e->mu);
			unclaim(e, key);
			continue;
		}
		pthread_mutex_lock(&e->mu);
		if (!e->stop && seq == e->wake_seq) {
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec += 5;
			pthread_cond_timedwait(&e->cv, &e->mu, &ts);
		}
	}
	pthread_mutex_unlock(&e->mu);
	return NULL;
}

int dd_mitigation_start(struct dd_service *svc)
{
	struct dd_mitigation_engine *e = calloc(1, sizeof *e);
	if (!e)
		return DD_ENOMEM;
	e->svc = svc;
	pthread_mutex_init(&e->mu, NULL);
	pthread_cond_init(&e->cv, NULL);
	/* IOTDEFENDER_MITIGATION_WORKERS=0 queues tasks without running them (tests). */
	int64_t n = 2;
	const char *env = getenv("IOTDEFENDER_MITIGATION_WORKERS");
	if (env && dd_parse_int64(env, 0, MAX_WORKERS, &n))
		n = 2;
	pthread_mutex_lock(&engines_mu);
	e->next = engines;
	engines = e;
	pthread_mutex_unlock(&engines_mu);
	for (int i = 0; i < (int)n; i++) {
		if (pthread_create(&e->workers[i], NULL, worker, e) != 0) {
			dd_log_error("mitigation: cannot start a worker thread");
			break;
		}
		e->nworkers++;
	}
	return e->nworkers == (int)n ? 0 : DD_ENOMEM;
}

static struct dd_mitigation_engine *find_engine(struct dd_service *svc, bool unlink)
{
	pthread_mutex_lock(&engines_mu);
	struct dd_mitigation_engine **p = &engines;
	while (*p && (*p)->svc != svc)
		p = &(*p)->next;
	struct dd_mitigation_engine *e = *p;
	if (e && unlink)
		*p = e->next;
	pthread_mutex_unlock(&engines_mu);
	return e;
}

void dd_mitigation_wake(struct dd_service *svc)
{
	/* The engine lives until dd_mitigation_stop, which runs after the HTTP server stopped. */
	struct dd_mitigation_engine *e = svc ? find_engine(svc, false) : NULL;
	if (!e)
		return;
	pthread_mutex_lock(&e->mu);
	e->wake_seq++;
	pthread_cond_broadcast(&e->cv);
	pthread_mutex_unlock(&e->mu);
}

void dd_mitigation_stop(struct dd_service *svc)
{
	struct dd_mitigation_engine *e = find_engine(svc, true);
	if (!e)
		return;
	pthread_mutex_lock(&e->mu);
	e->stop = true;
	pthread_cond_broadcast(&e->cv);
	pthread_mutex_unlock(&e->mu);
	for (int i = 0; i < e->nworkers; i++)
		pthread_join(e->workers[i], NULL);
	pthread_mutex_destroy(&e->mu);
	pthread_cond_destroy(&e->cv);
	free(e);
}

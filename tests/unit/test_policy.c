/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the policy engine (include/dd/policy.h). Every case of
 * tests/data/policies/examples/manifest.json and authorizer_cases.json is one cmocka test:
 * the expected verdict, reason codes and action lists are written out in the tables below,
 * and test_manifest_table_agrees checks that the table says what manifest.json says. The
 * remaining tests cover validation messages, variables, conditions, explain, the role
 * permission check and the analyses' edge cases. Test data is found through $DD_TESTDATA.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dd/policy.h"

/* ---------------------------------------------------------------- helpers ------ */

static char *data_path(const char *rel)
{
	const char *base = getenv("DD_TESTDATA");
	if (!base)
		base = "tests/data";
	size_t n = strlen(base) + strlen(rel) + 32;
	char *p = malloc(n);
	assert_non_null(p);
	snprintf(p, n, "%s/policies/%s", base, rel);
	return p;
}

static json_t *load_json(const char *rel)
{
	char *p = data_path(rel);
	json_error_t e;
	json_t *j = json_load_file(p, 0, &e);
	if (!j)
		fail_msg("cannot load %s: %s", p, e.text);
	free(p);
	return j;
}

static struct dd_policy *compile_str(const char *text, enum dd_policy_dialect d)
{
	struct dd_policy *p = NULL;
	char err[DD_POLICY_ERRMSG_SIZE];
	int rc = dd_policy_compile(text, strlen(text), d, &p, err, sizeof err);
	if (rc)
		fail_msg("compile failed (%d): %s", rc, err);
	return p;
}

/* Joins a reason's actions with ", ". */
static void join_actions(const struct dd_policy_reason *r, char *buf, size_t size)
{
	size_t off = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < r->nactions && off < size; i++)
		off += (size_t)snprintf(buf + off, size - off, "%s%s", i ? ", " : "", r->actions[i]);
}

static enum dd_policy_decision eval1(const struct dd_policy *p, const struct dd_policy_request *r,
				     struct dd_policy_explain *ex)
{
	enum dd_policy_decision d;
	const struct dd_policy *set[1] = { p };
	assert_int_equal(dd_policy_evaluate(set, 1, r, &d, ex), 0);
	return d;
}

/* ---------------------------------------------------------------- manifest ----- */

#define MAX_CODES 3

struct mcase {
	const char *file;
	const char *check;
	enum dd_policy_verdict verdict;
	const char *codes[MAX_CODES];
	/* the expected actions of each code, joined by ", "; NULL: only count is checked */
	const char *actions[MAX_CODES];
	size_t counts[MAX_CODES];
};

#define OP "IOT_POLICY_OVERLY_PERMISSIVE_CHECK"
#define MC "IOT_POLICY_POTENTIAL_MISCONFIGURATION_CHECK"
#define CA "AUTHENTICATED_COGNITO_ROLE_OVERLY_PERMISSIVE_CHECK"
#define CU "UNAUTHENTICATED_COGNITO_ROLE_OVERLY_PERMISSIVE_CHECK"
#define RP "IOT_ROLE_ALIAS_OVERLY_PERMISSIVE_CHECK"
#define RU "IOT_ROLE_ALIAS_ALLOWS_ACCESS_TO_UNUSED_SERVICES_CHECK"
#define DP "ALLOWS_BROAD_ACCESS_TO_IOT_DATA_PLANE_ACTIONS"
#define NC DD_POLICY_NONCOMPLIANT
#define OK DD_POLICY_COMPLIANT
#define SHADOW_JOBS "iot:GetThingShadow, iot:DeleteThingShadow, iot:UpdateThingShadow, " \
	"iot:DescribeJobExecution, iot:GetPendingJobExecutions, iot:StartNextPendingJobExecution, " \
	"iot:UpdateJobExecution"
#define READS "iot:DescribeThing, iot:ListJobExecutionsForThing, iot:ListThingGroupsForThing, " \
	"iot:ListThingPrincipals"

static const struct mcase mcases[] = {
	{ "overly_permissive/connect_client_star.json", OP, NC, { DP }, { "iot:Connect" }, { 1 } },
	{ "overly_permissive/connect_clientid_var_no_isattached.json", OP, NC, { DP }, { "iot:Connect" }, { 1 } },
	{ "overly_permissive/connect_thingname_isattached.json", OP, OK, { 0 }, { 0 }, { 0 } },
	{ "overly_permissive/publish_shadow_update_any_thing.json", OP, NC, { DP }, { "iot:Publish" }, { 1 } },
	{ "overly_permissive/publish_things_star.json", OP, NC, { DP }, { "iot:Publish" }, { 1 } },
	{ "overly_permissive/publish_own_shadow.json", OP, OK, { 0 }, { 0 }, { 0 } },
	{ "overly_permissive/subscribe_things_star.json", OP, NC, { DP }, { "iot:Subscribe" }, { 1 } },
	{ "overly_permissive/subscribe_things_hash.json", OP, NC, { DP }, { "iot:Subscribe" }, { 1 } },
	{ "overly_permissive/subscribe_plus_shadow_update.json", OP, NC, { DP }, { "iot:Subscribe" }, { 1 } },
	{ "overly_permissive/subscribe_own_shadow_jobs.json", OP, OK, { 0 }, { 0 }, { 0 } },
	{ "overly_permissive/receive_things_star.json", OP, OK, { 0 }, { 0 }, { 0 } },
	{ "overly_permissive/shadow_job_api_thing_star.json", OP, NC, { DP }, { SHADOW_JOBS }, { 7 } },
	{ "overly_permissive/shadow_job_api_two_things.json", OP, OK, { 0 }, { 0 }, { 0 } },
	{ "overly_permissive/workshop_iot_star.json", OP, NC, { DP },
	  { "iot:Subscribe, iot:Connect, iot:GetThingShadow, iot:DeleteThingShadow, "
	    "iot:UpdateThingShadow, iot:Publish, iot:DescribeJobExecution, "
	    "iot:GetPendingJobExecutions, iot:StartNextPendingJobExecution, iot:UpdateJobExecution" },
	  { 10 } },
	/* The action lists of the two INFERRED cases are AWS's own finding messages. */
	{ "overly_permissive/greengrass_v1_core_default_INFERRED.json", OP, NC, { DP },
	  { "iot:Subscribe, iot:Connect, iot:GetThingShadow, iot:DeleteThingShadow, "
	    "iot:UpdateThingShadow, iot:Publish" }, { 6 } },
	{ "overly_permissive/freertos_demo_INFERRED.json", OP, NC, { DP },
	  { "iot:Subscribe, iot:Connect, iot:Publish" }, { 3 } },
	{ "cognito_auth/read_thing_star.json", CA, NC,
	  { "ALLOWS_BROAD_ACCESS_TO_IOT_THING_ADMIN_READ_ACTIONS" }, { READS }, { 4 } },
	{ "cognito_auth/read_one_thing.json", CA, OK, { 0 }, { 0 }, { 0 } },
	{ "cognito_auth/read_prefix_wildcard.json", CA, OK, { 0 }, { 0 }, { 0 } },
	{ "cognito_auth/write_single_thing.json", CA, NC,
	  { "ALLOWS_ACCESS_TO_IOT_THING_ADMIN_WRITE_ACTIONS" },
	  { "iot:AddThingToThingGroup, iot:AttachThingPrincipal, iot:CreateThing, iot:DeleteThing, "
	    "iot:DetachThingPrincipal, iot:ListThings, iot:ListThingsInThingGroup, "
	    "iot:RegisterThing, iot:RemoveThingFromThingGroup, iot:UpdateThing, "
	    "iot:UpdateThingGroupsForThing" }, { 11 } },
	{ "cognito_auth/non_thing_admin.json", CA, NC,
	  { "ALLOWS_ACCESS_TO_IOT_NON_THING_ADMIN_ACTIONS" },
	  { "iot:AttachPolicy, iot:CreatePolicy" }, { 2 } },
	{ "cognito_unauth/read_one_thing.json", CU, NC, { "ALLOWS_ACCESS_TO_IOT_ADMIN_ACTIONS" },
	  { READS }, { 4 } },
	{ "cognito_unauth/shadow_job_api_two_things.json", CU, OK, { 0 }, { 0 }, { 0 } },
	{ "cognito_unauth/shadow_job_api_thing_star.json", CU, NC, { DP }, { SHADOW_JOBS }, { 7 } },
	{ "cognito_unauth/aws_managed_AWSIoTDataAccess.json", CU, NC, { DP },
	  { "iot:Subscribe, iot:Connect, iot:GetThingShadow, iot:DeleteThingShadow, "
	    "iot:UpdateThingShadow, iot:Publish" }, { 6 } },
	/* iot:* grants all 297 iot actions: 281 admin, 10 flagged data plane + 4 iotjobsdata. */
	{ "cognito_unauth/aws_managed_AWSIoTFullAccess.json", CU, NC,
	  { "ALLOWS_ACCESS_TO_IOT_ADMIN_ACTIONS", DP },
	  { NULL,
	    "iot:Subscribe, iot:Connect, iot:GetThingShadow, iot:DeleteThingShadow, "
	    "iot:UpdateThingShadow, iot:Publish, iot:DescribeJobExecution, "
	    "iot:GetPendingJobExecutions, iot:StartNextPendingJobExecution, iot:UpdateJobExecution, "
	    "iotjobsdata:DescribeJobExecution, iotjobsdata:GetPendingJobExecutions, "
	    "iotjobsdata:StartNextPendingJobExecution, iotjobsdata:UpdateJobExecution" },
	  { 281, 14 } },
	{ "misconfig/deny_with_mqtt_hash.json", MC, NC,
	  { "POLICY_CONTAINS_MQTT_WILDCARDS_IN_DENY_STATEMENT" }, { "iot:Subscribe" }, { 1 } },
	{ "misconfig/deny_with_mqtt_hash_FIXED.json", MC, OK, { 0 }, { 0 }, { 0 } },
	{ "misconfig/deny_subset_of_wildcard_allow.json", MC, NC,
	  { "TOPIC_FILTERS_INTENDED_TO_DENY_ALLOWED_USING_WILDCARDS" },
	  { "iot:Subscribe, iot:Receive" }, { 2 } },
	{ "misconfig/deny_subset_of_wildcard_allow_FIXED.json", MC, OK, { 0 }, { 0 }, { 0 } },
	{ "misconfig/blog_type2_deny_plus.json", MC, NC,
	  { "POLICY_CONTAINS_MQTT_WILDCARDS_IN_DENY_STATEMENT" }, { "iot:Subscribe" }, { 1 } },
	{ "misconfig/blog_type2_FIXED.json", MC, OK, { 0 }, { 0 }, { 0 } },
	{ "misconfig/pubsub_doc_allow_receive_notresource.json", MC, OK, { 0 }, { 0 }, { 0 } },
	{ "role_alias/iot_only_used_but_iam_and_dynamodb_granted.json", RU, NC,
	  { "ALLOWS_ACCESS_TO_UNUSED_SERVICES" }, { "iam:GetRole, dynamodb:PutItem" }, { 2 } },
	{ "role_alias/admin_on_used_service.json", RP, NC,
	  { "ALLOWS_BROAD_ACCESS_TO_USED_SERVICES" }, { "s3:*" }, { 1 } },
	{ "role_alias/scoped_by_credentials_vars.json", RP, OK, { 0 }, { 0 }, { 0 } },
};

/* Runs the analysis a manifest case names. used: the case's _context services. */
static int run_check(const char *check, struct dd_policy *p, const char *const *used,
		     size_t nused, struct dd_policy_analysis *a)
{
	const struct dd_policy *set[1] = { p };
	if (strcmp(check, OP) == 0)
		return dd_policy_analyze_iot_permissive(p, a);
	if (strcmp(check, MC) == 0)
		return dd_policy_analyze_iot_misconfig(p, a);
	if (strcmp(check, CA) == 0)
		return dd_policy_analyze_cognito_auth(set, 1, a);
	if (strcmp(check, CU) == 0)
		return dd_policy_analyze_cognito_unauth(set, 1, a);
	if (strcmp(check, RP) == 0)
		return dd_policy_analyze_role_alias_permissive(set, 1, used, nused, a);
	if (strcmp(check, RU) == 0)
		return dd_policy_analyze_role_alias_unused(set, 1, used, nused, a);
	fail_msg("unknown check %s", check);
	return -1;
}

/* Loads a manifest file (plain document, or {"_context", "policy"}) and compiles it. */
static struct dd_policy *load_case(const char *file, const char *check, const char **used,
				   size_t *nused, json_t **keep)
{
	char rel[256];
	snprintf(rel, sizeof rel, "examples/%s", file);
	json_t *doc = load_json(rel);
	json_t *ctx = json_object_get(doc, "_context");
	json_t *pd = ctx ? json_object_get(doc, "policy") : doc;
	*nused = 0;
	if (ctx) {
		json_t *u = json_object_get(ctx, "services_last_accessed_365d");
		size_t i;
		json_t *x;
		json_array_foreach(u, i, x) {
			assert_true(*nused < 8);
			used[(*nused)++] = json_string_value(x);
		}
	}
	enum dd_policy_dialect d = strncmp(check, "IOT_POLICY", 10) == 0 ? DD_POLICY_IOT
									  : DD_POLICY_IAM;
	struct dd_policy *p = NULL;
	char err[DD_POLICY_ERRMSG_SIZE];
	if (dd_policy_compile_json(pd, d, &p, err, sizeof err))
		fail_msg("%s: %s", file, err);
	/* The document also validates as text. */
	char *text = json_dumps(pd, JSON_COMPACT);
	assert_non_null(text);
	assert_int_equal(dd_policy_validate(text, strlen(text), d, err, sizeof err), 0);
	free(text);
	*keep = doc;
	return p;
}

static void test_manifest_case(void **state)
{
	const struct mcase *c = *state;
	const char *used[8];
	size_t nused;
	json_t *doc;
	struct dd_policy *p = load_case(c->file, c->check, used, &nused, &doc);
	struct dd_policy_analysis a;
	assert_int_equal(run_check(c->check, p, used, nused, &a), 0);
	assert_int_equal(a.verdict, c->verdict);
	size_t ncodes = 0;
	while (ncodes < MAX_CODES && c->codes[ncodes])
		ncodes++;
	assert_int_equal(a.nreasons, ncodes);
	char buf[8192];
	for (size_t i = 0; i < ncodes; i++) {
		const struct dd_policy_reason *r = &a.reasons[i];
		assert_string_equal(r->code, c->codes[i]);
		assert_int_equal(r->nactions, c->counts[i]);
		join_actions(r, buf, sizeof buf);
		if (c->actions[i])
			assert_string_equal(buf, c->actions[i]);
		assert_non_null(r->message);
		assert_non_null(strstr(r->message, buf));
		assert_ptr_equal(dd_policy_analyze_find(&a, c->codes[i]), r);
	}
	if (strcmp(c->codes[0] ? c->codes[0] : "", DP) == 0 && strcmp(c->check, OP) == 0) {
		char want[1024];
		snprintf(want, sizeof want,
			 "Policy allows broad access to IoT data plane actions: [%s].", c->actions[0]);
		assert_string_equal(a.reasons[0].message, want);
	}
	dd_policy_analyze_clear(&a);
	assert_int_equal(a.nreasons, 0);
	dd_policy_free(p);
	json_decref(doc);
}

/* The table above and manifest.json agree on every case's check, verdict and codes. */
static void test_manifest_table_agrees(void **state)
{
	(void)state;
	json_t *m = load_json("examples/manifest.json");
	assert_true(json_is_array(m));
	assert_int_equal(json_array_size(m), sizeof mcases / sizeof mcases[0]);
	size_t i;
	json_t *e;
	json_array_foreach(m, i, e) {
		const char *file = json_string_value(json_object_get(e, "file"));
		const struct mcase *c = NULL;
		for (size_t k = 0; k < sizeof mcases / sizeof mcases[0]; k++)
			if (strcmp(mcases[k].file, file) == 0)
				c = &mcases[k];
		if (!c)
			fail_msg("manifest case %s has no row", file);
		assert_string_equal(json_string_value(json_object_get(e, "check")), c->check);
		const char *exp = json_string_value(json_object_get(e, "expected"));
		const char *vname = c->verdict == NC ? "NONCOMPLIANT" : "COMPLIANT";
		assert_int_equal(strncmp(exp, vname, strlen(vname)), 0);
		json_t *rc = json_object_get(e, "reason_code");
		char codes[256] = "";
		for (size_t k = 0; k < MAX_CODES && c->codes[k]; k++) {
			size_t off = strlen(codes);
			snprintf(codes + off, sizeof codes - off, "%s%s", k ? " + " : "", c->codes[k]);
		}
		if (json_is_null(rc))
			assert_string_equal(codes, "");
		else
			assert_string_equal(json_string_value(rc), codes);
	}
	json_decref(m);
}

/* The misconfig reason for the unfixed document also is its IAM twin: the role-alias
 * unused-services case raises ALLOWS_ACCESS_TO_SECURITY_AUDITING_SERVICES under the
 * overly-permissive check, as the manifest note says. */
static void test_manifest_note_security_auditing(void **state)
{
	(void)state;
	const char *used[8];
	size_t nused;
	json_t *doc;
	struct dd_policy *p = load_case("role_alias/iot_only_used_but_iam_and_dynamodb_granted.json",
					RU, used, &nused, &doc);
	struct dd_policy_analysis a;
	const struct dd_policy *set[1] = { p };
	assert_int_equal(dd_policy_analyze_role_alias_permissive(set, 1, used, nused, &a), 0);
	assert_int_equal(a.verdict, NC);
	assert_int_equal(a.nreasons, 1);
	assert_string_equal(a.reasons[0].code, "ALLOWS_ACCESS_TO_SECURITY_AUDITING_SERVICES");
	assert_int_equal(a.reasons[0].nactions, 1);
	assert_string_equal(a.reasons[0].actions[0], "iam:GetRole");
	dd_policy_analyze_clear(&a);
	/* No usage record: waiting for data, not a finding. */
	assert_int_equal(dd_policy_analyze_role_alias_unused(set, 1, NULL, 0, &a), 0);
	assert_int_equal(a.verdict, DD_POLICY_WAITING_FOR_DATA_COLLECTION);
	assert_int_equal(a.nreasons, 0);
	dd_policy_free(p);
	json_decref(doc);
}

/* ---------------------------------------------------------------- authorizer --- */

/* Exact outcome per request: "A<n>" allowed by statement n, "E<n>" explicitly denied by
 * statement n, "I" implicit deny. The JSON's coarser "ALLOW"/"DENY" is asserted too. */
struct acase {
	const char *id;
	const char *outcomes[4];
};

static const struct acase acases[] = {
	{ "pubsub-plus-literal-1", { "A0", "I", "A1", "I" } },
	{ "pubsub-star-spans-levels", { "A0", "A0", "A0", "I" } },
	{ "question-mark-single-char", { "A0", "I" } },
	{ "deny-receive-overrides", { "A0", "E1" } },
	{ "deny-a-restricted-bypass", { "A0", "E1", "I", "A2" } },
	{ "clientid-variable-plus-trick", { "A1" } },
	{ "deny-connect-list", { "E0" } },
	{ "connect-attributes-persistent", { "A0", "I", "A0" } },
	{ "retain-publish", { "A1", "I" } },
	{ "unresolved-variable", { "I", "I" } },
};

static void test_authorizer_case(void **state)
{
	const struct acase *ac = *state;
	json_t *all = load_json("examples/authorizer_cases.json");
	json_t *c = NULL, *e;
	size_t i;
	json_array_foreach(all, i, e)
		if (strcmp(json_string_value(json_object_get(e, "id")), ac->id) == 0)
			c = e;
	if (!c)
		fail_msg("no authorizer case %s", ac->id);
	struct dd_policy *p = NULL;
	char err[DD_POLICY_ERRMSG_SIZE];
	if (dd_policy_compile_json(json_object_get(c, "policy"), DD_POLICY_IOT, &p, err, sizeof err))
		fail_msg("%s: %s", ac->id, err);
	json_t *ctx = json_object_get(c, "context");
	json_t *reqs = json_object_get(c, "requests");
	json_t *rq;
	size_t nout = 0;
	while (nout < 4 && ac->outcomes[nout])
		nout++;
	assert_int_equal(json_array_size(reqs), nout);
	json_array_foreach(reqs, i, rq) {
		const char *attrs[8];
		size_t nattrs = 0;
		json_t *ca = json_object_get(rq, "connectAttributes");
		struct dd_policy_attr key = { "iot:ConnectAttributes", attrs, 0 };
		if (ca) {
			size_t k;
			json_t *x;
			json_array_foreach(ca, k, x)
				attrs[nattrs++] = json_string_value(x);
			key.nvalues = nattrs;
		}
		struct dd_policy_request r = {
			.action = json_string_value(json_object_get(rq, "action")),
			.resource = json_string_value(json_object_get(rq, "resource")),
			.client_id = json_string_value(json_object_get(ctx, "clientId")),
			.thing_name = json_string_value(json_object_get(ctx, "thingName")),
			.is_attached = json_is_true(json_object_get(ctx, "isAttached")),
			.keys = ca ? &key : NULL,
			.n_keys = ca ? 1 : 0,
		};
		struct dd_policy_explain ex;
		enum dd_policy_decision d = eval1(p, &r, &ex);
		const char *want = ac->outcomes[i];
		const char *jexp = json_string_value(json_object_get(rq, "expect"));
		if (strcmp(jexp, "ALLOW") == 0)
			assert_int_equal(d, DD_POLICY_ALLOW);
		else
			assert_int_not_equal(d, DD_POLICY_ALLOW);
		if (strstr(jexp, "implicit"))
			assert_int_equal(d, DD_POLICY_IMPLICIT_DENY);
		assert_int_equal(ex.decision, d);
		if (want[0] == 'I') {
			assert_int_equal(d, DD_POLICY_IMPLICIT_DENY);
			assert_true(ex.statement_index == SIZE_MAX);
		} else {
			assert_int_equal(d, want[0] == 'A' ? DD_POLICY_ALLOW : DD_POLICY_EXPLICIT_DENY);
			assert_int_equal(ex.policy_index, 0);
			assert_int_equal(ex.statement_index, (size_t)(want[1] - '0'));
		}
	}
	dd_policy_free(p);
	json_decref(all);
}

static void test_authorizer_table_complete(void **state)
{
	(void)state;
	json_t *all = load_json("examples/authorizer_cases.json");
	assert_int_equal(json_array_size(all), sizeof acases / sizeof acases[0]);
	json_decref(all);
}

/* ---------------------------------------------------------------- validation --- */

static void expect_invalid(const char *text, enum dd_policy_dialect d, int code, const char *msg)
{
	char err[DD_POLICY_ERRMSG_SIZE];
	int rc = dd_policy_validate(text, strlen(text), d, err, sizeof err);
	if (rc != code)
		fail_msg("validate(%s) = %d, want %d (%s)", text, rc, code, err);
	if (!strstr(err, msg))
		fail_msg("message \"%s\" lacks \"%s\"", err, msg);
}

#define ST(x) "{\"Version\":\"2012-10-17\",\"Statement\":[" x "]}"
#define OKBODY "\"Effect\":\"Allow\",\"Action\":\"iot:Connect\",\"Resource\":\"*\"}"
#define OKST "{" OKBODY

static void test_validate_messages(void **state)
{
	(void)state;
	expect_invalid("{", DD_POLICY_IOT, DD_EINVAL, "Syntax error");
	expect_invalid("[]", DD_POLICY_IOT, DD_EINVAL, "must be a JSON object");
	expect_invalid("{\"Version\":\"2012-10-17\"}", DD_POLICY_IOT, DD_EINVAL, "Statement");
	expect_invalid("{\"Version\":\"2013-01-01\",\"Statement\":" OKST "}", DD_POLICY_IOT,
		       DD_EINVAL, "Version");
	expect_invalid(ST("]"), DD_POLICY_IOT, DD_EINVAL, "Syntax error");
	expect_invalid(ST(""), DD_POLICY_IOT, DD_EINVAL, "must not be empty");
	expect_invalid(ST(OKST ",{\"Sid\":\"Two\",\"Effect\":\"Permit\",\"Action\":\"iot:*\",\"Resource\":\"*\"}"),
		       DD_POLICY_IOT, DD_EINVAL, "Statement 2 (Sid \"Two\"): Effect must be");
	expect_invalid(ST("{\"Effect\":\"Allow\",\"Action\":\"iot:*\",\"NotAction\":\"iot:Connect\",\"Resource\":\"*\"}"),
		       DD_POLICY_IOT, DD_EINVAL, "Statement 1: must not contain both Action and NotAction");
	expect_invalid(ST("{\"Effect\":\"Allow\",\"Resource\":\"*\"}"), DD_POLICY_IOT, DD_EINVAL,
		       "missing required field Action");
	expect_invalid(ST("{\"Effect\":\"Allow\",\"Action\":\"iot:Connect\"}"), DD_POLICY_IOT,
		       DD_EINVAL, "missing required field Resource");
	expect_invalid(ST("{\"Effect\":\"Allow\",\"Action\":\"Connect\",\"Resource\":\"*\"}"),
		       DD_POLICY_IOT, DD_EINVAL, "prefixed by a service");
	expect_invalid(ST("{\"Effect\":\"Allow\",\"Action\":\"io*:Connect\",\"Resource\":\"*\"}"),
		       DD_POLICY_IOT, DD_EINVAL, "must not contain wildcards");
	expect_invalid(ST("{\"Effect\":\"Allow\",\"Action\":[],\"Resource\":\"*\"}"), DD_POLICY_IOT,
		       DD_EINVAL, "Action must not be empty");
	expect_invalid(ST("{\"Effect\":\"Allow\",\"Action\":[1],\"Resource\":\"*\"}"), DD_POLICY_IOT,
		       DD_EINVAL, "Action must be a string or an array of strings");
	expect_invalid(ST("{\"Effect\":\"Allow\",\"Action\":\"iot:Connect\",\"Resource\":\"client/x\"}"),
		       DD_POLICY_IOT, DD_EINVAL, "ARN format");
	expect_invalid(ST("{\"Effect\":\"Allow\",\"Action\":\"iot:Connect\",\"Resource\":\"*\",\"Foo\":1}"),
		       DD_POLICY_IOT, DD_EINVAL, "unknown field \"Foo\"");
	expect_invalid(ST("{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"s3:*\",\"Resource\":\"*\"}"),
		       DD_POLICY_IAM, DD_EINVAL, "should not specify a principal");
	expect_invalid(ST("{\"Effect\":\"Allow\",\"Action\":\"iot:Connect\",\"Resource\":\"*\",\"Condition\":{\"StringSortOf\":{\"iot:ClientId\":\"x\"}}}"),
		       DD_POLICY_IOT, DD_EINVAL, "Unknown condition operator StringSortOf");
	expect_invalid(ST("{\"Effect\":\"Allow\",\"Action\":\"iot:Connect\",\"Resource\":\"*\",\"Condition\":{\"IpAddress\":{\"aws:SourceIp\":\"10.0.0.0/99\"}}}"),
		       DD_POLICY_IOT, DD_EINVAL, "not an IP address");
	expect_invalid(ST("{\"Effect\":\"Allow\",\"Action\":\"iot:Connect\",\"Resource\":\"*\",\"Condition\":{\"Bool\":{\"iot:Connection.Thing.IsAttached\":\"yes\"}}}"),
		       DD_POLICY_IOT, DD_EINVAL, "not true or false");
	expect_invalid(ST("{\"Sid\":\"a\"," OKBODY ",{\"Sid\":\"a\"," OKBODY), DD_POLICY_IOT,
		       DD_EINVAL, "must be unique");
	expect_invalid(ST("{\"Sid\":\"not ok\"," OKBODY), DD_POLICY_IAM, DD_EINVAL,
		       "letters and digits");
	expect_invalid("{\"Statement\":" OKST ",\"Statement\":" OKST "}", DD_POLICY_IOT, DD_EINVAL,
		       "Syntax error");
	/* Valid: single statement object, no Version, Sid with a space (IoT). */
	char err[DD_POLICY_ERRMSG_SIZE];
	const char *good = "{\"Statement\":{\"Sid\":\"my sid\",\"Effect\":\"Deny\",\"NotAction\":[\"iot:Connect\"],\"NotResource\":\"arn:aws:iot:*:*:client/a\"}}";
	assert_int_equal(dd_policy_validate(good, strlen(good), DD_POLICY_IOT, err, sizeof err), 0);
	/* The IoT limit: 2048 non-whitespace characters. */
	size_t n = 8192;
	char *big = malloc(n);
	assert_non_null(big);
	int off = snprintf(big, n, "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"iot:Publish\",\"Resource\":[");
	for (int i = 0; i < 60; i++)
		off += snprintf(big + off, n - (size_t)off, "%s\"arn:aws:iot:us-east-1:123456789012:topic/t%02d\"",
				i ? ", " : "", i);
	snprintf(big + off, n - (size_t)off, "]}]}");
	expect_invalid(big, DD_POLICY_IOT, DD_ELIMIT, "2048");
	assert_int_equal(dd_policy_validate(big, strlen(big), DD_POLICY_IAM, err, sizeof err), 0);
	free(big);
	/* errmsg may be NULL with size 0 */
	assert_int_equal(dd_policy_validate("{", 1, DD_POLICY_IOT, NULL, 0), DD_EINVAL);
}

static void test_count_nonws(void **state)
{
	(void)state;
	const char *s = "{ \"a\" :\t1,\r\n \"b\": \"x y\" }";
	assert_int_equal(dd_policy_count_nonws(s, strlen(s)), 16);
	assert_int_equal(dd_policy_count_nonws("\"\xc3\xa9\"", 4), 3); /* UTF-8 é is one */
	assert_int_equal(dd_policy_count_nonws(NULL, 5), 0);
}

/* ---------------------------------------------------------------- evaluation --- */

#define ARN "arn:aws:iot:us-east-1:123456789012:"

static void test_variables(void **state)
{
	(void)state;
	struct dd_policy *p = compile_str(ST(
		"{\"Effect\":\"Allow\",\"Action\":\"iot:Publish\",\"Resource\":["
		"\"" ARN "topic/cn/${iot:Certificate.Subject.CommonName}\","
		"\"" ARN "topic/attr/${iot:Connection.Thing.Attributes[floor]}/*\","
		"\"" ARN "topic/type/${iot:Connection.Thing.ThingTypeName}\","
		"\"" ARN "topic/esc/${*}${?}${$}\","
		"\"" ARN "topic/att/${iot:Connection.Thing.IsAttached}\","
		"\"" ARN "topic/ip/${aws:SourceIp}\","
		"\"" ARN "topic/gen/${credentials-iot:ThingName}\"]}"), DD_POLICY_IOT);
	assert_true(dd_policy_has_variables_enabled(p));
	const char *cn[] = { "dev1" }, *cnwild[] = { "dev*" }, *floor[] = { "3" };
	const char *gen[] = { "g1" };
	struct dd_policy_attr cert = { "Subject.CommonName", cn, 1 };
	struct dd_policy_attr attr = { "floor", floor, 1 };
	struct dd_policy_attr key = { "Credentials-IoT:ThingName", gen, 1 };
	struct dd_policy_request r = { .action = "iot:publish", .cert = &cert, .n_cert = 1,
				       .thing_attributes = &attr, .n_thing_attributes = 1,
				       .thing_type_name = "lamp", .is_attached = true,
				       .source_ip = "10.1.1.1", .keys = &key, .n_keys = 1 };
	struct { const char *res; enum dd_policy_decision d; } cases[] = {
		{ ARN "topic/cn/dev1", DD_POLICY_ALLOW },
		{ ARN "topic/cn/dev2", DD_POLICY_IMPLICIT_DENY },
		{ ARN "topic/attr/3/x/y", DD_POLICY_ALLOW },
		{ ARN "topic/attr/4/x", DD_POLICY_IMPLICIT_DENY },
		{ ARN "topic/type/lamp", DD_POLICY_ALLOW },
		{ ARN "topic/esc/*?$", DD_POLICY_ALLOW },
		{ ARN "topic/esc/a?$", DD_POLICY_IMPLICIT_DENY },
		{ ARN "topic/att/true", DD_POLICY_ALLOW },
		{ ARN "topic/ip/10.1.1.1", DD_POLICY_ALLOW },
		{ ARN "topic/gen/g1", DD_POLICY_ALLOW },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		r.resource = cases[i].res;
		if (eval1(p, &r, NULL) != cases[i].d)
			fail_msg("case %zu (%s)", i, cases[i].res);
	}
	/* A certificate value holding a wildcard is not substituted: no match at all. */
	cert.values = cnwild;
	r.resource = ARN "topic/cn/dev*";
	assert_int_equal(eval1(p, &r, NULL), DD_POLICY_IMPLICIT_DENY);
	r.resource = ARN "topic/cn/devX";
	assert_int_equal(eval1(p, &r, NULL), DD_POLICY_IMPLICIT_DENY);
	/* A substituted value is literal text even when it holds glob characters. */
	struct dd_policy *q = compile_str(ST("{\"Effect\":\"Allow\",\"Action\":\"iot:Connect\",\"Resource\":\"" ARN "client/${iot:ClientId}\"}"), DD_POLICY_IOT);
	struct dd_policy_request rc = { .action = "iot:Connect", .resource = ARN "client/abc",
					.client_id = "*" };
	assert_int_equal(eval1(q, &rc, NULL), DD_POLICY_IMPLICIT_DENY);
	rc.resource = ARN "client/*";
	assert_int_equal(eval1(q, &rc, NULL), DD_POLICY_ALLOW);
	rc.client_id = "";
	rc.resource = ARN "client/";
	assert_int_equal(eval1(q, &rc, NULL), DD_POLICY_IMPLICIT_DENY);
	dd_policy_free(q);
	dd_policy_free(p);

	/* Version 2008-10-17 (or none): variables are literal text. */
	p = compile_str("{\"Version\":\"2008-10-17\",\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"iot:Connect\",\"Resource\":\"" ARN "client/${iot:ClientId}\"}}", DD_POLICY_IOT);
	assert_false(dd_policy_has_variables_enabled(p));
	rc.client_id = "abc";
	rc.resource = ARN "client/abc";
	assert_int_equal(eval1(p, &rc, NULL), DD_POLICY_IMPLICIT_DENY);
	rc.resource = ARN "client/${iot:ClientId}";
	assert_int_equal(eval1(p, &rc, NULL), DD_POLICY_ALLOW);
	dd_policy_free(p);
}

static void test_matching(void **state)
{
	(void)state;
	struct dd_policy *p = compile_str(ST(
		"{\"Effect\":\"Allow\",\"Action\":[\"IOT:pub*\",\"iot:Rec?ive\"],\"Resource\":\"" ARN "topic/a/*/c\"},"
		"{\"Effect\":\"Allow\",\"NotAction\":\"iot:*\",\"Resource\":\"*\"},"
		"{\"Effect\":\"Allow\",\"Action\":\"iot:Connect\",\"NotResource\":\"" ARN "client/bad*\"}"), DD_POLICY_IOT);
	struct { const char *a, *res; enum dd_policy_decision d; } cases[] = {
		{ "iot:Publish", ARN "topic/a/b/c", DD_POLICY_ALLOW },
		{ "iot:PUBLISH", ARN "topic/a/b/x/c", DD_POLICY_ALLOW },
		{ "iot:Publish", ARN "topic/A/b/c", DD_POLICY_IMPLICIT_DENY }, /* resources are case-sensitive */
		{ "iot:Publish", ARN "topic/a/c", DD_POLICY_IMPLICIT_DENY },
		{ "iot:Receive", ARN "topic/a/+/c", DD_POLICY_ALLOW },
		{ "iot:Subscribe", ARN "topicfilter/a/b/c", DD_POLICY_IMPLICIT_DENY },
		{ "s3:GetObject", "arn:aws:s3:::b/k", DD_POLICY_ALLOW },
		{ "iot:Connect", ARN "client/good", DD_POLICY_ALLOW },
		{ "iot:Connect", ARN "client/bad1", DD_POLICY_IMPLICIT_DENY },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct dd_policy_request r = { .action = cases[i].a, .resource = cases[i].res };
		if (eval1(p, &r, NULL) != cases[i].d)
			fail_msg("case %zu", i);
	}
	dd_policy_free(p);
	/* Backtracking: several stars and a near miss. */
	p = compile_str(ST("{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"arn:*:x*y*z?\"}"), DD_POLICY_IAM);
	struct dd_policy_request r = { .action = "a:b", .resource = "arn:q:xxyyzzz" };
	assert_int_equal(eval1(p, &r, NULL), DD_POLICY_ALLOW);
	r.resource = "arn:q:xxyyz";
	assert_int_equal(eval1(p, &r, NULL), DD_POLICY_IMPLICIT_DENY);
	dd_policy_free(p);
}

/* Naive reference glob ('*' any run, '?' one character). */
static int ref_glob(const char *p, const char *s)
{
	if (!*p)
		return !*s;
	if (*p == '*')
		return ref_glob(p + 1, s) || (*s && ref_glob(p, s + 1));
	if (!*s)
		return 0;
	return (*p == '?' || *p == *s) && ref_glob(p + 1, s + 1);
}

/* The compiled matcher (chunked, one backtrack point) agrees with the reference on random
 * patterns and subjects, with and without a variable in the pattern. */
static void test_matcher_differential(void **state)
{
	(void)state;
	unsigned seed = 42;
	static const char alpha[] = "ab*?";
	for (int it = 0; it < 3000; it++) {
		char pat[16], subj[16], doc[512], res[64], full[64];
		int pl = 0, sl;
		seed = seed * 1103515245u + 12345u;
		pl = (int)((seed >> 16) % 9);
		for (int i = 0; i < pl; i++) {
			seed = seed * 1103515245u + 12345u;
			pat[i] = alpha[(seed >> 16) % 4];
		}
		pat[pl] = '\0';
		seed = seed * 1103515245u + 12345u;
		sl = (int)((seed >> 16) % 9);
		for (int i = 0; i < sl; i++) {
			seed = seed * 1103515245u + 12345u;
			subj[i] = "ab"[(seed >> 16) % 2];
		}
		subj[sl] = '\0';
		bool with_var = it % 2;
		snprintf(doc, sizeof doc, ST("{\"Effect\":\"Allow\",\"Action\":\"x:y\",\"Resource\":\"arn:%s%s\"}"),
			 with_var ? "${iot:ClientId}" : "", pat);
		struct dd_policy *p = compile_str(doc, DD_POLICY_IOT);
		snprintf(res, sizeof res, "arn:%s%s", with_var ? "ba" : "", subj);
		snprintf(full, sizeof full, "%s%s", with_var ? "ba" : "", pat);
		char want_s[32];
		snprintf(want_s, sizeof want_s, "%s%s", with_var ? "ba" : "", subj);
		struct dd_policy_request r = { .action = "x:y", .resource = res, .client_id = "ba" };
		bool got = eval1(p, &r, NULL) == DD_POLICY_ALLOW;
		bool want = ref_glob(full, want_s);
		if (got != want)
			fail_msg("pattern \"%s\" subject \"%s\": got %d want %d", full, want_s, got, want);
		dd_policy_free(p);
	}
}

static void test_conditions(void **state)
{
	(void)state;
	struct dd_policy *p = compile_str(ST(
		"{\"Sid\":\"Like\",\"Effect\":\"Allow\",\"Action\":\"iot:Connect\",\"Resource\":\"" ARN "client/like\","
		" \"Condition\":{\"StringLike\":{\"iot:ClientId\":[\"x*\",\"like\"]}}},"
		"{\"Sid\":\"NotEq\",\"Effect\":\"Allow\",\"Action\":\"iot:Connect\",\"Resource\":\"" ARN "client/noteq\","
		" \"Condition\":{\"StringNotEquals\":{\"iot:Connection.Thing.ThingTypeName\":\"bad\"}}},"
		"{\"Sid\":\"IfExists\",\"Effect\":\"Allow\",\"Action\":\"iot:Connect\",\"Resource\":\"" ARN "client/ifex\","
		" \"Condition\":{\"StringEqualsIfExists\":{\"iot:Connection.Thing.ThingTypeName\":\"good\"}}},"
		"{\"Sid\":\"Null\",\"Effect\":\"Allow\",\"Action\":\"iot:Connect\",\"Resource\":\"" ARN "client/null\","
		" \"Condition\":{\"Null\":{\"iot:Connection.Thing.ThingTypeName\":\"true\"}}},"
		"{\"Sid\":\"Ip\",\"Effect\":\"Allow\",\"Action\":\"iot:Connect\",\"Resource\":\"" ARN "client/ip\","
		" \"Condition\":{\"IpAddress\":{\"aws:SourceIp\":[\"192.168.0.0/16\",\"2001:db8::/32\"]},"
		"               \"NotIpAddress\":{\"aws:SourceIp\":\"192.168.9.0/24\"}}},"
		"{\"Sid\":\"Any\",\"Effect\":\"Allow\",\"Action\":\"iot:Connect\",\"Resource\":\"" ARN "client/any\","
		" \"Condition\":{\"ForAnyValue:StringEquals\":{\"iot:ConnectAttributes\":\"LastWill\"}}},"
		"{\"Sid\":\"Num\",\"Effect\":\"Allow\",\"Action\":\"iot:Connect\",\"Resource\":\"" ARN "client/num\","
		" \"Condition\":{\"NumericLessThan\":{\"x:count\":10},\"StringEqualsIgnoreCase\":{\"x:name\":\"ABC\"}}},"
		"{\"Sid\":\"Arn\",\"Effect\":\"Allow\",\"Action\":\"iot:Connect\",\"Resource\":\"" ARN "client/arn\","
		" \"Condition\":{\"ArnLike\":{\"aws:SourceArn\":\"arn:aws:iot:*:123456789012:rule/*\"}}},"
		"{\"Sid\":\"Date\",\"Effect\":\"Allow\",\"Action\":\"iot:Connect\",\"Resource\":\"" ARN "client/date\","
		" \"Condition\":{\"BinaryEquals\":{\"x:blob\":\"QUJD\"}}},"
		"{\"Sid\":\"Attached\",\"Effect\":\"Allow\",\"Action\":\"iot:Connect\",\"Resource\":\"" ARN "client/att\","
		" \"Condition\":{\"Bool\":{\"iot:Connection.Thing.IsAttached\":true}}}"), DD_POLICY_IOT);
	assert_int_equal(dd_policy_unsupported_count(p), 1);
	const char *lw[] = { "PersistentConnect", "LastWill" }, *cnt[] = { "7" }, *nm[] = { "abc" };
	const char *arn[] = { "arn:aws:iot:eu-west-1:123456789012:rule/r1" };
	struct dd_policy_attr keys[] = { { "iot:ConnectAttributes", lw, 2 }, { "x:count", cnt, 1 },
					 { "x:name", nm, 1 }, { "aws:SourceArn", arn, 1 } };
	struct dd_policy_request r = { .action = "iot:Connect", .client_id = "like",
				       .source_ip = "192.168.1.2", .keys = keys, .n_keys = 4,
				       .is_attached = true };
	struct { const char *res; const char *type; const char *ip; size_t nkeys;
		 enum dd_policy_decision d; } cases[] = {
		{ ARN "client/like", NULL, NULL, 0, DD_POLICY_ALLOW },
		{ ARN "client/noteq", NULL, NULL, 0, DD_POLICY_ALLOW }, /* absent key: NotEquals true */
		{ ARN "client/noteq", "bad", NULL, 0, DD_POLICY_IMPLICIT_DENY },
		{ ARN "client/noteq", "ok", NULL, 0, DD_POLICY_ALLOW },
		{ ARN "client/ifex", NULL, NULL, 0, DD_POLICY_ALLOW },
		{ ARN "client/ifex", "good", NULL, 0, DD_POLICY_ALLOW },
		{ ARN "client/ifex", "evil", NULL, 0, DD_POLICY_IMPLICIT_DENY },
		{ ARN "client/null", NULL, NULL, 0, DD_POLICY_ALLOW },
		{ ARN "client/null", "x", NULL, 0, DD_POLICY_IMPLICIT_DENY },
		{ ARN "client/ip", NULL, "192.168.1.2", 0, DD_POLICY_ALLOW },
		{ ARN "client/ip", NULL, "192.168.9.2", 0, DD_POLICY_IMPLICIT_DENY },
		{ ARN "client/ip", NULL, "10.0.0.1", 0, DD_POLICY_IMPLICIT_DENY },
		{ ARN "client/ip", NULL, "2001:db8::1", 0, DD_POLICY_ALLOW },
		{ ARN "client/ip", NULL, "not-an-ip", 0, DD_POLICY_IMPLICIT_DENY },
		{ ARN "client/any", NULL, NULL, 4, DD_POLICY_ALLOW },
		{ ARN "client/any", NULL, NULL, 0, DD_POLICY_IMPLICIT_DENY }, /* ForAnyValue on empty */
		{ ARN "client/num", NULL, NULL, 4, DD_POLICY_ALLOW },
		{ ARN "client/num", NULL, NULL, 0, DD_POLICY_IMPLICIT_DENY },
		{ ARN "client/arn", NULL, NULL, 4, DD_POLICY_ALLOW },
		{ ARN "client/date", NULL, NULL, 4, DD_POLICY_IMPLICIT_DENY }, /* unsupported */
		{ ARN "client/att", NULL, NULL, 0, DD_POLICY_ALLOW },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		r.resource = cases[i].res;
		r.thing_type_name = cases[i].type;
		r.source_ip = cases[i].ip;
		r.n_keys = cases[i].nkeys;
		struct dd_policy_explain ex;
		if (eval1(p, &r, &ex) != cases[i].d)
			fail_msg("case %zu (%s)", i, cases[i].res);
	}
	r.resource = ARN "client/att";
	r.is_attached = false;
	assert_int_equal(eval1(p, &r, NULL), DD_POLICY_IMPLICIT_DENY);
	struct dd_policy_explain ex;
	r.resource = ARN "client/date";
	assert_int_equal(eval1(p, &r, &ex), DD_POLICY_IMPLICIT_DENY);
	assert_int_equal(ex.skipped_unsupported, 1);
	dd_policy_free(p);

	/* An unsupported operator in a Deny makes the Deny not apply: it never widens a grant
	 * by itself, and the statement is reported through dd_policy_unsupported_count. */
	p = compile_str(ST(OKST ",{\"Effect\":\"Deny\",\"Action\":\"*\",\"Resource\":\"*\",\"Condition\":{\"BinaryEquals\":{\"x:y\":\"AAAA\"}}}"), DD_POLICY_IOT);
	struct dd_policy_request c = { .action = "iot:Connect", .resource = ARN "client/x" };
	assert_int_equal(eval1(p, &c, NULL), DD_POLICY_ALLOW);
	assert_int_equal(dd_policy_unsupported_count(p), 1);
	dd_policy_free(p);
}

/* The Date operators: values in ISO 8601 (W3C profiles, any zone) or epoch seconds, on
 * both sides; each case is one request against one statement, with the verdict IAM
 * gives (the last statements: an Allow of every client and a dated Deny). */
static void test_date_conditions(void **state)
{
	(void)state;
	struct dd_policy *p = compile_str(ST(
		"{\"Effect\":\"Allow\",\"Action\":\"iot:Connect\",\"Resource\":\"" ARN "client/lt\","
		" \"Condition\":{\"DateLessThan\":{\"aws:CurrentTime\":\"2020-01-01T00:00:00Z\"}}},"
		"{\"Effect\":\"Allow\",\"Action\":\"iot:Connect\",\"Resource\":\"" ARN "client/le\","
		" \"Condition\":{\"DateLessThanEquals\":{\"aws:CurrentTime\":\"2020-01-01\"}}},"
		"{\"Effect\":\"Allow\",\"Action\":\"iot:Connect\",\"Resource\":\"" ARN "client/gt\","
		" \"Condition\":{\"DateGreaterThan\":{\"aws:EpochTime\":1577836800}}},"
		"{\"Effect\":\"Allow\",\"Action\":\"iot:Connect\",\"Resource\":\"" ARN "client/ge\","
		" \"Condition\":{\"DateGreaterThanEquals\":{\"aws:CurrentTime\":\"1577836800\"}}},"
		"{\"Effect\":\"Allow\",\"Action\":\"iot:Connect\",\"Resource\":\"" ARN "client/eq\","
		" \"Condition\":{\"DateEquals\":{\"aws:CurrentTime\":[\"2024-02-29T13:30:00+01:30\",\"2030-01-01T00:00Z\"]}}},"
		"{\"Effect\":\"Allow\",\"Action\":\"iot:Connect\",\"Resource\":\"" ARN "client/ne\","
		" \"Condition\":{\"DateNotEquals\":{\"aws:CurrentTime\":\"2024-02-29T12:00:00.000Z\"}}},"
		"{\"Effect\":\"Allow\",\"Action\":\"iot:Connect\",\"Resource\":\"" ARN "client/window\","
		" \"Condition\":{\"DateGreaterThan\":{\"aws:CurrentTime\":\"2024-01-01T00:00:00Z\"},"
		"               \"DateLessThan\":{\"aws:CurrentTime\":\"2024-12-31T23:59:59.5-08:00\"}}},"
		"{\"Effect\":\"Allow\",\"Action\":\"iot:Connect\",\"Resource\":\"" ARN "client/ifex\","
		" \"Condition\":{\"DateLessThanIfExists\":{\"x:expires\":\"2020-01-01T00:00:00Z\"}}},"
		"{\"Effect\":\"Allow\",\"Action\":\"iot:Connect\",\"Resource\":\"" ARN "client/any\","
		" \"Condition\":{\"ForAnyValue:DateGreaterThan\":{\"x:dates\":\"2020-01-01T00:00:00Z\"}}},"
		"{\"Effect\":\"Allow\",\"Action\":\"iot:Connect\",\"Resource\":\"" ARN "client/all\","
		" \"Condition\":{\"ForAllValues:DateGreaterThan\":{\"x:dates\":\"2020-01-01T00:00:00Z\"}}},"
		"{\"Effect\":\"Allow\",\"Action\":\"iot:Publish\",\"Resource\":\"*\"},"
		"{\"Effect\":\"Deny\",\"Action\":\"iot:Publish\",\"Resource\":\"*\","
		" \"Condition\":{\"DateGreaterThanEquals\":{\"aws:CurrentTime\":\"2025-06-01T00:00:00Z\"}}}"),
		DD_POLICY_IAM);
	assert_int_equal(dd_policy_unsupported_count(p), 0);
	const enum dd_policy_decision A = DD_POLICY_ALLOW, N = DD_POLICY_IMPLICIT_DENY,
		X = DD_POLICY_EXPLICIT_DENY;
	struct {
		const char *client; /* NULL: iot:Publish (the dated Deny) */
		const char *now, *epoch, *expires;
		const char *dates[2];
		size_t ndates;
		enum dd_policy_decision d;
	} cases[] = {
		{ "lt", "2019-12-31T23:59:59Z", NULL, NULL, { 0 }, 0, A },
		{ "lt", "2020-01-01T00:00:00Z", NULL, NULL, { 0 }, 0, N },      /* not strictly less */
		{ "lt", "2020-01-01T01:00:00+02:00", NULL, NULL, { 0 }, 0, A }, /* 23:00 UTC the day before */
		{ "lt", "1577836799", NULL, NULL, { 0 }, 0, A },                /* epoch on the request side */
		{ "lt", NULL, NULL, NULL, { 0 }, 0, N },                        /* absent key */
		{ "lt", "yesterday", NULL, NULL, { 0 }, 0, N },                 /* not a date: no match */
		{ "lt", "2019-02-29T00:00:00Z", NULL, NULL, { 0 }, 0, N },      /* no such day */
		{ "lt", "2019-12-31T23:59:59", NULL, NULL, { 0 }, 0, N },       /* a time needs a zone */
		{ "le", "2020-01-01T00:00:00Z", NULL, NULL, { 0 }, 0, A },      /* a date alone is midnight UTC */
		{ "le", "2020-01-01T00:00:01Z", NULL, NULL, { 0 }, 0, N },
		{ "gt", NULL, "1577836801", NULL, { 0 }, 0, A },
		{ "gt", NULL, "1577836800", NULL, { 0 }, 0, N },
		{ "gt", NULL, "2020-01-01T00:00:00.5Z", NULL, { 0 }, 0, A },    /* fractions count */
		{ "ge", "2020-01-01T00:00:00Z", NULL, NULL, { 0 }, 0, A },
		{ "ge", "2019-12-31T23:59:59.999Z", NULL, NULL, { 0 }, 0, N },
		{ "eq", "2024-02-29T12:00:00Z", NULL, NULL, { 0 }, 0, A },      /* same instant, other zone */
		{ "eq", "2030-01-01T00:00:00Z", NULL, NULL, { 0 }, 0, A },      /* second value (hh:mm form) */
		{ "eq", "2024-02-29T12:00:01Z", NULL, NULL, { 0 }, 0, N },
		{ "ne", "2024-02-29T12:00:00Z", NULL, NULL, { 0 }, 0, N },
		{ "ne", "2024-02-29T12:00:01Z", NULL, NULL, { 0 }, 0, A },
		{ "ne", NULL, NULL, NULL, { 0 }, 0, A },                        /* negated, absent key */
		{ "window", "2024-06-15T00:00:00Z", NULL, NULL, { 0 }, 0, A },
		{ "window", "2023-12-31T23:00:00Z", NULL, NULL, { 0 }, 0, N },
		{ "window", "2025-01-01T07:59:59Z", NULL, NULL, { 0 }, 0, A },  /* before the -08:00 end */
		{ "window", "2025-01-01T08:00:00Z", NULL, NULL, { 0 }, 0, N },
		{ "ifex", NULL, NULL, NULL, { 0 }, 0, A },                      /* IfExists: absent is fine */
		{ "ifex", NULL, NULL, "2019-06-01T00:00:00Z", { 0 }, 0, A },
		{ "ifex", NULL, NULL, "2020-06-01T00:00:00Z", { 0 }, 0, N },
		{ "any", NULL, NULL, NULL, { "2019-01-01", "2021-01-01" }, 2, A },
		{ "any", NULL, NULL, NULL, { "2019-01-01", "2018-01-01" }, 2, N },
		{ "any", NULL, NULL, NULL, { 0 }, 0, N },                       /* ForAnyValue on empty */
		{ "all", NULL, NULL, NULL, { "2021-01-01", "2022-01-01" }, 2, A },
		{ "all", NULL, NULL, NULL, { "2019-01-01", "2021-01-01" }, 2, N },
		{ "all", NULL, NULL, NULL, { 0 }, 0, A },                       /* ForAllValues on empty */
		{ NULL, "2025-05-31T23:59:59Z", NULL, NULL, { 0 }, 0, A },
		{ NULL, "2025-06-01T00:00:00Z", NULL, NULL, { 0 }, 0, X },      /* the Deny beats the Allow */
		{ NULL, "2025-06-01T02:00:00+02:00", NULL, NULL, { 0 }, 0, X },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char res[128];
		snprintf(res, sizeof res, ARN "client/%s", cases[i].client ? cases[i].client : "x");
		const char *now[] = { cases[i].now }, *epoch[] = { cases[i].epoch };
		const char *expires[] = { cases[i].expires };
		struct dd_policy_attr keys[4];
		size_t nk = 0;
		if (cases[i].now)
			keys[nk++] = (struct dd_policy_attr){ "aws:CurrentTime", now, 1 };
		if (cases[i].epoch)
			keys[nk++] = (struct dd_policy_attr){ "aws:EpochTime", epoch, 1 };
		if (cases[i].expires)
			keys[nk++] = (struct dd_policy_attr){ "x:expires", expires, 1 };
		if (cases[i].ndates)
			keys[nk++] = (struct dd_policy_attr){ "x:dates", cases[i].dates, cases[i].ndates };
		struct dd_policy_request r = { .action = cases[i].client ? "iot:Connect" : "iot:Publish",
					       .resource = res, .keys = keys, .n_keys = nk };
		enum dd_policy_decision got = eval1(p, &r, NULL);
		if (got != cases[i].d)
			fail_msg("case %zu (%s, now %s): %s, want %s", i, res, cases[i].now ? cases[i].now : "-",
				 dd_policy_decision_name(got), dd_policy_decision_name(cases[i].d));
	}
	dd_policy_free(p);

	/* Policy values that are not dates are malformed, naming the operator and key. */
	expect_invalid(ST("{\"Effect\":\"Allow\",\"Action\":\"iot:Connect\",\"Resource\":\"*\","
			  "\"Condition\":{\"DateLessThan\":{\"aws:CurrentTime\":\"next week\"}}}"),
		       DD_POLICY_IAM, DD_EINVAL, "DateLessThan on aws:CurrentTime: \"next week\" is not a date");
	expect_invalid(ST("{\"Effect\":\"Allow\",\"Action\":\"iot:Connect\",\"Resource\":\"*\","
			  "\"Condition\":{\"DateEquals\":{\"aws:CurrentTime\":\"2021-13-01T00:00:00Z\"}}}"),
		       DD_POLICY_IAM, DD_EINVAL, "is not a date");
	expect_invalid(ST("{\"Effect\":\"Allow\",\"Action\":\"iot:Connect\",\"Resource\":\"*\","
			  "\"Condition\":{\"DateGreaterThan\":{\"aws:CurrentTime\":\"2021-01-01T25:00:00Z\"}}}"),
		       DD_POLICY_IAM, DD_EINVAL, "is not a date");
	expect_invalid(ST("{\"Effect\":\"Allow\",\"Action\":\"iot:Connect\",\"Resource\":\"*\","
			  "\"Condition\":{\"DateGreaterThan\":{\"aws:CurrentTime\":true}}}"),
		       DD_POLICY_IAM, DD_EINVAL, "is not a date");
}

static void test_policy_set_and_explain(void **state)
{
	(void)state;
	struct dd_policy *a = compile_str(ST("{\"Sid\":\"AllowAll\",\"Effect\":\"Allow\",\"Action\":\"iot:*\",\"Resource\":\"*\"}"), DD_POLICY_IOT);
	struct dd_policy *b = compile_str(ST(OKST ",{\"Sid\":\"NoSecret\",\"Effect\":\"Deny\",\"Action\":\"iot:Publish\",\"Resource\":\"" ARN "topic/secret\"}"), DD_POLICY_IOT);
	const struct dd_policy *set[3] = { a, NULL, b };
	struct dd_policy_request r = { .action = "iot:Publish", .resource = ARN "topic/secret" };
	enum dd_policy_decision d;
	struct dd_policy_explain ex;
	assert_int_equal(dd_policy_evaluate(set, 3, &r, &d, &ex), 0);
	assert_int_equal(d, DD_POLICY_EXPLICIT_DENY);
	assert_int_equal(ex.policy_index, 2);
	assert_int_equal(ex.statement_index, 1);
	assert_string_equal(ex.sid, "NoSecret");
	char line[128];
	dd_policy_explain_format(&ex, line, sizeof line);
	assert_string_equal(line, "explicitly denied by policy 2 statement 1 (Sid \"NoSecret\")");
	assert_string_equal(dd_policy_decision_name(d), "EXPLICIT_DENY");
	r.resource = ARN "topic/open";
	assert_int_equal(dd_policy_evaluate(set, 3, &r, &d, &ex), 0);
	assert_int_equal(d, DD_POLICY_ALLOW);
	assert_int_equal(ex.policy_index, 0);
	assert_string_equal(ex.sid, "AllowAll");
	r.action = "s3:GetObject";
	assert_int_equal(dd_policy_evaluate(set, 3, &r, &d, &ex), 0);
	assert_int_equal(d, DD_POLICY_IMPLICIT_DENY);
	assert_null(ex.sid);
	dd_policy_explain_format(&ex, line, sizeof line);
	assert_string_equal(line, "implicitly denied: no statement allows it");
	/* An empty set denies; bad arguments are rejected and leave outputs alone. */
	assert_int_equal(dd_policy_evaluate(NULL, 0, &r, &d, NULL), 0);
	assert_int_equal(d, DD_POLICY_IMPLICIT_DENY);
	d = DD_POLICY_ALLOW;
	r.action = NULL;
	assert_int_equal(dd_policy_evaluate(set, 3, &r, &d, NULL), DD_EINVAL);
	assert_int_equal(d, DD_POLICY_ALLOW);
	assert_int_equal(dd_policy_statement_count(b), 2);
	dd_policy_free(a);
	dd_policy_free(b);
	dd_policy_free(NULL);
	dd_policy_analyze_clear(NULL);
}

static char *read_text(const char *rel)
{
	char *path = data_path(rel);
	FILE *f = fopen(path, "rb");
	free(path);
	assert_non_null(f);
	char *buf = malloc(65536);
	assert_non_null(buf);
	size_t n = fread(buf, 1, 65535, f);
	fclose(f);
	buf[n] = '\0';
	return buf;
}

static void test_role_allows(void **state)
{
	(void)state;
	char *audit = read_text("examples/aws_managed/AWSIoTDeviceDefenderAudit.v3.json");
	char *ro = read_text("examples/aws_managed/AWSIoTConfigReadOnlyAccess.v8.json");
	struct dd_policy *p = compile_str(audit, DD_POLICY_IAM), *q = compile_str(ro, DD_POLICY_IAM);
	struct dd_policy *deny = compile_str(ST("{\"Effect\":\"Deny\",\"Action\":\"iam:Get*\",\"Resource\":\"arn:aws:iam::123456789012:role/secret*\"}"), DD_POLICY_IAM);
	const struct dd_policy *set[3] = { p, q, deny };
	bool ok = false;
	assert_int_equal(dd_policy_role_allows(set, 2, "iam:GetRole", "arn:aws:iam::123456789012:role/r", &ok), 0);
	assert_true(ok);
	assert_int_equal(dd_policy_role_allows(set, 2, "iot:ListAuditFindings", "*", &ok), 0);
	assert_true(ok);
	assert_int_equal(dd_policy_role_allows(set, 2, "iot:CreatePolicyVersion", ARN "policy/p", &ok), 0);
	assert_false(ok);
	assert_int_equal(dd_policy_role_allows(set, 3, "iam:GetRole", "arn:aws:iam::123456789012:role/secretX", &ok), 0);
	assert_false(ok);
	assert_int_equal(dd_policy_role_allows(set, 3, NULL, "*", &ok), DD_EINVAL);
	dd_policy_free(p);
	dd_policy_free(q);
	dd_policy_free(deny);
	free(audit);
	free(ro);
	/* Every preloaded managed policy compiles as IAM. */
	const char *managed[] = { "AWSIoTDataAccess.v3.json", "AWSIoTFullAccess.v2.json" };
	for (size_t i = 0; i < 2; i++) {
		char rel[128];
		snprintf(rel, sizeof rel, "examples/aws_managed/%s", managed[i]);
		char *t = read_text(rel);
		struct dd_policy *m = compile_str(t, DD_POLICY_IAM);
		dd_policy_free(m);
		free(t);
	}
}

/* ---------------------------------------------------------------- analyses ----- */

static void expect_permissive(const char *doc, const char *actions)
{
	struct dd_policy *p = compile_str(doc, DD_POLICY_IOT);
	struct dd_policy_analysis a;
	assert_int_equal(dd_policy_analyze_iot_permissive(p, &a), 0);
	if (!actions) {
		if (a.verdict != DD_POLICY_COMPLIANT)
			fail_msg("%s: unexpected %s", doc, a.reasons[0].message);
	} else {
		if (a.verdict != DD_POLICY_NONCOMPLIANT)
			fail_msg("%s: compliant, want [%s]", doc, actions);
		char buf[1024];
		join_actions(&a.reasons[0], buf, sizeof buf);
		if (strcmp(buf, actions) != 0)
			fail_msg("%s: got [%s], want [%s]", doc, buf, actions);
	}
	dd_policy_analyze_clear(&a);
	dd_policy_free(p);
}

#define ALLOW1(act, res) ST("{\"Effect\":\"Allow\",\"Action\":\"" act "\",\"Resource\":\"" res "\"}")

static void test_permissive_edges(void **state)
{
	(void)state;
	expect_permissive(ALLOW1("iot:Connect", ARN "client/?abc"), "iot:Connect");
	expect_permissive(ALLOW1("iot:Connect", ARN "client/abc*"), NULL);
	expect_permissive(ALLOW1("iot:Connect", "arn:aws:iot:us-east-1:123456789012:*"), "iot:Connect");
	expect_permissive(ALLOW1("iot:Connect", "arn:aws:iot:*"), "iot:Connect");
	expect_permissive(ALLOW1("iot:Connect", ARN "topic/*"), NULL);
	expect_permissive(ALLOW1("iot:Connect", ARN "client/${iot:Connection.Thing.ThingName}"), NULL);
	expect_permissive(ST("{\"Effect\":\"Allow\",\"Action\":\"iot:Connect\",\"Resource\":\"" ARN "client/${iot:ClientId}\","
			     "\"Condition\":{\"Bool\":{\"iot:Connection.Thing.IsAttached\":\"true\"}}}"), NULL);
	expect_permissive(ALLOW1("iot:Publish", ARN "topic/sensors/*"), NULL);
	expect_permissive(ALLOW1("iot:Publish", ARN "topic/$aws/things/Lamp*/shadow/update"), NULL);
	expect_permissive(ALLOW1("iot:Publish", ARN "topic/$aws/*"), "iot:Publish");
	expect_permissive(ALLOW1("iot:RetainPublish", ARN "topic/*"), "iot:Publish");
	expect_permissive(ALLOW1("iot:Publish", ARN "topic/$aws/things/${iot:ClientId}/shadow/update"), "iot:Publish");
	expect_permissive(ALLOW1("iot:Subscribe", ARN "topicfilter/$aws/#"), "iot:Subscribe");
	expect_permissive(ALLOW1("iot:Subscribe", ARN "topicfilter/#"), NULL); /* # does not match $aws */
	expect_permissive(ALLOW1("iot:Subscribe", ARN "topicfilter/$aws/+/+/shadow/update"), "iot:Subscribe");
	expect_permissive(ALLOW1("iot:Subscribe", ARN "topicfilter/$aws/+/x/shadow/update"), NULL); /* thing "x" only */
	expect_permissive(ALLOW1("iot:Publish", ARN "topic/$aws/things/+/shadow/update"), NULL); /* literal for Publish */
	expect_permissive(ALLOW1("iot:*Shadow", ARN "thing/*"), "iot:GetThingShadow, iot:DeleteThingShadow, iot:UpdateThingShadow");
	expect_permissive(ALLOW1("iot:Receive", "*"), NULL);
	expect_permissive(ALLOW1("greengrass:*", "*"), NULL);
	expect_permissive(ST("{\"Effect\":\"Allow\",\"NotAction\":\"iot:Publish\",\"Resource\":\"" ARN "client/*\"}"), "iot:Connect");
	expect_permissive(ST("{\"Effect\":\"Allow\",\"Action\":\"iot:Connect\",\"NotResource\":\"" ARN "client/admin\"}"), "iot:Connect");
	/* Unconditional Deny subtracts; a conditional one does not. */
	expect_permissive(ST("{\"Effect\":\"Allow\",\"Action\":\"iot:*\",\"Resource\":\"*\"},"
			     "{\"Effect\":\"Deny\",\"NotAction\":[\"iot:Publish\"],\"Resource\":\"*\"}"), "iot:Publish");
	expect_permissive(ST("{\"Effect\":\"Allow\",\"Action\":\"iot:Publish\",\"Resource\":\"" ARN "topic/$aws/things/*\"},"
			     "{\"Effect\":\"Deny\",\"Action\":\"iot:Publish\",\"Resource\":\"" ARN "topic/*\"}"), NULL);
	expect_permissive(ST("{\"Effect\":\"Allow\",\"Action\":\"iot:Publish\",\"Resource\":\"" ARN "topic/$aws/things/*\"},"
			     "{\"Effect\":\"Deny\",\"Action\":\"iot:Publish\",\"Resource\":\"" ARN "topic/*\","
			     "\"Condition\":{\"StringEquals\":{\"iot:ClientId\":\"x\"}}}"), "iot:Publish");
	/* A statement with an unsupported operator never grants, so it is not broad. */
	expect_permissive(ST("{\"Effect\":\"Allow\",\"Action\":\"iot:*\",\"Resource\":\"*\","
			     "\"Condition\":{\"BinaryEquals\":{\"x:blob\":\"QUJD\"}}}"), NULL);
	/* A Date condition is evaluated, so it is assumed satisfiable like the others: a
	 * grant limited in time is still broad while it lasts. */
	expect_permissive(ST("{\"Effect\":\"Allow\",\"Action\":\"iot:*\",\"Resource\":\"*\","
			     "\"Condition\":{\"DateLessThan\":{\"aws:CurrentTime\":\"2000-01-01T00:00:00Z\"}}}"),
			  "iot:Subscribe, iot:Connect, iot:GetThingShadow, iot:DeleteThingShadow, iot:UpdateThingShadow, "
			  "iot:Publish, iot:DescribeJobExecution, iot:GetPendingJobExecutions, "
			  "iot:StartNextPendingJobExecution, iot:UpdateJobExecution");
}

static void test_misconfig_edges(void **state)
{
	(void)state;
	struct dd_policy *p = compile_str(ST(
		"{\"Effect\":\"Deny\",\"Action\":[\"iot:Publish\",\"iot:Receive\"],\"Resource\":\"" ARN "topic/a/+/b\"},"
		"{\"Effect\":\"Allow\",\"Action\":\"iot:*\",\"Resource\":\"*\"}"), DD_POLICY_IOT);
	struct dd_policy_analysis a;
	assert_int_equal(dd_policy_analyze_iot_misconfig(p, &a), 0);
	assert_int_equal(a.nreasons, 1);
	assert_string_equal(a.reasons[0].code, "POLICY_CONTAINS_MQTT_WILDCARDS_IN_DENY_STATEMENT");
	assert_int_equal(a.reasons[0].nactions, 2);
	dd_policy_analyze_clear(&a);
	dd_policy_free(p);
	/* Glob inclusion, not overlap: "a/?/x" is included in "a/<star>", "a/<star>x" is not in "a/?x<star>". */
	p = compile_str(ST(
		"{\"Effect\":\"Allow\",\"Action\":\"iot:Subscribe\",\"Resource\":\"" ARN "topicfilter/a/*\"},"
		"{\"Effect\":\"Deny\",\"Action\":\"iot:Subscribe\",\"Resource\":\"" ARN "topicfilter/a/?/x\"},"
		"{\"Effect\":\"Allow\",\"Action\":\"iot:Receive\",\"Resource\":\"*\"}"), DD_POLICY_IOT);
	assert_int_equal(dd_policy_analyze_iot_misconfig(p, &a), 0);
	assert_non_null(dd_policy_analyze_find(&a, "TOPIC_FILTERS_INTENDED_TO_DENY_ALLOWED_USING_WILDCARDS"));
	dd_policy_analyze_clear(&a);
	dd_policy_free(p);
	p = compile_str(ST(
		"{\"Effect\":\"Allow\",\"Action\":\"iot:Subscribe\",\"Resource\":\"" ARN "topicfilter/a/?x*\"},"
		"{\"Effect\":\"Deny\",\"Action\":\"iot:Subscribe\",\"Resource\":\"" ARN "topicfilter/a/*x\"},"
		"{\"Effect\":\"Allow\",\"Action\":\"iot:Receive\",\"Resource\":\"*\"}"), DD_POLICY_IOT);
	assert_int_equal(dd_policy_analyze_iot_misconfig(p, &a), 0);
	assert_int_equal(a.verdict, DD_POLICY_COMPLIANT);
	dd_policy_free(p);
}

static void test_role_analyses_edges(void **state)
{
	(void)state;
	struct dd_policy *p = compile_str(ST("{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\"}"), DD_POLICY_IAM);
	struct dd_policy *d = compile_str(ST("{\"Effect\":\"Deny\",\"Action\":\"iot:*\",\"Resource\":\"*\"}"), DD_POLICY_IAM);
	const struct dd_policy *set[2] = { p, d };
	const char *used[] = { "s3" };
	struct dd_policy_analysis a;
	assert_int_equal(dd_policy_analyze_role_alias_permissive(set, 1, used, 1, &a), 0);
	assert_int_equal(a.verdict, DD_POLICY_NONCOMPLIANT);
	const char *want[] = { "ALLOWS_BROAD_ACCESS_TO_USED_SERVICES",
			       "ALLOWS_ACCESS_TO_SECURITY_AUDITING_SERVICES",
			       "ALLOWS_BROAD_ACCESS_TO_IOT_THING_ADMIN_READ_ACTIONS",
			       "ALLOWS_ACCESS_TO_IOT_NON_THING_ADMIN_ACTIONS",
			       "ALLOWS_ACCESS_TO_IOT_THING_ADMIN_WRITE_ACTIONS", DP };
	assert_int_equal(a.nreasons, 6);
	for (size_t i = 0; i < 6; i++)
		assert_string_equal(a.reasons[i].code, want[i]);
	assert_string_equal(a.reasons[0].actions[0], "*");
	dd_policy_analyze_clear(&a);
	/* The union with an unconditional Deny of iot:* leaves the service codes and the
	 * iotjobsdata data-plane actions that "*" still grants. */
	assert_int_equal(dd_policy_analyze_role_alias_permissive(set, 2, used, 1, &a), 0);
	assert_int_equal(a.nreasons, 3);
	assert_string_equal(a.reasons[2].code, DP);
	assert_int_equal(a.reasons[2].nactions, 4);
	assert_string_equal(a.reasons[2].actions[0], "iotjobsdata:DescribeJobExecution");
	dd_policy_analyze_clear(&a);
	assert_int_equal(dd_policy_analyze_cognito_auth(set, 2, &a), 0);
	assert_int_equal(a.verdict, DD_POLICY_COMPLIANT);
	assert_int_equal(dd_policy_analyze_cognito_unauth(set, 2, &a), 0);
	assert_int_equal(a.nreasons, 1); /* only the iotjobsdata data plane is left */
	assert_string_equal(a.reasons[0].code, DP);
	assert_int_equal(a.reasons[0].nactions, 4);
	dd_policy_analyze_clear(&a);
	/* Unused services: "*" grants every service; an empty usage list is still data. */
	assert_int_equal(dd_policy_analyze_role_alias_unused(set, 1, used, 0, &a), 0);
	assert_int_equal(a.verdict, DD_POLICY_NONCOMPLIANT);
	assert_string_equal(a.reasons[0].actions[0], "*");
	dd_policy_analyze_clear(&a);
	dd_policy_free(p);
	dd_policy_free(d);
	/* Thing admin read on a prefix is fine for authenticated roles but still admin for
	 * unauthenticated ones; the union of two policies is analysed. */
	struct dd_policy *r1 = compile_str(ALLOW1("iot:DescribeThing", ARN "thing/Lamp*"), DD_POLICY_IAM);
	struct dd_policy *r2 = compile_str(ALLOW1("iot:ListThingPrincipals", "*"), DD_POLICY_IAM);
	const struct dd_policy *rs[2] = { r1, r2 };
	assert_int_equal(dd_policy_analyze_cognito_auth(rs, 2, &a), 0);
	assert_int_equal(a.nreasons, 1);
	assert_int_equal(a.reasons[0].nactions, 1);
	assert_string_equal(a.reasons[0].actions[0], "iot:ListThingPrincipals");
	dd_policy_analyze_clear(&a);
	assert_int_equal(dd_policy_analyze_cognito_unauth(rs, 2, &a), 0);
	assert_int_equal(a.reasons[0].nactions, 2);
	dd_policy_analyze_clear(&a);
	assert_int_equal(dd_policy_analyze_cognito_auth(NULL, 1, &a), DD_EINVAL);
	dd_policy_free(r1);
	dd_policy_free(r2);
}

/* ---------------------------------------------------------------- main --------- */

int main(void)
{
	enum { NM = sizeof mcases / sizeof mcases[0], NA = sizeof acases / sizeof acases[0] };
	struct CMUnitTest tests[NM + NA + 16];
	size_t n = 0;
	for (size_t i = 0; i < NM; i++) {
		struct CMUnitTest t = { mcases[i].file, test_manifest_case, NULL, NULL,
					(void *)&mcases[i] };
		tests[n++] = t;
	}
	for (size_t i = 0; i < NA; i++) {
		struct CMUnitTest t = { acases[i].id, test_authorizer_case, NULL, NULL,
					(void *)&acases[i] };
		tests[n++] = t;
	}
	const struct CMUnitTest rest[] = {
		cmocka_unit_test(test_manifest_table_agrees),
		cmocka_unit_test(test_manifest_note_security_auditing),
		cmocka_unit_test(test_authorizer_table_complete),
		cmocka_unit_test(test_validate_messages),
		cmocka_unit_test(test_count_nonws),
		cmocka_unit_test(test_variables),
		cmocka_unit_test(test_matching),
		cmocka_unit_test(test_matcher_differential),
		cmocka_unit_test(test_conditions),
		cmocka_unit_test(test_date_conditions),
		cmocka_unit_test(test_policy_set_and_explain),
		cmocka_unit_test(test_role_allows),
		cmocka_unit_test(test_permissive_edges),
		cmocka_unit_test(test_misconfig_edges),
		cmocka_unit_test(test_role_analyses_edges),
	};
	for (size_t i = 0; i < sizeof rest / sizeof rest[0]; i++)
		tests[n++] = rest[i];
	return _cmocka_run_group_tests("policy", tests, n, NULL, NULL);
}

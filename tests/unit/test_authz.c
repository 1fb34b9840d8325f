/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the authorization table (src/server/dd_authz.c): every operation of every
 * embedded service model has exactly one entry whose action is "<service>:<operation>",
 * every entry names a served operation, every entry that passes a role names an input
 * member of its operation; and the resource ARN templates expand as AWS's service
 * authorization reference writes them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "server/dd_authz.h"
#include "server/dd_model.h"

static json_t *model_json(const struct dd_model_source *s)
{
	json_error_t je;
	json_t *m = json_loadb(s->json, s->len, 0, &je);
	assert_non_null(m);
	return m;
}

static void test_every_operation_has_an_entry(void **state)
{
	(void)state;
	size_t nops = 0;
	for (const struct dd_model_source *s = dd_model_sources; s->service; s++) {
		json_t *m = model_json(s);
		const char *op;
		json_t *v;
		json_object_foreach(json_object_get(m, "operations"), op, v) {
			const struct dd_authz_entry *e = dd_authz_find(s->service, op);
			if (!e)
				fail_msg("no authorization entry for %s %s", s->service, op);
			char want[200];
			/* the iot data plane's actions are in the iot namespace (iot:DeleteConnection) */
			snprintf(want, sizeof want, "%s:%s", strcmp(s->service, "iotdata") ? s->service : "iot", op);
			assert_string_equal(e->action, want);
			assert_true(strcmp(e->resource, "*") == 0 || e->resource[0] == '{');
			nops++;
		}
		json_decref(m);
	}
	assert_true(nops > 150);
}

static void test_every_entry_is_served(void **state)
{
	(void)state;
	for (const struct dd_authz_entry *e = dd_authz_table; e->service; e++) {
		const struct dd_model_source *s = dd_model_sources;
		while (s->service && strcmp(s->service, e->service))
			s++;
		if (!s->service)
			fail_msg("entry for unknown service %s", e->service);
		json_t *m = model_json(s);
		json_t *op = json_object_get(json_object_get(m, "operations"), e->op);
		if (!op)
			fail_msg("entry for %s %s, which the model does not have", e->service, e->op);
		assert_ptr_equal(dd_authz_find(e->service, e->op), e); /* no duplicate */
		if (e->passrole) {
			/* the first path segment is an input member */
			const char *shape = json_string_value(json_object_get(json_object_get(op, "input"), "shape"));
			json_t *members = json_object_get(json_object_get(json_object_get(m, "shapes"), shape), "members");
			char first[64];
			snprintf(first, sizeof first, "%.*s", (int)strcspn(e->passrole, ". "), e->passrole);
			if (!json_object_get(members, first))
				fail_msg("%s %s passes a role from %s, which is not an input member", e->service, e->op, first);
		}
		json_decref(m);
	}
}

static void expect(const char *service, const char *op, json_t *in, const char *user, const char *want)
{
	const struct dd_authz_entry *e = dd_authz_find(service, op);
	assert_non_null(e);
	char out[512];
	assert_int_equal(dd_authz_resource(e, "123456789012", "eu-west-1", user, in, out, sizeof out), 0);
	assert_string_equal(out, want);
}

static void test_resources(void **state)
{
	(void)state;
	json_t *in = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "thingName", "t1", "scheduledAuditName", "weekly",
			       "RoleName", "R", "TopicArn", "arn:aws:sns:eu-west-1:123456789012:top", "IdentityPoolId",
			       "eu-west-1:abc", "actionName", "act");
	json_t *empty = json_object();
	expect("iot", "DescribeThing", in, NULL, "arn:aws:iot:eu-west-1:123456789012:thing/t1");
	expect("iot", "CreateScheduledAudit", in, NULL, "arn:aws:iot:eu-west-1:123456789012:scheduledaudit/weekly");
	expect("iot", "UpdateAccountAuditConfiguration", in, NULL, "*");
	expect("iot", "StartOnDemandAuditTask", in, NULL, "*");
	expect("iot", "ListAuditFindings", in, NULL, "*");
	expect("iot", "CreateMitigationAction", in, NULL, "arn:aws:iot:eu-west-1:123456789012:mitigationaction/act");
	expect("iam", "CreateRole", in, NULL, "arn:aws:iam::123456789012:role/R");
	expect("sns", "Publish", in, NULL, "arn:aws:sns:eu-west-1:123456789012:top");
	expect("cognito-identity", "DescribeIdentityPool", in, NULL,
	       "arn:aws:cognito-identity:eu-west-1:123456789012:identitypool/eu-west-1:abc");
	/* an absent member is "*"; an absent IAM UserName is the caller */
	expect("iot", "DescribeThing", empty, NULL, "arn:aws:iot:eu-west-1:123456789012:thing/*");
	expect("iam", "ListAccessKeys", empty, "me", "arn:aws:iam::123456789012:user/me");
	/* too small a buffer */
	char small[8];
	assert_int_equal(dd_authz_resource(dd_authz_find("iot", "DescribeThing"), "123456789012", "eu-west-1", NULL, in,
					   small, sizeof small), DD_ELIMIT);
	/* the roles that need iam:PassRole */
	assert_string_equal(dd_authz_find("iot", "UpdateAccountAuditConfiguration")->passrole,
			    "roleArn auditNotificationTargetConfigurations.*.roleArn");
	assert_non_null(dd_authz_find("iot", "CreateMitigationAction")->passrole);
	assert_non_null(dd_authz_find("iot", "UpdateMitigationAction")->passrole);
	assert_non_null(dd_authz_find("iot", "CreateRoleAlias")->passrole);
	assert_non_null(dd_authz_find("iot", "SetV2LoggingOptions")->passrole);
	assert_null(dd_authz_find("iot", "DescribeThing")->passrole);
	json_decref(in);
	json_decref(empty);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_operation_has_an_entry),
		cmocka_unit_test(test_every_entry_is_served),
		cmocka_unit_test(test_resources),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

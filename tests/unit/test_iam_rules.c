/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the IAM rules of src/core/iam on a fresh store: role creation (unique
 * name whatever its case) and lookup by ARN (the path must match, another account's ARN
 * is not found), inline policies (malformed documents, the aggregate size limit of a
 * role), attachments (AWS managed and customer policies, unknown ARNs, the quota of ten,
 * re-attaching), the documents that apply to a role (inline first, then attached, each
 * in order), role deletion conflicts, and customer managed policy versions (the quota of
 * five, the default version, deletion conflicts). Every refused write leaves the store
 * as it was.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/iam/dd_iam_customer.h"
#include "core/iam/dd_iam_policy.h"
#include "core/iam/dd_iam_role.h"
#include "dd/iam.h"
#include "dd/store.h"

#define A1 "111111111111"
#define A2 "222222222222"
#define TRUST "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"Service\":\"iot.amazonaws.com\"},\"Action\":\"sts:AssumeRole\"}]}"
#define DOC(a) "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"" a "\",\"Resource\":\"*\"}]}"
#define AUDIT_ARN "arn:aws:iam::aws:policy/service-role/AWSIoTDeviceDefenderAudit"

struct fx {
	char dir[64];
	struct dd_store *s;
	struct dd_db *db;
	char msg[1400];
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	assert_non_null(f);
	snprintf(f->dir, sizeof f->dir, "/tmp/dd_iam_rules_XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	assert_int_equal(dd_store_open(f->dir, &f->s), 0);
	f->db = dd_store_db(f->s);
	assert_non_null(f->db);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	dd_store_close(f->s);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static int create_role(struct fx *f, const char *account, const char *name, const char *path)
{
	struct dd_store_iam_role r = {
		.name = (char *)name, .role_id = "AROAEXAMPLE", .path = (char *)path, .trust_policy = TRUST,
		.max_session = 3600, .created_ms = 1,
	};
	return dd_iam_role_create(f->db, account, &r, f->msg, sizeof f->msg);
}

static int create_policy(struct fx *f, const char *name, const char *doc)
{
	char arn[256];
	snprintf(arn, sizeof arn, "arn:aws:iam::" A1 ":policy/%s", name);
	struct dd_store_iam_policy p = { .name = (char *)name, .arn = arn, .policy_id = "ANPAEXAMPLE", .path = "/",
					 .created_ms = 1 };
	return dd_iam_customer_create(f->db, A1, &p, doc, f->msg, sizeof f->msg);
}

static void test_role_rules(void **state)
{
	struct fx *f = *state;
	assert_int_equal(create_role(f, A1, "Auditor", "/svc/"), 0);
	assert_int_equal(create_role(f, A1, "AUDITOR", "/"), DD_EEXIST);
	assert_string_equal(f->msg, "Role with name AUDITOR already exists.");
	assert_int_equal(create_role(f, A2, "Auditor", "/"), 0);

	struct dd_iam_role r;
	assert_int_equal(dd_iam_role_get(f->db, A1, "arn:aws:iam::" A1 ":role/svc/Auditor", &r), 0);
	assert_string_equal(r.name, "Auditor");
	assert_string_equal(r.arn, "arn:aws:iam::" A1 ":role/svc/Auditor");
	assert_null(r.description);
	dd_iam_role_clear(&r);
	assert_int_equal(dd_iam_role_get(f->db, A1, "arn:aws:iam::" A1 ":role/Auditor", &r), DD_ENOTFOUND);
	assert_int_equal(dd_iam_role_get(f->db, A1, "arn:aws:iam::" A2 ":role/svc/Auditor", &r), DD_ENOTFOUND);
	assert_int_equal(dd_iam_role_get(f->db, A1, "auditor", &r), 0);
	dd_iam_role_clear(&r);
	bool trusts = false;
	assert_int_equal(dd_iam_role_trusts_service(f->db, A1, "Auditor", "iot.amazonaws.com", &trusts), 0);
	assert_true(trusts);
	assert_int_equal(dd_iam_role_trusts_service(f->db, A1, "Auditor", "ec2.amazonaws.com", &trusts), 0);
	assert_false(trusts);

	/* inline policies: a malformed one, the aggregate size of a role's */
	assert_int_equal(dd_iam_policy_inline_put(f->db, DD_STORE_IAM_ROLE, A1, "auditor", "P", "{", f->msg, sizeof f->msg),
			 DD_EINVAL);
	assert_int_equal(dd_iam_policy_inline_put(f->db, DD_STORE_IAM_ROLE, A1, "nobody", "P", DOC("iot:*"), f->msg,
						  sizeof f->msg), DD_ENOTFOUND);
	assert_string_equal(f->msg, "The role with name nobody cannot be found.");
	assert_int_equal(dd_iam_policy_inline_put(f->db, DD_STORE_IAM_ROLE, A1, "auditor", "Zed", DOC("iot:Get*"), f->msg,
						  sizeof f->msg), 0);
	size_t big = 9000;
	char *doc = malloc(big + 200);
	assert_non_null(doc);
	snprintf(doc, big + 200, "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"iot:%0*d\",\"Resource\":\"*\"}]}",
		 (int)big, 0);
	assert_int_equal(dd_iam_policy_inline_put(f->db, DD_STORE_IAM_ROLE, A1, "Auditor", "Big", doc, f->msg, sizeof f->msg), 0);
	assert_int_equal(dd_iam_policy_inline_put(f->db, DD_STORE_IAM_ROLE, A1, "Auditor", "Big2", doc, f->msg, sizeof f->msg),
			 DD_ELIMIT);
	assert_string_equal(f->msg, "Maximum policy size of 10240 bytes exceeded for role Auditor");
	/* replacing the big one by itself stays within the limit */
	assert_int_equal(dd_iam_policy_inline_put(f->db, DD_STORE_IAM_ROLE, A1, "Auditor", "BIG", doc, f->msg, sizeof f->msg), 0);
	free(doc);
	char canon[128], pcanon[128];
	char *got = NULL;
	assert_int_equal(dd_iam_policy_inline_get(f->db, DD_STORE_IAM_ROLE, A1, "AUDITOR", "zed", canon, pcanon, &got,
						  f->msg, sizeof f->msg), 0);
	assert_string_equal(canon, "Auditor");
	assert_string_equal(pcanon, "Zed");
	assert_string_equal(got, DOC("iot:Get*"));
	free(got);
	assert_int_equal(dd_iam_policy_inline_get(f->db, DD_STORE_IAM_ROLE, A1, "Auditor", "none", canon, pcanon, &got,
						  f->msg, sizeof f->msg), DD_ENOTFOUND);
	assert_string_equal(f->msg, "The role policy with name none cannot be found.");
	assert_int_equal(dd_iam_policy_inline_delete(f->db, DD_STORE_IAM_ROLE, A1, "Auditor", "Big", f->msg, sizeof f->msg), 0);
	assert_int_equal(dd_iam_policy_inline_delete(f->db, DD_STORE_IAM_ROLE, A1, "Auditor", "Big", f->msg, sizeof f->msg),
			 DD_ENOTFOUND);

	/* attachments */
	assert_int_equal(create_policy(f, "Cust", DOC("iot:Describe*")), 0);
	assert_int_equal(dd_iam_policy_attach(f->db, DD_STORE_IAM_ROLE, A1, "Auditor", "arn:aws:iam::" A1 ":policy/None",
					      f->msg, sizeof f->msg), DD_ENOTFOUND);
	assert_string_equal(f->msg, "Policy arn:aws:iam::" A1 ":policy/None does not exist or is not attachable.");
	assert_int_equal(dd_iam_policy_attach(f->db, DD_STORE_IAM_ROLE, A2, "Auditor", "arn:aws:iam::" A1 ":policy/Cust",
					      f->msg, sizeof f->msg), DD_ENOTFOUND);
	assert_int_equal(dd_iam_policy_attach(f->db, DD_STORE_IAM_ROLE, A1, "Auditor", AUDIT_ARN, f->msg, sizeof f->msg), 0);
	assert_int_equal(dd_iam_policy_attach(f->db, DD_STORE_IAM_ROLE, A1, "Auditor", "arn:aws:iam::" A1 ":policy/Cust",
					      f->msg, sizeof f->msg), 0);

	struct dd_iam_policy_docs d = { 0 };
	assert_int_equal(dd_iam_role_policies(f->db, A1, "arn:aws:iam::" A1 ":role/svc/Auditor", &d), 0);
	assert_int_equal(d.n, 3);
	assert_string_equal(d.items[0].name, "Zed");
	assert_null(d.items[0].arn);
	assert_string_equal(d.items[1].name, "Cust"); /* ARN order: an account's digits sort before "aws" */
	assert_string_equal(d.items[1].document, DOC("iot:Describe*"));
	assert_string_equal(d.items[2].arn, AUDIT_ARN);
	assert_string_equal(d.items[2].name, "AWSIoTDeviceDefenderAudit");
	dd_iam_policy_docs_clear(&d);

	/* the quota of ten attached policies; re-attaching one is not an eleventh */
	for (int i = 0; i < 8; i++) {
		char name[16], arn[128];
		snprintf(name, sizeof name, "Q%d", i);
		snprintf(arn, sizeof arn, "arn:aws:iam::" A1 ":policy/%s", name);
		assert_int_equal(create_policy(f, name, DOC("iot:List*")), 0);
		assert_int_equal(dd_iam_policy_attach(f->db, DD_STORE_IAM_ROLE, A1, "Auditor", arn, f->msg, sizeof f->msg), 0);
	}
	assert_int_equal(create_policy(f, "Q9", DOC("iot:List*")), 0);
	assert_int_equal(dd_iam_policy_attach(f->db, DD_STORE_IAM_ROLE, A1, "Auditor", "arn:aws:iam::" A1 ":policy/Q9",
					      f->msg, sizeof f->msg), DD_ELIMIT);
	assert_string_equal(f->msg, "Cannot exceed quota for PoliciesPerRole: 10");
	assert_int_equal(dd_iam_policy_attach(f->db, DD_STORE_IAM_ROLE, A1, "Auditor", AUDIT_ARN, f->msg, sizeof f->msg), 0);

	/* a role with policies is not deleted; a customer policy attached is not either */
	assert_int_equal(dd_iam_role_delete(f->db, A1, "Auditor", f->msg, sizeof f->msg), DD_ECONFLICT);
	assert_string_equal(f->msg, "Cannot delete entity, must detach all policies first.");
	assert_int_equal(dd_iam_customer_delete(f->db, A1, "arn:aws:iam::" A1 ":policy/Cust", f->msg, sizeof f->msg),
			 DD_ECONFLICT);
	assert_int_equal(dd_iam_policy_detach(f->db, DD_STORE_IAM_ROLE, A1, "Auditor", AUDIT_ARN, f->msg, sizeof f->msg), 0);
	assert_int_equal(dd_iam_policy_detach(f->db, DD_STORE_IAM_ROLE, A1, "Auditor", AUDIT_ARN, f->msg, sizeof f->msg),
			 DD_ENOTFOUND);
	assert_string_equal(f->msg, "Policy " AUDIT_ARN " was not found.");
	assert_int_equal(dd_iam_policy_detach(f->db, DD_STORE_IAM_ROLE, A1, "Auditor", "arn:aws:iam::" A1 ":policy/Cust",
					      f->msg, sizeof f->msg), 0);
	for (int i = 0; i < 8; i++) {
		char arn[128];
		snprintf(arn, sizeof arn, "arn:aws:iam::" A1 ":policy/Q%d", i);
		assert_int_equal(dd_iam_policy_detach(f->db, DD_STORE_IAM_ROLE, A1, "Auditor", arn, f->msg, sizeof f->msg), 0);
	}
	assert_int_equal(dd_iam_role_delete(f->db, A1, "Auditor", f->msg, sizeof f->msg), DD_ECONFLICT);
	assert_string_equal(f->msg, "Cannot delete entity, must delete policies first.");
	assert_int_equal(dd_iam_policy_inline_delete(f->db, DD_STORE_IAM_ROLE, A1, "Auditor", "Zed", f->msg, sizeof f->msg), 0);
	assert_int_equal(dd_iam_role_delete(f->db, A1, "auditor", f->msg, sizeof f->msg), 0);
	assert_int_equal(dd_iam_role_delete(f->db, A1, "auditor", f->msg, sizeof f->msg), DD_ENOTFOUND);
	assert_int_equal(dd_iam_role_get(f->db, A2, "Auditor", &r), 0);
	dd_iam_role_clear(&r);
	assert_false(dd_db_in_tx(f->db));
}

static void test_customer_versions(void **state)
{
	struct fx *f = *state;
	const char *arn = "arn:aws:iam::" A1 ":policy/Ops";
	assert_int_equal(create_policy(f, "Ops", DOC("iot:A")), 0);
	assert_int_equal(create_policy(f, "OPS", DOC("iot:A")), DD_EEXIST);
	int64_t v = 0;
	assert_int_equal(dd_iam_customer_version_add(f->db, A1, AUDIT_ARN, DOC("iot:B"), 2, true, &v, f->msg, sizeof f->msg),
			 DD_EINVAL);
	assert_int_equal(dd_iam_customer_version_add(f->db, A1, "arn:aws:iam::" A1 ":policy/None", DOC("iot:B"), 2, true, &v,
						     f->msg, sizeof f->msg), DD_ENOTFOUND);
	for (int i = 2; i <= 5; i++) {
		assert_int_equal(dd_iam_customer_version_add(f->db, A1, arn, DOC("iot:B"), i, i == 3, &v, f->msg, sizeof f->msg), 0);
		assert_int_equal(v, i);
	}
	assert_int_equal(dd_iam_customer_version_add(f->db, A1, arn, DOC("iot:C"), 6, false, &v, f->msg, sizeof f->msg),
			 DD_ELIMIT);
	assert_int_equal(dd_iam_customer_version_delete(f->db, A1, arn, "v3", f->msg, sizeof f->msg), DD_ECONFLICT);
	assert_string_equal(f->msg, "Cannot delete the default version of a policy.");
	assert_int_equal(dd_iam_customer_version_delete(f->db, A1, arn, "v9", f->msg, sizeof f->msg), DD_ENOTFOUND);
	assert_int_equal(dd_iam_customer_version_delete(f->db, A1, arn, "bad", f->msg, sizeof f->msg), DD_ENOTFOUND);
	assert_int_equal(dd_iam_customer_delete(f->db, A1, arn, f->msg, sizeof f->msg), DD_ECONFLICT);
	const char *vs[] = { "v1", "v2", "v4", "v5" };
	for (size_t i = 0; i < 4; i++)
		assert_int_equal(dd_iam_customer_version_delete(f->db, A1, arn, vs[i], f->msg, sizeof f->msg), 0);
	assert_int_equal(dd_iam_customer_version_add(f->db, A1, arn, DOC("iot:D"), 7, false, &v, f->msg, sizeof f->msg), 0);
	assert_int_equal(v, 6);
	assert_int_equal(dd_iam_customer_version_delete(f->db, A1, arn, "v6", f->msg, sizeof f->msg), 0);
	assert_int_equal(dd_iam_customer_delete(f->db, A1, AUDIT_ARN, f->msg, sizeof f->msg), DD_EINVAL);
	assert_int_equal(dd_iam_customer_delete(f->db, A1, arn, f->msg, sizeof f->msg), 0);
	assert_int_equal(dd_iam_customer_delete(f->db, A1, arn, f->msg, sizeof f->msg), DD_ENOTFOUND);
	assert_int_equal(dd_iam_customer_version_num("v12"), 12);
	assert_int_equal(dd_iam_customer_version_num("12"), -1);
	assert_int_equal(dd_iam_customer_version_num(NULL), -1);
	assert_false(dd_db_in_tx(f->db));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_role_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(test_customer_versions, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

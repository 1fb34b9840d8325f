/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the IAM store (store/dd_store_iam.h) on a fresh store in a temporary
 * directory: roles (insert, case-insensitive lookup returning the stored spelling,
 * duplicates, listing with a start key, a path prefix and a limit, trust policy and tag
 * updates, delete), inline policies and attachments of the principal kinds, customer
 * managed policies and their versions (numbers never reused, the default document), and
 * account isolation; not-found answers for every lookup and write of a missing row.
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

#include "dd/store.h"
#include "store/dd_store_iam.h"

#include "dd_test_store.h"

#define A1 "111111111111"
#define A2 "222222222222"

static void add_role(struct dd_db *db, const char *account, const char *name, const char *path)
{
	struct dd_store_iam_role r = {
		.name = (char *)name, .role_id = "AROAEXAMPLE", .path = (char *)path,
		.trust_policy = "{\"Version\":\"2012-10-17\"}", .max_session = 3600, .created_ms = 1000,
	};
	assert_int_equal(dd_store_iam_role_insert(db, account, &r), 0);
}

struct names {
	char v[8][128];
	int n;
};

static int role_name_cb(const struct dd_store_iam_role *r, void *ud)
{
	struct names *n = ud;
	snprintf(n->v[n->n++], 128, "%s", r->name);
	return 0;
}

static void test_roles(void **state)
{
	struct dd_test_store *f = *state;
	struct dd_store_iam_role r = {
		.name = "Audit", .role_id = "AROA1", .path = "/svc/", .trust_policy = "{}", .description = "d",
		.boundary = "arn:aws:iam::aws:policy/X", .tags = "[{\"Key\":\"k\",\"Value\":\"v\"}]",
		.max_session = 7200, .created_ms = 42,
	};
	assert_int_equal(dd_store_iam_role_insert(f->db, A1, &r), 0);
	assert_int_equal(dd_store_iam_role_insert(f->db, A1, &(struct dd_store_iam_role){ .name = "AUDIT",
		.role_id = "x", .path = "/", .trust_policy = "{}" }), DD_EEXIST);
	add_role(f->db, A1, "beta", "/");
	add_role(f->db, A1, "Gamma", "/svc/x/");

	struct dd_store_iam_role got;
	assert_int_equal(dd_store_iam_role_get(f->db, A1, "audit", &got), 0);
	assert_string_equal(got.name, "Audit");
	assert_string_equal(got.role_id, "AROA1");
	assert_string_equal(got.path, "/svc/");
	assert_string_equal(got.description, "d");
	assert_string_equal(got.boundary, "arn:aws:iam::aws:policy/X");
	assert_string_equal(got.tags, "[{\"Key\":\"k\",\"Value\":\"v\"}]");
	assert_int_equal(got.max_session, 7200);
	assert_int_equal(got.created_ms, 42);
	dd_store_iam_role_clear(&got);
	assert_int_equal(dd_store_iam_role_get(f->db, A1, "beta", &got), 0);
	assert_null(got.description);
	assert_null(got.boundary);
	assert_string_equal(got.tags, "[]");
	dd_store_iam_role_clear(&got);
	assert_int_equal(dd_store_iam_role_get(f->db, A1, "nope", &got), DD_ENOTFOUND);
	assert_int_equal(dd_store_iam_role_get(f->db, A2, "Audit", &got), DD_ENOTFOUND);

	int64_t n = -1;
	assert_int_equal(dd_store_iam_role_count(f->db, A1, &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(dd_store_iam_role_count(f->db, A2, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(dd_store_iam_role_boundary_count(f->db, A1, "arn:aws:iam::aws:policy/X", &n), 0);
	assert_int_equal(n, 1);

	struct names ns = { 0 };
	assert_int_equal(dd_store_iam_role_list(f->db, A1, NULL, NULL, 0, role_name_cb, &ns), 0);
	assert_int_equal(ns.n, 3);
	assert_string_equal(ns.v[0], "Audit");
	assert_string_equal(ns.v[1], "beta");
	assert_string_equal(ns.v[2], "Gamma");
	memset(&ns, 0, sizeof ns);
	assert_int_equal(dd_store_iam_role_list(f->db, A1, "audit", NULL, 1, role_name_cb, &ns), 0);
	assert_int_equal(ns.n, 1);
	assert_string_equal(ns.v[0], "beta");
	memset(&ns, 0, sizeof ns);
	assert_int_equal(dd_store_iam_role_list(f->db, A1, "", "/svc/", 0, role_name_cb, &ns), 0);
	assert_int_equal(ns.n, 2);
	assert_string_equal(ns.v[1], "Gamma");

	assert_int_equal(dd_store_iam_role_set_trust(f->db, A1, "AUDIT", "{\"t\":1}"), 0);
	assert_int_equal(dd_store_iam_role_set_tags(f->db, A1, "audit", NULL), 0);
	assert_int_equal(dd_store_iam_role_get(f->db, A1, "Audit", &got), 0);
	assert_string_equal(got.trust_policy, "{\"t\":1}");
	assert_string_equal(got.tags, "[]");
	dd_store_iam_role_clear(&got);
	assert_int_equal(dd_store_iam_role_set_trust(f->db, A1, "nope", "{}"), DD_ENOTFOUND);
	assert_int_equal(dd_store_iam_role_set_tags(f->db, A2, "Audit", "[]"), DD_ENOTFOUND);

	assert_int_equal(dd_store_iam_role_delete(f->db, A2, "Audit"), DD_ENOTFOUND);
	assert_int_equal(dd_store_iam_role_delete(f->db, A1, "audit"), 0);
	assert_int_equal(dd_store_iam_role_delete(f->db, A1, "audit"), DD_ENOTFOUND);
	assert_int_equal(dd_store_iam_role_count(f->db, A1, &n), 0);
	assert_int_equal(n, 2);
}

struct docs {
	char names[8][128];
	char docs[8][128];
	int n;
};

static int inline_cb(const char *name, const char *document, void *ud)
{
	struct docs *d = ud;
	snprintf(d->names[d->n], 128, "%s", name);
	snprintf(d->docs[d->n++], 128, "%s", document);
	return 0;
}

static int arn_cb(const char *arn, void *ud)
{
	struct docs *d = ud;
	snprintf(d->names[d->n++], 128, "%s", arn);
	return 0;
}

static int stop_cb(const char *arn, void *ud)
{
	(void)arn;
	(void)ud;
	return 7;
}

static void test_principal_policies(void **state)
{
	struct dd_test_store *f = *state;
	add_role(f->db, A1, "Worker", "/");
	char canon[128];
	assert_int_equal(dd_store_iam_principal_name(f->db, DD_STORE_IAM_ROLE, A1, "WORKER", canon), 0);
	assert_string_equal(canon, "Worker");
	assert_int_equal(dd_store_iam_principal_name(f->db, DD_STORE_IAM_ROLE, A2, "Worker", canon), DD_ENOTFOUND);
	assert_int_equal(dd_store_iam_principal_name(f->db, DD_STORE_IAM_USER, A1, "Worker", canon), DD_ENOTFOUND);
	assert_int_equal(dd_store_iam_principal_name(f->db, DD_STORE_IAM_GROUP, A1, "Worker", canon), DD_ENOTFOUND);

	/* inline: put, replace (same name in another case), get, list, count, delete */
	assert_int_equal(dd_store_iam_inline_put(f->db, DD_STORE_IAM_ROLE, A1, "Worker", "Pol", "{\"a\":1}"), 0);
	assert_int_equal(dd_store_iam_inline_put(f->db, DD_STORE_IAM_ROLE, A1, "Worker", "Aaa", "{\"b\":2}"), 0);
	assert_int_equal(dd_store_iam_inline_put(f->db, DD_STORE_IAM_ROLE, A1, "Worker", "POL", "{\"a\":3}"), 0);
	char pname[128];
	char *doc = NULL;
	assert_int_equal(dd_store_iam_inline_get(f->db, DD_STORE_IAM_ROLE, A1, "Worker", "pol", pname, &doc), 0);
	assert_string_equal(pname, "Pol");
	assert_string_equal(doc, "{\"a\":3}");
	free(doc);
	assert_int_equal(dd_store_iam_inline_get(f->db, DD_STORE_IAM_ROLE, A1, "Worker", "none", pname, &doc), DD_ENOTFOUND);
	assert_int_equal(dd_store_iam_inline_get(f->db, DD_STORE_IAM_ROLE, A2, "Worker", "Pol", pname, &doc), DD_ENOTFOUND);
	int64_t n = -1;
	assert_int_equal(dd_store_iam_inline_count(f->db, DD_STORE_IAM_ROLE, A1, "worker", &n), 0);
	assert_int_equal(n, 2);
	struct docs d = { 0 };
	assert_int_equal(dd_store_iam_inline_list(f->db, DD_STORE_IAM_ROLE, A1, "Worker", NULL, 0, inline_cb, &d), 0);
	assert_int_equal(d.n, 2);
	assert_string_equal(d.names[0], "Aaa");
	assert_string_equal(d.docs[1], "{\"a\":3}");
	memset(&d, 0, sizeof d);
	assert_int_equal(dd_store_iam_inline_list(f->db, DD_STORE_IAM_ROLE, A1, "Worker", "Aaa", 5, inline_cb, &d), 0);
	assert_int_equal(d.n, 1);
	assert_string_equal(d.names[0], "Pol");
	/* the kinds are separate */
	assert_int_equal(dd_store_iam_inline_put(f->db, DD_STORE_IAM_USER, A1, "Worker", "U", "{}"), 0);
	assert_int_equal(dd_store_iam_inline_count(f->db, DD_STORE_IAM_USER, A1, "Worker", &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(dd_store_iam_inline_count(f->db, DD_STORE_IAM_GROUP, A1, "Worker", &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(dd_store_iam_inline_delete(f->db, DD_STORE_IAM_ROLE, A1, "Worker", "aaa"), 0);
	assert_int_equal(dd_store_iam_inline_delete(f->db, DD_STORE_IAM_ROLE, A1, "Worker", "aaa"), DD_ENOTFOUND);
	assert_int_equal(dd_store_iam_inline_delete(f->db, DD_STORE_IAM_GROUP, A1, "Worker", "Pol"), DD_ENOTFOUND);

	/* attachments */
	const char *p1 = "arn:aws:iam::aws:policy/service-role/B", *p2 = "arn:aws:iam::" A1 ":policy/A";
	assert_int_equal(dd_store_iam_attach(f->db, DD_STORE_IAM_ROLE, A1, "Worker", p1), 0);
	assert_int_equal(dd_store_iam_attach(f->db, DD_STORE_IAM_ROLE, A1, "Worker", p1), 0); /* again: no error */
	assert_int_equal(dd_store_iam_attach(f->db, DD_STORE_IAM_ROLE, A1, "Worker", p2), 0);
	assert_int_equal(dd_store_iam_attach(f->db, DD_STORE_IAM_GROUP, A1, "Team", p1), 0);
	assert_int_equal(dd_store_iam_attached_count(f->db, DD_STORE_IAM_ROLE, A1, "Worker", NULL, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(dd_store_iam_attached_count(f->db, DD_STORE_IAM_ROLE, A1, "Worker", p1, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(dd_store_iam_attachment_count(f->db, A1, p1, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(dd_store_iam_attachment_count(f->db, A2, p1, &n), 0);
	assert_int_equal(n, 0);
	memset(&d, 0, sizeof d);
	assert_int_equal(dd_store_iam_attached_list(f->db, DD_STORE_IAM_ROLE, A1, "worker", NULL, 0, arn_cb, &d), 0);
	assert_int_equal(d.n, 2);
	assert_string_equal(d.names[0], p2);
	assert_string_equal(d.names[1], p1);
	memset(&d, 0, sizeof d);
	assert_int_equal(dd_store_iam_attached_list(f->db, DD_STORE_IAM_ROLE, A1, "Worker", p2, 0, arn_cb, &d), 0);
	assert_int_equal(d.n, 1);
	assert_int_equal(dd_store_iam_attached_list(f->db, DD_STORE_IAM_ROLE, A1, "Worker", NULL, 0, stop_cb, NULL), 7);
	assert_int_equal(dd_store_iam_detach(f->db, DD_STORE_IAM_ROLE, A1, "Worker", p1), 0);
	assert_int_equal(dd_store_iam_detach(f->db, DD_STORE_IAM_ROLE, A1, "Worker", p1), DD_ENOTFOUND);
	assert_int_equal(dd_store_iam_detach(f->db, DD_STORE_IAM_USER, A1, "Worker", p2), DD_ENOTFOUND);
}

static int version_cb(int64_t version, int64_t created_ms, bool is_default, void *ud)
{
	struct docs *d = ud;
	snprintf(d->names[d->n++], 128, "v%lld@%lld%s", (long long)version, (long long)created_ms, is_default ? "*" : "");
	return 0;
}

static int policy_cb(const struct dd_store_iam_policy *p, void *ud)
{
	struct docs *d = ud;
	snprintf(d->names[d->n++], 128, "%s v%lld", p->name, (long long)p->default_version);
	return 0;
}

static void test_policies(void **state)
{
	struct dd_test_store *f = *state;
	const char *arn = "arn:aws:iam::" A1 ":policy/team/Ops";
	struct dd_store_iam_policy p = {
		.name = "Ops", .arn = (char *)arn, .policy_id = "ANPA1", .path = "/team/", .description = "ops",
		.created_ms = 10,
	};
	assert_int_equal(dd_store_iam_policy_insert(f->db, A1, &p, "{\"v\":1}"), 0);
	struct dd_store_iam_policy dup = p;
	dup.name = "OPS";
	assert_int_equal(dd_store_iam_policy_insert(f->db, A1, &dup, "{}"), DD_EEXIST);
	struct dd_store_iam_policy other = { .name = "Ops", .arn = "arn:aws:iam::" A2 ":policy/Ops", .policy_id = "ANPA2",
					     .path = "/", .created_ms = 11 };
	assert_int_equal(dd_store_iam_policy_insert(f->db, A2, &other, "{\"other\":1}"), 0);

	struct dd_store_iam_policy got;
	assert_int_equal(dd_store_iam_policy_get(f->db, A1, "ops", &got), 0);
	assert_string_equal(got.name, "Ops");
	assert_string_equal(got.arn, arn);
	assert_string_equal(got.description, "ops");
	assert_string_equal(got.tags, "[]");
	assert_int_equal(got.default_version, 1);
	assert_int_equal(got.created_ms, 10);
	assert_int_equal(got.updated_ms, 10);
	dd_store_iam_policy_clear(&got);
	assert_int_equal(dd_store_iam_policy_get_by_arn(f->db, A1, arn, &got), 0);
	assert_string_equal(got.policy_id, "ANPA1");
	dd_store_iam_policy_clear(&got);
	assert_int_equal(dd_store_iam_policy_get_by_arn(f->db, A2, arn, &got), DD_ENOTFOUND);
	assert_int_equal(dd_store_iam_policy_get(f->db, A1, "nope", &got), DD_ENOTFOUND);
	int64_t n = -1;
	assert_int_equal(dd_store_iam_policy_count(f->db, A1, &n), 0);
	assert_int_equal(n, 1);

	char canon[160];
	char *doc = NULL;
	assert_int_equal(dd_store_iam_policy_default_document(f->db, A1, arn, canon, &doc), 0);
	assert_string_equal(canon, "Ops");
	assert_string_equal(doc, "{\"v\":1}");
	free(doc);

	/* versions: 2 (not default), 3 (default); numbers are never reused */
	int64_t v = 0;
	assert_int_equal(dd_store_iam_policy_version_add(f->db, A1, "Ops", "{\"v\":2}", 20, false, &v), 0);
	assert_int_equal(v, 2);
	assert_int_equal(dd_store_iam_policy_version_add(f->db, A1, "ops", "{\"v\":3}", 30, true, &v), 0);
	assert_int_equal(v, 3);
	assert_int_equal(dd_store_iam_policy_version_add(f->db, A1, "nope", "{}", 30, true, &v), DD_ENOTFOUND);
	assert_int_equal(dd_store_iam_policy_default_document(f->db, A1, arn, canon, &doc), 0);
	assert_string_equal(doc, "{\"v\":3}");
	free(doc);
	assert_int_equal(dd_store_iam_policy_version_count(f->db, A1, "Ops", &n), 0);
	assert_int_equal(n, 3);
	int64_t created = 0;
	bool dflt = true;
	assert_int_equal(dd_store_iam_policy_version_get(f->db, A1, "Ops", 2, &doc, &created, &dflt), 0);
	assert_string_equal(doc, "{\"v\":2}");
	assert_int_equal(created, 20);
	assert_false(dflt);
	free(doc);
	assert_int_equal(dd_store_iam_policy_version_get(f->db, A1, "Ops", 9, &doc, &created, &dflt), DD_ENOTFOUND);
	struct docs d = { 0 };
	assert_int_equal(dd_store_iam_policy_version_list(f->db, A1, "Ops", version_cb, &d), 0);
	assert_int_equal(d.n, 3);
	assert_string_equal(d.names[0], "v3@30*");
	assert_string_equal(d.names[1], "v2@20");
	assert_string_equal(d.names[2], "v1@10");
	assert_int_equal(dd_store_iam_policy_version_delete(f->db, A1, "Ops", 2), 0);
	assert_int_equal(dd_store_iam_policy_version_delete(f->db, A1, "Ops", 2), DD_ENOTFOUND);
	assert_int_equal(dd_store_iam_policy_version_add(f->db, A1, "Ops", "{\"v\":4}", 40, false, &v), 0);
	assert_int_equal(v, 4);
	assert_int_equal(dd_store_iam_policy_get(f->db, A1, "Ops", &got), 0);
	assert_int_equal(got.default_version, 3);
	assert_int_equal(got.updated_ms, 40);
	dd_store_iam_policy_clear(&got);

	memset(&d, 0, sizeof d);
	assert_int_equal(dd_store_iam_policy_list(f->db, A1, policy_cb, &d), 0);
	assert_int_equal(d.n, 1);
	assert_string_equal(d.names[0], "Ops v3");

	assert_int_equal(dd_store_iam_policy_delete(f->db, A1, "OPS"), 0);
	assert_int_equal(dd_store_iam_policy_delete(f->db, A1, "Ops"), DD_ENOTFOUND);
	assert_int_equal(dd_store_iam_policy_version_count(f->db, A1, "Ops", &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(dd_store_iam_policy_default_document(f->db, A1, arn, canon, &doc), DD_ENOTFOUND);
	/* the other account's policy of the same name is untouched */
	assert_int_equal(dd_store_iam_policy_default_document(f->db, A2, "arn:aws:iam::" A2 ":policy/Ops", canon, &doc), 0);
	assert_string_equal(doc, "{\"other\":1}");
	free(doc);
}

/* A transaction rolled back leaves nothing behind. */
static void test_rollback(void **state)
{
	struct dd_test_store *f = *state;
	assert_int_equal(dd_db_begin_write(f->db), 0);
	add_role(f->db, A1, "Temp", "/");
	assert_int_equal(dd_store_iam_inline_put(f->db, DD_STORE_IAM_ROLE, A1, "Temp", "P", "{}"), 0);
	dd_db_rollback(f->db);
	struct dd_store_iam_role r;
	assert_int_equal(dd_store_iam_role_get(f->db, A1, "Temp", &r), DD_ENOTFOUND);
	int64_t n = -1;
	assert_int_equal(dd_store_iam_inline_count(f->db, DD_STORE_IAM_ROLE, A1, "Temp", &n), 0);
	assert_int_equal(n, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_roles, dd_test_store_setup, dd_test_store_teardown),
		cmocka_unit_test_setup_teardown(test_principal_policies, dd_test_store_setup, dd_test_store_teardown),
		cmocka_unit_test_setup_teardown(test_policies, dd_test_store_setup, dd_test_store_teardown),
		cmocka_unit_test_setup_teardown(test_rollback, dd_test_store_setup, dd_test_store_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

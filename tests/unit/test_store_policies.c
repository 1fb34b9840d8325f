/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the policy aggregate's store functions (store/dd_store_policies.h) on a
 * fresh store in a temporary directory: policies and versions (insert, duplicate, get,
 * not found, version numbering, default version, delete), targets (attach idempotent,
 * counts, listings in order with a limit, detach), thing principals, and the lookups of
 * neighbouring aggregates on an empty registry. Two regions of one account never see each
 * other's rows.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "dd/store.h"
#include "store/dd_store_policies.h"

#include "dd_test_store.h"

#define AR "123456789012/us-east-1"
#define AR2 "123456789012/eu-west-1"

/* Collects names joined by spaces. */
struct names {
	char text[1024];
	int n;
	int stop_after; /* 0: never */
};

static int collect(void *ud, const char *name)
{
	struct names *ns = ud;
	size_t l = strlen(ns->text);
	snprintf(ns->text + l, sizeof ns->text - l, "%s%s", l ? " " : "", name);
	ns->n++;
	return ns->stop_after && ns->n >= ns->stop_after ? 1 : 0;
}

static int fail_cb(void *ud, const char *name)
{
	(void)ud;
	(void)name;
	return DD_ENOMEM;
}

static const char DOC1[] = "{\"Version\":\"2012-10-17\",\"Statement\":[]}";
static const char DOC2[] = "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"iot:*\",\"Resource\":\"*\"}]}";

static void test_policy_insert_get(void **state)
{
	struct dd_test_store *f = *state;
	struct dd_store_policies_row p;
	assert_int_equal(dd_store_policies_get(f->db, AR, "p1", &p), DD_ENOTFOUND);
	assert_int_equal(dd_store_policies_insert(f->db, AR, "p1", DOC1, "gen-1", 1000), 0);
	assert_int_equal(dd_store_policies_insert(f->db, AR, "p1", DOC2, "gen-2", 2000), DD_EEXIST);
	assert_int_equal(dd_store_policies_get(f->db, AR, "p1", &p), 0);
	assert_int_equal(p.default_version, 1);
	assert_int_equal(p.next_version, 2);
	assert_int_equal(p.created, 1000);
	assert_int_equal(p.modified, 1000);
	assert_string_equal(p.generation_id, "gen-1");
	/* another region of the account does not see it */
	assert_int_equal(dd_store_policies_get(f->db, AR2, "p1", &p), DD_ENOTFOUND);
	char *doc = NULL;
	assert_int_equal(dd_store_policies_default_doc(f->db, AR, "p1", &doc), 0);
	assert_string_equal(doc, DOC1);
	free(doc);
	assert_int_equal(dd_store_policies_default_doc(f->db, AR, "nope", &doc), DD_ENOTFOUND);
	assert_null(doc);
}

static void test_policy_versions(void **state)
{
	struct dd_test_store *f = *state;
	assert_int_equal(dd_store_policies_insert(f->db, AR, "p", DOC1, "g1", 1000), 0);
	int64_t v = 0, n = 0;
	assert_int_equal(dd_store_policies_version_add(f->db, AR, "p", DOC2, false, "g2", 2000, &v), 0);
	assert_int_equal(v, 2);
	assert_int_equal(dd_store_policies_version_add(f->db, AR, "p", DOC2, true, "g3", 3000, &v), 0);
	assert_int_equal(v, 3);
	assert_int_equal(dd_store_policies_version_add(f->db, AR, "missing", DOC2, true, "g", 3000, &v), DD_ENOTFOUND);
	struct dd_store_policies_row p;
	assert_int_equal(dd_store_policies_get(f->db, AR, "p", &p), 0);
	assert_int_equal(p.default_version, 3);
	assert_int_equal(p.next_version, 4);
	assert_int_equal(p.modified, 3000);
	assert_string_equal(p.generation_id, "g3");
	assert_int_equal(dd_store_policies_versions_count(f->db, AR, "p", &n), 0);
	assert_int_equal(n, 3);

	char *doc = NULL;
	int64_t created = 0;
	assert_int_equal(dd_store_policies_version_get(f->db, AR, "p", 2, &doc, &created), 0);
	assert_string_equal(doc, DOC2);
	assert_int_equal(created, 2000);
	free(doc);
	assert_int_equal(dd_store_policies_version_get(f->db, AR, "p", 9, &doc, NULL), DD_ENOTFOUND);

	assert_int_equal(dd_store_policies_version_set_default(f->db, AR, "p", 1, "g4", 4000), 0);
	assert_int_equal(dd_store_policies_version_set_default(f->db, AR, "missing", 1, "g4", 4000), DD_ENOTFOUND);
	assert_int_equal(dd_store_policies_default_doc(f->db, AR, "p", &doc), 0);
	assert_string_equal(doc, DOC1);
	free(doc);

	assert_int_equal(dd_store_policies_version_delete(f->db, AR, "p", 2), 0);
	assert_int_equal(dd_store_policies_version_delete(f->db, AR, "p", 2), DD_ENOTFOUND);
	/* a deleted number is not given again */
	assert_int_equal(dd_store_policies_version_add(f->db, AR, "p", DOC1, false, "g5", 5000, &v), 0);
	assert_int_equal(v, 4);
	assert_int_equal(dd_store_policies_delete(f->db, AR, "p"), 0);
	assert_int_equal(dd_store_policies_delete(f->db, AR, "p"), DD_ENOTFOUND);
	assert_int_equal(dd_store_policies_version_get(f->db, AR, "p", 1, &doc, NULL), DD_ENOTFOUND);
	assert_int_equal(dd_store_policies_versions_count(f->db, AR, "p", &n), 0);
	assert_int_equal(n, 0);
}

struct vers {
	char text[256];
};

static int collect_version(void *ud, int64_t version, int64_t created)
{
	struct vers *vs = ud;
	size_t l = strlen(vs->text);
	snprintf(vs->text + l, sizeof vs->text - l, "%s%lld@%lld", l ? " " : "", (long long)version, (long long)created);
	return 0;
}

static void test_policy_listings(void **state)
{
	struct dd_test_store *f = *state;
	const char *names[] = { "b", "a", "d", "c" };
	for (int i = 0; i < 4; i++)
		assert_int_equal(dd_store_policies_insert(f->db, AR, names[i], DOC1, "g", 1000 + i), 0);
	assert_int_equal(dd_store_policies_insert(f->db, AR2, "z", DOC1, "g", 1), 0);
	struct names ns = { 0 };
	assert_int_equal(dd_store_policies_list(f->db, AR, "", true, 10, collect, &ns), 0);
	assert_string_equal(ns.text, "a b c d");
	memset(&ns, 0, sizeof ns);
	assert_int_equal(dd_store_policies_list(f->db, AR, "b", true, 1, collect, &ns), 0);
	assert_string_equal(ns.text, "c");
	memset(&ns, 0, sizeof ns);
	assert_int_equal(dd_store_policies_list(f->db, AR, "", false, 3, collect, &ns), 0);
	assert_string_equal(ns.text, "d c b");
	memset(&ns, 0, sizeof ns);
	assert_int_equal(dd_store_policies_list(f->db, AR, "c", false, 10, collect, &ns), 0);
	assert_string_equal(ns.text, "b a");
	/* a callback stops the listing (> 0) or fails it (< 0) */
	memset(&ns, 0, sizeof ns);
	ns.stop_after = 2;
	assert_int_equal(dd_store_policies_list(f->db, AR, "", true, 10, collect, &ns), 0);
	assert_string_equal(ns.text, "a b");
	assert_int_equal(dd_store_policies_list(f->db, AR, "", true, 10, fail_cb, NULL), DD_ENOMEM);

	int64_t v;
	assert_int_equal(dd_store_policies_version_add(f->db, AR, "a", DOC2, false, "g", 7000, &v), 0);
	struct vers vs = { 0 };
	assert_int_equal(dd_store_policies_versions_list(f->db, AR, "a", collect_version, &vs), 0);
	assert_string_equal(vs.text, "2@7000 1@1001");
}

static void test_targets(void **state)
{
	struct dd_test_store *f = *state;
	const char *cert = "arn:aws:iot:us-east-1:123456789012:cert/abc";
	const char *grp = "arn:aws:iot:us-east-1:123456789012:thinggroup/g";
	assert_int_equal(dd_store_policies_insert(f->db, AR, "p1", DOC1, "g", 1), 0);
	assert_int_equal(dd_store_policies_insert(f->db, AR, "p2", DOC1, "g", 1), 0);
	assert_int_equal(dd_store_policies_attach(f->db, AR, "p2", cert), 0);
	assert_int_equal(dd_store_policies_attach(f->db, AR, "p1", cert), 0);
	assert_int_equal(dd_store_policies_attach(f->db, AR, "p1", cert), 0); /* idempotent */
	assert_int_equal(dd_store_policies_attach(f->db, AR, "p1", grp), 0);
	int64_t n = 0;
	assert_int_equal(dd_store_policies_targets_count(f->db, AR, "p1", &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(dd_store_policies_target_policies_count(f->db, AR, cert, NULL, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(dd_store_policies_target_policies_count(f->db, AR, cert, "p1", &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(dd_store_policies_target_policies_count(f->db, AR2, cert, NULL, &n), 0);
	assert_int_equal(n, 0);

	struct names ns = { 0 };
	assert_int_equal(dd_store_policies_target_policies(f->db, AR, cert, collect, &ns), 0);
	assert_string_equal(ns.text, "p1 p2");
	memset(&ns, 0, sizeof ns);
	assert_int_equal(dd_store_policies_targets_list(f->db, AR, "p1", "", 10, collect, &ns), 0);
	assert_string_equal(ns.text, "arn:aws:iot:us-east-1:123456789012:cert/abc arn:aws:iot:us-east-1:123456789012:thinggroup/g");
	memset(&ns, 0, sizeof ns);
	assert_int_equal(dd_store_policies_targets_list(f->db, AR, "p1", cert, 10, collect, &ns), 0);
	assert_string_equal(ns.text, grp);

	assert_int_equal(dd_store_policies_detach(f->db, AR, "p1", cert), 0);
	assert_int_equal(dd_store_policies_detach(f->db, AR, "p1", cert), 0); /* not attached: still 0 */
	assert_int_equal(dd_store_policies_targets_count(f->db, AR, "p1", &n), 0);
	assert_int_equal(n, 1);
}

static void test_thing_principals(void **state)
{
	struct dd_test_store *f = *state;
	const char *pr = "arn:aws:iot:us-east-1:123456789012:cert/abc";
	assert_int_equal(dd_store_policies_principal_attach(f->db, AR, "t2", pr, "NON_EXCLUSIVE_THING"), 0);
	assert_int_equal(dd_store_policies_principal_attach(f->db, AR, "t1", pr, "NON_EXCLUSIVE_THING"), 0);
	assert_int_equal(dd_store_policies_principal_attach(f->db, AR, "t1", pr, "EXCLUSIVE_THING"), 0); /* replaces */
	assert_int_equal(dd_store_policies_principal_attach(f->db, AR, "t1", "other", "NON_EXCLUSIVE_THING"), 0);
	bool yes = false;
	assert_int_equal(dd_store_policies_principal_attached(f->db, AR, "t1", pr, &yes), 0);
	assert_true(yes);
	assert_int_equal(dd_store_policies_principal_attached(f->db, AR2, "t1", pr, &yes), 0);
	assert_false(yes);
	int64_t n = 0;
	assert_int_equal(dd_store_policies_principal_things_count(f->db, AR, pr, NULL, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(dd_store_policies_principal_things_count(f->db, AR, pr, "t1", &n), 0);
	assert_int_equal(n, 1);

	struct names ns = { 0 };
	assert_int_equal(dd_store_policies_principal_things(f->db, AR, pr, "", -1, collect, &ns), 0);
	assert_string_equal(ns.text, "t1 t2");
	memset(&ns, 0, sizeof ns);
	assert_int_equal(dd_store_policies_principal_things(f->db, AR, pr, "", 1, collect, &ns), 0);
	assert_string_equal(ns.text, "t1");
	memset(&ns, 0, sizeof ns);
	assert_int_equal(dd_store_policies_thing_principals(f->db, AR, "t1", "", 10, collect, &ns), 0);
	assert_string_equal(ns.text, "arn:aws:iot:us-east-1:123456789012:cert/abc other");

	assert_int_equal(dd_store_policies_principal_detach(f->db, AR, "t1", pr), 0);
	assert_int_equal(dd_store_policies_principal_attached(f->db, AR, "t1", pr, &yes), 0);
	assert_false(yes);
	assert_int_equal(dd_store_policies_principal_detach(f->db, AR, "t1", pr), 0);
}

static void test_neighbours_empty(void **state)
{
	struct dd_test_store *f = *state;
	bool yes = true;
	assert_int_equal(dd_store_policies_cert_exists(f->db, AR, "abc", &yes), 0);
	assert_false(yes);
	yes = true;
	assert_int_equal(dd_store_policies_group_exists(f->db, AR, "g", &yes), 0);
	assert_false(yes);
	char parent[64] = "x";
	assert_int_equal(dd_store_policies_group_parent(f->db, AR, "g", parent, sizeof parent), 0);
	assert_string_equal(parent, "");
	struct names ns = { 0 };
	assert_int_equal(dd_store_policies_thing_groups(f->db, AR, "t", collect, &ns), 0);
	assert_int_equal(ns.n, 0);
	char type[32], *attrs = NULL;
	assert_int_equal(dd_store_policies_thing_info(f->db, AR, "t", type, sizeof type, &attrs), DD_ENOTFOUND);
	assert_null(attrs);
	char cn[32], serial[32];
	assert_int_equal(dd_store_policies_cert_subject(f->db, AR, "abc", cn, sizeof cn, serial, sizeof serial), DD_ENOTFOUND);
	assert_string_equal(cn, "");
}

/* A write transaction rolled back leaves nothing behind. */
static void test_rollback(void **state)
{
	struct dd_test_store *f = *state;
	assert_int_equal(dd_db_begin_write(f->db), 0);
	assert_int_equal(dd_store_policies_insert(f->db, AR, "tx", DOC1, "g", 1), 0);
	assert_int_equal(dd_store_policies_attach(f->db, AR, "tx", "some:target"), 0);
	dd_db_rollback(f->db);
	struct dd_store_policies_row p;
	assert_int_equal(dd_store_policies_get(f->db, AR, "tx", &p), DD_ENOTFOUND);
	int64_t n = 1;
	assert_int_equal(dd_store_policies_target_policies_count(f->db, AR, "some:target", NULL, &n), 0);
	assert_int_equal(n, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_policy_insert_get, dd_test_store_setup, dd_test_store_teardown),
		cmocka_unit_test_setup_teardown(test_policy_versions, dd_test_store_setup, dd_test_store_teardown),
		cmocka_unit_test_setup_teardown(test_policy_listings, dd_test_store_setup, dd_test_store_teardown),
		cmocka_unit_test_setup_teardown(test_targets, dd_test_store_setup, dd_test_store_teardown),
		cmocka_unit_test_setup_teardown(test_thing_principals, dd_test_store_setup, dd_test_store_teardown),
		cmocka_unit_test_setup_teardown(test_neighbours_empty, dd_test_store_setup, dd_test_store_teardown),
		cmocka_unit_test_setup_teardown(test_rollback, dd_test_store_setup, dd_test_store_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

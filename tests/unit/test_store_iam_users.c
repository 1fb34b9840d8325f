/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the IAM users store (store/dd_store_iam_users.h) on a fresh store in a
 * temporary directory: users and groups (insert, case-insensitive lookup returning the
 * stored spelling, duplicates, counts, listing after a key with a path prefix and a
 * limit, delete), the dependents that block a delete, group memberships both ways,
 * inline policies (put replaces, get, names, the documents other than one, delete),
 * attachments (idempotent attach, counts with an exception, detach), what applies to a
 * user through its groups, access keys (insert, duplicate id, list, status, lookup by id
 * in any account with the user's id and secret, delete), and account isolation;
 * not-found answers for every lookup and write of a missing row.
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
#include "store/dd_store_iam_users.h"

#include "dd_test_store.h"

#define A1 "111111111111"
#define A2 "222222222222"
#define U DD_STORE_IAM_USER
#define G DD_STORE_IAM_GROUP

static void add(struct dd_db *db, enum dd_store_iam_kind k, const char *account, const char *name,
		const char *path)
{
	struct dd_store_iam_users_entity e = { .created_ms = 1000 };
	snprintf(e.name, sizeof e.name, "%s", name);
	snprintf(e.id, sizeof e.id, "%s%s", k == U ? "AIDA" : "AGPA", name);
	snprintf(e.path, sizeof e.path, "%s", path);
	assert_int_equal(dd_store_iam_users_entity_insert(db, k, account, &e), 0);
}

struct names {
	char v[8][200];
	int n;
};

static int entity_cb(const struct dd_store_iam_users_entity *e, void *ud)
{
	struct names *n = ud;
	snprintf(n->v[n->n++], 200, "%s", e->name);
	return 0;
}

static int text_cb(const char *v, void *ud)
{
	struct names *n = ud;
	snprintf(n->v[n->n++], 200, "%s", v);
	return 0;
}

static int doc_cb(const char *name, const char *doc, void *ud)
{
	struct names *n = ud;
	snprintf(n->v[n->n++], 200, "%s=%s", name, doc);
	return 0;
}

static void test_entities(void **state)
{
	struct dd_test_store *f = *state;
	struct dd_store_iam_users_entity e;
	int64_t n = -1;
	assert_int_equal(dd_store_iam_users_entity_get(f->db, U, A1, "alice", &e), DD_ENOTFOUND);
	add(f->db, U, A1, "Alice", "/");
	add(f->db, U, A1, "bob", "/ops/");
	add(f->db, U, A1, "carol", "/ops/");
	add(f->db, G, A1, "Admins", "/");
	/* case-insensitive, the stored spelling back */
	assert_int_equal(dd_store_iam_users_entity_get(f->db, U, A1, "ALICE", &e), 0);
	assert_string_equal(e.name, "Alice");
	assert_string_equal(e.id, "AIDAAlice");
	assert_string_equal(e.path, "/");
	assert_int_equal(e.created_ms, 1000);
	/* a user is not a group, and accounts are separate */
	assert_int_equal(dd_store_iam_users_entity_get(f->db, G, A1, "alice", &e), DD_ENOTFOUND);
	assert_int_equal(dd_store_iam_users_entity_get(f->db, U, A2, "alice", &e), DD_ENOTFOUND);
	/* duplicates in any case */
	struct dd_store_iam_users_entity dup = { .name = "aLiCe", .id = "AIDAX", .path = "/", .created_ms = 1 };
	assert_int_equal(dd_store_iam_users_entity_insert(f->db, U, A1, &dup), DD_EEXIST);
	assert_int_equal(dd_store_iam_users_entity_insert(f->db, U, A2, &dup), 0);
	assert_int_equal(dd_store_iam_users_entity_count(f->db, U, A1, &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(dd_store_iam_users_entity_count(f->db, G, A1, &n), 0);
	assert_int_equal(n, 1);
	/* listing: after a key, a path prefix, a limit */
	struct names l = { 0 };
	assert_int_equal(dd_store_iam_users_user_list(f->db, A1, NULL, "", 10, entity_cb, &l), 0);
	assert_int_equal(l.n, 3);
	assert_string_equal(l.v[0], "Alice");
	assert_string_equal(l.v[2], "carol");
	memset(&l, 0, sizeof l);
	assert_int_equal(dd_store_iam_users_user_list(f->db, A1, "/ops/", "", 10, entity_cb, &l), 0);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.v[0], "bob");
	memset(&l, 0, sizeof l);
	assert_int_equal(dd_store_iam_users_user_list(f->db, A1, "/", "bob", 1, entity_cb, &l), 0);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.v[0], "carol");
	/* delete */
	assert_int_equal(dd_store_iam_users_entity_delete(f->db, U, A1, "CAROL"), 0);
	assert_int_equal(dd_store_iam_users_entity_delete(f->db, U, A1, "carol"), DD_ENOTFOUND);
	assert_int_equal(dd_store_iam_users_entity_get(f->db, U, A1, "carol", &e), DD_ENOTFOUND);
}

static void test_memberships_and_policies(void **state)
{
	struct dd_test_store *f = *state;
	struct dd_store_iam_users_deps d;
	struct names l = { 0 };
	int64_t n = -1;
	add(f->db, U, A1, "alice", "/");
	add(f->db, U, A1, "bob", "/");
	add(f->db, G, A1, "admins", "/");
	add(f->db, G, A1, "devs", "/");
	assert_int_equal(dd_store_iam_users_membership_add(f->db, A1, "admins", "alice"), 0);
	assert_int_equal(dd_store_iam_users_membership_add(f->db, A1, "admins", "alice"), 0);
	assert_int_equal(dd_store_iam_users_membership_add(f->db, A1, "devs", "alice"), 0);
	assert_int_equal(dd_store_iam_users_membership_add(f->db, A1, "admins", "bob"), 0);
	assert_int_equal(dd_store_iam_users_membership_count(f->db, A1, "alice", NULL, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(dd_store_iam_users_membership_count(f->db, A1, "alice", "devs", &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(dd_store_iam_users_group_members(f->db, A1, "admins", "", 10, entity_cb, &l), 0);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.v[0], "alice");
	assert_string_equal(l.v[1], "bob");
	memset(&l, 0, sizeof l);
	assert_int_equal(dd_store_iam_users_user_groups(f->db, A1, "alice", "admins", 10, entity_cb, &l), 0);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.v[0], "devs");

	/* inline policies (the principal functions of dd_store_iam.h, with the user and
	 * group kinds): put replaces, get returns the stored name */
	assert_int_equal(dd_store_iam_inline_put(f->db, U, A1, "alice", "Read", "{\"a\":1}"), 0);
	assert_int_equal(dd_store_iam_inline_put(f->db, U, A1, "alice", "read", "{\"a\":2}"), 0);
	assert_int_equal(dd_store_iam_inline_put(f->db, U, A1, "alice", "Write", "{\"w\":1}"), 0);
	assert_int_equal(dd_store_iam_inline_put(f->db, G, A1, "admins", "All", "{\"g\":1}"), 0);
	char name[128], *doc = NULL;
	assert_int_equal(dd_store_iam_inline_get(f->db, U, A1, "alice", "READ", name, &doc), 0);
	assert_string_equal(name, "Read");
	assert_string_equal(doc, "{\"a\":2}");
	free(doc);
	assert_int_equal(dd_store_iam_inline_get(f->db, U, A1, "alice", "none", name, &doc), DD_ENOTFOUND);
	assert_int_equal(dd_store_iam_inline_get(f->db, U, A1, "bob", "Read", name, &doc), DD_ENOTFOUND);
	memset(&l, 0, sizeof l);
	assert_int_equal(dd_store_iam_inline_list(f->db, U, A1, "alice", "", 0, doc_cb, &l), 0);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.v[0], "Read={\"a\":2}");
	assert_string_equal(l.v[1], "Write={\"w\":1}");
	memset(&l, 0, sizeof l);
	assert_int_equal(dd_store_iam_inline_list(f->db, U, A1, "alice", "Read", 0, doc_cb, &l), 0);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.v[0], "Write={\"w\":1}");

	/* attachments */
	const char *p1 = "arn:aws:iam::aws:policy/ReadOnlyAccess", *p2 = "arn:aws:iam::111111111111:policy/x/Mine";
	assert_int_equal(dd_store_iam_attach(f->db, U, A1, "alice", p1), 0);
	assert_int_equal(dd_store_iam_attach(f->db, U, A1, "alice", p1), 0);
	assert_int_equal(dd_store_iam_attach(f->db, G, A1, "admins", p2), 0);
	assert_int_equal(dd_store_iam_attach(f->db, G, A1, "devs", p1), 0);
	assert_int_equal(dd_store_iam_attached_count(f->db, U, A1, "alice", NULL, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(dd_store_iam_attached_count(f->db, U, A1, "alice", p1, &n), 0);
	assert_int_equal(n, 0);
	memset(&l, 0, sizeof l);
	assert_int_equal(dd_store_iam_attached_list(f->db, G, A1, "admins", "", 0, text_cb, &l), 0);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.v[0], p2);

	/* what applies to alice: her inline policies then her groups', distinct ARNs */
	memset(&l, 0, sizeof l);
	assert_int_equal(dd_store_iam_users_user_inline_documents(f->db, A1, "alice", doc_cb, &l), 0);
	assert_int_equal(l.n, 3);
	assert_string_equal(l.v[2], "All={\"g\":1}");
	memset(&l, 0, sizeof l);
	assert_int_equal(dd_store_iam_users_user_attached_arns(f->db, A1, "alice", text_cb, &l), 0);
	assert_int_equal(l.n, 2);
	/* p2 is no customer managed policy of A1 */
	struct dd_store_iam_policy mp;
	assert_int_equal(dd_store_iam_policy_get_by_arn(f->db, A1, p2, &mp), DD_ENOTFOUND);
	char canon[160];
	assert_int_equal(dd_store_iam_policy_default_document(f->db, A1, p2, canon, &doc), DD_ENOTFOUND);

	/* dependents block deletes */
	assert_int_equal(dd_store_iam_users_entity_deps(f->db, U, A1, "alice", &d), 0);
	assert_int_equal(d.access_keys, 0);
	assert_int_equal(d.inline_policies, 2);
	assert_int_equal(d.attached_policies, 1);
	assert_int_equal(d.memberships, 2);
	assert_int_equal(dd_store_iam_users_entity_deps(f->db, G, A1, "admins", &d), 0);
	assert_int_equal(d.memberships, 2);
	assert_int_equal(d.inline_policies, 1);
	assert_int_equal(d.attached_policies, 1);

	/* removals */
	assert_int_equal(dd_store_iam_inline_delete(f->db, U, A1, "alice", "READ"), 0);
	assert_int_equal(dd_store_iam_inline_delete(f->db, U, A1, "alice", "Read"), DD_ENOTFOUND);
	assert_int_equal(dd_store_iam_detach(f->db, U, A1, "alice", p1), 0);
	assert_int_equal(dd_store_iam_detach(f->db, U, A1, "alice", p1), DD_ENOTFOUND);
	assert_int_equal(dd_store_iam_users_membership_remove(f->db, A1, "ADMINS", "Alice"), 0);
	assert_int_equal(dd_store_iam_users_membership_remove(f->db, A1, "admins", "alice"), DD_ENOTFOUND);
	assert_int_equal(dd_store_iam_users_membership_remove(f->db, A2, "devs", "alice"), DD_ENOTFOUND);
}

static int key_cb(const struct dd_store_iam_users_key *k, void *ud)
{
	struct names *n = ud;
	snprintf(n->v[n->n++], 200, "%s:%s:%s", k->access_key, k->user, k->active ? "Active" : "Inactive");
	return 0;
}

static void test_access_keys(void **state)
{
	struct dd_test_store *f = *state;
	struct dd_store_iam_users_key k;
	struct names l = { 0 };
	int64_t n = -1;
	add(f->db, U, A1, "Alice", "/");
	add(f->db, U, A2, "bob", "/");
	assert_int_equal(dd_store_iam_users_key_find(f->db, "AKIA0000000000000001", &k), DD_ENOTFOUND);
	assert_int_equal(dd_store_iam_users_key_insert(f->db, A1, "Alice", "AKIA0000000000000001", "s1", 5), 0);
	assert_int_equal(dd_store_iam_users_key_insert(f->db, A1, "Alice", "AKIA0000000000000002", "s2", 6), 0);
	assert_int_equal(dd_store_iam_users_key_insert(f->db, A2, "bob", "AKIA0000000000000001", "s3", 7), DD_EEXIST);
	assert_int_equal(dd_store_iam_users_key_insert(f->db, A2, "bob", "AKIA0000000000000003", "s3", 7), 0);
	assert_int_equal(dd_store_iam_users_key_count(f->db, A1, "alice", &n), 0);
	assert_int_equal(n, 2);
	/* lookup by id alone, in any account */
	assert_int_equal(dd_store_iam_users_key_find(f->db, "AKIA0000000000000003", &k), 0);
	assert_string_equal(k.account, A2);
	assert_string_equal(k.user, "bob");
	assert_string_equal(k.user_id, "AIDAbob");
	assert_string_equal(k.secret, "s3");
	assert_true(k.active);
	assert_int_equal(k.created_ms, 7);
	/* list after a key, with a limit */
	assert_int_equal(dd_store_iam_users_key_list(f->db, A1, "Alice", "", 10, key_cb, &l), 0);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.v[0], "AKIA0000000000000001:Alice:Active");
	memset(&l, 0, sizeof l);
	assert_int_equal(dd_store_iam_users_key_list(f->db, A1, "Alice", "AKIA0000000000000001", 1, key_cb, &l), 0);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.v[0], "AKIA0000000000000002:Alice:Active");
	/* status, only for the key's own user */
	assert_int_equal(dd_store_iam_users_key_set_active(f->db, A1, "Alice", "AKIA0000000000000002", false), 0);
	assert_int_equal(dd_store_iam_users_key_set_active(f->db, A2, "bob", "AKIA0000000000000002", true), DD_ENOTFOUND);
	assert_int_equal(dd_store_iam_users_key_find(f->db, "AKIA0000000000000002", &k), 0);
	assert_false(k.active);
	struct dd_store_iam_users_deps d;
	assert_int_equal(dd_store_iam_users_entity_deps(f->db, U, A1, "Alice", &d), 0);
	assert_int_equal(d.access_keys, 2);
	/* delete */
	assert_int_equal(dd_store_iam_users_key_delete(f->db, A1, "Alice", "AKIA0000000000000002"), 0);
	assert_int_equal(dd_store_iam_users_key_delete(f->db, A1, "Alice", "AKIA0000000000000002"), DD_ENOTFOUND);
	assert_int_equal(dd_store_iam_users_key_find(f->db, "AKIA0000000000000002", &k), DD_ENOTFOUND);
}

/* A listing stops when its callback says so, and passes a callback's error back. */
static int stop_after_one(const struct dd_store_iam_users_entity *e, void *ud)
{
	(void)e;
	(*(int *)ud)++;
	return 1;
}

static int fail_cb(const struct dd_store_iam_users_entity *e, void *ud)
{
	(void)e;
	(void)ud;
	return DD_ENOMEM;
}

static void test_listing_stops(void **state)
{
	struct dd_test_store *f = *state;
	add(f->db, U, A1, "a", "/");
	add(f->db, U, A1, "b", "/");
	int calls = 0;
	assert_int_equal(dd_store_iam_users_user_list(f->db, A1, "/", "", 10, stop_after_one, &calls), 0);
	assert_int_equal(calls, 1);
	assert_int_equal(dd_store_iam_users_user_list(f->db, A1, "/", "", 10, fail_cb, NULL), DD_ENOMEM);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_entities, dd_test_store_setup, dd_test_store_teardown),
		cmocka_unit_test_setup_teardown(test_memberships_and_policies, dd_test_store_setup, dd_test_store_teardown),
		cmocka_unit_test_setup_teardown(test_access_keys, dd_test_store_setup, dd_test_store_teardown),
		cmocka_unit_test_setup_teardown(test_listing_stops, dd_test_store_setup, dd_test_store_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

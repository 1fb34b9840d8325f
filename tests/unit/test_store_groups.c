/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the thing groups store (src/store/dd_store_groups.h) and the membership
 * rules over it (src/core/registry/dd_registry_groups.h, dd_registry_query.h), on a real
 * store in a temporary directory: insert, get, duplicates, update (version), delete with
 * memberships, child counts and the listing scopes; memberships, the 10-groups limit and
 * its dynamic override, static-only changes, dynamic membership from the query.
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

#include "core/registry/dd_registry_groups.h"
#include "core/registry/dd_registry_query.h"
#include "dd/store.h"
#include "store/dd_store_groups.h"
#include "store/dd_store_things.h"

#include "dd_test_store.h"

#define AR "123456789012/us-east-1"
#define AR2 "123456789012/eu-west-1"

static int add_group(struct dd_test_store *f, const char *name, const char *parent, const char *query, int64_t created)
{
	struct dd_store_groups_row g = { .attributes = (char *)"{}", .created_ms = created };
	snprintf(g.name, sizeof g.name, "%s", name);
	snprintf(g.id, sizeof g.id, "id-%s", name);
	snprintf(g.parent, sizeof g.parent, "%s", parent ? parent : "");
	if (query) {
		g.dynamic = true;
		g.query_string = (char *)query;
		snprintf(g.index_name, sizeof g.index_name, "AWS_Things");
		snprintf(g.query_version, sizeof g.query_version, "2017-09-30");
	}
	return dd_store_groups_insert(f->db, AR, &g);
}

static void add_thing(struct dd_test_store *f, const char *name, const char *type, const char *attrs)
{
	assert_int_equal(dd_store_things_insert(f->db, AR, name, "id", type, attrs, 1), 0);
}

static void insert_get_update(void **state)
{
	struct dd_test_store *f = *state;
	struct dd_store_groups_row g = { .name = "g1", .id = "gid-1", .parent = "", .description = (char *)"first",
					 .attributes = (char *)"{\"k\":\"v\"}", .created_ms = 77 };
	assert_int_equal(dd_store_groups_insert(f->db, AR, &g), 0);
	assert_int_equal(dd_store_groups_insert(f->db, AR, &g), DD_EEXIST);
	struct dd_store_groups_row r;
	assert_int_equal(dd_store_groups_get(f->db, AR, "g1", &r), 0);
	assert_string_equal(r.id, "gid-1");
	assert_string_equal(r.parent, "");
	assert_string_equal(r.description, "first");
	assert_string_equal(r.attributes, "{\"k\":\"v\"}");
	assert_false(r.dynamic);
	assert_null(r.query_string);
	assert_int_equal(r.version, 1);
	assert_int_equal(r.created_ms, 77);
	dd_store_groups_row_clear(&r);
	/* NULL members are kept */
	assert_int_equal(dd_store_groups_update(f->db, AR, "g1", NULL, "{}", NULL), 0);
	assert_int_equal(dd_store_groups_get(f->db, AR, "g1", &r), 0);
	assert_string_equal(r.description, "first");
	assert_string_equal(r.attributes, "{}");
	assert_int_equal(r.version, 2);
	dd_store_groups_row_clear(&r);
	assert_int_equal(dd_store_groups_update(f->db, AR, "nope", "x", NULL, NULL), DD_ENOTFOUND);
	assert_int_equal(dd_store_groups_get(f->db, AR, "nope", &r), DD_ENOTFOUND);
	assert_int_equal(dd_store_groups_get(f->db, AR2, "g1", &r), DD_ENOTFOUND);
	/* a dynamic group keeps its query */
	assert_int_equal(add_group(f, "dyn", NULL, "thingName:a*", 1), 0);
	assert_int_equal(dd_store_groups_get(f->db, AR, "dyn", &r), 0);
	assert_true(r.dynamic);
	assert_string_equal(r.query_string, "thingName:a*");
	assert_string_equal(r.index_name, "AWS_Things");
	assert_string_equal(r.query_version, "2017-09-30");
	dd_store_groups_row_clear(&r);
}

struct seen {
	char names[16][DD_STORE_NAME_MAX];
	int n;
};

static int collect(const char *name, void *ud)
{
	struct seen *s = ud;
	if (s->n < 16)
		snprintf(s->names[s->n++], sizeof s->names[0], "%s", name);
	return 0;
}

static void hierarchy_and_delete(void **state)
{
	struct dd_test_store *f = *state;
	assert_int_equal(add_group(f, "root", NULL, NULL, 1), 0);
	assert_int_equal(add_group(f, "child", "root", NULL, 2), 0);
	assert_int_equal(add_group(f, "grandchild", "child", NULL, 3), 0);
	assert_int_equal(add_group(f, "other", NULL, NULL, 4), 0);
	int64_t n = -1;
	assert_int_equal(dd_store_groups_child_count(f->db, AR, "root", &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(dd_store_groups_child_count(f->db, AR, "grandchild", &n), 0);
	assert_int_equal(n, 0);
	struct seen s = { 0 };
	assert_int_equal(dd_store_groups_list(f->db, AR, DD_STORE_GROUPS_ALL, NULL, NULL, "", 0, collect, &s), 0);
	assert_int_equal(s.n, 4);
	memset(&s, 0, sizeof s);
	assert_int_equal(dd_store_groups_list(f->db, AR, DD_STORE_GROUPS_ROOTS, NULL, NULL, "", 0, collect, &s), 0);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.names[0], "other");
	assert_string_equal(s.names[1], "root");
	memset(&s, 0, sizeof s);
	assert_int_equal(dd_store_groups_list(f->db, AR, DD_STORE_GROUPS_CHILDREN, "root", NULL, "", 0, collect, &s), 0);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.names[0], "child");
	memset(&s, 0, sizeof s);
	assert_int_equal(dd_store_groups_list(f->db, AR, DD_STORE_GROUPS_DESCENDANTS, "root", NULL, "", 0, collect, &s), 0);
	assert_int_equal(s.n, 2);
	memset(&s, 0, sizeof s);
	assert_int_equal(dd_store_groups_list(f->db, AR, DD_STORE_GROUPS_ALL, NULL, "gr", "", 0, collect, &s), 0);
	assert_int_equal(s.n, 1);
	memset(&s, 0, sizeof s);
	assert_int_equal(dd_store_groups_list(f->db, AR, DD_STORE_GROUPS_ALL, NULL, NULL, "child", 2, collect, &s), 0);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.names[0], "grandchild");
	/* memberships of a deleted group go with it */
	add_thing(f, "t", NULL, "{}");
	assert_int_equal(dd_store_groups_member_add(f->db, AR, "other", "t"), 0);
	assert_int_equal(dd_store_groups_delete(f->db, AR, "other", "arn:aws:iot:us-east-1:123456789012:thinggroup/other"), 0);
	assert_int_equal(dd_store_groups_member_is(f->db, AR, "other", "t"), 0);
	struct dd_store_groups_row r;
	assert_int_equal(dd_store_groups_get(f->db, AR, "other", &r), DD_ENOTFOUND);
}

static void memberships(void **state)
{
	struct dd_test_store *f = *state;
	assert_int_equal(add_group(f, "p", NULL, NULL, 1), 0);
	assert_int_equal(add_group(f, "q", "p", NULL, 2), 0);
	add_thing(f, "t1", NULL, "{}");
	add_thing(f, "t2", NULL, "{}");
	assert_int_equal(dd_store_groups_member_add(f->db, AR, "p", "t1"), 0);
	assert_int_equal(dd_store_groups_member_add(f->db, AR, "p", "t1"), 0); /* again: no error */
	assert_int_equal(dd_store_groups_member_add(f->db, AR, "q", "t2"), 0);
	assert_int_equal(dd_store_groups_member_add(f->db, AR, "q", "t1"), 0);
	int64_t n;
	assert_int_equal(dd_store_groups_member_count(f->db, AR, "t1", &n), 0);
	assert_int_equal(n, 2);
	struct seen s = { 0 };
	assert_int_equal(dd_store_groups_member_list(f->db, AR, "p", false, "", 0, collect, &s), 0);
	assert_int_equal(s.n, 1);
	memset(&s, 0, sizeof s);
	assert_int_equal(dd_store_groups_member_list(f->db, AR, "p", true, "", 0, collect, &s), 0);
	assert_int_equal(s.n, 2); /* t1 once, t2 through q */
	assert_string_equal(s.names[0], "t1");
	assert_string_equal(s.names[1], "t2");
	memset(&s, 0, sizeof s);
	assert_int_equal(dd_store_groups_member_list_groups(f->db, AR, "t1", "", 0, collect, &s), 0);
	assert_int_equal(s.n, 2);
	memset(&s, 0, sizeof s);
	assert_int_equal(dd_store_groups_member_list_groups(f->db, AR, "t1", "p", 0, collect, &s), 0);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.names[0], "q");
	assert_int_equal(dd_store_groups_member_remove(f->db, AR, "q", "t1"), 0);
	assert_int_equal(dd_store_groups_member_remove(f->db, AR, "q", "t1"), 0); /* again: no error */
	assert_int_equal(dd_store_groups_member_is(f->db, AR, "q", "t1"), 0);
	assert_int_equal(dd_store_groups_member_clear(f->db, AR, "q"), 0);
	assert_int_equal(dd_store_groups_member_is(f->db, AR, "q", "t2"), 0);
	char dyn[64];
	assert_int_equal(dd_store_groups_member_newest_dynamic(f->db, AR, "t1", dyn, sizeof dyn), DD_ENOTFOUND);
}

static void group_limit_and_override(void **state)
{
	struct dd_test_store *f = *state;
	char msg[256], name[32];
	add_thing(f, "t", NULL, "{}");
	for (int i = 0; i < DD_MAX_GROUPS_PER_THING - 2; i++) {
		snprintf(name, sizeof name, "s%d", i);
		assert_int_equal(add_group(f, name, NULL, NULL, i), 0);
		assert_int_equal(dd_registry_groups_add_member(f->db, AR, name, "t", false, msg, sizeof msg), 0);
	}
	/* two dynamic groups matching the thing fill it up */
	assert_int_equal(add_group(f, "dold", NULL, "thingName:t", 100), 0);
	assert_int_equal(add_group(f, "dnew", NULL, "thingName:t", 200), 0);
	assert_int_equal(dd_registry_groups_refresh_thing(f->db, AR, "t"), 0);
	int64_t n;
	assert_int_equal(dd_store_groups_member_count(f->db, AR, "t", &n), 0);
	assert_int_equal(n, DD_MAX_GROUPS_PER_THING);
	assert_int_equal(add_group(f, "extra", NULL, NULL, 300), 0);
	assert_int_equal(dd_registry_groups_add_member(f->db, AR, "extra", "t", false, msg, sizeof msg), DD_ELIMIT);
	assert_non_null(strstr(msg, "more than 10"));
	/* already a member: no error even at the limit */
	assert_int_equal(dd_registry_groups_add_member(f->db, AR, "s0", "t", false, msg, sizeof msg), 0);
	/* override: the newest dynamic membership makes room */
	assert_int_equal(dd_registry_groups_add_member(f->db, AR, "extra", "t", true, msg, sizeof msg), 0);
	assert_int_equal(dd_store_groups_member_is(f->db, AR, "dnew", "t"), 0);
	assert_int_equal(dd_store_groups_member_is(f->db, AR, "dold", "t"), 1);
	assert_int_equal(dd_store_groups_member_is(f->db, AR, "extra", "t"), 1);
}

static void static_only_and_not_found(void **state)
{
	struct dd_test_store *f = *state;
	char msg[256];
	add_thing(f, "t", NULL, "{}");
	assert_int_equal(add_group(f, "dyn", NULL, "thingName:*", 1), 0);
	assert_int_equal(add_group(f, "st", NULL, NULL, 1), 0);
	assert_int_equal(dd_registry_groups_add_member(f->db, AR, "dyn", "t", false, msg, sizeof msg), DD_EINVAL);
	assert_non_null(strstr(msg, "dynamic"));
	assert_int_equal(dd_registry_groups_remove_member(f->db, AR, "dyn", "t", msg, sizeof msg), DD_EINVAL);
	assert_int_equal(dd_registry_groups_add_member(f->db, AR, "nope", "t", false, msg, sizeof msg), DD_ENOTFOUND);
	assert_string_equal(msg, "Thing group nope cannot be found.");
	assert_int_equal(dd_registry_groups_add_member(f->db, AR, "st", "ghost", false, msg, sizeof msg), DD_ENOTFOUND);
	assert_string_equal(msg, "Thing ghost cannot be found.");
	assert_int_equal(dd_registry_groups_remove_member(f->db, AR, "nope", "t", msg, sizeof msg), DD_ENOTFOUND);
	assert_int_equal(dd_registry_groups_remove_member(f->db, AR, "st", "t", msg, sizeof msg), 0);
}

static void dynamic_membership(void **state)
{
	struct dd_test_store *f = *state;
	add_thing(f, "cam-1", "camera", "{\"fw\":\"3\"}");
	add_thing(f, "cam-2", "camera", "{\"fw\":\"1\"}");
	add_thing(f, "lamp", NULL, "{}");
	assert_int_equal(add_group(f, "new-cams", NULL, "thingTypeName:camera AND attributes.fw>=2", 1), 0);
	assert_int_equal(dd_registry_groups_materialize(f->db, AR, "new-cams", "thingTypeName:camera AND attributes.fw>=2"), 0);
	assert_int_equal(dd_store_groups_member_is(f->db, AR, "new-cams", "cam-1"), 1);
	assert_int_equal(dd_store_groups_member_is(f->db, AR, "new-cams", "cam-2"), 0);
	assert_int_equal(dd_store_groups_member_is(f->db, AR, "new-cams", "lamp"), 0);
	/* a thing that changes is re-evaluated */
	assert_int_equal(dd_store_things_update(f->db, AR, "cam-2", "camera", "{\"fw\":\"2\"}"), 0);
	assert_int_equal(dd_store_things_update(f->db, AR, "cam-1", "camera", "{\"fw\":\"0\"}"), 0);
	assert_int_equal(dd_registry_groups_refresh_thing(f->db, AR, "cam-2"), 0);
	assert_int_equal(dd_registry_groups_refresh_thing(f->db, AR, "cam-1"), 0);
	assert_int_equal(dd_store_groups_member_is(f->db, AR, "new-cams", "cam-1"), 0);
	assert_int_equal(dd_store_groups_member_is(f->db, AR, "new-cams", "cam-2"), 1);
	/* a thing that does not exist is no error */
	assert_int_equal(dd_registry_groups_refresh_thing(f->db, AR, "ghost"), 0);
	char dyn[64];
	assert_int_equal(dd_store_groups_member_newest_dynamic(f->db, AR, "cam-2", dyn, sizeof dyn), 0);
	assert_string_equal(dyn, "new-cams");
}

static const char *one_attr(const char *name, void *ud)
{
	return strcmp(name, "site") == 0 ? ud : NULL;
}

static void query_language(void **state)
{
	(void)state;
	char err[256];
	assert_int_equal(dd_registry_query_match("thingName:dev*", "dev1", NULL, NULL, NULL, err, sizeof err), 1);
	assert_int_equal(dd_registry_query_match("NOT thingName:dev*", "dev1", NULL, NULL, NULL, err, sizeof err), 0);
	assert_int_equal(dd_registry_query_match("attributes.site:north OR thingTypeName:x", "t", NULL, one_attr,
						 (void *)"north", err, sizeof err), 1);
	assert_int_equal(dd_registry_query_match("(attributes.site:south) thingName:t", "t", NULL, one_attr,
						 (void *)"north", err, sizeof err), 0);
	assert_int_equal(dd_registry_query_match("thingName:", "t", NULL, NULL, NULL, err, sizeof err), DD_EINVAL);
	assert_non_null(strstr(err, "expected a value"));
	assert_int_equal(dd_registry_query_match(NULL, "t", NULL, NULL, NULL, err, sizeof err), DD_EINVAL);
	assert_int_equal(dd_registry_groups_query_check("attributes.x<", err, sizeof err), DD_EINVAL);
	assert_non_null(strstr(err, "expected a value"));
	assert_int_equal(dd_registry_groups_query_check("attributes.x<3", err, sizeof err), 0);
	assert_int_equal(dd_registry_groups_query_check("attributes.x<abc", err, sizeof err), 0); /* a string range */
	/* the fleet-indexing grammar: ranges, wildcards ?, quoted phrases, thingId and version */
	assert_int_equal(dd_registry_query_match("thingName:[d TO e}", "dev1", NULL, NULL, NULL, err, sizeof err), 1);
	assert_int_equal(dd_registry_query_match("thingName:d?v1", "dev1", NULL, NULL, NULL, err, sizeof err), 1);
	assert_int_equal(dd_registry_query_match("thingName:*v*", "dev1", NULL, NULL, NULL, err, sizeof err), 1);
	assert_int_equal(dd_registry_query_match("attributes.site:\"nor*\"", "t", NULL, one_attr, (void *)"north", err,
						 sizeof err), 0);
	assert_int_equal(dd_registry_groups_query_check("registry.version>2 AND thingId:abc*", err, sizeof err), 0);
	/* fields a dynamic group cannot use are refused by name */
	assert_int_equal(dd_registry_groups_query_check("connectivity.connected:true", err, sizeof err), DD_EINVAL);
	assert_non_null(strstr(err, "connectivity.connected cannot be used in a dynamic thing group query"));
	assert_int_equal(dd_registry_groups_query_check("thingGroupNames:a", err, sizeof err), DD_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(insert_get_update, dd_test_store_setup, dd_test_store_teardown),
		cmocka_unit_test_setup_teardown(hierarchy_and_delete, dd_test_store_setup, dd_test_store_teardown),
		cmocka_unit_test_setup_teardown(memberships, dd_test_store_setup, dd_test_store_teardown),
		cmocka_unit_test_setup_teardown(group_limit_and_override, dd_test_store_setup, dd_test_store_teardown),
		cmocka_unit_test_setup_teardown(static_only_and_not_found, dd_test_store_setup, dd_test_store_teardown),
		cmocka_unit_test_setup_teardown(dynamic_membership, dd_test_store_setup, dd_test_store_teardown),
		cmocka_unit_test(query_language),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the things store (src/store/dd_store_things.h) and the principal
 * attachment counts the things API reads (dd_store_principals.h), on a real store in a
 * temporary directory: insert, get, exists, duplicates, update (version), delete (with
 * the thing's group memberships), and the listing's filters and keyset paging; regions
 * of one account are kept apart.
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
#include "store/dd_store_groups.h"
#include "store/dd_store_principals.h"
#include "store/dd_store_things.h"

#include "dd_test_store.h"

#define AR "123456789012/us-east-1"
#define AR2 "123456789012/eu-west-1"

static void insert_get(void **state)
{
	struct dd_test_store *f = *state;
	assert_int_equal(dd_store_things_insert(f->db, AR, "t1", "id-1", "sensor", "{\"a\":\"1\"}", 1000), 0);
	assert_int_equal(dd_store_things_insert(f->db, AR, "t2", "id-2", NULL, "{}", 2000), 0);
	struct dd_store_things_row r;
	assert_int_equal(dd_store_things_get(f->db, AR, "t1", &r), 0);
	assert_string_equal(r.name, "t1");
	assert_string_equal(r.id, "id-1");
	assert_string_equal(r.type, "sensor");
	assert_string_equal(r.billing_group, "");
	assert_string_equal(r.attributes, "{\"a\":\"1\"}");
	assert_int_equal(r.version, 1);
	assert_int_equal(r.created_ms, 1000);
	dd_store_things_row_clear(&r);
	assert_int_equal(dd_store_things_get(f->db, AR, "t2", &r), 0);
	assert_string_equal(r.type, "");
	dd_store_things_row_clear(&r);
	assert_int_equal(dd_store_things_exists(f->db, AR, "t1"), 1);
	assert_int_equal(dd_store_things_exists(f->db, AR, "nope"), 0);
	/* another region of the same account does not see it */
	assert_int_equal(dd_store_things_exists(f->db, AR2, "t1"), 0);
	assert_int_equal(dd_store_things_get(f->db, AR2, "t1", &r), DD_ENOTFOUND);
}

static void duplicate_and_missing(void **state)
{
	struct dd_test_store *f = *state;
	assert_int_equal(dd_store_things_insert(f->db, AR, "t1", "id-1", NULL, "{}", 1), 0);
	assert_int_equal(dd_store_things_insert(f->db, AR, "t1", "id-9", NULL, "{}", 1), DD_EEXIST);
	assert_int_equal(dd_store_things_insert(f->db, AR2, "t1", "id-9", NULL, "{}", 1), 0);
	struct dd_store_things_row r;
	assert_int_equal(dd_store_things_get(f->db, AR, "missing", &r), DD_ENOTFOUND);
	assert_int_equal(dd_store_things_update(f->db, AR, "missing", NULL, "{}"), DD_ENOTFOUND);
	/* deleting what is not there is no error */
	assert_int_equal(dd_store_things_delete(f->db, AR, "missing"), 0);
}

static void update_version(void **state)
{
	struct dd_test_store *f = *state;
	assert_int_equal(dd_store_things_insert(f->db, AR, "t1", "id-1", "a", "{}", 1), 0);
	assert_int_equal(dd_store_things_update(f->db, AR, "t1", "b", "{\"x\":\"y\"}"), 0);
	assert_int_equal(dd_store_things_update(f->db, AR, "t1", NULL, "{\"x\":\"z\"}"), 0);
	struct dd_store_things_row r;
	assert_int_equal(dd_store_things_get(f->db, AR, "t1", &r), 0);
	assert_int_equal(r.version, 3);
	assert_string_equal(r.type, "");
	assert_string_equal(r.attributes, "{\"x\":\"z\"}");
	assert_string_equal(r.id, "id-1");
	dd_store_things_row_clear(&r);
}

static void delete_drops_memberships(void **state)
{
	struct dd_test_store *f = *state;
	assert_int_equal(dd_store_things_insert(f->db, AR, "t1", "id-1", NULL, "{}", 1), 0);
	struct dd_store_groups_row g = { .name = "g", .id = "gid", .attributes = (char *)"{}", .created_ms = 1 };
	assert_int_equal(dd_store_groups_insert(f->db, AR, &g), 0);
	assert_int_equal(dd_store_groups_member_add(f->db, AR, "g", "t1"), 0);
	assert_int_equal(dd_store_groups_member_is(f->db, AR, "g", "t1"), 1);
	assert_int_equal(dd_store_things_delete(f->db, AR, "t1"), 0);
	assert_int_equal(dd_store_things_exists(f->db, AR, "t1"), 0);
	assert_int_equal(dd_store_groups_member_is(f->db, AR, "g", "t1"), 0);
	int64_t n = -1;
	assert_int_equal(dd_store_principals_thing_count(f->db, AR, "t1", &n), 0);
	assert_int_equal(n, 0);
}

struct seen {
	char names[16][DD_STORE_NAME_MAX];
	int n;
};

static int collect(const struct dd_store_things_row *r, void *ud)
{
	struct seen *s = ud;
	if (s->n < 16)
		snprintf(s->names[s->n++], sizeof s->names[0], "%s", r->name);
	return 0;
}

static int stop_at_two(const struct dd_store_things_row *r, void *ud)
{
	struct seen *s = ud;
	collect(r, ud);
	return s->n == 2 ? 42 : 0;
}

static void list_filters_and_paging(void **state)
{
	struct dd_test_store *f = *state;
	assert_int_equal(dd_store_things_insert(f->db, AR, "a", "1", "cam", "{\"fw\":\"1.2\",\"site\":\"north\"}", 1), 0);
	assert_int_equal(dd_store_things_insert(f->db, AR, "b", "2", "cam", "{\"fw\":\"1.3\"}", 1), 0);
	assert_int_equal(dd_store_things_insert(f->db, AR, "c", "3", "lamp", "{\"fw\":\"2.0\"}", 1), 0);
	assert_int_equal(dd_store_things_insert(f->db, AR, "d", "4", NULL, "{}", 1), 0);
	assert_int_equal(dd_store_things_insert(f->db, AR2, "e", "5", NULL, "{}", 1), 0);
	struct seen s = { 0 };
	assert_int_equal(dd_store_things_list(f->db, AR, NULL, "", 0, collect, &s), 0);
	assert_int_equal(s.n, 4);
	assert_string_equal(s.names[0], "a");
	assert_string_equal(s.names[3], "d");
	/* keyset paging: after "b", at most 1 */
	memset(&s, 0, sizeof s);
	assert_int_equal(dd_store_things_list(f->db, AR, NULL, "b", 1, collect, &s), 0);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.names[0], "c");
	/* by type */
	memset(&s, 0, sizeof s);
	struct dd_store_things_filter by_type = { .type = "cam" };
	assert_int_equal(dd_store_things_list(f->db, AR, &by_type, "", 10, collect, &s), 0);
	assert_int_equal(s.n, 2);
	/* attribute present, equal, prefix */
	memset(&s, 0, sizeof s);
	struct dd_store_things_filter has = { .attribute = "fw" };
	assert_int_equal(dd_store_things_list(f->db, AR, &has, "", 10, collect, &s), 0);
	assert_int_equal(s.n, 3);
	memset(&s, 0, sizeof s);
	struct dd_store_things_filter eq = { .attribute = "fw", .value = "1.3" };
	assert_int_equal(dd_store_things_list(f->db, AR, &eq, "", 10, collect, &s), 0);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.names[0], "b");
	memset(&s, 0, sizeof s);
	struct dd_store_things_filter pre = { .attribute = "fw", .value = "1.", .prefix = true };
	assert_int_equal(dd_store_things_list(f->db, AR, &pre, "", 10, collect, &s), 0);
	assert_int_equal(s.n, 2);
	/* an attribute name that cannot be stored matches nothing (and is no error) */
	memset(&s, 0, sizeof s);
	struct dd_store_things_filter odd = { .attribute = "a\"b" };
	assert_int_equal(dd_store_things_list(f->db, AR, &odd, "", 10, collect, &s), 0);
	assert_int_equal(s.n, 0);
	/* the callback's nonzero return stops the listing and is returned */
	memset(&s, 0, sizeof s);
	assert_int_equal(dd_store_things_list(f->db, AR, NULL, "", 0, stop_at_two, &s), 42);
	assert_int_equal(s.n, 2);
}

static void writes_in_a_transaction_roll_back(void **state)
{
	struct dd_test_store *f = *state;
	assert_int_equal(dd_db_begin_write(f->db), 0);
	assert_int_equal(dd_store_things_insert(f->db, AR, "t1", "id-1", NULL, "{}", 1), 0);
	assert_int_equal(dd_store_things_exists(f->db, AR, "t1"), 1);
	dd_db_rollback(f->db);
	assert_int_equal(dd_store_things_exists(f->db, AR, "t1"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(insert_get, dd_test_store_setup, dd_test_store_teardown),
		cmocka_unit_test_setup_teardown(duplicate_and_missing, dd_test_store_setup, dd_test_store_teardown),
		cmocka_unit_test_setup_teardown(update_version, dd_test_store_setup, dd_test_store_teardown),
		cmocka_unit_test_setup_teardown(delete_drops_memberships, dd_test_store_setup, dd_test_store_teardown),
		cmocka_unit_test_setup_teardown(list_filters_and_paging, dd_test_store_setup, dd_test_store_teardown),
		cmocka_unit_test_setup_teardown(writes_in_a_transaction_roll_back, dd_test_store_setup, dd_test_store_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

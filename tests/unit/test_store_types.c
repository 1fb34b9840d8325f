/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the thing types and billing groups store (src/store/dd_store_types.h)
 * and the rules over it (src/core/registry/dd_registry_types.h), on a real store in a
 * temporary directory: insert, get, duplicates, update, deprecation (the first date is
 * kept), the deletion rules (deprecated, 5 minutes, no things), listings; billing groups
 * with their version, one billing group per thing, and deletion emptying the group.
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

#include "core/registry/dd_registry_types.h"
#include "dd/store.h"
#include "store/dd_store_things.h"
#include "store/dd_store_types.h"

#include "dd_test_store.h"

#define AR "123456789012/us-east-1"
#define AR2 "123456789012/eu-west-1"

static int add_type(struct dd_test_store *f, const char *name, const char *desc, int64_t created)
{
	struct dd_store_types_row t = { .description = (char *)desc, .searchable = (char *)"[\"a\",\"b\"]",
					.created_ms = created };
	snprintf(t.name, sizeof t.name, "%s", name);
	snprintf(t.id, sizeof t.id, "id-%s", name);
	return dd_store_types_insert(f->db, AR, &t);
}

static void types_insert_get_update(void **state)
{
	struct dd_test_store *f = *state;
	assert_int_equal(add_type(f, "cam", "cameras", 5), 0);
	assert_int_equal(add_type(f, "cam", NULL, 6), DD_EEXIST);
	struct dd_store_types_row t;
	assert_int_equal(dd_store_types_get(f->db, AR, "cam", &t), 0);
	assert_string_equal(t.id, "id-cam");
	assert_string_equal(t.description, "cameras");
	assert_string_equal(t.searchable, "[\"a\",\"b\"]");
	assert_null(t.mqtt5);
	assert_false(t.deprecated);
	assert_int_equal(t.created_ms, 5);
	dd_store_types_row_clear(&t);
	assert_int_equal(dd_store_types_get(f->db, AR2, "cam", &t), DD_ENOTFOUND);
	/* description cleared, searchable kept, mqtt5 set */
	assert_int_equal(dd_store_types_update(f->db, AR, "cam", true, NULL, NULL, "{\"p\":[]}"), 0);
	assert_int_equal(dd_store_types_get(f->db, AR, "cam", &t), 0);
	assert_null(t.description);
	assert_string_equal(t.searchable, "[\"a\",\"b\"]");
	assert_string_equal(t.mqtt5, "{\"p\":[]}");
	dd_store_types_row_clear(&t);
	/* description kept when not set */
	assert_int_equal(dd_store_types_update(f->db, AR, "cam", false, "ignored", "[]", NULL), 0);
	assert_int_equal(dd_store_types_get(f->db, AR, "cam", &t), 0);
	assert_null(t.description);
	assert_string_equal(t.searchable, "[]");
	dd_store_types_row_clear(&t);
	assert_int_equal(dd_store_types_update(f->db, AR, "nope", true, "x", NULL, NULL), DD_ENOTFOUND);
	assert_int_equal(dd_store_types_deprecate(f->db, AR, "nope", false, 1), DD_ENOTFOUND);
}

struct seen {
	char names[16][DD_STORE_NAME_MAX];
	int n;
};

static int collect_type(const struct dd_store_types_row *t, void *ud)
{
	struct seen *s = ud;
	if (s->n < 16)
		snprintf(s->names[s->n++], sizeof s->names[0], "%s", t->name);
	return 0;
}

static int collect(const char *name, void *ud)
{
	struct seen *s = ud;
	if (s->n < 16)
		snprintf(s->names[s->n++], sizeof s->names[0], "%s", name);
	return 0;
}

static void types_lifecycle(void **state)
{
	struct dd_test_store *f = *state;
	char msg[256];
	const int64_t min5 = DD_REGISTRY_TYPES_DELETE_DELAY_MS;
	assert_int_equal(add_type(f, "cam", NULL, 1), 0);
	assert_int_equal(dd_registry_types_usable(f->db, AR, "cam", msg, sizeof msg), 0);
	assert_int_equal(dd_registry_types_usable(f->db, AR, "nope", msg, sizeof msg), DD_ENOTFOUND);
	assert_string_equal(msg, "Thing type nope does not exist.");
	/* not deprecated: cannot be deleted */
	assert_int_equal(dd_registry_types_delete(f->db, AR, "cam", NULL, 10 * min5, msg, sizeof msg), DD_EINVAL);
	assert_non_null(strstr(msg, "must be deprecated"));
	assert_int_equal(dd_store_types_deprecate(f->db, AR, "cam", false, 1000), 0);
	assert_int_equal(dd_registry_types_usable(f->db, AR, "cam", msg, sizeof msg), DD_EINVAL);
	assert_non_null(strstr(msg, "deprecated"));
	/* deprecating again keeps the first date */
	assert_int_equal(dd_store_types_deprecate(f->db, AR, "cam", false, 9000), 0);
	struct dd_store_types_row t;
	assert_int_equal(dd_store_types_get(f->db, AR, "cam", &t), 0);
	assert_true(t.deprecated);
	assert_int_equal(t.deprecated_ms, 1000);
	dd_store_types_row_clear(&t);
	/* too soon */
	assert_int_equal(dd_registry_types_delete(f->db, AR, "cam", NULL, 1000 + min5 - 1, msg, sizeof msg), DD_EINVAL);
	assert_non_null(strstr(msg, "5 minutes after"));
	/* a thing of the type keeps it */
	assert_int_equal(dd_store_things_insert(f->db, AR, "t", "id", "cam", "{}", 1), 0);
	int64_t n;
	assert_int_equal(dd_store_types_thing_count(f->db, AR, "cam", &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(dd_registry_types_delete(f->db, AR, "cam", NULL, 1000 + min5, msg, sizeof msg), DD_EINVAL);
	assert_non_null(strstr(msg, "1 thing(s)"));
	assert_int_equal(dd_store_things_delete(f->db, AR, "t"), 0);
	assert_int_equal(dd_registry_types_delete(f->db, AR, "cam", "arn:aws:iot:us-east-1:123456789012:thingtype/cam",
						  1000 + min5, msg, sizeof msg), 0);
	assert_int_equal(dd_store_types_get(f->db, AR, "cam", &t), DD_ENOTFOUND);
	assert_int_equal(dd_registry_types_delete(f->db, AR, "cam", NULL, 1000 + min5, msg, sizeof msg), DD_ENOTFOUND);
	/* undo */
	assert_int_equal(add_type(f, "lamp", NULL, 1), 0);
	assert_int_equal(dd_store_types_deprecate(f->db, AR, "lamp", false, 5), 0);
	assert_int_equal(dd_store_types_deprecate(f->db, AR, "lamp", true, 0), 0);
	assert_int_equal(dd_registry_types_usable(f->db, AR, "lamp", msg, sizeof msg), 0);
	/* listing */
	assert_int_equal(add_type(f, "a", NULL, 1), 0);
	assert_int_equal(add_type(f, "z", NULL, 1), 0);
	struct seen s = { 0 };
	assert_int_equal(dd_store_types_list(f->db, AR, NULL, "", 0, collect_type, &s), 0);
	assert_int_equal(s.n, 3);
	assert_string_equal(s.names[0], "a");
	memset(&s, 0, sizeof s);
	assert_int_equal(dd_store_types_list(f->db, AR, NULL, "a", 1, collect_type, &s), 0);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.names[0], "lamp");
	memset(&s, 0, sizeof s);
	assert_int_equal(dd_store_types_list(f->db, AR, "z", "", 0, collect_type, &s), 0);
	assert_int_equal(s.n, 1);
}

static int add_billing(struct dd_test_store *f, const char *name, const char *desc)
{
	struct dd_store_types_billing_row b = { .description = (char *)desc, .created_ms = 3 };
	snprintf(b.name, sizeof b.name, "%s", name);
	snprintf(b.id, sizeof b.id, "bid-%s", name);
	return dd_store_types_billing_insert(f->db, AR, &b);
}

static void billing_groups(void **state)
{
	struct dd_test_store *f = *state;
	assert_int_equal(add_billing(f, "b1", "first"), 0);
	assert_int_equal(add_billing(f, "b1", NULL), DD_EEXIST);
	assert_int_equal(add_billing(f, "b2", NULL), 0);
	assert_int_equal(add_billing(f, "c", NULL), 0);
	struct dd_store_types_billing_row b;
	assert_int_equal(dd_store_types_billing_get(f->db, AR, "b1", &b), 0);
	assert_string_equal(b.id, "bid-b1");
	assert_string_equal(b.description, "first");
	assert_int_equal(b.version, 1);
	assert_int_equal(b.created_ms, 3);
	dd_store_types_billing_row_clear(&b);
	assert_int_equal(dd_store_types_billing_update(f->db, AR, "b1", false, NULL), 0);
	assert_int_equal(dd_store_types_billing_update(f->db, AR, "b1", true, NULL), 0);
	assert_int_equal(dd_store_types_billing_get(f->db, AR, "b1", &b), 0);
	assert_null(b.description);
	assert_int_equal(b.version, 3);
	dd_store_types_billing_row_clear(&b);
	assert_int_equal(dd_store_types_billing_update(f->db, AR, "nope", true, NULL), DD_ENOTFOUND);
	assert_int_equal(dd_store_types_billing_get(f->db, AR2, "b1", &b), DD_ENOTFOUND);
	struct seen s = { 0 };
	assert_int_equal(dd_store_types_billing_list(f->db, AR, "b", "", 0, collect, &s), 0);
	assert_int_equal(s.n, 2);
	memset(&s, 0, sizeof s);
	assert_int_equal(dd_store_types_billing_list(f->db, AR, NULL, "b1", 5, collect, &s), 0);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.names[0], "b2");
}

static void billing_membership(void **state)
{
	struct dd_test_store *f = *state;
	char msg[256];
	bool changed;
	assert_int_equal(add_billing(f, "b1", NULL), 0);
	assert_int_equal(add_billing(f, "b2", NULL), 0);
	assert_int_equal(dd_store_things_insert(f->db, AR, "t1", "1", NULL, "{}", 1), 0);
	assert_int_equal(dd_store_things_insert(f->db, AR, "t2", "2", NULL, "{}", 1), 0);
	assert_int_equal(dd_registry_types_billing_add(f->db, AR, "nope", "t1", &changed, msg, sizeof msg), DD_ENOTFOUND);
	assert_string_equal(msg, "Billing group nope does not exist.");
	assert_int_equal(dd_registry_types_billing_add(f->db, AR, "b1", "ghost", &changed, msg, sizeof msg), DD_ENOTFOUND);
	assert_string_equal(msg, "Thing ghost does not exist.");
	assert_int_equal(dd_registry_types_billing_add(f->db, AR, "b1", "t1", &changed, msg, sizeof msg), 0);
	assert_true(changed);
	assert_int_equal(dd_registry_types_billing_add(f->db, AR, "b1", "t1", &changed, msg, sizeof msg), 0);
	assert_false(changed);
	assert_int_equal(dd_registry_types_billing_add(f->db, AR, "b2", "t1", &changed, msg, sizeof msg), DD_EINVAL);
	assert_non_null(strstr(msg, "only one billing group"));
	assert_int_equal(dd_registry_types_billing_add(f->db, AR, "b1", "t2", &changed, msg, sizeof msg), 0);
	struct seen s = { 0 };
	assert_int_equal(dd_store_types_billing_things(f->db, AR, "b1", "", 0, collect, &s), 0);
	assert_int_equal(s.n, 2);
	/* removing from a group it is not in changes nothing */
	assert_int_equal(dd_registry_types_billing_remove(f->db, AR, "b2", "t2", &changed, msg, sizeof msg), 0);
	assert_false(changed);
	assert_int_equal(dd_registry_types_billing_remove(f->db, AR, "b1", "t2", &changed, msg, sizeof msg), 0);
	assert_true(changed);
	struct dd_store_things_row t;
	assert_int_equal(dd_store_things_get(f->db, AR, "t2", &t), 0);
	assert_string_equal(t.billing_group, "");
	dd_store_things_row_clear(&t);
	/* deleting the group empties it */
	assert_int_equal(dd_store_types_billing_delete(f->db, AR, "b1", "arn:aws:iot:us-east-1:123456789012:billinggroup/b1"), 0);
	assert_int_equal(dd_store_things_get(f->db, AR, "t1", &t), 0);
	assert_string_equal(t.billing_group, "");
	dd_store_things_row_clear(&t);
	assert_int_equal(dd_store_types_billing_set(f->db, AR, "ghost", "b2"), DD_ENOTFOUND);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(types_insert_get_update, dd_test_store_setup, dd_test_store_teardown),
		cmocka_unit_test_setup_teardown(types_lifecycle, dd_test_store_setup, dd_test_store_teardown),
		cmocka_unit_test_setup_teardown(billing_groups, dd_test_store_setup, dd_test_store_teardown),
		cmocka_unit_test_setup_teardown(billing_membership, dd_test_store_setup, dd_test_store_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

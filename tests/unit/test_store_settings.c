/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the small per-account store aggregates on a fresh store in a temporary
 * directory: settings (get, not found, replace), v2 log levels (put, replace, listing by
 * type in key order with a limit and a start key, delete), tags (put, replace, list,
 * delete one and all, the existence check of taggable resources), role aliases (insert,
 * duplicate, get, update keeping what is not given, list both ways, delete, not found)
 * and connection events (insert with and without the optional members). Two regions of
 * one account never see each other's rows.
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
#include "store/dd_store_events.h"
#include "store/dd_store_policies.h"
#include "store/dd_store_role_aliases.h"
#include "store/dd_store_settings.h"
#include "store/dd_store_tags.h"

#include "dd_test_store.h"

#define AR "123456789012/us-east-1"
#define AR2 "123456789012/eu-west-1"

static void test_settings(void **state)
{
	struct dd_test_store *f = *state;
	char *v = NULL;
	assert_int_equal(dd_store_settings_get(f->db, AR, "logging_v2", &v), DD_ENOTFOUND);
	assert_null(v);
	assert_int_equal(dd_store_settings_put(f->db, AR, "logging_v2", "{\"a\":1}"), 0);
	assert_int_equal(dd_store_settings_put(f->db, AR, "logging_v2", "{\"a\":2}"), 0);
	assert_int_equal(dd_store_settings_get(f->db, AR, "logging_v2", &v), 0);
	assert_string_equal(v, "{\"a\":2}");
	free(v);
	assert_int_equal(dd_store_settings_get(f->db, AR2, "logging_v2", &v), DD_ENOTFOUND);
}

struct text {
	char s[1024];
	int n, stop_after;
};

static void add(struct text *t, const char *item)
{
	size_t l = strlen(t->s);
	snprintf(t->s + l, sizeof t->s - l, "%s%s", l ? " " : "", item);
	t->n++;
}

static int level_cb(void *ud, const char *type, const char *name, const char *level)
{
	char item[256];
	snprintf(item, sizeof item, "%s/%s=%s", type, name, level);
	add(ud, item);
	struct text *t = ud;
	return t->stop_after && t->n >= t->stop_after;
}

static void test_log_levels(void **state)
{
	struct dd_test_store *f = *state;
	assert_int_equal(dd_store_settings_log_level_put(f->db, AR, "THING_GROUP", "g2", "INFO"), 0);
	assert_int_equal(dd_store_settings_log_level_put(f->db, AR, "THING_GROUP", "g1", "DEBUG"), 0);
	assert_int_equal(dd_store_settings_log_level_put(f->db, AR, "DEFAULT", NULL, "ERROR"), 0);
	assert_int_equal(dd_store_settings_log_level_put(f->db, AR, "THING_GROUP", "g1", "WARN"), 0); /* replaces */
	assert_int_equal(dd_store_settings_log_level_put(f->db, AR2, "CLIENT_ID", "c", "WARN"), 0);
	struct text t = { 0 };
	assert_int_equal(dd_store_settings_log_levels_list(f->db, AR, NULL, "", 10, level_cb, &t), 0);
	assert_string_equal(t.s, "DEFAULT/=ERROR THING_GROUP/g1=WARN THING_GROUP/g2=INFO");
	memset(&t, 0, sizeof t);
	assert_int_equal(dd_store_settings_log_levels_list(f->db, AR, "THING_GROUP", "", 1, level_cb, &t), 0);
	assert_string_equal(t.s, "THING_GROUP/g1=WARN");
	memset(&t, 0, sizeof t);
	assert_int_equal(dd_store_settings_log_levels_list(f->db, AR, NULL, "THING_GROUP/g1", 10, level_cb, &t), 0);
	assert_string_equal(t.s, "THING_GROUP/g2=INFO");
	memset(&t, 0, sizeof t);
	t.stop_after = 1;
	assert_int_equal(dd_store_settings_log_levels_list(f->db, AR, NULL, "", 10, level_cb, &t), 0);
	assert_int_equal(t.n, 1);
	assert_int_equal(dd_store_settings_log_level_delete(f->db, AR, "THING_GROUP", "g1"), 0);
	assert_int_equal(dd_store_settings_log_level_delete(f->db, AR, "THING_GROUP", "g1"), 0);
	memset(&t, 0, sizeof t);
	assert_int_equal(dd_store_settings_log_levels_list(f->db, AR, "THING_GROUP", "", 10, level_cb, &t), 0);
	assert_string_equal(t.s, "THING_GROUP/g2=INFO");
}

static int tag_cb(void *ud, const char *key, const char *value)
{
	char item[256];
	snprintf(item, sizeof item, "%s=%s", key, value);
	add(ud, item);
	return 0;
}

static void test_tags(void **state)
{
	struct dd_test_store *f = *state;
	const char *arn = "arn:aws:iot:us-east-1:123456789012:policy/p";
	assert_int_equal(dd_store_tags_put(f->db, AR, arn, "b", "2"), 0);
	assert_int_equal(dd_store_tags_put(f->db, AR, arn, "a", "1"), 0);
	assert_int_equal(dd_store_tags_put(f->db, AR, arn, "c", NULL), 0);
	assert_int_equal(dd_store_tags_put(f->db, AR, arn, "a", "one"), 0); /* replaces */
	struct text t = { 0 };
	assert_int_equal(dd_store_tags_list(f->db, AR, arn, "", 10, tag_cb, &t), 0);
	assert_string_equal(t.s, "a=one b=2 c=");
	memset(&t, 0, sizeof t);
	assert_int_equal(dd_store_tags_list(f->db, AR, arn, "a", 1, tag_cb, &t), 0);
	assert_string_equal(t.s, "b=2");
	memset(&t, 0, sizeof t);
	assert_int_equal(dd_store_tags_list(f->db, AR2, arn, "", 10, tag_cb, &t), 0);
	assert_int_equal(t.n, 0);
	assert_int_equal(dd_store_tags_delete(f->db, AR, arn, "b"), 0);
	assert_int_equal(dd_store_tags_delete(f->db, AR, arn, "b"), 0);
	memset(&t, 0, sizeof t);
	assert_int_equal(dd_store_tags_list(f->db, AR, arn, "", 10, tag_cb, &t), 0);
	assert_string_equal(t.s, "a=one c=");
	assert_int_equal(dd_store_tags_delete_all(f->db, AR, arn), 0);
	memset(&t, 0, sizeof t);
	assert_int_equal(dd_store_tags_list(f->db, AR, arn, "", 10, tag_cb, &t), 0);
	assert_int_equal(t.n, 0);
}

static void test_tags_resource_exists(void **state)
{
	struct dd_test_store *f = *state;
	bool yes = true;
	assert_int_equal(dd_store_tags_resource_exists(f->db, AR, "policy", "p", &yes), 0);
	assert_false(yes);
	assert_int_equal(dd_store_policies_insert(f->db, AR, "p", "{}", "g", 1), 0);
	assert_int_equal(dd_store_tags_resource_exists(f->db, AR, "policy", "p", &yes), 0);
	assert_true(yes);
	assert_int_equal(dd_store_tags_resource_exists(f->db, AR2, "policy", "p", &yes), 0);
	assert_false(yes);
	assert_int_equal(dd_store_role_aliases_insert(f->db, AR, "ra", "arn:aws:iam::123456789012:role/r", 3600, 1), 0);
	assert_int_equal(dd_store_tags_resource_exists(f->db, AR, "rolealias", "ra", &yes), 0);
	assert_true(yes);
	static const char *const kinds[] = { "thing", "thinggroup", "thingtype", "billinggroup", "rule", "domainconfiguration",
					     "cert", "cacert", "mitigationaction", "scheduledaudit", "job", "jobtemplate" };
	for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
		yes = true;
		assert_int_equal(dd_store_tags_resource_exists(f->db, AR, kinds[i], "x", &yes), 0);
		assert_false(yes);
	}
	assert_int_equal(dd_store_tags_resource_exists(f->db, AR, "stream", "x", &yes), DD_EINVAL);
}

static int alias_cb(void *ud, const char *alias)
{
	add(ud, alias);
	return 0;
}

static void test_role_aliases(void **state)
{
	struct dd_test_store *f = *state;
	const char *r1 = "arn:aws:iam::123456789012:role/r1", *r2 = "arn:aws:iam::123456789012:role/r2";
	struct dd_store_role_aliases_row row;
	assert_int_equal(dd_store_role_aliases_get(f->db, AR, "b", &row), DD_ENOTFOUND);
	assert_int_equal(dd_store_role_aliases_insert(f->db, AR, "b", r1, 3600, 1000), 0);
	assert_int_equal(dd_store_role_aliases_insert(f->db, AR, "b", r2, 900, 2000), DD_EEXIST);
	assert_int_equal(dd_store_role_aliases_insert(f->db, AR, "a", r2, 900, 2000), 0);
	assert_int_equal(dd_store_role_aliases_insert(f->db, AR, "c", r2, 900, 2000), 0);
	assert_int_equal(dd_store_role_aliases_get(f->db, AR, "b", &row), 0);
	assert_string_equal(row.role_arn, r1);
	assert_int_equal(row.duration, 3600);
	assert_int_equal(row.created, 1000);
	assert_int_equal(row.modified, 1000);
	assert_int_equal(dd_store_role_aliases_get(f->db, AR2, "b", &row), DD_ENOTFOUND);

	assert_int_equal(dd_store_role_aliases_update(f->db, AR, "b", NULL, 1800, 3000), 0);
	assert_int_equal(dd_store_role_aliases_get(f->db, AR, "b", &row), 0);
	assert_string_equal(row.role_arn, r1);
	assert_int_equal(row.duration, 1800);
	assert_int_equal(row.modified, 3000);
	assert_int_equal(dd_store_role_aliases_update(f->db, AR, "b", r2, -1, 4000), 0);
	assert_int_equal(dd_store_role_aliases_get(f->db, AR, "b", &row), 0);
	assert_string_equal(row.role_arn, r2);
	assert_int_equal(row.duration, 1800);
	assert_int_equal(dd_store_role_aliases_update(f->db, AR, "zz", r2, -1, 4000), DD_ENOTFOUND);

	struct text t = { 0 };
	assert_int_equal(dd_store_role_aliases_list(f->db, AR, "", true, 10, alias_cb, &t), 0);
	assert_string_equal(t.s, "a b c");
	memset(&t, 0, sizeof t);
	assert_int_equal(dd_store_role_aliases_list(f->db, AR, "a", true, 1, alias_cb, &t), 0);
	assert_string_equal(t.s, "b");
	memset(&t, 0, sizeof t);
	assert_int_equal(dd_store_role_aliases_list(f->db, AR, "", false, 10, alias_cb, &t), 0);
	assert_string_equal(t.s, "c b a");
	memset(&t, 0, sizeof t);
	assert_int_equal(dd_store_role_aliases_list(f->db, AR, "c", false, 10, alias_cb, &t), 0);
	assert_string_equal(t.s, "b a");

	assert_int_equal(dd_store_role_aliases_delete(f->db, AR, "b"), 0);
	assert_int_equal(dd_store_role_aliases_delete(f->db, AR, "b"), DD_ENOTFOUND);
	assert_int_equal(dd_store_role_aliases_get(f->db, AR, "b", &row), DD_ENOTFOUND);
}

static void test_events(void **state)
{
	struct dd_test_store *f = *state;
	struct dd_store_events_event full = {
		.event = "connect",
		.client_id = "dev-1",
		.certificate_id = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		.principal = "arn:aws:iot:us-east-1:123456789012:cert/0123",
		.ts_ms = 1700000000000,
		.source_ip = "192.0.2.1",
	};
	struct dd_store_events_event bare = { .event = "disconnect", .client_id = "dev-1", .ts_ms = 1700000001000,
					      .reason = "CLIENT_INITIATED_DISCONNECT" };
	assert_int_equal(dd_store_events_insert(f->db, AR, &full), 0);
	assert_int_equal(dd_store_events_insert(f->db, AR, &bare), 0);
	/* the required members are required */
	struct dd_store_events_event bad = { .event = "connect", .ts_ms = 1 };
	assert_true(dd_store_events_insert(f->db, AR, &bad) < 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_settings, dd_test_store_setup, dd_test_store_teardown),
		cmocka_unit_test_setup_teardown(test_log_levels, dd_test_store_setup, dd_test_store_teardown),
		cmocka_unit_test_setup_teardown(test_tags, dd_test_store_setup, dd_test_store_teardown),
		cmocka_unit_test_setup_teardown(test_tags_resource_exists, dd_test_store_setup, dd_test_store_teardown),
		cmocka_unit_test_setup_teardown(test_role_aliases, dd_test_store_setup, dd_test_store_teardown),
		cmocka_unit_test_setup_teardown(test_events, dd_test_store_setup, dd_test_store_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

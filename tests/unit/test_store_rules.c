/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the topic rule and domain configuration store functions
 * (store/dd_store_rules.h, store/dd_store_domains.h) on a fresh store in a temporary
 * directory: insert, duplicate, get with the optional members absent and present,
 * replace keeping the creation time, listing by name with the disabled filter and a start
 * key, enable/disable, delete and not found; domain counts, listing by service type,
 * update of settings and status, delete. Two regions of one account never see each
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
#include "store/dd_store_domains.h"
#include "store/dd_store_rules.h"

#include "dd_test_store.h"

#define AR "123456789012/us-east-1"
#define AR2 "123456789012/eu-west-1"

struct text {
	char s[2048];
	int n;
};

static void add(struct text *t, const char *item)
{
	size_t l = strlen(t->s);
	snprintf(t->s + l, sizeof t->s - l, "%s%s", l ? " " : "", item);
	t->n++;
}

static int rule_cb(void *ud, const char *name, const struct dd_store_rules_rule *r)
{
	char item[512];
	snprintf(item, sizeof item, "%s|%s|%s|%s|%s|%s|%s|%d|%lld", name, r->sql, r->topic,
		 r->description ? r->description : "(null)", r->actions, r->error_action ? r->error_action : "(null)",
		 r->sql_version ? r->sql_version : "(null)", r->disabled, (long long)r->created);
	add(ud, item);
	return 0;
}

static void test_rules(void **state)
{
	struct dd_test_store *f = *state;
	struct dd_store_rules_rule bare = { .sql = "SELECT * FROM 'a/#'", .topic = "a/#", .created = 1000 };
	struct dd_store_rules_rule full = { .sql = "SELECT x FROM 'b'", .topic = "b", .description = "d",
					    .actions = "[{\"lambda\":{}}]", .error_action = "{\"sns\":{}}",
					    .sql_version = "2016-03-23", .disabled = true, .created = 2000 };
	struct text t = { 0 };
	assert_int_equal(dd_store_rules_get(f->db, AR, "r1", rule_cb, &t), DD_ENOTFOUND);
	assert_int_equal(dd_store_rules_insert(f->db, AR, "r1", &bare), 0);
	assert_int_equal(dd_store_rules_insert(f->db, AR, "r1", &full), DD_EEXIST);
	assert_int_equal(dd_store_rules_insert(f->db, AR, "r2", &full), 0);
	assert_int_equal(dd_store_rules_get(f->db, AR, "r1", rule_cb, &t), 0);
	assert_string_equal(t.s, "r1|SELECT * FROM 'a/#'|a/#|(null)|[]|(null)|(null)|0|1000");
	memset(&t, 0, sizeof t);
	assert_int_equal(dd_store_rules_get(f->db, AR, "r2", rule_cb, &t), 0);
	assert_string_equal(t.s, "r2|SELECT x FROM 'b'|b|d|[{\"lambda\":{}}]|{\"sns\":{}}|2016-03-23|1|2000");
	assert_int_equal(dd_store_rules_get(f->db, AR2, "r2", rule_cb, &t), DD_ENOTFOUND);

	memset(&t, 0, sizeof t);
	assert_int_equal(dd_store_rules_list(f->db, AR, "", -1, rule_cb, &t), 0);
	assert_int_equal(t.n, 2);
	memset(&t, 0, sizeof t);
	assert_int_equal(dd_store_rules_list(f->db, AR, "", 1, rule_cb, &t), 0);
	assert_int_equal(t.n, 1);
	assert_non_null(strstr(t.s, "r2|"));
	memset(&t, 0, sizeof t);
	assert_int_equal(dd_store_rules_list(f->db, AR, "r1", -1, rule_cb, &t), 0);
	assert_int_equal(t.n, 1);
	assert_non_null(strstr(t.s, "r2|"));

	/* replace keeps the creation time */
	full.created = 9999;
	assert_int_equal(dd_store_rules_replace(f->db, AR, "r1", &full), 0);
	assert_int_equal(dd_store_rules_replace(f->db, AR, "nope", &full), DD_ENOTFOUND);
	memset(&t, 0, sizeof t);
	assert_int_equal(dd_store_rules_get(f->db, AR, "r1", rule_cb, &t), 0);
	assert_string_equal(t.s, "r1|SELECT x FROM 'b'|b|d|[{\"lambda\":{}}]|{\"sns\":{}}|2016-03-23|1|1000");

	assert_int_equal(dd_store_rules_set_disabled(f->db, AR, "r1", false), 0);
	assert_int_equal(dd_store_rules_set_disabled(f->db, AR, "nope", false), DD_ENOTFOUND);
	memset(&t, 0, sizeof t);
	assert_int_equal(dd_store_rules_list(f->db, AR, "", 0, rule_cb, &t), 0);
	assert_int_equal(t.n, 1);
	assert_non_null(strstr(t.s, "r1|"));

	assert_int_equal(dd_store_rules_delete(f->db, AR, "r1"), 0);
	assert_int_equal(dd_store_rules_delete(f->db, AR, "r1"), DD_ENOTFOUND);
}

static int domain_cb(void *ud, const struct dd_store_domains_row *r)
{
	char item[512];
	snprintf(item, sizeof item, "%s|%s|%s|%s|%s|%s|%lld|%lld", r->name, r->arn_id, r->config, r->status, r->service_type,
		 r->domain_type, (long long)r->status_changed, (long long)r->created);
	add(ud, item);
	return 0;
}

static void test_domains(void **state)
{
	struct dd_test_store *f = *state;
	int64_t total = -1;
	bool exists = true;
	assert_int_equal(dd_store_domains_count(f->db, AR, "d1", &total, &exists), 0);
	assert_int_equal(total, 0);
	assert_false(exists);
	struct dd_store_domains_row d1 = { .name = "d1", .arn_id = "abcde", .config = "{}", .status = "ENABLED",
					   .service_type = "DATA", .domain_type = "AWS_MANAGED", .status_changed = 10,
					   .created = 10 };
	struct dd_store_domains_row d2 = { .name = "d2", .arn_id = "fghij", .config = "{\"x\":1}", .status = "ENABLED",
					   .service_type = "JOBS", .domain_type = "CUSTOMER_MANAGED", .status_changed = 20,
					   .created = 20 };
	assert_int_equal(dd_store_domains_insert(f->db, AR, &d1), 0);
	assert_int_equal(dd_store_domains_insert(f->db, AR, &d1), DD_EEXIST);
	assert_int_equal(dd_store_domains_insert(f->db, AR, &d2), 0);
	assert_int_equal(dd_store_domains_count(f->db, AR, "d1", &total, &exists), 0);
	assert_int_equal(total, 2);
	assert_true(exists);
	assert_int_equal(dd_store_domains_count(f->db, AR2, "d1", &total, &exists), 0);
	assert_int_equal(total, 0);
	assert_false(exists);

	struct text t = { 0 };
	assert_int_equal(dd_store_domains_get(f->db, AR, "d2", domain_cb, &t), 0);
	assert_string_equal(t.s, "d2|fghij|{\"x\":1}|ENABLED|JOBS|CUSTOMER_MANAGED|20|20");
	assert_int_equal(dd_store_domains_get(f->db, AR, "d3", domain_cb, &t), DD_ENOTFOUND);
	memset(&t, 0, sizeof t);
	assert_int_equal(dd_store_domains_list(f->db, AR, "", NULL, 10, domain_cb, &t), 0);
	assert_int_equal(t.n, 2);
	memset(&t, 0, sizeof t);
	assert_int_equal(dd_store_domains_list(f->db, AR, "", "JOBS", 10, domain_cb, &t), 0);
	assert_int_equal(t.n, 1);
	memset(&t, 0, sizeof t);
	assert_int_equal(dd_store_domains_list(f->db, AR, "", NULL, 1, domain_cb, &t), 0);
	assert_string_equal(t.s, "d1|abcde|{}|ENABLED|DATA|AWS_MANAGED|10|10");
	memset(&t, 0, sizeof t);
	assert_int_equal(dd_store_domains_list(f->db, AR, "d1", NULL, 10, domain_cb, &t), 0);
	assert_int_equal(t.n, 1);

	/* settings only: the status and its time stay */
	assert_int_equal(dd_store_domains_update(f->db, AR, "d1", "{\"y\":2}", NULL, -1), 0);
	memset(&t, 0, sizeof t);
	assert_int_equal(dd_store_domains_get(f->db, AR, "d1", domain_cb, &t), 0);
	assert_string_equal(t.s, "d1|abcde|{\"y\":2}|ENABLED|DATA|AWS_MANAGED|10|10");
	assert_int_equal(dd_store_domains_update(f->db, AR, "d1", "{}", "DISABLED", 30), 0);
	memset(&t, 0, sizeof t);
	assert_int_equal(dd_store_domains_get(f->db, AR, "d1", domain_cb, &t), 0);
	assert_string_equal(t.s, "d1|abcde|{}|DISABLED|DATA|AWS_MANAGED|30|10");
	assert_int_equal(dd_store_domains_update(f->db, AR, "nope", "{}", NULL, -1), DD_ENOTFOUND);

	assert_int_equal(dd_store_domains_delete(f->db, AR, "d1"), 0);
	assert_int_equal(dd_store_domains_delete(f->db, AR, "d1"), DD_ENOTFOUND);
	assert_int_equal(dd_store_domains_count(f->db, AR, "d1", &total, &exists), 0);
	assert_int_equal(total, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_rules, dd_test_store_setup, dd_test_store_teardown),
		cmocka_unit_test_setup_teardown(test_domains, dd_test_store_setup, dd_test_store_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the small operator stores on a fresh store in a temporary directory: the
 * server settings (store/dd_store_meta.h: absent key, put, replace), the report views
 * (store/dd_store_report.h: no completed audit, an unknown task, no tasks in progress),
 * and one client's connection history (dd_store_connections_tally: none recorded).
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
#include "store/dd_store_connections.h"
#include "store/dd_store_meta.h"
#include "store/dd_store_report.h"

#include "dd_test_store.h"

static void test_meta(void **state)
{
	struct dd_test_store *f = *state;
	char *v = NULL;
	assert_int_equal(dd_store_meta_get(f->db, "k", &v), DD_ENOTFOUND);
	assert_int_equal(dd_store_meta_put(f->db, "k", "one"), 0);
	assert_int_equal(dd_store_meta_get(f->db, "k", &v), 0);
	assert_string_equal(v, "one");
	free(v);
	assert_int_equal(dd_store_meta_put(f->db, "k", "two"), 0);
	assert_int_equal(dd_store_meta_get(f->db, "k", &v), 0);
	assert_string_equal(v, "two");
	free(v);
	assert_int_equal(dd_store_meta_get(f->db, "K", &v), DD_ENOTFOUND);
}

static void test_report_empty(void **state)
{
	struct dd_test_store *f = *state;
	char id[64], ar[80];
	int64_t n = -1;
	assert_int_equal(dd_store_report_latest_audit(f->db, NULL, id, sizeof id, ar, sizeof ar), DD_ENOTFOUND);
	assert_int_equal(dd_store_report_latest_audit(f->db, "111111111111", id, sizeof id, ar, sizeof ar), DD_ENOTFOUND);
	assert_int_equal(dd_store_report_audit_owner(f->db, "nope", NULL, ar, sizeof ar), DD_ENOTFOUND);
	assert_int_equal(dd_store_report_tasks_in_progress(f->db, DD_STORE_REPORT_AUDIT, &n), 0);
	assert_int_equal(n, 0);
	n = -1;
	assert_int_equal(dd_store_report_tasks_in_progress(f->db, DD_STORE_REPORT_MITIGATION, &n), 0);
	assert_int_equal(n, 0);
	int c = -1, d = -1;
	char reason[64] = "x";
	assert_int_equal(dd_store_connections_tally(f->db, "111111111111/us-east-1", "dev-1", &c, &d, reason,
						    sizeof reason), 0);
	assert_int_equal(c, 0);
	assert_int_equal(d, 0);
	assert_string_equal(reason, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_meta, dd_test_store_setup, dd_test_store_teardown),
		cmocka_unit_test_setup_teardown(test_report_empty, dd_test_store_setup, dd_test_store_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

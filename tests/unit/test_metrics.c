/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the metrics registry (src/base/dd_metrics.c): series claimed by many
 * threads at once are counted exactly once each, histogram buckets are cumulative and
 * end in +Inf equal to the count, label values are escaped, and the store's backup
 * (src/store/dd_store_backup.c) copies a database that passes integrity_check.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <unistd.h>

#include <cmocka.h>

#include "store/dd_store_int.h"
#include "dd/buf.h"
#include "dd/metrics.h"
#include "dd/store.h"

#define THREADS 8
#define PER_THREAD 5000

static void *hammer(void *arg)
{
	(void)arg;
	for (int i = 0; i < PER_THREAD; i++) {
		char op[32];
		snprintf(op, sizeof op, "Op%d", i % 20);
		dd_metrics_request("iot", op, 200 + (i % 2) * 200, (i % 7) * 3000, 10);
	}
	return NULL;
}

static unsigned long long value_of(const char *text, const char *line_prefix)
{
	const char *p = strstr(text, line_prefix);
	assert_non_null(p);
	return strtoull(p + strlen(line_prefix), NULL, 10);
}

static void test_concurrent_counts(void **state)
{
	(void)state;
	pthread_t t[THREADS];
	for (int i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, hammer, NULL), 0);
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	struct dd_buf b;
	dd_buf_init(&b, 0);
	dd_metrics_render(&b);
	assert_non_null(b.data);
	/* Op0 is hit for i % 20 == 0: i even, so always status 200 */
	unsigned long long n = value_of(b.data, "iotdefender_http_requests_total{service=\"iot\",operation=\"Op0\",status=\"200\"} ");
	assert_int_equal(n, THREADS * PER_THREAD / 20);
	n = value_of(b.data, "iotdefender_http_requests_total{service=\"iot\",operation=\"Op1\",status=\"400\"} ");
	assert_int_equal(n, THREADS * PER_THREAD / 20);
	/* +Inf bucket equals the count, and buckets never decrease */
	const char *inf = "iotdefender_http_request_duration_seconds_bucket{service=\"iot\",operation=\"Op0\",status=\"200\",le=\"+Inf\"} ";
	assert_int_equal(value_of(b.data, inf), THREADS * PER_THREAD / 20);
	unsigned long long prev = 0;
	const char *p = b.data;
	const char *pfx = "iotdefender_http_request_duration_seconds_bucket{service=\"iot\",operation=\"Op0\",status=\"200\",le=\"";
	int buckets = 0;
	while ((p = strstr(p, pfx)) != NULL) {
		const char *sp = strchr(p, ' ');
		unsigned long long v = strtoull(sp + 1, NULL, 10);
		assert_true(v >= prev);
		prev = v;
		buckets++;
		p = sp;
	}
	assert_int_equal(buckets, 13);
	assert_int_equal(prev, THREADS * PER_THREAD / 20);
	dd_buf_free(&b);
}

static void test_escaping_and_families(void **state)
{
	(void)state;
	dd_metrics_task("audit", "COMP\"LETED\\", 1500);
	dd_metrics_delivery("failed");
	dd_metrics_findings(3);
	struct dd_buf b;
	dd_buf_init(&b, 0);
	dd_metrics_render(&b);
	assert_non_null(strstr(b.data, "iotdefender_tasks_total{kind=\"audit\",status=\"COMP\\\"LETED\\\\\"} 1\n"));
	assert_non_null(strstr(b.data, "iotdefender_sns_deliveries_total{result=\"failed\"} 1\n"));
	assert_non_null(strstr(b.data, "iotdefender_audit_findings_written_total 3\n"));
	assert_non_null(strstr(b.data, "# TYPE iotdefender_store_write_transaction_seconds histogram\n"));
	dd_buf_free(&b);
}

static void test_backup_copy(void **state)
{
	(void)state;
	char dir[] = "/tmp/ddmetrics-XXXXXX";
	assert_non_null(mkdtemp(dir));
	struct dd_store *s = NULL;
	assert_int_equal(dd_store_open(dir, &s), 0);
	struct dd_db *db = dd_store_db(s);
	assert_non_null(db);
	assert_int_equal(dd_db_begin_write(db), 0);
	assert_int_equal(dd_db_exec(db, "INSERT INTO server_meta(key, value) VALUES ('k', 'v')"), 0);
	assert_int_equal(dd_db_commit(db), 0);
	char dest[256], err[256];
	snprintf(dest, sizeof dest, "%s/copy.db", dir);
	assert_int_equal(dd_store_backup(dir, dest, err, sizeof err), 0);
	assert_int_equal(dd_store_backup(dir, dest, err, sizeof err), DD_EEXIST);
	int v = 0;
	assert_int_equal(dd_store_backup_file_version(dest, &v, err, sizeof err), 0);
	assert_int_equal(v, dd_store_backup_binary_schema_version());
	dd_store_close(s);
	char cmd[512];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_concurrent_counts),
		cmocka_unit_test(test_escaping_and_families),
		cmocka_unit_test(test_backup_copy),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

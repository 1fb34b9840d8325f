/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the change journal's store functions (store/dd_store_changes.h) on a
 * fresh store in a temporary directory: notes are read back in sequence order and in
 * pages, the last sequence follows, pruning keeps the newest entry, a certificate change
 * of a certificate issued under the server's rules is not a trust-anchor change, the
 * trust-anchor listings are empty on a fresh store, and the broker endpoint is recorded
 * per region (DD_ENOTFOUND before).
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
#include "store/dd_store_changes.h"

#include "dd_test_store.h"

#define AR "123456789012/us-east-1"

static void note(struct dd_test_store *f, const char *kind, const char *subject, int64_t ts)
{
	assert_int_equal(dd_db_begin_write(f->db), 0);
	assert_int_equal(dd_store_changes_note(f->db, AR, kind, subject, "{}", ts), 0);
	assert_int_equal(dd_db_commit(f->db), 0);
}

static void test_note_read_last(void **state)
{
	struct dd_test_store *f = *state;
	int64_t base = -1;
	assert_int_equal(dd_store_changes_last(f->db, &base), 0);
	assert_true(base >= 0);
	note(f, "connection", "client-1", 1000);
	note(f, "cert", "abc", 2000);
	note(f, "logging", "logging_v2", 3000);
	struct dd_change buf[2];
	size_t n = 0;
	assert_int_equal(dd_store_changes_read(f->db, base, buf, 2, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(buf[0].kind, "connection");
	assert_string_equal(buf[0].subject, "client-1");
	assert_string_equal(buf[0].account_region, AR);
	assert_string_equal(buf[0].arg, "{}");
	assert_string_equal(buf[1].kind, "cert");
	assert_true(buf[1].seq > buf[0].seq);
	/* the next page */
	assert_int_equal(dd_store_changes_read(f->db, buf[1].seq, buf, 2, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(buf[0].kind, "logging");
	int64_t last = 0;
	assert_int_equal(dd_store_changes_last(f->db, &last), 0);
	assert_int_equal(last, buf[0].seq);
	assert_int_equal(dd_store_changes_read(f->db, last, buf, 2, &n), 0);
	assert_int_equal(n, 0);
}

static void test_prune_keeps_newest(void **state)
{
	struct dd_test_store *f = *state;
	note(f, "cert", "a", 1000);
	note(f, "cert", "b", 1000);
	int64_t last = 0;
	assert_int_equal(dd_store_changes_last(f->db, &last), 0);
	assert_int_equal(dd_db_begin_write(f->db), 0);
	assert_int_equal(dd_store_changes_prune(f->db, 5000), 0);
	assert_int_equal(dd_db_commit(f->db), 0);
	struct dd_change buf[4];
	size_t n = 0;
	assert_int_equal(dd_store_changes_read(f->db, 0, buf, 4, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(buf[0].seq, last);
	assert_string_equal(buf[0].subject, "b");
}

static int count_pem(const char *pem, void *ud)
{
	(void)pem;
	++*(int *)ud;
	return 0;
}

static void test_trust_anchors(void **state)
{
	struct dd_test_store *f = *state;
	int64_t last = -1;
	note(f, "cert", "not-registered", 1000);
	assert_int_equal(dd_store_changes_trust_last(f->db, 0, &last), 0);
	assert_int_equal(last, 0); /* a certificate that is not self-signed without a CA */
	note(f, "ca", "some-ca", 1000);
	int64_t seq = 0;
	assert_int_equal(dd_store_changes_last(f->db, &seq), 0);
	assert_int_equal(dd_store_changes_trust_last(f->db, 0, &last), 0);
	assert_int_equal(last, seq);
	assert_int_equal(dd_store_changes_trust_last(f->db, seq, &last), 0);
	assert_int_equal(last, 0);
	int n = 0;
	assert_int_equal(dd_store_changes_active_cas(f->db, count_pem, &n), 0);
	assert_int_equal(dd_store_changes_self_signed(f->db, count_pem, &n), 0);
	assert_int_equal(n, 0);
}

static void test_endpoint(void **state)
{
	struct dd_test_store *f = *state;
	char out[64] = "";
	assert_int_equal(dd_store_changes_endpoint_get(f->db, "eu-west-1", out, sizeof out), DD_ENOTFOUND);
	assert_int_equal(dd_store_changes_endpoint_set(f->db, "eu-west-1", "127.0.0.1:8883"), 0);
	assert_int_equal(dd_store_changes_endpoint_set(f->db, "eu-west-1", "127.0.0.1:8884"), 0); /* replaced */
	assert_int_equal(dd_store_changes_endpoint_get(f->db, "eu-west-1", out, sizeof out), 0);
	assert_string_equal(out, "127.0.0.1:8884");
	assert_int_equal(dd_store_changes_endpoint_get(f->db, "us-east-1", out, sizeof out), DD_ENOTFOUND);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_note_read_last, dd_test_store_setup, dd_test_store_teardown),
		cmocka_unit_test_setup_teardown(test_prune_keeps_newest, dd_test_store_setup, dd_test_store_teardown),
		cmocka_unit_test_setup_teardown(test_trust_anchors, dd_test_store_setup, dd_test_store_teardown),
		cmocka_unit_test_setup_teardown(test_endpoint, dd_test_store_setup, dd_test_store_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the CRL store (src/store/dd_store_crl.c) on a fresh store in a temporary
 * directory: storing and replacing a CA's CRL with its serials, thisUpdate, the revoked
 * lookup with its validity bounds, listing, deletion, and the per-URL fetch cache
 * (success, failure, not-found, listing by CA).
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
#include "store/dd_store_crl.h"

#include "dd_test_store.h"

#define AR "111111111111/us-east-1"
#define AR2 "222222222222/eu-west-1"
#define CA1 "1111111111111111111111111111111111111111111111111111111111111111"
#define CA2 "2222222222222222222222222222222222222222222222222222222222222222"

static void put(struct dd_test_store *f, const char *ar, const char *ca, const char *issuer, int64_t this_ms, int64_t next_ms,
		const char *const *serials, size_t n)
{
	struct dd_store_crl_row r = {
		.ca_id = ca, .issuer = issuer, .this_update_ms = this_ms, .next_update_ms = next_ms, .source = "import",
		.stored_ms = 5000, .der = "\x30\x00", .der_len = 2,
	};
	assert_int_equal(dd_db_begin_write(f->db), 0);
	assert_int_equal(dd_store_crl_put(f->db, ar, &r, serials, n), 0);
	assert_int_equal(dd_db_commit(f->db), 0);
}

struct seen {
	int n;
	char ca[65], source[32];
	int64_t n_revoked, this_ms;
};

static int record(const struct dd_store_crl_row *r, void *ud)
{
	struct seen *s = ud;
	s->n++;
	snprintf(s->ca, sizeof s->ca, "%s", r->ca_id);
	snprintf(s->source, sizeof s->source, "%s", r->source);
	s->n_revoked = r->n_revoked;
	s->this_ms = r->this_update_ms;
	return 0;
}

static void test_put_lookup_delete(void **state)
{
	struct dd_test_store *f = *state;
	int64_t t = 0;
	char by[65] = "";
	assert_int_equal(dd_store_crl_any(f->db, AR), 0);
	assert_int_equal(dd_store_crl_this_update(f->db, AR, CA1, &t), DD_ENOTFOUND);
	const char *const s1[] = { "1001", "1002" };
	put(f, AR, CA1, "CN=ca", 1000, 9000, s1, 2);
	assert_int_equal(dd_store_crl_any(f->db, AR), 1);
	assert_int_equal(dd_store_crl_any(f->db, AR2), 0);
	assert_int_equal(dd_store_crl_this_update(f->db, AR, CA1, &t), 0);
	assert_int_equal(t, 1000);

	/* inside the bounds */
	assert_int_equal(dd_store_crl_revoked(f->db, AR, "CN=ca", "1001", 1000, 9000, by), 1);
	assert_string_equal(by, CA1);
	/* thisUpdate after the bound, nextUpdate before it */
	assert_int_equal(dd_store_crl_revoked(f->db, AR, "CN=ca", "1001", 999, 0, by), 0);
	assert_int_equal(dd_store_crl_revoked(f->db, AR, "CN=ca", "1001", 5000, 9001, by), 0);
	/* other serial, issuer, account */
	assert_int_equal(dd_store_crl_revoked(f->db, AR, "CN=ca", "1003", 5000, 0, by), 0);
	assert_int_equal(dd_store_crl_revoked(f->db, AR, "CN=other", "1001", 5000, 0, by), 0);
	assert_int_equal(dd_store_crl_revoked(f->db, AR2, "CN=ca", "1001", 5000, 0, NULL), 0);

	/* replacing drops the old serials */
	const char *const s2[] = { "1003" };
	put(f, AR, CA1, "CN=ca", 2000, 0, s2, 1);
	assert_int_equal(dd_store_crl_revoked(f->db, AR, "CN=ca", "1001", 5000, 0, by), 0);
	assert_int_equal(dd_store_crl_revoked(f->db, AR, "CN=ca", "1003", 5000, 1 << 30, by), 1); /* no nextUpdate */
	struct seen s = { 0 };
	assert_int_equal(dd_store_crl_list(f->db, AR, NULL, record, &s), 0);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.n_revoked, 1);
	assert_int_equal(s.this_ms, 2000);
	assert_string_equal(s.source, "import");

	put(f, AR, CA2, "CN=ca", 2000, 0, NULL, 0);
	memset(&s, 0, sizeof s);
	assert_int_equal(dd_store_crl_list(f->db, AR, NULL, record, &s), 0);
	assert_int_equal(s.n, 2);
	memset(&s, 0, sizeof s);
	assert_int_equal(dd_store_crl_list(f->db, AR, CA2, record, &s), 0);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.ca, CA2);

	assert_int_equal(dd_db_begin_write(f->db), 0);
	assert_int_equal(dd_store_crl_delete(f->db, AR, CA1), 0);
	assert_int_equal(dd_store_crl_delete(f->db, AR, CA1), 0); /* nothing stored is fine */
	assert_int_equal(dd_db_commit(f->db), 0);
	assert_int_equal(dd_store_crl_revoked(f->db, AR, "CN=ca", "1003", 5000, 0, by), 0);
	assert_int_equal(dd_store_crl_this_update(f->db, AR, CA1, &t), DD_ENOTFOUND);
	assert_int_equal(dd_store_crl_any(f->db, AR), 1);

	struct dd_store_crl_row bad = { .ca_id = NULL };
	assert_int_equal(dd_store_crl_put(f->db, AR, &bad, NULL, 0), DD_EINVAL);
}

struct fetch_seen {
	int n;
	char url[128], ca[65], err[64];
	bool has_ca, has_err;
	int64_t last_attempt, last_success, ok_until, fetches, failures;
};

static int record_fetch(const struct dd_store_crl_fetch *f, void *ud)
{
	struct fetch_seen *s = ud;
	s->n++;
	snprintf(s->url, sizeof s->url, "%s", f->url);
	s->has_ca = f->ca_id != NULL;
	snprintf(s->ca, sizeof s->ca, "%s", f->ca_id ? f->ca_id : "");
	s->has_err = f->last_error != NULL;
	snprintf(s->err, sizeof s->err, "%s", f->last_error ? f->last_error : "");
	s->last_attempt = f->last_attempt_ms;
	s->last_success = f->last_success_ms;
	s->ok_until = f->ok_until_ms;
	s->fetches = f->fetches;
	s->failures = f->failures;
	return 0;
}

static void test_fetch_cache(void **state)
{
	struct dd_test_store *f = *state;
	const char *u1 = "http://crl.example/1.crl", *u2 = "http://crl.example/2.crl";
	struct fetch_seen s = { 0 };
	assert_int_equal(dd_store_crl_fetch_get(f->db, AR, u1, record_fetch, &s), DD_ENOTFOUND);

	assert_int_equal(dd_db_begin_write(f->db), 0);
	assert_int_equal(dd_store_crl_fetch_failed(f->db, AR, u1, 100, "unreachable"), 0);
	assert_int_equal(dd_db_commit(f->db), 0);
	assert_int_equal(dd_store_crl_fetch_get(f->db, AR, u1, record_fetch, &s), 0);
	assert_int_equal(s.n, 1);
	assert_true(s.has_err);
	assert_string_equal(s.err, "unreachable");
	assert_false(s.has_ca);
	assert_int_equal(s.fetches, 1);
	assert_int_equal(s.failures, 1);
	assert_int_equal(s.ok_until, 0);

	assert_int_equal(dd_db_begin_write(f->db), 0);
	assert_int_equal(dd_store_crl_fetch_succeeded(f->db, AR, u1, 200, 9000, 150, 9000, CA1), 0);
	assert_int_equal(dd_store_crl_fetch_succeeded(f->db, AR, u2, 200, 7000, 150, 0, CA2), 0);
	assert_int_equal(dd_db_commit(f->db), 0);
	memset(&s, 0, sizeof s);
	assert_int_equal(dd_store_crl_fetch_get(f->db, AR, u1, record_fetch, &s), 0);
	assert_false(s.has_err);
	assert_true(s.has_ca);
	assert_string_equal(s.ca, CA1);
	assert_int_equal(s.fetches, 2);
	assert_int_equal(s.failures, 1);
	assert_int_equal(s.last_attempt, 200);
	assert_int_equal(s.last_success, 200);
	assert_int_equal(s.ok_until, 9000);
	assert_int_equal(dd_store_crl_fetch_get(f->db, AR2, u1, record_fetch, &s), DD_ENOTFOUND);

	/* a failure after a success drops the cache but keeps the last success */
	assert_int_equal(dd_db_begin_write(f->db), 0);
	assert_int_equal(dd_store_crl_fetch_failed(f->db, AR, u1, 300, "HTTP status 500"), 0);
	assert_int_equal(dd_db_commit(f->db), 0);
	memset(&s, 0, sizeof s);
	assert_int_equal(dd_store_crl_fetch_get(f->db, AR, u1, record_fetch, &s), 0);
	assert_int_equal(s.ok_until, 0);
	assert_int_equal(s.last_success, 200);
	assert_int_equal(s.last_attempt, 300);

	memset(&s, 0, sizeof s);
	assert_int_equal(dd_store_crl_fetch_list(f->db, AR, NULL, record_fetch, &s), 0);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.url, u2); /* ordered by URL: the last one seen */
	memset(&s, 0, sizeof s);
	assert_int_equal(dd_store_crl_fetch_list(f->db, AR, CA2, record_fetch, &s), 0);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.url, u2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_put_lookup_delete, dd_test_store_setup, dd_test_store_teardown),
		cmocka_unit_test_setup_teardown(test_fetch_cache, dd_test_store_setup, dd_test_store_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

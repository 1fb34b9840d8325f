/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the certificates store (src/store/dd_store_certs.c) on a fresh store in a
 * temporary directory: insert, get, exists, status, status change, CA registration
 * settings, delete (with not-found and duplicate cases), keyset listings in both orders
 * with their filters, CAs by subject, distribution point texts, the upkeep scans across
 * accounts, the registration code, and the attachment and tag rows a deletion looks at.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "store/dd_store_int.h"
#include "dd/store.h"
#include "store/dd_store_certs.h"

#include "dd_test_store.h"

#define AR "111111111111/us-east-1"
#define AR2 "222222222222/eu-west-1"

/* A 64-character id made of one repeated hex digit. */
static const char *hex_id(char c, char buf[65])
{
	memset(buf, c, 64);
	buf[64] = '\0';
	return buf;
}

static struct dd_store_certs_row row(const char *id, const char *status, int64_t created, const char *subject,
				     const char *issuer)
{
	struct dd_store_certs_row r = {
		.id = id, .status = status, .mode = "DEFAULT", .owner = "111111111111", .created_ms = created,
		.generation_id = "gen-1", .pem = "-----PEM-----",
		.f = { .subject = subject, .issuer = issuer, .subject_cn = "cn", .serial = "1001",
		       .not_before_ms = 1000, .not_after_ms = 2000, .key_type = "RSA", .key_bits = 2048, .curve = "",
		       .pubkey_sha256 = "pk", .key_sha256 = "ks", .key_sha1_80 = "k1", .ski = "s", .aki = "a",
		       .crl_urls = "[\"http://crl.example/a.crl\"]", .roca = 1, .debian = 1, .facts_version = 1 },
	};
	return r;
}

static void insert(struct dd_test_store *f, const char *ar, enum dd_store_certs_kind kind, const struct dd_store_certs_row *r)
{
	assert_int_equal(dd_db_begin_write(f->db), 0);
	assert_int_equal(dd_store_certs_insert(f->db, ar, kind, r), 0);
	assert_int_equal(dd_db_commit(f->db), 0);
}

struct seen {
	int n;
	char ids[8][65];
	char status[32];
	int64_t version;
	char pem[32], owner[16], ca_id[65], config[128], autoreg[16], urls[64], subject[64];
	int key_bits, debian;
	bool has_config;
};

static int record(const struct dd_store_certs_row *r, void *ud)
{
	struct seen *s = ud;
	if (s->n < 8)
		snprintf(s->ids[s->n], 65, "%s", r->id);
	s->n++;
	snprintf(s->status, sizeof s->status, "%s", r->status ? r->status : "");
	s->version = r->customer_version;
	snprintf(s->pem, sizeof s->pem, "%s", r->pem ? r->pem : "(null)");
	snprintf(s->owner, sizeof s->owner, "%s", r->owner ? r->owner : "(null)");
	snprintf(s->ca_id, sizeof s->ca_id, "%s", r->ca_id ? r->ca_id : "(null)");
	s->has_config = r->registration_config != NULL;
	snprintf(s->config, sizeof s->config, "%s", r->registration_config ? r->registration_config : "");
	snprintf(s->autoreg, sizeof s->autoreg, "%s", r->auto_registration ? r->auto_registration : "");
	snprintf(s->urls, sizeof s->urls, "%s", r->f.crl_urls ? r->f.crl_urls : "(null)");
	snprintf(s->subject, sizeof s->subject, "%s", r->f.subject ? r->f.subject : "");
	s->key_bits = r->f.key_bits;
	s->debian = r->f.debian;
	return 0;
}

static void test_insert_get_delete(void **state)
{
	struct dd_test_store *f = *state;
	char a[65], ca[65], status[32];
	struct dd_store_certs_row r = row(hex_id('a', a), "ACTIVE", 100, "CN=dev", "CN=ca");
	r.ca_id = hex_id('c', ca);
	insert(f, AR, DD_STORE_CERTS_DEVICE, &r);

	assert_int_equal(dd_store_certs_exists(f->db, AR, DD_STORE_CERTS_DEVICE, a), 1);
	assert_int_equal(dd_store_certs_exists(f->db, AR, DD_STORE_CERTS_CA, a), 0);
	assert_int_equal(dd_store_certs_exists(f->db, AR2, DD_STORE_CERTS_DEVICE, a), 0);

	struct seen s = { 0 };
	assert_int_equal(dd_store_certs_get(f->db, AR, DD_STORE_CERTS_DEVICE, a, record, &s), 0);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.status, "ACTIVE");
	assert_string_equal(s.pem, "-----PEM-----");
	assert_string_equal(s.owner, "111111111111");
	assert_string_equal(s.ca_id, ca);
	assert_string_equal(s.urls, "[\"http://crl.example/a.crl\"]");
	assert_int_equal(s.version, 1);
	assert_int_equal(s.key_bits, 2048);
	assert_false(s.has_config);

	/* the scan reads the facts but not the PEM */
	memset(&s, 0, sizeof s);
	assert_int_equal(dd_store_certs_scan(f->db, AR, DD_STORE_CERTS_DEVICE, NULL, record, &s), 0);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.pem, "(null)");
	assert_string_equal(s.subject, "CN=dev");

	/* duplicate */
	assert_int_equal(dd_db_begin_write(f->db), 0);
	assert_int_equal(dd_store_certs_insert(f->db, AR, DD_STORE_CERTS_DEVICE, &r), DD_EEXIST);
	dd_db_rollback(f->db);
	/* the same certificate in another region is another row */
	insert(f, AR2, DD_STORE_CERTS_DEVICE, &r);

	/* status */
	assert_int_equal(dd_store_certs_status(f->db, AR, DD_STORE_CERTS_DEVICE, a, status), 0);
	assert_string_equal(status, "ACTIVE");
	assert_int_equal(dd_db_begin_write(f->db), 0);
	assert_int_equal(dd_store_certs_set_status(f->db, AR, DD_STORE_CERTS_DEVICE, a, "INACTIVE", 500, "gen-2"), 0);
	assert_int_equal(dd_store_certs_set_status(f->db, AR, DD_STORE_CERTS_DEVICE, hex_id('b', ca), "INACTIVE", 500,
						   "gen-2"), DD_ENOTFOUND);
	assert_int_equal(dd_db_commit(f->db), 0);
	memset(&s, 0, sizeof s);
	assert_int_equal(dd_store_certs_get(f->db, AR, DD_STORE_CERTS_DEVICE, a, record, &s), 0);
	assert_string_equal(s.status, "INACTIVE");
	assert_int_equal(s.version, 2);
	assert_int_equal(dd_store_certs_status(f->db, AR2, DD_STORE_CERTS_DEVICE, a, status), 0);
	assert_string_equal(status, "ACTIVE");

	/* not found */
	char b[65];
	assert_int_equal(dd_store_certs_get(f->db, AR, DD_STORE_CERTS_DEVICE, hex_id('b', b), record, &s), DD_ENOTFOUND);
	assert_int_equal(dd_store_certs_status(f->db, AR, DD_STORE_CERTS_CA, a, status), DD_ENOTFOUND);

	/* delete */
	assert_int_equal(dd_db_begin_write(f->db), 0);
	assert_int_equal(dd_store_certs_delete(f->db, AR, DD_STORE_CERTS_DEVICE, a), 0);
	assert_int_equal(dd_store_certs_delete(f->db, AR, DD_STORE_CERTS_DEVICE, a), DD_ENOTFOUND);
	assert_int_equal(dd_db_commit(f->db), 0);
	assert_int_equal(dd_store_certs_exists(f->db, AR, DD_STORE_CERTS_DEVICE, a), 0);
	assert_int_equal(dd_store_certs_exists(f->db, AR2, DD_STORE_CERTS_DEVICE, a), 1);
}

static void test_ca_registration(void **state)
{
	struct dd_test_store *f = *state;
	char c1[65], c2[65];
	struct dd_store_certs_row r = row(hex_id('1', c1), "ACTIVE", 100, "CN=root", "CN=root");
	r.auto_registration = "ENABLE";
	r.registration_config = "{\"templateName\":\"t1\"}";
	insert(f, AR, DD_STORE_CERTS_CA, &r);
	struct dd_store_certs_row r2 = row(hex_id('2', c2), "INACTIVE", 200, "CN=root", "CN=root");
	insert(f, AR, DD_STORE_CERTS_CA, &r2);

	struct seen s = { 0 };
	assert_int_equal(dd_store_certs_get(f->db, AR, DD_STORE_CERTS_CA, c1, record, &s), 0);
	assert_string_equal(s.autoreg, "ENABLE");
	assert_true(s.has_config);
	assert_string_equal(s.config, "{\"templateName\":\"t1\"}");
	assert_string_equal(s.ca_id, "");
	memset(&s, 0, sizeof s);
	assert_int_equal(dd_store_certs_get(f->db, AR, DD_STORE_CERTS_CA, c2, record, &s), 0);
	assert_string_equal(s.autoreg, "DISABLE");
	assert_false(s.has_config);

	/* listing by template */
	struct dd_store_certs_page p = { .ascending = true, .limit = 10, .template_name = "t1" };
	memset(&s, 0, sizeof s);
	assert_int_equal(dd_store_certs_list(f->db, AR, DD_STORE_CERTS_CA, &p, record, &s), 0);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.ids[0], c1);

	/* CAs by subject: ACTIVE first, or by id */
	assert_int_equal(dd_db_begin_write(f->db), 0);
	assert_int_equal(dd_store_certs_set_status(f->db, AR, DD_STORE_CERTS_CA, c1, "INACTIVE", 300, "g"), 0);
	assert_int_equal(dd_store_certs_set_status(f->db, AR, DD_STORE_CERTS_CA, c2, "ACTIVE", 300, "g"), 0);
	assert_int_equal(dd_db_commit(f->db), 0);
	memset(&s, 0, sizeof s);
	assert_int_equal(dd_store_certs_ca_by_subject(f->db, AR, "CN=root", true, record, &s), 0);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.ids[0], c2);
	memset(&s, 0, sizeof s);
	assert_int_equal(dd_store_certs_ca_by_subject(f->db, AR, "CN=root", false, record, &s), 0);
	assert_string_equal(s.ids[0], c1);
	assert_string_equal(s.pem, "-----PEM-----");
	memset(&s, 0, sizeof s);
	assert_int_equal(dd_store_certs_ca_by_subject(f->db, AR, "CN=other", true, record, &s), 0);
	assert_int_equal(s.n, 0);

	/* registration settings */
	assert_int_equal(dd_db_begin_write(f->db), 0);
	assert_int_equal(dd_store_certs_ca_set_registration(f->db, AR, c2, "ENABLE", "{\"templateName\":\"t2\"}", false, 400), 0);
	assert_int_equal(dd_store_certs_ca_set_registration(f->db, AR, c1, NULL, NULL, true, 400), 0);
	char none[65];
	assert_int_equal(dd_store_certs_ca_set_registration(f->db, AR, hex_id('9', none), NULL, NULL, true, 400),
			 DD_ENOTFOUND);
	assert_int_equal(dd_db_commit(f->db), 0);
	memset(&s, 0, sizeof s);
	assert_int_equal(dd_store_certs_get(f->db, AR, DD_STORE_CERTS_CA, c2, record, &s), 0);
	assert_string_equal(s.autoreg, "ENABLE");
	assert_string_equal(s.config, "{\"templateName\":\"t2\"}");
	memset(&s, 0, sizeof s);
	assert_int_equal(dd_store_certs_get(f->db, AR, DD_STORE_CERTS_CA, c1, record, &s), 0);
	assert_string_equal(s.autoreg, "DISABLE");
	assert_false(s.has_config);
}

static void test_list_paging(void **state)
{
	struct dd_test_store *f = *state;
	char ids[4][65], ca[65];
	hex_id('c', ca);
	for (int i = 0; i < 4; i++) {
		struct dd_store_certs_row r = row(hex_id((char)('a' + i), ids[i]), "ACTIVE", i < 2 ? 100 : 200, "CN=d", "CN=c");
		r.ca_id = i % 2 ? ca : NULL;
		insert(f, AR, DD_STORE_CERTS_DEVICE, &r);
	}
	/* ascending, two at a time: a, b | c, d */
	struct dd_store_certs_page p = { .ascending = true, .limit = 2 };
	struct seen s = { 0 };
	assert_int_equal(dd_store_certs_list(f->db, AR, DD_STORE_CERTS_DEVICE, &p, record, &s), 0);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.ids[0], ids[0]);
	assert_string_equal(s.ids[1], ids[1]);
	p.after_id = ids[1];
	p.after_created_ms = 100;
	memset(&s, 0, sizeof s);
	assert_int_equal(dd_store_certs_list(f->db, AR, DD_STORE_CERTS_DEVICE, &p, record, &s), 0);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.ids[0], ids[2]);
	assert_string_equal(s.ids[1], ids[3]);
	/* descending: d, c, b, a */
	struct dd_store_certs_page d = { .ascending = false, .limit = 3 };
	memset(&s, 0, sizeof s);
	assert_int_equal(dd_store_certs_list(f->db, AR, DD_STORE_CERTS_DEVICE, &d, record, &s), 0);
	assert_int_equal(s.n, 3);
	assert_string_equal(s.ids[0], ids[3]);
	assert_string_equal(s.ids[2], ids[1]);
	d.after_id = ids[1];
	d.after_created_ms = 100;
	memset(&s, 0, sizeof s);
	assert_int_equal(dd_store_certs_list(f->db, AR, DD_STORE_CERTS_DEVICE, &d, record, &s), 0);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.ids[0], ids[0]);
	/* by CA */
	struct dd_store_certs_page byca = { .ascending = true, .limit = 10, .ca_id = ca };
	memset(&s, 0, sizeof s);
	assert_int_equal(dd_store_certs_list(f->db, AR, DD_STORE_CERTS_DEVICE, &byca, record, &s), 0);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.ids[0], ids[1]);
	assert_string_equal(s.ids[1], ids[3]);
	/* bad page */
	struct dd_store_certs_page bad = { .limit = 0 };
	assert_int_equal(dd_store_certs_list(f->db, AR, DD_STORE_CERTS_DEVICE, &bad, record, &s), DD_EINVAL);
}

static int count_text(const char *text, void *ud)
{
	(*(int *)ud)++;
	assert_non_null(strstr(text, "http://"));
	return 0;
}

static void test_crl_urls(void **state)
{
	struct dd_test_store *f = *state;
	char a[65], b[65], c[65], x[65];
	struct dd_store_certs_row r1 = row(hex_id('a', a), "ACTIVE", 1, "CN=d", "CN=c");
	struct dd_store_certs_row r2 = row(hex_id('b', b), "ACTIVE", 2, "CN=d", "CN=c"); /* same text */
	struct dd_store_certs_row r3 = row(hex_id('c', c), "INACTIVE", 3, "CN=d", "CN=c");
	r3.f.crl_urls = "[\"http://crl.example/inactive.crl\"]";
	struct dd_store_certs_row rc = row(hex_id('f', x), "INACTIVE", 4, "CN=c", "CN=c");
	rc.f.crl_urls = "[\"http://crl.example/ca.crl\"]";
	insert(f, AR, DD_STORE_CERTS_DEVICE, &r1);
	insert(f, AR, DD_STORE_CERTS_DEVICE, &r2);
	insert(f, AR, DD_STORE_CERTS_DEVICE, &r3);
	insert(f, AR, DD_STORE_CERTS_CA, &rc);
	int n = 0;
	assert_int_equal(dd_store_certs_crl_urls(f->db, AR, count_text, &n), 0);
	assert_int_equal(n, 2); /* the shared device text once, the CA's; not the inactive device's */
	n = 0;
	assert_int_equal(dd_store_certs_crl_urls(f->db, AR2, count_text, &n), 0);
	assert_int_equal(n, 0);
}

static void test_upkeep_scans(void **state)
{
	struct dd_test_store *f = *state;
	char a[65], b[65];
	struct dd_store_certs_row r1 = row(hex_id('a', a), "ACTIVE", 1, "CN=d", "CN=c");
	r1.f.facts_version = 0;
	struct dd_store_certs_row r2 = row(hex_id('b', b), "ACTIVE", 1, "CN=d", "CN=c");
	insert(f, AR, DD_STORE_CERTS_DEVICE, &r1);
	insert(f, AR2, DD_STORE_CERTS_DEVICE, &r1);
	insert(f, AR, DD_STORE_CERTS_DEVICE, &r2);

	struct seen s = { 0 };
	assert_int_equal(dd_store_certs_stale_facts(f->db, DD_STORE_CERTS_DEVICE, "", "", 1, 10, record, &s), 0);
	assert_int_equal(s.n, 2); /* r1 in both regions */
	assert_string_equal(s.pem, "-----PEM-----");
	memset(&s, 0, sizeof s);
	assert_int_equal(dd_store_certs_stale_facts(f->db, DD_STORE_CERTS_DEVICE, AR, a, 1, 10, record, &s), 0);
	assert_int_equal(s.n, 1); /* only the one after (AR, a) */

	struct dd_store_certs_facts nf = r1.f;
	nf.facts_version = 1;
	nf.subject = "CN=fixed";
	assert_int_equal(dd_db_begin_write(f->db), 0);
	assert_int_equal(dd_store_certs_set_facts(f->db, AR, DD_STORE_CERTS_DEVICE, a, &nf), 0);
	assert_int_equal(dd_store_certs_set_facts(f->db, AR2, DD_STORE_CERTS_DEVICE, a, &nf), 0);
	assert_int_equal(dd_store_certs_set_debian(f->db, AR, DD_STORE_CERTS_DEVICE, b, 2), 0);
	assert_int_equal(dd_db_commit(f->db), 0);
	memset(&s, 0, sizeof s);
	assert_int_equal(dd_store_certs_stale_facts(f->db, DD_STORE_CERTS_DEVICE, "", "", 1, 10, record, &s), 0);
	assert_int_equal(s.n, 0);
	memset(&s, 0, sizeof s);
	assert_int_equal(dd_store_certs_get(f->db, AR, DD_STORE_CERTS_DEVICE, a, record, &s), 0);
	assert_string_equal(s.subject, "CN=fixed");

	memset(&s, 0, sizeof s);
	assert_int_equal(dd_store_certs_key_facts(f->db, DD_STORE_CERTS_DEVICE, "", "", 2, record, &s), 0);
	assert_int_equal(s.n, 2); /* the limit */
	memset(&s, 0, sizeof s);
	assert_int_equal(dd_store_certs_key_facts(f->db, DD_STORE_CERTS_DEVICE, AR, a, 10, record, &s), 0);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.ids[0], b);
	memset(&s, 0, sizeof s);
	assert_int_equal(dd_store_certs_get(f->db, AR, DD_STORE_CERTS_DEVICE, b, record, &s), 0);
	assert_int_equal(s.debian, 2);
}

static void test_registration_code(void **state)
{
	struct dd_test_store *f = *state;
	char code[65];
	assert_int_equal(dd_store_certs_registration_code(f->db, AR, code), 0);
	assert_string_equal(code, "");
	assert_int_equal(dd_db_begin_write(f->db), 0);
	assert_int_equal(dd_store_certs_registration_code_set(f->db, AR, "c0de"), 0);
	assert_int_equal(dd_store_certs_registration_code_set(f->db, AR, "other"), 0); /* kept: first wins */
	assert_int_equal(dd_db_commit(f->db), 0);
	assert_int_equal(dd_store_certs_registration_code(f->db, AR, code), 0);
	assert_string_equal(code, "c0de");
	assert_int_equal(dd_store_certs_registration_code(f->db, AR2, code), 0);
	assert_string_equal(code, "");
}

static void exec_sql(struct dd_test_store *f, const char *sql)
{
	struct dd_stmt *st = dd_db_stmt(f->db, sql);
	assert_non_null(st);
	assert_int_equal(dd_step_done(st), 0);
}

static void test_attachments(void **state)
{
	struct dd_test_store *f = *state;
	const char *arn = "arn:aws:iot:us-east-1:111111111111:cert/"
			  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
	char name[64];
	assert_int_equal(dd_store_certs_attached_thing(f->db, AR, arn, name, sizeof name), 0);
	assert_int_equal(dd_store_certs_attached_policy(f->db, AR, arn, name, sizeof name), 0);
	assert_int_equal(dd_db_begin_write(f->db), 0);
	exec_sql(f, "INSERT INTO thing_principals(account_region, thing_name, principal) VALUES ('" AR "', 't1',"
		    " 'arn:aws:iot:us-east-1:111111111111:cert/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA')");
	exec_sql(f, "INSERT INTO policy_targets(account_region, policy_name, target) VALUES ('" AR "', 'p1',"
		    " 'arn:aws:iot:us-east-1:111111111111:cert/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa')");
	exec_sql(f, "INSERT INTO tags(account_region, resource_arn, key, value) VALUES ('" AR "',"
		    " 'arn:aws:iot:us-east-1:111111111111:cert/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', 'k', 'v')");
	assert_int_equal(dd_db_commit(f->db), 0);
	assert_int_equal(dd_store_certs_attached_thing(f->db, AR, arn, name, sizeof name), 1);
	assert_string_equal(name, "t1"); /* compared without regard to case */
	assert_int_equal(dd_store_certs_attached_thing(f->db, AR2, arn, name, sizeof name), 0);
	assert_int_equal(dd_store_certs_attached_policy(f->db, AR, arn, name, sizeof name), 1);
	assert_string_equal(name, "p1");
	assert_int_equal(dd_db_begin_write(f->db), 0);
	assert_int_equal(dd_store_certs_forget_arn(f->db, AR, arn), 0);
	assert_int_equal(dd_db_commit(f->db), 0);
	assert_int_equal(dd_store_certs_attached_policy(f->db, AR, arn, name, sizeof name), 0);
	struct dd_stmt *st = dd_db_stmt(f->db, "SELECT count(*) FROM tags");
	assert_int_equal(dd_stmt_step(st), DD_STMT_ROW);
	assert_int_equal(dd_col_int(st, 0), 0);
	dd_stmt_reset(st);
	/* the thing attachment is not the certificate store's to remove */
	assert_int_equal(dd_store_certs_attached_thing(f->db, AR, arn, name, sizeof name), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_insert_get_delete, dd_test_store_setup, dd_test_store_teardown),
		cmocka_unit_test_setup_teardown(test_ca_registration, dd_test_store_setup, dd_test_store_teardown),
		cmocka_unit_test_setup_teardown(test_list_paging, dd_test_store_setup, dd_test_store_teardown),
		cmocka_unit_test_setup_teardown(test_crl_urls, dd_test_store_setup, dd_test_store_teardown),
		cmocka_unit_test_setup_teardown(test_upkeep_scans, dd_test_store_setup, dd_test_store_teardown),
		cmocka_unit_test_setup_teardown(test_registration_code, dd_test_store_setup, dd_test_store_teardown),
		cmocka_unit_test_setup_teardown(test_attachments, dd_test_store_setup, dd_test_store_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the certificate registry's C API (certs.h) and the CRL store (crl.h),
 * driving the real handlers of dd_iot_certs_handlers on a fresh service in a temporary data
 * directory: a root and an intermediate CA and device certificates built in memory with
 * OpenSSL are registered (proof of possession included); the stored facts (serial, key,
 * validity in ms, ROCA and Debian-weak verdicts from the test keys and the shipped sample
 * blocklist) are read back through dd_certs_foreach; CRLs imported with dd_crl_import
 * revoke a device certificate and the intermediate, and the derived revocation state
 * (direct, by issuer, and through a revoked intermediate) is checked, including a CRL
 * signed by the wrong key, an older CRL, and a stale CRL past nextUpdate + grace; status
 * rules of dd_certs_set_status; and dd_certs_backfill restoring wiped facts.
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

#include <openssl/decoder.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "store/dd_store_int.h"
#include "api/dd_iot_certs.h"
#include "dd/certs.h"
#include "dd/crl.h"
#include "dd/ctx.h"
#include "dd/keys.h"
#include "dd/service.h"
#include "server/dd_api.h"

#define ACCOUNT "123456789012"
#define ACCOUNT_REGION ACCOUNT "/us-east-1" /* the key of the regional rows */

static const char *testdata(void)
{
	const char *d = getenv("DD_TESTDATA");
	return d ? d : "tests/data";
}

/* ---- OpenSSL helpers (as in test_x509.c) ------------------------------------------ */

static char *pem_x509(X509 *x)
{
	BIO *b = BIO_new(BIO_s_mem());
	assert_int_equal(PEM_write_bio_X509(b, x), 1);
	char *data;
	long n = BIO_get_mem_data(b, &data);
	char *s = strndup(data, (size_t)n);
	BIO_free(b);
	return s;
}

static EVP_PKEY *rsa_key(int bits)
{
	EVP_PKEY *k = EVP_RSA_gen((unsigned)bits);
	assert_non_null(k);
	return k;
}

static EVP_PKEY *key_file(const char *rel)
{
	char path[512];
	snprintf(path, sizeof path, "%s/keys/%s", testdata(), rel);
	/* Public or private, PKCS#1 or SPKI, with text before the PEM block. */
	BIO *b = BIO_new_file(path, "r");
	assert_non_null(b);
	EVP_PKEY *k = NULL;
	OSSL_DECODER_CTX *d = OSSL_DECODER_CTX_new_for_pkey(&k, "PEM", NULL, "RSA", 0, NULL, NULL);
	assert_non_null(d);
	assert_int_equal(OSSL_DECODER_from_bio(d, b), 1);
	OSSL_DECODER_CTX_free(d);
	BIO_free(b);
	assert_non_null(k);
	return k;
}

static void add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, issuer ? issuer : x, x, NULL, NULL, 0);
	X509_EXTENSION *e = X509V3_EXT_nconf_nid(NULL, &ctx, nid, value);
	assert_non_null(e);
	assert_int_equal(X509_add_ext(x, e, -1), 1);
	X509_EXTENSION_free(e);
}

static X509 *make_cert(const char *cn, EVP_PKEY *pub, X509 *issuer, EVP_PKEY *issuer_key, bool ca, long serial)
{
	X509 *x = X509_new();
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
	X509_gmtime_adj(X509_getm_notBefore(x), -60);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400L * 365);
	X509_NAME *n = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(n, "O", MBSTRING_UTF8, (const unsigned char *)"Acme", -1, -1, 0);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : n);
	X509_set_pubkey(x, pub);
	add_ext(x, issuer, NID_basic_constraints, ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
	if (ca)
		add_ext(x, issuer, NID_key_usage, "critical,keyCertSign,cRLSign");
	assert_true(X509_sign(x, issuer_key, EVP_sha256()) > 0);
	return x;
}

static char *make_crl(X509 *issuer, EVP_PKEY *key, const long *serials, size_t n, long this_off, size_t *len)
{
	X509_CRL *c = X509_CRL_new();
	X509_CRL_set_version(c, 1);
	X509_CRL_set_issuer_name(c, X509_get_subject_name(issuer));
	ASN1_TIME *t = ASN1_TIME_adj(NULL, time(NULL) + this_off, 0, 0);
	X509_CRL_set1_lastUpdate(c, t);
	ASN1_TIME_adj(t, time(NULL) + this_off, 7, 0);
	X509_CRL_set1_nextUpdate(c, t);
	ASN1_TIME_free(t);
	for (size_t i = 0; i < n; i++) {
		X509_REVOKED *r = X509_REVOKED_new();
		ASN1_INTEGER *ai = ASN1_INTEGER_new();
		ASN1_INTEGER_set(ai, serials[i]);
		X509_REVOKED_set_serialNumber(r, ai);
		ASN1_TIME *rt = ASN1_TIME_adj(NULL, time(NULL), 0, -60);
		X509_REVOKED_set_revocationDate(r, rt);
		ASN1_TIME_free(rt);
		ASN1_INTEGER_free(ai);
		X509_CRL_add0_revoked(c, r);
	}
	X509_CRL_sort(c);
	assert_true(X509_CRL_sign(c, key, EVP_sha256()) > 0);
	BIO *b = BIO_new(BIO_s_mem());
	PEM_write_bio_X509_CRL(b, c);
	char *data;
	long l = BIO_get_mem_data(b, &data);
	char *out = strndup(data, (size_t)l);
	*len = (size_t)l;
	BIO_free(b);
	X509_CRL_free(c);
	return out;
}

/* ---- fixture ------------------------------------------------------------------------ */

struct fx {
	char dir[64];
	struct dd_service svc;
	struct dd_ctx c;
	EVP_PKEY *root_key, *inter_key;
	X509 *root, *inter;
	char root_id[65], inter_id[65], d1[65], d2[65], d3[65], roca[65], weak[65];
};

static dd_handler_fn handler(const char *op)
{
	for (const struct dd_handler *h = dd_iot_certs_handlers; h->op; h++)
		if (strcmp(h->op, op) == 0)
			return h->fn;
	fail_msg("no handler %s", op);
	return NULL;
}

/* Calls op with in (consumed); returns the handler's code and the output's member key. */
static int call(struct fx *f, const char *op, json_t *in, const char *key, char out[65])
{
	json_t *o = NULL;
	f->c.err = 0;
	f->c.err_code = NULL;
	f->c.err_msg[0] = '\0';
	f->c.now_ms = dd_time_now_ms();
	int rc = handler(op)(&f->c, in, &o);
	if (!rc && key && out)
		snprintf(out, 65, "%s", json_string_value(json_object_get(o, key)));
	json_decref(o);
	json_decref(in);
	return rc;
}

static void register_ca(struct fx *f, X509 *ca, EVP_PKEY *key, char id[65])
{
	char code[65];
	assert_int_equal(call(f, "GetRegistrationCode", json_object(), "registrationCode", code), 0);
	EVP_PKEY *vk = rsa_key(2048);
	X509 *v = make_cert(code, vk, ca, key, false, 99);
	char *capem = pem_x509(ca), *vpem = pem_x509(v);
	assert_int_equal(call(f, "RegisterCACertificate",
			      json_pack("{s:s, s:s, s:b}", "caCertificate", capem, "verificationCertificate", vpem,
					"setAsActive", 1), "certificateId", id), 0);
	free(capem);
	free(vpem);
	X509_free(v);
	EVP_PKEY_free(vk);
}

static void register_dev(struct fx *f, const char *cn, EVP_PKEY *pub, X509 *ca, EVP_PKEY *ca_key, long serial, char id[65])
{
	X509 *x = make_cert(cn, pub, ca, ca_key, false, serial);
	char *pem = pem_x509(x);
	int rc = call(f, "RegisterCertificate", json_pack("{s:s, s:s}", "certificatePem", pem, "status", "ACTIVE"),
		      "certificateId", id);
	if (rc)
		fail_msg("RegisterCertificate %s: %s", cn, f->c.err_msg);
	free(pem);
	X509_free(x);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	snprintf(f->dir, sizeof f->dir, "/tmp/ddcerts-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	/* The shipped sample Debian-weak list, imported as the admin command does. */
	char bldir[128], src[512], err[256];
	size_t count;
	snprintf(bldir, sizeof bldir, "%s/blocklists", f->dir);
	snprintf(src, sizeof src, "%s/../../data/blocklists/sha256_modulus_2048.csv", testdata());
	assert_int_equal(dd_keys_blocklist_import(bldir, "dwk", "rsa-2048", src, &count, err, sizeof err), 0);
	assert_int_equal(dd_service_init(&f->svc, f->dir), 0);
	f->c.svc = &f->svc;
	f->c.db = dd_store_db(f->svc.store);
	f->c.account = ACCOUNT;
	f->c.region = "us-east-1";
	f->c.request_id = "test";
	assert_int_equal(dd_ctx_set_account_region(&f->c), 0);

	f->root_key = rsa_key(2048);
	f->inter_key = rsa_key(2048);
	f->root = make_cert("Unit Root", f->root_key, NULL, f->root_key, true, 1);
	f->inter = make_cert("Unit Intermediate", f->inter_key, f->root, f->root_key, true, 2);
	register_ca(f, f->root, f->root_key, f->root_id);
	register_ca(f, f->inter, f->inter_key, f->inter_id);
	EVP_PKEY *k1 = rsa_key(2048), *k2 = rsa_key(2048), *k3 = rsa_key(2048);
	register_dev(f, "dev1", k1, f->inter, f->inter_key, 0x1001, f->d1);
	register_dev(f, "dev2", k2, f->inter, f->inter_key, 0x1002, f->d2);
	register_dev(f, "dev3", k3, f->root, f->root_key, 0x1003, f->d3);
	EVP_PKEY *roca = key_file("badkeys/rsa-roca.key"), *weak = key_file("badkeys/rsa-debianweak.key");
	register_dev(f, "roca", roca, f->root, f->root_key, 0x2001, f->roca);
	register_dev(f, "weak", weak, f->root, f->root_key, 0x2002, f->weak);
	EVP_PKEY_free(k1);
	EVP_PKEY_free(k2);
	EVP_PKEY_free(k3);
	EVP_PKEY_free(roca);
	EVP_PKEY_free(weak);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	dd_service_close(&f->svc);
	X509_free(f->root);
	X509_free(f->inter);
	EVP_PKEY_free(f->root_key);
	EVP_PKEY_free(f->inter_key);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", f->dir);
	free(f);
	return 0;
}

/* ---- collecting what the iterator reports ------------------------------------------ */

#define MAXC 16
struct seen {
	size_t n;
	struct {
		char id[65], serial[132], ca_id[65], revoked_by[65], ancestor[65], key_type[12];
		bool revoked;
		int key_bits, roca, debian;
		int64_t not_after, created;
	} v[MAXC];
};

static int collect(const struct dd_cert_info *ci, void *ud)
{
	struct seen *s = ud;
	assert_true(s->n < MAXC);
	snprintf(s->v[s->n].id, 65, "%s", ci->id);
	snprintf(s->v[s->n].serial, 132, "%s", ci->serial);
	snprintf(s->v[s->n].ca_id, 65, "%s", ci->ca_id);
	snprintf(s->v[s->n].revoked_by, 65, "%s", ci->revoked_by);
	snprintf(s->v[s->n].ancestor, 65, "%s", ci->revoked_ancestor);
	snprintf(s->v[s->n].key_type, 12, "%s", ci->key_type);
	s->v[s->n].revoked = ci->revoked;
	s->v[s->n].key_bits = ci->key_bits;
	s->v[s->n].roca = ci->roca;
	s->v[s->n].debian = ci->debian;
	s->v[s->n].not_after = ci->not_after_ms;
	s->v[s->n].created = ci->created_ms;
	s->n++;
	return 0;
}

static int find(const struct seen *s, const char *id)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->v[i].id, id) == 0)
			return (int)i;
	fail_msg("certificate %s not reported", id);
	return -1;
}

static void scan(struct fx *f, enum dd_cert_kind kind, int64_t now_ms, struct seen *s)
{
	memset(s, 0, sizeof *s);
	assert_int_equal(dd_certs_foreach(f->c.db, ACCOUNT_REGION, kind, now_ms, collect, s), 0);
}

/* ---- tests ---------------------------------------------------------------------------- */

static void test_stored_facts(void **state)
{
	struct fx *f = *state;
	struct seen s;
	scan(f, DD_CERT_DEVICE, dd_time_now_ms(), &s);
	assert_int_equal(s.n, 5);
	int i = find(&s, f->d1);
	assert_string_equal(s.v[i].serial, "1001");
	assert_string_equal(s.v[i].ca_id, f->inter_id);
	assert_string_equal(s.v[i].key_type, "RSA");
	assert_int_equal(s.v[i].key_bits, 2048);
	assert_int_equal(s.v[i].roca, DD_KEYQ_CLEAN);
	assert_int_equal(s.v[i].debian, DD_KEYQ_CLEAN);
	assert_false(s.v[i].revoked);
	assert_true(s.v[i].not_after > dd_time_now_ms() + 300LL * 86400 * 1000);
	assert_true(s.v[i].created > 0);
	assert_string_equal(s.v[find(&s, f->d3)].ca_id, f->root_id);
	assert_int_equal(s.v[find(&s, f->roca)].roca, DD_KEYQ_VULNERABLE);
	assert_int_equal(s.v[find(&s, f->roca)].debian, DD_KEYQ_CLEAN);
	assert_int_equal(s.v[find(&s, f->weak)].debian, DD_KEYQ_VULNERABLE);
	assert_int_equal(s.v[find(&s, f->weak)].roca, DD_KEYQ_CLEAN);
	scan(f, DD_CERT_CA, dd_time_now_ms(), &s);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.v[find(&s, f->inter_id)].serial, "2");
	/* single lookup */
	struct seen one = { 0 };
	assert_int_equal(dd_certs_get(f->c.db, ACCOUNT_REGION, DD_CERT_DEVICE, f->d2, dd_time_now_ms(), collect, &one), 0);
	assert_int_equal(one.n, 1);
	assert_int_equal(dd_certs_get(f->c.db, "999999999999/us-east-1", DD_CERT_DEVICE, f->d2, dd_time_now_ms(), collect, &one),
			 DD_ENOTFOUND);	/* the same account in another region does not have it */
	assert_int_equal(dd_certs_get(f->c.db, ACCOUNT "/eu-west-1", DD_CERT_DEVICE, f->d2, dd_time_now_ms(), collect, &one),
			 DD_ENOTFOUND);
}

static void test_crl_revocation(void **state)
{
	struct fx *f = *state;
	char err[512];
	size_t len;
	struct dd_crl_import_result res;
	long inter_rev[] = { 0x1001 }, root_rev[] = { 2 };

	/* Signed by another key under the root's name: refused, nothing stored. */
	EVP_PKEY *other = rsa_key(2048);
	char *bad = make_crl(f->root, other, root_rev, 1, 0, &len);
	assert_int_equal(dd_crl_import(f->c.db, ACCOUNT_REGION, f->root_id, bad, len, "import", dd_time_now_ms(), &res, err, sizeof err),
			 DD_ECRYPTO);
	assert_non_null(strstr(err, "signature does not verify"));
	free(bad);
	EVP_PKEY_free(other);
	/* The intermediate's CRL presented for the root: wrong issuer. */
	char *ic = make_crl(f->inter, f->inter_key, inter_rev, 1, 0, &len);
	assert_int_equal(dd_crl_import(f->c.db, ACCOUNT_REGION, f->root_id, ic, len, "import", dd_time_now_ms(), &res, err, sizeof err),
			 DD_ECRYPTO);
	assert_int_equal(dd_crl_import(f->c.db, ACCOUNT_REGION, "00", ic, len, "import", dd_time_now_ms(), &res, err, sizeof err),
			 DD_ENOTFOUND);
	assert_int_equal(dd_crl_import(f->c.db, ACCOUNT_REGION, "", ic, len, "import", dd_time_now_ms(), &res, err, sizeof err),
			 DD_EINVAL);
	assert_int_equal(dd_crl_import(f->c.db, "999999999999/us-east-1", f->inter_id, ic, len, "import", dd_time_now_ms(), &res, err,
				       sizeof err), DD_ENOTFOUND);
	assert_int_equal(dd_crl_import(f->c.db, ACCOUNT_REGION, f->inter_id, "junk", 4, "import", dd_time_now_ms(), &res, err, sizeof err),
			 DD_EINVAL);

	assert_int_equal(dd_crl_import(f->c.db, ACCOUNT_REGION, f->inter_id, ic, len, "import", dd_time_now_ms(), &res, err, sizeof err), 0);
	assert_int_equal(res.n_revoked, 1);
	free(ic);
	char *rc = make_crl(f->root, f->root_key, root_rev, 1, 0, &len);
	assert_int_equal(dd_crl_import(f->c.db, ACCOUNT_REGION, f->root_id, rc, len, "import", dd_time_now_ms(), &res, err, sizeof err), 0);
	free(rc);
	/* An older CRL does not replace a newer one. */
	char *old = make_crl(f->root, f->root_key, NULL, 0, -86400, &len);
	assert_int_equal(dd_crl_import(f->c.db, ACCOUNT_REGION, f->root_id, old, len, "import", dd_time_now_ms(), &res, err, sizeof err),
			 DD_ECONFLICT);
	free(old);

	int64_t now = dd_time_now_ms();
	struct seen s;
	scan(f, DD_CERT_DEVICE, now, &s);
	int i = find(&s, f->d1);
	assert_true(s.v[i].revoked);
	assert_string_equal(s.v[i].revoked_by, f->inter_id);
	assert_string_equal(s.v[i].ancestor, f->inter_id);
	i = find(&s, f->d2);
	assert_false(s.v[i].revoked);
	assert_string_equal(s.v[i].ancestor, f->inter_id);
	i = find(&s, f->d3);
	assert_false(s.v[i].revoked);
	assert_string_equal(s.v[i].ancestor, "");
	scan(f, DD_CERT_CA, now, &s);
	i = find(&s, f->inter_id);
	assert_true(s.v[i].revoked);
	assert_string_equal(s.v[i].revoked_by, f->root_id);
	assert_false(s.v[find(&s, f->root_id)].revoked);

	char by[65];
	assert_int_equal(dd_crl_lookup(f->c.db, ACCOUNT_REGION, "CN=Unit Intermediate,O=Acme", "1001", now, by), 1);
	assert_string_equal(by, f->inter_id);

	/* Seven days of validity plus seven of grace later, the CRLs no longer count. */
	int64_t later = now + 15LL * 86400 * 1000;
	scan(f, DD_CERT_DEVICE, later, &s);
	assert_false(s.v[find(&s, f->d1)].revoked);
	assert_string_equal(s.v[find(&s, f->d2)].ancestor, "");

	json_t *st = NULL;
	assert_int_equal(dd_iot_certs_crl_status(f->c.db, ACCOUNT_REGION, NULL, now, &st), 0);
	assert_int_equal(json_array_size(json_object_get(st, "crls")), 2);
	assert_int_equal(json_array_size(json_object_get(st, "revokedCertificates")), 1);
	assert_int_equal(json_array_size(json_object_get(st, "revokedCACertificates")), 1);
	json_decref(st);
}

static void test_set_status(void **state)
{
	struct fx *f = *state;
	char msg[256];
	int64_t now = dd_time_now_ms();
	assert_int_equal(dd_certs_set_status(f->c.db, ACCOUNT_REGION, DD_CERT_DEVICE, f->d2, "INACTIVE", now, msg, sizeof msg), 0);
	assert_int_equal(dd_certs_set_status(f->c.db, ACCOUNT_REGION, DD_CERT_DEVICE, f->d2, "PENDING_TRANSFER", now, msg, sizeof msg),
			 DD_EINVAL);
	assert_int_equal(dd_certs_set_status(f->c.db, ACCOUNT_REGION, DD_CERT_DEVICE, f->d2, "REVOKED", now, msg, sizeof msg), 0);
	assert_int_equal(dd_certs_set_status(f->c.db, ACCOUNT_REGION, DD_CERT_DEVICE, f->d2, "ACTIVE", now, msg, sizeof msg),
			 DD_ECONFLICT);
	assert_non_null(strstr(msg, "revoked"));
	assert_int_equal(dd_certs_set_status(f->c.db, ACCOUNT_REGION, DD_CERT_CA, f->inter_id, "REVOKED", now, msg, sizeof msg),
			 DD_EINVAL);
	assert_int_equal(dd_certs_set_status(f->c.db, ACCOUNT_REGION, DD_CERT_CA, f->inter_id, "INACTIVE", now, msg, sizeof msg), 0);
	assert_int_equal(dd_certs_set_status(f->c.db, "999999999999/us-east-1", DD_CERT_CA, f->inter_id, "ACTIVE", now, msg, sizeof msg),
			 DD_ENOTFOUND);
	assert_int_equal(dd_certs_set_status(f->c.db, ACCOUNT_REGION, DD_CERT_DEVICE, "nope", "ACTIVE", now, msg, sizeof msg),
			 DD_ENOTFOUND);
	/* An INACTIVE CA admits no new registrations. */
	EVP_PKEY *k = rsa_key(2048);
	X509 *x = make_cert("late", k, f->inter, f->inter_key, false, 0x3001);
	char *pem = pem_x509(x), id[65];
	assert_int_equal(call(f, "RegisterCertificate", json_pack("{s:s}", "certificatePem", pem), "certificateId", id),
			 DD_ECONFLICT);
	assert_string_equal(f->c.err_code, "CertificateStateException");
	free(pem);
	X509_free(x);
	EVP_PKEY_free(k);
}

static void test_backfill(void **state)
{
	struct fx *f = *state;
	assert_int_equal(dd_db_exec(f->c.db, "UPDATE certificates SET facts_version = 0, subject = NULL, serial = NULL,"
					     " key_bits = 0, debian = 0"), 0);
	size_t n = 0;
	assert_int_equal(dd_certs_backfill(f->svc.store, f->svc.blocklists, &n), 0);
	assert_true(n >= 5);
	struct seen s;
	scan(f, DD_CERT_DEVICE, dd_time_now_ms(), &s);
	assert_string_equal(s.v[find(&s, f->d1)].serial, "1001");
	assert_int_equal(s.v[find(&s, f->d1)].key_bits, 2048);
	assert_int_equal(s.v[find(&s, f->weak)].debian, DD_KEYQ_VULNERABLE);
	/* A second run has nothing to do; without lists every verdict becomes NOT_CHECKED. */
	assert_int_equal(dd_certs_backfill(f->svc.store, f->svc.blocklists, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(dd_certs_backfill(f->svc.store, NULL, &n), 0);
	assert_int_equal(n, 7);
	scan(f, DD_CERT_DEVICE, dd_time_now_ms(), &s);
	assert_int_equal(s.v[find(&s, f->weak)].debian, DD_KEYQ_NOT_CHECKED);
}

int main(void)
{
	dd_log_set_level(DD_LOG_ERROR);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_stored_facts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_crl_revocation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_set_status, setup, teardown),
		cmocka_unit_test_setup_teardown(test_backfill, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the X.509 module: certificate facts of known certificates (PEM and DER),
 * refusal of malformed and oversized input, the server CA and issuance (with and without
 * a CSR), a root / intermediate / device chain built in memory with OpenSSL and a CRL that
 * verifies against its issuer and is refused against the wrong one. Fetching over HTTP is
 * tested in test_fetch.c.
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


#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "dd/x509.h"

static const char *testdata(void)
{
	const char *d = getenv("DD_TESTDATA");
	return d ? d : "tests/data";
}

static unsigned char *read_all(const char *rel, size_t *len)
{
	char path[512];
	snprintf(path, sizeof path, "%s/keys/%s", testdata(), rel);
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	unsigned char *buf = malloc(65536 + 1);
	size_t n = buf ? fread(buf, 1, 65536, f) : 0;
	if (buf)
		buf[n] = '\0';
	fclose(f);
	*len = n;
	return buf;
}

/* ---- OpenSSL helpers building certificates and CRLs in memory ---------------------- */

static char *pem_x509(X509 *x)
{
	BIO *b = BIO_new(BIO_s_mem());
	assert_non_null(b);
	assert_int_equal(PEM_write_bio_X509(b, x), 1);
	char *data;
	long n = BIO_get_mem_data(b, &data);
	char *s = strndup(data, (size_t)n);
	BIO_free(b);
	return s;
}

static EVP_PKEY *load_key(const char *pem)
{
	BIO *b = BIO_new_mem_buf(pem, -1);
	EVP_PKEY *k = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
	BIO_free(b);
	assert_non_null(k);
	return k;
}

static X509 *load_x509(const char *pem)
{
	BIO *b = BIO_new_mem_buf(pem, -1);
	X509 *x = PEM_read_bio_X509(b, NULL, NULL, NULL);
	BIO_free(b);
	assert_non_null(x);
	return x;
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

/* A certificate for key `pub`, subject CN=cn, signed by (issuer, issuer_key) or self-signed
 * with issuer_key when issuer is NULL. */
static X509 *make_cert(const char *cn, EVP_PKEY *pub, X509 *issuer, EVP_PKEY *issuer_key, bool ca,
		       long serial, const char *crl_url)
{
	X509 *x = X509_new();
	assert_non_null(x);
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
	add_ext(x, issuer, NID_subject_key_identifier, "hash");
	add_ext(x, issuer, NID_authority_key_identifier, "keyid:always");
	if (crl_url) {
		char v[300];
		snprintf(v, sizeof v, "URI:%s,URI:ldap://ldap.example/crl,URI:HTTPS://crl.example/b.crl", crl_url);
		add_ext(x, issuer, NID_crl_distribution_points, v);
	}
	assert_true(X509_sign(x, issuer_key, EVP_sha256()) > 0);
	return x;
}

/* A CRL issued by (issuer, key) revoking the given serials; PEM or DER. */
static unsigned char *make_crl(X509 *issuer, EVP_PKEY *key, const long *serials, size_t n, bool pem, size_t *len)
{
	X509_CRL *c = X509_CRL_new();
	assert_non_null(c);
	X509_CRL_set_version(c, 1);
	X509_CRL_set_issuer_name(c, X509_get_subject_name(issuer));
	ASN1_TIME *t = ASN1_TIME_adj(NULL, time(NULL), 0, 0);
	X509_CRL_set1_lastUpdate(c, t);
	ASN1_TIME_adj(t, time(NULL), 7, 0);
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
	unsigned char *out = NULL;
	if (pem) {
		BIO *b = BIO_new(BIO_s_mem());
		PEM_write_bio_X509_CRL(b, c);
		char *data;
		long l = BIO_get_mem_data(b, &data);
		out = malloc((size_t)l);
		memcpy(out, data, (size_t)l);
		*len = (size_t)l;
		BIO_free(b);
	} else {
		unsigned char *der = NULL;
		int l = i2d_X509_CRL(c, &der);
		assert_true(l > 0);
		out = malloc((size_t)l);
		memcpy(out, der, (size_t)l);
		*len = (size_t)l;
		OPENSSL_free(der);
	}
	X509_CRL_free(c);
	return out;
}

/* ---- certificate facts ------------------------------------------------------------- */

static void test_parse_known_certificate(void **state)
{
	(void)state;
	size_t len;
	unsigned char *pem = read_all("roca/cert01.pem", &len);
	assert_non_null(pem);
	struct dd_cert_facts f;
	char err[256];
	assert_int_equal(dd_x509_parse(pem, len, &f, err, sizeof err), 0);
	assert_string_equal(f.id, "25847d668eb4f04fdd40b12b6b0740c567da7d024308eb6c2c96fe41d9de218d");
	assert_string_equal(f.subject, "CN=Let's Encrypt Authority X3,O=Let's Encrypt,C=US");
	assert_string_equal(f.issuer, "CN=DST Root CA X3,O=Digital Signature Trust Co.");
	assert_string_equal(f.subject_cn, "Let's Encrypt Authority X3");
	assert_string_equal(f.serial_hex, "a0141420000015385736a0b85eca708");
	assert_true(f.not_before == 1458232846);
	assert_true(f.not_after == 1615999246);
	assert_string_equal(f.key_type, "RSA");
	assert_int_equal(f.key_bits, 2048);
	assert_string_equal(f.curve, "");
	assert_string_equal(f.pubkey_sha256, "60b87575447dcba2a36b7d11ac09fb24a9db406fee12d2cc90180517616e8a18");
	assert_string_equal(f.key_sha256, "53d19244f98fd6d4d734ecb39f176791f9b44713fb7ac8c294ef1332714e1b93");
	assert_string_equal(f.key_sha1_80, "f16f570414ae6d0d55ac");
	assert_true(f.is_ca);
	assert_string_equal(f.ski, "a84a6a63047dddbae6d139b7a64565eff3a8eca1");
	assert_string_equal(f.aki, "c4a7b1a47b2c71fadbe14b9075ffc41560858910");
	assert_int_equal(f.n_crl_urls, 1);
	assert_string_equal(f.crl_urls[0], "http://crl.identrust.com/DSTROOTCAX3CRL.crl");
	assert_int_equal(f.roca, DD_KEYQ_CLEAN);
	assert_false(f.self_signed);
	assert_non_null(strstr(f.pem, "-----BEGIN CERTIFICATE-----"));

	/* The same certificate as DER gives the same facts; trailing bytes are refused. */
	BIO *b = BIO_new_mem_buf(pem, (int)len);
	X509 *x = PEM_read_bio_X509(b, NULL, NULL, NULL);
	BIO_free(b);
	unsigned char *der = NULL;
	int dl = i2d_X509(x, &der);
	X509_free(x);
	struct dd_cert_facts g;
	assert_int_equal(dd_x509_parse(der, (size_t)dl, &g, err, sizeof err), 0);
	assert_string_equal(g.id, f.id);
	assert_string_equal(g.serial_hex, f.serial_hex);
	assert_string_equal(g.pem, f.pem);
	dd_x509_facts_clear(&g);
	unsigned char *der2 = malloc((size_t)dl + 1);
	memcpy(der2, der, (size_t)dl);
	der2[dl] = 0;
	assert_int_equal(dd_x509_parse(der2, (size_t)dl + 1, &g, err, sizeof err), DD_EINVAL);
	assert_int_equal(dd_x509_parse(der2, (size_t)dl - 1, &g, err, sizeof err), DD_EINVAL);
	free(der2);
	OPENSSL_free(der);
	dd_x509_facts_clear(&f);
	dd_x509_facts_clear(&f); /* clearing twice is harmless */
	free(pem);
}

static void test_parse_self_signed_ca(void **state)
{
	(void)state;
	size_t len;
	unsigned char *pem = read_all("debian/openssl-blacklist-examples/bad_x509.pem", &len);
	assert_non_null(pem);
	struct dd_cert_facts f;
	char err[256];
	assert_int_equal(dd_x509_parse(pem, len, &f, err, sizeof err), 0);
	assert_string_equal(f.subject, "CN=CA,OU=Test,O=Testlib,ST=Arizona,C=US");
	assert_string_equal(f.subject, f.issuer);
	assert_string_equal(f.serial_hex, "9b3b32bb3831d7e5");
	assert_true(f.is_ca);
	assert_true(f.self_signed);
	assert_int_equal(f.n_crl_urls, 0);
	assert_null(f.crl_urls);
	dd_x509_facts_clear(&f);
	free(pem);
}

static void test_parse_rejects_bad_input(void **state)
{
	(void)state;
	struct dd_cert_facts f;
	memset(&f, 0x5A, sizeof f);
	char err[256] = "";
	assert_int_equal(dd_x509_parse("garbage", 7, &f, err, sizeof err), DD_EINVAL);
	assert_non_null(strstr(err, "certificate could not be parsed"));
	assert_true(f.key_bits == 0x5A5A5A5A); /* untouched on failure */
	assert_int_equal(dd_x509_parse("", 0, &f, err, sizeof err), DD_EINVAL);
	const char *trunc = "-----BEGIN CERTIFICATE-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8A\n-----END CERTIFICATE-----\n";
	assert_int_equal(dd_x509_parse(trunc, strlen(trunc), &f, err, sizeof err), DD_EINVAL);
	size_t big = 64 * 1024 + 1;
	char *huge = malloc(big);
	memset(huge, 'A', big);
	assert_int_equal(dd_x509_parse(huge, big, &f, err, sizeof err), DD_EINVAL);
	assert_non_null(strstr(err, "larger than"));
	free(huge);
	/* A key is not a certificate. */
	size_t len;
	unsigned char *key = read_all("roca/pubkey01.pem", &len);
	assert_int_equal(dd_x509_parse(key, len, &f, err, sizeof err), DD_EINVAL);
	free(key);
	/* Key facts refuse an encrypted key without its passphrase. */
	key = read_all("debian/openssl-blacklist-examples/bad_rsa_password_is_pass.key", &len);
	assert_int_equal(dd_x509_key_facts_from_pem(key, len, NULL, &f, err, sizeof err), DD_EINVAL);
	assert_int_equal(dd_x509_key_facts_from_pem(key, len, "wrong", &f, err, sizeof err), DD_EINVAL);
	assert_int_equal(dd_x509_key_facts_from_pem(key, len, "pass", &f, err, sizeof err), 0);
	assert_int_equal(f.key_bits, 1024);
	dd_x509_facts_clear(&f);
	free(key);
	assert_int_equal(dd_x509_key_facts_from_pem("nothing", 7, NULL, &f, err, sizeof err), DD_EINVAL);
}

/* ---- the server CA ----------------------------------------------------------------- */

static void test_ca_and_issue(void **state)
{
	(void)state;
	char *ca_pem = NULL, *ca_key = NULL, err[256];
	assert_int_equal(dd_x509_ca_create("iotdefender test CA", &ca_pem, &ca_key), 0);
	struct dd_cert_facts ca;
	assert_int_equal(dd_x509_parse(ca_pem, strlen(ca_pem), &ca, err, sizeof err), 0);
	assert_string_equal(ca.key_type, "EC");
	assert_string_equal(ca.curve, "prime256v1");
	assert_int_equal(ca.key_bits, 256);
	assert_true(ca.is_ca);
	assert_true(ca.self_signed);
	assert_string_equal(ca.subject, "CN=iotdefender test CA");
	assert_int_equal(strlen(ca.ski), 40);
	assert_string_equal(ca.ski, ca.aki);
	assert_true(ca.not_after - ca.not_before >= 3650LL * 86400);
	assert_int_equal(ca.roca, DD_KEYQ_NOT_CHECKED);
	X509 *cax = load_x509(ca_pem);
	assert_true(X509_get_key_usage(cax) == (KU_KEY_CERT_SIGN | KU_CRL_SIGN));
	X509_free(cax);

	char *cert = NULL, *pub = NULL, *priv = NULL;
	assert_int_equal(dd_x509_issue(ca_pem, ca_key, "device-1", 365, &cert, &pub, &priv), 0);
	struct dd_cert_facts d;
	assert_int_equal(dd_x509_parse(cert, strlen(cert), &d, err, sizeof err), 0);
	assert_string_equal(d.key_type, "RSA");
	assert_int_equal(d.key_bits, 2048);
	assert_false(d.is_ca);
	assert_false(d.self_signed);
	assert_string_equal(d.subject_cn, "device-1");
	assert_string_equal(d.issuer, ca.subject);
	assert_string_equal(d.aki, ca.ski);
	assert_int_equal(strlen(d.ski), 40);
	assert_true(strlen(d.serial_hex) >= 25 && strlen(d.serial_hex) <= 32);
	assert_int_equal(d.roca, DD_KEYQ_CLEAN);
	assert_true(d.not_after - d.not_before >= 365LL * 86400);
	assert_true(strncmp(pub, "-----BEGIN PUBLIC KEY-----", 26) == 0);
	assert_true(strncmp(priv, "-----BEGIN RSA PRIVATE KEY-----", 31) == 0);
	assert_int_equal(dd_x509_verify_issued_by(cert, ca_pem), 0);

	/* The private key matches the certificate. */
	X509 *dx = load_x509(cert);
	EVP_PKEY *dk = load_key(priv);
	assert_int_equal(X509_check_private_key(dx, dk), 1);
	X509_free(dx);
	EVP_PKEY_free(dk);

	/* Another CA with the same name does not verify; garbage is DD_EINVAL. */
	char *ca2_pem = NULL, *ca2_key = NULL;
	assert_int_equal(dd_x509_ca_create("iotdefender test CA", &ca2_pem, &ca2_key), 0);
	assert_int_equal(dd_x509_verify_issued_by(cert, ca2_pem), DD_ECRYPTO);
	assert_int_equal(dd_x509_verify_issued_by(ca_pem, cert), DD_ECRYPTO);
	assert_int_equal(dd_x509_verify_issued_by("junk", ca_pem), DD_EINVAL);
	assert_int_equal(dd_x509_verify_issued_by(cert, NULL), DD_EINVAL);
	/* A mismatched CA key is refused; outputs untouched. */
	char *c2 = NULL, *p2 = NULL, *k2 = NULL;
	assert_int_not_equal(dd_x509_issue(ca_pem, ca2_key, "device-2", 365, &c2, &p2, &k2), 0);
	assert_null(c2);
	assert_int_equal(dd_x509_issue(ca_pem, ca_key, "", 365, &c2, &p2, &k2), DD_EINVAL);
	assert_int_equal(dd_x509_issue(ca_pem, ca_key, "x", 0, &c2, &p2, &k2), DD_EINVAL);

	dd_x509_facts_clear(&ca);
	dd_x509_facts_clear(&d);
	free(ca_pem);
	free(ca_key);
	free(ca2_pem);
	free(ca2_key);
	free(cert);
	free(pub);
	free(priv);
}

static char *make_csr(EVP_PKEY *pub, EVP_PKEY *signer, const char *cn)
{
	X509_REQ *r = X509_REQ_new();
	X509_NAME *n = X509_REQ_get_subject_name(r);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0);
	X509_REQ_set_pubkey(r, pub);
	assert_true(X509_REQ_sign(r, signer, EVP_sha256()) > 0);
	BIO *b = BIO_new(BIO_s_mem());
	PEM_write_bio_X509_REQ(b, r);
	char *data;
	long l = BIO_get_mem_data(b, &data);
	char *s = strndup(data, (size_t)l);
	BIO_free(b);
	X509_REQ_free(r);
	return s;
}

static void test_issue_from_csr(void **state)
{
	(void)state;
	char *ca_pem = NULL, *ca_key = NULL, err[256] = "";
	assert_int_equal(dd_x509_ca_create("csr CA", &ca_pem, &ca_key), 0);
	EVP_PKEY *k = EVP_EC_gen("P-256"), *other = EVP_EC_gen("P-256");
	char *csr = make_csr(k, k, "sensor-7");
	char *cert = NULL;
	assert_int_equal(dd_x509_issue_from_csr(ca_pem, ca_key, csr, 30, &cert, err, sizeof err), 0);
	struct dd_cert_facts f;
	assert_int_equal(dd_x509_parse(cert, strlen(cert), &f, err, sizeof err), 0);
	assert_string_equal(f.subject_cn, "sensor-7");
	assert_string_equal(f.key_type, "EC");
	assert_false(f.is_ca);
	assert_int_equal(dd_x509_verify_issued_by(cert, ca_pem), 0);
	X509 *x = load_x509(cert);
	assert_int_equal(X509_check_private_key(x, k), 1);
	X509_free(x);
	dd_x509_facts_clear(&f);
	free(cert);
	cert = NULL;

	/* A CSR whose signature was not made by its own key is refused. */
	char *bad = make_csr(k, other, "sensor-8");
	assert_int_equal(dd_x509_issue_from_csr(ca_pem, ca_key, bad, 30, &cert, err, sizeof err), DD_EINVAL);
	assert_non_null(strstr(err, "signature"));
	assert_null(cert);
	assert_int_equal(dd_x509_issue_from_csr(ca_pem, ca_key, "junk", 30, &cert, err, sizeof err), DD_EINVAL);
	free(bad);
	free(csr);
	EVP_PKEY_free(k);
	EVP_PKEY_free(other);
	free(ca_pem);
	free(ca_key);
}

/* ---- chain and CRL ----------------------------------------------------------------- */

static void test_chain_and_crl(void **state)
{
	(void)state;
	char *root_pem = NULL, *root_key_pem = NULL, err[256] = "";
	assert_int_equal(dd_x509_ca_create("Acme Root", &root_pem, &root_key_pem), 0);
	X509 *root = load_x509(root_pem);
	EVP_PKEY *root_key = load_key(root_key_pem);
	EVP_PKEY *ik = EVP_EC_gen("P-256"), *dk1 = EVP_EC_gen("P-256"), *dk2 = EVP_RSA_gen(2048);
	EVP_PKEY *impostor_key = EVP_EC_gen("P-256");
	assert_non_null(ik);
	assert_non_null(dk2);
	X509 *inter = make_cert("Acme Intermediate", ik, root, root_key, true, 4096, "http://crl.example/root.crl");
	X509 *dev1 = make_cert("dev1", dk1, inter, ik, false, 0x0A, "http://crl.example/inter.crl");
	X509 *dev2 = make_cert("dev2", dk2, inter, ik, false, 0x0B, NULL);
	/* Same subject name as the intermediate, different key. */
	X509 *impostor = make_cert("Acme Intermediate", impostor_key, root, root_key, true, 4097, NULL);
	char *inter_pem = pem_x509(inter), *dev1_pem = pem_x509(dev1), *dev2_pem = pem_x509(dev2);
	char *impostor_pem = pem_x509(impostor);

	assert_int_equal(dd_x509_verify_issued_by(inter_pem, root_pem), 0);
	assert_int_equal(dd_x509_verify_issued_by(dev1_pem, inter_pem), 0);
	assert_int_equal(dd_x509_verify_issued_by(dev2_pem, inter_pem), 0);
	assert_int_equal(dd_x509_verify_issued_by(dev1_pem, root_pem), DD_ECRYPTO);
	assert_int_equal(dd_x509_verify_issued_by(dev1_pem, impostor_pem), DD_ECRYPTO);

	struct dd_cert_facts f1, f2, fi;
	assert_int_equal(dd_x509_parse(dev1_pem, strlen(dev1_pem), &f1, err, sizeof err), 0);
	assert_int_equal(dd_x509_parse(dev2_pem, strlen(dev2_pem), &f2, err, sizeof err), 0);
	assert_int_equal(dd_x509_parse(inter_pem, strlen(inter_pem), &fi, err, sizeof err), 0);
	assert_string_equal(f1.serial_hex, "a");
	assert_string_equal(f1.subject, "CN=dev1,O=Acme");
	assert_string_equal(f1.issuer, "CN=Acme Intermediate,O=Acme");
	assert_string_equal(f1.aki, fi.ski);
	/* Only http(s) distribution points are kept. */
	assert_int_equal(f1.n_crl_urls, 2);
	assert_string_equal(f1.crl_urls[0], "http://crl.example/inter.crl");
	assert_string_equal(f1.crl_urls[1], "HTTPS://crl.example/b.crl");
	assert_true(fi.is_ca);
	assert_false(fi.self_signed);

	/* The intermediate revokes dev1 (and others); PEM and DER both parse. */
	const long revoked[] = { 0x0A, 0x7FFFFFFF, 3, 0x100 };
	for (int pem = 0; pem < 2; pem++) {
		size_t len;
		unsigned char *crl_data = make_crl(inter, ik, revoked, 4, pem == 1, &len);
		struct dd_x509_crl crl;
		assert_int_equal(dd_x509_crl_parse(crl_data, len, &crl, err, sizeof err), 0);
		assert_string_equal(crl.issuer, "CN=Acme Intermediate,O=Acme");
		assert_int_equal(crl.n_revoked, 4);
		for (size_t i = 1; i < crl.n_revoked; i++)
			assert_true(strcmp(crl.revoked_serials[i - 1], crl.revoked_serials[i]) < 0);
		assert_true(crl.next_update > crl.this_update);
		assert_true(crl.der_len > 0);
		assert_true(dd_x509_crl_is_revoked(&crl, f1.serial_hex));
		assert_false(dd_x509_crl_is_revoked(&crl, f2.serial_hex));
		assert_true(dd_x509_crl_is_revoked(&crl, "7fffffff"));
		assert_true(dd_x509_crl_is_revoked(&crl, "100"));
		assert_false(dd_x509_crl_is_revoked(&crl, "0100"));

		assert_int_equal(dd_x509_crl_verify(&crl, inter_pem, err, sizeof err), 0);
		err[0] = '\0';
		assert_int_equal(dd_x509_crl_verify(&crl, root_pem, err, sizeof err), DD_ECRYPTO);
		assert_non_null(strstr(err, "issued by"));
		err[0] = '\0';
		assert_int_equal(dd_x509_crl_verify(&crl, impostor_pem, err, sizeof err), DD_ECRYPTO);
		assert_non_null(strstr(err, "different key"));
		assert_int_equal(dd_x509_crl_verify(&crl, "junk", err, sizeof err), DD_ECRYPTO);
		dd_x509_crl_clear(&crl);
		dd_x509_crl_clear(&crl);
		free(crl_data);
	}

	/* The root's CRL revoking the intermediate; an empty CRL has no entries. */
	const long inter_serial[] = { 4096 };
	size_t len;
	unsigned char *crl_data = make_crl(root, root_key, inter_serial, 1, true, &len);
	struct dd_x509_crl crl;
	assert_int_equal(dd_x509_crl_parse(crl_data, len, &crl, err, sizeof err), 0);
	assert_int_equal(dd_x509_crl_verify(&crl, root_pem, err, sizeof err), 0);
	assert_true(dd_x509_crl_is_revoked(&crl, fi.serial_hex));
	assert_string_equal(fi.serial_hex, "1000");
	dd_x509_crl_clear(&crl);
	free(crl_data);
	crl_data = make_crl(inter, ik, NULL, 0, false, &len);
	assert_int_equal(dd_x509_crl_parse(crl_data, len, &crl, err, sizeof err), 0);
	assert_int_equal(crl.n_revoked, 0);
	assert_false(dd_x509_crl_is_revoked(&crl, "a"));
	/* A tampered CRL does not verify. */
	crl.der[crl.der_len - 5] ^= 0x01;
	assert_int_equal(dd_x509_crl_verify(&crl, inter_pem, err, sizeof err), DD_ECRYPTO);
	dd_x509_crl_clear(&crl);
	free(crl_data);

	/* Malformed and oversized CRLs are refused. */
	assert_int_equal(dd_x509_crl_parse("junk", 4, &crl, err, sizeof err), DD_EINVAL);
	assert_non_null(strstr(err, "CRL could not be parsed"));
	assert_int_equal(dd_x509_crl_parse("x", (size_t)16 * 1024 * 1024 + 1, &crl, err, sizeof err), DD_EINVAL);

	dd_x509_facts_clear(&f1);
	dd_x509_facts_clear(&f2);
	dd_x509_facts_clear(&fi);
	free(inter_pem);
	free(dev1_pem);
	free(dev2_pem);
	free(impostor_pem);
	X509_free(inter);
	X509_free(dev1);
	X509_free(dev2);
	X509_free(impostor);
	X509_free(root);
	EVP_PKEY_free(root_key);
	EVP_PKEY_free(ik);
	EVP_PKEY_free(dk1);
	EVP_PKEY_free(dk2);
	EVP_PKEY_free(impostor_key);
	free(root_pem);
	free(root_key_pem);
}

int main(void)
{
	dd_log_set_level(DD_LOG_WARN);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_known_certificate),
		cmocka_unit_test(test_parse_self_signed_ca),
		cmocka_unit_test(test_parse_rejects_bad_input),
		cmocka_unit_test(test_ca_and_issue),
		cmocka_unit_test(test_issue_from_csr),
		cmocka_unit_test(test_chain_and_crl),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

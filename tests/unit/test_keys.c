/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the key-quality module: the ROCA fingerprint (constants, the fast path
 * against the literal BIGNUM reference, the sample moduli, keys and certificates of
 * tests/data/keys/expected.tsv, the fake moduli that must be negative) and the Debian
 * weak-key blocklists (import of both public formats of the shipped small lists into a
 * temporary directory, verdicts of every sample, NOT_CHECKED for uncovered sizes, import
 * errors that leave the old list in place).
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
#include <openssl/rand.h>

#include "dd/keys.h"
#include "dd/x509.h"

static char tmp_root[256];
static char dir_dwk[300], dir_openssl[300], dir_scratch[300];

static const char *testdata(void)
{
	const char *d = getenv("DD_TESTDATA");
	return d ? d : "tests/data";
}

static unsigned char *read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	size_t cap = 1 << 20, n = 0;
	unsigned char *buf = malloc(cap + 1);
	if (buf) {
		n = fread(buf, 1, cap, f);
		buf[n] = '\0';
	}
	fclose(f);
	*len = n;
	return buf;
}

static void rm_rf(const char *dir)
{
	char cmd[600];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	int rc = system(cmd);
	(void)rc;
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

/* Imports every shipped list of data/blocklists in both formats. */
static int group_setup(void **state)
{
	(void)state;
	snprintf(tmp_root, sizeof tmp_root, "/tmp/dd_test_keys.XXXXXX");
	if (!mkdtemp(tmp_root))
		return -1;
	snprintf(dir_dwk, sizeof dir_dwk, "%s/dwk", tmp_root);
	snprintf(dir_openssl, sizeof dir_openssl, "%s/openssl", tmp_root);
	snprintf(dir_scratch, sizeof dir_scratch, "%s/scratch", tmp_root);
	static const char *const bits[] = { "512", "1024", "2048", "4096" };
	for (size_t i = 0; i < 4; i++) {
		char in[512], key[32], err[256];
		size_t count = 0;
		snprintf(key, sizeof key, "rsa-%s", bits[i]);
		snprintf(in, sizeof in, "%s/../../data/blocklists/sha256_modulus_%s.csv", testdata(), bits[i]);
		if (dd_keys_blocklist_import(dir_dwk, "dwk", key, in, &count, err, sizeof err) != 0 || count == 0) {
			fprintf(stderr, "import %s: %s\n", in, err);
			return -1;
		}
		snprintf(in, sizeof in, "%s/../../data/blocklists/blacklist.RSA-%s", testdata(), bits[i]);
		if (dd_keys_blocklist_import(dir_openssl, "openssl", key, in, &count, err, sizeof err) != 0 || count == 0) {
			fprintf(stderr, "import %s: %s\n", in, err);
			return -1;
		}
	}
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	rm_rf(tmp_root);
	return 0;
}

/* Key facts of a sample: a certificate, a PEM key/CSR, or a hex modulus (.txt). */
static int sample_facts(const char *rel, struct dd_cert_facts *f)
{
	char path[512], err[256] = "";
	snprintf(path, sizeof path, "%s/keys/%s", testdata(), rel);
	size_t len = 0;
	unsigned char *data = read_all(path, &len);
	if (!data)
		return -1;
	int rc;
	size_t rl = strlen(rel);
	if (rl > 4 && strcmp(rel + rl - 4, ".txt") == 0) {
		char *p = (char *)data;
		if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
			p += 2;
		size_t e = strspn(p, "0123456789abcdefABCDEF");
		p[e] = '\0';
		BIGNUM *bn = NULL;
		rc = -1;
		if (BN_hex2bn(&bn, p) > 0) {
			unsigned char buf[1024];
			int n = BN_bn2bin(bn, buf);
			rc = dd_x509_rsa_modulus_facts(buf, (size_t)n, f);
		}
		BN_free(bn);
	} else if (strstr((char *)data, "-----BEGIN CERTIFICATE-----")) {
		rc = dd_x509_parse(data, len, f, err, sizeof err);
	} else {
		rc = dd_x509_key_facts_from_pem(data, len, "pass", f, err, sizeof err);
	}
	if (rc != 0)
		fprintf(stderr, "%s: %s\n", rel, err);
	free(data);
	return rc;
}

static void test_roca_constants(void **state)
{
	(void)state;
	static const unsigned primes[] = { 2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71,
					   73, 79, 83, 89, 97, 101, 103, 107, 109, 113, 127, 131, 137, 139, 149, 151, 157, 163, 167 };
	BN_CTX *ctx = BN_CTX_new();
	BIGNUM *m = BN_new(), *spec = NULL, *ord = BN_new(), *g = BN_new(), *r = BN_new();
	assert_true(BN_one(m));
	for (size_t i = 0; i < sizeof primes / sizeof primes[0]; i++)
		assert_true(BN_mul_word(m, primes[i]));
	assert_true(BN_hex2bn(&spec, "924CBA6AE99DFA084537FACC54948DF0C23DA044D8CABE0EDD75BC6") > 0);
	assert_int_equal(BN_cmp(m, spec), 0);
	/* ORD is the product of its prime powers, and 65537^ORD = 1 mod M. */
	uint64_t prod = 1;
	static const unsigned qs[] = { 16, 81, 25, 7, 11, 13, 17, 23, 29, 37, 41, 53, 83 };
	for (size_t i = 0; i < 13; i++)
		prod *= qs[i];
	assert_true(prod == 2454106387091158800ULL);
	assert_true(BN_set_word(ord, 2454106387091158800ULL));
	assert_true(BN_set_word(g, 65537));
	assert_true(BN_mod_exp(r, g, ord, m, ctx));
	assert_true(BN_is_one(r));
	BN_free(m);
	BN_free(spec);
	BN_free(ord);
	BN_free(g);
	BN_free(r);
	BN_CTX_free(ctx);
}

/* The table-driven test agrees with the literal BIGNUM definition on random moduli and
 * on moduli constructed to carry the fingerprint (65537^a mod M + k*M). */
static void test_roca_fast_matches_reference(void **state)
{
	(void)state;
	BN_CTX *ctx = BN_CTX_new();
	BIGNUM *m = NULL, *g = BN_new(), *a = BN_new(), *n = BN_new(), *k = BN_new();
	assert_true(BN_hex2bn(&m, "924CBA6AE99DFA084537FACC54948DF0C23DA044D8CABE0EDD75BC6") > 0);
	assert_true(BN_set_word(g, 65537));
	unsigned char buf[512];
	int positives = 0;
	for (int i = 0; i < 300; i++) {
		if (i % 2 == 0) {
			assert_true(BN_rand(n, 2048, BN_RAND_TOP_ONE, BN_RAND_BOTTOM_ODD));
		} else {
			assert_true(BN_rand(a, 64, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY));
			assert_true(BN_mod_exp(n, g, a, m, ctx));
			assert_true(BN_rand(k, 1800, BN_RAND_TOP_ONE, BN_RAND_BOTTOM_ANY));
			assert_true(BN_mul(k, k, m, ctx));
			assert_true(BN_add(n, n, k));
		}
		int len = BN_bn2bin(n, buf);
		enum dd_keyq fast = dd_keys_roca_test(buf, (size_t)len);
		assert_int_equal(fast, dd_keys_roca_test_reference(buf, (size_t)len));
		if (i % 2 == 1) {
			assert_int_equal(fast, DD_KEYQ_VULNERABLE);
			positives++;
		} else {
			assert_int_equal(fast, DD_KEYQ_CLEAN);
		}
	}
	assert_int_equal(positives, 150);
	/* A fingerprinted number times a small prime that breaks one residue is negative. */
	assert_true(BN_mul_word(n, 3));
	int len = BN_bn2bin(n, buf);
	assert_int_equal(dd_keys_roca_test(buf, (size_t)len), dd_keys_roca_test_reference(buf, (size_t)len));
	BN_free(m);
	BN_free(g);
	BN_free(a);
	BN_free(n);
	BN_free(k);
	BN_CTX_free(ctx);
}

static void test_roca_fake_moduli_negative(void **state)
{
	(void)state;
	char path[512];
	snprintf(path, sizeof path, "%s/keys/roca/fake_moduli_dec.txt", testdata());
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	char line[4096];
	int count = 0;
	while (fgets(line, sizeof line, f)) {
		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] == '\0')
			continue;
		BIGNUM *bn = NULL;
		assert_true(BN_dec2bn(&bn, line) > 0);
		unsigned char buf[1024];
		int len = BN_bn2bin(bn, buf);
		assert_true(BN_num_bits(bn) > 256);
		assert_int_equal(dd_keys_roca_test(buf, (size_t)len), DD_KEYQ_CLEAN);
		assert_int_equal(dd_keys_roca_test_reference(buf, (size_t)len), DD_KEYQ_CLEAN);
		BN_free(bn);
		count++;
	}
	fclose(f);
	assert_int_equal(count, 10);
}

static void test_roca_small_moduli_not_checked(void **state)
{
	(void)state;
	unsigned char buf[40];
	memset(buf, 0xFF, sizeof buf);
	assert_int_equal(dd_keys_roca_test(buf, 0), DD_KEYQ_NOT_CHECKED);
	assert_int_equal(dd_keys_roca_test(buf, 32), DD_KEYQ_NOT_CHECKED); /* 2^256 - 1 */
	buf[0] = 0;
	buf[1] = 0;
	buf[2] = 0xFF;
	assert_int_equal(dd_keys_roca_test(buf, 34), DD_KEYQ_NOT_CHECKED); /* leading zeros stripped */
	memset(buf, 0, sizeof buf);
	buf[7] = 1; /* 2^256 exactly, in 33 significant bytes: checked */
	assert_int_not_equal(dd_keys_roca_test(buf + 7, 33), DD_KEYQ_NOT_CHECKED);
}

static const char *const kq_name[] = { "NOT_CHECKED", "CLEAN", "VULNERABLE" };

/* Every sample of expected.tsv: bits, both Debian hashes, ROCA verdict, and the Debian
 * verdict against the shipped lists imported in each of the two formats. */
static void test_expected_samples(void **state)
{
	(void)state;
	char path[512];
	snprintf(path, sizeof path, "%s/keys/expected.tsv", testdata());
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	struct dd_blocklists *bl_dwk = NULL, *bl_ossl = NULL;
	assert_int_equal(dd_keys_blocklists_open(dir_dwk, &bl_dwk), 0);
	assert_int_equal(dd_keys_blocklists_open(dir_openssl, &bl_ossl), 0);
	char line[1024];
	int n = 0, roca_pos = 0, deb_pos = 0, failures = 0;
	assert_non_null(fgets(line, sizeof line, f)); /* header */
	while (fgets(line, sizeof line, f)) {
		line[strcspn(line, "\r\n")] = '\0';
		char *fields[7];
		char *save = NULL, *p = line;
		int nf = 0;
		for (char *tok = strtok_r(p, "\t", &save); tok && nf < 7; tok = strtok_r(NULL, "\t", &save))
			fields[nf++] = tok;
		assert_int_equal(nf, 7);
		struct dd_cert_facts fc;
		memset(&fc, 0, sizeof fc);
		assert_int_equal(sample_facts(fields[0], &fc), 0);
		int bits = (int)strtol(fields[1], NULL, 10);
		bool roca = strcmp(fields[2], "yes") == 0, deb = strcmp(fields[4], "yes") == 0;
		bool has_list = bits == 512 || bits == 1024 || bits == 2048 || bits == 4096;
		enum dd_keyq want_deb = deb ? DD_KEYQ_VULNERABLE : has_list ? DD_KEYQ_CLEAN : DD_KEYQ_NOT_CHECKED;
		enum dd_keyq d1 = dd_keys_blocklists_check(bl_dwk, &fc), d2 = dd_keys_blocklists_check(bl_ossl, &fc);
		bool ok = strcmp(fc.key_type, "RSA") == 0 && fc.key_bits == bits &&
			  strcmp(fc.key_sha1_80, fields[5]) == 0 && strcmp(fc.key_sha256, fields[6]) == 0 &&
			  fc.roca == (roca ? DD_KEYQ_VULNERABLE : DD_KEYQ_CLEAN) && d1 == want_deb && d2 == want_deb;
		if (!ok) {
			fprintf(stderr, "MISMATCH %s: bits %d/%d sha1_80 %s/%s sha256 %s/%s roca %s/%s debian %s,%s/%s\n",
				fields[0], fc.key_bits, bits, fc.key_sha1_80, fields[5], fc.key_sha256, fields[6],
				kq_name[fc.roca], roca ? "yes" : "no", kq_name[d1], kq_name[d2], kq_name[want_deb]);
			failures++;
		}
		roca_pos += roca;
		deb_pos += deb;
		n++;
		dd_x509_facts_clear(&fc);
	}
	fclose(f);
	dd_keys_blocklists_free(bl_dwk);
	dd_keys_blocklists_free(bl_ossl);
	assert_int_equal(failures, 0);
	assert_int_equal(n, 60);
	assert_true(roca_pos >= 10);
	assert_true(deb_pos >= 14);
}

static void test_ec_key_facts_and_list(void **state)
{
	(void)state;
	struct dd_cert_facts f;
	memset(&f, 0, sizeof f);
	assert_int_equal(sample_facts("badkeys/ec-p256-rfc-example.key", &f), 0);
	assert_string_equal(f.key_type, "EC");
	assert_string_equal(f.curve, "prime256v1");
	assert_int_equal(f.key_bits, 256);
	assert_int_equal(strlen(f.key_sha256), 64);
	assert_string_equal(f.key_sha1_80, "");
	assert_int_equal(f.roca, DD_KEYQ_NOT_CHECKED);

	char dir[400], in[400], err[256], text[200];
	size_t count = 0;
	snprintf(dir, sizeof dir, "%s/ec", tmp_root);
	snprintf(in, sizeof in, "%s/sha256_xcoord_secp256r1.csv", tmp_root);
	struct dd_blocklists *bl = NULL;
	assert_int_equal(dd_keys_blocklists_open(dir, &bl), 0); /* missing dir: empty set */
	assert_int_equal(dd_keys_blocklists_check(bl, &f), DD_KEYQ_NOT_CHECKED);
	dd_keys_blocklists_free(bl);

	snprintf(text, sizeof text, "%s\n", "00000000000000000000000000000000000000000000000000000000000000ff");
	write_file(in, text);
	assert_int_equal(dd_keys_blocklist_import(dir, "dwk", "ec-secp256r1", in, &count, err, sizeof err), 0);
	assert_int_equal(dd_keys_blocklists_open(dir, &bl), 0);
	assert_int_equal(dd_keys_blocklists_count(bl, "ec-prime256v1"), 1);
	assert_int_equal(dd_keys_blocklists_check(bl, &f), DD_KEYQ_CLEAN);
	dd_keys_blocklists_free(bl);

	snprintf(text, sizeof text, "# test\n%s\n", f.key_sha256);
	write_file(in, text);
	assert_int_equal(dd_keys_blocklist_import(dir, "dwk", "ec-prime256v1", in, &count, err, sizeof err), 0);
	assert_int_equal(dd_keys_blocklists_open(dir, &bl), 0);
	assert_int_equal(dd_keys_blocklists_check(bl, &f), DD_KEYQ_VULNERABLE);
	dd_keys_blocklists_free(bl);
	dd_x509_facts_clear(&f);
}

static void test_import_dedup_and_errors(void **state)
{
	(void)state;
	char in[400], err[256];
	size_t count = 0;
	snprintf(in, sizeof in, "%s/list.txt", tmp_root);
	write_file(in, "# comment\n\n0123456789abcdef0123\r\nFFFFFFFFFFFFFFFFFFFF\n0123456789abcdef0123\n  aaaaaaaaaaaaaaaaaaaa  \n");
	assert_int_equal(dd_keys_blocklist_import(dir_scratch, "openssl", "rsa-2048", in, &count, err, sizeof err), 0);
	assert_int_equal(count, 3);

	struct dd_blocklists *bl = NULL;
	assert_int_equal(dd_keys_blocklists_open(dir_scratch, &bl), 0);
	assert_int_equal(dd_keys_blocklists_count(bl, "rsa-2048"), 3);
	struct dd_cert_facts f;
	memset(&f, 0, sizeof f);
	snprintf(f.key_type, sizeof f.key_type, "RSA");
	f.key_bits = 2048;
	snprintf(f.key_sha1_80, sizeof f.key_sha1_80, "ffffffffffffffffffff");
	assert_int_equal(dd_keys_blocklists_check(bl, &f), DD_KEYQ_VULNERABLE);
	snprintf(f.key_sha1_80, sizeof f.key_sha1_80, "fffffffffffffffffffe");
	assert_int_equal(dd_keys_blocklists_check(bl, &f), DD_KEYQ_CLEAN);
	f.key_bits = 3072; /* no list for this size: never CLEAN */
	assert_int_equal(dd_keys_blocklists_check(bl, &f), DD_KEYQ_NOT_CHECKED);
	dd_keys_blocklists_free(bl);

	/* A bad line fails the import, names the line, and leaves the old list. */
	write_file(in, "0123456789abcdef0123\n0123456789abcdef0123\n0123456789abcdef012\n");
	err[0] = '\0';
	assert_int_equal(dd_keys_blocklist_import(dir_scratch, "openssl", "rsa-2048", in, &count, err, sizeof err), DD_EINVAL);
	assert_non_null(strstr(err, "line 3"));
	write_file(in, "0123456789abcdef012z\n");
	assert_int_equal(dd_keys_blocklist_import(dir_scratch, "openssl", "rsa-2048", in, &count, err, sizeof err), DD_EINVAL);
	assert_int_equal(dd_keys_blocklists_open(dir_scratch, &bl), 0);
	assert_int_equal(dd_keys_blocklists_count(bl, "rsa-2048"), 3);
	dd_keys_blocklists_free(bl);

	/* Wrong width for the format, bad format, bad key names, missing input. */
	write_file(in, "0123456789abcdef0123\n");
	assert_int_equal(dd_keys_blocklist_import(dir_scratch, "dwk", "rsa-2048", in, &count, err, sizeof err), DD_EINVAL);
	assert_int_equal(dd_keys_blocklist_import(dir_scratch, "pem", "rsa-2048", in, &count, err, sizeof err), DD_EINVAL);
	assert_int_equal(dd_keys_blocklist_import(dir_scratch, "openssl", "ec-prime256v1", in, &count, err, sizeof err), DD_EINVAL);
	assert_int_equal(dd_keys_blocklist_import(dir_scratch, "openssl", "rsa-abc", in, &count, err, sizeof err), DD_EINVAL);
	assert_int_equal(dd_keys_blocklist_import(dir_scratch, "openssl", "rsa-99999", in, &count, err, sizeof err), DD_EINVAL);
	assert_int_equal(dd_keys_blocklist_import(dir_scratch, "openssl", "ec-../x", in, &count, err, sizeof err), DD_EINVAL);
	assert_int_equal(dd_keys_blocklist_import(dir_scratch, "openssl", "dsa-1024", in, &count, err, sizeof err), DD_EINVAL);
	char missing[420];
	snprintf(missing, sizeof missing, "%s/does-not-exist", tmp_root);
	assert_int_equal(dd_keys_blocklist_import(dir_scratch, "openssl", "rsa-2048", missing, &count, err, sizeof err), DD_EIO);

	/* An over-long line is refused, not split. */
	char longline[600];
	memset(longline, 'a', 500);
	longline[500] = '\n';
	longline[501] = '\0';
	write_file(in, longline);
	assert_int_equal(dd_keys_blocklist_import(dir_scratch, "openssl", "rsa-2048", in, &count, err, sizeof err), DD_EINVAL);
	assert_non_null(strstr(err, "line 1"));

	/* No temporary file is left behind. */
	char cmd[600];
	snprintf(cmd, sizeof cmd, "ls -A '%s' | grep -q '^\\.'", dir_scratch);
	assert_int_not_equal(system(cmd), 0);

	/* An empty list (only comments) is a loaded list: keys of that size are CLEAN. */
	write_file(in, "# nothing\n");
	assert_int_equal(dd_keys_blocklist_import(dir_scratch, "dwk", "rsa-1024", in, &count, err, sizeof err), 0);
	assert_int_equal(count, 0);
	assert_int_equal(dd_keys_blocklists_open(dir_scratch, &bl), 0);
	f.key_bits = 1024;
	snprintf(f.key_sha256, sizeof f.key_sha256, "%064d", 0);
	assert_int_equal(dd_keys_blocklists_check(bl, &f), DD_KEYQ_CLEAN);
	dd_keys_blocklists_free(bl);
	dd_keys_blocklists_free(NULL);
}

/* Without any import, the shipped sample lists (data/blocklists, compiled in) find every
 * Debian-weak sample key of a shipped size; any other key stays NOT_CHECKED, since a
 * sample cannot clear a key. */
static void test_shipped_samples_without_import(void **state)
{
	(void)state;
	char path[512];
	snprintf(path, sizeof path, "%s/keys/expected.tsv", testdata());
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	struct dd_blocklists *bl = NULL;
	assert_int_equal(dd_keys_blocklists_open(NULL, &bl), 0);
	assert_int_equal(dd_keys_blocklists_count(bl, NULL), 0); /* samples are not imported entries */
	char line[1024];
	int vulnerable = 0, failures = 0;
	assert_non_null(fgets(line, sizeof line, f));
	while (fgets(line, sizeof line, f)) {
		line[strcspn(line, "\r\n")] = '\0';
		char *fields[7], *save = NULL;
		int nf = 0;
		for (char *tok = strtok_r(line, "\t", &save); tok && nf < 7; tok = strtok_r(NULL, "\t", &save))
			fields[nf++] = tok;
		assert_int_equal(nf, 7);
		struct dd_cert_facts fc;
		memset(&fc, 0, sizeof fc);
		assert_int_equal(sample_facts(fields[0], &fc), 0);
		int bits = (int)strtol(fields[1], NULL, 10);
		bool deb = strcmp(fields[4], "yes") == 0;
		bool shipped = bits == 512 || bits == 1024 || bits == 2048 || bits == 4096;
		enum dd_keyq want = deb && shipped ? DD_KEYQ_VULNERABLE : DD_KEYQ_NOT_CHECKED;
		enum dd_keyq got = dd_keys_blocklists_check(bl, &fc);
		if (got != want) {
			fprintf(stderr, "MISMATCH %s: %s, want %s\n", fields[0], kq_name[got], kq_name[want]);
			failures++;
		}
		vulnerable += got == DD_KEYQ_VULNERABLE;
		dd_x509_facts_clear(&fc);
	}
	fclose(f);
	dd_keys_blocklists_free(bl);
	assert_int_equal(failures, 0);
	assert_true(vulnerable >= 14);
}

/* An import into the directory of an open handle is picked up by dd_keys_blocklists_refresh,
 * without reopening. */
static void test_refresh_after_import(void **state)
{
	(void)state;
	char dir[400], in[400], err[256];
	size_t count = 0;
	snprintf(dir, sizeof dir, "%s/refresh", tmp_root);
	snprintf(in, sizeof in, "%s/refresh-list.csv", tmp_root);
	struct dd_blocklists *bl = NULL;
	assert_int_equal(dd_keys_blocklists_open(dir, &bl), 0); /* missing directory */
	assert_int_equal(dd_keys_blocklists_refresh(bl), 0);
	struct dd_cert_facts f;
	memset(&f, 0, sizeof f);
	snprintf(f.key_type, sizeof f.key_type, "RSA");
	f.key_bits = 3072;
	snprintf(f.key_sha256, sizeof f.key_sha256, "%064d", 7);
	assert_int_equal(dd_keys_blocklists_check(bl, &f), DD_KEYQ_NOT_CHECKED);

	char text[200];
	snprintf(text, sizeof text, "# a complete list of one key\n%064d\n", 7);
	write_file(in, text);
	assert_int_equal(dd_keys_blocklist_import(dir, "dwk", "rsa-3072", in, &count, err, sizeof err), 0);
	assert_int_equal(dd_keys_blocklists_refresh(bl), 1);
	assert_int_equal(dd_keys_blocklists_refresh(bl), 0);
	assert_int_equal(dd_keys_blocklists_count(bl, "rsa-3072"), 1);
	assert_int_equal(dd_keys_blocklists_check(bl, &f), DD_KEYQ_VULNERABLE);
	snprintf(f.key_sha256, sizeof f.key_sha256, "%064d", 8);
	assert_int_equal(dd_keys_blocklists_check(bl, &f), DD_KEYQ_CLEAN);
	assert_int_equal(dd_keys_blocklists_refresh(NULL), 0);
	dd_keys_blocklists_free(bl);
}

int main(void)
{
	dd_log_set_level(DD_LOG_WARN);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roca_constants),
		cmocka_unit_test(test_roca_fast_matches_reference),
		cmocka_unit_test(test_roca_fake_moduli_negative),
		cmocka_unit_test(test_roca_small_moduli_not_checked),
		cmocka_unit_test(test_expected_samples),
		cmocka_unit_test(test_ec_key_facts_and_list),
		cmocka_unit_test(test_import_dedup_and_errors),
		cmocka_unit_test(test_shipped_samples_without_import),
		cmocka_unit_test(test_refresh_after_import),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}

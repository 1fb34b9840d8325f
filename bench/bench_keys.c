/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Benchmark of the key-quality module, single thread: ROCA tests per second on 2048-bit
 * moduli (random moduli, and fingerprinted moduli that take the full discrete-log path),
 * and Debian blocklist lookups per second against a random 300,000-entry list that is
 * generated in the dwk format into a temporary directory, imported and memory-mapped.
 * Targets: >= 200,000 ROCA tests/s and >= 2,000,000 lookups/s. Exits 1 below target.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/rand.h>

#include "dd/keys.h"
#include "dd/x509.h"

#define NMOD 1000
#define LIST_N 300000
#define NFACTS 4096

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Runs dd_keys_roca_test over the moduli for about a second; returns tests/s. */
static double bench_roca(unsigned char (*mods)[256], enum dd_keyq want, const char *label)
{
	size_t done = 0, bad = 0;
	double t0 = now_s(), t;
	do {
		for (int i = 0; i < NMOD; i++)
			bad += dd_keys_roca_test(mods[i], 256) != want;
		done += NMOD;
	} while ((t = now_s() - t0) < 1.0);
	double rate = (double)done / t;
	printf("roca_tests_per_sec{moduli=\"%s\",bits=2048} %.0f\n", label, rate);
	if (bad) {
		printf("  unexpected verdicts: %zu\n", bad);
		return 0;
	}
	return rate;
}

int main(void)
{
	dd_log_set_level(DD_LOG_WARN);
	int status = 0;

	/* ROCA. */
	static unsigned char rnd[NMOD][256], pos[NMOD][256];
	BN_CTX *ctx = BN_CTX_new();
	BIGNUM *n = BN_new(), *m = NULL, *g = BN_new(), *a = BN_new(), *k = BN_new();
	if (!ctx || !n || !g || !a || !k || !BN_hex2bn(&m, "924CBA6AE99DFA084537FACC54948DF0C23DA044D8CABE0EDD75BC6") ||
	    !BN_set_word(g, 65537))
		return 1;
	for (int i = 0; i < NMOD; i++) {
		if (!BN_rand(n, 2048, BN_RAND_TOP_ONE, BN_RAND_BOTTOM_ODD) || BN_bn2binpad(n, rnd[i], 256) != 256)
			return 1;
		/* 65537^a mod M + k*M with a 2048-bit total: carries the fingerprint. */
		do {
			if (!BN_rand(a, 62, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) || !BN_mod_exp(n, g, a, m, ctx) ||
			    !BN_rand(k, 2048 - BN_num_bits(m), BN_RAND_TOP_ONE, BN_RAND_BOTTOM_ANY) ||
			    !BN_mul(k, k, m, ctx) || !BN_add(n, n, k))
				return 1;
		} while (BN_num_bits(n) != 2048);
		if (BN_bn2binpad(n, pos[i], 256) != 256)
			return 1;
	}
	BN_free(n);
	BN_free(m);
	BN_free(g);
	BN_free(a);
	BN_free(k);
	BN_CTX_free(ctx);
	double r1 = bench_roca(rnd, DD_KEYQ_CLEAN, "random");
	double r2 = bench_roca(pos, DD_KEYQ_VULNERABLE, "fingerprinted");
	if (r1 < 200000 || r2 < 200000) {
		printf("  below the 200,000 tests/s target\n");
		status = 1;
	}

	/* Blocklist: a random 300k-entry dwk list, imported, mapped, looked up. */
	char dir[] = "/tmp/dd_bench_keys.XXXXXX";
	if (!mkdtemp(dir))
		return 1;
	char in[128], listdir[128];
	snprintf(in, sizeof in, "%s/sha256_modulus_2048.csv", dir);
	snprintf(listdir, sizeof listdir, "%s/lists", dir);
	static unsigned char hashes[LIST_N][32];
	if (RAND_bytes(&hashes[0][0], sizeof hashes) != 1)
		return 1;
	FILE *f = fopen(in, "w");
	if (!f)
		return 1;
	for (int i = 0; i < LIST_N; i++) {
		char hex[65];
		dd_hex_encode(hashes[i], 32, hex);
		fprintf(f, "%s\n", hex);
	}
	fclose(f);
	size_t count = 0;
	char err[256];
	double t0 = now_s();
	if (dd_keys_blocklist_import(listdir, "dwk", "rsa-2048", in, &count, err, sizeof err) != 0) {
		printf("import failed: %s\n", err);
		return 1;
	}
	double t_import = now_s() - t0;
	struct dd_blocklists *bl = NULL;
	if (dd_keys_blocklists_open(listdir, &bl) != 0)
		return 1;
	printf("blocklist_import_seconds{entries=%zu} %.3f\n", count, t_import);

	static struct dd_cert_facts facts[NFACTS];
	for (int i = 0; i < NFACTS; i++) {
		memset(&facts[i], 0, sizeof facts[i]);
		snprintf(facts[i].key_type, sizeof facts[i].key_type, "RSA");
		facts[i].key_bits = 2048;
		unsigned char h[32];
		if (i % 2 == 0)
			memcpy(h, hashes[(size_t)i * 73 % LIST_N], 32);
		else if (RAND_bytes(h, 32) != 1)
			return 1;
		dd_hex_encode(h, 32, facts[i].key_sha256);
	}
	size_t done = 0, hits = 0;
	double t;
	t0 = now_s();
	do {
		for (int i = 0; i < NFACTS; i++)
			hits += dd_keys_blocklists_check(bl, &facts[i]) == DD_KEYQ_VULNERABLE;
		done += NFACTS;
	} while ((t = now_s() - t0) < 1.0);
	double rate = (double)done / t;
	printf("blocklist_lookups_per_sec{entries=%zu} %.0f\n", count, rate);
	if (hits != done / 2) {
		printf("  unexpected hit count %zu of %zu\n", hits, done);
		status = 1;
	}
	if (rate < 2000000) {
		printf("  below the 2,000,000 lookups/s target\n");
		status = 1;
	}
	dd_keys_blocklists_free(bl);
	char cmd[200];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		status = 1;
	return status;
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Key-quality tests. ROCA (CVE-2017-15361) is the discrete-log fingerprint of KEYS.md:
 * the modulus is reduced once modulo M (the product of the primes 2..167) with an
 * OpenSSL BIGNUM, then split into one small residue per prime; every exponentiation and
 * every discrete-log check then works on those residues through tables built once
 * (pthread_once) from the same definitions, so a test costs one BN_mod plus a few
 * hundred table lookups. Debian weak keys (CVE-2008-0166) are looked up in blocklists
 * imported from the two public formats into sorted, de-duplicated fixed-width binary
 * files (a 16-byte header, then records), replaced atomically (temp file + rename) and
 * memory-mapped read-only; a lookup is a binary search. The shipped sample lists are
 * compiled in and loaded beside them; a sample proves a key weak but never clean. A key
 * size without a loaded complete list is NOT_CHECKED, never CLEAN. The loaded lists are
 * one immutable set behind an atomic pointer: a refresh after an import builds a new
 * set and swaps it in, and superseded sets live until the handle is freed, so readers
 * never take a lock.
 */
#include "dd/keys.h"
#include "core/pki/dd_keys_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bn.h>

/* ------------------------------------------------------------------------------------ */
/* ROCA                                                                                 */
/* ------------------------------------------------------------------------------------ */

#define NPRIMES 39
#define NQ 13
#define ROCA_ORD 2454106387091158800ULL
#define ROCA_M_HEX "924CBA6AE99DFA084537FACC54948DF0C23DA044D8CABE0EDD75BC6"
#define ROCA_MAX_BYTES 8192 /* moduli above 65536 bits are not tested */

static const uint8_t roca_primes[NPRIMES] = {
	2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71,
	73, 79, 83, 89, 97, 101, 103, 107, 109, 113, 127, 131, 137, 139, 149, 151, 157, 163, 167,
};
/* The prime-power factors of ORD, in the order of KEYS.md. */
static const uint8_t roca_q[NQ] = { 16, 81, 25, 7, 11, 13, 17, 23, 29, 37, 41, 53, 83 };

#define MAX_GROUPS 16
struct roca_tables {
	BIGNUM *m;
	/* Groups of consecutive primes whose product fits in 32 bits. */
	uint32_t group_mod[MAX_GROUPS];
	uint8_t group_first[MAX_GROUPS], group_count[MAX_GROUPS];
	int n_groups;
	uint16_t off[NPRIMES];          /* offset of prime j's row in the flat tables */
	uint8_t ord_ok[3000];           /* [off[j] + r] = (r^ORD mod p == 1) */
	uint8_t hpow[NQ][3000];         /* [q][off[j] + r] = r^(ORD/q) mod p */
	uint8_t gpow[NQ][83][NPRIMES];  /* [q][i][j] = (65537^(ORD/q))^i mod p_j */
	int pstar[NQ];                  /* index of a prime where g' has order exactly q */
	uint8_t dlog[NQ][168];          /* [q][r] = i with g'^i = r mod pstar, 0xFF if none */
	bool ok;
};

static struct roca_tables roca_t;
static pthread_once_t roca_once = PTHREAD_ONCE_INIT;

static unsigned small_powmod(unsigned b, uint64_t e, unsigned p)
{
	unsigned r = 1 % p;
	b %= p;
	while (e) {
		if (e & 1)
			r = (r * b) % p;
		b = (b * b) % p;
		e >>= 1;
	}
	return r;
}

static void roca_init(void)
{
	struct roca_tables *t = &roca_t;
	unsigned total = 0;
	for (int j = 0; j < NPRIMES; j++) {
		t->off[j] = (uint16_t)total;
		total += roca_primes[j];
	}
	if (total > sizeof t->ord_ok)
		return;

	/* Residue groups. */
	int g = 0;
	for (int j = 0; j < NPRIMES && g < MAX_GROUPS;) {
		uint64_t prod = 1;
		int first = j;
		while (j < NPRIMES && prod * roca_primes[j] <= 0xFFFFFFFFULL)
			prod *= roca_primes[j++];
		t->group_mod[g] = (uint32_t)prod;
		t->group_first[g] = (uint8_t)first;
		t->group_count[g] = (uint8_t)(j - first);
		g++;
	}
	t->n_groups = g;

	for (int j = 0; j < NPRIMES; j++) {
		unsigned p = roca_primes[j];
		for (unsigned r = 0; r < p; r++) {
			/* r^ORD mod p: r = 0 never gives 1; otherwise reduce ORD mod p-1. */
			t->ord_ok[t->off[j] + r] = r != 0 && small_powmod(r, ROCA_ORD % (p - 1 ? p - 1 : 1), p) == 1;
			if (p == 2)
				t->ord_ok[t->off[j] + r] = (r == 1);
			for (int k = 0; k < NQ; k++) {
				uint64_t e = ROCA_ORD / roca_q[k];
				unsigned v;
				if (r == 0)
					v = 0;
				else
					v = small_powmod(r, e % (p - 1 ? p - 1 : 1), p);
				t->hpow[k][t->off[j] + r] = (uint8_t)v;
			}
		}
	}
	for (int k = 0; k < NQ; k++) {
		unsigned q = roca_q[k];
		uint64_t e = ROCA_ORD / q;
		t->pstar[k] = -1;
		for (int j = 0; j < NPRIMES; j++) {
			unsigned p = roca_primes[j];
			unsigned gq = small_powmod(65537 % p, e % (p - 1 ? p - 1 : 1), p);
			unsigned v = 1 % p;
			unsigned order = 0;
			for (unsigned i = 0; i < q; i++) {
				t->gpow[k][i][j] = (uint8_t)v;
				if (i > 0 && v == 1 % p && order == 0)
					order = i;
				v = (v * gq) % p;
			}
			if (order == 0 && t->pstar[k] < 0 && p > 2)
				t->pstar[k] = j; /* g' has order q (no earlier return to 1) */
		}
		if (t->pstar[k] < 0)
			return;
		int js = t->pstar[k];
		memset(t->dlog[k], 0xFF, sizeof t->dlog[k]);
		for (unsigned i = 0; i < q; i++)
			t->dlog[k][t->gpow[k][i][js]] = (uint8_t)i;
	}
	t->m = NULL;
	if (!BN_hex2bn(&t->m, ROCA_M_HEX))
		return;
	t->ok = true;
}

enum dd_keyq dd_keys_roca_test(const unsigned char *n_be, size_t n_len)
{
	while (n_len > 0 && n_be[0] == 0) {
		n_be++;
		n_len--;
	}
	/* Only n >= 2^256, i.e. at least 257 significant bits. */
	if (n_len < 33 || n_len > ROCA_MAX_BYTES)
		return DD_KEYQ_NOT_CHECKED;
	pthread_once(&roca_once, roca_init);
	const struct roca_tables *t = &roca_t;
	if (!t->ok) {
		dd_log_error("ROCA tables could not be initialised");
		return DD_KEYQ_NOT_CHECKED;
	}

	unsigned char red[32];
	BN_CTX *ctx = BN_CTX_new();
	BIGNUM *n = BN_bin2bn(n_be, (int)n_len, NULL);
	BIGNUM *r = BN_new();
	bool bn_ok = ctx && n && r && BN_mod(r, n, t->m, ctx) && BN_bn2binpad(r, red, sizeof red) == (int)sizeof red;
	BN_free(r);
	BN_free(n);
	BN_CTX_free(ctx);
	if (!bn_ok) {
		dd_log_error("ROCA test: BIGNUM reduction failed");
		return DD_KEYQ_NOT_CHECKED;
	}

	uint8_t res[NPRIMES];
	for (int g = 0; g < t->n_groups; g++) {
		uint64_t P = t->group_mod[g], acc = 0;
		for (int i = 0; i < 32; i += 4) {
			uint64_t w = ((uint64_t)red[i] << 24) | ((uint64_t)red[i + 1] << 16) |
				     ((uint64_t)red[i + 2] << 8) | red[i + 3];
			acc = ((acc << 32) | w) % P;
		}
		for (int j = t->group_first[g]; j < t->group_first[g] + t->group_count[g]; j++)
			res[j] = (uint8_t)(acc % roca_primes[j]);
	}
	for (int j = 0; j < NPRIMES; j++)
		if (!t->ord_ok[t->off[j] + res[j]])
			return DD_KEYQ_CLEAN;
	for (int k = 0; k < NQ; k++) {
		uint8_t h[NPRIMES];
		for (int j = 0; j < NPRIMES; j++)
			h[j] = t->hpow[k][t->off[j] + res[j]];
		uint8_t i = t->dlog[k][h[t->pstar[k]]];
		if (i == 0xFF || memcmp(t->gpow[k][i], h, NPRIMES) != 0)
			return DD_KEYQ_CLEAN;
	}
	return DD_KEYQ_VULNERABLE;
}

enum dd_keyq dd_keys_roca_test_reference(const unsigned char *n_be, size_t n_len)
{
	static const unsigned long qs[NQ] = { 16, 81, 25, 7, 11, 13, 17, 23, 29, 37, 41, 53, 83 };
	enum dd_keyq verdict = DD_KEYQ_NOT_CHECKED;
	BN_CTX *ctx = BN_CTX_new();
	BIGNUM *n = BN_bin2bn(n_be, (int)n_len, NULL);
	BIGNUM *m = NULL, *ord = BN_new(), *e = BN_new(), *gen = BN_new(), *gq = BN_new();
	BIGNUM *hq = BN_new(), *acc = BN_new(), *one = BN_new();
	if (!ctx || !n || !ord || !e || !gen || !gq || !hq || !acc || !one ||
	    !BN_hex2bn(&m, ROCA_M_HEX) || !BN_set_word(ord, ROCA_ORD) ||
	    !BN_set_word(gen, 65537) || !BN_one(one))
		goto out;
	if (BN_num_bits(n) <= 256 || n_len > ROCA_MAX_BYTES)
		goto out;
	verdict = DD_KEYQ_CLEAN;
	if (!BN_mod_exp(acc, n, ord, m, ctx))
		goto fail;
	if (!BN_is_one(acc))
		goto out;
	for (int k = 0; k < NQ; k++) {
		if (!BN_set_word(e, ROCA_ORD / qs[k]) || !BN_mod_exp(gq, gen, e, m, ctx) ||
		    !BN_mod_exp(hq, n, e, m, ctx) || !BN_one(acc))
			goto fail;
		bool found = false;
		for (unsigned long i = 0; i < qs[k] && !found; i++) {
			if (BN_cmp(acc, hq) == 0)
				found = true;
			else if (!BN_mod_mul(acc, acc, gq, m, ctx))
				goto fail;
		}
		if (!found)
			goto out;
	}
	verdict = DD_KEYQ_VULNERABLE;
	goto out;
fail:
	verdict = DD_KEYQ_NOT_CHECKED;
out:
	BN_free(n);
	BN_free(m);
	BN_free(ord);
	BN_free(e);
	BN_free(gen);
	BN_free(gq);
	BN_free(hq);
	BN_free(acc);
	BN_free(one);
	BN_CTX_free(ctx);
	return verdict;
}

/* ------------------------------------------------------------------------------------ */
/* Debian weak-key blocklists                                                           */
/* ------------------------------------------------------------------------------------ */

#define BL_MAGIC "DDBLKv1\n"
#define BL_HDR 16
#define BL_MAX_LISTS 64
#define BL_MAX_ENTRIES (256u * 1024u * 1024u)
#define BL_KEY_MAX 40

enum bl_kind { BL_SHA256 = 0, BL_SHA1_80 = 1 };
static const char *const bl_kind_name[] = { "sha256", "sha1_80" };
static const size_t bl_kind_width[] = { 32, 10 };

struct bl_list {
	char key[BL_KEY_MAX];      /* "rsa-2048", "ec-prime256v1" */
	enum bl_kind kind;
	int rsa_bits;              /* bits for "rsa-<bits>", 0 for EC lists */
	const char *curve;         /* into key, after "ec-"; "" for RSA */
	bool sample;               /* shipped sample: proves a key weak, never clean */
	const unsigned char *recs; /* into the mapping after the header, or owned (sample) */
	size_t n;
	uint32_t *idx;             /* idx[p]: first record whose 16-bit prefix is >= p */
	void *map;                 /* NULL for a sample list (recs owned) */
	size_t map_len;
};

/* One loaded generation of lists: never changed once published. */
struct bl_set {
	struct bl_list lists[BL_MAX_LISTS];
	size_t n;
	struct bl_set *retired_next;
};

/* The handle: the current set, swapped atomically when the directory changes. Superseded
 * sets are kept (readers may still be in them) until dd_keys_blocklists_free. */
struct dd_blocklists {
	char *dir;                    /* NULL: shipped samples only */
	_Atomic(struct bl_set *) cur;
	pthread_mutex_t mu;           /* serialises reloads */
	struct timespec stamp;        /* the directory's mtime when cur was loaded */
	bool stamped;
	struct bl_set *retired;
};

/* hex_tab[c] = value + 1 of hex digit c, 0 for anything else. */
static const uint8_t hex_tab[256] = {
	['0'] = 1, ['1'] = 2, ['2'] = 3, ['3'] = 4, ['4'] = 5, ['5'] = 6, ['6'] = 7, ['7'] = 8,
	['8'] = 9, ['9'] = 10, ['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16,
	['A'] = 11, ['B'] = 12, ['C'] = 13, ['D'] = 14, ['E'] = 15, ['F'] = 16,
};

static int hexval(int c)
{
	return (int)hex_tab[c & 0xFF] - 1;
}

/* Decodes exactly 2*n hex characters; returns false on any non-hex character. */
static bool hex_decode(const char *s, size_t slen, unsigned char *out, size_t n)
{
	if (slen != 2 * n)
		return false;
	for (size_t i = 0; i < n; i++) {
		int hi = hexval((unsigned char)s[2 * i]), lo = hexval((unsigned char)s[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return false;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return true;
}

/* Normalises a key name: "rsa-<bits>" (256..16384) or "ec-<curve>" with the dwk curve
 * names mapped to OpenSSL's (secp256r1 -> prime256v1). */
static int normalise_key(const char *key, char out[BL_KEY_MAX], bool *is_rsa)
{
	if (!key)
		return DD_EINVAL;
	size_t len = strnlen(key, BL_KEY_MAX);
	if (len == 0 || len >= BL_KEY_MAX)
		return DD_EINVAL;
	if (strncmp(key, "rsa-", 4) == 0) {
		int64_t bits;
		if (dd_parse_int64(key + 4, 256, 16384, &bits) != 0)
			return DD_EINVAL;
		snprintf(out, BL_KEY_MAX, "rsa-%d", (int)bits);
		*is_rsa = true;
		return 0;
	}
	if (strncmp(key, "ec-", 3) == 0) {
		const char *curve = key + 3;
		if (*curve == '\0')
			return DD_EINVAL;
		for (const char *c = curve; *c; c++)
			if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9')))
				return DD_EINVAL;
		if (strcmp(curve, "secp256r1") == 0)
			curve = "prime256v1";
		snprintf(out, BL_KEY_MAX, "ec-%s", curve);
		*is_rsa = false;
		return 0;
	}
	return DD_EINVAL;
}

static int cmp_rec32(const void *a, const void *b) { return memcmp(a, b, 32); }
static int cmp_rec10(const void *a, const void *b) { return memcmp(a, b, 10); }

static int mkdir_p(const char *dir)
{
	char path[4096];
	size_t len = strnlen(dir, sizeof path);
	if (len == 0 || len >= sizeof path)
		return DD_EINVAL;
	memcpy(path, dir, len + 1);
	for (size_t i = 1; i <= len; i++) {
		if (path[i] == '/' || path[i] == '\0') {
			char c = path[i];
			path[i] = '\0';
			if (mkdir(path, 0755) != 0 && errno != EEXIST)
				return DD_EIO;
			path[i] = c;
		}
	}
	return 0;
}

/* Reads a list in its public text form (one hex hash of width bytes per line; blank
 * lines and '#' comments skipped) into an owned array of sorted, de-duplicated records.
 * name is used in messages. Returns 0, or DD_EINVAL (a bad line, named in err),
 * DD_ELIMIT, DD_ENOMEM, DD_EIO. */
static int parse_list(FILE *in, const char *name, enum bl_kind kind, unsigned char **out, size_t *out_n,
		      char *err, size_t errlen)
{
	size_t width = bl_kind_width[kind];
	int rc = DD_EINVAL;
	unsigned char *recs = NULL;
	size_t n = 0, cap = 0, lineno = 0;
	char line[256];
	while (fgets(line, sizeof line, in)) {
		lineno++;
		size_t l = strlen(line);
		if (l == sizeof line - 1 && line[l - 1] != '\n' && !feof(in)) {
			snprintf(err, errlen, "blocklist import: %s line %zu is too long", name, lineno);
			goto out;
		}
		while (l > 0 && (line[l - 1] == '\n' || line[l - 1] == '\r' || line[l - 1] == ' ' || line[l - 1] == '\t'))
			line[--l] = '\0';
		const char *s = line;
		while (*s == ' ' || *s == '\t') {
			s++;
			l--;
		}
		if (l == 0 || s[0] == '#')
			continue;
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 4096;
			if (ncap > BL_MAX_ENTRIES) {
				snprintf(err, errlen, "blocklist import: more than %u entries", BL_MAX_ENTRIES);
				rc = DD_ELIMIT;
				goto out;
			}
			unsigned char *nr = realloc(recs, ncap * width);
			if (!nr) {
				rc = DD_ENOMEM;
				snprintf(err, errlen, "blocklist import: out of memory");
				goto out;
			}
			recs = nr;
			cap = ncap;
		}
		if (!hex_decode(s, l, recs + n * width, width)) {
			snprintf(err, errlen, "blocklist import: %s line %zu is not %zu hex characters",
				 name, lineno, 2 * width);
			goto out;
		}
		n++;
	}
	if (ferror(in)) {
		snprintf(err, errlen, "blocklist import: read error on %s", name);
		rc = DD_EIO;
		goto out;
	}
	if (n > 1)
		qsort(recs, n, width, kind == BL_SHA256 ? cmp_rec32 : cmp_rec10);
	size_t u = 0;
	for (size_t i = 0; i < n; i++) {
		if (u > 0 && memcmp(recs + (u - 1) * width, recs + i * width, width) == 0)
			continue;
		if (u != i)
			memcpy(recs + u * width, recs + i * width, width);
		u++;
	}

	*out = recs;
	*out_n = u;
	recs = NULL;
	rc = 0;
out:
	free(recs);
	return rc;
}

int dd_keys_blocklist_import(const char *dir, const char *format, const char *key,
			const char *input_path, size_t *count, char *err, size_t errlen)
{
	char nkey[BL_KEY_MAX];
	bool is_rsa = false;
	enum bl_kind kind;
	if (!dir || !format || !input_path || !count) {
		snprintf(err, errlen, "blocklist import: missing argument");
		return DD_EINVAL;
	}
	if (normalise_key(key, nkey, &is_rsa) != 0) {
		snprintf(err, errlen, "blocklist import: key must be rsa-<bits> or ec-<curve>, not \"%.40s\"",
			 key ? key : "");
		return DD_EINVAL;
	}
	if (strcmp(format, "dwk") == 0) {
		kind = BL_SHA256;
	} else if (strcmp(format, "openssl") == 0) {
		if (!is_rsa) {
			snprintf(err, errlen, "blocklist import: the openssl format only covers RSA keys");
			return DD_EINVAL;
		}
		kind = BL_SHA1_80;
	} else {
		snprintf(err, errlen, "blocklist import: format must be \"dwk\" or \"openssl\", not \"%.20s\"", format);
		return DD_EINVAL;
	}
	size_t width = bl_kind_width[kind];

	FILE *in = fopen(input_path, "r");
	if (!in) {
		snprintf(err, errlen, "blocklist import: cannot open %s: %s", input_path, strerror(errno));
		return DD_EIO;
	}
	int rc = DD_EINVAL;
	unsigned char *recs = NULL;
	size_t u = 0;
	char tmp[4200] = "";
	int fd = -1;
	rc = parse_list(in, input_path, kind, &recs, &u, err, errlen);
	if (rc)
		goto out;

	if (mkdir_p(dir) != 0) {
		snprintf(err, errlen, "blocklist import: cannot create directory %s", dir);
		rc = DD_EIO;
		goto out;
	}
	char final[4200];
	int fl = snprintf(final, sizeof final, "%s/%s.%s.bin", dir, nkey, bl_kind_name[kind]);
	int tl = snprintf(tmp, sizeof tmp, "%s/.%s.%s.XXXXXX", dir, nkey, bl_kind_name[kind]);
	if (fl < 0 || (size_t)fl >= sizeof final || tl < 0 || (size_t)tl >= sizeof tmp) {
		tmp[0] = '\0';
		snprintf(err, errlen, "blocklist import: directory path too long");
		goto out;
	}
	fd = mkstemp(tmp);
	if (fd < 0) {
		tmp[0] = '\0';
		snprintf(err, errlen, "blocklist import: cannot create a file in %s: %s", dir, strerror(errno));
		rc = DD_EIO;
		goto out;
	}
	unsigned char hdr[BL_HDR] = { 0 };
	memcpy(hdr, BL_MAGIC, 8);
	hdr[8] = (unsigned char)width;
	FILE *outf = fdopen(fd, "wb");
	if (!outf) {
		snprintf(err, errlen, "blocklist import: %s", strerror(errno));
		rc = DD_EIO;
		goto out;
	}
	fd = -1;
	bool wok = fwrite(hdr, 1, BL_HDR, outf) == BL_HDR && (u == 0 || fwrite(recs, width, u, outf) == u);
	wok = fflush(outf) == 0 && wok;
	wok = fsync(fileno(outf)) == 0 && wok;
	wok = fchmod(fileno(outf), 0644) == 0 && wok;
	wok = fclose(outf) == 0 && wok;
	if (!wok || rename(tmp, final) != 0) {
		snprintf(err, errlen, "blocklist import: cannot write %s: %s", final, strerror(errno));
		rc = DD_EIO;
		goto out;
	}
	tmp[0] = '\0';
	*count = u;
	rc = 0;
	dd_log_info("blocklist %s (%s): %zu entries imported from %s", nkey, bl_kind_name[kind], u, input_path);
out:
	if (fd >= 0)
		close(fd);
	if (tmp[0])
		unlink(tmp);
	free(recs);
	fclose(in);
	return rc;
}

static void set_free(struct bl_set *set)
{
	if (!set)
		return;
	for (size_t i = 0; i < set->n; i++) {
		if (set->lists[i].map)
			munmap(set->lists[i].map, set->lists[i].map_len);
		else
			free((void *)set->lists[i].recs);
		free(set->lists[i].idx);
	}
	free(set);
}

void dd_keys_blocklists_free(struct dd_blocklists *bl)
{
	if (!bl)
		return;
	set_free(atomic_load(&bl->cur));
	while (bl->retired) {
		struct bl_set *next = bl->retired->retired_next;
		set_free(bl->retired);
		bl->retired = next;
	}
	pthread_mutex_destroy(&bl->mu);
	free(bl->dir);
	free(bl);
}

/* Splits "<key>.<kind>.bin" into key and kind; false for other names. */
static bool parse_list_name(const char *name, char key[BL_KEY_MAX], enum bl_kind *kind)
{
	size_t len = strnlen(name, 256);
	if (name[0] == '.' || len < 5 || strcmp(name + len - 4, ".bin") != 0)
		return false;
	for (int k = 0; k < 2; k++) {
		size_t kl = strlen(bl_kind_name[k]);
		if (len < 4 + kl + 2)
			continue;
		const char *suffix = name + len - 4 - kl;
		if (strncmp(suffix, bl_kind_name[k], kl) == 0 && suffix[-1] == '.') {
			size_t keylen = (size_t)(suffix - 1 - name);
			if (keylen == 0 || keylen >= BL_KEY_MAX)
				return false;
			memcpy(key, name, keylen);
			key[keylen] = '\0';
			*kind = (enum bl_kind)k;
			return true;
		}
	}
	return false;
}

/* Builds the 64K prefix index of a list (hashes are uniform, so a lookup touches one
 * small bucket). Returns false when out of memory. */
static bool index_list(struct bl_list *l)
{
	size_t width = bl_kind_width[l->kind];
	uint32_t *idx = malloc(65537 * sizeof *idx);
	if (!idx)
		return false;
	size_t r = 0;
	for (uint32_t pre = 0; pre < 65536; pre++) {
		while (r < l->n && ((uint32_t)l->recs[r * width] << 8 | l->recs[r * width + 1]) < pre)
			r++;
		idx[pre] = (uint32_t)r;
	}
	idx[65536] = (uint32_t)l->n;
	l->idx = idx;
	return true;
}

/* Sets key, rsa_bits and curve of l from a normalised key name. */
static void set_key(struct bl_list *l, const char *key, bool is_rsa)
{
	snprintf(l->key, sizeof l->key, "%s", key);
	l->rsa_bits = 0;
	l->curve = "";
	if (is_rsa) {
		int64_t bits = 0;
		if (dd_parse_int64(l->key + 4, 256, 16384, &bits) == 0)
			l->rsa_bits = (int)bits;
	} else {
		l->curve = l->key + 3;
	}
}

/* Adds the shipped sample lists (data/blocklists, compiled in) for every key and kind
 * the directory did not provide. */
static void add_samples(struct bl_set *set)
{
	for (const struct dd__builtin_blocklist *b = dd__builtin_blocklists; b->format; b++) {
		char nkey[BL_KEY_MAX], err[256];
		bool is_rsa = false;
		enum bl_kind kind = strcmp(b->format, "dwk") == 0 ? BL_SHA256 : BL_SHA1_80;
		if (normalise_key(b->key, nkey, &is_rsa) != 0)
			continue;
		bool have = false;
		for (size_t i = 0; i < set->n && !have; i++)
			have = set->lists[i].kind == kind && strcmp(set->lists[i].key, nkey) == 0;
		if (have || set->n == BL_MAX_LISTS)
			continue;
		FILE *in = fmemopen((void *)b->text, strlen(b->text), "r");
		unsigned char *recs = NULL;
		size_t n = 0;
		int rc = in ? parse_list(in, b->name, kind, &recs, &n, err, sizeof err) : DD_ENOMEM;
		if (in)
			fclose(in);
		if (rc) {
			dd_log_warn("blocklists: shipped list %s not loaded: %s", b->name, rc == DD_ENOMEM ? "out of memory" : err);
			continue;
		}
		struct bl_list *l = &set->lists[set->n];
		memset(l, 0, sizeof *l);
		set_key(l, nkey, is_rsa);
		l->kind = kind;
		l->sample = true;
		l->recs = recs;
		l->n = n;
		if (!index_list(l)) {
			free(recs);
			continue;
		}
		set->n++;
	}
}

/* Loads every list of dir (NULL: none) and the shipped samples into a new set. */
static int load_set(const char *dir, struct bl_set **out)
{
	struct bl_set *set = calloc(1, sizeof *set);
	if (!set)
		return DD_ENOMEM;
	DIR *d = dir ? opendir(dir) : NULL;
	if (!d && dir && errno != ENOENT) {
		dd_log_error("blocklists: cannot open %s: %s", dir, strerror(errno));
		free(set);
		return DD_EIO;
	}
	if (!d) {
		add_samples(set);
		*out = set;
		return 0;
	}
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		char key[BL_KEY_MAX];
		enum bl_kind kind;
		if (!parse_list_name(de->d_name, key, &kind))
			continue;
		if (set->n == BL_MAX_LISTS) {
			dd_log_warn("blocklists: more than %d lists in %s, ignoring %s", BL_MAX_LISTS, dir, de->d_name);
			continue;
		}
		char path[4200];
		int pl = snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
		if (pl < 0 || (size_t)pl >= sizeof path)
			continue;
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		struct stat st;
		if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size < BL_HDR) {
			dd_log_warn("blocklists: ignoring unreadable or short file %s", path);
			if (fd >= 0)
				close(fd);
			continue;
		}
		size_t sz = (size_t)st.st_size;
		void *map = mmap(NULL, sz, PROT_READ, MAP_SHARED, fd, 0);
		close(fd);
		if (map == MAP_FAILED) {
			dd_log_warn("blocklists: cannot map %s: %s", path, strerror(errno));
			continue;
		}
		const unsigned char *p = map;
		size_t width = bl_kind_width[kind];
		if (memcmp(p, BL_MAGIC, 8) != 0 || p[8] != width || (sz - BL_HDR) % width != 0) {
			dd_log_warn("blocklists: %s is not a blocklist file of this version", path);
			munmap(map, sz);
			continue;
		}
		bool is_rsa = false;
		char nkey[BL_KEY_MAX];
		size_t nrec = (sz - BL_HDR) / width;
		if (normalise_key(key, nkey, &is_rsa) != 0 || strcmp(nkey, key) != 0 || nrec > BL_MAX_ENTRIES) {
			dd_log_warn("blocklists: ignoring %s (bad name or too large)", path);
			munmap(map, sz);
			continue;
		}
		struct bl_list *l = &set->lists[set->n];
		memset(l, 0, sizeof *l);
		set_key(l, key, is_rsa);
		l->kind = kind;
		l->map = map;
		l->map_len = sz;
		l->recs = p + BL_HDR;
		l->n = nrec;
		if (!index_list(l)) {
			dd_log_warn("blocklists: ignoring %s (out of memory)", path);
			munmap(map, sz);
			continue;
		}
		set->n++;
		dd_log_debug("blocklists: %s (%s) %zu entries", key, bl_kind_name[kind], l->n);
	}
	closedir(d);
	add_samples(set);
	*out = set;
	return 0;
}

/* The directory's modification time (an import renames a file into it), or false. */
static bool dir_stamp(const char *dir, struct timespec *ts)
{
	struct stat st;
	if (!dir || stat(dir, &st) != 0)
		return false;
	*ts = st.st_mtim;
	return true;
}

int dd_keys_blocklists_open(const char *dir, struct dd_blocklists **out)
{
	struct dd_blocklists *bl = calloc(1, sizeof *bl);
	if (!bl)
		return DD_ENOMEM;
	if (dir && !(bl->dir = strdup(dir))) {
		free(bl);
		return DD_ENOMEM;
	}
	pthread_mutex_init(&bl->mu, NULL);
	bl->stamped = dir_stamp(dir, &bl->stamp);
	struct bl_set *set = NULL;
	int rc = load_set(dir, &set);
	if (rc) {
		pthread_mutex_destroy(&bl->mu);
		free(bl->dir);
		free(bl);
		return rc;
	}
	atomic_init(&bl->cur, set);
	*out = bl;
	return 0;
}

int dd_keys_blocklists_refresh(struct dd_blocklists *bl)
{
	if (!bl || !bl->dir)
		return 0;
	struct timespec ts;
	bool stamped = dir_stamp(bl->dir, &ts);
	pthread_mutex_lock(&bl->mu);
	if (stamped == bl->stamped &&
	    (!stamped || (ts.tv_sec == bl->stamp.tv_sec && ts.tv_nsec == bl->stamp.tv_nsec))) {
		pthread_mutex_unlock(&bl->mu);
		return 0;
	}
	struct bl_set *set = NULL;
	int rc = load_set(bl->dir, &set);
	if (rc) {
		pthread_mutex_unlock(&bl->mu);
		return rc;
	}
	struct bl_set *old = atomic_exchange(&bl->cur, set);
	old->retired_next = bl->retired;
	bl->retired = old;
	bl->stamp = ts;
	bl->stamped = stamped;
	size_t entries = 0;
	for (size_t i = 0; i < set->n; i++)
		entries += set->lists[i].sample ? 0 : set->lists[i].n;
	pthread_mutex_unlock(&bl->mu);
	dd_log_info("blocklists: %s changed; reloaded %zu lists (%zu imported entries)", bl->dir, set->n, entries);
	return 1;
}

static bool bl_search(const struct bl_list *l, const unsigned char *rec)
{
	size_t width = bl_kind_width[l->kind];
	uint32_t pre = (uint32_t)rec[0] << 8 | rec[1];
	size_t lo = l->idx[pre], hi = l->idx[pre + 1];
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = memcmp(l->recs + mid * width, rec, width);
		if (c == 0)
			return true;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

enum dd_keyq dd_keys_blocklists_check_key(const struct dd_blocklists *bl, const char *key_type, int key_bits,
				     const char *curve, const char *key_sha256, const char *key_sha1_80)
{
	if (!bl || !key_type)
		return DD_KEYQ_NOT_CHECKED;
	bool rsa = strcmp(key_type, "RSA") == 0 && key_bits > 0;
	bool ec = strcmp(key_type, "EC") == 0 && curve && curve[0];
	if (!rsa && !ec)
		return DD_KEYQ_NOT_CHECKED;

	unsigned char h256[32], h80[10];
	bool have256 = key_sha256 && hex_decode(key_sha256, strnlen(key_sha256, 65), h256, 32);
	bool have80 = key_sha1_80 && hex_decode(key_sha1_80, strnlen(key_sha1_80, 21), h80, 10);
	bool checked = false;
	const struct bl_set *set = atomic_load(&((struct dd_blocklists *)bl)->cur);
	for (size_t i = 0; i < set->n; i++) {
		const struct bl_list *l = &set->lists[i];
		if (rsa ? l->rsa_bits != key_bits : (l->rsa_bits != 0 || strcmp(l->curve, curve) != 0))
			continue;
		/* a sample list proves a key weak; only a complete list can clear it */
		if (l->kind == BL_SHA256 && have256) {
			checked = checked || !l->sample;
			if (bl_search(l, h256))
				return DD_KEYQ_VULNERABLE;
		} else if (l->kind == BL_SHA1_80 && have80) {
			checked = checked || !l->sample;
			if (bl_search(l, h80))
				return DD_KEYQ_VULNERABLE;
		}
	}
	return checked ? DD_KEYQ_CLEAN : DD_KEYQ_NOT_CHECKED;
}

enum dd_keyq dd_keys_blocklists_check(const struct dd_blocklists *bl, const struct dd_cert_facts *f)
{
	if (!f)
		return DD_KEYQ_NOT_CHECKED;
	return dd_keys_blocklists_check_key(bl, f->key_type, f->key_bits, f->curve, f->key_sha256, f->key_sha1_80);
}

size_t dd_keys_blocklists_count(const struct dd_blocklists *bl, const char *key)
{
	size_t total = 0;
	if (!bl)
		return 0;
	const struct bl_set *set = atomic_load(&((struct dd_blocklists *)bl)->cur);
	for (size_t i = 0; i < set->n; i++)
		if (!set->lists[i].sample && (!key || strcmp(set->lists[i].key, key) == 0))
			total += set->lists[i].n;
	return total;
}

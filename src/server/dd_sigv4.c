/* SPDX-License-Identifier: Apache-2.0 */
/*
 * SigV4 as AWS verifies it for non-S3 services: the canonical URI is the path as received,
 * dot segments removed and runs of '/' collapsed, then encoded once more (so an
 * already-encoded %3A becomes %253A); the query is decoded then re-encoded per RFC 3986
 * and sorted (a presigned request's X-Amz-Signature left out); header values are trimmed
 * with inner runs of spaces collapsed, a repeated header's values joined with ','; the
 * payload hash is the SHA-256 of the body as received (a sent x-amz-content-sha256 must
 * be that hash: UNSIGNED-PAYLOAD is S3's alone). Nothing is accepted twice: a parameter of
 * the Authorization header, a presigned parameter, X-Amz-Date. Signatures are compared in
 * constant time. Cost: SHA-256 runs on a digest fetched from OpenSSL once (a fetch per
 * call is most of a small digest's cost in OpenSSL 3), and the derived signing key of a
 * secret, date, region and service is kept per thread (AWS's own advice) beside one
 * reused digest context, so a request costs one digest and one HMAC (and a digest of its
 * body when it has one).
 */
#include "server/dd_sigv4.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

static int copy_field(const char *start, size_t len, char *dst, size_t dstlen)
{
	if (len == 0 || len >= dstlen)
		return DD_EINVAL;
	memcpy(dst, start, len);
	dst[len] = '\0';
	return 0;
}

static bool all_lower(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < 'a' || s[i] > 'z')
			return false;
	return n > 0;
}

static bool all_digit(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return n > 0;
}

bool dd_sigv4_region_valid(const char *region)
{
	/* ^[a-z]{2,4}(-[a-z]{2,8})?-[a-z]+-[0-9]+$: covers the regionRegex of every partition
	 * in botocore's endpoints.json (us-east-1, us-gov-west-1, us-isob-east-1,
	 * eusc-de-east-1, ...) with lowercase letters only, so no ':' or '/' ever reaches an ARN */
	size_t n = strlen(region);
	if (n > 50)
		return false;
	const char *seg[4];
	size_t len[4];
	int k = 0;
	const char *s = region;
	while (k < 4) {
		const char *d = strchr(s, '-');
		seg[k] = s;
		len[k] = d ? (size_t)(d - s) : strlen(s);
		k++;
		if (!d)
			break;
		s = d + 1;
		if (k == 4)
			return false; /* a fifth segment */
	}
	if (k < 3 || !all_digit(seg[k - 1], len[k - 1]))
		return false;
	if (len[0] < 2 || len[0] > 4 || !all_lower(seg[0], len[0]) || !all_lower(seg[k - 2], len[k - 2]))
		return false;
	return k == 3 || (len[1] >= 2 && len[1] <= 8 && all_lower(seg[1], len[1]));
}

/* AKID/date/region/service/aws4_request */
static int parse_credential(const char *v, size_t vlen, struct dd_sigv4_auth *out)
{
	char cred[512];
	if (copy_field(v, vlen, cred, sizeof cred))
		return DD_EINVAL;
	char *parts[5];
	int n = 0;
	char *s = cred;
	while (n < 5) {
		parts[n++] = s;
		char *slash = strchr(s, '/');
		if (!slash)
			break;
		*slash = '\0';
		s = slash + 1;
	}
	if (n != 5 || strchr(parts[4], '/') || strcmp(parts[4], "aws4_request") != 0)
		return DD_EINVAL;
	if (copy_field(parts[0], strlen(parts[0]), out->access_key, sizeof out->access_key) ||
	    strlen(parts[1]) != 8 || !all_digit(parts[1], 8) ||
	    copy_field(parts[1], 8, out->date, sizeof out->date) ||
	    copy_field(parts[2], strlen(parts[2]), out->region, sizeof out->region) ||
	    copy_field(parts[3], strlen(parts[3]), out->service, sizeof out->service))
		return DD_EINVAL;
	return 0;
}

/* Lowercase token names, ';'-separated, strictly ascending (so sorted and unique). */
static bool signed_headers_ok(const char *s)
{
	const char *prev = NULL;
	size_t prevlen = 0;
	while (*s) {
		const char *semi = strchr(s, ';');
		size_t len = semi ? (size_t)(semi - s) : strlen(s);
		if (len == 0)
			return false;
		for (size_t i = 0; i < len; i++) {
			unsigned char c = (unsigned char)s[i];
			if (!(islower(c) || isdigit(c) || strchr("!#$%&'*+-.^_`|~", c)) || c == 0)
				return false;
		}
		if (prev) {
			size_t m = prevlen < len ? prevlen : len;
			int cmp = memcmp(prev, s, m);
			if (cmp > 0 || (cmp == 0 && prevlen >= len))
				return false;
		}
		prev = s;
		prevlen = len;
		if (!semi)
			break;
		s = semi + 1;
		if (!*s)
			return false;
	}
	return prev != NULL;
}

static int region_err(const struct dd_sigv4_auth *a, char *err, size_t errlen)
{
	snprintf(err, errlen, "Credential should be scoped to a valid region, not '%.63s'.", a->region);
	return DD_EINVAL;
}

int dd_sigv4_parse(const char *authorization, struct dd_sigv4_auth *out, char *err, size_t errlen)
{
	static const char algo[] = "AWS4-HMAC-SHA256";
	memset(out, 0, sizeof *out);
	if (strncmp(authorization, algo, sizeof algo - 1) != 0 || authorization[sizeof algo - 1] != ' ') {
		snprintf(err, errlen, "Authorization header requires the AWS4-HMAC-SHA256 algorithm");
		return DD_EINVAL;
	}
	const char *p = authorization + sizeof algo;
	bool have_cred = false, have_sh = false, have_sig = false;
	const char *twice = NULL;
	while (*p) {
		while (*p == ' ' || *p == ',')
			p++;
		const char *eq = strchr(p, '=');
		if (!eq)
			break;
		const char *end = strchr(eq, ',');
		if (!end)
			end = eq + strlen(eq);
		size_t klen = (size_t)(eq - p);
		const char *v = eq + 1;
		size_t vlen = (size_t)(end - v);
		while (vlen && v[vlen - 1] == ' ')
			vlen--;
		if (klen == 10 && strncmp(p, "Credential", 10) == 0) {
			if (have_cred) {
				twice = "Credential";
				break;
			}
			if (parse_credential(v, vlen, out))
				goto bad;
			have_cred = true;
		} else if (klen == 13 && strncmp(p, "SignedHeaders", 13) == 0) {
			if (have_sh) {
				twice = "SignedHeaders";
				break;
			}
			if (copy_field(v, vlen, out->signed_headers, sizeof out->signed_headers))
				goto bad;
			have_sh = true;
		} else if (klen == 9 && strncmp(p, "Signature", 9) == 0) {
			if (have_sig) {
				twice = "Signature";
				break;
			}
			if (vlen != 64 || copy_field(v, vlen, out->signature, sizeof out->signature))
				goto bad;
			have_sig = true;
		}
		p = end;
	}
	if (twice) {
		snprintf(err, errlen, "Authorization header has the '%s' parameter more than once.", twice);
		return DD_EINVAL;
	}
	if (!have_cred || !have_sh || !have_sig) {
		snprintf(err, errlen, "Authorization header requires '%s' parameter.",
			 !have_cred ? "Credential" : !have_sh ? "SignedHeaders" : "Signature");
		return DD_EINVAL;
	}
	if (!signed_headers_ok(out->signed_headers)) {
		snprintf(err, errlen, "SignedHeaders must be lowercase header names separated by ';', sorted, each once.");
		return DD_EINVAL;
	}
	if (!dd_sigv4_region_valid(out->region))
		return region_err(out, err, errlen);
	return 0;
bad:
	snprintf(err, errlen, "Authorization header is malformed.");
	return DD_EINVAL;
}

int dd_sigv4_parse_presigned(const struct dd_kv *query, size_t nquery, struct dd_sigv4_auth *out,
			     char *err, size_t errlen)
{
	static const char *const names[] = { "X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date",
					     "X-Amz-Expires", "X-Amz-SignedHeaders", "X-Amz-Signature" };
	const char *val[6] = { NULL };
	int count[6] = { 0 };
	for (size_t i = 0; i < nquery; i++)
		for (int k = 0; k < 6; k++)
			if (strcmp(query[i].key, names[k]) == 0) {
				count[k]++;
				val[k] = query[i].value;
			}
	if (!count[0] && !count[1] && !count[5])
		return DD_ENOTFOUND;
	memset(out, 0, sizeof *out);
	for (int k = 0; k < 6; k++) {
		if (count[k] > 1) {
			snprintf(err, errlen, "The query parameter '%s' is given more than once.", names[k]);
			return DD_EINVAL;
		}
		if (!count[k]) {
			snprintf(err, errlen, "AWS query-string parameters must include 'X-Amz-Algorithm', 'X-Amz-Credential', "
				 "'X-Amz-Signature', 'X-Amz-Date', 'X-Amz-SignedHeaders', and 'X-Amz-Expires'. "
				 "Re-examine the query-string parameters.");
			return DD_EINVAL;
		}
	}
	if (strcmp(val[0], "AWS4-HMAC-SHA256") != 0) {
		snprintf(err, errlen, "X-Amz-Algorithm only supports \"AWS4-HMAC-SHA256\"");
		return DD_EINVAL;
	}
	int64_t exp;
	if (parse_credential(val[1], strlen(val[1]), out) ||
	    copy_field(val[2], strlen(val[2]), out->amz_date, sizeof out->amz_date) || strlen(val[2]) != 16 ||
	    dd_parse_int64(val[3], 1, DD_SIGV4_MAX_EXPIRES_S, &exp) ||
	    copy_field(val[4], strlen(val[4]), out->signed_headers, sizeof out->signed_headers) ||
	    strlen(val[5]) != 64 || copy_field(val[5], 64, out->signature, sizeof out->signature)) {
		snprintf(err, errlen, "The presigned query-string parameters are malformed (X-Amz-Expires must be "
			 "from 1 to %d seconds).", DD_SIGV4_MAX_EXPIRES_S);
		return DD_EINVAL;
	}
	if (!signed_headers_ok(out->signed_headers)) {
		snprintf(err, errlen, "X-Amz-SignedHeaders must be lowercase header names separated by ';', sorted, each once.");
		return DD_EINVAL;
	}
	if (!dd_sigv4_region_valid(out->region))
		return region_err(out, err, errlen);
	out->expires = exp;
	out->presigned = true;
	return 0;
}

int dd_sigv4_normalize_path(const char *path, char *out, size_t outlen)
{
	/* botocore remove_dot_segments: split on '/', drop empty and '.', '..' pops */
	size_t n = strlen(path);
	if (n == 0) {
		if (outlen < 2)
			return DD_ELIMIT;
		memcpy(out, "/", 2);
		return 0;
	}
	if (outlen < n + 2)
		return DD_ELIMIT;
	size_t len = 0;
	if (path[0] == '/')
		out[len++] = '/';
	size_t root = len;
	const char *s = path;
	while (*s) {
		while (*s == '/')
			s++;
		if (!*s)
			break;
		const char *e = strchr(s, '/');
		size_t sl = e ? (size_t)(e - s) : strlen(s);
		if (sl == 1 && s[0] == '.') {
			/* drop */
		} else if (sl == 2 && s[0] == '.' && s[1] == '.') {
			if (len > root) {
				/* pop the last segment and its separator */
				while (len > root && out[len - 1] != '/')
					len--;
				if (len > root)
					len--;
			}
		} else {
			if (len > root)
				out[len++] = '/';
			memcpy(out + len, s, sl);
			len += sl;
		}
		s += sl;
	}
	if (path[n - 1] == '/' && len > root)
		out[len++] = '/';
	out[len] = '\0';
	return 0;
}

struct qitem {
	char *key;   /* encoded */
	char *value; /* encoded */
};

/* By encoded name, then encoded value (so "p1" sorts before "p10", as the SDKs sort). */
static int cmp_qitem(const void *a, const void *b)
{
	const struct qitem *x = a, *y = b;
	int c = strcmp(x->key, y->key);
	return c ? c : strcmp(x->value, y->value);
}

static char *encode(const char *s)
{
	struct dd_buf b;
	dd_buf_init(&b, 1 << 20);
	dd_buf_uri_encode(&b, s, strlen(s), false);
	return dd_buf_take(&b);
}

/* The canonical query: every parameter encoded per RFC 3986, sorted; a presigned
 * request's X-Amz-Signature is not part of it. */
static int canonical_query(const struct dd_sigv4_request *req, bool presigned, struct dd_buf *out)
{
	if (req->nquery == 0)
		return 0;
	if (req->nquery > 1000)
		return DD_ELIMIT;
	struct qitem *items = calloc(req->nquery, sizeof *items);
	if (!items)
		return DD_ENOMEM;
	int rc = 0;
	size_t n = 0;
	for (size_t i = 0; i < req->nquery; i++) {
		if (presigned && strcmp(req->query[i].key, "X-Amz-Signature") == 0)
			continue;
		items[n].key = encode(req->query[i].key);
		items[n].value = encode(req->query[i].value);
		if (!items[n].key || !items[n].value)
			rc = DD_ENOMEM;
		n++;
	}
	if (!rc) {
		qsort(items, n, sizeof *items, cmp_qitem);
		for (size_t i = 0; i < n; i++) {
			if (i)
				dd_buf_putc(out, '&');
			dd_buf_puts(out, items[i].key);
			dd_buf_putc(out, '=');
			dd_buf_puts(out, items[i].value);
		}
	}
	for (size_t i = 0; i < n; i++) {
		free(items[i].key);
		free(items[i].value);
	}
	free(items);
	return rc;
}

/* Trims the value and collapses inner runs of spaces. A repeated header arrives joined
 * with ',' (each value already trimmed by the HTTP layer), which is its canonical form. */
static void canonical_header_value(struct dd_buf *out, const char *v)
{
	while (*v == ' ' || *v == '\t')
		v++;
	size_t len = strlen(v);
	while (len && (v[len - 1] == ' ' || v[len - 1] == '\t'))
		len--;
	/* copied a run at a time: a run ends where a run of blanks becomes one space */
	size_t run = 0;
	for (size_t i = 0; i < len;) {
		if (v[i] != ' ' && v[i] != '\t') {
			i++;
			continue;
		}
		dd_buf_append(out, v + run, i - run);
		dd_buf_putc(out, ' ');
		while (v[i] == ' ' || v[i] == '\t')
			i++;
		run = i;
	}
	dd_buf_append(out, v + run, len - run);
}

/* SHA-256, fetched once for the process (freed at exit, before OpenSSL's own cleanup,
 * which was registered earlier and so runs later). */
static EVP_MD *sha256_md;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;

static void sha256_free(void)
{
	EVP_MD_free(sha256_md);
	sha256_md = NULL;
}

static void sha256_fetch(void)
{
	sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
	if (sha256_md && atexit(sha256_free) != 0) {
		EVP_MD_free(sha256_md);
		sha256_md = NULL;
	}
}

static const EVP_MD *sha256(void)
{
	pthread_once(&sha256_once, sha256_fetch);
	return sha256_md ? sha256_md : EVP_sha256();
}

/* One digest context per thread, reused (a new one costs two allocations and the
 * provider's set-up); freed when the thread ends. Without a thread key (the process ran
 * out of them) each digest makes and frees its own. */
static pthread_key_t digest_key;
static bool digest_key_ok;
static pthread_once_t digest_key_once = PTHREAD_ONCE_INIT;

static void digest_ctx_free(void *ctx) { EVP_MD_CTX_free(ctx); }

static void digest_key_make(void) { digest_key_ok = pthread_key_create(&digest_key, digest_ctx_free) == 0; }

/* The thread's context; *owned when the caller must free it. */
static EVP_MD_CTX *digest_ctx(bool *owned)
{
	pthread_once(&digest_key_once, digest_key_make);
	*owned = !digest_key_ok;
	if (!digest_key_ok)
		return EVP_MD_CTX_new();
	EVP_MD_CTX *ctx = pthread_getspecific(digest_key);
	if (!ctx && (ctx = EVP_MD_CTX_new()) != NULL && pthread_setspecific(digest_key, ctx) != 0)
		*owned = true;
	return ctx;
}

/* out = SHA-256(a || b); false when OpenSSL fails (out is then zeroed). */
static bool digest2(const void *a, size_t alen, const void *b, size_t blen, unsigned char out[32])
{
	bool owned;
	EVP_MD_CTX *ctx = digest_ctx(&owned);
	bool ok = ctx && EVP_DigestInit_ex2(ctx, sha256(), NULL) && EVP_DigestUpdate(ctx, a, alen) &&
		  (!blen || EVP_DigestUpdate(ctx, b, blen)) && EVP_DigestFinal_ex(ctx, out, NULL);
	if (owned)
		EVP_MD_CTX_free(ctx);
	if (!ok)
		memset(out, 0, 32);
	return ok;
}

static void sha256_hex(const void *data, size_t len, char out[65])
{
	unsigned char md[32];
	digest2(data, len, NULL, 0, md);
	dd_hex_encode(md, 32, out);
}

/* HMAC-SHA256 (RFC 2104) over the fetched digest. */
static void hmac(const unsigned char *key, size_t keylen, const char *data, size_t len,
		 unsigned char out[32])
{
	unsigned char k[64] = { 0 }, pad[64], inner[32];
	if (keylen > sizeof k)
		digest2(key, keylen, NULL, 0, k);
	else
		memcpy(k, key, keylen);
	for (int i = 0; i < 64; i++)
		pad[i] = k[i] ^ 0x36;
	digest2(pad, sizeof pad, data, len, inner);
	for (int i = 0; i < 64; i++)
		pad[i] = k[i] ^ 0x5c;
	digest2(pad, sizeof pad, inner, sizeof inner, out);
	OPENSSL_cleanse(k, sizeof k);
	OPENSSL_cleanse(pad, sizeof pad);
}

/* The signing keys derived last on this thread: kSigning of (secret, date, region,
 * service). A secret is compared in constant time and wiped when its slot is reused. */
#define SIGNING_SLOTS 4
struct signing_slot {
	bool used;
	unsigned long tick;
	char secret[257];
	char date[9], region[64], service[64];
	unsigned char key[32];
};
static _Thread_local struct signing_slot signing_cache[SIGNING_SLOTS];
static _Thread_local unsigned long signing_tick;

static bool secret_equal(const char *a, const char *b, size_t blen)
{
	return strlen(a) == blen && CRYPTO_memcmp(a, b, blen) == 0;
}

static int signing_key(const char *secret, const struct dd_sigv4_auth *auth, unsigned char out[32])
{
	size_t slen = strlen(secret);
	struct signing_slot *victim = &signing_cache[0];
	for (int i = 0; i < SIGNING_SLOTS; i++) {
		struct signing_slot *c = &signing_cache[i];
		if (c->used && strcmp(c->date, auth->date) == 0 && strcmp(c->region, auth->region) == 0 &&
		    strcmp(c->service, auth->service) == 0 && secret_equal(c->secret, secret, slen)) {
			c->tick = ++signing_tick;
			memcpy(out, c->key, 32);
			return 0;
		}
		if (!c->used || (victim->used && c->tick < victim->tick))
			victim = c;
	}
	unsigned char k[32], k2[32];
	char kseed[300];
	int kl = snprintf(kseed, sizeof kseed, "AWS4%s", secret);
	if (kl < 0 || (size_t)kl >= sizeof kseed)
		return DD_EINVAL;
	hmac((unsigned char *)kseed, (size_t)kl, auth->date, strlen(auth->date), k);
	hmac(k, 32, auth->region, strlen(auth->region), k2);
	hmac(k2, 32, auth->service, strlen(auth->service), k);
	hmac(k, 32, "aws4_request", 12, out);
	OPENSSL_cleanse(kseed, sizeof kseed);
	OPENSSL_cleanse(k, sizeof k);
	OPENSSL_cleanse(k2, sizeof k2);
	if (slen < sizeof victim->secret && strlen(auth->date) < sizeof victim->date &&
	    strlen(auth->region) < sizeof victim->region && strlen(auth->service) < sizeof victim->service) {
		OPENSSL_cleanse(victim, sizeof *victim);
		memcpy(victim->secret, secret, slen + 1);
		snprintf(victim->date, sizeof victim->date, "%s", auth->date);
		snprintf(victim->region, sizeof victim->region, "%s", auth->region);
		snprintf(victim->service, sizeof victim->service, "%s", auth->service);
		memcpy(victim->key, out, 32);
		victim->used = true;
		victim->tick = ++signing_tick;
	}
	return 0;
}

/* SHA-256 of no bytes, the payload hash of every request without a body */
static const char EMPTY_SHA256[65] = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

static bool is_hex64(const char *s)
{
	if (strlen(s) != 64)
		return false;
	for (int i = 0; i < 64; i++)
		if (!isdigit((unsigned char)s[i]) && !(s[i] >= 'a' && s[i] <= 'f'))
			return false;
	return true;
}

static int compute_signature(const struct dd_sigv4_auth *auth, const char *secret,
			     const char *amz_date, const struct dd_sigv4_request *req,
			     char sig_hex[65], char *err, size_t errlen)
{
	struct dd_buf cr;
	dd_buf_init(&cr, 4 << 20);
	dd_buf_puts(&cr, req->method);
	dd_buf_putc(&cr, '\n');
	const char *path = req->raw_path && *req->raw_path ? req->raw_path : "/";
	size_t plen = strlen(path) + 2;
	char *norm = malloc(plen);
	if (!norm || dd_sigv4_normalize_path(path, norm, plen)) {
		free(norm);
		dd_buf_free(&cr);
		snprintf(err, errlen, "request too large to sign");
		return DD_ENOMEM;
	}
	dd_buf_uri_encode(&cr, norm, strlen(norm), true);
	free(norm);
	dd_buf_putc(&cr, '\n');
	int rc = canonical_query(req, auth->presigned, &cr);
	if (rc) {
		dd_buf_free(&cr);
		snprintf(err, errlen, "too many query parameters");
		return rc;
	}
	dd_buf_putc(&cr, '\n');
	/* signed headers, in the order given (dd_sigv4_parse checked they are sorted lowercase) */
	char names[1024];
	dd_str_copy(names, sizeof names, auth->signed_headers);
	for (char *s = names; s && *s;) {
		char *semi = strchr(s, ';');
		if (semi)
			*semi = '\0';
		const char *v = req->header(req->ud, s);
		dd_buf_puts(&cr, s);
		dd_buf_putc(&cr, ':');
		if (v)
			canonical_header_value(&cr, v);
		dd_buf_putc(&cr, '\n');
		s = semi ? semi + 1 : NULL;
	}
	dd_buf_putc(&cr, '\n');
	dd_buf_puts(&cr, auth->signed_headers);
	dd_buf_putc(&cr, '\n');
	char body_hash[65];
	if (req->body_len)
		sha256_hex(req->body, req->body_len, body_hash);
	else
		memcpy(body_hash, EMPTY_SHA256, sizeof body_hash);
	const char *sent = req->header(req->ud, "x-amz-content-sha256");
	if (sent && strcmp(sent, body_hash) != 0) {
		dd_buf_free(&cr);
		snprintf(err, errlen, "The provided 'x-amz-content-sha256' header does not match what was computed.");
		return DD_EDENIED;
	}
	dd_buf_puts(&cr, body_hash);
	if (cr.failed) {
		dd_buf_free(&cr);
		snprintf(err, errlen, "request too large to sign");
		return DD_ENOMEM;
	}
	char cr_hash[65];
	sha256_hex(cr.data, cr.len, cr_hash);
	dd_buf_free(&cr);

	char sts[512];
	int n = snprintf(sts, sizeof sts, "AWS4-HMAC-SHA256\n%s\n%s/%s/%s/aws4_request\n%s", amz_date,
			 auth->date, auth->region, auth->service, cr_hash);
	if (n < 0 || (size_t)n >= sizeof sts)
		return DD_EINVAL;

	unsigned char k[32], k2[32];
	if (signing_key(secret, auth, k2))
		return DD_EINVAL;
	hmac(k2, 32, sts, (size_t)n, k);
	OPENSSL_cleanse(k2, sizeof k2);
	dd_hex_encode(k, 32, sig_hex);
	return 0;
}

static int digits(const char *s, int n)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/* yyyyMMdd'T'HHmmss'Z' to seconds since the epoch, with strptime's ranges (day 1-31 of any
 * month, second 0-61) and timegm's carrying of what overflows. */
static int parse_amz_date(const char *s, int64_t *out)
{
	if (!s || strlen(s) != 16 || s[8] != 'T' || s[15] != 'Z')
		return DD_EINVAL;
	int y = digits(s, 4), mo = digits(s + 4, 2), d = digits(s + 6, 2);
	int h = digits(s + 9, 2), mi = digits(s + 11, 2), sec = digits(s + 13, 2);
	if (y < 0 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 ||
	    sec > 61)
		return DD_EINVAL;
	*out = dd_time_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
	return 0;
}

/* The request time in ISO 8601 basic format: the presigned X-Amz-Date, else the
 * X-Amz-Date header, else the Date header (RFC 7231 IMF-fixdate). */
static int request_time(const struct dd_sigv4_auth *auth, const struct dd_sigv4_request *req,
			char amz[17], int64_t *t, char *err, size_t errlen)
{
	if (auth->presigned) {
		if (parse_amz_date(auth->amz_date, t)) {
			snprintf(err, errlen, "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"");
			return DD_EINVAL;
		}
		memcpy(amz, auth->amz_date, 17);
		return 0;
	}
	const char *xd = req->header(req->ud, "x-amz-date");
	if (xd) {
		if (strchr(xd, ',')) {
			snprintf(err, errlen, "The X-Amz-Date header must be sent once.");
			return DD_EINVAL;
		}
		if (parse_amz_date(xd, t)) {
			snprintf(err, errlen, "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"");
			return DD_EINVAL;
		}
		memcpy(amz, xd, 17);
		return 0;
	}
	const char *d = req->header(req->ud, "date");
	if (!d) {
		snprintf(err, errlen, "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.");
		return DD_EINVAL;
	}
	struct tm tm;
	memset(&tm, 0, sizeof tm);
	const char *end = strptime(d, "%a, %d %b %Y %H:%M:%S GMT", &tm);
	if (!end || *end) {
		snprintf(err, errlen, "The Date header must be one HTTP date such as 'Tue, 02 Jan 2024 03:04:05 GMT'.");
		return DD_EINVAL;
	}
	*t = (int64_t)timegm(&tm);
	strftime(amz, 17, "%Y%m%dT%H%M%SZ", &tm);
	return 0;
}

static void fmt_time(int64_t t, char out[17])
{
	time_t tt = (time_t)t;
	struct tm tm;
	gmtime_r(&tt, &tm);
	strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm);
}

static int check(const struct dd_sigv4_auth *auth, const struct dd_sigv4_request *req, int64_t now,
		 char amz[17], char *err, size_t errlen)
{
	int64_t t;
	int rc = request_time(auth, req, amz, &t, err, errlen);
	if (rc)
		return rc;
	if (strncmp(amz, auth->date, 8) != 0) {
		snprintf(err, errlen, "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '%s' != '%.8s'",
			 auth->date, amz);
		return DD_EDENIED;
	}
	char nowbuf[17]; /* for the messages only */
	if (auth->presigned) {
		if (t > now + DD_SIGV4_MAX_SKEW_S) {
			fmt_time(now, nowbuf);
			snprintf(err, errlen, "Signature not yet current: %s is still later than %s (%s + 15 min.)",
				 amz, nowbuf, nowbuf);
			return DD_EDENIED;
		}
		if (now > t + auth->expires) {
			char expbuf[17];
			fmt_time(now, nowbuf);
			fmt_time(t + auth->expires, expbuf);
			snprintf(err, errlen, "Signature expired: %s is now earlier than %s", expbuf, nowbuf);
			return DD_EDENIED;
		}
	} else if (t < now - DD_SIGV4_MAX_SKEW_S || t > now + DD_SIGV4_MAX_SKEW_S) {
		fmt_time(now, nowbuf);
		snprintf(err, errlen, "Signature expired: %s is now earlier than %s (%s - 15 min.)", amz, nowbuf, nowbuf);
		return DD_EDENIED;
	}
	bool has_host = false;
	char names[1024];
	dd_str_copy(names, sizeof names, auth->signed_headers);
	for (char *s = names; s && *s;) {
		char *semi = strchr(s, ';');
		if (semi)
			*semi = '\0';
		if (strcmp(s, "host") == 0)
			has_host = true;
		if (!req->header(req->ud, s)) {
			snprintf(err, errlen, "The header '%.100s' is listed in SignedHeaders but is not in the request.", s);
			return DD_EDENIED;
		}
		s = semi ? semi + 1 : NULL;
	}
	if (!has_host) {
		snprintf(err, errlen, "'Host' must be a signed header.");
		return DD_EINVAL;
	}
	const char *sent = req->header(req->ud, "x-amz-content-sha256");
	if (sent && !is_hex64(sent)) {
		if (strcmp(sent, "UNSIGNED-PAYLOAD") == 0 || strncmp(sent, "STREAMING-", 10) == 0)
			snprintf(err, errlen, "x-amz-content-sha256 '%.40s' is accepted by Amazon S3 only; sign the payload.", sent);
		else
			snprintf(err, errlen, "x-amz-content-sha256 must be the lowercase hex SHA-256 of the payload.");
		return DD_EDENIED;
	}
	return 0;
}

int dd_sigv4_check(const struct dd_sigv4_auth *auth, const struct dd_sigv4_request *req, int64_t now,
		   char *err, size_t errlen)
{
	char amz[17];
	return check(auth, req, now, amz, err, errlen);
}

int dd_sigv4_verify(const struct dd_sigv4_auth *auth, const char *secret,
		    const struct dd_sigv4_request *req, int64_t now, char *err, size_t errlen)
{
	char amz[17];
	int rc = check(auth, req, now, amz, err, errlen);
	if (rc)
		return rc;
	char sig[65];
	rc = compute_signature(auth, secret, amz, req, sig, err, errlen);
	if (rc)
		return DD_EDENIED;
	if (CRYPTO_memcmp(sig, auth->signature, 64) != 0) {
		snprintf(err, errlen, "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.");
		return DD_EDENIED;
	}
	return 0;
}

int dd_sigv4_sign(const char *access_key, const char *secret, const char *region,
		  const char *service, const char *amz_date, const char *signed_headers,
		  const struct dd_sigv4_request *req, char *out, size_t outlen)
{
	struct dd_sigv4_auth a;
	memset(&a, 0, sizeof a);
	if (strlen(amz_date) != 16 ||
	    snprintf(a.access_key, sizeof a.access_key, "%s", access_key) >= (int)sizeof a.access_key ||
	    snprintf(a.region, sizeof a.region, "%s", region) >= (int)sizeof a.region ||
	    snprintf(a.service, sizeof a.service, "%s", service) >= (int)sizeof a.service ||
	    snprintf(a.signed_headers, sizeof a.signed_headers, "%s", signed_headers) >= (int)sizeof a.signed_headers)
		return DD_EINVAL;
	memcpy(a.date, amz_date, 8);
	a.date[8] = '\0';
	char sig[65], err[256];
	int rc = compute_signature(&a, secret, amz_date, req, sig, err, sizeof err);
	if (rc)
		return rc;
	int n = snprintf(out, outlen, "AWS4-HMAC-SHA256 Credential=%s/%s/%s/%s/aws4_request, SignedHeaders=%s, Signature=%s",
			 access_key, a.date, region, service, signed_headers, sig);
	return n < 0 || (size_t)n >= outlen ? DD_EINVAL : 0;
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * SigV4 as the AWS SDKs compute it for non-S3 services: the canonical URI is the raw path
 * encoded once more (so an already-encoded %3A becomes %253A), the query is decoded then
 * re-encoded per RFC 3986 and sorted, header values are trimmed with inner runs of spaces
 * collapsed, and the payload hash is the SHA-256 of the body as received (a sent
 * x-amz-content-sha256 must agree with it). Signatures are compared in constant time.
 */
#include "server/dd_sigv4.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

static int copy_field(const char *start, size_t len, char *dst, size_t dstlen)
{
	if (len == 0 || len >= dstlen)
		return DD_EINVAL;
	memcpy(dst, start, len);
	dst[len] = '\0';
	return 0;
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
			/* AKID/date/region/service/aws4_request */
			char cred[512];
			if (copy_field(v, vlen, cred, sizeof cred))
				goto bad;
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
				goto bad;
			if (copy_field(parts[0], strlen(parts[0]), out->access_key, sizeof out->access_key) ||
			    copy_field(parts[1], strlen(parts[1]), out->date, sizeof out->date) ||
			    strlen(parts[1]) != 8 ||
			    copy_field(parts[2], strlen(parts[2]), out->region, sizeof out->region) ||
			    copy_field(parts[3], strlen(parts[3]), out->service, sizeof out->service))
				goto bad;
			have_cred = true;
		} else if (klen == 13 && strncmp(p, "SignedHeaders", 13) == 0) {
			if (copy_field(v, vlen, out->signed_headers, sizeof out->signed_headers))
				goto bad;
			have_sh = true;
		} else if (klen == 9 && strncmp(p, "Signature", 9) == 0) {
			if (vlen != 64 || copy_field(v, vlen, out->signature, sizeof out->signature))
				goto bad;
			have_sig = true;
		}
		p = end;
	}
	if (!have_cred || !have_sh || !have_sig) {
		snprintf(err, errlen, "Authorization header requires '%s' parameter.",
			 !have_cred ? "Credential" : !have_sh ? "SignedHeaders" : "Signature");
		return DD_EINVAL;
	}
	return 0;
bad:
	snprintf(err, errlen, "Authorization header is malformed.");
	return DD_EINVAL;
}

static int cmp_kv(const void *a, const void *b)
{
	const char *const *x = a, *const *y = b;
	return strcmp(*x, *y);
}

/* Builds "enc(k)=enc(v)" strings for the canonical query, sorted. */
static int canonical_query(const struct dd_sigv4_request *req, struct dd_buf *out)
{
	if (req->nquery == 0)
		return 0;
	if (req->nquery > 1000)
		return DD_ELIMIT;
	char **items = calloc(req->nquery, sizeof *items);
	if (!items)
		return DD_ENOMEM;
	int rc = 0;
	for (size_t i = 0; i < req->nquery; i++) {
		struct dd_buf b;
		dd_buf_init(&b, 1 << 20);
		dd_buf_uri_encode(&b, req->query[i].key, strlen(req->query[i].key), false);
		dd_buf_putc(&b, '=');
		dd_buf_uri_encode(&b, req->query[i].value, strlen(req->query[i].value), false);
		items[i] = dd_buf_take(&b);
		if (!items[i])
			rc = DD_ENOMEM;
	}
	if (!rc) {
		qsort(items, req->nquery, sizeof *items, cmp_kv);
		for (size_t i = 0; i < req->nquery; i++) {
			if (i)
				dd_buf_putc(out, '&');
			dd_buf_puts(out, items[i]);
		}
	}
	for (size_t i = 0; i < req->nquery; i++)
		free(items[i]);
	free(items);
	return rc;
}

static void canonical_header_value(struct dd_buf *out, const char *v)
{
	while (*v == ' ' || *v == '\t')
		v++;
	size_t len = strlen(v);
	while (len && (v[len - 1] == ' ' || v[len - 1] == '\t'))
		len--;
	bool space = false;
	for (size_t i = 0; i < len; i++) {
		if (v[i] == ' ' || v[i] == '\t') {
			space = true;
			continue;
		}
		if (space)
			dd_buf_putc(out, ' ');
		space = false;
		dd_buf_putc(out, v[i]);
	}
}

static void hmac(const unsigned char *key, size_t keylen, const char *data, size_t len,
		 unsigned char out[32])
{
	unsigned int olen = 32;
	HMAC(EVP_sha256(), key, (int)keylen, (const unsigned char *)data, len, out, &olen);
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
	dd_buf_uri_encode(&cr, path, strlen(path), true);
	dd_buf_putc(&cr, '\n');
	int rc = canonical_query(req, &cr);
	if (rc) {
		dd_buf_free(&cr);
		snprintf(err, errlen, "too many query parameters");
		return rc;
	}
	dd_buf_putc(&cr, '\n');
	/* signed headers, in the order given (they must be sorted lowercase) */
	char names[1024];
	snprintf(names, sizeof names, "%s", auth->signed_headers);
	bool has_host = false;
	for (char *s = names; s && *s;) {
		char *semi = strchr(s, ';');
		if (semi)
			*semi = '\0';
		for (char *c = s; *c; c++)
			*c = (char)tolower((unsigned char)*c);
		if (strcmp(s, "host") == 0)
			has_host = true;
		const char *v = req->header(req->ud, s);
		dd_buf_puts(&cr, s);
		dd_buf_putc(&cr, ':');
		if (v)
			canonical_header_value(&cr, v);
		dd_buf_putc(&cr, '\n');
		s = semi ? semi + 1 : NULL;
	}
	if (!has_host) {
		dd_buf_free(&cr);
		snprintf(err, errlen, "'Host' must be a signed header.");
		return DD_EDENIED;
	}
	dd_buf_putc(&cr, '\n');
	dd_buf_puts(&cr, auth->signed_headers);
	dd_buf_putc(&cr, '\n');
	char body_hash[65];
	dd_sha256_hex(req->body ? (const void *)req->body : "", req->body_len, body_hash);
	const char *sent = req->header(req->ud, "x-amz-content-sha256");
	if (sent && strcmp(sent, "UNSIGNED-PAYLOAD") != 0 && strcmp(sent, body_hash) != 0) {
		dd_buf_free(&cr);
		snprintf(err, errlen, "The provided 'x-amz-content-sha256' header does not match what was computed.");
		return DD_EDENIED;
	}
	dd_buf_puts(&cr, sent && strcmp(sent, "UNSIGNED-PAYLOAD") == 0 ? sent : body_hash);
	if (cr.failed) {
		dd_buf_free(&cr);
		snprintf(err, errlen, "request too large to sign");
		return DD_ENOMEM;
	}
	char cr_hash[65];
	dd_sha256_hex(cr.data, cr.len, cr_hash);
	dd_buf_free(&cr);

	char sts[512];
	int n = snprintf(sts, sizeof sts, "AWS4-HMAC-SHA256\n%s\n%s/%s/%s/aws4_request\n%s", amz_date,
			 auth->date, auth->region, auth->service, cr_hash);
	if (n < 0 || (size_t)n >= sizeof sts)
		return DD_EINVAL;

	unsigned char k[32], k2[32];
	char kseed[300];
	int kl = snprintf(kseed, sizeof kseed, "AWS4%s", secret);
	if (kl < 0 || (size_t)kl >= sizeof kseed)
		return DD_EINVAL;
	hmac((unsigned char *)kseed, (size_t)kl, auth->date, strlen(auth->date), k);
	hmac(k, 32, auth->region, strlen(auth->region), k2);
	hmac(k2, 32, auth->service, strlen(auth->service), k);
	hmac(k, 32, "aws4_request", 12, k2);
	hmac(k2, 32, sts, (size_t)n, k);
	OPENSSL_cleanse(kseed, sizeof kseed);
	dd_hex_encode(k, 32, sig_hex);
	return 0;
}

static int parse_amz_date(const char *s, int64_t *out)
{
	struct tm tm;
	memset(&tm, 0, sizeof tm);
	if (!s || strlen(s) != 16)
		return DD_EINVAL;
	const char *end = strptime(s, "%Y%m%dT%H%M%SZ", &tm);
	if (!end || *end)
		return DD_EINVAL;
	*out = (int64_t)timegm(&tm);
	return 0;
}

int dd_sigv4_verify(const struct dd_sigv4_auth *auth, const char *secret,
		    const struct dd_sigv4_request *req, int64_t now, char *err, size_t errlen)
{
	const char *amz_date = req->header(req->ud, "x-amz-date");
	int64_t t;
	if (!amz_date || parse_amz_date(amz_date, &t)) {
		snprintf(err, errlen, "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.");
		return DD_EDENIED;
	}
	if (strncmp(amz_date, auth->date, 8) != 0) {
		snprintf(err, errlen, "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '%s' != '%.8s'",
			 auth->date, amz_date);
		return DD_EDENIED;
	}
	if (t < now - DD_SIGV4_MAX_SKEW_S || t > now + DD_SIGV4_MAX_SKEW_S) {
		char nowbuf[32];
		time_t nt = (time_t)now;
		struct tm tm;
		gmtime_r(&nt, &tm);
		strftime(nowbuf, sizeof nowbuf, "%Y%m%dT%H%M%SZ", &tm);
		snprintf(err, errlen, "Signature expired: %s is now earlier than %s (%s - 15 min.)",
			 amz_date, nowbuf, nowbuf);
		return DD_EDENIED;
	}
	char sig[65];
	int rc = compute_signature(auth, secret, amz_date, req, sig, err, errlen);
	if (rc)
		return rc == DD_EDENIED ? rc : DD_EDENIED;
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
	if (snprintf(a.access_key, sizeof a.access_key, "%s", access_key) >= (int)sizeof a.access_key ||
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

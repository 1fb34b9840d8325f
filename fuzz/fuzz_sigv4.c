/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for SigV4 canonicalisation: the canonical URI, query (decode,
 * re-encode, sort), header values (trim, collapse) and payload hash built by
 * dd_sigv4_sign and dd_sigv4_verify, and the Authorization parser. The input is split on
 * NUL bytes into: method, raw path, query "k=v&…" (percent-encoded), headers
 * "Name: value" one per line, SignedHeaders, body, and a free Authorization header for
 * the parser. The request is signed, the header parsed back and verified: a well-formed
 * request (signed headers lowercase, sorted, unique and present) must verify, and must
 * not once its signature or its clock is changed.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dd/buf.h"
#include "server/dd_sigv4.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAXH 16
struct hdrs {
	char *name[MAXH];
	char *value[MAXH];
	int n;
};

static const char *hdr(void *ud, const char *name)
{
	struct hdrs *h = ud;
	for (int i = 0; i < h->n; i++)
		if (strcasecmp(h->name[i], name) == 0)
			return h->value[i];
	return NULL;
}

/* lowercase, sorted, unique names, each present, host and x-amz-date among them;
 * x-amz-content-sha256 not sent */
static bool well_formed(const char *sh, struct hdrs *h)
{
	if (hdr(h, "x-amz-content-sha256"))
		return false;
	char prev[256] = "";
	bool first = true, has_host = false, has_date = false;
	const char *p = sh;
	while (*p) {
		const char *semi = strchr(p, ';');
		size_t n = semi ? (size_t)(semi - p) : strlen(p);
		if (n == 0 || n >= sizeof prev)
			return false;
		char name[256];
		memcpy(name, p, n);
		name[n] = '\0';
		for (size_t i = 0; i < n; i++)
			if (!(islower((unsigned char)name[i]) || isdigit((unsigned char)name[i]) || name[i] == '-'))
				return false;
		if ((!first && strcmp(prev, name) >= 0) || !hdr(h, name))
			return false;
		memcpy(prev, name, n + 1);
		first = false;
		has_host |= strcmp(name, "host") == 0;
		has_date |= strcmp(name, "x-amz-date") == 0;
		p = semi ? semi + 1 : p + n;
		if (semi && !*p)
			return false;
	}
	return !first && has_host && has_date;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 16384)
		return 0;
	char *copy = malloc(size + 1);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	copy[size] = '\0';
	const char *part[7] = { "GET", "/", "", "", "host;x-amz-date", "", "" };
	size_t off = 0, blen = 0;
	for (int i = 0; i < 7 && off <= size; i++) {
		part[i] = copy + off;
		size_t l = strlen(copy + off);
		if (i == 5)
			blen = l;
		off += l + 1;
	}

	/* query: decoded pairs as the HTTP layer gives them */
	struct dd_kv q[32];
	size_t nq = 0;
	char *qs = strdup(part[2]);
	for (char *p = qs; p && *p && nq < 32;) {
		char *amp = strchr(p, '&');
		if (amp)
			*amp = '\0';
		char *eq = strchr(p, '=');
		if (eq)
			*eq = '\0';
		char *k = dd_uri_decode(p, strlen(p), false);
		char *v = eq ? dd_uri_decode(eq + 1, strlen(eq + 1), false) : strdup("");
		if (k && v) {
			q[nq].key = k;
			q[nq].value = v;
			nq++;
		} else {
			free(k);
			free(v);
		}
		p = amp ? amp + 1 : NULL;
	}
	/* headers; x-amz-date and host always present, first */
	struct hdrs h = { .n = 0 };
	h.name[h.n] = strdup("X-Amz-Date");
	h.value[h.n++] = strdup("20240102T030405Z");
	char *hs = strdup(part[3]);
	for (char *p = hs; p && *p && h.n < MAXH;) {
		char *nl = strchr(p, '\n');
		if (nl)
			*nl = '\0';
		char *colon = strchr(p, ':');
		if (colon && colon != p) {
			*colon = '\0';
			h.name[h.n] = strdup(p);
			h.value[h.n++] = strdup(colon + 1);
		}
		p = nl ? nl + 1 : NULL;
	}
	if (!hdr(&h, "host") && h.n < MAXH) {
		h.name[h.n] = strdup("Host");
		h.value[h.n++] = strdup("127.0.0.1:7878");
	}

	struct dd_sigv4_request r = {
		.method = part[0], .raw_path = part[1], .query = q, .nquery = nq, .header = hdr, .ud = &h,
		.body = (const unsigned char *)part[5], .body_len = blen,
	};
	const int64_t t0 = 1704164645; /* 2024-01-02T03:04:05Z */
	const char *secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
	char authz[2048], err[512];
	struct dd_sigv4_auth a;
	if (dd_sigv4_sign("AKIDEXAMPLE", secret, "us-east-1", "iot", "20240102T030405Z", part[4], &r, authz,
			  sizeof authz) == 0) {
		bool wf = well_formed(part[4], &h);
		if (dd_sigv4_parse(authz, &a, err, sizeof err) == 0) {
			int v = dd_sigv4_verify(&a, secret, &r, t0 + 30, err, sizeof err);
			if (wf && v != 0)
				abort(); /* our own signature of a well-formed request was refused */
			a.signature[size % 64] = a.signature[size % 64] == '0' ? '1' : '0';
			if (dd_sigv4_verify(&a, secret, &r, t0, err, sizeof err) == 0)
				abort(); /* a changed signature was accepted */
			a.signature[size % 64] = a.signature[size % 64] == '0' ? '1' : '0';
			if (dd_sigv4_verify(&a, secret, &r, t0 + 3600, err, sizeof err) == 0)
				abort(); /* outside the skew window */
		} else if (wf) {
			abort(); /* the header we wrote does not parse */
		}
	}
	if (dd_sigv4_parse(part[6], &a, err, sizeof err) == 0)
		(void)dd_sigv4_verify(&a, secret, &r, t0, err, sizeof err);

	for (int i = 0; i < h.n; i++) {
		free(h.name[i]);
		free(h.value[i]);
	}
	for (size_t i = 0; i < nq; i++) {
		free(q[i].key);
		free(q[i].value);
	}
	free(hs);
	free(qs);
	free(copy);
	return 0;
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * AWS Signature Version 4 verification of the Authorization header: canonical request,
 * string to sign, derived signing key, constant-time comparison, clock skew window.
 */
#ifndef DD_SERVER_SIGV4_H
#define DD_SERVER_SIGV4_H

#include "dd/common.h"
#include "server/dd_model.h"

#define DD_SIGV4_MAX_SKEW_S (15 * 60)

struct dd_sigv4_auth {
	char access_key[129];
	char date[9];          /* YYYYMMDD of the credential scope */
	char region[64];
	char service[64];
	char signed_headers[1024];
	char signature[65];
};

struct dd_sigv4_request {
	const char *method;
	const char *raw_path;      /* as received, still percent-encoded */
	const struct dd_kv *query; /* decoded query parameters */
	size_t nquery;
	dd_header_fn header;       /* case-insensitive header lookup */
	void *ud;
	const unsigned char *body;
	size_t body_len;
};

/* Parses "AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…". Returns 0, or
 * DD_EINVAL with err naming what is missing. */
int dd_sigv4_parse(const char *authorization, struct dd_sigv4_auth *out, char *err,
		   size_t errlen) DD_MUST_CHECK;

/* Verifies the request's signature with secret at time now (epoch seconds). Returns 0;
 * DD_EDENIED when the signature does not match or the timestamp is outside the skew window
 * (err says which, in AWS's words). */
int dd_sigv4_verify(const struct dd_sigv4_auth *auth, const char *secret,
		    const struct dd_sigv4_request *req, int64_t now, char *err,
		    size_t errlen) DD_MUST_CHECK;

/* Signs a request (for tests, benchmarks and the demo client): writes the Authorization
 * header value for the given amz_date (YYYYMMDDTHHMMSSZ) and signed header names
 * (lowercase, ';'-separated, sorted). Returns 0 or a DD_E* code. */
int dd_sigv4_sign(const char *access_key, const char *secret, const char *region,
		  const char *service, const char *amz_date, const char *signed_headers,
		  const struct dd_sigv4_request *req, char *out, size_t outlen) DD_MUST_CHECK;

#endif

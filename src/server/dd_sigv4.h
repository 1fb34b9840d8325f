/* SPDX-License-Identifier: Apache-2.0 */
/*
 * AWS Signature Version 4 verification, as AWS checks it for non-S3 services: the
 * Authorization header or the presigned query string (X-Amz-Algorithm, -Credential,
 * -Date, -Expires, -SignedHeaders, -Signature), canonical request over the normalised
 * path, string to sign, derived signing key, constant-time comparison, clock skew window.
 * Parsing and the header-only checks are separate from the signature check so the HTTP
 * layer can refuse a request before it reads the body.
 */
#ifndef DD_SERVER_SIGV4_H
#define DD_SERVER_SIGV4_H

#include "dd/common.h"
#include "server/dd_model.h"

#define DD_SIGV4_MAX_SKEW_S (15 * 60)
#define DD_SIGV4_MAX_EXPIRES_S 604800 /* 7 days, as AWS */

struct dd_sigv4_auth {
	char access_key[129];
	char date[9];          /* YYYYMMDD of the credential scope */
	char region[64];
	char service[64];
	char signed_headers[1024];
	char signature[65];
	bool presigned;        /* from the query string rather than the Authorization header */
	char amz_date[17];     /* presigned: X-Amz-Date (YYYYMMDDTHHMMSSZ) */
	int64_t expires;       /* presigned: X-Amz-Expires in seconds */
};

struct dd_sigv4_request {
	const char *method;
	const char *raw_path;      /* as received, still percent-encoded */
	const struct dd_kv *query; /* decoded query parameters */
	size_t nquery;
	dd_header_fn header;       /* case-insensitive header lookup; a repeated header's
				    * values joined with ',' */
	void *ud;
	const unsigned char *body;
	size_t body_len;
};

/* Parses "AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…". Refuses a
 * parameter given twice, SignedHeaders that are not lowercase, sorted and unique, and a
 * credential scope whose region is not a region name. Returns 0, or DD_EINVAL with err
 * naming what is wrong (AWS's IncompleteSignatureException). */
int dd_sigv4_parse(const char *authorization, struct dd_sigv4_auth *out, char *err,
		   size_t errlen) DD_MUST_CHECK;

/* Parses a presigned request's X-Amz-* query parameters. Returns DD_ENOTFOUND when the
 * query carries none of them, 0 when they form a presigned request, DD_EINVAL with err
 * when they are incomplete, repeated or malformed. */
int dd_sigv4_parse_presigned(const struct dd_kv *query, size_t nquery, struct dd_sigv4_auth *out,
			     char *err, size_t errlen) DD_MUST_CHECK;

/* True when region looks like an AWS region name: ^[a-z]{2,4}(-[a-z]{2,8})?-[a-z]+-[0-9]+$
 * (every partition's regionRegex in botocore's endpoints.json, lowercase letters only). */
bool dd_sigv4_region_valid(const char *region);

/* The checks that need only the headers and the query: the request time (X-Amz-Date, else
 * Date; once) against the credential scope and the skew window (or the presigned expiry),
 * every signed header present, Host signed, and x-amz-content-sha256 a SHA-256 rather than
 * UNSIGNED-PAYLOAD or a streaming mode (S3 only). Returns 0; DD_EINVAL for a request that
 * is incomplete (IncompleteSignatureException); DD_EDENIED when it cannot verify
 * (InvalidSignatureException); err says why in AWS's words. */
int dd_sigv4_check(const struct dd_sigv4_auth *auth, const struct dd_sigv4_request *req, int64_t now,
		   char *err, size_t errlen) DD_MUST_CHECK;

/* dd_sigv4_check, then the signature over the whole request with secret at time now
 * (epoch seconds). Returns 0; DD_EINVAL or DD_EDENIED as dd_sigv4_check, DD_EDENIED when
 * the signature or the payload hash does not match. */
int dd_sigv4_verify(const struct dd_sigv4_auth *auth, const char *secret,
		    const struct dd_sigv4_request *req, int64_t now, char *err,
		    size_t errlen) DD_MUST_CHECK;

/* Signs a request (for tests, benchmarks and the demo client): writes the Authorization
 * header value for the given amz_date (YYYYMMDDTHHMMSSZ) and signed header names
 * (lowercase, ';'-separated, sorted). Returns 0 or a DD_E* code. */
int dd_sigv4_sign(const char *access_key, const char *secret, const char *region,
		  const char *service, const char *amz_date, const char *signed_headers,
		  const struct dd_sigv4_request *req, char *out, size_t outlen) DD_MUST_CHECK;

/* RFC 3986 dot-segment removal with runs of '/' collapsed, as the SDKs normalise a path
 * before signing it (botocore remove_dot_segments). Writes at most outlen bytes with the
 * terminator; returns 0 or DD_ELIMIT. */
int dd_sigv4_normalize_path(const char *path, char *out, size_t outlen) DD_MUST_CHECK;

#endif

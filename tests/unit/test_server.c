/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the server layer's pure parts: SigV4 against vectors computed by botocore
 * (header, presigned query, Date header, a repeated header, a normalised path), the skew
 * window, the strict Authorization and presigned parsers; the model-driven binder and
 * validator; credentials parsing and the file-mode check; the data-directory lock; paging
 * tokens; percent-decoding.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "dd/buf.h"
#include "dd/ctx.h"
#include "server/dd_creds.h"
#include "server/dd_dirlock.h"
#include "server/dd_json_write.h"
#include "server/dd_model.h"
#include "server/dd_sigv4.h"

struct hdrs {
	const char *names[8];
	const char *values[8];
};

static const char *hdr(void *ud, const char *name)
{
	struct hdrs *h = ud;
	for (int i = 0; i < 8 && h->names[i]; i++)
		if (strcasecmp(h->names[i], name) == 0)
			return h->values[i];
	return NULL;
}

#define AUTH "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240102/us-east-1/iot/aws4_request, " \
	     "SignedHeaders=content-type;host;x-amz-date, "                                      \
	     "Signature=eae4532f77e0d12d90c023a936fd13520a90b3417c114ea5ae85fc49c4e8ee35"
#define SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define T0 1704164645 /* 2024-01-02T03:04:05Z */

static struct dd_kv query[] = { { (char *)"x", (char *)"1 2" }, { (char *)"a", (char *)"z" } };
static struct hdrs headers = {
	{ "Content-Type", "Host", "X-Amz-Date", NULL },
	{ "application/json", "127.0.0.1:7878", "20240102T030405Z", NULL },
};

static struct dd_sigv4_request vector_request(const char *body)
{
	struct dd_sigv4_request r = {
		.method = "POST", .raw_path = "/things/a%3Ab", .query = query, .nquery = 2,
		.header = hdr, .ud = &headers, .body = (const unsigned char *)body, .body_len = strlen(body),
	};
	return r;
}

static void sigv4_botocore_vector(void **state)
{
	(void)state;
	struct dd_sigv4_auth a;
	char err[512];
	assert_int_equal(dd_sigv4_parse(AUTH, &a, err, sizeof err), 0);
	assert_string_equal(a.access_key, "AKIDEXAMPLE");
	assert_string_equal(a.service, "iot");
	assert_string_equal(a.region, "us-east-1");
	struct dd_sigv4_request r = vector_request("{\"k\":\"v\"}");
	assert_int_equal(dd_sigv4_verify(&a, SECRET, &r, T0 + 60, err, sizeof err), 0);
	/* and our signer produces the same header */
	char out[512];
	assert_int_equal(dd_sigv4_sign("AKIDEXAMPLE", SECRET, "us-east-1", "iot", "20240102T030405Z",
				       "content-type;host;x-amz-date", &r, out, sizeof out), 0);
	assert_string_equal(out, AUTH);
}

static void sigv4_rejects(void **state)
{
	(void)state;
	struct dd_sigv4_auth a;
	char err[512];
	assert_int_equal(dd_sigv4_parse(AUTH, &a, err, sizeof err), 0);
	struct dd_sigv4_request r = vector_request("{\"k\":\"v\"}");
	/* wrong secret */
	assert_int_equal(dd_sigv4_verify(&a, "nope", &r, T0, err, sizeof err), DD_EDENIED);
	assert_non_null(strstr(err, "signature"));
	/* tampered body */
	struct dd_sigv4_request r2 = vector_request("{\"k\":\"w\"}");
	assert_int_equal(dd_sigv4_verify(&a, SECRET, &r2, T0, err, sizeof err), DD_EDENIED);
	/* 15 minutes is fine, 16 is not, either direction */
	assert_int_equal(dd_sigv4_verify(&a, SECRET, &r, T0 + 15 * 60, err, sizeof err), 0);
	assert_int_equal(dd_sigv4_verify(&a, SECRET, &r, T0 + 16 * 60, err, sizeof err), DD_EDENIED);
	assert_non_null(strstr(err, "Signature expired"));
	assert_int_equal(dd_sigv4_verify(&a, SECRET, &r, T0 - 16 * 60, err, sizeof err), DD_EDENIED);
}

static void sigv4_parse_errors(void **state)
{
	(void)state;
	struct dd_sigv4_auth a;
	char err[512];
	assert_int_equal(dd_sigv4_parse("Basic abc", &a, err, sizeof err), DD_EINVAL);
	assert_int_equal(dd_sigv4_parse("AWS4-HMAC-SHA256 Credential=A/2024/r/s/aws4_request", &a, err, sizeof err), DD_EINVAL);
	assert_int_equal(dd_sigv4_parse("AWS4-HMAC-SHA256 Credential=A/20240102/r/s/aws4_request, SignedHeaders=host",
					&a, err, sizeof err), DD_EINVAL);
	assert_non_null(strstr(err, "Signature"));
	assert_int_equal(dd_sigv4_parse("AWS4-HMAC-SHA256 Credential=A/20240102/r/s/other, SignedHeaders=host, "
					"Signature=eae4532f77e0d12d90c023a936fd13520a90b3417c114ea5ae85fc49c4e8ee35",
					&a, err, sizeof err), DD_EINVAL);
}

/* Vectors below were computed offline with botocore 1.43 (SigV4Auth / SigV4QueryAuth) at
 * 2024-01-02T03:04:05Z with the AKIDEXAMPLE key. */
static struct dd_kv presign_query[] = {
	{ (char *)"maxResults", (char *)"5" },
	{ (char *)"X-Amz-Algorithm", (char *)"AWS4-HMAC-SHA256" },
	{ (char *)"X-Amz-Credential", (char *)"AKIDEXAMPLE/20240102/us-east-1/iot/aws4_request" },
	{ (char *)"X-Amz-Date", (char *)"20240102T030405Z" },
	{ (char *)"X-Amz-Expires", (char *)"300" },
	{ (char *)"X-Amz-SignedHeaders", (char *)"host" },
	{ (char *)"X-Amz-Signature", (char *)"5908fdbf2572f4f6385efda10b6f89ad17d2739cab3d9e612aa82c5e6eb47b58" },
};

static void sigv4_presigned(void **state)
{
	(void)state;
	struct hdrs h = { { "Host", NULL }, { "127.0.0.1:7878", NULL } };
	struct dd_sigv4_request r = { .method = "GET", .raw_path = "/things", .query = presign_query, .nquery = 7,
				      .header = hdr, .ud = &h };
	struct dd_sigv4_auth a;
	char err[512];
	assert_int_equal(dd_sigv4_parse_presigned(presign_query, 7, &a, err, sizeof err), 0);
	assert_true(a.presigned);
	assert_int_equal(a.expires, 300);
	assert_int_equal(dd_sigv4_verify(&a, SECRET, &r, T0 + 299, err, sizeof err), 0);
	/* expired after X-Amz-Expires, not valid before its time (beyond the skew) */
	assert_int_equal(dd_sigv4_verify(&a, SECRET, &r, T0 + 301, err, sizeof err), DD_EDENIED);
	assert_non_null(strstr(err, "expired"));
	assert_int_equal(dd_sigv4_verify(&a, SECRET, &r, T0 - 16 * 60, err, sizeof err), DD_EDENIED);
	/* another parameter value breaks it */
	struct dd_kv q2[7];
	memcpy(q2, presign_query, sizeof q2);
	q2[0].value = (char *)"6";
	r.query = q2;
	assert_int_equal(dd_sigv4_verify(&a, SECRET, &r, T0, err, sizeof err), DD_EDENIED);
	/* no X-Amz-* at all: not a presigned request; one given twice or missing: refused */
	assert_int_equal(dd_sigv4_parse_presigned(presign_query, 1, &a, err, sizeof err), DD_ENOTFOUND);
	assert_int_equal(dd_sigv4_parse_presigned(presign_query, 6, &a, err, sizeof err), DD_EINVAL);
	struct dd_kv q3[8];
	memcpy(q3, presign_query, sizeof presign_query);
	q3[7] = presign_query[6];
	assert_int_equal(dd_sigv4_parse_presigned(q3, 8, &a, err, sizeof err), DD_EINVAL);
	assert_non_null(strstr(err, "more than once"));
	q2[0].value = (char *)"5";
	q2[4].value = (char *)"604801";
	assert_int_equal(dd_sigv4_parse_presigned(q2, 7, &a, err, sizeof err), DD_EINVAL);
}

static void sigv4_date_header_and_repeated_header(void **state)
{
	(void)state;
	struct dd_sigv4_auth a;
	char err[512];
	/* a Date header instead of X-Amz-Date */
	struct hdrs hd = { { "Host", "Date", NULL }, { "127.0.0.1:7878", "Tue, 02 Jan 2024 03:04:05 GMT", NULL } };
	struct dd_sigv4_request r = { .method = "GET", .raw_path = "/things", .header = hdr, .ud = &hd };
	assert_int_equal(dd_sigv4_parse("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240102/us-east-1/iot/aws4_request, "
					"SignedHeaders=date;host, Signature=9aa864263ef8799fd8d3d056e43a32c73b4b85ca953c7f2bfa9df2bbebb55085",
					&a, err, sizeof err), 0);
	assert_int_equal(dd_sigv4_verify(&a, SECRET, &r, T0, err, sizeof err), 0);
	/* X-Amz-Content-SHA256 UNSIGNED-PAYLOAD is S3's alone */
	struct hdrs hu = { { "Host", "Date", "X-Amz-Content-SHA256", NULL },
			   { "127.0.0.1:7878", "Tue, 02 Jan 2024 03:04:05 GMT", "UNSIGNED-PAYLOAD", NULL } };
	r.ud = &hu;
	assert_int_equal(dd_sigv4_verify(&a, SECRET, &r, T0, err, sizeof err), DD_EDENIED);
	assert_non_null(strstr(err, "S3"));
	/* a header sent twice is signed as "a,b" (the HTTP layer joins the values) */
	struct hdrs h2 = { { "Host", "X-Amz-Date", "X-Custom", NULL }, { "127.0.0.1:7878", "20240102T030405Z", "a,b", NULL } };
	r.ud = &h2;
	assert_int_equal(dd_sigv4_parse("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240102/us-east-1/iot/aws4_request, "
					"SignedHeaders=host;x-amz-date;x-custom, Signature=4def550eeedfb95c588364e3c80f3af4b53b0feb4193f512b94509e5b5cf42ed",
					&a, err, sizeof err), 0);
	assert_int_equal(dd_sigv4_verify(&a, SECRET, &r, T0, err, sizeof err), 0);
	/* a signed header that is absent */
	struct hdrs h3 = { { "Host", "X-Amz-Date", NULL }, { "127.0.0.1:7878", "20240102T030405Z", NULL } };
	r.ud = &h3;
	assert_int_equal(dd_sigv4_check(&a, &r, T0, err, sizeof err), DD_EDENIED);
	assert_non_null(strstr(err, "x-custom"));
	/* X-Amz-Date twice (joined) */
	struct hdrs h4 = { { "Host", "X-Amz-Date", "X-Custom", NULL },
			   { "127.0.0.1:7878", "20240102T030405Z,20240102T030405Z", "a,b", NULL } };
	r.ud = &h4;
	assert_int_equal(dd_sigv4_check(&a, &r, T0, err, sizeof err), DD_EINVAL);
	assert_non_null(strstr(err, "once"));
}

static void sigv4_normalised_path(void **state)
{
	(void)state;
	struct dd_sigv4_auth a;
	char err[512];
	struct hdrs h = { { "Host", "X-Amz-Date", NULL }, { "127.0.0.1:7878", "20240102T030405Z", NULL } };
	struct dd_sigv4_request r = { .method = "GET", .raw_path = "/a/./b/..//things/", .header = hdr, .ud = &h };
	assert_int_equal(dd_sigv4_parse("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240102/us-east-1/iot/aws4_request, "
					"SignedHeaders=host;x-amz-date, Signature=962bf82bba5c3752a618093fc6f86aeca237184a791575ce507aae992612e3fa",
					&a, err, sizeof err), 0);
	assert_int_equal(dd_sigv4_verify(&a, SECRET, &r, T0, err, sizeof err), 0);
	static const char *const cases[][2] = {
		{ "", "/" }, { "/", "/" }, { "/things", "/things" }, { "/a/./b/..//things/", "/a/things/" },
		{ "//x//y", "/x/y" }, { "/..", "/" }, { "/a/../..", "/" }, { "/a/b/../../c", "/c" },
		{ "/things/a%2F..%2Fb", "/things/a%2F..%2Fb" }, { "/a/.../b", "/a/.../b" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char out[64];
		assert_int_equal(dd_sigv4_normalize_path(cases[i][0], out, sizeof out), 0);
		assert_string_equal(out, cases[i][1]);
	}
	char small[4];
	assert_int_equal(dd_sigv4_normalize_path("/abcdef", small, sizeof small), DD_ELIMIT);
}

static void sigv4_query_sort(void **state)
{
	(void)state;
	/* "p1" before "p10", then by value: the order botocore signs */
	struct dd_kv q[] = { { (char *)"p10", (char *)"10" }, { (char *)"p1", (char *)"1" },
			     { (char *)"p1", (char *)"0" }, { (char *)"p2", (char *)"a" } };
	struct hdrs h = { { "Host", "X-Amz-Date", NULL }, { "127.0.0.1:7878", "20240102T030405Z", NULL } };
	struct dd_sigv4_request r = { .method = "GET", .raw_path = "/things", .query = q, .nquery = 4,
				      .header = hdr, .ud = &h };
	struct dd_sigv4_auth a;
	char err[512];
	assert_int_equal(dd_sigv4_parse("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240102/us-east-1/iot/aws4_request, "
					"SignedHeaders=host;x-amz-date, Signature=ecac98c6aa77b2936eb8c5aa0e0b0f45474104f8d055c6022181983aa27bbc93",
					&a, err, sizeof err), 0);
	assert_int_equal(dd_sigv4_verify(&a, SECRET, &r, T0, err, sizeof err), 0);
}

static void sigv4_strict_parse(void **state)
{
	(void)state;
	struct dd_sigv4_auth a;
	char err[512];
#define SIG "Signature=eae4532f77e0d12d90c023a936fd13520a90b3417c114ea5ae85fc49c4e8ee35"
#define CRED "Credential=AKIDEXAMPLE/20240102/us-east-1/iot/aws4_request"
	assert_int_equal(dd_sigv4_parse("AWS4-HMAC-SHA256 " CRED ", SignedHeaders=host, " SIG ", " SIG, &a, err, sizeof err),
			 DD_EINVAL);
	assert_non_null(strstr(err, "more than once"));
	assert_int_equal(dd_sigv4_parse("AWS4-HMAC-SHA256 " CRED ", " CRED ", SignedHeaders=host, " SIG, &a, err, sizeof err),
			 DD_EINVAL);
	assert_int_equal(dd_sigv4_parse("AWS4-HMAC-SHA256 " CRED ", SignedHeaders=x-amz-date;host, " SIG, &a, err, sizeof err),
			 DD_EINVAL);
	assert_non_null(strstr(err, "sorted"));
	assert_int_equal(dd_sigv4_parse("AWS4-HMAC-SHA256 " CRED ", SignedHeaders=Host;x-amz-date, " SIG, &a, err, sizeof err),
			 DD_EINVAL);
	assert_int_equal(dd_sigv4_parse("AWS4-HMAC-SHA256 " CRED ", SignedHeaders=host;host, " SIG, &a, err, sizeof err),
			 DD_EINVAL);
	assert_int_equal(dd_sigv4_parse("AWS4-HMAC-SHA256 " CRED ", SignedHeaders=host;;x-amz-date, " SIG, &a, err, sizeof err),
			 DD_EINVAL);
	/* a region that could smuggle an account into ARNs */
	assert_int_equal(dd_sigv4_parse("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240102/us-east-1:222222222222/iot/aws4_request, "
					"SignedHeaders=host, " SIG, &a, err, sizeof err), DD_EINVAL);
	assert_non_null(strstr(err, "valid region"));
	assert_int_equal(dd_sigv4_parse("AWS4-HMAC-SHA256 " CRED ", SignedHeaders=host;x-amz-date, " SIG, &a, err, sizeof err), 0);
#undef SIG
#undef CRED
	static const char *const good[] = { "us-east-1", "eu-west-3", "ap-southeast-4", "us-gov-west-1",
					    "cn-north-1", "us-iso-east-1", "us-isob-east-1", "eu-isoe-west-1",
					    "il-central-1", "eusc-de-east-1", "us-isof-south-1", NULL };
	static const char *const bad[] = { "", "us", "us-east", "us-east-1:1", "US-EAST-1", "us-east-x",
					   "us_east-1", "us--1", "u-east-1", "us-east-1-", "us-east-", "useast-a-b-c-1",
					   "us-east-1a", "us-east-01x", "us-verylongword-east-1", "us-east-1/iot", NULL };
	for (int i = 0; good[i]; i++)
		assert_true(dd_sigv4_region_valid(good[i]));
	for (int i = 0; bad[i]; i++)
		assert_false(dd_sigv4_region_valid(bad[i]));
}

static void creds_mode_and_dirlock(void **state)
{
	(void)state;
	char dir[] = "/tmp/ddlockXXXXXX";
	assert_non_null(mkdtemp(dir));
	char path[128];
	snprintf(path, sizeof path, "%s/credentials", dir);
	FILE *f = fopen(path, "w");
	fputs("[a]\naws_access_key_id = AK1\naws_secret_access_key = s\naccount_id = 111111111111\n", f);
	fclose(f);
	struct dd_creds c;
	char err[1024];
	assert_int_equal(chmod(path, 0644), 0);
	assert_int_equal(dd_creds_load(path, &c, err, sizeof err), DD_EDENIED);
	assert_non_null(strstr(err, "permissions 0644"));
	assert_non_null(strstr(err, "chmod 600"));
	assert_int_equal(chmod(path, 0620), 0);
	assert_int_equal(dd_creds_load(path, &c, err, sizeof err), DD_EDENIED);
	assert_int_equal(chmod(path, 0600), 0);
	assert_int_equal(dd_creds_load(path, &c, err, sizeof err), 0);
	dd_creds_free(&c);
	assert_int_equal(chmod(path, 0400), 0);
	assert_int_equal(dd_creds_load(path, &c, err, sizeof err), 0);
	dd_creds_free(&c);
	unlink(path);

	/* one holder at a time, even within one process (flock is per open file) */
	struct dd_dirlock *l1 = NULL, *l2 = NULL;
	assert_int_equal(dd_dirlock_acquire(dir, &l1, err, sizeof err), 0);
	assert_int_equal(dd_dirlock_acquire(dir, &l2, err, sizeof err), DD_EEXIST);
	assert_non_null(strstr(err, "in use by another iotdefender"));
	assert_null(l2);
	dd_dirlock_release(l1);
	assert_int_equal(dd_dirlock_acquire(dir, &l2, err, sizeof err), 0);
	dd_dirlock_release(l2);
	dd_dirlock_release(NULL);
	snprintf(path, sizeof path, "%s/iotdefender.lock", dir);
	unlink(path);
	rmdir(dir);
}

/* The reference for dd_model_route_any_iot: the scan it replaced, of the whole table,
 * the template with the most literal segments winning, the first of equals. */
static bool ref_tmpl_match(const char *t, const char *path, bool *greedy_out, int *literals)
{
	*literals = 0;
	*greedy_out = false;
	while (*t == '/')
		t++;
	while (*path == '/')
		path++;
	for (;;) {
		size_t tl = strcspn(t, "/"), pl = strcspn(path, "/");
		if (!tl)
			return !pl;
		if (t[0] == '{') {
			if (tl > 3 && t[tl - 2] == '+') {
				*greedy_out = true;
				return pl > 0;
			}
			if (!pl)
				return false;
		} else {
			if (tl != pl || strncmp(t, path, tl) != 0)
				return false;
			(*literals)++;
		}
		t += tl;
		path += pl;
		if (*t == '/')
			t++;
		if (*path == '/')
			path++;
		if (!*t || !*path)
			return !*t && !*path;
	}
}

static const char *route_any_scan(const char *method, const char *path)
{
	const char *best = NULL;
	int best_lit = -1;
	for (const struct dd_model_route_name *r = dd_iot_all_routes; r->method; r++) {
		bool greedy;
		int lit;
		if (strcmp(r->method, method) != 0 || !ref_tmpl_match(r->uri, path, &greedy, &lit))
			continue;
		if (lit > best_lit) {
			best = r->op;
			best_lit = lit;
		}
	}
	return best;
}

static void model_route_any_iot_index(void **state)
{
	(void)state;
	static const char *const methods[] = { "GET", "PUT", "POST", "PATCH", "DELETE", "HEAD" };
	int n = 0;
	for (const struct dd_model_route_name *r = dd_iot_all_routes; r->method; r++, n++) {
		/* the template with each label filled in, then with one more segment */
		char path[512], deeper[600];
		size_t k = 0;
		for (const char *t = r->uri; *t && k + 8 < sizeof path;) {
			if (*t == '{') {
				const char *end = strchr(t, '}');
				assert_non_null(end);
				memcpy(path + k, "x1", 2);
				k += 2;
				t = end + 1;
			} else {
				path[k++] = *t++;
			}
		}
		path[k] = '\0';
		snprintf(deeper, sizeof deeper, "%s/more", path);
		const char *want = route_any_scan(r->method, path);
		assert_non_null(want);
		assert_string_equal(dd_model_route_any_iot(r->method, path), want);
		for (size_t m = 0; m < sizeof methods / sizeof methods[0]; m++) {
			const char *a = route_any_scan(methods[m], path), *b = dd_model_route_any_iot(methods[m], path);
			if (a)
				assert_string_equal(b, a);
			else
				assert_null(b);
			a = route_any_scan(methods[m], deeper);
			b = dd_model_route_any_iot(methods[m], deeper);
			if (a)
				assert_string_equal(b, a);
			else
				assert_null(b);
		}
	}
	assert_true(n > 200);
	assert_string_equal(dd_model_route_any_iot("GET", "/things/lamp-1"), "DescribeThing");
	assert_string_equal(dd_model_route_any_iot("PUT", "/thing-groups/addThingToThingGroup"), "AddThingToThingGroup");
	static const char *const odd[] = { "//things/lamp-1", "/things/lamp-1/", "/things//lamp-1", "/", "",
					   "/certificate-providers/", "/audit/tasks" };
	for (size_t i = 0; i < sizeof odd / sizeof odd[0]; i++)
		for (size_t m = 0; m < sizeof methods / sizeof methods[0]; m++) {
			const char *a = route_any_scan(methods[m], odd[i]), *b = dd_model_route_any_iot(methods[m], odd[i]);
			if (a)
				assert_string_equal(b, a);
			else
				assert_null(b);
		}
	assert_null(dd_model_route_any_iot("GET", "/no-such-family/x"));
	assert_null(dd_model_route_any_iot("GET", ""));
}

/* The reference for dd_model_route: the scan it replaced, over the routes of the served
 * model in its operations' order (a literal segment equal, a label any non-empty one, a
 * greedy last label one or more; the most literal segments win, the first of equals; a
 * match under another method is a mismatch). */
struct ref_route {
	const char *op, *method;
	int nseg, literals;
	char segs[12][128];
};

static int ref_routes_load(const char *service, json_t **root, struct ref_route *out, int max)
{
	const struct dd_model_source *src = dd_model_sources;
	while (src->service && strcmp(src->service, service) != 0)
		src++;
	assert_non_null(src->service);
	*root = json_loadb(src->json, src->len, 0, NULL);
	assert_non_null(*root);
	const char *name;
	json_t *op;
	int n = 0;
	json_object_foreach(json_object_get(*root, "operations"), name, op) {
		json_t *http = json_object_get(op, "http");
		const char *uri = json_string_value(json_object_get(http, "requestUri"));
		const char *method = json_string_value(json_object_get(http, "method"));
		if (!uri || !method)
			continue;
		assert_true(n < max);
		struct ref_route *r = &out[n++];
		memset(r, 0, sizeof *r);
		r->op = name;
		r->method = method;
		size_t ulen = strcspn(uri, "?");
		const char *u = uri;
		while (*u == '/')
			u++;
		while ((size_t)(u - uri) < ulen && r->nseg < 12) {
			size_t sl = strcspn(u, "/?");
			assert_true(sl < sizeof r->segs[0]);
			memcpy(r->segs[r->nseg], u, sl);
			if (u[0] != '{')
				r->literals++;
			r->nseg++;
			u += sl;
			if (*u != '/')
				break;
			u++;
		}
	}
	return n;
}

static const char *ref_route_scan(const struct ref_route *routes, int n, const char *method, const char *raw_path,
				  bool *mismatch)
{
	char path[2048];
	snprintf(path, sizeof path, "%s", raw_path);
	const char *segs[64];
	int nseg = 0;
	char *s = path;
	while (*s == '/')
		s++;
	while (*s && nseg < 64) {
		char *slash = strchr(s, '/');
		if (slash)
			*slash = '\0';
		segs[nseg++] = s;
		if (!slash)
			break;
		s = slash + 1;
	}
	const struct ref_route *best = NULL;
	*mismatch = false;
	for (int i = 0; i < n; i++) {
		const struct ref_route *r = &routes[i];
		bool greedy = r->nseg > 0 && strstr(r->segs[r->nseg - 1], "+}") != NULL;
		if (greedy ? nseg < r->nseg : nseg != r->nseg)
			continue;
		bool ok = true;
		for (int k = 0; k < r->nseg && ok; k++)
			ok = r->segs[k][0] != '{' ? strcmp(r->segs[k], segs[k]) == 0 : segs[k][0] != '\0';
		if (!ok)
			continue;
		if (strcmp(r->method, method) != 0) {
			*mismatch = true;
			continue;
		}
		if (!best || r->literals > best->literals)
			best = r;
	}
	if (best)
		*mismatch = false;
	return best ? best->op : NULL;
}

/* dd_model_route (its index) against the reference scan, for one request. */
static void route_same(const struct dd_model *m, const struct ref_route *routes, int n, const char *method,
		       const char *path)
{
	bool want_mismatch, mismatch = true;
	const char *want = ref_route_scan(routes, n, method, path, &want_mismatch);
	json_t *labels = json_object();
	const struct dd_model_op *op = dd_model_route(m, method, path, labels, &mismatch);
	json_decref(labels);
	if (want) {
		assert_non_null(op);
		assert_string_equal(dd_model_op_name(op), want);
	} else {
		assert_null(op);
	}
	assert_int_equal(mismatch, want_mismatch);
}

static void model_route_index(void **state)
{
	(void)state;
	static const char *const methods[] = { "GET", "PUT", "POST", "PATCH", "DELETE", "HEAD" };
	static struct ref_route routes[512];
	assert_int_equal(dd_models_load(), 0);
	const struct dd_model *m = dd_model_get("iot");
	assert_non_null(m);
	json_t *root;
	int n = ref_routes_load("iot", &root, routes, 512);
	assert_true(n > 100);
	for (int i = 0; i < n; i++) {
		/* the template with each label filled in, then with one more segment, then with
		 * its first label empty */
		char path[1600], deeper[1700], empty[1600];
		size_t k = 0, e = 0;
		bool emptied = false;
		for (int j = 0; j < routes[i].nseg; j++) {
			const char *t = routes[i].segs[j];
			bool label = t[0] == '{';
			k += (size_t)snprintf(path + k, sizeof path - k, "/%s", label ? "x1" : t);
			e += (size_t)snprintf(empty + e, sizeof empty - e, "/%s", label && !emptied ? "" : label ? "x1" : t);
			emptied = emptied || label;
		}
		if (!k)
			snprintf(path, sizeof path, "/");
		if (!e)
			snprintf(empty, sizeof empty, "/");
		snprintf(deeper, sizeof deeper, "%s/more", path);
		bool mismatch;
		assert_non_null(ref_route_scan(routes, n, routes[i].method, path, &mismatch));
		for (size_t j = 0; j < sizeof methods / sizeof methods[0]; j++) {
			route_same(m, routes, n, methods[j], path);
			route_same(m, routes, n, methods[j], deeper);
			route_same(m, routes, n, methods[j], empty);
		}
	}
	static const char *const odd[] = { "//things/lamp-1", "/things/lamp-1/", "/things//lamp-1", "/", "",
					   "/certificate-providers/", "/audit/tasks", "/no-such-family/x", "///" };
	for (size_t i = 0; i < sizeof odd / sizeof odd[0]; i++)
		for (size_t j = 0; j < sizeof methods / sizeof methods[0]; j++)
			route_same(m, routes, n, methods[j], odd[i]);
	json_decref(root);
	dd_models_free();
}

static void model_route_and_bind(void **state)
{
	(void)state;
	assert_int_equal(dd_models_load(), 0);
	const struct dd_model *m = dd_model_get("iot");
	assert_non_null(m);
	json_t *labels = json_object();
	bool mismatch;
	const struct dd_model_op *op = dd_model_route(m, "GET", "/things/a%3Ab", labels, &mismatch);
	assert_non_null(op);
	assert_string_equal(dd_model_op_name(op), "DescribeThing");
	assert_string_equal(json_string_value(json_object_get(labels, "thingName")), "a:b");
	/* a literal segment beats a label */
	json_object_clear(labels);
	op = dd_model_route(m, "PUT", "/thing-groups/addThingToThingGroup", labels, &mismatch);
	assert_string_equal(dd_model_op_name(op), "AddThingToThingGroup");
	/* method mismatch */
	json_object_clear(labels);
	assert_null(dd_model_route(m, "PATCH", "/things", labels, &mismatch));
	assert_true(mismatch);

	/* binding: query integers and booleans, validation of ranges */
	json_object_clear(labels);
	op = dd_model_route(m, "GET", "/things", labels, &mismatch);
	struct dd_kv q[] = { { (char *)"maxResults", (char *)"5" }, { (char *)"usePrefixAttributeValue", (char *)"true" } };
	json_t *in = NULL;
	char err[1024];
	assert_int_equal(dd_model_bind_rest(op, labels, q, 2, NULL, NULL, NULL, &in, err, sizeof err), 0);
	assert_int_equal(json_integer_value(json_object_get(in, "maxResults")), 5);
	assert_true(json_is_true(json_object_get(in, "usePrefixAttributeValue")));
	json_decref(in);
	struct dd_kv q2[] = { { (char *)"maxResults", (char *)"900" } };
	assert_int_equal(dd_model_bind_rest(op, labels, q2, 1, NULL, NULL, NULL, &in, err, sizeof err), DD_EINVAL);
	assert_non_null(strstr(err, "maxResults"));
	struct dd_kv q3[] = { { (char *)"maxResults", (char *)"five" } };
	assert_int_equal(dd_model_bind_rest(op, labels, q3, 1, NULL, NULL, NULL, &in, err, sizeof err), DD_EINVAL);

	/* pattern and enum from the body */
	json_object_clear(labels);
	op = dd_model_route(m, "POST", "/things/bad%20name", labels, &mismatch);
	assert_int_equal(dd_model_bind_rest(op, labels, NULL, 0, NULL, NULL, NULL, &in, err, sizeof err), DD_EINVAL);
	assert_non_null(strstr(err, "regular expression"));
	json_object_clear(labels);
	op = dd_model_route(m, "POST", "/v2LoggingOptions", labels, &mismatch);
	json_t *body = json_pack("{s:s}", "defaultLogLevel", "LOUD");
	assert_int_equal(dd_model_bind_rest(op, labels, NULL, 0, NULL, NULL, body, &in, err, sizeof err), DD_EINVAL);
	assert_non_null(strstr(err, "enum"));
	json_decref(body);
	json_decref(labels);
}

static void model_query_binding_and_xml(void **state)
{
	(void)state;
	assert_int_equal(dd_models_load(), 0);
	const struct dd_model *m = dd_model_get("iam");
	const struct dd_model_op *op = dd_model_op_find(m, "CreateRole");
	struct dd_kv form[] = {
		{ (char *)"Action", (char *)"CreateRole" },
		{ (char *)"RoleName", (char *)"r1" },
		{ (char *)"AssumeRolePolicyDocument", (char *)"{}" },
		{ (char *)"Tags.member.1.Key", (char *)"k1" },
		{ (char *)"Tags.member.1.Value", (char *)"v1" },
		{ (char *)"Tags.member.2.Key", (char *)"k2" },
		{ (char *)"Tags.member.2.Value", (char *)"v2" },
	};
	json_t *in = NULL;
	char err[1024];
	assert_int_equal(dd_model_bind_query(op, form, 7, &in, err, sizeof err), 0);
	assert_string_equal(json_string_value(json_object_get(in, "RoleName")), "r1");
	assert_int_equal(json_array_size(json_object_get(in, "Tags")), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(in, "Tags"), 1), "Value")), "v2");
	json_decref(in);
	/* a missing required member */
	assert_int_equal(dd_model_bind_query(op, form, 2, &in, err, sizeof err), DD_EINVAL);
	assert_non_null(strstr(err, "AssumeRolePolicyDocument"));

	json_t *out = json_pack("{s:{s:s, s:f, s:[{s:s,s:s}]}}", "Role", "RoleName", "r<1>", "CreateDate", 1704164645.0,
				"Tags", "Key", "k", "Value", "v");
	struct dd_buf b;
	dd_buf_init(&b, 0);
	assert_int_equal(dd_model_xml_response(m, op, out, "req-1", &b), 0);
	assert_non_null(strstr(b.data, "<CreateRoleResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><CreateRoleResult><Role>"));
	assert_non_null(strstr(b.data, "<RoleName>r&lt;1&gt;</RoleName>"));
	assert_non_null(strstr(b.data, "<CreateDate>2024-01-02T03:04:05Z</CreateDate>"));
	assert_non_null(strstr(b.data, "<Tags><member><Key>k</Key><Value>v</Value></member></Tags>"));
	assert_non_null(strstr(b.data, "<RequestId>req-1</RequestId>"));
	dd_buf_free(&b);
	json_decref(out);
}

static void creds_parse(void **state)
{
	(void)state;
	char path[] = "/tmp/ddcredsXXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	const char *text = "# comment\n[a]\naws_access_key_id = AK1\naws_secret_access_key = s/1+x\naccount_id = 111111111111\n"
			   "region = ignored\n\n[b]\naws_access_key_id=AK2\naws_secret_access_key=s2\naccount_id=222222222222\n";
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	struct dd_creds c;
	char err[512];
	assert_int_equal(dd_creds_load(path, &c, err, sizeof err), 0);
	assert_int_equal(c.n, 2);
	assert_string_equal(dd_creds_find(&c, "AK2")->account, "222222222222");
	assert_string_equal(dd_creds_find(&c, "AK1")->secret, "s/1+x");
	assert_null(dd_creds_find(&c, "AK3"));
	dd_creds_free(&c);
	FILE *f = fopen(path, "w");
	fputs("[a]\naws_access_key_id = AK1\naws_secret_access_key = s\naccount_id = 12\n", f);
	fclose(f);
	assert_int_equal(dd_creds_load(path, &c, err, sizeof err), DD_EINVAL);
	assert_non_null(strstr(err, "12 digits"));
	f = fopen(path, "w");
	fputs("[a]\naws_access_key_id = AK1\n", f);
	fclose(f);
	assert_int_equal(dd_creds_load(path, &c, err, sizeof err), DD_EINVAL);
	unlink(path);
	/* generation: mode 0600, never overwrites */
	assert_int_equal(dd_creds_generate(path, &c, err, sizeof err), 0);
	assert_int_equal(c.n, 1);
	assert_int_equal(strlen(c.items[0].account), 12);
	dd_creds_free(&c);
	assert_int_equal(dd_creds_generate(path, &c, err, sizeof err), DD_EIO);
	unlink(path);
}

static void tokens_and_decoding(void **state)
{
	(void)state;
	char *t = dd_page_token_make("thing/with:odd chars");
	char key[128];
	assert_int_equal(dd_page_token_parse(t, key, sizeof key), 0);
	assert_string_equal(key, "thing/with:odd chars");
	free(t);
	assert_int_equal(dd_page_token_parse("garbage!", key, sizeof key), DD_EINVAL);
	assert_int_equal(dd_page_token_parse("dGVzdA==", key, sizeof key), DD_EINVAL); /* "test": not ours */
	char *d = dd_uri_decode("a%2Fb+c", 7, false);
	assert_string_equal(d, "a/b+c");
	free(d);
	d = dd_uri_decode("a%2Fb+c", 7, true);
	assert_string_equal(d, "a/b c");
	free(d);
	assert_null(dd_uri_decode("%zz", 3, false));
	assert_null(dd_uri_decode("%2", 2, false));
	assert_null(dd_uri_decode("%00", 3, false));
}

/* dd_json_write gives json_dumps(JSON_COMPACT | JSON_REAL_PRECISION(17))'s text byte for
 * byte: fixed cases, then random documents (control characters, quotes, backslashes,
 * multi-byte UTF-8, reals, nesting), and NULL where jansson fails (invalid UTF-8). */
static json_t *random_value(unsigned *seed, int depth)
{
	static const char *pieces[] = { "a", "Z", "\"", "\\", "/", "\n", "\t", "\b", "\f", "\r", "\x01", "\x1f",
					 "\x7f", " ", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "{", "}", ":" };
	int kind = depth > 3 ? (int)(rand_r(seed) % 5) : (int)(rand_r(seed) % 7);
	switch (kind) {
	case 0: {
		char s[64] = "";
		int n = (int)(rand_r(seed) % 8);
		for (int i = 0; i < n; i++)
			strcat(s, pieces[rand_r(seed) % (sizeof pieces / sizeof pieces[0])]);
		return json_string(s);
	}
	case 1:
		return json_integer((json_int_t)rand_r(seed) * (rand_r(seed) % 2 ? -1 : 1) * 100003);
	case 2:
		return json_real(((double)rand_r(seed) - RAND_MAX / 2.0) / (double)(rand_r(seed) % 1000 + 1) *
				 (rand_r(seed) % 3 ? 1.0 : 1e300));
	case 3:
		return rand_r(seed) % 3 ? json_true() : rand_r(seed) % 2 ? json_false() : json_null();
	case 4:
		return json_integer(0);
	case 5: {
		json_t *a = json_array();
		int n = (int)(rand_r(seed) % 5);
		for (int i = 0; i < n; i++)
			json_array_append_new(a, random_value(seed, depth + 1));
		return a;
	}
	default: {
		json_t *o = json_object();
		int n = (int)(rand_r(seed) % 5);
		for (int i = 0; i < n; i++) {
			char k[16];
			snprintf(k, sizeof k, "k%u\t\"%d", rand_r(seed) % 100, i);
			json_object_set_new(o, k, random_value(seed, depth + 1));
		}
		return o;
	}
	}
}

static void assert_writes_as_jansson(const json_t *v)
{
	char *want = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT | JSON_REAL_PRECISION(17));
	size_t len = 0;
	char *got = dd_json_write(v, &len);
	if (!want) {
		assert_null(got);
		return;
	}
	assert_non_null(got);
	assert_string_equal(got, want);
	assert_int_equal(len, strlen(want));
	free(want);
	free(got);
}

static void json_write_matches_jansson(void **state)
{
	(void)state;
	json_t *fixed = json_pack("{s:s, s:i, s:f, s:f, s:f, s:b, s:n, s:[s, i, {}], s:{}}", "thingName", "t\u00e9\"\\\n",
				  "version", 7, "r1", 1.0, "r2", 0.1, "r3", 1e300, "ok", 1, "none", "list", "x", -3,
				  "empty");
	assert_non_null(fixed);
	assert_writes_as_jansson(fixed);
	json_decref(fixed);
	json_t *nul = json_stringn("a\0b", 3);
	assert_writes_as_jansson(nul);
	json_decref(nul);
	json_t *bad = json_stringn_nocheck("\xff\xfe", 2); /* not UTF-8: jansson fails, so do we */
	assert_writes_as_jansson(bad);
	json_decref(bad);
	json_t *surrogate = json_stringn_nocheck("\xed\xa0\x80", 3);
	assert_writes_as_jansson(surrogate);
	json_decref(surrogate);
	unsigned seed = 12345;
	for (int i = 0; i < 2000; i++) {
		json_t *v = random_value(&seed, 0);
		assert_writes_as_jansson(v);
		json_decref(v);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sigv4_botocore_vector),
		cmocka_unit_test(sigv4_rejects),
		cmocka_unit_test(sigv4_parse_errors),
		cmocka_unit_test(sigv4_presigned),
		cmocka_unit_test(sigv4_date_header_and_repeated_header),
		cmocka_unit_test(sigv4_normalised_path),
		cmocka_unit_test(sigv4_query_sort),
		cmocka_unit_test(sigv4_strict_parse),
		cmocka_unit_test(creds_mode_and_dirlock),
		cmocka_unit_test(model_route_and_bind),
		cmocka_unit_test(model_route_any_iot_index),
		cmocka_unit_test(model_route_index),
		cmocka_unit_test(model_query_binding_and_xml),
		cmocka_unit_test(creds_parse),
		cmocka_unit_test(tokens_and_decoding),
		cmocka_unit_test(json_write_matches_jansson),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	dd_models_free();
	return rc;
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the server layer's pure parts: SigV4 against a vector computed by botocore,
 * the skew window, the Authorization parser; the model-driven binder and validator;
 * credentials parsing; paging tokens; percent-decoding.
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

#include "dd/buf.h"
#include "dd/ctx.h"
#include "server/dd_creds.h"
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sigv4_botocore_vector),
		cmocka_unit_test(sigv4_rejects),
		cmocka_unit_test(sigv4_parse_errors),
		cmocka_unit_test(model_route_and_bind),
		cmocka_unit_test(model_query_binding_and_xml),
		cmocka_unit_test(creds_parse),
		cmocka_unit_test(tokens_and_decoding),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	dd_models_free();
	return rc;
}

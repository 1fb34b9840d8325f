/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Regression tests for what the libFuzzer targets in fuzz/ found: each test replays the
 * reduced input of one finding (kept also in the target's seed corpus) through the same
 * entry point and asserts the fixed behaviour.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "api/dd_api_common.h"
#include "dd/service.h"
#include "server/dd_api.h"
#include "server/dd_sigv4.h"

#define T0 1704164645 /* 2024-01-02T03:04:05Z */
#define SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"

/* A service on a fresh data directory and one access key, for requests through
 * dd_api_handle exactly as fuzz/fuzz_api.c sends them. */
struct api_env {
	char dir[64];
	struct dd_service svc;
	struct dd_cred cred;
	struct dd_creds creds;
	struct dd_api api;
};

static int64_t fixed_clock(void) { return T0; }

static int env_setup(void **state)
{
	static bool models;
	if (!models) {
		if (dd_models_load())
			return -1;
		models = true;
	}
	struct api_env *e = calloc(1, sizeof *e);
	snprintf(e->dir, sizeof e->dir, "/tmp/dd_fuzz_regress.XXXXXX");
	if (!mkdtemp(e->dir) || dd_service_init(&e->svc, e->dir))
		return -1;
	snprintf(e->cred.access_key, sizeof e->cred.access_key, "AKIDEXAMPLE");
	snprintf(e->cred.secret, sizeof e->cred.secret, SECRET);
	snprintf(e->cred.account, sizeof e->cred.account, "123456789012");
	e->creds.items = &e->cred;
	e->creds.n = 1;
	e->api = (struct dd_api){ .svc = &e->svc, .creds = &e->creds, .clock_s = fixed_clock };
	*state = e;
	return 0;
}

static int env_teardown(void **state)
{
	struct api_env *e = *state;
	dd_service_close(&e->svc);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", e->dir);
	if (system(cmd) != 0)
		return -1;
	free(e);
	return 0;
}

struct hdrs {
	const char *name[6];
	const char *value[6];
};

static const char *hdr(void *ud, const char *name)
{
	struct hdrs *h = ud;
	for (int i = 0; i < 6 && h->name[i]; i++)
		if (strcasecmp(h->name[i], name) == 0)
			return h->value[i];
	return NULL;
}

/* Signs and dispatches one request; content_type selects the protocol. */
static void send_signed(struct api_env *e, const char *service, const char *method, const char *path,
			const char *content_type, const char *body, struct dd_http_response *resp)
{
	struct hdrs h = { { "Host", "X-Amz-Date", "Content-Type", NULL },
			  { "127.0.0.1:7878", "20240102T030405Z", content_type, NULL } };
	struct dd_sigv4_request s = { .method = method, .raw_path = path, .header = hdr, .ud = &h,
				      .body = (const unsigned char *)body, .body_len = strlen(body) };
	char authz[1024];
	assert_int_equal(dd_sigv4_sign("AKIDEXAMPLE", SECRET, "us-east-1", service, "20240102T030405Z",
				       "content-type;host;x-amz-date", &s, authz, sizeof authz), 0);
	h.name[3] = "Authorization";
	h.value[3] = authz;
	struct dd_http_request r = { .method = method, .raw_path = path, .header = hdr, .ud = &h,
				     .body = (const unsigned char *)body, .body_len = strlen(body) };
	dd_api_handle(&e->api, &r, resp);
}

/* fuzz_dynquery: "attributes.x<=-1e" validated at CreateDynamicThingGroup (no thing, so no
 * attribute to compare) but failed to parse against every thing that has the attribute.
 * Whether a query parses never depends on the thing: since the fleet-indexing grammar
 * (core/registry/dd_index_query.h), a bound that is not a number compares as a string. */
static void dynquery_comparison_value_checked_without_thing(void **state)
{
	(void)state;
	char err[256];
	const char *q = "thingName:\"dev 1\" AND attributes.x<=-1e";
	assert_int_equal(dd__query_match(q, "", NULL, NULL, err, sizeof err), 0);
	json_t *attrs = json_pack("{s:s}", "x", "-20fa");
	assert_int_equal(dd__query_match(q, "dev 1", "type", attrs, err, sizeof err), 0); /* "-20fa" > "-1e" */
	json_decref(attrs);
	attrs = json_pack("{s:s}", "x", "-10");
	assert_int_equal(dd__query_match(q, "dev 1", "type", attrs, err, sizeof err), 1); /* "-10" < "-1e" */
	json_decref(attrs);
	/* a numeric comparison still matches on the value and not without the attribute */
	attrs = json_pack("{s:s}", "x", "-2000");
	assert_int_equal(dd__query_match("attributes.x<=-1e3", "t", NULL, attrs, err, sizeof err), 1);
	assert_int_equal(dd__query_match("attributes.x<=-1e3", "t", NULL, NULL, err, sizeof err), 0);
	assert_int_equal(dd__query_match("thingTypeName>abc", "t", NULL, NULL, err, sizeof err), 0);
	assert_int_equal(dd__query_match("thingTypeName>abc", "t", "abd", NULL, err, sizeof err), 1);
	/* what still fails does so whatever the thing, with the reason */
	assert_int_equal(dd__query_match("attributes.x<=\"-1e", "", NULL, NULL, err, sizeof err), DD_EINVAL);
	assert_non_null(strstr(err, "unterminated quoted value"));
	assert_int_equal(dd__query_match("attributes.x<=\"-1e", "t", NULL, attrs, err, sizeof err), DD_EINVAL);
	json_decref(attrs);
}

/* fuzz_api: an awsQuery Action the server does not serve (IAM CreateUser then, now CreateLoginProfile) was answered
 * InvalidAction with a message formatted from the freed form (heap use-after-free). */
static void api_invalid_action_names_the_action(void **state)
{
	struct api_env *e = *state;
	struct dd_http_response resp;
	send_signed(e, "iam", "POST", "/", "application/x-www-form-urlencoded; charset=utf-8",
		    "Action=CreateLoginProfile&Version=2010-05-08&UserName=u", &resp);
	assert_int_equal(resp.status, 400);
	assert_non_null(resp.body);
	assert_non_null(strstr(resp.body, "<Code>InvalidAction</Code>"));
	assert_non_null(strstr(resp.body, "Could not find operation CreateLoginProfile for version"));
	free(resp.body);
}

/* POST /role-service-usage with a non-integer service value formatted the service name
 * from the freed body into the error (issue 14 item 1; reachable from fuzz_api). */
static void role_service_usage_error_names_the_service(void **state)
{
	struct api_env *e = *state;
	struct dd_http_response resp;
	send_signed(e, "iot", "POST", "/role-service-usage", "application/json",
		    "{\"roleArn\": \"arn:aws:iam::123456789012:role/r\", \"services\": {\"s3-object-lambda\": \"x\"}}", &resp);
	assert_int_equal(resp.status, 400);
	assert_non_null(resp.body);
	assert_non_null(strstr(resp.body, "services.s3-object-lambda must be epoch milliseconds."));
	free(resp.body);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(dynquery_comparison_value_checked_without_thing),
		cmocka_unit_test_setup_teardown(api_invalid_action_names_the_action, env_setup, env_teardown),
		cmocka_unit_test_setup_teardown(role_service_usage_error_names_the_service, env_setup, env_teardown),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	dd_models_free();
	return rc;
}

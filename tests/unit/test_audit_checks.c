/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the 17 audit checks (src/core/audit/dd_audit_checks.c): the check table
 * against spec/AUDIT.md (names, aliases, severities, resource types, reason codes,
 * mitigation types, thresholds, the audit role's reads against AWSIoTDeviceDefenderAudit),
 * name lookup and resource keys, and every check run through the engine's test entry
 * point: for each check a compliant and a noncompliant resource, with the total, each
 * finding's resource identifier, reason code, sentence and related resources asserted;
 * and all checks run together (shared certificate passes) against each run alone. The
 * fixture is built through the API (dd_api_call, the connection-events route) and the
 * audit store's typed functions, except certificates and CRLs, which are still written
 * with SQL: their facts (ROCA, Debian, exact validity, CRL entries) need the certificate
 * store's typed insert.
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

#include "core/audit/dd_audit_checks.h"
#include "core/audit/dd_audit_engine.h"
#include "dd/iam.h"
#include "dd/policy.h"
#include "dd/service.h"
#include "dd/store.h"
#include "server/dd_api.h"
#include "server/dd_model.h"
#include "store/dd_store_audit.h"
#include "store/dd_store_certs.h"
#include "store/dd_store_crl.h"

#define ACCT "123456789012"
#define ACCT_B "210987654321"   /* logging compliant; role alias without usage data */
#define ACCT_C "111122223333"   /* nothing configured */
#define ACCT_D "444455556666"   /* v1 logging only */
#define ACCT_E "777788889999"   /* large connection groups */
/* Regional rows are keyed by "<account>/<region>" (dd/ctx.h); the checks run in us-east-1. */
#define IN_REGION "/us-east-1"
#define DAY (86400000LL)
#define HOUR (3600000LL)
#define NOW (1700000000000LL)   /* 2023-11-14T22:13:20Z */

static struct dd_service svc;
static char tmpdir[256];

/* ---- helpers ------------------------------------------------------------------------ */

/* 64 copies of c: a certificate id (rotating static buffers). */
static const char *hex64(char c)
{
	static char bufs[16][65];
	static int next;
	char *b = bufs[next++ % 16];
	memset(b, c, 64);
	b[64] = '\0';
	return b;
}

/* Calls an API operation as account in us-east-1 through the registry (dd_api_call) and
 * fails the test unless it succeeds. in is a JSON text; the output is returned (or NULL). */
static json_t *api(const char *account, const char *service, const char *op, const char *in_text)
{
	json_error_t je;
	json_t *in = json_loads(in_text, 0, &je);
	if (!in)
		fail_msg("bad JSON for %s: %s\n%s", op, je.text, in_text);
	json_t *out = NULL;
	char err[1024];
	int rc = dd_api_call(&svc, account, "us-east-1", service, op, in, &out, err, sizeof err);
	json_decref(in);
	if (rc)
		fail_msg("%s %s failed: %s\n%s", service, op, err, in_text);
	return out;
}

static void apif(const char *account, const char *service, const char *op, const char *fmt, ...) DD_PRINTF(4, 5);
static void apif(const char *account, const char *service, const char *op, const char *fmt, ...)
{
	char buf[8192];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	assert_true(n > 0 && (size_t)n < sizeof buf);
	json_decref(api(account, service, op, buf));
}

/* POSTs body to one of the ingestion extension routes (/connection-events) as
 * account in us-east-1 and fails the test unless it succeeds. */
static void raw_post(const char *account, const char *path, const char *body)
{
	const struct dd_raw_route *route = NULL;
	for (const struct dd_raw_route *r = dd_iot_ingest_raw_routes; r->path; r++)
		if (strcmp(r->method, "POST") == 0 && strcmp(r->path, path) == 0)
			route = r;
	assert_non_null(route);
	struct dd_ctx c = { .svc = &svc, .db = dd_store_db(svc.store), .account = account, .region = "us-east-1",
			    .request_id = "test", .now_ms = dd_time_now_ms() };
	assert_int_equal(dd_ctx_set_account_region(&c), 0);
	json_t *out = NULL;
	if (route->fn(&c, body, strlen(body), &out))
		fail_msg("POST %s failed: %s", path, c.err_msg);
	json_decref(out);
}

/* Registers a certificate with the given X.509 facts through the certificate store's typed
 * insert (the facts come from no real PEM, so RegisterCertificate cannot make them). */
static void add_cert(bool ca, char idc, const char *status, const char *subject, const char *issuer,
		     const char *ca_id, const char *serial, int64_t not_before, int64_t not_after, int roca, int debian,
		     bool self_signed)
{
	struct dd_store_certs_row r = {
		.id = hex64(idc), .status = status, .ca_id = ca ? NULL : ca_id, .mode = "DEFAULT", .owner = ACCT,
		.created_ms = NOW - 400 * DAY, .generation_id = "g", .pem = "PEM",
		.f = { .subject = subject, .issuer = issuer, .subject_cn = "cn", .serial = serial,
		       .not_before_ms = not_before, .not_after_ms = not_after, .key_type = "RSA", .key_bits = 2048,
		       .is_ca = ca, .self_signed = self_signed, .roca = roca, .debian = debian, .facts_version = 1 },
	};
	assert_int_equal(dd_store_certs_insert(dd_store_db(svc.store), ACCT IN_REGION,
					       ca ? DD_STORE_CERTS_CA : DD_STORE_CERTS_DEVICE, &r), 0);
}

/* Stores a CRL of CA ca_id revoking one serial through the CRL store's typed put. */
static void add_crl(const char *ca_id, const char *issuer, const char *serial)
{
	struct dd_store_crl_row r = { .ca_id = ca_id, .issuer = issuer, .this_update_ms = NOW - DAY,
				      .next_update_ms = NOW + 6 * DAY, .source = "import", .stored_ms = 0,
				      .der = "", .der_len = 1 };
	const char *serials[] = { serial };
	assert_int_equal(dd_store_crl_put(dd_store_db(svc.store), ACCT IN_REGION, &r, serials, 1), 0);
}

/* Connection events are queued per call site and sent in batches through the registry's
 * event ingestion route (POST /connection-events) by flush_events. */
static char *event_buf;
static size_t event_len, event_cap;
static char event_account[16];

static void flush_events(void)
{
	if (event_len) {
		raw_post(event_account, "/connection-events", event_buf);
		event_len = 0;
		event_buf[0] = '\0';
	}
}

static void add_event(const char *account, const char *event, const char *client, const char *cert, int64_t ts,
		      const char *reason)
{
	if (event_len && strcmp(event_account, account) != 0)
		flush_events();
	snprintf(event_account, sizeof event_account, "%s", account);
	char line[512];
	int n = snprintf(line, sizeof line, "{\"event\":\"%s\",\"clientId\":\"%s\",\"certificateId\":\"%s\",\"timestamp\":%lld,"
			 "\"sourceIp\":\"10.0.0.1\"%s%s%s}\n", event, client, cert, (long long)ts, reason ? ",\"reason\":\"" : "",
			 reason ? reason : "", reason ? "\"" : "");
	assert_true(n > 0 && (size_t)n < sizeof line);
	if (event_len + (size_t)n + 1 > event_cap) {
		event_cap = (event_len + (size_t)n + 1) * 2;
		event_buf = realloc(event_buf, event_cap);
		assert_non_null(event_buf);
	}
	memcpy(event_buf + event_len, line, (size_t)n + 1);
	event_len += (size_t)n;
}

#define TRUST_IOT "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"Service\":" \
	"\"iot.amazonaws.com\"},\"Action\":\"sts:AssumeRole\"}]}"

/* A JSON string literal of s (quotes and backslashes escaped), in a rotating buffer. */
static const char *jstr(const char *text)
{
	static char *bufs[4];
	static int next;
	json_t *j = json_string(text);
	char *d = json_dumps(j, JSON_ENCODE_ANY);
	json_decref(j);
	assert_non_null(d);
	free(bufs[next % 4]);
	bufs[next % 4] = d;
	return bufs[next++ % 4];
}

static void add_role(const char *account, const char *name, const char *document)
{
	apif(account, "iam", "CreateRole", "{\"RoleName\": \"%s\", \"AssumeRolePolicyDocument\": %s}", name, jstr(TRUST_IOT));
	if (document)
		apif(account, "iam", "PutRolePolicy", "{\"RoleName\": \"%s\", \"PolicyName\": \"p\", \"PolicyDocument\": %s}",
		     name, jstr(document));
}

/* Policy versions are created in order: the first makes the policy, later ones add versions;
 * the default one is set last. */
static void add_policy(const char *name, int default_version, int version, const char *document)
{
	if (version == 1)
		apif(ACCT, "iot", "CreatePolicy", "{\"policyName\": \"%s\", \"policyDocument\": %s}", name, jstr(document));
	else
		apif(ACCT, "iot", "CreatePolicyVersion", "{\"policyName\": \"%s\", \"policyDocument\": %s, \"setAsDefault\": %s}",
		     name, jstr(document), version == default_version ? "true" : "false");
}

struct run {
	json_t *findings;
	int64_t total;
	bool waiting;
};

static void run_check(const char *account, const char *check, json_t *config, struct run *out)
{
	memset(out, 0, sizeof *out);
	char account_region[64];
	snprintf(account_region, sizeof account_region, "%s" IN_REGION, account);
	int rc = dd_audit_engine_run_check_for_test(&svc, account_region, check, config, NOW, &out->findings, &out->total,
					      &out->waiting);
	assert_int_equal(rc, 0);
	assert_non_null(out->findings);
}

static void run_free(struct run *r)
{
	json_decref(r->findings);
}

/* The finding whose resource identifier equals ident (JSON text) with this code. */
static json_t *find(const struct run *r, const char *type, const char *ident, const char *code)
{
	json_t *want = json_loads(ident, 0, NULL);
	assert_non_null(want);
	char *wk = dd_audit_checks_resource_key(want);
	json_decref(want);
	json_t *hit = NULL;
	size_t i;
	json_t *f;
	json_array_foreach(r->findings, i, f) {
		json_t *res = json_object_get(f, "nonCompliantResource");
		char *k = dd_audit_checks_resource_key(json_object_get(res, "resourceIdentifier"));
		bool same = k && strcmp(k, wk) == 0 &&
			    strcmp(json_string_value(json_object_get(f, "reasonForNonComplianceCode")), code) == 0;
		free(k);
		if (same) {
			assert_string_equal(json_string_value(json_object_get(res, "resourceType")), type);
			hit = f;
			break;
		}
	}
	if (!hit) {
		char *dump = json_dumps(r->findings, JSON_INDENT(1));
		fail_msg("no %s finding for %s %s in:\n%s", code, type, wk, dump);
	}
	free(wk);
	return hit;
}

static const char *reason(json_t *f)
{
	return json_string_value(json_object_get(f, "reasonForNonCompliance"));
}

static json_t *related(json_t *f)
{
	return json_object_get(f, "relatedResources");
}

static char *cert_ident(const char *key, char c)
{
	static char buf[4][160];
	static int next;
	char *b = buf[next++ % 4];
	snprintf(b, sizeof buf[0], "{\"%s\": \"%s\"}", key, hex64(c));
	return b;
}
#define DEV(c) cert_ident("deviceCertificateId", c)
#define CA(c) cert_ident("caCertificateId", c)

/* Related resource i: its type, identifier key/value and additionalInfo times (NULL = absent). */
static void assert_related(json_t *rel, size_t i, const char *type, const char *key, const char *value,
			   const char *conn, const char *disc)
{
	json_t *x = json_array_get(rel, i);
	assert_non_null(x);
	assert_string_equal(json_string_value(json_object_get(x, "resourceType")), type);
	assert_string_equal(json_string_value(json_object_get(json_object_get(x, "resourceIdentifier"), key)), value);
	json_t *info = json_object_get(x, "additionalInfo");
	json_t *c = json_object_get(info, "CONNECTION_TIME"), *d = json_object_get(info, "DISCONNECTION_TIME");
	if (conn)
		assert_string_equal(json_string_value(c), conn);
	else
		assert_null(c);
	if (disc)
		assert_string_equal(json_string_value(d), disc);
	else
		assert_null(d);
}

static const char *ms(int64_t v)
{
	static char buf[8][24];
	static int next;
	char *b = buf[next++ % 8];
	snprintf(b, sizeof buf[0], "%lld", (long long)v);
	return b;
}

/* ---- fixture ------------------------------------------------------------------------ */

#define DOC_GOOD "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"iot:Connect\"," \
	"\"Resource\":\"arn:aws:iot:us-east-1:" ACCT ":client/${iot:Connection.Thing.ThingName}\"},{\"Effect\":"   \
	"\"Allow\",\"Action\":\"iot:Publish\",\"Resource\":\"arn:aws:iot:us-east-1:" ACCT ":topic/sensors/*\"}]}"
#define DOC_STAR "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"iot:*\",\"Resource\":\"*\"}]}"
#define DOC_DENY_WILD "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"iot:Connect\"," \
	"\"Resource\":\"arn:aws:iot:us-east-1:" ACCT ":client/${iot:Connection.Thing.ThingName}\"},{\"Effect\":"        \
	"\"Deny\",\"Action\":\"iot:Publish\",\"Resource\":\"arn:aws:iot:us-east-1:" ACCT ":topic/secret/#\"}]}"
/* Allows subscribing to every data topic, means to deny data/secret, but Receive on it stays allowed. */
#define DOC_BYPASS "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"iot:Subscribe\"," \
	"\"Resource\":\"arn:aws:iot:us-east-1:" ACCT ":topicfilter/data/*\"},{\"Effect\":\"Allow\",\"Action\":"      \
	"\"iot:Receive\",\"Resource\":\"arn:aws:iot:us-east-1:" ACCT ":topic/data/*\"},{\"Effect\":\"Deny\","         \
	"\"Action\":\"iot:Subscribe\",\"Resource\":\"arn:aws:iot:us-east-1:" ACCT ":topicfilter/data/secret\"}]}"

#define IAM_ADMIN "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":[\"iot:CreateThing\"," \
	"\"iot:DescribeThing\",\"iot:ListCACertificates\"],\"Resource\":\"*\"}]}"
#define IAM_DEVICE "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"iot:Connect\"," \
	"\"Resource\":\"arn:aws:iot:us-east-1:" ACCT ":client/${cognito-identity.amazonaws.com:sub}\"}]}"
#define IAM_S3_BROAD "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":[\"s3:*\"," \
	"\"iam:GetRole\",\"dynamodb:PutItem\"],\"Resource\":\"*\"}]}"
#define IAM_S3_NARROW "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"s3:GetObject\"," \
	"\"Resource\":\"arn:aws:s3:::firmware/*\"}]}"

#define ROLE(n) "arn:aws:iam::" ACCT ":role/" n

static void fill_certs(void)
{
	/* CA certificates: root R ('a'), intermediate I ('b') revoked by R's CRL, expiring in
	 * 20 days and Debian-weak; an INACTIVE expired CA ('9') that no check looks at. */
	add_cert(true, 'a', "ACTIVE", "CN=Root", "CN=Root", NULL, "01", NOW - 1000 * DAY, NOW + 3650 * DAY, 1, 1, true);
	add_cert(true, 'b', "ACTIVE", "CN=Inter", "CN=Root", NULL, "0a", NOW - 1000 * DAY, NOW + 20 * DAY, 1, 2, false);
	add_cert(true, '9', "INACTIVE", "CN=Old", "CN=Old", NULL, "02", NOW - 1000 * DAY, NOW - DAY, 2, 2, true);
	const char *R = hex64('a'), *I = hex64('b');
	add_crl(R, "CN=Root", "0a");
	add_crl(I, "CN=Inter", "33");

	/* device certificates */
	add_cert(false, '1', "ACTIVE", "CN=ok", "CN=Root", R, "11", NOW - 10 * DAY, NOW + 1000 * DAY, 1, 1, false);
	add_cert(false, '2', "ACTIVE", "CN=soon", "CN=Root", R, "12", NOW - 100 * DAY, NOW + 10 * DAY, 1, 1, false);
	add_cert(false, '3', "PENDING_TRANSFER", "CN=expired", "CN=Root", R, "13", NOW - 200 * DAY, NOW - DAY, 1, 0,
		 false);
	add_cert(false, '4', "ACTIVE", "CN=old", "CN=Root", R, "14", NOW - 400 * DAY, NOW + 400 * DAY, 1, 1, false);
	add_cert(false, '5', "INACTIVE", "CN=off", "CN=Root", R, "15", NOW - 900 * DAY, NOW - DAY, 2, 2, false);
	add_cert(false, '6', "ACTIVE", "CN=weak", "CN=Root", R, "16", NOW - 10 * DAY, NOW + 1000 * DAY, 2, 2, false);
	add_cert(false, '7', "ACTIVE", "CN=revoked", "CN=Inter", I, "33", NOW - 10 * DAY, NOW + 1000 * DAY, 1, 1, false);
	add_cert(false, '8', "ACTIVE", "CN=under-inter", "CN=Inter", I, "34", NOW - 10 * DAY, NOW + 1000 * DAY, 1, 1,
		 false);
	add_cert(false, 'f', "PENDING_TRANSFER", "CN=pt-inter", "CN=Inter", I, "35", NOW - 10 * DAY, NOW + 1000 * DAY,
		 1, 1, false);
}

static void fill_policies(void)
{
	add_policy("good", 1, 1, DOC_GOOD);
	add_policy("star", 2, 1, DOC_GOOD);
	add_policy("star", 2, 2, DOC_STAR);
	add_policy("denywild", 1, 1, DOC_DENY_WILD);
	add_policy("bypass", 1, 1, DOC_BYPASS);
}

/* The identity pool ids CreateIdentityPool gave p1 and p2. */
static char pool1[80], pool2[80];

static void add_pool(const char *name, const char *auth_role, const char *unauth_role, char *id_out, size_t idlen)
{
	char in[512];
	snprintf(in, sizeof in, "{\"IdentityPoolName\": \"%s\", \"AllowUnauthenticatedIdentities\": true}", name);
	json_t *out = api(ACCT, "cognito-identity", "CreateIdentityPool", in);
	const char *id = json_string_value(json_object_get(out, "IdentityPoolId"));
	assert_non_null(id);
	if (id_out)
		snprintf(id_out, idlen, "%s", id);
	if (auth_role)
		apif(ACCT, "cognito-identity", "SetIdentityPoolRoles",
		     "{\"IdentityPoolId\": \"%s\", \"Roles\": {\"authenticated\": \"%s\", \"unauthenticated\": \"%s\"}}", id,
		     auth_role, unauth_role);
	json_decref(out);
}

static void add_role_alias(const char *account, const char *alias, const char *role_arn)
{
	apif(account, "iot", "CreateRoleAlias", "{\"roleAlias\": \"%s\", \"roleArn\": \"%s\", \"credentialDurationSeconds\": 3600}",
	     alias, role_arn);
}

static void fill_roles(void)
{
	add_role(ACCT, "cog-admin", IAM_ADMIN);
	add_role(ACCT, "cog-device", IAM_DEVICE);
	add_pool("p1", ROLE("cog-admin"), ROLE("cog-device"), pool1, sizeof pool1);
	add_pool("p2", ROLE("cog-device"), ROLE("cog-admin"), pool2, sizeof pool2);
	add_pool("p3", NULL, NULL, NULL, 0);

	add_role(ACCT, "alias-broad", IAM_S3_BROAD);
	add_role(ACCT, "alias-narrow", IAM_S3_NARROW);
	add_role(ACCT, "alias-nodata", IAM_S3_NARROW);
	add_role_alias(ACCT, "ra-broad", ROLE("alias-broad"));
	add_role_alias(ACCT, "ra-narrow", ROLE("alias-narrow"));
	add_role_alias(ACCT, "ra-nodata", ROLE("alias-nodata"));
	/* usage records through the audit store (what POST /role-service-usage stores) */
	struct dd_db *db = dd_store_db(svc.store);
	const char *broad[] = { "s3", "dynamodb" }, *narrow[] = { "s3" };
	int64_t broad_ms[] = { NOW - 5 * DAY, NOW - 400 * DAY }, narrow_ms[] = { NOW - DAY };
	assert_int_equal(dd_db_begin_write(db), 0);
	assert_int_equal(dd_store_audit_role_usage_replace(db, ACCT IN_REGION, ROLE("alias-broad"), broad, broad_ms, 2), 0);
	assert_int_equal(dd_store_audit_role_usage_replace(db, ACCT IN_REGION, ROLE("alias-narrow"), narrow, narrow_ms, 1), 0);
	assert_int_equal(dd_db_commit(db), 0);

	add_role(ACCT_B, "lonely", IAM_S3_NARROW);
	add_role_alias(ACCT_B, "ra-lonely", "arn:aws:iam::" ACCT_B ":role/lonely");
}

static void fill_logging(void)
{
	static const char fmt_v1[] = "{\"loggingOptionsPayload\": {\"roleArn\": \"arn:aws:iam::%s:role/log\", \"logLevel\": \"%s\"}}";
	static const char fmt_v2[] = "{\"roleArn\": \"arn:aws:iam::%s:role/log\", \"defaultLogLevel\": \"%s\", \"disableAllLogs\": %s}";
	apif(ACCT, "iot", "SetLoggingOptions", fmt_v1, ACCT, "DISABLED");
	apif(ACCT, "iot", "SetV2LoggingOptions", fmt_v2, ACCT, "DISABLED", "false");
	apif(ACCT_B, "iot", "SetV2LoggingOptions", fmt_v2, ACCT_B, "INFO", "false");
	apif(ACCT_D, "iot", "SetLoggingOptions", fmt_v1, ACCT_D, "WARN");
	apif(ACCT_D, "iot", "SetV2LoggingOptions", fmt_v2, ACCT_D, "INFO", "true");
}

static void fill_events(void)
{
	const char *X = hex64('c'), *Y = hex64('d'), *Z = hex64('e'), *W = hex64('f');
	/* X: dev-a and dev-b overlap (dev-b still connected at task start); an earlier dev-a
	 * session does not overlap anything. */
	add_event(ACCT, "connect", "dev-a", X, NOW - 20 * DAY, NULL);
	add_event(ACCT, "disconnect", "dev-a", X, NOW - 19 * DAY, NULL);
	add_event(ACCT, "connect", "dev-a", X, NOW - 10 * HOUR, NULL);
	add_event(ACCT, "connect", "dev-b", X, NOW - 8 * HOUR, NULL);
	add_event(ACCT, "disconnect", "dev-a", X, NOW - 5 * HOUR, NULL);
	/* Y: one device, sequential sessions */
	add_event(ACCT, "connect", "solo", Y, NOW - 9 * HOUR, NULL);
	add_event(ACCT, "disconnect", "solo", Y, NOW - 8 * HOUR, NULL);
	add_event(ACCT, "connect", "solo", Y, NOW - 7 * HOUR, NULL);
	/* Z: an overlap before the window only */
	add_event(ACCT, "connect", "old1", Z, NOW - 40 * DAY, NULL);
	add_event(ACCT, "connect", "old2", Z, NOW - 40 * DAY + HOUR, NULL);
	add_event(ACCT, "disconnect", "old1", Z, NOW - 39 * DAY, NULL);
	add_event(ACCT, "disconnect", "old2", Z, NOW - 39 * DAY, NULL);
	/* W: w1 was connected when the window opened; w2 overlaps it */
	add_event(ACCT, "disconnect", "w1", W, NOW - 30 * DAY, NULL);
	add_event(ACCT, "connect", "w2", W, NOW - 30 * DAY - HOUR, NULL);
	add_event(ACCT, "disconnect", "w2", W, NOW - 29 * DAY, NULL);
	/* client ids: dup (takeover by another certificate), both (overlap without takeover),
	 * recon (same certificate reconnecting), clone (takeover by the same certificate) */
	add_event(ACCT, "connect", "dup", hex64('1'), NOW - 3 * HOUR, NULL);
	add_event(ACCT, "connect", "dup", hex64('2'), NOW - 2 * HOUR, NULL);
	add_event(ACCT, "disconnect", "dup", hex64('1'), NOW - 2 * HOUR, "takeover");
	add_event(ACCT, "connect", "both", hex64('3'), NOW - 5 * HOUR, NULL);
	add_event(ACCT, "connect", "both", hex64('4'), NOW - 4 * HOUR, NULL);
	add_event(ACCT, "disconnect", "both", hex64('4'), NOW - 3 * HOUR, NULL);
	add_event(ACCT, "disconnect", "both", hex64('3'), NOW - 1 * HOUR, NULL);
	add_event(ACCT, "connect", "recon", hex64('5'), NOW - 6 * HOUR, NULL);
	add_event(ACCT, "connect", "recon", hex64('5'), NOW - 5 * HOUR, NULL);
	add_event(ACCT, "connect", "clone", hex64('6'), NOW - 7 * HOUR, NULL);
	add_event(ACCT, "connect", "clone", hex64('6'), NOW - 6 * HOUR, NULL);
	add_event(ACCT, "disconnect", "clone", hex64('6'), NOW - 6 * HOUR, "takeover");
	/* after the task started: ignored */
	add_event(ACCT, "connect", "late", hex64('7'), NOW + HOUR, NULL);
	add_event(ACCT, "connect", "late", hex64('8'), NOW + HOUR, NULL);
	flush_events();
}

static int setup(void **state)
{
	(void)state;
	dd_log_set_level(DD_LOG_ERROR);
	snprintf(tmpdir, sizeof tmpdir, "/tmp/dd_test_audit_checks.XXXXXX");
	if (!mkdtemp(tmpdir))
		return -1;
	memset(&svc, 0, sizeof svc);
	if (dd_service_init(&svc, tmpdir) != 0 || dd_models_load() != 0)
		return -1;
	fill_certs();
	fill_policies();
	fill_roles();
	fill_logging();
	fill_events();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	dd_service_close(&svc);
	dd_models_free();
	free(event_buf);
	char cmd[400];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		return -1;
	return 0;
}

/* ---- the table ---------------------------------------------------------------------- */

struct expect {
	const char *name, *alias, *severity, *type;
	const char *codes[7];
	const char *mitigations[3];
};

/* spec/AUDIT.md "The 17 checks", in API-name order. */
static const struct expect spec[] = {
	{ "AUTHENTICATED_COGNITO_ROLE_OVERLY_PERMISSIVE_CHECK", NULL, "CRITICAL", "COGNITO_IDENTITY_POOL",
	  { "ALLOWS_BROAD_ACCESS_TO_IOT_THING_ADMIN_READ_ACTIONS", "ALLOWS_ACCESS_TO_IOT_NON_THING_ADMIN_ACTIONS",
	    "ALLOWS_ACCESS_TO_IOT_THING_ADMIN_WRITE_ACTIONS" }, { NULL } },
	{ "CA_CERTIFICATE_EXPIRING_CHECK", "CA_CERT_APPROACHING_EXPIRATION_CHECK", "MEDIUM", "CA_CERTIFICATE",
	  { "CERTIFICATE_APPROACHING_EXPIRATION", "CERTIFICATE_PAST_EXPIRATION" }, { "UPDATE_CA_CERTIFICATE" } },
	{ "CA_CERTIFICATE_KEY_QUALITY_CHECK", NULL, "CRITICAL", "CA_CERTIFICATE",
	  { "CERTIFICATE_KEY_VULNERABILITY_CVE-2017-15361", "CERTIFICATE_KEY_VULNERABILITY_CVE-2008-0166" },
	  { "UPDATE_CA_CERTIFICATE" } },
	{ "CONFLICTING_CLIENT_IDS_CHECK", NULL, "HIGH", "CLIENT_ID", { "DUPLICATE_CLIENT_ID_ACROSS_CONNECTIONS" },
	  { NULL } },
	{ "DEVICE_CERTIFICATE_AGE_CHECK", NULL, "LOW", "DEVICE_CERTIFICATE", { "CERTIFICATE_PAST_AGE_THRESHOLD" },
	  { "UPDATE_DEVICE_CERTIFICATE", "ADD_THINGS_TO_THING_GROUP" } },
	{ "DEVICE_CERTIFICATE_EXPIRING_CHECK", "DEVICE_CERT_APPROACHING_EXPIRATION_CHECK", "MEDIUM",
	  "DEVICE_CERTIFICATE", { "CERTIFICATE_APPROACHING_EXPIRATION", "CERTIFICATE_PAST_EXPIRATION" },
	  { "UPDATE_DEVICE_CERTIFICATE", "ADD_THINGS_TO_THING_GROUP" } },
	{ "DEVICE_CERTIFICATE_KEY_QUALITY_CHECK", NULL, "CRITICAL", "DEVICE_CERTIFICATE",
	  { "CERTIFICATE_KEY_VULNERABILITY_CVE-2017-15361", "CERTIFICATE_KEY_VULNERABILITY_CVE-2008-0166" },
	  { "UPDATE_DEVICE_CERTIFICATE", "ADD_THINGS_TO_THING_GROUP" } },
	{ "DEVICE_CERTIFICATE_SHARED_CHECK", NULL, "CRITICAL", "DEVICE_CERTIFICATE",
	  { "CERTIFICATE_SHARED_BY_MULTIPLE_DEVICES" }, { "UPDATE_DEVICE_CERTIFICATE", "ADD_THINGS_TO_THING_GROUP" } },
	{ "INTERMEDIATE_CA_REVOKED_FOR_ACTIVE_DEVICE_CERTIFICATES_CHECK", NULL, "CRITICAL", "DEVICE_CERTIFICATE",
	  { "INTERMEDIATE_CA_REVOKED_BY_ISSUER" }, { "UPDATE_DEVICE_CERTIFICATE", "ADD_THINGS_TO_THING_GROUP" } },
	{ "IOT_POLICY_OVERLY_PERMISSIVE_CHECK", "IOT_POLICY_UNRESTRICTED_CHECK", "CRITICAL", "IOT_POLICY",
	  { "ALLOWS_BROAD_ACCESS_TO_IOT_DATA_PLANE_ACTIONS" }, { "REPLACE_DEFAULT_POLICY_VERSION" } },
	{ "IOT_POLICY_POTENTIAL_MISCONFIGURATION_CHECK", NULL, "MEDIUM", "IOT_POLICY",
	  { "POLICY_CONTAINS_MQTT_WILDCARDS_IN_DENY_STATEMENT", "TOPIC_FILTERS_INTENDED_TO_DENY_ALLOWED_USING_WILDCARDS" },
	  { "REPLACE_DEFAULT_POLICY_VERSION" } },
	{ "IOT_ROLE_ALIAS_ALLOWS_ACCESS_TO_UNUSED_SERVICES_CHECK", NULL, "MEDIUM", "ROLE_ALIAS",
	  { "ALLOWS_ACCESS_TO_UNUSED_SERVICES" }, { NULL } },
	{ "IOT_ROLE_ALIAS_OVERLY_PERMISSIVE_CHECK", NULL, "CRITICAL", "ROLE_ALIAS",
	  { "ALLOWS_BROAD_ACCESS_TO_USED_SERVICES", "ALLOWS_ACCESS_TO_SECURITY_AUDITING_SERVICES",
	    "ALLOWS_BROAD_ACCESS_TO_IOT_THING_ADMIN_READ_ACTIONS", "ALLOWS_ACCESS_TO_IOT_NON_THING_ADMIN_ACTIONS",
	    "ALLOWS_ACCESS_TO_IOT_THING_ADMIN_WRITE_ACTIONS", "ALLOWS_BROAD_ACCESS_TO_IOT_DATA_PLANE_ACTIONS" },
	  { NULL } },
	{ "LOGGING_DISABLED_CHECK", NULL, "LOW", "ACCOUNT_SETTINGS", { "LOGGING_DISABLED" }, { "ENABLE_IOT_LOGGING" } },
	{ "REVOKED_CA_CERTIFICATE_STILL_ACTIVE_CHECK", "REVOKED_CA_CERT_CHECK", "CRITICAL", "CA_CERTIFICATE",
	  { "CERTIFICATE_REVOKED_BY_ISSUER" }, { "UPDATE_CA_CERTIFICATE" } },
	{ "REVOKED_DEVICE_CERTIFICATE_STILL_ACTIVE_CHECK", "REVOKED_DEVICE_CERT_CHECK", "MEDIUM", "DEVICE_CERTIFICATE",
	  { "CERTIFICATE_REVOKED_BY_ISSUER" }, { "UPDATE_DEVICE_CERTIFICATE", "ADD_THINGS_TO_THING_GROUP" } },
	{ "UNAUTHENTICATED_COGNITO_ROLE_OVERLY_PERMISSIVE_CHECK", NULL, "CRITICAL", "COGNITO_IDENTITY_POOL",
	  { "ALLOWS_ACCESS_TO_IOT_ADMIN_ACTIONS", "ALLOWS_BROAD_ACCESS_TO_IOT_DATA_PLANE_ACTIONS" }, { NULL } },
};

static void assert_list(const char *const *got, const char *const *want, size_t nwant, const char *what)
{
	size_t n = 0;
	while (got[n])
		n++;
	size_t w = 0;
	while (w < nwant && want[w])
		w++;
	if (n != w)
		fail_msg("%s: %zu entries, expected %zu", what, n, w);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(got[i], want[i]);
}

static void table_matches_spec(void **state)
{
	(void)state;
	assert_int_equal(dd_audit_ncheck, 17);
	assert_int_equal(sizeof spec / sizeof spec[0], 17);
	for (size_t i = 0; i < dd_audit_ncheck; i++) {
		const struct dd_audit_check *c = &dd_audit_checks[i];
		const struct expect *e = &spec[i];
		assert_string_equal(c->name, e->name);
		if (e->alias)
			assert_string_equal(c->alias, e->alias);
		else
			assert_null(c->alias);
		assert_string_equal(c->severity, e->severity);
		assert_string_equal(c->resource_type, e->type);
		assert_list(c->reason_codes, e->codes, 7, c->name);
		assert_list(c->mitigations, e->mitigations, 3, c->name);
		assert_non_null(c->fn);
		assert_non_null(c->reads);
		if (i > 0)
			assert_true(strcmp(dd_audit_checks[i - 1].name, c->name) < 0);
		bool conn = strcmp(c->name, "DEVICE_CERTIFICATE_SHARED_CHECK") == 0 ||
			    strcmp(c->name, "CONFLICTING_CLIENT_IDS_CHECK") == 0;
		assert_int_equal(c->uses_connections, conn);
	}
	const struct dd_audit_check *exp = dd_audit_checks_find("DEVICE_CERTIFICATE_EXPIRING_CHECK");
	assert_string_equal(exp->config_key, "CERT_EXPIRATION_THRESHOLD_IN_DAYS");
	assert_int_equal(exp->config_default, 30);
	assert_int_equal(exp->config_min, 30);
	assert_int_equal(exp->config_max, 3652);
	const struct dd_audit_check *age = dd_audit_checks_find("DEVICE_CERTIFICATE_AGE_CHECK");
	assert_string_equal(age->config_key, "CERT_AGE_THRESHOLD_IN_DAYS");
	assert_int_equal(age->config_default, 365);
	assert_int_equal(age->config_min, 30);
	assert_int_equal(age->config_max, 3652);
	for (size_t i = 0; i < dd_audit_ncheck; i++)
		if (&dd_audit_checks[i] != exp && &dd_audit_checks[i] != age)
			assert_null(dd_audit_checks[i].config_key);
}

/* Every read of every check is allowed by the AWS managed policy AWSIoTDeviceDefenderAudit. */
static void reads_allowed_by_managed_policy(void **state)
{
	(void)state;
	const struct dd_iam_managed_policy *m =
		dd_iam_managed_find("arn:aws:iam::aws:policy/service-role/AWSIoTDeviceDefenderAudit");
	assert_non_null(m);
	struct dd_policy *p = NULL;
	char err[DD_POLICY_ERRMSG_SIZE];
	assert_int_equal(dd_policy_compile(m->document, strlen(m->document), DD_POLICY_IAM, &p, err, sizeof err), 0);
	const struct dd_policy *const pols[1] = { p };
	for (size_t i = 0; i < dd_audit_ncheck; i++) {
		const struct dd_audit_check *c = &dd_audit_checks[i];
		assert_non_null(c->reads[0]);
		for (size_t k = 0; c->reads[k]; k++) {
			bool ok = false;
			assert_int_equal(dd_policy_role_allows(pols, 1, c->reads[k], "*", &ok), 0);
			if (!ok)
				fail_msg("%s reads %s, which AWSIoTDeviceDefenderAudit does not allow", c->name, c->reads[k]);
		}
	}
	dd_policy_free(p);
}

static void find_by_name_and_alias(void **state)
{
	(void)state;
	for (size_t i = 0; i < dd_audit_ncheck; i++) {
		assert_ptr_equal(dd_audit_checks_find(dd_audit_checks[i].name), &dd_audit_checks[i]);
		if (dd_audit_checks[i].alias)
			assert_ptr_equal(dd_audit_checks_find(dd_audit_checks[i].alias), &dd_audit_checks[i]);
	}
	assert_string_equal(dd_audit_checks_find("REVOKED_CA_CERT_CHECK")->name, "REVOKED_CA_CERTIFICATE_STILL_ACTIVE_CHECK");
	assert_string_equal(dd_audit_checks_find("IOT_POLICY_UNRESTRICTED_CHECK")->name, "IOT_POLICY_OVERLY_PERMISSIVE_CHECK");
	assert_null(dd_audit_checks_find(NULL));
	assert_null(dd_audit_checks_find(""));
	assert_null(dd_audit_checks_find("logging_disabled_check"));
	assert_null(dd_audit_checks_find("LOGGING_DISABLED_CHECK "));
	assert_null(dd_audit_checks_find("UNAUTHENTICATED_COGNITO_IDENTITY_UNRESTRICTED_ACCESS_CHECK"));
}

static void resource_key_is_canonical(void **state)
{
	(void)state;
	json_t *a = json_loads("{\"policyVersionIdentifier\": {\"policyVersionId\": \"2\", \"policyName\": \"p\"}}", 0, NULL);
	json_t *b = json_loads("{\"policyVersionIdentifier\":{\"policyName\":\"p\",\"policyVersionId\":\"2\"}}", 0, NULL);
	char *ka = dd_audit_checks_resource_key(a), *kb = dd_audit_checks_resource_key(b);
	assert_string_equal(ka, "{\"policyVersionIdentifier\":{\"policyName\":\"p\",\"policyVersionId\":\"2\"}}");
	assert_string_equal(ka, kb);
	free(ka);
	free(kb);
	json_decref(a);
	json_decref(b);
	json_t *c = json_pack("{s:s}", "clientId", "a\"b");
	char *kc = dd_audit_checks_resource_key(c);
	assert_string_equal(kc, "{\"clientId\":\"a\\\"b\"}");
	free(kc);
	json_decref(c);
	assert_null(dd_audit_checks_resource_key(NULL));
	json_t *s = json_string("x");
	assert_null(dd_audit_checks_resource_key(s));
	json_decref(s);
}

/* ---- certificate checks -------------------------------------------------------------- */

static void device_cert_expiring(void **state)
{
	(void)state;
	struct run r;
	run_check(ACCT, "DEVICE_CERTIFICATE_EXPIRING_CHECK", NULL, &r);
	/* ACTIVE or PENDING_TRANSFER: 1 2 3 4 6 7 8 f; INACTIVE 5 is not examined */
	assert_int_equal(r.total, 8);
	assert_false(r.waiting);
	assert_int_equal(json_array_size(r.findings), 2);
	json_t *f = find(&r, "DEVICE_CERTIFICATE", DEV('2'), "CERTIFICATE_APPROACHING_EXPIRATION");
	assert_string_equal(reason(f), "Certificate expires on 2023-11-24T22:13:20Z, in 10 days (threshold 30 days).");
	assert_int_equal(json_array_size(related(f)), 0);
	f = find(&r, "DEVICE_CERTIFICATE", DEV('3'), "CERTIFICATE_PAST_EXPIRATION");
	assert_string_equal(reason(f), "Certificate expired on 2023-11-13T22:13:20Z.");
	run_free(&r);

	/* the threshold comes from the check's configuration, as a string */
	json_t *cfg = json_pack("{s:s}", "CERT_EXPIRATION_THRESHOLD_IN_DAYS", "400");
	run_check(ACCT, "DEVICE_CERT_APPROACHING_EXPIRATION_CHECK", cfg, &r);
	assert_int_equal(r.total, 8);
	assert_int_equal(json_array_size(r.findings), 3);
	f = find(&r, "DEVICE_CERTIFICATE", DEV('4'), "CERTIFICATE_APPROACHING_EXPIRATION");
	assert_string_equal(reason(f), "Certificate expires on 2024-12-18T22:13:20Z, in 400 days (threshold 400 days).");
	run_free(&r);
	json_decref(cfg);

	/* out of range: the default applies */
	cfg = json_pack("{s:s}", "CERT_EXPIRATION_THRESHOLD_IN_DAYS", "5");
	run_check(ACCT, "DEVICE_CERTIFICATE_EXPIRING_CHECK", cfg, &r);
	assert_int_equal(json_array_size(r.findings), 2);
	run_free(&r);
	json_decref(cfg);
}

static void ca_cert_expiring(void **state)
{
	(void)state;
	struct run r;
	run_check(ACCT, "CA_CERT_APPROACHING_EXPIRATION_CHECK", NULL, &r);
	assert_int_equal(r.total, 2);
	assert_int_equal(json_array_size(r.findings), 1);
	json_t *f = find(&r, "CA_CERTIFICATE", CA('b'), "CERTIFICATE_APPROACHING_EXPIRATION");
	assert_string_equal(reason(f), "Certificate expires on 2023-12-04T22:13:20Z, in 20 days (threshold 30 days).");
	run_free(&r);
}

static void device_cert_age(void **state)
{
	(void)state;
	struct run r;
	run_check(ACCT, "DEVICE_CERTIFICATE_AGE_CHECK", NULL, &r);
	assert_int_equal(r.total, 8);
	assert_int_equal(json_array_size(r.findings), 1);
	json_t *f = find(&r, "DEVICE_CERTIFICATE", DEV('4'), "CERTIFICATE_PAST_AGE_THRESHOLD");
	assert_string_equal(reason(f), "Certificate is 400 days old (valid since 2022-10-10T22:13:20Z), past the age"
				       " threshold of 365 days.");
	run_free(&r);

	json_t *cfg = json_pack("{s:s}", "CERT_AGE_THRESHOLD_IN_DAYS", "30");
	run_check(ACCT, "DEVICE_CERTIFICATE_AGE_CHECK", cfg, &r);
	assert_int_equal(json_array_size(r.findings), 3);
	find(&r, "DEVICE_CERTIFICATE", DEV('2'), "CERTIFICATE_PAST_AGE_THRESHOLD");
	find(&r, "DEVICE_CERTIFICATE", DEV('3'), "CERTIFICATE_PAST_AGE_THRESHOLD");
	find(&r, "DEVICE_CERTIFICATE", DEV('4'), "CERTIFICATE_PAST_AGE_THRESHOLD");
	run_free(&r);
	json_decref(cfg);
}

static void device_cert_key_quality(void **state)
{
	(void)state;
	struct run r;
	run_check(ACCT, "DEVICE_CERTIFICATE_KEY_QUALITY_CHECK", NULL, &r);
	assert_int_equal(r.total, 8);
	/* 6 is both ROCA and Debian-weak; 3's Debian verdict is NOT_CHECKED; 5 is INACTIVE */
	assert_int_equal(json_array_size(r.findings), 2);
	json_t *f = find(&r, "DEVICE_CERTIFICATE", DEV('6'), "CERTIFICATE_KEY_VULNERABILITY_CVE-2017-15361");
	assert_string_equal(reason(f), "Certificate key (RSA 2048 bits) is vulnerable to CVE-2017-15361 (ROCA: weak"
				       " RSA key generation of the Infineon RSA library).");
	f = find(&r, "DEVICE_CERTIFICATE", DEV('6'), "CERTIFICATE_KEY_VULNERABILITY_CVE-2008-0166");
	assert_string_equal(reason(f), "Certificate key (RSA 2048 bits) is vulnerable to CVE-2008-0166 (predictable"
				       " random numbers of Debian's OpenSSL 0.9.8c-1 to 0.9.8g-8).");
	run_free(&r);
}

static void ca_cert_key_quality(void **state)
{
	(void)state;
	struct run r;
	run_check(ACCT, "CA_CERTIFICATE_KEY_QUALITY_CHECK", NULL, &r);
	assert_int_equal(r.total, 2);
	assert_int_equal(json_array_size(r.findings), 1);
	find(&r, "CA_CERTIFICATE", CA('b'), "CERTIFICATE_KEY_VULNERABILITY_CVE-2008-0166");
	run_free(&r);
}

static void revoked_device_cert(void **state)
{
	(void)state;
	struct run r;
	run_check(ACCT, "REVOKED_DEVICE_CERT_CHECK", NULL, &r);
	assert_int_equal(r.total, 8);
	assert_int_equal(json_array_size(r.findings), 1);
	json_t *f = find(&r, "DEVICE_CERTIFICATE", DEV('7'), "CERTIFICATE_REVOKED_BY_ISSUER");
	char want[300];
	snprintf(want, sizeof want, "Certificate is on the certificate revocation list of its issuer (CA certificate %s)"
		 " but is still ACTIVE.", hex64('b'));
	assert_string_equal(reason(f), want);
	run_free(&r);
}

static void revoked_ca_cert(void **state)
{
	(void)state;
	struct run r;
	run_check(ACCT, "REVOKED_CA_CERTIFICATE_STILL_ACTIVE_CHECK", NULL, &r);
	assert_int_equal(r.total, 2);
	assert_int_equal(json_array_size(r.findings), 1);
	json_t *f = find(&r, "CA_CERTIFICATE", CA('b'), "CERTIFICATE_REVOKED_BY_ISSUER");
	char want[300];
	snprintf(want, sizeof want, "CA certificate is on the certificate revocation list of its issuer (CA certificate"
		 " %s) but is still ACTIVE.", hex64('a'));
	assert_string_equal(reason(f), want);
	run_free(&r);
}

static void intermediate_ca_revoked(void **state)
{
	(void)state;
	struct run r;
	run_check(ACCT, "INTERMEDIATE_CA_REVOKED_FOR_ACTIVE_DEVICE_CERTIFICATES_CHECK", NULL, &r);
	/* ACTIVE only: 1 2 4 6 7 8 (f is PENDING_TRANSFER) */
	assert_int_equal(r.total, 6);
	assert_int_equal(json_array_size(r.findings), 2);
	char want[300];
	snprintf(want, sizeof want, "Intermediate CA certificate %s in the certificate's chain was revoked by its issuer.",
		 hex64('b'));
	for (int i = 0; i < 2; i++) {
		json_t *f = find(&r, "DEVICE_CERTIFICATE", DEV(i ? '8' : '7'), "INTERMEDIATE_CA_REVOKED_BY_ISSUER");
		assert_string_equal(reason(f), want);
		json_t *rel = related(f);
		assert_int_equal(json_array_size(rel), 1);
		json_t *x = json_array_get(rel, 0);
		assert_string_equal(json_string_value(json_object_get(x, "resourceType")), "ISSUER_CERTIFICATE");
		json_t *id = json_object_get(json_object_get(x, "resourceIdentifier"), "issuerCertificateIdentifier");
		assert_string_equal(json_string_value(json_object_get(id, "issuerCertificateSubject")), "CN=Inter");
		assert_string_equal(json_string_value(json_object_get(id, "issuerCertificateSerialNumber")), "0a");
		assert_string_equal(json_string_value(json_object_get(id, "issuerId")), hex64('b'));
	}
	run_free(&r);
}

/* ---- policy checks ------------------------------------------------------------------ */

static void iot_policy_permissive(void **state)
{
	(void)state;
	struct run r;
	run_check(ACCT, "IOT_POLICY_UNRESTRICTED_CHECK", NULL, &r);
	assert_int_equal(r.total, 4);
	assert_int_equal(json_array_size(r.findings), 1);
	json_t *f = find(&r, "IOT_POLICY", "{\"policyVersionIdentifier\":{\"policyName\":\"star\",\"policyVersionId\":\"2\"}}",
			 "ALLOWS_BROAD_ACCESS_TO_IOT_DATA_PLANE_ACTIONS");
	const char *msg = reason(f);
	assert_true(strncmp(msg, "Policy allows broad access to IoT data plane actions: [", 55) == 0);
	assert_non_null(strstr(msg, "iot:Connect"));
	assert_non_null(strstr(msg, "iot:Publish"));
	assert_non_null(strstr(msg, "iot:Subscribe"));
	run_free(&r);
}

static void iot_policy_misconfig(void **state)
{
	(void)state;
	struct run r;
	run_check(ACCT, "IOT_POLICY_POTENTIAL_MISCONFIGURATION_CHECK", NULL, &r);
	assert_int_equal(r.total, 4);
	assert_int_equal(json_array_size(r.findings), 2);
	json_t *f = find(&r, "IOT_POLICY",
			 "{\"policyVersionIdentifier\":{\"policyName\":\"denywild\",\"policyVersionId\":\"1\"}}",
			 "POLICY_CONTAINS_MQTT_WILDCARDS_IN_DENY_STATEMENT");
	const char *msg = reason(f);
	assert_true(strncmp(msg, "Policy contains MQTT wildcards (+ or #) in Deny statements", 58) == 0);
	assert_string_equal(msg, "Policy contains MQTT wildcards (+ or #) in Deny statements, where they only match"
				 " themselves: [iot:Publish].");
	f = find(&r, "IOT_POLICY", "{\"policyVersionIdentifier\":{\"policyName\":\"bypass\",\"policyVersionId\":\"1\"}}",
		 "TOPIC_FILTERS_INTENDED_TO_DENY_ALLOWED_USING_WILDCARDS");
	assert_true(strncmp(reason(f), "Policy denies topic filters that a wildcard Allow still lets the device receive: [",
			    82) == 0);
	run_free(&r);
}

/* ---- Cognito and role alias checks --------------------------------------------------- */

static void assert_role_related(json_t *f, const char *role_arn)
{
	json_t *rel = related(f);
	assert_int_equal(json_array_size(rel), 1);
	assert_related(rel, 0, "IAM_ROLE", "iamRoleArn", role_arn, NULL, NULL);
	assert_null(json_object_get(json_array_get(rel, 0), "additionalInfo"));
}

static const char *pool_ident(const char *id)
{
	static char buf[2][160];
	static int next;
	char *b = buf[next++ % 2];
	snprintf(b, sizeof buf[0], "{\"cognitoIdentityPoolId\":\"%s\"}", id);
	return b;
}
#define POOL1 pool_ident(pool1)
#define POOL2 pool_ident(pool2)

static void cognito_authenticated(void **state)
{
	(void)state;
	struct run r;
	run_check(ACCT, "AUTHENTICATED_COGNITO_ROLE_OVERLY_PERMISSIVE_CHECK", NULL, &r);
	assert_int_equal(r.total, 2); /* p3 has no roles */
	assert_int_equal(json_array_size(r.findings), 3);
	json_t *f = find(&r, "COGNITO_IDENTITY_POOL", POOL1, "ALLOWS_ACCESS_TO_IOT_THING_ADMIN_WRITE_ACTIONS");
	assert_string_equal(reason(f), "Role allows access to IoT thing admin write actions: [iot:CreateThing].");
	assert_role_related(f, ROLE("cog-admin"));
	f = find(&r, "COGNITO_IDENTITY_POOL", POOL1, "ALLOWS_BROAD_ACCESS_TO_IOT_THING_ADMIN_READ_ACTIONS");
	assert_string_equal(reason(f), "Role allows broad access to IoT thing admin read actions: [iot:DescribeThing].");
	f = find(&r, "COGNITO_IDENTITY_POOL", POOL1, "ALLOWS_ACCESS_TO_IOT_NON_THING_ADMIN_ACTIONS");
	assert_string_equal(reason(f), "Role allows access to IoT non-thing admin actions: [iot:ListCACertificates].");
	run_free(&r);
}

static void cognito_unauthenticated(void **state)
{
	(void)state;
	struct run r;
	run_check(ACCT, "UNAUTHENTICATED_COGNITO_ROLE_OVERLY_PERMISSIVE_CHECK", NULL, &r);
	assert_int_equal(r.total, 2);
	assert_int_equal(json_array_size(r.findings), 1);
	json_t *f = find(&r, "COGNITO_IDENTITY_POOL", POOL2, "ALLOWS_ACCESS_TO_IOT_ADMIN_ACTIONS");
	const char *msg = reason(f);
	assert_true(strncmp(msg, "Role allows access to IoT admin actions: [", 42) == 0);
	assert_non_null(strstr(msg, "iot:CreateThing"));
	assert_non_null(strstr(msg, "iot:DescribeThing"));
	assert_non_null(strstr(msg, "iot:ListCACertificates"));
	assert_role_related(f, ROLE("cog-admin"));
	run_free(&r);
}

#define ALIAS(n) "{\"roleAliasArn\":\"arn:aws:iot:us-east-1:" ACCT ":rolealias/" n "\"}"

static void role_alias_permissive(void **state)
{
	(void)state;
	struct run r;
	run_check(ACCT, "IOT_ROLE_ALIAS_OVERLY_PERMISSIVE_CHECK", NULL, &r);
	assert_int_equal(r.total, 3);
	assert_false(r.waiting);
	assert_int_equal(json_array_size(r.findings), 2);
	json_t *f = find(&r, "ROLE_ALIAS", ALIAS("ra-broad"), "ALLOWS_BROAD_ACCESS_TO_USED_SERVICES");
	assert_string_equal(reason(f), "Role allows broad access to used services: [s3:*].");
	assert_role_related(f, ROLE("alias-broad"));
	f = find(&r, "ROLE_ALIAS", ALIAS("ra-broad"), "ALLOWS_ACCESS_TO_SECURITY_AUDITING_SERVICES");
	assert_string_equal(reason(f), "Role allows access to security auditing services: [iam:GetRole].");
	run_free(&r);
}

static void role_alias_unused(void **state)
{
	(void)state;
	struct run r;
	run_check(ACCT, "IOT_ROLE_ALIAS_ALLOWS_ACCESS_TO_UNUSED_SERVICES_CHECK", NULL, &r);
	/* ra-nodata's role has no usage record: not judged */
	assert_int_equal(r.total, 2);
	assert_false(r.waiting);
	assert_int_equal(json_array_size(r.findings), 1);
	/* dynamodb was last used 400 days ago: unused */
	json_t *f = find(&r, "ROLE_ALIAS", ALIAS("ra-broad"), "ALLOWS_ACCESS_TO_UNUSED_SERVICES");
	assert_string_equal(reason(f), "Role allows access to services not used in the past 365 days:"
				       " [iam:GetRole, dynamodb:PutItem].");
	assert_role_related(f, ROLE("alias-broad"));
	run_free(&r);

	/* no alias of the account can be judged: waiting for data */
	run_check(ACCT_B, "IOT_ROLE_ALIAS_ALLOWS_ACCESS_TO_UNUSED_SERVICES_CHECK", NULL, &r);
	assert_true(r.waiting);
	assert_int_equal(r.total, 0);
	assert_int_equal(json_array_size(r.findings), 0);
	run_free(&r);

	/* no alias at all: compliant, nothing to wait for */
	run_check(ACCT_C, "IOT_ROLE_ALIAS_ALLOWS_ACCESS_TO_UNUSED_SERVICES_CHECK", NULL, &r);
	assert_false(r.waiting);
	assert_int_equal(r.total, 0);
	run_free(&r);
}

/* ---- logging ------------------------------------------------------------------------- */

static void logging_disabled(void **state)
{
	(void)state;
	struct run r;
	run_check(ACCT, "LOGGING_DISABLED_CHECK", NULL, &r);
	assert_int_equal(r.total, 1);
	assert_int_equal(json_array_size(r.findings), 1);
	json_t *f = find(&r, "ACCOUNT_SETTINGS", "{\"account\":\"" ACCT "\"}", "LOGGING_DISABLED");
	assert_string_equal(reason(f), "Logging is disabled: the V2 default log level is DISABLED and the V1 log level"
				       " is DISABLED.");
	run_free(&r);

	run_check(ACCT_B, "LOGGING_DISABLED_CHECK", NULL, &r); /* v2 INFO */
	assert_int_equal(r.total, 1);
	assert_int_equal(json_array_size(r.findings), 0);
	run_free(&r);

	run_check(ACCT_C, "LOGGING_DISABLED_CHECK", NULL, &r); /* nothing set */
	assert_int_equal(json_array_size(r.findings), 1);
	f = find(&r, "ACCOUNT_SETTINGS", "{\"account\":\"" ACCT_C "\"}", "LOGGING_DISABLED");
	assert_string_equal(reason(f), "Logging is disabled: no V2 logging options are set and no V1 logging options"
				       " are set.");
	run_free(&r);

	run_check(ACCT_D, "LOGGING_DISABLED_CHECK", NULL, &r); /* v2 disables all, v1 WARN */
	assert_int_equal(json_array_size(r.findings), 0);
	run_free(&r);
}

/* ---- connection checks ---------------------------------------------------------------- */

static void device_cert_shared(void **state)
{
	(void)state;
	struct run r;
	run_check(ACCT, "DEVICE_CERTIFICATE_SHARED_CHECK", NULL, &r);
	/* certificates seen in the window: c d f 1 2 3 4 5 6 (e only before it, 7 8 after) */
	assert_int_equal(r.total, 9);
	assert_int_equal(json_array_size(r.findings), 2);
	json_t *f = find(&r, "DEVICE_CERTIFICATE", DEV('c'), "CERTIFICATE_SHARED_BY_MULTIPLE_DEVICES");
	assert_string_equal(reason(f), "Certificate shared by one or more devices.");
	json_t *rel = related(f);
	assert_int_equal(json_array_size(rel), 2);
	assert_related(rel, 0, "CLIENT_ID", "clientId", "dev-b", ms(NOW - 8 * HOUR), NULL);
	assert_related(rel, 1, "CLIENT_ID", "clientId", "dev-a", ms(NOW - 10 * HOUR), ms(NOW - 5 * HOUR));

	f = find(&r, "DEVICE_CERTIFICATE", DEV('f'), "CERTIFICATE_SHARED_BY_MULTIPLE_DEVICES");
	rel = related(f);
	assert_int_equal(json_array_size(rel), 2);
	assert_related(rel, 0, "CLIENT_ID", "clientId", "w2", ms(NOW - 30 * DAY - HOUR), ms(NOW - 29 * DAY));
	assert_related(rel, 1, "CLIENT_ID", "clientId", "w1", NULL, ms(NOW - 30 * DAY));
	run_free(&r);
}

static void conflicting_client_ids(void **state)
{
	(void)state;
	struct run r;
	run_check(ACCT, "CONFLICTING_CLIENT_IDS_CHECK", NULL, &r);
	/* dev-a dev-b solo w1 w2 dup both recon clone */
	assert_int_equal(r.total, 9);
	assert_int_equal(json_array_size(r.findings), 3);
	json_t *f = find(&r, "CLIENT_ID", "{\"clientId\":\"dup\"}", "DUPLICATE_CLIENT_ID_ACROSS_CONNECTIONS");
	assert_string_equal(reason(f), "Multiple connections used the same client ID, disconnecting each other.");
	json_t *rel = related(f);
	assert_int_equal(json_array_size(rel), 2);
	assert_related(rel, 0, "DEVICE_CERTIFICATE", "deviceCertificateId", hex64('2'), ms(NOW - 2 * HOUR), NULL);
	assert_related(rel, 1, "DEVICE_CERTIFICATE", "deviceCertificateId", hex64('1'), ms(NOW - 3 * HOUR),
		       ms(NOW - 2 * HOUR));

	f = find(&r, "CLIENT_ID", "{\"clientId\":\"both\"}", "DUPLICATE_CLIENT_ID_ACROSS_CONNECTIONS");
	assert_string_equal(reason(f), "Multiple connections used the same client ID at the same time.");
	rel = related(f);
	assert_int_equal(json_array_size(rel), 2);
	assert_related(rel, 0, "DEVICE_CERTIFICATE", "deviceCertificateId", hex64('4'), ms(NOW - 4 * HOUR),
		       ms(NOW - 3 * HOUR));
	assert_related(rel, 1, "DEVICE_CERTIFICATE", "deviceCertificateId", hex64('3'), ms(NOW - 5 * HOUR),
		       ms(NOW - HOUR));

	/* the same certificate taking its own client id over: the takeover is the first session's */
	f = find(&r, "CLIENT_ID", "{\"clientId\":\"clone\"}", "DUPLICATE_CLIENT_ID_ACROSS_CONNECTIONS");
	rel = related(f);
	assert_int_equal(json_array_size(rel), 2);
	assert_related(rel, 0, "DEVICE_CERTIFICATE", "deviceCertificateId", hex64('6'), ms(NOW - 6 * HOUR), NULL);
	assert_related(rel, 1, "DEVICE_CERTIFICATE", "deviceCertificateId", hex64('6'), ms(NOW - 7 * HOUR),
		       ms(NOW - 6 * HOUR));
	run_free(&r);
}

static void fill_large_groups(void)
{
	char cid[32], cert[65];
	/* one certificate, 300 client ids, each connected twice (the second session takes
	 * over the first), all sessions still open at task start */
	for (int i = 0; i < 300; i++) {
		snprintf(cid, sizeof cid, "many-%03d", i);
		add_event(ACCT_E, "connect", cid, hex64('a'), NOW - HOUR + i, NULL);
		add_event(ACCT_E, "connect", cid, hex64('a'), NOW - HOUR / 2 + i, NULL);
	}
	/* one client id taken over 39 times by 40 certificates */
	for (int i = 0; i < 40; i++) {
		snprintf(cert, sizeof cert, "%064x", i + 1000);
		add_event(ACCT_E, "connect", "hot-id", cert, NOW - 2 * HOUR + i * 1000, NULL);
		if (i > 0) {
			snprintf(cert, sizeof cert, "%064x", i - 1 + 1000);
			add_event(ACCT_E, "disconnect", "hot-id", cert, NOW - 2 * HOUR + i * 1000, "DUPLICATE_CLIENTID");
		}
	}
	flush_events();
}

static void large_groups(void **state)
{
	(void)state;
	fill_large_groups();
	struct run r;
	run_check(ACCT_E, "DEVICE_CERTIFICATE_SHARED_CHECK", NULL, &r);
	assert_int_equal(r.total, 41);
	assert_int_equal(json_array_size(r.findings), 1);
	json_t *f = find(&r, "DEVICE_CERTIFICATE", DEV('a'), "CERTIFICATE_SHARED_BY_MULTIPLE_DEVICES");
	json_t *rel = related(f);
	assert_int_equal(json_array_size(rel), 250); /* capped, most recent first */
	assert_related(rel, 0, "CLIENT_ID", "clientId", "many-299", ms(NOW - HOUR / 2 + 299), NULL);
	assert_related(rel, 249, "CLIENT_ID", "clientId", "many-050", ms(NOW - HOUR / 2 + 50), NULL);
	run_free(&r);

	run_check(ACCT_E, "CONFLICTING_CLIENT_IDS_CHECK", NULL, &r);
	assert_int_equal(r.total, 301);
	assert_int_equal(json_array_size(r.findings), 1);
	f = find(&r, "CLIENT_ID", "{\"clientId\":\"hot-id\"}", "DUPLICATE_CLIENT_ID_ACROSS_CONNECTIONS");
	rel = related(f);
	assert_int_equal(json_array_size(rel), 40);
	char cert[65];
	snprintf(cert, sizeof cert, "%064x", 39 + 1000);
	assert_related(rel, 0, "DEVICE_CERTIFICATE", "deviceCertificateId", cert, ms(NOW - 2 * HOUR + 39000), NULL);
	snprintf(cert, sizeof cert, "%064x", 1000);
	assert_related(rel, 39, "DEVICE_CERTIFICATE", "deviceCertificateId", cert, ms(NOW - 2 * HOUR),
		       ms(NOW - 2 * HOUR + 1000));
	run_free(&r);
}

/* An account without any data: every check runs, examines nothing and finds nothing
 * (LOGGING_DISABLED_CHECK always examines the account). */
static void empty_account(void **state)
{
	(void)state;
	for (size_t i = 0; i < dd_audit_ncheck; i++) {
		struct run r;
		run_check("999999999999", dd_audit_checks[i].name, NULL, &r);
		bool logging = strcmp(dd_audit_checks[i].name, "LOGGING_DISABLED_CHECK") == 0;
		assert_int_equal(r.total, logging ? 1 : 0);
		assert_int_equal(json_array_size(r.findings), logging ? 1 : 0);
		assert_false(r.waiting);
		run_free(&r);
	}
}

/* All 17 checks run together (as a task's lane runs them: the certificate checks of one
 * kind share one pass) report exactly what each reports alone, in the same order, with
 * the same totals. */
static int collect_emit(struct dd_audit_run *r, const struct dd_audit_finding_text *f)
{
	json_array_append_new(r->sink, json_pack("{s:s, s:s, s:s}", "key", f->resource_key, "code", f->reason_code,
						 "reason", f->reason));
	return 0;
}

static void shared_pass_matches_single_runs(void **state)
{
	(void)state;
	struct dd_db *snap = dd_store_db_private(svc.store);
	assert_non_null(snap);
	assert_int_equal(dd_db_begin_read(snap), 0);
	json_t *empty = json_object();
	struct dd_audit_run runs[32];
	struct dd_audit_run *rp[32];
	int rcs[32];
	size_t n = dd_audit_ncheck;
	assert_true(n <= 32);
	for (size_t i = 0; i < n; i++) {
		runs[i] = (struct dd_audit_run){
			.svc = &svc, .snap = snap, .account = ACCT, .region = "us-east-1",
			.account_region = ACCT IN_REGION, .task_id = "t", .task_start_ms = NOW,
			.window_start_ms = NOW - 31 * DAY, .config = empty, .check = &dd_audit_checks[i],
			.emit = collect_emit, .sink = json_array(),
		};
		rp[i] = &runs[i];
	}
	dd_audit_checks_run(rp, n, rcs);
	dd_db_close(snap);
	int shared = 0;
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(rcs[i], 0);
		shared += runs[i].group > 0;
		struct run one;
		run_check(ACCT, dd_audit_checks[i].name, NULL, &one);
		assert_int_equal(runs[i].total, one.total);
		json_t *got = runs[i].sink;
		assert_int_equal(json_array_size(got), json_array_size(one.findings));
		for (size_t k = 0; k < json_array_size(got); k++) {
			json_t *g = json_array_get(got, k), *o = json_array_get(one.findings, k);
			char *key = dd_audit_checks_resource_key(
				json_object_get(json_object_get(o, "nonCompliantResource"), "resourceIdentifier"));
			assert_string_equal(json_string_value(json_object_get(g, "key")), key);
			free(key);
			assert_string_equal(json_string_value(json_object_get(g, "code")),
					    json_string_value(json_object_get(o, "reasonForNonComplianceCode")));
			assert_string_equal(json_string_value(json_object_get(g, "reason")), reason(o));
		}
		run_free(&one);
		json_decref(got);
	}
	assert_int_equal(shared, 8); /* 5 device and 3 CA certificate checks */
	json_decref(empty);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(table_matches_spec),
		cmocka_unit_test(reads_allowed_by_managed_policy),
		cmocka_unit_test(find_by_name_and_alias),
		cmocka_unit_test(resource_key_is_canonical),
		cmocka_unit_test(device_cert_expiring),
		cmocka_unit_test(ca_cert_expiring),
		cmocka_unit_test(device_cert_age),
		cmocka_unit_test(device_cert_key_quality),
		cmocka_unit_test(ca_cert_key_quality),
		cmocka_unit_test(revoked_device_cert),
		cmocka_unit_test(revoked_ca_cert),
		cmocka_unit_test(intermediate_ca_revoked),
		cmocka_unit_test(iot_policy_permissive),
		cmocka_unit_test(iot_policy_misconfig),
		cmocka_unit_test(cognito_authenticated),
		cmocka_unit_test(cognito_unauthenticated),
		cmocka_unit_test(role_alias_permissive),
		cmocka_unit_test(role_alias_unused),
		cmocka_unit_test(logging_disabled),
		cmocka_unit_test(device_cert_shared),
		cmocka_unit_test(conflicting_client_ids),
		cmocka_unit_test(large_groups),
		cmocka_unit_test(empty_account),
		cmocka_unit_test(shared_pass_matches_single_runs),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}

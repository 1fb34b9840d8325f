/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the broker's core side, on a fresh service in a temporary data directory
 * driven through the real handlers (dd_api_call): the change journal (dd/changes.h) gets
 * one entry of the right kind and subject for every change the broker must feel
 * (certificate registration, status and deletion, CA status, policy attach/detach and default version,
 * thing principal, thing attributes, group membership, logging settings), none for a
 * no-op status update, in increasing sequence, readable in pages; DeleteConnection notes
 * a connection change only for a connected client; the CA bundle holds the server CA and
 * the ACTIVE CAs only; DescribeEndpoint answers the broker endpoint once recorded; and
 * dd_authz binds the attached thing named like the client id, its attributes and the
 * certificate's CN, and decides like TestAuthorization.
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

#include "store/dd_store_int.h"
#include "store/dd_store_events.h"
#include "dd/authz.h"
#include "dd/changes.h"
#include "dd/service.h"
#include "server/dd_api.h"
#include "server/dd_model.h"

#define ACCOUNT "123456789012"
#define ARN "arn:aws:iot:us-east-1:" ACCOUNT ":"

struct fx {
	char dir[64];
	struct dd_service svc;
	struct dd_db *db;
	int64_t seq;
};

static json_t *call(struct fx *f, const char *service, const char *op, json_t *in)
{
	json_t *out = NULL;
	char err[1200];
	int rc = dd_api_call(&f->svc, ACCOUNT, "us-east-1", service, op, in, &out, err, sizeof err);
	json_decref(in);
	if (rc)
		fail_msg("%s %s: %s", service, op, err);
	return out ? out : json_object();
}

static int call_rc(struct fx *f, const char *service, const char *op, json_t *in, char *err, size_t errlen)
{
	json_t *out = NULL;
	int rc = dd_api_call(&f->svc, ACCOUNT, "us-east-1", service, op, in, &out, err, errlen);
	json_decref(in);
	json_decref(out);
	return rc;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	snprintf(f->dir, sizeof f->dir, "/tmp/ddunit-broker-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	assert_int_equal(dd_service_init(&f->svc, f->dir), 0);
	f->db = dd_store_db(f->svc.store);
	assert_non_null(f->db);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	dd_service_close(&f->svc);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

/* The changes since the last call: "kind:subject" joined by spaces. */
static char *since(struct fx *f)
{
	static struct dd_change buf[64];
	static char out[8192];
	out[0] = 0;
	size_t n = 0;
	assert_int_equal(dd_changes_read(f->db, f->seq, buf, 64, &n), 0);
	for (size_t i = 0; i < n; i++) {
		assert_true(buf[i].seq > f->seq);
		f->seq = buf[i].seq;
		assert_string_equal(buf[i].account_region, ACCOUNT "/us-east-1");
		size_t l = strlen(out);
		snprintf(out + l, sizeof out - l, "%s%s:%s", l ? " " : "", buf[i].kind, buf[i].subject);
	}
	return out;
}

static void test_journal_triggers(void **state)
{
	struct fx *f = *state;
	assert_int_equal(dd_changes_last(f->db, &f->seq), 0);
	json_t *c = call(f, "iot", "CreateKeysAndCertificate", json_pack("{s:b}", "setAsActive", 1));
	char id[65], arn[200];
	snprintf(id, sizeof id, "%s", json_string_value(json_object_get(c, "certificateId")));
	snprintf(arn, sizeof arn, "%s", json_string_value(json_object_get(c, "certificateArn")));
	json_decref(c);
	char want[400];
	snprintf(want, sizeof want, "cert:%s", id);
	assert_string_equal(since(f), want); /* a new certificate */
	json_decref(call(f, "iot", "UpdateCertificate", json_pack("{s:s, s:s}", "certificateId", id, "newStatus", "ACTIVE")));
	assert_string_equal(since(f), ""); /* no change, no entry */
	json_decref(call(f, "iot", "UpdateCertificate", json_pack("{s:s, s:s}", "certificateId", id, "newStatus", "INACTIVE")));
	assert_string_equal(since(f), want);
	json_decref(call(f, "iot", "CreatePolicy", json_pack("{s:s, s:s}", "policyName", "p", "policyDocument",
		"{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"iot:*\",\"Resource\":\"*\"}]}")));
	assert_string_equal(since(f), "");
	json_decref(call(f, "iot", "AttachPolicy", json_pack("{s:s, s:s}", "policyName", "p", "target", arn)));
	snprintf(want, sizeof want, "policy:%s", arn);
	assert_string_equal(since(f), want);
	json_decref(call(f, "iot", "CreatePolicyVersion", json_pack("{s:s, s:s, s:b}", "policyName", "p", "policyDocument",
		"{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Deny\",\"Action\":\"iot:*\",\"Resource\":\"*\"}]}",
		"setAsDefault", 1)));
	assert_string_equal(since(f), "policy:p");
	json_decref(call(f, "iot", "CreateThing", json_pack("{s:s}", "thingName", "t1")));
	assert_string_equal(since(f), "");
	json_decref(call(f, "iot", "AttachThingPrincipal", json_pack("{s:s, s:s}", "thingName", "t1", "principal", arn)));
	snprintf(want, sizeof want, "thing:%s", arn);
	assert_string_equal(since(f), want);
	json_decref(call(f, "iot", "UpdateThing", json_pack("{s:s, s:{s:{s:s}}}", "thingName", "t1", "attributePayload",
							    "attributes", "site", "north")));
	assert_string_equal(since(f), "thing:t1");
	json_decref(call(f, "iot", "CreateThingGroup", json_pack("{s:s}", "thingGroupName", "g")));
	json_decref(call(f, "iot", "AddThingToThingGroup", json_pack("{s:s, s:s}", "thingGroupName", "g", "thingName", "t1")));
	assert_string_equal(since(f), "group:t1");
	json_decref(call(f, "iot", "SetV2LoggingOptions", json_pack("{s:s, s:s}", "roleArn", "arn:aws:iam::" ACCOUNT ":role/log",
								   "defaultLogLevel", "INFO")));
	assert_string_equal(since(f), "logging:logging_v2");
	json_decref(call(f, "iot", "DetachPolicy", json_pack("{s:s, s:s}", "policyName", "p", "target", arn)));
	snprintf(want, sizeof want, "policy:%s", arn);
	assert_string_equal(since(f), want);
	json_decref(call(f, "iot", "DetachThingPrincipal", json_pack("{s:s, s:s}", "thingName", "t1", "principal", arn)));
	json_decref(call(f, "iot", "DeleteCertificate", json_pack("{s:s}", "certificateId", id)));
	snprintf(want, sizeof want, "thing:%s cert:%s", arn, id);
	assert_string_equal(since(f), want);
	/* pages: read one at a time */
	struct dd_change one;
	size_t n = 0;
	assert_int_equal(dd_changes_read(f->db, 0, &one, 1, &n), 0);
	assert_int_equal(n, 1);
	assert_true(one.seq > 0);
}

static void test_delete_connection_and_endpoint(void **state)
{
	struct fx *f = *state;
	char err[1200];
	assert_int_equal(call_rc(f, "iotdata", "DeleteConnection", json_pack("{s:s}", "clientId", "dev-1"), err, sizeof err),
			 DD_ENOTFOUND);
	assert_int_equal(dd_changes_last(f->db, &f->seq), 0);
	assert_int_equal(dd_db_begin_write(f->db), 0);
	assert_int_equal(dd_store_events_insert(f->db, ACCOUNT "/us-east-1",
						 &(struct dd_store_events_event){ .event = "connect", .client_id = "dev-1", .ts_ms = 1 }),
			 0);
	assert_int_equal(dd_db_commit(f->db), 0);
	assert_int_equal(call_rc(f, "iotdata", "DeleteConnection", json_pack("{s:s, s:b}", "clientId", "dev-1",
									 "preventWillMessage", 1), err, sizeof err), 0);
	struct dd_change ch;
	size_t n = 0;
	assert_int_equal(dd_changes_read(f->db, f->seq, &ch, 1, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(ch.kind, "connection");
	assert_string_equal(ch.subject, "dev-1");
	assert_non_null(strstr(ch.arg, "\"preventWillMessage\":true"));
	assert_int_equal(call_rc(f, "iotdata", "DeleteConnection", json_pack("{s:s}", "clientId", "$x"), err, sizeof err),
			 DD_EINVAL);
	/* DescribeEndpoint: the HTTP endpoint until a broker is recorded */
	snprintf(f->svc.endpoint_host, sizeof f->svc.endpoint_host, "127.0.0.1:7878");
	json_t *e = call(f, "iot", "DescribeEndpoint", json_pack("{s:s}", "endpointType", "iot:Data-ATS"));
	assert_string_equal(json_string_value(json_object_get(e, "endpointAddress")), "127.0.0.1:7878");
	json_decref(e);
	assert_int_equal(dd_broker_endpoint_set(f->db, "us-east-1", "127.0.0.1:8883"), 0);
	e = call(f, "iot", "DescribeEndpoint", json_pack("{s:s}", "endpointType", "iot:Data-ATS"));
	assert_string_equal(json_string_value(json_object_get(e, "endpointAddress")), "127.0.0.1:8883");
	json_decref(e);
	e = call(f, "iot", "DescribeEndpoint", json_object());
	assert_string_equal(json_string_value(json_object_get(e, "endpointAddress")), "127.0.0.1:8883");
	json_decref(e);
	e = call(f, "iot", "DescribeEndpoint", json_pack("{s:s}", "endpointType", "iot:CredentialProvider"));
	assert_string_equal(json_string_value(json_object_get(e, "endpointAddress")), "127.0.0.1:7878");
	json_decref(e);
	/* eu-west-1: no broker recorded for it, and dev-1 is connected in us-east-1 only */
	json_t *in = json_pack("{s:s}", "endpointType", "iot:Data-ATS");
	e = NULL;
	assert_int_equal(dd_api_call(&f->svc, ACCOUNT, "eu-west-1", "iot", "DescribeEndpoint", in, &e, err, sizeof err), 0);
	assert_string_equal(json_string_value(json_object_get(e, "endpointAddress")), "127.0.0.1:7878");
	json_decref(e);
	json_decref(in);
	in = json_pack("{s:s}", "clientId", "dev-2");
	e = NULL;
	assert_int_equal(dd_db_begin_write(f->db), 0);
	assert_int_equal(dd_store_events_insert(f->db, ACCOUNT "/eu-west-1",
						 &(struct dd_store_events_event){ .event = "connect", .client_id = "dev-2", .ts_ms = 1 }),
			 0);
	assert_int_equal(dd_db_commit(f->db), 0);
	assert_int_equal(dd_changes_last(f->db, &f->seq), 0);
	assert_int_equal(dd_api_call(&f->svc, ACCOUNT, "us-east-1", "iotdata", "DeleteConnection", in, &e, err, sizeof err),
			 DD_ENOTFOUND);
	json_decref(e);
	e = NULL;
	assert_int_equal(dd_api_call(&f->svc, ACCOUNT, "eu-west-1", "iotdata", "DeleteConnection", in, &e, err, sizeof err), 0);
	json_decref(e);
	json_decref(in);
	n = 0;
	assert_int_equal(dd_changes_read(f->db, f->seq, &ch, 1, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(ch.account_region, ACCOUNT "/eu-west-1");
	assert_string_equal(ch.subject, "dev-2");
}

static void test_ca_bundle(void **state)
{
	struct fx *f = *state;
	char path[128];
	snprintf(path, sizeof path, "%s/bundle.pem", f->dir);
	assert_int_equal(dd_changes_write_ca_bundle(f->db, f->svc.ca_cert_pem, path), 0);
	FILE *fp = fopen(path, "r");
	assert_non_null(fp);
	char buf[16384];
	size_t n = fread(buf, 1, sizeof buf - 1, fp);
	buf[n] = 0;
	fclose(fp);
	assert_string_equal(buf, f->svc.ca_cert_pem); /* no registered CA: the server CA alone */
	char cas[128];
	snprintf(cas, sizeof cas, "%s/cas", f->dir);
	assert_int_equal(access(cas, R_OK | X_OK), 0);
}

static void test_authz_binding(void **state)
{
	struct fx *f = *state;
	json_t *c = call(f, "iot", "CreateKeysAndCertificate", json_pack("{s:b}", "setAsActive", 1));
	char arn[200];
	snprintf(arn, sizeof arn, "%s", json_string_value(json_object_get(c, "certificateArn")));
	json_decref(c);
	json_decref(call(f, "iot", "CreateThing", json_pack("{s:s, s:{s:{s:s}}}", "thingName", "a-thing", "attributePayload",
							    "attributes", "site", "north")));
	json_decref(call(f, "iot", "CreateThing", json_pack("{s:s}", "thingName", "b-thing")));
	json_decref(call(f, "iot", "AttachThingPrincipal", json_pack("{s:s, s:s}", "thingName", "a-thing", "principal", arn)));
	json_decref(call(f, "iot", "AttachThingPrincipal", json_pack("{s:s, s:s}", "thingName", "b-thing", "principal", arn)));
	json_decref(call(f, "iot", "CreatePolicy", json_pack("{s:s, s:s}", "policyName", "tp", "policyDocument",
		"{\"Version\":\"2012-10-17\",\"Statement\":["
		"{\"Effect\":\"Allow\",\"Action\":\"iot:Connect\",\"Resource\":\"" ARN "client/${iot:Connection.Thing.ThingName}\"},"
		"{\"Effect\":\"Allow\",\"Action\":\"iot:Publish\",\"Resource\":\"" ARN "topic/site/${iot:Connection.Thing.Attributes[site]}\"},"
		"{\"Effect\":\"Allow\",\"Action\":\"iot:Publish\",\"Resource\":\"" ARN "topic/cn/${iot:Certificate.Subject.CommonName}\"}]}")));
	json_decref(call(f, "iot", "AttachPolicy", json_pack("{s:s, s:s}", "policyName", "tp", "target", arn)));
	struct dd_ctx cx = { .svc = &f->svc, .db = f->db, .account = ACCOUNT, .region = "us-east-1", .request_id = "t" };
	assert_int_equal(dd_ctx_set_account_region(&cx), 0);
	struct dd_authz *az = NULL;
	/* the client id names the second attached thing: it is bound, not the first by name */
	assert_int_equal(dd_authz_load(&(const struct dd_authz_scope){ cx.db, cx.account, cx.region, cx.account_region }, arn, "b-thing", &az), 0);
	assert_int_equal(az->n, 1);
	assert_string_equal(az->b.thing, "b-thing");
	assert_true(az->b.attached);
	assert_int_equal(dd_authz_decide(az, "iot:Connect", ARN "client/b-thing", "b-thing", NULL), DD_POLICY_ALLOW);
	assert_int_equal(dd_authz_decide(az, "iot:Connect", ARN "client/a-thing", "b-thing", NULL), DD_POLICY_IMPLICIT_DENY);
	assert_int_equal(dd_authz_decide(az, "iot:Publish", ARN "topic/site/north", "b-thing", NULL), DD_POLICY_IMPLICIT_DENY);
	assert_int_equal(dd_authz_decide(az, "iot:Publish", ARN "topic/cn/AWS IoT Certificate", "b-thing", NULL), DD_POLICY_ALLOW);
	dd_authz_free(az);
	/* another client id: the first attached thing by name, with its attributes */
	assert_int_equal(dd_authz_load(&(const struct dd_authz_scope){ cx.db, cx.account, cx.region, cx.account_region }, arn, "other", &az), 0);
	assert_string_equal(az->b.thing, "a-thing");
	assert_int_equal(dd_authz_decide(az, "iot:Publish", ARN "topic/site/north", "other", NULL), DD_POLICY_ALLOW);
	assert_int_equal(dd_authz_decide(az, "iot:Connect", ARN "client/other", "other", NULL), DD_POLICY_IMPLICIT_DENY);
	dd_authz_free(az);
	/* the same account in another region: none of us-east-1's things or policies */
	struct dd_ctx eu = { .svc = &f->svc, .db = f->db, .account = ACCOUNT, .region = "eu-west-1", .request_id = "t" };
	assert_int_equal(dd_ctx_set_account_region(&eu), 0);
	assert_int_equal(dd_authz_load(&(const struct dd_authz_scope){ eu.db, eu.account, eu.region, eu.account_region }, arn, "b-thing", &az), 0);
	assert_int_equal(az->n, 0);
	assert_string_equal(az->b.thing, "");
	assert_false(az->b.attached);
	assert_int_equal(az->b.n_cert, 0);
	dd_authz_free(az);
	/* TestAuthorization answers the same for the same question */
	json_t *r = call(f, "iot", "TestAuthorization", json_pack("{s:s, s:s, s:[{s:s, s:[s]}]}", "principal", arn, "clientId",
								  "b-thing", "authInfos", "actionType", "CONNECT", "resources",
								  ARN "client/b-thing"));
	json_t *res = json_array_get(json_object_get(r, "authResults"), 0);
	assert_string_equal(json_string_value(json_object_get(res, "authDecision")), "ALLOWED");
	json_decref(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_journal_triggers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_delete_connection_and_endpoint, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ca_bundle, setup, teardown),
		cmocka_unit_test_setup_teardown(test_authz_binding, setup, teardown),
	};
	dd_log_set_level(DD_LOG_ERROR);
	if (dd_models_load())
		return 1;
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	dd_models_free();
	/* the models load again after being freed (routes start afresh) */
	if (dd_models_load())
		return 1;
	dd_models_free();
	return rc;
}

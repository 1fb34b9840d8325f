/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The plugin's two authorization costs, without a broker: admission (dd_authz_load, the
 * SQL done once per CONNECT and after a relevant change: the certificate's policies, its
 * things' groups, the thing's attributes) and one ACL decision (dd_authz_decide, done per
 * PUBLISH, SUBSCRIBE and delivery, no SQL). A store with a certificate attached to a
 * thing in two nested groups, 2 policies (one on the parent group), built through the API
 * in-process. Prints p50/p99 of each; targets: decision p99 <= 10 us, admission p99 <= 5 ms.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dd/authz.h"
#include "dd/service.h"
#include "server/dd_api.h"
#include "server/dd_model.h"

#define ACCOUNT "123456789012"
#define ARN "arn:aws:iot:us-east-1:" ACCOUNT ":"
#define NLOAD 2000
#define NDECIDE 200000

static const char thing_policy[] =
	"{\"Version\":\"2012-10-17\",\"Statement\":["
	"{\"Effect\":\"Allow\",\"Action\":\"iot:Connect\",\"Resource\":\"" ARN "client/${iot:Connection.Thing.ThingName}\"},"
	"{\"Effect\":\"Allow\",\"Action\":[\"iot:Publish\",\"iot:Receive\"],"
	" \"Resource\":\"" ARN "topic/things/${iot:Connection.Thing.ThingName}/*\"},"
	"{\"Effect\":\"Allow\",\"Action\":\"iot:Subscribe\",\"Resource\":\"" ARN "topicfilter/things/${iot:Connection.Thing.ThingName}/*\"},"
	"{\"Effect\":\"Deny\",\"Action\":\"iot:Publish\",\"Resource\":\"" ARN "topic/things/${iot:Connection.Thing.ThingName}/secret\"}]}";
static const char group_policy[] =
	"{\"Version\":\"2012-10-17\",\"Statement\":["
	"{\"Effect\":\"Allow\",\"Action\":\"iot:Publish\",\"Resource\":\"" ARN "topic/fleet/${iot:Connection.Thing.Attributes[site]}/*\"}]}";

static double now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static json_t *call(struct dd_service *svc, const char *op, json_t *in)
{
	json_t *out = NULL;
	char err[1200];
	if (dd_api_call(svc, ACCOUNT, "us-east-1", "iot", op, in, &out, err, sizeof err)) {
		fprintf(stderr, "bench_broker_authz: %s: %s\n", op, err);
		exit(1);
	}
	json_decref(in);
	return out ? out : json_object();
}

int main(void)
{
	char dir[] = "/tmp/ddbench-authz-XXXXXX";
	dd_log_set_level(DD_LOG_WARN);
	if (!mkdtemp(dir) || dd_models_load())
		return 1;
	struct dd_service svc;
	memset(&svc, 0, sizeof svc);
	if (dd_service_init(&svc, dir))
		return 1;
	json_t *cert = call(&svc, "CreateKeysAndCertificate", json_pack("{s:b}", "setAsActive", 1));
	const char *arn = json_string_value(json_object_get(cert, "certificateArn"));
	json_decref(call(&svc, "CreateThing", json_pack("{s:s, s:{s:{s:s}}}", "thingName", "dev-1", "attributePayload",
							 "attributes", "site", "north")));
	json_decref(call(&svc, "AttachThingPrincipal", json_pack("{s:s, s:s}", "thingName", "dev-1", "principal", arn)));
	json_decref(call(&svc, "CreateThingGroup", json_pack("{s:s}", "thingGroupName", "fleet")));
	json_decref(call(&svc, "CreateThingGroup", json_pack("{s:s, s:s}", "thingGroupName", "north", "parentGroupName", "fleet")));
	json_decref(call(&svc, "AddThingToThingGroup", json_pack("{s:s, s:s}", "thingGroupName", "north", "thingName", "dev-1")));
	json_decref(call(&svc, "CreatePolicy", json_pack("{s:s, s:s}", "policyName", "thing", "policyDocument", thing_policy)));
	json_decref(call(&svc, "CreatePolicy", json_pack("{s:s, s:s}", "policyName", "group", "policyDocument", group_policy)));
	json_decref(call(&svc, "AttachPolicy", json_pack("{s:s, s:s}", "policyName", "thing", "target", arn)));
	json_decref(call(&svc, "AttachPolicy", json_pack("{s:s, s:s}", "policyName", "group", "target", ARN "thinggroup/fleet")));

	struct dd_ctx c = { .svc = &svc, .db = dd_store_db(svc.store), .account = ACCOUNT, .region = "us-east-1",
			    .request_id = "bench", .now_ms = dd_time_now_ms() };
	double *t = calloc(NDECIDE, sizeof *t);
	if (!t || !c.db || dd_ctx_set_account_region(&c))
		return 1;
	struct dd_authz *az = NULL;
	for (int i = 0; i < NLOAD; i++) {
		double s = now_us();
		if (dd_authz_load(&(const struct dd_authz_scope){ c.db, c.account, c.region, c.account_region }, arn, "dev-1", &az))
			return 1;
		t[i] = now_us() - s;
		if (i + 1 < NLOAD)
			dd_authz_free(az);
	}
	qsort(t, NLOAD, sizeof *t, cmp);
	printf("admission (policies + binding from the store): p50 %.1f us, p99 %.1f us (%zu policies)\n", t[NLOAD / 2],
	       t[NLOAD * 99 / 100], az->n);
	static const char *const topics[] = { "things/dev-1/temp", "things/dev-1/secret", "things/dev-2/temp",
					     "fleet/north/status", "fleet/south/status", "other/x" };
	char res[6][160];
	for (int k = 0; k < 6; k++)
		snprintf(res[k], sizeof res[k], ARN "topic/%s", topics[k]);
	int allowed = 0;
	for (int i = 0; i < NDECIDE; i++) {
		double s = now_us();
		allowed += dd_authz_decide(az, "iot:Publish", res[i % 6], "dev-1", "127.0.0.1") == DD_POLICY_ALLOW;
		t[i] = now_us() - s;
	}
	qsort(t, NDECIDE, sizeof *t, cmp);
	printf("ACL decision (iot:Publish, compiled policies, no SQL): p50 %.2f us, p99 %.2f us (%d of %d allowed)\n",
	       t[NDECIDE / 2], t[NDECIDE * 99 / 100], allowed, NDECIDE);
	dd_authz_free(az);
	free(t);
	json_decref(cert);
	dd_service_close(&svc);
	dd_models_free();
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : 1;
}

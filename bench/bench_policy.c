/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Policy evaluation throughput: a typical device policy (5 statements, thing-name
 * variables, one IsAttached condition, one Deny) compiled once, evaluated single-threaded
 * against 10,000 distinct requests (connect, publish, subscribe, receive; own and other
 * devices' resources) round-robin. Prints evaluations per second; the target is 2,000,000.
 */
#include "dd/policy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NREQ 10000
#define ARN "arn:aws:iot:us-east-1:123456789012:"

static const char policy_text[] =
	"{\"Version\":\"2012-10-17\",\"Statement\":["
	"{\"Sid\":\"Connect\",\"Effect\":\"Allow\",\"Action\":\"iot:Connect\","
	" \"Resource\":\"" ARN "client/${iot:Connection.Thing.ThingName}\","
	" \"Condition\":{\"Bool\":{\"iot:Connection.Thing.IsAttached\":\"true\"}}},"
	"{\"Sid\":\"Publish\",\"Effect\":\"Allow\",\"Action\":[\"iot:Publish\",\"iot:RetainPublish\"],"
	" \"Resource\":[\"" ARN "topic/$aws/things/${iot:Connection.Thing.ThingName}/shadow/*\","
	"              \"" ARN "topic/telemetry/${iot:Connection.Thing.ThingName}/*\"]},"
	"{\"Sid\":\"Subscribe\",\"Effect\":\"Allow\",\"Action\":\"iot:Subscribe\","
	" \"Resource\":\"" ARN "topicfilter/$aws/things/${iot:Connection.Thing.ThingName}/*\"},"
	"{\"Sid\":\"Receive\",\"Effect\":\"Allow\",\"Action\":\"iot:Receive\","
	" \"Resource\":\"" ARN "topic/$aws/things/${iot:Connection.Thing.ThingName}/*\"},"
	"{\"Sid\":\"NoDelete\",\"Effect\":\"Deny\",\"Action\":\"iot:Publish\","
	" \"Resource\":\"" ARN "topic/$aws/things/*/shadow/delete\"}]}";

struct req_store {
	char action[32];
	char resource[160];
	char thing[32];
};

int main(void)
{
	struct dd_policy *p = NULL;
	char err[DD_POLICY_ERRMSG_SIZE];
	if (dd_policy_compile(policy_text, strlen(policy_text), DD_POLICY_IOT, &p, err, sizeof err)) {
		fprintf(stderr, "compile: %s\n", err);
		return 1;
	}
	struct req_store *st = calloc(NREQ, sizeof *st);
	struct dd_policy_request *reqs = calloc(NREQ, sizeof *reqs);
	if (!st || !reqs)
		return 1;
	static const char *const actions[] = { "iot:Connect", "iot:Publish", "iot:Subscribe",
					       "iot:Receive" };
	unsigned seed = 12345;
	for (int i = 0; i < NREQ; i++) {
		seed = seed * 1103515245u + 12345u;
		int kind = (int)((seed >> 16) % 4);
		int other = (int)((seed >> 8) % 5) == 0; /* 20%: another device's resource */
		snprintf(st[i].thing, sizeof st[i].thing, "device-%05d", i);
		const char *target = other ? "device-99999" : st[i].thing;
		snprintf(st[i].action, sizeof st[i].action, "%s", actions[kind]);
		switch (kind) {
		case 0:
			snprintf(st[i].resource, sizeof st[i].resource, ARN "client/%s", target);
			break;
		case 1:
			snprintf(st[i].resource, sizeof st[i].resource,
				 ARN "topic/$aws/things/%s/shadow/%s", target,
				 i % 10 == 0 ? "delete" : "update");
			break;
		case 2:
			snprintf(st[i].resource, sizeof st[i].resource,
				 ARN "topicfilter/$aws/things/%s/shadow/update/accepted", target);
			break;
		default:
			snprintf(st[i].resource, sizeof st[i].resource,
				 ARN "topic/$aws/things/%s/jobs/notify", target);
			break;
		}
		reqs[i].action = st[i].action;
		reqs[i].resource = st[i].resource;
		reqs[i].client_id = st[i].thing;
		reqs[i].thing_name = st[i].thing;
		reqs[i].is_attached = true;
	}
	const struct dd_policy *set[1] = { p };
	const long iters = 20000000;
	long allowed = 0;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (long k = 0; k < iters; k++) {
		enum dd_policy_decision d;
		if (dd_policy_evaluate(set, 1, &reqs[k % NREQ], &d, NULL))
			return 1;
		allowed += d == DD_POLICY_ALLOW;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	double rate = (double)iters / secs;
	printf("policy_eval: %.0f evaluations/s single thread (%ld evaluations of %d distinct "
	       "requests in %.2f s, %.1f%% allowed; target 2000000)\n",
	       rate, iters, NREQ, secs, 100.0 * (double)allowed / (double)iters);
	dd_policy_free(p);
	free(st);
	free(reqs);
	return rate >= 2000000.0 ? 0 : 1;
}

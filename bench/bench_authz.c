/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Cost of one authorization decision (dd_authz_check) for an IAM user with a typical
 * policy set: an inline user policy (resource pattern with ${aws:username}, a Deny), a
 * group inline policy, the AWS managed AWSIoTDeviceDefenderAudit policy attached. Measures
 * the cached path (policies compiled once per thread and IAM generation) over 200,000
 * DescribeThing / CreateThing / ListThings decisions with distinct thing names, and the
 * uncached path (the generation bumped before each decision: load and compile from the
 * store). Prints microseconds per decision; single-threaded, in a temporary data dir.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "store/dd_store_int.h"
#include "dd/iam.h"
#include "dd/store.h"
#include "server/dd_authz.h"

#define N_CACHED 200000
#define N_UNCACHED 2000

static const char setup_sql[] =
	"INSERT INTO iam_users VALUES ('123456789012', 'bench', 'AIDABENCH000000000001', '/', 0);"
	"INSERT INTO iam_user_policies VALUES ('123456789012', 'bench', 'registry',"
	" '{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":[\"iot:CreateThing\","
	"\"iot:DescribeThing\"],\"Resource\":\"arn:aws:iot:*:123456789012:thing/${aws:username}-*\"},"
	"{\"Effect\":\"Deny\",\"Action\":\"iot:DeleteThing\",\"Resource\":\"*\"}]}');"
	"INSERT INTO iam_groups VALUES ('123456789012', 'readers', 'AGPABENCH000000000001', '/', 0);"
	"INSERT INTO iam_group_members VALUES ('123456789012', 'readers', 'bench');"
	"INSERT INTO iam_group_policies VALUES ('123456789012', 'readers', 'list',"
	" '{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":[\"iot:List*\","
	"\"iot:Describe*\"],\"Resource\":\"*\"}]}');"
	"INSERT INTO iam_user_attachments VALUES ('123456789012', 'bench',"
	" 'arn:aws:iam::aws:policy/service-role/AWSIoTDeviceDefenderAudit');";

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int run(struct dd_db *db, int n, bool bump, long *denied)
{
	static const char *const ops[] = { "DescribeThing", "CreateThing", "ListThings", "DeleteThing" };
	struct dd_authz_caller who = { .account = "123456789012", .user = "bench", .user_id = "AIDABENCH000000000001" };
	for (int i = 0; i < n; i++) {
		char name[64], msg[512];
		snprintf(name, sizeof name, "bench-%d", i);
		json_t *in = json_pack("{s:s}", "thingName", name);
		if (bump)
			dd_iam_generation_bump();
		int rc = dd_authz_check(db, &who, "iot", ops[i % 4], in, "us-east-1", 1700000000000LL, msg, sizeof msg);
		json_decref(in);
		if (rc == DD_EDENIED)
			(*denied)++;
		else if (rc)
			return rc;
	}
	return 0;
}

int main(void)
{
	char dir[] = "/tmp/dd-bench-authz-XXXXXX";
	if (!mkdtemp(dir))
		return 1;
	struct dd_store *store = NULL;
	if (dd_store_open(dir, &store)) {
		fprintf(stderr, "bench_authz: cannot open a store in %s\n", dir);
		return 1;
	}
	struct dd_db *db = dd_store_db(store);
	int status = 1;
	if (!db || dd_db_exec(db, setup_sql)) {
		fprintf(stderr, "bench_authz: setup failed\n");
		goto out;
	}
	long denied = 0;
	if (run(db, 1000, false, &denied)) /* warm-up */
		goto out;
	denied = 0;
	double t0 = now_s();
	if (run(db, N_CACHED, false, &denied))
		goto out;
	double cached = (now_s() - t0) / N_CACHED * 1e6;
	/* DeleteThing (1 in 4) is denied by the Deny statement; the rest allowed */
	if (denied != N_CACHED / 4) {
		fprintf(stderr, "bench_authz: %ld denials, expected %d\n", denied, N_CACHED / 4);
		goto out;
	}
	t0 = now_s();
	if (run(db, N_UNCACHED, true, &denied))
		goto out;
	double uncached = (now_s() - t0) / N_UNCACHED * 1e6;
	printf("authorization decision, cached policies: %.2f us\n", cached);
	printf("authorization decision, policies loaded and compiled: %.1f us\n", uncached);
	status = 0;
out:
	dd_authz_cache_clear();
	dd_store_close(store);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "bench_authz: could not remove %s\n", dir);
	return status;
}

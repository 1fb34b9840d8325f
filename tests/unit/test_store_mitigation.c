/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the mitigation store (src/store/dd_store_mitigation.c) and the outbox
 * store (src/store/dd_store_outbox.c) on a fresh store in a temporary directory: action
 * definitions (insert, duplicate, get, not found, update, list with a type filter and
 * keyset paging, delete with its tags); tasks (insert, duplicate, get, by token, status,
 * count, listing filters, cancel, finish only while IN_PROGRESS); executions (expansion
 * of an audit target with a reason-code filter and of a finding list, suppressed findings
 * SKIPPED at once, pending order, results, CANCELED rows overwritten only by a real
 * result, counts, statistics, earlier failure); the reads of other aggregates (finding,
 * audit status, certificate status, groups, principals, a new default policy version up
 * to the version limit, the logging setting, SNS topics); and the outbox's claim with
 * the per-account cap, retry, fail, complete, requeue of in-flight rows, counts and purge.
 * Rows of other aggregates are fixtures written directly with SQL: their own store files
 * belong to other modules.
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
#include "dd/store.h"
#include "store/dd_store_certs.h"
#include "store/dd_store_audit.h"
#include "store/dd_store_groups.h"
#include "store/dd_store_mitigation.h"
#include "store/dd_store_policies.h"
#include "store/dd_store_principals.h"
#include "store/dd_store_settings.h"
#include "store/dd_store_sns.h"
#include "store/dd_store_outbox.h"

#include "dd_test_store.h"

#define AR "111111111111/us-east-1"
#define AR2 "222222222222/us-east-1"

static void sql(struct dd_test_store *f, const char *s)
{
	if (dd_db_exec(f->db, s) != 0)
		fail_msg("%s: failed (see the log above)", s);
}

struct names {
	char items[16][64];
	int n;
};

static int collect_action(const char *name, int64_t created_ms, void *ud)
{
	(void)created_ms;
	struct names *n = ud;
	snprintf(n->items[n->n++], 64, "%s", name);
	return 0;
}

static int collect_name(const char *name, void *ud)
{
	struct names *n = ud;
	snprintf(n->items[n->n++], 64, "%s", name);
	return 0;
}

static int collect_thing(const char *thing, const char *type, void *ud)
{
	(void)type;
	return collect_name(thing, ud);
}

/* The finding (or task) members the mitigation engine and API read, copied. */
struct finding_copy {
	char check[64], reason_code[64], resource[256], status[32];
	int64_t finding_ms;
	bool suppressed;
};

static int copy_finding(const struct dd_store_audit_finding *fd, void *ud)
{
	struct finding_copy *c = ud;
	snprintf(c->check, sizeof c->check, "%s", fd->check_name);
	snprintf(c->reason_code, sizeof c->reason_code, "%s", fd->reason_code);
	snprintf(c->resource, sizeof c->resource, "%s", fd->resource);
	c->finding_ms = fd->finding_ms;
	c->suppressed = fd->suppressed;
	return 0;
}

static int copy_task(const struct dd_store_audit_task *t, void *ud)
{
	struct finding_copy *c = ud;
	snprintf(c->status, sizeof c->status, "%s", t->status);
	return 0;
}

static void test_actions(void **state)
{
	struct dd_test_store *f = *state;
	assert_int_equal(dd_store_mitigation_action_insert(f->db, AR, "b-deact", "id-1", "UPDATE_DEVICE_CERTIFICATE",
							   "arn:aws:iam::111111111111:role/r", "{\"x\":1}", 1000), 0);
	assert_int_equal(dd_store_mitigation_action_insert(f->db, AR, "b-deact", "id-9", "UPDATE_DEVICE_CERTIFICATE",
							   "arn:aws:iam::111111111111:role/r", "{}", 1000), DD_EEXIST);
	assert_int_equal(dd_store_mitigation_action_insert(f->db, AR, "a-log", "id-2", "ENABLE_IOT_LOGGING",
							   "arn:aws:iam::111111111111:role/r", "{}", 2000), 0);
	assert_int_equal(dd_store_mitigation_action_insert(f->db, AR, "c-sns", "id-3", "PUBLISH_FINDING_TO_SNS",
							   "arn:aws:iam::111111111111:role/r", "{}", 3000), 0);
	/* another region of the account: separate */
	assert_int_equal(dd_store_mitigation_action_insert(f->db, "111111111111/eu-west-1", "b-deact", "id-4",
							   "UPDATE_CA_CERTIFICATE", "arn:aws:iam::111111111111:role/r", "{}", 1), 0);

	struct dd_store_mitigation_action a;
	assert_int_equal(dd_store_mitigation_action_get(f->db, AR, "b-deact", &a), 0);
	assert_string_equal(a.id, "id-1");
	assert_string_equal(a.type, "UPDATE_DEVICE_CERTIFICATE");
	assert_string_equal(a.params, "{\"x\":1}");
	assert_int_equal(a.created_ms, 1000);
	dd_store_mitigation_action_clear(&a);
	assert_int_equal(dd_store_mitigation_action_get(f->db, AR, "nope", &a), DD_ENOTFOUND);
	assert_int_equal(dd_store_mitigation_action_get(f->db, AR2, "b-deact", &a), DD_ENOTFOUND);

	assert_int_equal(dd_store_mitigation_action_update(f->db, AR, "b-deact", NULL, "{\"y\":2}", 5000), 0);
	assert_int_equal(dd_store_mitigation_action_get(f->db, AR, "b-deact", &a), 0);
	assert_string_equal(a.params, "{\"y\":2}");
	assert_string_equal(a.role_arn, "arn:aws:iam::111111111111:role/r");
	assert_int_equal(a.modified_ms, 5000);
	dd_store_mitigation_action_clear(&a);
	assert_int_equal(dd_store_mitigation_action_update(f->db, AR, "nope", "r", NULL, 1), DD_ENOTFOUND);

	int64_t n;
	assert_int_equal(dd_store_mitigation_action_count(f->db, AR, &n), 0);
	assert_int_equal(n, 3);

	struct names l = { 0 };
	assert_int_equal(dd_store_mitigation_action_list(f->db, AR, NULL, "", 2, collect_action, &l), 0);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.items[0], "a-log");
	assert_string_equal(l.items[1], "b-deact");
	memset(&l, 0, sizeof l);
	assert_int_equal(dd_store_mitigation_action_list(f->db, AR, NULL, "b-deact", 10, collect_action, &l), 0);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.items[0], "c-sns");
	memset(&l, 0, sizeof l);
	assert_int_equal(dd_store_mitigation_action_list(f->db, AR, "ENABLE_IOT_LOGGING", "", 10, collect_action, &l), 0);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.items[0], "a-log");

	sql(f, "INSERT INTO tags(account_region, resource_arn, key, value) VALUES ('" AR "', 'arn:x', 'k', 'v')");
	assert_int_equal(dd_store_mitigation_action_delete(f->db, AR, "b-deact", "arn:x"), 0);
	assert_int_equal(dd_store_mitigation_action_get(f->db, AR, "b-deact", &a), DD_ENOTFOUND);
	struct dd_stmt *st = dd_db_stmt(f->db, "SELECT count(*) FROM tags");
	assert_int_equal(dd_stmt_step(st), DD_STMT_ROW);
	assert_int_equal(dd_col_int(st, 0), 0);
	dd_stmt_reset(st);
	assert_int_equal(dd_store_mitigation_action_delete(f->db, AR, "b-deact", "arn:x"), 0); /* absent: fine */
}

/* Two findings of one audit (one suppressed by a suppression), one of another check. */
static void findings_fixture(struct dd_test_store *f)
{
	sql(f, "INSERT INTO audit_tasks(account_region, task_id, task_type, status, start_ms, checks, window_start_ms)"
	       " VALUES ('" AR "', 'audit1', 'ON_DEMAND_AUDIT_TASK', 'COMPLETED', 100, '[]', 100),"
	       " ('" AR "', 'audit2', 'ON_DEMAND_AUDIT_TASK', 'IN_PROGRESS', 200, '[]', 200)");
	sql(f, "INSERT INTO audit_findings(account_region, finding_id, task_id, check_name, task_start_ms, finding_ms, severity,"
	       " resource_type, resource_key, resource, related, reason, reason_code, suppressed) VALUES"
	       " ('" AR "', 'f1', 'audit1', 'CHK_A', 100, 110, 'HIGH', 'DEVICE_CERTIFICATE', 'k1',"
	       "  '{\"resourceIdentifier\":{\"deviceCertificateId\":\"c1\"}}', '[]', 'expiring', 'CODE_X', 0),"
	       " ('" AR "', 'f2', 'audit1', 'CHK_A', 100, 111, 'HIGH', 'DEVICE_CERTIFICATE', 'k2', '{}', '[]', 'r', 'CODE_Y', 0),"
	       " ('" AR "', 'f3', 'audit1', 'CHK_A', 100, 112, 'HIGH', 'DEVICE_CERTIFICATE', 'k3', '{}', '[]', 'r', 'CODE_X', 0),"
	       " ('" AR "', 'f4', 'audit1', 'CHK_B', 100, 113, 'LOW', 'POLICY', 'k4', '{}', '[]', 'r', 'CODE_Z', 1)");
	sql(f, "INSERT INTO audit_suppressions(account_region, check_name, resource_key, resource, indefinite)"
	       " VALUES ('" AR "', 'CHK_A', 'k3', '{}', 1)");
}

struct execs {
	char finding[16][16];
	int64_t seq[16];
	char status[16][16];
	int n;
};

static int collect_exec(const struct dd_store_mitigation_execution *e, void *ud)
{
	struct execs *x = ud;
	snprintf(x->finding[x->n], 16, "%s", e->finding_id);
	snprintf(x->status[x->n], 16, "%s", e->status);
	x->seq[x->n++] = e->seq;
	return 0;
}

static int collect_pending(const char *finding, int64_t seq, const char *action, void *ud)
{
	(void)action;
	struct execs *x = ud;
	snprintf(x->finding[x->n], 16, "%s", finding);
	x->seq[x->n++] = seq;
	return 0;
}

struct stat_row {
	char check[16];
	int64_t total, failed, succeeded, skipped, canceled;
};

static int collect_stats(const char *check, int64_t total, int64_t failed, int64_t succeeded, int64_t skipped,
			 int64_t canceled, void *ud)
{
	struct stat_row *r = ud;
	while (r->check[0])
		r++;
	snprintf(r->check, sizeof r->check, "%s", check);
	r->total = total;
	r->failed = failed;
	r->succeeded = succeeded;
	r->skipped = skipped;
	r->canceled = canceled;
	return 0;
}

static int collect_task(const char *task_id, const char *status, int64_t start_ms, void *ud)
{
	(void)status;
	(void)start_ms;
	return collect_name(task_id, ud);
}

static void test_tasks_and_executions(void **state)
{
	struct dd_test_store *f = *state;
	findings_fixture(f);
	struct dd_store_mitigation_task t = { .client_token = "tok1", .request_hash = "h1", .target = "{\"auditTaskId\":\"audit1\"}",
					      .mapping = "{\"CHK_A\":[\"act\"]}", .actions = "[]", .audit_task_id = "audit1",
					      .start_ms = 1000 };
	assert_int_equal(dd_store_mitigation_task_insert(f->db, AR, "t1", &t), 0);
	assert_int_equal(dd_store_mitigation_task_insert(f->db, AR, "t1", &t), DD_EEXIST);
	struct dd_store_mitigation_task t2 = t;
	t2.client_token = "tok2";
	t2.audit_task_id = NULL;
	t2.start_ms = 2000;
	assert_int_equal(dd_store_mitigation_task_insert(f->db, AR, "t2", &t2), 0);

	struct dd_store_mitigation_task g;
	assert_int_equal(dd_store_mitigation_task_get(f->db, AR, "t1", &g), 0);
	assert_string_equal(g.status, "IN_PROGRESS");
	assert_string_equal(g.client_token, "tok1");
	assert_string_equal(g.audit_task_id, "audit1");
	assert_int_equal(g.end_ms, -1);
	dd_store_mitigation_task_clear(&g);
	assert_int_equal(dd_store_mitigation_task_get(f->db, AR, "t2", &g), 0);
	assert_null(g.audit_task_id);
	dd_store_mitigation_task_clear(&g);
	assert_int_equal(dd_store_mitigation_task_get(f->db, AR, "nope", &g), DD_ENOTFOUND);
	char buf[64];
	assert_int_equal(dd_store_mitigation_task_by_token(f->db, AR, "tok2", buf, sizeof buf), 0);
	assert_string_equal(buf, "t2");
	assert_int_equal(dd_store_mitigation_task_by_token(f->db, AR, "tok9", buf, sizeof buf), DD_ENOTFOUND);
	int64_t n;
	assert_int_equal(dd_store_mitigation_task_count_in_progress(f->db, AR, &n), 0);
	assert_int_equal(n, 2);

	/* t1: audit1's CHK_A findings with reason code CODE_X, two actions; f3 is suppressed */
	const char *codes[] = { "CODE_X" };
	for (int seq = 0; seq < 2; seq++) {
		struct dd_store_mitigation_expand x = { .task_id = "t1", .check = "CHK_A", .action_name = seq ? "a2" : "a1",
							.action_id = "aid", .seq = seq, .now_ms = 1500, .audit_task_id = "audit1",
							.reason_codes = codes, .n_codes = 1 };
		assert_int_equal(dd_store_mitigation_execution_expand(f->db, AR, &x), 0);
	}
	/* t2: a finding list (f2, and f4 of another check: not expanded for CHK_A) */
	const char *ids[] = { "f2", "f4" };
	struct dd_store_mitigation_expand x2 = { .task_id = "t2", .check = "CHK_A", .action_name = "a1", .action_id = "aid",
						 .seq = 0, .now_ms = 1500, .finding_ids = ids, .n_ids = 2 };
	assert_int_equal(dd_store_mitigation_execution_expand(f->db, AR, &x2), 0);

	struct execs e = { 0 };
	assert_int_equal(dd_store_mitigation_execution_list(f->db, AR, "t1", NULL, NULL, "", -1, 50, collect_exec, &e), 0);
	assert_int_equal(e.n, 4);
	assert_string_equal(e.finding[0], "f1");
	assert_string_equal(e.status[0], "PENDING");
	assert_string_equal(e.finding[2], "f3");
	assert_string_equal(e.status[2], "SKIPPED");
	memset(&e, 0, sizeof e);
	assert_int_equal(dd_store_mitigation_execution_list(f->db, AR, "t2", NULL, NULL, "", -1, 50, collect_exec, &e), 0);
	assert_int_equal(e.n, 1);
	assert_string_equal(e.finding[0], "f2");
	memset(&e, 0, sizeof e);
	assert_int_equal(dd_store_mitigation_execution_list(f->db, AR, "t1", NULL, "SKIPPED", "", -1, 50, collect_exec, &e), 0);
	assert_int_equal(e.n, 2);

	/* the engine's view: pending rows in (finding, seq) order, after a key */
	memset(&e, 0, sizeof e);
	assert_int_equal(dd_store_mitigation_execution_pending(f->db, AR, "t1", "", -1, 10, collect_pending, &e), 0);
	assert_int_equal(e.n, 2);
	assert_int_equal(e.seq[1], 1);
	memset(&e, 0, sizeof e);
	assert_int_equal(dd_store_mitigation_execution_pending(f->db, AR, "t1", "f1", 0, 10, collect_pending, &e), 0);
	assert_int_equal(e.n, 1);

	struct dd_store_mitigation_result r = { .finding_id = "f1", .seq = 0, .status = "FAILED", .start_ms = 1, .end_ms = 2,
						.error_code = "AccessDeniedException", .message = "no", .prior = NULL };
	assert_int_equal(dd_store_mitigation_execution_set_result(f->db, AR, "t1", &r), 0);
	bool failed = false;
	assert_int_equal(dd_store_mitigation_execution_earlier_failed(f->db, AR, "t1", "f1", 1, &failed), 0);
	assert_true(failed);
	assert_int_equal(dd_store_mitigation_execution_earlier_failed(f->db, AR, "t1", "f1", 0, &failed), 0);
	assert_false(failed);
	int64_t left, nfailed;
	assert_int_equal(dd_store_mitigation_execution_counts(f->db, AR, "t1", &left, &nfailed), 0);
	assert_int_equal(left, 1);
	assert_int_equal(nfailed, 1);

	/* cancel: PENDING rows become CANCELED; a later SKIPPED result does not overwrite them,
	 * a real result does */
	assert_int_equal(dd_store_mitigation_task_cancel(f->db, AR, "t1", 3000), 0);
	assert_int_equal(dd_store_mitigation_task_status(f->db, AR, "t1", buf, sizeof buf), 0);
	assert_string_equal(buf, "CANCELED");
	struct dd_store_mitigation_result skip = { .finding_id = "f1", .seq = 1, .status = "SKIPPED", .start_ms = 4, .end_ms = 4 };
	assert_int_equal(dd_store_mitigation_execution_set_result(f->db, AR, "t1", &skip), 0);
	memset(&e, 0, sizeof e);
	assert_int_equal(dd_store_mitigation_execution_list(f->db, AR, "t1", "f1", NULL, "", -1, 50, collect_exec, &e), 0);
	assert_string_equal(e.status[1], "CANCELED");
	struct dd_store_mitigation_result done = { .finding_id = "f1", .seq = 1, .status = "COMPLETED", .start_ms = 4, .end_ms = 5,
						   .prior = "{\"status\":\"ACTIVE\"}" };
	assert_int_equal(dd_store_mitigation_execution_set_result(f->db, AR, "t1", &done), 0);
	memset(&e, 0, sizeof e);
	assert_int_equal(dd_store_mitigation_execution_list(f->db, AR, "t1", "f1", NULL, "", -1, 50, collect_exec, &e), 0);
	assert_string_equal(e.status[1], "COMPLETED");
	/* finish only from IN_PROGRESS */
	assert_int_equal(dd_store_mitigation_task_finish(f->db, AR, "t1", "COMPLETED", 9000), DD_ENOTFOUND);
	assert_int_equal(dd_store_mitigation_task_finish(f->db, AR, "t2", "COMPLETED", 9000), 0);
	assert_int_equal(dd_store_mitigation_task_get(f->db, AR, "t2", &g), 0);
	assert_string_equal(g.status, "COMPLETED");
	assert_int_equal(g.end_ms, 9000);
	dd_store_mitigation_task_clear(&g);

	struct stat_row stats[4];
	memset(stats, 0, sizeof stats);
	assert_int_equal(dd_store_mitigation_task_stats(f->db, AR, "t1", collect_stats, stats), 0);
	assert_string_equal(stats[0].check, "CHK_A");
	assert_int_equal(stats[0].total, 2);   /* f1 and f3 */
	assert_int_equal(stats[0].failed, 1);  /* f1 */
	assert_int_equal(stats[0].skipped, 1); /* f3 */

	/* listing: newest first, filters */
	struct names l = { 0 };
	struct dd_store_mitigation_task_filter flt = { .start_ms = 0, .end_ms = 10000, .after_start_ms = INT64_MAX,
						       .after_task_id = "", .limit = 10 };
	assert_int_equal(dd_store_mitigation_task_list(f->db, AR, &flt, collect_task, &l), 0);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.items[0], "t2");
	memset(&l, 0, sizeof l);
	flt.status = "CANCELED";
	assert_int_equal(dd_store_mitigation_task_list(f->db, AR, &flt, collect_task, &l), 0);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.items[0], "t1");
	memset(&l, 0, sizeof l);
	flt.status = NULL;
	flt.finding_id = "f2";
	assert_int_equal(dd_store_mitigation_task_list(f->db, AR, &flt, collect_task, &l), 0);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.items[0], "t2");
	memset(&l, 0, sizeof l);
	flt.finding_id = NULL;
	flt.audit_task_id = "audit1"; /* t1 by its target, t2 by its finding's audit */
	assert_int_equal(dd_store_mitigation_task_list(f->db, AR, &flt, collect_task, &l), 0);
	assert_int_equal(l.n, 2);
	memset(&l, 0, sizeof l);
	flt.audit_task_id = NULL;
	flt.after_start_ms = 2000;
	flt.after_task_id = "t2";
	assert_int_equal(dd_store_mitigation_task_list(f->db, AR, &flt, collect_task, &l), 0);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.items[0], "t1");
	assert_int_equal(dd_store_mitigation_task_list(f->db, AR2, &flt, collect_task, &l), 0);
	assert_int_equal(l.n, 1); /* nothing added for another account */
}

static int collect_ref(const char *account_region, const char *task_id, void *ud)
{
	(void)account_region;
	return collect_name(task_id, ud);
}

static void test_in_progress_across_accounts(void **state)
{
	struct dd_test_store *f = *state;
	struct dd_store_mitigation_task t = { .client_token = "a", .request_hash = "h", .target = "{}", .mapping = "{}",
					      .actions = "[]", .start_ms = 20 };
	assert_int_equal(dd_store_mitigation_task_insert(f->db, AR, "late", &t), 0);
	t.start_ms = 10;
	t.client_token = "b";
	assert_int_equal(dd_store_mitigation_task_insert(f->db, AR2, "early", &t), 0);
	struct names l = { 0 };
	assert_int_equal(dd_store_mitigation_task_in_progress(f->db, collect_ref, &l), 0);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.items[0], "early");
	assert_string_equal(l.items[1], "late");
}

static void test_other_aggregates(void **state)
{
	struct dd_test_store *f = *state;
	findings_fixture(f);
	/* the findings and audit tasks mitigation reads, through the audit store */
	struct finding_copy fd = { 0 };
	assert_int_equal(dd_store_audit_findings_get(f->db, AR, "f1", copy_finding, &fd), 0);
	assert_string_equal(fd.check, "CHK_A");
	assert_string_equal(fd.reason_code, "CODE_X");
	assert_int_equal(fd.finding_ms, 110);
	assert_false(fd.suppressed);
	assert_non_null(strstr(fd.resource, "c1"));
	assert_int_equal(dd_store_audit_findings_get(f->db, AR, "zz", copy_finding, &fd), DD_ENOTFOUND);
	assert_int_equal(dd_store_audit_findings_get(f->db, AR2, "f1", copy_finding, &fd), DD_ENOTFOUND);
	char buf[64];
	assert_int_equal(dd_store_audit_findings_get(f->db, AR, "f4", copy_finding, &fd), 0);
	assert_string_equal(fd.check, "CHK_B");
	assert_int_equal(dd_store_audit_task_get(f->db, AR, "audit2", copy_task, &fd), 0);
	assert_string_equal(fd.status, "IN_PROGRESS");
	assert_int_equal(dd_store_audit_task_get(f->db, AR, "nope", copy_task, &fd), DD_ENOTFOUND);

	sql(f, "INSERT INTO certificates(account_region, id, status, pem, owner, created, modified, generation_id)"
	       " VALUES ('" AR "', 'c1', 'ACTIVE', 'x', '111111111111', 1, 1, 'g')");
	sql(f, "INSERT INTO ca_certificates(account_region, id, status, pem, owner, created, modified, generation_id)"
	       " VALUES ('" AR "', 'ca1', 'INACTIVE', 'x', '111111111111', 1, 1, 'g')");
	assert_int_equal(dd_store_certs_status(f->db, AR, DD_STORE_CERTS_DEVICE, "c1", buf), 0);
	assert_string_equal(buf, "ACTIVE");
	assert_int_equal(dd_store_certs_status(f->db, AR, DD_STORE_CERTS_CA, "ca1", buf), 0);
	assert_string_equal(buf, "INACTIVE");
	assert_int_equal(dd_store_certs_status(f->db, AR, DD_STORE_CERTS_CA, "c1", buf), DD_ENOTFOUND);

	sql(f, "INSERT INTO thing_groups(account_region, name, group_id, dynamic, created) VALUES"
	       " ('" AR "', 'static1', 'g1', 0, 1), ('" AR "', 'dyn1', 'g2', 1, 1)");
	sql(f, "INSERT INTO thing_group_members(account_region, group_name, thing_name) VALUES"
	       " ('" AR "', 'static1', 'thing1'), ('" AR "', 'dyn1', 'thing1')");
	sql(f, "INSERT INTO thing_principals(account_region, thing_name, principal) VALUES"
	       " ('" AR "', 'thing2', 'arn:cert'), ('" AR "', 'thing1', 'arn:cert')");
	/* groups and principals through their owners' store functions */
	struct dd_store_groups_row grow;
	assert_int_equal(dd_store_groups_get(f->db, AR, "static1", &grow), 0);
	assert_false(grow.dynamic);
	dd_store_groups_row_clear(&grow);
	assert_int_equal(dd_store_groups_get(f->db, AR, "dyn1", &grow), 0);
	assert_true(grow.dynamic);
	dd_store_groups_row_clear(&grow);
	assert_int_equal(dd_store_groups_get(f->db, AR, "none", &grow), DD_ENOTFOUND);
	struct names l = { 0 };
	assert_int_equal(dd_store_groups_member_list_groups(f->db, AR, "thing1", "", 0, collect_name, &l), 0);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.items[0], "dyn1");
	memset(&l, 0, sizeof l);
	assert_int_equal(dd_store_principals_things_of(f->db, AR, "arn:cert", NULL, "", 0, collect_thing, &l), 0);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.items[0], "thing1");

	sql(f, "INSERT INTO policies(account_region, name, default_version, next_version, created, modified, generation_id)"
	       " VALUES ('" AR "', 'pol', 1, 2, 1, 1, 'g')");
	sql(f, "INSERT INTO policy_versions(account_region, policy_name, version, document, created) VALUES ('" AR "', 'pol', 1, '{}', 1)");
	/* a new default version through the policies store (the engine's blank policy) */
	struct dd_store_policies_row prow;
	int64_t nv = 0, count = 0;
	assert_int_equal(dd_store_policies_get(f->db, AR, "pol", &prow), 0);
	assert_int_equal(prow.default_version, 1);
	assert_int_equal(dd_store_policies_versions_count(f->db, AR, "pol", &count), 0);
	assert_int_equal(count, 1);
	assert_int_equal(dd_store_policies_version_add(f->db, AR, "pol", "{\"blank\":1}", true, "g2", 5, &nv), 0);
	assert_int_equal(nv, 2);
	assert_int_equal(dd_store_policies_versions_count(f->db, AR, "pol", &count), 0);
	assert_int_equal(count, 2);
	assert_int_equal(dd_store_policies_get(f->db, AR, "none", &prow), DD_ENOTFOUND);
	assert_int_equal(dd_store_policies_version_add(f->db, AR, "none", "{}", true, "g3", 5, &nv), DD_ENOTFOUND);
	struct dd_stmt *st = dd_db_stmt(f->db, "SELECT default_version, next_version FROM policies WHERE name = 'pol'");
	assert_int_equal(dd_stmt_step(st), DD_STMT_ROW);
	assert_int_equal(dd_col_int(st, 0), 2);
	assert_int_equal(dd_col_int(st, 1), 3);
	dd_stmt_reset(st);

	char *doc = (char *)1;
	/* never set: the engine takes DD_ENOTFOUND as logging off */
	assert_int_equal(dd_store_settings_get(f->db, AR, "logging_v2", &doc), DD_ENOTFOUND);
	assert_null(doc);
	assert_int_equal(dd_store_settings_put(f->db, AR, "logging_v2", "{\"defaultLogLevel\":\"WARN\"}"), 0);
	assert_int_equal(dd_store_settings_put(f->db, AR, "logging_v2", "{\"defaultLogLevel\":\"INFO\"}"), 0);
	assert_int_equal(dd_store_settings_get(f->db, AR, "logging_v2", &doc), 0);
	assert_string_equal(doc, "{\"defaultLogLevel\":\"INFO\"}");
	free(doc);

	sql(f, "INSERT INTO sns_topics(account, arn, name, region, created) VALUES"
	       " ('111111111111', 'arn:aws:sns:us-east-1:111111111111:t', 't', 'us-east-1', 1)");
	bool ex = false;
	assert_int_equal(dd_store_sns_topic_exists(f->db, "111111111111", "arn:aws:sns:us-east-1:111111111111:t", &ex), 0);
	assert_true(ex);
	assert_int_equal(dd_store_sns_topic_exists(f->db, "222222222222", "arn:aws:sns:us-east-1:111111111111:t", &ex), 0);
	assert_false(ex);
}

static void outbox_row(struct dd_test_store *f, const char *account, const char *mid, int64_t next_at)
{
	char q[1024];
	snprintf(q, sizeof q,
		 "INSERT INTO sns_outbox(account, topic_arn, subscription_arn, message_id, type, protocol, endpoint, subject, body,"
		 " status, next_at, created, updated) VALUES ('%s', 'arn:topic', 'arn:sub', '%s', 'Notification', 'https',"
		 " 'https://example.invalid/', NULL, 'body', 'PENDING', %lld, 1, 1)",
		 account, mid, (long long)next_at);
	sql(f, q);
}

static void test_outbox(void **state)
{
	struct dd_test_store *f = *state;
	outbox_row(f, "111111111111", "m1", 10);
	outbox_row(f, "111111111111", "m2", 20);
	outbox_row(f, "222222222222", "m3", 30);
	outbox_row(f, "111111111111", "m4", 5000);  /* not due yet */
	struct dd_store_outbox_row r1, r2, r3;
	/* per-account cap 1: m1, then (m2 is blocked by m1) m3, then nothing */
	assert_int_equal(dd_store_outbox_claim(f->db, 100, 1, "me", 400, &r1), 1);
	assert_string_equal(r1.message_id, "m1");
	assert_int_equal(r1.attempts, 1);
	assert_null(r1.subject);
	assert_string_equal(r1.body, "body");
	assert_int_equal(dd_store_outbox_claim(f->db, 100, 1, "me", 400, &r2), 1);
	assert_string_equal(r2.message_id, "m3");
	assert_int_equal(dd_store_outbox_claim(f->db, 100, 1, "me", 400, &r3), 0);
	struct dd_store_outbox_counts c;
	assert_int_equal(dd_store_outbox_counts(f->db, &c), 0);
	assert_int_equal(c.inflight, 2);
	assert_int_equal(c.pending, 2);

	/* m1 retries later: m2 becomes claimable now */
	assert_int_equal(dd_store_outbox_retry(f->db, r1.id, "me", 1000, 100, "boom"), 0);
	assert_int_equal(dd_store_outbox_retry(f->db, r1.id, "me", 1000, 100, "boom"), DD_ENOTFOUND); /* no longer INFLIGHT */
	assert_int_equal(dd_store_outbox_claim(f->db, 100, 1, "me", 400, &r3), 1);
	assert_string_equal(r3.message_id, "m2");
	assert_int_equal(dd_store_outbox_complete(f->db, r3.id, "me", 150), 0);
	assert_int_equal(dd_store_outbox_fail(f->db, r2.id, "me", 150, "gone"), 0);
	dd_store_outbox_row_clear(&r3);
	/* at 1000, m1 is due again with its second attempt */
	assert_int_equal(dd_store_outbox_claim(f->db, 1000, 1, "me", 50, &r3), 1);
	assert_string_equal(r3.message_id, "m1");
	assert_int_equal(r3.attempts, 2);
	/* a stop: the in-flight row goes back to PENDING */
	int64_t rq = 0;
	assert_int_equal(dd_store_outbox_requeue_inflight(f->db, 1100, &rq), 0);
	assert_int_equal(rq, 1);
	assert_int_equal(dd_store_outbox_counts(f->db, &c), 0);
	assert_int_equal(c.inflight, 0);
	assert_int_equal(c.pending, 2);
	assert_int_equal(c.failed, 1);
	assert_int_equal(dd_store_outbox_complete(f->db, r3.id, "me", 1200), DD_ENOTFOUND);
	/* purge: only settled rows older than the cut */
	int64_t del = 0;
	assert_int_equal(dd_store_outbox_purge(f->db, 100, &del), 0);
	assert_int_equal(del, 0);
	assert_int_equal(dd_store_outbox_purge(f->db, 200, &del), 0);
	assert_int_equal(del, 1);
	dd_store_outbox_row_clear(&r1);
	dd_store_outbox_row_clear(&r2);
	dd_store_outbox_row_clear(&r3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_actions, dd_test_store_setup, dd_test_store_teardown),
		cmocka_unit_test_setup_teardown(test_tasks_and_executions, dd_test_store_setup, dd_test_store_teardown),
		cmocka_unit_test_setup_teardown(test_in_progress_across_accounts, dd_test_store_setup, dd_test_store_teardown),
		cmocka_unit_test_setup_teardown(test_other_aggregates, dd_test_store_setup, dd_test_store_teardown),
		cmocka_unit_test_setup_teardown(test_outbox, dd_test_store_setup, dd_test_store_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

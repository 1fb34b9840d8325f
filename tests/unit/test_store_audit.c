/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the audit aggregate's store functions (src/store/dd_store_audit.c and
 * dd_store_audit_reads.c) on a fresh store in a temporary directory: configuration get /
 * put / delete, tasks with their check rows (insert, duplicate, listing order and keyset,
 * cancel, finish, complete, notified once, prune), findings (insert, filters, keyset,
 * delete per check), suppressions (insert, duplicate, update, active set, listing both
 * ways), scheduled audits (insert, duplicate, update, delete, listing, mark run), role
 * service usage, and the checks' reads (settings, role aliases, connection events in
 * both orders), including the not-found cases.
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
#include "store/dd_store_audit.h"
#include "store/dd_store_audit_reads.h"
#include "store/dd_store_events.h"

#include "dd_test_store.h"

#define AR "123456789012/us-east-1"
#define AR2 "123456789012/eu-west-1"

static void begin(struct dd_test_store *f)
{
	assert_int_equal(dd_db_begin_write(f->db), 0);
}

static void commit(struct dd_test_store *f)
{
	assert_int_equal(dd_db_commit(f->db), 0);
}

/* ---- configuration ------------------------------------------------------------------ */

static void config_roundtrip(void **state)
{
	struct dd_test_store *f = *state;
	struct dd_store_audit_config c;
	assert_int_equal(dd_store_audit_config_get(f->db, AR, &c), DD_ENOTFOUND);
	assert_null(c.role_arn);
	begin(f);
	assert_int_equal(dd_store_audit_config_put(f->db, AR, NULL, "{}", "{\"A\":{\"enabled\":true}}"), 0);
	commit(f);
	assert_int_equal(dd_store_audit_config_get(f->db, AR, &c), 0);
	assert_null(c.role_arn);
	assert_string_equal(c.targets, "{}");
	assert_string_equal(c.checks, "{\"A\":{\"enabled\":true}}");
	dd_store_audit_config_clear(&c);
	begin(f);
	assert_int_equal(dd_store_audit_config_put(f->db, AR, "arn:aws:iam::123456789012:role/r", "{\"SNS\":{}}", "{}"), 0);
	commit(f);
	assert_int_equal(dd_store_audit_config_get(f->db, AR, &c), 0);
	assert_string_equal(c.role_arn, "arn:aws:iam::123456789012:role/r");
	assert_string_equal(c.targets, "{\"SNS\":{}}");
	dd_store_audit_config_clear(&c);
	/* other regions are apart */
	assert_int_equal(dd_store_audit_config_get(f->db, AR2, &c), DD_ENOTFOUND);
	begin(f);
	assert_int_equal(dd_store_audit_config_delete(f->db, AR), 0);
	commit(f);
	assert_int_equal(dd_store_audit_config_get(f->db, AR, &c), DD_ENOTFOUND);
}

/* ---- tasks -------------------------------------------------------------------------- */

static void insert_task(struct dd_test_store *f, const char *id, const char *type, int64_t start)
{
	static const char *const checks[] = { "B_CHECK", "A_CHECK" };
	struct dd_store_audit_task t = { .account_region = AR, .task_id = id, .task_type = type,
					 .scheduled_name = strcmp(type, "SCHEDULED_AUDIT_TASK") == 0 ? "daily" : NULL,
					 .start_ms = start, .window_start_ms = start - 1000,
					 .checks = "[\"B_CHECK\",\"A_CHECK\"]" };
	begin(f);
	assert_int_equal(dd_store_audit_task_insert(f->db, &t, checks, 2), 0);
	commit(f);
}

struct names {
	char v[8][40];
	int n;
};

static int task_name(const struct dd_store_audit_task *t, void *ud)
{
	struct names *n = ud;
	snprintf(n->v[n->n++], sizeof n->v[0], "%s", t->task_id);
	return 0;
}

static int check_name(const struct dd_store_audit_task_check *c, void *ud)
{
	struct names *n = ud;
	snprintf(n->v[n->n++], sizeof n->v[0], "%s:%s", c->check_name, c->status);
	return 0;
}

static int task_copy(const struct dd_store_audit_task *t, void *ud)
{
	struct dd_store_audit_task *out = ud;
	assert_string_equal(t->account_region, AR);
	out->start_ms = t->start_ms;
	out->window_start_ms = t->window_start_ms;
	out->status = strcmp(t->status, "IN_PROGRESS") == 0 ? "IN_PROGRESS" : strcmp(t->status, "CANCELED") == 0 ? "CANCELED" : "OTHER";
	out->scheduled_name = t->scheduled_name ? "set" : NULL;
	return 0;
}

static void tasks(void **state)
{
	struct dd_test_store *f = *state;
	insert_task(f, "t1", "ON_DEMAND_AUDIT_TASK", 1000);
	insert_task(f, "t2", "SCHEDULED_AUDIT_TASK", 2000);
	insert_task(f, "t3", "ON_DEMAND_AUDIT_TASK", 2000);
	/* duplicate id */
	struct dd_store_audit_task dup = { .account_region = AR, .task_id = "t1", .task_type = "ON_DEMAND_AUDIT_TASK" };
	begin(f);
	assert_int_equal(dd_store_audit_task_insert(f->db, &dup, NULL, 0), DD_EEXIST);
	dd_db_rollback(f->db);

	struct dd_store_audit_task got = { 0 };
	assert_int_equal(dd_store_audit_task_get(f->db, AR, "t2", task_copy, &got), 0);
	assert_int_equal(got.start_ms, 2000);
	assert_int_equal(got.window_start_ms, 1000);
	assert_string_equal(got.status, "IN_PROGRESS");
	assert_non_null(got.scheduled_name);
	assert_int_equal(dd_store_audit_task_get(f->db, AR, "nope", task_copy, &got), DD_ENOTFOUND);
	assert_int_equal(dd_store_audit_task_get(f->db, AR2, "t1", task_copy, &got), DD_ENOTFOUND);

	/* check rows by name */
	struct names n = { 0 };
	assert_int_equal(dd_store_audit_task_checks(f->db, AR, "t1", check_name, &n), 0);
	assert_int_equal(n.n, 2);
	assert_string_equal(n.v[0], "A_CHECK:IN_PROGRESS");
	assert_string_equal(n.v[1], "B_CHECK:IN_PROGRESS");
	char st[32];
	assert_int_equal(dd_store_audit_task_check_status(f->db, AR, "t1", "A_CHECK", st, sizeof st), 0);
	assert_string_equal(st, "IN_PROGRESS");
	assert_int_equal(dd_store_audit_task_check_status(f->db, AR, "t1", "Z_CHECK", st, sizeof st), DD_ENOTFOUND);

	int64_t cnt = -1;
	assert_int_equal(dd_store_audit_tasks_count_in_progress(f->db, AR, "ON_DEMAND_AUDIT_TASK", &cnt), 0);
	assert_int_equal(cnt, 2);

	/* newest first, task id breaking ties; keyset after (2000, t2) */
	struct dd_store_audit_tasks_filter flt = { .start_ms = 0, .end_ms = INT64_MAX, .after_ms = INT64_MAX, .after_id = "" };
	memset(&n, 0, sizeof n);
	assert_int_equal(dd_store_audit_tasks_list(f->db, AR, &flt, 10, task_name, &n), 0);
	assert_int_equal(n.n, 3);
	assert_string_equal(n.v[0], "t2");
	assert_string_equal(n.v[1], "t3");
	assert_string_equal(n.v[2], "t1");
	flt.after_ms = 2000;
	flt.after_id = "t2";
	memset(&n, 0, sizeof n);
	assert_int_equal(dd_store_audit_tasks_list(f->db, AR, &flt, 1, task_name, &n), 0);
	assert_int_equal(n.n, 1);
	assert_string_equal(n.v[0], "t3");
	struct dd_store_audit_tasks_filter only = { .start_ms = 0, .end_ms = INT64_MAX, .task_type = "SCHEDULED_AUDIT_TASK",
						    .after_ms = INT64_MAX, .after_id = "" };
	memset(&n, 0, sizeof n);
	assert_int_equal(dd_store_audit_tasks_list(f->db, AR, &only, 10, task_name, &n), 0);
	assert_int_equal(n.n, 1);

	/* finish one check; a second finish does nothing */
	struct dd_store_audit_task_check done = { .check_name = "A_CHECK", .status = "COMPLETED_COMPLIANT", .total = 7 };
	bool updated = false;
	begin(f);
	assert_int_equal(dd_store_audit_task_check_finish(f->db, AR, "t1", &done, &updated), 0);
	assert_true(updated);
	assert_int_equal(dd_store_audit_task_check_finish(f->db, AR, "t1", &done, &updated), 0);
	assert_false(updated);
	commit(f);
	assert_int_equal(dd_store_audit_task_checks_left(f->db, AR, "t1", &cnt), 0);
	assert_int_equal(cnt, 1);

	/* cancel: the task and its IN_PROGRESS checks; twice is not found */
	begin(f);
	assert_int_equal(dd_store_audit_task_cancel(f->db, AR, "t1", 5000), 0);
	assert_int_equal(dd_store_audit_task_cancel(f->db, AR, "t1", 5000), DD_ENOTFOUND);
	assert_int_equal(dd_store_audit_task_cancel(f->db, AR, "nope", 5000), DD_ENOTFOUND);
	commit(f);
	memset(&n, 0, sizeof n);
	assert_int_equal(dd_store_audit_task_checks(f->db, AR, "t1", check_name, &n), 0);
	assert_string_equal(n.v[0], "A_CHECK:COMPLETED_COMPLIANT");
	assert_string_equal(n.v[1], "B_CHECK:CANCELED");
	assert_int_equal(dd_store_audit_task_get(f->db, AR, "t1", task_copy, &got), 0);
	assert_string_equal(got.status, "CANCELED");

	/* in progress across regions, oldest first */
	memset(&n, 0, sizeof n);
	assert_int_equal(dd_store_audit_tasks_in_progress(f->db, task_name, &n), 0);
	assert_int_equal(n.n, 2);

	/* complete and notify once */
	bool first = false;
	begin(f);
	assert_int_equal(dd_store_audit_task_complete(f->db, AR, "t2", 6000), 0);
	assert_int_equal(dd_store_audit_task_mark_notified(f->db, AR, "t2", &first), 0);
	assert_true(first);
	assert_int_equal(dd_store_audit_task_mark_notified(f->db, AR, "t2", &first), 0);
	assert_false(first);
	commit(f);

	/* prune: finished tasks before the cutoff go with their rows */
	begin(f);
	assert_int_equal(dd_store_audit_prune(f->db, 1500), 0);
	commit(f);
	assert_int_equal(dd_store_audit_task_get(f->db, AR, "t1", task_copy, &got), DD_ENOTFOUND);
	assert_int_equal(dd_store_audit_task_get(f->db, AR, "t2", task_copy, &got), 0);
	memset(&n, 0, sizeof n);
	assert_int_equal(dd_store_audit_task_checks(f->db, AR, "t1", check_name, &n), 0);
	assert_int_equal(n.n, 0);
}

/* ---- findings ----------------------------------------------------------------------- */

static void put_finding(struct dd_test_store *f, const char *id, const char *check, int64_t ms, bool suppressed, int want)
{
	struct dd_store_audit_finding fd = {
		.finding_id = id, .task_id = "t1", .check_name = check, .task_start_ms = 100, .finding_ms = ms,
		.severity = "LOW", .resource_type = "DEVICE_CERTIFICATE", .resource_key = "{\"deviceCertificateId\":\"x\"}",
		.resource = "{\"resourceType\":\"DEVICE_CERTIFICATE\"}", .related = "[]", .reason = "why", .reason_code = "CODE",
		.suppressed = suppressed,
	};
	begin(f);
	assert_int_equal(dd_store_audit_findings_insert(f->db, AR, &fd), want);
	if (want)
		dd_db_rollback(f->db);
	else
		commit(f);
}

static int finding_name(const struct dd_store_audit_finding *fd, void *ud)
{
	struct names *n = ud;
	snprintf(n->v[n->n++], sizeof n->v[0], "%s", fd->finding_id);
	return 0;
}

static int finding_check(const struct dd_store_audit_finding *fd, void *ud)
{
	(void)ud;
	assert_string_equal(fd->check_name, "A_CHECK");
	assert_string_equal(fd->reason, "why");
	assert_string_equal(fd->resource_type, "DEVICE_CERTIFICATE");
	assert_int_equal(fd->task_start_ms, 100);
	assert_true(fd->suppressed);
	return 0;
}

static void findings(void **state)
{
	struct dd_test_store *f = *state;
	put_finding(f, "f1", "A_CHECK", 1000, false, 0);
	put_finding(f, "f2", "A_CHECK", 2000, true, 0);
	put_finding(f, "f3", "B_CHECK", 2000, false, 0);
	put_finding(f, "f1", "A_CHECK", 1000, false, DD_EEXIST);
	assert_int_equal(dd_store_audit_findings_get(f->db, AR, "f2", finding_check, NULL), 0);
	assert_int_equal(dd_store_audit_findings_get(f->db, AR, "zz", finding_check, NULL), DD_ENOTFOUND);
	int64_t cnt = 0;
	assert_int_equal(dd_store_audit_findings_count_task(f->db, AR, "t1", &cnt), 0);
	assert_int_equal(cnt, 3);

	struct dd_store_audit_findings_filter all = { .start_ms = 0, .end_ms = INT64_MAX, .suppressed = -1,
						      .after_ms = INT64_MAX, .after_id = "" };
	struct names n = { 0 };
	assert_int_equal(dd_store_audit_findings_list(f->db, AR, &all, 10, finding_name, &n), 0);
	assert_int_equal(n.n, 3);
	assert_string_equal(n.v[0], "f2");
	assert_string_equal(n.v[1], "f3");
	assert_string_equal(n.v[2], "f1");
	struct dd_store_audit_findings_filter sup = all;
	sup.suppressed = 0;
	sup.check_name = "A_CHECK";
	memset(&n, 0, sizeof n);
	assert_int_equal(dd_store_audit_findings_list(f->db, AR, &sup, 10, finding_name, &n), 0);
	assert_int_equal(n.n, 1);
	assert_string_equal(n.v[0], "f1");
	struct dd_store_audit_findings_filter page = all;
	page.after_ms = 2000;
	page.after_id = "f2";
	memset(&n, 0, sizeof n);
	assert_int_equal(dd_store_audit_findings_list(f->db, AR, &page, 10, finding_name, &n), 0);
	assert_int_equal(n.n, 2);
	assert_string_equal(n.v[0], "f3");

	begin(f);
	assert_int_equal(dd_store_audit_findings_delete_check(f->db, AR, "t1", "A_CHECK"), 0);
	commit(f);
	assert_int_equal(dd_store_audit_findings_count_task(f->db, AR, "t1", &cnt), 0);
	assert_int_equal(cnt, 1);
}

/* ---- suppressions ------------------------------------------------------------------- */

static int supp_name(const struct dd_store_audit_suppression *sp, void *ud)
{
	struct names *n = ud;
	snprintf(n->v[n->n++], sizeof n->v[0], "%s|%s", sp->check_name, sp->resource_key);
	return 0;
}

static int supp_copy(const struct dd_store_audit_suppression *sp, void *ud)
{
	struct dd_store_audit_suppression *out = ud;
	out->has_expiration = sp->has_expiration;
	out->expiration_ms = sp->expiration_ms;
	out->indefinite = sp->indefinite;
	out->description = sp->description ? "set" : NULL;
	return 0;
}

static void suppressions(void **state)
{
	struct dd_test_store *f = *state;
	struct dd_store_audit_suppression a = { .check_name = "A", .resource_key = "k1", .resource = "{}",
						.has_expiration = true, .expiration_ms = 5000 };
	struct dd_store_audit_suppression b = { .check_name = "A", .resource_key = "k2", .resource = "{}", .indefinite = true,
						.description = "d" };
	struct dd_store_audit_suppression c = { .check_name = "B", .resource_key = "k1", .resource = "{}",
						.has_expiration = true, .expiration_ms = 1000 };
	begin(f);
	assert_int_equal(dd_store_audit_suppressions_insert(f->db, AR, &a), 0);
	assert_int_equal(dd_store_audit_suppressions_insert(f->db, AR, &b), 0);
	assert_int_equal(dd_store_audit_suppressions_insert(f->db, AR, &c), 0);
	assert_int_equal(dd_store_audit_suppressions_insert(f->db, AR, &a), DD_EEXIST);
	commit(f);

	struct dd_store_audit_suppression got = { 0 };
	assert_int_equal(dd_store_audit_suppressions_get(f->db, AR, "A", "k2", supp_copy, &got), 0);
	assert_true(got.indefinite);
	assert_false(got.has_expiration);
	assert_non_null(got.description);
	assert_int_equal(dd_store_audit_suppressions_get(f->db, AR, "A", "k9", supp_copy, &got), DD_ENOTFOUND);

	/* active at 2000: A/k1 (until 5000) and A/k2 (indefinite), not B/k1 (ended at 1000) */
	struct names n = { 0 };
	assert_int_equal(dd_store_audit_suppressions_active(f->db, AR, 2000, supp_name, &n), 0);
	assert_int_equal(n.n, 2);

	/* ascending, after (A, k1); descending from the end */
	memset(&n, 0, sizeof n);
	assert_int_equal(dd_store_audit_suppressions_list(f->db, AR, NULL, NULL, "A", "k1", true, 10, supp_name, &n), 0);
	assert_int_equal(n.n, 2);
	assert_string_equal(n.v[0], "A|k2");
	assert_string_equal(n.v[1], "B|k1");
	memset(&n, 0, sizeof n);
	assert_int_equal(dd_store_audit_suppressions_list(f->db, AR, NULL, NULL, "", "", false, 2, supp_name, &n), 0);
	assert_int_equal(n.n, 2);
	assert_string_equal(n.v[0], "B|k1");
	assert_string_equal(n.v[1], "A|k2");
	memset(&n, 0, sizeof n);
	assert_int_equal(dd_store_audit_suppressions_list(f->db, AR, "A", "k1", NULL, NULL, true, 10, supp_name, &n), 0);
	assert_int_equal(n.n, 1);

	/* update: a new expiration clears indefinite */
	struct dd_store_audit_suppression upd = { .check_name = "A", .resource_key = "k2", .resource = "{\"x\":1}",
						  .has_expiration = true, .expiration_ms = 9000 };
	begin(f);
	assert_int_equal(dd_store_audit_suppressions_update(f->db, AR, &upd, true, false), 0);
	upd.resource_key = "k9";
	assert_int_equal(dd_store_audit_suppressions_update(f->db, AR, &upd, true, false), DD_ENOTFOUND);
	commit(f);
	assert_int_equal(dd_store_audit_suppressions_get(f->db, AR, "A", "k2", supp_copy, &got), 0);
	assert_false(got.indefinite);
	assert_int_equal(got.expiration_ms, 9000);
	assert_non_null(got.description); /* kept */

	begin(f);
	assert_int_equal(dd_store_audit_suppressions_delete(f->db, AR, "A", "k2"), 0);
	assert_int_equal(dd_store_audit_suppressions_delete(f->db, AR, "A", "k2"), 0); /* absent: fine */
	commit(f);
	assert_int_equal(dd_store_audit_suppressions_get(f->db, AR, "A", "k2", supp_copy, &got), DD_ENOTFOUND);
}

/* ---- scheduled audits --------------------------------------------------------------- */

static int sched_name(const struct dd_store_audit_scheduled *s, void *ud)
{
	struct names *n = ud;
	snprintf(n->v[n->n++], sizeof n->v[0], "%s:%s:%s:%s", s->name, s->frequency, s->day_of_week ? s->day_of_week : "-",
		 s->last_run_day);
	return 0;
}

static void scheduled(void **state)
{
	struct dd_test_store *f = *state;
	struct dd_store_audit_scheduled a = { .account_region = AR, .name = "b-weekly", .frequency = "WEEKLY",
					      .day_of_week = "MON", .checks = "[\"A\"]", .created = 10 };
	struct dd_store_audit_scheduled b = { .account_region = AR, .name = "a-daily", .frequency = "DAILY",
					      .checks = "[\"A\"]", .created = 10 };
	begin(f);
	assert_int_equal(dd_store_audit_scheduled_insert(f->db, &a), 0);
	assert_int_equal(dd_store_audit_scheduled_insert(f->db, &b), 0);
	assert_int_equal(dd_store_audit_scheduled_insert(f->db, &b), DD_EEXIST);
	commit(f);
	int64_t cnt = 0;
	assert_int_equal(dd_store_audit_scheduled_count(f->db, AR, &cnt), 0);
	assert_int_equal(cnt, 2);
	struct names n = { 0 };
	assert_int_equal(dd_store_audit_scheduled_get(f->db, AR, "b-weekly", sched_name, &n), 0);
	assert_string_equal(n.v[0], "b-weekly:WEEKLY:MON:");
	assert_int_equal(dd_store_audit_scheduled_get(f->db, AR, "nope", sched_name, &n), DD_ENOTFOUND);

	memset(&n, 0, sizeof n);
	assert_int_equal(dd_store_audit_scheduled_list(f->db, AR, "", 1, sched_name, &n), 0);
	assert_int_equal(n.n, 1);
	assert_string_equal(n.v[0], "a-daily:DAILY:-:");
	memset(&n, 0, sizeof n);
	assert_int_equal(dd_store_audit_scheduled_list(f->db, AR, "a-daily", 10, sched_name, &n), 0);
	assert_int_equal(n.n, 1);

	begin(f);
	assert_int_equal(dd_store_audit_scheduled_update(f->db, AR, "b-weekly", "DAILY", NULL, NULL, NULL), 0);
	assert_int_equal(dd_store_audit_scheduled_update(f->db, AR, "nope", "DAILY", NULL, NULL, NULL), DD_ENOTFOUND);
	assert_int_equal(dd_store_audit_scheduled_mark_run(f->db, AR, "b-weekly", "2026-01-02", 99), 0);
	/* a second firing for the same (or an earlier) day loses the compare-and-set */
	assert_int_equal(dd_store_audit_scheduled_mark_run(f->db, AR, "b-weekly", "2026-01-02", 100), DD_ENOTFOUND);
	assert_int_equal(dd_store_audit_scheduled_mark_run(f->db, AR, "b-weekly", "2026-01-01", 100), DD_ENOTFOUND);
	assert_int_equal(dd_store_audit_scheduled_mark_run(f->db, AR, "nope", "2026-01-03", 100), DD_ENOTFOUND);
	commit(f);
	memset(&n, 0, sizeof n);
	assert_int_equal(dd_store_audit_scheduled_all(f->db, sched_name, &n), 0);
	assert_int_equal(n.n, 2);
	memset(&n, 0, sizeof n);
	assert_int_equal(dd_store_audit_scheduled_get(f->db, AR, "b-weekly", sched_name, &n), 0);
	assert_string_equal(n.v[0], "b-weekly:DAILY:-:2026-01-02");

	begin(f);
	assert_int_equal(dd_store_audit_scheduled_delete(f->db, AR, "b-weekly"), 0);
	assert_int_equal(dd_store_audit_scheduled_delete(f->db, AR, "b-weekly"), DD_ENOTFOUND);
	assert_int_equal(dd_store_audit_scheduled_delete_all(f->db, AR), 0);
	commit(f);
	assert_int_equal(dd_store_audit_scheduled_count(f->db, AR, &cnt), 0);
	assert_int_equal(cnt, 0);
}

/* ---- usage and reads ---------------------------------------------------------------- */

static int usage_cat(const char *service, int64_t last, void *ud)
{
	char *buf = ud;
	size_t l = strlen(buf);
	snprintf(buf + l, 128 - l, "%s=%lld;", service, (long long)last);
	return 0;
}

static int count_alias(const char *alias, const char *role, void *ud)
{
	(void)alias;
	(void)role;
	(*(int *)ud)++;
	return 0;
}

static int event_cat(const struct dd_store_audit_event *e, void *ud)
{
	char *buf = ud;
	size_t l = strlen(buf);
	snprintf(buf + l, 256 - l, "%s/%s/%c;", e->client_id, e->certificate_id ? e->certificate_id : "-", e->connect ? 'c' : 'd');
	return 0;
}

static int stop_at_first(const struct dd_store_audit_event *e, void *ud)
{
	(void)e;
	(*(int *)ud)++;
	return 42;
}

static void usage_and_reads(void **state)
{
	struct dd_test_store *f = *state;
	const char *svcs[] = { "s3", "dynamodb" };
	int64_t last[] = { 10, 20 };
	begin(f);
	assert_int_equal(dd_store_audit_role_usage_replace(f->db, AR, "role", svcs, last, 2), 0);
	commit(f);
	char buf[256] = "";
	assert_int_equal(dd_store_audit_role_usage_foreach(f->db, AR, "role", usage_cat, buf), 0);
	assert_string_equal(buf, "dynamodb=20;s3=10;");
	begin(f);
	assert_int_equal(dd_store_audit_role_usage_replace(f->db, AR, "role", svcs, last, 1), 0);
	commit(f);
	buf[0] = '\0';
	assert_int_equal(dd_store_audit_role_usage_foreach(f->db, AR, "role", usage_cat, buf), 0);
	assert_string_equal(buf, "s3=10;");

	char *v = NULL;
	assert_int_equal(dd_store_audit_reads_setting(f->db, AR, "logging_v2", &v), DD_ENOTFOUND);
	assert_null(v);
	int aliases = 0;
	assert_int_equal(dd_store_audit_reads_role_aliases(f->db, AR, count_alias, &aliases), 0);
	assert_int_equal(aliases, 0);

	/* events through the table the broker writes (the ingestion itself is the registry's) */
	const struct dd_store_events_event evs[] = {
		{ "connect", "b", "c1", NULL, 10, "ip", NULL },
		{ "connect", "a", "c2", NULL, 11, "ip", NULL },
		{ "disconnect", "a", NULL, "p", 12, "ip", "x" },
		{ "connect", "z", "c0", NULL, 99, "ip", NULL },
	};
	for (size_t i = 0; i < sizeof evs / sizeof evs[0]; i++)
		assert_int_equal(dd_store_events_insert(f->db, AR, &evs[i]), 0);
	buf[0] = '\0';
	assert_int_equal(dd_store_audit_reads_events_by_cert(f->db, AR, 0, 50, event_cat, buf), 0);
	assert_string_equal(buf, "b/c1/c;a/c2/c;");
	buf[0] = '\0';
	assert_int_equal(dd_store_audit_reads_events_by_client(f->db, AR, 0, 50, event_cat, buf), 0);
	assert_string_equal(buf, "a/c2/c;a/-/d;b/c1/c;");
	int seen = 0;
	assert_int_equal(dd_store_audit_reads_events_by_client(f->db, AR, 0, 50, stop_at_first, &seen), 42);
	assert_int_equal(seen, 1);
}

/* insert_many: full statements of DD_STORE_AUDIT_FINDINGS_BATCH rows and a remainder
 * row by row; every row as given; a duplicate id in a full statement writes none of it */
struct many_seen {
	int n;
	bool ok;
};

static int many_visit(const struct dd_store_audit_finding *fd, void *ud)
{
	struct many_seen *m = ud;
	int i = -1;
	if (sscanf(fd->finding_id, "m%03d", &i) != 1)
		m->ok = false;
	char key[64];
	snprintf(key, sizeof key, "k%d", i);
	m->ok = m->ok && strcmp(fd->resource_key, key) == 0 && fd->finding_ms == 5000 + i &&
		strcmp(fd->check_name, i % 2 ? "ODD_CHECK" : "EVEN_CHECK") == 0 && fd->suppressed == (i % 3 == 0) &&
		strcmp(fd->related, "[]") == 0 && strcmp(fd->reason_code, "C") == 0;
	m->n++;
	return 0;
}

static void findings_insert_many(void **state)
{
	struct dd_test_store *f = *state;
	enum { N = 2 * DD_STORE_AUDIT_FINDINGS_BATCH + 5 };
	static char ids[N][8], keys[N][8];
	struct dd_store_audit_finding fd[N];
	for (int i = 0; i < N; i++) {
		snprintf(ids[i], sizeof ids[i], "m%03d", i);
		snprintf(keys[i], sizeof keys[i], "k%d", i);
		fd[i] = (struct dd_store_audit_finding){
			.finding_id = ids[i], .task_id = "tm", .check_name = i % 2 ? "ODD_CHECK" : "EVEN_CHECK",
			.task_start_ms = 100, .finding_ms = 5000 + i, .severity = "LOW", .resource_type = "T",
			.resource_key = keys[i], .resource = "{}", .related = NULL, .reason = "r", .reason_code = "C",
			.suppressed = i % 3 == 0,
		};
	}
	begin(f);
	assert_int_equal(dd_store_audit_findings_insert_many(f->db, AR, fd, N), 0);
	commit(f);
	int64_t cnt = 0;
	assert_int_equal(dd_store_audit_findings_count_task(f->db, AR, "tm", &cnt), 0);
	assert_int_equal(cnt, N);
	struct many_seen m = { 0, true };
	for (int i = 0; i < N; i++)
		assert_int_equal(dd_store_audit_findings_get(f->db, AR, ids[i], many_visit, &m), 0);
	assert_int_equal(m.n, N);
	assert_true(m.ok);
	/* a batch holding one existing id: refused, nothing of it written */
	static char nids[DD_STORE_AUDIT_FINDINGS_BATCH][8];
	for (int i = 0; i < DD_STORE_AUDIT_FINDINGS_BATCH; i++) {
		snprintf(nids[i], sizeof nids[i], "n%03d", i);
		fd[i].finding_id = i == 7 ? "m003" : nids[i];
	}
	begin(f);
	assert_int_equal(dd_store_audit_findings_insert_many(f->db, AR, fd, DD_STORE_AUDIT_FINDINGS_BATCH), DD_EEXIST);
	dd_db_rollback(f->db);
	assert_int_equal(dd_store_audit_findings_count_task(f->db, AR, "tm", &cnt), 0);
	assert_int_equal(cnt, N);
	assert_int_equal(dd_store_audit_findings_get(f->db, AR, "n000", many_visit, &m), DD_ENOTFOUND);
}

int main(void)
{
	dd_log_set_level(DD_LOG_ERROR);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(config_roundtrip, dd_test_store_setup, dd_test_store_teardown),
		cmocka_unit_test_setup_teardown(tasks, dd_test_store_setup, dd_test_store_teardown),
		cmocka_unit_test_setup_teardown(findings, dd_test_store_setup, dd_test_store_teardown),
		cmocka_unit_test_setup_teardown(findings_insert_many, dd_test_store_setup, dd_test_store_teardown),
		cmocka_unit_test_setup_teardown(suppressions, dd_test_store_setup, dd_test_store_teardown),
		cmocka_unit_test_setup_teardown(scheduled, dd_test_store_setup, dd_test_store_teardown),
		cmocka_unit_test_setup_teardown(usage_and_reads, dd_test_store_setup, dd_test_store_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

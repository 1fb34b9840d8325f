/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the jobs store (src/store/dd_store_jobs.h) on a real store in a temporary
 * directory: jobs inserted, read back and listed with each filter (the SCHEDULED status
 * from the start time), keyset paging, updates and status changes; targets and the
 * CONTINUOUS jobs of a group; executions numbered from the job's counter, one per thing,
 * their versions, cancel-all with and without IN_PROGRESS, counts per status and the
 * per-thing listing with its filters; job templates; deletion of a job with its rows; and
 * isolation between account-regions.
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

#include "dd/store.h"
#include "store/dd_store_jobs.h"

#include "dd_test_store.h"

#define AR "123456789012/us-east-1"
#define AR2 "123456789012/eu-west-1"

static void add_job(struct dd_test_store *f, const char *ar, const char *id, const char *selection, const char *ns, int64_t start_ms)
{
	struct dd_store_jobs_row r = {
		.job_id = id, .target_selection = selection, .status = "IN_PROGRESS", .document = "{}",
		.namespace_id = ns, .config = "{\"timeoutConfig\":{\"inProgressTimeoutInMinutes\":5}}",
		.targets = "[\"arn:aws:iot:us-east-1:123456789012:thing/t1\"]", .start_ms = start_ms,
		.created = 1000, .updated = 1000,
	};
	assert_int_equal(dd_store_jobs_insert(f->db, ar, &r), 0);
}

struct ids {
	char v[16][64];
	int n;
	char last_status[32];
	char group_id[40];
};

static int collect_job(void *ud, const struct dd_store_jobs_row *r)
{
	struct ids *s = ud;
	if (s->n < 16)
		snprintf(s->v[s->n++], sizeof s->v[0], "%s", r->job_id);
	snprintf(s->last_status, sizeof s->last_status, "%s", r->status);
	snprintf(s->group_id, sizeof s->group_id, "%s", r->group_id ? r->group_id : "");
	return 0;
}

struct got_job {
	char status[32], desc[64], config[128], reason[32], comment[32], targets[256];
	bool force;
	int64_t start, updated, completed;
};

static int read_job(void *ud, const struct dd_store_jobs_row *r)
{
	struct got_job *g = ud;
	snprintf(g->status, sizeof g->status, "%s", r->status);
	snprintf(g->desc, sizeof g->desc, "%s", r->description ? r->description : "(null)");
	snprintf(g->config, sizeof g->config, "%s", r->config);
	snprintf(g->reason, sizeof g->reason, "%s", r->reason_code ? r->reason_code : "(null)");
	snprintf(g->comment, sizeof g->comment, "%s", r->comment ? r->comment : "(null)");
	snprintf(g->targets, sizeof g->targets, "%s", r->targets);
	g->force = r->force_canceled;
	g->start = r->start_ms;
	g->updated = r->updated;
	g->completed = r->completed;
	return 0;
}

static void jobs_crud_filters_paging(void **state)
{
	struct dd_test_store *f = *state;
	add_job(f, AR, "a", "SNAPSHOT", NULL, -1);
	add_job(f, AR, "b", "CONTINUOUS", "ns1", -1);
	add_job(f, AR, "c", "SNAPSHOT", NULL, 5000000000000LL); /* scheduled far ahead */
	add_job(f, AR, "d", "SNAPSHOT", NULL, 500);             /* start passed */
	add_job(f, AR2, "a", "SNAPSHOT", NULL, -1);
	struct dd_store_jobs_row dup = { .job_id = "a", .target_selection = "SNAPSHOT", .status = "IN_PROGRESS", .start_ms = -1 };
	assert_int_equal(dd_store_jobs_insert(f->db, AR, &dup), DD_EEXIST);

	struct got_job g;
	assert_int_equal(dd_store_jobs_get(f->db, AR, "a", read_job, &g), 0);
	assert_string_equal(g.status, "IN_PROGRESS");
	assert_string_equal(g.desc, "(null)");
	assert_int_equal(g.start, -1);
	assert_int_equal(g.completed, 0);
	assert_int_equal(dd_store_jobs_get(f->db, AR, "zz", read_job, &g), DD_ENOTFOUND);

	struct ids s = { 0 };
	struct dd_store_jobs_filter flt = { .now_ms = 2000 };
	assert_int_equal(dd_store_jobs_list(f->db, AR, &flt, "", 10, collect_job, &s), 0);
	assert_int_equal(s.n, 4);
	assert_string_equal(s.v[0], "a");
	assert_string_equal(s.v[3], "d");
	/* keyset paging */
	memset(&s, 0, sizeof s);
	assert_int_equal(dd_store_jobs_list(f->db, AR, &flt, "b", 1, collect_job, &s), 0);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.v[0], "c");
	/* the answered status: c is SCHEDULED, the others IN_PROGRESS */
	memset(&s, 0, sizeof s);
	flt.status = "SCHEDULED";
	assert_int_equal(dd_store_jobs_list(f->db, AR, &flt, "", 10, collect_job, &s), 0);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.v[0], "c");
	memset(&s, 0, sizeof s);
	flt.status = "IN_PROGRESS";
	assert_int_equal(dd_store_jobs_list(f->db, AR, &flt, "", 10, collect_job, &s), 0);
	assert_int_equal(s.n, 3);
	memset(&s, 0, sizeof s);
	flt = (struct dd_store_jobs_filter){ .target_selection = "CONTINUOUS" };
	assert_int_equal(dd_store_jobs_list(f->db, AR, &flt, "", 10, collect_job, &s), 0);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.v[0], "b");
	memset(&s, 0, sizeof s);
	flt = (struct dd_store_jobs_filter){ .namespace_id = "ns1" };
	assert_int_equal(dd_store_jobs_list(f->db, AR, &flt, "", 10, collect_job, &s), 0);
	assert_int_equal(s.n, 1);
	/* group filters by name and id through the targets */
	assert_int_equal(dd_store_jobs_target_add(f->db, AR, "b", "thinggroup", "g1", "id-g1"), 0);
	assert_int_equal(dd_store_jobs_target_add(f->db, AR, "b", "thinggroup", "g1", "id-g1"), 0); /* idempotent */
	assert_int_equal(dd_store_jobs_target_add(f->db, AR, "b", "thing", "t1", NULL), 0);
	int64_t n;
	assert_int_equal(dd_store_jobs_target_count(f->db, AR, "b", &n), 0);
	assert_int_equal(n, 2);
	memset(&s, 0, sizeof s);
	flt = (struct dd_store_jobs_filter){ .group_name = "g1" };
	assert_int_equal(dd_store_jobs_list(f->db, AR, &flt, "", 10, collect_job, &s), 0);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.group_id, "id-g1");
	memset(&s, 0, sizeof s);
	flt = (struct dd_store_jobs_filter){ .group_id = "id-g1" };
	assert_int_equal(dd_store_jobs_list(f->db, AR, &flt, "", 10, collect_job, &s), 0);
	assert_int_equal(s.n, 1);
	memset(&s, 0, sizeof s);
	flt = (struct dd_store_jobs_filter){ .group_id = "id-other" };
	assert_int_equal(dd_store_jobs_list(f->db, AR, &flt, "", 10, collect_job, &s), 0);
	assert_int_equal(s.n, 0);

	/* update and status */
	assert_int_equal(dd_store_jobs_update(f->db, AR, "a", "new", NULL, NULL, 3000), 0);
	assert_int_equal(dd_store_jobs_get(f->db, AR, "a", read_job, &g), 0);
	assert_string_equal(g.desc, "new");
	assert_string_equal(g.config, "{\"timeoutConfig\":{\"inProgressTimeoutInMinutes\":5}}");
	assert_int_equal(g.updated, 3000);
	assert_int_equal(dd_store_jobs_update(f->db, AR, "zz", "x", NULL, NULL, 1), DD_ENOTFOUND);
	assert_int_equal(dd_store_jobs_set_status(f->db, AR, "a", "CANCELED", "R", "why", true, 4000, 0), 0);
	assert_int_equal(dd_store_jobs_set_status(f->db, AR, "a", "CANCELED", NULL, NULL, false, 4100, 0), 0);
	assert_int_equal(dd_store_jobs_get(f->db, AR, "a", read_job, &g), 0);
	assert_string_equal(g.status, "CANCELED");
	assert_string_equal(g.reason, "R");    /* kept */
	assert_string_equal(g.comment, "why");
	assert_true(g.force);                  /* never cleared */
	assert_int_equal(g.completed, 0);
	assert_int_equal(dd_store_jobs_set_status(f->db, AR, "d", "COMPLETED", NULL, NULL, false, 4200, 4200), 0);
	assert_int_equal(dd_store_jobs_get(f->db, AR, "d", read_job, &g), 0);
	assert_int_equal(g.completed, 4200);
	/* the other region's job is untouched */
	assert_int_equal(dd_store_jobs_get(f->db, AR2, "a", read_job, &g), 0);
	assert_string_equal(g.status, "IN_PROGRESS");
	assert_string_equal(g.desc, "(null)");
}

struct execs {
	char thing[16][64];
	char status[16][32];
	int64_t number[16], version[16];
	int n;
};

static int collect_exec(void *ud, const struct dd_store_jobs_exec_row *r)
{
	struct execs *e = ud;
	if (e->n < 16) {
		snprintf(e->thing[e->n], sizeof e->thing[0], "%s/%s", r->job_id, r->thing_name);
		snprintf(e->status[e->n], sizeof e->status[0], "%s", r->status);
		e->number[e->n] = r->execution_number;
		e->version[e->n] = r->version;
		e->n++;
	}
	return 0;
}

static int collect_id(const char *id, void *ud)
{
	struct ids *s = ud;
	if (s->n < 16)
		snprintf(s->v[s->n++], sizeof s->v[0], "%s", id);
	return 0;
}

static void executions(void **state)
{
	struct dd_test_store *f = *state;
	add_job(f, AR, "j1", "SNAPSHOT", NULL, -1);
	add_job(f, AR, "j2", "CONTINUOUS", "ns", -1);
	bool added;
	assert_int_equal(dd_store_jobs_exec_queue(f->db, AR, "j1", "t2", 10, &added), 0);
	assert_true(added);
	assert_int_equal(dd_store_jobs_exec_queue(f->db, AR, "j1", "t1", 11, &added), 0);
	assert_true(added);
	assert_int_equal(dd_store_jobs_exec_queue(f->db, AR, "j1", "t1", 12, &added), 0);
	assert_false(added); /* one per thing */
	assert_int_equal(dd_store_jobs_exec_queue(f->db, AR, "j2", "t1", 13, &added), 0);
	assert_int_equal(dd_store_jobs_exec_queue(f->db, AR, "nope", "t1", 13, &added), DD_ENOTFOUND);
	assert_false(added);

	struct execs e = { 0 };
	assert_int_equal(dd_store_jobs_exec_list_job(f->db, AR, "j1", NULL, "", 10, collect_exec, &e), 0);
	assert_int_equal(e.n, 2);
	assert_string_equal(e.thing[0], "j1/t1");
	assert_int_equal(e.number[0], 2); /* numbered in queueing order */
	assert_int_equal(e.number[1], 1);
	assert_int_equal(e.version[0], 1);
	assert_string_equal(e.status[0], "QUEUED");
	memset(&e, 0, sizeof e);
	assert_int_equal(dd_store_jobs_exec_list_job(f->db, AR, "j1", NULL, "t1", 10, collect_exec, &e), 0);
	assert_int_equal(e.n, 1);
	assert_string_equal(e.thing[0], "j1/t2");
	/* j2's first execution is number 1: the counter is per job */
	memset(&e, 0, sizeof e);
	assert_int_equal(dd_store_jobs_exec_list_thing(f->db, AR, "t1", NULL, NULL, NULL, "", 10, collect_exec, &e), 0);
	assert_int_equal(e.n, 2);
	assert_string_equal(e.thing[1], "j2/t1");
	assert_int_equal(e.number[1], 1);
	memset(&e, 0, sizeof e);
	assert_int_equal(dd_store_jobs_exec_list_thing(f->db, AR, "t1", NULL, "ns", NULL, "", 10, collect_exec, &e), 0);
	assert_int_equal(e.n, 1);
	assert_string_equal(e.thing[0], "j2/t1");
	memset(&e, 0, sizeof e);
	assert_int_equal(dd_store_jobs_exec_list_thing(f->db, AR, "t1", NULL, NULL, "j1", "", 10, collect_exec, &e), 0);
	assert_int_equal(e.n, 1);
	assert_string_equal(e.thing[0], "j1/t1");

	/* set: version and start */
	assert_int_equal(dd_store_jobs_exec_set(f->db, AR, "j1", "t1", "IN_PROGRESS", false, "{\"a\":\"b\"}", 20), 0);
	assert_int_equal(dd_store_jobs_exec_set(f->db, AR, "j1", "ghost", "IN_PROGRESS", false, NULL, 20), DD_ENOTFOUND);
	struct dd_store_jobs_counts c;
	assert_int_equal(dd_store_jobs_exec_counts(f->db, AR, "j1", &c), 0);
	assert_int_equal(c.queued, 1);
	assert_int_equal(c.in_progress, 1);
	/* cancel-all without IN_PROGRESS leaves it; with, cancels it too */
	assert_int_equal(dd_store_jobs_exec_cancel_all(f->db, AR, "j1", false, 30), 0);
	assert_int_equal(dd_store_jobs_exec_counts(f->db, AR, "j1", &c), 0);
	assert_int_equal(c.queued, 0);
	assert_int_equal(c.in_progress, 1);
	assert_int_equal(c.canceled, 1);
	assert_int_equal(dd_store_jobs_exec_cancel_all(f->db, AR, "j1", true, 31), 0);
	assert_int_equal(dd_store_jobs_exec_counts(f->db, AR, "j1", &c), 0);
	assert_int_equal(c.in_progress, 0);
	assert_int_equal(c.canceled, 2);
	memset(&e, 0, sizeof e);
	assert_int_equal(dd_store_jobs_exec_list_job(f->db, AR, "j1", "CANCELED", "", 10, collect_exec, &e), 0);
	assert_int_equal(e.n, 2);
	assert_int_equal(e.version[0], 3); /* t1: queued 1, in progress 2, canceled 3 */
	assert_int_equal(e.version[1], 2);

	/* CONTINUOUS jobs of a group: only IN_PROGRESS ones */
	assert_int_equal(dd_store_jobs_target_add(f->db, AR, "j2", "thinggroup", "g", "gid"), 0);
	assert_int_equal(dd_store_jobs_target_add(f->db, AR, "j1", "thinggroup", "g", "gid"), 0);
	struct ids s = { 0 };
	assert_int_equal(dd_store_jobs_continuous_for_group(f->db, AR, "g", collect_id, &s), 0);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.v[0], "j2");
	bool any;
	assert_int_equal(dd_store_jobs_continuous_any(f->db, AR, &any), 0);
	assert_true(any);
	assert_int_equal(dd_store_jobs_continuous_any(f->db, AR2, &any), 0);
	assert_false(any);

	/* deleting one execution, then the job with the rest */
	assert_int_equal(dd_store_jobs_exec_delete(f->db, AR, "j1", "t2"), 0);
	assert_int_equal(dd_store_jobs_exec_delete(f->db, AR, "j1", "t2"), DD_ENOTFOUND);
	assert_int_equal(dd_store_jobs_delete(f->db, AR, "j1"), 0);
	assert_int_equal(dd_store_jobs_delete(f->db, AR, "j1"), DD_ENOTFOUND);
	memset(&e, 0, sizeof e);
	assert_int_equal(dd_store_jobs_exec_list_thing(f->db, AR, "t1", NULL, NULL, NULL, "", 10, collect_exec, &e), 0);
	assert_int_equal(e.n, 1);
	assert_string_equal(e.thing[0], "j2/t1");
	int64_t n;
	assert_int_equal(dd_store_jobs_target_count(f->db, AR, "j1", &n), 0);
	assert_int_equal(n, 0);
}

struct tpl {
	char ids[8][64];
	char doc[64];
	int n;
};

static int collect_tpl(void *ud, const struct dd_store_jobs_template_row *r)
{
	struct tpl *t = ud;
	if (t->n < 8)
		snprintf(t->ids[t->n++], sizeof t->ids[0], "%s", r->template_id);
	snprintf(t->doc, sizeof t->doc, "%s", r->document ? r->document : "(null)");
	return 0;
}

static void templates(void **state)
{
	struct dd_test_store *f = *state;
	struct dd_store_jobs_template_row r = { .template_id = "t1", .description = "d", .document = "{}", .created = 5 };
	assert_int_equal(dd_store_jobs_template_insert(f->db, AR, &r), 0);
	assert_int_equal(dd_store_jobs_template_insert(f->db, AR, &r), DD_EEXIST);
	assert_int_equal(dd_store_jobs_template_insert(f->db, AR2, &r), 0);
	r = (struct dd_store_jobs_template_row){ .template_id = "t2", .description = "d", .document_source = "https://x",
						 .created = 6 };
	assert_int_equal(dd_store_jobs_template_insert(f->db, AR, &r), 0);
	struct tpl t = { 0 };
	assert_int_equal(dd_store_jobs_template_get(f->db, AR, "t2", collect_tpl, &t), 0);
	assert_string_equal(t.doc, "(null)");
	assert_int_equal(dd_store_jobs_template_get(f->db, AR, "t3", collect_tpl, &t), DD_ENOTFOUND);
	memset(&t, 0, sizeof t);
	assert_int_equal(dd_store_jobs_template_list(f->db, AR, "", 10, collect_tpl, &t), 0);
	assert_int_equal(t.n, 2);
	memset(&t, 0, sizeof t);
	assert_int_equal(dd_store_jobs_template_list(f->db, AR, "t1", 10, collect_tpl, &t), 0);
	assert_int_equal(t.n, 1);
	assert_string_equal(t.ids[0], "t2");
	assert_int_equal(dd_store_jobs_template_delete(f->db, AR, "t1"), 0);
	assert_int_equal(dd_store_jobs_template_delete(f->db, AR, "t1"), DD_ENOTFOUND);
	assert_int_equal(dd_store_jobs_template_get(f->db, AR2, "t1", collect_tpl, &t), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(jobs_crud_filters_paging, dd_test_store_setup, dd_test_store_teardown),
		cmocka_unit_test_setup_teardown(executions, dd_test_store_setup, dd_test_store_teardown),
		cmocka_unit_test_setup_teardown(templates, dd_test_store_setup, dd_test_store_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

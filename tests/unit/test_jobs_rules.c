/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the job rules (src/core/registry/dd_jobs.h): the transition checks of
 * executions and jobs for every status, and, on a real store in a temporary directory,
 * creation with targets expanded through nested groups, missing targets and the target
 * limit leaving nothing behind, IN_PROGRESS executions (set through the store, as a device
 * protocol would) canceled and deleted only with force, forced job cancels, the version
 * check, SNAPSHOT completion, CONTINUOUS jobs queueing things that join a group below a
 * target (through dd_registry_groups_add_member), AssociateTargetsWithJob's rules, and
 * executions REMOVED when their thing leaves a CONTINUOUS job's targets or is deleted.
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

#include "core/registry/dd_jobs.h"
#include "core/registry/dd_registry_groups.h"
#include "dd/store.h"
#include "store/dd_store_groups.h"
#include "store/dd_store_jobs.h"
#include "store/dd_store_things.h"

#define AR "123456789012/us-east-1"

static const char *const all_exec[] = { "QUEUED", "IN_PROGRESS", "SUCCEEDED", "FAILED",
					"TIMED_OUT", "REJECTED", "REMOVED", "CANCELED" };

static void exec_transitions(void **state)
{
	(void)state;
	char msg[256];
	for (size_t i = 0; i < sizeof all_exec / sizeof all_exec[0]; i++) {
		const char *s = all_exec[i];
		bool terminal = i >= 2;
		assert_int_equal(dd_jobs_exec_terminal(s), terminal);
		/* cancel: QUEUED always, IN_PROGRESS with force, terminal never */
		int want = strcmp(s, "QUEUED") == 0 ? 0 : DD_ECONFLICT;
		assert_int_equal(dd_jobs_exec_cancel_check(s, false, msg, sizeof msg), want);
		want = terminal ? DD_ECONFLICT : 0;
		assert_int_equal(dd_jobs_exec_cancel_check(s, true, msg, sizeof msg), want);
		/* delete: terminal always, the others with force */
		assert_int_equal(dd_jobs_exec_delete_check(s, false, msg, sizeof msg), terminal ? 0 : DD_ECONFLICT);
		assert_int_equal(dd_jobs_exec_delete_check(s, true, msg, sizeof msg), 0);
	}
	assert_int_equal(dd_jobs_exec_cancel_check("IN_PROGRESS", false, msg, sizeof msg), DD_ECONFLICT);
	assert_non_null(strstr(msg, "force"));
}

static void job_transitions(void **state)
{
	(void)state;
	char msg[256];
	assert_int_equal(dd_jobs_cancel_check("IN_PROGRESS", false, msg, sizeof msg), 0);
	assert_int_equal(dd_jobs_cancel_check("SCHEDULED", false, msg, sizeof msg), 0);
	assert_int_equal(dd_jobs_cancel_check("COMPLETED", false, msg, sizeof msg), DD_EINVAL);
	assert_int_equal(dd_jobs_cancel_check("COMPLETED", true, msg, sizeof msg), DD_EINVAL);
	assert_int_equal(dd_jobs_cancel_check("CANCELED", false, msg, sizeof msg), DD_EINVAL);
	assert_int_equal(dd_jobs_cancel_check("CANCELED", true, msg, sizeof msg), 0);
	assert_int_equal(dd_jobs_delete_check("IN_PROGRESS", false, msg, sizeof msg), DD_ECONFLICT);
	assert_int_equal(dd_jobs_delete_check("SCHEDULED", false, msg, sizeof msg), DD_ECONFLICT);
	assert_int_equal(dd_jobs_delete_check("IN_PROGRESS", true, msg, sizeof msg), 0);
	assert_int_equal(dd_jobs_delete_check("COMPLETED", false, msg, sizeof msg), 0);
	assert_int_equal(dd_jobs_delete_check("CANCELED", false, msg, sizeof msg), 0);
	assert_string_equal(dd_jobs_status_at("IN_PROGRESS", 2000, 1000), "SCHEDULED");
	assert_string_equal(dd_jobs_status_at("IN_PROGRESS", 1000, 2000), "IN_PROGRESS");
	assert_string_equal(dd_jobs_status_at("IN_PROGRESS", -1, 2000), "IN_PROGRESS");
	assert_string_equal(dd_jobs_status_at("CANCELED", 5000, 2000), "CANCELED");
}

/* ---- on a store ---- */

struct fx {
	char dir[64];
	struct dd_store *store;
	struct dd_db *db;
	char msg[256];
};

static void group(struct fx *f, const char *name, const char *parent)
{
	struct dd_store_groups_row g = { 0 };
	snprintf(g.name, sizeof g.name, "%s", name);
	snprintf(g.id, sizeof g.id, "id-%s", name);
	snprintf(g.parent, sizeof g.parent, "%s", parent);
	g.attributes = (char *)"{}";
	assert_int_equal(dd_store_groups_insert(f->db, AR, &g), 0);
}

static void member(struct fx *f, const char *g, const char *thing)
{
	assert_int_equal(dd_registry_groups_add_member(f->db, AR, g, thing, false, f->msg, sizeof f->msg), 0);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	assert_non_null(f);
	snprintf(f->dir, sizeof f->dir, "/tmp/ddunit-jobr-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	assert_int_equal(dd_store_open(f->dir, &f->store), 0);
	f->db = dd_store_db(f->store);
	static const char *const things[] = { "a", "b", "c", "d", "late" };
	for (size_t i = 0; i < sizeof things / sizeof things[0]; i++) {
		char id[40];
		snprintf(id, sizeof id, "id-%s", things[i]);
		assert_int_equal(dd_store_things_insert(f->db, AR, things[i], id, NULL, "{}", 1), 0);
	}
	/* root > mid > leaf */
	group(f, "root", "");
	group(f, "mid", "root");
	group(f, "leaf", "mid");
	member(f, "root", "a");
	member(f, "mid", "b");
	member(f, "leaf", "c");
	member(f, "leaf", "a");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	dd_store_close(f->store);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static int create(struct fx *f, const char *id, const char *selection, const struct dd_jobs_target *t, size_t n)
{
	struct dd_store_jobs_row r = { .job_id = id, .target_selection = selection, .document = "{}", .targets = "[]",
				       .start_ms = -1 };
	return dd_jobs_create(f->db, AR, &r, t, n, 100, f->msg, sizeof f->msg);
}

struct one {
	char status[32];
	bool force;
	int64_t version, completed;
	int n;
};

static int read_exec(void *ud, const struct dd_store_jobs_exec_row *r)
{
	struct one *o = ud;
	snprintf(o->status, sizeof o->status, "%s", r->status);
	o->force = r->force_canceled;
	o->version = r->version;
	return 0;
}

static int read_job(void *ud, const struct dd_store_jobs_row *r)
{
	struct one *o = ud;
	snprintf(o->status, sizeof o->status, "%s", r->status);
	o->force = r->force_canceled;
	o->completed = r->completed;
	return 0;
}

static int count_exec(void *ud, const struct dd_store_jobs_exec_row *r)
{
	(void)r;
	((struct one *)ud)->n++;
	return 0;
}

static const char *exec_status(struct fx *f, const char *job, const char *thing, struct one *o)
{
	memset(o, 0, sizeof *o);
	if (dd_store_jobs_exec_get(f->db, AR, job, thing, read_exec, o))
		return "(none)";
	return o->status;
}

static const char *job_status(struct fx *f, const char *job, struct one *o)
{
	memset(o, 0, sizeof *o);
	if (dd_store_jobs_get(f->db, AR, job, read_job, o))
		return "(none)";
	return o->status;
}

static void create_expand_and_errors(void **state)
{
	struct fx *f = *state;
	struct dd_jobs_target t[] = { { "arn:root", "thinggroup", "root" }, { "arn:d", "thing", "d" } };
	assert_int_equal(create(f, "j", "SNAPSHOT", t, 2), 0);
	struct one o = { 0 };
	assert_int_equal(dd_store_jobs_exec_list_job(f->db, AR, "j", "QUEUED", "", 100, count_exec, &o), 0);
	assert_int_equal(o.n, 4); /* a (twice a member), b, c through the nesting, and d */
	assert_string_equal(exec_status(f, "j", "late", &o), "(none)");
	assert_int_equal(create(f, "j", "SNAPSHOT", t, 2), DD_EEXIST);
	/* a missing target refuses the job (the caller rolls back) */
	struct dd_jobs_target ghost[] = { { "arn:ghost", "thing", "ghost" } };
	assert_int_equal(dd_db_begin_write(f->db), 0);
	assert_int_equal(create(f, "g", "SNAPSHOT", ghost, 1), DD_ENOTFOUND);
	assert_non_null(strstr(f->msg, "ghost"));
	dd_db_rollback(f->db);
	assert_string_equal(job_status(f, "g", &o), "(none)");
	struct dd_jobs_target gg[] = { { "arn:gg", "thinggroup", "no-group" } };
	assert_int_equal(create(f, "g2", "SNAPSHOT", gg, 1), DD_ENOTFOUND);
	/* the limit */
	struct dd_jobs_target many[DD_JOBS_MAX_TARGETS + 1];
	for (size_t i = 0; i < DD_JOBS_MAX_TARGETS + 1; i++)
		many[i] = (struct dd_jobs_target){ "arn:a", "thing", "a" };
	assert_int_equal(create(f, "m", "SNAPSHOT", many, DD_JOBS_MAX_TARGETS + 1), DD_ELIMIT);
	assert_string_equal(job_status(f, "m", &o), "(none)");
	assert_int_equal(create(f, "m", "SNAPSHOT", many, DD_JOBS_MAX_TARGETS), 0);
	/* a SNAPSHOT job over an empty group is COMPLETED at once; a CONTINUOUS one is not */
	group(f, "empty", "");
	struct dd_jobs_target e[] = { { "arn:empty", "thinggroup", "empty" } };
	assert_int_equal(create(f, "e1", "SNAPSHOT", e, 1), 0);
	assert_string_equal(job_status(f, "e1", &o), "COMPLETED");
	assert_int_equal(o.completed, 100);
	assert_int_equal(create(f, "e2", "CONTINUOUS", e, 1), 0);
	assert_string_equal(job_status(f, "e2", &o), "IN_PROGRESS");
}

static void execution_rules(void **state)
{
	struct fx *f = *state;
	struct dd_jobs_target t[] = { { "arn:a", "thing", "a" }, { "arn:b", "thing", "b" }, { "arn:c", "thing", "c" } };
	assert_int_equal(create(f, "j", "SNAPSHOT", t, 3), 0);
	/* a device would move a to IN_PROGRESS */
	assert_int_equal(dd_store_jobs_exec_set(f->db, AR, "j", "a", "IN_PROGRESS", false, NULL, 150), 0);
	bool vc;
	struct one o;
	assert_int_equal(dd_jobs_exec_cancel(f->db, AR, "j", "a", -1, false, NULL, 200, &vc, f->msg, sizeof f->msg),
			 DD_ECONFLICT);
	assert_false(vc);
	assert_int_equal(dd_jobs_exec_cancel(f->db, AR, "j", "a", 1, true, NULL, 200, &vc, f->msg, sizeof f->msg), DD_ECONFLICT);
	assert_true(vc); /* its version is 2 */
	assert_int_equal(dd_jobs_exec_cancel(f->db, AR, "j", "a", 2, true, "{\"k\":\"v\"}", 200, &vc, f->msg, sizeof f->msg), 0);
	assert_string_equal(exec_status(f, "j", "a", &o), "CANCELED");
	assert_true(o.force);
	assert_int_equal(o.version, 3);
	assert_int_equal(dd_jobs_exec_cancel(f->db, AR, "j", "a", -1, true, NULL, 200, &vc, f->msg, sizeof f->msg),
			 DD_ECONFLICT); /* terminal */
	assert_int_equal(dd_jobs_exec_cancel(f->db, AR, "j", "zz", -1, true, NULL, 200, &vc, f->msg, sizeof f->msg),
			 DD_ENOTFOUND);
	/* delete: IN_PROGRESS needs force, QUEUED too; the number must match */
	assert_int_equal(dd_store_jobs_exec_set(f->db, AR, "j", "b", "IN_PROGRESS", false, NULL, 210), 0);
	assert_int_equal(dd_jobs_exec_delete(f->db, AR, "j", "b", 2, false, 220, f->msg, sizeof f->msg), DD_ECONFLICT);
	assert_int_equal(dd_jobs_exec_delete(f->db, AR, "j", "b", 7, true, 220, f->msg, sizeof f->msg), DD_ENOTFOUND);
	assert_int_equal(dd_jobs_exec_delete(f->db, AR, "j", "c", 3, false, 220, f->msg, sizeof f->msg), DD_ECONFLICT);
	assert_int_equal(dd_jobs_exec_delete(f->db, AR, "j", "a", 1, false, 220, f->msg, sizeof f->msg), 0); /* terminal */
	assert_int_equal(dd_jobs_exec_delete(f->db, AR, "j", "b", 2, true, 220, f->msg, sizeof f->msg), 0);
	assert_string_equal(job_status(f, "j", &o), "IN_PROGRESS");
	/* the last non-terminal execution canceled: COMPLETED */
	assert_int_equal(dd_jobs_exec_cancel(f->db, AR, "j", "c", -1, false, NULL, 300, &vc, f->msg, sizeof f->msg), 0);
	assert_string_equal(job_status(f, "j", &o), "COMPLETED");
	assert_int_equal(o.completed, 300);
	assert_int_equal(dd_jobs_cancel(f->db, AR, "j", NULL, NULL, true, 310, f->msg, sizeof f->msg), DD_EINVAL);
	assert_int_equal(dd_jobs_delete(f->db, AR, "j", false, f->msg, sizeof f->msg), 0);
	assert_string_equal(job_status(f, "j", &o), "(none)");
}

static void job_cancel_and_delete(void **state)
{
	struct fx *f = *state;
	struct dd_jobs_target t[] = { { "arn:a", "thing", "a" }, { "arn:b", "thing", "b" } };
	assert_int_equal(create(f, "j", "SNAPSHOT", t, 2), 0);
	assert_int_equal(dd_store_jobs_exec_set(f->db, AR, "j", "a", "IN_PROGRESS", false, NULL, 150), 0);
	assert_int_equal(dd_jobs_delete(f->db, AR, "j", false, f->msg, sizeof f->msg), DD_ECONFLICT);
	struct one o;
	/* without force: the QUEUED execution is canceled, the IN_PROGRESS one stays */
	assert_int_equal(dd_jobs_cancel(f->db, AR, "j", "R", "c", false, 200, f->msg, sizeof f->msg), 0);
	assert_string_equal(job_status(f, "j", &o), "CANCELED");
	assert_false(o.force);
	assert_string_equal(exec_status(f, "j", "a", &o), "IN_PROGRESS");
	assert_string_equal(exec_status(f, "j", "b", &o), "CANCELED");
	assert_int_equal(dd_jobs_cancel(f->db, AR, "j", NULL, NULL, false, 210, f->msg, sizeof f->msg), DD_EINVAL);
	/* with force: the IN_PROGRESS one too, marked forceCanceled */
	assert_int_equal(dd_jobs_cancel(f->db, AR, "j", NULL, NULL, true, 220, f->msg, sizeof f->msg), 0);
	assert_string_equal(exec_status(f, "j", "a", &o), "CANCELED");
	assert_true(o.force);
	assert_string_equal(job_status(f, "j", &o), "CANCELED");
	assert_true(o.force);
	assert_int_equal(dd_jobs_delete(f->db, AR, "j", false, f->msg, sizeof f->msg), 0);
	assert_int_equal(dd_jobs_delete(f->db, AR, "j", false, f->msg, sizeof f->msg), DD_ENOTFOUND);
	/* an IN_PROGRESS job with force */
	assert_int_equal(create(f, "k", "SNAPSHOT", t, 2), 0);
	assert_int_equal(dd_jobs_delete(f->db, AR, "k", true, f->msg, sizeof f->msg), 0);
	assert_string_equal(exec_status(f, "k", "a", &o), "(none)");
}

static void continuous_and_associate(void **state)
{
	struct fx *f = *state;
	struct dd_jobs_target mid[] = { { "arn:mid", "thinggroup", "mid" } };
	assert_int_equal(create(f, "cont", "CONTINUOUS", mid, 1), 0);
	assert_int_equal(create(f, "snap", "SNAPSHOT", mid, 1), 0);
	struct one o;
	assert_string_equal(exec_status(f, "cont", "late", &o), "(none)");
	member(f, "leaf", "late"); /* below the target */
	assert_string_equal(exec_status(f, "cont", "late", &o), "QUEUED");
	assert_string_equal(exec_status(f, "snap", "late", &o), "(none)");
	member(f, "root", "d"); /* above the target: not queued */
	assert_string_equal(exec_status(f, "cont", "d", &o), "(none)");
	/* associate: CONTINUOUS IN_PROGRESS only, targets must exist, the limit counts all */
	struct dd_jobs_target root[] = { { "arn:root", "thinggroup", "root" } };
	assert_int_equal(dd_jobs_associate(f->db, AR, "snap", root, 1, 400, f->msg, sizeof f->msg), DD_EINVAL);
	assert_int_equal(dd_jobs_associate(f->db, AR, "cont", root, 1, 400, f->msg, sizeof f->msg), 0);
	assert_string_equal(exec_status(f, "cont", "d", &o), "QUEUED");
	struct dd_jobs_target ghost[] = { { "arn:ghost", "thing", "ghost" } };
	assert_int_equal(dd_jobs_associate(f->db, AR, "cont", ghost, 1, 400, f->msg, sizeof f->msg), DD_ENOTFOUND);
	struct dd_jobs_target many[DD_JOBS_MAX_TARGETS];
	char arns[DD_JOBS_MAX_TARGETS][16];
	for (size_t i = 0; i < DD_JOBS_MAX_TARGETS; i++) {
		snprintf(arns[i], sizeof arns[i], "arn:x%zu", i);
		group(f, arns[i] + 4, "");
		many[i] = (struct dd_jobs_target){ arns[i], "thinggroup", arns[i] + 4 };
	}
	assert_int_equal(dd_db_begin_write(f->db), 0);
	assert_int_equal(dd_jobs_associate(f->db, AR, "cont", many, DD_JOBS_MAX_TARGETS - 1, 400, f->msg, sizeof f->msg),
			 DD_ELIMIT);
	dd_db_rollback(f->db);
	assert_int_equal(dd_jobs_associate(f->db, AR, "cont", many, DD_JOBS_MAX_TARGETS - 2, 400, f->msg, sizeof f->msg), 0);
	assert_int_equal(dd_jobs_associate(f->db, AR, "nope", root, 1, 400, f->msg, sizeof f->msg), DD_ENOTFOUND);
	/* canceled: no more executions */
	assert_int_equal(dd_jobs_cancel(f->db, AR, "cont", NULL, NULL, false, 500, f->msg, sizeof f->msg), 0);
	assert_int_equal(dd_store_things_insert(f->db, AR, "later", "id-later", NULL, "{}", 1), 0);
	member(f, "mid", "later");
	assert_string_equal(exec_status(f, "cont", "later", &o), "(none)");
}

static void things_leaving(void **state)
{
	struct fx *f = *state;
	struct dd_jobs_target mid[] = { { "arn:mid", "thinggroup", "mid" } };
	struct dd_jobs_target mid_b[] = { { "arn:mid", "thinggroup", "mid" }, { "arn:b", "thing", "b" } };
	assert_int_equal(create(f, "cont", "CONTINUOUS", mid, 1), 0);
	assert_int_equal(create(f, "cont_b", "CONTINUOUS", mid_b, 2), 0);
	assert_int_equal(create(f, "snap", "SNAPSHOT", mid, 1), 0);
	struct one o;
	/* c leaves leaf (below mid): REMOVED from the CONTINUOUS jobs, kept by the SNAPSHOT one */
	assert_int_equal(dd_registry_groups_remove_member(f->db, AR, "leaf", "c", f->msg, sizeof f->msg), 0);
	assert_string_equal(exec_status(f, "cont", "c", &o), "REMOVED");
	assert_int_equal(o.version, 2);
	assert_string_equal(exec_status(f, "snap", "c", &o), "QUEUED");
	/* a stays in root, which is above mid, not below it: removed too */
	assert_int_equal(dd_registry_groups_remove_member(f->db, AR, "leaf", "a", f->msg, sizeof f->msg), 0);
	assert_string_equal(exec_status(f, "cont", "a", &o), "REMOVED");
	/* b leaves mid but cont_b targets it directly */
	assert_int_equal(dd_registry_groups_remove_member(f->db, AR, "mid", "b", f->msg, sizeof f->msg), 0);
	assert_string_equal(exec_status(f, "cont", "b", &o), "REMOVED");
	assert_string_equal(exec_status(f, "cont_b", "b", &o), "QUEUED");
	/* a thing in two groups under the target keeps its execution when it leaves one */
	member(f, "mid", "d");
	member(f, "leaf", "d");
	assert_int_equal(dd_registry_groups_remove_member(f->db, AR, "mid", "d", f->msg, sizeof f->msg), 0);
	assert_string_equal(exec_status(f, "cont", "d", &o), "QUEUED");
	/* deleted things: REMOVED everywhere; the SNAPSHOT job completes with none left */
	static const char *const gone[] = { "a", "b", "c" };
	for (size_t i = 0; i < 3; i++)
		assert_int_equal(dd_jobs_thing_deleted(f->db, AR, gone[i], 600), 0);
	assert_string_equal(exec_status(f, "snap", "a", &o), "REMOVED");
	assert_string_equal(exec_status(f, "cont_b", "b", &o), "REMOVED");
	assert_string_equal(job_status(f, "snap", &o), "COMPLETED");
	assert_int_equal(o.completed, 600);
	assert_string_equal(job_status(f, "cont", &o), "IN_PROGRESS");
	struct dd_store_jobs_counts n;
	assert_int_equal(dd_store_jobs_exec_counts(f->db, AR, "snap", &n), 0);
	assert_int_equal(n.removed, 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(exec_transitions),
		cmocka_unit_test(job_transitions),
		cmocka_unit_test_setup_teardown(create_expand_and_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(execution_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(job_cancel_and_delete, setup, teardown),
		cmocka_unit_test_setup_teardown(continuous_and_associate, setup, teardown),
		cmocka_unit_test_setup_teardown(things_leaving, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

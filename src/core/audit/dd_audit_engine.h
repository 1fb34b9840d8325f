/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the audit API (src/api/dd_iot_audit.c) and the tests need from the engine besides
 * its life cycle (dd/audit.h): creating a task, and running one check outside any task.
 * The engine never calls the API layer.
 */
#ifndef DD_AUDIT_ENGINE_H
#define DD_AUDIT_ENGINE_H

#include <jansson.h>

#include "dd/common.h"
#include "dd/service.h"

struct dd_db;

/* Creates an IN_PROGRESS task of account_region ("<account>/<region>") with one IN_PROGRESS
 * row for each of the n API check names, in its own write transaction. Writes the 32-hex
 * task id. The caller wakes the engine (dd_audit_engine_wake). */
int dd_audit_engine_task_create(struct dd_db *db, const char *account_region, const char *type,
				const char *scheduled_name, const char *const *checks, size_t n, int64_t start_ms,
				int64_t window_start_ms, char task_id[33]) DD_MUST_CHECK;

/* For tests of the checks: runs one check against the store as it is now, outside any
 * task, and returns its findings (NonCompliantResource, relatedResources, reason and
 * code per finding) as a new JSON array, with the total and the waiting flag. Writes
 * nothing. Returns the check's own return code. */
int dd_audit_engine_run_check_for_test(struct dd_service *svc, const char *account_region, const char *check_name,
				       json_t *config, int64_t now_ms, json_t **findings_out, int64_t *total_out,
				       bool *waiting_out);

/* Where a task's time goes, per check (for benchmarks and profiling): reported once per
 * check after its findings are stored. lane is the thread the check ran on (-1: not run).
 * The task's thread also reports its set-up before the checks and its end after them as
 * two entries with lane -1 and a check_name in parentheses (run_s is the phase's time). */
struct dd_audit_engine_timing {
	const char *task_id, *check_name, *status;
	int lane;
	int group;           /* > 0: shared one pass over the certificates with the group's checks
			      * (run_s is then the pass's time) */
	double run_s;        /* running the check on the snapshot (findings spooled) */
	double store_s;      /* writing its findings and final status */
	double run_cpu_s, store_cpu_s; /* the same in CPU time of the thread (the machine's load aside) */
	int64_t total, noncompliant;
};
typedef void (*dd_audit_engine_timing_fn)(const struct dd_audit_engine_timing *t, void *ud);
/* Sets (or with NULL clears) the process-wide observer. Set it before the engine starts. */
void dd_audit_engine_set_timing(dd_audit_engine_timing_fn fn, void *ud);

#endif

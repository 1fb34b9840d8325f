/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Job rules: target expansion and the state transitions of jobs and job executions, as
 * AWS IoT documents them. A job's targets are things and thing groups of its account and
 * region, at most DD_JOBS_MAX_TARGETS; on creation it gets one QUEUED execution per target
 * thing, thing groups expanded through their memberships, nested groups included. A
 * CONTINUOUS job also queues an execution for each thing that later joins a target group
 * or a group below one (dd_jobs_thing_joined, called where memberships are added), and an
 * execution becomes REMOVED when its thing leaves the job's targets (CONTINUOUS jobs) or is
 * deleted (dd_jobs_thing_left, dd_jobs_thing_deleted). A SNAPSHOT job becomes COMPLETED when none of its executions is QUEUED or IN_PROGRESS.
 * Executions: QUEUED can be canceled; IN_PROGRESS only with force; a terminal execution
 * (SUCCEEDED, FAILED, TIMED_OUT, REJECTED, REMOVED, CANCELED) cannot be canceled; only a
 * terminal execution can be deleted without force. Jobs: only a COMPLETED or CANCELED job
 * can be deleted without force; a COMPLETED job cannot be canceled, nor a CANCELED one
 * without force. Functions run inside the caller's write transaction and return 0 or a
 * negative DD_E* with a message in msg: DD_ENOTFOUND, DD_EINVAL (the request is refused),
 * DD_ECONFLICT (the state forbids the transition), DD_ELIMIT, DD_EIO (store).
 */
#ifndef DD_JOBS_H
#define DD_JOBS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dd/common.h"
#include "store/dd_store_jobs.h"

struct dd_db;

#define DD_JOBS_MAX_TARGETS 100

/* One target: its ARN (as given), kind ("thing" / "thinggroup") and name. */
struct dd_jobs_target {
	const char *arn;
	const char *kind;
	const char *name;
};

/* Is an execution status terminal? */
bool dd_jobs_exec_terminal(const char *status);
/* The status a job answers: a stored IN_PROGRESS job whose scheduled start (start_ms, -1
 * none) is after now_ms is SCHEDULED. */
const char *dd_jobs_status_at(const char *stored, int64_t start_ms, int64_t now_ms);

/* The transition checks: 0 when allowed, otherwise DD_ECONFLICT (DD_EINVAL for canceling
 * a job) with msg. */
int dd_jobs_exec_cancel_check(const char *status, bool force, char *msg, size_t msglen) DD_MUST_CHECK;
int dd_jobs_exec_delete_check(const char *status, bool force, char *msg, size_t msglen) DD_MUST_CHECK;
int dd_jobs_cancel_check(const char *status, bool force, char *msg, size_t msglen) DD_MUST_CHECK;
int dd_jobs_delete_check(const char *status, bool force, char *msg, size_t msglen) DD_MUST_CHECK;

/* Creates the job of row (its status is set here) with its targets, which must exist, and
 * queues its executions at now_ms. DD_EEXIST when the id is taken. */
int dd_jobs_create(struct dd_db *db, const char *account_region, struct dd_store_jobs_row *row,
		   const struct dd_jobs_target *targets, size_t ntargets, int64_t now_ms, char *msg,
		   size_t msglen) DD_MUST_CHECK;
/* Adds targets to a CONTINUOUS IN_PROGRESS job and queues their things' executions. */
int dd_jobs_associate(struct dd_db *db, const char *account_region, const char *job_id,
		      const struct dd_jobs_target *targets, size_t ntargets, int64_t now_ms, char *msg,
		      size_t msglen) DD_MUST_CHECK;
/* Cancels a job: its QUEUED executions and, with force, its IN_PROGRESS ones. */
int dd_jobs_cancel(struct dd_db *db, const char *account_region, const char *job_id, const char *reason_code,
		   const char *comment, bool force, int64_t now_ms, char *msg, size_t msglen) DD_MUST_CHECK;
/* Deletes a job and its executions. */
int dd_jobs_delete(struct dd_db *db, const char *account_region, const char *job_id, bool force, char *msg,
		   size_t msglen) DD_MUST_CHECK;
/* Cancels the execution of job_id on thing. expected_version (-1: none) must be the
 * execution's version, else *version_conflict is set and DD_ECONFLICT returned.
 * status_details (NULL: kept) is a JSON object text of strings merged into its details. */
int dd_jobs_exec_cancel(struct dd_db *db, const char *account_region, const char *job_id, const char *thing,
			int64_t expected_version, bool force, const char *status_details, int64_t now_ms,
			bool *version_conflict, char *msg, size_t msglen) DD_MUST_CHECK;
/* Deletes the execution of job_id on thing numbered execution_number. */
int dd_jobs_exec_delete(struct dd_db *db, const char *account_region, const char *job_id, const char *thing,
			int64_t execution_number, bool force, int64_t now_ms, char *msg, size_t msglen) DD_MUST_CHECK;
/* Thing has joined group: queues its execution of every IN_PROGRESS CONTINUOUS job that
 * targets group or a group above it. */
int dd_jobs_thing_joined(struct dd_db *db, const char *account_region, const char *group, const char *thing,
			 int64_t now_ms) DD_MUST_CHECK;

/* Thing has left a group: its QUEUED or IN_PROGRESS execution of every IN_PROGRESS
 * CONTINUOUS job that no longer targets it (directly, or through a group it is in or
 * below) becomes REMOVED. */
int dd_jobs_thing_left(struct dd_db *db, const char *account_region, const char *thing, int64_t now_ms) DD_MUST_CHECK;
/* Thing is being deleted: its QUEUED and IN_PROGRESS executions become REMOVED (and a
 * SNAPSHOT job with none left QUEUED or IN_PROGRESS is COMPLETED). */
int dd_jobs_thing_deleted(struct dd_db *db, const char *account_region, const char *thing, int64_t now_ms) DD_MUST_CHECK;

#endif

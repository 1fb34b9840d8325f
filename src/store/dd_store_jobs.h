/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Jobs, their targets, their executions and job templates in the store, per account and
 * region. A job keeps its document (or document source, or the template it came from), its
 * configs as one JSON object text, its target ARNs as a JSON array text (for answers) and,
 * one row each, its targets by kind ("thing" / "thinggroup") and name (for the filters and
 * for the things that later join a target group). An execution is one per job and thing,
 * numbered from the job's counter (1, 2, …); its version starts at 1 and every change adds
 * one. Deleting a job deletes its targets and executions. Functions run in the caller's
 * transaction when one is open and return 0 or a negative DD_E* (DD_ENOTFOUND, DD_EEXIST,
 * DD_EIO). Callbacks return 0 to go on, > 0 to stop (the call returns 0), < 0 to stop with
 * that error; the strings of a row are valid during the callback only.
 */
#ifndef DD_STORE_JOBS_H
#define DD_STORE_JOBS_H

#include <stdbool.h>
#include <stdint.h>

#include "dd/common.h"

struct dd_db;

struct dd_store_jobs_row {
	const char *job_id;
	const char *target_selection; /* SNAPSHOT / CONTINUOUS */
	const char *status;           /* IN_PROGRESS / CANCELED / COMPLETED */
	const char *description;      /* NULL: none */
	const char *document;         /* NULL: none */
	const char *document_source;  /* NULL: none */
	const char *template_arn;     /* NULL: none */
	const char *namespace_id;     /* NULL: none */
	const char *config;           /* JSON object text */
	const char *targets;          /* JSON array text of target ARNs */
	const char *reason_code;      /* NULL: none */
	const char *comment;          /* NULL: none */
	const char *group_id;         /* read only: the id of the first thing group target, NULL: none */
	bool force_canceled;
	int64_t start_ms;             /* scheduled start; -1: none */
	int64_t created, updated;
	int64_t completed;            /* 0: not completed */
};

typedef int (*dd_store_jobs_fn)(void *ud, const struct dd_store_jobs_row *r);

/* DD_EEXIST when the job id is taken. */
int dd_store_jobs_insert(struct dd_db *db, const char *account_region, const struct dd_store_jobs_row *r) DD_MUST_CHECK;
/* Calls fn once with the job; DD_ENOTFOUND without it. */
int dd_store_jobs_get(struct dd_db *db, const char *account_region, const char *job_id, dd_store_jobs_fn fn,
		      void *ud) DD_MUST_CHECK;

/* The filters of ListJobs; NULL members do not filter. status is the answered status: an
 * IN_PROGRESS job whose start_ms is after now_ms is SCHEDULED. */
struct dd_store_jobs_filter {
	const char *status;
	int64_t now_ms;
	const char *target_selection;
	const char *group_name; /* jobs with this thing group as a target */
	const char *group_id;   /* jobs with the thing group of this id as a target */
	const char *namespace_id;
};
/* Jobs after `after` by id, at most limit. */
int dd_store_jobs_list(struct dd_db *db, const char *account_region, const struct dd_store_jobs_filter *f,
		       const char *after, int limit, dd_store_jobs_fn fn, void *ud) DD_MUST_CHECK;
/* Sets the description (NULL: kept), the configs (NULL: kept), the targets (NULL: kept)
 * and the time of the last update. DD_ENOTFOUND without it. */
int dd_store_jobs_update(struct dd_db *db, const char *account_region, const char *job_id, const char *description,
			 const char *config, const char *targets, int64_t now_ms) DD_MUST_CHECK;
/* Sets the status, the cancel reason and comment (NULL: kept), forceCanceled (set only,
 * never cleared), the time of the last update and, when completed_ms > 0, of completion. */
int dd_store_jobs_set_status(struct dd_db *db, const char *account_region, const char *job_id, const char *status,
			     const char *reason_code, const char *comment, bool force_canceled, int64_t now_ms,
			     int64_t completed_ms) DD_MUST_CHECK;
/* Deletes the job, its targets and executions. DD_ENOTFOUND without it. */
int dd_store_jobs_delete(struct dd_db *db, const char *account_region, const char *job_id) DD_MUST_CHECK;

/* ---- targets ---- */

/* Adds a target (already one: no error). group_id: the thing group's id, NULL for a thing. */
int dd_store_jobs_target_add(struct dd_db *db, const char *account_region, const char *job_id, const char *kind,
			     const char *name, const char *group_id) DD_MUST_CHECK;
int dd_store_jobs_target_count(struct dd_db *db, const char *account_region, const char *job_id,
			       int64_t *n) DD_MUST_CHECK;
/* Does the account have any IN_PROGRESS CONTINUOUS job? */
int dd_store_jobs_continuous_any(struct dd_db *db, const char *account_region, bool *yes) DD_MUST_CHECK;
/* The IN_PROGRESS CONTINUOUS jobs that target thing group `group` (directly), by id. */
typedef int (*dd_store_jobs_id_fn)(const char *job_id, void *ud);
int dd_store_jobs_continuous_for_group(struct dd_db *db, const char *account_region, const char *group,
				       dd_store_jobs_id_fn fn, void *ud) DD_MUST_CHECK;

/* The job's targets: kind ("thing" / "thinggroup") and name, valid during the call. */
typedef int (*dd_store_jobs_target_fn)(const char *kind, const char *name, void *ud);
int dd_store_jobs_target_list(struct dd_db *db, const char *account_region, const char *job_id,
			      dd_store_jobs_target_fn fn, void *ud) DD_MUST_CHECK;

/* ---- executions ---- */

struct dd_store_jobs_exec_row {
	const char *job_id;
	const char *thing_name;
	int64_t execution_number;
	const char *status;
	bool force_canceled;
	const char *status_details; /* JSON object text of strings */
	int64_t version;
	int64_t queued, started, updated; /* started: 0 when not started */
};

typedef int (*dd_store_jobs_exec_fn)(void *ud, const struct dd_store_jobs_exec_row *r);

/* Queues an execution of the job for thing with the job's next execution number, unless
 * the thing has one already (*added false). DD_ENOTFOUND without the job. */
int dd_store_jobs_exec_queue(struct dd_db *db, const char *account_region, const char *job_id, const char *thing,
			     int64_t now_ms, bool *added) DD_MUST_CHECK;
/* Calls fn once with the execution; DD_ENOTFOUND without it. */
int dd_store_jobs_exec_get(struct dd_db *db, const char *account_region, const char *job_id, const char *thing,
			   dd_store_jobs_exec_fn fn, void *ud) DD_MUST_CHECK;
/* The job's executions after thing `after` by thing name, of one status (NULL: all). */
int dd_store_jobs_exec_list_job(struct dd_db *db, const char *account_region, const char *job_id, const char *status,
				const char *after, int limit, dd_store_jobs_exec_fn fn, void *ud) DD_MUST_CHECK;
/* The thing's executions after job `after` by job id, of one status, one namespace and one
 * job (each NULL: all). */
int dd_store_jobs_exec_list_thing(struct dd_db *db, const char *account_region, const char *thing,
				  const char *status, const char *namespace_id, const char *job_id, const char *after,
				  int limit, dd_store_jobs_exec_fn fn, void *ud) DD_MUST_CHECK;
/* Sets the status, forceCanceled (set only), the details (NULL: kept), adds one to the
 * version and sets the time of the last update (and of the start, for IN_PROGRESS). */
int dd_store_jobs_exec_set(struct dd_db *db, const char *account_region, const char *job_id, const char *thing,
			   const char *status, bool force_canceled, const char *status_details,
			   int64_t now_ms) DD_MUST_CHECK;
/* The jobs in which thing has a QUEUED or IN_PROGRESS execution, by id, with the job's
 * target selection and status (valid during the call). */
typedef int (*dd_store_jobs_active_fn)(const char *job_id, const char *target_selection, const char *job_status,
				       void *ud);
int dd_store_jobs_exec_active_for_thing(struct dd_db *db, const char *account_region, const char *thing,
					dd_store_jobs_active_fn fn, void *ud) DD_MUST_CHECK;
/* Cancels every QUEUED execution of the job and, with in_progress, every IN_PROGRESS one
 * (those marked forceCanceled). */
int dd_store_jobs_exec_cancel_all(struct dd_db *db, const char *account_region, const char *job_id, bool in_progress,
				  int64_t now_ms) DD_MUST_CHECK;
int dd_store_jobs_exec_delete(struct dd_db *db, const char *account_region, const char *job_id,
			      const char *thing) DD_MUST_CHECK;

/* Number of the job's executions per status. */
struct dd_store_jobs_counts {
	int64_t queued, in_progress, succeeded, failed, timed_out, rejected, removed, canceled;
};
int dd_store_jobs_exec_counts(struct dd_db *db, const char *account_region, const char *job_id,
			      struct dd_store_jobs_counts *n) DD_MUST_CHECK;

/* ---- job templates ---- */

struct dd_store_jobs_template_row {
	const char *template_id;
	const char *description;
	const char *document;        /* NULL: none */
	const char *document_source; /* NULL: none */
	const char *config;          /* JSON object text */
	int64_t created;
};

typedef int (*dd_store_jobs_template_fn)(void *ud, const struct dd_store_jobs_template_row *r);

/* DD_EEXIST when the id is taken. */
int dd_store_jobs_template_insert(struct dd_db *db, const char *account_region,
				  const struct dd_store_jobs_template_row *r) DD_MUST_CHECK;
int dd_store_jobs_template_get(struct dd_db *db, const char *account_region, const char *template_id,
			       dd_store_jobs_template_fn fn, void *ud) DD_MUST_CHECK;
int dd_store_jobs_template_list(struct dd_db *db, const char *account_region, const char *after, int limit,
				dd_store_jobs_template_fn fn, void *ud) DD_MUST_CHECK;
int dd_store_jobs_template_delete(struct dd_db *db, const char *account_region,
				  const char *template_id) DD_MUST_CHECK;

#endif

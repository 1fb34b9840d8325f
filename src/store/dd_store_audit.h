/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The audit aggregate in the store: a region's account audit configuration, audit tasks
 * and their per-check rows, findings, suppressions, scheduled audits and the role service
 * usage records. Every row is keyed by account_region ("<account>/<region>", dd/ctx.h).
 * JSON documents (the configuration's targets and checks, a finding's resource and
 * related resources, a suppression's resource identifier, a task's check list) cross this
 * interface as text; nothing here parses them. Functions do not open transactions: the
 * caller wraps a group of writes in dd_db_begin_write / dd_db_commit (dd/store.h). Rows
 * handed to callbacks are borrowed and valid only during the call; a non-zero return of a
 * callback stops the walk and is returned. Each function returns 0, DD_ENOTFOUND where
 * stated, or DD_EIO for a store failure.
 */
#ifndef DD_STORE_AUDIT_H
#define DD_STORE_AUDIT_H

#include <stddef.h>
#include <stdint.h>

#include "dd/common.h"

struct dd_db;

/* ---- account audit configuration ---------------------------------------------------- */

/* Owned strings (free with dd_store_audit_config_clear); role_arn may be NULL. */
struct dd_store_audit_config {
	char *role_arn;
	char *targets;   /* JSON object text */
	char *checks;    /* JSON object text */
};

/* DD_ENOTFOUND when the region has no configuration (out is then all NULL). */
int dd_store_audit_config_get(struct dd_db *db, const char *account_region, struct dd_store_audit_config *out) DD_MUST_CHECK;
void dd_store_audit_config_clear(struct dd_store_audit_config *c);
/* Creates or replaces the configuration. */
int dd_store_audit_config_put(struct dd_db *db, const char *account_region, const char *role_arn, const char *targets,
			      const char *checks) DD_MUST_CHECK;
int dd_store_audit_config_delete(struct dd_db *db, const char *account_region) DD_MUST_CHECK;

/* ---- tasks -------------------------------------------------------------------------- */

struct dd_store_audit_task {
	const char *account_region;
	const char *task_id;
	const char *task_type;       /* ON_DEMAND_AUDIT_TASK, SCHEDULED_AUDIT_TASK */
	const char *status;          /* IN_PROGRESS, COMPLETED, FAILED, CANCELED */
	const char *scheduled_name;  /* NULL for on-demand tasks */
	int64_t start_ms;
	int64_t window_start_ms;
	const char *checks;          /* JSON array text of check names */
};
typedef int (*dd_store_audit_task_fn)(const struct dd_store_audit_task *t, void *ud);

struct dd_store_audit_task_check {
	const char *check_name;
	const char *status;          /* IN_PROGRESS, WAITING_FOR_DATA_COLLECTION, COMPLETED_*, FAILED, CANCELED */
	int64_t total, noncompliant, suppressed;
	const char *error_code;      /* NULL when none */
	const char *message;         /* NULL when none */
};
typedef int (*dd_store_audit_task_check_fn)(const struct dd_store_audit_task_check *c, void *ud);

/* Inserts an IN_PROGRESS task (t->status is ignored) with one IN_PROGRESS row for each of
 * the n check names. DD_EEXIST when the task id is taken. */
int dd_store_audit_task_insert(struct dd_db *db, const struct dd_store_audit_task *t, const char *const *check_names,
			       size_t n) DD_MUST_CHECK;
/* Calls fn once with the task. DD_ENOTFOUND when absent. */
int dd_store_audit_task_get(struct dd_db *db, const char *account_region, const char *task_id, dd_store_audit_task_fn fn,
			    void *ud) DD_MUST_CHECK;
/* The task's check rows, by check name. */
int dd_store_audit_task_checks(struct dd_db *db, const char *account_region, const char *task_id,
			       dd_store_audit_task_check_fn fn, void *ud) DD_MUST_CHECK;
/* The status of one check of a task into buf. DD_ENOTFOUND when absent. */
int dd_store_audit_task_check_status(struct dd_db *db, const char *account_region, const char *task_id,
				     const char *check_name, char *buf, size_t len) DD_MUST_CHECK;
/* Number of on-demand or scheduled (task_type) tasks of the region still IN_PROGRESS. */
int dd_store_audit_tasks_count_in_progress(struct dd_db *db, const char *account_region, const char *task_type,
					   int64_t *n) DD_MUST_CHECK;

struct dd_store_audit_tasks_filter {
	int64_t start_ms, end_ms;    /* start time within [start_ms, end_ms] */
	const char *task_type;       /* NULL: any */
	const char *status;          /* NULL: any */
	int64_t after_ms;            /* keyset: (start_ms DESC, task_id) after (after_ms, after_id); */
	const char *after_id;        /* INT64_MAX and "" for the first page */
};
/* Tasks newest first (start_ms DESC, task_id), at most limit of them. */
int dd_store_audit_tasks_list(struct dd_db *db, const char *account_region, const struct dd_store_audit_tasks_filter *f,
			      int limit, dd_store_audit_task_fn fn, void *ud) DD_MUST_CHECK;
/* Every IN_PROGRESS task of every region, oldest first (only account_region and task_id
 * are filled). */
int dd_store_audit_tasks_in_progress(struct dd_db *db, dd_store_audit_task_fn fn, void *ud) DD_MUST_CHECK;
/* Sets an IN_PROGRESS task and its IN_PROGRESS checks to CANCELED. DD_ENOTFOUND when the
 * task is absent or no longer IN_PROGRESS. */
int dd_store_audit_task_cancel(struct dd_db *db, const char *account_region, const char *task_id, int64_t end_ms) DD_MUST_CHECK;
/* Records a check's final state if it is still IN_PROGRESS (*updated tells whether it
 * was). error_code and message may be NULL. */
int dd_store_audit_task_check_finish(struct dd_db *db, const char *account_region, const char *task_id,
				     const struct dd_store_audit_task_check *c, bool *updated) DD_MUST_CHECK;
/* Number of the task's checks still IN_PROGRESS. */
int dd_store_audit_task_checks_left(struct dd_db *db, const char *account_region, const char *task_id, int64_t *n) DD_MUST_CHECK;
/* IN_PROGRESS -> COMPLETED with end_ms (nothing when the task is no longer IN_PROGRESS). */
int dd_store_audit_task_complete(struct dd_db *db, const char *account_region, const char *task_id, int64_t end_ms) DD_MUST_CHECK;
/* Marks the task notified; *first is true only for the call that did. */
int dd_store_audit_task_mark_notified(struct dd_db *db, const char *account_region, const char *task_id, bool *first) DD_MUST_CHECK;
/* Deletes the tasks (with their checks and findings) that started before cutoff_ms and
 * are no longer IN_PROGRESS. */
int dd_store_audit_prune(struct dd_db *db, int64_t cutoff_ms) DD_MUST_CHECK;

/* ---- findings ----------------------------------------------------------------------- */

struct dd_store_audit_finding {
	const char *finding_id;
	const char *task_id;
	const char *check_name;
	int64_t task_start_ms, finding_ms;
	const char *severity;
	const char *resource_type;
	const char *resource_key;    /* canonical resource identifier text (suppressions, filters) */
	const char *resource;        /* NonCompliantResource JSON text */
	const char *related;         /* JSON array text */
	const char *reason;
	const char *reason_code;
	bool suppressed;
	int shard;                   /* the audit shard that found it (0 when unsharded) */
};
typedef int (*dd_store_audit_finding_fn)(const struct dd_store_audit_finding *f, void *ud);

int dd_store_audit_findings_insert(struct dd_db *db, const char *account_region, const struct dd_store_audit_finding *f) DD_MUST_CHECK;
/* The n findings f[0..n) (all of account_region), DD_STORE_AUDIT_FINDINGS_BATCH rows per
 * INSERT statement while that many are left: one statement execution writes them all.
 * 0, DD_EEXIST (a finding id exists: the statement's rows are not written) or DD_EIO. */
#define DD_STORE_AUDIT_FINDINGS_BATCH 32
int dd_store_audit_findings_insert_many(struct dd_db *db, const char *account_region,
					const struct dd_store_audit_finding *f, size_t n) DD_MUST_CHECK;
/* Deletes the findings of one check of a task (a check run again after a crash). */
int dd_store_audit_findings_delete_check(struct dd_db *db, const char *account_region, const char *task_id,
					 const char *check_name) DD_MUST_CHECK;
/* Deletes the findings one shard of a task wrote for a check (a shard run again). */
int dd_store_audit_findings_delete_shard(struct dd_db *db, const char *account_region, const char *task_id,
					 const char *check_name, int shard) DD_MUST_CHECK;
int dd_store_audit_findings_count_task(struct dd_db *db, const char *account_region, const char *task_id, int64_t *n) DD_MUST_CHECK;
/* DD_ENOTFOUND when absent. */
int dd_store_audit_findings_get(struct dd_db *db, const char *account_region, const char *finding_id,
				dd_store_audit_finding_fn fn, void *ud) DD_MUST_CHECK;

struct dd_store_audit_findings_filter {
	const char *task_id;         /* NULL: any */
	const char *check_name;      /* NULL: any */
	const char *resource_key;    /* NULL: any */
	int64_t start_ms, end_ms;    /* finding time within [start_ms, end_ms] */
	int suppressed;              /* -1 any, 0 not suppressed, 1 suppressed */
	int64_t after_ms;            /* keyset: (finding_ms DESC, finding_id) after these; */
	const char *after_id;        /* INT64_MAX and "" for the first page */
};
/* Findings newest first (finding_ms DESC, finding_id), at most limit. */
int dd_store_audit_findings_list(struct dd_db *db, const char *account_region, const struct dd_store_audit_findings_filter *f,
				 int limit, dd_store_audit_finding_fn fn, void *ud) DD_MUST_CHECK;

/* ---- shards ------------------------------------------------------------------------ */

/* A task's device-certificate checks run in shards by certificate id range [lo, hi) (hi
 * NULL: to the end); shard 0 also runs every other check. A shard is IN_PROGRESS until
 * all its checks stored their part, then DONE. Each shard's part of a check
 * (audit_shard_checks) is summed into the task's check row once every shard has one. */
struct dd_store_audit_shard {
	int shard;
	const char *lo, *hi;         /* hi NULL: no upper bound */
	const char *status;          /* IN_PROGRESS, DONE */
};
typedef int (*dd_store_audit_shard_fn)(const struct dd_store_audit_shard *s, void *ud);
/* Adds a shard (nothing when it exists). */
int dd_store_audit_shards_insert(struct dd_db *db, const char *account_region, const char *task_id, int shard,
				 const char *lo, const char *hi) DD_MUST_CHECK;
/* The task's shards by number (none: not planned yet). */
int dd_store_audit_shards_list(struct dd_db *db, const char *account_region, const char *task_id,
			       dd_store_audit_shard_fn fn, void *ud) DD_MUST_CHECK;
/* In a claim transaction (dd_db_begin_claim), the row of the unit a claimer picked: shard
 * of the task, or (shard < 0: the task is to be planned) the task itself, locked FOR UPDATE
 * SKIP LOCKED on PostgreSQL: 1 when this claimer holds the lock now, 0 when another
 * claimer is taking it (or it is no longer IN_PROGRESS): pick another one, without
 * waiting. Always 1 on SQLite (one writer: the lease decides). 1, 0 or DD_EIO. */
int dd_store_audit_claim_lock(struct dd_db *db, const char *account_region, const char *task_id, int shard) DD_MUST_CHECK;
int dd_store_audit_shard_done(struct dd_db *db, const char *account_region, const char *task_id, int shard) DD_MUST_CHECK;
/* Records one shard's part of a check (status, counts, error); nothing when recorded. */
int dd_store_audit_shard_check_put(struct dd_db *db, const char *account_region, const char *task_id, int shard,
				   const struct dd_store_audit_task_check *c) DD_MUST_CHECK;
int dd_store_audit_shard_check_exists(struct dd_db *db, const char *account_region, const char *task_id,
				      const char *check_name, int shard, bool *exists) DD_MUST_CHECK;
struct dd_store_audit_shard_sum {
	int64_t shards;              /* parts recorded */
	int64_t total, noncompliant, suppressed;
	int64_t failed, waiting;     /* parts FAILED, WAITING_FOR_DATA_COLLECTION */
};
/* The sum of the parts of a check recorded so far, and the error code and message of a
 * failed part (else of the lowest part that has one; "" when none). */
int dd_store_audit_shard_checks_sum(struct dd_db *db, const char *account_region, const char *task_id,
				    const char *check_name, struct dd_store_audit_shard_sum *out, char *error_code,
				    size_t elen, char *message, size_t mlen) DD_MUST_CHECK;

/* ---- suppressions ------------------------------------------------------------------- */

struct dd_store_audit_suppression {
	const char *check_name;
	const char *resource_key;
	const char *resource;        /* ResourceIdentifier JSON text */
	bool has_expiration;
	int64_t expiration_ms;
	bool indefinite;
	const char *description;     /* NULL when none */
};
typedef int (*dd_store_audit_suppression_fn)(const struct dd_store_audit_suppression *s, void *ud);

/* DD_ENOTFOUND when absent. */
int dd_store_audit_suppressions_get(struct dd_db *db, const char *account_region, const char *check_name,
				    const char *resource_key, dd_store_audit_suppression_fn fn, void *ud) DD_MUST_CHECK;
/* DD_EEXIST when one exists for the check and resource. */
int dd_store_audit_suppressions_insert(struct dd_db *db, const char *account_region,
				       const struct dd_store_audit_suppression *s) DD_MUST_CHECK;
/* Updates an existing suppression: the resource text always; the expiration when
 * set_expiration (which also clears indefinite unless set_indefinite); indefinite when
 * set_indefinite; the description when not NULL. DD_ENOTFOUND when absent. */
int dd_store_audit_suppressions_update(struct dd_db *db, const char *account_region,
				       const struct dd_store_audit_suppression *s, bool set_expiration,
				       bool set_indefinite) DD_MUST_CHECK;
/* Deleting an absent suppression succeeds. */
int dd_store_audit_suppressions_delete(struct dd_db *db, const char *account_region, const char *check_name,
				       const char *resource_key) DD_MUST_CHECK;
/* Suppressions ordered by (check_name, resource_key), ascending after the pair
 * (after_check, after_key) or descending before it (NULL/"" pair: from the start),
 * optionally only of one check and/or one resource key, at most limit. */
int dd_store_audit_suppressions_list(struct dd_db *db, const char *account_region, const char *check_name,
				     const char *resource_key, const char *after_check, const char *after_key, bool ascending,
				     int limit, dd_store_audit_suppression_fn fn, void *ud) DD_MUST_CHECK;
/* The suppressions in force at now_ms (indefinite, or without or with a later expiration). */
int dd_store_audit_suppressions_active(struct dd_db *db, const char *account_region, int64_t now_ms,
				       dd_store_audit_suppression_fn fn, void *ud) DD_MUST_CHECK;

/* ---- scheduled audits --------------------------------------------------------------- */

struct dd_store_audit_scheduled {
	const char *account_region;
	const char *name;
	const char *frequency;
	const char *day_of_month;    /* NULL when not set */
	const char *day_of_week;     /* NULL when not set */
	const char *checks;          /* JSON array text */
	int64_t created;
	const char *last_run_day;    /* "YYYY-MM-DD" or "" */
	int64_t last_run_ms;
};
typedef int (*dd_store_audit_scheduled_fn)(const struct dd_store_audit_scheduled *s, void *ud);

int dd_store_audit_scheduled_count(struct dd_db *db, const char *account_region, int64_t *n) DD_MUST_CHECK;
/* DD_ENOTFOUND when absent. */
int dd_store_audit_scheduled_get(struct dd_db *db, const char *account_region, const char *name,
				 dd_store_audit_scheduled_fn fn, void *ud) DD_MUST_CHECK;
/* DD_EEXIST when the name is taken. last_run_* are ignored. */
int dd_store_audit_scheduled_insert(struct dd_db *db, const struct dd_store_audit_scheduled *s) DD_MUST_CHECK;
/* Sets frequency and days (NULL clears a day) and, when checks is not NULL, the checks.
 * DD_ENOTFOUND when absent. */
int dd_store_audit_scheduled_update(struct dd_db *db, const char *account_region, const char *name, const char *frequency,
				    const char *day_of_month, const char *day_of_week, const char *checks) DD_MUST_CHECK;
/* DD_ENOTFOUND when absent. */
int dd_store_audit_scheduled_delete(struct dd_db *db, const char *account_region, const char *name) DD_MUST_CHECK;
int dd_store_audit_scheduled_delete_all(struct dd_db *db, const char *account_region) DD_MUST_CHECK;
/* By name after `after` ("" for the first page), at most limit. */
int dd_store_audit_scheduled_list(struct dd_db *db, const char *account_region, const char *after, int limit,
				  dd_store_audit_scheduled_fn fn, void *ud) DD_MUST_CHECK;
/* Every scheduled audit of every region (the scheduler). */
int dd_store_audit_scheduled_all(struct dd_db *db, dd_store_audit_scheduled_fn fn, void *ud) DD_MUST_CHECK;
/* Records that the scheduled audit ran for day ("YYYY-MM-DD") at run_ms, as a
 * compare-and-set: DD_ENOTFOUND when it is absent or already recorded a run for day or a
 * later day (another instance fired it; the caller rolls its task back). */
int dd_store_audit_scheduled_mark_run(struct dd_db *db, const char *account_region, const char *name, const char *day,
				      int64_t run_ms) DD_MUST_CHECK;

/* ---- role service usage ------------------------------------------------------------- */

/* Replaces the usage records of role_arn with the n (service, last used ms) pairs. */
int dd_store_audit_role_usage_replace(struct dd_db *db, const char *account_region, const char *role_arn,
				      const char *const *services, const int64_t *last_used_ms, size_t n) DD_MUST_CHECK;
typedef int (*dd_store_audit_role_usage_fn)(const char *service, int64_t last_used_ms, void *ud);
/* The usage records of role_arn, by service. */
int dd_store_audit_role_usage_foreach(struct dd_db *db, const char *account_region, const char *role_arn,
				      dd_store_audit_role_usage_fn fn, void *ud) DD_MUST_CHECK;

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Stored state of Device Defender mitigation: the action definitions
 * (mitigation_actions), the audit mitigation actions tasks (mitigation_tasks, with the
 * snapshot of their action definitions) and their executions (mitigation_executions, one
 * row per finding and action position: PENDING -> COMPLETED | FAILED | SKIPPED |
 * CANCELED). What the mitigation engine and the task validation read and write of other
 * aggregates (findings, audit tasks, certificates, groups, principals, policy versions,
 * settings, SNS topics) goes through those aggregates' own store files. Functions run in the
 * caller's transaction (dd_db_begin_write / dd_db_begin_read) unless they say "own
 * transaction"; without one each statement commits by itself. JSON documents cross as
 * text. Returns 0 or a negative DD_E*: DD_ENOTFOUND, DD_EEXIST, DD_EIO (store error),
 * DD_ENOMEM. Times are epoch milliseconds.
 */
#ifndef DD_STORE_MITIGATION_H
#define DD_STORE_MITIGATION_H

#include "dd/common.h"

struct dd_db;

/* ---- action definitions ------------------------------------------------------------ */

struct dd_store_mitigation_action {
	char id[40];
	char type[40];            /* UPDATE_DEVICE_CERTIFICATE, ... */
	char *role_arn;           /* owned */
	char *params;             /* owned: the actionParams document */
	int64_t created_ms, modified_ms;
};
void dd_store_mitigation_action_clear(struct dd_store_mitigation_action *a);

/* DD_ENOTFOUND when account_region has no action name. *out is filled (clear it) on 0. */
int dd_store_mitigation_action_get(struct dd_db *db, const char *account_region, const char *name,
				   struct dd_store_mitigation_action *out) DD_MUST_CHECK;
int dd_store_mitigation_action_count(struct dd_db *db, const char *account_region, int64_t *n) DD_MUST_CHECK;
/* DD_EEXIST when the name is taken. created = modified = now_ms. */
int dd_store_mitigation_action_insert(struct dd_db *db, const char *account_region, const char *name, const char *id,
				      const char *type, const char *role_arn, const char *params, int64_t now_ms) DD_MUST_CHECK;
/* Changes the role and/or the params (NULL keeps the stored one). DD_ENOTFOUND if absent. */
int dd_store_mitigation_action_update(struct dd_db *db, const char *account_region, const char *name,
				      const char *role_arn, const char *params, int64_t now_ms) DD_MUST_CHECK;
/* Deletes the action and the tags of its ARN arn; an absent action is no error. */
int dd_store_mitigation_action_delete(struct dd_db *db, const char *account_region, const char *name,
				      const char *arn) DD_MUST_CHECK;

/* One row of a listing; strings are borrowed for the call. Non-zero stops the listing and
 * is returned. */
typedef int (*dd_store_mitigation_action_row_fn)(const char *name, int64_t created_ms, void *ud);
/* Actions named after `after` ("" from the start) in name order, of type (NULL: any), at
 * most limit rows. */
int dd_store_mitigation_action_list(struct dd_db *db, const char *account_region, const char *type,
				    const char *after, int limit, dd_store_mitigation_action_row_fn fn, void *ud) DD_MUST_CHECK;

/* ---- tasks ------------------------------------------------------------------------- */

struct dd_store_mitigation_task {
	char status[32];          /* IN_PROGRESS, COMPLETED, FAILED, CANCELED */
	char *client_token, *request_hash;
	char *target, *mapping, *actions;  /* JSON documents */
	char *audit_task_id;      /* NULL when the target lists findings */
	int64_t start_ms;
	int64_t end_ms;           /* -1 while running */
};
void dd_store_mitigation_task_clear(struct dd_store_mitigation_task *t);

int dd_store_mitigation_task_get(struct dd_db *db, const char *account_region, const char *task_id,
				 struct dd_store_mitigation_task *out) DD_MUST_CHECK;
/* The task's status only (cheap, for the engine's cancel checks). DD_ENOTFOUND if absent. */
int dd_store_mitigation_task_status(struct dd_db *db, const char *account_region, const char *task_id, char *status,
				    size_t len) DD_MUST_CHECK;
/* The task started with client_token, into task_id (size len). DD_ENOTFOUND if none. */
int dd_store_mitigation_task_by_token(struct dd_db *db, const char *account_region, const char *client_token,
				      char *task_id, size_t len) DD_MUST_CHECK;
int dd_store_mitigation_task_count_in_progress(struct dd_db *db, const char *account_region, int64_t *n) DD_MUST_CHECK;
/* A new IN_PROGRESS task (t->status and t->end_ms are ignored). DD_EEXIST if task_id is taken. */
int dd_store_mitigation_task_insert(struct dd_db *db, const char *account_region, const char *task_id,
				    const struct dd_store_mitigation_task *t) DD_MUST_CHECK;
/* IN_PROGRESS -> status (COMPLETED or FAILED) with end_ms; a task no longer IN_PROGRESS
 * (canceled meanwhile) is left alone and DD_ENOTFOUND returned. */
int dd_store_mitigation_task_finish(struct dd_db *db, const char *account_region, const char *task_id,
				    const char *status, int64_t end_ms) DD_MUST_CHECK;
/* The task and its PENDING executions become CANCELED at now_ms (whatever its status: the
 * caller checked it in the same transaction). */
int dd_store_mitigation_task_cancel(struct dd_db *db, const char *account_region, const char *task_id,
				    int64_t now_ms) DD_MUST_CHECK;

/* Every IN_PROGRESS task of every account, oldest first. */
typedef int (*dd_store_mitigation_task_ref_fn)(const char *account_region, const char *task_id, void *ud);
int dd_store_mitigation_task_in_progress(struct dd_db *db, dd_store_mitigation_task_ref_fn fn, void *ud) DD_MUST_CHECK;

/* In a claim transaction (dd_db_begin_claim): the first limit IN_PROGRESS tasks (oldest
 * first, then by id) whose work lease (kind "mitigation", unit "<account_region>/<task_id>",
 * dd_store_lease.h) is not live at now_ms (the database server's clock on PostgreSQL);
 * on PostgreSQL their rows are locked FOR UPDATE SKIP LOCKED, so a concurrent claimer is
 * given other tasks, without waiting. */
int dd_store_mitigation_task_claimable(struct dd_db *db, int64_t now_ms, int limit, dd_store_mitigation_task_ref_fn fn,
				       void *ud) DD_MUST_CHECK;

struct dd_store_mitigation_task_filter {
	int64_t start_ms, end_ms;        /* start time within [start_ms, end_ms] */
	const char *status;              /* NULL: any */
	const char *audit_task_id;       /* NULL: any; else the target's audit or a finding's audit */
	const char *finding_id;          /* NULL: any; else tasks with an execution for it */
	int64_t after_start_ms;          /* keyset: newest first, then by id; INT64_MAX from the start */
	const char *after_task_id;       /* "" from the start */
	int limit;
};
typedef int (*dd_store_mitigation_task_row_fn)(const char *task_id, const char *status, int64_t start_ms, void *ud);
int dd_store_mitigation_task_list(struct dd_db *db, const char *account_region,
				  const struct dd_store_mitigation_task_filter *f, dd_store_mitigation_task_row_fn fn,
				  void *ud) DD_MUST_CHECK;

/* Per check, the task's findings counted by their executions' outcome: failed (any FAILED),
 * canceled (else any CANCELED), skipped (else all SKIPPED), succeeded (all COMPLETED). */
typedef int (*dd_store_mitigation_stats_fn)(const char *check, int64_t total, int64_t failed, int64_t succeeded,
					    int64_t skipped, int64_t canceled, void *ud);
int dd_store_mitigation_task_stats(struct dd_db *db, const char *account_region, const char *task_id,
				   dd_store_mitigation_stats_fn fn, void *ud) DD_MUST_CHECK;

/* ---- executions -------------------------------------------------------------------- */

/* One execution per finding of the target for the action at position seq of check: the
 * findings of audit_task_id and check whose reason code is in reason_codes (NULL: any), or,
 * with finding_ids (n_ids > 0) instead of an audit, those findings of check. PENDING, or
 * SKIPPED at now_ms with a message when the finding is suppressed (flag or an active
 * suppression). */
struct dd_store_mitigation_expand {
	const char *task_id, *check, *action_name, *action_id;
	int seq;
	int64_t now_ms;
	const char *audit_task_id;
	const char *const *reason_codes;
	size_t n_codes;
	const char *const *finding_ids;
	size_t n_ids;
};
int dd_store_mitigation_execution_expand(struct dd_db *db, const char *account_region,
					 const struct dd_store_mitigation_expand *x) DD_MUST_CHECK;

/* PENDING or IN_PROGRESS executions of a task after (after_finding, after_seq) in
 * (finding, seq) order, at most limit. */
typedef int (*dd_store_mitigation_pending_fn)(const char *finding_id, int64_t seq, const char *action_name, void *ud);
int dd_store_mitigation_execution_pending(struct dd_db *db, const char *account_region, const char *task_id,
					  const char *after_finding, int64_t after_seq, int limit,
					  dd_store_mitigation_pending_fn fn, void *ud) DD_MUST_CHECK;
/* Did an execution of the finding before seq fail? */
int dd_store_mitigation_execution_earlier_failed(struct dd_db *db, const char *account_region, const char *task_id,
						 const char *finding_id, int64_t seq, bool *failed) DD_MUST_CHECK;

struct dd_store_mitigation_result {
	const char *finding_id;
	int64_t seq;
	const char *status;                /* COMPLETED, FAILED, SKIPPED */
	int64_t start_ms, end_ms;
	const char *error_code, *message;  /* NULL: none */
	const char *prior;                 /* JSON text or NULL */
};
/* Records an execution's result; a row still PENDING or IN_PROGRESS, or a CANCELED row
 * when the action really ran (COMPLETED or FAILED). */
int dd_store_mitigation_execution_set_result(struct dd_db *db, const char *account_region, const char *task_id,
					     const struct dd_store_mitigation_result *r) DD_MUST_CHECK;
/* Executions still to run (PENDING or IN_PROGRESS) and FAILED ones. */
int dd_store_mitigation_execution_counts(struct dd_db *db, const char *account_region, const char *task_id,
					 int64_t *left, int64_t *failed) DD_MUST_CHECK;

struct dd_store_mitigation_execution {
	const char *task_id, *finding_id, *action_name, *action_id, *status;
	int64_t seq;
	int64_t start_ms, end_ms;          /* -1: not set */
	const char *error_code, *message;  /* NULL: not set */
};
typedef int (*dd_store_mitigation_execution_row_fn)(const struct dd_store_mitigation_execution *e, void *ud);
/* A task's executions in (finding, seq) order after (after_finding, after_seq), optionally
 * of one finding and one status (NULL: any), at most limit. */
int dd_store_mitigation_execution_list(struct dd_db *db, const char *account_region, const char *task_id,
				       const char *finding_id, const char *status, const char *after_finding,
				       int64_t after_seq, int limit, dd_store_mitigation_execution_row_fn fn,
				       void *ud) DD_MUST_CHECK;

#endif

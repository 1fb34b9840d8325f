/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Jobs, targets, executions and job templates (store/dd_store_jobs.h): the tables jobs,
 * job_targets, job_executions and job_templates, in the SQL SQLite and PostgreSQL share.
 */
#include "store/dd_store_int.h"
#include "store/dd_store_jobs.h"

#include <stddef.h>
#include <string.h>

static int changed(struct dd_db *db, int missing)
{
	return dd_db_changes(db) > 0 ? 0 : missing;
}

/* ---- jobs ---- */

int dd_store_jobs_insert(struct dd_db *db, const char *ar, const struct dd_store_jobs_row *r)
{
	struct dd_stmt *st = dd_db_stmt(db,
		"INSERT INTO jobs(account_region, job_id, target_selection, status, description, document, document_source,"
		" template_arn, namespace_id, config, targets, start_ms, created, updated)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?13)"
		" ON CONFLICT (account_region, job_id) DO NOTHING");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, ar);
	dd_bind_text(st, 2, r->job_id);
	dd_bind_text(st, 3, r->target_selection);
	dd_bind_text(st, 4, r->status);
	dd_bind_text(st, 5, r->description);
	dd_bind_text(st, 6, r->document);
	dd_bind_text(st, 7, r->document_source);
	dd_bind_text(st, 8, r->template_arn);
	dd_bind_text(st, 9, r->namespace_id);
	dd_bind_text(st, 10, r->config ? r->config : "{}");
	dd_bind_text(st, 11, r->targets ? r->targets : "[]");
	if (r->start_ms >= 0)
		dd_bind_int64(st, 12, r->start_ms);
	else
		dd_bind_null(st, 12);
	dd_bind_int64(st, 13, r->created);
	int rc = dd_step_done(st);
	return rc ? rc : changed(db, DD_EEXIST);
}

#define JOB_COLUMNS                                                                                                   \
	"j.job_id, j.target_selection, j.status, j.description, j.document, j.document_source, j.template_arn,"       \
	" j.namespace_id, j.config, j.targets, j.reason_code, j.comment, j.force_canceled, j.start_ms, j.created,"   \
	" j.updated, j.completed, (SELECT t.group_id FROM job_targets t WHERE t.account_region = j.account_region"    \
	" AND t.job_id = j.job_id AND t.kind = 'thinggroup' ORDER BY t.name LIMIT 1)"

struct job_cb {
	dd_store_jobs_fn fn;
	void *ud;
};

static int job_row(struct dd_stmt *st, void *ctx)
{
	const struct job_cb *c = ctx;
	struct dd_store_jobs_row row = {
		.job_id = dd_col_text(st, 0),
		.target_selection = dd_col_text(st, 1),
		.status = dd_col_text(st, 2),
		.description = dd_col_text_or_null(st, 3),
		.document = dd_col_text_or_null(st, 4),
		.document_source = dd_col_text_or_null(st, 5),
		.template_arn = dd_col_text_or_null(st, 6),
		.namespace_id = dd_col_text_or_null(st, 7),
		.config = dd_col_text(st, 8),
		.targets = dd_col_text(st, 9),
		.reason_code = dd_col_text_or_null(st, 10),
		.comment = dd_col_text_or_null(st, 11),
		.force_canceled = dd_col_int64(st, 12) != 0,
		.start_ms = dd_col_is_null(st, 13) ? -1 : dd_col_int64(st, 13),
		.created = dd_col_int64(st, 14),
		.updated = dd_col_int64(st, 15),
		.completed = dd_col_is_null(st, 16) ? 0 : dd_col_int64(st, 16),
		.group_id = dd_col_text_or_null(st, 17),
	};
	return c->fn(c->ud, &row);
}

int dd_store_jobs_get(struct dd_db *db, const char *ar, const char *job_id, dd_store_jobs_fn fn, void *ud)
{
	struct dd_stmt *st = dd_db_stmt(db, "SELECT " JOB_COLUMNS " FROM jobs j WHERE j.account_region = ?1 AND j.job_id = ?2");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, ar);
	dd_bind_text(st, 2, job_id);
	return dd_stmt_each(st, job_row, &(struct job_cb){ fn, ud }, DD_EACH_GET);
}

int dd_store_jobs_list(struct dd_db *db, const char *ar, const struct dd_store_jobs_filter *f, const char *after,
		       int limit, dd_store_jobs_fn fn, void *ud)
{
	struct dd_stmt *st = dd_db_stmt(db,
		"SELECT " JOB_COLUMNS " FROM jobs j WHERE j.account_region = ?1 AND j.job_id > ?2"
		" AND (?3 IS NULL OR (CASE WHEN j.status = 'IN_PROGRESS' AND j.start_ms > ?9 THEN 'SCHEDULED' ELSE j.status END) = ?3) AND (?4 IS NULL OR j.target_selection = ?4)"
		" AND (?5 IS NULL OR j.namespace_id = ?5)"
		" AND (?6 IS NULL OR EXISTS (SELECT 1 FROM job_targets t WHERE t.account_region = j.account_region"
		" AND t.job_id = j.job_id AND t.kind = 'thinggroup' AND t.name = ?6))"
		" AND (?7 IS NULL OR EXISTS (SELECT 1 FROM job_targets t WHERE t.account_region = j.account_region"
		" AND t.job_id = j.job_id AND t.kind = 'thinggroup' AND t.group_id = ?7))"
		" ORDER BY j.job_id LIMIT ?8");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, ar);
	dd_bind_text(st, 2, after ? after : "");
	dd_bind_text(st, 3, f ? f->status : NULL);
	dd_bind_text(st, 4, f ? f->target_selection : NULL);
	dd_bind_text(st, 5, f ? f->namespace_id : NULL);
	dd_bind_text(st, 6, f ? f->group_name : NULL);
	dd_bind_text(st, 7, f ? f->group_id : NULL);
	dd_bind_int64(st, 8, limit);
	dd_bind_int64(st, 9, f ? f->now_ms : 0);
	return dd_stmt_each(st, job_row, &(struct job_cb){ fn, ud }, DD_EACH_LIST);
}

int dd_store_jobs_update(struct dd_db *db, const char *ar, const char *job_id, const char *description,
			 const char *config, const char *targets, int64_t now_ms)
{
	struct dd_stmt *st = dd_db_stmt(db,
		"UPDATE jobs SET description = coalesce(?3, description), config = coalesce(?4, config),"
		" targets = coalesce(?5, targets), updated = ?6 WHERE account_region = ?1 AND job_id = ?2");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, ar);
	dd_bind_text(st, 2, job_id);
	dd_bind_text(st, 3, description);
	dd_bind_text(st, 4, config);
	dd_bind_text(st, 5, targets);
	dd_bind_int64(st, 6, now_ms);
	int rc = dd_step_done(st);
	return rc ? rc : changed(db, DD_ENOTFOUND);
}

int dd_store_jobs_set_status(struct dd_db *db, const char *ar, const char *job_id, const char *status,
			     const char *reason_code, const char *comment, bool force_canceled, int64_t now_ms,
			     int64_t completed_ms)
{
	struct dd_stmt *st = dd_db_stmt(db,
		"UPDATE jobs SET status = ?3, reason_code = coalesce(?4, reason_code), comment = coalesce(?5, comment),"
		" force_canceled = CASE WHEN ?6 <> 0 THEN 1 ELSE force_canceled END, updated = ?7,"
		" completed = CASE WHEN ?8 > 0 THEN ?8 ELSE completed END WHERE account_region = ?1 AND job_id = ?2");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, ar);
	dd_bind_text(st, 2, job_id);
	dd_bind_text(st, 3, status);
	dd_bind_text(st, 4, reason_code);
	dd_bind_text(st, 5, comment);
	dd_bind_int64(st, 6, force_canceled);
	dd_bind_int64(st, 7, now_ms);
	dd_bind_int64(st, 8, completed_ms);
	int rc = dd_step_done(st);
	return rc ? rc : changed(db, DD_ENOTFOUND);
}

int dd_store_jobs_delete(struct dd_db *db, const char *ar, const char *job_id)
{
	static const char *const sql[] = {
		"DELETE FROM job_executions WHERE account_region = ?1 AND job_id = ?2",
		"DELETE FROM job_targets WHERE account_region = ?1 AND job_id = ?2",
		"DELETE FROM jobs WHERE account_region = ?1 AND job_id = ?2",
	};
	int rc = 0;
	for (size_t i = 0; i < sizeof sql / sizeof sql[0] && !rc; i++) {
		struct dd_stmt *st = dd_db_stmt(db, sql[i]);
		if (!st)
			return DD_EIO;
		dd_bind_text(st, 1, ar);
		dd_bind_text(st, 2, job_id);
		rc = dd_step_done(st);
	}
	return rc ? rc : changed(db, DD_ENOTFOUND);
}

/* ---- targets ---- */

int dd_store_jobs_target_add(struct dd_db *db, const char *ar, const char *job_id, const char *kind, const char *name,
			     const char *group_id)
{
	struct dd_stmt *st = dd_db_stmt(db,
		"INSERT INTO job_targets(account_region, job_id, kind, name, group_id) VALUES (?1, ?2, ?3, ?4, ?5)"
		" ON CONFLICT (account_region, job_id, kind, name) DO NOTHING");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, ar);
	dd_bind_text(st, 2, job_id);
	dd_bind_text(st, 3, kind);
	dd_bind_text(st, 4, name);
	dd_bind_text(st, 5, group_id);
	return dd_step_done(st);
}

int dd_store_jobs_target_count(struct dd_db *db, const char *ar, const char *job_id, int64_t *n)
{
	*n = 0;
	struct dd_stmt *st = dd_db_stmt(db, "SELECT count(*) FROM job_targets WHERE account_region = ?1 AND job_id = ?2");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, ar);
	dd_bind_text(st, 2, job_id);
	int r = dd_stmt_step(st);
	if (r == DD_STMT_ROW)
		*n = dd_col_int64(st, 0);
	dd_stmt_reset(st);
	return r == DD_STMT_ROW ? 0 : DD_EIO;
}

int dd_store_jobs_continuous_any(struct dd_db *db, const char *ar, bool *yes)
{
	*yes = false;
	struct dd_stmt *st = dd_db_stmt(db, "SELECT 1 FROM jobs WHERE account_region = ?1 AND target_selection = 'CONTINUOUS'"
					  " AND status = 'IN_PROGRESS' LIMIT 1");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, ar);
	int r = dd_stmt_step(st);
	dd_stmt_reset(st);
	*yes = r == DD_STMT_ROW;
	return r == DD_STMT_ROW || r == DD_STMT_DONE ? 0 : DD_EIO;
}

struct job_id_cb {
	dd_store_jobs_id_fn fn;
	void *ud;
};

static int job_id_row(struct dd_stmt *st, void *ctx)
{
	const struct job_id_cb *c = ctx;
	return c->fn(dd_col_text(st, 0), c->ud);
}

int dd_store_jobs_continuous_for_group(struct dd_db *db, const char *ar, const char *group, dd_store_jobs_id_fn fn,
				       void *ud)
{
	struct dd_stmt *st = dd_db_stmt(db,
		"SELECT j.job_id FROM job_targets t JOIN jobs j ON j.account_region = t.account_region AND j.job_id = t.job_id"
		" WHERE t.account_region = ?1 AND t.kind = 'thinggroup' AND t.name = ?2"
		" AND j.target_selection = 'CONTINUOUS' AND j.status = 'IN_PROGRESS' ORDER BY j.job_id");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, ar);
	dd_bind_text(st, 2, group);
	return dd_stmt_each(st, job_id_row, &(struct job_id_cb){ fn, ud }, DD_EACH_LIST);
}

struct target_cb {
	dd_store_jobs_target_fn fn;
	void *ud;
};

static int target_row(struct dd_stmt *st, void *ctx)
{
	const struct target_cb *c = ctx;
	return c->fn(dd_col_text(st, 0), dd_col_text(st, 1), c->ud);
}

int dd_store_jobs_target_list(struct dd_db *db, const char *ar, const char *job_id, dd_store_jobs_target_fn fn, void *ud)
{
	struct dd_stmt *st = dd_db_stmt(db, "SELECT kind, name FROM job_targets WHERE account_region = ?1 AND job_id = ?2"
					  " ORDER BY kind, name");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, ar);
	dd_bind_text(st, 2, job_id);
	return dd_stmt_each(st, target_row, &(struct target_cb){ fn, ud }, DD_EACH_LIST);
}

/* ---- executions ---- */

int dd_store_jobs_exec_queue(struct dd_db *db, const char *ar, const char *job_id, const char *thing, int64_t now_ms,
			     bool *added)
{
	*added = false;
	struct dd_stmt *st = dd_db_stmt(db, "SELECT 1 FROM job_executions WHERE account_region = ?1 AND job_id = ?2 AND thing_name = ?3");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, ar);
	dd_bind_text(st, 2, job_id);
	dd_bind_text(st, 3, thing);
	int r = dd_stmt_step(st);
	dd_stmt_reset(st);
	if (r == DD_STMT_ROW)
		return 0;
	if (r != DD_STMT_DONE)
		return DD_EIO;
	st = dd_db_stmt(db, "UPDATE jobs SET exec_seq = exec_seq + 1 WHERE account_region = ?1 AND job_id = ?2");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, ar);
	dd_bind_text(st, 2, job_id);
	int rc = dd_step_done(st);
	if (rc || (rc = changed(db, DD_ENOTFOUND)))
		return rc;
	st = dd_db_stmt(db,
		"INSERT INTO job_executions(account_region, job_id, thing_name, execution_number, status, queued, updated)"
		" SELECT ?1, ?2, ?3, exec_seq, 'QUEUED', ?4, ?4 FROM jobs WHERE account_region = ?1 AND job_id = ?2");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, ar);
	dd_bind_text(st, 2, job_id);
	dd_bind_text(st, 3, thing);
	dd_bind_int64(st, 4, now_ms);
	if ((rc = dd_step_done(st)))
		return rc;
	*added = true;
	return 0;
}

#define EXEC_COLUMNS                                                                                                  \
	"e.job_id, e.thing_name, e.execution_number, e.status, e.force_canceled, e.status_details, e.version,"       \
	" e.queued, e.started, e.updated"

struct exec_cb {
	dd_store_jobs_exec_fn fn;
	void *ud;
};

static int exec_row(struct dd_stmt *st, void *ctx)
{
	const struct exec_cb *c = ctx;
	struct dd_store_jobs_exec_row row = {
		.job_id = dd_col_text(st, 0),
		.thing_name = dd_col_text(st, 1),
		.execution_number = dd_col_int64(st, 2),
		.status = dd_col_text(st, 3),
		.force_canceled = dd_col_int64(st, 4) != 0,
		.status_details = dd_col_text(st, 5),
		.version = dd_col_int64(st, 6),
		.queued = dd_col_int64(st, 7),
		.started = dd_col_is_null(st, 8) ? 0 : dd_col_int64(st, 8),
		.updated = dd_col_int64(st, 9),
	};
	return c->fn(c->ud, &row);
}

int dd_store_jobs_exec_get(struct dd_db *db, const char *ar, const char *job_id, const char *thing,
			   dd_store_jobs_exec_fn fn, void *ud)
{
	struct dd_stmt *st = dd_db_stmt(db, "SELECT " EXEC_COLUMNS " FROM job_executions e"
					  " WHERE e.account_region = ?1 AND e.job_id = ?2 AND e.thing_name = ?3");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, ar);
	dd_bind_text(st, 2, job_id);
	dd_bind_text(st, 3, thing);
	return dd_stmt_each(st, exec_row, &(struct exec_cb){ fn, ud }, DD_EACH_GET);
}

int dd_store_jobs_exec_list_job(struct dd_db *db, const char *ar, const char *job_id, const char *status,
				const char *after, int limit, dd_store_jobs_exec_fn fn, void *ud)
{
	struct dd_stmt *st = dd_db_stmt(db, "SELECT " EXEC_COLUMNS " FROM job_executions e"
					  " WHERE e.account_region = ?1 AND e.job_id = ?2 AND e.thing_name > ?3"
					  " AND (?4 IS NULL OR e.status = ?4) ORDER BY e.thing_name LIMIT ?5");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, ar);
	dd_bind_text(st, 2, job_id);
	dd_bind_text(st, 3, after ? after : "");
	dd_bind_text(st, 4, status);
	dd_bind_int64(st, 5, limit);
	return dd_stmt_each(st, exec_row, &(struct exec_cb){ fn, ud }, DD_EACH_LIST);
}

int dd_store_jobs_exec_list_thing(struct dd_db *db, const char *ar, const char *thing, const char *status,
				  const char *namespace_id, const char *job_id, const char *after, int limit,
				  dd_store_jobs_exec_fn fn, void *ud)
{
	struct dd_stmt *st = dd_db_stmt(db,
		"SELECT " EXEC_COLUMNS " FROM job_executions e JOIN jobs j ON j.account_region = e.account_region"
		" AND j.job_id = e.job_id WHERE e.account_region = ?1 AND e.thing_name = ?2 AND e.job_id > ?3"
		" AND (?4 IS NULL OR e.status = ?4) AND (?5 IS NULL OR j.namespace_id = ?5) AND (?6 IS NULL OR e.job_id = ?6)"
		" ORDER BY e.job_id LIMIT ?7");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, ar);
	dd_bind_text(st, 2, thing);
	dd_bind_text(st, 3, after ? after : "");
	dd_bind_text(st, 4, status);
	dd_bind_text(st, 5, namespace_id);
	dd_bind_text(st, 6, job_id);
	dd_bind_int64(st, 7, limit);
	return dd_stmt_each(st, exec_row, &(struct exec_cb){ fn, ud }, DD_EACH_LIST);
}

int dd_store_jobs_exec_set(struct dd_db *db, const char *ar, const char *job_id, const char *thing, const char *status,
			   bool force_canceled, const char *status_details, int64_t now_ms)
{
	struct dd_stmt *st = dd_db_stmt(db,
		"UPDATE job_executions SET status = ?4, force_canceled = CASE WHEN ?5 <> 0 THEN 1 ELSE force_canceled END,"
		" status_details = coalesce(?6, status_details), version = version + 1, updated = ?7,"
		" started = CASE WHEN ?4 = 'IN_PROGRESS' AND started IS NULL THEN ?7 ELSE started END"
		" WHERE account_region = ?1 AND job_id = ?2 AND thing_name = ?3");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, ar);
	dd_bind_text(st, 2, job_id);
	dd_bind_text(st, 3, thing);
	dd_bind_text(st, 4, status);
	dd_bind_int64(st, 5, force_canceled);
	dd_bind_text(st, 6, status_details);
	dd_bind_int64(st, 7, now_ms);
	int rc = dd_step_done(st);
	return rc ? rc : changed(db, DD_ENOTFOUND);
}

struct active_cb {
	dd_store_jobs_active_fn fn;
	void *ud;
};

static int active_row(struct dd_stmt *st, void *ctx)
{
	const struct active_cb *c = ctx;
	return c->fn(dd_col_text(st, 0), dd_col_text(st, 1), dd_col_text(st, 2), c->ud);
}

int dd_store_jobs_exec_active_for_thing(struct dd_db *db, const char *ar, const char *thing, dd_store_jobs_active_fn fn,
					void *ud)
{
	struct dd_stmt *st = dd_db_stmt(db,
		"SELECT e.job_id, j.target_selection, j.status FROM job_executions e JOIN jobs j"
		" ON j.account_region = e.account_region AND j.job_id = e.job_id WHERE e.account_region = ?1"
		" AND e.thing_name = ?2 AND e.status IN ('QUEUED', 'IN_PROGRESS') ORDER BY e.job_id");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, ar);
	dd_bind_text(st, 2, thing);
	return dd_stmt_each(st, active_row, &(struct active_cb){ fn, ud }, DD_EACH_LIST);
}

int dd_store_jobs_exec_cancel_all(struct dd_db *db, const char *ar, const char *job_id, bool in_progress, int64_t now_ms)
{
	struct dd_stmt *st = dd_db_stmt(db,
		"UPDATE job_executions SET status = 'CANCELED', version = version + 1, updated = ?3,"
		" force_canceled = CASE WHEN status = 'IN_PROGRESS' THEN 1 ELSE force_canceled END"
		" WHERE account_region = ?1 AND job_id = ?2 AND (status = 'QUEUED' OR (?4 <> 0 AND status = 'IN_PROGRESS'))");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, ar);
	dd_bind_text(st, 2, job_id);
	dd_bind_int64(st, 3, now_ms);
	dd_bind_int64(st, 4, in_progress);
	return dd_step_done(st);
}

int dd_store_jobs_exec_delete(struct dd_db *db, const char *ar, const char *job_id, const char *thing)
{
	struct dd_stmt *st = dd_db_stmt(db, "DELETE FROM job_executions WHERE account_region = ?1 AND job_id = ?2 AND thing_name = ?3");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, ar);
	dd_bind_text(st, 2, job_id);
	dd_bind_text(st, 3, thing);
	int rc = dd_step_done(st);
	return rc ? rc : changed(db, DD_ENOTFOUND);
}

int dd_store_jobs_exec_counts(struct dd_db *db, const char *ar, const char *job_id, struct dd_store_jobs_counts *n)
{
	static const struct {
		const char *status;
		size_t off;
	} slots[] = {
		{ "QUEUED", offsetof(struct dd_store_jobs_counts, queued) },
		{ "IN_PROGRESS", offsetof(struct dd_store_jobs_counts, in_progress) },
		{ "SUCCEEDED", offsetof(struct dd_store_jobs_counts, succeeded) },
		{ "FAILED", offsetof(struct dd_store_jobs_counts, failed) },
		{ "TIMED_OUT", offsetof(struct dd_store_jobs_counts, timed_out) },
		{ "REJECTED", offsetof(struct dd_store_jobs_counts, rejected) },
		{ "REMOVED", offsetof(struct dd_store_jobs_counts, removed) },
		{ "CANCELED", offsetof(struct dd_store_jobs_counts, canceled) },
	};
	*n = (struct dd_store_jobs_counts){ 0 };
	struct dd_stmt *st = dd_db_stmt(db, "SELECT status, count(*) FROM job_executions WHERE account_region = ?1 AND job_id = ?2"
					  " GROUP BY status");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, ar);
	dd_bind_text(st, 2, job_id);
	int r;
	while ((r = dd_stmt_step(st)) == DD_STMT_ROW) {
		const char *s = dd_col_text(st, 0);
		for (size_t i = 0; i < sizeof slots / sizeof slots[0]; i++)
			if (strcmp(s, slots[i].status) == 0)
				*(int64_t *)((char *)n + slots[i].off) = dd_col_int64(st, 1);
	}
	dd_stmt_reset(st);
	return r == DD_STMT_DONE ? 0 : DD_EIO;
}

/* ---- job templates ---- */

int dd_store_jobs_template_insert(struct dd_db *db, const char *ar, const struct dd_store_jobs_template_row *r)
{
	struct dd_stmt *st = dd_db_stmt(db,
		"INSERT INTO job_templates(account_region, template_id, description, document, document_source, config, created)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (account_region, template_id) DO NOTHING");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, ar);
	dd_bind_text(st, 2, r->template_id);
	dd_bind_text(st, 3, r->description);
	dd_bind_text(st, 4, r->document);
	dd_bind_text(st, 5, r->document_source);
	dd_bind_text(st, 6, r->config ? r->config : "{}");
	dd_bind_int64(st, 7, r->created);
	int rc = dd_step_done(st);
	return rc ? rc : changed(db, DD_EEXIST);
}

struct template_cb {
	dd_store_jobs_template_fn fn;
	void *ud;
};

static int template_row(struct dd_stmt *st, void *ctx)
{
	const struct template_cb *c = ctx;
	struct dd_store_jobs_template_row row = {
		.template_id = dd_col_text(st, 0),
		.description = dd_col_text_or_null(st, 1),
		.document = dd_col_text_or_null(st, 2),
		.document_source = dd_col_text_or_null(st, 3),
		.config = dd_col_text(st, 4),
		.created = dd_col_int64(st, 5),
	};
	return c->fn(c->ud, &row);
}

int dd_store_jobs_template_get(struct dd_db *db, const char *ar, const char *template_id, dd_store_jobs_template_fn fn,
			       void *ud)
{
	struct dd_stmt *st = dd_db_stmt(db, "SELECT template_id, description, document, document_source, config, created"
					  " FROM job_templates WHERE account_region = ?1 AND template_id = ?2");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, ar);
	dd_bind_text(st, 2, template_id);
	return dd_stmt_each(st, template_row, &(struct template_cb){ fn, ud }, DD_EACH_GET);
}

int dd_store_jobs_template_list(struct dd_db *db, const char *ar, const char *after, int limit,
				dd_store_jobs_template_fn fn, void *ud)
{
	struct dd_stmt *st = dd_db_stmt(db, "SELECT template_id, description, document, document_source, config, created"
					  " FROM job_templates WHERE account_region = ?1 AND template_id > ?2"
					  " ORDER BY template_id LIMIT ?3");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, ar);
	dd_bind_text(st, 2, after ? after : "");
	dd_bind_int64(st, 3, limit);
	return dd_stmt_each(st, template_row, &(struct template_cb){ fn, ud }, DD_EACH_LIST);
}

int dd_store_jobs_template_delete(struct dd_db *db, const char *ar, const char *template_id)
{
	struct dd_stmt *st = dd_db_stmt(db, "DELETE FROM job_templates WHERE account_region = ?1 AND template_id = ?2");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, ar);
	dd_bind_text(st, 2, template_id);
	int rc = dd_step_done(st);
	return rc ? rc : changed(db, DD_ENOTFOUND);
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The audit aggregate's SQL (see dd_store_audit.h): audit_config, audit_tasks,
 * audit_task_checks, audit_findings, audit_suppressions, scheduled_audits and
 * role_service_usage. Statements are cached by the connection (dd_db_stmt); every
 * function resets its statements before returning, so no statement stays open across
 * calls. Rows are streamed to the caller's callback straight from the statement.
 */
#include "store/dd_store_int.h"
#include "store/dd_store_audit.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dd/store.h"

/* Text of a nullable column: NULL for SQL NULL. */
static const char *col_opt(struct dd_stmt *st, int i)
{
	return dd_col_is_null(st, i) ? NULL : dd_col_text(st, i);
}

static int bind_opt_int(struct dd_stmt *st, int idx, bool set, int64_t v)
{
	return set ? dd_bind_int64(st, idx, v) : dd_bind_null(st, idx);
}

/* Steps st to the end; returns DD_EIO on a step error (st is reset either way). */
static int finish(struct dd_stmt *st, int s)
{
	dd_stmt_reset(st);
	return s == DD_STMT_DONE || s == DD_STMT_ROW ? 0 : DD_EIO;
}

static int count1(struct dd_stmt *st, int64_t *n)
{
	int s = dd_stmt_step(st);
	*n = s == DD_STMT_ROW ? dd_col_int64(st, 0) : 0;
	dd_stmt_reset(st);
	return s == DD_STMT_ROW ? 0 : DD_EIO;
}

static int changed(struct dd_db *db)
{
	return dd_db_changes(db);
}

static char *dup_opt(const char *s)
{
	return s ? strdup(s) : NULL;
}

/* ---- configuration ------------------------------------------------------------------- */

int dd_store_audit_config_get(struct dd_db *db, const char *account_region, struct dd_store_audit_config *out)
{
	memset(out, 0, sizeof *out);
	struct dd_stmt *st = dd_db_stmt(db, "SELECT role_arn, targets, checks FROM audit_config WHERE account_region = ?1");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account_region);
	int s = dd_stmt_step(st);
	int rc = 0;
	if (s == DD_STMT_ROW) {
		out->role_arn = dup_opt(col_opt(st, 0));
		out->targets = strdup(dd_col_text(st, 1));
		out->checks = strdup(dd_col_text(st, 2));
		if ((col_opt(st, 0) && !out->role_arn) || !out->targets || !out->checks)
			rc = DD_ENOMEM;
	} else {
		rc = s == DD_STMT_DONE ? DD_ENOTFOUND : DD_EIO;
	}
	dd_stmt_reset(st);
	if (rc && rc != DD_ENOTFOUND)
		dd_store_audit_config_clear(out);
	return rc;
}

void dd_store_audit_config_clear(struct dd_store_audit_config *c)
{
	free(c->role_arn);
	free(c->targets);
	free(c->checks);
	memset(c, 0, sizeof *c);
}

int dd_store_audit_config_put(struct dd_db *db, const char *account_region, const char *role_arn, const char *targets,
			      const char *checks)
{
	struct dd_stmt *st = dd_db_stmt(db, "INSERT INTO audit_config(account_region, role_arn, targets, checks)"
					 " VALUES (?1, ?2, ?3, ?4) ON CONFLICT(account_region) DO UPDATE SET"
					 " role_arn = excluded.role_arn, targets = excluded.targets, checks = excluded.checks");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account_region);
	dd_bind_text(st, 2, role_arn);
	dd_bind_text(st, 3, targets);
	dd_bind_text(st, 4, checks);
	return dd_step_done(st);
}

int dd_store_audit_config_delete(struct dd_db *db, const char *account_region)
{
	struct dd_stmt *st = dd_db_stmt(db, "DELETE FROM audit_config WHERE account_region = ?1");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account_region);
	return dd_step_done(st);
}

/* ---- tasks ---------------------------------------------------------------------------- */

int dd_store_audit_task_insert(struct dd_db *db, const struct dd_store_audit_task *t, const char *const *check_names,
			       size_t n)
{
	struct dd_stmt *st = dd_db_stmt(db, "SELECT 1 FROM audit_tasks WHERE account_region = ?1 AND task_id = ?2");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, t->account_region);
	dd_bind_text(st, 2, t->task_id);
	int s = dd_stmt_step(st);
	dd_stmt_reset(st);
	if (s == DD_STMT_ROW)
		return DD_EEXIST;
	if (s != DD_STMT_DONE)
		return DD_EIO;
	st = dd_db_stmt(db, "INSERT INTO audit_tasks(account_region, task_id, task_type, status, scheduled_name,"
			    " start_ms, checks, window_start_ms) VALUES (?1, ?2, ?3, 'IN_PROGRESS', ?4, ?5, ?6, ?7)");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, t->account_region);
	dd_bind_text(st, 2, t->task_id);
	dd_bind_text(st, 3, t->task_type);
	dd_bind_text(st, 4, t->scheduled_name);
	dd_bind_int64(st, 5, t->start_ms);
	dd_bind_text(st, 6, t->checks ? t->checks : "[]");
	dd_bind_int64(st, 7, t->window_start_ms);
	if (dd_step_done(st))
		return DD_EIO;
	for (size_t i = 0; i < n; i++) {
		st = dd_db_stmt(db, "INSERT INTO audit_task_checks(account_region, task_id, check_name, status)"
				    " VALUES (?1, ?2, ?3, 'IN_PROGRESS')");
		if (!st)
			return DD_EIO;
		dd_bind_text(st, 1, t->account_region);
		dd_bind_text(st, 2, t->task_id);
		dd_bind_text(st, 3, check_names[i]);
		if (dd_step_done(st))
			return DD_EIO;
	}
	return 0;
}

/* columns: account_region, task_id, task_type, status, scheduled_name, start_ms, window_start_ms, checks */
#define TASK_COLS "account_region, task_id, task_type, status, scheduled_name, start_ms, window_start_ms, checks"

static void task_row(struct dd_stmt *st, struct dd_store_audit_task *t)
{
	t->account_region = dd_col_text(st, 0);
	t->task_id = dd_col_text(st, 1);
	t->task_type = dd_col_text(st, 2);
	t->status = dd_col_text(st, 3);
	t->scheduled_name = col_opt(st, 4);
	t->start_ms = dd_col_int64(st, 5);
	t->window_start_ms = dd_col_int64(st, 6);
	t->checks = dd_col_text(st, 7);
}

struct task_cb {
	dd_store_audit_task_fn fn;
	void *ud;
};

static int task_each(struct dd_stmt *st, void *ctx)
{
	const struct task_cb *c = ctx;
	struct dd_store_audit_task t;
	task_row(st, &t);
	return c->fn(&t, c->ud);
}

static int task_walk(struct dd_stmt *st, dd_store_audit_task_fn fn, void *ud)
{
	return dd_stmt_each(st, task_each, &(struct task_cb){ fn, ud }, DD_EACH_PASS);
}

int dd_store_audit_task_get(struct dd_db *db, const char *account_region, const char *task_id, dd_store_audit_task_fn fn,
			    void *ud)
{
	struct dd_stmt *st = dd_db_stmt(db, "SELECT " TASK_COLS " FROM audit_tasks WHERE account_region = ?1 AND task_id = ?2");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account_region);
	dd_bind_text(st, 2, task_id);
	int s = dd_stmt_step(st);
	int rc;
	if (s == DD_STMT_ROW) {
		struct dd_store_audit_task t;
		task_row(st, &t);
		rc = fn(&t, ud);
	} else {
		rc = s == DD_STMT_DONE ? DD_ENOTFOUND : DD_EIO;
	}
	dd_stmt_reset(st);
	return rc;
}

struct check_cb {
	dd_store_audit_task_check_fn fn;
	void *ud;
};

static int check_row(struct dd_stmt *st, void *ctx)
{
	const struct check_cb *c = ctx;
	struct dd_store_audit_task_check k = {
		.check_name = dd_col_text(st, 0), .status = dd_col_text(st, 1),
		.total = dd_col_int64(st, 2), .noncompliant = dd_col_int64(st, 3),
		.suppressed = dd_col_int64(st, 4), .error_code = col_opt(st, 5), .message = col_opt(st, 6),
	};
	return c->fn(&k, c->ud);
}

int dd_store_audit_task_checks(struct dd_db *db, const char *account_region, const char *task_id,
			       dd_store_audit_task_check_fn fn, void *ud)
{
	struct dd_stmt *st = dd_db_stmt(db, "SELECT check_name, status, total, noncompliant, suppressed, error_code, message"
					 " FROM audit_task_checks WHERE account_region = ?1 AND task_id = ?2 ORDER BY check_name");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account_region);
	dd_bind_text(st, 2, task_id);
	return dd_stmt_each(st, check_row, &(struct check_cb){ fn, ud }, DD_EACH_PASS);
}

int dd_store_audit_task_check_status(struct dd_db *db, const char *account_region, const char *task_id,
				     const char *check_name, char *buf, size_t len)
{
	struct dd_stmt *st = dd_db_stmt(db, "SELECT status FROM audit_task_checks WHERE account_region = ?1 AND task_id = ?2"
					 " AND check_name = ?3");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account_region);
	dd_bind_text(st, 2, task_id);
	dd_bind_text(st, 3, check_name);
	int s = dd_stmt_step(st);
	if (len)
		buf[0] = '\0';
	if (s == DD_STMT_ROW && len) {
		const char *v = dd_col_text(st, 0);
		size_t n = strlen(v);
		if (n >= len)
			n = len - 1;
		memcpy(buf, v, n);
		buf[n] = '\0';
	}
	dd_stmt_reset(st);
	return s == DD_STMT_ROW ? 0 : s == DD_STMT_DONE ? DD_ENOTFOUND : DD_EIO;
}

int dd_store_audit_tasks_count_in_progress(struct dd_db *db, const char *account_region, const char *task_type,
					   int64_t *n)
{
	struct dd_stmt *st = dd_db_stmt(db, "SELECT count(*) FROM audit_tasks WHERE account_region = ?1 AND status = 'IN_PROGRESS'"
					 " AND task_type = ?2");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account_region);
	dd_bind_text(st, 2, task_type);
	return count1(st, n);
}

int dd_store_audit_tasks_list(struct dd_db *db, const char *account_region, const struct dd_store_audit_tasks_filter *f,
			      int limit, dd_store_audit_task_fn fn, void *ud)
{
	struct dd_stmt *st = dd_db_stmt(db,
		"SELECT " TASK_COLS " FROM audit_tasks WHERE account_region = ?1 AND start_ms >= ?2 AND start_ms <= ?3"
		" AND (?4 IS NULL OR task_type = ?4) AND (?5 IS NULL OR status = ?5)"
		" AND (start_ms < ?6 OR (start_ms = ?6 AND task_id > ?7)) ORDER BY start_ms DESC, task_id LIMIT ?8");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account_region);
	dd_bind_int64(st, 2, f->start_ms);
	dd_bind_int64(st, 3, f->end_ms);
	dd_bind_text(st, 4, f->task_type);
	dd_bind_text(st, 5, f->status);
	dd_bind_int64(st, 6, f->after_ms);
	dd_bind_text(st, 7, f->after_id ? f->after_id : "");
	dd_bind_int64(st, 8, limit);
	return task_walk(st, fn, ud);
}

int dd_store_audit_tasks_in_progress(struct dd_db *db, dd_store_audit_task_fn fn, void *ud)
{
	struct dd_stmt *st = dd_db_stmt(db, "SELECT " TASK_COLS " FROM audit_tasks WHERE status = 'IN_PROGRESS' ORDER BY start_ms");
	if (!st)
		return DD_EIO;
	return task_walk(st, fn, ud);
}

int dd_store_audit_task_cancel(struct dd_db *db, const char *account_region, const char *task_id, int64_t end_ms)
{
	struct dd_stmt *st = dd_db_stmt(db, "UPDATE audit_tasks SET status = 'CANCELED', end_ms = ?3 WHERE account_region = ?1"
					 " AND task_id = ?2 AND status = 'IN_PROGRESS'");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account_region);
	dd_bind_text(st, 2, task_id);
	dd_bind_int64(st, 3, end_ms);
	if (dd_step_done(st))
		return DD_EIO;
	if (changed(db) == 0)
		return DD_ENOTFOUND;
	st = dd_db_stmt(db, "UPDATE audit_task_checks SET status = 'CANCELED' WHERE account_region = ?1 AND task_id = ?2"
			    " AND status = 'IN_PROGRESS'");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account_region);
	dd_bind_text(st, 2, task_id);
	return dd_step_done(st);
}

int dd_store_audit_task_check_finish(struct dd_db *db, const char *account_region, const char *task_id,
				     const struct dd_store_audit_task_check *c, bool *updated)
{
	*updated = false;
	struct dd_stmt *st = dd_db_stmt(db, "UPDATE audit_task_checks SET status = ?4, total = ?5, noncompliant = ?6, suppressed = ?7,"
					 " error_code = ?8, message = ?9 WHERE account_region = ?1 AND task_id = ?2 AND check_name = ?3"
					 " AND status = 'IN_PROGRESS'");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account_region);
	dd_bind_text(st, 2, task_id);
	dd_bind_text(st, 3, c->check_name);
	dd_bind_text(st, 4, c->status);
	dd_bind_int64(st, 5, c->total);
	dd_bind_int64(st, 6, c->noncompliant);
	dd_bind_int64(st, 7, c->suppressed);
	dd_bind_text(st, 8, c->error_code);
	dd_bind_text(st, 9, c->message);
	if (dd_step_done(st))
		return DD_EIO;
	*updated = changed(db) > 0;
	return 0;
}

int dd_store_audit_task_checks_left(struct dd_db *db, const char *account_region, const char *task_id, int64_t *n)
{
	struct dd_stmt *st = dd_db_stmt(db, "SELECT count(*) FROM audit_task_checks WHERE account_region = ?1 AND task_id = ?2"
					 " AND status = 'IN_PROGRESS'");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account_region);
	dd_bind_text(st, 2, task_id);
	return count1(st, n);
}

int dd_store_audit_task_complete(struct dd_db *db, const char *account_region, const char *task_id, int64_t end_ms)
{
	struct dd_stmt *st = dd_db_stmt(db, "UPDATE audit_tasks SET status = 'COMPLETED', end_ms = ?3 WHERE account_region = ?1"
					 " AND task_id = ?2 AND status = 'IN_PROGRESS'");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account_region);
	dd_bind_text(st, 2, task_id);
	dd_bind_int64(st, 3, end_ms);
	return dd_step_done(st);
}

int dd_store_audit_task_mark_notified(struct dd_db *db, const char *account_region, const char *task_id, bool *first)
{
	*first = false;
	struct dd_stmt *st = dd_db_stmt(db, "UPDATE audit_tasks SET notified = 1 WHERE account_region = ?1 AND task_id = ?2"
					 " AND notified = 0");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account_region);
	dd_bind_text(st, 2, task_id);
	if (dd_step_done(st))
		return DD_EIO;
	*first = changed(db) > 0;
	return 0;
}

int dd_store_audit_prune(struct dd_db *db, int64_t cutoff_ms)
{
	static const char *const sqls[] = {
		"DELETE FROM audit_findings WHERE task_id IN (SELECT task_id FROM audit_tasks WHERE start_ms < ?1 AND status <> 'IN_PROGRESS')",
		"DELETE FROM audit_task_checks WHERE task_id IN (SELECT task_id FROM audit_tasks WHERE start_ms < ?1 AND status <> 'IN_PROGRESS')",
		"DELETE FROM audit_shards WHERE task_id IN (SELECT task_id FROM audit_tasks WHERE start_ms < ?1 AND status <> 'IN_PROGRESS')",
		"DELETE FROM audit_shard_checks WHERE task_id IN (SELECT task_id FROM audit_tasks WHERE start_ms < ?1 AND status <> 'IN_PROGRESS')",
		"DELETE FROM audit_tasks WHERE start_ms < ?1 AND status <> 'IN_PROGRESS'",
	};
	for (int i = 0; i < 5; i++) {
		struct dd_stmt *st = dd_db_stmt(db, sqls[i]);
		if (!st)
			return DD_EIO;
		dd_bind_int64(st, 1, cutoff_ms);
		if (dd_step_done(st))
			return DD_EIO;
	}
	return 0;
}

/* ---- findings ------------------------------------------------------------------------- */

#define FINDING_PARAMS 15
#define FINDINGS_INSERT_HEAD                                                                                       \
	"INSERT INTO audit_findings(account_region, finding_id, task_id, check_name, task_start_ms, finding_ms, severity," \
	" resource_type, resource_key, resource, related, reason, reason_code, suppressed, shard) VALUES "

/* Binds finding f to the FINDING_PARAMS parameters starting at base + 1. The caller's
 * strings outlive the step: no copies. */
static void bind_finding(struct dd_stmt *st, int base, const char *account_region, const struct dd_store_audit_finding *f)
{
	dd_bind_text_static(st, base + 1, account_region);
	dd_bind_text_static(st, base + 2, f->finding_id);
	dd_bind_text_static(st, base + 3, f->task_id);
	dd_bind_text_static(st, base + 4, f->check_name);
	dd_bind_int64(st, base + 5, f->task_start_ms);
	dd_bind_int64(st, base + 6, f->finding_ms);
	dd_bind_text_static(st, base + 7, f->severity ? f->severity : "");
	dd_bind_text_static(st, base + 8, f->resource_type ? f->resource_type : "");
	dd_bind_text_static(st, base + 9, f->resource_key);
	dd_bind_text_static(st, base + 10, f->resource);
	dd_bind_text_static(st, base + 11, f->related ? f->related : "[]");
	dd_bind_text_static(st, base + 12, f->reason ? f->reason : "");
	dd_bind_text_static(st, base + 13, f->reason_code ? f->reason_code : "");
	dd_bind_int64(st, base + 14, f->suppressed);
	dd_bind_int64(st, base + 15, f->shard);
}

static int insert_done(struct dd_stmt *st)
{
	int s = dd_stmt_step(st);
	dd_stmt_reset(st);
	if (s == DD_STMT_CONSTRAINT)
		return DD_EEXIST;
	return s == DD_STMT_DONE ? 0 : DD_EIO;
}

int dd_store_audit_findings_insert(struct dd_db *db, const char *account_region, const struct dd_store_audit_finding *f)
{
	struct dd_stmt *st = dd_db_stmt(db, FINDINGS_INSERT_HEAD "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)");
	if (!st)
		return DD_EIO;
	bind_finding(st, 0, account_region, f);
	return insert_done(st);
}

/* The text of the DD_STORE_AUDIT_FINDINGS_BATCH-row INSERT, built once (statements are
 * cached by the address of their text, which is this buffer's). */
static char batch_sql[sizeof FINDINGS_INSERT_HEAD + DD_STORE_AUDIT_FINDINGS_BATCH * FINDING_PARAMS * 8];
static pthread_once_t batch_once = PTHREAD_ONCE_INIT;

static void batch_sql_build(void)
{
	size_t len = (size_t)snprintf(batch_sql, sizeof batch_sql, "%s", FINDINGS_INSERT_HEAD);
	for (int r = 0; r < DD_STORE_AUDIT_FINDINGS_BATCH; r++)
		for (int c = 0; c < FINDING_PARAMS; c++)
			len += (size_t)snprintf(batch_sql + len, sizeof batch_sql - len, "%s?%d%s", c ? " " : r ? ", (" : "(",
						r * FINDING_PARAMS + c + 1, c + 1 < FINDING_PARAMS ? "," : ")");
}

int dd_store_audit_findings_insert_many(struct dd_db *db, const char *account_region,
					const struct dd_store_audit_finding *f, size_t n)
{
	size_t i = 0;
	if (n >= DD_STORE_AUDIT_FINDINGS_BATCH) {
		pthread_once(&batch_once, batch_sql_build);
		struct dd_stmt *st = dd_db_stmt(db, batch_sql);
		if (!st)
			return DD_EIO;
		for (; i + DD_STORE_AUDIT_FINDINGS_BATCH <= n; i += DD_STORE_AUDIT_FINDINGS_BATCH) {
			for (int r = 0; r < DD_STORE_AUDIT_FINDINGS_BATCH; r++)
				bind_finding(st, r * FINDING_PARAMS, account_region, &f[i + (size_t)r]);
			int rc = insert_done(st);
			if (rc)
				return rc;
		}
	}
	for (; i < n; i++) {
		int rc = dd_store_audit_findings_insert(db, account_region, &f[i]);
		if (rc)
			return rc;
	}
	return 0;
}

int dd_store_audit_findings_delete_check(struct dd_db *db, const char *account_region, const char *task_id,
					 const char *check_name)
{
	struct dd_stmt *st = dd_db_stmt(db, "DELETE FROM audit_findings WHERE account_region = ?1 AND task_id = ?2 AND check_name = ?3");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account_region);
	dd_bind_text(st, 2, task_id);
	dd_bind_text(st, 3, check_name);
	return dd_step_done(st);
}

int dd_store_audit_findings_delete_shard(struct dd_db *db, const char *account_region, const char *task_id,
					 const char *check_name, int shard)
{
	struct dd_stmt *st = dd_db_stmt(db, "DELETE FROM audit_findings WHERE account_region = ?1 AND task_id = ?2"
					  " AND check_name = ?3 AND shard = ?4");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account_region);
	dd_bind_text(st, 2, task_id);
	dd_bind_text(st, 3, check_name);
	dd_bind_int64(st, 4, shard);
	return dd_step_done(st);
}

/* ---- shards --------------------------------------------------------------------------- */

int dd_store_audit_shards_insert(struct dd_db *db, const char *account_region, const char *task_id, int shard,
				 const char *lo, const char *hi)
{
	struct dd_stmt *st = dd_db_stmt(db, "INSERT INTO audit_shards(account_region, task_id, shard, lo, hi, status)"
					  " VALUES (?1, ?2, ?3, ?4, ?5, 'IN_PROGRESS') ON CONFLICT DO NOTHING");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account_region);
	dd_bind_text(st, 2, task_id);
	dd_bind_int64(st, 3, shard);
	dd_bind_text(st, 4, lo);
	dd_bind_text(st, 5, hi);
	return dd_step_done(st);
}

struct shard_cb {
	dd_store_audit_shard_fn fn;
	void *ud;
};

static int shard_row(struct dd_stmt *st, void *ctx)
{
	const struct shard_cb *c = ctx;
	struct dd_store_audit_shard s = {
		.shard = dd_col_int(st, 0), .lo = dd_col_text(st, 1), .hi = dd_col_text_or_null(st, 2),
		.status = dd_col_text(st, 3),
	};
	return c->fn(&s, c->ud);
}

int dd_store_audit_shards_list(struct dd_db *db, const char *account_region, const char *task_id,
			       dd_store_audit_shard_fn fn, void *ud)
{
	struct dd_stmt *st = dd_db_stmt(db, "SELECT shard, lo, hi, status FROM audit_shards WHERE account_region = ?1"
					  " AND task_id = ?2 ORDER BY shard");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account_region);
	dd_bind_text(st, 2, task_id);
	return dd_stmt_each(st, shard_row, &(struct shard_cb){ fn, ud }, DD_EACH_PASS);
}

int dd_store_audit_claim_lock(struct dd_db *db, const char *account_region, const char *task_id, int shard)
{
	if (!dd_db_row_locks(db))
		return 1;
	struct dd_stmt *st = shard < 0 ? dd_db_stmt(db, "SELECT 1 FROM audit_tasks WHERE account_region = ?1 AND task_id = ?2"
							" AND status = 'IN_PROGRESS' FOR UPDATE SKIP LOCKED")
				       : dd_db_stmt(db, "SELECT 1 FROM audit_shards WHERE account_region = ?1 AND task_id = ?2"
							" AND shard = ?3 AND status = 'IN_PROGRESS' FOR UPDATE SKIP LOCKED");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account_region);
	dd_bind_text(st, 2, task_id);
	if (shard >= 0)
		dd_bind_int64(st, 3, shard);
	int rc = dd_stmt_step(st);
	dd_stmt_reset(st);
	return rc == DD_STMT_ROW ? 1 : rc == DD_STMT_DONE ? 0 : DD_EIO;
}

int dd_store_audit_shard_done(struct dd_db *db, const char *account_region, const char *task_id, int shard)
{
	struct dd_stmt *st = dd_db_stmt(db, "UPDATE audit_shards SET status = 'DONE' WHERE account_region = ?1"
					  " AND task_id = ?2 AND shard = ?3");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account_region);
	dd_bind_text(st, 2, task_id);
	dd_bind_int64(st, 3, shard);
	return dd_step_done(st);
}

int dd_store_audit_shard_check_put(struct dd_db *db, const char *account_region, const char *task_id, int shard,
				   const struct dd_store_audit_task_check *c)
{
	struct dd_stmt *st = dd_db_stmt(db, "INSERT INTO audit_shard_checks(account_region, task_id, check_name, shard,"
					  " status, total, noncompliant, suppressed, error_code, message)"
					  " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) ON CONFLICT DO NOTHING");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account_region);
	dd_bind_text(st, 2, task_id);
	dd_bind_text(st, 3, c->check_name);
	dd_bind_int64(st, 4, shard);
	dd_bind_text(st, 5, c->status);
	dd_bind_int64(st, 6, c->total);
	dd_bind_int64(st, 7, c->noncompliant);
	dd_bind_int64(st, 8, c->suppressed);
	dd_bind_text(st, 9, c->error_code);
	dd_bind_text(st, 10, c->message);
	return dd_step_done(st);
}

int dd_store_audit_shard_check_exists(struct dd_db *db, const char *account_region, const char *task_id,
				      const char *check_name, int shard, bool *exists)
{
	struct dd_stmt *st = dd_db_stmt(db, "SELECT count(*) FROM audit_shard_checks WHERE account_region = ?1"
					  " AND task_id = ?2 AND check_name = ?3 AND shard = ?4");
	*exists = false;
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account_region);
	dd_bind_text(st, 2, task_id);
	dd_bind_text(st, 3, check_name);
	dd_bind_int64(st, 4, shard);
	int64_t n = 0;
	int rc = count1(st, &n);
	*exists = n > 0;
	return rc;
}

int dd_store_audit_shard_checks_sum(struct dd_db *db, const char *account_region, const char *task_id,
				    const char *check_name, struct dd_store_audit_shard_sum *out, char *error_code,
				    size_t elen, char *message, size_t mlen)
{
	memset(out, 0, sizeof *out);
	error_code[0] = message[0] = '\0';
	struct dd_stmt *st = dd_db_stmt(db,
		"SELECT count(*), coalesce(sum(total), 0), coalesce(sum(noncompliant), 0), coalesce(sum(suppressed), 0),"
		" coalesce(sum(CASE WHEN status = 'FAILED' THEN 1 ELSE 0 END), 0),"
		" coalesce(sum(CASE WHEN status = 'WAITING_FOR_DATA_COLLECTION' THEN 1 ELSE 0 END), 0)"
		" FROM audit_shard_checks WHERE account_region = ?1 AND task_id = ?2 AND check_name = ?3");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account_region);
	dd_bind_text(st, 2, task_id);
	dd_bind_text(st, 3, check_name);
	int s = dd_stmt_step(st);
	if (s == DD_STMT_ROW) {
		out->shards = dd_col_int64(st, 0);
		out->total = dd_col_int64(st, 1);
		out->noncompliant = dd_col_int64(st, 2);
		out->suppressed = dd_col_int64(st, 3);
		out->failed = dd_col_int64(st, 4);
		out->waiting = dd_col_int64(st, 5);
	}
	dd_stmt_reset(st);
	if (s != DD_STMT_ROW)
		return DD_EIO;
	/* the message of a failed shard first, else of the lowest shard that has one */
	st = dd_db_stmt(db, "SELECT coalesce(error_code, ''), coalesce(message, '') FROM audit_shard_checks"
			    " WHERE account_region = ?1 AND task_id = ?2 AND check_name = ?3"
			    " AND (error_code IS NOT NULL OR message IS NOT NULL)"
			    " ORDER BY CASE WHEN status = 'FAILED' THEN 0 ELSE 1 END, shard LIMIT 1");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account_region);
	dd_bind_text(st, 2, task_id);
	dd_bind_text(st, 3, check_name);
	s = dd_stmt_step(st);
	if (s == DD_STMT_ROW) {
		snprintf(error_code, elen, "%s", dd_col_text(st, 0));
		snprintf(message, mlen, "%s", dd_col_text(st, 1));
	}
	dd_stmt_reset(st);
	return s == DD_STMT_ROW || s == DD_STMT_DONE ? 0 : DD_EIO;
}

int dd_store_audit_findings_count_task(struct dd_db *db, const char *account_region, const char *task_id, int64_t *n)
{
	struct dd_stmt *st = dd_db_stmt(db, "SELECT count(*) FROM audit_findings WHERE account_region = ?1 AND task_id = ?2");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account_region);
	dd_bind_text(st, 2, task_id);
	return count1(st, n);
}

#define FINDING_COLS "finding_id, task_id, check_name, task_start_ms, finding_ms, severity, resource_type, resource_key," \
	" resource, related, reason, reason_code, suppressed"

static void finding_row(struct dd_stmt *st, struct dd_store_audit_finding *f)
{
	f->finding_id = dd_col_text(st, 0);
	f->task_id = dd_col_text(st, 1);
	f->check_name = dd_col_text(st, 2);
	f->task_start_ms = dd_col_int64(st, 3);
	f->finding_ms = dd_col_int64(st, 4);
	f->severity = dd_col_text(st, 5);
	f->resource_type = dd_col_text(st, 6);
	f->resource_key = dd_col_text(st, 7);
	f->resource = dd_col_text(st, 8);
	f->related = dd_col_text(st, 9);
	f->reason = dd_col_text(st, 10);
	f->reason_code = dd_col_text(st, 11);
	f->suppressed = dd_col_int(st, 12) != 0;
}

int dd_store_audit_findings_get(struct dd_db *db, const char *account_region, const char *finding_id,
				dd_store_audit_finding_fn fn, void *ud)
{
	struct dd_stmt *st = dd_db_stmt(db, "SELECT " FINDING_COLS " FROM audit_findings WHERE account_region = ?1 AND finding_id = ?2");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account_region);
	dd_bind_text(st, 2, finding_id);
	int s = dd_stmt_step(st), rc;
	if (s == DD_STMT_ROW) {
		struct dd_store_audit_finding f;
		finding_row(st, &f);
		rc = fn(&f, ud);
	} else {
		rc = s == DD_STMT_DONE ? DD_ENOTFOUND : DD_EIO;
	}
	dd_stmt_reset(st);
	return rc;
}

struct finding_cb {
	dd_store_audit_finding_fn fn;
	void *ud;
};

static int finding_each(struct dd_stmt *st, void *ctx)
{
	const struct finding_cb *c = ctx;
	struct dd_store_audit_finding row;
	finding_row(st, &row);
	return c->fn(&row, c->ud);
}

int dd_store_audit_findings_list(struct dd_db *db, const char *account_region, const struct dd_store_audit_findings_filter *f,
				 int limit, dd_store_audit_finding_fn fn, void *ud)
{
	struct dd_stmt *st = dd_db_stmt(db,
		"SELECT " FINDING_COLS " FROM audit_findings WHERE account_region = ?1 AND (?2 IS NULL OR task_id = ?2)"
		" AND (?3 IS NULL OR check_name = ?3) AND (?4 IS NULL OR resource_key = ?4)"
		" AND finding_ms >= ?5 AND finding_ms <= ?6 AND (?7 IS NULL OR suppressed = ?7)"
		" AND (finding_ms < ?8 OR (finding_ms = ?8 AND finding_id > ?9))"
		" ORDER BY finding_ms DESC, finding_id LIMIT ?10");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account_region);
	dd_bind_text(st, 2, f->task_id);
	dd_bind_text(st, 3, f->check_name);
	dd_bind_text(st, 4, f->resource_key);
	dd_bind_int64(st, 5, f->start_ms);
	dd_bind_int64(st, 6, f->end_ms);
	bind_opt_int(st, 7, f->suppressed >= 0, f->suppressed > 0);
	dd_bind_int64(st, 8, f->after_ms);
	dd_bind_text(st, 9, f->after_id ? f->after_id : "");
	dd_bind_int64(st, 10, limit);
	return dd_stmt_each(st, finding_each, &(struct finding_cb){ fn, ud }, DD_EACH_PASS);
}

/* ---- suppressions --------------------------------------------------------------------- */

#define SUPP_COLS "check_name, resource_key, resource, expiration_ms, indefinite, description"

static void suppression_row(struct dd_stmt *st, struct dd_store_audit_suppression *s)
{
	s->check_name = dd_col_text(st, 0);
	s->resource_key = dd_col_text(st, 1);
	s->resource = dd_col_text(st, 2);
	s->has_expiration = !dd_col_is_null(st, 3);
	s->expiration_ms = dd_col_int64(st, 3);
	s->indefinite = dd_col_int(st, 4) != 0;
	s->description = col_opt(st, 5);
}

struct suppression_cb {
	dd_store_audit_suppression_fn fn;
	void *ud;
};

static int suppression_each(struct dd_stmt *st, void *ctx)
{
	const struct suppression_cb *c = ctx;
	struct dd_store_audit_suppression row;
	suppression_row(st, &row);
	return c->fn(&row, c->ud);
}

static int suppression_walk(struct dd_stmt *st, dd_store_audit_suppression_fn fn, void *ud)
{
	return dd_stmt_each(st, suppression_each, &(struct suppression_cb){ fn, ud }, DD_EACH_PASS);
}

int dd_store_audit_suppressions_get(struct dd_db *db, const char *account_region, const char *check_name,
				    const char *resource_key, dd_store_audit_suppression_fn fn, void *ud)
{
	struct dd_stmt *st = dd_db_stmt(db, "SELECT " SUPP_COLS " FROM audit_suppressions WHERE account_region = ?1"
					 " AND check_name = ?2 AND resource_key = ?3");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account_region);
	dd_bind_text(st, 2, check_name);
	dd_bind_text(st, 3, resource_key);
	int s = dd_stmt_step(st), rc;
	if (s == DD_STMT_ROW) {
		struct dd_store_audit_suppression row;
		suppression_row(st, &row);
		rc = fn ? fn(&row, ud) : 0;
	} else {
		rc = s == DD_STMT_DONE ? DD_ENOTFOUND : DD_EIO;
	}
	dd_stmt_reset(st);
	return rc;
}

int dd_store_audit_suppressions_insert(struct dd_db *db, const char *account_region, const struct dd_store_audit_suppression *s)
{
	int rc = dd_store_audit_suppressions_get(db, account_region, s->check_name, s->resource_key, NULL, NULL);
	if (rc == 0)
		return DD_EEXIST;
	if (rc != DD_ENOTFOUND)
		return rc;
	struct dd_stmt *st = dd_db_stmt(db, "INSERT INTO audit_suppressions(account_region, check_name, resource_key, resource,"
					 " expiration_ms, indefinite, description) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account_region);
	dd_bind_text(st, 2, s->check_name);
	dd_bind_text(st, 3, s->resource_key);
	dd_bind_text(st, 4, s->resource);
	bind_opt_int(st, 5, s->has_expiration, s->expiration_ms);
	dd_bind_int64(st, 6, s->indefinite);
	dd_bind_text(st, 7, s->description);
	return dd_step_done(st);
}

int dd_store_audit_suppressions_update(struct dd_db *db, const char *account_region, const struct dd_store_audit_suppression *s,
				       bool set_expiration, bool set_indefinite)
{
	struct dd_stmt *st = dd_db_stmt(db, "UPDATE audit_suppressions SET expiration_ms = CASE WHEN ?8 <> 0 THEN ?5 ELSE expiration_ms END,"
					 " indefinite = CASE WHEN ?9 <> 0 THEN ?6 WHEN ?8 <> 0 THEN 0 ELSE indefinite END,"
					 " description = coalesce(?7, description), resource = ?4"
					 " WHERE account_region = ?1 AND check_name = ?2 AND resource_key = ?3");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account_region);
	dd_bind_text(st, 2, s->check_name);
	dd_bind_text(st, 3, s->resource_key);
	dd_bind_text(st, 4, s->resource);
	bind_opt_int(st, 5, s->has_expiration, s->expiration_ms);
	dd_bind_int64(st, 6, s->indefinite);
	dd_bind_text(st, 7, s->description);
	dd_bind_int64(st, 8, set_expiration);
	dd_bind_int64(st, 9, set_indefinite);
	if (dd_step_done(st))
		return DD_EIO;
	return changed(db) ? 0 : DD_ENOTFOUND;
}

int dd_store_audit_suppressions_delete(struct dd_db *db, const char *account_region, const char *check_name,
				       const char *resource_key)
{
	struct dd_stmt *st = dd_db_stmt(db, "DELETE FROM audit_suppressions WHERE account_region = ?1 AND check_name = ?2"
					 " AND resource_key = ?3");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account_region);
	dd_bind_text(st, 2, check_name);
	dd_bind_text(st, 3, resource_key);
	return dd_step_done(st);
}

int dd_store_audit_suppressions_list(struct dd_db *db, const char *account_region, const char *check_name,
				     const char *resource_key, const char *after_check, const char *after_key, bool ascending,
				     int limit, dd_store_audit_suppression_fn fn, void *ud)
{
	struct dd_stmt *st = ascending
		? dd_db_stmt(db, "SELECT " SUPP_COLS " FROM audit_suppressions WHERE account_region = ?1"
				 " AND (?2 IS NULL OR check_name = ?2) AND (?3 IS NULL OR resource_key = ?3)"
				 " AND (check_name > ?4 OR (check_name = ?4 AND resource_key > ?5))"
				 " ORDER BY check_name, resource_key LIMIT ?6")
		: dd_db_stmt(db, "SELECT " SUPP_COLS " FROM audit_suppressions WHERE account_region = ?1"
				 " AND (?2 IS NULL OR check_name = ?2) AND (?3 IS NULL OR resource_key = ?3)"
				 " AND (?4 = '' OR check_name < ?4 OR (check_name = ?4 AND resource_key < ?5))"
				 " ORDER BY check_name DESC, resource_key DESC LIMIT ?6");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account_region);
	dd_bind_text(st, 2, check_name);
	dd_bind_text(st, 3, resource_key);
	dd_bind_text(st, 4, after_check ? after_check : "");
	dd_bind_text(st, 5, after_key ? after_key : "");
	dd_bind_int64(st, 6, limit);
	return suppression_walk(st, fn, ud);
}

int dd_store_audit_suppressions_active(struct dd_db *db, const char *account_region, int64_t now_ms,
				       dd_store_audit_suppression_fn fn, void *ud)
{
	struct dd_stmt *st = dd_db_stmt(db, "SELECT " SUPP_COLS " FROM audit_suppressions WHERE account_region = ?1"
					 " AND (indefinite = 1 OR expiration_ms IS NULL OR expiration_ms > ?2)");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account_region);
	dd_bind_int64(st, 2, now_ms);
	return suppression_walk(st, fn, ud);
}

/* ---- scheduled audits ----------------------------------------------------------------- */

#define SCHED_COLS "account_region, name, frequency, day_of_month, day_of_week, checks, created, last_run_day, last_run_ms"

static int scheduled_walk(struct dd_stmt *st, dd_store_audit_scheduled_fn fn, void *ud, bool one)
{
	int s, rc = 0;
	bool any = false;
	while ((s = dd_stmt_step(st)) == DD_STMT_ROW) {
		any = true;
		struct dd_store_audit_scheduled row = {
			.account_region = dd_col_text(st, 0), .name = dd_col_text(st, 1), .frequency = dd_col_text(st, 2),
			.day_of_month = col_opt(st, 3), .day_of_week = col_opt(st, 4), .checks = dd_col_text(st, 5),
			.created = dd_col_int64(st, 6), .last_run_day = dd_col_text(st, 7),
			.last_run_ms = dd_col_int64(st, 8),
		};
		if ((rc = fn(&row, ud)) != 0 || one)
			break;
	}
	int frc = finish(st, s);
	if (rc)
		return rc;
	if (frc)
		return frc;
	return one && !any ? DD_ENOTFOUND : 0;
}

int dd_store_audit_scheduled_count(struct dd_db *db, const char *account_region, int64_t *n)
{
	struct dd_stmt *st = dd_db_stmt(db, "SELECT count(*) FROM scheduled_audits WHERE account_region = ?1");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account_region);
	return count1(st, n);
}

int dd_store_audit_scheduled_get(struct dd_db *db, const char *account_region, const char *name,
				 dd_store_audit_scheduled_fn fn, void *ud)
{
	struct dd_stmt *st = dd_db_stmt(db, "SELECT " SCHED_COLS " FROM scheduled_audits WHERE account_region = ?1 AND name = ?2");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account_region);
	dd_bind_text(st, 2, name);
	return scheduled_walk(st, fn, ud, true);
}

static int exists_fn(const struct dd_store_audit_scheduled *s, void *ud)
{
	(void)s;
	(void)ud;
	return 0;
}

int dd_store_audit_scheduled_insert(struct dd_db *db, const struct dd_store_audit_scheduled *s)
{
	int rc = dd_store_audit_scheduled_get(db, s->account_region, s->name, exists_fn, NULL);
	if (rc == 0)
		return DD_EEXIST;
	if (rc != DD_ENOTFOUND)
		return rc;
	struct dd_stmt *st = dd_db_stmt(db, "INSERT INTO scheduled_audits(account_region, name, frequency, day_of_month,"
					 " day_of_week, checks, created) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, s->account_region);
	dd_bind_text(st, 2, s->name);
	dd_bind_text(st, 3, s->frequency);
	dd_bind_text(st, 4, s->day_of_month);
	dd_bind_text(st, 5, s->day_of_week);
	dd_bind_text(st, 6, s->checks ? s->checks : "[]");
	dd_bind_int64(st, 7, s->created);
	return dd_step_done(st);
}

int dd_store_audit_scheduled_update(struct dd_db *db, const char *account_region, const char *name, const char *frequency,
				    const char *day_of_month, const char *day_of_week, const char *checks)
{
	struct dd_stmt *st = dd_db_stmt(db, "UPDATE scheduled_audits SET frequency = ?3, day_of_month = ?4, day_of_week = ?5,"
					 " checks = coalesce(?6, checks) WHERE account_region = ?1 AND name = ?2");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account_region);
	dd_bind_text(st, 2, name);
	dd_bind_text(st, 3, frequency);
	dd_bind_text(st, 4, day_of_month);
	dd_bind_text(st, 5, day_of_week);
	dd_bind_text(st, 6, checks);
	if (dd_step_done(st))
		return DD_EIO;
	return changed(db) ? 0 : DD_ENOTFOUND;
}

int dd_store_audit_scheduled_delete(struct dd_db *db, const char *account_region, const char *name)
{
	struct dd_stmt *st = dd_db_stmt(db, "DELETE FROM scheduled_audits WHERE account_region = ?1 AND name = ?2");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account_region);
	dd_bind_text(st, 2, name);
	if (dd_step_done(st))
		return DD_EIO;
	return changed(db) ? 0 : DD_ENOTFOUND;
}

int dd_store_audit_scheduled_delete_all(struct dd_db *db, const char *account_region)
{
	struct dd_stmt *st = dd_db_stmt(db, "DELETE FROM scheduled_audits WHERE account_region = ?1");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account_region);
	return dd_step_done(st);
}

int dd_store_audit_scheduled_list(struct dd_db *db, const char *account_region, const char *after, int limit,
				  dd_store_audit_scheduled_fn fn, void *ud)
{
	struct dd_stmt *st = dd_db_stmt(db, "SELECT " SCHED_COLS " FROM scheduled_audits WHERE account_region = ?1 AND name > ?2"
					 " ORDER BY name LIMIT ?3");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account_region);
	dd_bind_text(st, 2, after ? after : "");
	dd_bind_int64(st, 3, limit);
	return scheduled_walk(st, fn, ud, false);
}

int dd_store_audit_scheduled_all(struct dd_db *db, dd_store_audit_scheduled_fn fn, void *ud)
{
	struct dd_stmt *st = dd_db_stmt(db, "SELECT " SCHED_COLS " FROM scheduled_audits");
	if (!st)
		return DD_EIO;
	return scheduled_walk(st, fn, ud, false);
}

int dd_store_audit_scheduled_mark_run(struct dd_db *db, const char *account_region, const char *name, const char *day,
				      int64_t run_ms)
{
	/* compare-and-set: only a run for a later day than the one recorded wins */
	struct dd_stmt *st = dd_db_stmt(db, "UPDATE scheduled_audits SET last_run_day = ?3, last_run_ms = ?4"
					 " WHERE account_region = ?1 AND name = ?2 AND coalesce(last_run_day, '') < ?3");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account_region);
	dd_bind_text(st, 2, name);
	dd_bind_text(st, 3, day);
	dd_bind_int64(st, 4, run_ms);
	if (dd_step_done(st))
		return DD_EIO;
	return dd_db_changes(db) == 1 ? 0 : DD_ENOTFOUND;
}

/* ---- role service usage --------------------------------------------------------------- */

int dd_store_audit_role_usage_replace(struct dd_db *db, const char *account_region, const char *role_arn,
				      const char *const *services, const int64_t *last_used_ms, size_t n)
{
	struct dd_stmt *st = dd_db_stmt(db, "DELETE FROM role_service_usage WHERE account_region = ?1 AND role_arn = ?2");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account_region);
	dd_bind_text(st, 2, role_arn);
	if (dd_step_done(st))
		return DD_EIO;
	for (size_t i = 0; i < n; i++) {
		st = dd_db_stmt(db, "INSERT INTO role_service_usage(account_region, role_arn, service, last_used) VALUES (?1, ?2, ?3, ?4)");
		if (!st)
			return DD_EIO;
		dd_bind_text(st, 1, account_region);
		dd_bind_text(st, 2, role_arn);
		dd_bind_text(st, 3, services[i]);
		dd_bind_int64(st, 4, last_used_ms[i]);
		if (dd_step_done(st))
			return DD_EIO;
	}
	return 0;
}

int dd_store_audit_role_usage_foreach(struct dd_db *db, const char *account_region, const char *role_arn,
				      dd_store_audit_role_usage_fn fn, void *ud)
{
	struct dd_stmt *st = dd_db_stmt(db, "SELECT service, last_used FROM role_service_usage"
					 " WHERE account_region = ?1 AND role_arn = ?2 ORDER BY service");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account_region);
	dd_bind_text(st, 2, role_arn);
	int s, rc = 0;
	while ((s = dd_stmt_step(st)) == DD_STMT_ROW)
		if ((rc = fn(dd_col_text(st, 0), dd_col_int64(st, 1), ud)) != 0)
			break;
	int frc = finish(st, s);
	return rc ? rc : frc;
}

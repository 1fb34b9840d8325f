/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The store of dd_store_mitigation.h over mitigation_actions, mitigation_tasks and
 * mitigation_executions. A task's target expands into executions with one INSERT ...
 * SELECT per (check, action position) over audit_findings (and audit_suppressions); lists
 * of ids and reason codes are bound as one JSON array and read back with json_each
 * (json_array_elements_text on PostgreSQL). A deleted action's tags go with it. Every
 * other aggregate is read and written through its owner's store file (dd_store_audit,
 * _certs, _groups, _principals, _policies, _settings, _sns).
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "store/dd_store_int.h"
#include "dd/store.h"
#include "store/dd_store_mitigation.h"

static char *col_dup(struct dd_stmt *st, int i)
{
	return dd_col_is_null(st, i) ? NULL : strdup(dd_col_text(st, i));
}

/* Steps a statement expected to return at most one row whose column 0 is copied into out. */
static int one_text(struct dd_stmt *st, char *out, size_t len)
{
	out[0] = '\0';
	int rc = dd_stmt_step(st);
	if (rc == DD_STMT_ROW)
		snprintf(out, len, "%s", dd_col_text(st, 0));
	dd_stmt_reset(st);
	return rc == DD_STMT_ROW ? 0 : rc == DD_STMT_DONE ? DD_ENOTFOUND : DD_EIO;
}

/* Steps a statement that yields one integer row into *n. */
static int one_int(struct dd_stmt *st, int64_t *n)
{
	int rc = dd_stmt_step(st);
	*n = rc == DD_STMT_ROW ? dd_col_int64(st, 0) : 0;
	dd_stmt_reset(st);
	return rc == DD_STMT_ROW ? 0 : DD_EIO;
}

/* Runs the remaining rows of st through a name callback (column 0). */
/* A JSON array of n strings as text (NULL on allocation failure). */
static char *json_list(const char *const *items, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < n; i++)
		if (json_array_append_new(a, json_string(items[i] ? items[i] : ""))) {
			json_decref(a);
			return NULL;
		}
	char *s = a ? json_dumps(a, JSON_COMPACT) : NULL;
	json_decref(a);
	return s;
}

/* ---- action definitions ------------------------------------------------------------ */

void dd_store_mitigation_action_clear(struct dd_store_mitigation_action *a)
{
	free(a->role_arn);
	free(a->params);
	memset(a, 0, sizeof *a);
}

int dd_store_mitigation_action_get(struct dd_db *db, const char *account_region, const char *name,
				   struct dd_store_mitigation_action *a)
{
	memset(a, 0, sizeof *a);
	struct dd_stmt *st = dd_db_stmt(db, "SELECT action_id, action_type, role_arn, params, created, modified"
					  " FROM mitigation_actions WHERE account_region = ?1 AND name = ?2");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account_region);
	dd_bind_text(st, 2, name);
	int rc = dd_stmt_step(st);
	if (rc == DD_STMT_ROW) {
		snprintf(a->id, sizeof a->id, "%s", dd_col_text(st, 0));
		snprintf(a->type, sizeof a->type, "%s", dd_col_text(st, 1));
		a->role_arn = strdup(dd_col_text(st, 2));
		a->params = strdup(dd_col_text(st, 3));
		a->created_ms = dd_col_int64(st, 4);
		a->modified_ms = dd_col_int64(st, 5);
	}
	dd_stmt_reset(st);
	if (rc != DD_STMT_ROW)
		return rc == DD_STMT_DONE ? DD_ENOTFOUND : DD_EIO;
	if (!a->role_arn || !a->params) {
		dd_store_mitigation_action_clear(a);
		return DD_ENOMEM;
	}
	return 0;
}

int dd_store_mitigation_action_count(struct dd_db *db, const char *account_region, int64_t *n)
{
	struct dd_stmt *st = dd_db_stmt(db, "SELECT count(*) FROM mitigation_actions WHERE account_region = ?1");
	*n = 0;
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account_region);
	return one_int(st, n);
}

int dd_store_mitigation_action_insert(struct dd_db *db, const char *account_region, const char *name, const char *id,
				      const char *type, const char *role_arn, const char *params, int64_t now_ms)
{
	struct dd_stmt *st = dd_db_stmt(db, "INSERT INTO mitigation_actions(account_region, name, action_id, action_type, role_arn,"
					  " params, created, modified) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)"
					  " ON CONFLICT(account_region, name) DO NOTHING");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account_region);
	dd_bind_text(st, 2, name);
	dd_bind_text(st, 3, id);
	dd_bind_text(st, 4, type);
	dd_bind_text(st, 5, role_arn);
	dd_bind_text(st, 6, params);
	dd_bind_int64(st, 7, now_ms);
	if (dd_step_done(st))
		return DD_EIO;
	return dd_db_changes(db) ? 0 : DD_EEXIST;
}

int dd_store_mitigation_action_update(struct dd_db *db, const char *account_region, const char *name,
				      const char *role_arn, const char *params, int64_t now_ms)
{
	struct dd_stmt *st = dd_db_stmt(db, "UPDATE mitigation_actions SET role_arn = coalesce(?3, role_arn),"
					  " params = coalesce(?4, params), modified = ?5 WHERE account_region = ?1 AND name = ?2");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account_region);
	dd_bind_text(st, 2, name);
	dd_bind_text(st, 3, role_arn);
	dd_bind_text(st, 4, params);
	dd_bind_int64(st, 5, now_ms);
	if (dd_step_done(st))
		return DD_EIO;
	return dd_db_changes(db) ? 0 : DD_ENOTFOUND;
}

int dd_store_mitigation_action_delete(struct dd_db *db, const char *account_region, const char *name, const char *arn)
{
	struct dd_stmt *st = dd_db_stmt(db, "DELETE FROM mitigation_actions WHERE account_region = ?1 AND name = ?2");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account_region);
	dd_bind_text(st, 2, name);
	if (dd_step_done(st))
		return DD_EIO;
	st = dd_db_stmt(db, "DELETE FROM tags WHERE account_region = ?1 AND resource_arn = ?2");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account_region);
	dd_bind_text(st, 2, arn);
	return dd_step_done(st) ? DD_EIO : 0;
}

int dd_store_mitigation_action_list(struct dd_db *db, const char *account_region, const char *type, const char *after,
				    int limit, dd_store_mitigation_action_row_fn fn, void *ud)
{
	struct dd_stmt *st = dd_db_stmt(db, "SELECT name, created FROM mitigation_actions WHERE account_region = ?1"
					  " AND (?2 IS NULL OR action_type = ?2) AND name > ?3 ORDER BY name LIMIT ?4");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account_region);
	dd_bind_text(st, 2, type);
	dd_bind_text(st, 3, after ? after : "");
	dd_bind_int64(st, 4, limit);
	int rc, ret = 0;
	while ((rc = dd_stmt_step(st)) == DD_STMT_ROW)
		if ((ret = fn(dd_col_text(st, 0), dd_col_int64(st, 1), ud)))
			break;
	dd_stmt_reset(st);
	return ret ? ret : rc == DD_STMT_DONE ? 0 : DD_EIO;
}

/* ---- tasks ------------------------------------------------------------------------- */

void dd_store_mitigation_task_clear(struct dd_store_mitigation_task *t)
{
	free(t->client_token);
	free(t->request_hash);
	free(t->target);
	free(t->mapping);
	free(t->actions);
	free(t->audit_task_id);
	memset(t, 0, sizeof *t);
}

int dd_store_mitigation_task_get(struct dd_db *db, const char *account_region, const char *task_id,
				 struct dd_store_mitigation_task *t)
{
	memset(t, 0, sizeof *t);
	struct dd_stmt *st = dd_db_stmt(db, "SELECT status, client_token, request_hash, target, mapping, actions, audit_task_id,"
					  " start_ms, end_ms FROM mitigation_tasks WHERE account_region = ?1 AND task_id = ?2");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account_region);
	dd_bind_text(st, 2, task_id);
	int rc = dd_stmt_step(st);
	if (rc == DD_STMT_ROW) {
		snprintf(t->status, sizeof t->status, "%s", dd_col_text(st, 0));
		t->client_token = strdup(dd_col_text(st, 1));
		t->request_hash = strdup(dd_col_text(st, 2));
		t->target = strdup(dd_col_text(st, 3));
		t->mapping = strdup(dd_col_text(st, 4));
		t->actions = strdup(dd_col_text(st, 5));
		t->audit_task_id = col_dup(st, 6);
		t->start_ms = dd_col_int64(st, 7);
		t->end_ms = dd_col_is_null(st, 8) ? -1 : dd_col_int64(st, 8);
	}
	dd_stmt_reset(st);
	if (rc != DD_STMT_ROW)
		return rc == DD_STMT_DONE ? DD_ENOTFOUND : DD_EIO;
	if (!t->client_token || !t->request_hash || !t->target || !t->mapping || !t->actions) {
		dd_store_mitigation_task_clear(t);
		return DD_ENOMEM;
	}
	return 0;
}

int dd_store_mitigation_task_status(struct dd_db *db, const char *account_region, const char *task_id, char *status,
				    size_t len)
{
	struct dd_stmt *st = dd_db_stmt(db, "SELECT status FROM mitigation_tasks WHERE account_region = ?1 AND task_id = ?2");
	status[0] = '\0';
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account_region);
	dd_bind_text(st, 2, task_id);
	return one_text(st, status, len);
}

int dd_store_mitigation_task_by_token(struct dd_db *db, const char *account_region, const char *client_token,
				      char *task_id, size_t len)
{
	struct dd_stmt *st = dd_db_stmt(db, "SELECT task_id FROM mitigation_tasks WHERE account_region = ?1 AND client_token = ?2");
	task_id[0] = '\0';
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account_region);
	dd_bind_text(st, 2, client_token);
	return one_text(st, task_id, len);
}

int dd_store_mitigation_task_count_in_progress(struct dd_db *db, const char *account_region, int64_t *n)
{
	struct dd_stmt *st = dd_db_stmt(db, "SELECT count(*) FROM mitigation_tasks WHERE account_region = ?1 AND status = 'IN_PROGRESS'");
	*n = 0;
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account_region);
	return one_int(st, n);
}

int dd_store_mitigation_task_insert(struct dd_db *db, const char *account_region, const char *task_id,
				    const struct dd_store_mitigation_task *t)
{
	struct dd_stmt *st = dd_db_stmt(db, "INSERT INTO mitigation_tasks(account_region, task_id, status, client_token, request_hash,"
					  " target, mapping, actions, audit_task_id, start_ms) VALUES (?1, ?2, 'IN_PROGRESS', ?3, ?4, ?5,"
					  " ?6, ?7, ?8, ?9) ON CONFLICT(account_region, task_id) DO NOTHING");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account_region);
	dd_bind_text(st, 2, task_id);
	dd_bind_text(st, 3, t->client_token);
	dd_bind_text(st, 4, t->request_hash);
	dd_bind_text(st, 5, t->target);
	dd_bind_text(st, 6, t->mapping);
	dd_bind_text(st, 7, t->actions);
	dd_bind_text(st, 8, t->audit_task_id);
	dd_bind_int64(st, 9, t->start_ms);
	if (dd_step_done(st))
		return DD_EIO;
	return dd_db_changes(db) ? 0 : DD_EEXIST;
}

int dd_store_mitigation_task_finish(struct dd_db *db, const char *account_region, const char *task_id,
				    const char *status, int64_t end_ms)
{
	struct dd_stmt *st = dd_db_stmt(db, "UPDATE mitigation_tasks SET status = ?3, end_ms = ?4 WHERE account_region = ?1"
					  " AND task_id = ?2 AND status = 'IN_PROGRESS'");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account_region);
	dd_bind_text(st, 2, task_id);
	dd_bind_text(st, 3, status);
	dd_bind_int64(st, 4, end_ms);
	if (dd_step_done(st))
		return DD_EIO;
	return dd_db_changes(db) ? 0 : DD_ENOTFOUND;
}

int dd_store_mitigation_task_cancel(struct dd_db *db, const char *account_region, const char *task_id, int64_t now_ms)
{
	static const char *const sqls[] = {
		"UPDATE mitigation_tasks SET status = 'CANCELED', end_ms = ?3 WHERE account_region = ?1 AND task_id = ?2",
		"UPDATE mitigation_executions SET status = 'CANCELED', end_ms = ?3,"
		" message = 'The task was canceled before this action was applied.'"
		" WHERE account_region = ?1 AND task_id = ?2 AND status = 'PENDING'",
	};
	for (int i = 0; i < 2; i++) {
		struct dd_stmt *st = dd_db_stmt(db, sqls[i]);
		if (!st)
			return DD_EIO;
		dd_bind_text(st, 1, account_region);
		dd_bind_text(st, 2, task_id);
		dd_bind_int64(st, 3, now_ms);
		if (dd_step_done(st))
			return DD_EIO;
	}
	return 0;
}

int dd_store_mitigation_task_in_progress(struct dd_db *db, dd_store_mitigation_task_ref_fn fn, void *ud)
{
	struct dd_stmt *st = dd_db_stmt(db, "SELECT account_region, task_id FROM mitigation_tasks WHERE status = 'IN_PROGRESS' ORDER BY start_ms");
	if (!st)
		return DD_EIO;
	return dd_stmt_each_text_pair(st, fn, ud);
}

#define CLAIMABLE(NOW, LOCK)                                                                                     \
	"SELECT t.account_region, t.task_id FROM mitigation_tasks t WHERE t.status = 'IN_PROGRESS' AND NOT EXISTS"      \
	" (SELECT 1 FROM work_leases l WHERE l.kind = 'mitigation' AND l.unit = t.account_region || '/' || t.task_id" \
	" AND l.expires_ms >= " NOW ") ORDER BY t.start_ms, t.task_id LIMIT ?2" LOCK

int dd_store_mitigation_task_claimable(struct dd_db *db, int64_t now_ms, int limit, dd_store_mitigation_task_ref_fn fn,
				       void *ud)
{
	struct dd_stmt *st = dd_db_stmt(db, dd_db_row_locks(db) ? CLAIMABLE(DD_DB_PG_NOW_MS, " FOR UPDATE OF t SKIP LOCKED")
							: CLAIMABLE("?1", ""));
	if (!st)
		return DD_EIO;
	dd_bind_int64(st, 1, now_ms);
	dd_bind_int64(st, 2, limit);
	return dd_stmt_each_text_pair(st, fn, ud);
}

int dd_store_mitigation_task_list(struct dd_db *db, const char *account_region,
				  const struct dd_store_mitigation_task_filter *f, dd_store_mitigation_task_row_fn fn, void *ud)
{
	struct dd_stmt *st = dd_db_stmt(db,
		"SELECT t.task_id, t.status, t.start_ms FROM mitigation_tasks t WHERE t.account_region = ?1 AND t.start_ms >= ?2"
		" AND t.start_ms <= ?3 AND (?4 IS NULL OR t.status = ?4)"
		" AND (?5 IS NULL OR t.audit_task_id = ?5 OR EXISTS (SELECT 1 FROM mitigation_executions e JOIN audit_findings f"
		"  ON f.account_region = e.account_region AND f.finding_id = e.finding_id WHERE e.account_region = t.account_region AND e.task_id = t.task_id"
		"  AND e.seq = 0 AND f.task_id = ?5))"
		" AND (?6 IS NULL OR EXISTS (SELECT 1 FROM mitigation_executions e WHERE e.account_region = t.account_region AND e.finding_id = ?6"
		"  AND e.task_id = t.task_id))"
		" AND (t.start_ms < ?7 OR (t.start_ms = ?7 AND t.task_id > ?8)) ORDER BY t.start_ms DESC, t.task_id LIMIT ?9");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account_region);
	dd_bind_int64(st, 2, f->start_ms);
	dd_bind_int64(st, 3, f->end_ms);
	dd_bind_text(st, 4, f->status);
	dd_bind_text(st, 5, f->audit_task_id);
	dd_bind_text(st, 6, f->finding_id);
	dd_bind_int64(st, 7, f->after_start_ms);
	dd_bind_text(st, 8, f->after_task_id ? f->after_task_id : "");
	dd_bind_int64(st, 9, f->limit);
	int rc, ret = 0;
	while ((rc = dd_stmt_step(st)) == DD_STMT_ROW)
		if ((ret = fn(dd_col_text(st, 0), dd_col_text(st, 1), dd_col_int64(st, 2), ud)))
			break;
	dd_stmt_reset(st);
	return ret ? ret : rc == DD_STMT_DONE ? 0 : DD_EIO;
}

int dd_store_mitigation_task_stats(struct dd_db *db, const char *account_region, const char *task_id,
				   dd_store_mitigation_stats_fn fn, void *ud)
{
	struct dd_stmt *st = dd_db_stmt(db,
		/* one row per finding (its check is the same on every row), in key order */
		"SELECT check_name, count(*), sum(failed), sum(CASE WHEN failed = 0 AND canceled = 1 THEN 1 ELSE 0 END),"
		" sum(CASE WHEN failed = 0 AND canceled = 0 AND skipped = 1 THEN 1 ELSE 0 END), sum(ok)"
		" FROM (SELECT max(check_name) AS check_name,"
		" max(CASE WHEN status = 'FAILED' THEN 1 ELSE 0 END) AS failed,"
		" max(CASE WHEN status = 'CANCELED' THEN 1 ELSE 0 END) AS canceled,"
		" min(CASE WHEN status = 'SKIPPED' THEN 1 ELSE 0 END) AS skipped,"
		" min(CASE WHEN status = 'COMPLETED' THEN 1 ELSE 0 END) AS ok FROM mitigation_executions"
		" WHERE account_region = ?1 AND task_id = ?2 GROUP BY finding_id) AS per_finding GROUP BY check_name");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account_region);
	dd_bind_text(st, 2, task_id);
	int rc, ret = 0;
	while ((rc = dd_stmt_step(st)) == DD_STMT_ROW)
		if ((ret = fn(dd_col_text(st, 0), dd_col_int64(st, 1), dd_col_int64(st, 2),
			      dd_col_int64(st, 5), dd_col_int64(st, 4), dd_col_int64(st, 3), ud)))
			break;
	dd_stmt_reset(st);
	return ret ? ret : rc == DD_STMT_DONE ? 0 : DD_EIO;
}

/* ---- executions -------------------------------------------------------------------- */

int dd_store_mitigation_execution_expand(struct dd_db *db, const char *account_region,
					 const struct dd_store_mitigation_expand *x)
{
	/* the JSON array's elements: json_each on SQLite, json_array_elements_text on PostgreSQL */
#define EXPAND_SQL(FILTER)                                                                                          \
	"INSERT INTO mitigation_executions(account_region, task_id, finding_id, seq, check_name, action_name, action_id," \
	" status, start_ms, end_ms, message)"                                                                           \
	" SELECT account_region, ?2, finding_id, ?3, check_name, ?4, ?5, CASE WHEN sup THEN 'SKIPPED' ELSE 'PENDING' END," \
	" CASE WHEN sup THEN ?6 END, CASE WHEN sup THEN ?6 END,"                                                          \
	" CASE WHEN sup THEN 'The finding is suppressed: mitigation actions are not applied to suppressed findings.' END" \
	" FROM (SELECT f.account_region, f.finding_id, f.check_name, (f.suppressed = 1 OR EXISTS (SELECT 1 FROM audit_suppressions s" \
	"  WHERE s.account_region = f.account_region AND s.check_name = f.check_name AND s.resource_key = f.resource_key" \
	"  AND (s.indefinite = 1 OR s.expiration_ms IS NULL OR s.expiration_ms > ?6))) AS sup"                          \
	"  FROM audit_findings f WHERE f.account_region = ?1 AND f.check_name = ?8 AND " FILTER ") AS expanded"
	static const char *const sql[2][2] = {
		{ EXPAND_SQL("f.task_id = ?7 AND (?9 IS NULL OR f.reason_code IN (SELECT value FROM json_each(?9)))"),
		  EXPAND_SQL("f.finding_id IN (SELECT value FROM json_each(?7))") },
		{ EXPAND_SQL("f.task_id = ?7 AND (?9 IS NULL OR f.reason_code IN"
			     " (SELECT json_array_elements_text(CAST(?9 AS json))))"),
		  EXPAND_SQL("f.finding_id IN (SELECT json_array_elements_text(CAST(?7 AS json)))") },
	};
#undef EXPAND_SQL
	struct dd_stmt *st = dd_db_stmt(db, sql[dd_db_is_pg(db)][!x->audit_task_id]);
	if (!st)
		return DD_EIO;
	char *list = NULL;
	if (x->audit_task_id ? x->reason_codes != NULL : true) {
		list = x->audit_task_id ? json_list(x->reason_codes, x->n_codes) : json_list(x->finding_ids, x->n_ids);
		if (!list) {
			dd_stmt_reset(st);
			return DD_ENOMEM;
		}
	}
	dd_bind_text(st, 1, account_region);
	dd_bind_text(st, 2, x->task_id);
	dd_bind_int64(st, 3, x->seq);
	dd_bind_text(st, 4, x->action_name);
	dd_bind_text(st, 5, x->action_id);
	dd_bind_int64(st, 6, x->now_ms);
	if (x->audit_task_id) {
		dd_bind_text(st, 7, x->audit_task_id);
		dd_bind_text(st, 9, list);
	} else {
		dd_bind_text(st, 7, list);
	}
	dd_bind_text(st, 8, x->check);
	int rc = dd_step_done(st);
	free(list);
	return rc;
}

int dd_store_mitigation_execution_pending(struct dd_db *db, const char *account_region, const char *task_id,
					  const char *after_finding, int64_t after_seq, int limit,
					  dd_store_mitigation_pending_fn fn, void *ud)
{
	struct dd_stmt *st = dd_db_stmt(db, "SELECT finding_id, seq, action_name FROM mitigation_executions WHERE account_region = ?1"
					  " AND task_id = ?2 AND (finding_id > ?3 OR (finding_id = ?3 AND seq > ?4))"
					  " AND status IN ('PENDING', 'IN_PROGRESS') ORDER BY finding_id, seq LIMIT ?5");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account_region);
	dd_bind_text(st, 2, task_id);
	dd_bind_text(st, 3, after_finding ? after_finding : "");
	dd_bind_int64(st, 4, after_seq);
	dd_bind_int64(st, 5, limit);
	int rc, ret = 0;
	while ((rc = dd_stmt_step(st)) == DD_STMT_ROW)
		if ((ret = fn(dd_col_text(st, 0), dd_col_int64(st, 1), dd_col_text(st, 2), ud)))
			break;
	dd_stmt_reset(st);
	return ret ? ret : rc == DD_STMT_DONE ? 0 : DD_EIO;
}

int dd_store_mitigation_execution_earlier_failed(struct dd_db *db, const char *account_region, const char *task_id,
						 const char *finding_id, int64_t seq, bool *failed)
{
	*failed = false;
	struct dd_stmt *st = dd_db_stmt(db, "SELECT 1 FROM mitigation_executions WHERE account_region = ?1 AND task_id = ?2"
					  " AND finding_id = ?3 AND seq < ?4 AND status = 'FAILED'");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account_region);
	dd_bind_text(st, 2, task_id);
	dd_bind_text(st, 3, finding_id);
	dd_bind_int64(st, 4, seq);
	int rc = dd_stmt_step(st);
	*failed = rc == DD_STMT_ROW;
	dd_stmt_reset(st);
	return rc == DD_STMT_ROW || rc == DD_STMT_DONE ? 0 : DD_EIO;
}

int dd_store_mitigation_execution_set_result(struct dd_db *db, const char *account_region, const char *task_id,
					     const struct dd_store_mitigation_result *r)
{
	/* a CANCELED row is overwritten only by an action that really ran */
	struct dd_stmt *st = dd_db_stmt(db,
		"UPDATE mitigation_executions SET status = ?5, start_ms = ?6, end_ms = ?7, error_code = ?8, message = ?9,"
		" prior = ?10 WHERE account_region = ?1 AND task_id = ?2 AND finding_id = ?3 AND seq = ?4"
		" AND (status IN ('PENDING', 'IN_PROGRESS') OR (status = 'CANCELED' AND ?5 IN ('COMPLETED', 'FAILED')))");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account_region);
	dd_bind_text(st, 2, task_id);
	dd_bind_text(st, 3, r->finding_id);
	dd_bind_int64(st, 4, r->seq);
	dd_bind_text(st, 5, r->status);
	dd_bind_int64(st, 6, r->start_ms);
	dd_bind_int64(st, 7, r->end_ms);
	dd_bind_text(st, 8, r->error_code);
	dd_bind_text(st, 9, r->message);
	dd_bind_text(st, 10, r->prior);
	return dd_step_done(st) ? DD_EIO : 0;
}

int dd_store_mitigation_execution_counts(struct dd_db *db, const char *account_region, const char *task_id,
					 int64_t *left, int64_t *failed)
{
	*left = *failed = 0;
	struct dd_stmt *st = dd_db_stmt(db, "SELECT coalesce(sum(CASE WHEN status IN ('PENDING', 'IN_PROGRESS') THEN 1 ELSE 0 END), 0),"
					  " coalesce(sum(CASE WHEN status = 'FAILED' THEN 1 ELSE 0 END), 0) FROM mitigation_executions"
					  " WHERE account_region = ?1 AND task_id = ?2");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account_region);
	dd_bind_text(st, 2, task_id);
	int rc = dd_stmt_step(st);
	if (rc == DD_STMT_ROW) {
		*left = dd_col_int64(st, 0);
		*failed = dd_col_int64(st, 1);
	}
	dd_stmt_reset(st);
	return rc == DD_STMT_ROW ? 0 : DD_EIO;
}

struct execution_cb {
	dd_store_mitigation_execution_row_fn fn;
	void *ud;
};

static int execution_row(struct dd_stmt *st, void *ctx)
{
	const struct execution_cb *c = ctx;
	struct dd_store_mitigation_execution e = {
		.finding_id = dd_col_text(st, 0), .seq = dd_col_int64(st, 1),
		.action_name = dd_col_text(st, 2), .action_id = dd_col_text(st, 3), .status = dd_col_text(st, 4),
		.start_ms = dd_col_is_null(st, 5) ? -1 : dd_col_int64(st, 5),
		.end_ms = dd_col_is_null(st, 6) ? -1 : dd_col_int64(st, 6),
		.error_code = dd_col_is_null(st, 7) ? NULL : dd_col_text(st, 7),
		.message = dd_col_is_null(st, 8) ? NULL : dd_col_text(st, 8),
		.task_id = dd_col_text(st, 9),
	};
	return c->fn(&e, c->ud);
}

int dd_store_mitigation_execution_list(struct dd_db *db, const char *account_region, const char *task_id,
				       const char *finding_id, const char *status, const char *after_finding,
				       int64_t after_seq, int limit, dd_store_mitigation_execution_row_fn fn, void *ud)
{
	struct dd_stmt *st = dd_db_stmt(db,
		"SELECT finding_id, seq, action_name, action_id, status, start_ms, end_ms, error_code, message, task_id FROM mitigation_executions"
		" WHERE account_region = ?1 AND task_id = ?2 AND (?3 IS NULL OR finding_id = ?3) AND (?4 IS NULL OR status = ?4)"
		" AND (finding_id > ?5 OR (finding_id = ?5 AND seq > ?6)) ORDER BY finding_id, seq LIMIT ?7");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account_region);
	dd_bind_text(st, 2, task_id);
	dd_bind_text(st, 3, finding_id);
	dd_bind_text(st, 4, status);
	dd_bind_text(st, 5, after_finding ? after_finding : "");
	dd_bind_int64(st, 6, after_seq);
	dd_bind_int64(st, 7, limit);
	return dd_stmt_each(st, execution_row, &(struct execution_cb){ fn, ud }, DD_EACH_PASS);
}

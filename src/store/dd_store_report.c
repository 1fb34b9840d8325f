/* SPDX-License-Identifier: Apache-2.0 */
/*
 * SQLite implementation of the operators' read-only views (dd_store_report.h) over
 * audit_tasks and mitigation_tasks. The account filter compares the account part of the
 * account_region key ("<12 digits>/<region>").
 */
#include "store/dd_store_int.h"
#include "store/dd_store_report.h"

#include <stdio.h>

#include "dd/store.h"

int dd_store_report_latest_audit(struct dd_db *db, const char *account, char *task_id, size_t tl, char *account_region,
				 size_t arlen)
{
	struct dd_stmt *st = dd_db_stmt(db, "SELECT task_id, account_region FROM audit_tasks WHERE status = 'COMPLETED'"
					  " AND (?1 IS NULL OR substr(account_region, 1, 13) = ?1 || '/')"
					  " ORDER BY start_ms DESC, task_id DESC LIMIT 1");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account);
	int rc = dd_stmt_step(st);
	if (rc == DD_STMT_ROW) {
		snprintf(task_id, tl, "%s", dd_col_text(st, 0));
		snprintf(account_region, arlen, "%s", dd_col_text(st, 1));
	}
	dd_stmt_reset(st);
	return rc == DD_STMT_ROW ? 0 : rc == DD_STMT_DONE ? DD_ENOTFOUND : DD_EIO;
}

int dd_store_report_audit_owner(struct dd_db *db, const char *task_id, const char *account, char *account_region,
				size_t arlen)
{
	struct dd_stmt *st = dd_db_stmt(db, "SELECT account_region FROM audit_tasks WHERE task_id = ?1"
					  " AND (?2 IS NULL OR substr(account_region, 1, 13) = ?2 || '/') LIMIT 1");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, task_id);
	dd_bind_text(st, 2, account);
	int rc = dd_stmt_step(st);
	if (rc == DD_STMT_ROW)
		snprintf(account_region, arlen, "%s", dd_col_text(st, 0));
	dd_stmt_reset(st);
	return rc == DD_STMT_ROW ? 0 : rc == DD_STMT_DONE ? DD_ENOTFOUND : DD_EIO;
}

int dd_store_report_tasks_in_progress(struct dd_db *db, enum dd_store_report_task_kind kind, int64_t *n)
{
	struct dd_stmt *st = dd_db_stmt(db, kind == DD_STORE_REPORT_MITIGATION
						  ? "SELECT count(*) FROM mitigation_tasks WHERE status = 'IN_PROGRESS'"
						  : "SELECT count(*) FROM audit_tasks WHERE status = 'IN_PROGRESS'");
	return st ? dd_store_step_int64(st, n) : DD_EIO;
}

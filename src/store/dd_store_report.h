/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Read-only views for operators (the `report` command and GET /metrics): which audit task
 * a report is about, and how many audit and mitigation tasks are in progress. An account
 * filter of NULL means every account. Functions return 0 or a negative DD_E*
 * (DD_ENOTFOUND, DD_EIO).
 */
#ifndef DD_STORE_REPORT_H
#define DD_STORE_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "dd/common.h"

struct dd_db;

/* The latest completed audit task (by start time, then id) of account: its id into
 * task_id (size tl) and its account_region key into account_region (size arlen).
 * DD_ENOTFOUND when there is none. */
int dd_store_report_latest_audit(struct dd_db *db, const char *account, char *task_id, size_t tl,
				 char *account_region, size_t arlen) DD_MUST_CHECK;
/* The account_region key of the audit task task_id of account. DD_ENOTFOUND. */
int dd_store_report_audit_owner(struct dd_db *db, const char *task_id, const char *account, char *account_region,
				size_t arlen) DD_MUST_CHECK;

enum dd_store_report_task_kind {
	DD_STORE_REPORT_AUDIT,
	DD_STORE_REPORT_MITIGATION,
};
/* The number of tasks of the kind in progress, over every account. */
int dd_store_report_tasks_in_progress(struct dd_db *db, enum dd_store_report_task_kind kind,
				      int64_t *n) DD_MUST_CHECK;

#endif

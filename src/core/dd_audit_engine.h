/* SPDX-License-Identifier: Apache-2.0 */
/* Shared between the audit API handlers (dd_audit.c) and the engine (dd_audit_engine.c). */
#ifndef DD_AUDIT_ENGINE_H
#define DD_AUDIT_ENGINE_H

#include <jansson.h>

#include "core/dd_registry_int.h"
#include "dd/store.h"

/* Creates an IN_PROGRESS task of account_region ("<account>/<region>") with one IN_PROGRESS
 * row per check, in its own write transaction. checks: JSON array of API check names.
 * Writes the 32-hex task id. */
int dd__audit_task_create(struct dd_db *db, const char *account_region, const char *type,
			  const char *scheduled_name,
			  json_t *checks, int64_t start_ms, int64_t window_start_ms, char task_id[33]) DD_MUST_CHECK;
/* The DescribeAuditTask output of a task. DD_ENOTFOUND when absent. */
int dd__audit_task_json(struct dd_db *db, const char *account_region, const char *task_id, json_t **out) DD_MUST_CHECK;

/* Tells the engine that a task was queued. */
void dd__audit_wake(struct dd_service *svc);

#endif

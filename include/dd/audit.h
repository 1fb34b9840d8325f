/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The audit engine's life cycle inside `serve`: worker threads that run audit tasks from
 * the store (resuming any left IN_PROGRESS by a previous process) and the scheduler that
 * starts scheduled audits on their days. Everything they do is driven by rows in the
 * store, so a restart resumes or settles the work.
 */
#ifndef DD_AUDIT_H
#define DD_AUDIT_H

#include "dd/service.h"

/* Starts the workers and the scheduler (sets svc->audit). Returns 0 or a DD_E* code. */
int dd_audit_engine_start(struct dd_service *svc) DD_MUST_CHECK;
/* Stops them: a running check finishes its current batch, the task stays IN_PROGRESS and
 * is resumed at the next start. */
void dd_audit_engine_stop(struct dd_service *svc);
/* Wakes the workers (a task was queued) and the scheduler (the clock moved). */
void dd_audit_engine_wake(struct dd_service *svc);

#endif

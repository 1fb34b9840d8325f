/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The mitigation engine's life cycle inside `serve`: worker threads that run audit
 * mitigation actions tasks from the store, resuming or settling them after a restart.
 */
#ifndef DD_MITIGATION_H
#define DD_MITIGATION_H

#include "dd/service.h"

/* Starts the workers. Returns 0 or a DD_E* code. */
int dd_mitigation_start(struct dd_service *svc) DD_MUST_CHECK;
/* Stops them; unfinished tasks are resumed at the next start. */
void dd_mitigation_stop(struct dd_service *svc);
/* Wakes the workers (a task was queued). */
void dd_mitigation_wake(struct dd_service *svc);

#endif

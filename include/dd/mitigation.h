/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The mitigation engine's life cycle inside `serve`: a dd_workers pool
 * (src/base/dd_workers.h) that runs audit mitigation actions tasks from the store,
 * resuming or settling them after a restart (src/core/mitigation/dd_mitigation_engine.c).
 */
#ifndef DD_MITIGATION_H
#define DD_MITIGATION_H

#include "dd/service.h"

/* Starts the workers. Returns 0 or a DD_E* code. */
int dd_mitigation_engine_start(struct dd_service *svc) DD_MUST_CHECK;
/* Stops them; unfinished tasks are resumed at the next start. */
void dd_mitigation_engine_stop(struct dd_service *svc);
/* Wakes the workers (a task was queued). */
void dd_mitigation_engine_wake(struct dd_service *svc);

#endif

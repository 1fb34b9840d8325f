/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The durable SNS delivery outbox: a dd_workers pool that delivers queued messages to
 * subscribers with retries and backoff, surviving restarts (the queue is in the store;
 * src/core/notify/dd_outbox.c, src/store/dd_store_outbox.c).
 */
#ifndef DD_OUTBOX_H
#define DD_OUTBOX_H

#include "dd/service.h"

/* Starts the delivery workers for svc (sets svc->outbox). Returns 0 or a DD_E* code. */
int dd_outbox_start(struct dd_service *svc) DD_MUST_CHECK;
/* Stops the workers, letting an in-flight delivery finish; frees svc->outbox. */
void dd_outbox_stop(struct dd_service *svc);

#endif

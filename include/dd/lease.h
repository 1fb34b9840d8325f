/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Leases of background work between the `serve` instances of one store. Each instance
 * has a random id (svc->instance_id, logged at start); an engine takes the lease of a
 * unit (kind, unit key) before it runs it, records its results only in a write
 * transaction where dd_lease_hold still finds the lease its own, and drops it when done.
 * A heartbeat thread (dd_lease_start) renews every lease of the instance every third of
 * the lease duration (svc->lease_ms), so the units of a killed instance become claimable
 * by the others once their leases expire, and never before. Times are the wall clock
 * (dd_time_now_ms), never the service's test clock.
 */
#ifndef DD_LEASE_H
#define DD_LEASE_H

#include <stdbool.h>

#include "dd/common.h"
#include "dd/service.h"

/* Starts the heartbeat. 0 or DD_ENOMEM. */
int dd_lease_start(struct dd_service *svc) DD_MUST_CHECK;
/* Stops it and gives up every lease of the instance (run after the engines stopped, so
 * another instance takes their units at once). */
void dd_lease_stop(struct dd_service *svc);
/* Takes the lease of (kind, unit) in a write transaction of its own; true when this
 * instance holds it now. With wanted, the unit is taken only if wanted(db, ud) answers 1
 * in that same transaction: the unit may have been picked from a read made before another
 * instance finished it and let its lease go (it finishes, then drops the lease), and this
 * re-reads its state after the lease is ours. */
bool dd_lease_take(struct dd_service *svc, struct dd_db *db, const char *kind, const char *unit,
		   int (*wanted)(struct dd_db *db, void *ud), void *ud);
/* In the caller's write transaction: is the lease still this instance's? (also renews
 * it). 0 with *held, or DD_EIO. */
int dd_lease_hold(struct dd_service *svc, struct dd_db *db, const char *kind, const char *unit, bool *held) DD_MUST_CHECK;
/* Gives the lease up (its own transaction; a failure only leaves it to expire). */
void dd_lease_drop(struct dd_service *svc, struct dd_db *db, const char *kind, const char *unit);
/* Calls fn with the unit of every live lease of kind held by another instance. */
int dd_lease_others(struct dd_service *svc, struct dd_db *db, const char *kind,
		    int (*fn)(const char *unit, void *ud), void *ud) DD_MUST_CHECK;

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Leases of background work between the `serve` instances of one store. Each instance
 * has a random id (svc->instance_id, logged at start); an engine takes the lease of a
 * unit (kind, unit key) before it runs it, records its results only in a write
 * transaction where dd_lease_hold still finds the lease its own, and drops it when done.
 * A heartbeat thread (dd_lease_start) renews every lease of the instance every third of
 * the lease duration (svc->lease_ms), so the units of a killed instance become claimable
 * by the others once their leases expire, and never before. Times are the wall clock,
 * never the service's test clock: the instance's (dd_time_now_ms) on SQLite, the
 * database server's on PostgreSQL (the store computes them there).
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
/* Claims one unit of kind in one claim transaction (dd_db_begin_claim): pick(db, now_ms,
 * ud, unit, n) reads the candidates and writes the key of the one it chose into unit
 * (answering 1), or answers 0 (none) or a negative DD_E*; on PostgreSQL the store locks
 * the candidate rows it returns FOR UPDATE SKIP LOCKED, so instances claiming at once get
 * different units and none waits for another. The lease of that unit is then taken in the
 * same transaction, and kept only if wanted (may be NULL) answers 1 there, after the
 * lease is ours. Returns 1 when this instance holds the lease of unit now, 0 when there
 * was nothing to claim (or on an error, logged by the store), -1 when the chosen unit was
 * taken by another instance meanwhile (pick again). now_ms is the instance's clock (the
 * store uses the database server's on PostgreSQL for the leases themselves). */
int dd_lease_claim(struct dd_service *svc, struct dd_db *db, const char *kind,
		   int (*pick)(struct dd_db *db, int64_t now_ms, void *ud, char *unit, size_t n),
		   int (*wanted)(struct dd_db *db, void *ud), void *ud, char *unit, size_t n);
/* In the caller's write transaction: is the lease still this instance's? (also renews
 * it). 0 with *held, or DD_EIO. */
int dd_lease_hold(struct dd_service *svc, struct dd_db *db, const char *kind, const char *unit, bool *held) DD_MUST_CHECK;
/* Gives the lease up (its own transaction; a failure only leaves it to expire). */
void dd_lease_drop(struct dd_service *svc, struct dd_db *db, const char *kind, const char *unit);
/* Calls fn with the unit of every live lease of kind held by another instance. */
int dd_lease_others(struct dd_service *svc, struct dd_db *db, const char *kind,
		    int (*fn)(const char *unit, void *ud), void *ud) DD_MUST_CHECK;

#endif

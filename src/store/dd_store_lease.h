/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Leases of claimable background work, shared by every `serve` instance on one store
 * (table work_leases). A unit of work (kind "audit", "mitigation", ...; unit: the engine's
 * key, e.g. "<account_region>/<task>") is held by one owner (an instance id) until
 * expires_ms (epoch ms). A live lease is claimable only by its owner; an expired one by
 * anybody. An owner renews all its leases at once (its heartbeat), checks in the write
 * transaction that records a result that the lease is still its own (dd_store_lease_hold,
 * which also extends it and, on a server database, locks the row until commit, so a
 * concurrent steal waits and then finds the lease live), and releases it when done.
 * Functions run in the caller's transaction (a write or claim transaction for the
 * writes) and return 0 or DD_EIO.
 */
#ifndef DD_STORE_LEASE_H
#define DD_STORE_LEASE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dd/common.h"

struct dd_db;

/* Lease time: every function takes now_ms, the caller's wall clock, and durations.
 * SQLite uses now_ms (one machine); PostgreSQL ignores it and uses the database server's
 * clock (DD_DB_PG_NOW_MS), so servers on several machines agree on expiry whatever the
 * skew between their clocks. */

/* Takes the lease of (kind, unit) for owner for lease_ms from now when it is free, expired
 * (its expiry before now) or already owner's. *got tells whether owner holds it now. */
int dd_store_lease_acquire(struct dd_db *db, const char *kind, const char *unit, const char *owner, int64_t now_ms,
			   int64_t lease_ms, bool *got) DD_MUST_CHECK;
/* Who holds (kind, unit): *found, its owner into owner (n bytes) and *late_ms, how long
 * ago it expired (negative: still live). For the log line of a takeover. */
int dd_store_lease_peek(struct dd_db *db, const char *kind, const char *unit, int64_t now_ms, char *owner, size_t n,
			int64_t *late_ms, bool *found) DD_MUST_CHECK;
/* Is (kind, unit) still owner's? If so extends it to lease_ms from now. *held false means
 * the lease was taken by another owner (or purged after expiring): drop the result. */
int dd_store_lease_hold(struct dd_db *db, const char *kind, const char *unit, const char *owner, int64_t now_ms,
			int64_t lease_ms, bool *held) DD_MUST_CHECK;
/* The heartbeat: extends every lease of owner to lease_ms from now; *n (may be NULL)
 * counts them. Runs in a claim transaction (dd_db_begin_claim): on PostgreSQL, without the
 * writers' lock, and it skips a lease row another transaction holds locked at that moment
 * (FOR UPDATE SKIP LOCKED) instead of waiting: that is the owner's own write extending
 * (dd_store_lease_hold) or releasing it, or a claim that finds it live or takes it after
 * it expired; so no writer can hold the heartbeat up past the leases' expiry. A negative
 * lease_ms expires every lease of owner, waiting for locks (a stopping instance, in a
 * write transaction). */
int dd_store_lease_renew_owner(struct dd_db *db, const char *owner, int64_t now_ms, int64_t lease_ms,
			       int64_t *n) DD_MUST_CHECK;
/* Gives (kind, unit) up if owner holds it (else nothing). */
int dd_store_lease_release(struct dd_db *db, const char *kind, const char *unit, const char *owner) DD_MUST_CHECK;
typedef int (*dd_store_lease_fn)(const char *unit, const char *owner, int64_t expires_ms, void *ud);
/* The live leases (expiring now or later) of kind held by owners other than owner. A
 * non-zero return of fn stops the walk and is returned. */
int dd_store_lease_others(struct dd_db *db, const char *kind, const char *owner, int64_t now_ms, dd_store_lease_fn fn,
			  void *ud) DD_MUST_CHECK;
/* Deletes the leases that expired more than age_ms ago (their units are claimable anyway). */
int dd_store_lease_purge(struct dd_db *db, int64_t now_ms, int64_t age_ms) DD_MUST_CHECK;

#endif

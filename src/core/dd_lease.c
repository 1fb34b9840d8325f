/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The instance side of the work leases (dd/lease.h): the heartbeat, a one-thread
 * dd_workers pool that claims nothing and, each time it wakes (every third of the lease
 * duration), renews every lease of the instance in one statement and, once a minute,
 * purges leases expired for long; and the take / hold / drop calls the engines use. The
 * SQL is src/store/dd_store_lease.c. What would let another instance take over a unit
 * still running here is logged as a warning: a heartbeat that came too late, and on the
 * other side, the takeover of a lease that expired.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/dd_workers.h"
#include "dd/lease.h"
#include "dd/store.h"
#include "store/dd_store_lease.h"

struct dd_lease_keeper {
	struct dd_service *svc;
	struct dd_workers *pool;
	int64_t last_purge;
	int64_t last_renew; /* when the last heartbeat committed (0: none yet) */
};

static int hb_claim(struct dd_workers *w, void *ud, void **job)
{
	(void)w;
	(void)ud;
	(void)job;
	return 0;
}

static int hb_run(struct dd_workers *w, void *ud, void *job)
{
	(void)w;
	(void)ud;
	(void)job;
	return 0;
}

static void hb_idle(struct dd_workers *w, void *ud)
{
	(void)w;
	struct dd_lease_keeper *k = ud;
	struct dd_service *svc = k->svc;
	struct dd_db *db = dd_store_db(svc->store);
	int64_t asked = dd_time_now_ms();
	/* a claim transaction: on PostgreSQL no writer of any instance holds it up */
	if (!db || dd_db_begin_claim(db))
		return;
	int64_t now = dd_time_now_ms(), n = 0;
	if (dd_store_lease_renew_owner(db, svc->instance_id, now, svc->lease_ms, &n) || dd_db_commit(db)) {
		dd_db_rollback(db);
		dd_log_warn("lease: instance %s could not renew its leases", svc->instance_id);
		return;
	}
	int64_t done = dd_time_now_ms();
	if (now - k->last_purge > 60000 && dd_db_begin_write(db) == 0) {
		if (dd_store_lease_purge(db, now, 10 * svc->lease_ms + 60000) || dd_db_commit(db))
			dd_db_rollback(db);
		k->last_purge = now;
	}
	/* renewed every third of a lease: a gap of two thirds means another instance could
	 * have taken a unit still running here (the writers' lock or the CPU held it up) */
	if (k->last_renew && n && done - k->last_renew > 2 * svc->lease_ms / 3)
		dd_log_warn("lease: instance %s renewed its %lld lease(s) %lld ms after the previous renewal (leases of "
			    "%lld ms; %lld ms waiting for the store)", svc->instance_id, (long long)n,
			    (long long)(done - k->last_renew), (long long)svc->lease_ms, (long long)(now - asked));
	k->last_renew = done;
	if (n)
		dd_log_debug("lease: instance %s renewed %lld lease(s)", svc->instance_id, (long long)n);
}

int dd_lease_start(struct dd_service *svc)
{
	struct dd_lease_keeper *k = calloc(1, sizeof *k);
	if (!k)
		return DD_ENOMEM;
	k->svc = svc;
	int64_t every = svc->lease_ms / 3;
	const struct dd_workers_config cfg = {
		.name = "lease-heartbeat", .nthreads = 1, .idle_ms = every > 100 ? every : 100,
		.claim = hb_claim, .run = hb_run, .idle = hb_idle, .ud = k,
	};
	int rc = dd_workers_start(&cfg, &k->pool);
	if (rc) {
		free(k);
		return rc;
	}
	svc->lease_keeper = k;
	dd_log_info("lease: instance %s, leases of %lld ms", svc->instance_id, (long long)svc->lease_ms);
	return 0;
}

void dd_lease_stop(struct dd_service *svc)
{
	if (!svc->lease_keeper)
		return;
	dd_workers_stop(svc->lease_keeper->pool);
	free(svc->lease_keeper);
	svc->lease_keeper = NULL;
	struct dd_db *db = dd_store_db(svc->store);
	if (!db || dd_db_begin_write(db))
		return;
	/* expiring now hands the units to the other instances at once */
	if (dd_store_lease_renew_owner(db, svc->instance_id, dd_time_now_ms(), -1, NULL) || dd_db_commit(db))
		dd_db_rollback(db);
}

int dd_lease_claim(struct dd_service *svc, struct dd_db *db, const char *kind,
		   int (*pick)(struct dd_db *db, int64_t now_ms, void *ud, char *unit, size_t n),
		   int (*wanted)(struct dd_db *db, void *ud), void *ud, char *unit, size_t n)
{
	if (dd_db_begin_claim(db))
		return 0;
	int64_t now = dd_time_now_ms();
	int picked = pick(db, now, ud, unit, n);
	if (picked != 1) {
		dd_db_rollback(db);
		return 0;
	}
	bool got = false, was = false;
	char owner[64];
	int64_t late = 0;
	if (dd_store_lease_peek(db, kind, unit, now, owner, sizeof owner, &late, &was) ||
	    dd_store_lease_acquire(db, kind, unit, svc->instance_id, now, svc->lease_ms, &got) || !got ||
	    (wanted && wanted(db, ud) != 1) || dd_db_commit(db)) {
		/* the acquisition is undone with the rest */
		dd_db_rollback(db);
		return -1;
	}
	if (was && strcmp(owner, svc->instance_id) != 0)
		dd_log_warn("lease: instance %s took over %s %s from instance %s, whose lease expired %lld ms before", svc->instance_id,
			    kind, unit, owner, (long long)late);
	return 1;
}

int dd_lease_hold(struct dd_service *svc, struct dd_db *db, const char *kind, const char *unit, bool *held)
{
	return dd_store_lease_hold(db, kind, unit, svc->instance_id, dd_time_now_ms(), svc->lease_ms, held);
}

void dd_lease_drop(struct dd_service *svc, struct dd_db *db, const char *kind, const char *unit)
{
	if (dd_db_begin_write(db))
		return;
	if (dd_store_lease_release(db, kind, unit, svc->instance_id) || dd_db_commit(db))
		dd_db_rollback(db);
}

struct others {
	int (*fn)(const char *unit, void *ud);
	void *ud;
};

static int others_visit(const char *unit, const char *owner, int64_t expires_ms, void *ud)
{
	(void)owner;
	(void)expires_ms;
	struct others *o = ud;
	return o->fn(unit, o->ud);
}

int dd_lease_others(struct dd_service *svc, struct dd_db *db, const char *kind, int (*fn)(const char *unit, void *ud),
		    void *ud)
{
	struct others o = { fn, ud };
	return dd_store_lease_others(db, kind, svc->instance_id, dd_time_now_ms(), others_visit, &o);
}

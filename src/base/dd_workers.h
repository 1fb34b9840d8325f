/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The one worker pool every background engine uses: N threads that each, in a loop,
 * claim one unit of work through the engine's claim function, run it, hand it back with
 * release, and when nothing is claimable sleep until dd_workers_wake or the idle timeout.
 * The engine says what to run, never how to wait. Claim and release calls are serialized
 * by the pool (one at a time, under its claim lock), so a claim function may keep an
 * in-memory "claimed" set or per-account counts without a lock of its own; run calls
 * happen concurrently and without that lock. After every release the idle workers are
 * woken, so a worker that found nothing claimable only because of a per-account cap
 * goes on. Resumption after a crash is the claim function's affair: work is kept in the
 * store in states a claim function can take again (rows left IN_PROGRESS or INFLIGHT),
 * and the optional recover callback runs once in dd_workers_start, before any thread,
 * to put such rows back. dd_workers_stop sets the stop flag (and the cancel flag that
 * outbound transfers watch), wakes every thread and joins them: a run in progress is
 * expected to look at dd_workers_stopping and return early, leaving its unit claimable
 * for the next start. Plain C and pthreads; no store, no JSON.
 */
#ifndef DD_WORKERS_H
#define DD_WORKERS_H

#include <stdbool.h>
#include <stdint.h>

#include "dd/common.h"

struct dd_workers;

/* Claims one unit of work into *job. Returns 1 (claimed), 0 (nothing claimable now) or a
 * negative DD_E* (logged by the pool; the worker then sleeps as for 0). Serialized with
 * every other claim and release of the same pool. */
typedef int (*dd_workers_claim_fn)(struct dd_workers *w, void *ud, void **job);
/* Runs a claimed unit. Returns 0 or a negative DD_E* (logged; passed on to release). Should
 * return early when dd_workers_stopping(w) becomes true. */
typedef int (*dd_workers_run_fn)(struct dd_workers *w, void *ud, void *job);
/* Gives back a unit after its run (rc: run's result): forget it in the claimed set, free
 * it. Serialized like claim. May be NULL. */
typedef void (*dd_workers_release_fn)(struct dd_workers *w, void *ud, void *job, int rc);
/* Called by a worker that found nothing to claim, before it sleeps (upkeep such as
 * purging old rows; rate-limit it yourself). Not serialized. May be NULL. */
typedef void (*dd_workers_idle_fn)(struct dd_workers *w, void *ud);
/* Called once by dd_workers_start before any thread starts: make the work left by a
 * crashed or stopped process claimable again. A negative DD_E* aborts the start. May be
 * NULL. */
typedef int (*dd_workers_recover_fn)(void *ud);

#define DD_WORKERS_MAX 64

struct dd_workers_config {
	const char *name;           /* for log lines, e.g. "mitigation" */
	int nthreads;               /* 0..DD_WORKERS_MAX; 0 starts no thread (work is only queued) */
	int64_t idle_ms;            /* longest sleep when nothing was claimable; <= 0: 5000 */
	dd_workers_claim_fn claim;  /* required */
	dd_workers_run_fn run;      /* required */
	dd_workers_release_fn release;
	dd_workers_idle_fn idle;
	dd_workers_recover_fn recover;
	void *ud;                   /* passed to every callback */
};

/* Runs cfg->recover, then starts cfg->nthreads threads. *out is the pool (also for
 * nthreads 0); it is set only when this returns, after the threads may have begun, so
 * callbacks use their w argument, never a copy of *out. Returns 0, DD_EINVAL (a required callback missing, nthreads out of
 * range), DD_ENOMEM (no thread could be started; the threads started are stopped), or
 * recover's error. */
int dd_workers_start(const struct dd_workers_config *cfg, struct dd_workers **out) DD_MUST_CHECK;
/* Wakes every sleeping worker: new work may be claimable. Safe from any thread; w may be
 * NULL (no-op). */
void dd_workers_wake(struct dd_workers *w);
/* True once dd_workers_stop began. */
bool dd_workers_stopping(const struct dd_workers *w);
/* A flag that turns non-zero when dd_workers_stop begins, for transfers that can be
 * aborted (dd_fetch_req.cancel). Valid until dd_workers_stop returns. */
const volatile int *dd_workers_cancel_flag(const struct dd_workers *w);
/* The number of threads running. */
int dd_workers_count(const struct dd_workers *w);
/* Units claimed and released since start (for tests and logs). */
uint64_t dd_workers_completed(const struct dd_workers *w);
/* Stops and joins every thread (a run in progress finishes or returns early), then frees
 * the pool. w may be NULL. */
void dd_workers_stop(struct dd_workers *w);

#endif

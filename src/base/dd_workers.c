/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The worker pool of dd_workers.h: each thread loops claim -> run -> release, and sleeps
 * on a condition variable with a wake counter when nothing is claimable, so a wake that
 * arrives between a failed claim and the sleep is never lost. One mutex (mu) protects
 * the stop flag and the wake counter; another (claim_mu) serializes the engine's claim
 * and release callbacks. Threads are joined by dd_workers_stop, which frees the pool.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/dd_workers.h"

struct dd_workers {
	struct dd_workers_config cfg;
	char name[48];
	pthread_mutex_t mu;         /* stop, wakes */
	pthread_cond_t cv;
	pthread_mutex_t claim_mu;   /* serializes claim and release */
	bool stop;
	volatile int cancel;        /* set at stop, read by transfers */
	uint64_t wakes;
	uint64_t completed;         /* under claim_mu */
	pthread_t threads[DD_WORKERS_MAX];
	int nthreads;
};

static bool stopping_locked(struct dd_workers *w)
{
	pthread_mutex_lock(&w->mu);
	bool s = w->stop;
	pthread_mutex_unlock(&w->mu);
	return s;
}

bool dd_workers_stopping(const struct dd_workers *w)
{
	return w ? stopping_locked((struct dd_workers *)w) : true;
}

const volatile int *dd_workers_cancel_flag(const struct dd_workers *w)
{
	return &w->cancel;
}

int dd_workers_count(const struct dd_workers *w)
{
	return w ? w->nthreads : 0;
}

uint64_t dd_workers_completed(const struct dd_workers *w)
{
	struct dd_workers *m = (struct dd_workers *)w;
	pthread_mutex_lock(&m->claim_mu);
	uint64_t n = m->completed;
	pthread_mutex_unlock(&m->claim_mu);
	return n;
}

void dd_workers_wake(struct dd_workers *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->mu);
	w->wakes++;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

/* Sleeps until woken after *seen, stopped, or idle_ms passed; *seen becomes the current
 * wake count. */
static void sleep_until_woken(struct dd_workers *w, uint64_t *seen)
{
	pthread_mutex_lock(&w->mu);
	if (!w->stop && w->wakes == *seen) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		int64_t ns = ts.tv_nsec + (w->cfg.idle_ms % 1000) * 1000000;
		ts.tv_sec += (time_t)(w->cfg.idle_ms / 1000 + ns / 1000000000);
		ts.tv_nsec = (long)(ns % 1000000000);
		int rc = 0;
		while (!w->stop && w->wakes == *seen && rc != ETIMEDOUT)
			rc = pthread_cond_timedwait(&w->cv, &w->mu, &ts);
	}
	*seen = w->wakes;
	pthread_mutex_unlock(&w->mu);
}

static void *worker(void *arg)
{
	struct dd_workers *w = arg;
	pthread_mutex_lock(&w->mu);
	uint64_t seen = w->wakes;
	pthread_mutex_unlock(&w->mu);
	while (!stopping_locked(w)) {
		/* read the wake count before claiming: a wake during the claim is not lost */
		pthread_mutex_lock(&w->mu);
		seen = w->wakes;
		pthread_mutex_unlock(&w->mu);
		void *job = NULL;
		pthread_mutex_lock(&w->claim_mu);
		int rc = w->cfg.claim(w, w->cfg.ud, &job);
		pthread_mutex_unlock(&w->claim_mu);
		if (rc == 1) {
			int rrc = w->cfg.run(w, w->cfg.ud, job);
			if (rrc < 0)
				dd_log_warn("%s: a unit of work failed: %s", w->name, dd_strerror(rrc));
			pthread_mutex_lock(&w->claim_mu);
			if (w->cfg.release)
				w->cfg.release(w, w->cfg.ud, job, rrc);
			w->completed++;
			pthread_mutex_unlock(&w->claim_mu);
			/* a worker idle only because of a cap on claims may go on now */
			dd_workers_wake(w);
			continue;
		}
		if (rc < 0)
			dd_log_warn("%s: could not claim work: %s", w->name, dd_strerror(rc));
		if (w->cfg.idle)
			w->cfg.idle(w, w->cfg.ud);
		sleep_until_woken(w, &seen);
	}
	return NULL;
}

static void pool_free(struct dd_workers *w)
{
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mu);
	pthread_mutex_destroy(&w->claim_mu);
	free(w);
}

static void join_all(struct dd_workers *w)
{
	pthread_mutex_lock(&w->mu);
	w->stop = true;
	w->cancel = 1;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
	for (int i = 0; i < w->nthreads; i++)
		pthread_join(w->threads[i], NULL);
	w->nthreads = 0;
}

int dd_workers_start(const struct dd_workers_config *cfg, struct dd_workers **out)
{
	*out = NULL;
	if (!cfg || !cfg->claim || !cfg->run || cfg->nthreads < 0 || cfg->nthreads > DD_WORKERS_MAX)
		return DD_EINVAL;
	if (cfg->recover) {
		int rc = cfg->recover(cfg->ud);
		if (rc)
			return rc;
	}
	struct dd_workers *w = calloc(1, sizeof *w);
	if (!w)
		return DD_ENOMEM;
	w->cfg = *cfg;
	if (w->cfg.idle_ms <= 0)
		w->cfg.idle_ms = 5000;
	snprintf(w->name, sizeof w->name, "%s", cfg->name ? cfg->name : "workers");
	w->cfg.name = w->name;
	pthread_mutex_init(&w->mu, NULL);
	pthread_mutex_init(&w->claim_mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	for (int i = 0; i < cfg->nthreads; i++) {
		if (pthread_create(&w->threads[i], NULL, worker, w) != 0) {
			dd_log_error("%s: cannot start worker thread %d of %d", w->name, i + 1, cfg->nthreads);
			break;
		}
		w->nthreads++;
	}
	if (w->nthreads < cfg->nthreads) {
		join_all(w);
		pool_free(w);
		return DD_ENOMEM;
	}
	*out = w;
	return 0;
}

void dd_workers_stop(struct dd_workers *w)
{
	if (!w)
		return;
	join_all(w);
	pool_free(w);
}

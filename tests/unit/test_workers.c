/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the worker pool (src/base/dd_workers.c), against a small in-memory
 * "table" of jobs with the states a store would keep (PENDING, IN_PROGRESS, DONE):
 * every job is claimed and run exactly once by several threads; claim and release are
 * never called concurrently; a wake makes an idle pool claim at once, long before its
 * idle timeout, and without a wake the timeout alone finds new work; a run that fails
 * or is cut short by dd_workers_stop leaves its job IN_PROGRESS, not re-claimed by the
 * same pool, and the next pool's recover callback makes it claimable again, so it runs
 * to the end (resume); a pool of 0 threads runs nothing; a bad configuration is refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/dd_workers.h"

enum { PENDING, IN_PROGRESS, DONE };

#define NJOBS 200

struct table {
	pthread_mutex_t mu;
	int state[NJOBS];
	int runs[NJOBS];
	int njobs;              /* jobs 0..njobs-1 exist */
	int in_claim;           /* claim/release calls in progress (must stay <= 1) */
	int max_in_claim;
	int releases, release_errors;
	int fail_job;           /* run of this job returns DD_EIO once (-1: none) */
	int block_job;          /* run of this job waits for the pool's stop (-1: none) */
	int blocked;            /* block_job's run has started */
	int saw_cancel;         /* the blocked run saw the cancel flag */
};

static void table_init(struct table *t, int njobs)
{
	memset(t, 0, sizeof *t);
	pthread_mutex_init(&t->mu, NULL);
	t->njobs = njobs;
	t->fail_job = -1;
	t->block_job = -1;
}

static int claim(struct dd_workers *w, void *ud, void **job)
{
	(void)w;
	struct table *t = ud;
	pthread_mutex_lock(&t->mu);
	if (++t->in_claim > t->max_in_claim)
		t->max_in_claim = t->in_claim;
	pthread_mutex_unlock(&t->mu);
	usleep(100); /* widen the window in which a concurrent claim would be seen */
	int rc = 0;
	pthread_mutex_lock(&t->mu);
	for (int i = 0; i < t->njobs; i++)
		if (t->state[i] == PENDING) {
			t->state[i] = IN_PROGRESS;
			*job = (void *)(intptr_t)(i + 1);
			rc = 1;
			break;
		}
	t->in_claim--;
	pthread_mutex_unlock(&t->mu);
	return rc;
}

static int run(struct dd_workers *w, void *ud, void *job)
{
	struct table *t = ud;
	int i = (int)(intptr_t)job - 1;
	pthread_mutex_lock(&t->mu);
	t->runs[i]++;
	bool fail = i == t->fail_job, block = i == t->block_job;
	if (fail)
		t->fail_job = -1;
	if (block)
		t->blocked = 1;
	pthread_mutex_unlock(&t->mu);
	if (fail)
		return DD_EIO; /* "crashed": the job stays IN_PROGRESS */
	if (block) {
		while (!dd_workers_stopping(w))
			usleep(1000);
		pthread_mutex_lock(&t->mu);
		t->saw_cancel = *dd_workers_cancel_flag(w) != 0;
		pthread_mutex_unlock(&t->mu);
		return DD_EIO; /* cut short by the stop: left IN_PROGRESS */
	}
	pthread_mutex_lock(&t->mu);
	t->state[i] = DONE;
	pthread_mutex_unlock(&t->mu);
	return 0;
}

static void release(struct dd_workers *w, void *ud, void *job, int rc)
{
	(void)w;
	(void)job;
	struct table *t = ud;
	pthread_mutex_lock(&t->mu);
	if (++t->in_claim > t->max_in_claim)
		t->max_in_claim = t->in_claim;
	t->releases++;
	if (rc)
		t->release_errors++;
	t->in_claim--;
	pthread_mutex_unlock(&t->mu);
}

/* A crashed process left IN_PROGRESS rows: they become PENDING again. */
static int recover(void *ud)
{
	struct table *t = ud;
	pthread_mutex_lock(&t->mu);
	for (int i = 0; i < t->njobs; i++)
		if (t->state[i] == IN_PROGRESS)
			t->state[i] = PENDING;
	pthread_mutex_unlock(&t->mu);
	return 0;
}

static int count(struct table *t, int state)
{
	pthread_mutex_lock(&t->mu);
	int n = 0;
	for (int i = 0; i < t->njobs; i++)
		n += t->state[i] == state;
	pthread_mutex_unlock(&t->mu);
	return n;
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits up to ms for n jobs in state; returns the time it took or -1. */
static int64_t wait_for(struct table *t, int state, int n, int64_t ms)
{
	int64_t t0 = now_ms();
	while (now_ms() - t0 < ms) {
		if (count(t, state) == n)
			return now_ms() - t0;
		usleep(1000);
	}
	return -1;
}

static struct dd_workers_config config(struct table *t, int nthreads, int64_t idle_ms)
{
	return (struct dd_workers_config){ .name = "test", .nthreads = nthreads, .idle_ms = idle_ms, .claim = claim,
					   .run = run, .release = release, .recover = recover, .ud = t };
}

static void test_claim_run_all_once(void **state)
{
	(void)state;
	struct table t;
	table_init(&t, NJOBS);
	struct dd_workers_config cfg = config(&t, 4, 60000);
	struct dd_workers *w;
	assert_int_equal(dd_workers_start(&cfg, &w), 0);
	assert_int_equal(dd_workers_count(w), 4);
	assert_true(wait_for(&t, DONE, NJOBS, 20000) >= 0);
	dd_workers_stop(w);
	for (int i = 0; i < NJOBS; i++)
		assert_int_equal(t.runs[i], 1);
	assert_int_equal(t.releases, NJOBS);
	assert_int_equal(t.release_errors, 0);
	assert_int_equal(t.max_in_claim, 1); /* claim and release serialized */
}

static void test_wake_and_idle_timeout(void **state)
{
	(void)state;
	struct table t;
	table_init(&t, 0);
	/* idle 60 s: only a wake can make the pool see the new job quickly */
	struct dd_workers_config cfg = config(&t, 2, 60000);
	struct dd_workers *w;
	assert_int_equal(dd_workers_start(&cfg, &w), 0);
	usleep(50000); /* both workers asleep */
	pthread_mutex_lock(&t.mu);
	t.njobs = 1;
	pthread_mutex_unlock(&t.mu);
	dd_workers_wake(w);
	int64_t took = wait_for(&t, DONE, 1, 5000);
	assert_true(took >= 0 && took < 2000);
	assert_false(dd_workers_stopping(w));
	assert_int_equal(dd_workers_completed(w), 1);
	dd_workers_stop(w);
	dd_workers_wake(NULL); /* no-op */

	/* idle 100 ms and no wake: the timeout alone finds the job */
	table_init(&t, 0);
	cfg = config(&t, 1, 100);
	assert_int_equal(dd_workers_start(&cfg, &w), 0);
	usleep(20000);
	pthread_mutex_lock(&t.mu);
	t.njobs = 1;
	pthread_mutex_unlock(&t.mu);
	assert_true(wait_for(&t, DONE, 1, 5000) >= 0);
	dd_workers_stop(w);
}

static void test_failed_run_resumed_at_next_start(void **state)
{
	(void)state;
	struct table t;
	table_init(&t, 10);
	t.fail_job = 3;
	struct dd_workers_config cfg = config(&t, 2, 50);
	struct dd_workers *w;
	assert_int_equal(dd_workers_start(&cfg, &w), 0);
	assert_true(wait_for(&t, DONE, 9, 5000) >= 0);
	usleep(200000); /* several idle rounds: the failed job is not claimed again */
	assert_int_equal(t.state[3], IN_PROGRESS);
	assert_int_equal(t.runs[3], 1);
	assert_int_equal(t.release_errors, 1);
	dd_workers_stop(w);
	/* the next start (a restarted process) resumes it */
	assert_int_equal(dd_workers_start(&cfg, &w), 0);
	assert_true(wait_for(&t, DONE, 10, 5000) >= 0);
	dd_workers_stop(w);
	assert_int_equal(t.runs[3], 2);
	for (int i = 0; i < 10; i++)
		if (i != 3)
			assert_int_equal(t.runs[i], 1);
}

static void test_stop_mid_run_then_resume(void **state)
{
	(void)state;
	struct table t;
	table_init(&t, 5);
	t.block_job = 0;
	struct dd_workers_config cfg = config(&t, 2, 50);
	struct dd_workers *w;
	assert_int_equal(dd_workers_start(&cfg, &w), 0);
	assert_true(wait_for(&t, DONE, 4, 5000) >= 0);
	pthread_mutex_lock(&t.mu);
	int blocked = t.blocked;
	pthread_mutex_unlock(&t.mu);
	assert_true(blocked);
	int64_t t0 = now_ms();
	dd_workers_stop(w); /* returns once the blocked run saw the stop */
	assert_true(now_ms() - t0 < 2000);
	assert_true(t.saw_cancel);
	assert_int_equal(t.state[0], IN_PROGRESS);
	t.block_job = -1;
	assert_int_equal(dd_workers_start(&cfg, &w), 0);
	assert_true(wait_for(&t, DONE, 5, 5000) >= 0);
	dd_workers_stop(w);
	assert_int_equal(t.runs[0], 2);
}

static void test_zero_threads_and_bad_config(void **state)
{
	(void)state;
	struct table t;
	table_init(&t, 3);
	struct dd_workers_config cfg = config(&t, 0, 50);
	struct dd_workers *w;
	assert_int_equal(dd_workers_start(&cfg, &w), 0);
	assert_int_equal(dd_workers_count(w), 0);
	dd_workers_wake(w);
	usleep(100000);
	assert_int_equal(count(&t, PENDING), 3);
	dd_workers_stop(w);
	dd_workers_stop(NULL);

	cfg.claim = NULL;
	assert_int_equal(dd_workers_start(&cfg, &w), DD_EINVAL);
	assert_null(w);
	cfg = config(&t, DD_WORKERS_MAX + 1, 50);
	assert_int_equal(dd_workers_start(&cfg, &w), DD_EINVAL);
	cfg = config(&t, -1, 50);
	assert_int_equal(dd_workers_start(&cfg, &w), DD_EINVAL);
}

static int failing_recover(void *ud)
{
	(void)ud;
	return DD_EIO;
}

static void test_recover_error_aborts_start(void **state)
{
	(void)state;
	struct table t;
	table_init(&t, 1);
	struct dd_workers_config cfg = config(&t, 2, 50);
	cfg.recover = failing_recover;
	struct dd_workers *w;
	assert_int_equal(dd_workers_start(&cfg, &w), DD_EIO);
	assert_null(w);
	assert_int_equal(t.runs[0], 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_claim_run_all_once),
		cmocka_unit_test(test_wake_and_idle_timeout),
		cmocka_unit_test(test_failed_run_resumed_at_next_start),
		cmocka_unit_test(test_stop_mid_run_then_resume),
		cmocka_unit_test(test_zero_threads_and_bad_config),
		cmocka_unit_test(test_recover_error_aborts_start),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the work leases between instances on one store (store/dd_store_lease.h)
 * and of the leased SNS outbox rows (store/dd_store_outbox.h), on a fresh store: a lease
 * is taken once while live, re-taken by its owner, stolen only after it expired; a result
 * recorded after the lease was lost is refused (hold fails); the heartbeat renews only
 * its owner's leases; release and purge; an outbox row in flight under a live lease is
 * neither claimed nor requeued, one whose lease expired is claimed by another instance,
 * and the first instance's outcome is then refused; a notification queued twice with one
 * delivery key is one row; the mitigation engine's claimable tasks leave out those under a
 * live lease, oldest first, at most the limit; on SQLite a picked audit unit is always
 * "locked" (one writer: the lease decides).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "dd/store.h"
#include "store/dd_store_audit.h"
#include "store/dd_store_lease.h"
#include "store/dd_store_mitigation.h"
#include "store/dd_store_outbox.h"
#include "store/dd_store_sns.h"

struct fx {
	char dir[64];
	struct dd_store *store;
	struct dd_db *db;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	snprintf(f->dir, sizeof f->dir, "/tmp/ddunit-lease-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	assert_int_equal(dd_store_open(f->dir, &f->store), 0);
	f->db = dd_store_db(f->store);
	assert_non_null(f->db);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	dd_store_close(f->store);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static void begin(struct fx *f)
{
	assert_int_equal(dd_db_begin_write(f->db), 0);
}

static void commit(struct fx *f)
{
	assert_int_equal(dd_db_commit(f->db), 0);
}

static bool acquire(struct fx *f, const char *unit, const char *owner, int64_t now, int64_t until)
{
	bool got = true;
	begin(f);
	assert_int_equal(dd_store_lease_acquire(f->db, "audit", unit, owner, now, until - now, &got), 0);
	commit(f);
	return got;
}

static bool hold(struct fx *f, const char *unit, const char *owner, int64_t until)
{
	bool held = true;
	begin(f);
	assert_int_equal(dd_store_lease_hold(f->db, "audit", unit, owner, 0, until, &held), 0);
	commit(f);
	return held;
}

struct seen {
	int n;
	char unit[64], owner[64];
	int64_t expires;
};

static int seen_fn(const char *unit, const char *owner, int64_t expires_ms, void *ud)
{
	struct seen *s = ud;
	s->n++;
	snprintf(s->unit, sizeof s->unit, "%s", unit);
	snprintf(s->owner, sizeof s->owner, "%s", owner);
	s->expires = expires_ms;
	return 0;
}

static void test_claim_expire_steal(void **state)
{
	struct fx *f = *state;
	/* a claims; b cannot while the lease is live (even at its last millisecond) */
	assert_true(acquire(f, "ar/t1", "a", 1000, 2000));
	assert_false(acquire(f, "ar/t1", "b", 1500, 2500));
	assert_false(acquire(f, "ar/t1", "b", 2000, 3000));
	/* its owner takes it again (and extends it) */
	assert_true(acquire(f, "ar/t1", "a", 1900, 2900));
	assert_false(acquire(f, "ar/t1", "b", 2500, 3500));
	/* another unit is independent; the same unit of another kind too */
	assert_true(acquire(f, "ar/t2", "b", 1000, 2000));
	bool got = false;
	begin(f);
	assert_int_equal(dd_store_lease_acquire(f->db, "mitigation", "ar/t1", "b", 1000, 1000, &got), 0);
	commit(f);
	assert_true(got);
	/* b sees a's live lease as another's; a sees b's */
	struct seen s = { 0 };
	assert_int_equal(dd_store_lease_others(f->db, "audit", "b", 2800, seen_fn, &s), 0);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.unit, "ar/t1");
	assert_string_equal(s.owner, "a");
	assert_int_equal(s.expires, 2900);
	memset(&s, 0, sizeof s);
	assert_int_equal(dd_store_lease_others(f->db, "audit", "b", 2901, seen_fn, &s), 0);
	assert_int_equal(s.n, 0); /* expired: nobody's */
	/* expired: b steals it */
	assert_true(acquire(f, "ar/t1", "b", 2901, 3901));
	memset(&s, 0, sizeof s);
	assert_int_equal(dd_store_lease_others(f->db, "audit", "a", 3000, seen_fn, &s), 0);
	assert_int_equal(s.n, 1); /* b's t2 expired at 2000 */
	assert_string_equal(s.unit, "ar/t1");
	assert_string_equal(s.owner, "b");
}

static void test_finish_after_lost_lease_refused(void **state)
{
	struct fx *f = *state;
	assert_true(acquire(f, "ar/t1", "a", 1000, 2000));
	/* while held, a's finish holds (and renews) it */
	assert_true(hold(f, "ar/t1", "a", 2500));
	assert_false(acquire(f, "ar/t1", "b", 2400, 3400));
	/* a stalls past its lease; b takes over; a's finish is refused, b's is not */
	assert_true(acquire(f, "ar/t1", "b", 2501, 3501));
	assert_false(hold(f, "ar/t1", "a", 4000));
	assert_true(hold(f, "ar/t1", "b", 4000));
	/* a's release does not free b's lease */
	begin(f);
	assert_int_equal(dd_store_lease_release(f->db, "audit", "ar/t1", "a"), 0);
	commit(f);
	assert_false(acquire(f, "ar/t1", "c", 3000, 4000));
	begin(f);
	assert_int_equal(dd_store_lease_release(f->db, "audit", "ar/t1", "b"), 0);
	commit(f);
	/* released: anyone, at once */
	assert_true(acquire(f, "ar/t1", "c", 3000, 4000));
	/* a unit never leased cannot be held */
	assert_false(hold(f, "ar/none", "a", 4000));
}

static void test_heartbeat_and_purge(void **state)
{
	struct fx *f = *state;
	assert_true(acquire(f, "ar/t1", "a", 1000, 2000));
	assert_true(acquire(f, "ar/t2", "a", 1000, 2000));
	assert_true(acquire(f, "ar/t3", "b", 1000, 2000));
	int64_t n = 0;
	begin(f);
	assert_int_equal(dd_store_lease_renew_owner(f->db, "a", 0, 5000, &n), 0);
	commit(f);
	assert_int_equal(n, 2);
	/* a's are live at 4000, b's expired */
	assert_false(acquire(f, "ar/t1", "c", 4000, 6000));
	assert_false(acquire(f, "ar/t2", "c", 4000, 6000));
	struct seen s = { 0 };
	assert_int_equal(dd_store_lease_others(f->db, "audit", "a", 4000, seen_fn, &s), 0);
	assert_int_equal(s.n, 0);
	/* purge: only leases expired before the cut */
	begin(f);
	assert_int_equal(dd_store_lease_purge(f->db, 3000, 0), 0);
	commit(f);
	memset(&s, 0, sizeof s);
	assert_int_equal(dd_store_lease_others(f->db, "audit", "z", 0, seen_fn, &s), 0);
	assert_int_equal(s.n, 2);
	/* a stopping instance expires its leases (renew to 0): claimable at once */
	begin(f);
	assert_int_equal(dd_store_lease_renew_owner(f->db, "a", 0, 0, &n), 0);
	commit(f);
	assert_true(acquire(f, "ar/t1", "c", 10, 6000));
}

static void outbox_row(struct fx *f, const char *mid, const char *key, int64_t now)
{
	struct dd_store_sns_outbox_row r = {
		.account = "111111111111", .topic_arn = "arn:aws:sns:us-east-1:111111111111:t",
		.subscription_arn = "arn:aws:sns:us-east-1:111111111111:t:s1", .message_id = mid, .type = "Notification",
		.protocol = "https", .endpoint = "https://example.invalid/", .body = "body", .status = "PENDING",
		.now_ms = now, .delivery_key = key,
	};
	begin(f);
	assert_int_equal(dd_store_sns_outbox_insert(f->db, &r), 0);
	commit(f);
}

static void test_outbox_lease(void **state)
{
	struct fx *f = *state;
	outbox_row(f, "m1", "audit/t1", 10);
	outbox_row(f, "m1-again", "audit/t1", 20); /* the same notification queued twice: one row */
	outbox_row(f, "m2", NULL, 30);
	outbox_row(f, "m3", NULL, 30);            /* no key: every publish is its own message */
	struct dd_store_outbox_counts c;
	assert_int_equal(dd_store_outbox_counts(f->db, &c), 0);
	assert_int_equal(c.pending, 3);

	struct dd_store_outbox_row r1, r2, r3;
	assert_int_equal(dd_store_outbox_claim(f->db, 100, 1, "a", 400, &r1), 1);
	assert_string_equal(r1.message_id, "m1");
	/* the per-account cap counts a's live lease: b gets nothing now */
	assert_int_equal(dd_store_outbox_claim(f->db, 200, 1, "b", 500, &r2), 0);
	/* b starts: a's delivery is live, so it stays in flight */
	int64_t rq = -1;
	assert_int_equal(dd_store_outbox_requeue_inflight(f->db, 300, &rq), 0);
	assert_int_equal(rq, 0);
	/* a dies; after its lease b claims the row again (its second attempt) */
	assert_int_equal(dd_store_outbox_claim(f->db, 501, 1, "b", 399, &r2), 1);
	assert_string_equal(r2.message_id, "m1");
	assert_int_equal(r2.attempts, 2);
	/* a's late outcome is refused; b's is recorded */
	assert_int_equal(dd_store_outbox_complete(f->db, r1.id, "a", 600), DD_ENOTFOUND);
	assert_int_equal(dd_store_outbox_complete(f->db, r2.id, "b", 600), 0);
	assert_int_equal(dd_store_outbox_claim(f->db, 601, 1, "a", 399, &r3), 1);
	assert_string_equal(r3.message_id, "m2");
	assert_int_equal(dd_store_outbox_counts(f->db, &c), 0);
	assert_int_equal(c.delivered, 1);
	assert_int_equal(c.inflight, 1);
	assert_int_equal(c.pending, 1);
	/* a stops: its row in flight is due again at once; b's is not touched */
	int64_t rel = -1;
	assert_int_equal(dd_store_outbox_release_owner(f->db, "b", 700, &rel), 0);
	assert_int_equal(rel, 0);
	assert_int_equal(dd_store_outbox_release_owner(f->db, "a", 700, &rel), 0);
	assert_int_equal(rel, 1);
	assert_int_equal(dd_store_outbox_complete(f->db, r3.id, "a", 710), DD_ENOTFOUND);
	assert_int_equal(dd_store_outbox_counts(f->db, &c), 0);
	assert_int_equal(c.inflight, 0);
	assert_int_equal(c.pending, 2);
	dd_store_outbox_row_clear(&r1);
	dd_store_outbox_row_clear(&r2);
	dd_store_outbox_row_clear(&r3);
}

static int collect_ids(const char *account_region, const char *task_id, void *ud)
{
	(void)account_region;
	char *out = ud;
	strcat(out, task_id);
	strcat(out, ",");
	return 0;
}

static void test_claimable_tasks(void **state)
{
	struct fx *f = *state;
	const char *ids[] = { "mt-b", "mt-a", "mt-c" };
	const int64_t starts[] = { 200, 200, 100 };
	for (int i = 0; i < 3; i++) {
		struct dd_store_mitigation_task t = { .client_token = "tok", .request_hash = "h", .target = "{}",
						      .mapping = "{}", .actions = "[]", .start_ms = starts[i] };
		begin(f);
		assert_int_equal(dd_store_mitigation_task_insert(f->db, "111111111111/us-east-1", ids[i], &t), 0);
		commit(f);
	}
	char got[128] = "";
	assert_int_equal(dd_store_mitigation_task_claimable(f->db, 1000, 10, collect_ids, got), 0);
	assert_string_equal(got, "mt-c,mt-a,mt-b,"); /* oldest first, then by id */
	/* a live lease hides its task; an expired one or another kind's does not */
	bool g = false;
	begin(f);
	assert_int_equal(dd_store_lease_acquire(f->db, "mitigation", "111111111111/us-east-1/mt-a", "x", 1000, 500, &g), 0);
	assert_int_equal(dd_store_lease_acquire(f->db, "mitigation", "111111111111/us-east-1/mt-c", "x", 0, 999, &g), 0);
	assert_int_equal(dd_store_lease_acquire(f->db, "audit", "111111111111/us-east-1/mt-b", "x", 1000, 500, &g), 0);
	commit(f);
	got[0] = 0;
	assert_int_equal(dd_store_mitigation_task_claimable(f->db, 1000, 10, collect_ids, got), 0);
	assert_string_equal(got, "mt-c,mt-b,");
	got[0] = 0;
	assert_int_equal(dd_store_mitigation_task_claimable(f->db, 1000, 1, collect_ids, got), 0);
	assert_string_equal(got, "mt-c,");
	/* at 1501 a's lease expired too */
	got[0] = 0;
	assert_int_equal(dd_store_mitigation_task_claimable(f->db, 1501, 10, collect_ids, got), 0);
	assert_string_equal(got, "mt-c,mt-a,mt-b,");
	/* a finished task is not claimable */
	begin(f);
	assert_int_equal(dd_store_mitigation_task_finish(f->db, "111111111111/us-east-1", "mt-c", "COMPLETED", 1600), 0);
	commit(f);
	got[0] = 0;
	assert_int_equal(dd_store_mitigation_task_claimable(f->db, 1501, 10, collect_ids, got), 0);
	assert_string_equal(got, "mt-a,mt-b,");
	assert_int_equal(dd_store_audit_claim_lock(f->db, "111111111111/us-east-1", "none", 0), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_claim_expire_steal, setup, teardown),
		cmocka_unit_test_setup_teardown(test_finish_after_lost_lease_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_heartbeat_and_purge, setup, teardown),
		cmocka_unit_test_setup_teardown(test_outbox_lease, setup, teardown),
		cmocka_unit_test_setup_teardown(test_claimable_tasks, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

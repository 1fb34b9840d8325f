/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the SNS store (store/dd_store_sns.h) on a fresh store in a temporary
 * directory: topics (idempotent create, existence, listing by region after a key with a
 * limit, attributes set and removed, delete with its subscriptions), subscriptions
 * (insert, duplicate ARN, find by protocol and endpoint, get, raw delivery flag,
 * confirmation by token with and without an account, counts, listings by topic and by
 * region prefix, delete), the signing key (absent, stored once, the first pair kept), and
 * the outbox rows of a publish (insert, counts by topic and status, cancellation by topic
 * and by subscription, counts by status over all accounts); not-found answers for every
 * lookup and write of a missing row, and account isolation.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "dd/store.h"
#include "store/dd_store_outbox.h"
#include "store/dd_store_sns.h"

#include "dd_test_store.h"

#define A1 "111111111111"
#define A2 "222222222222"
#define T1 "arn:aws:sns:us-east-1:111111111111:alerts"
#define T2 "arn:aws:sns:us-east-1:111111111111:billing"
#define T3 "arn:aws:sns:eu-west-1:111111111111:alerts"

struct names {
	char v[8][300];
	int n;
};

static int text_cb(const char *v, void *ud)
{
	struct names *n = ud;
	snprintf(n->v[n->n++], 300, "%s", v);
	return 0;
}

static int sub_cb(const struct dd_store_sns_subscription *s, void *ud)
{
	struct names *n = ud;
	snprintf(n->v[n->n++], 300, "%s|%s|%s|%d|%d", s->arn, s->protocol, s->endpoint, s->confirmed, s->raw);
	return 0;
}

static void topics(struct dd_db *db)
{
	assert_int_equal(dd_store_sns_topic_create(db, A1, T1, "alerts", "us-east-1", "{\"DisplayName\":\"A\"}", NULL, 1), 0);
	assert_int_equal(dd_store_sns_topic_create(db, A1, T2, "billing", "us-east-1", NULL, "[]", 2), 0);
	assert_int_equal(dd_store_sns_topic_create(db, A1, T3, "alerts", "eu-west-1", "{}", NULL, 3), 0);
}

static void test_topics(void **state)
{
	struct dd_test_store *f = *state;
	bool exists = true;
	char *attrs = NULL;
	assert_int_equal(dd_store_sns_topic_exists(f->db, A1, T1, &exists), 0);
	assert_false(exists);
	assert_int_equal(dd_store_sns_topic_attributes(f->db, A1, T1, &attrs), DD_ENOTFOUND);
	topics(f->db);
	/* creating again changes nothing */
	assert_int_equal(dd_store_sns_topic_create(f->db, A1, T1, "alerts", "us-east-1", "{}", NULL, 9), 0);
	assert_int_equal(dd_store_sns_topic_exists(f->db, A1, T1, &exists), 0);
	assert_true(exists);
	assert_int_equal(dd_store_sns_topic_exists(f->db, A2, T1, &exists), 0);
	assert_false(exists);
	assert_int_equal(dd_store_sns_topic_attributes(f->db, A1, T1, &attrs), 0);
	assert_string_equal(attrs, "{\"DisplayName\":\"A\"}");
	free(attrs);
	/* listing by region, after a key, with a limit */
	struct names l = { 0 };
	assert_int_equal(dd_store_sns_topic_list(f->db, A1, "us-east-1", "", 10, text_cb, &l), 0);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.v[0], T1);
	assert_string_equal(l.v[1], T2);
	memset(&l, 0, sizeof l);
	assert_int_equal(dd_store_sns_topic_list(f->db, A1, "us-east-1", T1, 1, text_cb, &l), 0);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.v[0], T2);
	memset(&l, 0, sizeof l);
	assert_int_equal(dd_store_sns_topic_list(f->db, A2, "us-east-1", "", 10, text_cb, &l), 0);
	assert_int_equal(l.n, 0);
	/* attributes: set, replace, remove */
	assert_int_equal(dd_store_sns_topic_attribute_set(f->db, A1, T2, "DisplayName", "Bills"), 0);
	assert_int_equal(dd_store_sns_topic_attribute_set(f->db, A1, T1, "DisplayName", ""), 0);
	assert_int_equal(dd_store_sns_topic_attribute_set(f->db, A2, T1, "DisplayName", "x"), DD_ENOTFOUND);
	assert_int_equal(dd_store_sns_topic_attributes(f->db, A1, T2, &attrs), 0);
	assert_string_equal(attrs, "{\"DisplayName\":\"Bills\"}");
	free(attrs);
	assert_int_equal(dd_store_sns_topic_attributes(f->db, A1, T1, &attrs), 0);
	assert_string_equal(attrs, "{}");
	free(attrs);
	/* delete */
	assert_int_equal(dd_store_sns_topic_delete(f->db, A1, T2), 0);
	assert_int_equal(dd_store_sns_topic_exists(f->db, A1, T2, &exists), 0);
	assert_false(exists);
}

static void test_subscriptions(void **state)
{
	struct dd_test_store *f = *state;
	struct names l = { 0 };
	int64_t n = -1;
	char arn[300];
	topics(f->db);
	const char *tok1 = "0123456789abcdef0123456789abcdef01", *tok2 = "fedcba9876543210fedcba9876543210fe";
	struct dd_store_sns_subscription s1 = { .arn = T1 ":s1", .topic_arn = T1, .protocol = "https",
						.endpoint = "https://example.com/a", .token = tok1,
						.attributes = "{\"RawMessageDelivery\":\"True\"}", .created_ms = 1 };
	struct dd_store_sns_subscription s2 = { .arn = T1 ":s2", .topic_arn = T1, .protocol = "email",
						.endpoint = "a@example.com", .token = tok2, .attributes = NULL, .created_ms = 2 };
	struct dd_store_sns_subscription s3 = { .arn = T3 ":s3", .topic_arn = T3, .protocol = "http",
						.endpoint = "http://example.com/b", .token = tok2, .created_ms = 3 };
	assert_int_equal(dd_store_sns_subscription_find(f->db, A1, T1, "https", "https://example.com/a", sub_cb, &l),
			 DD_ENOTFOUND);
	assert_int_equal(dd_store_sns_subscription_insert(f->db, A1, &s1), 0);
	assert_int_equal(dd_store_sns_subscription_insert(f->db, A1, &s2), 0);
	assert_int_equal(dd_store_sns_subscription_insert(f->db, A1, &s3), 0);
	assert_int_equal(dd_store_sns_subscription_insert(f->db, A1, &s1), DD_EEXIST);
	assert_int_equal(dd_store_sns_subscription_find(f->db, A1, T1, "https", "https://example.com/a", sub_cb, &l), 0);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.v[0], T1 ":s1|https|https://example.com/a|0|1");
	memset(&l, 0, sizeof l);
	assert_int_equal(dd_store_sns_subscription_get(f->db, A1, T1 ":s2", sub_cb, &l), 0);
	assert_string_equal(l.v[0], T1 ":s2|email|a@example.com|0|0");
	assert_int_equal(dd_store_sns_subscription_get(f->db, A2, T1 ":s2", sub_cb, &l), DD_ENOTFOUND);
	/* confirmation: the token of that topic only, in the account or any */
	assert_int_equal(dd_store_sns_subscription_confirm(f->db, A1, T2, tok1, NULL, arn, sizeof arn), DD_ENOTFOUND);
	assert_int_equal(dd_store_sns_subscription_confirm(f->db, A2, T1, tok1, NULL, arn, sizeof arn), DD_ENOTFOUND);
	assert_int_equal(dd_store_sns_subscription_confirm(f->db, A1, T1, tok1, "true", arn, sizeof arn), 0);
	assert_string_equal(arn, T1 ":s1");
	assert_int_equal(dd_store_sns_subscription_confirm(f->db, NULL, T3, tok2, NULL, arn, sizeof arn), 0);
	assert_string_equal(arn, T3 ":s3");
	memset(&l, 0, sizeof l);
	assert_int_equal(dd_store_sns_subscription_get(f->db, A1, T1 ":s1", sub_cb, &l), 0);
	assert_string_equal(l.v[0], T1 ":s1|https|https://example.com/a|1|1");
	assert_int_equal(dd_store_sns_subscription_count(f->db, A1, T1, true, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(dd_store_sns_subscription_count(f->db, A1, T1, false, &n), 0);
	assert_int_equal(n, 1);
	/* listings: by topic, by region prefix, after a key with a limit, all */
	memset(&l, 0, sizeof l);
	assert_int_equal(dd_store_sns_subscription_list(f->db, A1, T1, "", "", -1, sub_cb, &l), 0);
	assert_int_equal(l.n, 2);
	memset(&l, 0, sizeof l);
	assert_int_equal(dd_store_sns_subscription_list(f->db, A1, NULL, "arn:aws:sns:eu-west-1:", "", 10, sub_cb, &l), 0);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.v[0], T3 ":s3|http|http://example.com/b|1|0");
	memset(&l, 0, sizeof l);
	assert_int_equal(dd_store_sns_subscription_list(f->db, A1, NULL, "arn:aws:sns:us-east-1:", T1 ":s1", 1, sub_cb, &l), 0);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.v[0], T1 ":s2|email|a@example.com|0|0");
	/* delete one, then the topic with the rest */
	assert_int_equal(dd_store_sns_subscription_delete(f->db, A1, T1 ":s2"), 0);
	assert_int_equal(dd_store_sns_subscription_delete(f->db, A1, T1 ":s2"), DD_ENOTFOUND);
	assert_int_equal(dd_store_sns_topic_delete(f->db, A1, T1), 0);
	assert_int_equal(dd_store_sns_subscription_get(f->db, A1, T1 ":s1", sub_cb, &l), DD_ENOTFOUND);
}

static void test_signing(void **state)
{
	struct dd_test_store *f = *state;
	char *c = NULL, *k = NULL;
	assert_int_equal(dd_store_sns_signing_get(f->db, &c, &k), DD_ENOTFOUND);
	assert_int_equal(dd_store_sns_signing_put(f->db, "CERT1", "KEY1", 1), 0);
	assert_int_equal(dd_store_sns_signing_put(f->db, "CERT2", "KEY2", 2), 0);
	assert_int_equal(dd_store_sns_signing_get(f->db, &c, &k), 0);
	assert_string_equal(c, "CERT1");
	assert_string_equal(k, "KEY1");
	free(c);
	free(k);
}

static void test_outbox(void **state)
{
	struct dd_test_store *f = *state;
	int64_t n = -1;
	struct dd_store_sns_outbox_row r = { .account = A1, .topic_arn = T1, .subscription_arn = T1 ":s1",
					     .message_id = "m1", .type = "Notification", .protocol = "https",
					     .endpoint = "https://example.com/a", .body = "{}", .status = "PENDING",
					     .now_ms = 10 };
	assert_int_equal(dd_store_sns_outbox_insert(f->db, &r), 0);
	r.subscription_arn = T1 ":s2";
	assert_int_equal(dd_store_sns_outbox_insert(f->db, &r), 0);
	r.topic_arn = T2;
	r.subscription_arn = T2 ":s3";
	r.status = "UNDELIVERABLE";
	r.last_error = "no relay";
	r.subject = "hi";
	assert_int_equal(dd_store_sns_outbox_insert(f->db, &r), 0);
	r.account = A2;
	r.status = "PENDING";
	assert_int_equal(dd_store_sns_outbox_insert(f->db, &r), 0);
	assert_int_equal(dd_store_sns_outbox_count(f->db, A1, T1, "PENDING", &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(dd_store_sns_outbox_count(f->db, A1, T2, "UNDELIVERABLE", &n), 0);
	assert_int_equal(n, 1);
	/* cancel one subscription's rows, then a topic's; another account's stay */
	assert_int_equal(dd_store_sns_outbox_cancel(f->db, A1, NULL, T1 ":s1", 20), 0);
	assert_int_equal(dd_store_sns_outbox_count(f->db, A1, T1, "CANCELLED", &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(dd_store_sns_outbox_cancel(f->db, A1, T2, NULL, 20), 0);
	assert_int_equal(dd_store_sns_outbox_count(f->db, A1, T2, "UNDELIVERABLE", &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(dd_store_sns_outbox_count(f->db, A2, T2, "PENDING", &n), 0);
	assert_int_equal(n, 1);
	/* the whole queue by status (the metrics read it): CANCELLED=1 is counted above */
	struct dd_store_outbox_counts c;
	assert_int_equal(dd_store_outbox_counts(f->db, &c), 0);
	assert_int_equal(c.pending, 2);
	assert_int_equal(c.undeliverable, 1);
	assert_int_equal(c.inflight + c.delivered + c.failed, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_topics, dd_test_store_setup, dd_test_store_teardown),
		cmocka_unit_test_setup_teardown(test_subscriptions, dd_test_store_setup, dd_test_store_teardown),
		cmocka_unit_test_setup_teardown(test_signing, dd_test_store_setup, dd_test_store_teardown),
		cmocka_unit_test_setup_teardown(test_outbox, dd_test_store_setup, dd_test_store_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the pure parts of the SNS and IAM modules: the canonical string SNS
 * signs (AWS's documented field order, Subject only when present), SHA1withRSA signing
 * with a fresh key and verification against its certificate, IAM's percent-encoding of
 * policy documents, trust-policy validation messages, the service-principal trust check,
 * and the preloaded AWS managed policies (every document validates as an IAM policy).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "dd/iam.h"
#include "dd/policy.h"
#include "dd/sns.h"

static void test_string_to_sign_notification(void **state)
{
	(void)state;
	json_t *env = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "Type", "Notification", "MessageId", "m-1",
				"TopicArn", "arn:aws:sns:us-east-1:123456789012:t", "Subject", "S", "Message", "hello",
				"Timestamp", "2024-01-01T00:00:00.000Z");
	char *s = dd_sns_message_string_to_sign(env);
	assert_non_null(s);
	assert_string_equal(s, "Message\nhello\nMessageId\nm-1\nSubject\nS\nTimestamp\n2024-01-01T00:00:00.000Z\n"
			       "TopicArn\narn:aws:sns:us-east-1:123456789012:t\nType\nNotification\n");
	free(s);
	json_object_del(env, "Subject");
	s = dd_sns_message_string_to_sign(env);
	assert_non_null(s);
	assert_null(strstr(s, "Subject"));
	free(s);
	json_object_del(env, "Message");
	assert_null(dd_sns_message_string_to_sign(env));
	json_decref(env);
}

static void test_string_to_sign_confirmation(void **state)
{
	(void)state;
	json_t *env = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "Type", "SubscriptionConfirmation",
				"MessageId", "m", "Token", "tok", "TopicArn", "arn", "Message", "msg",
				"SubscribeURL", "http://x/confirm", "Timestamp", "ts");
	char *s = dd_sns_message_string_to_sign(env);
	assert_string_equal(s, "Message\nmsg\nMessageId\nm\nSubscribeURL\nhttp://x/confirm\nTimestamp\nts\n"
			       "Token\ntok\nTopicArn\narn\nType\nSubscriptionConfirmation\n");
	free(s);
	json_decref(env);
}

static void test_sign_and_verify(void **state)
{
	(void)state;
	char *cert = NULL, *key = NULL, *sig = NULL;
	assert_int_equal(dd_sns_message_key_create(&cert, &key), 0);
	assert_non_null(strstr(cert, "BEGIN CERTIFICATE"));
	assert_int_equal(dd_sns_message_sign(key, "Message\nx\n", &sig), 0);
	assert_int_equal(dd_sns_message_verify(cert, "Message\nx\n", sig), 0);
	assert_int_equal(dd_sns_message_verify(cert, "Message\ny\n", sig), DD_ECRYPTO);
	assert_int_equal(dd_sns_message_verify(cert, "Message\nx\n", "AAAA"), DD_ECRYPTO);
	char *bad = NULL;
	assert_int_equal(dd_sns_message_sign("not a key", "x", &bad), DD_ECRYPTO);
	assert_null(bad);
	free(sig);
	free(cert);
	free(key);
}

static void test_url_encode(void **state)
{
	(void)state;
	char *e = dd_iam_url_encode("{\"a\": \"b/c~d-e_f.g\"}\n%");
	assert_string_equal(e, "%7B%22a%22%3A%20%22b%2Fc~d-e_f.g%22%7D%0A%25");
	free(e);
}

static void test_trust_validate(void **state)
{
	(void)state;
	char err[256];
	const char *good = "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\","
			   "\"Principal\":{\"Service\":\"iot.amazonaws.com\"},\"Action\":\"sts:AssumeRole\"}]}";
	assert_int_equal(dd_iam_trust_validate(good, err, sizeof err), 0);
	struct {
		const char *doc, *msg;
	} bad[] = {
		{ "nope", "invalid Json" },
		{ "{\"Statement\":[]}", "Statement" },
		{ "{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"sts:AssumeRole\"}}", "Principal" },
		{ "{\"Statement\":{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"sts:AssumeRole\",\"Resource\":\"*\"}}", "prohibited field Resource" },
		{ "{\"Statement\":{\"Effect\":\"Allow\",\"Principal\":{\"Bogus\":\"x\"},\"Action\":\"sts:AssumeRole\"}}", "principal" },
		{ "{\"Statement\":{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"AssumeRole\"}}", "vendor" },
		{ "{\"Version\":\"2020-01-01\",\"Statement\":{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"sts:AssumeRole\"}}", "version" },
		{ "{\"Statement\":{\"Effect\":\"allow\",\"Principal\":\"*\",\"Action\":\"sts:AssumeRole\"}}", "Effect" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		err[0] = '\0';
		assert_int_equal(dd_iam_trust_validate(bad[i].doc, err, sizeof err), DD_EINVAL);
		if (!strstr(err, bad[i].msg))
			fail_msg("case %zu: '%s' does not mention '%s'", i, err, bad[i].msg);
	}
}

static void test_trust_allows_service(void **state)
{
	(void)state;
	const char *iot = "{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"Service\":[\"lambda.amazonaws.com\","
			  "\"iot.amazonaws.com\"]},\"Action\":[\"sts:AssumeRole\"]}]}";
	assert_true(dd_iam_trust_allows_service(iot, "iot.amazonaws.com"));
	assert_false(dd_iam_trust_allows_service(iot, "ec2.amazonaws.com"));
	const char *star = "{\"Statement\":{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"sts:*\"}}";
	assert_true(dd_iam_trust_allows_service(star, "iot.amazonaws.com"));
	const char *denied = "{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"sts:AssumeRole\"},"
			     "{\"Effect\":\"Deny\",\"Principal\":{\"Service\":\"iot.amazonaws.com\"},\"Action\":\"*\"}]}";
	assert_false(dd_iam_trust_allows_service(denied, "iot.amazonaws.com"));
	const char *other_action = "{\"Statement\":{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"sts:TagSession\"}}";
	assert_false(dd_iam_trust_allows_service(other_action, "iot.amazonaws.com"));
	assert_false(dd_iam_trust_allows_service("garbage", "iot.amazonaws.com"));
}

static void test_managed_policies(void **state)
{
	(void)state;
	assert_int_equal(dd_iam_managed_count(), 8);
	for (size_t i = 0; i < dd_iam_managed_count(); i++) {
		const struct dd_iam_managed_policy *m = dd_iam_managed_at(i);
		char err[DD_POLICY_ERRMSG_SIZE];
		if (dd_policy_validate(m->document, strlen(m->document), DD_POLICY_IAM, err, sizeof err))
			fail_msg("%s: %s", m->name, err);
		assert_ptr_equal(dd_iam_managed_find(m->arn), m);
		assert_int_equal(strncmp(m->arn, "arn:aws:iam::aws:policy/service-role/", 37), 0);
		assert_string_equal(m->arn + 37, m->name);
		assert_int_equal(strlen(m->policy_id), 21);
	}
	assert_null(dd_iam_managed_at(8));
	assert_null(dd_iam_managed_find("arn:aws:iam::aws:policy/service-role/Nope"));
	assert_non_null(strstr(dd_iam_managed_find("arn:aws:iam::aws:policy/service-role/AWSIoTDeviceDefenderAudit")->document,
			       "iam:GetRolePolicy"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_string_to_sign_notification),
		cmocka_unit_test(test_string_to_sign_confirmation),
		cmocka_unit_test(test_sign_and_verify),
		cmocka_unit_test(test_url_encode),
		cmocka_unit_test(test_trust_validate),
		cmocka_unit_test(test_trust_allows_service),
		cmocka_unit_test(test_managed_policies),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

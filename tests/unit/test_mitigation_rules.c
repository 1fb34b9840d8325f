/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the mitigation rules (src/core/mitigation/dd_mitigation_rules.c): every
 * actionParams member selects its one action type and nothing else does; a check's
 * findings take its own mitigation types and PUBLISH_FINDING_TO_SNS, nothing else; only
 * an IN_PROGRESS task is active.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/mitigation/dd_mitigation_rules.h"

static void test_kinds(void **state)
{
	(void)state;
	assert_int_equal(dd_mitigation_rules_nkinds, 6);
	assert_string_equal(dd_mitigation_rules_type_of("updateDeviceCertificateParams"), "UPDATE_DEVICE_CERTIFICATE");
	assert_string_equal(dd_mitigation_rules_type_of("updateCACertificateParams"), "UPDATE_CA_CERTIFICATE");
	assert_string_equal(dd_mitigation_rules_type_of("addThingsToThingGroupParams"), "ADD_THINGS_TO_THING_GROUP");
	assert_string_equal(dd_mitigation_rules_type_of("replaceDefaultPolicyVersionParams"), "REPLACE_DEFAULT_POLICY_VERSION");
	assert_string_equal(dd_mitigation_rules_type_of("enableIoTLoggingParams"), "ENABLE_IOT_LOGGING");
	assert_string_equal(dd_mitigation_rules_type_of("publishFindingToSnsParams"), "PUBLISH_FINDING_TO_SNS");
	assert_null(dd_mitigation_rules_type_of("UpdateDeviceCertificateParams"));
	assert_null(dd_mitigation_rules_type_of(""));
	assert_null(dd_mitigation_rules_type_of(NULL));
}

static void test_type_allowed(void **state)
{
	(void)state;
	static const char *const cert_check[] = { "UPDATE_DEVICE_CERTIFICATE", "ADD_THINGS_TO_THING_GROUP", NULL };
	assert_true(dd_mitigation_rules_type_allowed(cert_check, "UPDATE_DEVICE_CERTIFICATE"));
	assert_true(dd_mitigation_rules_type_allowed(cert_check, "PUBLISH_FINDING_TO_SNS"));
	assert_false(dd_mitigation_rules_type_allowed(cert_check, "UPDATE_CA_CERTIFICATE"));
	assert_false(dd_mitigation_rules_type_allowed(cert_check, NULL));
	/* a check with no mitigation of its own: SNS only */
	assert_true(dd_mitigation_rules_type_allowed(NULL, "PUBLISH_FINDING_TO_SNS"));
	assert_false(dd_mitigation_rules_type_allowed(NULL, "ENABLE_IOT_LOGGING"));
}

static void test_task_active(void **state)
{
	(void)state;
	assert_true(dd_mitigation_rules_task_active("IN_PROGRESS"));
	assert_false(dd_mitigation_rules_task_active("CANCELED"));
	assert_false(dd_mitigation_rules_task_active("COMPLETED"));
	assert_false(dd_mitigation_rules_task_active(""));
	assert_false(dd_mitigation_rules_task_active(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kinds),
		cmocka_unit_test(test_type_allowed),
		cmocka_unit_test(test_task_active),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

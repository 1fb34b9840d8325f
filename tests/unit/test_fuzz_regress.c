/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Regression tests for what the libFuzzer targets in fuzz/ found: each test replays the
 * reduced input of one finding (kept also in the target's seed corpus) through the same
 * entry point and asserts the fixed behaviour.
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
#include <jansson.h>

#include "core/dd_registry_int.h"

/* fuzz_dynquery: "attributes.x<=-1e" validated at CreateDynamicThingGroup (no thing, so no
 * attribute to compare) but failed to parse against every thing that has the attribute.
 * A comparison with a non-number is now refused whatever the thing. */
static void dynquery_comparison_value_checked_without_thing(void **state)
{
	(void)state;
	char err[256];
	const char *q = "thingName:\"dev 1\" AND attributes.x<=-1e";
	assert_int_equal(dd__query_match(q, "", NULL, NULL, err, sizeof err), DD_EINVAL);
	assert_non_null(strstr(err, "comparison needs a number"));
	json_t *attrs = json_pack("{s:s}", "x", "-20fa");
	assert_int_equal(dd__query_match(q, "dev 1", "type", attrs, err, sizeof err), DD_EINVAL);
	json_decref(attrs);
	/* a valid comparison still matches on the value and not without the attribute */
	attrs = json_pack("{s:s}", "x", "-2000");
	assert_int_equal(dd__query_match("attributes.x<=-1e3", "t", NULL, attrs, err, sizeof err), 1);
	assert_int_equal(dd__query_match("attributes.x<=-1e3", "t", NULL, NULL, err, sizeof err), 0);
	assert_int_equal(dd__query_match("thingTypeName>abc", "t", NULL, NULL, err, sizeof err), DD_EINVAL);
	json_decref(attrs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(dynquery_comparison_value_checked_without_thing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

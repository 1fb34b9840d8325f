/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The fleet-indexing query language (core/registry/dd_index_query.h): every construct
 * against a small document, typed fields (numbers, booleans, strings with the numeric
 * comparison of numeric text), multi-valued fields, the refusals with their messages, the
 * bounds (length, depth, terms), and the statistics helpers of core/registry/dd_index.h.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <math.h>

#include "core/registry/dd_index.h"
#include "core/registry/dd_index_query.h"

static int resolve(const char *field, enum dd_index_type *type, char *err, size_t errlen, void *ud)
{
	(void)ud;
	if (!strcmp(field, "num") || !strcmp(field, "version"))
		*type = DD_INDEX_NUMBER;
	else if (!strcmp(field, "on"))
		*type = DD_INDEX_BOOLEAN;
	else if (!strcmp(field, "hidden")) {
		snprintf(err, errlen, "field hidden is not indexed");
		return DD_EINVAL;
	} else
		*type = DD_INDEX_STRING;
	return 0;
}

/* the document: name=dev-42, site=north-east, num=42.5, version=3, on=true, groups a and b,
 * text=15 (a string field holding a number) */
static size_t values(const char *field, const char **out, size_t max, void *ud)
{
	(void)ud;
	static const char *const doc[][2] = {
		{ "name", "dev-42" }, { "site", "north-east" }, { "num", "42.5" }, { "version", "3" },
		{ "on", "true" },     { "groups", "a" },        { "groups", "b" }, { "text", "15" },
		{ "star", "a*b" },
	};
	size_t n = 0;
	for (size_t i = 0; i < sizeof doc / sizeof doc[0] && n < max; i++)
		if (!strcmp(doc[i][0], field))
			out[n++] = doc[i][1];
	return n;
}

static int eval(const char *query, char *err, size_t errlen)
{
	struct dd_index_query *q;
	int rc = dd_index_query_parse(query, resolve, NULL, &q, err, errlen);
	if (rc)
		return rc;
	rc = dd_index_query_match(q, values, NULL);
	dd_index_query_free(q);
	return rc;
}

static void test_constructs(void **state)
{
	(void)state;
	static const struct {
		const char *q;
		int want;
	} cases[] = {
		{ "name:dev-42", 1 },
		{ "name:dev-4", 0 },
		{ "name:dev*", 1 },
		{ "name:*42", 1 },
		{ "name:*v-4*", 1 },
		{ "name:d?v-4?", 1 },
		{ "name:d?v-4", 0 },
		{ "name:\"dev-42\"", 1 },
		{ "name:\"dev*\"", 0 },          /* quoted: no wildcard */
		{ "star:a\\*b", 1 },             /* escaped star: literal */
		{ "star:a\\*", 0 },
		{ "star:a\\**", 1 },
		{ "site:north*", 1 },
		{ "site:*", 1 },
		{ "missing:*", 0 },
		{ "NOT missing:*", 1 },
		{ "num:42.5", 1 },
		{ "num:42.50", 1 },              /* numbers compare as numbers */
		{ "num>42", 1 },
		{ "num>42.5", 0 },
		{ "num>=42.5", 1 },
		{ "num<43", 1 },
		{ "num<=42.5", 1 },
		{ "num<42.5", 0 },
		{ "num:[42.5 TO 50]", 1 },
		{ "num:{42.5 TO 50]", 0 },
		{ "num:[1 TO 42.5}", 0 },
		{ "num:[* TO 42.5]", 1 },
		{ "num:[43 TO *]", 0 },
		{ "version:3", 1 },
		{ "on:true", 1 },
		{ "on:false", 0 },
		{ "groups:b", 1 },               /* any value of a multi-valued field */
		{ "groups:c", 0 },
		{ "NOT groups:b", 0 },
		{ "text>9", 1 },                 /* numeric text against a number: numerically */
		{ "text>abc", 0 },               /* otherwise byte-wise: "15" < "abc" */
		{ "site:[n TO o]", 1 },
		{ "site:[north-east TO north-east]", 1 },
		{ "site:{north-east TO z}", 0 },
		{ "name:dev-42 AND site:north-east", 1 },
		{ "name:dev-42 site:south", 0 },  /* implicit AND */
		{ "name:x OR site:north-east", 1 },
		{ "name:x OR name:y", 0 },
		{ "NOT name:x", 1 },
		{ "NOT NOT name:dev-42", 1 },
		{ "name:x OR name:dev-42 AND on:false", 0 },  /* AND binds tighter */
		{ "(name:x OR name:dev-42) AND on:true", 1 },
		{ "((name:dev-42))", 1 },
		{ "NOT (name:x OR on:false)", 1 },
		{ "  name:dev-42\t", 1 },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char err[256] = "";
		int got = eval(cases[i].q, err, sizeof err);
		if (got != cases[i].want)
			fail_msg("%s: got %d (%s), want %d", cases[i].q, got, err, cases[i].want);
	}
}

static void test_refusals(void **state)
{
	(void)state;
	static const struct {
		const char *q, *msg;
	} cases[] = {
		{ "", "the query is empty" },
		{ "   ", "the query is empty" },
		{ "name:", "expected a value after name: at offset 5" },
		{ "name", "expected ':' or a comparison after field name" },
		{ ":x", "expected a field name at offset 0" },
		{ "name:\"abc", "unterminated quoted value at offset 5" },
		{ "(name:a", "expected ')' at offset 0" },
		{ "name:a)", "unbalanced ')'" },
		{ "name:a AND", "expected a term after AND" },
		{ "name:a OR OR name:b", "expected a term after OR" },
		{ "AND name:a", "expected a term before AND" },
		{ "num:abc", "field num is a number and 'abc' is not" },
		{ "num:4*", "field num is a number" },
		{ "num>x", "field num is a number and 'x' is not" },
		{ "num:[1 TO x]", "field num is a number and 'x' is not" },
		{ "num:[1 2]", "expected TO in the range of num" },
		{ "num:[1 TO 2", "expected ']' or '}' to close the range of num" },
		{ "name:[a* TO b]", "wildcards are not allowed in a range" },
		{ "name>a*", "wildcards are not allowed in a comparison" },
		{ "on:yes", "field on is a boolean and 'yes' is not true or false" },
		{ "on>1", "field on is a boolean and cannot be compared" },
		{ "on:[a TO b]", "field on is a boolean and takes no range" },
		{ "hidden:1", "field hidden is not indexed at offset 0" },
		/* fuzz_indexquery: a trailing backslash escaped the ')' of NOT (query) */
		{ "name:a\\", "a backslash at the end escapes nothing" },
		{ "name:a OR hidden:1", "field hidden is not indexed at offset 10" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char err[256] = "";
		int got = eval(cases[i].q, err, sizeof err);
		if (got != DD_EINVAL || !strstr(err, cases[i].msg) || strncmp(err, "Invalid query: ", 15))
			fail_msg("%s: got %d '%s', want '%s'", cases[i].q, got, err, cases[i].msg);
	}
}

static void test_bounds(void **state)
{
	(void)state;
	char err[256];
	char *q = malloc(DD_INDEX_QUERY_MAX_LEN + 64);
	assert_non_null(q);
	/* depth: 32 levels parse, 33 do not */
	size_t n = 0;
	for (int i = 0; i < DD_INDEX_QUERY_MAX_DEPTH; i++)
		q[n++] = '(';
	n += (size_t)sprintf(q + n, "name:dev-42");
	for (int i = 0; i < DD_INDEX_QUERY_MAX_DEPTH; i++)
		q[n++] = ')';
	q[n] = '\0';
	assert_int_equal(eval(q, err, sizeof err), 1);
	memmove(q + 4, q, n + 1);
	memcpy(q, "NOT ", 4);
	assert_int_equal(eval(q, err, sizeof err), DD_EINVAL);
	assert_non_null(strstr(err, "nested more than 32 levels"));
	/* terms: 128 parse, 129 do not */
	n = 0;
	for (int i = 0; i < DD_INDEX_QUERY_MAX_TERMS; i++)
		n += (size_t)sprintf(q + n, "%sname:%d", i ? " OR " : "", i);
	assert_int_equal(eval(q, err, sizeof err), 0);
	sprintf(q + n, " OR name:dev-42");
	assert_int_equal(eval(q, err, sizeof err), DD_EINVAL);
	assert_non_null(strstr(err, "more than 128 terms"));
	/* length */
	memset(q, 'a', DD_INDEX_QUERY_MAX_LEN + 1);
	memcpy(q, "name:", 5);
	q[DD_INDEX_QUERY_MAX_LEN] = '\0';
	assert_int_equal(eval(q, err, sizeof err), 0);
	q[DD_INDEX_QUERY_MAX_LEN] = 'a';
	q[DD_INDEX_QUERY_MAX_LEN + 1] = '\0';
	assert_int_equal(eval(q, err, sizeof err), DD_EINVAL);
	assert_non_null(strstr(err, "longer than 4096"));
	/* a pattern of many stars stays linear */
	memset(q, '*', DD_INDEX_QUERY_MAX_LEN);
	memcpy(q, "name:", 5);
	q[DD_INDEX_QUERY_MAX_LEN - 1] = 'z';
	q[DD_INDEX_QUERY_MAX_LEN] = '\0';
	assert_int_equal(eval(q, err, sizeof err), 0);
	free(q);
}

static void test_numbers(void **state)
{
	(void)state;
	double d;
	assert_true(dd_index_query_number("42", &d) && d == 42);
	assert_true(dd_index_query_number("-1.5e3", &d) && d == -1500);
	assert_true(dd_index_query_number(".5", &d) && d == 0.5);
	assert_false(dd_index_query_number("", &d));
	assert_false(dd_index_query_number("1e", &d));
	assert_false(dd_index_query_number("0x10", &d));
	assert_false(dd_index_query_number("inf", &d));
	assert_false(dd_index_query_number("nan", &d));
	assert_false(dd_index_query_number("1e999", &d));
	assert_false(dd_index_query_number(" 1", &d));
}

static int no_bucket(const char *key, int64_t count, void *ud)
{
	(void)key, (void)count, (void)ud;
	fail_msg("a bucket out of no values");
	return 0;
}

static void test_aggregation_helpers(void **state)
{
	(void)state;
	/* the shipped get-percentiles example: ten temperatures */
	static const char *const temps[] = { "70", "71", "72", "73", "74", "75", "47", "97", "98", "99" };
	struct dd_index_values v = { .type = DD_INDEX_NUMBER, .matched = 10, .with_field = 10 };
	v.v = calloc(10, sizeof *v.v);
	assert_non_null(v.v);
	for (int i = 0; i < 10; i++)
		v.v[v.n++] = strdup(temps[i]);
	v.cap = 10;
	static const double p[] = { 10, 25, 50, 75, 90, 0, 100 }, want[] = { 67.7, 71.25, 73.5, 91.5, 98.1, 47, 99 };
	for (int i = 0; i < 7; i++) {
		double got;
		assert_true(dd_index_percentile(&v, p[i], &got));
		assert_true(fabs(got - want[i]) < 1e-9);
	}
	struct dd_index_stats s;
	dd_index_statistics(&v, false, &s);
	assert_true(s.numeric);
	assert_int_equal(s.count, 10);
	/* doubles compared here: cmocka's assert_float_equal works in float */
	assert_true(fabs(s.sum - 776) < 1e-9);
	assert_true(s.minimum == 47 && s.maximum == 99);
	assert_true(fabs(s.average - 77.6) < 1e-9);
	assert_true(fabs(s.sum_of_squares - 62578) < 1e-9);
	assert_true(fabs(s.variance - 236.04) < 1e-9);
	assert_true(fabs(s.std_deviation - sqrt(236.04)) < 1e-9);
	assert_int_equal(dd_index_cardinality(&v), 10);
	dd_index_statistics(&v, true, &s);
	assert_false(s.numeric);
	assert_int_equal(s.count, 10);
	dd_index_values_clear(&v);
	double got;
	assert_false(dd_index_percentile(&v, 50, &got));
	/* no values (an account without things): no qsort of a NULL array (UBSan found it) */
	assert_int_equal(dd_index_cardinality(&v), 0);
	assert_int_equal(dd_index_buckets(&v, 10, no_bucket, NULL), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_constructs),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_aggregation_helpers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

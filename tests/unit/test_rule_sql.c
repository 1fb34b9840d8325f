/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The topic rule IoT SQL syntax check (dd_rule_sql_check): the constructs accepted, the
 * FROM topic filter extracted, and the refusals with their line:column messages, including
 * inputs that must stay bounded (deep nesting, long topics).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/registry/dd_rule_sql.h"

static int check(const char *sql, char *topic, char *err)
{
	return dd_rule_sql_check(sql, topic, 512, err, 400);
}

static void test_accepted(void **state)
{
	(void)state;
	static const struct {
		const char *sql, *topic;
	} ok[] = {
		{ "SELECT * FROM 'a/b'", "a/b" },
		{ "select a.b[0].c AS x, topic(2) dev FROM \"s/+/d\" where t > 5e3 and not (h < .5)", "s/+/d" },
		{ "SELECT VALUE state.reported FROM '$aws/things/+/shadow/update/accepted'",
		  "$aws/things/+/shadow/update/accepted" },
		{ "SELECT {'k': [1, 'two', x]}, CASE c WHEN 1 THEN 'a' ELSE 'b' END FROM '#'", "#" },
		{ "SELECT (SELECT VALUE v FROM r WHERE v > 1) AS big FROM 'x/#' WHERE a IS NOT UNDEFINED", "x/#" },
		{ "SELECT cast(t AS Decimal), -a * (b + c) % 3 || 'x', `odd name` FROM 'a/+'", "a/+" },
		{ "SELECT *\nFROM 'multi/line'\nWHERE a <> 1 OR b != 2 AND c >= 3", "multi/line" },
	};
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		char topic[512], err[400] = "";
		int rc = check(ok[i].sql, topic, err);
		if (rc)
			fail_msg("%s: %s", ok[i].sql, err);
		assert_string_equal(topic, ok[i].topic);
	}
}

static void test_refused(void **state)
{
	(void)state;
	static const struct {
		const char *sql, *msg;
	} bad[] = {
		{ "", "Line 1:0 expected SELECT" },
		{ "SELECT * 'a'", "Line 1:9 expected FROM" },
		{ "SELECT * FROM a", "Line 1:14 expected a quoted topic filter" },
		{ "SELECT * FROM ''", "topic filter must have" },
		{ "SELECT * FROM 'a/#/b'", "'#' must be the last level" },
		{ "SELECT * FROM 'a+'", "'+' must be a whole level" },
		{ "SELECT a b c FROM 'a'", "expected FROM" },
		{ "SELECT * FROM 'a' WHERE x = 'open", "unterminated string" },
		{ "SELECT * FROM 'a' WHERE a ; b", "unexpected character" },
		{ "SELECT *\nFROM 'a'\nWHERE (", "Line 3:7 expected an expression" },
		{ "SELECT CASE a END FROM 'a'", "expected WHEN" },
		{ "SELECT {1: 2} FROM 'a'", "expected an object key" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char topic[512], err[400] = "";
		assert_int_equal(check(bad[i].sql, topic, err), DD_EINVAL);
		if (!strstr(err, bad[i].msg))
			fail_msg("%s: got '%s', want '%s'", bad[i].sql, err, bad[i].msg);
	}
}

static void test_bounded(void **state)
{
	(void)state;
	/* 10000 nested parentheses: refused at depth 64, no stack exhaustion */
	size_t n = 10000;
	char *sql = malloc(n * 2 + 64);
	assert_non_null(sql);
	strcpy(sql, "SELECT ");
	size_t p = strlen(sql);
	for (size_t i = 0; i < n; i++)
		sql[p++] = '(';
	strcpy(sql + p, "1 FROM 'a'");
	char topic[512], err[400] = "";
	assert_int_equal(check(sql, topic, err), DD_EINVAL);
	assert_non_null(strstr(err, "nested too deeply"));
	/* NOT NOT NOT … and - - - … likewise */
	p = strlen("SELECT * FROM 'a' WHERE ");
	memcpy(sql, "SELECT * FROM 'a' WHERE ", p);
	for (size_t i = 0; i < n; i++) {
		memcpy(sql + p, "NOT ", 4);
		p += 4;
		if (p > n * 2 - 8)
			break;
	}
	strcpy(sql + p, "a");
	assert_int_equal(check(sql, topic, err), DD_EINVAL);
	/* a topic longer than the buffer is refused, not truncated */
	memset(sql, 'a', n);
	memcpy(sql, "SELECT * FROM '", 15);
	strcpy(sql + 1000, "'");
	assert_int_equal(check(sql, topic, err), DD_EINVAL);
	free(sql);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accepted),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_bounded),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the topic rule IoT SQL syntax check (dd_rule_sql_check, used by
 * CreateTopicRule and ReplaceTopicRule). The input is the SQL text. An accepted statement
 * must yield a non-empty topic filter that is a valid MQTT filter; a refused one must
 * yield a message; the check must be deterministic.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/registry/dd_rule_sql.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 8192)
		return 0;
	char *sql = malloc(size + 1);
	if (!sql)
		return 0;
	memcpy(sql, data, size);
	sql[size] = '\0';
	char topic[512] = "", topic2[512] = "", err[400] = "", err2[400] = "";
	int a = dd_rule_sql_check(sql, topic, sizeof topic, err, sizeof err);
	int b = dd_rule_sql_check(sql, topic2, sizeof topic2, err2, sizeof err2);
	if (a != b || strcmp(topic, topic2) || strcmp(err, err2))
		abort();
	if (a == 0) {
		size_t n = strlen(topic);
		if (!n)
			abort();
		for (size_t i = 0; i < n; i++)
			if (topic[i] == '#' && i + 1 != n)
				abort();
	} else if (!err[0]) {
		abort();
	}
	free(sql);
	return 0;
}

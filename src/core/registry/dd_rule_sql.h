/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The syntax of a topic rule's IoT SQL and MQTT topic-filter matching (dd_rule_sql.c).
 */
#ifndef DD_RULE_SQL_H
#define DD_RULE_SQL_H

#include <stdbool.h>
#include <stddef.h>

#include "dd/common.h"

/* Checks the syntax of a topic rule's IoT SQL; copies the FROM topic filter into topic.
 * Returns 0, or DD_EINVAL with err ("Line L:C <problem> near '…'"). */
int dd_rule_sql_check(const char *sql, char *topic, size_t topiclen, char *err, size_t errlen) DD_MUST_CHECK;
/* Does the MQTT topic filter match topic ("a/#" also matches "a")? */
bool dd_rule_sql_topic_matches(const char *filter, const char *topic);

#endif

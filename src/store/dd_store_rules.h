/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Topic rules in the store: a rule's SQL text, the topic filter of its FROM clause, its
 * description, actions and error action (JSON text as given), whether it is disabled, its
 * SQL version and its creation time, per account and region. Functions return 0 or a
 * negative DD_E* (DD_ENOTFOUND, DD_EEXIST, DD_EIO for a store error) and run in the
 * caller's transaction when one is open. Callbacks return 0 to go on, > 0 to stop (the
 * call returns 0), < 0 to stop with that error.
 */
#ifndef DD_STORE_RULES_H
#define DD_STORE_RULES_H

#include <stdbool.h>
#include <stdint.h>

#include "dd/common.h"

struct dd_db;

/* A rule; the optional members are NULL when absent. */
struct dd_store_rules_rule {
	const char *sql;
	const char *topic;
	const char *description;  /* or NULL */
	const char *actions;      /* a JSON array ("[]" when none) */
	const char *error_action; /* a JSON object, or NULL */
	const char *sql_version;  /* or NULL */
	bool disabled;
	int64_t created;
};

typedef int (*dd_store_rules_fn)(void *ud, const char *name, const struct dd_store_rules_rule *r);

/* DD_EEXIST when the name is taken. r->created is the creation time. */
int dd_store_rules_insert(struct dd_db *db, const char *account_region, const char *name,
			  const struct dd_store_rules_rule *r) DD_MUST_CHECK;
/* Replaces every member but the creation time. DD_ENOTFOUND without the rule. */
int dd_store_rules_replace(struct dd_db *db, const char *account_region, const char *name,
			   const struct dd_store_rules_rule *r) DD_MUST_CHECK;
/* Calls fn once with the rule. DD_ENOTFOUND without it. */
int dd_store_rules_get(struct dd_db *db, const char *account_region, const char *name, dd_store_rules_fn fn,
		       void *ud) DD_MUST_CHECK;
/* The rules after `after` ("" for the start) by name, only the disabled (disabled = 1),
 * only the enabled (0) or all (-1), until fn stops. */
int dd_store_rules_list(struct dd_db *db, const char *account_region, const char *after, int disabled,
			dd_store_rules_fn fn, void *ud) DD_MUST_CHECK;
int dd_store_rules_set_disabled(struct dd_db *db, const char *account_region, const char *name,
				bool disabled) DD_MUST_CHECK;
int dd_store_rules_delete(struct dd_db *db, const char *account_region, const char *name) DD_MUST_CHECK;

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * SQLite implementation of topic rules (store/dd_store_rules.h): the table topic_rules.
 */
#include "store/dd_store_int.h"
#include "store/dd_store_rules.h"

#include "dd/store.h"

static int changed(struct dd_db *db, int missing)
{
	return dd_db_changes(db) > 0 ? 0 : missing;
}

static void bind_rule(struct dd_stmt *st, const struct dd_store_rules_rule *r)
{
	dd_bind_text(st, 3, r->sql);
	dd_bind_text(st, 4, r->topic);
	dd_bind_text(st, 5, r->description);
	dd_bind_text(st, 6, r->actions ? r->actions : "[]");
	dd_bind_text(st, 7, r->error_action);
	dd_bind_int64(st, 8, r->disabled);
	dd_bind_text(st, 9, r->sql_version);
}

int dd_store_rules_insert(struct dd_db *db, const char *ar, const char *name, const struct dd_store_rules_rule *r)
{
	struct dd_stmt *st = dd_db_stmt(db, "INSERT INTO topic_rules(account_region, name, sql, topic, description,"
					  " actions, error_action, disabled, sql_version, created) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) ON CONFLICT DO NOTHING");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, ar);
	dd_bind_text(st, 2, name);
	bind_rule(st, r);
	dd_bind_int64(st, 10, r->created);
	int rc = dd_step_done(st);
	return rc ? rc : changed(db, DD_EEXIST);
}

int dd_store_rules_replace(struct dd_db *db, const char *ar, const char *name, const struct dd_store_rules_rule *r)
{
	struct dd_stmt *st = dd_db_stmt(db, "UPDATE topic_rules SET sql = ?3, topic = ?4, description = ?5, actions = ?6,"
					  " error_action = ?7, disabled = ?8, sql_version = ?9 WHERE account_region = ?1 AND name = ?2");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, ar);
	dd_bind_text(st, 2, name);
	bind_rule(st, r);
	int rc = dd_step_done(st);
	return rc ? rc : changed(db, DD_ENOTFOUND);
}

static const char *opt_text(struct dd_stmt *st, int i)
{
	return dd_col_is_null(st, i) ? NULL : dd_col_text(st, i);
}

/* columns: name, sql, topic, description, actions, error_action, disabled, sql_version, created */
struct rule_cb {
	dd_store_rules_fn fn;
	void *ud;
};

static int rule_row(struct dd_stmt *st, void *ctx)
{
	const struct rule_cb *c = ctx;
	struct dd_store_rules_rule rule = {
		.sql = dd_col_text(st, 1),
		.topic = dd_col_text(st, 2),
		.description = opt_text(st, 3),
		.actions = dd_col_text(st, 4),
		.error_action = opt_text(st, 5),
		.disabled = dd_col_int64(st, 6) != 0,
		.sql_version = opt_text(st, 7),
		.created = dd_col_int64(st, 8),
	};
	return c->fn(c->ud, dd_col_text(st, 0), &rule);
}

int dd_store_rules_get(struct dd_db *db, const char *ar, const char *name, dd_store_rules_fn fn, void *ud)
{
	struct dd_stmt *st = dd_db_stmt(db, "SELECT name, sql, topic, description, actions, error_action, disabled, sql_version,"
					  " created FROM topic_rules WHERE account_region = ?1 AND name = ?2");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, ar);
	dd_bind_text(st, 2, name);
	return dd_stmt_each(st, rule_row, &(struct rule_cb){ fn, ud }, DD_EACH_GET);
}

int dd_store_rules_list(struct dd_db *db, const char *ar, const char *after, int disabled, dd_store_rules_fn fn, void *ud)
{
	struct dd_stmt *st = dd_db_stmt(db, "SELECT name, sql, topic, description, actions, error_action, disabled, sql_version,"
					  " created FROM topic_rules WHERE account_region = ?1 AND name > ?2"
					  " AND (?3 < 0 OR disabled = ?3) ORDER BY name");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, ar);
	dd_bind_text(st, 2, after ? after : "");
	dd_bind_int64(st, 3, disabled < 0 ? -1 : disabled != 0);
	return dd_stmt_each(st, rule_row, &(struct rule_cb){ fn, ud }, DD_EACH_LIST);
}

int dd_store_rules_set_disabled(struct dd_db *db, const char *ar, const char *name, bool disabled)
{
	struct dd_stmt *st = dd_db_stmt(db, "UPDATE topic_rules SET disabled = ?3 WHERE account_region = ?1 AND name = ?2");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, ar);
	dd_bind_text(st, 2, name);
	dd_bind_int64(st, 3, disabled);
	int rc = dd_step_done(st);
	return rc ? rc : changed(db, DD_ENOTFOUND);
}

int dd_store_rules_delete(struct dd_db *db, const char *ar, const char *name)
{
	struct dd_stmt *st = dd_db_stmt(db, "DELETE FROM topic_rules WHERE account_region = ?1 AND name = ?2");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, ar);
	dd_bind_text(st, 2, name);
	int rc = dd_step_done(st);
	return rc ? rc : changed(db, DD_ENOTFOUND);
}

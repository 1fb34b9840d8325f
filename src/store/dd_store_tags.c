/* SPDX-License-Identifier: Apache-2.0 */
/*
 * SQLite implementation of resource tags (store/dd_store_tags.h): the table tags, and one
 * existence query per taggable resource kind.
 */
#include "store/dd_store_int.h"
#include "store/dd_store_tags.h"

#include <string.h>

#include "dd/store.h"

int dd_store_tags_put(struct dd_db *db, const char *ar, const char *arn, const char *key, const char *value)
{
	struct dd_stmt *st = dd_db_stmt(db, "INSERT INTO tags(account_region, resource_arn, key, value) VALUES (?1, ?2, ?3, ?4)"
					  " ON CONFLICT(account_region, resource_arn, key) DO UPDATE SET value = excluded.value");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, ar);
	dd_bind_text(st, 2, arn);
	dd_bind_text(st, 3, key);
	dd_bind_text(st, 4, value ? value : "");
	return dd_step_done(st);
}

int dd_store_tags_delete(struct dd_db *db, const char *ar, const char *arn, const char *key)
{
	struct dd_stmt *st = dd_db_stmt(db, "DELETE FROM tags WHERE account_region = ?1 AND resource_arn = ?2 AND key = ?3");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, ar);
	dd_bind_text(st, 2, arn);
	dd_bind_text(st, 3, key);
	return dd_step_done(st);
}

int dd_store_tags_delete_all(struct dd_db *db, const char *ar, const char *arn)
{
	struct dd_stmt *st = dd_db_stmt(db, "DELETE FROM tags WHERE account_region = ?1 AND resource_arn = ?2");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, ar);
	dd_bind_text(st, 2, arn);
	return dd_step_done(st);
}

struct tag_cb {
	dd_store_tags_fn fn;
	void *ud;
};

static int tag_row(struct dd_stmt *st, void *ctx)
{
	const struct tag_cb *c = ctx;
	return c->fn(c->ud, dd_col_text(st, 0), dd_col_text(st, 1));
}

int dd_store_tags_list(struct dd_db *db, const char *ar, const char *arn, const char *after, int limit, dd_store_tags_fn fn,
		       void *ud)
{
	struct dd_stmt *st = dd_db_stmt(db, "SELECT key, value FROM tags WHERE account_region = ?1 AND resource_arn = ?2"
					  " AND key > ?3 ORDER BY key LIMIT ?4");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, ar);
	dd_bind_text(st, 2, arn);
	dd_bind_text(st, 3, after ? after : "");
	dd_bind_int64(st, 4, limit);
	return dd_stmt_each(st, tag_row, &(struct tag_cb){ fn, ud }, DD_EACH_LIST);
}

/* The resource kinds we keep, by the first segment of an IoT ARN's resource. */
static const struct {
	const char *kind;
	const char *sql;
} taggable[] = {
	{ "thing", "SELECT 1 FROM things WHERE account_region = ?1 AND name = ?2" },
	{ "thinggroup", "SELECT 1 FROM thing_groups WHERE account_region = ?1 AND name = ?2" },
	{ "thingtype", "SELECT 1 FROM thing_types WHERE account_region = ?1 AND name = ?2" },
	{ "billinggroup", "SELECT 1 FROM billing_groups WHERE account_region = ?1 AND name = ?2" },
	{ "rule", "SELECT 1 FROM topic_rules WHERE account_region = ?1 AND name = ?2" },
	{ "domainconfiguration", "SELECT 1 FROM domain_configurations WHERE account_region = ?1 AND name || '/' || arn_id = ?2" },
	{ "job", "SELECT 1 FROM jobs WHERE account_region = ?1 AND job_id = ?2" },
	{ "jobtemplate", "SELECT 1 FROM job_templates WHERE account_region = ?1 AND template_id = ?2" },
	{ "policy", "SELECT 1 FROM policies WHERE account_region = ?1 AND name = ?2" },
	{ "rolealias", "SELECT 1 FROM role_aliases WHERE account_region = ?1 AND alias = ?2" },
	{ "cert", "SELECT 1 FROM certificates WHERE account_region = ?1 AND id = ?2" },
	{ "cacert", "SELECT 1 FROM ca_certificates WHERE account_region = ?1 AND id = ?2" },
	{ "mitigationaction", "SELECT 1 FROM mitigation_actions WHERE account_region = ?1 AND name = ?2" },
	{ "scheduledaudit", "SELECT 1 FROM scheduled_audits WHERE account_region = ?1 AND name = ?2" },
};

int dd_store_tags_resource_exists(struct dd_db *db, const char *ar, const char *kind, const char *id, bool *yes)
{
	*yes = false;
	for (size_t i = 0; i < sizeof taggable / sizeof taggable[0]; i++) {
		if (strcmp(taggable[i].kind, kind) != 0)
			continue;
		struct dd_stmt *st = dd_db_stmt(db, taggable[i].sql);
		if (!st)
			return DD_EIO;
		dd_bind_text(st, 1, ar);
		dd_bind_text(st, 2, id);
		int r = dd_stmt_step(st);
		dd_stmt_reset(st);
		*yes = r == DD_STMT_ROW;
		return r == DD_STMT_ROW || r == DD_STMT_DONE ? 0 : DD_EIO;
	}
	return DD_EINVAL;
}

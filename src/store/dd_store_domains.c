/* SPDX-License-Identifier: Apache-2.0 */
/*
 * SQLite implementation of domain configurations (store/dd_store_domains.h): the table
 * domain_configurations.
 */
#include "store/dd_store_int.h"
#include "store/dd_store_domains.h"

#include "dd/store.h"

static int changed(struct dd_db *db, int missing)
{
	return dd_db_changes(db) > 0 ? 0 : missing;
}

int dd_store_domains_count(struct dd_db *db, const char *ar, const char *name, int64_t *total, bool *exists)
{
	*total = 0;
	*exists = false;
	struct dd_stmt *st = dd_db_stmt(db, "SELECT count(*), coalesce(sum(CASE WHEN name = ?2 THEN 1 ELSE 0 END), 0) FROM domain_configurations WHERE account_region = ?1");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, ar);
	dd_bind_text(st, 2, name);
	int r = dd_stmt_step(st);
	if (r == DD_STMT_ROW) {
		*total = dd_col_int64(st, 0);
		*exists = dd_col_int64(st, 1) != 0;
	}
	dd_stmt_reset(st);
	return r == DD_STMT_ROW || r == DD_STMT_DONE ? 0 : DD_EIO;
}

int dd_store_domains_insert(struct dd_db *db, const char *ar, const struct dd_store_domains_row *r)
{
	struct dd_stmt *st = dd_db_stmt(db, "INSERT INTO domain_configurations(account_region, name, arn_id, config, status,"
					  " service_type, domain_type, status_changed, created) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) ON CONFLICT DO NOTHING");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, ar);
	dd_bind_text(st, 2, r->name);
	dd_bind_text(st, 3, r->arn_id);
	dd_bind_text(st, 4, r->config ? r->config : "{}");
	dd_bind_text(st, 5, r->status);
	dd_bind_text(st, 6, r->service_type);
	dd_bind_text(st, 7, r->domain_type);
	dd_bind_int64(st, 8, r->status_changed);
	dd_bind_int64(st, 9, r->created);
	int rc = dd_step_done(st);
	return rc ? rc : changed(db, DD_EEXIST);
}

/* columns: name, arn_id, config, status, service_type, domain_type, status_changed, created */
struct domain_cb {
	dd_store_domains_fn fn;
	void *ud;
};

static int domain_row(struct dd_stmt *st, void *ctx)
{
	const struct domain_cb *c = ctx;
	struct dd_store_domains_row row = {
		.name = dd_col_text(st, 0),
		.arn_id = dd_col_text(st, 1),
		.config = dd_col_text(st, 2),
		.status = dd_col_text(st, 3),
		.service_type = dd_col_text(st, 4),
		.domain_type = dd_col_text(st, 5),
		.status_changed = dd_col_int64(st, 6),
		.created = dd_col_int64(st, 7),
	};
	return c->fn(c->ud, &row);
}

int dd_store_domains_get(struct dd_db *db, const char *ar, const char *name, dd_store_domains_fn fn, void *ud)
{
	struct dd_stmt *st = dd_db_stmt(db, "SELECT name, arn_id, config, status, service_type, domain_type, status_changed, created"
					  " FROM domain_configurations WHERE account_region = ?1 AND name = ?2");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, ar);
	dd_bind_text(st, 2, name);
	return dd_stmt_each(st, domain_row, &(struct domain_cb){ fn, ud }, DD_EACH_GET);
}

int dd_store_domains_list(struct dd_db *db, const char *ar, const char *after, const char *service_type, int limit,
			  dd_store_domains_fn fn, void *ud)
{
	struct dd_stmt *st = dd_db_stmt(db, "SELECT name, arn_id, config, status, service_type, domain_type, status_changed, created"
					  " FROM domain_configurations WHERE account_region = ?1 AND name > ?2"
					  " AND (?3 IS NULL OR service_type = ?3) ORDER BY name LIMIT ?4");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, ar);
	dd_bind_text(st, 2, after ? after : "");
	dd_bind_text(st, 3, service_type);
	dd_bind_int64(st, 4, limit);
	return dd_stmt_each(st, domain_row, &(struct domain_cb){ fn, ud }, DD_EACH_LIST);
}

int dd_store_domains_update(struct dd_db *db, const char *ar, const char *name, const char *config, const char *status,
			    int64_t status_changed_ms)
{
	struct dd_stmt *st = dd_db_stmt(db, "UPDATE domain_configurations SET config = ?3, status = coalesce(?4, status),"
					  " status_changed = CASE WHEN ?5 >= 0 THEN ?5 ELSE status_changed END"
					  " WHERE account_region = ?1 AND name = ?2");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, ar);
	dd_bind_text(st, 2, name);
	dd_bind_text(st, 3, config);
	dd_bind_text(st, 4, status);
	dd_bind_int64(st, 5, status_changed_ms);
	int rc = dd_step_done(st);
	return rc ? rc : changed(db, DD_ENOTFOUND);
}

int dd_store_domains_delete(struct dd_db *db, const char *ar, const char *name)
{
	struct dd_stmt *st = dd_db_stmt(db, "DELETE FROM domain_configurations WHERE account_region = ?1 AND name = ?2");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, ar);
	dd_bind_text(st, 2, name);
	int rc = dd_step_done(st);
	return rc ? rc : changed(db, DD_ENOTFOUND);
}

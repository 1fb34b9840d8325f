/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The SQLite implementation of dd_store_cognito.h over table cognito_pools (primary key
 * account, id; indexed by account, region, id for the regional listings).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/dd_store_int.h"
#include "dd/store.h"
#include "store/dd_store_cognito.h"

#define POOL_COLS "id, region, name, config, roles, role_mappings, created"

static char *dup_col(struct dd_stmt *st, int col, int *rc)
{
	if (dd_col_is_null(st, col))
		return NULL;
	char *s = strdup(dd_col_text(st, col));
	if (!s)
		*rc = DD_ENOMEM;
	return s;
}

static int write_one(struct dd_db *db, struct dd_stmt *st)
{
	int rc = dd_step_done(st);
	if (rc)
		return rc;
	return dd_db_changes(db) ? 0 : DD_ENOTFOUND;
}

void dd_store_cognito_clear(struct dd_store_cognito_pool *p)
{
	if (!p)
		return;
	free(p->id);
	free(p->region);
	free(p->name);
	free(p->config);
	free(p->roles);
	free(p->role_mappings);
	memset(p, 0, sizeof *p);
}

int dd_store_cognito_count(struct dd_db *db, const char *account, const char *region, int64_t *n)
{
	struct dd_stmt *st = dd_db_stmt(db, "SELECT count(*) FROM cognito_pools WHERE account = ?1 AND region = ?2");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account);
	dd_bind_text(st, 2, region);
	int step = dd_stmt_step(st);
	if (step == DD_STMT_ROW)
		*n = dd_col_int64(st, 0);
	dd_stmt_reset(st);
	return step == DD_STMT_ROW ? 0 : DD_EIO;
}

int dd_store_cognito_insert(struct dd_db *db, const char *account, const struct dd_store_cognito_pool *p)
{
	struct dd_stmt *st = dd_db_stmt(db, "INSERT INTO cognito_pools(account, id, region, name, config, roles,"
					  " role_mappings, created) VALUES (?1, ?2, ?3, ?4, ?5, coalesce(?6, '{}'), ?7, ?8)");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account);
	dd_bind_text(st, 2, p->id);
	dd_bind_text(st, 3, p->region);
	dd_bind_text(st, 4, p->name ? p->name : "");
	dd_bind_text(st, 5, p->config);
	dd_bind_text(st, 6, p->roles);
	dd_bind_text(st, 7, p->role_mappings);
	dd_bind_int64(st, 8, p->created_ms);
	return dd_step_done(st);
}

int dd_store_cognito_get(struct dd_db *db, const char *account, const char *region, const char *id,
			 struct dd_store_cognito_pool *out)
{
	struct dd_stmt *st = dd_db_stmt(db, "SELECT " POOL_COLS " FROM cognito_pools WHERE account = ?1 AND id = ?2 AND region = ?3");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account);
	dd_bind_text(st, 2, id ? id : "");
	dd_bind_text(st, 3, region);
	int step = dd_stmt_step(st);
	if (step != DD_STMT_ROW) {
		dd_stmt_reset(st);
		return step == DD_STMT_DONE ? DD_ENOTFOUND : DD_EIO;
	}
	int rc = 0;
	struct dd_store_cognito_pool p = {
		.id = dup_col(st, 0, &rc), .region = dup_col(st, 1, &rc), .name = dup_col(st, 2, &rc),
		.config = dup_col(st, 3, &rc), .roles = dup_col(st, 4, &rc), .role_mappings = dup_col(st, 5, &rc),
		.created_ms = dd_col_int64(st, 6),
	};
	dd_stmt_reset(st);
	if (!rc && (!p.id || !p.region || !p.name || !p.config || !p.roles))
		rc = DD_ENOMEM;
	if (rc) {
		dd_store_cognito_clear(&p);
		return rc;
	}
	*out = p;
	return 0;
}

int dd_store_cognito_update(struct dd_db *db, const char *account, const char *region, const char *id,
			    const char *name, const char *config)
{
	struct dd_stmt *st = dd_db_stmt(db, "UPDATE cognito_pools SET config = ?4, name = ?5 WHERE account = ?1 AND id = ?2 AND region = ?3");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account);
	dd_bind_text(st, 2, id ? id : "");
	dd_bind_text(st, 3, region);
	dd_bind_text(st, 4, config);
	dd_bind_text(st, 5, name);
	return write_one(db, st);
}

int dd_store_cognito_set_roles(struct dd_db *db, const char *account, const char *region, const char *id,
			       const char *roles, const char *role_mappings)
{
	struct dd_stmt *st = dd_db_stmt(db, "UPDATE cognito_pools SET roles = coalesce(?4, '{}'), role_mappings = ?5"
					  " WHERE account = ?1 AND id = ?2 AND region = ?3");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account);
	dd_bind_text(st, 2, id ? id : "");
	dd_bind_text(st, 3, region);
	dd_bind_text(st, 4, roles);
	dd_bind_text(st, 5, role_mappings);
	return write_one(db, st);
}

int dd_store_cognito_delete(struct dd_db *db, const char *account, const char *region, const char *id)
{
	struct dd_stmt *st = dd_db_stmt(db, "DELETE FROM cognito_pools WHERE account = ?1 AND id = ?2 AND region = ?3");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account);
	dd_bind_text(st, 2, id ? id : "");
	dd_bind_text(st, 3, region);
	return write_one(db, st);
}

int dd_store_cognito_list(struct dd_db *db, const char *account, const char *region, const char *after, int limit,
			  dd_store_cognito_fn fn, void *ud)
{
	struct dd_stmt *st = dd_db_stmt(db, "SELECT " POOL_COLS " FROM cognito_pools WHERE account = ?1"
					  " AND (?2 IS NULL OR region = ?2) AND id > ?3 ORDER BY id LIMIT ?4");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account);
	dd_bind_text(st, 2, region);
	dd_bind_text(st, 3, after ? after : "");
	dd_bind_int64(st, 4, limit > 0 ? limit : INT64_MAX);
	int step = DD_STMT_DONE, stop = 0;
	while (!stop && (step = dd_stmt_step(st)) == DD_STMT_ROW) {
		struct dd_store_cognito_pool p = {
			.id = (char *)dd_col_text(st, 0), .region = (char *)dd_col_text(st, 1),
			.name = (char *)dd_col_text(st, 2), .config = (char *)dd_col_text(st, 3),
			.roles = (char *)dd_col_text(st, 4),
			.role_mappings = dd_col_is_null(st, 5) ? NULL : (char *)dd_col_text(st, 5),
			.created_ms = dd_col_int64(st, 6),
		};
		stop = fn(&p, ud);
	}
	dd_stmt_reset(st);
	if (stop)
		return stop;
	return step == DD_STMT_DONE ? 0 : DD_EIO;
}

int dd_store_cognito_owner(struct dd_db *db, const char *id, char account[13], char region[64])
{
	/* pool ids are "<region>:<uuid>" with a random uuid: one row, whatever the account */
	struct dd_stmt *st = dd_db_stmt(db, "SELECT account, region FROM cognito_pools WHERE id = ?1 LIMIT 2");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, id ? id : "");
	int rows = 0, step;
	int rc = DD_ENOTFOUND;
	while ((step = dd_stmt_step(st)) == DD_STMT_ROW) {
		if (++rows > 1) {
			rc = DD_ENOTFOUND; /* never served to a caller who cannot say whose it is */
			break;
		}
		const char *a = dd_col_text(st, 0), *r = dd_col_text(st, 1);
		if (strlen(a) != 12 || strlen(r) >= 64)
			break;
		memcpy(account, a, 13);
		memcpy(region, r, strlen(r) + 1);
		rc = 0;
	}
	if (step != DD_STMT_ROW && step != DD_STMT_DONE)
		rc = DD_EIO;
	dd_stmt_reset(st);
	return rc;
}

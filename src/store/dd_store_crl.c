/* SPDX-License-Identifier: Apache-2.0 */
/*
 * SQLite implementation of the CRL aggregate (dd_store_crl.h): tables crls (one row per
 * CA, the DER as a blob), crl_revoked (its serials) and crl_fetches (one row per URL),
 * all keyed by account_region first. crl_revoked always holds exactly the serials of the
 * crls row of the same CA: dd_store_crl_put and dd_store_crl_delete change both.
 */
#include "store/dd_store_int.h"
#include "store/dd_store_crl.h"

#include <stdio.h>
#include <string.h>

#include "dd/store.h"

int dd_store_crl_this_update(struct dd_db *db, const char *account_region, const char *ca_id, int64_t *this_update_ms)
{
	struct dd_stmt *st = dd_db_stmt(db, "SELECT this_update FROM crls WHERE account_region = ?1 AND ca_id = ?2");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account_region);
	dd_bind_text(st, 2, ca_id);
	int s = dd_stmt_step(st);
	if (s == DD_STMT_ROW && this_update_ms)
		*this_update_ms = dd_col_int64(st, 0);
	dd_stmt_reset(st);
	return s == DD_STMT_ROW ? 0 : s == DD_STMT_DONE ? DD_ENOTFOUND : DD_EIO;
}

int dd_store_crl_put(struct dd_db *db, const char *account_region, const struct dd_store_crl_row *r,
		     const char *const *serials, size_t n)
{
	if (!r || !r->ca_id || (n && !serials))
		return DD_EINVAL;
	struct dd_stmt *st = dd_db_stmt(db, "INSERT INTO crls(account_region, ca_id, issuer, this_update, next_update,"
					  " der, source, stored, n_revoked) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
					  " ON CONFLICT(account_region, ca_id) DO UPDATE SET issuer = excluded.issuer,"
					  " this_update = excluded.this_update, next_update = excluded.next_update, der = excluded.der,"
					  " source = excluded.source, stored = excluded.stored, n_revoked = excluded.n_revoked");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account_region);
	dd_bind_text(st, 2, r->ca_id);
	dd_bind_text(st, 3, r->issuer);
	dd_bind_int64(st, 4, r->this_update_ms);
	dd_bind_int64(st, 5, r->next_update_ms);
	dd_bind_blob(st, 6, r->der ? r->der : "", (int)r->der_len);
	dd_bind_text(st, 7, r->source);
	dd_bind_int64(st, 8, r->stored_ms);
	dd_bind_int64(st, 9, (int64_t)n);
	if (dd_step_done(st))
		return DD_EIO;
	st = dd_db_stmt(db, "DELETE FROM crl_revoked WHERE account_region = ?1 AND ca_id = ?2");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account_region);
	dd_bind_text(st, 2, r->ca_id);
	if (dd_step_done(st))
		return DD_EIO;
	for (size_t i = 0; i < n; i++) {
		st = dd_db_stmt(db, "INSERT INTO crl_revoked(account_region, ca_id, serial) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING");
		if (!st)
			return DD_EIO;
		dd_bind_text(st, 1, account_region);
		dd_bind_text(st, 2, r->ca_id);
		dd_bind_text(st, 3, serials[i]);
		if (dd_step_done(st))
			return DD_EIO;
	}
	return 0;
}

int dd_store_crl_delete(struct dd_db *db, const char *account_region, const char *ca_id)
{
	struct dd_stmt *st = dd_db_stmt(db, "DELETE FROM crls WHERE account_region = ?1 AND ca_id = ?2");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account_region);
	dd_bind_text(st, 2, ca_id);
	if (dd_step_done(st))
		return DD_EIO;
	st = dd_db_stmt(db, "DELETE FROM crl_revoked WHERE account_region = ?1 AND ca_id = ?2");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account_region);
	dd_bind_text(st, 2, ca_id);
	return dd_step_done(st) ? DD_EIO : 0;
}

int dd_store_crl_any(struct dd_db *db, const char *account_region)
{
	struct dd_stmt *st = dd_db_stmt(db, "SELECT 1 FROM crls WHERE account_region = ?1 LIMIT 1");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account_region);
	int s = dd_stmt_step(st);
	dd_stmt_reset(st);
	return s == DD_STMT_ROW ? 1 : s == DD_STMT_DONE ? 0 : DD_EIO;
}

int dd_store_crl_revoked(struct dd_db *db, const char *account_region, const char *issuer, const char *serial,
			 int64_t max_this_update_ms, int64_t min_next_update_ms, char by_ca[65])
{
	struct dd_stmt *st = dd_db_stmt(db,
		"SELECT k.ca_id FROM crls k JOIN crl_revoked r ON r.account_region = k.account_region AND r.ca_id = k.ca_id"
		" AND r.serial = ?3 WHERE k.account_region = ?1 AND k.issuer = ?2 AND k.this_update <= ?4"
		" AND (k.next_update = 0 OR k.next_update >= ?5) ORDER BY k.ca_id LIMIT 1");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account_region);
	dd_bind_text(st, 2, issuer);
	dd_bind_text(st, 3, serial);
	dd_bind_int64(st, 4, max_this_update_ms);
	dd_bind_int64(st, 5, min_next_update_ms);
	int s = dd_stmt_step(st);
	int found = s == DD_STMT_ROW ? 1 : s == DD_STMT_DONE ? 0 : DD_EIO;
	if (found == 1 && by_ca)
		snprintf(by_ca, 65, "%s", dd_col_text(st, 0));
	dd_stmt_reset(st);
	return found;
}

struct crl_cb {
	dd_store_crl_row_fn fn;
	void *ud;
};

static int crl_row(struct dd_stmt *st, void *ctx)
{
	const struct crl_cb *c = ctx;
	struct dd_store_crl_row r = {
		.ca_id = dd_col_text(st, 0), .issuer = dd_col_text(st, 1),
		.this_update_ms = dd_col_int64(st, 2), .next_update_ms = dd_col_int64(st, 3),
		.source = dd_col_text(st, 4), .stored_ms = dd_col_int64(st, 5),
		.n_revoked = dd_col_int64(st, 6),
	};
	return c->fn(&r, c->ud);
}

int dd_store_crl_list(struct dd_db *db, const char *account_region, const char *ca_id, dd_store_crl_row_fn fn, void *ud)
{
	struct dd_stmt *st = dd_db_stmt(db, "SELECT ca_id, issuer, this_update, next_update, source, stored, n_revoked"
					  " FROM crls WHERE account_region = ?1 AND (?2 IS NULL OR ca_id = ?2) ORDER BY ca_id");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account_region);
	dd_bind_text(st, 2, ca_id);
	return dd_stmt_each(st, crl_row, &(struct crl_cb){ fn, ud }, DD_EACH_PASS);
}

/* ---- fetch cache ------------------------------------------------------------------------ */

/* Steps a statement whose columns are those of fetch_cols. */
#define FETCH_COLS "url, last_attempt, last_success, ok_until, this_update, next_update, ca_id, last_error, fetches, failures"

struct fetch_cb {
	dd_store_crl_fetch_fn fn;
	void *ud;
	bool *seen;
};

static int fetch_row(struct dd_stmt *st, void *ctx)
{
	const struct fetch_cb *c = ctx;
	struct dd_store_crl_fetch f = {
		.url = dd_col_text(st, 0), .last_attempt_ms = dd_col_int64(st, 1),
		.last_success_ms = dd_col_int64(st, 2), .ok_until_ms = dd_col_int64(st, 3),
		.this_update_ms = dd_col_int64(st, 4), .next_update_ms = dd_col_int64(st, 5),
		.ca_id = dd_col_is_null(st, 6) ? NULL : dd_col_text(st, 6),
		.last_error = dd_col_is_null(st, 7) ? NULL : dd_col_text(st, 7),
		.fetches = dd_col_int64(st, 8), .failures = dd_col_int64(st, 9),
	};
	if (c->seen)
		*c->seen = true;
	return c->fn(&f, c->ud);
}

static int each_fetch(struct dd_stmt *st, dd_store_crl_fetch_fn fn, void *ud, bool *seen)
{
	return dd_stmt_each(st, fetch_row, &(struct fetch_cb){ fn, ud, seen }, DD_EACH_PASS);
}

int dd_store_crl_fetch_get(struct dd_db *db, const char *account_region, const char *url, dd_store_crl_fetch_fn fn,
			   void *ud)
{
	struct dd_stmt *st = dd_db_stmt(db, "SELECT " FETCH_COLS " FROM crl_fetches WHERE account_region = ?1 AND url = ?2");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account_region);
	dd_bind_text(st, 2, url);
	bool seen = false;
	int rc = each_fetch(st, fn, ud, &seen);
	return !rc && !seen ? DD_ENOTFOUND : rc;
}

int dd_store_crl_fetch_list(struct dd_db *db, const char *account_region, const char *ca_id, dd_store_crl_fetch_fn fn,
			    void *ud)
{
	struct dd_stmt *st = dd_db_stmt(db, "SELECT " FETCH_COLS " FROM crl_fetches WHERE account_region = ?1"
					  " AND (?2 IS NULL OR ca_id = ?2) ORDER BY url");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account_region);
	dd_bind_text(st, 2, ca_id);
	return each_fetch(st, fn, ud, NULL);
}

int dd_store_crl_fetch_succeeded(struct dd_db *db, const char *account_region, const char *url, int64_t now_ms,
				 int64_t ok_until_ms, int64_t this_update_ms, int64_t next_update_ms, const char *ca_id)
{
	struct dd_stmt *st = dd_db_stmt(db,
		"INSERT INTO crl_fetches(account_region, url, last_attempt, last_success, ok_until, this_update,"
		" next_update, ca_id, last_error, fetches, failures) VALUES (?1, ?2, ?3, ?3, ?4, ?5, ?6, ?7, NULL, 1, 0)"
		" ON CONFLICT(account_region, url) DO UPDATE SET last_attempt = ?3, last_success = ?3, ok_until = ?4,"
		" this_update = ?5, next_update = ?6, ca_id = ?7, last_error = NULL, fetches = crl_fetches.fetches + 1");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account_region);
	dd_bind_text(st, 2, url);
	dd_bind_int64(st, 3, now_ms);
	dd_bind_int64(st, 4, ok_until_ms);
	dd_bind_int64(st, 5, this_update_ms);
	dd_bind_int64(st, 6, next_update_ms);
	dd_bind_text(st, 7, ca_id);
	return dd_step_done(st) ? DD_EIO : 0;
}

int dd_store_crl_fetch_failed(struct dd_db *db, const char *account_region, const char *url, int64_t now_ms,
			      const char *error)
{
	struct dd_stmt *st = dd_db_stmt(db,
		"INSERT INTO crl_fetches(account_region, url, last_attempt, last_success, ok_until, this_update,"
		" next_update, ca_id, last_error, fetches, failures) VALUES (?1, ?2, ?3, 0, 0, 0, 0, NULL, ?4, 1, 1)"
		" ON CONFLICT(account_region, url) DO UPDATE SET last_attempt = ?3, ok_until = 0, last_error = ?4,"
		" fetches = crl_fetches.fetches + 1, failures = crl_fetches.failures + 1");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account_region);
	dd_bind_text(st, 2, url);
	dd_bind_int64(st, 3, now_ms);
	dd_bind_text(st, 4, error ? error : "");
	return dd_step_done(st) ? DD_EIO : 0;
}

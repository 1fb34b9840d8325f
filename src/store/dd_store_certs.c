/* SPDX-License-Identifier: Apache-2.0 */
/*
 * SQLite implementation of the certificates aggregate (dd_store_certs.h): tables
 * certificates and ca_certificates (same fact columns, facts_version and self_signed from
 * migration 3), the registration code in settings, and the attachment and tag rows a
 * certificate deletion looks at (thing_principals, policy_targets, tags). Each SQL text
 * exists once per table; the two kinds pick their statement by a table index.
 */
#include "store/dd_store_int.h"
#include "store/dd_store_certs.h"

#include <stdio.h>
#include <string.h>

#include "dd/store.h"

#define DEV DD_STORE_CERTS_DEVICE
#define CA DD_STORE_CERTS_CA

static int kind_ok(enum dd_store_certs_kind kind)
{
	return kind == DEV || kind == CA;
}

/* ---- reads ---------------------------------------------------------------------------- */

/* Columns 0..21 of the scans: see fill_scan. */
#define SCAN_COLS(ca_col) \
	"id, status, " ca_col ", mode, subject, issuer, subject_cn, serial, created, modified, not_before," \
	" not_after, key_type, key_bits, curve, pubkey_sha256, key_sha256, key_sha1_80, is_ca, self_signed, roca, debian"

static void fill_scan(struct dd_stmt *st, struct dd_store_certs_row *r)
{
	memset(r, 0, sizeof *r);
	r->id = dd_col_text(st, 0);
	r->status = dd_col_text(st, 1);
	r->ca_id = dd_col_text(st, 2);
	r->mode = dd_col_text(st, 3);
	r->f.subject = dd_col_text(st, 4);
	r->f.issuer = dd_col_text(st, 5);
	r->f.subject_cn = dd_col_text(st, 6);
	r->f.serial = dd_col_text(st, 7);
	r->created_ms = dd_col_int64(st, 8);
	r->modified_ms = dd_col_int64(st, 9);
	r->f.not_before_ms = dd_col_int64(st, 10);
	r->f.not_after_ms = dd_col_int64(st, 11);
	r->f.key_type = dd_col_text(st, 12);
	r->f.key_bits = dd_col_int(st, 13);
	r->f.curve = dd_col_text(st, 14);
	r->f.pubkey_sha256 = dd_col_text(st, 15);
	r->f.key_sha256 = dd_col_text(st, 16);
	r->f.key_sha1_80 = dd_col_text(st, 17);
	r->f.is_ca = dd_col_int(st, 18) != 0;
	r->f.self_signed = dd_col_int(st, 19) != 0;
	r->f.roca = dd_col_int(st, 20);
	r->f.debian = dd_col_int(st, 21);
}

struct cert_cb {
	void (*fill)(struct dd_stmt *, struct dd_store_certs_row *);
	dd_store_certs_row_fn fn;
	void *ud;
	bool *seen;
};

static int cert_row(struct dd_stmt *st, void *ctx)
{
	const struct cert_cb *c = ctx;
	struct dd_store_certs_row r;
	c->fill(st, &r);
	if (c->seen)
		*c->seen = true;
	return c->fn(&r, c->ud);
}

/* Steps st calling fn per row (filled by fill); resets st. */
static int each_row(struct dd_stmt *st, void (*fill)(struct dd_stmt *, struct dd_store_certs_row *),
		    dd_store_certs_row_fn fn, void *ud, bool *seen)
{
	return dd_stmt_each(st, cert_row, &(struct cert_cb){ fill, fn, ud, seen }, DD_EACH_PASS);
}

int dd_store_certs_scan(struct dd_db *db, const char *account_region, enum dd_store_certs_kind kind, const char *id,
			dd_store_certs_row_fn fn, void *ud)
{
	static const char *const sql[2] = {
		"SELECT " SCAN_COLS("coalesce(ca_id, '')") " FROM certificates"
		" WHERE account_region = ?1 AND (?2 IS NULL OR id = ?2) ORDER BY id",
		"SELECT " SCAN_COLS("''") " FROM ca_certificates"
		" WHERE account_region = ?1 AND (?2 IS NULL OR id = ?2) ORDER BY id",
	};
	if (!kind_ok(kind))
		return DD_EINVAL;
	/* every row of the kind (the audit's pass) is streamed; one id is not worth a cursor */
	struct dd_stmt *st = id ? dd_db_stmt(db, sql[kind]) : dd_db_stmt_scan(db, sql[kind]);
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account_region);
	dd_bind_text(st, 2, id);
	return each_row(st, fill_scan, fn, ud, NULL);
}

int dd_store_certs_scan_range(struct dd_db *db, const char *account_region, enum dd_store_certs_kind kind,
			      const char *lo, const char *hi, dd_store_certs_row_fn fn, void *ud)
{
	/* two texts, so that the upper bound is an index bound (an "?3 IS NULL OR" would
	 * make every shard scan to the end of the table) */
	static const char *const sql[2][2] = {
		{ "SELECT " SCAN_COLS("coalesce(ca_id, '')") " FROM certificates"
		  " WHERE account_region = ?1 AND id >= ?2 ORDER BY id",
		  "SELECT " SCAN_COLS("coalesce(ca_id, '')") " FROM certificates"
		  " WHERE account_region = ?1 AND id >= ?2 AND id < ?3 ORDER BY id" },
		{ "SELECT " SCAN_COLS("''") " FROM ca_certificates WHERE account_region = ?1 AND id >= ?2 ORDER BY id",
		  "SELECT " SCAN_COLS("''") " FROM ca_certificates WHERE account_region = ?1 AND id >= ?2 AND id < ?3"
		  " ORDER BY id" },
	};
	if (!kind_ok(kind))
		return DD_EINVAL;
	struct dd_stmt *st = dd_db_stmt_scan(db, sql[kind][hi != NULL]);
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account_region);
	dd_bind_text(st, 2, lo ? lo : "");
	if (hi)
		dd_bind_text(st, 3, hi);
	return each_row(st, fill_scan, fn, ud, NULL);
}

int dd_store_certs_id_bounds(struct dd_db *db, const char *account_region, int64_t every,
			     int (*fn)(const char *id, void *ud), void *ud)
{
	/* PostgreSQL: only the bounds cross the connection (this read runs outside a
	 * transaction, where a scan is fetched at once: every id of 1 M would be ~100 MB);
	 * SQLite steps through the index as cheaply as it would number its rows */
	bool pg = dd_db_is_pg(db);
	struct dd_stmt *st = dd_db_stmt(db, pg ? "SELECT id FROM (SELECT id, row_number() OVER (ORDER BY id) AS n"
						 " FROM certificates WHERE account_region = ?1) AS t WHERE n % ?2 = 0 ORDER BY id"
					       : "SELECT id FROM certificates WHERE account_region = ?1 ORDER BY id");
	if (!st || every <= 0)
		return DD_EIO;
	dd_bind_text(st, 1, account_region);
	if (pg)
		dd_bind_int64(st, 2, every);
	int rc, ret = 0;
	int64_t n = 0;
	while ((rc = dd_stmt_step(st)) == DD_STMT_ROW)
		if ((pg || ++n % every == 0) && (ret = fn(dd_col_text(st, 0), ud)))
			break;
	dd_stmt_reset(st);
	if (ret)
		return ret;
	return rc == DD_STMT_DONE ? 0 : DD_EIO;
}

/* Columns 22.. of a full row. */
static void fill_full(struct dd_stmt *st, struct dd_store_certs_row *r)
{
	fill_scan(st, r);
	r->owner = dd_col_text(st, 22);
	r->customer_version = dd_col_int64(st, 23);
	r->generation_id = dd_col_text(st, 24);
	r->pem = dd_col_text(st, 25);
	r->auto_registration = dd_col_text(st, 26);
	r->registration_config = dd_col_is_null(st, 27) ? NULL : dd_col_text(st, 27);
	r->f.ski = dd_col_text(st, 28);
	r->f.aki = dd_col_text(st, 29);
	r->f.crl_urls = dd_col_text(st, 30);
	r->f.facts_version = dd_col_int(st, 31);
}

int dd_store_certs_get(struct dd_db *db, const char *account_region, enum dd_store_certs_kind kind, const char *id,
		       dd_store_certs_row_fn fn, void *ud)
{
	static const char *const sql[2] = {
		"SELECT " SCAN_COLS("coalesce(ca_id, '')") ", owner, customer_version, generation_id, pem, '', NULL,"
		" ski, aki, crl_urls, facts_version FROM certificates WHERE account_region = ?1 AND id = ?2",
		"SELECT " SCAN_COLS("''") ", owner, customer_version, generation_id, pem, auto_registration,"
		" registration_config, ski, aki, crl_urls, facts_version FROM ca_certificates"
		" WHERE account_region = ?1 AND id = ?2",
	};
	if (!kind_ok(kind) || !id)
		return DD_EINVAL;
	struct dd_stmt *st = dd_db_stmt(db, sql[kind]);
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account_region);
	dd_bind_text(st, 2, id);
	bool seen = false;
	int rc = each_row(st, fill_full, fn, ud, &seen);
	return !rc && !seen ? DD_ENOTFOUND : rc;
}

int dd_store_certs_exists(struct dd_db *db, const char *account_region, enum dd_store_certs_kind kind, const char *id)
{
	static const char *const sql[2] = {
		"SELECT 1 FROM certificates WHERE account_region = ?1 AND id = ?2",
		"SELECT 1 FROM ca_certificates WHERE account_region = ?1 AND id = ?2",
	};
	if (!kind_ok(kind))
		return DD_EINVAL;
	struct dd_stmt *st = dd_db_stmt(db, sql[kind]);
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account_region);
	dd_bind_text(st, 2, id);
	int s = dd_stmt_step(st);
	dd_stmt_reset(st);
	return s == DD_STMT_ROW ? 1 : s == DD_STMT_DONE ? 0 : DD_EIO;
}

int dd_store_certs_status(struct dd_db *db, const char *account_region, enum dd_store_certs_kind kind,
			  const char *id, char status[32])
{
	static const char *const sql[2] = {
		"SELECT status FROM certificates WHERE account_region = ?1 AND id = ?2",
		"SELECT status FROM ca_certificates WHERE account_region = ?1 AND id = ?2",
	};
	status[0] = '\0';
	if (!kind_ok(kind))
		return DD_EINVAL;
	struct dd_stmt *st = dd_db_stmt(db, sql[kind]);
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account_region);
	dd_bind_text(st, 2, id);
	int s = dd_stmt_step(st), rc = s == DD_STMT_ROW ? 0 : s == DD_STMT_DONE ? DD_ENOTFOUND : DD_EIO;
	if (s == DD_STMT_ROW)
		snprintf(status, 32, "%s", dd_col_text(st, 0));
	dd_stmt_reset(st);
	return rc;
}

/* ---- writes --------------------------------------------------------------------------- */

/* Binds the 20 fact columns (subject … self_signed) from index i. */
static void bind_facts(struct dd_stmt *st, int i, const struct dd_store_certs_facts *f)
{
	dd_bind_text(st, i++, f->subject);
	dd_bind_text(st, i++, f->issuer);
	dd_bind_text(st, i++, f->subject_cn);
	dd_bind_text(st, i++, f->serial);
	dd_bind_int64(st, i++, f->not_before_ms);
	dd_bind_int64(st, i++, f->not_after_ms);
	dd_bind_text(st, i++, f->key_type);
	dd_bind_int64(st, i++, f->key_bits);
	dd_bind_text(st, i++, f->curve);
	dd_bind_text(st, i++, f->pubkey_sha256);
	dd_bind_text(st, i++, f->key_sha256);
	dd_bind_text(st, i++, f->key_sha1_80);
	dd_bind_int64(st, i++, f->is_ca);
	dd_bind_text(st, i++, f->ski);
	dd_bind_text(st, i++, f->aki);
	dd_bind_text(st, i++, f->crl_urls ? f->crl_urls : "[]");
	dd_bind_int64(st, i++, f->roca);
	dd_bind_int64(st, i++, f->debian);
	dd_bind_int64(st, i++, f->facts_version);
	dd_bind_int64(st, i++, f->self_signed);
}

int dd_store_certs_insert(struct dd_db *db, const char *account_region, enum dd_store_certs_kind kind,
			  const struct dd_store_certs_row *r)
{
	if (!kind_ok(kind) || !r || !r->id)
		return DD_EINVAL;
	int ex = dd_store_certs_exists(db, account_region, kind, r->id);
	if (ex)
		return ex == 1 ? DD_EEXIST : ex;
	struct dd_stmt *st;
	if (kind == CA) {
		st = dd_db_stmt(db,
			"INSERT INTO ca_certificates(account_region, id, status, pem, mode, auto_registration, registration_config,"
			" owner, created, modified, customer_version, generation_id, subject, issuer, subject_cn, serial,"
			" not_before, not_after, key_type, key_bits, curve, pubkey_sha256, key_sha256, key_sha1_80, is_ca, ski,"
			" aki, crl_urls, roca, debian, facts_version, self_signed) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9,"
			" 1, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28, ?29, ?30)");
		if (!st)
			return DD_EIO;
		dd_bind_text(st, 6, r->auto_registration && *r->auto_registration ? r->auto_registration : "DISABLE");
		dd_bind_text(st, 7, r->registration_config);
	} else {
		st = dd_db_stmt(db,
			"INSERT INTO certificates(account_region, id, status, pem, mode, ca_id, owner, created, modified,"
			" customer_version, generation_id, subject, issuer, subject_cn, serial, not_before, not_after,"
			" key_type, key_bits, curve, pubkey_sha256, key_sha256, key_sha1_80, is_ca, ski, aki, crl_urls,"
			" roca, debian, facts_version, self_signed) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?8, ?9, ?9, 1, ?10,"
			" ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28, ?29, ?30)");
		if (!st)
			return DD_EIO;
		dd_bind_text(st, 6, r->ca_id && *r->ca_id ? r->ca_id : NULL);
	}
	dd_bind_text(st, 1, account_region);
	dd_bind_text(st, 2, r->id);
	dd_bind_text(st, 3, r->status);
	dd_bind_text(st, 4, r->pem);
	dd_bind_text(st, 5, r->mode && *r->mode ? r->mode : "DEFAULT");
	dd_bind_text(st, 8, r->owner);
	dd_bind_int64(st, 9, r->created_ms);
	dd_bind_text(st, 10, r->generation_id);
	bind_facts(st, 11, &r->f);
	return dd_step_done(st);
}

/* 0 when the last statement changed a row, DD_ENOTFOUND when none. */
static int changed(struct dd_db *db)
{
	return dd_db_changes(db) > 0 ? 0 : DD_ENOTFOUND;
}

int dd_store_certs_set_status(struct dd_db *db, const char *account_region, enum dd_store_certs_kind kind,
			      const char *id, const char *status, int64_t modified_ms, const char *generation_id)
{
	static const char *const sql[2] = {
		"UPDATE certificates SET status = ?3, modified = ?4, customer_version = customer_version + 1,"
		" generation_id = ?5 WHERE account_region = ?1 AND id = ?2",
		"UPDATE ca_certificates SET status = ?3, modified = ?4, customer_version = customer_version + 1,"
		" generation_id = ?5 WHERE account_region = ?1 AND id = ?2",
	};
	if (!kind_ok(kind))
		return DD_EINVAL;
	struct dd_stmt *st = dd_db_stmt(db, sql[kind]);
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account_region);
	dd_bind_text(st, 2, id);
	dd_bind_text(st, 3, status);
	dd_bind_int64(st, 4, modified_ms);
	dd_bind_text(st, 5, generation_id);
	int rc = dd_step_done(st);
	return rc ? rc : changed(db);
}

int dd_store_certs_ca_set_registration(struct dd_db *db, const char *account_region, const char *id,
				       const char *auto_registration, const char *config, bool remove, int64_t modified_ms)
{
	struct dd_stmt *st = dd_db_stmt(db,
		"UPDATE ca_certificates SET auto_registration = CASE WHEN ?5 <> 0 THEN 'DISABLE' ELSE coalesce(?3, auto_registration) END,"
		" registration_config = CASE WHEN ?5 <> 0 THEN NULL ELSE coalesce(?4, registration_config) END,"
		" modified = ?6 WHERE account_region = ?1 AND id = ?2");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account_region);
	dd_bind_text(st, 2, id);
	dd_bind_text(st, 3, auto_registration);
	dd_bind_text(st, 4, config);
	dd_bind_int64(st, 5, remove);
	dd_bind_int64(st, 6, modified_ms);
	int rc = dd_step_done(st);
	return rc ? rc : changed(db);
}

int dd_store_certs_delete(struct dd_db *db, const char *account_region, enum dd_store_certs_kind kind, const char *id)
{
	static const char *const sql[2] = {
		"DELETE FROM certificates WHERE account_region = ?1 AND id = ?2",
		"DELETE FROM ca_certificates WHERE account_region = ?1 AND id = ?2",
	};
	if (!kind_ok(kind))
		return DD_EINVAL;
	struct dd_stmt *st = dd_db_stmt(db, sql[kind]);
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account_region);
	dd_bind_text(st, 2, id);
	int rc = dd_step_done(st);
	return rc ? rc : changed(db);
}

/* ---- listings -------------------------------------------------------------------------- */

static void fill_item(struct dd_stmt *st, struct dd_store_certs_row *r)
{
	memset(r, 0, sizeof *r);
	r->id = dd_col_text(st, 0);
	r->status = dd_col_text(st, 1);
	r->created_ms = dd_col_int64(st, 2);
	r->mode = dd_col_text(st, 3);
}

int dd_store_certs_list(struct dd_db *db, const char *account_region, enum dd_store_certs_kind kind,
			const struct dd_store_certs_page *page, dd_store_certs_row_fn fn, void *ud)
{
	/* [kind][descending] */
	static const char *const sql[2][2] = {
		{ "SELECT id, status, created, mode FROM certificates WHERE account_region = ?1"
		  " AND (created > ?2 OR (created = ?2 AND id > ?3)) AND (?5 IS NULL OR ca_id = ?5)"
		  " ORDER BY created, id LIMIT ?4",
		  "SELECT id, status, created, mode FROM certificates WHERE account_region = ?1"
		  " AND (created < ?2 OR (created = ?2 AND id < ?3)) AND (?5 IS NULL OR ca_id = ?5)"
		  " ORDER BY created DESC, id DESC LIMIT ?4" },
		{ "SELECT id, status, created, mode FROM ca_certificates WHERE account_region = ?1"
		  " AND (created > ?2 OR (created = ?2 AND id > ?3))"
		  " AND (?5 IS NULL OR json_extract(registration_config, '$.templateName') = ?5)"
		  " ORDER BY created, id LIMIT ?4",
		  "SELECT id, status, created, mode FROM ca_certificates WHERE account_region = ?1"
		  " AND (created < ?2 OR (created = ?2 AND id < ?3))"
		  " AND (?5 IS NULL OR json_extract(registration_config, '$.templateName') = ?5)"
		  " ORDER BY created DESC, id DESC LIMIT ?4" },
	};
	/* PostgreSQL reads the template name with ->> (json_extract is SQLite's) */
	static const char *const sql_pg[2][2] = {
		{ "SELECT id, status, created, mode FROM certificates WHERE account_region = ?1"
		  " AND (created > ?2 OR (created = ?2 AND id > ?3)) AND (?5 IS NULL OR ca_id = ?5)"
		  " ORDER BY created, id LIMIT ?4",
		  "SELECT id, status, created, mode FROM certificates WHERE account_region = ?1"
		  " AND (created < ?2 OR (created = ?2 AND id < ?3)) AND (?5 IS NULL OR ca_id = ?5)"
		  " ORDER BY created DESC, id DESC LIMIT ?4" },
		{ "SELECT id, status, created, mode FROM ca_certificates WHERE account_region = ?1"
		  " AND (created > ?2 OR (created = ?2 AND id > ?3))"
		  " AND (?5 IS NULL OR (CAST(registration_config AS jsonb) ->> 'templateName') = ?5)"
		  " ORDER BY created, id LIMIT ?4",
		  "SELECT id, status, created, mode FROM ca_certificates WHERE account_region = ?1"
		  " AND (created < ?2 OR (created = ?2 AND id < ?3))"
		  " AND (?5 IS NULL OR (CAST(registration_config AS jsonb) ->> 'templateName') = ?5)"
		  " ORDER BY created DESC, id DESC LIMIT ?4" },
	};
	if (!kind_ok(kind) || !page || page->limit < 1)
		return DD_EINVAL;
	struct dd_stmt *st = dd_db_stmt(db, (dd_db_is_pg(db) ? sql_pg : sql)[kind][!page->ascending]);
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account_region);
	if (page->after_id) {
		dd_bind_int64(st, 2, page->after_created_ms);
		dd_bind_text(st, 3, page->after_id);
	} else {
		/* before every row: no creation time is negative or INT64_MAX */
		dd_bind_int64(st, 2, page->ascending ? -1 : INT64_MAX);
		dd_bind_text(st, 3, "");
	}
	dd_bind_int64(st, 4, page->limit);
	dd_bind_text(st, 5, kind == CA ? page->template_name : page->ca_id);
	return each_row(st, fill_item, fn, ud, NULL);
}

static void fill_subject(struct dd_stmt *st, struct dd_store_certs_row *r)
{
	memset(r, 0, sizeof *r);
	r->id = dd_col_text(st, 0);
	r->status = dd_col_text(st, 1);
	r->created_ms = dd_col_int64(st, 2);
	r->pem = dd_col_text(st, 3);
}

int dd_store_certs_ca_by_subject(struct dd_db *db, const char *account_region, const char *subject, bool active_first,
				 dd_store_certs_row_fn fn, void *ud)
{
	struct dd_stmt *st = active_first
		? dd_db_stmt(db, "SELECT id, status, created, pem FROM ca_certificates WHERE account_region = ?1"
				 " AND subject = ?2 ORDER BY (status = 'ACTIVE') DESC, created")
		: dd_db_stmt(db, "SELECT id, status, created, pem FROM ca_certificates WHERE account_region = ?1"
				 " AND subject = ?2 ORDER BY id");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account_region);
	dd_bind_text(st, 2, subject);
	return each_row(st, fill_subject, fn, ud, NULL);
}

int dd_store_certs_crl_urls(struct dd_db *db, const char *account_region, dd_store_certs_text_fn fn, void *ud)
{
	struct dd_stmt *st = dd_db_stmt(db,
		"SELECT DISTINCT crl_urls FROM certificates WHERE account_region = ?1 AND crl_urls != '[]'"
		" AND status IN ('ACTIVE', 'PENDING_TRANSFER')"
		" UNION SELECT DISTINCT crl_urls FROM ca_certificates WHERE account_region = ?1 AND crl_urls != '[]'");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account_region);
	int rc = 0, s;
	while ((s = dd_stmt_step(st)) == DD_STMT_ROW && !(rc = fn(dd_col_text(st, 0), ud)))
		;
	if (!rc && s != DD_STMT_DONE)
		rc = DD_EIO;
	dd_stmt_reset(st);
	return rc;
}

/* ---- upkeep ----------------------------------------------------------------------------- */

static void fill_stale(struct dd_stmt *st, struct dd_store_certs_row *r)
{
	memset(r, 0, sizeof *r);
	r->account_region = dd_col_text(st, 0);
	r->id = dd_col_text(st, 1);
	r->pem = dd_col_text(st, 2);
}

int dd_store_certs_stale_facts(struct dd_db *db, enum dd_store_certs_kind kind, const char *after_account_region,
			       const char *after_id, int facts_version, int limit, dd_store_certs_row_fn fn, void *ud)
{
	static const char *const sql[2] = {
		"SELECT account_region, id, pem FROM certificates WHERE (facts_version < ?3"
		" OR subject IS NULL OR key_type IS NULL) AND (account_region, id) > (?1, ?2)"
		" ORDER BY account_region, id LIMIT ?4",
		"SELECT account_region, id, pem FROM ca_certificates WHERE (facts_version < ?3"
		" OR subject IS NULL OR key_type IS NULL) AND (account_region, id) > (?1, ?2)"
		" ORDER BY account_region, id LIMIT ?4",
	};
	if (!kind_ok(kind))
		return DD_EINVAL;
	struct dd_stmt *st = dd_db_stmt(db, sql[kind]);
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, after_account_region ? after_account_region : "");
	dd_bind_text(st, 2, after_id ? after_id : "");
	dd_bind_int64(st, 3, facts_version);
	dd_bind_int64(st, 4, limit);
	return each_row(st, fill_stale, fn, ud, NULL);
}

static void fill_keys(struct dd_stmt *st, struct dd_store_certs_row *r)
{
	memset(r, 0, sizeof *r);
	r->account_region = dd_col_text(st, 0);
	r->id = dd_col_text(st, 1);
	r->f.key_type = dd_col_text(st, 2);
	r->f.key_bits = dd_col_int(st, 3);
	r->f.curve = dd_col_text(st, 4);
	r->f.key_sha256 = dd_col_text(st, 5);
	r->f.key_sha1_80 = dd_col_text(st, 6);
	r->f.debian = dd_col_int(st, 7);
}

int dd_store_certs_key_facts(struct dd_db *db, enum dd_store_certs_kind kind, const char *after_account_region,
			     const char *after_id, int limit, dd_store_certs_row_fn fn, void *ud)
{
	static const char *const sql[2] = {
		"SELECT account_region, id, key_type, key_bits, curve, key_sha256, key_sha1_80, debian"
		" FROM certificates WHERE (account_region, id) > (?1, ?2) ORDER BY account_region, id LIMIT ?3",
		"SELECT account_region, id, key_type, key_bits, curve, key_sha256, key_sha1_80, debian"
		" FROM ca_certificates WHERE (account_region, id) > (?1, ?2) ORDER BY account_region, id LIMIT ?3",
	};
	if (!kind_ok(kind))
		return DD_EINVAL;
	struct dd_stmt *st = dd_db_stmt(db, sql[kind]);
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, after_account_region ? after_account_region : "");
	dd_bind_text(st, 2, after_id ? after_id : "");
	dd_bind_int64(st, 3, limit);
	return each_row(st, fill_keys, fn, ud, NULL);
}

int dd_store_certs_set_facts(struct dd_db *db, const char *account_region, enum dd_store_certs_kind kind,
			     const char *id, const struct dd_store_certs_facts *f)
{
	static const char *const sql[2] = {
		"UPDATE certificates SET subject = ?3, issuer = ?4, subject_cn = ?5,"
		" serial = ?6, not_before = ?7, not_after = ?8, key_type = ?9, key_bits = ?10,"
		" curve = ?11, pubkey_sha256 = ?12, key_sha256 = ?13, key_sha1_80 = ?14,"
		" is_ca = ?15, ski = ?16, aki = ?17, crl_urls = ?18, roca = ?19, debian = ?20,"
		" facts_version = ?21, self_signed = ?22 WHERE account_region = ?1 AND id = ?2",
		"UPDATE ca_certificates SET subject = ?3, issuer = ?4, subject_cn = ?5,"
		" serial = ?6, not_before = ?7, not_after = ?8, key_type = ?9, key_bits = ?10,"
		" curve = ?11, pubkey_sha256 = ?12, key_sha256 = ?13, key_sha1_80 = ?14,"
		" is_ca = ?15, ski = ?16, aki = ?17, crl_urls = ?18, roca = ?19, debian = ?20,"
		" facts_version = ?21, self_signed = ?22 WHERE account_region = ?1 AND id = ?2",
	};
	if (!kind_ok(kind) || !f)
		return DD_EINVAL;
	struct dd_stmt *st = dd_db_stmt(db, sql[kind]);
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account_region);
	dd_bind_text(st, 2, id);
	bind_facts(st, 3, f);
	return dd_step_done(st);
}

int dd_store_certs_set_debian(struct dd_db *db, const char *account_region, enum dd_store_certs_kind kind,
			      const char *id, int debian)
{
	static const char *const sql[2] = {
		"UPDATE certificates SET debian = ?3 WHERE account_region = ?1 AND id = ?2",
		"UPDATE ca_certificates SET debian = ?3 WHERE account_region = ?1 AND id = ?2",
	};
	if (!kind_ok(kind))
		return DD_EINVAL;
	struct dd_stmt *st = dd_db_stmt(db, sql[kind]);
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account_region);
	dd_bind_text(st, 2, id);
	dd_bind_int64(st, 3, debian);
	return dd_step_done(st);
}

/* ---- registration code ------------------------------------------------------------------ */

int dd_store_certs_registration_code(struct dd_db *db, const char *account_region, char code[65])
{
	code[0] = '\0';
	struct dd_stmt *st = dd_db_stmt(db, "SELECT value FROM settings WHERE account_region = ?1 AND key = 'registration_code'");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account_region);
	int s = dd_stmt_step(st);
	if (s == DD_STMT_ROW)
		snprintf(code, 65, "%s", dd_col_text(st, 0));
	dd_stmt_reset(st);
	return s == DD_STMT_ROW || s == DD_STMT_DONE ? 0 : DD_EIO;
}

int dd_store_certs_registration_code_set(struct dd_db *db, const char *account_region, const char *code)
{
	struct dd_stmt *st = dd_db_stmt(db, "INSERT INTO settings(account_region, key, value) VALUES (?1, 'registration_code', ?2)"
					  " ON CONFLICT DO NOTHING");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account_region);
	dd_bind_text(st, 2, code);
	return dd_step_done(st);
}

/* ---- attachments and tags of a certificate ARN ------------------------------------------ */

/* An ARN matches whatever its ASCII case (as SQLite's LIKE did; lower() is the portable form). */

static int first_text(struct dd_stmt *st, const char *account_region, const char *arn, char *out, size_t len)
{
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account_region);
	dd_bind_text(st, 2, arn);
	int s = dd_stmt_step(st);
	if (s == DD_STMT_ROW && out && len)
		snprintf(out, len, "%s", dd_col_text(st, 0));
	dd_stmt_reset(st);
	return s == DD_STMT_ROW ? 1 : s == DD_STMT_DONE ? 0 : DD_EIO;
}

int dd_store_certs_attached_thing(struct dd_db *db, const char *account_region, const char *arn, char *thing, size_t len)
{
	return first_text(dd_db_stmt(db, "SELECT thing_name FROM thing_principals WHERE account_region = ?1"
					 " AND lower(principal) = lower(?2) LIMIT 1"), account_region, arn, thing, len);
}

int dd_store_certs_attached_policy(struct dd_db *db, const char *account_region, const char *arn, char *policy,
				   size_t len)
{
	return first_text(dd_db_stmt(db, "SELECT policy_name FROM policy_targets WHERE account_region = ?1"
					 " AND lower(target) = lower(?2) LIMIT 1"), account_region, arn, policy, len);
}

int dd_store_certs_forget_arn(struct dd_db *db, const char *account_region, const char *arn)
{
	struct dd_stmt *st = dd_db_stmt(db, "DELETE FROM policy_targets WHERE account_region = ?1 AND lower(target) = lower(?2)");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account_region);
	dd_bind_text(st, 2, arn);
	if (dd_step_done(st))
		return DD_EIO;
	st = dd_db_stmt(db, "DELETE FROM tags WHERE account_region = ?1 AND lower(resource_arn) = lower(?2)");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account_region);
	dd_bind_text(st, 2, arn);
	return dd_step_done(st);
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Stored CRLs (crl.h): import of a CRL for a registered CA after verifying it against
 * that CA's key, the per-URL fetch cache for HTTP distribution points, revocation lookup
 * by issuer name and serial, and the status report behind POST /crl-status. Invariants:
 * a row of crls is always a CRL whose signature verified with the key of the CA it is
 * stored under, crl_revoked holds exactly that CRL's serials, and a CRL is never replaced
 * by one with an older thisUpdate. No transaction is held while fetching over HTTP, and
 * fetching happens only on the fetch pool's threads (dd_fetch.c), never on the caller's.
 */
#include "dd/crl.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dd/certs.h"
#include "dd/ctx.h"
#include "dd/fetch.h"
#include "dd/service.h"
#include "dd/x509.h"

#define MAX_URLS 10000
/* thisUpdate may be this far in the future (clock skew between CA and us). */
#define SKEW_MS (300LL * 1000)

static void set_msg(char *err, size_t errlen, const char *fmt, ...) DD_PRINTF(3, 4);
static void set_msg(char *err, size_t errlen, const char *fmt, ...)
{
	if (!err || !errlen)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* Stores crl (already verified against ca_id) in one write transaction. */
static int store_crl(struct dd_db *db, const char *account_region, const char *ca_id, const struct dd_x509_crl *crl,
		     const char *source, int64_t now_ms, char *err, size_t errlen)
{
	int64_t this_ms = crl->this_update * 1000, next_ms = crl->next_update * 1000;
	if (dd_db_begin_write(db)) {
		set_msg(err, errlen, "the store is busy or unavailable");
		return DD_EIO;
	}
	sqlite3_stmt *st = dd_db_stmt(db, "SELECT this_update FROM crls WHERE account_region = ?1 AND ca_id = ?2");
	if (!st)
		goto dberr;
	dd_bind_text(st, 1, account_region);
	dd_bind_text(st, 2, ca_id);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int64(st, 0) > this_ms) {
		int64_t have = sqlite3_column_int64(st, 0);
		sqlite3_reset(st);
		dd_db_rollback(db);
		set_msg(err, errlen, "the CRL (thisUpdate %lld) is older than the CRL already stored for CA %s (thisUpdate %lld)",
			(long long)(this_ms / 1000), ca_id, (long long)(have / 1000));
		return DD_ECONFLICT;
	}
	sqlite3_reset(st);
	st = dd_db_stmt(db, "INSERT OR REPLACE INTO crls(account_region, ca_id, issuer, this_update, next_update, der, source,"
			    " stored, n_revoked) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
	if (!st)
		goto dberr;
	dd_bind_text(st, 1, account_region);
	dd_bind_text(st, 2, ca_id);
	dd_bind_text(st, 3, crl->issuer);
	dd_bind_int64(st, 4, this_ms);
	dd_bind_int64(st, 5, next_ms);
	sqlite3_bind_blob(st, 6, crl->der, (int)crl->der_len, SQLITE_TRANSIENT);
	dd_bind_text(st, 7, source);
	dd_bind_int64(st, 8, now_ms);
	dd_bind_int64(st, 9, (int64_t)crl->n_revoked);
	if (dd_step_done(st))
		goto dberr;
	st = dd_db_stmt(db, "DELETE FROM crl_revoked WHERE account_region = ?1 AND ca_id = ?2");
	if (!st)
		goto dberr;
	dd_bind_text(st, 1, account_region);
	dd_bind_text(st, 2, ca_id);
	if (dd_step_done(st))
		goto dberr;
	for (size_t i = 0; i < crl->n_revoked; i++) {
		st = dd_db_stmt(db, "INSERT OR IGNORE INTO crl_revoked(account_region, ca_id, serial) VALUES (?1, ?2, ?3)");
		if (!st)
			goto dberr;
		dd_bind_text(st, 1, account_region);
		dd_bind_text(st, 2, ca_id);
		dd_bind_text(st, 3, crl->revoked_serials[i]);
		if (dd_step_done(st))
			goto dberr;
	}
	if (dd_db_commit(db))
		goto dberr;
	return 0;
dberr:
	dd_db_rollback(db);
	set_msg(err, errlen, "a store error occurred while saving the CRL");
	return DD_EIO;
}

int dd_crl_import(struct dd_db *db, const char *account_region, const char *ca_id, const void *data,
		  size_t len, const char *source, int64_t now_ms, struct dd_crl_import_result *res,
		  char *err, size_t errlen)
{
	if (!db || !account_region || !ca_id || !source) {
		set_msg(err, errlen, "invalid arguments");
		return DD_EINVAL;
	}
	size_t idl = strnlen(ca_id, 66);
	if (idl == 0 || idl > 64) {
		set_msg(err, errlen, "the CA certificate id must be 64 hexadecimal characters");
		return DD_EINVAL;
	}
	char id[65];
	for (size_t i = 0; i <= idl; i++)
		id[i] = (char)((ca_id[i] >= 'A' && ca_id[i] <= 'F') ? ca_id[i] + 32 : ca_id[i]);
	sqlite3_stmt *st = dd_db_stmt(db, "SELECT pem FROM ca_certificates WHERE account_region = ?1 AND id = ?2");
	if (!st) {
		set_msg(err, errlen, "a store error occurred");
		return DD_EIO;
	}
	dd_bind_text(st, 1, account_region);
	dd_bind_text(st, 2, id);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_reset(st);
		set_msg(err, errlen, "CA certificate %s is not registered in %s", id, account_region);
		return DD_ENOTFOUND;
	}
	char *pem = strdup(dd_col_text(st, 0));
	sqlite3_reset(st);
	if (!pem) {
		set_msg(err, errlen, "out of memory");
		return DD_ENOMEM;
	}
	struct dd_x509_crl crl;
	memset(&crl, 0, sizeof crl);
	int rc = dd_x509_crl_parse(data, len, &crl, err, errlen);
	if (rc) {
		free(pem);
		return rc;
	}
	rc = dd_x509_crl_verify(&crl, pem, err, errlen);
	free(pem);
	if (rc) {
		dd_x509_crl_clear(&crl);
		return DD_ECRYPTO;
	}
	rc = store_crl(db, account_region, id, &crl, source, now_ms, err, errlen);
	if (!rc && res) {
		memset(res, 0, sizeof *res);
		snprintf(res->ca_id, sizeof res->ca_id, "%s", id);
		snprintf(res->issuer, sizeof res->issuer, "%s", crl.issuer);
		res->this_update_ms = crl.this_update * 1000;
		res->next_update_ms = crl.next_update * 1000;
		res->n_revoked = crl.n_revoked;
	}
	dd_x509_crl_clear(&crl);
	return rc;
}

int dd_crl_lookup(struct dd_db *db, const char *account_region, const char *issuer, const char *serial,
		  int64_t now_ms, char by_ca[65])
{
	sqlite3_stmt *st = dd_db_stmt(db,
		"SELECT k.ca_id FROM crls k JOIN crl_revoked r ON r.account_region = k.account_region AND r.ca_id = k.ca_id"
		" AND r.serial = ?3 WHERE k.account_region = ?1 AND k.issuer = ?2 AND k.this_update <= ?4 + ?6"
		" AND (k.next_update = 0 OR k.next_update + ?5 >= ?4) ORDER BY k.ca_id LIMIT 1");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account_region);
	dd_bind_text(st, 2, issuer);
	dd_bind_text(st, 3, serial);
	dd_bind_int64(st, 4, now_ms);
	dd_bind_int64(st, 5, DD_CRL_GRACE_MS);
	dd_bind_int64(st, 6, SKEW_MS);
	int rc = sqlite3_step(st);
	int found = 0;
	if (rc == SQLITE_ROW) {
		found = 1;
		if (by_ca)
			snprintf(by_ca, 65, "%s", dd_col_text(st, 0));
	} else if (rc != SQLITE_DONE) {
		found = DD_EIO;
	}
	sqlite3_reset(st);
	return found;
}

int dd_crl_forget_ca(struct dd_db *db, const char *account_region, const char *ca_id)
{
	sqlite3_stmt *st = dd_db_stmt(db, "DELETE FROM crls WHERE account_region = ?1 AND ca_id = ?2");
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
	return dd_step_done(st);
}

/* ---- HTTP distribution points --------------------------------------------------------- */

struct url_set {
	char **v;
	size_t n, cap;
};

static int url_add(struct url_set *s, const char *u)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->v[i], u) == 0)
			return 0;
	if (s->n >= MAX_URLS)
		return 0;
	if (s->n == s->cap) {
		size_t ncap = s->cap ? s->cap * 2 : 16;
		char **nv = realloc(s->v, ncap * sizeof *nv);
		if (!nv)
			return DD_ENOMEM;
		s->v = nv;
		s->cap = ncap;
	}
	s->v[s->n] = strdup(u);
	if (!s->v[s->n])
		return DD_ENOMEM;
	s->n++;
	return 0;
}

static void url_set_free(struct url_set *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
}

static int collect_urls(struct dd_db *db, const char *account_region, struct url_set *set)
{
	sqlite3_stmt *st = dd_db_stmt(db,
		"SELECT DISTINCT crl_urls FROM certificates WHERE account_region = ?1 AND crl_urls != '[]'"
		" AND status IN ('ACTIVE', 'PENDING_TRANSFER')"
		" UNION SELECT DISTINCT crl_urls FROM ca_certificates WHERE account_region = ?1 AND crl_urls != '[]'");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account_region);
	int rc = 0, s;
	while (!rc && (s = sqlite3_step(st)) == SQLITE_ROW) {
		json_t *a = json_loads(dd_col_text(st, 0), 0, NULL);
		size_t i;
		json_t *v;
		json_array_foreach(a, i, v) {
			const char *u = json_string_value(v);
			if (u && (strncmp(u, "http://", 7) == 0 || strncmp(u, "https://", 8) == 0) && strlen(u) < 2048)
				rc = url_add(set, u);
		}
		json_decref(a);
	}
	sqlite3_reset(st);
	return rc;
}

struct fetch_state {
	bool known;
	int64_t last_attempt, ok_until;
	bool failing;
};

static int fetch_state_get(struct dd_db *db, const char *account_region, const char *url, struct fetch_state *fs)
{
	memset(fs, 0, sizeof *fs);
	sqlite3_stmt *st = dd_db_stmt(db, "SELECT last_attempt, ok_until, last_error FROM crl_fetches"
					  " WHERE account_region = ?1 AND url = ?2");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account_region);
	dd_bind_text(st, 2, url);
	if (sqlite3_step(st) == SQLITE_ROW) {
		fs->known = true;
		fs->last_attempt = sqlite3_column_int64(st, 0);
		fs->ok_until = sqlite3_column_int64(st, 1);
		fs->failing = sqlite3_column_type(st, 2) != SQLITE_NULL;
	}
	sqlite3_reset(st);
	return 0;
}

/* Records the outcome of one fetch attempt (error NULL on success). */
static void fetch_state_put(struct dd_db *db, const char *account_region, const char *url, int64_t now_ms,
			    const struct dd_x509_crl *crl, const char *ca_id, const char *error)
{
	if (dd_db_begin_write(db)) {
		dd_log_warn("crl: cannot record the fetch state of %s", url);
		return;
	}
	sqlite3_stmt *st;
	if (!error) {
		int64_t next = crl->next_update * 1000;
		int64_t ok_until = next > 0 ? next : now_ms + DD_CRL_DEFAULT_TTL_MS;
		st = dd_db_stmt(db,
			"INSERT INTO crl_fetches(account_region, url, last_attempt, last_success, ok_until, this_update,"
			" next_update, ca_id, last_error, fetches, failures) VALUES (?1, ?2, ?3, ?3, ?4, ?5, ?6, ?7, NULL, 1, 0)"
			" ON CONFLICT(account_region, url) DO UPDATE SET last_attempt = ?3, last_success = ?3, ok_until = ?4,"
			" this_update = ?5, next_update = ?6, ca_id = ?7, last_error = NULL, fetches = fetches + 1");
		if (st) {
			dd_bind_text(st, 1, account_region);
			dd_bind_text(st, 2, url);
			dd_bind_int64(st, 3, now_ms);
			dd_bind_int64(st, 4, ok_until);
			dd_bind_int64(st, 5, crl->this_update * 1000);
			dd_bind_int64(st, 6, next);
			dd_bind_text(st, 7, ca_id);
		}
	} else {
		st = dd_db_stmt(db,
			"INSERT INTO crl_fetches(account_region, url, last_attempt, last_success, ok_until, this_update,"
			" next_update, ca_id, last_error, fetches, failures) VALUES (?1, ?2, ?3, 0, 0, 0, 0, NULL, ?4, 1, 1)"
			" ON CONFLICT(account_region, url) DO UPDATE SET last_attempt = ?3, ok_until = 0, last_error = ?4,"
			" fetches = fetches + 1, failures = failures + 1");
		if (st) {
			dd_bind_text(st, 1, account_region);
			dd_bind_text(st, 2, url);
			dd_bind_int64(st, 3, now_ms);
			dd_bind_text(st, 4, error);
		}
	}
	if (!st || dd_step_done(st) || dd_db_commit(db)) {
		dd_db_rollback(db);
		dd_log_warn("crl: cannot record the fetch state of %s", url);
	}
}

/* Stores a fetched CRL for the registered CA that issued it. ca_out gets its id. */
static int store_fetched(struct dd_db *db, const char *account_region, const char *url, const struct dd_x509_crl *crl,
			 int64_t now_ms, char ca_out[65], char *err, size_t errlen)
{
	sqlite3_stmt *st = dd_db_stmt(db, "SELECT id, pem FROM ca_certificates WHERE account_region = ?1 AND subject = ?2 ORDER BY id");
	if (!st) {
		set_msg(err, errlen, "store error");
		return DD_EIO;
	}
	dd_bind_text(st, 1, account_region);
	dd_bind_text(st, 2, crl->issuer);
	char id[65] = "";
	bool any = false, verified = false;
	char why[512] = "";
	while (sqlite3_step(st) == SQLITE_ROW) {
		any = true;
		if (dd_x509_crl_verify(crl, dd_col_text(st, 1), why, sizeof why) == 0) {
			snprintf(id, sizeof id, "%s", dd_col_text(st, 0));
			verified = true;
			break;
		}
	}
	sqlite3_reset(st);
	if (!verified) {
		if (!any)
			set_msg(err, errlen, "CRL from %.300s: no registered CA certificate has its issuer \"%.300s\"", url, crl->issuer);
		else
			set_msg(err, errlen, "CRL from %.300s: %s", url, why);
		return DD_ECRYPTO;
	}
	snprintf(ca_out, 65, "%s", id);
	int rc = store_crl(db, account_region, id, crl, url, now_ms, err, errlen);
	return rc == DD_ECONFLICT ? 0 : rc; /* a newer CRL is already stored: fine */
}

/* One fetch, on a fetch-pool thread with its own store connection. */
static void fetch_job(struct dd_service *svc, const char *account_region, const char *url, void *arg,
		      const volatile int *cancel)
{
	(void)arg;
	struct dd_db *db = dd_store_db(svc->store);
	if (!db)
		return;
	struct fetch_state fs;
	int64_t now = dd_now_ms();
	if (fetch_state_get(db, account_region, url, &fs))
		return;
	if ((fs.known && fs.ok_until > now) || (fs.known && fs.failing && now - fs.last_attempt < DD_CRL_RETRY_MS))
		return; /* fetched by an earlier job meanwhile */
	char err[768] = "", detail[512] = "";
	struct dd_fetch_req req = {
		.method = "GET", .url = url, .user_agent = "iotdefender/0.1", .max_bytes = DD_CRL_FETCH_MAX_BYTES,
		.connect_timeout_ms = DD_CRL_FETCH_CONNECT_TIMEOUT_MS, .timeout_ms = DD_CRL_FETCH_TIMEOUT_MS,
		.max_redirects = DD_CRL_FETCH_MAX_REDIRECTS, .allow = svc->outbound_allow, .cancel = cancel,
	};
	struct dd_fetch_resp resp = { 0 };
	struct dd_x509_crl crl;
	memset(&crl, 0, sizeof crl);
	char ca_id[65] = "";
	int frc = dd_fetch_http(&req, &resp, detail, sizeof detail);
	if (!frc && resp.status != 200) {
		snprintf(detail, sizeof detail, "HTTP status %ld", resp.status);
		frc = DD_EIO;
	}
	if (frc) {
		if (*cancel) {
			dd_fetch_resp_clear(&resp);
			return; /* stopping: not the URL's fault */
		}
		dd_log_debug("crl: %s: %.300s: %s", account_region, url, detail);
		set_msg(err, sizeof err, DD_FETCH_GENERIC_ERROR);
	} else {
		frc = dd_x509_crl_parse(resp.body, resp.len, &crl, err, sizeof err);
	}
	dd_fetch_resp_clear(&resp);
	if (!frc)
		frc = store_fetched(db, account_region, url, &crl, dd_now_ms(), ca_id, err, sizeof err);
	if (frc) {
		dd_log_info("crl: %s: %.300s: %s", account_region, url, err);
		fetch_state_put(db, account_region, url, dd_now_ms(), NULL, NULL, err[0] ? err : DD_FETCH_GENERIC_ERROR);
	} else {
		dd_log_info("crl: %s: stored the CRL from %s for CA %s (%zu revoked)", account_region, url, ca_id,
			    crl.n_revoked);
		fetch_state_put(db, account_region, url, dd_now_ms(), &crl, ca_id, NULL);
	}
	dd_x509_crl_clear(&crl);
}

int dd_crl_refresh(struct dd_service *svc, const char *account_region, struct dd_crl_refresh_stats *stats)
{
	struct dd_crl_refresh_stats s;
	memset(&s, 0, sizeof s);
	struct dd_db *db = svc && svc->store ? dd_store_db(svc->store) : NULL;
	if (!db || !account_region)
		return DD_EIO;
	struct url_set set = { 0 };
	int rc = collect_urls(db, account_region, &set);
	if (rc) {
		url_set_free(&set);
		return rc == DD_ENOMEM ? rc : DD_EIO;
	}
	s.urls = set.n;
	struct dd_fetch_pool *pool = set.n ? dd_fetch_pool_get(svc) : NULL;
	for (size_t i = 0; i < set.n; i++) {
		const char *url = set.v[i];
		int64_t now = dd_now_ms();
		struct fetch_state fs;
		if (fetch_state_get(db, account_region, url, &fs)) {
			rc = DD_EIO;
			break;
		}
		if (fs.known && fs.ok_until > now) {
			s.cached++;
			continue;
		}
		if (fs.known && fs.failing && now - fs.last_attempt < DD_CRL_RETRY_MS) {
			s.backoff++;
			continue;
		}
		int q = pool ? dd_fetch_pool_submit(pool, account_region, url, fetch_job, NULL, NULL) : DD_ELIMIT;
		if (q == 0)
			s.queued++;
		else if (q == 1)
			s.pending++;
		else
			s.dropped++;
	}
	url_set_free(&set);
	if (s.dropped)
		dd_log_info("crl: %s: %zu distribution point(s) not queued (queue full or no fetch pool)", account_region,
			    s.dropped);
	if (stats)
		*stats = s;
	return rc;
}

int dd_crl_refresh_wait(struct dd_service *svc, const char *account_region, int64_t timeout_ms)
{
	struct dd_fetch_pool *p = svc ? __atomic_load_n(&svc->fetch_pool, __ATOMIC_ACQUIRE) : NULL;
	return p ? dd_fetch_pool_wait_idle(p, account_region, timeout_ms) : 0;
}

size_t dd_crl_refresh_pending(struct dd_service *svc, const char *account_region)
{
	struct dd_fetch_pool *p = svc ? __atomic_load_n(&svc->fetch_pool, __ATOMIC_ACQUIRE) : NULL;
	return p ? dd_fetch_pool_pending(p, account_region) : 0;
}

/* ---- status report --------------------------------------------------------------------- */

struct status_acc {
	json_t *revoked;
	json_t *ancestors;
	const char *ca_filter;
};

static int status_visit(const struct dd_cert_info *ci, void *ud)
{
	struct status_acc *a = ud;
	if (ci->revoked && (!a->ca_filter || strcmp(ci->revoked_by, a->ca_filter) == 0))
		json_array_append_new(a->revoked, json_pack("{s:s, s:s, s:s, s:s}", "certificateId", ci->id,
							     "status", ci->status, "serial", ci->serial,
							     "revokedByCaCertificateId", ci->revoked_by));
	if (ci->revoked_ancestor[0])
		json_array_append_new(a->ancestors, json_pack("{s:s, s:s, s:s, s:s}", "certificateId", ci->id,
							      "kind", ci->kind == DD_CERT_CA ? "CA_CERTIFICATE" : "DEVICE_CERTIFICATE",
							      "status", ci->status,
							      "revokedCaCertificateId", ci->revoked_ancestor));
	return 0;
}

int dd_crl_status_json(struct dd_db *db, const char *account_region, const char *ca_id, int64_t now_ms, json_t **out)
{
	json_t *crls = json_array(), *fetches = json_array();
	sqlite3_stmt *st = dd_db_stmt(db, "SELECT ca_id, issuer, this_update, next_update, source, stored, n_revoked"
					  " FROM crls WHERE account_region = ?1 AND (?2 IS NULL OR ca_id = ?2) ORDER BY ca_id");
	if (!st)
		goto fail;
	dd_bind_text(st, 1, account_region);
	dd_bind_text(st, 2, ca_id);
	while (sqlite3_step(st) == SQLITE_ROW) {
		int64_t tu = sqlite3_column_int64(st, 2), nu = sqlite3_column_int64(st, 3);
		bool valid = tu <= now_ms + SKEW_MS && (nu == 0 || nu + DD_CRL_GRACE_MS >= now_ms);
		json_t *o = json_pack("{s:s, s:s, s:o, s:s, s:o, s:I, s:b}", "caCertificateId", dd_col_text(st, 0),
				      "issuer", dd_col_text(st, 1), "thisUpdate", dd_json_time(tu),
				      "source", dd_col_text(st, 4), "storedDate", dd_json_time(sqlite3_column_int64(st, 5)),
				      "revokedCount", (json_int_t)sqlite3_column_int64(st, 6), "valid", valid);
		if (nu)
			json_object_set_new(o, "nextUpdate", dd_json_time(nu));
		json_array_append_new(crls, o);
	}
	sqlite3_reset(st);
	st = dd_db_stmt(db, "SELECT url, last_attempt, last_success, ok_until, this_update, next_update, ca_id,"
			    " last_error, fetches, failures FROM crl_fetches WHERE account_region = ?1"
			    " AND (?2 IS NULL OR ca_id = ?2) ORDER BY url");
	if (!st)
		goto fail;
	dd_bind_text(st, 1, account_region);
	dd_bind_text(st, 2, ca_id);
	while (sqlite3_step(st) == SQLITE_ROW) {
		json_t *o = json_pack("{s:s, s:o, s:I, s:I}", "url", dd_col_text(st, 0),
				      "lastAttempt", dd_json_time(sqlite3_column_int64(st, 1)),
				      "fetchCount", (json_int_t)sqlite3_column_int64(st, 8),
				      "failureCount", (json_int_t)sqlite3_column_int64(st, 9));
		if (sqlite3_column_int64(st, 2))
			json_object_set_new(o, "lastSuccess", dd_json_time(sqlite3_column_int64(st, 2)));
		if (sqlite3_column_int64(st, 3))
			json_object_set_new(o, "cachedUntil", dd_json_time(sqlite3_column_int64(st, 3)));
		if (sqlite3_column_type(st, 6) != SQLITE_NULL)
			json_object_set_new(o, "caCertificateId", json_string(dd_col_text(st, 6)));
		if (sqlite3_column_type(st, 7) != SQLITE_NULL)
			json_object_set_new(o, "lastError", json_string(dd_col_text(st, 7)));
		json_array_append_new(fetches, o);
	}
	sqlite3_reset(st);
	struct status_acc dev = { json_array(), json_array(), ca_id };
	struct status_acc cas = { json_array(), json_array(), ca_id };
	int rc = dd_certs_foreach(db, account_region, DD_CERT_DEVICE, now_ms, status_visit, &dev);
	if (!rc)
		rc = dd_certs_foreach(db, account_region, DD_CERT_CA, now_ms, status_visit, &cas);
	json_array_extend(dev.ancestors, cas.ancestors);
	json_decref(cas.ancestors);
	*out = json_pack("{s:o, s:o, s:o, s:o, s:o}", "crls", crls, "fetches", fetches,
			 "revokedCertificates", dev.revoked, "revokedCACertificates", cas.revoked,
			 "intermediateCARevoked", dev.ancestors);
	if (rc) {
		json_decref(*out);
		*out = NULL;
		return rc;
	}
	return *out ? 0 : DD_ENOMEM;
fail:
	json_decref(crls);
	json_decref(fetches);
	return DD_EIO;
}

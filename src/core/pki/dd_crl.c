/* SPDX-License-Identifier: Apache-2.0 */
/*
 * CRL rules (crl.h): import of a CRL for a registered CA after verifying it against
 * that CA's key, the per-URL fetch cache for HTTP distribution points, and revocation
 * lookup by issuer name and serial with the validity window; the rows are kept by
 * src/store/dd_store_crl.c (and the CAs read from dd_store_certs.c). Invariants:
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

#include <jansson.h>

#include "dd/region.h"
#include "dd/fetch.h"
#include "dd/service.h"
#include "dd/x509.h"
#include "store/dd_store_certs.h"
#include "store/dd_store_crl.h"

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

/* Stores crl (already verified against ca_id) in one write transaction, unless the CRL
 * stored for that CA is newer. */
static int store_crl(struct dd_db *db, const char *account_region, const char *ca_id, const struct dd_x509_crl *crl,
		     const char *source, int64_t now_ms, char *err, size_t errlen)
{
	int64_t this_ms = crl->this_update * 1000, have = 0;
	if (dd_db_begin_write(db)) {
		set_msg(err, errlen, "the store is busy or unavailable");
		return DD_EIO;
	}
	int rc = dd_store_crl_this_update(db, account_region, ca_id, &have);
	if (rc == 0 && have > this_ms) {
		dd_db_rollback(db);
		set_msg(err, errlen, "the CRL (thisUpdate %lld) is older than the CRL already stored for CA %s (thisUpdate %lld)",
			(long long)(this_ms / 1000), ca_id, (long long)(have / 1000));
		return DD_ECONFLICT;
	}
	struct dd_store_crl_row row = {
		.ca_id = ca_id, .issuer = crl->issuer, .this_update_ms = this_ms, .next_update_ms = crl->next_update * 1000,
		.source = source, .stored_ms = now_ms, .der = crl->der, .der_len = crl->der_len,
	};
	if ((rc && rc != DD_ENOTFOUND) ||
	    dd_store_crl_put(db, account_region, &row, (const char *const *)crl->revoked_serials, crl->n_revoked) ||
	    dd_db_commit(db)) {
		dd_db_rollback(db);
		set_msg(err, errlen, "a store error occurred while saving the CRL");
		return DD_EIO;
	}
	return 0;
}

static int copy_pem(const struct dd_store_certs_row *r, void *ud)
{
	char **pem = ud;
	*pem = strdup(r->pem);
	return *pem ? 0 : DD_ENOMEM;
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
	char *pem = NULL;
	int grc = dd_store_certs_get(db, account_region, DD_STORE_CERTS_CA, id, copy_pem, &pem);
	if (grc == DD_ENOTFOUND) {
		set_msg(err, errlen, "CA certificate %s is not registered in %s", id, account_region);
		return DD_ENOTFOUND;
	}
	if (grc == DD_ENOMEM) {
		set_msg(err, errlen, "out of memory");
		return DD_ENOMEM;
	}
	if (grc) {
		set_msg(err, errlen, "a store error occurred");
		return DD_EIO;
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

bool dd_crl_valid_at(int64_t this_update_ms, int64_t next_update_ms, int64_t now_ms)
{
	return this_update_ms <= now_ms + SKEW_MS && (next_update_ms == 0 || next_update_ms + DD_CRL_GRACE_MS >= now_ms);
}

int dd_crl_lookup(struct dd_db *db, const char *account_region, const char *issuer, const char *serial,
		  int64_t now_ms, char by_ca[65])
{
	return dd_store_crl_revoked(db, account_region, issuer, serial, now_ms + SKEW_MS, now_ms - DD_CRL_GRACE_MS, by_ca);
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

static int add_urls(const char *text, void *ud)
{
	struct url_set *set = ud;
	json_t *a = json_loads(text, 0, NULL);
	size_t i;
	json_t *v;
	int rc = 0;
	json_array_foreach(a, i, v) {
		const char *u = json_string_value(v);
		if (!rc && u && (strncmp(u, "http://", 7) == 0 || strncmp(u, "https://", 8) == 0) && strlen(u) < 2048)
			rc = url_add(set, u);
	}
	json_decref(a);
	return rc;
}

static int collect_urls(struct dd_db *db, const char *account_region, struct url_set *set)
{
	return dd_store_certs_crl_urls(db, account_region, add_urls, set);
}

struct fetch_state {
	bool known;
	int64_t last_attempt, ok_until;
	bool failing;
};

static int copy_state(const struct dd_store_crl_fetch *f, void *ud)
{
	struct fetch_state *fs = ud;
	fs->known = true;
	fs->last_attempt = f->last_attempt_ms;
	fs->ok_until = f->ok_until_ms;
	fs->failing = f->last_error != NULL;
	return 0;
}

static int fetch_state_get(struct dd_db *db, const char *account_region, const char *url, struct fetch_state *fs)
{
	memset(fs, 0, sizeof *fs);
	int rc = dd_store_crl_fetch_get(db, account_region, url, copy_state, fs);
	return rc == DD_ENOTFOUND ? 0 : rc;
}

/* Records the outcome of one fetch attempt (error NULL on success). */
static void fetch_state_put(struct dd_db *db, const char *account_region, const char *url, int64_t now_ms,
			    const struct dd_x509_crl *crl, const char *ca_id, const char *error)
{
	if (dd_db_begin_write(db)) {
		dd_log_warn("crl: cannot record the fetch state of %s", url);
		return;
	}
	int rc;
	if (!error) {
		int64_t next = crl->next_update * 1000;
		rc = dd_store_crl_fetch_succeeded(db, account_region, url, now_ms, next > 0 ? next : now_ms + DD_CRL_DEFAULT_TTL_MS,
						  crl->this_update * 1000, next, ca_id);
	} else {
		rc = dd_store_crl_fetch_failed(db, account_region, url, now_ms, error);
	}
	if (rc || dd_db_commit(db)) {
		dd_db_rollback(db);
		dd_log_warn("crl: cannot record the fetch state of %s", url);
	}
}

struct issuer_search {
	const struct dd_x509_crl *crl;
	bool any;
	char id[65];
	char why[512];
};

static int try_issuer(const struct dd_store_certs_row *r, void *ud)
{
	struct issuer_search *s = ud;
	s->any = true;
	if (dd_x509_crl_verify(s->crl, r->pem, s->why, sizeof s->why) != 0)
		return 0;
	snprintf(s->id, sizeof s->id, "%s", r->id);
	return 1;
}

/* Stores a fetched CRL for the registered CA that issued it. ca_out gets its id. */
static int store_fetched(struct dd_db *db, const char *account_region, const char *url, const struct dd_x509_crl *crl,
			 int64_t now_ms, char ca_out[65], char *err, size_t errlen)
{
	struct issuer_search is = { .crl = crl };
	int rc = dd_store_certs_ca_by_subject(db, account_region, crl->issuer, false, try_issuer, &is);
	if (rc < 0) {
		set_msg(err, errlen, "store error");
		return DD_EIO;
	}
	if (rc != 1) {
		if (!is.any)
			set_msg(err, errlen, "CRL from %.300s: no registered CA certificate has its issuer \"%.300s\"", url, crl->issuer);
		else
			set_msg(err, errlen, "CRL from %.300s: %s", url, is.why);
		return DD_ECRYPTO;
	}
	snprintf(ca_out, 65, "%s", is.id);
	rc = store_crl(db, account_region, is.id, crl, url, now_ms, err, errlen);
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
	int64_t now = dd_time_now_ms();
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
		frc = store_fetched(db, account_region, url, &crl, dd_time_now_ms(), ca_id, err, sizeof err);
	if (frc) {
		dd_log_info("crl: %s: %.300s: %s", account_region, url, err);
		fetch_state_put(db, account_region, url, dd_time_now_ms(), NULL, NULL, err[0] ? err : DD_FETCH_GENERIC_ERROR);
	} else {
		dd_log_info("crl: %s: stored the CRL from %s for CA %s (%zu revoked)", account_region, url, ca_id,
			    crl.n_revoked);
		fetch_state_put(db, account_region, url, dd_time_now_ms(), &crl, ca_id, NULL);
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
		int64_t now = dd_time_now_ms();
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

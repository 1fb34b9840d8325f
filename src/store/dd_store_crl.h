/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Storage of the CRL aggregate of one account and region: the current CRL of each
 * registered CA certificate with its revoked serials, and the fetch state of every HTTP
 * distribution point URL (the fetch cache). The store keeps rows; which CRL is valid,
 * whether one may replace another and when a URL is fetched again are decided by the
 * caller (src/core/pki/dd_crl.c), which passes the bounds. Functions run inside the
 * caller's transaction when one is open (writes need dd_db_begin_write), return 0 or a
 * negative DD_E*, and row strings passed to callbacks are borrowed for the call only.
 * Times are epoch milliseconds.
 */
#ifndef DD_STORE_CRL_H
#define DD_STORE_CRL_H

#include "dd/common.h"

struct dd_db;

/* One stored CRL. */
struct dd_store_crl_row {
	const char *ca_id, *issuer;
	int64_t this_update_ms, next_update_ms; /* next_update_ms 0: the CRL has none */
	const char *source;                     /* "import" or the URL it was fetched from */
	int64_t stored_ms;
	int64_t n_revoked;
	const void *der;                        /* only for dd_store_crl_put */
	size_t der_len;
};
typedef int (*dd_store_crl_row_fn)(const struct dd_store_crl_row *r, void *ud);

/* The thisUpdate of the CRL stored for ca_id. 0, DD_ENOTFOUND or DD_EIO. */
int dd_store_crl_this_update(struct dd_db *db, const char *account_region, const char *ca_id,
			     int64_t *this_update_ms) DD_MUST_CHECK;
/* Stores r as the CRL of r->ca_id, replacing the one stored before and its serials, with
 * the n revoked serials (lowercase hex). 0 or DD_EIO. */
int dd_store_crl_put(struct dd_db *db, const char *account_region, const struct dd_store_crl_row *r,
		     const char *const *serials, size_t n) DD_MUST_CHECK;
/* Removes the CRL of ca_id and its serials (nothing stored is fine). 0 or DD_EIO. */
int dd_store_crl_delete(struct dd_db *db, const char *account_region, const char *ca_id) DD_MUST_CHECK;
/* Does account_region have any stored CRL? 1, 0 or DD_EIO. */
int dd_store_crl_any(struct dd_db *db, const char *account_region) DD_MUST_CHECK;
/* Is serial listed on a stored CRL whose issuer is issuer, whose thisUpdate is at most
 * max_this_update_ms and whose nextUpdate is absent or at least min_next_update_ms? 1
 * (the id of the first such CA by id copied into by_ca when not NULL), 0 or DD_EIO. */
int dd_store_crl_revoked(struct dd_db *db, const char *account_region, const char *issuer, const char *serial,
			 int64_t max_this_update_ms, int64_t min_next_update_ms, char by_ca[65]) DD_MUST_CHECK;
/* The stored CRLs (all, or only ca_id's when not NULL) ordered by CA id, without der. */
int dd_store_crl_list(struct dd_db *db, const char *account_region, const char *ca_id, dd_store_crl_row_fn fn,
		      void *ud) DD_MUST_CHECK;

/* The fetch state of one distribution point URL. */
struct dd_store_crl_fetch {
	const char *url;
	int64_t last_attempt_ms, last_success_ms; /* last_success_ms 0: never */
	int64_t ok_until_ms;                      /* 0: not cached */
	int64_t this_update_ms, next_update_ms;
	const char *ca_id;                        /* CA the last CRL was stored for, NULL if none */
	const char *last_error;                   /* NULL after a success */
	int64_t fetches, failures;
};
typedef int (*dd_store_crl_fetch_fn)(const struct dd_store_crl_fetch *f, void *ud);

/* Calls fn once with the state of url. DD_ENOTFOUND when it was never fetched. */
int dd_store_crl_fetch_get(struct dd_db *db, const char *account_region, const char *url, dd_store_crl_fetch_fn fn,
			   void *ud) DD_MUST_CHECK;
/* Records a successful fetch at now_ms: the CRL stored for ca_id is cached until
 * ok_until_ms. 0 or DD_EIO. */
int dd_store_crl_fetch_succeeded(struct dd_db *db, const char *account_region, const char *url, int64_t now_ms,
				 int64_t ok_until_ms, int64_t this_update_ms, int64_t next_update_ms,
				 const char *ca_id) DD_MUST_CHECK;
/* Records a failed fetch at now_ms with its error text (the cache is dropped). 0 or DD_EIO. */
int dd_store_crl_fetch_failed(struct dd_db *db, const char *account_region, const char *url, int64_t now_ms,
			      const char *error) DD_MUST_CHECK;
/* The fetch state of every URL (only those whose last CRL went to ca_id when not NULL),
 * ordered by URL. */
int dd_store_crl_fetch_list(struct dd_db *db, const char *account_region, const char *ca_id,
			    dd_store_crl_fetch_fn fn, void *ud) DD_MUST_CHECK;

#endif

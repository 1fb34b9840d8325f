/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Certificate revocation lists kept in the store: one current CRL per registered CA
 * certificate (table crls, its revoked serials in crl_revoked), imported by an operator
 * (admin command or the POST /crl-import endpoint) or fetched from the HTTP CRL
 * distribution points named by the certificates of one account and region (state per URL in
 * crl_fetches, so failures are visible and a CRL is fetched again only after its
 * nextUpdate). A CRL is stored only after its signature verified against the CA it is
 * stored for, and never replaced by an older one. Revocation is derived when asked, by
 * issuer name and serial (RFC 5280 scope), from CRLs that are still valid: thisUpdate not
 * in the future and nextUpdate (when present) plus DD_CRL_GRACE_MS not in the past.
 * Fetches run on the fetch pool (fetch.h), never on a request thread or an audit worker.
 * The parsing and verification primitives are dd_x509_crl_parse / dd_x509_crl_verify in x509.h;
 * the rules are src/core/pki/dd_crl.c, the rows src/store/dd_store_crl.c, and the status
 * report of POST /crl-status is built by the API layer (src/api/dd_iot_certs.h).
 */
#ifndef DD_CRL_H
#define DD_CRL_H

#include "dd/common.h"
#include "dd/store.h"

struct dd_service;

/* How long a CRL still counts after its nextUpdate (Decision: 7 days). */
#define DD_CRL_GRACE_MS (7LL * 86400 * 1000)
/* HTTP fetch limits for distribution points (whole fetch, redirects included). */
#define DD_CRL_FETCH_MAX_BYTES (8u << 20)
#define DD_CRL_FETCH_TIMEOUT_MS 10000L
#define DD_CRL_FETCH_CONNECT_TIMEOUT_MS 5000L
#define DD_CRL_FETCH_MAX_REDIRECTS 3
/* A CRL without nextUpdate is fetched again after this long. */
#define DD_CRL_DEFAULT_TTL_MS (3600LL * 1000)
/* After a failed fetch the URL is not tried again for this long. */
#define DD_CRL_RETRY_MS (300LL * 1000)

/* What an import stored. */
struct dd_crl_import_result {
	char ca_id[65];
	char issuer[512];
	int64_t this_update_ms;
	int64_t next_update_ms;   /* 0 when the CRL has none */
	size_t n_revoked;
};

/* Imports a CRL (PEM or DER, at most 16 MiB) as the current CRL of the CA certificate
 * ca_id of account_region ("<account>/<region>", see dd/ctx.h), inside its own write
 * transaction (the caller must not hold one).
 * source is "import" or the URL it was fetched from. Returns 0 and fills *res (may be
 * NULL); DD_ENOTFOUND when the CA is not registered; DD_EINVAL when the data is not a CRL;
 * DD_ECRYPTO when it is not issued or signed by that CA; DD_ECONFLICT when the stored CRL
 * is newer (thisUpdate); DD_EIO on a store error. err (size errlen) always says why. */
int dd_crl_import(struct dd_db *db, const char *account_region, const char *ca_id, const void *data,
		  size_t len, const char *source, int64_t now_ms, struct dd_crl_import_result *res,
		  char *err, size_t errlen) DD_MUST_CHECK;

/* What one refresh request did. */
struct dd_crl_refresh_stats {
	size_t urls;       /* distinct http(s) distribution points of the account */
	size_t queued;     /* queued now for the fetch pool */
	size_t pending;    /* already queued or being fetched (by an earlier request) */
	size_t cached;     /* skipped: the stored CRL is before its nextUpdate */
	size_t backoff;    /* skipped: failed less than DD_CRL_RETRY_MS ago */
	size_t dropped;    /* not queued: the account's fetch queue is full (tried next time) */
};

/* How long an audit waits for its own account's CRL fetches before it runs the
 * revocation checks on the CRLs stored by then (Decision: bounded, 5 s). */
#define DD_CRL_AUDIT_WAIT_MS 5000

/* Queues, on the service's fetch pool (fetch.h: per-account cap, round-robin between
 * accounts), a fetch of every HTTP(S) distribution point named by account's ACTIVE and
 * PENDING_TRANSFER device certificates and its CA certificates, unless the CRL from that
 * URL is still before its nextUpdate, the URL failed less than DD_CRL_RETRY_MS ago, or a
 * fetch of it is already queued or running. Returns at once: the caller never waits for
 * the network. Each fetch (dd_fetch_http: refused address ranges, at most 3 redirects each
 * checked again, DD_CRL_FETCH_MAX_BYTES, DD_CRL_FETCH_TIMEOUT_MS) stores its CRL for the
 * registered CA whose subject is its issuer and whose key verifies it, and records the
 * URL's state (lastError: a generic text for any network failure, the reason in the debug
 * log). Returns 0 (stats may be NULL), DD_EIO when the store is unusable, DD_ENOMEM. */
int dd_crl_refresh(struct dd_service *svc, const char *account_region, struct dd_crl_refresh_stats *stats) DD_MUST_CHECK;

/* Waits at most timeout_ms for account's queued and running CRL fetches to finish.
 * Returns 0 when none is left, 1 when some still are (they go on in the background). */
int dd_crl_refresh_wait(struct dd_service *svc, const char *account_region, int64_t timeout_ms);

/* CRL fetches of account queued or running now. */
size_t dd_crl_refresh_pending(struct dd_service *svc, const char *account_region);

/* Does a CRL with these times count at now_ms (thisUpdate at most 5 minutes ahead,
 * nextUpdate absent or at most DD_CRL_GRACE_MS ago)? */
bool dd_crl_valid_at(int64_t this_update_ms, int64_t next_update_ms, int64_t now_ms);

/* Is the certificate with this issuer name and serial (lowercase hex, no leading zeros)
 * on a valid stored CRL of account_region at now_ms? Returns 1 (and copies the id of the CA
 * whose CRL lists it into by_ca, when not NULL), 0, or DD_EIO. */
int dd_crl_lookup(struct dd_db *db, const char *account_region, const char *issuer, const char *serial,
		  int64_t now_ms, char by_ca[65]) DD_MUST_CHECK;

#endif

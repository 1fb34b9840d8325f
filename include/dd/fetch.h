/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Outbound HTTP requests to URLs that users supply (SNS http/https subscription
 * endpoints, CRL distribution points), and the pool that runs them off the request
 * threads. Invariants: a request only ever connects to an address that was checked
 * (the check runs on the very sockaddr libcurl is about to connect to, so a name that
 * re-resolves to another address between check and connect is still caught); loopback,
 * private, link-local, metadata, multicast and reserved ranges are refused unless an
 * operator's allow-list names them; only http and https; redirects are followed by this
 * module (never by libcurl), each hop checked again, at most max_redirects of them; no
 * proxy from the environment; every response is capped in size and time. Callers get a
 * generic error text (DD_FETCH_GENERIC_ERROR) for anything network-related; the reason
 * goes to the server log at debug level only, so a caller cannot probe which internal
 * ports are open. The pool runs jobs fairly between accounts: one FIFO per account,
 * accounts served round-robin, at most per_account jobs of one account at a time, so one
 * account's slow endpoints never hold another account's jobs back.
 */
#ifndef DD_FETCH_H
#define DD_FETCH_H

#include <sys/socket.h>

#include "dd/common.h"

struct dd_service;

/* What callers (and stored, API-visible states) say about any failed request. */
#define DD_FETCH_GENERIC_ERROR "the endpoint could not be reached"

/* An allow-list of CIDR blocks that overrides the refused ranges (for tests and labs). */
struct dd_fetch_allow;

/* Parses "CIDR[,CIDR…]" (IPv4 a.b.c.d/n or IPv6 x::y/n; a bare address means /32 or
 * /128; spaces around commas allowed; at most 64 entries). An empty or NULL spec gives
 * *out = NULL (nothing allowed beyond the default). Returns 0 or DD_EINVAL with err set;
 * *out is owned by the caller (dd_fetch_allow_free). */
int dd_fetch_allow_parse(const char *spec, struct dd_fetch_allow **out, char *err, size_t errlen) DD_MUST_CHECK;
void dd_fetch_allow_free(struct dd_fetch_allow *a);

/* Sets svc->outbound_allow from spec, or when spec is NULL from the environment variable
 * IOTDEFENDER_OUTBOUND_ALLOW. Returns 0 or DD_EINVAL with err set. */
int dd_fetch_configure(struct dd_service *svc, const char *spec, char *err, size_t errlen) DD_MUST_CHECK;

/* Returns 0 when a request may connect to sa (IPv4 or IPv6), DD_EDENIED when the
 * address is in a refused range and not on allow (may be NULL), DD_EINVAL for another
 * address family. why (may be NULL) gets the refused range's name. */
int dd_fetch_addr_check(const struct sockaddr *sa, const struct dd_fetch_allow *allow, const char **why) DD_MUST_CHECK;

/* For validation when a URL is stored (SNS Subscribe): returns DD_EINVAL when url is not
 * an http(s) URL with a host, DD_EDENIED when its host is an IP literal (or "localhost")
 * in a refused range, else 0. A host name is not resolved here: the request-time check is
 * the real guard. */
int dd_fetch_url_precheck(const char *url, const struct dd_fetch_allow *allow) DD_MUST_CHECK;

struct dd_fetch_req {
	const char *method;               /* "GET" or "POST" */
	const char *url;
	const char *const *headers;       /* "Name: value" lines, NULL-terminated; may be NULL */
	const char *body;                 /* POST body; may be NULL */
	size_t body_len;
	const char *user_agent;
	size_t max_bytes;                 /* response body cap; a bigger body fails */
	long connect_timeout_ms;          /* per connection attempt */
	long timeout_ms;                  /* the whole request, every redirect hop included */
	int max_redirects;                /* 0: a 3xx is returned as the status */
	bool keep_body_on_overflow;       /* true: a body over max_bytes is truncated, not an error */
	const struct dd_fetch_allow *allow;
	const volatile int *cancel;       /* when not NULL and set, the transfer is aborted */
};

struct dd_fetch_resp {
	long status;                      /* final HTTP status */
	unsigned char *body;              /* owned, NUL-terminated, len bytes before the NUL */
	size_t len;
};

/* Runs one request under the rules above. Returns 0 when an HTTP response was received
 * (any status; resp filled, resp->body owned by the caller), DD_EDENIED when an address
 * (of the first URL or of a redirect hop) was refused, DD_EINVAL for a URL that is not
 * http(s), DD_EIO for any other failure (connection, timeout, TLS, too big, too many
 * redirects). On failure resp is untouched and detail (may be NULL) gets a description
 * for the log only, never for a caller. */
int dd_fetch_http(const struct dd_fetch_req *req, struct dd_fetch_resp *resp, char *detail, size_t detlen) DD_MUST_CHECK;
void dd_fetch_resp_clear(struct dd_fetch_resp *resp);

/* ---- the fetch pool ------------------------------------------------------------------ */

struct dd_fetch_pool;
typedef void (*dd_fetch_job_fn)(struct dd_service *svc, const char *account, const char *key, void *arg,
				 const volatile int *cancel);

#define DD_FETCH_POOL_WORKERS 4        /* IOTDEFENDER_FETCH_WORKERS, 1..32 */
#define DD_FETCH_POOL_PER_ACCOUNT 2    /* IOTDEFENDER_FETCH_PER_ACCOUNT, 1..workers */
#define DD_FETCH_POOL_ACCOUNT_QUEUE 10000
#define DD_FETCH_POOL_TOTAL_QUEUE 100000

/* The service's pool, started on first use (threads with their own store connections);
 * NULL when it cannot be started. Stopped by dd_fetch_pool_stop. */
struct dd_fetch_pool *dd_fetch_pool_get(struct dd_service *svc);
/* Stops the pool of svc (if started): cancels running transfers, waits for the workers,
 * drops queued jobs (their free_fn runs). Called before the store closes. */
void dd_fetch_pool_stop(struct dd_service *svc);

/* Queues fn(svc, account, key, arg) for account unless a job with the same key is already
 * queued or running for that account. Returns 0 (queued: the pool owns arg and calls
 * free_fn(arg) after the job or when dropping it), 1 (already queued or running: arg is
 * untouched, still the caller's), DD_ELIMIT (the account's or the pool's queue is full:
 * arg is the caller's) or DD_ENOMEM. */
int dd_fetch_pool_submit(struct dd_fetch_pool *p, const char *account, const char *key, dd_fetch_job_fn fn,
			 void *arg, void (*free_fn)(void *)) DD_MUST_CHECK;
/* Jobs of account queued or running now. */
size_t dd_fetch_pool_pending(struct dd_fetch_pool *p, const char *account);
/* Waits until account has no job queued or running, at most timeout_ms. Returns 0 when
 * idle, 1 on timeout or when the pool is stopping. */
int dd_fetch_pool_wait_idle(struct dd_fetch_pool *p, const char *account, int64_t timeout_ms);

#endif

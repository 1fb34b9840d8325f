/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The running service's shared state: configuration, the store, the server's own CA and
 * the key-quality blocklists. Created by `serve` (or a test), shared read-only by every
 * request thread except where a member says how it is protected.
 */
#ifndef DD_SERVICE_H
#define DD_SERVICE_H

#include <pthread.h>

#include "dd/common.h"
#include "dd/store.h"

struct dd_blocklists;
struct dd_outbox;
struct dd_audit_engine;
struct dd_mitigation_engine;
struct dd_fetch_allow;
struct dd_fetch_pool;
struct dd_iam_secrets;
struct dd_lease_keeper;

struct dd_service {
	char data_dir[2048];
	char endpoint_url[512];   /* e.g. http://127.0.0.1:8443, for DescribeEndpoint and links */
	char endpoint_host[256];  /* host[:port] */
	struct dd_store *store;
	/* Server CA for CreateKeysAndCertificate, loaded or created at start. */
	char *ca_cert_pem;
	char *ca_key_pem;
	struct dd_blocklists *blocklists;  /* may be NULL */
	/* The key sealing IAM users' secrets (<data-dir>/iam-secrets.key), loaded or created
	 * at start; read-only afterwards. */
	struct dd_iam_secrets *iam_secrets;
	size_t max_body;          /* request body limit in bytes */
	struct dd_outbox *outbox; /* SNS delivery workers (dd_outbox.c), NULL when not started */
	struct dd_audit_engine *audit; /* audit workers and scheduler (dd_audit_engine.c) */
	/* mitigation workers (src/core/mitigation/dd_mitigation_engine.c), NULL when not started;
	 * set and cleared by dd_mitigation_engine_start / _stop while no request is served */
	struct dd_mitigation_engine *mitigation;
	/* Outbound requests (dd_fetch.c): ranges an operator allowed beyond the default
	 * (NULL: none), set once at start; the fair fetch pool, started on first use. */
	struct dd_fetch_allow *outbound_allow;
	struct dd_fetch_pool *fetch_pool;
	/* The service clock: wall time plus an offset that only a server started with
	 * --test-clock lets a signed request move (POST /admin/clock). The scheduler and the
	 * audit engine read time only through dd_service_now_ms. */
	bool test_clock;
	int audit_workers;        /* worker threads for audit tasks; 0 queues tasks without running them */
	volatile int64_t clock_offset_ms;
	/* Several instances on one store (dd/lease.h): this process's random instance id (made
	 * by dd_service_init, the owner of its leases), the lease duration of a claimed unit
	 * of background work (dd_service_init: 30 s; `serve --lease-seconds`), and the
	 * heartbeat pool that renews the leases (dd_lease_start). */
	char instance_id[33];
	int64_t lease_ms;
	struct dd_lease_keeper *lease_keeper;
};

/* Opens the store in data_dir, loads or creates the server CA and the IAM secrets key
 * (sealing any secret an older store kept in clear), opens the blocklists. */
int dd_service_init(struct dd_service *s, const char *data_dir) DD_MUST_CHECK;
void dd_service_close(struct dd_service *s);
/* Now on the service clock, epoch milliseconds. */
int64_t dd_service_now_ms(const struct dd_service *s);

#endif

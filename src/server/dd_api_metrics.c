/* SPDX-License-Identifier: Apache-2.0 */
/*
 * GET /metrics: the Prometheus text exposition of dd_metrics plus gauges read from the
 * store at scrape time (outbox rows by status, tasks in progress, and the broker plugin's
 * connection counters per region). Not SigV4-signed: it
 * answers only a request carrying `Authorization: Bearer <--metrics-token>`, compared in
 * constant time (SHA-256 of both sides, then CRYPTO_memcmp); with no token configured the
 * route does not exist (404), so an unconfigured server exposes nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "dd/buf.h"
#include "dd/changes.h"
#include "dd/metrics.h"
#include "dd/store.h"
#include "server/dd_api.h"
#include "store/dd_store_report.h"
#include "store/dd_store_outbox.h"

static bool token_ok(const char *configured, const char *authz)
{
	static const char prefix[] = "Bearer ";
	if (!authz || strncmp(authz, prefix, sizeof prefix - 1) != 0)
		return false;
	const char *given = authz + sizeof prefix - 1;
	unsigned char a[32], b[32];
	SHA256((const unsigned char *)configured, strlen(configured), a);
	SHA256((const unsigned char *)given, strnlen(given, 8192), b);
	return CRYPTO_memcmp(a, b, sizeof a) == 0;
}

static void store_gauges(struct dd_service *svc, struct dd_buf *b)
{
	struct dd_db *db = dd_store_db(svc->store);
	if (!db)
		return;
	static const char *const outbox_status[] = { "PENDING", "INFLIGHT", "DELIVERED", "FAILED" };
	struct dd_store_outbox_counts ob = { 0 };
	if (dd_store_outbox_counts(db, &ob))
		dd_log_warn("metrics: cannot count the outbox rows");
	const int64_t counts[4] = { ob.pending, ob.inflight, ob.delivered, ob.failed };
	for (int i = 0; i < 4; i++) {
		char labels[64];
		snprintf(labels, sizeof labels, "status=\"%s\"", outbox_status[i]);
		dd_metrics_gauge(b, "iotdefender_outbox_messages",
				 i ? NULL : "SNS outbox rows by status (PENDING+INFLIGHT is the depth, FAILED the failures kept).",
				 labels, (double)counts[i]);
	}
	static const char *const kinds[] = { "audit", "mitigation" };
	static const enum dd_store_report_task_kind kind_ids[] = { DD_STORE_REPORT_AUDIT, DD_STORE_REPORT_MITIGATION };
	for (int i = 0; i < 2; i++) {
		int64_t n = 0;
		if (dd_store_report_tasks_in_progress(db, kind_ids[i], &n))
			n = 0;
		char labels[64];
		snprintf(labels, sizeof labels, "kind=\"%s\"", kinds[i]);
		dd_metrics_gauge(b, "iotdefender_tasks_in_progress", i ? NULL : "Audit and mitigation tasks in progress.",
				 labels, (double)n);
	}
	if (dd_broker_metrics(db, dd_time_now_ms(), b))
		dd_log_warn("metrics: the broker counters could not be read");
}

void dd_api_metrics(struct dd_api *api, const struct dd_http_request *req, struct dd_http_response *resp)
{
	snprintf(resp->operation, sizeof resp->operation, "metrics");
	resp->content_type = "text/plain; charset=utf-8";
	if (!api->metrics_token || !*api->metrics_token) {
		resp->status = 404;
		resp->body = strdup("not found\n");
		resp->body_len = resp->body ? strlen(resp->body) : 0;
		return;
	}
	if (!token_ok(api->metrics_token, req->header(req->ud, "authorization"))) {
		resp->status = 401;
		snprintf(resp->auth_reason, sizeof resp->auth_reason, "metrics: missing or wrong bearer token");
		resp->body = strdup("a bearer token is required\n");
		resp->body_len = resp->body ? strlen(resp->body) : 0;
		return;
	}
	struct dd_buf b;
	dd_buf_init(&b, 0);
	dd_metrics_render(&b);
	store_gauges(api->svc, &b);
	resp->status = 200;
	resp->content_type = "text/plain; version=0.0.4; charset=utf-8";
	resp->body_len = b.len;
	resp->body = dd_buf_take(&b);
	if (!resp->body)
		resp->body_len = 0;
}

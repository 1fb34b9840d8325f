/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The metrics registry: a fixed table of labelled series, each claimed once (state 0 →
 * 1 by compare-and-swap, key written, state → 2 with release order) and then updated with
 * relaxed atomic adds; a reader that meets a series being claimed waits for the writer's
 * few stores. Histograms keep per-bucket counts and a sum in microseconds; rendering
 * accumulates them into Prometheus's cumulative buckets.
 */
#include "dd/metrics.h"

#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

enum family { F_REQ, F_TASK, F_DELIVERY, F_NFAM };

#define NSLOTS 2048
#define NB 12
#define KEYLEN 200

struct series {
	atomic_int state;
	int family;
	char labels[KEYLEN];
	atomic_uint_fast64_t count, sum_us, bytes;
	atomic_uint_fast64_t b[NB];
};

static struct series table[NSLOTS];
static atomic_uint_fast64_t dropped, findings;
static atomic_uint_fast64_t tx_count, tx_sum_us, tx_b[NB];

/* bucket upper bounds in microseconds */
static const int64_t req_bounds[NB] = { 1000, 5000, 10000, 25000, 50000, 100000, 250000, 500000,
					1000000, 2500000, 5000000, 10000000 };
static const int64_t task_bounds[NB] = { 10000, 100000, 500000, 1000000, 5000000, 10000000, 30000000,
					 60000000, 300000000, 900000000, 1800000000, 3600000000LL };
static const int64_t tx_bounds[NB] = { 100, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000,
				       1000000, 5000000 };

static uint64_t fnv(int family, const char *s)
{
	uint64_t h = 1469598103934665603ULL ^ (uint64_t)family;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

/* Escapes a label value into out (bounded). */
static void esc(char *out, size_t n, const char *v)
{
	size_t o = 0;
	for (; v && *v && o + 3 < n; v++) {
		if (*v == '\\' || *v == '"') {
			out[o++] = '\\';
			out[o++] = *v;
		} else if (*v == '\n') {
			out[o++] = '\\';
			out[o++] = 'n';
		} else {
			out[o++] = *v;
		}
	}
	out[o] = '\0';
}

static struct series *get(int family, const char *labels)
{
	uint64_t h = fnv(family, labels);
	for (size_t probe = 0; probe < NSLOTS; probe++) {
		struct series *s = &table[(h + probe) % NSLOTS];
		int st = atomic_load_explicit(&s->state, memory_order_acquire);
		if (st == 0) {
			int expect = 0;
			if (atomic_compare_exchange_strong(&s->state, &expect, 1)) {
				s->family = family;
				snprintf(s->labels, sizeof s->labels, "%s", labels);
				atomic_store_explicit(&s->state, 2, memory_order_release);
				return s;
			}
			st = expect;
		}
		while (st == 1) {
			sched_yield();
			st = atomic_load_explicit(&s->state, memory_order_acquire);
		}
		if (s->family == family && strcmp(s->labels, labels) == 0)
			return s;
	}
	atomic_fetch_add_explicit(&dropped, 1, memory_order_relaxed);
	return NULL;
}

static void observe(atomic_uint_fast64_t *b, const int64_t *bounds, int64_t us)
{
	for (int i = 0; i < NB; i++) {
		if (us <= bounds[i]) {
			atomic_fetch_add_explicit(&b[i], 1, memory_order_relaxed);
			return;
		}
	}
	/* above the last bound: only in +Inf (count) */
}

void dd_metrics_request(const char *service, const char *operation, int status, int64_t dur_us, size_t bytes_out)
{
	char sv[64], op[96], labels[KEYLEN];
	esc(sv, sizeof sv, service && *service ? service : "none");
	esc(op, sizeof op, operation && *operation ? operation : "none");
	snprintf(labels, sizeof labels, "service=\"%s\",operation=\"%s\",status=\"%d\"", sv, op, status);
	struct series *s = get(F_REQ, labels);
	if (!s)
		return;
	if (dur_us < 0)
		dur_us = 0;
	atomic_fetch_add_explicit(&s->count, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&s->sum_us, (uint64_t)dur_us, memory_order_relaxed);
	atomic_fetch_add_explicit(&s->bytes, bytes_out, memory_order_relaxed);
	observe(s->b, req_bounds, dur_us);
}

void dd_metrics_task(const char *kind, const char *status, int64_t dur_ms)
{
	char k[32], st[48], labels[KEYLEN];
	esc(k, sizeof k, kind);
	esc(st, sizeof st, status);
	snprintf(labels, sizeof labels, "kind=\"%s\",status=\"%s\"", k, st);
	struct series *s = get(F_TASK, labels);
	if (!s)
		return;
	int64_t us = dur_ms < 0 ? 0 : dur_ms * 1000;
	atomic_fetch_add_explicit(&s->count, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&s->sum_us, (uint64_t)us, memory_order_relaxed);
	observe(s->b, task_bounds, us);
}

void dd_metrics_findings(size_t n) { atomic_fetch_add_explicit(&findings, n, memory_order_relaxed); }

void dd_metrics_delivery(const char *result)
{
	char r[32], labels[KEYLEN];
	esc(r, sizeof r, result);
	snprintf(labels, sizeof labels, "result=\"%s\"", r);
	struct series *s = get(F_DELIVERY, labels);
	if (s)
		atomic_fetch_add_explicit(&s->count, 1, memory_order_relaxed);
}

void dd_metrics_tx(int64_t dur_us)
{
	if (dur_us < 0)
		dur_us = 0;
	atomic_fetch_add_explicit(&tx_count, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&tx_sum_us, (uint64_t)dur_us, memory_order_relaxed);
	observe(tx_b, tx_bounds, dur_us);
}

static void head(struct dd_buf *b, const char *name, const char *type, const char *help)
{
	dd_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void hist(struct dd_buf *b, const char *name, const char *labels, const atomic_uint_fast64_t *bk,
		 const int64_t *bounds, uint64_t count, uint64_t sum_us)
{
	uint64_t cum = 0;
	const char *sep = labels && *labels ? "," : "";
	for (int i = 0; i < NB; i++) {
		cum += atomic_load_explicit(&bk[i], memory_order_relaxed);
		dd_buf_printf(b, "%s_bucket{%s%sle=\"%g\"} %llu\n", name, labels ? labels : "", sep,
			      (double)bounds[i] / 1e6, (unsigned long long)cum);
	}
	/* count is read before the buckets could have moved past it: keep +Inf >= every bucket */
	if (count < cum)
		count = cum;
	dd_buf_printf(b, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", name, labels ? labels : "", sep, (unsigned long long)count);
	if (labels && *labels) {
		dd_buf_printf(b, "%s_sum{%s} %.6f\n", name, labels, (double)sum_us / 1e6);
		dd_buf_printf(b, "%s_count{%s} %llu\n", name, labels, (unsigned long long)count);
	} else {
		dd_buf_printf(b, "%s_sum %.6f\n", name, (double)sum_us / 1e6);
		dd_buf_printf(b, "%s_count %llu\n", name, (unsigned long long)count);
	}
}

static bool ready(const struct series *s, int family)
{
	return atomic_load_explicit(&((struct series *)s)->state, memory_order_acquire) == 2 && s->family == family;
}

void dd_metrics_gauge(struct dd_buf *b, const char *family, const char *help, const char *labels, double v)
{
	if (help)
		head(b, family, "gauge", help);
	if (labels && *labels)
		dd_buf_printf(b, "%s{%s} %.17g\n", family, labels, v);
	else
		dd_buf_printf(b, "%s %.17g\n", family, v);
}

void dd_metrics_render(struct dd_buf *b)
{
	dd_metrics_gauge(b, "iotdefender_build_info", "The version of this server (always 1).",
			 "version=\"" DD_VERSION "\"", 1);
	head(b, "iotdefender_http_requests_total", "counter", "HTTP requests answered, by service, operation and status.");
	for (size_t i = 0; i < NSLOTS; i++)
		if (ready(&table[i], F_REQ))
			dd_buf_printf(b, "iotdefender_http_requests_total{%s} %llu\n", table[i].labels,
				      (unsigned long long)atomic_load(&table[i].count));
	head(b, "iotdefender_http_response_bytes_total", "counter", "Response body bytes sent.");
	for (size_t i = 0; i < NSLOTS; i++)
		if (ready(&table[i], F_REQ))
			dd_buf_printf(b, "iotdefender_http_response_bytes_total{%s} %llu\n", table[i].labels,
				      (unsigned long long)atomic_load(&table[i].bytes));
	head(b, "iotdefender_http_request_duration_seconds", "histogram",
	     "Time from the request's first byte to its response, by service, operation and status.");
	for (size_t i = 0; i < NSLOTS; i++)
		if (ready(&table[i], F_REQ))
			hist(b, "iotdefender_http_request_duration_seconds", table[i].labels, table[i].b, req_bounds,
			     atomic_load(&table[i].count), atomic_load(&table[i].sum_us));
	head(b, "iotdefender_tasks_total", "counter", "Audit and mitigation tasks ended, by kind and final status.");
	for (size_t i = 0; i < NSLOTS; i++)
		if (ready(&table[i], F_TASK))
			dd_buf_printf(b, "iotdefender_tasks_total{%s} %llu\n", table[i].labels,
				      (unsigned long long)atomic_load(&table[i].count));
	head(b, "iotdefender_task_duration_seconds", "histogram", "Run time of audit and mitigation tasks.");
	for (size_t i = 0; i < NSLOTS; i++)
		if (ready(&table[i], F_TASK))
			hist(b, "iotdefender_task_duration_seconds", table[i].labels, table[i].b, task_bounds,
			     atomic_load(&table[i].count), atomic_load(&table[i].sum_us));
	head(b, "iotdefender_audit_findings_written_total", "counter", "Audit findings written.");
	dd_buf_printf(b, "iotdefender_audit_findings_written_total %llu\n", (unsigned long long)atomic_load(&findings));
	head(b, "iotdefender_sns_deliveries_total", "counter", "SNS delivery attempts, by result (delivered, retry, failed).");
	for (size_t i = 0; i < NSLOTS; i++)
		if (ready(&table[i], F_DELIVERY))
			dd_buf_printf(b, "iotdefender_sns_deliveries_total{%s} %llu\n", table[i].labels,
				      (unsigned long long)atomic_load(&table[i].count));
	head(b, "iotdefender_store_write_transaction_seconds", "histogram",
	     "Time a store write transaction held the write lock.");
	hist(b, "iotdefender_store_write_transaction_seconds", NULL, tx_b, tx_bounds, atomic_load(&tx_count),
	     atomic_load(&tx_sum_us));
	head(b, "iotdefender_metrics_dropped_total", "counter", "Samples not recorded because the series table is full.");
	dd_buf_printf(b, "iotdefender_metrics_dropped_total %llu\n", (unsigned long long)atomic_load(&dropped));
}

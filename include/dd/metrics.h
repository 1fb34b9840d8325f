/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Process-wide counters and histograms for GET /metrics (Prometheus text format 0.0.4).
 * Recording is lock-free (C11 atomics on a fixed open-addressed table of labelled series;
 * a series is claimed once with a compare-and-swap), so the request path never waits.
 * Label values come from the server's own vocabulary (model operation names, statuses),
 * never from raw client text; when the table is full new series are counted in
 * iotdefender_metrics_dropped_total instead.
 */
#ifndef DD_METRICS_H
#define DD_METRICS_H

#include "dd/buf.h"
#include "dd/common.h"

/* One HTTP request: service and operation ("" when not known), status, duration, bytes. */
void dd_metrics_request(const char *service, const char *operation, int status, int64_t dur_us, size_t bytes_out);
/* A background task ended: kind is "audit" or "mitigation"; status its final status. */
void dd_metrics_task(const char *kind, const char *status, int64_t dur_ms);
/* Audit findings written. */
void dd_metrics_findings(size_t n);
/* An SNS delivery attempt ended: result is "delivered", "retry" or "failed". */
void dd_metrics_delivery(const char *result);
/* A store write transaction held the write lock for dur_us. */
void dd_metrics_tx(int64_t dur_us);
/* Appends every series in the text format (families in a fixed order). */
void dd_metrics_render(struct dd_buf *b);
/* Appends one gauge sample (with its HELP/TYPE when help is not NULL). */
void dd_metrics_gauge(struct dd_buf *b, const char *family, const char *help, const char *labels, double v);

#endif

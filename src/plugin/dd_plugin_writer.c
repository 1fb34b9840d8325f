/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The plugin's writer thread: a bounded in-memory queue filled by the broker's event loop
 * (which never touches the disk for it) and drained by one thread with its own store
 * connection. Connection events are stored through the same ingestion as the NDJSON
 * route (dd_iot_ingest_connection_events), one transaction per account run; a busy or
 * failing store is retried without losing or reordering events. IoT log lines are
 * appended to the log file. Counter records are added to the region's broker counters
 * (store/dd_store_connections.h), read by GET /metrics.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/dd_iot_ingest.h"
#include "dd/ctx.h"
#include "plugin/dd_plugin_int.h"
#include "store/dd_store_connections.h"

struct rec {
	struct rec *next;
	int kind; /* enum dd_plugin_rec, or -1 once written */
	char account[16];
	char text[];
};

static pthread_mutex_t q_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t q_cond = PTHREAD_COND_INITIALIZER;
static struct rec *q_head, *q_tail;
static size_t q_len;
static unsigned long q_lost;
static bool q_stop, started;
static int64_t stop_deadline_ms;
static pthread_t thread;
static struct dd_store *w_store;
static char w_log_path[4200];
static char w_region[32];

int dd_plugin_writer_put(enum dd_plugin_rec kind, const char *account, const char *text)
{
	size_t len = strlen(text);
	struct rec *r = malloc(sizeof *r + len + 1);
	pthread_mutex_lock(&q_lock);
	if (!r || q_len >= DD_PLUGIN_QUEUE_MAX || !started) {
		q_lost++;
		pthread_mutex_unlock(&q_lock);
		free(r);
		return -1;
	}
	r->next = NULL;
	r->kind = kind;
	snprintf(r->account, sizeof r->account, "%s", account ? account : "");
	memcpy(r->text, text, len + 1);
	if (q_tail)
		q_tail->next = r;
	else
		q_head = r;
	q_tail = r;
	q_len++;
	pthread_cond_signal(&q_cond);
	pthread_mutex_unlock(&q_lock);
	return 0;
}

/* Stores the connection events of one account (a run of records). 0 or DD_E*. */
static int store_events(struct dd_db *db, const char *account, struct rec *first, struct rec *end)
{
	size_t len = 0;
	for (struct rec *r = first; r != end; r = r->next)
		len += strlen(r->text) + 1;
	char *body = malloc(len + 1);
	if (!body)
		return DD_ENOMEM;
	size_t pos = 0;
	for (struct rec *r = first; r != end; r = r->next) {
		size_t l = strlen(r->text);
		memcpy(body + pos, r->text, l);
		pos += l;
		body[pos++] = '\n';
	}
	body[pos] = 0;
	struct dd_ctx c = { .db = db, .account = account, .region = w_region, .request_id = "broker", .now_ms = dd_time_now_ms() };
	json_t *out = NULL;
	/* stored in the plugin's region, keyed by its account_region */
	int rc = dd_ctx_set_account_region(&c);
	if (rc) {
		free(body);
		return rc;
	}
	rc = dd_iot_ingest_connection_events(&c, body, pos, &out);
	json_decref(out);
	free(body);
	if (rc && rc != DD_EIO)
		fprintf(stderr, "iotdefender plugin: connection events rejected: %s\n", c.err_msg);
	return rc;
}

/* Adds one counters record to the store. 0, DD_EIO (retry) or DD_EINVAL (malformed). */
static int store_stats(struct dd_db *db, const char *text)
{
	int64_t v[4];
	const char *p = text;
	for (int i = 0; i < 4; i++) {
		char *end;
		long long n = strtoll(p, &end, 10);
		if (end == p)
			return DD_EINVAL;
		v[i] = n;
		p = end;
	}
	struct dd_store_connections_stats d = { .connected = v[0], .connects = v[1], .disconnects = v[2],
						.refusals = v[3], .updated_ms = dd_time_now_ms() };
	if (dd_db_begin_write(db))
		return DD_EIO;
	if (dd_store_connections_stats_add(db, w_region, &d) || dd_db_commit(db)) {
		dd_db_rollback(db);
		return DD_EIO;
	}
	return 0;
}

static void free_list(struct rec *r, struct rec *end)
{
	while (r != end) {
		struct rec *n = r->next;
		free(r);
		r = n;
	}
}

/* Writes a batch; returns the records still to be written (on a store failure). */
static struct rec *write_batch(struct rec *batch)
{
	/* log lines first: they do not depend on the store */
	FILE *f = NULL;
	for (struct rec *r = batch; r; r = r->next) {
		if (r->kind != DD_PLUGIN_REC_LOG)
			continue;
		if (!f && !(f = fopen(w_log_path, "a"))) {
			fprintf(stderr, "iotdefender plugin: cannot append to %s: log lines dropped\n", w_log_path);
			for (struct rec *x = r; x; x = x->next)
				if (x->kind == DD_PLUGIN_REC_LOG)
					x->kind = -1;
			break;
		}
		fputs(r->text, f);
		fputc('\n', f);
		r->kind = -1; /* written */
	}
	if (f)
		fclose(f);
	struct dd_db *db = w_store ? dd_store_db(w_store) : NULL;
	struct rec *r = batch;
	while (r) {
		if (r->kind == DD_PLUGIN_REC_STATS) {
			if ((db ? store_stats(db, r->text) : DD_EIO) == DD_EIO)
				return r; /* kept, in order */
			struct rec *n = r->next;
			free(r);
			r = n;
			continue;
		}
		if (r->kind != DD_PLUGIN_REC_EVENT) {
			struct rec *n = r->next;
			free(r);
			r = n;
			continue;
		}
		struct rec *end = r->next;
		while (end && end->kind == DD_PLUGIN_REC_EVENT && strcmp(end->account, r->account) == 0)
			end = end->next;
		int rc = db ? store_events(db, r->account, r, end) : DD_EIO;
		if (rc == DD_EIO || rc == DD_ENOMEM)
			return r; /* keep it and everything after, in order */
		free_list(r, end);
		r = end;
	}
	return NULL;
}

static void *writer_main(void *arg)
{
	(void)arg;
	struct rec *pending = NULL;
	unsigned long reported_lost = 0;
	for (;;) {
		pthread_mutex_lock(&q_lock);
		while (!q_head && !q_stop && !pending)
			pthread_cond_wait(&q_cond, &q_lock);
		bool stop = q_stop;
		struct rec *batch = q_head;
		q_head = q_tail = NULL;
		q_len = 0;
		unsigned long lost = q_lost;
		pthread_mutex_unlock(&q_lock);
		if (lost != reported_lost) {
			fprintf(stderr, "iotdefender plugin: %lu records lost (queue full)\n", lost - reported_lost);
			reported_lost = lost;
		}
		if (pending) {
			struct rec *t = pending;
			while (t->next)
				t = t->next;
			t->next = batch;
			batch = pending;
		}
		pending = batch ? write_batch(batch) : NULL;
		if (stop && (!pending || dd_time_now_ms() > stop_deadline_ms))
			break;
		if (pending) {
			struct timespec ts = { 0, 200 * 1000000L };
			nanosleep(&ts, NULL);
		}
	}
	if (pending) {
		size_t n = 0;
		for (struct rec *r = pending; r; r = r->next)
			n++;
		fprintf(stderr, "iotdefender plugin: %zu records could not be written at shutdown\n", n);
		free_list(pending, NULL);
	}
	return NULL;
}

int dd_plugin_writer_start(struct dd_store *store, const char *log_path, const char *region)
{
	w_store = store;
	snprintf(w_region, sizeof w_region, "%s", region);
	snprintf(w_log_path, sizeof w_log_path, "%s", log_path);
	q_stop = false;
	if (pthread_create(&thread, NULL, writer_main, NULL) != 0)
		return -1;
	pthread_mutex_lock(&q_lock);
	started = true;
	pthread_mutex_unlock(&q_lock);
	return 0;
}

void dd_plugin_writer_stop(int timeout_ms)
{
	pthread_mutex_lock(&q_lock);
	stop_deadline_ms = dd_time_now_ms() + timeout_ms;
	if (!started) {
		pthread_mutex_unlock(&q_lock);
		return;
	}
	started = false;
	q_stop = true;
	pthread_cond_signal(&q_cond);
	pthread_mutex_unlock(&q_lock);
	pthread_join(thread, NULL);
}

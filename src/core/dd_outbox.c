/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The durable SNS delivery outbox. Rows of sns_outbox are fully built messages, one per
 * subscription (dd_sns.c writes them); a pool of worker threads claims due PENDING rows
 * one at a time (status INFLIGHT, attempts+1, in one UPDATE … RETURNING; never a row of
 * an account that already has IOTDEFENDER_SNS_PER_ACCOUNT rows in flight, so one
 * account's slow subscribers cannot take every worker), delivers them (http/https POST
 * through dd_fetch_http: refused address ranges, no redirects; or SMTP to the operator's
 * relay) under connect and total timeouts, and records
 * the outcome: DELIVERED, or PENDING again with exponential backoff, or FAILED once the
 * attempts are used up (kept, logged, counted in GetTopicAttributes). At start, rows left
 * INFLIGHT by a crash go back to PENDING, so a message is delivered at least once and
 * repeated only when its delivery was in flight at the crash, always with the same
 * MessageId. No delivery ever runs on an API thread; a slow subscriber holds one worker
 * for at most the total timeout. The schedule is configurable by environment:
 * IOTDEFENDER_SNS_WORKERS (4), IOTDEFENDER_SNS_PER_ACCOUNT (half the workers, at least
 * 1), IOTDEFENDER_SNS_MAX_ATTEMPTS (10),
 * IOTDEFENDER_SNS_BACKOFF_MS (10000, doubled per attempt), IOTDEFENDER_SNS_BACKOFF_MAX_MS
 * (1200000: ten attempts span about an hour), IOTDEFENDER_SNS_CONNECT_TIMEOUT_MS (5000),
 * IOTDEFENDER_SNS_TIMEOUT_MS (15000), IOTDEFENDER_SNS_POLL_MS (1000),
 * IOTDEFENDER_SNS_RETENTION_S (604800: delivered and cancelled rows are purged after it),
 * IOTDEFENDER_SMTP_URL / IOTDEFENDER_SMTP_FROM for email.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "dd/buf.h"
#include "dd/fetch.h"
#include "dd/outbox.h"
#include "dd/sns.h"

#define MAX_WORKERS 32
#define RESPONSE_CAP 65536

struct outbox_cfg {
	int workers, max_attempts, per_account;
	int64_t backoff_ms, backoff_max_ms, connect_ms, timeout_ms, poll_ms, retention_s;
	char smtp_url[512], smtp_from[256];
};

struct dd_outbox {
	struct dd_service *svc;
	struct outbox_cfg cfg;
	pthread_t threads[MAX_WORKERS];
	int nthreads;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stop;
	volatile int cancel;  /* set at stop: aborts deliveries in flight */
	uint64_t wakes;
};

struct job {
	int64_t id;
	int attempts;
	char *account, *topic_arn, *sub_arn, *message_id, *type, *protocol, *endpoint, *subject, *body;
};

static int64_t env_int(const char *name, int64_t dflt, int64_t min, int64_t max)
{
	const char *v = getenv(name);
	int64_t n;
	if (!v || !*v)
		return dflt;
	if (dd_parse_int64(v, min, max, &n)) {
		dd_log_warn("outbox: ignoring %s=%s (expected an integer in [%lld, %lld])", name, v, (long long)min,
			    (long long)max);
		return dflt;
	}
	return n;
}

static void load_cfg(struct outbox_cfg *c)
{
	c->workers = (int)env_int("IOTDEFENDER_SNS_WORKERS", 4, 1, MAX_WORKERS);
	c->per_account = (int)env_int("IOTDEFENDER_SNS_PER_ACCOUNT", c->workers > 1 ? c->workers / 2 : 1, 1, c->workers);
	c->max_attempts = (int)env_int("IOTDEFENDER_SNS_MAX_ATTEMPTS", 10, 1, 1000);
	c->backoff_ms = env_int("IOTDEFENDER_SNS_BACKOFF_MS", 10000, 1, 86400000);
	c->backoff_max_ms = env_int("IOTDEFENDER_SNS_BACKOFF_MAX_MS", 1200000, 1, 86400000);
	c->connect_ms = env_int("IOTDEFENDER_SNS_CONNECT_TIMEOUT_MS", 5000, 1, 600000);
	c->timeout_ms = env_int("IOTDEFENDER_SNS_TIMEOUT_MS", 15000, 1, 600000);
	c->poll_ms = env_int("IOTDEFENDER_SNS_POLL_MS", 1000, 10, 60000);
	c->retention_s = env_int("IOTDEFENDER_SNS_RETENTION_S", 7 * 86400, 0, 3650L * 86400);
	const char *u = getenv("IOTDEFENDER_SMTP_URL"), *f = getenv("IOTDEFENDER_SMTP_FROM");
	snprintf(c->smtp_url, sizeof c->smtp_url, "%s", u ? u : "");
	snprintf(c->smtp_from, sizeof c->smtp_from, "%s", f && *f ? f : "no-reply@iotdefender.local");
}

static void job_free(struct job *j)
{
	free(j->account);
	free(j->topic_arn);
	free(j->sub_arn);
	free(j->message_id);
	free(j->type);
	free(j->protocol);
	free(j->endpoint);
	free(j->subject);
	free(j->body);
	memset(j, 0, sizeof *j);
}

static char *col_dup(sqlite3_stmt *st, int i)
{
	return sqlite3_column_type(st, i) == SQLITE_NULL ? NULL : strdup(dd_col_text(st, i));
}

/* Claims the next due row. Returns 1 with *j filled, 0 when none is due, or DD_E*. */
static int claim_tx(struct dd_db *db, int per_account, struct job *j)
{
	int64_t now = dd_now_ms();
	sqlite3_stmt *st = dd_db_stmt(db,
		"UPDATE sns_outbox SET status = 'INFLIGHT', attempts = attempts + 1, updated = ?1"
		" WHERE id = (SELECT o.id FROM sns_outbox o WHERE o.status = 'PENDING' AND o.next_at <= ?1"
		" AND (SELECT count(*) FROM sns_outbox f WHERE f.status = 'INFLIGHT' AND f.account = o.account) < ?2"
		" ORDER BY o.next_at, o.id LIMIT 1) AND status = 'PENDING'"
		" RETURNING id, attempts, account, topic_arn, subscription_arn, message_id, type, protocol, endpoint, subject, body");
	if (!st)
		return DD_EIO;
	dd_bind_int64(st, 1, now);
	dd_bind_int64(st, 2, per_account);
	int rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_reset(st);
		return rc == SQLITE_DONE ? 0 : DD_EIO;
	}
	j->id = sqlite3_column_int64(st, 0);
	j->attempts = sqlite3_column_int(st, 1);
	j->account = col_dup(st, 2);
	j->topic_arn = col_dup(st, 3);
	j->sub_arn = col_dup(st, 4);
	j->message_id = col_dup(st, 5);
	j->type = col_dup(st, 6);
	j->protocol = col_dup(st, 7);
	j->endpoint = col_dup(st, 8);
	j->subject = col_dup(st, 9);
	j->body = col_dup(st, 10);
	while (sqlite3_step(st) == SQLITE_ROW)
		;
	sqlite3_reset(st);
	if (!j->account || !j->topic_arn || !j->sub_arn || !j->message_id || !j->type || !j->protocol ||
	    !j->endpoint || !j->body) {
		job_free(j);
		return DD_ENOMEM;
	}
	return 1;
}

static int claim(struct dd_outbox *ob, struct dd_db *db, struct job *j)
{
	if (dd_db_begin_write(db))
		return DD_EIO;
	int rc = claim_tx(db, ob->cfg.per_account, j);
	if (rc < 0) {
		dd_db_rollback(db);
		return rc;
	}
	if (dd_db_commit(db)) {
		if (rc == 1)
			job_free(j);
		return DD_EIO;
	}
	return rc;
}

static int deliver_http(struct dd_outbox *ob, const struct job *j, char *err, size_t errlen)
{
	char type[128], mid[128], topic[512], sub[600];
	snprintf(type, sizeof type, "x-amz-sns-message-type: %s", j->type);
	snprintf(mid, sizeof mid, "x-amz-sns-message-id: %s", j->message_id);
	snprintf(topic, sizeof topic, "x-amz-sns-topic-arn: %s", j->topic_arn);
	snprintf(sub, sizeof sub, "x-amz-sns-subscription-arn: %s", j->sub_arn);
	bool notification = strcmp(j->type, "Notification") == 0;
	const char *hdr[] = { "Content-Type: text/plain; charset=UTF-8", type, mid, topic, "Expect:",
			      notification ? sub : NULL, NULL };
	struct dd_fetch_req req = {
		.method = "POST", .url = j->endpoint, .headers = hdr, .body = j->body, .body_len = strlen(j->body),
		.user_agent = "Amazon Simple Notification Service Agent", .max_bytes = RESPONSE_CAP,
		.keep_body_on_overflow = true, .connect_timeout_ms = (long)ob->cfg.connect_ms,
		.timeout_ms = (long)ob->cfg.timeout_ms, .max_redirects = 0, .allow = ob->svc->outbound_allow,
		.cancel = &ob->cancel,
	};
	struct dd_fetch_resp resp = { 0 };
	char detail[512] = "";
	int rc = dd_fetch_http(&req, &resp, detail, sizeof detail);
	if (!rc && (resp.status < 200 || resp.status > 299)) {
		dd_log_debug("sns: delivery of message %s to %s: HTTP status %ld", j->message_id, j->endpoint, resp.status);
		rc = DD_EIO;
	}
	dd_fetch_resp_clear(&resp);
	if (rc) {
		/* the reason went to the debug log (dd_fetch_http); stored text stays generic */
		snprintf(err, errlen, "%s", DD_FETCH_GENERIC_ERROR);
		return DD_EIO;
	}
	return 0;
}

struct mail_src {
	const char *data;
	size_t len, off;
};

static size_t mail_read(char *ptr, size_t size, size_t nmemb, void *ud)
{
	struct mail_src *m = ud;
	size_t room = size * nmemb, left = m->len - m->off;
	size_t n = left < room ? left : room;
	memcpy(ptr, m->data + m->off, n);
	m->off += n;
	return n;
}

static int deliver_email(const struct outbox_cfg *cfg, const struct job *j, char *err, size_t errlen)
{
	if (!cfg->smtp_url[0]) {
		snprintf(err, errlen, "no SMTP relay configured (IOTDEFENDER_SMTP_URL)");
		return DD_EIO;
	}
	char date[64];
	time_t t = time(NULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);
	struct dd_buf b;
	dd_buf_init(&b, 0);
	dd_buf_printf(&b, "Date: %s\r\nTo: <%s>\r\nFrom: <%s>\r\nSubject: %s\r\nMessage-ID: <%s@iotdefender>\r\n"
			  "MIME-Version: 1.0\r\nContent-Type: %s; charset=UTF-8\r\n\r\n",
		      date, j->endpoint, cfg->smtp_from, j->subject ? j->subject : "AWS Notification Message",
		      j->message_id, strcmp(j->protocol, "email-json") == 0 ? "application/json" : "text/plain");
	for (const char *p = j->body; *p; p++) {
		if (*p == '\n' && (p == j->body || p[-1] != '\r'))
			dd_buf_putc(&b, '\r');
		dd_buf_putc(&b, *p);
	}
	dd_buf_puts(&b, "\r\n");
	char *payload = dd_buf_take(&b);
	CURL *h = curl_easy_init();
	if (!payload || !h) {
		free(payload);
		if (h)
			curl_easy_cleanup(h);
		snprintf(err, errlen, "out of memory");
		return DD_ENOMEM;
	}
	char addr[2100];
	struct curl_slist *rcpt = NULL;
	snprintf(addr, sizeof addr, "<%s>", j->endpoint);
	rcpt = curl_slist_append(rcpt, addr);
	char from[300];
	snprintf(from, sizeof from, "<%s>", cfg->smtp_from);
	struct mail_src src = { payload, strlen(payload), 0 };
	char ebuf[CURL_ERROR_SIZE] = "";
	curl_easy_setopt(h, CURLOPT_URL, cfg->smtp_url);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_MAIL_FROM, from);
	curl_easy_setopt(h, CURLOPT_MAIL_RCPT, rcpt);
	curl_easy_setopt(h, CURLOPT_READFUNCTION, mail_read);
	curl_easy_setopt(h, CURLOPT_READDATA, &src);
	curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)cfg->connect_ms);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)cfg->timeout_ms);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, ebuf);
	CURLcode cc = curl_easy_perform(h);
	curl_slist_free_all(rcpt);
	curl_easy_cleanup(h);
	free(payload);
	if (cc != CURLE_OK) {
		snprintf(err, errlen, "%s", ebuf[0] ? ebuf : curl_easy_strerror(cc));
		return DD_EIO;
	}
	return 0;
}

static int64_t backoff(const struct outbox_cfg *cfg, int attempts)
{
	int64_t d = cfg->backoff_ms;
	for (int i = 1; i < attempts && d < cfg->backoff_max_ms; i++)
		d *= 2;
	return d < cfg->backoff_max_ms ? d : cfg->backoff_max_ms;
}

static void record(struct dd_outbox *ob, struct dd_db *db, const struct job *j, int rc, const char *err)
{
	int64_t now = dd_now_ms();
	const char *status = "DELIVERED";
	int64_t next = now;
	if (rc) {
		if (j->attempts >= ob->cfg.max_attempts) {
			status = "FAILED";
			dd_log_warn("sns: delivery of message %s (%s) to %s for %s FAILED after %d attempts: %s; kept in the"
				    " outbox (see iotdefender:DeliveriesFailed in GetTopicAttributes)",
				    j->message_id, j->type, j->endpoint, j->sub_arn, j->attempts, err);
		} else {
			status = "PENDING";
			next = now + backoff(&ob->cfg, j->attempts);
			dd_log_info("sns: delivery of message %s to %s failed (attempt %d of %d): %s; retrying in %lld ms",
				    j->message_id, j->endpoint, j->attempts, ob->cfg.max_attempts, err,
				    (long long)(next - now));
		}
	}
	sqlite3_stmt *st = dd_db_stmt(db, "UPDATE sns_outbox SET status = ?2, next_at = ?3, updated = ?4, last_error = ?5"
					  " WHERE id = ?1 AND status = 'INFLIGHT'");
	if (!st)
		return;
	dd_bind_int64(st, 1, j->id);
	dd_bind_text(st, 2, status);
	dd_bind_int64(st, 3, next);
	dd_bind_int64(st, 4, now);
	dd_bind_text(st, 5, rc ? err : NULL);
	if (dd_db_begin_write(db) || dd_step_done(st) || dd_db_commit(db)) {
		dd_db_rollback(db);
		dd_log_error("sns: could not record the outcome of outbox row %lld", (long long)j->id);
	}
}

static void purge(struct dd_outbox *ob, struct dd_db *db)
{
	sqlite3_stmt *st = dd_db_stmt(db, "DELETE FROM sns_outbox WHERE status IN ('DELIVERED', 'CANCELLED') AND updated < ?1");
	if (!st)
		return;
	dd_bind_int64(st, 1, dd_now_ms() - ob->cfg.retention_s * 1000);
	if (dd_step_done(st))
		dd_log_warn("sns: could not purge old outbox rows");
}

static void wait_for_work(struct dd_outbox *ob, uint64_t *seen)
{
	pthread_mutex_lock(&ob->mu);
	if (!ob->stop && ob->wakes == *seen) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		int64_t ns = ts.tv_nsec + (ob->cfg.poll_ms % 1000) * 1000000;
		ts.tv_sec += (time_t)(ob->cfg.poll_ms / 1000 + ns / 1000000000);
		ts.tv_nsec = (long)(ns % 1000000000);
		pthread_cond_timedwait(&ob->cv, &ob->mu, &ts);
	}
	*seen = ob->wakes;
	pthread_mutex_unlock(&ob->mu);
}

static bool stopping(struct dd_outbox *ob)
{
	pthread_mutex_lock(&ob->mu);
	bool s = ob->stop;
	pthread_mutex_unlock(&ob->mu);
	return s;
}

struct worker_arg {
	struct dd_outbox *ob;
	int index;
};

static void *worker(void *arg)
{
	struct worker_arg wa = *(struct worker_arg *)arg;
	free(arg);
	struct dd_outbox *ob = wa.ob;
	struct dd_db *db = dd_store_db(ob->svc->store);
	if (!db) {
		dd_log_error("sns: outbox worker %d has no store connection", wa.index);
		return NULL;
	}
	uint64_t seen = 0;
	int64_t last_purge = 0;
	while (!stopping(ob)) {
		struct job j = { 0 };
		int rc = claim(ob, db, &j);
		if (rc == 1) {
			char err[CURL_ERROR_SIZE + 64] = "";
			int drc = strncmp(j.protocol, "email", 5) == 0 ? deliver_email(&ob->cfg, &j, err, sizeof err)
								       : deliver_http(ob, &j, err, sizeof err);
			record(ob, db, &j, drc, err);
			job_free(&j);
			continue;
		}
		if (rc < 0)
			dd_log_warn("sns: outbox worker %d could not claim a row: %s", wa.index, dd_strerror(rc));
		if (wa.index == 0 && dd_now_ms() - last_purge > 60000) {
			purge(ob, db);
			last_purge = dd_now_ms();
		}
		wait_for_work(ob, &seen);
	}
	return NULL;
}

/* At start: deliveries in flight at a crash become due again; report what is queued. */
static int recover(struct dd_db *db)
{
	sqlite3_stmt *st = dd_db_stmt(db, "UPDATE sns_outbox SET status = 'PENDING', next_at = ?1 WHERE status = 'INFLIGHT'");
	if (!st)
		return DD_EIO;
	dd_bind_int64(st, 1, dd_now_ms());
	int rc = dd_step_done(st);
	if (rc)
		return rc;
	int requeued = sqlite3_changes(dd_db_handle(db));
	st = dd_db_stmt(db, "SELECT sum(status = 'PENDING'), sum(status = 'FAILED'), sum(status = 'UNDELIVERABLE') FROM sns_outbox");
	if (!st)
		return DD_EIO;
	if (sqlite3_step(st) == SQLITE_ROW) {
		long long pending = sqlite3_column_int64(st, 0), failed = sqlite3_column_int64(st, 1);
		long long undeliverable = sqlite3_column_int64(st, 2);
		if (requeued || pending || failed || undeliverable)
			dd_log_info("sns: outbox has %lld pending (%d were in flight at the last stop), %lld failed, "
				    "%lld undeliverable message(s)", pending, requeued, failed, undeliverable);
	}
	sqlite3_reset(st);
	return 0;
}

int dd_outbox_start(struct dd_service *svc)
{
	struct dd_db *db = dd_store_db(svc->store);
	if (!db)
		return DD_EIO;
	int rc = recover(db);
	if (rc)
		return rc;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return DD_EIO;
	struct dd_outbox *ob = calloc(1, sizeof *ob);
	if (!ob) {
		curl_global_cleanup();
		return DD_ENOMEM;
	}
	ob->svc = svc;
	load_cfg(&ob->cfg);
	pthread_mutex_init(&ob->mu, NULL);
	pthread_cond_init(&ob->cv, NULL);
	for (int i = 0; i < ob->cfg.workers; i++) {
		struct worker_arg *wa = malloc(sizeof *wa);
		if (!wa)
			break;
		wa->ob = ob;
		wa->index = i;
		if (pthread_create(&ob->threads[i], NULL, worker, wa) != 0) {
			free(wa);
			break;
		}
		ob->nthreads++;
	}
	if (ob->nthreads == 0) {
		pthread_cond_destroy(&ob->cv);
		pthread_mutex_destroy(&ob->mu);
		free(ob);
		curl_global_cleanup();
		return DD_EIO;
	}
	__atomic_store_n(&svc->outbox, ob, __ATOMIC_RELEASE);
	dd_log_info("sns: %d delivery worker(s), %d attempts, backoff %lld..%lld ms", ob->nthreads,
		    ob->cfg.max_attempts, (long long)ob->cfg.backoff_ms, (long long)ob->cfg.backoff_max_ms);
	return 0;
}

void dd_outbox_wake(struct dd_service *svc)
{
	struct dd_outbox *ob = svc ? __atomic_load_n(&svc->outbox, __ATOMIC_ACQUIRE) : NULL;
	if (!ob)
		return;
	pthread_mutex_lock(&ob->mu);
	ob->wakes++;
	pthread_cond_broadcast(&ob->cv);
	pthread_mutex_unlock(&ob->mu);
}

void dd_outbox_stop(struct dd_service *svc)
{
	struct dd_outbox *ob = __atomic_load_n(&svc->outbox, __ATOMIC_ACQUIRE);
	if (!ob)
		return;
	pthread_mutex_lock(&ob->mu);
	ob->stop = true;
	ob->cancel = 1;
	pthread_cond_broadcast(&ob->cv);
	pthread_mutex_unlock(&ob->mu);
	for (int i = 0; i < ob->nthreads; i++)
		pthread_join(ob->threads[i], NULL);
	__atomic_store_n(&svc->outbox, NULL, __ATOMIC_RELEASE);
	pthread_cond_destroy(&ob->cv);
	pthread_mutex_destroy(&ob->mu);
	free(ob);
	curl_global_cleanup();
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The durable SNS delivery outbox. Rows of sns_outbox are fully built messages, one per
 * subscription (dd_sns.c writes them); a dd_workers pool claims due PENDING rows one at
 * a time through dd_store_outbox_claim (status INFLIGHT, attempts+1; never a row of an
 * account that already has IOTDEFENDER_SNS_PER_ACCOUNT rows in flight, so one account's
 * slow subscribers cannot take every worker), delivers them (http/https POST through
 * dd_fetch_http: refused address ranges, no redirects; or SMTP to the operator's relay)
 * under connect and total timeouts, and records the outcome: DELIVERED, or PENDING again
 * with exponential backoff, or FAILED once the attempts are used up (kept, logged,
 * counted in GetTopicAttributes). A claimed row is leased to this instance for the total
 * timeout plus the lease duration (svc->lease_ms); several `serve` instances share one
 * outbox, and a row whose lease expired (its instance was killed) is claimed again by any.
 * At start (the pool's recover step), rows left INFLIGHT with an expired lease go back to
 * PENDING (never one another live instance is delivering), so a message is delivered at
 * least once and repeated only when its delivery was in flight at the crash, always with
 * the same MessageId. No delivery ever runs on an API thread; a slow subscriber holds one worker
 * for at most the total timeout, and a stop cancels deliveries in flight. The schedule is
 * configurable by environment: IOTDEFENDER_SNS_WORKERS (4), IOTDEFENDER_SNS_PER_ACCOUNT
 * (half the workers, at least 1), IOTDEFENDER_SNS_MAX_ATTEMPTS (10),
 * IOTDEFENDER_SNS_BACKOFF_MS (10000, doubled per attempt), IOTDEFENDER_SNS_BACKOFF_MAX_MS
 * (1200000: ten attempts span about an hour), IOTDEFENDER_SNS_CONNECT_TIMEOUT_MS (5000),
 * IOTDEFENDER_SNS_TIMEOUT_MS (15000), IOTDEFENDER_SNS_POLL_MS (1000: the pool's idle
 * timeout; workers are also woken on insert), IOTDEFENDER_SNS_RETENTION_S (604800:
 * delivered and cancelled rows are purged after it, by an idle worker once a minute),
 * IOTDEFENDER_SMTP_URL / IOTDEFENDER_SMTP_FROM for email. No SQL here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "base/dd_workers.h"
#include "dd/metrics.h"
#include "dd/buf.h"
#include "dd/fetch.h"
#include "dd/outbox.h"
#include "dd/sns.h"
#include "store/dd_store_outbox.h"

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
	struct dd_workers *pool;
	int64_t last_purge;   /* atomic: epoch ms of the last purge */
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

/* w: the pool running the delivery (ob->pool is not set yet while the pool starts). */
static int deliver_http(struct dd_outbox *ob, struct dd_workers *w, const struct dd_store_outbox_row *j, char *err,
			size_t errlen)
{
	char type[128], mid[128], topic[512], sub[600];
	snprintf(type, sizeof type, "x-amz-sns-message-type: %s", j->type);
	snprintf(mid, sizeof mid, "x-amz-sns-message-id: %s", j->message_id);
	snprintf(topic, sizeof topic, "x-amz-sns-topic-arn: %s", j->topic_arn);
	snprintf(sub, sizeof sub, "x-amz-sns-subscription-arn: %s", j->subscription_arn);
	bool notification = strcmp(j->type, "Notification") == 0;
	const char *hdr[] = { "Content-Type: text/plain; charset=UTF-8", type, mid, topic, "Expect:",
			      notification ? sub : NULL, NULL };
	struct dd_fetch_req req = {
		.method = "POST", .url = j->endpoint, .headers = hdr, .body = j->body, .body_len = strlen(j->body),
		.user_agent = "Amazon Simple Notification Service Agent", .max_bytes = RESPONSE_CAP,
		.keep_body_on_overflow = true, .connect_timeout_ms = (long)ob->cfg.connect_ms,
		.timeout_ms = (long)ob->cfg.timeout_ms, .max_redirects = 0, .allow = ob->svc->outbound_allow,
		.cancel = dd_workers_cancel_flag(w),
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

static int deliver_email(const struct outbox_cfg *cfg, const struct dd_store_outbox_row *j, char *err, size_t errlen)
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

static void record(struct dd_outbox *ob, struct dd_db *db, const struct dd_store_outbox_row *j, int rc, const char *err)
{
	int64_t now = dd_time_now_ms();
	int src;
	const char *outcome;
	if (!rc) {
		dd_log_info("sns: message %s (%s) delivered to %s for %s (attempt %d)", j->message_id, j->type,
			    j->endpoint, j->subscription_arn, j->attempts);
		outcome = "delivered";
		src = dd_store_outbox_complete(db, j->id, ob->svc->instance_id, now);
	} else if (j->attempts >= ob->cfg.max_attempts) {
		dd_log_warn("sns: delivery of message %s (%s) to %s for %s FAILED after %d attempts: %s; kept in the"
			    " outbox (see iotdefender:DeliveriesFailed in GetTopicAttributes)",
			    j->message_id, j->type, j->endpoint, j->subscription_arn, j->attempts, err);
		outcome = "failed";
		src = dd_store_outbox_fail(db, j->id, ob->svc->instance_id, now, err);
	} else {
		int64_t next = now + backoff(&ob->cfg, j->attempts);
		dd_log_info("sns: delivery of message %s to %s failed (attempt %d of %d): %s; retrying in %lld ms",
			    j->message_id, j->endpoint, j->attempts, ob->cfg.max_attempts, err, (long long)(next - now));
		outcome = "retry";
		src = dd_store_outbox_retry(db, j->id, ob->svc->instance_id, next, now, err);
	}
	dd_metrics_delivery(outcome);
	/* DD_ENOTFOUND: the row was cancelled while in flight, or another instance took it over
	 * after our lease expired, which is fine */
	if (src && src != DD_ENOTFOUND)
		dd_log_error("sns: could not record the outcome of outbox row %lld", (long long)j->id);
}

/* ---- the pool's callbacks ------------------------------------------------------------ */

static int ob_claim(struct dd_workers *w, void *ud, void **job)
{
	(void)w;
	struct dd_outbox *ob = ud;
	struct dd_db *db = dd_store_db(ob->svc->store);
	if (!db)
		return DD_EIO;
	struct dd_store_outbox_row *j = calloc(1, sizeof *j);
	if (!j)
		return DD_ENOMEM;
	/* the lease covers the whole delivery (bounded by the total timeout) and then some */
	int64_t now = dd_time_now_ms();
	int rc = dd_store_outbox_claim(db, now, ob->cfg.per_account, ob->svc->instance_id,
				       ob->cfg.timeout_ms + ob->svc->lease_ms, j);
	if (rc != 1) {
		free(j);
		return rc;
	}
	*job = j;
	return 1;
}

static int ob_run(struct dd_workers *w, void *ud, void *job)
{
	struct dd_outbox *ob = ud;
	struct dd_store_outbox_row *j = job;
	struct dd_db *db = dd_store_db(ob->svc->store);
	if (!db)
		return DD_EIO; /* stays INFLIGHT: requeued at the next start */
	char err[CURL_ERROR_SIZE + 64] = "";
	int drc = strncmp(j->protocol, "email", 5) == 0 ? deliver_email(&ob->cfg, j, err, sizeof err)
						       : deliver_http(ob, w, j, err, sizeof err);
	record(ob, db, j, drc, err);
	return 0;
}

static void ob_release(struct dd_workers *w, void *ud, void *job, int rc)
{
	(void)w;
	(void)ud;
	(void)rc;
	dd_store_outbox_row_clear(job);
	free(job);
}

/* Idle upkeep: delivered and cancelled rows older than the retention go, once a minute. */
static void ob_idle(struct dd_workers *w, void *ud)
{
	(void)w;
	struct dd_outbox *ob = ud;
	int64_t now = dd_time_now_ms(), last = __atomic_load_n(&ob->last_purge, __ATOMIC_RELAXED);
	if (now - last <= 60000 || !__atomic_compare_exchange_n(&ob->last_purge, &last, now, false, __ATOMIC_RELAXED,
								 __ATOMIC_RELAXED))
		return;
	struct dd_db *db = dd_store_db(ob->svc->store);
	if (!db || dd_store_outbox_purge(db, now - ob->cfg.retention_s * 1000, NULL))
		dd_log_warn("sns: could not purge old outbox rows");
}

/* At start: deliveries in flight at a crash become due again; report what is queued. */
static int ob_recover(void *ud)
{
	struct dd_outbox *ob = ud;
	struct dd_db *db = dd_store_db(ob->svc->store);
	if (!db)
		return DD_EIO;
	int64_t requeued = 0;
	int rc = dd_store_outbox_requeue_inflight(db, dd_time_now_ms(), &requeued);
	if (rc)
		return rc;
	struct dd_store_outbox_counts n;
	if (dd_store_outbox_counts(db, &n) == 0 && (requeued || n.pending || n.failed || n.undeliverable))
		dd_log_info("sns: outbox has %lld pending (%lld were in flight at the last stop), %lld failed, "
			    "%lld undeliverable message(s)", (long long)n.pending, (long long)requeued,
			    (long long)n.failed, (long long)n.undeliverable);
	return 0;
}

int dd_outbox_start(struct dd_service *svc)
{
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return DD_EIO;
	struct dd_outbox *ob = calloc(1, sizeof *ob);
	if (!ob) {
		curl_global_cleanup();
		return DD_ENOMEM;
	}
	ob->svc = svc;
	load_cfg(&ob->cfg);
	struct dd_workers_config wc = {
		.name = "sns", .nthreads = ob->cfg.workers, .idle_ms = ob->cfg.poll_ms, .claim = ob_claim,
		.run = ob_run, .release = ob_release, .idle = ob_idle, .recover = ob_recover, .ud = ob,
	};
	int rc = dd_workers_start(&wc, &ob->pool);
	if (rc) {
		free(ob);
		curl_global_cleanup();
		return rc;
	}
	__atomic_store_n(&svc->outbox, ob, __ATOMIC_RELEASE);
	dd_log_info("sns: %d delivery worker(s), %d attempts, backoff %lld..%lld ms", dd_workers_count(ob->pool),
		    ob->cfg.max_attempts, (long long)ob->cfg.backoff_ms, (long long)ob->cfg.backoff_max_ms);
	return 0;
}

void dd_outbox_wake(struct dd_service *svc)
{
	struct dd_outbox *ob = svc ? __atomic_load_n(&svc->outbox, __ATOMIC_ACQUIRE) : NULL;
	if (ob)
		dd_workers_wake(ob->pool);
}

void dd_outbox_stop(struct dd_service *svc)
{
	struct dd_outbox *ob = __atomic_load_n(&svc->outbox, __ATOMIC_ACQUIRE);
	if (!ob)
		return;
	__atomic_store_n(&svc->outbox, NULL, __ATOMIC_RELEASE);
	dd_workers_stop(ob->pool);
	/* deliveries cut short by the stop are due again at once, for any instance */
	struct dd_db *db = dd_store_db(svc->store);
	int64_t n = 0;
	if (db && dd_store_outbox_release_owner(db, svc->instance_id, dd_time_now_ms(), &n) == 0 && n)
		dd_log_info("sns: %lld delivery(ies) in flight at the stop are due again", (long long)n);
	free(ob);
	curl_global_cleanup();
}

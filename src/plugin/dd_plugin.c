/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Mosquitto 2.0 plugin (API v5): the broker side of iotdefender. BASIC_AUTH admits a
 * TLS client only when its certificate (id = SHA-256 of its DER) is registered and ACTIVE,
 * its CA (if any) is ACTIVE, no loaded CRL revokes it, and its policies allow iot:Connect
 * on client/<clientId> — the policies and variables of dd_authz, as TestAuthorization
 * answers. ACL_CHECK answers Publish (and RetainPublish), Subscribe and Receive from the
 * compiled policies cached per connection, without SQL, and remembers each connection's
 * last Publish/Receive decisions by topic (dropped whenever its policies are reloaded).
 * It runs no SQL of its own (store/dd_store_connections.h, the journal, dd_authz and
 * dd_crl_lookup read the store). TICK polls the change journal every 200 ms: clients
 * whose certificate left ACTIVE are kicked, caches are rebuilt, and DeleteConnection
 * requests are applied. Connects and disconnects are recorded (through
 * the writer thread) as connection events, lifecycle events are published, and AWS IoT
 * log lines are written at the account's v2 log level; the connection counters (connects,
 * disconnects, refusals, connected now) go to the store for GET /metrics. Any store
 * failure refuses.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#if __has_include(<mosquitto.h>)
#include <mosquitto.h>
#else
/* mosquitto-dev ships the broker and plugin headers only; these values are libmosquitto's
 * (mosquitto.h, 2.0), part of the broker's ABI. */
enum { MOSQ_ERR_SUCCESS = 0, MOSQ_ERR_NOMEM = 1, MOSQ_ERR_INVAL = 3, MOSQ_ERR_AUTH = 11,
       MOSQ_ERR_ACL_DENIED = 12, MOSQ_ERR_UNKNOWN = 13 };
#define MOSQ_LOG_INFO 0x01
#define MOSQ_LOG_NOTICE 0x02
#define MOSQ_LOG_WARNING 0x04
#define MOSQ_LOG_ERR 0x08
#define MOSQ_LOG_DEBUG 0x10
#endif
#include <mosquitto_broker.h>
#include <mosquitto_plugin.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "dd/authz.h"
#include "dd/changes.h"
#include "dd/crl.h"
#include "dd/ctx.h"
#include "dd/store.h"
#include "plugin/dd_plugin_int.h"
#include "store/dd_store_connections.h"

#define MAX_CLIENT_ID 128
#define MAX_TOPIC 256
#define BUCKETS 4096
#define POLL_MS 200
#define MAX_ACCOUNTS 64

/* One remembered ACL decision: what was asked (access, retain flag, topic) and the answer.
 * A decision depends only on the connection's compiled policies and binding (no clock,
 * no store), so it holds until they are reloaded. */
#define MEMO_SLOTS 8
struct memo {
	uint16_t len; /* 0: empty */
	uint8_t access;
	bool retain, ok;
	char topic[MAX_TOPIC + 1];
};

/* One admitted connection, keyed by the broker's client pointer between BASIC_AUTH and
 * DISCONNECT (the broker reuses pointers afterwards). */
struct conn {
	struct conn *next;
	struct mosquitto *client;
	char client_id[MAX_CLIENT_ID + 1];
	char cert_id[65];
	char ca_id[65];
	char account[16];
	char account_region[DD_ACCOUNT_REGION_SIZE]; /* account and the plugin's region */
	char principal[256];
	char ip[64];
	char session[37];
	int64_t connected_ms;
	struct dd_authz *authz;
	/* "arn:aws:iot:<region>:<account>:", the prefix of every resource decided */
	char arn_prefix[80];
	size_t arn_prefix_len;
	/* the last ACL decisions of this connection (emptied when authz is replaced): a
	 * client publishes to, and receives from, a few topics over and over */
	struct memo memo[MEMO_SLOTS];
	unsigned memo_next;
	bool takeover;       /* replaced by a newer connection with the same client id */
	int64_t takeover_ms; /* that connection's connect time: the end of this one */
	const char *kick_reason; /* set when we disconnect it */
	bool kick_will, kick_sent;
	/* DISCONNECT fires before the broker checks (ACL) and sends the will, so the entry
	 * stays until the next TICK, marked closed. */
	bool closed;
};

/* The v2 log level of an account: 0 disabled, 1 ERROR, 2 WARN, 3 INFO, 4 DEBUG. */
struct acct_log {
	char account[16];
	int level;
	bool loaded;
};

static mosquitto_plugin_id_t *plugin_id;
static char data_dir[4096];
static char region[64] = "us-east-1";
static char only_account[16];
static struct dd_store *store;
static struct conn *buckets[BUCKETS];
static size_t nconns, nclosed;
static int64_t last_seq = -1;
static int64_t last_poll_ms;
static bool store_ok_logged = true;
static struct acct_log logs[MAX_ACCOUNTS];
static size_t nlogs;

/* plugin_opt_acl_timing true: the time of each ACL check, in 10 ns buckets up to 100 us,
 * reported as p50/p99/max in the broker log at shutdown (for the benchmark). */
#define TIMING_BUCKETS 10000
static bool acl_timing;
static uint64_t *timing_hist; /* TIMING_BUCKETS + 1 counts, the last one for longer checks */
static uint64_t timing_max_ns;

/* The broker's connection counters since the last STATS record handed to the writer
 * (which adds them to the store for GET /metrics): sent when they change, and every
 * STATS_EVERY_MS anyway so the store's time says the broker is alive. */
#define STATS_EVERY_MS 10000
static struct {
	int64_t connects, disconnects, refusals;
	int64_t sent_connected, sent_ms;
} stats = { .sent_connected = -1 };

/* ---- helpers ------------------------------------------------------------------------ */

static size_t bucket_of(const struct mosquitto *client)
{
	uintptr_t p = (uintptr_t)client;
	return (size_t)((p >> 4) ^ (p >> 16)) % BUCKETS;
}

static struct conn *conn_find(const struct mosquitto *client)
{
	for (struct conn *c = buckets[bucket_of(client)]; c; c = c->next)
		if (c->client == client)
			return c;
	return NULL;
}

static void conn_remove(struct conn *x)
{
	struct conn **pp = &buckets[bucket_of(x->client)];
	while (*pp && *pp != x)
		pp = &(*pp)->next;
	if (*pp) {
		*pp = x->next;
		nconns--;
		if (x->closed)
			nclosed--;
	}
	dd_authz_free(x->authz);
	free(x);
}

static void uuid4(char out[37])
{
	unsigned char b[16];
	FILE *f = fopen("/dev/urandom", "rb");
	if (!f || fread(b, 1, sizeof b, f) != sizeof b) {
		for (size_t i = 0; i < sizeof b; i++)
			b[i] = (unsigned char)rand();
	}
	if (f)
		fclose(f);
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2], b[3],
		 b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}

/* Printable, bounded: what a client sends is never trusted. */
static bool sane(const char *s, size_t max)
{
	if (!s || !*s)
		return false;
	size_t n = strnlen(s, max + 1);
	if (n > max)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20)
			return false;
	return true;
}

/* Opens the store on first use (and again after a failure): a data directory without a
 * store is never created here. Failures are logged at most every 10 s (TICK retries). */
static bool store_open(void)
{
	static int64_t last_logged = -100000;
	if (store)
		return true;
	int64_t now = dd_time_now_ms();
	bool say = now - last_logged >= 10000;
	char path[4200];
	snprintf(path, sizeof path, "%s/iotdefender.db", data_dir);
	/* a PostgreSQL store (IOTDEFENDER_STORE in the broker's environment) is a database */
	const char *where = dd_store_url() ? "the PostgreSQL store (IOTDEFENDER_STORE)" : path;
	int rc = dd_store_open_existing(data_dir, &store);
	if (rc == DD_ENOTFOUND) {
		store = NULL;
		if (say)
			mosquitto_log_printf(MOSQ_LOG_ERR, "iotdefender: store unavailable: %s does not exist (start `iotdefender serve --data-dir %s` once)", where, data_dir);
		last_logged = say ? now : last_logged;
		return false;
	}
	if (rc) {
		store = NULL;
		if (say)
			mosquitto_log_printf(MOSQ_LOG_ERR, "iotdefender: store unavailable: cannot open %s (permissions? the broker runs as its configured user)", where);
		last_logged = say ? now : last_logged;
		return false;
	}
	char logp[4200];
	snprintf(logp, sizeof logp, "%s/iot-logs.jsonl", data_dir);
	if (dd_plugin_writer_start(store, logp, region)) {
		mosquitto_log_printf(MOSQ_LOG_ERR, "iotdefender: cannot start the writer thread");
		dd_store_close(store);
		store = NULL;
		return false;
	}
	mosquitto_log_printf(MOSQ_LOG_INFO, "iotdefender: store %s opened, region %s", path, region);
	return true;
}

static struct dd_db *db_get(void)
{
	if (!store_open())
		return NULL;
	struct dd_db *db = dd_store_db(store);
	if (!db)
		mosquitto_log_printf(MOSQ_LOG_ERR, "iotdefender: store unavailable: no connection");
	return db;
}

/* ---- IoT logging -------------------------------------------------------------------- */

static int level_num(const char *s)
{
	if (!s)
		return 0;
	if (strcmp(s, "DEBUG") == 0)
		return 4;
	if (strcmp(s, "INFO") == 0)
		return 3;
	if (strcmp(s, "WARN") == 0)
		return 2;
	if (strcmp(s, "ERROR") == 0)
		return 1;
	return 0;
}

static void load_log_level(struct dd_db *db, struct acct_log *l)
{
	l->level = 0;
	l->loaded = true;
	char ar[DD_ACCOUNT_REGION_SIZE];
	if (dd_account_region_make(ar, l->account, region))
		return;
	char t1[4096], t2[4096];
	if (dd_store_connections_logging(db, ar, t1, sizeof t1, t2, sizeof t2))
		return;
	int v1 = 0, v2 = -1;
	if (t2[0]) {
		json_t *v = json_loads(t2, 0, NULL);
		json_t *dis = json_object_get(v, "disableAllLogs");
		v2 = json_is_true(dis) ? 0 : level_num(json_string_value(json_object_get(v, "defaultLogLevel")));
		json_decref(v);
	}
	if (t1[0]) {
		json_t *v = json_loads(t1, 0, NULL);
		v1 = level_num(json_string_value(json_object_get(v, "logLevel")));
		json_decref(v);
	}
	l->level = v2 >= 0 ? v2 : v1;
}

static struct acct_log *acct_log(const char *account)
{
	for (size_t i = 0; i < nlogs; i++)
		if (strcmp(logs[i].account, account) == 0)
			return &logs[i];
	if (nlogs == MAX_ACCOUNTS)
		return NULL;
	struct acct_log *l = &logs[nlogs++];
	snprintf(l->account, sizeof l->account, "%s", account);
	struct dd_db *db = db_get();
	if (db)
		load_log_level(db, l);
	return l;
}

/* Writes one AWS IoT log event when the account's level includes it (success lines are
 * INFO, failures ERROR). */
static void iot_log(const char *account, const char *event_type, bool success, const char *client_id,
		    const char *principal, const char *ip, const char *topic, const char *reason)
{
	if (!account || !*account)
		return;
	struct acct_log *l = acct_log(account);
	if (!l || l->level < (success ? 3 : 1))
		return;
	char ts[64], trace[37];
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	struct tm tm;
	gmtime_r(&now.tv_sec, &tm);
	size_t n = strftime(ts, sizeof ts, "%Y-%m-%d %H:%M:%S", &tm);
	snprintf(ts + n, sizeof ts - n, ".%03ld", now.tv_nsec / 1000000);
	uuid4(trace);
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "timestamp", ts, "logLevel", success ? "INFO" : "ERROR",
			      "traceId", trace, "accountId", account, "status", success ? "Success" : "Failure", "eventType",
			      event_type, "protocol", "MQTT");
	if (!o)
		return;
	if (client_id)
		json_object_set_new(o, "clientId", json_string(client_id));
	if (principal)
		json_object_set_new(o, "principalId", json_string(principal));
	if (ip)
		json_object_set_new(o, "sourceIp", json_string(ip));
	if (topic)
		json_object_set_new(o, "topicName", json_string(topic));
	if (reason) {
		json_object_set_new(o, "reason", json_string(reason));
		json_object_set_new(o, "details", json_string(reason));
	}
	char *text = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (text)
		dd_plugin_writer_put(DD_PLUGIN_REC_LOG, account, text);
	free(text);
}

/* ---- events ------------------------------------------------------------------------- */

static void record_event(const struct conn *x, bool connect, const char *reason, int64_t ts)
{
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:I}", "event", connect ? "connect" : "disconnect", "clientId",
			      x->client_id, "certificateId", x->cert_id, "principal", x->principal, "timestamp", (json_int_t)ts);
	if (!o)
		return;
	if (x->ip[0])
		json_object_set_new(o, "sourceIp", json_string(x->ip));
	if (reason)
		json_object_set_new(o, "reason", json_string(reason));
	char *text = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (!text || dd_plugin_writer_put(DD_PLUGIN_REC_EVENT, x->account, text))
		mosquitto_log_printf(MOSQ_LOG_ERR, "iotdefender: a %s event of %s was lost (queue full)", connect ? "connect" : "disconnect", x->client_id);
	free(text);
}

static void lifecycle(const char *topic_kind, const struct conn *x, json_t *extra, int64_t ts)
{
	char topic[300];
	snprintf(topic, sizeof topic, "$aws/events/%s/%s", topic_kind, x->client_id);
	json_t *o = json_pack("{s:s, s:I, s:s, s:s, s:s}", "clientId", x->client_id, "timestamp", (json_int_t)ts, "eventType",
			      strrchr(topic_kind, '/') + 1, "sessionIdentifier", x->session, "principalIdentifier", x->cert_id);
	if (!o) {
		json_decref(extra);
		return;
	}
	if (extra)
		json_object_update(o, extra);
	json_decref(extra);
	char *text = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (text)
		mosquitto_broker_publish_copy(NULL, topic, (int)strlen(text), text, 1, false, NULL);
	free(text);
}

/* ---- admission ---------------------------------------------------------------------- */

/* Checks the certificate, its CA and the CRLs, (re)loads the policies of x and, when
 * connecting, decides iot:Connect (as AWS, a policy change never re-decides the Connect of
 * a live connection; it applies to its next Publish, Subscribe or Receive). Returns 0 (admitted), or 1 with *why set (refused), or -1 when the store
 * cannot answer (refused too: fail closed). */
static int admit(struct dd_db *db, struct conn *x, bool connecting, const char **why)
{
	/* only the certificates registered in the plugin's region (of its account, if set) */
	struct dd_store_connections_cert reg;
	int s = dd_store_connections_cert_find(db, x->cert_id, only_account, region, &reg);
	if (s == DD_ENOTFOUND) {
		*why = "certificate not registered";
		return 1;
	}
	if (s)
		return -1;
	char rg[64];
	snprintf(x->account_region, sizeof x->account_region, "%s", reg.account_region);
	if (dd_account_region_split(x->account_region, x->account, rg, sizeof rg))
		return -1;
	snprintf(x->ca_id, sizeof x->ca_id, "%s", reg.ca_id);
	if (strcmp(reg.status, "ACTIVE") != 0) {
		*why = strcmp(reg.status, "REVOKED") == 0 ? "certificate REVOKED" : "certificate not ACTIVE";
		return 1;
	}
	if (reg.ca_id[0]) {
		char status[32] = "";
		s = dd_store_connections_ca_status(db, x->account_region, reg.ca_id, status, sizeof status);
		if (s && s != DD_ENOTFOUND)
			return -1;
		if (s || strcmp(status, "ACTIVE") != 0) {
			*why = "CA certificate not ACTIVE";
			return 1;
		}
	}
	if (reg.issuer[0] && reg.serial[0]) {
		int r = dd_crl_lookup(db, x->account_region, reg.issuer, reg.serial, dd_time_now_ms(), NULL);
		if (r < 0)
			return -1;
		if (r == 1) {
			*why = "certificate revoked by its CA's CRL";
			return 1;
		}
	}
	snprintf(x->principal, sizeof x->principal, "arn:aws:iot:%s:%s:cert/%s", region, x->account, x->cert_id);
	char account_region[DD_ACCOUNT_REGION_SIZE];
	if (dd_account_region_make(account_region, x->account, region))
		return -1;
	const struct dd_authz_scope scope = { .db = db, .account = x->account, .region = region,
					      .account_region = account_region };
	struct dd_authz *az = NULL;
	if (dd_authz_load(&scope, x->principal, x->client_id, &az))
		return -1;
	dd_authz_free(x->authz);
	x->authz = az;
	memset(x->memo, 0, sizeof x->memo);
	int pl = snprintf(x->arn_prefix, sizeof x->arn_prefix, "arn:aws:iot:%s:%s:", region, x->account);
	x->arn_prefix_len = pl > 0 && (size_t)pl < sizeof x->arn_prefix ? (size_t)pl : 0;
	char res[400];
	snprintf(res, sizeof res, "arn:aws:iot:%s:%s:client/%s", region, x->account, x->client_id);
	if (connecting && dd_authz_decide(az, "iot:Connect", res, x->client_id, x->ip) != DD_POLICY_ALLOW) {
		*why = "iot:Connect not allowed by the certificate's policies";
		return 1;
	}
	return 0;
}

static bool cert_id_of(struct mosquitto *client, char out[65])
{
	X509 *x = mosquitto_client_certificate(client);
	if (!x)
		return false;
	unsigned char *der = NULL;
	int len = i2d_X509(x, &der);
	X509_free(x);
	if (len <= 0)
		return false;
	unsigned char md[32];
	unsigned int mdlen = 0;
	int ok = EVP_Digest(der, (size_t)len, md, &mdlen, EVP_sha256(), NULL);
	OPENSSL_free(der);
	if (!ok || mdlen != 32)
		return false;
	for (int i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	return true;
}

static int basic_auth(struct mosquitto_evt_basic_auth *ed);

static int on_basic_auth(int event, void *event_data, void *userdata)
{
	int rc = basic_auth(event_data);
	if (rc == MOSQ_ERR_SUCCESS)
		stats.connects++;
	else
		stats.refusals++;
	return rc;
}

static int basic_auth(struct mosquitto_evt_basic_auth *ed)
{
	const char *id = mosquitto_client_id(ed->client);
	const char *addr = mosquitto_client_address(ed->client);
	if (!sane(id, MAX_CLIENT_ID)) {
		mosquitto_log_printf(MOSQ_LOG_NOTICE, "iotdefender: refused a client: client id empty, longer than %d bytes or not printable", MAX_CLIENT_ID);
		return MOSQ_ERR_AUTH;
	}
	struct conn *x = calloc(1, sizeof *x);
	if (!x)
		return MOSQ_ERR_AUTH;
	x->client = ed->client;
	snprintf(x->client_id, sizeof x->client_id, "%s", id);
	snprintf(x->ip, sizeof x->ip, "%s", addr && sane(addr, 63) ? addr : "");
	if (!cert_id_of(ed->client, x->cert_id)) {
		mosquitto_log_printf(MOSQ_LOG_NOTICE, "iotdefender: refused %s: no client certificate", x->client_id);
		free(x);
		return MOSQ_ERR_AUTH;
	}
	struct dd_db *db = db_get();
	const char *why = NULL;
	int r = db ? admit(db, x, true, &why) : -1;
	if (r != 0) {
		if (r < 0)
			mosquitto_log_printf(MOSQ_LOG_ERR, "iotdefender: refused %s (certificate %s): store unavailable, failing closed", x->client_id, x->cert_id);
		else
			mosquitto_log_printf(MOSQ_LOG_NOTICE, "iotdefender: refused %s (certificate %s): %s", x->client_id, x->cert_id, why);
		if (r > 0 && x->account[0])
			iot_log(x->account, "Connect", false, x->client_id, x->cert_id, x->ip, NULL,
				strstr(why, "iot:Connect") ? "AUTHORIZATION_FAILURE" : "AUTHENTICATION_FAILURE");
		dd_authz_free(x->authz);
		free(x);
		return MOSQ_ERR_AUTH;
	}
	int64_t now = dd_time_now_ms();
	x->connected_ms = now;
	uuid4(x->session);
	/* a live connection with the same client id is being taken over */
	for (size_t b = 0; b < BUCKETS; b++)
		for (struct conn *o = buckets[b]; o; o = o->next)
			if (!o->closed && strcmp(o->client_id, x->client_id) == 0 && !o->takeover) {
				o->takeover = true;
				o->takeover_ms = now;
			}
	size_t bi = bucket_of(ed->client);
	struct conn *old = conn_find(ed->client);
	if (old)
		conn_remove(old); /* a missed DISCONNECT: never key two entries by one pointer */
	x->next = buckets[bi];
	buckets[bi] = x;
	nconns++;
	record_event(x, true, NULL, now);
	iot_log(x->account, "Connect", true, x->client_id, x->cert_id, x->ip, NULL, NULL);
	lifecycle("presence/connected", x, json_pack("{s:s, s:I}", "ipAddress", x->ip, "versionNumber", (json_int_t)now), now);
	return MOSQ_ERR_SUCCESS;
}

/* ---- authorization of messages ------------------------------------------------------ */

/* Decides action on <kind>/<topic> (topic at most MAX_TOPIC bytes, tlen its length). The
 * resource ARN is assembled without formatting: this runs for every message. */
static bool allowed(const struct conn *x, const char *action, const char *kind, const char *topic, size_t tlen)
{
	char res[sizeof x->arn_prefix + 16 + MAX_TOPIC];
	size_t kl = strlen(kind);
	if (!x->arn_prefix_len)
		return false;
	memcpy(res, x->arn_prefix, x->arn_prefix_len);
	memcpy(res + x->arn_prefix_len, kind, kl);
	res[x->arn_prefix_len + kl] = '/';
	memcpy(res + x->arn_prefix_len + kl + 1, topic, tlen + 1);
	return dd_authz_decide(x->authz, action, res, x->client_id, x->ip) == DD_POLICY_ALLOW;
}

/* Publish (with RetainPublish when retained) or Receive on topic, remembered per
 * connection. */
static bool topic_allowed(struct conn *x, int access, bool retain, const char *topic, size_t tlen)
{
	for (int i = 0; i < MEMO_SLOTS; i++) {
		const struct memo *m = &x->memo[i];
		if (m->len == tlen && m->access == access && m->retain == retain && memcmp(m->topic, topic, tlen) == 0)
			return m->ok;
	}
	bool ok = access == MOSQ_ACL_READ ? allowed(x, "iot:Receive", "topic", topic, tlen)
					  : allowed(x, "iot:Publish", "topic", topic, tlen) &&
						    (!retain || allowed(x, "iot:RetainPublish", "topic", topic, tlen));
	if (tlen) {
		struct memo *m = &x->memo[x->memo_next++ % MEMO_SLOTS];
		m->len = (uint16_t)tlen;
		m->access = (uint8_t)access;
		m->retain = retain;
		m->ok = ok;
		memcpy(m->topic, topic, tlen);
	}
	return ok;
}

static int acl_check(struct mosquitto_evt_acl_check *ed);

static int on_acl_check(int event, void *event_data, void *userdata)
{
	if (!timing_hist)
		return acl_check(event_data);
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	int rc = acl_check(event_data);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	uint64_t ns = (uint64_t)(t1.tv_sec - t0.tv_sec) * 1000000000u + (uint64_t)t1.tv_nsec - (uint64_t)t0.tv_nsec;
	timing_hist[ns / 10 < TIMING_BUCKETS ? ns / 10 : TIMING_BUCKETS]++;
	if (ns > timing_max_ns)
		timing_max_ns = ns;
	return rc;
}

static void timing_report(void)
{
	uint64_t total = 0;
	for (size_t i = 0; i <= TIMING_BUCKETS; i++)
		total += timing_hist[i];
	if (!total)
		return;
	uint64_t p50 = 0, p99 = 0, seen = 0;
	bool h50 = false, h99 = false;
	for (size_t i = 0; i <= TIMING_BUCKETS; i++) {
		seen += timing_hist[i];
		if (!h50 && seen * 100 >= total * 50) {
			p50 = (i + 1) * 10;
			h50 = true;
		}
		if (!h99 && seen * 100 >= total * 99) {
			p99 = (i + 1) * 10;
			h99 = true;
		}
	}
	mosquitto_log_printf(MOSQ_LOG_NOTICE, "iotdefender: ACL checks: %llu, p50 <= %llu ns, p99 <= %llu ns, max %llu ns",
			     (unsigned long long)total, (unsigned long long)p50, (unsigned long long)p99,
			     (unsigned long long)timing_max_ns);
}

static int acl_check(struct mosquitto_evt_acl_check *ed)
{
	struct conn *x = conn_find(ed->client);
	if (!x || !x->authz)
		return MOSQ_ERR_ACL_DENIED;
	size_t tlen = ed->topic ? strnlen(ed->topic, MAX_TOPIC + 1) : MAX_TOPIC + 1;
	if (tlen > MAX_TOPIC)
		return MOSQ_ERR_ACL_DENIED;
	bool ok;
	switch (ed->access) {
	case MOSQ_ACL_WRITE:
		ok = topic_allowed(x, MOSQ_ACL_WRITE, ed->retain, ed->topic, tlen);
		iot_log(x->account, "Publish-In", ok, x->client_id, x->cert_id, x->ip, ed->topic, ok ? NULL : "AUTHORIZATION_FAILURE");
		return ok ? MOSQ_ERR_SUCCESS : MOSQ_ERR_ACL_DENIED;
	case MOSQ_ACL_SUBSCRIBE:
		ok = allowed(x, "iot:Subscribe", "topicfilter", ed->topic, tlen);
		iot_log(x->account, "Subscribe", ok, x->client_id, x->cert_id, x->ip, ed->topic, ok ? NULL : "AUTHORIZATION_FAILURE");
		if (ok)
			lifecycle("subscriptions/subscribed", x, json_pack("{s:[s]}", "topics", ed->topic), dd_time_now_ms());
		return ok ? MOSQ_ERR_SUCCESS : MOSQ_ERR_ACL_DENIED;
	case MOSQ_ACL_READ:
		return topic_allowed(x, MOSQ_ACL_READ, false, ed->topic, tlen) ? MOSQ_ERR_SUCCESS : MOSQ_ERR_ACL_DENIED;
	case MOSQ_ACL_UNSUBSCRIBE:
		return MOSQ_ERR_SUCCESS;
	default:
		return MOSQ_ERR_ACL_DENIED;
	}
}

static int on_disconnect(int event, void *event_data, void *userdata)
{
	struct mosquitto_evt_disconnect *ed = event_data;
	struct conn *x = conn_find(ed->client);
	if (!x || x->closed)
		return MOSQ_ERR_SUCCESS;
	int64_t now = x->takeover ? x->takeover_ms : dd_time_now_ms();
	const char *reason = x->takeover ? "DUPLICATE_CLIENTID" : x->kick_reason ? x->kick_reason : "CONNECTION_LOST";
	record_event(x, false, reason, now);
	iot_log(x->account, "Disconnect", true, x->client_id, x->cert_id, x->ip, NULL, NULL);
	lifecycle("presence/disconnected", x,
		  json_pack("{s:b, s:s, s:I}", "clientInitiatedDisconnect", 0, "disconnectReason", reason, "versionNumber",
			    (json_int_t)x->connected_ms),
		  now);
	x->closed = true;
	nclosed++;
	stats.disconnects++;
	return MOSQ_ERR_SUCCESS;
}

/* ---- the change journal ------------------------------------------------------------- */

/* Kicks every connection marked with a kick reason. DISCONNECT fires synchronously inside
 * the kick and frees the entry, so one id is taken at a time and marked as sent first. */
static void kick_marked(void)
{
	for (;;) {
		char id[MAX_CLIENT_ID + 1] = "";
		bool with_will = false;
		for (size_t b = 0; b < BUCKETS && !id[0]; b++)
			for (struct conn *o = buckets[b]; o && !id[0]; o = o->next)
				if (o->kick_reason && !o->kick_sent && !o->closed) {
					snprintf(id, sizeof id, "%s", o->client_id);
					with_will = o->kick_will;
				}
		if (!id[0])
			return;
		for (size_t b = 0; b < BUCKETS; b++)
			for (struct conn *o = buckets[b]; o; o = o->next)
				if (strcmp(o->client_id, id) == 0 && o->kick_reason)
					o->kick_sent = true;
		mosquitto_kick_client_by_clientid(id, with_will);
	}
}

/* What one poll must re-admit: the connections of some certificates, of some CAs, or of
 * whole accounts (changes that cannot be narrowed cheaply: a policy's default version, a
 * group's policies or parent). One pass over the connections then serves a whole batch. */
#define BATCH 512
#define MAX_TARGETS 4096
static struct {
	char certs[MAX_TARGETS][65];
	size_t ncerts;
	char cas[BATCH][65];
	size_t ncas;
	char accounts[MAX_ACCOUNTS][16];
	size_t naccounts;
} want;

static void want_account(const char *account)
{
	for (size_t i = 0; i < want.naccounts; i++)
		if (strcmp(want.accounts[i], account) == 0)
			return;
	if (want.naccounts < MAX_ACCOUNTS)
		snprintf(want.accounts[want.naccounts++], sizeof want.accounts[0], "%s", account);
}

static void want_cert(const char *account, const char *id)
{
	if (strlen(id) != 64)
		return;
	if (want.ncerts == MAX_TARGETS) {
		want_account(account);
		return;
	}
	memcpy(want.certs[want.ncerts++], id, 65);
}

static int want_principal(const char *principal, void *ud)
{
	const char *p = strstr(principal, ":cert/");
	if (p)
		want_cert(ud, p + 6);
	return 0;
}

/* The certificates attached to a thing: their connections bind the thing's attributes and
 * get the policies of its groups. 0 or -1 (store error). */
static int want_thing(struct dd_db *db, const char *account, const char *thing)
{
	char ar[DD_ACCOUNT_REGION_SIZE];
	if (dd_account_region_make(ar, account, region))
		return 0;
	return dd_store_connections_thing_principals(db, ar, thing, want_principal, (void *)account) ? -1 : 0;
}

static int cmp_id(const void *a, const void *b)
{
	return strcmp(a, b);
}

static int apply_change(struct dd_db *db, const struct dd_change *ch)
{
	const char *k = ch->kind, *subj = ch->subject, *certp = strstr(subj, ":cert/");
	/* the journal holds every region's changes; this broker serves only its own region */
	char account[13], rg[64];
	if (dd_account_region_split(ch->account_region, account, rg, sizeof rg) || strcmp(rg, region) != 0)
		return 0;
	if (strcmp(k, "logging") == 0) {
		for (size_t i = 0; i < nlogs; i++)
			if (strcmp(logs[i].account, account) == 0)
				logs[i].loaded = false;
	} else if (strcmp(k, "connection") == 0) {
		for (size_t b = 0; b < BUCKETS; b++)
			for (struct conn *o = buckets[b]; o; o = o->next)
				if (!o->closed && strcmp(o->account, account) == 0 && strcmp(o->client_id, subj) == 0) {
					json_t *a = json_loads(ch->arg, 0, NULL);
					o->kick_reason = "SERVER_INITIATED_DISCONNECT";
					o->kick_will = !json_is_true(json_object_get(a, "preventWillMessage"));
					json_decref(a);
				}
	} else if (strcmp(k, "cert") == 0) {
		want_cert(account, subj);
	} else if (strcmp(k, "ca") == 0 || strcmp(k, "crl") == 0) {
		if (want.ncas < BATCH && strlen(subj) == 64)
			memcpy(want.cas[want.ncas++], subj, 65);
		else
			want_account(account);
	} else if ((strcmp(k, "policy") == 0 || strcmp(k, "thing") == 0) && certp) {
		want_cert(account, certp + 6);
	} else if ((strcmp(k, "thing") == 0 || strcmp(k, "group") == 0) && strncmp(subj, "arn:", 4) != 0) {
		return want_thing(db, account, subj);
	} else {
		want_account(account); /* policy by name or group ARN, grouptree, other principals */
	}
	return 0;
}

static bool wanted(const struct conn *o)
{
	for (size_t i = 0; i < want.naccounts; i++)
		if (strcmp(want.accounts[i], o->account) == 0)
			return true;
	for (size_t i = 0; i < want.ncas; i++)
		if (o->ca_id[0] && strcmp(want.cas[i], o->ca_id) == 0)
			return true;
	return want.ncerts && bsearch(o->cert_id, want.certs, want.ncerts, sizeof want.certs[0], cmp_id);
}

/* Reads and applies one batch; returns the number read, or -1 on a store error (the batch
 * is applied again next time). */
static int poll_batch(struct dd_db *db)
{
	static struct dd_change buf[BATCH];
	size_t n = 0;
	if (dd_changes_read(db, last_seq, buf, BATCH, &n)) {
		if (store_ok_logged)
			mosquitto_log_printf(MOSQ_LOG_ERR, "iotdefender: store unavailable: cannot read the change journal");
		store_ok_logged = false;
		return -1;
	}
	store_ok_logged = true;
	if (n == 0)
		return 0;
	memset(&want, 0, sizeof want);
	bool failed = false;
	for (size_t i = 0; i < n && !failed; i++)
		failed = apply_change(db, &buf[i]) != 0;
	qsort(want.certs, want.ncerts, sizeof want.certs[0], cmp_id);
	/* re-admit what changed: certificate, CA and CRL status, policies, binding */
	for (size_t b = 0; b < BUCKETS && !failed; b++)
		for (struct conn *o = buckets[b]; o; o = o->next) {
			if (o->kick_reason || o->closed || !wanted(o))
				continue;
			const char *why = NULL;
			int r = admit(db, o, false, &why);
			if (r < 0) {
				failed = true;
				break;
			}
			if (r > 0) {
				mosquitto_log_printf(MOSQ_LOG_NOTICE, "iotdefender: disconnecting %s (certificate %s): %s", o->client_id, o->cert_id, why);
				o->kick_reason = "AUTH_ERROR";
			}
		}
	for (size_t i = 0; i < nlogs; i++)
		if (!logs[i].loaded)
			load_log_level(db, &logs[i]);
	kick_marked();
	if (failed)
		return -1;
	last_seq = buf[n - 1].seq;
	return (int)n;
}

/* Drains the journal for at most 50 ms per TICK (the event loop waits meanwhile). */
static void poll_changes(void)
{
	struct dd_db *db = db_get();
	if (!db)
		return;
	if (last_seq < 0 && dd_changes_last(db, &last_seq)) {
		last_seq = -1;
		return;
	}
	int64_t start = dd_time_now_ms();
	int n;
	while ((n = poll_batch(db)) == BATCH && dd_time_now_ms() - start < 50)
		;
}

static void sweep_closed(void)
{
	for (size_t b = 0; b < BUCKETS && nclosed; b++) {
		struct conn *o = buckets[b];
		while (o) {
			struct conn *n = o->next;
			if (o->closed)
				conn_remove(o);
			o = n;
		}
	}
}

/* Hands the counters to the writer when they changed or STATS_EVERY_MS passed (or when
 * forced, at shutdown). */
static void stats_push(int64_t now, int64_t connected, bool force)
{
	if (!store)
		return; /* no writer yet: counted until the store opens */
	if (!force && !stats.connects && !stats.disconnects && !stats.refusals && connected == stats.sent_connected &&
	    now - stats.sent_ms < STATS_EVERY_MS)
		return;
	char text[128];
	snprintf(text, sizeof text, "%lld %lld %lld %lld", (long long)connected, (long long)stats.connects,
		 (long long)stats.disconnects, (long long)stats.refusals);
	if (dd_plugin_writer_put(DD_PLUGIN_REC_STATS, "", text))
		return; /* kept, sent with the next change */
	stats.connects = stats.disconnects = stats.refusals = 0;
	stats.sent_connected = connected;
	stats.sent_ms = now;
}

static int on_tick(int event, void *event_data, void *userdata)
{
	if (nclosed)
		sweep_closed();
	int64_t now = dd_time_now_ms();
	if (now - last_poll_ms < POLL_MS)
		return MOSQ_ERR_SUCCESS;
	last_poll_ms = now;
	poll_changes();
	stats_push(now, (int64_t)(nconns - nclosed), false);
	return MOSQ_ERR_SUCCESS;
}

/* ---- plugin entry points ------------------------------------------------------------ */

int mosquitto_plugin_version(int supported_version_count, const int *supported_versions)
{
	for (int i = 0; i < supported_version_count; i++)
		if (supported_versions[i] == 5)
			return 5;
	return -1;
}

int mosquitto_plugin_init(mosquitto_plugin_id_t *identifier, void **userdata, struct mosquitto_opt *opts, int opt_count)
{
	plugin_id = identifier;
	for (int i = 0; i < opt_count; i++) {
		if (strcmp(opts[i].key, "data_dir") == 0)
			snprintf(data_dir, sizeof data_dir, "%s", opts[i].value);
		else if (strcmp(opts[i].key, "region") == 0)
			snprintf(region, sizeof region, "%s", opts[i].value);
		else if (strcmp(opts[i].key, "account") == 0)
			snprintf(only_account, sizeof only_account, "%s", opts[i].value);
		else if (strcmp(opts[i].key, "acl_timing") == 0)
			acl_timing = strcmp(opts[i].value, "true") == 0;
	}
	if (!data_dir[0]) {
		mosquitto_log_printf(MOSQ_LOG_ERR, "iotdefender: plugin_opt_data_dir is required");
		return MOSQ_ERR_INVAL;
	}
	/* rows are keyed by "<account>/<region>": the region (and account) must form a key */
	char probe[DD_ACCOUNT_REGION_SIZE];
	if (dd_account_region_make(probe, only_account[0] ? only_account : "000000000000", region)) {
		mosquitto_log_printf(MOSQ_LOG_ERR, "iotdefender: plugin_opt_region (%s) or plugin_opt_account (%s) is not valid",
				     region, only_account);
		return MOSQ_ERR_INVAL;
	}
	dd_log_set_level(DD_LOG_WARN);
	if (acl_timing && !(timing_hist = calloc(TIMING_BUCKETS + 1, sizeof *timing_hist)))
		mosquitto_log_printf(MOSQ_LOG_WARNING, "iotdefender: no memory for ACL timing; not measured");
	(void)store_open();
	if (mosquitto_callback_register(identifier, MOSQ_EVT_BASIC_AUTH, on_basic_auth, NULL, NULL) ||
	    mosquitto_callback_register(identifier, MOSQ_EVT_ACL_CHECK, on_acl_check, NULL, NULL) ||
	    mosquitto_callback_register(identifier, MOSQ_EVT_DISCONNECT, on_disconnect, NULL, NULL) ||
	    mosquitto_callback_register(identifier, MOSQ_EVT_TICK, on_tick, NULL, NULL))
		return MOSQ_ERR_UNKNOWN;
	return MOSQ_ERR_SUCCESS;
}

int mosquitto_plugin_cleanup(void *userdata, struct mosquitto_opt *opts, int opt_count)
{
	mosquitto_callback_unregister(plugin_id, MOSQ_EVT_BASIC_AUTH, on_basic_auth, NULL);
	mosquitto_callback_unregister(plugin_id, MOSQ_EVT_ACL_CHECK, on_acl_check, NULL);
	mosquitto_callback_unregister(plugin_id, MOSQ_EVT_DISCONNECT, on_disconnect, NULL);
	mosquitto_callback_unregister(plugin_id, MOSQ_EVT_TICK, on_tick, NULL);
	stats_push(dd_time_now_ms(), 0, true); /* the broker is going away with its clients */
	dd_plugin_writer_stop(10000);
	if (timing_hist) {
		timing_report();
		free(timing_hist);
		timing_hist = NULL;
	}
	for (size_t b = 0; b < BUCKETS; b++)
		while (buckets[b])
			conn_remove(buckets[b]);
	if (store)
		dd_store_close(store);
	store = NULL;
	return MOSQ_ERR_SUCCESS;
}

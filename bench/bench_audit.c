/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Audit benchmark: generates a fleet straight into a fresh store (certificates — mostly
 * EC with some RSA — things, thing groups, a few thousand IoT policies of which some are
 * permissive, CAs, role aliases, a Cognito pool, and 10 connection events per device),
 * then, in a forked child so the figure is the audit's own, starts the real audit engine
 * and times a full 17-check on-demand audit. Prints the time to only read the rows the
 * checks read (once, one thread), each check's run and store time, the wall time,
 * findings per second and the child's peak RSS.
 *
 * With BENCH_AUDIT_INSTANCES "1,2" (the default) each fleet is audited twice: by one
 * process, then by two processes on the same store (a second audit engine in a forked
 * helper, as a second `serve` instance would be), which share the audit's shards
 * through their leases; both wall times are printed.
 *
 * env: BENCH_AUDIT_DEVICES (comma-separated fleet sizes, default "100000,1000000"),
 *      BENCH_AUDIT_DIR (where to put the stores, default a temp dir; removed after),
 *      BENCH_AUDIT_STORE (a directory where the generated stores are kept, <dir>/<size>, and
 *      reused by later runs; each run's audit results are deleted after it).
 */
#include <errno.h>
#include <stdbool.h>
#include <signal.h>
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "store/dd_store_sqlite.h"
#include "core/audit/dd_audit_checks.h"
#include "core/audit/dd_audit_engine.h"
#include "dd/audit.h"
#include "dd/certs.h"
#include "dd/ctx.h"
#include "dd/lease.h"
#include "dd/service.h"
#include "dd/store.h"
#include "server/dd_api.h"
#include "server/dd_model.h"
#include "store/dd_store_audit.h"
#include "store/dd_store_audit_reads.h"

#define ACCOUNT "123456789012"
#define ACCOUNT_REGION ACCOUNT "/us-east-1" /* the key of the regional rows */
#define DAY (86400000LL)


static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* user + system time of every thread of the process so far */
static double process_cpu_s(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
	       (double)ru.ru_stime.tv_usec / 1e6;
}

static uint64_t rng_state = 88172645463325252ULL;
static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static void exec_or_die(sqlite3 *h, const char *sql)
{
	char *msg = NULL;
	if (sqlite3_exec(h, sql, NULL, NULL, &msg) != SQLITE_OK) {
		fprintf(stderr, "bench_audit: %s: %s\n", sql, msg ? msg : "?");
		exit(1);
	}
}

static sqlite3_stmt *prep(sqlite3 *h, const char *sql)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(h, sql, -1, &st, NULL) != SQLITE_OK) {
		fprintf(stderr, "bench_audit: prepare %s: %s\n", sql, sqlite3_errmsg(h));
		exit(1);
	}
	return st;
}

static void step(sqlite3_stmt *st)
{
	if (sqlite3_step(st) != SQLITE_DONE) {
		fprintf(stderr, "bench_audit: insert: %s\n", sqlite3_errmsg(sqlite3_db_handle(st)));
		exit(1);
	}
	sqlite3_reset(st);
}

/* every bound buffer lives until the statement is stepped: no copies */
#define T(st, i, s) sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC)
#define I(st, i, v) sqlite3_bind_int64(st, i, v)

/* The secondary indexes and triggers of the tables the fleet fills, set aside while it is
 * loaded: an index built once from sorted rows (CREATE INDEX, its sort on two threads)
 * costs less than maintaining it row by row, even when every insert is an append (keeping
 * them cost 10 % more CPU at 1M devices), and the change journal's triggers only record
 * changes for connected brokers, which a freshly generated store has none of. They are
 * put back, as they were, by bulk_end. */
struct bulk {
	char **sql;
	bool *events; /* on connection_events (restored once they are copied in) */
	int n;
};

static void bulk_begin(sqlite3 *h, struct bulk *b)
{
	/* no rollback journal while generating: a store that fails half-way is thrown away */
	exec_or_die(h, "PRAGMA journal_mode=OFF");
	exec_or_die(h, "PRAGMA synchronous=OFF");
	exec_or_die(h, "PRAGMA cache_size=-1048576");
	exec_or_die(h, "PRAGMA threads=2");
	sqlite3_stmt *st = prep(h, "SELECT type, name, sql, tbl_name FROM sqlite_master WHERE type IN ('index', 'trigger') AND sql IS NOT NULL"
				   " AND tbl_name IN ('certificates', 'things', 'thing_principals', 'thing_group_members',"
				   " 'connection_events', 'changes') ORDER BY type");
	b->sql = NULL;
	b->events = NULL;
	b->n = 0;
	char drop[300];
	struct {
		char kind[16], name[200];
	} *names = NULL;
	while (sqlite3_step(st) == SQLITE_ROW) {
		b->sql = realloc(b->sql, (size_t)(b->n + 1) * sizeof *b->sql);
		b->events = realloc(b->events, (size_t)(b->n + 1) * sizeof *b->events);
		names = realloc(names, (size_t)(b->n + 1) * sizeof *names);
		if (!b->sql || !b->events || !names) {
			fprintf(stderr, "bench_audit: out of memory\n");
			exit(1);
		}
		b->sql[b->n] = strdup((const char *)sqlite3_column_text(st, 2));
		b->events[b->n] = strcmp((const char *)sqlite3_column_text(st, 3), "connection_events") == 0;
		snprintf(names[b->n].kind, sizeof names[b->n].kind, "%s", (const char *)sqlite3_column_text(st, 0));
		snprintf(names[b->n].name, sizeof names[b->n].name, "%s", (const char *)sqlite3_column_text(st, 1));
		b->n++;
	}
	sqlite3_finalize(st);
	for (int i = 0; i < b->n; i++) {
		snprintf(drop, sizeof drop, "DROP %s \"%s\"", strcmp(names[i].kind, "index") == 0 ? "INDEX" : "TRIGGER",
			 names[i].name);
		exec_or_die(h, drop);
	}
	free(names);
}

/* Puts back what bulk_begin set aside: that of the other tables (events false), then
 * that of connection_events (events true, which also frees the list). */
static void bulk_end(sqlite3 *h, struct bulk *b, bool events)
{
	for (int i = 0; i < b->n; i++)
		if (b->events[i] == events)
			exec_or_die(h, b->sql[i]);
	if (!events)
		return;
	for (int i = 0; i < b->n; i++)
		free(b->sql[i]);
	free(b->sql);
	free(b->events);
}

static double thread_cpu_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The random draws of one device, made up front in the order one loop used to make them,
 * so that the two generating threads describe the same fleet whatever their pace. */
struct devrand {
	uint64_t id, ksha, serial, ca, nb, na, t;
};

/* The fleet is written in the lexicographic order of its thing names ("thing-0",
 * "thing-1", "thing-10", "thing-100", ...), and the k-th device in that order gets a
 * certificate id starting with k: so certificate ids, thing names, principals and client
 * ids all ascend together, every row lands at the end of its table's B-tree and the
 * index builds sort presorted rows. order[k] is the device number of the k-th name (a
 * pre-order walk of the decimal digit tree, no sorting). */
static long *fleet_order(long n)
{
	long *order = malloc((size_t)(n > 0 ? n : 1) * sizeof *order);
	if (!order) {
		fprintf(stderr, "bench_audit: out of memory\n");
		exit(1);
	}
	order[0] = 0;
	long cur = 1;
	for (long k = 1; k < n; k++) {
		order[k] = cur;
		if (cur * 10 < n) {
			cur *= 10;
		} else {
			while (cur % 10 == 9 || cur + 1 >= n)
				cur /= 10;
			cur++;
		}
	}
	return order;
}

/* Device i, k-th in name order: its certificate id and thing name. */
static void device_names(long k, long i, const struct devrand *r, char id[65], char thing[32])
{
	snprintf(id, 65, "%016lx%048lx", (unsigned long)k, (unsigned long)r->id);
	snprintf(thing, 32, "thing-%ld", i);
}

/* The connection events (10 per device, 12 for the cloned ones: most of the fleet's rows)
 * are generated on a second thread into a database file of their own, with the store's
 * table definition, while the first thread writes certificates, things and the rest; the
 * store then takes the whole table in one INSERT ... SELECT into its empty table, which
 * SQLite runs as a copy of the B-tree (the transfer optimization), before the indexes are
 * built. */
struct events_job {
	char path[700];
	char *table_sql;
	const struct devrand *r;
	const long *order;
	long n;
	int64_t now;
};

static void *events_thread(void *arg)
{
	struct events_job *j = arg;
	sqlite3 *h = NULL;
	if (sqlite3_open_v2(j->path, &h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		fprintf(stderr, "bench_audit: cannot open %s\n", j->path);
		exit(1);
	}
	exec_or_die(h, "PRAGMA journal_mode=OFF");
	exec_or_die(h, "PRAGMA synchronous=OFF");
	exec_or_die(h, "PRAGMA cache_size=-131072");
	/* the side table without AUTOINCREMENT: that keyword costs a write of sqlite_sequence
	 * per INSERT statement, and the copy into the store's table sets the sequence once */
	char *side_sql = strdup(j->table_sql);
	char *autoinc = side_sql ? strstr(side_sql, " AUTOINCREMENT") : NULL;
	if (autoinc)
		memmove(autoinc, autoinc + 14, strlen(autoinc + 14) + 1);
	exec_or_die(h, side_sql ? side_sql : j->table_sql);
	free(side_sql);
	exec_or_die(h, "BEGIN");
	sqlite3_stmt *est = prep(h, "INSERT INTO connection_events(account_region, event, client_id, certificate_id, ts, source_ip, reason)"
				    " VALUES (?1, ?2, ?3, ?4, ?5, '10.0.0.1', ?6)");
	/* bindings outlive a reset: the constant one is bound once, the others point to
	 * buffers that live across each step (no copies) */
	sqlite3_bind_text(est, 1, ACCOUNT_REGION, -1, SQLITE_STATIC);
#define EV(event, client, ts, reason)                                                   \
	do {                                                                            \
		sqlite3_bind_text(est, 2, event, -1, SQLITE_STATIC);                    \
		sqlite3_bind_text(est, 3, client, -1, SQLITE_STATIC);                   \
		sqlite3_bind_int64(est, 5, ts);                                         \
		if (reason)                                                             \
			sqlite3_bind_text(est, 6, reason, -1, SQLITE_STATIC);           \
		else                                                                    \
			sqlite3_bind_null(est, 6);                                      \
		step(est);                                                              \
	} while (0)
	static const char *const no_reason = NULL;
	for (long k = 0; k < j->n; k++) {
		long i = j->order[k];
		char id[65], thing[32], clone[48];
		device_names(k, i, &j->r[i], id, thing);
		snprintf(clone, sizeof clone, "%s-clone", thing);
		sqlite3_bind_text(est, 4, id, 64, SQLITE_STATIC);
		/* 5 sessions = 10 events; 1 in 200 devices also has a clone connecting with the
		 * same certificate during its first session, 1 in 200 is taken over */
		int64_t t = j->now - 20 * DAY + (int64_t)(j->r[i].t % (10 * DAY));
		for (int sess = 0; sess < 5; sess++) {
			int64_t end = t + 3600 * 1000;
			EV("connect", thing, t, no_reason);
			EV("disconnect", thing, end, i % 200 == 2 && sess == 4 ? "takeover" : no_reason);
			if (i % 200 == 1 && sess == 0) {
				EV("connect", clone, t + 600000, no_reason);
				EV("disconnect", clone, t + 1200000, no_reason);
			}
			t = end + 60 * 1000;
		}
	}
#undef EV
	sqlite3_finalize(est);
	exec_or_die(h, "COMMIT");
	sqlite3_close(h);
	if (getenv("BENCH_AUDIT_VERBOSE"))
		fprintf(stderr, "bench_audit: generation events thread: cpu %.1f s\n", thread_cpu_s());
	return NULL;
}

/* Where the generation's time goes, on stderr with BENCH_AUDIT_VERBOSE: wall and the
 * generating thread's CPU seconds of each phase since the previous one. */
static void phase(const char *name)
{
	static double wall0, cpu0;
	double cpu = thread_cpu_s();
	double wall = now_s();
	if (name && getenv("BENCH_AUDIT_VERBOSE"))
		fprintf(stderr, "bench_audit: generation %-24s wall %6.1f s  cpu (this thread) %6.1f s\n", name, wall - wall0,
			cpu - cpu0);
	wall0 = wall;
	cpu0 = cpu;
}

static void generate(const char *dir, long n)
{
	phase(NULL);
	struct dd_store *store;
	if (dd_store_open(dir, &store)) {
		fprintf(stderr, "bench_audit: cannot open the store in %s\n", dir);
		exit(1);
	}
	struct dd_db *db = dd_store_db(store);
	sqlite3 *h = dd_db_handle(db);
	struct bulk bulk;
	bulk_begin(h, &bulk);
	int64_t now = dd_time_now_ms();
	struct devrand *r = malloc((size_t)n * sizeof *r);
	if (!r) {
		fprintf(stderr, "bench_audit: out of memory\n");
		exit(1);
	}
	for (long i = 0; i < n; i++) {
		r[i].id = rnd();
		r[i].ksha = rnd();
		r[i].serial = rnd();
		r[i].ca = rnd();
		r[i].nb = rnd();
		r[i].na = rnd();
		r[i].t = rnd();
	}
	long *order = fleet_order(n);
	struct events_job ev = { .r = r, .order = order, .n = n, .now = now };
	snprintf(ev.path, sizeof ev.path, "%s/events.tmp", dir);
	unlink(ev.path);
	sqlite3_stmt *st = prep(h, "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'connection_events'");
	if (sqlite3_step(st) == SQLITE_ROW)
		ev.table_sql = strdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	pthread_t events;
	if (!ev.table_sql || pthread_create(&events, NULL, events_thread, &ev)) {
		fprintf(stderr, "bench_audit: cannot start the events thread\n");
		exit(1);
	}
	exec_or_die(h, "BEGIN");
	/* the audit role, trusted by IoT, with the AWS managed audit policy */
	st = prep(h, "INSERT INTO iam_roles(account, name, role_id, path, trust_policy, created) VALUES (?1, ?2, ?3, '/', ?4, ?5)");
	const char *trust = "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"Service\":\"iot.amazonaws.com\"},\"Action\":\"sts:AssumeRole\"}]}";
	const char *roles[] = { "AuditRole", "DeviceRole", "CognitoAuth", "CognitoUnauth" };
	for (int i = 0; i < 4; i++) {
		T(st, 1, ACCOUNT); T(st, 2, roles[i]); T(st, 3, "AROABENCH0000000000"); T(st, 4, trust); I(st, 5, now);
		step(st);
	}
	sqlite3_finalize(st);
	st = prep(h, "INSERT INTO iam_role_attachments(account, role_name, policy_arn) VALUES (?1, ?2, ?3)");
	T(st, 1, ACCOUNT); T(st, 2, "AuditRole"); T(st, 3, "arn:aws:iam::aws:policy/service-role/AWSIoTDeviceDefenderAudit");
	step(st);
	sqlite3_finalize(st);
	st = prep(h, "INSERT INTO iam_role_policies(account, role_name, policy_name, document) VALUES (?1, ?2, 'p', ?3)");
	T(st, 1, ACCOUNT); T(st, 2, "DeviceRole");
	T(st, 3, "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":[\"s3:*\",\"iot:*\"],\"Resource\":\"*\"}]}");
	step(st);
	T(st, 1, ACCOUNT); T(st, 2, "CognitoAuth");
	T(st, 3, "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"iot:DescribeThing\",\"Resource\":\"arn:aws:iot:us-east-1:123456789012:thing/*\"}]}");
	step(st);
	T(st, 1, ACCOUNT); T(st, 2, "CognitoUnauth");
	T(st, 3, "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"iot:Connect\",\"Resource\":\"arn:aws:iot:us-east-1:123456789012:client/${iot:ClientId}\"}]}");
	step(st);
	sqlite3_finalize(st);
	st = prep(h, "INSERT INTO cognito_pools(account, id, region, name, config, roles, created)"
		     " VALUES (?1, 'us-east-1:00000000-0000-4000-8000-000000000001', 'us-east-1', 'fleet',"
		     " '{\"AllowUnauthenticatedIdentities\":true}', ?2, ?3)");
	T(st, 1, ACCOUNT);
	T(st, 2, "{\"authenticated\":\"arn:aws:iam::123456789012:role/CognitoAuth\",\"unauthenticated\":\"arn:aws:iam::123456789012:role/CognitoUnauth\"}");
	I(st, 3, now);
	if (sqlite3_step(st) != SQLITE_DONE)
		fprintf(stderr, "bench_audit: (cognito pool not created: %s)\n", sqlite3_errmsg(h));
	sqlite3_finalize(st);
	st = prep(h, "INSERT INTO role_aliases(account_region, alias, role_arn, duration, created, modified) VALUES (?1, ?2, ?3, 3600, ?4, ?4)");
	for (int i = 0; i < 5; i++) {
		char alias[32];
		snprintf(alias, sizeof alias, "alias-%d", i);
		T(st, 1, ACCOUNT_REGION); T(st, 2, alias); T(st, 3, "arn:aws:iam::123456789012:role/DeviceRole"); I(st, 4, now);
		step(st);
	}
	sqlite3_finalize(st);
	st = prep(h, "INSERT INTO role_service_usage(account_region, role_arn, service, last_used) VALUES (?1, ?2, 's3', ?3)");
	T(st, 1, ACCOUNT_REGION); T(st, 2, "arn:aws:iam::123456789012:role/DeviceRole"); I(st, 3, now - 10 * DAY);
	step(st);
	sqlite3_finalize(st);

	/* CAs */
	const char *cert_cols = "(account_region, id, status, pem, ca_id, owner, created, modified, generation_id, subject, issuer,"
				" subject_cn, serial, not_before, not_after, key_type, key_bits, curve, pubkey_sha256, key_sha256,"
				" key_sha1_80, is_ca, roca, debian, facts_version)";
	char sql[1024];
	snprintf(sql, sizeof sql, "INSERT INTO ca_certificates (account_region, id, status, pem, owner, created, modified, generation_id,"
		 " subject, issuer, subject_cn, serial, not_before, not_after, key_type, key_bits, curve, pubkey_sha256,"
		 " key_sha256, key_sha1_80, is_ca, roca, debian, facts_version, self_signed)"
		 " VALUES (?1, ?2, 'ACTIVE', '', '" ACCOUNT "', ?3, ?3, 'g', ?4, ?4,"
		 " ?5, ?6, ?7, ?8, 'EC', 256, 'prime256v1', ?2, ?2, '', 1, 1, 0, 1, 1)");
	st = prep(h, sql);
	char ca_ids[5][65];
	for (int i = 0; i < 5; i++) {
		char subj[64], cn[32], serial[32];
		snprintf(cn, sizeof cn, "Fleet CA %d", i);
		snprintf(subj, sizeof subj, "CN=%s,O=Bench", cn);
		snprintf(serial, sizeof serial, "ca%d", i + 1);
		snprintf(ca_ids[i], sizeof ca_ids[i], "%064x", i + 1);
		T(st, 1, ACCOUNT_REGION); T(st, 2, ca_ids[i]); I(st, 3, now); T(st, 4, subj); T(st, 5, cn); T(st, 6, serial);
		I(st, 7, now - 400 * DAY); I(st, 8, now + (i == 4 ? 10 : 3000) * DAY);
		step(st);
	}
	sqlite3_finalize(st);

	/* devices */
	snprintf(sql, sizeof sql, "INSERT INTO certificates %s VALUES (?1, ?2, 'ACTIVE', '', ?3, '" ACCOUNT "', ?4, ?4, 'g', ?5, ?6,"
		 " ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?2, ?14, ?15, 0, ?16, ?17, 1)", cert_cols);
	sqlite3_stmt *cst = prep(h, sql);
	sqlite3_stmt *tst = prep(h, "INSERT INTO things(account_region, name, thing_id, attributes, version, created) VALUES (?1, ?2, ?3, '{}', 1, ?4)");
	sqlite3_stmt *pst = prep(h, "INSERT INTO thing_principals(account_region, thing_name, principal) VALUES (?1, ?2, ?3)");
	sqlite3_stmt *gst = prep(h, "INSERT INTO thing_group_members(account_region, group_name, thing_name) VALUES (?1, ?2, ?3)");
	for (long k = 0; k < n; k++) {
		long i = order[k];
		char id[65], thing[32], subj[64], cn[32], serial[32], arn[160], ksha[65];
		device_names(k, i, &r[i], id, thing);
		snprintf(ksha, sizeof ksha, "%064lx", (unsigned long)r[i].ksha);
		snprintf(cn, sizeof cn, "%s", thing);
		snprintf(subj, sizeof subj, "CN=%s", thing);
		snprintf(serial, sizeof serial, "%lx", (unsigned long)(r[i].serial >> 1));
		bool rsa = i % 10 == 0;
		int ca = (int)(r[i].ca % 5);
		char issuer[64];
		snprintf(issuer, sizeof issuer, "CN=Fleet CA %d,O=Bench", ca);
		int64_t nb = now - (int64_t)(r[i].nb % 800) * DAY;
		int64_t na = now + ((int64_t)(r[i].na % 910) - 10) * DAY;
		T(cst, 1, ACCOUNT_REGION); T(cst, 2, id); T(cst, 3, ca_ids[ca]); I(cst, 4, now); T(cst, 5, subj); T(cst, 6, issuer);
		T(cst, 7, cn); T(cst, 8, serial); I(cst, 9, nb); I(cst, 10, na);
		T(cst, 11, rsa ? "RSA" : "EC"); I(cst, 12, rsa ? 2048 : 256); T(cst, 13, rsa ? "" : "prime256v1");
		T(cst, 14, ksha); T(cst, 15, rsa ? "00000000000000000000" : "");
		I(cst, 16, rsa ? (i % 1000 == 0 ? 2 : 1) : 0); /* a few ROCA-vulnerable RSA keys */
		I(cst, 17, rsa ? (i % 1010 == 0 ? 2 : 1) : 0); /* a few Debian-weak ones */
		step(cst);
		char tid[64];
		snprintf(tid, sizeof tid, "00000000-0000-4000-8000-%012ld", i);
		T(tst, 1, ACCOUNT_REGION); T(tst, 2, thing); T(tst, 3, tid); I(tst, 4, now);
		step(tst);
		snprintf(arn, sizeof arn, "arn:aws:iot:us-east-1:%s:cert/%s", ACCOUNT, id);
		T(pst, 1, ACCOUNT_REGION); T(pst, 2, thing); T(pst, 3, arn);
		step(pst);
		char group[32];
		snprintf(group, sizeof group, "group-%ld", i % 100);
		T(gst, 1, ACCOUNT_REGION); T(gst, 2, group); T(gst, 3, thing);
		step(gst);
	}
	phase("devices");
	sqlite3_finalize(cst);
	sqlite3_finalize(tst);
	sqlite3_finalize(pst);
	sqlite3_finalize(gst);
	st = prep(h, "INSERT INTO thing_groups(account_region, name, group_id, attributes, created) VALUES (?1, ?2, ?3, '{}', ?4)");
	for (int g = 0; g < 100; g++) {
		char name[32], gid[40];
		snprintf(name, sizeof name, "group-%d", g);
		snprintf(gid, sizeof gid, "00000000-0000-4000-9000-%012d", g);
		T(st, 1, ACCOUNT_REGION); T(st, 2, name); T(st, 3, gid); I(st, 4, now);
		step(st);
	}
	sqlite3_finalize(st);
	/* policies: 3000, 5% permissive */
	sqlite3_stmt *pol = prep(h, "INSERT INTO policies(account_region, name, default_version, next_version, created, modified, generation_id) VALUES (?1, ?2, 1, 2, ?3, ?3, 'g')");
	sqlite3_stmt *ver = prep(h, "INSERT INTO policy_versions(account_region, policy_name, version, document, created) VALUES (?1, ?2, 1, ?3, ?4)");
	const char *good = "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"iot:Connect\","
			   "\"Resource\":\"arn:aws:iot:us-east-1:123456789012:client/${iot:Connection.Thing.ThingName}\"},"
			   "{\"Effect\":\"Allow\",\"Action\":[\"iot:Publish\",\"iot:Receive\"],\"Resource\":"
			   "\"arn:aws:iot:us-east-1:123456789012:topic/devices/${iot:Connection.Thing.ThingName}/*\"},"
			   "{\"Effect\":\"Allow\",\"Action\":\"iot:Subscribe\",\"Resource\":"
			   "\"arn:aws:iot:us-east-1:123456789012:topicfilter/devices/${iot:Connection.Thing.ThingName}/*\"}]}";
	const char *bad = "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"iot:*\",\"Resource\":\"*\"}]}";
	for (int p = 0; p < 3000; p++) {
		char name[32];
		snprintf(name, sizeof name, "policy-%d", p);
		T(pol, 1, ACCOUNT_REGION); T(pol, 2, name); I(pol, 3, now);
		step(pol);
		T(ver, 1, ACCOUNT_REGION); T(ver, 2, name); T(ver, 3, p % 20 == 0 ? bad : good); I(ver, 4, now);
		step(ver);
	}
	sqlite3_finalize(pol);
	sqlite3_finalize(ver);
	phase("groups and policies");
	/* while the events are still being generated: the other tables' indexes */
	bulk_end(h, &bulk, false);
	exec_or_die(h, "COMMIT");
	phase("indexes of the devices");
	pthread_join(events, NULL);
	phase("waiting for the events");
	char attach[800];
	snprintf(attach, sizeof attach, "ATTACH '%s' AS ev", ev.path);
	exec_or_die(h, attach);
	exec_or_die(h, "BEGIN");
	exec_or_die(h, "INSERT INTO main.connection_events SELECT * FROM ev.connection_events");
	exec_or_die(h, "COMMIT");
	exec_or_die(h, "DETACH ev");
	unlink(ev.path);
	free(ev.table_sql);
	free(r);
	free(order);
	phase("events copied");
	exec_or_die(h, "BEGIN");
	bulk_end(h, &bulk, true);
	exec_or_die(h, "COMMIT");
	phase("indexes of the events");
	/* statistics from a sample of each index: the plans of the audit's queries do not
	 * depend on them, and a full ANALYZE reads every row again */
	exec_or_die(h, "PRAGMA analysis_limit=1000");
	exec_or_die(h, "ANALYZE");
	phase("analyze");
	exec_or_die(h, "PRAGMA journal_mode=WAL");
	dd_store_close(store);
	/* hand the generation's page cache back, so that the forked audit's peak RSS is its own */
	malloc_trim(0);
}

/* Prints one line per check as the engine stores it: the time to run it on the snapshot
 * and the time to store its findings. */
/* what the timing lines add up to: CPU seconds of running the checks (a shared pass
 * once), of storing their findings, and of the task's own set-up and end */
static double sum_run_cpu, sum_store_cpu, sum_task_cpu;
static bool group_seen[4][16]; /* [lane][group]: a shared pass counted once */

static void print_timing(const struct dd_audit_engine_timing *t, void *ud)
{
	(void)ud;
	if (t->check_name[0] == '(')
		sum_task_cpu += t->run_cpu_s;
	else {
		bool shared = t->group > 0 && t->group < 16 && t->lane >= 0 && t->lane < 4;
		if (!shared || !group_seen[t->lane][t->group])
			sum_run_cpu += t->run_cpu_s;
		if (shared)
			group_seen[t->lane][t->group] = true;
		sum_store_cpu += t->store_cpu_s;
	}
	if (t->check_name[0] == '(') {
		printf("  %-60s task's thread  s=%6.2f (cpu %6.2f)\n", t->check_name, t->run_s, t->run_cpu_s);
		fflush(stdout);
		return;
	}
	printf("  %-60s lane %d%s run_s=%6.2f (cpu %6.2f) store_s=%6.2f (cpu %6.2f) total=%8lld noncompl=%7lld\n",
	       t->check_name, t->lane, t->group ? " shared" : "       ", t->run_s, t->run_cpu_s, t->store_s, t->store_cpu_s,
	       (long long)t->total, (long long)t->noncompliant);
	fflush(stdout);
}

static int count_cert(const struct dd_cert_info *ci, void *ud)
{
	(void)ci;
	(*(long *)ud)++;
	return 0;
}

static int count_event(const struct dd_store_audit_event *e, void *ud)
{
	(void)e;
	(*(long *)ud)++;
	return 0;
}

static int count_policy(const char *name, int64_t version, const char *document, void *ud)
{
	(void)name;
	(void)version;
	(void)document;
	(*(long *)ud)++;
	return 0;
}

/* The floor: the time to only stream, once and on one thread, the rows the checks read
 * (certificates with their facts, connection events in both orders, policies). */
static double read_once(struct dd_service *svc, int64_t now)
{
	struct dd_db *db = dd_store_db_private(svc->store);
	if (!db || dd_db_begin_read(db)) {
		fprintf(stderr, "bench_audit: cannot open a snapshot\n");
		dd_db_close(db);
		return 0;
	}
	double total = 0, total_cpu = 0;
	struct {
		const char *what;
		int kind;
	} scans[] = { { "device certificates", 0 }, { "CA certificates", 1 }, { "events by certificate", 2 },
		      { "events by client id", 3 }, { "policies (default versions)", 4 } };
	for (size_t i = 0; i < sizeof scans / sizeof scans[0]; i++) {
		long rows = 0;
		double t0 = now_s(), c0 = cpu_s();
		int rc = 0;
		switch (scans[i].kind) {
		case 0: rc = dd_certs_foreach(db, ACCOUNT_REGION, DD_CERT_DEVICE, now, count_cert, &rows); break;
		case 1: rc = dd_certs_foreach(db, ACCOUNT_REGION, DD_CERT_CA, now, count_cert, &rows); break;
		case 2: rc = dd_store_audit_reads_events_by_cert(db, ACCOUNT_REGION, now - 31 * DAY, now, count_event, &rows); break;
		case 3: rc = dd_store_audit_reads_events_by_client(db, ACCOUNT_REGION, now - 31 * DAY, now, count_event, &rows); break;
		default: rc = dd_store_audit_reads_policies(db, ACCOUNT_REGION, count_policy, &rows); break;
		}
		double dt = now_s() - t0, dc = cpu_s() - c0;
		total += dt;
		total_cpu += dc;
		printf("  read once: %-30s rows=%9ld s=%6.2f (cpu %6.2f)%s\n", scans[i].what, rows, dt, dc, rc ? " (failed)" : "");
	}
	printf("  read once: total s=%.2f (cpu %.2f)\n", total, total_cpu);
	fflush(stdout);
	dd_db_close(db);
	return total_cpu;
}

/* The counts the audit found on the generated fleets before the performance work of
 * issue 12 (the fleet is drawn from a fixed seed, so they do not change from run to run):
 * per check, in the order of dd_audit_checks, the examined and the noncompliant
 * resources, then the number of findings. A faster audit must find exactly these. */
struct reference {
	long devices;
	long long total[17], noncompliant[17], findings;
};
static const struct reference references[] = {
	{ 50000,
	  { 1, 5, 5, 50250, 50000, 50000, 50000, 50000, 50000, 3000, 3000, 5, 5, 1, 5, 50000, 1 },
	  { 1, 1, 0, 250, 27083, 2228, 99, 250, 0, 150, 0, 5, 5, 1, 0, 0, 1 }, 30095 },
	{ 100000,
	  { 1, 5, 5, 100500, 100000, 100000, 100000, 100000, 100000, 3000, 3000, 5, 5, 1, 5, 100000, 1 },
	  { 1, 1, 0, 500, 54260, 4456, 199, 500, 0, 150, 0, 5, 5, 1, 0, 0, 1 }, 60100 },
	{ 1000000,
	  { 1, 5, 5, 1005000, 1000000, 1000000, 1000000, 1000000, 1000000, 3000, 3000, 5, 5, 1, 5, 1000000, 1 },
	  { 1, 1, 0, 5000, 543983, 45250, 1981, 5000, 0, 150, 0, 5, 5, 1, 0, 0, 1 }, 601408 },
};

/* Compares the task's counts with the reference of its fleet size: prints the verdict and
 * returns 0 (identical, or no reference for this size) or 1 (different). */
static int check_reference(long n, json_t *details, long long findings)
{
	const struct reference *ref = NULL;
	for (size_t i = 0; i < sizeof references / sizeof references[0]; i++)
		if (references[i].devices == n)
			ref = &references[i];
	if (!ref || dd_audit_ncheck != 17) {
		printf("counts: no reference for %ld devices\n", n);
		return 0;
	}
	int bad = 0;
	for (size_t i = 0; i < dd_audit_ncheck; i++) {
		json_t *d = json_object_get(details, dd_audit_checks[i].name);
		long long t = (long long)json_integer_value(json_object_get(d, "totalResourcesCount"));
		long long nc = (long long)json_integer_value(json_object_get(d, "nonCompliantResourcesCount"));
		if (t != ref->total[i] || nc != ref->noncompliant[i]) {
			printf("counts: MISMATCH %s: total %lld noncompliant %lld, reference %lld %lld\n",
			       dd_audit_checks[i].name, t, nc, ref->total[i], ref->noncompliant[i]);
			bad = 1;
		}
	}
	if (findings != ref->findings) {
		printf("counts: MISMATCH findings %lld, reference %lld\n", findings, ref->findings);
		bad = 1;
	}
	if (!bad)
		printf("counts: identical to the reference (17 checks, %lld findings)\n", findings);
	return bad;
}

static int call(struct dd_service *svc, const char *op, json_t *in, json_t **out)
{
	char err[1024];
	int rc = dd_api_call(svc, ACCOUNT, "us-east-1", "iot", op, in, out, err, sizeof err);
	json_decref(in);
	if (rc)
		fprintf(stderr, "bench_audit: %s: %s\n", op, err);
	return rc;
}

/* A second instance: the audit engine alone on the same store, taking shards of any task
 * until it is killed. */
static int helper_instance(const char *dir)
{
	struct dd_service svc;
	memset(&svc, 0, sizeof svc);
	svc.audit_workers = 2;
	setenv("IOTDEFENDER_AUDIT_POLL_MS", "50", 1);
	if (dd_service_init(&svc, dir) || dd_lease_start(&svc) || dd_audit_engine_start(&svc))
		return 1;
	for (;;)
		pause();
}

static int run_audit(const char *dir, long n, int instances)
{
	struct dd_service svc;
	memset(&svc, 0, sizeof svc);
	svc.audit_workers = 2; /* as `serve` */
	if (dd_service_init(&svc, dir)) {
		fprintf(stderr, "bench_audit: cannot open the service\n");
		return 1;
	}
	if (dd_models_load()) {
		fprintf(stderr, "bench_audit: cannot load the API models\n");
		return 1;
	}
	double floor_cpu = instances == 1 ? read_once(&svc, dd_time_now_ms()) : 0.0;
	dd_audit_engine_set_timing(print_timing, NULL);
	if (dd_lease_start(&svc) || dd_audit_engine_start(&svc))
		return 1;
	json_t *checks = json_object(), *names = json_array();
	for (size_t i = 0; i < dd_audit_ncheck; i++) {
		json_t *cfg = json_pack("{s:b}", "enabled", 1);
		json_object_set_new(checks, dd_audit_checks[i].name, cfg);
		json_array_append_new(names, json_string(dd_audit_checks[i].name));
	}
	json_t *out = NULL;
	if (call(&svc, "UpdateAccountAuditConfiguration",
		 json_pack("{s:s, s:o}", "roleArn", "arn:aws:iam::123456789012:role/AuditRole", "auditCheckConfigurations",
			   checks), &out))
		return 1;
	json_decref(out);
	struct rusage ru0;
	getrusage(RUSAGE_SELF, &ru0);
	double cpu0 = (double)ru0.ru_utime.tv_sec + (double)ru0.ru_utime.tv_usec / 1e6 + (double)ru0.ru_stime.tv_sec +
		      (double)ru0.ru_stime.tv_usec / 1e6;
	double t0 = now_s();
	if (call(&svc, "StartOnDemandAuditTask", json_pack("{s:o}", "targetCheckNames", names), &out))
		return 1;
	char task[40];
	snprintf(task, sizeof task, "%s", json_string_value(json_object_get(out, "taskId")));
	json_decref(out);
	json_t *desc = NULL;
	for (;;) {
		usleep(50000); /* the polling is in cpu_s too: keep it rare */
		if (call(&svc, "DescribeAuditTask", json_pack("{s:s}", "taskId", task), &desc))
			return 1;
		if (strcmp(json_string_value(json_object_get(desc, "taskStatus")), "IN_PROGRESS") != 0)
			break;
		json_decref(desc);
	}
	double wall = now_s() - t0;
	long findings = 0;
	const char *name;
	json_t *d;
	printf("  %-62s %-24s %9s %9s\n", "check", "status", "total", "noncompl");
	json_object_foreach(json_object_get(desc, "auditDetails"), name, d) {
		findings += (long)json_integer_value(json_object_get(d, "nonCompliantResourcesCount"));
		printf("  %-62s %-24s %9lld %9lld\n", name, json_string_value(json_object_get(d, "checkRunStatus")),
		       (long long)json_integer_value(json_object_get(d, "totalResourcesCount")),
		       (long long)json_integer_value(json_object_get(d, "nonCompliantResourcesCount")));
	}
	struct dd_db *db = dd_store_db(svc.store);
	int64_t rows = -1;
	if (dd_store_audit_findings_count_task(db, ACCOUNT_REGION, task, &rows))
		rows = -1;
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	double cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
		     (double)ru.ru_stime.tv_usec / 1e6 - cpu0;
	printf("devices=%ld instances=%d status=%s wall_s=%.2f cpu_s=%.2f findings=%lld noncompliant_resources=%ld"
	       " findings_per_s=%.0f peak_rss_mib=%.0f\n", n, instances, json_string_value(json_object_get(desc, "taskStatus")),
	       wall, cpu, (long long)rows, findings, (double)rows / wall, (double)ru.ru_maxrss / 1024.0);
	int mismatch = check_reference(n, json_object_get(desc, "auditDetails"), (long long)rows);
	dd_audit_engine_stop(&svc); /* the task's thread has reported its end */
	dd_lease_stop(&svc);
	if (instances == 1)
		printf("where the audit's CPU time goes: %.2f s = checks %.2f s (reading the rows once: %.2f s, so %.2fx that)"
		       " + storing the findings %.2f s + the task's set-up and end %.2f s + the rest %.2f s (polling, threads)\n",
		       cpu, sum_run_cpu, floor_cpu, floor_cpu > 0 ? sum_run_cpu / floor_cpu : 0.0, sum_store_cpu, sum_task_cpu,
		       cpu - sum_run_cpu - sum_store_cpu - sum_task_cpu);
	fflush(stdout);
	json_decref(desc);
	/* a kept store is audited again next time: drop this run's results */
	if (getenv("BENCH_AUDIT_STORE") && dd_db_begin_write(db) == 0) {
		if (dd_store_audit_prune(db, INT64_MAX) || dd_db_commit(db))
			dd_db_rollback(db);
	}
	dd_service_close(&svc);
	dd_models_free();
	return mismatch;
}

int main(void)
{
	const char *sizes = getenv("BENCH_AUDIT_DEVICES");
	if (!sizes)
		sizes = "100000,1000000";
	char base[512];
	const char *direnv = getenv("BENCH_AUDIT_DIR");
	snprintf(base, sizeof base, "%s/ddbench-audit-XXXXXX", direnv ? direnv : "/tmp");
	if (!mkdtemp(base)) {
		perror("mkdtemp");
		return 1;
	}
	dd_log_set_level(getenv("BENCH_AUDIT_VERBOSE") ? DD_LOG_DEBUG : DD_LOG_WARN);
	char buf[256];
	snprintf(buf, sizeof buf, "%s", sizes);
	int status = 0;
	for (char *s = buf, *next; s && *s; s = next) {
		next = strchr(s, ',');
		if (next)
			*next++ = '\0';
		int64_t n;
		if (dd_parse_int64(s, 1, 100000000, &n)) {
			fprintf(stderr, "bench_audit: bad size %s\n", s);
			return 2;
		}
		char dir[600];
		const char *keep = getenv("BENCH_AUDIT_STORE");
		if (keep)
			snprintf(dir, sizeof dir, "%s/%lld", keep, (long long)n);
		else
			snprintf(dir, sizeof dir, "%s/%lld", base, (long long)n);
		char dbfile[700];
		snprintf(dbfile, sizeof dbfile, "%s/iotdefender.db", dir);
		struct stat sb;
		if (keep && stat(dbfile, &sb) == 0) {
			printf("audit fleet of %lld devices reused from %s\n", (long long)n, dir);
		} else {
			if (keep)
				mkdir(keep, 0700);
			double g0 = now_s(), c0 = process_cpu_s();
			generate(dir, (long)n);
			printf("audit fleet of %lld devices generated in %.1f s (cpu %.1f s, all threads)\n", (long long)n,
			       now_s() - g0, process_cpu_s() - c0);
		}
		fflush(stdout);
		const char *insts = getenv("BENCH_AUDIT_INSTANCES");
		for (const char *ip = insts ? insts : "1,2"; *ip; ip++) {
			if (*ip != '1' && *ip != '2')
				continue;
			int ninst = *ip - '0';
			pid_t helper = -1;
			/* two instances share the audit's shards; one runs it unsplit (the default) */
			bool set_here = ninst == 2 && !getenv("IOTDEFENDER_AUDIT_SHARD_SIZE");
			if (set_here)
				setenv("IOTDEFENDER_AUDIT_SHARD_SIZE", "50000", 1);
			if (ninst == 2) {
				helper = fork();
				if (helper == 0)
					_exit(helper_instance(dir));
			}
			pid_t pid = fork();
			if (pid == 0)
				_exit(run_audit(dir, (long)n, ninst));
			int ws = 0;
			waitpid(pid, &ws, 0);
			if (!WIFEXITED(ws) || WEXITSTATUS(ws) != 0)
				status = 1;
			if (helper > 0) {
				/* the second instance's CPU (user + system), from /proc, before it goes */
				char path[64], stat[1024];
				snprintf(path, sizeof path, "/proc/%d/stat", (int)helper);
				FILE *f = fopen(path, "r");
				size_t got = f ? fread(stat, 1, sizeof stat - 1, f) : 0;
				if (f)
					fclose(f);
				stat[got] = '\0';
				const char *p = strrchr(stat, ')');
				unsigned long long ut = 0, st = 0;
				if (p && sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) == 2)
					printf("devices=%lld instances=2 second_instance_cpu_s=%.2f\n", (long long)n,
					       (double)(ut + st) / (double)sysconf(_SC_CLK_TCK));
				fflush(stdout);
				kill(helper, SIGKILL);
				waitpid(helper, NULL, 0);
			}
			if (set_here)
				unsetenv("IOTDEFENDER_AUDIT_SHARD_SIZE");
		}
		char cmd[700];
		snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
		if (!keep && system(cmd) != 0)
			status = 1;
	}
	rmdir(base);
	return status;
}

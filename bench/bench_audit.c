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
 * On PostgreSQL too (BENCH_AUDIT_BACKENDS "sqlite,pg", the default): the generated fleet
 * is loaded into a database of the server BENCH_AUDIT_PG names (a postgresql:// URL whose
 * role may create databases), or, without it, of a temporary cluster started with
 * scripts/pg_tmp.sh in the bench's temp dir and stopped at the end, by COPY of each table
 * the generator fills (read from the generated SQLite store), its secondary indexes built
 * after; the same audit then runs with one and with two instances on it, the counts
 * checked against the same references. The server's CPU during each audit is read from
 * /proc (the postmaster, its live backends and those it reaped) when it runs here. A
 * table at the end puts every run side by side.
 *
 * env: BENCH_AUDIT_DEVICES (comma-separated fleet sizes, default "100000,1000000"),
 *      BENCH_AUDIT_BACKENDS ("sqlite", "pg" or both, default "sqlite,pg"; pg is skipped,
 *      saying so, without BENCH_AUDIT_PG and without Debian's PostgreSQL 15),
 *      BENCH_AUDIT_PG (a postgresql:// URL; each fleet gets a database ddbench_audit_<n>,
 *      dropped after),
 *      BENCH_AUDIT_INSTANCES ("1", "2" or "1,2", the default),
 *      BENCH_AUDIT_DIR (where to put the stores, default a temp dir; removed after),
 *      BENCH_AUDIT_STORE (a directory where the generated stores are kept, <dir>/<size>, and
 *      reused by later runs; each run's audit results are deleted after it).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <signal.h>
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <libpq-fe.h>

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

#define RNG_SEED 88172645463325252ULL
static uint64_t rng_state = RNG_SEED;
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

/* The tables the devices thread fills in its side file (the certificates, things and
 * their principals and group memberships, the groups, the policies, the CAs and the IAM,
 * Cognito and role-alias rows the checks read). */
static const char *const device_tables[] = {
	"iam_roles", "iam_role_attachments", "iam_role_policies", "cognito_pools", "role_aliases",
	"role_service_usage", "ca_certificates", "certificates", "things", "thing_principals",
	"thing_group_members", "thing_groups", "policies", "policy_versions",
};
#define NDEVICE_TABLES (sizeof device_tables / sizeof device_tables[0])

/* What the store's own connection sets aside while the fleet is written, put back as it
 * was by bulk_end: every trigger (the change journal's, which only record changes for
 * connected brokers, which a freshly generated store has none of; and SQLite copies a
 * table's B-trees whole only into a table without triggers). The index of
 * connection_events stays: the events come in its order too (see fleet_order), so it
 * grows at its end row by row, which costs less than sorting 10M keys to build it after
 * (18-22 s for both B-trees against 10-13 s + 11-14 s at 1M devices). */
struct bulk {
	char **sql; /* each trigger's CREATE TRIGGER */
	int n;
};

static void bulk_begin(sqlite3 *h, struct bulk *b)
{
	/* no rollback journal while generating: a store that fails half-way is thrown away */
	exec_or_die(h, "PRAGMA journal_mode=OFF");
	exec_or_die(h, "PRAGMA synchronous=OFF");
	exec_or_die(h, "PRAGMA cache_size=-65536");
	/* nothing is deleted from a new store: no zeroing of each page as it is formatted
	 * (the server sets its own secure_delete when it opens the store) */
	exec_or_die(h, "PRAGMA secure_delete=OFF");
	sqlite3_stmt *st = prep(h, "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND sql IS NOT NULL");
	b->sql = NULL;
	b->n = 0;
	char **drops = NULL;
	while (sqlite3_step(st) == SQLITE_ROW) {
		b->sql = realloc(b->sql, (size_t)(b->n + 1) * sizeof *b->sql);
		drops = realloc(drops, (size_t)(b->n + 1) * sizeof *drops);
		if (!b->sql || !drops) {
			fprintf(stderr, "bench_audit: out of memory\n");
			exit(1);
		}
		b->sql[b->n] = strdup((const char *)sqlite3_column_text(st, 1));
		drops[b->n] = sqlite3_mprintf("DROP TRIGGER \"%w\"", (const char *)sqlite3_column_text(st, 0));
		b->n++;
	}
	sqlite3_finalize(st);
	for (int i = 0; i < b->n; i++) {
		exec_or_die(h, drops[i]);
		sqlite3_free(drops[i]);
	}
	free(drops);
}

/* Puts the triggers back and frees the list. */
static void bulk_end(sqlite3 *h, struct bulk *b)
{
	for (int i = 0; i < b->n; i++) {
		exec_or_die(h, b->sql[i]);
		free(b->sql[i]);
	}
	free(b->sql);
}

/* The random draws of one device, made up front in the order one loop used to make them,
 * so that the two generating threads describe the same fleet whatever their pace. */
struct devrand {
	uint64_t id, ksha, serial, ca, nb, na, t;
};

/* The fleet is written in the lexicographic order of its thing names ("thing-0",
 * "thing-1", "thing-10", "thing-100", ...), and the k-th device in that order gets a
 * certificate id starting with k: so certificate ids, thing names, principals and client
 * ids all ascend together: every row lands at the end of its table's B-tree and of the
 * events' certificate index (a clone's two events a few entries before it), and the
 * device tables' index builds sort presorted rows. order[k] is the device number of the
 * k-th name (a pre-order walk of the decimal digit tree, no sorting). */
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

/* v as `width` lowercase hex digits, zero-padded, at out (no terminator) */
static void put_hex(char *out, uint64_t v, int width)
{
	for (int d = width - 1; d >= 0; d--, v >>= 4)
		out[d] = "0123456789abcdef"[v & 15];
}

/* Device i, k-th in name order: its certificate id ("%016lx%048lx" of k and its random
 * id) and thing name ("thing-%ld"), written by hand: snprintf took about 7 % of the
 * events thread's CPU. Returns the thing name's length. */
static size_t device_names(long k, long i, const struct devrand *r, char id[65], char thing[32])
{
	put_hex(id, (uint64_t)k, 16);
	put_hex(id + 16, 0, 32);
	put_hex(id + 48, r->id, 16);
	id[64] = '\0';
	char digits[24];
	int n = 0;
	unsigned long u = (unsigned long)i;
	do
		digits[n++] = (char)('0' + u % 10);
	while ((u /= 10) != 0);
	memcpy(thing, "thing-", 6);
	for (int d = 0; d < n; d++)
		thing[6 + d] = digits[n - 1 - d];
	thing[6 + n] = '\0';
	return 6 + (size_t)n;
}

/* The fleet as the generating threads see it. */
struct fleet {
	const struct devrand *r;
	const long *order;
	long n;
	int64_t now;
};

/* The fleet's rows as two virtual tables, each read by INSERT ... SELECT: one statement
 * keeps its cursor on the B-tree's last page from row to row, where an INSERT stepped
 * once per row opens it again and descends from the root each time (twice the time at 1M
 * devices). fleet_devices has a row per device, in name order, with the values of its
 * certificate, thing, principal and group membership; fleet_events the connection events
 * (10 per device, 12 for the cloned ones: most of the fleet's rows), in the store table's
 * key order (client id, then time: each device's five sessions, then its clone's), seq
 * given in that order. Every row lands at the end of its B-tree. */
enum fleet_kind { FLEET_DEVICES, FLEET_EVENTS };

struct fleet_table {
	const struct fleet *f;
	enum fleet_kind kind;
	const char (*ca_ids)[65]; /* FLEET_DEVICES: the five CAs' ids */
};

struct fleet_vtab {
	sqlite3_vtab base;
	const struct fleet_table *t;
};

struct fleet_cursor {
	sqlite3_vtab_cursor base;
	const struct fleet_table *t;
	long k;   /* the device, in name order */
	long i;   /* its number */
	int e;    /* its row: 0 for fleet_devices; for fleet_events 0..9 its own five sessions,
		   * 10 and 11 its clone's */
	int nrows;
	int64_t seq, t0;
	char id[65], thing[32], clone[48], buf[160];
};

static void fleet_device(struct fleet_cursor *c)
{
	const struct fleet *f = c->t->f;
	if (c->k >= f->n)
		return;
	c->i = f->order[c->k];
	size_t len = device_names(c->k, c->i, &f->r[c->i], c->id, c->thing);
	if (c->t->kind == FLEET_DEVICES) {
		c->nrows = 1;
		return;
	}
	memcpy(c->clone, c->thing, len);
	memcpy(c->clone + len, "-clone", sizeof "-clone");
	/* 5 sessions = 10 events; 1 in 200 devices also has a clone connecting with the same
	 * certificate during its first session, 1 in 200 is taken over */
	c->t0 = f->now - 20 * DAY + (int64_t)(f->r[c->i].t % (10 * DAY));
	c->nrows = c->i % 200 == 1 ? 12 : 10;
}

static int fleet_connect(sqlite3 *db, void *aux, int argc, const char *const *argv, sqlite3_vtab **out, char **err)
{
	(void)argc, (void)argv, (void)err;
	const struct fleet_table *t = aux;
	int rc = sqlite3_declare_vtab(db, t->kind == FLEET_EVENTS
						  ? "CREATE TABLE x(seq, account_region, event, client_id, certificate_id, ts,"
						    " source_ip, reason)"
						  : "CREATE TABLE x(id, thing, ca_id, subject, issuer, serial, not_before,"
						    " not_after, key_type, key_bits, curve, key_sha256, key_sha1_80, roca,"
						    " debian, thing_id, principal, group_name)");
	if (rc != SQLITE_OK)
		return rc;
	struct fleet_vtab *v = sqlite3_malloc(sizeof *v);
	if (!v)
		return SQLITE_NOMEM;
	memset(v, 0, sizeof *v);
	v->t = t;
	*out = &v->base;
	return SQLITE_OK;
}

static int fleet_disconnect(sqlite3_vtab *v)
{
	sqlite3_free(v);
	return SQLITE_OK;
}

static int fleet_best_index(sqlite3_vtab *v, sqlite3_index_info *info)
{
	(void)v;
	info->estimatedCost = 1e9;
	return SQLITE_OK;
}

static int fleet_open(sqlite3_vtab *v, sqlite3_vtab_cursor **out)
{
	struct fleet_cursor *c = sqlite3_malloc(sizeof *c);
	if (!c)
		return SQLITE_NOMEM;
	memset(c, 0, sizeof *c);
	c->t = ((struct fleet_vtab *)v)->t;
	*out = &c->base;
	return SQLITE_OK;
}

static int fleet_close(sqlite3_vtab_cursor *c)
{
	sqlite3_free(c);
	return SQLITE_OK;
}

static int fleet_filter(sqlite3_vtab_cursor *cur, int idx, const char *idxs, int argc, sqlite3_value **argv)
{
	(void)idx, (void)idxs, (void)argc, (void)argv;
	struct fleet_cursor *c = (struct fleet_cursor *)cur;
	c->k = 0;
	c->e = 0;
	c->seq = 1;
	fleet_device(c);
	return SQLITE_OK;
}

static int fleet_next(sqlite3_vtab_cursor *cur)
{
	struct fleet_cursor *c = (struct fleet_cursor *)cur;
	c->seq++;
	if (++c->e == c->nrows) {
		c->e = 0;
		c->k++;
		fleet_device(c);
	}
	return SQLITE_OK;
}

static int fleet_eof(sqlite3_vtab_cursor *cur)
{
	struct fleet_cursor *c = (struct fleet_cursor *)cur;
	return c->k >= c->t->f->n;
}

#define RESULT_TEXT(s) sqlite3_result_text(ctx, s, -1, SQLITE_STATIC)

/* the buffers stay as they are until fleet_next, after SQLite has copied the row */
static void event_column(struct fleet_cursor *c, sqlite3_context *ctx, int col)
{
	bool own = c->e < 10, connect = c->e % 2 == 0;
	/* own sessions: an hour each, a minute apart; the clone's: 10 to 20 minutes into the first */
	int64_t ts = own ? c->t0 + (c->e / 2) * (3600 * 1000 + 60 * 1000) + (connect ? 0 : 3600 * 1000)
			 : c->t0 + (connect ? 600000 : 1200000);
	switch (col) {
	case 0: sqlite3_result_int64(ctx, c->seq); break;
	case 1: RESULT_TEXT(ACCOUNT_REGION); break;
	case 2: RESULT_TEXT(connect ? "connect" : "disconnect"); break;
	case 3: RESULT_TEXT(own ? c->thing : c->clone); break;
	case 4: RESULT_TEXT(c->id); break;
	case 5: sqlite3_result_int64(ctx, ts); break;
	case 6: RESULT_TEXT("10.0.0.1"); break;
	default:
		if (c->e == 9 && c->i % 200 == 2)
			RESULT_TEXT("takeover");
		else
			sqlite3_result_null(ctx);
	}
}

/* each column computed when asked for: each INSERT reads its own */
static void device_column(struct fleet_cursor *c, sqlite3_context *ctx, int col)
{
	const struct devrand *r = &c->t->f->r[c->i];
	int64_t now = c->t->f->now;
	long i = c->i;
	bool rsa = i % 10 == 0;
	int ca = (int)(r->ca % 5);
	switch (col) {
	case 0: RESULT_TEXT(c->id); break;
	case 1: RESULT_TEXT(c->thing); break;
	case 2: RESULT_TEXT(c->t->ca_ids[ca]); break;
	case 3: snprintf(c->buf, sizeof c->buf, "CN=%s", c->thing); RESULT_TEXT(c->buf); break;
	case 4: snprintf(c->buf, sizeof c->buf, "CN=Fleet CA %d,O=Bench", ca); RESULT_TEXT(c->buf); break;
	case 5: snprintf(c->buf, sizeof c->buf, "%lx", (unsigned long)(r->serial >> 1)); RESULT_TEXT(c->buf); break;
	case 6: sqlite3_result_int64(ctx, now - (int64_t)(r->nb % 800) * DAY); break;
	case 7: sqlite3_result_int64(ctx, now + ((int64_t)(r->na % 910) - 10) * DAY); break;
	case 8: RESULT_TEXT(rsa ? "RSA" : "EC"); break;
	case 9: sqlite3_result_int(ctx, rsa ? 2048 : 256); break;
	case 10: RESULT_TEXT(rsa ? "" : "prime256v1"); break;
	case 11: snprintf(c->buf, sizeof c->buf, "%064lx", (unsigned long)r->ksha); RESULT_TEXT(c->buf); break;
	case 12: RESULT_TEXT(rsa ? "00000000000000000000" : ""); break;
	case 13: sqlite3_result_int(ctx, rsa ? (i % 1000 == 0 ? 2 : 1) : 0); break; /* a few ROCA-vulnerable RSA keys */
	case 14: sqlite3_result_int(ctx, rsa ? (i % 1010 == 0 ? 2 : 1) : 0); break; /* a few Debian-weak ones */
	case 15: snprintf(c->buf, sizeof c->buf, "00000000-0000-4000-8000-%012ld", i); RESULT_TEXT(c->buf); break;
	case 16: snprintf(c->buf, sizeof c->buf, "arn:aws:iot:us-east-1:%s:cert/%s", ACCOUNT, c->id); RESULT_TEXT(c->buf); break;
	default: snprintf(c->buf, sizeof c->buf, "group-%ld", i % 100); RESULT_TEXT(c->buf);
	}
}

static int fleet_column(sqlite3_vtab_cursor *cur, sqlite3_context *ctx, int col)
{
	struct fleet_cursor *c = (struct fleet_cursor *)cur;
	if (c->t->kind == FLEET_EVENTS)
		event_column(c, ctx, col);
	else
		device_column(c, ctx, col);
	return SQLITE_OK;
}

#undef RESULT_TEXT

static int fleet_rowid(sqlite3_vtab_cursor *cur, sqlite3_int64 *rowid)
{
	*rowid = ((struct fleet_cursor *)cur)->seq;
	return SQLITE_OK;
}

static const sqlite3_module fleet_module = {
	.xConnect = fleet_connect,
	.xBestIndex = fleet_best_index,
	.xDisconnect = fleet_disconnect,
	.xOpen = fleet_open,
	.xClose = fleet_close,
	.xFilter = fleet_filter,
	.xNext = fleet_next,
	.xEof = fleet_eof,
	.xColumn = fleet_column,
	.xRowid = fleet_rowid,
};

static void fleet_module_add(sqlite3 *h, const char *name, const struct fleet_table *t)
{
	if (sqlite3_create_module(h, name, &fleet_module, (void *)t) != SQLITE_OK) {
		fprintf(stderr, "bench_audit: %s: %s\n", name, sqlite3_errmsg(h));
		exit(1);
	}
}

/* Writes the fleet's connection events through the store's connection h, and leaves the
 * store's seq counter (server_meta 'connection_events/seq', m017) at the last seq given,
 * as dd_store_events_insert would have left it. */
static void insert_events(sqlite3 *h, const struct fleet *f)
{
	struct fleet_table t = { .f = f, .kind = FLEET_EVENTS };
	fleet_module_add(h, "fleet_events", &t);
	exec_or_die(h, "INSERT INTO connection_events(seq, account_region, event, client_id, certificate_id, ts, source_ip,"
		       " reason) SELECT seq, account_region, event, client_id, certificate_id, ts, source_ip, reason"
		       " FROM fleet_events");
	/* seq runs from 1 up by one per row, so the last one is the count of rows inserted
	 * (no scan of the table: seq is not indexed) */
	sqlite3_stmt *st = prep(h, "UPDATE server_meta SET value = CAST(?1 AS TEXT) WHERE key = 'connection_events/seq'");
	sqlite3_bind_int64(st, 1, sqlite3_changes64(h));
	step(st);
	sqlite3_finalize(st);
}

/* Where the generation's time goes, on stderr with BENCH_AUDIT_VERBOSE: wall and the
 * generating thread's CPU seconds of each phase since the previous one. */
static void phase(const char *name)
{
	static double wall0, cpu0;
	double cpu = cpu_s();
	double wall = now_s();
	if (name && getenv("BENCH_AUDIT_VERBOSE"))
		fprintf(stderr, "bench_audit: generation %-24s wall %6.1f s  cpu (this thread) %6.1f s\n", name, wall - wall0,
			cpu - cpu0);
	wall0 = wall;
	cpu0 = cpu;
}

/* The devices thread: certificates, things and the rest of device_tables (all but the
 * connection events) into a database file of its own, with the store's definitions of
 * those tables, their indexes built once the rows are in; the store then takes each
 * table with one INSERT ... SELECT into its empty table, which SQLite runs as a copy of
 * the table's and its indexes' B-trees in key order (the transfer optimization). */
struct devices_job {
	char path[700];
	char **sql; /* CREATE TABLE of each of device_tables, then their CREATE INDEX */
	int nsql, ntables;
	struct fleet f;
	double t0; /* when it started (now_s) */
};

static void *devices_thread(void *arg)
{
	struct devices_job *j = arg;
	sqlite3 *h = NULL;
	if (sqlite3_open_v2(j->path, &h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		fprintf(stderr, "bench_audit: cannot open %s\n", j->path);
		exit(1);
	}
	exec_or_die(h, "PRAGMA journal_mode=OFF");
	exec_or_die(h, "PRAGMA synchronous=OFF");
	exec_or_die(h, "PRAGMA cache_size=-65536");
	exec_or_die(h, "PRAGMA temp_store=MEMORY");
	exec_or_die(h, "PRAGMA secure_delete=OFF");
	for (int i = 0; i < j->ntables; i++)
		exec_or_die(h, j->sql[i]);
	exec_or_die(h, "BEGIN");
	sqlite3_stmt *st;
	/* the audit role, trusted by IoT, with the AWS managed audit policy */
	st = prep(h, "INSERT INTO iam_roles(account, name, role_id, path, trust_policy, created) VALUES (?1, ?2, ?3, '/', ?4, ?5)");
	const char *trust = "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"Service\":\"iot.amazonaws.com\"},\"Action\":\"sts:AssumeRole\"}]}";
	const char *roles[] = { "AuditRole", "DeviceRole", "CognitoAuth", "CognitoUnauth" };
	for (int i = 0; i < 4; i++) {
		T(st, 1, ACCOUNT); T(st, 2, roles[i]); T(st, 3, "AROABENCH0000000000"); T(st, 4, trust); I(st, 5, j->f.now);
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
	I(st, 3, j->f.now);
	if (sqlite3_step(st) != SQLITE_DONE)
		fprintf(stderr, "bench_audit: (cognito pool not created: %s)\n", sqlite3_errmsg(h));
	sqlite3_finalize(st);
	st = prep(h, "INSERT INTO role_aliases(account_region, alias, role_arn, duration, created, modified) VALUES (?1, ?2, ?3, 3600, ?4, ?4)");
	for (int i = 0; i < 5; i++) {
		char alias[32];
		snprintf(alias, sizeof alias, "alias-%d", i);
		T(st, 1, ACCOUNT_REGION); T(st, 2, alias); T(st, 3, "arn:aws:iam::123456789012:role/DeviceRole"); I(st, 4, j->f.now);
		step(st);
	}
	sqlite3_finalize(st);
	st = prep(h, "INSERT INTO role_service_usage(account_region, role_arn, service, last_used) VALUES (?1, ?2, 's3', ?3)");
	T(st, 1, ACCOUNT_REGION); T(st, 2, "arn:aws:iam::123456789012:role/DeviceRole"); I(st, 3, j->f.now - 10 * DAY);
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
		T(st, 1, ACCOUNT_REGION); T(st, 2, ca_ids[i]); I(st, 3, j->f.now); T(st, 4, subj); T(st, 5, cn); T(st, 6, serial);
		I(st, 7, j->f.now - 400 * DAY); I(st, 8, j->f.now + (i == 4 ? 10 : 3000) * DAY);
		step(st);
	}
	sqlite3_finalize(st);

	/* devices */
	struct fleet_table ft = { .f = &j->f, .kind = FLEET_DEVICES, .ca_ids = (const char (*)[65])ca_ids };
	fleet_module_add(h, "fleet_devices", &ft);
	snprintf(sql, sizeof sql, "INSERT INTO certificates %s SELECT '" ACCOUNT_REGION "', id, 'ACTIVE', '', ca_id, '" ACCOUNT "',"
		 " %" PRId64 ", %" PRId64 ", 'g', subject, issuer, thing, serial, not_before, not_after, key_type, key_bits, curve,"
		 " id, key_sha256, key_sha1_80, 0, roca, debian, 1 FROM fleet_devices", cert_cols, j->f.now, j->f.now);
	exec_or_die(h, sql);
	snprintf(sql, sizeof sql, "INSERT INTO things(account_region, name, thing_id, attributes, version, created)"
		 " SELECT '" ACCOUNT_REGION "', thing, thing_id, '{}', 1, %" PRId64 " FROM fleet_devices", j->f.now);
	exec_or_die(h, sql);
	exec_or_die(h, "INSERT INTO thing_principals(account_region, thing_name, principal)"
		       " SELECT '" ACCOUNT_REGION "', thing, principal FROM fleet_devices");
	exec_or_die(h, "INSERT INTO thing_group_members(account_region, group_name, thing_name)"
		       " SELECT '" ACCOUNT_REGION "', group_name, thing FROM fleet_devices");
	st = prep(h, "INSERT INTO thing_groups(account_region, name, group_id, attributes, created) VALUES (?1, ?2, ?3, '{}', ?4)");
	for (int g = 0; g < 100; g++) {
		char name[32], gid[40];
		snprintf(name, sizeof name, "group-%d", g);
		snprintf(gid, sizeof gid, "00000000-0000-4000-9000-%012d", g);
		T(st, 1, ACCOUNT_REGION); T(st, 2, name); T(st, 3, gid); I(st, 4, j->f.now);
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
		T(pol, 1, ACCOUNT_REGION); T(pol, 2, name); I(pol, 3, j->f.now);
		step(pol);
		T(ver, 1, ACCOUNT_REGION); T(ver, 2, name); T(ver, 3, p % 20 == 0 ? bad : good); I(ver, 4, j->f.now);
		step(ver);
	}
	sqlite3_finalize(pol);
	sqlite3_finalize(ver);
	double rows_cpu = cpu_s(), rows_wall = now_s() - j->t0;
	for (int i = j->ntables; i < j->nsql; i++)
		exec_or_die(h, j->sql[i]);
	exec_or_die(h, "COMMIT");
	sqlite3_close(h);
	if (getenv("BENCH_AUDIT_VERBOSE"))
		fprintf(stderr, "bench_audit: generation devices thread: rows wall %.1f s cpu %.1f s, indexes wall %.1f s"
			" cpu %.1f s\n", rows_wall, rows_cpu, now_s() - j->t0 - rows_wall, cpu_s() - rows_cpu);
	return NULL;
}

/* Appends the store's SQL text of the rows sql_query gives (one column) to j->sql. */
static void job_sql(sqlite3 *h, struct devices_job *j, const char *sql_query, const char *table)
{
	sqlite3_stmt *st = prep(h, sql_query);
	sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW) {
		j->sql = realloc(j->sql, (size_t)(j->nsql + 1) * sizeof *j->sql);
		if (!j->sql || !(j->sql[j->nsql] = strdup((const char *)sqlite3_column_text(st, 0)))) {
			fprintf(stderr, "bench_audit: out of memory\n");
			exit(1);
		}
		j->nsql++;
	}
	sqlite3_finalize(st);
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
	/* every fleet from the same seed, whichever sizes were generated before it in this run
	 * (the references of check_reference were recorded one size at a time) */
	rng_state = RNG_SEED;
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
	struct devices_job dj = { .f = { .r = r, .order = order, .n = n, .now = now } };
	snprintf(dj.path, sizeof dj.path, "%s/devices.tmp", dir);
	unlink(dj.path);
	for (size_t t = 0; t < NDEVICE_TABLES; t++)
		job_sql(h, &dj, "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?1", device_tables[t]);
	dj.ntables = dj.nsql;
	if (dj.ntables != (int)NDEVICE_TABLES) {
		fprintf(stderr, "bench_audit: the store lacks one of the device tables\n");
		exit(1);
	}
	for (size_t t = 0; t < NDEVICE_TABLES; t++)
		job_sql(h, &dj, "SELECT sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND tbl_name = ?1",
			device_tables[t]);
	pthread_t devices;
	dj.t0 = now_s();
	if (pthread_create(&devices, NULL, devices_thread, &dj)) {
		fprintf(stderr, "bench_audit: cannot start the devices thread\n");
		exit(1);
	}
	exec_or_die(h, "BEGIN");
	insert_events(h, &dj.f);
	exec_or_die(h, "COMMIT");
	phase("events and their index");
	pthread_join(devices, NULL);
	phase("waiting for the devices");
	char attach[800];
	snprintf(attach, sizeof attach, "ATTACH '%s' AS dev", dj.path);
	exec_or_die(h, attach);
	exec_or_die(h, "BEGIN");
	for (size_t t = 0; t < NDEVICE_TABLES; t++) {
		char *copy = sqlite3_mprintf("INSERT INTO main.\"%w\" SELECT * FROM dev.\"%w\"", device_tables[t], device_tables[t]);
		exec_or_die(h, copy);
		sqlite3_free(copy);
	}
	bulk_end(h, &bulk);
	exec_or_die(h, "COMMIT");
	exec_or_die(h, "DETACH dev");
	unlink(dj.path);
	for (int i = 0; i < dj.nsql; i++)
		free(dj.sql[i]);
	free(dj.sql);
	free(r);
	free(order);
	phase("devices copied");
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

/* ---- PostgreSQL: the same fleet loaded into a database, and what its server spends ---- */

/* The tables the generator fills, copied as they are into the PostgreSQL store. */
static const char *const copied_tables[] = {
	"iam_roles", "iam_role_attachments", "iam_role_policies", "cognito_pools", "role_aliases", "role_service_usage",
	"ca_certificates", "certificates", "things", "thing_principals", "thing_group_members", "thing_groups",
	"policies", "policy_versions", "connection_events",
};
#define NCOPIED (sizeof copied_tables / sizeof copied_tables[0])

static PGresult *pg_must(PGconn *c, const char *sql, ExecStatusType want)
{
	PGresult *r = PQexec(c, sql);
	if (PQresultStatus(r) != want) {
		fprintf(stderr, "bench_audit: PostgreSQL: %s: %s\n", sql, PQresultErrorMessage(r));
		exit(1);
	}
	return r;
}

static void pg_cmd(PGconn *c, const char *sql) { PQclear(pg_must(c, sql, PGRES_COMMAND_OK)); }

static PGconn *pg_conn(const char *url)
{
	PGconn *c = PQconnectdb(url);
	if (PQstatus(c) != CONNECTION_OK) {
		fprintf(stderr, "bench_audit: cannot connect to %s: %s\n", url, PQerrorMessage(c));
		exit(1);
	}
	PQclear(PQexec(c, "SET client_min_messages = warning"));
	return c;
}

/* url with its database name replaced by db (postgresql://auth@host:port/NAME?params). */
static void url_with_db(const char *url, const char *db, char *out, size_t n)
{
	const char *auth = strstr(url, "://");
	const char *path = auth ? strchr(auth + 3, '/') : NULL;
	const char *query = strchr(url, '?');
	if (!path)
		snprintf(out, n, "%s/%s", url, db);
	else
		snprintf(out, n, "%.*s/%s%s", (int)(path - url), url, db, query ? query : "");
}

/* A COPY's text-format buffer, sent in pieces of about 1 MiB. */
struct copybuf {
	PGconn *c;
	char *b;
	size_t n, cap;
};

static void cb_flush(struct copybuf *cb)
{
	if (cb->n && PQputCopyData(cb->c, cb->b, (int)cb->n) != 1) {
		fprintf(stderr, "bench_audit: COPY: %s\n", PQerrorMessage(cb->c));
		exit(1);
	}
	cb->n = 0;
}

static void cb_room(struct copybuf *cb, size_t more)
{
	if (cb->n + more <= cb->cap)
		return;
	if (cb->n >= (1u << 20))
		cb_flush(cb);
	if (cb->n + more > cb->cap) {
		size_t cap = cb->cap ? cb->cap : (2u << 20);
		while (cap < cb->n + more)
			cap *= 2;
		if (!(cb->b = realloc(cb->b, cap))) {
			fprintf(stderr, "bench_audit: out of memory\n");
			exit(1);
		}
		cb->cap = cap;
	}
}

static void cb_put(struct copybuf *cb, const char *p, size_t len)
{
	cb_room(cb, len);
	memcpy(cb->b + cb->n, p, len);
	cb->n += len;
}

/* A value of column i of the SQLite row st in COPY's text format. */
static void cb_value(struct copybuf *cb, sqlite3_stmt *st, int i)
{
	char num[40];
	switch (sqlite3_column_type(st, i)) {
	case SQLITE_NULL: cb_put(cb, "\\N", 2); return;
	case SQLITE_INTEGER: cb_put(cb, num, (size_t)snprintf(num, sizeof num, "%lld", (long long)sqlite3_column_int64(st, i))); return;
	case SQLITE_FLOAT: cb_put(cb, num, (size_t)snprintf(num, sizeof num, "%.17g", sqlite3_column_double(st, i))); return;
	case SQLITE_BLOB: {
		const unsigned char *p = sqlite3_column_blob(st, i);
		size_t len = (size_t)sqlite3_column_bytes(st, i);
		static const char hex[] = "0123456789abcdef";
		cb_room(cb, 3 + 2 * len);
		memcpy(cb->b + cb->n, "\\\\x", 3); /* bytea's \x, its backslash escaped for COPY */
		cb->n += 3;
		/* two digits a byte, no terminator: the room reserved is exactly this */
		for (size_t k = 0; k < len; k++) {
			cb->b[cb->n++] = hex[p[k] >> 4];
			cb->b[cb->n++] = hex[p[k] & 15];
		}
		return;
	}
	default: {
		const unsigned char *t = sqlite3_column_text(st, i);
		size_t len = (size_t)sqlite3_column_bytes(st, i);
		cb_room(cb, 2 * len);
		for (size_t k = 0; k < len; k++) {
			unsigned char ch = t[k];
			const char *esc = ch == '\\' ? "\\\\" : ch == '\n' ? "\\n" : ch == '\r' ? "\\r" : ch == '\t' ? "\\t" : NULL;
			if (esc) {
				cb->b[cb->n++] = esc[0];
				cb->b[cb->n++] = esc[1];
			} else {
				cb->b[cb->n++] = (char)ch;
			}
		}
	}
	}
}

/* Copies table t of the SQLite store h into c (COPY FROM STDIN); returns the rows. */
static long copy_table(sqlite3 *h, PGconn *c, const char *t)
{
	char sql[256];
	snprintf(sql, sizeof sql, "SELECT * FROM %s", t);
	sqlite3_stmt *st = prep(h, sql);
	int nc = sqlite3_column_count(st);
	struct copybuf cb = { .c = c };
	snprintf(sql, sizeof sql, "COPY %s (", t);
	cb_put(&cb, sql, strlen(sql));
	for (int i = 0; i < nc; i++) {
		cb_put(&cb, i ? ",\"" : "\"", i ? 2 : 1);
		cb_put(&cb, sqlite3_column_name(st, i), strlen(sqlite3_column_name(st, i)));
		cb_put(&cb, "\"", 1);
	}
	cb_put(&cb, ") FROM STDIN\0", 13);
	PQclear(pg_must(c, cb.b, PGRES_COPY_IN));
	cb.n = 0;
	long rows = 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		for (int i = 0; i < nc; i++) {
			if (i)
				cb_put(&cb, "\t", 1);
			cb_value(&cb, st, i);
		}
		cb_put(&cb, "\n", 1);
		rows++;
	}
	sqlite3_finalize(st);
	cb_flush(&cb);
	free(cb.b);
	if (PQputCopyEnd(c, NULL) != 1) {
		fprintf(stderr, "bench_audit: COPY %s: %s\n", t, PQerrorMessage(c));
		exit(1);
	}
	PGresult *r = PQgetResult(c);
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		fprintf(stderr, "bench_audit: COPY %s: %s\n", t, PQresultErrorMessage(r));
		exit(1);
	}
	PQclear(r);
	while ((r = PQgetResult(c)))
		PQclear(r);
	return rows;
}

/* Loads the generated fleet (the SQLite store in dir) into the empty database url: the
 * store's migrations first, then, in one transaction, each table the generator fills by
 * COPY, with its secondary indexes set aside (built again once the rows are in, as the
 * generator does on SQLite) and the change journal's triggers off; then VACUUM ANALYZE
 * (statistics for the plans, and the visibility map for index-only scans). */
static void pg_load(const char *dir, const char *url, const char *pgdir)
{
	double t0 = now_s();
	struct dd_store *store;
	if (dd_store_open_url(url, pgdir, &store)) {
		fprintf(stderr, "bench_audit: cannot create the PostgreSQL store\n");
		exit(1);
	}
	dd_store_close(store);
	char path[700];
	snprintf(path, sizeof path, "%s/iotdefender.db", dir);
	sqlite3 *h = NULL;
	if (sqlite3_open_v2(path, &h, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		fprintf(stderr, "bench_audit: cannot open %s\n", path);
		exit(1);
	}
	PGconn *c = pg_conn(url);
	pg_cmd(c, "SET maintenance_work_mem = '256MB'");
	pg_cmd(c, "BEGIN");
	char in[1024] = "";
	for (size_t i = 0; i < NCOPIED; i++)
		snprintf(in + strlen(in), sizeof in - strlen(in), "%s'%s'", i ? ", " : "", copied_tables[i]);
	char sql[2048];
	snprintf(sql, sizeof sql, "SELECT ic.relname, pg_get_indexdef(x.indexrelid) FROM pg_index x"
		 " JOIN pg_class ic ON ic.oid = x.indexrelid JOIN pg_class tc ON tc.oid = x.indrelid"
		 " WHERE tc.relname IN (%s) AND tc.relnamespace = to_regnamespace(current_schema())"
		 " AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = x.indexrelid)", in);
	PGresult *idx = pg_must(c, sql, PGRES_TUPLES_OK);
	for (int i = 0; i < PQntuples(idx); i++) {
		snprintf(sql, sizeof sql, "DROP INDEX \"%s\"", PQgetvalue(idx, i, 0));
		pg_cmd(c, sql);
	}
	long rows = 0;
	for (size_t i = 0; i < NCOPIED; i++) {
		snprintf(sql, sizeof sql, "ALTER TABLE %s DISABLE TRIGGER USER", copied_tables[i]);
		pg_cmd(c, sql);
		snprintf(sql, sizeof sql, "DELETE FROM %s", copied_tables[i]);
		pg_cmd(c, sql);
		rows += copy_table(h, c, copied_tables[i]);
		snprintf(sql, sizeof sql, "ALTER TABLE %s ENABLE TRIGGER USER", copied_tables[i]);
		pg_cmd(c, sql);
	}
	sqlite3_close(h);
	/* the events' sequence (m017) goes on after the copied values */
	PQclear(pg_must(c, "SELECT setval('connection_events_seq', coalesce(max(seq), 0) + 1, false) FROM connection_events",
			PGRES_TUPLES_OK));
	double t1 = now_s();
	for (int i = 0; i < PQntuples(idx); i++)
		pg_cmd(c, PQgetvalue(idx, i, 1));
	pg_cmd(c, "COMMIT");
	double t2 = now_s();
	for (size_t i = 0; i < NCOPIED; i++) {
		snprintf(sql, sizeof sql, "VACUUM (ANALYZE) %s", copied_tables[i]);
		pg_cmd(c, sql);
	}
	printf("PostgreSQL store loaded: %ld rows by COPY in %.1f s, %d secondary indexes built in %.1f s, VACUUM ANALYZE %.1f s\n",
	       rows, t1 - t0, PQntuples(idx), t2 - t1, now_s() - t2);
	PQclear(idx);
	PQfinish(c);
	fflush(stdout);
}

/* The fields of /proc/PID/stat after the command's closing parenthesis (the state first),
 * in buf; NULL when the process is gone. */
static const char *proc_stat_fields(pid_t pid, char *buf, size_t len)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "r");
	size_t got = f ? fread(buf, 1, len - 1, f) : 0;
	if (f)
		fclose(f);
	buf[got] = '\0';
	const char *p = strrchr(buf, ')');
	return p && p[1] == ' ' ? p + 2 : NULL;
}

/* The CPU seconds (user + system) a process and its reaped children have used: /proc. */
static double proc_cpu(pid_t pid, bool with_children)
{
	char st[1024];
	const char *p = proc_stat_fields(pid, st, sizeof st);
	unsigned long long ut = 0, stt = 0, cut = 0, cst = 0;
	if (!p || sscanf(p, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %llu %llu", &ut, &stt, &cut, &cst) != 4)
		return -1;
	return (double)(ut + stt + (with_children ? cut + cst : 0)) / (double)sysconf(_SC_CLK_TCK);
}

/* The parent of a process, from /proc; -1 when unknown. */
static pid_t proc_ppid(pid_t pid)
{
	char st[1024];
	const char *p = proc_stat_fields(pid, st, sizeof st);
	int pp = -1;
	if (!p || sscanf(p, "%*c %d", &pp) != 1)
		return -1;
	return (pid_t)pp;
}

/* The PostgreSQL server's pid (its postmaster) when it runs on this machine, else -1. */
static pid_t pg_postmaster;

/* The CPU seconds the whole server has used so far: the postmaster, the children it reaped
 * (backends that ended) and those still running; -1 when the server is not local. */
static double pg_server_cpu(void)
{
	if (pg_postmaster <= 0)
		return -1;
	double total = proc_cpu(pg_postmaster, true);
	if (total < 0)
		return -1;
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/task/%d/children", (int)pg_postmaster, (int)pg_postmaster);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	long pid;
	while (fscanf(f, "%ld", &pid) == 1) {
		double c = proc_cpu((pid_t)pid, false);
		if (c > 0)
			total += c;
	}
	fclose(f);
	return total;
}

static void pg_find_postmaster(const char *url)
{
	PGconn *c = pg_conn(url);
	PGresult *r = pg_must(c, "SELECT pg_backend_pid()", PGRES_TUPLES_OK);
	pid_t backend = (pid_t)atol(PQgetvalue(r, 0, 0));
	PQclear(r);
	/* the backend's parent, if that is a local postgres (a remote server's backend pid
	 * may name some other process here) */
	pid_t pm = proc_ppid(backend);
	char path[64], comm[64] = "";
	snprintf(path, sizeof path, "/proc/%d/comm", (int)pm);
	FILE *f = pm > 0 ? fopen(path, "r") : NULL;
	if (f) {
		if (!fgets(comm, sizeof comm, f))
			comm[0] = 0;
		fclose(f);
	}
	pg_postmaster = strncmp(comm, "postgres", 8) == 0 ? pm : -1;
	PQfinish(c);
}

/* What one audit run measured (filled by the forked process, in shared memory). */
struct runres {
	bool done, ok;
	double wall, cpu, rss_mib;      /* the auditing process: wall and CPU of the task */
	double helper_cpu, helper_rss;  /* the second instance's, when there is one */
	double server_cpu;              /* the PostgreSQL server's during the task; -1: n/a */
	double load1;                   /* the 1-minute load average at the start */
};
static struct runres *current_run;

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
	double srv0 = dd_store_url() ? pg_server_cpu() : -1; /* the server's, on PostgreSQL */
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
	double srv1 = srv0 >= 0 ? pg_server_cpu() : -1;
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
	if (srv0 >= 0 && srv1 >= 0)
		printf("devices=%ld instances=%d postgresql_server_cpu_s=%.2f\n", n, instances, srv1 - srv0);
	if (current_run) {
		current_run->done = true;
		current_run->ok = !mismatch && strcmp(json_string_value(json_object_get(desc, "taskStatus")), "COMPLETED") == 0;
		current_run->wall = wall;
		current_run->cpu = cpu;
		current_run->rss_mib = (double)ru.ru_maxrss / 1024.0;
		current_run->server_cpu = srv0 >= 0 && srv1 >= 0 ? srv1 - srv0 : -1;
	}
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

/* The peak RSS of a live process, MiB (VmHWM), or 0. */
static double proc_hwm_mib(pid_t pid)
{
	char path[64], line[256];
	snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "r");
	double kb = 0;
	while (f && fgets(line, sizeof line, f))
		if (sscanf(line, "VmHWM: %lf", &kb) == 1)
			break;
	if (f)
		fclose(f);
	return kb / 1024.0;
}

static double load1(void)
{
	double l = -1;
	FILE *f = fopen("/proc/loadavg", "r");
	if (f) {
		if (fscanf(f, "%lf", &l) != 1)
			l = -1;
		fclose(f);
	}
	return l;
}

/* One audit of the fleet of n devices by ninst instances on the store the environment
 * names (IOTDEFENDER_STORE, else the SQLite store in dir; dir is the data directory);
 * what it measured goes to *res. 0 or 1 (failed, or counts unlike the reference). */
static int audit_once(const char *dir, long n, int ninst, struct runres *res)
{
	int status = 0;
	pid_t helper = -1;
	memset(res, 0, sizeof *res);
	res->load1 = load1();
	res->server_cpu = -1;
	/* two instances share the audit's shards; one runs it unsplit (the default) */
	bool set_here = ninst == 2 && !getenv("IOTDEFENDER_AUDIT_SHARD_SIZE");
	if (set_here)
		setenv("IOTDEFENDER_AUDIT_SHARD_SIZE", "50000", 1);
	if (ninst == 2) {
		helper = fork();
		if (helper == 0)
			_exit(helper_instance(dir));
	}
	current_run = res;
	pid_t pid = fork();
	if (pid == 0)
		_exit(run_audit(dir, n, ninst));
	current_run = NULL;
	int ws = 0;
	waitpid(pid, &ws, 0);
	if (!WIFEXITED(ws) || WEXITSTATUS(ws) != 0)
		status = 1;
	if (helper > 0) {
		/* the second instance's CPU (user + system) and peak RSS, from /proc, before it goes */
		res->helper_cpu = proc_cpu(helper, false);
		res->helper_rss = proc_hwm_mib(helper);
		printf("devices=%ld instances=2 second_instance_cpu_s=%.2f second_instance_peak_rss_mib=%.0f\n", n,
		       res->helper_cpu, res->helper_rss);
		fflush(stdout);
		kill(helper, SIGKILL);
		waitpid(helper, NULL, 0);
	}
	if (set_here)
		unsetenv("IOTDEFENDER_AUDIT_SHARD_SIZE");
	if (!res->done || !res->ok)
		status = 1;
	return status;
}

/* The temporary PostgreSQL cluster of a run without BENCH_AUDIT_PG (scripts/pg_tmp.sh). */
static int pg_tmp(const char *cmd, const char *dir)
{
	char line[1200];
	snprintf(line, sizeof line, "'%s/scripts/pg_tmp.sh' %s '%s' >/dev/null", DD_SOURCE_DIR, cmd, dir);
	return system(line) == 0 ? 0 : 1;
}

#define MAXSIZES 16
enum { COL_LITE1, COL_LITE2, COL_PG1, COL_PG2, NCOL };

static void print_cell(const struct runres *r, bool pg)
{
	if (!r->done) {
		printf(" | %-31s", "-");
		return;
	}
	char cell[64];
	double cpu = r->cpu + (r->helper_cpu > 0 ? r->helper_cpu : 0);
	double rss = r->rss_mib > r->helper_rss ? r->rss_mib : r->helper_rss;
	int k = snprintf(cell, sizeof cell, "%6.1f %6.1f %5.0f", r->wall, cpu, rss);
	if (pg)
		snprintf(cell + k, sizeof cell - (size_t)k, r->server_cpu >= 0 ? " %6.1f" : "    n/a", r->server_cpu);
	printf(" | %-31s%s", cell, r->ok ? "" : " MISMATCH");
}

int main(void)
{
	const char *sizes = getenv("BENCH_AUDIT_DEVICES");
	if (!sizes)
		sizes = "100000,1000000";
	const char *backends = getenv("BENCH_AUDIT_BACKENDS");
	if (!backends || !*backends)
		backends = "sqlite,pg";
	bool want_lite = strstr(backends, "sqlite") != NULL;
	bool want_pg = strstr(backends, "pg") != NULL || strstr(backends, "postgres") != NULL;
	char base[512];
	const char *direnv = getenv("BENCH_AUDIT_DIR");
	snprintf(base, sizeof base, "%s/ddbench-audit-XXXXXX", direnv ? direnv : "/tmp");
	if (!mkdtemp(base)) {
		perror("mkdtemp");
		return 1;
	}
	dd_log_set_level(getenv("BENCH_AUDIT_VERBOSE") ? DD_LOG_DEBUG : DD_LOG_WARN);
	/* PostgreSQL: the server BENCH_AUDIT_PG names, else a temporary cluster */
	char pg_admin[1024] = "", pg_dir[600] = "";
	if (want_pg) {
		const char *u = getenv("BENCH_AUDIT_PG");
		if (u && *u) {
			snprintf(pg_admin, sizeof pg_admin, "%s", u);
		} else if (access("/usr/lib/postgresql/15/bin/initdb", X_OK) == 0) {
			snprintf(pg_dir, sizeof pg_dir, "%s/pg", base);
			char urlfile[700];
			snprintf(urlfile, sizeof urlfile, "%s/url", pg_dir);
			FILE *f = NULL;
			if (pg_tmp("start", pg_dir) == 0 && (f = fopen(urlfile, "r")) && fgets(pg_admin, sizeof pg_admin, f))
				pg_admin[strcspn(pg_admin, "\r\n")] = 0;
			if (f)
				fclose(f);
			if (!pg_admin[0])
				fprintf(stderr, "bench_audit: the temporary PostgreSQL cluster did not start\n");
		} else {
			printf("PostgreSQL: skipped (BENCH_AUDIT_PG unset and no /usr/lib/postgresql/15/bin)\n");
		}
		want_pg = pg_admin[0] != 0;
		if (want_pg) {
			pg_find_postmaster(pg_admin);
			printf("PostgreSQL: %s%s (server CPU: %s)\n", pg_dir[0] ? "a temporary cluster at " : "", pg_admin,
			       pg_postmaster > 0 ? "from /proc of the postmaster and its backends" : "not measured, not local");
		}
	}
	fflush(stdout);
	struct runres *res = mmap(NULL, sizeof(struct runres) * MAXSIZES * NCOL, PROT_READ | PROT_WRITE,
				  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (res == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	memset(res, 0, sizeof(struct runres) * MAXSIZES * NCOL);
	long size_of[MAXSIZES];
	int nsizes = 0;
	char buf[256];
	snprintf(buf, sizeof buf, "%s", sizes);
	int status = 0;
	const char *insts = getenv("BENCH_AUDIT_INSTANCES");
	if (!insts)
		insts = "1,2";
	for (char *s = buf, *next; s && *s && nsizes < MAXSIZES; s = next) {
		next = strchr(s, ',');
		if (next)
			*next++ = '\0';
		int64_t n;
		if (dd_parse_int64(s, 1, 100000000, &n)) {
			fprintf(stderr, "bench_audit: bad size %s\n", s);
			return 2;
		}
		int row = nsizes++;
		size_of[row] = (long)n;
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
		unsetenv("IOTDEFENDER_STORE");
		if (want_lite)
			for (const char *ip = insts; *ip; ip++)
				if (*ip == '1' || *ip == '2') {
					printf("-- SQLite, %c instance%s\n", *ip, *ip == '1' ? "" : "s");
					fflush(stdout);
					status |= audit_once(dir, (long)n, *ip - '0', &res[row * NCOL + (*ip == '1' ? COL_LITE1 : COL_LITE2)]);
				}
		if (want_pg) {
			char dbname[64], url[1100], sql[160], pgdata[700];
			snprintf(dbname, sizeof dbname, "ddbench_audit_%lld", (long long)n);
			url_with_db(pg_admin, dbname, url, sizeof url);
			PGconn *ac = pg_conn(pg_admin);
			snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s WITH (FORCE)", dbname);
			pg_cmd(ac, sql);
			snprintf(sql, sizeof sql, "CREATE DATABASE %s", dbname);
			pg_cmd(ac, sql);
			snprintf(pgdata, sizeof pgdata, "%s/pg-data", dir);
			mkdir(pgdata, 0700);
			pg_load(dir, url, pgdata);
			setenv("IOTDEFENDER_STORE", url, 1);
			/* the data directory's own files (server CA, secrets key) made once, before
			 * two instances could both start making them */
			struct dd_service svc;
			memset(&svc, 0, sizeof svc);
			if (dd_service_init(&svc, pgdata) == 0)
				dd_service_close(&svc);
			for (const char *ip = insts; *ip; ip++)
				if (*ip == '1' || *ip == '2') {
					printf("-- PostgreSQL, %c instance%s\n", *ip, *ip == '1' ? "" : "s");
					fflush(stdout);
					status |= audit_once(pgdata, (long)n, *ip - '0', &res[row * NCOL + (*ip == '1' ? COL_PG1 : COL_PG2)]);
				}
			unsetenv("IOTDEFENDER_STORE");
			snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s WITH (FORCE)", dbname);
			pg_cmd(ac, sql);
			PQfinish(ac);
		}
		char cmd[800];
		snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
		if (!keep && system(cmd) != 0)
			status = 1;
		if (keep) {
			snprintf(cmd, sizeof cmd, "rm -rf '%s/pg-data'", dir);
			if (system(cmd) != 0)
				status = 1;
		}
	}
	if (pg_dir[0]) {
		if (pg_tmp("stop", pg_dir))
			status = 1;
		char cmd[700];
		snprintf(cmd, sizeof cmd, "rm -rf '%s'", pg_dir);
		if (system(cmd) != 0)
			status = 1;
	}
	printf("\naudit summary: per run wall s, CPU s of the auditing process(es), peak RSS MiB (the larger process)%s;"
	       " load = 1-min load average at each run's start\n", want_pg ? ", PostgreSQL server CPU s" : "");
	printf("%9s | %-31s | %-31s | %-31s | %-31s\n", "devices", "SQLite 1 inst (wall cpu rss)", "SQLite 2 inst",
	       "PG 1 inst (wall cpu rss srv)", "PG 2 inst");
	for (int r = 0; r < nsizes; r++) {
		printf("%9ld", size_of[r]);
		for (int c = 0; c < NCOL; c++)
			print_cell(&res[r * NCOL + c], c >= COL_PG1);
		printf("   load");
		for (int c = 0; c < NCOL; c++)
			if (res[r * NCOL + c].done)
				printf(" %.2f", res[r * NCOL + c].load1);
		printf("\n");
	}
	fflush(stdout);
	munmap(res, sizeof(struct runres) * MAXSIZES * NCOL);
	rmdir(base);
	return status;
}

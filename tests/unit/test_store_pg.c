/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the PostgreSQL backend of the store (src/store/dd_store_pg.c) through the
 * backend-neutral statement interface: ?N and bare ? parameters (not inside literals),
 * NULLs and `?N IS NULL` filters, a negative LIMIT, 64-bit integers, text, blobs with zero bytes, SQLSTATE
 * class 23 as DD_STMT_CONSTRAINT, dd_db_changes, a statement stepped while another runs on
 * the same connection, one writer at a time between two stores (as two servers), the
 * snapshot shared by dd_store_begin_read_consistent, and the refusal of a database whose
 * schema is newer than the binary, two stores migrating one empty database at once, and a
 * new session after the server ended one; leases and outbox deliveries timed by the
 * database server's clock whatever the caller's clock says; claims of two servers at
 * once (FOR UPDATE SKIP LOCKED) taking different units without waiting; large scans (dd_db_stmt_scan) read through a
 * cursor in batches: more rows than a batch, statements nested in a scan, a reset before
 * the end, an error in a later batch. Each case runs on its own fresh database of the server
 * named by DD_TEST_PG_URL (or the URL in the file DD_TEST_PG_URL_FILE, as ctest's pg
 * fixture writes it); without either every case is skipped, saying so.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include <libpq-fe.h>

#include "dd/store.h"
#include "store/dd_store_int.h"
#include "store/dd_store_audit.h"
#include "store/dd_store_lease.h"
#include "store/dd_store_mitigation.h"
#include "store/dd_store_outbox.h"
#include "store/dd_store_schema.h"

struct fx {
	char dir[64];
	char admin_url[1024]; /* the server's URL as given */
	char url[1100];       /* this case's database */
	char dbname[64];
	struct dd_store *s;
	struct dd_db *db;
};

static bool base_url(char *out, size_t n)
{
	const char *u = getenv("DD_TEST_PG_URL");
	if (u && *u)
		return snprintf(out, n, "%s", u) < (int)n;
	const char *file = getenv("DD_TEST_PG_URL_FILE");
	FILE *f = file && *file ? fopen(file, "r") : NULL;
	if (!f)
		return false;
	bool ok = fgets(out, (int)n, f) != NULL;
	fclose(f);
	if (ok)
		out[strcspn(out, "\r\n")] = 0;
	return ok && *out;
}

/* url with its database name replaced by db (postgresql://auth@host:port/NAME?params). */
static void with_db(const char *url, const char *db, char *out, size_t n)
{
	const char *auth = strstr(url, "://");
	const char *path = auth ? strchr(auth + 3, '/') : NULL;
	const char *query = strchr(url, '?');
	if (!path) {
		snprintf(out, n, "%s/%s%s", url, db, "");
		return;
	}
	snprintf(out, n, "%.*s/%s%s", (int)(path - url), url, db, query ? query : "");
}

static void admin(const struct fx *f, const char *sql)
{
	PGconn *c = PQconnectdb(f->admin_url);
	assert_int_equal(PQstatus(c), CONNECTION_OK);
	PGresult *r = PQexec(c, sql);
	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		fail_msg("%s: %s", sql, PQresultErrorMessage(r));
	PQclear(r);
	PQfinish(c);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	assert_non_null(f);
	*state = f;
	if (!base_url(f->admin_url, sizeof f->admin_url))
		return 0;
	snprintf(f->dir, sizeof f->dir, "/tmp/dd_store_pg_XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	static unsigned seq;
	snprintf(f->dbname, sizeof f->dbname, "dd_unit_%ld_%u", (long)getpid(), ++seq);
	char sql[128];
	snprintf(sql, sizeof sql, "CREATE DATABASE %s", f->dbname);
	admin(f, sql);
	with_db(f->admin_url, f->dbname, f->url, sizeof f->url);
	assert_int_equal(dd_store_open_url(f->url, f->dir, &f->s), 0);
	assert_true(dd_store_is_pg(f->s));
	f->db = dd_store_db(f->s);
	assert_non_null(f->db);
	assert_int_equal(dd_db_exec(f->db, "CREATE TABLE unit_t(k BIGINT PRIMARY KEY, t TEXT, b BYTEA)"), 0);
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	if (f->s) {
		dd_store_close(f->s);
		char sql[160];
		snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s WITH (FORCE)", f->dbname);
		admin(f, sql);
	}
	if (f->dir[0]) {
		char cmd[128];
		snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
		assert_int_equal(system(cmd), 0);
	}
	free(f);
	return 0;
}

#define NEED_PG(f)                                                                                                  \
	do {                                                                                                        \
		if (!(f)->s) {                                                                                      \
			print_message("SKIP: no PostgreSQL server (set DD_TEST_PG_URL=postgresql://...)\n");       \
			skip();                                                                                     \
		}                                                                                                   \
	} while (0)

static void put(struct dd_db *db, int64_t k, const char *t)
{
	struct dd_stmt *st = dd_db_stmt(db, "INSERT INTO unit_t(k, t) VALUES (?1, ?2)");
	assert_non_null(st);
	dd_bind_int64(st, 1, k);
	dd_bind_text(st, 2, t);
	assert_int_equal(dd_step_done(st), 0);
}

static int64_t count_rows(struct dd_db *db)
{
	struct dd_stmt *st = dd_db_stmt(db, "SELECT count(*) FROM unit_t");
	assert_non_null(st);
	assert_int_equal(dd_stmt_step(st), DD_STMT_ROW);
	int64_t n = dd_col_int64(st, 0);
	dd_stmt_reset(st);
	return n;
}

static void test_params_and_nulls(void **state)
{
	struct fx *f = *state;
	NEED_PG(f);
	put(f->db, INT64_MAX, "max");
	put(f->db, INT64_MIN, NULL);
	put(f->db, 7, "seven");
	/* optional filters: NULL matches every row, a value only its own (an integer one is
	 * first bound NULL, so only the column can give it its type) */
	const char *sql = "SELECT k, t FROM unit_t WHERE (?1 IS NULL OR t = ?1) AND (?3 IS NULL OR k = ?3) AND k > ?2"
			  " ORDER BY k";
	struct dd_stmt *st = dd_db_stmt(f->db, sql);
	dd_bind_null(st, 1);
	dd_bind_int64(st, 2, INT64_MIN);
	dd_bind_null(st, 3);
	assert_int_equal(dd_stmt_step(st), DD_STMT_ROW);
	assert_int_equal(dd_col_int64(st, 0), 7);
	assert_string_equal(dd_col_text(st, 1), "seven");
	assert_int_equal(dd_stmt_step(st), DD_STMT_ROW);
	assert_true(dd_col_int64(st, 0) == INT64_MAX);
	assert_int_equal(dd_stmt_step(st), DD_STMT_DONE);
	st = dd_db_stmt(f->db, sql);
	dd_bind_text(st, 1, "max");
	dd_bind_int64(st, 2, 0);
	assert_int_equal(dd_stmt_step(st), DD_STMT_ROW);
	assert_true(dd_col_int64(st, 0) == INT64_MAX);
	assert_int_equal(dd_stmt_step(st), DD_STMT_DONE);
	st = dd_db_stmt(f->db, sql);
	dd_bind_int64(st, 2, 0);
	dd_bind_int64(st, 3, 7);
	assert_int_equal(dd_stmt_step(st), DD_STMT_ROW);
	assert_int_equal(dd_col_int64(st, 0), 7);
	assert_int_equal(dd_stmt_step(st), DD_STMT_DONE);
	/* NULL columns; a bare ? is the largest index before it + 1 (SQLite's rule); a ? inside
	 * a literal is text */
	st = dd_db_stmt(f->db, "SELECT t, '?1 ?', ?2 + 1, ? FROM unit_t WHERE k = ?1");
	dd_bind_int64(st, 1, INT64_MIN);
	dd_bind_int64(st, 2, 41);
	dd_bind_text_static(st, 3, "static");
	assert_int_equal(dd_stmt_step(st), DD_STMT_ROW);
	assert_true(dd_col_is_null(st, 0));
	assert_null(dd_col_text_or_null(st, 0));
	assert_string_equal(dd_col_text(st, 0), "");
	assert_string_equal(dd_col_text(st, 1), "?1 ?");
	assert_int_equal(dd_col_int64(st, 2), 42);
	assert_string_equal(dd_col_text(st, 3), "static");
	dd_stmt_reset(st);
	/* a comparison read as an integer is 1 or 0, as on SQLite */
	st = dd_db_stmt(f->db, "SELECT k = 7, k > 7 FROM unit_t WHERE k = 7");
	assert_int_equal(dd_stmt_step(st), DD_STMT_ROW);
	assert_int_equal(dd_col_int(st, 0), 1);
	assert_int_equal(dd_col_int(st, 1), 0);
	dd_stmt_reset(st);
}

static void test_blobs(void **state)
{
	struct fx *f = *state;
	NEED_PG(f);
	unsigned char bin[300];
	for (size_t i = 0; i < sizeof bin; i++)
		bin[i] = (unsigned char)(i * 7);
	bin[10] = 0;
	struct dd_stmt *st = dd_db_stmt(f->db, "INSERT INTO unit_t(k, b) VALUES (?1, ?2)");
	dd_bind_int64(st, 1, 1);
	dd_bind_blob(st, 2, bin, sizeof bin);
	assert_int_equal(dd_step_done(st), 0);
	st = dd_db_stmt(f->db, "INSERT INTO unit_t(k, b) VALUES (?1, ?2)");
	dd_bind_int64(st, 1, 2);
	dd_bind_blob(st, 2, NULL, 0);
	assert_int_equal(dd_step_done(st), 0);
	st = dd_db_stmt(f->db, "SELECT b FROM unit_t ORDER BY k");
	assert_int_equal(dd_stmt_step(st), DD_STMT_ROW);
	size_t n = 0;
	const unsigned char *p = dd_col_blob(st, 0, &n);
	assert_int_equal(n, sizeof bin);
	assert_memory_equal(p, bin, sizeof bin);
	assert_int_equal(dd_stmt_step(st), DD_STMT_ROW);
	p = dd_col_blob(st, 0, &n);
	assert_false(dd_col_is_null(st, 0));
	assert_int_equal(n, 0);
	assert_int_equal(dd_stmt_step(st), DD_STMT_DONE);
}

static void test_constraint_and_changes(void **state)
{
	struct fx *f = *state;
	NEED_PG(f);
	put(f->db, 1, "a");
	put(f->db, 2, "b");
	put(f->db, 3, "c");
	struct dd_stmt *st = dd_db_stmt(f->db, "INSERT INTO unit_t(k, t) VALUES (?1, ?2)");
	dd_bind_int64(st, 1, 2);
	dd_bind_text(st, 2, "again");
	assert_int_equal(dd_stmt_step(st), DD_STMT_CONSTRAINT);
	dd_stmt_reset(st);
	st = dd_db_stmt(f->db, "INSERT INTO unit_t(k, t) VALUES (?1, ?2)");
	dd_bind_int64(st, 1, 3);
	dd_bind_text(st, 2, "again");
	assert_int_equal(dd_step_done(st), DD_EEXIST);
	/* ON CONFLICT DO NOTHING changes nothing */
	st = dd_db_stmt(f->db, "INSERT INTO unit_t(k, t) VALUES (?1, 'x') ON CONFLICT DO NOTHING");
	dd_bind_int64(st, 1, 1);
	assert_int_equal(dd_step_done(st), 0);
	assert_int_equal(dd_db_changes(f->db), 0);
	st = dd_db_stmt(f->db, "UPDATE unit_t SET t = t || '!' WHERE k >= ?1");
	dd_bind_int64(st, 1, 2);
	assert_int_equal(dd_step_done(st), 0);
	assert_int_equal(dd_db_changes(f->db), 2);
	/* a SELECT leaves the count of the last change */
	assert_int_equal(count_rows(f->db), 3);
	assert_int_equal(dd_db_changes(f->db), 2);
	st = dd_db_stmt(f->db, "DELETE FROM unit_t WHERE k = ?1 RETURNING t");
	dd_bind_int64(st, 1, 3);
	assert_int_equal(dd_stmt_step(st), DD_STMT_ROW);
	assert_string_equal(dd_col_text(st, 0), "c!");
	assert_int_equal(dd_stmt_step(st), DD_STMT_DONE);
	assert_int_equal(dd_db_changes(f->db), 1);
	/* a rolled-back write transaction leaves nothing */
	assert_int_equal(dd_db_begin_write(f->db), 0);
	assert_true(dd_db_in_tx(f->db));
	put(f->db, 9, "gone");
	dd_db_rollback(f->db);
	assert_false(dd_db_in_tx(f->db));
	assert_int_equal(count_rows(f->db), 2);
}

static void test_interleaved(void **state)
{
	struct fx *f = *state;
	NEED_PG(f);
	for (int k = 1; k <= 5; k++)
		put(f->db, k, "r");
	struct dd_stmt *a = dd_db_stmt(f->db, "SELECT k FROM unit_t ORDER BY k");
	int64_t seen = 0;
	while (dd_stmt_step(a) == DD_STMT_ROW) {
		int64_t k = dd_col_int64(a, 0);
		/* another statement on the same connection between two rows of the first */
		struct dd_stmt *b = dd_db_stmt(f->db, "UPDATE unit_t SET t = 'seen' WHERE k = ?1");
		dd_bind_int64(b, 1, k);
		assert_int_equal(dd_step_done(b), 0);
		seen += k;
	}
	dd_stmt_reset(a);
	assert_int_equal(seen, 15);
	/* a negative LIMIT is none, as on SQLite */
	a = dd_db_stmt(f->db, "SELECT count(*) FROM (SELECT k FROM unit_t ORDER BY k LIMIT ?1) AS l");
	dd_bind_int64(a, 1, -1);
	assert_int_equal(dd_stmt_step(a), DD_STMT_ROW);
	assert_int_equal(dd_col_int64(a, 0), 5);
	a = dd_db_stmt(f->db, "SELECT count(*) FROM (SELECT k FROM unit_t ORDER BY k LIMIT ?1) AS l");
	dd_bind_int64(a, 1, 2);
	assert_int_equal(dd_stmt_step(a), DD_STMT_ROW);
	assert_int_equal(dd_col_int64(a, 0), 2);
	dd_stmt_reset(a);
	struct dd_stmt *st = dd_db_stmt(f->db, "SELECT count(*) FROM unit_t WHERE t = 'seen'");
	assert_int_equal(dd_stmt_step(st), DD_STMT_ROW);
	assert_int_equal(dd_col_int64(st, 0), 5);
	dd_stmt_reset(st);
}

struct writer {
	const char *url, *dir;
	int rounds;
	volatile int started, done;
};

/* Read-then-write increments of one counter in write transactions of its own store: a
 * lost update would show as a total below the sum of the rounds. */
static void *writer_main(void *arg)
{
	struct writer *w = arg;
	struct dd_store *s = NULL;
	if (dd_store_open_url(w->url, w->dir, &s))
		return NULL;
	struct dd_db *db = dd_store_db(s);
	for (int i = 0; i < w->rounds && db; i++) {
		if (dd_db_begin_write(db))
			break;
		w->started++;
		struct dd_stmt *st = dd_db_stmt(db, "SELECT t FROM unit_t WHERE k = 0");
		int64_t v = dd_stmt_step(st) == DD_STMT_ROW ? strtoll(dd_col_text(st, 0), NULL, 10) : -1000000;
		dd_stmt_reset(st);
		usleep(1000);
		char buf[32];
		snprintf(buf, sizeof buf, "%lld", (long long)(v + 1));
		st = dd_db_stmt(db, "UPDATE unit_t SET t = ?1 WHERE k = 0");
		dd_bind_text(st, 1, buf);
		if (dd_step_done(st) || dd_db_commit(db))
			break;
	}
	w->done = 1;
	dd_store_close(s);
	return NULL;
}

static void test_write_lock(void **state)
{
	struct fx *f = *state;
	NEED_PG(f);
	put(f->db, 0, "0");
	/* a writer of another store (another server) waits for this one's commit */
	assert_int_equal(dd_db_begin_write(f->db), 0);
	struct writer one = { .url = f->url, .dir = f->dir, .rounds = 1 };
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, writer_main, &one), 0);
	usleep(300000);
	assert_int_equal(one.started, 0);
	dd_db_rollback(f->db);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(one.started, 1);
	/* two stores incrementing concurrently lose no update */
	struct writer a = { .url = f->url, .dir = f->dir, .rounds = 25 };
	struct writer b = a;
	pthread_t ta, tb;
	assert_int_equal(pthread_create(&ta, NULL, writer_main, &a), 0);
	assert_int_equal(pthread_create(&tb, NULL, writer_main, &b), 0);
	assert_int_equal(pthread_join(ta, NULL), 0);
	assert_int_equal(pthread_join(tb, NULL), 0);
	struct dd_stmt *st = dd_db_stmt(f->db, "SELECT t FROM unit_t WHERE k = 0");
	assert_int_equal(dd_stmt_step(st), DD_STMT_ROW);
	assert_string_equal(dd_col_text(st, 0), "51");
	dd_stmt_reset(st);
}

static void test_consistent_snapshot(void **state)
{
	struct fx *f = *state;
	NEED_PG(f);
	put(f->db, 1, "before");
	struct dd_db *r[3];
	for (int i = 0; i < 3; i++)
		assert_non_null(r[i] = dd_store_db_private(f->s));
	assert_int_equal(dd_store_begin_read_consistent(f->s, r, 3), 0);
	/* a commit after the snapshot is seen by none of the readers */
	put(f->db, 2, "after");
	for (int i = 0; i < 3; i++) {
		assert_true(dd_db_in_tx(r[i]));
		assert_int_equal(count_rows(r[i]), 1);
	}
	for (int i = 0; i < 3; i++) {
		assert_int_equal(dd_db_commit(r[i]), 0);
		assert_int_equal(count_rows(r[i]), 2);
		dd_db_close(r[i]);
	}
	/* a read transaction keeps its snapshot too */
	struct dd_db *one = dd_store_db_private(f->s);
	assert_int_equal(dd_db_begin_read(one), 0);
	put(f->db, 3, "later");
	assert_int_equal(count_rows(one), 2);
	dd_db_rollback(one);
	assert_int_equal(count_rows(one), 3);
	dd_db_close(one);
}

static void test_newer_schema_refused(void **state)
{
	struct fx *f = *state;
	NEED_PG(f);
	/* reopening a current database migrates nothing and succeeds */
	struct dd_store *again = NULL;
	assert_int_equal(dd_store_open_url(f->url, f->dir, &again), 0);
	dd_store_close(again);
	struct dd_stmt *st = dd_db_stmt(f->db, "UPDATE dd_schema_version SET version = ?1 WHERE id = 1");
	dd_bind_int64(st, 1, dd_store_pg_nmigrations + 1);
	assert_int_equal(dd_step_done(st), 0);
	again = NULL;
	assert_int_equal(dd_store_open_url(f->url, f->dir, &again), DD_EUNSUPPORTED);
	assert_null(again);
	st = dd_db_stmt(f->db, "UPDATE dd_schema_version SET version = ?1 WHERE id = 1");
	dd_bind_int64(st, 1, dd_store_pg_nmigrations);
	assert_int_equal(dd_step_done(st), 0);
}

static void test_reconnect(void **state)
{
	struct fx *f = *state;
	NEED_PG(f);
	put(f->db, 1, "one");
	struct dd_stmt *st = dd_db_stmt(f->db, "SELECT pg_backend_pid()");
	assert_int_equal(dd_stmt_step(st), DD_STMT_ROW);
	char sql[96];
	snprintf(sql, sizeof sql, "SELECT pg_terminate_backend(%lld)", (long long)dd_col_int64(st, 0));
	dd_stmt_reset(st);
	/* the server ends this connection's session (a restart would too) */
	PGconn *c = PQconnectdb(f->url);
	assert_int_equal(PQstatus(c), CONNECTION_OK);
	PQclear(PQexec(c, sql));
	PQfinish(c);
	usleep(200000);
	/* the first statement after it fails; the connection then opens a new session and
	 * prepares its statements again */
	st = dd_db_stmt(f->db, "SELECT count(*) FROM unit_t");
	assert_int_equal(dd_stmt_step(st), DD_STMT_ERROR);
	assert_int_equal(count_rows(f->db), 1);
	put(f->db, 2, "two");
	assert_int_equal(dd_db_begin_write(f->db), 0);
	assert_int_equal(count_rows(f->db), 2);
	assert_int_equal(dd_db_commit(f->db), 0);
}

/* Rows 1..n in unit_t, t = "r<k>". */
static void fill(struct dd_db *db, int n)
{
	char sql[160];
	snprintf(sql, sizeof sql, "INSERT INTO unit_t(k, t) SELECT g, 'r' || g FROM generate_series(1, %d) AS g", n);
	assert_int_equal(dd_db_exec(db, sql), 0);
}

/* The open cursors of db's session, read on db itself (a statement nested in a scan). */
static int64_t open_cursors(struct dd_db *db)
{
	struct dd_stmt *st = dd_db_stmt(db, "SELECT count(*) FROM pg_cursors WHERE name <> ''");
	assert_non_null(st);
	assert_int_equal(dd_stmt_step(st), DD_STMT_ROW);
	int64_t n = dd_col_int64(st, 0);
	dd_stmt_reset(st);
	return n;
}

#define SCAN_SQL "SELECT k, t FROM unit_t WHERE k >= ?1 ORDER BY k"

/* A large scan inside a transaction reads its rows through a cursor, batch after batch
 * (10 000 rows: more than two batches), with other statements run between its rows; the
 * cursor is closed when the rows end. Outside a transaction the same scan is one result. */
static void test_scan_cursor(void **state)
{
	struct fx *f = *state;
	NEED_PG(f);
	fill(f->db, 10000);
	assert_int_equal(dd_db_begin_read(f->db), 0);
	struct dd_stmt *st = dd_db_stmt_scan(f->db, SCAN_SQL);
	assert_non_null(st);
	assert_int_equal(dd_bind_int64(st, 1, 1), 0);
	int64_t k = 0;
	int s;
	while ((s = dd_stmt_step(st)) == DD_STMT_ROW) {
		k++;
		assert_int_equal(dd_col_int64(st, 0), k);
		char want[24];
		snprintf(want, sizeof want, "r%lld", (long long)k);
		assert_string_equal(dd_col_text(st, 1), want);
		if (k == 1 || k == 5000 || k == 9999) {
			assert_int_equal(open_cursors(f->db), 1);
			assert_int_equal(count_rows(f->db), 10000);
		}
	}
	assert_int_equal(s, DD_STMT_DONE);
	assert_int_equal(k, 10000);
	assert_int_equal(dd_stmt_step(st), DD_STMT_DONE);
	assert_int_equal(open_cursors(f->db), 0);
	dd_stmt_reset(st);
	assert_int_equal(dd_db_commit(f->db), 0);
	/* outside a transaction: fetched at once, no cursor */
	st = dd_db_stmt_scan(f->db, SCAN_SQL);
	dd_bind_int64(st, 1, 9001);
	k = 9000;
	while ((s = dd_stmt_step(st)) == DD_STMT_ROW) {
		assert_int_equal(dd_col_int64(st, 0), ++k);
		if (k == 9001)
			assert_int_equal(open_cursors(f->db), 0);
	}
	assert_int_equal(s, DD_STMT_DONE);
	assert_int_equal(k, 10000);
	dd_stmt_reset(st);
	/* the same SQL handed out by dd_db_stmt is not a scan */
	assert_int_equal(dd_db_begin_read(f->db), 0);
	st = dd_db_stmt(f->db, SCAN_SQL);
	dd_bind_int64(st, 1, 1);
	assert_int_equal(dd_stmt_step(st), DD_STMT_ROW);
	assert_int_equal(open_cursors(f->db), 0);
	dd_stmt_reset(st);
	assert_int_equal(dd_db_commit(f->db), 0);
}

/* Inside a write transaction: a second scan run to its end and writes between the rows of
 * the first; the writes are committed, both scans read every row. */
static void test_scan_nested(void **state)
{
	struct fx *f = *state;
	NEED_PG(f);
	fill(f->db, 9000);
	assert_int_equal(dd_db_begin_write(f->db), 0);
	struct dd_stmt *a = dd_db_stmt_scan(f->db, SCAN_SQL);
	dd_bind_int64(a, 1, 1);
	int64_t n = 0, inner = 0;
	while (dd_stmt_step(a) == DD_STMT_ROW) {
		int64_t k = dd_col_int64(a, 0);
		assert_int_equal(k, ++n);
		if (k % 3000 == 0) {
			struct dd_stmt *b = dd_db_stmt_scan(f->db, "SELECT k FROM unit_t WHERE k > ?1 ORDER BY k DESC");
			dd_bind_int64(b, 1, 0);
			int64_t want = 9000;
			while (dd_stmt_step(b) == DD_STMT_ROW) {
				assert_int_equal(dd_col_int64(b, 0), want--);
				inner++;
			}
			assert_int_equal(want, 0);
			dd_stmt_reset(b);
		}
		if (k % 100 == 0) {
			struct dd_stmt *u = dd_db_stmt(f->db, "UPDATE unit_t SET t = 'seen' WHERE k = ?1");
			dd_bind_int64(u, 1, k);
			assert_int_equal(dd_step_done(u), 0);
		}
	}
	dd_stmt_reset(a);
	assert_int_equal(n, 9000);
	assert_int_equal(inner, 3 * 9000);
	assert_int_equal(dd_db_commit(f->db), 0);
	struct dd_stmt *st = dd_db_stmt(f->db, "SELECT count(*) FROM unit_t WHERE t = 'seen'");
	assert_int_equal(dd_stmt_step(st), DD_STMT_ROW);
	assert_int_equal(dd_col_int64(st, 0), 90);
	dd_stmt_reset(st);
}

/* A scan reset before its end closes its cursor and starts again from its first row; a
 * scan left open by a transaction that ended is reset in the next one without harm. */
static void test_scan_reset(void **state)
{
	struct fx *f = *state;
	NEED_PG(f);
	fill(f->db, 6000);
	assert_int_equal(dd_db_begin_read(f->db), 0);
	for (int round = 0; round < 2; round++) {
		struct dd_stmt *st = dd_db_stmt_scan(f->db, SCAN_SQL);
		dd_bind_int64(st, 1, 1);
		for (int64_t k = 1; k <= 5000; k++) {
			assert_int_equal(dd_stmt_step(st), DD_STMT_ROW);
			assert_int_equal(dd_col_int64(st, 0), k);
		}
		dd_stmt_reset(st);
		assert_int_equal(open_cursors(f->db), 0);
	}
	struct dd_stmt *st = dd_db_stmt_scan(f->db, SCAN_SQL);
	dd_bind_int64(st, 1, 10);
	assert_int_equal(dd_stmt_step(st), DD_STMT_ROW);
	assert_int_equal(dd_col_int64(st, 0), 10);
	assert_int_equal(dd_db_commit(f->db), 0); /* the cursor ends with the transaction */
	assert_int_equal(dd_db_begin_read(f->db), 0);
	dd_stmt_reset(st); /* no CLOSE of a cursor this transaction does not have */
	assert_int_equal(count_rows(f->db), 6000);
	assert_int_equal(dd_db_commit(f->db), 0);
}

/* An error in a later batch (a division by zero at row 6000) is DD_STMT_ERROR after the
 * rows before it; the transaction is then rolled back and the connection serves again. */
static void test_scan_error(void **state)
{
	struct fx *f = *state;
	NEED_PG(f);
	fill(f->db, 8000);
	assert_int_equal(dd_db_begin_read(f->db), 0);
	/* rows computed as they are fetched (the key's index), not all before a sort */
	assert_int_equal(dd_db_exec(f->db, "SET LOCAL enable_sort = off"), 0);
	struct dd_stmt *st = dd_db_stmt_scan(f->db, "SELECT k, 10 / (k - 6000) FROM unit_t WHERE k >= ?1 ORDER BY k");
	dd_bind_int64(st, 1, 1);
	int64_t rows = 0;
	int s;
	while ((s = dd_stmt_step(st)) == DD_STMT_ROW)
		assert_int_equal(dd_col_int64(st, 0), ++rows);
	assert_int_equal(s, DD_STMT_ERROR);
	assert_true(rows >= 4096 && rows < 6000);
	dd_stmt_reset(st);
	dd_db_rollback(f->db);
	assert_int_equal(count_rows(f->db), 8000);
	assert_int_equal(dd_db_begin_read(f->db), 0);
	/* a failed statement nested in a scan fails the transaction: the next batch too */
	assert_int_equal(dd_db_begin_read(f->db), 0);
	st = dd_db_stmt_scan(f->db, SCAN_SQL);
	dd_bind_int64(st, 1, 1);
	rows = 0;
	while ((s = dd_stmt_step(st)) == DD_STMT_ROW)
		if (++rows == 4000) {
			struct dd_stmt *bad = dd_db_stmt(f->db, "SELECT k / (k - k) FROM unit_t WHERE k = ?1");
			dd_bind_int64(bad, 1, 1);
			assert_int_equal(dd_stmt_step(bad), DD_STMT_ERROR);
			dd_stmt_reset(bad);
		}
	assert_int_equal(s, DD_STMT_ERROR);
	assert_int_equal(rows, 4096);
	dd_stmt_reset(st);
	dd_db_rollback(f->db);
	assert_int_equal(dd_db_begin_read(f->db), 0);
	st = dd_db_stmt_scan(f->db, SCAN_SQL);
	dd_bind_int64(st, 1, 7999);
	assert_int_equal(dd_stmt_step(st), DD_STMT_ROW);
	assert_int_equal(dd_col_int64(st, 0), 7999);
	assert_int_equal(dd_stmt_step(st), DD_STMT_ROW);
	assert_int_equal(dd_stmt_step(st), DD_STMT_DONE);
	dd_stmt_reset(st);
	assert_int_equal(dd_db_commit(f->db), 0);
}

struct opener {
	const char *url, *dir;
	int rc;
};

static void *opener_main(void *arg)
{
	struct opener *o = arg;
	struct dd_store *s = NULL;
	o->rc = dd_store_open_url(o->url, o->dir, &s);
	dd_store_close(s);
	return NULL;
}

static void test_concurrent_migration(void **state)
{
	struct fx *f = *state;
	NEED_PG(f);
	/* two servers starting together on an empty database: one migrates, both open */
	char sql[160], url[1100];
	snprintf(sql, sizeof sql, "CREATE DATABASE %s_m", f->dbname);
	admin(f, sql);
	char name[80];
	snprintf(name, sizeof name, "%s_m", f->dbname);
	with_db(f->admin_url, name, url, sizeof url);
	/* the broker's open creates nothing in a database without the schema */
	struct dd_store *none = NULL;
	assert_int_equal(setenv("IOTDEFENDER_STORE", url, 1), 0);
	assert_int_equal(dd_store_open_existing(f->dir, &none), DD_ENOTFOUND);
	assert_null(none);
	unsetenv("IOTDEFENDER_STORE");
	struct opener a = { .url = url, .dir = f->dir, .rc = -1 }, b = a;
	pthread_t ta, tb;
	assert_int_equal(pthread_create(&ta, NULL, opener_main, &a), 0);
	assert_int_equal(pthread_create(&tb, NULL, opener_main, &b), 0);
	assert_int_equal(pthread_join(ta, NULL), 0);
	assert_int_equal(pthread_join(tb, NULL), 0);
	assert_int_equal(a.rc, 0);
	assert_int_equal(b.rc, 0);
	PGconn *c = PQconnectdb(url);
	assert_int_equal(PQstatus(c), CONNECTION_OK);
	PGresult *r = PQexec(c, "SELECT version FROM dd_schema_version WHERE id = 1");
	assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
	assert_int_equal(atoi(PQgetvalue(r, 0, 0)), dd_store_pg_nmigrations);
	PQclear(r);
	PQfinish(c);
	assert_int_equal(setenv("IOTDEFENDER_STORE", url, 1), 0);
	assert_int_equal(dd_store_open_existing(f->dir, &none), 0);
	unsetenv("IOTDEFENDER_STORE");
	dd_store_close(none);
	snprintf(sql, sizeof sql, "DROP DATABASE %s_m WITH (FORCE)", f->dbname);
	admin(f, sql);
}

static void test_url_choice(void **state)
{
	(void)state;
	struct dd_store *s = NULL;
	/* only postgresql:// and postgres:// name another store than the data directory */
	assert_int_equal(dd_store_open_url("mysql://localhost/x", "/tmp", &s), DD_EINVAL);
	assert_null(s);
	/* without a store URL, an existing store is the SQLite file of the directory */
	char dir[] = "/tmp/dd_store_pg_none_XXXXXX";
	assert_non_null(mkdtemp(dir));
	unsetenv("IOTDEFENDER_STORE");
	assert_int_equal(dd_store_open_existing(dir, &s), DD_ENOTFOUND);
	assert_null(s);
	assert_int_equal(dd_store_open(dir, &s), 0);
	assert_false(dd_store_is_pg(s));
	dd_store_close(s);
	s = NULL;
	assert_int_equal(dd_store_open_existing(dir, &s), 0);
	dd_store_close(s);
	char cmd[96];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

static int64_t wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool lease(struct dd_db *db, const char *unit, const char *owner, int64_t now, int64_t lease_ms)
{
	bool got = false;
	assert_int_equal(dd_db_begin_write(db), 0);
	assert_int_equal(dd_store_lease_acquire(db, "audit", unit, owner, now, lease_ms, &got), 0);
	assert_int_equal(dd_db_commit(db), 0);
	return got;
}

static int expiry_fn(const char *unit, const char *owner, int64_t expires_ms, void *ud)
{
	(void)unit;
	(void)owner;
	*(int64_t *)ud = expires_ms;
	return 0;
}

/* The instances' clocks are skewed by an hour each way; the leases follow the server's
 * clock (this machine's, the test's "real" time). With the callers' clocks, b (an hour
 * ahead) would steal a's lease at once, and c (an hour behind) would never see b's
 * expired one. */
static void test_lease_server_clock(void **state)
{
	struct fx *f = *state;
	NEED_PG(f);
	const int64_t hour = 3600 * 1000;
	int64_t real = wall_ms();
	/* a's clock is an hour behind: its lease still runs 30 s from the server's now */
	assert_true(lease(f->db, "ar/t1", "a", real - hour, 30000));
	int64_t exp = 0;
	assert_int_equal(dd_store_lease_others(f->db, "audit", "z", real + hour, expiry_fn, &exp), 0);
	assert_true(exp >= real + 25000 && exp <= real + 40000);
	/* b's clock is an hour ahead: a's lease is live for the server, so b cannot steal it */
	assert_false(lease(f->db, "ar/t1", "b", real + hour, 30000));
	/* a's heartbeat with its slow clock keeps it live; its stop expires it */
	int64_t n = 0;
	assert_int_equal(dd_db_begin_write(f->db), 0);
	assert_int_equal(dd_store_lease_renew_owner(f->db, "a", real - hour, 30000, &n), 0);
	assert_int_equal(dd_db_commit(f->db), 0);
	assert_int_equal(n, 1);
	assert_false(lease(f->db, "ar/t1", "b", real + hour, 30000));
	assert_int_equal(dd_db_begin_write(f->db), 0);
	assert_int_equal(dd_store_lease_renew_owner(f->db, "a", real - hour, -1, &n), 0);
	assert_int_equal(dd_db_commit(f->db), 0);
	/* expired for the server: c, whose clock is an hour behind, takes it at once */
	assert_true(lease(f->db, "ar/t1", "c", real - hour, 30000));
	/* hold follows the server's clock too */
	bool held = false;
	assert_int_equal(dd_db_begin_write(f->db), 0);
	assert_int_equal(dd_store_lease_hold(f->db, "audit", "ar/t1", "c", real - hour, 60000, &held), 0);
	assert_int_equal(dd_db_commit(f->db), 0);
	assert_true(held);
	assert_int_equal(dd_store_lease_others(f->db, "audit", "z", real - hour, expiry_fn, &exp), 0);
	assert_true(exp >= real + 55000 && exp <= real + 70000);
	/* purge counts from the server's now: an hour-ahead caller purges nothing live */
	assert_int_equal(dd_db_begin_write(f->db), 0);
	assert_int_equal(dd_store_lease_purge(f->db, real + 2 * hour, 0), 0);
	assert_int_equal(dd_db_commit(f->db), 0);
	assert_false(lease(f->db, "ar/t1", "d", real, 30000));

	/* an SNS delivery in flight: its lease is the server's too */
	assert_int_equal(dd_db_exec(f->db, "INSERT INTO sns_outbox(account, topic_arn, subscription_arn, message_id, type,"
					   " protocol, endpoint, subject, body, status, next_at, created, updated) VALUES"
					   " ('111111111111', 'arn:topic', 'arn:sub', 'm1', 'Notification', 'https',"
					   " 'https://example.invalid/', NULL, 'body', 'PENDING', 0, 1, 1)"), 0);
	struct dd_store_outbox_row r;
	assert_int_equal(dd_store_outbox_claim(f->db, real - hour, 5, "a", 30000, &r), 1);
	assert_string_equal(r.message_id, "m1");
	dd_store_outbox_row_clear(&r);
	/* an instance an hour ahead neither requeues nor claims it */
	int64_t rq = -1;
	assert_int_equal(dd_store_outbox_requeue_inflight(f->db, real + hour, &rq), 0);
	assert_int_equal(rq, 0);
	assert_int_equal(dd_store_outbox_claim(f->db, real + hour, 5, "b", 30000, &r), 0);
}

static int first_ref(const char *account_region, const char *task_id, void *ud)
{
	(void)account_region;
	snprintf(ud, 64, "%s", task_id);
	return 1;
}

static void mtask(struct dd_db *db, const char *id, int64_t start)
{
	struct dd_store_mitigation_task t = { .client_token = "tok", .request_hash = "h", .target = "{}", .mapping = "{}",
					      .actions = "[]", .start_ms = start };
	snprintf(t.status, sizeof t.status, "IN_PROGRESS");
	assert_int_equal(dd_db_begin_write(db), 0);
	assert_int_equal(dd_store_mitigation_task_insert(db, "111111111111/us-east-1", id, &t), 0);
	assert_int_equal(dd_db_commit(db), 0);
}

/* Two servers claim at once: the second is given the next task, and does not wait for the
 * first's claim transaction (lock_timeout turns a wait into a failure: without SKIP LOCKED
 * it would wait for the first's row lock, without FOR UPDATE both would pick the oldest,
 * and under the writers' lock the second could not even begin). */
static void test_claims_skip_locked(void **state)
{
	struct fx *f = *state;
	NEED_PG(f);
	mtask(f->db, "mt-1", 100);
	mtask(f->db, "mt-2", 200);
	assert_int_equal(dd_store_audit_shards_insert(f->db, "111111111111/us-east-1", "at-1", 0, "", "m"), 0);
	assert_int_equal(dd_store_audit_shards_insert(f->db, "111111111111/us-east-1", "at-1", 1, "m", NULL), 0);
	struct dd_db *other = dd_store_db_private(f->s);
	assert_non_null(other);
	assert_int_equal(dd_db_exec(other, "SET lock_timeout = '3s'"), 0);
	int64_t now = wall_ms();

	assert_int_equal(dd_db_begin_claim(f->db), 0);
	char a[64] = "", b[64] = "";
	assert_int_equal(dd_store_mitigation_task_claimable(f->db, now, 1, first_ref, a), 1);
	assert_string_equal(a, "mt-1");
	assert_int_equal(dd_store_audit_claim_lock(f->db, "111111111111/us-east-1", "at-1", 0), 1);
	bool got = false;
	assert_int_equal(dd_store_lease_acquire(f->db, "mitigation", "111111111111/us-east-1/mt-1", "a", now, 30000, &got), 0);
	assert_true(got);

	/* meanwhile, on the other server */
	assert_int_equal(dd_db_begin_claim(other), 0);
	assert_int_equal(dd_store_mitigation_task_claimable(other, now, 1, first_ref, b), 1);
	assert_string_equal(b, "mt-2");
	assert_int_equal(dd_store_audit_claim_lock(other, "111111111111/us-east-1", "at-1", 0), 0);
	assert_int_equal(dd_store_audit_claim_lock(other, "111111111111/us-east-1", "at-1", 1), 1);
	assert_int_equal(dd_store_lease_acquire(other, "mitigation", "111111111111/us-east-1/mt-2", "b", now, 30000, &got), 0);
	assert_true(got);
	assert_int_equal(dd_db_commit(other), 0);
	assert_int_equal(dd_db_commit(f->db), 0);

	/* both leases live: nothing is claimable any more; once b's expires, mt-2 is */
	assert_int_equal(dd_db_begin_claim(other), 0);
	b[0] = 0;
	assert_int_equal(dd_store_mitigation_task_claimable(other, now, 5, first_ref, b), 0);
	assert_int_equal(dd_store_lease_renew_owner(other, "b", now, -1, NULL), 0);
	assert_int_equal(dd_store_mitigation_task_claimable(other, now, 5, first_ref, b), 1);
	assert_string_equal(b, "mt-2");
	dd_db_rollback(other);
	dd_db_close(other);
}

/* The heartbeat is not held up by writers: while one server's write transaction holds
 * the writers' lock and a lease row of instance a (its dd_store_lease_hold before storing
 * a result), a's heartbeat on another connection begins a claim transaction, renews a's
 * other lease and skips the locked one, at once (lock_timeout turns a wait into a failure:
 * under the writers' lock, or without SKIP LOCKED, it would wait for the writer's commit,
 * possibly past the leases' expiry). The writer's hold extends the skipped lease itself. */
static void test_heartbeat_not_held_up(void **state)
{
	struct fx *f = *state;
	NEED_PG(f);
	int64_t now = wall_ms();
	assert_true(lease(f->db, "ar/t1", "a", now, 30000));
	assert_true(lease(f->db, "ar/t2", "a", now, 30000));
	struct dd_db *other = dd_store_db_private(f->s);
	assert_non_null(other);
	assert_int_equal(dd_db_exec(other, "SET lock_timeout = '3s'"), 0);

	assert_int_equal(dd_db_begin_write(f->db), 0);
	bool held = false;
	assert_int_equal(dd_store_lease_hold(f->db, "audit", "ar/t1", "a", now, 60000, &held), 0);
	assert_true(held);

	int64_t n = -1;
	assert_int_equal(dd_db_begin_claim(other), 0);
	assert_int_equal(dd_store_lease_renew_owner(other, "a", now, 45000, &n), 0);
	assert_int_equal(dd_db_commit(other), 0);
	assert_int_equal(n, 1);
	assert_int_equal(dd_db_commit(f->db), 0);

	/* t1 carries the writer's 60 s, t2 the heartbeat's 45 s */
	int64_t exp = 0;
	assert_int_equal(dd_store_lease_peek(f->db, "audit", "ar/t1", now, (char[64]){ 0 }, 64, &exp, &held), 0);
	assert_true(held);
	assert_true(exp <= -55000 && exp >= -70000);
	char owner[64];
	assert_int_equal(dd_store_lease_peek(f->db, "audit", "ar/t2", now, owner, sizeof owner, &exp, &held), 0);
	assert_true(held);
	assert_string_equal(owner, "a");
	assert_true(exp <= -40000 && exp >= -55000);
	dd_db_close(other);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_params_and_nulls, setup, teardown),
		cmocka_unit_test_setup_teardown(test_blobs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_constraint_and_changes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_interleaved, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_lock, setup, teardown),
		cmocka_unit_test_setup_teardown(test_consistent_snapshot, setup, teardown),
		cmocka_unit_test_setup_teardown(test_newer_schema_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reconnect, setup, teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_migration, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lease_server_clock, setup, teardown),
		cmocka_unit_test_setup_teardown(test_claims_skip_locked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_heartbeat_not_held_up, setup, teardown),
		cmocka_unit_test_setup_teardown(test_scan_cursor, setup, teardown),
		cmocka_unit_test_setup_teardown(test_scan_nested, setup, teardown),
		cmocka_unit_test_setup_teardown(test_scan_reset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_scan_error, setup, teardown),
		cmocka_unit_test(test_url_choice),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

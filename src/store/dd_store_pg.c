/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The PostgreSQL backend of the store (dd_store_backend.h), on libpq. Each connection
 * caches its statements by the SQL text's address, as the SQLite backend does; a
 * statement's `?N` (and bare `?`) parameters are rewritten to `$N` once, and it is
 * prepared on its first step with the types of the values bound then: INT8 for integers
 * (so `?1 - 1` stays 64-bit) and BYTEA for blobs; text and NULL are left for the server to
 * infer from the columns (a text compared with a case-insensitive dd_nocase column must
 * become dd_nocase, dd_store_schema_pg.c), and where it cannot (`?1 IS NULL` alone) they
 * are TEXT. It is prepared again only when a non-NULL value of another type is bound. A step fetches the whole
 * result (text format) at once, so another statement may run on the connection while
 * this one's rows are read, as SQLite allows. SQLSTATE class 23 is DD_STMT_CONSTRAINT.
 *
 * A statement marked as a large scan (dd_db_stmt_scan) that reads inside a transaction
 * runs instead as a server-side cursor: its first step DECLAREs a NO SCROLL cursor for
 * the statement's text with its bindings, and rows are FETCHed FORWARD SCAN_BATCH at a
 * time, so the client holds one batch however many rows the scan reads (10 M connection
 * events for a 1 M-device audit would be gigabytes as one result). Other statements
 * still run between its rows: each FETCH is a statement of its own, not a row-by-row
 * protocol (PQsetSingleRowMode) that would own the connection until the scan ends. The
 * cursor is CLOSEd when the rows end and at reset; a cursor left by a transaction that
 * ended is gone with it (no CLOSE then: the counter txgen tells). Outside a transaction
 * (a cursor lives in one) a scan is fetched at once as any statement.
 *
 * Semantics kept from SQLite:
 * - one writer at a time across every process on the database: dd_db_begin_write is
 *   BEGIN (READ COMMITTED) + pg_advisory_xact_lock(25700, 1), held until COMMIT or
 *   ROLLBACK; every statement after the lock sees every earlier writer's commit, so a
 *   read-then-write inside a write transaction stays correct between servers. A write
 *   outside a transaction runs in its own transaction under the same lock (as SQLite's
 *   autocommit write takes the file's write lock), so the change journal's seq, taken
 *   at INSERT, follows commit order;
 * - a read transaction sees one snapshot (REPEATABLE READ READ ONLY, started at BEGIN);
 * - dd_store_begin_read_consistent gives several connections one snapshot
 *   (pg_export_snapshot on the first, SET TRANSACTION SNAPSHOT on the others);
 * - migrations follow the protocol at the top of dd_store_schema_pg.c: each step in one
 *   transaction under an advisory lock, the count in dd_schema_version, so two servers
 *   starting at once migrate once; a newer database is refused as SQLite's is.
 */
#include "store/dd_store_backend.h"
#include "dd/store.h"

#include <ctype.h>
#include <inttypes.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "store/dd_store_schema.h"

#define STMT_CACHE 512
/* rows per FETCH of a large scan (see the top of the file) */
#define SCAN_BATCH 4096

/* The writers' advisory lock: class 25700 ("dd"), object 1 (the two-key space, apart from
 * the migrations' one-key lock, dd_store_pg_lock). */
#define DD_PG_WRITE_LOCK "25700, 1"

/* PostgreSQL's built-in type oids (catalog/pg_type.h is in the server headers). */
enum { OID_BOOL = 16, OID_BYTEA = 17, OID_INT8 = 20, OID_TEXT = 25 };

enum pkind { P_NULL, P_INT, P_TEXT, P_BLOB };

struct param {
	enum pkind kind;
	Oid last_type;      /* the type of the last non-NULL value bound here (0: none yet) */
	const char *val;    /* points at num, own, or a caller's static text */
	int len;
	char num[24];
	char *own;          /* copies of text and blobs, grown, reused */
	size_t owncap;
};

struct pg_stmt {
	struct dd_stmt base;
	struct pg_db *db;
	const char *sql;    /* the caller's literal (the cache key) */
	char *text;         /* with $N parameters */
	int nparams;
	struct param *p;
	Oid *prep_types;    /* the types it was prepared with */
	const char **vals;
	int *lens, *fmts;
	bool prepared;
	char name[24];
	PGresult *res;
	int row, nrows;
	bool ran;
	bool is_write;      /* INSERT, UPDATE or DELETE (maybe under WITH) */
	unsigned char **blobs; /* unescaped bytea columns of the current row */
	int nblobs;
	bool scan;          /* marked by dd_db_stmt_scan */
	bool cursor;        /* a cursor is open (declared in transaction txgen) */
	bool cursor_end;    /* the last FETCH returned fewer than SCAN_BATCH rows */
	unsigned txgen;
};

struct stmt_slot {
	const char *sql;
	struct pg_stmt *st;
};

struct pg_db {
	struct dd_db base;
	PGconn *c;
	int64_t changes;
	unsigned nprepared;
	unsigned txgen;     /* changes when a transaction begins or ends */
	struct stmt_slot cache[STMT_CACHE];
};

struct pg_store {
	char *url;
};

#define PDB(db) ((struct pg_db *)(db))
#define PST(st) ((struct pg_stmt *)(st))

static void quiet_notices(void *arg, const char *msg)
{
	(void)arg;
	(void)msg;
}

static PGconn *pg_connect_url(const char *url)
{
	PGconn *c = PQconnectdb(url);
	if (!c || PQstatus(c) != CONNECTION_OK) {
		dd_log_error("store: cannot connect to PostgreSQL: %s", c ? PQerrorMessage(c) : "out of memory");
		PQfinish(c);
		return NULL;
	}
	PQsetNoticeProcessor(c, quiet_notices, NULL);
	PGresult *r = PQexec(c, "SET client_min_messages = warning; SET TIME ZONE 'UTC'");
	bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
	PQclear(r);
	if (!ok) {
		dd_log_error("store: PostgreSQL session settings: %s", PQerrorMessage(c));
		PQfinish(c);
		return NULL;
	}
	return c;
}

/* Runs sql (several statements allowed); 0 or DD_EIO with the server's message logged. */
static int run(PGconn *c, const char *sql, const char *what)
{
	PGresult *r = PQexec(c, sql);
	ExecStatusType s = PQresultStatus(r);
	if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK) {
		dd_log_error("store: %s: %s", what, PQresultErrorMessage(r));
		PQclear(r);
		return DD_EIO;
	}
	PQclear(r);
	return 0;
}

/* The first column of the first row of sql's result as an integer; DD_EIO on failure. */
static int query_int(PGconn *c, const char *sql, int64_t *out)
{
	PGresult *r = PQexec(c, sql);
	if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) < 1) {
		dd_log_error("store: %s: %s", sql, PQresultErrorMessage(r));
		PQclear(r);
		return DD_EIO;
	}
	*out = PQgetisnull(r, 0, 0) ? 0 : strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	return 0;
}

/* The version-table protocol of dd_store_schema_pg.c: every step in a transaction under
 * dd_store_pg_lock, the applied count in dd_schema_version, one transaction a migration. */
static int read_version(PGconn *c, int64_t *v)
{
	return query_int(c, "SELECT version FROM dd_schema_version WHERE id = 1", v);
}

/* must_exist: DD_ENOTFOUND, creating nothing, unless the database has the schema. */
static int migrate(PGconn *c, bool must_exist, int *version)
{
	int64_t v = 0;
	if (must_exist) {
		PGresult *r = PQexec(c, "SELECT to_regclass('dd_schema_version') IS NOT NULL");
		bool ok = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1;
		bool has = ok && PQgetvalue(r, 0, 0)[0] == 't';
		PQclear(r);
		if (!ok)
			return DD_EIO;
		if (!has || read_version(c, &v))
			return has ? DD_EIO : DD_ENOTFOUND;
		if (v == 0)
			return DD_ENOTFOUND;
	}
	if (run(c, "BEGIN", "migration begin") || run(c, dd_store_pg_lock, "migration lock") ||
	    run(c, dd_store_pg_version_table, "schema version table") || read_version(c, &v) ||
	    run(c, "COMMIT", "migration commit")) {
		run(c, "ROLLBACK", "migration rollback");
		return DD_EIO;
	}
	if (v > dd_store_pg_nmigrations) {
		dd__store_refuse_newer((int)v, dd_store_pg_nmigrations);
		return DD_EUNSUPPORTED;
	}
	for (int i = (int)v; i < dd_store_pg_nmigrations; i++) {
		char setv[96];
		int64_t now = 0;
		snprintf(setv, sizeof setv, "UPDATE dd_schema_version SET version = %d WHERE id = 1", i + 1);
		if (run(c, "BEGIN", "migration begin") || run(c, dd_store_pg_lock, "migration lock") ||
		    read_version(c, &now))
			goto fail;
		if (now > i) { /* another server applied it meanwhile */
			if (run(c, "COMMIT", "migration commit"))
				goto fail;
			continue;
		}
		if (run(c, dd_store_pg_migrations[i], "migration") || run(c, setv, "migration version") ||
		    run(c, "COMMIT", "migration commit"))
			goto fail;
		dd_log_info("store: applied PostgreSQL migration %d", i + 1);
		continue;
fail:
		dd_log_error("store: PostgreSQL migration %d failed", i + 1);
		run(c, "ROLLBACK", "migration rollback");
		return DD_EIO;
	}
	if (read_version(c, &v))
		return DD_EIO;
	if (v > dd_store_pg_nmigrations) {
		dd__store_refuse_newer((int)v, dd_store_pg_nmigrations);
		return DD_EUNSUPPORTED;
	}
	*version = (int)v;
	return 0;
}

static int pg_open(struct dd_store *s, const char *dir, const char *url, bool must_exist)
{
	(void)dir;
	struct pg_store *ps = calloc(1, sizeof *ps);
	if (!ps || !(ps->url = strdup(url))) {
		free(ps);
		return DD_ENOMEM;
	}
	PGconn *c = pg_connect_url(url);
	if (!c) {
		free(ps->url);
		free(ps);
		return DD_EIO;
	}
	int rc = migrate(c, must_exist, &s->version);
	PQfinish(c);
	if (rc) {
		free(ps->url);
		free(ps);
		return rc;
	}
	s->be_data = ps;
	return 0;
}

static void pg_close(struct dd_store *s)
{
	struct pg_store *ps = s->be_data;
	if (ps)
		free(ps->url);
	free(ps);
}

static struct dd_db *pg_connect(struct dd_store *s)
{
	struct pg_db *d = calloc(1, sizeof *d);
	if (!d)
		return NULL;
	d->c = pg_connect_url(((struct pg_store *)s->be_data)->url);
	if (!d->c) {
		free(d);
		return NULL;
	}
	return &d->base;
}

static void clear_blobs(struct pg_stmt *st)
{
	for (int i = 0; i < st->nblobs; i++)
		if (st->blobs[i]) {
			PQfreemem(st->blobs[i]);
			st->blobs[i] = NULL;
		}
}

/* The cursor's name: the statement's (unique on the connection) with a 'c'. */
static void cursor_name(const struct pg_stmt *st, char out[32])
{
	snprintf(out, 32, "%sc", st->name);
}

/* Closes st's cursor if its transaction is still the connection's (an ended one took the
 * cursor with it; a failed one refuses every command until its rollback). */
static void close_cursor(struct pg_stmt *st)
{
	if (!st->cursor)
		return;
	st->cursor = false;
	if (st->txgen != st->db->txgen || PQtransactionStatus(st->db->c) != PQTRANS_INTRANS)
		return;
	char sql[48], name[32];
	cursor_name(st, name);
	snprintf(sql, sizeof sql, "CLOSE %s", name);
	run(st->db->c, sql, "close cursor");
}

static void clear_result(struct pg_stmt *st)
{
	clear_blobs(st);
	PQclear(st->res);
	st->res = NULL;
	close_cursor(st);
	st->ran = false;
	st->cursor_end = false;
	st->row = st->nrows = 0;
}

static void stmt_free(struct pg_stmt *st)
{
	if (!st)
		return;
	st->cursor = false; /* the connection is closing: its cursors go with it */
	clear_result(st);
	for (int i = 0; i < st->nparams; i++)
		free(st->p[i].own);
	free(st->blobs);
	free(st->p);
	free(st->prep_types);
	free(st->vals);
	free(st->lens);
	free(st->fmts);
	free(st->text);
	free(st);
}

static void pg_disconnect(struct dd_db *db)
{
	struct pg_db *d = PDB(db);
	for (int i = 0; i < STMT_CACHE; i++)
		stmt_free(d->cache[i].st);
	PQfinish(d->c);
	free(d);
}

/* The end of the literal, quoted name or comment at sql[i], or i when none starts there. */
static size_t skip_quoted(const char *sql, size_t i, size_t n)
{
	char ch = sql[i];
	size_t j = i;
	if (ch == '\'' || ch == '"') {
		j = i + 1;
		while (j < n && sql[j] != ch)
			j++;
		return j < n ? j + 1 : n;
	}
	if (ch == '-' && i + 1 < n && sql[i + 1] == '-') {
		while (j < n && sql[j] != '\n')
			j++;
	}
	return j;
}

/* The index of the ')' closing the '(' at sql[i], or n. */
static size_t closing_paren(const char *sql, size_t i, size_t n)
{
	int depth = 0;
	for (size_t j = i; j < n;) {
		size_t k = skip_quoted(sql, j, n);
		if (k != j) {
			j = k;
			continue;
		}
		if (sql[j] == '(')
			depth++;
		else if (sql[j] == ')' && --depth == 0)
			return j;
		j++;
	}
	return n;
}

/* At sql[i] == '(': the length of a following "?N IS NULL OR " and N, else 0. */
static size_t null_filter(const char *sql, size_t i, size_t n, int *idx)
{
	static const char tail[] = " IS NULL OR ";
	size_t j = i + 1;
	if (j >= n || sql[j] != '?' || !isdigit((unsigned char)sql[j + 1]))
		return 0;
	int v = 0;
	for (j++; j < n && isdigit((unsigned char)sql[j]) && v < 1000; j++)
		v = v * 10 + (sql[j] - '0');
	if (strncmp(sql + j, tail, sizeof tail - 1) != 0)
		return 0;
	*idx = v;
	return j + sizeof tail - 1 - i;
}

struct xlate {
	const char *sql;
	char *out;
	size_t o;
	int maxp;
};

/* Translates sql[i, end) into x->out. An optional filter "(?N IS NULL OR expr)" becomes
 * "(expr OR $N IS NULL)": PostgreSQL types $N at its first use, which `IS NULL` cannot do,
 * while expr can (a column compared with it); the two are the same condition. */
static void xlate_range(struct xlate *x, size_t i, size_t end)
{
	const char *sql = x->sql;
	while (i < end) {
		size_t k = skip_quoted(sql, i, end);
		if (k != i) {
			memcpy(x->out + x->o, sql + i, k - i);
			x->o += k - i;
			i = k;
			continue;
		}
		char ch = sql[i];
		int idx;
		size_t head;
		if (ch == '(' && (head = null_filter(sql, i, end, &idx)) != 0) {
			size_t close = closing_paren(sql, i, end);
			if (close < end) {
				if (idx > x->maxp)
					x->maxp = idx;
				x->out[x->o++] = '(';
				xlate_range(x, i + head, close);
				x->o += (size_t)snprintf(x->out + x->o, 32, " OR $%d IS NULL)", idx);
				i = close + 1;
				continue;
			}
		}
		/* SQLite reads a negative LIMIT as none; PostgreSQL refuses it, and takes NULL */
		if ((ch == 'L' || ch == 'l') && strncasecmp(sql + i, "LIMIT ?", 7) == 0 && isdigit((unsigned char)sql[i + 7]) &&
		    (i == 0 || !isalnum((unsigned char)sql[i - 1]))) {
			int v = 0;
			size_t j = i + 7;
			while (j < end && isdigit((unsigned char)sql[j]) && v < 1000)
				v = v * 10 + (sql[j++] - '0');
			if (v > x->maxp)
				x->maxp = v;
			x->o += (size_t)snprintf(x->out + x->o, 64, "LIMIT CASE WHEN $%d < 0 THEN NULL ELSE $%d END", v, v);
			i = j;
			continue;
		}
		if (ch == '?') {
			int v;
			size_t j = i + 1;
			if (isdigit((unsigned char)sql[j])) {
				v = 0;
				while (isdigit((unsigned char)sql[j]) && v < 1000)
					v = v * 10 + (sql[j++] - '0');
			} else {
				v = x->maxp + 1;
			}
			if (v > x->maxp)
				x->maxp = v;
			x->o += (size_t)snprintf(x->out + x->o, 8, "$%d", v);
			i = j;
			continue;
		}
		x->out[x->o++] = sql[i++];
	}
}

/* SQLite's parameters (?N, bare ?) as PostgreSQL's $N, outside literals, quoted names and
 * comments, with optional filters reordered and LIMIT ?N taking a negative N as no limit
 * (xlate_range); *nparams is the largest index.
 * NULL on allocation failure. */
static char *translate(const char *sql, int *nparams)
{
	size_t n = strlen(sql);
	/* "?" becomes at most "$999", "LIMIT ?N" at most 52 bytes */
	struct xlate x = { .sql = sql, .out = malloc(n * 8 + 64) };
	if (!x.out)
		return NULL;
	xlate_range(&x, 0, n);
	x.out[x.o] = 0;
	*nparams = x.maxp;
	return x.out;
}

static struct pg_stmt *stmt_new(struct pg_db *d, const char *sql)
{
	struct pg_stmt *st = calloc(1, sizeof *st);
	if (!st)
		return NULL;
	st->base.be = &dd__store_pg;
	st->db = d;
	st->sql = sql;
	st->text = translate(sql, &st->nparams);
	if (st->text) {
		const char *t = st->text;
		while (isspace((unsigned char)*t))
			t++;
		st->is_write = strncasecmp(t, "INSERT", 6) == 0 || strncasecmp(t, "UPDATE", 6) == 0 ||
			       strncasecmp(t, "DELETE", 6) == 0 ||
			       (strncasecmp(t, "WITH", 4) == 0 && (strstr(t, "INSERT ") || strstr(t, "UPDATE ") ||
								     strstr(t, "DELETE ")));
	}
	int np = st->nparams > 0 ? st->nparams : 1;
	st->p = calloc((size_t)np, sizeof *st->p);
	st->prep_types = calloc((size_t)np, sizeof *st->prep_types);
	st->vals = calloc((size_t)np, sizeof *st->vals);
	st->lens = calloc((size_t)np, sizeof *st->lens);
	st->fmts = calloc((size_t)np, sizeof *st->fmts);
	if (!st->text || !st->p || !st->prep_types || !st->vals || !st->lens || !st->fmts) {
		stmt_free(st);
		return NULL;
	}
	return st;
}

static void clear_bindings(struct pg_stmt *st)
{
	for (int i = 0; i < st->nparams; i++)
		st->p[i].kind = P_NULL;
}

/* After the server went away (a restart, a failover): a new session for the connection,
 * outside a transaction only (one that was open is lost anyway, and its caller sees the
 * error); its statements are prepared again on their next step. */
static void reconnect(struct pg_db *d)
{
	if (d->base.in_tx)
		return;
	PQreset(d->c);
	if (PQstatus(d->c) != CONNECTION_OK) {
		dd_log_error("store: PostgreSQL connection lost: %s", PQerrorMessage(d->c));
		return;
	}
	d->txgen++;
	PQsetNoticeProcessor(d->c, quiet_notices, NULL);
	if (run(d->c, "SET client_min_messages = warning; SET TIME ZONE 'UTC'", "session settings"))
		return;
	for (int i = 0; i < STMT_CACHE; i++)
		if (d->cache[i].st)
			d->cache[i].st->prepared = false;
	dd_log_warn("store: reconnected to PostgreSQL");
}

static struct dd_stmt *pg_stmt(struct dd_db *db, const char *sql)
{
	struct pg_db *d = PDB(db);
	if (PQstatus(d->c) != CONNECTION_OK)
		reconnect(d);
	size_t h = ((uintptr_t)sql >> 3) % STMT_CACHE;
	for (size_t i = 0; i < STMT_CACHE; i++) {
		struct stmt_slot *slot = &d->cache[(h + i) % STMT_CACHE];
		if (slot->sql == sql) {
			clear_result(slot->st);
			clear_bindings(slot->st);
			slot->st->scan = false;
			return &slot->st->base;
		}
		if (!slot->sql) {
			slot->st = stmt_new(d, sql);
			if (!slot->st) {
				dd_log_error("store: out of memory preparing %s", sql);
				return NULL;
			}
			slot->sql = sql;
			return &slot->st->base;
		}
	}
	dd_log_error("store: statement cache full");
	return NULL;
}

static int pg_exec(struct dd_db *db, const char *sql) { return run(PDB(db)->c, sql, sql); }

static int64_t pg_changes(struct dd_db *db) { return PDB(db)->changes; }

static int pg_begin_write(struct dd_db *db)
{
	if (PQstatus(PDB(db)->c) != CONNECTION_OK)
		reconnect(PDB(db));
	PDB(db)->txgen++;
	return run(PDB(db)->c, "BEGIN ISOLATION LEVEL READ COMMITTED; SELECT pg_advisory_xact_lock(" DD_PG_WRITE_LOCK ")",
		   "begin write");
}

/* A claim: READ COMMITTED without the writers' lock (dd_db_begin_claim). Its writes are
 * claims of leases and deliveries (tables without change-journal triggers, so the
 * journal's order does not depend on it); the rows it picks are locked FOR UPDATE SKIP
 * LOCKED, the upsert of a lease waits for a concurrent writer of the same lease row and
 * then re-checks its condition on the committed row. */
static int pg_begin_claim(struct dd_db *db)
{
	if (PQstatus(PDB(db)->c) != CONNECTION_OK)
		reconnect(PDB(db));
	return run(PDB(db)->c, "BEGIN ISOLATION LEVEL READ COMMITTED", "begin claim");
}

static int pg_begin_read(struct dd_db *db)
{
	if (PQstatus(PDB(db)->c) != CONNECTION_OK)
		reconnect(PDB(db));
	PDB(db)->txgen++;
	/* the SELECT takes the snapshot now, as SQLite's read transaction touches the file */
	return run(PDB(db)->c, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SELECT 1", "begin read");
}

static void pg_rollback(struct dd_db *db)
{
	struct pg_db *d = PDB(db);
	d->txgen++;
	if (PQtransactionStatus(d->c) != PQTRANS_IDLE) {
		PGresult *r = PQexec(d->c, "ROLLBACK");
		PQclear(r);
	}
}

static int pg_begin_read_consistent(struct dd_db **dbs, int n)
{
	if (n < 1)
		return 0;
	for (int i = 0; i < n; i++)
		PDB(dbs[i])->txgen++;
	PGconn *c = PDB(dbs[0])->c;
	PGresult *r = PQexec(c, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SELECT pg_export_snapshot()");
	if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
		dd_log_error("store: export snapshot: %s", PQresultErrorMessage(r));
		PQclear(r);
		pg_rollback(dbs[0]);
		return DD_EIO;
	}
	char sql[160];
	const char *snap = PQgetvalue(r, 0, 0);
	bool safe = strlen(snap) < 64;
	for (const char *p = snap; *p && safe; p++)
		safe = isxdigit((unsigned char)*p) || *p == '-';
	snprintf(sql, sizeof sql, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SET TRANSACTION SNAPSHOT '%s'",
		 safe ? snap : "");
	PQclear(r);
	for (int i = 1; i < n; i++)
		if (!safe || run(PDB(dbs[i])->c, sql, "import snapshot")) {
			for (int k = 0; k <= i; k++)
				pg_rollback(dbs[k]);
			return DD_EIO;
		}
	return 0;
}

static int pg_commit(struct dd_db *db)
{
	PDB(db)->txgen++;
	PGresult *r = PQexec(PDB(db)->c, "COMMIT");
	/* COMMIT of a failed transaction "succeeds" with the status ROLLBACK */
	bool ok = PQresultStatus(r) == PGRES_COMMAND_OK && strcmp(PQcmdStatus(r), "COMMIT") == 0;
	if (!ok)
		dd_log_error("store: commit: %s", PQresultStatus(r) == PGRES_COMMAND_OK ? "the transaction had failed"
											: PQresultErrorMessage(r));
	PQclear(r);
	return ok ? 0 : DD_EIO;
}

static Oid kind_type(const struct param *p)
{
	switch (p->kind) {
	case P_INT: return OID_INT8;
	case P_BLOB: return OID_BYTEA;
	default: return 0;
	}
}

/* Prepares st with the types of its bindings (see the top of the file). */
static int prepare(struct pg_stmt *st)
{
	struct pg_db *d = st->db;
	Oid types[1000];
	for (int i = 0; i < st->nparams; i++) {
		Oid t = kind_type(&st->p[i]);
		types[i] = t ? t : st->p[i].last_type;
	}
	if (st->prepared) {
		bool same = true;
		for (int i = 0; i < st->nparams && same; i++)
			same = st->p[i].kind == P_NULL || types[i] == st->prep_types[i] ||
			       (st->p[i].kind == P_TEXT && st->prep_types[i] != OID_INT8 && st->prep_types[i] != OID_BYTEA);
		if (same)
			return 0;
		char dealloc[48];
		snprintf(dealloc, sizeof dealloc, "DEALLOCATE %s", st->name);
		if (PQtransactionStatus(d->c) != PQTRANS_INERROR)
			PQclear(PQexec(d->c, dealloc));
		st->prepared = false;
		for (int i = 0; i < st->nparams; i++)
			if (st->p[i].kind == P_NULL)
				types[i] = st->prep_types[i];
	}
	snprintf(st->name, sizeof st->name, "dd%u", ++d->nprepared);
	/* a failed PREPARE would abort the caller's transaction: inside one, try under a
	 * savepoint (once per statement and connection) */
	bool in_tx = PQtransactionStatus(d->c) == PQTRANS_INTRANS;
	if (in_tx && run(d->c, "SAVEPOINT dd_prepare", "savepoint"))
		return DD_EIO;
	for (int attempt = 0; attempt < 2; attempt++) {
		PGresult *r = PQprepare(d->c, st->name, st->text, st->nparams, types);
		if (PQresultStatus(r) == PGRES_COMMAND_OK) {
			PQclear(r);
			memcpy(st->prep_types, types, (size_t)st->nparams * sizeof *types);
			st->prepared = true;
			return in_tx ? run(d->c, "RELEASE SAVEPOINT dd_prepare", "release savepoint") : 0;
		}
		if (in_tx && run(d->c, "ROLLBACK TO SAVEPOINT dd_prepare", "rollback to savepoint")) {
			PQclear(r);
			return DD_EIO;
		}
		const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
		/* "could not determine data type of parameter": 42P08 (or 42P18) */
		bool retry = attempt == 0 && state && (strcmp(state, "42P08") == 0 || strcmp(state, "42P18") == 0);
		if (!retry) {
			dd_log_error("store: prepare failed: %s: %s", PQresultErrorMessage(r), st->sql);
			PQclear(r);
			return DD_EIO;
		}
		PQclear(r);
		for (int i = 0; i < st->nparams; i++)
			if (!types[i])
				types[i] = OID_TEXT;
	}
	return DD_EIO;
}

/* Room for the unescaped blobs of nf columns. */
static int blob_slots(struct pg_stmt *st, int nf)
{
	if (nf <= st->nblobs)
		return 0;
	unsigned char **b = realloc(st->blobs, (size_t)nf * sizeof *b);
	if (!b)
		return DD_ENOMEM;
	for (int i = st->nblobs; i < nf; i++)
		b[i] = NULL;
	st->blobs = b;
	st->nblobs = nf;
	return 0;
}

/* The next batch of st's cursor as its result: DD_STMT_ROW, DD_STMT_DONE (the cursor is
 * closed then) or DD_STMT_ERROR (the transaction failed, and took the cursor). */
static int fetch_batch(struct pg_stmt *st)
{
	clear_blobs(st);
	PQclear(st->res);
	st->res = NULL;
	st->row = st->nrows = 0;
	if (st->cursor_end) {
		close_cursor(st);
		return DD_STMT_DONE;
	}
	char sql[64], name[32];
	cursor_name(st, name);
	snprintf(sql, sizeof sql, "FETCH FORWARD %d FROM %s", SCAN_BATCH, name);
	PGresult *r = PQexec(st->db->c, sql);
	if (PQresultStatus(r) != PGRES_TUPLES_OK || blob_slots(st, PQnfields(r))) {
		dd_log_error("store: fetch: %s: %s", PQresultErrorMessage(r), st->sql);
		PQclear(r);
		st->cursor = false;
		st->ran = false;
		return DD_STMT_ERROR;
	}
	st->res = r;
	st->nrows = PQntuples(r);
	st->cursor_end = st->nrows < SCAN_BATCH;
	if (st->nrows == 0) {
		close_cursor(st);
		return DD_STMT_DONE;
	}
	return DD_STMT_ROW;
}

/* Opens st (a large scan, bindings in st->vals) as a cursor and fetches its first batch. */
static int declare_cursor(struct pg_stmt *st)
{
	struct pg_db *d = st->db;
	char name[32];
	cursor_name(st, name);
	size_t len = strlen(st->text) + 64;
	char *sql = malloc(len);
	if (!sql)
		return DD_STMT_ERROR;
	snprintf(sql, len, "DECLARE %s NO SCROLL CURSOR FOR %s", name, st->text);
	/* the types it was prepared with: the cursor's query is the prepared one */
	PGresult *r = PQexecParams(d->c, sql, st->nparams, st->prep_types, st->vals, st->lens, st->fmts, 0);
	free(sql);
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		dd_log_error("store: declare cursor: %s: %s", PQresultErrorMessage(r), st->sql);
		PQclear(r);
		return DD_STMT_ERROR;
	}
	PQclear(r);
	st->cursor = true;
	st->cursor_end = false;
	st->txgen = d->txgen;
	st->ran = true;
	return fetch_batch(st);
}

static int pg_step(struct dd_stmt *base)
{
	struct pg_stmt *st = PST(base);
	if (st->ran) {
		if (st->row + 1 < st->nrows) {
			st->row++;
			return DD_STMT_ROW;
		}
		if (st->cursor)
			return fetch_batch(st);
		st->row = st->nrows;
		return DD_STMT_DONE;
	}
	if (st->nparams > 1000 || prepare(st))
		return DD_STMT_ERROR;
	for (int i = 0; i < st->nparams; i++) {
		struct param *p = &st->p[i];
		st->vals[i] = p->kind == P_NULL ? NULL : p->val;
		st->lens[i] = p->len;
		st->fmts[i] = p->kind == P_BLOB;
	}
	struct pg_db *d = st->db;
	if (st->scan && !st->is_write && PQtransactionStatus(d->c) == PQTRANS_INTRANS)
		return declare_cursor(st);
	/* a write outside a transaction takes the writers' lock too, as SQLite's autocommit
	 * write takes the file's: the change journal's seq then follows commit order */
	bool own_tx = st->is_write && PQtransactionStatus(d->c) == PQTRANS_IDLE;
	if (own_tx && run(d->c, "BEGIN; SELECT pg_advisory_xact_lock(" DD_PG_WRITE_LOCK ")", "begin write"))
		return DD_STMT_ERROR;
	PGresult *r = PQexecPrepared(d->c, st->name, st->nparams, st->vals, st->lens, st->fmts, 0);
	ExecStatusType s = PQresultStatus(r);
	if (own_tx) {
		bool ok = s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK;
		if (run(d->c, ok ? "COMMIT" : "ROLLBACK", ok ? "commit" : "rollback") && ok) {
			PQclear(r);
			return DD_STMT_ERROR;
		}
	}
	if (s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK) {
		const char *tuples = PQcmdTuples(r);
		const char *cmd = PQcmdStatus(r);
		if (*tuples && (strncmp(cmd, "INSERT", 6) == 0 || strncmp(cmd, "UPDATE", 6) == 0 ||
				strncmp(cmd, "DELETE", 6) == 0 || strncmp(cmd, "MERGE", 5) == 0))
			d->changes = strtoll(tuples, NULL, 10);
		st->res = r;
		st->ran = true;
		st->row = 0;
		st->nrows = s == PGRES_TUPLES_OK ? PQntuples(r) : 0;
		if (blob_slots(st, PQnfields(r)))
			return DD_STMT_ERROR;
		return st->nrows > 0 ? DD_STMT_ROW : DD_STMT_DONE;
	}
	const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
	int rc = state && strncmp(state, "23", 2) == 0 ? DD_STMT_CONSTRAINT : DD_STMT_ERROR;
	if (rc == DD_STMT_ERROR)
		dd_log_error("store: step: %s: %s", PQresultErrorMessage(r), st->sql);
	PQclear(r);
	return rc;
}

static void pg_reset(struct dd_stmt *st) { clear_result(PST(st)); }

static void pg_mark_scan(struct dd_stmt *st) { PST(st)->scan = true; }

static struct param *param_at(struct dd_stmt *base, int idx)
{
	struct pg_stmt *st = PST(base);
	if (idx < 1 || idx > st->nparams)
		return NULL;
	return &st->p[idx - 1];
}

static int own_copy(struct param *p, const void *v, size_t n)
{
	if (n > INT32_MAX - 1)
		return 1;
	if (n + 1 > p->owncap) {
		size_t cap = n + 1 < 64 ? 64 : n + 1;
		char *b = realloc(p->own, cap);
		if (!b)
			return 1;
		p->own = b;
		p->owncap = cap;
	}
	if (n)
		memcpy(p->own, v, n);
	p->own[n] = 0;
	p->val = p->own;
	p->len = (int)n;
	return 0;
}

static int pg_bind_text(struct dd_stmt *st, int idx, const char *s, bool copy)
{
	struct param *p = param_at(st, idx);
	if (!p)
		return 1;
	if (copy) {
		if (own_copy(p, s, strlen(s)))
			return 1;
	} else {
		p->val = s;
		p->len = 0;
	}
	p->kind = P_TEXT;
	p->last_type = 0;
	return 0;
}

static int pg_bind_int64(struct dd_stmt *st, int idx, int64_t v)
{
	struct param *p = param_at(st, idx);
	if (!p)
		return 1;
	snprintf(p->num, sizeof p->num, "%" PRId64, v);
	p->val = p->num;
	p->len = 0;
	p->kind = P_INT;
	p->last_type = OID_INT8;
	return 0;
}

static int pg_bind_null(struct dd_stmt *st, int idx)
{
	struct param *p = param_at(st, idx);
	if (!p)
		return 1;
	p->kind = P_NULL;
	return 0;
}

static int pg_bind_blob(struct dd_stmt *st, int idx, const void *v, size_t n)
{
	struct param *p = param_at(st, idx);
	if (!p || own_copy(p, v ? v : "", v ? n : 0))
		return 1;
	p->kind = P_BLOB;
	p->last_type = OID_BYTEA;
	return 0;
}

static bool col_ok(struct pg_stmt *st, int idx)
{
	return st->res && st->row < st->nrows && idx >= 0 && idx < PQnfields(st->res);
}

static bool pg_col_is_null(struct dd_stmt *base, int idx)
{
	struct pg_stmt *st = PST(base);
	return !col_ok(st, idx) || PQgetisnull(st->res, st->row, idx);
}

static const char *pg_col_text(struct dd_stmt *base, int idx)
{
	struct pg_stmt *st = PST(base);
	if (pg_col_is_null(base, idx))
		return NULL;
	return PQgetvalue(st->res, st->row, idx);
}

/* Integers as SQLite reads them: booleans are 1 and 0, a number's integer part. */
static int64_t pg_col_int64(struct dd_stmt *base, int idx)
{
	const char *t = pg_col_text(base, idx);
	if (!t)
		return 0;
	if (t[0] == 't' && !t[1])
		return 1;
	if (t[0] == 'f' && !t[1])
		return 0;
	return strtoll(t, NULL, 10);
}

static const void *pg_col_blob(struct dd_stmt *base, int idx, size_t *n)
{
	struct pg_stmt *st = PST(base);
	*n = 0;
	if (pg_col_is_null(base, idx))
		return NULL;
	const char *t = PQgetvalue(st->res, st->row, idx);
	if (PQftype(st->res, idx) != OID_BYTEA) {
		*n = (size_t)PQgetlength(st->res, st->row, idx);
		return t;
	}
	if (st->blobs[idx])
		PQfreemem(st->blobs[idx]);
	st->blobs[idx] = PQunescapeBytea((const unsigned char *)t, n);
	if (!st->blobs[idx])
		*n = 0;
	return st->blobs[idx];
}

const struct dd_store_backend dd__store_pg = {
	.name = "postgresql",
	.open = pg_open,
	.close = pg_close,
	.connect = pg_connect,
	.disconnect = pg_disconnect,
	.stmt = pg_stmt,
	.mark_scan = pg_mark_scan,
	.exec = pg_exec,
	.changes = pg_changes,
	.begin_write = pg_begin_write,
	.begin_claim = pg_begin_claim,
	.row_locks = true,
	.begin_read = pg_begin_read,
	.begin_read_consistent = pg_begin_read_consistent,
	.commit = pg_commit,
	.rollback = pg_rollback,
	.step = pg_step,
	.reset = pg_reset,
	.bind_text = pg_bind_text,
	.bind_int64 = pg_bind_int64,
	.bind_null = pg_bind_null,
	.bind_blob = pg_bind_blob,
	.col_int64 = pg_col_int64,
	.col_is_null = pg_col_is_null,
	.col_text = pg_col_text,
	.col_blob = pg_col_blob,
};

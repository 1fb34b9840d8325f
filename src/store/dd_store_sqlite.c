/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The SQLite backend of the store (dd_store_backend.h): one database in WAL mode at
 * <dir>/iotdefender.db, one connection per thread, each with an open-addressing cache of
 * prepared statements keyed by the SQL text's address. Migrations are numbered SQL
 * scripts (dd_store_schema.c) applied in one transaction each, tracked by PRAGMA
 * user_version. Writers use BEGIN IMMEDIATE under the store's in-process writer mutex.
 * synchronous=NORMAL in WAL mode: a committed transaction survives a process crash; an OS
 * crash may lose the last few, never corrupt. The statement path allocates nothing.
 */
#include "store/dd_store_sqlite.h"
#include "store/dd_store_backend.h"
#include "dd/store.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "store/dd_store_schema.h"

#define STMT_CACHE 512

/* The SQLite backend's statement: the handle and its connection (for changes and errors). */
struct lite_stmt {
	struct dd_stmt base;
	sqlite3_stmt *lite;
	sqlite3 *h;
};

struct stmt_slot {
	const char *sql;
	struct lite_stmt st;
};

struct lite_db {
	struct dd_db base;
	sqlite3 *h;
	struct stmt_slot cache[STMT_CACHE];
};

#define LDB(db) ((struct lite_db *)(db))
#define LST(st) ((struct lite_stmt *)(st))

/* Before SQLite's first use in the process: no memory statistics. With them (Debian's
 * default) every allocation SQLite makes takes one process-wide mutex, which the threads of
 * the server (API, engines, pollers) then queue on: in a 100,000-certificate mitigation
 * task, a seventh of the server's CPU went to that mutex. Nothing reads the statistics. */
static pthread_once_t sqlite_once = PTHREAD_ONCE_INIT;

static void sqlite_setup(void)
{
	/* SQLITE_MISUSE when SQLite was initialized before (a program that used it directly
	 * first): it then keeps its statistics, nothing else changes */
	(void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

static int open_conn(const char *path, sqlite3 **out)
{
	pthread_once(&sqlite_once, sqlite_setup);
	sqlite3 *h = NULL;
	int rc = sqlite3_open_v2(path, &h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		dd_log_error("store: cannot open %s: %s", path, h ? sqlite3_errmsg(h) : "out of memory");
		sqlite3_close(h);
		return DD_EIO;
	}
	sqlite3_busy_timeout(h, 10000);
	/* secure_delete (Debian's default already): content deleted or overwritten is zeroed
	 * in the file, so a replaced secret leaves no trace in free space */
	const char *pragmas = "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
			      "PRAGMA temp_store=MEMORY; PRAGMA cache_size=-65536; PRAGMA secure_delete=ON;";
	char *msg = NULL;
	if (sqlite3_exec(h, pragmas, NULL, NULL, &msg) != SQLITE_OK) {
		dd_log_error("store: pragmas: %s", msg ? msg : "?");
		sqlite3_free(msg);
		sqlite3_close(h);
		return DD_EIO;
	}
	*out = h;
	return 0;
}

/* Before migrating a database that has a schema: a copy in <dir>/backups. */
static int backup_before_migrating(sqlite3 *h, const char *dir, int v)
{
	char bdir[4200], dest[4300];
	snprintf(bdir, sizeof bdir, "%s/backups", dir);
	if (mkdir(bdir, 0700) != 0 && errno != EEXIST) {
		dd_log_error("store: cannot create %s: %s", bdir, strerror(errno));
		return DD_EIO;
	}
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	snprintf(dest, sizeof dest, "%s/iotdefender-%d-%04d%02d%02dT%02d%02d%02dZ.db", bdir, v, tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
	char err[512];
	if (dd_store_backup_handle(h, dest, err, sizeof err)) {
		dd_log_error("store: backup before migrating failed: %s", err);
		return DD_EIO;
	}
	dd_log_info("store: schema %d backed up to %s before migrating to %d", v, dest, dd_store_nmigrations);
	return 0;
}

static int migrate(sqlite3 *h, const char *dir, int *version)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(h, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
		return DD_EIO;
	int v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
	sqlite3_finalize(st);
	if (v > dd_store_nmigrations) {
		dd__store_refuse_newer(v, dd_store_nmigrations);
		return DD_EUNSUPPORTED;
	}
	if (v > 0 && v < dd_store_nmigrations && backup_before_migrating(h, dir, v))
		return DD_EIO;
	/* Migrations may rebuild large tables: their sorts spill to temporary files rather
	 * than holding the whole table in memory (this connection is closed afterwards). */
	if (v < dd_store_nmigrations && sqlite3_exec(h, "PRAGMA temp_store=FILE", NULL, NULL, NULL) != SQLITE_OK)
		return DD_EIO;
	for (int i = v; i < dd_store_nmigrations; i++) {
		char *msg = NULL;
		char setv[64];
		snprintf(setv, sizeof setv, "PRAGMA user_version=%d;", i + 1);
		if (sqlite3_exec(h, "BEGIN IMMEDIATE", NULL, NULL, &msg) != SQLITE_OK ||
		    sqlite3_exec(h, dd_store_migrations[i], NULL, NULL, &msg) != SQLITE_OK ||
		    sqlite3_exec(h, setv, NULL, NULL, &msg) != SQLITE_OK ||
		    sqlite3_exec(h, "COMMIT", NULL, NULL, &msg) != SQLITE_OK) {
			dd_log_error("store: migration %d failed: %s", i + 1, msg ? msg : "?");
			sqlite3_free(msg);
			sqlite3_exec(h, "ROLLBACK", NULL, NULL, NULL);
			return DD_EIO;
		}
		dd_log_info("store: applied migration %d", i + 1);
	}
	*version = dd_store_nmigrations > v ? dd_store_nmigrations : v;
	return 0;
}

struct lite_store {
	char path[4096];
};

static int lite_open(struct dd_store *s, const char *dir, const char *url, bool must_exist)
{
	(void)url;
	struct lite_store *ls = calloc(1, sizeof *ls);
	if (!ls)
		return DD_ENOMEM;
	int n = snprintf(ls->path, sizeof ls->path, "%s/iotdefender.db", dir);
	struct stat sb;
	if (n < 0 || (size_t)n >= sizeof ls->path || (must_exist && stat(ls->path, &sb) != 0)) {
		free(ls);
		return n < 0 || (size_t)n >= sizeof ls->path ? DD_EINVAL : DD_ENOTFOUND;
	}
	/* the store holds IAM users' access-key secrets: owner only, like the credentials
	 * file (SQLite gives the -wal and -shm files the database file's mode) */
	int fd = open(ls->path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0 || fchmod(fd, 0600) != 0) {
		dd_log_error("store: cannot create %s with mode 0600", ls->path);
		if (fd >= 0)
			close(fd);
		free(ls);
		return DD_EIO;
	}
	close(fd);
	sqlite3 *h;
	if (open_conn(ls->path, &h)) {
		free(ls);
		return DD_EIO;
	}
	int rc = migrate(h, dir, &s->version);
	sqlite3_close(h);
	if (rc) {
		free(ls);
		return rc;
	}
	s->be_data = ls;
	return 0;
}

static void lite_close(struct dd_store *s) { free(s->be_data); }

static struct dd_db *lite_connect(struct dd_store *s)
{
	struct lite_db *d = calloc(1, sizeof *d);
	if (!d)
		return NULL;
	if (open_conn(((struct lite_store *)s->be_data)->path, &d->h)) {
		free(d);
		return NULL;
	}
	return &d->base;
}

static void lite_disconnect(struct dd_db *db)
{
	struct lite_db *d = LDB(db);
	for (int i = 0; i < STMT_CACHE; i++)
		if (d->cache[i].st.lite)
			sqlite3_finalize(d->cache[i].st.lite);
	if (sqlite3_close(d->h) != SQLITE_OK)
		dd_log_warn("store: close: %s", sqlite3_errmsg(d->h));
	free(d);
}

sqlite3 *dd_db_handle(struct dd_db *db) { return db->be == &dd__store_sqlite ? LDB(db)->h : NULL; }

static struct dd_stmt *lite_stmt(struct dd_db *db, const char *sql)
{
	struct lite_db *d = LDB(db);
	size_t h = ((uintptr_t)sql >> 3) % STMT_CACHE;
	for (size_t i = 0; i < STMT_CACHE; i++) {
		struct stmt_slot *slot = &d->cache[(h + i) % STMT_CACHE];
		if (slot->sql == sql) {
			sqlite3_reset(slot->st.lite);
			sqlite3_clear_bindings(slot->st.lite);
			return &slot->st.base;
		}
		if (!slot->sql) {
			if (sqlite3_prepare_v3(d->h, sql, -1, SQLITE_PREPARE_PERSISTENT, &slot->st.lite, NULL) != SQLITE_OK) {
				dd_log_error("store: prepare failed: %s: %s", sqlite3_errmsg(d->h), sql);
				slot->st.lite = NULL;
				return NULL;
			}
			slot->st.base.be = &dd__store_sqlite;
			slot->st.h = d->h;
			slot->sql = sql;
			return &slot->st.base;
		}
	}
	dd_log_error("store: statement cache full");
	return NULL;
}

static int lite_exec(struct dd_db *db, const char *sql)
{
	char *msg = NULL;
	if (sqlite3_exec(LDB(db)->h, sql, NULL, NULL, &msg) != SQLITE_OK) {
		dd_log_error("store: %s: %s", sql, msg ? msg : "?");
		sqlite3_free(msg);
		return DD_EIO;
	}
	return 0;
}

static int lite_step(struct dd_stmt *st);

static int lite_begin_write(struct dd_db *db)
{
	struct dd_stmt *st = lite_stmt(db, "BEGIN IMMEDIATE");
	if (!st || lite_step(st) != DD_STMT_DONE) {
		dd_log_error("store: begin: %s", sqlite3_errmsg(LDB(db)->h));
		if (st)
			sqlite3_reset(LST(st)->lite);
		return DD_EIO;
	}
	sqlite3_reset(LST(st)->lite);
	return 0;
}

static void lite_rollback(struct dd_db *db);

static int lite_begin_read(struct dd_db *db)
{
	struct dd_stmt *st = lite_stmt(db, "BEGIN DEFERRED");
	if (!st || lite_step(st) != DD_STMT_DONE)
		return DD_EIO;
	/* Touch the database so the read snapshot starts now. */
	st = lite_stmt(db, "SELECT count(*) FROM sqlite_schema");
	if (!st || lite_step(st) != DD_STMT_ROW) {
		lite_rollback(db);
		return DD_EIO;
	}
	sqlite3_reset(LST(st)->lite);
	return 0;
}

/* Under the store's writer mutex no writer of this process can commit between the reads'
 * starts, so the snapshots are the same (other processes do not write a server's file). */
static int lite_begin_read_consistent(struct dd_db **dbs, int n)
{
	for (int i = 0; i < n; i++)
		if (lite_begin_read(dbs[i])) {
			for (int k = 0; k < i; k++)
				lite_rollback(dbs[k]);
			return DD_EIO;
		}
	return 0;
}

static int lite_commit(struct dd_db *db)
{
	struct dd_stmt *st = lite_stmt(db, "COMMIT");
	int rc = st ? lite_step(st) : DD_STMT_ERROR;
	if (rc != DD_STMT_DONE) {
		dd_log_error("store: commit: %s", sqlite3_errmsg(LDB(db)->h));
		return DD_EIO;
	}
	sqlite3_reset(LST(st)->lite);
	return 0;
}

static void lite_rollback(struct dd_db *db)
{
	struct lite_db *d = LDB(db);
	if (!sqlite3_get_autocommit(d->h)) {
		/* reset every cached statement so none holds the transaction open */
		for (int i = 0; i < STMT_CACHE; i++)
			if (d->cache[i].st.lite)
				sqlite3_reset(d->cache[i].st.lite);
		sqlite3_exec(d->h, "ROLLBACK", NULL, NULL, NULL);
	}
}

static int64_t lite_changes(struct dd_db *db) { return sqlite3_changes64(LDB(db)->h); }

static int lite_scrub(struct dd_db *db)
{
	/* every committed page into the database file, then the log emptied: older page
	 * images left in the WAL file are gone */
	int logged = -1, done = -1;
	if (sqlite3_wal_checkpoint_v2(LDB(db)->h, NULL, SQLITE_CHECKPOINT_TRUNCATE, &logged, &done) != SQLITE_OK) {
		dd_log_warn("store: checkpoint: %s", sqlite3_errmsg(LDB(db)->h));
		return DD_EIO;
	}
	return logged == done ? 0 : DD_ECONFLICT;
}

static int lite_step(struct dd_stmt *st)
{
	int rc = sqlite3_step(LST(st)->lite);
	if (rc == SQLITE_ROW)
		return DD_STMT_ROW;
	if (rc == SQLITE_DONE)
		return DD_STMT_DONE;
	if ((rc & 0xff) == SQLITE_CONSTRAINT)
		return DD_STMT_CONSTRAINT;
	dd_log_error("store: step: %s: %s", sqlite3_errmsg(LST(st)->h), sqlite3_sql(LST(st)->lite));
	return DD_STMT_ERROR;
}

static void lite_reset(struct dd_stmt *st) { sqlite3_reset(LST(st)->lite); }

static int lite_bind_text(struct dd_stmt *st, int idx, const char *s, bool copy)
{
	return sqlite3_bind_text(LST(st)->lite, idx, s, -1, copy ? SQLITE_TRANSIENT : SQLITE_STATIC);
}

static int lite_bind_int64(struct dd_stmt *st, int idx, int64_t v) { return sqlite3_bind_int64(LST(st)->lite, idx, v); }

static int lite_bind_null(struct dd_stmt *st, int idx) { return sqlite3_bind_null(LST(st)->lite, idx); }

static int lite_bind_blob(struct dd_stmt *st, int idx, const void *p, size_t n)
{
	if (n > INT32_MAX)
		return SQLITE_TOOBIG;
	return sqlite3_bind_blob(LST(st)->lite, idx, p ? p : "", (int)n, SQLITE_TRANSIENT);
}

static int64_t lite_col_int64(struct dd_stmt *st, int idx) { return sqlite3_column_int64(LST(st)->lite, idx); }

static bool lite_col_is_null(struct dd_stmt *st, int idx)
{
	return sqlite3_column_type(LST(st)->lite, idx) == SQLITE_NULL;
}

static const char *lite_col_text(struct dd_stmt *st, int idx)
{
	return (const char *)sqlite3_column_text(LST(st)->lite, idx);
}

static const void *lite_col_blob(struct dd_stmt *st, int idx, size_t *n)
{
	const void *p = sqlite3_column_blob(LST(st)->lite, idx);
	*n = (size_t)sqlite3_column_bytes(LST(st)->lite, idx);
	return p;
}

const struct dd_store_backend dd__store_sqlite = {
	.name = "sqlite",
	.open = lite_open,
	.close = lite_close,
	.connect = lite_connect,
	.disconnect = lite_disconnect,
	.stmt = lite_stmt,
	.exec = lite_exec,
	.changes = lite_changes,
	.scrub = lite_scrub,
	.begin_write = lite_begin_write,
	.begin_read = lite_begin_read,
	.begin_read_consistent = lite_begin_read_consistent,
	.commit = lite_commit,
	.rollback = lite_rollback,
	.step = lite_step,
	.reset = lite_reset,
	.bind_text = lite_bind_text,
	.bind_int64 = lite_bind_int64,
	.bind_null = lite_bind_null,
	.bind_blob = lite_bind_blob,
	.col_int64 = lite_col_int64,
	.col_is_null = lite_col_is_null,
	.col_text = lite_col_text,
	.col_blob = lite_col_blob,
};

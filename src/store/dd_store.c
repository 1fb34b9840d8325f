/* SPDX-License-Identifier: Apache-2.0 */
/*
 * SQLite store. Connections are per thread, registered with their store so dd_store_close
 * can finalize them all; each keeps an open-addressing cache of prepared statements.
 * Migrations are numbered SQL scripts (dd_store_schema.c) applied in one transaction each,
 * tracked by PRAGMA user_version. synchronous=NORMAL in WAL mode: a committed transaction
 * survives a process crash; an OS crash may lose the last few, never corrupt.
 */
#include "store/dd_store_sqlite.h"
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

#include "dd/metrics.h"
#include "store/dd_store_schema.h"

#define STMT_CACHE 512

/* The SQLite backend's statement: the handle and its connection (for changes and errors). */
struct dd_stmt {
	sqlite3_stmt *lite;
	sqlite3 *h;
};

struct stmt_slot {
	const char *sql;
	struct dd_stmt st;
};

struct dd_db {
	sqlite3 *h;
	struct dd_store *owner;
	struct dd_db *next;
	bool in_tx;
	bool holds_write_lock;
	struct timespec write_since; /* when the write lock was taken (metrics) */
	struct stmt_slot cache[STMT_CACHE];
};

struct dd_store {
	char path[4096];
	pthread_mutex_t lock;
	/* One writer at a time inside the process: waiting on a mutex is cheaper than
	 * SQLite's busy handler, which sleeps. Held from BEGIN IMMEDIATE to COMMIT/ROLLBACK. */
	pthread_mutex_t write_lock;
	struct dd_db *conns;
	int version;
	unsigned generation;
};

static __thread struct dd_db *tls_db;
static __thread unsigned tls_generation;
static unsigned store_generation_counter;
static pthread_mutex_t gen_lock = PTHREAD_MUTEX_INITIALIZER;

static int open_conn(const char *path, sqlite3 **out)
{
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
		dd_log_error("store: the database schema version is %d, newer than this binary's %d: it was "
			     "written by a newer iotdefender; run that version, or restore a backup made for "
			     "schema %d or older", v, dd_store_nmigrations, dd_store_nmigrations);
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

int dd_store_open(const char *dir, struct dd_store **out)
{
	struct dd_store *s = calloc(1, sizeof *s);
	if (!s)
		return DD_ENOMEM;
	if (mkdir(dir, 0700) != 0) {
		struct stat sb;
		if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
			dd_log_error("store: cannot create data directory %s", dir);
			free(s);
			return DD_EIO;
		}
	}
	int n = snprintf(s->path, sizeof s->path, "%s/iotdefender.db", dir);
	if (n < 0 || (size_t)n >= sizeof s->path) {
		free(s);
		return DD_EINVAL;
	}
	/* the store holds IAM users' access-key secrets: owner only, like the credentials
	 * file (SQLite gives the -wal and -shm files the database file's mode) */
	int fd = open(s->path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0 || fchmod(fd, 0600) != 0) {
		dd_log_error("store: cannot create %s with mode 0600", s->path);
		if (fd >= 0)
			close(fd);
		free(s);
		return DD_EIO;
	}
	close(fd);
	pthread_mutex_init(&s->lock, NULL);
	pthread_mutex_init(&s->write_lock, NULL);
	pthread_mutex_lock(&gen_lock);
	s->generation = ++store_generation_counter;
	pthread_mutex_unlock(&gen_lock);
	sqlite3 *h;
	if (open_conn(s->path, &h)) {
		free(s);
		return DD_EIO;
	}
	int rc = migrate(h, dir, &s->version);
	sqlite3_close(h);
	if (rc) {
		free(s);
		return rc;
	}
	*out = s;
	return 0;
}


void dd_store_close(struct dd_store *s)
{
	if (!s)
		return;
	pthread_mutex_lock(&s->lock);
	struct dd_db *d = s->conns;
	while (d) {
		struct dd_db *next = d->next;
		for (int i = 0; i < STMT_CACHE; i++)
			if (d->cache[i].st.lite)
				sqlite3_finalize(d->cache[i].st.lite);
		if (sqlite3_close(d->h) != SQLITE_OK)
			dd_log_warn("store: close: %s", sqlite3_errmsg(d->h));
		if (d == tls_db)
			tls_db = NULL;
		free(d);
		d = next;
	}
	s->conns = NULL;
	pthread_mutex_unlock(&s->lock);
	pthread_mutex_destroy(&s->lock);
	pthread_mutex_destroy(&s->write_lock);
	free(s);
}

struct dd_db *dd_store_db(struct dd_store *s)
{
	if (tls_db && tls_db->owner == s && tls_generation == s->generation)
		return tls_db;
	struct dd_db *d = calloc(1, sizeof *d);
	if (!d)
		return NULL;
	if (open_conn(s->path, &d->h)) {
		free(d);
		return NULL;
	}
	d->owner = s;
	pthread_mutex_lock(&s->lock);
	d->next = s->conns;
	s->conns = d;
	pthread_mutex_unlock(&s->lock);
	tls_db = d;
	tls_generation = s->generation;
	return d;
}

struct dd_db *dd_store_db_private(struct dd_store *s)
{
	struct dd_db *d = calloc(1, sizeof *d);
	if (!d)
		return NULL;
	if (open_conn(s->path, &d->h)) {
		free(d);
		return NULL;
	}
	d->owner = s;
	return d;
}

void dd_db_close(struct dd_db *db)
{
	if (!db)
		return;
	if (db->in_tx)
		dd_db_rollback(db);
	for (int i = 0; i < STMT_CACHE; i++)
		if (db->cache[i].st.lite)
			sqlite3_finalize(db->cache[i].st.lite);
	sqlite3_close(db->h);
	free(db);
}

sqlite3 *dd_db_handle(struct dd_db *db) { return db->h; }

struct dd_stmt *dd_db_stmt(struct dd_db *db, const char *sql)
{
	size_t h = ((uintptr_t)sql >> 3) % STMT_CACHE;
	for (size_t i = 0; i < STMT_CACHE; i++) {
		struct stmt_slot *slot = &db->cache[(h + i) % STMT_CACHE];
		if (slot->sql == sql) {
			sqlite3_reset(slot->st.lite);
			sqlite3_clear_bindings(slot->st.lite);
			return &slot->st;
		}
		if (!slot->sql) {
			if (sqlite3_prepare_v3(db->h, sql, -1, SQLITE_PREPARE_PERSISTENT, &slot->st.lite, NULL) != SQLITE_OK) {
				dd_log_error("store: prepare failed: %s: %s", sqlite3_errmsg(db->h), sql);
				slot->st.lite = NULL;
				return NULL;
			}
			slot->st.h = db->h;
			slot->sql = sql;
			return &slot->st;
		}
	}
	dd_log_error("store: statement cache full");
	return NULL;
}

int dd_db_scrub(struct dd_db *db)
{
	if (db->in_tx)
		return DD_EINVAL;
	/* every committed page into the database file, then the log emptied: older page
	 * images left in the WAL file are gone */
	int logged = -1, done = -1;
	if (sqlite3_wal_checkpoint_v2(db->h, NULL, SQLITE_CHECKPOINT_TRUNCATE, &logged, &done) != SQLITE_OK) {
		dd_log_warn("store: checkpoint: %s", sqlite3_errmsg(db->h));
		return DD_EIO;
	}
	return logged == done ? 0 : DD_ECONFLICT;
}

int dd_db_exec(struct dd_db *db, const char *sql)
{
	char *msg = NULL;
	if (sqlite3_exec(db->h, sql, NULL, NULL, &msg) != SQLITE_OK) {
		dd_log_error("store: %s: %s", sql, msg ? msg : "?");
		sqlite3_free(msg);
		return DD_EIO;
	}
	return 0;
}

static void release_write_lock(struct dd_db *db)
{
	if (db->holds_write_lock) {
		db->holds_write_lock = false;
		struct timespec now;
		clock_gettime(CLOCK_MONOTONIC, &now);
		dd_metrics_tx((int64_t)(now.tv_sec - db->write_since.tv_sec) * 1000000 +
			      (now.tv_nsec - db->write_since.tv_nsec) / 1000);
		pthread_mutex_unlock(&db->owner->write_lock);
	}
}

int dd_db_begin_write(struct dd_db *db)
{
	pthread_mutex_lock(&db->owner->write_lock);
	db->holds_write_lock = true;
	clock_gettime(CLOCK_MONOTONIC, &db->write_since);
	struct dd_stmt *st = dd_db_stmt(db, "BEGIN IMMEDIATE");
	if (!st || dd_stmt_step(st) != DD_STMT_DONE) {
		dd_log_error("store: begin: %s", sqlite3_errmsg(db->h));
		if (st)
			dd_stmt_reset(st);
		release_write_lock(db);
		return DD_EIO;
	}
	dd_stmt_reset(st);
	db->in_tx = true;
	return 0;
}

int dd_db_begin_read(struct dd_db *db)
{
	struct dd_stmt *st = dd_db_stmt(db, "BEGIN DEFERRED");
	if (!st || dd_stmt_step(st) != DD_STMT_DONE)
		return DD_EIO;
	/* Touch the database so the read snapshot starts now. */
	st = dd_db_stmt(db, "SELECT count(*) FROM sqlite_schema");
	if (!st || dd_stmt_step(st) != DD_STMT_ROW) {
		dd_db_rollback(db);
		return DD_EIO;
	}
	dd_stmt_reset(st);
	db->in_tx = true;
	return 0;
}

int dd_store_begin_read_consistent(struct dd_store *s, struct dd_db **dbs, int n)
{
	pthread_mutex_lock(&s->write_lock);
	int rc = 0, i;
	for (i = 0; i < n && !rc; i++)
		rc = dd_db_begin_read(dbs[i]);
	pthread_mutex_unlock(&s->write_lock);
	if (rc)
		for (int k = 0; k < i - 1; k++)
			dd_db_rollback(dbs[k]);
	return rc;
}

int dd_db_commit(struct dd_db *db)
{
	struct dd_stmt *st = dd_db_stmt(db, "COMMIT");
	int rc = st ? dd_stmt_step(st) : DD_STMT_ERROR;
	if (rc != DD_STMT_DONE) {
		dd_log_error("store: commit: %s", sqlite3_errmsg(db->h));
		dd_db_rollback(db);
		return DD_EIO;
	}
	dd_stmt_reset(st);
	db->in_tx = false;
	release_write_lock(db);
	return 0;
}

void dd_db_rollback(struct dd_db *db)
{
	if (!sqlite3_get_autocommit(db->h)) {
		/* reset every cached statement so none holds the transaction open */
		for (int i = 0; i < STMT_CACHE; i++)
			if (db->cache[i].st.lite)
				sqlite3_reset(db->cache[i].st.lite);
		sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL);
	}
	db->in_tx = false;
	release_write_lock(db);
}

bool dd_db_in_tx(struct dd_db *db) { return db->in_tx; }

int64_t dd_db_changes(struct dd_db *db) { return sqlite3_changes64(db->h); }

int dd_stmt_step(struct dd_stmt *st)
{
	int rc = sqlite3_step(st->lite);
	if (rc == SQLITE_ROW)
		return DD_STMT_ROW;
	if (rc == SQLITE_DONE)
		return DD_STMT_DONE;
	if ((rc & 0xff) == SQLITE_CONSTRAINT)
		return DD_STMT_CONSTRAINT;
	dd_log_error("store: step: %s: %s", sqlite3_errmsg(st->h), sqlite3_sql(st->lite));
	return DD_STMT_ERROR;
}

void dd_stmt_reset(struct dd_stmt *st) { sqlite3_reset(st->lite); }

int dd_bind_text(struct dd_stmt *st, int idx, const char *s)
{
	if (!s)
		return sqlite3_bind_null(st->lite, idx);
	return sqlite3_bind_text(st->lite, idx, s, -1, SQLITE_TRANSIENT);
}

int dd_bind_text_static(struct dd_stmt *st, int idx, const char *s)
{
	if (!s)
		return sqlite3_bind_null(st->lite, idx);
	return sqlite3_bind_text(st->lite, idx, s, -1, SQLITE_STATIC);
}

int dd_bind_int64(struct dd_stmt *st, int idx, int64_t v) { return sqlite3_bind_int64(st->lite, idx, v); }

int dd_bind_null(struct dd_stmt *st, int idx) { return sqlite3_bind_null(st->lite, idx); }

int dd_bind_blob(struct dd_stmt *st, int idx, const void *p, size_t n)
{
	if (n > INT32_MAX)
		return SQLITE_TOOBIG;
	return sqlite3_bind_blob(st->lite, idx, p ? p : "", (int)n, SQLITE_TRANSIENT);
}

int64_t dd_col_int64(struct dd_stmt *st, int idx) { return sqlite3_column_int64(st->lite, idx); }

int dd_col_int(struct dd_stmt *st, int idx) { return sqlite3_column_int(st->lite, idx); }

bool dd_col_is_null(struct dd_stmt *st, int idx) { return sqlite3_column_type(st->lite, idx) == SQLITE_NULL; }

const char *dd_col_text(struct dd_stmt *st, int idx)
{
	const unsigned char *t = sqlite3_column_text(st->lite, idx);
	return t ? (const char *)t : "";
}

const char *dd_col_text_or_null(struct dd_stmt *st, int idx)
{
	return (const char *)sqlite3_column_text(st->lite, idx);
}

const void *dd_col_blob(struct dd_stmt *st, int idx, size_t *n)
{
	const void *p = sqlite3_column_blob(st->lite, idx);
	*n = (size_t)sqlite3_column_bytes(st->lite, idx);
	return p;
}

int dd_step_done(struct dd_stmt *st)
{
	int rc = dd_stmt_step(st);
	if (rc != DD_STMT_DONE && rc != DD_STMT_ROW) {
		dd_stmt_reset(st);
		return rc == DD_STMT_CONSTRAINT ? DD_EEXIST : DD_EIO;
	}
	dd_stmt_reset(st);
	return 0;
}

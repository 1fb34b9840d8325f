/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The store's generic part: which backend a store uses (SQLite in the data directory by
 * default; PostgreSQL when the store is a postgresql:// or postgres:// URL, given with
 * `serve --store` or IOTDEFENDER_STORE), the per-thread connections registered with their
 * store so dd_store_close can close them all, one writer at a time inside the process,
 * the transaction flags and metrics, and the statement interface of dd_store_int.h, each
 * call dispatched to the backend (dd_store_backend.h) with one indirect call.
 */
#include "store/dd_store_backend.h"
#include "dd/store.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "dd/metrics.h"

static __thread struct dd_db *tls_db;
static __thread unsigned tls_generation;
static unsigned store_generation_counter;
static pthread_mutex_t gen_lock = PTHREAD_MUTEX_INITIALIZER;

bool dd__store_url_is_pg(const char *url)
{
	return url && (strncasecmp(url, "postgresql://", 13) == 0 || strncasecmp(url, "postgres://", 11) == 0);
}

void dd__store_refuse_newer(int v, int binary)
{
	dd_log_error("store: the database schema version is %d, newer than this binary's %d: it was "
		     "written by a newer iotdefender; run that version, or restore a backup made for "
		     "schema %d or older", v, binary, binary);
}

const char *dd_store_url(void)
{
	const char *u = getenv("IOTDEFENDER_STORE");
	return u && *u ? u : NULL;
}

bool dd_store_is_pg(const struct dd_store *s) { return s && s->be == &dd__store_pg; }

static int open_store(const char *url, const char *dir, bool must_exist, struct dd_store **out)
{
	const struct dd_store_backend *be = &dd__store_sqlite;
	if (url && *url) {
		if (!dd__store_url_is_pg(url)) {
			/* only the scheme: the rest may hold a password */
			const char *colon = strchr(url, ':');
			dd_log_error("store: unsupported store scheme '%.*s': give a postgresql:// or postgres:// URL, or "
				     "no store for SQLite in the data directory", colon && colon - url < 32 ? (int)(colon - url) : 0,
				     url);
			return DD_EINVAL;
		}
		be = &dd__store_pg;
	}
	if (mkdir(dir, 0700) != 0) {
		struct stat sb;
		if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
			dd_log_error("store: cannot create data directory %s", dir);
			return DD_EIO;
		}
	}
	struct dd_store *s = calloc(1, sizeof *s);
	if (!s)
		return DD_ENOMEM;
	s->be = be;
	pthread_mutex_init(&s->lock, NULL);
	pthread_mutex_init(&s->write_lock, NULL);
	pthread_mutex_lock(&gen_lock);
	s->generation = ++store_generation_counter;
	pthread_mutex_unlock(&gen_lock);
	int rc = be->open(s, dir, url, must_exist);
	if (rc) {
		pthread_mutex_destroy(&s->lock);
		pthread_mutex_destroy(&s->write_lock);
		free(s);
		return rc;
	}
	*out = s;
	return 0;
}

int dd_store_open_url(const char *url, const char *dir, struct dd_store **out)
{
	return open_store(url, dir, false, out);
}

int dd_store_open(const char *dir, struct dd_store **out) { return open_store(dd_store_url(), dir, false, out); }

int dd_store_open_existing(const char *dir, struct dd_store **out)
{
	return open_store(dd_store_url(), dir, true, out);
}

void dd_store_close(struct dd_store *s)
{
	if (!s)
		return;
	pthread_mutex_lock(&s->lock);
	struct dd_db *d = s->conns;
	while (d) {
		struct dd_db *next = d->next;
		if (d == tls_db)
			tls_db = NULL;
		s->be->disconnect(d);
		d = next;
	}
	s->conns = NULL;
	pthread_mutex_unlock(&s->lock);
	s->be->close(s);
	pthread_mutex_destroy(&s->lock);
	pthread_mutex_destroy(&s->write_lock);
	free(s);
}

static struct dd_db *connect_db(struct dd_store *s)
{
	struct dd_db *d = s->be->connect(s);
	if (!d)
		return NULL;
	d->be = s->be;
	d->owner = s;
	return d;
}

struct dd_db *dd_store_db(struct dd_store *s)
{
	if (tls_db && tls_db->owner == s && tls_generation == s->generation)
		return tls_db;
	struct dd_db *d = connect_db(s);
	if (!d)
		return NULL;
	pthread_mutex_lock(&s->lock);
	d->next = s->conns;
	s->conns = d;
	pthread_mutex_unlock(&s->lock);
	tls_db = d;
	tls_generation = s->generation;
	return d;
}

struct dd_db *dd_store_db_private(struct dd_store *s) { return connect_db(s); }

void dd_db_close(struct dd_db *db)
{
	if (!db)
		return;
	if (db->in_tx)
		dd_db_rollback(db);
	db->be->disconnect(db);
}

struct dd_stmt *dd_db_stmt(struct dd_db *db, const char *sql) { return db->be->stmt(db, sql); }

struct dd_stmt *dd_db_stmt_scan(struct dd_db *db, const char *sql)
{
	struct dd_stmt *st = db->be->stmt(db, sql);
	if (st && db->be->mark_scan)
		db->be->mark_scan(st);
	return st;
}

int dd_db_exec(struct dd_db *db, const char *sql) { return db->be->exec(db, sql); }

int64_t dd_db_changes(struct dd_db *db) { return db->be->changes(db); }

int dd_db_scrub(struct dd_db *db)
{
	if (db->in_tx)
		return DD_EINVAL;
	return db->be->scrub ? db->be->scrub(db) : 0;
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
	if (db->be->begin_write(db)) {
		release_write_lock(db);
		return DD_EIO;
	}
	db->in_tx = true;
	return 0;
}

int dd_db_begin_claim(struct dd_db *db)
{
	if (!db->be->begin_claim)
		return dd_db_begin_write(db);
	/* neither the process's writer mutex nor the servers' lock: claims run side by side,
	 * ordered by the rows they lock */
	if (db->be->begin_claim(db))
		return DD_EIO;
	db->in_tx = true;
	return 0;
}

bool dd_db_row_locks(const struct dd_db *db) { return db->be->row_locks; }

int dd_db_begin_read(struct dd_db *db)
{
	if (db->be->begin_read(db))
		return DD_EIO;
	db->in_tx = true;
	return 0;
}

int dd_store_begin_read_consistent(struct dd_store *s, struct dd_db **dbs, int n)
{
	pthread_mutex_lock(&s->write_lock);
	int rc = s->be->begin_read_consistent(dbs, n);
	pthread_mutex_unlock(&s->write_lock);
	if (rc)
		return DD_EIO;
	for (int i = 0; i < n; i++)
		dbs[i]->in_tx = true;
	return 0;
}

int dd_db_commit(struct dd_db *db)
{
	if (db->be->commit(db)) {
		dd_db_rollback(db);
		return DD_EIO;
	}
	db->in_tx = false;
	release_write_lock(db);
	return 0;
}

void dd_db_rollback(struct dd_db *db)
{
	db->be->rollback(db);
	db->in_tx = false;
	release_write_lock(db);
}

bool dd_db_in_tx(struct dd_db *db) { return db->in_tx; }

bool dd_db_is_pg(const struct dd_db *db) { return db->be == &dd__store_pg; }

int dd_stmt_step(struct dd_stmt *st) { return st->be->step(st); }

void dd_stmt_reset(struct dd_stmt *st) { st->be->reset(st); }

int dd_bind_text(struct dd_stmt *st, int idx, const char *s)
{
	return s ? st->be->bind_text(st, idx, s, true) : st->be->bind_null(st, idx);
}

int dd_bind_text_static(struct dd_stmt *st, int idx, const char *s)
{
	return s ? st->be->bind_text(st, idx, s, false) : st->be->bind_null(st, idx);
}

int dd_bind_int64(struct dd_stmt *st, int idx, int64_t v) { return st->be->bind_int64(st, idx, v); }

int dd_bind_null(struct dd_stmt *st, int idx) { return st->be->bind_null(st, idx); }

int dd_bind_blob(struct dd_stmt *st, int idx, const void *p, size_t n) { return st->be->bind_blob(st, idx, p, n); }

int64_t dd_col_int64(struct dd_stmt *st, int idx) { return st->be->col_int64(st, idx); }

int dd_col_int(struct dd_stmt *st, int idx) { return (int)st->be->col_int64(st, idx); }

bool dd_col_is_null(struct dd_stmt *st, int idx) { return st->be->col_is_null(st, idx); }

const char *dd_col_text(struct dd_stmt *st, int idx)
{
	const char *t = st->be->col_text(st, idx);
	return t ? t : "";
}

const char *dd_col_text_or_null(struct dd_stmt *st, int idx) { return st->be->col_text(st, idx); }

const void *dd_col_blob(struct dd_stmt *st, int idx, size_t *n) { return st->be->col_blob(st, idx, n); }

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

int dd_store_step_int64(struct dd_stmt *st, int64_t *out)
{
	int rc = dd_stmt_step(st);
	if (rc == DD_STMT_ROW)
		*out = dd_col_int64(st, 0);
	dd_stmt_reset(st);
	return rc == DD_STMT_ROW ? 0 : DD_EIO;
}

struct text_pair {
	dd_stmt_text_pair_fn fn;
	void *ud;
};

static int text_pair_row(struct dd_stmt *st, void *ctx)
{
	struct text_pair *tp = ctx;
	return tp->fn(dd_col_text(st, 0), dd_col_text(st, 1), tp->ud);
}

int dd_stmt_each_text_pair(struct dd_stmt *st, dd_stmt_text_pair_fn fn, void *ud)
{
	struct text_pair tp = { fn, ud };
	return dd_stmt_each(st, text_pair_row, &tp, DD_EACH_PASS);
}

int dd_stmt_each(struct dd_stmt *st, dd_stmt_row_fn row, void *ctx, enum dd_stmt_each_mode mode)
{
	int r, rc = 0;
	bool any = false;
	while ((r = dd_stmt_step(st)) == DD_STMT_ROW) {
		any = true;
		if ((rc = row(st, ctx)))
			break;
	}
	dd_stmt_reset(st);
	if (rc)
		return rc > 0 && mode != DD_EACH_PASS ? 0 : rc;
	if (r != DD_STMT_DONE)
		return DD_EIO;
	return mode == DD_EACH_GET && !any ? DD_ENOTFOUND : 0;
}

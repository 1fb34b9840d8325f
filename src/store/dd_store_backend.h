/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Internal to the store: how a database backend plugs in under the statement interface of
 * dd_store_int.h. A backend is one table of functions (struct dd_store_backend), chosen
 * once when the store opens (dd_store.c: SQLite for a data directory, PostgreSQL for a
 * postgresql:// URL), in the way curl puts its TLS libraries behind `struct Curl_ssl`.
 * dd_store.c keeps what every backend shares: the per-thread connections and their
 * registry, the in-process writer mutex, the transaction flags and metrics; the backend
 * runs the SQL. A backend's connection embeds `struct dd_db` as its first member and its
 * statement embeds `struct dd_stmt`, so the dispatch in dd_store.c is one indirect call.
 */
#ifndef DD_STORE_BACKEND_H
#define DD_STORE_BACKEND_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "store/dd_store_int.h"

/* The part of a connection every backend shares (first member of the backend's own). */
struct dd_db {
	const struct dd_store_backend *be;
	struct dd_store *owner;
	struct dd_db *next;          /* the store's registry of per-thread connections */
	bool in_tx;
	bool holds_write_lock;       /* holds owner->write_lock */
	struct timespec write_since; /* when the write lock was taken (metrics) */
};

/* The part of a statement every backend shares (first member of the backend's own). */
struct dd_stmt {
	const struct dd_store_backend *be;
};

struct dd_store {
	const struct dd_store_backend *be;
	void *be_data;               /* the backend's (path, URL, ...) */
	pthread_mutex_t lock;        /* guards conns */
	/* One writer at a time inside the process (each backend adds its own lock between
	 * processes). Held from dd_db_begin_write to commit or rollback. */
	pthread_mutex_t write_lock;
	struct dd_db *conns;
	int version;
	unsigned generation;
};

struct dd_store_backend {
	const char *name;
	/* Opens the backend for s (s->be_data), creating what is missing (unless must_exist)
	 * and applying the migrations; dir is the data directory, url the backend's locator
	 * (NULL: SQLite in dir). Sets s->version. 0, DD_ENOTFOUND (must_exist and no store),
	 * DD_EUNSUPPORTED for a newer schema, or DD_EIO. */
	int (*open)(struct dd_store *s, const char *dir, const char *url, bool must_exist);
	void (*close)(struct dd_store *s);
	/* A new connection (its dd_db fields zeroed except be); NULL on failure (logged). */
	struct dd_db *(*connect)(struct dd_store *s);
	/* Finalizes the connection's statements, closes and frees it. */
	void (*disconnect)(struct dd_db *db);
	struct dd_stmt *(*stmt)(struct dd_db *db, const char *sql);
	/* Marks st (just handed out by stmt) as a large scan (dd_db_stmt_scan); NULL when the
	 * backend streams every statement anyway (SQLite). */
	void (*mark_scan)(struct dd_stmt *st);
	int (*exec)(struct dd_db *db, const char *sql);
	int64_t (*changes)(struct dd_db *db);
	/* dd_db_scrub outside a transaction; NULL when the backend has nothing to scrub. */
	int (*scrub)(struct dd_db *db);
	/* Transactions: the SQL only; dd_store.c keeps the flags and the in-process lock. */
	int (*begin_write)(struct dd_db *db);
	/* A claim transaction (dd_db_begin_claim) that neither takes the writers' lock nor
	 * waits for it: only on a backend with row locks (SELECT ... FOR UPDATE SKIP LOCKED),
	 * which then sets row_locks. NULL: a claim is a write transaction. */
	int (*begin_claim)(struct dd_db *db);
	bool row_locks;
	int (*begin_read)(struct dd_db *db);
	/* A read transaction on each of dbs[0..n) seeing one snapshot; called with the
	 * store's write_lock held. On failure none is left open. */
	int (*begin_read_consistent)(struct dd_db **dbs, int n);
	int (*commit)(struct dd_db *db);
	void (*rollback)(struct dd_db *db);
	int (*step)(struct dd_stmt *st);
	void (*reset)(struct dd_stmt *st);
	/* copy: the backend copies s (else s outlives the step); s is never NULL. */
	int (*bind_text)(struct dd_stmt *st, int idx, const char *s, bool copy);
	int (*bind_int64)(struct dd_stmt *st, int idx, int64_t v);
	int (*bind_null)(struct dd_stmt *st, int idx);
	int (*bind_blob)(struct dd_stmt *st, int idx, const void *p, size_t n);
	int64_t (*col_int64)(struct dd_stmt *st, int idx);
	bool (*col_is_null)(struct dd_stmt *st, int idx);
	/* NULL for SQL NULL */
	const char *(*col_text)(struct dd_stmt *st, int idx);
	const void *(*col_blob)(struct dd_stmt *st, int idx, size_t *n);
};

extern const struct dd_store_backend dd__store_sqlite;
extern const struct dd_store_backend dd__store_pg;

/* Logs why a database with schema version v is refused by a binary that knows binary. */
void dd__store_refuse_newer(int v, int binary);
/* True when url names a PostgreSQL database (postgresql:// or postgres://). */
bool dd__store_url_is_pg(const char *url);

#endif

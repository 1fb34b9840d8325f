/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The store: by default one SQLite database in WAL mode in the data directory; or a
 * PostgreSQL database named by a postgresql:// URL (`serve --store`, IOTDEFENDER_STORE),
 * shared by several servers. Numbered migrations are applied at open, one connection per
 * thread (created on first use and closed with the store), and a per-connection cache of
 * prepared statements keyed by the SQL text's address (callers pass string literals).
 * Writes use short transactions, one writer at a time; a reader that needs one consistent
 * snapshot opens a read transaction.
 * Every account-scoped table has an `account` column first in its primary key, or, for
 * the regional tables, an `account_region` column ("<account>/<region>", dd/ctx.h).
 */
/* The typed functions of each aggregate are in src/store/dd_store_<aggregate>.h; the
 * SQLite handles and statement helpers those files use are internal to the store
 * (src/store/dd_store_int.h). */
#ifndef DD_STORE_H
#define DD_STORE_H

#include <stdbool.h>
#include <stddef.h>

#include "dd/common.h"

struct dd_store;
struct dd_db;

/* Opens the store named by dd_store_url() (dd_store_open_url). */
int dd_store_open(const char *dir, struct dd_store **out) DD_MUST_CHECK;
/* Opens the store and applies pending migrations: with url NULL or empty, (creating)
 * <dir>/iotdefender.db; with a postgresql:// or postgres:// URL, that database (dir is
 * still created: the server keeps its other files there). DD_EUNSUPPORTED when the
 * database's schema is newer than this binary's; DD_EINVAL for another kind of URL. */
int dd_store_open_url(const char *url, const char *dir, struct dd_store **out) DD_MUST_CHECK;
/* As dd_store_open, but DD_ENOTFOUND instead of creating a store that does not exist yet
 * (SQLite: no <dir>/iotdefender.db; PostgreSQL: a database without the iotdefender schema),
 * e.g. for the broker plugin, which never creates one. */
int dd_store_open_existing(const char *dir, struct dd_store **out) DD_MUST_CHECK;
/* The store URL of this process: IOTDEFENDER_STORE (set by `serve --store`), or NULL for
 * SQLite in the data directory. */
const char *dd_store_url(void);
/* True when s is on PostgreSQL. */
bool dd_store_is_pg(const struct dd_store *s);
/* Closes every connection of every thread. No thread may use the store afterwards. */
void dd_store_close(struct dd_store *s);
/* The calling thread's connection to s (opened on first use); NULL on failure. */
struct dd_db *dd_store_db(struct dd_store *s);
/* A new connection owned by the caller (not the thread's), e.g. to hold a long read
 * snapshot while the thread's own connection writes. Close it with dd_db_close before the
 * store closes. NULL on failure. */
struct dd_db *dd_store_db_private(struct dd_store *s);
void dd_db_close(struct dd_db *db);
/* Starts a read transaction on each of n connections while no writer of this process
 * can commit, so all of them see the same snapshot (for checks run in parallel). */
int dd_store_begin_read_consistent(struct dd_store *s, struct dd_db **dbs, int n) DD_MUST_CHECK;
/* The schema version this binary migrates to (a database with a higher one is refused). */
int dd_store_backup_binary_schema_version(void);

/* Backups (dd_store_backup.c): a consistent copy of <dir>/iotdefender.db to dest (which
 * must not exist) with the online backup API, while a server may be writing; the copy
 * passes PRAGMA integrity_check before it is renamed into place. With a PostgreSQL store
 * (dd_store_url) DD_EUNSUPPORTED and err says to use pg_dump. */
int dd_store_backup(const char *dir, const char *dest, char *err, size_t errlen) DD_MUST_CHECK;
/* The same from a database file that no server uses (opened read-only), e.g. a backup
 * being restored. */
int dd_store_backup_file(const char *src, const char *dest, char *err, size_t errlen) DD_MUST_CHECK;
/* Reads the schema version of a database file and checks its integrity. */
int dd_store_backup_file_version(const char *file, int *version, char *err, size_t errlen) DD_MUST_CHECK;

int dd_db_begin_write(struct dd_db *db) DD_MUST_CHECK;
/* A transaction that claims units of background work (leases, SNS deliveries) and writes
 * nothing else: on SQLite a write transaction (one writer); on PostgreSQL READ COMMITTED
 * without the writers' lock, so claims of several threads and servers run side by side:
 * their candidate reads lock the rows they pick (FOR UPDATE SKIP LOCKED, in the store),
 * so each claimer takes another unit without waiting, and the lease rows' own locks order
 * two claims of one unit. Only for tables without change-journal triggers. */
int dd_db_begin_claim(struct dd_db *db) DD_MUST_CHECK;
int dd_db_begin_read(struct dd_db *db) DD_MUST_CHECK;
int dd_db_commit(struct dd_db *db) DD_MUST_CHECK;
/* After secrets were replaced: outside a transaction, writes every committed change into
 * the database file and empties the write-ahead log, so no older copy of a replaced value
 * stays in a file of the data directory (overwritten values are zeroed in place). Returns
 * 0, DD_ECONFLICT when a reader kept the log from being emptied, DD_EINVAL inside a
 * transaction, or DD_EIO. On PostgreSQL it does nothing and returns 0: replaced rows stay
 * in the server's files as dead tuples until VACUUM reclaims them (docs/IAM_USERS.md). */
int dd_db_scrub(struct dd_db *db) DD_MUST_CHECK;
void dd_db_rollback(struct dd_db *db);
/* True inside a transaction opened with dd_db_begin_*. */
bool dd_db_in_tx(struct dd_db *db);


#endif

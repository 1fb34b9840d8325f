/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The embedded store: one SQLite database in WAL mode in the data directory, numbered
 * migrations applied at open, one connection per thread (created on first use and closed
 * with the store), and a per-connection cache of prepared statements keyed by the SQL
 * text's address (callers pass string literals). Writes use short BEGIN IMMEDIATE
 * transactions; a reader that needs one consistent snapshot opens a read transaction.
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

/* Opens (creating) <dir>/iotdefender.db and applies pending migrations. */
int dd_store_open(const char *dir, struct dd_store **out) DD_MUST_CHECK;
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
 * passes PRAGMA integrity_check before it is renamed into place. */
int dd_store_backup(const char *dir, const char *dest, char *err, size_t errlen) DD_MUST_CHECK;
/* The same from a database file that no server uses (opened read-only), e.g. a backup
 * being restored. */
int dd_store_backup_file(const char *src, const char *dest, char *err, size_t errlen) DD_MUST_CHECK;
/* Reads the schema version of a database file and checks its integrity. */
int dd_store_backup_file_version(const char *file, int *version, char *err, size_t errlen) DD_MUST_CHECK;

int dd_db_begin_write(struct dd_db *db) DD_MUST_CHECK;
int dd_db_begin_read(struct dd_db *db) DD_MUST_CHECK;
int dd_db_commit(struct dd_db *db) DD_MUST_CHECK;
void dd_db_rollback(struct dd_db *db);
/* True inside a transaction opened with dd_db_begin_*. */
bool dd_db_in_tx(struct dd_db *db);


#endif

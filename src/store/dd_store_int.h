/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Internal to the store layer (the .c files of src/store, and tests that build raw fixtures): the
 * SQLite handle of a connection, its cache of prepared statements keyed by the SQL text's
 * address (callers pass string literals), and the binding and stepping helpers. Nothing
 * above src/store/ includes this header; they call the typed functions of
 * src/store/dd_store_<aggregate>.h.
 */
#ifndef DD_STORE_INT_H
#define DD_STORE_INT_H

#include <sqlite3.h>

#include "dd/store.h"

/* The same from an open connection. */
int dd_store_backup_handle(sqlite3 *src, const char *dest, char *err, size_t errlen) DD_MUST_CHECK;
/* PRAGMA integrity_check: 0 when "ok", else DD_EIO with err. */
int dd_store_integrity_check(sqlite3 *h, char *err, size_t errlen) DD_MUST_CHECK;

sqlite3 *dd_db_handle(struct dd_db *db);
/* A prepared statement for sql (a string literal: cached by address), reset and with its
 * bindings cleared. NULL on a prepare error (logged). The statement stays owned by db. */
sqlite3_stmt *dd_db_stmt(struct dd_db *db, const char *sql);
/* Runs sql (no parameters, no rows) directly. */
int dd_db_exec(struct dd_db *db, const char *sql) DD_MUST_CHECK;

/* Binding helpers: return the sqlite3 result code. Text is copied (SQLITE_TRANSIENT). */
int dd_bind_text(sqlite3_stmt *st, int idx, const char *s);
int dd_bind_int64(sqlite3_stmt *st, int idx, int64_t v);
/* Column text as a C string ("" for NULL). Valid until the next step/reset. */
const char *dd_col_text(sqlite3_stmt *st, int idx);
/* Steps a statement that returns no rows; returns 0 or DD_EIO (logged). Resets it. */
int dd_step_done(sqlite3_stmt *st) DD_MUST_CHECK;

#endif

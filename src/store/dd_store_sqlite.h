/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Internal to the SQLite backend of the store (dd_store_sqlite.c, dd_store_backup.c): the raw
 * handle of a connection, and the online backup and integrity check that work on it.
 */
#ifndef DD_STORE_SQLITE_H
#define DD_STORE_SQLITE_H

#include <sqlite3.h>

#include "store/dd_store_int.h"

sqlite3 *dd_db_handle(struct dd_db *db);
/* A consistent copy of the open database h to dest (see dd_store_backup). */
int dd_store_backup_handle(sqlite3 *src, const char *dest, char *err, size_t errlen) DD_MUST_CHECK;
/* PRAGMA integrity_check: 0 when "ok", else DD_EIO with err. */
int dd_store_backup_integrity_check(sqlite3 *h, char *err, size_t errlen) DD_MUST_CHECK;

#endif

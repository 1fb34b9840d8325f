/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Consistent copies of the store with SQLite's online backup API: the whole database is
 * copied in one step, inside one read transaction of the source, so the copy is one
 * committed state even while a server writes (WAL readers do not block writers). A copy
 * is written to "<dest>.tmp", switched to the rollback journal (a single self-contained
 * file), checked with PRAGMA integrity_check, then renamed over: never a partial file.
 */
#include "store/dd_store_sqlite.h"
#include "dd/store.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "store/dd_store_schema.h"

int dd_store_backup_binary_schema_version(void) { return dd_store_nmigrations; }

static int user_version(sqlite3 *h, int *v)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(h, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
		return DD_EIO;
	int rc = sqlite3_step(st) == SQLITE_ROW ? 0 : DD_EIO;
	*v = rc ? 0 : sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return rc;
}

int dd_store_backup_integrity_check(sqlite3 *h, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(h, "PRAGMA integrity_check", -1, &st, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "integrity_check: %s", sqlite3_errmsg(h));
		return DD_EIO;
	}
	int rc = DD_EIO;
	if (sqlite3_step(st) == SQLITE_ROW) {
		const char *r = (const char *)sqlite3_column_text(st, 0);
		if (r && strcmp(r, "ok") == 0)
			rc = 0;
		else
			snprintf(err, errlen, "integrity_check: %.200s", r ? r : "no answer");
	} else {
		snprintf(err, errlen, "integrity_check: %s", sqlite3_errmsg(h));
	}
	sqlite3_finalize(st);
	return rc;
}

int dd_store_backup_handle(sqlite3 *src, const char *dest, char *err, size_t errlen)
{
	char tmp[4200];
	if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp", dest) >= sizeof tmp) {
		snprintf(err, errlen, "the backup path is too long");
		return DD_EINVAL;
	}
	unlink(tmp);
	sqlite3 *d = NULL;
	if (sqlite3_open_v2(tmp, &d, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "cannot create %s: %s", tmp, d ? sqlite3_errmsg(d) : "out of memory");
		sqlite3_close(d);
		return DD_EIO;
	}
	int rc = DD_EIO;
	sqlite3_backup *b = sqlite3_backup_init(d, "main", src, "main");
	if (!b) {
		snprintf(err, errlen, "backup: %s", sqlite3_errmsg(d));
		goto out;
	}
	int s;
	int tries = 0;
	/* -1: every page in one step, one read transaction of the source */
	while ((s = sqlite3_backup_step(b, -1)) == SQLITE_BUSY || s == SQLITE_LOCKED) {
		if (++tries > 200)
			break;
		sqlite3_sleep(50);
	}
	sqlite3_backup_finish(b);
	if (s != SQLITE_DONE) {
		snprintf(err, errlen, "backup: %s", sqlite3_errstr(s));
		goto out;
	}
	char *msg = NULL;
	if (sqlite3_exec(d, "PRAGMA journal_mode=DELETE", NULL, NULL, &msg) != SQLITE_OK) {
		snprintf(err, errlen, "backup: %s", msg ? msg : "journal mode");
		sqlite3_free(msg);
		goto out;
	}
	rc = dd_store_backup_integrity_check(d, err, errlen);
out:
	if (sqlite3_close(d) != SQLITE_OK && !rc) {
		snprintf(err, errlen, "backup: close failed");
		rc = DD_EIO;
	}
	if (!rc && rename(tmp, dest) != 0) {
		snprintf(err, errlen, "cannot rename %s to %s: %s", tmp, dest, strerror(errno));
		rc = DD_EIO;
	}
	if (rc)
		unlink(tmp);
	return rc;
}

int dd_store_backup(const char *dir, const char *dest, char *err, size_t errlen)
{
	if (dd_store_url()) {
		snprintf(err, errlen, "the store is a PostgreSQL database (IOTDEFENDER_STORE): back it up with "
			 "pg_dump (docs/OPERATIONS.md), not with iotdefender backup");
		return DD_EUNSUPPORTED;
	}
	char path[4200];
	snprintf(path, sizeof path, "%s/iotdefender.db", dir);
	struct stat sb;
	if (stat(path, &sb) != 0) {
		snprintf(err, errlen, "no database at %s", path);
		return DD_ENOTFOUND;
	}
	if (access(dest, F_OK) == 0) {
		snprintf(err, errlen, "%s already exists; not overwritten", dest);
		return DD_EEXIST;
	}
	sqlite3 *h = NULL;
	/* read-write (not read-only): a WAL reader needs the -shm, which it may create */
	if (sqlite3_open_v2(path, &h, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "cannot open %s: %s", path, h ? sqlite3_errmsg(h) : "out of memory");
		sqlite3_close(h);
		return DD_EIO;
	}
	sqlite3_busy_timeout(h, 10000);
	int rc = dd_store_backup_handle(h, dest, err, errlen);
	sqlite3_close(h);
	return rc;
}

int dd_store_backup_file_version(const char *file, int *version, char *err, size_t errlen)
{
	sqlite3 *h = NULL;
	if (sqlite3_open_v2(file, &h, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "cannot open %s: %s", file, h ? sqlite3_errmsg(h) : "out of memory");
		sqlite3_close(h);
		return DD_EIO;
	}
	int rc = user_version(h, version);
	if (rc)
		snprintf(err, errlen, "%s is not an SQLite database", file);
	else
		rc = dd_store_backup_integrity_check(h, err, errlen);
	sqlite3_close(h);
	return rc;
}

int dd_store_backup_file(const char *src, const char *dest, char *err, size_t errlen)
{
	sqlite3 *h = NULL;
	if (sqlite3_open_v2(src, &h, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "cannot open %s", src);
		sqlite3_close(h);
		return DD_EIO;
	}
	int rc = dd_store_backup_handle(h, dest, err, errlen);
	sqlite3_close(h);
	return rc;
}

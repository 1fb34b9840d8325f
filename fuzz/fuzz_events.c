/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the NDJSON connection-events ingestion (POST /connection-events,
 * dd_iot_ingest_connection_events) against a real store in a private temporary data
 * directory. The input is the request body. The batch is all or nothing: a refused batch
 * stores no row, an accepted one exactly as many rows as it reports, and no transaction
 * is left open either way.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "store/dd_store_int.h"
#include "api/dd_iot_ingest.h"
#include "dd/ctx.h"
#include "dd/service.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct dd_service svc;
static char dir[64];
static unsigned long runs;

static void rm_rf(const char *path)
{
	DIR *d = opendir(path);
	if (!d) {
		unlink(path);
		return;
	}
	struct dirent *e;
	char p[512];
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
			snprintf(p, sizeof p, "%s/%s", path, e->d_name);
			rm_rf(p);
		}
	closedir(d);
	rmdir(path);
}

static void cleanup(void)
{
	dd_service_close(&svc);
	rm_rf(dir);
}

static int64_t count_rows(struct dd_db *db)
{
	sqlite3_stmt *st = dd_db_stmt(db, "SELECT count(*) FROM connection_events");
	if (!st || sqlite3_step(st) != SQLITE_ROW)
		abort();
	int64_t n = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!runs++) {
		dd_log_set_level(DD_LOG_ERROR);
		const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
		snprintf(dir, sizeof dir, "%s/fuzz_events.%ld", base, (long)getpid());
		rm_rf(dir);
		if (dd_service_init(&svc, dir) != 0)
			abort();
		atexit(cleanup);
	}
	if (size > 262144)
		return 0;
	struct dd_db *db = dd_store_db(svc.store);
	if (runs % 1000 == 0 && dd_db_exec(db, "DELETE FROM connection_events") != 0)
		abort();
	int64_t before = count_rows(db);
	char rid[] = "fuzz";
	struct dd_ctx c = { .svc = &svc, .db = db, .account = "123456789012", .region = "us-east-1",
			    .request_id = rid, .now_ms = dd_time_now_ms() };
	if (dd_ctx_set_account_region(&c) != 0)
		abort();
	json_t *out = NULL;
	int rc = dd_iot_ingest_connection_events(&c, (const char *)data, size, &out);
	if (dd_db_in_tx(db))
		abort(); /* a transaction was left open */
	int64_t after = count_rows(db);
	if (rc == 0) {
		json_t *n = json_object_get(out, "accepted");
		if (!json_is_integer(n) || json_integer_value(n) != after - before)
			abort(); /* reported count differs from what was stored */
	} else if (after != before) {
		abort(); /* a refused batch stored rows */
	}
	json_decref(out);
	return 0;
}

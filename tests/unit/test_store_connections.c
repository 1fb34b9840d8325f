/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the broker's connection store functions (store/dd_store_connections.h)
 * on a fresh service in a temporary directory, its rows made through the real handlers
 * and the connection-event ingestion: a registered certificate is found ACTIVE in its
 * region only and not in another account or region, an unknown CA or certificate is
 * DD_ENOTFOUND, the principals of a thing are listed, logging settings come back as
 * their JSON text, the last connection event of a client id follows connect and
 * disconnect, and the broker's counters add up per region.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <sqlite3.h>

#include "api/dd_iot_ingest.h"
#include "dd/service.h"
#include "server/dd_api.h"
#include "server/dd_model.h"
#include "store/dd_store_connections.h"
#include "store/dd_store_int.h"
#include "store/dd_store_schema.h"

#define ACCOUNT "123456789012"
#define AR ACCOUNT "/us-east-1"
#define CERT "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

struct fx {
	char dir[64];
	struct dd_service svc;
	struct dd_db *db;
};

static json_t *call(struct fx *f, const char *service, const char *op, json_t *in)
{
	json_t *out = NULL;
	char err[1200];
	int rc = dd_api_call(&f->svc, ACCOUNT, "us-east-1", service, op, in, &out, err, sizeof err);
	json_decref(in);
	if (rc)
		fail_msg("%s %s: %s", service, op, err);
	return out ? out : json_object();
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	snprintf(f->dir, sizeof f->dir, "/tmp/ddunit-stconn-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	assert_int_equal(dd_service_init(&f->svc, f->dir), 0);
	f->db = dd_store_db(f->svc.store);
	assert_non_null(f->db);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	dd_service_close(&f->svc);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static int collect(const char *text, void *ud)
{
	char *out = ud;
	strncat(out, text, 1000 - strlen(out));
	strncat(out, ";", 1000 - strlen(out));
	return 0;
}

static void test_cert_and_principals(void **state)
{
	struct fx *f = *state;
	json_t *c = call(f, "iot", "CreateKeysAndCertificate", json_pack("{s:b}", "setAsActive", 1));
	char id[65], arn[256];
	snprintf(id, sizeof id, "%s", json_string_value(json_object_get(c, "certificateId")));
	snprintf(arn, sizeof arn, "%s", json_string_value(json_object_get(c, "certificateArn")));
	json_decref(c);
	struct dd_store_connections_cert reg;
	assert_int_equal(dd_store_connections_cert_find(f->db, id, "", "us-east-1", &reg), 0);
	assert_string_equal(reg.account_region, AR);
	assert_string_equal(reg.status, "ACTIVE");
	assert_string_equal(reg.ca_id, "");
	assert_int_equal(dd_store_connections_cert_find(f->db, id, ACCOUNT, "us-east-1", &reg), 0);
	assert_int_equal(dd_store_connections_cert_find(f->db, id, "210987654321", "us-east-1", &reg), DD_ENOTFOUND);
	assert_int_equal(dd_store_connections_cert_find(f->db, id, "", "eu-west-1", &reg), DD_ENOTFOUND);
	assert_int_equal(dd_store_connections_cert_find(f->db, "0000", "", "us-east-1", &reg), DD_ENOTFOUND);
	char status[32];
	assert_int_equal(dd_store_connections_ca_status(f->db, AR, "no-such-ca", status, sizeof status), DD_ENOTFOUND);
	json_decref(call(f, "iot", "CreateThing", json_pack("{s:s}", "thingName", "t1")));
	char got[1024] = "";
	assert_int_equal(dd_store_connections_thing_principals(f->db, AR, "t1", collect, got), 0);
	assert_string_equal(got, "");
	json_decref(call(f, "iot", "AttachThingPrincipal", json_pack("{s:s, s:s}", "thingName", "t1", "principal", arn)));
	assert_int_equal(dd_store_connections_thing_principals(f->db, AR, "t1", collect, got), 0);
	char want[300];
	snprintf(want, sizeof want, "%s;", arn);
	assert_string_equal(got, want);
}

static void test_logging(void **state)
{
	struct fx *f = *state;
	char v1[512], v2[512];
	assert_int_equal(dd_store_connections_logging(f->db, AR, v1, sizeof v1, v2, sizeof v2), 0);
	assert_string_equal(v1, "");
	assert_string_equal(v2, "");
	json_decref(call(f, "iot", "SetV2LoggingOptions",
			 json_pack("{s:s, s:s}", "roleArn", "arn:aws:iam::" ACCOUNT ":role/log", "defaultLogLevel", "INFO")));
	assert_int_equal(dd_store_connections_logging(f->db, AR, v1, sizeof v1, v2, sizeof v2), 0);
	assert_non_null(strstr(v2, "\"INFO\""));
	assert_string_equal(v1, "");
}

static void ingest(struct fx *f, const char *line)
{
	struct dd_ctx c = { .db = f->db, .account = ACCOUNT, .region = "us-east-1", .request_id = "test", .now_ms = dd_time_now_ms() };
	assert_int_equal(dd_ctx_set_account_region(&c), 0);
	json_t *out = NULL;
	int rc = dd_iot_ingest_connection_events(&c, line, strlen(line), &out);
	if (rc)
		fail_msg("ingest: %s", c.err_msg);
	json_decref(out);
}

static void test_last_event(void **state)
{
	struct fx *f = *state;
	char ev[32];
	assert_int_equal(dd_store_connections_last_event(f->db, AR, "dev-1", ev, sizeof ev), DD_ENOTFOUND);
	ingest(f, "{\"event\":\"connect\",\"clientId\":\"dev-1\",\"certificateId\":\"" CERT "\",\"timestamp\":1000}\n");
	assert_int_equal(dd_store_connections_last_event(f->db, AR, "dev-1", ev, sizeof ev), 0);
	assert_string_equal(ev, "connect");
	ingest(f, "{\"event\":\"disconnect\",\"clientId\":\"dev-1\",\"certificateId\":\"" CERT "\",\"timestamp\":2000}\n");
	assert_int_equal(dd_store_connections_last_event(f->db, AR, "dev-1", ev, sizeof ev), 0);
	assert_string_equal(ev, "disconnect");
	assert_int_equal(dd_store_connections_last_event(f->db, ACCOUNT "/eu-west-1", "dev-1", ev, sizeof ev), DD_ENOTFOUND);
	/* the history: one connect, one disconnect */
	int conn = -1, disc = -1;
	char reason[64] = "x";
	assert_int_equal(dd_store_connections_tally(f->db, AR, "dev-1", &conn, &disc, reason, sizeof reason), 0);
	assert_int_equal(conn, 1);
	assert_int_equal(disc, 1);
	assert_string_equal(reason, "");
	ingest(f, "{\"event\":\"disconnect\",\"clientId\":\"dev-1\",\"certificateId\":\"" CERT "\",\"timestamp\":3000,"
		  "\"reason\":\"DUPLICATE_CLIENTID\"}\n");
	assert_int_equal(dd_store_connections_tally(f->db, AR, "dev-1", &conn, &disc, reason, sizeof reason), 0);
	assert_int_equal(disc, 2);
	assert_string_equal(reason, "DUPLICATE_CLIENTID");
	assert_int_equal(dd_store_connections_tally(f->db, ACCOUNT "/eu-west-1", "dev-1", &conn, &disc, NULL, 0), 0);
	assert_int_equal(conn, 0);
}

/* m017 (connection events keyed by client, without a rowid) keeps every event with its
 * seq, and the counter continues past the highest seq ever given (sqlite_sequence's, which
 * an insert rolled back leaves above every row's); events of one millisecond keep their
 * order of arrival. */
static void test_events_migration(void **state)
{
	(void)state;
	char dir[64];
	snprintf(dir, sizeof dir, "/tmp/ddunit-m017-XXXXXX");
	assert_non_null(mkdtemp(dir));
	char path[128];
	snprintf(path, sizeof path, "%s/iotdefender.db", dir);
	sqlite3 *h = NULL;
	assert_int_equal(sqlite3_open(path, &h), SQLITE_OK);
	for (int i = 0; i < 16; i++)
		assert_int_equal(sqlite3_exec(h, dd_store_migrations[i], NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_exec(h, "PRAGMA user_version=16;"
				      "INSERT INTO connection_events(account_region, event, client_id, certificate_id, ts, reason)"
				      " VALUES ('" AR "', 'connect', 'dev-1', '" CERT "', 5, NULL),"
				      " ('" AR "', 'disconnect', 'dev-1', '" CERT "', 5, 'gone'),"
				      " ('" AR "', 'connect', 'dev-0', NULL, 7, NULL);"
				      "UPDATE sqlite_sequence SET seq = 40 WHERE name = 'connection_events';",
				      NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(h);

	struct fx *f = calloc(1, sizeof *f);
	assert_non_null(f);
	snprintf(f->dir, sizeof f->dir, "%s", dir);
	assert_int_equal(dd_service_init(&f->svc, f->dir), 0);
	f->db = dd_store_db(f->svc.store);
	char ev[32], reason[64];
	int conn = -1, disc = -1;
	assert_int_equal(dd_store_connections_last_event(f->db, AR, "dev-1", ev, sizeof ev), 0);
	assert_string_equal(ev, "disconnect");
	assert_int_equal(dd_store_connections_tally(f->db, AR, "dev-1", &conn, &disc, reason, sizeof reason), 0);
	assert_int_equal(conn, 1);
	assert_int_equal(disc, 1);
	assert_string_equal(reason, "gone");
	assert_int_equal(dd_store_connections_last_event(f->db, AR, "dev-0", ev, sizeof ev), 0);
	assert_string_equal(ev, "connect");
	/* a connect in the same millisecond as the two old events: after them */
	ingest(f, "{\"event\":\"connect\",\"clientId\":\"dev-1\",\"certificateId\":\"" CERT "\",\"timestamp\":5}\n");
	assert_int_equal(dd_store_connections_last_event(f->db, AR, "dev-1", ev, sizeof ev), 0);
	assert_string_equal(ev, "connect");
	struct dd_stmt *st = dd_db_stmt(f->db, "SELECT seq, event FROM connection_events WHERE client_id = 'dev-1' ORDER BY seq");
	assert_non_null(st);
	const char *want[][2] = { { "1", "connect" }, { "2", "disconnect" }, { "41", "connect" } };
	for (int i = 0; i < 3; i++) {
		assert_int_equal(dd_stmt_step(st), DD_STMT_ROW);
		char seq[24];
		snprintf(seq, sizeof seq, "%lld", (long long)dd_col_int64(st, 0));
		assert_string_equal(seq, want[i][0]);
		assert_string_equal(dd_col_text(st, 1), want[i][1]);
	}
	assert_int_equal(dd_stmt_step(st), DD_STMT_DONE);
	dd_stmt_reset(st);
	void *fs = f;
	teardown(&fs);
}

struct seen {
	int n;
	struct dd_store_connections_stats rows[4];
};

static int collect_stats(const struct dd_store_connections_stats *s, void *ud)
{
	struct seen *x = ud;
	if (x->n < 4)
		x->rows[x->n++] = *s;
	return 0;
}

static void test_stats(void **state)
{
	struct fx *f = *state;
	struct seen x = { 0 };
	assert_int_equal(dd_store_connections_stats_list(f->db, collect_stats, &x), 0);
	assert_int_equal(x.n, 0);
	struct dd_store_connections_stats d = { .connected = 3, .connects = 4, .disconnects = 1, .refusals = 2, .updated_ms = 10 };
	assert_int_equal(dd_db_begin_write(f->db), 0);
	assert_int_equal(dd_store_connections_stats_add(f->db, "us-east-1", &d), 0);
	d = (struct dd_store_connections_stats){ .connected = 1, .connects = 1, .disconnects = 3, .refusals = 0, .updated_ms = 20 };
	assert_int_equal(dd_store_connections_stats_add(f->db, "us-east-1", &d), 0);
	d = (struct dd_store_connections_stats){ .connected = 5, .connects = 5, .updated_ms = 30 };
	assert_int_equal(dd_store_connections_stats_add(f->db, "eu-west-1", &d), 0);
	assert_int_equal(dd_db_commit(f->db), 0);
	assert_int_equal(dd_store_connections_stats_list(f->db, collect_stats, &x), 0);
	assert_int_equal(x.n, 2);
	assert_string_equal(x.rows[0].region, "eu-west-1");
	assert_int_equal(x.rows[0].connected, 5);
	assert_int_equal(x.rows[0].connects, 5);
	assert_string_equal(x.rows[1].region, "us-east-1");
	assert_int_equal(x.rows[1].connected, 1);
	assert_int_equal(x.rows[1].connects, 5);
	assert_int_equal(x.rows[1].disconnects, 4);
	assert_int_equal(x.rows[1].refusals, 2);
	assert_int_equal(x.rows[1].updated_ms, 20);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_cert_and_principals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_logging, setup, teardown),
		cmocka_unit_test_setup_teardown(test_last_event, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stats, setup, teardown),
		cmocka_unit_test(test_events_migration),
	};
	dd_log_set_level(DD_LOG_ERROR);
	if (dd_models_load())
		return 1;
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	dd_models_free();
	return rc;
}

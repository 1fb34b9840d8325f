/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The change journal (see dd/changes.h): explicit notes, the broker's cheap indexed
 * poll by sequence, pruning, and the broker's CA bundle.
 */
#include "dd/changes.h"

#include <jansson.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dd/ctx.h"

int dd_changes_note(struct dd_db *db, const char *account, const char *kind, const char *subject,
		    const char *arg, int64_t now_ms)
{
	sqlite3_stmt *st = dd_db_stmt(db, "INSERT INTO changes(account, kind, subject, arg, ts) VALUES (?1, ?2, ?3, ?4, ?5)");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account);
	dd_bind_text(st, 2, kind);
	dd_bind_text(st, 3, subject);
	dd_bind_text(st, 4, arg);
	dd_bind_int64(st, 5, now_ms);
	return dd_step_done(st);
}

int dd_changes_last(struct dd_db *db, int64_t *seq)
{
	sqlite3_stmt *st = dd_db_stmt(db, "SELECT max(seq) FROM changes");
	if (!st)
		return DD_EIO;
	int s = sqlite3_step(st);
	*seq = s == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	return s == SQLITE_ROW ? 0 : DD_EIO;
}

int dd_changes_read(struct dd_db *db, int64_t after, struct dd_change *out, size_t max, size_t *n)
{
	*n = 0;
	sqlite3_stmt *st = dd_db_stmt(db, "SELECT seq, account, kind, subject, arg FROM changes WHERE seq > ?1 ORDER BY seq LIMIT ?2");
	if (!st)
		return DD_EIO;
	dd_bind_int64(st, 1, after);
	dd_bind_int64(st, 2, (int64_t)max);
	int s;
	while (*n < max && (s = sqlite3_step(st)) == SQLITE_ROW) {
		struct dd_change *c = &out[(*n)++];
		c->seq = sqlite3_column_int64(st, 0);
		snprintf(c->account, sizeof c->account, "%s", dd_col_text(st, 1));
		snprintf(c->kind, sizeof c->kind, "%s", dd_col_text(st, 2));
		snprintf(c->subject, sizeof c->subject, "%s", dd_col_text(st, 3));
		snprintf(c->arg, sizeof c->arg, "%s", dd_col_text(st, 4));
	}
	sqlite3_reset(st);
	return *n == max || s == SQLITE_DONE ? 0 : DD_EIO;
}

int dd_changes_prune(struct dd_db *db, int64_t before_ms)
{
	sqlite3_stmt *st = dd_db_stmt(db, "DELETE FROM changes WHERE ts < ?1 AND seq < (SELECT max(seq) FROM changes)");
	if (!st)
		return DD_EIO;
	dd_bind_int64(st, 1, before_ms);
	return dd_step_done(st);
}

int dd_changes_write_ca_bundle(struct dd_db *db, const char *server_ca_pem, const char *path)
{
	char tmp[4200];
	if (snprintf(tmp, sizeof tmp, "%s.tmp%ld", path, (long)getpid()) >= (int)sizeof tmp)
		return DD_EINVAL;
	FILE *f = fopen(tmp, "w");
	if (!f)
		return DD_EIO;
	int rc = 0;
	if (server_ca_pem && fputs(server_ca_pem, f) < 0)
		rc = DD_EIO;
	sqlite3_stmt *st = dd_db_stmt(db, "SELECT pem FROM ca_certificates WHERE status = 'ACTIVE' ORDER BY account, id");
	if (!st)
		rc = DD_EIO;
	int s = SQLITE_DONE;
	while (!rc && (s = sqlite3_step(st)) == SQLITE_ROW) {
		const char *pem = dd_col_text(st, 0);
		size_t len = strlen(pem);
		if (fputs(pem, f) < 0 || (len && pem[len - 1] != '\n' && fputc('\n', f) < 0))
			rc = DD_EIO;
	}
	if (st)
		sqlite3_reset(st);
	if (!rc && s != SQLITE_DONE)
		rc = DD_EIO;
	if (fclose(f) != 0)
		rc = DD_EIO;
	if (!rc && (chmod(tmp, 0644) != 0 || rename(tmp, path) != 0))
		rc = DD_EIO;
	if (rc)
		unlink(tmp);
	return rc;
}

/* iot-data DeleteConnection: the broker disconnects the client (with its will message
 * unless preventWillMessage) on its next poll. A client id with no open connection in the
 * recorded connection events is ResourceNotFoundException, as AWS answers for a client
 * that is not connected. */
static int delete_connection(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *client = json_string_value(json_object_get(in, "clientId"));
	*out = NULL;
	if (!client || !*client || strlen(client) > 128)
		return dd_fail(c, DD_EINVAL, "InvalidRequestException", "clientId must be 1 to 128 characters.");
	if (client[0] == '$')
		return dd_fail(c, DD_EINVAL, "InvalidRequestException", "clientId can't start with a dollar sign ($).");
	if (dd_db_begin_write(c->db))
		return dd_fail(c, DD_EIO, "InternalFailureException", "An internal store error occurred.");
	sqlite3_stmt *st = dd_db_stmt(c->db, "SELECT event FROM connection_events WHERE account = ?1 AND client_id = ?2"
					     " ORDER BY ts DESC, seq DESC LIMIT 1");
	int s = SQLITE_ERROR;
	bool connected = false;
	if (st) {
		dd_bind_text(st, 1, c->account);
		dd_bind_text(st, 2, client);
		s = sqlite3_step(st);
		connected = s == SQLITE_ROW && strcmp(dd_col_text(st, 0), "connect") == 0;
		sqlite3_reset(st);
	}
	if (s != SQLITE_ROW && s != SQLITE_DONE) {
		dd_db_rollback(c->db);
		return dd_fail(c, DD_EIO, "InternalFailureException", "An internal store error occurred.");
	}
	if (!connected) {
		dd_db_rollback(c->db);
		return dd_fail(c, DD_ENOTFOUND, "ResourceNotFoundException", "No connection found for client %s.", client);
	}
	json_t *arg = json_pack("{s:b, s:b}", "cleanSession", json_is_true(json_object_get(in, "cleanSession")),
				"preventWillMessage", json_is_true(json_object_get(in, "preventWillMessage")));
	char *text = arg ? json_dumps(arg, JSON_COMPACT) : NULL;
	json_decref(arg);
	int rc = text ? dd_changes_note(c->db, c->account, "connection", client, text, c->now_ms) : DD_ENOMEM;
	free(text);
	if (rc || dd_db_commit(c->db)) {
		dd_db_rollback(c->db);
		return dd_fail(c, DD_EIO, "InternalFailureException", "An internal store error occurred.");
	}
	return 0;
}

const struct dd_handler dd_broker_handlers[] = {
	{ "iotdata", "DeleteConnection", delete_connection },
	{ NULL, NULL, NULL },
};

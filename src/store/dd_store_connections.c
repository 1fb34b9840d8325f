/* SPDX-License-Identifier: Apache-2.0 */
/*
 * SQLite implementation of store/dd_store_connections.h. The broker's counters live in
 * server_meta under "broker_stats/<region>" as five decimal numbers separated by spaces
 * (connected, connects, disconnects, refusals, updated_ms), so they need no table of
 * their own.
 */
#include "store/dd_store_int.h"
#include "store/dd_store_connections.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dd/store.h"

int dd_store_connections_cert_find(struct dd_db *db, const char *cert_id, const char *only_account,
				   const char *region, struct dd_store_connections_cert *out)
{
	struct dd_stmt *st = dd_db_stmt(db, "SELECT account_region, status, ca_id, issuer, serial FROM certificates WHERE id = ?1"
					  " AND substr(account_region, 14) = ?3 AND (?2 = '' OR account_region = ?2 || '/' || ?3)"
					  " ORDER BY status = 'ACTIVE' DESC, account_region LIMIT 1");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, cert_id);
	dd_bind_text(st, 2, only_account);
	dd_bind_text(st, 3, region);
	int s = dd_stmt_step(st);
	if (s == DD_STMT_ROW) {
		snprintf(out->account_region, sizeof out->account_region, "%s", dd_col_text(st, 0));
		snprintf(out->status, sizeof out->status, "%s", dd_col_text(st, 1));
		snprintf(out->ca_id, sizeof out->ca_id, "%s", dd_col_text(st, 2));
		snprintf(out->issuer, sizeof out->issuer, "%s", dd_col_text(st, 3));
		snprintf(out->serial, sizeof out->serial, "%s", dd_col_text(st, 4));
	}
	dd_stmt_reset(st);
	return s == DD_STMT_ROW ? 0 : s == DD_STMT_DONE ? DD_ENOTFOUND : DD_EIO;
}

int dd_store_connections_ca_status(struct dd_db *db, const char *account_region, const char *ca_id, char *status,
				   size_t len)
{
	struct dd_stmt *st = dd_db_stmt(db, "SELECT status FROM ca_certificates WHERE account_region = ?1 AND id = ?2");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account_region);
	dd_bind_text(st, 2, ca_id);
	int s = dd_stmt_step(st);
	if (s == DD_STMT_ROW)
		snprintf(status, len, "%s", dd_col_text(st, 0));
	dd_stmt_reset(st);
	return s == DD_STMT_ROW ? 0 : s == DD_STMT_DONE ? DD_ENOTFOUND : DD_EIO;
}

int dd_store_connections_thing_principals(struct dd_db *db, const char *account_region, const char *thing,
					  dd_store_connections_text_fn fn, void *ud)
{
	struct dd_stmt *st = dd_db_stmt(db, "SELECT principal FROM thing_principals WHERE account_region = ?1 AND thing_name = ?2");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account_region);
	dd_bind_text(st, 2, thing);
	int s = DD_STMT_DONE, rc = 0;
	while (!rc && (s = dd_stmt_step(st)) == DD_STMT_ROW)
		rc = fn(dd_col_text(st, 0), ud);
	dd_stmt_reset(st);
	return rc ? rc : s == DD_STMT_DONE ? 0 : DD_EIO;
}

int dd_store_connections_logging(struct dd_db *db, const char *account_region, char *v1, size_t v1len, char *v2,
				 size_t v2len)
{
	v1[0] = v2[0] = 0;
	struct dd_stmt *st = dd_db_stmt(db, "SELECT key, value FROM settings WHERE account_region = ?1 AND key IN ('logging_v2', 'logging_v1')");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account_region);
	int s;
	while ((s = dd_stmt_step(st)) == DD_STMT_ROW) {
		if (strcmp(dd_col_text(st, 0), "logging_v2") == 0)
			snprintf(v2, v2len, "%s", dd_col_text(st, 1));
		else
			snprintf(v1, v1len, "%s", dd_col_text(st, 1));
	}
	dd_stmt_reset(st);
	return s == DD_STMT_DONE ? 0 : DD_EIO;
}

int dd_store_connections_last_event(struct dd_db *db, const char *account_region, const char *client_id, char *event,
				    size_t len)
{
	struct dd_stmt *st = dd_db_stmt(db, "SELECT event FROM connection_events WHERE account_region = ?1 AND client_id = ?2"
					  " ORDER BY ts DESC, seq DESC LIMIT 1");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account_region);
	dd_bind_text(st, 2, client_id);
	int s = dd_stmt_step(st);
	if (s == DD_STMT_ROW)
		snprintf(event, len, "%s", dd_col_text(st, 0));
	dd_stmt_reset(st);
	return s == DD_STMT_ROW ? 0 : s == DD_STMT_DONE ? DD_ENOTFOUND : DD_EIO;
}

int dd_store_connections_tally(struct dd_db *db, const char *account_region, const char *client_id, int *connects,
			       int *disconnects, char *reason, size_t rlen)
{
	*connects = *disconnects = 0;
	if (reason && rlen)
		reason[0] = '\0';
	struct dd_stmt *st = dd_db_stmt(db, "SELECT event, reason FROM connection_events WHERE account_region = ?1"
					  " AND client_id = ?2 ORDER BY seq");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account_region);
	dd_bind_text(st, 2, client_id);
	int rc;
	while ((rc = dd_stmt_step(st)) == DD_STMT_ROW) {
		if (strcmp(dd_col_text(st, 0), "connect") == 0) {
			(*connects)++;
		} else {
			(*disconnects)++;
			if (reason && rlen)
				snprintf(reason, rlen, "%s", dd_col_text(st, 1));
		}
	}
	dd_stmt_reset(st);
	return rc == DD_STMT_DONE ? 0 : DD_EIO;
}

/* Parses the five numbers of a stats value; a malformed value reads as zeros. */
static void stats_parse(const char *text, struct dd_store_connections_stats *s)
{
	int64_t v[5] = { 0, 0, 0, 0, 0 };
	const char *p = text;
	for (int i = 0; i < 5; i++) {
		char *end;
		errno = 0;
		long long n = strtoll(p, &end, 10);
		if (end == p || errno)
			return;
		v[i] = n;
		p = end;
	}
	s->connected = v[0];
	s->connects = v[1];
	s->disconnects = v[2];
	s->refusals = v[3];
	s->updated_ms = v[4];
}

int dd_store_connections_stats_add(struct dd_db *db, const char *region, const struct dd_store_connections_stats *d)
{
	struct dd_store_connections_stats cur = { .connected = 0 };
	struct dd_stmt *st = dd_db_stmt(db, "SELECT value FROM server_meta WHERE key = 'broker_stats/' || ?1");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, region);
	int s = dd_stmt_step(st);
	if (s == DD_STMT_ROW)
		stats_parse(dd_col_text(st, 0), &cur);
	dd_stmt_reset(st);
	if (s != DD_STMT_ROW && s != DD_STMT_DONE)
		return DD_EIO;
	char value[160];
	snprintf(value, sizeof value, "%lld %lld %lld %lld %lld", (long long)d->connected,
		 (long long)(cur.connects + d->connects), (long long)(cur.disconnects + d->disconnects),
		 (long long)(cur.refusals + d->refusals), (long long)d->updated_ms);
	st = dd_db_stmt(db, "INSERT INTO server_meta(key, value) VALUES ('broker_stats/' || ?1, ?2)"
			    " ON CONFLICT(key) DO UPDATE SET value = excluded.value");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, region);
	dd_bind_text(st, 2, value);
	return dd_step_done(st);
}

struct stats_cb {
	dd_store_connections_stats_fn fn;
	void *ud;
};

static int stats_row(struct dd_stmt *st, void *ctx)
{
	const struct stats_cb *c = ctx;
	struct dd_store_connections_stats row = { .connected = 0 };
	snprintf(row.region, sizeof row.region, "%s", dd_col_text(st, 0));
	stats_parse(dd_col_text(st, 1), &row);
	return c->fn(&row, c->ud);
}

int dd_store_connections_stats_list(struct dd_db *db, dd_store_connections_stats_fn fn, void *ud)
{
	struct dd_stmt *st = dd_db_stmt(db, "SELECT substr(key, 14), value FROM server_meta WHERE key > 'broker_stats/'"
					  " AND key < 'broker_stats0' ORDER BY key");
	if (!st)
		return DD_EIO;
	return dd_stmt_each(st, stats_row, &(struct stats_cb){ fn, ud }, DD_EACH_PASS);
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The SQL of the audit checks' reads (see dd_store_audit_reads.h). The connection event
 * scans stream in key order without a sort: by client, the table itself (its key is
 * account_region, client_id, ts, seq; m017), by certificate, the covering index
 * connection_events_cert; seq breaks ties between events of the same millisecond.
 */
#include "store/dd_store_int.h"
#include "store/dd_store_audit_reads.h"

#include <stdlib.h>
#include <string.h>

#include "dd/store.h"

static int finish(struct dd_stmt *st, int s, int rc)
{
	dd_stmt_reset(st);
	if (rc)
		return rc;
	return s == DD_STMT_DONE ? 0 : DD_EIO;
}

static const char *col_opt(struct dd_stmt *st, int i)
{
	return dd_col_text_or_null(st, i);
}

int dd_store_audit_reads_policies(struct dd_db *db, const char *account_region, dd_store_audit_reads_policy_fn fn, void *ud)
{
	struct dd_stmt *st = dd_db_stmt_scan(db, "SELECT p.name, p.default_version, v.document FROM policies p"
					 " JOIN policy_versions v ON v.account_region = p.account_region AND v.policy_name = p.name"
					 " AND v.version = p.default_version WHERE p.account_region = ?1 ORDER BY p.name");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account_region);
	int s, rc = 0;
	while ((s = dd_stmt_step(st)) == DD_STMT_ROW)
		if ((rc = fn(dd_col_text(st, 0), dd_col_int64(st, 1), dd_col_text(st, 2), ud)) != 0)
			break;
	return finish(st, s, rc);
}

int dd_store_audit_reads_role_aliases(struct dd_db *db, const char *account_region, dd_store_audit_reads_alias_fn fn, void *ud)
{
	struct dd_stmt *st = dd_db_stmt(db, "SELECT alias, role_arn FROM role_aliases WHERE account_region = ?1"
					 " ORDER BY role_arn, alias");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account_region);
	return dd_stmt_each_text_pair(st, fn, ud);
}

int dd_store_audit_reads_setting(struct dd_db *db, const char *account_region, const char *key, char **value)
{
	*value = NULL;
	struct dd_stmt *st = dd_db_stmt(db, "SELECT value FROM settings WHERE account_region = ?1 AND key = ?2");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account_region);
	dd_bind_text(st, 2, key);
	int s = dd_stmt_step(st), rc = 0;
	if (s == DD_STMT_ROW) {
		*value = strdup(dd_col_text(st, 0));
		if (!*value)
			rc = DD_ENOMEM;
	} else {
		rc = s == DD_STMT_DONE ? DD_ENOTFOUND : DD_EIO;
	}
	dd_stmt_reset(st);
	return rc;
}

int dd_store_audit_reads_ca_ident(struct dd_db *db, const char *account_region, const char *id,
				  dd_store_audit_reads_ca_fn fn, void *ud)
{
	struct dd_stmt *st = dd_db_stmt(db, "SELECT coalesce(subject, ''), coalesce(serial, '') FROM ca_certificates"
					 " WHERE account_region = ?1 AND id = ?2");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account_region);
	dd_bind_text(st, 2, id);
	int s = dd_stmt_step(st), rc;
	if (s == DD_STMT_ROW)
		rc = fn(dd_col_text(st, 0), dd_col_text(st, 1), ud);
	else
		rc = s == DD_STMT_DONE ? DD_ENOTFOUND : DD_EIO;
	dd_stmt_reset(st);
	return rc;
}

struct event_cb {
	dd_store_audit_reads_event_fn fn;
	void *ud;
	bool with_principal;
};

static int event_row(struct dd_stmt *st, void *ctx)
{
	const struct event_cb *c = ctx;
	const char *ev = dd_col_text_or_null(st, 3);
	struct dd_store_audit_event e = {
		.client_id = dd_col_text(st, 0), .certificate_id = col_opt(st, 1),
		.principal = c->with_principal ? col_opt(st, 2) : NULL,
		.connect = ev && strcmp(ev, "connect") == 0, .ts = dd_col_int64(st, 4),
		.reason = col_opt(st, 5),
	};
	return c->fn(&e, c->ud);
}

/* with_principal false: the statement's third column is NULL for every row (not read) */
static int events_walk(struct dd_stmt *st, const char *account_region, int64_t from_ms, int64_t to_ms, bool with_principal,
		       dd_store_audit_reads_event_fn fn, void *ud)
{
	dd_bind_text(st, 1, account_region);
	dd_bind_int64(st, 2, from_ms);
	dd_bind_int64(st, 3, to_ms);
	return dd_stmt_each(st, event_row, &(struct event_cb){ fn, ud, with_principal }, DD_EACH_PASS);
}

int dd_store_audit_reads_events_by_cert(struct dd_db *db, const char *account_region, int64_t from_ms, int64_t to_ms,
					dd_store_audit_reads_event_fn fn, void *ud)
{
	struct dd_stmt *st = dd_db_stmt_scan(db, "SELECT client_id, certificate_id, NULL, event, ts, reason FROM connection_events"
					 " WHERE account_region = ?1 AND certificate_id IS NOT NULL AND ts >= ?2 AND ts <= ?3"
					 " ORDER BY certificate_id, ts, seq");
	if (!st)
		return DD_EIO;
	return events_walk(st, account_region, from_ms, to_ms, false, fn, ud);
}

int dd_store_audit_reads_events_by_client(struct dd_db *db, const char *account_region, int64_t from_ms, int64_t to_ms,
					  dd_store_audit_reads_event_fn fn, void *ud)
{
	struct dd_stmt *st = dd_db_stmt_scan(db, "SELECT client_id, certificate_id, principal, event, ts, reason"
					 " FROM connection_events WHERE account_region = ?1 AND ts >= ?2 AND ts <= ?3"
					 " ORDER BY client_id, ts, seq");
	if (!st)
		return DD_EIO;
	return events_walk(st, account_region, from_ms, to_ms, true, fn, ud);
}

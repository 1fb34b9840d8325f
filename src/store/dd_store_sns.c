/* SPDX-License-Identifier: Apache-2.0 */
/*
 * SQLite implementation of the SNS store (dd_store_sns.h): tables sns_topics,
 * sns_subscriptions, sns_signing (one row, id 1) and the inserting side of sns_outbox.
 * Attributes are JSON text columns, edited in place with SQLite's JSON functions.
 */
#include "store/dd_store_int.h"
#include "store/dd_store_sns.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "dd/store.h"

struct text_cb {
	dd_store_sns_text_fn fn;
	void *ud;
};

static int text_row(struct dd_stmt *st, void *ctx)
{
	const struct text_cb *c = ctx;
	return c->fn(dd_col_text(st, 0), c->ud);
}

/* Steps st to its end, calling fn with column 0 text; resets st. */
static int each_text(struct dd_stmt *st, dd_store_sns_text_fn fn, void *ud)
{
	return dd_stmt_each(st, text_row, &(struct text_cb){ fn, ud }, DD_EACH_LIST);
}

static int count_row(struct dd_stmt *st, int64_t *n)
{
	int rc = dd_stmt_step(st);
	if (rc == DD_STMT_ROW)
		*n = dd_col_int64(st, 0);
	dd_stmt_reset(st);
	return rc == DD_STMT_ROW ? 0 : DD_EIO;
}

/* ---- topics -------------------------------------------------------------------------- */

int dd_store_sns_topic_create(struct dd_db *db, const char *account, const char *arn, const char *name,
			      const char *region, const char *attributes, const char *tags, int64_t created_ms)
{
	struct dd_stmt *st = dd_db_stmt(db, "INSERT INTO sns_topics(account, arn, name, region, attributes, tags, created)"
					  " VALUES (?1, ?2, ?3, ?4, coalesce(?5, '{}'), coalesce(?6, '[]'), ?7) ON CONFLICT DO NOTHING");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account);
	dd_bind_text(st, 2, arn);
	dd_bind_text(st, 3, name);
	dd_bind_text(st, 4, region);
	dd_bind_text(st, 5, attributes);
	dd_bind_text(st, 6, tags);
	dd_bind_int64(st, 7, created_ms);
	return dd_step_done(st);
}

int dd_store_sns_topic_exists(struct dd_db *db, const char *account, const char *arn, bool *exists)
{
	struct dd_stmt *st = dd_db_stmt(db, "SELECT 1 FROM sns_topics WHERE account = ?1 AND arn = ?2");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account);
	dd_bind_text(st, 2, arn ? arn : "");
	int rc = dd_stmt_step(st);
	dd_stmt_reset(st);
	if (rc != DD_STMT_ROW && rc != DD_STMT_DONE)
		return DD_EIO;
	*exists = rc == DD_STMT_ROW;
	return 0;
}

int dd_store_sns_topic_list(struct dd_db *db, const char *account, const char *region, const char *after, int limit,
			    dd_store_sns_text_fn fn, void *ud)
{
	struct dd_stmt *st = dd_db_stmt(db, "SELECT arn FROM sns_topics WHERE account = ?1 AND region = ?2 AND arn > ?3"
					  " ORDER BY arn LIMIT ?4");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account);
	dd_bind_text(st, 2, region);
	dd_bind_text(st, 3, after ? after : "");
	dd_bind_int64(st, 4, limit);
	return each_text(st, fn, ud);
}

int dd_store_sns_topic_attributes(struct dd_db *db, const char *account, const char *arn, char **attributes)
{
	struct dd_stmt *st = dd_db_stmt(db, "SELECT attributes FROM sns_topics WHERE account = ?1 AND arn = ?2");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account);
	dd_bind_text(st, 2, arn ? arn : "");
	int rc = dd_stmt_step(st);
	int ret = rc == DD_STMT_DONE ? DD_ENOTFOUND : DD_EIO;
	if (rc == DD_STMT_ROW) {
		*attributes = strdup(dd_col_text(st, 0));
		ret = *attributes ? 0 : DD_ENOMEM;
	}
	dd_stmt_reset(st);
	return ret;
}

int dd_store_sns_topic_attribute_set(struct dd_db *db, const char *account, const char *arn, const char *name,
				     const char *value)
{
	if (!name || strlen(name) > 256 || strchr(name, '"'))
		return DD_EINVAL;
	/* the member ?3 set to the string ?4, or removed: SQLite's json_set/json_remove with the
	 * path $."name", PostgreSQL's jsonb operators (which store the object normalized) */
	struct dd_stmt *st = dd_db_is_pg(db)
		? dd_db_stmt(db, "UPDATE sns_topics SET attributes = CASE WHEN ?4 IS NULL OR ?4 = ''"
				 " THEN CAST(CAST(attributes AS jsonb) - CAST(?3 AS text) AS text)"
				 " ELSE CAST(jsonb_set(CAST(attributes AS jsonb), ARRAY[CAST(?3 AS text)], to_jsonb(CAST(?4 AS text)))"
				 " AS text) END WHERE account = ?1 AND arn = ?2")
		: dd_db_stmt(db, "UPDATE sns_topics SET attributes = CASE WHEN ?4 IS NULL OR ?4 = ''"
				 " THEN json_remove(attributes, '$.\"' || ?3 || '\"')"
				 " ELSE json_set(attributes, '$.\"' || ?3 || '\"', ?4) END WHERE account = ?1 AND arn = ?2");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account);
	dd_bind_text(st, 2, arn ? arn : "");
	dd_bind_text(st, 3, name);
	dd_bind_text(st, 4, value);
	int rc = dd_step_done(st);
	if (!rc && dd_db_changes(db) == 0)
		rc = DD_ENOTFOUND;
	return rc;
}

int dd_store_sns_topic_delete(struct dd_db *db, const char *account, const char *arn)
{
	struct dd_stmt *st = dd_db_stmt(db, "DELETE FROM sns_subscriptions WHERE account = ?1 AND topic_arn = ?2");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account);
	dd_bind_text(st, 2, arn ? arn : "");
	int rc = dd_step_done(st);
	if (rc)
		return rc;
	st = dd_db_stmt(db, "DELETE FROM sns_topics WHERE account = ?1 AND arn = ?2");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account);
	dd_bind_text(st, 2, arn ? arn : "");
	return dd_step_done(st);
}

/* ---- subscriptions ----------------------------------------------------------------------- */

#define SUB_COLS "arn, topic_arn, protocol, endpoint, token, attributes, confirmed, created"

/* RawMessageDelivery of a subscription's attributes: the string "true" (any case). */
static bool raw_delivery(const char *attributes)
{
	json_t *a = json_loads(attributes, 0, NULL);
	const char *v = json_string_value(json_object_get(a, "RawMessageDelivery"));
	bool raw = v && strcasecmp(v, "true") == 0;
	json_decref(a);
	return raw;
}

/* Steps st (its columns SUB_COLS) calling fn; with one set, only the first row. */
static int each_sub(struct dd_stmt *st, bool one, dd_store_sns_subscription_fn fn, void *ud)
{
	int rc, r = 0;
	bool any = false;
	while ((rc = dd_stmt_step(st)) == DD_STMT_ROW) {
		struct dd_store_sns_subscription s = {
			.arn = dd_col_text(st, 0), .topic_arn = dd_col_text(st, 1), .protocol = dd_col_text(st, 2),
			.endpoint = dd_col_text(st, 3), .token = dd_col_text(st, 4), .attributes = dd_col_text(st, 5),
			.confirmed = dd_col_int(st, 6) != 0, .raw = raw_delivery(dd_col_text(st, 5)),
			.created_ms = dd_col_int64(st, 7),
		};
		any = true;
		if ((r = fn(&s, ud)) || one)
			break;
	}
	dd_stmt_reset(st);
	if (r)
		return r < 0 ? r : 0;
	if (one)
		return any ? 0 : rc == DD_STMT_DONE ? DD_ENOTFOUND : DD_EIO;
	return rc == DD_STMT_DONE ? 0 : DD_EIO;
}

int dd_store_sns_subscription_find(struct dd_db *db, const char *account, const char *topic_arn, const char *protocol,
				   const char *endpoint, dd_store_sns_subscription_fn fn, void *ud)
{
	struct dd_stmt *st = dd_db_stmt(db, "SELECT " SUB_COLS " FROM sns_subscriptions WHERE account = ?1"
					  " AND topic_arn = ?2 AND protocol = ?3 AND endpoint = ?4");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account);
	dd_bind_text(st, 2, topic_arn);
	dd_bind_text(st, 3, protocol);
	dd_bind_text(st, 4, endpoint);
	return each_sub(st, true, fn, ud);
}

int dd_store_sns_subscription_get(struct dd_db *db, const char *account, const char *arn,
				  dd_store_sns_subscription_fn fn, void *ud)
{
	struct dd_stmt *st = dd_db_stmt(db, "SELECT " SUB_COLS " FROM sns_subscriptions WHERE account = ?1 AND arn = ?2");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account);
	dd_bind_text(st, 2, arn ? arn : "");
	return each_sub(st, true, fn, ud);
}

int dd_store_sns_subscription_insert(struct dd_db *db, const char *account, const struct dd_store_sns_subscription *s)
{
	struct dd_stmt *st = dd_db_stmt(db, "INSERT INTO sns_subscriptions(account, arn, topic_arn, protocol, endpoint, confirmed,"
					  " token, attributes, created) VALUES (?1, ?2, ?3, ?4, ?5, 0, ?6, coalesce(?7, '{}'), ?8)");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account);
	dd_bind_text(st, 2, s->arn);
	dd_bind_text(st, 3, s->topic_arn);
	dd_bind_text(st, 4, s->protocol);
	dd_bind_text(st, 5, s->endpoint);
	dd_bind_text(st, 6, s->token);
	dd_bind_text(st, 7, s->attributes);
	dd_bind_int64(st, 8, s->created_ms);
	return dd_step_done(st);
}

int dd_store_sns_subscription_confirm(struct dd_db *db, const char *account, const char *topic_arn, const char *token,
				      const char *auth_unsub, char *arn, size_t arnlen)
{
	struct dd_stmt *st = dd_db_is_pg(db)
		? dd_db_stmt(db,
		"UPDATE sns_subscriptions SET confirmed = 1,"
		" attributes = CASE WHEN ?4 IS NULL THEN attributes ELSE CAST(jsonb_set(CAST(attributes AS jsonb),"
		" '{AuthenticateOnUnsubscribe}', to_jsonb(CAST(?4 AS text))) AS text) END"
		" WHERE token = ?1 AND topic_arn = ?2 AND (?3 IS NULL OR account = ?3) RETURNING arn")
		: dd_db_stmt(db,
		"UPDATE sns_subscriptions SET confirmed = 1,"
		" attributes = CASE WHEN ?4 IS NULL THEN attributes ELSE json_set(attributes, '$.AuthenticateOnUnsubscribe', ?4) END"
		" WHERE token = ?1 AND topic_arn = ?2 AND (?3 IS NULL OR account = ?3) RETURNING arn");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, token);
	dd_bind_text(st, 2, topic_arn);
	dd_bind_text(st, 3, account);
	dd_bind_text(st, 4, auth_unsub);
	int rc = dd_stmt_step(st), ret = rc == DD_STMT_DONE ? DD_ENOTFOUND : DD_EIO;
	if (rc == DD_STMT_ROW) {
		snprintf(arn, arnlen, "%s", dd_col_text(st, 0));
		while ((rc = dd_stmt_step(st)) == DD_STMT_ROW)
			;
		ret = rc == DD_STMT_DONE ? 0 : DD_EIO;
	}
	dd_stmt_reset(st);
	return ret;
}

int dd_store_sns_subscription_delete(struct dd_db *db, const char *account, const char *arn)
{
	struct dd_stmt *st = dd_db_stmt(db, "DELETE FROM sns_subscriptions WHERE account = ?1 AND arn = ?2");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account);
	dd_bind_text(st, 2, arn ? arn : "");
	int rc = dd_step_done(st);
	if (!rc && dd_db_changes(db) == 0)
		rc = DD_ENOTFOUND;
	return rc;
}

int dd_store_sns_subscription_list(struct dd_db *db, const char *account, const char *topic_arn,
				   const char *topic_prefix, const char *after, int limit,
				   dd_store_sns_subscription_fn fn, void *ud)
{
	struct dd_stmt *st = dd_db_stmt(db, "SELECT " SUB_COLS " FROM sns_subscriptions WHERE account = ?1"
					  " AND (?2 IS NULL OR topic_arn = ?2) AND substr(topic_arn, 1, length(?3)) = ?3 AND arn > ?4"
					  " ORDER BY arn LIMIT ?5");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account);
	dd_bind_text(st, 2, topic_arn);
	dd_bind_text(st, 3, topic_prefix ? topic_prefix : "");
	dd_bind_text(st, 4, after ? after : "");
	dd_bind_int64(st, 5, limit < 0 ? -1 : limit);
	return each_sub(st, false, fn, ud);
}

int dd_store_sns_subscription_count(struct dd_db *db, const char *account, const char *topic_arn, bool confirmed,
				    int64_t *n)
{
	struct dd_stmt *st = dd_db_stmt(db, "SELECT count(*) FROM sns_subscriptions WHERE account = ?1 AND topic_arn = ?2"
					  " AND confirmed = ?3");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account);
	dd_bind_text(st, 2, topic_arn ? topic_arn : "");
	dd_bind_int64(st, 3, confirmed ? 1 : 0);
	return count_row(st, n);
}

/* ---- the signing key ----------------------------------------------------------------------- */

int dd_store_sns_signing_get(struct dd_db *db, char **cert_pem, char **key_pem)
{
	struct dd_stmt *st = dd_db_stmt(db, "SELECT cert_pem, key_pem FROM sns_signing WHERE id = 1");
	if (!st)
		return DD_EIO;
	int step = dd_stmt_step(st);
	int rc = step == DD_STMT_DONE ? DD_ENOTFOUND : DD_EIO;
	if (step == DD_STMT_ROW) {
		char *c = strdup(dd_col_text(st, 0)), *k = strdup(dd_col_text(st, 1));
		if (c && k) {
			*cert_pem = c;
			*key_pem = k;
			rc = 0;
		} else {
			free(c);
			free(k);
			rc = DD_ENOMEM;
		}
	}
	dd_stmt_reset(st);
	return rc;
}

int dd_store_sns_signing_put(struct dd_db *db, const char *cert_pem, const char *key_pem, int64_t created_ms)
{
	struct dd_stmt *st = dd_db_stmt(db, "INSERT INTO sns_signing(id, cert_pem, key_pem, created) VALUES (1, ?1, ?2, ?3)"
					  " ON CONFLICT DO NOTHING");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, cert_pem);
	dd_bind_text(st, 2, key_pem);
	dd_bind_int64(st, 3, created_ms);
	return dd_step_done(st);
}

/* ---- outbox rows ------------------------------------------------------------------------------ */

int dd_store_sns_outbox_insert(struct dd_db *db, const struct dd_store_sns_outbox_row *r)
{
	struct dd_stmt *st = dd_db_stmt(db,
		"INSERT INTO sns_outbox(account, topic_arn, subscription_arn, message_id, type, protocol, endpoint,"
		" subject, body, status, attempts, next_at, created, updated, last_error, delivery_key)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, 0, ?11, ?11, ?11, ?12, ?13) ON CONFLICT DO NOTHING");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, r->account);
	dd_bind_text(st, 2, r->topic_arn);
	dd_bind_text(st, 3, r->subscription_arn);
	dd_bind_text(st, 4, r->message_id);
	dd_bind_text(st, 5, r->type);
	dd_bind_text(st, 6, r->protocol);
	dd_bind_text(st, 7, r->endpoint);
	dd_bind_text(st, 8, r->subject);
	dd_bind_text(st, 9, r->body);
	dd_bind_text(st, 10, r->status);
	dd_bind_int64(st, 11, r->now_ms);
	dd_bind_text(st, 12, r->last_error);
	dd_bind_text(st, 13, r->delivery_key);
	return dd_step_done(st);
}

int dd_store_sns_outbox_cancel(struct dd_db *db, const char *account, const char *topic_arn, const char *subscription_arn,
			       int64_t now_ms)
{
	struct dd_stmt *st = dd_db_stmt(db, "UPDATE sns_outbox SET status = 'CANCELLED', updated = ?4"
					  " WHERE account = ?1 AND status IN ('PENDING', 'INFLIGHT')"
					  " AND (?2 IS NULL OR topic_arn = ?2) AND (?3 IS NULL OR subscription_arn = ?3)");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account);
	dd_bind_text(st, 2, topic_arn);
	dd_bind_text(st, 3, subscription_arn);
	dd_bind_int64(st, 4, now_ms);
	return dd_step_done(st);
}

int dd_store_sns_outbox_count(struct dd_db *db, const char *account, const char *topic_arn, const char *status,
			      int64_t *n)
{
	struct dd_stmt *st = dd_db_stmt(db, "SELECT count(*) FROM sns_outbox WHERE account = ?1 AND topic_arn = ?2 AND status = ?3");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account);
	dd_bind_text(st, 2, topic_arn ? topic_arn : "");
	dd_bind_text(st, 3, status);
	return count_row(st, n);
}


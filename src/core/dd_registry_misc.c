/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The rest of the registry the audit reads and the mitigations change: role aliases,
 * v1 and v2 logging options (kept per account and region in `settings`), v2 log levels, tags,
 * DescribeEndpoint, and our connection-event ingestion extension (NDJSON batches, each
 * line validated; a bad line rejects the whole batch with its line number).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/dd_registry_int.h"
#include "core/dd_registry_handlers.h"
#include "dd/changes.h"
#include "dd/iam.h"
#include "dd/service.h"


int dd__tags_put(struct dd_ctx *c, const char *arn, json_t *tags)
{
	size_t i;
	json_t *t;
	json_array_foreach(tags, i, t) {
		sqlite3_stmt *st = dd_db_stmt(c->db, "INSERT OR REPLACE INTO tags(account_region, resource_arn, key, value) VALUES (?1, ?2, ?3, ?4)");
		if (!st)
			return DD_EIO;
		const char *v = dd__str(t, "Value");
		dd_bind_text(st, 1, c->account_region);
		dd_bind_text(st, 2, arn);
		dd_bind_text(st, 3, dd__str(t, "Key"));
		dd_bind_text(st, 4, v ? v : "");
		if (dd_step_done(st))
			return DD_EIO;
	}
	return 0;
}

/* ---- role aliases ------------------------------------------------------------------ */

int dd_iot_create_role_alias(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *alias = dd__str(in, "roleAlias");
	const char *role = dd__str(in, "roleArn");
	int64_t duration = dd__int(in, "credentialDurationSeconds", 3600);
	if (dd__role_arn_ok(c, "roleArn", role, "InvalidRequestException"))
		return c->err;
	if (dd_db_begin_write(c->db))
		return dd__db_fail(c);
	sqlite3_stmt *st = dd_db_stmt(c->db, "INSERT OR IGNORE INTO role_aliases(account_region, alias, role_arn, duration, created, modified) VALUES (?1, ?2, ?3, ?4, ?5, ?5)");
	if (!st)
		return dd__db_fail(c);
	dd_bind_text(st, 1, c->account_region);
	dd_bind_text(st, 2, alias);
	dd_bind_text(st, 3, role);
	dd_bind_int64(st, 4, duration);
	dd_bind_int64(st, 5, c->now_ms);
	if (dd_step_done(st))
		return dd__db_fail(c);
	if (sqlite3_changes(dd_db_handle(c->db)) == 0) {
		dd_db_rollback(c->db);
		char aarn[700];
		dd__arn_buf(c, aarn, sizeof aarn, "rolealias/%s", alias);
		return dd_fail_exists(c, alias, aarn, "Role alias %s already exists.", alias);
	}
	char arn[700];
	dd__arn_buf(c, arn, sizeof arn, "rolealias/%s", alias);
	if (dd__tags_put(c, arn, json_object_get(in, "tags")) || dd_db_commit(c->db))
		return dd__db_fail(c);
	*out = json_pack("{s:s, s:s}", "roleAlias", alias, "roleAliasArn", arn);
	return 0;
}

int dd_iot_describe_role_alias(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *alias = dd__str(in, "roleAlias");
	sqlite3_stmt *st = dd_db_stmt(c->db, "SELECT role_arn, duration, created, modified FROM role_aliases WHERE account_region = ?1 AND alias = ?2");
	if (!st)
		return dd__db_fail(c);
	dd_bind_text(st, 1, c->account_region);
	dd_bind_text(st, 2, alias);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_reset(st);
		return dd_fail(c, DD_ENOTFOUND, "ResourceNotFoundException", "Role alias %s does not exist.", alias);
	}
	json_t *d = json_pack("{s:s, s:o, s:s, s:s, s:I, s:o, s:o}", "roleAlias", alias, "roleAliasArn",
			      dd__arn(c, "rolealias/%s", alias), "roleArn", dd_col_text(st, 0), "owner", c->account,
			      "credentialDurationSeconds", (json_int_t)sqlite3_column_int64(st, 1), "creationDate",
			      dd_json_time(sqlite3_column_int64(st, 2)), "lastModifiedDate",
			      dd_json_time(sqlite3_column_int64(st, 3)));
	sqlite3_reset(st);
	*out = json_pack("{s:o}", "roleAliasDescription", d);
	return 0;
}

int dd_iot_list_role_aliases(struct dd_ctx *c, json_t *in, json_t **out)
{
	char after[512];
	int size;
	if (dd__page(c, in, "marker", "pageSize", 250, 250, after, sizeof after, &size))
		return c->err;
	bool asc = dd__bool(in, "ascendingOrder", true);
	sqlite3_stmt *st = asc
		? dd_db_stmt(c->db, "SELECT alias FROM role_aliases WHERE account_region = ?1 AND alias > ?2 ORDER BY alias LIMIT ?3")
		: dd_db_stmt(c->db, "SELECT alias FROM role_aliases WHERE account_region = ?1 AND (?2 = '' OR alias < ?2) ORDER BY alias DESC LIMIT ?3");
	if (!st)
		return dd__db_fail(c);
	dd_bind_text(st, 1, c->account_region);
	dd_bind_text(st, 2, after);
	dd_bind_int64(st, 3, size + 1);
	return dd__page_list(c, st, size, dd__row_text0, "roleAliases", "nextMarker", out);
}

int dd_iot_update_role_alias(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *alias = dd__str(in, "roleAlias");
	const char *role = dd__str(in, "roleArn");
	int64_t duration = dd__int(in, "credentialDurationSeconds", -1);
	if (role && dd__role_arn_ok(c, "roleArn", role, "InvalidRequestException"))
		return c->err;
	if (dd_db_begin_write(c->db))
		return dd__db_fail(c);
	sqlite3_stmt *st = dd_db_stmt(c->db, "UPDATE role_aliases SET role_arn = coalesce(?3, role_arn),"
					     " duration = CASE WHEN ?4 < 0 THEN duration ELSE ?4 END, modified = ?5"
					     " WHERE account_region = ?1 AND alias = ?2");
	if (!st)
		return dd__db_fail(c);
	dd_bind_text(st, 1, c->account_region);
	dd_bind_text(st, 2, alias);
	dd_bind_text(st, 3, role);
	dd_bind_int64(st, 4, duration);
	dd_bind_int64(st, 5, c->now_ms);
	if (dd_step_done(st))
		return dd__db_fail(c);
	if (sqlite3_changes(dd_db_handle(c->db)) == 0) {
		dd_db_rollback(c->db);
		return dd_fail(c, DD_ENOTFOUND, "ResourceNotFoundException", "Role alias %s does not exist.", alias);
	}
	if (dd_db_commit(c->db))
		return dd__db_fail(c);
	*out = json_pack("{s:s, s:o}", "roleAlias", alias, "roleAliasArn", dd__arn(c, "rolealias/%s", alias));
	return 0;
}

int dd_iot_delete_role_alias(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *alias = dd__str(in, "roleAlias");
	*out = NULL;
	if (dd_db_begin_write(c->db))
		return dd__db_fail(c);
	sqlite3_stmt *st = dd_db_stmt(c->db, "DELETE FROM role_aliases WHERE account_region = ?1 AND alias = ?2");
	if (!st)
		return dd__db_fail(c);
	dd_bind_text(st, 1, c->account_region);
	dd_bind_text(st, 2, alias);
	if (dd_step_done(st))
		return dd__db_fail(c);
	if (sqlite3_changes(dd_db_handle(c->db)) == 0) {
		dd_db_rollback(c->db);
		return dd_fail(c, DD_ENOTFOUND, "ResourceNotFoundException", "Role alias %s does not exist.", alias);
	}
	if (dd_db_commit(c->db))
		return dd__db_fail(c);
	return 0;
}

/* ---- logging ----------------------------------------------------------------------- */

static json_t *setting_get(struct dd_ctx *c, const char *key)
{
	sqlite3_stmt *st = dd_db_stmt(c->db, "SELECT value FROM settings WHERE account_region = ?1 AND key = ?2");
	if (!st)
		return NULL;
	dd_bind_text(st, 1, c->account_region);
	dd_bind_text(st, 2, key);
	json_t *v = NULL;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = json_loads(dd_col_text(st, 0), 0, NULL);
	sqlite3_reset(st);
	return v;
}

static int setting_put(struct dd_ctx *c, const char *key, json_t *value)
{
	char *text = json_dumps(value, JSON_COMPACT | JSON_SORT_KEYS);
	if (!text)
		return DD_ENOMEM;
	sqlite3_stmt *st = dd_db_stmt(c->db, "INSERT OR REPLACE INTO settings(account_region, key, value) VALUES (?1, ?2, ?3)");
	int rc = st ? 0 : DD_EIO;
	if (!rc) {
		dd_bind_text(st, 1, c->account_region);
		dd_bind_text(st, 2, key);
		dd_bind_text(st, 3, text);
		rc = dd_step_done(st);
	}
	free(text);
	return rc;
}

static int check_role_arn(struct dd_ctx *c, const char *role)
{
	if (role && dd__role_arn_ok(c, "roleArn", role, "InvalidRequestException"))
		return c->err;
	return 0;
}

int dd_iot_get_logging_options(struct dd_ctx *c, json_t *in, json_t **out)
{
	(void)in;
	/* GetLoggingOptions declares no NotConfiguredException (GetV2LoggingOptions does):
	 * an account that never set v1 options gets an empty answer */
	json_t *v = setting_get(c, "logging_v1");
	*out = v ? v : json_object();
	return 0;
}

int dd_iot_set_logging_options(struct dd_ctx *c, json_t *in, json_t **out)
{
	json_t *p = json_object_get(in, "loggingOptionsPayload");
	const char *role = dd__str(p, "roleArn");
	const char *level = dd__str(p, "logLevel");
	*out = NULL;
	if (check_role_arn(c, role))
		return c->err;
	json_t *v = json_pack("{s:s, s:s}", "roleArn", role, "logLevel", level ? level : "ERROR");
	if (dd_db_begin_write(c->db)) {
		json_decref(v);
		return dd__db_fail(c);
	}
	int rc = setting_put(c, "logging_v1", v);
	json_decref(v);
	if (rc || dd_db_commit(c->db))
		return dd__db_fail(c);
	return 0;
}

int dd_iot_get_v2_logging_options(struct dd_ctx *c, json_t *in, json_t **out)
{
	(void)in;
	json_t *v = setting_get(c, "logging_v2");
	if (!v)
		return dd_fail(c, DD_ENOTFOUND, "NotConfiguredException", "V2 logging options are not configured for this account.");
	*out = v;
	return 0;
}

int dd_iot_set_v2_logging_options(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *role = dd__str(in, "roleArn");
	const char *level = dd__str(in, "defaultLogLevel");
	bool disable = dd__bool(in, "disableAllLogs", false);
	*out = NULL;
	if (check_role_arn(c, role))
		return c->err;
	if (dd_db_begin_write(c->db))
		return dd__db_fail(c);
	json_t *cur = setting_get(c, "logging_v2");
	if (!cur)
		cur = json_object();
	if (role)
		json_object_set_new(cur, "roleArn", json_string(role));
	json_object_set_new(cur, "defaultLogLevel", json_string(level ? level : "ERROR"));
	json_object_set_new(cur, "disableAllLogs", json_boolean(disable));
	int rc = setting_put(c, "logging_v2", cur);
	json_decref(cur);
	if (rc || dd_db_commit(c->db))
		return dd__db_fail(c);
	return 0;
}

int dd_iot_set_v2_logging_level(struct dd_ctx *c, json_t *in, json_t **out)
{
	json_t *target = json_object_get(in, "logTarget");
	const char *type = dd__str(target, "targetType");
	const char *name = dd__str(target, "targetName");
	*out = NULL;
	if (strcmp(type, "DEFAULT") != 0 && (!name || !*name))
		return dd_fail(c, DD_EINVAL, "InvalidRequestException", "logTarget.targetName is required for targetType %s.", type);
	if (dd_db_begin_write(c->db))
		return dd__db_fail(c);
	sqlite3_stmt *st = dd_db_stmt(c->db, "INSERT OR REPLACE INTO v2_log_levels(account_region, target_type, target_name, level) VALUES (?1, ?2, ?3, ?4)");
	if (!st)
		return dd__db_fail(c);
	dd_bind_text(st, 1, c->account_region);
	dd_bind_text(st, 2, type);
	dd_bind_text(st, 3, name ? name : "");
	dd_bind_text(st, 4, dd__str(in, "logLevel"));
	if (dd_step_done(st) || dd_db_commit(c->db))
		return dd__db_fail(c);
	return 0;
}

static json_t *log_level_row(struct dd_ctx *c, sqlite3_stmt *st, char *key, size_t keylen)
{
	(void)c;
	json_t *t = json_pack("{s:s}", "targetType", dd_col_text(st, 0));
	if (*dd_col_text(st, 1))
		json_object_set_new(t, "targetName", json_string(dd_col_text(st, 1)));
	snprintf(key, keylen, "%s/%s", dd_col_text(st, 0), dd_col_text(st, 1));
	return json_pack("{s:o, s:s}", "logTarget", t, "logLevel", dd_col_text(st, 2));
}

int dd_iot_list_v2_logging_levels(struct dd_ctx *c, json_t *in, json_t **out)
{
	char after[600];
	int size;
	if (dd__page(c, in, "nextToken", "maxResults", 50, 250, after, sizeof after, &size))
		return c->err;
	const char *type = dd__str(in, "targetType");
	sqlite3_stmt *st = dd_db_stmt(c->db, "SELECT target_type, target_name, level FROM v2_log_levels WHERE account_region = ?1"
					     " AND (?2 IS NULL OR target_type = ?2) AND target_type || '/' || target_name > ?3"
					     " ORDER BY target_type || '/' || target_name LIMIT ?4");
	if (!st)
		return dd__db_fail(c);
	dd_bind_text(st, 1, c->account_region);
	dd_bind_text(st, 2, type);
	dd_bind_text(st, 3, after);
	dd_bind_int64(st, 4, size + 1);
	return dd__page_list(c, st, size, log_level_row, "logTargetConfigurations", "nextToken", out);
}

int dd_iot_delete_v2_logging_level(struct dd_ctx *c, json_t *in, json_t **out)
{
	*out = NULL;
	if (dd_db_begin_write(c->db))
		return dd__db_fail(c);
	sqlite3_stmt *st = dd_db_stmt(c->db, "DELETE FROM v2_log_levels WHERE account_region = ?1 AND target_type = ?2 AND target_name = ?3");
	if (!st)
		return dd__db_fail(c);
	dd_bind_text(st, 1, c->account_region);
	dd_bind_text(st, 2, dd__str(in, "targetType"));
	dd_bind_text(st, 3, dd__str(in, "targetName"));
	if (dd_step_done(st) || dd_db_commit(c->db))
		return dd__db_fail(c);
	return 0;
}

/* ---- tags -------------------------------------------------------------------------- */

/* The resource kinds we keep, by the first segment of an IoT ARN's resource. */
static const struct {
	const char *kind;
	const char *sql;
} taggable[] = {
	{ "thing", "SELECT 1 FROM things WHERE account_region = ?1 AND name = ?2" },
	{ "thinggroup", "SELECT 1 FROM thing_groups WHERE account_region = ?1 AND name = ?2" },
	{ "thingtype", "SELECT 1 FROM thing_types WHERE account_region = ?1 AND name = ?2" },
	{ "billinggroup", "SELECT 1 FROM billing_groups WHERE account_region = ?1 AND name = ?2" },
	{ "rule", "SELECT 1 FROM topic_rules WHERE account_region = ?1 AND name = ?2" },
	{ "domainconfiguration", "SELECT 1 FROM domain_configurations WHERE account_region = ?1 AND name || '/' || arn_id = ?2" },
	{ "policy", "SELECT 1 FROM policies WHERE account_region = ?1 AND name = ?2" },
	{ "rolealias", "SELECT 1 FROM role_aliases WHERE account_region = ?1 AND alias = ?2" },
	{ "cert", "SELECT 1 FROM certificates WHERE account_region = ?1 AND id = ?2" },
	{ "cacert", "SELECT 1 FROM ca_certificates WHERE account_region = ?1 AND id = ?2" },
	{ "mitigationaction", "SELECT 1 FROM mitigation_actions WHERE account_region = ?1 AND name = ?2" },
	{ "scheduledaudit", "SELECT 1 FROM scheduled_audits WHERE account_region = ?1 AND name = ?2" },
};

/* Does arn name an existing resource of c's account and region? Fails c with
 * ResourceNotFoundException (declared by TagResource, UntagResource and
 * ListTagsForResource) when not, InvalidRequestException when it is no IoT ARN. */
static int check_resource_arn(struct dd_ctx *c, const char *arn)
{
	struct dd_arn a;
	if (dd_iam_arn_parse(arn, &a) || strcmp(a.service, "iot"))
		return dd_fail(c, DD_EINVAL, "InvalidRequestException", "resourceArn is not a valid AWS IoT ARN: %.700s", arn ? arn : "(missing)");
	if (strcmp(a.partition, "aws") || strcmp(a.account, c->account) || strcmp(a.region, c->region))
		return dd_fail(c, DD_ENOTFOUND, "ResourceNotFoundException", "Resource not found: %.700s", arn);
	const char *slash = strchr(a.resource, '/');
	for (size_t i = 0; slash && slash[1] && i < sizeof taggable / sizeof taggable[0]; i++) {
		if (strlen(taggable[i].kind) != (size_t)(slash - a.resource) ||
		    strncmp(taggable[i].kind, a.resource, (size_t)(slash - a.resource)) != 0)
			continue;
		sqlite3_stmt *st = dd_db_stmt(c->db, taggable[i].sql);
		if (!st)
			return dd__db_fail(c);
		dd_bind_text(st, 1, c->account_region);
		dd_bind_text(st, 2, slash + 1);
		int r = sqlite3_step(st);
		sqlite3_reset(st);
		if (r == SQLITE_ROW)
			return 0;
		if (r != SQLITE_DONE)
			return dd__db_fail(c);
		break;
	}
	return dd_fail(c, DD_ENOTFOUND, "ResourceNotFoundException", "Resource not found: %.700s", arn);
}

int dd_iot_tag_resource(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *arn = dd__str(in, "resourceArn");
	*out = NULL;
	if (check_resource_arn(c, arn))
		return c->err;
	if (dd_db_begin_write(c->db))
		return dd__db_fail(c);
	if (dd__tags_put(c, arn, json_object_get(in, "tags")) || dd_db_commit(c->db))
		return dd__db_fail(c);
	return 0;
}

int dd_iot_untag_resource(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *arn = dd__str(in, "resourceArn");
	*out = NULL;
	if (check_resource_arn(c, arn))
		return c->err;
	if (dd_db_begin_write(c->db))
		return dd__db_fail(c);
	size_t i;
	json_t *k;
	json_array_foreach(json_object_get(in, "tagKeys"), i, k) {
		sqlite3_stmt *st = dd_db_stmt(c->db, "DELETE FROM tags WHERE account_region = ?1 AND resource_arn = ?2 AND key = ?3");
		if (!st)
			return dd__db_fail(c);
		dd_bind_text(st, 1, c->account_region);
		dd_bind_text(st, 2, arn);
		dd_bind_text(st, 3, json_string_value(k));
		if (dd_step_done(st))
			return dd__db_fail(c);
	}
	if (dd_db_commit(c->db))
		return dd__db_fail(c);
	return 0;
}

static json_t *tag_row(struct dd_ctx *c, sqlite3_stmt *st, char *key, size_t keylen)
{
	(void)c;
	snprintf(key, keylen, "%s", dd_col_text(st, 0));
	return json_pack("{s:s, s:s}", "Key", key, "Value", dd_col_text(st, 1));
}

int dd_iot_list_tags_for_resource(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *arn = dd__str(in, "resourceArn");
	char after[256];
	int size;
	json_object_set_new(in, "__size", json_integer(50));
	if (dd__page(c, in, "nextToken", "__size", 50, 50, after, sizeof after, &size))
		return c->err;
	if (check_resource_arn(c, arn))
		return c->err;
	sqlite3_stmt *st = dd_db_stmt(c->db, "SELECT key, value FROM tags WHERE account_region = ?1 AND resource_arn = ?2 AND key > ?3 ORDER BY key LIMIT ?4");
	if (!st)
		return dd__db_fail(c);
	dd_bind_text(st, 1, c->account_region);
	dd_bind_text(st, 2, arn);
	dd_bind_text(st, 3, after);
	dd_bind_int64(st, 4, size + 1);
	return dd__page_list(c, st, size, tag_row, "tags", "nextToken", out);
}

int dd_iot_describe_endpoint(struct dd_ctx *c, json_t *in, json_t **out)
{
	/* the endpoint types AWS knows (case-sensitive); omitted means iot:Data */
	static const char *const types[] = { "iot:Data", "iot:Data-ATS", "iot:CredentialProvider", "iot:Jobs" };
	const char *type = dd__str(in, "endpointType");
	bool known = !type;
	for (size_t i = 0; type && i < sizeof types / sizeof types[0]; i++)
		known = known || strcmp(type, types[i]) == 0;
	if (!known)
		return dd_fail(c, DD_EINVAL, "InvalidRequestException",
			       "endpointType must be iot:Data, iot:Data-ATS, iot:CredentialProvider or iot:Jobs, not %.128s.", type);
	/* iot:Data (the default) and iot:Data-ATS: the MQTT/TLS address of the broker serving
	 * the request's region once broker-config recorded it; every other type (and no broker
	 * for the region): this HTTP endpoint. */
	char broker[256];
	if ((!type || strcmp(type, "iot:Data") == 0 || strcmp(type, "iot:Data-ATS") == 0) &&
	    dd_broker_endpoint_get(c->db, c->region, broker, sizeof broker) == 0) {
		*out = json_pack("{s:s}", "endpointAddress", broker);
		return 0;
	}
	*out = json_pack("{s:s}", "endpointAddress", c->svc->endpoint_host[0] ? c->svc->endpoint_host : "127.0.0.1");
	return 0;
}

/* ---- connection events (extension) ------------------------------------------------- */

#define MAX_EVENT_LINE 8192
#define MAX_EVENTS_PER_BATCH 100000

static int event_fail(struct dd_ctx *c, int line, const char *what)
{
	return dd_fail(c, DD_EINVAL, "InvalidRequestException", "connection-events line %d: %s; nothing was stored", line, what);
}

int dd_iot_ingest_connection_events(struct dd_ctx *c, const char *body, size_t len, json_t **out)
{
	size_t pos = 0;
	int line = 0, stored = 0;
	if (dd_db_begin_write(c->db))
		return dd__db_fail(c);
	while (pos < len) {
		const char *start = body + pos;
		const char *nl = memchr(start, '\n', len - pos);
		size_t ll = nl ? (size_t)(nl - start) : len - pos;
		pos += ll + (nl ? 1 : 0);
		line++;
		while (ll && (start[ll - 1] == '\r' || start[ll - 1] == ' '))
			ll--;
		if (ll == 0)
			continue;
		if (ll > MAX_EVENT_LINE) {
			dd_db_rollback(c->db);
			return event_fail(c, line, "line is longer than 8192 bytes");
		}
		if (stored >= MAX_EVENTS_PER_BATCH) {
			dd_db_rollback(c->db);
			return event_fail(c, line, "a batch holds at most 100000 events");
		}
		json_error_t je;
		json_t *e = json_loadb(start, ll, JSON_REJECT_DUPLICATES, &je);
		char msg[300];
		if (!e || !json_is_object(e)) {
			snprintf(msg, sizeof msg, "not a JSON object (%s)", e ? "wrong type" : je.text);
			json_decref(e);
			dd_db_rollback(c->db);
			return event_fail(c, line, msg);
		}
		const char *ev = dd__str(e, "event");
		const char *client = dd__str(e, "clientId");
		const char *cert = dd__str(e, "certificateId");
		const char *principal = dd__str(e, "principal");
		json_t *ts = json_object_get(e, "timestamp");
		const char *ip = dd__str(e, "sourceIp");
		const char *reason = dd__str(e, "reason");
		const char *problem = NULL;
		if (!ev || (strcmp(ev, "connect") != 0 && strcmp(ev, "disconnect") != 0))
			problem = "\"event\" must be \"connect\" or \"disconnect\"";
		else if (!client || !*client || strlen(client) > 128)
			problem = "\"clientId\" must be a string of 1 to 128 characters";
		else if (!cert && !principal)
			problem = "one of \"certificateId\" or \"principal\" is required";
		else if (cert && (strlen(cert) != 64 || strspn(cert, "0123456789abcdef") != 64))
			problem = "\"certificateId\" must be 64 lowercase hex characters";
		else if (!json_is_integer(ts) || json_integer_value(ts) < 0 || json_integer_value(ts) > 32503680000000LL)
			problem = "\"timestamp\" must be epoch milliseconds";
		else if (ip && strlen(ip) > 64)
			problem = "\"sourceIp\" is too long";
		else if (reason && strlen(reason) > 64)
			problem = "\"reason\" is too long";
		else if (principal && strlen(principal) > 2048)
			problem = "\"principal\" is too long";
		if (!problem && principal && strncmp(principal, "arn:", 4) == 0) {
			/* a certificate ARN names the certificate only in c's own account and region */
			struct dd_arn pa;
			if (dd_iam_arn_parse(principal, &pa))
				problem = "\"principal\" is not a valid ARN";
			else if (strcmp(pa.account, c->account) || (strcmp(pa.service, "iot") == 0 && strcmp(pa.region, c->region)))
				problem = "\"principal\" names a resource of another account or region";
		}
		if (problem) {
			json_decref(e);
			dd_db_rollback(c->db);
			return event_fail(c, line, problem);
		}
		/* a certificate ARN as principal also names the certificate */
		const char *certp = cert;
		if (!certp && principal) {
			const char *p = strstr(principal, ":cert/");
			if (p && strlen(p + 6) == 64)
				certp = p + 6;
		}
		sqlite3_stmt *st = dd_db_stmt(c->db, "INSERT INTO connection_events(account_region, event, client_id, certificate_id, principal, ts, source_ip, reason)"
						     " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
		int rc = st ? 0 : DD_EIO;
		if (!rc) {
			dd_bind_text(st, 1, c->account_region);
			dd_bind_text(st, 2, ev);
			dd_bind_text(st, 3, client);
			dd_bind_text(st, 4, certp);
			dd_bind_text(st, 5, principal);
			dd_bind_int64(st, 6, json_integer_value(ts));
			dd_bind_text(st, 7, ip);
			dd_bind_text(st, 8, reason);
			rc = dd_step_done(st);
		}
		json_decref(e);
		if (rc)
			return dd__db_fail(c);
		stored++;
	}
	if (dd_db_commit(c->db))
		return dd__db_fail(c);
	*out = json_pack("{s:i}", "accepted", stored);
	return 0;
}

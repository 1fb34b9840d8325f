/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Thing types and billing groups, with AWS's rules: a thing type keeps its description,
 * up to three searchable attributes (answered sorted, as AWS does) and its MQTT5
 * propagating attributes; a deprecated type takes no new things, and a type is deleted only
 * when no thing has it and it was deprecated at least five minutes before (on the service
 * clock, which a --test-clock server lets tests move). A thing is in at most one billing
 * group, kept as a column of the thing, so deleting either side drops the membership.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/dd_registry_int.h"
#include "core/dd_registry_handlers.h"
#include "dd/service.h"

#define DD_MAX_SEARCHABLE_ATTRS 3
#define DD_TYPE_DELETE_DELAY_MS (5 * 60 * 1000)

static int64_t svc_now(struct dd_ctx *c) { return c->svc ? dd_service_now_ms(c->svc) : c->now_ms; }

static int delete_tags(struct dd_ctx *c, const char *arn)
{
	sqlite3_stmt *st = dd_db_stmt(c->db, "DELETE FROM tags WHERE account_region = ?1 AND resource_arn = ?2");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, c->account_region);
	dd_bind_text(st, 2, arn);
	return dd_step_done(st);
}

/* ---- thing types ------------------------------------------------------------------- */

/* searchableAttributes, sorted and without duplicates, as compact JSON (owned), or NULL
 * after failing c */
static char *searchable_text(struct dd_ctx *c, json_t *list)
{
	json_t *sorted = json_array();
	size_t i;
	json_t *v;
	json_array_foreach(list, i, v) {
		const char *s = json_string_value(v);
		if (!s)
			continue;
		size_t at = 0;
		bool dup = false;
		for (; at < json_array_size(sorted); at++) {
			int cmp = strcmp(json_string_value(json_array_get(sorted, at)), s);
			if (cmp == 0)
				dup = true;
			if (cmp >= 0)
				break;
		}
		if (!dup)
			json_array_insert_new(sorted, at, json_string(s));
	}
	if (json_array_size(sorted) > DD_MAX_SEARCHABLE_ATTRS) {
		json_decref(sorted);
		dd_fail(c, DD_EINVAL, "InvalidRequestException",
			"thingTypeProperties.searchableAttributes can name at most %d attributes.", DD_MAX_SEARCHABLE_ATTRS);
		return NULL;
	}
	char *t = json_dumps(sorted, JSON_COMPACT);
	json_decref(sorted);
	if (!t)
		dd_fail(c, DD_ENOMEM, "InternalFailureException", "out of memory");
	return t;
}

static char *mqtt5_text(json_t *props)
{
	json_t *m = json_object_get(props, "mqtt5Configuration");
	return json_is_object(m) ? json_dumps(m, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
}

int dd_iot_create_thing_type(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *name = dd__str(in, "thingTypeName");
	json_t *props = json_object_get(in, "thingTypeProperties");
	const char *desc = dd__str(props, "thingTypeDescription");
	char *searchable = searchable_text(c, json_object_get(props, "searchableAttributes"));
	if (!searchable)
		return c->err;
	char *mqtt5 = mqtt5_text(props);
	char id[37], arn[700];
	dd__uuid(id);
	dd__arn_buf(c, arn, sizeof arn, "thingtype/%s", name);
	int rc = 0;
	if (dd_db_begin_write(c->db)) {
		rc = dd__db_fail(c);
		goto out;
	}
	sqlite3_stmt *st = dd_db_stmt(c->db, "SELECT type_id, ifnull(description, '') = ifnull(?3, '') AND searchable = ?4"
					     " AND ifnull(mqtt5, '') = ifnull(?5, '') FROM thing_types WHERE account_region = ?1 AND name = ?2");
	if (!st) {
		rc = dd__db_fail(c);
		goto out;
	}
	dd_bind_text(st, 1, c->account_region);
	dd_bind_text(st, 2, name);
	dd_bind_text(st, 3, desc);
	dd_bind_text(st, 4, searchable);
	dd_bind_text(st, 5, mqtt5);
	if (sqlite3_step(st) == SQLITE_ROW) {
		/* the same properties again answer the existing type, as AWS does */
		bool same = sqlite3_column_int(st, 1) == 1;
		snprintf(id, sizeof id, "%s", dd_col_text(st, 0));
		sqlite3_reset(st);
		dd_db_rollback(c->db);
		if (!same) {
			rc = dd_fail_exists(c, id, arn, "Thing type %s already exists with different properties.", name);
			goto out;
		}
		goto ok;
	}
	sqlite3_reset(st);
	st = dd_db_stmt(c->db, "INSERT INTO thing_types(account_region, name, type_id, description, searchable, mqtt5,"
			       " deprecated, created) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 0, ?7)");
	if (!st) {
		rc = dd__db_fail(c);
		goto out;
	}
	dd_bind_text(st, 1, c->account_region);
	dd_bind_text(st, 2, name);
	dd_bind_text(st, 3, id);
	dd_bind_text(st, 4, desc);
	dd_bind_text(st, 5, searchable);
	dd_bind_text(st, 6, mqtt5);
	dd_bind_int64(st, 7, svc_now(c));
	if (dd_step_done(st) || dd__tags_put(c, arn, json_object_get(in, "tags")) || dd_db_commit(c->db)) {
		rc = dd__db_fail(c);
		goto out;
	}
ok:
	*out = json_pack("{s:s, s:s, s:s}", "thingTypeName", name, "thingTypeArn", arn, "thingTypeId", id);
out:
	free(searchable);
	free(mqtt5);
	return rc;
}

/* columns: name, type_id, description, searchable, mqtt5, deprecated, deprecation_ms, created */
#define TYPE_COLS "name, type_id, description, searchable, mqtt5, deprecated, deprecation_ms, created"

static json_t *type_json(struct dd_ctx *c, sqlite3_stmt *st, bool with_id)
{
	const char *name = dd_col_text(st, 0);
	json_t *props = json_object();
	if (sqlite3_column_type(st, 2) != SQLITE_NULL)
		json_object_set_new(props, "thingTypeDescription", json_string(dd_col_text(st, 2)));
	json_t *sa = json_loads(dd_col_text(st, 3), 0, NULL);
	if (json_array_size(sa))
		json_object_set_new(props, "searchableAttributes", sa);
	else
		json_decref(sa);
	if (sqlite3_column_type(st, 4) != SQLITE_NULL) {
		json_t *m = json_loads(dd_col_text(st, 4), 0, NULL);
		if (m)
			json_object_set_new(props, "mqtt5Configuration", m);
	}
	bool dep = sqlite3_column_int(st, 5) != 0;
	json_t *meta = json_pack("{s:b, s:o}", "deprecated", dep, "creationDate", dd_json_time(sqlite3_column_int64(st, 7)));
	if (dep)
		json_object_set_new(meta, "deprecationDate", dd_json_time(sqlite3_column_int64(st, 6)));
	json_t *o = json_pack("{s:s, s:o, s:o, s:o}", "thingTypeName", name, "thingTypeArn", dd__arn(c, "thingtype/%s", name),
			      "thingTypeProperties", props, "thingTypeMetadata", meta);
	if (with_id)
		json_object_set_new(o, "thingTypeId", json_string(dd_col_text(st, 1)));
	return o;
}

int dd_iot_describe_thing_type(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *name = dd__str(in, "thingTypeName");
	sqlite3_stmt *st = dd_db_stmt(c->db, "SELECT " TYPE_COLS " FROM thing_types WHERE account_region = ?1 AND name = ?2");
	if (!st)
		return dd__db_fail(c);
	dd_bind_text(st, 1, c->account_region);
	dd_bind_text(st, 2, name);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_reset(st);
		return dd_fail(c, DD_ENOTFOUND, "ResourceNotFoundException", "Thing type %s does not exist.", name);
	}
	*out = type_json(c, st, true);
	sqlite3_reset(st);
	return 0;
}

static json_t *type_row(struct dd_ctx *c, sqlite3_stmt *st, char *key, size_t keylen)
{
	snprintf(key, keylen, "%s", dd_col_text(st, 0));
	return type_json(c, st, false);
}

int dd_iot_list_thing_types(struct dd_ctx *c, json_t *in, json_t **out)
{
	char after[512];
	int size;
	if (dd__page(c, in, "nextToken", "maxResults", 50, 250, after, sizeof after, &size))
		return c->err;
	sqlite3_stmt *st = dd_db_stmt(c->db, "SELECT " TYPE_COLS " FROM thing_types WHERE account_region = ?1 AND name > ?2"
					     " AND (?3 IS NULL OR name = ?3) ORDER BY name LIMIT ?4");
	if (!st)
		return dd__db_fail(c);
	dd_bind_text(st, 1, c->account_region);
	dd_bind_text(st, 2, after);
	dd_bind_text(st, 3, dd__str(in, "thingTypeName"));
	dd_bind_int64(st, 4, size + 1);
	return dd__page_list(c, st, size, type_row, "thingTypes", "nextToken", out);
}

int dd_iot_update_thing_type(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *name = dd__str(in, "thingTypeName");
	json_t *props = json_object_get(in, "thingTypeProperties");
	json_t *sa = json_object_get(props, "searchableAttributes");
	char *searchable = NULL, *mqtt5 = mqtt5_text(props);
	int rc = 0;
	*out = NULL;
	if (sa && !(searchable = searchable_text(c, sa))) {
		rc = c->err;
		goto out;
	}
	if (dd_db_begin_write(c->db)) {
		rc = dd__db_fail(c);
		goto out;
	}
	/* the members given replace the stored ones; the others are kept */
	sqlite3_stmt *st = dd_db_stmt(c->db, "UPDATE thing_types SET description = CASE WHEN ?3 THEN ?4 ELSE description END,"
					     " searchable = ifnull(?5, searchable), mqtt5 = ifnull(?6, mqtt5)"
					     " WHERE account_region = ?1 AND name = ?2");
	if (!st) {
		rc = dd__db_fail(c);
		goto out;
	}
	dd_bind_text(st, 1, c->account_region);
	dd_bind_text(st, 2, name);
	dd_bind_int64(st, 3, json_object_get(props, "thingTypeDescription") != NULL);
	dd_bind_text(st, 4, dd__str(props, "thingTypeDescription"));
	dd_bind_text(st, 5, searchable);
	dd_bind_text(st, 6, mqtt5);
	if (dd_step_done(st)) {
		rc = dd__db_fail(c);
		goto out;
	}
	if (sqlite3_changes(dd_db_handle(c->db)) == 0) {
		dd_db_rollback(c->db);
		rc = dd_fail(c, DD_ENOTFOUND, "ResourceNotFoundException", "Thing type %s does not exist.", name);
		goto out;
	}
	if (dd_db_commit(c->db))
		rc = dd__db_fail(c);
out:
	free(searchable);
	free(mqtt5);
	return rc;
}

int dd_iot_deprecate_thing_type(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *name = dd__str(in, "thingTypeName");
	bool undo = dd__bool(in, "undoDeprecate", false);
	*out = NULL;
	if (dd_db_begin_write(c->db))
		return dd__db_fail(c);
	/* deprecating again keeps the first deprecation date (the deletion delay runs from it) */
	sqlite3_stmt *st = dd_db_stmt(c->db, undo
		? "UPDATE thing_types SET deprecated = 0, deprecation_ms = NULL WHERE account_region = ?1 AND name = ?2"
		: "UPDATE thing_types SET deprecated = 1, deprecation_ms = CASE WHEN deprecated THEN deprecation_ms ELSE ?3 END"
		  " WHERE account_region = ?1 AND name = ?2");
	if (!st)
		return dd__db_fail(c);
	dd_bind_text(st, 1, c->account_region);
	dd_bind_text(st, 2, name);
	if (!undo)
		dd_bind_int64(st, 3, svc_now(c));
	if (dd_step_done(st))
		return dd__db_fail(c);
	if (sqlite3_changes(dd_db_handle(c->db)) == 0) {
		dd_db_rollback(c->db);
		return dd_fail(c, DD_ENOTFOUND, "ResourceNotFoundException", "Thing type %s does not exist.", name);
	}
	if (dd_db_commit(c->db))
		return dd__db_fail(c);
	return 0;
}

int dd_iot_delete_thing_type(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *name = dd__str(in, "thingTypeName");
	*out = NULL;
	if (dd_db_begin_write(c->db))
		return dd__db_fail(c);
	sqlite3_stmt *st = dd_db_stmt(c->db, "SELECT deprecated, deprecation_ms, (SELECT count(*) FROM things t WHERE"
					     " t.account_region = ?1 AND t.type_name = ?2) FROM thing_types WHERE account_region = ?1 AND name = ?2");
	if (!st)
		return dd__db_fail(c);
	dd_bind_text(st, 1, c->account_region);
	dd_bind_text(st, 2, name);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_reset(st);
		dd_db_rollback(c->db);
		return dd_fail(c, DD_ENOTFOUND, "ResourceNotFoundException", "Thing type %s does not exist.", name);
	}
	bool dep = sqlite3_column_int(st, 0) != 0;
	int64_t since = sqlite3_column_int64(st, 1);
	int64_t things = sqlite3_column_int64(st, 2);
	sqlite3_reset(st);
	int64_t now = svc_now(c);
	if (!dep || now - since < DD_TYPE_DELETE_DELAY_MS) {
		dd_db_rollback(c->db);
		if (!dep)
			return dd_fail(c, DD_EINVAL, "InvalidRequestException",
				       "Thing type %s must be deprecated, and 5 minutes must pass, before it can be deleted.", name);
		return dd_fail(c, DD_EINVAL, "InvalidRequestException",
			       "Thing type %s was deprecated %lld seconds ago; it can be deleted 5 minutes after its deprecation.",
			       name, (long long)((now - since) / 1000));
	}
	if (things > 0) {
		dd_db_rollback(c->db);
		return dd_fail(c, DD_EINVAL, "InvalidRequestException",
			       "Thing type %s cannot be deleted: %lld thing(s) are still associated with it.", name, (long long)things);
	}
	char arn[700];
	dd__arn_buf(c, arn, sizeof arn, "thingtype/%s", name);
	st = dd_db_stmt(c->db, "DELETE FROM thing_types WHERE account_region = ?1 AND name = ?2");
	if (!st)
		return dd__db_fail(c);
	dd_bind_text(st, 1, c->account_region);
	dd_bind_text(st, 2, name);
	if (dd_step_done(st) || delete_tags(c, arn) || dd_db_commit(c->db))
		return dd__db_fail(c);
	return 0;
}

int dd__thing_type_usable(struct dd_ctx *c, const char *type)
{
	sqlite3_stmt *st = dd_db_stmt(c->db, "SELECT deprecated FROM thing_types WHERE account_region = ?1 AND name = ?2");
	if (!st)
		return dd__db_fail(c);
	dd_bind_text(st, 1, c->account_region);
	dd_bind_text(st, 2, type);
	int r = sqlite3_step(st);
	bool dep = r == SQLITE_ROW && sqlite3_column_int(st, 0) != 0;
	sqlite3_reset(st);
	if (r == SQLITE_DONE) {
		dd_db_rollback(c->db);
		return dd_fail(c, DD_ENOTFOUND, "ResourceNotFoundException", "Thing type %s does not exist.", type);
	}
	if (r != SQLITE_ROW)
		return dd__db_fail(c);
	if (dep) {
		dd_db_rollback(c->db);
		return dd_fail(c, DD_EINVAL, "InvalidRequestException",
			       "Thing type %s is deprecated: no new things can be associated with it.", type);
	}
	return 0;
}

/* ---- billing groups ---------------------------------------------------------------- */

int dd_iot_create_billing_group(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *name = dd__str(in, "billingGroupName");
	const char *desc = dd__str(json_object_get(in, "billingGroupProperties"), "billingGroupDescription");
	char id[37], arn[700];
	dd__uuid(id);
	dd__arn_buf(c, arn, sizeof arn, "billinggroup/%s", name);
	if (dd_db_begin_write(c->db))
		return dd__db_fail(c);
	sqlite3_stmt *st = dd_db_stmt(c->db, "SELECT group_id, ifnull(description, '') = ifnull(?3, '') FROM billing_groups"
					     " WHERE account_region = ?1 AND name = ?2");
	if (!st)
		return dd__db_fail(c);
	dd_bind_text(st, 1, c->account_region);
	dd_bind_text(st, 2, name);
	dd_bind_text(st, 3, desc);
	if (sqlite3_step(st) == SQLITE_ROW) {
		bool same = sqlite3_column_int(st, 1) == 1;
		snprintf(id, sizeof id, "%s", dd_col_text(st, 0));
		sqlite3_reset(st);
		dd_db_rollback(c->db);
		if (!same)
			return dd_fail_exists(c, id, arn, "Billing group %s already exists with different properties.", name);
		goto ok;
	}
	sqlite3_reset(st);
	st = dd_db_stmt(c->db, "INSERT INTO billing_groups(account_region, name, group_id, description, version, created)"
			       " VALUES (?1, ?2, ?3, ?4, 1, ?5)");
	if (!st)
		return dd__db_fail(c);
	dd_bind_text(st, 1, c->account_region);
	dd_bind_text(st, 2, name);
	dd_bind_text(st, 3, id);
	dd_bind_text(st, 4, desc);
	dd_bind_int64(st, 5, c->now_ms);
	if (dd_step_done(st) || dd__tags_put(c, arn, json_object_get(in, "tags")) || dd_db_commit(c->db))
		return dd__db_fail(c);
ok:
	*out = json_pack("{s:s, s:s, s:s}", "billingGroupName", name, "billingGroupArn", arn, "billingGroupId", id);
	return 0;
}

int dd_iot_describe_billing_group(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *name = dd__str(in, "billingGroupName");
	sqlite3_stmt *st = dd_db_stmt(c->db, "SELECT group_id, description, version, created FROM billing_groups"
					     " WHERE account_region = ?1 AND name = ?2");
	if (!st)
		return dd__db_fail(c);
	dd_bind_text(st, 1, c->account_region);
	dd_bind_text(st, 2, name);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_reset(st);
		return dd_fail(c, DD_ENOTFOUND, "ResourceNotFoundException", "Billing group %s does not exist.", name);
	}
	json_t *props = json_object();
	if (sqlite3_column_type(st, 1) != SQLITE_NULL)
		json_object_set_new(props, "billingGroupDescription", json_string(dd_col_text(st, 1)));
	*out = json_pack("{s:s, s:s, s:o, s:I, s:o, s:{s:o}}", "billingGroupName", name, "billingGroupId", dd_col_text(st, 0),
			 "billingGroupArn", dd__arn(c, "billinggroup/%s", name), "version", (json_int_t)sqlite3_column_int64(st, 2),
			 "billingGroupProperties", props, "billingGroupMetadata", "creationDate",
			 dd_json_time(sqlite3_column_int64(st, 3)));
	sqlite3_reset(st);
	return 0;
}

static json_t *billing_row(struct dd_ctx *c, sqlite3_stmt *st, char *key, size_t keylen)
{
	const char *name = dd_col_text(st, 0);
	snprintf(key, keylen, "%s", name);
	return json_pack("{s:s, s:o}", "groupName", name, "groupArn", dd__arn(c, "billinggroup/%s", name));
}

int dd_iot_list_billing_groups(struct dd_ctx *c, json_t *in, json_t **out)
{
	char after[512];
	int size;
	if (dd__page(c, in, "nextToken", "maxResults", 50, 250, after, sizeof after, &size))
		return c->err;
	const char *prefix = dd__str(in, "namePrefixFilter");
	sqlite3_stmt *st = dd_db_stmt(c->db, "SELECT name FROM billing_groups WHERE account_region = ?1 AND name > ?2"
					     " AND (?3 IS NULL OR substr(name, 1, length(?3)) = ?3) ORDER BY name LIMIT ?4");
	if (!st)
		return dd__db_fail(c);
	dd_bind_text(st, 1, c->account_region);
	dd_bind_text(st, 2, after);
	dd_bind_text(st, 3, prefix);
	dd_bind_int64(st, 4, size + 1);
	return dd__page_list(c, st, size, billing_row, "billingGroups", "nextToken", out);
}

/* version of the billing group (-1: none), inside the caller's transaction */
static int64_t billing_version(struct dd_ctx *c, const char *name)
{
	sqlite3_stmt *st = dd_db_stmt(c->db, "SELECT version FROM billing_groups WHERE account_region = ?1 AND name = ?2");
	if (!st)
		return -2;
	dd_bind_text(st, 1, c->account_region);
	dd_bind_text(st, 2, name);
	int r = sqlite3_step(st);
	int64_t v = r == SQLITE_ROW ? sqlite3_column_int64(st, 0) : r == SQLITE_DONE ? -1 : -2;
	sqlite3_reset(st);
	return v;
}

int dd_iot_update_billing_group(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *name = dd__str(in, "billingGroupName");
	json_t *props = json_object_get(in, "billingGroupProperties");
	int64_t expected = dd__int(in, "expectedVersion", -1);
	if (dd_db_begin_write(c->db))
		return dd__db_fail(c);
	int64_t v = billing_version(c, name);
	if (v == -2)
		return dd__db_fail(c);
	if (v == -1) {
		dd_db_rollback(c->db);
		return dd_fail(c, DD_ENOTFOUND, "ResourceNotFoundException", "Billing group %s does not exist.", name);
	}
	if (expected >= 0 && expected != v) {
		dd_db_rollback(c->db);
		return dd_fail(c, DD_ECONFLICT, "VersionConflictException",
			       "The version for billing group %s (%lld) does not match the expected version %lld.", name,
			       (long long)v, (long long)expected);
	}
	sqlite3_stmt *st = dd_db_stmt(c->db, "UPDATE billing_groups SET description = CASE WHEN ?3 THEN ?4 ELSE description END,"
					     " version = version + 1 WHERE account_region = ?1 AND name = ?2");
	if (!st)
		return dd__db_fail(c);
	dd_bind_text(st, 1, c->account_region);
	dd_bind_text(st, 2, name);
	dd_bind_int64(st, 3, json_object_get(props, "billingGroupDescription") != NULL);
	dd_bind_text(st, 4, dd__str(props, "billingGroupDescription"));
	if (dd_step_done(st) || dd_db_commit(c->db))
		return dd__db_fail(c);
	*out = json_pack("{s:I}", "version", (json_int_t)(v + 1));
	return 0;
}

int dd_iot_delete_billing_group(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *name = dd__str(in, "billingGroupName");
	int64_t expected = dd__int(in, "expectedVersion", -1);
	*out = NULL;
	if (dd_db_begin_write(c->db))
		return dd__db_fail(c);
	int64_t v = billing_version(c, name);
	if (v == -2)
		return dd__db_fail(c);
	if (v == -1) {
		dd_db_rollback(c->db);
		return 0; /* AWS: deleting a missing billing group succeeds */
	}
	if (expected >= 0 && expected != v) {
		dd_db_rollback(c->db);
		return dd_fail(c, DD_ECONFLICT, "VersionConflictException",
			       "The version for billing group %s (%lld) does not match the expected version %lld.", name,
			       (long long)v, (long long)expected);
	}
	char arn[700];
	dd__arn_buf(c, arn, sizeof arn, "billinggroup/%s", name);
	static const char *const sqls[] = {
		"DELETE FROM billing_groups WHERE account_region = ?1 AND name = ?2",
		"UPDATE things SET billing_group = NULL WHERE account_region = ?1 AND billing_group = ?2",
	};
	for (size_t i = 0; i < 2; i++) {
		sqlite3_stmt *st = dd_db_stmt(c->db, sqls[i]);
		if (!st)
			return dd__db_fail(c);
		dd_bind_text(st, 1, c->account_region);
		dd_bind_text(st, 2, name);
		if (dd_step_done(st))
			return dd__db_fail(c);
	}
	if (delete_tags(c, arn) || dd_db_commit(c->db))
		return dd__db_fail(c);
	return 0;
}

/* The billing group and thing of Add/RemoveThing…BillingGroup: by name or ARN; one of
 * each must be given. Returns 0 or fails c. */
static int billing_target(struct dd_ctx *c, json_t *in, const char **group, const char **thing)
{
	const char *g = dd__str(in, "billingGroupName"), *t = dd__str(in, "thingName");
	if (!g && dd__name_from_arn(c, dd__str(in, "billingGroupArn"), "billinggroup", &g))
		return c->err;
	if (!t && dd__name_from_arn(c, dd__str(in, "thingArn"), "thing", &t))
		return c->err;
	if (!g)
		return dd_fail(c, DD_EINVAL, "InvalidRequestException", "billingGroupName or billingGroupArn is required.");
	if (!t)
		return dd_fail(c, DD_EINVAL, "InvalidRequestException", "thingName or thingArn is required.");
	*group = g;
	*thing = t;
	return 0;
}

/* the thing's billing group into buf ("" none); 1 found, 0 no such thing, <0 store error */
static int thing_billing(struct dd_ctx *c, const char *thing, char *buf, size_t len)
{
	sqlite3_stmt *st = dd_db_stmt(c->db, "SELECT ifnull(billing_group, '') FROM things WHERE account_region = ?1 AND name = ?2");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, c->account_region);
	dd_bind_text(st, 2, thing);
	int r = sqlite3_step(st);
	if (r == SQLITE_ROW)
		snprintf(buf, len, "%s", dd_col_text(st, 0));
	sqlite3_reset(st);
	return r == SQLITE_ROW ? 1 : r == SQLITE_DONE ? 0 : DD_EIO;
}

static int set_billing(struct dd_ctx *c, const char *thing, const char *group)
{
	sqlite3_stmt *st = dd_db_stmt(c->db, "UPDATE things SET billing_group = ?3 WHERE account_region = ?1 AND name = ?2");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, c->account_region);
	dd_bind_text(st, 2, thing);
	dd_bind_text(st, 3, group);
	return dd_step_done(st);
}

int dd_iot_add_thing_to_billing_group(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *group, *thing;
	*out = NULL;
	if (billing_target(c, in, &group, &thing))
		return c->err;
	if (dd_db_begin_write(c->db))
		return dd__db_fail(c);
	int64_t v = billing_version(c, group);
	char cur[256] = "";
	int found = v == -2 ? DD_EIO : thing_billing(c, thing, cur, sizeof cur);
	if (found < 0)
		return dd__db_fail(c);
	if (v == -1 || !found) {
		dd_db_rollback(c->db);
		return dd_fail(c, DD_ENOTFOUND, "ResourceNotFoundException", "%s %s does not exist.",
			       v == -1 ? "Billing group" : "Thing", v == -1 ? group : thing);
	}
	if (strcmp(cur, group) == 0) {
		dd_db_rollback(c->db);
		return 0;
	}
	if (cur[0]) {
		dd_db_rollback(c->db);
		return dd_fail(c, DD_EINVAL, "InvalidRequestException",
			       "Thing %s is already in billing group %s: a thing can be in only one billing group. Remove it first.",
			       thing, cur);
	}
	if (set_billing(c, thing, group) || dd_db_commit(c->db))
		return dd__db_fail(c);
	return 0;
}

int dd_iot_remove_thing_from_billing_group(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *group, *thing;
	*out = NULL;
	if (billing_target(c, in, &group, &thing))
		return c->err;
	if (dd_db_begin_write(c->db))
		return dd__db_fail(c);
	int64_t v = billing_version(c, group);
	char cur[256] = "";
	int found = v == -2 ? DD_EIO : thing_billing(c, thing, cur, sizeof cur);
	if (found < 0)
		return dd__db_fail(c);
	if (v == -1 || !found) {
		dd_db_rollback(c->db);
		return dd_fail(c, DD_ENOTFOUND, "ResourceNotFoundException", "%s %s does not exist.",
			       v == -1 ? "Billing group" : "Thing", v == -1 ? group : thing);
	}
	if (strcmp(cur, group) != 0) {
		dd_db_rollback(c->db); /* not a member: nothing to do, as AWS */
		return 0;
	}
	if (set_billing(c, thing, NULL) || dd_db_commit(c->db))
		return dd__db_fail(c);
	return 0;
}

int dd_iot_list_things_in_billing_group(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *name = dd__str(in, "billingGroupName");
	char after[512];
	int size;
	if (dd__page(c, in, "nextToken", "maxResults", 50, 250, after, sizeof after, &size))
		return c->err;
	sqlite3_stmt *st = dd_db_stmt(c->db, "SELECT 1 FROM billing_groups WHERE account_region = ?1 AND name = ?2");
	if (!st)
		return dd__db_fail(c);
	dd_bind_text(st, 1, c->account_region);
	dd_bind_text(st, 2, name);
	int r = sqlite3_step(st);
	sqlite3_reset(st);
	if (r == SQLITE_DONE)
		return dd_fail(c, DD_ENOTFOUND, "ResourceNotFoundException", "Billing group %s does not exist.", name);
	if (r != SQLITE_ROW)
		return dd__db_fail(c);
	st = dd_db_stmt(c->db, "SELECT name FROM things WHERE account_region = ?1 AND billing_group = ?2 AND name > ?3"
			       " ORDER BY name LIMIT ?4");
	if (!st)
		return dd__db_fail(c);
	dd_bind_text(st, 1, c->account_region);
	dd_bind_text(st, 2, name);
	dd_bind_text(st, 3, after);
	dd_bind_int64(st, 4, size + 1);
	return dd__page_list(c, st, size, dd__row_text0, "things", "nextToken", out);
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Things and thing groups (static and dynamic). Dynamic group membership is
 * materialized in thing_group_members when the group's query or a thing changes, so the
 * 10-groups-per-thing limit and the audit's group reads see one table. Each thing keeps a
 * version that UpdateThing increments and expectedVersion checks. A thing's type must
 * exist and not be deprecated when it is given (dd_registry_types.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/dd_registry_int.h"
#include "core/dd_registry_handlers.h"

static json_t *attrs_of(json_t *in)
{
	json_t *a = json_object_get(json_object_get(in, "attributePayload"), "attributes");
	return json_is_object(a) ? a : NULL;
}

static char *dump(json_t *j)
{
	if (j)
		return json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	return strdup("{}");
}

static int thing_group_count(struct dd_ctx *c, const char *thing)
{
	sqlite3_stmt *st = dd_db_stmt(c->db, "SELECT count(*) FROM thing_group_members WHERE account_region = ?1 AND thing_name = ?2");
	if (!st)
		return -1;
	dd_bind_text(st, 1, c->account_region);
	dd_bind_text(st, 2, thing);
	int n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
	sqlite3_reset(st);
	return n;
}

int dd_iot_create_thing(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *name = dd__str(in, "thingName");
	const char *type = dd__str(in, "thingTypeName");
	json_t *attrs = attrs_of(in);
	if (attrs && json_object_size(attrs) > 50)
		return dd_fail(c, DD_EINVAL, "InvalidRequestException", "A thing can have at most 50 attributes.");
	char *attr_text = dump(attrs);
	char id[37];
	dd__uuid(id);
	if (dd_db_begin_write(c->db)) {
		free(attr_text);
		return dd__db_fail(c);
	}
	sqlite3_stmt *st = dd_db_stmt(c->db, "SELECT thing_id, type_name, attributes FROM things WHERE account_region = ?1 AND name = ?2");
	if (!st)
		goto dberr;
	dd_bind_text(st, 1, c->account_region);
	dd_bind_text(st, 2, name);
	if (sqlite3_step(st) == SQLITE_ROW) {
		/* idempotent when the configuration is the same */
		bool same = strcmp(dd_col_text(st, 2), attr_text) == 0 &&
			    ((sqlite3_column_type(st, 1) == SQLITE_NULL && !type) ||
			     (type && strcmp(dd_col_text(st, 1), type) == 0));
		snprintf(id, sizeof id, "%s", dd_col_text(st, 0));
		sqlite3_reset(st);
		dd_db_rollback(c->db);
		free(attr_text);
		if (!same) {
			char arn[700];
			dd__arn_buf(c, arn, sizeof arn, "thing/%s", name);
			return dd_fail_exists(c, id, arn, "Thing %s already exists in account with different attributes", name);
		}
		goto ok;
	}
	sqlite3_reset(st);
	if (type && dd__thing_type_usable(c, type)) {
		free(attr_text);
		return c->err;
	}
	st = dd_db_stmt(c->db, "INSERT INTO things(account_region, name, thing_id, type_name, attributes, version, created)"
			       " VALUES (?1, ?2, ?3, ?4, ?5, 1, ?6)");
	if (!st)
		goto dberr;
	dd_bind_text(st, 1, c->account_region);
	dd_bind_text(st, 2, name);
	dd_bind_text(st, 3, id);
	dd_bind_text(st, 4, type);
	dd_bind_text(st, 5, attr_text);
	dd_bind_int64(st, 6, c->now_ms);
	if (dd_step_done(st) || dd__dynamic_groups_refresh_thing(c, name) || dd_db_commit(c->db))
		goto dberr;
	free(attr_text);
ok:
	*out = json_pack("{s:s, s:o, s:s}", "thingName", name, "thingArn", dd__arn(c, "thing/%s", name), "thingId", id);
	return 0;
dberr:
	free(attr_text);
	return dd__db_fail(c);
}

int dd_iot_describe_thing(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *name = dd__str(in, "thingName");
	sqlite3_stmt *st = dd_db_stmt(c->db, "SELECT thing_id, type_name, attributes, version, billing_group FROM things WHERE account_region = ?1 AND name = ?2");
	if (!st)
		return dd__db_fail(c);
	dd_bind_text(st, 1, c->account_region);
	dd_bind_text(st, 2, name);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_reset(st);
		return dd_fail(c, DD_ENOTFOUND, "ResourceNotFoundException", "Thing %s cannot be found.", name);
	}
	json_t *o = json_pack("{s:s, s:s, s:s, s:o, s:I}", "defaultClientId", name, "thingName", name,
			      "thingId", dd_col_text(st, 0), "thingArn", dd__arn(c, "thing/%s", name),
			      "version", (json_int_t)sqlite3_column_int64(st, 3));
	if (sqlite3_column_type(st, 1) != SQLITE_NULL)
		json_object_set_new(o, "thingTypeName", json_string(dd_col_text(st, 1)));
	if (sqlite3_column_type(st, 4) != SQLITE_NULL)
		json_object_set_new(o, "billingGroupName", json_string(dd_col_text(st, 4)));
	json_t *attrs = json_loads(dd_col_text(st, 2), 0, NULL);
	json_object_set_new(o, "attributes", attrs ? attrs : json_object());
	sqlite3_reset(st);
	*out = o;
	return 0;
}

static json_t *thing_row(struct dd_ctx *c, sqlite3_stmt *st, char *key, size_t keylen)
{
	const char *nm = dd_col_text(st, 0);
	snprintf(key, keylen, "%s", nm);
	json_t *t = json_pack("{s:s, s:o, s:I}", "thingName", nm, "thingArn", dd__arn(c, "thing/%s", nm),
			      "version", (json_int_t)sqlite3_column_int64(st, 3));
	if (sqlite3_column_type(st, 1) != SQLITE_NULL)
		json_object_set_new(t, "thingTypeName", json_string(dd_col_text(st, 1)));
	json_t *attrs = json_loads(dd_col_text(st, 2), 0, NULL);
	json_object_set_new(t, "attributes", attrs ? attrs : json_object());
	return t;
}

int dd_iot_list_things(struct dd_ctx *c, json_t *in, json_t **out)
{
	char after[512];
	int size;
	if (dd__page(c, in, "nextToken", "maxResults", 50, 250, after, sizeof after, &size))
		return c->err;
	const char *an = dd__str(in, "attributeName"), *av = dd__str(in, "attributeValue");
	const char *type = dd__str(in, "thingTypeName");
	bool prefix = dd__bool(in, "usePrefixAttributeValue", false);
	if (av && !an)
		return dd_fail(c, DD_EINVAL, "InvalidRequestException", "attributeValue requires attributeName.");
	char path[300] = "";
	if (an)
		snprintf(path, sizeof path, "$.\"%s\"", an);
	sqlite3_stmt *st = dd_db_stmt(c->db,
		"SELECT name, type_name, attributes, version FROM things WHERE account_region = ?1 AND name > ?2"
		" AND (?3 IS NULL OR type_name = ?3)"
		" AND (?4 IS NULL OR json_extract(attributes, ?4) IS NOT NULL)"
		" AND (?5 IS NULL OR (?6 = 0 AND json_extract(attributes, ?4) = ?5)"
		"      OR (?6 = 1 AND substr(json_extract(attributes, ?4), 1, length(?5)) = ?5))"
		" ORDER BY name LIMIT ?7");
	if (!st)
		return dd__db_fail(c);
	dd_bind_text(st, 1, c->account_region);
	dd_bind_text(st, 2, after);
	dd_bind_text(st, 3, type);
	dd_bind_text(st, 4, an ? path : NULL);
	dd_bind_text(st, 5, av);
	dd_bind_int64(st, 6, prefix);
	dd_bind_int64(st, 7, size + 1);
	return dd__page_list(c, st, size, thing_row, "things", "nextToken", out);
}

int dd_iot_update_thing(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *name = dd__str(in, "thingName");
	json_t *payload = json_object_get(in, "attributePayload");
	json_t *attrs = attrs_of(in);
	bool merge = dd__bool(payload, "merge", false);
	const char *type = dd__str(in, "thingTypeName");
	bool remove_type = dd__bool(in, "removeThingType", false);
	int64_t expected = dd__int(in, "expectedVersion", -1);
	if (type && remove_type)
		return dd_fail(c, DD_EINVAL, "InvalidRequestException", "Cannot both set and remove the thing type.");
	if (dd_db_begin_write(c->db))
		return dd__db_fail(c);
	sqlite3_stmt *st = dd_db_stmt(c->db, "SELECT type_name, attributes, version FROM things WHERE account_region = ?1 AND name = ?2");
	if (!st)
		return dd__db_fail(c);
	dd_bind_text(st, 1, c->account_region);
	dd_bind_text(st, 2, name);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_reset(st);
		dd_db_rollback(c->db);
		return dd_fail(c, DD_ENOTFOUND, "ResourceNotFoundException", "Thing %s cannot be found.", name);
	}
	int64_t version = sqlite3_column_int64(st, 2);
	char *old_type = sqlite3_column_type(st, 0) == SQLITE_NULL ? NULL : strdup(dd_col_text(st, 0));
	json_t *cur = json_loads(dd_col_text(st, 1), 0, NULL);
	sqlite3_reset(st);
	if (!cur)
		cur = json_object();
	if (expected >= 0 && expected != version) {
		free(old_type);
		json_decref(cur);
		dd_db_rollback(c->db);
		return dd_fail(c, DD_ECONFLICT, "VersionConflictException",
			       "The version for thing %s does not match the expected version.", name);
	}
	if (attrs) {
		if (!merge)
			json_object_clear(cur);
		const char *k;
		json_t *v;
		json_object_foreach(attrs, k, v) {
			if (json_is_string(v) && json_string_length(v) == 0)
				json_object_del(cur, k);
			else
				json_object_set(cur, k, v);
		}
	}
	if (json_object_size(cur) > 50) {
		free(old_type);
		json_decref(cur);
		dd_db_rollback(c->db);
		return dd_fail(c, DD_EINVAL, "InvalidRequestException", "A thing can have at most 50 attributes.");
	}
	if (type && (!old_type || strcmp(type, old_type) != 0) && dd__thing_type_usable(c, type)) {
		free(old_type);
		json_decref(cur);
		return c->err;
	}
	const char *new_type = remove_type ? NULL : type ? type : old_type;
	char *text = dump(cur);
	st = dd_db_stmt(c->db, "UPDATE things SET type_name = ?3, attributes = ?4, version = version + 1 WHERE account_region = ?1 AND name = ?2");
	int rc = st ? 0 : DD_EIO;
	if (!rc) {
		dd_bind_text(st, 1, c->account_region);
		dd_bind_text(st, 2, name);
		dd_bind_text(st, 3, new_type);
		dd_bind_text(st, 4, text);
		rc = dd_step_done(st);
	}
	free(text);
	free(old_type);
	json_decref(cur);
	if (rc || dd__dynamic_groups_refresh_thing(c, name) || dd_db_commit(c->db))
		return dd__db_fail(c);
	*out = NULL;
	return 0;
}

int dd_iot_delete_thing(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *name = dd__str(in, "thingName");
	int64_t expected = dd__int(in, "expectedVersion", -1);
	*out = NULL;
	if (dd_db_begin_write(c->db))
		return dd__db_fail(c);
	sqlite3_stmt *st = dd_db_stmt(c->db, "SELECT version FROM things WHERE account_region = ?1 AND name = ?2");
	if (!st)
		return dd__db_fail(c);
	dd_bind_text(st, 1, c->account_region);
	dd_bind_text(st, 2, name);
	if (sqlite3_step(st) != SQLITE_ROW) {
		/* AWS answers success for a thing that does not exist */
		sqlite3_reset(st);
		dd_db_rollback(c->db);
		return 0;
	}
	int64_t version = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	if (expected >= 0 && expected != version) {
		dd_db_rollback(c->db);
		return dd_fail(c, DD_ECONFLICT, "VersionConflictException",
			       "The version for thing %s does not match the expected version.", name);
	}
	st = dd_db_stmt(c->db, "SELECT count(*) FROM thing_principals WHERE account_region = ?1 AND thing_name = ?2");
	if (!st)
		return dd__db_fail(c);
	dd_bind_text(st, 1, c->account_region);
	dd_bind_text(st, 2, name);
	int principals = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
	sqlite3_reset(st);
	if (principals > 0) {
		dd_db_rollback(c->db);
		return dd_fail(c, DD_ECONFLICT, "InvalidRequestException",
			       "Cannot delete thing %s: it has %d principal(s) attached. Detach them first.", name, principals);
	}
	static const char *const dels[] = {
		"DELETE FROM things WHERE account_region = ?1 AND name = ?2",
		"DELETE FROM thing_group_members WHERE account_region = ?1 AND thing_name = ?2",
	};
	for (size_t i = 0; i < 2; i++) {
		st = dd_db_stmt(c->db, dels[i]);
		if (!st)
			return dd__db_fail(c);
		dd_bind_text(st, 1, c->account_region);
		dd_bind_text(st, 2, name);
		if (dd_step_done(st))
			return dd__db_fail(c);
	}
	if (dd_db_commit(c->db))
		return dd__db_fail(c);
	return 0;
}

/* ---- thing groups ------------------------------------------------------------------ */

struct group_row {
	bool found;
	bool dynamic;
	char id[37];
	char parent[160];
	int64_t version;
};

static int load_group(struct dd_ctx *c, const char *name, struct group_row *g)
{
	memset(g, 0, sizeof *g);
	sqlite3_stmt *st = dd_db_stmt(c->db, "SELECT group_id, parent, dynamic, version FROM thing_groups WHERE account_region = ?1 AND name = ?2");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, c->account_region);
	dd_bind_text(st, 2, name);
	if (sqlite3_step(st) == SQLITE_ROW) {
		g->found = true;
		snprintf(g->id, sizeof g->id, "%s", dd_col_text(st, 0));
		snprintf(g->parent, sizeof g->parent, "%s", dd_col_text(st, 1));
		g->dynamic = sqlite3_column_int(st, 2) != 0;
		g->version = sqlite3_column_int64(st, 3);
	}
	sqlite3_reset(st);
	return 0;
}

/* Does the stored group name have these properties (kind, parent, description,
 * attributes as dumped JSON text, query)? 1 yes, 0 no, DD_EIO. */
static int same_group(struct dd_ctx *c, const char *name, bool dynamic, const char *parent, const char *desc,
		      const char *attr_text, const char *query)
{
	sqlite3_stmt *st = dd_db_stmt(c->db, "SELECT dynamic = ?3 AND ifnull(parent, '') = ifnull(?4, '')"
					     " AND ifnull(description, '') = ifnull(?5, '') AND attributes = ifnull(?6, '{}')"
					     " AND ifnull(query_string, '') = ifnull(?7, '')"
					     " FROM thing_groups WHERE account_region = ?1 AND name = ?2");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, c->account_region);
	dd_bind_text(st, 2, name);
	dd_bind_int64(st, 3, dynamic);
	dd_bind_text(st, 4, parent);
	dd_bind_text(st, 5, desc);
	dd_bind_text(st, 6, attr_text);
	dd_bind_text(st, 7, query);
	int same = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) != 0;
	sqlite3_reset(st);
	return same;
}

static int create_group(struct dd_ctx *c, json_t *in, json_t **out, bool dynamic)
{
	const char *name = dd__str(in, "thingGroupName");
	const char *parent = dynamic ? NULL : dd__str(in, "parentGroupName");
	json_t *props = json_object_get(in, "thingGroupProperties");
	const char *desc = dd__str(props, "thingGroupDescription");
	json_t *attrs = json_object_get(json_object_get(props, "attributePayload"), "attributes");
	const char *query = dd__str(in, "queryString");
	const char *qver = dd__str(in, "queryVersion");
	const char *index = dd__str(in, "indexName");
	char err[256];
	if (dynamic) {
		if (index && strcmp(index, "AWS_Things") != 0)
			return dd_fail(c, DD_EINVAL, "InvalidRequestException", "indexName must be AWS_Things.");
		if (dd__query_match(query, "", NULL, NULL, err, sizeof err) < 0)
			return dd_fail(c, DD_EINVAL, "InvalidQueryException", "%s", err);
	}
	char *attr_text = dump(json_is_object(attrs) ? attrs : NULL);
	char id[37];
	dd__uuid(id);
	if (dd_db_begin_write(c->db)) {
		free(attr_text);
		return dd__db_fail(c);
	}
	struct group_row g, pg;
	if (load_group(c, name, &g))
		goto dberr;
	if (g.found) {
		/* AWS answers the existing group when the request repeats its properties, and
		 * ResourceAlreadyExistsException (naming it) when they differ */
		int same = same_group(c, name, dynamic, parent, desc, attr_text, query);
		dd_db_rollback(c->db);
		free(attr_text);
		if (same < 0)
			return dd__db_fail(c);
		if (!same) {
			char arn[700];
			dd__arn_buf(c, arn, sizeof arn, "thinggroup/%s", name);
			return dd_fail_exists(c, g.id, arn, "Thing group %s already exists with different properties.", name);
		}
		snprintf(id, sizeof id, "%s", g.id);
		goto ok;
	}
	if (parent) {
		if (load_group(c, parent, &pg))
			goto dberr;
		if (!pg.found || pg.dynamic) {
			/* CreateThingGroup declares no ResourceNotFoundException */
			dd_db_rollback(c->db);
			free(attr_text);
			return dd_fail(c, DD_EINVAL, "InvalidRequestException", "The parent thing group %s does not exist%s.", parent,
				       pg.found ? " as a static group" : "");
		}
	}
	sqlite3_stmt *st = dd_db_stmt(c->db,
		"INSERT INTO thing_groups(account_region, name, group_id, parent, description, attributes, dynamic, query_string,"
		" index_name, query_version, version, created) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, 1, ?11)");
	if (!st)
		goto dberr;
	dd_bind_text(st, 1, c->account_region);
	dd_bind_text(st, 2, name);
	dd_bind_text(st, 3, id);
	dd_bind_text(st, 4, parent);
	dd_bind_text(st, 5, desc);
	dd_bind_text(st, 6, attr_text);
	dd_bind_int64(st, 7, dynamic);
	dd_bind_text(st, 8, query);
	dd_bind_text(st, 9, dynamic ? (index ? index : "AWS_Things") : NULL);
	dd_bind_text(st, 10, dynamic ? (qver ? qver : "2017-09-30") : NULL);
	dd_bind_int64(st, 11, c->now_ms);
	if (dd_step_done(st))
		goto dberr;
	if (dynamic) {
		/* materialize: evaluate the query over every thing of the account */
		st = dd_db_stmt(c->db, "SELECT name FROM things WHERE account_region = ?1");
		if (!st)
			goto dberr;
		dd_bind_text(st, 1, c->account_region);
		char **names = NULL;
		size_t n = 0;
		while (sqlite3_step(st) == SQLITE_ROW) {
			char **nn = realloc(names, (n + 1) * sizeof *nn);
			if (!nn)
				break;
			names = nn;
			names[n++] = strdup(dd_col_text(st, 0));
		}
		sqlite3_reset(st);
		int rc = 0;
		for (size_t i = 0; i < n; i++) {
			if (!rc)
				rc = dd__dynamic_groups_refresh_thing(c, names[i]);
			free(names[i]);
		}
		free(names);
		if (rc)
			goto dberr;
	}
	if (dd_db_commit(c->db))
		goto dberr;
	free(attr_text);
ok:
	*out = json_pack("{s:s, s:o, s:s}", "thingGroupName", name, "thingGroupArn",
			 dd__arn(c, "thinggroup/%s", name), "thingGroupId", id);
	if (dynamic) {
		json_object_set_new(*out, "indexName", json_string(index ? index : "AWS_Things"));
		json_object_set_new(*out, "queryString", json_string(query));
		json_object_set_new(*out, "queryVersion", json_string(qver ? qver : "2017-09-30"));
	}
	return 0;
dberr:
	free(attr_text);
	return dd__db_fail(c);
}

int dd_iot_create_thing_group(struct dd_ctx *c, json_t *in, json_t **out) { return create_group(c, in, out, false); }
int dd_iot_create_dynamic_thing_group(struct dd_ctx *c, json_t *in, json_t **out) { return create_group(c, in, out, true); }

int dd_iot_describe_thing_group(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *name = dd__str(in, "thingGroupName");
	sqlite3_stmt *st = dd_db_stmt(c->db,
		"SELECT group_id, parent, description, attributes, dynamic, query_string, index_name, query_version,"
		" version, created FROM thing_groups WHERE account_region = ?1 AND name = ?2");
	if (!st)
		return dd__db_fail(c);
	dd_bind_text(st, 1, c->account_region);
	dd_bind_text(st, 2, name);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_reset(st);
		return dd_fail(c, DD_ENOTFOUND, "ResourceNotFoundException", "Thing group %s cannot be found.", name);
	}
	json_t *props = json_object();
	if (sqlite3_column_type(st, 2) != SQLITE_NULL)
		json_object_set_new(props, "thingGroupDescription", json_string(dd_col_text(st, 2)));
	json_t *attrs = json_loads(dd_col_text(st, 3), 0, NULL);
	json_object_set_new(props, "attributePayload", json_pack("{s:o}", "attributes", attrs ? attrs : json_object()));
	json_t *meta = json_pack("{s:o}", "creationDate", dd_json_time(sqlite3_column_int64(st, 9)));
	char parent[160];
	snprintf(parent, sizeof parent, "%s", dd_col_text(st, 1));
	json_t *o = json_pack("{s:s, s:s, s:o, s:I, s:o, s:o}", "thingGroupName", name, "thingGroupId",
			      dd_col_text(st, 0), "thingGroupArn", dd__arn(c, "thinggroup/%s", name), "version",
			      (json_int_t)sqlite3_column_int64(st, 8), "thingGroupProperties", props,
			      "thingGroupMetadata", meta);
	if (sqlite3_column_int(st, 4)) {
		json_object_set_new(o, "queryString", json_string(dd_col_text(st, 5)));
		json_object_set_new(o, "indexName", json_string(dd_col_text(st, 6)));
		json_object_set_new(o, "queryVersion", json_string(dd_col_text(st, 7)));
		json_object_set_new(o, "status", json_string("ACTIVE"));
	}
	sqlite3_reset(st);
	if (parent[0]) {
		json_object_set_new(meta, "parentGroupName", json_string(parent));
		/* root-to-parent chain */
		json_t *chain = json_array();
		char cur[160];
		snprintf(cur, sizeof cur, "%s", parent);
		for (int depth = 0; cur[0] && depth < 8; depth++) {
			json_array_insert_new(chain, 0, json_pack("{s:s, s:o}", "groupName", cur, "groupArn",
								  dd__arn(c, "thinggroup/%s", cur)));
			struct group_row g;
			if (load_group(c, cur, &g) || !g.found)
				break;
			snprintf(cur, sizeof cur, "%s", g.parent);
		}
		json_object_set_new(meta, "rootToParentThingGroups", chain);
	}
	*out = o;
	return 0;
}

static json_t *group_row(struct dd_ctx *c, sqlite3_stmt *st, char *key, size_t keylen)
{
	snprintf(key, keylen, "%s", dd_col_text(st, 0));
	return json_pack("{s:s, s:o}", "groupName", key, "groupArn", dd__arn(c, "thinggroup/%s", key));
}

/* ListThingGroups. The model gives `recursive` no default (RecursiveWithoutDefault), and
 * AWS reads the three cases so:
 *   - no parentGroup: every group of the account, or only the root groups when
 *     recursive is false;
 *   - parentGroup: its direct children ("limits the results to those with the specified
 *     parent group"), or all its descendants when recursive is true ("return child groups
 *     as well").
 * Omitting recursive therefore keeps the long-standing answers (all groups; the direct
 * children of a parent). A parentGroup that does not exist is ResourceNotFoundException,
 * which the operation declares. */
int dd_iot_list_thing_groups(struct dd_ctx *c, json_t *in, json_t **out)
{
	char after[512];
	int size;
	if (dd__page(c, in, "nextToken", "maxResults", 50, 250, after, sizeof after, &size))
		return c->err;
	const char *parent = dd__str(in, "parentGroup");
	const char *prefix = dd__str(in, "namePrefixFilter");
	json_t *rec = json_object_get(in, "recursive");
	/* 0 all groups, 1 root groups, 2 direct children of parent, 3 descendants of parent */
	int mode = parent ? (json_is_true(rec) ? 3 : 2) : (json_is_false(rec) ? 1 : 0);
	if (parent) {
		struct group_row pg;
		if (load_group(c, parent, &pg))
			return dd__db_fail(c);
		if (!pg.found)
			return dd_fail(c, DD_ENOTFOUND, "ResourceNotFoundException", "Thing group %s cannot be found.", parent);
	}
	sqlite3_stmt *st = dd_db_stmt(c->db,
		"WITH RECURSIVE sub(n) AS (SELECT name FROM thing_groups WHERE ?6 = 3 AND account_region = ?1 AND parent = ?3"
		" UNION SELECT g.name FROM thing_groups g JOIN sub ON g.parent = sub.n WHERE g.account_region = ?1)"
		" SELECT name FROM thing_groups WHERE account_region = ?1 AND name > ?2"
		" AND CASE ?6 WHEN 0 THEN 1 WHEN 1 THEN ifnull(parent, '') = '' WHEN 2 THEN parent = ?3"
		" ELSE name IN (SELECT n FROM sub) END"
		" AND (?4 IS NULL OR substr(name, 1, length(?4)) = ?4) ORDER BY name LIMIT ?5");
	if (!st)
		return dd__db_fail(c);
	dd_bind_text(st, 1, c->account_region);
	dd_bind_text(st, 2, after);
	dd_bind_text(st, 3, parent);
	dd_bind_text(st, 4, prefix);
	dd_bind_int64(st, 5, size + 1);
	dd_bind_int64(st, 6, mode);
	return dd__page_list(c, st, size, group_row, "thingGroups", "nextToken", out);
}

static int update_group(struct dd_ctx *c, json_t *in, json_t **out, bool dynamic)
{
	const char *name = dd__str(in, "thingGroupName");
	json_t *props = json_object_get(in, "thingGroupProperties");
	int64_t expected = dd__int(in, "expectedVersion", -1);
	const char *query = dynamic ? dd__str(in, "queryString") : NULL;
	char err[256];
	if (query && dd__query_match(query, "", NULL, NULL, err, sizeof err) < 0)
		return dd_fail(c, DD_EINVAL, "InvalidQueryException", "%s", err);
	if (dd_db_begin_write(c->db))
		return dd__db_fail(c);
	struct group_row g;
	if (load_group(c, name, &g))
		return dd__db_fail(c);
	if (!g.found || g.dynamic != dynamic) {
		dd_db_rollback(c->db);
		return dd_fail(c, DD_ENOTFOUND, "ResourceNotFoundException", "Thing group %s cannot be found.", name);
	}
	if (expected >= 0 && expected != g.version) {
		dd_db_rollback(c->db);
		return dd_fail(c, DD_ECONFLICT, "VersionConflictException", "The version for thing group %s does not match.", name);
	}
	const char *desc = dd__str(props, "thingGroupDescription");
	json_t *payload = json_object_get(props, "attributePayload");
	json_t *attrs = json_object_get(payload, "attributes");
	char *attr_text = NULL;
	if (json_is_object(attrs)) {
		json_t *cur = json_object();
		if (dd__bool(payload, "merge", false)) {
			sqlite3_stmt *st = dd_db_stmt(c->db, "SELECT attributes FROM thing_groups WHERE account_region = ?1 AND name = ?2");
			if (st) {
				dd_bind_text(st, 1, c->account_region);
				dd_bind_text(st, 2, name);
				if (sqlite3_step(st) == SQLITE_ROW) {
					json_decref(cur);
					cur = json_loads(dd_col_text(st, 0), 0, NULL);
					if (!cur)
						cur = json_object();
				}
				sqlite3_reset(st);
			}
		}
		const char *k;
		json_t *v;
		json_object_foreach(attrs, k, v) {
			if (json_is_string(v) && json_string_length(v) == 0)
				json_object_del(cur, k);
			else
				json_object_set(cur, k, v);
		}
		attr_text = dump(cur);
		json_decref(cur);
	}
	sqlite3_stmt *st = dd_db_stmt(c->db,
		"UPDATE thing_groups SET description = coalesce(?3, description), attributes = coalesce(?4, attributes),"
		" query_string = coalesce(?5, query_string), version = version + 1 WHERE account_region = ?1 AND name = ?2");
	int rc = st ? 0 : DD_EIO;
	if (!rc) {
		dd_bind_text(st, 1, c->account_region);
		dd_bind_text(st, 2, name);
		dd_bind_text(st, 3, desc);
		dd_bind_text(st, 4, attr_text);
		dd_bind_text(st, 5, query);
		rc = dd_step_done(st);
	}
	free(attr_text);
	if (!rc && query) {
		/* re-materialize the membership */
		st = dd_db_stmt(c->db, "DELETE FROM thing_group_members WHERE account_region = ?1 AND group_name = ?2");
		if (!st)
			rc = DD_EIO;
		else {
			dd_bind_text(st, 1, c->account_region);
			dd_bind_text(st, 2, name);
			rc = dd_step_done(st);
		}
		st = rc ? NULL : dd_db_stmt(c->db, "SELECT name, type_name, attributes FROM things WHERE account_region = ?1");
		if (st) {
			dd_bind_text(st, 1, c->account_region);
			sqlite3_stmt *ins = dd_db_stmt(c->db, "INSERT OR IGNORE INTO thing_group_members(account_region, group_name, thing_name) VALUES (?1, ?2, ?3)");
			while (ins && sqlite3_step(st) == SQLITE_ROW) {
				json_t *a = json_loads(dd_col_text(st, 2), 0, NULL);
				int m = dd__query_match(query, dd_col_text(st, 0),
							sqlite3_column_type(st, 1) == SQLITE_NULL ? NULL : dd_col_text(st, 1),
							a, err, sizeof err);
				json_decref(a);
				if (m == 1) {
					dd_bind_text(ins, 1, c->account_region);
					dd_bind_text(ins, 2, name);
					dd_bind_text(ins, 3, dd_col_text(st, 0));
					if (dd_step_done(ins)) {
						rc = DD_EIO;
						break;
					}
				}
			}
			sqlite3_reset(st);
		}
	}
	if (rc || dd_db_commit(c->db))
		return dd__db_fail(c);
	*out = json_pack("{s:I}", "version", (json_int_t)(g.version + 1));
	return 0;
}

int dd_iot_update_thing_group(struct dd_ctx *c, json_t *in, json_t **out) { return update_group(c, in, out, false); }
int dd_iot_update_dynamic_thing_group(struct dd_ctx *c, json_t *in, json_t **out) { return update_group(c, in, out, true); }

static int delete_group(struct dd_ctx *c, json_t *in, json_t **out, bool dynamic)
{
	const char *name = dd__str(in, "thingGroupName");
	int64_t expected = dd__int(in, "expectedVersion", -1);
	*out = NULL;
	if (dd_db_begin_write(c->db))
		return dd__db_fail(c);
	struct group_row g;
	if (load_group(c, name, &g))
		return dd__db_fail(c);
	if (!g.found) {
		dd_db_rollback(c->db);
		return 0; /* AWS: deleting a missing group succeeds */
	}
	if (g.dynamic != dynamic) {
		dd_db_rollback(c->db);
		return dd_fail(c, DD_EINVAL, "InvalidRequestException", "Thing group %s is %s a dynamic thing group.", name,
			       g.dynamic ? "" : "not");
	}
	if (expected >= 0 && expected != g.version) {
		dd_db_rollback(c->db);
		return dd_fail(c, DD_ECONFLICT, "VersionConflictException", "The version for thing group %s does not match.", name);
	}
	sqlite3_stmt *st = dd_db_stmt(c->db, "SELECT count(*) FROM thing_groups WHERE account_region = ?1 AND parent = ?2");
	if (!st)
		return dd__db_fail(c);
	dd_bind_text(st, 1, c->account_region);
	dd_bind_text(st, 2, name);
	int children = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
	sqlite3_reset(st);
	if (children) {
		dd_db_rollback(c->db);
		return dd_fail(c, DD_ECONFLICT, "InvalidRequestException", "Cannot delete thing group %s: it has child groups.", name);
	}
	static const char *const dels[] = {
		"DELETE FROM thing_groups WHERE account_region = ?1 AND name = ?2",
		"DELETE FROM thing_group_members WHERE account_region = ?1 AND group_name = ?2",
		"DELETE FROM policy_targets WHERE account_region = ?1 AND target = ?3",
	};
	char arn[600];
	dd__arn_buf(c, arn, sizeof arn, "thinggroup/%s", name);
	for (size_t i = 0; i < 3; i++) {
		st = dd_db_stmt(c->db, dels[i]);
		if (!st)
			return dd__db_fail(c);
		dd_bind_text(st, 1, c->account_region);
		dd_bind_text(st, 2, name);
		if (i == 2)
			dd_bind_text(st, 3, arn);
		if (dd_step_done(st))
			return dd__db_fail(c);
	}
	if (dd_db_commit(c->db))
		return dd__db_fail(c);
	return 0;
}

int dd_iot_delete_thing_group(struct dd_ctx *c, json_t *in, json_t **out) { return delete_group(c, in, out, false); }
int dd_iot_delete_dynamic_thing_group(struct dd_ctx *c, json_t *in, json_t **out) { return delete_group(c, in, out, true); }

/* Adds thing to a static group inside the caller's transaction. With override, a dynamic
 * membership makes room when the thing is already in 10 groups. */
static int add_member(struct dd_ctx *c, const char *group, const char *thing, bool override);

int dd__thing_group_add_member(struct dd_ctx *c, const char *group, const char *thing, bool override)
{
	return add_member(c, group, thing, override);
}

static int add_member(struct dd_ctx *c, const char *group, const char *thing, bool override)
{
	struct group_row g;
	if (load_group(c, group, &g))
		return DD_EIO;
	if (!g.found)
		return dd_fail(c, DD_ENOTFOUND, "ResourceNotFoundException", "Thing group %s cannot be found.", group);
	if (g.dynamic)
		return dd_fail(c, DD_EINVAL, "InvalidRequestException",
			       "Cannot add thing %s to dynamic thing group %s: membership is decided by its query.", thing, group);
	if (!dd__thing_exists(c, thing))
		return dd_fail(c, DD_ENOTFOUND, "ResourceNotFoundException", "Thing %s cannot be found.", thing);
	sqlite3_stmt *st = dd_db_stmt(c->db, "SELECT 1 FROM thing_group_members WHERE account_region = ?1 AND group_name = ?2 AND thing_name = ?3");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, c->account_region);
	dd_bind_text(st, 2, group);
	dd_bind_text(st, 3, thing);
	bool already = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_reset(st);
	if (already)
		return 0;
	int n = thing_group_count(c, thing);
	if (n < 0)
		return DD_EIO;
	if (n >= DD_MAX_GROUPS_PER_THING) {
		if (!override)
			return dd_fail(c, DD_ELIMIT, "InvalidRequestException",
				       "Thing %s cannot be added to more than %d thing groups.", thing, DD_MAX_GROUPS_PER_THING);
		sqlite3_stmt *pick = dd_db_stmt(c->db,
			"SELECT m.group_name FROM thing_group_members m JOIN thing_groups g ON g.account_region = m.account_region"
			" AND g.name = m.group_name WHERE m.account_region = ?1 AND m.thing_name = ?2 AND g.dynamic = 1"
			" ORDER BY g.created DESC LIMIT 1");
		if (!pick)
			return DD_EIO;
		dd_bind_text(pick, 1, c->account_region);
		dd_bind_text(pick, 2, thing);
		char dyn[160] = "";
		if (sqlite3_step(pick) == SQLITE_ROW)
			snprintf(dyn, sizeof dyn, "%s", dd_col_text(pick, 0));
		sqlite3_reset(pick);
		if (!dyn[0])
			return dd_fail(c, DD_ELIMIT, "InvalidRequestException",
				       "Thing %s is already in %d static thing groups.", thing, DD_MAX_GROUPS_PER_THING);
		sqlite3_stmt *del = dd_db_stmt(c->db, "DELETE FROM thing_group_members WHERE account_region = ?1 AND group_name = ?2 AND thing_name = ?3");
		if (!del)
			return DD_EIO;
		dd_bind_text(del, 1, c->account_region);
		dd_bind_text(del, 2, dyn);
		dd_bind_text(del, 3, thing);
		if (dd_step_done(del))
			return DD_EIO;
	}
	st = dd_db_stmt(c->db, "INSERT INTO thing_group_members(account_region, group_name, thing_name) VALUES (?1, ?2, ?3)");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, c->account_region);
	dd_bind_text(st, 2, group);
	dd_bind_text(st, 3, thing);
	return dd_step_done(st);
}

static int remove_member(struct dd_ctx *c, const char *group, const char *thing)
{
	struct group_row g;
	if (load_group(c, group, &g))
		return DD_EIO;
	if (!g.found)
		return dd_fail(c, DD_ENOTFOUND, "ResourceNotFoundException", "Thing group %s cannot be found.", group);
	if (g.dynamic)
		return dd_fail(c, DD_EINVAL, "InvalidRequestException", "Cannot remove a thing from dynamic thing group %s.", group);
	sqlite3_stmt *st = dd_db_stmt(c->db, "DELETE FROM thing_group_members WHERE account_region = ?1 AND group_name = ?2 AND thing_name = ?3");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, c->account_region);
	dd_bind_text(st, 2, group);
	dd_bind_text(st, 3, thing);
	return dd_step_done(st);
}

static int finish(struct dd_ctx *c, int rc)
{
	if (rc) {
		dd_db_rollback(c->db);
		if (!c->err)
			return dd__db_fail(c);
		return rc;
	}
	if (dd_db_commit(c->db))
		return dd__db_fail(c);
	return 0;
}

int dd_iot_add_thing_to_thing_group(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *group, *thing;
	*out = NULL;
	if (dd__name_from_arn(c, dd__str(in, "thingGroupArn"), "thinggroup", &group) ||
	    dd__name_from_arn(c, dd__str(in, "thingArn"), "thing", &thing))
		return c->err;
	if (dd__str(in, "thingGroupName"))
		group = dd__str(in, "thingGroupName");
	if (dd__str(in, "thingName"))
		thing = dd__str(in, "thingName");
	*out = NULL;
	if (!group || !thing)
		return dd_fail(c, DD_EINVAL, "InvalidRequestException", "Give thingGroupName or thingGroupArn, and thingName or thingArn.");
	if (dd_db_begin_write(c->db))
		return dd__db_fail(c);
	return finish(c, add_member(c, group, thing, dd__bool(in, "overrideDynamicGroups", false)));
}

int dd_iot_remove_thing_from_thing_group(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *group, *thing;
	*out = NULL;
	if (dd__name_from_arn(c, dd__str(in, "thingGroupArn"), "thinggroup", &group) ||
	    dd__name_from_arn(c, dd__str(in, "thingArn"), "thing", &thing))
		return c->err;
	if (dd__str(in, "thingGroupName"))
		group = dd__str(in, "thingGroupName");
	if (dd__str(in, "thingName"))
		thing = dd__str(in, "thingName");
	*out = NULL;
	if (!group || !thing)
		return dd_fail(c, DD_EINVAL, "InvalidRequestException", "Give thingGroupName or thingGroupArn, and thingName or thingArn.");
	if (dd_db_begin_write(c->db))
		return dd__db_fail(c);
	return finish(c, remove_member(c, group, thing));
}

int dd_iot_update_thing_groups_for_thing(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *thing = dd__str(in, "thingName");
	bool override = dd__bool(in, "overrideDynamicGroups", false);
	*out = NULL;
	if (!thing)
		return dd_fail(c, DD_EINVAL, "InvalidRequestException", "thingName is required.");
	if (dd_db_begin_write(c->db))
		return dd__db_fail(c);
	if (!dd__thing_exists(c, thing))
		return finish(c, dd_fail(c, DD_ENOTFOUND, "ResourceNotFoundException", "Thing %s cannot be found.", thing));
	size_t i;
	json_t *g;
	int rc = 0;
	json_array_foreach(json_object_get(in, "thingGroupsToRemove"), i, g) {
		if ((rc = remove_member(c, json_string_value(g), thing)))
			return finish(c, rc);
	}
	json_array_foreach(json_object_get(in, "thingGroupsToAdd"), i, g) {
		if ((rc = add_member(c, json_string_value(g), thing, override)))
			return finish(c, rc);
	}
	return finish(c, 0);
}

int dd_iot_list_things_in_thing_group(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *group = dd__str(in, "thingGroupName");
	bool recursive = dd__bool(in, "recursive", false);
	char after[512];
	int size;
	if (dd__page(c, in, "nextToken", "maxResults", 50, 250, after, sizeof after, &size))
		return c->err;
	struct group_row g;
	if (load_group(c, group, &g))
		return dd__db_fail(c);
	if (!g.found)
		return dd_fail(c, DD_ENOTFOUND, "ResourceNotFoundException", "Thing group %s cannot be found.", group);
	sqlite3_stmt *st = recursive
		? dd_db_stmt(c->db,
			"WITH RECURSIVE sub(name) AS (SELECT ?2 UNION SELECT g.name FROM thing_groups g JOIN sub ON g.parent = sub.name"
			" WHERE g.account_region = ?1) SELECT DISTINCT thing_name FROM thing_group_members WHERE account_region = ?1"
			" AND group_name IN (SELECT name FROM sub) AND thing_name > ?3 ORDER BY thing_name LIMIT ?4")
		: dd_db_stmt(c->db,
			"SELECT thing_name FROM thing_group_members WHERE account_region = ?1 AND group_name = ?2 AND thing_name > ?3"
			" ORDER BY thing_name LIMIT ?4");
	if (!st)
		return dd__db_fail(c);
	dd_bind_text(st, 1, c->account_region);
	dd_bind_text(st, 2, group);
	dd_bind_text(st, 3, after);
	dd_bind_int64(st, 4, size + 1);
	return dd__page_list(c, st, size, dd__row_text0, "things", "nextToken", out);
}

int dd_iot_list_thing_groups_for_thing(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *thing = dd__str(in, "thingName");
	char after[512];
	int size;
	if (dd__page(c, in, "nextToken", "maxResults", 50, 250, after, sizeof after, &size))
		return c->err;
	if (!dd__thing_exists(c, thing))
		return dd_fail(c, DD_ENOTFOUND, "ResourceNotFoundException", "Thing %s cannot be found.", thing);
	sqlite3_stmt *st = dd_db_stmt(c->db,
		"SELECT group_name FROM thing_group_members WHERE account_region = ?1 AND thing_name = ?2 AND group_name > ?3"
		" ORDER BY group_name LIMIT ?4");
	if (!st)
		return dd__db_fail(c);
	dd_bind_text(st, 1, c->account_region);
	dd_bind_text(st, 2, thing);
	dd_bind_text(st, 3, after);
	dd_bind_int64(st, 4, size + 1);
	return dd__page_list(c, st, size, group_row, "thingGroups", "nextToken", out);
}

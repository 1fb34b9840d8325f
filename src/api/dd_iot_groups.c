/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The thing groups API: static and dynamic thing groups (create, describe, list, update,
 * delete), adding and removing things, and the membership listings. Membership rules
 * (static groups only, at most 10 groups per thing, dynamic membership from the group's
 * query) are in core/registry/dd_registry_groups.h; the SQL is in
 * src/store/dd_store_groups.c. Dynamic group membership is materialized when the query
 * changes, so the 10-groups limit and the audit's group reads see one membership set.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/dd_api_common.h"
#include "core/registry/dd_registry_groups.h"
#include "store/dd_store_groups.h"
#include "store/dd_store_things.h"

#define DEFAULT_INDEX "AWS_Things"
#define DEFAULT_QUERY_VERSION "2017-09-30"

static char *dump(json_t *j)
{
	if (j)
		return json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	return strdup("{}");
}

static bool same_text(const char *a, const char *b) { return strcmp(a ? a : "", b ? b : "") == 0; }

/* A membership rule's refusal (or store error) as the AWS error on c. */
static int rule_fail(struct dd_ctx *c, int rc, const char *msg)
{
	if (rc == DD_EIO || !msg[0])
		return dd__db_fail(c);
	return dd_fail(c, rc, rc == DD_ENOTFOUND ? "ResourceNotFoundException" : "InvalidRequestException", "%s", msg);
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
		if (index && strcmp(index, DEFAULT_INDEX) != 0)
			return dd_fail(c, DD_EINVAL, "InvalidRequestException", "indexName must be AWS_Things.");
		if (dd_registry_groups_query_check(query, err, sizeof err))
			return dd_fail(c, DD_EINVAL, "InvalidQueryException", "%s", err);
	}
	char *attr_text = dump(json_is_object(attrs) ? attrs : NULL);
	if (!attr_text)
		return dd_fail(c, DD_ENOMEM, "InternalFailureException", "out of memory");
	char id[37];
	dd_random_uuid(id);
	if (dd_db_begin_write(c->db)) {
		free(attr_text);
		return dd__db_fail(c);
	}
	struct dd_store_groups_row g;
	int rc = dd_store_groups_get(c->db, c->account_region, name, &g);
	if (rc == 0) {
		/* AWS answers the existing group when the request repeats its properties, and
		 * ResourceAlreadyExistsException (naming it) when they differ */
		bool same = g.dynamic == dynamic && same_text(g.parent, parent) && same_text(g.description, desc) &&
			    strcmp(g.attributes, attr_text) == 0 && same_text(g.query_string, query);
		snprintf(id, sizeof id, "%s", g.id);
		dd_store_groups_row_clear(&g);
		dd_db_rollback(c->db);
		free(attr_text);
		if (!same) {
			char arn[700];
			dd__arn_buf(c, arn, sizeof arn, "thinggroup/%s", name);
			return dd_fail_exists(c, id, arn, "Thing group %s already exists with different properties.", name);
		}
		goto ok;
	}
	if (rc != DD_ENOTFOUND)
		goto dberr;
	if (parent) {
		struct dd_store_groups_row pg;
		rc = dd_store_groups_get(c->db, c->account_region, parent, &pg);
		if (rc && rc != DD_ENOTFOUND)
			goto dberr;
		bool found = rc == 0, pdyn = pg.dynamic;
		dd_store_groups_row_clear(&pg);
		if (!found || pdyn) {
			/* CreateThingGroup declares no ResourceNotFoundException */
			dd_db_rollback(c->db);
			free(attr_text);
			return dd_fail(c, DD_EINVAL, "InvalidRequestException", "The parent thing group %s does not exist%s.", parent,
				       found ? " as a static group" : "");
		}
	}
	struct dd_store_groups_row row = {
		.description = (char *)desc,
		.attributes = attr_text,
		.dynamic = dynamic,
		.query_string = (char *)query,
		.created_ms = c->now_ms,
	};
	snprintf(row.name, sizeof row.name, "%s", name);
	snprintf(row.id, sizeof row.id, "%s", id);
	snprintf(row.parent, sizeof row.parent, "%s", parent ? parent : "");
	if (dynamic) {
		snprintf(row.index_name, sizeof row.index_name, "%s", index ? index : DEFAULT_INDEX);
		snprintf(row.query_version, sizeof row.query_version, "%s", qver ? qver : DEFAULT_QUERY_VERSION);
	}
	/* a dynamic group's members: the query evaluated over every thing of the account */
	if (dd_store_groups_insert(c->db, c->account_region, &row) ||
	    (dynamic && dd_registry_groups_materialize(c->db, c->account_region, name, query)) || dd_db_commit(c->db))
		goto dberr;
	free(attr_text);
ok:
	*out = json_pack("{s:s, s:o, s:s}", "thingGroupName", name, "thingGroupArn", dd__arn(c, "thinggroup/%s", name),
			 "thingGroupId", id);
	if (dynamic) {
		json_object_set_new(*out, "indexName", json_string(index ? index : DEFAULT_INDEX));
		json_object_set_new(*out, "queryString", json_string(query));
		json_object_set_new(*out, "queryVersion", json_string(qver ? qver : DEFAULT_QUERY_VERSION));
	}
	return 0;
dberr:
	free(attr_text);
	return dd__db_fail(c);
}

static int create_thing_group(struct dd_ctx *c, json_t *in, json_t **out) { return create_group(c, in, out, false); }
static int create_dynamic_thing_group(struct dd_ctx *c, json_t *in, json_t **out) { return create_group(c, in, out, true); }

static int describe_thing_group(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *name = dd__str(in, "thingGroupName");
	struct dd_store_groups_row g;
	int rc = dd_store_groups_get(c->db, c->account_region, name, &g);
	if (rc == DD_ENOTFOUND)
		return dd_fail(c, DD_ENOTFOUND, "ResourceNotFoundException", "Thing group %s cannot be found.", name);
	if (rc)
		return dd__db_fail(c);
	json_t *props = json_object();
	if (g.description)
		json_object_set_new(props, "thingGroupDescription", json_string(g.description));
	json_t *attrs = json_loads(g.attributes, 0, NULL);
	json_object_set_new(props, "attributePayload", json_pack("{s:o}", "attributes", attrs ? attrs : json_object()));
	json_t *meta = json_pack("{s:o}", "creationDate", dd_json_time(g.created_ms));
	json_t *o = json_pack("{s:s, s:s, s:o, s:I, s:o, s:o}", "thingGroupName", name, "thingGroupId", g.id,
			      "thingGroupArn", dd__arn(c, "thinggroup/%s", name), "version", (json_int_t)g.version,
			      "thingGroupProperties", props, "thingGroupMetadata", meta);
	if (g.dynamic) {
		json_object_set_new(o, "queryString", json_string(g.query_string ? g.query_string : ""));
		json_object_set_new(o, "indexName", json_string(g.index_name));
		json_object_set_new(o, "queryVersion", json_string(g.query_version));
		json_object_set_new(o, "status", json_string("ACTIVE"));
	}
	if (g.parent[0]) {
		json_object_set_new(meta, "parentGroupName", json_string(g.parent));
		/* root-to-parent chain */
		json_t *chain = json_array();
		char cur[DD_STORE_NAME_MAX];
		snprintf(cur, sizeof cur, "%s", g.parent);
		for (int depth = 0; cur[0] && depth < 8; depth++) {
			json_array_insert_new(chain, 0, json_pack("{s:s, s:o}", "groupName", cur, "groupArn",
								  dd__arn(c, "thinggroup/%s", cur)));
			struct dd_store_groups_row p;
			if (dd_store_groups_get(c->db, c->account_region, cur, &p))
				break;
			snprintf(cur, sizeof cur, "%s", p.parent);
			dd_store_groups_row_clear(&p);
		}
		json_object_set_new(meta, "rootToParentThingGroups", chain);
	}
	dd_store_groups_row_clear(&g);
	*out = o;
	return 0;
}

struct list_groups {
	struct dd_ctx *c;
	struct dd__page pg;
};

static int group_row(const char *name, void *ud)
{
	struct list_groups *l = ud;
	if (!dd__page_take(&l->pg, name))
		return 0;
	json_t *g = json_pack("{s:s, s:o}", "groupName", name, "groupArn", dd__arn(l->c, "thinggroup/%s", name));
	return !g || json_array_append_new(l->pg.arr, g) ? DD_ENOMEM : 0;
}

/* 0 when the group exists, else fails c (ResourceNotFoundException or a store error) */
static int group_exists(struct dd_ctx *c, const char *name)
{
	struct dd_store_groups_row g;
	int rc = dd_store_groups_get(c->db, c->account_region, name, &g);
	dd_store_groups_row_clear(&g);
	if (rc == DD_ENOTFOUND)
		return dd_fail(c, DD_ENOTFOUND, "ResourceNotFoundException", "Thing group %s cannot be found.", name);
	return rc ? dd__db_fail(c) : 0;
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
static int list_thing_groups(struct dd_ctx *c, json_t *in, json_t **out)
{
	char after[512];
	int size;
	if (dd__page(c, in, "nextToken", "maxResults", 50, 250, after, sizeof after, &size))
		return c->err;
	const char *parent = dd__str(in, "parentGroup");
	const char *prefix = dd__str(in, "namePrefixFilter");
	json_t *rec = json_object_get(in, "recursive");
	enum dd_store_groups_scope scope = parent ? (json_is_true(rec) ? DD_STORE_GROUPS_DESCENDANTS : DD_STORE_GROUPS_CHILDREN)
						  : (json_is_false(rec) ? DD_STORE_GROUPS_ROOTS : DD_STORE_GROUPS_ALL);
	if (parent && group_exists(c, parent))
		return c->err;
	struct list_groups l = { .c = c };
	dd__page_start(&l.pg, json_array(), size);
	int rc = dd_store_groups_list(c->db, c->account_region, scope, parent, prefix, after, size + 1, group_row, &l);
	return dd__page_reply(c, &l.pg, rc, "thingGroups", "nextToken", out);
}

static int update_group(struct dd_ctx *c, json_t *in, json_t **out, bool dynamic)
{
	const char *name = dd__str(in, "thingGroupName");
	json_t *props = json_object_get(in, "thingGroupProperties");
	int64_t expected = dd__int(in, "expectedVersion", -1);
	const char *query = dynamic ? dd__str(in, "queryString") : NULL;
	char err[256];
	if (query && dd_registry_groups_query_check(query, err, sizeof err))
		return dd_fail(c, DD_EINVAL, "InvalidQueryException", "%s", err);
	if (dd_db_begin_write(c->db))
		return dd__db_fail(c);
	struct dd_store_groups_row g;
	int rc = dd_store_groups_get(c->db, c->account_region, name, &g);
	if (rc && rc != DD_ENOTFOUND)
		return dd__db_fail(c);
	if (rc == DD_ENOTFOUND || g.dynamic != dynamic) {
		dd_store_groups_row_clear(&g);
		dd_db_rollback(c->db);
		return dd_fail(c, DD_ENOTFOUND, "ResourceNotFoundException", "Thing group %s cannot be found.", name);
	}
	int64_t version = g.version;
	if (expected >= 0 && expected != version) {
		dd_store_groups_row_clear(&g);
		dd_db_rollback(c->db);
		return dd_fail(c, DD_ECONFLICT, "VersionConflictException", "The version for thing group %s does not match.", name);
	}
	const char *desc = dd__str(props, "thingGroupDescription");
	json_t *payload = json_object_get(props, "attributePayload");
	json_t *attrs = json_object_get(payload, "attributes");
	char *attr_text = NULL;
	if (json_is_object(attrs)) {
		json_t *cur = dd__bool(payload, "merge", false) ? json_loads(g.attributes, 0, NULL) : NULL;
		if (!cur)
			cur = json_object();
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
	dd_store_groups_row_clear(&g);
	rc = dd_store_groups_update(c->db, c->account_region, name, desc, attr_text, query);
	free(attr_text);
	/* a new query re-materializes the membership */
	if (rc || (query && dd_registry_groups_materialize(c->db, c->account_region, name, query)) || dd_db_commit(c->db))
		return dd__db_fail(c);
	*out = json_pack("{s:I}", "version", (json_int_t)(version + 1));
	return 0;
}

static int update_thing_group(struct dd_ctx *c, json_t *in, json_t **out) { return update_group(c, in, out, false); }
static int update_dynamic_thing_group(struct dd_ctx *c, json_t *in, json_t **out) { return update_group(c, in, out, true); }

static int delete_group(struct dd_ctx *c, json_t *in, json_t **out, bool dynamic)
{
	const char *name = dd__str(in, "thingGroupName");
	int64_t expected = dd__int(in, "expectedVersion", -1);
	*out = NULL;
	if (dd_db_begin_write(c->db))
		return dd__db_fail(c);
	struct dd_store_groups_row g;
	int rc = dd_store_groups_get(c->db, c->account_region, name, &g);
	if (rc == DD_ENOTFOUND) {
		dd_db_rollback(c->db);
		return 0; /* AWS: deleting a missing group succeeds */
	}
	if (rc)
		return dd__db_fail(c);
	bool gdyn = g.dynamic;
	int64_t version = g.version;
	dd_store_groups_row_clear(&g);
	if (gdyn != dynamic) {
		dd_db_rollback(c->db);
		return dd_fail(c, DD_EINVAL, "InvalidRequestException", "Thing group %s is %s a dynamic thing group.", name,
			       gdyn ? "" : "not");
	}
	if (expected >= 0 && expected != version) {
		dd_db_rollback(c->db);
		return dd_fail(c, DD_ECONFLICT, "VersionConflictException", "The version for thing group %s does not match.", name);
	}
	int64_t children;
	if (dd_store_groups_child_count(c->db, c->account_region, name, &children))
		return dd__db_fail(c);
	if (children) {
		dd_db_rollback(c->db);
		return dd_fail(c, DD_ECONFLICT, "InvalidRequestException", "Cannot delete thing group %s: it has child groups.", name);
	}
	char arn[600];
	dd__arn_buf(c, arn, sizeof arn, "thinggroup/%s", name);
	if (dd_store_groups_delete(c->db, c->account_region, name, arn) || dd_db_commit(c->db))
		return dd__db_fail(c);
	return 0;
}

static int delete_thing_group(struct dd_ctx *c, json_t *in, json_t **out) { return delete_group(c, in, out, false); }
static int delete_dynamic_thing_group(struct dd_ctx *c, json_t *in, json_t **out) { return delete_group(c, in, out, true); }

int dd__thing_group_add_member(struct dd_ctx *c, const char *group, const char *thing, bool override)
{
	char msg[600] = "";
	int rc = dd_registry_groups_add_member(c->db, c->account_region, group, thing, override, msg, sizeof msg);
	if (!rc || rc == DD_EIO)
		return rc;
	return dd_fail(c, rc, rc == DD_ENOTFOUND ? "ResourceNotFoundException" : "InvalidRequestException", "%s", msg);
}

/* Ends a membership change: commits, or rolls back and answers the rule's error. */
static int finish(struct dd_ctx *c, int rc, const char *msg)
{
	if (rc) {
		dd_db_rollback(c->db);
		return rule_fail(c, rc, msg);
	}
	if (dd_db_commit(c->db))
		return dd__db_fail(c);
	return 0;
}

/* The group and thing of Add/RemoveThing…ThingGroup: by name or ARN. 0 or fails c. */
static int member_target(struct dd_ctx *c, json_t *in, const char **group, const char **thing)
{
	if (dd__name_from_arn(c, dd__str(in, "thingGroupArn"), "thinggroup", group) ||
	    dd__name_from_arn(c, dd__str(in, "thingArn"), "thing", thing))
		return c->err;
	if (dd__str(in, "thingGroupName"))
		*group = dd__str(in, "thingGroupName");
	if (dd__str(in, "thingName"))
		*thing = dd__str(in, "thingName");
	if (!*group || !*thing)
		return dd_fail(c, DD_EINVAL, "InvalidRequestException", "Give thingGroupName or thingGroupArn, and thingName or thingArn.");
	return 0;
}

static int add_thing_to_thing_group(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *group, *thing;
	*out = NULL;
	if (member_target(c, in, &group, &thing))
		return c->err;
	if (dd_db_begin_write(c->db))
		return dd__db_fail(c);
	char msg[600] = "";
	return finish(c, dd_registry_groups_add_member(c->db, c->account_region, group, thing,
						       dd__bool(in, "overrideDynamicGroups", false), msg, sizeof msg), msg);
}

static int remove_thing_from_thing_group(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *group, *thing;
	*out = NULL;
	if (member_target(c, in, &group, &thing))
		return c->err;
	if (dd_db_begin_write(c->db))
		return dd__db_fail(c);
	char msg[600] = "";
	return finish(c, dd_registry_groups_remove_member(c->db, c->account_region, group, thing, msg, sizeof msg), msg);
}

static int update_thing_groups_for_thing(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *thing = dd__str(in, "thingName");
	bool override = dd__bool(in, "overrideDynamicGroups", false);
	*out = NULL;
	if (!thing)
		return dd_fail(c, DD_EINVAL, "InvalidRequestException", "thingName is required.");
	if (dd_db_begin_write(c->db))
		return dd__db_fail(c);
	char msg[600] = "";
	int rc = dd_store_things_exists(c->db, c->account_region, thing);
	if (rc <= 0) {
		if (!rc)
			snprintf(msg, sizeof msg, "Thing %s cannot be found.", thing);
		return finish(c, rc ? DD_EIO : DD_ENOTFOUND, msg);
	}
	rc = 0;
	size_t i;
	json_t *g;
	json_array_foreach(json_object_get(in, "thingGroupsToRemove"), i, g) {
		if ((rc = dd_registry_groups_remove_member(c->db, c->account_region, json_string_value(g), thing, msg, sizeof msg)))
			return finish(c, rc, msg);
	}
	json_array_foreach(json_object_get(in, "thingGroupsToAdd"), i, g) {
		if ((rc = dd_registry_groups_add_member(c->db, c->account_region, json_string_value(g), thing, override, msg,
							sizeof msg)))
			return finish(c, rc, msg);
	}
	return finish(c, 0, msg);
}

static int list_things_in_thing_group(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *group = dd__str(in, "thingGroupName");
	bool recursive = dd__bool(in, "recursive", false);
	char after[512];
	int size;
	if (dd__page(c, in, "nextToken", "maxResults", 50, 250, after, sizeof after, &size))
		return c->err;
	if (group_exists(c, group))
		return c->err;
	struct dd__page pg;
	dd__page_start(&pg, json_array(), size);
	int rc = dd_store_groups_member_list(c->db, c->account_region, group, recursive, after, size + 1,
					     dd__page_name_row, &pg);
	return dd__page_reply(c, &pg, rc, "things", "nextToken", out);
}

static int list_thing_groups_for_thing(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *thing = dd__str(in, "thingName");
	char after[512];
	int size;
	if (dd__page(c, in, "nextToken", "maxResults", 50, 250, after, sizeof after, &size))
		return c->err;
	if (!dd__thing_exists(c, thing))
		return dd_fail(c, DD_ENOTFOUND, "ResourceNotFoundException", "Thing %s cannot be found.", thing);
	struct list_groups l = { .c = c };
	dd__page_start(&l.pg, json_array(), size);
	int rc = dd_store_groups_member_list_groups(c->db, c->account_region, thing, after, size + 1, group_row, &l);
	return dd__page_reply(c, &l.pg, rc, "thingGroups", "nextToken", out);
}

const struct dd_handler dd_iot_groups_handlers[] = {
	{ "iot", "CreateThingGroup", create_thing_group },
	{ "iot", "CreateDynamicThingGroup", create_dynamic_thing_group },
	{ "iot", "DescribeThingGroup", describe_thing_group },
	{ "iot", "ListThingGroups", list_thing_groups },
	{ "iot", "UpdateThingGroup", update_thing_group },
	{ "iot", "UpdateDynamicThingGroup", update_dynamic_thing_group },
	{ "iot", "DeleteThingGroup", delete_thing_group },
	{ "iot", "DeleteDynamicThingGroup", delete_dynamic_thing_group },
	{ "iot", "AddThingToThingGroup", add_thing_to_thing_group },
	{ "iot", "RemoveThingFromThingGroup", remove_thing_from_thing_group },
	{ "iot", "UpdateThingGroupsForThing", update_thing_groups_for_thing },
	{ "iot", "ListThingsInThingGroup", list_things_in_thing_group },
	{ "iot", "ListThingGroupsForThing", list_thing_groups_for_thing },
	{ NULL, NULL, NULL },
};

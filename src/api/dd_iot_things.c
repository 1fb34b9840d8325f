/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The things API: CreateThing, DescribeThing, ListThings, UpdateThing and DeleteThing.
 * Each thing keeps a version that UpdateThing increments and expectedVersion checks; a
 * thing's type must exist and not be deprecated when it is given
 * (core/registry/dd_registry_types.h); a thing has at most 50 attributes; after a thing is
 * created or changed its dynamic group memberships are re-evaluated
 * (core/registry/dd_registry_groups.h). The SQL is in src/store/dd_store_things.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/dd_api_common.h"
#include "core/registry/dd_jobs.h"
#include "core/registry/dd_registry_groups.h"
#include "core/registry/dd_registry_types.h"
#include "store/dd_store_principals.h"
#include "store/dd_store_things.h"

#define DD_MAX_ATTRIBUTES 50

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

/* Can a thing be given type? 0, or fails c after rolling back the transaction. */
static int type_usable(struct dd_ctx *c, const char *type)
{
	char msg[512];
	int rc = dd_registry_types_usable(c->db, c->account_region, type, msg, sizeof msg);
	if (!rc)
		return 0;
	if (rc == DD_EIO)
		return dd__db_fail(c);
	dd_db_rollback(c->db);
	return dd_fail(c, rc, rc == DD_ENOTFOUND ? "ResourceNotFoundException" : "InvalidRequestException", "%s", msg);
}

static int create_thing(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *name = dd__str(in, "thingName");
	const char *type = dd__str(in, "thingTypeName");
	json_t *attrs = attrs_of(in);
	if (attrs && json_object_size(attrs) > DD_MAX_ATTRIBUTES)
		return dd_fail(c, DD_EINVAL, "InvalidRequestException", "A thing can have at most %d attributes.",
			       DD_MAX_ATTRIBUTES);
	char *attr_text = dump(attrs);
	if (!attr_text)
		return dd_fail(c, DD_ENOMEM, "InternalFailureException", "out of memory");
	char id[37];
	dd_random_uuid(id);
	if (dd_db_begin_write(c->db)) {
		free(attr_text);
		return dd__db_fail(c);
	}
	struct dd_store_things_row t;
	int rc = dd_store_things_get(c->db, c->account_region, name, &t);
	if (rc == 0) {
		/* idempotent when the configuration is the same */
		bool same = strcmp(t.attributes, attr_text) == 0 && strcmp(t.type, type ? type : "") == 0;
		snprintf(id, sizeof id, "%s", t.id);
		dd_store_things_row_clear(&t);
		dd_db_rollback(c->db);
		free(attr_text);
		if (!same) {
			char arn[700];
			dd__arn_buf(c, arn, sizeof arn, "thing/%s", name);
			return dd_fail_exists(c, id, arn, "Thing %s already exists in account with different attributes", name);
		}
		goto ok;
	}
	if (rc != DD_ENOTFOUND)
		goto dberr;
	if (type && type_usable(c, type)) {
		free(attr_text);
		return c->err;
	}
	if (dd_store_things_insert(c->db, c->account_region, name, id, type, attr_text, c->now_ms) ||
	    dd_registry_groups_refresh_thing(c->db, c->account_region, name) || dd_db_commit(c->db))
		goto dberr;
	free(attr_text);
ok:
	*out = json_pack("{s:s, s:o, s:s}", "thingName", name, "thingArn", dd__arn(c, "thing/%s", name), "thingId", id);
	return 0;
dberr:
	free(attr_text);
	return dd__db_fail(c);
}

static int describe_thing(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *name = dd__str(in, "thingName");
	struct dd_store_things_row t;
	int rc = dd_store_things_get(c->db, c->account_region, name, &t);
	if (rc == DD_ENOTFOUND)
		return dd_fail(c, DD_ENOTFOUND, "ResourceNotFoundException", "Thing %s cannot be found.", name);
	if (rc)
		return dd__db_fail(c);
	json_t *o = json_pack("{s:s, s:s, s:s, s:o, s:I}", "defaultClientId", name, "thingName", name, "thingId", t.id,
			      "thingArn", dd__arn(c, "thing/%s", name), "version", (json_int_t)t.version);
	if (t.type[0])
		json_object_set_new(o, "thingTypeName", json_string(t.type));
	if (t.billing_group[0])
		json_object_set_new(o, "billingGroupName", json_string(t.billing_group));
	json_t *attrs = json_loads(t.attributes, 0, NULL);
	json_object_set_new(o, "attributes", attrs ? attrs : json_object());
	dd_store_things_row_clear(&t);
	*out = o;
	return 0;
}

struct list_things {
	struct dd_ctx *c;
	struct dd__page pg;
};

static int thing_row(const struct dd_store_things_row *r, void *ud)
{
	struct list_things *l = ud;
	if (!dd__page_take(&l->pg, r->name))
		return 0;
	json_t *t = json_pack("{s:s, s:o, s:I}", "thingName", r->name, "thingArn", dd__arn(l->c, "thing/%s", r->name),
			      "version", (json_int_t)r->version);
	if (!t)
		return DD_ENOMEM;
	if (r->type[0])
		json_object_set_new(t, "thingTypeName", json_string(r->type));
	json_t *attrs = json_loads(r->attributes, 0, NULL);
	json_object_set_new(t, "attributes", attrs ? attrs : json_object());
	return json_array_append_new(l->pg.arr, t) ? DD_ENOMEM : 0;
}

static int list_things(struct dd_ctx *c, json_t *in, json_t **out)
{
	char after[512];
	int size;
	if (dd__page(c, in, "nextToken", "maxResults", 50, 250, after, sizeof after, &size))
		return c->err;
	struct dd_store_things_filter f = {
		.type = dd__str(in, "thingTypeName"),
		.attribute = dd__str(in, "attributeName"),
		.value = dd__str(in, "attributeValue"),
		.prefix = dd__bool(in, "usePrefixAttributeValue", false),
	};
	if (f.value && !f.attribute)
		return dd_fail(c, DD_EINVAL, "InvalidRequestException", "attributeValue requires attributeName.");
	struct list_things l = { .c = c };
	dd__page_start(&l.pg, json_array(), size);
	int rc = dd_store_things_list(c->db, c->account_region, &f, after, size + 1, thing_row, &l);
	return dd__page_reply(c, &l.pg, rc, "things", "nextToken", out);
}

/* attrs merged into (or, without merge, replacing) the object in text; an empty string
 * value removes the attribute. A new reference. */
static json_t *merged_attrs(const char *text, json_t *attrs, bool merge)
{
	json_t *cur = json_loads(text, 0, NULL);
	if (!cur)
		cur = json_object();
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
	return cur;
}

static int update_thing(struct dd_ctx *c, json_t *in, json_t **out)
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
	struct dd_store_things_row t;
	int rc = dd_store_things_get(c->db, c->account_region, name, &t);
	if (rc == DD_ENOTFOUND) {
		dd_db_rollback(c->db);
		return dd_fail(c, DD_ENOTFOUND, "ResourceNotFoundException", "Thing %s cannot be found.", name);
	}
	if (rc)
		return dd__db_fail(c);
	if (expected >= 0 && expected != t.version) {
		dd_store_things_row_clear(&t);
		dd_db_rollback(c->db);
		return dd_fail(c, DD_ECONFLICT, "VersionConflictException",
			       "The version for thing %s does not match the expected version.", name);
	}
	json_t *cur = merged_attrs(t.attributes, attrs, merge);
	if (json_object_size(cur) > DD_MAX_ATTRIBUTES) {
		dd_store_things_row_clear(&t);
		json_decref(cur);
		dd_db_rollback(c->db);
		return dd_fail(c, DD_EINVAL, "InvalidRequestException", "A thing can have at most %d attributes.",
			       DD_MAX_ATTRIBUTES);
	}
	if (type && strcmp(type, t.type) != 0 && type_usable(c, type)) {
		dd_store_things_row_clear(&t);
		json_decref(cur);
		return c->err;
	}
	const char *new_type = remove_type ? NULL : type ? type : t.type[0] ? t.type : NULL;
	char *text = dump(cur);
	rc = text ? dd_store_things_update(c->db, c->account_region, name, new_type, text) : DD_ENOMEM;
	free(text);
	dd_store_things_row_clear(&t);
	json_decref(cur);
	if (rc || dd_registry_groups_refresh_thing(c->db, c->account_region, name) || dd_db_commit(c->db))
		return dd__db_fail(c);
	*out = NULL;
	return 0;
}

static int delete_thing(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *name = dd__str(in, "thingName");
	int64_t expected = dd__int(in, "expectedVersion", -1);
	*out = NULL;
	if (dd_db_begin_write(c->db))
		return dd__db_fail(c);
	struct dd_store_things_row t;
	int rc = dd_store_things_get(c->db, c->account_region, name, &t);
	if (rc == DD_ENOTFOUND) {
		/* AWS answers success for a thing that does not exist */
		dd_db_rollback(c->db);
		return 0;
	}
	if (rc)
		return dd__db_fail(c);
	int64_t version = t.version;
	dd_store_things_row_clear(&t);
	if (expected >= 0 && expected != version) {
		dd_db_rollback(c->db);
		return dd_fail(c, DD_ECONFLICT, "VersionConflictException",
			       "The version for thing %s does not match the expected version.", name);
	}
	int64_t principals;
	if (dd_store_principals_thing_count(c->db, c->account_region, name, &principals))
		return dd__db_fail(c);
	if (principals > 0) {
		dd_db_rollback(c->db);
		return dd_fail(c, DD_ECONFLICT, "InvalidRequestException",
			       "Cannot delete thing %s: it has %d principal(s) attached. Detach them first.", name,
			       (int)principals);
	}
	if (dd_jobs_thing_deleted(c->db, c->account_region, name, c->now_ms) ||
	    dd_store_things_delete(c->db, c->account_region, name) || dd_db_commit(c->db))
		return dd__db_fail(c);
	return 0;
}

const struct dd_handler dd_iot_things_handlers[] = {
	{ "iot", "CreateThing", create_thing },
	{ "iot", "DescribeThing", describe_thing },
	{ "iot", "ListThings", list_things },
	{ "iot", "UpdateThing", update_thing },
	{ "iot", "DeleteThing", delete_thing },
	{ NULL, NULL, NULL },
};

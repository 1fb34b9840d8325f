/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The thing types API, with AWS's rules: a thing type keeps its description, up to three
 * searchable attributes (answered sorted, as AWS does) and its MQTT5 propagating
 * attributes; a deprecated type takes no new things, and a type is deleted only when no
 * thing has it and it was deprecated at least five minutes before, on the service clock,
 * which a --test-clock server lets tests move (core/registry/dd_registry_types.h). The
 * SQL is in src/store/dd_store_types.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/dd_api_common.h"
#include "core/registry/dd_registry_types.h"
#include "dd/service.h"
#include "store/dd_store_types.h"

#define DD_MAX_SEARCHABLE_ATTRS 3

static int64_t svc_now(struct dd_ctx *c) { return c->svc ? dd_service_now_ms(c->svc) : c->now_ms; }

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

static bool same_text(const char *a, const char *b) { return strcmp(a ? a : "", b ? b : "") == 0; }

static int create_thing_type(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *name = dd__str(in, "thingTypeName");
	json_t *props = json_object_get(in, "thingTypeProperties");
	const char *desc = dd__str(props, "thingTypeDescription");
	char *searchable = searchable_text(c, json_object_get(props, "searchableAttributes"));
	if (!searchable)
		return c->err;
	char *mqtt5 = mqtt5_text(props);
	char id[37], arn[700];
	dd_random_uuid(id);
	dd__arn_buf(c, arn, sizeof arn, "thingtype/%s", name);
	int rc = 0;
	if (dd_db_begin_write(c->db)) {
		rc = dd__db_fail(c);
		goto out;
	}
	struct dd_store_types_row t;
	rc = dd_store_types_get(c->db, c->account_region, name, &t);
	if (rc == 0) {
		/* the same properties again answer the existing type, as AWS does */
		bool same = same_text(t.description, desc) && strcmp(t.searchable, searchable) == 0 &&
			    same_text(t.mqtt5, mqtt5);
		snprintf(id, sizeof id, "%s", t.id);
		dd_store_types_row_clear(&t);
		dd_db_rollback(c->db);
		if (!same) {
			rc = dd_fail_exists(c, id, arn, "Thing type %s already exists with different properties.", name);
			goto out;
		}
		goto ok;
	}
	if (rc != DD_ENOTFOUND) {
		rc = dd__db_fail(c);
		goto out;
	}
	struct dd_store_types_row row = {
		.description = (char *)desc,
		.searchable = searchable,
		.mqtt5 = mqtt5,
		.created_ms = svc_now(c),
	};
	snprintf(row.name, sizeof row.name, "%s", name);
	snprintf(row.id, sizeof row.id, "%s", id);
	if (dd_store_types_insert(c->db, c->account_region, &row) || dd__tags_put(c, arn, json_object_get(in, "tags")) ||
	    dd_db_commit(c->db)) {
		rc = dd__db_fail(c);
		goto out;
	}
ok:
	rc = 0;
	*out = json_pack("{s:s, s:s, s:s}", "thingTypeName", name, "thingTypeArn", arn, "thingTypeId", id);
out:
	free(searchable);
	free(mqtt5);
	return rc;
}

static json_t *type_json(struct dd_ctx *c, const struct dd_store_types_row *t, bool with_id)
{
	json_t *props = json_object();
	if (t->description)
		json_object_set_new(props, "thingTypeDescription", json_string(t->description));
	json_t *sa = json_loads(t->searchable, 0, NULL);
	if (json_array_size(sa))
		json_object_set_new(props, "searchableAttributes", sa);
	else
		json_decref(sa);
	if (t->mqtt5) {
		json_t *m = json_loads(t->mqtt5, 0, NULL);
		if (m)
			json_object_set_new(props, "mqtt5Configuration", m);
	}
	json_t *meta = json_pack("{s:b, s:o}", "deprecated", t->deprecated, "creationDate", dd_json_time(t->created_ms));
	if (t->deprecated)
		json_object_set_new(meta, "deprecationDate", dd_json_time(t->deprecated_ms));
	json_t *o = json_pack("{s:s, s:o, s:o, s:o}", "thingTypeName", t->name, "thingTypeArn",
			      dd__arn(c, "thingtype/%s", t->name), "thingTypeProperties", props, "thingTypeMetadata", meta);
	if (with_id && o)
		json_object_set_new(o, "thingTypeId", json_string(t->id));
	return o;
}

static int describe_thing_type(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *name = dd__str(in, "thingTypeName");
	struct dd_store_types_row t;
	int rc = dd_store_types_get(c->db, c->account_region, name, &t);
	if (rc == DD_ENOTFOUND)
		return dd_fail(c, DD_ENOTFOUND, "ResourceNotFoundException", "Thing type %s does not exist.", name);
	if (rc)
		return dd__db_fail(c);
	*out = type_json(c, &t, true);
	dd_store_types_row_clear(&t);
	return 0;
}

struct list_types {
	struct dd_ctx *c;
	struct dd__page pg;
};

static int type_row(const struct dd_store_types_row *t, void *ud)
{
	struct list_types *l = ud;
	if (!dd__page_take(&l->pg, t->name))
		return 0;
	json_t *o = type_json(l->c, t, false);
	return !o || json_array_append_new(l->pg.arr, o) ? DD_ENOMEM : 0;
}

static int list_thing_types(struct dd_ctx *c, json_t *in, json_t **out)
{
	char after[512];
	int size;
	if (dd__page(c, in, "nextToken", "maxResults", 50, 250, after, sizeof after, &size))
		return c->err;
	struct list_types l = { .c = c };
	dd__page_start(&l.pg, json_array(), size);
	int rc = dd_store_types_list(c->db, c->account_region, dd__str(in, "thingTypeName"), after, size + 1, type_row, &l);
	return dd__page_reply(c, &l.pg, rc, "thingTypes", "nextToken", out);
}

static int update_thing_type(struct dd_ctx *c, json_t *in, json_t **out)
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
	rc = dd_store_types_update(c->db, c->account_region, name, json_object_get(props, "thingTypeDescription") != NULL,
				   dd__str(props, "thingTypeDescription"), searchable, mqtt5);
	if (rc == DD_ENOTFOUND) {
		dd_db_rollback(c->db);
		rc = dd_fail(c, DD_ENOTFOUND, "ResourceNotFoundException", "Thing type %s does not exist.", name);
		goto out;
	}
	if (rc || dd_db_commit(c->db))
		rc = dd__db_fail(c);
out:
	free(searchable);
	free(mqtt5);
	return rc;
}

static int deprecate_thing_type(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *name = dd__str(in, "thingTypeName");
	bool undo = dd__bool(in, "undoDeprecate", false);
	*out = NULL;
	if (dd_db_begin_write(c->db))
		return dd__db_fail(c);
	/* deprecating again keeps the first deprecation date (the deletion delay runs from it) */
	int rc = dd_store_types_deprecate(c->db, c->account_region, name, undo, svc_now(c));
	if (rc == DD_ENOTFOUND) {
		dd_db_rollback(c->db);
		return dd_fail(c, DD_ENOTFOUND, "ResourceNotFoundException", "Thing type %s does not exist.", name);
	}
	if (rc || dd_db_commit(c->db))
		return dd__db_fail(c);
	return 0;
}

static int delete_thing_type(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *name = dd__str(in, "thingTypeName");
	*out = NULL;
	char arn[700], msg[600] = "";
	dd__arn_buf(c, arn, sizeof arn, "thingtype/%s", name);
	if (dd_db_begin_write(c->db))
		return dd__db_fail(c);
	int rc = dd_registry_types_delete(c->db, c->account_region, name, arn, svc_now(c), msg, sizeof msg);
	if (rc == DD_EIO || (!rc && dd_db_commit(c->db)))
		return dd__db_fail(c);
	if (rc) {
		dd_db_rollback(c->db);
		return dd_fail(c, rc, rc == DD_ENOTFOUND ? "ResourceNotFoundException" : "InvalidRequestException", "%s", msg);
	}
	return 0;
}

const struct dd_handler dd_iot_types_handlers[] = {
	{ "iot", "CreateThingType", create_thing_type },
	{ "iot", "DescribeThingType", describe_thing_type },
	{ "iot", "ListThingTypes", list_thing_types },
	{ "iot", "UpdateThingType", update_thing_type },
	{ "iot", "DeprecateThingType", deprecate_thing_type },
	{ "iot", "DeleteThingType", delete_thing_type },
	{ NULL, NULL, NULL },
};

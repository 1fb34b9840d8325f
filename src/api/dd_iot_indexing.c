/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The fleet indexing API: Update/GetIndexingConfiguration, ListIndices, DescribeIndex,
 * SearchIndex and the aggregations (GetStatistics, GetCardinality, GetPercentiles,
 * GetBucketsAggregation). The rules, the query language and the evaluation are in
 * core/registry/dd_index.h; here the wire: documents in the model's shapes, paging
 * tokens, and AWS's error codes (an index that is OFF does not exist:
 * ResourceNotFoundException, as AWS answers; a bad query: InvalidQueryException; a field
 * that cannot be aggregated: InvalidAggregationException).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/dd_api_common.h"
#include "core/registry/dd_index.h"

/* AWS: "This maximum number cannot exceed 100." */
#define SEARCH_MAX_RESULTS 100

static int index_fail(struct dd_ctx *c, int rc, const char *msg)
{
	switch (rc) {
	case DD_ENOTFOUND:
		return dd_fail(c, rc, "ResourceNotFoundException", "%s", msg);
	case DD_EINVAL:
		return dd_fail(c, rc, "InvalidQueryException", "%s", msg);
	case DD_ECONFLICT:
		return dd_fail(c, DD_EINVAL, "InvalidAggregationException", "%s", msg);
	case DD_ENOMEM:
		return dd_fail(c, rc, "InternalFailureException", "out of memory");
	default:
		return dd__db_fail(c);
	}
}

/* ---- configuration ---- */

static int update_indexing_configuration(struct dd_ctx *c, json_t *in, json_t **out)
{
	json_t *t = json_object_get(in, "thingIndexingConfiguration");
	json_t *g = json_object_get(in, "thingGroupIndexingConfiguration");
	char msg[512] = "";
	if (dd_db_begin_write(c->db))
		return dd__db_fail(c);
	int rc = dd_index_config_put(c->db, c->account_region, json_is_object(t) ? t : NULL, json_is_object(g) ? g : NULL,
				     msg, sizeof msg);
	if (rc == DD_EINVAL) {
		dd_db_rollback(c->db);
		return dd_fail(c, rc, "InvalidRequestException", "%s", msg);
	}
	if (rc || dd_db_commit(c->db))
		return dd__db_fail(c);
	return 0;
}

/* The managed fields of the enabled modes, as GetIndexingConfiguration lists them. */
static json_t *managed(bool groups, const char *thing_mode, const char *conn_mode)
{
	json_t *a = json_array();
	for (const struct dd_index_managed *m = dd_index_managed_fields; m->name; m++) {
		bool on = groups ? m->needs == DD_INDEX_NEEDS_GROUPS
				 : m->needs == DD_INDEX_NEEDS_REGISTRY ||
					   (m->needs == DD_INDEX_NEEDS_SHADOW && !strcmp(thing_mode, "REGISTRY_AND_SHADOW")) ||
					   (m->needs == DD_INDEX_NEEDS_CONNECTIVITY && !strcmp(conn_mode, "STATUS"));
		if (on)
			json_array_append_new(a, json_pack("{s:s, s:s}", "name", m->name, "type", dd_index_type_name(m->type)));
	}
	return a;
}

static int get_indexing_configuration(struct dd_ctx *c, json_t *in, json_t **out)
{
	char *text;
	if (dd_index_config_get(c->db, c->account_region, &text))
		return dd__db_fail(c);
	json_t *cfg = text ? json_loads(text, 0, NULL) : NULL;
	free(text);
	if (!cfg)
		cfg = json_object();
	json_t *t = json_object_get(cfg, "thingIndexingConfiguration");
	json_t *g = json_object_get(cfg, "thingGroupIndexingConfiguration");
	t = t ? json_incref(t) : json_pack("{s:s, s:s}", "thingIndexingMode", "OFF", "thingConnectivityIndexingMode", "OFF");
	g = g ? json_incref(g) : json_pack("{s:s}", "thingGroupIndexingMode", "OFF");
	json_decref(cfg);
	const char *tm = dd__str(t, "thingIndexingMode");
	if (tm && strcmp(tm, "OFF"))
		json_object_set_new(t, "managedFields", managed(false, tm, dd__str(t, "thingConnectivityIndexingMode")));
	const char *gm = dd__str(g, "thingGroupIndexingMode");
	if (gm && !strcmp(gm, "ON"))
		json_object_set_new(g, "managedFields", managed(true, "", ""));
	*out = json_pack("{s:o, s:o}", "thingIndexingConfiguration", t, "thingGroupIndexingConfiguration", g);
	return 0;
}

static int list_indices(struct dd_ctx *c, json_t *in, json_t **out)
{
	char after[256];
	int size;
	if (dd__page(c, in, "nextToken", "maxResults", 500, 500, after, sizeof after, &size))
		return c->err;
	struct dd__page pg;
	dd__page_start(&pg, json_array(), size);
	static const char *const names[] = { DD_INDEX_THINGS, DD_INDEX_GROUPS, NULL };
	int rc = 0;
	for (int i = 0; names[i] && !rc; i++) {
		char schema[64];
		if (strcmp(names[i], after) <= 0)
			continue;
		int s = dd_index_schema(c->db, c->account_region, names[i], schema, sizeof schema);
		if (s == DD_ENOTFOUND)
			continue;
		rc = s ? s : dd__page_name_row(names[i], &pg);
	}
	return dd__page_reply(c, &pg, rc, "indexNames", "nextToken", out);
}

static int describe_index(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *name = dd__str(in, "indexName");
	char schema[64];
	int rc = dd_index_schema(c->db, c->account_region, name, schema, sizeof schema);
	if (rc == DD_ENOTFOUND)
		return dd_fail(c, rc, "ResourceNotFoundException", "Index %s does not exist.", name);
	if (rc)
		return dd__db_fail(c);
	*out = json_pack("{s:s, s:s, s:s}", "indexName", name, "indexStatus", "ACTIVE", "schema", schema);
	return 0;
}

/* ---- search ---- */

static const char *index_of(json_t *in)
{
	const char *s = dd__str(in, "indexName");
	return s ? s : DD_INDEX_THINGS;
}

static json_t *string_list(const char *const *v, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

/* The attributes' JSON object text, or NULL when empty or unreadable. */
static json_t *attributes(const char *text)
{
	json_t *a = json_loads(text, 0, NULL);
	if (json_is_object(a) && json_object_size(a))
		return a;
	json_decref(a);
	return NULL;
}

static int thing_doc(const struct dd_index_thing_doc *d, void *ud)
{
	struct dd__page *pg = ud;
	if (!dd__page_take(pg, d->name))
		return 1;
	json_t *o = json_pack("{s:s, s:s}", "thingName", d->name, "thingId", d->id);
	if (!o)
		return DD_ENOMEM;
	if (d->type)
		json_object_set_new(o, "thingTypeName", json_string(d->type));
	if (d->ngroups)
		json_object_set_new(o, "thingGroupNames", string_list(d->groups, d->ngroups));
	json_t *a = attributes(d->attributes);
	if (a)
		json_object_set_new(o, "attributes", a);
	if (d->connectivity) {
		json_t *conn = json_pack("{s:b}", "connected", d->connected);
		if (d->conn_ms)
			json_object_set_new(conn, "timestamp", json_integer(d->conn_ms));
		if (d->disconnect_reason)
			json_object_set_new(conn, "disconnectReason", json_string(d->disconnect_reason));
		json_object_set_new(o, "connectivity", conn);
	}
	return json_array_append_new(pg->arr, o) ? DD_ENOMEM : 0;
}

static int group_doc(const struct dd_index_group_doc *d, void *ud)
{
	struct dd__page *pg = ud;
	if (!dd__page_take(pg, d->name))
		return 1;
	json_t *o = json_pack("{s:s, s:s}", "thingGroupName", d->name, "thingGroupId", d->id);
	if (!o)
		return DD_ENOMEM;
	if (d->description)
		json_object_set_new(o, "thingGroupDescription", json_string(d->description));
	json_t *a = attributes(d->attributes);
	if (a)
		json_object_set_new(o, "attributes", a);
	if (d->nparents)
		json_object_set_new(o, "parentGroupNames", string_list(d->parents, d->nparents));
	return json_array_append_new(pg->arr, o) ? DD_ENOMEM : 0;
}

static int search_index(struct dd_ctx *c, json_t *in, json_t **out)
{
	char after[512];
	int size;
	if (dd__page(c, in, "nextToken", "maxResults", SEARCH_MAX_RESULTS, SEARCH_MAX_RESULTS, after, sizeof after, &size))
		return c->err;
	const char *index = index_of(in);
	bool groups = !strcmp(index, DD_INDEX_GROUPS);
	struct dd__page pg;
	dd__page_start(&pg, json_array(), size);
	char msg[512] = "";
	int rc = dd_index_search(c->db, c->account_region, index, dd__str(in, "queryString"), after, thing_doc, group_doc,
				 &pg, msg, sizeof msg);
	if (rc) {
		json_decref(pg.arr);
		return index_fail(c, rc, msg);
	}
	json_t *o = json_object();
	json_object_set_new(o, groups ? "thingGroups" : "things", pg.arr);
	dd__page_next(o, "nextToken", pg.more, pg.last);
	*out = o;
	return 0;
}

/* ---- aggregations ---- */

/* Collects the values of the request's aggregationField (required unless optional) over
 * its query. 0, or fails c. */
static int collect(struct dd_ctx *c, json_t *in, bool optional, struct dd_index_values *vals)
{
	const char *field = dd__str(in, "aggregationField");
	if (!field && !optional)
		return dd_fail(c, DD_EINVAL, "InvalidAggregationException", "aggregationField is required.");
	char msg[512] = "";
	int rc = dd_index_collect(c->db, c->account_region, index_of(in), dd__str(in, "queryString"), field, vals, msg,
				  sizeof msg);
	if (rc) {
		dd_index_values_clear(vals);
		return index_fail(c, rc, msg);
	}
	return 0;
}

static int get_statistics(struct dd_ctx *c, json_t *in, json_t **out)
{
	struct dd_index_values vals;
	if (collect(c, in, true, &vals))
		return c->err;
	struct dd_index_stats s;
	dd_index_statistics(&vals, dd__str(in, "aggregationField") == NULL, &s);
	dd_index_values_clear(&vals);
	json_t *st = json_pack("{s:I}", "count", (json_int_t)s.count);
	if (s.numeric) {
		json_object_set_new(st, "average", json_real(s.average));
		json_object_set_new(st, "sum", json_real(s.sum));
		json_object_set_new(st, "minimum", json_real(s.minimum));
		json_object_set_new(st, "maximum", json_real(s.maximum));
		json_object_set_new(st, "sumOfSquares", json_real(s.sum_of_squares));
		json_object_set_new(st, "variance", json_real(s.variance));
		json_object_set_new(st, "stdDeviation", json_real(s.std_deviation));
	}
	*out = json_pack("{s:o}", "statistics", st);
	return 0;
}

static int get_cardinality(struct dd_ctx *c, json_t *in, json_t **out)
{
	struct dd_index_values vals;
	if (collect(c, in, false, &vals))
		return c->err;
	int64_t n = dd_index_cardinality(&vals);
	dd_index_values_clear(&vals);
	*out = json_pack("{s:I}", "cardinality", (json_int_t)n);
	return 0;
}

static int get_percentiles(struct dd_ctx *c, json_t *in, json_t **out)
{
	static const double dflt[] = { 1, 5, 25, 50, 75, 95, 99 };
	json_t *percents = json_object_get(in, "percents");
	size_t np = json_is_array(percents) ? json_array_size(percents) : sizeof dflt / sizeof dflt[0];
	if (np > 100)
		return dd_fail(c, DD_EINVAL, "InvalidRequestException", "percents has more than 100 values.");
	struct dd_index_values vals;
	if (collect(c, in, false, &vals))
		return c->err;
	if (vals.type != DD_INDEX_NUMBER) {
		enum dd_index_type t = vals.type;
		dd_index_values_clear(&vals);
		return dd_fail(c, DD_EINVAL, "InvalidAggregationException",
			       "aggregationField %s is a %s field; percentiles need a Number field (a custom field of type "
			       "Number).", dd__str(in, "aggregationField"), dd_index_type_name(t));
	}
	json_t *list = json_array();
	for (size_t i = 0; i < np; i++) {
		double p = json_is_array(percents) ? json_number_value(json_array_get(percents, i)) : dflt[i];
		double v;
		if (!dd_index_percentile(&vals, p, &v))
			break;
		json_array_append_new(list, json_pack("{s:f, s:f}", "percent", p, "value", v));
	}
	dd_index_values_clear(&vals);
	*out = json_pack("{s:o}", "percentiles", list);
	return 0;
}

static int bucket_row(const char *key, int64_t count, void *ud)
{
	return json_array_append_new(ud, json_pack("{s:s, s:I}", "keyValue", key, "count", (json_int_t)count)) ? DD_ENOMEM : 0;
}

static int get_buckets_aggregation(struct dd_ctx *c, json_t *in, json_t **out)
{
	json_t *terms = json_object_get(json_object_get(in, "bucketsAggregationType"), "termsAggregation");
	if (!json_is_object(terms))
		return dd_fail(c, DD_EINVAL, "InvalidAggregationException", "bucketsAggregationType.termsAggregation is required.");
	int max = (int)dd__int(terms, "maxBuckets", 10);
	struct dd_index_values vals;
	if (collect(c, in, false, &vals))
		return c->err;
	json_t *buckets = json_array();
	int rc = dd_index_buckets(&vals, max, bucket_row, buckets);
	int64_t total = vals.matched;
	dd_index_values_clear(&vals);
	if (rc) {
		json_decref(buckets);
		return dd_fail(c, DD_ENOMEM, "InternalFailureException", "out of memory");
	}
	*out = json_pack("{s:I, s:o}", "totalCount", (json_int_t)total, "buckets", buckets);
	return 0;
}

const struct dd_handler dd_iot_indexing_handlers[] = {
	{ "iot", "UpdateIndexingConfiguration", update_indexing_configuration },
	{ "iot", "GetIndexingConfiguration", get_indexing_configuration },
	{ "iot", "ListIndices", list_indices },
	{ "iot", "DescribeIndex", describe_index },
	{ "iot", "SearchIndex", search_index },
	{ "iot", "GetStatistics", get_statistics },
	{ "iot", "GetCardinality", get_cardinality },
	{ "iot", "GetPercentiles", get_percentiles },
	{ "iot", "GetBucketsAggregation", get_buckets_aggregation },
	{ NULL, NULL, NULL },
};

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fleet indexing (dd_index.h) evaluated in C over a scan of the store: the query is
 * parsed once against the configuration's fields, then each thing (or group) of the
 * account and region becomes a document whose field values the evaluator asks for. The
 * memberships of the whole account are read once and found by binary search; a thing's
 * connectivity is its client id's (the thing name's) last connection event. The
 * configuration is JSON text in the settings (store/dd_store_index.h).
 */
#include "core/registry/dd_index.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dd/store.h"
#include "store/dd_store_groups.h"
#include "store/dd_store_index.h"
#include "store/dd_store_settings.h"
#include "store/dd_store_things.h"

/* more than the 10 groups a thing can be in */
#define MAX_THING_GROUPS 16

const struct dd_index_managed dd_index_managed_fields[] = {
	{ "thingName", DD_INDEX_STRING, DD_INDEX_NEEDS_REGISTRY },
	{ "thingId", DD_INDEX_STRING, DD_INDEX_NEEDS_REGISTRY },
	{ "thingTypeName", DD_INDEX_STRING, DD_INDEX_NEEDS_REGISTRY },
	{ "thingGroupNames", DD_INDEX_STRING, DD_INDEX_NEEDS_REGISTRY },
	{ "registry.version", DD_INDEX_NUMBER, DD_INDEX_NEEDS_REGISTRY },
	{ "shadow.version", DD_INDEX_NUMBER, DD_INDEX_NEEDS_SHADOW },
	{ "shadow.hasDelta", DD_INDEX_BOOLEAN, DD_INDEX_NEEDS_SHADOW },
	{ "connectivity.connected", DD_INDEX_BOOLEAN, DD_INDEX_NEEDS_CONNECTIVITY },
	{ "connectivity.timestamp", DD_INDEX_NUMBER, DD_INDEX_NEEDS_CONNECTIVITY },
	{ "connectivity.disconnectReason", DD_INDEX_STRING, DD_INDEX_NEEDS_CONNECTIVITY },
	{ "thingGroupName", DD_INDEX_STRING, DD_INDEX_NEEDS_GROUPS },
	{ "thingGroupId", DD_INDEX_STRING, DD_INDEX_NEEDS_GROUPS },
	{ "thingGroupDescription", DD_INDEX_STRING, DD_INDEX_NEEDS_GROUPS },
	{ "parentGroupNames", DD_INDEX_STRING, DD_INDEX_NEEDS_GROUPS },
	{ NULL, 0, 0 },
};

const char *dd_index_type_name(enum dd_index_type t)
{
	return t == DD_INDEX_NUMBER ? "Number" : t == DD_INDEX_BOOLEAN ? "Boolean" : "String";
}

static bool type_from_name(const char *s, enum dd_index_type *t)
{
	if (!s)
		return false;
	if (!strcmp(s, "Number"))
		*t = DD_INDEX_NUMBER;
	else if (!strcmp(s, "String"))
		*t = DD_INDEX_STRING;
	else if (!strcmp(s, "Boolean"))
		*t = DD_INDEX_BOOLEAN;
	else
		return false;
	return true;
}

/* ---- configuration ---- */

struct cfg {
	json_t *root;
	int thing_mode; /* 0 OFF, 1 REGISTRY, 2 REGISTRY_AND_SHADOW */
	bool connectivity, groups;
	json_t *thing_custom, *group_custom;
	bool for_groups; /* which index the resolver answers for */
};

int dd_index_config_get(struct dd_db *db, const char *account_region, char **text)
{
	*text = NULL;
	int rc = dd_store_settings_get(db, account_region, DD_STORE_INDEX_CONFIG_KEY, text);
	return rc == DD_ENOTFOUND ? 0 : rc ? DD_EIO : 0;
}

static const char *mode_of(json_t *part, const char *key)
{
	const char *s = json_string_value(json_object_get(part, key));
	return s ? s : "OFF";
}

static int cfg_load(struct dd_db *db, const char *account_region, struct cfg *c)
{
	memset(c, 0, sizeof *c);
	char *text;
	if (dd_index_config_get(db, account_region, &text))
		return DD_EIO;
	c->root = text ? json_loads(text, 0, NULL) : json_object();
	free(text);
	if (!c->root)
		c->root = json_object();
	json_t *t = json_object_get(c->root, "thingIndexingConfiguration");
	json_t *g = json_object_get(c->root, "thingGroupIndexingConfiguration");
	const char *m = mode_of(t, "thingIndexingMode");
	c->thing_mode = !strcmp(m, "REGISTRY") ? 1 : !strcmp(m, "REGISTRY_AND_SHADOW") ? 2 : 0;
	c->connectivity = c->thing_mode && !strcmp(mode_of(t, "thingConnectivityIndexingMode"), "STATUS");
	c->groups = !strcmp(mode_of(g, "thingGroupIndexingMode"), "ON");
	c->thing_custom = json_object_get(t, "customFields");
	c->group_custom = json_object_get(g, "customFields");
	return c->root ? 0 : DD_ENOMEM;
}

static bool field_name_ok(const char *s)
{
	size_t n = strlen(s);
	if (!n || n > 256)
		return false;
	for (const char *p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || strchr("._-@/#,$", *p)))
			return false;
	return true;
}

static int check_custom(json_t *list, bool groups, const char *member, char *msg, size_t msglen)
{
	if (!list)
		return 0;
	if (json_array_size(list) > DD_INDEX_MAX_CUSTOM_FIELDS) {
		snprintf(msg, msglen, "%s.customFields has more than %d fields.", member, DD_INDEX_MAX_CUSTOM_FIELDS);
		return DD_EINVAL;
	}
	size_t i;
	json_t *f;
	json_array_foreach(list, i, f) {
		const char *name = json_string_value(json_object_get(f, "name"));
		enum dd_index_type t;
		if (!name || !field_name_ok(name)) {
			snprintf(msg, msglen, "%s.customFields[%zu].name is missing or not a valid field name.", member, i);
			return DD_EINVAL;
		}
		if (!type_from_name(json_string_value(json_object_get(f, "type")), &t)) {
			snprintf(msg, msglen, "%s.customFields[%zu].type (field %s) must be Number, String or Boolean.", member,
				 i, name);
			return DD_EINVAL;
		}
		for (const struct dd_index_managed *m = dd_index_managed_fields; m->name; m++)
			if ((m->needs == DD_INDEX_NEEDS_GROUPS) == groups && !strcmp(m->name, name)) {
				snprintf(msg, msglen, "%s.customFields: %s is a managed field.", member, name);
				return DD_EINVAL;
			}
		for (size_t j = 0; j < i; j++)
			if (!strcmp(json_string_value(json_object_get(json_array_get(list, j), "name")), name)) {
				snprintf(msg, msglen, "%s.customFields: field %s is given twice.", member, name);
				return DD_EINVAL;
			}
	}
	return 0;
}

static int check_thing_cfg(json_t *t, char *msg, size_t msglen)
{
	static const char member[] = "thingIndexingConfiguration";
	bool off = !strcmp(mode_of(t, "thingIndexingMode"), "OFF");
	bool shadow = !strcmp(mode_of(t, "thingIndexingMode"), "REGISTRY_AND_SHADOW");
	if (off && strcmp(mode_of(t, "thingConnectivityIndexingMode"), "OFF")) {
		snprintf(msg, msglen, "thingConnectivityIndexingMode cannot be STATUS when thingIndexingMode is OFF.");
		return DD_EINVAL;
	}
	if (off && strcmp(mode_of(t, "deviceDefenderIndexingMode"), "OFF")) {
		snprintf(msg, msglen, "deviceDefenderIndexingMode cannot be VIOLATIONS when thingIndexingMode is OFF.");
		return DD_EINVAL;
	}
	bool named = !strcmp(mode_of(t, "namedShadowIndexingMode"), "ON");
	if (named && !shadow) {
		snprintf(msg, msglen, "namedShadowIndexingMode can be ON only when thingIndexingMode is REGISTRY_AND_SHADOW.");
		return DD_EINVAL;
	}
	json_t *names = json_object_get(json_object_get(t, "filter"), "namedShadowNames");
	if (json_array_size(names) && !named) {
		snprintf(msg, msglen, "filter.namedShadowNames needs namedShadowIndexingMode ON.");
		return DD_EINVAL;
	}
	if (json_array_size(names) > 10) {
		snprintf(msg, msglen, "filter.namedShadowNames has more than 10 names.");
		return DD_EINVAL;
	}
	if (off && json_array_size(json_object_get(t, "customFields"))) {
		snprintf(msg, msglen, "customFields cannot be set when thingIndexingMode is OFF.");
		return DD_EINVAL;
	}
	return check_custom(json_object_get(t, "customFields"), false, member, msg, msglen);
}

/* The part as stored: a copy without managedFields, with the default modes filled in. */
static json_t *stored_part(json_t *part, const char *const *defaults)
{
	json_t *p = json_deep_copy(part);
	if (!p)
		return NULL;
	json_object_del(p, "managedFields");
	for (int i = 0; defaults[i]; i += 2)
		if (!json_object_get(p, defaults[i]))
			json_object_set_new(p, defaults[i], json_string(defaults[i + 1]));
	return p;
}

int dd_index_config_put(struct dd_db *db, const char *account_region, json_t *thing_cfg, json_t *group_cfg, char *msg,
			size_t msglen)
{
	if (thing_cfg && check_thing_cfg(thing_cfg, msg, msglen))
		return DD_EINVAL;
	if (group_cfg) {
		if (!strcmp(mode_of(group_cfg, "thingGroupIndexingMode"), "OFF") &&
		    json_array_size(json_object_get(group_cfg, "customFields"))) {
			snprintf(msg, msglen, "customFields cannot be set when thingGroupIndexingMode is OFF.");
			return DD_EINVAL;
		}
		if (check_custom(json_object_get(group_cfg, "customFields"), true, "thingGroupIndexingConfiguration", msg,
				 msglen))
			return DD_EINVAL;
	}
	struct cfg c;
	if (cfg_load(db, account_region, &c))
		return DD_EIO;
	static const char *const thing_defaults[] = { "thingConnectivityIndexingMode", "OFF", NULL };
	static const char *const group_defaults[] = { NULL };
	if (thing_cfg)
		json_object_set_new(c.root, "thingIndexingConfiguration", stored_part(thing_cfg, thing_defaults));
	if (group_cfg)
		json_object_set_new(c.root, "thingGroupIndexingConfiguration", stored_part(group_cfg, group_defaults));
	char *text = json_dumps(c.root, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(c.root);
	if (!text)
		return DD_ENOMEM;
	int rc = dd_store_settings_put(db, account_region, DD_STORE_INDEX_CONFIG_KEY, text);
	free(text);
	return rc ? DD_EIO : 0;
}

/* ---- field resolution ---- */

static bool custom_type(json_t *list, const char *field, enum dd_index_type *t)
{
	size_t i;
	json_t *f;
	json_array_foreach(list, i, f) {
		const char *name = json_string_value(json_object_get(f, "name"));
		if (name && !strcmp(name, field))
			return type_from_name(json_string_value(json_object_get(f, "type")), t);
	}
	return false;
}

static int resolve(const char *field, enum dd_index_type *type, char *err, size_t errlen, void *ud)
{
	const struct cfg *c = ud;
	if (custom_type(c->for_groups ? c->group_custom : c->thing_custom, field, type))
		return 0;
	for (const struct dd_index_managed *m = dd_index_managed_fields; m->name; m++) {
		if ((m->needs == DD_INDEX_NEEDS_GROUPS) != c->for_groups || strcmp(m->name, field))
			continue;
		*type = m->type;
		if (m->needs == DD_INDEX_NEEDS_CONNECTIVITY && !c->connectivity) {
			snprintf(err, errlen, "field %s is not indexed: thingConnectivityIndexingMode is OFF", field);
			return DD_EINVAL;
		}
		if (m->needs == DD_INDEX_NEEDS_SHADOW)
			break;
		return 0;
	}
	if (!strncmp(field, "attributes.", 11) && field[11]) {
		*type = DD_INDEX_STRING;
		return 0;
	}
	if (!c->for_groups && (!strncmp(field, "shadow.", 7) || !strncmp(field, "deviceDefender.", 15))) {
		snprintf(err, errlen, "field %s is not indexed: this server keeps no device shadows or violations", field);
		return DD_EINVAL;
	}
	snprintf(err, errlen, "field %s is not a field of index %s", field, c->for_groups ? DD_INDEX_GROUPS : DD_INDEX_THINGS);
	return DD_EINVAL;
}

/* ---- documents ---- */

struct member {
	char *thing, *group;
};

struct members {
	struct member *m;
	size_t n, cap;
};

static int member_row(const char *thing, const char *group, void *ud)
{
	struct members *ms = ud;
	if (ms->n == ms->cap) {
		size_t cap = ms->cap ? ms->cap * 2 : 256;
		void *nm = realloc(ms->m, cap * sizeof *ms->m);
		if (!nm)
			return DD_ENOMEM;
		ms->m = nm;
		ms->cap = cap;
	}
	ms->m[ms->n].thing = strdup(thing);
	ms->m[ms->n].group = strdup(group);
	if (!ms->m[ms->n].thing || !ms->m[ms->n].group) {
		free(ms->m[ms->n].thing);
		free(ms->m[ms->n].group);
		return DD_ENOMEM;
	}
	ms->n++;
	return 0;
}

static int member_cmp(const void *a, const void *b)
{
	const struct member *x = a, *y = b;
	int c = strcmp(x->thing, y->thing);
	return c ? c : strcmp(x->group, y->group);
}

static void members_free(struct members *ms)
{
	for (size_t i = 0; i < ms->n; i++) {
		free(ms->m[i].thing);
		free(ms->m[i].group);
	}
	free(ms->m);
}

/* A thing as the evaluator sees it. Its attributes and connectivity are read on first
 * use: most queries never ask for them of things they do not match. */
struct tdoc {
	const struct dd_store_things_row *t;
	struct scan *s;
	json_t *attrs;
	bool attrs_read;
	const char *groups[MAX_THING_GROUPS];
	size_t ng;
	char version[24];
	bool conn_on, conn_read, connected;
	int64_t conn_ms;
	char ts[24];
	const char *reason;
	struct dd_store_index_conn conn;
	int err;
};

static json_t *tdoc_attrs(struct tdoc *d)
{
	if (!d->attrs_read) {
		d->attrs_read = true;
		d->attrs = json_loads(d->t->attributes ? d->t->attributes : "{}", 0, NULL);
	}
	return d->attrs;
}

static void tdoc_conn(struct tdoc *d);

static size_t attr_value(json_t *attrs, const char *name, const char **out, size_t max)
{
	const char *v = json_string_value(json_object_get(attrs, name));
	if (!v || !max)
		return 0;
	out[0] = v;
	return 1;
}

static size_t thing_values(const char *field, const char **out, size_t max, void *ud)
{
	struct tdoc *d = ud;
	const char *v = NULL;
	if (d->conn_on && !strncmp(field, "connectivity.", 13))
		tdoc_conn(d);
	if (!strcmp(field, "thingName"))
		v = d->t->name;
	else if (!strcmp(field, "thingId"))
		v = d->t->id;
	else if (!strcmp(field, "thingTypeName"))
		v = d->t->type[0] ? d->t->type : NULL;
	else if (!strcmp(field, "registry.version"))
		v = d->version;
	else if (!strcmp(field, "thingGroupNames")) {
		size_t n = d->ng < max ? d->ng : max;
		for (size_t i = 0; i < n; i++)
			out[i] = d->groups[i];
		return n;
	} else if (d->conn_on && !strcmp(field, "connectivity.connected"))
		v = d->connected ? "true" : "false";
	else if (d->conn_on && !strcmp(field, "connectivity.timestamp"))
		v = d->conn_ms ? d->ts : NULL;
	else if (d->conn_on && !strcmp(field, "connectivity.disconnectReason"))
		v = d->reason;
	else if (!strncmp(field, "attributes.", 11))
		return attr_value(tdoc_attrs(d), field + 11, out, max);
	if (!v || !max)
		return 0;
	out[0] = v;
	return 1;
}

struct gdoc {
	const struct dd_store_groups_row *g;
	json_t *attrs;
	const char *parents[64];
	size_t np;
};

static size_t group_values(const char *field, const char **out, size_t max, void *ud)
{
	struct gdoc *d = ud;
	const char *v = NULL;
	if (!strcmp(field, "thingGroupName"))
		v = d->g->name;
	else if (!strcmp(field, "thingGroupId"))
		v = d->g->id;
	else if (!strcmp(field, "thingGroupDescription"))
		v = d->g->description;
	else if (!strcmp(field, "parentGroupNames")) {
		size_t n = d->np < max ? d->np : max;
		for (size_t i = 0; i < n; i++)
			out[i] = d->parents[i];
		return n;
	} else if (!strncmp(field, "attributes.", 11))
		return attr_value(d->attrs, field + 11, out, max);
	if (!v || !max)
		return 0;
	out[0] = v;
	return 1;
}

/* ---- the scan ---- */

struct scan {
	struct dd_db *db;
	const char *account_region;
	struct cfg cfg;
	struct dd_index_query *q;
	struct members ms;
	/* what to do with a match: the public callbacks, or the collector */
	dd_index_thing_fn thing_fn;
	dd_index_group_fn group_fn;
	void *ud;
	const char *field;
	struct dd_index_values *vals;
};

static int push_value(struct dd_index_values *vals, const char *v)
{
	if (vals->n == vals->cap) {
		size_t cap = vals->cap ? vals->cap * 2 : 256;
		char **nv = realloc(vals->v, cap * sizeof *nv);
		if (!nv)
			return DD_ENOMEM;
		vals->v = nv;
		vals->cap = cap;
	}
	if (!(vals->v[vals->n] = strdup(v)))
		return DD_ENOMEM;
	vals->n++;
	return 0;
}

static int collect(struct scan *s, dd_index_values_fn vf, void *doc)
{
	s->vals->matched++;
	if (!s->field)
		return 0;
	const char *v[64];
	size_t n = vf(s->field, v, 64, doc);
	if (n)
		s->vals->with_field++;
	for (size_t i = 0; i < n && i < 64; i++) {
		if (s->vals->type == DD_INDEX_NUMBER) {
			double d;
			if (!dd_index_query_number(v[i], &d))
				continue;
		}
		int rc = push_value(s->vals, v[i]);
		if (rc)
			return rc;
	}
	return 0;
}

static void tdoc_conn(struct tdoc *d)
{
	if (d->conn_read || !d->conn_on)
		return;
	d->conn_read = true;
	int rc = dd_store_index_connectivity(d->s->db, d->s->account_region, d->t->name, &d->conn);
	if (rc == DD_ENOTFOUND)
		return;
	if (rc) {
		d->err = DD_EIO;
		return;
	}
	d->connected = !strcmp(d->conn.event, "connect");
	d->conn_ms = d->conn.ts_ms;
	snprintf(d->ts, sizeof d->ts, "%lld", (long long)d->conn.ts_ms);
	d->reason = !d->connected && d->conn.reason[0] ? d->conn.reason : NULL;
}

static int thing_row(const struct dd_store_things_row *t, void *ud)
{
	struct scan *s = ud;
	struct tdoc d = { .t = t, .s = s, .conn_on = s->cfg.connectivity };
	snprintf(d.version, sizeof d.version, "%lld", (long long)t->version);
	/* the thing's groups: the first membership of the thing, by binary search */
	size_t lo = 0, hi = s->ms.n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (strcmp(s->ms.m[mid].thing, t->name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < s->ms.n && !strcmp(s->ms.m[lo].thing, t->name) && d.ng < MAX_THING_GROUPS; lo++)
		d.groups[d.ng++] = s->ms.m[lo].group;
	int rc = 0;
	if (dd_index_query_match(s->q, thing_values, &d) && !d.err) {
		if (s->vals) {
			rc = collect(s, thing_values, &d);
		} else {
			tdoc_conn(&d);
			struct dd_index_thing_doc pub = {
				.name = t->name,
				.id = t->id,
				.type = t->type[0] ? t->type : NULL,
				.attributes = t->attributes ? t->attributes : "{}",
				.version = t->version,
				.groups = d.groups,
				.ngroups = d.ng,
				.connectivity = d.conn_on,
				.connected = d.connected,
				.conn_ms = d.conn_ms,
				.disconnect_reason = d.reason,
			};
			rc = d.err ? d.err : s->thing_fn(&pub, s->ud);
		}
	}
	json_decref(d.attrs);
	return d.err ? d.err : rc;
}

struct group_set {
	struct dd_store_groups_row *g;
	size_t n, cap;
	struct dd_db *db;
	const char *account_region;
};

static int group_name_row(const char *name, void *ud)
{
	struct group_set *gs = ud;
	if (gs->n == gs->cap) {
		size_t cap = gs->cap ? gs->cap * 2 : 64;
		void *ng = realloc(gs->g, cap * sizeof *gs->g);
		if (!ng)
			return DD_ENOMEM;
		gs->g = ng;
		gs->cap = cap;
	}
	memset(&gs->g[gs->n], 0, sizeof gs->g[gs->n]);
	snprintf(gs->g[gs->n].name, sizeof gs->g[gs->n].name, "%s", name);
	gs->n++;
	return 0;
}

static const struct dd_store_groups_row *group_find(const struct group_set *gs, const char *name)
{
	size_t lo = 0, hi = gs->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(gs->g[mid].name, name);
		if (!c)
			return &gs->g[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static int group_cmp(const void *a, const void *b)
{
	return strcmp(((const struct dd_store_groups_row *)a)->name, ((const struct dd_store_groups_row *)b)->name);
}

static int scan_groups(struct scan *s, const char *after)
{
	struct group_set gs = { .db = s->db, .account_region = s->account_region };
	int rc = dd_store_groups_list(s->db, s->account_region, DD_STORE_GROUPS_ALL, NULL, NULL, "", 0, group_name_row, &gs);
	for (size_t i = 0; i < gs.n && !rc; i++) {
		char name[DD_STORE_NAME_MAX];
		snprintf(name, sizeof name, "%s", gs.g[i].name);
		rc = dd_store_groups_get(s->db, s->account_region, name, &gs.g[i]);
		if (rc == DD_ENOTFOUND)
			rc = 0;
	}
	if (!rc && gs.n)
		qsort(gs.g, gs.n, sizeof *gs.g, group_cmp);
	for (size_t i = 0; i < gs.n && !rc; i++) {
		const struct dd_store_groups_row *g = &gs.g[i];
		if (strcmp(g->name, after) <= 0 || !g->id[0])
			continue;
		struct gdoc d = { .g = g, .attrs = json_loads(g->attributes ? g->attributes : "{}", 0, NULL) };
		for (const struct dd_store_groups_row *p = g; p->parent[0] && d.np < 64;) {
			p = group_find(&gs, p->parent);
			if (!p)
				break;
			d.parents[d.np++] = p->name;
		}
		if (dd_index_query_match(s->q, group_values, &d)) {
			if (s->vals) {
				rc = collect(s, group_values, &d);
			} else {
				struct dd_index_group_doc pub = {
					.name = g->name,
					.id = g->id,
					.description = g->description,
					.attributes = g->attributes ? g->attributes : "{}",
					.parents = d.parents,
					.nparents = d.np,
				};
				rc = s->group_fn(&pub, s->ud);
			}
		}
		json_decref(d.attrs);
	}
	for (size_t i = 0; i < gs.n; i++)
		dd_store_groups_row_clear(&gs.g[i]);
	free(gs.g);
	return rc;
}

/* Loads the configuration, checks the index exists, parses the query (and the
 * aggregation field). */
static int scan_open(struct scan *s, const char *index, const char *query, const char *field, char *msg, size_t msglen)
{
	if (cfg_load(s->db, s->account_region, &s->cfg))
		return DD_EIO;
	bool things = !strcmp(index, DD_INDEX_THINGS), groups = !strcmp(index, DD_INDEX_GROUPS);
	if ((!things && !groups) || (things && !s->cfg.thing_mode) || (groups && !s->cfg.groups)) {
		snprintf(msg, msglen, "Index %s does not exist.", index);
		return DD_ENOTFOUND;
	}
	s->cfg.for_groups = groups;
	if (field && s->vals) {
		char err[256] = "";
		if (resolve(field, &s->vals->type, err, sizeof err, &s->cfg)) {
			snprintf(msg, msglen, "Invalid aggregation field: %s.", err);
			return DD_ECONFLICT;
		}
	}
	return dd_index_query_parse(query, resolve, &s->cfg, &s->q, msg, msglen);
}

static int scan_run(struct scan *s, const char *after)
{
	int rc = dd_db_begin_read(s->db);
	if (rc)
		return DD_EIO;
	if (s->cfg.for_groups) {
		rc = scan_groups(s, after);
	} else {
		rc = dd_store_index_memberships(s->db, s->account_region, member_row, &s->ms);
		if (!rc && s->ms.n)
			qsort(s->ms.m, s->ms.n, sizeof *s->ms.m, member_cmp);
		if (!rc)
			rc = dd_store_things_list(s->db, s->account_region, NULL, after, 0, thing_row, s);
	}
	dd_db_rollback(s->db);
	return rc > 0 ? 0 : rc;
}

static void scan_close(struct scan *s)
{
	dd_index_query_free(s->q);
	members_free(&s->ms);
	json_decref(s->cfg.root);
}

int dd_index_search(struct dd_db *db, const char *account_region, const char *index, const char *query,
		    const char *after, dd_index_thing_fn thing_fn, dd_index_group_fn group_fn, void *ud, char *msg,
		    size_t msglen)
{
	struct scan s = { .db = db, .account_region = account_region, .thing_fn = thing_fn, .group_fn = group_fn, .ud = ud };
	int rc = scan_open(&s, index, query, NULL, msg, msglen);
	if (!rc)
		rc = scan_run(&s, after ? after : "");
	scan_close(&s);
	return rc;
}

void dd_index_values_clear(struct dd_index_values *vals)
{
	for (size_t i = 0; i < vals->n; i++)
		free(vals->v[i]);
	free(vals->v);
	memset(vals, 0, sizeof *vals);
}

int dd_index_collect(struct dd_db *db, const char *account_region, const char *index, const char *query,
		     const char *field, struct dd_index_values *out, char *msg, size_t msglen)
{
	memset(out, 0, sizeof *out);
	out->type = DD_INDEX_STRING;
	struct scan s = { .db = db, .account_region = account_region, .field = field, .vals = out };
	int rc = scan_open(&s, index, query, field, msg, msglen);
	if (!rc)
		rc = scan_run(&s, "");
	scan_close(&s);
	return rc;
}

/* ---- aggregations ---- */

void dd_index_statistics(const struct dd_index_values *vals, bool whole_documents, struct dd_index_stats *out)
{
	memset(out, 0, sizeof *out);
	if (whole_documents) {
		out->count = vals->matched;
		return;
	}
	if (vals->type != DD_INDEX_NUMBER) {
		out->count = vals->with_field;
		return;
	}
	out->numeric = true;
	double sum = 0, sq = 0, mn = INFINITY, mx = -INFINITY;
	for (size_t i = 0; i < vals->n; i++) {
		double d = 0;
		(void)dd_index_query_number(vals->v[i], &d);
		sum += d;
		sq += d * d;
		mn = d < mn ? d : mn;
		mx = d > mx ? d : mx;
	}
	out->count = (int64_t)vals->n;
	if (!vals->n) {
		out->numeric = false;
		return;
	}
	out->sum = sum;
	out->sum_of_squares = sq;
	out->minimum = mn;
	out->maximum = mx;
	out->average = sum / (double)vals->n;
	/* population variance, from the deviations (no cancellation of sq / n - mean²) */
	double dev = 0;
	for (size_t i = 0; i < vals->n; i++) {
		double d = 0;
		(void)dd_index_query_number(vals->v[i], &d);
		dev += (d - out->average) * (d - out->average);
	}
	out->variance = dev / (double)vals->n;
	out->std_deviation = sqrt(out->variance);
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int dbl_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

int64_t dd_index_cardinality(const struct dd_index_values *vals)
{
	if (vals->n)
		qsort(vals->v, vals->n, sizeof *vals->v, str_cmp);
	int64_t n = 0;
	for (size_t i = 0; i < vals->n; i++)
		if (!i || strcmp(vals->v[i], vals->v[i - 1]))
			n++;
	return n;
}

bool dd_index_percentile(const struct dd_index_values *vals, double p, double *out)
{
	double *d = malloc((vals->n ? vals->n : 1) * sizeof *d);
	if (!d)
		return false;
	size_t n = 0;
	for (size_t i = 0; i < vals->n; i++)
		if (dd_index_query_number(vals->v[i], &d[n]))
			n++;
	if (!n) {
		free(d);
		return false;
	}
	qsort(d, n, sizeof *d, dbl_cmp);
	double rank = p / 100.0 * (double)(n - 1);
	size_t k = (size_t)floor(rank);
	double frac = rank - (double)k;
	*out = k + 1 < n ? d[k] + frac * (d[k + 1] - d[k]) : d[n - 1];
	free(d);
	return true;
}

struct bucket {
	const char *key;
	int64_t count;
};

static int bucket_cmp(const void *a, const void *b)
{
	const struct bucket *x = a, *y = b;
	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return strcmp(x->key, y->key);
}

int dd_index_buckets(const struct dd_index_values *vals, int max, dd_index_bucket_fn fn, void *ud)
{
	if (vals->n)
		qsort(vals->v, vals->n, sizeof *vals->v, str_cmp);
	struct bucket *b = malloc((vals->n ? vals->n : 1) * sizeof *b);
	if (!b)
		return DD_ENOMEM;
	size_t nb = 0;
	for (size_t i = 0; i < vals->n; i++) {
		if (i && !strcmp(vals->v[i], vals->v[i - 1]))
			b[nb - 1].count++;
		else
			b[nb++] = (struct bucket){ vals->v[i], 1 };
	}
	if (nb)
		qsort(b, nb, sizeof *b, bucket_cmp);
	int rc = 0;
	for (size_t i = 0; i < nb && (int)i < max && !rc; i++)
		rc = fn(b[i].key, b[i].count, ud);
	free(b);
	return rc;
}

/* ---- dynamic thing groups ---- */

static int group_query_field(const char *field, enum dd_index_type *type, char *err, size_t errlen, void *ud)
{
	(void)ud;
	static const char *const strings[] = { "thingName", "thingId", "thingTypeName", NULL };
	for (int i = 0; strings[i]; i++)
		if (!strcmp(field, strings[i])) {
			*type = DD_INDEX_STRING;
			return 0;
		}
	if (!strcmp(field, "registry.version")) {
		*type = DD_INDEX_NUMBER;
		return 0;
	}
	if (!strncmp(field, "attributes.", 11) && field[11]) {
		*type = DD_INDEX_STRING;
		return 0;
	}
	snprintf(err, errlen, "field %s cannot be used in a dynamic thing group query", field);
	return DD_EINVAL;
}

int dd_index_group_query_parse(const char *query, struct dd_index_query **out, char *err, size_t errlen)
{
	return dd_index_query_parse(query, group_query_field, NULL, out, err, errlen);
}

struct regdoc {
	const char *thing, *id, *type;
	char version[24];
	dd_index_attr_fn attr;
	void *ud;
};

static size_t reg_values(const char *field, const char **out, size_t max, void *ud)
{
	struct regdoc *d = ud;
	const char *v = NULL;
	if (!strcmp(field, "thingName"))
		v = d->thing;
	else if (!strcmp(field, "thingId"))
		v = d->id;
	else if (!strcmp(field, "thingTypeName"))
		v = d->type;
	else if (!strcmp(field, "registry.version"))
		v = d->version[0] ? d->version : NULL;
	else if (!strncmp(field, "attributes.", 11) && d->attr)
		v = d->attr(field + 11, d->ud);
	if (!v || !max)
		return 0;
	out[0] = v;
	return 1;
}

bool dd_index_group_query_match(const struct dd_index_query *q, const char *thing, const char *id, const char *type,
				int64_t version, dd_index_attr_fn attr, void *ud)
{
	struct regdoc d = { .thing = thing, .id = id, .type = type && type[0] ? type : NULL, .attr = attr, .ud = ud };
	if (version >= 0)
		snprintf(d.version, sizeof d.version, "%lld", (long long)version);
	return dd_index_query_match(q, reg_values, &d) == 1;
}

/* ---- the indexes themselves ---- */

int dd_index_schema(struct dd_db *db, const char *account_region, const char *index, char *schema, size_t len)
{
	struct cfg c;
	if (cfg_load(db, account_region, &c))
		return DD_EIO;
	int rc = DD_ENOTFOUND;
	if (!strcmp(index, DD_INDEX_THINGS) && c.thing_mode) {
		snprintf(schema, len, "%s%s", c.thing_mode == 2 ? "REGISTRY_AND_SHADOW" : "REGISTRY",
			 c.connectivity ? "_AND_CONNECTIVITY_STATUS" : "");
		rc = 0;
	} else if (!strcmp(index, DD_INDEX_GROUPS) && c.groups) {
		snprintf(schema, len, "THING_GROUPS");
		rc = 0;
	}
	json_decref(c.root);
	return rc;
}

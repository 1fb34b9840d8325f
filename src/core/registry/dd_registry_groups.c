/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Thing group membership rules (dd_registry_groups.h) over the store's typed functions.
 * Dynamic membership evaluates the group query with the fleet-indexing parser and
 * evaluator (dd_index.h, registry fields) against a thing's name, id, type, version and
 * attributes (the thing's stored JSON object text); each query is parsed once per pass.
 */
#include "core/registry/dd_registry_groups.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/registry/dd_index.h"
#include "core/registry/dd_jobs.h"
#include "store/dd_store_groups.h"
#include "store/dd_store_things.h"

int dd_registry_groups_add_member(struct dd_db *db, const char *account_region, const char *group, const char *thing,
				  bool override, char *msg, size_t msglen)
{
	struct dd_store_groups_row g;
	int rc = dd_store_groups_get(db, account_region, group, &g);
	if (rc == DD_ENOTFOUND) {
		snprintf(msg, msglen, "Thing group %s cannot be found.", group);
		return rc;
	}
	if (rc)
		return DD_EIO;
	bool dynamic = g.dynamic;
	dd_store_groups_row_clear(&g);
	if (dynamic) {
		snprintf(msg, msglen, "Cannot add thing %s to dynamic thing group %s: membership is decided by its query.",
			 thing, group);
		return DD_EINVAL;
	}
	rc = dd_store_things_exists(db, account_region, thing);
	if (rc < 0)
		return DD_EIO;
	if (!rc) {
		snprintf(msg, msglen, "Thing %s cannot be found.", thing);
		return DD_ENOTFOUND;
	}
	rc = dd_store_groups_member_is(db, account_region, group, thing);
	if (rc)
		return rc < 0 ? DD_EIO : 0;
	int64_t n;
	if (dd_store_groups_member_count(db, account_region, thing, &n))
		return DD_EIO;
	if (n >= DD_MAX_GROUPS_PER_THING) {
		if (!override) {
			snprintf(msg, msglen, "Thing %s cannot be added to more than %d thing groups.", thing,
				 DD_MAX_GROUPS_PER_THING);
			return DD_ELIMIT;
		}
		char dyn[DD_STORE_NAME_MAX];
		rc = dd_store_groups_member_newest_dynamic(db, account_region, thing, dyn, sizeof dyn);
		if (rc == DD_ENOTFOUND) {
			snprintf(msg, msglen, "Thing %s is already in %d static thing groups.", thing, DD_MAX_GROUPS_PER_THING);
			return DD_ELIMIT;
		}
		if (rc || dd_store_groups_member_remove(db, account_region, dyn, thing))
			return DD_EIO;
	}
	if (dd_store_groups_member_add(db, account_region, group, thing))
		return DD_EIO;
	return dd_jobs_thing_joined(db, account_region, group, thing, dd_time_now_ms()) ? DD_EIO : 0;
}

int dd_registry_groups_remove_member(struct dd_db *db, const char *account_region, const char *group,
				     const char *thing, char *msg, size_t msglen)
{
	struct dd_store_groups_row g;
	int rc = dd_store_groups_get(db, account_region, group, &g);
	if (rc == DD_ENOTFOUND) {
		snprintf(msg, msglen, "Thing group %s cannot be found.", group);
		return rc;
	}
	if (rc)
		return DD_EIO;
	bool dynamic = g.dynamic;
	dd_store_groups_row_clear(&g);
	if (dynamic) {
		snprintf(msg, msglen, "Cannot remove a thing from dynamic thing group %s.", group);
		return DD_EINVAL;
	}
	if (dd_store_groups_member_remove(db, account_region, group, thing))
		return DD_EIO;
	return dd_jobs_thing_left(db, account_region, thing, dd_time_now_ms()) ? DD_EIO : 0;
}

int dd_registry_groups_query_check(const char *query, char *err, size_t errlen)
{
	struct dd_index_query *q;
	int rc = dd_index_group_query_parse(query, &q, err, errlen);
	dd_index_query_free(rc ? NULL : q);
	return rc;
}

/* ---- dynamic membership ---- */

/* a thing's attributes as the evaluator reads them (string values only, as stored) */
struct attrs {
	json_t *obj;
};

static const char *attr_of(const char *name, void *ud)
{
	struct attrs *a = ud;
	return json_string_value(json_object_get(a->obj, name));
}

/* Does the thing match query? A stored query that no longer parses matches nothing. */
static bool matches(const char *query, const struct dd_store_things_row *t, struct attrs *a)
{
	char err[256];
	struct dd_index_query *q;
	if (dd_index_group_query_parse(query, &q, err, sizeof err))
		return false;
	bool m = dd_index_group_query_match(q, t->name, t->id, t->type, t->version, attr_of, a);
	dd_index_query_free(q);
	return m;
}

struct refresh {
	const struct dd_store_things_row *t;
	struct attrs attrs;
	struct {
		char *name;
		bool match;
	} *g;
	size_t n, cap;
	int err;
};

static int refresh_one(const char *name, const char *query, void *ud)
{
	struct refresh *r = ud;
	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 8;
		void *ng = realloc(r->g, cap * sizeof *r->g);
		if (!ng)
			return DD_ENOMEM;
		r->g = ng;
		r->cap = cap;
	}
	if (!(r->g[r->n].name = strdup(name)))
		return DD_ENOMEM;
	r->g[r->n].match = matches(query, r->t, &r->attrs);
	r->n++;
	return 0;
}

int dd_registry_groups_refresh_thing(struct dd_db *db, const char *account_region, const char *thing)
{
	struct dd_store_things_row t;
	int rc = dd_store_things_get(db, account_region, thing, &t);
	if (rc == DD_ENOTFOUND)
		return 0;
	if (rc)
		return DD_EIO;
	struct refresh r = { .t = &t, .attrs = { json_loads(t.attributes, 0, NULL) } };
	rc = dd_store_groups_dynamic_list(db, account_region, refresh_one, &r);
	for (size_t i = 0; i < r.n && !rc; i++)
		rc = r.g[i].match ? dd_store_groups_member_add(db, account_region, r.g[i].name, thing) ||
					    dd_jobs_thing_joined(db, account_region, r.g[i].name, thing, dd_time_now_ms())
				  : dd_store_groups_member_remove(db, account_region, r.g[i].name, thing);
	if (!rc)
		rc = dd_jobs_thing_left(db, account_region, thing, dd_time_now_ms());
	for (size_t i = 0; i < r.n; i++)
		free(r.g[i].name);
	free(r.g);
	json_decref(r.attrs.obj);
	dd_store_things_row_clear(&t);
	return rc ? DD_EIO : 0;
}

struct materialize {
	const struct dd_index_query *q;
	char **names;
	size_t n, cap;
};

static int materialize_one(const struct dd_store_things_row *t, void *ud)
{
	struct materialize *m = ud;
	struct attrs a = { json_loads(t->attributes, 0, NULL) };
	bool match = dd_index_group_query_match(m->q, t->name, t->id, t->type, t->version, attr_of, &a);
	json_decref(a.obj);
	if (!match)
		return 0;
	if (m->n == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 64;
		char **nn = realloc(m->names, cap * sizeof *nn);
		if (!nn)
			return DD_ENOMEM;
		m->names = nn;
		m->cap = cap;
	}
	if (!(m->names[m->n] = strdup(t->name)))
		return DD_ENOMEM;
	m->n++;
	return 0;
}

static int collect_name(const char *name, void *ud)
{
	struct materialize *m = ud;
	if (m->n == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 64;
		char **nn = realloc(m->names, cap * sizeof *nn);
		if (!nn)
			return DD_ENOMEM;
		m->names = nn;
		m->cap = cap;
	}
	if (!(m->names[m->n] = strdup(name)))
		return DD_ENOMEM;
	m->n++;
	return 0;
}

int dd_registry_groups_materialize(struct dd_db *db, const char *account_region, const char *group, const char *query)
{
	char err[256];
	struct dd_index_query *q;
	int rc = dd_index_group_query_parse(query, &q, err, sizeof err);
	if (rc)
		return rc == DD_ENOMEM ? rc : DD_EINVAL;
	struct materialize m = { .q = q }, old = { 0 };
	/* the members before, to tell the jobs of those that leave */
	rc = dd_store_groups_member_list(db, account_region, group, false, "", 0, collect_name, &old);
	if (!rc)
		rc = dd_store_groups_member_clear(db, account_region, group);
	if (!rc)
		rc = dd_store_things_list(db, account_region, NULL, "", 0, materialize_one, &m);
	for (size_t i = 0; i < m.n; i++) {
		if (!rc)
			rc = dd_store_groups_member_add(db, account_region, group, m.names[i]);
		if (!rc)
			rc = dd_jobs_thing_joined(db, account_region, group, m.names[i], dd_time_now_ms());
		free(m.names[i]);
	}
	for (size_t i = 0; i < old.n; i++) {
		if (!rc) {
			int is = dd_store_groups_member_is(db, account_region, group, old.names[i]);
			rc = is < 0 ? is : is ? 0 : dd_jobs_thing_left(db, account_region, old.names[i], dd_time_now_ms());
		}
		free(old.names[i]);
	}
	free(old.names);
	free(m.names);
	dd_index_query_free(q);
	return rc ? DD_EIO : 0;
}

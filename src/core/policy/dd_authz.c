/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One authorization path for TestAuthorization, GetEffectivePolicies and the broker
 * plugin: the effective policies of a principal (attached to it, and to the thing groups,
 * with their ancestors, of its things), compiled once, and the policy variables bound to
 * the connection (thing, type, attributes, certificate fields). A loaded struct dd_authz
 * decides without the store or the heap. The rows come from store/dd_store_policies.c.
 */
#include "dd/authz.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/dd_store_policies.h"

/* Ancestors followed from a thing group to its root (AWS allows a depth of 7). */
#define MAX_GROUP_DEPTH 8

void dd_authz_binding_clear(struct dd_authz_binding *b)
{
	for (size_t i = 0; i < b->n_attrs; i++) {
		free(b->attr_keys[i]);
		free(b->attr_vals[i]);
	}
	memset(b, 0, sizeof *b);
}

/* A name callback keeping the first name (the buffer is a thing name of 129 bytes). */
static int first_name(void *ud, const char *name)
{
	snprintf(ud, 129, "%s", name);
	return 1;
}

void dd_authz_names_clear(struct dd_authz_names *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	memset(l, 0, sizeof *l);
}

/* Appends name to l (duplicates kept when dups). */
static int names_push(struct dd_authz_names *l, const char *name, bool dups)
{
	for (size_t i = 0; !dups && i < l->n; i++)
		if (strcmp(l->v[i], name) == 0)
			return 0;
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 8;
		char **v = realloc(l->v, cap * sizeof *v);
		if (!v)
			return DD_ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	if (!(l->v[l->n] = strdup(name)))
		return DD_ENOMEM;
	l->n++;
	return 0;
}

/* A name callback appending to a list unless it is there already. */
static int add_name(void *ud, const char *name)
{
	return names_push(ud, name, false);
}

int dd_authz_target_policies(const struct dd_authz_scope *c, const char *target, bool recursive,
			      struct dd_authz_names *names)
{
	int rc = dd_store_policies_target_policies(c->db, c->account_region, target, add_name, names);
	if (rc || !recursive)
		return rc;
	const char *g = strstr(target, ":thinggroup/");
	if (!g)
		return 0;
	/* walk to the root */
	char cur[256];
	snprintf(cur, sizeof cur, "%s", g + 12);
	for (int depth = 0; depth < MAX_GROUP_DEPTH; depth++) {
		char parent[256];
		rc = dd_store_policies_group_parent(c->db, c->account_region, cur, parent, sizeof parent);
		if (rc)
			return rc;
		if (!parent[0])
			break;
		char arn[700];
		snprintf(arn, sizeof arn, "arn:aws:iot:%s:%s:thinggroup/%s", c->region, c->account, parent);
		rc = dd_store_policies_target_policies(c->db, c->account_region, arn, add_name, names);
		if (rc)
			return rc;
		snprintf(cur, sizeof cur, "%s", parent);
	}
	return 0;
}

/* A name callback appending to a list (duplicates kept). */
static int push_name(void *ud, const char *name)
{
	return names_push(ud, name, true);
}

int dd_authz_effective_policy_names(const struct dd_authz_scope *c, const char *principal, const char *thing,
				    struct dd_authz_names *names)
{
	if (principal && dd_authz_target_policies(c, principal, false, names))
		return DD_EIO;
	struct dd_authz_names things = { 0 };
	int rc = 0;
	if (thing)
		rc = names_push(&things, thing, true);
	else if (principal)
		rc = dd_store_policies_principal_things(c->db, c->account_region, principal, "", -1, push_name, &things);
	for (size_t i = 0; !rc && i < things.n; i++) {
		struct dd_authz_names groups = { 0 };
		rc = dd_store_policies_thing_groups(c->db, c->account_region, things.v[i], push_name, &groups);
		for (size_t k = 0; !rc && k < groups.n; k++) {
			char arn[700];
			snprintf(arn, sizeof arn, "arn:aws:iot:%s:%s:thinggroup/%s", c->region, c->account, groups.v[k]);
			rc = dd_authz_target_policies(c, arn, true, names);
		}
		dd_authz_names_clear(&groups);
	}
	dd_authz_names_clear(&things);
	return rc ? DD_EIO : 0;
}

char *dd_authz_default_doc(const struct dd_authz_scope *c, const char *name)
{
	char *doc = NULL;
	if (dd_store_policies_default_doc(c->db, c->account_region, name, &doc))
		return NULL;
	return doc;
}

static int bind_thing(const struct dd_authz_scope *c, const char *principal, const char *client_id, struct dd_authz_binding *b)
{
	bool yes = false;
	if (client_id && *client_id && strlen(client_id) < sizeof b->thing) {
		if (dd_store_policies_principal_attached(c->db, c->account_region, client_id, principal, &yes))
			return DD_EIO;
		if (yes)
			snprintf(b->thing, sizeof b->thing, "%s", client_id);
	}
	if (!yes && dd_store_policies_principal_things(c->db, c->account_region, principal, "", 1, first_name, b->thing))
		return DD_EIO;
	if (!b->thing[0])
		return 0;
	b->attached = true;
	char *text = NULL;
	int rc = dd_store_policies_thing_info(c->db, c->account_region, b->thing, b->thing_type, sizeof b->thing_type, &text);
	if (rc == DD_ENOTFOUND)
		return 0;
	if (rc)
		return rc;
	json_t *attrs = json_loads(text, 0, NULL);
	free(text);
	const char *k;
	json_t *v;
	json_object_foreach(attrs, k, v) {
		if (!json_is_string(v) || b->n_attrs >= DD_AUTHZ_MAX_ATTRS)
			continue;
		char *kk = strdup(k), *vv = strdup(json_string_value(v));
		if (!kk || !vv) {
			free(kk);
			free(vv);
			rc = DD_ENOMEM;
			break;
		}
		size_t i = b->n_attrs++;
		b->attr_keys[i] = kk;
		b->attr_vals[i] = vv;
		b->attrs[i].key = kk;
		b->attrs[i].values = (const char *const *)&b->attr_vals[i];
		b->attrs[i].nvalues = 1;
	}
	json_decref(attrs);
	return rc;
}

static int bind_cert(const struct dd_authz_scope *c, const char *principal, struct dd_authz_binding *b)
{
	const char *p = principal ? strstr(principal, ":cert/") : NULL;
	if (!p || strlen(p + 6) != 64)
		return 0;
	int rc = dd_store_policies_cert_subject(c->db, c->account_region, p + 6, b->cert_cn, sizeof b->cert_cn, b->cert_serial,
						sizeof b->cert_serial);
	if (rc && rc != DD_ENOTFOUND)
		return rc;
	if (b->cert_cn[0]) {
		b->cert_cn_v[0] = b->cert_cn;
		b->cert[b->n_cert++] = (struct dd_policy_attr){ "Subject.CommonName", b->cert_cn_v, 1 };
	}
	if (b->cert_serial[0]) {
		b->cert_serial_v[0] = b->cert_serial;
		b->cert[b->n_cert++] = (struct dd_policy_attr){ "SerialNumber", b->cert_serial_v, 1 };
	}
	return 0;
}

int dd_authz_bind(const struct dd_authz_scope *c, const char *principal, const char *client_id, struct dd_authz_binding *b)
{
	if (!principal)
		return 0;
	int rc = bind_thing(c, principal, client_id, b);
	if (!rc)
		rc = bind_cert(c, principal, b);
	if (rc)
		dd_authz_binding_clear(b);
	return rc;
}

void dd_authz_request(const struct dd_authz_binding *b, const char *action, const char *resource,
		      const char *client_id, const char *source_ip, struct dd_policy_request *req)
{
	*req = (struct dd_policy_request){
		.action = action,
		.resource = resource,
		.client_id = client_id,
		.thing_name = b->thing[0] ? b->thing : NULL,
		.thing_type_name = b->thing_type[0] ? b->thing_type : NULL,
		.is_attached = b->attached,
		.thing_attributes = b->attrs,
		.n_thing_attributes = b->n_attrs,
		.cert = b->cert,
		.n_cert = b->n_cert,
		.source_ip = source_ip,
	};
}

int dd_authz_policy_names(const struct dd_authz_scope *c, const char *principal, struct dd_authz_names *names)
{
	return dd_authz_effective_policy_names(c, principal, NULL, names);
}

void dd_authz_free(struct dd_authz *a)
{
	if (!a)
		return;
	for (size_t i = 0; i < a->n; i++)
		dd_policy_free(a->pols[i]);
	free(a->pols);
	dd_authz_binding_clear(&a->b);
	free(a);
}

int dd_authz_load(const struct dd_authz_scope *c, const char *principal, const char *client_id, struct dd_authz **out)
{
	struct dd_authz *a = calloc(1, sizeof *a);
	struct dd_authz_names names = { 0 };
	if (!a)
		return DD_ENOMEM;
	int rc = dd_authz_policy_names(c, principal, &names);
	size_t n = names.n;
	if (!rc) {
		a->pols = calloc(n ? n : 1, sizeof *a->pols);
		if (!a->pols)
			rc = DD_ENOMEM;
	}
	for (size_t i = 0; !rc && i < n; i++) {
		char *doc = dd_authz_default_doc(c, names.v[i]);
		if (!doc)
			continue; /* deleted meanwhile: contributes nothing */
		char msg[DD_POLICY_ERRMSG_SIZE];
		struct dd_policy *p = NULL;
		if (dd_policy_compile(doc, strlen(doc), DD_POLICY_IOT, &p, msg, sizeof msg))
			p = NULL; /* stored documents were validated; a bad one grants nothing */
		free(doc);
		if (p)
			a->pols[a->n++] = p;
	}
	dd_authz_names_clear(&names);
	if (!rc)
		rc = dd_authz_bind(c, principal, client_id, &a->b);
	if (rc) {
		dd_authz_free(a);
		return rc;
	}
	*out = a;
	return 0;
}

enum dd_policy_decision dd_authz_decide(const struct dd_authz *a, const char *action, const char *resource,
					const char *client_id, const char *source_ip)
{
	struct dd_policy_request req;
	dd_authz_request(&a->b, action, resource, client_id, source_ip, &req);
	enum dd_policy_decision d;
	if (dd_policy_evaluate((const struct dd_policy *const *)a->pols, a->n, &req, &d, NULL))
		return DD_POLICY_IMPLICIT_DENY;
	return d;
}

enum dd_policy_decision dd_authz_decide_resources(const struct dd_policy *const *pols, size_t n,
						  const struct dd_authz_binding *b, const char *action,
						  const char *const *resources, size_t nres, const char *client_id,
						  size_t *deciding)
{
	enum dd_policy_decision overall = nres ? DD_POLICY_ALLOW : DD_POLICY_IMPLICIT_DENY;
	*deciding = SIZE_MAX;
	for (size_t k = 0; k < nres; k++) {
		struct dd_policy_request req;
		dd_authz_request(b, action, resources[k], client_id, NULL, &req);
		enum dd_policy_decision d;
		struct dd_policy_explain ex;
		if (dd_policy_evaluate(pols, n, &req, &d, &ex)) {
			d = DD_POLICY_IMPLICIT_DENY;
			ex.policy_index = SIZE_MAX;
		}
		if (d == DD_POLICY_EXPLICIT_DENY) {
			*deciding = ex.policy_index;
			return d;
		}
		if (d == DD_POLICY_IMPLICIT_DENY && overall == DD_POLICY_ALLOW) {
			overall = d;
			*deciding = SIZE_MAX;
		}
		if (d == DD_POLICY_ALLOW && overall == DD_POLICY_ALLOW)
			*deciding = ex.policy_index;
	}
	return overall;
}

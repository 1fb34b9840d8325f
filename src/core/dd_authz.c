/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One authorization path for TestAuthorization and the broker plugin: the effective
 * policies of a principal (dd_registry_policies.c collects their names), compiled once,
 * and the policy variables bound to the connection (thing, type, attributes, certificate
 * fields). A loaded struct dd_authz decides without the store or the heap.
 */
#include "dd/authz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/dd_registry_int.h"

void dd_authz_binding_clear(struct dd_authz_binding *b)
{
	for (size_t i = 0; i < b->n_attrs; i++) {
		free(b->attr_keys[i]);
		free(b->attr_vals[i]);
	}
	memset(b, 0, sizeof *b);
}

/* Is thing attached to principal? */
static int attached_thing(struct dd_ctx *c, const char *principal, const char *thing, bool *yes)
{
	sqlite3_stmt *st = dd_db_stmt(c->db, "SELECT 1 FROM thing_principals WHERE account_region = ?1 AND thing_name = ?2 AND principal = ?3");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, c->account_region);
	dd_bind_text(st, 2, thing);
	dd_bind_text(st, 3, principal);
	int s = sqlite3_step(st);
	*yes = s == SQLITE_ROW;
	sqlite3_reset(st);
	return s == SQLITE_ROW || s == SQLITE_DONE ? 0 : DD_EIO;
}

static int bind_thing(struct dd_ctx *c, const char *principal, const char *client_id, struct dd_authz_binding *b)
{
	bool yes = false;
	if (client_id && *client_id && strlen(client_id) < sizeof b->thing) {
		if (attached_thing(c, principal, client_id, &yes))
			return DD_EIO;
		if (yes)
			snprintf(b->thing, sizeof b->thing, "%s", client_id);
	}
	if (!yes) {
		sqlite3_stmt *st = dd_db_stmt(c->db, "SELECT thing_name FROM thing_principals WHERE account_region = ?1 AND principal = ?2 ORDER BY thing_name LIMIT 1");
		if (!st)
			return DD_EIO;
		dd_bind_text(st, 1, c->account_region);
		dd_bind_text(st, 2, principal);
		int s = sqlite3_step(st);
		if (s == SQLITE_ROW)
			snprintf(b->thing, sizeof b->thing, "%s", dd_col_text(st, 0));
		sqlite3_reset(st);
		if (s != SQLITE_ROW && s != SQLITE_DONE)
			return DD_EIO;
	}
	if (!b->thing[0])
		return 0;
	b->attached = true;
	sqlite3_stmt *st = dd_db_stmt(c->db, "SELECT type_name, attributes FROM things WHERE account_region = ?1 AND name = ?2");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, c->account_region);
	dd_bind_text(st, 2, b->thing);
	int s = sqlite3_step(st);
	json_t *attrs = NULL;
	if (s == SQLITE_ROW) {
		snprintf(b->thing_type, sizeof b->thing_type, "%s", dd_col_text(st, 0));
		attrs = json_loads(dd_col_text(st, 1), 0, NULL);
	}
	sqlite3_reset(st);
	if (s != SQLITE_ROW && s != SQLITE_DONE)
		return DD_EIO;
	const char *k;
	json_t *v;
	int rc = 0;
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

static int bind_cert(struct dd_ctx *c, const char *principal, struct dd_authz_binding *b)
{
	const char *p = principal ? strstr(principal, ":cert/") : NULL;
	if (!p || strlen(p + 6) != 64)
		return 0;
	sqlite3_stmt *st = dd_db_stmt(c->db, "SELECT subject_cn, serial FROM certificates WHERE account_region = ?1 AND id = ?2");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, c->account_region);
	dd_bind_text(st, 2, p + 6);
	int s = sqlite3_step(st);
	if (s == SQLITE_ROW) {
		snprintf(b->cert_cn, sizeof b->cert_cn, "%s", dd_col_text(st, 0));
		snprintf(b->cert_serial, sizeof b->cert_serial, "%s", dd_col_text(st, 1));
	}
	sqlite3_reset(st);
	if (s != SQLITE_ROW && s != SQLITE_DONE)
		return DD_EIO;
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

int dd_authz_bind(struct dd_ctx *c, const char *principal, const char *client_id, struct dd_authz_binding *b)
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

int dd_authz_policy_names(struct dd_ctx *c, const char *principal, json_t *names)
{
	return dd__effective_policy_names(c, principal, NULL, names);
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

int dd_authz_load(struct dd_ctx *c, const char *principal, const char *client_id, struct dd_authz **out)
{
	struct dd_authz *a = calloc(1, sizeof *a);
	json_t *names = json_array();
	if (!a || !names) {
		free(a);
		json_decref(names);
		return DD_ENOMEM;
	}
	int rc = dd_authz_policy_names(c, principal, names);
	size_t n = json_array_size(names);
	if (!rc) {
		a->pols = calloc(n ? n : 1, sizeof *a->pols);
		if (!a->pols)
			rc = DD_ENOMEM;
	}
	for (size_t i = 0; !rc && i < n; i++) {
		char *doc = dd__policy_default_doc(c, json_string_value(json_array_get(names, i)));
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
	json_decref(names);
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

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Dispatch: health → authentication → service model → operation → handler → encoding.
 * Nothing but GET /health is answered without a valid signature, and /health says only
 * that the process is up. Handler errors are mapped once here to AWS codes and statuses.
 */
#include "server/dd_api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dd/buf.h"
#include "server/dd_awserr.h"
#include "server/dd_sigv4.h"

static const struct dd_handler *const handler_tables[] = {
	dd_registry_handlers,
	dd_cert_handlers,
	dd_audit_handlers,
	dd_mitigation_handlers,
	dd_iam_handlers,
	dd_sns_handlers,
	dd_cognito_handlers,
	dd_broker_handlers,
	NULL,
};

static const struct dd_raw_route *const raw_tables[] = {
	dd_registry_raw_routes,
	dd_cert_raw_routes,
	dd_audit_raw_routes,
	NULL,
};

void dd_api_request_id(char out[37])
{
	unsigned char r[16];
	if (dd_random_bytes(r, sizeof r))
		memset(r, 0x5a, sizeof r);
	r[6] = (unsigned char)((r[6] & 0x0f) | 0x40);
	r[8] = (unsigned char)((r[8] & 0x3f) | 0x80);
	char hex[33];
	dd_hex_encode(r, 16, hex);
	snprintf(out, 37, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12, hex + 16, hex + 20);
}

static void set_body(struct dd_http_response *resp, char *body)
{
	resp->body = body;
	resp->body_len = body ? strlen(body) : 0;
}

void dd_api_error_response(enum dd_protocol proto, int status, const char *code, const char *msg,
			   struct dd_http_response *resp)
{
	resp->status = status;
	resp->error_type = code;
	if (proto == DD_PROTO_QUERY) {
		struct dd_buf b;
		dd_buf_init(&b, 0);
		dd_buf_puts(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ErrorResponse><Error><Type>");
		dd_buf_puts(&b, status >= 500 ? "Receiver" : "Sender");
		dd_buf_puts(&b, "</Type><Code>");
		dd_buf_xml_escape(&b, code);
		dd_buf_puts(&b, "</Code><Message>");
		dd_buf_xml_escape(&b, msg);
		dd_buf_puts(&b, "</Message></Error><RequestId>");
		dd_buf_puts(&b, resp->request_id);
		dd_buf_puts(&b, "</RequestId></ErrorResponse>");
		resp->content_type = "text/xml";
		set_body(resp, dd_buf_take(&b));
		return;
	}
	json_t *o = json_object();
	if (proto == DD_PROTO_JSON)
		json_object_set_new(o, "__type", json_string(code));
	json_object_set_new(o, "message", json_string(msg));
	resp->content_type = proto == DD_PROTO_JSON ? "application/x-amz-json-1.1" : "application/json";
	set_body(resp, json_dumps(o, JSON_COMPACT));
	json_decref(o);
}

static void error_from_ctx(enum dd_protocol proto, struct dd_ctx *c, struct dd_http_response *resp)
{
	const char *code = c->err_code ? c->err_code : dd_awserr_default_code(c->err, proto);
	if (!c->err_msg[0])
		snprintf(c->err_msg, sizeof c->err_msg, "%s", dd_strerror(c->err));
	if (c->err == DD_EIO || c->err == DD_ENOMEM)
		dd_log_error("request %s failed: %s", c->request_id, c->err_msg);
	dd_api_error_response(proto, dd_awserr_http_status(code), code, c->err_msg, resp);
}

static dd_handler_fn find_handler(const char *service, const char *op)
{
	for (int t = 0; handler_tables[t]; t++)
		for (const struct dd_handler *h = handler_tables[t]; h->service; h++)
			if (strcmp(h->service, service) == 0 && strcmp(h->op, op) == 0)
				return h->fn;
	return NULL;
}

static enum dd_protocol guess_protocol(const struct dd_http_request *req)
{
	if (req->header(req->ud, "x-amz-target"))
		return DD_PROTO_JSON;
	const char *ct = req->header(req->ud, "content-type");
	if (ct && strncmp(ct, "application/x-www-form-urlencoded", 33) == 0)
		return DD_PROTO_QUERY;
	return DD_PROTO_REST_JSON;
}

/* Splits an x-www-form-urlencoded body into decoded pairs. */
static int parse_form(const unsigned char *body, size_t len, struct dd_kv **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	size_t cap = 0;
	size_t i = 0;
	while (i < len) {
		size_t j = i;
		while (j < len && body[j] != '&')
			j++;
		if (j > i) {
			const char *p = (const char *)body + i;
			const char *eq = memchr(p, '=', j - i);
			size_t kl = eq ? (size_t)(eq - p) : j - i;
			if (*n >= 10000)
				return DD_ELIMIT;
			if (*n == cap) {
				cap = cap ? cap * 2 : 32;
				struct dd_kv *nk = realloc(*out, cap * sizeof *nk);
				if (!nk)
					return DD_ENOMEM;
				*out = nk;
			}
			char *k = dd_uri_decode(p, kl, true);
			char *v = eq ? dd_uri_decode(eq + 1, (size_t)((const char *)body + j - eq - 1), true) : strdup("");
			if (!k || !v) {
				free(k);
				free(v);
				return DD_EINVAL;
			}
			(*out)[*n].key = k;
			(*out)[*n].value = v;
			(*n)++;
		}
		i = j + 1;
	}
	return 0;
}

static void free_kv(struct dd_kv *kv, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(kv[i].key);
		free(kv[i].value);
	}
	free(kv);
}

static int64_t wall_clock(void) { return (int64_t)time(NULL); }

static void run_handler(struct dd_api *api, dd_handler_fn fn, struct dd_ctx *c, json_t *input,
			enum dd_protocol proto, const struct dd_model *m, const struct dd_model_op *op,
			struct dd_http_response *resp)
{
	json_t *out = NULL;
	int rc = fn(c, input, &out);
	if (c->db && dd_db_in_tx(c->db)) {
		dd_log_error("handler %s left a transaction open; rolled back", op ? dd_model_op_name(op) : "?");
		dd_db_rollback(c->db);
		if (!rc) {
			json_decref(out);
			out = NULL;
			rc = dd_fail(c, DD_EIO, NULL, "internal error");
		}
	}
	if (rc) {
		if (!c->err)
			c->err = rc;
		json_decref(out);
		error_from_ctx(proto, c, resp);
		return;
	}
	if (proto == DD_PROTO_QUERY) {
		struct dd_buf b;
		dd_buf_init(&b, 0);
		dd_model_xml_response(m, op, out, c->request_id, &b);
		resp->status = 200;
		resp->content_type = "text/xml";
		set_body(resp, dd_buf_take(&b));
	} else {
		json_t *o = out ? out : json_object();
		resp->status = 200;
		resp->content_type = proto == DD_PROTO_JSON ? "application/x-amz-json-1.1" : "application/json";
		set_body(resp, json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(17)));
		json_decref(o);
		out = NULL;
	}
	json_decref(out);
	(void)api;
}

void dd_api_handle(struct dd_api *api, const struct dd_http_request *req, struct dd_http_response *resp)
{
	memset(resp, 0, sizeof *resp);
	dd_api_request_id(resp->request_id);
	enum dd_protocol proto = guess_protocol(req);
	char err[1024];

	if (strcmp(req->raw_path, "/health") == 0 && strcmp(req->method, "GET") == 0) {
		resp->status = 200;
		resp->content_type = "application/json";
		set_body(resp, strdup("{\"status\":\"ok\"}"));
		return;
	}

	if (strcmp(req->method, "GET") == 0) {
		for (const struct dd_public_route *r = dd_sns_public_routes; r->path; r++) {
			if (strcmp(r->path, req->raw_path) != 0)
				continue;
			const char *ctype = "text/plain";
			char *body = NULL;
			int status = 500;
			r->fn(api->svc, req->query, req->nquery, &status, &ctype, &body);
			resp->status = status;
			resp->content_type = ctype;
			set_body(resp, body);
			return;
		}
	}

	const char *authz = req->header(req->ud, "authorization");
	if (!authz) {
		dd_api_error_response(proto, 403, "MissingAuthenticationTokenException",
				      "Missing Authentication Token", resp);
		return;
	}
	struct dd_sigv4_auth auth;
	if (dd_sigv4_parse(authz, &auth, err, sizeof err)) {
		dd_api_error_response(proto, 403, "IncompleteSignatureException", err, resp);
		return;
	}
	/* Older SDK models (e.g. aws CLI 2.9) sign IoT requests as "execute-api". */
	const char *service = strcmp(auth.service, "execute-api") == 0 ? "iot" : auth.service;
	const struct dd_model *m = dd_model_get(service);
	if (m)
		proto = dd_model_protocol(m);
	const struct dd_cred *cred = dd_creds_find(api->creds, auth.access_key);
	if (!cred) {
		dd_api_error_response(proto, 403, "UnrecognizedClientException",
				      "The security token included in the request is invalid.", resp);
		return;
	}
	struct dd_sigv4_request sreq = {
		.method = req->method, .raw_path = req->raw_path, .query = req->query,
		.nquery = req->nquery, .header = req->header, .ud = req->ud,
		.body = req->body, .body_len = req->body_len,
	};
	int64_t now = api->clock_s ? api->clock_s() : wall_clock();
	if (dd_sigv4_verify(&auth, cred->secret, &sreq, now, err, sizeof err)) {
		dd_api_error_response(proto, 403, "InvalidSignatureException", err, resp);
		return;
	}
	if (!m) {
		snprintf(err, sizeof err, "This endpoint does not serve the service '%s'", service);
		dd_api_error_response(proto, 400, "UnknownOperationException", err, resp);
		return;
	}

	struct dd_ctx c = {
		.svc = api->svc, .account = cred->account, .region = auth.region,
		.request_id = resp->request_id, .now_ms = dd_now_ms(),
	};
	c.db = dd_store_db(api->svc->store);
	if (!c.db) {
		dd_api_error_response(proto, 500, dd_awserr_default_code(DD_EIO, proto),
				      "The store is unavailable", resp);
		return;
	}

	json_t *input = NULL;
	const struct dd_model_op *op = NULL;
	if (proto == DD_PROTO_REST_JSON) {
		/* our extension routes first */
		if (strcmp(service, "iot") == 0) {
			for (int t = 0; raw_tables[t]; t++) {
				for (const struct dd_raw_route *r = raw_tables[t]; r->method; r++) {
					if (strcmp(r->method, req->method) || strcmp(r->path, req->raw_path))
						continue;
					json_t *out = NULL;
					int rc = r->fn(&c, (const char *)req->body, req->body_len, &out);
					if (rc) {
						if (!c.err)
							c.err = rc;
						json_decref(out);
						error_from_ctx(proto, &c, resp);
					} else {
						resp->status = 200;
						resp->content_type = "application/json";
						json_t *o = out ? out : json_object();
						set_body(resp, json_dumps(o, JSON_COMPACT));
						json_decref(o);
					}
					if (dd_db_in_tx(c.db))
						dd_db_rollback(c.db);
					return;
				}
			}
		}
		json_t *labels = json_object();
		bool mismatch = false;
		op = dd_model_route(m, req->method, req->raw_path, labels, &mismatch);
		if (!op) {
			json_decref(labels);
			if (mismatch)
				dd_api_error_response(proto, 405, "MethodNotAllowedException",
						      "The requested method is not allowed on this resource", resp);
			else
				dd_api_error_response(proto, 404, "ResourceNotFoundException",
						      "No operation matches the requested path", resp);
			return;
		}
		json_t *body = NULL;
		if (req->body_len > 0) {
			json_error_t je;
			body = json_loadb((const char *)req->body, req->body_len, JSON_REJECT_DUPLICATES, &je);
			if (!body) {
				json_decref(labels);
				snprintf(err, sizeof err, "Malformed JSON body at line %d, column %d: %s", je.line,
					 je.column, je.text);
				dd_api_error_response(proto, 400, "InvalidRequestException", err, resp);
				return;
			}
		}
		int rc = dd_model_bind_rest(op, labels, req->query, req->nquery, req->header, req->ud, body,
					    &input, err, sizeof err);
		json_decref(labels);
		json_decref(body);
		if (rc) {
			dd_api_error_response(proto, 400, "InvalidRequestException", err, resp);
			return;
		}
	} else if (proto == DD_PROTO_QUERY) {
		struct dd_kv *form = NULL;
		size_t nform = 0;
		int rc = parse_form(req->body, req->body_len, &form, &nform);
		if (rc) {
			free_kv(form, nform);
			dd_api_error_response(proto, 400, "MalformedQueryString", "The form body could not be decoded", resp);
			return;
		}
		/* awsQuery also accepts the parameters in the URL query */
		const char *action = NULL;
		for (size_t i = 0; i < nform; i++)
			if (strcmp(form[i].key, "Action") == 0)
				action = form[i].value;
		for (size_t i = 0; !action && i < req->nquery; i++)
			if (strcmp(req->query[i].key, "Action") == 0)
				action = req->query[i].value;
		if (!action) {
			free_kv(form, nform);
			dd_api_error_response(proto, 400, "MissingAction", "Missing Action", resp);
			return;
		}
		op = dd_model_op_find(m, action);
		if (!op || !find_handler(service, action)) {
			free_kv(form, nform);
			snprintf(err, sizeof err, "Could not find operation %.100s for version %s", action,
				 "of this service");
			dd_api_error_response(proto, 400, "InvalidAction", err, resp);
			return;
		}
		rc = dd_model_bind_query(op, form, nform, &input, err, sizeof err);
		free_kv(form, nform);
		if (rc) {
			dd_api_error_response(proto, 400, "ValidationError", err, resp);
			return;
		}
	} else {
		const char *target = req->header(req->ud, "x-amz-target");
		const char *prefix = dd_model_target_prefix(m);
		size_t pl = prefix ? strlen(prefix) : 0;
		if (!target || !prefix || strncmp(target, prefix, pl) != 0 || target[pl] != '.') {
			dd_api_error_response(proto, 400, "UnknownOperationException", "Missing or unknown X-Amz-Target", resp);
			return;
		}
		op = dd_model_op_find(m, target + pl + 1);
		if (!op) {
			dd_api_error_response(proto, 400, "UnknownOperationException", "Unknown operation", resp);
			return;
		}
		json_error_t je;
		input = req->body_len ? json_loadb((const char *)req->body, req->body_len, JSON_REJECT_DUPLICATES, &je)
				      : json_object();
		if (!input || !json_is_object(input)) {
			json_decref(input);
			dd_api_error_response(proto, 400, "SerializationException", "The request body is not a JSON object", resp);
			return;
		}
		if (dd_model_validate_input(op, input, err, sizeof err)) {
			json_decref(input);
			dd_api_error_response(proto, 400, "InvalidParameterException", err, resp);
			return;
		}
	}

	dd_handler_fn fn = find_handler(service, dd_model_op_name(op));
	if (!fn) {
		json_decref(input);
		snprintf(err, sizeof err, "The operation %s is not implemented by this server", dd_model_op_name(op));
		dd_api_error_response(proto, 501, "NotImplementedException", err, resp);
		return;
	}
	run_handler(api, fn, &c, input, proto, m, op, resp);
	json_decref(input);
}

int dd_api_call(struct dd_service *svc, const char *account, const char *region, const char *service,
		const char *op, json_t *in, json_t **out, char *err, size_t errlen)
{
	*out = NULL;
	const struct dd_model *m = dd_model_get(service);
	const struct dd_model_op *mop = m ? dd_model_op_find(m, op) : NULL;
	dd_handler_fn fn = find_handler(service, op);
	if (!mop || !fn) {
		snprintf(err, errlen, "NotImplemented: %s %s is not served", service, op);
		return DD_EUNSUPPORTED;
	}
	char verr[1024];
	if (dd_model_validate_input(mop, in, verr, sizeof verr)) {
		snprintf(err, errlen, "InvalidRequestException: %s", verr);
		return DD_EINVAL;
	}
	char rid[37];
	dd_api_request_id(rid);
	struct dd_ctx c = { .svc = svc, .db = dd_store_db(svc->store), .account = account, .region = region,
			    .request_id = rid, .now_ms = dd_now_ms() };
	if (!c.db) {
		snprintf(err, errlen, "InternalFailure: the store is unavailable");
		return DD_EIO;
	}
	int rc = fn(&c, in, out);
	if (dd_db_in_tx(c.db))
		dd_db_rollback(c.db);
	if (rc) {
		json_decref(*out);
		*out = NULL;
		snprintf(err, errlen, "%s: %s", c.err_code ? c.err_code : dd_awserr_default_code(c.err ? c.err : rc, dd_model_protocol(m)),
			 c.err_msg);
		return rc;
	}
	return 0;
}

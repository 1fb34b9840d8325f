/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Dispatch: unsigned routes → authentication → service model → operation → handler →
 * encoding. Only these are answered without a valid signature: GET /health (which says
 * only that the process is up), GET /metrics (its own bearer token: dd_api_metrics.c), the SNS confirmation and signing-certificate links, and
 * the Cognito identity operations AWS itself serves unsigned (their account is the one
 * owning the identity pool named in the request). Authentication runs in two steps: from
 * the headers alone before the HTTP layer reads a body (dd_api_preauth: the key, its
 * account, the date, the signed headers), whose decision the HTTP layer keeps for the
 * request, then the signature over the whole request. IAM users' keys are cached per
 * thread while the IAM generation is current. /console/ is the web console's, with its own sign-in and sessions
 * (dd_console.c). Authentication errors use each protocol's AWS code and status; handler
 * errors are mapped once here to AWS codes and statuses.
 */
#include "server/dd_api.h"
#include "server/dd_api_int.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "dd/buf.h"
#include "dd/cognito.h"
#include "dd/iam.h"
#include "server/dd_authz.h"
#include "server/dd_awserr.h"
#include "server/dd_console.h"
#include "server/dd_json_write.h"
#include "server/dd_sigv4.h"

static const struct dd_handler *const handler_tables[] = {
	dd_iot_certs_handlers,
	dd_iot_mitigation_handlers,
	dd_iam_handlers,
	dd_iam_users_handlers,
	dd_sns_handlers,
	dd_cognito_handlers,
	dd_iot_policies_handlers,
	dd_iot_role_aliases_handlers,
	dd_iot_logging_handlers,
	dd_iot_tags_handlers,
	dd_iot_endpoint_handlers,
	dd_iot_rules_handlers,
	dd_iot_domains_handlers,
	dd_iot_jobs_handlers,
	dd_iot_broker_handlers,
	dd_iot_things_handlers,
	dd_iot_groups_handlers,
	dd_iot_types_handlers,
	dd_iot_billing_handlers,
	dd_iot_indexing_handlers,
	dd_iot_principals_handlers,
	dd_iot_audit_handlers,
	NULL,
};

static const struct dd_raw_route *const raw_tables[] = {
	dd_iot_certs_raw_routes,
	dd_iot_ingest_raw_routes,
	dd_iot_audit_raw_routes,
	NULL,
};

/* Request ids are UUID-shaped and unique, not secrets: a per-thread generator
 * (xoshiro256**) seeded once from the system's random source, instead of a call into the
 * shared DRBG (locks) for each one. */
static _Thread_local uint64_t rid_state[4];
static _Thread_local bool rid_seeded;

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static uint64_t rid_next(void)
{
	uint64_t *st = rid_state;
	uint64_t r = rotl(st[1] * 5, 7) * 9, t = st[1] << 17;
	st[2] ^= st[0];
	st[3] ^= st[1];
	st[1] ^= st[2];
	st[0] ^= st[3];
	st[2] ^= t;
	st[3] = rotl(st[3], 45);
	return r;
}

void dd_api_request_id(char out[37])
{
	if (!rid_seeded) {
		if (dd_random_bytes(rid_state, sizeof rid_state))
			rid_state[0] = (uint64_t)time(NULL) ^ (uint64_t)(uintptr_t)&rid_state;
		rid_state[1] |= 1; /* never the all-zero state */
		rid_seeded = true;
	}
	unsigned char r[16];
	uint64_t a = rid_next(), b = rid_next();
	memcpy(r, &a, 8);
	memcpy(r + 8, &b, 8);
	r[6] = (unsigned char)((r[6] & 0x0f) | 0x40);
	r[8] = (unsigned char)((r[8] & 0x3f) | 0x80);
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;
	for (int i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		out[o++] = hex[r[i] >> 4];
		out[o++] = hex[r[i] & 15];
	}
	out[o] = '\0';
}

static void set_body(struct dd_http_response *resp, char *body)
{
	resp->body = body;
	resp->body_len = body ? strlen(body) : 0;
}

/* o's compact JSON text as the body (an empty body when it cannot be written) */
static void set_json_body(struct dd_http_response *resp, const json_t *o)
{
	size_t len = 0;
	resp->body = dd_json_write(o, &len);
	resp->body_len = resp->body ? len : 0;
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
	set_json_body(resp, o);
	json_decref(o);
}

static void error_from_ctx(enum dd_protocol proto, struct dd_ctx *c, struct dd_http_response *resp)
{
	const char *code = c->err_code ? c->err_code : dd_awserr_default_code(c->err, proto);
	if (!c->err_msg[0])
		snprintf(c->err_msg, sizeof c->err_msg, "%s", dd_strerror(c->err));
	if (c->err == DD_EIO || c->err == DD_ENOMEM)
		dd_log_error("request %s failed: %s", c->request_id, c->err_msg);
	dd_api_error_response(proto, dd_awserr_http_status_for(code, proto), code, c->err_msg, resp);
	if (proto == DD_PROTO_REST_JSON && c->err_resource_id[0]) {
		/* ResourceAlreadyExistsException names the existing resource */
		json_t *o = json_pack("{s:s, s:s, s:s}", "message", c->err_msg, "resourceId", c->err_resource_id,
				      "resourceArn", c->err_resource_arn);
		size_t len = 0;
		char *body = o ? dd_json_write(o, &len) : NULL;
		json_decref(o);
		if (body) {
			free(resp->body);
			resp->body = body;
			resp->body_len = len;
		}
	}
}

/* Every handler of every table, sorted by service and operation (when two name the same
 * operation, only the first in table order, the one a scan of the tables would find), built
 * once: a request's handler is found by binary search instead of comparing its name with
 * some 300 entries. */
static struct {
	const struct dd_handler **by_name;
	size_t n;
} handler_index;
static pthread_once_t handler_index_once = PTHREAD_ONCE_INIT;

static int handler_cmp(const void *a, const void *b)
{
	const struct dd_handler *x = *(const struct dd_handler *const *)a, *y = *(const struct dd_handler *const *)b;
	int c = strcmp(x->service, y->service);
	return c ? c : strcmp(x->op, y->op);
}

static void handler_index_build(void)
{
	size_t n = 0;
	for (int t = 0; handler_tables[t]; t++)
		for (const struct dd_handler *h = handler_tables[t]; h->service; h++)
			n++;
	const struct dd_handler **v = malloc((n ? n : 1) * sizeof *v);
	if (!v)
		return; /* find_handler falls back to the scan */
	size_t k = 0;
	for (int t = 0; handler_tables[t]; t++)
		for (const struct dd_handler *h = handler_tables[t]; h->service; h++) {
			/* a later duplicate of a name already taken is left out: the scan never reached it */
			bool seen = false;
			for (size_t i = 0; i < k && !seen; i++)
				seen = handler_cmp(&v[i], &h) == 0;
			if (!seen)
				v[k++] = h;
		}
	qsort(v, k, sizeof *v, handler_cmp);
	handler_index.by_name = v;
	handler_index.n = k;
}

static dd_handler_fn find_handler(const char *service, const char *op)
{
	pthread_once(&handler_index_once, handler_index_build);
	if (!handler_index.by_name) {
		for (int t = 0; handler_tables[t]; t++)
			for (const struct dd_handler *h = handler_tables[t]; h->service; h++)
				if (strcmp(h->service, service) == 0 && strcmp(h->op, op) == 0)
					return h->fn;
		return NULL;
	}
	struct dd_handler key = { .service = service, .op = op };
	const struct dd_handler *kp = &key;
	const struct dd_handler **hit = bsearch(&kp, handler_index.by_name, handler_index.n, sizeof kp, handler_cmp);
	return hit ? (*hit)->fn : NULL;
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
		set_json_body(resp, o);
		json_decref(o);
		out = NULL;
	}
	json_decref(out);
	(void)api;
}

enum auth_fail { AF_MISSING, AF_INCOMPLETE, AF_UNRECOGNIZED, AF_SIGNATURE };

/* AWS's code and status for each authentication failure: restJson1 (iot) answers 403,
 * awsJson1_1 (cognito-identity) 400 with the same codes, awsQuery (iam, sns) its own
 * codes (IAM's and SNS's "Common Errors"). */
static void auth_error(enum dd_protocol proto, enum auth_fail f, const char *msg, struct dd_http_response *resp)
{
	static const struct {
		const char *code, *query_code;
		int query_status;
	} t[] = {
		[AF_MISSING] = { "MissingAuthenticationTokenException", "MissingAuthenticationToken", 403 },
		[AF_INCOMPLETE] = { "IncompleteSignatureException", "IncompleteSignature", 400 },
		[AF_UNRECOGNIZED] = { "UnrecognizedClientException", "InvalidClientTokenId", 403 },
		[AF_SIGNATURE] = { "InvalidSignatureException", "SignatureDoesNotMatch", 403 },
	};
	/* the access log's reason: the message's start is enough */
	snprintf(resp->auth_reason, sizeof resp->auth_reason, "%.*s", (int)sizeof resp->auth_reason - 1, msg);
	if (proto == DD_PROTO_QUERY)
		dd_api_error_response(proto, t[f].query_status, t[f].query_code, msg, resp);
	else
		dd_api_error_response(proto, proto == DD_PROTO_JSON ? 400 : 403, t[f].code, msg, resp);
}

/* The Cognito identity operations whose botocore model says "authtype": "none". */
static const char *const cognito_unsigned_ops[] = {
	"GetId", "GetOpenIdToken", "GetCredentialsForIdentity", "UnlinkIdentity", NULL,
};
#define COGNITO_TARGET "AWSCognitoIdentityService."

enum route_kind { ROUTE_SIGNED, ROUTE_HEALTH, ROUTE_METRICS, ROUTE_PUBLIC, ROUTE_COGNITO_UNSIGNED, ROUTE_CONSOLE };

static bool has_presign_params(const struct dd_http_request *req)
{
	for (size_t i = 0; i < req->nquery; i++)
		if (strncmp(req->query[i].key, "X-Amz-", 6) == 0)
			return true;
	return false;
}

/* Which requests are answered without a signature; the rest must be signed. */
static enum route_kind route_kind(const struct dd_http_request *req, const struct dd_public_route **pub)
{
	if (dd_console_route(req->raw_path))
		return ROUTE_CONSOLE;
	if (strcmp(req->method, "GET") == 0) {
		if (strcmp(req->raw_path, "/health") == 0)
			return ROUTE_HEALTH;
		if (strcmp(req->raw_path, "/metrics") == 0)
			return ROUTE_METRICS;
		for (const struct dd_public_route *r = dd_sns_public_routes; r->path; r++) {
			if (strcmp(r->path, req->raw_path) == 0) {
				*pub = r;
				return ROUTE_PUBLIC;
			}
		}
	}
	const char *target = req->header(req->ud, "x-amz-target");
	if (strcmp(req->method, "POST") == 0 && target && !req->header(req->ud, "authorization") &&
	    !has_presign_params(req) && strncmp(target, COGNITO_TARGET, sizeof COGNITO_TARGET - 1) == 0) {
		const char *op = target + sizeof COGNITO_TARGET - 1;
		for (int i = 0; cognito_unsigned_ops[i]; i++)
			if (strcmp(op, cognito_unsigned_ops[i]) == 0)
				return ROUTE_COGNITO_UNSIGNED;
	}
	return ROUTE_SIGNED;
}

struct auth_result {
	struct dd_sigv4_auth auth;
	const struct dd_cred *cred;  /* a credentials-file key (the account root), or NULL */
	struct dd_iam_key user;      /* else the IAM user's key */
	const char *account, *secret;
	const char *service;
	const struct dd_model *model; /* NULL when the endpoint does not serve the service */
	enum dd_protocol proto;
};

/* Notes the key id (only its [A-Z0-9] characters), the account and the service for the
 * access log. */
static void note_identity(struct dd_http_response *resp, const struct auth_result *ar)
{
	size_t o = 0;
	for (const char *k = ar->auth.access_key; *k && o + 1 < sizeof resp->access_key; k++)
		if ((*k >= 'A' && *k <= 'Z') || (*k >= '0' && *k <= '9'))
			resp->access_key[o++] = *k;
	resp->access_key[o] = '\0';
	if (ar->account)
		dd_str_copy(resp->account, sizeof resp->account, ar->account);
	if (ar->model)
		dd_str_copy(resp->service, sizeof resp->service, ar->service);
}

static void note_op(struct dd_http_response *resp, const char *name)
{
	dd_str_copy(resp->operation, sizeof resp->operation, name);
}

/* IAM users' access keys, cached per thread: a keep-alive client sends many requests with
 * one key, and each used to cost a store lookup (two, before the identity decided from the
 * headers was kept for the request). An entry is valid while the IAM generation it was read at is current; every
 * IAM write bumps it, so a deleted, deactivated or new key is seen by the next request.
 * The generation is read before the store, so a write that lands in between leaves the
 * entry already stale. Not-found answers are cached too (an unknown key stays unknown
 * until an IAM write); store errors are not. */
#define KEY_CACHE_SLOTS 8
struct key_slot {
	uint64_t gen;
	uint64_t tick;
	bool used, found;
	char access_key[129]; /* as struct dd_sigv4_auth's */
	struct dd_iam_key key;
};
static _Thread_local struct key_slot key_cache[KEY_CACHE_SLOTS];
static _Thread_local uint64_t key_tick;

static int iam_key_find(struct dd_api *api, const char *access_key, struct dd_iam_key *out)
{
	uint64_t gen = dd_iam_generation();
	size_t klen = strlen(access_key);
	struct key_slot *victim = &key_cache[0];
	for (int i = 0; i < KEY_CACHE_SLOTS; i++) {
		struct key_slot *k = &key_cache[i];
		if (k->used && k->gen == gen && strcmp(k->access_key, access_key) == 0) {
			k->tick = ++key_tick;
			if (!k->found)
				return DD_ENOTFOUND;
			*out = k->key;
			return 0;
		}
		if (!k->used || k->gen != gen || (victim->used && victim->gen == gen && k->tick < victim->tick))
			victim = k;
	}
	struct dd_db *db = dd_store_db(api->svc->store);
	if (!db)
		return DD_EIO;
	int rc = dd_iam_access_key_find(db, api->svc->iam_secrets, access_key, out);
	if ((rc == 0 || rc == DD_ENOTFOUND) && klen < sizeof victim->access_key) {
		memcpy(victim->access_key, access_key, klen + 1);
		victim->gen = gen;
		victim->found = rc == 0;
		if (rc == 0)
			victim->key = *out;
		victim->used = true;
		victim->tick = ++key_tick;
	}
	return rc;
}

/* Everything that can be decided from the request line, the query and the headers: a
 * well-formed signature (Authorization header or presigned query, not both), no session
 * token (no STS here issues one), a known access key, a fresh date, every signed header
 * present. Returns true, or false with resp filled. */
static bool authenticate_headers(struct dd_api *api, const struct dd_http_request *req, struct auth_result *ar,
				 struct dd_http_response *resp)
{
	char err[1024];
	memset(ar, 0, sizeof *ar);
	ar->proto = guess_protocol(req);
	const char *authz = req->header(req->ud, "authorization");
	int prc = dd_sigv4_parse_presigned(req->query, req->nquery, &ar->auth, err, sizeof err);
	if (prc == 0 && authz) {
		auth_error(ar->proto, AF_INCOMPLETE, "Only one auth mechanism allowed; only the X-Amz-Algorithm query "
			   "parameter or the Authorization header should be specified", resp);
		return false;
	}
	if (prc == DD_EINVAL) {
		auth_error(ar->proto, AF_INCOMPLETE, err, resp);
		return false;
	}
	if (prc) {
		if (!authz) {
			auth_error(ar->proto, AF_MISSING, "Missing Authentication Token", resp);
			return false;
		}
		if (dd_sigv4_parse(authz, &ar->auth, err, sizeof err)) {
			auth_error(ar->proto, AF_INCOMPLETE, err, resp);
			return false;
		}
	}
	/* Older SDK models (e.g. aws CLI 2.9) sign IoT requests as "execute-api". */
	ar->service = strcmp(ar->auth.service, "execute-api") == 0 ? "iot" : ar->auth.service;
	ar->model = dd_model_get(ar->service);
	if (ar->model)
		ar->proto = dd_model_protocol(ar->model);
	bool token = req->header(req->ud, "x-amz-security-token") != NULL;
	for (size_t i = 0; !token && i < req->nquery; i++)
		token = strcmp(req->query[i].key, "X-Amz-Security-Token") == 0;
	ar->cred = token ? NULL : dd_creds_find(api->creds, ar->auth.access_key);
	if (ar->cred) {
		ar->account = ar->cred->account;
		ar->secret = ar->cred->secret;
	} else if (!token) {
		/* an IAM user's key: unknown, deleted and inactive keys get the same answer, as in AWS */
		if (iam_key_find(api, ar->auth.access_key, &ar->user) == 0 && ar->user.active) {
			ar->account = ar->user.account;
			ar->secret = ar->user.secret;
		}
	}
	note_identity(resp, ar);
	if (!ar->secret) {
		auth_error(ar->proto, AF_UNRECOGNIZED, "The security token included in the request is invalid.", resp);
		return false;
	}
	struct dd_sigv4_request sreq = {
		.method = req->method, .raw_path = req->raw_path, .query = req->query,
		.nquery = req->nquery, .header = req->header, .ud = req->ud,
	};
	int64_t now = api->clock_s ? api->clock_s() : wall_clock();
	int rc = dd_sigv4_check(&ar->auth, &sreq, now, err, sizeof err);
	if (rc) {
		auth_error(ar->proto, rc == DD_EINVAL ? AF_INCOMPLETE : AF_SIGNATURE, err, resp);
		return false;
	}
	return true;
}

struct dd_api_auth {
	struct auth_result ar; /* its pointers point into itself or the credentials: never copied */
};

void dd_api_auth_free(struct dd_api_auth *a)
{
	if (a)
		OPENSSL_cleanse(a, sizeof *a); /* the secret */
	free(a);
}

bool dd_api_preauth(struct dd_api *api, const struct dd_http_request *req, struct dd_http_response *resp,
		    size_t *max_body, struct dd_api_auth **auth)
{
	memset(resp, 0, sizeof *resp);
	if (auth)
		*auth = NULL;
	const struct dd_public_route *pub = NULL;
	if (route_kind(req, &pub) != ROUTE_SIGNED) {
		*max_body = DD_API_UNSIGNED_MAX_BODY;
		return true;
	}
	struct dd_api_auth *a = malloc(sizeof *a);
	struct auth_result local;
	struct auth_result *ar = a ? &a->ar : &local;
	dd_api_request_id(resp->request_id);
	if (!authenticate_headers(api, req, ar, resp)) {
		dd_api_auth_free(a);
		return false;
	}
	*max_body = api->svc->max_body;
	if (auth)
		*auth = a;
	else
		dd_api_auth_free(a);
	return true;
}

/* A Cognito identity operation AWS serves unsigned: the account and region are those of
 * the pool the request names. This server keeps no identities (GetId issues ids, nothing
 * issues credentials or tokens for them), so an IdentityId names nothing it knows. */
static void handle_cognito_unsigned(struct dd_api *api, const struct dd_http_request *req,
				    struct dd_http_response *resp)
{
	enum dd_protocol proto = DD_PROTO_JSON;
	const char *opname = req->header(req->ud, "x-amz-target") + sizeof COGNITO_TARGET - 1;
	snprintf(resp->service, sizeof resp->service, "cognito-identity");
	char err[512];
	json_error_t je;
	json_t *input = req->body_len ? json_loadb((const char *)req->body, req->body_len, JSON_REJECT_DUPLICATES, &je)
				      : json_object();
	if (!input || !json_is_object(input)) {
		json_decref(input);
		dd_api_error_response(proto, 400, "SerializationException", "The request body is not a JSON object", resp);
		return;
	}
	const struct dd_model *m = dd_model_get("cognito-identity");
	const struct dd_model_op *op = m ? dd_model_op_find(m, opname) : NULL;
	dd_handler_fn fn = op ? find_handler("cognito-identity", opname) : NULL;
	if (op)
		note_op(resp, dd_model_op_name(op));
	if (op && dd_model_validate_input(op, input, err, sizeof err)) {
		json_decref(input);
		dd_api_error_response(proto, 400, "InvalidParameterException", err, resp);
		return;
	}
	const char *pool = json_string_value(json_object_get(input, "IdentityPoolId"));
	const char *identity = json_string_value(json_object_get(input, "IdentityId"));
	char account[13], region[64];
	struct dd_db *db = dd_store_db(api->svc->store);
	int rc = DD_ENOTFOUND;
	if (!db) {
		rc = DD_EIO;
	} else if (pool) {
		rc = dd_cognito_pool_owner(db, pool, account, region);
		if (rc == DD_ENOTFOUND)
			snprintf(err, sizeof err, "IdentityPool '%.100s' not found.", pool);
	} else if (identity) {
		snprintf(err, sizeof err, "Identity '%.100s' not found.", identity);
	} else {
		rc = DD_EINVAL;
		snprintf(err, sizeof err, "1 validation error detected: Value null at '%s' failed to satisfy constraint: "
			 "Member must not be null", strcmp(opname, "GetId") == 0 ? "identityPoolId" : "identityId");
	}
	if (rc) {
		json_decref(input);
		if (rc == DD_EIO)
			dd_api_error_response(proto, 500, "InternalErrorException", "The store is unavailable", resp);
		else if (rc == DD_EINVAL)
			dd_api_error_response(proto, 400, "InvalidParameterException", err, resp);
		else
			dd_api_error_response(proto, 400, "ResourceNotFoundException", err, resp);
		return;
	}
	if (!fn) {
		json_decref(input);
		snprintf(err, sizeof err, "The operation %s is not implemented by this server", opname);
		dd_api_error_response(proto, 501, "NotImplementedException", err, resp);
		return;
	}
	struct dd_ctx c = {
		.svc = api->svc, .db = db, .account = account, .region = region,
		.request_id = resp->request_id, .now_ms = dd_time_now_ms(),
	};
	run_handler(api, fn, &c, input, proto, m, op, resp);
	json_decref(input);
}

void dd_api_handle(struct dd_api *api, const struct dd_http_request *req, struct dd_http_response *resp)
{
	memset(resp, 0, sizeof *resp);
	dd_api_request_id(resp->request_id);
	enum dd_protocol proto = guess_protocol(req);
	char err[1024];

	const struct dd_public_route *pub = NULL;
	switch (route_kind(req, &pub)) {
	case ROUTE_HEALTH:
		note_op(resp, "health");
		resp->status = 200;
		resp->content_type = "application/json";
		set_body(resp, strdup("{\"status\":\"ok\"}"));
		return;
	case ROUTE_METRICS:
		dd_api_metrics(api, req, resp);
		return;
	case ROUTE_PUBLIC: {
		const char *ctype = "text/plain";
		char *body = NULL;
		int status = 500;
		note_op(resp, pub->path);
		pub->fn(api->svc, req->query, req->nquery, &status, &ctype, &body);
		resp->status = status;
		resp->content_type = ctype;
		set_body(resp, body);
		return;
	}
	case ROUTE_COGNITO_UNSIGNED:
		handle_cognito_unsigned(api, req, resp);
		return;
	case ROUTE_CONSOLE:
		dd_console_handle(api, req, resp);
		return;
	case ROUTE_SIGNED:
		break;
	}
	if (dd_console_route(req->raw_path)) {
		dd_console_handle(api, req, resp);
		return;
	}

	/* the headers' decision of dd_api_preauth when the HTTP layer kept it, else made here */
	struct auth_result local;
	const struct auth_result *arp = req->auth ? &req->auth->ar : &local;
	if (req->auth)
		note_identity(resp, arp);
	else if (!authenticate_headers(api, req, &local, resp))
		return;
	const struct auth_result ar = *arp; /* a shallow copy: its pointers stay valid */
	const char *service = ar.service;
	const struct dd_model *m = ar.model;
	proto = ar.proto;
	struct dd_sigv4_request sreq = {
		.method = req->method, .raw_path = req->raw_path, .query = req->query,
		.nquery = req->nquery, .header = req->header, .ud = req->ud,
		.body = req->body, .body_len = req->body_len,
	};
	int64_t now = api->clock_s ? api->clock_s() : wall_clock();
	int vrc = dd_sigv4_verify(&ar.auth, ar.secret, &sreq, now, err, sizeof err);
	if (vrc) {
		auth_error(proto, vrc == DD_EINVAL ? AF_INCOMPLETE : AF_SIGNATURE, err, resp);
		return;
	}
	if (!m) {
		snprintf(err, sizeof err, "This endpoint does not serve the service '%s'", service);
		dd_api_error_response(proto, 400, "UnknownOperationException", err, resp);
		return;
	}

	struct dd_ctx c = {
		.svc = api->svc, .account = ar.account, .region = ar.auth.region,
		.request_id = resp->request_id, .now_ms = dd_time_now_ms(),
		.caller_user = ar.cred ? NULL : ar.user.user, .caller_user_id = ar.cred ? NULL : ar.user.user_id,
	};
	if (dd_ctx_set_account_region(&c)) {
		dd_api_error_response(proto, 400, "InvalidSignatureException",
				      "The credential scope does not name a valid region", resp);
		return;
	}
	c.db = dd_store_db(api->svc->store);
	if (!c.db) {
		dd_api_error_response(proto, 500, dd_awserr_default_code(DD_EIO, proto),
				      "The store is unavailable", resp);
		return;
	}

	json_t *input = NULL;
	const struct dd_model_op *op = NULL;
	if (proto == DD_PROTO_REST_JSON) {
		/* routed by the path the signature covers: dot segments and '//' removed */
		char path[8192];
		if (dd_sigv4_normalize_path(req->raw_path, path, sizeof path)) {
			dd_api_error_response(proto, 400, "InvalidRequestException", "The request path is too long", resp);
			return;
		}
		/* our extension routes first */
		if (strcmp(service, "iot") == 0 && !c.caller_user) {
			/* our extension routes (ingestion, administration): the account root only */
			for (int t = 0; raw_tables[t]; t++) {
				for (const struct dd_raw_route *r = raw_tables[t]; r->method; r++) {
					if (strcmp(r->method, req->method) || strcmp(r->path, path))
						continue;
					json_t *out = NULL;
					note_op(resp, r->path);
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
						set_json_body(resp, o);
						json_decref(o);
					}
					if (dd_db_in_tx(c.db))
						dd_db_rollback(c.db);
					return;
				}
			}
		}
		/* a real IoT operation this server does not serve: say so, by name */
		if (strcmp(service, "iot") == 0) {
			const char *real = dd_model_route_any_iot(req->method, path);
			if (real && (!dd_model_op_find(m, real) || !find_handler(service, real))) {
				snprintf(err, sizeof err, "The operation %s is not supported by this server", real);
				dd_api_error_response(proto, 501, "NotImplementedException", err, resp);
				return;
			}
		}
		json_t *labels = json_object();
		bool mismatch = false;
		op = dd_model_route(m, req->method, path, labels, &mismatch);
		if (op)
			note_op(resp, dd_model_op_name(op));
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
		/* awsQuery also takes its parameters from the URL query (a presigned request carries
		 * them all there), after those of the body; the presigned X-Amz-* are not input */
		if (!rc && req->nquery) {
			struct dd_kv *all = realloc(form, (nform + req->nquery) * sizeof *all);
			if (!all)
				rc = DD_ENOMEM;
			else
				form = all;
			for (size_t i = 0; !rc && i < req->nquery; i++) {
				if (strncmp(req->query[i].key, "X-Amz-", 6) == 0)
					continue;
				form[nform].key = strdup(req->query[i].key);
				form[nform].value = strdup(req->query[i].value);
				nform++;
				if (!form[nform - 1].key || !form[nform - 1].value)
					rc = DD_ENOMEM;
			}
		}
		if (rc) {
			free_kv(form, nform);
			dd_api_error_response(proto, 500, "ServiceFailure", "out of memory", resp);
			return;
		}
		const char *action = NULL;
		for (size_t i = 0; !action && i < nform; i++)
			if (strcmp(form[i].key, "Action") == 0)
				action = form[i].value;
		if (!action) {
			free_kv(form, nform);
			dd_api_error_response(proto, 400, "MissingAction", "Missing Action", resp);
			return;
		}
		op = dd_model_op_find(m, action);
		if (op)
			note_op(resp, dd_model_op_name(op));
		if (!op || !find_handler(service, action)) {
			/* action points into form: the message is built before form is freed, and
			 * only from a name that can be one (anything else is not echoed) */
			bool printable = strlen(action) <= 100;
			for (const char *a = action; printable && *a; a++)
				printable = (*a >= 'A' && *a <= 'Z') || (*a >= 'a' && *a <= 'z') || (*a >= '0' && *a <= '9');
			if (printable && *action)
				snprintf(err, sizeof err, "Could not find operation %s for version %s", action,
					 dd_model_api_version(m));
			else
				snprintf(err, sizeof err, "Could not find the operation named by the Action parameter");
			free_kv(form, nform);
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
		if (op)
			note_op(resp, dd_model_op_name(op));
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
	if (c.caller_user) {
		/* an IAM user: the operation must be allowed by its identity policies */
		struct dd_authz_caller who = { .account = c.account, .user = c.caller_user, .user_id = c.caller_user_id,
					       .source_ip = req->source_ip };
		/* aws:CurrentTime and aws:EpochTime are the service clock's (moved only by --test-clock) */
		int64_t now_ms = c.svc ? dd_service_now_ms(c.svc) : c.now_ms;
		int arc = dd_authz_check(c.db, &who, service, dd_model_op_name(op), input, c.region, now_ms, err, sizeof err);
		if (arc) {
			json_decref(input);
			if (arc != DD_EDENIED)
				dd_api_error_response(proto, 500, dd_awserr_default_code(DD_EIO, proto), err, resp);
			else
				dd_api_error_response(proto, proto == DD_PROTO_JSON ? 400 : 403,
						      dd_api_denied_code(service, proto), err, resp);
			return;
		}
	}
	run_handler(api, fn, &c, input, proto, m, op, resp);
	json_decref(input);
	if (strcmp(service, "iam") == 0 && resp->status == 200)
		dd_iam_generation_bump(); /* any IAM write invalidates the cached policies */
}

const char *dd_api_denied_code(const char *service, enum dd_protocol proto)
{
	/* AWS's codes: SNS says AuthorizationError, IAM and STS AccessDenied */
	if (proto != DD_PROTO_QUERY)
		return "AccessDeniedException";
	return strcmp(service, "sns") == 0 ? "AuthorizationError" : "AccessDenied";
}

static int call(struct dd_service *svc, const struct dd_api_caller *who, const char *region, const char *service,
		const char *op, json_t *in, json_t **out, char *err, size_t errlen);

int dd_api_call(struct dd_service *svc, const char *account, const char *region, const char *service,
		const char *op, json_t *in, json_t **out, char *err, size_t errlen)
{
	struct dd_api_caller root = { .account = account };
	return call(svc, &root, region, service, op, in, out, err, errlen);
}

int dd_api_call_as(struct dd_service *svc, const struct dd_api_caller *caller, const char *region,
		   const char *service, const char *op, json_t *in, json_t **out, char *err, size_t errlen)
{
	return call(svc, caller, region, service, op, in, out, err, errlen);
}

static int call(struct dd_service *svc, const struct dd_api_caller *who, const char *region, const char *service,
		const char *op, json_t *in, json_t **out, char *err, size_t errlen)
{
	const char *account = who->account;
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
			    .request_id = rid, .now_ms = dd_time_now_ms() };
	if (dd_ctx_set_account_region(&c)) {
		snprintf(err, errlen, "InvalidRequest: %s is not a valid region", region ? region : "(null)");
		return DD_EINVAL;
	}
	if (!c.db) {
		snprintf(err, errlen, "InternalFailure: the store is unavailable");
		return DD_EIO;
	}
	if (who->user) {
		/* an IAM user: authorized as its signed request would be */
		struct dd_authz_caller ac = { .account = who->account, .user = who->user, .user_id = who->user_id,
					      .source_ip = who->source_ip };
		char msg[1024];
		int arc = dd_authz_check(c.db, &ac, service, op, in, c.region, dd_service_now_ms(svc), msg, sizeof msg);
		if (arc) {
			snprintf(err, errlen, "%s: %s",
				 arc == DD_EDENIED ? dd_api_denied_code(service, dd_model_protocol(m))
						   : dd_awserr_default_code(DD_EIO, dd_model_protocol(m)), msg);
			return arc;
		}
	}
	int rc = fn(&c, in, out);
	if (dd_db_in_tx(c.db))
		dd_db_rollback(c.db);
	if (strcmp(service, "iam") == 0)
		dd_iam_generation_bump();
	if (rc) {
		json_decref(*out);
		*out = NULL;
		snprintf(err, errlen, "%s: %s", c.err_code ? c.err_code : dd_awserr_default_code(c.err ? c.err : rc, dd_model_protocol(m)),
			 c.err_msg);
		return rc;
	}
	return 0;
}

int dd__api_parse_form(const unsigned char *body, size_t len, struct dd_kv **out, size_t *n)
{
	return parse_form(body, len, out, n);
}

void dd__api_free_kv(struct dd_kv *kv, size_t n) { free_kv(kv, n); }

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libmicrohttpd glue. Paths and query strings are kept raw (a no-op unescape callback) so
 * SigV4 can rebuild the canonical request exactly; query parameters are decoded here. A
 * request body is accumulated up to the service's limit; a larger Content-Length or body
 * is answered 413 with an AWS-style error and never buffered.
 */
#include "server/dd_http.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <stdlib.h>
#include <string.h>

#include "dd/buf.h"

struct dd_http {
	struct MHD_Daemon *d;
	struct dd_api *api;
	uint16_t port;
};

struct req_state {
	struct dd_buf body;
	bool too_large;
	struct dd_kv *query;
	size_t nquery;
	size_t capquery;
	bool bad_query;
};

static size_t no_unescape(void *cls, struct MHD_Connection *c, char *s)
{
	(void)cls;
	(void)c;
	return strlen(s);
}

static const char *get_header(void *ud, const char *name)
{
	return MHD_lookup_connection_value((struct MHD_Connection *)ud, MHD_HEADER_KIND, name);
}

static enum MHD_Result collect_query(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	(void)kind;
	struct req_state *st = cls;
	if (st->nquery >= 1000) {
		st->bad_query = true;
		return MHD_NO;
	}
	if (st->nquery == st->capquery) {
		size_t cap = st->capquery ? st->capquery * 2 : 8;
		struct dd_kv *n = realloc(st->query, cap * sizeof *n);
		if (!n) {
			st->bad_query = true;
			return MHD_NO;
		}
		st->query = n;
		st->capquery = cap;
	}
	char *k = dd_uri_decode(key, strlen(key), false);
	char *v = dd_uri_decode(value ? value : "", value ? strlen(value) : 0, false);
	if (!k || !v) {
		free(k);
		free(v);
		st->bad_query = true;
		return MHD_NO;
	}
	st->query[st->nquery].key = k;
	st->query[st->nquery].value = v;
	st->nquery++;
	return MHD_YES;
}

static void free_state(struct req_state *st)
{
	if (!st)
		return;
	dd_buf_free(&st->body);
	for (size_t i = 0; i < st->nquery; i++) {
		free(st->query[i].key);
		free(st->query[i].value);
	}
	free(st->query);
	free(st);
}

static enum MHD_Result send_response(struct MHD_Connection *conn, struct dd_http_response *r)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(r->body_len, r->body ? r->body : (char *)"",
								    r->body ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
	if (!resp) {
		free(r->body);
		free(r->headers);
		return MHD_NO;
	}
	for (char *p = r->headers, *nl; p && (nl = strchr(p, '\n')); p = nl + 1) {
		*nl = '\0';
		char *colon = strchr(p, ':');
		if (colon) {
			*colon = '\0';
			MHD_add_response_header(resp, p, colon + 1 + (colon[1] == ' '));
		}
	}
	free(r->headers);
	MHD_add_response_header(resp, "Content-Type", r->content_type ? r->content_type : "application/json");
	MHD_add_response_header(resp, "x-amzn-RequestId", r->request_id);
	if (r->error_type)
		MHD_add_response_header(resp, "x-amzn-ErrorType", r->error_type);
	enum MHD_Result ret = MHD_queue_response(conn, (unsigned)r->status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum dd_protocol proto_of(struct MHD_Connection *conn)
{
	if (MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "x-amz-target"))
		return DD_PROTO_JSON;
	const char *ct = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "content-type");
	if (ct && strncmp(ct, "application/x-www-form-urlencoded", 33) == 0)
		return DD_PROTO_QUERY;
	return DD_PROTO_REST_JSON;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *upload_data,
				  size_t *upload_data_size, void **con_cls)
{
	(void)version;
	struct dd_http *h = cls;
	struct req_state *st = *con_cls;
	if (!st) {
		st = calloc(1, sizeof *st);
		if (!st)
			return MHD_NO;
		dd_buf_init(&st->body, h->api->svc->max_body);
		*con_cls = st;
		const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "content-length");
		int64_t n;
		if (cl && dd_parse_int64(cl, 0, INT64_MAX, &n) == 0 && (uint64_t)n > h->api->svc->max_body)
			st->too_large = true;
		return MHD_YES;
	}
	if (*upload_data_size) {
		if (!st->too_large && dd_buf_append(&st->body, upload_data, *upload_data_size))
			st->too_large = true;
		*upload_data_size = 0;
		return MHD_YES;
	}
	struct dd_http_response r;
	memset(&r, 0, sizeof r);
	if (st->too_large) {
		dd_api_request_id(r.request_id);
		char msg[128];
		snprintf(msg, sizeof msg, "Request body is larger than the limit of %zu bytes", h->api->svc->max_body);
		dd_api_error_response(proto_of(conn), 413, "RequestEntityTooLargeException", msg, &r);
		return send_response(conn, &r);
	}
	MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, collect_query, st);
	if (st->bad_query) {
		dd_api_request_id(r.request_id);
		dd_api_error_response(proto_of(conn), 400, "InvalidRequestException",
				      "The query string could not be decoded", &r);
		return send_response(conn, &r);
	}
	struct dd_http_request req = {
		.method = method, .raw_path = url, .query = st->query, .nquery = st->nquery,
		.header = get_header, .ud = conn,
		.body = (const unsigned char *)st->body.data, .body_len = st->body.len,
	};
	dd_api_handle(h->api, &req, &r);
	return send_response(conn, &r);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	(void)conn;
	(void)toe;
	free_state(*con_cls);
	*con_cls = NULL;
}

int dd_http_start(struct dd_api *api, const char *bind_addr, uint16_t port, unsigned threads,
		  struct dd_http **out)
{
	struct dd_http *h = calloc(1, sizeof *h);
	if (!h)
		return DD_ENOMEM;
	h->api = api;
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof ss);
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
	struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
	if (inet_pton(AF_INET, bind_addr, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons(port);
	} else if (inet_pton(AF_INET6, bind_addr, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons(port);
		flags |= MHD_USE_IPv6;
	} else {
		dd_log_error("http: --bind %s is not an IP address", bind_addr);
		free(h);
		return DD_EINVAL;
	}
#if MHD_VERSION >= 0x00095300
	flags |= MHD_USE_EPOLL_LINUX_ONLY;
#endif
	h->d = MHD_start_daemon(flags, port, NULL, NULL, on_request, h,
				MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
				MHD_OPTION_THREAD_POOL_SIZE, threads ? threads : 4,
				MHD_OPTION_UNESCAPE_CALLBACK, no_unescape, NULL,
				MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
				MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)120,
				MHD_OPTION_CONNECTION_LIMIT, (unsigned)1024,
				MHD_OPTION_LISTENING_ADDRESS_REUSE, (unsigned)1,
				MHD_OPTION_END);
	if (!h->d) {
		dd_log_error("http: cannot listen on %s:%u", bind_addr, port);
		free(h);
		return DD_EIO;
	}
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
	h->port = info ? info->port : port;
	*out = h;
	return 0;
}

uint16_t dd_http_port(const struct dd_http *h) { return h->port; }

void dd_http_stop(struct dd_http *h)
{
	if (!h)
		return;
	MHD_stop_daemon(h->d);
	free(h);
}

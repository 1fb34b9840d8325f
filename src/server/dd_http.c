/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libmicrohttpd glue. Paths and query strings are kept raw (a no-op unescape callback) so
 * SigV4 can rebuild the canonical request exactly; query parameters are decoded here, and
 * a header sent twice is seen once with its values joined by ','. Nothing is buffered for
 * a request that its headers already condemn: before the first body byte is read the
 * request must pass dd_api_preauth (signature well formed, key known, date fresh, or an
 * unsigned route) and announce a Content-Length within its limit, else the answer goes
 * out at once and the connection closes. The bytes all bodies in flight may hold are
 * bounded by one budget (a request that would exceed it is answered 503 without being
 * read); a body must arrive within a deadline, a request's headers within the header
 * deadline (a sweeper thread shuts down connections that miss it, however slowly they
 * trickle bytes), and a silent connection is closed after the idle timeout. The listening
 * socket is bound here, without SO_REUSEPORT, so a second server cannot share a port.
 * Every response is written to the access log (info level) and counted in the metrics.
 */
#include "server/dd_http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "dd/buf.h"
#include "dd/metrics.h"

#define MAX_HEADERS 200
#define MAX_QUERY 1000

/* One open connection, as the header sweeper sees it. */
struct conn_track {
	struct conn_track *prev, *next;
	int fd;
	int64_t waiting_since_ms; /* start of the wait for the next request's headers */
	bool in_request;          /* headers received, request not completed */
	bool shut;
};

struct dd_http {
	struct MHD_Daemon *d;
	struct dd_api *api;
	uint16_t port;
	int listen_fd;
	struct dd_http_limits lim;
	atomic_size_t inflight; /* body bytes reserved by requests in flight */
	pthread_mutex_t lock;   /* guards conns and stopping */
	pthread_cond_t wake;
	struct conn_track *conns;
	bool stopping;
	bool sweeper_running;
	pthread_t sweeper;
};

struct hdr {
	const char *name;  /* borrowed from libmicrohttpd, valid for the request */
	const char *value; /* borrowed, or joined (then owned) */
	bool owned;
};

enum req_fail { FAIL_NONE, FAIL_TOO_LARGE, FAIL_BUSY };

struct req_state {
	struct dd_http *h;
	bool started;       /* on_request has seen the headers */
	char *raw_query;    /* the query string as received (owned), NULL when none */
	struct hdr hdrs[MAX_HEADERS];
	size_t nhdrs;
	bool bad_headers;
	struct dd_kv *query;
	size_t nquery;
	size_t capquery;
	bool bad_query;
	struct dd_buf body;
	size_t max_body;
	size_t reserved;    /* bytes of h->inflight this request holds */
	bool length_known;  /* Content-Length given (and reserved in full) */
	int64_t deadline_ms;
	enum req_fail fail;
	struct timespec t0;  /* the request line arrived (access log, metrics) */
	const char *method, *path; /* borrowed from libmicrohttpd for the request */
	struct dd_api_auth *auth;  /* what dd_api_preauth decided from the headers (owned) */
};

void dd_http_limits_default(struct dd_http_limits *l)
{
	l->idle_timeout_s = 30;
	l->header_timeout_s = 30;
	l->body_timeout_s = 120;
	l->max_connections = 1024;
	l->max_per_ip = 128;
	/* libmicrohttpd zeroes a connection's whole pool after each request: 256 KiB cost 12 % of
	 * a small request's CPU; 128 KiB still holds a 10,000-parameter query line */
	l->conn_memory = 128u << 10;
	l->body_budget = 64u << 20;
}

static size_t no_unescape(void *cls, struct MHD_Connection *c, char *s)
{
	(void)cls;
	(void)c;
	return strlen(s);
}

static const char *get_header(void *ud, const char *name)
{
	const struct req_state *st = ud;
	for (size_t i = 0; i < st->nhdrs; i++)
		if (strcasecmp(st->hdrs[i].name, name) == 0)
			return st->hdrs[i].value;
	return NULL;
}

static enum MHD_Result collect_header(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	(void)kind;
	struct req_state *st = cls;
	if (!value)
		value = "";
	for (size_t i = 0; i < st->nhdrs; i++) {
		struct hdr *e = &st->hdrs[i];
		if (strcasecmp(e->name, key) != 0)
			continue;
		size_t a = strlen(e->value), b = strlen(value);
		char *j = malloc(a + b + 2);
		if (!j) {
			st->bad_headers = true;
			return MHD_NO;
		}
		memcpy(j, e->value, a);
		j[a] = ',';
		memcpy(j + a + 1, value, b + 1);
		if (e->owned)
			free((char *)e->value);
		e->value = j;
		e->owned = true;
		return MHD_YES;
	}
	if (st->nhdrs == MAX_HEADERS) {
		st->bad_headers = true;
		return MHD_NO;
	}
	st->hdrs[st->nhdrs].name = key;
	st->hdrs[st->nhdrs].value = value;
	st->hdrs[st->nhdrs].owned = false;
	st->nhdrs++;
	return MHD_YES;
}

static int add_query(struct req_state *st, const char *key, size_t klen, const char *value, size_t vlen)
{
	if (st->nquery >= MAX_QUERY)
		return DD_ELIMIT;
	if (st->nquery == st->capquery) {
		size_t cap = st->capquery ? st->capquery * 2 : 8;
		struct dd_kv *n = realloc(st->query, cap * sizeof *n);
		if (!n)
			return DD_ENOMEM;
		st->query = n;
		st->capquery = cap;
	}
	char *k = dd_uri_decode(key, klen, false);
	char *v = dd_uri_decode(value, vlen, false);
	if (!k || !v) {
		free(k);
		free(v);
		return DD_EINVAL;
	}
	st->query[st->nquery].key = k;
	st->query[st->nquery].value = v;
	st->nquery++;
	return 0;
}

/* Splits and decodes the query string kept by on_uri; false when it cannot be decoded or
 * has more than MAX_QUERY parameters. */
static bool parse_query(struct req_state *st)
{
	const char *p = st->raw_query;
	while (p && *p) {
		const char *amp = strchr(p, '&');
		size_t len = amp ? (size_t)(amp - p) : strlen(p);
		if (len) {
			const char *eq = memchr(p, '=', len);
			size_t kl = eq ? (size_t)(eq - p) : len;
			if (add_query(st, p, kl, eq ? eq + 1 : "", eq ? len - kl - 1 : 0))
				return false;
		}
		p = amp ? amp + 1 : NULL;
	}
	return true;
}

/* Called by libmicrohttpd with the request target before it splits the query into its own
 * pool (where ~2,000 parameters exhaust the connection's memory and the request would get
 * no answer at all): the query is copied here, parsed by parse_query, and cut off for the
 * library. The returned state is the request's con_cls. */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
	(void)conn;
	struct req_state *st = calloc(1, sizeof *st);
	if (!st)
		return NULL;
	st->h = cls;
	clock_gettime(CLOCK_MONOTONIC, &st->t0);
	char *q = strchr(uri, '?');
	if (q) {
		st->raw_query = strdup(q + 1);
		if (!st->raw_query)
			st->bad_query = true;
		q[1] = '\0'; /* the library's copy of the request line, mutable and ours to cut */
	}
	return st;
}

static bool budget_take(struct dd_http *h, size_t n)
{
	size_t cur = atomic_load(&h->inflight);
	do {
		if (cur > h->lim.body_budget || n > h->lim.body_budget - cur)
			return false;
	} while (!atomic_compare_exchange_weak(&h->inflight, &cur, cur + n));
	return true;
}

static void free_state(struct req_state *st)
{
	if (!st)
		return;
	if (st->reserved)
		atomic_fetch_sub(&st->h->inflight, st->reserved);
	dd_buf_free(&st->body);
	dd_api_auth_free(st->auth);
	free(st->raw_query);
	for (size_t i = 0; i < st->nhdrs; i++)
		if (st->hdrs[i].owned)
			free((char *)st->hdrs[i].value);
	for (size_t i = 0; i < st->nquery; i++) {
		free(st->query[i].key);
		free(st->query[i].value);
	}
	free(st->query);
	free(st);
}

/* One access-log line (info) and the request metrics; never a secret or signature. */
static void log_access(struct req_state *st, const struct dd_http_response *r)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	int64_t us = (int64_t)(now.tv_sec - st->t0.tv_sec) * 1000000 + (now.tv_nsec - st->t0.tv_nsec) / 1000;
	dd_metrics_request(r->service, r->operation, r->status, us, r->body_len);
	if (dd_log_get_level() < DD_LOG_INFO)
		return;
	char status[8], ms[32], bytes[24], path[128];
	snprintf(status, sizeof status, "%d", r->status);
	snprintf(ms, sizeof ms, "%.3f", (double)us / 1000.0);
	snprintf(bytes, sizeof bytes, "%zu", r->body_len);
	snprintf(path, sizeof path, "%s", st->path ? st->path : "");
	const char *kv[] = {
		"request_id", r->request_id, "method", st->method, "path", path,
		"account", r->account, "access_key", r->access_key, "service", r->service,
		"operation", r->operation, "status", status, "error", r->error_type,
		"duration_ms", ms, "bytes_out", bytes, "reason", r->auth_reason,
	};
	dd_log_kv(r->status >= 500 ? DD_LOG_WARN : DD_LOG_INFO, "access", kv, sizeof kv / sizeof kv[0] / 2);
}

static enum MHD_Result send_response(struct MHD_Connection *conn, struct req_state *st, struct dd_http_response *r)
{
	log_access(st, r);
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
	if (r->status == 401)
		MHD_add_response_header(resp, "WWW-Authenticate", "Bearer");
	enum MHD_Result ret = MHD_queue_response(conn, (unsigned)r->status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum dd_protocol proto_of(struct req_state *st)
{
	if (get_header(st, "x-amz-target"))
		return DD_PROTO_JSON;
	const char *ct = get_header(st, "content-type");
	if (ct && strncmp(ct, "application/x-www-form-urlencoded", 33) == 0)
		return DD_PROTO_QUERY;
	return DD_PROTO_REST_JSON;
}

/* Answers an error decided by this layer, in the protocol the headers suggest. */
static enum MHD_Result send_error(struct MHD_Connection *conn, struct req_state *st, int status,
				  const char *code, const char *msg)
{
	struct dd_http_response r;
	memset(&r, 0, sizeof r);
	dd_api_request_id(r.request_id);
	dd_api_error_response(proto_of(st), status, code, msg, &r);
	return send_response(conn, st, &r);
}

static enum MHD_Result too_large(struct MHD_Connection *conn, struct req_state *st)
{
	char msg[128];
	snprintf(msg, sizeof msg, "Request body is larger than the limit of %zu bytes", st->max_body);
	return send_error(conn, st, 413, "RequestEntityTooLargeException", msg);
}

static enum MHD_Result busy(struct MHD_Connection *conn, struct req_state *st)
{
	bool query = proto_of(st) == DD_PROTO_QUERY;
	return send_error(conn, st, 503, query ? "ServiceUnavailable" : "ServiceUnavailableException",
			  "The server is receiving too many request bodies at once; retry later");
}

static struct conn_track *track_of(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	return ci ? ci->socket_context : NULL;
}

static void track_request(struct dd_http *h, struct MHD_Connection *conn, bool in_request)
{
	struct conn_track *t = track_of(conn);
	if (!t)
		return;
	pthread_mutex_lock(&h->lock);
	t->in_request = in_request;
	if (!in_request)
		t->waiting_since_ms = dd_time_now_ms();
	pthread_mutex_unlock(&h->lock);
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
			  enum MHD_ConnectionNotificationCode code)
{
	struct dd_http *h = cls;
	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
		struct conn_track *t = ci ? calloc(1, sizeof *t) : NULL;
		*socket_context = t;
		if (!t)
			return; /* not tracked: only the idle timeout applies */
		t->fd = ci->connect_fd;
		t->waiting_since_ms = dd_time_now_ms();
		pthread_mutex_lock(&h->lock);
		t->next = h->conns;
		if (h->conns)
			h->conns->prev = t;
		h->conns = t;
		pthread_mutex_unlock(&h->lock);
		return;
	}
	/* closed: the library closes the socket only after this returns */
	struct conn_track *t = *socket_context;
	if (!t)
		return;
	pthread_mutex_lock(&h->lock);
	if (t->prev)
		t->prev->next = t->next;
	else
		h->conns = t->next;
	if (t->next)
		t->next->prev = t->prev;
	pthread_mutex_unlock(&h->lock);
	free(t);
	*socket_context = NULL;
}

/* Once a second: shuts down every connection that has waited longer than the header
 * deadline for a request's headers; the library then sees the socket end and closes it. */
static void *sweeper_main(void *arg)
{
	struct dd_http *h = arg;
	pthread_mutex_lock(&h->lock);
	while (!h->stopping) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += 1;
		pthread_cond_timedwait(&h->wake, &h->lock, &ts);
		int64_t limit = dd_time_now_ms() - (int64_t)h->lim.header_timeout_s * 1000;
		for (struct conn_track *t = h->conns; t; t = t->next) {
			if (!t->in_request && !t->shut && t->waiting_since_ms < limit) {
				shutdown(t->fd, SHUT_RDWR);
				t->shut = true;
			}
		}
	}
	pthread_mutex_unlock(&h->lock);
	return NULL;
}

/* The first call for a request: headers and query are complete, no body byte read yet. */
static enum MHD_Result on_headers(struct dd_http *h, struct MHD_Connection *conn, struct req_state *st,
				  const char *url, const char *method, const char *version)
{
	track_request(h, conn, true);
	st->method = method;
	st->path = url;
	MHD_get_connection_values(conn, MHD_HEADER_KIND, collect_header, st);
	if (st->bad_headers)
		return send_error(conn, st, 431, "RequestHeaderFieldsTooLarge", "Too many request header fields");
	if (strcmp(version, MHD_HTTP_VERSION_1_1) == 0 && !get_header(st, "host"))
		return send_error(conn, st, 400, "InvalidRequestException", "An HTTP/1.1 request must have a Host header");
	const char *te = get_header(st, "transfer-encoding");
	if (te && strcasecmp(te, "chunked") != 0)
		return send_error(conn, st, 501, "NotImplemented", "Only the chunked Transfer-Encoding is supported");
	if (st->bad_query || !parse_query(st)) {
		char msg[128];
		snprintf(msg, sizeof msg, "The query string could not be decoded or has more than %d parameters", MAX_QUERY);
		return send_error(conn, st, 400, "InvalidRequestException", msg);
	}
	struct dd_http_request req = {
		.method = method, .raw_path = url, .query = st->query, .nquery = st->nquery,
		.header = get_header, .ud = st,
	};
	struct dd_http_response r;
	if (!dd_api_preauth(h->api, &req, &r, &st->max_body, &st->auth))
		return send_response(conn, st, &r);
	const char *cl = get_header(st, "content-length");
	int64_t n = 0;
	if (cl && !te) {
		if (dd_parse_int64(cl, 0, INT64_MAX, &n))
			return send_error(conn, st, 400, "InvalidRequestException", "Content-Length is not a number");
		if ((uint64_t)n > st->max_body)
			return too_large(conn, st);
		if (n > 0 && !budget_take(h, (size_t)n))
			return busy(conn, st);
		st->reserved = (size_t)n;
		st->length_known = true;
	}
	dd_buf_init(&st->body, st->max_body);
	st->deadline_ms = dd_time_now_ms() + (int64_t)h->lim.body_timeout_s * 1000;
	return MHD_YES;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *upload_data,
				  size_t *upload_data_size, void **con_cls)
{
	struct dd_http *h = cls;
	struct req_state *st = *con_cls;
	if (!st)
		return MHD_NO; /* on_uri could not allocate */
	if (!st->started) {
		st->started = true;
		return on_headers(h, conn, st, url, method, version);
	}
	if (*upload_data_size) {
		size_t len = *upload_data_size;
		*upload_data_size = 0;
		if (dd_time_now_ms() > st->deadline_ms)
			return MHD_NO; /* too slow: close without reading more */
		if (st->fail)
			return MHD_YES; /* discarded; answered once the body is over */
		if (!st->length_known) {
			if (st->body.len + len > st->max_body) {
				st->fail = FAIL_TOO_LARGE;
				return MHD_YES;
			}
			if (!budget_take(h, len)) {
				st->fail = FAIL_BUSY;
				return MHD_YES;
			}
			st->reserved += len;
		}
		if (dd_buf_append(&st->body, upload_data, len))
			st->fail = FAIL_TOO_LARGE;
		return MHD_YES;
	}
	if (st->fail == FAIL_TOO_LARGE)
		return too_large(conn, st);
	if (st->fail == FAIL_BUSY)
		return busy(conn, st);
	char peer[INET6_ADDRSTRLEN] = "";
	const union MHD_ConnectionInfo *pi = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (pi && pi->client_addr && pi->client_addr->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)pi->client_addr)->sin_addr, peer, sizeof peer);
	else if (pi && pi->client_addr && pi->client_addr->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)pi->client_addr)->sin6_addr, peer, sizeof peer);
	struct dd_http_request req = {
		.method = method, .raw_path = url, .query = st->query, .nquery = st->nquery,
		.header = get_header, .ud = st,
		.body = (const unsigned char *)st->body.data, .body_len = st->body.len,
		.source_ip = peer[0] ? peer : NULL, .auth = st->auth,
	};
	struct dd_http_response r;
	dd_api_handle(h->api, &req, &r);
	return send_response(conn, st, &r);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	(void)toe;
	track_request(cls, conn, false);
	free_state(*con_cls);
	*con_cls = NULL;
}

/* Binds and listens without SO_REUSEPORT: SO_REUSEADDR alone lets a restarted server bind
 * past TIME_WAIT, never two listeners on one port. */
static int open_listener(const struct sockaddr *sa, socklen_t salen, const char *bind_addr, uint16_t port,
			 int *fd_out, char *err, size_t errlen)
{
	int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return DD_EIO;
	}
	int one = 1;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0) {
		snprintf(err, errlen, "setsockopt: %s", strerror(errno));
		close(fd);
		return DD_EIO;
	}
	if (bind(fd, sa, salen) != 0) {
		int e = errno;
		close(fd);
		if (e == EADDRINUSE) {
			snprintf(err, errlen, "port %u on %s is already in use (is another iotdefender serving it?)",
				 port, bind_addr);
			return DD_EEXIST;
		}
		snprintf(err, errlen, "cannot bind %s port %u: %s", bind_addr, port, strerror(e));
		return DD_EIO;
	}
	if (listen(fd, 511) != 0) {
		snprintf(err, errlen, "cannot listen on %s port %u: %s", bind_addr, port, strerror(errno));
		close(fd);
		return DD_EIO;
	}
	*fd_out = fd;
	return 0;
}

int dd_http_start(struct dd_api *api, const char *bind_addr, uint16_t port, unsigned threads,
		  const struct dd_http_limits *limits, struct dd_http **out, char *err, size_t errlen)
{
	struct dd_http *h = calloc(1, sizeof *h);
	if (!h) {
		snprintf(err, errlen, "out of memory");
		return DD_ENOMEM;
	}
	h->api = api;
	if (limits)
		h->lim = *limits;
	else
		dd_http_limits_default(&h->lim);
	atomic_init(&h->inflight, 0);
	pthread_mutex_init(&h->lock, NULL);
	pthread_cond_init(&h->wake, NULL);
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof ss);
	socklen_t salen;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
	struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
	if (inet_pton(AF_INET, bind_addr, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons(port);
		salen = sizeof *a4;
	} else if (inet_pton(AF_INET6, bind_addr, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons(port);
		salen = sizeof *a6;
		flags |= MHD_USE_IPv6;
	} else {
		snprintf(err, errlen, "--bind %s is not an IP address", bind_addr);
		free(h);
		return DD_EINVAL;
	}
	int rc = open_listener((struct sockaddr *)&ss, salen, bind_addr, port, &h->listen_fd, err, errlen);
	if (rc) {
		free(h);
		return rc;
	}
	struct sockaddr_storage bound;
	socklen_t blen = sizeof bound;
	if (getsockname(h->listen_fd, (struct sockaddr *)&bound, &blen) == 0)
		h->port = ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&bound)->sin6_port
							    : ((struct sockaddr_in *)&bound)->sin_port);
	else
		h->port = port;
#if MHD_VERSION >= 0x00095300
	flags |= MHD_USE_EPOLL_LINUX_ONLY;
#endif
	h->d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, h,
				MHD_OPTION_LISTEN_SOCKET, h->listen_fd,
				MHD_OPTION_THREAD_POOL_SIZE, threads ? threads : 4,
				MHD_OPTION_UNESCAPE_CALLBACK, no_unescape, NULL,
				MHD_OPTION_URI_LOG_CALLBACK, on_uri, h,
				MHD_OPTION_NOTIFY_COMPLETED, on_completed, h,
				MHD_OPTION_NOTIFY_CONNECTION, on_connection, h,
				MHD_OPTION_CONNECTION_TIMEOUT, h->lim.idle_timeout_s,
				MHD_OPTION_CONNECTION_LIMIT, h->lim.max_connections,
				MHD_OPTION_PER_IP_CONNECTION_LIMIT, h->lim.max_per_ip,
				MHD_OPTION_CONNECTION_MEMORY_LIMIT, h->lim.conn_memory,
				MHD_OPTION_END);
	if (!h->d) {
		snprintf(err, errlen, "the HTTP library could not start on %s port %u", bind_addr, h->port);
		close(h->listen_fd);
		free(h);
		return DD_EIO;
	}
	if (pthread_create(&h->sweeper, NULL, sweeper_main, h) == 0)
		h->sweeper_running = true;
	else
		dd_log_warn("http: no header-deadline sweeper; only the idle timeout applies");
	*out = h;
	return 0;
}

uint16_t dd_http_port(const struct dd_http *h) { return h->port; }

void dd_http_stop(struct dd_http *h)
{
	if (!h)
		return;
	if (h->sweeper_running) {
		pthread_mutex_lock(&h->lock);
		h->stopping = true;
		pthread_cond_signal(&h->wake);
		pthread_mutex_unlock(&h->lock);
		pthread_join(h->sweeper, NULL);
	}
	MHD_stop_daemon(h->d);
	close(h->listen_fd);
	pthread_cond_destroy(&h->wake);
	pthread_mutex_destroy(&h->lock);
	free(h);
}

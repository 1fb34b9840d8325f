/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A small HTTP/1.1 load generator for the API benchmark. One thread drives C keep-alive
 * connections from one epoll loop, as wrk does: each connection has one request in flight
 * at a time (no pipelining) and sends its next request when the answer is complete,
 * reconnecting when the server closes it (as moto's does). Each connection runs N
 * iterations of CreateThing + DescribeThing + ListThings (MODE "mixed", the default), or
 * creates one thing and then runs N DescribeThing requests of it (MODE "describe"; the
 * creation is not counted). Every request is SigV4-signed with the project's own signer
 * (a DescribeThing once per second and connection, since it is the same request within a
 * second); prints requests per second. Loopback only.
 *
 * One loop instead of a thread per connection: on a small machine shared with the server,
 * a blocked thread per connection costs the client two context switches per request,
 * which the server under test then lacks.
 *
 * usage: dd_loadgen HOST PORT ACCESS_KEY SECRET CONNECTIONS ITERATIONS PREFIX [MODE]
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "dd/common.h"
#include "server/dd_sigv4.h"

#define RESPONSE_MAX (1 << 20)

struct target {
	const char *host;
	int port;
	const char *ak, *sk, *prefix;
};

/* One connection and where it is in its script. */
struct conn {
	int id, fd;
	int iter, step, iters; /* step: 0..2 in mixed mode, 0 in describe mode */
	bool describe_only;
	bool retried;          /* the current request was already resent on a new connection */
	char req[4096];
	int req_len;
	char req_date[20];     /* describe mode: the X-Amz-Date c->req was signed with */
	char *buf;             /* the response so far */
	size_t got, header_end;
	long content_length;
	bool close_after;
	long ok, failed;
};

struct hdrs {
	char host[64], date[20], ctype[32];
};

static const char *hdr(void *ud, const char *name)
{
	struct hdrs *h = ud;
	if (strcasecmp(name, "host") == 0)
		return h->host;
	if (strcasecmp(name, "x-amz-date") == 0)
		return h->date;
	if (strcasecmp(name, "content-type") == 0)
		return h->ctype;
	return NULL;
}

static int connect_to(const struct target *t)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		return -1;
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)t->port) };
	inet_pton(AF_INET, t->host, &a.sin_addr);
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Signs and formats one request into c->req. */
static int build(const struct target *t, struct conn *c, const char *method, const char *path,
		 const char *query_raw, const struct dd_kv *q, size_t nq, const char *body)
{
	struct hdrs h;
	snprintf(h.host, sizeof h.host, "%s:%d", t->host, t->port);
	snprintf(h.ctype, sizeof h.ctype, "application/json");
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(h.date, sizeof h.date, "%Y%m%dT%H%M%SZ", &tm);
	struct dd_sigv4_request r = { .method = method, .raw_path = path, .query = q, .nquery = nq,
				      .header = hdr, .ud = &h, .body = (const unsigned char *)body,
				      .body_len = body ? strlen(body) : 0 };
	char auth[512];
	if (dd_sigv4_sign(t->ak, t->sk, "us-east-1", "iot", h.date, "content-type;host;x-amz-date", &r, auth, sizeof auth))
		return -1;
	int n = snprintf(c->req, sizeof c->req,
			 "%s %s%s%s HTTP/1.1\r\nHost: %s\r\nContent-Type: %s\r\nX-Amz-Date: %s\r\nAuthorization: %s\r\n"
			 "Content-Length: %zu\r\n\r\n%s",
			 method, path, query_raw ? "?" : "", query_raw ? query_raw : "", h.host, h.ctype, h.date, auth,
			 body ? strlen(body) : 0, body ? body : "");
	if (n < 0 || (size_t)n >= sizeof c->req)
		return -1;
	c->req_len = n;
	return 0;
}

/* The connection's next request, from its iteration and step. */
static int build_next(const struct target *t, struct conn *c)
{
	static const struct dd_kv lq[] = { { (char *)"maxResults", (char *)"10" } };
	char path[256];
	if (c->describe_only) {
		/* the same DescribeThing within one second is byte for byte the same request
		 * (X-Amz-Date has whole seconds): it is signed once per second; the server
		 * verifies every one */
		char date[20];
		time_t now = time(NULL);
		struct tm tm;
		gmtime_r(&now, &tm);
		strftime(date, sizeof date, "%Y%m%dT%H%M%SZ", &tm);
		if (c->req_len > 0 && strcmp(date, c->req_date) == 0)
			return 0;
		snprintf(path, sizeof path, "/things/%s-%d", t->prefix, c->id);
		if (build(t, c, "GET", path, NULL, NULL, 0, NULL))
			return -1;
		memcpy(c->req_date, date, sizeof date);
		return 0;
	}
	snprintf(path, sizeof path, "/things/%s-%d-%d", t->prefix, c->id, c->iter);
	switch (c->step) {
	case 0:
		return build(t, c, "POST", path, NULL, NULL, 0, "{\"attributePayload\":{\"attributes\":{\"k\":\"v\"}}}");
	case 1:
		return build(t, c, "GET", path, NULL, NULL, 0, NULL);
	default:
		return build(t, c, "GET", "/things", "maxResults=10", lq, 1, NULL);
	}
}

/* Sends c->req on the connection (a new one when it has none); the request is small
 * and the socket blocking, so one send takes it whole. */
static int send_request(const struct target *t, struct conn *c, int ep)
{
	for (int attempt = 0; attempt < 2; attempt++) {
		if (c->fd < 0) {
			if ((c->fd = connect_to(t)) < 0)
				return -1;
			struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };
			if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev) != 0)
				return -1;
		}
		c->got = 0;
		c->header_end = 0;
		c->content_length = -1;
		c->close_after = false;
		if (send(c->fd, c->req, (size_t)c->req_len, MSG_NOSIGNAL) == c->req_len)
			return 0;
		close(c->fd); /* closing removes it from the epoll set */
		c->fd = -1;
	}
	return -1;
}

/* Reads what has arrived. Returns the status when the response is complete, 0 when more
 * is to come, -1 when the connection failed before an answer started (resend), -2 on a
 * broken answer. */
static int receive(struct conn *c)
{
	for (;;) {
		ssize_t k = recv(c->fd, c->buf + c->got, RESPONSE_MAX - 1 - c->got, MSG_DONTWAIT);
		if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			/* closed: the end of a response without a length, or an idle keep-alive
			 * connection the server closed before our request */
			close(c->fd);
			c->fd = -1;
			if (c->header_end && c->content_length < 0)
				return (int)strtol(c->buf + 9, NULL, 10);
			return c->got == 0 ? -1 : -2;
		}
		c->got += (size_t)k;
		c->buf[c->got] = '\0';
		if (!c->header_end) {
			char *e = strstr(c->buf, "\r\n\r\n");
			if (!e) {
				if (c->got >= RESPONSE_MAX - 1)
					return -2;
				continue;
			}
			c->header_end = (size_t)(e - c->buf) + 4;
			char *cl = strcasestr(c->buf, "\r\ncontent-length:");
			if (cl && cl < e)
				c->content_length = strtol(cl + 17, NULL, 10);
			char *conn = strcasestr(c->buf, "\r\nconnection: close");
			c->close_after = (conn && conn < e) || strncmp(c->buf, "HTTP/1.0", 8) == 0;
		}
		if (c->content_length >= 0 && c->got >= c->header_end + (size_t)c->content_length) {
			if (c->close_after) {
				close(c->fd);
				c->fd = -1;
			}
			return (int)strtol(c->buf + 9, NULL, 10);
		}
		if (c->got >= RESPONSE_MAX - 1)
			return -2;
	}
}

/* Counts the answer and moves the script on; false when the connection is done. */
static bool advance(struct conn *c, int status)
{
	c->ok += status == 200;
	c->failed += status != 200;
	if (!c->describe_only && ++c->step < 3)
		return true;
	c->step = 0;
	return ++c->iter < c->iters;
}

/* Runs every connection's script to its end; returns the connections still unfinished
 * when a request could not be sent (0 on success). */
static int run(const struct target *t, struct conn *conns, int nconns)
{
	int ep = epoll_create1(0);
	if (ep < 0)
		return nconns;
	int active = 0;
	for (int i = 0; i < nconns; i++) {
		struct conn *c = &conns[i];
		if (c->iters <= 0)
			continue;
		if (build_next(t, c) || send_request(t, c, ep)) {
			close(ep);
			return nconns;
		}
		active++;
	}
	struct epoll_event evs[64];
	while (active > 0) {
		int n = epoll_wait(ep, evs, 64, 60000);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break; /* a minute without an answer: give up */
		for (int i = 0; i < n; i++) {
			struct conn *c = evs[i].data.ptr;
			if (c->fd < 0)
				continue;
			int st = receive(c);
			if (st == 0)
				continue;
			if (st == -1 && !c->retried) {
				c->retried = true; /* resend once on a new connection */
				if (send_request(t, c, ep) == 0)
					continue;
			}
			c->retried = false;
			if (st < 0 && c->fd >= 0) {
				close(c->fd);
				c->fd = -1;
			}
			if (!advance(c, st < 0 ? -1 : st)) {
				active--;
				continue;
			}
			if (build_next(t, c) || send_request(t, c, ep)) {
				c->failed++;
				active--;
			}
		}
	}
	close(ep);
	return active;
}

/* CreateThing of the thing connection c describes, on a connection of its own that is
 * closed after; returns the status, -1 when there was no answer. */
static int create_thing(const struct target *t, struct conn *c)
{
	char path[256];
	snprintf(path, sizeof path, "/things/%s-%d", t->prefix, c->id);
	int ep = epoll_create1(0);
	int st = -1;
	if (ep >= 0 && build(t, c, "POST", path, NULL, NULL, 0, "{}") == 0 && send_request(t, c, ep) == 0) {
		struct epoll_event ev;
		while (epoll_wait(ep, &ev, 1, 60000) == 1 && (st = receive(c)) == 0)
			;
	}
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->req_len = 0; /* the describe loop signs its own request */
	if (ep >= 0)
		close(ep);
	return st;
}

int main(int argc, char **argv)
{
	if (argc != 8 && argc != 9) {
		fprintf(stderr, "usage: dd_loadgen HOST PORT ACCESS_KEY SECRET CONNECTIONS ITERATIONS PREFIX [mixed|describe]\n");
		return 2;
	}
	bool describe_only = argc == 9 && strcmp(argv[8], "describe") == 0;
	if (argc == 9 && !describe_only && strcmp(argv[8], "mixed") != 0) {
		fprintf(stderr, "dd_loadgen: MODE is mixed or describe\n");
		return 2;
	}
	int64_t port, nconns, iters;
	if (dd_parse_int64(argv[2], 1, 65535, &port) || dd_parse_int64(argv[5], 1, 256, &nconns) ||
	    dd_parse_int64(argv[6], 1, 10000000, &iters)) {
		fprintf(stderr, "dd_loadgen: bad number\n");
		return 2;
	}
	struct target t = { .host = argv[1], .port = (int)port, .ak = argv[3], .sk = argv[4], .prefix = argv[7] };
	struct conn *conns = calloc((size_t)nconns, sizeof *conns);
	if (!conns)
		return 1;
	for (int i = 0; i < nconns; i++) {
		conns[i] = (struct conn){ .id = i, .fd = -1, .describe_only = describe_only, .iters = (int)iters };
		if (!(conns[i].buf = malloc(RESPONSE_MAX)))
			return 1;
	}
	/* in describe mode, the thing each connection describes, created before the clock starts */
	for (int i = 0; describe_only && i < nconns; i++) {
		int st = create_thing(&t, &conns[i]);
		if (st != 200) {
			fprintf(stderr, "dd_loadgen: CreateThing %s-%d answered %d\n", t.prefix, i, st);
			return 1;
		}
	}
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	int unfinished = run(&t, conns, (int)nconns);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	long ok = 0, failed = 0;
	for (int i = 0; i < nconns; i++) {
		ok += conns[i].ok;
		failed += conns[i].failed;
		if (conns[i].fd >= 0)
			close(conns[i].fd);
		free(conns[i].buf);
	}
	free(conns);
	double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("requests=%ld failed=%ld seconds=%.3f rps=%.1f\n", ok + failed, failed, secs, (double)(ok + failed) / secs);
	if (unfinished) {
		fprintf(stderr, "dd_loadgen: %d connections did not finish\n", unfinished);
		return 1;
	}
	/* more than 1% failed requests means the figure is not a throughput */
	return failed * 100 > ok + failed ? 1 : 0;
}

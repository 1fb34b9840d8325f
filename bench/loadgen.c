/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A small HTTP/1.1 load generator for the API benchmark: T threads, each with its own
 * keep-alive connection (reconnecting when the server closes it, as moto's does), runs N
 * iterations of CreateThing + DescribeThing + ListThings (MODE "mixed", the default), or
 * creates one thing per thread and then runs N DescribeThing requests of it (MODE
 * "describe"; the creation is not counted). Every request is SigV4-signed with the
 * project's own signer; prints requests per second. Loopback only.
 *
 * usage: dd_loadgen HOST PORT ACCESS_KEY SECRET THREADS ITERATIONS PREFIX [MODE]
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "dd/common.h"
#include "server/dd_sigv4.h"

struct job {
	const char *host;
	int port;
	const char *ak, *sk, *prefix;
	int id, iters;
	bool describe_only;
	long ok, failed;
	int fd;
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

static int connect_to(struct job *j)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		return -1;
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)j->port) };
	inet_pton(AF_INET, j->host, &a.sin_addr);
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Sends one request and reads the whole response; returns the status or -1. */
static int roundtrip(struct job *j, const char *method, const char *path, const char *query_raw,
		     const struct dd_kv *q, size_t nq, const char *body)
{
	struct hdrs h;
	snprintf(h.host, sizeof h.host, "%s:%d", j->host, j->port);
	snprintf(h.ctype, sizeof h.ctype, "application/json");
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(h.date, sizeof h.date, "%Y%m%dT%H%M%SZ", &tm);
	struct dd_sigv4_request r = { .method = method, .raw_path = path, .query = q, .nquery = nq,
				      .header = hdr, .ud = &h, .body = (const unsigned char *)body,
				      .body_len = body ? strlen(body) : 0 };
	char auth[512];
	if (dd_sigv4_sign(j->ak, j->sk, "us-east-1", "iot", h.date, "content-type;host;x-amz-date", &r, auth, sizeof auth))
		return -1;
	char req[4096];
	int n = snprintf(req, sizeof req,
			 "%s %s%s%s HTTP/1.1\r\nHost: %s\r\nContent-Type: %s\r\nX-Amz-Date: %s\r\nAuthorization: %s\r\n"
			 "Content-Length: %zu\r\n\r\n%s",
			 method, path, query_raw ? "?" : "", query_raw ? query_raw : "", h.host, h.ctype, h.date, auth,
			 body ? strlen(body) : 0, body ? body : "");
	for (int attempt = 0; attempt < 2; attempt++) {
		if (j->fd < 0 && (j->fd = connect_to(j)) < 0)
			return -1;
		if (send(j->fd, req, (size_t)n, MSG_NOSIGNAL) != n) {
			close(j->fd);
			j->fd = -1;
			continue;
		}
		static __thread char buf[1 << 20];
		size_t got = 0;
		long content_length = -1;
		size_t header_end = 0;
		bool close_after = false;
		for (;;) {
			ssize_t k = recv(j->fd, buf + got, sizeof buf - 1 - got, 0);
			if (k <= 0)
				break;
			got += (size_t)k;
			buf[got] = '\0';
			if (!header_end) {
				char *e = strstr(buf, "\r\n\r\n");
				if (!e)
					continue;
				header_end = (size_t)(e - buf) + 4;
				char *cl = strcasestr(buf, "\r\ncontent-length:");
				if (cl && cl < e)
					content_length = strtol(cl + 17, NULL, 10);
				char *conn = strcasestr(buf, "\r\nconnection: close");
				close_after = (conn && conn < e) || strncmp(buf, "HTTP/1.0", 8) == 0;
			}
			if (header_end && content_length >= 0 && got >= header_end + (size_t)content_length)
				break;
		}
		if (!header_end) {
			close(j->fd);
			j->fd = -1;
			if (got == 0)
				continue; /* the server closed an idle keep-alive connection */
			return -1;
		}
		if (content_length < 0 || close_after) {
			close(j->fd);
			j->fd = -1;
		}
		return (int)strtol(buf + 9, NULL, 10);
	}
	return -1;
}

static void *run(void *arg)
{
	struct job *j = arg;
	struct dd_kv lq[] = { { (char *)"maxResults", (char *)"10" } };
	if (j->describe_only) {
		char path[256];
		snprintf(path, sizeof path, "/things/%s-%d", j->prefix, j->id);
		for (int i = 0; i < j->iters; i++) {
			int st = roundtrip(j, "GET", path, NULL, NULL, 0, NULL);
			j->ok += st == 200;
			j->failed += st != 200;
		}
		if (j->fd >= 0)
			close(j->fd);
		return NULL;
	}
	for (int i = 0; i < j->iters; i++) {
		char path[256];
		snprintf(path, sizeof path, "/things/%s-%d-%d", j->prefix, j->id, i);
		int s1 = roundtrip(j, "POST", path, NULL, NULL, 0, "{\"attributePayload\":{\"attributes\":{\"k\":\"v\"}}}");
		int s2 = roundtrip(j, "GET", path, NULL, NULL, 0, NULL);
		int s3 = roundtrip(j, "GET", "/things", "maxResults=10", lq, 1, NULL);
		j->ok += (s1 == 200) + (s2 == 200) + (s3 == 200);
		j->failed += (s1 != 200) + (s2 != 200) + (s3 != 200);
	}
	if (j->fd >= 0)
		close(j->fd);
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc != 8 && argc != 9) {
		fprintf(stderr, "usage: dd_loadgen HOST PORT ACCESS_KEY SECRET THREADS ITERATIONS PREFIX [mixed|describe]\n");
		return 2;
	}
	bool describe_only = argc == 9 && strcmp(argv[8], "describe") == 0;
	if (argc == 9 && !describe_only && strcmp(argv[8], "mixed") != 0) {
		fprintf(stderr, "dd_loadgen: MODE is mixed or describe\n");
		return 2;
	}
	int64_t port, threads, iters;
	if (dd_parse_int64(argv[2], 1, 65535, &port) || dd_parse_int64(argv[5], 1, 256, &threads) ||
	    dd_parse_int64(argv[6], 1, 10000000, &iters)) {
		fprintf(stderr, "dd_loadgen: bad number\n");
		return 2;
	}
	struct job *jobs = calloc((size_t)threads, sizeof *jobs);
	pthread_t *tids = calloc((size_t)threads, sizeof *tids);
	for (int i = 0; i < threads; i++) {
		jobs[i] = (struct job){ .host = argv[1], .port = (int)port, .ak = argv[3], .sk = argv[4],
					.prefix = argv[7], .id = i, .iters = (int)iters, .describe_only = describe_only,
					.fd = -1 };
		if (describe_only) {
			/* the thing each thread describes, created before the clock starts */
			char path[256];
			snprintf(path, sizeof path, "/things/%s-%d", argv[7], i);
			int st = roundtrip(&jobs[i], "POST", path, NULL, NULL, 0, "{}");
			if (jobs[i].fd >= 0)
				close(jobs[i].fd);
			jobs[i].fd = -1;
			if (st != 200) {
				fprintf(stderr, "dd_loadgen: CreateThing %s answered %d\n", path, st);
				return 1;
			}
		}
	}
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < threads; i++)
		pthread_create(&tids[i], NULL, run, &jobs[i]);
	long ok = 0, failed = 0;
	for (int i = 0; i < threads; i++) {
		pthread_join(tids[i], NULL);
		ok += jobs[i].ok;
		failed += jobs[i].failed;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("requests=%ld failed=%ld seconds=%.3f rps=%.1f\n", ok + failed, failed, secs, (double)(ok + failed) / secs);
	free(jobs);
	free(tids);
	/* more than 1% failed requests means the figure is not a throughput */
	return failed * 100 > ok + failed ? 1 : 0;
}

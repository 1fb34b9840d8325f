/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the outbound module: which addresses are refused (every default range,
 * its edges, the IPv6 forms of refused IPv4 ranges), the allow-list parser and how it
 * overrides, the Subscribe-time URL precheck, dd_fetch_http against a tiny HTTP server on
 * 127.0.0.1 (refused without the allow-list and never connected to, size caps, redirects
 * followed by hand and checked per hop, schemes, a silent server), and the fetch pool's
 * per-account cap, round-robin order and de-duplication.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>

#include "dd/fetch.h"
#include "dd/service.h"

/* ---- address ranges ------------------------------------------------------------------ */

static int check(const char *ip, const struct dd_fetch_allow *allow)
{
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof ss);
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
	if (inet_pton(AF_INET, ip, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
	} else {
		assert_int_equal(inet_pton(AF_INET6, ip, &s6->sin6_addr), 1);
		s6->sin6_family = AF_INET6;
	}
	return dd_fetch_addr_check((struct sockaddr *)&ss, allow, NULL);
}

static void test_refused_ranges(void **state)
{
	(void)state;
	static const char *const refused[] = {
		"0.0.0.0", "0.255.255.255", "10.0.0.1", "10.255.255.255", "100.64.0.0", "100.127.255.255",
		"127.0.0.1", "127.255.255.254", "169.254.169.254", "169.254.0.1", "172.16.0.1", "172.31.255.255",
		"192.0.0.1", "192.168.1.1", "198.18.0.1", "198.19.255.255", "224.0.0.1", "239.255.255.255",
		"240.0.0.1", "255.255.255.255",
		"::1", "::", "fc00::1", "fdff:ffff::1", "fe80::1", "febf::1", "fec0::1", "ff02::1",
		"::ffff:127.0.0.1", "::ffff:169.254.169.254", "::ffff:10.1.2.3", "::127.0.0.1", "::10.0.0.1",
		"64:ff9b::a9fe:a9fe", "64:ff9b::127.0.0.1", "64:ff9b:1::1", "2002:7f00:1::1", "2002:a9fe:a9fe::",
	};
	static const char *const allowed_ips[] = {
		"1.1.1.1", "8.8.8.8", "9.255.255.255", "11.0.0.0", "100.63.255.255", "100.128.0.0", "126.255.255.255",
		"128.0.0.0", "169.253.255.255", "169.255.0.0", "172.15.255.255", "172.32.0.0", "192.0.1.1",
		"192.167.255.255", "192.169.0.0", "198.17.255.255", "198.20.0.0", "223.255.255.255",
		"2001:4860:4860::8888", "2606:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808", "2002:808:808::1",
	};
	for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
		if (check(refused[i], NULL) != DD_EDENIED)
			fail_msg("%s should be refused", refused[i]);
	}
	for (size_t i = 0; i < sizeof allowed_ips / sizeof allowed_ips[0]; i++) {
		if (check(allowed_ips[i], NULL) != 0)
			fail_msg("%s should be allowed", allowed_ips[i]);
	}
	const char *why = NULL;
	struct sockaddr_in s4 = { .sin_family = AF_INET };
	inet_pton(AF_INET, "169.254.169.254", &s4.sin_addr);
	assert_int_equal(dd_fetch_addr_check((struct sockaddr *)&s4, NULL, &why), DD_EDENIED);
	assert_non_null(strstr(why, "metadata"));
	struct sockaddr su = { .sa_family = AF_UNIX };
	assert_int_equal(dd_fetch_addr_check(&su, NULL, NULL), DD_EINVAL);
}

static void test_allow_list(void **state)
{
	(void)state;
	struct dd_fetch_allow *a = NULL;
	char err[256];
	assert_int_equal(dd_fetch_allow_parse(NULL, &a, err, sizeof err), 0);
	assert_null(a);
	assert_int_equal(dd_fetch_allow_parse(" , ", &a, err, sizeof err), 0);
	assert_null(a);
	assert_int_equal(dd_fetch_allow_parse("127.0.0.0/33", &a, err, sizeof err), DD_EINVAL);
	assert_non_null(strstr(err, "127.0.0.0/33"));
	assert_int_equal(dd_fetch_allow_parse("localhost", &a, err, sizeof err), DD_EINVAL);
	assert_int_equal(dd_fetch_allow_parse("10.0.0.0/x", &a, err, sizeof err), DD_EINVAL);
	assert_int_equal(dd_fetch_allow_parse("10.0.0.0/-1", &a, err, sizeof err), DD_EINVAL);
	assert_int_equal(dd_fetch_allow_parse("127.0.0.0/8, 10.1.2.3,fd00::/8", &a, err, sizeof err), 0);
	assert_non_null(a);
	assert_int_equal(check("127.0.0.1", a), 0);
	assert_int_equal(check("127.200.0.1", a), 0);
	assert_int_equal(check("::ffff:127.0.0.1", a), 0);  /* a mapped address follows its IPv4 */
	assert_int_equal(check("10.1.2.3", a), 0);
	assert_int_equal(check("10.1.2.4", a), DD_EDENIED);
	assert_int_equal(check("fd12::1", a), 0);
	assert_int_equal(check("fc00::1", a), DD_EDENIED);
	assert_int_equal(check("169.254.169.254", a), DD_EDENIED);
	assert_int_equal(check("::1", a), DD_EDENIED);
	dd_fetch_allow_free(a);
	/* at most 64 entries */
	char big[2048] = "";
	for (int i = 0; i < 65; i++)
		snprintf(big + strlen(big), sizeof big - strlen(big), "10.0.%d.0/24,", i);
	assert_int_equal(dd_fetch_allow_parse(big, &a, err, sizeof err), DD_EINVAL);
	assert_null(a);
}

static void test_url_precheck(void **state)
{
	(void)state;
	struct dd_fetch_allow *a = NULL;
	char err[64];
	assert_int_equal(dd_fetch_url_precheck("http://127.0.0.1:8080/hook", NULL), DD_EDENIED);
	assert_int_equal(dd_fetch_url_precheck("http://169.254.169.254/latest/meta-data/", NULL), DD_EDENIED);
	assert_int_equal(dd_fetch_url_precheck("https://[::1]/x", NULL), DD_EDENIED);
	assert_int_equal(dd_fetch_url_precheck("https://[::ffff:7f00:1]/x", NULL), DD_EDENIED);
	assert_int_equal(dd_fetch_url_precheck("http://localhost:9/x", NULL), DD_EDENIED);
	assert_int_equal(dd_fetch_url_precheck("http://a.localhost./x", NULL), DD_EDENIED);
	assert_int_equal(dd_fetch_url_precheck("http://2130706433/", NULL), DD_EDENIED); /* 127.0.0.1 as a number */
	assert_int_equal(dd_fetch_url_precheck("http://0x7f.1/", NULL), DD_EDENIED);
	assert_int_equal(dd_fetch_url_precheck("http://10.0.0.1/", NULL), DD_EDENIED);
	assert_int_equal(dd_fetch_url_precheck("https://example.com/hook", NULL), 0);
	assert_int_equal(dd_fetch_url_precheck("http://8.8.8.8/hook", NULL), 0);
	assert_int_equal(dd_fetch_url_precheck("ftp://example.com/x", NULL), DD_EINVAL);
	assert_int_equal(dd_fetch_url_precheck("http://", NULL), DD_EINVAL);
	assert_int_equal(dd_fetch_url_precheck("not a url", NULL), DD_EINVAL);
	assert_int_equal(dd_fetch_allow_parse("127.0.0.0/8", &a, err, sizeof err), 0);
	assert_int_equal(dd_fetch_url_precheck("http://127.0.0.1:8080/hook", a), 0);
	assert_int_equal(dd_fetch_url_precheck("http://localhost:8080/hook", a), 0);
	assert_int_equal(dd_fetch_url_precheck("http://169.254.169.254/", a), DD_EDENIED);
	dd_fetch_allow_free(a);
}

/* ---- requests against a tiny local server -------------------------------------------- */

struct http_srv {
	int fd;
	int port;
	atomic_int stop;
	atomic_int accepted;
	pthread_t thread;
};

#define BIG_BODY 100000

static void send_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w <= 0)
			return;
		p += w;
		n -= (size_t)w;
	}
}

static void serve_one(int c, int port)
{
	char req[4096];
	size_t n = 0;
	while (n < sizeof req - 1) {
		ssize_t r = recv(c, req + n, sizeof req - 1 - n, 0);
		if (r <= 0)
			return;
		n += (size_t)r;
		req[n] = '\0';
		if (strstr(req, "\r\n\r\n"))
			break;
	}
	char path[256] = "";
	const char *sp = strchr(req, ' ');
	if (sp) {
		size_t l = strcspn(sp + 1, " ");
		if (l < sizeof path) {
			memcpy(path, sp + 1, l);
			path[l] = '\0';
		}
	}
	char head[512];
	if (strcmp(path, "/small.crl") == 0) {
		const char *r = "HTTP/1.1 200 OK\r\nContent-Length: 9\r\nConnection: close\r\n\r\nhello crl";
		send_all(c, r, strlen(r));
	} else if (strcmp(path, "/big") == 0 || strcmp(path, "/stream") == 0) {
		if (strcmp(path, "/big") == 0)
			snprintf(head, sizeof head, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n", BIG_BODY);
		else
			snprintf(head, sizeof head, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n");
		send_all(c, head, strlen(head));
		char *body = malloc(BIG_BODY);
		memset(body, 'x', BIG_BODY);
		send_all(c, body, BIG_BODY);
		free(body);
	} else if (strncmp(path, "/redirect", 9) == 0 || strcmp(path, "/loop") == 0 || strcmp(path, "/tofile") == 0 ||
		   strcmp(path, "/tometa") == 0 || strcmp(path, "/tolocalhost") == 0) {
		const char *loc = "/small.crl";
		char next[128];
		if (strcmp(path, "/loop") == 0) {
			loc = "/loop";
		} else if (strcmp(path, "/tofile") == 0) {
			loc = "file:///etc/hostname";
		} else if (strcmp(path, "/tometa") == 0) {
			loc = "http://169.254.169.254/latest/meta-data/";
		} else if (strcmp(path, "/tolocalhost") == 0) {
			snprintf(next, sizeof next, "http://localhost:%d/small.crl", port);
			loc = next;
		} else if (path[9] >= '1' && path[9] <= '9') {
			/* /redirectN redirects N times before the file. */
			if (path[9] == '1')
				snprintf(next, sizeof next, "/small.crl");
			else
				snprintf(next, sizeof next, "/redirect%c", path[9] - 1);
			loc = next;
		}
		snprintf(head, sizeof head, "HTTP/1.1 302 Found\r\nLocation: %s\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", loc);
		send_all(c, head, strlen(head));
	} else {
		const char *r = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
		send_all(c, r, strlen(r));
	}
}

static void *srv_main(void *arg)
{
	struct http_srv *s = arg;
	while (!atomic_load(&s->stop)) {
		struct pollfd p = { .fd = s->fd, .events = POLLIN };
		if (poll(&p, 1, 50) <= 0)
			continue;
		int c = accept(s->fd, NULL, NULL);
		if (c < 0)
			continue;
		atomic_fetch_add(&s->accepted, 1);
		serve_one(c, s->port);
		shutdown(c, SHUT_RDWR);
		close(c);
	}
	return NULL;
}

static int listen_local(int *port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	struct sockaddr_in a;
	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = 0;
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
	assert_int_equal(listen(fd, 16), 0);
	socklen_t al = sizeof a;
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &al), 0);
	*port = ntohs(a.sin_port);
	return fd;
}

static int get(const char *url, size_t max, long timeout_ms, const struct dd_fetch_allow *allow,
	       struct dd_fetch_resp *resp, char *detail, size_t detlen)
{
	struct dd_fetch_req req = {
		.method = "GET", .url = url, .max_bytes = max, .connect_timeout_ms = timeout_ms,
		.timeout_ms = timeout_ms, .max_redirects = 3, .allow = allow,
	};
	memset(resp, 0, sizeof *resp);
	detail[0] = '\0';
	return dd_fetch_http(&req, resp, detail, detlen);
}

static void test_fetch_http(void **state)
{
	(void)state;
	struct http_srv s;
	memset(&s, 0, sizeof s);
	s.fd = listen_local(&s.port);
	assert_int_equal(pthread_create(&s.thread, NULL, srv_main, &s), 0);
	struct dd_fetch_allow *lo = NULL;
	char url[160], det[512];
	assert_int_equal(dd_fetch_allow_parse("127.0.0.0/8", &lo, det, sizeof det), 0);
	struct dd_fetch_resp r;

	/* Without the allow-list the server is never even connected to. */
	snprintf(url, sizeof url, "http://127.0.0.1:%d/small.crl", s.port);
	assert_int_equal(get(url, 1024, 5000, NULL, &r, det, sizeof det), DD_EDENIED);
	assert_non_null(strstr(det, "loopback"));
	assert_null(r.body);
	snprintf(url, sizeof url, "http://localhost:%d/small.crl", s.port);
	assert_int_equal(get(url, 1024, 5000, NULL, &r, det, sizeof det), DD_EDENIED);
	snprintf(url, sizeof url, "http://[::ffff:127.0.0.1]:%d/small.crl", s.port);
	assert_int_equal(get(url, 1024, 5000, NULL, &r, det, sizeof det), DD_EDENIED);
	snprintf(url, sizeof url, "http://2130706433:%d/small.crl", s.port);
	assert_int_equal(get(url, 1024, 5000, NULL, &r, det, sizeof det), DD_EDENIED);
	assert_int_equal(atomic_load(&s.accepted), 0);

	/* With it: a body, NUL-terminated. */
	snprintf(url, sizeof url, "http://127.0.0.1:%d/small.crl", s.port);
	assert_int_equal(get(url, 1024, 5000, lo, &r, det, sizeof det), 0);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.len, 9);
	assert_string_equal((char *)r.body, "hello crl");
	dd_fetch_resp_clear(&r);
	snprintf(url, sizeof url, "http://localhost:%d/small.crl", s.port);
	assert_int_equal(get(url, 1024, 5000, lo, &r, det, sizeof det), 0);
	assert_int_equal(r.status, 200);
	dd_fetch_resp_clear(&r);

	/* Too large: announced by Content-Length, and streamed without one. */
	snprintf(url, sizeof url, "http://127.0.0.1:%d/big", s.port);
	assert_int_equal(get(url, 1024, 5000, lo, &r, det, sizeof det), DD_EIO);
	assert_non_null(strstr(det, "larger than 1024"));
	assert_null(r.body);
	snprintf(url, sizeof url, "http://127.0.0.1:%d/stream", s.port);
	assert_int_equal(get(url, 1024, 5000, lo, &r, det, sizeof det), DD_EIO);
	assert_non_null(strstr(det, "larger than 1024"));
	assert_int_equal(get(url, BIG_BODY, 5000, lo, &r, det, sizeof det), 0);
	assert_int_equal(r.len, BIG_BODY);
	dd_fetch_resp_clear(&r);
	/* A capped body kept on purpose (SNS reads at most 64 KiB of a subscriber's answer). */
	struct dd_fetch_req keep = { .method = "GET", .url = url, .max_bytes = 1000, .connect_timeout_ms = 5000,
				     .timeout_ms = 5000, .keep_body_on_overflow = true, .allow = lo };
	assert_int_equal(dd_fetch_http(&keep, &r, det, sizeof det), 0);
	assert_int_equal(r.len, 1000);
	dd_fetch_resp_clear(&r);

	/* Up to 3 redirects are followed, not 4; never to another scheme. */
	snprintf(url, sizeof url, "http://127.0.0.1:%d/redirect3", s.port);
	assert_int_equal(get(url, 1024, 5000, lo, &r, det, sizeof det), 0);
	assert_int_equal(r.len, 9);
	dd_fetch_resp_clear(&r);
	snprintf(url, sizeof url, "http://127.0.0.1:%d/redirect4", s.port);
	assert_int_equal(get(url, 1024, 5000, lo, &r, det, sizeof det), DD_EIO);
	assert_non_null(strstr(det, "redirects"));
	snprintf(url, sizeof url, "http://127.0.0.1:%d/loop", s.port);
	assert_int_equal(get(url, 1024, 5000, lo, &r, det, sizeof det), DD_EIO);
	snprintf(url, sizeof url, "http://127.0.0.1:%d/tofile", s.port);
	assert_int_equal(get(url, 1024, 5000, lo, &r, det, sizeof det), DD_EINVAL);
	/* Each hop is checked: a redirect to the metadata address is refused. */
	snprintf(url, sizeof url, "http://127.0.0.1:%d/tometa", s.port);
	assert_int_equal(get(url, 1024, 5000, lo, &r, det, sizeof det), DD_EDENIED);
	assert_non_null(strstr(det, "169.254.169.254"));
	assert_null(r.body);
	/* With redirects off, a 3xx is the answer. */
	struct dd_fetch_req noredir = { .method = "POST", .url = url, .body = "x", .body_len = 1, .max_bytes = 1024,
					.connect_timeout_ms = 5000, .timeout_ms = 5000, .allow = lo };
	assert_int_equal(dd_fetch_http(&noredir, &r, det, sizeof det), 0);
	assert_int_equal(r.status, 302);
	dd_fetch_resp_clear(&r);

	/* HTTP errors are answers; other schemes are refused. */
	snprintf(url, sizeof url, "http://127.0.0.1:%d/missing", s.port);
	assert_int_equal(get(url, 1024, 5000, lo, &r, det, sizeof det), 0);
	assert_int_equal(r.status, 404);
	dd_fetch_resp_clear(&r);
	assert_int_equal(get("file:///etc/hostname", 1024, 5000, lo, &r, det, sizeof det), DD_EINVAL);
	assert_int_equal(get("ftp://127.0.0.1/x", 1024, 5000, lo, &r, det, sizeof det), DD_EINVAL);
	assert_int_equal(get("gopher://x", 1024, 5000, lo, &r, det, sizeof det), DD_EINVAL);
	assert_null(r.body);

	atomic_store(&s.stop, 1);
	pthread_join(s.thread, NULL);
	close(s.fd);

	/* A server that accepts the connection but never answers: the timeout ends it. */
	int port;
	int silent = listen_local(&port);
	snprintf(url, sizeof url, "http://127.0.0.1:%d/slow", port);
	assert_int_equal(get(url, 1024, 300, lo, &r, det, sizeof det), DD_EIO);
	assert_null(r.body);
	/* Cancelled (the server is stopping). */
	volatile int cancel = 1;
	struct dd_fetch_req c = { .method = "GET", .url = url, .max_bytes = 1024, .connect_timeout_ms = 60000,
				  .timeout_ms = 60000, .allow = lo, .cancel = &cancel };
	assert_int_equal(dd_fetch_http(&c, &r, det, sizeof det), DD_EIO);
	assert_non_null(strstr(det, "cancelled"));
	close(silent);
	dd_fetch_allow_free(lo);
}

/* ---- the pool ------------------------------------------------------------------------ */

struct pool_probe {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool release_a;
	int running_a, max_running_a;
	int b_done;
	char order[64];
	size_t norder;
};

static struct pool_probe probe = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false, 0, 0, 0, "", 0 };

static void job(struct dd_service *svc, const char *account, const char *key, void *arg, const volatile int *cancel)
{
	(void)svc, (void)arg, (void)cancel;
	pthread_mutex_lock(&probe.mu);
	if (probe.norder < sizeof probe.order - 1)
		probe.order[probe.norder++] = account[0];
	if (account[0] == 'A') {
		probe.running_a++;
		if (probe.running_a > probe.max_running_a)
			probe.max_running_a = probe.running_a;
		while (!probe.release_a)
			pthread_cond_wait(&probe.cv, &probe.mu);
		probe.running_a--;
	} else if (account[0] == 'B') {
		probe.b_done++;
		pthread_cond_broadcast(&probe.cv);
	} else if (account[0] == 'G') { /* the gate: holds the only worker until released */
		while (!probe.release_a)
			pthread_cond_wait(&probe.cv, &probe.mu);
	}
	(void)key;
	pthread_mutex_unlock(&probe.mu);
}

static void counted_free(void *arg)
{
	(*(int *)arg)++;
}

static void reset_probe(void)
{
	pthread_mutex_lock(&probe.mu);
	probe.release_a = false;
	probe.running_a = probe.max_running_a = probe.b_done = 0;
	probe.norder = 0;
	memset(probe.order, 0, sizeof probe.order);
	pthread_mutex_unlock(&probe.mu);
}

static void release(void)
{
	pthread_mutex_lock(&probe.mu);
	probe.release_a = true;
	pthread_cond_broadcast(&probe.cv);
	pthread_mutex_unlock(&probe.mu);
}

static void test_pool_cap_and_dedup(void **state)
{
	(void)state;
	reset_probe();
	setenv("IOTDEFENDER_FETCH_WORKERS", "4", 1);
	setenv("IOTDEFENDER_FETCH_PER_ACCOUNT", "2", 1);
	struct dd_service svc;
	memset(&svc, 0, sizeof svc);
	struct dd_fetch_pool *p = dd_fetch_pool_get(&svc);
	assert_non_null(p);
	assert_ptr_equal(dd_fetch_pool_get(&svc), p);
	int freed = 0;
	char key[32];
	/* Account A floods the pool with jobs that hang until released. */
	for (int i = 0; i < 20; i++) {
		snprintf(key, sizeof key, "http://a/%d", i);
		assert_int_equal(dd_fetch_pool_submit(p, "A11111111111", key, job, &freed, counted_free), 0);
	}
	assert_int_equal(dd_fetch_pool_submit(p, "A11111111111", "http://a/3", job, &freed, counted_free), 1);
	assert_int_equal(dd_fetch_pool_pending(p, "A11111111111"), 20);
	/* Account B's job still runs at once: A holds at most 2 of the 4 workers. */
	assert_int_equal(dd_fetch_pool_submit(p, "B22222222222", "http://b/1", job, &freed, counted_free), 0);
	assert_int_equal(dd_fetch_pool_wait_idle(p, "B22222222222", 10000), 0);
	/* A's two workers may still be starting on a loaded machine: wait (bounded) until both
	 * run; the cap is that there are never more than 2. */
	int a_running = 0;
	for (int i = 0; i < 1000 && a_running < 2; i++) {
		pthread_mutex_lock(&probe.mu);
		a_running = probe.max_running_a;
		pthread_mutex_unlock(&probe.mu);
		if (a_running < 2)
			usleep(10000);
	}
	pthread_mutex_lock(&probe.mu);
	assert_int_equal(probe.b_done, 1);
	assert_int_equal(probe.max_running_a, 2);
	pthread_mutex_unlock(&probe.mu);
	assert_int_equal(dd_fetch_pool_pending(p, "B22222222222"), 0);
	assert_int_equal(dd_fetch_pool_wait_idle(p, "A11111111111", 50), 1);
	release();
	assert_int_equal(dd_fetch_pool_wait_idle(p, "A11111111111", 30000), 0);
	assert_int_equal(freed, 21);
	pthread_mutex_lock(&probe.mu);
	assert_int_equal(probe.max_running_a, 2);
	pthread_mutex_unlock(&probe.mu);
	/* Once done, the same key may be queued again. */
	assert_int_equal(dd_fetch_pool_submit(p, "A11111111111", "http://a/3", job, &freed, counted_free), 0);
	assert_int_equal(dd_fetch_pool_wait_idle(p, "A11111111111", 30000), 0);
	/* Jobs still queued at stop are dropped and freed. */
	reset_probe();
	for (int i = 0; i < 5; i++) {
		snprintf(key, sizeof key, "http://a/x%d", i);
		assert_int_equal(dd_fetch_pool_submit(p, "A11111111111", key, job, &freed, counted_free), 0);
	}
	freed = 0;
	release(); /* let the running ones end so stop can join */
	dd_fetch_pool_stop(&svc);
	assert_null(svc.fetch_pool);
	assert_int_equal(freed, 5);
}

static void test_pool_round_robin(void **state)
{
	(void)state;
	reset_probe();
	setenv("IOTDEFENDER_FETCH_WORKERS", "1", 1);
	setenv("IOTDEFENDER_FETCH_PER_ACCOUNT", "1", 1);
	struct dd_service svc;
	memset(&svc, 0, sizeof svc);
	struct dd_fetch_pool *p = dd_fetch_pool_get(&svc);
	assert_non_null(p);
	assert_int_equal(dd_fetch_pool_submit(p, "G00000000000", "gate", job, NULL, NULL), 0);
	char key[32];
	for (int i = 0; i < 4; i++) {
		snprintf(key, sizeof key, "a%d", i);
		assert_int_equal(dd_fetch_pool_submit(p, "A11111111111", key, job, NULL, NULL), 0);
	}
	for (int i = 0; i < 2; i++) {
		snprintf(key, sizeof key, "b%d", i);
		assert_int_equal(dd_fetch_pool_submit(p, "B22222222222", key, job, NULL, NULL), 0);
	}
	assert_int_equal(dd_fetch_pool_submit(p, "C33333333333", "c0", job, NULL, NULL), 0);
	release();
	assert_int_equal(dd_fetch_pool_wait_idle(p, "A11111111111", 30000), 0);
	assert_int_equal(dd_fetch_pool_wait_idle(p, "B22222222222", 30000), 0);
	assert_int_equal(dd_fetch_pool_wait_idle(p, "C33333333333", 30000), 0);
	/* One worker, one job per account at a time, accounts served in turn. */
	pthread_mutex_lock(&probe.mu);
	assert_string_equal(probe.order, "GABCABAA");
	pthread_mutex_unlock(&probe.mu);
	dd_fetch_pool_stop(&svc);
}

int main(void)
{
	dd_log_set_level(DD_LOG_WARN);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_refused_ranges),
		cmocka_unit_test(test_allow_list),
		cmocka_unit_test(test_url_precheck),
		cmocka_unit_test(test_fetch_http),
		cmocka_unit_test(test_pool_cap_and_dedup),
		cmocka_unit_test(test_pool_round_robin),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

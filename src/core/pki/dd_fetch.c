/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Outbound requests to user-supplied URLs and the fair fetch pool (fetch.h). A request
 * resolves the host itself, refuses the whole URL when any resolved address is in a
 * refused range, pins libcurl to exactly those addresses (CURLOPT_RESOLVE), and checks
 * again, in CURLOPT_OPENSOCKETFUNCTION, the sockaddr libcurl actually connects to, so
 * neither a second DNS answer (rebinding) nor an address literal in an odd notation gets
 * through. Redirects are followed here, one hop at a time, each hop checked the same
 * way. The pool keeps one FIFO per account and serves the accounts round-robin with at
 * most per_account running jobs each; a job key (the URL) is queued at most once per
 * account, so repeated refresh requests never pile up.
 */
#include "dd/fetch.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "dd/service.h"

#define MAX_ALLOW 64
#define MAX_ADDRS 8
#define URL_MAX 4096

static void set_msg(char *buf, size_t len, const char *fmt, ...) DD_PRINTF(3, 4);
static void set_msg(char *buf, size_t len, const char *fmt, ...)
{
	if (!buf || !len)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
}

/* ---- address ranges ------------------------------------------------------------------ */

struct cidr {
	int family;                 /* AF_INET or AF_INET6 */
	unsigned char addr[16];
	int prefix;
};

struct dd_fetch_allow {
	struct cidr v[MAX_ALLOW];
	size_t n;
};

static bool prefix_match(const unsigned char *a, const unsigned char *net, int prefix)
{
	int full = prefix / 8, rest = prefix % 8;
	if (memcmp(a, net, (size_t)full) != 0)
		return false;
	if (rest == 0)
		return true;
	unsigned char mask = (unsigned char)(0xFF << (8 - rest));
	return (a[full] & mask) == (net[full] & mask);
}

struct range4 {
	unsigned char net[4];
	int prefix;
	const char *name;
};

static const struct range4 refused4[] = {
	{ { 0, 0, 0, 0 }, 8, "0.0.0.0/8 (this network)" },
	{ { 10, 0, 0, 0 }, 8, "10.0.0.0/8 (private)" },
	{ { 100, 64, 0, 0 }, 10, "100.64.0.0/10 (shared address space)" },
	{ { 127, 0, 0, 0 }, 8, "127.0.0.0/8 (loopback)" },
	{ { 169, 254, 0, 0 }, 16, "169.254.0.0/16 (link-local, cloud metadata)" },
	{ { 172, 16, 0, 0 }, 12, "172.16.0.0/12 (private)" },
	{ { 192, 0, 0, 0 }, 24, "192.0.0.0/24 (IETF protocol assignments)" },
	{ { 192, 168, 0, 0 }, 16, "192.168.0.0/16 (private)" },
	{ { 198, 18, 0, 0 }, 15, "198.18.0.0/15 (benchmarking)" },
	{ { 224, 0, 0, 0 }, 4, "224.0.0.0/4 (multicast)" },
	{ { 240, 0, 0, 0 }, 4, "240.0.0.0/4 (reserved, broadcast)" },
};

static const char *refused_v4(const unsigned char a[4])
{
	for (size_t i = 0; i < sizeof refused4 / sizeof refused4[0]; i++)
		if (prefix_match(a, refused4[i].net, refused4[i].prefix))
			return refused4[i].name;
	return NULL;
}

/* The IPv4 address an IPv6 address stands for (mapped, compatible, NAT64 or 6to4). */
static bool embedded_v4(const unsigned char a[16], unsigned char out[4])
{
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF };
	static const unsigned char zero[12] = { 0 };
	static const unsigned char nat64[12] = { 0, 0x64, 0xFF, 0x9B, 0, 0, 0, 0, 0, 0, 0, 0 };
	if (memcmp(a, mapped, 12) == 0 || memcmp(a, zero, 12) == 0 || memcmp(a, nat64, 12) == 0) {
		memcpy(out, a + 12, 4);
		return true;
	}
	if (a[0] == 0x20 && a[1] == 0x02) { /* 2002::/16, 6to4 */
		memcpy(out, a + 2, 4);
		return true;
	}
	return false;
}

static const char *refused_v6(const unsigned char a[16])
{
	static const unsigned char loop[16] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };
	static const unsigned char any[16] = { 0 };
	static const unsigned char nat64_local[6] = { 0, 0x64, 0xFF, 0x9B, 0, 1 };
	if (memcmp(a, loop, 16) == 0)
		return "::1 (loopback)";
	if (memcmp(a, any, 16) == 0)
		return ":: (unspecified)";
	if ((a[0] & 0xFE) == 0xFC)
		return "fc00::/7 (unique local)";
	if (a[0] == 0xFE && (a[1] & 0x80) == 0x80)
		return "fe80::/9 (link-local and site-local)";
	if (a[0] == 0xFF)
		return "ff00::/8 (multicast)";
	if (memcmp(a, nat64_local, 6) == 0)
		return "64:ff9b:1::/48 (local-use NAT64)";
	unsigned char v4[4];
	if (embedded_v4(a, v4)) {
		const char *r = refused_v4(v4);
		if (r)
			return "an IPv6 form (mapped, compatible, NAT64 or 6to4) of a refused IPv4 range";
	}
	return NULL;
}

static bool allowed(const struct dd_fetch_allow *al, int family, const unsigned char *a)
{
	if (!al)
		return false;
	for (size_t i = 0; i < al->n; i++)
		if (al->v[i].family == family && prefix_match(a, al->v[i].addr, al->v[i].prefix))
			return true;
	return false;
}

int dd_fetch_addr_check(const struct sockaddr *sa, const struct dd_fetch_allow *allow, const char **why)
{
	const char *r = NULL;
	if (!sa)
		return DD_EINVAL;
	if (sa->sa_family == AF_INET) {
		const unsigned char *a = (const unsigned char *)&((const struct sockaddr_in *)(const void *)sa)->sin_addr;
		if (allowed(allow, AF_INET, a))
			return 0;
		r = refused_v4(a);
	} else if (sa->sa_family == AF_INET6) {
		const unsigned char *a = ((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr.s6_addr;
		unsigned char v4[4];
		static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF };
		if (allowed(allow, AF_INET6, a))
			return 0;
		if (memcmp(a, mapped, 12) == 0 && embedded_v4(a, v4) && allowed(allow, AF_INET, v4))
			return 0;
		r = refused_v6(a);
	} else {
		if (why)
			*why = "not an IP address";
		return DD_EINVAL;
	}
	if (why)
		*why = r;
	return r ? DD_EDENIED : 0;
}

/* ---- allow-list ---------------------------------------------------------------------- */

static int parse_cidr(const char *s, size_t n, struct cidr *c)
{
	char buf[64];
	if (n == 0 || n >= sizeof buf)
		return DD_EINVAL;
	memcpy(buf, s, n);
	buf[n] = '\0';
	char *slash = strchr(buf, '/');
	int64_t prefix = -1;
	if (slash) {
		*slash = '\0';
		if (dd_parse_int64(slash + 1, 0, 128, &prefix))
			return DD_EINVAL;
	}
	memset(c, 0, sizeof *c);
	if (inet_pton(AF_INET, buf, c->addr) == 1) {
		c->family = AF_INET;
		if (prefix > 32)
			return DD_EINVAL;
		c->prefix = prefix < 0 ? 32 : (int)prefix;
	} else if (inet_pton(AF_INET6, buf, c->addr) == 1) {
		c->family = AF_INET6;
		c->prefix = prefix < 0 ? 128 : (int)prefix;
	} else {
		return DD_EINVAL;
	}
	return 0;
}

int dd_fetch_allow_parse(const char *spec, struct dd_fetch_allow **out, char *err, size_t errlen)
{
	*out = NULL;
	if (!spec)
		return 0;
	struct dd_fetch_allow *a = calloc(1, sizeof *a);
	if (!a) {
		set_msg(err, errlen, "out of memory");
		return DD_ENOMEM;
	}
	const char *p = spec;
	while (*p) {
		while (*p == ' ' || *p == ',')
			p++;
		if (!*p)
			break;
		const char *e = p;
		while (*e && *e != ',' && *e != ' ')
			e++;
		if (a->n == MAX_ALLOW) {
			set_msg(err, errlen, "the outbound allow-list has more than %d entries", MAX_ALLOW);
			free(a);
			return DD_EINVAL;
		}
		if (parse_cidr(p, (size_t)(e - p), &a->v[a->n])) {
			set_msg(err, errlen, "the outbound allow-list entry '%.*s' is not an IPv4 or IPv6 CIDR block",
				(int)((e - p) > 64 ? 64 : (e - p)), p);
			free(a);
			return DD_EINVAL;
		}
		a->n++;
		p = e;
	}
	if (a->n == 0) {
		free(a);
		return 0;
	}
	*out = a;
	return 0;
}

void dd_fetch_allow_free(struct dd_fetch_allow *a)
{
	free(a);
}

int dd_fetch_configure(struct dd_service *svc, const char *spec, char *err, size_t errlen)
{
	const char *from = "--outbound-allow";
	if (!spec) {
		spec = getenv("IOTDEFENDER_OUTBOUND_ALLOW");
		from = "IOTDEFENDER_OUTBOUND_ALLOW";
	}
	struct dd_fetch_allow *a = NULL;
	char why[256] = "";
	int rc = dd_fetch_allow_parse(spec, &a, why, sizeof why);
	if (rc) {
		set_msg(err, errlen, "%s: %s", from, why);
		return rc;
	}
	dd_fetch_allow_free(svc->outbound_allow);
	svc->outbound_allow = a;
	if (a) {
		char list[1024] = "";
		size_t off = 0;
		for (size_t i = 0; i < a->n && off < sizeof list - 64; i++) {
			char ip[INET6_ADDRSTRLEN];
			inet_ntop(a->v[i].family, a->v[i].addr, ip, sizeof ip);
			off += (size_t)snprintf(list + off, sizeof list - off, "%s%s/%d", i ? ", " : "", ip, a->v[i].prefix);
		}
		dd_log_warn("outbound requests may reach these otherwise refused ranges (%s): %s", from, list);
	}
	return 0;
}

/* ---- URLs ---------------------------------------------------------------------------- */

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc = CURLE_FAILED_INIT;
static void curl_init(void) { curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT); }

struct url_parts {
	char scheme[8];
	char host[300];   /* without brackets */
	char port[8];
	bool literal;     /* host is an IP address */
	struct sockaddr_storage lit;
};

static int url_split(const char *url, struct url_parts *u)
{
	memset(u, 0, sizeof *u);
	if (!url || strnlen(url, URL_MAX + 1) > URL_MAX)
		return DD_EINVAL;
	pthread_once(&curl_once, curl_init);
	CURLU *h = curl_url();
	if (!h)
		return DD_ENOMEM;
	char *scheme = NULL, *host = NULL, *port = NULL;
	int rc = DD_EINVAL;
	if (curl_url_set(h, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(h, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(h, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    curl_url_get(h, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK)
		goto out;
	if (strcasecmp(scheme, "http") != 0 && strcasecmp(scheme, "https") != 0)
		goto out;
	size_t hl = strlen(host);
	if (hl == 0 || hl >= sizeof u->host || strlen(port) >= sizeof u->port)
		goto out;
	snprintf(u->scheme, sizeof u->scheme, "%s", scheme);
	if (host[0] == '[' && host[hl - 1] == ']') {
		memcpy(u->host, host + 1, hl - 2);
		u->host[hl - 2] = '\0';
		char *zone = strchr(u->host, '%');
		if (zone)
			*zone = '\0';
	} else {
		snprintf(u->host, sizeof u->host, "%s", host);
	}
	snprintf(u->port, sizeof u->port, "%s", port);
	struct sockaddr_in *s4 = (struct sockaddr_in *)(void *)&u->lit;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)(void *)&u->lit;
	if (inet_pton(AF_INET, u->host, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		u->literal = true;
	} else if (inet_pton(AF_INET6, u->host, &s6->sin6_addr) == 1) {
		memset(s6, 0, sizeof *s6);
		inet_pton(AF_INET6, u->host, &s6->sin6_addr);
		s6->sin6_family = AF_INET6;
		u->literal = true;
	}
	rc = 0;
out:
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(h);
	return rc;
}

static bool is_localhost(const char *host)
{
	size_t n = strlen(host);
	if (n && host[n - 1] == '.')
		n--;
	return (n == 9 && strncasecmp(host, "localhost", 9) == 0) ||
	       (n > 10 && strncasecmp(host + n - 10, ".localhost", 10) == 0);
}

int dd_fetch_url_precheck(const char *url, const struct dd_fetch_allow *allow)
{
	struct url_parts u;
	int rc = url_split(url, &u);
	if (rc)
		return rc;
	if (u.literal)
		return dd_fetch_addr_check((const struct sockaddr *)&u.lit, allow, NULL) ? DD_EDENIED : 0;
	if (is_localhost(u.host)) {
		struct sockaddr_in s4 = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7F000001) };
		return dd_fetch_addr_check((const struct sockaddr *)&s4, allow, NULL) ? DD_EDENIED : 0;
	}
	return 0;
}

/* ---- one request --------------------------------------------------------------------- */

struct xfer {
	const struct dd_fetch_req *req;
	unsigned char *data;
	size_t len, cap;
	bool too_big;
	bool refused;
	char refused_addr[INET6_ADDRSTRLEN];
	const char *refused_why;
};

static size_t on_write(char *ptr, size_t size, size_t nmemb, void *ud)
{
	struct xfer *x = ud;
	size_t n = size * nmemb, max = x->req->max_bytes;
	if (n > max - x->len) {
		x->too_big = true;
		if (!x->req->keep_body_on_overflow)
			return 0; /* aborts the transfer */
		n = max - x->len;
	}
	if (x->len + n + 1 > x->cap) {
		size_t ncap = x->cap ? x->cap : 4096;
		while (ncap < x->len + n + 1)
			ncap *= 2;
		if (ncap > max + 1)
			ncap = max + 1;
		unsigned char *nd = realloc(x->data, ncap);
		if (!nd)
			return 0;
		x->data = nd;
		x->cap = ncap;
	}
	memcpy(x->data + x->len, ptr, n);
	x->len += n;
	return size * nmemb;
}

static int on_progress(void *ud, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	struct xfer *x = ud;
	(void)dt, (void)dn, (void)ut, (void)un;
	return x->req->cancel && *x->req->cancel ? 1 : 0;
}

/* The last guard: libcurl asks this for every socket it is about to connect. */
static curl_socket_t on_open(void *ud, curlsocktype purpose, struct curl_sockaddr *a)
{
	struct xfer *x = ud;
	if (purpose != CURLSOCKTYPE_IPCXN)
		return CURL_SOCKET_BAD;
	const char *why = NULL;
	if (dd_fetch_addr_check(&a->addr, x->req->allow, &why)) {
		x->refused = true;
		x->refused_why = why ? why : "not an IP address";
		const void *ip = a->family == AF_INET6 ? (const void *)&((struct sockaddr_in6 *)(void *)&a->addr)->sin6_addr
						       : (const void *)&((struct sockaddr_in *)(void *)&a->addr)->sin_addr;
		if (!inet_ntop(a->family, ip, x->refused_addr, sizeof x->refused_addr))
			snprintf(x->refused_addr, sizeof x->refused_addr, "?");
		return CURL_SOCKET_BAD;
	}
	return socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
}

/* Resolves u->host, refuses it when any address is refused, and builds the
 * CURLOPT_RESOLVE entry that pins libcurl to the checked addresses. */
static int resolve_checked(const struct url_parts *u, const struct dd_fetch_allow *allow, struct curl_slist **pin,
			   char *detail, size_t detlen)
{
	if (u->literal) {
		const char *why = NULL;
		if (dd_fetch_addr_check((const struct sockaddr *)&u->lit, allow, &why)) {
			set_msg(detail, detlen, "address %s is refused: %s", u->host, why ? why : "?");
			return DD_EDENIED;
		}
		return 0;
	}
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_ADDRCONFIG };
	struct addrinfo *res = NULL;
	int g = getaddrinfo(u->host, u->port, &hints, &res);
	if (g) {
		set_msg(detail, detlen, "cannot resolve %s: %s", u->host, gai_strerror(g));
		return DD_EIO;
	}
	char entry[1024];
	int off = snprintf(entry, sizeof entry, "%s:%s:", u->host, u->port);
	int n = 0, rc = 0;
	for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
		char ip[INET6_ADDRSTRLEN] = "?";
		const void *a = ai->ai_family == AF_INET6 ? (const void *)&((struct sockaddr_in6 *)(void *)ai->ai_addr)->sin6_addr
							  : (const void *)&((struct sockaddr_in *)(void *)ai->ai_addr)->sin_addr;
		if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6)
			continue;
		inet_ntop(ai->ai_family, a, ip, sizeof ip);
		const char *why = NULL;
		if (dd_fetch_addr_check(ai->ai_addr, allow, &why)) {
			set_msg(detail, detlen, "%s resolves to %s, which is refused: %s", u->host, ip, why ? why : "?");
			rc = DD_EDENIED;
			break;
		}
		if (n < MAX_ADDRS && off < (int)sizeof entry - 64) {
			off += snprintf(entry + off, sizeof entry - (size_t)off, ai->ai_family == AF_INET6 ? "%s[%s]" : "%s%s",
					n ? "," : "", ip);
			n++;
		}
	}
	freeaddrinfo(res);
	if (rc)
		return rc;
	if (n == 0) {
		set_msg(detail, detlen, "%s has no IP address", u->host);
		return DD_EIO;
	}
	*pin = curl_slist_append(NULL, entry);
	if (!*pin) {
		set_msg(detail, detlen, "out of memory");
		return DD_ENOMEM;
	}
	return 0;
}

/* One hop. Returns 0 with *status (and *location for a 3xx with a Location), or DD_E*. */
static int one_hop(const struct dd_fetch_req *req, const char *url, long timeout_ms, struct xfer *x, long *status,
		   char **location, char *detail, size_t detlen)
{
	struct url_parts u;
	int rc = url_split(url, &u);
	if (rc) {
		set_msg(detail, detlen, "not an http(s) URL: %.200s", url);
		return rc;
	}
	struct curl_slist *pin = NULL, *hdr = NULL;
	rc = resolve_checked(&u, req->allow, &pin, detail, detlen);
	if (rc)
		return rc;
	CURL *h = curl_easy_init();
	if (!h) {
		curl_slist_free_all(pin);
		set_msg(detail, detlen, "libcurl handle allocation failed");
		return DD_ENOMEM;
	}
	for (const char *const *p = req->headers; p && *p; p++) {
		struct curl_slist *nh = curl_slist_append(hdr, *p);
		if (!nh) {
			rc = DD_ENOMEM;
			break;
		}
		hdr = nh;
	}
	char ebuf[CURL_ERROR_SIZE] = "";
	curl_easy_setopt(h, CURLOPT_URL, url);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
#else
	curl_easy_setopt(h, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h, CURLOPT_PROXY, "");
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, req->connect_timeout_ms < timeout_ms ? req->connect_timeout_ms : timeout_ms);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
	if (pin)
		curl_easy_setopt(h, CURLOPT_RESOLVE, pin);
	curl_easy_setopt(h, CURLOPT_OPENSOCKETFUNCTION, on_open);
	curl_easy_setopt(h, CURLOPT_OPENSOCKETDATA, x);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(h, CURLOPT_XFERINFODATA, x);
	if (!req->keep_body_on_overflow)
		curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)req->max_bytes);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, ebuf);
	if (req->user_agent)
		curl_easy_setopt(h, CURLOPT_USERAGENT, req->user_agent);
	if (hdr)
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
	if (req->method && strcmp(req->method, "POST") == 0) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, req->body ? req->body : "");
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(req->body ? req->body_len : 0));
	}
	CURLcode cc = rc ? CURLE_OUT_OF_MEMORY : curl_easy_perform(h);
	*status = 0;
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
	if (x->refused) {
		set_msg(detail, detlen, "%s: connection to %s refused: %s", u.host, x->refused_addr,
			x->refused_why ? x->refused_why : "?");
		rc = DD_EDENIED;
	} else if (rc) {
		set_msg(detail, detlen, "out of memory");
	} else if (x->too_big && !req->keep_body_on_overflow) {
		set_msg(detail, detlen, "the response is larger than %zu bytes", req->max_bytes);
		rc = DD_EIO;
	} else if (cc == CURLE_WRITE_ERROR && x->too_big) {
		rc = 0; /* truncated on purpose */
	} else if (cc == CURLE_FILESIZE_EXCEEDED) {
		set_msg(detail, detlen, "the response is larger than %zu bytes", req->max_bytes);
		rc = DD_EIO;
	} else if (cc == CURLE_ABORTED_BY_CALLBACK) {
		set_msg(detail, detlen, "cancelled (the server is stopping)");
		rc = DD_EIO;
	} else if (cc != CURLE_OK) {
		set_msg(detail, detlen, "%s", ebuf[0] ? ebuf : curl_easy_strerror(cc));
		rc = DD_EIO;
	} else if (*status >= 300 && *status < 400 && location) {
		char *loc = NULL;
		if (curl_easy_getinfo(h, CURLINFO_REDIRECT_URL, &loc) == CURLE_OK && loc)
			*location = strdup(loc);
	}
	curl_slist_free_all(hdr);
	curl_slist_free_all(pin);
	curl_easy_cleanup(h);
	return rc;
}

int dd_fetch_http(const struct dd_fetch_req *req, struct dd_fetch_resp *resp, char *detail, size_t detlen)
{
	if (!req || !req->url || !resp || req->max_bytes == 0 || req->timeout_ms <= 0 || req->connect_timeout_ms <= 0) {
		set_msg(detail, detlen, "invalid arguments");
		return DD_EINVAL;
	}
	pthread_once(&curl_once, curl_init);
	if (curl_init_rc != CURLE_OK) {
		set_msg(detail, detlen, "libcurl initialisation failed");
		return DD_EIO;
	}
	int64_t deadline = dd_time_now_ms() + req->timeout_ms;
	char *url = strdup(req->url);
	if (!url) {
		set_msg(detail, detlen, "out of memory");
		return DD_ENOMEM;
	}
	int rc = 0;
	for (int hop = 0;; hop++) {
		struct xfer x = { .req = req };
		char *location = NULL;
		long status = 0;
		int64_t left = deadline - dd_time_now_ms();
		if (left <= 0) {
			set_msg(detail, detlen, "timed out after %ld ms (redirects included)", req->timeout_ms);
			rc = DD_EIO;
			break;
		}
		rc = one_hop(req, url, (long)left, &x, &status, req->max_redirects > 0 ? &location : NULL, detail, detlen);
		if (rc) {
			free(x.data);
			free(location);
			break;
		}
		if (status >= 300 && status < 400 && req->max_redirects > 0) {
			free(x.data);
			if (!location) {
				set_msg(detail, detlen, "HTTP status %ld without a usable Location", status);
				rc = DD_EIO;
				break;
			}
			if (hop >= req->max_redirects) {
				free(location);
				set_msg(detail, detlen, "more than %d redirects", req->max_redirects);
				rc = DD_EIO;
				break;
			}
			dd_log_debug("fetch: %.300s redirects to %.300s", url, location);
			free(url);
			url = location;
			continue;
		}
		free(location);
		if (!x.data) {
			x.data = malloc(1);
			if (!x.data) {
				set_msg(detail, detlen, "out of memory");
				rc = DD_ENOMEM;
				break;
			}
		}
		x.data[x.len] = '\0';
		resp->status = status;
		resp->body = x.data;
		resp->len = x.len;
		break;
	}
	if (rc)
		dd_log_debug("fetch %.300s: %s", url, detail && detail[0] ? detail : dd_strerror(rc));
	free(url);
	return rc;
}

void dd_fetch_resp_clear(struct dd_fetch_resp *resp)
{
	if (!resp)
		return;
	free(resp->body);
	memset(resp, 0, sizeof *resp);
}

/* ---- the pool ------------------------------------------------------------------------ */

struct pjob {
	struct pjob *next;          /* in the account's FIFO */
	struct pjob *hnext;         /* in the key hash */
	struct pacct *acct;
	char *key;
	dd_fetch_job_fn fn;
	void *arg;
	void (*free_fn)(void *);
};

struct pacct {
	char account[80];           /* an account_region key (ctx.h): fairness is per account and region */
	struct pjob *head, *tail;
	size_t queued;
	int running;
	int waiters;
};

#define HASH_BUCKETS 4096

struct dd_fetch_pool {
	struct dd_service *svc;
	pthread_mutex_t mu;
	pthread_cond_t work, idle;
	pthread_t threads[32];
	int nthreads, per_account;
	volatile int stop;
	struct pacct **accts;       /* accounts with queued or running jobs, or waiters */
	size_t naccts, cap_accts, rr;
	size_t total_queued;
	int nwaiters;
	struct pjob *hash[HASH_BUCKETS];
};

static pthread_mutex_t pool_init_mu = PTHREAD_MUTEX_INITIALIZER;

static size_t key_hash(const char *account, const char *key)
{
	uint64_t h = 1469598103934665603ULL;
	for (const char *p = account; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	h = (h ^ 0x0A) * 1099511628211ULL;
	for (const char *p = key; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	return (size_t)(h % HASH_BUCKETS);
}

static struct pacct *acct_find(struct dd_fetch_pool *p, const char *account, bool create)
{
	for (size_t i = 0; i < p->naccts; i++)
		if (strcmp(p->accts[i]->account, account) == 0)
			return p->accts[i];
	if (!create)
		return NULL;
	if (p->naccts == p->cap_accts) {
		size_t ncap = p->cap_accts ? p->cap_accts * 2 : 16;
		struct pacct **nv = realloc(p->accts, ncap * sizeof *nv);
		if (!nv)
			return NULL;
		p->accts = nv;
		p->cap_accts = ncap;
	}
	struct pacct *a = calloc(1, sizeof *a);
	if (!a)
		return NULL;
	snprintf(a->account, sizeof a->account, "%s", account);
	p->accts[p->naccts++] = a;
	return a;
}

/* Forgets an account with nothing queued, running or waiting (keeps rr fair). */
static void acct_gc(struct dd_fetch_pool *p, struct pacct *a)
{
	if (a->queued || a->running || a->waiters)
		return;
	for (size_t i = 0; i < p->naccts; i++) {
		if (p->accts[i] != a)
			continue;
		memmove(&p->accts[i], &p->accts[i + 1], (p->naccts - i - 1) * sizeof *p->accts);
		p->naccts--;
		if (p->rr > i)
			p->rr--;
		if (p->rr >= p->naccts)
			p->rr = 0;
		break;
	}
	free(a);
}

static void hash_remove(struct dd_fetch_pool *p, struct pjob *j)
{
	struct pjob **pp = &p->hash[key_hash(j->acct->account, j->key)];
	while (*pp && *pp != j)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = j->hnext;
}

static void job_free(struct pjob *j)
{
	if (j->free_fn)
		j->free_fn(j->arg);
	free(j->key);
	free(j);
}

/* The next job, round-robin over accounts under their cap; NULL when none may run. */
static struct pjob *next_job(struct dd_fetch_pool *p)
{
	for (size_t k = 0; k < p->naccts; k++) {
		size_t i = (p->rr + k) % p->naccts;
		struct pacct *a = p->accts[i];
		if (!a->head || a->running >= p->per_account)
			continue;
		struct pjob *j = a->head;
		a->head = j->next;
		if (!a->head)
			a->tail = NULL;
		a->queued--;
		a->running++;
		p->total_queued--;
		p->rr = (i + 1) % p->naccts;
		return j;
	}
	return NULL;
}

static void *pool_worker(void *arg)
{
	struct dd_fetch_pool *p = arg;
	pthread_mutex_lock(&p->mu);
	while (!p->stop) {
		struct pjob *j = next_job(p);
		if (!j) {
			pthread_cond_wait(&p->work, &p->mu);
			continue;
		}
		pthread_mutex_unlock(&p->mu);
		j->fn(p->svc, j->acct->account, j->key, j->arg, &p->stop);
		pthread_mutex_lock(&p->mu);
		struct pacct *a = j->acct;
		hash_remove(p, j);
		a->running--;
		job_free(j);
		if (!a->queued && !a->running)
			pthread_cond_broadcast(&p->idle);
		acct_gc(p, a);
		pthread_cond_broadcast(&p->work); /* a capped account may run again */
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

static int env_int(const char *name, int dflt, int min, int max)
{
	const char *v = getenv(name);
	int64_t n;
	if (!v || !*v)
		return dflt;
	if (dd_parse_int64(v, min, max, &n)) {
		dd_log_warn("fetch: ignoring %s=%s (expected an integer from %d to %d)", name, v, min, max);
		return dflt;
	}
	return (int)n;
}

struct dd_fetch_pool *dd_fetch_pool_get(struct dd_service *svc)
{
	if (!svc)
		return NULL;
	struct dd_fetch_pool *p = __atomic_load_n(&svc->fetch_pool, __ATOMIC_ACQUIRE);
	if (p)
		return p;
	pthread_mutex_lock(&pool_init_mu);
	p = svc->fetch_pool;
	if (p)
		goto out;
	p = calloc(1, sizeof *p);
	if (!p)
		goto out;
	p->svc = svc;
	int workers = env_int("IOTDEFENDER_FETCH_WORKERS", DD_FETCH_POOL_WORKERS, 1, 32);
	p->per_account = env_int("IOTDEFENDER_FETCH_PER_ACCOUNT", DD_FETCH_POOL_PER_ACCOUNT, 1, workers);
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->work, NULL);
	pthread_cond_init(&p->idle, NULL);
	for (int i = 0; i < workers; i++) {
		if (pthread_create(&p->threads[i], NULL, pool_worker, p) != 0)
			break;
		p->nthreads++;
	}
	if (p->nthreads == 0) {
		pthread_cond_destroy(&p->work);
		pthread_cond_destroy(&p->idle);
		pthread_mutex_destroy(&p->mu);
		free(p);
		p = NULL;
		dd_log_error("fetch: cannot start the fetch pool");
		goto out;
	}
	dd_log_info("fetch: %d fetch worker(s), at most %d per account", p->nthreads, p->per_account);
	__atomic_store_n(&svc->fetch_pool, p, __ATOMIC_RELEASE);
out:
	pthread_mutex_unlock(&pool_init_mu);
	return p;
}

void dd_fetch_pool_stop(struct dd_service *svc)
{
	pthread_mutex_lock(&pool_init_mu);
	struct dd_fetch_pool *p = svc ? svc->fetch_pool : NULL;
	if (!p) {
		pthread_mutex_unlock(&pool_init_mu);
		return;
	}
	pthread_mutex_lock(&p->mu);
	p->stop = 1;
	pthread_cond_broadcast(&p->work);
	pthread_cond_broadcast(&p->idle);
	pthread_mutex_unlock(&p->mu);
	for (int i = 0; i < p->nthreads; i++)
		pthread_join(p->threads[i], NULL);
	pthread_mutex_lock(&p->mu);
	while (p->nwaiters) /* a waiter leaves at once when stop is set, then signals idle */
		pthread_cond_wait(&p->idle, &p->mu);
	pthread_mutex_unlock(&p->mu);
	for (size_t i = 0; i < p->naccts; i++) {
		struct pacct *a = p->accts[i];
		while (a->head) {
			struct pjob *j = a->head;
			a->head = j->next;
			job_free(j);
		}
		free(a);
	}
	free(p->accts);
	pthread_cond_destroy(&p->work);
	pthread_cond_destroy(&p->idle);
	pthread_mutex_destroy(&p->mu);
	free(p);
	__atomic_store_n(&svc->fetch_pool, NULL, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&pool_init_mu);
}

int dd_fetch_pool_submit(struct dd_fetch_pool *p, const char *account, const char *key, dd_fetch_job_fn fn,
			 void *arg, void (*free_fn)(void *))
{
	if (!p || !account || !key || !fn)
		return DD_EINVAL;
	pthread_mutex_lock(&p->mu);
	int rc = 0;
	size_t b = key_hash(account, key);
	for (struct pjob *j = p->hash[b]; j; j = j->hnext)
		if (strcmp(j->key, key) == 0 && strcmp(j->acct->account, account) == 0) {
			rc = 1;
			goto out;
		}
	if (p->stop || p->total_queued >= DD_FETCH_POOL_TOTAL_QUEUE) {
		rc = DD_ELIMIT;
		goto out;
	}
	struct pacct *a = acct_find(p, account, true);
	if (!a) {
		rc = DD_ENOMEM;
		goto out;
	}
	if (a->queued >= DD_FETCH_POOL_ACCOUNT_QUEUE) {
		rc = DD_ELIMIT;
		goto out;
	}
	struct pjob *j = calloc(1, sizeof *j);
	char *k = strdup(key);
	if (!j || !k) {
		free(j);
		free(k);
		acct_gc(p, a);
		rc = DD_ENOMEM;
		goto out;
	}
	j->acct = a;
	j->key = k;
	j->fn = fn;
	j->arg = arg;
	j->free_fn = free_fn;
	if (a->tail)
		a->tail->next = j;
	else
		a->head = j;
	a->tail = j;
	a->queued++;
	p->total_queued++;
	j->hnext = p->hash[b];
	p->hash[b] = j;
	pthread_cond_signal(&p->work);
out:
	pthread_mutex_unlock(&p->mu);
	return rc;
}

size_t dd_fetch_pool_pending(struct dd_fetch_pool *p, const char *account)
{
	if (!p || !account)
		return 0;
	pthread_mutex_lock(&p->mu);
	struct pacct *a = acct_find(p, account, false);
	size_t n = a ? a->queued + (size_t)a->running : 0;
	pthread_mutex_unlock(&p->mu);
	return n;
}

int dd_fetch_pool_wait_idle(struct dd_fetch_pool *p, const char *account, int64_t timeout_ms)
{
	if (!p || !account)
		return 0;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	int64_t ns = ts.tv_nsec + (timeout_ms % 1000) * 1000000;
	ts.tv_sec += (time_t)(timeout_ms / 1000 + ns / 1000000000);
	ts.tv_nsec = (long)(ns % 1000000000);
	pthread_mutex_lock(&p->mu);
	struct pacct *a = acct_find(p, account, false);
	int rc = 0;
	if (a) {
		a->waiters++;
		p->nwaiters++;
		while (!p->stop && (a->queued || a->running))
			if (pthread_cond_timedwait(&p->idle, &p->mu, &ts) != 0)
				break;
		rc = (a->queued || a->running) ? 1 : 0;
		a->waiters--;
		p->nwaiters--;
		if (p->stop)
			pthread_cond_broadcast(&p->idle);
		else
			acct_gc(p, a);
	}
	pthread_mutex_unlock(&p->mu);
	return rc;
}

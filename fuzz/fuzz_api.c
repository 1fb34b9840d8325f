/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for whole-request dispatch (dd_api_handle) against a real store in a
 * private temporary data directory: the target signs each request itself, with the key of
 * an in-memory credentials list, so fuzzed bodies get past SigV4 and reach the handlers.
 * The first input byte picks the protocol (mod 4):
 *   0 iot restJson1:             method NUL raw path NUL query "k=v&…" NUL body
 *   1 iam awsQuery, 2 sns awsQuery: form body NUL query "k=v&…"
 *   3 cognito-identity awsJson1_1: operation NUL JSON body
 * Every answer must be a complete response: a status, a body for an error, and a JSON
 * object for the JSON protocols. The store is recreated every few thousand inputs so it stays small;
 * POST /crl-refresh (which fetches URLs from the network) is skipped.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "dd/buf.h"
#include "dd/service.h"
#include "server/dd_api.h"
#include "server/dd_sigv4.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define T0 1704164645 /* 2024-01-02T03:04:05Z */
#define SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"

static struct dd_service svc;
static struct dd_cred cred = { "default", "AKIDEXAMPLE", SECRET, "123456789012" };
static struct dd_creds creds = { &cred, 1 };
static char dir[64];
static unsigned long runs;

static int64_t fixed_clock(void) { return T0; }

static void rm_rf(const char *path)
{
	DIR *d = opendir(path);
	if (!d) {
		unlink(path);
		return;
	}
	struct dirent *e;
	char p[512];
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
			snprintf(p, sizeof p, "%s/%s", path, e->d_name);
			rm_rf(p);
		}
	closedir(d);
	rmdir(path);
}

static void close_store(void)
{
	if (svc.store) {
		dd_service_close(&svc);
		rm_rf(dir);
	}
}

static void open_store(void)
{
	const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
	snprintf(dir, sizeof dir, "%s/fuzz_api.%ld", base, (long)getpid());
	rm_rf(dir);
	memset(&svc, 0, sizeof svc);
	snprintf(svc.endpoint_url, sizeof svc.endpoint_url, "http://127.0.0.1:7878");
	snprintf(svc.endpoint_host, sizeof svc.endpoint_host, "127.0.0.1:7878");
	if (dd_service_init(&svc, dir) != 0)
		abort();
}

struct hdrs {
	const char *name[6];
	const char *value[6];
};

static const char *hdr(void *ud, const char *name)
{
	struct hdrs *h = ud;
	for (int i = 0; i < 6 && h->name[i]; i++)
		if (strcasecmp(h->name[i], name) == 0)
			return h->value[i];
	return NULL;
}

static size_t split_query(const char *qs, struct dd_kv *q, size_t max)
{
	size_t n = 0;
	char *copy = strdup(qs);
	for (char *p = copy; p && *p && n < max;) {
		char *amp = strchr(p, '&');
		if (amp)
			*amp = '\0';
		char *eq = strchr(p, '=');
		if (eq)
			*eq = '\0';
		char *k = dd_uri_decode(p, strlen(p), false);
		char *v = eq ? dd_uri_decode(eq + 1, strlen(eq + 1), false) : strdup("");
		if (k && v) {
			q[n].key = k;
			q[n].value = v;
			n++;
		} else {
			free(k);
			free(v);
		}
		p = amp ? amp + 1 : NULL;
	}
	free(copy);
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!runs) {
		dd_log_set_level(DD_LOG_ERROR);
		if (dd_models_load())
			abort();
		open_store();
		atexit(close_store);
	}
	if (++runs % 4000 == 0) {
		close_store();
		open_store();
	}
	if (size < 1 || size > 65536)
		return 0;
	int mode = data[0] % 4;
	char *copy = malloc(size);
	memcpy(copy, data + 1, size - 1);
	copy[size - 1] = '\0';
	const char *part[4] = { "", "", "", "" };
	size_t off = 0, plen[4] = { 0 };
	for (int i = 0; i < 4 && off <= size - 1; i++) {
		part[i] = copy + off;
		plen[i] = strlen(copy + off);
		off += plen[i] + 1;
	}
	static const char *const services[] = { "iot", "iam", "sns", "cognito-identity" };
	struct dd_http_request req = { .header = hdr };
	/* Host, X-Amz-Date, Content-Type, [X-Amz-Target], then Authorization once signed */
	struct hdrs h = { { "Host", "X-Amz-Date", "Content-Type", NULL, NULL, NULL },
			  { "127.0.0.1:7878", "20240102T030405Z", NULL, NULL, NULL, NULL } };
	char target[160];
	const char *qs = "";
	const char *signed_headers = "content-type;host;x-amz-date";
	if (mode == 0) {
		req.method = part[0];
		req.raw_path = *part[1] ? part[1] : "/";
		qs = part[2];
		req.body = (const unsigned char *)part[3];
		req.body_len = plen[3];
		h.value[2] = "application/json";
		if (strcmp(req.raw_path, "/crl-refresh") == 0)
			goto out;
	} else if (mode == 1 || mode == 2) {
		req.method = "POST";
		req.raw_path = "/";
		req.body = (const unsigned char *)part[0];
		req.body_len = plen[0];
		qs = part[1];
		h.value[2] = "application/x-www-form-urlencoded; charset=utf-8";
	} else {
		req.method = "POST";
		req.raw_path = "/";
		snprintf(target, sizeof target, "AWSCognitoIdentityService.%.100s", part[0]);
		req.body = (const unsigned char *)part[1];
		req.body_len = plen[1];
		h.value[2] = "application/x-amz-json-1.1";
		h.name[3] = "X-Amz-Target";
		h.value[3] = target;
		signed_headers = "content-type;host;x-amz-date;x-amz-target";
	}
	struct dd_kv q[64];
	req.nquery = split_query(qs, q, 64);
	req.query = q;
	struct dd_sigv4_request sreq = {
		.method = req.method, .raw_path = req.raw_path, .query = req.query, .nquery = req.nquery,
		.header = hdr, .ud = &h, .body = req.body, .body_len = req.body_len,
	};
	char authz[1024];
	if (dd_sigv4_sign(cred.access_key, SECRET, "us-east-1", services[mode], "20240102T030405Z",
			  signed_headers, &sreq, authz, sizeof authz) != 0)
		goto free_q;
	int ai = h.name[3] ? 4 : 3;
	h.name[ai] = "Authorization";
	h.value[ai] = authz;
	req.ud = &h;
	struct dd_api api = { .svc = &svc, .creds = &creds, .clock_s = fixed_clock };
	struct dd_http_response resp;
	dd_api_handle(&api, &req, &resp);
	if (resp.status < 200 || resp.status > 599)
		abort();
	if (resp.status >= 400 && (!resp.body || !resp.content_type))
		abort(); /* an error without a body */
	if (resp.body && resp.content_type && strstr(resp.content_type, "json")) {
		json_t *j = json_loadb(resp.body, resp.body_len, 0, NULL);
		if (!json_is_object(j))
			abort(); /* a JSON protocol answered something that is not a JSON object */
		json_decref(j);
	}
	free(resp.body);
free_q:
	for (size_t i = 0; i < req.nquery; i++) {
		free(q[i].key);
		free(q[i].value);
	}
out:
	free(copy);
	return 0;
}

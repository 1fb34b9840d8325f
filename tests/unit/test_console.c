/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the web console's server side (dd_console.c), calling dd_console_handle
 * directly on a fresh service and an in-memory key pair: static files only from the front
 * end's directory (no "..", no dot files, no symlinks out, assets 404 rather than the
 * shell), the security headers, sign-in with a wrong and a right secret, the session
 * cookie and CSRF token, a write refused without the token and done with it through the
 * API's handler (visible through dd_api_call), sign-out ending the session, and the AWS
 * error code and status of a failed call.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "dd/service.h"
#include "server/dd_api.h"
#include "server/dd_console.h"
#include "server/dd_model.h"

#define ACCOUNT "123456789012"
#define KEY "AKIACONSOLETEST00001"
#define SECRET "console/secret+key/000000000000000000000"

static char root[64];
static char dist[128];

struct hdrs {
	const char *names[8];
	const char *values[8];
};

static const char *hdr(void *ud, const char *name)
{
	struct hdrs *h = ud;
	for (int i = 0; i < 8 && h->names[i]; i++)
		if (strcasecmp(h->names[i], name) == 0)
			return h->values[i];
	return NULL;
}

struct fx {
	char dir[64];
	struct dd_service svc;
	struct dd_cred cred;
	struct dd_creds creds;
	struct dd_api api;
};

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	snprintf(f->dir, sizeof f->dir, "/tmp/ddconsole-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	assert_int_equal(dd_service_init(&f->svc, f->dir), 0);
	snprintf(f->cred.profile, sizeof f->cred.profile, "default");
	snprintf(f->cred.access_key, sizeof f->cred.access_key, KEY);
	snprintf(f->cred.secret, sizeof f->cred.secret, SECRET);
	snprintf(f->cred.account, sizeof f->cred.account, ACCOUNT);
	f->creds.items = &f->cred;
	f->creds.n = 1;
	f->api.svc = &f->svc;
	f->api.creds = &f->creds;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	dd_service_close(&f->svc);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

struct reply {
	int status;
	char *body;
	char *headers;
	const char *ctype;
};

static struct reply run(struct fx *f, const char *method, const char *path, const char *body, struct hdrs *h,
			struct dd_kv *query, size_t nquery)
{
	struct hdrs none = { { NULL }, { NULL } };
	struct dd_http_request req = {
		.method = method, .raw_path = path, .query = query, .nquery = nquery, .header = hdr,
		.ud = h ? h : &none, .body = (const unsigned char *)body, .body_len = body ? strlen(body) : 0,
	};
	struct dd_http_response resp;
	memset(&resp, 0, sizeof resp);
	assert_true(dd_console_route(path));
	dd_console_handle(&f->api, &req, &resp);
	struct reply r = { resp.status, NULL, resp.headers ? resp.headers : strdup(""), resp.content_type };
	r.body = malloc(resp.body_len + 1);
	if (resp.body_len)
		memcpy(r.body, resp.body, resp.body_len);
	r.body[resp.body_len] = '\0';
	free(resp.body);
	return r;
}

static void done(struct reply *r)
{
	free(r->body);
	free(r->headers);
}

static void test_routes(void **state)
{
	(void)state;
	assert_true(dd_console_route("/console"));
	assert_true(dd_console_route("/console/"));
	assert_true(dd_console_route("/console/api/iot/ListThings"));
	assert_false(dd_console_route("/consoles"));
	assert_false(dd_console_route("/consolex/y"));
	assert_false(dd_console_route("/health"));
	assert_false(dd_console_route("/things"));
}

static void test_static_files(void **state)
{
	struct fx *f = *state;
	struct reply r = run(f, "GET", "/console/", NULL, NULL, NULL, 0);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "<html>shell</html>");
	assert_string_equal(r.ctype, "text/html; charset=utf-8");
	assert_non_null(strstr(r.headers, "Content-Security-Policy: default-src 'none'; script-src 'self';"));
	assert_non_null(strstr(r.headers, "frame-ancestors 'none'"));
	assert_non_null(strstr(r.headers, "X-Content-Type-Options: nosniff\n"));
	assert_non_null(strstr(r.headers, "Cache-Control: no-store\n"));
	done(&r);

	r = run(f, "GET", "/console/assets/app-1.js", NULL, NULL, NULL, 0);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "console.log(1)");
	assert_string_equal(r.ctype, "text/javascript; charset=utf-8");
	assert_non_null(strstr(r.headers, "immutable"));
	done(&r);

	/* client-side routes get the shell; missing assets do not */
	r = run(f, "GET", "/console/audit/results/abc", NULL, NULL, NULL, 0);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "<html>shell</html>");
	done(&r);
	r = run(f, "GET", "/console/assets/missing.js", NULL, NULL, NULL, 0);
	assert_int_equal(r.status, 404);
	done(&r);

	/* nothing outside dist, however spelled: the shell at most */
	static const char *const bad[] = {
		"/console/../secret.txt", "/console/assets/../../secret.txt", "/console/assets/..%2fsecret.txt",
		"/console/%2e%2e/secret.txt", "/console//secret.txt", "/console/.hidden", "/console/assets/.hidden",
		"/console/out.txt", "/console/assets/out.js", "/console/assets/x\\..\\..\\secret.txt",
		"/console/assets/", "/console/assets",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		r = run(f, "GET", bad[i], NULL, NULL, NULL, 0);
		if (strstr(r.body, "TOPSECRET") || strstr(r.body, "hidden-file"))
			fail_msg("%s served a file outside the front end", bad[i]);
		if (r.status == 200)
			assert_string_equal(r.body, "<html>shell</html>");
		else
			assert_int_equal(r.status, 404);
		if (strncmp(bad[i], "/console/assets/", 16) == 0 && bad[i][16])
			assert_int_equal(r.status, 404);
		done(&r);
	}

	r = run(f, "GET", "/console", NULL, NULL, NULL, 0);
	assert_int_equal(r.status, 301);
	assert_non_null(strstr(r.headers, "Location: /console/\n"));
	done(&r);
	r = run(f, "PUT", "/console/index.html", "x", NULL, NULL, 0);
	assert_int_equal(r.status, 405);
	done(&r);
}

/* Signs in; copies the cookie header value and the CSRF token. */
static void sign_in(struct fx *f, char cookie[80], char csrf[65])
{
	struct reply r = run(f, "POST", "/console/api/session",
			     "{\"accessKeyId\":\"" KEY "\",\"secretAccessKey\":\"" SECRET "\"}", NULL, NULL, 0);
	assert_int_equal(r.status, 200);
	const char *c = strstr(r.headers, "Set-Cookie: dd_console=");
	assert_non_null(c);
	c += strlen("Set-Cookie: ");
	snprintf(cookie, 80, "%.75s", c);
	assert_int_equal(strlen(cookie), 75);
	assert_non_null(strstr(c, "; Path=/console; HttpOnly; SameSite=Strict\n"));
	assert_null(strstr(r.body, SECRET));
	assert_non_null(strstr(r.body, "\"account\":\"" ACCOUNT "\""));
	const char *t = strstr(r.body, "\"csrfToken\":\"");
	assert_non_null(t);
	snprintf(csrf, 65, "%.64s", t + 13);
	assert_int_equal(strlen(csrf), 64);
	done(&r);
}

static void test_session_and_csrf(void **state)
{
	struct fx *f = *state;
	static const char *const wrong[] = {
		"{\"accessKeyId\":\"" KEY "\",\"secretAccessKey\":\"" SECRET "x\"}",
		"{\"accessKeyId\":\"" KEY "\",\"secretAccessKey\":\"console/secret+key/00000000000000000000\"}",
		"{\"accessKeyId\":\"AKIANOBODY0000000000\",\"secretAccessKey\":\"" SECRET "\"}",
		"{\"accessKeyId\":\"" KEY "\"}", "[]", "not json", "",
	};
	for (size_t i = 0; i < sizeof wrong / sizeof wrong[0]; i++) {
		struct reply r = run(f, "POST", "/console/api/session", wrong[i], NULL, NULL, 0);
		assert_true(r.status == 400 || r.status == 403);
		assert_null(strstr(r.headers, "Set-Cookie"));
		done(&r);
	}

	char cookie[80], csrf[65];
	sign_in(f, cookie, csrf);

	/* no cookie, a forged one: 401 */
	struct hdrs forged = { { "Cookie", "X-CSRF-Token" },
			       { "dd_console=00000000000000000000000000000000000000000000000000000000000000ff", csrf } };
	struct reply r = run(f, "POST", "/console/api/iot/ListThings", "{}", &forged, NULL, 0);
	assert_int_equal(r.status, 401);
	done(&r);
	r = run(f, "GET", "/console/api/session", NULL, NULL, NULL, 0);
	assert_int_equal(r.status, 401);
	done(&r);

	/* the session, without and with a wrong token */
	struct hdrs nocsrf = { { "Cookie" }, { cookie } };
	r = run(f, "POST", "/console/api/iot/CreateThing", "{\"thingName\":\"t1\"}", &nocsrf, NULL, 0);
	assert_int_equal(r.status, 403);
	done(&r);
	char bad[65];
	snprintf(bad, sizeof bad, "%s", csrf);
	bad[0] = bad[0] == 'a' ? 'b' : 'a';
	struct hdrs badcsrf = { { "Cookie", "X-CSRF-Token" }, { cookie, bad } };
	r = run(f, "POST", "/console/api/iot/CreateThing", "{\"thingName\":\"t1\"}", &badcsrf, NULL, 0);
	assert_int_equal(r.status, 403);
	done(&r);
	struct hdrs xorigin = { { "Cookie", "X-CSRF-Token", "Origin", "Host" },
				{ cookie, csrf, "http://evil.example", "127.0.0.1:7878" } };
	r = run(f, "POST", "/console/api/iot/CreateThing", "{\"thingName\":\"t1\"}", &xorigin, NULL, 0);
	assert_int_equal(r.status, 403);
	done(&r);
	json_t *out = NULL;
	char err[256];
	json_t *in = json_pack("{s:s}", "thingName", "t1");
	assert_int_not_equal(dd_api_call(&f->svc, ACCOUNT, "us-east-1", "iot", "DescribeThing", in, &out, err, sizeof err), 0);
	assert_null(out);

	/* with it: the API's handler runs as the session's account */
	struct hdrs ok = { { "Cookie", "X-CSRF-Token", "Origin", "Host" },
			   { cookie, csrf, "http://127.0.0.1:7878", "127.0.0.1:7878" } };
	r = run(f, "POST", "/console/api/iot/CreateThing", "{\"thingName\":\"t1\"}", &ok, NULL, 0);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, ":" ACCOUNT ":thing/t1"));
	done(&r);
	assert_int_equal(dd_api_call(&f->svc, ACCOUNT, "us-east-1", "iot", "DescribeThing", in, &out, err, sizeof err), 0);
	json_decref(in);
	json_decref(out);

	/* errors keep the API's code and status */
	r = run(f, "POST", "/console/api/iot/DescribeThing", "{\"thingName\":\"nobody\"}", &ok, NULL, 0);
	assert_int_equal(r.status, 404);
	assert_non_null(strstr(r.body, "\"__type\":\"ResourceNotFoundException\""));
	done(&r);
	r = run(f, "POST", "/console/api/iot/CreateThing", "{\"thingName\":\"a b\"}", &ok, NULL, 0);
	assert_int_equal(r.status, 400);
	assert_non_null(strstr(r.body, "thingName"));
	done(&r);
	r = run(f, "POST", "/console/api/iot/NoSuchOp", "{}", &ok, NULL, 0);
	assert_int_equal(r.status, 404);
	done(&r);
	struct dd_kv badregion = { (char *)"region", (char *)"us east" };
	r = run(f, "POST", "/console/api/iot/ListThings", "{}", &ok, &badregion, 1);
	assert_int_equal(r.status, 400);
	done(&r);
	r = run(f, "GET", "/console/api/iot/ListThings", NULL, &ok, NULL, 0);
	assert_int_equal(r.status, 405);
	done(&r);

	/* sign-out needs the token, then the cookie is dead */
	r = run(f, "DELETE", "/console/api/session", NULL, &nocsrf, NULL, 0);
	assert_int_equal(r.status, 403);
	done(&r);
	r = run(f, "DELETE", "/console/api/session", NULL, &ok, NULL, 0);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.headers, "Max-Age=0"));
	done(&r);
	r = run(f, "GET", "/console/api/session", NULL, &ok, NULL, 0);
	assert_int_equal(r.status, 401);
	done(&r);
	r = run(f, "POST", "/console/api/iot/ListThings", "{}", &ok, NULL, 0);
	assert_int_equal(r.status, 401);
	done(&r);
}

int main(void)
{
	/* the front end's directory, with a file and a symlink outside it */
	snprintf(root, sizeof root, "/tmp/ddconsole-web-XXXXXX");
	assert_non_null(mkdtemp(root));
	snprintf(dist, sizeof dist, "%s/dist", root);
	char p[256];
	mkdir(dist, 0700);
	snprintf(p, sizeof p, "%s/assets", dist);
	mkdir(p, 0700);
	snprintf(p, sizeof p, "%s/index.html", dist);
	write_file(p, "<html>shell</html>");
	snprintf(p, sizeof p, "%s/assets/app-1.js", dist);
	write_file(p, "console.log(1)");
	snprintf(p, sizeof p, "%s/.hidden", dist);
	write_file(p, "hidden-file");
	snprintf(p, sizeof p, "%s/assets/.hidden", dist);
	write_file(p, "hidden-file");
	snprintf(p, sizeof p, "%s/secret.txt", root);
	write_file(p, "TOPSECRET");
	char link[256];
	snprintf(link, sizeof link, "%s/out.txt", dist);
	if (symlink(p, link))
		return 1;
	snprintf(link, sizeof link, "%s/assets/out.js", dist);
	if (symlink(p, link))
		return 1;
	setenv("IOTDEFENDER_CONSOLE_DIR", dist, 1);

	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_routes),
		cmocka_unit_test_setup_teardown(test_static_files, setup, teardown),
		cmocka_unit_test_setup_teardown(test_session_and_csrf, setup, teardown),
	};
	if (dd_models_load())
		return 1;
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	dd_models_free();
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", root);
	if (system(cmd) != 0)
		return 1;
	return rc;
}

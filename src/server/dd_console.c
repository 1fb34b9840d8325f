/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The web console. Static files come from the built front end (web/dist: the directory in
 * IOTDEFENDER_CONSOLE_DIR, else ../web/dist or web/dist next to the binary), by a strict
 * path whitelist (no "..", no dot files, no percent escapes), with a Content-Security-Policy
 * that allows no inline script and no framing. Sign-in checks an access key pair as SigV4
 * does: a credentials-file key is its account's root, else an IAM user's Active key
 * (constant-time compare of the secret either way) and creates an in-memory session: a
 * random 256-bit id in an HttpOnly SameSite=Strict cookie (Secure when the endpoint is
 * https), a random CSRF token the page must echo in X-CSRF-Token on every call, and an
 * idle timeout (IOTDEFENDER_CONSOLE_IDLE_SECONDS, default 1800). The secret is never
 * kept. /console/api/<service>/<Operation> calls the API's own handler through
 * dd_api_call_as as the session's root or IAM user, so validation, authorization and
 * errors are the API's; an IAM user's session ends as soon as its key is deleted or made
 * inactive. /console/api/permissions answers, with the same authorization, which
 * operations the session may call (the page hides or disables the others).
 */
#include "server/dd_console.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dd/buf.h"
#include "dd/iam.h"
#include "server/dd_authz.h"
#include "server/dd_awserr.h"
#include "server/dd_json_write.h"

#define MAX_SESSIONS 4096
#define MAX_FILE (32u * 1024u * 1024u)
#define COOKIE "dd_console"

struct session {
	bool used;
	unsigned char id[32];
	char csrf[65];
	char account[13];
	char access_key[129];
	char user[65];    /* the IAM user; "" for the account's root */
	char user_id[32];
	int64_t last_ms;
};

#define MAX_PERMISSION_CHECKS 200

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct session sessions[MAX_SESSIONS];
static pthread_once_t once = PTHREAD_ONCE_INIT;
static char dist_dir[PATH_MAX];
static int64_t idle_ms = 1800 * 1000;

static const char CSP[] = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
			  "font-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; "
			  "frame-ancestors 'none'";

static bool has_index(const char *dir)
{
	char p[PATH_MAX + 16];
	snprintf(p, sizeof p, "%s/index.html", dir);
	struct stat st;
	return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

static void init_config(void)
{
	const char *env = getenv("IOTDEFENDER_CONSOLE_DIR");
	if (env && *env && strlen(env) < sizeof dist_dir) {
		snprintf(dist_dir, sizeof dist_dir, "%s", env);
	} else {
		char exe[PATH_MAX];
		ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
		if (n > 0) {
			exe[n] = '\0';
			char *slash = strrchr(exe, '/');
			if (slash)
				*slash = '\0';
			static const char *const rel[] = { "../web/dist", "web/dist", "../share/iotdefender/console" };
			for (size_t i = 0; i < sizeof rel / sizeof rel[0]; i++) {
				char cand[PATH_MAX];
				if ((size_t)snprintf(cand, sizeof cand, "%s/%s", exe, rel[i]) >= sizeof cand)
					continue;
				if (has_index(cand)) {
					snprintf(dist_dir, sizeof dist_dir, "%s", cand);
					break;
				}
			}
		}
	}
	const char *idle = getenv("IOTDEFENDER_CONSOLE_IDLE_SECONDS");
	int64_t s;
	if (idle && dd_parse_int64(idle, 1, 7 * 86400, &s) == 0)
		idle_ms = s * 1000;
	if (!dist_dir[0])
		dd_log_warn("console: no built front end found (set IOTDEFENDER_CONSOLE_DIR or run scripts/setup.sh)");
}

bool dd_console_route(const char *p)
{
	return strncmp(p, "/console", 8) == 0 && (p[8] == '\0' || p[8] == '/');
}

/* ---- responses ------------------------------------------------------------------------ */

static void add_header(struct dd_http_response *r, const char *name, const char *value)
{
	size_t old = r->headers ? strlen(r->headers) : 0;
	size_t add = strlen(name) + strlen(value) + 3;
	char *n = realloc(r->headers, old + add + 1);
	if (!n)
		return;
	snprintf(n + old, add + 1, "%s: %s\n", name, value);
	r->headers = n;
}

static void common_headers(struct dd_http_response *r, bool cache)
{
	add_header(r, "Content-Security-Policy", CSP);
	add_header(r, "X-Content-Type-Options", "nosniff");
	add_header(r, "X-Frame-Options", "DENY");
	add_header(r, "Referrer-Policy", "no-referrer");
	add_header(r, "Cache-Control", cache ? "public, max-age=31536000, immutable" : "no-store");
}

static void json_reply(struct dd_http_response *r, int status, json_t *o)
{
	if (!o)
		o = json_object();
	r->status = status;
	r->content_type = "application/json";
	size_t len = 0;
	r->body = o ? dd_json_write(o, &len) : NULL;
	r->body_len = r->body ? len : 0;
	json_decref(o);
	common_headers(r, false);
}

static void error_reply(struct dd_http_response *r, int status, const char *code, const char *msg)
{
	json_t *o = json_object();
	json_object_set_new(o, "__type", json_string(code));
	json_object_set_new(o, "message", json_string(msg));
	r->error_type = code;
	json_reply(r, status, o);
}

/* ---- static files --------------------------------------------------------------------- */

static bool safe_rel_path(const char *p)
{
	if (!*p || strlen(p) > 200 || *p == '/')
		return false;
	for (const char *s = p; *s; s++) {
		char ch = *s;
		bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
			  ch == '-' || ch == '_' || ch == '.' || ch == '/';
		if (!ok)
			return false;
		/* no empty, "." or ".." segment and no dot file */
		if ((s == p || s[-1] == '/') && (ch == '.' || ch == '/'))
			return false;
	}
	return p[strlen(p) - 1] != '/';
}

static const char *content_type_of(const char *p)
{
	static const struct {
		const char *ext, *type;
	} types[] = {
		{ ".html", "text/html; charset=utf-8" }, { ".js", "text/javascript; charset=utf-8" },
		{ ".mjs", "text/javascript; charset=utf-8" }, { ".css", "text/css; charset=utf-8" },
		{ ".json", "application/json" }, { ".svg", "image/svg+xml" }, { ".png", "image/png" },
		{ ".ico", "image/x-icon" }, { ".woff2", "font/woff2" }, { ".woff", "font/woff" },
		{ ".ttf", "font/ttf" }, { ".txt", "text/plain; charset=utf-8" }, { ".map", "application/json" },
	};
	const char *dot = strrchr(p, '.');
	if (dot && !strchr(dot, '/'))
		for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
			if (strcmp(dot, types[i].ext) == 0)
				return types[i].type;
	return "application/octet-stream";
}

/* Reads dist_dir/rel into a malloc'd buffer: 0, DD_ENOTFOUND or DD_EIO. */
static int read_file(const char *rel, char **out, size_t *len)
{
	char path[PATH_MAX + 256];
	if ((size_t)snprintf(path, sizeof path, "%s/%s", dist_dir, rel) >= sizeof path)
		return DD_ENOTFOUND;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return errno == ENOENT || errno == ENOTDIR || errno == ELOOP ? DD_ENOTFOUND : DD_EIO;
	struct stat st;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size < 0 || (uint64_t)st.st_size > MAX_FILE) {
		close(fd);
		return DD_ENOTFOUND;
	}
	size_t n = (size_t)st.st_size;
	char *buf = malloc(n ? n : 1);
	if (!buf) {
		close(fd);
		return DD_ENOMEM;
	}
	size_t got = 0;
	while (got < n) {
		ssize_t k = read(fd, buf + got, n - got);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		got += (size_t)k;
	}
	close(fd);
	if (got != n) {
		free(buf);
		return DD_EIO;
	}
	*out = buf;
	*len = n;
	return 0;
}

static void serve_static(const char *rel, bool spa_fallback, struct dd_http_response *r)
{
	if (!dist_dir[0]) {
		r->status = 503;
		r->content_type = "text/plain; charset=utf-8";
		r->body = strdup("The console's front end is not built: run scripts/setup.sh (npm ci && npm run build in web/).\n");
		r->body_len = r->body ? strlen(r->body) : 0;
		common_headers(r, false);
		return;
	}
	bool asset = strncmp(rel, "assets/", 7) == 0;
	char *body = NULL;
	size_t len = 0;
	int rc = safe_rel_path(rel) ? read_file(rel, &body, &len) : DD_ENOTFOUND;
	if (rc == DD_ENOTFOUND && spa_fallback && !asset) {
		/* client-side routes (e.g. /console/audit/results) get the application shell */
		rel = "index.html";
		rc = read_file(rel, &body, &len);
	}
	if (rc) {
		r->status = rc == DD_ENOTFOUND ? 404 : 500;
		r->content_type = "text/plain; charset=utf-8";
		r->body = strdup(rc == DD_ENOTFOUND ? "Not found\n" : "Internal error\n");
		r->body_len = r->body ? strlen(r->body) : 0;
		common_headers(r, false);
		return;
	}
	r->status = 200;
	r->content_type = content_type_of(rel);
	r->body = body;
	r->body_len = len;
	common_headers(r, asset);
}

/* ---- sessions ------------------------------------------------------------------------- */

static bool cookie_id(const struct dd_http_request *req, unsigned char id[32])
{
	const char *c = req->header(req->ud, "cookie");
	while (c && *c) {
		while (*c == ' ' || *c == ';')
			c++;
		if (strncmp(c, COOKIE "=", sizeof COOKIE) == 0) {
			const char *v = c + sizeof COOKIE;
			for (int i = 0; i < 32; i++) {
				int hi, lo;
				char a = v[2 * i], b = a ? v[2 * i + 1] : 0;
				hi = a >= '0' && a <= '9' ? a - '0' : a >= 'a' && a <= 'f' ? a - 'a' + 10 : -1;
				lo = b >= '0' && b <= '9' ? b - '0' : b >= 'a' && b <= 'f' ? b - 'a' + 10 : -1;
				if (hi < 0 || lo < 0)
					return false;
				id[i] = (unsigned char)(hi * 16 + lo);
			}
			return v[64] == '\0' || v[64] == ';' || v[64] == ' ';
		}
		c = strchr(c, ';');
	}
	return false;
}

/* Finds the live session of the request's cookie and copies it; refreshes its idle clock. */
static bool session_get(const struct dd_http_request *req, struct session *out)
{
	unsigned char id[32];
	if (!cookie_id(req, id))
		return false;
	int64_t now = dd_time_now_ms();
	bool found = false;
	pthread_mutex_lock(&lock);
	for (size_t i = 0; i < MAX_SESSIONS; i++) {
		struct session *s = &sessions[i];
		if (!s->used)
			continue;
		if (now - s->last_ms > idle_ms) {
			OPENSSL_cleanse(s, sizeof *s);
			continue;
		}
		if (!found && CRYPTO_memcmp(s->id, id, 32) == 0) {
			s->last_ms = now;
			*out = *s;
			found = true;
		}
	}
	pthread_mutex_unlock(&lock);
	return found;
}

static int session_new(const char *account, const char *access_key, const struct dd_iam_key *user,
		       struct session *out)
{
	struct session s;
	memset(&s, 0, sizeof s);
	unsigned char csrf[32];
	if (dd_random_bytes(s.id, sizeof s.id) || dd_random_bytes(csrf, sizeof csrf))
		return DD_ECRYPTO;
	dd_hex_encode(csrf, sizeof csrf, s.csrf);
	snprintf(s.account, sizeof s.account, "%s", account);
	snprintf(s.access_key, sizeof s.access_key, "%s", access_key);
	if (user) {
		snprintf(s.user, sizeof s.user, "%s", user->user);
		snprintf(s.user_id, sizeof s.user_id, "%s", user->user_id);
	}
	s.used = true;
	s.last_ms = dd_time_now_ms();
	int rc = DD_ELIMIT;
	pthread_mutex_lock(&lock);
	for (size_t i = 0; i < MAX_SESSIONS; i++) {
		struct session *t = &sessions[i];
		if (!t->used || s.last_ms - t->last_ms > idle_ms) {
			*t = s;
			rc = 0;
			break;
		}
	}
	pthread_mutex_unlock(&lock);
	if (!rc)
		*out = s;
	return rc;
}

static void session_end(const unsigned char id[32])
{
	pthread_mutex_lock(&lock);
	for (size_t i = 0; i < MAX_SESSIONS; i++)
		if (sessions[i].used && CRYPTO_memcmp(sessions[i].id, id, 32) == 0)
			OPENSSL_cleanse(&sessions[i], sizeof sessions[i]);
	pthread_mutex_unlock(&lock);
}

static bool is_https(struct dd_api *api, const struct dd_http_request *req)
{
	const char *xf = req->header(req->ud, "x-forwarded-proto");
	return strncmp(api->svc->endpoint_url, "https://", 8) == 0 || (xf && strcmp(xf, "https") == 0);
}

static void set_cookie(struct dd_api *api, const struct dd_http_request *req, struct dd_http_response *r,
		       const unsigned char *id)
{
	char v[256];
	const char *secure = is_https(api, req) ? "; Secure" : "";
	if (id) {
		char hex[65];
		dd_hex_encode(id, 32, hex);
		snprintf(v, sizeof v, COOKIE "=%s; Path=/console; HttpOnly; SameSite=Strict%s", hex, secure);
	} else {
		snprintf(v, sizeof v, COOKIE "=; Path=/console; Max-Age=0; HttpOnly; SameSite=Strict%s", secure);
	}
	add_header(r, "Set-Cookie", v);
}

static json_t *session_json(const struct session *s)
{
	char arn[160];
	if (s->user[0])
		snprintf(arn, sizeof arn, "arn:aws:iam::%s:user/%s", s->account, s->user);
	else
		snprintf(arn, sizeof arn, "arn:aws:iam::%s:root", s->account);
	json_t *o = json_pack("{s:s, s:s, s:s, s:I, s:s, s:b}", "account", s->account, "accessKeyId", s->access_key,
			      "csrfToken", s->csrf, "idleTimeoutSeconds", (json_int_t)(idle_ms / 1000), "arn", arn,
			      "root", !s->user[0]);
	if (o && s->user[0])
		json_object_set_new(o, "userName", json_string(s->user));
	return o;
}

/* An IAM user's session lives only while its key is there and Active (as SigV4 would
 * refuse the key at once). The root's keys are the credentials file's. */
static bool session_key_live(struct dd_api *api, const struct session *s)
{
	if (!s->user[0])
		return true;
	struct dd_db *db = dd_store_db(api->svc->store);
	struct dd_iam_key k;
	bool live = db && dd_iam_access_key_find(db, api->svc->iam_secrets, s->access_key, &k) == 0 && k.active &&
		    strcmp(k.account, s->account) == 0 && strcmp(k.user, s->user) == 0;
	OPENSSL_cleanse(&k, sizeof k);
	return live;
}

/* A write must carry the session's CSRF token, and a cross-site Origin is refused. */
static bool csrf_ok(const struct dd_http_request *req, const struct session *s)
{
	const char *t = req->header(req->ud, "x-csrf-token");
	if (!t || strlen(t) != 64 || CRYPTO_memcmp(t, s->csrf, 64) != 0)
		return false;
	const char *origin = req->header(req->ud, "origin");
	const char *host = req->header(req->ud, "host");
	if (origin && strcmp(origin, "null") != 0) {
		const char *o = strstr(origin, "://");
		if (!o || !host || strcmp(o + 3, host) != 0)
			return false;
	}
	return true;
}

static bool secret_matches(const char *given, const char *secret)
{
	char a[129], b[129];
	memset(a, 0, sizeof a);
	memset(b, 0, sizeof b);
	size_t gl = strlen(given);
	if (gl >= sizeof a)
		return false;
	memcpy(a, given, gl);
	memcpy(b, secret, strlen(secret));
	bool eq = CRYPTO_memcmp(a, b, sizeof a) == 0;
	OPENSSL_cleanse(a, sizeof a);
	OPENSSL_cleanse(b, sizeof b);
	return eq;
}

static void sign_in(struct dd_api *api, const struct dd_http_request *req, struct dd_http_response *r)
{
	json_error_t je;
	json_t *in = req->body_len ? json_loadb((const char *)req->body, req->body_len, 0, &je) : NULL;
	const char *ak = in ? json_string_value(json_object_get(in, "accessKeyId")) : NULL;
	const char *sk = in ? json_string_value(json_object_get(in, "secretAccessKey")) : NULL;
	if (!ak || !*ak) {
		json_decref(in);
		error_reply(r, 400, "InvalidRequestException", "accessKeyId is required");
		return;
	}
	if (!sk || !*sk) {
		json_decref(in);
		error_reply(r, 400, "InvalidRequestException", "secretAccessKey is required");
		return;
	}
	/* as SigV4: the credentials file's keys first (the account root), then IAM users' keys */
	const struct dd_cred *cred = dd_creds_find(api->creds, ak);
	struct dd_iam_key user;
	bool is_user = false;
	memset(&user, 0, sizeof user);
	if (!cred) {
		struct dd_db *db = dd_store_db(api->svc->store);
		is_user = db && dd_iam_access_key_find(db, api->svc->iam_secrets, ak, &user) == 0;
	}
	/* compare against a dummy when the key is unknown, so both failures cost the same */
	bool ok = secret_matches(sk, cred ? cred->secret : is_user ? user.secret : "") && (cred || is_user);
	char key_id[32];
	snprintf(key_id, sizeof key_id, "%s", ak);
	json_decref(in);
	if (!ok) {
		OPENSSL_cleanse(&user, sizeof user);
		dd_log_info("console: failed sign-in");
		error_reply(r, 403, "UnrecognizedClientException",
			    "The access key id or secret access key is not valid.");
		return;
	}
	if (is_user && !user.active) {
		/* the pair is right (so saying so reveals nothing to a stranger), the key is not usable */
		OPENSSL_cleanse(&user, sizeof user);
		dd_log_info("console: sign-in with an inactive access key");
		char msg[200];
		snprintf(msg, sizeof msg, "The access key %s is inactive. An administrator must make it Active "
			 "(UpdateAccessKey) before it can sign in.", key_id);
		error_reply(r, 403, "InvalidClientTokenId", msg);
		return;
	}
	struct session s;
	int src = cred ? session_new(cred->account, cred->access_key, NULL, &s)
		       : session_new(user.account, key_id, &user, &s);
	OPENSSL_cleanse(&user, sizeof user);
	if (src) {
		error_reply(r, 503, "ServiceUnavailableException", "Too many console sessions; try again later");
		return;
	}
	set_cookie(api, req, r, s.id);
	json_reply(r, 200, session_json(&s));
	OPENSSL_cleanse(&s, sizeof s);
}

/* ---- the API bridge ------------------------------------------------------------------- */

static bool valid_name(const char *s, size_t max, bool region)
{
	size_t n = strlen(s);
	if (!n || n > max)
		return false;
	for (; *s; s++) {
		char ch = *s;
		bool ok = region ? ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-')
				 : ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
				    ch == '-');
		if (!ok)
			return false;
	}
	return true;
}

static void call_api(struct dd_api *api, const struct dd_http_request *req, const struct session *s,
		     const char *rest, struct dd_http_response *r)
{
	char service[32], op[96];
	const char *slash = strchr(rest, '/');
	if (!slash || (size_t)(slash - rest) >= sizeof service || strlen(slash + 1) >= sizeof op) {
		error_reply(r, 404, "ResourceNotFoundException", "Use /console/api/<service>/<Operation>");
		return;
	}
	memcpy(service, rest, (size_t)(slash - rest));
	service[slash - rest] = '\0';
	snprintf(op, sizeof op, "%s", slash + 1);
	if (!valid_name(service, 31, false) || !valid_name(op, 95, false)) {
		error_reply(r, 404, "ResourceNotFoundException", "Use /console/api/<service>/<Operation>");
		return;
	}
	const char *region = "us-east-1";
	for (size_t i = 0; i < req->nquery; i++)
		if (strcmp(req->query[i].key, "region") == 0)
			region = req->query[i].value;
	if (!valid_name(region, 32, true)) {
		error_reply(r, 400, "InvalidRequestException", "region is not a valid region name");
		return;
	}
	json_t *in = NULL;
	if (req->body_len) {
		json_error_t je;
		in = json_loadb((const char *)req->body, req->body_len, JSON_REJECT_DUPLICATES, &je);
		if (!in || !json_is_object(in)) {
			json_decref(in);
			error_reply(r, 400, "SerializationException", "The request body is not a JSON object");
			return;
		}
	} else {
		in = json_object();
	}
	json_t *out = NULL;
	char err[1200];
	struct dd_api_caller who = { .account = s->account, .user = s->user[0] ? s->user : NULL,
				     .user_id = s->user_id, .source_ip = req->source_ip };
	int rc = dd_api_call_as(api->svc, &who, region, service, op, in, &out, err, sizeof err);
	json_decref(in);
	if (!rc) {
		json_reply(r, 200, out);
		return;
	}
	char code[128] = "InternalFailure";
	const char *msg = err;
	const char *colon = strstr(err, ": ");
	if (colon && (size_t)(colon - err) < sizeof code) {
		memcpy(code, err, (size_t)(colon - err));
		code[colon - err] = '\0';
		msg = colon + 2;
	}
	int status = rc == DD_EUNSUPPORTED ? 404 : dd_awserr_http_status(code);
	if (rc == DD_EUNSUPPORTED)
		snprintf(code, sizeof code, "UnknownOperationException");
	/* error_type must outlive this frame: keep the code in the body only */
	json_t *o = json_object();
	json_object_set_new(o, "__type", json_string(code));
	json_object_set_new(o, "message", json_string(msg));
	json_reply(r, status, o);
}

/*
 * POST /console/api/permissions, body {"operations": [{"service": "iot", "operation":
 * "UpdateAccountAuditConfiguration", "input": {...}}, ...]} (at most 200; input optional,
 * it names the resource as in a call): for each, the action, the resource and whether the
 * session may call it, decided by the caller authorization of the API (dd_authz_check:
 * the same table, policies and evaluator, iam:PassRole included when input names roles).
 * The root may call everything. ?region= as for calls.
 */
static void permissions(struct dd_api *api, const struct dd_http_request *req, const struct session *s,
			struct dd_http_response *r)
{
	const char *region = "us-east-1";
	for (size_t i = 0; i < req->nquery; i++)
		if (strcmp(req->query[i].key, "region") == 0)
			region = req->query[i].value;
	if (!valid_name(region, 32, true)) {
		error_reply(r, 400, "InvalidRequestException", "region is not a valid region name");
		return;
	}
	json_error_t je;
	json_t *in = req->body_len ? json_loadb((const char *)req->body, req->body_len, JSON_REJECT_DUPLICATES, &je)
				   : NULL;
	json_t *ops = in ? json_object_get(in, "operations") : NULL;
	if (!json_is_array(ops)) {
		json_decref(in);
		error_reply(r, 400, "InvalidRequestException", "operations must be a list of {service, operation, input}");
		return;
	}
	if (json_array_size(ops) > MAX_PERMISSION_CHECKS) {
		json_decref(in);
		error_reply(r, 400, "InvalidRequestException", "operations: at most 200 entries");
		return;
	}
	struct dd_db *db = dd_store_db(api->svc->store);
	json_t *results = json_array();
	size_t i;
	json_t *e;
	json_array_foreach(ops, i, e) {
		const char *service = json_string_value(json_object_get(e, "service"));
		const char *op = json_string_value(json_object_get(e, "operation"));
		json_t *input = json_object_get(e, "input");
		if (!service || !op || !valid_name(service, 31, false) || !valid_name(op, 95, false) ||
		    (input && !json_is_object(input))) {
			json_decref(results);
			json_decref(in);
			error_reply(r, 400, "InvalidRequestException",
				    "operations: each entry needs service and operation names (and input, an object)");
			return;
		}
		json_t *empty = input ? NULL : json_object();
		json_t *use = input ? input : empty;
		const struct dd_authz_entry *ent = dd_authz_find(service, op);
		char action[160], resource[1024];
		snprintf(action, sizeof action, "%s:%s", service, op);
		snprintf(resource, sizeof resource, "*");
		if (ent) {
			snprintf(action, sizeof action, "%s", ent->action);
			if (dd_authz_resource(ent, s->account, region, s->user[0] ? s->user : NULL, use, resource,
					      sizeof resource))
				snprintf(resource, sizeof resource, "*");
		}
		bool allowed = true;
		if (s->user[0]) {
			struct dd_authz_caller ac = { .account = s->account, .user = s->user, .user_id = s->user_id,
						      .source_ip = req->source_ip };
			char msg[1024];
			allowed = db && dd_authz_check(db, &ac, service, op, use, region, dd_service_now_ms(api->svc), msg,
						       sizeof msg) == 0;
		}
		json_decref(empty);
		json_array_append_new(results, json_pack("{s:s, s:s, s:s, s:s, s:b}", "service", service, "operation", op,
							 "action", action, "resource", resource, "allowed", allowed));
	}
	json_decref(in);
	json_reply(r, 200, json_pack("{s:o}", "results", results));
}

static void handle_api(struct dd_api *api, const struct dd_http_request *req, const char *rest,
		       struct dd_http_response *r)
{
	bool is_get = strcmp(req->method, "GET") == 0;
	bool is_post = strcmp(req->method, "POST") == 0;
	bool is_delete = strcmp(req->method, "DELETE") == 0;
	if (strcmp(rest, "session") == 0 && is_post) {
		sign_in(api, req, r);
		return;
	}
	struct session s;
	if (!session_get(req, &s)) {
		error_reply(r, 401, "NotAuthorizedException", "Sign in to use the console");
		return;
	}
	if (!session_key_live(api, &s)) {
		session_end(s.id);
		set_cookie(api, req, r, NULL);
		char msg[200];
		snprintf(msg, sizeof msg, "The access key %s was deleted or made inactive; sign in again", s.access_key);
		OPENSSL_cleanse(&s, sizeof s);
		error_reply(r, 401, "NotAuthorizedException", msg);
		return;
	}
	if (strcmp(rest, "session") == 0) {
		if (is_get) {
			json_reply(r, 200, session_json(&s));
		} else if (is_delete) {
			if (!csrf_ok(req, &s)) {
				error_reply(r, 403, "AccessDeniedException", "Missing or wrong X-CSRF-Token");
			} else {
				session_end(s.id);
				set_cookie(api, req, r, NULL);
				json_reply(r, 200, NULL);
			}
		} else {
			error_reply(r, 405, "MethodNotAllowedException", "Use GET, POST or DELETE on the session");
		}
		OPENSSL_cleanse(&s, sizeof s);
		return;
	}
	if (!is_post) {
		error_reply(r, 405, "MethodNotAllowedException", "Console API calls are POST requests");
	} else if (!csrf_ok(req, &s)) {
		error_reply(r, 403, "AccessDeniedException", "Missing or wrong X-CSRF-Token");
	} else if (strcmp(rest, "permissions") == 0) {
		permissions(api, req, &s, r);
	} else {
		call_api(api, req, &s, rest, r);
	}
	OPENSSL_cleanse(&s, sizeof s);
}

void dd_console_handle(struct dd_api *api, const struct dd_http_request *req, struct dd_http_response *resp)
{
	pthread_once(&once, init_config);
	const char *p = req->raw_path + 8; /* after "/console" */
	if (*p == '\0') {
		resp->status = 301;
		resp->content_type = "text/plain; charset=utf-8";
		add_header(resp, "Location", "/console/");
		common_headers(resp, false);
		return;
	}
	p++;
	if (strncmp(p, "api/", 4) == 0) {
		handle_api(api, req, p + 4, resp);
		return;
	}
	if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0) {
		error_reply(resp, 405, "MethodNotAllowedException", "The console's pages are read with GET");
		return;
	}
	serve_static(*p ? p : "index.html", true, resp);
}

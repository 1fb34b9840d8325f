/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The settings table of `serve` and its three sources (flags, environment, config file)
 * merged by precedence; see dd_config.h for the file format. Values are validated when
 * they are read, so a bad one is reported with where it came from.
 */
#include "cli/dd_config.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

enum kind { K_STR, K_INT, K_BOOL, K_ENUM };

struct def {
	const char *name;
	enum kind kind;
	const char *dflt;       /* NULL: unset (for core settings: the core's own default) */
	int64_t min, max;
	const char *choices;    /* K_ENUM: "a|b|c" */
	bool core_env;          /* read by the core from the environment */
	bool secret;
	const char *arg, *help;
};

static const struct def defs[] = {
	{ "config", K_STR, NULL, 0, 0, NULL, false, false, "FILE", "read settings from FILE (key = value lines)" },
	{ "port", K_INT, "7878", 0, 65535, NULL, false, false, "N", "TCP port; 0 picks a free one" },
	{ "bind", K_STR, "127.0.0.1", 0, 0, NULL, false, false, "ADDR", "IP address to listen on" },
	{ "data-dir", K_STR, "./iotdefender-data", 0, 0, NULL, false, false, "DIR",
	  "where the SQLite store (unless --store), keys and other files live" },
	{ "store", K_STR, NULL, 0, 0, NULL, true, true, "URL",
	  "keep the store in PostgreSQL (postgresql://user:pass@host:port/db or\n"
	  "postgres://...), shared by several servers; default: SQLite in DIR\n"
	  "(docs/OPERATIONS.md)" },
	{ "credentials", K_STR, NULL, 0, 0, NULL, false, false, "FILE",
	  "access keys in the AWS credentials format, each profile with an extra\n"
	  "account_id = <12 digits>; default DIR/credentials, created with a random key pair\n"
	  "on first start (mode 0600)" },
	{ "threads", K_INT, "4", 1, 64, NULL, false, false, "N", "HTTP worker threads" },
	{ "log-level", K_ENUM, "info", 0, 0, "error|warn|info|debug", false, false, "LEVEL",
	  "error, warn, info or debug; info logs one access line per request" },
	{ "log-format", K_ENUM, "text", 0, 0, "text|json", false, false, "FMT",
	  "text lines, or one JSON object a line" },
	{ "audit-workers", K_INT, "2", 0, 2, NULL, false, false, "N", "threads running audit tasks (0 only queues them)" },
	{ "idle-timeout", K_INT, "30", 1, 3600, NULL, false, false, "S",
	  "close a connection that sends nothing for S seconds, or whose request headers\n"
	  "take longer; a request body must arrive within 4*S" },
	{ "lease-seconds", K_INT, "30", 1, 3600, NULL, false, false, "S",
	  "lease of a claimed unit of background work (audit and mitigation tasks, SNS\n"
	  "deliveries): another instance on the same store takes over the units of an\n"
	  "instance that stopped renewing them for S seconds" },
	{ "shared-data-dir", K_BOOL, "false", 0, 0, NULL, false, false, NULL,
	  "let several `serve` instances use the same data directory (and so the same\n"
	  "SQLite store); each takes a shared lock, so backup/restore and a server without\n"
	  "this flag are still refused while they run" },
	{ "test-clock", K_BOOL, "false", 0, 0, NULL, false, false, NULL,
	  "let a signed POST /admin/clock move the service clock (for tests of\n"
	  "scheduled audits; never in production)" },
	{ "outbound-allow", K_STR, NULL, 0, 0, NULL, false, false, "CIDR[,CIDR...]",
	  "let SNS deliveries and CRL fetches reach these otherwise refused ranges,\n"
	  "e.g. 127.0.0.0/8 (docs/OUTBOUND.md)" },
	{ "metrics-token", K_STR, NULL, 0, 0, NULL, false, true, "TOKEN",
	  "serve GET /metrics to requests with `Authorization: Bearer TOKEN`; unset: /metrics\n"
	  "answers 404 (docs/SECURITY.md)" },
	{ "smtp-url", K_STR, NULL, 0, 0, NULL, true, true, "URL", "SMTP server for SNS email deliveries (smtp://host:port)" },
	{ "smtp-from", K_STR, NULL, 0, 0, NULL, true, false, "ADDR", "sender of SNS emails (default no-reply@iotdefender.local)" },
	{ "sns-workers", K_INT, NULL, 1, 32, NULL, true, false, "N", "SNS delivery threads (default 4)" },
	{ "sns-per-account", K_INT, NULL, 1, 32, NULL, true, false, "N", "deliveries of one account at once (default workers/2)" },
	{ "sns-max-attempts", K_INT, NULL, 1, 1000, NULL, true, false, "N", "attempts before a delivery fails (default 10)" },
	{ "sns-backoff-ms", K_INT, NULL, 1, 86400000, NULL, true, false, "MS", "first retry delay (default 10000)" },
	{ "sns-backoff-max-ms", K_INT, NULL, 1, 86400000, NULL, true, false, "MS", "longest retry delay (default 1200000)" },
	{ "sns-connect-timeout-ms", K_INT, NULL, 1, 600000, NULL, true, false, "MS", "delivery connect timeout (default 5000)" },
	{ "sns-timeout-ms", K_INT, NULL, 1, 600000, NULL, true, false, "MS", "delivery timeout (default 15000)" },
	{ "sns-poll-ms", K_INT, NULL, 10, 60000, NULL, true, false, "MS", "outbox poll interval (default 1000)" },
	{ "sns-retention-s", K_INT, NULL, 0, 3650LL * 86400, NULL, true, false, "S",
	  "keep delivered and failed outbox rows this long (default 604800)" },
	{ "fetch-workers", K_INT, NULL, 1, 32, NULL, true, false, "N", "CRL fetch threads (default 4)" },
	{ "fetch-per-account", K_INT, NULL, 1, 32, NULL, true, false, "N", "CRL fetches of one account at once (default 2)" },
	{ "audit-shard-size", K_INT, NULL, 0, 1000000000, NULL, true, false, "N",
	  "split an audit into shards of N device certificates that several instances share\n"
	  "(default 0: not split; docs/OPERATIONS.md)" },
	{ "audit-poll-ms", K_INT, NULL, 10, 600000, NULL, true, false, "MS",
	  "how often an idle audit worker looks for work other instances queued (default 5000)" },
	{ "retention-days", K_INT, NULL, 1, 36500, NULL, true, false, "D", "keep audit tasks and findings this long (default 90)" },
	{ "mitigation-workers", K_INT, NULL, 0, 4, NULL, true, false, "N",
	  "threads running mitigation tasks (default 2; 0 only queues them)" },
	{ "console-dir", K_STR, NULL, 0, 0, NULL, true, false, "DIR",
	  "the web console's built front end (default: web/dist or share/iotdefender/console\n"
	  "beside the binary; docs/CONSOLE.md)" },
	{ "console-idle-seconds", K_INT, NULL, 1, 604800, NULL, true, false, "S",
	  "sign a console session out after S idle seconds (default 1800)" },
};
#define NDEFS (sizeof defs / sizeof defs[0])
_Static_assert(NDEFS <= DD_CFG_MAX, "raise DD_CFG_MAX");

#define MAX_LINE 4096
#define MAX_FILE (1u << 20)

static void env_name(const struct def *d, char *out, size_t n)
{
	size_t o = (size_t)snprintf(out, n, "IOTDEFENDER_");
	for (const char *p = d->name; *p && o + 1 < n; p++)
		out[o++] = *p == '-' ? '_' : (char)toupper((unsigned char)*p);
	out[o] = '\0';
}

static int find_def(const char *name)
{
	for (size_t i = 0; i < NDEFS; i++)
		if (strcmp(defs[i].name, name) == 0)
			return (int)i;
	return -1;
}

static int parse_bool(const char *v, bool *out)
{
	static const char *const t[] = { "true", "yes", "on", "1" }, *const f[] = { "false", "no", "off", "0" };
	for (int i = 0; i < 4; i++) {
		if (strcasecmp(v, t[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(v, f[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return DD_EINVAL;
}

/* Checks v against d; err says what is expected. */
static int validate(const struct def *d, const char *v, char *err, size_t errlen)
{
	int64_t n;
	bool b;
	switch (d->kind) {
	case K_STR:
		if (strlen(v) > 4000) {
			snprintf(err, errlen, "%s is longer than 4000 bytes", d->name);
			return DD_EINVAL;
		}
		return 0;
	case K_INT:
		if (dd_parse_int64(v, d->min, d->max, &n)) {
			snprintf(err, errlen, "%s must be an integer from %lld to %lld", d->name, (long long)d->min,
				 (long long)d->max);
			return DD_EINVAL;
		}
		return 0;
	case K_BOOL:
		if (parse_bool(v, &b)) {
			snprintf(err, errlen, "%s must be true or false", d->name);
			return DD_EINVAL;
		}
		return 0;
	case K_ENUM: {
		size_t l = strlen(v);
		for (const char *c = d->choices; c && *c;) {
			const char *e = strchr(c, '|');
			size_t cl = e ? (size_t)(e - c) : strlen(c);
			if (cl == l && strncmp(c, v, l) == 0)
				return 0;
			c = e ? e + 1 : NULL;
		}
		snprintf(err, errlen, "%s must be one of %s", d->name, d->choices);
		return DD_EINVAL;
	}
	}
	return DD_EINVAL;
}

static int set(struct dd_settings *s, int i, const char *v, enum dd_cfg_src src)
{
	char *c = strdup(v);
	if (!c)
		return DD_ENOMEM;
	free(s->val[i]);
	s->val[i] = c;
	s->src[i] = src;
	return 0;
}

static void init_defaults(struct dd_settings *s)
{
	memset(s, 0, sizeof *s);
	for (size_t i = 0; i < NDEFS; i++)
		if (defs[i].dflt)
			s->val[i] = strdup(defs[i].dflt);
}

static char *trim(char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	size_t l = strlen(p);
	while (l && (p[l - 1] == ' ' || p[l - 1] == '\t' || p[l - 1] == '\r' || p[l - 1] == '\n'))
		p[--l] = '\0';
	return p;
}

static int load_file(struct dd_settings *s, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		snprintf(err, errlen, "cannot read the config file %s: %s", path, strerror(errno));
		return DD_EINVAL;
	}
	snprintf(s->config_path, sizeof s->config_path, "%s", path);
	char line[MAX_LINE + 2];
	int lineno = 0, rc = 0;
	size_t total = 0;
	while (!rc && fgets(line, sizeof line, f)) {
		lineno++;
		size_t l = strlen(line);
		total += l;
		if (total > MAX_FILE) {
			snprintf(err, errlen, "%s: larger than %u bytes", path, MAX_FILE);
			rc = DD_EINVAL;
			break;
		}
		if (l > MAX_LINE || (l == sizeof line - 1 && line[l - 1] != '\n')) {
			snprintf(err, errlen, "%s:%d: line longer than %d bytes", path, lineno, MAX_LINE);
			rc = DD_EINVAL;
			break;
		}
		if (memchr(line, '\0', l) != NULL && strlen(line) != l) {
			snprintf(err, errlen, "%s:%d: NUL byte", path, lineno);
			rc = DD_EINVAL;
			break;
		}
		char *p = trim(line);
		if (!*p || *p == '#')
			continue;
		char *eq = strchr(p, '=');
		if (!eq) {
			snprintf(err, errlen, "%s:%d: expected `key = value`", path, lineno);
			rc = DD_EINVAL;
			break;
		}
		*eq = '\0';
		char *key = trim(p), *val = trim(eq + 1);
		size_t vl = strlen(val);
		if (vl >= 2 && ((val[0] == '"' && val[vl - 1] == '"') || (val[0] == '\'' && val[vl - 1] == '\''))) {
			val[vl - 1] = '\0';
			val++;
		}
		int i = find_def(key);
		if (i < 0 || strcmp(key, "config") == 0) {
			snprintf(err, errlen, "%s:%d: unknown key '%.64s'", path, lineno, key);
			rc = DD_EINVAL;
			break;
		}
		char why[256];
		if (validate(&defs[i], val, why, sizeof why)) {
			snprintf(err, errlen, "%s:%d: %s", path, lineno, why);
			rc = DD_EINVAL;
			break;
		}
		rc = set(s, i, val, DD_CFG_FILE);
	}
	if (!rc && ferror(f)) {
		snprintf(err, errlen, "cannot read the config file %s", path);
		rc = DD_EINVAL;
	}
	fclose(f);
	return rc;
}

int dd_settings_load_file_only(struct dd_settings *s, const char *path, char *err, size_t errlen)
{
	init_defaults(s);
	return load_file(s, path, err, errlen);
}

int dd_settings_load(struct dd_settings *s, int argc, char **argv, bool *help, char *err, size_t errlen)
{
	init_defaults(s);
	*help = false;
	struct option opts[NDEFS + 2];
	for (size_t i = 0; i < NDEFS; i++)
		opts[i] = (struct option){ defs[i].name, defs[i].kind == K_BOOL ? optional_argument : required_argument,
					   NULL, 1000 + (int)i };
	opts[NDEFS] = (struct option){ "help", no_argument, NULL, 'h' };
	opts[NDEFS + 1] = (struct option){ NULL, 0, NULL, 0 };

	/* first pass: the flags, kept aside (they win over everything) */
	const char *flag[NDEFS];
	memset(flag, 0, sizeof flag);
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'h') {
			*help = true;
			return 0;
		}
		if (c < 1000) {
			snprintf(err, errlen, "unknown or incomplete option '%s'", argv[optind - 1]);
			return DD_EINVAL;
		}
		const struct def *d = &defs[c - 1000];
		const char *v = d->kind == K_BOOL && !optarg ? "true" : optarg;
		char why[256];
		if (validate(d, v, why, sizeof why)) {
			snprintf(err, errlen, "--%s", why);
			return DD_EINVAL;
		}
		flag[c - 1000] = v;
	}
	if (optind < argc) {
		snprintf(err, errlen, "unexpected argument '%s'", argv[optind]);
		return DD_EINVAL;
	}
	int ci = find_def("config");
	const char *cfg = flag[ci] ? flag[ci] : getenv("IOTDEFENDER_CONFIG");
	if (cfg && *cfg) {
		int rc = load_file(s, cfg, err, errlen);
		if (rc)
			return rc;
		set(s, ci, cfg, flag[ci] ? DD_CFG_FLAG : DD_CFG_ENV);
	}
	for (size_t i = 0; i < NDEFS; i++) {
		if ((int)i == ci)
			continue;
		char en[96];
		env_name(&defs[i], en, sizeof en);
		const char *v = getenv(en);
		if (v && *v) {
			char why[256];
			if (validate(&defs[i], v, why, sizeof why)) {
				snprintf(err, errlen, "%s: %s", en, why);
				return DD_EINVAL;
			}
			if (set(s, (int)i, v, DD_CFG_ENV))
				return DD_ENOMEM;
		}
		if (flag[i] && set(s, (int)i, flag[i], DD_CFG_FLAG))
			return DD_ENOMEM;
	}
	return 0;
}

void dd_settings_free(struct dd_settings *s)
{
	for (size_t i = 0; i < NDEFS; i++) {
		free(s->val[i]);
		s->val[i] = NULL;
	}
}

const char *dd_settings_get(const struct dd_settings *s, const char *name)
{
	int i = find_def(name);
	return i < 0 ? NULL : s->val[i];
}

int64_t dd_settings_int(const struct dd_settings *s, const char *name)
{
	const char *v = dd_settings_get(s, name);
	int64_t n = 0;
	if (!v || dd_parse_int64(v, INT64_MIN, INT64_MAX, &n))
		return 0;
	return n;
}

bool dd_settings_bool(const struct dd_settings *s, const char *name)
{
	const char *v = dd_settings_get(s, name);
	bool b = false;
	if (v && parse_bool(v, &b))
		return false;
	return b;
}

void dd_settings_export_env(const struct dd_settings *s)
{
	for (size_t i = 0; i < NDEFS; i++) {
		if (!defs[i].core_env || !s->val[i] || (s->src[i] != DD_CFG_FLAG && s->src[i] != DD_CFG_FILE))
			continue;
		char en[96];
		env_name(&defs[i], en, sizeof en);
		setenv(en, s->val[i], 1);
	}
}

void dd_settings_print(const struct dd_settings *s, FILE *f)
{
	static const char *const srcs[] = { "default", "config file", "environment", "flag" };
	for (size_t i = 0; i < NDEFS; i++) {
		if (strcmp(defs[i].name, "config") == 0)
			continue;
		if (!s->val[i]) {
			fprintf(f, "# %s is unset (%s)\n", defs[i].name, defs[i].core_env ? "built-in default" : "none");
			continue;
		}
		fprintf(f, "%s = %s  # %s\n", defs[i].name, defs[i].secret ? "********" : s->val[i], srcs[s->src[i]]);
	}
}

void dd_settings_usage(FILE *f)
{
	fprintf(f, "options (each also an environment variable and a config file key):\n");
	for (size_t i = 0; i < NDEFS; i++) {
		const struct def *d = &defs[i];
		char head[96], en[96];
		snprintf(head, sizeof head, "--%s%s%s", d->name, d->arg ? " " : "", d->arg ? d->arg : "");
		env_name(d, en, sizeof en);
		fprintf(f, "  %-28s ", head);
		for (const char *p = d->help; *p; p++) {
			fputc(*p, f);
			if (*p == '\n')
				fprintf(f, "  %-28s ", "");
		}
		fprintf(f, "\n  %-28s env %s", "", en);
		if (d->dflt)
			fprintf(f, "; default %s", d->dflt);
		fputc('\n', f);
	}
	fprintf(f, "  %-28s show this help\n", "--help");
}

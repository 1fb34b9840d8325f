/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Operator verbs: `config check FILE` validates a config file and prints the settings
 * `serve` would use with it (flags aside); `backup` copies the database consistently
 * while a server runs (online backup API, then integrity_check on the copy); `restore`
 * replaces the database of a data directory no server holds (the current one is kept in
 * backups/ first); `report` prints an audit's findings grouped by check and severity
 * (text, json, csv, html); `audit run` runs every enabled check now with a progress line.
 * report and audit run call the operations in-process (dd_api_call), not over HTTP.
 */
#include "cli/dd_ops.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cli/dd_config.h"
#include "core/audit/dd_audit_checks.h"
#include "dd/audit.h"
#include "dd/common.h"
#include "dd/lease.h"
#include "dd/mitigation.h"
#include "dd/outbox.h"
#include "dd/service.h"
#include "dd/store.h"
#include "server/dd_api.h"
#include "server/dd_creds.h"
#include "server/dd_dirlock.h"
#include "server/dd_model.h"
#include "store/dd_store_report.h"

#define DEFAULT_DATA_DIR "./iotdefender-data"

static int cmd_config(int argc, char **argv)
{
	if (argc == 3 && (strcmp(argv[2], "--help") == 0 || strcmp(argv[2], "-h") == 0)) {
		printf("usage: iotdefender config check FILE\n\n"
		       "Validates FILE (the `key = value` format of serve --config) and prints the effective\n"
		       "settings with their source: the environment overrides the file, as in serve.\n");
		return 0;
	}
	if (argc != 4 || strcmp(argv[2], "check") != 0) {
		fprintf(stderr, "usage: iotdefender config check FILE\n");
		return 2;
	}
	struct dd_settings s;
	char err[1024];
	bool help = false;
	char *args[] = { argv[0], (char *)"--config", argv[3], NULL };
	int rc = dd_settings_load(&s, 3, args, &help, err, sizeof err);
	if (rc) {
		fprintf(stderr, "iotdefender: %s\n", err);
		dd_settings_free(&s);
		return 1;
	}
	printf("# %s: valid\n", argv[3]);
	dd_settings_print(&s, stdout);
	dd_settings_free(&s);
	return 0;
}

/* --data-dir DIR [--account ID] [--task-id ID] [--format F] [FILE]; returns 0, 2 on a
 * usage error, 1 after --help was printed. */
struct opts {
	const char *dir, *account, *task_id, *format, *file;
	bool help;
};

static int parse_opts(int argc, char **argv, int first, struct opts *o, bool want_file)
{
	static const struct option lo[] = {
		{ "data-dir", required_argument, NULL, 'd' }, { "account", required_argument, NULL, 'a' },
		{ "task-id", required_argument, NULL, 't' },  { "format", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },           { NULL, 0, NULL, 0 },
	};
	memset(o, 0, sizeof *o);
	o->dir = getenv("IOTDEFENDER_DATA_DIR") && *getenv("IOTDEFENDER_DATA_DIR") ? getenv("IOTDEFENDER_DATA_DIR")
										      : DEFAULT_DATA_DIR;
	o->format = "text";
	int c;
	optind = first;
	opterr = 1;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'd': o->dir = optarg; break;
		case 'a': o->account = optarg; break;
		case 't': o->task_id = optarg; break;
		case 'f': o->format = optarg; break;
		case 'h': o->help = true; return 0;
		default: return 2;
		}
	}
	if (want_file) {
		if (optind != argc - 1)
			return 2;
		o->file = argv[optind];
	} else if (optind != argc) {
		return 2;
	}
	return 0;
}

static int cmd_backup(int argc, char **argv)
{
	static const char usage[] =
		"usage: iotdefender backup [--data-dir DIR] FILE\n\n"
		"Writes a consistent copy of DIR/iotdefender.db to FILE (which must not exist), even\n"
		"while a server runs: SQLite's online backup API copies one committed state, then\n"
		"PRAGMA integrity_check must pass on the copy before it is renamed to FILE.\n"
		"DIR defaults to $IOTDEFENDER_DATA_DIR or " DEFAULT_DATA_DIR ".\n";
	struct opts o;
	int u = parse_opts(argc, argv, 2, &o, true);
	if (o.help) {
		fputs(usage, stdout);
		return 0;
	}
	if (u) {
		fputs(usage, stderr);
		return 2;
	}
	char err[1024];
	int64_t t0 = dd_time_now_ms();
	if (dd_store_backup(o.dir, o.file, err, sizeof err)) {
		fprintf(stderr, "iotdefender: backup: %s\n", err);
		return 1;
	}
	struct stat sb;
	long long size = stat(o.file, &sb) == 0 ? (long long)sb.st_size : -1;
	printf("iotdefender: backed up %s/iotdefender.db to %s (%lld bytes, integrity ok, %lld ms)\n", o.dir, o.file,
	       size, (long long)(dd_time_now_ms() - t0));
	return 0;
}

static int cmd_restore(int argc, char **argv)
{
	static const char usage[] =
		"usage: iotdefender restore [--data-dir DIR] FILE\n\n"
		"Replaces DIR/iotdefender.db with the backup FILE. Refused while a server (or any\n"
		"other iotdefender) holds DIR; FILE must pass PRAGMA integrity_check and have a schema\n"
		"this binary knows. The database being replaced is first copied to\n"
		"DIR/backups/iotdefender-pre-restore-<time>.db.\n";
	struct opts o;
	int u = parse_opts(argc, argv, 2, &o, true);
	if (o.help) {
		fputs(usage, stdout);
		return 0;
	}
	if (u) {
		fputs(usage, stderr);
		return 2;
	}
	if (dd_store_url()) {
		fprintf(stderr, "iotdefender: restore: the store is a PostgreSQL database (IOTDEFENDER_STORE): restore "
				"it with pg_restore (docs/OPERATIONS.md), not with iotdefender restore\n");
		return 1;
	}
	char err[1024];
	int v = 0;
	if (dd_store_backup_file_version(o.file, &v, err, sizeof err)) {
		fprintf(stderr, "iotdefender: restore: %s: %s\n", o.file, err);
		return 1;
	}
	if (v > dd_store_backup_binary_schema_version()) {
		fprintf(stderr, "iotdefender: restore: %s has schema version %d, newer than this binary's %d\n", o.file, v,
			dd_store_backup_binary_schema_version());
		return 1;
	}
	struct dd_dirlock *lock = NULL;
	if (dd_dirlock_acquire(o.dir, &lock, err, sizeof err)) {
		fprintf(stderr, "iotdefender: restore: %s; stop the server first\n", err);
		return 1;
	}
	int rc = 1;
	char db[4200], wal[4300], shm[4300], keep[4400], tmp[4300];
	snprintf(db, sizeof db, "%s/iotdefender.db", o.dir);
	snprintf(wal, sizeof wal, "%s-wal", db);
	snprintf(shm, sizeof shm, "%s-shm", db);
	snprintf(tmp, sizeof tmp, "%s/iotdefender.db.restore", o.dir);
	struct stat sb;
	if (stat(db, &sb) == 0) {
		char bdir[4300];
		snprintf(bdir, sizeof bdir, "%s/backups", o.dir);
		if (mkdir(bdir, 0700) != 0 && errno != EEXIST) {
			fprintf(stderr, "iotdefender: restore: cannot create %s: %s\n", bdir, strerror(errno));
			goto out;
		}
		time_t now = time(NULL);
		struct tm tm;
		gmtime_r(&now, &tm);
		snprintf(keep, sizeof keep, "%s/iotdefender-pre-restore-%04d%02d%02dT%02d%02d%02dZ.db", bdir,
			 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
		if (dd_store_backup(o.dir, keep, err, sizeof err)) {
			fprintf(stderr, "iotdefender: restore: could not keep the current database: %s\n", err);
			goto out;
		}
		printf("iotdefender: the current database is kept as %s\n", keep);
	}
	unlink(tmp);
	if (dd_store_backup_file(o.file, tmp, err, sizeof err)) {
		fprintf(stderr, "iotdefender: restore: %s\n", err);
		goto out;
	}
	/* the old database's WAL must not be replayed into the restored one */
	if ((unlink(wal) != 0 && errno != ENOENT) || (unlink(shm) != 0 && errno != ENOENT) || rename(tmp, db) != 0) {
		fprintf(stderr, "iotdefender: restore: cannot replace %s: %s\n", db, strerror(errno));
		unlink(tmp);
		goto out;
	}
	printf("iotdefender: restored %s from %s (schema %d%s)\n", db, o.file, v,
	       v < dd_store_backup_binary_schema_version() ? "; migrated at the next start" : "");
	rc = 0;
out:
	dd_dirlock_release(lock);
	return rc;
}

/* ---- report ---- */

/* o[k] as a string, or dflt. */
static const char *sget(json_t *o, const char *k, const char *dflt)
{
	const char *v = json_string_value(json_object_get(o, k));
	return v ? v : dflt;
}

/* o[k], or JSON null. */
static json_t *jget(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);
	return v ? v : json_null();
}

static json_t *call(struct dd_service *svc, const char *account, const char *region, const char *op, json_t *in)
{
	json_t *out = NULL;
	char err[1200];
	int rc = dd_api_call(svc, account, region, "iot", op, in, &out, err, sizeof err);
	json_decref(in);
	if (rc) {
		fprintf(stderr, "iotdefender: %s: %s\n", op, err);
		return NULL;
	}
	return out ? out : json_object();
}

static int sev_rank(const char *s)
{
	static const char *const order[] = { "CRITICAL", "HIGH", "MEDIUM", "LOW" };
	for (int i = 0; i < 4; i++)
		if (s && strcmp(s, order[i]) == 0)
			return i;
	return 4;
}

static const char *resource_label(json_t *res, char *buf, size_t len)
{
	json_t *rid = json_object_get(res, "resourceIdentifier");
	const char *k;
	json_t *v;
	buf[0] = '\0';
	json_object_foreach(rid, k, v) {
		if (json_is_string(v))
			snprintf(buf, len, "%s %s", k, json_string_value(v));
		else if (json_is_object(v))
			snprintf(buf, len, "%s %s (version %s)", k, json_string_value(json_object_get(v, "policyName")),
				 json_string_value(json_object_get(v, "policyVersionId")));
		break;
	}
	return buf;
}

static int cmp_checks(const void *a, const void *b)
{
	json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
	int d = sev_rank(json_string_value(json_object_get(x, "severity"))) -
		sev_rank(json_string_value(json_object_get(y, "severity")));
	if (d)
		return d;
	return strcmp(json_string_value(json_object_get(x, "checkName")), json_string_value(json_object_get(y, "checkName")));
}

/* The report as JSON: {taskId, accountId, taskStatus, taskType, taskStartTime, checks: [...]}
 * with the checks sorted by severity then name, each with its findings. */
static json_t *build_report(struct dd_service *svc, const char *account, const char *region, const char *task_id)
{
	json_t *task = call(svc, account, region, "DescribeAuditTask", json_pack("{s:s}", "taskId", task_id));
	if (!task)
		return NULL;
	json_t *details = json_object_get(task, "auditDetails");
	size_t n = json_object_size(details), i = 0;
	json_t **checks = calloc(n + 1, sizeof *checks);
	const char *name;
	json_t *d;
	json_object_foreach(details, name, d) {
		const struct dd_audit_check *ck = dd_audit_checks_find(name);
		checks[i++] = json_pack("{s:s, s:s, s:O, s:O, s:O, s:s, s:[]}", "checkName", name, "status",
					sget(d, "checkRunStatus", ""), "compliant",
					jget(d, "checkCompliant"), "totalResources",
					jget(d, "totalResourcesCount"), "nonCompliantResources",
					jget(d, "nonCompliantResourcesCount"), "severity",
					ck ? ck->severity : "", "findings");
	}
	json_t *next = NULL;
	bool ok = true;
	do {
		json_t *in = json_pack("{s:s, s:i}", "taskId", task_id, "maxResults", 250);
		if (next)
			json_object_set(in, "nextToken", next);
		json_decref(next);
		next = NULL;
		json_t *page = call(svc, account, region, "ListAuditFindings", in);
		if (!page) {
			ok = false;
			break;
		}
		size_t k;
		json_t *f;
		json_array_foreach(json_object_get(page, "findings"), k, f) {
			const char *cn = json_string_value(json_object_get(f, "checkName"));
			for (size_t j = 0; j < i; j++) {
				if (strcmp(json_string_value(json_object_get(checks[j], "checkName")), cn) != 0)
					continue;
				char label[600];
				json_t *res = json_object_get(f, "nonCompliantResource");
				json_array_append_new(json_object_get(checks[j], "findings"),
					json_pack("{s:s?, s:s?, s:s, s:s?, s:s?, s:b}", "findingId",
						  json_string_value(json_object_get(f, "findingId")), "resourceType",
						  json_string_value(json_object_get(res, "resourceType")), "resource",
						  resource_label(res, label, sizeof label), "reasonCode",
						  json_string_value(json_object_get(f, "reasonForNonComplianceCode")), "reason",
						  json_string_value(json_object_get(f, "reasonForNonCompliance")), "suppressed",
						  json_is_true(json_object_get(f, "isSuppressed"))));
				if (!json_string_length(json_object_get(checks[j], "severity")))
					json_object_set(checks[j], "severity", json_object_get(f, "severity"));
			}
		}
		next = json_incref(json_object_get(page, "nextToken"));
		json_decref(page);
	} while (next && json_is_string(next));
	json_decref(next);
	qsort(checks, i, sizeof *checks, cmp_checks);
	json_t *arr = json_array();
	for (size_t j = 0; j < i; j++)
		json_array_append_new(arr, checks[j]);
	free(checks);
	json_t *r = json_pack("{s:s, s:s, s:s, s:O, s:O, s:O, s:o}", "taskId", task_id, "accountId", account, "region",
			      region, "taskStatus", jget(task, "taskStatus"), "taskType",
			      jget(task, "taskType"), "taskStartTime",
			      jget(task, "taskStartTime"), "checks", arr);
	json_decref(task);
	if (!ok) {
		json_decref(r);
		return NULL;
	}
	return r;
}

static void csv_field(FILE *f, const char *s, bool last)
{
	s = s ? s : "";
	if (strpbrk(s, ",\"\r\n")) {
		fputc('"', f);
		for (; *s; s++) {
			if (*s == '"')
				fputc('"', f);
			fputc(*s, f);
		}
		fputc('"', f);
	} else {
		fputs(s, f);
	}
	fputs(last ? "\r\n" : ",", f);
}

static void html_text(FILE *f, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '&': fputs("&amp;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&#39;", f); break;
		default: fputc(*s, f);
		}
	}
}

#define S(o, k) sget((o), (k), "")

static void print_report(json_t *r, const char *format, FILE *f)
{
	json_t *checks = json_object_get(r, "checks");
	size_t i, k;
	json_t *c, *x;
	if (strcmp(format, "json") == 0) {
		json_dumpf(r, f, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		fputc('\n', f);
		return;
	}
	if (strcmp(format, "csv") == 0) {
		fputs("task_id,check_name,check_status,severity,resource_type,resource,reason_code,reason,suppressed,"
		      "finding_id\r\n", f);
		json_array_foreach(checks, i, c) {
			json_t *fs = json_object_get(c, "findings");
			if (!json_array_size(fs)) {
				const char *row[] = { S(r, "taskId"), S(c, "checkName"), S(c, "status"), S(c, "severity"),
						      "", "", "", "", "", "" };
				for (int j = 0; j < 10; j++)
					csv_field(f, row[j], j == 9);
			}
			json_array_foreach(fs, k, x) {
				const char *row[] = { S(r, "taskId"), S(c, "checkName"), S(c, "status"), S(c, "severity"),
						      S(x, "resourceType"), S(x, "resource"), S(x, "reasonCode"), S(x, "reason"),
						      json_is_true(json_object_get(x, "suppressed")) ? "true" : "false",
						      S(x, "findingId") };
				for (int j = 0; j < 10; j++)
					csv_field(f, row[j], j == 9);
			}
		}
		return;
	}
	if (strcmp(format, "html") == 0) {
		fputs("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>iotdefender audit ", f);
		html_text(f, S(r, "taskId"));
		fputs("</title>\n<style>body{font-family:sans-serif}table{border-collapse:collapse}td,th{border:1px solid "
		      "#999;padding:2px 6px;text-align:left}.CRITICAL{color:#a00}.HIGH{color:#c50}</style></head><body>\n<h1>Audit ",
		      f);
		html_text(f, S(r, "taskId"));
		fputs("</h1>\n<p>Account ", f);
		html_text(f, S(r, "accountId"));
		fputs(", status ", f);
		html_text(f, S(r, "taskStatus"));
		fputs("</p>\n<table>\n<tr><th>Check</th><th>Severity</th><th>Status</th><th>Non-compliant</th><th>Resources</th></tr>\n", f);
		json_array_foreach(checks, i, c) {
			fputs("<tr><td>", f);
			html_text(f, S(c, "checkName"));
			fputs("</td><td class=\"", f);
			html_text(f, S(c, "severity"));
			fputs("\">", f);
			html_text(f, S(c, "severity"));
			fputs("</td><td>", f);
			html_text(f, S(c, "status"));
			fprintf(f, "</td><td>%lld of %lld</td><td><ul>",
				(long long)json_integer_value(json_object_get(c, "nonCompliantResources")),
				(long long)json_integer_value(json_object_get(c, "totalResources")));
			json_array_foreach(json_object_get(c, "findings"), k, x) {
				fputs("<li>", f);
				html_text(f, S(x, "resource"));
				fputs(": ", f);
				html_text(f, S(x, "reason"));
				if (json_is_true(json_object_get(x, "suppressed")))
					fputs(" (suppressed)", f);
				fputs("</li>", f);
			}
			fputs("</ul></td></tr>\n", f);
		}
		fputs("</table>\n</body></html>\n", f);
		return;
	}
	fprintf(f, "Audit %s (account %s, %s): %s\n", S(r, "taskId"), S(r, "accountId"), S(r, "taskType"), S(r, "taskStatus"));
	fprintf(f, "\n== Non-compliant checks\n");
	json_array_foreach(checks, i, c) {
		json_t *fs = json_object_get(c, "findings");
		if (!json_array_size(fs))
			continue;
		fprintf(f, "   %-60s %-8s %lld of %lld resources\n", S(c, "checkName"), S(c, "severity"),
			(long long)json_integer_value(json_object_get(c, "nonCompliantResources")),
			(long long)json_integer_value(json_object_get(c, "totalResources")));
		json_array_foreach(fs, k, x)
			fprintf(f, "      - %s: %.160s%s\n", S(x, "resource"), S(x, "reason"),
				json_is_true(json_object_get(x, "suppressed")) ? " (suppressed)" : "");
	}
	fprintf(f, "\n== Other checks\n");
	json_array_foreach(checks, i, c)
		if (!json_array_size(json_object_get(c, "findings")))
			fprintf(f, "   %-60s %s\n", S(c, "checkName"), S(c, "status"));
}

/* The latest completed audit task of account (any account when NULL): its id, account
 * and region. */
static int latest_task(struct dd_service *svc, const char *account, char *task_id, size_t tl, char *acct, char *region)
{
	struct dd_db *db = dd_store_db(svc->store);
	char ar[DD_ACCOUNT_REGION_SIZE];
	if (!db)
		return DD_EIO;
	int rc = dd_store_report_latest_audit(db, account, task_id, tl, ar, sizeof ar);
	if (rc)
		return rc;
	return dd_account_region_split(ar, acct, region, 64) ? DD_EIO : 0;
}

static int task_owner(struct dd_service *svc, const char *task_id, const char *account, char *acct, char *region)
{
	struct dd_db *db = dd_store_db(svc->store);
	char ar[DD_ACCOUNT_REGION_SIZE];
	if (!db)
		return DD_EIO;
	int rc = dd_store_report_audit_owner(db, task_id, account, ar, sizeof ar);
	if (rc)
		return rc;
	return dd_account_region_split(ar, acct, region, 64) ? DD_EIO : 0;
}

static bool format_ok(const char *f)
{
	return strcmp(f, "text") == 0 || strcmp(f, "json") == 0 || strcmp(f, "csv") == 0 || strcmp(f, "html") == 0;
}

static int cmd_report(int argc, char **argv)
{
	static const char usage[] =
		"usage: iotdefender report [--data-dir DIR] [--account ID] [--task-id ID]\n"
		"                          [--format text|json|csv|html]\n\n"
		"Prints an audit's results grouped by check and severity, with the non-compliant\n"
		"resources. Default: the latest completed audit (of --account, or of any account).\n"
		"Safe while a server runs (it only reads).\n";
	struct opts o;
	int u = parse_opts(argc, argv, 2, &o, false);
	if (o.help) {
		fputs(usage, stdout);
		return 0;
	}
	if (u || !format_ok(o.format)) {
		fputs(usage, stderr);
		return 2;
	}
	char dbpath[4200];
	struct stat sb;
	snprintf(dbpath, sizeof dbpath, "%s/iotdefender.db", o.dir);
	if (!dd_store_url() && stat(dbpath, &sb) != 0) {
		fprintf(stderr, "iotdefender: report: no database at %s\n", dbpath);
		return 1;
	}
	dd_log_set_level(DD_LOG_WARN);
	if (dd_models_load())
		return 1;
	struct dd_service svc;
	memset(&svc, 0, sizeof svc);
	if (dd_service_init(&svc, o.dir)) {
		fprintf(stderr, "iotdefender: report: cannot open %s\n", o.dir);
		dd_models_free();
		return 1;
	}
	char task_id[128], acct[13], region[64];
	int rc;
	if (o.task_id) {
		snprintf(task_id, sizeof task_id, "%s", o.task_id);
		rc = task_owner(&svc, o.task_id, o.account, acct, region);
	} else {
		rc = latest_task(&svc, o.account, task_id, sizeof task_id, acct, region);
	}
	int status = 1;
	if (rc == DD_ENOTFOUND) {
		fprintf(stderr, "iotdefender: report: %s\n", o.task_id ? "no such audit task" : "no completed audit task");
	} else if (rc == 0) {
		json_t *r = build_report(&svc, acct, region, task_id);
		if (r) {
			print_report(r, o.format, stdout);
			json_decref(r);
			status = 0;
		}
	}
	dd_service_close(&svc);
	dd_models_free();
	return status;
}

/* ---- audit run ---- */

static int cmd_audit(int argc, char **argv)
{
	static const char usage[] =
		"usage: iotdefender audit run [--data-dir DIR] [--account ID] [--format text|json|csv|html]\n\n"
		"Runs every audit check enabled in the account's audit configuration now (an\n"
		"on-demand audit task), shows a progress line while it runs, then prints the report.\n"
		"The account defaults to the first profile of DIR/credentials. Needs the data\n"
		"directory to itself: while a server holds it, start the audit through the server\n"
		"(aws iot start-on-demand-audit-task).\n";
	if (argc < 3 || strcmp(argv[2], "run") != 0) {
		if (argc >= 3 && (strcmp(argv[2], "--help") == 0 || strcmp(argv[2], "-h") == 0)) {
			fputs(usage, stdout);
			return 0;
		}
		fputs(usage, stderr);
		return 2;
	}
	struct opts o;
	int u = parse_opts(argc, argv, 3, &o, false);
	if (o.help) {
		fputs(usage, stdout);
		return 0;
	}
	if (u || !format_ok(o.format)) {
		fputs(usage, stderr);
		return 2;
	}
	char err[1024];
	struct dd_dirlock *lock = NULL;
	if (dd_dirlock_acquire(o.dir, &lock, err, sizeof err)) {
		fprintf(stderr, "iotdefender: audit run: %s\n", err);
		return 1;
	}
	char account[13] = "";
	if (o.account) {
		snprintf(account, sizeof account, "%s", o.account);
	} else {
		char cpath[4200];
		struct dd_creds creds;
		snprintf(cpath, sizeof cpath, "%s/credentials", o.dir);
		if (dd_creds_load(cpath, &creds, err, sizeof err)) {
			fprintf(stderr, "iotdefender: audit run: give --account (credentials: %s)\n", err);
			dd_dirlock_release(lock);
			return 2;
		}
		snprintf(account, sizeof account, "%s", creds.items[0].account);
		dd_creds_free(&creds);
	}
	dd_log_set_level(DD_LOG_WARN);
	int status = 1;
	struct dd_service svc;
	memset(&svc, 0, sizeof svc);
	svc.audit_workers = 1;
	if (dd_models_load()) {
		dd_dirlock_release(lock);
		return 1;
	}
	if (dd_service_init(&svc, o.dir)) {
		fprintf(stderr, "iotdefender: audit run: cannot open %s\n", o.dir);
		dd_models_free();
		dd_dirlock_release(lock);
		return 1;
	}
	snprintf(svc.endpoint_url, sizeof svc.endpoint_url, "http://127.0.0.1:7878");
	snprintf(svc.endpoint_host, sizeof svc.endpoint_host, "127.0.0.1:7878");
	const char *region = "us-east-1";
	bool started_workers = false;
	json_t *cfg = NULL, *names = json_array(), *started = NULL;
	if (dd_lease_start(&svc) || dd_outbox_start(&svc) || dd_audit_engine_start(&svc)) {
		fprintf(stderr, "iotdefender: audit run: cannot start the audit workers\n");
		goto out;
	}
	started_workers = true;
	cfg = call(&svc, account, region, "DescribeAccountAuditConfiguration", json_object());
	if (!cfg)
		goto out;
	const char *name;
	json_t *c;
	json_object_foreach(json_object_get(cfg, "auditCheckConfigurations"), name, c)
		if (json_is_true(json_object_get(c, "enabled")))
			json_array_append_new(names, json_string(name));
	if (!json_array_size(names)) {
		fprintf(stderr, "iotdefender: audit run: no audit check is enabled for account %s "
				"(aws iot update-account-audit-configuration)\n", account);
		goto out;
	}
	size_t total = json_array_size(names);
	started = call(&svc, account, region, "StartOnDemandAuditTask", json_pack("{s:O}", "targetCheckNames", names));
	if (!started)
		goto out;
	const char *task_id = json_string_value(json_object_get(started, "taskId"));
	bool tty = isatty(STDERR_FILENO);
	int64_t t0 = dd_time_now_ms();
	json_t *task = NULL;
	for (;;) {
		json_decref(task);
		task = call(&svc, account, region, "DescribeAuditTask", json_pack("{s:s}", "taskId", task_id));
		if (!task)
			goto out;
		json_t *st = json_object_get(task, "taskStatistics");
		long long done = json_integer_value(json_object_get(st, "compliantChecks")) +
				 json_integer_value(json_object_get(st, "nonCompliantChecks")) +
				 json_integer_value(json_object_get(st, "failedChecks")) +
				 json_integer_value(json_object_get(st, "canceledChecks"));
		const char *ts = sget(task, "taskStatus", "?");
		bool fin = strcmp(ts, "IN_PROGRESS") != 0;
		if (tty || fin)
			fprintf(stderr, "%saudit %s: %lld of %zu checks done, %lld non-compliant, %.1f s%s", tty ? "\r" : "",
				task_id, done, total, (long long)json_integer_value(json_object_get(st, "nonCompliantChecks")),
				(double)(dd_time_now_ms() - t0) / 1000.0, fin ? "\n" : "");
		if (fin)
			break;
		usleep(200000);
	}
	json_decref(task);
	json_t *r = build_report(&svc, account, region, task_id);
	if (r) {
		print_report(r, o.format, stdout);
		json_decref(r);
		status = 0;
	}
out:
	json_decref(started);
	json_decref(names);
	json_decref(cfg);
	if (started_workers) {
		dd_audit_engine_stop(&svc);
		dd_outbox_stop(&svc);
		dd_lease_stop(&svc);
	}
	dd_service_close(&svc);
	dd_models_free();
	dd_dirlock_release(lock);
	return status;
}

int dd_ops_main(int argc, char **argv)
{
	if (argc < 2)
		return -1;
	if (strcmp(argv[1], "config") == 0)
		return cmd_config(argc, argv);
	if (strcmp(argv[1], "backup") == 0)
		return cmd_backup(argc, argv);
	if (strcmp(argv[1], "restore") == 0)
		return cmd_restore(argc, argv);
	if (strcmp(argv[1], "report") == 0)
		return cmd_report(argc, argv);
	if (strcmp(argv[1], "audit") == 0)
		return cmd_audit(argc, argv);
	return -1;
}

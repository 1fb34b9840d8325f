/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The iotdefender command line: `serve` runs the AWS-compatible endpoint; admin verbs
 * work on a data directory without HTTP. Every option is described by --help.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/dd_admin.h"
#include "cli/dd_config.h"
#include "cli/dd_broker_config.h"
#include "cli/dd_demo.h"
#include "cli/dd_ops.h"
#include "dd/audit.h"
#include "dd/certs.h"
#include "dd/changes.h"
#include "dd/common.h"
#include "dd/lease.h"
#include "dd/fetch.h"
#include "dd/mitigation.h"
#include "dd/outbox.h"
#include "dd/service.h"
#include "dd/store.h"
#include "server/dd_api.h"
#include "server/dd_creds.h"
#include "server/dd_dirlock.h"
#include "server/dd_http.h"
#include "server/dd_model.h"

static void usage_main(FILE *f)
{
	fprintf(f,
		"usage: iotdefender <command> [options]\n"
		"\n"
		"A self-hosted AWS IoT Device Defender (Audit and Mitigation actions) endpoint.\n"
		"\n"
		"commands:\n"
		"  serve       run the AWS-compatible API endpoint (iot, iam, sns, cognito-identity)\n"
		"  demo        build the seed lab's fleet on a fresh data directory, audit it, mitigate\n"
		"  blocklist   import Debian weak-key blocklists (blocklist import --help)\n"
		"  crl         import a CRL for a registered CA, show CRL status (crl --help)\n"
		"  certs       recompute stored certificate facts (certs backfill --help)\n"
		"  iam-key     rotate the key sealing IAM users' secrets (iam-key rotate --help)\n"
		"  config      check a config file and print the effective settings (config check FILE)\n"
		"  backup      copy the database consistently, even while the server runs\n"
		"  restore     replace the database of a stopped server with a backup\n"
		"  report      print an audit's findings (text, json, csv or html)\n"
		"  audit       run all enabled audit checks now (audit run --help)\n"
		"  version     print the version (also --version)\n"
		"  broker-config  print a mosquitto.conf for the iotdefender broker plugin\n"
		"  demo --broker  devices on the real broker: shared certificate found, mitigated, kicked\n"
		"\n"
		"Run 'iotdefender <command> --help' for the options of a command.\n");
}

static void usage_serve(FILE *f)
{
	fprintf(f,
		"usage: iotdefender serve [options]\n"
		"\n"
		"Serves the AWS IoT (registry, Device Defender audit and mitigation), IAM, SNS and\n"
		"Cognito identity APIs on one HTTP endpoint, authenticated with AWS SigV4.\n"
		"\n"
		"Each setting is taken from, in this order of precedence: its flag, its environment\n"
		"variable, the config file (--config FILE or IOTDEFENDER_CONFIG: `key = value` lines,\n"
		"keys are the long option names, '#' comments; docs/OPERATIONS.md), its default.\n"
		"`iotdefender config check FILE` prints the effective settings.\n"
		"\n");
	dd_settings_usage(f);
}

static struct dd_settings cfg; /* freed at exit */
static void free_cfg(void) { dd_settings_free(&cfg); }

static int cmd_serve(int argc, char **argv)
{
	bool help = false;
	char cerr[1024];
	atexit(free_cfg);
	if (dd_settings_load(&cfg, argc, argv, &help, cerr, sizeof cerr)) {
		fprintf(stderr, "iotdefender: %s\n", cerr);
		return 2;
	}
	if (help) {
		usage_serve(stdout);
		return 0;
	}
	uint16_t port = (uint16_t)dd_settings_int(&cfg, "port");
	const char *bind_addr = dd_settings_get(&cfg, "bind"), *data_dir = dd_settings_get(&cfg, "data-dir");
	const char *cred_path = dd_settings_get(&cfg, "credentials");
	unsigned threads = (unsigned)dd_settings_int(&cfg, "threads");
	bool test_clock = dd_settings_bool(&cfg, "test-clock");
	int audit_workers = (int)dd_settings_int(&cfg, "audit-workers");
	int64_t lease_s = dd_settings_int(&cfg, "lease-seconds");
	bool shared_dir = dd_settings_bool(&cfg, "shared-data-dir");
	struct dd_http_limits limits;
	dd_http_limits_default(&limits);
	unsigned idle = (unsigned)dd_settings_int(&cfg, "idle-timeout");
	limits.idle_timeout_s = idle;
	limits.header_timeout_s = idle;
	limits.body_timeout_s = 4 * idle;
	const char *outbound_allow = dd_settings_get(&cfg, "outbound-allow");
	enum dd_log_level lvl = DD_LOG_INFO;
	if (dd_log_parse_level(dd_settings_get(&cfg, "log-level"), &lvl) == 0)
		dd_log_set_level(lvl);
	dd_log_set_json(strcmp(dd_settings_get(&cfg, "log-format"), "json") == 0);
	dd_settings_export_env(&cfg);
	if (cfg.config_path[0])
		dd_log_info("settings read from %s", cfg.config_path);

	/* Signals are taken synchronously by the main thread only. */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (dd_models_load()) {
		fprintf(stderr, "iotdefender: internal error loading the API models\n");
		return 1;
	}
	char err[1024];
	struct dd_dirlock *dirlock = NULL;
	if ((shared_dir ? dd_dirlock_acquire_shared(data_dir, &dirlock, err, sizeof err)
			: dd_dirlock_acquire(data_dir, &dirlock, err, sizeof err))) {
		fprintf(stderr, "iotdefender: %s\n", err);
		return 1;
	}
	struct dd_service svc;
	memset(&svc, 0, sizeof svc);
	svc.test_clock = test_clock;
	svc.audit_workers = audit_workers;
	svc.lease_ms = lease_s * 1000;
	if (dd_service_init(&svc, data_dir)) {
		if (dd_store_url())
			fprintf(stderr, "iotdefender: cannot open the PostgreSQL store (--store) or the data directory %s\n",
				data_dir);
		else
			fprintf(stderr, "iotdefender: cannot open the data directory %s\n", data_dir);
		dd_dirlock_release(dirlock);
		return 1;
	}
	char aerr[512];
	if (dd_fetch_configure(&svc, outbound_allow, aerr, sizeof aerr)) {
		fprintf(stderr, "iotdefender: %s\n", aerr);
		dd_service_close(&svc);
		dd_dirlock_release(dirlock);
		return 2;
	}
	size_t backfilled = 0;
	if (dd_certs_backfill(svc.store, svc.blocklists, &backfilled))
		dd_log_warn("certificate facts backfill failed; the stored facts stay as they were");
	else if (backfilled)
		dd_log_info("certificate facts recomputed for %zu certificates", backfilled);
	struct dd_creds creds;
	char default_creds[2200];
	bool generated = false, own_file = false;
	if (!cred_path) {
		snprintf(default_creds, sizeof default_creds, "%s/credentials", data_dir);
		cred_path = default_creds;
		own_file = true;
	}
	int rc = dd_creds_load(cred_path, &creds, err, sizeof err);
	if (rc == DD_ENOTFOUND && own_file) {
		rc = dd_creds_generate(cred_path, &creds, err, sizeof err);
		generated = rc == 0;
	}
	if (rc) {
		fprintf(stderr, "iotdefender: credentials: %s\n", err);
		dd_service_close(&svc);
		dd_dirlock_release(dirlock);
		return 1;
	}

	struct dd_api api = { .svc = &svc, .creds = &creds, .metrics_token = dd_settings_get(&cfg, "metrics-token") };
	/* links built by early requests (SNS SubscribeURL, DescribeEndpoint) need the address
	 * before the listener accepts anything; with --port 0 it is set once bound */
	bool v6 = strchr(bind_addr, ':') != NULL;
	snprintf(svc.endpoint_host, sizeof svc.endpoint_host, v6 ? "[%s]:%u" : "%s:%u", bind_addr, port);
	snprintf(svc.endpoint_url, sizeof svc.endpoint_url, "http://%s", svc.endpoint_host);
	struct dd_http *http = NULL;
	if (dd_http_start(&api, bind_addr, port, threads, &limits, &http, err, sizeof err)) {
		fprintf(stderr, "iotdefender: cannot listen: %s\n", err);
		dd_creds_free(&creds);
		dd_service_close(&svc);
		dd_dirlock_release(dirlock);
		return 1;
	}
	port = dd_http_port(http);
	snprintf(svc.endpoint_host, sizeof svc.endpoint_host, v6 ? "[%s]:%u" : "%s:%u", bind_addr, port);
	snprintf(svc.endpoint_url, sizeof svc.endpoint_url, "http://%s", svc.endpoint_host);
	if (dd_lease_start(&svc) || dd_outbox_start(&svc) || dd_audit_engine_start(&svc) || dd_mitigation_engine_start(&svc) || dd_broker_keeper_start(&svc)) {
		fprintf(stderr, "iotdefender: cannot start the notification workers\n");
		dd_http_stop(http);
		dd_creds_free(&creds);
		dd_service_close(&svc);
		dd_dirlock_release(dirlock);
		return 1;
	}

	if (generated)
		printf("iotdefender: created %s with a new access key\n", cred_path);
	if (own_file && !isatty(STDOUT_FILENO)) {
		/* a log or the journal: name the key, keep the secret in its file */
		printf("iotdefender: access key %s; its secret is in %s\n", creds.items[0].access_key, cred_path);
	} else if (own_file) {
		const struct dd_cred *k = &creds.items[0];
		printf("# Point the aws CLI, boto3 and the SDKs at this server:\n"
		       "export AWS_ACCESS_KEY_ID=%s\nexport AWS_SECRET_ACCESS_KEY=%s\n"
		       "export AWS_DEFAULT_REGION=us-east-1\nexport AWS_ENDPOINT_URL=%s\n",
		       k->access_key, k->secret, svc.endpoint_url);
	}
	printf("iotdefender: listening on %s (data in %s, %zu access key%s)\n", svc.endpoint_url, data_dir,
	       creds.n, creds.n == 1 ? "" : "s");
	fflush(stdout);
	dd_log_info("serving on %s", svc.endpoint_url);

	int sig = 0;
	sigwait(&set, &sig);
	dd_log_info("received %s, shutting down", sig == SIGINT ? "SIGINT" : "SIGTERM");
	dd_http_stop(http);
	dd_broker_keeper_stop();
	dd_mitigation_engine_stop(&svc);
	dd_audit_engine_stop(&svc);
	dd_outbox_stop(&svc);
	dd_lease_stop(&svc);
	dd_service_close(&svc);
	dd_creds_free(&creds);
	dd_models_free();
	dd_dirlock_release(dirlock);
	printf("iotdefender: stopped cleanly\n");
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage_main(stderr);
		return 2;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
		usage_main(stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
		printf("iotdefender %s\n", DD_VERSION);
		return 0;
	}
	if (strcmp(argv[1], "serve") == 0)
		return cmd_serve(argc - 1, argv + 1);
	if (dd_broker_demo_requested(argc, argv))
		return dd_broker_demo_main(argc - 1, argv + 1);
	if (strcmp(argv[1], "demo") == 0)
		return dd_demo_main(argc - 1, argv + 1);
	if (strcmp(argv[1], "broker-config") == 0)
		return dd_broker_config_main(argc - 1, argv + 1);
	int r = dd_ops_main(argc, argv);
	if (r >= 0)
		return r;
	r = dd_admin_main(argc, argv);
	if (r >= 0)
		return r;
	fprintf(stderr, "iotdefender: unknown command '%s'\n", argv[1]);
	usage_main(stderr);
	return 2;
}

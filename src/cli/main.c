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

#include "cli/dd_admin.h"
#include "cli/dd_broker_config.h"
#include "cli/dd_demo.h"
#include "dd/audit.h"
#include "dd/certs.h"
#include "dd/changes.h"
#include "dd/common.h"
#include "dd/fetch.h"
#include "dd/mitigation.h"
#include "dd/outbox.h"
#include "dd/service.h"
#include "server/dd_api.h"
#include "server/dd_creds.h"
#include "server/dd_dirlock.h"
#include "server/dd_http.h"
#include "server/dd_model.h"

#define DEFAULT_PORT 7878
#define DEFAULT_DATA_DIR "./iotdefender-data"

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
		"options:\n"
		"  --port N            TCP port (default %d; env IOTDEFENDER_PORT; 0 picks a free one)\n"
		"  --bind ADDR         IP address to listen on (default 127.0.0.1)\n"
		"  --data-dir DIR      where the SQLite store and keys live (default %s)\n"
		"  --credentials FILE  access keys in the AWS credentials format, each profile with an\n"
		"                      extra account_id = <12 digits>; default DIR/credentials, created\n"
		"                      with a random key pair on first start (mode 0600)\n"
		"  --threads N         HTTP worker threads (default 4)\n"
		"  --log-level LEVEL   error, warn, info (default) or debug\n"
		"  --audit-workers N   threads running audit tasks (default 2; 0 only queues them)\n"
		"  --idle-timeout S    close a connection that sends nothing for S seconds, or whose\n"
		"                      request headers take longer (default 30); a request body must\n"
		"                      arrive within 4*S\n"
		"  --test-clock        let a signed POST /admin/clock move the service clock (for\n"
		"                      tests of scheduled audits; never in production)\n"
		"  --outbound-allow CIDR[,CIDR...]  let SNS deliveries and CRL fetches reach these\n"
		"                      otherwise refused ranges, e.g. 127.0.0.0/8 (env\n"
		"                      IOTDEFENDER_OUTBOUND_ALLOW; docs/OUTBOUND.md)\n"
		"  --help              show this help\n",
		DEFAULT_PORT, DEFAULT_DATA_DIR);
}

static int parse_port(const char *s, uint16_t *out)
{
	int64_t v;
	if (dd_parse_int64(s, 0, 65535, &v))
		return DD_EINVAL;
	*out = (uint16_t)v;
	return 0;
}

static int cmd_serve(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "port", required_argument, NULL, 'p' },
		{ "bind", required_argument, NULL, 'b' },
		{ "data-dir", required_argument, NULL, 'd' },
		{ "credentials", required_argument, NULL, 'c' },
		{ "threads", required_argument, NULL, 't' },
		{ "log-level", required_argument, NULL, 'l' },
		{ "test-clock", no_argument, NULL, 'T' },
		{ "audit-workers", required_argument, NULL, 'A' },
		{ "idle-timeout", required_argument, NULL, 'I' },
		{ "outbound-allow", required_argument, NULL, 'O' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	uint16_t port = DEFAULT_PORT;
	const char *env_port = getenv("IOTDEFENDER_PORT");
	if (env_port && parse_port(env_port, &port)) {
		fprintf(stderr, "iotdefender: IOTDEFENDER_PORT must be a port number (0-65535)\n");
		return 2;
	}
	const char *bind_addr = "127.0.0.1", *data_dir = DEFAULT_DATA_DIR, *cred_path = NULL;
	unsigned threads = 4;
	bool test_clock = false;
	int audit_workers = 2;
	struct dd_http_limits limits;
	dd_http_limits_default(&limits);
	const char *outbound_allow = NULL;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		int64_t v;
		enum dd_log_level lvl;
		switch (c) {
		case 'p':
			if (parse_port(optarg, &port)) {
				fprintf(stderr, "iotdefender: --port must be a number from 0 to 65535\n");
				return 2;
			}
			break;
		case 'b': bind_addr = optarg; break;
		case 'd': data_dir = optarg; break;
		case 'c': cred_path = optarg; break;
		case 't':
			if (dd_parse_int64(optarg, 1, 64, &v)) {
				fprintf(stderr, "iotdefender: --threads must be from 1 to 64\n");
				return 2;
			}
			threads = (unsigned)v;
			break;
		case 'l':
			if (dd_log_parse_level(optarg, &lvl)) {
				fprintf(stderr, "iotdefender: --log-level must be error, warn, info or debug\n");
				return 2;
			}
			dd_log_set_level(lvl);
			break;
		case 'T': test_clock = true; break;
		case 'A':
			if (dd_parse_int64(optarg, 0, 2, &v)) {
				fprintf(stderr, "iotdefender: --audit-workers must be 0, 1 or 2\n");
				return 2;
			}
			audit_workers = (int)v;
			break;
		case 'I':
			if (dd_parse_int64(optarg, 1, 3600, &v)) {
				fprintf(stderr, "iotdefender: --idle-timeout must be from 1 to 3600 seconds\n");
				return 2;
			}
			limits.idle_timeout_s = (unsigned)v;
			limits.header_timeout_s = (unsigned)v;
			limits.body_timeout_s = 4 * (unsigned)v;
			break;
		case 'O': outbound_allow = optarg; break;
		case 'h': usage_serve(stdout); return 0;
		default: usage_serve(stderr); return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "iotdefender: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}

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
	if (dd_dirlock_acquire(data_dir, &dirlock, err, sizeof err)) {
		fprintf(stderr, "iotdefender: %s\n", err);
		return 1;
	}
	struct dd_service svc;
	memset(&svc, 0, sizeof svc);
	svc.test_clock = test_clock;
	svc.audit_workers = audit_workers;
	if (dd_service_init(&svc, data_dir)) {
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

	struct dd_api api = { .svc = &svc, .creds = &creds };
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
	if (dd_outbox_start(&svc) || dd_audit_start(&svc) || dd_mitigation_start(&svc) || dd_broker_keeper_start(&svc)) {
		fprintf(stderr, "iotdefender: cannot start the notification workers\n");
		dd_http_stop(http);
		dd_creds_free(&creds);
		dd_service_close(&svc);
		dd_dirlock_release(dirlock);
		return 1;
	}

	if (generated)
		printf("iotdefender: created %s with a new access key\n", cred_path);
	if (own_file) {
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
	dd_mitigation_stop(&svc);
	dd_audit_stop(&svc);
	dd_outbox_stop(&svc);
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
	if (strcmp(argv[1], "serve") == 0)
		return cmd_serve(argc - 1, argv + 1);
	if (dd_broker_demo_requested(argc, argv))
		return dd_broker_demo_main(argc - 1, argv + 1);
	if (strcmp(argv[1], "demo") == 0)
		return dd_demo_main(argc - 1, argv + 1);
	if (strcmp(argv[1], "broker-config") == 0)
		return dd_broker_config_main(argc - 1, argv + 1);
	int r = dd_admin_main(argc, argv);
	if (r >= 0)
		return r;
	fprintf(stderr, "iotdefender: unknown command '%s'\n", argv[1]);
	usage_main(stderr);
	return 2;
}

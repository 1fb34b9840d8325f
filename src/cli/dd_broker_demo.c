/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `iotdefender demo --broker` (also `iotdefender broker-demo`): the broker end to end on a
 * fresh data directory. Three devices connect with real MQTT clients (mosquitto_sub over
 * TLS) to the real Mosquitto with the plugin; two of them share one certificate. An audit
 * finds the shared certificate from their real connections, the seed's mitigation
 * (UPDATE_DEVICE_CERTIFICATE, DEACTIVATE) deactivates it, and the demo shows both devices
 * disconnected and refused when they reconnect while the third stays connected.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <link.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli/dd_broker_config.h"
#include "cli/dd_demo.h"
#include "dd/audit.h"
#include "dd/common.h"
#include "dd/lease.h"
#include "dd/mitigation.h"
#include "dd/outbox.h"
#include "dd/service.h"
#include "server/dd_api.h"
#include "server/dd_creds.h"
#include "server/dd_model.h"
#include "store/dd_store_connections.h"

#define REGION DD_DEMO_REGION
#define MARKER ".iotdefender-broker-demo"

bool dd_broker_demo_requested(int argc, char **argv)
{
	if (argc < 2)
		return false;
	if (strcmp(argv[1], "broker-demo") == 0)
		return true;
	if (strcmp(argv[1], "demo") != 0)
		return false;
	for (int i = 2; i < argc; i++)
		if (strcmp(argv[i], "--broker") == 0)
			return true;
	return false;
}

static int free_port(void)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof a;
	int port = -1;
	if (s >= 0 && bind(s, (struct sockaddr *)&a, sizeof a) == 0 && getsockname(s, (struct sockaddr *)&a, &len) == 0)
		port = ntohs(a.sin_port);
	if (s >= 0)
		close(s);
	return port;
}

static bool port_open(int port)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	bool ok = s >= 0 && connect(s, (struct sockaddr *)&a, sizeof a) == 0;
	if (s >= 0)
		close(s);
	return ok;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The sanitizer runtime this process runs with, if any: a sanitizer build's plugin needs
 * it loaded first in the broker too. */
static int find_asan(struct dl_phdr_info *info, size_t size, void *data)
{
	(void)size;
	if (info->dlpi_name && strstr(info->dlpi_name, "libasan")) {
		snprintf(data, 4096, "%s", info->dlpi_name);
		return 1;
	}
	return 0;
}

/* Starts argv with stdout and stderr to log_path; returns the pid or -1. With_asan: give
 * the child this process's sanitizer runtime (for the plugin), without leak checking. */
static pid_t spawn(char *const argv[], const char *log_path, bool with_asan)
{
	char asan[4096] = "";
	if (with_asan)
		dl_iterate_phdr(find_asan, asan);
	pid_t pid = fork();
	if (pid != 0)
		return pid;
	if (asan[0]) {
		setenv("LD_PRELOAD", asan, 1);
		setenv("ASAN_OPTIONS", "detect_leaks=0", 1);
	}
	int fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
	if (fd >= 0) {
		dup2(fd, 1);
		dup2(fd, 2);
		close(fd);
	}
	setpgid(0, 0);
	execvp(argv[0], argv);
	_exit(127);
}

static void stop(pid_t pid)
{
	if (pid <= 0)
		return;
	kill(pid, SIGTERM);
	for (int i = 0; i < 100; i++) {
		if (waitpid(pid, NULL, WNOHANG) == pid)
			return;
		sleep_ms(50);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

static int write_text(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");
	if (!f)
		return -1;
	int ok = fputs(text, f) >= 0;
	ok = fclose(f) == 0 && ok;
	return ok && chmod(path, mode) == 0 ? 0 : -1;
}

/* Connection events recorded for a client id: connects and disconnects, last reason. */
static void events_of(struct dd_demo *d, const char *client, int *connects, int *disconnects, char *reason, size_t rlen)
{
	*connects = *disconnects = 0;
	if (reason)
		reason[0] = 0;
	struct dd_db *db = dd_store_db(d->svc.store);
	if (db && dd_store_connections_tally(db, d->account_region, client, connects, disconnects, reason, reason ? rlen : 0))
		dd_log_warn("demo: cannot read the connection events of %s", client);
}

static char *create_cert(struct dd_demo *d, const char *name, char *id, size_t idlen)
{
	json_t *c = dd_demo_call(d, "iot", "CreateKeysAndCertificate", json_pack("{s:b}", "setAsActive", 1));
	if (!c)
		return NULL;
	char crt[4300], key[4300];
	snprintf(crt, sizeof crt, "%s/devices/%s.crt", d->dir, name);
	snprintf(key, sizeof key, "%s/devices/%s.key", d->dir, name);
	snprintf(id, idlen, "%s", json_string_value(json_object_get(c, "certificateId")));
	char *arn = strdup(json_string_value(json_object_get(c, "certificateArn")));
	if (write_text(crt, json_string_value(json_object_get(c, "certificatePem")), 0644) ||
	    write_text(key, json_string_value(json_object_get(json_object_get(c, "keyPair"), "PrivateKey")), 0600)) {
		free(arn);
		arn = NULL;
		d->failed = true;
	}
	json_decref(c);
	return arn;
}

static const char *status_of(json_t *t, const char *member)
{
	const char *s = json_string_value(json_object_get(t, member));
	return s ? s : "?";
}

static void usage(FILE *f)
{
	fprintf(f, "usage: iotdefender demo --broker [--data-dir DIR]\n\n"
		   "Starts Mosquitto with the iotdefender plugin on a fresh data directory (default\n"
		   "./iotdefender-broker-demo; a previous one is replaced) and three MQTT devices\n"
		   "(mosquitto_sub over TLS), two sharing a certificate; audits their real connections,\n"
		   "deactivates the shared certificate with a mitigation action, and shows both devices\n"
		   "disconnected and refused on reconnect. Needs mosquitto and mosquitto-clients.\n");
}

int dd_broker_demo_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "data-dir", required_argument, NULL, 'd' },
		{ "broker", no_argument, NULL, 'b' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *dir = "./iotdefender-broker-demo";
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'd')
			dir = optarg;
		else if (c == 'h') {
			usage(stdout);
			return 0;
		} else if (c != 'b') {
			usage(stderr);
			return 2;
		}
	}
	if (access(DD_PLUGIN_PATH, R_OK) != 0) {
		fprintf(stderr, "demo: the broker plugin %s is missing (install mosquitto-dev and rebuild)\n", DD_PLUGIN_PATH);
		return 1;
	}
	if (dd_demo_prepare_dir(dir, MARKER, "made by iotdefender demo --broker; replaced by the next run\n", "broker demo"))
		return 1;
	dd_log_set_level(DD_LOG_WARN);
	if (dd_models_load())
		return 1;
	static struct dd_demo d;
	memset(&d, 0, sizeof d);
	if (dd_demo_open(&d, dir))
		return 1;
	char path[4400];
	pid_t broker = -1, subs[3] = { -1, -1, -1 };
	int rc = 1;
	char *shared_arn = NULL, *solo_arn = NULL, *audit_role = NULL, *mit_role = NULL;
	char shared_id[80] = "", solo_id[80] = "";

	printf("== Devices: sensor-1 and sensor-2 share one certificate, sensor-3 has its own\n");
	snprintf(path, sizeof path, "%s/devices", d.dir);
	mkdir(path, 0700);
	shared_arn = create_cert(&d, "shared", shared_id, sizeof shared_id);
	solo_arn = create_cert(&d, "solo", solo_id, sizeof solo_id);
	json_decref(dd_demo_call(&d, "iot", "CreatePolicy", json_pack("{s:s, s:s}", "policyName", "DemoDevicePolicy", "policyDocument",
		"{\"Version\":\"2012-10-17\",\"Statement\":["
		"{\"Effect\":\"Allow\",\"Action\":\"iot:Connect\",\"Resource\":\"arn:aws:iot:" REGION ":*:client/sensor-*\"},"
		"{\"Effect\":\"Allow\",\"Action\":[\"iot:Subscribe\"],\"Resource\":\"arn:aws:iot:" REGION ":*:topicfilter/demo/*\"},"
		"{\"Effect\":\"Allow\",\"Action\":[\"iot:Publish\",\"iot:Receive\"],\"Resource\":\"arn:aws:iot:" REGION ":*:topic/demo/*\"}]}")));
	if (d.failed || !shared_arn || !solo_arn)
		goto out;
	json_decref(dd_demo_call(&d, "iot", "AttachPolicy", json_pack("{s:s, s:s}", "policyName", "DemoDevicePolicy", "target", shared_arn)));
	json_decref(dd_demo_call(&d, "iot", "AttachPolicy", json_pack("{s:s, s:s}", "policyName", "DemoDevicePolicy", "target", solo_arn)));
	printf("   shared certificate %s\n   sensor-3 certificate %s\n", shared_id, solo_id);

	int port = free_port();
	char conf[4400], blog[4400];
	snprintf(conf, sizeof conf, "%s/mosquitto.conf", d.dir);
	snprintf(blog, sizeof blog, "%s/mosquitto.log", d.dir);
	FILE *cf = fopen(conf, "w");
	if (!cf || port < 0 || dd_broker_config_write(&d.svc, d.dir, port, REGION, DD_PLUGIN_PATH, cf)) {
		if (cf)
			fclose(cf);
		goto out;
	}
	fclose(cf);
	printf("== Broker: mosquitto -c %s (TLS on 127.0.0.1:%d, log %s)\n", conf, port, blog);
	char *bargv[] = { "mosquitto", "-c", conf, NULL };
	broker = spawn(bargv, blog, true);
	for (int i = 0; i < 100 && !port_open(port); i++)
		sleep_ms(50);
	if (!port_open(port)) {
		fprintf(stderr, "demo: mosquitto did not start (is it installed?); see %s\n", blog);
		goto out;
	}
	static const char *const names[3] = { "sensor-1", "sensor-2", "sensor-3" };
	char portstr[16], ca[4400], crt[3][4400], key[3][4400], logs[3][4400];
	snprintf(portstr, sizeof portstr, "%d", port);
	snprintf(ca, sizeof ca, "%s/broker/server-ca.pem", d.dir);
	for (int i = 0; i < 3; i++) {
		const char *cert = i < 2 ? "shared" : "solo";
		snprintf(crt[i], sizeof crt[i], "%s/devices/%s.crt", d.dir, cert);
		snprintf(key[i], sizeof key[i], "%s/devices/%s.key", d.dir, cert);
		snprintf(logs[i], sizeof logs[i], "%s/devices/%s.log", d.dir, names[i]);
		char *sargv[] = { "mosquitto_sub", "-h", "127.0.0.1", "-p", portstr, "--cafile", ca, "--cert", crt[i], "--key",
				  key[i], "-i", (char *)names[i], "-t", "demo/#", "-q", "1", NULL };
		subs[i] = spawn(sargv, logs[i], false);
	}
	int conn[3] = { 0 }, disc[3] = { 0 };
	for (int t = 0; t < 200; t++) {
		int n = 0;
		for (int i = 0; i < 3; i++) {
			events_of(&d, names[i], &conn[i], &disc[i], NULL, 0);
			n += conn[i] > 0;
		}
		if (n == 3)
			break;
		sleep_ms(50);
	}
	for (int i = 0; i < 3; i++)
		printf("   %s: %s\n", names[i], conn[i] ? "connected (recorded as a connection event by the plugin)" : "NOT connected");
	if (!conn[0] || !conn[1] || !conn[2]) {
		fprintf(stderr, "demo: the devices did not connect; see %s and %s/devices/*.log\n", blog, d.dir);
		goto out;
	}

	printf("== Audit: DEVICE_CERTIFICATE_SHARED_CHECK on the devices' real connections\n");
	audit_role = dd_demo_role(&d, "DemoAuditRole", "arn:aws:iam::aws:policy/service-role/AWSIoTDeviceDefenderAudit", NULL);
	mit_role = dd_demo_role(&d, "DemoMitigationRole", NULL,
			"{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"iot:UpdateCertificate\",\"Resource\":\"*\"}]}");
	if (!audit_role || !mit_role)
		goto out;
	json_decref(dd_demo_call(&d, "iot", "UpdateAccountAuditConfiguration",
			 json_pack("{s:s, s:{s:{s:b}}}", "roleArn", audit_role, "auditCheckConfigurations",
				   "DEVICE_CERTIFICATE_SHARED_CHECK", "enabled", 1)));
	json_t *t = dd_demo_call(&d, "iot", "StartOnDemandAuditTask", json_pack("{s:[s]}", "targetCheckNames", "DEVICE_CERTIFICATE_SHARED_CHECK"));
	if (!t)
		goto out;
	char task[80];
	snprintf(task, sizeof task, "%s", status_of(t, "taskId"));
	json_decref(t);
	for (int i = 0; i < 600; i++) {
		t = dd_demo_call(&d, "iot", "DescribeAuditTask", json_pack("{s:s}", "taskId", task));
		bool done = t && strcmp(status_of(t, "taskStatus"), "IN_PROGRESS") != 0;
		json_decref(t);
		if (done || !t)
			break;
		sleep_ms(100);
	}
	json_t *f = dd_demo_call(&d, "iot", "ListAuditFindings", json_pack("{s:s}", "taskId", task));
	char finding[80] = "";
	size_t i;
	json_t *e;
	json_array_foreach(json_object_get(f, "findings"), i, e) {
		json_t *rid = json_object_get(json_object_get(e, "nonCompliantResource"), "resourceIdentifier");
		printf("   NONCOMPLIANT certificate %s (%s): %s\n", status_of(rid, "deviceCertificateId"), status_of(e, "severity"),
		       status_of(e, "reasonForNonCompliance"));
		size_t k;
		json_t *r;
		json_array_foreach(json_object_get(e, "relatedResources"), k, r)
			printf("      used by client %s\n", status_of(json_object_get(r, "resourceIdentifier"), "clientId"));
		if (strcmp(status_of(rid, "deviceCertificateId"), shared_id) == 0)
			snprintf(finding, sizeof finding, "%s", status_of(e, "findingId"));
	}
	json_decref(f);
	if (!finding[0]) {
		fprintf(stderr, "demo: the audit did not find the shared certificate\n");
		goto out;
	}

	printf("== Mitigation: UPDATE_DEVICE_CERTIFICATE (DEACTIVATE) on the finding\n");
	json_decref(dd_demo_call(&d, "iot", "CreateMitigationAction",
			 json_pack("{s:s, s:s, s:{s:{s:s}}}", "actionName", "DeactivateSharedCertificate", "roleArn", mit_role,
				   "actionParams", "updateDeviceCertificateParams", "action", "DEACTIVATE")));
	json_decref(dd_demo_call(&d, "iot", "StartAuditMitigationActionsTask",
			 json_pack("{s:s, s:{s:[s]}, s:{s:[s]}, s:s}", "taskId", "demo-broker-mitigation", "target", "findingIds", finding,
				   "auditCheckToActionsMapping", "DEVICE_CERTIFICATE_SHARED_CHECK", "DeactivateSharedCertificate",
				   "clientRequestToken", "demo-broker-mitigation")));
	double t0 = now_s(), inactive_at = 0;
	for (int k = 0; k < 600 && !d.failed; k++) {
		json_t *dc = dd_demo_call(&d, "iot", "DescribeCertificate", json_pack("{s:s}", "certificateId", shared_id));
		bool inactive = dc && strcmp(status_of(json_object_get(dc, "certificateDescription"), "status"), "INACTIVE") == 0;
		json_decref(dc);
		if (inactive) {
			inactive_at = now_s();
			break;
		}
		sleep_ms(20);
	}
	if (!inactive_at) {
		fprintf(stderr, "demo: the certificate was not deactivated\n");
		goto out;
	}
	printf("   certificate %s is INACTIVE (%.2f s after the task started)\n", shared_id, inactive_at - t0);
	char reason[64];
	bool kicked[2] = { false, false };
	double kicked_at[2] = { 0, 0 };
	for (int k = 0; k < 100 && !(kicked[0] && kicked[1]); k++) {
		for (int j = 0; j < 2; j++) {
			events_of(&d, names[j], &conn[j], &disc[j], reason, sizeof reason);
			if (!kicked[j] && disc[j] > 0) {
				kicked[j] = true;
				kicked_at[j] = now_s();
			}
		}
		sleep_ms(10);
	}
	for (int j = 0; j < 2; j++) {
		events_of(&d, names[j], &conn[j], &disc[j], reason, sizeof reason);
		if (kicked[j])
			printf("   %s disconnected by the broker within %.2f s (recorded reason %s)\n", names[j], kicked_at[j] - inactive_at, reason);
		else
			printf("   %s is STILL connected\n", names[j]);
	}
	/* mosquitto_sub reconnects by itself and exits when the broker refuses it */
	for (int j = 0; j < 2; j++) {
		int status = 0;
		bool exited = false;
		for (int k = 0; k < 200 && !exited; k++) {
			exited = waitpid(subs[j], &status, WNOHANG) == subs[j];
			if (!exited)
				sleep_ms(50);
		}
		if (exited) {
			subs[j] = -1;
			printf("   %s reconnected and was refused: mosquitto_sub exited (%d); see %s\n", names[j],
			       WIFEXITED(status) ? WEXITSTATUS(status) : -1, logs[j]);
		} else {
			printf("   %s did not exit after reconnecting\n", names[j]);
		}
	}
	events_of(&d, names[2], &conn[2], &disc[2], NULL, 0);
	printf("   %s (its own certificate) is %s\n", names[2], disc[2] == 0 ? "still connected" : "disconnected");
	rc = kicked[0] && kicked[1] && subs[0] < 0 && subs[1] < 0 && disc[2] == 0 ? 0 : 1;
	printf("== Broker log lines of the plugin (%s):\n", blog);
	FILE *bl = fopen(blog, "r");
	char line[1024];
	while (bl && fgets(line, sizeof line, bl))
		if (strstr(line, "iotdefender:"))
			printf("   %s", line);
	if (bl)
		fclose(bl);
	printf("\n`iotdefender serve --data-dir %s` serves this fleet; the broker config is %s.\n", dir, conf);
out:
	for (int j = 0; j < 3; j++)
		stop(subs[j]);
	stop(broker);
	free(shared_arn);
	free(solo_arn);
	free(audit_role);
	free(mit_role);
	dd_demo_close(&d);
	return d.failed ? 1 : rc;
}

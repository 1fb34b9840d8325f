/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `iotdefender demo`: recreates the seed lab on a fresh data directory. It builds a small
 * fleet with the lab's bad configurations (two devices sharing one certificate, an overly
 * permissive policy, logging disabled, an expiring and a revoked certificate, a client-id
 * takeover, an over-broad Cognito guest role), enables every check, runs an on-demand
 * audit with the real engine, prints the results grouped as the console's Results page
 * does, then deactivates the shared certificate with a mitigation action and shows it.
 * Everything goes through the same handlers (and model validation) as API requests. The
 * set-up the broker demo shares (service, credentials, engines, calls, roles, the data
 * directory) is here too, as dd_demo_*.
 */
#include "cli/dd_demo.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "api/dd_iot_ingest.h"
#include "dd/audit.h"
#include "dd/crl.h"
#include "dd/lease.h"
#include "dd/mitigation.h"
#include "dd/outbox.h"
#include "dd/service.h"
#include "dd/x509.h"
#include "server/dd_api.h"
#include "server/dd_creds.h"
#include "server/dd_dirlock.h"
#include "server/dd_model.h"

#define REGION DD_DEMO_REGION
#define MARKER ".iotdefender-demo"

json_t *dd_demo_call(struct dd_demo *d, const char *service, const char *op, json_t *in)
{
	json_t *out = NULL;
	char err[1200];
	int rc = dd_api_call(&d->svc, d->account, REGION, service, op, in, &out, err, sizeof err);
	json_decref(in);
	if (rc) {
		fprintf(stderr, "demo: %s %s failed: %s\n", service, op, err);
		d->failed = true;
		return NULL;
	}
	return out ? out : json_object();
}

static bool served(const char *service, const char *op)
{
	json_t *out = NULL;
	char err[256];
	(void)out;
	(void)err;
	const struct dd_model *m = dd_model_get(service);
	return m && dd_model_op_find(m, op) != NULL;
}

static const char *trust_iot =
	"{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"Service\":\"iot.amazonaws.com\"},"
	"\"Action\":\"sts:AssumeRole\"}]}";

char *dd_demo_role(struct dd_demo *d, const char *name, const char *managed, const char *inline_doc)
{
	json_t *r = dd_demo_call(d, "iam", "CreateRole", json_pack("{s:s, s:s}", "RoleName", name, "AssumeRolePolicyDocument", trust_iot));
	if (!r)
		return NULL;
	char *arn = strdup(json_string_value(json_object_get(json_object_get(r, "Role"), "Arn")));
	json_decref(r);
	if (managed)
		json_decref(dd_demo_call(d, "iam", "AttachRolePolicy", json_pack("{s:s, s:s}", "RoleName", name, "PolicyArn", managed)));
	if (inline_doc)
		json_decref(dd_demo_call(d, "iam", "PutRolePolicy", json_pack("{s:s, s:s, s:s}", "RoleName", name, "PolicyName", "inline",
								  "PolicyDocument", inline_doc)));
	return arn;
}

/* A CRL of the CA revoking one serial, PEM (owned). */
static char *make_crl(const char *ca_cert_pem, const char *ca_key_pem, const char *serial_hex)
{
	char *out = NULL;
	BIO *cb = BIO_new_mem_buf(ca_cert_pem, -1), *kb = BIO_new_mem_buf(ca_key_pem, -1);
	X509 *ca = cb ? PEM_read_bio_X509(cb, NULL, NULL, NULL) : NULL;
	EVP_PKEY *key = kb ? PEM_read_bio_PrivateKey(kb, NULL, NULL, NULL) : NULL;
	X509_CRL *crl = X509_CRL_new();
	X509_REVOKED *rev = X509_REVOKED_new();
	BIGNUM *bn = NULL;
	ASN1_TIME *now = ASN1_TIME_adj(NULL, time(NULL), 0, -3600), *next = ASN1_TIME_adj(NULL, time(NULL), 30, 0);
	ASN1_TIME *rt = ASN1_TIME_adj(NULL, time(NULL), 0, -1800);
	if (!ca || !key || !crl || !rev || !now || !next || !rt || !BN_hex2bn(&bn, serial_hex))
		goto out;
	ASN1_INTEGER *ser = BN_to_ASN1_INTEGER(bn, NULL);
	if (!ser)
		goto out;
	X509_REVOKED_set_serialNumber(rev, ser);
	ASN1_INTEGER_free(ser);
	X509_REVOKED_set_revocationDate(rev, rt);
	if (!X509_CRL_set_version(crl, 1) || !X509_CRL_set_issuer_name(crl, X509_get_subject_name(ca)) ||
	    !X509_CRL_set1_lastUpdate(crl, now) || !X509_CRL_set1_nextUpdate(crl, next) || !X509_CRL_add0_revoked(crl, rev))
		goto out;
	rev = NULL;
	X509_CRL_sort(crl);
	if (!X509_CRL_sign(crl, key, EVP_sha256()))
		goto out;
	BIO *mb = BIO_new(BIO_s_mem());
	if (mb && PEM_write_bio_X509_CRL(mb, crl)) {
		char *p;
		long n = BIO_get_mem_data(mb, &p);
		out = strndup(p, (size_t)n);
	}
	BIO_free(mb);
out:
	X509_REVOKED_free(rev);
	X509_CRL_free(crl);
	BN_free(bn);
	ASN1_TIME_free(now);
	ASN1_TIME_free(next);
	ASN1_TIME_free(rt);
	X509_free(ca);
	EVP_PKEY_free(key);
	BIO_free(cb);
	BIO_free(kb);
	return out;
}

static json_t *wait_status(struct dd_demo *d, const char *op, const char *id_key, const char *id, const char *status_key)
{
	for (int i = 0; i < 600; i++) {
		json_t *t = dd_demo_call(d, "iot", op, json_pack("{s:s}", id_key, id));
		if (!t)
			return NULL;
		const char *st = json_string_value(json_object_get(t, status_key));
		if (st && strcmp(st, "IN_PROGRESS") != 0)
			return t;
		json_decref(t);
		usleep(100000);
	}
	fprintf(stderr, "demo: %s %s did not finish\n", op, id);
	d->failed = true;
	return NULL;
}

static const char *resource_label(json_t *res, char *buf, size_t len)
{
	json_t *rid = json_object_get(res, "resourceIdentifier");
	const char *k;
	json_t *v;
	buf[0] = '\0';
	json_object_foreach(rid, k, v) {
		if (json_is_string(v)) {
			const char *s = json_string_value(v);
			if (strlen(s) == 64)
				snprintf(buf, len, "%s %.12s…", k, s);
			else
				snprintf(buf, len, "%s %s", k, s);
		} else if (json_is_object(v)) {
			snprintf(buf, len, "%s %s (version %s)", k, json_string_value(json_object_get(v, "policyName")),
				 json_string_value(json_object_get(v, "policyVersionId")));
		}
		break;
	}
	return buf;
}

int dd_demo_prepare_dir(const char *dir, const char *marker_name, const char *text, const char *what)
{
	char marker[4200];
	snprintf(marker, sizeof marker, "%s/%s", dir, marker_name);
	struct stat sb;
	if (stat(dir, &sb) == 0) {
		if (stat(marker, &sb) != 0) {
			fprintf(stderr, "demo: %s exists and was not made by the %s; give another --data-dir\n", dir, what);
			return -1;
		}
		char cmd[4400];
		snprintf(cmd, sizeof cmd, "rm -rf -- '%s'", dir);
		if (strchr(dir, '\'') || system(cmd) != 0) {
			fprintf(stderr, "demo: cannot clear %s\n", dir);
			return -1;
		}
	}
	if (mkdir(dir, 0700) != 0) {
		fprintf(stderr, "demo: cannot create %s: %s\n", dir, strerror(errno));
		return -1;
	}
	FILE *f = fopen(marker, "w");
	if (!f)
		return -1;
	int ok = fputs(text, f) >= 0;
	return fclose(f) == 0 && ok ? 0 : -1;
}

int dd_demo_open(struct dd_demo *d, const char *dir)
{
	if (!realpath(dir, d->dir)) {
		fprintf(stderr, "demo: cannot resolve %s: %s\n", dir, strerror(errno));
		return -1;
	}
	d->svc.audit_workers = 1;
	if (dd_service_init(&d->svc, d->dir)) {
		fprintf(stderr, "demo: cannot open %s\n", dir);
		return -1;
	}
	char cred_path[4200], err[512];
	snprintf(cred_path, sizeof cred_path, "%s/credentials", d->dir);
	struct dd_creds creds;
	if (dd_creds_generate(cred_path, &creds, err, sizeof err)) {
		fprintf(stderr, "demo: %s\n", err);
		return -1;
	}
	snprintf(d->account, sizeof d->account, "%s", creds.items[0].account);
	dd_creds_free(&creds);
	if (dd_account_region_make(d->account_region, d->account, REGION)) {
		fprintf(stderr, "demo: the generated account id %s is not valid\n", d->account);
		return -1;
	}
	snprintf(d->svc.endpoint_url, sizeof d->svc.endpoint_url, "http://127.0.0.1:7878");
	snprintf(d->svc.endpoint_host, sizeof d->svc.endpoint_host, "127.0.0.1:7878");
	if (dd_lease_start(&d->svc) || dd_outbox_start(&d->svc) || dd_audit_engine_start(&d->svc) || dd_mitigation_engine_start(&d->svc))
		return -1;
	return 0;
}

void dd_demo_close(struct dd_demo *d)
{
	dd_mitigation_engine_stop(&d->svc);
	dd_audit_engine_stop(&d->svc);
	dd_outbox_stop(&d->svc);
	dd_lease_stop(&d->svc);
	dd_service_close(&d->svc);
	dd_models_free();
}

static void usage(FILE *f)
{
	fprintf(f, "usage: iotdefender demo [--data-dir DIR]\n\n"
		   "Recreates the seed lab on a fresh data directory (default ./iotdefender-demo; a\n"
		   "previous demo directory is replaced), audits it with all 17 checks, prints the\n"
		   "findings grouped by check, applies a mitigation action and shows its effect.\n"
		   "Afterwards `iotdefender serve --data-dir DIR` serves the same fleet.\n");
}

int dd_demo_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "data-dir", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *dir = "./iotdefender-demo";
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'd')
			dir = optarg;
		else if (c == 'h') {
			usage(stdout);
			return 0;
		} else {
			usage(stderr);
			return 2;
		}
	}
	/* never replace a directory a server is using; then hold the new one's lock */
	char lerr[1024], lpath[4200];
	static struct dd_dirlock *lock; /* held until the process exits */
	struct stat lsb;
	snprintf(lpath, sizeof lpath, "%s/iotdefender.lock", dir);
	if (stat(lpath, &lsb) == 0) {
		if (dd_dirlock_acquire(dir, &lock, lerr, sizeof lerr)) {
			fprintf(stderr, "demo: %s\n", lerr);
			return 1;
		}
		dd_dirlock_release(lock);
		lock = NULL;
	}
	if (dd_demo_prepare_dir(dir, MARKER, "made by iotdefender demo; removed and recreated by the next demo run\n", "demo"))
		return 1;
	if (dd_dirlock_acquire(dir, &lock, lerr, sizeof lerr)) {
		fprintf(stderr, "demo: %s\n", lerr);
		return 1;
	}
	dd_log_set_level(DD_LOG_WARN);
	if (dd_models_load())
		return 1;
	static struct dd_demo d;
	memset(&d, 0, sizeof d);
	if (dd_demo_open(&d, dir))
		return 1;

	printf("== Building the lab fleet in account %s, region %s (data in %s)\n", d.account, REGION, dir);
	char *audit_role = dd_demo_role(&d, "AWSIoTDeviceDefenderAuditRole",
				"arn:aws:iam::aws:policy/service-role/AWSIoTDeviceDefenderAudit", NULL);
	char *mitig_role = dd_demo_role(&d, "IoTMitigationActionRole",
				"arn:aws:iam::aws:policy/service-role/AWSIoTDeviceDefenderUpdateDeviceCertMitigationAction", NULL);
	char *guest_role = dd_demo_role(&d, "CognitoGuestRole", NULL,
				"{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"iot:*\",\"Resource\":\"*\"}]}");
	const char *things[] = { "smart-lock-1", "smart-lock-2", "thermostat", "camera", "doorbell" };
	for (int i = 0; i < 5; i++)
		json_decref(dd_demo_call(&d, "iot", "CreateThing", json_pack("{s:s}", "thingName", things[i])));

	/* two devices sharing one certificate, attached to an overly permissive policy */
	json_t *shared = dd_demo_call(&d, "iot", "CreateKeysAndCertificate", json_pack("{s:b}", "setAsActive", 1));
	json_t *own = dd_demo_call(&d, "iot", "CreateKeysAndCertificate", json_pack("{s:b}", "setAsActive", 1));
	if (!shared || !own)
		goto done;
	const char *shared_arn = json_string_value(json_object_get(shared, "certificateArn"));
	const char *shared_id = json_string_value(json_object_get(shared, "certificateId"));
	json_decref(dd_demo_call(&d, "iot", "AttachThingPrincipal", json_pack("{s:s, s:s}", "thingName", "smart-lock-1", "principal", shared_arn)));
	json_decref(dd_demo_call(&d, "iot", "AttachThingPrincipal", json_pack("{s:s, s:s}", "thingName", "smart-lock-2", "principal", shared_arn)));
	json_decref(dd_demo_call(&d, "iot", "AttachThingPrincipal", json_pack("{s:s, s:s}", "thingName", "thermostat", "principal",
								      json_string_value(json_object_get(own, "certificateArn")))));
	json_decref(dd_demo_call(&d, "iot", "CreatePolicy", json_pack("{s:s, s:s}", "policyName", "LabDevicePolicy", "policyDocument",
		"{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"iot:*\",\"Resource\":\"*\"}]}")));
	json_decref(dd_demo_call(&d, "iot", "CreatePolicy", json_pack("{s:s, s:s}", "policyName", "ScopedDevicePolicy", "policyDocument",
		"{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"iot:Connect\",\"Resource\":"
		"\"arn:aws:iot:us-east-1:*:client/${iot:Connection.Thing.ThingName}\"}]}")));
	json_decref(dd_demo_call(&d, "iot", "AttachPolicy", json_pack("{s:s, s:s}", "policyName", "LabDevicePolicy", "target", shared_arn)));

	/* an expiring certificate (10 days left) for the camera */
	char *cert_pem = NULL, *pub = NULL, *priv = NULL;
	if (dd_x509_issue(d.svc.ca_cert_pem, d.svc.ca_key_pem, "camera", 10, &cert_pem, &pub, &priv) == 0) {
		json_t *r = dd_demo_call(&d, "iot", "RegisterCertificateWithoutCA", json_pack("{s:s, s:s}", "certificatePem", cert_pem, "status", "ACTIVE"));
		if (r)
			json_decref(dd_demo_call(&d, "iot", "AttachThingPrincipal", json_pack("{s:s, s:s}", "thingName", "camera", "principal",
										      json_string_value(json_object_get(r, "certificateArn")))));
		json_decref(r);
	}
	free(cert_pem);
	free(pub);
	free(priv);
	cert_pem = pub = priv = NULL;

	/* a revoked certificate: the doorbell's, issued by the lab's own CA, on its CRL */
	char *ca_pem = NULL, *ca_key = NULL;
	if (dd_x509_ca_create("Lab Device CA", &ca_pem, &ca_key) == 0) {
		json_t *ca = dd_demo_call(&d, "iot", "RegisterCACertificate", json_pack("{s:s, s:b, s:s}", "caCertificate", ca_pem,
										     "setAsActive", 1, "certificateMode", "SNI_ONLY"));
		if (ca && dd_x509_issue(ca_pem, ca_key, "doorbell", 365, &cert_pem, &pub, &priv) == 0) {
			json_t *r = dd_demo_call(&d, "iot", "RegisterCertificate", json_pack("{s:s, s:s, s:s}", "certificatePem", cert_pem,
										     "caCertificatePem", ca_pem, "status", "ACTIVE"));
			struct dd_cert_facts f;
			char perr[256];
			if (r && dd_x509_parse(cert_pem, strlen(cert_pem), &f, perr, sizeof perr) == 0) {
				json_decref(dd_demo_call(&d, "iot", "AttachThingPrincipal", json_pack("{s:s, s:s}", "thingName", "doorbell", "principal",
											      json_string_value(json_object_get(r, "certificateArn")))));
				char *crl = make_crl(ca_pem, ca_key, f.serial_hex);
				char cerr[512];
				if (!crl || dd_crl_import(dd_store_db(d.svc.store), d.account_region,
							  json_string_value(json_object_get(ca, "certificateId")), crl, strlen(crl),
							  "import", dd_time_now_ms(), NULL, cerr, sizeof cerr)) {
					fprintf(stderr, "demo: the lab CA's CRL could not be imported: %s\n", crl ? cerr : "not built");
					d.failed = true;
				}
				free(crl);
				dd_x509_facts_clear(&f);
			}
			json_decref(r);
		}
		json_decref(ca);
	}
	free(ca_pem);
	free(ca_key);
	free(cert_pem);
	free(pub);
	free(priv);

	/* connections: both smart locks online at once with the shared certificate; the
	 * camera's client id taken over by another connection */
	{
		char body[2048];
		long long t = (long long)dd_time_now_ms() - 3600000LL;
		snprintf(body, sizeof body,
			 "{\"event\":\"connect\",\"clientId\":\"smart-lock-1\",\"certificateId\":\"%s\",\"timestamp\":%lld,\"sourceIp\":\"198.51.100.7\"}\n"
			 "{\"event\":\"connect\",\"clientId\":\"smart-lock-2\",\"certificateId\":\"%s\",\"timestamp\":%lld,\"sourceIp\":\"203.0.113.9\"}\n"
			 "{\"event\":\"disconnect\",\"clientId\":\"smart-lock-2\",\"certificateId\":\"%s\",\"timestamp\":%lld}\n"
			 "{\"event\":\"connect\",\"clientId\":\"thermostat\",\"certificateId\":\"%s\",\"timestamp\":%lld}\n"
			 "{\"event\":\"connect\",\"clientId\":\"thermostat\",\"certificateId\":\"%s\",\"timestamp\":%lld}\n"
			 "{\"event\":\"disconnect\",\"clientId\":\"thermostat\",\"certificateId\":\"%s\",\"timestamp\":%lld,\"reason\":\"takeover\"}\n",
			 shared_id, t, shared_id, t + 60000, shared_id, t + 600000,
			 json_string_value(json_object_get(own, "certificateId")), t,
			 json_string_value(json_object_get(own, "certificateId")), t + 120000,
			 json_string_value(json_object_get(own, "certificateId")), t + 120000);
		struct dd_ctx cx = { .svc = &d.svc, .db = dd_store_db(d.svc.store), .account = d.account, .region = REGION,
				     .request_id = "demo", .now_ms = dd_time_now_ms() };
		json_t *o = NULL;
		if (dd_ctx_set_account_region(&cx) || dd_iot_ingest_connection_events(&cx, body, strlen(body), &o)) {
			fprintf(stderr, "demo: connection events: %s\n", cx.err_msg);
			d.failed = true;
		}
		json_decref(o);
	}

	/* a Cognito identity pool whose guest role may do anything in IoT */
	json_t *pool = dd_demo_call(&d, "cognito-identity", "CreateIdentityPool", json_pack("{s:s, s:b}", "IdentityPoolName", "LabPool",
										    "AllowUnauthenticatedIdentities", 1));
	if (pool && guest_role)
		json_decref(dd_demo_call(&d, "cognito-identity", "SetIdentityPoolRoles",
				 json_pack("{s:O, s:{s:s}}", "IdentityPoolId", json_object_get(pool, "IdentityPoolId"), "Roles",
					   "unauthenticated", guest_role)));
	json_decref(pool);
	printf("   5 things, 5 certificates (one shared by two devices, one expiring, one revoked by its CA),\n"
	       "   an overly permissive policy, logging disabled, a client-id takeover, a Cognito guest role\n\n");

	/* enable every check and audit */
	json_t *checks = json_object(), *names = json_array();
	json_t *cfgdesc = dd_demo_call(&d, "iot", "DescribeAccountAuditConfiguration", json_object());
	const char *cn;
	json_t *cv;
	json_object_foreach(json_object_get(cfgdesc, "auditCheckConfigurations"), cn, cv) {
		json_object_set_new(checks, cn, json_pack("{s:b}", "enabled", 1));
		json_array_append_new(names, json_string(cn));
	}
	json_decref(cfgdesc);
	json_decref(dd_demo_call(&d, "iot", "UpdateAccountAuditConfiguration", json_pack("{s:s, s:o}", "roleArn", audit_role ? audit_role : "",
										     "auditCheckConfigurations", checks)));
	printf("== Running an on-demand audit with all %zu checks\n", json_array_size(names));
	json_t *started = dd_demo_call(&d, "iot", "StartOnDemandAuditTask", json_pack("{s:o}", "targetCheckNames", names));
	if (!started)
		goto done;
	char task_id[64];
	snprintf(task_id, sizeof task_id, "%s", json_string_value(json_object_get(started, "taskId")));
	json_decref(started);
	json_t *task = wait_status(&d, "DescribeAuditTask", "taskId", task_id, "taskStatus");
	if (!task)
		goto done;
	json_t *stats = json_object_get(task, "taskStatistics");
	printf("   task %s %s: %lld noncompliant, %lld compliant, %lld failed, %lld waiting for data\n\n", task_id,
	       json_string_value(json_object_get(task, "taskStatus")),
	       (long long)json_integer_value(json_object_get(stats, "nonCompliantChecks")),
	       (long long)json_integer_value(json_object_get(stats, "compliantChecks")),
	       (long long)json_integer_value(json_object_get(stats, "failedChecks")),
	       (long long)json_integer_value(json_object_get(stats, "waitingForDataCollectionChecks")));

	/* Results page: noncompliant checks with their resources, then the rest */
	json_t *findings = dd_demo_call(&d, "iot", "ListAuditFindings", json_pack("{s:s, s:i}", "taskId", task_id, "maxResults", 250));
	printf("== Non-compliant checks\n");
	json_object_foreach(json_object_get(task, "auditDetails"), cn, cv) {
		if (strcmp(json_string_value(json_object_get(cv, "checkRunStatus")), "COMPLETED_NON_COMPLIANT") != 0)
			continue;
		const char *sev = "";
		size_t i;
		json_t *f;
		json_array_foreach(json_object_get(findings, "findings"), i, f)
			if (strcmp(json_string_value(json_object_get(f, "checkName")), cn) == 0)
				sev = json_string_value(json_object_get(f, "severity"));
		printf("   %-60s %-8s %lld of %lld resources\n", cn, sev,
		       (long long)json_integer_value(json_object_get(cv, "nonCompliantResourcesCount")),
		       (long long)json_integer_value(json_object_get(cv, "totalResourcesCount")));
		json_array_foreach(json_object_get(findings, "findings"), i, f) {
			if (strcmp(json_string_value(json_object_get(f, "checkName")), cn) != 0)
				continue;
			char label[200];
			const char *why = json_string_value(json_object_get(f, "reasonForNonCompliance"));
			int wl = (int)strlen(why);
			printf("      - %s: %.*s%s\n", resource_label(json_object_get(f, "nonCompliantResource"), label, sizeof label),
			       wl > 150 ? 147 : wl, why, wl > 150 ? "..." : "");
		}
	}
	printf("\n== Other checks\n");
	json_object_foreach(json_object_get(task, "auditDetails"), cn, cv) {
		const char *st = json_string_value(json_object_get(cv, "checkRunStatus"));
		if (strcmp(st, "COMPLETED_NON_COMPLIANT") != 0)
			printf("   %-60s %s\n", cn, st);
	}
	json_decref(findings);
	json_decref(task);

	/* mitigation: deactivate the shared certificate */
	printf("\n== Mitigation: deactivate the certificate shared by smart-lock-1 and smart-lock-2\n");
	if (!served("iot", "CreateMitigationAction")) {
		printf("   (mitigation actions are not available in this build)\n");
		goto done;
	}
	json_t *ma = dd_demo_call(&d, "iot", "CreateMitigationAction", json_pack("{s:s, s:s, s:{s:{s:s}}}", "actionName", "DeactivateSharedCertificate",
									  "roleArn", mitig_role ? mitig_role : "", "actionParams",
									  "updateDeviceCertificateParams", "action", "DEACTIVATE"));
	if (!ma) {
		printf("   (mitigation actions are not available in this build)\n");
		d.failed = false;
		goto done;
	}
	json_decref(ma);
	char mtask[40];
	unsigned char r16[16];
	if (dd_random_bytes(r16, sizeof r16) == 0)
		dd_hex_encode(r16, 16, mtask);
	else
		snprintf(mtask, sizeof mtask, "demo-mitigation");
	json_t *ms = dd_demo_call(&d, "iot", "StartAuditMitigationActionsTask",
			  json_pack("{s:s, s:{s:s}, s:{s:[s]}, s:s}", "taskId", mtask, "target", "auditTaskId", task_id,
				    "auditCheckToActionsMapping", "DEVICE_CERTIFICATE_SHARED_CHECK", "DeactivateSharedCertificate",
				    "clientRequestToken", mtask));
	json_decref(ms);
	json_t *mt = ms ? wait_status(&d, "DescribeAuditMitigationActionsTask", "taskId", mtask, "taskStatus") : NULL;
	if (mt) {
		printf("   mitigation task %s %s\n", mtask, json_string_value(json_object_get(mt, "taskStatus")));
		json_decref(mt);
	}
	json_t *desc = dd_demo_call(&d, "iot", "DescribeCertificate", json_pack("{s:s}", "certificateId", shared_id));
	if (desc) {
		printf("   certificate %.12s… is now %s\n", shared_id,
		       json_string_value(json_object_get(json_object_get(desc, "certificateDescription"), "status")));
		json_decref(desc);
	}
done:
	json_decref(shared);
	json_decref(own);
	free(audit_role);
	free(mitig_role);
	free(guest_role);
	dd_demo_close(&d);
	printf("\nThe fleet stays in %s. Explore it with the aws CLI:\n"
	       "  iotdefender serve --data-dir %s     (prints the export lines for its access key)\n", dir, dir);
	return d.failed ? 1 : 0;
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `iotdefender broker-config --data-dir DIR [--port N]`: writes DIR/broker/ (the broker's
 * server certificate and key, issued by the server's own CA — the CA behind
 * CreateKeysAndCertificate — with subjectAltName 127.0.0.1 and localhost; the CA bundle of
 * the server CA and every ACTIVE registered CA, which `serve` keeps current; the server CA
 * alone for clients) and prints a complete mosquitto.conf: a TLS listener on 127.0.0.1
 * that requires a client certificate, and the plugin with its options. The broker runs as
 * the owner of DIR (`user` line) so that it can read and write the store.
 */
#include "cli/dd_broker_config.h"

#include <getopt.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "dd/changes.h"
#include "dd/common.h"
#include "dd/service.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: iotdefender broker-config --data-dir DIR [--port N] [--region R] [--plugin PATH]\n"
		"\n"
		"Writes DIR/broker/ (server certificate and key issued by the server's CA, the CA\n"
		"bundle of every ACTIVE CA, the server CA for clients) and prints a mosquitto.conf:\n"
		"  iotdefender broker-config --data-dir DIR > mosquitto.conf && mosquitto -c mosquitto.conf\n"
		"\n"
		"options:\n"
		"  --data-dir DIR   the data directory `serve` uses (required)\n"
		"  --port N         the MQTT over TLS port on 127.0.0.1 (default 8883)\n"
		"  --region R       the region the broker serves: only certificates registered in it\n"
		"                   connect, its connection events are stored in it, and its\n"
		"                   policies name its ARNs (default us-east-1)\n"
		"  --plugin PATH    the plugin shared object (default: the one built with this binary)\n");
}

static int add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
	X509_EXTENSION *ex = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	if (!ex)
		return -1;
	int ok = X509_add_ext(cert, ex, -1);
	X509_EXTENSION_free(ex);
	return ok ? 0 : -1;
}

static int write_file(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");
	if (!f)
		return -1;
	int ok = fputs(text, f) >= 0;
	ok = fclose(f) == 0 && ok;
	return ok && chmod(path, mode) == 0 ? 0 : -1;
}

/* An EC P-256 server certificate for 127.0.0.1/localhost signed by the server CA. */
static int issue_server_cert(const struct dd_service *svc, const char *crt_path, const char *key_path)
{
	int rc = -1;
	BIO *b = BIO_new_mem_buf(svc->ca_cert_pem, -1);
	X509 *ca = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
	BIO_free(b);
	b = BIO_new_mem_buf(svc->ca_key_pem, -1);
	EVP_PKEY *ca_key = b ? PEM_read_bio_PrivateKey(b, NULL, NULL, NULL) : NULL;
	BIO_free(b);
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	BIO *out = BIO_new(BIO_s_mem());
	if (!ca || !ca_key || !key || !x || !out)
		goto done;
	unsigned char serial[16];
	FILE *r = fopen("/dev/urandom", "rb");
	if (!r || fread(serial, 1, sizeof serial, r) != sizeof serial) {
		if (r)
			fclose(r);
		goto done;
	}
	fclose(r);
	serial[0] &= 0x7f;
	BIGNUM *bn = BN_bin2bn(serial, sizeof serial, NULL);
	if (!bn || !BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x))) {
		BN_free(bn);
		goto done;
	}
	BN_free(bn);
	X509_NAME *name = X509_get_subject_name(x);
	if (!X509_set_version(x, 2) || !X509_gmtime_adj(X509_getm_notBefore(x), -3600) ||
	    !X509_gmtime_adj(X509_getm_notAfter(x), 825L * 86400) ||
	    !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"localhost", -1, -1, 0) ||
	    !X509_set_issuer_name(x, X509_get_subject_name(ca)) || !X509_set_pubkey(x, key) ||
	    add_ext(x, ca, NID_subject_alt_name, "IP:127.0.0.1,DNS:localhost") ||
	    add_ext(x, ca, NID_basic_constraints, "critical,CA:FALSE") ||
	    add_ext(x, ca, NID_ext_key_usage, "serverAuth") || add_ext(x, ca, NID_authority_key_identifier, "keyid:always") ||
	    !X509_sign(x, ca_key, EVP_sha256()))
		goto done;
	char *p;
	long n;
	if (!PEM_write_bio_X509(out, x))
		goto done;
	n = BIO_get_mem_data(out, &p);
	char *crt = strndup(p, (size_t)n);
	(void)BIO_reset(out);
	if (!crt || !PEM_write_bio_PrivateKey(out, key, NULL, NULL, 0, NULL, NULL)) {
		free(crt);
		goto done;
	}
	n = BIO_get_mem_data(out, &p);
	char *k = strndup(p, (size_t)n);
	if (k && write_file(key_path, k, 0600) == 0 && write_file(crt_path, crt, 0644) == 0)
		rc = 0;
	if (k)
		OPENSSL_cleanse(k, strlen(k));
	free(k);
	free(crt);
done:
	BIO_free(out);
	X509_free(x);
	EVP_PKEY_free(key);
	EVP_PKEY_free(ca_key);
	X509_free(ca);
	return rc;
}

int dd_broker_config_write(struct dd_service *svc, const char *dir, int port, const char *region, const char *plugin,
			   FILE *out)
{
	char abs[PATH_MAX], bdir[PATH_MAX + 16], crt[PATH_MAX + 32], key[PATH_MAX + 32], bundle[PATH_MAX + 32],
		sca[PATH_MAX + 32];
	if (!realpath(dir, abs)) {
		fprintf(stderr, "iotdefender: cannot resolve %s\n", dir);
		return -1;
	}
	snprintf(bdir, sizeof bdir, "%s/broker", abs);
	snprintf(crt, sizeof crt, "%s/server.crt", bdir);
	snprintf(key, sizeof key, "%s/server.key", bdir);
	snprintf(bundle, sizeof bundle, "%s/ca-bundle.pem", bdir);
	snprintf(sca, sizeof sca, "%s/server-ca.pem", bdir);
	mkdir(bdir, 0755);
	struct dd_db *db = dd_store_db(svc->store);
	if (!db || issue_server_cert(svc, crt, key) || write_file(sca, svc->ca_cert_pem, 0644) ||
	    dd_changes_write_ca_bundle(db, svc->ca_cert_pem, bundle)) {
		fprintf(stderr, "iotdefender: cannot write the broker files in %s\n", bdir);
		return -1;
	}
	char endpoint[64];
	snprintf(endpoint, sizeof endpoint, "127.0.0.1:%d", port);
	if (dd_broker_endpoint_set(db, region, endpoint)) {
		fprintf(stderr, "iotdefender: cannot record the broker endpoint in the store\n");
		return -1;
	}
	struct stat sb;
	const char *user = "root";
	struct passwd *pw = stat(abs, &sb) == 0 ? getpwuid(sb.st_uid) : NULL;
	if (pw)
		user = pw->pw_name;
	fprintf(out,
		"# mosquitto.conf written by `iotdefender broker-config --data-dir %s --port %d --region %s`.\n"
		"# Run: mosquitto -c THIS_FILE. Clients connect with TLS to 127.0.0.1:%d, present a\n"
		"# certificate registered ACTIVE in iotdefender in region %s, and verify the broker with\n"
		"# %s.\n"
		"# The broker runs as the owner of the data directory (it reads and writes the store).\n"
		"user %s\n"
		"per_listener_settings false\n"
		"allow_anonymous false\n"
		"persistence false\n"
		"log_dest stderr\n"
		"log_type error\nlog_type warning\nlog_type notice\nlog_type information\n"
		"\n"
		"listener %d 127.0.0.1\n"
		"cafile %s\n"
		"capath %s/cas\n"
		"certfile %s\n"
		"keyfile %s\n"
		"require_certificate true\n"
		"use_identity_as_username false\n"
		"tls_version tlsv1.2\n"
		"\n"
		"plugin %s\n"
		"plugin_opt_data_dir %s\n"
		"plugin_opt_region %s\n",
		dir, port, region, port, region, sca, user, port, bundle, bdir, crt, key, plugin, abs, region);
	return ferror(out) ? -1 : 0;
}

int dd_broker_config_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "data-dir", required_argument, NULL, 'd' },
		{ "port", required_argument, NULL, 'p' },
		{ "region", required_argument, NULL, 'r' },
		{ "plugin", required_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *dir = NULL, *region = "us-east-1", *plugin = DD_PLUGIN_PATH;
	int64_t port = 8883;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd': dir = optarg; break;
		case 'p':
			if (dd_parse_int64(optarg, 1, 65535, &port)) {
				fprintf(stderr, "iotdefender: --port must be a number from 1 to 65535\n");
				return 2;
			}
			break;
		case 'r':
			char probe[DD_ACCOUNT_REGION_SIZE];
			if (dd_account_region_make(probe, "000000000000", optarg)) {
				fprintf(stderr, "iotdefender: --region must look like us-east-1\n");
				return 2;
			}
			region = optarg;
			break;
		case 'P': plugin = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!dir) {
		fprintf(stderr, "iotdefender: --data-dir is required\n");
		usage(stderr);
		return 2;
	}
	struct dd_service svc;
	memset(&svc, 0, sizeof svc);
	if (dd_service_init(&svc, dir)) {
		fprintf(stderr, "iotdefender: cannot open the data directory %s\n", dir);
		return 1;
	}
	int rc = dd_broker_config_write(&svc, dir, (int)port, region, plugin, stdout) ? 1 : 0;
	dd_service_close(&svc);
	return rc;
}

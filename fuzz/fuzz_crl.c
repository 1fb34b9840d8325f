/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for CRL parsing and import: the input is a CRL, PEM or DER. It runs
 * dd_x509_crl_parse, dd_x509_crl_verify against a fixed CA (whose key signed the seed CRLs in
 * fuzz/corpus/fuzz_crl), dd_x509_crl_is_revoked for every serial the parser returned (each
 * must be found), and dd_crl_import into a store (private temporary data directory) where
 * that CA is registered, followed by the revocation lookup and status listing that read
 * what the import stored.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "api/dd_iot_certs.h"
#include "dd/crl.h"
#include "dd/ctx.h"
#include "dd/service.h"
#include "dd/x509.h"
#include "server/dd_api.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char ca_pem[] =
	"-----BEGIN CERTIFICATE-----\n"
	"MIIBvjCCAWWgAwIBAgIUR+6tAQBL2TAglNhYI3JvbdWIPlMwCgYIKoZIzj0EAwIw\n"
	"LDEUMBIGA1UEAwwLRnV6eiBDUkwgQ0ExFDASBgNVBAoMC2lvdGRlZmVuZGVyMCAX\n"
	"DTI2MTEzMDAwNTQzNFoYDzIxMjYxMTA2MDA1NDM0WjAsMRQwEgYDVQQDDAtGdXp6\n"
	"IENSTCBDQTEUMBIGA1UECgwLaW90ZGVmZW5kZXIwWTATBgcqhkjOPQIBBggqhkjO\n"
	"PQMBBwNCAAQCL7b1jfSrGTqwB+D6vtWD4YGYrqgs5wVbQbha8fl6bMqQNHWyGgYe\n"
	"h5Q1fJMDWFPL//CNrptoQYjtc06VTTvGo2MwYTAdBgNVHQ4EFgQU7ASDPNMEulBk\n"
	"fgGil38DFqgTe1UwHwYDVR0jBBgwFoAU7ASDPNMEulBkfgGil38DFqgTe1UwDwYD\n"
	"VR0TAQH/BAUwAwEB/zAOBgNVHQ8BAf8EBAMCAQYwCgYIKoZIzj0EAwIDRwAwRAIg\n"
	"A+qPIGMt5m1d3tOz/+CHFQRJyInPyVRXXfqJQytVa4kCIDzI5tEV4XBrfvPi5vux\n"
	"ZSQ5ww7QWJxyEoMd95FWiHO/\n"
	"-----END CERTIFICATE-----\n"
	;
#define ACCOUNT "123456789012"
#define REGION "us-east-1"

static char account_region[DD_ACCOUNT_REGION_SIZE]; /* the key the CA is stored under */

static struct dd_service svc;
static char dir[64], ca_id[65];

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

static void cleanup(void)
{
	dd_service_close(&svc);
	rm_rf(dir);
}

static void setup(void)
{
	dd_log_set_level(DD_LOG_ERROR);
	if (dd_models_load())
		abort();
	const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
	snprintf(dir, sizeof dir, "%s/fuzz_crl.%ld", base, (long)getpid());
	rm_rf(dir);
	if (dd_service_init(&svc, dir) != 0)
		abort();
	atexit(cleanup);
	json_t *in = json_pack("{s:s, s:s, s:b}", "caCertificate", ca_pem, "certificateMode", "SNI_ONLY",
			       "setAsActive", 1);
	json_t *out = NULL;
	char err[512];
	if (dd_account_region_make(account_region, ACCOUNT, REGION) != 0)
		abort();
	if (dd_api_call(&svc, ACCOUNT, REGION, "iot", "RegisterCACertificate", in, &out, err, sizeof err) != 0) {
		fprintf(stderr, "RegisterCACertificate: %s\n", err);
		abort();
	}
	snprintf(ca_id, sizeof ca_id, "%s", json_string_value(json_object_get(out, "certificateId")));
	json_decref(in);
	json_decref(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!ca_id[0])
		setup();
	if (size > (1u << 20))
		return 0;
	char err[768];
	struct dd_x509_crl crl;
	if (dd_x509_crl_parse(data, size, &crl, err, sizeof err) == 0) {
		(void)dd_x509_crl_verify(&crl, ca_pem, err, sizeof err);
		for (size_t i = 0; i < crl.n_revoked; i++)
			if (!dd_x509_crl_is_revoked(&crl, crl.revoked_serials[i]))
				abort(); /* the binary search misses a serial the parser listed */
		(void)dd_x509_crl_is_revoked(&crl, "0");
		(void)dd_x509_crl_is_revoked(&crl, "1a2b");
		dd_x509_crl_clear(&crl);
	}
	int64_t now = dd_time_now_ms();
	struct dd_db *db = dd_store_db(svc.store);
	struct dd_crl_import_result res;
	if (dd_crl_import(db, account_region, ca_id, data, size, "import", now, &res, err, sizeof err) == 0) {
		char by[65];
		(void)dd_crl_lookup(db, account_region, res.issuer, "1a2b", now, by);
		json_t *st = NULL;
		if (dd_iot_certs_crl_status(db, account_region, NULL, now, &st) == 0)
			json_decref(st);
	}
	if (dd_db_in_tx(db))
		abort(); /* the import left a transaction open */
	return 0;
}

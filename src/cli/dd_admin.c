/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Admin verbs working on a data directory: importing Debian-weak key blocklists (and
 * refreshing the stored verdicts of registered certificates), importing a CRL for a
 * registered CA after verifying it against the CA's key, reporting CRL and revocation
 * state, recomputing stored certificate facts, and rotating the key that seals IAM
 * users' secrets. Every verb documents itself with
 * --help; exit status 0 success, 1 failure, 2 usage error.
 */
#include "cli/dd_admin.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "api/dd_iot_certs.h"
#include "dd/certs.h"
#include "dd/common.h"
#include "dd/crl.h"
#include "dd/iam.h"
#include "dd/ctx.h"
#include "dd/keys.h"
#include "dd/store.h"
#include "server/dd_dirlock.h"

#define CRL_FILE_MAX (16u << 20)

static void usage_blocklist(FILE *f)
{
	fprintf(f,
		"usage: iotdefender blocklist import --data-dir DIR --format dwk|openssl --key KEY FILE\n"
		"\n"
		"Imports a Debian weak-key (CVE-2008-0166) blocklist into DIR/blocklists, replacing an\n"
		"older list of the same format and key, then refreshes the Debian-weak verdict stored\n"
		"for every registered certificate. A running server loads new lists at its next start.\n"
		"\n"
		"options:\n"
		"  --data-dir DIR    the server's data directory\n"
		"  --format FORMAT   dwk: sha256_modulus_<bits>.csv / sha256_xcoord_<curve>.csv lines of\n"
		"                    64 hex (github.com/CVE-2008-0166/dwk_blocklists);\n"
		"                    openssl: blacklist.RSA-<bits> lines of 20 hex (Debian openssl-blacklist)\n"
		"  --key KEY         rsa-<bits> (e.g. rsa-2048) or ec-<curve> (e.g. ec-prime256v1)\n"
		"  --help            show this help\n");
}

static void usage_crl(FILE *f)
{
	fprintf(f,
		"usage: iotdefender crl import --data-dir DIR --account ACCOUNT [--region REGION]\n"
		"                              --ca-certificate-id ID FILE\n"
		"       iotdefender crl status --data-dir DIR --account ACCOUNT [--region REGION]\n"
		"                              [--ca-certificate-id ID]\n"
		"\n"
		"import: stores the CRL in FILE (PEM or DER) as the current CRL of the registered CA\n"
		"certificate ID of ACCOUNT in REGION. The CRL must be issued and signed by that CA and not older\n"
		"than the CRL already stored. Certificates on it count as revoked by their issuer.\n"
		"status: prints the stored CRLs, the fetch state of each HTTP distribution point and the\n"
		"revoked device and CA certificates as JSON.\n"
		"\n"
		"options:\n"
		"  --data-dir DIR               the server's data directory\n"
		"  --account ACCOUNT            the 12-digit account id that registered the CA\n"
		"  --region REGION              the region the CA is registered in (default " DD_DEFAULT_REGION ")\n"
		"  --ca-certificate-id ID       the CA certificate id (64 hex characters)\n"
		"  --help                       show this help\n");
}

static void usage_certs(FILE *f)
{
	fprintf(f,
		"usage: iotdefender certs backfill --data-dir DIR\n"
		"\n"
		"Recomputes the stored X.509 facts of certificates whose facts are missing or older\n"
		"than this version, and the Debian-weak verdict of every certificate against the\n"
		"blocklists in DIR/blocklists.\n"
		"\n"
		"options:\n"
		"  --data-dir DIR   the server's data directory\n"
		"  --help           show this help\n");
}

static bool account_ok(const char *a)
{
	if (!a || strlen(a) != 12)
		return false;
	for (int i = 0; i < 12; i++)
		if (a[i] < '0' || a[i] > '9')
			return false;
	return true;
}

/* A PostgreSQL store (IOTDEFENDER_STORE) exists wherever the data directory is; opening it
 * says whether it can be reached. */
static bool store_exists(const char *dir)
{
	if (dd_store_url())
		return true;
	char path[4200];
	struct stat sb;
	snprintf(path, sizeof path, "%s/iotdefender.db", dir);
	return stat(path, &sb) == 0;
}

/* Opens the store and blocklists of dir and refreshes the stored verdicts. */
static int refresh_verdicts(const char *dir, size_t *n)
{
	struct dd_store *store = NULL;
	struct dd_blocklists *bl = NULL;
	char bldir[4200];
	snprintf(bldir, sizeof bldir, "%s/blocklists", dir);
	int rc = dd_store_open(dir, &store);
	if (!rc)
		rc = dd_keys_blocklists_open(bldir, &bl);
	if (!rc)
		rc = dd_certs_backfill(store, bl, n);
	dd_keys_blocklists_free(bl);
	if (store)
		dd_store_close(store);
	return rc;
}

static int cmd_blocklist(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "data-dir", required_argument, NULL, 'd' },
		{ "format", required_argument, NULL, 'f' },
		{ "key", required_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	if (argc < 3 || strcmp(argv[2], "--help") == 0 || strcmp(argv[2], "-h") == 0) {
		usage_blocklist(argc < 3 ? stderr : stdout);
		return argc < 3 ? 2 : 0;
	}
	if (strcmp(argv[2], "import") != 0) {
		fprintf(stderr, "iotdefender: unknown blocklist command '%s'\n", argv[2]);
		usage_blocklist(stderr);
		return 2;
	}
	const char *dir = NULL, *format = NULL, *key = NULL;
	int c;
	optind = 1;
	while ((c = getopt_long(argc - 2, argv + 2, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd': dir = optarg; break;
		case 'f': format = optarg; break;
		case 'k': key = optarg; break;
		case 'h': usage_blocklist(stdout); return 0;
		default: usage_blocklist(stderr); return 2;
		}
	}
	if (!dir || !format || !key || optind != argc - 3) {
		fprintf(stderr, "iotdefender: blocklist import needs --data-dir, --format, --key and one FILE\n");
		return 2;
	}
	if (strcmp(format, "dwk") && strcmp(format, "openssl")) {
		fprintf(stderr, "iotdefender: --format must be dwk or openssl\n");
		return 2;
	}
	const char *file = argv[2 + optind];
	char bldir[4200], err[1024] = "";
	snprintf(bldir, sizeof bldir, "%s/blocklists", dir);
	size_t count = 0;
	if (dd_keys_blocklist_import(bldir, format, key, file, &count, err, sizeof err)) {
		fprintf(stderr, "iotdefender: blocklist import failed: %s\n", err[0] ? err : "unknown error");
		return 1;
	}
	printf("imported %zu %s entries for %s into %s\n", count, format, key, bldir);
	if (store_exists(dir)) {
		size_t n = 0;
		if (refresh_verdicts(dir, &n)) {
			fprintf(stderr, "iotdefender: the list is imported, but the stored verdicts could not be refreshed"
					" (run 'iotdefender certs backfill --data-dir %s')\n", dir);
			return 1;
		}
		printf("refreshed the stored facts of %zu certificates\n", n);
	}
	return 0;
}

static unsigned char *read_file(const char *path, size_t max, size_t *len, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		snprintf(err, errlen, "cannot open %s", path);
		return NULL;
	}
	unsigned char *buf = malloc(max + 1);
	size_t n = buf ? fread(buf, 1, max + 1, f) : 0;
	bool bad = ferror(f);
	fclose(f);
	if (!buf || bad || n == 0 || n > max) {
		snprintf(err, errlen, "%s is unreadable, empty or larger than %zu bytes", path, max);
		free(buf);
		return NULL;
	}
	*len = n;
	return buf;
}

static int cmd_crl(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "data-dir", required_argument, NULL, 'd' },
		{ "account", required_argument, NULL, 'a' },
		{ "region", required_argument, NULL, 'r' },
		{ "ca-certificate-id", required_argument, NULL, 'i' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	if (argc < 3 || strcmp(argv[2], "--help") == 0 || strcmp(argv[2], "-h") == 0) {
		usage_crl(argc < 3 ? stderr : stdout);
		return argc < 3 ? 2 : 0;
	}
	bool import = strcmp(argv[2], "import") == 0;
	if (!import && strcmp(argv[2], "status") != 0) {
		fprintf(stderr, "iotdefender: unknown crl command '%s'\n", argv[2]);
		usage_crl(stderr);
		return 2;
	}
	const char *dir = NULL, *account = NULL, *region = DD_DEFAULT_REGION, *ca = NULL;
	int c;
	optind = 1;
	while ((c = getopt_long(argc - 2, argv + 2, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd': dir = optarg; break;
		case 'a': account = optarg; break;
		case 'r': region = optarg; break;
		case 'i': ca = optarg; break;
		case 'h': usage_crl(stdout); return 0;
		default: usage_crl(stderr); return 2;
		}
	}
	int nargs = argc - 2 - optind;
	if (!dir || !account || (import && (!ca || nargs != 1)) || (!import && nargs != 0)) {
		fprintf(stderr, "iotdefender: crl %s needs --data-dir, --account%s\n", argv[2],
			import ? ", --ca-certificate-id and one FILE" : "");
		return 2;
	}
	if (!account_ok(account)) {
		fprintf(stderr, "iotdefender: --account must be 12 digits\n");
		return 2;
	}
	char account_region[DD_ACCOUNT_REGION_SIZE];
	if (dd_account_region_make(account_region, account, region)) {
		fprintf(stderr, "iotdefender: --region must be a region name such as %s\n", DD_DEFAULT_REGION);
		return 2;
	}
	if (!store_exists(dir)) {
		fprintf(stderr, "iotdefender: %s has no iotdefender store\n", dir);
		return 1;
	}
	struct dd_store *store = NULL;
	if (dd_store_open(dir, &store)) {
		fprintf(stderr, "iotdefender: cannot open the store in %s\n", dir);
		return 1;
	}
	struct dd_db *db = dd_store_db(store);
	int status = 1;
	char err[1024] = "";
	if (!db) {
		fprintf(stderr, "iotdefender: cannot open the store in %s\n", dir);
	} else if (import) {
		size_t len = 0;
		unsigned char *data = read_file(argv[2 + optind], CRL_FILE_MAX, &len, err, sizeof err);
		struct dd_crl_import_result res;
		if (!data) {
			fprintf(stderr, "iotdefender: %s\n", err);
		} else if (dd_crl_import(db, account_region, ca, data, len, "import", dd_time_now_ms(), &res, err, sizeof err)) {
			fprintf(stderr, "iotdefender: CRL refused: %s\n", err);
		} else {
			printf("stored the CRL of %s for CA certificate %s: %zu revoked serials, thisUpdate %lld",
			       res.issuer, res.ca_id, res.n_revoked, (long long)(res.this_update_ms / 1000));
			if (res.next_update_ms)
				printf(", nextUpdate %lld", (long long)(res.next_update_ms / 1000));
			printf("\n");
			status = 0;
		}
		free(data);
	} else {
		char id[65] = "";
		if (ca) {
			snprintf(id, sizeof id, "%s", ca);
			for (char *p = id; *p; p++)
				if (*p >= 'A' && *p <= 'F')
					*p = (char)(*p + 32);
		}
		json_t *out = NULL;
		if (dd_iot_certs_crl_status(db, account_region, ca ? id : NULL, dd_time_now_ms(), &out)) {
			fprintf(stderr, "iotdefender: cannot read the CRL state\n");
		} else {
			char *s = json_dumps(out, JSON_INDENT(2) | JSON_REAL_PRECISION(17));
			if (s)
				printf("%s\n", s);
			free(s);
			json_decref(out);
			status = 0;
		}
	}
	dd_store_close(store);
	return status;
}

/* A command `iotdefender CMD SUB --data-dir DIR` (the only form of certs and iam-key):
 * -1 with *dir set to go on, else the exit status (help, usage errors, no store). */
static int data_dir_command(int argc, char **argv, const char *cmd, const char *sub, void (*usage)(FILE *f),
			    const char **dir)
{
	static const struct option opts[] = {
		{ "data-dir", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	if (argc < 3 || strcmp(argv[2], "--help") == 0 || strcmp(argv[2], "-h") == 0) {
		usage(argc < 3 ? stderr : stdout);
		return argc < 3 ? 2 : 0;
	}
	if (strcmp(argv[2], sub) != 0) {
		fprintf(stderr, "iotdefender: unknown %s command '%s'\n", cmd, argv[2]);
		usage(stderr);
		return 2;
	}
	*dir = NULL;
	int c;
	optind = 1;
	while ((c = getopt_long(argc - 2, argv + 2, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd': *dir = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!*dir || optind != argc - 2) {
		fprintf(stderr, "iotdefender: %s %s needs --data-dir and nothing else\n", cmd, sub);
		return 2;
	}
	if (!store_exists(*dir)) {
		fprintf(stderr, "iotdefender: %s has no iotdefender store\n", *dir);
		return 1;
	}
	return -1;
}

static int cmd_certs(int argc, char **argv)
{
	const char *dir;
	int status = data_dir_command(argc, argv, "certs", "backfill", usage_certs, &dir);
	if (status >= 0)
		return status;
	size_t n = 0;
	if (refresh_verdicts(dir, &n)) {
		fprintf(stderr, "iotdefender: backfill failed\n");
		return 1;
	}
	printf("refreshed the stored facts of %zu certificates\n", n);
	return 0;
}

static void usage_iam_key(FILE *f)
{
	fprintf(f,
		"usage: iotdefender iam-key rotate --data-dir DIR\n"
		"\n"
		"Replaces the key that seals IAM users' secret access keys (DIR/iam-secrets.key):\n"
		"writes a new key to DIR/iam-secrets.key.new, re-seals every stored secret under it\n"
		"in one transaction, then renames it over the old key. The server must be stopped\n"
		"(the data directory's lock is taken). If it is interrupted, the next start or the\n"
		"same command finishes it. Access keys keep working: only their stored form changes.\n"
		"Back up the new key file (apart from the database backups) once it is done.\n"
		"\n"
		"options:\n"
		"  --data-dir DIR    the server's data directory\n"
		"  --help            show this help\n");
}

static int cmd_iam_key(int argc, char **argv)
{
	const char *dir;
	int status = data_dir_command(argc, argv, "iam-key", "rotate", usage_iam_key, &dir);
	if (status >= 0)
		return status;
	char err[1024] = "";
	struct dd_dirlock *lock = NULL;
	if (dd_dirlock_acquire(dir, &lock, err, sizeof err)) {
		fprintf(stderr, "iotdefender: %s (stop the server first)\n", err);
		return 1;
	}
	struct dd_store *store = NULL;
	struct dd_iam_secrets *sec = NULL;
	size_t n = 0;
	int rc = dd_store_open(dir, &store);
	if (rc)
		snprintf(err, sizeof err, "cannot open the store in %s", dir);
	if (!rc)
		rc = dd_iam_secrets_load(dir, false, &sec, err, sizeof err);
	struct dd_db *db = store ? dd_store_db(store) : NULL;
	if (!rc && !db) {
		snprintf(err, sizeof err, "the store is unavailable");
		rc = DD_EIO;
	}
	if (!rc)
		rc = dd_iam_secrets_rotate(sec, db, &n, err, sizeof err);
	if (!rc)
		printf("re-sealed %zu secret(s) under the new key %s (id %s)\n", n, dd_iam_secrets_path(sec),
		       dd_iam_secrets_key_id(sec));
	else
		fprintf(stderr, "iotdefender: iam-key rotate failed: %s\n", err[0] ? err : dd_strerror(rc));
	dd_iam_secrets_free(sec);
	if (store)
		dd_store_close(store);
	dd_dirlock_release(lock);
	return rc ? 1 : 0;
}

int dd_admin_main(int argc, char **argv)
{
	if (argc < 2)
		return -1;
	if (strcmp(argv[1], "blocklist") == 0)
		return cmd_blocklist(argc, argv);
	if (strcmp(argv[1], "crl") == 0)
		return cmd_crl(argc, argv);
	if (strcmp(argv[1], "certs") == 0)
		return cmd_certs(argc, argv);
	if (strcmp(argv[1], "iam-key") == 0)
		return cmd_iam_key(argc, argv);
	return -1;
}

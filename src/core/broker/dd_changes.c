/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The change journal (see dd/changes.h): the core entry points over the journal's store
 * (store/dd_store_changes.h) and the broker's CA bundle, written atomically from the
 * store's ACTIVE CAs and self-signed certificates (a file, and an OpenSSL hash directory
 * swapped in by renames).
 */
#include "dd/changes.h"

#include <dirent.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/dd_store_changes.h"

int dd_changes_note(struct dd_db *db, const char *account_region, const char *kind, const char *subject,
		    const char *arg, int64_t now_ms)
{
	return dd_store_changes_note(db, account_region, kind, subject, arg, now_ms);
}

int dd_changes_last(struct dd_db *db, int64_t *seq)
{
	int64_t v = 0;
	int rc = dd_store_changes_last(db, &v);
	if (!rc)
		*seq = v;
	return rc;
}

int dd_changes_read(struct dd_db *db, int64_t after, struct dd_change *out, size_t max, size_t *n)
{
	return dd_store_changes_read(db, after, out, max, n);
}

int dd_changes_prune(struct dd_db *db, int64_t before_ms)
{
	return dd_store_changes_prune(db, before_ms);
}

/* Writes one CA into the OpenSSL hash directory as <subject hash>.<n> (c_rehash naming),
 * which OpenSSL reads at verification time: a CA added there is trusted by a running
 * broker without a restart. */
static int write_hashed(const char *pem, void *ud)
{
	const char *dir = ud;
	BIO *b = BIO_new_mem_buf(pem, -1);
	X509 *x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
	BIO_free(b);
	if (!x)
		return 0; /* not a certificate we can use: nothing to trust */
	unsigned long h = X509_NAME_hash_ex(X509_get_subject_name(x), NULL, NULL, NULL);
	X509_free(x);
	char path[4200];
	for (int n = 0; n < 100; n++) {
		snprintf(path, sizeof path, "%s/%08lx.%d", dir, h, n);
		FILE *f = fopen(path, "wx");
		if (!f)
			continue; /* taken by another CA with the same subject hash */
		int ok = fputs(pem, f) >= 0;
		ok = fclose(f) == 0 && ok;
		return ok ? 0 : DD_EIO;
	}
	return DD_EIO;
}

/* Empties and removes a directory of plain files. */
static void remove_dir(const char *dir)
{
	DIR *d = opendir(dir);
	if (d) {
		struct dirent *e;
		char path[4600];
		size_t dl = strlen(dir);
		while ((e = readdir(d)) != NULL) {
			size_t nl = strlen(e->d_name);
			if (e->d_name[0] == '.' || dl + nl + 2 > sizeof path)
				continue;
			memcpy(path, dir, dl);
			path[dl] = '/';
			memcpy(path + dl + 1, e->d_name, nl + 1);
			unlink(path);
		}
		closedir(d);
	}
	rmdir(dir);
}

/* Rebuilds dir with the server CA, every ACTIVE CA and every ACTIVE self-signed device
 * certificate registered without a CA: written into a sibling directory, then swapped in
 * by two renames, so a handshake never sees a half-written directory. */
static int write_ca_dir(struct dd_db *db, const char *server_ca_pem, const char *dir)
{
	char tmp[4200], old[4200];
	if (snprintf(tmp, sizeof tmp, "%s.new%ld", dir, (long)getpid()) >= (int)sizeof tmp ||
	    snprintf(old, sizeof old, "%s.old%ld", dir, (long)getpid()) >= (int)sizeof old)
		return DD_EINVAL;
	remove_dir(tmp);
	if (mkdir(tmp, 0755) != 0)
		return DD_EIO;
	int rc = server_ca_pem ? write_hashed(server_ca_pem, tmp) : 0;
	/* each self-signed device certificate is its own trust anchor; being CA:FALSE it
	 * cannot anchor any other certificate */
	if (!rc)
		rc = dd_store_changes_active_cas(db, write_hashed, tmp);
	if (!rc)
		rc = dd_store_changes_self_signed(db, write_hashed, tmp);
	if (rc) {
		remove_dir(tmp);
		return rc;
	}
	remove_dir(old);
	struct stat sb;
	if (stat(dir, &sb) == 0 && rename(dir, old) != 0) {
		remove_dir(tmp);
		return DD_EIO;
	}
	if (rename(tmp, dir) != 0) {
		rename(old, dir);
		remove_dir(tmp);
		return DD_EIO;
	}
	remove_dir(old);
	return 0;
}

/* Appends one PEM to the bundle file ud, ending it with a newline. */
static int append_pem(const char *pem, void *ud)
{
	FILE *f = ud;
	size_t len = strlen(pem);
	if (fputs(pem, f) < 0 || (len && pem[len - 1] != '\n' && fputc('\n', f) < 0))
		return DD_EIO;
	return 0;
}

int dd_changes_write_ca_bundle(struct dd_db *db, const char *server_ca_pem, const char *path)
{
	char tmp[4200];
	if (snprintf(tmp, sizeof tmp, "%s.tmp%ld", path, (long)getpid()) >= (int)sizeof tmp)
		return DD_EINVAL;
	FILE *f = fopen(tmp, "w");
	if (!f)
		return DD_EIO;
	int rc = 0;
	if (server_ca_pem && fputs(server_ca_pem, f) < 0)
		rc = DD_EIO;
	if (!rc)
		rc = dd_store_changes_active_cas(db, append_pem, f);
	if (fclose(f) != 0)
		rc = DD_EIO;
	if (!rc && (chmod(tmp, 0644) != 0 || rename(tmp, path) != 0))
		rc = DD_EIO;
	if (rc) {
		unlink(tmp);
		return rc;
	}
	/* the hash directory next to the bundle: <dir of path>/cas */
	char dir[4200];
	snprintf(dir, sizeof dir, "%s", path);
	char *slash = strrchr(dir, '/');
	if (!slash)
		return 0;
	snprintf(slash, sizeof dir - (size_t)(slash - dir), "/cas");
	return write_ca_dir(db, server_ca_pem, dir);
}

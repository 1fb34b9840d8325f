/* SPDX-License-Identifier: Apache-2.0 */
/*
 * IAM users' secret access keys at rest. SigV4 needs a secret in clear (it is an HMAC
 * key), so it cannot be hashed; each one is sealed with AES-256-GCM under the server's
 * IAM secrets key, kept apart from the store in <data-dir>/iam-secrets.key (0600, created
 * at first start). The stored form is text, "v1:<key id>:<hex of nonce|ciphertext|tag>",
 * the same in any store backend; the additional data is the account and the access key
 * id, so a sealed secret moved to another row does not open. A copy of the store (or a
 * backup of it) without the key file reveals no secret.
 *
 * Rotation writes the new key to iam-secrets.key.new first, re-seals every stored secret
 * under it in one transaction, then renames the file over the old one; a start-up that
 * finds a .new file finishes the same steps (unsealing picks the key by its id), so a
 * crash at any point loses nothing. Start-up also seals any secret still stored in clear
 * (stores written before this module).
 */
#include "dd/iam.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include "store/dd_store_iam_users.h"

#define KEY_LEN 32
#define NONCE_LEN 12
#define TAG_LEN 16
#define ID_HEX 16
#define FILE_MAGIC "iotdefender-iam-secrets-key v1 "
#define MAX_SECRET 128

struct dd_iam_secrets_key {
	unsigned char key[KEY_LEN];
	char id[ID_HEX + 1];
};

struct dd_iam_secrets {
	struct dd_iam_secrets_key cur;
	struct dd_iam_secrets_key prev; /* the key being replaced, while a rotation finishes */
	bool has_prev;
	char path[4200], next_path[4210];
};

static void key_id(struct dd_iam_secrets_key *k)
{
	/* the id names the key without revealing it: SHA-256 over a label and the key */
	static const char label[] = "iotdefender iam secrets key id";
	unsigned char in[sizeof label + KEY_LEN], md[SHA256_DIGEST_LENGTH];
	memcpy(in, label, sizeof label);
	memcpy(in + sizeof label, k->key, KEY_LEN);
	SHA256(in, sizeof in, md);
	dd_hex_encode(md, ID_HEX / 2, k->id);
	OPENSSL_cleanse(in, sizeof in);
	OPENSSL_cleanse(md, sizeof md);
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes exactly n bytes of hex from s (2n characters). */
static bool unhex(const char *s, size_t slen, unsigned char *out, size_t n)
{
	if (slen != 2 * n)
		return false;
	for (size_t i = 0; i < n; i++) {
		int h = hexval((unsigned char)s[2 * i]), l = hexval((unsigned char)s[2 * i + 1]);
		if (h < 0 || l < 0)
			return false;
		out[i] = (unsigned char)(h << 4 | l);
	}
	return true;
}

/* Reads a key file: it must be a regular file that group and others may not access.
 * Returns 0, DD_ENOTFOUND (no file), DD_EDENIED (mode) or DD_EINVAL (content). */
static int read_key(const char *path, struct dd_iam_secrets_key *k, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return DD_ENOTFOUND;
		snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
		return DD_EIO;
	}
	struct stat st;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		close(fd);
		snprintf(err, errlen, "%s is not a regular file", path);
		return DD_EINVAL;
	}
	if (st.st_mode & 077) {
		/* like the credentials file (and ssh with a private key) */
		close(fd);
		snprintf(err, errlen, "permissions %04o for '%s' are too open: it holds the key of the IAM users' "
			 "secrets and must not be readable or writable by group or others; run: chmod 600 '%s'",
			 (unsigned)(st.st_mode & 07777), path, path);
		return DD_EDENIED;
	}
	char buf[256];
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n < 0) {
		snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
		return DD_EIO;
	}
	buf[n] = '\0';
	size_t ml = strlen(FILE_MAGIC);
	size_t len = (size_t)n;
	while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
		len--;
	int rc = 0;
	if (len != ml + 2 * KEY_LEN || memcmp(buf, FILE_MAGIC, ml) != 0 || !unhex(buf + ml, 2 * KEY_LEN, k->key, KEY_LEN)) {
		snprintf(err, errlen, "%s is not an IAM secrets key file (\"%s<64 hex digits>\")", path, FILE_MAGIC);
		rc = DD_EINVAL;
	} else {
		key_id(k);
	}
	OPENSSL_cleanse(buf, sizeof buf);
	return rc;
}

static int fsync_dir_of(const char *path)
{
	char dir[4200];
	snprintf(dir, sizeof dir, "%s", path);
	char *slash = strrchr(dir, '/');
	if (slash)
		*slash = '\0';
	else
		snprintf(dir, sizeof dir, ".");
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return DD_EIO;
	int rc = fsync(fd) ? DD_EIO : 0;
	close(fd);
	return rc;
}

/* Creates path (which must not exist) with a new random key, mode 0600, synced. */
static int create_key(const char *path, struct dd_iam_secrets_key *k, char *err, size_t errlen)
{
	if (dd_random_bytes(k->key, KEY_LEN)) {
		snprintf(err, errlen, "no random bytes for the IAM secrets key");
		return DD_ECRYPTO;
	}
	key_id(k);
	char text[sizeof FILE_MAGIC + 2 * KEY_LEN + 2];
	const size_t ml = strlen(FILE_MAGIC);
	memcpy(text, FILE_MAGIC, ml);
	dd_hex_encode(k->key, KEY_LEN, text + ml);
	text[ml + 2 * KEY_LEN] = '\n';
	text[ml + 2 * KEY_LEN + 1] = '\0';
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		OPENSSL_cleanse(text, sizeof text);
		snprintf(err, errlen, "cannot create %s: %s", path, strerror(errno));
		return DD_EIO;
	}
	size_t len = strlen(text);
	bool ok = write(fd, text, len) == (ssize_t)len && fsync(fd) == 0;
	OPENSSL_cleanse(text, sizeof text);
	if (close(fd))
		ok = false;
	if (!ok || fsync_dir_of(path)) {
		unlink(path);
		snprintf(err, errlen, "cannot write %s", path);
		return DD_EIO;
	}
	return 0;
}

int dd_iam_secrets_load(const char *data_dir, bool create, struct dd_iam_secrets **out, char *err, size_t errlen)
{
	struct dd_iam_secrets *s = calloc(1, sizeof *s);
	if (!s)
		return DD_ENOMEM;
	if (snprintf(s->path, sizeof s->path, "%s/iam-secrets.key", data_dir) >= (int)sizeof s->path) {
		free(s);
		snprintf(err, errlen, "data directory path too long");
		return DD_EINVAL;
	}
	snprintf(s->next_path, sizeof s->next_path, "%s.new", s->path);
	int rc = read_key(s->path, &s->cur, err, errlen);
	if (rc == DD_ENOTFOUND && create) {
		rc = create_key(s->path, &s->cur, err, errlen);
		if (!rc)
			dd_log_info("iam: created the IAM secrets key %s", s->path);
	} else if (rc == DD_ENOTFOUND) {
		snprintf(err, errlen, "%s does not exist", s->path);
	}
	if (!rc) {
		/* an unfinished rotation: the new key becomes current, the old one opens what is
		 * not re-sealed yet */
		struct dd_iam_secrets_key next;
		int nrc = read_key(s->next_path, &next, err, errlen);
		if (nrc == 0) {
			s->prev = s->cur;
			s->cur = next;
			s->has_prev = true;
			OPENSSL_cleanse(&next, sizeof next);
		} else if (nrc != DD_ENOTFOUND) {
			rc = nrc;
		}
	}
	if (rc) {
		OPENSSL_cleanse(s, sizeof *s);
		free(s);
		return rc;
	}
	*out = s;
	return 0;
}

void dd_iam_secrets_free(struct dd_iam_secrets *s)
{
	if (!s)
		return;
	OPENSSL_cleanse(s, sizeof *s);
	free(s);
}

const char *dd_iam_secrets_key_id(const struct dd_iam_secrets *s) { return s->cur.id; }

const char *dd_iam_secrets_path(const struct dd_iam_secrets *s) { return s->path; }

/* The additional authenticated data: binds a sealed secret to its account and key id. */
static int aad(EVP_CIPHER_CTX *c, const char *account, const char *access_key)
{
	int n;
	return EVP_EncryptUpdate(c, NULL, &n, (const unsigned char *)account, (int)strlen(account) + 1) == 1 &&
	       EVP_EncryptUpdate(c, NULL, &n, (const unsigned char *)access_key, (int)strlen(access_key)) == 1;
}

static int daad(EVP_CIPHER_CTX *c, const char *account, const char *access_key)
{
	int n;
	return EVP_DecryptUpdate(c, NULL, &n, (const unsigned char *)account, (int)strlen(account) + 1) == 1 &&
	       EVP_DecryptUpdate(c, NULL, &n, (const unsigned char *)access_key, (int)strlen(access_key)) == 1;
}

static int seal_with(const struct dd_iam_secrets_key *k, const char *account, const char *access_key,
		     const char *secret, char *out, size_t outlen)
{
	size_t plen = strlen(secret);
	if (plen == 0 || plen > MAX_SECRET)
		return DD_EINVAL;
	size_t need = 3 + ID_HEX + 1 + 2 * (NONCE_LEN + plen + TAG_LEN) + 1;
	if (outlen < need)
		return DD_ELIMIT;
	unsigned char buf[NONCE_LEN + MAX_SECRET + TAG_LEN];
	if (dd_random_bytes(buf, NONCE_LEN))
		return DD_ECRYPTO;
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int n = 0, f = 0;
	bool ok = c && EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), NULL, NULL, NULL) == 1 &&
		  EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, NONCE_LEN, NULL) == 1 &&
		  EVP_EncryptInit_ex(c, NULL, NULL, k->key, buf) == 1 && aad(c, account, access_key) &&
		  EVP_EncryptUpdate(c, buf + NONCE_LEN, &n, (const unsigned char *)secret, (int)plen) == 1 &&
		  EVP_EncryptFinal_ex(c, buf + NONCE_LEN + n, &f) == 1 && (size_t)(n + f) == plen &&
		  EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, TAG_LEN, buf + NONCE_LEN + plen) == 1;
	EVP_CIPHER_CTX_free(c);
	if (!ok)
		return DD_ECRYPTO;
	memcpy(out, "v1:", 3);
	memcpy(out + 3, k->id, ID_HEX);
	out[3 + ID_HEX] = ':';
	dd_hex_encode(buf, NONCE_LEN + plen + TAG_LEN, out + 4 + ID_HEX);
	return 0;
}

int dd_iam_secrets_seal(const struct dd_iam_secrets *s, const char *account, const char *access_key,
			const char *secret, char *out, size_t outlen)
{
	if (!s || !account || !access_key || !secret || !out)
		return DD_EINVAL;
	return seal_with(&s->cur, account, access_key, secret, out, outlen);
}

bool dd_iam_secrets_is_sealed(const char *stored)
{
	return stored && strncmp(stored, "v1:", 3) == 0 && strlen(stored) > 4 + ID_HEX && stored[3 + ID_HEX] == ':';
}

int dd_iam_secrets_open(const struct dd_iam_secrets *s, const char *account, const char *access_key,
			const char *stored, char *out, size_t outlen)
{
	if (!s || !account || !access_key || !stored || !out || outlen == 0)
		return DD_EINVAL;
	if (!dd_iam_secrets_is_sealed(stored))
		return DD_EINVAL;
	const struct dd_iam_secrets_key *k = NULL;
	if (memcmp(stored + 3, s->cur.id, ID_HEX) == 0)
		k = &s->cur;
	else if (s->has_prev && memcmp(stored + 3, s->prev.id, ID_HEX) == 0)
		k = &s->prev;
	if (!k)
		return DD_ENOTFOUND; /* sealed under a key this server does not have */
	const char *hex = stored + 4 + ID_HEX;
	size_t hlen = strlen(hex);
	if (hlen % 2 || hlen / 2 <= NONCE_LEN + TAG_LEN || hlen / 2 > NONCE_LEN + MAX_SECRET + TAG_LEN)
		return DD_EINVAL;
	unsigned char buf[NONCE_LEN + MAX_SECRET + TAG_LEN], plain[MAX_SECRET];
	size_t blen = hlen / 2, clen = blen - NONCE_LEN - TAG_LEN;
	if (!unhex(hex, hlen, buf, blen))
		return DD_EINVAL;
	if (outlen <= clen)
		return DD_ELIMIT;
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int n = 0, f = 0;
	bool ok = c && EVP_DecryptInit_ex(c, EVP_aes_256_gcm(), NULL, NULL, NULL) == 1 &&
		  EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, NONCE_LEN, NULL) == 1 &&
		  EVP_DecryptInit_ex(c, NULL, NULL, k->key, buf) == 1 && daad(c, account, access_key) &&
		  EVP_DecryptUpdate(c, plain, &n, buf + NONCE_LEN, (int)clen) == 1 &&
		  EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, TAG_LEN, buf + NONCE_LEN + clen) == 1 &&
		  EVP_DecryptFinal_ex(c, plain + n, &f) == 1 && (size_t)(n + f) == clen;
	EVP_CIPHER_CTX_free(c);
	if (ok && memchr(plain, '\0', clen))
		ok = false;
	if (ok) {
		memcpy(out, plain, clen);
		out[clen] = '\0';
	}
	OPENSSL_cleanse(plain, sizeof plain);
	return ok ? 0 : DD_ECRYPTO;
}

/* ---- start-up: seal clear secrets, finish a rotation ------------------------------- */

struct row {
	char access_key[32];
	char account[13];
	char *stored;
};

struct rows {
	struct row *v;
	size_t n, cap;
};

static int collect(const struct dd_store_iam_users_key_secret *k, void *ud)
{
	struct rows *r = ud;
	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 64;
		struct row *v = realloc(r->v, cap * sizeof *v);
		if (!v)
			return DD_ENOMEM;
		r->v = v;
		r->cap = cap;
	}
	struct row *e = &r->v[r->n];
	snprintf(e->access_key, sizeof e->access_key, "%s", k->access_key);
	snprintf(e->account, sizeof e->account, "%s", k->account);
	e->stored = strdup(k->stored);
	if (!e->stored)
		return DD_ENOMEM;
	r->n++;
	return 0;
}

static void rows_free(struct rows *r)
{
	for (size_t i = 0; i < r->n; i++) {
		OPENSSL_cleanse(r->v[i].stored, strlen(r->v[i].stored));
		free(r->v[i].stored);
	}
	free(r->v);
}

int dd_iam_secrets_reseal(struct dd_iam_secrets *s, struct dd_db *db, size_t *sealed, char *err, size_t errlen)
{
	*sealed = 0;
	struct rows r = { 0 };
	if (dd_db_begin_write(db)) {
		snprintf(err, errlen, "cannot begin a write transaction");
		return DD_EIO;
	}
	int rc = dd_store_iam_users_key_secrets(db, collect, &r);
	if (rc)
		snprintf(err, errlen, "cannot read the stored access keys");
	size_t unopened = 0;
	for (size_t i = 0; !rc && i < r.n; i++) {
		const struct row *e = &r.v[i];
		char plain[MAX_SECRET + 1], sealed_text[DD_IAM_SECRETS_STORED_MAX];
		if (dd_iam_secrets_is_sealed(e->stored)) {
			if (memcmp(e->stored + 3, s->cur.id, ID_HEX) == 0)
				continue; /* already under the current key */
			if (dd_iam_secrets_open(s, e->account, e->access_key, e->stored, plain, sizeof plain)) {
				/* sealed under a key this server does not hold: left as it is (the key is
				 * refused at use), so the right key file can still be put back */
				if (unopened++ == 0)
					dd_log_warn("iam: the secret of access key %s (account %s) was sealed under another "
						    "IAM secrets key than %s", e->access_key, e->account, s->path);
				continue;
			}
		} else {
			if (strlen(e->stored) > MAX_SECRET) {
				snprintf(err, errlen, "the stored secret of access key %s is too long", e->access_key);
				rc = DD_EINVAL;
				break;
			}
			snprintf(plain, sizeof plain, "%s", e->stored); /* a store from before sealing */
		}
		rc = seal_with(&s->cur, e->account, e->access_key, plain, sealed_text, sizeof sealed_text);
		OPENSSL_cleanse(plain, sizeof plain);
		if (!rc)
			rc = dd_store_iam_users_key_set_secret(db, e->access_key, sealed_text);
		if (rc)
			snprintf(err, errlen, "cannot re-seal the secret of access key %s", e->access_key);
		else
			(*sealed)++;
	}
	rows_free(&r);
	if (unopened)
		dd_log_warn("iam: %zu access key(s) cannot be used until the iam-secrets.key they were sealed under is put "
			    "back in place of %s; otherwise delete them (DeleteAccessKey) and create new ones",
			    unopened, s->path);
	if (rc) {
		dd_db_rollback(db);
		*sealed = 0;
		return rc;
	}
	if (dd_db_commit(db)) {
		snprintf(err, errlen, "cannot commit the re-sealed secrets");
		*sealed = 0;
		return DD_EIO;
	}
	if (*sealed && dd_db_scrub(db))
		dd_log_warn("iam: the write-ahead log could not be emptied after re-sealing; it is at the next checkpoint");
	if (s->has_prev) {
		/* every secret is under the new key: it replaces the old file */
		if (rename(s->next_path, s->path) || fsync_dir_of(s->path)) {
			snprintf(err, errlen, "cannot rename %s to %s: %s", s->next_path, s->path, strerror(errno));
			return DD_EIO;
		}
		OPENSSL_cleanse(&s->prev, sizeof s->prev);
		s->has_prev = false;
		dd_log_info("iam: the IAM secrets key is now %s (id %s)", s->path, s->cur.id);
	}
	return 0;
}

int dd_iam_secrets_rotate(struct dd_iam_secrets *s, struct dd_db *db, size_t *sealed, char *err, size_t errlen)
{
	*sealed = 0;
	if (!s->has_prev) {
		struct dd_iam_secrets_key next;
		int rc = create_key(s->next_path, &next, err, errlen);
		if (rc)
			return rc;
		s->prev = s->cur;
		s->cur = next;
		s->has_prev = true;
		OPENSSL_cleanse(&next, sizeof next);
	}
	return dd_iam_secrets_reseal(s, db, sealed, err, errlen);
}

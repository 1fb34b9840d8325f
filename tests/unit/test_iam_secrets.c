/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the IAM users' secrets at rest (src/core/iam/dd_iam_secrets.c) on a fresh
 * store and data directory: the key file (created 0600 in its format, the same key on
 * reload, refused when others may read it or when it is not a key file), sealing (the
 * stored text holds no trace of the secret, two seals differ, a seal opens only for its
 * account and key id, an altered one and one under another key do not open), start-up
 * sealing of clear secrets from an older store (the SigV4 lookup then opens them), and
 * rotation, also when interrupted before or after the store's commit.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "dd/iam.h"
#include "dd/store.h"
#include "store/dd_store_iam_users.h"

#define A1 "111111111111"
#define A2 "222222222222"
#define SECRET "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"

struct fx {
	char dir[64];
	char keyfile[128];
	struct dd_store *s;
	struct dd_db *db;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	assert_non_null(f);
	snprintf(f->dir, sizeof f->dir, "/tmp/dd_iam_secrets_XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->keyfile, sizeof f->keyfile, "%s/iam-secrets.key", f->dir);
	assert_int_equal(dd_store_open(f->dir, &f->s), 0);
	f->db = dd_store_db(f->s);
	assert_non_null(f->db);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	dd_store_close(f->s);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static struct dd_iam_secrets *load(struct fx *f, bool create)
{
	struct dd_iam_secrets *s = NULL;
	char err[512] = "";
	int rc = dd_iam_secrets_load(f->dir, create, &s, err, sizeof err);
	if (rc)
		fail_msg("load: %d %s", rc, err);
	return s;
}

static void read_text(const char *path, char *buf, size_t size)
{
	FILE *fp = fopen(path, "r");
	assert_non_null(fp);
	size_t n = fread(buf, 1, size - 1, fp);
	buf[n] = '\0';
	fclose(fp);
}

static void write_text(const char *path, const char *text, mode_t mode)
{
	unlink(path);
	FILE *fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
	assert_int_equal(chmod(path, mode), 0);
}

/* A user with one access key whose stored secret is `stored` as given. */
static void add_key(struct dd_db *db, const char *account, const char *user, const char *key, const char *stored)
{
	assert_int_equal(dd_db_begin_write(db), 0);
	struct dd_store_iam_users_entity e = { .created_ms = 1000 };
	snprintf(e.name, sizeof e.name, "%s", user);
	snprintf(e.id, sizeof e.id, "AIDA%s", user);
	snprintf(e.path, sizeof e.path, "/");
	int rc = dd_store_iam_users_entity_insert(db, DD_STORE_IAM_USER, account, &e);
	assert_true(rc == 0 || rc == DD_EEXIST);
	assert_int_equal(dd_store_iam_users_key_insert(db, account, user, key, stored, 5), 0);
	assert_int_equal(dd_db_commit(db), 0);
}

static void stored_of(struct dd_db *db, const char *key, char *out, size_t size)
{
	struct dd_store_iam_users_key k;
	assert_int_equal(dd_store_iam_users_key_find(db, key, &k), 0);
	snprintf(out, size, "%s", k.secret);
}

static void test_key_file(void **state)
{
	struct fx *f = *state;
	struct dd_iam_secrets *s = NULL;
	char err[512];
	assert_int_equal(dd_iam_secrets_load(f->dir, false, &s, err, sizeof err), DD_ENOTFOUND);
	assert_null(s);
	s = load(f, true);
	struct stat st;
	assert_int_equal(stat(f->keyfile, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	char text[256];
	read_text(f->keyfile, text, sizeof text);
	assert_int_equal(strlen(text), strlen("iotdefender-iam-secrets-key v1 ") + 64 + 1);
	assert_int_equal(strncmp(text, "iotdefender-iam-secrets-key v1 ", 31), 0);
	char id[17];
	snprintf(id, sizeof id, "%s", dd_iam_secrets_key_id(s));
	assert_int_equal(strlen(id), 16);
	assert_null(strstr(text, id)); /* the id is not a piece of the key */
	dd_iam_secrets_free(s);
	/* the same key again, not a new one */
	s = load(f, true);
	assert_string_equal(dd_iam_secrets_key_id(s), id);
	dd_iam_secrets_free(s);
	/* readable by others: refused, naming the file and the fix */
	assert_int_equal(chmod(f->keyfile, 0644), 0);
	s = NULL;
	assert_int_equal(dd_iam_secrets_load(f->dir, true, &s, err, sizeof err), DD_EDENIED);
	assert_non_null(strstr(err, "chmod 600"));
	assert_null(s);
	/* not a key file */
	write_text(f->keyfile, "iotdefender-iam-secrets-key v1 abc\n", 0600);
	assert_int_equal(dd_iam_secrets_load(f->dir, true, &s, err, sizeof err), DD_EINVAL);
	assert_non_null(strstr(err, "is not an IAM secrets key file"));
	dd_iam_secrets_free(NULL);
}

static void test_seal_open(void **state)
{
	struct fx *f = *state;
	struct dd_iam_secrets *s = load(f, true);
	char a[DD_IAM_SECRETS_STORED_MAX], b[DD_IAM_SECRETS_STORED_MAX], out[128];
	assert_int_equal(dd_iam_secrets_seal(s, A1, "AKIAAAAAAAAAAAAAAAA1", SECRET, a, sizeof a), 0);
	assert_int_equal(dd_iam_secrets_seal(s, A1, "AKIAAAAAAAAAAAAAAAA1", SECRET, b, sizeof b), 0);
	assert_true(dd_iam_secrets_is_sealed(a));
	assert_false(dd_iam_secrets_is_sealed(SECRET));
	assert_int_equal(strncmp(a, "v1:", 3), 0);
	assert_int_equal(strncmp(a + 3, dd_iam_secrets_key_id(s), 16), 0);
	assert_string_not_equal(a, b); /* a fresh nonce each time */
	assert_null(strstr(a, "wJalr"));
	assert_null(strstr(a, "EXAMPLE"));
	/* 12-byte nonce, 40 bytes, 16-byte tag, in hex after "v1:<id>:" */
	assert_int_equal(strlen(a), 3 + 16 + 1 + 2 * (12 + 40 + 16));
	assert_int_equal(dd_iam_secrets_open(s, A1, "AKIAAAAAAAAAAAAAAAA1", a, out, sizeof out), 0);
	assert_string_equal(out, SECRET);
	assert_int_equal(dd_iam_secrets_open(s, A1, "AKIAAAAAAAAAAAAAAAA1", b, out, sizeof out), 0);
	assert_string_equal(out, SECRET);
	/* bound to its row: another account or key id does not open it */
	assert_int_equal(dd_iam_secrets_open(s, A2, "AKIAAAAAAAAAAAAAAAA1", a, out, sizeof out), DD_ECRYPTO);
	assert_int_equal(dd_iam_secrets_open(s, A1, "AKIAAAAAAAAAAAAAAAA2", a, out, sizeof out), DD_ECRYPTO);
	/* one altered digit of the ciphertext */
	char c[DD_IAM_SECRETS_STORED_MAX];
	snprintf(c, sizeof c, "%s", a);
	size_t at = 3 + 16 + 1 + 2 * 12 + 4;
	c[at] = c[at] == '0' ? '1' : '0';
	assert_int_equal(dd_iam_secrets_open(s, A1, "AKIAAAAAAAAAAAAAAAA1", c, out, sizeof out), DD_ECRYPTO);
	/* truncated, not hex, clear text */
	snprintf(c, sizeof c, "%.60s", a);
	assert_int_equal(dd_iam_secrets_open(s, A1, "AKIAAAAAAAAAAAAAAAA1", c, out, sizeof out), DD_EINVAL);
	assert_int_equal(dd_iam_secrets_open(s, A1, "AKIAAAAAAAAAAAAAAAA1", SECRET, out, sizeof out), DD_EINVAL);
	/* a too small output buffer */
	assert_int_equal(dd_iam_secrets_open(s, A1, "AKIAAAAAAAAAAAAAAAA1", a, out, 40), DD_ELIMIT);
	assert_int_equal(dd_iam_secrets_seal(s, A1, "AKIAAAAAAAAAAAAAAAA1", SECRET, c, 64), DD_ELIMIT);
	/* another server's key: its id is unknown here */
	dd_iam_secrets_free(s);
	unlink(f->keyfile);
	s = load(f, true);
	assert_int_equal(dd_iam_secrets_open(s, A1, "AKIAAAAAAAAAAAAAAAA1", a, out, sizeof out), DD_ENOTFOUND);
	dd_iam_secrets_free(s);
}

static void test_clear_secrets_sealed_at_start(void **state)
{
	struct fx *f = *state;
	/* an older store: two secrets in clear */
	add_key(f->db, A1, "alice", "AKIAALICE00000000001", SECRET);
	add_key(f->db, A2, "bob", "AKIABOB0000000000002", "bob-secret-key-000000000000000000000000");
	struct dd_iam_secrets *s = load(f, true);
	struct dd_iam_key k;
	/* not sealed yet: the lookup refuses such a key rather than use a clear secret */
	assert_int_equal(dd_iam_access_key_find(f->db, s, "AKIAALICE00000000001", &k), DD_ECRYPTO);
	size_t n = 99;
	char err[512] = "";
	assert_int_equal(dd_iam_secrets_reseal(s, f->db, &n, err, sizeof err), 0);
	assert_int_equal(n, 2);
	char stored[DD_IAM_SECRETS_STORED_MAX];
	stored_of(f->db, "AKIAALICE00000000001", stored, sizeof stored);
	assert_true(dd_iam_secrets_is_sealed(stored));
	assert_null(strstr(stored, "wJalr"));
	assert_int_equal(dd_iam_access_key_find(f->db, s, "AKIAALICE00000000001", &k), 0);
	assert_string_equal(k.secret, SECRET);
	assert_string_equal(k.account, A1);
	assert_string_equal(k.user, "alice");
	assert_string_equal(k.user_id, "AIDAalice");
	assert_true(k.active);
	assert_int_equal(dd_iam_access_key_find(f->db, s, "AKIABOB0000000000002", &k), 0);
	assert_string_equal(k.secret, "bob-secret-key-000000000000000000000000");
	assert_int_equal(dd_iam_access_key_find(f->db, s, "AKIANOPE000000000000", &k), DD_ENOTFOUND);
	assert_int_equal(dd_iam_access_key_find(f->db, NULL, "AKIAALICE00000000001", &k), DD_ECRYPTO);
	/* the next start changes nothing */
	assert_int_equal(dd_iam_secrets_reseal(s, f->db, &n, err, sizeof err), 0);
	assert_int_equal(n, 0);
	char again[DD_IAM_SECRETS_STORED_MAX];
	stored_of(f->db, "AKIAALICE00000000001", again, sizeof again);
	assert_string_equal(again, stored);
	dd_iam_secrets_free(s);
	/* a start with another key file cannot open them: it leaves them as they are, and
	 * they open again once the right key file is back */
	char keytext[256];
	read_text(f->keyfile, keytext, sizeof keytext);
	unlink(f->keyfile);
	s = load(f, true);
	n = 99;
	assert_int_equal(dd_iam_secrets_reseal(s, f->db, &n, err, sizeof err), 0);
	assert_int_equal(n, 0);
	stored_of(f->db, "AKIAALICE00000000001", again, sizeof again);
	assert_string_equal(again, stored);
	assert_int_equal(dd_iam_access_key_find(f->db, s, "AKIAALICE00000000001", &k), DD_ECRYPTO);
	dd_iam_secrets_free(s);
	write_text(f->keyfile, keytext, 0600);
	s = load(f, false);
	assert_int_equal(dd_iam_access_key_find(f->db, s, "AKIAALICE00000000001", &k), 0);
	assert_string_equal(k.secret, SECRET);
	dd_iam_secrets_free(s);
}

static void test_rotation(void **state)
{
	struct fx *f = *state;
	add_key(f->db, A1, "alice", "AKIAALICE00000000001", SECRET);
	struct dd_iam_secrets *s = load(f, true);
	size_t n;
	char err[512] = "", before[DD_IAM_SECRETS_STORED_MAX], after[DD_IAM_SECRETS_STORED_MAX];
	assert_int_equal(dd_iam_secrets_reseal(s, f->db, &n, err, sizeof err), 0);
	stored_of(f->db, "AKIAALICE00000000001", before, sizeof before);
	char old_id[17], old_text[256], new_path[160];
	snprintf(old_id, sizeof old_id, "%s", dd_iam_secrets_key_id(s));
	read_text(f->keyfile, old_text, sizeof old_text);
	snprintf(new_path, sizeof new_path, "%s.new", f->keyfile);

	assert_int_equal(dd_iam_secrets_rotate(s, f->db, &n, err, sizeof err), 0);
	assert_int_equal(n, 1);
	assert_string_not_equal(dd_iam_secrets_key_id(s), old_id);
	assert_int_equal(access(new_path, F_OK), -1); /* renamed over the old file */
	char new_text[256];
	read_text(f->keyfile, new_text, sizeof new_text);
	assert_string_not_equal(new_text, old_text);
	stored_of(f->db, "AKIAALICE00000000001", after, sizeof after);
	assert_int_equal(strncmp(after + 3, dd_iam_secrets_key_id(s), 16), 0);
	struct dd_iam_key k;
	assert_int_equal(dd_iam_access_key_find(f->db, s, "AKIAALICE00000000001", &k), 0);
	assert_string_equal(k.secret, SECRET);
	char new_id[17];
	snprintf(new_id, sizeof new_id, "%s", dd_iam_secrets_key_id(s));
	dd_iam_secrets_free(s);
	/* the file on disk is the new key */
	s = load(f, false);
	assert_string_equal(dd_iam_secrets_key_id(s), new_id);
	dd_iam_secrets_free(s);

	/* interrupted after the store's commit, before the rename: the old key in the file,
	 * the new one in .new, every secret under the new one */
	write_text(f->keyfile, old_text, 0600);
	write_text(new_path, new_text, 0600);
	s = load(f, false);
	assert_string_equal(dd_iam_secrets_key_id(s), new_id);
	assert_int_equal(dd_iam_access_key_find(f->db, s, "AKIAALICE00000000001", &k), 0);
	assert_int_equal(dd_iam_secrets_reseal(s, f->db, &n, err, sizeof err), 0);
	assert_int_equal(n, 0);
	assert_int_equal(access(new_path, F_OK), -1);
	read_text(f->keyfile, new_text, sizeof new_text);
	dd_iam_secrets_free(s);
	s = load(f, false);
	assert_string_equal(dd_iam_secrets_key_id(s), new_id);
	dd_iam_secrets_free(s);

	/* interrupted before the commit: the secrets still under the old key (restored
	 * here), the next key in .new */
	assert_int_equal(dd_db_begin_write(f->db), 0);
	assert_int_equal(dd_store_iam_users_key_set_secret(f->db, "AKIAALICE00000000001", before), 0);
	assert_int_equal(dd_db_commit(f->db), 0);
	write_text(f->keyfile, old_text, 0600);
	write_text(new_path, new_text, 0600);
	s = load(f, false);
	assert_int_equal(dd_iam_access_key_find(f->db, s, "AKIAALICE00000000001", &k), 0); /* the old key opens it */
	assert_string_equal(k.secret, SECRET);
	assert_int_equal(dd_iam_secrets_reseal(s, f->db, &n, err, sizeof err), 0);
	assert_int_equal(n, 1);
	stored_of(f->db, "AKIAALICE00000000001", after, sizeof after);
	assert_int_equal(strncmp(after + 3, new_id, 16), 0);
	assert_int_equal(access(new_path, F_OK), -1);
	dd_iam_secrets_free(s);
	assert_int_equal(dd_store_iam_users_key_set_secret(f->db, "AKIANOPE000000000000", "x"), DD_ENOTFOUND);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_key_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_seal_open, setup, teardown),
		cmocka_unit_test_setup_teardown(test_clear_secrets_sealed_at_start, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rotation, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

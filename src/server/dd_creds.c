/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Parser and generator for the credentials file. A file readable or writable by group or
 * others is refused, as ssh refuses such a private key. Lines are "[profile]", "key = value",
 * blank, or comments starting with '#' or ';'. Unknown keys are ignored (so a file shared
 * with the aws CLI keeps working); a profile missing any of the three keys is an error.
 */
#include "server/dd_creds.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_LINE 1024
#define MAX_PROFILES 10000

static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
		s[--n] = '\0';
	return s;
}

static bool all_digits(const char *s, size_t n)
{
	if (strlen(s) != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

static int finish_profile(struct dd_creds *c, int line, char *err, size_t errlen)
{
	if (c->n == 0)
		return 0;
	struct dd_cred *p = &c->items[c->n - 1];
	if (!p->access_key[0] || !p->secret[0] || !p->account[0]) {
		snprintf(err, errlen, "profile [%s] (ending line %d) needs aws_access_key_id, aws_secret_access_key and account_id",
			 p->profile, line);
		return DD_EINVAL;
	}
	for (size_t i = 0; i + 1 < c->n; i++) {
		if (strcmp(c->items[i].access_key, p->access_key) == 0) {
			snprintf(err, errlen, "access key of profile [%s] is also used by [%s]", p->profile,
				 c->items[i].profile);
			return DD_EINVAL;
		}
	}
	return 0;
}

int dd_creds_load(const char *path, struct dd_creds *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof *out);
	FILE *f = fopen(path, "r");
	if (!f) {
		snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
		return errno == ENOENT ? DD_ENOTFOUND : DD_EIO;
	}
	/* like ssh with a private key: secrets others can read or change are refused */
	struct stat sb;
	if (fstat(fileno(f), &sb) != 0) {
		snprintf(err, errlen, "cannot stat %s: %s", path, strerror(errno));
		fclose(f);
		return DD_EIO;
	}
	if (sb.st_mode & 077) {
		snprintf(err, errlen, "permissions %04o for '%s' are too open: it holds secret keys and must not be "
			 "readable or writable by group or others; run: chmod 600 '%s'",
			 (unsigned)(sb.st_mode & 07777), path, path);
		fclose(f);
		return DD_EDENIED;
	}
	struct dd_creds c = { 0 };
	char buf[MAX_LINE + 2];
	int line = 0, rc = 0;
	while (fgets(buf, sizeof buf, f)) {
		line++;
		if (strlen(buf) > MAX_LINE) {
			snprintf(err, errlen, "%s:%d: line too long", path, line);
			rc = DD_EINVAL;
			break;
		}
		char *s = trim(buf);
		if (!*s || *s == '#' || *s == ';')
			continue;
		if (*s == '[') {
			char *end = strchr(s, ']');
			if (!end || end[1]) {
				snprintf(err, errlen, "%s:%d: malformed profile header", path, line);
				rc = DD_EINVAL;
				break;
			}
			if ((rc = finish_profile(&c, line, err, errlen)))
				break;
			if (c.n >= MAX_PROFILES) {
				snprintf(err, errlen, "%s: too many profiles", path);
				rc = DD_EINVAL;
				break;
			}
			struct dd_cred *n = realloc(c.items, (c.n + 1) * sizeof *n);
			if (!n) {
				rc = DD_ENOMEM;
				break;
			}
			c.items = n;
			memset(&c.items[c.n], 0, sizeof c.items[0]);
			*end = '\0';
			snprintf(c.items[c.n].profile, sizeof c.items[0].profile, "%s", trim(s + 1));
			c.n++;
			continue;
		}
		char *eq = strchr(s, '=');
		if (!eq || c.n == 0) {
			snprintf(err, errlen, "%s:%d: expected 'key = value' inside a [profile]", path, line);
			rc = DD_EINVAL;
			break;
		}
		*eq = '\0';
		char *k = trim(s), *v = trim(eq + 1);
		struct dd_cred *p = &c.items[c.n - 1];
		char *dst = NULL;
		size_t dstlen = 0;
		if (strcmp(k, "aws_access_key_id") == 0) {
			dst = p->access_key;
			dstlen = sizeof p->access_key;
		} else if (strcmp(k, "aws_secret_access_key") == 0) {
			dst = p->secret;
			dstlen = sizeof p->secret;
		} else if (strcmp(k, "account_id") == 0) {
			if (!all_digits(v, 12)) {
				snprintf(err, errlen, "%s:%d: account_id must be 12 digits", path, line);
				rc = DD_EINVAL;
				break;
			}
			dst = p->account;
			dstlen = sizeof p->account;
		}
		if (dst) {
			if (!*v || strlen(v) >= dstlen || strpbrk(v, " \t")) {
				snprintf(err, errlen, "%s:%d: invalid value for %s", path, line, k);
				rc = DD_EINVAL;
				break;
			}
			memcpy(dst, v, strlen(v) + 1);
		}
	}
	fclose(f);
	if (!rc)
		rc = finish_profile(&c, line, err, errlen);
	if (!rc && c.n == 0) {
		snprintf(err, errlen, "%s: no profiles", path);
		rc = DD_EINVAL;
	}
	if (rc) {
		dd_creds_free(&c);
		return rc;
	}
	*out = c;
	return 0;
}

int dd_creds_generate(const char *path, struct dd_creds *out, char *err, size_t errlen)
{
	unsigned char r[40];
	if (dd_random_bytes(r, sizeof r)) {
		snprintf(err, errlen, "no randomness");
		return DD_ECRYPTO;
	}
	static const char up[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char akid[21] = "AKIA", secret[41], account[13];
	for (int i = 0; i < 16; i++)
		akid[4 + i] = up[r[i] & 31];
	akid[20] = '\0';
	unsigned char s[40];
	if (dd_random_bytes(s, sizeof s)) {
		snprintf(err, errlen, "no randomness");
		return DD_ECRYPTO;
	}
	for (int i = 0; i < 40; i++)
		secret[i] = b64[s[i] & 63];
	secret[40] = '\0';
	account[0] = (char)('1' + r[16] % 9);
	for (int i = 1; i < 12; i++)
		account[i] = (char)('0' + r[16 + i] % 10);
	account[12] = '\0';
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	if (fd < 0) {
		snprintf(err, errlen, "cannot create %s: %s", path, strerror(errno));
		return DD_EIO;
	}
	char text[512];
	int n = snprintf(text, sizeof text,
			 "# iotdefender access keys (AWS credentials format + account_id)\n"
			 "[default]\naws_access_key_id = %s\naws_secret_access_key = %s\naccount_id = %s\n",
			 akid, secret, account);
	bool ok = n > 0 && write(fd, text, (size_t)n) == n && fsync(fd) == 0;
	close(fd);
	if (!ok) {
		unlink(path);
		snprintf(err, errlen, "cannot write %s", path);
		return DD_EIO;
	}
	return dd_creds_load(path, out, err, errlen);
}

const struct dd_cred *dd_creds_find(const struct dd_creds *c, const char *access_key)
{
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->items[i].access_key, access_key) == 0)
			return &c->items[i];
	return NULL;
}

void dd_creds_free(struct dd_creds *c)
{
	free(c->items);
	c->items = NULL;
	c->n = 0;
}

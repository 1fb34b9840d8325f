/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the Debian weak-key blocklist import (dd_keys_blocklist_import) and
 * the loader of what it writes (dd_keys_blocklists_open). The input's first line names the
 * list: "<format> <key>" (format "dwk" or "openssl", key as the admin command takes it,
 * e.g. "rsa-2048", "ec-secp256r1"); the rest is the imported file. The list is imported
 * into a private temporary directory, loaded back, and the loaded entry count must equal
 * what the import reported.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dd/keys.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[64], input[80];

static void empty_dir(void)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *e;
	char p[400];
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
			snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
			unlink(p);
		}
	closedir(d);
}

static void cleanup(void)
{
	empty_dir();
	rmdir(dir);
	unlink(input);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 200000)
		return 0;
	if (!dir[0]) {
		const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
		snprintf(dir, sizeof dir, "%s/fuzz_bl.%ld", base, (long)getpid());
		snprintf(input, sizeof input, "%s/fuzz_bl_in.%ld", base, (long)getpid());
		atexit(cleanup);
	}
	const char *text = (const char *)data;
	const char *nl = memchr(text, '\n', size);
	size_t hl = nl ? (size_t)(nl - text) : size;
	char head[128];
	if (hl >= sizeof head)
		return 0;
	memcpy(head, text, hl);
	head[hl] = '\0';
	char *sp = strchr(head, ' ');
	const char *format = head, *key = sp ? sp + 1 : "rsa-2048";
	if (sp)
		*sp = '\0';
	FILE *f = fopen(input, "wb");
	if (!f)
		abort();
	size_t rest = nl ? size - hl - 1 : 0;
	if (rest && fwrite(nl + 1, 1, rest, f) != rest)
		abort();
	fclose(f);

	size_t count = 0;
	char err[512];
	if (dd_keys_blocklist_import(dir, format, key, input, &count, err, sizeof err) == 0) {
		struct dd_blocklists *bl = NULL;
		if (dd_keys_blocklists_open(dir, &bl) != 0)
			abort();
		if (dd_keys_blocklists_count(bl, NULL) != count)
			abort();
		struct dd_cert_facts fk = { 0 };
		snprintf(fk.key_type, sizeof fk.key_type, "RSA");
		fk.key_bits = 2048;
		memset(fk.key_sha256, 'a', 64);
		memset(fk.key_sha1_80, 'b', 20);
		(void)dd_keys_blocklists_check(bl, &fk);
		dd_keys_blocklists_free(bl);
	}
	empty_dir();
	return 0;
}

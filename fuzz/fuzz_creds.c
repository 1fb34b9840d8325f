/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the credentials file parser (dd_creds_load): the input is written
 * as a private temporary file and loaded; every loaded key is then looked up again, and
 * the parser's own rules (12-digit account, no duplicate access key) are checked on what
 * it accepted.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "server/dd_creds.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char path[64];

static void cleanup(void) { unlink(path); }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 65536)
		return 0;
	if (!path[0]) {
		const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
		snprintf(path, sizeof path, "%s/fuzz_creds.%ld", base, (long)getpid());
		atexit(cleanup);
	}
	FILE *f = fopen(path, "wb");
	if (!f)
		abort();
	if (size && fwrite(data, 1, size, f) != size)
		abort();
	fclose(f);
	chmod(path, 0600);
	struct dd_creds c = { 0 };
	char err[512];
	if (dd_creds_load(path, &c, err, sizeof err) == 0) {
		for (size_t i = 0; i < c.n; i++) {
			const struct dd_cred *k = &c.items[i];
			if (strlen(k->account) != 12)
				abort();
			for (int j = 0; j < 12; j++)
				if (!isdigit((unsigned char)k->account[j]))
					abort();
			if (dd_creds_find(&c, k->access_key) != k)
				abort(); /* a duplicate access key was accepted */
		}
		dd_creds_free(&c);
	}
	(void)dd_creds_find(&c, "AKIDEXAMPLE");
	return 0;
}

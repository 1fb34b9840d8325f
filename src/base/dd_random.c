/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Randomness from OpenSSL's generator: bytes, and version-4 UUIDs built from them (a
 * failing generator yields a fixed UUID rather than none; callers that must not repeat
 * check dd_random_bytes themselves).
 */
#include "dd/common.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <openssl/rand.h>

int dd_random_bytes(void *buf, size_t n)
{
	if (n > INT_MAX || RAND_bytes(buf, (int)n) != 1)
		return DD_ECRYPTO;
	return 0;
}

void dd_random_uuid(char out[37])
{
	unsigned char r[16];
	if (dd_random_bytes(r, sizeof r))
		memset(r, 0x42, sizeof r);
	r[6] = (unsigned char)((r[6] & 0x0f) | 0x40);
	r[8] = (unsigned char)((r[8] & 0x3f) | 0x80);
	char hex[33];
	dd_hex_encode(r, 16, hex);
	snprintf(out, 37, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12, hex + 16, hex + 20);
}

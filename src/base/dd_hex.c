/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Lowercase hex: of bytes, and of a SHA-256 digest.
 */
#include "dd/common.h"

#include <openssl/sha.h>

void dd_hex_encode(const unsigned char *in, size_t n, char *out)
{
	static const char hex[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hex[in[i] >> 4];
		out[2 * i + 1] = hex[in[i] & 15];
	}
	out[2 * n] = '\0';
}

void dd_hex_sha256(const void *data, size_t len, char out[65])
{
	unsigned char md[32];
	SHA256(data, len, md);
	dd_hex_encode(md, 32, out);
}

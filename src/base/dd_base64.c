/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Base64 (RFC 4648, with padding) over OpenSSL's block codec, for inputs up to 1 GiB.
 */
#include "dd/buf.h"

#include <stdlib.h>

#include <openssl/evp.h>

char *dd_base64_encode(const unsigned char *in, size_t len)
{
	if (len > ((size_t)1 << 30))
		return NULL;
	size_t olen = 4 * ((len + 2) / 3);
	char *out = malloc(olen + 1);
	if (!out)
		return NULL;
	int n = EVP_EncodeBlock((unsigned char *)out, in, (int)len);
	if (n < 0) {
		free(out);
		return NULL;
	}
	out[n] = '\0';
	return out;
}

unsigned char *dd_base64_decode(const char *in, size_t len, size_t *out_len)
{
	if (len % 4 != 0 || len > ((size_t)1 << 30))
		return NULL;
	unsigned char *out = malloc(len / 4 * 3 + 1);
	if (!out)
		return NULL;
	int n = EVP_DecodeBlock(out, (const unsigned char *)in, (int)len);
	if (n < 0) {
		free(out);
		return NULL;
	}
	size_t pad = 0;
	if (len >= 1 && in[len - 1] == '=') pad++;
	if (len >= 2 && in[len - 2] == '=') pad++;
	*out_len = (size_t)n - pad;
	out[*out_len] = '\0';
	return out;
}

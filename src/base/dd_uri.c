/* SPDX-License-Identifier: Apache-2.0 */
/*
 * RFC 3986 percent-decoding (with + as a space in form bodies when asked); a malformed
 * escape or an encoded NUL is refused.
 */
#include "dd/buf.h"

#include <stdlib.h>

static int hexval(char c)
{
	if (c >= '0' && c <= '9') return c - '0';
	if (c >= 'a' && c <= 'f') return c - 'a' + 10;
	if (c >= 'A' && c <= 'F') return c - 'A' + 10;
	return -1;
}

char *dd_uri_decode(const char *s, size_t len, bool plus_is_space)
{
	char *out = malloc(len + 1);
	if (!out)
		return NULL;
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (c == '%') {
			int h = i + 2 < len ? hexval(s[i + 1]) : -1;
			int l = i + 2 < len ? hexval(s[i + 2]) : -1;
			if (h < 0 || l < 0 || (h == 0 && l == 0)) {
				free(out);
				return NULL;
			}
			out[o++] = (char)(h * 16 + l);
			i += 2;
		} else if (c == '+' && plus_is_space) {
			out[o++] = ' ';
		} else if (c == '\0') {
			free(out);
			return NULL;
		} else {
			out[o++] = c;
		}
	}
	out[o] = '\0';
	return out;
}

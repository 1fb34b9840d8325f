/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Growable NUL-terminated buffers with a size cap, and the encoders that append to one
 * (XML escaping, RFC 3986 percent-encoding). Decoding is in dd_uri.c, base64 in
 * dd_base64.c.
 */
#include "dd/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_MAX ((size_t)64 << 20)

void dd_buf_init(struct dd_buf *b, size_t max)
{
	memset(b, 0, sizeof *b);
	b->max = max ? max : DEFAULT_MAX;
}

void dd_buf_free(struct dd_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
	b->failed = false;
}

static int reserve(struct dd_buf *b, size_t extra)
{
	if (b->failed)
		return DD_ENOMEM;
	if (extra > b->max || b->len + extra > b->max) {
		b->failed = true;
		return DD_ELIMIT;
	}
	size_t need = b->len + extra + 1;
	if (need <= b->cap)
		return 0;
	size_t ncap = b->cap ? b->cap : 256;
	while (ncap < need)
		ncap *= 2;
	char *n = realloc(b->data, ncap);
	if (!n) {
		b->failed = true;
		return DD_ENOMEM;
	}
	b->data = n;
	b->cap = ncap;
	return 0;
}

int dd_buf_append(struct dd_buf *b, const void *data, size_t len)
{
	int rc = reserve(b, len);
	if (rc)
		return rc;
	if (len)
		memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
	return 0;
}

int dd_buf_puts(struct dd_buf *b, const char *s) { return dd_buf_append(b, s, strlen(s)); }
int dd_buf_putc(struct dd_buf *b, char c) { return dd_buf_append(b, &c, 1); }

int dd_buf_printf(struct dd_buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->failed = true;
		return DD_EINVAL;
	}
	int rc = reserve(b, (size_t)n);
	if (rc)
		return rc;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

int dd_buf_xml_escape(struct dd_buf *b, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&': dd_buf_puts(b, "&amp;"); break;
		case '<': dd_buf_puts(b, "&lt;"); break;
		case '>': dd_buf_puts(b, "&gt;"); break;
		case '"': dd_buf_puts(b, "&quot;"); break;
		case '\'': dd_buf_puts(b, "&apos;"); break;
		case '\r': dd_buf_puts(b, "&#xD;"); break;
		default: dd_buf_putc(b, *s);
		}
	}
	return b->failed ? DD_ENOMEM : 0;
}

static bool unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_' || c == '.' || c == '~';
}

int dd_buf_uri_encode(struct dd_buf *b, const char *s, size_t len, bool keep_slash)
{
	static const char hex[] = "0123456789ABCDEF";
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (unreserved(c) || (keep_slash && c == '/')) {
			dd_buf_putc(b, (char)c);
		} else {
			char e[3] = { '%', hex[c >> 4], hex[c & 15] };
			dd_buf_append(b, e, 3);
		}
	}
	return b->failed ? DD_ENOMEM : 0;
}

char *dd_buf_take(struct dd_buf *b)
{
	if (b->failed) {
		dd_buf_free(b);
		return NULL;
	}
	if (!b->data && dd_buf_append(b, "", 0))
		return NULL;
	char *d = b->data;
	b->data = NULL;
	b->len = b->cap = 0;
	return d;
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A growable byte buffer that always keeps a NUL after its contents, with a hard size
 * cap so no input can grow it without bound. Once an append fails the buffer is marked
 * failed and later appends are no-ops, so callers check once at the end.
 */
#ifndef DD_BUF_H
#define DD_BUF_H

#include "dd/common.h"

struct dd_buf {
	char *data;
	size_t len;
	size_t cap;
	size_t max;   /* hard limit on len; 0 means 64 MiB */
	bool failed;
};

void dd_buf_init(struct dd_buf *b, size_t max);
void dd_buf_free(struct dd_buf *b);
int dd_buf_append(struct dd_buf *b, const void *data, size_t len);
int dd_buf_puts(struct dd_buf *b, const char *s);
int dd_buf_putc(struct dd_buf *b, char c);
int dd_buf_printf(struct dd_buf *b, const char *fmt, ...) DD_PRINTF(2, 3);
/* Appends s with XML special characters escaped. */
int dd_buf_xml_escape(struct dd_buf *b, const char *s);
/* Appends s percent-encoded per RFC 3986 (unreserved A-Z a-z 0-9 - _ . ~ kept; '/' kept
 * when keep_slash). */
int dd_buf_uri_encode(struct dd_buf *b, const char *s, size_t len, bool keep_slash);
/* Hands the contents to the caller (free() it) and resets the buffer; NULL if failed. */
char *dd_buf_take(struct dd_buf *b);

/* Percent-decodes s[0..len) into a new NUL-terminated string ('+' stays '+' unless
 * plus_is_space). Returns NULL on a malformed escape or an embedded NUL. */
char *dd_uri_decode(const char *s, size_t len, bool plus_is_space);

/* base64 (standard alphabet, padded). Returns an owned string / buffer, NULL on error. */
char *dd_base64_encode(const unsigned char *in, size_t len);
unsigned char *dd_base64_decode(const char *in, size_t len, size_t *out_len);

#endif

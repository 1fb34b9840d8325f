/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Compact JSON text of a response body. jansson's json_dumps passes every byte through a
 * callback and decodes every string's UTF-8 one code point at a time, which made it the
 * largest single cost of answering a small request; this writer appends runs of plain
 * bytes to one buffer and escapes only what JSON requires, with jansson's own spelling
 * (\" \\ \b \f \n \r \t, \u00XX for the other control characters, other bytes as they
 * are). A string's UTF-8 is checked before it is written, as jansson does. Reals are
 * rare in responses and are left to jansson itself, so their digits are its digits.
 */
#include "server/dd_json_write.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dd/buf.h"

#define MAX_DEPTH 2048

/* Length of the valid UTF-8 sequence at s (n bytes left), 0 when it is not one. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	unsigned c = s[0];
	size_t len;
	unsigned cp;
	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF) {
		len = 2;
		cp = c & 0x1F;
	} else if (c >= 0xE0 && c <= 0xEF) {
		len = 3;
		cp = c & 0x0F;
	} else if (c >= 0xF0 && c <= 0xF4) {
		len = 4;
		cp = c & 0x07;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3F);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
	    (cp >= 0xD800 && cp <= 0xDFFF))
		return 0;
	return len;
}

static bool write_string(struct dd_buf *b, const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	dd_buf_putc(b, '"');
	size_t run = 0;
	for (size_t i = 0; i < n;) {
		unsigned char c = s[i];
		if (c >= 0x80) {
			size_t l = utf8_len(s + i, n - i);
			if (!l)
				return false;
			i += l;
			continue;
		}
		if (c >= 0x20 && c != '"' && c != '\\') {
			i++;
			continue;
		}
		dd_buf_append(b, s + run, i - run);
		char esc[8];
		switch (c) {
		case '"': memcpy(esc, "\\\"", 3); break;
		case '\\': memcpy(esc, "\\\\", 3); break;
		case '\b': memcpy(esc, "\\b", 3); break;
		case '\f': memcpy(esc, "\\f", 3); break;
		case '\n': memcpy(esc, "\\n", 3); break;
		case '\r': memcpy(esc, "\\r", 3); break;
		case '\t': memcpy(esc, "\\t", 3); break;
		default: snprintf(esc, sizeof esc, "\\u%04X", c); break;
		}
		dd_buf_puts(b, esc);
		run = ++i;
	}
	dd_buf_append(b, s + run, n - run);
	dd_buf_putc(b, '"');
	return true;
}

static bool write_value(struct dd_buf *b, const json_t *v, int depth)
{
	if (depth > MAX_DEPTH)
		return false;
	switch (json_typeof(v)) {
	case JSON_OBJECT: {
		dd_buf_putc(b, '{');
		const char *key;
		size_t key_len;
		json_t *val;
		bool first = true;
		/* the foreach macro takes a non-const object; nothing is changed */
		json_t *o = (json_t *)v;
		json_object_keylen_foreach (o, key, key_len, val) {
			if (!first)
				dd_buf_putc(b, ',');
			first = false;
			if (!write_string(b, key, key_len))
				return false;
			dd_buf_putc(b, ':');
			if (!write_value(b, val, depth + 1))
				return false;
		}
		dd_buf_putc(b, '}');
		return true;
	}
	case JSON_ARRAY: {
		dd_buf_putc(b, '[');
		for (size_t i = 0; i < json_array_size(v); i++) {
			if (i)
				dd_buf_putc(b, ',');
			if (!write_value(b, json_array_get(v, i), depth + 1))
				return false;
		}
		dd_buf_putc(b, ']');
		return true;
	}
	case JSON_STRING:
		return write_string(b, json_string_value(v), json_string_length(v));
	case JSON_INTEGER: {
		char num[32];
		int n = snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		dd_buf_append(b, num, (size_t)n);
		return true;
	}
	case JSON_REAL: {
		char *t = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT | JSON_REAL_PRECISION(17));
		if (!t)
			return false;
		dd_buf_puts(b, t);
		free(t);
		return true;
	}
	case JSON_TRUE:
		dd_buf_puts(b, "true");
		return true;
	case JSON_FALSE:
		dd_buf_puts(b, "false");
		return true;
	case JSON_NULL:
		dd_buf_puts(b, "null");
		return true;
	}
	return false;
}

char *dd_json_write(const json_t *v, size_t *len)
{
	struct dd_buf b;
	dd_buf_init(&b, (size_t)1 << 30);
	if (!v || !write_value(&b, v, 0) || b.failed) {
		dd_buf_free(&b);
		return NULL;
	}
	*len = b.len;
	return dd_buf_take(&b);
}

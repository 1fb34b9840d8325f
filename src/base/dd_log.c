/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Logging to stderr with a level threshold (as text lines, or one JSON object a line
 * with --log-format json). Logging is thread-safe: each line is formatted into a local
 * buffer and written with one write(2).
 */
#include "dd/common.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile int log_level = DD_LOG_INFO;
static volatile int log_json;

void dd_log_set_level(enum dd_log_level level) { log_level = (int)level; }
enum dd_log_level dd_log_get_level(void) { return (enum dd_log_level)log_level; }

int dd_log_parse_level(const char *name, enum dd_log_level *out)
{
	static const char *const names[] = { "error", "warn", "info", "debug" };
	for (int i = 0; i < 4; i++) {
		if (name && strcmp(name, names[i]) == 0) {
			*out = (enum dd_log_level)i;
			return 0;
		}
	}
	return DD_EINVAL;
}

void dd_log_set_json(bool json) { log_json = json; }

/* Appends s to line[*n..cap) as JSON string content (without quotes), truncating. */
static void json_esc(char *line, size_t cap, size_t *n, const char *s)
{
	for (; *s && *n + 8 < cap; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\') {
			line[(*n)++] = '\\';
			line[(*n)++] = (char)ch;
		} else if (ch < 0x20) {
			*n += (size_t)snprintf(line + *n, cap - *n, "\\u%04x", ch);
		} else {
			line[(*n)++] = (char)ch;
		}
	}
}

static size_t stamp(char *line, size_t cap)
{
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	int n = snprintf(line, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900, tm.tm_mon + 1,
			 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000);
	return n > 0 ? (size_t)n : 0;
}

static void emit(char *line, size_t len, size_t cap)
{
	if (len > cap - 2)
		len = cap - 2;
	line[len++] = '\n';
	ssize_t w = write(STDERR_FILENO, line, len);
	(void)w;
}

static void vlog(int level, const char *tag, const char *fmt, va_list ap) __attribute__((format(printf, 3, 0)));
static void vlog(int level, const char *tag, const char *fmt, va_list ap)
{
	if (level > log_level)
		return;
	char line[2048];
	char msg[1800];
	int m = vsnprintf(msg, sizeof msg, fmt, ap);
	if (m < 0)
		return;
	size_t n;
	if (log_json) {
		n = (size_t)snprintf(line, sizeof line, "{\"time\":\"");
		n += stamp(line + n, sizeof line - n);
		n += (size_t)snprintf(line + n, sizeof line - n, "\",\"level\":\"%s\",\"msg\":\"", tag);
		json_esc(line, sizeof line - 3, &n, msg);
		line[n++] = '"';
		line[n++] = '}';
	} else {
		n = stamp(line, sizeof line);
		n += (size_t)snprintf(line + n, sizeof line - n, " %s %s", tag, msg);
		if (n > sizeof line - 1)
			n = sizeof line - 1;
	}
	emit(line, n, sizeof line);
}

void dd_log_kv(enum dd_log_level level, const char *event, const char *const *kv, size_t nkv)
{
	if ((int)level > log_level)
		return;
	static const char *const tags[] = { "error", "warn", "info", "debug" };
	char line[4096];
	size_t cap = sizeof line - 4, n;
	if (log_json) {
		n = (size_t)snprintf(line, cap, "{\"time\":\"");
		n += stamp(line + n, cap - n);
		n += (size_t)snprintf(line + n, cap - n, "\",\"level\":\"%s\",\"msg\":\"%s\"", tags[level], event);
		for (size_t i = 0; i + 1 < 2 * nkv && n + 16 < cap; i += 2) {
			line[n++] = ',';
			line[n++] = '"';
			json_esc(line, cap, &n, kv[i]);
			line[n++] = '"';
			line[n++] = ':';
			line[n++] = '"';
			json_esc(line, cap, &n, kv[i + 1] ? kv[i + 1] : "");
			line[n++] = '"';
		}
		line[n++] = '}';
	} else {
		n = stamp(line, cap);
		n += (size_t)snprintf(line + n, cap - n, " %s %s", tags[level], event);
		for (size_t i = 0; i + 1 < 2 * nkv && n + 16 < cap; i += 2) {
			const char *v = kv[i + 1] && *kv[i + 1] ? kv[i + 1] : "-";
			bool quote = strpbrk(v, " \"=") != NULL;
			n += (size_t)snprintf(line + n, cap - n, " %s=%s", kv[i], quote ? "\"" : "");
			if (n >= cap)
				break;
			if (quote) {
				json_esc(line, cap, &n, v);
				line[n++] = '"';
			} else {
				for (; *v && n + 2 < cap; v++)
					line[n++] = (unsigned char)*v < 0x20 ? '?' : *v;
			}
		}
		if (n > cap)
			n = cap;
	}
	emit(line, n, sizeof line);
}

#define DEFINE_LOG(fn, level, tag)                  \
	void fn(const char *fmt, ...)               \
	{                                           \
		va_list ap;                         \
		va_start(ap, fmt);                  \
		vlog(level, tag, fmt, ap);          \
		va_end(ap);                         \
	}
DEFINE_LOG(dd_log_error, DD_LOG_ERROR, "error")
DEFINE_LOG(dd_log_warn, DD_LOG_WARN, "warn")
DEFINE_LOG(dd_log_info, DD_LOG_INFO, "info")
DEFINE_LOG(dd_log_debug, DD_LOG_DEBUG, "debug")

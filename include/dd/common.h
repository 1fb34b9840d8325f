/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Common definitions shared by every iotdefender module: the internal error codes
 * (functions return 0 or a negative DD_E*), the logging API (log once, where the
 * context is known; library code never printfs), and small helpers. The mapping of
 * internal errors to AWS error codes and HTTP statuses lives in the server layer.
 */
#ifndef DD_COMMON_H
#define DD_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#define DD_MUST_CHECK __attribute__((warn_unused_result))
#define DD_PRINTF(a, b) __attribute__((format(printf, a, b)))

enum dd_err {
	DD_OK = 0,
	DD_EINVAL = -1,     /* bad input: InvalidRequestException and friends */
	DD_ENOMEM = -2,     /* allocation failed */
	DD_ENOTFOUND = -3,  /* ResourceNotFoundException */
	DD_EEXIST = -4,     /* ResourceAlreadyExistsException */
	DD_ELIMIT = -5,     /* LimitExceededException */
	DD_ECONFLICT = -6,  /* the resource's state forbids the change */
	DD_EIO = -7,        /* store or file failure: InternalFailureException */
	DD_EDENIED = -8,    /* not authorized */
	DD_ECRYPTO = -9,    /* a cryptographic operation failed or did not verify */
	DD_EUNSUPPORTED = -10,
};

/* Returns a short English description of a DD_E* code (never NULL). */
const char *dd_strerror(int err);

enum dd_log_level { DD_LOG_ERROR = 0, DD_LOG_WARN, DD_LOG_INFO, DD_LOG_DEBUG };

/* Sets the process-wide log threshold; messages above it are dropped. */
void dd_log_set_level(enum dd_log_level level);
/* Parses "error", "warn", "info" or "debug"; returns 0 or DD_EINVAL. */
int dd_log_parse_level(const char *name, enum dd_log_level *out) DD_MUST_CHECK;
enum dd_log_level dd_log_get_level(void);

void dd_log_error(const char *fmt, ...) DD_PRINTF(1, 2);
void dd_log_warn(const char *fmt, ...) DD_PRINTF(1, 2);
void dd_log_info(const char *fmt, ...) DD_PRINTF(1, 2);
void dd_log_debug(const char *fmt, ...) DD_PRINTF(1, 2);
/* Switches every log line to one JSON object ({"time","level","msg",...}); default text. */
void dd_log_set_json(bool json);
/* A structured line: event, then nkv key=value pairs (kv holds 2*nkv strings; a NULL or
 * empty value prints as "-" in text). Text: `TIME LEVEL event k=v ...` (values with
 * spaces or quotes are quoted); JSON: each pair a string member. */
void dd_log_kv(enum dd_log_level level, const char *event, const char *const *kv, size_t nkv);

/* The version of this build (CMake's project version). */
#ifndef DD_VERSION
#define DD_VERSION "unknown"
#endif

/* Wall-clock time in milliseconds since the epoch. */
int64_t dd_time_now_ms(void);
/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar (H. Hinnant's
 * days_from_civil); linear in d, so a day past the month's end carries as timegm does. */
int64_t dd_time_days_from_civil(int64_t y, int m, int d);

/* Fills buf with n cryptographically random bytes; returns 0 or DD_ECRYPTO. */
int dd_random_bytes(void *buf, size_t n) DD_MUST_CHECK;
/* A random version-4 UUID in its text form (thing ids, group ids, generation ids). */
void dd_random_uuid(char out[37]);
/* Writes 2*n lowercase hex characters and a NUL to out (size >= 2*n+1). */
void dd_hex_encode(const unsigned char *in, size_t n, char *out);
/* Lowercase hex SHA-256 of data into out[65]. */
void dd_hex_sha256(const void *data, size_t len, char out[65]);

/* Copies src into dst[size] (size >= 1), cut to fit and NUL-terminated, as
 * snprintf(dst, size, "%s", src) does without its format machinery; returns strlen(src)
 * (a result >= size means it was cut). A NULL src copies "". */
size_t dd_str_copy(char *dst, size_t size, const char *src);

/* Parses a base-10 integer in [min,max] from the whole string s. Returns 0 or DD_EINVAL. */
int dd_parse_int64(const char *s, int64_t min, int64_t max, int64_t *out) DD_MUST_CHECK;

#endif

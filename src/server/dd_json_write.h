/* SPDX-License-Identifier: Apache-2.0 */
/* Compact JSON text of a jansson value, written straight into one buffer. */
#ifndef DD_SERVER_JSON_WRITE_H
#define DD_SERVER_JSON_WRITE_H

#include <jansson.h>

#include "dd/common.h"

/* The same text as json_dumps(v, JSON_COMPACT | JSON_REAL_PRECISION(17)) (objects in their
 * insertion order), as a NUL-terminated string to free() with its length in *len; NULL
 * when memory runs out, a string is not UTF-8, or v nests deeper than 2,048 levels. */
char *dd_json_write(const json_t *v, size_t *len);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Bounded string copy for the request path, where snprintf(dst, size, "%s", src) ran a
 * dozen times per request through the whole printf machinery.
 */
#include "dd/common.h"

#include <string.h>

size_t dd_str_copy(char *dst, size_t size, const char *src)
{
	if (!src)
		src = "";
	size_t n = strlen(src);
	size_t k = n < size ? n : size - 1;
	memcpy(dst, src, k);
	dst[k] = '\0';
	return n;
}

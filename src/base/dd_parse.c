/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Bounded number parsing: the whole string must be a decimal integer within [min, max].
 */
#include "dd/common.h"

#include <errno.h>
#include <stdlib.h>

int dd_parse_int64(const char *s, int64_t min, int64_t max, int64_t *out)
{
	if (!s || !*s)
		return DD_EINVAL;
	errno = 0;
	char *end = NULL;
	long long v = strtoll(s, &end, 10);
	if (errno || !end || *end || v < min || v > max)
		return DD_EINVAL;
	*out = (int64_t)v;
	return 0;
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the dynamic thing group query language (dd__query_match, the
 * fleet-indexing subset CreateDynamicThingGroup accepts). The input is split on NUL bytes
 * into: query, thing name, thing type name, attributes as a JSON object. The query is
 * checked as CreateDynamicThingGroup does (empty thing) and then evaluated against the
 * thing.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "api/dd_api_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 4096)
		return 0;
	char *copy = malloc(size + 1);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	copy[size] = '\0';
	const char *part[4] = { "", "thing1", NULL, NULL };
	size_t off = 0;
	for (int i = 0; i < 4 && off <= size; i++) {
		part[i] = copy + off;
		off += strlen(copy + off) + 1;
	}
	json_t *attrs = part[3] ? json_loads(part[3], 0, NULL) : NULL;
	char err[256];
	int valid = dd__query_match(part[0], "", NULL, NULL, err, sizeof err);
	int m = dd__query_match(part[0], part[1], part[2], attrs, err, sizeof err);
	/* validity does not depend on the thing evaluated */
	if ((valid < 0) != (m < 0))
		abort();
	json_decref(attrs);
	free(copy);
	return 0;
}

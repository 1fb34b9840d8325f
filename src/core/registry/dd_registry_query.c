/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dd_registry_query.h over the one fleet-indexing parser and evaluator (dd_index.h).
 */
#include "core/registry/dd_registry_query.h"

#include <stdint.h>

#include "core/registry/dd_index.h"

int dd_registry_query_match(const char *query, const char *thing_name, const char *type_name,
			    dd_registry_query_attr_fn attr, void *ud, char *err, size_t errlen)
{
	struct dd_index_query *q;
	int rc = dd_index_group_query_parse(query, &q, err, errlen);
	if (rc)
		return rc;
	rc = dd_index_group_query_match(q, thing_name, NULL, type_name, INT64_MIN, attr, ud);
	dd_index_query_free(q);
	return rc;
}

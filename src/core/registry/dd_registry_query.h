/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The fleet-indexing query subset dynamic thing groups use, evaluated against one thing:
 * `field:value` (with * wildcards and "quoted" values), `field<n`, `field<=n`, `field>n`,
 * `field>=n`, AND / OR / NOT, parentheses and implicit AND; fields thingName,
 * thingTypeName and attributes.<name>. Whether a query parses never depends on the thing
 * (a comparison's value must be a number), so a query checked once never fails later.
 */
#ifndef DD_REGISTRY_QUERY_H
#define DD_REGISTRY_QUERY_H

#include <stddef.h>

/* The value of attribute name of the thing evaluated, or NULL when it has none. */
typedef const char *(*dd_registry_query_attr_fn)(const char *name, void *ud);

/* Evaluates query against a thing (type_name NULL: none; attr NULL: no attributes).
 * Returns 1 match, 0 no match, or DD_EINVAL for a query that does not parse (err set). */
int dd_registry_query_match(const char *query, const char *thing_name, const char *type_name,
			    dd_registry_query_attr_fn attr, void *ud, char *err, size_t errlen);

#endif

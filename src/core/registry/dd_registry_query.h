/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One-shot evaluation of a dynamic thing group query against one thing: parse
 * (dd_index_group_query_parse, the fleet-indexing grammar of dd_index_query.h restricted
 * to registry fields) and match. For callers that evaluate one query once (checks, tests,
 * the fuzz target); dd_registry_groups.c parses once and matches many things. Whether a
 * query parses never depends on the thing, so a query checked once never fails later.
 */
#ifndef DD_REGISTRY_QUERY_H
#define DD_REGISTRY_QUERY_H

#include <stddef.h>

/* The value of attribute name of the thing evaluated, or NULL when it has none. */
typedef const char *(*dd_registry_query_attr_fn)(const char *name, void *ud);

/* Evaluates query against a thing (type_name NULL: none; attr NULL: no attributes; the
 * thing's id and version are unknown here: thingId and registry.version never match).
 * Returns 1 match, 0 no match, DD_EINVAL for a query that does not parse (err set), or
 * DD_ENOMEM. */
int dd_registry_query_match(const char *query, const char *thing_name, const char *type_name,
			    dd_registry_query_attr_fn attr, void *ud, char *err, size_t errlen);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fleet indexing: the indexing configuration of an account and region, and searches and
 * aggregations over its two indexes, AWS_Things (things with their type, groups,
 * attributes, registry version and, when indexed, connectivity from the broker's
 * connection events) and AWS_ThingGroups. Queries use the one grammar of
 * dd_index_query.h; which fields a query may name follows the configuration (managed
 * fields of the enabled modes, attributes.*, typed custom fields). Device shadows and
 * Device Defender violations are not kept by this server, so their fields are answered
 * as not indexed. An index whose mode is OFF does not exist (DD_ENOTFOUND). Searches read
 * the store as it is when called (no index is built ahead); results are in name order.
 * Functions return 0 or a negative DD_E* with a message: DD_ENOTFOUND (no such index),
 * DD_EINVAL (bad query or configuration), DD_EIO (store), DD_ENOMEM.
 */
#ifndef DD_INDEX_H
#define DD_INDEX_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/registry/dd_index_query.h"
#include "dd/common.h"

struct dd_db;

#define DD_INDEX_THINGS "AWS_Things"
#define DD_INDEX_GROUPS "AWS_ThingGroups"
#define DD_INDEX_MAX_CUSTOM_FIELDS 100

/* The fields an index manages, by what enables them. */
enum dd_index_needs { DD_INDEX_NEEDS_REGISTRY, DD_INDEX_NEEDS_SHADOW, DD_INDEX_NEEDS_CONNECTIVITY, DD_INDEX_NEEDS_GROUPS };
struct dd_index_managed {
	const char *name;
	enum dd_index_type type;
	enum dd_index_needs needs;
};
/* NULL-name-terminated; the thing index's fields, then the thing group index's. */
extern const struct dd_index_managed dd_index_managed_fields[];
const char *dd_index_type_name(enum dd_index_type t); /* "Number", "String", "Boolean" */

/* The stored configuration as JSON text ({"thingIndexingConfiguration": {...},
 * "thingGroupIndexingConfiguration": {...}}, without managed fields) into *text (caller
 * frees); NULL when never set (everything OFF). */
int dd_index_config_get(struct dd_db *db, const char *account_region, char **text) DD_MUST_CHECK;
/* Checks AWS's rules on the given parts (either may be NULL: that part is kept) and
 * stores them: modes that need thing indexing, custom fields (name and type, no
 * duplicates, not a managed field, at most DD_INDEX_MAX_CUSTOM_FIELDS), the named shadow
 * filter. DD_EINVAL with msg naming the member. Call inside a write transaction. */
int dd_index_config_put(struct dd_db *db, const char *account_region, json_t *thing_cfg, json_t *group_cfg, char *msg,
			size_t msglen) DD_MUST_CHECK;

/* The schema of an index that is on ("REGISTRY", "REGISTRY_AND_SHADOW", either with
 * "_AND_CONNECTIVITY_STATUS"; "THING_GROUPS") into schema. DD_ENOTFOUND when the index
 * is off or unknown. */
int dd_index_schema(struct dd_db *db, const char *account_region, const char *index, char *schema,
		    size_t len) DD_MUST_CHECK;

/* A search result of AWS_Things; pointers valid during the callback. */
struct dd_index_thing_doc {
	const char *name, *id;
	const char *type;              /* NULL when none */
	const char *attributes;        /* JSON object text */
	int64_t version;
	const char *const *groups;
	size_t ngroups;
	bool connectivity;             /* connectivity is indexed: the next three are set */
	bool connected;
	int64_t conn_ms;               /* 0 when the thing never connected */
	const char *disconnect_reason; /* NULL when none */
};
/* A search result of AWS_ThingGroups. */
struct dd_index_group_doc {
	const char *name, *id;
	const char *description;       /* NULL when none */
	const char *attributes;        /* JSON object text */
	const char *const *parents;    /* from the direct parent to the root */
	size_t nparents;
};
/* Result callbacks: nonzero stops the search (a positive value is no error). */
typedef int (*dd_index_thing_fn)(const struct dd_index_thing_doc *d, void *ud);
typedef int (*dd_index_group_fn)(const struct dd_index_group_doc *d, void *ud);

/* The documents of index matching query with a name after `after` ("" from the start),
 * in name order, until a callback returns nonzero. Exactly one of thing_fn / group_fn is
 * called, as index says. */
int dd_index_search(struct dd_db *db, const char *account_region, const char *index, const char *query,
		    const char *after, dd_index_thing_fn thing_fn, dd_index_group_fn group_fn, void *ud, char *msg,
		    size_t msglen) DD_MUST_CHECK;

/* The values of field over the documents of index matching query. */
struct dd_index_values {
	enum dd_index_type type;  /* the field's type */
	int64_t matched;          /* documents matching the query */
	int64_t with_field;       /* of those, documents having the field */
	char **v;                 /* every value of the field (a multi-valued field gives several) */
	size_t n, cap;
};
void dd_index_values_clear(struct dd_index_values *vals);
/* Fills *out (clear it afterwards; a number field keeps only values that are numbers).
 * field NULL: only the count of matching documents. DD_ENOTFOUND (no index), DD_EINVAL
 * (bad query), DD_ECONFLICT (a field that cannot be aggregated: not indexed or unknown). */
int dd_index_collect(struct dd_db *db, const char *account_region, const char *index, const char *query,
		     const char *field, struct dd_index_values *out, char *msg, size_t msglen) DD_MUST_CHECK;

/* GetStatistics over collected values: numbers give every statistic over the values
 * that are numbers; strings and booleans give the count of documents with the field
 * (numeric false). Population variance. */
struct dd_index_stats {
	bool numeric;
	int64_t count;
	double average, sum, minimum, maximum, sum_of_squares, variance, std_deviation;
};
void dd_index_statistics(const struct dd_index_values *vals, bool whole_documents, struct dd_index_stats *out);
/* Distinct values. */
int64_t dd_index_cardinality(const struct dd_index_values *vals);
/* The p-th percentiles (0..100) of the numeric values, linear between closest ranks;
 * false when there are no numeric values. */
bool dd_index_percentile(const struct dd_index_values *vals, double p, double *out);
/* Terms aggregation: each distinct value with its count, most frequent first (ties by
 * value), at most max; fn gets them in order. */
typedef int (*dd_index_bucket_fn)(const char *key, int64_t count, void *ud);
int dd_index_buckets(const struct dd_index_values *vals, int max, dd_index_bucket_fn fn, void *ud) DD_MUST_CHECK;

/* ---- dynamic thing groups: the same grammar over a thing's registry fields ---- */

/* Parses a dynamic thing group query: registry fields only (thingName, thingId,
 * thingTypeName, registry.version, attributes.*). 0 with *out, DD_EINVAL with err. */
int dd_index_group_query_parse(const char *query, struct dd_index_query **out, char *err, size_t errlen) DD_MUST_CHECK;
/* The value of attribute name of the thing evaluated, or NULL when it has none. */
typedef const char *(*dd_index_attr_fn)(const char *name, void *ud);
/* Does the thing match q (parsed by dd_index_group_query_parse)? id and type may be NULL
 * and version negative: unknown. */
bool dd_index_group_query_match(const struct dd_index_query *q, const char *thing, const char *id, const char *type,
				int64_t version, dd_index_attr_fn attr, void *ud);

#endif

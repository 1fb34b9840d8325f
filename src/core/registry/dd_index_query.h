/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The fleet-indexing query language: one grammar and one evaluator for SearchIndex, the
 * index aggregations and dynamic thing groups. A query is parsed once into an opaque tree
 * against a field resolver (which fields exist and their types: the indexing configuration
 * decides), then evaluated against any number of documents through a value callback.
 * Whether a query parses depends on the text and the resolver only, never on a document,
 * so a query that parsed never fails later.
 *
 *   query := or
 *   or    := and (OR and)*
 *   and   := unary ((AND)? unary)*          implicit AND between terms
 *   unary := NOT unary | '(' or ')' | term
 *   term  := field ':' value | field ':' '*' | field ':' range | field cmp scalar
 *   value := "quoted phrase" | word with * and ? wildcards (\ escapes one character)
 *   range := ('[' | '{') bound TO bound (']' | '}')     [ ] inclusive, { } exclusive,
 *            bound := scalar | *                       * unbounded
 *   cmp   := < | <= | > | >=
 *
 * Numbers compare as numbers; strings compare byte-wise, except that a string value and a
 * bound that both read as numbers compare as numbers (attributes are strings, and
 * `attributes.temp>50` means the number). A multi-valued field (thingGroupNames) matches
 * when any of its values does; NOT of a term matches a document without the field.
 * Parsing is bounded: DD_INDEX_QUERY_MAX_LEN bytes, DD_INDEX_QUERY_MAX_DEPTH nested
 * parentheses / NOT, DD_INDEX_QUERY_MAX_TERMS terms.
 */
#ifndef DD_INDEX_QUERY_H
#define DD_INDEX_QUERY_H

#include <stdbool.h>
#include <stddef.h>

#include "dd/common.h"

#define DD_INDEX_QUERY_MAX_LEN 4096
#define DD_INDEX_QUERY_MAX_DEPTH 32
#define DD_INDEX_QUERY_MAX_TERMS 128

enum dd_index_type {
	DD_INDEX_STRING = 1,
	DD_INDEX_NUMBER,
	DD_INDEX_BOOLEAN,
};

/* Resolves a field name to its type. Returns 0, or DD_EINVAL with err naming why the
 * field cannot be queried (not indexed, unknown). */
typedef int (*dd_index_field_fn)(const char *field, enum dd_index_type *type, char *err, size_t errlen, void *ud);

/* The values of field in the document evaluated: up to max pointers into out (valid until
 * the evaluation returns); returns how many the document has (0: it lacks the field).
 * Numbers and booleans are given as text ("42", "true"). */
typedef size_t (*dd_index_values_fn)(const char *field, const char **out, size_t max, void *ud);

struct dd_index_query;

/* Parses text. On success *out owns the tree (dd_index_query_free). Returns 0, DD_EINVAL
 * with err ("... at position N") for a query that does not parse or names a field the
 * resolver refuses, or DD_ENOMEM. */
int dd_index_query_parse(const char *text, dd_index_field_fn resolve, void *ud, struct dd_index_query **out,
			 char *err, size_t errlen) DD_MUST_CHECK;
void dd_index_query_free(struct dd_index_query *q);

/* Does the document given by values match q? 1 or 0. */
int dd_index_query_match(const struct dd_index_query *q, dd_index_values_fn values, void *ud);

/* Reads text as a decimal number (optional sign, digits, fraction, exponent; no hex, inf
 * or nan). True with *out set, or false. */
bool dd_index_query_number(const char *text, double *out);

#endif

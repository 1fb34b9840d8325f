/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the fleet-indexing query parser and evaluator
 * (core/registry/dd_index_query.h), the one grammar of SearchIndex, the aggregations and
 * dynamic thing groups. Input: the query, a NUL, then the document as "field=value"
 * lines (a field may repeat: a multi-valued field). Fields are typed by their name, so
 * every type is reached: num.* and registry.version are numbers, bool.* and
 * connectivity.connected booleans, others strings; fields starting with "x." are refused
 * (as a field that is not indexed). Checks: parsing is deterministic and never accepts
 * more than the bounds allow; an accepted query evaluates to 0 or 1, and NOT (query)
 * parses (unless at the depth limit) and evaluates to the opposite; a refused query's
 * message names an offset.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/registry/dd_index_query.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int resolve(const char *field, enum dd_index_type *type, char *err, size_t errlen, void *ud)
{
	(void)ud;
	if (!strncmp(field, "x.", 2)) {
		snprintf(err, errlen, "field %s is not indexed", field);
		return DD_EINVAL;
	}
	if (!strncmp(field, "num.", 4) || !strcmp(field, "registry.version"))
		*type = DD_INDEX_NUMBER;
	else if (!strncmp(field, "bool.", 5) || !strcmp(field, "connectivity.connected"))
		*type = DD_INDEX_BOOLEAN;
	else
		*type = DD_INDEX_STRING;
	return 0;
}

struct doc {
	char *name[16], *value[16];
	size_t n;
};

static size_t values(const char *field, const char **out, size_t max, void *ud)
{
	struct doc *d = ud;
	size_t k = 0;
	for (size_t i = 0; i < d->n && k < max; i++)
		if (!strcmp(d->name[i], field))
			out[k++] = d->value[i];
	return k;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 8192)
		return 0;
	char *copy = malloc(size + 1);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	copy[size] = '\0';
	const char *query = copy;
	size_t qlen = strlen(copy);
	struct doc d = { .n = 0 };
	char *p = qlen < size ? copy + qlen + 1 : copy + size;
	while (*p && d.n < 16) {
		char *nl = strchr(p, '\n');
		if (nl)
			*nl = '\0';
		char *eq = strchr(p, '=');
		if (eq) {
			*eq = '\0';
			d.name[d.n] = p;
			d.value[d.n++] = eq + 1;
		}
		if (!nl)
			break;
		p = nl + 1;
	}
	char err[256] = "", err2[256] = "";
	struct dd_index_query *q = NULL, *q2 = NULL;
	int rc = dd_index_query_parse(query, resolve, NULL, &q, err, sizeof err);
	int rc2 = dd_index_query_parse(query, resolve, NULL, &q2, err2, sizeof err2);
	if (rc != rc2 || (rc == DD_EINVAL && strcmp(err, err2)))
		abort(); /* parsing is deterministic */
	if (rc == DD_EINVAL && !strstr(err, "Invalid query: "))
		abort();
	if (!rc) {
		if (qlen > DD_INDEX_QUERY_MAX_LEN)
			abort();
		int m = dd_index_query_match(q, values, &d);
		if (m != 0 && m != 1)
			abort();
		char *neg = malloc(qlen + 8);
		if (neg) {
			snprintf(neg, qlen + 8, "NOT (%s)", query);
			struct dd_index_query *nq = NULL;
			int nrc = dd_index_query_parse(neg, resolve, NULL, &nq, err, sizeof err);
			if (!nrc && dd_index_query_match(nq, values, &d) != !m)
				abort();
			/* only the bounds can refuse the negation of a query that parsed */
			if (nrc == DD_EINVAL && !strstr(err, "nested") && !strstr(err, "longer") && !strstr(err, "too many"))
				abort();
			dd_index_query_free(nq);
			free(neg);
		}
	}
	dd_index_query_free(q);
	dd_index_query_free(q2);
	free(copy);
	return 0;
}

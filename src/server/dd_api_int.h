/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Internal entry points of the dispatcher (dd_api.c) exposed for the fuzz targets and
 * unit tests; not used by other modules.
 */
#ifndef DD_SERVER_API_INT_H
#define DD_SERVER_API_INT_H

#include "dd/ctx.h"

/* The awsQuery body splitter: an x-www-form-urlencoded body into decoded pairs (at most
 * 10,000), as dd_api_handle uses it. Returns 0 or a DD_E* code; *out (also on failure)
 * is freed with dd__api_free_kv. */
int dd__api_parse_form(const unsigned char *body, size_t len, struct dd_kv **out, size_t *n) DD_MUST_CHECK;
void dd__api_free_kv(struct dd_kv *kv, size_t n);

#endif

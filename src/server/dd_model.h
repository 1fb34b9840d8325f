/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The botocore service models, embedded and trimmed (dd_models_data.c), drive the wire
 * protocols: restJson1 routing (method + URI template), binding of path labels, query
 * strings, headers, bodies and awsQuery forms into one JSON input object, validation of
 * that input against the model (required, types, enums, lengths, ranges, patterns), and
 * the XML serialization of awsQuery outputs. Models are loaded once and then read-only.
 */
#ifndef DD_SERVER_MODEL_H
#define DD_SERVER_MODEL_H

#include <jansson.h>

#include "dd/buf.h"
#include "dd/common.h"
#include "dd/ctx.h"
#include "server/dd_awserr.h"

struct dd_model_source {
	const char *service;
	const char *json;
	size_t len;
};
extern const struct dd_model_source dd_model_sources[];

struct dd_model;
struct dd_model_op;

/* Parses every embedded model. Call once at start; returns 0 or DD_EINVAL. */
int dd_models_load(void) DD_MUST_CHECK;
void dd_models_free(void);

/* The model of a service by its signing name ("iot", "iam", "sns", "cognito-identity"). */
const struct dd_model *dd_model_get(const char *service);
enum dd_protocol dd_model_protocol(const struct dd_model *m);
const char *dd_model_xml_namespace(const struct dd_model *m);
const char *dd_model_target_prefix(const struct dd_model *m);
/* The model's apiVersion (e.g. "2010-05-08"), "" when absent. */
const char *dd_model_api_version(const struct dd_model *m);

const struct dd_model_op *dd_model_op_find(const struct dd_model *m, const char *name);
const char *dd_model_op_name(const struct dd_model_op *op);
/* restJson1: the operation for method + path (raw, still percent-encoded), preferring
 * the template with the most literal segments. Sets each URI label, decoded, in labels.
 * *method_mismatch is set when the path matched some template under another method. */
const struct dd_model_op *dd_model_route(const struct dd_model *m, const char *method,
					 const char *raw_path, json_t *labels,
					 bool *method_mismatch);

/* The full route table of a service's model (dd_iot_routes_data.c, generated), served
 * operations or not: recognises a real operation the trimmed model lacks. */
struct dd_model_route_name {
	const char *method;
	const char *uri;   /* template, without any query part */
	const char *op;
};
extern const struct dd_model_route_name dd_iot_all_routes[];
/* The operation of the full IoT model for method + path (raw), preferring the template
 * with the most literal segments (as dd_model_route); NULL when none matches. */
const char *dd_model_route_any_iot(const char *method, const char *raw_path);

/* Header lookup callback for binding header members. */
typedef const char *(*dd_header_fn)(void *ud, const char *name);

/* restJson1: builds the operation's input from the URI labels, the query parameters, the
 * headers and the parsed JSON body (may be NULL), then validates it. On success *out is
 * a new reference. On failure returns DD_EINVAL and err names the member and problem. */
int dd_model_bind_rest(const struct dd_model_op *op, json_t *labels, const struct dd_kv *query,
		       size_t nquery, dd_header_fn header, void *ud, json_t *body, json_t **out,
		       char *err, size_t errlen) DD_MUST_CHECK;
/* awsQuery: builds and validates the input from the decoded form parameters. */
int dd_model_bind_query(const struct dd_model_op *op, const struct dd_kv *form, size_t nform,
			json_t **out, char *err, size_t errlen) DD_MUST_CHECK;
/* awsJson1_1: validates a parsed body in place. */
int dd_model_validate_input(const struct dd_model_op *op, json_t *input, char *err,
			    size_t errlen) DD_MUST_CHECK;
/* awsQuery: serializes the output as <OpResponse><OpResult>…</OpResult><ResponseMetadata>. */
int dd_model_xml_response(const struct dd_model *m, const struct dd_model_op *op,
			  json_t *output, const char *request_id, struct dd_buf *xml);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The API dispatcher, independent of the HTTP library: authenticates a request with
 * SigV4, picks the service from the credential scope, binds and validates the input with
 * the service's model, calls the handler, and encodes the result or error in the
 * service's protocol (restJson1, awsQuery XML, awsJson1_1).
 */
#ifndef DD_SERVER_API_H
#define DD_SERVER_API_H

#include "dd/ctx.h"
#include "dd/service.h"
#include "server/dd_creds.h"
#include "server/dd_model.h"

struct dd_http_request {
	const char *method;
	const char *raw_path;     /* percent-encoded as received, without the query */
	struct dd_kv *query;      /* decoded query parameters */
	size_t nquery;
	dd_header_fn header;      /* case-insensitive */
	void *ud;
	const unsigned char *body;
	size_t body_len;
	const char *source_ip;    /* the peer's address (aws:SourceIp), or NULL when unknown */
	/* what dd_api_preauth decided from this request's headers (the key, its account and
	 * secret), reused by dd_api_handle instead of deciding it again; NULL: decide it */
	const struct dd_api_auth *auth;
};

struct dd_api_auth;
/* Frees what dd_api_preauth returned (NULL is a no-op). */
void dd_api_auth_free(struct dd_api_auth *a);

struct dd_http_response {
	int status;
	char *body;               /* owned (malloc) */
	size_t body_len;
	const char *content_type;
	const char *error_type;   /* x-amzn-ErrorType, or NULL */
	char *headers;            /* owned (malloc) extra "Name: value\n" lines, or NULL */
	char request_id[37];
	/* for the access log and metrics (never secrets): "" when not known */
	char service[32];         /* a service this endpoint serves */
	char operation[64];       /* a model operation name or a route of ours */
	char account[16];
	char access_key[32];      /* the key id named by the signature (sanitized) */
	char auth_reason[200];    /* why authentication refused the request */
};

struct dd_api {
	struct dd_service *svc;
	const struct dd_creds *creds;
	int64_t (*clock_s)(void); /* for SigV4 skew; NULL: wall clock */
	const char *metrics_token; /* bearer token of GET /metrics; NULL: /metrics is 404 */
};

/* Handler tables of each family, NULL-terminated arrays. */
extern const struct dd_handler dd_iot_audit_handlers[];
extern const struct dd_raw_route dd_iot_audit_raw_routes[];
extern const struct dd_handler dd_iot_things_handlers[];
extern const struct dd_handler dd_iot_groups_handlers[];
extern const struct dd_handler dd_iot_types_handlers[];
extern const struct dd_handler dd_iot_billing_handlers[];
extern const struct dd_handler dd_iot_indexing_handlers[];
extern const struct dd_handler dd_iot_principals_handlers[];
extern const struct dd_handler dd_iot_certs_handlers[];
extern const struct dd_raw_route dd_iot_certs_raw_routes[];
extern const struct dd_handler dd_iot_mitigation_handlers[];
extern const struct dd_handler dd_iam_handlers[];
extern const struct dd_handler dd_iam_users_handlers[];
extern const struct dd_handler dd_sns_handlers[];
extern const struct dd_handler dd_cognito_handlers[];
extern const struct dd_handler dd_iot_broker_handlers[];
extern const struct dd_public_route dd_sns_public_routes[];
/* src/api: IoT policies and thing principals, role aliases, logging options, tags,
 * DescribeEndpoint, the connection-events route, topic rules, domain configurations */
extern const struct dd_handler dd_iot_policies_handlers[];
extern const struct dd_handler dd_iot_role_aliases_handlers[];
extern const struct dd_handler dd_iot_logging_handlers[];
extern const struct dd_handler dd_iot_tags_handlers[];
extern const struct dd_handler dd_iot_endpoint_handlers[];
extern const struct dd_raw_route dd_iot_ingest_raw_routes[];
extern const struct dd_handler dd_iot_rules_handlers[];
extern const struct dd_handler dd_iot_domains_handlers[];
extern const struct dd_handler dd_iot_jobs_handlers[];

/* The body limit of a request answered without a signature (Cognito GetId and the like). */
#define DD_API_UNSIGNED_MAX_BODY (64u << 10)

/* Decides from the request line, query and headers alone (req->body is not read) whether
 * the body may be read: true for the unsigned routes and for a request signed by a known
 * key at a fresh date, with *max_body its body limit; false with resp filled with the
 * error to send at once (caller frees resp->body). dd_api_handle still verifies the
 * signature over the whole request. When auth is not NULL and the request is signed, *auth
 * receives what was decided (owned: dd_api_auth_free), for req->auth of the same
 * request's dd_api_handle; else *auth is NULL. */
bool dd_api_preauth(struct dd_api *api, const struct dd_http_request *req, struct dd_http_response *resp,
		    size_t *max_body, struct dd_api_auth **auth);
/* Fills resp (caller frees resp->body). Never fails: errors become AWS error responses. */
void dd_api_handle(struct dd_api *api, const struct dd_http_request *req, struct dd_http_response *resp);
/* An error response in the given protocol (used by the HTTP layer for 413 and the like). */
void dd_api_error_response(enum dd_protocol proto, int status, const char *code, const char *msg,
			   struct dd_http_response *resp);
/* Calls an operation in-process, as an authenticated request of account would: the input
 * is validated against the model, then the handler runs. On success *out is the output
 * (NULL for an empty one) and 0 is returned; otherwise the error code and message are
 * written to err ("Code: message") and a DD_E* code is returned (DD_EUNSUPPORTED when no
 * handler serves the operation). */
int dd_api_call(struct dd_service *svc, const char *account, const char *region, const char *service,
		const char *op, json_t *in, json_t **out, char *err, size_t errlen) DD_MUST_CHECK;

/* Who calls through dd_api_call_as: an account's root (user NULL) or one of its IAM
 * users. Every pointer is borrowed for the call. */
struct dd_api_caller {
	const char *account;   /* 12 digits */
	const char *user;      /* IAM user name, or NULL for the root */
	const char *user_id;   /* AIDA…, with user */
	const char *source_ip; /* aws:SourceIp, or NULL */
};

/* dd_api_call as caller: for an IAM user the operation is first authorized by its
 * identity policies exactly as a signed request of that user would be (after input
 * validation, iam:PassRole included), on the service clock. A denial returns DD_EDENIED
 * with err "AccessDeniedException: User: arn:… is not authorized to perform: …" (AWS's
 * code of the service's protocol: AccessDenied for iam and sts, AuthorizationError for
 * sns). */
int dd_api_call_as(struct dd_service *svc, const struct dd_api_caller *caller, const char *region,
		   const char *service, const char *op, json_t *in, json_t **out, char *err,
		   size_t errlen) DD_MUST_CHECK;

/* AWS's code of an authorization refusal in service's protocol. */
const char *dd_api_denied_code(const char *service, enum dd_protocol proto);

/* GET /metrics (dd_api_metrics.c): 404 without a configured token, 401 without the
 * right bearer token, else the Prometheus text exposition. */
void dd_api_metrics(struct dd_api *api, const struct dd_http_request *req, struct dd_http_response *resp);

/* A new random request id (UUID v4 text). */
void dd_api_request_id(char out[37]);

#endif

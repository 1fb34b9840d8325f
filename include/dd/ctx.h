/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The request context every API handler receives, and the handler table type. The
 * server layer authenticates, binds and validates the input against the AWS model, then
 * calls a handler with a ctx (account, region, the thread's store connection) and the
 * input as a JSON object keyed by the model's member names. The handler returns 0 with
 * *out set to the output object (owned by the caller; NULL means an empty output), or a
 * negative DD_E* after dd_fail() recorded the AWS error code and message.
 */
#ifndef DD_CTX_H
#define DD_CTX_H

#include <jansson.h>

#include "dd/common.h"
#include "dd/region.h"
#include "dd/store.h"

struct dd_service;

/* A query-string or form parameter, decoded. */
struct dd_kv {
	char *key;
	char *value;
};

struct dd_ctx {
	struct dd_service *svc;
	struct dd_db *db;
	const char *account;     /* 12 digits, from the access key */
	const char *region;      /* from the SigV4 credential scope */
	/* "<account>/<region>": the key of regional rows; set with dd_ctx_set_account_region
	 * once account and region are set */
	char account_region[DD_ACCOUNT_REGION_SIZE];
	const char *request_id;
	int64_t now_ms;
	/* error result */
	int err;
	const char *err_code;    /* AWS error code; NULL: the protocol's default for err */
	char err_msg[1024];
	/* ResourceAlreadyExistsException's resourceId / resourceArn ("" when not set) */
	char err_resource_id[128];
	char err_resource_arn[512];
	/* the authenticated caller: an IAM user's name and id, or NULL for the account root
	 * (the credentials-file keys, and in-process calls) */
	const char *caller_user;
	const char *caller_user_id;
};

/* Sets c->account_region from c->account and c->region. Returns 0 or DD_EINVAL (see
 * dd_account_region_make). */
int dd_ctx_set_account_region(struct dd_ctx *c) DD_MUST_CHECK;

/* Records an error on c and returns err, for `return dd_fail(c, …)`. code may be NULL. */
int dd_fail(struct dd_ctx *c, int err, const char *code, const char *fmt, ...) DD_PRINTF(4, 5);

/* Same as dd_fail, and records the existing resource's id and ARN, which the error
 * body of ResourceAlreadyExistsException carries (resourceId, resourceArn). */
int dd_fail_exists(struct dd_ctx *c, const char *resource_id, const char *resource_arn, const char *fmt, ...)
	DD_PRINTF(4, 5);

typedef int (*dd_handler_fn)(struct dd_ctx *c, json_t *in, json_t **out);

struct dd_handler {
	const char *service;  /* SigV4 signing name: "iot", "iam", "sns", "cognito-identity" */
	const char *op;       /* operation name as in the botocore model */
	dd_handler_fn fn;
};

/* Handlers for our own extension routes (not in any AWS model), iot service only. The raw
 * body is passed as received. */
typedef int (*dd_raw_handler_fn)(struct dd_ctx *c, const char *body, size_t len, json_t **out);
struct dd_raw_route {
	const char *method;
	const char *path;
	dd_raw_handler_fn fn;
};

/* Routes answered WITHOUT authentication (GET only): SNS's SubscribeURL /
 * UnsubscribeURL confirmation links and SigningCertURL, which carry their own proof (a
 * token) or are public by nature. Nothing else may be added here. The handler sets
 * *status, *content_type and an owned *body. */
typedef int (*dd_public_handler_fn)(struct dd_service *svc, const struct dd_kv *query, size_t nquery,
				    int *status, const char **content_type, char **body);
struct dd_public_route {
	const char *path;
	dd_public_handler_fn fn;
};

/* Pagination tokens are opaque to clients: base64 of "v1:" + the last key returned. */
char *dd_page_token_make(const char *last_key);
/* Decodes a token into key (size keylen); DD_EINVAL for a token we did not issue. */
int dd_page_token_parse(const char *token, char *key, size_t keylen) DD_MUST_CHECK;

/* Milliseconds -> JSON epoch seconds (real). */
json_t *dd_json_time(int64_t ms);

#endif

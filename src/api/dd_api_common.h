/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Internals shared by the API handler files (the .c files of src/api): ARNs, paging over store
 * callbacks, JSON input accessors (src/api/dd_api_common.c), and the cross-resource
 * helpers (does a thing exist, group membership, tags, policy targets) that several
 * handler families need. The wire layer only: nothing below src/api/ includes it.
 */
#ifndef DD_API_COMMON_H
#define DD_API_COMMON_H

#include <jansson.h>

#include "dd/ctx.h"
#include "dd/service.h"

#include "core/registry/dd_registry_groups.h"

/* "arn:aws:iot:<region>:<account>:<resource>" into a new JSON string. */
json_t *dd__arn(struct dd_ctx *c, const char *fmt, ...) DD_PRINTF(2, 3);
/* Same into buf; returns buf. */
char *dd__arn_buf(struct dd_ctx *c, char *buf, size_t len, const char *fmt, ...) DD_PRINTF(4, 5);

const char *dd__str(json_t *in, const char *key);           /* NULL when absent */
int64_t dd__int(json_t *in, const char *key, int64_t dflt);
bool dd__bool(json_t *in, const char *key, bool dflt);

/* Page parameters: the last key (from the token, "" for the first page) and the size.
 * Returns 0 or fails c with InvalidRequestException for a bad token. */
int dd__page(struct dd_ctx *c, json_t *in, const char *token_member, const char *size_member,
	     int dflt, int max, char *after, size_t afterlen, int *size) DD_MUST_CHECK;
/* Sets out[member] to a token for last when more rows exist. */
void dd__page_next(json_t *out, const char *member, bool more, const char *last);

/* Paging over a store listing callback (the pattern is described in
 * src/api/dd_api_common.c): start with the items array and the page size, take each
 * row's key (true: append the row's item; false: the extra row that shows another page),
 * and reply {member: items} with the next token, or fail c when rc (the listing's
 * result) is an error. dd__page_name_row is the row callback of a listing of names. */
struct dd__page {
	json_t *arr;
	int size;
	int n;
	bool more;
	char last[2048];
};
void dd__page_start(struct dd__page *pg, json_t *arr, int size);
bool dd__page_take(struct dd__page *pg, const char *key);
int dd__page_name_row(const char *name, void *ud);
int dd__page_reply(struct dd_ctx *c, struct dd__page *pg, int rc, const char *member, const char *token_member,
		   json_t **out) DD_MUST_CHECK;

/* Splits a composite page key "<number><sep><rest>" (from dd__page) into its number (0 to
 * INT64_MAX) and the rest, copied into rest (size restlen). Returns 0, or fails c with
 * InvalidRequestException naming token_member. */
int dd__page_key_split(struct dd_ctx *c, const char *key, char sep, const char *token_member, int64_t *num,
		       char *rest, size_t restlen) DD_MUST_CHECK;


/* Does the thing exist in c's account? */
bool dd__thing_exists(struct dd_ctx *c, const char *name);
/* Evaluates a fleet-indexing query against a thing with its attributes as a JSON object
 * (core/registry/dd_registry_query.h without JSON). Returns 1 match, 0 no match, or
 * DD_EINVAL for a query that does not parse (err set). */
int dd__query_match(const char *query, const char *thing_name, const char *type_name,
		    json_t *attributes, char *err, size_t errlen);

/* A resource name from a bare name or an IoT ARN of the given kind ("thing",
 * "thinggroup"). An ARN must name c's account and region and that kind: an ARN of
 * another account is never resolved to c's resource of the same name. Sets *name
 * (borrowed from s) and returns 0; NULL s gives a NULL *name. Otherwise fails c with
 * InvalidRequestException (not an ARN of that kind) or ResourceNotFoundException
 * (another account or region) and returns the error. */
int dd__name_from_arn(struct dd_ctx *c, const char *s, const char *kind, const char **name) DD_MUST_CHECK;

/* Is arn an IAM role ARN of c's account? Returns 0, or fails c with the error code given
 * (InvalidRequestException for IoT, InvalidParameterException for Cognito) naming field:
 * not a role ARN, or a role of another account. */
int dd__role_arn_ok(struct dd_ctx *c, const char *field, const char *arn, const char *code) DD_MUST_CHECK;

/* Stores tags ([{Key, Value}]) of a resource inside the caller's write transaction. */
int dd__tags_put(struct dd_ctx *c, const char *arn, json_t *tags) DD_MUST_CHECK;

/* Adds a thing to a static thing group inside the caller's write transaction, with AWS's
 * rules (dd_registry_groups_add_member): the group must exist and be static, the thing
 * must exist, at most 10 groups per thing (override lets the newest dynamic membership
 * make room). Returns 0 (also when already a member), or fails c (ResourceNotFound /
 * InvalidRequest) and returns its code; DD_EIO on a store error. Defined in
 * src/api/dd_iot_groups.c. */
int dd__thing_group_add_member(struct dd_ctx *c, const char *group, const char *thing, bool override) DD_MUST_CHECK;

/* Is target something a policy attaches to (a certificate or thing group of c's account
 * and region, or a Cognito identity id)? Is principal a certificate ARN of c's account and
 * region (thing principals)? Return 0 or fail c with the AWS error (not found / invalid). */
int dd__policy_target_check(struct dd_ctx *c, const char *target) DD_MUST_CHECK;
int dd__thing_principal_check(struct dd_ctx *c, const char *principal) DD_MUST_CHECK;

/* Store errors become InternalFailureException after a rollback. */
int dd__db_fail(struct dd_ctx *c);

#endif

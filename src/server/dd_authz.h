/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Caller authorization. The keys of the credentials file are their account's root and
 * may do everything; an IAM user's request is allowed only when the user's identity
 * policies (its inline policies, its groups' inline policies, and the managed policies
 * attached to it and to its groups) allow the operation's action on the operation's
 * resource and no statement denies it (default deny, explicit Deny over Allow). One table
 * names every served operation's action and resource ARN (AWS's service authorization
 * reference), a second the further resources a few operations also need the action on
 * (CreateJob's target things and groups, an execution's job); the calls that hand a role
 * to the service also need iam:PassRole on it.
 * Compiled policies are cached per thread and per user, valid while the IAM generation
 * counter (dd_iam_generation) they were built at is current.
 */
#ifndef DD_SERVER_AUTHZ_H
#define DD_SERVER_AUTHZ_H

#include <jansson.h>

#include "dd/common.h"
#include "dd/store.h"

struct dd_authz_entry {
	const char *service;  /* SigV4 signing name */
	const char *op;       /* botocore operation name */
	const char *action;   /* "iot:DescribeThing" */
	/* The resource ARN: "*", or a template where {P} is "arn:aws:<service>:<region>:
	 * <account>:" (no region for iam) and {member} the input member's value ({A|B}: the
	 * first present; an absent member is "*", an absent IAM UserName the caller). */
	const char *resource;
	/* NULL, or space-separated input paths of role ARNs the call passes to the service
	 * (iam:PassRole); "a.*.b" walks every value of a map or list. */
	const char *passrole;
};

/* The table, ended by an entry with service NULL. */
extern const struct dd_authz_entry dd_authz_table[];

/* The entry of service/op, or NULL. */
const struct dd_authz_entry *dd_authz_find(const char *service, const char *op);

/* Expands e's resource for this request into out. Returns 0 or DD_ELIMIT. */
int dd_authz_resource(const struct dd_authz_entry *e, const char *account, const char *region,
		      const char *caller_user, json_t *input, char *out, size_t outlen) DD_MUST_CHECK;

struct dd_authz_caller {
	const char *account; /* 12 digits */
	const char *user;    /* IAM user name */
	const char *user_id; /* AIDA… */
	const char *source_ip; /* NULL when unknown */
};

/* Decides whether the IAM user may call service/op with input in region at now_ms.
 * Returns 0 (allowed); DD_EDENIED with msg set to AWS's AccessDenied message; DD_EIO or
 * DD_ENOMEM when the user's policies could not be loaded (msg set). */
int dd_authz_check(struct dd_db *db, const struct dd_authz_caller *who, const char *service,
		   const char *op, json_t *input, const char *region, int64_t now_ms, char *msg,
		   size_t msglen) DD_MUST_CHECK;

/* Frees the calling thread's cache of compiled policies (at thread exit, and in tests). */
void dd_authz_cache_clear(void);

#endif

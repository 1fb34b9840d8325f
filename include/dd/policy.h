/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The policy engine: parses and validates AWS IoT and IAM policy documents, compiles a
 * document once into an immutable form (struct dd_policy) that evaluates requests without
 * touching JSON or the heap, evaluates a request against a set of compiled policies with
 * default deny and explicit Deny over Allow, explains which statement decided, runs the
 * permissive-policy analyses of the audit (IoT policy, Cognito roles, role aliases), and
 * checks whether a role's policies allow an action. Pure computation: no I/O, no globals
 * that change after start-up; a compiled policy may be shared read-only between threads.
 * The rules implemented are those of spec/POLICY.md; docs/POLICY_ENGINE.md lists the
 * design and every deliberate difference from the test data.
 */
#ifndef DD_POLICY_H
#define DD_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "dd/common.h"

/* Opaque compiled policy document. */
struct dd_policy;

/* Which grammar a document is checked against. IoT policies allow IoT-only actions and
 * count toward the 2048-character limit; IAM identity policies reject Principal and
 * require alphanumeric Sids. Evaluation is the same for both. */
enum dd_policy_dialect {
	DD_POLICY_IOT = 0,
	DD_POLICY_IAM = 1,
};

/* IoT policy documents are limited to this many non-whitespace characters. */
#define DD_POLICY_IOT_MAX_CHARS 2048
/* Suggested size of the error-message buffers passed to the functions below. */
#define DD_POLICY_ERRMSG_SIZE 256

/*
 * Counts the characters of a document that are not JSON whitespace (space, tab, CR, LF),
 * counting a UTF-8 sequence as one character. This is the figure the IoT limit applies to.
 */
size_t dd_policy_count_nonws(const char *text, size_t len);

/*
 * Validates a policy document given as JSON text (len bytes, need not be NUL-terminated).
 * On failure writes a one-line message naming the statement and the problem into errmsg
 * (always NUL-terminated when errsz > 0; errmsg may be NULL when errsz is 0), suitable as
 * the message of MalformedPolicyException (IoT) or MalformedPolicyDocument (IAM).
 * For DD_POLICY_IOT the 2048-character limit is checked too.
 * Returns 0, DD_EINVAL (malformed), DD_ELIMIT (IoT document too long) or DD_ENOMEM.
 */
int dd_policy_validate(const char *text, size_t len, enum dd_policy_dialect dialect,
		       char *errmsg, size_t errsz) DD_MUST_CHECK;

/*
 * Parses, validates and compiles a document from JSON text. On success *out receives a
 * new policy owned by the caller (free with dd_policy_free); on failure *out is untouched
 * and errmsg holds the reason as for dd_policy_validate. The size limit is not checked
 * here (AWS managed IAM policies exceed it); use dd_policy_validate on create.
 * Returns 0, DD_EINVAL or DD_ENOMEM.
 */
int dd_policy_compile(const char *text, size_t len, enum dd_policy_dialect dialect,
		      struct dd_policy **out, char *errmsg, size_t errsz) DD_MUST_CHECK;

/*
 * Same as dd_policy_compile for an already-parsed document. The document is borrowed for
 * the duration of the call only; the compiled policy keeps no reference to it.
 */
int dd_policy_compile_json(const json_t *doc, enum dd_policy_dialect dialect,
			   struct dd_policy **out, char *errmsg, size_t errsz) DD_MUST_CHECK;

/* Frees a compiled policy. dd_policy_free(NULL) is a no-op. */
void dd_policy_free(struct dd_policy *policy);

/* Number of statements of a compiled policy. */
size_t dd_policy_statement_count(const struct dd_policy *policy);

/* True when the document's Version is 2012-10-17, i.e. policy variables are substituted. */
bool dd_policy_has_variables_enabled(const struct dd_policy *policy);

/* Number of statements that use a condition operator this engine does not support. Such
 * a statement never applies (so it never grants); callers may report it. */
size_t dd_policy_unsupported_count(const struct dd_policy *policy);

/* ---------------------------------------------------------------------------------- */
/* Evaluation                                                                           */

/* One multi-valued attribute: a thing attribute, a certificate field, or an arbitrary
 * condition key. All pointers are borrowed for the duration of the evaluation. */
struct dd_policy_attr {
	const char *key;
	const char *const *values;
	size_t nvalues;
};

/*
 * A request to authorize. Every pointer is borrowed for the duration of the call; NULL
 * means "no value" (a policy variable without value makes its resource match nothing, a
 * condition on an absent key follows IAM rules).
 *  - action: "service:Action", e.g. "iot:Publish"; compared case-insensitively.
 *  - resource: the full ARN, e.g. "arn:aws:iot:us-east-1:123456789012:topic/a/b".
 *  - thing_attributes: key = attribute name (iot:Connection.Thing.Attributes[key]).
 *  - cert: key = the part after "iot:Certificate.", e.g. "Subject.CommonName",
 *    "Issuer.Organization", "SerialNumber".
 *  - keys: any other condition key / variable by its full name, e.g.
 *    "iot:ConnectAttributes" (multi-valued) or "credentials-iot:ThingName";
 *    matched case-insensitively.
 */
struct dd_policy_request {
	const char *action;
	const char *resource;
	const char *client_id;
	const char *thing_name;
	const char *thing_type_name;
	bool is_attached;
	const struct dd_policy_attr *thing_attributes;
	size_t n_thing_attributes;
	const struct dd_policy_attr *cert;
	size_t n_cert;
	const char *source_ip;
	const struct dd_policy_attr *keys;
	size_t n_keys;
};

enum dd_policy_decision {
	DD_POLICY_IMPLICIT_DENY = 0, /* no statement allowed it (default deny) */
	DD_POLICY_ALLOW = 1,         /* an Allow applied and no Deny did */
	DD_POLICY_EXPLICIT_DENY = 2, /* a Deny statement applied */
};

/* Which statement decided. For DD_POLICY_IMPLICIT_DENY the indices are SIZE_MAX and sid
 * is NULL. sid is borrowed from the compiled policy and lives as long as it does. */
struct dd_policy_explain {
	enum dd_policy_decision decision;
	size_t policy_index;    /* index into the policies array */
	size_t statement_index; /* 0-based index in that policy's Statement list */
	const char *sid;        /* the statement's Sid, or NULL */
	size_t skipped_unsupported; /* statements skipped for an unsupported condition operator */
};

/*
 * Evaluates req against n compiled policies (the set attached to one principal) with
 * default deny and explicit Deny over Allow. NULL entries in policies are skipped.
 * Allocation-free. *decision receives the result; explain (may be NULL) receives the
 * deciding statement. Returns 0, or DD_EINVAL when req, req->action, req->resource or
 * decision is NULL (outputs untouched).
 */
int dd_policy_evaluate(const struct dd_policy *const *policies, size_t n,
		       const struct dd_policy_request *req, enum dd_policy_decision *decision,
		       struct dd_policy_explain *explain) DD_MUST_CHECK;

/* Writes a one-line English explanation ("allowed by policy 0 statement 1 (Sid "x")")
 * into buf (NUL-terminated when size > 0). Returns the length it wanted, like snprintf. */
size_t dd_policy_explain_format(const struct dd_policy_explain *explain, char *buf,
				size_t size);

/* Returns "ALLOW", "EXPLICIT_DENY" or "IMPLICIT_DENY". */
const char *dd_policy_decision_name(enum dd_policy_decision decision);

/*
 * Role permission check (audit role, mitigation roles): do these IAM policy documents (a
 * role's inline and attached policies) allow action on resource? Deny over Allow; the
 * request carries no context, so conditions on absent keys follow IAM rules.
 * *allowed receives the answer. Returns 0 or DD_EINVAL.
 */
int dd_policy_role_allows(const struct dd_policy *const *policies, size_t n,
			  const char *action, const char *resource, bool *allowed) DD_MUST_CHECK;

/* ---------------------------------------------------------------------------------- */
/* Permissive-policy analyses                                                          */

enum dd_policy_verdict {
	DD_POLICY_COMPLIANT = 0,
	DD_POLICY_NONCOMPLIANT = 1,
	DD_POLICY_WAITING_FOR_DATA_COLLECTION = 2,
};

#define DD_POLICY_MAX_REASONS 8

/* One reason code of a noncompliant verdict. code is a static string; actions (nactions
 * entries, each "service:Action" or the pattern as written) and message are owned by the
 * enclosing struct dd_policy_analysis. */
struct dd_policy_reason {
	const char *code;
	char **actions;
	size_t nactions;
	char *message;
};

/* The result of one analysis. Initialise with `= {0}` or let the analysis do it; release
 * with dd_policy_analyze_clear. nreasons is 0 unless verdict is NONCOMPLIANT. */
struct dd_policy_analysis {
	enum dd_policy_verdict verdict;
	size_t nreasons;
	struct dd_policy_reason reasons[DD_POLICY_MAX_REASONS];
};

/* Frees everything the analysis owns and zeroes it. NULL is a no-op. */
void dd_policy_analyze_clear(struct dd_policy_analysis *a);

/* Returns the reason with this code, or NULL. */
const struct dd_policy_reason *dd_policy_analyze_find(const struct dd_policy_analysis *a,
						       const char *code);

/*
 * Every analysis below overwrites *out (without freeing what it held: clear it first if
 * reused), borrows its inputs for the duration of the call, and returns 0, DD_EINVAL or
 * DD_ENOMEM (on failure *out is left cleared).
 */

/* IOT_POLICY_OVERLY_PERMISSIVE_CHECK on one IoT policy (its default version).
 * Reason ALLOWS_BROAD_ACCESS_TO_IOT_DATA_PLANE_ACTIONS. */
int dd_policy_analyze_iot_permissive(const struct dd_policy *policy,
				     struct dd_policy_analysis *out) DD_MUST_CHECK;

/* IOT_POLICY_POTENTIAL_MISCONFIGURATION_CHECK on one IoT policy. Reasons
 * POLICY_CONTAINS_MQTT_WILDCARDS_IN_DENY_STATEMENT and
 * TOPIC_FILTERS_INTENDED_TO_DENY_ALLOWED_USING_WILDCARDS. */
int dd_policy_analyze_iot_misconfig(const struct dd_policy *policy,
				    struct dd_policy_analysis *out) DD_MUST_CHECK;

/* AUTHENTICATED_COGNITO_ROLE_OVERLY_PERMISSIVE_CHECK on the union of a role's IAM
 * policies. */
int dd_policy_analyze_cognito_auth(const struct dd_policy *const *policies, size_t n,
				   struct dd_policy_analysis *out) DD_MUST_CHECK;

/* UNAUTHENTICATED_COGNITO_ROLE_OVERLY_PERMISSIVE_CHECK on the union of a role's IAM
 * policies. */
int dd_policy_analyze_cognito_unauth(const struct dd_policy *const *policies, size_t n,
				     struct dd_policy_analysis *out) DD_MUST_CHECK;

/* IOT_ROLE_ALIAS_OVERLY_PERMISSIVE_CHECK on the union of the aliased role's IAM policies.
 * used_services: the service prefixes ("s3", "iot") the role used in the past 365 days
 * (may be NULL when nused is 0; broad access to used services is then never reported). */
int dd_policy_analyze_role_alias_permissive(const struct dd_policy *const *policies,
					    size_t n, const char *const *used_services,
					    size_t nused,
					    struct dd_policy_analysis *out) DD_MUST_CHECK;

/* IOT_ROLE_ALIAS_ALLOWS_ACCESS_TO_UNUSED_SERVICES_CHECK. used_services == NULL means "no
 * usage record for this role": the verdict is then WAITING_FOR_DATA_COLLECTION. An empty
 * non-NULL list means the role used nothing. */
int dd_policy_analyze_role_alias_unused(const struct dd_policy *const *policies, size_t n,
					const char *const *used_services, size_t nused,
					struct dd_policy_analysis *out) DD_MUST_CHECK;

/* ---------------------------------------------------------------------------------- */
/* Internal layout, shared by src/core/dd_policy.c and src/core/dd_policy_analyze.c only.
 * Not part of the interface: nothing outside those two files may define the macro. */
#ifdef DD_POLICY_INTERNAL

enum dd__policy_op_kind { DD__OP_LIT = 0, DD__OP_STAR, DD__OP_QMARK, DD__OP_VAR };

enum dd__policy_var {
	DD__VAR_CLIENT_ID = 0,
	DD__VAR_THING_NAME,
	DD__VAR_THING_TYPE,
	DD__VAR_IS_ATTACHED,
	DD__VAR_THING_ATTR, /* name = the attribute key */
	DD__VAR_CERT,       /* name = the part after "iot:Certificate." */
	DD__VAR_SOURCE_IP,
	DD__VAR_GENERIC,    /* name = the full key, looked up in request->keys */
};

/* One element of a compiled glob: a literal run (str,len: every byte literal), a '*', a
 * '?', or a policy variable (var, str,len = its name as above). */
struct dd__policy_op {
	uint8_t kind;
	uint8_t var;
	uint32_t len;
	const char *str;
};

/* A compiled resource pattern or condition value. raw is the text as written. */
struct dd__policy_pat {
	const char *raw;
	const struct dd__policy_op *ops;
	uint32_t nops;
	bool has_var;
	bool match_all; /* the pattern is exactly "*" */
};

/* A compiled action pattern: lowercase, glob; raw as written. */
struct dd__policy_act {
	const char *raw;
	const char *lc;
	uint32_t len;
	bool glob;
};

enum dd__policy_cond_op {
	DD__COND_STRING_EQUALS = 0,
	DD__COND_STRING_LIKE,
	DD__COND_NUMERIC_EQ,
	DD__COND_NUMERIC_LT,
	DD__COND_NUMERIC_LE,
	DD__COND_NUMERIC_GT,
	DD__COND_NUMERIC_GE,
	DD__COND_BOOL,
	DD__COND_IP,
	DD__COND_ARN_LIKE,
	DD__COND_NULL,
	DD__COND_DATE_EQ, /* dates compare as seconds since the epoch (numbers[]) */
	DD__COND_DATE_LT,
	DD__COND_DATE_LE,
	DD__COND_DATE_GT,
	DD__COND_DATE_GE,
	DD__COND_UNSUPPORTED,
};

struct dd__policy_cidr {
	uint8_t family; /* 4 or 6 */
	uint8_t prefix;
	uint8_t addr[16];
};

struct dd__policy_cond {
	uint8_t op;
	bool negate;      /* StringNotEquals, NotIpAddress, ... */
	bool ignore_case; /* ...IgnoreCase */
	bool if_exists;   /* ...IfExists */
	uint8_t set;      /* 0 none, 1 ForAllValues, 2 ForAnyValue */
	uint8_t key_var;  /* enum dd__policy_var */
	const char *key;  /* the key as written */
	const char *key_name; /* name for key_var (see enum) */
	uint32_t key_name_len;
	uint32_t nvalues;
	const struct dd__policy_pat *values;
	const struct dd__policy_cidr *cidrs; /* DD__COND_IP: nvalues entries */
	const double *numbers;               /* numeric and date ops: nvalues entries */
};

struct dd__policy_stmt {
	bool deny;
	bool not_action;
	bool not_resource;
	bool unsupported;         /* has a condition this engine cannot evaluate */
	bool is_attached_true;    /* has Bool {"iot:Connection.Thing.IsAttached": "true"} */
	const char *sid;
	uint32_t nactions, nresources, nconds;
	const struct dd__policy_act *actions;
	const struct dd__policy_pat *resources;
	const struct dd__policy_cond *conds;
};

struct dd__policy_chunk;

struct dd_policy {
	enum dd_policy_dialect dialect;
	bool vars;
	uint32_t nstmts;
	size_t nunsupported;
	const struct dd__policy_stmt *stmts;
	struct dd__policy_chunk *arena;
};

/* Glob match of a compiled pattern against s (case-sensitive unless icase), resolving
 * variables from req (which may be NULL: every variable is then unresolved). */
bool dd__policy_pat_match(const struct dd__policy_pat *p, const char *s, size_t n,
			  const struct dd_policy_request *req, bool icase);
/* Case-insensitive glob match of a lowercase action pattern against an action name. */
bool dd__policy_act_match(const struct dd__policy_act *a, const char *action, size_t n);

#endif /* DD_POLICY_INTERNAL */

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Authorization of a certificate principal, shared by TestAuthorization and the broker
 * plugin so that both answer the same question the same way: the policies that apply to
 * the principal (attached to it and to the thing groups, with ancestors, of its things),
 * compiled once, and the policy variables bound to a connection — iot:ClientId, the thing
 * (the attached thing named like the client id, else the first attached thing by name),
 * its type and attributes, iot:Connection.Thing.IsAttached, and the certificate's
 * Subject.CommonName and SerialNumber. Loading reads the store; deciding does not.
 */
#ifndef DD_AUTHZ_H
#define DD_AUTHZ_H

#include <stdbool.h>
#include <stddef.h>


#include "dd/policy.h"
#include "dd/region.h"
#include "dd/store.h"

/* Where a decision is made: the store connection and the account and region whose
 * registry is read (account_region as dd/region.h builds it). The strings are borrowed. */
struct dd_authz_scope {
	struct dd_db *db;
	const char *account;
	const char *region;
	const char *account_region;
};

#define DD_AUTHZ_MAX_ATTRS 64

/* The policy variables bound to one principal and client id. */
struct dd_authz_binding {
	char thing[129];
	char thing_type[129];
	bool attached;
	size_t n_attrs;
	char *attr_keys[DD_AUTHZ_MAX_ATTRS];
	char *attr_vals[DD_AUTHZ_MAX_ATTRS];
	struct dd_policy_attr attrs[DD_AUTHZ_MAX_ATTRS];
	size_t n_cert;
	char cert_cn[256];
	char cert_serial[128];
	const char *cert_cn_v[1];
	const char *cert_serial_v[1];
	struct dd_policy_attr cert[2];
};

/* Binds the variables for principal (a certificate ARN, or any principal) and client_id
 * (may be NULL). b must be zeroed or cleared. Returns 0 or DD_EIO / DD_ENOMEM. */
int dd_authz_bind(const struct dd_authz_scope *c, const char *principal, const char *client_id,
		  struct dd_authz_binding *b) DD_MUST_CHECK;
void dd_authz_binding_clear(struct dd_authz_binding *b);
/* Fills req for one action on one resource ARN from a binding (borrowed). */
void dd_authz_request(const struct dd_authz_binding *b, const char *action, const char *resource,
		      const char *client_id, const char *source_ip, struct dd_policy_request *req);

/* A list of policy names in the order found, each once; the strings are owned. */
struct dd_authz_names {
	char **v;
	size_t n, cap;
};
/* Frees the names and empties the list. */
void dd_authz_names_clear(struct dd_authz_names *l);

/* The names (in order) of every policy that applies to principal. */
int dd_authz_policy_names(const struct dd_authz_scope *c, const char *principal,
			  struct dd_authz_names *names) DD_MUST_CHECK;
/* Appends to names (kept free of duplicates) the policies that
 * apply to principal and/or thing: attached to the principal directly, and attached to
 * every group (with ancestors) of the thing, or without a thing of the things the
 * principal is attached to. Returns 0 or DD_EIO. */
int dd_authz_effective_policy_names(const struct dd_authz_scope *c, const char *principal, const char *thing,
				    struct dd_authz_names *names) DD_MUST_CHECK;
/* Appends to names the policies attached to target (a certificate or thing-group ARN, a
 * Cognito identity id) by name, and with recursive for a thing group its ancestors'.
 * Returns 0 or DD_EIO / DD_ENOMEM. */
int dd_authz_target_policies(const struct dd_authz_scope *c, const char *target, bool recursive,
			      struct dd_authz_names *names) DD_MUST_CHECK;
/* The default version's document of a policy (malloc'd), or NULL (no such policy, or a
 * store error). */
char *dd_authz_default_doc(const struct dd_authz_scope *c, const char *name);

/* TestAuthorization's decision for one action over several resources (full ARNs) with the
 * variables of b: an explicit deny for any resource wins, then an implicit deny for any,
 * else allow; no resource is an implicit deny. *deciding is the index in pols of the
 * policy that decided (the last allowing one, or the denying one), SIZE_MAX for an
 * implicit deny. Entries of pols may be NULL (a policy that did not compile). */
enum dd_policy_decision dd_authz_decide_resources(const struct dd_policy *const *pols, size_t n,
						  const struct dd_authz_binding *b, const char *action,
						  const char *const *resources, size_t nres, const char *client_id,
						  size_t *deciding);

/* Everything needed to decide for one connection, without the store. */
struct dd_authz {
	size_t n;
	struct dd_policy **pols;
	struct dd_authz_binding b;
};

/* Loads and compiles the principal's policies (default versions) and binds the variables.
 * Returns 0 with a new *out, or DD_EIO / DD_ENOMEM. */
int dd_authz_load(const struct dd_authz_scope *c, const char *principal, const char *client_id,
		  struct dd_authz **out) DD_MUST_CHECK;
/* Decides action on resource (full ARN) for the connection. Allocation-free. */
enum dd_policy_decision dd_authz_decide(const struct dd_authz *a, const char *action, const char *resource,
					const char *client_id, const char *source_ip);
void dd_authz_free(struct dd_authz *a);

#endif

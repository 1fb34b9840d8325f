/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The IAM subset: roles with trust policies, inline role policies, customer managed
 * policies with versions, attachments, and the AWS managed policies the Device Defender
 * flows use (preloaded, read-only, shared by every account). This header is what the
 * audit and mitigation engines read: a role by ARN, the documents of every policy that
 * applies to it, and whether its trust policy lets a service assume it. Every lookup is
 * scoped to one account; a role or policy ARN naming another account is "not found".
 */
#ifndef DD_IAM_H
#define DD_IAM_H

#include <stdbool.h>
#include <stdint.h>

#include "dd/common.h"
#include "dd/store.h"

/* An AWS managed policy (static data, lives for the whole process). */
struct dd_iam_managed_policy {
	const char *name;        /* e.g. "AWSIoTDeviceDefenderAudit" */
	const char *arn;         /* "arn:aws:iam::aws:policy/service-role/<name>" */
	const char *path;        /* "/service-role/" */
	const char *policy_id;   /* ANPA… */
	const char *version_id;  /* default version, e.g. "v1" */
	const char *description;
	int64_t created_ms, updated_ms;
	const char *document;    /* the default version's JSON text */
};

/* The AWS managed policy with this ARN, or NULL. */
const struct dd_iam_managed_policy *dd_iam_managed_find(const char *arn);
/* Number of preloaded managed policies, and the i-th one (NULL when out of range). */
size_t dd_iam_managed_count(void);
const struct dd_iam_managed_policy *dd_iam_managed_at(size_t i);

/* A role as stored. Strings are owned; clear with dd_iam_role_clear. */
struct dd_iam_role {
	char *name;
	char *arn;
	char *role_id;
	char *path;
	char *trust_policy;  /* the AssumeRolePolicyDocument JSON text as submitted */
	char *description;   /* NULL when none */
	int max_session;     /* seconds */
	int64_t created_ms;
};

/* Looks up a role of account by its ARN (or by bare name). Returns 0 and fills *out,
 * DD_ENOTFOUND (also for an ARN of another account or a path that does not match),
 * or DD_EIO / DD_ENOMEM. db is the calling thread's connection. */
int dd_iam_role_get(struct dd_db *db, const char *account, const char *role_arn,
		    struct dd_iam_role *out) DD_MUST_CHECK;
void dd_iam_role_clear(struct dd_iam_role *r);

/* One policy that applies to a role: inline (arn NULL) or attached managed (the default
 * version's document). */
struct dd_iam_policy_doc {
	char *name;
	char *arn;       /* NULL for an inline policy */
	char *document;  /* JSON text */
};
struct dd_iam_policy_docs {
	struct dd_iam_policy_doc *items;
	size_t n;
};

/* Collects the documents of every inline and attached policy of the role (inline first,
 * each group ordered by name / ARN). Returns 0, DD_ENOTFOUND when the role does not
 * exist in account, DD_EIO or DD_ENOMEM. *out is owned by the caller: free it with
 * dd_iam_policy_docs_clear. */
int dd_iam_role_policies(struct dd_db *db, const char *account, const char *role_arn,
			 struct dd_iam_policy_docs *out) DD_MUST_CHECK;
void dd_iam_policy_docs_clear(struct dd_iam_policy_docs *d);

/* Does the trust policy document (JSON text) allow the service principal (e.g.
 * "iot.amazonaws.com") to call sts:AssumeRole? An explicit Deny wins; conditions are
 * not evaluated (a conditional Allow counts as allowing). Pure function. */
bool dd_iam_trust_allows_service(const char *trust_policy, const char *service);

/* Same for a stored role: *out set on success. Returns 0, DD_ENOTFOUND or DD_EIO. */
int dd_iam_role_trusts_service(struct dd_db *db, const char *account, const char *role_arn,
			       const char *service, bool *out) DD_MUST_CHECK;

/* Checks a role trust policy document (JSON text): JSON object, Version, Statement with
 * Effect, Principal or NotPrincipal, Action or NotAction, and no Resource. Returns 0 or
 * DD_EINVAL with a one-line reason in err (the MalformedPolicyDocument message). */
int dd_iam_trust_validate(const char *text, char *err, size_t errlen) DD_MUST_CHECK;

/* Percent-encodes s as AWS IAM returns policy documents (RFC 3986: everything but
 * A-Z a-z 0-9 - _ . ~). Returns an owned string or NULL on allocation failure. */
char *dd_iam_url_encode(const char *s);

/* The fields of an ARN "arn:<partition>:<service>:<region>:<account>:<resource>".
 * resource points into the parsed string (borrowed: it lives as long as that string). */
struct dd_arn {
	char partition[16];
	char service[32];
	char region[32];
	char account[16];
	const char *resource;
};

/* Splits arn into its fields. Returns 0, or DD_EINVAL when arn is NULL, does not start
 * with "arn:", has fewer than six fields, a field is too long for its buffer, or the
 * resource is empty. *out is untouched on failure. Pure function. */
int dd_iam_arn_parse(const char *arn, struct dd_arn *out) DD_MUST_CHECK;

/* Is arn an IAM role ARN ("arn:aws:iam::<account>:role/[path/]name")? Returns 0 when it
 * names a role of account, DD_EINVAL when it is not a role ARN at all, and DD_EDENIED
 * when it names another account's role (never to be resolved to the caller's role of
 * the same name). Pure function. */
int dd_iam_role_arn_check(const char *account, const char *arn) DD_MUST_CHECK;

/* ---- IAM users and their access keys (src/core/iam/dd_iam_user.c, dd_iam_access_key.c) ---- */

/* An IAM user's access key, as SigV4 verification needs it. */
struct dd_iam_key {
	char account[13];
	char user[65];
	char user_id[32];
	char secret[64];
	bool active;
};

/* ---- IAM users' secrets at rest (src/core/iam/dd_iam_secrets.c) ---- */

/* The server's IAM secrets key (<data-dir>/iam-secrets.key): every IAM user's secret
 * access key is stored sealed under it with AES-256-GCM. Opaque; read-only once loaded,
 * so it may be shared by every request thread. */
struct dd_iam_secrets;

/* The longest stored (sealed) form of a secret, with its NUL. */
#define DD_IAM_SECRETS_STORED_MAX 384

/* Loads the key of data_dir (creating it, 0600, when create is true and it does not
 * exist). A key file group or others may access is refused. A leftover
 * iam-secrets.key.new (an unfinished rotation) is loaded too; dd_iam_secrets_reseal
 * finishes the rotation. Returns 0 with *out owned by the caller, DD_ENOTFOUND,
 * DD_EDENIED (mode), DD_EINVAL (not a key file), DD_EIO or DD_ENOMEM, with err
 * set on failure. */
int dd_iam_secrets_load(const char *data_dir, bool create, struct dd_iam_secrets **out, char *err,
			size_t errlen) DD_MUST_CHECK;
/* Wipes and frees the key. NULL is a no-op. */
void dd_iam_secrets_free(struct dd_iam_secrets *s);
/* The current key's id (16 hex digits, part of every sealed secret), and its file. */
const char *dd_iam_secrets_key_id(const struct dd_iam_secrets *s);
const char *dd_iam_secrets_path(const struct dd_iam_secrets *s);
/* Seals secret for the access key access_key of account into out (text, at most
 * DD_IAM_SECRETS_STORED_MAX bytes). Returns 0, DD_EINVAL, DD_ELIMIT or DD_ECRYPTO. */
int dd_iam_secrets_seal(const struct dd_iam_secrets *s, const char *account, const char *access_key,
			const char *secret, char *out, size_t outlen) DD_MUST_CHECK;
/* Opens a sealed secret of access_key of account into out. Returns 0; DD_ENOTFOUND when
 * it was sealed under a key this server does not hold; DD_ECRYPTO when it does not verify
 * (altered, or moved from another row); DD_EINVAL when stored is not a sealed secret. */
int dd_iam_secrets_open(const struct dd_iam_secrets *s, const char *account, const char *access_key,
			const char *stored, char *out, size_t outlen) DD_MUST_CHECK;
/* Is stored the sealed form (else a clear secret of an older store)? */
bool dd_iam_secrets_is_sealed(const char *stored);
/* Start-up: in one transaction, seals every secret still stored in clear and re-seals
 * those under the previous key; then, if a rotation was unfinished, the new key file
 * replaces the old one. Secrets sealed under a key this server does not hold are left
 * as they are and logged (those access keys are refused until their key file is put
 * back). *sealed receives how many rows changed. Returns 0 or DD_E* (the store
 * unchanged, err set). */
int dd_iam_secrets_reseal(struct dd_iam_secrets *s, struct dd_db *db, size_t *sealed, char *err,
			  size_t errlen) DD_MUST_CHECK;
/* Rotation (server stopped): a new key in iam-secrets.key.new, every secret re-sealed
 * under it, then the file renamed over the old key. Safe to repeat after a crash. */
int dd_iam_secrets_rotate(struct dd_iam_secrets *s, struct dd_db *db, size_t *sealed, char *err,
			  size_t errlen) DD_MUST_CHECK;

/* Looks up an IAM user's access key (any account) and opens its secret with secrets.
 * Returns 0 and fills *out (inactive keys too: active says which), DD_ENOTFOUND, DD_EIO,
 * or DD_ECRYPTO when the stored secret does not open (logged). */
int dd_iam_access_key_find(struct dd_db *db, const struct dd_iam_secrets *secrets, const char *access_key,
			   struct dd_iam_key *out) DD_MUST_CHECK;

/* Collects the documents of every policy that applies to user of account: the user's
 * inline policies, its groups' inline policies, and the managed policies attached to the
 * user and to its groups. Returns 0, DD_ENOTFOUND (no such user), DD_EIO or DD_ENOMEM;
 * *out is freed with dd_iam_policy_docs_clear. */
int dd_iam_user_policies(struct dd_db *db, const char *account, const char *user,
			 struct dd_iam_policy_docs *out) DD_MUST_CHECK;

/* A counter bumped after every IAM write (dd_iam_generation_bump): a cache of users'
 * compiled policies is valid while the counter it was built at is current
 * (src/core/iam/dd_iam_generation.c). */
uint64_t dd_iam_generation(void);
void dd_iam_generation_bump(void);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Roles as the audit and mitigation engines and the registry read them: a role of an
 * account by ARN or bare name (an ARN of another account, or whose path does not match the
 * stored role's, is "not found"), the documents of every policy that applies to it (its
 * inline policies, then its attached managed policies), whether its trust policy lets a
 * service assume it, and the check that an ARN names a role of the caller's account;
 * and the rules of creating (unique name, the per-account quota) and deleting a role (no
 * policies left on it).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/iam/dd_iam_policy.h"
#include "core/iam/dd_iam_role.h"
#include "dd/iam.h"
#include "dd/store.h"
#include "store/dd_store_iam.h"

void dd_iam_role_clear(struct dd_iam_role *r)
{
	if (!r)
		return;
	free(r->name);
	free(r->arn);
	free(r->role_id);
	free(r->path);
	free(r->trust_policy);
	free(r->description);
	memset(r, 0, sizeof *r);
}

int dd_iam_role_get(struct dd_db *db, const char *account, const char *role_arn, struct dd_iam_role *out)
{
	if (!db || !account || !role_arn)
		return DD_EINVAL;
	const char *name = role_arn;
	bool by_arn = strncmp(role_arn, "arn:", 4) == 0;
	if (by_arn) {
		char prefix[64];
		snprintf(prefix, sizeof prefix, "arn:aws:iam::%s:role/", account);
		const char *slash = strrchr(role_arn, '/');
		if (strncmp(role_arn, prefix, strlen(prefix)) != 0 || !slash)
			return DD_ENOTFOUND;
		name = slash + 1;
	}
	struct dd_store_iam_role s;
	int rc = dd_store_iam_role_get(db, account, name, &s);
	if (rc)
		return rc;
	char arn[1200];
	snprintf(arn, sizeof arn, "arn:aws:iam::%s:role%s%s", account, s.path, s.name);
	if (by_arn && strcmp(arn, role_arn) != 0) {
		dd_store_iam_role_clear(&s);
		return DD_ENOTFOUND;
	}
	struct dd_iam_role r = {
		.name = s.name, .arn = strdup(arn), .role_id = s.role_id, .path = s.path,
		.trust_policy = s.trust_policy, .description = s.description, .max_session = (int)s.max_session,
		.created_ms = s.created_ms,
	};
	free(s.boundary);
	free(s.tags);
	if (!r.arn) {
		dd_iam_role_clear(&r);
		return DD_ENOMEM;
	}
	*out = r;
	return 0;
}

int dd_iam_role_policies(struct dd_db *db, const char *account, const char *role_arn, struct dd_iam_policy_docs *out)
{
	struct dd_iam_role r;
	int rc = dd_iam_role_get(db, account, role_arn, &r);
	if (rc)
		return rc;
	struct dd_iam_policy_docs d = { 0 };
	rc = dd_iam_policy_docs_add_inline(db, DD_STORE_IAM_ROLE, account, r.name, &d);
	if (!rc)
		rc = dd_iam_policy_docs_add_attached(db, DD_STORE_IAM_ROLE, account, r.name, &d);
	dd_iam_role_clear(&r);
	if (rc) {
		dd_iam_policy_docs_clear(&d);
		return rc;
	}
	*out = d;
	return 0;
}

int dd_iam_role_arn_check(const char *account, const char *arn)
{
	struct dd_arn a;
	if (dd_iam_arn_parse(arn, &a) || strcmp(a.partition, "aws") || strcmp(a.service, "iam") || a.region[0] ||
	    strncmp(a.resource, "role/", 5) != 0 || !a.resource[5] || a.resource[strlen(a.resource) - 1] == '/')
		return DD_EINVAL;
	if (!account || strcmp(a.account, account) != 0)
		return DD_EDENIED;
	return 0;
}

int dd_iam_role_trusts_service(struct dd_db *db, const char *account, const char *role_arn, const char *service, bool *out)
{
	struct dd_iam_role r;
	int rc = dd_iam_role_get(db, account, role_arn, &r);
	if (rc)
		return rc;
	*out = dd_iam_trust_allows_service(r.trust_policy, service);
	dd_iam_role_clear(&r);
	return 0;
}

/* ---- create and delete ------------------------------------------------------------- */

static int fail_tx(struct dd_db *db, int rc, char *msg, size_t msglen)
{
	if (rc == DD_EIO || rc == DD_ENOMEM)
		snprintf(msg, msglen, rc == DD_EIO ? "An internal store error occurred." : "out of memory");
	if (dd_db_in_tx(db))
		dd_db_rollback(db);
	return rc;
}

int dd_iam_role_create(struct dd_db *db, const char *account, const struct dd_store_iam_role *r, char *msg,
		       size_t msglen)
{
	char canon[128];
	int64_t total = 0;
	if (dd_db_begin_write(db))
		return fail_tx(db, DD_EIO, msg, msglen);
	int rc = dd_store_iam_role_count(db, account, &total);
	if (rc)
		return fail_tx(db, rc, msg, msglen);
	rc = dd_store_iam_principal_name(db, DD_STORE_IAM_ROLE, account, r->name ? r->name : "", canon);
	if (rc == 0) {
		snprintf(msg, msglen, "Role with name %s already exists.", r->name);
		return fail_tx(db, DD_EEXIST, msg, msglen);
	}
	if (rc != DD_ENOTFOUND)
		return fail_tx(db, rc, msg, msglen);
	if (total >= DD_IAM_ROLE_MAX_PER_ACCOUNT) {
		snprintf(msg, msglen, "Cannot exceed quota for RolesPerAccount: %d", DD_IAM_ROLE_MAX_PER_ACCOUNT);
		return fail_tx(db, DD_ELIMIT, msg, msglen);
	}
	if ((rc = dd_store_iam_role_insert(db, account, r)))
		return fail_tx(db, rc == DD_EEXIST ? DD_EIO : rc, msg, msglen);
	if (dd_db_commit(db))
		return fail_tx(db, DD_EIO, msg, msglen);
	return 0;
}

int dd_iam_role_delete(struct dd_db *db, const char *account, const char *name, char *msg, size_t msglen)
{
	char canon[128];
	if (dd_db_begin_write(db))
		return fail_tx(db, DD_EIO, msg, msglen);
	int rc = dd_iam_policy_principal(db, DD_STORE_IAM_ROLE, account, name, canon, msg, msglen);
	if (rc)
		return fail_tx(db, rc, msg, msglen);
	int64_t attached = 0, inl = 0;
	if ((rc = dd_store_iam_attached_count(db, DD_STORE_IAM_ROLE, account, canon, NULL, &attached)) ||
	    (rc = dd_store_iam_inline_count(db, DD_STORE_IAM_ROLE, account, canon, &inl)))
		return fail_tx(db, rc, msg, msglen);
	if (attached > 0 || inl > 0) {
		snprintf(msg, msglen, "%s", attached > 0 ? "Cannot delete entity, must detach all policies first."
							  : "Cannot delete entity, must delete policies first.");
		return fail_tx(db, DD_ECONFLICT, msg, msglen);
	}
	if ((rc = dd_store_iam_role_delete(db, account, canon)) || dd_db_commit(db))
		return fail_tx(db, rc ? rc : DD_EIO, msg, msglen);
	return 0;
}

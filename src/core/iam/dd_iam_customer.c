/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Customer managed policies: the rules of creating one, adding and deleting versions and
 * deleting one, as dd_iam_customer.h describes, over the store's typed functions
 * (store/dd_store_iam.h). Version numbers are never reused: a deleted v2 stays deleted and
 * the next version is v(n+1) of the highest ever created.
 */
#include <stdio.h>
#include <string.h>

#include "core/iam/dd_iam_customer.h"
#include "dd/store.h"

static int fail_tx(struct dd_db *db, int rc, char *msg, size_t msglen)
{
	if (rc == DD_EIO || rc == DD_ENOMEM)
		snprintf(msg, msglen, rc == DD_EIO ? "An internal store error occurred." : "out of memory");
	if (dd_db_in_tx(db))
		dd_db_rollback(db);
	return rc;
}

int64_t dd_iam_customer_version_num(const char *version_id)
{
	int64_t n;
	if (!version_id || version_id[0] != 'v' || dd_parse_int64(version_id + 1, 1, 1000000, &n))
		return -1;
	return n;
}

int dd_iam_customer_create(struct dd_db *db, const char *account, const struct dd_store_iam_policy *p,
			   const char *document, char *msg, size_t msglen)
{
	int64_t total = 0;
	if (dd_db_begin_write(db))
		return fail_tx(db, DD_EIO, msg, msglen);
	int rc = dd_store_iam_policy_count(db, account, &total);
	if (rc)
		return fail_tx(db, rc, msg, msglen);
	struct dd_store_iam_policy have;
	rc = dd_store_iam_policy_get(db, account, p->name ? p->name : "", &have);
	if (rc == 0) {
		dd_store_iam_policy_clear(&have);
		snprintf(msg, msglen, "A policy called %s already exists. Duplicate names are not allowed.", p->name);
		return fail_tx(db, DD_EEXIST, msg, msglen);
	}
	if (rc != DD_ENOTFOUND)
		return fail_tx(db, rc, msg, msglen);
	if (total >= DD_IAM_CUSTOMER_MAX_PER_ACCOUNT) {
		snprintf(msg, msglen, "Cannot exceed quota for PoliciesPerAccount: %d", DD_IAM_CUSTOMER_MAX_PER_ACCOUNT);
		return fail_tx(db, DD_ELIMIT, msg, msglen);
	}
	if ((rc = dd_store_iam_policy_insert(db, account, p, document)))
		return fail_tx(db, rc == DD_EEXIST ? DD_EIO : rc, msg, msglen);
	if (dd_db_commit(db))
		return fail_tx(db, DD_EIO, msg, msglen);
	return 0;
}

/* The customer managed policy arn of account, in an open transaction; fails (rolling
 * back) with DD_EINVAL for an AWS managed policy and DD_ENOTFOUND for none. */
static int local_policy(struct dd_db *db, const char *account, const char *arn, struct dd_store_iam_policy *p,
			char *msg, size_t msglen)
{
	if (dd_iam_managed_find(arn ? arn : "")) {
		snprintf(msg, msglen, "The AWS managed policy %s cannot be modified.", arn);
		return fail_tx(db, DD_EINVAL, msg, msglen);
	}
	int rc = dd_store_iam_policy_get_by_arn(db, account, arn, p);
	if (rc == DD_ENOTFOUND)
		snprintf(msg, msglen, "Policy %s was not found.", arn ? arn : "");
	return rc ? fail_tx(db, rc, msg, msglen) : 0;
}

int dd_iam_customer_version_add(struct dd_db *db, const char *account, const char *arn, const char *document,
				int64_t now_ms, bool set_default, int64_t *version, char *msg, size_t msglen)
{
	struct dd_store_iam_policy p;
	if (dd_db_begin_write(db))
		return fail_tx(db, DD_EIO, msg, msglen);
	int rc = local_policy(db, account, arn, &p, msg, msglen);
	if (rc)
		return rc;
	int64_t nv = 0;
	rc = dd_store_iam_policy_version_count(db, account, p.name, &nv);
	if (!rc && nv >= DD_IAM_CUSTOMER_MAX_VERSIONS) {
		snprintf(msg, msglen, "A managed policy can have up to %d versions. Before you create a new version, you must delete an existing version.",
			 DD_IAM_CUSTOMER_MAX_VERSIONS);
		rc = DD_ELIMIT;
	}
	if (!rc)
		rc = dd_store_iam_policy_version_add(db, account, p.name, document, now_ms, set_default, version);
	dd_store_iam_policy_clear(&p);
	if (rc || dd_db_commit(db))
		return fail_tx(db, rc ? rc : DD_EIO, msg, msglen);
	return 0;
}

int dd_iam_customer_version_delete(struct dd_db *db, const char *account, const char *arn, const char *version_id,
				   char *msg, size_t msglen)
{
	struct dd_store_iam_policy p;
	if (dd_db_begin_write(db))
		return fail_tx(db, DD_EIO, msg, msglen);
	int rc = local_policy(db, account, arn, &p, msg, msglen);
	if (rc)
		return rc;
	int64_t v = dd_iam_customer_version_num(version_id);
	if (p.default_version == v) {
		snprintf(msg, msglen, "Cannot delete the default version of a policy.");
		rc = DD_ECONFLICT;
	} else {
		rc = dd_store_iam_policy_version_delete(db, account, p.name, v);
		if (rc == DD_ENOTFOUND)
			snprintf(msg, msglen, "Policy %s version %s does not exist.", arn, version_id ? version_id : "");
	}
	dd_store_iam_policy_clear(&p);
	if (rc || dd_db_commit(db))
		return fail_tx(db, rc ? rc : DD_EIO, msg, msglen);
	return 0;
}

int dd_iam_customer_delete(struct dd_db *db, const char *account, const char *arn, char *msg, size_t msglen)
{
	struct dd_store_iam_policy p;
	if (dd_db_begin_write(db))
		return fail_tx(db, DD_EIO, msg, msglen);
	int rc = local_policy(db, account, arn, &p, msg, msglen);
	if (rc)
		return rc;
	int64_t att = 0, bnd = 0, nv = 0;
	if (!(rc = dd_store_iam_attachment_count(db, account, arn, &att)) &&
	    !(rc = dd_store_iam_role_boundary_count(db, account, arn, &bnd)) &&
	    !(rc = dd_store_iam_policy_version_count(db, account, p.name, &nv))) {
		if (att > 0 || bnd > 0) {
			snprintf(msg, msglen, "Cannot delete a policy attached to entities.");
			rc = DD_ECONFLICT;
		} else if (nv > 1) {
			snprintf(msg, msglen, "This policy has more than one version. Before you delete a policy, you must delete the policy's versions. The default version is deleted with the policy.");
			rc = DD_ECONFLICT;
		} else {
			rc = dd_store_iam_policy_delete(db, account, p.name);
		}
	}
	dd_store_iam_policy_clear(&p);
	if (rc || dd_db_commit(db))
		return fail_tx(db, rc ? rc : DD_EIO, msg, msglen);
	return 0;
}

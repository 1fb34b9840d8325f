/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The policies of an IAM principal (role, user or group): inline policies and
 * managed-policy attachments with IAM's rules and quotas, and the documents that apply to
 * a principal, as dd_iam_policy.h describes. The rules are the same for the three kinds;
 * only the size limit of the inline policies and the quota names differ (the table
 * below). The SQL is the store's (store/dd_store_iam.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/iam/dd_iam_policy.h"
#include "dd/policy.h"
#include "dd/store.h"

/* The limits of a principal kind: the aggregate size of its inline policies (non-white-
 * space characters) and the quota name of its attachments. */
struct kind_limits {
	const char *label;
	size_t inline_max;
	const char *attach_quota;
};

static const struct kind_limits limits[] = {
	[DD_STORE_IAM_ROLE] = { "role", 10240, "PoliciesPerRole" },
	[DD_STORE_IAM_USER] = { "user", 2048, "PoliciesPerUser" },
	[DD_STORE_IAM_GROUP] = { "group", 5120, "PoliciesPerGroup" },
};

static const struct kind_limits *limits_of(enum dd_store_iam_kind kind)
{
	return (unsigned)kind < sizeof limits / sizeof limits[0] ? &limits[kind] : &limits[DD_STORE_IAM_ROLE];
}

static int store_err(int rc, char *msg, size_t msglen)
{
	snprintf(msg, msglen, rc == DD_ENOMEM ? "out of memory" : "An internal store error occurred.");
	return rc == DD_ENOMEM ? DD_ENOMEM : DD_EIO;
}

/* Rolls back db's open transaction and returns rc. */
static int abort_tx(struct dd_db *db, int rc)
{
	if (dd_db_in_tx(db))
		dd_db_rollback(db);
	return rc;
}

static int commit(struct dd_db *db, char *msg, size_t msglen)
{
	if (dd_db_commit(db))
		return abort_tx(db, store_err(DD_EIO, msg, msglen));
	return 0;
}

int dd_iam_policy_principal(struct dd_db *db, enum dd_store_iam_kind kind, const char *account, const char *name,
			    char canon[128], char *msg, size_t msglen)
{
	int rc = dd_store_iam_principal_name(db, kind, account, name ? name : "", canon);
	if (rc == DD_ENOTFOUND)
		snprintf(msg, msglen, "The %s with name %s cannot be found.", limits_of(kind)->label,
			 name ? name : "");
	else if (rc)
		return store_err(rc, msg, msglen);
	return rc;
}

int dd_iam_policy_validate(const char *document, size_t limit, const char *quota, char *msg, size_t msglen)
{
	char err[DD_POLICY_ERRMSG_SIZE];
	const char *doc = document ? document : "";
	int rc = dd_policy_validate(doc, strlen(doc), DD_POLICY_IAM, err, sizeof err);
	if (rc == DD_ENOMEM) {
		snprintf(msg, msglen, "out of memory");
		return rc;
	}
	if (rc) {
		snprintf(msg, msglen, "%s", err);
		return DD_EINVAL;
	}
	if (limit && dd_policy_count_nonws(doc, strlen(doc)) > limit) {
		snprintf(msg, msglen, "Cannot exceed quota for %s: %zu", quota ? quota : "PolicySize", limit);
		return DD_ELIMIT;
	}
	return 0;
}

struct size_sum {
	const char *except;
	size_t total;
};

static int add_size(const char *name, const char *document, void *ud)
{
	struct size_sum *s = ud;
	if (strcasecmp(name, s->except) != 0)
		s->total += dd_policy_count_nonws(document, strlen(document));
	return 0;
}

int dd_iam_policy_inline_put(struct dd_db *db, enum dd_store_iam_kind kind, const char *account,
			     const char *principal, const char *policy_name, const char *document, char *msg,
			     size_t msglen)
{
	int rc = dd_iam_policy_validate(document, 0, NULL, msg, msglen);
	if (rc)
		return rc;
	char canon[128];
	if (dd_db_begin_write(db))
		return store_err(DD_EIO, msg, msglen);
	if ((rc = dd_iam_policy_principal(db, kind, account, principal, canon, msg, msglen)))
		return abort_tx(db, rc);
	/* the aggregate size of a principal's inline policies is limited */
	struct size_sum sum = { policy_name ? policy_name : "", dd_policy_count_nonws(document, strlen(document)) };
	if ((rc = dd_store_iam_inline_list(db, kind, account, canon, NULL, 0, add_size, &sum)))
		return abort_tx(db, store_err(rc, msg, msglen));
	const struct kind_limits *l = limits_of(kind);
	if (sum.total > l->inline_max) {
		snprintf(msg, msglen, "Maximum policy size of %zu bytes exceeded for %s %s", l->inline_max, l->label, canon);
		return abort_tx(db, DD_ELIMIT);
	}
	if ((rc = dd_store_iam_inline_put(db, kind, account, canon, policy_name, document)))
		return abort_tx(db, store_err(rc, msg, msglen));
	return commit(db, msg, msglen);
}

static void no_inline(enum dd_store_iam_kind kind, const char *policy_name, char *msg, size_t msglen)
{
	snprintf(msg, msglen, "The %s policy with name %s cannot be found.", limits_of(kind)->label,
		 policy_name ? policy_name : "");
}

int dd_iam_policy_inline_get(struct dd_db *db, enum dd_store_iam_kind kind, const char *account,
			     const char *principal, const char *policy_name, char canon_principal[128],
			     char canon_policy[128], char **document, char *msg, size_t msglen)
{
	int rc = dd_iam_policy_principal(db, kind, account, principal, canon_principal, msg, msglen);
	if (rc)
		return rc;
	rc = dd_store_iam_inline_get(db, kind, account, canon_principal, policy_name, canon_policy, document);
	if (rc == DD_ENOTFOUND)
		no_inline(kind, policy_name, msg, msglen);
	else if (rc)
		return store_err(rc, msg, msglen);
	return rc;
}

int dd_iam_policy_inline_delete(struct dd_db *db, enum dd_store_iam_kind kind, const char *account,
				const char *principal, const char *policy_name, char *msg, size_t msglen)
{
	char canon[128];
	if (dd_db_begin_write(db))
		return store_err(DD_EIO, msg, msglen);
	int rc = dd_iam_policy_principal(db, kind, account, principal, canon, msg, msglen);
	if (rc)
		return abort_tx(db, rc);
	rc = dd_store_iam_inline_delete(db, kind, account, canon, policy_name);
	if (rc == DD_ENOTFOUND) {
		no_inline(kind, policy_name, msg, msglen);
		return abort_tx(db, rc);
	}
	if (rc)
		return abort_tx(db, store_err(rc, msg, msglen));
	return commit(db, msg, msglen);
}

/* Is policy_arn an AWS managed policy or a customer managed policy of account? */
static int attachable(struct dd_db *db, const char *account, const char *policy_arn)
{
	if (!policy_arn)
		return DD_ENOTFOUND;
	if (dd_iam_managed_find(policy_arn))
		return 0;
	struct dd_store_iam_policy p;
	int rc = dd_store_iam_policy_get_by_arn(db, account, policy_arn, &p);
	if (!rc)
		dd_store_iam_policy_clear(&p);
	return rc;
}

int dd_iam_policy_attach(struct dd_db *db, enum dd_store_iam_kind kind, const char *account, const char *principal,
			 const char *policy_arn, char *msg, size_t msglen)
{
	char canon[128];
	if (dd_db_begin_write(db))
		return store_err(DD_EIO, msg, msglen);
	int rc = dd_iam_policy_principal(db, kind, account, principal, canon, msg, msglen);
	if (rc)
		return abort_tx(db, rc);
	rc = attachable(db, account, policy_arn);
	if (rc == DD_ENOTFOUND) {
		snprintf(msg, msglen, "Policy %s does not exist or is not attachable.", policy_arn ? policy_arn : "");
		return abort_tx(db, rc);
	}
	int64_t have = 0;
	if (rc || (rc = dd_store_iam_attached_count(db, kind, account, canon, policy_arn, &have)))
		return abort_tx(db, store_err(rc, msg, msglen));
	if (have >= DD_IAM_POLICY_MAX_ATTACHED) {
		snprintf(msg, msglen, "Cannot exceed quota for %s: %d", limits_of(kind)->attach_quota,
			 DD_IAM_POLICY_MAX_ATTACHED);
		return abort_tx(db, DD_ELIMIT);
	}
	if ((rc = dd_store_iam_attach(db, kind, account, canon, policy_arn)))
		return abort_tx(db, store_err(rc, msg, msglen));
	return commit(db, msg, msglen);
}

int dd_iam_policy_detach(struct dd_db *db, enum dd_store_iam_kind kind, const char *account, const char *principal,
			 const char *policy_arn, char *msg, size_t msglen)
{
	char canon[128];
	if (dd_db_begin_write(db))
		return store_err(DD_EIO, msg, msglen);
	int rc = dd_iam_policy_principal(db, kind, account, principal, canon, msg, msglen);
	if (rc)
		return abort_tx(db, rc);
	rc = dd_store_iam_detach(db, kind, account, canon, policy_arn);
	if (rc == DD_ENOTFOUND) {
		snprintf(msg, msglen, "Policy %s was not found.", policy_arn ? policy_arn : "");
		return abort_tx(db, rc);
	}
	if (rc)
		return abort_tx(db, store_err(rc, msg, msglen));
	return commit(db, msg, msglen);
}

/* ---- the documents that apply ------------------------------------------------------ */

void dd_iam_policy_docs_clear(struct dd_iam_policy_docs *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->n; i++) {
		free(d->items[i].name);
		free(d->items[i].arn);
		free(d->items[i].document);
	}
	free(d->items);
	d->items = NULL;
	d->n = 0;
}

static int docs_add(struct dd_iam_policy_docs *d, const char *name, const char *arn, const char *document)
{
	struct dd_iam_policy_doc *n = realloc(d->items, (d->n + 1) * sizeof *n);
	if (!n)
		return DD_ENOMEM;
	d->items = n;
	struct dd_iam_policy_doc *e = &d->items[d->n++];
	e->name = strdup(name);
	e->arn = arn ? strdup(arn) : NULL;
	e->document = strdup(document);
	return e->name && e->document && (!arn || e->arn) ? 0 : DD_ENOMEM;
}

static int add_inline(const char *name, const char *document, void *ud)
{
	return docs_add(ud, name, NULL, document);
}

int dd_iam_policy_docs_add_inline(struct dd_db *db, enum dd_store_iam_kind kind, const char *account,
				  const char *principal, struct dd_iam_policy_docs *d)
{
	return dd_store_iam_inline_list(db, kind, account, principal, NULL, 0, add_inline, d);
}

int dd_iam_policy_docs_add_managed(struct dd_db *db, const char *account, const char *arn,
				   struct dd_iam_policy_docs *d)
{
	const struct dd_iam_managed_policy *m = dd_iam_managed_find(arn);
	if (m)
		return docs_add(d, m->name, m->arn, m->document);
	char name[160];
	char *doc = NULL;
	int rc = dd_store_iam_policy_default_document(db, account, arn, name, &doc);
	if (rc == DD_ENOTFOUND)
		return 0;
	if (!rc)
		rc = docs_add(d, name, arn, doc);
	free(doc);
	return rc;
}

struct arns {
	char **v;
	size_t n;
};

static int add_arn(const char *arn, void *ud)
{
	struct arns *a = ud;
	char **nv = realloc(a->v, (a->n + 1) * sizeof *nv);
	if (!nv)
		return DD_ENOMEM;
	a->v = nv;
	if (!(a->v[a->n] = strdup(arn)))
		return DD_ENOMEM;
	a->n++;
	return 0;
}

int dd_iam_policy_docs_add_attached(struct dd_db *db, enum dd_store_iam_kind kind, const char *account,
				    const char *principal, struct dd_iam_policy_docs *d)
{
	struct arns a = { 0 };
	int rc = dd_store_iam_attached_list(db, kind, account, principal, NULL, 0, add_arn, &a);
	for (size_t i = 0; i < a.n && !rc; i++)
		rc = dd_iam_policy_docs_add_managed(db, account, a.v[i], d);
	for (size_t i = 0; i < a.n; i++)
		free(a.v[i]);
	free(a.v);
	return rc;
}

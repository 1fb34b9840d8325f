/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The documents of every policy that applies to an IAM user, for authorization: its
 * inline policies, its groups' inline policies, and the managed policies attached to it
 * or to its groups — AWS managed ones from the static table (dd_iam_managed.c), customer
 * managed ones at their default version.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dd/iam.h"
#include "store/dd_store_iam_users.h"

static int docs_push(struct dd_iam_policy_docs *d, const char *name, const char *arn, const char *doc)
{
	struct dd_iam_policy_doc *n = realloc(d->items, (d->n + 1) * sizeof *n);
	if (!n)
		return DD_ENOMEM;
	d->items = n;
	struct dd_iam_policy_doc *e = &d->items[d->n++];
	e->name = strdup(name);
	e->arn = arn ? strdup(arn) : NULL;
	e->document = strdup(doc);
	return e->name && e->document && (!arn || e->arn) ? 0 : DD_ENOMEM;
}

static int inline_doc(const char *name, const char *document, void *ud)
{
	return docs_push(ud, name, NULL, document);
}

struct arns {
	char **v;
	size_t n;
};

static int arn_add(const char *arn, void *ud)
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

struct managed_ud {
	struct dd_iam_policy_docs *d;
	const char *arn;
};

static int managed_doc(const char *name, const char *document, void *ud)
{
	struct managed_ud *m = ud;
	return docs_push(m->d, name, m->arn, document);
}

int dd_iam_user_policies(struct dd_db *db, const char *account, const char *user, struct dd_iam_policy_docs *out)
{
	struct dd_iam_policy_docs d = { 0 };
	struct dd_store_iam_users_entity e;
	int rc = dd_store_iam_users_entity_get(db, DD_STORE_IAM_USERS_USER, account, user, &e);
	if (rc)
		return rc;
	/* inline: the user's, then its groups' */
	rc = dd_store_iam_users_user_inline_documents(db, account, user, inline_doc, &d);
	/* attached: the user's and its groups' (AWS managed from the static table) */
	struct arns a = { 0 };
	if (!rc)
		rc = dd_store_iam_users_user_attached_arns(db, account, user, arn_add, &a);
	for (size_t i = 0; i < a.n && !rc; i++) {
		const struct dd_iam_managed_policy *m = dd_iam_managed_find(a.v[i]);
		if (m) {
			rc = docs_push(&d, m->name, m->arn, m->document);
			continue;
		}
		struct managed_ud mu = { &d, a.v[i] };
		rc = dd_store_iam_users_managed_document(db, account, a.v[i], managed_doc, &mu);
		if (rc == DD_ENOTFOUND)
			rc = 0;
	}
	for (size_t i = 0; i < a.n; i++)
		free(a.v[i]);
	free(a.v);
	if (rc) {
		dd_iam_policy_docs_clear(&d);
		return rc;
	}
	*out = d;
	return 0;
}

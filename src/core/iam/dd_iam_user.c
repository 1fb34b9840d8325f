/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The rules of IAM users, groups and their access keys (dd_iam_user.h): quotas, what
 * blocks a delete, which policies attach, each write in one short transaction that bumps
 * the IAM generation; and, for authorization, the documents of every policy that applies
 * to a user: its inline policies, its groups' inline policies, and the managed policies
 * attached to it or to its groups — AWS managed ones from the static table
 * (dd_iam_managed.c), customer managed ones at their default version.
 */
#include "core/iam/dd_iam_user.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dd/iam.h"
#include "dd/policy.h"

#define MAX_USERS 5000
#define MAX_GROUPS 300
#define MAX_KEYS_PER_USER 2
#define MAX_GROUPS_PER_USER 10
#define MAX_ATTACHED 10
#define USER_INLINE_MAX 2048
#define GROUP_INLINE_MAX 5120

#define USER DD_STORE_IAM_USER
#define GROUP DD_STORE_IAM_GROUP

/* Rolls back an open transaction, writes msg and returns rc. */
static int fail(struct dd_db *db, int rc, char *msg, size_t msglen, const char *fmt, ...) DD_PRINTF(5, 6);
static int fail(struct dd_db *db, int rc, char *msg, size_t msglen, const char *fmt, ...)
{
	if (dd_db_in_tx(db))
		dd_db_rollback(db);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, msglen, fmt, ap);
	va_end(ap);
	return rc;
}

static int store_fail(struct dd_db *db, int rc, char *msg, size_t msglen)
{
	if (rc == DD_ENOMEM)
		return fail(db, rc, msg, msglen, "out of memory");
	return fail(db, DD_EIO, msg, msglen, "An internal store error occurred.");
}

static int commit(struct dd_db *db, char *msg, size_t msglen)
{
	if (dd_db_commit(db))
		return store_fail(db, DD_EIO, msg, msglen);
	dd_iam_generation_bump();
	return 0;
}

static int begin(struct dd_db *db, char *msg, size_t msglen)
{
	return dd_db_begin_write(db) ? store_fail(db, DD_EIO, msg, msglen) : 0;
}

/* Random IAM-style id: prefix then characters of alphabet, total len characters. */
static void rand_id(const char *prefix, const char *alphabet, char *out, size_t len)
{
	size_t n = strlen(prefix), na = strlen(alphabet);
	memcpy(out, prefix, n);
	while (n < len) {
		unsigned char r[64];
		if (dd_random_bytes(r, sizeof r))
			memset(r, 7, sizeof r);
		for (size_t i = 0; i < sizeof r && n < len; i++)
			if (r[i] < 256 - 256 % na)
				out[n++] = alphabet[r[i] % na];
	}
	out[len] = '\0';
}

static const char UPPER_DIGITS[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
static const char SECRET_CHARS[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int dd_iam_user_entity_get(struct dd_db *db, enum dd_store_iam_kind kind, const char *account, const char *name,
			   struct dd_store_iam_users_entity *out, char *msg, size_t msglen)
{
	int rc = dd_store_iam_users_entity_get(db, kind, account, name, out);
	if (rc == DD_ENOTFOUND)
		return fail(db, rc, msg, msglen, kind == USER ? "The user with name %s cannot be found."
							      : "The group with name %s cannot be found.", name ? name : "");
	return rc ? store_fail(db, rc, msg, msglen) : 0;
}

int dd_iam_user_entity_create(struct dd_db *db, enum dd_store_iam_kind kind, const char *account,
			      const char *name, const char *path, int64_t now_ms, struct dd_store_iam_users_entity *out,
			      char *msg, size_t msglen)
{
	struct dd_store_iam_users_entity e = { .created_ms = now_ms }, old;
	if (!name || snprintf(e.name, sizeof e.name, "%s", name) >= (int)sizeof e.name ||
	    snprintf(e.path, sizeof e.path, "%s", path) >= (int)sizeof e.path)
		return fail(db, DD_EINVAL, msg, msglen, "The %s name or path is too long.", kind == USER ? "user" : "group");
	rand_id(kind == USER ? "AIDA" : "AGPA", UPPER_DIGITS, e.id, 21);
	int64_t total = 0;
	if (begin(db, msg, msglen))
		return DD_EIO;
	int rc = dd_store_iam_users_entity_get(db, kind, account, name, &old);
	if (rc == 0)
		return fail(db, DD_EEXIST, msg, msglen, kind == USER ? "User with name %s already exists."
								     : "Group with name %s already exists.", name);
	if (rc != DD_ENOTFOUND || (rc = dd_store_iam_users_entity_count(db, kind, account, &total)))
		return store_fail(db, rc, msg, msglen);
	if (total >= (kind == USER ? MAX_USERS : MAX_GROUPS))
		return fail(db, DD_ELIMIT, msg, msglen, "Cannot exceed quota for %s: %d",
			    kind == USER ? "UsersPerAccount" : "GroupsPerAccount", kind == USER ? MAX_USERS : MAX_GROUPS);
	if ((rc = dd_store_iam_users_entity_insert(db, kind, account, &e)) ||
	    (rc = dd_store_iam_users_entity_get(db, kind, account, name, out)))
		return store_fail(db, rc, msg, msglen);
	return commit(db, msg, msglen);
}

static int conflict(struct dd_db *db, char *msg, size_t msglen, const char *what)
{
	return fail(db, DD_ECONFLICT, msg, msglen, "Cannot delete entity, must %s first.", what);
}

int dd_iam_user_entity_delete(struct dd_db *db, enum dd_store_iam_kind kind, const char *account,
			      const char *name, char *msg, size_t msglen)
{
	struct dd_store_iam_users_entity e;
	struct dd_store_iam_users_deps d;
	if (begin(db, msg, msglen))
		return DD_EIO;
	int rc = dd_iam_user_entity_get(db, kind, account, name, &e, msg, msglen);
	if (rc)
		return rc;
	if ((rc = dd_store_iam_users_entity_deps(db, kind, account, e.name, &d)))
		return store_fail(db, rc, msg, msglen);
	if (d.access_keys)
		return conflict(db, msg, msglen, "delete access keys");
	if (kind == GROUP && d.memberships)
		return conflict(db, msg, msglen, "remove users from group");
	if (d.inline_policies)
		return conflict(db, msg, msglen, "delete policies");
	if (d.attached_policies)
		return conflict(db, msg, msglen, "detach all policies");
	if (d.memberships)
		return conflict(db, msg, msglen, "remove user from all groups");
	if ((rc = dd_store_iam_users_entity_delete(db, kind, account, e.name)))
		return store_fail(db, rc, msg, msglen);
	return commit(db, msg, msglen);
}

int dd_iam_user_membership_add(struct dd_db *db, const char *account, const char *group, const char *user, char *msg,
			       size_t msglen)
{
	struct dd_store_iam_users_entity g, u;
	int64_t have = 0;
	if (begin(db, msg, msglen))
		return DD_EIO;
	int rc = dd_iam_user_entity_get(db, GROUP, account, group, &g, msg, msglen);
	if (!rc)
		rc = dd_iam_user_entity_get(db, USER, account, user, &u, msg, msglen);
	if (rc)
		return rc;
	if ((rc = dd_store_iam_users_membership_count(db, account, u.name, g.name, &have)))
		return store_fail(db, rc, msg, msglen);
	if (have >= MAX_GROUPS_PER_USER)
		return fail(db, DD_ELIMIT, msg, msglen, "Cannot exceed quota for GroupsPerUser: %d", MAX_GROUPS_PER_USER);
	if ((rc = dd_store_iam_users_membership_add(db, account, g.name, u.name)))
		return store_fail(db, rc, msg, msglen);
	return commit(db, msg, msglen);
}

int dd_iam_user_membership_remove(struct dd_db *db, const char *account, const char *group, const char *user,
				  char *msg, size_t msglen)
{
	struct dd_store_iam_users_entity g, u;
	if (begin(db, msg, msglen))
		return DD_EIO;
	int rc = dd_iam_user_entity_get(db, GROUP, account, group, &g, msg, msglen);
	if (!rc)
		rc = dd_iam_user_entity_get(db, USER, account, user, &u, msg, msglen);
	if (rc)
		return rc;
	rc = dd_store_iam_users_membership_remove(db, account, g.name, u.name);
	if (rc == DD_ENOTFOUND)
		return fail(db, rc, msg, msglen, "The user with name %s is not a member of the group.", u.name);
	if (rc)
		return store_fail(db, rc, msg, msglen);
	return commit(db, msg, msglen);
}

int dd_iam_user_key_create(struct dd_db *db, const struct dd_iam_secrets *secrets, const char *account,
			   const char *user, int64_t now_ms, char key[21], char secret[41], char user_out[65], char *msg,
			   size_t msglen)
{
	struct dd_store_iam_users_entity u;
	int64_t n = 0;
	char sealed[DD_IAM_SECRETS_STORED_MAX];
	rand_id("AKIA", UPPER_DIGITS, key, 20);
	rand_id("", SECRET_CHARS, secret, 40);
	if (!secrets || dd_iam_secrets_seal(secrets, account, key, secret, sealed, sizeof sealed)) {
		snprintf(msg, msglen, "The secret access key could not be sealed for storage.");
		return DD_EIO;
	}
	if (begin(db, msg, msglen))
		return DD_EIO;
	int rc = dd_iam_user_entity_get(db, USER, account, user, &u, msg, msglen);
	if (rc)
		return rc;
	if ((rc = dd_store_iam_users_key_count(db, account, u.name, &n)))
		return store_fail(db, rc, msg, msglen);
	if (n >= MAX_KEYS_PER_USER)
		return fail(db, DD_ELIMIT, msg, msglen, "Cannot exceed quota for AccessKeysPerUser: %d", MAX_KEYS_PER_USER);
	if ((rc = dd_store_iam_users_key_insert(db, account, u.name, key, sealed, now_ms)))
		return store_fail(db, rc, msg, msglen);
	snprintf(user_out, 65, "%.64s", u.name);
	return commit(db, msg, msglen);
}

int dd_iam_user_key_update(struct dd_db *db, const char *account, const char *user, const char *key, bool active,
			   bool remove, char *msg, size_t msglen)
{
	struct dd_store_iam_users_entity u;
	if (begin(db, msg, msglen))
		return DD_EIO;
	int rc = dd_iam_user_entity_get(db, USER, account, user, &u, msg, msglen);
	if (rc)
		return rc;
	rc = remove ? dd_store_iam_users_key_delete(db, account, u.name, key)
		    : dd_store_iam_users_key_set_active(db, account, u.name, key, active);
	if (rc == DD_ENOTFOUND)
		return fail(db, rc, msg, msglen, "The Access Key with id %s cannot be found.", key ? key : "");
	if (rc)
		return store_fail(db, rc, msg, msglen);
	return commit(db, msg, msglen);
}

/* Sums the non-white-space characters of the entity's inline policies but one. */
struct nonws {
	const char *except;  /* the policy being replaced */
	size_t total;
};

static int add_nonws(const char *name, const char *doc, void *ud)
{
	struct nonws *n = ud;
	if (!n->except || strcasecmp(name, n->except) != 0)
		n->total += dd_policy_count_nonws(doc, strlen(doc));
	return 0;
}

int dd_iam_user_policy_put(struct dd_db *db, enum dd_store_iam_kind kind, const char *account,
			   const char *entity, const char *pname, const char *document, char *msg, size_t msglen)
{
	char err[DD_POLICY_ERRMSG_SIZE];
	struct dd_store_iam_users_entity e;
	size_t max = kind == USER ? USER_INLINE_MAX : GROUP_INLINE_MAX;
	int rc = dd_policy_validate(document, strlen(document), DD_POLICY_IAM, err, sizeof err);
	if (rc == DD_ENOMEM)
		return fail(db, rc, msg, msglen, "out of memory");
	if (rc)
		return fail(db, DD_EINVAL, msg, msglen, "%s", err);
	if (begin(db, msg, msglen))
		return DD_EIO;
	if ((rc = dd_iam_user_entity_get(db, kind, account, entity, &e, msg, msglen)))
		return rc;
	struct nonws nw = { pname, dd_policy_count_nonws(document, strlen(document)) };
	if ((rc = dd_store_iam_inline_list(db, kind, account, e.name, NULL, 0, add_nonws, &nw)))
		return store_fail(db, rc, msg, msglen);
	size_t total = nw.total;
	if (total > max)
		return fail(db, DD_ELIMIT, msg, msglen, "Maximum policy size of %zu bytes exceeded for %s %s", max,
			    kind == USER ? "user" : "group", e.name);
	if ((rc = dd_store_iam_inline_put(db, kind, account, e.name, pname, document)))
		return store_fail(db, rc, msg, msglen);
	return commit(db, msg, msglen);
}

int dd_iam_user_policy_delete(struct dd_db *db, enum dd_store_iam_kind kind, const char *account,
			      const char *entity, const char *pname, char *msg, size_t msglen)
{
	struct dd_store_iam_users_entity e;
	if (begin(db, msg, msglen))
		return DD_EIO;
	int rc = dd_iam_user_entity_get(db, kind, account, entity, &e, msg, msglen);
	if (rc)
		return rc;
	rc = dd_store_iam_inline_delete(db, kind, account, e.name, pname);
	if (rc == DD_ENOTFOUND)
		return fail(db, rc, msg, msglen, kind == USER ? "The user policy with name %s cannot be found."
							      : "The group policy with name %s cannot be found.", pname ? pname : "");
	if (rc)
		return store_fail(db, rc, msg, msglen);
	return commit(db, msg, msglen);
}

int dd_iam_user_attach(struct dd_db *db, enum dd_store_iam_kind kind, const char *account, const char *entity,
		       const char *arn, bool on, char *msg, size_t msglen)
{
	struct dd_store_iam_users_entity e;
	if (begin(db, msg, msglen))
		return DD_EIO;
	int rc = dd_iam_user_entity_get(db, kind, account, entity, &e, msg, msglen);
	if (rc)
		return rc;
	if (on) {
		/* attachable: AWS managed, or a customer managed policy of the account */
		bool exists = dd_iam_managed_find(arn) != NULL;
		int64_t have = 0;
		if (!exists) {
			struct dd_store_iam_policy p;
			rc = dd_store_iam_policy_get_by_arn(db, account, arn ? arn : "", &p);
			if (rc && rc != DD_ENOTFOUND)
				return store_fail(db, rc, msg, msglen);
			if (!rc)
				dd_store_iam_policy_clear(&p);
			exists = rc == 0;
		}
		if (!exists)
			return fail(db, DD_ENOTFOUND, msg, msglen, "Policy %s does not exist or is not attachable.", arn ? arn : "");
		if ((rc = dd_store_iam_attached_count(db, kind, account, e.name, arn, &have)))
			return store_fail(db, rc, msg, msglen);
		if (have >= MAX_ATTACHED)
			return fail(db, DD_ELIMIT, msg, msglen, "Cannot exceed quota for %s: %d",
				    kind == USER ? "PoliciesPerUser" : "PoliciesPerGroup", MAX_ATTACHED);
	}
	rc = on ? dd_store_iam_attach(db, kind, account, e.name, arn)
		: dd_store_iam_detach(db, kind, account, e.name, arn);
	if (rc == DD_ENOTFOUND)
		return fail(db, rc, msg, msglen, "Policy %s was not found.", arn ? arn : "");
	if (rc)
		return store_fail(db, rc, msg, msglen);
	return commit(db, msg, msglen);
}

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

int dd_iam_user_policies(struct dd_db *db, const char *account, const char *user, struct dd_iam_policy_docs *out)
{
	struct dd_iam_policy_docs d = { 0 };
	struct dd_store_iam_users_entity e;
	int rc = dd_store_iam_users_entity_get(db, USER, account, user, &e);
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
		char name[160];
		char *doc = NULL;
		rc = dd_store_iam_policy_default_document(db, account, a.v[i], name, &doc);
		if (!rc)
			rc = docs_push(&d, name, a.v[i], doc);
		free(doc);
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

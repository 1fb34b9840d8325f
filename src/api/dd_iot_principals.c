/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The principal listings of the newer and the deprecated API: ListThingPrincipalsV2 and
 * ListPrincipalThingsV2 (with each attachment's thingPrincipalType, and a filter on it),
 * and AttachPrincipalPolicy, DetachPrincipalPolicy, ListPrincipalPolicies and
 * ListPolicyPrincipals, which AWS keeps as older names for attaching a policy to a
 * principal: they share AttachPolicy's store (policy_targets) and rules, so either name
 * sees what the other attached. ListPolicyPrincipals lists principals only (certificates
 * and Cognito identities), not the thing groups a policy is also attached to. The SQL is
 * in src/store/dd_store_principals.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/dd_api_common.h"
#include "api/dd_iot_policies.h"
#include "store/dd_store_principals.h"

struct list_pairs {
	struct dd_ctx *c;
	struct dd__page pg;
	const char *member; /* the key's member in each item */
};

static int pair_row(const char *key, const char *type, void *ud)
{
	struct list_pairs *l = ud;
	if (!dd__page_take(&l->pg, key))
		return 0;
	json_t *o = json_pack("{s:s, s:s}", l->member, key, "thingPrincipalType", type);
	return !o || json_array_append_new(l->pg.arr, o) ? DD_ENOMEM : 0;
}

static int list_thing_principals_v2(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *thing = dd__str(in, "thingName");
	if (!dd__thing_exists(c, thing))
		return dd_fail(c, DD_ENOTFOUND, "ResourceNotFoundException", "Thing %s cannot be found.", thing);
	char after[1024];
	int size;
	if (dd__page(c, in, "nextToken", "maxResults", 50, 250, after, sizeof after, &size))
		return c->err;
	struct list_pairs l = { .c = c, .member = "principal" };
	dd__page_start(&l.pg, json_array(), size);
	int rc = dd_store_principals_of_thing(c->db, c->account_region, thing, dd__str(in, "thingPrincipalType"), after,
					      size + 1, pair_row, &l);
	return dd__page_reply(c, &l.pg, rc, "thingPrincipalObjects", "nextToken", out);
}

static int list_principal_things_v2(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *principal = dd__str(in, "principal");
	if (dd__thing_principal_check(c, principal))
		return c->err;
	char after[1024];
	int size;
	if (dd__page(c, in, "nextToken", "maxResults", 50, 250, after, sizeof after, &size))
		return c->err;
	struct list_pairs l = { .c = c, .member = "thingName" };
	dd__page_start(&l.pg, json_array(), size);
	int rc = dd_store_principals_things_of(c->db, c->account_region, principal, dd__str(in, "thingPrincipalType"), after,
					       size + 1, pair_row, &l);
	return dd__page_reply(c, &l.pg, rc, "principalThingObjects", "nextToken", out);
}

/* AttachPrincipalPolicy / DetachPrincipalPolicy: AttachPolicy / DetachPolicy with the
 * principal as the target */
static int as_target(struct dd_ctx *c, json_t *in, json_t **out, dd_handler_fn fn)
{
	json_t *t = json_pack("{s:s?, s:s?}", "policyName", dd__str(in, "policyName"), "target", dd__str(in, "principal"));
	if (!t)
		return dd_fail(c, DD_ENOMEM, "InternalFailureException", "out of memory");
	int rc = fn(c, t, out);
	json_decref(t);
	return rc;
}

static int attach_principal_policy(struct dd_ctx *c, json_t *in, json_t **out)
{
	return as_target(c, in, out, dd_iot_policies_attach);
}

static int detach_principal_policy(struct dd_ctx *c, json_t *in, json_t **out)
{
	return as_target(c, in, out, dd_iot_policies_detach);
}

struct list_policies {
	struct dd_ctx *c;
	struct dd__page pg;
};

static int policy_row(const char *name, const char *type, void *ud)
{
	struct list_policies *l = ud;
	(void)type;
	if (!dd__page_take(&l->pg, name))
		return 0;
	json_t *o = json_pack("{s:s, s:o}", "policyName", name, "policyArn", dd__arn(l->c, "policy/%s", name));
	return !o || json_array_append_new(l->pg.arr, o) ? DD_ENOMEM : 0;
}

static int principal_row(const char *target, const char *type, void *ud)
{
	(void)type;
	return dd__page_name_row(target, ud);
}

/* ListPrincipalPolicies / ListPolicyPrincipals page with marker / pageSize, ascending
 * unless ascendingOrder=false */
static int list_principal_policies(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *principal = dd__str(in, "principal");
	if (dd__policy_target_check(c, principal))
		return c->err;
	char after[1024];
	int size;
	if (dd__page(c, in, "marker", "pageSize", 250, 250, after, sizeof after, &size))
		return c->err;
	struct list_policies l = { .c = c };
	dd__page_start(&l.pg, json_array(), size);
	int rc = dd_store_principals_policies_of(c->db, c->account_region, principal, dd__bool(in, "ascendingOrder", true),
						 after, size + 1, policy_row, &l);
	return dd__page_reply(c, &l.pg, rc, "policies", "nextMarker", out);
}

static int list_policy_principals(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *name = dd__str(in, "policyName");
	int r = dd_store_principals_policy_exists(c->db, c->account_region, name);
	if (r == 0)
		return dd_fail(c, DD_ENOTFOUND, "ResourceNotFoundException", "Policy %s does not exist.", name);
	if (r < 0)
		return dd__db_fail(c);
	char after[1024];
	int size;
	if (dd__page(c, in, "marker", "pageSize", 250, 250, after, sizeof after, &size))
		return c->err;
	/* principals: certificates and Cognito identities, not thing groups */
	struct dd__page pg;
	dd__page_start(&pg, json_array(), size);
	int rc = dd_store_principals_of_policy(c->db, c->account_region, name, dd__bool(in, "ascendingOrder", true), after,
					       size + 1, principal_row, &pg);
	return dd__page_reply(c, &pg, rc, "principals", "nextMarker", out);
}

const struct dd_handler dd_iot_principals_handlers[] = {
	{ "iot", "ListThingPrincipalsV2", list_thing_principals_v2 },
	{ "iot", "ListPrincipalThingsV2", list_principal_things_v2 },
	{ "iot", "AttachPrincipalPolicy", attach_principal_policy },
	{ "iot", "DetachPrincipalPolicy", detach_principal_policy },
	{ "iot", "ListPrincipalPolicies", list_principal_policies },
	{ "iot", "ListPolicyPrincipals", list_policy_principals },
	{ NULL, NULL, NULL },
};

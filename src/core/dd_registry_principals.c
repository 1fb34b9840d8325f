/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The principal listings of the newer and the deprecated API: ListThingPrincipalsV2 and
 * ListPrincipalThingsV2 (with each attachment's thingPrincipalType, and a filter on it),
 * and AttachPrincipalPolicy, DetachPrincipalPolicy, ListPrincipalPolicies and
 * ListPolicyPrincipals, which AWS keeps as older names for attaching a policy to a
 * principal: they share AttachPolicy's store (policy_targets) and rules, so either name
 * sees what the other attached. ListPolicyPrincipals lists principals only (certificates
 * and Cognito identities), not the thing groups a policy is also attached to.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/dd_registry_int.h"
#include "core/dd_registry_handlers.h"

static json_t *pair_row(struct dd_ctx *c, sqlite3_stmt *st, char *key, size_t keylen, const char *member)
{
	(void)c;
	snprintf(key, keylen, "%s", dd_col_text(st, 0));
	return json_pack("{s:s, s:s}", member, dd_col_text(st, 0), "thingPrincipalType", dd_col_text(st, 1));
}

static json_t *principal_row(struct dd_ctx *c, sqlite3_stmt *st, char *key, size_t keylen)
{
	return pair_row(c, st, key, keylen, "principal");
}

static json_t *thing_row(struct dd_ctx *c, sqlite3_stmt *st, char *key, size_t keylen)
{
	return pair_row(c, st, key, keylen, "thingName");
}

static int list_v2(struct dd_ctx *c, json_t *in, const char *sql, const char *key, dd__row_fn fn, const char *member,
		   json_t **out)
{
	char after[1024];
	int size;
	if (dd__page(c, in, "nextToken", "maxResults", 50, 250, after, sizeof after, &size))
		return c->err;
	sqlite3_stmt *st = dd_db_stmt(c->db, sql);
	if (!st)
		return dd__db_fail(c);
	dd_bind_text(st, 1, c->account_region);
	dd_bind_text(st, 2, key);
	dd_bind_text(st, 3, after);
	dd_bind_text(st, 4, dd__str(in, "thingPrincipalType"));
	dd_bind_int64(st, 5, size + 1);
	return dd__page_list(c, st, size, fn, member, "nextToken", out);
}

int dd_iot_list_thing_principals_v2(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *thing = dd__str(in, "thingName");
	if (!dd__thing_exists(c, thing))
		return dd_fail(c, DD_ENOTFOUND, "ResourceNotFoundException", "Thing %s cannot be found.", thing);
	return list_v2(c, in,
		       "SELECT principal, type FROM thing_principals WHERE account_region = ?1 AND thing_name = ?2"
		       " AND principal > ?3 AND (?4 IS NULL OR type = ?4) ORDER BY principal LIMIT ?5",
		       thing, principal_row, "thingPrincipalObjects", out);
}

int dd_iot_list_principal_things_v2(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *principal = dd__str(in, "principal");
	if (dd__thing_principal_check(c, principal))
		return c->err;
	return list_v2(c, in,
		       "SELECT thing_name, type FROM thing_principals WHERE account_region = ?1 AND principal = ?2"
		       " AND thing_name > ?3 AND (?4 IS NULL OR type = ?4) ORDER BY thing_name LIMIT ?5",
		       principal, thing_row, "principalThingObjects", out);
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

int dd_iot_attach_principal_policy(struct dd_ctx *c, json_t *in, json_t **out)
{
	return as_target(c, in, out, dd_iot_attach_policy);
}

int dd_iot_detach_principal_policy(struct dd_ctx *c, json_t *in, json_t **out)
{
	return as_target(c, in, out, dd_iot_detach_policy);
}

/* ListPrincipalPolicies / ListPolicyPrincipals page with marker / pageSize, ascending
 * unless isAscendingOrder=false */
static int list_old(struct dd_ctx *c, json_t *in, const char *sql_asc, const char *sql_desc, const char *key,
		    dd__row_fn fn, const char *member, json_t **out)
{
	char after[1024];
	int size;
	if (dd__page(c, in, "marker", "pageSize", 250, 250, after, sizeof after, &size))
		return c->err;
	bool asc = dd__bool(in, "ascendingOrder", true);
	sqlite3_stmt *st = dd_db_stmt(c->db, asc ? sql_asc : sql_desc);
	if (!st)
		return dd__db_fail(c);
	dd_bind_text(st, 1, c->account_region);
	dd_bind_text(st, 2, key);
	/* the first descending page starts after every key */
	if (asc || after[0])
		dd_bind_text(st, 3, after);
	dd_bind_int64(st, 4, size + 1);
	return dd__page_list(c, st, size, fn, member, "nextMarker", out);
}

static json_t *policy_row(struct dd_ctx *c, sqlite3_stmt *st, char *key, size_t keylen)
{
	const char *nm = dd_col_text(st, 0);
	snprintf(key, keylen, "%s", nm);
	return json_pack("{s:s, s:o}", "policyName", nm, "policyArn", dd__arn(c, "policy/%s", nm));
}

int dd_iot_list_principal_policies(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *principal = dd__str(in, "principal");
	if (dd__policy_target_check(c, principal))
		return c->err;
	return list_old(c, in,
			"SELECT policy_name FROM policy_targets WHERE account_region = ?1 AND target = ?2 AND policy_name > ?3"
			" ORDER BY policy_name LIMIT ?4",
			"SELECT policy_name FROM policy_targets WHERE account_region = ?1 AND target = ?2"
			" AND (?3 IS NULL OR policy_name < ?3) ORDER BY policy_name DESC LIMIT ?4",
			principal, policy_row, "policies", out);
}

int dd_iot_list_policy_principals(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *name = dd__str(in, "policyName");
	sqlite3_stmt *st = dd_db_stmt(c->db, "SELECT 1 FROM policies WHERE account_region = ?1 AND name = ?2");
	if (!st)
		return dd__db_fail(c);
	dd_bind_text(st, 1, c->account_region);
	dd_bind_text(st, 2, name);
	int r = sqlite3_step(st);
	sqlite3_reset(st);
	if (r == SQLITE_DONE)
		return dd_fail(c, DD_ENOTFOUND, "ResourceNotFoundException", "Policy %s does not exist.", name);
	if (r != SQLITE_ROW)
		return dd__db_fail(c);
	/* principals: certificates and Cognito identities, not thing groups */
	return list_old(c, in,
			"SELECT target FROM policy_targets WHERE account_region = ?1 AND policy_name = ?2 AND target > ?3"
			" AND target NOT GLOB 'arn:*:thinggroup/*' ORDER BY target LIMIT ?4",
			"SELECT target FROM policy_targets WHERE account_region = ?1 AND policy_name = ?2"
			" AND (?3 IS NULL OR target < ?3) AND target NOT GLOB 'arn:*:thinggroup/*' ORDER BY target DESC LIMIT ?4",
			name, dd__row_text0, "principals", out);
}

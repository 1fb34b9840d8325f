/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The role alias API (CreateRoleAlias … DeleteRoleAlias): an alias names an IAM role of
 * the caller's account (checked) and a credential duration; the audit reads them for the
 * role-alias checks. The rows live in store/dd_store_role_aliases.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/dd_api_common.h"
#include "store/dd_store_role_aliases.h"

static int alias_missing(struct dd_ctx *c, const char *alias)
{
	if (dd_db_in_tx(c->db))
		dd_db_rollback(c->db);
	return dd_fail(c, DD_ENOTFOUND, "ResourceNotFoundException", "Role alias %s does not exist.", alias);
}

static int create_role_alias(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *alias = dd__str(in, "roleAlias");
	const char *role = dd__str(in, "roleArn");
	int64_t duration = dd__int(in, "credentialDurationSeconds", 3600);
	if (dd__role_arn_ok(c, "roleArn", role, "InvalidRequestException"))
		return c->err;
	char arn[700];
	dd__arn_buf(c, arn, sizeof arn, "rolealias/%s", alias);
	if (dd_db_begin_write(c->db))
		return dd__db_fail(c);
	int rc = dd_store_role_aliases_insert(c->db, c->account_region, alias, role, duration, c->now_ms);
	if (rc == DD_EEXIST) {
		dd_db_rollback(c->db);
		return dd_fail_exists(c, alias, arn, "Role alias %s already exists.", alias);
	}
	if (rc || dd__tags_put(c, arn, json_object_get(in, "tags")) || dd_db_commit(c->db))
		return dd__db_fail(c);
	*out = json_pack("{s:s, s:s}", "roleAlias", alias, "roleAliasArn", arn);
	return 0;
}

static int describe_role_alias(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *alias = dd__str(in, "roleAlias");
	struct dd_store_role_aliases_row r;
	int rc = dd_store_role_aliases_get(c->db, c->account_region, alias, &r);
	if (rc == DD_ENOTFOUND)
		return alias_missing(c, alias);
	if (rc)
		return dd__db_fail(c);
	json_t *d = json_pack("{s:s, s:o, s:s, s:s, s:I, s:o, s:o}", "roleAlias", alias, "roleAliasArn",
			      dd__arn(c, "rolealias/%s", alias), "roleArn", r.role_arn, "owner", c->account,
			      "credentialDurationSeconds", (json_int_t)r.duration, "creationDate", dd_json_time(r.created),
			      "lastModifiedDate", dd_json_time(r.modified));
	*out = json_pack("{s:o}", "roleAliasDescription", d);
	return 0;
}

struct alias_page {
	json_t *arr;
	int n, size;
	bool more;
	char last[256];
};

static int alias_item(void *ud, const char *alias)
{
	struct alias_page *pg = ud;
	if (pg->n == pg->size) {
		pg->more = true;
		return 1;
	}
	json_array_append_new(pg->arr, json_string(alias));
	snprintf(pg->last, sizeof pg->last, "%s", alias);
	pg->n++;
	return 0;
}

static int list_role_aliases(struct dd_ctx *c, json_t *in, json_t **out)
{
	char after[512];
	struct alias_page pg = { 0 };
	if (dd__page(c, in, "marker", "pageSize", 250, 250, after, sizeof after, &pg.size))
		return c->err;
	bool asc = dd__bool(in, "ascendingOrder", true);
	pg.arr = json_array();
	if (dd_store_role_aliases_list(c->db, c->account_region, after, asc, pg.size + 1, alias_item, &pg)) {
		json_decref(pg.arr);
		return dd__db_fail(c);
	}
	*out = json_pack("{s:o}", "roleAliases", pg.arr);
	dd__page_next(*out, "nextMarker", pg.more, pg.last);
	return 0;
}

static int update_role_alias(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *alias = dd__str(in, "roleAlias");
	const char *role = dd__str(in, "roleArn");
	int64_t duration = dd__int(in, "credentialDurationSeconds", -1);
	if (role && dd__role_arn_ok(c, "roleArn", role, "InvalidRequestException"))
		return c->err;
	if (dd_db_begin_write(c->db))
		return dd__db_fail(c);
	int rc = dd_store_role_aliases_update(c->db, c->account_region, alias, role, duration, c->now_ms);
	if (rc == DD_ENOTFOUND)
		return alias_missing(c, alias);
	if (rc || dd_db_commit(c->db))
		return dd__db_fail(c);
	*out = json_pack("{s:s, s:o}", "roleAlias", alias, "roleAliasArn", dd__arn(c, "rolealias/%s", alias));
	return 0;
}

static int delete_role_alias(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *alias = dd__str(in, "roleAlias");
	*out = NULL;
	if (dd_db_begin_write(c->db))
		return dd__db_fail(c);
	int rc = dd_store_role_aliases_delete(c->db, c->account_region, alias);
	if (rc == DD_ENOTFOUND)
		return alias_missing(c, alias);
	if (rc || dd_db_commit(c->db))
		return dd__db_fail(c);
	return 0;
}

const struct dd_handler dd_iot_role_aliases_handlers[] = {
	{ "iot", "CreateRoleAlias", create_role_alias },
	{ "iot", "DescribeRoleAlias", describe_role_alias },
	{ "iot", "ListRoleAliases", list_role_aliases },
	{ "iot", "UpdateRoleAlias", update_role_alias },
	{ "iot", "DeleteRoleAlias", delete_role_alias },
	{ NULL, NULL, NULL },
};

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The billing groups API: create, describe, list, update and delete billing groups, add
 * and remove things, and list a group's things. A thing is in at most one billing group
 * (core/registry/dd_registry_types.h), kept as a field of the thing, so deleting either
 * side drops the membership. The SQL is in src/store/dd_store_types.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/dd_api_common.h"
#include "core/registry/dd_registry_types.h"
#include "store/dd_store_types.h"

static bool same_text(const char *a, const char *b) { return strcmp(a ? a : "", b ? b : "") == 0; }

static int create_billing_group(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *name = dd__str(in, "billingGroupName");
	const char *desc = dd__str(json_object_get(in, "billingGroupProperties"), "billingGroupDescription");
	char id[37], arn[700];
	dd_random_uuid(id);
	dd__arn_buf(c, arn, sizeof arn, "billinggroup/%s", name);
	if (dd_db_begin_write(c->db))
		return dd__db_fail(c);
	struct dd_store_types_billing_row b;
	int rc = dd_store_types_billing_get(c->db, c->account_region, name, &b);
	if (rc == 0) {
		bool same = same_text(b.description, desc);
		snprintf(id, sizeof id, "%s", b.id);
		dd_store_types_billing_row_clear(&b);
		dd_db_rollback(c->db);
		if (!same)
			return dd_fail_exists(c, id, arn, "Billing group %s already exists with different properties.", name);
		goto ok;
	}
	if (rc != DD_ENOTFOUND)
		return dd__db_fail(c);
	struct dd_store_types_billing_row row = { .description = (char *)desc, .created_ms = c->now_ms };
	snprintf(row.name, sizeof row.name, "%s", name);
	snprintf(row.id, sizeof row.id, "%s", id);
	if (dd_store_types_billing_insert(c->db, c->account_region, &row) ||
	    dd__tags_put(c, arn, json_object_get(in, "tags")) || dd_db_commit(c->db))
		return dd__db_fail(c);
ok:
	*out = json_pack("{s:s, s:s, s:s}", "billingGroupName", name, "billingGroupArn", arn, "billingGroupId", id);
	return 0;
}

static int describe_billing_group(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *name = dd__str(in, "billingGroupName");
	struct dd_store_types_billing_row b;
	int rc = dd_store_types_billing_get(c->db, c->account_region, name, &b);
	if (rc == DD_ENOTFOUND)
		return dd_fail(c, DD_ENOTFOUND, "ResourceNotFoundException", "Billing group %s does not exist.", name);
	if (rc)
		return dd__db_fail(c);
	json_t *props = json_object();
	if (b.description)
		json_object_set_new(props, "billingGroupDescription", json_string(b.description));
	*out = json_pack("{s:s, s:s, s:o, s:I, s:o, s:{s:o}}", "billingGroupName", name, "billingGroupId", b.id,
			 "billingGroupArn", dd__arn(c, "billinggroup/%s", name), "version", (json_int_t)b.version,
			 "billingGroupProperties", props, "billingGroupMetadata", "creationDate", dd_json_time(b.created_ms));
	dd_store_types_billing_row_clear(&b);
	return 0;
}

struct list_billing {
	struct dd_ctx *c;
	struct dd__page pg;
};

static int billing_row(const char *name, void *ud)
{
	struct list_billing *l = ud;
	if (!dd__page_take(&l->pg, name))
		return 0;
	json_t *g = json_pack("{s:s, s:o}", "groupName", name, "groupArn", dd__arn(l->c, "billinggroup/%s", name));
	return !g || json_array_append_new(l->pg.arr, g) ? DD_ENOMEM : 0;
}

static int list_billing_groups(struct dd_ctx *c, json_t *in, json_t **out)
{
	char after[512];
	int size;
	if (dd__page(c, in, "nextToken", "maxResults", 50, 250, after, sizeof after, &size))
		return c->err;
	struct list_billing l = { .c = c };
	dd__page_start(&l.pg, json_array(), size);
	int rc = dd_store_types_billing_list(c->db, c->account_region, dd__str(in, "namePrefixFilter"), after, size + 1,
					     billing_row, &l);
	return dd__page_reply(c, &l.pg, rc, "billingGroups", "nextToken", out);
}

/* The billing group's version inside the caller's transaction: 0, or fails c after a
 * rollback (not found unless missing_ok, which answers DD_ENOTFOUND without failing c). */
static int billing_version(struct dd_ctx *c, const char *name, bool missing_ok, int64_t *version)
{
	struct dd_store_types_billing_row b;
	int rc = dd_store_types_billing_get(c->db, c->account_region, name, &b);
	*version = b.version;
	dd_store_types_billing_row_clear(&b);
	if (rc == DD_ENOTFOUND) {
		dd_db_rollback(c->db);
		return missing_ok ? rc : dd_fail(c, rc, "ResourceNotFoundException", "Billing group %s does not exist.", name);
	}
	return rc ? dd__db_fail(c) : 0;
}

static int version_conflict(struct dd_ctx *c, const char *name, int64_t v, int64_t expected)
{
	dd_db_rollback(c->db);
	return dd_fail(c, DD_ECONFLICT, "VersionConflictException",
		       "The version for billing group %s (%lld) does not match the expected version %lld.", name, (long long)v,
		       (long long)expected);
}

static int update_billing_group(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *name = dd__str(in, "billingGroupName");
	json_t *props = json_object_get(in, "billingGroupProperties");
	int64_t expected = dd__int(in, "expectedVersion", -1);
	if (dd_db_begin_write(c->db))
		return dd__db_fail(c);
	int64_t v;
	if (billing_version(c, name, false, &v))
		return c->err;
	if (expected >= 0 && expected != v)
		return version_conflict(c, name, v, expected);
	if (dd_store_types_billing_update(c->db, c->account_region, name, json_object_get(props, "billingGroupDescription") != NULL,
					  dd__str(props, "billingGroupDescription")) ||
	    dd_db_commit(c->db))
		return dd__db_fail(c);
	*out = json_pack("{s:I}", "version", (json_int_t)(v + 1));
	return 0;
}

static int delete_billing_group(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *name = dd__str(in, "billingGroupName");
	int64_t expected = dd__int(in, "expectedVersion", -1);
	*out = NULL;
	if (dd_db_begin_write(c->db))
		return dd__db_fail(c);
	int64_t v;
	int rc = billing_version(c, name, true, &v);
	if (rc == DD_ENOTFOUND)
		return 0; /* AWS: deleting a missing billing group succeeds */
	if (rc)
		return c->err;
	if (expected >= 0 && expected != v)
		return version_conflict(c, name, v, expected);
	char arn[700];
	dd__arn_buf(c, arn, sizeof arn, "billinggroup/%s", name);
	if (dd_store_types_billing_delete(c->db, c->account_region, name, arn) || dd_db_commit(c->db))
		return dd__db_fail(c);
	return 0;
}

/* The billing group and thing of Add/RemoveThing…BillingGroup: by name or ARN; one of
 * each must be given. Returns 0 or fails c. */
static int billing_target(struct dd_ctx *c, json_t *in, const char **group, const char **thing)
{
	const char *g = dd__str(in, "billingGroupName"), *t = dd__str(in, "thingName");
	if (!g && dd__name_from_arn(c, dd__str(in, "billingGroupArn"), "billinggroup", &g))
		return c->err;
	if (!t && dd__name_from_arn(c, dd__str(in, "thingArn"), "thing", &t))
		return c->err;
	if (!g)
		return dd_fail(c, DD_EINVAL, "InvalidRequestException", "billingGroupName or billingGroupArn is required.");
	if (!t)
		return dd_fail(c, DD_EINVAL, "InvalidRequestException", "thingName or thingArn is required.");
	*group = g;
	*thing = t;
	return 0;
}

typedef int (*membership_fn)(struct dd_db *db, const char *account_region, const char *group, const char *thing,
			     bool *changed, char *msg, size_t msglen);

static int change_membership(struct dd_ctx *c, json_t *in, json_t **out, membership_fn fn)
{
	const char *group = NULL, *thing = NULL;
	*out = NULL;
	if (billing_target(c, in, &group, &thing))
		return c->err;
	if (dd_db_begin_write(c->db))
		return dd__db_fail(c);
	char msg[700] = "";
	bool changed;
	int rc = fn(c->db, c->account_region, group, thing, &changed, msg, sizeof msg);
	if (rc == DD_EIO)
		return dd__db_fail(c);
	if (rc) {
		dd_db_rollback(c->db);
		return dd_fail(c, rc, rc == DD_ENOTFOUND ? "ResourceNotFoundException" : "InvalidRequestException", "%s", msg);
	}
	if (!changed) {
		dd_db_rollback(c->db);
		return 0;
	}
	return dd_db_commit(c->db) ? dd__db_fail(c) : 0;
}

static int add_thing_to_billing_group(struct dd_ctx *c, json_t *in, json_t **out)
{
	return change_membership(c, in, out, dd_registry_types_billing_add);
}

static int remove_thing_from_billing_group(struct dd_ctx *c, json_t *in, json_t **out)
{
	return change_membership(c, in, out, dd_registry_types_billing_remove);
}

static int list_things_in_billing_group(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *name = dd__str(in, "billingGroupName");
	char after[512];
	int size;
	if (dd__page(c, in, "nextToken", "maxResults", 50, 250, after, sizeof after, &size))
		return c->err;
	struct dd_store_types_billing_row b;
	int rc = dd_store_types_billing_get(c->db, c->account_region, name, &b);
	dd_store_types_billing_row_clear(&b);
	if (rc == DD_ENOTFOUND)
		return dd_fail(c, DD_ENOTFOUND, "ResourceNotFoundException", "Billing group %s does not exist.", name);
	if (rc)
		return dd__db_fail(c);
	struct dd__page pg;
	dd__page_start(&pg, json_array(), size);
	rc = dd_store_types_billing_things(c->db, c->account_region, name, after, size + 1, dd__page_name_row, &pg);
	return dd__page_reply(c, &pg, rc, "things", "nextToken", out);
}

const struct dd_handler dd_iot_billing_handlers[] = {
	{ "iot", "CreateBillingGroup", create_billing_group },
	{ "iot", "DescribeBillingGroup", describe_billing_group },
	{ "iot", "ListBillingGroups", list_billing_groups },
	{ "iot", "UpdateBillingGroup", update_billing_group },
	{ "iot", "DeleteBillingGroup", delete_billing_group },
	{ "iot", "AddThingToBillingGroup", add_thing_to_billing_group },
	{ "iot", "RemoveThingFromBillingGroup", remove_thing_from_billing_group },
	{ "iot", "ListThingsInBillingGroup", list_things_in_billing_group },
	{ NULL, NULL, NULL },
};

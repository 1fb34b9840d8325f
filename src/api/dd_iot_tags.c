/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tags of IoT resources: TagResource, UntagResource and ListTagsForResource (the resource
 * must be an existing one of the caller's account and region), and dd__tags_put, with
 * which the Create* handlers of every family store the tags given at creation. The rows
 * live in store/dd_store_tags.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/dd_api_common.h"
#include "dd/iam.h"
#include "store/dd_store_tags.h"

int dd__tags_put(struct dd_ctx *c, const char *arn, json_t *tags)
{
	size_t i;
	json_t *t;
	json_array_foreach(tags, i, t) {
		const char *v = dd__str(t, "Value");
		int rc = dd_store_tags_put(c->db, c->account_region, arn, dd__str(t, "Key"), v ? v : "");
		if (rc)
			return rc;
	}
	return 0;
}

/* Does arn name an existing resource of c's account and region? Fails c with
 * ResourceNotFoundException (declared by TagResource, UntagResource and
 * ListTagsForResource) when not, InvalidRequestException when it is no IoT ARN. */
static int check_resource_arn(struct dd_ctx *c, const char *arn)
{
	struct dd_arn a;
	if (dd_iam_arn_parse(arn, &a) || strcmp(a.service, "iot"))
		return dd_fail(c, DD_EINVAL, "InvalidRequestException", "resourceArn is not a valid AWS IoT ARN: %.700s", arn ? arn : "(missing)");
	if (strcmp(a.partition, "aws") || strcmp(a.account, c->account) || strcmp(a.region, c->region))
		return dd_fail(c, DD_ENOTFOUND, "ResourceNotFoundException", "Resource not found: %.700s", arn);
	const char *slash = strchr(a.resource, '/');
	if (slash && slash[1]) {
		char kind[64];
		size_t kl = (size_t)(slash - a.resource);
		if (kl < sizeof kind) {
			memcpy(kind, a.resource, kl);
			kind[kl] = '\0';
			bool yes = false;
			int rc = dd_store_tags_resource_exists(c->db, c->account_region, kind, slash + 1, &yes);
			if (rc == DD_EIO)
				return dd__db_fail(c);
			if (!rc && yes)
				return 0;
		}
	}
	return dd_fail(c, DD_ENOTFOUND, "ResourceNotFoundException", "Resource not found: %.700s", arn);
}

static int tag_resource(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *arn = dd__str(in, "resourceArn");
	*out = NULL;
	if (check_resource_arn(c, arn))
		return c->err;
	if (dd_db_begin_write(c->db))
		return dd__db_fail(c);
	if (dd__tags_put(c, arn, json_object_get(in, "tags")) || dd_db_commit(c->db))
		return dd__db_fail(c);
	return 0;
}

static int untag_resource(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *arn = dd__str(in, "resourceArn");
	*out = NULL;
	if (check_resource_arn(c, arn))
		return c->err;
	if (dd_db_begin_write(c->db))
		return dd__db_fail(c);
	size_t i;
	json_t *k;
	json_array_foreach(json_object_get(in, "tagKeys"), i, k) {
		if (dd_store_tags_delete(c->db, c->account_region, arn, json_string_value(k)))
			return dd__db_fail(c);
	}
	if (dd_db_commit(c->db))
		return dd__db_fail(c);
	return 0;
}

struct tag_page {
	json_t *arr;
	int n, size;
	bool more;
	char last[256];
};

static int tag_item(void *ud, const char *key, const char *value)
{
	struct tag_page *pg = ud;
	if (pg->n == pg->size) {
		pg->more = true;
		return 1;
	}
	json_array_append_new(pg->arr, json_pack("{s:s, s:s}", "Key", key, "Value", value));
	snprintf(pg->last, sizeof pg->last, "%s", key);
	pg->n++;
	return 0;
}

static int list_tags_for_resource(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *arn = dd__str(in, "resourceArn");
	char after[256];
	struct tag_page pg = { 0 };
	json_object_set_new(in, "__size", json_integer(50));
	if (dd__page(c, in, "nextToken", "__size", 50, 50, after, sizeof after, &pg.size))
		return c->err;
	if (check_resource_arn(c, arn))
		return c->err;
	pg.arr = json_array();
	if (dd_store_tags_list(c->db, c->account_region, arn, after, pg.size + 1, tag_item, &pg)) {
		json_decref(pg.arr);
		return dd__db_fail(c);
	}
	*out = json_pack("{s:o}", "tags", pg.arr);
	dd__page_next(*out, "nextToken", pg.more, pg.last);
	return 0;
}

const struct dd_handler dd_iot_tags_handlers[] = {
	{ "iot", "TagResource", tag_resource },
	{ "iot", "UntagResource", untag_resource },
	{ "iot", "ListTagsForResource", list_tags_for_resource },
	{ NULL, NULL, NULL },
};

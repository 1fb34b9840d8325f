/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The IoT logging API: v1 logging options (GetLoggingOptions / SetLoggingOptions), v2
 * logging options and the v2 log levels of targets. The options are kept as JSON object
 * text per account and region in the settings (store/dd_store_settings.c, keys
 * "logging_v1" and "logging_v2"), which the audit's logging check and the broker read.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/dd_api_common.h"
#include "store/dd_store_settings.h"

/* A setting as JSON (new reference) into *v; NULL when never set. Returns 0 or DD_E*. */
static int setting_get(struct dd_ctx *c, const char *key, json_t **v)
{
	char *text = NULL;
	*v = NULL;
	int rc = dd_store_settings_get(c->db, c->account_region, key, &text);
	if (rc == DD_ENOTFOUND)
		return 0;
	if (rc)
		return rc;
	*v = json_loads(text, 0, NULL);
	free(text);
	return 0;
}

static int setting_put(struct dd_ctx *c, const char *key, json_t *value)
{
	char *text = json_dumps(value, JSON_COMPACT | JSON_SORT_KEYS);
	if (!text)
		return DD_ENOMEM;
	int rc = dd_store_settings_put(c->db, c->account_region, key, text);
	free(text);
	return rc;
}

static int check_role_arn(struct dd_ctx *c, const char *role)
{
	if (role && dd__role_arn_ok(c, "roleArn", role, "InvalidRequestException"))
		return c->err;
	return 0;
}

static int get_logging_options(struct dd_ctx *c, json_t *in, json_t **out)
{
	(void)in;
	/* GetLoggingOptions declares no NotConfiguredException (GetV2LoggingOptions does):
	 * an account that never set v1 options gets an empty answer */
	json_t *v;
	if (setting_get(c, "logging_v1", &v))
		return dd__db_fail(c);
	*out = v ? v : json_object();
	return 0;
}

static int set_logging_options(struct dd_ctx *c, json_t *in, json_t **out)
{
	json_t *p = json_object_get(in, "loggingOptionsPayload");
	const char *role = dd__str(p, "roleArn");
	const char *level = dd__str(p, "logLevel");
	*out = NULL;
	if (check_role_arn(c, role))
		return c->err;
	json_t *v = json_pack("{s:s, s:s}", "roleArn", role, "logLevel", level ? level : "ERROR");
	if (dd_db_begin_write(c->db)) {
		json_decref(v);
		return dd__db_fail(c);
	}
	int rc = setting_put(c, "logging_v1", v);
	json_decref(v);
	if (rc || dd_db_commit(c->db))
		return dd__db_fail(c);
	return 0;
}

static int get_v2_logging_options(struct dd_ctx *c, json_t *in, json_t **out)
{
	(void)in;
	json_t *v;
	if (setting_get(c, "logging_v2", &v))
		return dd__db_fail(c);
	if (!v)
		return dd_fail(c, DD_ENOTFOUND, "NotConfiguredException", "V2 logging options are not configured for this account.");
	*out = v;
	return 0;
}

static int set_v2_logging_options(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *role = dd__str(in, "roleArn");
	const char *level = dd__str(in, "defaultLogLevel");
	bool disable = dd__bool(in, "disableAllLogs", false);
	*out = NULL;
	if (check_role_arn(c, role))
		return c->err;
	if (dd_db_begin_write(c->db))
		return dd__db_fail(c);
	json_t *cur;
	if (setting_get(c, "logging_v2", &cur))
		return dd__db_fail(c);
	if (!cur)
		cur = json_object();
	if (role)
		json_object_set_new(cur, "roleArn", json_string(role));
	json_object_set_new(cur, "defaultLogLevel", json_string(level ? level : "ERROR"));
	json_object_set_new(cur, "disableAllLogs", json_boolean(disable));
	int rc = setting_put(c, "logging_v2", cur);
	json_decref(cur);
	if (rc || dd_db_commit(c->db))
		return dd__db_fail(c);
	return 0;
}

static int set_v2_logging_level(struct dd_ctx *c, json_t *in, json_t **out)
{
	json_t *target = json_object_get(in, "logTarget");
	const char *type = dd__str(target, "targetType");
	const char *name = dd__str(target, "targetName");
	*out = NULL;
	if (strcmp(type, "DEFAULT") != 0 && (!name || !*name))
		return dd_fail(c, DD_EINVAL, "InvalidRequestException", "logTarget.targetName is required for targetType %s.", type);
	if (dd_db_begin_write(c->db))
		return dd__db_fail(c);
	if (dd_store_settings_log_level_put(c->db, c->account_region, type, name ? name : "", dd__str(in, "logLevel")) ||
	    dd_db_commit(c->db))
		return dd__db_fail(c);
	return 0;
}

struct level_page {
	json_t *arr;
	int n, size;
	bool more;
	char last[600];
};

static int level_item(void *ud, const char *type, const char *name, const char *level)
{
	struct level_page *pg = ud;
	if (pg->n == pg->size) {
		pg->more = true;
		return 1;
	}
	json_t *t = json_pack("{s:s}", "targetType", type);
	if (*name)
		json_object_set_new(t, "targetName", json_string(name));
	json_array_append_new(pg->arr, json_pack("{s:o, s:s}", "logTarget", t, "logLevel", level));
	snprintf(pg->last, sizeof pg->last, "%s/%s", type, name);
	pg->n++;
	return 0;
}

static int list_v2_logging_levels(struct dd_ctx *c, json_t *in, json_t **out)
{
	char after[600];
	struct level_page pg = { 0 };
	if (dd__page(c, in, "nextToken", "maxResults", 50, 250, after, sizeof after, &pg.size))
		return c->err;
	pg.arr = json_array();
	if (dd_store_settings_log_levels_list(c->db, c->account_region, dd__str(in, "targetType"), after, pg.size + 1,
					      level_item, &pg)) {
		json_decref(pg.arr);
		return dd__db_fail(c);
	}
	*out = json_pack("{s:o}", "logTargetConfigurations", pg.arr);
	dd__page_next(*out, "nextToken", pg.more, pg.last);
	return 0;
}

static int delete_v2_logging_level(struct dd_ctx *c, json_t *in, json_t **out)
{
	*out = NULL;
	if (dd_db_begin_write(c->db))
		return dd__db_fail(c);
	if (dd_store_settings_log_level_delete(c->db, c->account_region, dd__str(in, "targetType"), dd__str(in, "targetName")) ||
	    dd_db_commit(c->db))
		return dd__db_fail(c);
	return 0;
}

const struct dd_handler dd_iot_logging_handlers[] = {
	{ "iot", "GetLoggingOptions", get_logging_options },
	{ "iot", "SetLoggingOptions", set_logging_options },
	{ "iot", "GetV2LoggingOptions", get_v2_logging_options },
	{ "iot", "SetV2LoggingOptions", set_v2_logging_options },
	{ "iot", "SetV2LoggingLevel", set_v2_logging_level },
	{ "iot", "ListV2LoggingLevels", list_v2_logging_levels },
	{ "iot", "DeleteV2LoggingLevel", delete_v2_logging_level },
	{ NULL, NULL, NULL },
};

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Domain configurations, kept as STORED STATE ONLY: their settings (domain name, server
 * certificate ARNs, authorizer, TLS policy, authentication type, application protocol…),
 * status and service type are kept and answered, with AWS's ARN form
 * (domainconfiguration/<name>/<5-letter id>), its limit of 10 per account and region, and
 * its rule that a configuration is disabled before it is deleted. No endpoint serves their
 * domains, ACM certificates are not checked (serverCertificateStatusDetail says so), and the
 * built-in iot:Data-ATS / iot:Jobs / iot:CredentialProvider configurations are not listed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/dd_registry_int.h"
#include "core/dd_registry_handlers.h"
#include "dd/service.h"

#define DD_MAX_DOMAIN_CONFIGS 10

/* the stored settings: the members of the input kept as given */
static const char *const kept[] = { "domainName", "serverCertificateArns", "validationCertificateArn",
				    "authorizerConfig", "tlsConfig", "serverCertificateConfig",
				    "authenticationType", "applicationProtocol", "clientCertificateConfig" };

static void arn_id(char out[6])
{
	static const char letters[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
	unsigned char r[5];
	if (dd_random_bytes(r, sizeof r))
		memset(r, 7, sizeof r);
	for (int i = 0; i < 5; i++)
		out[i] = letters[r[i] % (sizeof letters - 1)];
	out[5] = '\0';
}

int dd_iot_create_domain_configuration(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *name = dd__str(in, "domainConfigurationName");
	const char *domain = dd__str(in, "domainName");
	json_t *certs = json_object_get(in, "serverCertificateArns");
	const char *service = dd__str(in, "serviceType");
	if (domain && !json_array_size(certs))
		return dd_fail(c, DD_EINVAL, "InvalidRequestException",
			       "serverCertificateArns is required with domainName (a customer-managed domain).");
	if (!domain && (json_array_size(certs) || dd__str(in, "validationCertificateArn")))
		return dd_fail(c, DD_EINVAL, "InvalidRequestException",
			       "serverCertificateArns and validationCertificateArn need a domainName.");
	json_t *cfg = json_object();
	for (size_t i = 0; i < sizeof kept / sizeof kept[0]; i++) {
		json_t *v = json_object_get(in, kept[i]);
		if (v)
			json_object_set(cfg, kept[i], v);
	}
	char *text = json_dumps(cfg, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(cfg);
	char id[6], arn[800];
	arn_id(id);
	int rc = 0;
	if (!text)
		return dd_fail(c, DD_ENOMEM, "InternalFailureException", "out of memory");
	if (dd_db_begin_write(c->db)) {
		rc = dd__db_fail(c);
		goto out;
	}
	sqlite3_stmt *st = dd_db_stmt(c->db, "SELECT count(*), sum(name = ?2) FROM domain_configurations WHERE account_region = ?1");
	if (!st) {
		rc = dd__db_fail(c);
		goto out;
	}
	dd_bind_text(st, 1, c->account_region);
	dd_bind_text(st, 2, name);
	int64_t n = 0, exists = 0;
	if (sqlite3_step(st) == SQLITE_ROW) {
		n = sqlite3_column_int64(st, 0);
		exists = sqlite3_column_int64(st, 1);
	}
	sqlite3_reset(st);
	if (exists) {
		dd_db_rollback(c->db);
		rc = dd_fail(c, DD_EEXIST, "ResourceAlreadyExistsException", "Domain configuration %s already exists.", name);
		goto out;
	}
	if (n >= DD_MAX_DOMAIN_CONFIGS) {
		dd_db_rollback(c->db);
		rc = dd_fail(c, DD_ELIMIT, "LimitExceededException", "An account can have at most %d domain configurations per region.",
			     DD_MAX_DOMAIN_CONFIGS);
		goto out;
	}
	st = dd_db_stmt(c->db, "INSERT INTO domain_configurations(account_region, name, arn_id, config, status, service_type,"
			       " domain_type, status_changed, created) VALUES (?1, ?2, ?3, ?4, 'ENABLED', ?5, ?6, ?7, ?7)");
	if (!st) {
		rc = dd__db_fail(c);
		goto out;
	}
	dd_bind_text(st, 1, c->account_region);
	dd_bind_text(st, 2, name);
	dd_bind_text(st, 3, id);
	dd_bind_text(st, 4, text);
	dd_bind_text(st, 5, service ? service : "DATA");
	dd_bind_text(st, 6, domain ? "CUSTOMER_MANAGED" : "AWS_MANAGED");
	dd_bind_int64(st, 7, c->now_ms);
	dd__arn_buf(c, arn, sizeof arn, "domainconfiguration/%s/%s", name, id);
	if (dd_step_done(st) || dd__tags_put(c, arn, json_object_get(in, "tags")) || dd_db_commit(c->db)) {
		rc = dd__db_fail(c);
		goto out;
	}
	*out = json_pack("{s:s, s:s}", "domainConfigurationName", name, "domainConfigurationArn", arn);
out:
	free(text);
	return rc;
}

/* columns: name, arn_id, config, status, service_type, domain_type, status_changed */
static int load(struct dd_ctx *c, const char *name, sqlite3_stmt **pst)
{
	sqlite3_stmt *st = dd_db_stmt(c->db, "SELECT name, arn_id, config, status, service_type, domain_type, status_changed"
					     " FROM domain_configurations WHERE account_region = ?1 AND name = ?2");
	if (!st)
		return dd__db_fail(c);
	dd_bind_text(st, 1, c->account_region);
	dd_bind_text(st, 2, name);
	int r = sqlite3_step(st);
	if (r == SQLITE_ROW) {
		*pst = st;
		return 0;
	}
	sqlite3_reset(st);
	if (r != SQLITE_DONE)
		return dd__db_fail(c);
	if (dd_db_in_tx(c->db))
		dd_db_rollback(c->db);
	return dd_fail(c, DD_ENOTFOUND, "ResourceNotFoundException", "Domain configuration %s does not exist.", name);
}

int dd_iot_describe_domain_configuration(struct dd_ctx *c, json_t *in, json_t **out)
{
	sqlite3_stmt *st;
	if (load(c, dd__str(in, "domainConfigurationName"), &st))
		return c->err;
	const char *name = dd_col_text(st, 0);
	json_t *cfg = json_loads(dd_col_text(st, 2), 0, NULL);
	if (!cfg)
		cfg = json_object();
	json_t *o = json_pack("{s:s, s:o, s:s, s:s, s:s, s:o}", "domainConfigurationName", name, "domainConfigurationArn",
			      dd__arn(c, "domainconfiguration/%s/%s", name, dd_col_text(st, 1)), "domainConfigurationStatus",
			      dd_col_text(st, 3), "serviceType", dd_col_text(st, 4), "domainType", dd_col_text(st, 5),
			      "lastStatusChangeDate", dd_json_time(sqlite3_column_int64(st, 6)));
	sqlite3_reset(st);
	const char *domain = dd__str(cfg, "domainName");
	if (domain)
		json_object_set_new(o, "domainName", json_string(domain));
	else if (c->svc && c->svc->endpoint_host[0])
		json_object_set_new(o, "domainName", json_string(c->svc->endpoint_host));
	json_t *certs = json_array();
	size_t i;
	json_t *v;
	json_array_foreach(json_object_get(cfg, "serverCertificateArns"), i, v)
		json_array_append_new(certs, json_pack("{s:O, s:s}", "serverCertificateArn", v, "serverCertificateStatusDetail",
						       "Not checked: this server stores domain configurations without serving them."));
	json_object_set_new(o, "serverCertificates", certs);
	static const char *const copied[] = { "authorizerConfig", "tlsConfig", "serverCertificateConfig", "authenticationType",
					      "applicationProtocol", "clientCertificateConfig" };
	for (i = 0; i < sizeof copied / sizeof copied[0]; i++) {
		json_t *x = json_object_get(cfg, copied[i]);
		if (x)
			json_object_set(o, copied[i], x);
	}
	json_decref(cfg);
	*out = o;
	return 0;
}

static json_t *domain_row(struct dd_ctx *c, sqlite3_stmt *st, char *key, size_t keylen)
{
	const char *name = dd_col_text(st, 0);
	snprintf(key, keylen, "%s", name);
	return json_pack("{s:s, s:o, s:s}", "domainConfigurationName", name, "domainConfigurationArn",
			 dd__arn(c, "domainconfiguration/%s/%s", name, dd_col_text(st, 1)), "serviceType", dd_col_text(st, 2));
}

int dd_iot_list_domain_configurations(struct dd_ctx *c, json_t *in, json_t **out)
{
	char after[512];
	int size;
	if (dd__page(c, in, "marker", "pageSize", 250, 250, after, sizeof after, &size))
		return c->err;
	sqlite3_stmt *st = dd_db_stmt(c->db, "SELECT name, arn_id, service_type FROM domain_configurations WHERE account_region = ?1"
					     " AND name > ?2 AND (?3 IS NULL OR service_type = ?3) ORDER BY name LIMIT ?4");
	if (!st)
		return dd__db_fail(c);
	dd_bind_text(st, 1, c->account_region);
	dd_bind_text(st, 2, after);
	dd_bind_text(st, 3, dd__str(in, "serviceType"));
	dd_bind_int64(st, 4, size + 1);
	return dd__page_list(c, st, size, domain_row, "domainConfigurations", "nextMarker", out);
}

int dd_iot_update_domain_configuration(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *name = dd__str(in, "domainConfigurationName");
	bool remove_auth = dd__bool(in, "removeAuthorizerConfig", false);
	if (remove_auth && json_object_get(in, "authorizerConfig"))
		return dd_fail(c, DD_EINVAL, "InvalidRequestException",
			       "authorizerConfig and removeAuthorizerConfig cannot be given together.");
	if (dd_db_begin_write(c->db))
		return dd__db_fail(c);
	sqlite3_stmt *st;
	if (load(c, name, &st))
		return c->err;
	char id[8];
	snprintf(id, sizeof id, "%s", dd_col_text(st, 1));
	json_t *cfg = json_loads(dd_col_text(st, 2), 0, NULL);
	char *old_status = strdup(dd_col_text(st, 3));
	sqlite3_reset(st);
	if (!cfg)
		cfg = json_object();
	static const char *const updatable[] = { "authorizerConfig", "tlsConfig", "serverCertificateConfig",
						 "authenticationType", "applicationProtocol", "clientCertificateConfig" };
	for (size_t i = 0; i < sizeof updatable / sizeof updatable[0]; i++) {
		json_t *v = json_object_get(in, updatable[i]);
		if (v)
			json_object_set(cfg, updatable[i], v);
	}
	if (remove_auth)
		json_object_del(cfg, "authorizerConfig");
	const char *status = dd__str(in, "domainConfigurationStatus");
	bool changed = status && old_status && strcmp(status, old_status) != 0;
	char *text = json_dumps(cfg, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(cfg);
	free(old_status);
	st = dd_db_stmt(c->db, "UPDATE domain_configurations SET config = ?3, status = ifnull(?4, status),"
			       " status_changed = CASE WHEN ?5 THEN ?6 ELSE status_changed END WHERE account_region = ?1 AND name = ?2");
	int rc = st && text ? 0 : DD_EIO;
	if (!rc) {
		dd_bind_text(st, 1, c->account_region);
		dd_bind_text(st, 2, name);
		dd_bind_text(st, 3, text);
		dd_bind_text(st, 4, status);
		dd_bind_int64(st, 5, changed);
		dd_bind_int64(st, 6, c->now_ms);
		rc = dd_step_done(st);
	}
	free(text);
	if (rc || dd_db_commit(c->db))
		return dd__db_fail(c);
	*out = json_pack("{s:s, s:o}", "domainConfigurationName", name, "domainConfigurationArn",
			 dd__arn(c, "domainconfiguration/%s/%s", name, id));
	return 0;
}

int dd_iot_delete_domain_configuration(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *name = dd__str(in, "domainConfigurationName");
	*out = NULL;
	if (dd_db_begin_write(c->db))
		return dd__db_fail(c);
	sqlite3_stmt *st;
	if (load(c, name, &st))
		return c->err;
	char arn[800];
	dd__arn_buf(c, arn, sizeof arn, "domainconfiguration/%s/%s", name, dd_col_text(st, 1));
	bool enabled = strcmp(dd_col_text(st, 3), "ENABLED") == 0;
	sqlite3_reset(st);
	if (enabled) {
		dd_db_rollback(c->db);
		return dd_fail(c, DD_EINVAL, "InvalidRequestException",
			       "Domain configuration %s is ENABLED: disable it (UpdateDomainConfiguration) before deleting it.", name);
	}
	static const char *const sqls[] = {
		"DELETE FROM domain_configurations WHERE account_region = ?1 AND name = ?2",
		"DELETE FROM tags WHERE account_region = ?1 AND resource_arn = ?3",
	};
	for (size_t i = 0; i < 2; i++) {
		st = dd_db_stmt(c->db, sqls[i]);
		if (!st)
			return dd__db_fail(c);
		dd_bind_text(st, 1, c->account_region);
		dd_bind_text(st, 2, name);
		if (i == 1)
			dd_bind_text(st, 3, arn);
		if (dd_step_done(st))
			return dd__db_fail(c);
	}
	if (dd_db_commit(c->db))
		return dd__db_fail(c);
	return 0;
}

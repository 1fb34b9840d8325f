/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The domain configuration API, kept as STORED STATE ONLY: their settings (domain name, server
 * certificate ARNs, authorizer, TLS policy, authentication type, application protocol…),
 * status and service type are kept and answered, with AWS's ARN form
 * (domainconfiguration/<name>/<5-letter id>), its limit of 10 per account and region, and
 * its rule that a configuration is disabled before it is deleted. No endpoint serves their
 * domains, ACM certificates are not checked (serverCertificateStatusDetail says so), and the
 * built-in iot:Data-ATS / iot:Jobs / iot:CredentialProvider configurations are not listed.
 * The rows live in store/dd_store_domains.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/dd_api_common.h"
#include "dd/service.h"
#include "store/dd_store_domains.h"
#include "store/dd_store_tags.h"

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

static int create_domain_configuration(struct dd_ctx *c, json_t *in, json_t **out)
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
	int64_t n = 0;
	bool exists = false;
	if (dd_store_domains_count(c->db, c->account_region, name, &n, &exists)) {
		rc = dd__db_fail(c);
		goto out;
	}
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
	struct dd_store_domains_row row = {
		.name = name,
		.arn_id = id,
		.config = text,
		.status = "ENABLED",
		.service_type = service ? service : "DATA",
		.domain_type = domain ? "CUSTOMER_MANAGED" : "AWS_MANAGED",
		.status_changed = c->now_ms,
		.created = c->now_ms,
	};
	dd__arn_buf(c, arn, sizeof arn, "domainconfiguration/%s/%s", name, id);
	if (dd_store_domains_insert(c->db, c->account_region, &row) || dd__tags_put(c, arn, json_object_get(in, "tags")) ||
	    dd_db_commit(c->db)) {
		rc = dd__db_fail(c);
		goto out;
	}
	*out = json_pack("{s:s, s:s}", "domainConfigurationName", name, "domainConfigurationArn", arn);
out:
	free(text);
	return rc;
}

/* A missing configuration: rolls back the caller's transaction and fails c. */
static int domain_missing(struct dd_ctx *c, const char *name)
{
	if (dd_db_in_tx(c->db))
		dd_db_rollback(c->db);
	return dd_fail(c, DD_ENOTFOUND, "ResourceNotFoundException", "Domain configuration %s does not exist.", name);
}

struct describe {
	struct dd_ctx *c;
	json_t *out;
};

static int describe_row(void *ud, const struct dd_store_domains_row *r)
{
	struct describe *d = ud;
	struct dd_ctx *c = d->c;
	json_t *cfg = json_loads(r->config, 0, NULL);
	if (!cfg)
		cfg = json_object();
	json_t *o = json_pack("{s:s, s:o, s:s, s:s, s:s, s:o}", "domainConfigurationName", r->name, "domainConfigurationArn",
			      dd__arn(c, "domainconfiguration/%s/%s", r->name, r->arn_id), "domainConfigurationStatus",
			      r->status, "serviceType", r->service_type, "domainType", r->domain_type,
			      "lastStatusChangeDate", dd_json_time(r->status_changed));
	if (!o) {
		json_decref(cfg);
		return DD_ENOMEM;
	}
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
	d->out = o;
	return 0;
}

static int describe_domain_configuration(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *name = dd__str(in, "domainConfigurationName");
	struct describe d = { .c = c };
	int rc = dd_store_domains_get(c->db, c->account_region, name, describe_row, &d);
	if (rc == DD_ENOTFOUND)
		return domain_missing(c, name);
	if (rc == DD_ENOMEM)
		return dd_fail(c, rc, "InternalFailureException", "out of memory");
	if (rc)
		return dd__db_fail(c);
	*out = d.out;
	return 0;
}

struct domain_page {
	struct dd_ctx *c;
	json_t *arr;
	int n, size;
	bool more;
	char last[256];
};

static int domain_item(void *ud, const struct dd_store_domains_row *r)
{
	struct domain_page *pg = ud;
	if (pg->n == pg->size) {
		pg->more = true;
		return 1;
	}
	json_array_append_new(pg->arr, json_pack("{s:s, s:o, s:s}", "domainConfigurationName", r->name,
						 "domainConfigurationArn",
						 dd__arn(pg->c, "domainconfiguration/%s/%s", r->name, r->arn_id), "serviceType",
						 r->service_type));
	snprintf(pg->last, sizeof pg->last, "%s", r->name);
	pg->n++;
	return 0;
}

static int list_domain_configurations(struct dd_ctx *c, json_t *in, json_t **out)
{
	char after[512];
	struct domain_page pg = { .c = c };
	if (dd__page(c, in, "marker", "pageSize", 250, 250, after, sizeof after, &pg.size))
		return c->err;
	pg.arr = json_array();
	if (dd_store_domains_list(c->db, c->account_region, after, dd__str(in, "serviceType"), pg.size + 1, domain_item, &pg)) {
		json_decref(pg.arr);
		return dd__db_fail(c);
	}
	*out = json_pack("{s:o}", "domainConfigurations", pg.arr);
	dd__page_next(*out, "nextMarker", pg.more, pg.last);
	return 0;
}

/* The parts of a stored configuration an update or delete needs. */
struct current {
	char id[8];
	char status[16];
	char *config;
};

static int current_row(void *ud, const struct dd_store_domains_row *r)
{
	struct current *cur = ud;
	snprintf(cur->id, sizeof cur->id, "%s", r->arn_id);
	snprintf(cur->status, sizeof cur->status, "%s", r->status);
	cur->config = strdup(r->config);
	return cur->config ? 0 : DD_ENOMEM;
}

static int load_current(struct dd_ctx *c, const char *name, struct current *cur)
{
	memset(cur, 0, sizeof *cur);
	int rc = dd_store_domains_get(c->db, c->account_region, name, current_row, cur);
	if (rc == DD_ENOTFOUND)
		return domain_missing(c, name);
	if (rc) {
		free(cur->config);
		cur->config = NULL;
		return dd__db_fail(c);
	}
	return 0;
}

static int update_domain_configuration(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *name = dd__str(in, "domainConfigurationName");
	bool remove_auth = dd__bool(in, "removeAuthorizerConfig", false);
	if (remove_auth && json_object_get(in, "authorizerConfig"))
		return dd_fail(c, DD_EINVAL, "InvalidRequestException",
			       "authorizerConfig and removeAuthorizerConfig cannot be given together.");
	if (dd_db_begin_write(c->db))
		return dd__db_fail(c);
	struct current cur;
	if (load_current(c, name, &cur))
		return c->err;
	json_t *cfg = json_loads(cur.config, 0, NULL);
	free(cur.config);
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
	bool changed = status && strcmp(status, cur.status) != 0;
	char *text = json_dumps(cfg, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(cfg);
	int rc = text ? dd_store_domains_update(c->db, c->account_region, name, text, status, changed ? c->now_ms : -1) : DD_ENOMEM;
	free(text);
	if (rc || dd_db_commit(c->db))
		return dd__db_fail(c);
	*out = json_pack("{s:s, s:o}", "domainConfigurationName", name, "domainConfigurationArn",
			 dd__arn(c, "domainconfiguration/%s/%s", name, cur.id));
	return 0;
}

static int delete_domain_configuration(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *name = dd__str(in, "domainConfigurationName");
	*out = NULL;
	if (dd_db_begin_write(c->db))
		return dd__db_fail(c);
	struct current cur;
	if (load_current(c, name, &cur))
		return c->err;
	free(cur.config);
	char arn[800];
	dd__arn_buf(c, arn, sizeof arn, "domainconfiguration/%s/%s", name, cur.id);
	if (strcmp(cur.status, "ENABLED") == 0) {
		dd_db_rollback(c->db);
		return dd_fail(c, DD_EINVAL, "InvalidRequestException",
			       "Domain configuration %s is ENABLED: disable it (UpdateDomainConfiguration) before deleting it.", name);
	}
	if (dd_store_domains_delete(c->db, c->account_region, name) || dd_store_tags_delete_all(c->db, c->account_region, arn) ||
	    dd_db_commit(c->db))
		return dd__db_fail(c);
	return 0;
}

const struct dd_handler dd_iot_domains_handlers[] = {
	{ "iot", "CreateDomainConfiguration", create_domain_configuration }, /* stored only */
	{ "iot", "DescribeDomainConfiguration", describe_domain_configuration }, /* stored only */
	{ "iot", "ListDomainConfigurations", list_domain_configurations }, /* stored only */
	{ "iot", "UpdateDomainConfiguration", update_domain_configuration }, /* stored only */
	{ "iot", "DeleteDomainConfiguration", delete_domain_configuration }, /* stored only */
	{ NULL, NULL, NULL },
};

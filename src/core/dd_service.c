/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Service start-up and shutdown: the store, the server's own CA (created on first start
 * and kept in server_meta, so certificates issued before a restart still chain to it),
 * the IAM secrets key (<data-dir>/iam-secrets.key, outside the store, which seals IAM
 * users' secrets; a store with secrets in clear is sealed here), and the Debian-weak
 * blocklists under <data-dir>/blocklists.
 */
#include "dd/service.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dd/fetch.h"
#include "dd/iam.h"
#include "dd/keys.h"
#include "dd/lease.h"
#include "dd/x509.h"
#include "store/dd_store_meta.h"

static char *meta_get(struct dd_db *db, const char *key)
{
	char *v = NULL;
	return dd_store_meta_get(db, key, &v) == 0 ? v : NULL;
}

static int load_or_create_ca(struct dd_service *s)
{
	struct dd_db *db = dd_store_db(s->store);
	if (!db)
		return DD_EIO;
	if (dd_db_begin_write(db))
		return DD_EIO;
	s->ca_cert_pem = meta_get(db, "ca_cert_pem");
	s->ca_key_pem = meta_get(db, "ca_key_pem");
	if (s->ca_cert_pem && s->ca_key_pem)
		return dd_db_commit(db);
	free(s->ca_cert_pem);
	free(s->ca_key_pem);
	s->ca_cert_pem = s->ca_key_pem = NULL;
	if (dd_x509_ca_create("iotdefender server CA", &s->ca_cert_pem, &s->ca_key_pem)) {
		dd_db_rollback(db);
		dd_log_error("service: cannot create the server CA");
		return DD_ECRYPTO;
	}
	int rc = dd_store_meta_put(db, "ca_cert_pem", s->ca_cert_pem);
	if (!rc)
		rc = dd_store_meta_put(db, "ca_key_pem", s->ca_key_pem);
	if (rc) {
		dd_db_rollback(db);
		return rc;
	}
	dd_log_info("service: created the server CA");
	return dd_db_commit(db);
}

int dd_service_init(struct dd_service *s, const char *data_dir)
{
	if (snprintf(s->data_dir, sizeof s->data_dir, "%s", data_dir) >= (int)sizeof s->data_dir)
		return DD_EINVAL;
	if (!s->max_body)
		s->max_body = 8u << 20;
	if (!s->instance_id[0]) {
		unsigned char r[16];
		if (dd_random_bytes(r, sizeof r))
			return DD_ECRYPTO;
		dd_hex_encode(r, sizeof r, s->instance_id);
	}
	if (s->lease_ms <= 0)
		s->lease_ms = 30000;
	int rc = dd_store_open(data_dir, &s->store);
	if (rc)
		return rc;
	rc = load_or_create_ca(s);
	if (rc) {
		dd_service_close(s);
		return rc;
	}
	char err[512];
	size_t sealed = 0;
	rc = dd_iam_secrets_load(data_dir, true, &s->iam_secrets, err, sizeof err);
	if (!rc) {
		struct dd_db *db = dd_store_db(s->store);
		rc = db ? dd_iam_secrets_reseal(s->iam_secrets, db, &sealed, err, sizeof err) : DD_EIO;
	}
	if (rc) {
		dd_log_error("service: IAM secrets key: %s", err);
		dd_service_close(s);
		return rc;
	}
	if (sealed)
		dd_log_warn("service: sealed %zu IAM access key secret(s) under %s (a rotation finished, or the store kept "
			    "them in clear: backups of it made before still do)", sealed, dd_iam_secrets_path(s->iam_secrets));
	char bldir[2200];
	snprintf(bldir, sizeof bldir, "%s/blocklists", data_dir);
	if (dd_keys_blocklists_open(bldir, &s->blocklists)) {
		dd_log_warn("service: cannot open blocklists in %s; Debian weak-key checks report NOT_CHECKED", bldir);
		s->blocklists = NULL;
	}
	return 0;
}

void dd_service_close(struct dd_service *s)
{
	dd_fetch_pool_stop(s);  /* its workers use the store */
	dd_lease_stop(s);       /* a no-op unless dd_lease_start ran and no stop followed */
	dd_fetch_allow_free(s->outbound_allow);
	s->outbound_allow = NULL;
	dd_store_close(s->store);
	s->store = NULL;
	dd_keys_blocklists_free(s->blocklists);
	s->blocklists = NULL;
	dd_iam_secrets_free(s->iam_secrets);
	s->iam_secrets = NULL;
	free(s->ca_cert_pem);
	free(s->ca_key_pem);
	s->ca_cert_pem = s->ca_key_pem = NULL;
}

int64_t dd_service_now_ms(const struct dd_service *s)
{
	return dd_time_now_ms() + (s ? s->clock_offset_ms : 0);
}

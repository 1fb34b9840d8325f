/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The reads the audit checks make over a task's snapshot, besides certificates (read
 * through dd_certs_foreach, dd/certs.h), IAM role policies (dd/iam.h) and Cognito pools
 * (dd/cognito.h): default IoT policy versions, role aliases, account settings, CA
 * certificate identities and the connection events of a window. Every listing streams its
 * rows to a callback, one row at a time, in the order the checks need, so a check's
 * memory does not grow with the number of rows. Rows are borrowed for the call; a
 * non-zero return of the callback stops the walk and is returned. Functions return 0,
 * DD_ENOTFOUND where stated, or DD_EIO.
 */
#ifndef DD_STORE_AUDIT_READS_H
#define DD_STORE_AUDIT_READS_H

#include <stdint.h>

#include "dd/common.h"

struct dd_db;

/* The default version of every IoT policy of the region, by policy name. */
typedef int (*dd_store_audit_reads_policy_fn)(const char *name, int64_t version, const char *document, void *ud);
int dd_store_audit_reads_policies(struct dd_db *db, const char *account_region, dd_store_audit_reads_policy_fn fn,
				  void *ud) DD_MUST_CHECK;

/* The role aliases of the region, ordered by role ARN then alias. */
typedef int (*dd_store_audit_reads_alias_fn)(const char *alias, const char *role_arn, void *ud);
int dd_store_audit_reads_role_aliases(struct dd_db *db, const char *account_region, dd_store_audit_reads_alias_fn fn,
				      void *ud) DD_MUST_CHECK;

/* A copy of the value of account setting key (JSON text; free it). DD_ENOTFOUND when unset. */
int dd_store_audit_reads_setting(struct dd_db *db, const char *account_region, const char *key, char **value) DD_MUST_CHECK;

/* The subject and serial of CA certificate id ("" when unknown), to fn once.
 * DD_ENOTFOUND when absent. */
typedef int (*dd_store_audit_reads_ca_fn)(const char *subject, const char *serial, void *ud);
int dd_store_audit_reads_ca_ident(struct dd_db *db, const char *account_region, const char *id,
				  dd_store_audit_reads_ca_fn fn, void *ud) DD_MUST_CHECK;

/* One connection event. certificate_id, principal and reason may be NULL. */
struct dd_store_audit_event {
	const char *client_id;
	const char *certificate_id;
	const char *principal;
	bool connect;                /* else a disconnect */
	int64_t ts;
	const char *reason;
};
typedef int (*dd_store_audit_reads_event_fn)(const struct dd_store_audit_event *e, void *ud);
/* Events with a certificate in [from_ms, to_ms], ordered by certificate id, then time,
 * then arrival. */
int dd_store_audit_reads_events_by_cert(struct dd_db *db, const char *account_region, int64_t from_ms, int64_t to_ms,
					dd_store_audit_reads_event_fn fn, void *ud) DD_MUST_CHECK;
/* Every event in [from_ms, to_ms], ordered by client id, then time, then arrival. */
int dd_store_audit_reads_events_by_client(struct dd_db *db, const char *account_region, int64_t from_ms, int64_t to_ms,
					  dd_store_audit_reads_event_fn fn, void *ud) DD_MUST_CHECK;

#endif

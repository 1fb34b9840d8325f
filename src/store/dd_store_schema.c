/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Schema migrations, applied in order at start (PRAGMA user_version counts them). Every
 * account-scoped table leads its primary key with `account` (IAM, SNS, Cognito) or, for the
 * regional tables since m007, `account_region` ("<account>/<region>", see dd/ctx.h). Timestamps are epoch
 * milliseconds. JSON-valued columns hold compact JSON text. Append new migrations at the
 * end; never change one that has shipped.
 */
#include "store/dd_store_schema.h"

static const char m001_registry[] =
	"CREATE TABLE server_meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
	"CREATE TABLE things(account TEXT NOT NULL, name TEXT NOT NULL, thing_id TEXT NOT NULL,"
	" type_name TEXT, attributes TEXT NOT NULL DEFAULT '{}', version INTEGER NOT NULL DEFAULT 1,"
	" created INTEGER NOT NULL, PRIMARY KEY(account, name)) WITHOUT ROWID;"
	"CREATE TABLE thing_groups(account TEXT NOT NULL, name TEXT NOT NULL, group_id TEXT NOT NULL,"
	" parent TEXT, description TEXT, attributes TEXT NOT NULL DEFAULT '{}',"
	" dynamic INTEGER NOT NULL DEFAULT 0, query_string TEXT, index_name TEXT, query_version TEXT,"
	" version INTEGER NOT NULL DEFAULT 1, created INTEGER NOT NULL, PRIMARY KEY(account, name)) WITHOUT ROWID;"
	"CREATE TABLE thing_group_members(account TEXT NOT NULL, group_name TEXT NOT NULL,"
	" thing_name TEXT NOT NULL, PRIMARY KEY(account, group_name, thing_name)) WITHOUT ROWID;"
	"CREATE INDEX thing_group_members_thing ON thing_group_members(account, thing_name);"
	"CREATE TABLE certificates(account TEXT NOT NULL, id TEXT NOT NULL, status TEXT NOT NULL,"
	" pem TEXT NOT NULL, ca_id TEXT, mode TEXT NOT NULL DEFAULT 'DEFAULT', owner TEXT NOT NULL,"
	" created INTEGER NOT NULL, modified INTEGER NOT NULL, customer_version INTEGER NOT NULL DEFAULT 1,"
	" generation_id TEXT NOT NULL, subject TEXT, issuer TEXT, subject_cn TEXT, serial TEXT,"
	" not_before INTEGER, not_after INTEGER, key_type TEXT, key_bits INTEGER, curve TEXT,"
	" pubkey_sha256 TEXT, key_sha256 TEXT, key_sha1_80 TEXT, is_ca INTEGER, ski TEXT, aki TEXT,"
	" crl_urls TEXT NOT NULL DEFAULT '[]', roca INTEGER NOT NULL DEFAULT 0,"
	" debian INTEGER NOT NULL DEFAULT 0, PRIMARY KEY(account, id)) WITHOUT ROWID;"
	"CREATE INDEX certificates_ca ON certificates(account, ca_id);"
	"CREATE TABLE ca_certificates(account TEXT NOT NULL, id TEXT NOT NULL, status TEXT NOT NULL,"
	" pem TEXT NOT NULL, mode TEXT NOT NULL DEFAULT 'DEFAULT', auto_registration TEXT NOT NULL DEFAULT 'DISABLE',"
	" registration_config TEXT, owner TEXT NOT NULL, created INTEGER NOT NULL, modified INTEGER NOT NULL,"
	" customer_version INTEGER NOT NULL DEFAULT 1, generation_id TEXT NOT NULL, subject TEXT, issuer TEXT,"
	" subject_cn TEXT, serial TEXT, not_before INTEGER, not_after INTEGER, key_type TEXT, key_bits INTEGER,"
	" curve TEXT, pubkey_sha256 TEXT, key_sha256 TEXT, key_sha1_80 TEXT, is_ca INTEGER, ski TEXT, aki TEXT,"
	" crl_urls TEXT NOT NULL DEFAULT '[]', roca INTEGER NOT NULL DEFAULT 0, debian INTEGER NOT NULL DEFAULT 0,"
	" PRIMARY KEY(account, id)) WITHOUT ROWID;"
	"CREATE TABLE policies(account TEXT NOT NULL, name TEXT NOT NULL, default_version INTEGER NOT NULL,"
	" next_version INTEGER NOT NULL, created INTEGER NOT NULL, modified INTEGER NOT NULL,"
	" generation_id TEXT NOT NULL, PRIMARY KEY(account, name)) WITHOUT ROWID;"
	"CREATE TABLE policy_versions(account TEXT NOT NULL, policy_name TEXT NOT NULL, version INTEGER NOT NULL,"
	" document TEXT NOT NULL, created INTEGER NOT NULL, PRIMARY KEY(account, policy_name, version)) WITHOUT ROWID;"
	"CREATE TABLE policy_targets(account TEXT NOT NULL, policy_name TEXT NOT NULL, target TEXT NOT NULL,"
	" PRIMARY KEY(account, policy_name, target)) WITHOUT ROWID;"
	"CREATE INDEX policy_targets_target ON policy_targets(account, target);"
	"CREATE TABLE thing_principals(account TEXT NOT NULL, thing_name TEXT NOT NULL, principal TEXT NOT NULL,"
	" type TEXT NOT NULL DEFAULT 'NON_EXCLUSIVE_THING', PRIMARY KEY(account, thing_name, principal)) WITHOUT ROWID;"
	"CREATE INDEX thing_principals_principal ON thing_principals(account, principal);"
	"CREATE TABLE role_aliases(account TEXT NOT NULL, alias TEXT NOT NULL, role_arn TEXT NOT NULL,"
	" duration INTEGER NOT NULL, created INTEGER NOT NULL, modified INTEGER NOT NULL,"
	" PRIMARY KEY(account, alias)) WITHOUT ROWID;"
	"CREATE TABLE settings(account TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,"
	" PRIMARY KEY(account, key)) WITHOUT ROWID;"
	"CREATE TABLE v2_log_levels(account TEXT NOT NULL, target_type TEXT NOT NULL, target_name TEXT NOT NULL,"
	" level TEXT NOT NULL, PRIMARY KEY(account, target_type, target_name)) WITHOUT ROWID;"
	"CREATE TABLE tags(account TEXT NOT NULL, resource_arn TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,"
	" PRIMARY KEY(account, resource_arn, key)) WITHOUT ROWID;"
	"CREATE TABLE connection_events(seq INTEGER PRIMARY KEY AUTOINCREMENT, account TEXT NOT NULL,"
	" event TEXT NOT NULL, client_id TEXT NOT NULL, certificate_id TEXT, principal TEXT,"
	" ts INTEGER NOT NULL, source_ip TEXT, reason TEXT);"
	"CREATE INDEX connection_events_cert ON connection_events(account, certificate_id, ts);"
	"CREATE INDEX connection_events_client ON connection_events(account, client_id, ts);";

static const char m002_iam_sns_cognito[] =
	"CREATE TABLE iam_roles(account TEXT NOT NULL, name TEXT NOT NULL COLLATE NOCASE, role_id TEXT NOT NULL,"
	" path TEXT NOT NULL, trust_policy TEXT NOT NULL, description TEXT, max_session INTEGER NOT NULL DEFAULT 3600,"
	" permissions_boundary TEXT, tags TEXT NOT NULL DEFAULT '[]', created INTEGER NOT NULL,"
	" PRIMARY KEY(account, name)) WITHOUT ROWID;"
	"CREATE TABLE iam_role_policies(account TEXT NOT NULL, role_name TEXT NOT NULL COLLATE NOCASE,"
	" policy_name TEXT NOT NULL COLLATE NOCASE, document TEXT NOT NULL,"
	" PRIMARY KEY(account, role_name, policy_name)) WITHOUT ROWID;"
	"CREATE TABLE iam_policies(account TEXT NOT NULL, name TEXT NOT NULL COLLATE NOCASE, arn TEXT NOT NULL,"
	" policy_id TEXT NOT NULL, path TEXT NOT NULL, description TEXT, default_version INTEGER NOT NULL,"
	" next_version INTEGER NOT NULL, tags TEXT NOT NULL DEFAULT '[]', created INTEGER NOT NULL,"
	" updated INTEGER NOT NULL, PRIMARY KEY(account, name)) WITHOUT ROWID;"
	"CREATE TABLE iam_policy_versions(account TEXT NOT NULL, policy_name TEXT NOT NULL COLLATE NOCASE,"
	" version INTEGER NOT NULL, document TEXT NOT NULL, created INTEGER NOT NULL,"
	" PRIMARY KEY(account, policy_name, version)) WITHOUT ROWID;"
	"CREATE TABLE iam_role_attachments(account TEXT NOT NULL, role_name TEXT NOT NULL COLLATE NOCASE,"
	" policy_arn TEXT NOT NULL, PRIMARY KEY(account, role_name, policy_arn)) WITHOUT ROWID;"
	"CREATE INDEX iam_role_attachments_policy ON iam_role_attachments(account, policy_arn);"
	"CREATE TABLE sns_topics(account TEXT NOT NULL, arn TEXT NOT NULL, name TEXT NOT NULL, region TEXT NOT NULL,"
	" attributes TEXT NOT NULL DEFAULT '{}', tags TEXT NOT NULL DEFAULT '[]', created INTEGER NOT NULL,"
	" PRIMARY KEY(account, arn)) WITHOUT ROWID;"
	"CREATE TABLE sns_subscriptions(account TEXT NOT NULL, arn TEXT NOT NULL, topic_arn TEXT NOT NULL,"
	" protocol TEXT NOT NULL, endpoint TEXT NOT NULL, confirmed INTEGER NOT NULL DEFAULT 0, token TEXT NOT NULL,"
	" attributes TEXT NOT NULL DEFAULT '{}', created INTEGER NOT NULL, PRIMARY KEY(account, arn)) WITHOUT ROWID;"
	"CREATE INDEX sns_subscriptions_topic ON sns_subscriptions(account, topic_arn);"
	"CREATE INDEX sns_subscriptions_token ON sns_subscriptions(token);"
	"CREATE TABLE sns_outbox(id INTEGER PRIMARY KEY AUTOINCREMENT, account TEXT NOT NULL, topic_arn TEXT NOT NULL,"
	" subscription_arn TEXT NOT NULL, message_id TEXT NOT NULL, type TEXT NOT NULL, protocol TEXT NOT NULL,"
	" endpoint TEXT NOT NULL, subject TEXT, body TEXT NOT NULL, status TEXT NOT NULL,"
	" attempts INTEGER NOT NULL DEFAULT 0, next_at INTEGER NOT NULL, created INTEGER NOT NULL,"
	" updated INTEGER NOT NULL, last_error TEXT);"
	"CREATE INDEX sns_outbox_due ON sns_outbox(status, next_at);"
	"CREATE INDEX sns_outbox_topic ON sns_outbox(account, topic_arn, status);"
	"CREATE INDEX sns_outbox_sub ON sns_outbox(account, subscription_arn, status);"
	"CREATE TABLE sns_signing(id INTEGER PRIMARY KEY CHECK(id = 1), cert_pem TEXT NOT NULL,"
	" key_pem TEXT NOT NULL, created INTEGER NOT NULL);"
	"CREATE TABLE cognito_pools(account TEXT NOT NULL, id TEXT NOT NULL, region TEXT NOT NULL, name TEXT NOT NULL,"
	" config TEXT NOT NULL, roles TEXT NOT NULL DEFAULT '{}', role_mappings TEXT, created INTEGER NOT NULL,"
	" PRIMARY KEY(account, id)) WITHOUT ROWID;"
	"CREATE INDEX cognito_pools_region ON cognito_pools(account, region, id);";

/* Certificates: facts_version and self_signed facts (for the start-up backfill and the
 * chain walk), paging and issuer indexes; CRLs per CA, their revoked serials, and the
 * fetch state of each HTTP distribution point (dd_crl.c). */
static const char m003_crls[] =
	"ALTER TABLE certificates ADD COLUMN facts_version INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE certificates ADD COLUMN self_signed INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE ca_certificates ADD COLUMN facts_version INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE ca_certificates ADD COLUMN self_signed INTEGER NOT NULL DEFAULT 0;"
	"CREATE INDEX certificates_created ON certificates(account, created, id);"
	"CREATE INDEX ca_certificates_created ON ca_certificates(account, created, id);"
	"CREATE INDEX ca_certificates_subject ON ca_certificates(account, subject);"
	"CREATE TABLE crls(account TEXT NOT NULL, ca_id TEXT NOT NULL, issuer TEXT NOT NULL,"
	" this_update INTEGER NOT NULL, next_update INTEGER NOT NULL, der BLOB NOT NULL, source TEXT NOT NULL,"
	" stored INTEGER NOT NULL, n_revoked INTEGER NOT NULL, PRIMARY KEY(account, ca_id)) WITHOUT ROWID;"
	"CREATE INDEX crls_issuer ON crls(account, issuer);"
	"CREATE TABLE crl_revoked(account TEXT NOT NULL, ca_id TEXT NOT NULL, serial TEXT NOT NULL,"
	" PRIMARY KEY(account, ca_id, serial)) WITHOUT ROWID;"
	"CREATE TABLE crl_fetches(account TEXT NOT NULL, url TEXT NOT NULL, last_attempt INTEGER NOT NULL,"
	" last_success INTEGER NOT NULL, ok_until INTEGER NOT NULL, this_update INTEGER NOT NULL,"
	" next_update INTEGER NOT NULL, ca_id TEXT, last_error TEXT, fetches INTEGER NOT NULL,"
	" failures INTEGER NOT NULL, PRIMARY KEY(account, url)) WITHOUT ROWID;";

static const char m004_audit[] =
	"CREATE TABLE audit_config(account TEXT PRIMARY KEY, role_arn TEXT, targets TEXT NOT NULL DEFAULT '{}',"
	" checks TEXT NOT NULL DEFAULT '{}') WITHOUT ROWID;"
	"CREATE TABLE audit_tasks(account TEXT NOT NULL, task_id TEXT NOT NULL, task_type TEXT NOT NULL,"
	" status TEXT NOT NULL, scheduled_name TEXT, region TEXT NOT NULL, start_ms INTEGER NOT NULL, end_ms INTEGER,"
	" checks TEXT NOT NULL, window_start_ms INTEGER NOT NULL, notified INTEGER NOT NULL DEFAULT 0,"
	" PRIMARY KEY(account, task_id)) WITHOUT ROWID;"
	"CREATE INDEX audit_tasks_status ON audit_tasks(status);"
	"CREATE INDEX audit_tasks_start ON audit_tasks(account, start_ms);"
	"CREATE TABLE audit_task_checks(account TEXT NOT NULL, task_id TEXT NOT NULL, check_name TEXT NOT NULL,"
	" status TEXT NOT NULL, total INTEGER NOT NULL DEFAULT 0, noncompliant INTEGER NOT NULL DEFAULT 0,"
	" suppressed INTEGER NOT NULL DEFAULT 0, error_code TEXT, message TEXT,"
	" PRIMARY KEY(account, task_id, check_name)) WITHOUT ROWID;"
	"CREATE TABLE audit_findings(account TEXT NOT NULL, finding_id TEXT NOT NULL, task_id TEXT NOT NULL,"
	" check_name TEXT NOT NULL, task_start_ms INTEGER NOT NULL, finding_ms INTEGER NOT NULL,"
	" severity TEXT NOT NULL, resource_type TEXT NOT NULL, resource_key TEXT NOT NULL, resource TEXT NOT NULL,"
	" related TEXT NOT NULL DEFAULT '[]', reason TEXT NOT NULL, reason_code TEXT NOT NULL,"
	" suppressed INTEGER NOT NULL DEFAULT 0, PRIMARY KEY(account, finding_id)) WITHOUT ROWID;"
	"CREATE INDEX audit_findings_task ON audit_findings(account, task_id, check_name);"
	"CREATE INDEX audit_findings_time ON audit_findings(account, finding_ms, finding_id);"
	"CREATE INDEX audit_findings_resource ON audit_findings(account, check_name, resource_key);"
	"CREATE TABLE audit_suppressions(account TEXT NOT NULL, check_name TEXT NOT NULL, resource_key TEXT NOT NULL,"
	" resource TEXT NOT NULL, expiration_ms INTEGER, indefinite INTEGER NOT NULL DEFAULT 0, description TEXT,"
	" PRIMARY KEY(account, check_name, resource_key)) WITHOUT ROWID;"
	"CREATE TABLE scheduled_audits(account TEXT NOT NULL, name TEXT NOT NULL, frequency TEXT NOT NULL,"
	" day_of_month TEXT, day_of_week TEXT, checks TEXT NOT NULL, region TEXT NOT NULL, created INTEGER NOT NULL,"
	" last_run_day TEXT, last_run_ms INTEGER, PRIMARY KEY(account, name)) WITHOUT ROWID;"
	"CREATE TABLE role_service_usage(account TEXT NOT NULL, role_arn TEXT NOT NULL, service TEXT NOT NULL,"
	" last_used INTEGER NOT NULL, PRIMARY KEY(account, role_arn, service)) WITHOUT ROWID;";

/* Mitigation actions (dd_mitigation.c) and audit mitigation actions tasks with one row per
 * execution (one action applied to one finding); `prior` holds the state an execution
 * changed, for a later revert (dd_mitigation_engine.c). */
static const char m005_mitigation[] =
	"CREATE TABLE mitigation_actions(account TEXT NOT NULL, name TEXT NOT NULL, action_id TEXT NOT NULL,"
	" action_type TEXT NOT NULL, role_arn TEXT NOT NULL, params TEXT NOT NULL, region TEXT NOT NULL,"
	" created INTEGER NOT NULL, modified INTEGER NOT NULL, PRIMARY KEY(account, name)) WITHOUT ROWID;"
	"CREATE TABLE mitigation_tasks(account TEXT NOT NULL, task_id TEXT NOT NULL, status TEXT NOT NULL,"
	" client_token TEXT NOT NULL, request_hash TEXT NOT NULL, region TEXT NOT NULL, target TEXT NOT NULL,"
	" mapping TEXT NOT NULL, actions TEXT NOT NULL, audit_task_id TEXT, start_ms INTEGER NOT NULL,"
	" end_ms INTEGER, PRIMARY KEY(account, task_id)) WITHOUT ROWID;"
	"CREATE INDEX mitigation_tasks_status ON mitigation_tasks(status);"
	"CREATE INDEX mitigation_tasks_start ON mitigation_tasks(account, start_ms);"
	"CREATE INDEX mitigation_tasks_token ON mitigation_tasks(account, client_token);"
	"CREATE TABLE mitigation_executions(account TEXT NOT NULL, task_id TEXT NOT NULL, finding_id TEXT NOT NULL,"
	" seq INTEGER NOT NULL, check_name TEXT NOT NULL, action_name TEXT NOT NULL, action_id TEXT NOT NULL,"
	" status TEXT NOT NULL, start_ms INTEGER, end_ms INTEGER, error_code TEXT, message TEXT, prior TEXT,"
	" PRIMARY KEY(account, task_id, finding_id, seq)) WITHOUT ROWID;"
	"CREATE INDEX mitigation_executions_finding ON mitigation_executions(account, finding_id, task_id);";

/* The connection checks scan every event of the window in (certificate, time) and
 * (client id, time) order: covering indexes make those scans sequential reads. */
static const char m006_connection_indexes[] =
	"DROP INDEX connection_events_cert;"
	"DROP INDEX connection_events_client;"
	"CREATE INDEX connection_events_cert ON connection_events(account, certificate_id, ts, seq, client_id, event, reason);"
	"CREATE INDEX connection_events_client ON connection_events(account, client_id, ts, seq, certificate_id, principal,"
	" event, reason);";

/* Regions: IoT resources, the audit configuration, audits, findings, suppressions,
 * scheduled audits and mitigation actions and tasks are regional, as in AWS. Each of those
 * 27 tables is rebuilt (create <table>_new, copy, drop, rename, recreate its indexes: a
 * copy in key order and a fresh index build are much faster than updating every key in
 * place) with `account_region`, "<account>/<region>" (include/dd/ctx.h), instead of
 * `account`, first in its primary key and in every index. Rows stored before regions
 * existed go to us-east-1 (DD_DEFAULT_REGION), and the IoT ARNs stored as keys (tags,
 * policy targets, thing principals) are rewritten to us-east-1 so that they still name
 * the resources (OR REPLACE: the same resource tagged or attached through ARNs of two
 * regions becomes one row). The region columns of audit and mitigation tasks, scheduled
 * audits and mitigation actions are dropped: the key carries the region. IAM (global, as
 * in AWS), SNS and Cognito (regional through their own region column) are unchanged. */
static const char m007_regions[] =
	"CREATE TABLE things_new(account_region TEXT NOT NULL, name TEXT NOT NULL, thing_id TEXT NOT NULL,"
	" type_name TEXT, attributes TEXT NOT NULL DEFAULT '{}', version INTEGER NOT NULL DEFAULT 1,"
	" created INTEGER NOT NULL, PRIMARY KEY(account_region, name)) WITHOUT ROWID;"
	"INSERT INTO things_new(account_region, name, thing_id, type_name, attributes, version, created)"
	" SELECT account || '/us-east-1', name, thing_id, type_name, attributes, version, created FROM things;"
	"DROP TABLE things;"
	"ALTER TABLE things_new RENAME TO things;"
	"CREATE TABLE thing_groups_new(account_region TEXT NOT NULL, name TEXT NOT NULL,"
	" group_id TEXT NOT NULL, parent TEXT, description TEXT, attributes TEXT NOT NULL DEFAULT '{}',"
	" dynamic INTEGER NOT NULL DEFAULT 0, query_string TEXT, index_name TEXT, query_version TEXT,"
	" version INTEGER NOT NULL DEFAULT 1, created INTEGER NOT NULL, PRIMARY KEY(account_region,"
	" name)) WITHOUT ROWID;"
	"INSERT INTO thing_groups_new(account_region, name, group_id, parent, description, attributes,"
	" dynamic, query_string, index_name, query_version, version, created) SELECT account || '/us-east-1',"
	" name, group_id, parent, description, attributes, dynamic, query_string, index_name, query_version,"
	" version, created FROM thing_groups;"
	"DROP TABLE thing_groups;"
	"ALTER TABLE thing_groups_new RENAME TO thing_groups;"
	"CREATE TABLE thing_group_members_new(account_region TEXT NOT NULL, group_name TEXT NOT NULL,"
	" thing_name TEXT NOT NULL, PRIMARY KEY(account_region, group_name, thing_name)) WITHOUT ROWID;"
	"INSERT INTO thing_group_members_new(account_region, group_name, thing_name)"
	" SELECT account || '/us-east-1', group_name, thing_name FROM thing_group_members;"
	"DROP TABLE thing_group_members;"
	"ALTER TABLE thing_group_members_new RENAME TO thing_group_members;"
	"CREATE INDEX thing_group_members_thing ON thing_group_members(account_region, thing_name);"
	"CREATE TABLE certificates_new(account_region TEXT NOT NULL, id TEXT NOT NULL, status TEXT NOT NULL,"
	" pem TEXT NOT NULL, ca_id TEXT, mode TEXT NOT NULL DEFAULT 'DEFAULT', owner TEXT NOT NULL,"
	" created INTEGER NOT NULL, modified INTEGER NOT NULL, customer_version INTEGER NOT NULL DEFAULT 1,"
	" generation_id TEXT NOT NULL, subject TEXT, issuer TEXT, subject_cn TEXT, serial TEXT,"
	" not_before INTEGER, not_after INTEGER, key_type TEXT, key_bits INTEGER, curve TEXT,"
	" pubkey_sha256 TEXT, key_sha256 TEXT, key_sha1_80 TEXT, is_ca INTEGER, ski TEXT, aki TEXT,"
	" crl_urls TEXT NOT NULL DEFAULT '[]', roca INTEGER NOT NULL DEFAULT 0,"
	" debian INTEGER NOT NULL DEFAULT 0, facts_version INTEGER NOT NULL DEFAULT 0,"
	" self_signed INTEGER NOT NULL DEFAULT 0, PRIMARY KEY(account_region, id)) WITHOUT ROWID;"
	"INSERT INTO certificates_new(account_region, id, status, pem, ca_id, mode, owner, created, modified,"
	" customer_version, generation_id, subject, issuer, subject_cn, serial, not_before, not_after,"
	" key_type, key_bits, curve, pubkey_sha256, key_sha256, key_sha1_80, is_ca, ski, aki, crl_urls, roca,"
	" debian, facts_version, self_signed) SELECT account || '/us-east-1', id, status, pem, ca_id, mode,"
	" owner, created, modified, customer_version, generation_id, subject, issuer, subject_cn, serial,"
	" not_before, not_after, key_type, key_bits, curve, pubkey_sha256, key_sha256, key_sha1_80, is_ca, ski,"
	" aki, crl_urls, roca, debian, facts_version, self_signed FROM certificates;"
	"DROP TABLE certificates;"
	"ALTER TABLE certificates_new RENAME TO certificates;"
	"CREATE INDEX certificates_ca ON certificates(account_region, ca_id);"
	"CREATE INDEX certificates_created ON certificates(account_region, created, id);"
	"CREATE TABLE ca_certificates_new(account_region TEXT NOT NULL, id TEXT NOT NULL,"
	" status TEXT NOT NULL, pem TEXT NOT NULL, mode TEXT NOT NULL DEFAULT 'DEFAULT',"
	" auto_registration TEXT NOT NULL DEFAULT 'DISABLE', registration_config TEXT, owner TEXT NOT NULL,"
	" created INTEGER NOT NULL, modified INTEGER NOT NULL, customer_version INTEGER NOT NULL DEFAULT 1,"
	" generation_id TEXT NOT NULL, subject TEXT, issuer TEXT, subject_cn TEXT, serial TEXT,"
	" not_before INTEGER, not_after INTEGER, key_type TEXT, key_bits INTEGER, curve TEXT,"
	" pubkey_sha256 TEXT, key_sha256 TEXT, key_sha1_80 TEXT, is_ca INTEGER, ski TEXT, aki TEXT,"
	" crl_urls TEXT NOT NULL DEFAULT '[]', roca INTEGER NOT NULL DEFAULT 0,"
	" debian INTEGER NOT NULL DEFAULT 0, facts_version INTEGER NOT NULL DEFAULT 0,"
	" self_signed INTEGER NOT NULL DEFAULT 0, PRIMARY KEY(account_region, id)) WITHOUT ROWID;"
	"INSERT INTO ca_certificates_new(account_region, id, status, pem, mode, auto_registration,"
	" registration_config, owner, created, modified, customer_version, generation_id, subject, issuer,"
	" subject_cn, serial, not_before, not_after, key_type, key_bits, curve, pubkey_sha256, key_sha256,"
	" key_sha1_80, is_ca, ski, aki, crl_urls, roca, debian, facts_version, self_signed)"
	" SELECT account || '/us-east-1', id, status, pem, mode, auto_registration, registration_config,"
	" owner, created, modified, customer_version, generation_id, subject, issuer, subject_cn, serial,"
	" not_before, not_after, key_type, key_bits, curve, pubkey_sha256, key_sha256, key_sha1_80, is_ca, ski,"
	" aki, crl_urls, roca, debian, facts_version, self_signed FROM ca_certificates;"
	"DROP TABLE ca_certificates;"
	"ALTER TABLE ca_certificates_new RENAME TO ca_certificates;"
	"CREATE INDEX ca_certificates_created ON ca_certificates(account_region, created, id);"
	"CREATE INDEX ca_certificates_subject ON ca_certificates(account_region, subject);"
	"CREATE TABLE policies_new(account_region TEXT NOT NULL, name TEXT NOT NULL,"
	" default_version INTEGER NOT NULL, next_version INTEGER NOT NULL, created INTEGER NOT NULL,"
	" modified INTEGER NOT NULL, generation_id TEXT NOT NULL, PRIMARY KEY(account_region,"
	" name)) WITHOUT ROWID;"
	"INSERT INTO policies_new(account_region, name, default_version, next_version, created, modified,"
	" generation_id) SELECT account || '/us-east-1', name, default_version, next_version, created,"
	" modified, generation_id FROM policies;"
	"DROP TABLE policies;"
	"ALTER TABLE policies_new RENAME TO policies;"
	"CREATE TABLE policy_versions_new(account_region TEXT NOT NULL, policy_name TEXT NOT NULL,"
	" version INTEGER NOT NULL, document TEXT NOT NULL, created INTEGER NOT NULL,"
	" PRIMARY KEY(account_region, policy_name, version)) WITHOUT ROWID;"
	"INSERT INTO policy_versions_new(account_region, policy_name, version, document, created)"
	" SELECT account || '/us-east-1', policy_name, version, document, created FROM policy_versions;"
	"DROP TABLE policy_versions;"
	"ALTER TABLE policy_versions_new RENAME TO policy_versions;"
	"CREATE TABLE policy_targets_new(account_region TEXT NOT NULL, policy_name TEXT NOT NULL,"
	" target TEXT NOT NULL, PRIMARY KEY(account_region, policy_name, target)) WITHOUT ROWID;"
	"INSERT OR REPLACE INTO policy_targets_new(account_region, policy_name, target)"
	" SELECT account || '/us-east-1', policy_name,"
	" CASE WHEN target LIKE 'arn:aws:iot:%:%' THEN 'arn:aws:iot:us-east-1' || substr(target,"
	" 12 + instr(substr(target, 13), ':')) ELSE target END FROM policy_targets;"
	"DROP TABLE policy_targets;"
	"ALTER TABLE policy_targets_new RENAME TO policy_targets;"
	"CREATE INDEX policy_targets_target ON policy_targets(account_region, target);"
	"CREATE TABLE thing_principals_new(account_region TEXT NOT NULL, thing_name TEXT NOT NULL,"
	" principal TEXT NOT NULL, type TEXT NOT NULL DEFAULT 'NON_EXCLUSIVE_THING',"
	" PRIMARY KEY(account_region, thing_name, principal)) WITHOUT ROWID;"
	"INSERT OR REPLACE INTO thing_principals_new(account_region, thing_name, principal, type)"
	" SELECT account || '/us-east-1', thing_name,"
	" CASE WHEN principal LIKE 'arn:aws:iot:%:%' THEN 'arn:aws:iot:us-east-1' || substr(principal,"
	" 12 + instr(substr(principal, 13), ':')) ELSE principal END, type FROM thing_principals;"
	"DROP TABLE thing_principals;"
	"ALTER TABLE thing_principals_new RENAME TO thing_principals;"
	"CREATE INDEX thing_principals_principal ON thing_principals(account_region, principal);"
	"CREATE TABLE role_aliases_new(account_region TEXT NOT NULL, alias TEXT NOT NULL,"
	" role_arn TEXT NOT NULL, duration INTEGER NOT NULL, created INTEGER NOT NULL,"
	" modified INTEGER NOT NULL, PRIMARY KEY(account_region, alias)) WITHOUT ROWID;"
	"INSERT INTO role_aliases_new(account_region, alias, role_arn, duration, created, modified)"
	" SELECT account || '/us-east-1', alias, role_arn, duration, created, modified FROM role_aliases;"
	"DROP TABLE role_aliases;"
	"ALTER TABLE role_aliases_new RENAME TO role_aliases;"
	"CREATE TABLE settings_new(account_region TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,"
	" PRIMARY KEY(account_region, key)) WITHOUT ROWID;"
	"INSERT INTO settings_new(account_region, key, value) SELECT account || '/us-east-1', key,"
	" value FROM settings;"
	"DROP TABLE settings;"
	"ALTER TABLE settings_new RENAME TO settings;"
	"CREATE TABLE v2_log_levels_new(account_region TEXT NOT NULL, target_type TEXT NOT NULL,"
	" target_name TEXT NOT NULL, level TEXT NOT NULL, PRIMARY KEY(account_region, target_type,"
	" target_name)) WITHOUT ROWID;"
	"INSERT INTO v2_log_levels_new(account_region, target_type, target_name, level)"
	" SELECT account || '/us-east-1', target_type, target_name, level FROM v2_log_levels;"
	"DROP TABLE v2_log_levels;"
	"ALTER TABLE v2_log_levels_new RENAME TO v2_log_levels;"
	"CREATE TABLE tags_new(account_region TEXT NOT NULL, resource_arn TEXT NOT NULL, key TEXT NOT NULL,"
	" value TEXT NOT NULL, PRIMARY KEY(account_region, resource_arn, key)) WITHOUT ROWID;"
	"INSERT OR REPLACE INTO tags_new(account_region, resource_arn, key, value)"
	" SELECT account || '/us-east-1',"
	" CASE WHEN resource_arn LIKE 'arn:aws:iot:%:%' THEN 'arn:aws:iot:us-east-1' || substr(resource_arn,"
	" 12 + instr(substr(resource_arn, 13), ':')) ELSE resource_arn END, key, value FROM tags;"
	"DROP TABLE tags;"
	"ALTER TABLE tags_new RENAME TO tags;"
	"CREATE TABLE connection_events_new(seq INTEGER PRIMARY KEY AUTOINCREMENT,"
	" account_region TEXT NOT NULL, event TEXT NOT NULL, client_id TEXT NOT NULL, certificate_id TEXT,"
	" principal TEXT, ts INTEGER NOT NULL, source_ip TEXT, reason TEXT);"
	"INSERT INTO connection_events_new(seq, account_region, event, client_id, certificate_id, principal,"
	" ts, source_ip, reason) SELECT seq, account || '/us-east-1', event, client_id, certificate_id,"
	" principal, ts, source_ip, reason FROM connection_events;"
	"DROP TABLE connection_events;"
	"ALTER TABLE connection_events_new RENAME TO connection_events;"
	"CREATE INDEX connection_events_cert ON connection_events(account_region, certificate_id, ts, seq,"
	" client_id, event, reason);"
	"CREATE INDEX connection_events_client ON connection_events(account_region, client_id, ts, seq,"
	" certificate_id, principal, event, reason);"
	"CREATE TABLE crls_new(account_region TEXT NOT NULL, ca_id TEXT NOT NULL, issuer TEXT NOT NULL,"
	" this_update INTEGER NOT NULL, next_update INTEGER NOT NULL, der BLOB NOT NULL, source TEXT NOT NULL,"
	" stored INTEGER NOT NULL, n_revoked INTEGER NOT NULL, PRIMARY KEY(account_region,"
	" ca_id)) WITHOUT ROWID;"
	"INSERT INTO crls_new(account_region, ca_id, issuer, this_update, next_update, der, source, stored,"
	" n_revoked) SELECT account || '/us-east-1', ca_id, issuer, this_update, next_update, der, source,"
	" stored, n_revoked FROM crls;"
	"DROP TABLE crls;"
	"ALTER TABLE crls_new RENAME TO crls;"
	"CREATE INDEX crls_issuer ON crls(account_region, issuer);"
	"CREATE TABLE crl_revoked_new(account_region TEXT NOT NULL, ca_id TEXT NOT NULL, serial TEXT NOT NULL,"
	" PRIMARY KEY(account_region, ca_id, serial)) WITHOUT ROWID;"
	"INSERT INTO crl_revoked_new(account_region, ca_id, serial) SELECT account || '/us-east-1', ca_id,"
	" serial FROM crl_revoked;"
	"DROP TABLE crl_revoked;"
	"ALTER TABLE crl_revoked_new RENAME TO crl_revoked;"
	"CREATE TABLE crl_fetches_new(account_region TEXT NOT NULL, url TEXT NOT NULL,"
	" last_attempt INTEGER NOT NULL, last_success INTEGER NOT NULL, ok_until INTEGER NOT NULL,"
	" this_update INTEGER NOT NULL, next_update INTEGER NOT NULL, ca_id TEXT, last_error TEXT,"
	" fetches INTEGER NOT NULL, failures INTEGER NOT NULL, PRIMARY KEY(account_region, url)) WITHOUT ROWID;"
	"INSERT INTO crl_fetches_new(account_region, url, last_attempt, last_success, ok_until, this_update,"
	" next_update, ca_id, last_error, fetches, failures) SELECT account || '/us-east-1', url, last_attempt,"
	" last_success, ok_until, this_update, next_update, ca_id, last_error, fetches,"
	" failures FROM crl_fetches;"
	"DROP TABLE crl_fetches;"
	"ALTER TABLE crl_fetches_new RENAME TO crl_fetches;"
	"CREATE TABLE audit_config_new(account_region TEXT PRIMARY KEY, role_arn TEXT,"
	" targets TEXT NOT NULL DEFAULT '{}', checks TEXT NOT NULL DEFAULT '{}') WITHOUT ROWID;"
	"INSERT INTO audit_config_new(account_region, role_arn, targets, checks)"
	" SELECT account || '/us-east-1', role_arn, targets, checks FROM audit_config;"
	"DROP TABLE audit_config;"
	"ALTER TABLE audit_config_new RENAME TO audit_config;"
	"CREATE TABLE audit_tasks_new(account_region TEXT NOT NULL, task_id TEXT NOT NULL,"
	" task_type TEXT NOT NULL, status TEXT NOT NULL, scheduled_name TEXT, start_ms INTEGER NOT NULL,"
	" end_ms INTEGER, checks TEXT NOT NULL, window_start_ms INTEGER NOT NULL,"
	" notified INTEGER NOT NULL DEFAULT 0, PRIMARY KEY(account_region, task_id)) WITHOUT ROWID;"
	"INSERT INTO audit_tasks_new(account_region, task_id, task_type, status, scheduled_name, start_ms,"
	" end_ms, checks, window_start_ms, notified) SELECT account || '/us-east-1', task_id, task_type,"
	" status, scheduled_name, start_ms, end_ms, checks, window_start_ms, notified FROM audit_tasks;"
	"DROP TABLE audit_tasks;"
	"ALTER TABLE audit_tasks_new RENAME TO audit_tasks;"
	"CREATE INDEX audit_tasks_start ON audit_tasks(account_region, start_ms);"
	"CREATE INDEX audit_tasks_status ON audit_tasks(status);"
	"CREATE TABLE audit_task_checks_new(account_region TEXT NOT NULL, task_id TEXT NOT NULL,"
	" check_name TEXT NOT NULL, status TEXT NOT NULL, total INTEGER NOT NULL DEFAULT 0,"
	" noncompliant INTEGER NOT NULL DEFAULT 0, suppressed INTEGER NOT NULL DEFAULT 0, error_code TEXT,"
	" message TEXT, PRIMARY KEY(account_region, task_id, check_name)) WITHOUT ROWID;"
	"INSERT INTO audit_task_checks_new(account_region, task_id, check_name, status, total, noncompliant,"
	" suppressed, error_code, message) SELECT account || '/us-east-1', task_id, check_name, status, total,"
	" noncompliant, suppressed, error_code, message FROM audit_task_checks;"
	"DROP TABLE audit_task_checks;"
	"ALTER TABLE audit_task_checks_new RENAME TO audit_task_checks;"
	"CREATE TABLE audit_findings_new(account_region TEXT NOT NULL, finding_id TEXT NOT NULL,"
	" task_id TEXT NOT NULL, check_name TEXT NOT NULL, task_start_ms INTEGER NOT NULL,"
	" finding_ms INTEGER NOT NULL, severity TEXT NOT NULL, resource_type TEXT NOT NULL,"
	" resource_key TEXT NOT NULL, resource TEXT NOT NULL, related TEXT NOT NULL DEFAULT '[]',"
	" reason TEXT NOT NULL, reason_code TEXT NOT NULL, suppressed INTEGER NOT NULL DEFAULT 0,"
	" PRIMARY KEY(account_region, finding_id)) WITHOUT ROWID;"
	"INSERT INTO audit_findings_new(account_region, finding_id, task_id, check_name, task_start_ms,"
	" finding_ms, severity, resource_type, resource_key, resource, related, reason, reason_code, suppressed)"
	" SELECT account || '/us-east-1', finding_id, task_id, check_name, task_start_ms, finding_ms,"
	" severity, resource_type, resource_key, resource, related, reason, reason_code,"
	" suppressed FROM audit_findings;"
	"DROP TABLE audit_findings;"
	"ALTER TABLE audit_findings_new RENAME TO audit_findings;"
	"CREATE INDEX audit_findings_resource ON audit_findings(account_region, check_name, resource_key);"
	"CREATE INDEX audit_findings_task ON audit_findings(account_region, task_id, check_name);"
	"CREATE INDEX audit_findings_time ON audit_findings(account_region, finding_ms, finding_id);"
	"CREATE TABLE audit_suppressions_new(account_region TEXT NOT NULL, check_name TEXT NOT NULL,"
	" resource_key TEXT NOT NULL, resource TEXT NOT NULL, expiration_ms INTEGER,"
	" indefinite INTEGER NOT NULL DEFAULT 0, description TEXT, PRIMARY KEY(account_region, check_name,"
	" resource_key)) WITHOUT ROWID;"
	"INSERT INTO audit_suppressions_new(account_region, check_name, resource_key, resource, expiration_ms,"
	" indefinite, description) SELECT account || '/us-east-1', check_name, resource_key, resource,"
	" expiration_ms, indefinite, description FROM audit_suppressions;"
	"DROP TABLE audit_suppressions;"
	"ALTER TABLE audit_suppressions_new RENAME TO audit_suppressions;"
	"CREATE TABLE scheduled_audits_new(account_region TEXT NOT NULL, name TEXT NOT NULL,"
	" frequency TEXT NOT NULL, day_of_month TEXT, day_of_week TEXT, checks TEXT NOT NULL,"
	" created INTEGER NOT NULL, last_run_day TEXT, last_run_ms INTEGER, PRIMARY KEY(account_region,"
	" name)) WITHOUT ROWID;"
	"INSERT INTO scheduled_audits_new(account_region, name, frequency, day_of_month, day_of_week, checks,"
	" created, last_run_day, last_run_ms) SELECT account || '/us-east-1', name, frequency, day_of_month,"
	" day_of_week, checks, created, last_run_day, last_run_ms FROM scheduled_audits;"
	"DROP TABLE scheduled_audits;"
	"ALTER TABLE scheduled_audits_new RENAME TO scheduled_audits;"
	"CREATE TABLE role_service_usage_new(account_region TEXT NOT NULL, role_arn TEXT NOT NULL,"
	" service TEXT NOT NULL, last_used INTEGER NOT NULL, PRIMARY KEY(account_region, role_arn,"
	" service)) WITHOUT ROWID;"
	"INSERT INTO role_service_usage_new(account_region, role_arn, service, last_used)"
	" SELECT account || '/us-east-1', role_arn, service, last_used FROM role_service_usage;"
	"DROP TABLE role_service_usage;"
	"ALTER TABLE role_service_usage_new RENAME TO role_service_usage;"
	"CREATE TABLE mitigation_actions_new(account_region TEXT NOT NULL, name TEXT NOT NULL,"
	" action_id TEXT NOT NULL, action_type TEXT NOT NULL, role_arn TEXT NOT NULL, params TEXT NOT NULL,"
	" created INTEGER NOT NULL, modified INTEGER NOT NULL, PRIMARY KEY(account_region, name)) WITHOUT ROWID;"
	"INSERT INTO mitigation_actions_new(account_region, name, action_id, action_type, role_arn, params,"
	" created, modified) SELECT account || '/us-east-1', name, action_id, action_type, role_arn, params,"
	" created, modified FROM mitigation_actions;"
	"DROP TABLE mitigation_actions;"
	"ALTER TABLE mitigation_actions_new RENAME TO mitigation_actions;"
	"CREATE TABLE mitigation_tasks_new(account_region TEXT NOT NULL, task_id TEXT NOT NULL,"
	" status TEXT NOT NULL, client_token TEXT NOT NULL, request_hash TEXT NOT NULL, target TEXT NOT NULL,"
	" mapping TEXT NOT NULL, actions TEXT NOT NULL, audit_task_id TEXT, start_ms INTEGER NOT NULL,"
	" end_ms INTEGER, PRIMARY KEY(account_region, task_id)) WITHOUT ROWID;"
	"INSERT INTO mitigation_tasks_new(account_region, task_id, status, client_token, request_hash, target,"
	" mapping, actions, audit_task_id, start_ms, end_ms) SELECT account || '/us-east-1', task_id, status,"
	" client_token, request_hash, target, mapping, actions, audit_task_id, start_ms,"
	" end_ms FROM mitigation_tasks;"
	"DROP TABLE mitigation_tasks;"
	"ALTER TABLE mitigation_tasks_new RENAME TO mitigation_tasks;"
	"CREATE INDEX mitigation_tasks_start ON mitigation_tasks(account_region, start_ms);"
	"CREATE INDEX mitigation_tasks_status ON mitigation_tasks(status);"
	"CREATE INDEX mitigation_tasks_token ON mitigation_tasks(account_region, client_token);"
	"CREATE TABLE mitigation_executions_new(account_region TEXT NOT NULL, task_id TEXT NOT NULL,"
	" finding_id TEXT NOT NULL, seq INTEGER NOT NULL, check_name TEXT NOT NULL, action_name TEXT NOT NULL,"
	" action_id TEXT NOT NULL, status TEXT NOT NULL, start_ms INTEGER, end_ms INTEGER, error_code TEXT,"
	" message TEXT, prior TEXT, PRIMARY KEY(account_region, task_id, finding_id, seq)) WITHOUT ROWID;"
	"INSERT INTO mitigation_executions_new(account_region, task_id, finding_id, seq, check_name,"
	" action_name, action_id, status, start_ms, end_ms, error_code, message, prior)"
	" SELECT account || '/us-east-1', task_id, finding_id, seq, check_name, action_name, action_id,"
	" status, start_ms, end_ms, error_code, message, prior FROM mitigation_executions;"
	"DROP TABLE mitigation_executions;"
	"ALTER TABLE mitigation_executions_new RENAME TO mitigation_executions;"
	"CREATE INDEX mitigation_executions_finding ON mitigation_executions(account_region, finding_id,"
	" task_id);";

/* The change journal the broker plugin polls (dd_changes.c): every change that can alter
 * a connected client's right to stay connected or to act is written by a trigger in the
 * same transaction as the change itself, so no code path can forget it. The certificate
 * id index serves the broker's lookup of a presented certificate in any account. */
#define DD__NOW_MS "CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)"
#define DD__NOTE(kind, acct, subj) "INSERT INTO changes(account_region, kind, subject, ts) VALUES (" acct ", '" kind "', " subj ", " DD__NOW_MS "); END;"
static const char m008_change_journal[] =
	"CREATE TABLE changes(seq INTEGER PRIMARY KEY AUTOINCREMENT, account_region TEXT NOT NULL, kind TEXT NOT NULL,"
	" subject TEXT NOT NULL, arg TEXT, ts INTEGER NOT NULL);"
	"CREATE INDEX changes_ts ON changes(ts);"
	"CREATE INDEX certificates_id ON certificates(id);"
	"CREATE TRIGGER changes_cert_status AFTER UPDATE OF status ON certificates WHEN OLD.status <> NEW.status BEGIN "
	DD__NOTE("cert", "NEW.account_region", "NEW.id")
	"CREATE TRIGGER changes_cert_delete AFTER DELETE ON certificates BEGIN " DD__NOTE("cert", "OLD.account_region", "OLD.id")
	"CREATE TRIGGER changes_cert_insert AFTER INSERT ON certificates BEGIN " DD__NOTE("cert", "NEW.account_region", "NEW.id")
	"CREATE TRIGGER changes_ca_insert AFTER INSERT ON ca_certificates BEGIN " DD__NOTE("ca", "NEW.account_region", "NEW.id")
	"CREATE TRIGGER changes_ca_status AFTER UPDATE OF status ON ca_certificates WHEN OLD.status <> NEW.status BEGIN "
	DD__NOTE("ca", "NEW.account_region", "NEW.id")
	"CREATE TRIGGER changes_ca_delete AFTER DELETE ON ca_certificates BEGIN " DD__NOTE("ca", "OLD.account_region", "OLD.id")
	"CREATE TRIGGER changes_crl_insert AFTER INSERT ON crls BEGIN " DD__NOTE("crl", "NEW.account_region", "NEW.ca_id")
	"CREATE TRIGGER changes_crl_update AFTER UPDATE ON crls BEGIN " DD__NOTE("crl", "NEW.account_region", "NEW.ca_id")
	"CREATE TRIGGER changes_policy_attach AFTER INSERT ON policy_targets BEGIN " DD__NOTE("policy", "NEW.account_region", "NEW.target")
	"CREATE TRIGGER changes_policy_detach AFTER DELETE ON policy_targets BEGIN " DD__NOTE("policy", "OLD.account_region", "OLD.target")
	"CREATE TRIGGER changes_policy_default AFTER UPDATE OF default_version ON policies BEGIN "
	DD__NOTE("policy", "NEW.account_region", "NEW.name")
	"CREATE TRIGGER changes_policy_delete AFTER DELETE ON policies BEGIN " DD__NOTE("policy", "OLD.account_region", "OLD.name")
	"CREATE TRIGGER changes_principal_attach AFTER INSERT ON thing_principals BEGIN "
	DD__NOTE("thing", "NEW.account_region", "NEW.principal")
	"CREATE TRIGGER changes_principal_detach AFTER DELETE ON thing_principals BEGIN "
	DD__NOTE("thing", "OLD.account_region", "OLD.principal")
	"CREATE TRIGGER changes_thing_update AFTER UPDATE ON things BEGIN " DD__NOTE("thing", "NEW.account_region", "NEW.name")
	"CREATE TRIGGER changes_member_add AFTER INSERT ON thing_group_members BEGIN "
	DD__NOTE("group", "NEW.account_region", "NEW.thing_name")
	"CREATE TRIGGER changes_member_remove AFTER DELETE ON thing_group_members BEGIN "
	DD__NOTE("group", "OLD.account_region", "OLD.thing_name")
	"CREATE TRIGGER changes_group_parent AFTER UPDATE OF parent ON thing_groups BEGIN "
	DD__NOTE("grouptree", "NEW.account_region", "NEW.name")
	"CREATE TRIGGER changes_settings_insert AFTER INSERT ON settings BEGIN " DD__NOTE("logging", "NEW.account_region", "NEW.key")
	"CREATE TRIGGER changes_settings_update AFTER UPDATE ON settings BEGIN " DD__NOTE("logging", "NEW.account_region", "NEW.key")
	"CREATE TRIGGER changes_loglevel_insert AFTER INSERT ON v2_log_levels BEGIN "
	DD__NOTE("logging", "NEW.account_region", "NEW.target_name")
	"CREATE TRIGGER changes_loglevel_delete AFTER DELETE ON v2_log_levels BEGIN "
	DD__NOTE("logging", "OLD.account_region", "OLD.target_name");
#undef DD__NOTE
#undef DD__NOW_MS
/* IAM users, their access keys (the secret is kept, as SigV4 verification needs it; the
 * database lives in the 0700 data directory), groups, and the users' and groups' inline
 * and attached policies. */
static const char m009_iam_users[] =
	"CREATE TABLE iam_users(account TEXT NOT NULL, name TEXT NOT NULL COLLATE NOCASE, user_id TEXT NOT NULL,"
	" path TEXT NOT NULL, created INTEGER NOT NULL, PRIMARY KEY(account, name)) WITHOUT ROWID;"
	"CREATE TABLE iam_access_keys(access_key TEXT PRIMARY KEY NOT NULL, account TEXT NOT NULL,"
	" user_name TEXT NOT NULL COLLATE NOCASE, secret TEXT NOT NULL, status TEXT NOT NULL,"
	" created INTEGER NOT NULL) WITHOUT ROWID;"
	"CREATE INDEX iam_access_keys_user ON iam_access_keys(account, user_name);"
	"CREATE TABLE iam_groups(account TEXT NOT NULL, name TEXT NOT NULL COLLATE NOCASE, group_id TEXT NOT NULL,"
	" path TEXT NOT NULL, created INTEGER NOT NULL, PRIMARY KEY(account, name)) WITHOUT ROWID;"
	"CREATE TABLE iam_group_members(account TEXT NOT NULL, group_name TEXT NOT NULL COLLATE NOCASE,"
	" user_name TEXT NOT NULL COLLATE NOCASE, PRIMARY KEY(account, group_name, user_name)) WITHOUT ROWID;"
	"CREATE INDEX iam_group_members_user ON iam_group_members(account, user_name);"
	"CREATE TABLE iam_user_policies(account TEXT NOT NULL, user_name TEXT NOT NULL COLLATE NOCASE,"
	" policy_name TEXT NOT NULL COLLATE NOCASE, document TEXT NOT NULL,"
	" PRIMARY KEY(account, user_name, policy_name)) WITHOUT ROWID;"
	"CREATE TABLE iam_group_policies(account TEXT NOT NULL, group_name TEXT NOT NULL COLLATE NOCASE,"
	" policy_name TEXT NOT NULL COLLATE NOCASE, document TEXT NOT NULL,"
	" PRIMARY KEY(account, group_name, policy_name)) WITHOUT ROWID;"
	"CREATE TABLE iam_user_attachments(account TEXT NOT NULL, user_name TEXT NOT NULL COLLATE NOCASE,"
	" policy_arn TEXT NOT NULL, PRIMARY KEY(account, user_name, policy_arn)) WITHOUT ROWID;"
	"CREATE INDEX iam_user_attachments_policy ON iam_user_attachments(account, policy_arn);"
	"CREATE TABLE iam_group_attachments(account TEXT NOT NULL, group_name TEXT NOT NULL COLLATE NOCASE,"
	" policy_arn TEXT NOT NULL, PRIMARY KEY(account, group_name, policy_arn)) WITHOUT ROWID;"
	"CREATE INDEX iam_group_attachments_policy ON iam_group_attachments(account, policy_arn);";
/* Thing types and billing groups (issue 15): a thing's billing group is a column of the
 * thing (a thing is in at most one), indexed with its type for the listings. */
static const char m010_thing_types_billing[] =
	"CREATE TABLE thing_types(account_region TEXT NOT NULL, name TEXT NOT NULL, type_id TEXT NOT NULL,"
	" description TEXT, searchable TEXT NOT NULL DEFAULT '[]', mqtt5 TEXT, deprecated INTEGER NOT NULL"
	" DEFAULT 0, deprecation_ms INTEGER, created INTEGER NOT NULL, PRIMARY KEY(account_region, name))"
	" WITHOUT ROWID;"
	"CREATE TABLE billing_groups(account_region TEXT NOT NULL, name TEXT NOT NULL, group_id TEXT NOT NULL,"
	" description TEXT, version INTEGER NOT NULL DEFAULT 1, created INTEGER NOT NULL,"
	" PRIMARY KEY(account_region, name)) WITHOUT ROWID;"
	"ALTER TABLE things ADD COLUMN billing_group TEXT;"
	"CREATE INDEX things_type ON things(account_region, type_name, name);"
	"CREATE INDEX things_billing ON things(account_region, billing_group, name);";

/* Topic rules and domain configurations (issue 15), stored only: nothing executes them. */
static const char m011_rules_domains[] =
	"CREATE TABLE topic_rules(account_region TEXT NOT NULL, name TEXT NOT NULL, sql TEXT NOT NULL,"
	" topic TEXT NOT NULL, description TEXT, actions TEXT NOT NULL DEFAULT '[]', error_action TEXT,"
	" disabled INTEGER NOT NULL DEFAULT 0, sql_version TEXT, created INTEGER NOT NULL,"
	" PRIMARY KEY(account_region, name)) WITHOUT ROWID;"
	"CREATE TABLE domain_configurations(account_region TEXT NOT NULL, name TEXT NOT NULL,"
	" arn_id TEXT NOT NULL, config TEXT NOT NULL DEFAULT '{}', status TEXT NOT NULL, service_type TEXT NOT NULL,"
	" domain_type TEXT NOT NULL, status_changed INTEGER NOT NULL, created INTEGER NOT NULL,"
	" PRIMARY KEY(account_region, name)) WITHOUT ROWID;";

/* Jobs, their targets and executions, and job templates (issue 15), stored only: nothing
 * delivers a job to a device. A job's configs and a template's are one JSON object text;
 * exec_seq numbers the job's executions. */
static const char m012_jobs[] =
	"CREATE TABLE jobs(account_region TEXT NOT NULL, job_id TEXT NOT NULL, target_selection TEXT NOT NULL,"
	" status TEXT NOT NULL, description TEXT, document TEXT, document_source TEXT, template_arn TEXT,"
	" namespace_id TEXT, config TEXT NOT NULL DEFAULT '{}', targets TEXT NOT NULL DEFAULT '[]', reason_code TEXT,"
	" comment TEXT, force_canceled INTEGER NOT NULL DEFAULT 0, start_ms INTEGER, exec_seq INTEGER NOT NULL DEFAULT 0,"
	" created INTEGER NOT NULL, updated INTEGER NOT NULL, completed INTEGER,"
	" PRIMARY KEY(account_region, job_id));"
	"CREATE TABLE job_targets(account_region TEXT NOT NULL, job_id TEXT NOT NULL, kind TEXT NOT NULL,"
	" name TEXT NOT NULL, group_id TEXT, PRIMARY KEY(account_region, job_id, kind, name));"
	"CREATE INDEX job_targets_name ON job_targets(account_region, kind, name);"
	"CREATE TABLE job_executions(account_region TEXT NOT NULL, job_id TEXT NOT NULL, thing_name TEXT NOT NULL,"
	" execution_number INTEGER NOT NULL, status TEXT NOT NULL, force_canceled INTEGER NOT NULL DEFAULT 0,"
	" status_details TEXT NOT NULL DEFAULT '{}', version INTEGER NOT NULL DEFAULT 1, queued INTEGER NOT NULL,"
	" started INTEGER, updated INTEGER NOT NULL, PRIMARY KEY(account_region, job_id, thing_name));"
	"CREATE INDEX job_executions_thing ON job_executions(account_region, thing_name, job_id);"
	"CREATE TABLE job_templates(account_region TEXT NOT NULL, template_id TEXT NOT NULL, description TEXT,"
	" document TEXT, document_source TEXT, config TEXT NOT NULL DEFAULT '{}', created INTEGER NOT NULL,"
	" PRIMARY KEY(account_region, template_id));";

/* The CRL distribution points the audit refreshes before its checks (issue 12): a partial
 * index of the certificates that have any, so listing them no longer reads every
 * certificate row (1.1 s of CPU and the whole table from disk at 1M devices without any). */
static const char m013_cert_crl_urls[] =
	"CREATE INDEX certificates_crl_urls ON certificates(account_region, crl_urls, status) WHERE crl_urls != '[]';";

/* Several `serve` instances on one store (issue 13): the leases of claimable background
 * work (audit tasks, mitigation tasks: dd_store_lease.c), the lease of an SNS delivery in
 * flight on its outbox row, and the delivery key that makes a notification queued twice
 * (a unit finished twice after a lease race) one row. */
static const char m014_leases[] =
	"CREATE TABLE work_leases(kind TEXT NOT NULL, unit TEXT NOT NULL, owner TEXT NOT NULL,"
	" expires_ms INTEGER NOT NULL, PRIMARY KEY(kind, unit));"
	"CREATE INDEX work_leases_owner ON work_leases(owner);"
	"ALTER TABLE sns_outbox ADD COLUMN lease_owner TEXT;"
	"ALTER TABLE sns_outbox ADD COLUMN lease_until INTEGER;"
	"ALTER TABLE sns_outbox ADD COLUMN delivery_key TEXT;"
	"CREATE UNIQUE INDEX sns_outbox_delivery ON sns_outbox(account, subscription_arn, delivery_key);";

/* Audit shards (issue 13): a task's device-certificate checks split by certificate id
 * range into shards any instance may run (the other checks run in shard 0); each shard's
 * result of a check is kept until every shard has one, then summed into audit_task_checks.
 * A finding records its shard, so a shard resumed after a crash deletes only its own. */
static const char m015_audit_shards[] =
	"CREATE TABLE audit_shards(account_region TEXT NOT NULL, task_id TEXT NOT NULL, shard INTEGER NOT NULL,"
	" lo TEXT NOT NULL, hi TEXT, status TEXT NOT NULL, PRIMARY KEY(account_region, task_id, shard));"
	"CREATE TABLE audit_shard_checks(account_region TEXT NOT NULL, task_id TEXT NOT NULL, check_name TEXT NOT NULL,"
	" shard INTEGER NOT NULL, status TEXT NOT NULL, total INTEGER NOT NULL, noncompliant INTEGER NOT NULL,"
	" suppressed INTEGER NOT NULL, error_code TEXT, message TEXT,"
	" PRIMARY KEY(account_region, task_id, check_name, shard));"
	"ALTER TABLE audit_findings ADD COLUMN shard INTEGER NOT NULL DEFAULT 0;";

/* A shard resumed after a crash deletes its own partial findings of a check: the task's
 * findings index gains the shard, so that delete seeks instead of scanning every shard's. */
static const char m016_findings_shard_index[] =
	"DROP INDEX audit_findings_task;"
	"CREATE INDEX audit_findings_task ON audit_findings(account_region, task_id, check_name, shard);";

/* Connection events clustered by client (issue 12): the table is keyed by (account_region,
 * client_id, ts, seq) without a rowid, so it is itself the client-ordered scan the audit
 * and the per-client lookups read (the covering index connection_events_client is gone),
 * and connection_events_cert (which carries the key's client_id) serves the
 * certificate-ordered scan: two B-tree entries per event instead of three. seq, no longer
 * a rowid, is drawn from the counter 'connection_events/seq' in server_meta (the highest
 * seq given so far), which starts past every seq already given. */
static const char m017_connection_events_by_client[] =
	"CREATE TABLE connection_events_new(seq INTEGER NOT NULL, account_region TEXT NOT NULL, event TEXT NOT NULL,"
	" client_id TEXT NOT NULL, certificate_id TEXT, principal TEXT, ts INTEGER NOT NULL, source_ip TEXT,"
	" reason TEXT, PRIMARY KEY(account_region, client_id, ts, seq)) WITHOUT ROWID;"
	"INSERT INTO connection_events_new(seq, account_region, event, client_id, certificate_id, principal, ts,"
	" source_ip, reason) SELECT seq, account_region, event, client_id, certificate_id, principal, ts, source_ip,"
	" reason FROM connection_events ORDER BY account_region, client_id, ts, seq;"
	"INSERT INTO server_meta(key, value) SELECT 'connection_events/seq', CAST(max(coalesce((SELECT max(seq)"
	" FROM connection_events), 0), coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'connection_events'),"
	" 0)) AS TEXT);"
	"DROP TABLE connection_events;"
	"ALTER TABLE connection_events_new RENAME TO connection_events;"
	"CREATE INDEX connection_events_cert ON connection_events(account_region, certificate_id, ts, seq, client_id,"
	" event, reason);";

const char *const dd_store_migrations[] = {
	m001_registry,
	m002_iam_sns_cognito,
	m003_crls,
	m004_audit,
	m005_mitigation,
	m006_connection_indexes,
	m007_regions,
	m008_change_journal,
	m009_iam_users,
	m010_thing_types_billing,
	m011_rules_domains,
	m012_jobs,
	m013_cert_crl_urls,
	m014_leases,
	m015_audit_shards,
	m016_findings_shard_index,
	m017_connection_events_by_client,
};
const int dd_store_nmigrations = sizeof dd_store_migrations / sizeof dd_store_migrations[0];

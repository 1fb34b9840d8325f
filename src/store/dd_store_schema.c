/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Schema migrations, applied in order at start (PRAGMA user_version counts them). Every
 * account-scoped table leads its primary key with `account`. Timestamps are epoch
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

/* The change journal the broker plugin polls (dd_changes.c): every change that can alter
 * a connected client's right to stay connected or to act is written by a trigger in the
 * same transaction as the change itself, so no code path can forget it. The certificate
 * id index serves the broker's lookup of a presented certificate in any account. */
#define DD__NOW_MS "CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)"
#define DD__NOTE(kind, acct, subj) "INSERT INTO changes(account, kind, subject, ts) VALUES (" acct ", '" kind "', " subj ", " DD__NOW_MS "); END;"
static const char m007_change_journal[] =
	"CREATE TABLE changes(seq INTEGER PRIMARY KEY AUTOINCREMENT, account TEXT NOT NULL, kind TEXT NOT NULL,"
	" subject TEXT NOT NULL, arg TEXT, ts INTEGER NOT NULL);"
	"CREATE INDEX changes_ts ON changes(ts);"
	"CREATE INDEX certificates_id ON certificates(id);"
	"CREATE TRIGGER changes_cert_status AFTER UPDATE OF status ON certificates WHEN OLD.status <> NEW.status BEGIN "
	DD__NOTE("cert", "NEW.account", "NEW.id")
	"CREATE TRIGGER changes_cert_delete AFTER DELETE ON certificates BEGIN " DD__NOTE("cert", "OLD.account", "OLD.id")
	"CREATE TRIGGER changes_cert_insert AFTER INSERT ON certificates BEGIN " DD__NOTE("cert", "NEW.account", "NEW.id")
	"CREATE TRIGGER changes_ca_insert AFTER INSERT ON ca_certificates BEGIN " DD__NOTE("ca", "NEW.account", "NEW.id")
	"CREATE TRIGGER changes_ca_status AFTER UPDATE OF status ON ca_certificates WHEN OLD.status <> NEW.status BEGIN "
	DD__NOTE("ca", "NEW.account", "NEW.id")
	"CREATE TRIGGER changes_ca_delete AFTER DELETE ON ca_certificates BEGIN " DD__NOTE("ca", "OLD.account", "OLD.id")
	"CREATE TRIGGER changes_crl_insert AFTER INSERT ON crls BEGIN " DD__NOTE("crl", "NEW.account", "NEW.ca_id")
	"CREATE TRIGGER changes_crl_update AFTER UPDATE ON crls BEGIN " DD__NOTE("crl", "NEW.account", "NEW.ca_id")
	"CREATE TRIGGER changes_policy_attach AFTER INSERT ON policy_targets BEGIN " DD__NOTE("policy", "NEW.account", "NEW.target")
	"CREATE TRIGGER changes_policy_detach AFTER DELETE ON policy_targets BEGIN " DD__NOTE("policy", "OLD.account", "OLD.target")
	"CREATE TRIGGER changes_policy_default AFTER UPDATE OF default_version ON policies BEGIN "
	DD__NOTE("policy", "NEW.account", "NEW.name")
	"CREATE TRIGGER changes_policy_delete AFTER DELETE ON policies BEGIN " DD__NOTE("policy", "OLD.account", "OLD.name")
	"CREATE TRIGGER changes_principal_attach AFTER INSERT ON thing_principals BEGIN "
	DD__NOTE("thing", "NEW.account", "NEW.principal")
	"CREATE TRIGGER changes_principal_detach AFTER DELETE ON thing_principals BEGIN "
	DD__NOTE("thing", "OLD.account", "OLD.principal")
	"CREATE TRIGGER changes_thing_update AFTER UPDATE ON things BEGIN " DD__NOTE("thing", "NEW.account", "NEW.name")
	"CREATE TRIGGER changes_member_add AFTER INSERT ON thing_group_members BEGIN "
	DD__NOTE("group", "NEW.account", "NEW.thing_name")
	"CREATE TRIGGER changes_member_remove AFTER DELETE ON thing_group_members BEGIN "
	DD__NOTE("group", "OLD.account", "OLD.thing_name")
	"CREATE TRIGGER changes_group_parent AFTER UPDATE OF parent ON thing_groups BEGIN "
	DD__NOTE("grouptree", "NEW.account", "NEW.name")
	"CREATE TRIGGER changes_settings_insert AFTER INSERT ON settings BEGIN " DD__NOTE("logging", "NEW.account", "NEW.key")
	"CREATE TRIGGER changes_settings_update AFTER UPDATE ON settings BEGIN " DD__NOTE("logging", "NEW.account", "NEW.key")
	"CREATE TRIGGER changes_loglevel_insert AFTER INSERT ON v2_log_levels BEGIN "
	DD__NOTE("logging", "NEW.account", "NEW.target_name")
	"CREATE TRIGGER changes_loglevel_delete AFTER DELETE ON v2_log_levels BEGIN "
	DD__NOTE("logging", "OLD.account", "OLD.target_name");
#undef DD__NOTE
#undef DD__NOW_MS

const char *const dd_store_migrations[] = {
	m001_registry,
	m002_iam_sns_cognito,
	m003_crls,
	m004_audit,
	m005_mitigation,
	m006_connection_indexes,
	m007_change_journal,
};
const int dd_store_nmigrations = sizeof dd_store_migrations / sizeof dd_store_migrations[0];

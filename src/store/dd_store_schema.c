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

const char *const dd_store_migrations[] = {
	m001_registry,
};
const int dd_store_nmigrations = sizeof dd_store_migrations / sizeof dd_store_migrations[0];

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The IoT policy aggregate in the store: policies (a default version, the next version
 * number, a generation id), their versions (documents kept as text), the targets they are
 * attached to (certificate ARNs, thing-group ARNs, Cognito identity ids), and the thing
 * principals (certificate ARNs attached to things). Also the few reads of neighbouring
 * aggregates the policy rules need (does a certificate or thing group exist, a group's
 * parent, a thing's groups, type and attributes, a certificate's subject and serial).
 * Everything is scoped by account_region ("<account>/<region>"). Functions return 0 or a
 * negative DD_E*: DD_ENOTFOUND, DD_EEXIST, DD_EIO (a store error, logged). Writes run in
 * the caller's transaction (dd_db_begin_write … dd_db_commit) when one is open.
 * Listing callbacks return 0 to go on, > 0 to stop (the listing returns 0), < 0 to stop
 * with that error.
 */
#ifndef DD_STORE_POLICIES_H
#define DD_STORE_POLICIES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dd/common.h"

struct dd_db;

struct dd_store_policies_row {
	int64_t default_version;
	int64_t next_version;
	int64_t created;
	int64_t modified;
	char generation_id[37];
};

/* A callback over names (policies, targets, principals, things, groups). */
typedef int (*dd_store_policies_name_fn)(void *ud, const char *name);
/* A callback over the versions of a policy. */
typedef int (*dd_store_policies_version_fn)(void *ud, int64_t version, int64_t created);

/* ---- policies and versions ---- */
int dd_store_policies_get(struct dd_db *db, const char *account_region, const char *name,
			  struct dd_store_policies_row *out) DD_MUST_CHECK;
/* A new policy with version 1 (the default) holding doc. DD_EEXIST when the name is taken. */
int dd_store_policies_insert(struct dd_db *db, const char *account_region, const char *name, const char *doc,
			     const char *generation_id, int64_t now_ms) DD_MUST_CHECK;
/* Deletes a policy and all its versions. DD_ENOTFOUND when there is none. */
int dd_store_policies_delete(struct dd_db *db, const char *account_region, const char *name) DD_MUST_CHECK;
/* Names after `after` ("" for the start), ascending or (after "" = from the end) descending,
 * at most limit. */
int dd_store_policies_list(struct dd_db *db, const char *account_region, const char *after, bool ascending,
			   int limit, dd_store_policies_name_fn fn, void *ud) DD_MUST_CHECK;
int dd_store_policies_versions_count(struct dd_db *db, const char *account_region, const char *name,
				     int64_t *n) DD_MUST_CHECK;
/* Adds a version numbered next_version (returned in *version), bumps next_version, sets
 * the generation id and the modification time, and makes it the default when asked.
 * DD_ENOTFOUND without the policy. */
int dd_store_policies_version_add(struct dd_db *db, const char *account_region, const char *name, const char *doc,
				  bool set_default, const char *generation_id, int64_t now_ms,
				  int64_t *version) DD_MUST_CHECK;
/* The document of one version (malloc'd, caller frees) and its creation time (created may
 * be NULL). DD_ENOTFOUND when there is no such version. */
int dd_store_policies_version_get(struct dd_db *db, const char *account_region, const char *name, int64_t version,
				  char **doc, int64_t *created) DD_MUST_CHECK;
/* The default version's document (malloc'd). DD_ENOTFOUND without the policy. */
int dd_store_policies_default_doc(struct dd_db *db, const char *account_region, const char *name,
				  char **doc) DD_MUST_CHECK;
/* Versions, newest first. */
int dd_store_policies_versions_list(struct dd_db *db, const char *account_region, const char *name,
				    dd_store_policies_version_fn fn, void *ud) DD_MUST_CHECK;
int dd_store_policies_version_set_default(struct dd_db *db, const char *account_region, const char *name,
					  int64_t version, const char *generation_id, int64_t now_ms) DD_MUST_CHECK;
/* DD_ENOTFOUND when there is no such version. */
int dd_store_policies_version_delete(struct dd_db *db, const char *account_region, const char *name,
				     int64_t version) DD_MUST_CHECK;

/* ---- targets ---- */
/* Attaches (idempotent). */
int dd_store_policies_attach(struct dd_db *db, const char *account_region, const char *name,
			     const char *target) DD_MUST_CHECK;
/* Detaches (0 also when it was not attached). */
int dd_store_policies_detach(struct dd_db *db, const char *account_region, const char *name,
			     const char *target) DD_MUST_CHECK;
/* How many targets a policy is attached to. */
int dd_store_policies_targets_count(struct dd_db *db, const char *account_region, const char *name,
				    int64_t *n) DD_MUST_CHECK;
/* How many policies other than except (may be NULL) are attached to target. */
int dd_store_policies_target_policies_count(struct dd_db *db, const char *account_region, const char *target,
					    const char *except, int64_t *n) DD_MUST_CHECK;
/* The targets of a policy after `after`, by target, at most limit. */
int dd_store_policies_targets_list(struct dd_db *db, const char *account_region, const char *name,
				   const char *after, int limit, dd_store_policies_name_fn fn, void *ud) DD_MUST_CHECK;
/* The policies attached to target, by name. */
int dd_store_policies_target_policies(struct dd_db *db, const char *account_region, const char *target,
				      dd_store_policies_name_fn fn, void *ud) DD_MUST_CHECK;

/* ---- thing principals ---- */
/* Attaches principal to thing with its type (EXCLUSIVE_THING / NON_EXCLUSIVE_THING),
 * replacing the type of an existing attachment. */
int dd_store_policies_principal_attach(struct dd_db *db, const char *account_region, const char *thing,
				       const char *principal, const char *type) DD_MUST_CHECK;
/* 0 also when it was not attached. */
int dd_store_policies_principal_detach(struct dd_db *db, const char *account_region, const char *thing,
				       const char *principal) DD_MUST_CHECK;
/* Is principal attached to thing? */
int dd_store_policies_principal_attached(struct dd_db *db, const char *account_region, const char *thing,
					 const char *principal, bool *yes) DD_MUST_CHECK;
/* How many things other than except (may be NULL) principal is attached to. */
int dd_store_policies_principal_things_count(struct dd_db *db, const char *account_region, const char *principal,
					     const char *except, int64_t *n) DD_MUST_CHECK;
/* The things of a principal after `after` by name (limit < 0: all). */
int dd_store_policies_principal_things(struct dd_db *db, const char *account_region, const char *principal,
				       const char *after, int limit, dd_store_policies_name_fn fn, void *ud) DD_MUST_CHECK;
/* The principals of a thing after `after`, by principal, at most limit. */
int dd_store_policies_thing_principals(struct dd_db *db, const char *account_region, const char *thing,
				       const char *after, int limit, dd_store_policies_name_fn fn, void *ud) DD_MUST_CHECK;

/* ---- reads of neighbouring aggregates ---- */
/* Does certificate id (64 hex) / thing group name exist? */
int dd_store_policies_cert_exists(struct dd_db *db, const char *account_region, const char *id,
				  bool *yes) DD_MUST_CHECK;
int dd_store_policies_group_exists(struct dd_db *db, const char *account_region, const char *group,
				   bool *yes) DD_MUST_CHECK;
/* A thing group's parent into parent ("" for a root group or a missing group). */
int dd_store_policies_group_parent(struct dd_db *db, const char *account_region, const char *group, char *parent,
				   size_t parentlen) DD_MUST_CHECK;
/* The groups a thing is a direct member of. */
int dd_store_policies_thing_groups(struct dd_db *db, const char *account_region, const char *thing,
				   dd_store_policies_name_fn fn, void *ud) DD_MUST_CHECK;
/* A thing's type name ("" for none) and its attributes as JSON object text (malloc'd, caller
 * frees). DD_ENOTFOUND without the thing. */
int dd_store_policies_thing_info(struct dd_db *db, const char *account_region, const char *thing, char *type,
				 size_t typelen, char **attributes) DD_MUST_CHECK;
/* A certificate's subject common name and serial number ("" when unknown). DD_ENOTFOUND
 * without the certificate. */
int dd_store_policies_cert_subject(struct dd_db *db, const char *account_region, const char *id, char *cn,
				   size_t cnlen, char *serial, size_t seriallen) DD_MUST_CHECK;

#endif

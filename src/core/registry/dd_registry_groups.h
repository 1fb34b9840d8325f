/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Thing group membership rules. A thing is in at most DD_MAX_GROUPS_PER_THING groups,
 * static and dynamic together; things are added to and removed from static groups only;
 * a dynamic group's members are the things its query matches, re-evaluated when the
 * query or a thing changes (and kept in the store, so readers see one membership set).
 * A thing that joins a group also gets its executions of the IN_PROGRESS CONTINUOUS jobs
 * that target the group or a group above it (dd_jobs_thing_joined, core/registry/dd_jobs.h);
 * one that leaves a group has its executions of the CONTINUOUS jobs that no longer target
 * it REMOVED (dd_jobs_thing_left).
 * Functions run inside the caller's write transaction and return 0 or a negative DD_E*
 * with a message in msg: DD_ENOTFOUND (no such group or thing), DD_EINVAL (a dynamic
 * group where a static one is needed), DD_ELIMIT (the group limit), DD_EIO (store).
 */
#ifndef DD_REGISTRY_GROUPS_H
#define DD_REGISTRY_GROUPS_H

#include <stdbool.h>
#include <stddef.h>

#include "dd/common.h"

struct dd_db;

#define DD_MAX_GROUPS_PER_THING 10

/* Adds thing to static group (already a member: 0). With override, when the thing is in
 * DD_MAX_GROUPS_PER_THING groups already, its membership of the most recently created
 * dynamic group makes room. */
int dd_registry_groups_add_member(struct dd_db *db, const char *account_region, const char *group, const char *thing,
				  bool override, char *msg, size_t msglen) DD_MUST_CHECK;
/* Removes thing from static group (not a member: 0). */
int dd_registry_groups_remove_member(struct dd_db *db, const char *account_region, const char *group,
				     const char *thing, char *msg, size_t msglen) DD_MUST_CHECK;
/* Re-evaluates every dynamic group of the account for thing (after it was created or
 * changed). A thing that does not exist is no error. */
int dd_registry_groups_refresh_thing(struct dd_db *db, const char *account_region, const char *thing) DD_MUST_CHECK;
/* Recomputes the members of dynamic group from query over every thing of the account. */
int dd_registry_groups_materialize(struct dd_db *db, const char *account_region, const char *group,
				   const char *query) DD_MUST_CHECK;
/* Does query parse? 0, or DD_EINVAL with err. */
int dd_registry_groups_query_check(const char *query, char *err, size_t errlen) DD_MUST_CHECK;

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Job rules (dd_jobs.h) over the store's typed functions: target checks and expansion
 * (thing groups through the membership store, descendants included), the transition
 * checks, and the completion of SNAPSHOT jobs whose executions are all terminal.
 */
#include "core/registry/dd_jobs.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/dd_store_groups.h"
#include "store/dd_store_things.h"

/* AWS allows thing groups 7 levels deep. */
#define MAX_DEPTH 8

bool dd_jobs_exec_terminal(const char *status)
{
	static const char *const terminal[] = { "SUCCEEDED", "FAILED", "TIMED_OUT", "REJECTED", "REMOVED", "CANCELED" };
	for (size_t i = 0; i < sizeof terminal / sizeof terminal[0]; i++)
		if (strcmp(status, terminal[i]) == 0)
			return true;
	return false;
}

const char *dd_jobs_status_at(const char *stored, int64_t start_ms, int64_t now_ms)
{
	if (strcmp(stored, "IN_PROGRESS") == 0 && start_ms >= 0 && start_ms > now_ms)
		return "SCHEDULED";
	return stored;
}

int dd_jobs_exec_cancel_check(const char *status, bool force, char *msg, size_t msglen)
{
	if (strcmp(status, "QUEUED") == 0)
		return 0;
	if (strcmp(status, "IN_PROGRESS") == 0) {
		if (force)
			return 0;
		snprintf(msg, msglen, "The job execution is IN_PROGRESS: it can be canceled only with force.");
		return DD_ECONFLICT;
	}
	snprintf(msg, msglen, "The job execution is in the terminal status %s and cannot be canceled.", status);
	return DD_ECONFLICT;
}

int dd_jobs_exec_delete_check(const char *status, bool force, char *msg, size_t msglen)
{
	if (force || dd_jobs_exec_terminal(status))
		return 0;
	snprintf(msg, msglen, "The job execution is %s: only a job execution in a terminal status can be deleted without force.",
		 status);
	return DD_ECONFLICT;
}

int dd_jobs_cancel_check(const char *status, bool force, char *msg, size_t msglen)
{
	if (strcmp(status, "COMPLETED") == 0) {
		snprintf(msg, msglen, "The job is COMPLETED and cannot be canceled.");
		return DD_EINVAL;
	}
	if (strcmp(status, "CANCELED") == 0 && !force) {
		snprintf(msg, msglen, "The job is already CANCELED (force cancels its IN_PROGRESS executions).");
		return DD_EINVAL;
	}
	if (strcmp(status, "DELETION_IN_PROGRESS") == 0) {
		snprintf(msg, msglen, "The job is being deleted.");
		return DD_EINVAL;
	}
	return 0;
}

int dd_jobs_delete_check(const char *status, bool force, char *msg, size_t msglen)
{
	if (force || strcmp(status, "COMPLETED") == 0 || strcmp(status, "CANCELED") == 0)
		return 0;
	snprintf(msg, msglen, "The job is %s: only a COMPLETED or CANCELED job can be deleted without force.", status);
	return DD_ECONFLICT;
}

/* The parts of a stored job the rules need. */
struct job {
	char status[32];
	char selection[16];
	char *targets;
};

static int job_row(void *ud, const struct dd_store_jobs_row *r)
{
	struct job *j = ud;
	snprintf(j->status, sizeof j->status, "%s", r->status);
	snprintf(j->selection, sizeof j->selection, "%s", r->target_selection);
	j->targets = strdup(r->targets);
	return j->targets ? 0 : DD_ENOMEM;
}

static int load_job(struct dd_db *db, const char *ar, const char *job_id, struct job *j, char *msg, size_t msglen)
{
	memset(j, 0, sizeof *j);
	int rc = dd_store_jobs_get(db, ar, job_id, job_row, j);
	if (rc == DD_ENOTFOUND)
		snprintf(msg, msglen, "Job %s cannot be found.", job_id);
	else if (rc && rc != DD_ENOMEM)
		rc = DD_EIO;
	if (rc) {
		free(j->targets);
		j->targets = NULL;
	}
	return rc;
}

/* A SNAPSHOT job IN_PROGRESS with no QUEUED or IN_PROGRESS execution is COMPLETED. */
static int settle(struct dd_db *db, const char *ar, const char *job_id, int64_t now_ms)
{
	struct job j;
	char msg[64];
	int rc = load_job(db, ar, job_id, &j, msg, sizeof msg);
	if (rc)
		return rc == DD_ENOTFOUND ? 0 : rc;
	free(j.targets);
	if (strcmp(j.status, "IN_PROGRESS") != 0 || strcmp(j.selection, "SNAPSHOT") != 0)
		return 0;
	struct dd_store_jobs_counts n;
	if (dd_store_jobs_exec_counts(db, ar, job_id, &n))
		return DD_EIO;
	if (n.queued || n.in_progress)
		return 0;
	return dd_store_jobs_set_status(db, ar, job_id, "COMPLETED", NULL, NULL, false, now_ms, now_ms) ? DD_EIO : 0;
}

/* ---- targets ---- */

struct names {
	char **v;
	size_t n, cap;
};

static int names_add(const char *name, void *ud)
{
	struct names *s = ud;
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		char **nv = realloc(s->v, cap * sizeof *nv);
		if (!nv)
			return DD_ENOMEM;
		s->v = nv;
		s->cap = cap;
	}
	if (!(s->v[s->n] = strdup(name)))
		return DD_ENOMEM;
	s->n++;
	return 0;
}

static bool names_has(const struct names *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->v[i], name) == 0)
			return true;
	return false;
}

static void names_free(struct names *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	memset(s, 0, sizeof *s);
}

/* Checks that every target exists and records it on the job. */
static int add_targets(struct dd_db *db, const char *ar, const char *job_id, const struct dd_jobs_target *t, size_t n,
		       char *msg, size_t msglen)
{
	for (size_t i = 0; i < n; i++) {
		char id[40] = "";
		if (strcmp(t[i].kind, "thing") == 0) {
			int rc = dd_store_things_exists(db, ar, t[i].name);
			if (rc < 0)
				return DD_EIO;
			if (!rc) {
				snprintf(msg, msglen, "Thing %s cannot be found (targets).", t[i].name);
				return DD_ENOTFOUND;
			}
		} else {
			struct dd_store_groups_row g;
			int rc = dd_store_groups_get(db, ar, t[i].name, &g);
			if (rc == DD_ENOTFOUND) {
				snprintf(msg, msglen, "Thing group %s cannot be found (targets).", t[i].name);
				return rc;
			}
			if (rc)
				return DD_EIO;
			snprintf(id, sizeof id, "%s", g.id);
			dd_store_groups_row_clear(&g);
		}
		if (dd_store_jobs_target_add(db, ar, job_id, t[i].kind, t[i].name, id[0] ? id : NULL))
			return DD_EIO;
	}
	return 0;
}

/* Queues the executions of the things the targets name (groups with their descendants). */
static int expand(struct dd_db *db, const char *ar, const char *job_id, const struct dd_jobs_target *t, size_t n,
		  int64_t now_ms)
{
	struct names things = { 0 };
	int rc = 0;
	for (size_t i = 0; i < n && !rc; i++) {
		if (strcmp(t[i].kind, "thing") == 0)
			rc = names_add(t[i].name, &things);
		else
			rc = dd_store_groups_member_list(db, ar, t[i].name, true, "", 0, names_add, &things);
	}
	for (size_t i = 0; i < things.n && !rc; i++) {
		bool added;
		rc = dd_store_jobs_exec_queue(db, ar, job_id, things.v[i], now_ms, &added);
	}
	names_free(&things);
	return rc == DD_ENOMEM ? rc : rc ? DD_EIO : 0;
}

int dd_jobs_create(struct dd_db *db, const char *ar, struct dd_store_jobs_row *row, const struct dd_jobs_target *targets,
		   size_t ntargets, int64_t now_ms, char *msg, size_t msglen)
{
	if (ntargets > DD_JOBS_MAX_TARGETS) {
		snprintf(msg, msglen, "A job can have at most %d targets.", DD_JOBS_MAX_TARGETS);
		return DD_ELIMIT;
	}
	row->status = "IN_PROGRESS";
	row->created = row->updated = now_ms;
	int rc = dd_store_jobs_insert(db, ar, row);
	if (rc == DD_EEXIST) {
		snprintf(msg, msglen, "Job %s already exists.", row->job_id);
		return rc;
	}
	if (rc)
		return DD_EIO;
	if ((rc = add_targets(db, ar, row->job_id, targets, ntargets, msg, msglen)))
		return rc;
	if ((rc = expand(db, ar, row->job_id, targets, ntargets, now_ms)))
		return rc;
	return settle(db, ar, row->job_id, now_ms);
}

int dd_jobs_associate(struct dd_db *db, const char *ar, const char *job_id, const struct dd_jobs_target *targets,
		      size_t ntargets, int64_t now_ms, char *msg, size_t msglen)
{
	struct job j;
	int rc = load_job(db, ar, job_id, &j, msg, msglen);
	if (rc)
		return rc;
	if (strcmp(j.selection, "CONTINUOUS") != 0 || strcmp(j.status, "IN_PROGRESS") != 0) {
		snprintf(msg, msglen, "Targets can be associated only with a CONTINUOUS job IN_PROGRESS; job %s is %s and %s.",
			 job_id, j.selection, j.status);
		free(j.targets);
		return DD_EINVAL;
	}
	json_t *arr = json_loads(j.targets, 0, NULL);
	free(j.targets);
	if (!json_is_array(arr)) {
		json_decref(arr);
		arr = json_array();
	}
	for (size_t i = 0; i < ntargets; i++) {
		bool have = false;
		size_t k;
		json_t *v;
		json_array_foreach(arr, k, v)
			if (json_is_string(v) && strcmp(json_string_value(v), targets[i].arn) == 0)
				have = true;
		if (!have)
			json_array_append_new(arr, json_string(targets[i].arn));
	}
	char *text = json_dumps(arr, JSON_COMPACT);
	json_decref(arr);
	if (!text)
		return DD_ENOMEM;
	/* the limit counts the job's distinct targets, old and new (the caller rolls back) */
	rc = add_targets(db, ar, job_id, targets, ntargets, msg, msglen);
	int64_t total = 0;
	if (!rc && dd_store_jobs_target_count(db, ar, job_id, &total))
		rc = DD_EIO;
	if (!rc && total > DD_JOBS_MAX_TARGETS) {
		snprintf(msg, msglen, "A job can have at most %d targets.", DD_JOBS_MAX_TARGETS);
		rc = DD_ELIMIT;
	}
	if (!rc)
		rc = dd_store_jobs_update(db, ar, job_id, NULL, NULL, text, now_ms) ? DD_EIO : 0;
	free(text);
	if (!rc)
		rc = expand(db, ar, job_id, targets, ntargets, now_ms);
	return rc;
}

int dd_jobs_cancel(struct dd_db *db, const char *ar, const char *job_id, const char *reason_code, const char *comment,
		   bool force, int64_t now_ms, char *msg, size_t msglen)
{
	struct job j;
	int rc = load_job(db, ar, job_id, &j, msg, msglen);
	if (rc)
		return rc;
	free(j.targets);
	if ((rc = dd_jobs_cancel_check(j.status, force, msg, msglen)))
		return rc;
	if (dd_store_jobs_exec_cancel_all(db, ar, job_id, force, now_ms) ||
	    dd_store_jobs_set_status(db, ar, job_id, "CANCELED", reason_code, comment, force, now_ms, 0))
		return DD_EIO;
	return 0;
}

int dd_jobs_delete(struct dd_db *db, const char *ar, const char *job_id, bool force, char *msg, size_t msglen)
{
	struct job j;
	int rc = load_job(db, ar, job_id, &j, msg, msglen);
	if (rc)
		return rc;
	free(j.targets);
	if ((rc = dd_jobs_delete_check(j.status, force, msg, msglen)))
		return rc;
	return dd_store_jobs_delete(db, ar, job_id) ? DD_EIO : 0;
}

/* ---- executions ---- */

struct exec {
	char status[32];
	int64_t version, number;
	char *details;
};

static int exec_row(void *ud, const struct dd_store_jobs_exec_row *r)
{
	struct exec *e = ud;
	snprintf(e->status, sizeof e->status, "%s", r->status);
	e->version = r->version;
	e->number = r->execution_number;
	e->details = strdup(r->status_details);
	return e->details ? 0 : DD_ENOMEM;
}

static int load_exec(struct dd_db *db, const char *ar, const char *job_id, const char *thing, struct exec *e, char *msg,
		     size_t msglen)
{
	memset(e, 0, sizeof *e);
	int rc = dd_store_jobs_exec_get(db, ar, job_id, thing, exec_row, e);
	if (rc == DD_ENOTFOUND)
		snprintf(msg, msglen, "No job execution of job %s exists for thing %s.", job_id, thing);
	else if (rc && rc != DD_ENOMEM)
		rc = DD_EIO;
	if (rc) {
		free(e->details);
		e->details = NULL;
	}
	return rc;
}

/* details merged with the keys of add (both JSON object texts) into a new text. */
static char *merge_details(const char *details, const char *add)
{
	json_t *d = json_loads(details, 0, NULL), *a = json_loads(add, 0, NULL);
	if (!json_is_object(d)) {
		json_decref(d);
		d = json_object();
	}
	char *out = NULL;
	if (d && json_is_object(a) && !json_object_update(d, a))
		out = json_dumps(d, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(d);
	json_decref(a);
	return out;
}

int dd_jobs_exec_cancel(struct dd_db *db, const char *ar, const char *job_id, const char *thing, int64_t expected_version,
			bool force, const char *status_details, int64_t now_ms, bool *version_conflict, char *msg,
			size_t msglen)
{
	*version_conflict = false;
	struct exec e;
	int rc = load_exec(db, ar, job_id, thing, &e, msg, msglen);
	if (rc)
		return rc;
	if ((rc = dd_jobs_exec_cancel_check(e.status, force, msg, msglen)))
		goto out;
	if (expected_version >= 0 && expected_version != e.version) {
		snprintf(msg, msglen, "The expected version %lld does not match the job execution's version %lld.",
			 (long long)expected_version, (long long)e.version);
		*version_conflict = true;
		rc = DD_ECONFLICT;
		goto out;
	}
	char *details = status_details ? merge_details(e.details, status_details) : NULL;
	if (status_details && !details) {
		rc = DD_ENOMEM;
		goto out;
	}
	rc = dd_store_jobs_exec_set(db, ar, job_id, thing, "CANCELED", strcmp(e.status, "IN_PROGRESS") == 0, details, now_ms);
	free(details);
	if (rc)
		rc = DD_EIO;
	else
		rc = settle(db, ar, job_id, now_ms);
out:
	free(e.details);
	return rc;
}

int dd_jobs_exec_delete(struct dd_db *db, const char *ar, const char *job_id, const char *thing, int64_t execution_number,
			bool force, int64_t now_ms, char *msg, size_t msglen)
{
	struct exec e;
	int rc = load_exec(db, ar, job_id, thing, &e, msg, msglen);
	if (rc)
		return rc;
	free(e.details);
	if (e.number != execution_number) {
		snprintf(msg, msglen, "Job execution number %lld of job %s does not exist for thing %s.",
			 (long long)execution_number, job_id, thing);
		return DD_ENOTFOUND;
	}
	if ((rc = dd_jobs_exec_delete_check(e.status, force, msg, msglen)))
		return rc;
	if (dd_store_jobs_exec_delete(db, ar, job_id, thing))
		return DD_EIO;
	return settle(db, ar, job_id, now_ms);
}

/* Adds the groups above group (its parent, the parent's parent, ... at most MAX_DEPTH) to
 * out, each once. */
static int add_ancestors(struct dd_db *db, const char *ar, const char *group, struct names *out)
{
	char name[DD_STORE_NAME_MAX];
	snprintf(name, sizeof name, "%s", group);
	for (int depth = 0; depth < MAX_DEPTH; depth++) {
		struct dd_store_groups_row g;
		int rc = dd_store_groups_get(db, ar, name, &g);
		if (rc)
			return rc == DD_ENOTFOUND ? 0 : rc;
		snprintf(name, sizeof name, "%s", g.parent);
		dd_store_groups_row_clear(&g);
		if (!name[0])
			return 0;
		if (!names_has(out, name) && (rc = names_add(name, out)))
			return rc;
	}
	return 0;
}

int dd_jobs_thing_joined(struct dd_db *db, const char *ar, const char *group, const char *thing, int64_t now_ms)
{
	bool any;
	if (dd_store_jobs_continuous_any(db, ar, &any))
		return DD_EIO;
	if (!any)
		return 0;
	struct names jobs = { 0 }, chain = { 0 };
	int rc = names_add(group, &chain);
	if (!rc)
		rc = add_ancestors(db, ar, group, &chain);
	for (size_t i = 0; i < chain.n && !rc; i++)
		rc = dd_store_jobs_continuous_for_group(db, ar, chain.v[i], names_add, &jobs);
	names_free(&chain);
	for (size_t i = 0; i < jobs.n && !rc; i++) {
		bool added;
		rc = dd_store_jobs_exec_queue(db, ar, jobs.v[i], thing, now_ms, &added);
	}
	names_free(&jobs);
	return rc == DD_ENOMEM ? rc : rc ? DD_EIO : 0;
}

/* ---- things leaving ---- */

struct active {
	struct names jobs;
	bool continuous_only;
};

static int active_row(const char *job_id, const char *selection, const char *status, void *ud)
{
	struct active *a = ud;
	if (a->continuous_only && (strcmp(selection, "CONTINUOUS") != 0 || strcmp(status, "IN_PROGRESS") != 0))
		return 0;
	return names_add(job_id, &a->jobs);
}

struct targeted {
	const char *thing;
	const struct names *groups;
	bool yes;
};

static int target_row(const char *kind, const char *name, void *ud)
{
	struct targeted *t = ud;
	if ((strcmp(kind, "thing") == 0 && strcmp(name, t->thing) == 0) ||
	    (strcmp(kind, "thinggroup") == 0 && names_has(t->groups, name))) {
		t->yes = true;
		return 1;
	}
	return 0;
}

/* The groups thing is in, and every group above them. */
static int groups_around(struct dd_db *db, const char *ar, const char *thing, struct names *out)
{
	int rc = dd_store_groups_member_list_groups(db, ar, thing, "", 0, names_add, out);
	size_t members = out->n;
	for (size_t i = 0; i < members && !rc; i++) {
		char name[DD_STORE_NAME_MAX];
		snprintf(name, sizeof name, "%s", out->v[i]); /* out->v may move as it grows */
		rc = add_ancestors(db, ar, name, out);
	}
	return rc;
}

int dd_jobs_thing_left(struct dd_db *db, const char *ar, const char *thing, int64_t now_ms)
{
	bool any;
	if (dd_store_jobs_continuous_any(db, ar, &any))
		return DD_EIO;
	if (!any)
		return 0;
	struct active a = { .continuous_only = true };
	struct names groups = { 0 };
	int rc = dd_store_jobs_exec_active_for_thing(db, ar, thing, active_row, &a);
	if (!rc && a.jobs.n)
		rc = groups_around(db, ar, thing, &groups);
	for (size_t i = 0; i < a.jobs.n && !rc; i++) {
		struct targeted t = { .thing = thing, .groups = &groups };
		rc = dd_store_jobs_target_list(db, ar, a.jobs.v[i], target_row, &t);
		if (!rc && !t.yes)
			rc = dd_store_jobs_exec_set(db, ar, a.jobs.v[i], thing, "REMOVED", false, NULL, now_ms);
	}
	names_free(&a.jobs);
	names_free(&groups);
	return rc == DD_ENOMEM ? rc : rc ? DD_EIO : 0;
}

int dd_jobs_thing_deleted(struct dd_db *db, const char *ar, const char *thing, int64_t now_ms)
{
	struct active a = { .continuous_only = false };
	int rc = dd_store_jobs_exec_active_for_thing(db, ar, thing, active_row, &a);
	for (size_t i = 0; i < a.jobs.n && !rc; i++) {
		rc = dd_store_jobs_exec_set(db, ar, a.jobs.v[i], thing, "REMOVED", false, NULL, now_ms);
		if (!rc)
			rc = settle(db, ar, a.jobs.v[i], now_ms);
	}
	names_free(&a.jobs);
	return rc == DD_ENOMEM ? rc : rc ? DD_EIO : 0;
}

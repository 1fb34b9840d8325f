/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The contract between the audit engine (dd_audit_engine.c: tasks, snapshot, findings,
 * suppressions, notifications) and the 17 checks (dd_audit_checks.c: one table row and
 * one function each). A check reads the region's data (account_region; IAM roles are
 * global, keyed by account) through run->snap, a store connection holding the task's read
 * transaction (one consistent snapshot for every check of the task), with the store's
 * read functions (store/dd_store_audit_reads.h, dd/certs.h, dd/iam.h, dd/cognito.h);
 * counts the resources it examined in run->total, and reports each noncompliant resource
 * with dd_audit_checks_emit, which hands it to the engine through run->emit. A check
 * never writes to the store and never calls the engine: the dependency runs one way,
 * engine -> checks -> store.
 */
#ifndef DD_AUDIT_CHECKS_H
#define DD_AUDIT_CHECKS_H

#include <jansson.h>

#include "dd/common.h"
#include "dd/service.h"

struct dd_db;
struct dd_audit_check;
struct dd_audit_run;

/* One finding as the engine receives it, all as text: the resource type, its canonical
 * identifier (dd_audit_checks_resource_key of the ResourceIdentifier), the
 * NonCompliantResource and relatedResources JSON texts, the reason code and sentence. */
struct dd_audit_finding_text {
	const char *resource_type;
	const char *resource_key;
	const char *resource;
	const char *related;
	const char *reason_code;
	const char *reason;
};

/* The engine's receiver of findings. Returns 0 or a DD_E* code (the check then stops). */
typedef int (*dd_audit_emit_fn)(struct dd_audit_run *r, const struct dd_audit_finding_text *f);

struct dd_audit_run {
	struct dd_service *svc;
	struct dd_db *snap;          /* read-only snapshot connection (in a read transaction) */
	const char *account;          /* for IAM (global) and ARNs */
	const char *region;           /* for ARNs */
	const char *account_region;   /* "<account>/<region>": the key of the regional rows */
	const char *task_id;
	int64_t task_start_ms;       /* the task's start on the service clock */
	int64_t window_start_ms;     /* connection checks look at events from here to task_start_ms */
	json_t *config;              /* the check's "configuration" map from the account audit
				      * configuration, e.g. {"CERT_EXPIRATION_THRESHOLD_IN_DAYS": "60"};
				      * an empty object when none; borrowed */
	const struct dd_audit_check *check;
	/* The audit shard's device certificate id range [range_lo, range_hi) (NULL: no bound):
	 * the device certificate checks examine only these certificates; the others ignore it. */
	const char *range_lo, *range_hi;
	/* filled by the check */
	int64_t total;               /* resources examined (totalResourcesCount) */
	bool waiting;                /* no data to judge yet: WAITING_FOR_DATA_COLLECTION */
	char error_code[64];         /* on failure (return non-zero): e.g. "AUDIT_CHECK_FAILED" */
	char message[512];
	double run_s, run_cpu_s;     /* set by dd_audit_checks_run: the check's wall and thread CPU
				      * time (its group's when it shared a pass over the certificates) */
	int group;                   /* set by dd_audit_checks_run: checks that shared one pass
				      * have the same group number (> 0); 0 for a pass of its own */
	/* the engine's */
	dd_audit_emit_fn emit;
	void *sink;
};

/*
 * Reports one noncompliant resource. resource is stolen: an object
 * {"resourceType": "...", "resourceIdentifier": {...}, "additionalInfo": {...}} as the
 * botocore NonCompliantResource shape; related is stolen too (a JSON array of
 * RelatedResource objects, or NULL). reason_code is one of the check's codes; the message
 * is the human sentence (reasonForNonCompliance). Returns 0 or a DD_E* code to stop.
 */
int dd_audit_checks_emit(struct dd_audit_run *r, json_t *resource, json_t *related, const char *reason_code,
			 const char *fmt, ...) DD_PRINTF(5, 6);
/* The same for the common resource {"resourceType": type, "resourceIdentifier": {key:
 * value}} without building JSON (related_text is a JSON array text or NULL). */
int dd_audit_checks_emit1(struct dd_audit_run *r, const char *type, const char *key, const char *value,
			  const char *related_text, const char *reason_code, const char *fmt, ...) DD_PRINTF(7, 8);

/* Runs the n checks of runs (each with its own run struct, sink and configuration) and
 * stores each one's return code in rcs[i]. Checks that read the same certificates share
 * one pass over them (each keeps its own scope, totals, findings and failure). A check
 * reports all findings of one resource one after another (the engine counts distinct
 * noncompliant resources by comparing each resource key with the previous one). */
void dd_audit_checks_run(struct dd_audit_run *const *runs, size_t n, int *rcs);

/* A check: returns 0 when it ran (with or without findings, or waiting), or non-zero after
 * setting error_code/message (the check is then FAILED). */
typedef int (*dd_audit_check_fn)(struct dd_audit_run *r);

struct dd_audit_check {
	const char *name;                 /* API name, e.g. "DEVICE_CERTIFICATE_EXPIRING_CHECK" */
	const char *alias;                /* the seed's older name, or NULL */
	const char *severity;             /* CRITICAL, HIGH, MEDIUM, LOW */
	const char *resource_type;        /* e.g. "DEVICE_CERTIFICATE" */
	const char *const *reason_codes;  /* NULL-terminated */
	const char *const *mitigations;   /* allowed action types besides PUBLISH_FINDING_TO_SNS, NULL-terminated */
	const char *const *reads;         /* IAM actions the audit role must allow (NULL-terminated) */
	const char *config_key;           /* the threshold configuration key, or NULL */
	int config_default, config_min, config_max;
	bool uses_connections;            /* reads connection events (window applies) */
	dd_audit_check_fn fn;
};

/* The 17 checks, in API-name order. */
extern const struct dd_audit_check dd_audit_checks[];
extern const size_t dd_audit_ncheck;

/* The check named name or alias; NULL when unknown. */
const struct dd_audit_check *dd_audit_checks_find(const char *name);

/* The identity of a resource for suppressions and stable findings: a canonical string
 * built from a ResourceIdentifier object (sorted keys, compact). Owned by the caller. */
char *dd_audit_checks_resource_key(json_t *resource_identifier);

#endif

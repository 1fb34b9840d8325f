/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The audit engine: the worker threads of a pool (base/dd_workers.h) take shards of
 * IN_PROGRESS tasks from the store, each under a lease (dd/lease.h) so that several
 * `serve` instances on one store share the work and run each shard once, and a shard left
 * by a killed process (its lease expired) is resumed by any instance; fairly between
 * accounts, see pick_shard. A task's device certificate checks are split by certificate
 * id range into shards of IOTDEFENDER_AUDIT_SHARD_SIZE certificates when set (plan_shards, by the
 * first claimer); shard 0 also runs every other check; each shard's part of a check is
 * summed into the check's row once every shard has stored its part (settle_check), so the
 * counts equal an unsharded run. Within a shard the engine queues CRL
 * refreshes on the fetch pool and wait a bounded time for them, check the audit role's
 * permissions per check, open one read snapshot for the whole task and run the pending
 * checks on two lanes (threads) over it (dd_audit_checks_run: the certificate checks share
 * one pass). Each check spools its findings to a file of its own; as soon as it ended,
 * the task's thread writes them in batches with the check's final status in the last
 * batch's transaction, while the lanes go on. A check found IN_PROGRESS when resuming
 * has its partial findings deleted and runs again, so no finding is ever duplicated. The
 * scheduler (a one-thread pool that only does upkeep when idle) starts scheduled audits on their due days (once per day, catching up
 * once after downtime) and prunes old results. The engine calls the checks and the store,
 * never the API layer.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/dd_workers.h"
#include "core/audit/dd_audit_checks.h"
#include "core/audit/dd_audit_engine.h"
#include "dd/metrics.h"
#include "dd/audit.h"
#include "dd/crl.h"
#include "dd/region.h"
#include "dd/iam.h"
#include "dd/lease.h"
#include "dd/policy.h"
#include "dd/sns.h"
#include "dd/store.h"
#include "store/dd_store_audit.h"
#include "store/dd_store_certs.h"

#define NWORKERS 2
#define MAX_CLAIMED 16
#define BATCH 2000
#define DAY_MS (86400000LL)

/* The task workers and the scheduler are two pools of base/dd_workers.h. The claimed set
 * and the round-robin position are touched only by the task pool's claim and release
 * callbacks, which the pool serializes. */
struct dd_audit_engine {
	struct dd_service *svc;
	struct dd_workers *tasks;     /* nworkers threads running audit tasks */
	struct dd_workers *scheduler; /* one thread: scheduled audits and pruning, when idle */
	int nworkers;
	int64_t last_prune;
	char claimed[MAX_CLAIMED][DD_ACCOUNT_REGION_SIZE + 56]; /* "<account>/<region>/<task>/<shard>" */
	char last_account[16];     /* the account whose task was claimed last (round-robin) */
};

/* ---- findings sink ----------------------------------------------------------------- */

static uint64_t finding_base;

static void finding_seed(void)
{
	unsigned char r[8];
	if (dd_random_bytes(r, sizeof r))
		memset(r, 0x3c, sizeof r);
	memcpy(&finding_base, r, sizeof finding_base);
	finding_base |= 1;
}

/* A UUIDv7 (RFC 9562): 48 bits of milliseconds, then a per-process counter seeded at
 * random, so finding ids are unique, look like AWS's, and sort by creation time. Sorted
 * ids make the findings table's inserts appends instead of random B-tree writes. */
static void finding_id(int64_t ms, char out[37])
{
	static atomic_uint_fast64_t counter;
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, finding_seed);
	uint64_t n = (uint64_t)atomic_fetch_add(&counter, 1) + finding_base;
	uint64_t t = (uint64_t)ms & 0xFFFFFFFFFFFFULL;
	/* "%08llx-%04llx-7%03llx-%04llx-%012llx" of the five fields, by hand (once per finding) */
	static const char hex[] = "0123456789abcdef";
	const struct {
		uint64_t v;
		int digits;
	} parts[5] = { { t >> 16, 8 }, { t & 0xFFFF, 4 }, { 0x7000 | ((n >> 50) & 0xFFF), 4 },
		       { 0x8000 | ((n >> 36) & 0x3FFF), 4 }, { n & 0xFFFFFFFFFULL, 12 } };
	char *p = out;
	for (int i = 0; i < 5; i++) {
		if (i)
			*p++ = '-';
		for (int d = parts[i].digits - 1; d >= 0; d--)
			*p++ = hex[(parts[i].v >> (4 * d)) & 0xF];
	}
	*p = '\0';
}

/* What a check reports goes to its spool file first and is written to the store when the
 * check ended (by the task's thread): the check's reads never wait for the writes, and a
 * failed check leaves nothing behind. */
struct sink {
	FILE *spool;
	const char *check_name;
	json_t *suppressions;      /* "check\nkey" -> true, active at task start (borrowed) */
	char *last_key;            /* the resource of the previous finding */
	int64_t noncompliant;      /* distinct resources (a check reports a resource's findings together) */
	int64_t suppressed;
	int64_t now_ms;
	int err;
};

struct check_result {
	const char *name;
	const struct dd_audit_check *check;
	int lane;
	bool run;                  /* ran on a lane (else FAILED before running) */
	const char *status;
	int64_t total;
	int64_t noncompliant, suppressed;
	char error_code[64];
	char message[512];
	FILE *spool;               /* the check's findings (its own file) */
	long start, end;           /* the check's rows in the spool */
	int64_t task_start_ms, finding_ms;
	double run_s, store_s;     /* time to run the check, to store its findings */
	double run_cpu_s, store_cpu_s;
	bool ready;                /* ended on its lane: to be stored (under handoff.mu) */
	bool stored;
	int group;                 /* > 0: ran in a pass shared with the checks of this group */
};

static dd_audit_engine_timing_fn timing_observer;
static void *timing_ud;

void dd_audit_engine_set_timing(dd_audit_engine_timing_fn fn, void *ud)
{
	timing_ud = ud;
	timing_observer = fn;
}

static double clock_s(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

#define WRITE_BATCH 20000

/* Spool records: the SPOOL_FIELDS lengths (32 bits each), then the strings, each with its
 * NUL. Nothing is escaped or parsed on the way through. */
#define SPOOL_FIELDS 8
#define SPOOL_MAX_FIELD (1u << 24)

static int spool_write(FILE *f, const char *const fields[SPOOL_FIELDS])
{
	/* one record, one fwrite: [u32 lengths x SPOOL_FIELDS][each field + NUL] */
	char small[2048];
	uint32_t lens[SPOOL_FIELDS];
	size_t total = sizeof lens;
	for (int i = 0; i < SPOOL_FIELDS; i++) {
		size_t n = strlen(fields[i]);
		lens[i] = (uint32_t)(n < SPOOL_MAX_FIELD ? n : SPOOL_MAX_FIELD);
		total += lens[i] + 1;
	}
	char *buf = total <= sizeof small ? small : malloc(total);
	if (!buf)
		return DD_ENOMEM;
	memcpy(buf, lens, sizeof lens);
	char *p = buf + sizeof lens;
	for (int i = 0; i < SPOOL_FIELDS; i++) {
		memcpy(p, fields[i], lens[i]);
		p[lens[i]] = '\0';
		p += lens[i] + 1;
	}
	int rc = fwrite(buf, total, 1, f) == 1 ? 0 : DD_EIO;
	if (buf != small)
		free(buf);
	return rc;
}

/* Reads one record into buf (grown as needed); fields point into it, NUL-terminated. */
static int spool_read(FILE *f, char **buf, size_t *cap, const char *fields[SPOOL_FIELDS], long *consumed)
{
	uint32_t lens[SPOOL_FIELDS];
	if (fread(lens, sizeof lens, 1, f) != 1)
		return DD_EIO;
	size_t body = 0;
	for (int i = 0; i < SPOOL_FIELDS; i++) {
		if (lens[i] > SPOOL_MAX_FIELD)
			return DD_EIO;
		body += lens[i] + 1;
	}
	if (body > *cap) {
		size_t ncap = body * 2;
		char *nb = realloc(*buf, ncap);
		if (!nb)
			return DD_ENOMEM;
		*buf = nb;
		*cap = ncap;
	}
	if (fread(*buf, body, 1, f) != 1)
		return DD_EIO;
	size_t off = 0;
	for (int i = 0; i < SPOOL_FIELDS; i++) {
		if ((*buf)[off + lens[i]] != '\0')
			return DD_EIO;
		fields[i] = *buf + off;
		off += lens[i] + 1;
	}
	*consumed = (long)(sizeof lens + body);
	return 0;
}

/* One claimed unit: a shard of a task (shard 0 of an unsharded task is the whole task). */
struct task_job {
	char account_region[DD_ACCOUNT_REGION_SIZE];
	char task[40];
	char key[DD_ACCOUNT_REGION_SIZE + 56];  /* "<account_region>/<task>/<shard>": the lease's unit */
	int shard, nshards;
	char lo[80], hi[80];                    /* the shard's device certificate id range */
	bool has_hi;                            /* else no upper bound */
	bool plan;                              /* the task has no shards yet: plan them first */
	bool settle;                            /* every shard is done and every check ended, but the
						 * task was not completed: only settle it (shard 0's unit) */
};

/* Checks that run per shard: the device certificate checks (one row per certificate);
 * every other check runs once, in shard 0. */
static bool sharded(const struct dd_audit_check *c)
{
	return c && !c->uses_connections && strcmp(c->resource_type, "DEVICE_CERTIFICATE") == 0;
}

/* In the caller's write transaction: 0 when this instance still holds the task's lease
 * (and renews it), DD_ECONFLICT when another instance took it (the caller drops its
 * results and rolls back), DD_EIO. */
static int lease_held(struct dd_service *svc, struct dd_db *db, const struct task_job *j)
{
	bool held = false;
	if (dd_lease_hold(svc, db, "audit", j->key, &held))
		return DD_EIO;
	if (!held)
		dd_log_warn("audit: task %s shard %d: the lease was lost to another instance; this instance's results"
			    " are dropped", j->task, j->shard);
	return held ? 0 : DD_ECONFLICT;
}

/* Once every shard recorded its part of a check, the sum becomes the check's final state
 * (in the caller's write transaction). */
static int settle_check(struct dd_db *db, const struct task_job *j, const struct check_result *cr)
{
	int64_t want = sharded(cr->check) ? j->nshards : 1;
	struct dd_store_audit_shard_sum sum;
	char code[64], msg[512];
	if (dd_store_audit_shard_checks_sum(db, j->account_region, j->task, cr->name, &sum, code, sizeof code, msg,
					    sizeof msg))
		return DD_EIO;
	if (sum.shards < want)
		return 0;
	const char *status = sum.failed ? "FAILED"
			     : sum.waiting ? "WAITING_FOR_DATA_COLLECTION"
			     : sum.noncompliant ? "COMPLETED_NON_COMPLIANT" : "COMPLETED_COMPLIANT";
	struct dd_store_audit_task_check tc = {
		.check_name = cr->name, .status = status, .total = sum.total,
		.noncompliant = sum.failed ? 0 : sum.noncompliant, .suppressed = sum.failed ? 0 : sum.suppressed,
		.error_code = code[0] ? code : NULL, .message = msg[0] ? msg : NULL,
	};
	/* a failed check stores no findings, whatever the other shards found */
	if (sum.failed && want > 1 && dd_store_audit_findings_delete_check(db, j->account_region, j->task, cr->name))
		return DD_EIO;
	bool updated;
	return dd_store_audit_task_check_finish(db, j->account_region, j->task, &tc, &updated);
}

/* Writes one check's spooled findings and its final status, unless the check is no longer
 * IN_PROGRESS (the task was canceled meanwhile). */
static int write_check(struct dd_service *svc, struct dd_db *db, const struct task_job *j, FILE *spool,
		       const struct check_result *cr)
{
	const char *account_region = j->account_region, *task_id = j->task;
	if (dd_db_begin_write(db))
		return DD_EIO;
	if (lease_held(svc, db, j) != 0)
		goto lost;
	char status[32];
	int src = dd_store_audit_task_check_status(db, account_region, task_id, cr->name, status, sizeof status);
	if (src && src != DD_ENOTFOUND)
		goto fail;
	if (src || strcmp(status, "IN_PROGRESS") != 0) {
		dd_db_rollback(db);
		return 0;
	}
	if (spool && fseek(spool, cr->start, SEEK_SET) != 0)
		goto fail;
	/* DD_STORE_AUDIT_FINDINGS_BATCH records at a time, each in a buffer of its own, go to
	 * the store in one statement */
	enum { NB = DD_STORE_AUDIT_FINDINGS_BATCH };
	char *bufs[NB] = { NULL };
	size_t caps[NB] = { 0 };
	struct dd_store_audit_finding fs[NB];
	char ids[NB][37];
	long pos = cr->start;
	int n = 0, rc = 0;
	while (spool && pos < cr->end && !rc) {
		size_t m = 0;
		for (; m < NB && pos < cr->end; m++) {
			const char *fl[SPOOL_FIELDS];
			long used = 0;
			if ((rc = spool_read(spool, &bufs[m], &caps[m], fl, &used)) != 0)
				break;
			pos += used;
			/* fields: (id, given here), resource type, key, resource, related, reason, code,
			 * suppressed */
			finding_id(cr->finding_ms, ids[m]);
			fs[m] = (struct dd_store_audit_finding){
				.finding_id = ids[m], .task_id = task_id, .check_name = cr->name,
				.task_start_ms = cr->task_start_ms, .finding_ms = cr->finding_ms,
				.severity = cr->check ? cr->check->severity : "", .resource_type = fl[1],
				.resource_key = fl[2], .resource = fl[3], .related = fl[4], .reason = fl[5],
				.reason_code = fl[6], .suppressed = fl[7][0] == '1', .shard = j->shard,
			};
		}
		if (rc || (rc = dd_store_audit_findings_insert_many(db, account_region, fs, m)) != 0)
			break;
		dd_metrics_findings(m);
		n += (int)m;
		if (n >= WRITE_BATCH) {
			/* keep write transactions short; a crash here leaves the check
			 * IN_PROGRESS, and resuming deletes these rows first */
			n = 0;
			if (dd_db_commit(db) || dd_db_begin_write(db)) {
				for (int b = 0; b < NB; b++)
					free(bufs[b]);
				return DD_EIO;
			}
			if (lease_held(svc, db, j) != 0) {
				for (int b = 0; b < NB; b++)
					free(bufs[b]);
				goto lost;
			}
		}
	}
	for (int b = 0; b < NB; b++)
		free(bufs[b]);
	if (rc)
		goto fail;
	struct dd_store_audit_task_check tc = {
		.check_name = cr->name, .status = cr->status, .total = cr->total, .noncompliant = cr->noncompliant,
		.suppressed = cr->suppressed, .error_code = cr->error_code[0] ? cr->error_code : NULL,
		.message = cr->message[0] ? cr->message : NULL,
	};
	if (dd_store_audit_shard_check_put(db, account_region, task_id, j->shard, &tc) || settle_check(db, j, cr))
		goto fail;
	return dd_db_commit(db);
fail:
	dd_db_rollback(db);
	return DD_EIO;
lost:
	dd_db_rollback(db);
	return DD_ECONFLICT;
}

/* The run's emit: spools one finding of the running check (see dd_audit_checks_emit). */
static int engine_emit(struct dd_audit_run *r, const struct dd_audit_finding_text *f)
{
	struct sink *s = r->sink;
	bool suppressed = false;
	if (json_object_size(s->suppressions)) {
		char skey[2048];
		snprintf(skey, sizeof skey, "%s\n%s", s->check_name, f->resource_key);
		suppressed = json_object_get(s->suppressions, skey) != NULL;
	}
	if (!s->last_key || strcmp(s->last_key, f->resource_key) != 0) {
		size_t len = strlen(f->resource_key) + 1;
		char *k = realloc(s->last_key, len);
		if (!k) {
			s->err = DD_ENOMEM;
			return DD_ENOMEM;
		}
		memcpy(k, f->resource_key, len);
		s->last_key = k;
		if (suppressed)
			s->suppressed++;
		else
			s->noncompliant++;
	}
	/* the finding id is given when it is stored (write_check), in the order of the
	 * inserts: the findings of checks that shared a pass are stored one check after the
	 * other, and ids drawn here would interleave them (random B-tree inserts) */
	const char *fields[SPOOL_FIELDS] = { "", f->resource_type, f->resource_key, f->resource, f->related, f->reason,
					     f->reason_code, suppressed ? "1" : "0" };
	if (spool_write(s->spool, fields)) {
		s->err = DD_EIO;
		return DD_EIO;
	}
	return 0;
}

/* ---- helpers ----------------------------------------------------------------------- */

static int suppression_visit(const struct dd_store_audit_suppression *sp, void *ud)
{
	char k[2048];
	snprintf(k, sizeof k, "%s\n%s", sp->check_name, sp->resource_key);
	return json_object_set_new(ud, k, json_true()) ? DD_ENOMEM : 0;
}

/* The suppressions in force at now: "check\nkey" -> true. */
static json_t *load_suppressions(struct dd_db *db, const char *account_region, int64_t now)
{
	json_t *m = json_object();
	if (dd_store_audit_suppressions_active(db, account_region, now, suppression_visit, m))
		dd_log_warn("audit: the suppressions of %s could not be read", account_region);
	return m;
}

/* The checks' configurations of the region (JSON object) and its audit role. */
static json_t *check_configs(struct dd_db *db, const char *account_region, char **role_arn)
{
	json_t *cfg = NULL;
	*role_arn = NULL;
	struct dd_store_audit_config c;
	if (dd_store_audit_config_get(db, account_region, &c) == 0) {
		*role_arn = c.role_arn;
		c.role_arn = NULL;
		cfg = json_loads(c.checks, 0, NULL);
		dd_store_audit_config_clear(&c);
	}
	return cfg ? cfg : json_object();
}

/* The final status of a check that ran into its sink with return code rc; NULL when
 * the spool failed. */
static const char *final_status(struct dd_audit_run *r, struct sink *s, int rc)
{
	if (s->err)
		return NULL;
	if (rc) {
		if (!r->error_code[0])
			snprintf(r->error_code, sizeof r->error_code, "AUDIT_CHECK_FAILED");
		s->noncompliant = s->suppressed = 0;
		return "FAILED";
	}
	if (r->waiting)
		return "WAITING_FOR_DATA_COLLECTION";
	return s->noncompliant ? "COMPLETED_NON_COMPLIANT" : "COMPLETED_COMPLIANT";
}

/* IAM is global: the role is looked up in the account, whatever the audit's region. */
static bool role_allows_reads(struct dd_db *db, const char *account, const char *role_arn,
			      const struct dd_audit_check *chk, char *missing, size_t mlen)
{
	if (!role_arn) {
		snprintf(missing, mlen, "no audit role is configured");
		return false;
	}
	struct dd_iam_policy_docs docs = { 0 };
	if (dd_iam_role_policies(db, account, role_arn, &docs)) {
		snprintf(missing, mlen, "the audit role %s does not exist", role_arn);
		return false;
	}
	struct dd_policy **pols = calloc(docs.n ? docs.n : 1, sizeof *pols);
	size_t n = 0;
	for (size_t i = 0; pols && i < docs.n; i++) {
		char msg[DD_POLICY_ERRMSG_SIZE];
		if (dd_policy_compile(docs.items[i].document, strlen(docs.items[i].document), DD_POLICY_IAM,
				      &pols[n], msg, sizeof msg) == 0)
			n++;
	}
	bool ok = pols != NULL;
	for (const char *const *a = chk->reads; ok && a && *a; a++) {
		bool allowed = false;
		if (dd_policy_role_allows((const struct dd_policy *const *)pols, n, *a, "*", &allowed) || !allowed) {
			snprintf(missing, mlen, "The audit role %s is not allowed to perform %s", role_arn, *a);
			ok = false;
		}
	}
	for (size_t i = 0; i < n; i++)
		dd_policy_free(pols[i]);
	free(pols);
	dd_iam_policy_docs_clear(&docs);
	return ok;
}

static int delete_partial(struct dd_service *svc, struct dd_db *db, const struct task_job *j, const char *check)
{
	if (dd_db_begin_write(db))
		return DD_EIO;
	if (lease_held(svc, db, j) ||
	    dd_store_audit_findings_delete_shard(db, j->account_region, j->task, check, j->shard)) {
		dd_db_rollback(db);
		return DD_EIO;
	}
	return dd_db_commit(db);
}

struct task_copy {
	char status[32];
	char task_type[32];
	char scheduled_name[256];
	bool scheduled;
	int64_t start_ms, window_start_ms;
	char *checks;
};

static int task_copy_fn(const struct dd_store_audit_task *t, void *ud)
{
	struct task_copy *c = ud;
	snprintf(c->status, sizeof c->status, "%s", t->status);
	snprintf(c->task_type, sizeof c->task_type, "%s", t->task_type);
	c->scheduled = t->scheduled_name != NULL;
	snprintf(c->scheduled_name, sizeof c->scheduled_name, "%s", t->scheduled_name ? t->scheduled_name : "");
	c->start_ms = t->start_ms;
	c->window_start_ms = t->window_start_ms;
	c->checks = strdup(t->checks);
	return c->checks ? 0 : DD_ENOMEM;
}

static const char *task_status(struct dd_db *db, const char *account_region, const char *task_id, char *buf, size_t len)
{
	struct task_copy c = { 0 };
	buf[0] = '\0';
	if (dd_store_audit_task_get(db, account_region, task_id, task_copy_fn, &c) == 0)
		snprintf(buf, len, "%s", c.status);
	free(c.checks);
	return buf;
}

static bool is_revocation_check(const char *name)
{
	return strstr(name, "REVOKED") != NULL;
}

/* ---- notifications ----------------------------------------------------------------- */

struct notify_stats {
	json_t *details;
	int64_t total, failed, canceled, noncompliant, compliant;
};

static int notify_check(const struct dd_store_audit_task_check *c, void *ud)
{
	struct notify_stats *ns = ud;
	bool done = strncmp(c->status, "COMPLETED", 9) == 0;
	/* the counts are integers in the message (0 for a check that did not complete) */
	json_t *d = json_pack("{s:s, s:s, s:I, s:I}", "checkName", c->check_name, "checkRunStatus", c->status,
			      "nonCompliantResourcesCount", (json_int_t)(done ? c->noncompliant : 0),
			      "totalResourcesCount", (json_int_t)(done ? c->total : 0));
	if (done)
		json_object_set_new(d, "suppressedNonCompliantResourcesCount", json_integer(c->suppressed));
	if (c->error_code)
		json_object_set_new(d, "errorCode", json_string(c->error_code));
	if (c->message)
		json_object_set_new(d, "message", json_string(c->message));
	json_array_append_new(ns->details, d);
	ns->total++;
	if (strcmp(c->status, "FAILED") == 0)
		ns->failed++;
	else if (strcmp(c->status, "CANCELED") == 0)
		ns->canceled++;
	else if (strcmp(c->status, "COMPLETED_NON_COMPLIANT") == 0)
		ns->noncompliant++;
	else if (strcmp(c->status, "COMPLETED_COMPLIANT") == 0)
		ns->compliant++;
	return 0;
}

/* Publishes the task's summary to the SNS target of the region's audit configuration (a
 * topic ARN carries its own region). */
static void notify(struct dd_service *svc, struct dd_db *db, const char *account, const char *account_region,
		   const char *task_id)
{
	struct task_copy task = { 0 };
	if (dd_store_audit_task_get(db, account_region, task_id, task_copy_fn, &task))
		return;
	struct dd_store_audit_config cfg;
	json_t *targets = NULL;
	if (dd_store_audit_config_get(db, account_region, &cfg) == 0) {
		targets = json_loads(cfg.targets, 0, NULL);
		dd_store_audit_config_clear(&cfg);
	}
	json_t *sns = json_object_get(targets, "SNS");
	const char *topic = json_string_value(json_object_get(sns, "targetArn"));
	struct notify_stats ns = { .details = json_array() };
	if (!topic || !json_is_true(json_object_get(sns, "enabled")) ||
	    dd_store_audit_task_checks(db, account_region, task_id, notify_check, &ns)) {
		json_decref(ns.details);
		json_decref(targets);
		free(task.checks);
		return;
	}
	json_t *payload = json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:o}", "accountId", account,
				    "taskId", task_id, "taskStatus", task.status, "taskType", task.task_type,
				    "failedChecksCount", (json_int_t)ns.failed, "canceledChecksCount", (json_int_t)ns.canceled,
				    "nonCompliantChecksCount", (json_int_t)ns.noncompliant,
				    "compliantChecksCount", (json_int_t)ns.compliant, "totalChecksCount", (json_int_t)ns.total,
				    "taskStartTime", (json_int_t)task.start_ms, "auditDetails", ns.details);
	if (task.scheduled)
		json_object_set_new(payload, "scheduledAuditName", json_string(task.scheduled_name));
	char *msg = json_dumps(payload, JSON_COMPACT);
	char mid[37], key[128];
	snprintf(key, sizeof key, "audit/%s", task_id); /* one summary per task, however often it settles */
	if (msg && dd_sns_publish_once(svc, db, account, topic, key, msg, mid) == 0)
		dd_log_info("audit: task %s notified to %s (message %s)", task_id, topic, mid);
	else
		dd_log_warn("audit: task %s: the notification to %s could not be queued", task_id, topic);
	free(msg);
	json_decref(payload);
	json_decref(targets);
	free(task.checks);
}

/* ---- running a task ---------------------------------------------------------------- */

#define NLANES 2

/* What the lanes and the task's thread share: a check is handed over (ready) as soon as
 * it ended on its lane, and stored by the task's thread while the lanes go on. */
struct handoff {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int lanes_running;
};

/* One of the two threads of a task: runs its share of the checks on its own snapshot
 * connection, each check spooling its findings to a file of its own. */
struct lane {
	struct handoff *ho;
	struct dd_service *svc;
	const char *account, *region, *account_region, *task_id;
	int64_t start_ms, window_ms;
	json_t *cfg, *sup;             /* borrowed, read-only while the lanes run */
	struct check_result *results;
	size_t nresults;
	int index, count;
	struct dd_db *snap;
	const char *range_lo, *range_hi; /* the shard's, for the sharded checks (NULL: unbounded) */
};

/* Reports a phase of the task outside the checks to the timing observer (lane -1, its
 * time as run time). */
static void report_phase(const char *task_id, const char *what, double m0, double c0)
{
	if (!timing_observer)
		return;
	struct dd_audit_engine_timing tm = {
		.task_id = task_id, .check_name = what, .status = "", .lane = -1,
		.run_s = clock_s(CLOCK_MONOTONIC) - m0, .run_cpu_s = clock_s(CLOCK_THREAD_CPUTIME_ID) - c0,
	};
	timing_observer(&tm, timing_ud);
}

/* Settles a check that ended on lane ln and hands it to the task's thread. */
static void lane_finish(struct lane *ln, struct check_result *cr, struct dd_audit_run *r, int rc)
{
	struct sink *sk = r->sink;
	const char *status = final_status(r, sk, rc);
	if (status && strcmp(status, "FAILED") == 0)
		cr->end = 0; /* a failed check stores no findings */
	else if (status && (fflush(cr->spool) != 0 || (cr->end = ftell(cr->spool)) < 0))
		status = NULL;
	if (!status) {
		/* the spool failed: the check fails rather than being retried forever */
		cr->status = "FAILED";
		cr->end = 0;
		snprintf(cr->error_code, sizeof cr->error_code, "AUDIT_CHECK_FAILED");
		snprintf(cr->message, sizeof cr->message, "The check's results could not be spooled: %s.",
			 dd_strerror(sk->err ? sk->err : DD_EIO));
	} else {
		cr->status = status;
		cr->total = r->total;
		cr->noncompliant = sk->noncompliant;
		cr->suppressed = sk->suppressed;
		snprintf(cr->error_code, sizeof cr->error_code, "%s", r->error_code);
		snprintf(cr->message, sizeof cr->message, "%s", r->message);
	}
	cr->run_s = r->run_s;
	cr->run_cpu_s = r->run_cpu_s;
	cr->group = r->group;
	dd_log_debug("audit: task %s: %s %s in %.0f ms on lane %d%s (%lld resources, %lld noncompliant)", ln->task_id,
		     cr->name, cr->status, r->run_s * 1000.0, ln->index, r->group ? " in a shared pass" : "",
		     (long long)r->total, (long long)cr->noncompliant);
	free(sk->last_key);
	sk->last_key = NULL;
	pthread_mutex_lock(&ln->ho->mu);
	cr->ready = true;
	pthread_cond_broadcast(&ln->ho->cv);
	pthread_mutex_unlock(&ln->ho->mu);
}

static void *run_lane(void *arg)
{
	struct lane *ln = arg;
	size_t n = 0;
	struct dd_audit_run *runs = calloc(ln->nresults + 1, sizeof *runs);
	struct dd_audit_run **rp = calloc(ln->nresults + 1, sizeof *rp);
	struct sink *sinks = calloc(ln->nresults + 1, sizeof *sinks);
	struct check_result **crs = calloc(ln->nresults + 1, sizeof *crs);
	int *rcs = calloc(ln->nresults + 1, sizeof *rcs);
	json_t *empty = json_object();
	int64_t now = dd_service_now_ms(ln->svc);
	for (size_t k = 0; runs && rp && sinks && crs && rcs && k < ln->nresults; k++) {
		struct check_result *cr = &ln->results[k];
		if (!cr->run || cr->lane != ln->index)
			continue;
		cr->spool = tmpfile();
		cr->task_start_ms = ln->start_ms;
		cr->finding_ms = now;
		cr->start = cr->end = 0;
		if (!cr->spool) {
			cr->status = "FAILED";
			snprintf(cr->error_code, sizeof cr->error_code, "AUDIT_CHECK_FAILED");
			snprintf(cr->message, sizeof cr->message, "The check's results could not be spooled: %s.",
				 dd_strerror(DD_EIO));
			pthread_mutex_lock(&ln->ho->mu);
			cr->ready = true;
			pthread_mutex_unlock(&ln->ho->mu);
			continue;
		}
		json_t *ccfg = json_object_get(json_object_get(ln->cfg, cr->name), "configuration");
		sinks[n] = (struct sink){ .spool = cr->spool, .check_name = cr->name, .suppressions = ln->sup, .now_ms = now };
		runs[n] = (struct dd_audit_run){
			.emit = engine_emit, .svc = ln->svc, .snap = ln->snap, .account = ln->account, .region = ln->region,
			.account_region = ln->account_region, .task_id = ln->task_id, .task_start_ms = ln->start_ms,
			.window_start_ms = ln->window_ms, .config = json_is_object(ccfg) ? ccfg : empty, .check = cr->check,
			.sink = &sinks[n], .range_lo = sharded(cr->check) ? ln->range_lo : NULL,
			.range_hi = sharded(cr->check) ? ln->range_hi : NULL,
		};
		rp[n] = &runs[n];
		crs[n] = cr;
		n++;
	}
	/* the certificate checks first, in one shared pass (their findings are the most to
	 * store), then one check at a time; each is handed over when it ended */
	size_t first = 0;
	for (size_t i = 0; i < n; i++) {
		const struct dd_audit_check *c = rp[i]->check;
		if (!c->uses_connections && strstr(c->resource_type, "CERTIFICATE")) {
			struct dd_audit_run *tr = rp[i];
			struct check_result *tc = crs[i];
			memmove(&rp[first + 1], &rp[first], (i - first) * sizeof *rp);
			memmove(&crs[first + 1], &crs[first], (i - first) * sizeof *crs);
			rp[first] = tr;
			crs[first] = tc;
			first++;
		}
	}
	size_t at = 0;
	while (at < n) {
		size_t m = at == 0 && first > 0 ? first : 1;
		dd_audit_checks_run(&rp[at], m, &rcs[at]);
		for (size_t i = at; i < at + m; i++)
			lane_finish(ln, crs[i], rp[i], rcs[i]);
		at += m;
	}
	json_decref(empty);
	free(runs);
	free(rp);
	free(sinks);
	free(crs);
	free(rcs);
	pthread_mutex_lock(&ln->ho->mu);
	ln->ho->lanes_running--;
	pthread_cond_broadcast(&ln->ho->cv);
	pthread_mutex_unlock(&ln->ho->mu);
	return NULL;
}

static void run_task(struct dd_service *svc, const struct task_job *job)
{
	const char *account_region = job->account_region, *task_id = job->task;
	int64_t t_run = dd_time_now_ms();
	double setup_m0 = clock_s(CLOCK_MONOTONIC), setup_c0 = clock_s(CLOCK_THREAD_CPUTIME_ID);
	struct dd_db *db = dd_store_db(svc->store);
	if (!db)
		return;
	char account[13], region[64];
	if (dd_account_region_split(account_region, account, region, sizeof region)) {
		dd_log_error("audit: task %s: malformed account_region %s", task_id, account_region);
		return;
	}
	struct task_copy tc = { 0 };
	if (dd_store_audit_task_get(db, account_region, task_id, task_copy_fn, &tc)) {
		free(tc.checks);
		return;
	}
	int64_t start_ms = tc.start_ms, window_ms = tc.window_start_ms;
	json_t *checks = json_loads(tc.checks, 0, NULL);
	free(tc.checks);
	if (!checks)
		return;
	char *role_arn = NULL;
	json_t *cfg = check_configs(db, account_region, &role_arn);
	json_t *sup = load_suppressions(db, account_region, start_ms);

	/* pending checks */
	json_t *pending = json_array();
	bool need_crl = false;
	size_t i;
	json_t *cname;
	json_array_foreach(checks, i, cname) {
		const char *name = json_string_value(cname);
		if (job->shard != 0 && !sharded(dd_audit_checks_find(name)))
			continue; /* shard 0's */
		char cstat[32];
		int src = dd_store_audit_task_check_status(db, account_region, task_id, name, cstat, sizeof cstat);
		bool done = false;
		if ((src && src != DD_ENOTFOUND) ||
		    (!src && strcmp(cstat, "IN_PROGRESS") == 0 &&
		     dd_store_audit_shard_check_exists(db, account_region, task_id, name, job->shard, &done))) {
			/* a shard run on part of its checks would be marked done with the rest unstored */
			dd_log_error("audit: task %s shard %d: the state of check %s could not be read; the shard is left"
				     " for a later run", task_id, job->shard, name);
			goto out;
		}
		if (!src && strcmp(cstat, "IN_PROGRESS") == 0 && !done) {
			json_array_append(pending, cname);
			if (is_revocation_check(json_string_value(cname)))
				need_crl = true;
		}
	}
	if (need_crl) {
		/* Fetches run on the fetch pool; this worker waits a bounded time for its own
		 * account's, then the checks use the CRLs stored by then (the rest go on). */
		struct dd_crl_refresh_stats stats;
		if (dd_crl_refresh(svc, account_region, &stats) == 0 && stats.urls) {
			int late = stats.queued || stats.pending ? dd_crl_refresh_wait(svc, account_region, DD_CRL_AUDIT_WAIT_MS) : 0;
			dd_log_info("audit: task %s: CRLs: %zu queued, %zu already queued, %zu cached, %zu in backoff%s",
				    task_id, stats.queued, stats.pending, stats.cached, stats.backoff,
				    late ? "; some fetches still running, the checks use the CRLs stored so far" : "");
		}
	}
	if (json_array_size(pending))
		dd_log_info("audit: task %s shard %d/%d of account %s started: %zu of %zu checks to run", task_id,
			    job->shard, job->nshards, account, json_array_size(pending), json_array_size(checks));
	else if (job->settle) /* see stranded */
		dd_log_warn("audit: task %s: every shard was done, but the task was left IN_PROGRESS; it is settled now",
			    task_id);
	else /* an earlier run stored every check, then could not mark the shard done */
		dd_log_info("audit: task %s: every check of shard %d/%d was stored before; it is marked done", task_id,
			    job->shard, job->nshards);
	/* resuming: a check left IN_PROGRESS may have written part of its findings */
	json_array_foreach(pending, i, cname) {
		if (delete_partial(svc, db, job, json_string_value(cname)))
			goto out;
	}
	size_t npending = json_array_size(pending);
	struct check_result *results = calloc(npending + 1, sizeof *results);
	struct lane lanes[NLANES];
	memset(lanes, 0, sizeof lanes);
	struct handoff ho = { .lanes_running = 0 };
	pthread_mutex_init(&ho.mu, NULL);
	pthread_cond_init(&ho.cv, NULL);
	if (!results)
		goto out;
	/* permissions first (the lanes must not touch this thread's connection) */
	int weight[NLANES] = { 0 };
	json_array_foreach(pending, i, cname) {
		struct check_result *cr = &results[i];
		cr->name = json_string_value(cname);
		cr->check = dd_audit_checks_find(cr->name);
		if (!cr->check) {
			cr->status = "FAILED";
			snprintf(cr->error_code, sizeof cr->error_code, "AUDIT_CHECK_FAILED");
			snprintf(cr->message, sizeof cr->message, "Unknown check.");
			continue;
		}
		char missing[512];
		if (!role_allows_reads(db, account, role_arn, cr->check, missing, sizeof missing)) {
			cr->status = "FAILED";
			snprintf(cr->error_code, sizeof cr->error_code, "INSUFFICIENT_PERMISSIONS");
			snprintf(cr->message, sizeof cr->message, "%s", missing);
			continue;
		}
		cr->run = true;
	}
	/* Balance the lanes by a rough cost: each connection scan (a full pass over the
	 * events) weighs 4, the device certificate checks together 4 (they share one pass
	 * over the certificates, so they go to one lane), every other check 1; heaviest first
	 * to the lighter lane. */
	int devcert_lane = -1;
	for (int pass = 0; pass < 3; pass++) {
		for (size_t k = 0; k < npending; k++) {
			struct check_result *cr = &results[k];
			if (!cr->run)
				continue;
			bool conn = cr->check->uses_connections;
			bool devcert = !conn && strcmp(cr->check->resource_type, "DEVICE_CERTIFICATE") == 0;
			if ((pass == 0 && !conn) || (pass == 1 && !devcert) || (pass == 2 && (conn || devcert)))
				continue;
			int l = weight[0] <= weight[1] ? 0 : 1;
			if (devcert) {
				if (devcert_lane < 0) {
					devcert_lane = l;
					weight[l] += 4;
				}
				l = devcert_lane;
			} else {
				weight[l] += conn ? 4 : 1;
			}
			cr->lane = l;
			lanes[l].count++;
		}
	}
	for (int l = 0; l < NLANES; l++) {
		lanes[l] = (struct lane){ .ho = &ho, .svc = svc, .account = account, .region = region,
					  .account_region = account_region, .task_id = task_id,
					  .start_ms = start_ms, .window_ms = window_ms, .cfg = cfg, .sup = sup,
					  .results = results, .nresults = npending, .index = l, .count = lanes[l].count,
					  .range_lo = job->nshards > 1 ? job->lo : NULL,
					  .range_hi = job->nshards > 1 && job->has_hi ? job->hi : NULL };
		lanes[l].snap = dd_store_db_private(svc->store);
	}
	struct dd_db *snaps[NLANES] = { lanes[0].snap, lanes[1].snap };
	bool ready = snaps[0] && snaps[1] && dd_store_begin_read_consistent(svc->store, snaps, NLANES) == 0;
	report_phase(task_id, "(set-up: CRL refresh, role permissions, snapshot)", setup_m0, setup_c0);
	/* Both lanes read the same snapshot on threads of their own; this thread stores each
	 * check as soon as it ended (the second core is otherwise idle while a store is
	 * written). The WAL grows by the findings written while the snapshots are open; it is
	 * checkpointed once they close. */
	pthread_t threads[NLANES];
	bool started[NLANES] = { false, false };
	for (int l = 0; ready && l < NLANES; l++) {
		if (lanes[l].count == 0)
			continue;
		pthread_mutex_lock(&ho.mu);
		ho.lanes_running++;
		pthread_mutex_unlock(&ho.mu);
		started[l] = pthread_create(&threads[l], NULL, run_lane, &lanes[l]) == 0;
		if (!started[l])
			run_lane(&lanes[l]); /* on this thread, before storing anything */
	}
	if (!ready)
		dd_log_error("audit: task %s: cannot open a snapshot", task_id);
	bool store_failed = false;
	for (;;) {
		/* the next check that ended (or failed before running), in the task's order */
		struct check_result *next = NULL;
		pthread_mutex_lock(&ho.mu);
		for (;;) {
			for (size_t k = 0; ready && k < npending && !next; k++)
				if (!results[k].stored && (results[k].run ? results[k].ready : results[k].status != NULL))
					next = &results[k];
			if (next || ho.lanes_running == 0)
				break;
			pthread_cond_wait(&ho.cv, &ho.mu);
		}
		if (next)
			next->stored = true;
		pthread_mutex_unlock(&ho.mu);
		if (!next)
			break;
		if (store_failed)
			continue;
		struct check_result *cr = next;
		int64_t t0 = dd_time_now_ms();
		double m0 = clock_s(CLOCK_MONOTONIC), c0 = clock_s(CLOCK_THREAD_CPUTIME_ID);
		if (write_check(svc, db, job, cr->spool, cr)) {
			dd_log_error("audit: task %s: check %s could not be stored", task_id, cr->name);
			store_failed = true;
			continue;
		}
		cr->store_s = clock_s(CLOCK_MONOTONIC) - m0;
		cr->store_cpu_s = clock_s(CLOCK_THREAD_CPUTIME_ID) - c0;
		dd_log_debug("audit: task %s: %s stored in %lld ms", task_id, cr->name, (long long)(dd_time_now_ms() - t0));
		if (timing_observer) {
			struct dd_audit_engine_timing tm = {
				.task_id = task_id, .check_name = cr->name, .status = cr->status,
				.lane = cr->run ? cr->lane : -1, .group = cr->group, .run_s = cr->run_s,
				.run_cpu_s = cr->run_cpu_s, .store_s = cr->store_s, .store_cpu_s = cr->store_cpu_s,
				.total = cr->total, .noncompliant = cr->noncompliant,
			};
			timing_observer(&tm, timing_ud);
		}
	}
	double end_m0 = clock_s(CLOCK_MONOTONIC), end_c0 = clock_s(CLOCK_THREAD_CPUTIME_ID);
	for (int l = 0; l < NLANES; l++) {
		if (started[l])
			pthread_join(threads[l], NULL);
		dd_db_close(lanes[l].snap);
	}
	pthread_mutex_destroy(&ho.mu);
	pthread_cond_destroy(&ho.cv);
	for (size_t k = 0; k < npending; k++)
		if (results[k].spool)
			fclose(results[k].spool);
	free(results);
	if (!ready)
		goto out;
	/* The shard is done when every check of it was stored (else it stays IN_PROGRESS,
	 * claimable again), and in the same write the task COMPLETED when no check of any
	 * shard is left (the last shard to store sees that; a store failure leaves the task
	 * IN_PROGRESS for the next start to resume). One write: no run leaves every shard done
	 * and the task IN_PROGRESS (stranded settles a store where an earlier version did).
	 * Its commit also checkpoints the WAL that grew while the snapshots were open; readers
	 * see the task COMPLETED meanwhile. */
	if (!store_failed && dd_db_begin_write(db) == 0) {
		int64_t left = -1;
		if (lease_held(svc, db, job) || dd_store_audit_shard_done(db, account_region, task_id, job->shard) ||
		    dd_store_audit_task_checks_left(db, account_region, task_id, &left) ||
		    (left == 0 && dd_store_audit_task_complete(db, account_region, task_id, dd_service_now_ms(svc))) ||
		    dd_db_commit(db))
			dd_db_rollback(db);
	}
	char tstat[32];
	task_status(db, account_region, task_id, tstat, sizeof tstat);
	if (strcmp(tstat, "IN_PROGRESS") != 0) {
		/* notify (and log) once, whichever shard ended last */
		bool first = false;
		if (dd_db_begin_write(db) == 0) {
			if (dd_store_audit_task_mark_notified(db, account_region, task_id, &first))
				first = false;
			if (dd_db_commit(db)) {
				dd_db_rollback(db);
				first = false;
			}
			if (first)
				notify(svc, db, account, account_region, task_id);
		}
		if (!first)
			goto out;
		int64_t nfind = -1;
		if (dd_store_audit_findings_count_task(db, account_region, task_id, &nfind))
			nfind = -1;
		dd_log_info("audit: task %s %s: %lld findings, %lld ms", task_id, tstat, (long long)nfind,
			    (long long)(dd_time_now_ms() - t_run));
		dd_metrics_task("audit", tstat, dd_time_now_ms() - t_run);
	}
	report_phase(task_id, "(end: snapshots closed, task completed, notified)", end_m0, end_c0);
out:
	json_decref(pending);
	json_decref(sup);
	json_decref(cfg);
	json_decref(checks);
	free(role_arn);
}

int dd_audit_engine_run_check_for_test(struct dd_service *svc, const char *account_region, const char *check_name,
				       json_t *config, int64_t now_ms, json_t **findings_out, int64_t *total_out,
				       bool *waiting_out)
{
	const struct dd_audit_check *chk = dd_audit_checks_find(check_name);
	char account[13], region[64];
	if (!chk || dd_account_region_split(account_region, account, region, sizeof region))
		return DD_EINVAL;
	struct dd_db *snap = dd_store_db_private(svc->store);
	FILE *spool = tmpfile();
	if (!snap || !spool || dd_db_begin_read(snap)) {
		dd_db_close(snap);
		if (spool)
			fclose(spool);
		return DD_EIO;
	}
	const char *task_id = "00000000000000000000000000000000";
	json_t *nosup = json_object();
	struct sink sk = { .spool = spool, .check_name = chk->name, .suppressions = nosup, .now_ms = now_ms };
	json_t *empty = json_object();
	struct dd_audit_run r = {
		.emit = engine_emit,
		.svc = svc, .snap = snap, .account = account, .region = region, .account_region = account_region,
		.task_id = task_id,
		.task_start_ms = now_ms, .window_start_ms = now_ms - 31 * DAY_MS,
		.config = config ? config : empty, .check = chk, .sink = &sk,
	};
	struct dd_audit_run *rp = &r;
	int rc = 0;
	dd_audit_checks_run(&rp, 1, &rc);
	dd_db_close(snap);
	*findings_out = json_array();
	long end = ftell(spool);
	rewind(spool);
	char *buf = NULL;
	size_t cap = 0;
	long pos = 0;
	while (pos < end) {
		const char *fl[SPOOL_FIELDS];
		long used = 0;
		if (spool_read(spool, &buf, &cap, fl, &used))
			break;
		pos += used;
		json_t *res = json_loads(fl[3], 0, NULL);
		json_t *rel = json_loads(fl[4], 0, NULL);
		json_array_append_new(*findings_out, json_pack("{s:s, s:o, s:o, s:s, s:s, s:s}", "checkName", chk->name,
								"nonCompliantResource", res ? res : json_null(),
								"relatedResources", rel ? rel : json_array(),
								"reasonForNonCompliance", fl[5],
								"reasonForNonComplianceCode", fl[6], "severity", chk->severity));
	}
	free(buf);
	fclose(spool);
	free(sk.last_key);
	*total_out = r.total;
	*waiting_out = r.waiting;
	json_decref(nosup);
	json_decref(empty);
	return rc;
}

/* ---- tasks ------------------------------------------------------------------------- */

/* The task's rows, in the caller's write transaction (rolled back by the caller on error). */
static int task_insert(struct dd_db *db, const char *account_region, const char *type, const char *scheduled_name,
		       const char *const *checks, size_t n, int64_t start_ms, int64_t window_start_ms, char task_id[33])
{
	unsigned char r[16];
	if (dd_random_bytes(r, sizeof r))
		return DD_ECRYPTO;
	dd_hex_encode(r, 16, task_id);
	json_t *arr = json_array();
	for (size_t i = 0; arr && i < n; i++)
		json_array_append_new(arr, json_string(checks[i]));
	char *text = arr ? json_dumps(arr, JSON_COMPACT) : NULL;
	json_decref(arr);
	if (!text)
		return DD_ENOMEM;
	struct dd_store_audit_task t = {
		.account_region = account_region, .task_id = task_id, .task_type = type,
		.scheduled_name = scheduled_name, .start_ms = start_ms, .window_start_ms = window_start_ms,
		.checks = text,
	};
	int rc = dd_store_audit_task_insert(db, &t, checks, n);
	free(text);
	return rc;
}

int dd_audit_engine_task_create(struct dd_db *db, const char *account_region, const char *type,
				const char *scheduled_name, const char *const *checks, size_t n, int64_t start_ms,
				int64_t window_start_ms, char task_id[33])
{
	if (dd_db_begin_write(db))
		return DD_EIO;
	int rc = task_insert(db, account_region, type, scheduled_name, checks, n, start_ms, window_start_ms, task_id);
	if (rc) {
		dd_db_rollback(db);
		return rc;
	}
	return dd_db_commit(db);
}

/* ---- workers ----------------------------------------------------------------------- */

static bool claim(struct dd_audit_engine *e, const char *key)
{
	int free_slot = -1;
	for (int i = 0; i < MAX_CLAIMED; i++) {
		if (strcmp(e->claimed[i], key) == 0)
			return false;
		if (!e->claimed[i][0] && free_slot < 0)
			free_slot = i;
	}
	if (free_slot < 0)
		return false;
	snprintf(e->claimed[free_slot], sizeof e->claimed[free_slot], "%s", key);
	return true;
}

static void unclaim(struct dd_audit_engine *e, const char *key)
{
	for (int i = 0; i < MAX_CLAIMED; i++)
		if (strcmp(e->claimed[i], key) == 0)
			e->claimed[i][0] = '\0';
}

static bool claimed_here(struct dd_audit_engine *e, const char *key)
{
	for (int i = 0; i < MAX_CLAIMED; i++)
		if (strcmp(e->claimed[i], key) == 0)
			return true;
	return false;
}

/* Tasks of account (12 digits) running here now, in any region (claimed keys are
 * "<account>/<region>/<task>/<shard>"; shards of one task count once), and whether
 * task_prefix ("<account_region>/<task>/") is one of them. */
static int running_of(struct dd_audit_engine *e, const char *account, const char *task_prefix, bool *this_task)
{
	size_t n = strlen(account), tp = strlen(task_prefix);
	int r = 0;
	*this_task = false;
	for (int i = 0; i < MAX_CLAIMED; i++) {
		const char *k = e->claimed[i];
		if (strncmp(k, account, n) != 0 || k[n] != '/')
			continue;
		if (strncmp(k, task_prefix, tp) == 0)
			*this_task = true;
		bool seen = false; /* another shard of the same task counted before */
		const char *slash = strrchr(k, '/');
		for (int j = 0; j < i && !seen; j++)
			seen = strncmp(e->claimed[j], k, (size_t)(slash - k + 1)) == 0;
		if (!seen)
			r++;
	}
	return r;
}

/* What a pick found claimable in one task: a shard not run here nor leased by another
 * instance (shard 0 with plan when the task has no shards yet). */
struct shard_pick {
	struct dd_audit_engine *e;
	json_t *others;
	const char *prefix;        /* "<account_region>/<task>/" */
	int nshards, ndone;
	bool found;
	struct task_job job;
	char lo0[80], hi0[80];     /* shard 0's range */
	bool has_hi0;
};

static int shard_visit(const struct dd_store_audit_shard *s, void *ud)
{
	struct shard_pick *sp = ud;
	sp->nshards++;
	if (s->shard == 0) {
		snprintf(sp->lo0, sizeof sp->lo0, "%s", s->lo);
		sp->has_hi0 = s->hi != NULL;
		snprintf(sp->hi0, sizeof sp->hi0, "%s", s->hi ? s->hi : "");
	}
	if (strcmp(s->status, "DONE") == 0)
		sp->ndone++;
	if (sp->found || strcmp(s->status, "IN_PROGRESS") != 0)
		return 0;
	char key[sizeof sp->job.key];
	snprintf(key, sizeof key, "%s%d", sp->prefix, s->shard);
	if (json_object_get(sp->others, key) || claimed_here(sp->e, key))
		return 0;
	sp->found = true;
	sp->job.shard = s->shard;
	snprintf(sp->job.key, sizeof sp->job.key, "%s", key);
	snprintf(sp->job.lo, sizeof sp->job.lo, "%s", s->lo);
	sp->job.has_hi = s->hi != NULL;
	snprintf(sp->job.hi, sizeof sp->job.hi, "%s", s->hi ? s->hi : "");
	return 0;
}

/* An IN_PROGRESS task whose shards are all DONE and whose checks all ended: left by an
 * earlier version, whose last run marked its shard done and completed the task in two
 * writes and could fail the second (its lease lost in between, a store error); no shard is
 * left to claim, so shard 0's unit settles it. */
static bool stranded(struct dd_db *db, const char *ar, const char *task, int nshards, int ndone)
{
	int64_t left = -1;
	return nshards > 0 && ndone == nshards && dd_store_audit_task_checks_left(db, ar, task, &left) == 0 && left == 0;
}

/* The claimable shard of a task into *job; false when none. */
static bool task_shard(struct dd_audit_engine *e, struct dd_db *db, json_t *others, const char *ar, const char *task,
		       struct task_job *job)
{
	char prefix[DD_ACCOUNT_REGION_SIZE + 48];
	snprintf(prefix, sizeof prefix, "%s/%s/", ar, task);
	struct shard_pick sp = { .e = e, .others = others, .prefix = prefix };
	if (dd_store_audit_shards_list(db, ar, task, shard_visit, &sp))
		return false;
	if (sp.nshards == 0) {
		/* not planned yet: whoever takes shard 0 plans */
		snprintf(sp.job.key, sizeof sp.job.key, "%s0", prefix);
		if (json_object_get(others, sp.job.key) || claimed_here(e, sp.job.key))
			return false;
		sp.found = sp.job.plan = true;
	} else if (!sp.found && stranded(db, ar, task, sp.nshards, sp.ndone)) {
		snprintf(sp.job.key, sizeof sp.job.key, "%s0", prefix);
		if (json_object_get(others, sp.job.key) || claimed_here(e, sp.job.key))
			return false;
		sp.found = sp.job.settle = true;
		snprintf(sp.job.lo, sizeof sp.job.lo, "%s", sp.lo0);
		sp.job.has_hi = sp.has_hi0;
		snprintf(sp.job.hi, sizeof sp.job.hi, "%s", sp.hi0);
	}
	if (!sp.found)
		return false;
	*job = sp.job;
	job->nshards = sp.nshards;
	snprintf(job->account_region, sizeof job->account_region, "%s", ar);
	snprintf(job->task, sizeof job->task, "%s", task);
	return true;
}

static int collect_task(const struct dd_store_audit_task *t, void *ud)
{
	return json_array_append_new(ud, json_pack("[s, s]", t->account_region, t->task_id)) ? DD_ENOMEM : 0;
}

static int other_unit(const char *unit, void *ud)
{
	return json_object_set_new(ud, unit, json_true()) ? DD_ENOMEM : 0;
}

/* Fair claiming (in the pool's claim callback): of the IN_PROGRESS tasks (oldest first)
 * that have a shard claimable here, take one of an account below the per-account cap
 * (nworkers - 1, at least 1, so one worker is always left for the other accounts; a
 * further shard of a task already running here does not count) with the fewest running
 * tasks; ties go round-robin by account id after the account served last, then to the
 * oldest task. So an account that queued many audits never makes another account's audit
 * wait for more than the shards already running. */
static bool pick_shard(struct dd_audit_engine *e, struct dd_db *db, json_t *tasks, json_t *others,
		       struct task_job *out)
{
	bool found = false;
	int cap = e->nworkers > 1 ? e->nworkers - 1 : 1, best_run = 0, best_wrap = 0;
	size_t i;
	json_t *t;
	json_array_foreach(tasks, i, t) {
		const char *ar = json_string_value(json_array_get(t, 0)), *task = json_string_value(json_array_get(t, 1));
		char a[13], region[64], prefix[DD_ACCOUNT_REGION_SIZE + 48];
		if (dd_account_region_split(ar, a, region, sizeof region))
			continue;
		snprintf(prefix, sizeof prefix, "%s/%s/", ar, task);
		bool this_task = false;
		int run = running_of(e, a, prefix, &this_task);
		if (!this_task && run >= cap)
			continue;
		int wrap = strcmp(a, e->last_account) <= 0; /* 0: after the last served, this round */
		if (found) {
			if (run > best_run || (run == best_run && wrap > best_wrap))
				continue;
			if (run == best_run && wrap == best_wrap && strncmp(a, out->account_region, 12) >= 0)
				continue; /* same rank: the lower account id, its oldest task (seen first) */
		}
		struct task_job j;
		if (!task_shard(e, db, others, ar, task, &j))
			continue;
		*out = j;
		found = true;
		best_run = run;
		best_wrap = wrap;
	}
	return found;
}

/* dd_lease_claim's pick, in the claim transaction: the fair pick (pick_shard) over the
 * IN_PROGRESS tasks and the units other instances hold, whose row (the shard, or the task
 * to plan or to settle) the store then locks; on PostgreSQL a unit another claimer is
 * taking at this moment is skipped (its row lock, SKIP LOCKED) and the next pick tried, so
 * claimers of several instances take different shards without waiting for each other. The
 * unit is marked as claimed here (claim) when it is returned. */
struct claim_ctx {
	struct dd_audit_engine *e;
	struct task_job *t;
};

static int pick_unit(struct dd_db *db, int64_t now_ms, void *ud, char *unit, size_t n)
{
	(void)now_ms;
	struct claim_ctx *c = ud;
	struct dd_audit_engine *e = c->e;
	struct task_job *t = c->t;
	json_t *tasks = json_array(), *others = json_object();
	int rc = 0;
	if (!tasks || !others || dd_lease_others(e->svc, db, "audit", other_unit, others) ||
	    dd_store_audit_tasks_in_progress(db, collect_task, tasks))
		goto out;
	for (int tries = 0; tries < 8 && pick_shard(e, db, tasks, others, t); tries++) {
		int locked = dd_store_audit_claim_lock(db, t->account_region, t->task, t->plan || t->settle ? -1 : t->shard);
		if (locked < 0)
			break;
		if (locked == 1) {
			if (claim(e, t->key)) {
				snprintf(unit, n, "%s", t->key);
				rc = 1;
			}
			break;
		}
		/* being taken by another claimer: as if it were leased */
		if (json_object_set_new(others, t->key, json_true()))
			break;
	}
out:
	json_decref(tasks);
	json_decref(others);
	return rc;
}

static int bound_visit(const char *id, void *ud)
{
	return json_array_append_new(ud, json_string(id)) ? DD_ENOMEM : 0;
}

/* Splits a task (holding the lease of its shard 0) into shards: by device certificate id,
 * IOTDEFENDER_AUDIT_SHARD_SIZE certificates each (at most 64 shards), when it runs a
 * device certificate check and the size is set; else one shard (the default: on one
 * instance the unsplit audit costs less CPU, see docs/BENCHMARKS.md). 0 or DD_E*. */
static int plan_shards(struct dd_audit_engine *e, struct dd_db *db, struct task_job *j)
{
	struct task_copy tc = { 0 };
	int rc = dd_store_audit_task_get(db, j->account_region, j->task, task_copy_fn, &tc);
	json_t *checks = rc ? NULL : json_loads(tc.checks, 0, NULL);
	free(tc.checks);
	if (rc)
		return rc;
	bool any = false;
	size_t i;
	json_t *c;
	json_array_foreach(checks, i, c) any = any || sharded(dd_audit_checks_find(json_string_value(c)));
	json_decref(checks);
	int64_t size = 0;
	const char *env = getenv("IOTDEFENDER_AUDIT_SHARD_SIZE");
	if (env && *env && dd_parse_int64(env, 0, INT64_MAX / 2, &size))
		size = 0;
	if (size <= 0)
		any = false;
	json_t *ids = json_array();
	if (!ids)
		return DD_ENOMEM;
	/* the bounds are read before the write transaction (a long read of the ids) */
	if (any && (rc = dd_store_certs_id_bounds(db, j->account_region, size, bound_visit, ids))) {
		json_decref(ids);
		return rc;
	}
	size_t n = json_array_size(ids) + 1;
	while (n > 64) {
		/* too many shards: keep every other bound */
		json_t *half = json_array();
		for (size_t k = 1; k < json_array_size(ids); k += 2)
			json_array_append(half, json_array_get(ids, k));
		json_decref(ids);
		ids = half;
		n = json_array_size(ids) + 1;
	}
	if (dd_db_begin_write(db)) {
		json_decref(ids);
		return DD_EIO;
	}
	struct shard_pick sp = { .e = e, .others = NULL, .prefix = "" };
	bool held = false;
	rc = dd_lease_hold(e->svc, db, "audit", j->key, &held);
	if (!rc && !held)
		rc = DD_ECONFLICT;
	if (!rc)
		rc = dd_store_audit_shards_list(db, j->account_region, j->task, shard_visit, &sp);
	for (size_t k = 0; !rc && sp.nshards == 0 && k < n; k++) {
		const char *lo = k ? json_string_value(json_array_get(ids, k - 1)) : "";
		const char *hi = k + 1 < n ? json_string_value(json_array_get(ids, k)) : NULL;
		rc = dd_store_audit_shards_insert(db, j->account_region, j->task, (int)k, lo, hi);
	}
	json_decref(ids);
	if (rc || dd_db_commit(db)) {
		dd_db_rollback(db);
		return rc ? rc : DD_EIO;
	}
	if (sp.nshards == 0)
		dd_log_info("audit: task %s: %zu shard(s)", j->task, n);
	return 0;
}

/* After planning: shard 0's range and the number of shards. */
static int shard0(const struct dd_store_audit_shard *s, void *ud)
{
	struct task_job *j = ud;
	j->nshards++;
	if (s->shard == 0) {
		snprintf(j->lo, sizeof j->lo, "%s", s->lo);
		j->has_hi = s->hi != NULL;
		snprintf(j->hi, sizeof j->hi, "%s", s->hi ? s->hi : "");
	}
	return 0;
}

static int task_in_progress(const struct dd_store_audit_task *t, void *ud)
{
	*(bool *)ud = strcmp(t->status, "IN_PROGRESS") == 0;
	return 0;
}

struct shard_state {
	int shard;
	bool done;
	int nshards, ndone;
};

static int shard_done(const struct dd_store_audit_shard *s, void *ud)
{
	struct shard_state *st = ud;
	if (s->shard == st->shard)
		st->done = strcmp(s->status, "DONE") == 0;
	st->nshards++;
	st->ndone += strcmp(s->status, "DONE") == 0;
	return 0;
}

/* The picked task is still IN_PROGRESS and its shard not DONE, or, to settle, still
 * stranded (read in the lease's transaction, after another instance may have finished it
 * and let the lease go). */
static int shard_wanted(struct dd_db *db, void *ud)
{
	const struct task_job *t = ((const struct claim_ctx *)ud)->t;
	bool running = false;
	if (dd_store_audit_task_get(db, t->account_region, t->task, task_in_progress, &running) || !running)
		return 0;
	/* to plan: shard 0 of a task not planned yet (no shard 0), or planned by an instance
	 * that then lost shard 0 before running it (shard 0 not DONE); shard 0 done means
	 * another instance planned and ran it since the pick read the shards */
	struct shard_state st = { t->plan ? 0 : t->shard, false, 0, 0 };
	if (dd_store_audit_shards_list(db, t->account_region, t->task, shard_done, &st))
		return 0;
	if (t->settle)
		return stranded(db, t->account_region, t->task, st.nshards, st.ndone);
	return !st.done;
}

static int task_claim(struct dd_workers *w, void *ud, void **job)
{
	struct dd_audit_engine *e = ud;
	struct dd_db *db = dd_store_db(e->svc->store);
	if (!db)
		return DD_EIO;
	struct task_job *t = calloc(1, sizeof *t);
	if (!t)
		return DD_ENOMEM;
	/* another instance may take the picked shard between the pick and the lease (SQLite,
	 * or a lease that expired): pick again */
	struct claim_ctx c = { e, t };
	for (int tries = 0;; tries++) {
		char unit[sizeof t->key];
		unit[0] = 0;
		int got = dd_lease_claim(e->svc, db, "audit", pick_unit, shard_wanted, &c, unit, sizeof unit);
		if (got == 1)
			break;
		if (unit[0])
			unclaim(e, unit);
		if (got == 0 || tries >= 2) {
			free(t);
			return 0;
		}
	}
	if (t->plan) {
		int rc = plan_shards(e, db, t);
		t->nshards = 0;
		if (rc || dd_store_audit_shards_list(db, t->account_region, t->task, shard0, t) || t->nshards == 0) {
			dd_log_warn("audit: task %s: its shards could not be planned (%s)", t->task, dd_strerror(rc ? rc : DD_EIO));
			dd_lease_drop(e->svc, db, "audit", t->key);
			unclaim(e, t->key);
			free(t);
			return 0;
		}
	}
	snprintf(e->last_account, sizeof e->last_account, "%.12s", t->account_region);
	*job = t;
	return 1;
}

static int task_run(struct dd_workers *w, void *ud, void *job)
{
	struct dd_audit_engine *e = ud;
	struct task_job *t = job;
	run_task(e->svc, t);
	struct dd_db *db = dd_store_db(e->svc->store);
	if (db && !dd_workers_stopping(w))
		dd_lease_drop(e->svc, db, "audit", t->key);
	return 0;
}

/* The pool wakes the idle workers after this, so one idle because of the per-account cap
 * may go on. */
static void task_release(struct dd_workers *w, void *ud, void *job, int rc)
{
	struct dd_audit_engine *e = ud;
	struct task_job *t = job;
	unclaim(e, t->key);
	free(t);
}

/* ---- scheduler --------------------------------------------------------------------- */

static const char *const weekdays[] = { "SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT" };

/* Is the UTC day starting at day_ms a due day of the scheduled audit? */
static bool due_on(const char *freq, const char *dom, const char *dow, int64_t created_ms, int64_t day_ms)
{
	time_t t = (time_t)(day_ms / 1000);
	struct tm tm;
	gmtime_r(&t, &tm);
	if (strcmp(freq, "DAILY") == 0)
		return true;
	if (strcmp(freq, "WEEKLY") == 0 || strcmp(freq, "BIWEEKLY") == 0) {
		if (!dow || strcmp(dow, weekdays[tm.tm_wday]) != 0)
			return false;
		if (strcmp(freq, "WEEKLY") == 0)
			return true;
		int64_t weeks = (day_ms - (created_ms / DAY_MS) * DAY_MS) / (7 * DAY_MS);
		return weeks % 2 == 0;
	}
	if (strcmp(freq, "MONTHLY") == 0 && dom) {
		time_t tomorrow = t + 86400;
		struct tm tn;
		gmtime_r(&tomorrow, &tn);
		if (strcmp(dom, "LAST") == 0)
			return tn.tm_mon != tm.tm_mon;
		int64_t d;
		if (dd_parse_int64(dom, 1, 31, &d))
			return false;
		/* a day that the month lacks falls on its last day */
		return tm.tm_mday == d || (tn.tm_mon != tm.tm_mon && d > tm.tm_mday);
	}
	return false;
}

static void day_string(int64_t day_ms, char out[11])
{
	time_t t = (time_t)(day_ms / 1000);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, 11, "%Y-%m-%d", &tm);
}

struct due_walk {
	int64_t today;
	json_t *due;
};

static int due_visit(const struct dd_store_audit_scheduled *sa, void *ud)
{
	struct due_walk *dw = ud;
	int64_t created_day = sa->created / DAY_MS * DAY_MS;
	/* the most recent due day at or before today, not before creation (62 days back) */
	for (int64_t d = dw->today; d >= created_day && d > dw->today - 62 * DAY_MS; d -= DAY_MS) {
		if (!due_on(sa->frequency, sa->day_of_month, sa->day_of_week, sa->created, d))
			continue;
		char ds[11];
		day_string(d, ds);
		if (!*sa->last_run_day || strcmp(ds, sa->last_run_day) > 0)
			json_array_append_new(dw->due, json_pack("{s:s, s:s, s:s, s:I, s:s}", "account_region",
								 sa->account_region, "name", sa->name, "day", ds, "last",
								 (json_int_t)sa->last_run_ms, "checks", sa->checks));
		break;
	}
	return 0;
}

static void schedule_tick(struct dd_service *svc)
{
	struct dd_db *db = dd_store_db(svc->store);
	if (!db)
		return;
	int64_t now = dd_service_now_ms(svc);
	struct due_walk dw = { .today = now / DAY_MS * DAY_MS, .due = json_array() };
	if (dd_store_audit_scheduled_all(db, due_visit, &dw)) {
		json_decref(dw.due);
		return;
	}
	size_t i;
	json_t *d;
	json_array_foreach(dw.due, i, d) {
		const char *account_region = json_string_value(json_object_get(d, "account_region"));
		const char *name = json_string_value(json_object_get(d, "name"));
		int64_t last_ms = json_integer_value(json_object_get(d, "last"));
		json_t *checks = json_loads(json_string_value(json_object_get(d, "checks")), 0, NULL);
		size_t n = json_array_size(checks), j;
		const char **names = calloc(n ? n : 1, sizeof *names);
		json_t *cn;
		json_array_foreach(checks, j, cn) if (names) names[j] = json_string_value(cn);
		char task_id[33];
		/* One write transaction: the compare-and-set of the run day (another instance's
		 * scheduler may fire the same audit) and the task, so it fires exactly once. */
		int rc = names ? dd_db_begin_write(db) : DD_ENOMEM;
		if (!rc) {
			rc = dd_store_audit_scheduled_mark_run(db, account_region, name,
							       json_string_value(json_object_get(d, "day")), now);
			if (!rc)
				rc = task_insert(db, account_region, "SCHEDULED_AUDIT_TASK", name, names, n, now,
						 last_ms > 0 ? last_ms : now - 31 * DAY_MS, task_id);
			if (!rc)
				rc = dd_db_commit(db);
			else
				dd_db_rollback(db);
		}
		free(names);
		json_decref(checks);
		if (rc == DD_ENOTFOUND) {
			dd_log_debug("audit: scheduled audit %s was already started for %s", name,
				     json_string_value(json_object_get(d, "day")));
			continue;
		}
		if (rc) {
			dd_log_warn("audit: scheduled audit %s could not start (%s)", name, dd_strerror(rc));
			continue;
		}
		dd_log_info("audit: scheduled audit %s started task %s", name, task_id);
		if (svc->audit)
			dd_workers_wake(svc->audit->tasks);
	}
	json_decref(dw.due);
}

static void prune(struct dd_service *svc)
{
	int64_t days = 90;
	const char *env = getenv("IOTDEFENDER_RETENTION_DAYS");
	if (env && dd_parse_int64(env, 1, 36500, &days))
		days = 90;
	int64_t cutoff = dd_service_now_ms(svc) - days * DAY_MS;
	struct dd_db *db = dd_store_db(svc->store);
	if (!db || dd_db_begin_write(db))
		return;
	if (dd_store_audit_prune(db, cutoff) || dd_db_commit(db))
		dd_db_rollback(db);
}

/* The scheduler pool never claims work: each time its thread wakes (every 10 s, or on
 * dd_audit_engine_wake) it starts the scheduled audits that are due and, hourly, prunes. */
static int sched_claim(struct dd_workers *w, void *ud, void **job)
{
	return 0;
}

static int sched_run(struct dd_workers *w, void *ud, void *job)
{
	return 0;
}

static void sched_idle(struct dd_workers *w, void *ud)
{
	struct dd_audit_engine *e = ud;
	schedule_tick(e->svc);
	if (dd_time_now_ms() - e->last_prune > 3600 * 1000) {
		prune(e->svc);
		e->last_prune = dd_time_now_ms();
	}
}

int dd_audit_engine_start(struct dd_service *svc)
{
	struct dd_audit_engine *e = calloc(1, sizeof *e);
	if (!e)
		return DD_ENOMEM;
	e->svc = svc;
	e->nworkers = svc->audit_workers < 0 ? 0 : svc->audit_workers > NWORKERS ? NWORKERS : svc->audit_workers;
	/* how often an idle worker looks for work queued by another instance (this
	 * instance's own requests wake it at once) */
	int64_t poll = 5000;
	const char *env = getenv("IOTDEFENDER_AUDIT_POLL_MS");
	if (env && dd_parse_int64(env, 10, 600000, &poll))
		poll = 5000;
	const struct dd_workers_config tasks = {
		.name = "audit", .nthreads = e->nworkers, .idle_ms = poll,
		.claim = task_claim, .run = task_run, .release = task_release, .ud = e,
	};
	const struct dd_workers_config sched = {
		.name = "audit-scheduler", .nthreads = 1, .idle_ms = 10000,
		.claim = sched_claim, .run = sched_run, .idle = sched_idle, .ud = e,
	};
	int rc = dd_workers_start(&tasks, &e->tasks);
	if (rc) {
		free(e);
		return rc;
	}
	svc->audit = e;
	if ((rc = dd_workers_start(&sched, &e->scheduler))) {
		dd_workers_stop(e->tasks);
		free(e);
		svc->audit = NULL;
		return rc;
	}
	return 0;
}

void dd_audit_engine_wake(struct dd_service *svc)
{
	struct dd_audit_engine *e = svc ? svc->audit : NULL;
	if (!e)
		return;
	dd_workers_wake(e->tasks);
	dd_workers_wake(e->scheduler);
}

void dd_audit_engine_stop(struct dd_service *svc)
{
	struct dd_audit_engine *e = svc->audit;
	if (!e)
		return;
	dd_workers_stop(e->scheduler);
	dd_workers_stop(e->tasks);
	free(e);
	svc->audit = NULL;
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The jobs API, kept as STORED STATE ONLY: jobs (document, document source or job
 * template; thing and thing group targets; SNAPSHOT or CONTINUOUS; the rollout, abort,
 * timeout, retry, scheduling and presigned-URL configs kept and answered), their
 * executions (one per target thing, QUEUED when created, canceled and deleted with AWS's
 * state rules, REMOVED when the thing leaves a CONTINUOUS job's targets or is deleted), and
 * job templates. Nothing is delivered to a device: no MQTT jobs topics
 * are served, so an execution stays QUEUED until it is canceled or deleted, rollout,
 * abort, timeout and retry configs are not applied, and a document source (S3) is not
 * fetched. The rules (targets, transitions, completion) are core/registry/dd_jobs.c; the
 * rows store/dd_store_jobs.c. There are no AWS-managed job templates here: their listing
 * is empty and describing one is ResourceNotFoundException.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/dd_api_common.h"
#include "dd/buf.h"
#include "core/registry/dd_jobs.h"
#include "store/dd_store_jobs.h"
#include "store/dd_store_tags.h"

/* the configs a job keeps (and takes from its template) */
static const char *const job_configs[] = { "presignedUrlConfig", "jobExecutionsRolloutConfig", "abortConfig",
					   "timeoutConfig", "jobExecutionsRetryConfig", "schedulingConfig",
					   "documentParameters", "destinationPackageVersions" };
/* the configs a template keeps */
static const char *const template_configs[] = { "presignedUrlConfig", "jobExecutionsRolloutConfig", "abortConfig",
						"timeoutConfig", "jobExecutionsRetryConfig", "maintenanceWindows",
						"destinationPackageVersions" };
/* the configs UpdateJob sets */
static const char *const updatable[] = { "presignedUrlConfig", "jobExecutionsRolloutConfig", "abortConfig",
					 "timeoutConfig", "jobExecutionsRetryConfig" };

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* Maps a rule's result to AWS's error: DD_ECONFLICT is InvalidStateTransitionException. */
static int rule_fail(struct dd_ctx *c, int rc, const char *msg)
{
	if (dd_db_in_tx(c->db))
		dd_db_rollback(c->db);
	switch (rc) {
	case DD_ENOTFOUND: return dd_fail(c, rc, "ResourceNotFoundException", "%s", msg);
	case DD_EEXIST: return dd_fail(c, rc, "ResourceAlreadyExistsException", "%s", msg);
	case DD_EINVAL: return dd_fail(c, rc, "InvalidRequestException", "%s", msg);
	case DD_ELIMIT: return dd_fail(c, rc, "LimitExceededException", "%s", msg);
	case DD_ECONFLICT: return dd_fail(c, rc, "InvalidStateTransitionException", "%s", msg);
	case DD_ENOMEM: return dd_fail(c, rc, "InternalFailureException", "out of memory");
	default: return dd__db_fail(c);
	}
}

/* "yyyy-MM-dd'T'HH:mm" (UTC, AWS's StringDateTime of schedulingConfig) into epoch ms. */
static int parse_minute(const char *s, int64_t *ms)
{
	int y, mo, d, h, mi;
	char tail;
	if (!s || strlen(s) != 16 || sscanf(s, "%4d-%2d-%2dT%2d:%2d%c", &y, &mo, &d, &h, &mi, &tail) != 5)
		return DD_EINVAL;
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || h < 0 || mi < 0)
		return DD_EINVAL;
	struct tm tm = { .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h, .tm_min = mi };
	time_t t = timegm(&tm);
	if (t == (time_t)-1)
		return DD_EINVAL;
	*ms = (int64_t)t * 1000;
	return 0;
}

/* Checks the configs of a job or template input beyond the model's shapes. Sets
 * *start_ms to the scheduled start (-1 none). */
static int check_configs(struct dd_ctx *c, json_t *in, int64_t *start_ms)
{
	*start_ms = -1;
	const char *role = dd__str(json_object_get(in, "presignedUrlConfig"), "roleArn");
	if (role && dd__role_arn_ok(c, "presignedUrlConfig.roleArn", role, "InvalidRequestException"))
		return c->err;
	json_t *timeout = json_object_get(in, "timeoutConfig");
	int64_t minutes = dd__int(timeout, "inProgressTimeoutInMinutes", 1);
	if (minutes < 1 || minutes > 10080)
		return dd_fail(c, DD_EINVAL, "InvalidRequestException",
			       "timeoutConfig.inProgressTimeoutInMinutes must be between 1 and 10080 (7 days).");
	json_t *sched = json_object_get(in, "schedulingConfig");
	const char *start = dd__str(sched, "startTime"), *end = dd__str(sched, "endTime");
	int64_t s = -1, e = -1;
	if (start && parse_minute(start, &s))
		return dd_fail(c, DD_EINVAL, "InvalidRequestException",
			       "schedulingConfig.startTime must be a UTC date and time as yyyy-MM-ddTHH:mm.");
	if (end && parse_minute(end, &e))
		return dd_fail(c, DD_EINVAL, "InvalidRequestException",
			       "schedulingConfig.endTime must be a UTC date and time as yyyy-MM-ddTHH:mm.");
	if (end && !start)
		return dd_fail(c, DD_EINVAL, "InvalidRequestException", "schedulingConfig.endTime needs a startTime.");
	if (start && end && e < s + 30 * 60 * 1000)
		return dd_fail(c, DD_EINVAL, "InvalidRequestException",
			       "schedulingConfig.endTime must be at least 30 minutes after startTime.");
	if (dd__str(sched, "endBehavior") && !end)
		return dd_fail(c, DD_EINVAL, "InvalidRequestException", "schedulingConfig.endBehavior needs an endTime.");
	*start_ms = s;
	return 0;
}

static int check_document(struct dd_ctx *c, const char *doc)
{
	json_error_t err;
	json_t *j = json_loads(doc, JSON_DECODE_ANY, &err);
	if (!j)
		return dd_fail(c, DD_EINVAL, "InvalidRequestException", "document is not valid JSON: %s (line %d).", err.text,
			       err.line);
	json_decref(j);
	return 0;
}

/* Parses a list of target ARNs into targets (names borrowed from arr). */
static int parse_targets(struct dd_ctx *c, json_t *arr, struct dd_jobs_target **out, size_t *n)
{
	*out = NULL;
	*n = json_array_size(arr);
	if (!*n)
		return dd_fail(c, DD_EINVAL, "InvalidRequestException", "targets must name at least one thing or thing group.");
	if (*n > DD_JOBS_MAX_TARGETS)
		return dd_fail(c, DD_ELIMIT, "LimitExceededException", "A job can have at most %d targets.",
			       DD_JOBS_MAX_TARGETS);
	struct dd_jobs_target *t = calloc(*n, sizeof *t);
	if (!t)
		return dd_fail(c, DD_ENOMEM, "InternalFailureException", "out of memory");
	for (size_t i = 0; i < *n; i++) {
		const char *arn = json_string_value(json_array_get(arr, i));
		const char *kind = arn && strstr(arn, ":thinggroup/") ? "thinggroup" : arn && strstr(arn, ":thing/") ? "thing" : NULL;
		if (!arn || strncmp(arn, "arn:", 4) != 0 || !kind) {
			free(t);
			return dd_fail(c, DD_EINVAL, "InvalidRequestException",
				       "targets: %.700s is not the ARN of a thing or thing group.", arn ? arn : "(not a string)");
		}
		t[i].arn = arn;
		t[i].kind = kind;
		if (dd__name_from_arn(c, arn, kind, &t[i].name)) {
			free(t);
			return c->err;
		}
	}
	*out = t;
	return 0;
}

/* ---- job templates as read by CreateJob ---- */

struct template {
	bool found;
	char *description, *document, *document_source, *config;
	int64_t created;
};

static void template_free(struct template *t)
{
	free(t->description);
	free(t->document);
	free(t->document_source);
	free(t->config);
	memset(t, 0, sizeof *t);
}

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

static int template_row(void *ud, const struct dd_store_jobs_template_row *r)
{
	struct template *t = ud;
	t->found = true;
	t->description = dup_or_null(r->description);
	t->document = dup_or_null(r->document);
	t->document_source = dup_or_null(r->document_source);
	t->config = strdup(r->config);
	t->created = r->created;
	return t->config ? 0 : DD_ENOMEM;
}

/* The template a jobTemplateArn names (of c's account and region). */
static int load_template_arn(struct dd_ctx *c, const char *arn, struct template *t)
{
	const char *id;
	memset(t, 0, sizeof *t);
	if (dd__name_from_arn(c, arn, "jobtemplate", &id))
		return c->err;
	if (strncmp(arn, "arn:", 4) != 0)
		return dd_fail(c, DD_EINVAL, "InvalidRequestException", "jobTemplateArn %.700s is not a job template ARN.", arn);
	int rc = dd_store_jobs_template_get(c->db, c->account_region, id, template_row, t);
	if (rc == DD_ENOTFOUND)
		return dd_fail(c, rc, "ResourceNotFoundException", "Job template %s cannot be found.", id);
	if (rc) {
		template_free(t);
		return rc == DD_ENOMEM ? dd_fail(c, rc, "InternalFailureException", "out of memory") : dd__db_fail(c);
	}
	return 0;
}

/* ---- jobs ---- */

static json_t *job_ref(struct dd_ctx *c, const char *job_id, const char *description)
{
	json_t *o = json_pack("{s:o, s:s}", "jobArn", dd__arn(c, "job/%s", job_id), "jobId", job_id);
	if (o && description)
		json_object_set_new(o, "description", json_string(description));
	return o;
}

static int create_job(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *id = dd__str(in, "jobId");
	const char *doc = dd__str(in, "document"), *source = dd__str(in, "documentSource");
	const char *template_arn = dd__str(in, "jobTemplateArn");
	const char *description = dd__str(in, "description");
	if (doc && source)
		return dd_fail(c, DD_EINVAL, "InvalidRequestException", "document and documentSource cannot be given together.");
	if (template_arn && (doc || source))
		return dd_fail(c, DD_EINVAL, "InvalidRequestException",
			       "jobTemplateArn supplies the document: document and documentSource cannot be given with it.");
	if (!template_arn && !doc && !source)
		return dd_fail(c, DD_EINVAL, "InvalidRequestException",
			       "One of document, documentSource or jobTemplateArn is required.");
	if (doc && check_document(c, doc))
		return c->err;
	int64_t start_ms;
	if (check_configs(c, in, &start_ms))
		return c->err;
	struct dd_jobs_target *targets;
	size_t ntargets;
	if (parse_targets(c, json_object_get(in, "targets"), &targets, &ntargets))
		return c->err;
	struct template t = { 0 };
	json_t *cfg = NULL;
	char *config = NULL, *target_text = NULL;
	int rc = 0;
	if (template_arn && load_template_arn(c, template_arn, &t)) {
		rc = c->err;
		goto out;
	}
	/* the template's configs, overridden by the request's */
	cfg = t.config ? json_loads(t.config, 0, NULL) : NULL;
	if (!json_is_object(cfg)) {
		json_decref(cfg);
		cfg = json_object();
	}
	json_object_del(cfg, "maintenanceWindows");
	for (size_t i = 0; i < NELEM(job_configs); i++) {
		json_t *v = json_object_get(in, job_configs[i]);
		if (v)
			json_object_set(cfg, job_configs[i], v);
	}
	config = json_dumps(cfg, JSON_COMPACT | JSON_SORT_KEYS);
	target_text = json_dumps(json_object_get(in, "targets"), JSON_COMPACT);
	if (!config || !target_text) {
		rc = dd_fail(c, DD_ENOMEM, "InternalFailureException", "out of memory");
		goto out;
	}
	const char *selection = dd__str(in, "targetSelection");
	struct dd_store_jobs_row row = {
		.job_id = id,
		.target_selection = selection ? selection : "SNAPSHOT",
		.description = description ? description : t.description,
		.document = t.found ? t.document : doc,
		.document_source = t.found ? t.document_source : source,
		.template_arn = template_arn,
		.namespace_id = dd__str(in, "namespaceId"),
		.config = config,
		.targets = target_text,
		.start_ms = start_ms,
	};
	char msg[512] = "";
	char arn[800];
	dd__arn_buf(c, arn, sizeof arn, "job/%s", id);
	if (dd_db_begin_write(c->db)) {
		rc = dd__db_fail(c);
		goto out;
	}
	rc = dd_jobs_create(c->db, c->account_region, &row, targets, ntargets, c->now_ms, msg, sizeof msg);
	if (rc) {
		rc = rule_fail(c, rc, msg);
		goto out;
	}
	if (dd__tags_put(c, arn, json_object_get(in, "tags")) || dd_db_commit(c->db)) {
		rc = dd__db_fail(c);
		goto out;
	}
	*out = job_ref(c, id, row.description);
out:
	json_decref(cfg);
	free(config);
	free(target_text);
	template_free(&t);
	free(targets);
	return rc;
}

/* A missing job: rolls back the caller's transaction and fails c. */
static int job_missing(struct dd_ctx *c, const char *id)
{
	if (dd_db_in_tx(c->db))
		dd_db_rollback(c->db);
	return dd_fail(c, DD_ENOTFOUND, "ResourceNotFoundException", "Job %s cannot be found.", id);
}

struct job_read {
	struct dd_ctx *c;
	json_t *job;        /* DescribeJob's job */
	char *document;     /* GetJobDocument */
	char *doc_source;
	char *description;
	char status[32];
	bool found;
};

static int job_read_row(void *ud, const struct dd_store_jobs_row *r)
{
	struct job_read *d = ud;
	struct dd_ctx *c = d->c;
	d->found = true;
	snprintf(d->status, sizeof d->status, "%s", dd_jobs_status_at(r->status, r->start_ms, c->now_ms));
	json_t *cfg = json_loads(r->config, 0, NULL);
	json_t *targets = json_loads(r->targets, 0, NULL);
	json_t *o = json_pack("{s:o, s:s, s:s, s:s, s:o, s:o, s:o, s:b}", "jobArn", dd__arn(c, "job/%s", r->job_id), "jobId",
			      r->job_id, "targetSelection", r->target_selection, "status", d->status, "targets",
			      targets ? targets : json_array(), "createdAt", dd_json_time(r->created), "lastUpdatedAt",
			      dd_json_time(r->updated), "isConcurrent", false);
	if (!o) {
		json_decref(cfg);
		return DD_ENOMEM;
	}
	if (r->description)
		json_object_set_new(o, "description", json_string(r->description));
	if (r->completed)
		json_object_set_new(o, "completedAt", dd_json_time(r->completed));
	if (strcmp(r->status, "CANCELED") == 0 || r->force_canceled)
		json_object_set_new(o, "forceCanceled", json_boolean(r->force_canceled));
	if (r->reason_code)
		json_object_set_new(o, "reasonCode", json_string(r->reason_code));
	if (r->comment)
		json_object_set_new(o, "comment", json_string(r->comment));
	if (r->namespace_id)
		json_object_set_new(o, "namespaceId", json_string(r->namespace_id));
	if (r->template_arn)
		json_object_set_new(o, "jobTemplateArn", json_string(r->template_arn));
	/* AWS answers these three as {} when not set */
	static const char *const always[] = { "presignedUrlConfig", "jobExecutionsRolloutConfig", "timeoutConfig" };
	for (size_t i = 0; i < NELEM(always); i++)
		json_object_set_new(o, always[i], json_object());
	const char *k;
	json_t *v;
	json_object_foreach(cfg, k, v)
		json_object_set(o, k, v);
	json_decref(cfg);
	d->job = o;
	if (r->document && !(d->document = strdup(r->document)))
		return DD_ENOMEM;
	if (r->document_source && !(d->doc_source = strdup(r->document_source)))
		return DD_ENOMEM;
	if (r->description && !(d->description = strdup(r->description)))
		return DD_ENOMEM;
	return 0;
}

static void job_read_free(struct job_read *d)
{
	json_decref(d->job);
	free(d->document);
	free(d->doc_source);
	free(d->description);
	memset(d, 0, sizeof *d);
}

/* Reads job id into d; fails c when missing. */
static int read_job(struct dd_ctx *c, const char *id, struct job_read *d)
{
	memset(d, 0, sizeof *d);
	d->c = c;
	int rc = dd_store_jobs_get(c->db, c->account_region, id, job_read_row, d);
	if (rc == DD_ENOTFOUND)
		return job_missing(c, id);
	if (rc) {
		job_read_free(d);
		return rc == DD_ENOMEM ? dd_fail(c, rc, "InternalFailureException", "out of memory") : dd__db_fail(c);
	}
	return 0;
}

static int describe_job(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *id = dd__str(in, "jobId");
	struct job_read d;
	if (read_job(c, id, &d))
		return c->err;
	struct dd_store_jobs_counts n;
	if (dd_store_jobs_exec_counts(c->db, c->account_region, id, &n)) {
		job_read_free(&d);
		return dd__db_fail(c);
	}
	json_object_set_new(d.job, "jobProcessDetails",
			    json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "numberOfCanceledThings", (json_int_t)n.canceled,
				      "numberOfSucceededThings", (json_int_t)n.succeeded, "numberOfFailedThings",
				      (json_int_t)n.failed, "numberOfRejectedThings", (json_int_t)n.rejected,
				      "numberOfQueuedThings", (json_int_t)n.queued, "numberOfInProgressThings",
				      (json_int_t)n.in_progress, "numberOfRemovedThings", (json_int_t)n.removed,
				      "numberOfTimedOutThings", (json_int_t)n.timed_out));
	*out = json_pack("{s:O}", "job", d.job);
	if (d.doc_source)
		json_object_set_new(*out, "documentSource", json_string(d.doc_source));
	job_read_free(&d);
	return 0;
}

/* doc with every ${aws:iot:parameter:KEY} of params replaced by its value, into a new
 * string (NULL: out of memory). */
static char *substitute(const char *doc, json_t *params)
{
	static const char mark[] = "${aws:iot:parameter:";
	struct dd_buf b;
	dd_buf_init(&b, 0);
	const char *p = doc;
	while (*p) {
		const char *m = strstr(p, mark);
		const char *close = m ? strchr(m + sizeof mark - 1, '}') : NULL;
		if (!m || !close) {
			dd_buf_append(&b, p, strlen(p));
			break;
		}
		dd_buf_append(&b, p, (size_t)(m - p));
		char key[160];
		size_t kl = (size_t)(close - (m + sizeof mark - 1));
		const char *val = NULL;
		if (kl < sizeof key) {
			memcpy(key, m + sizeof mark - 1, kl);
			key[kl] = '\0';
			val = json_string_value(json_object_get(params, key));
		}
		if (val)
			dd_buf_append(&b, val, strlen(val));
		else
			dd_buf_append(&b, m, (size_t)(close + 1 - m));
		p = close + 1;
	}
	return dd_buf_take(&b);
}

static int get_job_document(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *id = dd__str(in, "jobId");
	struct job_read d;
	if (read_job(c, id, &d))
		return c->err;
	*out = json_object();
	if (d.document) {
		json_t *params = json_object_get(d.job, "documentParameters");
		if (params && !dd__bool(in, "beforeSubstitution", false)) {
			char *s = substitute(d.document, params);
			json_object_set_new(*out, "document", json_string(s ? s : d.document));
			free(s);
		} else {
			json_object_set_new(*out, "document", json_string(d.document));
		}
	}
	job_read_free(&d);
	return 0;
}

/* One page of a Jobs listing. Every one of them pages with nextToken and maxResults (1 to
 * 250, 250 when absent); the store listing is asked for one row more than the page, which
 * dd__page_take counts as the sign of a next page. */
struct jobs_page {
	struct dd__page pg;
	struct dd_ctx *c;
	bool for_thing; /* executions of one thing: keyed by job id, not thing name */
	char after[256]; /* the last key of the previous page, "" for the first */
};

/* Reads the page parameters of in into p; 0, or fails c with InvalidRequestException. */
static int page_open(struct dd_ctx *c, json_t *in, struct jobs_page *p)
{
	*p = (struct jobs_page){ .c = c };
	return dd__page(c, in, "nextToken", "maxResults", 250, 250, p->after, sizeof p->after, &p->pg.size);
}

/* Starts p's items array; returns how many rows to ask the store for. */
static int page_rows(struct jobs_page *p)
{
	dd__page_start(&p->pg, json_array(), p->pg.size);
	return p->pg.size + 1;
}

/* Replies {member: items} with the next token, or fails c when rc is an error. */
static int page_reply(struct jobs_page *p, int rc, const char *member, json_t **out)
{
	return dd__page_reply(p->c, &p->pg, rc, member, "nextToken", out);
}

static int job_item(void *ud, const struct dd_store_jobs_row *r)
{
	struct jobs_page *jp = ud;
	if (!dd__page_take(&jp->pg, r->job_id))
		return 0;
	json_t *o = json_pack("{s:o, s:s, s:s, s:s, s:o, s:o, s:b}", "jobArn", dd__arn(jp->c, "job/%s", r->job_id), "jobId",
			      r->job_id, "targetSelection", r->target_selection, "status",
			      dd_jobs_status_at(r->status, r->start_ms, jp->c->now_ms), "createdAt", dd_json_time(r->created),
			      "lastUpdatedAt", dd_json_time(r->updated), "isConcurrent", false);
	if (!o)
		return DD_ENOMEM;
	if (r->group_id)
		json_object_set_new(o, "thingGroupId", json_string(r->group_id));
	if (r->completed)
		json_object_set_new(o, "completedAt", dd_json_time(r->completed));
	return json_array_append_new(jp->pg.arr, o) ? DD_ENOMEM : 0;
}

static int list_jobs(struct dd_ctx *c, json_t *in, json_t **out)
{
	struct jobs_page p;
	if (page_open(c, in, &p))
		return c->err;
	struct dd_store_jobs_filter f = {
		.status = dd__str(in, "status"),
		.target_selection = dd__str(in, "targetSelection"),
		.group_name = dd__str(in, "thingGroupName"),
		.group_id = dd__str(in, "thingGroupId"),
		.namespace_id = dd__str(in, "namespaceId"),
		.now_ms = c->now_ms,
	};
	int rc = dd_store_jobs_list(c->db, c->account_region, &f, p.after, page_rows(&p), job_item, &p);
	return page_reply(&p, rc, "jobs", out);
}

static int update_job(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *id = dd__str(in, "jobId");
	*out = NULL;
	int64_t start_ms;
	if (check_configs(c, in, &start_ms))
		return c->err;
	if (dd_db_begin_write(c->db))
		return dd__db_fail(c);
	struct job_read d;
	if (read_job(c, id, &d))
		return c->err;
	if (strcmp(d.status, "IN_PROGRESS") != 0 && strcmp(d.status, "SCHEDULED") != 0) {
		char status[32];
		snprintf(status, sizeof status, "%s", d.status);
		job_read_free(&d);
		dd_db_rollback(c->db);
		return dd_fail(c, DD_EINVAL, "InvalidRequestException",
			       "Job %s is %s: only a job IN_PROGRESS or SCHEDULED can be updated.", id, status);
	}
	json_t *cfg = json_object();
	for (size_t i = 0; i < NELEM(job_configs); i++) {
		json_t *v = json_object_get(d.job, job_configs[i]);
		if (v && json_object_size(v) + json_array_size(v) > 0)
			json_object_set(cfg, job_configs[i], v);
	}
	job_read_free(&d);
	for (size_t i = 0; i < NELEM(updatable); i++) {
		json_t *v = json_object_get(in, updatable[i]);
		if (v)
			json_object_set(cfg, updatable[i], v);
	}
	char *text = json_dumps(cfg, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(cfg);
	int rc = text ? dd_store_jobs_update(c->db, c->account_region, id, dd__str(in, "description"), text, NULL, c->now_ms)
		      : DD_ENOMEM;
	free(text);
	if (rc || dd_db_commit(c->db))
		return dd__db_fail(c);
	return 0;
}

/* Commits the open write and answers with the job's reference as stored (its ARN, id and
 * description): the reply of CancelJob and AssociateTargetsWithJob. */
static int commit_job_ref(struct dd_ctx *c, const char *id, json_t **out)
{
	if (dd_db_commit(c->db))
		return dd__db_fail(c);
	struct job_read d;
	if (read_job(c, id, &d))
		return c->err;
	*out = job_ref(c, id, d.description);
	job_read_free(&d);
	return 0;
}

static int cancel_job(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *id = dd__str(in, "jobId");
	char msg[512] = "";
	if (dd_db_begin_write(c->db))
		return dd__db_fail(c);
	int rc = dd_jobs_cancel(c->db, c->account_region, id, dd__str(in, "reasonCode"), dd__str(in, "comment"),
				dd__bool(in, "force", false), c->now_ms, msg, sizeof msg);
	if (rc)
		return rule_fail(c, rc, msg);
	return commit_job_ref(c, id, out);
}

static int delete_job(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *id = dd__str(in, "jobId");
	char msg[512] = "", arn[800];
	*out = NULL;
	dd__arn_buf(c, arn, sizeof arn, "job/%s", id);
	if (dd_db_begin_write(c->db))
		return dd__db_fail(c);
	int rc = dd_jobs_delete(c->db, c->account_region, id, dd__bool(in, "force", false), msg, sizeof msg);
	if (rc)
		return rule_fail(c, rc, msg);
	if (dd_store_tags_delete_all(c->db, c->account_region, arn) || dd_db_commit(c->db))
		return dd__db_fail(c);
	return 0;
}

static int associate_targets_with_job(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *id = dd__str(in, "jobId");
	struct dd_jobs_target *targets;
	size_t n;
	if (parse_targets(c, json_object_get(in, "targets"), &targets, &n))
		return c->err;
	char msg[512] = "";
	if (dd_db_begin_write(c->db)) {
		free(targets);
		return dd__db_fail(c);
	}
	int rc = dd_jobs_associate(c->db, c->account_region, id, targets, n, c->now_ms, msg, sizeof msg);
	free(targets);
	if (rc)
		return rule_fail(c, rc, msg);
	return commit_job_ref(c, id, out);
}

/* ---- executions ---- */

static json_t *exec_summary(const struct dd_store_jobs_exec_row *r)
{
	json_t *o = json_pack("{s:s, s:o, s:o, s:I, s:i}", "status", r->status, "queuedAt", dd_json_time(r->queued),
			      "lastUpdatedAt", dd_json_time(r->updated), "executionNumber", (json_int_t)r->execution_number,
			      "retryAttempt", 0);
	if (o && r->started)
		json_object_set_new(o, "startedAt", dd_json_time(r->started));
	return o;
}

static int exec_item(void *ud, const struct dd_store_jobs_exec_row *r)
{
	struct jobs_page *ep = ud;
	if (!dd__page_take(&ep->pg, ep->for_thing ? r->job_id : r->thing_name))
		return 0;
	json_t *o = ep->for_thing
		? json_pack("{s:s, s:o}", "jobId", r->job_id, "jobExecutionSummary", exec_summary(r))
		: json_pack("{s:o, s:o}", "thingArn", dd__arn(ep->c, "thing/%s", r->thing_name), "jobExecutionSummary",
			    exec_summary(r));
	return !o || json_array_append_new(ep->pg.arr, o) ? DD_ENOMEM : 0;
}

static int noop_job(void *ud, const struct dd_store_jobs_row *r)
{
	(void)ud;
	(void)r;
	return 0;
}

static int list_job_executions_for_job(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *id = dd__str(in, "jobId");
	struct jobs_page p;
	if (page_open(c, in, &p))
		return c->err;
	int rc = dd_store_jobs_get(c->db, c->account_region, id, noop_job, NULL);
	if (rc == DD_ENOTFOUND)
		return job_missing(c, id);
	if (rc)
		return dd__db_fail(c);
	rc = dd_store_jobs_exec_list_job(c->db, c->account_region, id, dd__str(in, "status"), p.after, page_rows(&p),
					 exec_item, &p);
	return page_reply(&p, rc, "executionSummaries", out);
}

static int list_job_executions_for_thing(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *thing = dd__str(in, "thingName");
	struct jobs_page p;
	if (page_open(c, in, &p))
		return c->err;
	if (!dd__thing_exists(c, thing))
		return dd_fail(c, DD_ENOTFOUND, "ResourceNotFoundException", "Thing %s cannot be found.", thing);
	p.for_thing = true;
	int rc = dd_store_jobs_exec_list_thing(c->db, c->account_region, thing, dd__str(in, "status"),
					       dd__str(in, "namespaceId"), dd__str(in, "jobId"), p.after, page_rows(&p),
					       exec_item, &p);
	return page_reply(&p, rc, "executionSummaries", out);
}

struct exec_read {
	struct dd_ctx *c;
	json_t *execution;
	int64_t number;
};

static int exec_read_row(void *ud, const struct dd_store_jobs_exec_row *r)
{
	struct exec_read *e = ud;
	json_t *details = json_loads(r->status_details, 0, NULL);
	json_t *sd = json_object();
	if (json_object_size(details))
		json_object_set(sd, "detailsMap", details);
	json_decref(details);
	json_t *o = json_pack("{s:s, s:s, s:b, s:o, s:o, s:o, s:o, s:I, s:I}", "jobId", r->job_id, "status", r->status,
			      "forceCanceled", r->force_canceled, "statusDetails", sd, "thingArn",
			      dd__arn(e->c, "thing/%s", r->thing_name), "queuedAt", dd_json_time(r->queued), "lastUpdatedAt",
			      dd_json_time(r->updated), "executionNumber", (json_int_t)r->execution_number, "versionNumber",
			      (json_int_t)r->version);
	if (!o)
		return DD_ENOMEM;
	if (r->started)
		json_object_set_new(o, "startedAt", dd_json_time(r->started));
	e->execution = o;
	e->number = r->execution_number;
	return 0;
}

static int describe_job_execution(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *id = dd__str(in, "jobId"), *thing = dd__str(in, "thingName");
	struct exec_read e = { .c = c };
	int rc = dd_store_jobs_exec_get(c->db, c->account_region, id, thing, exec_read_row, &e);
	int64_t want = dd__int(in, "executionNumber", -1);
	if (!rc && want >= 0 && want != e.number)
		rc = DD_ENOTFOUND;
	if (rc == DD_ENOTFOUND) {
		json_decref(e.execution);
		if (want >= 0)
			return dd_fail(c, rc, "ResourceNotFoundException", "Job execution number %lld of job %s does not exist for thing %s.",
				       (long long)want, id, thing);
		return dd_fail(c, rc, "ResourceNotFoundException", "No job execution of job %s exists for thing %s.", id, thing);
	}
	if (rc) {
		json_decref(e.execution);
		return rc == DD_ENOMEM ? dd_fail(c, rc, "InternalFailureException", "out of memory") : dd__db_fail(c);
	}
	*out = json_pack("{s:o}", "execution", e.execution);
	return 0;
}

static int cancel_job_execution(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *id = dd__str(in, "jobId"), *thing = dd__str(in, "thingName");
	*out = NULL;
	json_t *details = json_object_get(in, "statusDetails");
	char *text = details ? json_dumps(details, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	if (details && !text)
		return dd_fail(c, DD_ENOMEM, "InternalFailureException", "out of memory");
	char msg[512] = "";
	bool version_conflict = false;
	if (dd_db_begin_write(c->db)) {
		free(text);
		return dd__db_fail(c);
	}
	int rc = dd_jobs_exec_cancel(c->db, c->account_region, id, thing, dd__int(in, "expectedVersion", -1),
				     dd__bool(in, "force", false), text, c->now_ms, &version_conflict, msg, sizeof msg);
	free(text);
	if (rc && version_conflict) {
		dd_db_rollback(c->db);
		return dd_fail(c, rc, "VersionConflictException", "%s", msg);
	}
	if (rc)
		return rule_fail(c, rc, msg);
	if (dd_db_commit(c->db))
		return dd__db_fail(c);
	return 0;
}

static int delete_job_execution(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *id = dd__str(in, "jobId"), *thing = dd__str(in, "thingName");
	*out = NULL;
	char msg[512] = "";
	if (dd_db_begin_write(c->db))
		return dd__db_fail(c);
	int rc = dd_jobs_exec_delete(c->db, c->account_region, id, thing, dd__int(in, "executionNumber", -1),
				     dd__bool(in, "force", false), c->now_ms, msg, sizeof msg);
	if (rc)
		return rule_fail(c, rc, msg);
	if (dd_db_commit(c->db))
		return dd__db_fail(c);
	return 0;
}

/* ---- job templates ---- */

struct job_source {
	bool found;
	char *document, *document_source, *config;
};

static int job_source_row(void *ud, const struct dd_store_jobs_row *r)
{
	struct job_source *s = ud;
	s->found = true;
	s->document = dup_or_null(r->document);
	s->document_source = dup_or_null(r->document_source);
	s->config = strdup(r->config);
	return s->config ? 0 : DD_ENOMEM;
}

static int create_job_template(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *id = dd__str(in, "jobTemplateId"), *job_arn = dd__str(in, "jobArn");
	const char *doc = dd__str(in, "document"), *source = dd__str(in, "documentSource");
	if ((job_arn != NULL) + (doc != NULL) + (source != NULL) != 1)
		return dd_fail(c, DD_EINVAL, "InvalidRequestException",
			       "Exactly one of jobArn, document and documentSource is required.");
	if (doc && check_document(c, doc))
		return c->err;
	int64_t start_ms;
	if (check_configs(c, in, &start_ms))
		return c->err;
	struct job_source js = { 0 };
	json_t *cfg = NULL;
	if (job_arn) {
		const char *job_id;
		if (dd__name_from_arn(c, job_arn, "job", &job_id))
			return c->err;
		if (strncmp(job_arn, "arn:", 4) != 0)
			return dd_fail(c, DD_EINVAL, "InvalidRequestException", "jobArn %.700s is not a job ARN.", job_arn);
		int rc = dd_store_jobs_get(c->db, c->account_region, job_id, job_source_row, &js);
		if (rc == DD_ENOTFOUND)
			return dd_fail(c, rc, "ResourceNotFoundException", "Job %s cannot be found.", job_id);
		if (rc) {
			free(js.document);
			free(js.document_source);
			free(js.config);
			return dd__db_fail(c);
		}
		cfg = json_loads(js.config, 0, NULL);
		/* a template keeps no scheduling and no document parameters */
		json_object_del(cfg, "schedulingConfig");
		json_object_del(cfg, "documentParameters");
	}
	if (!json_is_object(cfg)) {
		json_decref(cfg);
		cfg = json_object();
	}
	for (size_t i = 0; i < NELEM(template_configs); i++) {
		json_t *v = json_object_get(in, template_configs[i]);
		if (v)
			json_object_set(cfg, template_configs[i], v);
	}
	char *config = json_dumps(cfg, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(cfg);
	struct dd_store_jobs_template_row row = {
		.template_id = id,
		.description = dd__str(in, "description"),
		.document = job_arn ? js.document : doc,
		.document_source = job_arn ? js.document_source : source,
		.config = config,
		.created = c->now_ms,
	};
	char arn[800];
	dd__arn_buf(c, arn, sizeof arn, "jobtemplate/%s", id);
	int rc = 0;
	if (!config) {
		rc = dd_fail(c, DD_ENOMEM, "InternalFailureException", "out of memory");
		goto out;
	}
	if (dd_db_begin_write(c->db)) {
		rc = dd__db_fail(c);
		goto out;
	}
	rc = dd_store_jobs_template_insert(c->db, c->account_region, &row);
	if (rc == DD_EEXIST) {
		dd_db_rollback(c->db);
		rc = dd_fail(c, rc, "ConflictException", "Job template %s already exists.", id);
		goto out;
	}
	if (rc || dd__tags_put(c, arn, json_object_get(in, "tags")) || dd_db_commit(c->db)) {
		rc = dd__db_fail(c);
		goto out;
	}
	*out = json_pack("{s:s, s:s}", "jobTemplateArn", arn, "jobTemplateId", id);
out:
	free(config);
	free(js.document);
	free(js.document_source);
	free(js.config);
	return rc;
}

static int describe_job_template(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *id = dd__str(in, "jobTemplateId");
	struct template t;
	memset(&t, 0, sizeof t);
	int rc = dd_store_jobs_template_get(c->db, c->account_region, id, template_row, &t);
	if (rc == DD_ENOTFOUND)
		return dd_fail(c, rc, "ResourceNotFoundException", "Job template %s cannot be found.", id);
	if (rc) {
		template_free(&t);
		return dd__db_fail(c);
	}
	json_t *o = json_pack("{s:o, s:s, s:o, s:o, s:o, s:o}", "jobTemplateArn", dd__arn(c, "jobtemplate/%s", id),
			      "jobTemplateId", id, "createdAt", dd_json_time(t.created), "presignedUrlConfig", json_object(),
			      "jobExecutionsRolloutConfig", json_object(), "timeoutConfig", json_object());
	if (t.description)
		json_object_set_new(o, "description", json_string(t.description));
	if (t.document)
		json_object_set_new(o, "document", json_string(t.document));
	if (t.document_source)
		json_object_set_new(o, "documentSource", json_string(t.document_source));
	json_t *cfg = json_loads(t.config, 0, NULL);
	const char *k;
	json_t *v;
	json_object_foreach(cfg, k, v)
		json_object_set(o, k, v);
	json_decref(cfg);
	template_free(&t);
	*out = o;
	return 0;
}

static int template_item(void *ud, const struct dd_store_jobs_template_row *r)
{
	struct jobs_page *tp = ud;
	if (!dd__page_take(&tp->pg, r->template_id))
		return 0;
	json_t *o = json_pack("{s:o, s:s, s:o}", "jobTemplateArn", dd__arn(tp->c, "jobtemplate/%s", r->template_id),
			      "jobTemplateId", r->template_id, "createdAt", dd_json_time(r->created));
	if (o && r->description)
		json_object_set_new(o, "description", json_string(r->description));
	return !o || json_array_append_new(tp->pg.arr, o) ? DD_ENOMEM : 0;
}

static int list_job_templates(struct dd_ctx *c, json_t *in, json_t **out)
{
	struct jobs_page p;
	if (page_open(c, in, &p))
		return c->err;
	int rc = dd_store_jobs_template_list(c->db, c->account_region, p.after, page_rows(&p), template_item, &p);
	return page_reply(&p, rc, "jobTemplates", out);
}

static int delete_job_template(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *id = dd__str(in, "jobTemplateId");
	char arn[800];
	*out = NULL;
	dd__arn_buf(c, arn, sizeof arn, "jobtemplate/%s", id);
	if (dd_db_begin_write(c->db))
		return dd__db_fail(c);
	int rc = dd_store_jobs_template_delete(c->db, c->account_region, id);
	if (rc == DD_ENOTFOUND) {
		dd_db_rollback(c->db);
		return dd_fail(c, rc, "ResourceNotFoundException", "Job template %s cannot be found.", id);
	}
	if (rc || dd_store_tags_delete_all(c->db, c->account_region, arn) || dd_db_commit(c->db))
		return dd__db_fail(c);
	return 0;
}

/* AWS-managed templates: this server has none. */
static int list_managed_job_templates(struct dd_ctx *c, json_t *in, json_t **out)
{
	struct jobs_page p;
	if (page_open(c, in, &p))
		return c->err;
	*out = json_pack("{s:[]}", "managedJobTemplates");
	return 0;
}

static int describe_managed_job_template(struct dd_ctx *c, json_t *in, json_t **out)
{
	return dd_fail(c, DD_ENOTFOUND, "ResourceNotFoundException",
		       "Managed job template %s cannot be found: this server has no AWS-managed job templates.",
		       dd__str(in, "templateName"));
}

const struct dd_handler dd_iot_jobs_handlers[] = {
	{ "iot", "CreateJob", create_job }, /* stored only */
	{ "iot", "DescribeJob", describe_job }, /* stored only */
	{ "iot", "GetJobDocument", get_job_document }, /* stored only */
	{ "iot", "ListJobs", list_jobs }, /* stored only */
	{ "iot", "UpdateJob", update_job }, /* stored only */
	{ "iot", "CancelJob", cancel_job }, /* stored only */
	{ "iot", "DeleteJob", delete_job }, /* stored only */
	{ "iot", "AssociateTargetsWithJob", associate_targets_with_job }, /* stored only */
	{ "iot", "ListJobExecutionsForJob", list_job_executions_for_job }, /* stored only */
	{ "iot", "ListJobExecutionsForThing", list_job_executions_for_thing }, /* stored only */
	{ "iot", "DescribeJobExecution", describe_job_execution }, /* stored only */
	{ "iot", "CancelJobExecution", cancel_job_execution }, /* stored only */
	{ "iot", "DeleteJobExecution", delete_job_execution }, /* stored only */
	{ "iot", "CreateJobTemplate", create_job_template }, /* stored only */
	{ "iot", "DescribeJobTemplate", describe_job_template }, /* stored only */
	{ "iot", "ListJobTemplates", list_job_templates }, /* stored only */
	{ "iot", "DeleteJobTemplate", delete_job_template }, /* stored only */
	{ "iot", "ListManagedJobTemplates", list_managed_job_templates },
	{ "iot", "DescribeManagedJobTemplate", describe_managed_job_template },
	{ NULL, NULL, NULL },
};

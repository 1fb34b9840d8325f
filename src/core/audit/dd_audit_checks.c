/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The 17 Device Defender audit checks: one table row each (names, severity, resource
 * type, reason codes, mitigation types, the IAM actions the audit role needs, the
 * threshold setting) and one function each. A check only reads, through the task's
 * snapshot connection (run->snap) with the store's read functions, and streams its rows:
 * certificates through dd_certs_foreach, IoT policies one row at a time (each default
 * version compiled once), connection events ordered by certificate or client id so that
 * only one group of connections is held in memory at a time, role aliases ordered by role
 * so that each role's compiled IAM policies are built once per check. Every noncompliant
 * resource is reported with dd_audit_checks_emit (to the engine's run->emit); nothing
 * here writes to the store or calls the engine.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/audit/dd_audit_checks.h"
#include "dd/certs.h"
#include "dd/cognito.h"
#include "dd/iam.h"
#include "dd/keys.h"
#include "dd/policy.h"
#include "store/dd_store_audit.h"
#include "store/dd_store_audit_reads.h"

#define DAY_MS (86400LL * 1000LL)
#define CA_EXPIRING_DAYS 30
#define USAGE_WINDOW_MS (365LL * DAY_MS)
/* At most this many related resources per connection finding (most recent first). */
#define MAX_RELATED 250

/* ---- helpers ---------------------------------------------------------------------- */

static int fail(struct dd_audit_run *r, int rc, const char *fmt, ...) DD_PRINTF(3, 4);
static int fail(struct dd_audit_run *r, int rc, const char *fmt, ...)
{
	if (!r->error_code[0])
		snprintf(r->error_code, sizeof r->error_code, "%s", "AUDIT_CHECK_FAILED");
	if (!r->message[0]) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(r->message, sizeof r->message, fmt, ap);
		va_end(ap);
	}
	return rc ? rc : DD_EIO;
}

static int fail_db(struct dd_audit_run *r)
{
	return fail(r, DD_EIO, "The check could not read its data: %s.", dd_strerror(DD_EIO));
}

/* The emitter stopped us (cancel or store failure): keep its code. */
static int emit_failed(struct dd_audit_run *r, int rc)
{
	return fail(r, rc, "Findings could not be recorded: %s.", dd_strerror(rc));
}

/* {"resourceType": type, "resourceIdentifier": {key: value}} */
static json_t *resource1(const char *type, const char *key, const char *value)
{
	return json_pack("{s:s, s:{s:s}}", "resourceType", type, "resourceIdentifier", key, value);
}

/* "YYYY-MM-DDTHH:MM:SSZ" of a time in ms (civil date from days: no libc time zone
 * machinery on the per-certificate path). */
static void iso_date(int64_t ms, char *buf, size_t size)
{
	int64_t secs = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
	int64_t days = secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
	int64_t sod = secs - days * 86400;
	int64_t z = days + 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t y = yoe + era * 400;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	int64_t d = doy - (153 * mp + 2) / 5 + 1;
	int64_t m = mp < 10 ? mp + 3 : mp - 9;
	if (m <= 2)
		y++;
	char tmp[128];
	size_t n;
	if (y >= 0 && y <= 9999) {
		/* the common case by hand (one per certificate finding): what the format below
		 * writes for a four-digit year */
		int f[6] = { (int)y, (int)m, (int)d, (int)(sod / 3600), (int)(sod / 60 % 60), (int)(sod % 60) };
		char *p = tmp;
		*p++ = (char)('0' + f[0] / 1000);
		*p++ = (char)('0' + f[0] / 100 % 10);
		*p++ = (char)('0' + f[0] / 10 % 10);
		*p++ = (char)('0' + f[0] % 10);
		static const char sep[6] = { 0, '-', '-', 'T', ':', ':' };
		for (int i = 1; i < 6; i++) {
			*p++ = sep[i];
			*p++ = (char)('0' + f[i] / 10);
			*p++ = (char)('0' + f[i] % 10);
		}
		*p++ = 'Z';
		*p = '\0';
		n = (size_t)(p - tmp);
	} else {
		snprintf(tmp, sizeof tmp, "%04lld-%02d-%02dT%02d:%02d:%02dZ", (long long)y, (int)m, (int)d, (int)(sod / 3600),
			 (int)(sod / 60 % 60), (int)(sod % 60));
		n = strlen(tmp);
	}
	if (size == 0)
		return;
	if (n >= size)
		n = size - 1;
	memcpy(buf, tmp, n);
	buf[n] = '\0';
}

/* The check's threshold in days from run->config, or its default. Values outside the
 * check's range were rejected by UpdateAccountAuditConfiguration; a stored one that is
 * still invalid falls back to the default (logged). */
static int threshold_days(const struct dd_audit_run *r)
{
	const struct dd_audit_check *c = r->check;
	json_t *v = json_object_get(r->config, c->config_key);
	int64_t days = c->config_default;
	if (json_is_string(v)) {
		if (dd_parse_int64(json_string_value(v), c->config_min, c->config_max, &days) != 0) {
			dd_log_warn("audit %s: %s %.40s is not an integer in [%d, %d]; using %d", c->name,
				    c->config_key, json_string_value(v), c->config_min, c->config_max,
				    c->config_default);
			days = c->config_default;
		}
	} else if (json_is_integer(v)) {
		days = json_integer_value(v);
		if (days < c->config_min || days > c->config_max)
			days = c->config_default;
	}
	return (int)days;
}

static bool cert_in_scope(const struct dd_cert_info *ci)
{
	return strcmp(ci->status, "ACTIVE") == 0 || strcmp(ci->status, "PENDING_TRANSFER") == 0;
}

static const char *cert_resource_type(enum dd_cert_kind kind)
{
	return kind == DD_CERT_CA ? "CA_CERTIFICATE" : "DEVICE_CERTIFICATE";
}

static const char *cert_id_key(enum dd_cert_kind kind)
{
	return kind == DD_CERT_CA ? "caCertificateId" : "deviceCertificateId";
}

/* ---- certificate checks ------------------------------------------------------------ */

struct cert_walk;

/* A certificate check: which certificates it reads and what it does with each one in
 * its scope. Checks of the same kind share one pass when run together
 * (dd_audit_checks_run). */
struct cert_spec {
	dd_audit_check_fn fn;          /* the check table's function of this check */
	enum dd_cert_kind kind;
	bool active_only;              /* only ACTIVE certificates (not PENDING_TRANSFER) */
	bool threshold;                /* days from the check's configuration */
	int fixed_days;                /* else these */
	int (*visit)(struct cert_walk *w, const struct dd_cert_info *ci);
	void (*begin)(struct cert_walk *w);
	void (*end)(struct cert_walk *w);
};

struct cert_walk {
	struct dd_audit_run *r;
	const struct cert_spec *spec;
	int days;
	int rc;            /* the walk's failure: it visits nothing more */
	/* INTERMEDIATE_CA_...: the last revoked ancestor looked up, its related text */
	char anc_id[65];
	char *anc_related;
	/* key quality: keys no loaded Debian weak-key list covers */
	int64_t debian_unchecked;
	char unchecked_sizes[160];
};

static int emit_cert(struct dd_audit_run *r, const struct dd_cert_info *ci, const char *related_text, const char *code,
		     const char *fmt, ...) DD_PRINTF(5, 6);

static void walk_init(struct cert_walk *w, struct dd_audit_run *r, const struct cert_spec *sp)
{
	memset(w, 0, sizeof *w);
	w->r = r;
	w->spec = sp;
	w->days = sp->threshold ? threshold_days(r) : sp->fixed_days;
	if (sp->begin)
		sp->begin(w);
}

/* Ends a walk: its failure (or the pass's, rc) becomes the check's. */
static int walk_end(struct cert_walk *w, int rc)
{
	free(w->anc_related);
	w->anc_related = NULL;
	if (!w->rc && rc)
		w->rc = rc;
	if (w->rc) {
		if (!w->r->error_code[0])
			return fail(w->r, w->rc, "The certificates could not be read: %s.", dd_strerror(w->rc));
		return w->rc;
	}
	if (w->spec->end)
		w->spec->end(w);
	return 0;
}

static void walk_visit(struct cert_walk *w, const struct dd_cert_info *ci)
{
	if (w->rc)
		return;
	if (w->spec->active_only ? strcmp(ci->status, "ACTIVE") != 0 : !cert_in_scope(ci))
		return;
	w->r->total++;
	w->rc = w->spec->visit(w, ci);
}

/* One pass over the certificates of a kind for any number of walks. */
struct cert_pass {
	struct cert_walk *w;
	size_t n;
};

static int pass_visit(const struct dd_cert_info *ci, void *ud)
{
	struct cert_pass *p = ud;
	bool live = false;
	for (size_t i = 0; i < p->n; i++) {
		walk_visit(&p->w[i], ci);
		live = live || !p->w[i].rc;
	}
	return live ? 0 : p->w[0].rc; /* stop once every walk failed */
}

static int cert_pass_run(struct cert_pass *p, struct dd_audit_run *r, enum dd_cert_kind kind)
{
	if (kind == DD_CERT_DEVICE)
		return dd_certs_foreach_range(r->snap, r->account_region, kind, r->range_lo, r->range_hi, r->task_start_ms,
					      pass_visit, p);
	return dd_certs_foreach(r->snap, r->account_region, kind, r->task_start_ms, pass_visit, p);
}

static int cert_check(struct dd_audit_run *r, const struct cert_spec *sp)
{
	struct cert_walk w;
	walk_init(&w, r, sp);
	struct cert_pass p = { .w = &w, .n = 1 };
	int rc = cert_pass_run(&p, r, sp->kind);
	return walk_end(&w, rc == w.rc ? 0 : rc);
}

static int visit_expiring(struct cert_walk *w, const struct dd_cert_info *ci)
{
	struct dd_audit_run *r = w->r;
	if (ci->not_after_ms - r->task_start_ms > (int64_t)w->days * DAY_MS)
		return 0;
	char date[32];
	iso_date(ci->not_after_ms, date, sizeof date);
	int rc;
	if (ci->not_after_ms <= r->task_start_ms) {
		rc = emit_cert(r, ci, NULL, "CERTIFICATE_PAST_EXPIRATION", "Certificate expired on %s.", date);
	} else {
		long long left = (ci->not_after_ms - r->task_start_ms + DAY_MS - 1) / DAY_MS;
		rc = emit_cert(r, ci, NULL, "CERTIFICATE_APPROACHING_EXPIRATION",
			       "Certificate expires on %s, in %lld day%s (threshold %d days).", date, left,
			       left == 1 ? "" : "s", w->days);
	}
	return rc ? emit_failed(r, rc) : 0;
}

/* Decision (AUDIT.md): age counts from notBefore, not from registration. */
static int visit_age(struct cert_walk *w, const struct dd_cert_info *ci)
{
	struct dd_audit_run *r = w->r;
	int64_t age = r->task_start_ms - ci->not_before_ms;
	if (age <= (int64_t)w->days * DAY_MS)
		return 0;
	char date[32];
	iso_date(ci->not_before_ms, date, sizeof date);
	int rc = emit_cert(r, ci, NULL, "CERTIFICATE_PAST_AGE_THRESHOLD",
			   "Certificate is %lld days old (valid since %s), past the age threshold of %d days.",
			   (long long)(age / DAY_MS), date, w->days);
	return rc ? emit_failed(r, rc) : 0;
}

/* Remembers a key size or curve (e.g. "RSA-3072") in the short list of sizes no loaded
 * blocklist covers, for the check's message. */
static void note_unchecked(struct cert_walk *w, const struct dd_cert_info *ci)
{
	char label[48];
	if (strcmp(ci->key_type, "EC") == 0)
		snprintf(label, sizeof label, "EC-%s", ci->curve);
	else
		snprintf(label, sizeof label, "%s-%d", ci->key_type, ci->key_bits);
	w->debian_unchecked++;
	size_t ll = strlen(label), have = strlen(w->unchecked_sizes);
	for (const char *p = w->unchecked_sizes; (p = strstr(p, label)) != NULL; p += ll)
		if ((p == w->unchecked_sizes || p[-1] == ' ') && (p[ll] == ',' || p[ll] == '\0'))
			return;
	if (have + ll + 3 < sizeof w->unchecked_sizes)
		snprintf(w->unchecked_sizes + have, sizeof w->unchecked_sizes - have, "%s%s", have ? ", " : "", label);
}

static int visit_key_quality(struct cert_walk *w, const struct dd_cert_info *ci)
{
	struct dd_audit_run *r = w->r;
	int rc = 0;
	/* the Debian verdict with the lists loaded now (an import since registration counts);
	 * a stored VULNERABLE stands */
	enum dd_keyq debian = ci->debian;
	if (debian != DD_KEYQ_VULNERABLE && r->svc && r->svc->blocklists)
		debian = dd_keys_blocklists_check_key(r->svc->blocklists, ci->key_type, ci->key_bits, ci->curve,
						 ci->key_sha256, ci->key_sha1_80);
	if (debian == DD_KEYQ_NOT_CHECKED && (strcmp(ci->key_type, "RSA") == 0 || strcmp(ci->key_type, "EC") == 0))
		note_unchecked(w, ci);
	if (ci->roca == DD_KEYQ_VULNERABLE)
		rc = emit_cert(r, ci, NULL, "CERTIFICATE_KEY_VULNERABILITY_CVE-2017-15361",
			       "Certificate key (%s %d bits) is vulnerable to CVE-2017-15361 (ROCA: weak RSA"
			       " key generation of the Infineon RSA library).", ci->key_type, ci->key_bits);
	if (!rc && debian == DD_KEYQ_VULNERABLE)
		rc = emit_cert(r, ci, NULL, "CERTIFICATE_KEY_VULNERABILITY_CVE-2008-0166",
			       "Certificate key (%s %d bits) is vulnerable to CVE-2008-0166 (predictable"
			       " random numbers of Debian's OpenSSL 0.9.8c-1 to 0.9.8g-8).", ci->key_type, ci->key_bits);
	return rc ? emit_failed(r, rc) : 0;
}

/* Both key-quality checks. A key whose size or curve no loaded Debian weak-key list
 * covers (completely: the shipped samples can only prove a key weak) was not checked for
 * CVE-2008-0166; the check says so in its message and in the log rather than letting
 * those keys pass as clean (docs/KEYS.md). */
static void key_quality_begin(struct cert_walk *w)
{
	if (w->r->svc && dd_keys_blocklists_refresh(w->r->svc->blocklists) < 0)
		dd_log_warn("blocklists: reload failed; keeping the lists loaded before");
}

static void key_quality_end(struct cert_walk *w)
{
	struct dd_audit_run *r = w->r;
	if (!w->debian_unchecked)
		return;
	snprintf(r->message, sizeof r->message,
		 "%lld of %lld certificates were NOT checked for CVE-2008-0166 (Debian weak keys): no complete"
		 " blocklist is loaded for %s. Import the lists for these key sizes (docs/KEYS.md);"
		 " until then these keys are not known to be clean.",
		 (long long)w->debian_unchecked, (long long)r->total, w->unchecked_sizes);
	dd_log_warn("audit: task %s account %s %s: %lld of %lld certificate keys not checked for CVE-2008-0166"
		    " (no complete blocklist for %s)", r->task_id, r->account, r->check->name,
		    (long long)w->debian_unchecked, (long long)r->total, w->unchecked_sizes);
}

static int visit_revoked(struct cert_walk *w, const struct dd_cert_info *ci)
{
	struct dd_audit_run *r = w->r;
	if (!ci->revoked)
		return 0;
	int rc = emit_cert(r, ci, NULL, "CERTIFICATE_REVOKED_BY_ISSUER",
			   "%s is on the certificate revocation list of its issuer%s%s%s but is still %s.",
			   ci->kind == DD_CERT_CA ? "CA certificate" : "Certificate",
			   ci->revoked_by[0] ? " (CA certificate " : "", ci->revoked_by, ci->revoked_by[0] ? ")" : "",
			   ci->status);
	return rc ? emit_failed(r, rc) : 0;
}

static int issuer_ident_fn(const char *subject, const char *serial, void *ud)
{
	json_t *ident = ud;
	json_object_set_new(ident, "issuerCertificateSubject", json_string(subject));
	json_object_set_new(ident, "issuerCertificateSerialNumber", json_string(serial));
	return 0;
}

/* The related ISSUER_CERTIFICATE (subject, id and serial of the CA certificate) as text.
 * The previous answer is kept: device certificates of one intermediate come in runs. */
static const char *issuer_related(struct cert_walk *w, const char *ca_id)
{
	if (w->anc_related && strcmp(w->anc_id, ca_id) == 0)
		return w->anc_related;
	json_t *ident = json_object();
	int rc = dd_store_audit_reads_ca_ident(w->r->snap, w->r->account_region, ca_id, issuer_ident_fn, ident);
	if (rc && rc != DD_ENOTFOUND) {
		json_decref(ident);
		return NULL;
	}
	json_object_set_new(ident, "issuerId", json_string(ca_id));
	json_t *rel = json_pack("[{s:s, s:{s:o}}]", "resourceType", "ISSUER_CERTIFICATE", "resourceIdentifier",
				"issuerCertificateIdentifier", ident);
	free(w->anc_related);
	w->anc_related = rel ? json_dumps(rel, JSON_COMPACT) : NULL;
	json_decref(rel);
	snprintf(w->anc_id, sizeof w->anc_id, "%s", ca_id);
	return w->anc_related;
}

static int visit_intermediate(struct cert_walk *w, const struct dd_cert_info *ci)
{
	struct dd_audit_run *r = w->r;
	if (!ci->revoked_ancestor[0])
		return 0;
	const char *rel = issuer_related(w, ci->revoked_ancestor);
	if (!rel)
		return fail_db(r);
	int rc = emit_cert(r, ci, rel, "INTERMEDIATE_CA_REVOKED_BY_ISSUER",
			   "Intermediate CA certificate %s in the certificate's chain was revoked by its issuer.",
			   ci->revoked_ancestor);
	return rc ? emit_failed(r, rc) : 0;
}

static int check_device_cert_expiring(struct dd_audit_run *r);
static int check_ca_cert_expiring(struct dd_audit_run *r);
static int check_device_cert_age(struct dd_audit_run *r);
static int check_device_cert_key_quality(struct dd_audit_run *r);
static int check_ca_cert_key_quality(struct dd_audit_run *r);
static int check_revoked_device_cert(struct dd_audit_run *r);
static int check_revoked_ca_cert(struct dd_audit_run *r);
static int check_intermediate_ca_revoked(struct dd_audit_run *r);

static const struct cert_spec cert_specs[] = {
	{ check_device_cert_expiring, DD_CERT_DEVICE, false, true, 0, visit_expiring, NULL, NULL },
	{ check_ca_cert_expiring, DD_CERT_CA, false, false, CA_EXPIRING_DAYS, visit_expiring, NULL, NULL },
	{ check_device_cert_age, DD_CERT_DEVICE, false, true, 0, visit_age, NULL, NULL },
	{ check_device_cert_key_quality, DD_CERT_DEVICE, false, false, 0, visit_key_quality, key_quality_begin,
	  key_quality_end },
	{ check_ca_cert_key_quality, DD_CERT_CA, false, false, 0, visit_key_quality, key_quality_begin, key_quality_end },
	{ check_revoked_device_cert, DD_CERT_DEVICE, false, false, 0, visit_revoked, NULL, NULL },
	{ check_revoked_ca_cert, DD_CERT_CA, false, false, 0, visit_revoked, NULL, NULL },
	/* AUDIT.md: only ACTIVE device certificates whose chain holds a revoked intermediate. */
	{ check_intermediate_ca_revoked, DD_CERT_DEVICE, true, false, 0, visit_intermediate, NULL, NULL },
};
#define NCERT_SPECS (sizeof cert_specs / sizeof cert_specs[0])

static const struct cert_spec *cert_spec_of(dd_audit_check_fn fn)
{
	for (size_t i = 0; i < NCERT_SPECS; i++)
		if (cert_specs[i].fn == fn)
			return &cert_specs[i];
	return NULL;
}

static int check_device_cert_expiring(struct dd_audit_run *r) { return cert_check(r, &cert_specs[0]); }
static int check_ca_cert_expiring(struct dd_audit_run *r) { return cert_check(r, &cert_specs[1]); }
static int check_device_cert_age(struct dd_audit_run *r) { return cert_check(r, &cert_specs[2]); }
static int check_device_cert_key_quality(struct dd_audit_run *r) { return cert_check(r, &cert_specs[3]); }
static int check_ca_cert_key_quality(struct dd_audit_run *r) { return cert_check(r, &cert_specs[4]); }
static int check_revoked_device_cert(struct dd_audit_run *r) { return cert_check(r, &cert_specs[5]); }
static int check_revoked_ca_cert(struct dd_audit_run *r) { return cert_check(r, &cert_specs[6]); }
static int check_intermediate_ca_revoked(struct dd_audit_run *r) { return cert_check(r, &cert_specs[7]); }

/* ---- IoT policy checks ------------------------------------------------------------- */

typedef int (*policy_analysis_fn)(const struct dd_policy *, struct dd_policy_analysis *);

struct policy_walk {
	struct dd_audit_run *r;
	policy_analysis_fn analyze;
};

static int policy_visit(const char *name, int64_t ver, const char *doc, void *ud)
{
	struct policy_walk *pw = ud;
	struct dd_audit_run *r = pw->r;
	char version[24];
	snprintf(version, sizeof version, "%lld", (long long)ver);
	r->total++;
	struct dd_policy *pol = NULL;
	char err[DD_POLICY_ERRMSG_SIZE];
	int crc = dd_policy_compile(doc, strlen(doc), DD_POLICY_IOT, &pol, err, sizeof err);
	if (crc == DD_ENOMEM)
		return fail(r, crc, "Out of memory compiling policy %s.", name);
	if (crc) {
		/* Stored documents were validated on create; an old or damaged one is skipped. */
		dd_log_warn("audit %s: policy %s version %s does not compile: %s", r->check->name, name, version, err);
		return 0;
	}
	struct dd_policy_analysis a = { 0 };
	int arc = pw->analyze(pol, &a);
	dd_policy_free(pol);
	if (arc)
		return fail(r, arc, "Policy %s could not be analyzed: %s.", name, dd_strerror(arc));
	int rc = 0;
	for (size_t i = 0; !rc && a.verdict == DD_POLICY_NONCOMPLIANT && i < a.nreasons; i++) {
		json_t *res = json_pack("{s:s, s:{s:{s:s, s:s}}}", "resourceType", "IOT_POLICY", "resourceIdentifier",
					"policyVersionIdentifier", "policyName", name, "policyVersionId", version);
		int erc = dd_audit_checks_emit(r, res, NULL, a.reasons[i].code, "%s", a.reasons[i].message);
		if (erc)
			rc = emit_failed(r, erc);
	}
	dd_policy_analyze_clear(&a);
	return rc;
}

/* Runs analyze on the default version of every IoT policy of the account and reports
 * one finding per policy and reason code. */
static int policy_checks(struct dd_audit_run *r, policy_analysis_fn analyze)
{
	struct policy_walk pw = { .r = r, .analyze = analyze };
	int rc = dd_store_audit_reads_policies(r->snap, r->account_region, policy_visit, &pw);
	if (rc && !r->error_code[0])
		return fail_db(r);
	return rc;
}

static int check_iot_policy_permissive(struct dd_audit_run *r)
{
	return policy_checks(r, dd_policy_analyze_iot_permissive);
}

static int check_iot_policy_misconfig(struct dd_audit_run *r)
{
	return policy_checks(r, dd_policy_analyze_iot_misconfig);
}

/* ---- IAM roles (Cognito pools, role aliases) ---------------------------------------- */

/* A role's compiled inline and attached policies. */
struct role_pols {
	char *arn;
	struct dd_policy **v;
	size_t n;
	bool exists;
};

static void role_pols_clear(struct role_pols *p)
{
	for (size_t i = 0; i < p->n; i++)
		dd_policy_free(p->v[i]);
	free(p->v);
	free(p->arn);
	memset(p, 0, sizeof *p);
}

/* Loads and compiles the policies of role_arn into *p (cleared first). A role that does
 * not exist has no policies (it grants nothing). */
static int role_pols_load(struct dd_audit_run *r, const char *role_arn, struct role_pols *p)
{
	role_pols_clear(p);
	p->arn = strdup(role_arn);
	if (!p->arn)
		return fail(r, DD_ENOMEM, "Out of memory.");
	struct dd_iam_policy_docs docs = { 0 };
	int rc = dd_iam_role_policies(r->snap, r->account, role_arn, &docs);
	if (rc == DD_ENOTFOUND)
		return 0;
	if (rc)
		return fail(r, rc, "The policies of role %s could not be read: %s.", role_arn, dd_strerror(rc));
	p->exists = true;
	p->v = calloc(docs.n ? docs.n : 1, sizeof *p->v);
	if (!p->v) {
		dd_iam_policy_docs_clear(&docs);
		return fail(r, DD_ENOMEM, "Out of memory.");
	}
	for (size_t i = 0; i < docs.n; i++) {
		const char *doc = docs.items[i].document;
		char err[DD_POLICY_ERRMSG_SIZE];
		int crc = dd_policy_compile(doc, strlen(doc), DD_POLICY_IAM, &p->v[p->n], err, sizeof err);
		if (crc == DD_ENOMEM) {
			rc = fail(r, crc, "Out of memory compiling the policies of role %s.", role_arn);
			break;
		}
		if (crc) {
			dd_log_warn("audit %s: policy %s of role %s does not compile: %s", r->check->name,
				    docs.items[i].name ? docs.items[i].name : "?", role_arn, err);
			continue;
		}
		p->n++;
	}
	dd_iam_policy_docs_clear(&docs);
	return rc;
}

static json_t *iam_role_related(const char *role_arn)
{
	return json_pack("[{s:s, s:{s:s}}]", "resourceType", "IAM_ROLE", "resourceIdentifier", "iamRoleArn", role_arn);
}

/* Emits one finding per reason of a noncompliant analysis. resource is stolen. */
static int emit_analysis(struct dd_audit_run *r, const struct dd_policy_analysis *a, json_t *resource,
			 const char *role_arn)
{
	int rc = 0;
	for (size_t i = 0; !rc && a->verdict == DD_POLICY_NONCOMPLIANT && i < a->nreasons; i++) {
		rc = dd_audit_checks_emit(r, json_deep_copy(resource), iam_role_related(role_arn), a->reasons[i].code, "%s",
				    a->reasons[i].message);
		if (rc)
			rc = emit_failed(r, rc);
	}
	json_decref(resource);
	return rc;
}

/* ---- Cognito identity pool checks --------------------------------------------------- */

/* Compiled role policies by role ARN, built once per check (an account has few roles). */
struct role_cache {
	struct role_pols *v;
	size_t n;
};

static void role_cache_free(struct role_cache *c)
{
	for (size_t i = 0; i < c->n; i++)
		role_pols_clear(&c->v[i]);
	free(c->v);
	memset(c, 0, sizeof *c);
}

static int role_cache_get(struct dd_audit_run *r, struct role_cache *c, const char *role_arn,
			  const struct role_pols **out)
{
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->v[i].arn, role_arn) == 0) {
			*out = &c->v[i];
			return 0;
		}
	struct role_pols *nv = realloc(c->v, (c->n + 1) * sizeof *nv);
	if (!nv)
		return fail(r, DD_ENOMEM, "Out of memory.");
	c->v = nv;
	memset(&c->v[c->n], 0, sizeof c->v[c->n]);
	int rc = role_pols_load(r, role_arn, &c->v[c->n]);
	if (rc) {
		role_pols_clear(&c->v[c->n]);
		return rc;
	}
	*out = &c->v[c->n++];
	return 0;
}

/* Every identity pool of the audit's region with a role of the kind is examined
 * (POLICY.md Decision: not only the pools that connected in the last 31 days); the roles
 * are IAM's, global. */
static int cognito_checks(struct dd_audit_run *r, bool authenticated)
{
	struct dd_cognito_pool *pools = NULL;
	size_t npools = 0;
	int rc = dd_cognito_pools_list(r->snap, r->account, r->region, &pools, &npools);
	if (rc)
		return fail(r, rc, "The identity pools could not be read: %s.", dd_strerror(rc));
	struct role_cache cache = { 0 };
	for (size_t i = 0; !rc && i < npools; i++) {
		const char *role_arn = authenticated ? pools[i].auth_role_arn : pools[i].unauth_role_arn;
		if (!role_arn || !*role_arn)
			continue;
		r->total++;
		const struct role_pols *rp = NULL;
		rc = role_cache_get(r, &cache, role_arn, &rp);
		struct dd_policy_analysis a = { 0 };
		if (!rc) {
			const struct dd_policy *const *pv = (const struct dd_policy *const *)rp->v;
			int arc = authenticated ? dd_policy_analyze_cognito_auth(pv, rp->n, &a)
						: dd_policy_analyze_cognito_unauth(pv, rp->n, &a);
			if (arc)
				rc = fail(r, arc, "The role %s could not be analyzed: %s.", role_arn, dd_strerror(arc));
		}
		if (!rc)
			rc = emit_analysis(r, &a,
					   resource1("COGNITO_IDENTITY_POOL", "cognitoIdentityPoolId", pools[i].id),
					   role_arn);
		dd_policy_analyze_clear(&a);
	}
	role_cache_free(&cache);
	dd_cognito_pools_free(pools, npools);
	return rc;
}

static int check_cognito_authenticated(struct dd_audit_run *r)
{
	return cognito_checks(r, true);
}

static int check_cognito_unauthenticated(struct dd_audit_run *r)
{
	return cognito_checks(r, false);
}

/* ---- role alias checks ---------------------------------------------------------------- */

struct usage {
	char **v;
	size_t n;
	bool any;  /* the role has usage records at all */
};

static void usage_clear(struct usage *u)
{
	for (size_t i = 0; i < u->n; i++)
		free(u->v[i]);
	free(u->v);
	memset(u, 0, sizeof *u);
}

struct usage_walk {
	struct dd_audit_run *r;
	struct usage *u;
};

static int usage_visit(const char *service, int64_t last_used, void *ud)
{
	struct usage_walk *uw = ud;
	struct usage *u = uw->u;
	u->any = true;
	if (last_used < uw->r->task_start_ms - USAGE_WINDOW_MS)
		return 0;
	char **nv = realloc(u->v, (u->n + 1) * sizeof *nv);
	if (nv)
		u->v = nv;
	char *svc = nv ? strdup(service) : NULL;
	if (!svc)
		return fail(uw->r, DD_ENOMEM, "Out of memory.");
	u->v[u->n++] = svc;
	return 0;
}

/* The services role_arn used in the 365 days before the task. */
static int usage_load(struct dd_audit_run *r, const char *role_arn, struct usage *u)
{
	usage_clear(u);
	struct usage_walk uw = { .r = r, .u = u };
	int rc = dd_store_audit_role_usage_foreach(r->snap, r->account_region, role_arn, usage_visit, &uw);
	if (rc && !r->error_code[0])
		return fail_db(r);
	return rc;
}

struct alias_walk {
	struct dd_audit_run *r;
	bool unused;
	struct role_pols cache;
	struct usage use;
	int64_t seen;
};

static int alias_visit(const char *alias, const char *role_arn, void *ud)
{
	struct alias_walk *aw = ud;
	struct dd_audit_run *r = aw->r;
	aw->seen++;
	int rc = 0;
	if (!aw->cache.arn || strcmp(aw->cache.arn, role_arn) != 0) {
		rc = role_pols_load(r, role_arn, &aw->cache);
		if (!rc)
			rc = usage_load(r, role_arn, &aw->use);
		if (rc)
			return rc;
	}
	/* Without any usage record the unused-services check cannot judge the role. */
	if (aw->unused && !aw->use.any)
		return 0;
	r->total++;
	const struct dd_policy *const *pv = (const struct dd_policy *const *)aw->cache.v;
	const char *const *used = (const char *const *)aw->use.v;
	static const char *const none[1] = { NULL };
	if (!used)
		used = none;
	struct dd_policy_analysis a = { 0 };
	int arc = aw->unused ? dd_policy_analyze_role_alias_unused(pv, aw->cache.n, used, aw->use.n, &a)
			     : dd_policy_analyze_role_alias_permissive(pv, aw->cache.n, used, aw->use.n, &a);
	if (arc)
		rc = fail(r, arc, "The role %s of role alias %s could not be analyzed: %s.", role_arn, alias,
			  dd_strerror(arc));
	if (!rc) {
		size_t len = strlen(r->region) + strlen(r->account) + strlen(alias) + 32;
		char *arn = malloc(len);
		if (!arn) {
			rc = fail(r, DD_ENOMEM, "Out of memory.");
		} else {
			snprintf(arn, len, "arn:aws:iot:%s:%s:rolealias/%s", r->region, r->account, alias);
			rc = emit_analysis(r, &a, resource1("ROLE_ALIAS", "roleAliasArn", arn), role_arn);
			free(arn);
		}
	}
	dd_policy_analyze_clear(&a);
	return rc;
}

static int role_alias_checks(struct dd_audit_run *r, bool unused)
{
	/* Ordered by role: aliases of one role share its compiled policies and usage. */
	struct alias_walk aw = { .r = r, .unused = unused };
	int rc = dd_store_audit_reads_role_aliases(r->snap, r->account_region, alias_visit, &aw);
	if (rc && !r->error_code[0])
		rc = fail_db(r);
	role_pols_clear(&aw.cache);
	usage_clear(&aw.use);
	/* Decision: aliases exist but none has usage data -> waiting; no alias -> compliant. */
	if (!rc && unused && aw.seen > 0 && r->total == 0)
		r->waiting = true;
	return rc;
}

static int check_role_alias_permissive(struct dd_audit_run *r)
{
	return role_alias_checks(r, false);
}

static int check_role_alias_unused(struct dd_audit_run *r)
{
	return role_alias_checks(r, true);
}

/* ---- logging ---------------------------------------------------------------------------- */

static json_t *setting(struct dd_audit_run *r, const char *key, int *rc)
{
	char *text = NULL;
	int src = dd_store_audit_reads_setting(r->snap, r->account_region, key, &text);
	if (src == DD_ENOTFOUND)
		return NULL;
	if (src) {
		*rc = fail_db(r);
		return NULL;
	}
	json_t *v = json_loads(text, 0, NULL);
	free(text);
	return v;
}

static bool level_enabled(const char *level)
{
	return level && *level && strcmp(level, "DISABLED") != 0;
}

static int check_logging_disabled(struct dd_audit_run *r)
{
	int rc = 0;
	json_t *v1 = setting(r, "logging_v1", &rc);
	json_t *v2 = rc ? NULL : setting(r, "logging_v2", &rc);
	if (rc) {
		json_decref(v1);
		return rc;
	}
	r->total = 1;
	bool v2_on = v2 && !json_is_true(json_object_get(v2, "disableAllLogs")) &&
		     level_enabled(json_string_value(json_object_get(v2, "defaultLogLevel")));
	bool v1_on = v1 && level_enabled(json_string_value(json_object_get(v1, "logLevel")));
	const char *why = v2 ? (json_is_true(json_object_get(v2, "disableAllLogs")) ? "V2 logging disables all logs"
						: "the V2 default log level is DISABLED")
			     : "no V2 logging options are set";
	const char *why1 = v1 ? "the V1 log level is DISABLED" : "no V1 logging options are set";
	json_decref(v1);
	json_decref(v2);
	if (v1_on || v2_on)
		return 0;
	rc = dd_audit_checks_emit(r, resource1("ACCOUNT_SETTINGS", "account", r->account), NULL, "LOGGING_DISABLED",
			    "Logging is disabled: %s and %s.", why, why1);
	return rc ? emit_failed(r, rc) : 0;
}

/* ---- connection checks ------------------------------------------------------------------ */

/* One connection of a group (a certificate's or a client id's), reconstructed from the
 * connect/disconnect events in the window. */
struct conn {
	int64_t start, end;
	bool has_start, has_end, open, takeover, involved;
	size_t key;   /* pairing key inside the group (offset in the group's arena): client id
		       * (by certificate) or principal */
	size_t other; /* the related resource's id: client id or certificate id (NO_OTHER: none) */
	size_t prev;  /* index + 1 of the previous connection with the same key, 0 if none */
};

#define NO_OTHER SIZE_MAX

struct conn_group {
	char *name;          /* the group's certificate or client id (in namebuf), NULL before the first */
	char *namebuf;       /* reused by the next group */
	size_t namecap;
	struct conn *v;
	size_t n, cap;
	/* Index of the latest connection per key (open addressing, slot = index + 1), built
	 * once a group outgrows a linear scan: one certificate shared by thousands of client
	 * ids must not cost a quadratic pairing. */
	size_t *slots;
	size_t nslots;
	/* the connections' strings, one allocation for the group (reused by the next) */
	char *arena;
	size_t alen, acap;
};

#define GROUP_LINEAR_MAX 16
#define CKEY(g, c) ((g)->arena + (c)->key)

/* Copies s into the group's arena; its offset, or SIZE_MAX without memory. */
static size_t arena_put(struct conn_group *g, const char *s)
{
	size_t n = strlen(s) + 1;
	if (g->alen + n > g->acap) {
		size_t ncap = g->acap ? g->acap : 1024;
		while (ncap < g->alen + n)
			ncap *= 2;
		char *na = realloc(g->arena, ncap);
		if (!na)
			return SIZE_MAX;
		g->arena = na;
		g->acap = ncap;
	}
	memcpy(g->arena + g->alen, s, n);
	size_t off = g->alen;
	g->alen += n;
	return off;
}

static void group_reset(struct conn_group *g)
{
	g->n = 0;
	g->alen = 0;
	g->name = NULL;
	free(g->slots);
	g->slots = NULL;
	g->nslots = 0;
}

static void group_free(struct conn_group *g)
{
	group_reset(g);
	free(g->v);
	free(g->arena);
	free(g->namebuf);
	memset(g, 0, sizeof *g);
}

static size_t key_hash(const char *k)
{
	uint64_t h = 1469598103934665603ULL;
	for (; *k; k++)
		h = (h ^ (unsigned char)*k) * 1099511628211ULL;
	return (size_t)h;
}

/* The slot of key: the one holding it, or the empty one where it belongs. */
static size_t *slot_of(struct conn_group *g, const char *key)
{
	size_t mask = g->nslots - 1;
	for (size_t i = key_hash(key) & mask;; i = (i + 1) & mask)
		if (!g->slots[i] || strcmp(CKEY(g, &g->v[g->slots[i] - 1]), key) == 0)
			return &g->slots[i];
}

/* (Re)builds the index for at least 2 * want entries. */
static int group_index(struct conn_group *g, size_t want)
{
	size_t ns = 64;
	while (ns < 2 * want)
		ns *= 2;
	size_t *sl = calloc(ns, sizeof *sl);
	if (!sl)
		return DD_ENOMEM;
	free(g->slots);
	g->slots = sl;
	g->nslots = ns;
	for (size_t i = 0; i < g->n; i++)
		*slot_of(g, CKEY(g, &g->v[i])) = i + 1; /* later ones overwrite: the latest wins */
	return 0;
}

/* The most recent connection of the group with this pairing key, or NULL. */
static struct conn *group_last(struct conn_group *g, const char *key)
{
	if (g->slots) {
		size_t sl = *slot_of(g, key);
		return sl ? &g->v[sl - 1] : NULL;
	}
	for (size_t i = g->n; i-- > 0;)
		if (strcmp(CKEY(g, &g->v[i]), key) == 0)
			return &g->v[i];
	return NULL;
}

static struct conn *group_add(struct conn_group *g, const char *key, const char *other)
{
	struct conn *last = group_last(g, key);
	size_t prev = last ? (size_t)(last - g->v) + 1 : 0;
	if (g->n == g->cap) {
		size_t ncap = g->cap ? g->cap * 2 : 8;
		struct conn *nv = realloc(g->v, ncap * sizeof *nv);
		if (!nv)
			return NULL;
		g->v = nv;
		g->cap = ncap;
	}
	struct conn *c = &g->v[g->n];
	memset(c, 0, sizeof *c);
	c->prev = prev;
	size_t alen = g->alen;
	c->key = arena_put(g, key);
	c->other = other ? arena_put(g, other) : NO_OTHER;
	if (c->key == SIZE_MAX || (other && c->other == SIZE_MAX)) {
		g->alen = alen;
		return NULL;
	}
	g->n++;
	if (g->slots && 2 * g->n <= g->nslots) {
		*slot_of(g, key) = g->n;
	} else if (g->n > GROUP_LINEAR_MAX && group_index(g, g->n) != 0) {
		g->n--;
		g->alen = alen;
		return NULL;
	}
	return &g->v[g->n - 1];
}

static bool is_takeover(const char *reason)
{
	return reason && (strcasecmp(reason, "takeover") == 0 || strcasecmp(reason, "DUPLICATE_CLIENTID") == 0);
}

/*
 * Adds one event to the group. A connect while the same key is still connected ends the
 * earlier connection at that moment (one MQTT session per client id). A disconnect ends
 * the key's open connection; a takeover disconnect logged right after the connect that
 * replaced a connection (same timestamp) is attributed to the replaced one. A disconnect
 * without a connect in the window ends a connection that was open at the window's start.
 */
static int group_event(struct conn_group *g, bool connect, const char *key, const char *other, int64_t ts,
		       const char *reason, int64_t window_start)
{
	struct conn *last = group_last(g, key);
	if (connect) {
		if (last && last->open) {
			last->open = false;
			last->has_end = true;
			last->end = ts;
		}
		struct conn *c = group_add(g, key, other);
		if (!c)
			return DD_ENOMEM;
		c->start = ts;
		c->has_start = true;
		c->open = true;
		return 0;
	}
	bool takeover = is_takeover(reason);
	if (last && last->open && takeover && last->start == ts) {
		/* The replacing connection is already recorded: the takeover is the one it replaced. */
		struct conn *replaced = last->prev ? &g->v[last->prev - 1] : NULL;
		if (replaced && replaced->has_end && replaced->end == ts) {
			replaced->takeover = true;
			return 0;
		}
	}
	if (last && last->open) {
		last->open = false;
		last->has_end = true;
		last->end = ts;
		last->takeover = takeover;
		return 0;
	}
	struct conn *c = group_add(g, key, other);
	if (!c)
		return DD_ENOMEM;
	c->start = window_start;
	c->has_end = true;
	c->end = ts;
	c->takeover = takeover;
	return 0;
}

static int conn_by_start(const void *a, const void *b)
{
	const struct conn *x = a, *y = b;
	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return x->end < y->end ? -1 : x->end > y->end;
}

static int conn_recent_first(const void *a, const void *b)
{
	return -conn_by_start(a, b);
}

/* Closes the connections still open at task start and marks the connections that
 * overlap another one (and, with takeovers, the replaced and the replacing one).
 * Returns whether anything is involved. */
static bool group_analyze(struct conn_group *g, int64_t task_start, bool takeovers, bool *any_takeover)
{
	for (size_t i = 0; i < g->n; i++)
		if (g->v[i].open) {
			g->v[i].open = false;
			g->v[i].end = task_start;
		}
	if (g->n > 1)
		qsort(g->v, g->n, sizeof *g->v, conn_by_start);
	bool any = false;
	*any_takeover = false;
	size_t maxi = 0;
	for (size_t j = 1; j < g->n; j++) {
		if (g->v[j].start < g->v[maxi].end) {
			g->v[j].involved = g->v[maxi].involved = true;
			any = true;
		}
		if (g->v[j].end > g->v[maxi].end)
			maxi = j;
	}
	for (size_t i = 0; takeovers && i < g->n; i++)
		if (g->v[i].takeover) {
			g->v[i].involved = true;
			if (i + 1 < g->n)
				g->v[i + 1].involved = true;
			any = *any_takeover = true;
		}
	return any;
}

/* The related resources: the involved connections, most recent first. */
static json_t *group_related(struct conn_group *g, const char *type, const char *key)
{
	json_t *arr = json_array();
	if (g->n > 1)
		qsort(g->v, g->n, sizeof *g->v, conn_recent_first);
	char buf[24];
	for (size_t i = 0; arr && i < g->n && json_array_size(arr) < MAX_RELATED; i++) {
		const struct conn *c = &g->v[i];
		if (!c->involved || c->other == NO_OTHER)
			continue;
		json_t *info = json_object();
		if (c->has_start) {
			snprintf(buf, sizeof buf, "%lld", (long long)c->start);
			json_object_set_new(info, "CONNECTION_TIME", json_string(buf));
		}
		if (c->has_end) {
			snprintf(buf, sizeof buf, "%lld", (long long)c->end);
			json_object_set_new(info, "DISCONNECTION_TIME", json_string(buf));
		}
		json_array_append_new(arr, json_pack("{s:s, s:{s:s}, s:o}", "resourceType", type, "resourceIdentifier",
						     key, g->arena + c->other, "additionalInfo", info));
	}
	return arr;
}

static int finish_shared(struct dd_audit_run *r, struct conn_group *g)
{
	if (!g->name)
		return 0;
	r->total++;
	bool takeover;
	int rc = 0;
	if (group_analyze(g, r->task_start_ms, false, &takeover)) {
		json_t *rel = group_related(g, "CLIENT_ID", "clientId");
		rc = dd_audit_checks_emit(r, resource1("DEVICE_CERTIFICATE", "deviceCertificateId", g->name), rel,
				    "CERTIFICATE_SHARED_BY_MULTIPLE_DEVICES", "Certificate shared by one or more devices.");
		if (rc)
			rc = emit_failed(r, rc);
	}
	group_reset(g);
	return rc;
}

static int finish_conflicting(struct dd_audit_run *r, struct conn_group *g)
{
	if (!g->name)
		return 0;
	r->total++;
	bool takeover;
	int rc = 0;
	if (group_analyze(g, r->task_start_ms, true, &takeover)) {
		json_t *rel = group_related(g, "DEVICE_CERTIFICATE", "deviceCertificateId");
		if (json_array_size(rel) == 0) {
			json_decref(rel);
			rel = NULL;
		}
		rc = dd_audit_checks_emit(r, resource1("CLIENT_ID", "clientId", g->name), rel,
				    "DUPLICATE_CLIENT_ID_ACROSS_CONNECTIONS", "%s",
				    takeover ? "Multiple connections used the same client ID, disconnecting each other."
					     : "Multiple connections used the same client ID at the same time.");
		if (rc)
			rc = emit_failed(r, rc);
	}
	group_reset(g);
	return rc;
}

/* A connection scan: events arrive grouped by certificate (shared) or client id
 * (conflicting); each group is judged when the next begins. */
struct event_walk {
	struct dd_audit_run *r;
	bool by_client;
	struct conn_group g;
};

static int event_visit(const struct dd_store_audit_event *e, void *ud)
{
	struct event_walk *ew = ud;
	struct dd_audit_run *r = ew->r;
	struct conn_group *g = &ew->g;
	const char *name = ew->by_client ? e->client_id : e->certificate_id;
	if (!name)
		name = "";
	if (!g->name || strcmp(g->name, name) != 0) {
		int rc = ew->by_client ? finish_conflicting(r, g) : finish_shared(r, g);
		if (rc)
			return rc;
		size_t len = strlen(name) + 1;
		if (len > g->namecap) {
			char *nb = realloc(g->namebuf, len < 128 ? 128 : len);
			if (!nb)
				return fail(r, DD_ENOMEM, "Out of memory.");
			g->namebuf = nb;
			g->namecap = len < 128 ? 128 : len;
		}
		memcpy(g->namebuf, name, len);
		g->name = g->namebuf;
	}
	int erc;
	if (ew->by_client) {
		const char *key = e->certificate_id ? e->certificate_id : e->principal ? e->principal : "";
		erc = group_event(g, e->connect, key, e->certificate_id, e->ts, e->reason, r->window_start_ms);
	} else {
		erc = group_event(g, e->connect, e->client_id, e->client_id, e->ts, e->reason, r->window_start_ms);
	}
	return erc ? fail(r, erc, "Out of memory.") : 0;
}

static int connection_scan(struct dd_audit_run *r, bool by_client)
{
	struct event_walk ew = { .r = r, .by_client = by_client };
	int rc = by_client ? dd_store_audit_reads_events_by_client(r->snap, r->account_region, r->window_start_ms,
								   r->task_start_ms, event_visit, &ew)
			   : dd_store_audit_reads_events_by_cert(r->snap, r->account_region, r->window_start_ms,
								 r->task_start_ms, event_visit, &ew);
	if (rc && !r->error_code[0])
		rc = fail_db(r);
	if (!rc)
		rc = by_client ? finish_conflicting(r, &ew.g) : finish_shared(r, &ew.g);
	group_free(&ew.g);
	return rc;
}

static int check_device_cert_shared(struct dd_audit_run *r)
{
	return connection_scan(r, false);
}

static int check_conflicting_client_ids(struct dd_audit_run *r)
{
	return connection_scan(r, true);
}

/* ---- the table ----------------------------------------------------------------------------- */

#define LIST(...) ((const char *const[]){ __VA_ARGS__, NULL })
#define NONE ((const char *const[]){ NULL })

#define CODES_EXPIRING LIST("CERTIFICATE_APPROACHING_EXPIRATION", "CERTIFICATE_PAST_EXPIRATION")
#define CODES_KEY LIST("CERTIFICATE_KEY_VULNERABILITY_CVE-2017-15361", "CERTIFICATE_KEY_VULNERABILITY_CVE-2008-0166")
#define MIT_DEVICE LIST("UPDATE_DEVICE_CERTIFICATE", "ADD_THINGS_TO_THING_GROUP")
#define MIT_CA LIST("UPDATE_CA_CERTIFICATE")
#define MIT_POLICY LIST("REPLACE_DEFAULT_POLICY_VERSION")
#define READ_DEVICE LIST("iot:ListCertificates", "iot:DescribeCertificate")
#define READ_CA LIST("iot:ListCACertificates", "iot:DescribeCACertificate")
#define READ_POLICY LIST("iot:ListPolicies", "iot:GetPolicy")
#define READ_ROLE "iam:GetRole", "iam:ListRolePolicies", "iam:GetRolePolicy", "iam:ListAttachedRolePolicies", \
	"iam:GetPolicy", "iam:GetPolicyVersion"
#define READ_COGNITO LIST("cognito-identity:GetIdentityPoolRoles", READ_ROLE)

const struct dd_audit_check dd_audit_checks[] = {
	{ "AUTHENTICATED_COGNITO_ROLE_OVERLY_PERMISSIVE_CHECK", NULL, "CRITICAL", "COGNITO_IDENTITY_POOL",
	  LIST("ALLOWS_BROAD_ACCESS_TO_IOT_THING_ADMIN_READ_ACTIONS", "ALLOWS_ACCESS_TO_IOT_NON_THING_ADMIN_ACTIONS",
	       "ALLOWS_ACCESS_TO_IOT_THING_ADMIN_WRITE_ACTIONS"),
	  NONE, READ_COGNITO, NULL, 0, 0, 0, false, check_cognito_authenticated },
	{ "CA_CERTIFICATE_EXPIRING_CHECK", "CA_CERT_APPROACHING_EXPIRATION_CHECK", "MEDIUM", "CA_CERTIFICATE",
	  CODES_EXPIRING, MIT_CA, READ_CA, NULL, 0, 0, 0, false, check_ca_cert_expiring },
	{ "CA_CERTIFICATE_KEY_QUALITY_CHECK", NULL, "CRITICAL", "CA_CERTIFICATE", CODES_KEY, MIT_CA, READ_CA, NULL, 0,
	  0, 0, false, check_ca_cert_key_quality },
	{ "CONFLICTING_CLIENT_IDS_CHECK", NULL, "HIGH", "CLIENT_ID", LIST("DUPLICATE_CLIENT_ID_ACROSS_CONNECTIONS"),
	  NONE, READ_DEVICE, NULL, 0, 0, 0, true, check_conflicting_client_ids },
	{ "DEVICE_CERTIFICATE_AGE_CHECK", NULL, "LOW", "DEVICE_CERTIFICATE", LIST("CERTIFICATE_PAST_AGE_THRESHOLD"),
	  MIT_DEVICE, READ_DEVICE, "CERT_AGE_THRESHOLD_IN_DAYS", 365, 30, 3652, false, check_device_cert_age },
	{ "DEVICE_CERTIFICATE_EXPIRING_CHECK", "DEVICE_CERT_APPROACHING_EXPIRATION_CHECK", "MEDIUM",
	  "DEVICE_CERTIFICATE", CODES_EXPIRING, MIT_DEVICE, READ_DEVICE, "CERT_EXPIRATION_THRESHOLD_IN_DAYS", 30, 30,
	  3652, false, check_device_cert_expiring },
	{ "DEVICE_CERTIFICATE_KEY_QUALITY_CHECK", NULL, "CRITICAL", "DEVICE_CERTIFICATE", CODES_KEY, MIT_DEVICE,
	  READ_DEVICE, NULL, 0, 0, 0, false, check_device_cert_key_quality },
	{ "DEVICE_CERTIFICATE_SHARED_CHECK", NULL, "CRITICAL", "DEVICE_CERTIFICATE",
	  LIST("CERTIFICATE_SHARED_BY_MULTIPLE_DEVICES"), MIT_DEVICE, READ_DEVICE, NULL, 0, 0, 0, true,
	  check_device_cert_shared },
	{ "INTERMEDIATE_CA_REVOKED_FOR_ACTIVE_DEVICE_CERTIFICATES_CHECK", NULL, "CRITICAL", "DEVICE_CERTIFICATE",
	  LIST("INTERMEDIATE_CA_REVOKED_BY_ISSUER"), MIT_DEVICE,
	  LIST("iot:ListCertificates", "iot:DescribeCertificate", "iot:ListCACertificates",
	       "iot:DescribeCACertificate"),
	  NULL, 0, 0, 0, false, check_intermediate_ca_revoked },
	{ "IOT_POLICY_OVERLY_PERMISSIVE_CHECK", "IOT_POLICY_UNRESTRICTED_CHECK", "CRITICAL", "IOT_POLICY",
	  LIST("ALLOWS_BROAD_ACCESS_TO_IOT_DATA_PLANE_ACTIONS"), MIT_POLICY, READ_POLICY, NULL, 0, 0, 0, false,
	  check_iot_policy_permissive },
	{ "IOT_POLICY_POTENTIAL_MISCONFIGURATION_CHECK", NULL, "MEDIUM", "IOT_POLICY",
	  LIST("POLICY_CONTAINS_MQTT_WILDCARDS_IN_DENY_STATEMENT", "TOPIC_FILTERS_INTENDED_TO_DENY_ALLOWED_USING_WILDCARDS"),
	  MIT_POLICY, READ_POLICY, NULL, 0, 0, 0, false, check_iot_policy_misconfig },
	{ "IOT_ROLE_ALIAS_ALLOWS_ACCESS_TO_UNUSED_SERVICES_CHECK", NULL, "MEDIUM", "ROLE_ALIAS",
	  LIST("ALLOWS_ACCESS_TO_UNUSED_SERVICES"), NONE,
	  LIST("iot:ListRoleAliases", "iot:DescribeRoleAlias", READ_ROLE, "iam:GenerateServiceLastAccessedDetails",
	       "iam:GetServiceLastAccessedDetails"),
	  NULL, 0, 0, 0, false, check_role_alias_unused },
	{ "IOT_ROLE_ALIAS_OVERLY_PERMISSIVE_CHECK", NULL, "CRITICAL", "ROLE_ALIAS",
	  LIST("ALLOWS_BROAD_ACCESS_TO_USED_SERVICES", "ALLOWS_ACCESS_TO_SECURITY_AUDITING_SERVICES",
	       "ALLOWS_BROAD_ACCESS_TO_IOT_THING_ADMIN_READ_ACTIONS", "ALLOWS_ACCESS_TO_IOT_NON_THING_ADMIN_ACTIONS",
	       "ALLOWS_ACCESS_TO_IOT_THING_ADMIN_WRITE_ACTIONS", "ALLOWS_BROAD_ACCESS_TO_IOT_DATA_PLANE_ACTIONS"),
	  NONE,
	  LIST("iot:ListRoleAliases", "iot:DescribeRoleAlias", READ_ROLE, "iam:GenerateServiceLastAccessedDetails",
	       "iam:GetServiceLastAccessedDetails"),
	  NULL, 0, 0, 0, false, check_role_alias_permissive },
	{ "LOGGING_DISABLED_CHECK", NULL, "LOW", "ACCOUNT_SETTINGS", LIST("LOGGING_DISABLED"),
	  LIST("ENABLE_IOT_LOGGING"), LIST("iot:GetLoggingOptions", "iot:GetV2LoggingOptions"), NULL, 0, 0, 0, false,
	  check_logging_disabled },
	{ "REVOKED_CA_CERTIFICATE_STILL_ACTIVE_CHECK", "REVOKED_CA_CERT_CHECK", "CRITICAL", "CA_CERTIFICATE",
	  LIST("CERTIFICATE_REVOKED_BY_ISSUER"), MIT_CA, READ_CA, NULL, 0, 0, 0, false, check_revoked_ca_cert },
	{ "REVOKED_DEVICE_CERTIFICATE_STILL_ACTIVE_CHECK", "REVOKED_DEVICE_CERT_CHECK", "MEDIUM", "DEVICE_CERTIFICATE",
	  LIST("CERTIFICATE_REVOKED_BY_ISSUER"), MIT_DEVICE, READ_DEVICE, NULL, 0, 0, 0, false,
	  check_revoked_device_cert },
	{ "UNAUTHENTICATED_COGNITO_ROLE_OVERLY_PERMISSIVE_CHECK", NULL, "CRITICAL", "COGNITO_IDENTITY_POOL",
	  LIST("ALLOWS_ACCESS_TO_IOT_ADMIN_ACTIONS", "ALLOWS_BROAD_ACCESS_TO_IOT_DATA_PLANE_ACTIONS"), NONE,
	  READ_COGNITO, NULL, 0, 0, 0, false, check_cognito_unauthenticated },
};

const size_t dd_audit_ncheck = sizeof dd_audit_checks / sizeof dd_audit_checks[0];

const struct dd_audit_check *dd_audit_checks_find(const char *name)
{
	if (!name)
		return NULL;
	for (size_t i = 0; i < dd_audit_ncheck; i++) {
		const struct dd_audit_check *c = &dd_audit_checks[i];
		if (strcmp(c->name, name) == 0 || (c->alias && strcmp(c->alias, name) == 0))
			return c;
	}
	return NULL;
}

char *dd_audit_checks_resource_key(json_t *resource_identifier)
{
	if (!json_is_object(resource_identifier))
		return NULL;
	/* JSON_SORT_KEYS applies at every level, so nested identifiers are canonical too. */
	return json_dumps(resource_identifier, JSON_COMPACT | JSON_SORT_KEYS);
}

/* ---- reporting ------------------------------------------------------------------------------ */

int dd_audit_checks_emit(struct dd_audit_run *r, json_t *resource, json_t *related, const char *reason_code,
			 const char *fmt, ...)
{
	char reason[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(reason, sizeof reason, fmt, ap);
	va_end(ap);
	char *key = dd_audit_checks_resource_key(json_object_get(resource, "resourceIdentifier"));
	char *res_text = json_dumps(resource, JSON_COMPACT | JSON_SORT_KEYS);
	char *rel_text = related ? json_dumps(related, JSON_COMPACT) : NULL;
	const char *rtype = json_string_value(json_object_get(resource, "resourceType"));
	int rc;
	if (!key || !res_text || (related && !rel_text)) {
		rc = DD_ENOMEM;
	} else if (!r->emit) {
		rc = DD_EINVAL;
	} else {
		struct dd_audit_finding_text f = { .resource_type = rtype ? rtype : "", .resource_key = key,
						   .resource = res_text, .related = rel_text ? rel_text : "[]",
						   .reason_code = reason_code, .reason = reason };
		rc = r->emit(r, &f);
	}
	free(key);
	free(res_text);
	free(rel_text);
	json_decref(resource);
	json_decref(related);
	return rc;
}

/* True when s is written by jansson as itself between quotes (no escapes). */
static bool json_plain(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == '"' || *p == '\\' || *p >= 0x7f)
			return false;
	return true;
}

static int emit1v(struct dd_audit_run *r, const char *type, const char *key, const char *value, const char *related_text,
		  const char *reason_code, const char *fmt, va_list ap) DD_PRINTF(7, 0);
static int emit1v(struct dd_audit_run *r, const char *type, const char *key, const char *value, const char *related_text,
		  const char *reason_code, const char *fmt, va_list ap)
{
	if (!json_plain(type) || !json_plain(key) || !json_plain(value) || strlen(value) > 1024) {
		/* rare: let jansson escape */
		char reason[1024];
		vsnprintf(reason, sizeof reason, fmt, ap);
		json_t *rel = related_text ? json_loads(related_text, 0, NULL) : NULL;
		return dd_audit_checks_emit(r, resource1(type, key, value), rel, reason_code, "%s", reason);
	}
	if (!r->emit)
		return DD_EINVAL;
	char reason[1024], rkey[1200], res[1400];
	vsnprintf(reason, sizeof reason, fmt, ap);
	/* exactly what json_dumps(..., JSON_COMPACT | JSON_SORT_KEYS) writes:
	 * {"key":"value"} and {"resourceIdentifier":{"key":"value"},"resourceType":"type"}
	 * (value is at most 1024 bytes, key and type are the checks' short names) */
	size_t kl = strlen(key), vl = strlen(value), tl = strlen(type);
	if (kl + vl + 8 > sizeof rkey || kl + vl + tl + 48 > sizeof res)
		return DD_EINVAL;
	char *p = rkey;
	*p++ = '{';
	*p++ = '"';
	memcpy(p, key, kl);
	p += kl;
	memcpy(p, "\":\"", 3);
	p += 3;
	memcpy(p, value, vl);
	p += vl;
	memcpy(p, "\"}", 3); /* with the NUL */
	size_t rl = (size_t)(p + 2 - rkey);
	p = res;
	memcpy(p, "{\"resourceIdentifier\":", 22);
	p += 22;
	memcpy(p, rkey, rl);
	p += rl;
	memcpy(p, ",\"resourceType\":\"", 17);
	p += 17;
	memcpy(p, type, tl);
	p += tl;
	memcpy(p, "\"}", 3);
	struct dd_audit_finding_text f = { .resource_type = type, .resource_key = rkey, .resource = res,
					   .related = related_text ? related_text : "[]", .reason_code = reason_code,
					   .reason = reason };
	return r->emit(r, &f);
}

int dd_audit_checks_emit1(struct dd_audit_run *r, const char *type, const char *key, const char *value,
			  const char *related_text, const char *reason_code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = emit1v(r, type, key, value, related_text, reason_code, fmt, ap);
	va_end(ap);
	return rc;
}

static int emit_cert(struct dd_audit_run *r, const struct dd_cert_info *ci, const char *related_text, const char *code,
		     const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = emit1v(r, cert_resource_type(ci->kind), cert_id_key(ci->kind), ci->id, related_text, code, fmt, ap);
	va_end(ap);
	return rc;
}

/* ---- running checks ------------------------------------------------------------------------- */

static double clock_s(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void dd_audit_checks_run(struct dd_audit_run *const *runs, size_t n, int *rcs)
{
	bool *done = calloc(n ? n : 1, sizeof *done);
	struct cert_walk *walks = calloc(n ? n : 1, sizeof *walks);
	int group = 0;
	/* certificate checks of one kind: one pass for all of them */
	for (int kind = 0; done && walks && kind < 2; kind++) {
		enum dd_cert_kind k = kind == 0 ? DD_CERT_DEVICE : DD_CERT_CA;
		size_t m = 0, idx[NCERT_SPECS + 8];
		for (size_t i = 0; i < n && m < sizeof idx / sizeof idx[0]; i++) {
			const struct cert_spec *sp = cert_spec_of(runs[i]->check->fn);
			if (sp && sp->kind == k)
				idx[m++] = i;
		}
		if (m < 2)
			continue;
		group++;
		double t0 = clock_s(CLOCK_MONOTONIC), c0 = clock_s(CLOCK_THREAD_CPUTIME_ID);
		for (size_t j = 0; j < m; j++)
			walk_init(&walks[j], runs[idx[j]], cert_spec_of(runs[idx[j]]->check->fn));
		struct cert_pass p = { .w = walks, .n = m };
		int rc = cert_pass_run(&p, runs[idx[0]], k);
		bool all_failed = true;
		for (size_t j = 0; j < m; j++)
			all_failed = all_failed && walks[j].rc;
		double dt = clock_s(CLOCK_MONOTONIC) - t0, dc = clock_s(CLOCK_THREAD_CPUTIME_ID) - c0;
		for (size_t j = 0; j < m; j++) {
			/* a pass stopped because every walk failed ends each with its own failure */
			rcs[idx[j]] = walk_end(&walks[j], all_failed ? 0 : rc);
			runs[idx[j]]->run_s = dt;
			runs[idx[j]]->run_cpu_s = dc;
			runs[idx[j]]->group = group;
			done[idx[j]] = true;
		}
	}
	for (size_t i = 0; i < n; i++) {
		if (done && done[i])
			continue;
		double t0 = clock_s(CLOCK_MONOTONIC), c0 = clock_s(CLOCK_THREAD_CPUTIME_ID);
		rcs[i] = runs[i]->check->fn(runs[i]);
		runs[i]->run_s = clock_s(CLOCK_MONOTONIC) - t0;
		runs[i]->run_cpu_s = clock_s(CLOCK_THREAD_CPUTIME_ID) - c0;
		runs[i]->group = 0;
	}
	free(walks);
	free(done);
}

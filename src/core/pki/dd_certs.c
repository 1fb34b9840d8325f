/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The certificate rules (certs.h), the one place they exist: which status a certificate
 * may be registered with and changed to (UpdateCertificate, UpdateCACertificate and the
 * mitigation engine all call dd_certs_set_status; REVOKED is final, PENDING_TRANSFER
 * blocks changes, a CA is only ACTIVE or INACTIVE), when a certificate may be deleted, the
 * stored form of the X.509 facts, the certificate view of the audit and mitigation engines
 * with its revocation state derived from the stored CRLs (dd_crl_lookup, the CA chain by
 * subject), and the start-up backfill of facts. No JSON, no AWS error codes: functions
 * return DD_E* and a sentence. Rows are read and written through
 * src/store/dd_store_certs.c; CRLs are only looked up (crl.h), never the other way round.
 */
#include "dd/certs.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dd/crl.h"
#include "dd/region.h"
#include "dd/keys.h"
#include "store/dd_store_certs.h"
#include "store/dd_store_crl.h"

#define MAX_CHAIN 8

static void put_msg(char *msg, size_t msglen, const char *fmt, ...) DD_PRINTF(3, 4);
static void put_msg(char *msg, size_t msglen, const char *fmt, ...)
{
	if (!msg || !msglen)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, msglen, fmt, ap);
	va_end(ap);
}

static enum dd_store_certs_kind skind(enum dd_cert_kind kind)
{
	return kind == DD_CERT_CA ? DD_STORE_CERTS_CA : DD_STORE_CERTS_DEVICE;
}

/* A new generationId (UUID form). 0 or DD_ECRYPTO. */
static int new_generation_id(char out[37])
{
	unsigned char r[16];
	if (dd_random_bytes(r, sizeof r))
		return DD_ECRYPTO;
	r[6] = (unsigned char)((r[6] & 0x0f) | 0x40);
	r[8] = (unsigned char)((r[8] & 0x3f) | 0x80);
	char hex[33];
	dd_hex_encode(r, 16, hex);
	snprintf(out, 37, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12, hex + 16, hex + 20);
	return 0;
}

bool dd_certs_norm_id(const char *in, char out[65])
{
	size_t n = in ? strnlen(in, 65) : 0;
	if (n != 64)
		return false;
	for (size_t i = 0; i < n; i++) {
		char ch = in[i];
		if (ch >= 'A' && ch <= 'F')
			ch = (char)(ch + 32);
		if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f')))
			return false;
		out[i] = ch;
	}
	out[64] = '\0';
	return true;
}

/* The stored form of f; *urls (owned, free it) backs out->crl_urls. */
static int to_store_facts(const struct dd_cert_facts *f, enum dd_keyq debian, struct dd_store_certs_facts *out,
			  char **urls)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < f->n_crl_urls; i++)
		json_array_append_new(a, json_string(f->crl_urls[i]));
	*urls = a ? json_dumps(a, JSON_COMPACT) : NULL;
	json_decref(a);
	if (!*urls)
		return DD_ENOMEM;
	*out = (struct dd_store_certs_facts){
		.subject = f->subject, .issuer = f->issuer, .subject_cn = f->subject_cn, .serial = f->serial_hex,
		.not_before_ms = f->not_before * 1000, .not_after_ms = f->not_after * 1000,
		.key_type = f->key_type, .key_bits = f->key_bits, .curve = f->curve,
		.pubkey_sha256 = f->pubkey_sha256, .key_sha256 = f->key_sha256, .key_sha1_80 = f->key_sha1_80,
		.is_ca = f->is_ca, .self_signed = f->self_signed, .ski = f->ski, .aki = f->aki, .crl_urls = *urls,
		.roca = (int)f->roca, .debian = (int)debian, .facts_version = DD_CERT_FACTS_VERSION,
	};
	return 0;
}

/* ---- registration --------------------------------------------------------------------- */

static void fmt_time(int64_t s, char *buf, size_t len)
{
	time_t t = (time_t)s;
	struct tm tm;
	if (gmtime_r(&t, &tm))
		strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
	else
		snprintf(buf, len, "%lld", (long long)s);
}

int dd_certs_check_registrable(const struct dd_cert_facts *f, int64_t now_ms, const char *what, char *msg,
			       size_t msglen)
{
	int64_t now = now_ms / 1000;
	char t[40];
	if (now < f->not_before) {
		fmt_time(f->not_before, t, sizeof t);
		put_msg(msg, msglen, "The %s is not yet valid: its validity starts at %s.", what, t);
		return DD_EINVAL;
	}
	if (now > f->not_after) {
		fmt_time(f->not_after, t, sizeof t);
		put_msg(msg, msglen, "The %s has expired: its validity ended at %s.", what, t);
		return DD_EINVAL;
	}
	if (strcmp(f->key_type, "RSA") == 0) {
		if (f->key_bits < 2048) {
			put_msg(msg, msglen, "The %s has a %d-bit RSA key; at least 2048 bits are required.", what, f->key_bits);
			return DD_EINVAL;
		}
	} else if (strcmp(f->key_type, "EC") != 0) {
		put_msg(msg, msglen, "The %s has an unsupported %s key; RSA and ECDSA keys are supported.", what, f->key_type);
		return DD_EINVAL;
	}
	return 0;
}

bool dd_certs_registrable_status(const char *status)
{
	return status && (!strcmp(status, "ACTIVE") || !strcmp(status, "INACTIVE") || !strcmp(status, "REVOKED"));
}

int dd_certs_insert(struct dd_db *db, const char *account_region, enum dd_cert_kind kind,
		    const struct dd_cert_facts *f, const struct dd_certs_new *n)
{
	if (!f || !n || !n->status)
		return DD_EINVAL;
	char gen[37];
	if (new_generation_id(gen))
		return DD_EIO;
	char *urls = NULL;
	struct dd_store_certs_row r = {
		.id = f->id, .status = n->status, .ca_id = n->ca_id, .mode = n->mode, .owner = n->owner,
		.created_ms = n->now_ms, .generation_id = gen, .pem = f->pem,
		.auto_registration = n->auto_registration, .registration_config = n->registration_config,
	};
	int rc = to_store_facts(f, n->debian, &r.f, &urls);
	if (!rc)
		rc = dd_store_certs_insert(db, account_region, skind(kind), &r);
	free(urls);
	return rc;
}

struct issuer_search {
	const struct dd_cert_facts *f;
	char *ca_id;
	int n, verified_inactive;
	char inactive_id[65];
};

static int try_issuer(const struct dd_store_certs_row *r, void *ud)
{
	struct issuer_search *s = ud;
	s->n++;
	if (dd_x509_verify_issued_by(s->f->pem, r->pem) != 0)
		return 0;
	if (strcmp(r->status, "ACTIVE") == 0) {
		snprintf(s->ca_id, 65, "%s", r->id);
		return 1;
	}
	s->verified_inactive++;
	snprintf(s->inactive_id, sizeof s->inactive_id, "%s", r->id);
	return 0;
}

int dd_certs_find_issuer(struct dd_db *db, const char *account_region, const struct dd_cert_facts *f,
			 const struct dd_cert_facts *ca, char ca_id[65], char *msg, size_t msglen)
{
	put_msg(msg, msglen, "%s", "");
	if (ca) {
		char status[32];
		int rc = dd_store_certs_status(db, account_region, DD_STORE_CERTS_CA, ca->id, status);
		if (rc == DD_ENOTFOUND) {
			put_msg(msg, msglen, "The CA certificate %s is not registered in this account.", ca->id);
			return DD_EINVAL;
		}
		if (rc) {
			put_msg(msg, msglen, "An internal store error occurred.");
			return DD_EIO;
		}
		if (strcmp(status, "ACTIVE") != 0) {
			put_msg(msg, msglen, "The CA certificate %s is %s; it must be ACTIVE to register certificates it signed.",
				ca->id, status);
			return DD_ECONFLICT;
		}
		if (dd_x509_verify_issued_by(f->pem, ca->pem) != 0) {
			put_msg(msg, msglen, "The certificate's signature does not verify with the key of CA certificate %s (issuer \"%s\").",
				ca->id, ca->subject);
			return DD_EINVAL;
		}
		snprintf(ca_id, 65, "%s", ca->id);
		return 0;
	}
	struct issuer_search s = { .f = f, .ca_id = ca_id };
	int rc = dd_store_certs_ca_by_subject(db, account_region, f->issuer, true, try_issuer, &s);
	if (rc == 1)
		return 0;
	if (rc) {
		put_msg(msg, msglen, "An internal store error occurred.");
		return DD_EIO;
	}
	if (!s.n) {
		put_msg(msg, msglen, "No registered CA certificate matches the certificate's issuer \"%s\".", f->issuer);
		return DD_EINVAL;
	}
	if (s.verified_inactive) {
		put_msg(msg, msglen, "The CA certificate %s that signed the certificate is not ACTIVE.", s.inactive_id);
		return DD_ECONFLICT;
	}
	put_msg(msg, msglen, "The certificate's signature does not verify with the key of any registered CA certificate named \"%s\".",
		f->issuer);
	return DD_EINVAL;
}

/* ---- the certificate view of the engines ----------------------------------------------- */

struct ca_node {
	char id[65];
	char *subject, *issuer, *serial;
	bool self_signed, revoked;
	char by[65];
};

struct ca_graph {
	struct ca_node *v;
	size_t n, cap;
};

static void ca_graph_free(struct ca_graph *g)
{
	for (size_t i = 0; i < g->n; i++) {
		free(g->v[i].subject);
		free(g->v[i].issuer);
		free(g->v[i].serial);
	}
	free(g->v);
	memset(g, 0, sizeof *g);
}

static int ca_graph_add(const struct dd_store_certs_row *r, void *ud)
{
	struct ca_graph *g = ud;
	if (g->n == g->cap) {
		size_t ncap = g->cap ? g->cap * 2 : 16;
		struct ca_node *nv = realloc(g->v, ncap * sizeof *nv);
		if (!nv)
			return DD_ENOMEM;
		g->v = nv;
		g->cap = ncap;
	}
	struct ca_node *n = &g->v[g->n++];
	memset(n, 0, sizeof *n);
	snprintf(n->id, sizeof n->id, "%s", r->id);
	n->subject = strdup(r->f.subject);
	n->issuer = strdup(r->f.issuer);
	n->serial = strdup(r->f.serial);
	n->self_signed = r->f.self_signed;
	return n->subject && n->issuer && n->serial ? 0 : DD_ENOMEM;
}

/* Loads every CA of the account_region with its own revocation state. */
static int ca_graph_load(struct dd_db *db, const char *account_region, int64_t now_ms, bool crls, struct ca_graph *g)
{
	memset(g, 0, sizeof *g);
	int rc = dd_store_certs_scan(db, account_region, DD_STORE_CERTS_CA, NULL, ca_graph_add, g);
	for (size_t i = 0; !rc && crls && i < g->n; i++) {
		if (g->v[i].self_signed)
			continue;
		int r = dd_crl_lookup(db, account_region, g->v[i].issuer, g->v[i].serial, now_ms, g->v[i].by);
		if (r < 0)
			rc = r;
		g->v[i].revoked = r == 1;
	}
	if (rc)
		ca_graph_free(g);
	return rc;
}

static const struct ca_node *ca_by_id(const struct ca_graph *g, const char *id)
{
	for (size_t i = 0; id && *id && i < g->n; i++)
		if (strcmp(g->v[i].id, id) == 0)
			return &g->v[i];
	return NULL;
}

static const struct ca_node *ca_by_subject(const struct ca_graph *g, const char *subject, const char *not_id)
{
	for (size_t i = 0; i < g->n; i++)
		if (strcmp(g->v[i].subject, subject) == 0 && (!not_id || strcmp(g->v[i].id, not_id) != 0))
			return &g->v[i];
	return NULL;
}

/* The first revoked CA up the chain starting at cur (inclusive), or "". */
static const char *revoked_up_from(const struct ca_graph *g, const struct ca_node *cur)
{
	for (int depth = 0; cur && depth < MAX_CHAIN; depth++) {
		if (cur->revoked)
			return cur->id;
		if (cur->self_signed)
			break;
		cur = ca_by_subject(g, cur->issuer, cur->id);
	}
	return "";
}

struct iter {
	struct dd_db *db;
	const char *account_region;
	enum dd_cert_kind kind;
	int64_t now_ms;
	bool crls;
	const struct ca_graph *g;
	dd_cert_visit_fn fn;
	void *ud;
	bool seen;
};

static int visit_row(const struct dd_store_certs_row *r, void *ud)
{
	struct iter *it = ud;
	const struct ca_graph *g = it->g;
	it->seen = true;
	struct dd_cert_info ci = {
		.kind = it->kind, .id = r->id, .status = r->status, .ca_id = r->ca_id, .mode = r->mode,
		.subject = r->f.subject, .issuer = r->f.issuer, .subject_cn = r->f.subject_cn, .serial = r->f.serial,
		.created_ms = r->created_ms, .modified_ms = r->modified_ms, .not_before_ms = r->f.not_before_ms,
		.not_after_ms = r->f.not_after_ms, .key_type = r->f.key_type, .key_bits = r->f.key_bits,
		.curve = r->f.curve, .pubkey_sha256 = r->f.pubkey_sha256, .key_sha256 = r->f.key_sha256,
		.key_sha1_80 = r->f.key_sha1_80, .is_ca = r->f.is_ca, .self_signed = r->f.self_signed,
		.roca = (enum dd_keyq)r->f.roca, .debian = (enum dd_keyq)r->f.debian,
		.revoked_by = "", .revoked_ancestor = "",
	};
	char by[65] = "";
	if (it->kind == DD_CERT_CA) {
		const struct ca_node *me = ca_by_id(g, ci.id);
		if (me && me->revoked) {
			ci.revoked = true;
			ci.revoked_by = me->by;
		}
		if (me && !me->self_signed)
			ci.revoked_ancestor = revoked_up_from(g, ca_by_subject(g, me->issuer, me->id));
	} else {
		if (it->crls && !ci.self_signed) {
			int rv = dd_crl_lookup(it->db, it->account_region, ci.issuer, ci.serial, it->now_ms, by);
			if (rv < 0)
				return rv;
			ci.revoked = rv == 1;
			ci.revoked_by = by;
		}
		const struct ca_node *parent = ca_by_id(g, ci.ca_id);
		if (!parent)
			parent = ca_by_subject(g, ci.issuer, NULL);
		ci.revoked_ancestor = revoked_up_from(g, parent);
	}
	return it->fn(&ci, it->ud);
}

static int certs_iter(struct dd_db *db, const char *account_region, enum dd_cert_kind kind, const char *id,
		      const char *const *range, int64_t now_ms, dd_cert_visit_fn fn, void *ud)
{
	int any = dd_store_crl_any(db, account_region);
	if (any < 0)
		any = 1; /* look the CRLs up row by row: the lookups report the error */
	struct ca_graph g;
	int rc = ca_graph_load(db, account_region, now_ms, any == 1, &g);
	if (rc)
		return rc;
	struct iter it = { db, account_region, kind, now_ms, any == 1, &g, fn, ud, false };
	rc = range ? dd_store_certs_scan_range(db, account_region, skind(kind), range[0], range[1], visit_row, &it)
		   : dd_store_certs_scan(db, account_region, skind(kind), id, visit_row, &it);
	ca_graph_free(&g);
	if (!rc && id && !it.seen)
		return DD_ENOTFOUND;
	return rc;
}

int dd_certs_foreach(struct dd_db *db, const char *account_region, enum dd_cert_kind kind, int64_t now_ms,
		     dd_cert_visit_fn fn, void *ud)
{
	return certs_iter(db, account_region, kind, NULL, NULL, now_ms, fn, ud);
}

int dd_certs_foreach_range(struct dd_db *db, const char *account_region, enum dd_cert_kind kind, const char *lo,
			   const char *hi, int64_t now_ms, dd_cert_visit_fn fn, void *ud)
{
	if (!lo && !hi)
		return certs_iter(db, account_region, kind, NULL, NULL, now_ms, fn, ud);
	const char *range[2] = { lo, hi };
	return certs_iter(db, account_region, kind, NULL, range, now_ms, fn, ud);
}

int dd_certs_get(struct dd_db *db, const char *account_region, enum dd_cert_kind kind, const char *id,
		 int64_t now_ms, dd_cert_visit_fn fn, void *ud)
{
	char nid[65];
	if (!dd_certs_norm_id(id, nid))
		return DD_ENOTFOUND;
	return certs_iter(db, account_region, kind, nid, NULL, now_ms, fn, ud);
}

/* ---- status changes and deletion --------------------------------------------------------- */

int dd_certs_set_status(struct dd_db *db, const char *account_region, enum dd_cert_kind kind, const char *id,
			const char *status, int64_t now_ms, char *msg, size_t msglen)
{
	char nid[65];
	put_msg(msg, msglen, "%s", "");
	if (!status)
		return DD_EINVAL;
	if (kind == DD_CERT_CA) {
		if (strcmp(status, "ACTIVE") && strcmp(status, "INACTIVE")) {
			put_msg(msg, msglen, "A CA certificate's status can only be ACTIVE or INACTIVE, not %.40s.", status);
			return DD_EINVAL;
		}
	} else if (!strcmp(status, "PENDING_TRANSFER") || !strcmp(status, "PENDING_ACTIVATION") ||
		   !strcmp(status, "REGISTER_INACTIVE")) {
		put_msg(msg, msglen, "The status %s is used internally by IoT and cannot be set.", status);
		return DD_EINVAL;
	} else if (!dd_certs_registrable_status(status)) {
		put_msg(msg, msglen, "Invalid certificate status %.40s.", status);
		return DD_EINVAL;
	}
	if (!dd_certs_norm_id(id, nid)) {
		put_msg(msg, msglen, "The certificate %.70s does not exist.", id ? id : "");
		return DD_ENOTFOUND;
	}
	/* Inside the caller's write transaction (the mitigation engine batches its changes)
	 * nothing is written before the last step, so a refusal leaves that transaction as it
	 * was; only an own transaction is opened, committed and rolled back here. */
	bool own = !dd_db_in_tx(db);
	if (own && dd_db_begin_write(db))
		return DD_EIO;
	char cur[32];
	int rc = dd_store_certs_status(db, account_region, skind(kind), nid, cur);
	if (rc == DD_ENOTFOUND) {
		put_msg(msg, msglen, "The %s %s does not exist.", kind == DD_CERT_CA ? "CA certificate" : "certificate", nid);
		goto refuse;
	}
	if (rc)
		goto dberr;
	if (kind == DD_CERT_DEVICE && strcmp(cur, "REVOKED") == 0) {
		put_msg(msg, msglen, "The certificate %s is revoked; a revoked certificate's status cannot be changed.", nid);
		rc = DD_ECONFLICT;
		goto refuse;
	}
	if (kind == DD_CERT_DEVICE && strcmp(cur, "PENDING_TRANSFER") == 0) {
		put_msg(msg, msglen, "The certificate %s is pending transfer; accept, reject or cancel the transfer first.", nid);
		rc = DD_ECONFLICT;
		goto refuse;
	}
	char gen[37];
	if (new_generation_id(gen) || dd_store_certs_set_status(db, account_region, skind(kind), nid, status, now_ms, gen) ||
	    (own && dd_db_commit(db)))
		goto dberr;
	return 0;
refuse:
	if (own)
		dd_db_rollback(db);
	return rc;
dberr:
	if (own)
		dd_db_rollback(db);
	put_msg(msg, msglen, "An internal store error occurred.");
	return DD_EIO;
}

int dd_certs_delete(struct dd_db *db, const char *account_region, enum dd_cert_kind kind, const char *id,
		    const char *arn, bool force, bool *attached, char *msg, size_t msglen)
{
	char nid[65], status[32], other[256];
	const char *what = kind == DD_CERT_CA ? "CA certificate" : "certificate";
	put_msg(msg, msglen, "%s", "");
	if (attached)
		*attached = false;
	if (!dd_certs_norm_id(id, nid)) {
		put_msg(msg, msglen, "The %s %.70s does not exist.", what, id ? id : "");
		return DD_ENOTFOUND;
	}
	if (dd_db_begin_write(db))
		return DD_EIO;
	int rc = dd_store_certs_status(db, account_region, skind(kind), nid, status);
	if (rc == DD_ENOTFOUND) {
		dd_db_rollback(db);
		put_msg(msg, msglen, "The %s %s does not exist.", what, nid);
		return rc;
	}
	if (rc)
		goto dberr;
	if (kind == DD_CERT_CA && strcmp(status, "ACTIVE") == 0) {
		dd_db_rollback(db);
		put_msg(msg, msglen, "The CA certificate %s is ACTIVE; deactivate it before deleting it.", nid);
		return DD_ECONFLICT;
	}
	if (kind == DD_CERT_DEVICE) {
		if (strcmp(status, "ACTIVE") == 0 || strcmp(status, "PENDING_TRANSFER") == 0) {
			dd_db_rollback(db);
			put_msg(msg, msglen, "The certificate %s is %s; deactivate it before deleting it.", nid, status);
			return DD_ECONFLICT;
		}
		int r = dd_store_certs_attached_thing(db, account_region, arn, other, sizeof other);
		if (r < 0)
			goto dberr;
		if (r == 1) {
			dd_db_rollback(db);
			if (attached)
				*attached = true;
			put_msg(msg, msglen, "The certificate %s is attached to thing %s; detach it before deleting it.", nid, other);
			return DD_ECONFLICT;
		}
		r = dd_store_certs_attached_policy(db, account_region, arn, other, sizeof other);
		if (r < 0)
			goto dberr;
		if (r == 1 && !force) {
			dd_db_rollback(db);
			if (attached)
				*attached = true;
			put_msg(msg, msglen, "The certificate %s has policy %s attached; detach its policies or use forceDelete.",
				nid, other);
			return DD_ECONFLICT;
		}
	}
	if (dd_store_certs_forget_arn(db, account_region, arn) ||
	    dd_store_certs_delete(db, account_region, skind(kind), nid) ||
	    (kind == DD_CERT_CA && dd_store_crl_delete(db, account_region, nid)) || dd_db_commit(db))
		goto dberr;
	return 0;
dberr:
	dd_db_rollback(db);
	put_msg(msg, msglen, "An internal store error occurred.");
	return DD_EIO;
}

/* ---- backfill ------------------------------------------------------------------------------ */

#define BATCH 200

struct pending {
	char account_region[DD_ACCOUNT_REGION_SIZE];
	char id[65];
	char *pem;
	int debian;
};

struct batch {
	struct pending *v;
	size_t n, cap;
	const struct dd_blocklists *bl;
	size_t rows;
	char after_ar[DD_ACCOUNT_REGION_SIZE], after_id[65];
};

static int batch_stale(const struct dd_store_certs_row *r, void *ud)
{
	struct batch *b = ud;
	if (b->n == b->cap)
		return 1;
	struct pending *p = &b->v[b->n++];
	snprintf(p->account_region, sizeof p->account_region, "%s", r->account_region);
	snprintf(p->id, sizeof p->id, "%s", r->id);
	p->pem = strdup(r->pem);
	return 0;
}

static int backfill_facts(struct dd_db *db, enum dd_cert_kind kind, const struct dd_blocklists *bl, size_t *updated)
{
	struct batch b = { .cap = BATCH, .bl = bl };
	b.v = calloc(BATCH, sizeof *b.v);
	if (!b.v)
		return DD_ENOMEM;
	int rc = 0;
	for (;;) {
		b.n = 0;
		rc = dd_store_certs_stale_facts(db, skind(kind), b.after_ar, b.after_id, DD_CERT_FACTS_VERSION, BATCH,
						batch_stale, &b);
		if (rc == 1)
			rc = 0;
		if (rc || b.n == 0)
			break;
		snprintf(b.after_ar, sizeof b.after_ar, "%s", b.v[b.n - 1].account_region);
		snprintf(b.after_id, sizeof b.after_id, "%s", b.v[b.n - 1].id);
		if (dd_db_begin_write(db))
			rc = DD_EIO;
		for (size_t i = 0; i < b.n; i++) {
			struct dd_cert_facts f;
			char err[256];
			if (!rc && b.v[i].pem && dd_x509_parse(b.v[i].pem, strlen(b.v[i].pem), &f, err, sizeof err) == 0) {
				struct dd_store_certs_facts sf;
				char *urls = NULL;
				rc = to_store_facts(&f, dd_keys_blocklists_check(bl, &f), &sf, &urls);
				if (!rc)
					rc = dd_store_certs_set_facts(db, b.v[i].account_region, skind(kind), b.v[i].id, &sf);
				if (!rc && updated)
					(*updated)++;
				free(urls);
				dd_x509_facts_clear(&f);
			} else if (!rc) {
				dd_log_warn("certs: backfill: %s certificate %s: stored PEM does not parse",
					    b.v[i].account_region, b.v[i].id);
			}
			free(b.v[i].pem);
			b.v[i].pem = NULL;
		}
		if (!rc && dd_db_commit(db))
			rc = DD_EIO;
		if (rc) {
			dd_db_rollback(db);
			break;
		}
	}
	for (size_t i = 0; i < b.n; i++)
		free(b.v[i].pem);
	free(b.v);
	return rc;
}

static int batch_keys(const struct dd_store_certs_row *r, void *ud)
{
	struct batch *b = ud;
	b->rows++;
	struct dd_cert_facts f;
	memset(&f, 0, sizeof f);
	snprintf(f.key_type, sizeof f.key_type, "%s", r->f.key_type);
	f.key_bits = r->f.key_bits;
	snprintf(f.curve, sizeof f.curve, "%s", r->f.curve);
	snprintf(f.key_sha256, sizeof f.key_sha256, "%s", r->f.key_sha256);
	snprintf(f.key_sha1_80, sizeof f.key_sha1_80, "%s", r->f.key_sha1_80);
	int v = (int)dd_keys_blocklists_check(b->bl, &f);
	snprintf(b->after_ar, sizeof b->after_ar, "%s", r->account_region);
	snprintf(b->after_id, sizeof b->after_id, "%s", r->id);
	if (v != r->f.debian && b->n < b->cap) {
		struct pending *p = &b->v[b->n++];
		snprintf(p->account_region, sizeof p->account_region, "%s", r->account_region);
		snprintf(p->id, sizeof p->id, "%s", r->id);
		p->debian = v;
	}
	return 0;
}

static int backfill_debian(struct dd_db *db, enum dd_cert_kind kind, const struct dd_blocklists *bl, size_t *updated)
{
	struct batch b = { .cap = BATCH * 5, .bl = bl };
	b.v = calloc(b.cap, sizeof *b.v);
	if (!b.v)
		return DD_ENOMEM;
	int rc = 0;
	for (;;) {
		b.n = 0;
		b.rows = 0;
		rc = dd_store_certs_key_facts(db, skind(kind), b.after_ar, b.after_id, BATCH * 5, batch_keys, &b);
		if (rc)
			break;
		if (b.n) {
			if (dd_db_begin_write(db)) {
				rc = DD_EIO;
				break;
			}
			for (size_t i = 0; !rc && i < b.n; i++)
				rc = dd_store_certs_set_debian(db, b.v[i].account_region, skind(kind), b.v[i].id, b.v[i].debian);
			if (!rc && dd_db_commit(db))
				rc = DD_EIO;
			if (rc) {
				dd_db_rollback(db);
				break;
			}
			if (updated)
				*updated += b.n;
		}
		if (b.rows < BATCH * 5)
			break;
	}
	free(b.v);
	return rc;
}

int dd_certs_backfill(struct dd_store *store, const struct dd_blocklists *bl, size_t *updated)
{
	struct dd_db *db = store ? dd_store_db(store) : NULL;
	if (!db)
		return DD_EIO;
	size_t n = 0;
	int rc = backfill_facts(db, DD_CERT_DEVICE, bl, &n);
	if (!rc)
		rc = backfill_facts(db, DD_CERT_CA, bl, &n);
	if (!rc)
		rc = backfill_debian(db, DD_CERT_DEVICE, bl, &n);
	if (!rc)
		rc = backfill_debian(db, DD_CERT_CA, bl, &n);
	if (n)
		dd_log_info("certs: backfill updated the stored facts of %zu certificate rows", n);
	if (updated)
		*updated = n;
	return rc;
}

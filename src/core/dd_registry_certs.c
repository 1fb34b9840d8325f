/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Device and CA certificates: the AWS IoT registry operations (create from the server
 * CA or a CSR, register with or without a CA, describe, list, update, delete, the
 * registration code and CA proof of possession), the certificate C API of certs.h for
 * the audit and mitigation engines, the start-up backfill of stored facts, and our CRL
 * extension routes (POST /crl-import, /crl-status, /crl-refresh). Invariants: a row is
 * stored only for a certificate that parsed, was inside its validity period, had an
 * acceptable key and (with a CA) verified against a registered ACTIVE CA; every row
 * carries all the X.509 facts of dd_x509_parse with facts_version, times in epoch ms; ids
 * are the lowercase hex SHA-256 of the DER; every query is scoped by account and region
 * (account_region), so one certificate may be registered in several regions.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "core/dd_registry_int.h"
#include "dd/certs.h"
#include "dd/crl.h"
#include "dd/keys.h"
#include "dd/x509.h"

#define CVE "CertificateValidationException"
#define CSE "CertificateStateException"
#define IRE "InvalidRequestException"
#define RNF "ResourceNotFoundException"
/* AWS-issued device certificates expire at the end of 2049. */
#define AWS_CERT_NOT_AFTER 2524607999LL
#define MAX_CHAIN 8

/* ---- helpers ---------------------------------------------------------------------------- */

/* Copies an id from input lowercased; false when it cannot be one of ours. */
static bool norm_id(const char *in, char out[65])
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

static char *urls_json(const struct dd_cert_facts *f)
{
	json_t *a = json_array();
	for (size_t i = 0; i < f->n_crl_urls; i++)
		json_array_append_new(a, json_string(f->crl_urls[i]));
	char *s = json_dumps(a, JSON_COMPACT);
	json_decref(a);
	return s;
}

/* Binds the 20 fact columns (subject … self_signed) from index i. */
static int bind_facts(sqlite3_stmt *st, int i, const struct dd_cert_facts *f, enum dd_keyq debian)
{
	char *urls = urls_json(f);
	if (!urls)
		return DD_ENOMEM;
	dd_bind_text(st, i++, f->subject);
	dd_bind_text(st, i++, f->issuer);
	dd_bind_text(st, i++, f->subject_cn);
	dd_bind_text(st, i++, f->serial_hex);
	dd_bind_int64(st, i++, f->not_before * 1000);
	dd_bind_int64(st, i++, f->not_after * 1000);
	dd_bind_text(st, i++, f->key_type);
	dd_bind_int64(st, i++, f->key_bits);
	dd_bind_text(st, i++, f->curve);
	dd_bind_text(st, i++, f->pubkey_sha256);
	dd_bind_text(st, i++, f->key_sha256);
	dd_bind_text(st, i++, f->key_sha1_80);
	dd_bind_int64(st, i++, f->is_ca);
	dd_bind_text(st, i++, f->ski);
	dd_bind_text(st, i++, f->aki);
	dd_bind_text(st, i++, urls);
	dd_bind_int64(st, i++, f->roca);
	dd_bind_int64(st, i++, debian);
	dd_bind_int64(st, i++, DD_CERT_FACTS_VERSION);
	dd_bind_int64(st, i++, f->self_signed);
	free(urls);
	return 0;
}

static void fmt_time(int64_t s, char *buf, size_t len)
{
	time_t t = (time_t)s;
	struct tm tm;
	if (gmtime_r(&t, &tm))
		strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
	else
		snprintf(buf, len, "%lld", (long long)s);
}

/* What AWS refuses at registration: out of its validity period, weak or unsupported key. */
static int check_cert(struct dd_ctx *c, const struct dd_cert_facts *f, const char *what)
{
	int64_t now = c->now_ms / 1000;
	char t[40];
	if (now < f->not_before) {
		fmt_time(f->not_before, t, sizeof t);
		return dd_fail(c, DD_EINVAL, CVE, "The %s is not yet valid: its validity starts at %s.", what, t);
	}
	if (now > f->not_after) {
		fmt_time(f->not_after, t, sizeof t);
		return dd_fail(c, DD_EINVAL, CVE, "The %s has expired: its validity ended at %s.", what, t);
	}
	if (strcmp(f->key_type, "RSA") == 0) {
		if (f->key_bits < 2048)
			return dd_fail(c, DD_EINVAL, CVE, "The %s has a %d-bit RSA key; at least 2048 bits are required.",
				       what, f->key_bits);
	} else if (strcmp(f->key_type, "EC") != 0) {
		return dd_fail(c, DD_EINVAL, CVE, "The %s has an unsupported %s key; RSA and ECDSA keys are supported.",
			       what, f->key_type);
	}
	return 0;
}

static int parse_cert(struct dd_ctx *c, const char *pem, struct dd_cert_facts *f, const char *what)
{
	char err[512];
	if (!pem || !*pem)
		return dd_fail(c, DD_EINVAL, CVE, "The %s is empty.", what);
	if (dd_x509_parse(pem, strlen(pem), f, err, sizeof err))
		return dd_fail(c, DD_EINVAL, CVE, "The %s is not valid: %s.", what, err);
	return 0;
}

/* Status from status / setAsActive, INACTIVE by default (as AWS). */
static const char *status_of(json_t *in)
{
	const char *s = dd__str(in, "status");
	if (s)
		return s;
	return dd__bool(in, "setAsActive", false) ? "ACTIVE" : "INACTIVE";
}

/* The Debian weak-key verdict with the lists as they are now: a list imported while the
 * server runs is picked up here (one stat of the list directory). */
static enum dd_keyq debian_of(struct dd_ctx *c, const struct dd_cert_facts *f)
{
	struct dd_blocklists *bl = c->svc ? c->svc->blocklists : NULL;
	if (dd_blocklists_refresh(bl) < 0)
		dd_log_warn("blocklists: reload failed; keeping the lists loaded before");
	return dd_blocklists_check(bl, f);
}

/* ---- the C API of certs.h ---------------------------------------------------------------- */

struct ca_node {
	char id[65];
	char *subject, *issuer, *serial;
	bool self_signed, revoked;
	char by[65];
};

struct ca_graph {
	struct ca_node *v;
	size_t n;
};

static void ca_graph_free(struct ca_graph *g)
{
	for (size_t i = 0; i < g->n; i++) {
		free(g->v[i].subject);
		free(g->v[i].issuer);
		free(g->v[i].serial);
	}
	free(g->v);
	g->v = NULL;
	g->n = 0;
}

static bool any_crl(struct dd_db *db, const char *account_region)
{
	sqlite3_stmt *st = dd_db_stmt(db, "SELECT 1 FROM crls WHERE account_region = ?1 LIMIT 1");
	if (!st)
		return true;
	dd_bind_text(st, 1, account_region);
	bool r = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_reset(st);
	return r;
}

/* Loads every CA of the account_region with its own revocation state. */
static int ca_graph_load(struct dd_db *db, const char *account_region, int64_t now_ms, bool crls, struct ca_graph *g)
{
	memset(g, 0, sizeof *g);
	sqlite3_stmt *st = dd_db_stmt(db, "SELECT id, subject, issuer, serial, self_signed FROM ca_certificates"
					  " WHERE account_region = ?1 ORDER BY id");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account_region);
	size_t cap = 0;
	int rc = 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (g->n == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			struct ca_node *nv = realloc(g->v, ncap * sizeof *nv);
			if (!nv) {
				rc = DD_ENOMEM;
				break;
			}
			g->v = nv;
			cap = ncap;
		}
		struct ca_node *n = &g->v[g->n];
		memset(n, 0, sizeof *n);
		snprintf(n->id, sizeof n->id, "%s", dd_col_text(st, 0));
		n->subject = strdup(dd_col_text(st, 1));
		n->issuer = strdup(dd_col_text(st, 2));
		n->serial = strdup(dd_col_text(st, 3));
		n->self_signed = sqlite3_column_int(st, 4) != 0;
		g->n++;
		if (!n->subject || !n->issuer || !n->serial) {
			rc = DD_ENOMEM;
			break;
		}
	}
	sqlite3_reset(st);
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

/* The first revoked CA up the chain starting at start (inclusive), or "". */
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

static void fill_info(sqlite3_stmt *st, enum dd_cert_kind kind, struct dd_cert_info *ci)
{
	memset(ci, 0, sizeof *ci);
	ci->kind = kind;
	ci->id = dd_col_text(st, 0);
	ci->status = dd_col_text(st, 1);
	ci->ca_id = dd_col_text(st, 2);
	ci->mode = dd_col_text(st, 3);
	ci->subject = dd_col_text(st, 4);
	ci->issuer = dd_col_text(st, 5);
	ci->subject_cn = dd_col_text(st, 6);
	ci->serial = dd_col_text(st, 7);
	ci->created_ms = sqlite3_column_int64(st, 8);
	ci->modified_ms = sqlite3_column_int64(st, 9);
	ci->not_before_ms = sqlite3_column_int64(st, 10);
	ci->not_after_ms = sqlite3_column_int64(st, 11);
	ci->key_type = dd_col_text(st, 12);
	ci->key_bits = sqlite3_column_int(st, 13);
	ci->curve = dd_col_text(st, 14);
	ci->pubkey_sha256 = dd_col_text(st, 15);
	ci->key_sha256 = dd_col_text(st, 16);
	ci->key_sha1_80 = dd_col_text(st, 17);
	ci->is_ca = sqlite3_column_int(st, 18) != 0;
	ci->self_signed = sqlite3_column_int(st, 19) != 0;
	ci->roca = (enum dd_keyq)sqlite3_column_int(st, 20);
	ci->debian = (enum dd_keyq)sqlite3_column_int(st, 21);
	ci->revoked_by = "";
	ci->revoked_ancestor = "";
}

static int certs_iter(struct dd_db *db, const char *account_region, enum dd_cert_kind kind, const char *id,
		      int64_t now_ms, dd_cert_visit_fn fn, void *ud)
{
	bool crls = any_crl(db, account_region);
	struct ca_graph g;
	int rc = ca_graph_load(db, account_region, now_ms, crls, &g);
	if (rc)
		return rc;
	sqlite3_stmt *st = kind == DD_CERT_CA
		? dd_db_stmt(db, "SELECT id, status, '', mode, subject, issuer, subject_cn, serial, created, modified,"
				 " not_before, not_after, key_type, key_bits, curve, pubkey_sha256, key_sha256, key_sha1_80,"
				 " is_ca, self_signed, roca, debian FROM ca_certificates"
				 " WHERE account_region = ?1 AND (?2 IS NULL OR id = ?2) ORDER BY id")
		: dd_db_stmt(db, "SELECT id, status, ifnull(ca_id, ''), mode, subject, issuer, subject_cn, serial, created,"
				 " modified, not_before, not_after, key_type, key_bits, curve, pubkey_sha256, key_sha256,"
				 " key_sha1_80, is_ca, self_signed, roca, debian FROM certificates"
				 " WHERE account_region = ?1 AND (?2 IS NULL OR id = ?2) ORDER BY id");
	if (!st) {
		ca_graph_free(&g);
		return DD_EIO;
	}
	dd_bind_text(st, 1, account_region);
	dd_bind_text(st, 2, id);
	int s;
	bool seen = false;
	while (!rc && (s = sqlite3_step(st)) == SQLITE_ROW) {
		struct dd_cert_info ci;
		fill_info(st, kind, &ci);
		seen = true;
		char by[65] = "";
		if (kind == DD_CERT_CA) {
			const struct ca_node *me = ca_by_id(&g, ci.id);
			if (me && me->revoked) {
				ci.revoked = true;
				ci.revoked_by = me->by;
			}
			if (me && !me->self_signed)
				ci.revoked_ancestor = revoked_up_from(&g, ca_by_subject(&g, me->issuer, me->id));
		} else {
			if (crls && !ci.self_signed) {
				int r = dd_crl_lookup(db, account_region, ci.issuer, ci.serial, now_ms, by);
				if (r < 0) {
					rc = r;
					break;
				}
				ci.revoked = r == 1;
				ci.revoked_by = by;
			}
			const struct ca_node *parent = ca_by_id(&g, ci.ca_id);
			if (!parent)
				parent = ca_by_subject(&g, ci.issuer, NULL);
			ci.revoked_ancestor = revoked_up_from(&g, parent);
		}
		rc = fn(&ci, ud);
	}
	sqlite3_reset(st);
	ca_graph_free(&g);
	if (!rc && id && !seen)
		return DD_ENOTFOUND;
	return rc;
}

int dd_certs_foreach(struct dd_db *db, const char *account_region, enum dd_cert_kind kind, int64_t now_ms,
		     dd_cert_visit_fn fn, void *ud)
{
	return certs_iter(db, account_region, kind, NULL, now_ms, fn, ud);
}

int dd_certs_get(struct dd_db *db, const char *account_region, enum dd_cert_kind kind, const char *id,
		 int64_t now_ms, dd_cert_visit_fn fn, void *ud)
{
	char nid[65];
	if (!norm_id(id, nid))
		return DD_ENOTFOUND;
	return certs_iter(db, account_region, kind, nid, now_ms, fn, ud);
}

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
	} else if (strcmp(status, "ACTIVE") && strcmp(status, "INACTIVE") && strcmp(status, "REVOKED")) {
		put_msg(msg, msglen, "Invalid certificate status %.40s.", status);
		return DD_EINVAL;
	}
	if (!norm_id(id, nid)) {
		put_msg(msg, msglen, "The certificate %.70s does not exist.", id ? id : "");
		return DD_ENOTFOUND;
	}
	if (dd_db_begin_write(db))
		return DD_EIO;
	sqlite3_stmt *st = kind == DD_CERT_CA
		? dd_db_stmt(db, "SELECT status FROM ca_certificates WHERE account_region = ?1 AND id = ?2")
		: dd_db_stmt(db, "SELECT status FROM certificates WHERE account_region = ?1 AND id = ?2");
	if (!st)
		goto dberr;
	dd_bind_text(st, 1, account_region);
	dd_bind_text(st, 2, nid);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_reset(st);
		dd_db_rollback(db);
		put_msg(msg, msglen, "The %s %s does not exist.", kind == DD_CERT_CA ? "CA certificate" : "certificate", nid);
		return DD_ENOTFOUND;
	}
	char cur[32];
	snprintf(cur, sizeof cur, "%s", dd_col_text(st, 0));
	sqlite3_reset(st);
	if (kind == DD_CERT_DEVICE && strcmp(cur, "REVOKED") == 0) {
		dd_db_rollback(db);
		put_msg(msg, msglen, "The certificate %s is revoked; a revoked certificate's status cannot be changed.", nid);
		return DD_ECONFLICT;
	}
	if (kind == DD_CERT_DEVICE && strcmp(cur, "PENDING_TRANSFER") == 0) {
		dd_db_rollback(db);
		put_msg(msg, msglen, "The certificate %s is pending transfer; accept, reject or cancel the transfer first.", nid);
		return DD_ECONFLICT;
	}
	char gen[37];
	dd__uuid(gen);
	st = kind == DD_CERT_CA
		? dd_db_stmt(db, "UPDATE ca_certificates SET status = ?3, modified = ?4, customer_version = customer_version + 1,"
				 " generation_id = ?5 WHERE account_region = ?1 AND id = ?2")
		: dd_db_stmt(db, "UPDATE certificates SET status = ?3, modified = ?4, customer_version = customer_version + 1,"
				 " generation_id = ?5 WHERE account_region = ?1 AND id = ?2");
	if (!st)
		goto dberr;
	dd_bind_text(st, 1, account_region);
	dd_bind_text(st, 2, nid);
	dd_bind_text(st, 3, status);
	dd_bind_int64(st, 4, now_ms);
	dd_bind_text(st, 5, gen);
	if (dd_step_done(st) || dd_db_commit(db))
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
};

static int backfill_facts(struct dd_db *db, enum dd_cert_kind kind, const struct dd_blocklists *bl, size_t *updated)
{
	char after_acct[DD_ACCOUNT_REGION_SIZE] = "", after_id[65] = "";
	struct pending *batch = calloc(BATCH, sizeof *batch);
	if (!batch)
		return DD_ENOMEM;
	int rc = 0;
	for (;;) {
		sqlite3_stmt *st = kind == DD_CERT_CA
			? dd_db_stmt(db, "SELECT account_region, id, pem FROM ca_certificates WHERE (facts_version < ?3"
					 " OR subject IS NULL OR key_type IS NULL) AND (account_region, id) > (?1, ?2)"
					 " ORDER BY account_region, id LIMIT ?4")
			: dd_db_stmt(db, "SELECT account_region, id, pem FROM certificates WHERE (facts_version < ?3"
					 " OR subject IS NULL OR key_type IS NULL) AND (account_region, id) > (?1, ?2)"
					 " ORDER BY account_region, id LIMIT ?4");
		if (!st) {
			rc = DD_EIO;
			break;
		}
		dd_bind_text(st, 1, after_acct);
		dd_bind_text(st, 2, after_id);
		dd_bind_int64(st, 3, DD_CERT_FACTS_VERSION);
		dd_bind_int64(st, 4, BATCH);
		size_t n = 0;
		while (n < BATCH && sqlite3_step(st) == SQLITE_ROW) {
			snprintf(batch[n].account_region, sizeof batch[n].account_region, "%s", dd_col_text(st, 0));
			snprintf(batch[n].id, sizeof batch[n].id, "%s", dd_col_text(st, 1));
			batch[n].pem = strdup(dd_col_text(st, 2));
			n++;
		}
		sqlite3_reset(st);
		if (n == 0)
			break;
		snprintf(after_acct, sizeof after_acct, "%s", batch[n - 1].account_region);
		snprintf(after_id, sizeof after_id, "%s", batch[n - 1].id);
		if (dd_db_begin_write(db)) {
			rc = DD_EIO;
		}
		for (size_t i = 0; i < n; i++) {
			struct dd_cert_facts f;
			char err[256];
			if (!rc && batch[i].pem &&
			    dd_x509_parse(batch[i].pem, strlen(batch[i].pem), &f, err, sizeof err) == 0) {
				sqlite3_stmt *u = kind == DD_CERT_CA
					? dd_db_stmt(db, "UPDATE ca_certificates SET subject = ?3, issuer = ?4, subject_cn = ?5,"
							 " serial = ?6, not_before = ?7, not_after = ?8, key_type = ?9, key_bits = ?10,"
							 " curve = ?11, pubkey_sha256 = ?12, key_sha256 = ?13, key_sha1_80 = ?14,"
							 " is_ca = ?15, ski = ?16, aki = ?17, crl_urls = ?18, roca = ?19, debian = ?20,"
							 " facts_version = ?21, self_signed = ?22 WHERE account_region = ?1 AND id = ?2")
					: dd_db_stmt(db, "UPDATE certificates SET subject = ?3, issuer = ?4, subject_cn = ?5,"
							 " serial = ?6, not_before = ?7, not_after = ?8, key_type = ?9, key_bits = ?10,"
							 " curve = ?11, pubkey_sha256 = ?12, key_sha256 = ?13, key_sha1_80 = ?14,"
							 " is_ca = ?15, ski = ?16, aki = ?17, crl_urls = ?18, roca = ?19, debian = ?20,"
							 " facts_version = ?21, self_signed = ?22 WHERE account_region = ?1 AND id = ?2");
				if (!u) {
					rc = DD_EIO;
				} else {
					dd_bind_text(u, 1, batch[i].account_region);
					dd_bind_text(u, 2, batch[i].id);
					rc = bind_facts(u, 3, &f, dd_blocklists_check(bl, &f));
					if (!rc)
						rc = dd_step_done(u);
					else
						sqlite3_reset(u);
					if (!rc && updated)
						(*updated)++;
				}
				dd_cert_facts_clear(&f);
			} else if (!rc) {
				dd_log_warn("certs: backfill: %s certificate %s: stored PEM does not parse",
					    batch[i].account_region, batch[i].id);
			}
			free(batch[i].pem);
			batch[i].pem = NULL;
		}
		if (!rc && dd_db_commit(db))
			rc = DD_EIO;
		if (rc) {
			dd_db_rollback(db);
			break;
		}
	}
	free(batch);
	return rc;
}

struct verdict {
	char account_region[DD_ACCOUNT_REGION_SIZE];
	char id[65];
	int debian;
};

static int backfill_debian(struct dd_db *db, enum dd_cert_kind kind, const struct dd_blocklists *bl, size_t *updated)
{
	char after_acct[DD_ACCOUNT_REGION_SIZE] = "", after_id[65] = "";
	struct verdict *ch = calloc(BATCH * 5, sizeof *ch);
	if (!ch)
		return DD_ENOMEM;
	int rc = 0;
	for (;;) {
		sqlite3_stmt *st = kind == DD_CERT_CA
			? dd_db_stmt(db, "SELECT account_region, id, key_type, key_bits, curve, key_sha256, key_sha1_80, debian"
					 " FROM ca_certificates WHERE (account_region, id) > (?1, ?2) ORDER BY account_region, id LIMIT ?3")
			: dd_db_stmt(db, "SELECT account_region, id, key_type, key_bits, curve, key_sha256, key_sha1_80, debian"
					 " FROM certificates WHERE (account_region, id) > (?1, ?2) ORDER BY account_region, id LIMIT ?3");
		if (!st) {
			rc = DD_EIO;
			break;
		}
		dd_bind_text(st, 1, after_acct);
		dd_bind_text(st, 2, after_id);
		dd_bind_int64(st, 3, BATCH * 5);
		size_t rows = 0, n = 0;
		while (sqlite3_step(st) == SQLITE_ROW) {
			rows++;
			struct dd_cert_facts f;
			memset(&f, 0, sizeof f);
			snprintf(f.key_type, sizeof f.key_type, "%s", dd_col_text(st, 2));
			f.key_bits = sqlite3_column_int(st, 3);
			snprintf(f.curve, sizeof f.curve, "%s", dd_col_text(st, 4));
			snprintf(f.key_sha256, sizeof f.key_sha256, "%s", dd_col_text(st, 5));
			snprintf(f.key_sha1_80, sizeof f.key_sha1_80, "%s", dd_col_text(st, 6));
			int v = (int)dd_blocklists_check(bl, &f);
			snprintf(after_acct, sizeof after_acct, "%s", dd_col_text(st, 0));
			snprintf(after_id, sizeof after_id, "%s", dd_col_text(st, 1));
			if (v != sqlite3_column_int(st, 7)) {
				snprintf(ch[n].account_region, sizeof ch[n].account_region, "%s", after_acct);
				snprintf(ch[n].id, sizeof ch[n].id, "%s", after_id);
				ch[n].debian = v;
				n++;
			}
		}
		sqlite3_reset(st);
		if (n) {
			if (dd_db_begin_write(db)) {
				rc = DD_EIO;
				break;
			}
			for (size_t i = 0; !rc && i < n; i++) {
				sqlite3_stmt *u = kind == DD_CERT_CA
					? dd_db_stmt(db, "UPDATE ca_certificates SET debian = ?3 WHERE account_region = ?1 AND id = ?2")
					: dd_db_stmt(db, "UPDATE certificates SET debian = ?3 WHERE account_region = ?1 AND id = ?2");
				if (!u) {
					rc = DD_EIO;
					break;
				}
				dd_bind_text(u, 1, ch[i].account_region);
				dd_bind_text(u, 2, ch[i].id);
				dd_bind_int64(u, 3, ch[i].debian);
				rc = dd_step_done(u);
			}
			if (!rc && dd_db_commit(db))
				rc = DD_EIO;
			if (rc) {
				dd_db_rollback(db);
				break;
			}
			if (updated)
				*updated += n;
		}
		if (rows < BATCH * 5)
			break;
	}
	free(ch);
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

/* ---- registration ------------------------------------------------------------------------ */

/* ResourceAlreadyExistsException for a device certificate of c's account, naming it. */
static int already_registered(struct dd_ctx *c, const char *id)
{
	char arn[200];
	dd__arn_buf(c, arn, sizeof arn, "cert/%s", id);
	return dd_fail_exists(c, id, arn, "The certificate is already registered (certificateId %s).", id);
}

/* Is the device certificate f already registered in c's account? Fails c with
 * ResourceAlreadyExistsException when it is: AWS answers that before it looks at the
 * issuer, the validity or the key. */
static int check_not_registered(struct dd_ctx *c, const struct dd_cert_facts *f)
{
	sqlite3_stmt *st = dd_db_stmt(c->db, "SELECT 1 FROM certificates WHERE account_region = ?1 AND id = ?2");
	if (!st)
		return dd__db_fail(c);
	dd_bind_text(st, 1, c->account_region);
	dd_bind_text(st, 2, f->id);
	int r = sqlite3_step(st);
	sqlite3_reset(st);
	if (r == SQLITE_ROW)
		return already_registered(c, f->id);
	return r == SQLITE_DONE ? 0 : dd__db_fail(c);
}

/* Inserts a device certificate row (inside a write transaction the function opens). */
static int insert_cert(struct dd_ctx *c, const struct dd_cert_facts *f, const char *status, const char *ca_id,
		       const char *mode)
{
	char gen[37];
	dd__uuid(gen);
	if (dd_db_begin_write(c->db))
		return dd__db_fail(c);
	sqlite3_stmt *st = dd_db_stmt(c->db, "SELECT 1 FROM certificates WHERE account_region = ?1 AND id = ?2");
	if (!st)
		return dd__db_fail(c);
	dd_bind_text(st, 1, c->account_region);
	dd_bind_text(st, 2, f->id);
	bool dup = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_reset(st);
	if (dup) {
		dd_db_rollback(c->db);
		return already_registered(c, f->id);
	}
	st = dd_db_stmt(c->db,
		"INSERT INTO certificates(account_region, id, status, pem, ca_id, mode, owner, created, modified,"
		" customer_version, generation_id, subject, issuer, subject_cn, serial, not_before, not_after,"
		" key_type, key_bits, curve, pubkey_sha256, key_sha256, key_sha1_80, is_ca, ski, aki, crl_urls,"
		" roca, debian, facts_version, self_signed) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8, 1, ?9,"
		" ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28, ?29)");
	if (!st)
		return dd__db_fail(c);
	dd_bind_text(st, 1, c->account_region);
	dd_bind_text(st, 2, f->id);
	dd_bind_text(st, 3, status);
	dd_bind_text(st, 4, f->pem);
	dd_bind_text(st, 5, ca_id);
	dd_bind_text(st, 6, mode);
	dd_bind_text(st, 7, c->account);
	dd_bind_int64(st, 8, c->now_ms);
	dd_bind_text(st, 9, gen);
	if (bind_facts(st, 10, f, debian_of(c, f))) {
		sqlite3_reset(st);
		return dd__db_fail(c);
	}
	if (dd_step_done(st) || dd_db_commit(c->db))
		return dd__db_fail(c);
	return 0;
}

static json_t *cert_out(struct dd_ctx *c, const char *id)
{
	return json_pack("{s:o, s:s}", "certificateArn", dd__arn(c, "cert/%s", id), "certificateId", id);
}

static int device_status_ok(struct dd_ctx *c, const char *status)
{
	if (strcmp(status, "ACTIVE") && strcmp(status, "INACTIVE") && strcmp(status, "REVOKED"))
		return dd_fail(c, DD_EINVAL, IRE, "A certificate can be registered as ACTIVE, INACTIVE or REVOKED, not %s.",
			       status);
	return 0;
}

static int days_until_2049(int64_t now_ms)
{
	int64_t d = (AWS_CERT_NOT_AFTER - now_ms / 1000) / 86400;
	return d < 1 ? 1 : d > 36500 ? 36500 : (int)d;
}

static int create_from_pem(struct dd_ctx *c, json_t *in, char *pem, json_t **out)
{
	struct dd_cert_facts f;
	char err[512];
	if (dd_x509_parse(pem, strlen(pem), &f, err, sizeof err)) {
		dd_log_error("certs: a certificate issued by the server CA does not parse: %s", err);
		return dd_fail(c, DD_ECRYPTO, "InternalFailureException", "The certificate could not be issued.");
	}
	int rc = insert_cert(c, &f, dd__bool(in, "setAsActive", false) ? "ACTIVE" : "INACTIVE", NULL, "DEFAULT");
	if (!rc)
		*out = json_pack("{s:o, s:s, s:s}", "certificateArn", dd__arn(c, "cert/%s", f.id), "certificateId", f.id,
				 "certificatePem", f.pem);
	dd_cert_facts_clear(&f);
	return rc;
}

static int create_keys_and_certificate(struct dd_ctx *c, json_t *in, json_t **out)
{
	char *cert = NULL, *pub = NULL, *priv = NULL;
	if (!c->svc || !c->svc->ca_cert_pem ||
	    dd_x509_issue(c->svc->ca_cert_pem, c->svc->ca_key_pem, "AWS IoT Certificate", days_until_2049(c->now_ms),
			  &cert, &pub, &priv))
		return dd_fail(c, DD_ECRYPTO, "InternalFailureException", "The certificate could not be issued.");
	int rc = create_from_pem(c, in, cert, out);
	if (!rc)
		json_object_set_new(*out, "keyPair", json_pack("{s:s, s:s}", "PublicKey", pub, "PrivateKey", priv));
	free(cert);
	free(pub);
	if (priv)
		memset(priv, 0, strlen(priv));
	free(priv);
	return rc;
}

static int create_certificate_from_csr(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *csr = dd__str(in, "certificateSigningRequest");
	char err[512];
	char *cert = NULL;
	struct dd_cert_facts kf;
	if (!csr || dd_x509_key_facts_from_pem(csr, strlen(csr), NULL, &kf, err, sizeof err))
		return dd_fail(c, DD_EINVAL, IRE, "The certificate signing request is not valid: %s.", csr ? err : "empty");
	bool weak = strcmp(kf.key_type, "RSA") == 0 && kf.key_bits < 2048;
	bool unsupported = strcmp(kf.key_type, "RSA") != 0 && strcmp(kf.key_type, "EC") != 0;
	int bits = kf.key_bits;
	char kt[12];
	snprintf(kt, sizeof kt, "%s", kf.key_type);
	dd_cert_facts_clear(&kf);
	if (weak)
		return dd_fail(c, DD_EINVAL, IRE, "The certificate signing request has a %d-bit RSA key; at least 2048 bits are required.", bits);
	if (unsupported)
		return dd_fail(c, DD_EINVAL, IRE, "The certificate signing request has an unsupported %s key.", kt);
	if (!c->svc || !c->svc->ca_cert_pem)
		return dd_fail(c, DD_ECRYPTO, "InternalFailureException", "The server CA is not available.");
	int rc = dd_x509_issue_from_csr(c->svc->ca_cert_pem, c->svc->ca_key_pem, csr, days_until_2049(c->now_ms),
					&cert, err, sizeof err);
	if (rc == DD_EINVAL)
		return dd_fail(c, DD_EINVAL, IRE, "The certificate signing request is not valid: %s.", err);
	if (rc)
		return dd_fail(c, DD_ECRYPTO, "InternalFailureException", "The certificate could not be issued: %s.", err);
	rc = create_from_pem(c, in, cert, out);
	free(cert);
	return rc;
}

/* Finds the ACTIVE registered CA that signed f; fills ca_id. */
static int find_issuing_ca(struct dd_ctx *c, const struct dd_cert_facts *f, const char *ca_pem, char ca_id[65])
{
	if (ca_pem && *ca_pem) {
		struct dd_cert_facts ca;
		if (parse_cert(c, ca_pem, &ca, "CA certificate"))
			return c->err;
		sqlite3_stmt *st = dd_db_stmt(c->db, "SELECT status FROM ca_certificates WHERE account_region = ?1 AND id = ?2");
		if (!st) {
			dd_cert_facts_clear(&ca);
			return dd__db_fail(c);
		}
		dd_bind_text(st, 1, c->account_region);
		dd_bind_text(st, 2, ca.id);
		int found = sqlite3_step(st) == SQLITE_ROW;
		char status[32] = "";
		if (found)
			snprintf(status, sizeof status, "%s", dd_col_text(st, 0));
		sqlite3_reset(st);
		int rc = 0;
		if (!found)
			rc = dd_fail(c, DD_EINVAL, CVE, "The CA certificate %s is not registered in this account.", ca.id);
		else if (strcmp(status, "ACTIVE") != 0)
			rc = dd_fail(c, DD_ECONFLICT, CSE, "The CA certificate %s is %s; it must be ACTIVE to register certificates it signed.",
				     ca.id, status);
		else if (dd_x509_verify_issued_by(f->pem, ca.pem) != 0)
			rc = dd_fail(c, DD_EINVAL, CVE, "The certificate's signature does not verify with the key of CA certificate %s (issuer \"%s\").",
				     ca.id, ca.subject);
		if (!rc)
			snprintf(ca_id, 65, "%s", ca.id);
		dd_cert_facts_clear(&ca);
		return rc;
	}
	sqlite3_stmt *st = dd_db_stmt(c->db, "SELECT id, status, pem FROM ca_certificates WHERE account_region = ?1 AND subject = ?2"
					     " ORDER BY (status = 'ACTIVE') DESC, created");
	if (!st)
		return dd__db_fail(c);
	dd_bind_text(st, 1, c->account_region);
	dd_bind_text(st, 2, f->issuer);
	int n = 0, verified_inactive = 0;
	char inactive_id[65] = "";
	while (sqlite3_step(st) == SQLITE_ROW) {
		n++;
		if (dd_x509_verify_issued_by(f->pem, dd_col_text(st, 2)) != 0)
			continue;
		if (strcmp(dd_col_text(st, 1), "ACTIVE") == 0) {
			snprintf(ca_id, 65, "%s", dd_col_text(st, 0));
			sqlite3_reset(st);
			return 0;
		}
		verified_inactive++;
		snprintf(inactive_id, sizeof inactive_id, "%s", dd_col_text(st, 0));
	}
	sqlite3_reset(st);
	if (!n)
		return dd_fail(c, DD_EINVAL, CVE, "No registered CA certificate matches the certificate's issuer \"%s\".", f->issuer);
	if (verified_inactive)
		return dd_fail(c, DD_ECONFLICT, CSE, "The CA certificate %s that signed the certificate is not ACTIVE.", inactive_id);
	return dd_fail(c, DD_EINVAL, CVE, "The certificate's signature does not verify with the key of any registered CA certificate named \"%s\".",
		       f->issuer);
}

static int register_certificate(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *status = status_of(in);
	if (device_status_ok(c, status))
		return c->err;
	struct dd_cert_facts f;
	if (parse_cert(c, dd__str(in, "certificatePem"), &f, "certificate"))
		return c->err;
	char ca_id[65] = "";
	int rc = check_not_registered(c, &f);
	if (!rc)
		rc = check_cert(c, &f, "certificate");
	if (!rc)
		rc = find_issuing_ca(c, &f, dd__str(in, "caCertificatePem"), ca_id);
	if (!rc)
		rc = insert_cert(c, &f, status, ca_id, "DEFAULT");
	if (!rc)
		*out = cert_out(c, f.id);
	dd_cert_facts_clear(&f);
	return rc;
}

static int register_certificate_without_ca(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *status = dd__str(in, "status");
	if (!status)
		status = "INACTIVE";
	if (device_status_ok(c, status))
		return c->err;
	struct dd_cert_facts f;
	if (parse_cert(c, dd__str(in, "certificatePem"), &f, "certificate"))
		return c->err;
	int rc = check_not_registered(c, &f);
	if (!rc)
		rc = check_cert(c, &f, "certificate");
	if (!rc)
		rc = insert_cert(c, &f, status, NULL, "SNI_ONLY");
	if (!rc)
		*out = cert_out(c, f.id);
	dd_cert_facts_clear(&f);
	return rc;
}

/* ---- describe, list ------------------------------------------------------------------------ */

static json_t *validity(sqlite3_stmt *st, int col)
{
	return json_pack("{s:o, s:o}", "notBefore", dd_json_time(sqlite3_column_int64(st, col)),
			 "notAfter", dd_json_time(sqlite3_column_int64(st, col + 1)));
}

static int describe_certificate(struct dd_ctx *c, json_t *in, json_t **out)
{
	char id[65];
	const char *raw = dd__str(in, "certificateId");
	if (!norm_id(raw, id))
		return dd_fail(c, DD_ENOTFOUND, RNF, "The certificate %.70s does not exist.", raw ? raw : "");
	sqlite3_stmt *st = dd_db_stmt(c->db, "SELECT status, pem, ca_id, mode, owner, created, modified, customer_version,"
					     " generation_id, not_before, not_after FROM certificates WHERE account_region = ?1 AND id = ?2");
	if (!st)
		return dd__db_fail(c);
	dd_bind_text(st, 1, c->account_region);
	dd_bind_text(st, 2, id);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_reset(st);
		return dd_fail(c, DD_ENOTFOUND, RNF, "The certificate %s does not exist.", id);
	}
	json_t *d = json_pack("{s:o, s:s, s:s, s:s, s:s, s:o, s:o, s:I, s:{}, s:s, s:o, s:s}",
			      "certificateArn", dd__arn(c, "cert/%s", id), "certificateId", id,
			      "status", dd_col_text(st, 0), "certificatePem", dd_col_text(st, 1),
			      "ownedBy", dd_col_text(st, 4), "creationDate", dd_json_time(sqlite3_column_int64(st, 5)),
			      "lastModifiedDate", dd_json_time(sqlite3_column_int64(st, 6)),
			      "customerVersion", (json_int_t)sqlite3_column_int64(st, 7), "transferData",
			      "generationId", dd_col_text(st, 8), "validity", validity(st, 9),
			      "certificateMode", dd_col_text(st, 3));
	if (sqlite3_column_type(st, 2) != SQLITE_NULL && dd_col_text(st, 2)[0])
		json_object_set_new(d, "caCertificateId", json_string(dd_col_text(st, 2)));
	sqlite3_reset(st);
	*out = json_pack("{s:o}", "certificateDescription", d);
	return 0;
}

static json_t *cert_item(struct dd_ctx *c, sqlite3_stmt *st, bool ca, char *key, size_t keylen)
{
	const char *id = dd_col_text(st, 0);
	json_t *o = json_pack("{s:o, s:s, s:s, s:o}", "certificateArn", ca ? dd__arn(c, "cacert/%s", id) : dd__arn(c, "cert/%s", id),
			      "certificateId", id, "status", dd_col_text(st, 1),
			      "creationDate", dd_json_time(sqlite3_column_int64(st, 2)));
	if (!ca)
		json_object_set_new(o, "certificateMode", json_string(dd_col_text(st, 3)));
	snprintf(key, keylen, "%lld:%s", (long long)sqlite3_column_int64(st, 2), id);
	return o;
}

static json_t *cert_row(struct dd_ctx *c, sqlite3_stmt *st, char *key, size_t keylen)
{
	return cert_item(c, st, false, key, keylen);
}

static json_t *cacert_row(struct dd_ctx *c, sqlite3_stmt *st, char *key, size_t keylen)
{
	return cert_item(c, st, true, key, keylen);
}

/* Keyset paging on (created, id) in either order; the token carries "created:id". */
static int list_page(struct dd_ctx *c, json_t *in, enum dd_cert_kind kind, const char *ca_id, json_t **out)
{
	char after[128];
	int size;
	if (dd__page(c, in, "marker", "pageSize", 25, 250, after, sizeof after, &size))
		return c->err;
	bool asc = dd__bool(in, "ascendingOrder", false);
	int64_t acreated = asc ? -1 : INT64_MAX;
	char aid[65] = "";
	if (after[0] && dd__page_key_split(c, after, ':', "marker", &acreated, aid, sizeof aid))
		return c->err;
	const char *tmpl = kind == DD_CERT_CA ? dd__str(in, "templateName") : NULL;
	sqlite3_stmt *st;
	if (kind == DD_CERT_CA)
		st = asc ? dd_db_stmt(c->db, "SELECT id, status, created, mode FROM ca_certificates WHERE account_region = ?1"
					     " AND (created > ?2 OR (created = ?2 AND id > ?3))"
					     " AND (?5 IS NULL OR json_extract(registration_config, '$.templateName') = ?5)"
					     " ORDER BY created, id LIMIT ?4")
			 : dd_db_stmt(c->db, "SELECT id, status, created, mode FROM ca_certificates WHERE account_region = ?1"
					     " AND (created < ?2 OR (created = ?2 AND id < ?3))"
					     " AND (?5 IS NULL OR json_extract(registration_config, '$.templateName') = ?5)"
					     " ORDER BY created DESC, id DESC LIMIT ?4");
	else
		st = asc ? dd_db_stmt(c->db, "SELECT id, status, created, mode FROM certificates WHERE account_region = ?1"
					     " AND (created > ?2 OR (created = ?2 AND id > ?3)) AND (?5 IS NULL OR ca_id = ?5)"
					     " ORDER BY created, id LIMIT ?4")
			 : dd_db_stmt(c->db, "SELECT id, status, created, mode FROM certificates WHERE account_region = ?1"
					     " AND (created < ?2 OR (created = ?2 AND id < ?3)) AND (?5 IS NULL OR ca_id = ?5)"
					     " ORDER BY created DESC, id DESC LIMIT ?4");
	if (!st)
		return dd__db_fail(c);
	if (!asc && !after[0])
		snprintf(aid, sizeof aid, "%s", "g"); /* sorts after every hex id */
	dd_bind_text(st, 1, c->account_region);
	dd_bind_int64(st, 2, acreated);
	dd_bind_text(st, 3, aid);
	dd_bind_int64(st, 4, size + 1);
	dd_bind_text(st, 5, kind == DD_CERT_CA ? tmpl : ca_id);
	return dd__page_list(c, st, size, kind == DD_CERT_CA ? cacert_row : cert_row, "certificates", "nextMarker", out);
}

static int list_certificates(struct dd_ctx *c, json_t *in, json_t **out)
{
	return list_page(c, in, DD_CERT_DEVICE, NULL, out);
}

static int list_certificates_by_ca(struct dd_ctx *c, json_t *in, json_t **out)
{
	char id[65];
	const char *raw = dd__str(in, "caCertificateId");
	if (!norm_id(raw, id))
		return dd_fail(c, DD_EINVAL, IRE, "The CA certificate id %.70s is not valid.", raw ? raw : "");
	return list_page(c, in, DD_CERT_DEVICE, id, out);
}

static int list_ca_certificates(struct dd_ctx *c, json_t *in, json_t **out)
{
	return list_page(c, in, DD_CERT_CA, NULL, out);
}

/* ---- update, delete ------------------------------------------------------------------------- */

static int status_fail(struct dd_ctx *c, int rc, const char *msg)
{
	switch (rc) {
	case DD_ENOTFOUND: return dd_fail(c, rc, RNF, "%s", msg);
	case DD_EINVAL: return dd_fail(c, rc, IRE, "%s", msg);
	case DD_ECONFLICT: return dd_fail(c, rc, CSE, "%s", msg);
	default: return dd__db_fail(c);
	}
}

static int update_certificate(struct dd_ctx *c, json_t *in, json_t **out)
{
	char msg[512];
	int rc = dd_certs_set_status(c->db, c->account_region, DD_CERT_DEVICE, dd__str(in, "certificateId"),
				     dd__str(in, "newStatus"), c->now_ms, msg, sizeof msg);
	return rc ? status_fail(c, rc, msg) : 0;
}

/* "arn:aws:iot:<region>:<account>:cert/<id>" for LIKE (no wildcard: ids are hex). */
static void arn_like(struct dd_ctx *c, const char *kind, const char *id, char *buf, size_t len)
{
	snprintf(buf, len, "arn:aws:iot:%s:%s:%s/%s", c->region, c->account, kind, id);
}

static int delete_tags(struct dd_ctx *c, const char *like)
{
	sqlite3_stmt *st = dd_db_stmt(c->db, "DELETE FROM tags WHERE account_region = ?1 AND resource_arn LIKE ?2");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, c->account_region);
	dd_bind_text(st, 2, like);
	return dd_step_done(st);
}

static int delete_certificate(struct dd_ctx *c, json_t *in, json_t **out)
{
	char id[65], like[256];
	const char *raw = dd__str(in, "certificateId");
	if (!norm_id(raw, id))
		return dd_fail(c, DD_ENOTFOUND, RNF, "The certificate %.70s does not exist.", raw ? raw : "");
	bool force = dd__bool(in, "forceDelete", false);
	arn_like(c, "cert", id, like, sizeof like);
	if (dd_db_begin_write(c->db))
		return dd__db_fail(c);
	sqlite3_stmt *st = dd_db_stmt(c->db, "SELECT status FROM certificates WHERE account_region = ?1 AND id = ?2");
	if (!st)
		return dd__db_fail(c);
	dd_bind_text(st, 1, c->account_region);
	dd_bind_text(st, 2, id);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_reset(st);
		dd_db_rollback(c->db);
		return dd_fail(c, DD_ENOTFOUND, RNF, "The certificate %s does not exist.", id);
	}
	char status[32];
	snprintf(status, sizeof status, "%s", dd_col_text(st, 0));
	sqlite3_reset(st);
	if (strcmp(status, "ACTIVE") == 0 || strcmp(status, "PENDING_TRANSFER") == 0) {
		dd_db_rollback(c->db);
		return dd_fail(c, DD_ECONFLICT, CSE, "The certificate %s is %s; deactivate it before deleting it.", id, status);
	}
	st = dd_db_stmt(c->db, "SELECT thing_name FROM thing_principals WHERE account_region = ?1 AND principal LIKE ?2 LIMIT 1");
	if (!st)
		return dd__db_fail(c);
	dd_bind_text(st, 1, c->account_region);
	dd_bind_text(st, 2, like);
	if (sqlite3_step(st) == SQLITE_ROW) {
		char thing[256];
		snprintf(thing, sizeof thing, "%s", dd_col_text(st, 0));
		sqlite3_reset(st);
		dd_db_rollback(c->db);
		return dd_fail(c, DD_ECONFLICT, "DeleteConflictException",
			       "The certificate %s is attached to thing %s; detach it before deleting it.", id, thing);
	}
	sqlite3_reset(st);
	st = dd_db_stmt(c->db, "SELECT policy_name FROM policy_targets WHERE account_region = ?1 AND target LIKE ?2 LIMIT 1");
	if (!st)
		return dd__db_fail(c);
	dd_bind_text(st, 1, c->account_region);
	dd_bind_text(st, 2, like);
	if (sqlite3_step(st) == SQLITE_ROW && !force) {
		char pol[256];
		snprintf(pol, sizeof pol, "%s", dd_col_text(st, 0));
		sqlite3_reset(st);
		dd_db_rollback(c->db);
		return dd_fail(c, DD_ECONFLICT, "DeleteConflictException",
			       "The certificate %s has policy %s attached; detach its policies or use forceDelete.", id, pol);
	}
	sqlite3_reset(st);
	st = dd_db_stmt(c->db, "DELETE FROM policy_targets WHERE account_region = ?1 AND target LIKE ?2");
	if (!st)
		return dd__db_fail(c);
	dd_bind_text(st, 1, c->account_region);
	dd_bind_text(st, 2, like);
	if (dd_step_done(st) || delete_tags(c, like))
		return dd__db_fail(c);
	st = dd_db_stmt(c->db, "DELETE FROM certificates WHERE account_region = ?1 AND id = ?2");
	if (!st)
		return dd__db_fail(c);
	dd_bind_text(st, 1, c->account_region);
	dd_bind_text(st, 2, id);
	if (dd_step_done(st) || dd_db_commit(c->db))
		return dd__db_fail(c);
	return 0;
}

/* ---- registration code and CA certificates -------------------------------------------------- */

static int get_registration_code(struct dd_ctx *c, json_t *in, json_t **out)
{
	if (dd_db_begin_write(c->db))
		return dd__db_fail(c);
	sqlite3_stmt *st = dd_db_stmt(c->db, "SELECT value FROM settings WHERE account_region = ?1 AND key = 'registration_code'");
	if (!st)
		return dd__db_fail(c);
	dd_bind_text(st, 1, c->account_region);
	char code[65] = "";
	if (sqlite3_step(st) == SQLITE_ROW)
		snprintf(code, sizeof code, "%s", dd_col_text(st, 0));
	sqlite3_reset(st);
	if (!code[0]) {
		unsigned char r[32];
		if (dd_random_bytes(r, sizeof r)) {
			dd_db_rollback(c->db);
			return dd_fail(c, DD_ECRYPTO, "InternalFailureException", "No randomness for a registration code.");
		}
		dd_hex_encode(r, sizeof r, code);
		st = dd_db_stmt(c->db, "INSERT INTO settings(account_region, key, value) VALUES (?1, 'registration_code', ?2)");
		if (!st)
			return dd__db_fail(c);
		dd_bind_text(st, 1, c->account_region);
		dd_bind_text(st, 2, code);
		if (dd_step_done(st))
			return dd__db_fail(c);
	}
	if (dd_db_commit(c->db))
		return dd__db_fail(c);
	*out = json_pack("{s:s}", "registrationCode", code);
	return 0;
}

static int registration_code(struct dd_ctx *c, char code[65])
{
	code[0] = '\0';
	sqlite3_stmt *st = dd_db_stmt(c->db, "SELECT value FROM settings WHERE account_region = ?1 AND key = 'registration_code'");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, c->account_region);
	if (sqlite3_step(st) == SQLITE_ROW)
		snprintf(code, 65, "%s", dd_col_text(st, 0));
	sqlite3_reset(st);
	return 0;
}

static int check_verification(struct dd_ctx *c, const struct dd_cert_facts *ca, const char *vpem)
{
	struct dd_cert_facts v;
	if (parse_cert(c, vpem, &v, "verification certificate"))
		return c->err;
	char code[65];
	int rc = 0;
	char t[40];
	if (registration_code(c, code)) {
		rc = dd__db_fail(c);
	} else if (!code[0]) {
		rc = dd_fail(c, DD_EINVAL, "RegistrationCodeValidationException",
			     "This account has no registration code yet; call GetRegistrationCode first.");
	} else if (strcmp(v.subject_cn, code) != 0) {
		rc = dd_fail(c, DD_EINVAL, "RegistrationCodeValidationException",
			     "The verification certificate's common name \"%.80s\" is not this account's registration code.",
			     v.subject_cn);
	} else if (dd_x509_verify_issued_by(v.pem, ca->pem) != 0) {
		rc = dd_fail(c, DD_EINVAL, CVE, "The verification certificate is not signed by the CA certificate's private key.");
	} else if (c->now_ms / 1000 > v.not_after) {
		fmt_time(v.not_after, t, sizeof t);
		rc = dd_fail(c, DD_EINVAL, CVE, "The verification certificate has expired: its validity ended at %s.", t);
	} else if (c->now_ms / 1000 < v.not_before) {
		fmt_time(v.not_before, t, sizeof t);
		rc = dd_fail(c, DD_EINVAL, CVE, "The verification certificate is not yet valid: its validity starts at %s.", t);
	}
	dd_cert_facts_clear(&v);
	return rc;
}

static int put_tags(struct dd_ctx *c, const char *arn, json_t *tags)
{
	size_t i;
	json_t *t;
	json_array_foreach(tags, i, t) {
		const char *k = dd__str(t, "Key"), *v = dd__str(t, "Value");
		if (!k)
			continue;
		sqlite3_stmt *st = dd_db_stmt(c->db, "INSERT OR REPLACE INTO tags(account_region, resource_arn, key, value) VALUES (?1, ?2, ?3, ?4)");
		if (!st)
			return DD_EIO;
		dd_bind_text(st, 1, c->account_region);
		dd_bind_text(st, 2, arn);
		dd_bind_text(st, 3, k);
		dd_bind_text(st, 4, v ? v : "");
		if (dd_step_done(st))
			return DD_EIO;
	}
	return 0;
}

static int register_ca_certificate(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *mode = dd__str(in, "certificateMode");
	if (!mode)
		mode = "DEFAULT";
	const char *vpem = dd__str(in, "verificationCertificate");
	if (strcmp(mode, "DEFAULT") == 0 && !(vpem && *vpem))
		return dd_fail(c, DD_EINVAL, IRE, "A verificationCertificate is required to register a CA certificate in DEFAULT mode;"
			       " without one only certificateMode SNI_ONLY is accepted.");
	struct dd_cert_facts f;
	if (parse_cert(c, dd__str(in, "caCertificate"), &f, "CA certificate"))
		return c->err;
	int rc = check_cert(c, &f, "CA certificate");
	if (!rc && !f.is_ca)
		rc = dd_fail(c, DD_EINVAL, CVE, "The certificate is not a CA certificate: its basicConstraints do not say CA:TRUE.");
	if (!rc && vpem && *vpem)
		rc = check_verification(c, &f, vpem);
	if (rc) {
		dd_cert_facts_clear(&f);
		return rc;
	}
	json_t *rcfg = json_object_get(in, "registrationConfig");
	char *rcfg_text = json_is_object(rcfg) ? json_dumps(rcfg, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	char gen[37], arn[256];
	dd__uuid(gen);
	dd__arn_buf(c, arn, sizeof arn, "cacert/%s", f.id);
	if (dd_db_begin_write(c->db))
		goto dberr;
	sqlite3_stmt *st = dd_db_stmt(c->db, "SELECT 1 FROM ca_certificates WHERE account_region = ?1 AND id = ?2");
	if (!st)
		goto dberr;
	dd_bind_text(st, 1, c->account_region);
	dd_bind_text(st, 2, f.id);
	bool dup = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_reset(st);
	if (dup) {
		dd_db_rollback(c->db);
		char ca_arn[200];
		dd__arn_buf(c, ca_arn, sizeof ca_arn, "cacert/%s", f.id);
		rc = dd_fail_exists(c, f.id, ca_arn, "The CA certificate is already registered (certificateId %s).", f.id);
		goto out;
	}
	st = dd_db_stmt(c->db,
		"INSERT INTO ca_certificates(account_region, id, status, pem, mode, auto_registration, registration_config,"
		" owner, created, modified, customer_version, generation_id, subject, issuer, subject_cn, serial,"
		" not_before, not_after, key_type, key_bits, curve, pubkey_sha256, key_sha256, key_sha1_80, is_ca, ski,"
		" aki, crl_urls, roca, debian, facts_version, self_signed) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9,"
		" 1, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28, ?29, ?30)");
	if (!st)
		goto dberr;
	dd_bind_text(st, 1, c->account_region);
	dd_bind_text(st, 2, f.id);
	dd_bind_text(st, 3, dd__bool(in, "setAsActive", false) ? "ACTIVE" : "INACTIVE");
	dd_bind_text(st, 4, f.pem);
	dd_bind_text(st, 5, mode);
	dd_bind_text(st, 6, dd__bool(in, "allowAutoRegistration", false) ? "ENABLE" : "DISABLE");
	dd_bind_text(st, 7, rcfg_text);
	dd_bind_text(st, 8, c->account);
	dd_bind_int64(st, 9, c->now_ms);
	dd_bind_text(st, 10, gen);
	if (bind_facts(st, 11, &f, debian_of(c, &f))) {
		sqlite3_reset(st);
		goto dberr;
	}
	if (dd_step_done(st) || put_tags(c, arn, json_object_get(in, "tags")) || dd_db_commit(c->db))
		goto dberr;
	*out = json_pack("{s:s, s:s}", "certificateArn", arn, "certificateId", f.id);
	rc = 0;
	goto out;
dberr:
	rc = dd__db_fail(c);
out:
	free(rcfg_text);
	dd_cert_facts_clear(&f);
	return rc;
}

static int describe_ca_certificate(struct dd_ctx *c, json_t *in, json_t **out)
{
	char id[65];
	const char *raw = dd__str(in, "certificateId");
	if (!norm_id(raw, id))
		return dd_fail(c, DD_ENOTFOUND, RNF, "The CA certificate %.70s does not exist.", raw ? raw : "");
	sqlite3_stmt *st = dd_db_stmt(c->db, "SELECT status, pem, mode, owner, created, modified, customer_version,"
					     " generation_id, not_before, not_after, auto_registration, registration_config"
					     " FROM ca_certificates WHERE account_region = ?1 AND id = ?2");
	if (!st)
		return dd__db_fail(c);
	dd_bind_text(st, 1, c->account_region);
	dd_bind_text(st, 2, id);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_reset(st);
		return dd_fail(c, DD_ENOTFOUND, RNF, "The CA certificate %s does not exist.", id);
	}
	json_t *d = json_pack("{s:o, s:s, s:s, s:s, s:s, s:o, s:s, s:o, s:I, s:s, s:o, s:s}",
			      "certificateArn", dd__arn(c, "cacert/%s", id), "certificateId", id,
			      "status", dd_col_text(st, 0), "certificatePem", dd_col_text(st, 1),
			      "ownedBy", dd_col_text(st, 3), "creationDate", dd_json_time(sqlite3_column_int64(st, 4)),
			      "autoRegistrationStatus", dd_col_text(st, 10),
			      "lastModifiedDate", dd_json_time(sqlite3_column_int64(st, 5)),
			      "customerVersion", (json_int_t)sqlite3_column_int64(st, 6),
			      "generationId", dd_col_text(st, 7), "validity", validity(st, 8),
			      "certificateMode", dd_col_text(st, 2));
	*out = json_pack("{s:o}", "certificateDescription", d);
	if (sqlite3_column_type(st, 11) != SQLITE_NULL) {
		json_t *rc = json_loads(dd_col_text(st, 11), 0, NULL);
		if (rc)
			json_object_set_new(*out, "registrationConfig", rc);
	}
	sqlite3_reset(st);
	return 0;
}

static int update_ca_certificate(struct dd_ctx *c, json_t *in, json_t **out)
{
	char id[65], msg[512];
	const char *raw = dd__str(in, "certificateId");
	if (!norm_id(raw, id))
		return dd_fail(c, DD_ENOTFOUND, RNF, "The CA certificate %.70s does not exist.", raw ? raw : "");
	const char *ns = dd__str(in, "newStatus"), *nar = dd__str(in, "newAutoRegistrationStatus");
	json_t *rcfg = json_object_get(in, "registrationConfig");
	bool remove = dd__bool(in, "removeAutoRegistration", false);
	if (remove && json_is_object(rcfg))
		return dd_fail(c, DD_EINVAL, IRE, "registrationConfig and removeAutoRegistration cannot be used together.");
	if (ns) {
		int rc = dd_certs_set_status(c->db, c->account_region, DD_CERT_CA, id, ns, c->now_ms, msg, sizeof msg);
		if (rc)
			return status_fail(c, rc, msg);
	}
	char *rcfg_text = json_is_object(rcfg) ? json_dumps(rcfg, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	if (dd_db_begin_write(c->db)) {
		free(rcfg_text);
		return dd__db_fail(c);
	}
	sqlite3_stmt *st = dd_db_stmt(c->db,
		"UPDATE ca_certificates SET auto_registration = CASE WHEN ?5 THEN 'DISABLE' ELSE ifnull(?3, auto_registration) END,"
		" registration_config = CASE WHEN ?5 THEN NULL ELSE ifnull(?4, registration_config) END,"
		" modified = ?6 WHERE account_region = ?1 AND id = ?2");
	if (!st) {
		free(rcfg_text);
		return dd__db_fail(c);
	}
	dd_bind_text(st, 1, c->account_region);
	dd_bind_text(st, 2, id);
	dd_bind_text(st, 3, nar);
	dd_bind_text(st, 4, rcfg_text);
	dd_bind_int64(st, 5, remove);
	dd_bind_int64(st, 6, c->now_ms);
	free(rcfg_text);
	if (dd_step_done(st))
		return dd__db_fail(c);
	bool found = sqlite3_changes(dd_db_handle(c->db)) > 0;
	if (!found) {
		dd_db_rollback(c->db);
		return dd_fail(c, DD_ENOTFOUND, RNF, "The CA certificate %s does not exist.", id);
	}
	if (dd_db_commit(c->db))
		return dd__db_fail(c);
	return 0;
}

static int delete_ca_certificate(struct dd_ctx *c, json_t *in, json_t **out)
{
	char id[65], like[256];
	const char *raw = dd__str(in, "certificateId");
	if (!norm_id(raw, id))
		return dd_fail(c, DD_ENOTFOUND, RNF, "The CA certificate %.70s does not exist.", raw ? raw : "");
	arn_like(c, "cacert", id, like, sizeof like);
	if (dd_db_begin_write(c->db))
		return dd__db_fail(c);
	sqlite3_stmt *st = dd_db_stmt(c->db, "SELECT status FROM ca_certificates WHERE account_region = ?1 AND id = ?2");
	if (!st)
		return dd__db_fail(c);
	dd_bind_text(st, 1, c->account_region);
	dd_bind_text(st, 2, id);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_reset(st);
		dd_db_rollback(c->db);
		return dd_fail(c, DD_ENOTFOUND, RNF, "The CA certificate %s does not exist.", id);
	}
	bool active = strcmp(dd_col_text(st, 0), "ACTIVE") == 0;
	sqlite3_reset(st);
	if (active) {
		dd_db_rollback(c->db);
		return dd_fail(c, DD_ECONFLICT, CSE, "The CA certificate %s is ACTIVE; deactivate it before deleting it.", id);
	}
	st = dd_db_stmt(c->db, "DELETE FROM ca_certificates WHERE account_region = ?1 AND id = ?2");
	if (!st)
		return dd__db_fail(c);
	dd_bind_text(st, 1, c->account_region);
	dd_bind_text(st, 2, id);
	if (dd_step_done(st) || delete_tags(c, like) || dd_crl_forget_ca(c->db, c->account_region, id) || dd_db_commit(c->db))
		return dd__db_fail(c);
	return 0;
}

/* ---- CRL extension routes -------------------------------------------------------------------- */

static json_t *body_json(struct dd_ctx *c, const char *body, size_t len)
{
	json_error_t je;
	json_t *j = len ? json_loadb(body, len, JSON_REJECT_DUPLICATES, &je) : json_object();
	if (!json_is_object(j)) {
		json_decref(j);
		dd_fail(c, DD_EINVAL, IRE, "The request body must be a JSON object.");
		return NULL;
	}
	return j;
}

/* Decodes base64 (newlines allowed, at most 24 MiB of text) into an owned buffer. */
static int b64_decode(const char *s, unsigned char **out, size_t *out_len)
{
	size_t l = strnlen(s, (24u << 20) + 1);
	if (l > (24u << 20))
		return DD_EINVAL;
	unsigned char *buf = malloc(l / 4 * 3 + 4);
	EVP_ENCODE_CTX *ctx = EVP_ENCODE_CTX_new();
	int n1 = 0, n2 = 0;
	if (!buf || !ctx || (EVP_DecodeInit(ctx), EVP_DecodeUpdate(ctx, buf, &n1, (const unsigned char *)s, (int)l) < 0) ||
	    EVP_DecodeFinal(ctx, buf + n1, &n2) != 1 || n1 + n2 == 0) {
		EVP_ENCODE_CTX_free(ctx);
		free(buf);
		return DD_EINVAL;
	}
	EVP_ENCODE_CTX_free(ctx);
	*out = buf;
	*out_len = (size_t)(n1 + n2);
	return 0;
}

static int crl_import_route(struct dd_ctx *c, const char *body, size_t len, json_t **out)
{
	json_t *in = body_json(c, body, len);
	if (!in)
		return c->err;
	const char *ca = dd__str(in, "caCertificateId"), *pem = dd__str(in, "crlPem"), *b64 = dd__str(in, "crlDer");
	int rc = 0;
	char err[768] = "";
	unsigned char *der = NULL;
	size_t dlen = 0;
	if (!ca || (!pem && !b64) || (pem && b64)) {
		rc = dd_fail(c, DD_EINVAL, IRE, "The body needs caCertificateId and exactly one of crlPem (PEM text) or crlDer (base64).");
		goto out;
	}
	if (b64 && b64_decode(b64, &der, &dlen)) {
		rc = dd_fail(c, DD_EINVAL, IRE, "crlDer is not valid base64.");
		goto out;
	}
	struct dd_crl_import_result res;
	rc = dd_crl_import(c->db, c->account_region, ca, pem ? (const void *)pem : der, pem ? strlen(pem) : dlen, "import",
			   c->now_ms, &res, err, sizeof err);
	switch (rc) {
	case 0:
		*out = json_pack("{s:s, s:s, s:o, s:I}", "caCertificateId", res.ca_id, "issuer", res.issuer,
				 "thisUpdate", dd_json_time(res.this_update_ms), "revokedCount", (json_int_t)res.n_revoked);
		if (res.next_update_ms)
			json_object_set_new(*out, "nextUpdate", dd_json_time(res.next_update_ms));
		break;
	case DD_ENOTFOUND: rc = dd_fail(c, rc, RNF, "%s", err); break;
	case DD_EINVAL:
	case DD_ECRYPTO:
	case DD_ECONFLICT: rc = dd_fail(c, DD_EINVAL, IRE, "%s", err); break;
	default: rc = dd_fail(c, DD_EIO, "InternalFailureException", "%s", err);
	}
out:
	free(der);
	json_decref(in);
	return rc;
}

static int crl_status_route(struct dd_ctx *c, const char *body, size_t len, json_t **out)
{
	json_t *in = body_json(c, body, len);
	if (!in)
		return c->err;
	char id[65];
	const char *raw = dd__str(in, "caCertificateId");
	int rc = 0;
	if (raw && !norm_id(raw, id))
		rc = dd_fail(c, DD_EINVAL, IRE, "The caCertificateId is not valid.");
	else if (dd_crl_status_json(c->db, c->account_region, raw ? id : NULL, c->now_ms, out))
		rc = dd__db_fail(c);
	else
		json_object_set_new(*out, "pendingFetches", json_integer((json_int_t)dd_crl_refresh_pending(c->svc, c->account_region)));
	json_decref(in);
	return rc;
}

static int crl_refresh_route(struct dd_ctx *c, const char *body, size_t len, json_t **out)
{
	/* Queues the fetches and answers at once; POST /crl-status shows the outcome
	 * (pendingFetches reaches 0 when they are done). */
	struct dd_crl_refresh_stats s;
	if (dd_crl_refresh(c->svc, c->account_region, &s))
		return dd__db_fail(c);
	*out = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I}", "urls", (json_int_t)s.urls, "queued", (json_int_t)s.queued,
			 "alreadyQueued", (json_int_t)s.pending, "cached", (json_int_t)s.cached,
			 "backoff", (json_int_t)s.backoff, "notQueued", (json_int_t)s.dropped);
	return 0;
}

const struct dd_handler dd_cert_handlers[] = {
	{ "iot", "CreateKeysAndCertificate", create_keys_and_certificate },
	{ "iot", "CreateCertificateFromCsr", create_certificate_from_csr },
	{ "iot", "RegisterCertificate", register_certificate },
	{ "iot", "RegisterCertificateWithoutCA", register_certificate_without_ca },
	{ "iot", "DescribeCertificate", describe_certificate },
	{ "iot", "ListCertificates", list_certificates },
	{ "iot", "ListCertificatesByCA", list_certificates_by_ca },
	{ "iot", "UpdateCertificate", update_certificate },
	{ "iot", "DeleteCertificate", delete_certificate },
	{ "iot", "GetRegistrationCode", get_registration_code },
	{ "iot", "RegisterCACertificate", register_ca_certificate },
	{ "iot", "DescribeCACertificate", describe_ca_certificate },
	{ "iot", "ListCACertificates", list_ca_certificates },
	{ "iot", "UpdateCACertificate", update_ca_certificate },
	{ "iot", "DeleteCACertificate", delete_ca_certificate },
	{ NULL, NULL, NULL },
};

const struct dd_raw_route dd_cert_raw_routes[] = {
	{ "POST", "/crl-import", crl_import_route },
	{ "POST", "/crl-status", crl_status_route },
	{ "POST", "/crl-refresh", crl_refresh_route },
	{ NULL, NULL, NULL },
};

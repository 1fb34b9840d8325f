/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The certificate operations of the AWS IoT API: create from the server CA or a CSR,
 * register with or without a CA, describe, list, update, delete, the registration code
 * and CA proof of possession, and our CRL extension routes (POST /crl-import,
 * /crl-status, /crl-refresh). This file reads the JSON input, picks the AWS error codes
 * and builds the responses; the rules (status transitions, deletion, the issuing CA, the
 * stored facts) are src/core/pki/dd_certs.c, the CRL rules src/core/pki/dd_crl.c, and the
 * rows src/store/dd_store_certs.c and dd_store_crl.c. Registration refuses a certificate
 * that does not parse, is outside its validity period or has an unacceptable key; ids are
 * the lowercase hex SHA-256 of the DER; everything is scoped by account and region.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "api/dd_iot_certs.h"
#include "api/dd_api_common.h"
#include "dd/certs.h"
#include "dd/crl.h"
#include "dd/keys.h"
#include "dd/x509.h"
#include "store/dd_store_certs.h"
#include "store/dd_store_crl.h"

#define CVE "CertificateValidationException"
#define CSE "CertificateStateException"
#define IRE "InvalidRequestException"
#define RNF "ResourceNotFoundException"
/* AWS-issued device certificates expire at the end of 2049. */
#define AWS_CERT_NOT_AFTER 2524607999LL

/* ---- helpers ---------------------------------------------------------------------------- */

static void fmt_time(int64_t s, char *buf, size_t len)
{
	time_t t = (time_t)s;
	struct tm tm;
	if (gmtime_r(&t, &tm))
		strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
	else
		snprintf(buf, len, "%lld", (long long)s);
}

/* What AWS refuses at registration (dd_certs_check_registrable), as
 * CertificateValidationException. */
static int check_cert(struct dd_ctx *c, const struct dd_cert_facts *f, const char *what)
{
	char msg[256];
	int rc = dd_certs_check_registrable(f, c->now_ms, what, msg, sizeof msg);
	return rc ? dd_fail(c, rc, CVE, "%s", msg) : 0;
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
	if (dd_keys_blocklists_refresh(bl) < 0)
		dd_log_warn("blocklists: reload failed; keeping the lists loaded before");
	return dd_keys_blocklists_check(bl, f);
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
	int r = dd_store_certs_exists(c->db, c->account_region, DD_STORE_CERTS_DEVICE, f->id);
	if (r == 1)
		return already_registered(c, f->id);
	return r == 0 ? 0 : dd__db_fail(c);
}

/* Stores a device certificate (inside a write transaction the function opens). */
static int insert_cert(struct dd_ctx *c, const struct dd_cert_facts *f, const char *status, const char *ca_id,
		       const char *mode)
{
	struct dd_certs_new n = {
		.status = status, .ca_id = ca_id, .mode = mode, .owner = c->account, .now_ms = c->now_ms,
		.debian = debian_of(c, f),
	};
	if (dd_db_begin_write(c->db))
		return dd__db_fail(c);
	int rc = dd_certs_insert(c->db, c->account_region, DD_CERT_DEVICE, f, &n);
	if (rc == DD_EEXIST) {
		dd_db_rollback(c->db);
		return already_registered(c, f->id);
	}
	if (rc || dd_db_commit(c->db))
		return dd__db_fail(c);
	return 0;
}

static json_t *cert_out(struct dd_ctx *c, const char *id)
{
	return json_pack("{s:o, s:s}", "certificateArn", dd__arn(c, "cert/%s", id), "certificateId", id);
}

static int device_status_ok(struct dd_ctx *c, const char *status)
{
	if (!dd_certs_registrable_status(status))
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
	dd_x509_facts_clear(&f);
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
	dd_x509_facts_clear(&kf);
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
	struct dd_cert_facts ca;
	bool named = ca_pem && *ca_pem;
	if (named && parse_cert(c, ca_pem, &ca, "CA certificate"))
		return c->err;
	char msg[768];
	int rc = dd_certs_find_issuer(c->db, c->account_region, f, named ? &ca : NULL, ca_id, msg, sizeof msg);
	if (named)
		dd_x509_facts_clear(&ca);
	switch (rc) {
	case 0: return 0;
	case DD_EINVAL: return dd_fail(c, rc, CVE, "%s", msg);
	case DD_ECONFLICT: return dd_fail(c, rc, CSE, "%s", msg);
	default: return dd__db_fail(c);
	}
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
	dd_x509_facts_clear(&f);
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
	dd_x509_facts_clear(&f);
	return rc;
}

/* ---- describe, list ------------------------------------------------------------------------ */

static json_t *validity(const struct dd_store_certs_row *r)
{
	return json_pack("{s:o, s:o}", "notBefore", dd_json_time(r->f.not_before_ms),
			 "notAfter", dd_json_time(r->f.not_after_ms));
}

struct describe {
	struct dd_ctx *c;
	json_t *out;
};

static int describe_row(const struct dd_store_certs_row *r, void *ud)
{
	struct describe *d = ud;
	json_t *o = json_pack("{s:o, s:s, s:s, s:s, s:s, s:o, s:o, s:I, s:s, s:o, s:s}",
			      "certificateArn", dd__arn(d->c, "cert/%s", r->id), "certificateId", r->id,
			      "status", r->status, "certificatePem", r->pem, "ownedBy", r->owner,
			      "creationDate", dd_json_time(r->created_ms), "lastModifiedDate", dd_json_time(r->modified_ms),
			      "customerVersion", (json_int_t)r->customer_version, "generationId", r->generation_id,
			      "validity", validity(r), "certificateMode", r->mode);
	if (!o)
		return DD_ENOMEM;
	json_object_set_new(o, "transferData", json_object());
	if (r->ca_id[0])
		json_object_set_new(o, "caCertificateId", json_string(r->ca_id));
	d->out = json_pack("{s:o}", "certificateDescription", o);
	return d->out ? 0 : DD_ENOMEM;
}

static int describe_certificate(struct dd_ctx *c, json_t *in, json_t **out)
{
	char id[65];
	const char *raw = dd__str(in, "certificateId");
	if (!dd_certs_norm_id(raw, id))
		return dd_fail(c, DD_ENOTFOUND, RNF, "The certificate %.70s does not exist.", raw ? raw : "");
	struct describe d = { c, NULL };
	int rc = dd_store_certs_get(c->db, c->account_region, DD_STORE_CERTS_DEVICE, id, describe_row, &d);
	if (rc == DD_ENOTFOUND)
		return dd_fail(c, rc, RNF, "The certificate %s does not exist.", id);
	if (rc) {
		json_decref(d.out);
		return dd__db_fail(c);
	}
	*out = d.out;
	return 0;
}

struct listing {
	struct dd_ctx *c;
	bool ca;
	int size, n;
	json_t *arr;
	char key[128];
	bool more;
};

static int list_row(const struct dd_store_certs_row *r, void *ud)
{
	struct listing *l = ud;
	if (l->n == l->size) {
		l->more = true;
		return 1;
	}
	json_t *o = json_pack("{s:o, s:s, s:s, s:o}", "certificateArn",
			      l->ca ? dd__arn(l->c, "cacert/%s", r->id) : dd__arn(l->c, "cert/%s", r->id),
			      "certificateId", r->id, "status", r->status, "creationDate", dd_json_time(r->created_ms));
	if (!o)
		return DD_ENOMEM;
	if (!l->ca)
		json_object_set_new(o, "certificateMode", json_string(r->mode));
	json_array_append_new(l->arr, o);
	snprintf(l->key, sizeof l->key, "%lld:%s", (long long)r->created_ms, r->id);
	l->n++;
	return 0;
}

/* Keyset paging on (created, id) in either order; the token carries "created:id". */
static int list_page(struct dd_ctx *c, json_t *in, enum dd_store_certs_kind kind, const char *ca_id, json_t **out)
{
	char after[128];
	int size;
	if (dd__page(c, in, "marker", "pageSize", 25, 250, after, sizeof after, &size))
		return c->err;
	int64_t acreated = 0;
	char aid[65] = "";
	if (after[0] && dd__page_key_split(c, after, ':', "marker", &acreated, aid, sizeof aid))
		return c->err;
	struct dd_store_certs_page page = {
		.ascending = dd__bool(in, "ascendingOrder", false), .after_id = after[0] ? aid : NULL,
		.after_created_ms = acreated, .limit = size + 1, .ca_id = ca_id,
		.template_name = kind == DD_STORE_CERTS_CA ? dd__str(in, "templateName") : NULL,
	};
	struct listing l = { .c = c, .ca = kind == DD_STORE_CERTS_CA, .size = size, .arr = json_array() };
	int rc = dd_store_certs_list(c->db, c->account_region, kind, &page, list_row, &l);
	if (rc < 0 || !l.arr) {
		json_decref(l.arr);
		return dd__db_fail(c);
	}
	*out = json_pack("{s:o}", "certificates", l.arr);
	dd__page_next(*out, "nextMarker", l.more, l.key);
	return 0;
}

static int list_certificates(struct dd_ctx *c, json_t *in, json_t **out)
{
	return list_page(c, in, DD_STORE_CERTS_DEVICE, NULL, out);
}

static int list_certificates_by_ca(struct dd_ctx *c, json_t *in, json_t **out)
{
	char id[65];
	const char *raw = dd__str(in, "caCertificateId");
	if (!dd_certs_norm_id(raw, id))
		return dd_fail(c, DD_EINVAL, IRE, "The CA certificate id %.70s is not valid.", raw ? raw : "");
	return list_page(c, in, DD_STORE_CERTS_DEVICE, id, out);
}

static int list_ca_certificates(struct dd_ctx *c, json_t *in, json_t **out)
{
	return list_page(c, in, DD_STORE_CERTS_CA, NULL, out);
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

static int delete_fail(struct dd_ctx *c, int rc, bool attached, const char *msg)
{
	if (rc == DD_ECONFLICT && attached)
		return dd_fail(c, rc, "DeleteConflictException", "%s", msg);
	return status_fail(c, rc, msg);
}

static int delete_certificate(struct dd_ctx *c, json_t *in, json_t **out)
{
	char id[65], arn[256], msg[512];
	const char *raw = dd__str(in, "certificateId");
	if (!dd_certs_norm_id(raw, id))
		return dd_fail(c, DD_ENOTFOUND, RNF, "The certificate %.70s does not exist.", raw ? raw : "");
	dd__arn_buf(c, arn, sizeof arn, "cert/%s", id);
	bool attached = false;
	int rc = dd_certs_delete(c->db, c->account_region, DD_CERT_DEVICE, id, arn, dd__bool(in, "forceDelete", false),
				 &attached, msg, sizeof msg);
	return rc ? delete_fail(c, rc, attached, msg) : 0;
}

/* ---- registration code and CA certificates -------------------------------------------------- */

static int get_registration_code(struct dd_ctx *c, json_t *in, json_t **out)
{
	char code[65];
	if (dd_db_begin_write(c->db) || dd_store_certs_registration_code(c->db, c->account_region, code))
		return dd__db_fail(c);
	if (!code[0]) {
		unsigned char r[32];
		if (dd_random_bytes(r, sizeof r)) {
			dd_db_rollback(c->db);
			return dd_fail(c, DD_ECRYPTO, "InternalFailureException", "No randomness for a registration code.");
		}
		dd_hex_encode(r, sizeof r, code);
		if (dd_store_certs_registration_code_set(c->db, c->account_region, code))
			return dd__db_fail(c);
	}
	if (dd_db_commit(c->db))
		return dd__db_fail(c);
	*out = json_pack("{s:s}", "registrationCode", code);
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
	if (dd_store_certs_registration_code(c->db, c->account_region, code)) {
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
	dd_x509_facts_clear(&v);
	return rc;
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
		dd_x509_facts_clear(&f);
		return rc;
	}
	json_t *rcfg = json_object_get(in, "registrationConfig");
	char *rcfg_text = json_is_object(rcfg) ? json_dumps(rcfg, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	char arn[256];
	dd__arn_buf(c, arn, sizeof arn, "cacert/%s", f.id);
	struct dd_certs_new n = {
		.status = dd__bool(in, "setAsActive", false) ? "ACTIVE" : "INACTIVE", .mode = mode, .owner = c->account,
		.now_ms = c->now_ms, .debian = debian_of(c, &f),
		.auto_registration = dd__bool(in, "allowAutoRegistration", false) ? "ENABLE" : "DISABLE",
		.registration_config = rcfg_text,
	};
	if (dd_db_begin_write(c->db))
		goto dberr;
	rc = dd_certs_insert(c->db, c->account_region, DD_CERT_CA, &f, &n);
	if (rc == DD_EEXIST) {
		dd_db_rollback(c->db);
		rc = dd_fail_exists(c, f.id, arn, "The CA certificate is already registered (certificateId %s).", f.id);
		goto out;
	}
	if (rc || dd__tags_put(c, arn, json_object_get(in, "tags")) || dd_db_commit(c->db))
		goto dberr;
	*out = json_pack("{s:s, s:s}", "certificateArn", arn, "certificateId", f.id);
	rc = 0;
	goto out;
dberr:
	rc = dd__db_fail(c);
out:
	free(rcfg_text);
	dd_x509_facts_clear(&f);
	return rc;
}

static int describe_ca_row(const struct dd_store_certs_row *r, void *ud)
{
	struct describe *d = ud;
	json_t *o = json_pack("{s:o, s:s, s:s, s:s, s:s, s:o, s:s, s:o, s:I, s:s, s:o, s:s}",
			      "certificateArn", dd__arn(d->c, "cacert/%s", r->id), "certificateId", r->id,
			      "status", r->status, "certificatePem", r->pem, "ownedBy", r->owner,
			      "creationDate", dd_json_time(r->created_ms), "autoRegistrationStatus", r->auto_registration,
			      "lastModifiedDate", dd_json_time(r->modified_ms),
			      "customerVersion", (json_int_t)r->customer_version, "generationId", r->generation_id,
			      "validity", validity(r), "certificateMode", r->mode);
	d->out = o ? json_pack("{s:o}", "certificateDescription", o) : NULL;
	if (!d->out)
		return DD_ENOMEM;
	if (r->registration_config) {
		json_t *rc = json_loads(r->registration_config, 0, NULL);
		if (rc)
			json_object_set_new(d->out, "registrationConfig", rc);
	}
	return 0;
}

static int describe_ca_certificate(struct dd_ctx *c, json_t *in, json_t **out)
{
	char id[65];
	const char *raw = dd__str(in, "certificateId");
	if (!dd_certs_norm_id(raw, id))
		return dd_fail(c, DD_ENOTFOUND, RNF, "The CA certificate %.70s does not exist.", raw ? raw : "");
	struct describe d = { c, NULL };
	int rc = dd_store_certs_get(c->db, c->account_region, DD_STORE_CERTS_CA, id, describe_ca_row, &d);
	if (rc == DD_ENOTFOUND)
		return dd_fail(c, rc, RNF, "The CA certificate %s does not exist.", id);
	if (rc) {
		json_decref(d.out);
		return dd__db_fail(c);
	}
	*out = d.out;
	return 0;
}

static int update_ca_certificate(struct dd_ctx *c, json_t *in, json_t **out)
{
	char id[65], msg[512];
	const char *raw = dd__str(in, "certificateId");
	if (!dd_certs_norm_id(raw, id))
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
	int rc = dd_store_certs_ca_set_registration(c->db, c->account_region, id, nar, rcfg_text, remove, c->now_ms);
	free(rcfg_text);
	if (rc == DD_ENOTFOUND) {
		dd_db_rollback(c->db);
		return dd_fail(c, DD_ENOTFOUND, RNF, "The CA certificate %s does not exist.", id);
	}
	if (rc || dd_db_commit(c->db))
		return dd__db_fail(c);
	return 0;
}

static int delete_ca_certificate(struct dd_ctx *c, json_t *in, json_t **out)
{
	char id[65], arn[256], msg[512];
	const char *raw = dd__str(in, "certificateId");
	if (!dd_certs_norm_id(raw, id))
		return dd_fail(c, DD_ENOTFOUND, RNF, "The CA certificate %.70s does not exist.", raw ? raw : "");
	dd__arn_buf(c, arn, sizeof arn, "cacert/%s", id);
	int rc = dd_certs_delete(c->db, c->account_region, DD_CERT_CA, id, arn, false, NULL, msg, sizeof msg);
	return rc ? status_fail(c, rc, msg) : 0;
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

struct status_acc {
	json_t *revoked;
	json_t *ancestors;
	const char *ca_filter;
};

static int status_visit(const struct dd_cert_info *ci, void *ud)
{
	struct status_acc *a = ud;
	if (ci->revoked && (!a->ca_filter || strcmp(ci->revoked_by, a->ca_filter) == 0))
		json_array_append_new(a->revoked, json_pack("{s:s, s:s, s:s, s:s}", "certificateId", ci->id,
							     "status", ci->status, "serial", ci->serial,
							     "revokedByCaCertificateId", ci->revoked_by));
	if (ci->revoked_ancestor[0])
		json_array_append_new(a->ancestors, json_pack("{s:s, s:s, s:s, s:s}", "certificateId", ci->id,
							      "kind", ci->kind == DD_CERT_CA ? "CA_CERTIFICATE" : "DEVICE_CERTIFICATE",
							      "status", ci->status,
							      "revokedCaCertificateId", ci->revoked_ancestor));
	return 0;
}

struct status_now {
	json_t *arr;
	int64_t now_ms;
};

static int status_crl(const struct dd_store_crl_row *r, void *ud)
{
	struct status_now *s = ud;
	json_t *o = json_pack("{s:s, s:s, s:o, s:s, s:o, s:I, s:b}", "caCertificateId", r->ca_id, "issuer", r->issuer,
			      "thisUpdate", dd_json_time(r->this_update_ms), "source", r->source,
			      "storedDate", dd_json_time(r->stored_ms), "revokedCount", (json_int_t)r->n_revoked,
			      "valid", dd_crl_valid_at(r->this_update_ms, r->next_update_ms, s->now_ms));
	if (!o)
		return DD_ENOMEM;
	if (r->next_update_ms)
		json_object_set_new(o, "nextUpdate", dd_json_time(r->next_update_ms));
	json_array_append_new(s->arr, o);
	return 0;
}

static int status_fetch(const struct dd_store_crl_fetch *f, void *ud)
{
	struct status_now *s = ud;
	json_t *o = json_pack("{s:s, s:o, s:I, s:I}", "url", f->url, "lastAttempt", dd_json_time(f->last_attempt_ms),
			      "fetchCount", (json_int_t)f->fetches, "failureCount", (json_int_t)f->failures);
	if (!o)
		return DD_ENOMEM;
	if (f->last_success_ms)
		json_object_set_new(o, "lastSuccess", dd_json_time(f->last_success_ms));
	if (f->ok_until_ms)
		json_object_set_new(o, "cachedUntil", dd_json_time(f->ok_until_ms));
	if (f->ca_id)
		json_object_set_new(o, "caCertificateId", json_string(f->ca_id));
	if (f->last_error)
		json_object_set_new(o, "lastError", json_string(f->last_error));
	json_array_append_new(s->arr, o);
	return 0;
}

int dd_iot_certs_crl_status(struct dd_db *db, const char *account_region, const char *ca_id, int64_t now_ms, json_t **out)
{
	*out = NULL;
	struct status_now crls = { json_array(), now_ms }, fetches = { json_array(), now_ms };
	struct status_acc dev = { json_array(), json_array(), ca_id };
	struct status_acc cas = { json_array(), json_array(), ca_id };
	/* one snapshot for all four reads: a fetch that commits between them would otherwise
	 * show in the fetches and revocations but not in the CRLs */
	bool own_tx = !dd_db_in_tx(db);
	int rc = own_tx && dd_db_begin_read(db) ? DD_EIO : 0;
	if (!rc)
		rc = dd_store_crl_list(db, account_region, ca_id, status_crl, &crls);
	if (!rc)
		rc = dd_store_crl_fetch_list(db, account_region, ca_id, status_fetch, &fetches);
	if (!rc)
		rc = dd_certs_foreach(db, account_region, DD_CERT_DEVICE, now_ms, status_visit, &dev);
	if (!rc)
		rc = dd_certs_foreach(db, account_region, DD_CERT_CA, now_ms, status_visit, &cas);
	if (own_tx && dd_db_in_tx(db))
		dd_db_rollback(db); /* read only: nothing to keep */
	json_array_extend(dev.ancestors, cas.ancestors);
	json_decref(cas.ancestors);
	json_t *o = json_pack("{s:o, s:o, s:o, s:o, s:o}", "crls", crls.arr, "fetches", fetches.arr,
			      "revokedCertificates", dev.revoked, "revokedCACertificates", cas.revoked,
			      "intermediateCARevoked", dev.ancestors);
	if (rc) {
		json_decref(o);
		return rc;
	}
	*out = o;
	return o ? 0 : DD_ENOMEM;
}

static int crl_status_route(struct dd_ctx *c, const char *body, size_t len, json_t **out)
{
	json_t *in = body_json(c, body, len);
	if (!in)
		return c->err;
	char id[65];
	const char *raw = dd__str(in, "caCertificateId");
	int rc = 0;
	/* counted before the snapshot is taken: a fetch stops being pending only after it
	 * committed, so pendingFetches 0 means the reads below see every fetch */
	size_t pending = dd_crl_refresh_pending(c->svc, c->account_region);
	if (raw && !dd_certs_norm_id(raw, id))
		rc = dd_fail(c, DD_EINVAL, IRE, "The caCertificateId is not valid.");
	else if (dd_iot_certs_crl_status(c->db, c->account_region, raw ? id : NULL, c->now_ms, out))
		rc = dd__db_fail(c);
	else
		json_object_set_new(*out, "pendingFetches", json_integer((json_int_t)pending));
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

const struct dd_handler dd_iot_certs_handlers[] = {
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

const struct dd_raw_route dd_iot_certs_raw_routes[] = {
	{ "POST", "/crl-import", crl_import_route },
	{ "POST", "/crl-status", crl_status_route },
	{ "POST", "/crl-refresh", crl_refresh_route },
	{ NULL, NULL, NULL },
};

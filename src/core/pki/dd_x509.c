/* SPDX-License-Identifier: Apache-2.0 */
/*
 * X.509 on OpenSSL 3: parses a certificate once into struct dd_cert_facts (every field
 * the registry stores and the audit checks read, including the key-quality hashes and
 * the ROCA verdict), verifies issuer signatures, parses and verifies CRLs (revoked
 * serials kept sorted for binary search), and runs the server's own CA (fetching CRLs over
 * HTTP is dd_fetch.c's job).
 * Every input is bounded before it reaches OpenSSL; out-parameters are written only on
 * success; no function here touches the store. Validity dates and key sizes are not
 * judged here: callers do, with their own messages.
 */
#include "dd/x509.h"
#include "dd/keys.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#define CERT_MAX (64 * 1024)
#define CRL_MAX (16 * 1024 * 1024)
#define MODULUS_MAX 8192
#define CRL_URL_MAX 2048
#define CRL_URLS_MAX 16

static void set_err(char *err, size_t errlen, const char *fmt, ...) DD_PRINTF(3, 4);
static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	if (!err || errlen == 0)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* The first OpenSSL error reason, for messages; clears the queue. */
static const char *ossl_reason(char *buf, size_t len)
{
	unsigned long e = ERR_peek_last_error();
	if (e == 0)
		snprintf(buf, len, "malformed input");
	else
		ERR_error_string_n(e, buf, len);
	ERR_clear_error();
	return buf;
}

static bool looks_pem(const void *data, size_t len)
{
	return memmem(data, len, "-----BEGIN ", 11) != NULL;
}

/* Loads a certificate from PEM or DER of at most CERT_MAX bytes. */
static X509 *load_cert(const void *data, size_t len)
{
	if (!data || len == 0 || len > CERT_MAX)
		return NULL;
	X509 *x = NULL;
	if (looks_pem(data, len)) {
		BIO *b = BIO_new_mem_buf(data, (int)len);
		if (b)
			x = PEM_read_bio_X509(b, NULL, NULL, NULL);
		BIO_free(b);
	} else {
		const unsigned char *p = data;
		x = d2i_X509(NULL, &p, (long)len);
		if (x && p != (const unsigned char *)data + len) {
			X509_free(x);
			x = NULL;
		}
	}
	return x;
}

static X509 *load_cert_str(const char *pem)
{
	if (!pem)
		return NULL;
	return load_cert(pem, strnlen(pem, CERT_MAX + 1));
}

static char *pem_of_bio(BIO *b)
{
	char *data;
	long n = BIO_get_mem_data(b, &data);
	if (n <= 0)
		return NULL;
	char *s = malloc((size_t)n + 1);
	if (!s)
		return NULL;
	memcpy(s, data, (size_t)n);
	s[n] = '\0';
	return s;
}

static char *cert_to_pem(X509 *x)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *s = NULL;
	if (b && PEM_write_bio_X509(b, x))
		s = pem_of_bio(b);
	BIO_free(b);
	return s;
}

/* One-line RFC 2253 name with UTF-8 kept; truncated to out's size. */
static void name_oneline(const X509_NAME *name, char *out, size_t outlen)
{
	out[0] = '\0';
	BIO *b = BIO_new(BIO_s_mem());
	if (!b)
		return;
	if (X509_NAME_print_ex(b, name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) >= 0) {
		char *data;
		long n = BIO_get_mem_data(b, &data);
		if (n > 0) {
			size_t l = (size_t)n < outlen - 1 ? (size_t)n : outlen - 1;
			/* Do not cut a UTF-8 sequence in half. */
			while (l > 0 && (size_t)n > l && ((unsigned char)data[l] & 0xC0) == 0x80)
				l--;
			memcpy(out, data, l);
			out[l] = '\0';
		}
	}
	BIO_free(b);
}

static void name_cn(const X509_NAME *name, char *out, size_t outlen)
{
	out[0] = '\0';
	int idx = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
	if (idx < 0)
		return;
	const ASN1_STRING *s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, idx));
	unsigned char *u = NULL;
	int n = ASN1_STRING_to_UTF8(&u, s);
	if (n > 0) {
		size_t l = strnlen((const char *)u, (size_t)n);
		if (l > outlen - 1)
			l = outlen - 1;
		while (l > 0 && l < (size_t)n && (u[l] & 0xC0) == 0x80)
			l--;
		memcpy(out, u, l);
		out[l] = '\0';
	}
	OPENSSL_free(u);
}

/* Lowercase hex of a BIGNUM without leading zeros ("0" for zero; "-" kept). */
static int bn_hex_lower(const BIGNUM *bn, char *out, size_t outlen)
{
	char *h = BN_bn2hex(bn);
	if (!h)
		return DD_ENOMEM;
	const char *p = h;
	bool neg = false;
	if (*p == '-') {
		neg = true;
		p++;
	}
	while (p[0] == '0' && p[1] != '\0')
		p++;
	size_t l = strlen(p);
	if (l + (neg ? 1 : 0) + 1 > outlen) {
		OPENSSL_free(h);
		return DD_EINVAL;
	}
	size_t o = 0;
	if (neg)
		out[o++] = '-';
	for (size_t i = 0; i < l; i++) {
		char c = p[i];
		out[o++] = (char)((c >= 'A' && c <= 'F') ? c - 'A' + 'a' : c);
	}
	out[o] = '\0';
	OPENSSL_free(h);
	return 0;
}

static int asn1_int_hex(const ASN1_INTEGER *ai, char *out, size_t outlen)
{
	BIGNUM *bn = ASN1_INTEGER_to_BN(ai, NULL);
	if (!bn)
		return DD_EINVAL;
	int rc = bn_hex_lower(bn, out, outlen);
	BN_free(bn);
	return rc;
}

static int asn1_time_epoch(const ASN1_TIME *t, int64_t *out)
{
	struct tm tm;
	if (!t || !ASN1_TIME_to_tm(t, &tm))
		return DD_EINVAL;
	*out = dd_time_days_from_civil((int64_t)tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday) * 86400 +
	       tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec;
	return 0;
}

static void sha256_hex_of(const unsigned char *p, size_t n, char out[65])
{
	dd_hex_sha256(p, n, out);
}

/* key_sha256 and key_sha1_80 of an RSA modulus (big-endian, leading zeros stripped),
 * and its ROCA verdict. */
static void rsa_modulus_hashes(const unsigned char *n, size_t len, struct dd_cert_facts *f)
{
	while (len > 0 && n[0] == 0) {
		n++;
		len--;
	}
	sha256_hex_of(n, len, f->key_sha256);
	/* "Modulus=" + uppercase hex without a leading zero nibble + "\n". */
	size_t tl = 8 + 2 * len + 1;
	char *text = malloc(tl + 1);
	if (text) {
		static const char hx[] = "0123456789ABCDEF";
		memcpy(text, "Modulus=", 8);
		size_t o = 8;
		for (size_t i = 0; i < len; i++) {
			if (i > 0 || (n[i] >> 4) != 0)
				text[o++] = hx[n[i] >> 4];
			text[o++] = hx[n[i] & 15];
		}
		text[o++] = '\n';
		unsigned char md[SHA_DIGEST_LENGTH];
		SHA1((const unsigned char *)text, o, md);
		dd_hex_encode(md + 10, 10, f->key_sha1_80);
		free(text);
	}
	f->roca = dd_keys_roca_test(n, len);
}

/* Fills the key fields of f from pkey. */
static int key_facts(EVP_PKEY *pkey, struct dd_cert_facts *f)
{
	int id = EVP_PKEY_get_base_id(pkey);
	const char *type = "OTHER";
	switch (id) {
	case EVP_PKEY_RSA:
	case EVP_PKEY_RSA_PSS: type = "RSA"; break;
	case EVP_PKEY_EC: type = "EC"; break;
	case EVP_PKEY_ED25519: type = "ED25519"; break;
	case EVP_PKEY_ED448: type = "ED448"; break;
	case EVP_PKEY_DSA: type = "DSA"; break;
	default: break;
	}
	snprintf(f->key_type, sizeof f->key_type, "%s", type);
	f->key_bits = EVP_PKEY_get_bits(pkey);
	f->roca = DD_KEYQ_NOT_CHECKED;

	unsigned char *der = NULL;
	int dl = i2d_PUBKEY(pkey, &der);
	if (dl <= 0)
		return DD_EINVAL;
	sha256_hex_of(der, (size_t)dl, f->pubkey_sha256);
	OPENSSL_free(der);

	if (strcmp(type, "RSA") == 0) {
		BIGNUM *n = NULL;
		if (!EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_N, &n))
			return DD_EINVAL;
		int nb = BN_num_bytes(n);
		unsigned char *buf = nb > 0 && nb <= MODULUS_MAX ? malloc((size_t)nb) : NULL;
		if (!buf) {
			BN_free(n);
			return DD_EINVAL;
		}
		BN_bn2bin(n, buf);
		rsa_modulus_hashes(buf, (size_t)nb, f);
		free(buf);
		BN_free(n);
	} else if (strcmp(type, "EC") == 0) {
		size_t gl = 0;
		if (!EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, f->curve, sizeof f->curve, &gl))
			f->curve[0] = '\0';
		BIGNUM *x = NULL;
		if (EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_EC_PUB_X, &x)) {
			unsigned char buf[256];
			int xl = BN_num_bytes(x);
			if (xl > 0 && xl <= (int)sizeof buf) {
				BN_bn2bin(x, buf);
				sha256_hex_of(buf, (size_t)xl, f->key_sha256);
			}
			BN_free(x);
		}
	}
	return 0;
}

void dd_x509_facts_clear(struct dd_cert_facts *f)
{
	if (!f)
		return;
	free(f->pem);
	for (size_t i = 0; i < f->n_crl_urls; i++)
		free(f->crl_urls[i]);
	free(f->crl_urls);
	memset(f, 0, sizeof *f);
}

static bool is_http_url(const char *s, size_t len)
{
	return (len > 7 && strncasecmp(s, "http://", 7) == 0) || (len > 8 && strncasecmp(s, "https://", 8) == 0);
}

static int crl_urls(X509 *x, struct dd_cert_facts *f)
{
	STACK_OF(DIST_POINT) *dps = X509_get_ext_d2i(x, NID_crl_distribution_points, NULL, NULL);
	if (!dps)
		return 0;
	int rc = 0;
	for (int i = 0; i < sk_DIST_POINT_num(dps) && rc == 0; i++) {
		DIST_POINT *dp = sk_DIST_POINT_value(dps, i);
		if (!dp->distpoint || dp->distpoint->type != 0)
			continue;
		GENERAL_NAMES *names = dp->distpoint->name.fullname;
		for (int k = 0; k < sk_GENERAL_NAME_num(names); k++) {
			GENERAL_NAME *gn = sk_GENERAL_NAME_value(names, k);
			if (gn->type != GEN_URI)
				continue;
			const ASN1_IA5STRING *u = gn->d.uniformResourceIdentifier;
			const char *s = (const char *)ASN1_STRING_get0_data(u);
			int ul = ASN1_STRING_length(u);
			if (ul <= 0 || ul > CRL_URL_MAX || strnlen(s, (size_t)ul) != (size_t)ul ||
			    !is_http_url(s, (size_t)ul))
				continue;
			if (f->n_crl_urls >= CRL_URLS_MAX)
				break;
			char **nu = realloc(f->crl_urls, (f->n_crl_urls + 1) * sizeof *nu);
			if (!nu) {
				rc = DD_ENOMEM;
				break;
			}
			f->crl_urls = nu;
			char *c = strndup(s, (size_t)ul);
			if (!c) {
				rc = DD_ENOMEM;
				break;
			}
			f->crl_urls[f->n_crl_urls++] = c;
		}
	}
	CRL_DIST_POINTS_free(dps);
	return rc;
}

static void octets_hex(const ASN1_OCTET_STRING *o, char *out, size_t outlen)
{
	out[0] = '\0';
	if (!o)
		return;
	int l = ASN1_STRING_length(o);
	if (l <= 0 || (size_t)l * 2 + 1 > outlen)
		return;
	dd_hex_encode(ASN1_STRING_get0_data(o), (size_t)l, out);
}

int dd_x509_parse(const void *data, size_t len, struct dd_cert_facts *out, char *err, size_t errlen)
{
	char why[256];
	if (!data || !out || len == 0) {
		set_err(err, errlen, "certificate could not be parsed: empty input");
		return DD_EINVAL;
	}
	if (len > CERT_MAX) {
		set_err(err, errlen, "certificate could not be parsed: larger than %d bytes", CERT_MAX);
		return DD_EINVAL;
	}
	X509 *x = load_cert(data, len);
	if (!x) {
		set_err(err, errlen, "certificate could not be parsed: %s", ossl_reason(why, sizeof why));
		return DD_EINVAL;
	}
	struct dd_cert_facts f;
	memset(&f, 0, sizeof f);
	int rc = DD_EINVAL;
	const char *what = "internal error";

	unsigned char *der = NULL;
	int dl = i2d_X509(x, &der);
	if (dl <= 0) {
		what = "cannot re-encode as DER";
		goto fail;
	}
	dd_hex_sha256(der, (size_t)dl, f.id);
	OPENSSL_free(der);
	f.pem = cert_to_pem(x);
	if (!f.pem) {
		what = "cannot re-encode as PEM";
		goto fail;
	}
	name_oneline(X509_get_subject_name(x), f.subject, sizeof f.subject);
	name_oneline(X509_get_issuer_name(x), f.issuer, sizeof f.issuer);
	name_cn(X509_get_subject_name(x), f.subject_cn, sizeof f.subject_cn);
	if (asn1_int_hex(X509_get0_serialNumber(x), f.serial_hex, sizeof f.serial_hex) != 0) {
		what = "serial number missing or longer than 64 bytes";
		goto fail;
	}
	if (asn1_time_epoch(X509_get0_notBefore(x), &f.not_before) != 0 ||
	    asn1_time_epoch(X509_get0_notAfter(x), &f.not_after) != 0) {
		what = "invalid validity dates";
		goto fail;
	}
	EVP_PKEY *pkey = X509_get0_pubkey(x);
	if (!pkey || key_facts(pkey, &f) != 0) {
		what = "unsupported or malformed public key";
		goto fail;
	}
	BASIC_CONSTRAINTS *bc = X509_get_ext_d2i(x, NID_basic_constraints, NULL, NULL);
	if (bc) {
		f.is_ca = bc->ca != 0;
		BASIC_CONSTRAINTS_free(bc);
	}
	octets_hex(X509_get0_subject_key_id(x), f.ski, sizeof f.ski);
	octets_hex(X509_get0_authority_key_id(x), f.aki, sizeof f.aki);
	if (crl_urls(x, &f) != 0) {
		what = "out of memory";
		rc = DD_ENOMEM;
		goto fail;
	}
	f.self_signed = X509_NAME_cmp(X509_get_subject_name(x), X509_get_issuer_name(x)) == 0 &&
			X509_verify(x, pkey) == 1;
	ERR_clear_error();
	X509_free(x);
	*out = f;
	return 0;
fail:
	set_err(err, errlen, "certificate could not be parsed: %s", what);
	ERR_clear_error();
	dd_x509_facts_clear(&f);
	X509_free(x);
	return rc;
}

static int pass_cb(char *buf, int size, int rwflag, void *u)
{
	const char *pass = u;
	(void)rwflag;
	if (!pass)
		return -1;
	size_t l = strnlen(pass, 1024);
	if (l > (size_t)size)
		return -1;
	memcpy(buf, pass, l);
	return (int)l;
}

int dd_x509_key_facts_from_pem(const void *data, size_t len, const char *passphrase,
			       struct dd_cert_facts *out, char *err, size_t errlen)
{
	char why[256];
	if (!data || !out || len == 0 || len > CERT_MAX) {
		set_err(err, errlen, "key could not be parsed: empty or larger than %d bytes", CERT_MAX);
		return DD_EINVAL;
	}
	BIO *b = BIO_new_mem_buf(data, (int)len);
	if (!b)
		return DD_ENOMEM;
	char *name = NULL, *header = NULL;
	unsigned char *body = NULL;
	long bl = 0;
	EVP_PKEY *pkey = NULL;
	int rc = DD_EINVAL;
	/* Find the block type first, then decode with the matching reader. */
	if (!PEM_read_bio(b, &name, &header, &body, &bl)) {
		set_err(err, errlen, "key could not be parsed: no PEM block");
		goto out;
	}
	BIO_free(b);
	b = BIO_new_mem_buf(data, (int)len);
	if (!b) {
		rc = DD_ENOMEM;
		goto out;
	}
	if (strcmp(name, "CERTIFICATE") == 0) {
		X509 *x = PEM_read_bio_X509(b, NULL, NULL, NULL);
		if (x)
			pkey = EVP_PKEY_dup(X509_get0_pubkey(x));
		X509_free(x);
	} else if (strcmp(name, "CERTIFICATE REQUEST") == 0 || strcmp(name, "NEW CERTIFICATE REQUEST") == 0) {
		X509_REQ *r = PEM_read_bio_X509_REQ(b, NULL, NULL, NULL);
		if (r)
			pkey = EVP_PKEY_dup(X509_REQ_get0_pubkey(r));
		X509_REQ_free(r);
	} else if (strcmp(name, "PUBLIC KEY") == 0 || strcmp(name, "RSA PUBLIC KEY") == 0) {
		pkey = PEM_read_bio_PUBKEY(b, NULL, NULL, NULL);
		if (!pkey) {
			/* PKCS#1 RSAPublicKey. */
			const unsigned char *p = body;
			pkey = d2i_PublicKey(EVP_PKEY_RSA, NULL, &p, bl);
		}
	} else {
		pkey = PEM_read_bio_PrivateKey(b, NULL, pass_cb, (void *)passphrase);
	}
	if (!pkey) {
		set_err(err, errlen, "key could not be parsed: %s (%s)", name, ossl_reason(why, sizeof why));
		goto out;
	}
	struct dd_cert_facts f;
	memset(&f, 0, sizeof f);
	if (key_facts(pkey, &f) != 0) {
		set_err(err, errlen, "key could not be parsed: unsupported key");
		goto out;
	}
	*out = f;
	rc = 0;
out:
	ERR_clear_error();
	EVP_PKEY_free(pkey);
	OPENSSL_free(name);
	OPENSSL_free(header);
	OPENSSL_free(body);
	BIO_free(b);
	return rc;
}

int dd_x509_rsa_modulus_facts(const unsigned char *n_be, size_t n_len, struct dd_cert_facts *out)
{
	if (!n_be || !out || n_len > MODULUS_MAX)
		return DD_EINVAL;
	while (n_len > 0 && n_be[0] == 0) {
		n_be++;
		n_len--;
	}
	if (n_len == 0)
		return DD_EINVAL;
	struct dd_cert_facts f;
	memset(&f, 0, sizeof f);
	snprintf(f.key_type, sizeof f.key_type, "RSA");
	int top = 8;
	while (top > 0 && !(n_be[0] & (1u << (top - 1))))
		top--;
	f.key_bits = (int)((n_len - 1) * 8) + top;
	rsa_modulus_hashes(n_be, n_len, &f);
	*out = f;
	return 0;
}

int dd_x509_verify_issued_by(const char *cert_pem, const char *issuer_pem)
{
	X509 *c = load_cert_str(cert_pem);
	X509 *i = load_cert_str(issuer_pem);
	int rc = DD_EINVAL;
	if (c && i) {
		EVP_PKEY *k = X509_get0_pubkey(i);
		rc = DD_ECRYPTO;
		if (k && X509_NAME_cmp(X509_get_issuer_name(c), X509_get_subject_name(i)) == 0 &&
		    X509_verify(c, k) == 1)
			rc = 0;
	}
	ERR_clear_error();
	X509_free(c);
	X509_free(i);
	return rc;
}

/* ------------------------------------------------------------------------------------ */
/* CRLs                                                                                 */
/* ------------------------------------------------------------------------------------ */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static X509_CRL *load_crl(const void *data, size_t len)
{
	X509_CRL *c = NULL;
	if (looks_pem(data, len)) {
		BIO *b = BIO_new_mem_buf(data, (int)len);
		if (b)
			c = PEM_read_bio_X509_CRL(b, NULL, NULL, NULL);
		BIO_free(b);
	} else {
		const unsigned char *p = data;
		c = d2i_X509_CRL(NULL, &p, (long)len);
		if (c && p != (const unsigned char *)data + len) {
			X509_CRL_free(c);
			c = NULL;
		}
	}
	return c;
}

void dd_x509_crl_clear(struct dd_x509_crl *crl)
{
	if (!crl)
		return;
	for (size_t i = 0; i < crl->n_revoked; i++)
		free(crl->revoked_serials[i]);
	free(crl->revoked_serials);
	free(crl->der);
	memset(crl, 0, sizeof *crl);
}

int dd_x509_crl_parse(const void *data, size_t len, struct dd_x509_crl *out, char *err, size_t errlen)
{
	char why[256];
	if (!data || !out || len == 0 || len > CRL_MAX) {
		set_err(err, errlen, "CRL could not be parsed: empty or larger than %d bytes", CRL_MAX);
		return DD_EINVAL;
	}
	X509_CRL *c = load_crl(data, len);
	if (!c) {
		set_err(err, errlen, "CRL could not be parsed: %s", ossl_reason(why, sizeof why));
		return DD_EINVAL;
	}
	struct dd_x509_crl r;
	memset(&r, 0, sizeof r);
	int rc = DD_EINVAL;
	const char *what = "internal error";
	name_oneline(X509_CRL_get_issuer(c), r.issuer, sizeof r.issuer);
	if (asn1_time_epoch(X509_CRL_get0_lastUpdate(c), &r.this_update) != 0) {
		what = "invalid thisUpdate";
		goto fail;
	}
	if (X509_CRL_get0_nextUpdate(c) && asn1_time_epoch(X509_CRL_get0_nextUpdate(c), &r.next_update) != 0) {
		what = "invalid nextUpdate";
		goto fail;
	}
	STACK_OF(X509_REVOKED) *rev = X509_CRL_get_REVOKED(c);
	int nrev = rev ? sk_X509_REVOKED_num(rev) : 0;
	if (nrev > 0) {
		r.revoked_serials = calloc((size_t)nrev, sizeof *r.revoked_serials);
		if (!r.revoked_serials) {
			rc = DD_ENOMEM;
			what = "out of memory";
			goto fail;
		}
		for (int i = 0; i < nrev; i++) {
			char hex[132];
			if (asn1_int_hex(X509_REVOKED_get0_serialNumber(sk_X509_REVOKED_value(rev, i)), hex, sizeof hex) != 0) {
				what = "revoked serial number longer than 64 bytes";
				goto fail;
			}
			r.revoked_serials[r.n_revoked] = strdup(hex);
			if (!r.revoked_serials[r.n_revoked]) {
				rc = DD_ENOMEM;
				what = "out of memory";
				goto fail;
			}
			r.n_revoked++;
		}
		qsort(r.revoked_serials, r.n_revoked, sizeof *r.revoked_serials, cmp_str);
	}
	unsigned char *der = NULL;
	int dl = i2d_X509_CRL(c, &der);
	if (dl <= 0) {
		what = "cannot re-encode as DER";
		goto fail;
	}
	r.der = malloc((size_t)dl);
	if (!r.der) {
		OPENSSL_free(der);
		rc = DD_ENOMEM;
		what = "out of memory";
		goto fail;
	}
	memcpy(r.der, der, (size_t)dl);
	r.der_len = (size_t)dl;
	OPENSSL_free(der);
	X509_CRL_free(c);
	*out = r;
	return 0;
fail:
	set_err(err, errlen, "CRL could not be parsed: %s", what);
	ERR_clear_error();
	dd_x509_crl_clear(&r);
	X509_CRL_free(c);
	return rc;
}

int dd_x509_crl_verify(const struct dd_x509_crl *crl, const char *issuer_pem, char *err, size_t errlen)
{
	if (!crl || !crl->der || crl->der_len == 0) {
		set_err(err, errlen, "CRL not verified: no CRL");
		return DD_ECRYPTO;
	}
	X509 *i = load_cert_str(issuer_pem);
	if (!i) {
		set_err(err, errlen, "CRL not verified: the issuer certificate could not be parsed");
		ERR_clear_error();
		return DD_ECRYPTO;
	}
	const unsigned char *p = crl->der;
	X509_CRL *c = d2i_X509_CRL(NULL, &p, (long)crl->der_len);
	int rc = DD_ECRYPTO;
	char iname[512];
	name_oneline(X509_get_subject_name(i), iname, sizeof iname);
	if (!c) {
		set_err(err, errlen, "CRL not verified: stored DER does not parse");
	} else if (X509_NAME_cmp(X509_CRL_get_issuer(c), X509_get_subject_name(i)) != 0) {
		set_err(err, errlen, "CRL not verified: it is issued by \"%.200s\", not by \"%.200s\"",
			crl->issuer, iname);
	} else if ((X509_get_extension_flags(i) & EXFLAG_KUSAGE) &&
		   !(X509_get_key_usage(i) & KU_CRL_SIGN)) {
		set_err(err, errlen, "CRL not verified: the issuer certificate \"%.200s\" may not sign CRLs (no cRLSign key usage)",
			iname);
	} else if (!X509_get0_pubkey(i) || X509_CRL_verify(c, X509_get0_pubkey(i)) != 1) {
		set_err(err, errlen, "CRL not verified: its signature does not verify with the key of \"%.200s\" (signed by a different key)",
			iname);
	} else {
		rc = 0;
	}
	ERR_clear_error();
	X509_CRL_free(c);
	X509_free(i);
	return rc;
}

bool dd_x509_crl_is_revoked(const struct dd_x509_crl *crl, const char *serial_hex)
{
	if (!crl || !serial_hex || crl->n_revoked == 0)
		return false;
	return bsearch(&serial_hex, crl->revoked_serials, crl->n_revoked, sizeof *crl->revoked_serials, cmp_str) != NULL;
}

/* ------------------------------------------------------------------------------------ */
/* The server's own CA                                                                  */
/* ------------------------------------------------------------------------------------ */

static int random_serial(X509 *x)
{
	unsigned char b[16];
	if (dd_random_bytes(b, sizeof b) != 0)
		return DD_ECRYPTO;
	b[0] &= 0x7F; /* positive */
	if (b[0] == 0)
		b[0] = 0x01; /* keep 128 bits wide, never zero */
	BIGNUM *bn = BN_bin2bn(b, sizeof b, NULL);
	ASN1_INTEGER *ai = bn ? BN_to_ASN1_INTEGER(bn, NULL) : NULL;
	int ok = ai && X509_set_serialNumber(x, ai);
	ASN1_INTEGER_free(ai);
	BN_free(bn);
	return ok ? 0 : DD_ECRYPTO;
}

static int add_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
	X509_EXTENSION *e = X509V3_EXT_nconf_nid(NULL, ctx, nid, value);
	if (!e)
		return DD_ECRYPTO;
	int ok = X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
	return ok ? 0 : DD_ECRYPTO;
}

static bool cn_ok(const char *cn)
{
	size_t l = cn ? strnlen(cn, 65) : 0;
	return l > 0 && l <= 64;
}

/* A new certificate with version 3, a random serial and validity [now-1h, now+days]. */
static X509 *new_cert(int days)
{
	X509 *x = X509_new();
	if (!x)
		return NULL;
	if (!X509_set_version(x, 2) || random_serial(x) != 0 ||
	    !X509_gmtime_adj(X509_getm_notBefore(x), -3600) ||
	    !X509_time_adj_ex(X509_getm_notAfter(x), days, 0, NULL)) {
		X509_free(x);
		return NULL;
	}
	return x;
}

static char *key_pem(EVP_PKEY *k, bool traditional)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *s = NULL;
	int ok = b && (traditional ? PEM_write_bio_PrivateKey_traditional(b, k, NULL, NULL, 0, NULL, NULL)
				   : PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL));
	if (ok)
		s = pem_of_bio(b);
	BIO_free(b);
	return s;
}

static char *pub_pem(EVP_PKEY *k)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *s = NULL;
	if (b && PEM_write_bio_PUBKEY(b, k))
		s = pem_of_bio(b);
	BIO_free(b);
	return s;
}

int dd_x509_ca_create(const char *cn, char **cert_pem, char **key_pem_out)
{
	if (!cn_ok(cn) || !cert_pem || !key_pem_out)
		return DD_EINVAL;
	int rc = DD_ECRYPTO;
	EVP_PKEY *k = EVP_EC_gen("P-256");
	X509 *x = new_cert(3650);
	char *c = NULL, *kp = NULL;
	if (!k || !x)
		goto out;
	X509_NAME *name = X509_get_subject_name(x);
	if (!X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0) ||
	    !X509_set_issuer_name(x, name) || !X509_set_pubkey(x, k))
		goto out;
	X509V3_CTX ctx;
	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	if (add_ext(x, &ctx, NID_basic_constraints, "critical,CA:TRUE") != 0 ||
	    add_ext(x, &ctx, NID_key_usage, "critical,keyCertSign,cRLSign") != 0 ||
	    add_ext(x, &ctx, NID_subject_key_identifier, "hash") != 0 ||
	    add_ext(x, &ctx, NID_authority_key_identifier, "keyid:always") != 0)
		goto out;
	if (X509_sign(x, k, EVP_sha256()) <= 0)
		goto out;
	c = cert_to_pem(x);
	kp = key_pem(k, false);
	if (!c || !kp)
		goto out;
	*cert_pem = c;
	*key_pem_out = kp;
	c = kp = NULL;
	rc = 0;
out:
	if (rc != 0)
		dd_log_error("CA creation failed");
	ERR_clear_error();
	free(c);
	free(kp);
	X509_free(x);
	EVP_PKEY_free(k);
	return rc;
}

static EVP_PKEY *load_key_str(const char *pem)
{
	if (!pem)
		return NULL;
	size_t l = strnlen(pem, CERT_MAX + 1);
	if (l > CERT_MAX)
		return NULL;
	BIO *b = BIO_new_mem_buf(pem, (int)l);
	EVP_PKEY *k = b ? PEM_read_bio_PrivateKey(b, NULL, pass_cb, NULL) : NULL;
	BIO_free(b);
	return k;
}

/* Signs a CA:FALSE end-entity certificate for pub with subject `subject`. */
static X509 *sign_leaf(X509 *ca, EVP_PKEY *ca_key, EVP_PKEY *pub, const X509_NAME *subject, int days)
{
	X509 *x = new_cert(days);
	if (!x)
		return NULL;
	X509V3_CTX ctx;
	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, ca, x, NULL, NULL, 0);
	if (!X509_set_subject_name(x, subject) || !X509_set_issuer_name(x, X509_get_subject_name(ca)) ||
	    !X509_set_pubkey(x, pub) ||
	    add_ext(x, &ctx, NID_basic_constraints, "critical,CA:FALSE") != 0 ||
	    add_ext(x, &ctx, NID_key_usage, "critical,digitalSignature,keyEncipherment") != 0 ||
	    add_ext(x, &ctx, NID_ext_key_usage, "clientAuth") != 0 ||
	    add_ext(x, &ctx, NID_subject_key_identifier, "hash") != 0 ||
	    add_ext(x, &ctx, NID_authority_key_identifier, "keyid:always") != 0 ||
	    X509_sign(x, ca_key, EVP_sha256()) <= 0) {
		X509_free(x);
		return NULL;
	}
	return x;
}

int dd_x509_issue(const char *ca_cert_pem, const char *ca_key_pem, const char *cn, int days,
		  char **cert_pem, char **pub_pem_out, char **priv_pem)
{
	if (!cn_ok(cn) || days < 1 || days > 36500 || !cert_pem || !pub_pem_out || !priv_pem)
		return DD_EINVAL;
	X509 *ca = load_cert_str(ca_cert_pem);
	EVP_PKEY *ca_key = load_key_str(ca_key_pem);
	if (!ca || !ca_key || X509_check_private_key(ca, ca_key) != 1) {
		dd_log_error("issue: the CA certificate or key could not be loaded or do not match");
		ERR_clear_error();
		X509_free(ca);
		EVP_PKEY_free(ca_key);
		return DD_EINVAL;
	}
	int rc = DD_ECRYPTO;
	EVP_PKEY *k = EVP_RSA_gen(2048);
	X509_NAME *name = X509_NAME_new();
	X509 *x = NULL;
	char *c = NULL, *pu = NULL, *pr = NULL;
	if (!k || !name ||
	    !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0))
		goto out;
	x = sign_leaf(ca, ca_key, k, name, days);
	if (!x)
		goto out;
	c = cert_to_pem(x);
	pu = pub_pem(k);
	pr = key_pem(k, true);
	if (!c || !pu || !pr)
		goto out;
	*cert_pem = c;
	*pub_pem_out = pu;
	*priv_pem = pr;
	c = pu = pr = NULL;
	rc = 0;
out:
	if (rc != 0)
		dd_log_error("issue: certificate generation failed");
	ERR_clear_error();
	free(c);
	free(pu);
	if (pr) {
		OPENSSL_cleanse(pr, strlen(pr));
		free(pr);
	}
	X509_free(x);
	X509_NAME_free(name);
	EVP_PKEY_free(k);
	X509_free(ca);
	EVP_PKEY_free(ca_key);
	return rc;
}

int dd_x509_issue_from_csr(const char *ca_cert_pem, const char *ca_key_pem, const char *csr_pem,
			   int days, char **cert_pem, char *err, size_t errlen)
{
	if (!csr_pem || days < 1 || days > 36500 || !cert_pem) {
		set_err(err, errlen, "invalid arguments");
		return DD_EINVAL;
	}
	size_t l = strnlen(csr_pem, CERT_MAX + 1);
	if (l == 0 || l > CERT_MAX) {
		set_err(err, errlen, "the CSR is empty or larger than %d bytes", CERT_MAX);
		return DD_EINVAL;
	}
	BIO *b = BIO_new_mem_buf(csr_pem, (int)l);
	X509_REQ *req = b ? PEM_read_bio_X509_REQ(b, NULL, NULL, NULL) : NULL;
	BIO_free(b);
	X509 *ca = NULL, *x = NULL;
	EVP_PKEY *ca_key = NULL;
	int rc = DD_EINVAL;
	if (!req) {
		set_err(err, errlen, "the CSR could not be parsed");
		goto out;
	}
	EVP_PKEY *pub = X509_REQ_get0_pubkey(req);
	if (!pub || X509_REQ_verify(req, pub) != 1) {
		set_err(err, errlen, "the CSR signature does not verify with its own public key");
		goto out;
	}
	ca = load_cert_str(ca_cert_pem);
	ca_key = load_key_str(ca_key_pem);
	if (!ca || !ca_key || X509_check_private_key(ca, ca_key) != 1) {
		set_err(err, errlen, "the CA certificate or key could not be loaded");
		rc = DD_ECRYPTO;
		goto out;
	}
	x = sign_leaf(ca, ca_key, pub, X509_REQ_get_subject_name(req), days);
	char *c = x ? cert_to_pem(x) : NULL;
	if (!c) {
		set_err(err, errlen, "certificate signing failed");
		rc = DD_ECRYPTO;
		goto out;
	}
	*cert_pem = c;
	rc = 0;
out:
	ERR_clear_error();
	X509_free(x);
	X509_free(ca);
	EVP_PKEY_free(ca_key);
	X509_REQ_free(req);
	return rc;
}

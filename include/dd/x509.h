/* SPDX-License-Identifier: Apache-2.0 */
/*
 * X.509 certificates, keys and CRLs, on OpenSSL 3. Parses a certificate once into the
 * facts the registry stores and the audit checks read (so an audit never re-parses a
 * PEM), verifies issuer signatures, parses and verifies CRLs (fetching them is fetch.h),
 * and runs the server's own CA (CreateKeysAndCertificate). Pure functions; no store.
 */
#ifndef DD_X509_H
#define DD_X509_H

#include "dd/common.h"

/* Key-quality verdict for one CVE. */
enum dd_keyq {
	DD_KEYQ_NOT_CHECKED = 0, /* no test applies or no blocklist covers this key size */
	DD_KEYQ_CLEAN = 1,
	DD_KEYQ_VULNERABLE = 2,
};

struct dd_cert_facts {
	char id[65];              /* lowercase hex SHA-256 of the DER: the certificate id */
	char *pem;                /* owned: the certificate re-encoded as PEM */
	char subject[512];        /* one line, RFC 2253 order, e.g. "CN=dev1,O=Acme" */
	char issuer[512];
	char subject_cn[256];     /* the subject's commonName, "" if none */
	char serial_hex[132];     /* lowercase hex, no leading zeros ("0" for zero) */
	int64_t not_before;       /* epoch seconds */
	int64_t not_after;
	char key_type[12];        /* "RSA", "EC", "ED25519", "ED448", "DSA" or "OTHER" */
	int key_bits;
	char curve[32];           /* EC curve short name (e.g. "prime256v1"), else "" */
	char pubkey_sha256[65];   /* SHA-256 of the SubjectPublicKeyInfo DER */
	/* Key hashes in the public Debian-weak blocklist formats (see KEYS.md), "" if n/a:
	 * SHA-256 of the big-endian RSA modulus (or of the EC X coordinate), hex; and the
	 * last 20 hex characters of SHA-1("Modulus=<UPPER HEX>\n") for RSA. */
	char key_sha256[65];
	char key_sha1_80[21];
	bool is_ca;               /* basicConstraints CA:TRUE */
	char ski[129];            /* subject key identifier hex, "" if absent */
	char aki[129];            /* authority key identifier hex, "" if absent */
	char **crl_urls;          /* owned: http(s) CRL distribution point URIs */
	size_t n_crl_urls;
	enum dd_keyq roca;        /* CVE-2017-15361, computed at parse time */
	bool self_signed;         /* issuer == subject and the signature verifies with own key */
};

/* Parses one certificate, PEM or DER, of at most 64 KiB. On success fills *out (caller
 * frees with dd_x509_facts_clear) and returns 0; on failure returns DD_EINVAL and writes a
 * human sentence ("certificate could not be parsed: …") to err (size errlen). */
int dd_x509_parse(const void *data, size_t len, struct dd_cert_facts *out,
		  char *err, size_t errlen) DD_MUST_CHECK;
void dd_x509_facts_clear(struct dd_cert_facts *f);

/* Fills only the key fields of *out (key_type, key_bits, curve, pubkey_sha256, key_sha256,
 * key_sha1_80, roca; everything else zero) from a PEM public key ("PUBLIC KEY" or
 * "RSA PUBLIC KEY"), private key ("PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY",
 * encrypted with passphrase when not NULL), certificate request or certificate, of at
 * most 64 KiB; text before the PEM block is skipped. Used for key-quality checks of keys
 * that are not certificates. Returns 0 or DD_EINVAL with err set; clear with
 * dd_x509_facts_clear. */
int dd_x509_key_facts_from_pem(const void *data, size_t len, const char *passphrase,
			       struct dd_cert_facts *out, char *err, size_t errlen) DD_MUST_CHECK;
/* Fills the key fields of *out (as above, pubkey_sha256 "") for a bare RSA modulus given
 * big-endian (leading zeros ignored, at most 8 KiB). Returns 0 or DD_EINVAL. */
int dd_x509_rsa_modulus_facts(const unsigned char *n_be, size_t n_len,
			      struct dd_cert_facts *out) DD_MUST_CHECK;

/* Returns 0 when cert_pem's signature verifies with the public key of issuer_pem (and
 * the issuer name matches), DD_ECRYPTO when it does not, DD_EINVAL on unparseable input. */
int dd_x509_verify_issued_by(const char *cert_pem, const char *issuer_pem) DD_MUST_CHECK;

/* A parsed CRL. */
struct dd_x509_crl {
	char issuer[512];
	int64_t this_update;
	int64_t next_update;      /* 0 when absent */
	char **revoked_serials;   /* owned: lowercase hex, no leading zeros, sorted */
	size_t n_revoked;
	unsigned char *der;       /* owned DER of the CRL */
	size_t der_len;
};
/* Parses a CRL, PEM or DER, of at most 16 MiB. Returns 0, or DD_EINVAL with err set. */
int dd_x509_crl_parse(const void *data, size_t len, struct dd_x509_crl *out, char *err, size_t errlen) DD_MUST_CHECK;
/* Returns 0 when the CRL's signature verifies with issuer_pem's key and names it as
 * issuer; DD_ECRYPTO otherwise (err says why). */
int dd_x509_crl_verify(const struct dd_x509_crl *crl, const char *issuer_pem, char *err, size_t errlen) DD_MUST_CHECK;
/* True when serial_hex (lowercase, no leading zeros) is on the CRL (binary search). */
bool dd_x509_crl_is_revoked(const struct dd_x509_crl *crl, const char *serial_hex);
void dd_x509_crl_clear(struct dd_x509_crl *crl);

/* Creates a self-signed CA (EC P-256, 10 years, CN given). Owned PEM strings out. */
int dd_x509_ca_create(const char *cn, char **cert_pem, char **key_pem) DD_MUST_CHECK;
/* Generates an RSA-2048 key pair and a certificate for it signed by the CA, valid from
 * now-1h for `days` days, subject CN = cn. Owned PEM strings out (public key in SPKI PEM,
 * private key in PKCS#1 "RSA PRIVATE KEY" PEM as AWS returns). */
int dd_x509_issue(const char *ca_cert_pem, const char *ca_key_pem, const char *cn, int days,
		  char **cert_pem, char **pub_pem, char **priv_pem) DD_MUST_CHECK;
/* Issues a certificate for an existing public key from a PEM CSR (CreateCertificateFromCsr). */
int dd_x509_issue_from_csr(const char *ca_cert_pem, const char *ca_key_pem, const char *csr_pem,
			   int days, char **cert_pem, char *err, size_t errlen) DD_MUST_CHECK;

#endif

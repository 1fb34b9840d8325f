/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The registered device and CA certificates as the audit and mitigation engines see
 * them: every X.509 fact stored at registration (so nothing is re-parsed), the
 * key-quality verdicts, and the revocation state derived from the stored CRLs (crl.h).
 * The certificate rules live here once: the status rules of UpdateCertificate /
 * UpdateCACertificate (which call dd_certs_set_status, as does the mitigation engine),
 * the registration statuses, when a certificate may be deleted. Implemented in
 * src/core/pki/dd_certs.c over src/store/dd_store_certs.c; the AWS operations are
 * src/api/dd_iot_certs.c. All times are epoch milliseconds.
 */
#ifndef DD_CERTS_H
#define DD_CERTS_H

#include "dd/common.h"
#include "dd/store.h"
#include "dd/x509.h"

struct dd_service;
struct dd_store;
struct dd_blocklists;

enum dd_cert_kind {
	DD_CERT_DEVICE = 0,   /* table certificates */
	DD_CERT_CA = 1,       /* table ca_certificates */
};

/* Version of the stored facts. Rows with an older facts_version are recomputed from
 * their PEM by dd_certs_backfill; bump it when a fact is added. */
#define DD_CERT_FACTS_VERSION 1

/* One certificate; every string is borrowed and valid only during the callback. */
struct dd_cert_info {
	enum dd_cert_kind kind;
	const char *id;
	const char *status;        /* ACTIVE, INACTIVE, REVOKED, PENDING_TRANSFER, ... */
	const char *ca_id;         /* device: the registered issuing CA id, "" if none; CA: "" */
	const char *mode;          /* DEFAULT or SNI_ONLY */
	const char *subject, *issuer, *subject_cn, *serial;
	int64_t created_ms, modified_ms, not_before_ms, not_after_ms;
	const char *key_type;      /* RSA, EC, ... */
	int key_bits;
	const char *curve;
	const char *pubkey_sha256, *key_sha256, *key_sha1_80;
	bool is_ca, self_signed;
	enum dd_keyq roca;         /* CVE-2017-15361 */
	enum dd_keyq debian;       /* CVE-2008-0166 */
	/* Revocation at the time passed to the iterator: */
	bool revoked;              /* on a valid CRL of its issuer */
	const char *revoked_by;    /* id of the CA whose CRL lists it, "" if not revoked */
	/* The first CA certificate up its chain (starting at its issuing CA, which for a CA
	 * certificate is its parent) that is itself revoked by its issuer's CRL; "" if none.
	 * For a device certificate this is the INTERMEDIATE_CA_REVOKED_... related resource. */
	const char *revoked_ancestor;
};

/* Return 0 to continue, anything else stops the iteration and is returned. The callback
 * must not write through the same db while iterating. */
typedef int (*dd_cert_visit_fn)(const struct dd_cert_info *ci, void *ud);

/* Calls fn for every certificate of kind in account_region ("<account>/<region>", see
 * dd/ctx.h), ordered by id. Runs inside the
 * caller's transaction when one is open (the audit opens a read transaction for one
 * snapshot). Returns 0, the callback's non-zero value, or DD_EIO. */
int dd_certs_foreach(struct dd_db *db, const char *account_region, enum dd_cert_kind kind, int64_t now_ms,
		     dd_cert_visit_fn fn, void *ud) DD_MUST_CHECK;
/* The same for the certificates whose id is in [lo, hi) (NULL: unbounded), an audit
 * shard's. */
int dd_certs_foreach_range(struct dd_db *db, const char *account_region, enum dd_cert_kind kind, const char *lo,
			   const char *hi, int64_t now_ms, dd_cert_visit_fn fn, void *ud) DD_MUST_CHECK;
/* Calls fn once for the certificate id (lowercase hex) of kind. DD_ENOTFOUND if absent. */
int dd_certs_get(struct dd_db *db, const char *account_region, enum dd_cert_kind kind, const char *id,
		 int64_t now_ms, dd_cert_visit_fn fn, void *ud) DD_MUST_CHECK;

/* Sets a certificate's status as UpdateCertificate (device: ACTIVE, INACTIVE, REVOKED;
 * REVOKED is final) or UpdateCACertificate (CA: ACTIVE, INACTIVE) does, in its own write
 * transaction, or inside the caller's when one is open (it must be a write transaction,
 * dd_db_begin_write; a refusal writes nothing, and after DD_EIO the caller rolls back, so
 * a batch of changes commits together). Returns 0, DD_ENOTFOUND, DD_EINVAL (status not allowed), DD_ECONFLICT (the
 * current state forbids it) or DD_EIO; msg (size msglen, may be NULL) says why. */
int dd_certs_set_status(struct dd_db *db, const char *account_region, enum dd_cert_kind kind, const char *id,
			const char *status, int64_t now_ms, char *msg, size_t msglen) DD_MUST_CHECK;

/* Copies a certificate id from in lowercased; false when it cannot be one (64 hex). */
bool dd_certs_norm_id(const char *in, char out[65]);

/* What AWS refuses at registration: a certificate (what names it in msg, e.g. "CA
 * certificate") outside its validity period at now_ms, with an RSA key under 2048 bits or
 * a key that is neither RSA nor EC. Returns 0 or DD_EINVAL with msg. */
int dd_certs_check_registrable(const struct dd_cert_facts *f, int64_t now_ms, const char *what, char *msg,
			       size_t msglen) DD_MUST_CHECK;

/* May a device certificate be registered with this status (ACTIVE, INACTIVE, REVOKED)? */
bool dd_certs_registrable_status(const char *status);

/* The registered ACTIVE CA certificate that signed device certificate f: ca (when not
 * NULL, the CA the caller named) or else the CAs whose subject is f's issuer, ACTIVE ones
 * first. Copies its id into ca_id and returns 0; DD_EINVAL (not registered, no match, the
 * signature does not verify), DD_ECONFLICT (the CA is not ACTIVE) or DD_EIO; msg says why. */
int dd_certs_find_issuer(struct dd_db *db, const char *account_region, const struct dd_cert_facts *f,
			 const struct dd_cert_facts *ca, char ca_id[65], char *msg, size_t msglen) DD_MUST_CHECK;

/* What a registration stores besides the X.509 facts. */
struct dd_certs_new {
	const char *status;
	const char *ca_id;               /* device: the verified issuing CA, NULL if none */
	const char *mode;                /* DEFAULT or SNI_ONLY */
	const char *owner;               /* the account id */
	int64_t now_ms;
	enum dd_keyq debian;             /* the Debian weak-key verdict (keys.h) */
	const char *auto_registration;   /* CA: ENABLE or DISABLE */
	const char *registration_config; /* CA: JSON object text or NULL */
};
/* Stores certificate f (already checked by the caller) with a new generation id, inside
 * the caller's write transaction. Returns 0, DD_EEXIST (already registered in
 * account_region), DD_ENOMEM or DD_EIO. */
int dd_certs_insert(struct dd_db *db, const char *account_region, enum dd_cert_kind kind,
		    const struct dd_cert_facts *f, const struct dd_certs_new *n) DD_MUST_CHECK;

/* Deletes a certificate as DeleteCertificate / DeleteCACertificate do, in its own write
 * transaction: a device certificate must not be ACTIVE or PENDING_TRANSFER, attached to
 * a thing, or (unless force) have policies; a CA must not be ACTIVE. Its policy
 * attachments, the tags of arn (its ARN) and, for a CA, its stored CRL go with it.
 * Returns 0, DD_ENOTFOUND, DD_ECONFLICT (*attached, may be NULL, tells whether an
 * attachment rather than the status refused it) or DD_EIO; msg says why. */
int dd_certs_delete(struct dd_db *db, const char *account_region, enum dd_cert_kind kind, const char *id,
		    const char *arn, bool force, bool *attached, char *msg, size_t msglen) DD_MUST_CHECK;

/* Start-up upkeep of the stored facts: recomputes every fact of rows whose facts_version
 * is older than DD_CERT_FACTS_VERSION (or whose facts are missing) from their PEM, and the
 * Debian-weak verdict of every row against the blocklists now loaded (bl may be NULL: no
 * list, every verdict NOT_CHECKED). Works in batches of short write transactions, so it
 * may run while the server serves. *updated (may be NULL) counts changed rows. */
int dd_certs_backfill(struct dd_store *store, const struct dd_blocklists *bl, size_t *updated) DD_MUST_CHECK;

#endif

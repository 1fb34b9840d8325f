/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The registered device and CA certificates as the audit and mitigation engines see
 * them: every X.509 fact stored at registration (so nothing is re-parsed), the
 * key-quality verdicts, and the revocation state derived from the stored CRLs (crl.h).
 * Status changes follow the same rules as UpdateCertificate / UpdateCACertificate.
 * Implemented in src/core/dd_registry_certs.c beside the API handlers. All times are
 * epoch milliseconds.
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
/* Calls fn once for the certificate id (lowercase hex) of kind. DD_ENOTFOUND if absent. */
int dd_certs_get(struct dd_db *db, const char *account_region, enum dd_cert_kind kind, const char *id,
		 int64_t now_ms, dd_cert_visit_fn fn, void *ud) DD_MUST_CHECK;

/* Sets a certificate's status as UpdateCertificate (device: ACTIVE, INACTIVE, REVOKED;
 * REVOKED is final) or UpdateCACertificate (CA: ACTIVE, INACTIVE) does, in its own write
 * transaction. Returns 0, DD_ENOTFOUND, DD_EINVAL (status not allowed), DD_ECONFLICT (the
 * current state forbids it) or DD_EIO; msg (size msglen, may be NULL) says why. */
int dd_certs_set_status(struct dd_db *db, const char *account_region, enum dd_cert_kind kind, const char *id,
			const char *status, int64_t now_ms, char *msg, size_t msglen) DD_MUST_CHECK;

/* Start-up upkeep of the stored facts: recomputes every fact of rows whose facts_version
 * is older than DD_CERT_FACTS_VERSION (or whose facts are missing) from their PEM, and the
 * Debian-weak verdict of every row against the blocklists now loaded (bl may be NULL: no
 * list, every verdict NOT_CHECKED). Works in batches of short write transactions, so it
 * may run while the server serves. *updated (may be NULL) counts changed rows. */
int dd_certs_backfill(struct dd_store *store, const struct dd_blocklists *bl, size_t *updated) DD_MUST_CHECK;

#endif

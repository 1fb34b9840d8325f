/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Storage of the certificates aggregate: registered device certificates and CA
 * certificates of one account and region (account_region, "<account>/<region>"), each with
 * its PEM, status, the X.509 facts extracted at registration, and, for a CA, its
 * auto-registration settings; the account's registration code; and the few rows of other
 * tables a certificate's deletion must look at or remove (thing attachments, policy
 * attachments and tags of its ARN). Ids are the lowercase hex SHA-256 of the DER. Every
 * function runs inside the caller's transaction when one is open (writes need one opened
 * with dd_db_begin_write), returns 0 or a negative DD_E*, and copies nothing it is given:
 * strings of a row passed to a callback are borrowed and valid only during the call.
 * Times are epoch milliseconds.
 */
#ifndef DD_STORE_CERTS_H
#define DD_STORE_CERTS_H

#include "dd/common.h"

struct dd_db;

enum dd_store_certs_kind {
	DD_STORE_CERTS_DEVICE = 0,
	DD_STORE_CERTS_CA = 1,
};

/* The X.509 facts stored with a certificate. */
struct dd_store_certs_facts {
	const char *subject, *issuer, *subject_cn, *serial;
	int64_t not_before_ms, not_after_ms;
	const char *key_type;
	int key_bits;
	const char *curve, *pubkey_sha256, *key_sha256, *key_sha1_80;
	bool is_ca, self_signed;
	const char *ski, *aki;
	const char *crl_urls;      /* JSON array text of the distribution point URIs */
	int roca, debian;          /* key-quality verdicts (enum dd_keyq values) */
	int facts_version;
};

/* One certificate. Text members are "" when the row has none, except where noted. */
struct dd_store_certs_row {
	const char *account_region; /* only filled by the all-accounts scans (backfill) */
	const char *id, *status;
	const char *ca_id;          /* device: the issuing registered CA, "" if none; CA: "" */
	const char *mode;           /* DEFAULT or SNI_ONLY */
	const char *owner;
	int64_t created_ms, modified_ms, customer_version;
	const char *generation_id;
	const char *pem;
	const char *auto_registration;   /* CA: ENABLE or DISABLE */
	const char *registration_config; /* CA: JSON object text, or NULL when none */
	struct dd_store_certs_facts f;
};

/* Return 0 to go on; any other value stops the iteration and is returned. */
typedef int (*dd_store_certs_row_fn)(const struct dd_store_certs_row *r, void *ud);

/* Every certificate of kind in account_region (only id when id is not NULL), ordered by
 * id, with its status, ca_id, mode, times and facts; pem, owner, generation_id,
 * registration members, ski, aki and crl_urls are not read (NULL). Returns 0, the
 * callback's value or DD_EIO. */
int dd_store_certs_scan(struct dd_db *db, const char *account_region, enum dd_store_certs_kind kind, const char *id,
			dd_store_certs_row_fn fn, void *ud) DD_MUST_CHECK;
/* The same for the certificates whose id is in [lo, hi) (lo NULL: from the first; hi
 * NULL: to the last): one audit shard's. */
int dd_store_certs_scan_range(struct dd_db *db, const char *account_region, enum dd_store_certs_kind kind,
			      const char *lo, const char *hi, dd_store_certs_row_fn fn, void *ud) DD_MUST_CHECK;
/* Calls fn with the id of every every-th device certificate of account_region in id order
 * (the bounds of audit shards of every certificates). */
int dd_store_certs_id_bounds(struct dd_db *db, const char *account_region, int64_t every,
			     int (*fn)(const char *id, void *ud), void *ud) DD_MUST_CHECK;
/* Calls fn once with every member of certificate id. DD_ENOTFOUND if absent. */
int dd_store_certs_get(struct dd_db *db, const char *account_region, enum dd_store_certs_kind kind, const char *id,
		       dd_store_certs_row_fn fn, void *ud) DD_MUST_CHECK;
/* Is certificate id registered? 1, 0 or DD_EIO. */
int dd_store_certs_exists(struct dd_db *db, const char *account_region, enum dd_store_certs_kind kind,
			  const char *id) DD_MUST_CHECK;
/* Copies the status of certificate id into status. 0, DD_ENOTFOUND or DD_EIO. */
int dd_store_certs_status(struct dd_db *db, const char *account_region, enum dd_store_certs_kind kind,
			  const char *id, char status[32]) DD_MUST_CHECK;

/* Inserts r (account_region of r is ignored; modified = created, customerVersion 1; for a
 * device certificate auto_registration and registration_config are ignored, for a CA
 * ca_id). DD_EEXIST when the id is already registered, else 0 or DD_EIO. */
int dd_store_certs_insert(struct dd_db *db, const char *account_region, enum dd_store_certs_kind kind,
			  const struct dd_store_certs_row *r) DD_MUST_CHECK;
/* Sets status, modified, a new generation id, and increments customerVersion. 0,
 * DD_ENOTFOUND or DD_EIO. */
int dd_store_certs_set_status(struct dd_db *db, const char *account_region, enum dd_store_certs_kind kind,
			      const char *id, const char *status, int64_t modified_ms,
			      const char *generation_id) DD_MUST_CHECK;
/* A CA's auto-registration: remove sets DISABLE and drops the configuration; otherwise a
 * non-NULL auto_registration / config replaces the stored one. Sets modified. 0,
 * DD_ENOTFOUND or DD_EIO. */
int dd_store_certs_ca_set_registration(struct dd_db *db, const char *account_region, const char *id,
				       const char *auto_registration, const char *config, bool remove,
				       int64_t modified_ms) DD_MUST_CHECK;
/* Deletes the row. 0, DD_ENOTFOUND or DD_EIO. */
int dd_store_certs_delete(struct dd_db *db, const char *account_region, enum dd_store_certs_kind kind,
			  const char *id) DD_MUST_CHECK;

/* A page of a listing ordered by (created, id), ascending or descending. */
struct dd_store_certs_page {
	bool ascending;
	const char *after_id;      /* NULL: the first page; else the last (created, id) seen */
	int64_t after_created_ms;
	int limit;
	const char *ca_id;         /* device listings: only certificates of this CA (NULL: all) */
	const char *template_name; /* CA listings: only CAs whose registration config names it */
};
/* Calls fn for at most page->limit rows after the page key with id, status, created and
 * mode. Returns 0, the callback's value or DD_EIO. */
int dd_store_certs_list(struct dd_db *db, const char *account_region, enum dd_store_certs_kind kind,
			const struct dd_store_certs_page *page, dd_store_certs_row_fn fn, void *ud) DD_MUST_CHECK;

/* The CA certificates whose subject is subject, with id, status, created and pem: the
 * ACTIVE ones first, then by creation when active_first, else ordered by id. */
int dd_store_certs_ca_by_subject(struct dd_db *db, const char *account_region, const char *subject,
				 bool active_first, dd_store_certs_row_fn fn, void *ud) DD_MUST_CHECK;

/* Calls fn once per distinct non-empty crl_urls text (a JSON array) of the ACTIVE and
 * PENDING_TRANSFER device certificates and of every CA certificate. */
typedef int (*dd_store_certs_text_fn)(const char *text, void *ud);
int dd_store_certs_crl_urls(struct dd_db *db, const char *account_region, dd_store_certs_text_fn fn,
			    void *ud) DD_MUST_CHECK;

/* ---- start-up upkeep, across every account_region ----------------------------------- */

/* At most limit certificates of kind after (after_account_region, after_id) — "" and ""
 * for the start — ordered by (account_region, id), whose facts_version is below
 * facts_version or whose facts are missing; fn gets account_region, id and pem. */
int dd_store_certs_stale_facts(struct dd_db *db, enum dd_store_certs_kind kind, const char *after_account_region,
			       const char *after_id, int facts_version, int limit, dd_store_certs_row_fn fn,
			       void *ud) DD_MUST_CHECK;
/* At most limit certificates of kind after the key, in the same order, with
 * account_region, id and the key facts (key_type, key_bits, curve, key_sha256,
 * key_sha1_80, debian). */
int dd_store_certs_key_facts(struct dd_db *db, enum dd_store_certs_kind kind, const char *after_account_region,
			     const char *after_id, int limit, dd_store_certs_row_fn fn, void *ud) DD_MUST_CHECK;
/* Replaces every stored fact of a certificate. 0 (also when absent) or DD_EIO. */
int dd_store_certs_set_facts(struct dd_db *db, const char *account_region, enum dd_store_certs_kind kind,
			     const char *id, const struct dd_store_certs_facts *f) DD_MUST_CHECK;
/* Sets the Debian weak-key verdict. 0 or DD_EIO. */
int dd_store_certs_set_debian(struct dd_db *db, const char *account_region, enum dd_store_certs_kind kind,
			      const char *id, int debian) DD_MUST_CHECK;

/* ---- the registration code ------------------------------------------------------------ */

/* Copies the account_region's registration code into code ("" when it has none). 0 or
 * DD_EIO. */
int dd_store_certs_registration_code(struct dd_db *db, const char *account_region, char code[65]) DD_MUST_CHECK;
/* Stores code as the registration code when there is none yet. 0 or DD_EIO. */
int dd_store_certs_registration_code_set(struct dd_db *db, const char *account_region,
					 const char *code) DD_MUST_CHECK;

/* ---- what a deletion looks at: attachments and tags of a certificate's ARN ------------- */

/* The first thing the principal arn (compared without regard to ASCII case) is attached
 * to, copied into thing (size len). 1 (attached), 0 or DD_EIO. */
int dd_store_certs_attached_thing(struct dd_db *db, const char *account_region, const char *arn, char *thing,
				  size_t len) DD_MUST_CHECK;
/* The first policy attached to target arn (same comparison), into policy. 1, 0 or DD_EIO. */
int dd_store_certs_attached_policy(struct dd_db *db, const char *account_region, const char *arn, char *policy,
				   size_t len) DD_MUST_CHECK;
/* Removes the policy attachments (device certificates) and tags of arn. 0 or DD_EIO. */
int dd_store_certs_forget_arn(struct dd_db *db, const char *account_region, const char *arn) DD_MUST_CHECK;

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Key-quality tests: ROCA (CVE-2017-15361) by the discrete-log fingerprint of KEYS.md,
 * and Debian weak keys (CVE-2008-0166) by lookup in imported blocklists. Blocklists are
 * kept as sorted fixed-width binary files under <data-dir>/blocklists/, memory-mapped,
 * looked up by binary search.
 */
#ifndef DD_KEYS_H
#define DD_KEYS_H

#include "dd/common.h"
#include "dd/x509.h"

/* ROCA test of an RSA modulus given as big-endian bytes. Moduli below 2^256 are
 * DD_KEYQ_NOT_CHECKED; otherwise CLEAN or VULNERABLE. Thread-safe. */
enum dd_keyq dd_keys_roca_test(const unsigned char *n_be, size_t n_len);
/* The same verdict computed literally as KEYS.md states it, with BIGNUM exponentiations
 * modulo M. Slow (milliseconds); for cross-checking dd_keys_roca_test in tests. */
enum dd_keyq dd_keys_roca_test_reference(const unsigned char *n_be, size_t n_len);

struct dd_blocklists;

/* Opens (memory-maps) every blocklist file under dir (NULL or a missing dir: none), plus
 * the sample lists shipped with the project (data/blocklists, compiled in) for every key
 * and format the directory does not provide. A sample list can only prove a key weak: a
 * key it does not contain stays NOT_CHECKED. Returns 0 or a DD_E* code. Free with
 * dd_keys_blocklists_free (NULL is a no-op). The handle is safe to use from many threads. */
int dd_keys_blocklists_open(const char *dir, struct dd_blocklists **out) DD_MUST_CHECK;
void dd_keys_blocklists_free(struct dd_blocklists *bl);
/* Reloads the lists when the directory changed since they were loaded (an import
 * renames a new file into it), so an import takes effect without a restart. Readers
 * in flight keep the lists they started with (superseded lists are freed by
 * dd_keys_blocklists_free). Returns 1 when reloaded, 0 when unchanged, or a DD_E* code (the
 * previous lists stay in use). One stat(2) when unchanged. */
int dd_keys_blocklists_refresh(struct dd_blocklists *bl);

/* Imports a public blocklist file into dir (creating it), replacing an older list of the
 * same format and key size. format: "dwk" (sha256_modulus_<bits>.csv or
 * sha256_xcoord_<curve>.csv lines of 64 hex) or "openssl" (blacklist.RSA-<bits> lines of 20
 * hex). key is "rsa-<bits>" or "ec-<curve>". Writes *count entries imported. Lines that
 * are neither hex of the right width nor comments fail the import (err names the line),
 * and nothing is replaced. */
int dd_keys_blocklist_import(const char *dir, const char *format, const char *key,
			const char *input_path, size_t *count, char *err, size_t errlen) DD_MUST_CHECK;

/* The Debian-weak verdict of a parsed certificate's key: VULNERABLE when a loaded list for
 * its key type and size has it, CLEAN when a complete (imported) list for that type and
 * size is loaded and it is absent, NOT_CHECKED otherwise (no list, or only a sample). */
enum dd_keyq dd_keys_blocklists_check(const struct dd_blocklists *bl, const struct dd_cert_facts *f);
/* The same from stored key facts (type, RSA bits, EC curve, the two hex hashes). */
enum dd_keyq dd_keys_blocklists_check_key(const struct dd_blocklists *bl, const char *key_type, int key_bits,
				     const char *curve, const char *key_sha256, const char *key_sha1_80);
/* Number of imported entries loaded for key ("rsa-2048", "ec-prime256v1"; NULL = all
 * lists; the shipped samples are not counted), for status output and tests. */
size_t dd_keys_blocklists_count(const struct dd_blocklists *bl, const char *key);

#endif

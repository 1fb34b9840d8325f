/* SPDX-License-Identifier: Apache-2.0 */
/*
 * SNS message signatures: the canonical string SNS signs for an envelope, SignatureVersion
 * 1 (SHA1withRSA) signing and verifying, and the server's signing key — an RSA-2048 key
 * with a self-signed certificate, created on first use and kept in the store, so that a
 * subscriber can check every message against the certificate served at
 * DD_SNS_CERT_PATH.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "dd/buf.h"
#include "dd/sns.h"
#include "store/dd_store_sns.h"

static const char *const sign_fields_notification[] = { "Message", "MessageId", "Subject", "Timestamp",
							 "TopicArn", "Type", NULL };
static const char *const sign_fields_confirmation[] = { "Message", "MessageId", "SubscribeURL", "Timestamp",
							"Token", "TopicArn", "Type", NULL };

char *dd_sns_message_string_to_sign(json_t *envelope)
{
	const char *type = json_string_value(json_object_get(envelope, "Type"));
	if (!type)
		return NULL;
	const char *const *fields = strcmp(type, "Notification") == 0 ? sign_fields_notification
								       : sign_fields_confirmation;
	struct dd_buf b;
	dd_buf_init(&b, 0);
	for (int i = 0; fields[i]; i++) {
		const char *v = json_string_value(json_object_get(envelope, fields[i]));
		if (!v) {
			if (strcmp(fields[i], "Subject") == 0)
				continue;
			dd_buf_free(&b);
			return NULL;
		}
		dd_buf_printf(&b, "%s\n", fields[i]);
		dd_buf_puts(&b, v);
		dd_buf_putc(&b, '\n');
	}
	return dd_buf_take(&b);
}

int dd_sns_message_sign(const char *key_pem, const char *text, char **sig_b64)
{
	int rc = DD_ECRYPTO;
	BIO *bio = BIO_new_mem_buf(key_pem, -1);
	EVP_PKEY *pkey = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char *sig = NULL;
	size_t siglen = 0;
	if (!pkey || !md || EVP_DigestSignInit(md, NULL, EVP_sha1(), NULL, pkey) != 1 ||
	    EVP_DigestSign(md, NULL, &siglen, (const unsigned char *)text, strlen(text)) != 1)
		goto out;
	sig = malloc(siglen);
	if (!sig || EVP_DigestSign(md, sig, &siglen, (const unsigned char *)text, strlen(text)) != 1)
		goto out;
	*sig_b64 = dd_base64_encode(sig, siglen);
	rc = *sig_b64 ? 0 : DD_ENOMEM;
out:
	free(sig);
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(pkey);
	BIO_free(bio);
	return rc;
}

int dd_sns_message_verify(const char *cert_pem, const char *text, const char *sig_b64)
{
	int rc = DD_ECRYPTO;
	size_t siglen = 0;
	unsigned char *sig = dd_base64_decode(sig_b64, strlen(sig_b64), &siglen);
	BIO *bio = BIO_new_mem_buf(cert_pem, -1);
	X509 *x = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
	EVP_PKEY *pkey = x ? X509_get_pubkey(x) : NULL;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	if (sig && pkey && md && EVP_DigestVerifyInit(md, NULL, EVP_sha1(), NULL, pkey) == 1 &&
	    EVP_DigestVerify(md, sig, siglen, (const unsigned char *)text, strlen(text)) == 1)
		rc = 0;
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(pkey);
	X509_free(x);
	BIO_free(bio);
	free(sig);
	return rc;
}

static char *bio_string(BIO *b)
{
	char *data = NULL;
	long n = BIO_get_mem_data(b, &data);
	if (n <= 0)
		return NULL;
	char *s = malloc((size_t)n + 1);
	if (s) {
		memcpy(s, data, (size_t)n);
		s[n] = '\0';
	}
	return s;
}

int dd_sns_message_key_create(char **cert_pem, char **key_pem)
{
	int rc = DD_ECRYPTO;
	EVP_PKEY *pkey = EVP_RSA_gen(2048);
	X509 *x = X509_new();
	BIO *cb = BIO_new(BIO_s_mem()), *kb = BIO_new(BIO_s_mem());
	unsigned char serial[16];
	BIGNUM *bn = NULL;
	if (!pkey || !x || !cb || !kb || dd_random_bytes(serial, sizeof serial))
		goto out;
	serial[0] &= 0x7f;
	bn = BN_bin2bn(serial, sizeof serial, NULL);
	X509_NAME *name = X509_get_subject_name(x);
	if (!bn || !BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) || X509_set_version(x, 2) != 1 ||
	    !X509_gmtime_adj(X509_getm_notBefore(x), -3600) ||
	    !X509_gmtime_adj(X509_getm_notAfter(x), 10L * 365 * 24 * 3600) ||
	    !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"sns.iotdefender.local", -1, -1, 0) ||
	    !X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)"iotdefender", -1, -1, 0) ||
	    X509_set_issuer_name(x, name) != 1 || X509_set_pubkey(x, pkey) != 1 ||
	    X509_sign(x, pkey, EVP_sha256()) <= 0)
		goto out;
	if (PEM_write_bio_X509(cb, x) != 1 || PEM_write_bio_PrivateKey(kb, pkey, NULL, NULL, 0, NULL, NULL) != 1)
		goto out;
	char *c = bio_string(cb), *k = bio_string(kb);
	if (!c || !k) {
		free(c);
		free(k);
		goto out;
	}
	*cert_pem = c;
	*key_pem = k;
	rc = 0;
out:
	BN_free(bn);
	BIO_free(cb);
	BIO_free(kb);
	X509_free(x);
	EVP_PKEY_free(pkey);
	return rc;
}

int dd_sns_message_key_get(struct dd_db *db, char **cert_pem, char **key_pem)
{
	int rc = dd_store_sns_signing_get(db, cert_pem, key_pem);
	if (rc != DD_ENOTFOUND)
		return rc;
	char *c = NULL, *k = NULL;
	rc = dd_sns_message_key_create(&c, &k);
	if (rc)
		return rc;
	rc = dd_store_sns_signing_put(db, c, k, dd_time_now_ms());
	free(c);
	free(k);
	if (rc)
		return rc;
	dd_log_info("sns: created the message signing key and certificate");
	/* another thread may have won the race: read back the stored pair */
	return dd_store_sns_signing_get(db, cert_pem, key_pem);
}

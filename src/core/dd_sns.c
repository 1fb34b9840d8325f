/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The SNS subset (awsQuery): topics, subscriptions and Publish, plus the unauthenticated
 * links SNS messages carry (SubscribeURL, UnsubscribeURL, SigningCertURL). Handlers only
 * write rows: a subscription's confirmation request and every published message become
 * fully built, signed envelopes in the sns_outbox table, one per subscription, in the
 * same short transaction; the workers of dd_outbox.c deliver them. So an API call never
 * waits on a subscriber, and a MessageId never changes between delivery attempts or
 * across restarts. Topics and subscriptions are scoped to the caller's account; the
 * confirmation links carry their own proof (a 256-bit token, a random subscription ARN).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "core/dd_registry_int.h"
#include "dd/buf.h"
#include "dd/fetch.h"
#include "dd/sns.h"

#define SNS_MAX_MESSAGE 262144
#define SNS_MAX_SUBJECT 100
#define SNS_MAX_ENDPOINT 2048
#define SNS_PAGE 100
#define SNS_XMLNS "http://sns.amazonaws.com/doc/2010-03-31/"

/* ---- signing ------------------------------------------------------------------------ */

static const char *const sign_fields_notification[] = { "Message", "MessageId", "Subject", "Timestamp",
							 "TopicArn", "Type", NULL };
static const char *const sign_fields_confirmation[] = { "Message", "MessageId", "SubscribeURL", "Timestamp",
							"Token", "TopicArn", "Type", NULL };

char *dd_sns_string_to_sign(json_t *envelope)
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

int dd_sns_sign(const char *key_pem, const char *text, char **sig_b64)
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

int dd_sns_verify(const char *cert_pem, const char *text, const char *sig_b64)
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

int dd_sns_signing_create(char **cert_pem, char **key_pem)
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

static int signing_load(struct dd_db *db, char **cert_pem, char **key_pem)
{
	sqlite3_stmt *st = dd_db_stmt(db, "SELECT cert_pem, key_pem FROM sns_signing WHERE id = 1");
	if (!st)
		return DD_EIO;
	int rc = DD_ENOTFOUND;
	if (sqlite3_step(st) == SQLITE_ROW) {
		char *c = strdup(dd_col_text(st, 0)), *k = strdup(dd_col_text(st, 1));
		if (c && k) {
			*cert_pem = c;
			*key_pem = k;
			rc = 0;
		} else {
			free(c);
			free(k);
			rc = DD_ENOMEM;
		}
	}
	sqlite3_reset(st);
	return rc;
}

int dd_sns_signing_get(struct dd_db *db, char **cert_pem, char **key_pem)
{
	int rc = signing_load(db, cert_pem, key_pem);
	if (rc != DD_ENOTFOUND)
		return rc;
	char *c = NULL, *k = NULL;
	rc = dd_sns_signing_create(&c, &k);
	if (rc)
		return rc;
	sqlite3_stmt *st = dd_db_stmt(db, "INSERT OR IGNORE INTO sns_signing(id, cert_pem, key_pem, created) VALUES (1, ?1, ?2, ?3)");
	if (st) {
		dd_bind_text(st, 1, c);
		dd_bind_text(st, 2, k);
		dd_bind_int64(st, 3, dd_now_ms());
		rc = dd_step_done(st);
	} else {
		rc = DD_EIO;
	}
	free(c);
	free(k);
	if (rc)
		return rc;
	dd_log_info("sns: created the message signing key and certificate");
	/* another thread may have won the race: read back the stored pair */
	return signing_load(db, cert_pem, key_pem);
}

/* ---- small helpers ------------------------------------------------------------------- */

static int sns_db_fail(struct dd_ctx *c)
{
	dd_db_rollback(c->db);
	return dd_fail(c, DD_EIO, "InternalError", "An internal store error occurred.");
}

static void iso_now(int64_t ms, char out[32])
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	gmtime_r(&t, &tm);
	char base[24];
	strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, 32, "%s.%03dZ", base, (int)(ms % 1000));
}

static const char *endpoint_of(struct dd_service *svc)
{
	return svc && svc->endpoint_url[0] ? svc->endpoint_url : "http://127.0.0.1";
}

/* "<endpoint><path>?k1=v1&k2=v2" with the values percent-encoded; owned. */
static char *make_url(struct dd_service *svc, const char *path, const char *k1, const char *v1,
		      const char *k2, const char *v2, const char *k3, const char *v3)
{
	struct dd_buf b;
	dd_buf_init(&b, 0);
	dd_buf_printf(&b, "%s%s", endpoint_of(svc), path);
	const char *ks[3] = { k1, k2, k3 }, *vs[3] = { v1, v2, v3 };
	for (int i = 0; i < 3; i++) {
		if (!ks[i])
			continue;
		dd_buf_printf(&b, "%c%s=", i == 0 ? '?' : '&', ks[i]);
		dd_buf_uri_encode(&b, vs[i], strlen(vs[i]), false);
	}
	return dd_buf_take(&b);
}

/* The account of an SNS ARN ("arn:aws:sns:<region>:<account>:<name>[:<sub>]") into buf. */
static bool arn_account(const char *arn, char *buf, size_t len)
{
	if (!arn || strncmp(arn, "arn:aws:sns:", 12) != 0)
		return false;
	const char *p = strchr(arn + 12, ':');
	if (!p)
		return false;
	const char *q = strchr(p + 1, ':');
	if (!q || (size_t)(q - p - 1) >= len)
		return false;
	snprintf(buf, len, "%.*s", (int)(q - p - 1), p + 1);
	return true;
}

/* Fails c with AuthorizationError for an ARN of another account, NotFound otherwise. */
static int topic_missing(struct dd_ctx *c, const char *arn, const char *action)
{
	char acct[32];
	if (dd_db_in_tx(c->db))
		dd_db_rollback(c->db);
	if (arn_account(arn, acct, sizeof acct) && strcmp(acct, c->account) != 0)
		return dd_fail(c, DD_EDENIED, "AuthorizationError",
			       "User: arn:aws:iam::%s:root is not authorized to perform: SNS:%s on resource: %s",
			       c->account, action, arn);
	return dd_fail(c, DD_ENOTFOUND, "NotFound", "Topic does not exist");
}

static bool topic_exists(struct dd_db *db, const char *account, const char *arn)
{
	sqlite3_stmt *st = dd_db_stmt(db, "SELECT 1 FROM sns_topics WHERE account = ?1 AND arn = ?2");
	if (!st)
		return false;
	dd_bind_text(st, 1, account);
	dd_bind_text(st, 2, arn);
	bool found = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_reset(st);
	return found;
}

static bool smtp_configured(void)
{
	const char *u = getenv("IOTDEFENDER_SMTP_URL");
	return u && *u;
}

struct outbox_row {
	const char *account, *topic_arn, *sub_arn, *message_id, *type, *protocol, *endpoint, *subject, *body;
	const char *status;      /* PENDING or UNDELIVERABLE */
	const char *last_error;
	int64_t now;
};

static int outbox_insert(struct dd_db *db, const struct outbox_row *r)
{
	sqlite3_stmt *st = dd_db_stmt(db,
		"INSERT INTO sns_outbox(account, topic_arn, subscription_arn, message_id, type, protocol, endpoint,"
		" subject, body, status, attempts, next_at, created, updated, last_error)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, 0, ?11, ?11, ?11, ?12)");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, r->account);
	dd_bind_text(st, 2, r->topic_arn);
	dd_bind_text(st, 3, r->sub_arn);
	dd_bind_text(st, 4, r->message_id);
	dd_bind_text(st, 5, r->type);
	dd_bind_text(st, 6, r->protocol);
	dd_bind_text(st, 7, r->endpoint);
	dd_bind_text(st, 8, r->subject);
	dd_bind_text(st, 9, r->body);
	dd_bind_text(st, 10, r->status);
	dd_bind_int64(st, 11, r->now);
	dd_bind_text(st, 12, r->last_error);
	return dd_step_done(st);
}

static bool is_email(const char *p) { return strcmp(p, "email") == 0 || strcmp(p, "email-json") == 0; }

/* ---- confirmation messages ---------------------------------------------------------- */

/* Queues the SubscriptionConfirmation for a subscription, inside the caller's write
 * transaction. key_pem/cert_url: the signing key and its URL. */
static int queue_confirmation(struct dd_service *svc, struct dd_db *db, const char *account, const char *topic_arn,
			      const char *sub_arn, const char *protocol, const char *endpoint, const char *token,
			      const char *key_pem, int64_t now)
{
	char mid[37], ts[32];
	dd__uuid(mid);
	iso_now(now, ts);
	char *sub_url = make_url(svc, DD_SNS_CONFIRM_PATH, "Action", "ConfirmSubscription", "TopicArn", topic_arn,
				 "Token", token);
	char *cert_url = make_url(svc, DD_SNS_CERT_PATH, NULL, NULL, NULL, NULL, NULL, NULL);
	struct dd_buf msg;
	dd_buf_init(&msg, 0);
	dd_buf_printf(&msg, "You have chosen to subscribe to the topic %s.\nTo confirm the subscription, visit the "
			    "SubscribeURL included in this message.", topic_arn);
	char *message = dd_buf_take(&msg);
	json_t *env = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "Type", "SubscriptionConfirmation",
				"MessageId", mid, "Token", token, "TopicArn", topic_arn, "Message", message ? message : "",
				"SubscribeURL", sub_url ? sub_url : "", "Timestamp", ts);
	int rc = DD_ENOMEM;
	char *s2s = NULL, *sig = NULL, *body = NULL;
	if (!env || !sub_url || !cert_url || !message || !(s2s = dd_sns_string_to_sign(env)))
		goto out;
	rc = dd_sns_sign(key_pem, s2s, &sig);
	if (rc)
		goto out;
	json_object_set_new(env, "SignatureVersion", json_string("1"));
	json_object_set_new(env, "Signature", json_string(sig));
	json_object_set_new(env, "SigningCertURL", json_string(cert_url));
	const char *subject = NULL;
	if (strcmp(protocol, "email") == 0) {
		struct dd_buf b;
		dd_buf_init(&b, 0);
		dd_buf_printf(&b, "You have chosen to subscribe to the topic:\n%s\n\nTo confirm this subscription, click "
				  "or visit the link below (If this was in error no action is necessary):\n%s\n",
			      topic_arn, sub_url);
		body = dd_buf_take(&b);
		subject = "AWS Notification - Subscription Confirmation";
	} else {
		body = json_dumps(env, JSON_COMPACT | JSON_ESCAPE_SLASH);
		if (is_email(protocol))
			subject = "AWS Notification - Subscription Confirmation";
	}
	rc = DD_ENOMEM;
	if (!body)
		goto out;
	struct outbox_row r = { .account = account, .topic_arn = topic_arn, .sub_arn = sub_arn, .message_id = mid,
				.type = "SubscriptionConfirmation", .protocol = protocol, .endpoint = endpoint,
				.subject = subject, .body = body, .status = "PENDING", .now = now };
	rc = outbox_insert(db, &r);
out:
	free(body);
	free(sig);
	free(s2s);
	json_decref(env);
	free(message);
	free(cert_url);
	free(sub_url);
	return rc;
}

/* ---- publish --------------------------------------------------------------------------- */

struct sub_row {
	char *arn, *protocol, *endpoint;
	bool confirmed, raw;
};

static void subs_free(struct sub_row *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(s[i].arn);
		free(s[i].protocol);
		free(s[i].endpoint);
	}
	free(s);
}

static int subs_load(struct dd_db *db, const char *account, const char *topic_arn, struct sub_row **out, size_t *n)
{
	sqlite3_stmt *st = dd_db_stmt(db, "SELECT arn, protocol, endpoint, confirmed,"
					  " coalesce(json_extract(attributes, '$.RawMessageDelivery'), 'false')"
					  " FROM sns_subscriptions WHERE account = ?1 AND topic_arn = ?2 ORDER BY arn");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, account);
	dd_bind_text(st, 2, topic_arn);
	struct sub_row *s = NULL;
	size_t k = 0;
	int rc = 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		struct sub_row *ns = realloc(s, (k + 1) * sizeof *ns);
		if (!ns) {
			rc = DD_ENOMEM;
			break;
		}
		s = ns;
		s[k].arn = strdup(dd_col_text(st, 0));
		s[k].protocol = strdup(dd_col_text(st, 1));
		s[k].endpoint = strdup(dd_col_text(st, 2));
		s[k].confirmed = sqlite3_column_int(st, 3) != 0;
		s[k].raw = strcasecmp(dd_col_text(st, 4), "true") == 0;
		k++;
		if (!s[k - 1].arn || !s[k - 1].protocol || !s[k - 1].endpoint) {
			rc = DD_ENOMEM;
			break;
		}
	}
	sqlite3_reset(st);
	if (rc) {
		subs_free(s, k);
		return rc;
	}
	*out = s;
	*n = k;
	return 0;
}

static bool subject_ok(const char *s)
{
	size_t n = 0;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++, n++)
		if (*p < 0x20 || *p > 0x7e)
			return false;
	return n > 0 && n <= SNS_MAX_SUBJECT;
}

/* The message for one protocol: with MessageStructure json, the protocol's key or "default". */
static const char *message_for(json_t *structured, const char *message, const char *protocol)
{
	if (!structured)
		return message;
	const char *m = json_string_value(json_object_get(structured, protocol));
	return m ? m : json_string_value(json_object_get(structured, "default"));
}

/* Builds and queues the deliveries of one message. errmsg receives an InvalidParameter
 * reason for DD_EINVAL. */
static int publish(struct dd_service *svc, struct dd_db *db, const char *account, const char *topic_arn,
		   const char *subject, const char *message, json_t *structured, char message_id[37],
		   char *errmsg, size_t errlen)
{
	if (strlen(message) > SNS_MAX_MESSAGE) {
		snprintf(errmsg, errlen, "Invalid parameter: Message too long");
		return DD_EINVAL;
	}
	if (subject && !subject_ok(subject)) {
		snprintf(errmsg, errlen, "Invalid parameter: Subject");
		return DD_EINVAL;
	}
	if (!topic_exists(db, account, topic_arn))
		return DD_ENOTFOUND;
	char *cert_pem = NULL, *key_pem = NULL;
	int rc = dd_sns_signing_get(db, &cert_pem, &key_pem);
	free(cert_pem);
	if (rc)
		return rc;
	struct sub_row *subs = NULL;
	size_t nsubs = 0;
	char mid[37], ts[32];
	dd__uuid(mid);
	int64_t now = dd_now_ms();
	iso_now(now, ts);
	char *cert_url = make_url(svc, DD_SNS_CERT_PATH, NULL, NULL, NULL, NULL, NULL, NULL);
	const char *signed_msg = NULL;
	char *sig = NULL;
	bool smtp = smtp_configured();
	rc = subs_load(db, account, topic_arn, &subs, &nsubs);
	if (rc)
		goto out;
	rc = dd_db_begin_write(db);
	if (rc)
		goto out;
	for (size_t i = 0; i < nsubs && !rc; i++) {
		struct sub_row *s = &subs[i];
		bool email = is_email(s->protocol);
		if (!s->confirmed && !(email && !smtp))
			continue;  /* pending http(s) or email: AWS does not deliver either */
		const char *msg = message_for(structured, message, s->protocol);
		if (!msg)
			msg = "";
		json_t *env = json_pack("{s:s, s:s, s:s}", "Type", "Notification", "MessageId", mid, "TopicArn", topic_arn);
		if (subject)
			json_object_set_new(env, "Subject", json_string(subject));
		json_object_set_new(env, "Message", json_string(msg));
		json_object_set_new(env, "Timestamp", json_string(ts));
		if (!sig || strcmp(signed_msg, msg) != 0) {
			free(sig);
			sig = NULL;
			char *s2s = dd_sns_string_to_sign(env);
			rc = s2s ? dd_sns_sign(key_pem, s2s, &sig) : DD_ENOMEM;
			free(s2s);
			signed_msg = msg;
			if (rc) {
				json_decref(env);
				break;
			}
		}
		char *unsub = make_url(svc, DD_SNS_UNSUBSCRIBE_PATH, "Action", "Unsubscribe", "SubscriptionArn", s->arn,
				       NULL, NULL);
		json_object_set_new(env, "SignatureVersion", json_string("1"));
		json_object_set_new(env, "Signature", json_string(sig));
		json_object_set_new(env, "SigningCertURL", json_string(cert_url ? cert_url : ""));
		json_object_set_new(env, "UnsubscribeURL", json_string(unsub ? unsub : ""));
		char *body = NULL;
		if (strcmp(s->protocol, "email") == 0) {
			struct dd_buf b;
			dd_buf_init(&b, 0);
			dd_buf_printf(&b, "%s\n\n--\nIf you wish to stop receiving notifications from this topic, please "
					  "click or visit the link below to unsubscribe:\n%s\n", msg, unsub ? unsub : "");
			body = dd_buf_take(&b);
		} else if (s->raw) {
			body = strdup(msg);
		} else {
			body = json_dumps(env, JSON_COMPACT | JSON_ESCAPE_SLASH);
		}
		json_decref(env);
		free(unsub);
		if (!body) {
			rc = DD_ENOMEM;
			break;
		}
		struct outbox_row r = { .account = account, .topic_arn = topic_arn, .sub_arn = s->arn, .message_id = mid,
					.type = "Notification", .protocol = s->protocol, .endpoint = s->endpoint,
					.subject = email ? (subject ? subject : "AWS Notification Message") : subject,
					.body = body, .status = "PENDING", .now = now };
		if (email && !smtp) {
			r.status = "UNDELIVERABLE";
			r.last_error = "no SMTP relay configured (IOTDEFENDER_SMTP_URL) and the subscription is not confirmed";
			dd_log_warn("sns: message %s to %s (%s) is undeliverable: no SMTP relay configured", mid,
				    s->arn, s->protocol);
		}
		rc = outbox_insert(db, &r);
		free(body);
	}
	if (rc) {
		dd_db_rollback(db);
		goto out;
	}
	rc = dd_db_commit(db);
	if (!rc) {
		memcpy(message_id, mid, 37);
		dd_outbox_wake(svc);
	}
out:
	free(sig);
	free(cert_url);
	free(key_pem);
	subs_free(subs, nsubs);
	return rc;
}

int dd_sns_publish(struct dd_service *svc, struct dd_db *db, const char *account, const char *topic_arn,
		   const char *subject, const char *message, char message_id[37])
{
	char err[128];
	if (!db || !account || !topic_arn || !message)
		return DD_EINVAL;
	return publish(svc, db, account, topic_arn, subject, message, NULL, message_id, err, sizeof err);
}

/* ---- topic handlers ------------------------------------------------------------------- */

static bool topic_name_ok(const char *n)
{
	size_t len = strlen(n);
	if (len < 1 || len > 256)
		return false;
	for (const char *p = n; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_')
			return false;
	return true;
}

static const char *const topic_attrs[] = { "DisplayName", "Policy", "DeliveryPolicy", "KmsMasterKeyId",
					   "TracingConfig", "SignatureVersion", "DataProtectionPolicy", NULL };

static bool topic_attr_ok(const char *n)
{
	for (int i = 0; topic_attrs[i]; i++)
		if (strcmp(topic_attrs[i], n) == 0)
			return true;
	return false;
}

static int sns_create_topic(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *name = dd__str(in, "Name");
	json_t *attrs = json_object_get(in, "Attributes"), *tags = json_object_get(in, "Tags");
	if (!topic_name_ok(name))
		return dd_fail(c, DD_EINVAL, "InvalidParameter",
			       "Invalid parameter: Topic Name (only alphanumerics, hyphens and underscores, 1 to 256 characters; FIFO topics are not supported)");
	const char *k;
	json_t *v;
	json_object_foreach(attrs, k, v) {
		if (!topic_attr_ok(k) || !json_is_string(v))
			return dd_fail(c, DD_EINVAL, "InvalidParameter", "Invalid parameter: Attributes Reason: Unknown attribute %s", k);
	}
	char arn[600];
	snprintf(arn, sizeof arn, "arn:aws:sns:%s:%s:%s", c->region, c->account, name);
	char *at = (attrs ? json_dumps(attrs, JSON_COMPACT) : strdup("{}"));
	char *tt = tags ? json_dumps(tags, JSON_COMPACT) : NULL;
	sqlite3_stmt *st = dd_db_stmt(c->db, "INSERT OR IGNORE INTO sns_topics(account, arn, name, region, attributes, tags, created)"
					     " VALUES (?1, ?2, ?3, ?4, ?5, coalesce(?6, '[]'), ?7)");
	int rc = 0;
	if (!st || !at) {
		rc = sns_db_fail(c);
	} else {
		dd_bind_text(st, 1, c->account);
		dd_bind_text(st, 2, arn);
		dd_bind_text(st, 3, name);
		dd_bind_text(st, 4, c->region);
		dd_bind_text(st, 5, at);
		dd_bind_text(st, 6, tt);
		dd_bind_int64(st, 7, c->now_ms);
		if (dd_step_done(st))
			rc = sns_db_fail(c);
	}
	free(at);
	free(tt);
	if (!rc)
		*out = json_pack("{s:s}", "TopicArn", arn);
	return rc;
}

static int sns_list_topics(struct dd_ctx *c, json_t *in, json_t **out)
{
	char after[600] = "";
	const char *tok = dd__str(in, "NextToken");
	if (tok && *tok && dd_page_token_parse(tok, after, sizeof after))
		return dd_fail(c, DD_EINVAL, "InvalidParameter", "Invalid parameter: NextToken");
	sqlite3_stmt *st = dd_db_stmt(c->db, "SELECT arn FROM sns_topics WHERE account = ?1 AND region = ?2 AND arn > ?3"
					     " ORDER BY arn LIMIT ?4");
	if (!st)
		return sns_db_fail(c);
	dd_bind_text(st, 1, c->account);
	dd_bind_text(st, 2, c->region);
	dd_bind_text(st, 3, after);
	dd_bind_int64(st, 4, SNS_PAGE + 1);
	json_t *topics = json_array();
	char last[600] = "";
	bool more = false;
	int n = 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (n++ == SNS_PAGE) {
			more = true;
			break;
		}
		json_array_append_new(topics, json_pack("{s:s}", "TopicArn", dd_col_text(st, 0)));
		snprintf(last, sizeof last, "%s", dd_col_text(st, 0));
	}
	sqlite3_reset(st);
	*out = json_pack("{s:o}", "Topics", topics);
	dd__page_next(*out, "NextToken", more, last);
	return 0;
}

static int64_t count_where(struct dd_db *db, sqlite3_stmt *st, const char *account, const char *arn, const char *s3)
{
	(void)db;
	if (!st)
		return 0;
	dd_bind_text(st, 1, account);
	dd_bind_text(st, 2, arn);
	if (s3)
		dd_bind_text(st, 3, s3);
	int64_t n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	return n;
}

static void set_count(json_t *o, const char *key, int64_t n)
{
	char buf[32];
	snprintf(buf, sizeof buf, "%lld", (long long)n);
	json_object_set_new(o, key, json_string(buf));
}

static int sns_get_topic_attributes(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *arn = dd__str(in, "TopicArn");
	sqlite3_stmt *st = dd_db_stmt(c->db, "SELECT attributes FROM sns_topics WHERE account = ?1 AND arn = ?2");
	if (!st)
		return sns_db_fail(c);
	dd_bind_text(st, 1, c->account);
	dd_bind_text(st, 2, arn);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_reset(st);
		return topic_missing(c, arn, "GetTopicAttributes");
	}
	json_t *stored = json_loads(dd_col_text(st, 0), 0, NULL);
	sqlite3_reset(st);
	json_t *a = json_object();
	char policy[2048];
	snprintf(policy, sizeof policy,
		 "{\"Version\":\"2008-10-17\",\"Id\":\"__default_policy_ID\",\"Statement\":[{\"Sid\":\"__default_statement_ID\","
		 "\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"*\"},\"Action\":[\"SNS:GetTopicAttributes\",\"SNS:SetTopicAttributes\","
		 "\"SNS:AddPermission\",\"SNS:RemovePermission\",\"SNS:DeleteTopic\",\"SNS:Subscribe\",\"SNS:ListSubscriptionsByTopic\","
		 "\"SNS:Publish\"],\"Resource\":\"%s\",\"Condition\":{\"StringEquals\":{\"AWS:SourceOwner\":\"%s\"}}}]}",
		 arn, c->account);
	json_object_set_new(a, "Policy", json_string(policy));
	json_object_set_new(a, "DisplayName", json_string(""));
	json_object_set_new(a, "EffectiveDeliveryPolicy", json_string(
		"{\"http\":{\"defaultHealthyRetryPolicy\":{\"minDelayTarget\":20,\"maxDelayTarget\":20,\"numRetries\":3,"
		"\"numMaxDelayRetries\":0,\"numNoDelayRetries\":0,\"numMinDelayRetries\":0,\"backoffFunction\":\"linear\"},"
		"\"disableSubscriptionOverrides\":false,\"defaultRequestPolicy\":{\"headerContentType\":\"text/plain; charset=UTF-8\"}}}"));
	json_object_update(a, stored);
	json_decref(stored);
	json_object_set_new(a, "TopicArn", json_string(arn));
	json_object_set_new(a, "Owner", json_string(c->account));
	set_count(a, "SubscriptionsConfirmed", count_where(c->db, dd_db_stmt(c->db,
		"SELECT count(*) FROM sns_subscriptions WHERE account = ?1 AND topic_arn = ?2 AND confirmed = 1"), c->account, arn, NULL));
	set_count(a, "SubscriptionsPending", count_where(c->db, dd_db_stmt(c->db,
		"SELECT count(*) FROM sns_subscriptions WHERE account = ?1 AND topic_arn = ?2 AND confirmed = 0"), c->account, arn, NULL));
	json_object_set_new(a, "SubscriptionsDeleted", json_string("0"));
	/* our extension: the outbox state of this topic's deliveries, for operators */
	static const char *const states[][2] = { { "PENDING", "iotdefender:DeliveriesPending" },
						  { "INFLIGHT", "iotdefender:DeliveriesInFlight" },
						  { "DELIVERED", "iotdefender:DeliveriesDelivered" },
						  { "FAILED", "iotdefender:DeliveriesFailed" },
						  { "UNDELIVERABLE", "iotdefender:DeliveriesUndeliverable" } };
	for (size_t i = 0; i < sizeof states / sizeof states[0]; i++)
		set_count(a, states[i][1], count_where(c->db, dd_db_stmt(c->db,
			"SELECT count(*) FROM sns_outbox WHERE account = ?1 AND topic_arn = ?2 AND status = ?3"),
			c->account, arn, states[i][0]));
	*out = json_pack("{s:o}", "Attributes", a);
	return 0;
}

static int sns_set_topic_attributes(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *arn = dd__str(in, "TopicArn"), *name = dd__str(in, "AttributeName");
	const char *value = dd__str(in, "AttributeValue");
	if (!topic_attr_ok(name))
		return dd_fail(c, DD_EINVAL, "InvalidParameter", "Invalid parameter: AttributeName");
	if (strcmp(name, "Policy") == 0 || strcmp(name, "DeliveryPolicy") == 0) {
		json_t *j = value && *value ? json_loads(value, 0, NULL) : NULL;
		bool ok = !value || !*value || json_is_object(j);
		json_decref(j);
		if (!ok)
			return dd_fail(c, DD_EINVAL, "InvalidParameter", "Invalid parameter: %s: the value is not a JSON object", name);
	}
	char path[80];
	snprintf(path, sizeof path, "$.%s", name);
	sqlite3_stmt *st = dd_db_stmt(c->db, "UPDATE sns_topics SET attributes = CASE WHEN ?4 IS NULL OR ?4 = ''"
					     " THEN json_remove(attributes, ?3) ELSE json_set(attributes, ?3, ?4) END"
					     " WHERE account = ?1 AND arn = ?2");
	if (!st)
		return sns_db_fail(c);
	dd_bind_text(st, 1, c->account);
	dd_bind_text(st, 2, arn);
	dd_bind_text(st, 3, path);
	dd_bind_text(st, 4, value);
	if (dd_step_done(st))
		return sns_db_fail(c);
	if (sqlite3_changes(dd_db_handle(c->db)) == 0)
		return topic_missing(c, arn, "SetTopicAttributes");
	(void)out;
	return 0;
}

/* Cancels the undelivered outbox rows of a topic or of one subscription. */
static int cancel_deliveries(struct dd_ctx *c, const char *topic_arn, const char *sub_arn, int64_t now)
{
	sqlite3_stmt *st = dd_db_stmt(c->db, "UPDATE sns_outbox SET status = 'CANCELLED', updated = ?4"
					     " WHERE account = ?1 AND status IN ('PENDING', 'INFLIGHT')"
					     " AND (?2 IS NULL OR topic_arn = ?2) AND (?3 IS NULL OR subscription_arn = ?3)");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, c->account);
	dd_bind_text(st, 2, topic_arn);
	dd_bind_text(st, 3, sub_arn);
	dd_bind_int64(st, 4, now);
	return dd_step_done(st);
}

static int sns_delete_topic(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *arn = dd__str(in, "TopicArn");
	char acct[32];
	if (arn_account(arn, acct, sizeof acct) && strcmp(acct, c->account) != 0)
		return topic_missing(c, arn, "DeleteTopic");
	if (dd_db_begin_write(c->db))
		return sns_db_fail(c);
	sqlite3_stmt *st = dd_db_stmt(c->db, "DELETE FROM sns_subscriptions WHERE account = ?1 AND topic_arn = ?2");
	if (!st)
		return sns_db_fail(c);
	dd_bind_text(st, 1, c->account);
	dd_bind_text(st, 2, arn);
	if (dd_step_done(st))
		return sns_db_fail(c);
	st = dd_db_stmt(c->db, "DELETE FROM sns_topics WHERE account = ?1 AND arn = ?2");
	if (!st)
		return sns_db_fail(c);
	dd_bind_text(st, 1, c->account);
	dd_bind_text(st, 2, arn);
	if (dd_step_done(st) || cancel_deliveries(c, arn, NULL, c->now_ms) || dd_db_commit(c->db))
		return sns_db_fail(c);
	(void)out;
	return 0;
}

/* ---- subscriptions ---------------------------------------------------------------------- */

static int check_endpoint(struct dd_ctx *c, const char *protocol, const char *endpoint)
{
	if (!endpoint || !*endpoint)
		return dd_fail(c, DD_EINVAL, "InvalidParameter", "Invalid parameter: Endpoint");
	if (strlen(endpoint) > SNS_MAX_ENDPOINT)
		return dd_fail(c, DD_EINVAL, "InvalidParameter", "Invalid parameter: Endpoint too long");
	for (const unsigned char *p = (const unsigned char *)endpoint; *p; p++)
		if (*p <= 0x20 || *p == 0x7f || *p == '<' || *p == '>' || *p == '"')
			return dd_fail(c, DD_EINVAL, "InvalidParameter", "Invalid parameter: Endpoint contains an invalid character");
	if (strcmp(protocol, "http") == 0 && strncasecmp(endpoint, "http://", 7) != 0)
		return dd_fail(c, DD_EINVAL, "InvalidParameter", "Invalid parameter: Endpoint must match the specified protocol");
	if (strcmp(protocol, "https") == 0 && strncasecmp(endpoint, "https://", 8) != 0)
		return dd_fail(c, DD_EINVAL, "InvalidParameter", "Invalid parameter: Endpoint must match the specified protocol");
	if (!is_email(protocol)) {
		/* A literal address in a refused range is refused now; a host name is checked at
		 * every delivery (dd_fetch.c), which is the real guard. */
		int prc = dd_fetch_url_precheck(endpoint, c->svc ? c->svc->outbound_allow : NULL);
		if (prc == DD_EDENIED)
			return dd_fail(c, DD_EINVAL, "InvalidParameter",
				       "Invalid parameter: Endpoint: the address is in a range this server does not deliver to");
		if (prc)
			return dd_fail(c, DD_EINVAL, "InvalidParameter", "Invalid parameter: Endpoint is not a valid URL");
	}
	if (is_email(protocol)) {
		const char *at = strchr(endpoint, '@');
		if (!at || at == endpoint || !at[1] || strchr(at + 1, '@'))
			return dd_fail(c, DD_EINVAL, "InvalidParameter", "Invalid parameter: Email address");
	}
	return 0;
}

static int sns_subscribe(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *topic = dd__str(in, "TopicArn"), *protocol = dd__str(in, "Protocol");
	const char *endpoint = dd__str(in, "Endpoint");
	json_t *attrs = json_object_get(in, "Attributes");
	bool return_arn = dd__bool(in, "ReturnSubscriptionArn", false);
	if (strcmp(protocol, "http") && strcmp(protocol, "https") && strcmp(protocol, "email") && strcmp(protocol, "email-json"))
		return dd_fail(c, DD_EINVAL, "InvalidParameter",
			       "Invalid parameter: Amazon SNS does not support this protocol string: %s", protocol);
	if (check_endpoint(c, protocol, endpoint))
		return c->err;
	const char *k;
	json_t *v;
	json_object_foreach(attrs, k, v) {
		if (strcmp(k, "RawMessageDelivery") && strcmp(k, "FilterPolicy") && strcmp(k, "FilterPolicyScope") &&
		    strcmp(k, "DeliveryPolicy") && strcmp(k, "RedrivePolicy"))
			return dd_fail(c, DD_EINVAL, "InvalidParameter", "Invalid parameter: Attributes Reason: Unknown attribute %s", k);
	}
	if (!topic_exists(c->db, c->account, topic))
		return topic_missing(c, topic, "Subscribe");
	char *cert = NULL, *key = NULL;
	if (dd_sns_signing_get(c->db, &cert, &key))
		return dd_fail(c, DD_ECRYPTO, "InternalError", "The message signing key is unavailable.");
	free(cert);
	bool smtp = smtp_configured();
	char arn[700], token[129];
	bool confirmed = false, existing = false;
	if (dd_db_begin_write(c->db)) {
		free(key);
		return sns_db_fail(c);
	}
	sqlite3_stmt *st = dd_db_stmt(c->db, "SELECT arn, confirmed, token FROM sns_subscriptions WHERE account = ?1"
					     " AND topic_arn = ?2 AND protocol = ?3 AND endpoint = ?4");
	if (!st)
		goto dberr;
	dd_bind_text(st, 1, c->account);
	dd_bind_text(st, 2, topic);
	dd_bind_text(st, 3, protocol);
	dd_bind_text(st, 4, endpoint);
	if (sqlite3_step(st) == SQLITE_ROW) {
		existing = true;
		snprintf(arn, sizeof arn, "%s", dd_col_text(st, 0));
		confirmed = sqlite3_column_int(st, 1) != 0;
		snprintf(token, sizeof token, "%s", dd_col_text(st, 2));
	}
	sqlite3_reset(st);
	if (!existing) {
		char uuid[37];
		unsigned char r[64];
		dd__uuid(uuid);
		if (dd_random_bytes(r, sizeof r)) {
			dd_db_rollback(c->db);
			free(key);
			return dd_fail(c, DD_ECRYPTO, "InternalError", "No randomness available.");
		}
		dd_hex_encode(r, sizeof r, token);
		snprintf(arn, sizeof arn, "%s:%s", topic, uuid);
		char *at = (attrs ? json_dumps(attrs, JSON_COMPACT) : strdup("{}"));
		st = dd_db_stmt(c->db, "INSERT INTO sns_subscriptions(account, arn, topic_arn, protocol, endpoint, confirmed,"
				       " token, attributes, created) VALUES (?1, ?2, ?3, ?4, ?5, 0, ?6, ?7, ?8)");
		if (!st || !at) {
			free(at);
			goto dberr;
		}
		dd_bind_text(st, 1, c->account);
		dd_bind_text(st, 2, arn);
		dd_bind_text(st, 3, topic);
		dd_bind_text(st, 4, protocol);
		dd_bind_text(st, 5, endpoint);
		dd_bind_text(st, 6, token);
		dd_bind_text(st, 7, at);
		dd_bind_int64(st, 8, c->now_ms);
		free(at);
		if (dd_step_done(st))
			goto dberr;
	}
	bool queued = false;
	if (!confirmed) {
		if (is_email(protocol) && !smtp) {
			dd_log_warn("sns: subscription %s (%s) stays pending: no SMTP relay configured (IOTDEFENDER_SMTP_URL)",
				    arn, protocol);
		} else {
			if (queue_confirmation(c->svc, c->db, c->account, topic, arn, protocol, endpoint, token, key, c->now_ms))
				goto dberr;
			queued = true;
		}
	}
	if (dd_db_commit(c->db))
		goto dberr;
	free(key);
	if (queued)
		dd_outbox_wake(c->svc);
	*out = json_pack("{s:s}", "SubscriptionArn", confirmed || return_arn ? arn : "pending confirmation");
	return 0;
dberr:
	free(key);
	return sns_db_fail(c);
}

/* Confirms the subscription of topic_arn with token; sub_arn receives its ARN. account may
 * be NULL for the unauthenticated SubscribeURL (the token is the proof). */
static int confirm(struct dd_db *db, const char *account, const char *topic_arn, const char *token,
		   const char *auth_unsub, char *sub_arn, size_t len)
{
	if (!token || strlen(token) < 32 || strlen(token) > 256 || !topic_arn)
		return DD_EINVAL;
	sqlite3_stmt *st = dd_db_stmt(db,
		"UPDATE sns_subscriptions SET confirmed = 1,"
		" attributes = CASE WHEN ?4 IS NULL THEN attributes ELSE json_set(attributes, '$.AuthenticateOnUnsubscribe', ?4) END"
		" WHERE token = ?1 AND topic_arn = ?2 AND (?3 IS NULL OR account = ?3) RETURNING arn");
	if (!st)
		return DD_EIO;
	dd_bind_text(st, 1, token);
	dd_bind_text(st, 2, topic_arn);
	dd_bind_text(st, 3, account);
	dd_bind_text(st, 4, auth_unsub);
	int rc = DD_EINVAL;
	if (sqlite3_step(st) == SQLITE_ROW) {
		snprintf(sub_arn, len, "%s", dd_col_text(st, 0));
		rc = 0;
		while (sqlite3_step(st) == SQLITE_ROW)
			;
	}
	sqlite3_reset(st);
	return rc;
}

static int sns_confirm_subscription(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *topic = dd__str(in, "TopicArn"), *token = dd__str(in, "Token");
	const char *auth = dd__str(in, "AuthenticateOnUnsubscribe");
	if (!topic_exists(c->db, c->account, topic))
		return topic_missing(c, topic, "ConfirmSubscription");
	char arn[700];
	int rc = confirm(c->db, c->account, topic, token, auth, arn, sizeof arn);
	if (rc == DD_EINVAL)
		return dd_fail(c, DD_EINVAL, "InvalidParameter", "Invalid token");
	if (rc)
		return sns_db_fail(c);
	*out = json_pack("{s:s}", "SubscriptionArn", arn);
	return 0;
}

static int unsubscribe(struct dd_ctx *c, const char *arn)
{
	if (dd_db_begin_write(c->db))
		return sns_db_fail(c);
	sqlite3_stmt *st = dd_db_stmt(c->db, "DELETE FROM sns_subscriptions WHERE account = ?1 AND arn = ?2");
	if (!st)
		return sns_db_fail(c);
	dd_bind_text(st, 1, c->account);
	dd_bind_text(st, 2, arn);
	if (dd_step_done(st))
		return sns_db_fail(c);
	if (sqlite3_changes(dd_db_handle(c->db)) == 0) {
		dd_db_rollback(c->db);
		return dd_fail(c, DD_ENOTFOUND, "NotFound", "Subscription does not exist");
	}
	if (cancel_deliveries(c, NULL, arn, c->now_ms) || dd_db_commit(c->db))
		return sns_db_fail(c);
	return 0;
}

static int sns_unsubscribe(struct dd_ctx *c, json_t *in, json_t **out)
{
	(void)out;
	return unsubscribe(c, dd__str(in, "SubscriptionArn"));
}

static int list_subs(struct dd_ctx *c, json_t *in, const char *topic, json_t **out)
{
	char after[800] = "", prefix[128];
	const char *tok = dd__str(in, "NextToken");
	if (tok && *tok && dd_page_token_parse(tok, after, sizeof after))
		return dd_fail(c, DD_EINVAL, "InvalidParameter", "Invalid parameter: NextToken");
	snprintf(prefix, sizeof prefix, "arn:aws:sns:%s:", c->region);
	sqlite3_stmt *st = dd_db_stmt(c->db,
		"SELECT arn, protocol, endpoint, confirmed, topic_arn FROM sns_subscriptions WHERE account = ?1"
		" AND (?2 IS NULL OR topic_arn = ?2) AND substr(topic_arn, 1, length(?3)) = ?3 AND arn > ?4"
		" ORDER BY arn LIMIT ?5");
	if (!st)
		return sns_db_fail(c);
	dd_bind_text(st, 1, c->account);
	dd_bind_text(st, 2, topic);
	dd_bind_text(st, 3, prefix);
	dd_bind_text(st, 4, after);
	dd_bind_int64(st, 5, SNS_PAGE + 1);
	json_t *subs = json_array();
	char last[800] = "";
	bool more = false;
	int n = 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (n++ == SNS_PAGE) {
			more = true;
			break;
		}
		bool confirmed = sqlite3_column_int(st, 3) != 0;
		json_array_append_new(subs, json_pack("{s:s, s:s, s:s, s:s, s:s}", "SubscriptionArn",
						      confirmed ? dd_col_text(st, 0) : "PendingConfirmation",
						      "Owner", c->account, "Protocol", dd_col_text(st, 1),
						      "Endpoint", dd_col_text(st, 2), "TopicArn", dd_col_text(st, 4)));
		snprintf(last, sizeof last, "%s", dd_col_text(st, 0));
	}
	sqlite3_reset(st);
	*out = json_pack("{s:o}", "Subscriptions", subs);
	dd__page_next(*out, "NextToken", more, last);
	return 0;
}

static int sns_list_subscriptions_by_topic(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *topic = dd__str(in, "TopicArn");
	if (!topic_exists(c->db, c->account, topic))
		return topic_missing(c, topic, "ListSubscriptionsByTopic");
	return list_subs(c, in, topic, out);
}

static int sns_list_subscriptions(struct dd_ctx *c, json_t *in, json_t **out)
{
	return list_subs(c, in, NULL, out);
}

static int sns_get_subscription_attributes(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *arn = dd__str(in, "SubscriptionArn");
	sqlite3_stmt *st = dd_db_stmt(c->db, "SELECT topic_arn, protocol, endpoint, confirmed, attributes FROM sns_subscriptions"
					     " WHERE account = ?1 AND arn = ?2");
	if (!st)
		return sns_db_fail(c);
	dd_bind_text(st, 1, c->account);
	dd_bind_text(st, 2, arn);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_reset(st);
		return dd_fail(c, DD_ENOTFOUND, "NotFound", "Subscription does not exist");
	}
	json_t *a = json_object();
	json_t *stored = json_loads(dd_col_text(st, 4), 0, NULL);
	json_object_set_new(a, "RawMessageDelivery", json_string("false"));
	const char *k;
	json_t *v;
	json_object_foreach(stored, k, v) if (json_is_string(v)) json_object_set(a, k, v);
	json_decref(stored);
	bool confirmed = sqlite3_column_int(st, 3) != 0;
	json_object_set_new(a, "SubscriptionArn", json_string(arn));
	json_object_set_new(a, "TopicArn", json_string(dd_col_text(st, 0)));
	json_object_set_new(a, "Protocol", json_string(dd_col_text(st, 1)));
	json_object_set_new(a, "Endpoint", json_string(dd_col_text(st, 2)));
	json_object_set_new(a, "Owner", json_string(c->account));
	json_object_set_new(a, "PendingConfirmation", json_string(confirmed ? "false" : "true"));
	json_object_set_new(a, "ConfirmationWasAuthenticated", json_string(confirmed ? "true" : "false"));
	sqlite3_reset(st);
	*out = json_pack("{s:o}", "Attributes", a);
	return 0;
}

static int sns_publish(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *topic = dd__str(in, "TopicArn"), *target = dd__str(in, "TargetArn");
	const char *message = dd__str(in, "Message"), *subject = dd__str(in, "Subject");
	const char *structure = dd__str(in, "MessageStructure");
	if (dd__str(in, "PhoneNumber"))
		return dd_fail(c, DD_EINVAL, "InvalidParameter", "Invalid parameter: PhoneNumber (SMS is not supported by this server)");
	if (!topic)
		topic = target;
	if (!topic)
		return dd_fail(c, DD_EINVAL, "InvalidParameter", "Invalid parameter: TopicArn or TargetArn Reason: no value for required parameter");
	json_t *structured = NULL;
	if (structure) {
		if (strcmp(structure, "json") != 0)
			return dd_fail(c, DD_EINVAL, "InvalidParameter", "Invalid parameter: MessageStructure");
		structured = json_loads(message, JSON_REJECT_DUPLICATES, NULL);
		if (!json_is_object(structured) || !json_is_string(json_object_get(structured, "default"))) {
			json_decref(structured);
			return dd_fail(c, DD_EINVAL, "InvalidParameter",
				       "Invalid parameter: Message Structure - No default entry in JSON message body");
		}
	}
	char mid[37], err[128] = "";
	int rc = publish(c->svc, c->db, c->account, topic, subject, message, structured, mid, err, sizeof err);
	json_decref(structured);
	if (rc == DD_ENOTFOUND)
		return topic_missing(c, topic, "Publish");
	if (rc == DD_EINVAL)
		return dd_fail(c, rc, "InvalidParameter", "%s", err);
	if (rc)
		return dd_fail(c, rc, "InternalError", "The message could not be queued: %s", dd_strerror(rc));
	*out = json_pack("{s:s}", "MessageId", mid);
	return 0;
}

/* ---- unauthenticated links ------------------------------------------------------------------ */

static const char *query_get(const struct dd_kv *q, size_t n, const char *key)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(q[i].key, key) == 0)
			return q[i].value;
	return NULL;
}

static char *xml_result(const char *op, const char *inner_name, const char *inner_value)
{
	char rid[37];
	dd__uuid(rid);
	struct dd_buf b;
	dd_buf_init(&b, 0);
	dd_buf_printf(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<%sResponse xmlns=\"%s\">", op, SNS_XMLNS);
	if (inner_name) {
		dd_buf_printf(&b, "<%sResult><%s>", op, inner_name);
		dd_buf_xml_escape(&b, inner_value);
		dd_buf_printf(&b, "</%s></%sResult>", inner_name, op);
	}
	dd_buf_printf(&b, "<ResponseMetadata><RequestId>%s</RequestId></ResponseMetadata></%sResponse>", rid, op);
	return dd_buf_take(&b);
}

static char *xml_error(const char *code, const char *msg)
{
	char rid[37];
	dd__uuid(rid);
	struct dd_buf b;
	dd_buf_init(&b, 0);
	dd_buf_printf(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ErrorResponse xmlns=\"%s\"><Error><Type>Sender</Type><Code>%s</Code><Message>",
		      SNS_XMLNS, code);
	dd_buf_xml_escape(&b, msg);
	dd_buf_printf(&b, "</Message></Error><RequestId>%s</RequestId></ErrorResponse>", rid);
	return dd_buf_take(&b);
}

static int route_cert(struct dd_service *svc, const struct dd_kv *query, size_t nquery, int *status,
		      const char **content_type, char **body)
{
	(void)query;
	(void)nquery;
	struct dd_db *db = dd_store_db(svc->store);
	char *cert = NULL, *key = NULL;
	if (!db || dd_sns_signing_get(db, &cert, &key)) {
		*status = 500;
		*content_type = "text/plain";
		*body = strdup("signing certificate unavailable\n");
		return 0;
	}
	free(key);
	*status = 200;
	*content_type = "application/x-pem-file";
	*body = cert;
	return 0;
}

static int route_confirm(struct dd_service *svc, const struct dd_kv *query, size_t nquery, int *status,
			 const char **content_type, char **body)
{
	const char *token = query_get(query, nquery, "Token"), *topic = query_get(query, nquery, "TopicArn");
	struct dd_db *db = dd_store_db(svc->store);
	char arn[700];
	*content_type = "text/xml";
	int rc = db ? confirm(db, NULL, topic, token, NULL, arn, sizeof arn) : DD_EIO;
	if (rc == 0) {
		*status = 200;
		*body = xml_result("ConfirmSubscription", "SubscriptionArn", arn);
		dd_log_info("sns: subscription %s confirmed through its SubscribeURL", arn);
	} else if (rc == DD_EINVAL) {
		*status = 400;
		*body = xml_error("InvalidParameter", "Invalid token");
	} else {
		*status = 500;
		*body = xml_error("InternalError", "An internal store error occurred.");
	}
	return 0;
}

static int route_unsubscribe(struct dd_service *svc, const struct dd_kv *query, size_t nquery, int *status,
			     const char **content_type, char **body)
{
	const char *arn = query_get(query, nquery, "SubscriptionArn");
	char acct[32];
	*content_type = "text/xml";
	struct dd_db *db = dd_store_db(svc->store);
	if (!db || !arn || strlen(arn) > 800 || !arn_account(arn, acct, sizeof acct)) {
		*status = 400;
		*body = xml_error("InvalidParameter", "Invalid parameter: SubscriptionArn");
		return 0;
	}
	struct dd_ctx c = { .svc = svc, .db = db, .account = acct, .region = "", .request_id = "", .now_ms = dd_now_ms() };
	if (unsubscribe(&c, arn)) {
		*status = c.err == DD_ENOTFOUND ? 404 : 500;
		*body = xml_error(c.err_code ? c.err_code : "InternalError", c.err_msg);
		return 0;
	}
	dd_log_info("sns: subscription %s removed through its UnsubscribeURL", arn);
	*status = 200;
	*body = xml_result("Unsubscribe", NULL, NULL);
	return 0;
}

const struct dd_handler dd_sns_handlers[] = {
	{ "sns", "CreateTopic", sns_create_topic },
	{ "sns", "ListTopics", sns_list_topics },
	{ "sns", "GetTopicAttributes", sns_get_topic_attributes },
	{ "sns", "SetTopicAttributes", sns_set_topic_attributes },
	{ "sns", "DeleteTopic", sns_delete_topic },
	{ "sns", "Subscribe", sns_subscribe },
	{ "sns", "ConfirmSubscription", sns_confirm_subscription },
	{ "sns", "Unsubscribe", sns_unsubscribe },
	{ "sns", "ListSubscriptionsByTopic", sns_list_subscriptions_by_topic },
	{ "sns", "ListSubscriptions", sns_list_subscriptions },
	{ "sns", "GetSubscriptionAttributes", sns_get_subscription_attributes },
	{ "sns", "Publish", sns_publish },
	{ NULL, NULL, NULL },
};

const struct dd_public_route dd_sns_public_routes[] = {
	{ DD_SNS_CERT_PATH, route_cert },
	{ DD_SNS_CONFIRM_PATH, route_confirm },
	{ DD_SNS_UNSUBSCRIBE_PATH, route_unsubscribe },
	{ NULL, NULL },
};

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Publishing to SNS subscribers: a published message, or a subscription's confirmation
 * request, becomes one fully built and signed envelope per subscriber, queued as an outbox
 * row in one short write transaction; the outbox workers deliver them. Which
 * subscriptions get a message is decided here: confirmed http/https and email ones, and
 * email ones without an SMTP relay (IOTDEFENDER_SMTP_URL) are recorded as undeliverable
 * rather than silently dropped. The envelope formats (JSON, raw, the email text) are
 * AWS's; a MessageId never changes between delivery attempts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dd/buf.h"
#include "dd/sns.h"
#include "store/dd_store_sns.h"

#define SNS_MAX_MESSAGE 262144
#define SNS_MAX_SUBJECT 100

/* A MessageId: a random UUID (version 4). */
static void message_id_new(char out[37])
{
	unsigned char r[16];
	if (dd_random_bytes(r, sizeof r))
		memset(r, 0x42, sizeof r);
	r[6] = (unsigned char)((r[6] & 0x0f) | 0x40);
	r[8] = (unsigned char)((r[8] & 0x3f) | 0x80);
	char hex[33];
	dd_hex_encode(r, 16, hex);
	snprintf(out, 37, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12, hex + 16, hex + 20);
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

bool dd_sns_publish_smtp_configured(void)
{
	const char *u = getenv("IOTDEFENDER_SMTP_URL");
	return u && *u;
}

bool dd_sns_publish_is_email(const char *protocol)
{
	return strcmp(protocol, "email") == 0 || strcmp(protocol, "email-json") == 0;
}

/* ---- confirmation messages ---------------------------------------------------------- */

int dd_sns_publish_confirmation(struct dd_service *svc, struct dd_db *db, const char *account, const char *topic_arn,
				const char *sub_arn, const char *protocol, const char *endpoint, const char *token,
				const char *key_pem, int64_t now)
{
	char mid[37], ts[32];
	message_id_new(mid);
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
	if (!env || !sub_url || !cert_url || !message || !(s2s = dd_sns_message_string_to_sign(env)))
		goto out;
	rc = dd_sns_message_sign(key_pem, s2s, &sig);
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
		if (dd_sns_publish_is_email(protocol))
			subject = "AWS Notification - Subscription Confirmation";
	}
	rc = DD_ENOMEM;
	if (!body)
		goto out;
	struct dd_store_sns_outbox_row r = { .account = account, .topic_arn = topic_arn, .subscription_arn = sub_arn,
					     .message_id = mid, .type = "SubscriptionConfirmation", .protocol = protocol,
					     .endpoint = endpoint, .subject = subject, .body = body, .status = "PENDING",
					     .now_ms = now };
	rc = dd_store_sns_outbox_insert(db, &r);
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

struct subs {
	struct sub_row *v;
	size_t n;
};

static void subs_free(struct subs *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free(s->v[i].arn);
		free(s->v[i].protocol);
		free(s->v[i].endpoint);
	}
	free(s->v);
}

static int sub_add(const struct dd_store_sns_subscription *row, void *ud)
{
	struct subs *s = ud;
	struct sub_row *nv = realloc(s->v, (s->n + 1) * sizeof *nv);
	if (!nv)
		return DD_ENOMEM;
	s->v = nv;
	struct sub_row *r = &s->v[s->n++];
	r->arn = strdup(row->arn);
	r->protocol = strdup(row->protocol);
	r->endpoint = strdup(row->endpoint);
	r->confirmed = row->confirmed;
	r->raw = row->raw;
	return r->arn && r->protocol && r->endpoint ? 0 : DD_ENOMEM;
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

/* delivery_key: NULL, or the key that makes a second publish of the same notification
 * queue nothing (sns_outbox's unique (account, subscription, delivery_key)). */
static int publish(struct dd_service *svc, struct dd_db *db, const char *account, const char *topic_arn,
		   const char *subject, const char *message, json_t *structured, const char *delivery_key,
		   char message_id[37], char *errmsg, size_t errlen)
{
	if (strlen(message) > SNS_MAX_MESSAGE) {
		snprintf(errmsg, errlen, "Invalid parameter: Message too long");
		return DD_EINVAL;
	}
	if (subject && !subject_ok(subject)) {
		snprintf(errmsg, errlen, "Invalid parameter: Subject");
		return DD_EINVAL;
	}
	bool exists = false;
	int rc = dd_store_sns_topic_exists(db, account, topic_arn, &exists);
	if (rc)
		return rc;
	if (!exists)
		return DD_ENOTFOUND;
	char *cert_pem = NULL, *key_pem = NULL;
	rc = dd_sns_message_key_get(db, &cert_pem, &key_pem);
	free(cert_pem);
	if (rc)
		return rc;
	struct subs subs = { 0 };
	char mid[37], ts[32];
	message_id_new(mid);
	int64_t now = dd_time_now_ms();
	iso_now(now, ts);
	char *cert_url = make_url(svc, DD_SNS_CERT_PATH, NULL, NULL, NULL, NULL, NULL, NULL);
	const char *signed_msg = NULL;
	char *sig = NULL;
	bool smtp = dd_sns_publish_smtp_configured();
	rc = dd_store_sns_subscription_list(db, account, topic_arn, "", "", -1, sub_add, &subs);
	if (rc)
		goto out;
	rc = dd_db_begin_write(db);
	if (rc)
		goto out;
	for (size_t i = 0; i < subs.n && !rc; i++) {
		struct sub_row *s = &subs.v[i];
		bool email = dd_sns_publish_is_email(s->protocol);
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
			char *s2s = dd_sns_message_string_to_sign(env);
			rc = s2s ? dd_sns_message_sign(key_pem, s2s, &sig) : DD_ENOMEM;
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
		struct dd_store_sns_outbox_row r = {
			.account = account, .topic_arn = topic_arn, .subscription_arn = s->arn, .message_id = mid,
			.type = "Notification", .protocol = s->protocol, .endpoint = s->endpoint,
			.subject = email ? (subject ? subject : "AWS Notification Message") : subject,
			.body = body, .status = "PENDING", .now_ms = now, .delivery_key = delivery_key };
		if (email && !smtp) {
			r.status = "UNDELIVERABLE";
			r.last_error = "no SMTP relay configured (IOTDEFENDER_SMTP_URL) and the subscription is not confirmed";
			dd_log_warn("sns: message %s to %s (%s) is undeliverable: no SMTP relay configured", mid,
				    s->arn, s->protocol);
		}
		rc = dd_store_sns_outbox_insert(db, &r);
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
	subs_free(&subs);
	return rc;
}

int dd_sns_publish_structured(struct dd_service *svc, struct dd_db *db, const char *account, const char *topic_arn,
			      const char *subject, const char *message, json_t *structured, char message_id[37],
			      char *errmsg, size_t errlen)
{
	return publish(svc, db, account, topic_arn, subject, message, structured, NULL, message_id, errmsg, errlen);
}

int dd_sns_publish_once(struct dd_service *svc, struct dd_db *db, const char *account, const char *topic_arn,
			const char *delivery_key, const char *message, char message_id[37])
{
	char err[128];
	if (!db || !account || !topic_arn || !message || !delivery_key)
		return DD_EINVAL;
	return publish(svc, db, account, topic_arn, NULL, message, NULL, delivery_key, message_id, err, sizeof err);
}

int dd_sns_publish(struct dd_service *svc, struct dd_db *db, const char *account, const char *topic_arn,
		   const char *subject, const char *message, char message_id[37])
{
	char err[128];
	if (!db || !account || !topic_arn || !message)
		return DD_EINVAL;
	return dd_sns_publish_structured(svc, db, account, topic_arn, subject, message, NULL, message_id, err, sizeof err);
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The SNS subset: topics, subscriptions (http, https, email, email-json) and Publish.
 * Publishing never delivers inline: it builds each subscriber's signed envelope and
 * inserts it into the durable outbox table (sns_outbox), which the workers of
 * dd_outbox.c deliver with retries. Envelopes are signed (SignatureVersion 1, RSA-SHA1)
 * with the server's SNS signing key, created on first use and kept in the store; its
 * self-signed certificate is served at <endpoint>/sns/SimpleNotificationService.pem.
 * Publishing is src/core/notify/dd_sns_publish.c, signatures
 * src/core/notify/dd_sns_message.c, the API src/api/dd_sns.c.
 */
#ifndef DD_SNS_H
#define DD_SNS_H

#include <jansson.h>

#include "dd/common.h"
#include "dd/service.h"
#include "dd/store.h"

/* Path of the signing certificate, the SubscribeURL and the UnsubscribeURL on this server. */
#define DD_SNS_CERT_PATH "/sns/SimpleNotificationService.pem"
#define DD_SNS_CONFIRM_PATH "/sns/confirm"
#define DD_SNS_UNSUBSCRIBE_PATH "/sns/unsubscribe"

/*
 * Publishes message (with an optional subject, NULL for none) to the topic topic_arn of
 * account, as the Publish API does: one outbox row per subscription (confirmed http/https
 * and email subscriptions get a delivery; email subscriptions without an SMTP relay are
 * recorded as undeliverable). db is the calling thread's connection and must not be in
 * a transaction. On success writes the MessageId (a UUID) to message_id and returns 0;
 * DD_ENOTFOUND when the topic does not exist in account; DD_EINVAL for a message over
 * 256 KiB or a bad subject; DD_EIO / DD_ECRYPTO otherwise.
 */
int dd_sns_publish(struct dd_service *svc, struct dd_db *db, const char *account, const char *topic_arn,
		   const char *subject, const char *message, char message_id[37]) DD_MUST_CHECK;
/* The same, without a subject, for a notification that must be queued once however often
 * it is published (a background unit finished twice after a lease race): a second
 * publish with the same delivery_key queues nothing for a subscription that has it. */
int dd_sns_publish_once(struct dd_service *svc, struct dd_db *db, const char *account, const char *topic_arn,
			const char *delivery_key, const char *message, char message_id[37]) DD_MUST_CHECK;
/* The same with MessageStructure json: structured (an object with a "default" string)
 * gives the message of each protocol, by its key or "default"; NULL publishes message to
 * all. For DD_EINVAL errmsg receives the InvalidParameter reason. */
int dd_sns_publish_structured(struct dd_service *svc, struct dd_db *db, const char *account, const char *topic_arn,
			      const char *subject, const char *message, json_t *structured, char message_id[37],
			      char *errmsg, size_t errlen) DD_MUST_CHECK;
/* Queues the signed SubscriptionConfirmation of a new subscription (its confirmation
 * link carries token), inside the caller's write transaction; key_pem is the signing key
 * (dd_sns_message_key_get). Returns 0, DD_ENOMEM, DD_ECRYPTO or DD_EIO. */
int dd_sns_publish_confirmation(struct dd_service *svc, struct dd_db *db, const char *account, const char *topic_arn,
				const char *sub_arn, const char *protocol, const char *endpoint, const char *token,
				const char *key_pem, int64_t now_ms) DD_MUST_CHECK;
/* Is protocol email or email-json? Is an SMTP relay configured (IOTDEFENDER_SMTP_URL)?
 * Without one, email subscriptions stay pending and their messages are undeliverable. */
bool dd_sns_publish_is_email(const char *protocol);
bool dd_sns_publish_smtp_configured(void);

/*
 * The canonical string SNS signs for an envelope (a JSON object with Type, MessageId,
 * TopicArn, Message, Timestamp and, by type, Subject or Token and SubscribeURL), as AWS
 * documents for "Verifying the signatures of Amazon SNS messages". Returns an owned
 * string, or NULL when a required field is missing.
 */
char *dd_sns_message_string_to_sign(json_t *envelope);

/* Signs text with an RSA private key (PEM) using SHA1withRSA; writes an owned base64
 * string to *sig_b64. Returns 0 or DD_ECRYPTO. */
int dd_sns_message_sign(const char *key_pem, const char *text, char **sig_b64) DD_MUST_CHECK;

/* Verifies a base64 SHA1withRSA signature over text with the public key of cert_pem.
 * Returns 0 when it verifies, DD_ECRYPTO otherwise. */
int dd_sns_message_verify(const char *cert_pem, const char *text, const char *sig_b64) DD_MUST_CHECK;

/* Creates a new RSA-2048 key and a self-signed certificate (CN sns.iotdefender.local,
 * 10 years) for signing. Owned PEM strings out. Returns 0 or DD_ECRYPTO. */
int dd_sns_message_key_create(char **cert_pem, char **key_pem) DD_MUST_CHECK;

/* The server's signing key and certificate from the store, created and stored on first
 * use. Owned PEM strings out. Returns 0, DD_EIO or DD_ECRYPTO. */
int dd_sns_message_key_get(struct dd_db *db, char **cert_pem, char **key_pem) DD_MUST_CHECK;

/* Wakes the outbox workers after rows were queued (no-op when they are not running).
 * Implemented in dd_outbox.c. */
void dd_outbox_wake(struct dd_service *svc);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The store of SNS: topics (with their attributes and tags as JSON text), subscriptions
 * (with a confirmation token and attributes as JSON text), the server's message signing
 * key, and the publishing side of the delivery outbox: the rows a Publish or a Subscribe
 * queues, their cancellation when a topic or subscription goes, and counts by status
 * (the delivery side — claim, complete, retry — is dd_store_outbox.h). Topics and
 * subscriptions are keyed by the account and their ARN; the unauthenticated confirmation
 * link finds a subscription by its token alone. Every function returns 0 or a negative
 * DD_E*: DD_ENOTFOUND for a missing row, DD_EIO for a store error. Listings call fn once
 * a row; fn returns 0 to go on, > 0 to stop (the listing returns 0) or < 0 to abort (the
 * listing returns it). Row strings are valid during the call only.
 */
#ifndef DD_STORE_SNS_H
#define DD_STORE_SNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dd/common.h"

struct dd_db;

/* ---- topics ---- */

/* Creates the topic unless one with that ARN exists in account (then 0 and nothing
 * changes, as CreateTopic is idempotent). attributes: a JSON object's text; tags: a JSON
 * array's text, or NULL for none. */
int dd_store_sns_topic_create(struct dd_db *db, const char *account, const char *arn, const char *name,
			      const char *region, const char *attributes, const char *tags,
			      int64_t created_ms) DD_MUST_CHECK;
int dd_store_sns_topic_exists(struct dd_db *db, const char *account, const char *arn, bool *exists) DD_MUST_CHECK;
/* The ARNs of account's topics in region after `after` ("" first), by ARN, at most limit. */
typedef int (*dd_store_sns_text_fn)(const char *value, void *ud);
int dd_store_sns_topic_list(struct dd_db *db, const char *account, const char *region, const char *after,
			    int limit, dd_store_sns_text_fn fn, void *ud) DD_MUST_CHECK;
/* The stored attributes (a JSON object's text, owned: free()) of a topic. DD_ENOTFOUND. */
int dd_store_sns_topic_attributes(struct dd_db *db, const char *account, const char *arn,
				  char **attributes) DD_MUST_CHECK;
/* Sets one attribute of a topic to value (text), or removes it when value is NULL or "".
 * DD_ENOTFOUND. */
int dd_store_sns_topic_attribute_set(struct dd_db *db, const char *account, const char *arn, const char *name,
				     const char *value) DD_MUST_CHECK;
/* Removes a topic and its subscriptions (0 also when there was none). */
int dd_store_sns_topic_delete(struct dd_db *db, const char *account, const char *arn) DD_MUST_CHECK;

/* ---- subscriptions ---- */

struct dd_store_sns_subscription {
	const char *arn;
	const char *topic_arn;
	const char *protocol;
	const char *endpoint;
	const char *token;        /* the confirmation token */
	const char *attributes;   /* a JSON object's text */
	bool confirmed;
	bool raw;                 /* attribute RawMessageDelivery is "true" (any case) */
	int64_t created_ms;
};
typedef int (*dd_store_sns_subscription_fn)(const struct dd_store_sns_subscription *s, void *ud);

/* The subscription of topic_arn with this protocol and endpoint (fn called once).
 * DD_ENOTFOUND. */
int dd_store_sns_subscription_find(struct dd_db *db, const char *account, const char *topic_arn, const char *protocol,
				   const char *endpoint, dd_store_sns_subscription_fn fn, void *ud) DD_MUST_CHECK;
/* A subscription by ARN (fn called once). DD_ENOTFOUND. */
int dd_store_sns_subscription_get(struct dd_db *db, const char *account, const char *arn,
				  dd_store_sns_subscription_fn fn, void *ud) DD_MUST_CHECK;
/* Adds a pending (unconfirmed) subscription; s->confirmed and s->raw are ignored.
 * DD_EEXIST when the ARN exists. */
int dd_store_sns_subscription_insert(struct dd_db *db, const char *account,
				     const struct dd_store_sns_subscription *s) DD_MUST_CHECK;
/* Confirms the subscription of topic_arn whose token is token, in account (or in any
 * account when account is NULL: the token is the proof), and, when auth_unsub is not
 * NULL, records it as attribute AuthenticateOnUnsubscribe. Writes the subscription's ARN
 * into arn (size arnlen). DD_ENOTFOUND when no subscription has that token. */
int dd_store_sns_subscription_confirm(struct dd_db *db, const char *account, const char *topic_arn, const char *token,
				      const char *auth_unsub, char *arn, size_t arnlen) DD_MUST_CHECK;
/* Removes a subscription. DD_ENOTFOUND. */
int dd_store_sns_subscription_delete(struct dd_db *db, const char *account, const char *arn) DD_MUST_CHECK;
/* The subscriptions of account — of topic_arn only unless it is NULL — whose topic ARN
 * starts with topic_prefix, with an ARN after `after` ("" first), by ARN, at most limit
 * (limit < 0: all). */
int dd_store_sns_subscription_list(struct dd_db *db, const char *account, const char *topic_arn,
				   const char *topic_prefix, const char *after, int limit,
				   dd_store_sns_subscription_fn fn, void *ud) DD_MUST_CHECK;
/* The number of confirmed (or pending) subscriptions of a topic. */
int dd_store_sns_subscription_count(struct dd_db *db, const char *account, const char *topic_arn, bool confirmed,
				    int64_t *n) DD_MUST_CHECK;

/* ---- the message signing key ---- */

/* The stored signing certificate and key (owned PEM strings). DD_ENOTFOUND before the
 * first is stored. */
int dd_store_sns_signing_get(struct dd_db *db, char **cert_pem, char **key_pem) DD_MUST_CHECK;
/* Stores the pair unless one is stored already (then 0 and the stored one stays). */
int dd_store_sns_signing_put(struct dd_db *db, const char *cert_pem, const char *key_pem,
			     int64_t created_ms) DD_MUST_CHECK;

/* ---- outbox rows of publishing ---- */

/* One message to one subscriber, fully built. */
struct dd_store_sns_outbox_row {
	const char *account, *topic_arn, *subscription_arn, *message_id;
	const char *type;        /* Notification / SubscriptionConfirmation */
	const char *protocol, *endpoint;
	const char *subject;     /* NULL for none */
	const char *body;
	const char *status;      /* PENDING, or UNDELIVERABLE with last_error */
	const char *last_error;  /* NULL for none */
	int64_t now_ms;          /* created, updated and first due */
	const char *delivery_key; /* NULL, or a key unique per (account, subscription) */
};
/* Queues a row (no attempts yet); nothing when the subscription already has a row with
 * the same delivery_key. */
int dd_store_sns_outbox_insert(struct dd_db *db, const struct dd_store_sns_outbox_row *r) DD_MUST_CHECK;
/* Cancels the undelivered (PENDING or INFLIGHT) rows of account for a topic and/or a
 * subscription (NULL: any). */
int dd_store_sns_outbox_cancel(struct dd_db *db, const char *account, const char *topic_arn, const char *subscription_arn,
			       int64_t now_ms) DD_MUST_CHECK;
/* The number of rows of a topic of account in status. */
int dd_store_sns_outbox_count(struct dd_db *db, const char *account, const char *topic_arn, const char *status,
			      int64_t *n) DD_MUST_CHECK;

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The SNS subset (awsQuery): topics, subscriptions and Publish, plus the unauthenticated
 * links SNS messages carry (SubscribeURL, UnsubscribeURL, SigningCertURL). Handlers only
 * write rows: a subscription's confirmation request and every published message become
 * fully built, signed envelopes in the outbox, one per subscription, in the same short
 * transaction (src/core/notify/dd_sns_publish.c); the workers of dd_outbox.c deliver
 * them. So an API call never waits on a subscriber, and a MessageId never changes
 * between delivery attempts or across restarts. Topics and subscriptions are scoped to
 * the caller's account; the confirmation links carry their own proof (a 256-bit token, a
 * random subscription ARN). This is the wire layer: JSON in and out, paging tokens and
 * SNS's error codes; the rows live in src/store/dd_store_sns.c.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/dd_api_common.h"
#include "dd/buf.h"
#include "dd/fetch.h"
#include "dd/sns.h"
#include "store/dd_store_sns.h"

#define SNS_MAX_ENDPOINT 2048
#define SNS_PAGE 100
#define SNS_XMLNS "http://sns.amazonaws.com/doc/2010-03-31/"

static int sns_db_fail(struct dd_ctx *c)
{
	if (dd_db_in_tx(c->db))
		dd_db_rollback(c->db);
	return dd_fail(c, DD_EIO, "InternalError", "An internal store error occurred.");
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

/* Does the topic exist in c's account? Fails c (InternalError) on a store error. */
static int topic_exists(struct dd_ctx *c, const char *arn, bool *exists)
{
	*exists = false;
	if (dd_store_sns_topic_exists(c->db, c->account, arn, exists))
		return sns_db_fail(c);
	return 0;
}

/* A page of a listing: the items, the ARN of the last, and whether one more exists. */
struct page {
	struct dd_ctx *c;
	json_t *items;
	int n;
	bool more;
	char last[800];
};

static int page_room(struct page *p, const char *key)
{
	if (p->n++ == SNS_PAGE) {
		p->more = true;
		return 1;
	}
	snprintf(p->last, sizeof p->last, "%s", key);
	return 0;
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
	int rc = 0;
	if (!at || dd_store_sns_topic_create(c->db, c->account, arn, name, c->region, at, tt, c->now_ms))
		rc = sns_db_fail(c);
	free(at);
	free(tt);
	if (!rc)
		*out = json_pack("{s:s}", "TopicArn", arn);
	return rc;
}

static int page_topic(const char *arn, void *ud)
{
	struct page *p = ud;
	if (page_room(p, arn))
		return 1;
	json_array_append_new(p->items, json_pack("{s:s}", "TopicArn", arn));
	return 0;
}

static int sns_list_topics(struct dd_ctx *c, json_t *in, json_t **out)
{
	char after[600] = "";
	const char *tok = dd__str(in, "NextToken");
	if (tok && *tok && dd_page_token_parse(tok, after, sizeof after))
		return dd_fail(c, DD_EINVAL, "InvalidParameter", "Invalid parameter: NextToken");
	struct page p = { .c = c, .items = json_array() };
	if (dd_store_sns_topic_list(c->db, c->account, c->region, after, SNS_PAGE + 1, page_topic, &p)) {
		json_decref(p.items);
		return sns_db_fail(c);
	}
	*out = json_pack("{s:o}", "Topics", p.items);
	dd__page_next(*out, "NextToken", p.more, p.last);
	return 0;
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
	char *text = NULL;
	int rc = dd_store_sns_topic_attributes(c->db, c->account, arn, &text);
	if (rc == DD_ENOTFOUND)
		return topic_missing(c, arn, "GetTopicAttributes");
	if (rc)
		return sns_db_fail(c);
	json_t *stored = json_loads(text, 0, NULL);
	free(text);
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
	int64_t confirmed = 0, pending = 0;
	rc = dd_store_sns_subscription_count(c->db, c->account, arn, true, &confirmed);
	if (!rc)
		rc = dd_store_sns_subscription_count(c->db, c->account, arn, false, &pending);
	set_count(a, "SubscriptionsConfirmed", confirmed);
	set_count(a, "SubscriptionsPending", pending);
	json_object_set_new(a, "SubscriptionsDeleted", json_string("0"));
	/* our extension: the outbox state of this topic's deliveries, for operators */
	static const char *const states[][2] = { { "PENDING", "iotdefender:DeliveriesPending" },
						  { "INFLIGHT", "iotdefender:DeliveriesInFlight" },
						  { "DELIVERED", "iotdefender:DeliveriesDelivered" },
						  { "FAILED", "iotdefender:DeliveriesFailed" },
						  { "UNDELIVERABLE", "iotdefender:DeliveriesUndeliverable" } };
	for (size_t i = 0; i < sizeof states / sizeof states[0] && !rc; i++) {
		int64_t n = 0;
		rc = dd_store_sns_outbox_count(c->db, c->account, arn, states[i][0], &n);
		set_count(a, states[i][1], n);
	}
	if (rc) {
		json_decref(a);
		return sns_db_fail(c);
	}
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
	int rc = dd_store_sns_topic_attribute_set(c->db, c->account, arn, name, value);
	if (rc == DD_ENOTFOUND)
		return topic_missing(c, arn, "SetTopicAttributes");
	if (rc)
		return sns_db_fail(c);
	(void)out;
	return 0;
}

static int sns_delete_topic(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *arn = dd__str(in, "TopicArn");
	char acct[32];
	if (arn_account(arn, acct, sizeof acct) && strcmp(acct, c->account) != 0)
		return topic_missing(c, arn, "DeleteTopic");
	if (dd_db_begin_write(c->db))
		return sns_db_fail(c);
	if (dd_store_sns_topic_delete(c->db, c->account, arn) ||
	    dd_store_sns_outbox_cancel(c->db, c->account, arn, NULL, c->now_ms) || dd_db_commit(c->db))
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
	if (!dd_sns_publish_is_email(protocol)) {
		/* A literal address in a refused range is refused now; a host name is checked at
		 * every delivery (dd_fetch.c), which is the real guard. */
		int prc = dd_fetch_url_precheck(endpoint, c->svc ? c->svc->outbound_allow : NULL);
		if (prc == DD_EDENIED)
			return dd_fail(c, DD_EINVAL, "InvalidParameter",
				       "Invalid parameter: Endpoint: the address is in a range this server does not deliver to");
		if (prc)
			return dd_fail(c, DD_EINVAL, "InvalidParameter", "Invalid parameter: Endpoint is not a valid URL");
	}
	if (dd_sns_publish_is_email(protocol)) {
		const char *at = strchr(endpoint, '@');
		if (!at || at == endpoint || !at[1] || strchr(at + 1, '@'))
			return dd_fail(c, DD_EINVAL, "InvalidParameter", "Invalid parameter: Email address");
	}
	return 0;
}

struct existing {
	bool found, confirmed;
	char arn[700], token[257];
};

static int existing_row(const struct dd_store_sns_subscription *s, void *ud)
{
	struct existing *e = ud;
	e->found = true;
	e->confirmed = s->confirmed;
	snprintf(e->arn, sizeof e->arn, "%s", s->arn);
	snprintf(e->token, sizeof e->token, "%s", s->token);
	return 1;
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
	bool exists;
	if (topic_exists(c, topic, &exists))
		return c->err;
	if (!exists)
		return topic_missing(c, topic, "Subscribe");
	char *cert = NULL, *key = NULL;
	if (dd_sns_message_key_get(c->db, &cert, &key))
		return dd_fail(c, DD_ECRYPTO, "InternalError", "The message signing key is unavailable.");
	free(cert);
	bool smtp = dd_sns_publish_smtp_configured();
	struct existing e = { 0 };
	if (dd_db_begin_write(c->db)) {
		free(key);
		return sns_db_fail(c);
	}
	int rc = dd_store_sns_subscription_find(c->db, c->account, topic, protocol, endpoint, existing_row, &e);
	if (rc && rc != DD_ENOTFOUND)
		goto dberr;
	if (!e.found) {
		char uuid[37];
		unsigned char r[64];
		dd_random_uuid(uuid);
		if (dd_random_bytes(r, sizeof r)) {
			dd_db_rollback(c->db);
			free(key);
			return dd_fail(c, DD_ECRYPTO, "InternalError", "No randomness available.");
		}
		dd_hex_encode(r, sizeof r, e.token);
		snprintf(e.arn, sizeof e.arn, "%s:%s", topic, uuid);
		char *at = (attrs ? json_dumps(attrs, JSON_COMPACT) : strdup("{}"));
		struct dd_store_sns_subscription s = { .arn = e.arn, .topic_arn = topic, .protocol = protocol,
						       .endpoint = endpoint, .token = e.token, .attributes = at,
						       .created_ms = c->now_ms };
		rc = at ? dd_store_sns_subscription_insert(c->db, c->account, &s) : DD_ENOMEM;
		free(at);
		if (rc)
			goto dberr;
	}
	bool queued = false;
	if (!e.confirmed) {
		if (dd_sns_publish_is_email(protocol) && !smtp) {
			dd_log_warn("sns: subscription %s (%s) stays pending: no SMTP relay configured (IOTDEFENDER_SMTP_URL)",
				    e.arn, protocol);
		} else {
			if (dd_sns_publish_confirmation(c->svc, c->db, c->account, topic, e.arn, protocol, endpoint, e.token,
							key, c->now_ms))
				goto dberr;
			queued = true;
		}
	}
	if (dd_db_commit(c->db))
		goto dberr;
	free(key);
	if (queued)
		dd_outbox_wake(c->svc);
	*out = json_pack("{s:s}", "SubscriptionArn", e.confirmed || return_arn ? e.arn : "pending confirmation");
	return 0;
dberr:
	free(key);
	return sns_db_fail(c);
}

/* Confirms the subscription of topic_arn with token; sub_arn receives its ARN. account may
 * be NULL for the unauthenticated SubscribeURL (the token is the proof). DD_EINVAL for a
 * malformed or unknown token. */
static int confirm(struct dd_db *db, const char *account, const char *topic_arn, const char *token,
		   const char *auth_unsub, char *sub_arn, size_t len)
{
	if (!token || strlen(token) < 32 || strlen(token) > 256 || !topic_arn)
		return DD_EINVAL;
	int rc = dd_store_sns_subscription_confirm(db, account, topic_arn, token, auth_unsub, sub_arn, len);
	return rc == DD_ENOTFOUND ? DD_EINVAL : rc;
}

static int sns_confirm_subscription(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *topic = dd__str(in, "TopicArn"), *token = dd__str(in, "Token");
	const char *auth = dd__str(in, "AuthenticateOnUnsubscribe");
	bool exists;
	if (topic_exists(c, topic, &exists))
		return c->err;
	if (!exists)
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
	int rc = dd_store_sns_subscription_delete(c->db, c->account, arn);
	if (rc == DD_ENOTFOUND) {
		dd_db_rollback(c->db);
		return dd_fail(c, DD_ENOTFOUND, "NotFound", "Subscription does not exist");
	}
	if (rc || dd_store_sns_outbox_cancel(c->db, c->account, NULL, arn, c->now_ms) || dd_db_commit(c->db))
		return sns_db_fail(c);
	return 0;
}

static int sns_unsubscribe(struct dd_ctx *c, json_t *in, json_t **out)
{
	(void)out;
	return unsubscribe(c, dd__str(in, "SubscriptionArn"));
}

static int page_sub(const struct dd_store_sns_subscription *s, void *ud)
{
	struct page *p = ud;
	if (page_room(p, s->arn))
		return 1;
	json_array_append_new(p->items, json_pack("{s:s, s:s, s:s, s:s, s:s}", "SubscriptionArn",
						  s->confirmed ? s->arn : "PendingConfirmation", "Owner", p->c->account,
						  "Protocol", s->protocol, "Endpoint", s->endpoint, "TopicArn", s->topic_arn));
	return 0;
}

static int list_subs(struct dd_ctx *c, json_t *in, const char *topic, json_t **out)
{
	char after[800] = "", prefix[128];
	const char *tok = dd__str(in, "NextToken");
	if (tok && *tok && dd_page_token_parse(tok, after, sizeof after))
		return dd_fail(c, DD_EINVAL, "InvalidParameter", "Invalid parameter: NextToken");
	snprintf(prefix, sizeof prefix, "arn:aws:sns:%s:", c->region);
	struct page p = { .c = c, .items = json_array() };
	if (dd_store_sns_subscription_list(c->db, c->account, topic, prefix, after, SNS_PAGE + 1, page_sub, &p)) {
		json_decref(p.items);
		return sns_db_fail(c);
	}
	*out = json_pack("{s:o}", "Subscriptions", p.items);
	dd__page_next(*out, "NextToken", p.more, p.last);
	return 0;
}

static int sns_list_subscriptions_by_topic(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *topic = dd__str(in, "TopicArn");
	bool exists;
	if (topic_exists(c, topic, &exists))
		return c->err;
	if (!exists)
		return topic_missing(c, topic, "ListSubscriptionsByTopic");
	return list_subs(c, in, topic, out);
}

static int sns_list_subscriptions(struct dd_ctx *c, json_t *in, json_t **out)
{
	return list_subs(c, in, NULL, out);
}

struct sub_attrs {
	struct dd_ctx *c;
	json_t *a;
};

static int sub_attrs_row(const struct dd_store_sns_subscription *s, void *ud)
{
	struct sub_attrs *sa = ud;
	json_t *a = sa->a;
	json_t *stored = json_loads(s->attributes, 0, NULL);
	json_object_set_new(a, "RawMessageDelivery", json_string("false"));
	const char *k;
	json_t *v;
	json_object_foreach(stored, k, v) if (json_is_string(v)) json_object_set(a, k, v);
	json_decref(stored);
	json_object_set_new(a, "SubscriptionArn", json_string(s->arn));
	json_object_set_new(a, "TopicArn", json_string(s->topic_arn));
	json_object_set_new(a, "Protocol", json_string(s->protocol));
	json_object_set_new(a, "Endpoint", json_string(s->endpoint));
	json_object_set_new(a, "Owner", json_string(sa->c->account));
	json_object_set_new(a, "PendingConfirmation", json_string(s->confirmed ? "false" : "true"));
	json_object_set_new(a, "ConfirmationWasAuthenticated", json_string(s->confirmed ? "true" : "false"));
	return 1;
}

static int sns_get_subscription_attributes(struct dd_ctx *c, json_t *in, json_t **out)
{
	const char *arn = dd__str(in, "SubscriptionArn");
	struct sub_attrs sa = { c, json_object() };
	int rc = dd_store_sns_subscription_get(c->db, c->account, arn, sub_attrs_row, &sa);
	if (rc) {
		json_decref(sa.a);
		if (rc == DD_ENOTFOUND)
			return dd_fail(c, DD_ENOTFOUND, "NotFound", "Subscription does not exist");
		return sns_db_fail(c);
	}
	*out = json_pack("{s:o}", "Attributes", sa.a);
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
	int rc = dd_sns_publish_structured(c->svc, c->db, c->account, topic, subject, message, structured, mid, err,
					   sizeof err);
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
	dd_random_uuid(rid);
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
	dd_random_uuid(rid);
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
	if (!db || dd_sns_message_key_get(db, &cert, &key)) {
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
	struct dd_ctx c = { .svc = svc, .db = db, .account = acct, .region = "", .request_id = "", .now_ms = dd_time_now_ms() };
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

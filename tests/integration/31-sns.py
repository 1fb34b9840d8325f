"""SNS subset against the real server: topics, subscriptions, the http delivery with the
SubscriptionConfirmation handshake, signatures verified against SigningCertURL, the
durable outbox (SIGKILL with messages queued for a subscriber that is down, then a
restart), retries that finally fail, a slow subscriber, email without an SMTP relay,
and account isolation. Every HTTP subscriber is a http.server on 127.0.0.1."""
import base64
import contextlib
import http.server
import json
import os
import re
import shutil
import socketserver
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.request
import botocore.exceptions
import ddserver
from ddserver import Server, free_port, write_credentials

from sns_helpers import (FAST, SmtpSink, Subscriber, env, string_to_sign, subscribe_confirmed, verify_signature)  # noqa: F401


class SnsTest(unittest.TestCase):
    def test_topics(self):
        with Server(extra_args=ddserver.LOCAL_OUTBOUND) as srv:
            sns = srv.client("sns")
            a = sns.create_topic(Name="t1")["TopicArn"]
            self.assertRegex(a, r"^arn:aws:sns:us-east-1:\d{12}:t1$")
            self.assertEqual(sns.create_topic(Name="t1")["TopicArn"], a)  # idempotent by name
            sns.create_topic(Name="t2", Attributes={"DisplayName": "Two"})
            self.assertEqual(sorted(t["TopicArn"].split(":")[-1] for t in sns.list_topics()["Topics"]), ["t1", "t2"])
            # regional
            self.assertEqual(srv.client("sns", region="eu-west-1").list_topics()["Topics"], [])
            attrs = sns.get_topic_attributes(TopicArn=a.replace("t1", "t2"))["Attributes"]
            self.assertEqual(attrs["DisplayName"], "Two")
            sns.set_topic_attributes(TopicArn=a, AttributeName="DisplayName", AttributeValue="One")
            attrs = sns.get_topic_attributes(TopicArn=a)["Attributes"]
            self.assertEqual(attrs["DisplayName"], "One")
            self.assertEqual(attrs["TopicArn"], a)
            self.assertEqual(attrs["SubscriptionsConfirmed"], "0")
            json.loads(attrs["Policy"])
            with self.assertRaises(botocore.exceptions.ClientError) as e:
                sns.create_topic(Name="bad name!")
            self.assertEqual(e.exception.response["Error"]["Code"], "InvalidParameter")
            sns.delete_topic(TopicArn=a)
            sns.delete_topic(TopicArn=a)  # idempotent
            with self.assertRaises(botocore.exceptions.ClientError) as e:
                sns.get_topic_attributes(TopicArn=a)
            self.assertEqual(e.exception.response["Error"]["Code"], "NotFound")
            with self.assertRaises(botocore.exceptions.ClientError) as e:
                sns.publish(TopicArn=a, Message="x")
            self.assertEqual(e.exception.response["Error"]["Code"], "NotFound")
            for i in range(105):
                sns.create_topic(Name="many%03d" % i)
            arns = [t["TopicArn"] for p in sns.get_paginator("list_topics").paginate() for t in p["Topics"]]
            self.assertEqual(len(arns), 106)

    def test_http_handshake_publish_and_signature(self):
        sub = Subscriber().start()
        try:
            with env(**FAST), Server(extra_args=ddserver.LOCAL_OUTBOUND) as srv:
                sns = srv.client("sns")
                topic = sns.create_topic(Name="hooks")["TopicArn"]
                r = sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=sub.url)
                self.assertEqual(r["SubscriptionArn"], "pending confirmation")
                h, conf = sub.wait(lambda s: s.messages("SubscriptionConfirmation"))[0]
                self.assertEqual(h["x-amz-sns-message-type"], "SubscriptionConfirmation")
                self.assertEqual(h["x-amz-sns-topic-arn"], topic)
                self.assertEqual(h["x-amz-sns-message-id"], conf["MessageId"])
                self.assertEqual(conf["TopicArn"], topic)
                self.assertTrue(conf["SubscribeURL"].startswith(srv.url + "/sns/confirm?"))
                verify_signature(conf)
                subs = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
                self.assertEqual(subs[0]["SubscriptionArn"], "PendingConfirmation")
                # a pending subscription gets nothing
                sns.publish(TopicArn=topic, Message="before confirmation")
                # confirm through the SubscribeURL, an unauthenticated GET
                with urllib.request.urlopen(conf["SubscribeURL"], timeout=5) as resp:
                    body = resp.read().decode()
                self.assertIn("<SubscriptionArn>%s:" % topic, body)
                subs = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
                sub_arn = subs[0]["SubscriptionArn"]
                self.assertTrue(sub_arn.startswith(topic + ":"))
                self.assertEqual(sns.get_topic_attributes(TopicArn=topic)["Attributes"]["SubscriptionsConfirmed"], "1")
                mid = sns.publish(TopicArn=topic, Subject="Audit finished", Message="hello subscriber")["MessageId"]
                h, n = sub.wait(lambda s: s.messages("Notification"))[0]
                self.assertEqual(n["MessageId"], mid)
                self.assertEqual(n["Message"], "hello subscriber")
                self.assertEqual(n["Subject"], "Audit finished")
                self.assertEqual(n["TopicArn"], topic)
                self.assertRegex(n["Timestamp"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
                self.assertEqual(h["x-amz-sns-message-id"], mid)
                self.assertEqual(h["x-amz-sns-subscription-arn"], sub_arn)
                self.assertEqual(h["x-amz-sns-message-type"], "Notification")
                verify_signature(n)
                # a tampered message does not verify
                bad = dict(n, Message="tampered")
                with self.assertRaises(Exception):
                    verify_signature(bad)
                self.assertEqual(len(sub.messages("Notification")), 1)
                attrs = sns.get_subscription_attributes(SubscriptionArn=sub_arn)["Attributes"]
                self.assertEqual(attrs["Endpoint"], sub.url)
                self.assertEqual(attrs["PendingConfirmation"], "false")
                # UnsubscribeURL removes the subscription
                with urllib.request.urlopen(n["UnsubscribeURL"], timeout=5) as resp:
                    self.assertEqual(resp.status, 200)
                self.assertEqual(sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"], [])
                # confirmation with a wrong token fails
                with self.assertRaises(urllib.error.HTTPError) as e:
                    urllib.request.urlopen(conf["SubscribeURL"].replace("Token=", "Token=00"), timeout=5)
                self.assertEqual(e.exception.code, 400)
        finally:
            sub.stop()

    def test_confirm_subscription_api_and_raw(self):
        sub = Subscriber().start()
        try:
            with env(**FAST), Server(extra_args=ddserver.LOCAL_OUTBOUND) as srv:
                sns = srv.client("sns")
                topic = sns.create_topic(Name="api")["TopicArn"]
                sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=sub.url,
                              Attributes={"RawMessageDelivery": "true"})
                conf = sub.wait(lambda s: s.messages("SubscriptionConfirmation"))[0][1]
                with self.assertRaises(botocore.exceptions.ClientError) as e:
                    sns.confirm_subscription(TopicArn=topic, Token="f" * 128)
                self.assertEqual(e.exception.response["Error"]["Code"], "InvalidParameter")
                arn = sns.confirm_subscription(TopicArn=topic, Token=conf["Token"])["SubscriptionArn"]
                self.assertTrue(arn.startswith(topic + ":"))
                # subscribing again returns the confirmed subscription
                self.assertEqual(sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=sub.url)["SubscriptionArn"], arn)
                sns.publish(TopicArn=topic, Message="raw body")
                sub.wait(lambda s: any(b == "raw body" for _, b in s.received))
                sns.unsubscribe(SubscriptionArn=arn)
                with self.assertRaises(botocore.exceptions.ClientError) as e:
                    sns.unsubscribe(SubscriptionArn=arn)
                self.assertEqual(e.exception.response["Error"]["Code"], "NotFound")
                with self.assertRaises(botocore.exceptions.ClientError) as e:
                    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint="arn:aws:sqs:us-east-1:1:q")
                self.assertEqual(e.exception.response["Error"]["Code"], "InvalidParameter")
                with self.assertRaises(botocore.exceptions.ClientError) as e:
                    sns.subscribe(TopicArn=topic, Protocol="https", Endpoint="http://127.0.0.1/x")
                self.assertEqual(e.exception.response["Error"]["Code"], "InvalidParameter")
        finally:
            sub.stop()

    def test_sigkill_with_queued_messages(self):
        """Messages queued for a subscriber that is down survive SIGKILL and a restart:
        each arrives at least once, with its original MessageId."""
        data_dir = tempfile.mkdtemp(prefix="ddsns-kill-")
        sub = Subscriber().start()
        port = sub.port
        workers = 4
        # a delivery in flight at the kill stays leased to the dead instance for the delivery
        # timeout plus the lease (32 s by default, longer than the wait below): a short lease
        args = ddserver.LOCAL_OUTBOUND + ["--lease-seconds", "3"]
        try:
            with env(IOTDEFENDER_SNS_WORKERS=workers, IOTDEFENDER_SNS_MAX_ATTEMPTS=1000, **FAST):
                srv = Server(data_dir=data_dir, extra_args=args).start()
                try:
                    sns = srv.client("sns")
                    topic = sns.create_topic(Name="durable")["TopicArn"]
                    subscribe_confirmed(sns, topic, sub)
                    sub.wait(lambda s: len(sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"][0]
                                           ["SubscriptionArn"]) > 40)
                    sub.stop()  # the subscriber goes down
                    ids = [sns.publish(TopicArn=topic, Message="m%d" % i)["MessageId"] for i in range(25)]
                    time.sleep(0.5)  # some attempts fail and back off
                    attrs = sns.get_topic_attributes(TopicArn=topic)["Attributes"]
                    self.assertEqual(int(attrs["iotdefender:DeliveriesPending"]) +
                                     int(attrs["iotdefender:DeliveriesInFlight"]), 25)
                finally:
                    srv.kill()
                    old_port = srv.port
                sub = Subscriber(port=port).start()  # the subscriber comes back
                # same port as a real deployment keeps, so the links in the queued messages stay valid
                saved, ddserver.free_port = ddserver.free_port, lambda: old_port
                try:
                    srv = Server(data_dir=data_dir, extra_args=args).start()
                finally:
                    ddserver.free_port = saved
                try:
                    sub.wait(lambda s: set(ids) <= {m["MessageId"] for _, m in s.messages("Notification")}, timeout=30)
                    time.sleep(0.5)
                    got = [m["MessageId"] for _, m in sub.messages("Notification")]
                    for i in ids:
                        self.assertGreaterEqual(got.count(i), 1)
                    self.assertLessEqual(len(got) - len(ids), workers)  # repeats: only in-flight deliveries
                    self.assertTrue(set(got) <= set(ids))
                    for _, m in sub.messages("Notification"):
                        verify_signature(m)
                    sns = srv.client("sns")
                    attrs = sns.get_topic_attributes(TopicArn=topic)["Attributes"]
                    self.assertEqual(attrs["iotdefender:DeliveriesDelivered"], "26")  # + the confirmation request
                    self.assertEqual(attrs["iotdefender:DeliveriesFailed"], "0")
                finally:
                    srv.stop()
        finally:
            sub.stop()
            shutil.rmtree(data_dir, ignore_errors=True)

    def test_final_failure_is_kept_and_visible(self):
        dead = "http://127.0.0.1:%d/dead" % free_port()
        sub = Subscriber().start()
        try:
            with env(IOTDEFENDER_SNS_MAX_ATTEMPTS=3, **FAST), Server(extra_args=ddserver.LOCAL_OUTBOUND) as srv:
                sns = srv.client("sns")
                topic = sns.create_topic(Name="failing")["TopicArn"]
                subscribe_confirmed(sns, topic, sub, via_url=False)
                # a second subscriber confirmed, then gone for good
                sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=dead)
                conf = [m for _, m in sub.messages("SubscriptionConfirmation")][0]
                del conf
                deadline = time.time() + 10
                while time.time() < deadline:
                    a = sns.get_topic_attributes(TopicArn=topic)["Attributes"]
                    if a["iotdefender:DeliveriesFailed"] == "1":
                        break
                    time.sleep(0.1)
                a = sns.get_topic_attributes(TopicArn=topic)["Attributes"]
                # the confirmation request to the dead endpoint failed after 3 attempts
                self.assertEqual(a["iotdefender:DeliveriesFailed"], "1")
                self.assertIn("FAILED after 3 attempts", srv.read_log())
                # the live subscriber is not held up by the dead one
                mid = sns.publish(TopicArn=topic, Message="still delivered")["MessageId"]
                sub.wait(lambda s: any(m["MessageId"] == mid for _, m in s.messages("Notification")))
        finally:
            sub.stop()

    def test_slow_subscriber_blocks_nothing(self):
        slow = Subscriber(delay=3.0).start()
        fast = Subscriber().start()
        try:
            with env(IOTDEFENDER_SNS_TIMEOUT_MS=1000, IOTDEFENDER_SNS_MAX_ATTEMPTS=2, IOTDEFENDER_SNS_BACKOFF_MS=100,
                     IOTDEFENDER_SNS_POLL_MS=50), Server(extra_args=ddserver.LOCAL_OUTBOUND) as srv:
                sns = srv.client("sns")
                t_slow = sns.create_topic(Name="slow")["TopicArn"]
                t_fast = sns.create_topic(Name="fast")["TopicArn"]
                sns.subscribe(TopicArn=t_slow, Protocol="http", Endpoint=slow.url)
                subscribe_confirmed(sns, t_fast, fast)
                t0 = time.time()
                for i in range(3):
                    sns.publish(TopicArn=t_fast, Message="f%d" % i)
                self.assertLess(time.time() - t0, 2.0)
                fast.wait(lambda s: len(s.messages("Notification")) == 3, timeout=5)
                self.assertLess(time.time() - t0, 3.0)
        finally:
            slow.stop()
            fast.stop()

    def test_email_without_smtp_is_undeliverable(self):
        with env(**FAST), Server(extra_args=ddserver.LOCAL_OUTBOUND) as srv:
            sns = srv.client("sns")
            topic = sns.create_topic(Name="mail")["TopicArn"]
            self.assertEqual(sns.subscribe(TopicArn=topic, Protocol="email", Endpoint="ops@example.com")["SubscriptionArn"],
                             "pending confirmation")
            sns.subscribe(TopicArn=topic, Protocol="email-json", Endpoint="ops2@example.com")
            sns.publish(TopicArn=topic, Message="nobody hears this")
            a = sns.get_topic_attributes(TopicArn=topic)["Attributes"]
            self.assertEqual(a["SubscriptionsPending"], "2")
            self.assertEqual(a["iotdefender:DeliveriesUndeliverable"], "2")
            self.assertIn("undeliverable", srv.read_log())
            with self.assertRaises(botocore.exceptions.ClientError) as e:
                sns.subscribe(TopicArn=topic, Protocol="email", Endpoint="not-an-address")
            self.assertEqual(e.exception.response["Error"]["Code"], "InvalidParameter")

    def test_email_through_smtp_relay(self):
        sink = SmtpSink()
        try:
            with env(IOTDEFENDER_SMTP_URL="smtp://127.0.0.1:%d" % sink.port, IOTDEFENDER_SMTP_FROM="dd@example.org",
                     **FAST), Server(extra_args=ddserver.LOCAL_OUTBOUND) as srv:
                sns = srv.client("sns")
                topic = sns.create_topic(Name="mailed")["TopicArn"]
                sns.subscribe(TopicArn=topic, Protocol="email", Endpoint="ops@example.com")
                sns.subscribe(TopicArn=topic, Protocol="email-json", Endpoint="bot@example.com")
                mails = sink.wait(2)
                by_rcpt = {m[1][0]: m for m in mails}
                frm, rcpt, text = by_rcpt["<ops@example.com>"]
                self.assertEqual(frm, "<dd@example.org>")
                self.assertIn("Subject: AWS Notification - Subscription Confirmation", text)
                url = re.search(r"(http://\S+/sns/confirm\?\S+)", text).group(1)
                with urllib.request.urlopen(url, timeout=5) as r:
                    self.assertEqual(r.status, 200)
                conf = json.loads(by_rcpt["<bot@example.com>"][2].split("\r\n\r\n", 1)[1])
                verify_signature(conf)
                sns.confirm_subscription(TopicArn=topic, Token=conf["Token"])
                mid = sns.publish(TopicArn=topic, Subject="Audit result", Message="3 noncompliant checks")["MessageId"]
                mails = sink.wait(4)[2:]
                by_rcpt = {m[1][0]: m for m in mails}
                text = by_rcpt["<ops@example.com>"][2]
                self.assertIn("Subject: Audit result", text)
                self.assertIn("3 noncompliant checks", text)
                self.assertIn("/sns/unsubscribe?", text)
                n = json.loads(by_rcpt["<bot@example.com>"][2].split("\r\n\r\n", 1)[1])
                self.assertEqual(n["MessageId"], mid)
                verify_signature(n)
                a = sns.get_topic_attributes(TopicArn=topic)["Attributes"]
                self.assertEqual(a["SubscriptionsConfirmed"], "2")
                self.assertEqual(a["iotdefender:DeliveriesUndeliverable"], "0")
        finally:
            sink.stop()

    def test_cross_account(self):
        tmp = tempfile.mkdtemp(prefix="ddsns-acct-")
        creds = os.path.join(tmp, "credentials")
        write_credentials(creds, [
            ("a", "AKIAAAAAAAAAAAAAAAA1", "secretA/secretA/secretA/secretA/secretA1", "111111111111"),
            ("b", "AKIABBBBBBBBBBBBBBB2", "secretB/secretB/secretB/secretB/secretB2", "222222222222"),
        ])
        try:
            with Server(credentials=creds, extra_args=ddserver.LOCAL_OUTBOUND) as srv:
                a, b = srv.client("sns"), srv.client("sns", i=1)
                topic = a.create_topic(Name="private")["TopicArn"]
                self.assertEqual(b.list_topics()["Topics"], [])
                for call in (lambda: b.publish(TopicArn=topic, Message="x"),
                             lambda: b.get_topic_attributes(TopicArn=topic),
                             lambda: b.subscribe(TopicArn=topic, Protocol="email", Endpoint="x@example.com"),
                             lambda: b.delete_topic(TopicArn=topic)):
                    with self.assertRaises(botocore.exceptions.ClientError) as e:
                        call()
                    self.assertEqual(e.exception.response["Error"]["Code"], "AuthorizationError")
                self.assertEqual(a.get_topic_attributes(TopicArn=topic)["Attributes"]["TopicArn"], topic)
                # same name in account B is a different topic
                self.assertEqual(b.create_topic(Name="private")["TopicArn"],
                                 "arn:aws:sns:us-east-1:222222222222:private")
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def test_cli_v2(self):
        with Server(extra_args=ddserver.LOCAL_OUTBOUND) as srv:
            t = srv.aws("sns", "create-topic", "--name", "IoTDDNotifications", v2=True)["TopicArn"]
            self.assertIn(t, json.dumps(srv.aws("sns", "list-topics", v2=True)))
            out = srv.aws("sns", "subscribe", "--topic-arn", t, "--protocol", "email",
                          "--notification-endpoint", "your-email@example.com", v2=True)
            self.assertEqual(out["SubscriptionArn"], "pending confirmation")
            mid = srv.aws("sns", "publish", "--topic-arn", t, "--message", "hi", v2=True)["MessageId"]
            self.assertRegex(mid, r"^[0-9a-f-]{36}$")
            srv.aws("sns", "delete-topic", "--topic-arn", t, v2=True)


if __name__ == "__main__":
    unittest.main()

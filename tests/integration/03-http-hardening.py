"""Hardening of the HTTP and authentication layer against clients that misbehave:
requests refused from their headers before any body is read, a bounded memory for bodies
in flight, timeouts for silent and slow clients, an answer for every request however many
query parameters it has, SigV4 as strict and as lenient as AWS, one server per port and
per data directory, a credentials file others cannot read, the Cognito operations AWS
serves unsigned, and no garbage in an InvalidAction message."""
import datetime
import http.client
import os
import resource
import shutil
import socket
import subprocess
import tempfile
import time
import unittest
import xml.etree.ElementTree as ET

import boto3
import botocore
import botocore.auth
import botocore.awsrequest
import botocore.config
import botocore.credentials
import botocore.exceptions

import ddserver

IDLE_TIMEOUT = 3  # --idle-timeout given to the servers below; a body must arrive within 4x


def vm_rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS for pid %d" % pid)


def signed(srv, method, path, body=b"", headers=None, service="iot", region="us-east-1", key=0,
           token=None, when=None):
    """A request signed by botocore's SigV4Auth (at `when`, a naive UTC datetime, if
    given): returns (path with query, header list)."""
    k = srv.key(key)
    req = botocore.awsrequest.AWSRequest(method=method, url=srv.url + path, data=body,
                                         headers=dict(headers or {}))
    creds = botocore.credentials.Credentials(k["aws_access_key_id"], k["aws_secret_access_key"], token)
    signer = botocore.auth.SigV4Auth(creds, service, region)
    if when is not None:
        ddserver.sign_at(signer, req, when)
    else:
        signer.add_auth(req)
    hdrs = [("Host", "127.0.0.1:%d" % srv.port)] + list(req.headers.items())
    return path, hdrs


def send_raw(srv, method, path, headers, body=b"", timeout=10):
    """Sends exactly these headers (repeats allowed) with http.client; returns status,
    headers and body."""
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=timeout)
    try:
        conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        for name, value in headers:
            conn.putheader(name, value)
        if not any(n.lower() == "content-length" for n, _ in headers):
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body if body else None)
        r = conn.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        conn.close()


def socket_exchange(port, data, timeout=5):
    """Sends raw bytes and reads until the server closes or goes quiet."""
    s = socket.create_connection(("127.0.0.1", port))
    s.settimeout(timeout)
    out = b""
    try:
        s.sendall(data)
        while True:
            b = s.recv(65536)
            if not b:
                break
            out += b
            if b"\r\n\r\n" in out and b"Content-Length:" in out:
                head, _, rest = out.partition(b"\r\n\r\n")
                n = int(head.split(b"Content-Length:")[1].split(b"\r\n")[0])
                if len(rest) >= n:
                    break
    except (socket.timeout, ConnectionResetError):
        pass
    finally:
        s.close()
    return out


def status_of(raw):
    return int(raw.split(b" ", 2)[1]) if raw.startswith(b"HTTP/1.") else None


class EarlyRefusalTest(unittest.TestCase):
    """Item 2: what the headers condemn is answered before the body is read."""

    @classmethod
    def setUpClass(cls):
        cls.srv = ddserver.Server(extra_args=["--idle-timeout", str(IDLE_TIMEOUT)]).start()

    @classmethod
    def tearDownClass(cls):
        cls.srv.cleanup()

    def head_only(self, headers, length=8 << 20, path="/things/x"):
        """Sends only the headers of a POST announcing `length` bytes and reads the answer."""
        text = "POST %s HTTP/1.1\r\n" % path + "".join("%s: %s\r\n" % h for h in headers)
        text += "Content-Length: %d\r\n\r\n" % length
        raw = socket_exchange(self.srv.port, text.encode() + b"abc")
        return status_of(raw), raw

    def test_stalled_unauthenticated_uploads_do_not_pin_memory(self):
        pid = self.srv.proc.pid
        before = vm_rss_kib(pid)
        socks = []
        try:
            for _ in range(100):
                s = socket.create_connection(("127.0.0.1", self.srv.port))
                s.sendall(b"POST /things/x HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                          b"Content-Length: 8388608\r\n\r\n{\"a\":")
                socks.append(s)
            answered = 0
            for s in socks:
                s.settimeout(5)
                data = s.recv(4096)
                if data.startswith(b"HTTP/1.1 403") and b"MissingAuthenticationTokenException" in data:
                    answered += 1
            time.sleep(0.5)
            after = vm_rss_kib(pid)
        finally:
            for s in socks:
                s.close()
        delta_mib = (after - before) / 1024.0
        print("\n100 stalled unauthenticated 8 MiB uploads: RSS %d -> %d KiB, delta %.1f MiB" %
              (before, after, delta_mib))
        self.assertEqual(answered, 100)
        self.assertLess(delta_mib, 50)

    def test_stalled_signed_uploads_are_bounded_by_the_budget(self):
        # signed headers announcing 8 MiB each: the 64 MiB budget admits 8, the rest get 503
        pid = self.srv.proc.pid
        before = vm_rss_kib(pid)
        socks, refused = [], 0
        try:
            for _ in range(40):
                path, hdrs = signed(self.srv, "POST", "/things/x", headers={"X-Amz-Content-SHA256": "0" * 64})
                text = "POST %s HTTP/1.1\r\n" % path + "".join("%s: %s\r\n" % h for h in hdrs)
                text += "Content-Length: 8388608\r\n\r\n"
                s = socket.create_connection(("127.0.0.1", self.srv.port))
                s.sendall(text.encode() + b"{")
                s.settimeout(0.3)
                try:
                    data = s.recv(4096)
                except socket.timeout:
                    data = b""
                if data.startswith(b"HTTP/1.1 503"):
                    refused += 1
                    self.assertIn(b"ServiceUnavailableException", data)
                socks.append(s)
            after = vm_rss_kib(pid)
        finally:
            for s in socks:
                s.close()
        print("\n40 stalled signed 8 MiB uploads: %d refused with 503, RSS delta %.1f MiB" %
              (refused, (after - before) / 1024.0))
        admitted = 40 - refused
        self.assertLessEqual(admitted, 8)  # 8 x 8 MiB fill the 64 MiB budget
        self.assertGreaterEqual(admitted, 6)
        self.assertLess((after - before) / 1024.0, 50)
        # the budget is given back when those connections close: a body is accepted again
        deadline = time.time() + 10
        while True:
            path, hdrs = signed(self.srv, "POST", "/things/budget-ok", body=b"{}")
            status = send_raw(self.srv, "POST", path, hdrs, body=b"{}")[0]
            if status != 503 or time.time() > deadline:
                break
            time.sleep(0.2)
        self.assertEqual(status, 200)

    def test_refused_from_headers(self):
        k = self.srv.key()
        # no Authorization
        st, raw = self.head_only([("Host", "127.0.0.1")])
        self.assertEqual(st, 403)
        self.assertIn(b"MissingAuthenticationTokenException", raw)
        # malformed Authorization
        st, raw = self.head_only([("Host", "127.0.0.1"), ("Authorization", "AWS4-HMAC-SHA256 Credential=x")])
        self.assertEqual(st, 403)
        self.assertIn(b"IncompleteSignatureException", raw)
        # unknown key
        path, hdrs = signed(self.srv, "POST", "/things/x")
        hdrs = [(n, v.replace(k["aws_access_key_id"], "AKIANOTAKNOWNKEY0000")) for n, v in hdrs]
        st, raw = self.head_only([h for h in hdrs if h[0].lower() != "content-length"])
        self.assertEqual(st, 403)
        self.assertIn(b"UnrecognizedClientException", raw)
        # stale date
        # (signed at that time, so that its credential scope names the same day even just
        # after midnight)
        old = datetime.datetime.utcnow() - datetime.timedelta(minutes=20)
        path, hdrs = signed(self.srv, "POST", "/things/x", when=old)
        self.assertIn(("X-Amz-Date", old.strftime("%Y%m%dT%H%M%SZ")), hdrs)
        st, raw = self.head_only([h for h in hdrs if h[0].lower() != "content-length"])
        self.assertEqual(st, 403)
        self.assertIn(b"Signature expired", raw)
        # a signed request announcing more than the 8 MiB limit: 413 before the body
        path, hdrs = signed(self.srv, "POST", "/things/x", headers={"X-Amz-Content-SHA256": "0" * 64})
        st, raw = self.head_only([h for h in hdrs if h[0].lower() != "content-length"], length=(8 << 20) + 1)
        self.assertEqual(st, 413)
        self.assertIn(b"RequestEntityTooLargeException", raw)

    def test_slow_body_is_cut_off(self):
        path, hdrs = signed(self.srv, "POST", "/things/slow", body=b"{}")
        text = "POST %s HTTP/1.1\r\n" % path + "".join("%s: %s\r\n" % h for h in hdrs
                                                    if h[0].lower() != "content-length")
        text += "Content-Length: 1000\r\n\r\n"
        s = socket.create_connection(("127.0.0.1", self.srv.port))
        s.sendall(text.encode())
        t0 = time.time()
        closed = False
        try:
            # one byte every IDLE_TIMEOUT/2 s never trips the idle timeout; the body deadline
            # (4 x IDLE_TIMEOUT) does
            while time.time() - t0 < 8 * IDLE_TIMEOUT:
                try:
                    s.sendall(b" ")
                except OSError:
                    closed = True
                    break
                s.settimeout(IDLE_TIMEOUT / 2.0)
                try:
                    if s.recv(4096) == b"":
                        closed = True
                        break
                except socket.timeout:
                    pass
                except OSError:
                    closed = True
                    break
        finally:
            s.close()
        elapsed = time.time() - t0
        print("\nslow body closed after %.1f s (deadline %d s)" % (elapsed, 4 * IDLE_TIMEOUT))
        self.assertTrue(closed)
        self.assertLess(elapsed, 4 * IDLE_TIMEOUT + 2 * IDLE_TIMEOUT)


class SlowClientsTest(unittest.TestCase):
    """Item 5: half-open connections, many query parameters, oversized requests."""

    @classmethod
    def setUpClass(cls):
        cls.srv = ddserver.Server(extra_args=["--idle-timeout", str(IDLE_TIMEOUT)]).start()

    @classmethod
    def tearDownClass(cls):
        cls.srv.cleanup()

    def test_query_parameters_always_answered(self):
        q = "&".join("p%d=%d" % (i, i) for i in range(500))
        path, hdrs = signed(self.srv, "GET", "/things?" + q)
        status, headers, body = send_raw(self.srv, "GET", path, hdrs)
        self.assertEqual(status, 200, body)
        self.assertIn(b'"things"', body)
        # over the 1,000 limit: 400, not silence, even for ten thousand
        for n in (1001, 10000):
            q = "&".join("p%d=%d" % (i, i) for i in range(n))
            raw = socket_exchange(self.srv.port, ("GET /things?%s HTTP/1.1\r\nHost: x\r\n\r\n" % q).encode())
            self.assertEqual(status_of(raw), 400, raw[:200])
            self.assertIn(b"1000 parameters", raw)
        # a request line or headers larger than the connection memory: 414 / 431
        raw = socket_exchange(self.srv.port, ("GET /things?a=%s HTTP/1.1\r\nHost: x\r\n\r\n" % ("x" * 400000)).encode())
        self.assertEqual(status_of(raw), 414)
        raw = socket_exchange(self.srv.port, ("GET /things HTTP/1.1\r\nHost: x\r\n%s\r\n" %
                                              "".join("X-H%d: v\r\n" % i for i in range(30000))).encode())
        self.assertEqual(status_of(raw), 431)

    def test_trickled_headers_are_cut_off(self):
        # one header byte every IDLE_TIMEOUT/3 s never trips the idle timeout; the header
        # deadline (= --idle-timeout) does
        s = socket.create_connection(("127.0.0.1", self.srv.port))
        t0 = time.time()
        closed = False
        try:
            s.sendall(b"GET /things HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            s.settimeout(IDLE_TIMEOUT / 3.0)
            while time.time() - t0 < 6 * IDLE_TIMEOUT:
                try:
                    s.sendall(b"a")
                    if s.recv(4096) == b"":
                        closed = True
                        break
                except socket.timeout:
                    pass
                except OSError:
                    closed = True
                    break
        finally:
            s.close()
        elapsed = time.time() - t0
        print("\ntrickled headers closed after %.1f s (header deadline %d s)" % (elapsed, IDLE_TIMEOUT))
        self.assertTrue(closed)
        self.assertLess(elapsed, IDLE_TIMEOUT + 3)

    def test_half_open_connections_do_not_deny_service(self):
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft < 1300:
            resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 4096), hard))
        socks = []
        try:
            for _ in range(1050):
                try:
                    s = socket.create_connection(("127.0.0.1", self.srv.port), timeout=2)
                    s.sendall(b"GET /things HTTP/1.1\r\nHost: x\r\n")  # never finished
                    socks.append(s)
                except OSError:
                    pass
            t0 = time.time()
            served = None
            while time.time() - t0 < IDLE_TIMEOUT + 10:
                try:
                    path, hdrs = signed(self.srv, "GET", "/things")
                    if send_raw(self.srv, "GET", path, hdrs, timeout=2)[0] == 200:
                        served = time.time() - t0
                        break
                except (OSError, http.client.HTTPException):
                    pass
                time.sleep(0.2)
        finally:
            for s in socks:
                s.close()
        print("\n%d half-open connections: a signed ListThings served after %s s (idle timeout %d s)" %
              (len(socks), "%.1f" % served if served is not None else "never", IDLE_TIMEOUT))
        self.assertIsNotNone(served)
        self.assertLess(served, IDLE_TIMEOUT + 5)


class SigV4StrictnessTest(unittest.TestCase):
    """Item 6: refuse what AWS refuses, accept what AWS accepts."""

    @classmethod
    def setUpClass(cls):
        cls.srv = ddserver.Server().start()

    @classmethod
    def tearDownClass(cls):
        cls.srv.cleanup()

    def assert_error(self, result, status, code, text=None):
        st, headers, body = result
        self.assertEqual(st, status, body)
        self.assertEqual(headers.get("x-amzn-errortype"), code, body)
        if text:
            self.assertIn(text.encode(), body)

    def test_presigned_request(self):
        k = self.srv.key()
        creds = botocore.credentials.Credentials(k["aws_access_key_id"], k["aws_secret_access_key"])
        req = botocore.awsrequest.AWSRequest(method="GET", url=self.srv.url + "/things?maxResults=5")
        botocore.auth.SigV4QueryAuth(creds, "iot", "us-east-1", expires=60).add_auth(req)
        path = req.url[len(self.srv.url):]
        status, _, body = send_raw(self.srv, "GET", path, [("Host", "127.0.0.1:%d" % self.srv.port)])
        self.assertEqual(status, 200, body)
        self.assertIn(b'"things"', body)
        # tampered parameter, and a presigned request that also has an Authorization header
        bad = path.replace("maxResults=5", "maxResults=6")
        self.assert_error(send_raw(self.srv, "GET", bad, [("Host", "127.0.0.1:%d" % self.srv.port)]),
                          403, "InvalidSignatureException")
        self.assert_error(send_raw(self.srv, "GET", path, [("Host", "127.0.0.1:%d" % self.srv.port),
                                                            ("Authorization", "AWS4-HMAC-SHA256 x")]),
                          403, "IncompleteSignatureException", "Only one auth mechanism")
        # expired
        req = botocore.awsrequest.AWSRequest(method="GET", url=self.srv.url + "/things")
        botocore.auth.SigV4QueryAuth(creds, "iot", "us-east-1", expires=1).add_auth(req)
        time.sleep(2.1)
        self.assert_error(send_raw(self.srv, "GET", req.url[len(self.srv.url):],
                                   [("Host", "127.0.0.1:%d" % self.srv.port)]),
                          403, "InvalidSignatureException", "expired")

    def test_presigned_query_protocol(self):
        # awsQuery takes its parameters from the URL of a presigned request
        iam = self.srv.client("iam")
        trust = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"iot.amazonaws.com"},"Action":"sts:AssumeRole"}]}'
        for name in ("presign-a", "presign-b"):
            iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust)
        k = self.srv.key()
        creds = botocore.credentials.Credentials(k["aws_access_key_id"], k["aws_secret_access_key"])
        req = botocore.awsrequest.AWSRequest(
            method="GET", url=self.srv.url + "/?Action=ListRoles&Version=2010-05-08&MaxItems=1")
        botocore.auth.SigV4QueryAuth(creds, "iam", "us-east-1", expires=60).add_auth(req)
        status, _, body = send_raw(self.srv, "GET", req.url[len(self.srv.url):],
                                   [("Host", "127.0.0.1:%d" % self.srv.port)])
        self.assertEqual(status, 200, body)
        root = ET.fromstring(body)
        ns = {"i": "https://iam.amazonaws.com/doc/2010-05-08/"}
        self.assertEqual(len(root.findall(".//i:Roles/i:member", ns)), 1)
        self.assertEqual(root.find(".//i:IsTruncated", ns).text, "true")

    def test_date_header_instead_of_x_amz_date(self):
        k = self.srv.key()

        class DateAuth(botocore.auth.SigV4Auth):
            def _modify_request_before_signing(self, request):
                super()._modify_request_before_signing(request)
                stamp = datetime.datetime.strptime(request.context["timestamp"], "%Y%m%dT%H%M%SZ")
                del request.headers["X-Amz-Date"]
                request.headers["Date"] = stamp.strftime("%a, %d %b %Y %H:%M:%S GMT")

        req = botocore.awsrequest.AWSRequest(method="GET", url=self.srv.url + "/things",
                                             headers={"Host": "127.0.0.1:%d" % self.srv.port})
        DateAuth(botocore.credentials.Credentials(k["aws_access_key_id"], k["aws_secret_access_key"]),
                 "iot", "us-east-1").add_auth(req)
        self.assertNotIn("X-Amz-Date", req.headers)
        status, _, body = send_raw(self.srv, "GET", "/things", list(req.headers.items()))
        self.assertEqual(status, 200, body)

    def test_repeated_header_is_signed_as_joined_values(self):
        path, hdrs = signed(self.srv, "GET", "/things", headers={"X-Custom": "a,b"})
        hdrs = [h for h in hdrs if h[0] != "X-Custom"] + [("X-Custom", "a"), ("X-Custom", "b")]
        status, _, body = send_raw(self.srv, "GET", path, hdrs)
        self.assertEqual(status, 200, body)

    def test_normalised_path(self):
        # botocore signs /a/./b/..//things as /a/things; the request goes out as written
        path, hdrs = signed(self.srv, "GET", "/x/..//things/./")
        status, _, body = send_raw(self.srv, "GET", "/x/..//things/./", hdrs)
        self.assertEqual(status, 200, body)
        self.assertIn(b'"things"', body)

    def test_refusals(self):
        sha = botocore.auth.EMPTY_SHA256_HASH
        # UNSIGNED-PAYLOAD outside S3
        path, hdrs = signed(self.srv, "GET", "/things", headers={"X-Amz-Content-SHA256": "UNSIGNED-PAYLOAD"})
        self.assert_error(send_raw(self.srv, "GET", path, hdrs), 403, "InvalidSignatureException", "S3")
        # a signed header the request does not carry
        path, hdrs = signed(self.srv, "GET", "/things", headers={"X-Extra": "1"})
        self.assert_error(send_raw(self.srv, "GET", path, [h for h in hdrs if h[0] != "X-Extra"]),
                          403, "InvalidSignatureException", "x-extra")
        # SignedHeaders unsorted / upper-case, Signature or Credential twice
        path, hdrs = signed(self.srv, "GET", "/things")
        auth = dict(hdrs)["Authorization"]
        for mangled, text in ((auth.replace("SignedHeaders=host;x-amz-date", "SignedHeaders=x-amz-date;host"), "sorted"),
                              (auth.replace("SignedHeaders=host;x-amz-date", "SignedHeaders=Host;x-amz-date"), "lowercase"),
                              (auth + ", Signature=" + "0" * 64, "more than once"),
                              (auth.replace("Credential=", "Credential=%s, Credential=" % auth.split("Credential=")[1].split(",")[0]),
                               "more than once")):
            h2 = [(n, mangled if n == "Authorization" else v) for n, v in hdrs]
            self.assert_error(send_raw(self.srv, "GET", path, h2), 403, "IncompleteSignatureException", text)
        # X-Amz-Date twice
        date = dict(hdrs)["X-Amz-Date"]
        self.assert_error(send_raw(self.srv, "GET", path, hdrs + [("X-Amz-Date", date)]),
                          403, "IncompleteSignatureException", "once")
        # a session token no STS issued
        path, hdrs = signed(self.srv, "GET", "/things", token="FQoGZXIvYXdzEBogus")
        self.assert_error(send_raw(self.srv, "GET", path, hdrs), 403, "UnrecognizedClientException",
                          "The security token included in the request is invalid.")
        iot = boto3.client("iot", endpoint_url=self.srv.url, region_name="us-east-1",
                           aws_access_key_id=self.srv.key()["aws_access_key_id"],
                           aws_secret_access_key=self.srv.key()["aws_secret_access_key"],
                           aws_session_token="bogus-session-token",
                           config=botocore.config.Config(retries={"max_attempts": 1}))
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            iot.list_things()
        self.assertEqual(cm.exception.response["Error"]["Code"], "UnrecognizedClientException")
        # a region that is not a region name (it would put another account into ARNs)
        path, hdrs = signed(self.srv, "GET", "/things", region="us-east-1:222222222222")
        self.assert_error(send_raw(self.srv, "GET", path, hdrs), 403, "IncompleteSignatureException", "valid region")
        # HTTP/1.1 without Host; an unsupported Transfer-Encoding
        self.assertEqual(status_of(socket_exchange(self.srv.port, b"GET /things HTTP/1.1\r\n\r\n")), 400)
        raw = socket_exchange(self.srv.port, b"POST /things/x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n")
        self.assertEqual(status_of(raw), 501)
        self.assertIn(sha[:0].encode(), raw)

    def test_query_protocol_auth_codes(self):
        k = self.srv.key()
        iam = boto3.client("iam", endpoint_url=self.srv.url, region_name="us-east-1",
                           aws_access_key_id=k["aws_access_key_id"], aws_secret_access_key="wrong",
                           config=botocore.config.Config(retries={"max_attempts": 1}))
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            iam.list_roles()
        self.assertEqual(cm.exception.response["Error"]["Code"], "SignatureDoesNotMatch")
        self.assertEqual(cm.exception.response["ResponseMetadata"]["HTTPStatusCode"], 403)
        iam = boto3.client("iam", endpoint_url=self.srv.url, region_name="us-east-1",
                           aws_access_key_id="AKIANOTAKNOWNKEY0000", aws_secret_access_key="x",
                           config=botocore.config.Config(retries={"max_attempts": 1}))
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            iam.list_roles()
        self.assertEqual(cm.exception.response["Error"]["Code"], "InvalidClientTokenId")


class InvalidActionTest(unittest.TestCase):
    """Item 1 (server side): the InvalidAction message is built before the form is freed."""

    def test_unserved_action(self):
        with ddserver.Server() as srv:
            iam = srv.client("iam")
            for _ in range(20):
                with self.assertRaises(botocore.exceptions.ClientError) as cm:
                    iam.create_login_profile(UserName="u1", Password="Pa55word!long")
                err = cm.exception.response["Error"]
                self.assertEqual(err["Code"], "InvalidAction")
                self.assertEqual(err["Message"], "Could not find operation CreateLoginProfile for version 2010-05-08")
            # an Action that is not a name is not echoed, and the XML stays parseable
            body = b"Action=%FF%FEx%3C&Version=2010-05-08"
            path, hdrs = signed(srv, "POST", "/", body=body, service="iam",
                                headers={"Content-Type": "application/x-www-form-urlencoded"})
            status, _, xml = send_raw(srv, "POST", path, hdrs, body=body)
            self.assertEqual(status, 400)
            root = ET.fromstring(xml)
            self.assertIn("InvalidAction", xml.decode())
            self.assertTrue(root.tag.endswith("ErrorResponse"))


class OneServerTest(unittest.TestCase):
    """Item 8: one server per port and per data directory."""

    def run_serve(self, *args):
        data_dir = args[list(args).index("--data-dir") + 1]
        return subprocess.run([ddserver.BIN, "serve", "--log-level", "warn"] + list(args),
                              capture_output=True, text=True, timeout=30, env=ddserver.store_env(data_dir))

    def test_busy_port_and_busy_data_dir(self):
        with ddserver.Server() as srv:
            other = tempfile.mkdtemp(prefix="ddport-")
            try:
                p = self.run_serve("--port", str(srv.port), "--data-dir", other)
                self.assertNotEqual(p.returncode, 0)
                self.assertIn("port %d" % srv.port, p.stderr)
                self.assertIn("already in use", p.stderr)
            finally:
                shutil.rmtree(other, ignore_errors=True)
            p = self.run_serve("--port", str(ddserver.free_port()), "--data-dir", srv.data_dir)
            self.assertNotEqual(p.returncode, 0)
            self.assertIn("in use by another iotdefender process (pid %d)" % srv.proc.pid, p.stderr)
            # the first server still answers every request itself
            iot = srv.client("iot")
            for _ in range(20):
                iot.list_things()
        # once it stopped, the directory can be served again
        d = tempfile.mkdtemp(prefix="ddlock-")
        try:
            with ddserver.Server(data_dir=d) as s1:
                s1.client("iot").list_things()
            with ddserver.Server(data_dir=d) as s2:
                s2.client("iot").list_things()
        finally:
            shutil.rmtree(d, ignore_errors=True)

    def test_demo_refuses_a_served_directory(self):
        d = tempfile.mkdtemp(prefix="dddemo-")
        shutil.rmtree(d)
        try:
            p = subprocess.run([ddserver.BIN, "demo", "--data-dir", d], capture_output=True, text=True, timeout=300,
                               env=ddserver.store_env(d))
            self.assertEqual(p.returncode, 0, p.stderr)
            with ddserver.Server(data_dir=d):
                p = subprocess.run([ddserver.BIN, "demo", "--data-dir", d], capture_output=True, text=True,
                                   timeout=60, env=ddserver.store_env(d))
                self.assertNotEqual(p.returncode, 0)
                self.assertIn("in use by another iotdefender process", p.stderr)
                if not ddserver.ON_PG:  # on PostgreSQL the store is not in the directory
                    self.assertTrue(os.path.exists(os.path.join(d, "iotdefender.db")))
        finally:
            shutil.rmtree(d, ignore_errors=True)


class CredentialsModeTest(unittest.TestCase):
    """Item 9: a credentials file others can read is refused, with the chmod to run."""

    def test_too_open(self):
        d = tempfile.mkdtemp(prefix="ddcredmode-")
        try:
            path = os.path.join(d, "credentials")
            ddserver.write_credentials(path, [("a", "AKIAAAAAAAAAAAAAAAA1", "secretA/secretA/secretA", "111111111111")])
            for mode in (0o644, 0o640, 0o606):
                os.chmod(path, mode)
                p = subprocess.run([ddserver.BIN, "serve", "--port", str(ddserver.free_port()), "--data-dir",
                                    os.path.join(d, "data"), "--credentials", path],
                                   capture_output=True, text=True, timeout=30)
                self.assertEqual(p.returncode, 1)
                self.assertIn("permissions %04o for '%s' are too open" % (mode, path), p.stderr)
                self.assertIn("chmod 600 '%s'" % path, p.stderr)
            os.chmod(path, 0o600)
            os.makedirs(os.path.join(d, "data2"))
            with ddserver.Server(data_dir=os.path.join(d, "data2"), credentials=path) as srv:
                srv.client("iot").list_things()
        finally:
            shutil.rmtree(d, ignore_errors=True)

    def test_generated_file_is_private(self):
        with ddserver.Server() as srv:
            mode = os.stat(os.path.join(srv.data_dir, "credentials")).st_mode & 0o777
            self.assertEqual(mode, 0o600)


class CognitoUnsignedTest(unittest.TestCase):
    """Item 15: the Cognito operations AWS serves unsigned are answered unsigned, for the
    account and region owning the pool."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="ddcogu-")
        cls.creds = os.path.join(cls.tmp, "credentials")
        ddserver.write_credentials(cls.creds, [
            ("a", "AKIAAAAAAAAAAAAAAAA1", "secretA/secretA/secretA/secretA/secretA1", "111111111111"),
            ("b", "AKIABBBBBBBBBBBBBBB2", "secretB/secretB/secretB/secretB/secretB2", "222222222222"),
        ])
        cls.srv = ddserver.Server(credentials=cls.creds).start()

    @classmethod
    def tearDownClass(cls):
        cls.srv.cleanup()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def unsigned(self, region="eu-west-1"):
        return boto3.client("cognito-identity", endpoint_url=self.srv.url, region_name=region,
                            config=botocore.config.Config(signature_version=botocore.UNSIGNED,
                                                          retries={"max_attempts": 1}))

    def test_unsigned_operations(self):
        cog = self.unsigned()
        # the operation is answered, not refused for want of a signature
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            cog.get_id(IdentityPoolId="eu-west-1:00000000-0000-0000-0000-000000000000")
        err = cm.exception.response["Error"]
        self.assertEqual(err["Code"], "ResourceNotFoundException")
        self.assertIn("eu-west-1:00000000-0000-0000-0000-000000000000", err["Message"])
        self.assertEqual(cm.exception.response["ResponseMetadata"]["HTTPStatusCode"], 400)
        for call in (lambda: cog.get_open_id_token(IdentityId="eu-west-1:11111111-1111-1111-1111-111111111111"),
                     lambda: cog.get_credentials_for_identity(IdentityId="eu-west-1:11111111-1111-1111-1111-111111111111")):
            with self.assertRaises(botocore.exceptions.ClientError) as cm:
                call()
            self.assertEqual(cm.exception.response["Error"]["Code"], "ResourceNotFoundException")
        # a pool of account b in eu-west-1 is found without a signature
        signed_cog = self.srv.client("cognito-identity", i=1, region="eu-west-1")
        pool = signed_cog.create_identity_pool(IdentityPoolName="guests", AllowUnauthenticatedIdentities=True)
        closed = signed_cog.create_identity_pool(IdentityPoolName="members", AllowUnauthenticatedIdentities=False)
        first = cog.get_id(IdentityPoolId=pool["IdentityPoolId"])["IdentityId"]
        second = self.unsigned("us-east-1").get_id(IdentityPoolId=pool["IdentityPoolId"],
                                                   AccountId="222222222222")["IdentityId"]
        for ident in (first, second):
            self.assertRegex(ident, r"^eu-west-1:[0-9a-f-]{36}$")
        self.assertNotEqual(first, second)
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            cog.get_id(IdentityPoolId=closed["IdentityPoolId"])
        self.assertEqual(cm.exception.response["Error"]["Code"], "NotAuthorizedException")
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            cog.get_id(IdentityPoolId=pool["IdentityPoolId"], Logins={"accounts.google.com": "token"})
        self.assertEqual(cm.exception.response["Error"]["Code"], "NotAuthorizedException")
        # another account's id does not reach the pool
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            cog.get_id(IdentityPoolId=pool["IdentityPoolId"], AccountId="111111111111")
        self.assertEqual(cm.exception.response["Error"]["Code"], "ResourceNotFoundException")
        # a malformed pool id is a validation error, as AWS answers
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            self.unsigned().get_id(IdentityPoolId="not a pool id")
        self.assertEqual(cm.exception.response["Error"]["Code"], "InvalidParameterException")
        # every other operation still needs a signature
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            cog.list_identity_pools(MaxResults=10)
        self.assertEqual(cm.exception.response["Error"]["Code"], "MissingAuthenticationTokenException")
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            cog.describe_identity_pool(IdentityPoolId=pool["IdentityPoolId"])
        self.assertEqual(cm.exception.response["Error"]["Code"], "MissingAuthenticationTokenException")


if __name__ == "__main__":
    unittest.main()

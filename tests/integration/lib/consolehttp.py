"""A small HTTP client for the console's JSON endpoints (urllib, its own cookie jar), as
the browser uses them: sign in, then POST /console/api/<service>/<Operation> with the
session cookie and the X-CSRF-Token header."""
import http.cookiejar
import json
import urllib.error
import urllib.request


class ConsoleClient:
    def __init__(self, base_url):
        self.base = base_url
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        self.csrf = None
        self.session = None

    def request(self, method, path, body=None, headers=None, csrf=True):
        h = {"Content-Type": "application/json"}
        if csrf and self.csrf:
            h["X-CSRF-Token"] = self.csrf
        h.update(headers or {})
        data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
        req = urllib.request.Request(self.base + path, data=data, headers=h, method=method)
        try:
            with self.opener.open(req, timeout=60) as r:
                raw = r.read()
                return r.status, dict(r.headers), raw
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers), e.read()

    def json(self, method, path, body=None, **kw):
        status, headers, raw = self.request(method, path, body, **kw)
        try:
            return status, json.loads(raw or b"{}")
        except ValueError:
            return status, {"raw": raw.decode(errors="replace")}

    def sign_in(self, key):
        status, out = self.json("POST", "/console/api/session",
                                {"accessKeyId": key["aws_access_key_id"],
                                 "secretAccessKey": key["aws_secret_access_key"]}, csrf=False)
        if status != 200:
            raise AssertionError("sign-in failed: %d %s" % (status, out))
        self.csrf = out["csrfToken"]
        self.session = out
        return out

    def call(self, service, op, body=None, **kw):
        return self.json("POST", "/console/api/%s/%s" % (service, op), body if body is not None else {}, **kw)

    def cookie(self):
        for c in self.jar:
            if c.name == "dd_console":
                return c.value
        return None

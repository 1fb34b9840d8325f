#!/usr/bin/env python3
"""For every operation the server answers, the AWS error codes its handler can emit
(read from the C sources: string literals naming an error, followed through the
functions of src/core the handler calls) against the errors the botocore model declares
for that operation. Prints one line per operation with undeclared codes.

    python3 scripts/declared_errors.py [--all] [--json]

Exit status 1 when an operation can emit an undeclared code not in ALLOWED. The call
graph is followed by name, so the list over-approximates (a helper shared by several
operations contributes all of its codes to each); ALLOWED records the reviewed cases.
"""
import glob
import gzip
import json
import os
import re
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
MODELS = {"iot": ("iot", "2015-05-28"), "iam": ("iam", "2010-05-08"), "sns": ("sns", "2010-03-31"),
          "cognito-identity": ("cognito-identity", "2014-06-30")}
# Codes every operation may answer whatever its model says (the service front door).
COMMON = {"ThrottlingException", "InternalFailureException", "ServiceUnavailableException",
          "UnauthorizedException", "InternalException", "ServiceFailure", "InternalError",
          "InternalErrorException", "ValidationError", "InvalidParameterValue", "InvalidAction",
          "MissingAction", "AccessDenied", "AccessDeniedException", "InvalidClientTokenId",
          "UnrecognizedClientException", "InvalidSignatureException", "IncompleteSignatureException",
          "MissingAuthenticationTokenException", "RequestEntityTooLargeException", "SerializationException"}
# Reviewed over-approximations: (service, operation, code) -> why it cannot happen or why
# it is kept. Keep this short; fix the handler instead when it can.
ALLOWED = {
    ("iot", "CreateAuditSuppression", "ResourceNotFoundException"): "the helper it shares with Update answers it for Update only",
    ("iot", "UpdateAuditSuppression", "ResourceAlreadyExistsException"): "the helper it shares with Create answers it for Create only",
    ("iot", "CreateKeysAndCertificate", "ResourceAlreadyExistsException"): "a freshly issued certificate cannot be registered already",
    ("iot", "CreateCertificateFromCsr", "ResourceAlreadyExistsException"): "each issue has a new serial, so a new id",
    ("iot", "UpdateCACertificate", "CertificateStateException"): "dd_certs_set_status answers DD_ECONFLICT for device certificates only",
    ("iam", "CreateRole", "NoSuchEntity"): "re-reads the role it just inserted in the same transaction",
    ("iam", "CreatePolicy", "NoSuchEntity"): "re-reads the policy it just inserted in the same transaction",
}

CODE_RE = re.compile(r'"([A-Z][A-Za-z]*(?:Exception|Error|Entity|Exists|Conflict|Document|Exceeded|Input|'
                     r'Parameter|NotFound|Failure|Denied))"')
MACRO_CODES = {"IRE": "InvalidRequestException", "RNF": "ResourceNotFoundException",
               "CVE": "CertificateValidationException", "CSE": "CertificateStateException",
               "INVALID": "InvalidRequestException"}


def load_model(service):
    import botocore
    name, ver = MODELS[service]
    base = os.path.join(os.path.dirname(botocore.__file__), "data", name, ver, "service-2.json")
    if os.path.exists(base):
        with open(base) as f:
            return json.load(f)
    with gzip.open(base + ".gz") as f:
        return json.load(f)


def error_code(model, shape):
    """The wire code of an exception shape (awsQuery models rename them)."""
    return model["shapes"][shape].get("error", {}).get("code", shape)


_KNOWN = set()


def known_codes(models):
    """Every error code any served model declares, plus the common ones."""
    if not _KNOWN:
        for service in MODELS:
            m = models.setdefault(service, load_model(service))
            for name, shape in m["shapes"].items():
                if shape.get("exception"):
                    _KNOWN.add(error_code(m, name))
        _KNOWN.update(COMMON)
    return _KNOWN


def functions(sources):
    """{(path, name): body} for every function defined at file scope, and {name: path}
    of the non-static ones (static helpers of the same name in several files stay apart)."""
    bodies, public = {}, {}
    for path in sources:
        text = open(path).read()
        for m in re.finditer(r'^(static\s+)?(?:const\s+)?[a-z_][\w\s\*]*?\b(\w+)\(([^;{]*?)\)\s*\n\{', text, re.M):
            start = m.end() - 1
            depth, i = 0, start
            while i < len(text):
                if text[i] == "{":
                    depth += 1
                elif text[i] == "}":
                    depth -= 1
                    if depth == 0:
                        break
                i += 1
            bodies[(path, m.group(2))] = text[start:i + 1]
            if not m.group(1):
                public[m.group(2)] = path
    return bodies, public


def handlers(sources):
    """(service, operation, function, path) of every handler table row."""
    rows = []
    for path in sources:
        for m in re.finditer(r'\{\s*"([a-z-]+)",\s*"([A-Za-z0-9]+)",\s*(\w+)\s*\}', open(path).read()):
            rows.append(m.groups() + (path,))
    return rows


def resolve(name, path, funcs):
    bodies, public = funcs
    if (path, name) in bodies:
        return (path, name)
    if name in public:
        return (public[name], name)
    return None


def codes_of(key, funcs, seen=None):
    seen = set() if seen is None else seen
    if key is None or key in seen:
        return set()
    seen.add(key)
    body = re.sub(r"/\*.*?\*/", "", funcs[0][key], flags=re.S)
    found = set(CODE_RE.findall(body))
    for macro, code in MACRO_CODES.items():
        if re.search(r"\b%s\b" % macro, body):
            found.add(code)
    for callee in set(re.findall(r"\b([a-z_]\w*)\s*\(", body)):
        found |= codes_of(resolve(callee, key[0], funcs), funcs, seen)
    return found


def main():
    sources = sorted(glob.glob(os.path.join(ROOT, "src", "core", "*.c")))
    funcs = functions(sources)
    models = {}
    report = []
    bad = 0
    for service, op, fn, path in handlers(sources):
        if service not in MODELS:
            continue
        m = models.setdefault(service, load_model(service))
        if op not in m["operations"]:
            continue
        declared = {error_code(m, e["shape"]) for e in m["operations"][op].get("errors", [])}
        emitted = codes_of(resolve(fn, path, funcs), funcs) & known_codes(models)
        extra = sorted(c for c in emitted - declared - COMMON if (service, op, c) not in ALLOWED)
        report.append({"service": service, "operation": op, "handler": fn, "declared": sorted(declared),
                       "emitted": sorted(emitted), "undeclared": extra})
        bad += bool(extra)
    # the HTTP status of each code in src/server/dd_awserr.c against the models
    table = dict((c, int(h)) for c, h in re.findall(r'\{\s*"(\w+)",\s*(\d+)\s*\}',
                                                     open(os.path.join(ROOT, "src", "server", "dd_awserr.c")).read()))
    for service in MODELS:
        m = models.setdefault(service, load_model(service))
        if m["metadata"]["protocol"] == "json":
            continue  # awsJson: 400 for every client error (dd_awserr_http_status_for)
        for name, shape in m["shapes"].items():
            code = error_code(m, name)
            want = shape.get("error", {}).get("httpStatusCode")
            if shape.get("exception") and want and code in table and table[code] != want:
                print("%s %s: dd_awserr.c answers HTTP %d, the model declares %d" % (service, code, table[code], want))
                bad += 1
    if "--json" in sys.argv:
        json.dump(report, sys.stdout, indent=1)
        print()
    else:
        for r in report:
            if r["undeclared"] or "--all" in sys.argv:
                print("%s %s (%s): undeclared %s" % (r["service"], r["operation"], r["handler"],
                                                     ", ".join(r["undeclared"]) or "-"))
        print("%d operations, %d with undeclared codes" % (len(report), bad))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())

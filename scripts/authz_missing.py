#!/usr/bin/env python3
"""Lists the operations of the embedded models (src/server/dd_models_data.c) that have no
entry in the authorization table (src/server/dd_authz.c), with a suggested entry each:
action "<service>:<Operation>", resource from the input member that names the resource
(AWS's service authorization reference is the authority: check each suggestion there),
"*" otherwise. Run after adding operations to scripts/gen_models.py and regenerating:
  python3 scripts/authz_missing.py
unit.test_authz fails until every operation has an entry."""
import json
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# input member -> resource of AWS IoT (first match wins)
IOT_MEMBERS = [
    ("scheduledAuditName", "scheduledaudit"), ("actionName", "mitigationaction"),
    ("roleAlias", "rolealias"), ("thingName", "thing"), ("thingGroupName", "thinggroup"),
    ("thingTypeName", "thingtype"), ("billingGroupName", "billinggroup"),
    ("securityProfileName", "securityprofile"), ("dimensionName", "dimension"),
    ("authorizerName", "authorizer"), ("ruleName", "rule"), ("jobId", "job"),
    ("policyName", "policy"), ("caCertificateId", "cacert"), ("certificateId", "cert"),
]


def models():
    text = open(os.path.join(ROOT, "src", "server", "dd_models_data.c")).read()
    for m in re.finditer(r'static const char dd_model_(\w+)\[\] =\n(.*?);\n', text, re.S):
        body = "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', m.group(2)))
        yield m.group(1), json.loads(body.encode().decode("unicode_escape"))


def main():
    table = open(os.path.join(ROOT, "src", "server", "dd_authz.c")).read()
    have = set(re.findall(r'\{ "([a-z-]+)", "(\w+)", "', table))
    missing = 0
    for ident, model in models():
        svc = model["metadata"].get("signingName") or model["metadata"]["endpointPrefix"]
        for op, o in sorted(model["operations"].items()):
            if (svc, op) in have:
                continue
            missing += 1
            members = model["shapes"][o["input"]["shape"]].get("members", {}) if "input" in o else {}
            res = "*"
            if svc == "iot":
                for mem, kind in IOT_MEMBERS:
                    if mem in members:
                        res = "{P}%s/{%s}" % (kind, mem)
                        break
            passrole = '"roleArn"' if "roleArn" in members else "NULL"
            print('\t{ "%s", "%s", "%s:%s", "%s", %s },' % (svc, op, svc, op, res, passrole))
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())

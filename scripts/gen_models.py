#!/usr/bin/env python3
"""Trims the botocore service models to the operations iotdefender serves and writes
them, without documentation, to src/server/dd_models_data.c as embedded JSON strings.

The botocore models are Apache-2.0 (https://github.com/boto/botocore). Re-run after
adding an operation:  python3 scripts/gen_models.py
"""
import gzip, json, os, re, sys

import botocore

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SPEC_API = os.path.join(ROOT, "..", "shared", "spec", "API.md")

IOT_EXTRA = ["CreateCertificateFromCsr", "ListTargetsForPolicy", "DescribeThingGroup",
             # thing types, billing groups (issue 15)
             "CreateThingType", "DescribeThingType", "ListThingTypes", "UpdateThingType",
             "DeprecateThingType", "DeleteThingType",
             "CreateBillingGroup", "DescribeBillingGroup", "ListBillingGroups", "UpdateBillingGroup",
             "DeleteBillingGroup", "AddThingToBillingGroup", "RemoveThingFromBillingGroup",
             "ListThingsInBillingGroup",
             # principals (issue 15)
             "ListThingPrincipalsV2", "ListPrincipalThingsV2", "AttachPrincipalPolicy",
             "DetachPrincipalPolicy", "ListPrincipalPolicies", "ListPolicyPrincipals",
             # topic rules (issue 15, stored only)
             "CreateTopicRule", "GetTopicRule", "ListTopicRules", "ReplaceTopicRule",
             "EnableTopicRule", "DisableTopicRule", "DeleteTopicRule",
             # domain configurations (issue 15, stored only)
             "CreateDomainConfiguration", "DescribeDomainConfiguration",
             "ListDomainConfigurations", "UpdateDomainConfiguration",
             "DeleteDomainConfiguration",
             # fleet indexing (issue 15)
             "UpdateIndexingConfiguration", "GetIndexingConfiguration", "ListIndices",
             "DescribeIndex", "SearchIndex", "GetStatistics", "GetCardinality",
             "GetPercentiles", "GetBucketsAggregation",
             # jobs and job templates (issue 15, stored only)
             "CreateJob", "DescribeJob", "GetJobDocument", "ListJobs", "UpdateJob", "CancelJob",
             "DeleteJob", "AssociateTargetsWithJob", "ListJobExecutionsForJob",
             "ListJobExecutionsForThing", "DescribeJobExecution", "CancelJobExecution",
             "DeleteJobExecution", "CreateJobTemplate", "DescribeJobTemplate", "ListJobTemplates",
             "DeleteJobTemplate", "ListManagedJobTemplates", "DescribeManagedJobTemplate"]
SERVICES = {
    "iot": None,  # from API.md tables plus IOT_EXTRA
    "iam": ["CreateRole", "GetRole", "ListRoles", "DeleteRole", "UpdateAssumeRolePolicy",
            "PutRolePolicy", "GetRolePolicy", "ListRolePolicies", "DeleteRolePolicy",
            "AttachRolePolicy", "DetachRolePolicy", "ListAttachedRolePolicies",
            "CreatePolicy", "GetPolicy", "GetPolicyVersion", "ListPolicies", "DeletePolicy",
            "CreatePolicyVersion", "ListPolicyVersions", "DeletePolicyVersion",
            "TagRole", "UntagRole", "ListRoleTags",
            # users, groups and access keys (caller authorization, issue 16)
            "CreateUser", "GetUser", "ListUsers", "DeleteUser",
            "CreateAccessKey", "ListAccessKeys", "UpdateAccessKey", "DeleteAccessKey",
            "PutUserPolicy", "GetUserPolicy", "DeleteUserPolicy", "ListUserPolicies",
            "AttachUserPolicy", "DetachUserPolicy", "ListAttachedUserPolicies",
            "CreateGroup", "GetGroup", "DeleteGroup", "AddUserToGroup", "RemoveUserFromGroup",
            "ListGroupsForUser", "PutGroupPolicy", "GetGroupPolicy", "DeleteGroupPolicy",
            "ListGroupPolicies", "AttachGroupPolicy", "DetachGroupPolicy",
            "ListAttachedGroupPolicies"],
    "sts": ["GetCallerIdentity"],
    "sns": ["CreateTopic", "ListTopics", "GetTopicAttributes", "SetTopicAttributes",
            "DeleteTopic", "Subscribe", "ConfirmSubscription", "Unsubscribe",
            "ListSubscriptionsByTopic", "ListSubscriptions", "GetSubscriptionAttributes",
            "Publish"],
    "cognito-identity": ["CreateIdentityPool", "DescribeIdentityPool", "ListIdentityPools",
                         "DeleteIdentityPool", "UpdateIdentityPool",
                         "SetIdentityPoolRoles", "GetIdentityPoolRoles", "GetId"],
    "iot-data": ["DeleteConnection"],  # the broker (src/plugin) applies it
}
# Models are found by the SigV4 signing name when it differs from botocore's directory.
MODEL_NAME = {"iot-data": "iotdata"}

def load(svc):
    base = os.path.join(os.path.dirname(botocore.__file__), "data", svc)
    ver = sorted(os.listdir(base))[-1]
    p = os.path.join(base, ver, "service-2.json")
    if os.path.exists(p + ".gz"):
        with gzip.open(p + ".gz", "rt") as f:
            return json.load(f)
    with open(p) as f:
        return json.load(f)

def iot_ops():
    ops = []
    with open(SPEC_API) as f:
        for line in f:
            m = re.match(r"\|\s*([A-Z][A-Za-z0-9]+)\s*\|\s*(GET|PUT|POST|PATCH|DELETE)\s", line)
            if m:
                ops.append(m.group(1))
    return ops + IOT_EXTRA

STRIP = {"documentation", "deprecated", "deprecatedMessage", "examples", "endpointdiscovery",
         "documentationUrl", "authtype", "staticContextParams", "contextParams", "auth"}

def strip(o):
    if isinstance(o, dict):
        return {k: strip(v) for k, v in o.items() if k not in STRIP}
    if isinstance(o, list):
        return [strip(v) for v in o]
    return o

def trim(model, ops):
    out_ops, shapes, todo = {}, {}, []
    for op in ops:
        if op not in model["operations"]:
            sys.exit(f"unknown operation {op}")
        o = strip(model["operations"][op])
        o.pop("errors", None)
        out_ops[op] = o
        for k in ("input", "output"):
            if k in o:
                todo.append(o[k]["shape"])
    while todo:
        n = todo.pop()
        if n in shapes:
            continue
        s = strip(model["shapes"][n])
        shapes[n] = s
        for m in s.get("members", {}).values():
            todo.append(m["shape"])
        for k in ("member", "key", "value"):
            if k in s:
                todo.append(s[k]["shape"])
    meta = {k: model["metadata"][k] for k in ("protocol", "apiVersion", "targetPrefix",
            "jsonVersion", "xmlNamespace", "endpointPrefix", "signingName") if k in model["metadata"]}
    return {"metadata": meta, "operations": out_ops, "shapes": shapes}

def c_string(s):
    out = []
    for i in range(0, len(s), 200):
        chunk = s[i:i + 200].replace("\\", "\\\\").replace('"', '\\"')
        out.append('\t"' + chunk + '"')
    return "\n".join(out)

def main():
    parts = []
    names = []
    for svc, ops in SERVICES.items():
        model = load(svc)
        t = trim(model, ops if ops is not None else iot_ops())
        text = json.dumps(t, separators=(",", ":"), sort_keys=True)
        ident = "dd_model_" + svc.replace("-", "_")
        parts.append(f"static const char {ident}[] =\n{c_string(text)};\n")
        names.append((MODEL_NAME.get(svc, svc), ident))
    with open(os.path.join(ROOT, "src", "server", "dd_models_data.c"), "w") as f:
        f.write("/* SPDX-License-Identifier: Apache-2.0 */\n")
        f.write("/* GENERATED by scripts/gen_models.py from the botocore service models\n"
                " * (Apache-2.0, https://github.com/boto/botocore), trimmed to the operations\n"
                " * iotdefender serves. Do not edit. */\n")
        f.write('#include "server/dd_model.h"\n\n')
        f.write("\n".join(parts))
        f.write("\nconst struct dd_model_source dd_model_sources[] = {\n")
        for svc, ident in names:
            f.write(f'\t{{ "{svc}", {ident}, sizeof {ident} - 1 }},\n')
        f.write("\t{ NULL, NULL, 0 },\n};\n")

main()

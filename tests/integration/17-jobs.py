"""Jobs and job templates as stored state (issue 15) through boto3 and the aws CLI v2: the
shipped examples (create-job, describe-job, list-jobs, get-job-document,
list-job-executions-for-thing, describe-job-execution, cancel-job, cancel-job-execution,
associate-targets-with-job, delete-job-execution) with their outputs' shapes, executions
expanded through nested thing groups, CONTINUOUS jobs queueing things that join a target
group later and REMOVED executions when a thing leaves or is deleted, the list filters and paging, the model's limits and errors, the state rules
of cancels and deletes (InvalidStateTransitionException, VersionConflictException),
COMPLETED once no execution is left QUEUED, job templates, tags, isolation between
accounts and regions, and caller authorization on the targets. Nothing is delivered to a
device (docs/CONTROL_PLANE.md)."""
import datetime
import json
import os
import tempfile
import time
import unittest

import boto3
import botocore.config
import botocore.exceptions

from ddserver import Server, write_credentials

ACCT = "123456789012"
OTHER = "210987654321"
DOC = '\n{\n    "operation":"customJob",\n    "otherInfo":"someValue"\n}\n'


def code(fn, **kw):
    try:
        fn(**kw)
    except botocore.exceptions.ClientError as e:
        return e.response["Error"]["Code"], e.response["Error"]["Message"], e.response["ResponseMetadata"]["HTTPStatusCode"]
    raise AssertionError("no error")


def arn(kind, name, region="us-east-1", account=ACCT):
    return "arn:aws:iot:%s:%s:%s/%s" % (region, account, kind, name)


class JobsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="ddcreds-")
        path = os.path.join(cls.tmp, "credentials")
        write_credentials(path, [
            ("alice", "AKIAALICE00000000001", "alice/secret+key/0000000000000000000000", ACCT),
            ("bob", "AKIABOB0000000000002", "bob-secret-key-000000000000000000000000", OTHER),
        ])
        cls.srv = Server(credentials=path).start()
        cls.iot = cls.srv.client("iot")

    @classmethod
    def tearDownClass(cls):
        cls.srv.cleanup()

    def aws(self, *a, **kw):
        return self.srv.aws(*a, v2=True, **kw)

    def things(self, *names, iot=None):
        for n in names:
            (iot or self.iot).create_thing(thingName=n)

    # ---- the aws CLI's examples ------------------------------------------------------
    def test_cli_examples(self):
        self.things("MyRaspberryPi", "MyRPi")
        self.iot.create_thing_group(thingGroupName="DeadBulbs")
        self.iot.create_thing_group(thingGroupName="LightBulbs")
        docfile = os.path.join(self.tmp, "example-job.json")
        with open(docfile, "w") as f:
            f.write(DOC)
        c = self.aws("iot", "create-job", "--job-id", "example-job-01", "--targets", arn("thing", "MyRaspberryPi"),
                     "--document", "file://" + docfile, "--description", "example job test",
                     "--target-selection", "SNAPSHOT")
        self.assertEqual(c, {"jobArn": arn("job", "example-job-01"), "jobId": "example-job-01",
                             "description": "example job test"})
        d = self.aws("iot", "describe-job", "--job-id", "example-job-01")["job"]
        self.assertEqual(d["jobArn"], arn("job", "example-job-01"))
        self.assertEqual(d["targetSelection"], "SNAPSHOT")
        self.assertEqual(d["status"], "IN_PROGRESS")
        self.assertEqual(d["targets"], [arn("thing", "MyRaspberryPi")])
        self.assertEqual(d["description"], "example job test")
        self.assertEqual((d["presignedUrlConfig"], d["jobExecutionsRolloutConfig"], d["timeoutConfig"]), ({}, {}, {}))
        created = datetime.datetime.fromisoformat(d["createdAt"])  # the CLI v2 prints ISO 8601
        self.assertLess(abs(created.timestamp() - time.time()), 600)
        self.assertGreaterEqual(d["lastUpdatedAt"], d["createdAt"])
        self.assertEqual(d["jobProcessDetails"], {
            "numberOfCanceledThings": 0, "numberOfSucceededThings": 0, "numberOfFailedThings": 0,
            "numberOfRejectedThings": 0, "numberOfQueuedThings": 1, "numberOfInProgressThings": 0,
            "numberOfRemovedThings": 0, "numberOfTimedOutThings": 0})
        jobs = self.aws("iot", "list-jobs")["jobs"]
        mine = [j for j in jobs if j["jobId"] == "example-job-01"][0]
        self.assertEqual(set(mine) - {"isConcurrent"}, {"jobArn", "jobId", "targetSelection", "status", "createdAt",
                                                        "lastUpdatedAt"})
        self.assertEqual(self.aws("iot", "get-job-document", "--job-id", "example-job-01"), {"document": DOC})
        ex = self.aws("iot", "list-job-executions-for-thing", "--thing-name", "MyRaspberryPi")["executionSummaries"]
        self.assertEqual(len(ex), 1)
        self.assertEqual(ex[0]["jobId"], "example-job-01")
        s = ex[0]["jobExecutionSummary"]
        self.assertEqual((s["status"], s["executionNumber"]), ("QUEUED", 1))
        self.assertEqual(s["queuedAt"], s["lastUpdatedAt"])
        e = self.aws("iot", "describe-job-execution", "--job-id", "example-job-01", "--thing-name",
                     "MyRaspberryPi")["execution"]
        self.assertEqual({k: e[k] for k in ("jobId", "status", "statusDetails", "thingArn", "executionNumber",
                                            "versionNumber")},
                         {"jobId": "example-job-01", "status": "QUEUED", "statusDetails": {},
                          "thingArn": arn("thing", "MyRaspberryPi"), "executionNumber": 1, "versionNumber": 1})
        self.assertEqual(e["queuedAt"], s["queuedAt"])
        # continuous job and associate-targets-with-job
        c4 = self.aws("iot", "create-job", "--job-id", "example-job-04", "--targets", arn("thinggroup", "DeadBulbs"),
                      "--document", "file://" + docfile, "--description", "example continuous job",
                      "--target-selection", "CONTINUOUS")
        self.assertEqual(c4, {"jobArn": arn("job", "example-job-04"), "jobId": "example-job-04",
                              "description": "example continuous job"})
        a = self.aws("iot", "associate-targets-with-job", "--targets", arn("thinggroup", "LightBulbs"),
                     "--job-id", "example-job-04")
        self.assertEqual(a, c4)
        self.assertEqual(self.iot.describe_job(jobId="example-job-04")["job"]["targets"],
                         [arn("thinggroup", "DeadBulbs"), arn("thinggroup", "LightBulbs")])
        # cancel-job-execution (no output), delete-job-execution of the canceled execution
        self.aws("iot", "create-job", "--job-id", "example-job-03", "--targets", arn("thing", "MyRPi"),
                 "--document", "file://" + docfile, "--description", "example job test")
        self.assertIsNone(self.aws("iot", "cancel-job-execution", "--job-id", "example-job-03", "--thing-name", "MyRPi"))
        self.assertEqual(self.iot.describe_job_execution(jobId="example-job-03", thingName="MyRPi")["execution"]["status"],
                         "CANCELED")
        self.assertIsNone(self.aws("iot", "delete-job-execution", "--job-id", "example-job-03", "--thing-name", "MyRPi",
                                   "--execution-number", "1"))
        # cancel-job
        cj = self.aws("iot", "cancel-job", "--job-id", "example-job-01")
        self.assertEqual(cj, {"jobArn": arn("job", "example-job-01"), "jobId": "example-job-01",
                              "description": "example job test"})
        self.assertIsNone(self.aws("iot", "delete-job", "--job-id", "example-job-01"))
        p = self.aws("iot", "describe-job", "--job-id", "example-job-01", check=False)
        self.assertIn("ResourceNotFoundException", p.stderr)

    # ---- executions through nested groups, continuous jobs --------------------------
    def test_nested_expansion_and_continuous(self):
        iot = self.iot
        self.things("n-a", "n-b", "n-c", "n-d", "n-late", "n-direct")
        iot.create_thing_group(thingGroupName="n-root")
        iot.create_thing_group(thingGroupName="n-mid", parentGroupName="n-root")
        iot.create_thing_group(thingGroupName="n-leaf", parentGroupName="n-mid")
        iot.add_thing_to_thing_group(thingGroupName="n-root", thingName="n-a")
        iot.add_thing_to_thing_group(thingGroupName="n-mid", thingName="n-b")
        iot.add_thing_to_thing_group(thingGroupName="n-leaf", thingName="n-c")
        iot.add_thing_to_thing_group(thingGroupName="n-leaf", thingName="n-a")  # once only
        iot.create_job(jobId="n-snap", targets=[arn("thinggroup", "n-root"), arn("thing", "n-direct")], document="{}")
        iot.create_job(jobId="n-cont", targets=[arn("thinggroup", "n-mid")], document="{}", targetSelection="CONTINUOUS")
        ex = iot.list_job_executions_for_job(jobId="n-snap")["executionSummaries"]
        self.assertEqual([e["thingArn"] for e in ex], [arn("thing", t) for t in ("n-a", "n-b", "n-c", "n-direct")])
        self.assertEqual(sorted(e["jobExecutionSummary"]["executionNumber"] for e in ex), [1, 2, 3, 4])
        self.assertEqual({e["jobExecutionSummary"]["status"] for e in ex}, {"QUEUED"})
        cont = iot.list_job_executions_for_job(jobId="n-cont")["executionSummaries"]
        self.assertEqual([e["thingArn"] for e in cont], [arn("thing", t) for t in ("n-a", "n-b", "n-c")])
        # a thing joining a group below the CONTINUOUS job's target gets an execution; the SNAPSHOT job's stays
        iot.add_thing_to_thing_group(thingGroupName="n-leaf", thingName="n-late")
        iot.add_thing_to_thing_group(thingGroupName="n-root", thingName="n-d")
        cont = iot.list_job_executions_for_job(jobId="n-cont")["executionSummaries"]
        self.assertEqual([e["thingArn"] for e in cont], [arn("thing", t) for t in ("n-a", "n-b", "n-c", "n-late")])
        late = [e for e in cont if e["thingArn"] == arn("thing", "n-late")][0]["jobExecutionSummary"]
        self.assertEqual((late["status"], late["executionNumber"]), ("QUEUED", 4))
        self.assertEqual(len(iot.list_job_executions_for_job(jobId="n-snap")["executionSummaries"]), 4)
        self.assertEqual(iot.describe_job(jobId="n-cont")["job"]["jobProcessDetails"]["numberOfQueuedThings"], 4)
        # leaving the target group: REMOVED from the CONTINUOUS job only; a deleted thing: REMOVED everywhere
        iot.remove_thing_from_thing_group(thingGroupName="n-leaf", thingName="n-late")
        e = iot.describe_job_execution(jobId="n-cont", thingName="n-late")["execution"]
        self.assertEqual((e["status"], e["versionNumber"]), ("REMOVED", 2))
        self.assertEqual(iot.describe_job(jobId="n-cont")["job"]["jobProcessDetails"]["numberOfRemovedThings"], 1)
        iot.delete_thing(thingName="n-direct")
        self.assertEqual(iot.describe_job_execution(jobId="n-snap", thingName="n-direct")["execution"]["status"],
                         "REMOVED")
        self.assertEqual(iot.describe_job(jobId="n-snap")["job"]["jobProcessDetails"]["numberOfRemovedThings"], 1)
        # a canceled CONTINUOUS job queues no more
        iot.cancel_job(jobId="n-cont")
        iot.add_thing_to_thing_group(thingGroupName="n-mid", thingName="n-d")
        cont = iot.list_job_executions_for_job(jobId="n-cont")["executionSummaries"]
        self.assertEqual({e["jobExecutionSummary"]["status"] for e in cont}, {"CANCELED", "REMOVED"})
        self.assertNotIn(arn("thing", "n-d"), [e["thingArn"] for e in cont])
        # per thing, with the job filter and status filter
        f = iot.list_job_executions_for_thing(thingName="n-a")["executionSummaries"]
        self.assertEqual([x["jobId"] for x in f], ["n-cont", "n-snap"])
        f = iot.list_job_executions_for_thing(thingName="n-a", jobId="n-snap")["executionSummaries"]
        self.assertEqual([x["jobId"] for x in f], ["n-snap"])
        f = iot.list_job_executions_for_thing(thingName="n-a", status="CANCELED")["executionSummaries"]
        self.assertEqual([x["jobId"] for x in f], ["n-cont"])
        self.assertEqual(code(iot.list_job_executions_for_thing, thingName="no-such")[0], "ResourceNotFoundException")
        self.assertEqual(code(iot.list_job_executions_for_job, jobId="no-such")[0], "ResourceNotFoundException")

    def test_dynamic_group_target(self):
        iot = self.iot
        iot.create_thing(thingName="dyn-1", attributePayload={"attributes": {"fw": "old"}})
        iot.create_dynamic_thing_group(thingGroupName="dyn-old", queryString="attributes.fw:old")
        iot.create_job(jobId="dyn-job", targets=[arn("thinggroup", "dyn-old")], document="{}",
                       targetSelection="CONTINUOUS")
        iot.create_thing(thingName="dyn-2", attributePayload={"attributes": {"fw": "old"}})
        ex = iot.list_job_executions_for_job(jobId="dyn-job")["executionSummaries"]
        self.assertEqual([e["thingArn"] for e in ex], [arn("thing", "dyn-1"), arn("thing", "dyn-2")])

    # ---- filters and paging ----------------------------------------------------------
    def test_list_filters_and_paging(self):
        iot = self.srv.client("iot", region="ap-south-1")
        for t in ("p-1", "p-2", "p-3"):
            iot.create_thing(thingName=t)
        g = iot.create_thing_group(thingGroupName="p-group")
        iot.add_thing_to_thing_group(thingGroupName="p-group", thingName="p-1")
        for i in range(7):
            extra = {"namespaceId": "ns1"} if i == 3 else {}
            iot.create_job(jobId="p-job-%d" % i, targets=[arn("thing", "p-%d" % (i % 3 + 1), "ap-south-1")],
                           document="{}", **extra)
        iot.create_job(jobId="p-group-job", targets=[arn("thinggroup", "p-group", "ap-south-1")], document="{}",
                       targetSelection="CONTINUOUS")
        iot.cancel_job(jobId="p-job-0")
        ids = lambda r: [j["jobId"] for j in r["jobs"]]
        self.assertEqual(ids(iot.list_jobs(status="CANCELED")), ["p-job-0"])
        self.assertEqual(ids(iot.list_jobs(targetSelection="CONTINUOUS")), ["p-group-job"])
        self.assertEqual(ids(iot.list_jobs(thingGroupName="p-group")), ["p-group-job"])
        self.assertEqual(ids(iot.list_jobs(thingGroupId=g["thingGroupId"])), ["p-group-job"])
        self.assertEqual(iot.list_jobs(thingGroupName="p-group")["jobs"][0]["thingGroupId"], g["thingGroupId"])
        self.assertEqual(ids(iot.list_jobs(namespaceId="ns1")), ["p-job-3"])
        self.assertEqual(len(iot.list_jobs(status="IN_PROGRESS")["jobs"]), 7)
        # paging: maxResults 3 over 8 jobs
        got, token, pages = [], None, 0
        while True:
            r = iot.list_jobs(maxResults=3, **({"nextToken": token} if token else {}))
            pages += 1
            self.assertLessEqual(len(r["jobs"]), 3)
            got += ids(r)
            token = r.get("nextToken")
            if not token:
                break
        self.assertEqual(pages, 3)
        self.assertEqual(got, sorted(["p-job-%d" % i for i in range(7)] + ["p-group-job"]))
        pag = [j["jobId"] for p in iot.get_paginator("list_jobs").paginate(PaginationConfig={"PageSize": 2})
               for j in p["jobs"]]
        self.assertEqual(pag, got)
        # executions of a thing, paged
        ex = [e["jobId"] for p in iot.get_paginator("list_job_executions_for_thing").paginate(
            thingName="p-1", PaginationConfig={"PageSize": 1}) for e in p["executionSummaries"]]
        self.assertEqual(ex, ["p-group-job", "p-job-0", "p-job-3", "p-job-6"])
        self.assertEqual([e["jobId"] for e in iot.list_job_executions_for_thing(thingName="p-1", namespaceId="ns1")
                          ["executionSummaries"]], ["p-job-3"])
        self.assertEqual(code(iot.list_jobs, maxResults=251)[0], "InvalidRequestException")
        self.assertEqual(code(iot.list_jobs, nextToken="garbage!")[0], "InvalidRequestException")
        # the default region sees none of these
        self.assertFalse([j for j in self.iot.list_jobs()["jobs"] if j["jobId"].startswith("p-")])

    def test_executions_paging(self):
        iot = self.srv.client("iot", region="eu-north-1")
        names = ["e-%02d" % i for i in range(12)]
        iot.create_thing_group(thingGroupName="e-all")
        for n in names:
            iot.create_thing(thingName=n)
            iot.add_thing_to_thing_group(thingGroupName="e-all", thingName=n)
        iot.create_job(jobId="e-job", targets=[arn("thinggroup", "e-all", "eu-north-1")], document="{}")
        r = iot.list_job_executions_for_job(jobId="e-job", maxResults=5)
        self.assertEqual(len(r["executionSummaries"]), 5)
        got = [e["thingArn"].split("/")[-1] for p in iot.get_paginator("list_job_executions_for_job").paginate(
            jobId="e-job", PaginationConfig={"PageSize": 5}) for e in p["executionSummaries"]]
        self.assertEqual(got, names)
        iot.cancel_job_execution(jobId="e-job", thingName="e-03")
        st = iot.list_job_executions_for_job(jobId="e-job", status="CANCELED")["executionSummaries"]
        self.assertEqual([e["thingArn"] for e in st], [arn("thing", "e-03", "eu-north-1")])
        self.assertEqual(len(iot.list_job_executions_for_job(jobId="e-job", status="QUEUED")["executionSummaries"]), 11)

    # ---- validation, limits, errors --------------------------------------------------
    def test_create_errors_and_limits(self):
        iot = self.iot
        self.things("v-1")
        t = [arn("thing", "v-1")]
        iot.create_job(jobId="v-job", targets=t, document="{}")
        c, m, st = code(iot.create_job, jobId="v-job", targets=t, document="{}")
        self.assertEqual((c, st), ("ResourceAlreadyExistsException", 409))
        c, m, st = code(iot.create_job, jobId="v-none", targets=[arn("thing", "ghost")], document="{}")
        self.assertEqual((c, st), ("ResourceNotFoundException", 404))
        self.assertIn("ghost", m)
        self.assertEqual(code(iot.describe_job, jobId="v-none")[0], "ResourceNotFoundException")  # nothing half-made
        c, m, st = code(iot.create_job, jobId="v-grp", targets=[arn("thinggroup", "ghost-group")], document="{}")
        self.assertEqual(c, "ResourceNotFoundException")
        c, m, st = code(iot.create_job, jobId="v-other", targets=[arn("thing", "v-1", account=OTHER)], document="{}")
        self.assertEqual(c, "ResourceNotFoundException")
        c, m, st = code(iot.create_job, jobId="v-kind", targets=[arn("policy", "p")], document="{}")
        self.assertEqual((c, st), ("InvalidRequestException", 400))
        c, m, st = code(iot.create_job, jobId="v-json", targets=t, document="{not json")
        self.assertEqual(c, "InvalidRequestException")
        self.assertIn("document", m)
        c, m, st = code(iot.create_job, jobId="v-two", targets=t, document="{}", documentSource="https://s3.amazonaws.com/b/k")
        self.assertEqual(c, "InvalidRequestException")
        c, m, st = code(iot.create_job, jobId="v-nodoc", targets=t)
        self.assertEqual(c, "InvalidRequestException")
        c, m, st = code(iot.create_job, jobId="bad id!", targets=t, document="{}")
        self.assertEqual(c, "InvalidRequestException")
        c, m, st = code(iot.create_job, jobId="x" * 65, targets=t, document="{}")
        self.assertEqual(c, "InvalidRequestException")
        c, m, st = code(iot.create_job, jobId="v-desc", targets=t, document="{}", description="d" * 2029)
        self.assertEqual(c, "InvalidRequestException")
        c, m, st = code(iot.create_job, jobId="v-big", targets=t, document='{"a":"%s"}' % ("x" * 32768))
        self.assertEqual(c, "InvalidRequestException")
        c, m, st = code(iot.create_job, jobId="v-many", targets=[arn("thing", "v-%d" % i) for i in range(101)],
                        document="{}")
        self.assertEqual((c, st), ("LimitExceededException", 410))
        c, m, st = code(iot.create_job, jobId="v-timeout", targets=t, document="{}",
                        timeoutConfig={"inProgressTimeoutInMinutes": 10081})
        self.assertEqual(c, "InvalidRequestException")
        c, m, st = code(iot.create_job, jobId="v-sched", targets=t, document="{}",
                        schedulingConfig={"startTime": "tomorrow"})
        self.assertEqual(c, "InvalidRequestException")
        c, m, st = code(iot.create_job, jobId="v-role", targets=t, document="{}",
                        presignedUrlConfig={"roleArn": "arn:aws:iam::%s:role/R" % OTHER, "expiresInSec": 3600})
        self.assertEqual(c, "InvalidRequestException")
        c, m, st = code(iot.create_job, jobId="v-tpl", targets=t,
                        jobTemplateArn=arn("jobtemplate", "no-such-template"))
        self.assertEqual(c, "ResourceNotFoundException")
        # the source form, with the configs kept and answered
        cfg = {"jobExecutionsRolloutConfig": {"maximumPerMinute": 50},
               "abortConfig": {"criteriaList": [{"failureType": "FAILED", "action": "CANCEL",
                                                 "thresholdPercentage": 50.0, "minNumberOfExecutedThings": 5}]},
               "timeoutConfig": {"inProgressTimeoutInMinutes": 60},
               "jobExecutionsRetryConfig": {"criteriaList": [{"failureType": "TIMED_OUT", "numberOfRetries": 3}]}}
        iot.create_job(jobId="v-src", targets=t, documentSource="https://s3.amazonaws.com/bucket/job.json",
                       tags=[{"Key": "team", "Value": "fw"}], **cfg)
        d = iot.describe_job(jobId="v-src")
        self.assertEqual(d["documentSource"], "https://s3.amazonaws.com/bucket/job.json")
        for k, v in cfg.items():
            self.assertEqual(d["job"][k], v, k)
        self.assertNotIn("document", iot.get_job_document(jobId="v-src"))
        self.assertEqual(iot.list_tags_for_resource(resourceArn=arn("job", "v-src"))["tags"],
                         [{"Key": "team", "Value": "fw"}])

    def test_scheduled_and_document_parameters(self):
        iot = self.iot
        self.things("s-1")
        iot.create_job(jobId="s-job", targets=[arn("thing", "s-1")], document='{"v":"${aws:iot:parameter:ver}"}',
                       documentParameters={"ver": "1.2"},
                       schedulingConfig={"startTime": "2099-01-01T10:00", "endTime": "2099-01-01T12:00",
                                         "endBehavior": "CANCEL"})
        j = iot.describe_job(jobId="s-job")["job"]
        self.assertEqual(j["status"], "SCHEDULED")
        self.assertEqual(j["schedulingConfig"]["endBehavior"], "CANCEL")
        self.assertEqual(j["documentParameters"], {"ver": "1.2"})
        self.assertIn("s-job", [x["jobId"] for x in iot.list_jobs(status="SCHEDULED")["jobs"]])
        self.assertNotIn("s-job", [x["jobId"] for x in iot.list_jobs(status="IN_PROGRESS")["jobs"]])
        self.assertEqual(iot.get_job_document(jobId="s-job")["document"], '{"v":"1.2"}')
        self.assertEqual(iot.get_job_document(jobId="s-job", beforeSubstitution=True)["document"],
                         '{"v":"${aws:iot:parameter:ver}"}')
        c, m, st = code(iot.create_job, jobId="s-bad", targets=[arn("thing", "s-1")], document="{}",
                        schedulingConfig={"startTime": "2099-01-01T10:00", "endTime": "2099-01-01T10:10"})
        self.assertEqual(c, "InvalidRequestException")

    # ---- state transitions -------------------------------------------------------------
    def test_state_transitions(self):
        iot = self.iot
        self.things("st-1", "st-2", "st-3")
        iot.create_job(jobId="st-job", targets=[arn("thing", t) for t in ("st-1", "st-2", "st-3")], document="{}",
                       description="states")
        c, m, st = code(iot.delete_job, jobId="st-job")
        self.assertEqual((c, st), ("InvalidStateTransitionException", 409))
        e = iot.describe_job_execution(jobId="st-job", thingName="st-1")["execution"]
        self.assertEqual(e["versionNumber"], 1)
        c, m, st = code(iot.cancel_job_execution, jobId="st-job", thingName="st-1", expectedVersion=7)
        self.assertEqual((c, st), ("VersionConflictException", 409))
        iot.cancel_job_execution(jobId="st-job", thingName="st-1", expectedVersion=1,
                                 statusDetails={"reason": "operator"})
        e = iot.describe_job_execution(jobId="st-job", thingName="st-1")["execution"]
        self.assertEqual((e["status"], e["versionNumber"], e["statusDetails"], e["forceCanceled"]),
                         ("CANCELED", 2, {"detailsMap": {"reason": "operator"}}, False))
        c, m, st = code(iot.cancel_job_execution, jobId="st-job", thingName="st-1")
        self.assertEqual((c, st), ("InvalidStateTransitionException", 409))
        c, m, st = code(iot.cancel_job_execution, jobId="st-job", thingName="st-1", force=True)
        self.assertEqual(c, "InvalidStateTransitionException")
        # a QUEUED execution is deleted only with force; a terminal one without
        c, m, st = code(iot.delete_job_execution, jobId="st-job", thingName="st-2", executionNumber=2)
        self.assertEqual(c, "InvalidStateTransitionException")
        c, m, st = code(iot.delete_job_execution, jobId="st-job", thingName="st-2", executionNumber=9, force=True)
        self.assertEqual(c, "ResourceNotFoundException")
        iot.delete_job_execution(jobId="st-job", thingName="st-2", executionNumber=2, force=True)
        self.assertEqual(code(iot.describe_job_execution, jobId="st-job", thingName="st-2")[0],
                         "ResourceNotFoundException")
        self.assertEqual(code(iot.describe_job_execution, jobId="st-job", thingName="st-3", executionNumber=1)[0],
                         "ResourceNotFoundException")
        self.assertEqual(iot.describe_job_execution(jobId="st-job", thingName="st-3", executionNumber=3)
                         ["execution"]["executionNumber"], 3)
        self.assertEqual(iot.describe_job(jobId="st-job")["job"]["status"], "IN_PROGRESS")
        # the last QUEUED execution canceled: the SNAPSHOT job is COMPLETED
        iot.cancel_job_execution(jobId="st-job", thingName="st-3")
        j = iot.describe_job(jobId="st-job")["job"]
        self.assertEqual(j["status"], "COMPLETED")
        self.assertIn("completedAt", j)
        self.assertEqual(j["jobProcessDetails"]["numberOfCanceledThings"], 2)
        self.assertEqual(code(iot.cancel_job, jobId="st-job")[0], "InvalidRequestException")
        self.assertEqual(code(iot.update_job, jobId="st-job", description="x")[0], "InvalidRequestException")
        iot.delete_job(jobId="st-job")
        self.assertEqual(code(iot.describe_job, jobId="st-job")[0], "ResourceNotFoundException")
        self.assertEqual(iot.list_job_executions_for_thing(thingName="st-1")["executionSummaries"], [])
        # cancel: QUEUED executions canceled, reason and comment kept; delete with force of an IN_PROGRESS job
        iot.create_job(jobId="st-cancel", targets=[arn("thing", "st-1")], document="{}")
        r = iot.cancel_job(jobId="st-cancel", reasonCode="FW_BAD", comment="rolled back")
        self.assertEqual(r["jobId"], "st-cancel")
        j = iot.describe_job(jobId="st-cancel")["job"]
        self.assertEqual((j["status"], j["reasonCode"], j["comment"], j["forceCanceled"]),
                         ("CANCELED", "FW_BAD", "rolled back", False))
        self.assertEqual(j["jobProcessDetails"]["numberOfCanceledThings"], 1)
        self.assertEqual(code(iot.cancel_job, jobId="st-cancel")[0], "InvalidRequestException")
        iot.cancel_job(jobId="st-cancel", force=True)
        self.assertTrue(iot.describe_job(jobId="st-cancel")["job"]["forceCanceled"])
        self.assertEqual(code(iot.cancel_job, jobId="st-cancel", reasonCode="lower")[0], "InvalidRequestException")
        iot.create_job(jobId="st-force", targets=[arn("thing", "st-1")], document="{}")
        iot.delete_job(jobId="st-force", force=True)
        self.assertEqual(code(iot.describe_job, jobId="st-force")[0], "ResourceNotFoundException")
        # associate: CONTINUOUS only
        iot.create_job(jobId="st-snap", targets=[arn("thing", "st-1")], document="{}")
        c, m, st = code(iot.associate_targets_with_job, jobId="st-snap", targets=[arn("thing", "st-2")])
        self.assertEqual(c, "InvalidRequestException")
        self.assertIn("CONTINUOUS", m)

    def test_update_job(self):
        iot = self.iot
        self.things("u-1")
        iot.create_job(jobId="u-job", targets=[arn("thing", "u-1")], document="{}", description="before",
                       timeoutConfig={"inProgressTimeoutInMinutes": 5})
        before = iot.describe_job(jobId="u-job")["job"]
        time.sleep(0.01)
        self.assertIsNone(self.aws("iot", "update-job", "--job-id", "u-job", "--description", "after",
                                   "--job-executions-rollout-config", "maximumPerMinute=10"))
        j = iot.describe_job(jobId="u-job")["job"]
        self.assertEqual(j["description"], "after")
        self.assertEqual(j["jobExecutionsRolloutConfig"], {"maximumPerMinute": 10})
        self.assertEqual(j["timeoutConfig"], {"inProgressTimeoutInMinutes": 5})
        self.assertGreater(j["lastUpdatedAt"], before["lastUpdatedAt"])
        self.assertEqual(code(iot.update_job, jobId="nope", description="x")[0], "ResourceNotFoundException")

    # ---- job templates ---------------------------------------------------------------
    def test_job_templates(self):
        iot = self.iot
        self.things("t-1")
        r = iot.create_job_template(jobTemplateId="tpl-doc", description="firmware", document='{"fw":"2"}',
                                    timeoutConfig={"inProgressTimeoutInMinutes": 30},
                                    tags=[{"Key": "k", "Value": "v"}])
        self.assertEqual(r["jobTemplateArn"], arn("jobtemplate", "tpl-doc"))
        self.assertEqual(r["jobTemplateId"], "tpl-doc")
        d = iot.describe_job_template(jobTemplateId="tpl-doc")
        self.assertEqual((d["description"], d["document"], d["timeoutConfig"]),
                         ("firmware", '{"fw":"2"}', {"inProgressTimeoutInMinutes": 30}))
        self.assertLess(abs(d["createdAt"].timestamp() - time.time()), 600)
        c, m, st = code(iot.create_job_template, jobTemplateId="tpl-doc", description="x", document="{}")
        self.assertEqual((c, st), ("ConflictException", 409))
        self.assertEqual(code(iot.create_job_template, jobTemplateId="tpl-none", description="x")[0],
                         "InvalidRequestException")
        self.assertEqual(code(iot.create_job_template, jobTemplateId="tpl-2", description="x", document="{}",
                              jobArn=arn("job", "j"))[0], "InvalidRequestException")
        self.assertEqual(code(iot.create_job_template, jobTemplateId="tpl-3", description="x",
                              jobArn=arn("job", "no-such-job"))[0], "ResourceNotFoundException")
        # a job from the template takes its document and configs
        iot.create_job(jobId="from-tpl", targets=[arn("thing", "t-1")], jobTemplateArn=r["jobTemplateArn"])
        j = iot.describe_job(jobId="from-tpl")["job"]
        self.assertEqual(j["jobTemplateArn"], r["jobTemplateArn"])
        self.assertEqual(j["timeoutConfig"], {"inProgressTimeoutInMinutes": 30})
        self.assertEqual(j["description"], "firmware")
        self.assertEqual(iot.get_job_document(jobId="from-tpl")["document"], '{"fw":"2"}')
        self.assertEqual(code(iot.create_job, jobId="from-tpl-2", targets=[arn("thing", "t-1")],
                              jobTemplateArn=r["jobTemplateArn"], document="{}")[0], "InvalidRequestException")
        # a template from a job
        iot.create_job(jobId="tpl-src", targets=[arn("thing", "t-1")], document='{"x":1}',
                       jobExecutionsRolloutConfig={"maximumPerMinute": 7})
        iot.create_job_template(jobTemplateId="tpl-job", description="from job", jobArn=arn("job", "tpl-src"))
        d = iot.describe_job_template(jobTemplateId="tpl-job")
        self.assertEqual((d["document"], d["jobExecutionsRolloutConfig"]), ('{"x":1}', {"maximumPerMinute": 7}))
        for i in range(3):
            iot.create_job_template(jobTemplateId="tpl-p%d" % i, description="p", document="{}")
        got = [t["jobTemplateId"] for p in iot.get_paginator("list_job_templates").paginate(
            PaginationConfig={"PageSize": 2}) for t in p["jobTemplates"]]
        self.assertEqual(got, ["tpl-doc", "tpl-job", "tpl-p0", "tpl-p1", "tpl-p2"])
        s = iot.list_job_templates(maxResults=1)
        self.assertEqual(set(s["jobTemplates"][0]), {"jobTemplateArn", "jobTemplateId", "description", "createdAt"})
        self.assertIn("nextToken", s)
        self.assertEqual(iot.list_tags_for_resource(resourceArn=r["jobTemplateArn"])["tags"], [{"Key": "k", "Value": "v"}])
        iot.delete_job_template(jobTemplateId="tpl-doc")
        self.assertEqual(code(iot.describe_job_template, jobTemplateId="tpl-doc")[0], "ResourceNotFoundException")
        self.assertEqual(code(iot.delete_job_template, jobTemplateId="tpl-doc")[0], "ResourceNotFoundException")
        self.assertEqual(iot.describe_job(jobId="from-tpl")["job"]["jobTemplateArn"], r["jobTemplateArn"])
        # AWS-managed templates: none here
        self.assertEqual(iot.list_managed_job_templates()["managedJobTemplates"], [])
        c, m, st = code(iot.describe_managed_job_template, templateName="AWS-Download-File")
        self.assertEqual((c, st), ("ResourceNotFoundException", 404))

    # ---- isolation and authorization ------------------------------------------------
    def test_accounts_isolated(self):
        bob = self.srv.client("iot", 1)
        self.things("iso-1")
        self.iot.create_job(jobId="iso-job", targets=[arn("thing", "iso-1")], document="{}")
        self.assertEqual(code(bob.describe_job, jobId="iso-job")[0], "ResourceNotFoundException")
        self.assertEqual(code(bob.describe_job_execution, jobId="iso-job", thingName="iso-1")[0],
                         "ResourceNotFoundException")
        bob.create_thing(thingName="iso-1")
        # bob cannot target alice's thing by its ARN, and his job of the same id is his own
        self.assertEqual(code(bob.create_job, jobId="iso-job", targets=[arn("thing", "iso-1")], document="{}")[0],
                         "ResourceNotFoundException")
        bob.create_job(jobId="iso-job", targets=[arn("thing", "iso-1", account=OTHER)], document='{"b":1}')
        self.assertEqual(bob.get_job_document(jobId="iso-job")["document"], '{"b":1}')
        self.assertEqual(self.iot.get_job_document(jobId="iso-job")["document"], "{}")

    def test_caller_authorization(self):
        iam = self.iam = self.srv.client("iam")
        self.things("az-ok", "az-no")
        iam.create_user(UserName="jobber")
        iam.put_user_policy(UserName="jobber", PolicyName="p", PolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": ["iot:CreateJob", "iot:DescribeJob"],
                 "Resource": ["arn:aws:iot:us-east-1:%s:job/az-*" % ACCT, arn("thing", "az-ok")]},
                {"Effect": "Allow", "Action": "iot:CancelJobExecution", "Resource": arn("thing", "az-ok")}]}))
        key = iam.create_access_key(UserName="jobber")["AccessKey"]
        u = boto3.client("iot", endpoint_url=self.srv.url, region_name="us-east-1",
                         aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"],
                         config=botocore.config.Config(retries={"max_attempts": 1}))
        u.create_job(jobId="az-1", targets=[arn("thing", "az-ok")], document="{}")
        self.assertEqual(u.describe_job(jobId="az-1")["job"]["jobId"], "az-1")
        c, m, st = code(u.create_job, jobId="az-2", targets=[arn("thing", "az-no")], document="{}")
        self.assertEqual((c, st), ("AccessDeniedException", 403))
        self.assertIn(arn("thing", "az-no"), m)
        c, m, st = code(u.create_job, jobId="other", targets=[arn("thing", "az-ok")], document="{}")
        self.assertEqual(c, "AccessDeniedException")
        # an execution's cancel needs the action on the job too
        c, m, st = code(u.cancel_job_execution, jobId="az-1", thingName="az-ok")
        self.assertEqual(c, "AccessDeniedException")
        self.assertIn("job/az-1", m)


if __name__ == "__main__":
    unittest.main()

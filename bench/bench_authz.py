#!/usr/bin/env python3
"""Cost of caller authorization: the registry workload of bench_api.py (CreateThing +
DescribeThing + ListThings, SigV4-signed, driven by dd_loadgen) run by the account root
(credentials-file key: no policy evaluation) and by an IAM user whose requests are
authorized by a typical identity policy set (an inline user policy with a resource
pattern and a Deny, a group inline policy, an attached managed policy). Runs alternate
root, user, user, root and keep each one's best; prints both rates and user/root, and the
server's CPU time per request of each (user + system of the server process, from /proc:
on a machine shared with other work this holds up better than requests/s).

env: IOTDEFENDER_BIN, DD_LOADGEN, BENCH_ITERATIONS (default 1500 per connection),
BENCH_THREADS (default 4: the load generator's keep-alive connections, all driven from its
one event loop)."""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration", "lib"))
sys.path.insert(0, HERE)
import ddserver  # noqa: E402
from bench_api import loadgen, measured  # noqa: E402


def setup_user(srv):
    iam = srv.client("iam")
    acct = srv.key()["account_id"]
    iam.create_user(UserName="bench")
    iam.put_user_policy(UserName="bench", PolicyName="registry", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["iot:CreateThing", "iot:DescribeThing"],
             "Resource": "arn:aws:iot:*:%s:thing/*" % acct},
            {"Effect": "Deny", "Action": "iot:DeleteThing", "Resource": "*"}]}))
    iam.create_group(GroupName="readers")
    iam.put_group_policy(GroupName="readers", PolicyName="list", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["iot:List*", "iot:Describe*"], "Resource": "*"}]}))
    iam.add_user_to_group(GroupName="readers", UserName="bench")
    iam.attach_user_policy(UserName="bench",
                           PolicyArn="arn:aws:iam::aws:policy/service-role/AWSIoTDeviceDefenderAudit")
    k = iam.create_access_key(UserName="bench")["AccessKey"]
    return k["AccessKeyId"], k["SecretAccessKey"]


def main():
    threads = int(os.environ.get("BENCH_THREADS", "4"))
    iters = int(os.environ.get("BENCH_ITERATIONS", "1500"))
    srv = ddserver.Server().start()
    try:
        root = (srv.key()["aws_access_key_id"], srv.key()["aws_secret_access_key"])
        user = setup_user(srv)
        loadgen(srv.port, root[0], root[1], threads, 50, "warmr")
        loadgen(srv.port, user[0], user[1], threads, 50, "warmu")
        best = {"root": 0.0, "user": 0.0}
        cpu = {"root": [], "user": []}
        # ABBA order, so that the growing registry weighs on both alike
        for rnd, who in enumerate(("root", "user", "user", "root")):
            ak, sk = root if who == "root" else user
            rps, _, us = measured(srv.proc.pid, srv.port, ak, sk, threads, iters, "%s%d" % (who, rnd), "mixed")
            best[who] = max(best[who], rps)
            cpu[who].append(us)
    finally:
        srv.cleanup()
    print("root (no authorization): %.0f requests/s" % best["root"])
    print("IAM user (identity policies evaluated): %.0f requests/s" % best["user"])
    print("user/root throughput ratio: %.3f (authorization cost %.1f %%)"
          % (best["user"] / best["root"], 100.0 * (1 - best["user"] / best["root"])))
    cr, cu = sum(cpu["root"]) / len(cpu["root"]), sum(cpu["user"]) / len(cpu["user"])
    print("server CPU per request: root %.1f us, IAM user %.1f us (authorization cost %.1f %% of the CPU)"
          % (cr, cu, 100.0 * (cu - cr) / cu))


if __name__ == "__main__":
    main()

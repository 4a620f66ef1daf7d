"""The plain program in Python: the benchmark's roles written with boto3,
`--concurrency` roles at a time on threads, against the moto at
AWS_ENDPOINT_URL. The same calls as `bench plain` (bench/aws.rs): AssumeRole
into each member account through OrganizationAccountAccessRole once, then
CreateRole, AttachRolePolicy and PutRolePolicy per role, the roles and
documents as bench/roles.rs makes them. Writes the result as `bench plain`
does, for `bench report` to compare with the Rust SDK's runs.

Run with moto's own Python (.tools/moto/bin/python), which has boto3:

    python bench/plain.py --accounts-file A.json --roles N --concurrency C --out R.json
"""

import argparse
import json
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import boto3
import botocore.config

MANAGED_POLICY = "arn:aws:iam::aws:policy/ReadOnlyAccess"
INLINE_POLICY_NAME = "deny-org-changes"
ACCESS_ROLE = "OrganizationAccountAccessRole"
OWNER_TAG = "awsaccess.dev/owner"
NAMESPACE = "bench"
PLAIN_INSTALLATION = "00000000-0000-4000-8000-000000000000"


def compact(value):
    # serde_json's to_string: no spaces, keys in insertion order.
    return json.dumps(value, separators=(",", ":"))


def role(i, accounts):
    """Role `i` of the benchmark, as bench/roles.rs `role` makes it."""
    members = accounts["members"]
    name = f"bench-{i:05}"
    return {
        "name": name,
        "owner": f"CrossAccountRole/{NAMESPACE}/{name}@{PLAIN_INSTALLATION}",
        "account": members[i % len(members)],
        "description": f"benchmark role {i}",
        "trust": compact(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"AWS": f"arn:aws:iam::{accounts['identity']}:root"},
                        "Action": "sts:AssumeRole",
                    }
                ],
            }
        ),
        "inline": compact(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Deny", "Action": "organizations:*", "Resource": "*"}],
            }
        ),
    }


def cpu_seconds(pid):
    """utime + stime of a process, from /proc (0 without a pid)."""
    if not pid:
        return 0.0
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--accounts-file", required=True)
    parser.add_argument("--roles", type=int, required=True)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--moto-pid", type=int, help="charge the run moto's CPU time too")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    with open(args.accounts_file) as f:
        accounts = json.load(f)
    endpoint = os.environ["AWS_ENDPOINT_URL"]
    region = os.environ.get("AWS_REGION", "us-east-1")
    # Enough connections for every thread, and no retries to hide a failure.
    config = botocore.config.Config(
        max_pool_connections=max(10, args.concurrency),
        retries={"max_attempts": 1, "mode": "standard"},
    )
    # Sessions are not thread-safe; clients are, once made.
    session = boto3.session.Session()
    moto_before = cpu_seconds(args.moto_pid)
    own_before = time.process_time()
    started = time.monotonic()
    sts = session.client("sts", endpoint_url=endpoint, region_name=region, config=config)
    clients = {}
    for account in accounts["members"]:
        credentials = sts.assume_role(
            RoleArn=f"arn:aws:iam::{account}:role/{ACCESS_ROLE}",
            RoleSessionName="bench-plain",
        )["Credentials"]
        clients[account] = session.client(
            "iam",
            endpoint_url=endpoint,
            region_name=region,
            config=config,
            aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials["SessionToken"],
        )
    lock = threading.Lock()
    done = [0]

    def write(i):
        r = role(i, accounts)
        iam = clients[r["account"]]
        iam.create_role(
            RoleName=r["name"],
            Description=r["description"],
            MaxSessionDuration=3600,
            AssumeRolePolicyDocument=r["trust"],
            Tags=[{"Key": OWNER_TAG, "Value": r["owner"]}],
        )
        iam.attach_role_policy(RoleName=r["name"], PolicyArn=MANAGED_POLICY)
        iam.put_role_policy(RoleName=r["name"], PolicyName=INLINE_POLICY_NAME, PolicyDocument=r["inline"])
        with lock:
            done[0] += 1

    with ThreadPoolExecutor(max_workers=args.concurrency) as pool:
        # list() raises the first failure.
        list(pool.map(write, range(args.roles)))
    seconds = time.monotonic() - started
    cpu = {"plain program": time.process_time() - own_before}
    if args.moto_pid:
        cpu["moto"] = cpu_seconds(args.moto_pid) - moto_before
    assert done[0] == args.roles
    n = args.roles
    result = {
        "roles": n,
        "accounts": len(accounts["members"]),
        "concurrency": args.concurrency,
        "seconds": seconds,
        "calls": {
            "AssumeRole": len(accounts["members"]),
            "AttachRolePolicy": n,
            "CreateRole": n,
            "PutRolePolicy": n,
        },
        "language": f"Python (boto3 {boto3.__version__}), threads",
        "cpu": cpu,
    }
    with open(args.out, "w") as f:
        json.dump(result, f, indent=2)


if __name__ == "__main__":
    main()

"""The security review's cost on a large organization: a moto of its own with
`--accounts` member accounts and `--roles` roles spread over them (made with
boto3, straight into moto), then `aws-access-operator report -o json` timed,
with moto's request recorder counting what it read, per operation.

Run with moto's own Python (.tools/moto/bin/python), which has boto3:

    python bench/review.py --binary target/release/aws-access-operator --accounts 10 --roles 1000
"""

import argparse
import base64
import collections
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import parse_qs

import boto3

ACCESS_ROLE = "OrganizationAccountAccessRole"
TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "sts:AssumeRole"}],
    }
)
READ_S3 = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]})


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_moto(tools):
    port = free_port()
    # moto's recorder writes its file into the working directory: a scratch one.
    server = subprocess.Popen(
        [os.path.join(os.path.abspath(tools), "moto", "bin", "moto_server"), "-p", str(port)],
        cwd=tempfile.mkdtemp(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(f"{endpoint}/moto-api/")
            return server, endpoint
        except OSError:
            time.sleep(0.1)
    sys.exit("moto did not start")


def client(service, endpoint, credentials=None):
    keys = credentials or {"AccessKeyId": "testing", "SecretAccessKey": "testing"}
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=keys["AccessKeyId"],
        aws_secret_access_key=keys["SecretAccessKey"],
        aws_session_token=keys.get("SessionToken"),
    )


def organization(endpoint, accounts, roles):
    """Member accounts with `roles` roles spread over them, each with an inline policy."""
    orgs = client("organizations", endpoint)
    orgs.create_organization(FeatureSet="ALL")
    members = []
    for i in range(accounts):
        created = orgs.create_account(AccountName=f"member-{i}", Email=f"member-{i}@example.com")
        members.append(created["CreateAccountStatus"]["AccountId"])
    sts = client("sts", endpoint)

    def fill(index_account):
        index, account = index_account
        assumed = sts.assume_role(RoleArn=f"arn:aws:iam::{account}:role/{ACCESS_ROLE}", RoleSessionName="bench")
        iam = client("iam", endpoint, assumed["Credentials"])
        for r in range(index, roles, accounts):
            iam.create_role(RoleName=f"bench-{r:05}", AssumeRolePolicyDocument=TRUST)
            iam.put_role_policy(RoleName=f"bench-{r:05}", PolicyName="read", PolicyDocument=READ_S3)

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(fill, enumerate(members)))
    return members


def recorded(endpoint):
    """(operation, body) of each request moto recorded."""
    with urllib.request.urlopen(f"{endpoint}/moto-api/recorder/download-recording") as answer:
        lines = answer.read().decode().splitlines()
    calls = []
    for line in lines:
        entry = json.loads(line)
        body = entry.get("body") or ""
        if entry.get("body_encoded"):
            body = base64.b64decode(body).decode(errors="replace")
        headers = {k.lower(): v for k, v in entry.get("headers", {}).items()}
        target = headers.get("x-amz-target", "")
        operation = target.split(".")[-1] if target else parse_qs(body).get("Action", ["?"])[0]
        calls.append((operation, body))
    return calls


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", required=True)
    parser.add_argument("--accounts", type=int, default=10)
    parser.add_argument("--roles", type=int, default=1000)
    parser.add_argument("--tools", default=os.path.join(os.path.dirname(__file__), "..", ".tools"))
    args = parser.parse_args()
    server, endpoint = start_moto(args.tools)
    try:
        members = organization(endpoint, args.accounts, args.roles)
        urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/recorder/start-recording", method="POST"))
        home = tempfile.mkdtemp()
        env = {
            "HOME": home,
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_REGION": "us-east-1",
            "KUBECONFIG": os.path.join(home, "none"),
            "PATH": os.environ.get("PATH", ""),
        }
        started = time.monotonic()
        ran = subprocess.run([args.binary, "report", "-o", "json"], env=env, capture_output=True, text=True)
        seconds = time.monotonic() - started
        urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/recorder/stop-recording", method="POST"))
        if ran.returncode != 0:
            sys.exit(f"report failed: {ran.stderr}")
        report = json.loads(ran.stdout)
        calls = recorded(endpoint)
    finally:
        server.terminate()
    by_operation = collections.Counter(operation for operation, _ in calls)
    assumed = [re.search(r"arn%3Aaws%3Aiam%3A%3A(\d{12})", body) for op, body in calls if op == "AssumeRole"]
    print(json.dumps(
        {
            "accounts": len(members) + 1,
            "roles_made": args.roles,
            "roles_reported": len(report["roles"]),
            "findings": len(report["findings"]),
            "seconds": round(seconds, 2),
            "calls_by_operation": dict(sorted(by_operation.items())),
            "accounts_entered": len({m.group(1) for m in assumed if m}),
        },
        indent=2,
    ))


if __name__ == "__main__":
    main()

#!/usr/bin/env bash
# The operator's main job on embedded defaults, on this machine alone:
# moto (AWS) and kube-testserver (Kubernetes) on loopback, the CRDs and
# examples/ applied with kubectl, the operator running until every object is
# Ready, then both sides printed. --keep leaves it all running.
#
# Locally it ends with `plan` on examples/ (nothing left to change) and
# `report` (who can assume what); --report-svg FILE also writes the report's
# graph there (docs/report.svg is made so).
#
# --cluster kind runs the same flow against the current kubeconfig's cluster,
# where the chart already runs the operator and AWS_ENDPOINT_URL points at
# moto (.github/workflows/e2e.yml). --check fails unless AWS holds exactly
# what the examples ask for (scripts/e2e.sh).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
keep=false
check=false
cluster=local
report_svg=
while [ $# -gt 0 ]; do
  case "$1" in
    --keep) keep=true ;;
    --check) check=true ;;
    --cluster) cluster=${2:-}; shift ;;
    --report-svg) report_svg=${2:-}; shift ;;
    *) echo "usage: $0 [--keep] [--check] [--cluster local|kind] [--report-svg FILE]" >&2; exit 2 ;;
  esac
  shift
done
case "$cluster" in local|kind) ;; *) echo "demo: --cluster is local or kind" >&2; exit 2 ;; esac

scripts/setup.sh
python=.tools/moto/bin/python
# free_port, wait_for_url, the servers' start and the seeding, shared with
# scripts/image.sh; makes $work and $pids.
# shellcheck source=scripts/lib.sh
. scripts/lib.sh
if ! $keep; then trap stop_started EXIT; fi

if [ "$cluster" = local ]; then
  # Both binaries come from this checkout, whatever was built before: the
  # operator is the root package and kube-testserver a second workspace member,
  # so a plain `cargo build --bins` would skip the server.
  echo "demo: building the operator and kube-testserver (the first build takes a few minutes)" >&2
  cargo build --quiet --workspace --bins
  target_dir=$(cargo_target_dir)
  operator_bin="$target_dir/debug/aws-access-operator"
  testserver_bin="$target_dir/debug/kube-testserver"
  start_moto
  # The admission webhook as the chart registers it: its Service routed to
  # the operator's port here, its generated certificate served by the operator.
  webhook_port=$(free_port)
  chart_webhook demo
  start_kube_testserver "$testserver_bin" \
    --service-endpoint "aws-access-operator/demo-aws-access-operator-webhook:443=https://127.0.0.1:$webhook_port"
  use_local_servers
fi
: "${AWS_ENDPOINT_URL:?the AWS endpoint (moto) must be set for --cluster kind}"
export AWS_DEFAULT_REGION="${AWS_DEFAULT_REGION:-${AWS_REGION:-us-east-1}}"
wait_for_url "$AWS_ENDPOINT_URL/moto-api/"

seed_aws
install_crds
if [ "$cluster" = local ]; then
  "$operator_bin" run --metrics-address 127.0.0.1:0 --resync-interval 30s \
    --webhook-cert-dir "$work/webhook-tls" --webhook-address "127.0.0.1:$webhook_port" >"$work/operator.log" 2>&1 &
  pids+=($!)
  kubectl apply -f "$work/webhook-registration.yaml" >/dev/null
fi
kubectl apply -f examples/
if [ "$cluster" = local ]; then
  echo "demo: waiting for every object to be Ready (operator log: $work/operator.log)" >&2
fi
kubectl wait --for=condition=Ready awsaccounts,crossaccountroles,developergroups,partneraccess,organizationalunits,servicecontrolpolicies,iamusers --all -A --timeout=180s >/dev/null

echo
echo "== Kubernetes =="
kubectl get awsaccounts,crossaccountroles,developergroups,partneraccess,organizationalunits,servicecontrolpolicies,iamusers -A
echo
echo "== AWS: the organization's tree, with the service control policies attached =="
"$python" - <<'EOF'
import json, boto3
org = boto3.client("organizations")
attached = {}
for policy in org.list_policies(Filter="SERVICE_CONTROL_POLICY")["Policies"]:
    if policy["AwsManaged"]:
        continue
    for target in org.list_targets_for_policy(PolicyId=policy["Id"])["Targets"]:
        attached.setdefault(target["TargetId"], []).append(policy["Name"])
names = {a["Id"]: a["Name"] for a in org.list_accounts()["Accounts"]}
def show(parent, name, depth):
    scps = f"  SCP {', '.join(attached[parent])}" if parent in attached else ""
    print(f"{'  ' * depth}{name} ({parent}){scps}")
    for child in org.list_children(ParentId=parent, ChildType="ACCOUNT")["Children"]:
        account = child["Id"]
        scps = f"  SCP {', '.join(attached[account])}" if account in attached else ""
        print(f"{'  ' * (depth + 1)}account {names.get(account, account)} ({account}){scps}")
    for unit in org.list_organizational_units_for_parent(ParentId=parent)["OrganizationalUnits"]:
        show(unit["Id"], f"OU {unit['Name']}", depth + 1)
show(org.list_roots()["Roots"][0]["Id"], "root", 0)
for policy in org.list_policies(Filter="SERVICE_CONTROL_POLICY")["Policies"]:
    if policy["AwsManaged"]:
        continue
    content = json.loads(org.describe_policy(PolicyId=policy["Id"])["Policy"]["Content"])
    sids = [statement.get("Sid", "-") for statement in content["Statement"]]
    print(f"SCP {policy['Name']} ({policy['Id']}): Deny {', '.join(sids)}")
EOF
echo
echo "== AWS: roles and who they trust, per account =="
DEMO_CHECK=$check "$python" - <<'EOF'
import json, os, sys, urllib.parse, boto3
org = boto3.client("organizations")
sts = boto3.client("sts")
own = sts.get_caller_identity()["Account"]
seen = {}
def principals_of(doc):
    found = set()
    for statement in doc["Statement"]:
        aws = statement["Principal"]["AWS"]
        found.update(aws if isinstance(aws, list) else [aws])
    return found
def iam_in(account):
    if account == own:
        return boto3.client("iam")
    creds = sts.assume_role(RoleArn=f"arn:aws:iam::{account}:role/OrganizationAccountAccessRole", RoleSessionName="demo")["Credentials"]
    return boto3.client("iam", aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"], aws_session_token=creds["SessionToken"])
for account in org.list_accounts()["Accounts"]:
    iam = iam_in(account["Id"])
    roles = [r for r in iam.list_roles()["Roles"] if any(t["Key"] == "awsaccess.dev/owner" for t in iam.get_role(RoleName=r["RoleName"])["Role"].get("Tags", []))]
    if not roles:
        continue
    print(f"{account['Name']} ({account['Id']})")
    for role in roles:
        doc = role["AssumeRolePolicyDocument"]
        doc = json.loads(urllib.parse.unquote(doc)) if isinstance(doc, str) else doc
        for statement in doc["Statement"]:
            principals = statement["Principal"]["AWS"]
            principals = principals if isinstance(principals, list) else [principals]
            conditions = sorted(k for op in statement.get("Condition", {}).values() for k in op)
            extra = f"  requires {', '.join(conditions)}" if conditions else ""
            print(f"  {role['RoleName']:<16} trusts {', '.join(principals)}{extra}")
        for attached in iam.list_attached_role_policies(RoleName=role["RoleName"])["AttachedPolicies"]:
            arn = attached["PolicyArn"]
            if ":aws:policy/" not in arn:
                tags = {t["Key"]: t["Value"] for t in iam.get_policy(PolicyArn=arn)["Policy"].get("Tags", [])}
                print(f"  {'':<16} policy {attached['PolicyName']} owned by {tags.get('awsaccess.dev/owner')}")
        seen[(account["Name"], role["RoleName"])] = principals_of(doc)
iam = boto3.client("iam")
for group in iam.list_groups()["Groups"]:
    members = [u["UserName"] for u in iam.get_group(GroupName=group["GroupName"])["Users"]]
    print(f"identity account ({own}): group {group['GroupName']} members {', '.join(members)}")
    for name in iam.list_group_policies(GroupName=group["GroupName"])["PolicyNames"]:
        doc = iam.get_group_policy(GroupName=group["GroupName"], PolicyName=name)["PolicyDocument"]
        doc = json.loads(urllib.parse.unquote(doc)) if isinstance(doc, str) else doc
        for statement in doc["Statement"]:
            resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
            print(f"  may {statement['Action']} on {', '.join(resources)}")
if os.environ.get("DEMO_CHECK") == "true":
    ids = {a["Name"]: a["Id"] for a in org.list_accounts()["Accounts"]}
    expected = {
        ("alfie-development", "AlfieFullAccess"): {f"arn:aws:iam::{own}:root"},
        ("alfie-qa", "AlfieDeployment"): {f"arn:aws:iam::{own}:root"},
        ("alfie-production", "AlfieReadOnly"): {f"arn:aws:iam::{own}:root"},
        ("alfie-production", "UpdateProdApp"): {f"arn:aws:iam::{ids['alfie-development']}:root"},
        ("companyx-staging", "SembitAccess"): {"arn:aws:iam::444455556666:root"},
    }
    wrong = {key: seen.get(key) for key, principals in expected.items() if seen.get(key) != principals}
    members = sorted(u["UserName"] for u in iam.get_group(GroupName="alfie-developers")["Users"])
    if wrong or members != ["alice", "bob", "dana"]:
        sys.exit(f"e2e: AWS does not match the examples: roles {wrong}, group members {members}")
    print("e2e: AWS matches the examples")
EOF
echo
echo "== people: a joiner and a leaver (IamUser) =="
echo "joiner dana signs in at $(kubectl get iamuser dana -n alfie -o jsonpath='{.status.signInUrl}')" \
  "as dana, with the first password in Secret alfie/dana-console (key password), changed at first sign-in, then MFA"
"$python" - <<'EOF'
import boto3
iam = boto3.client("iam")
for name in ("dana", "erin"):
    try:
        iam.get_login_profile(UserName=name)
        console = "console password"
    except iam.exceptions.NoSuchEntityException:
        console = "no console password"
    keys = [k["Status"] for k in iam.list_access_keys(UserName=name)["AccessKeyMetadata"]]
    groups = [g["GroupName"] for g in iam.list_groups_for_user(UserName=name)["Groups"]]
    policies = iam.list_user_policies(UserName=name)["PolicyNames"]
    print(f"IAM user {name}: {console}, keys {keys or 'none'}, groups {', '.join(groups) or 'none'}, inline policies {', '.join(policies) or 'none'}")
EOF
echo "leaver erin: state $(kubectl get iamuser erin -n alfie -o jsonpath='{.spec.state}'), console access $(kubectl get iamuser erin -n alfie -o jsonpath='{.status.consoleAccess}'), user kept as $(kubectl get iamuser erin -n alfie -o jsonpath='{.status.userArn}')"
echo
echo "== ~/.aws/config for alfie-developers =="
kubectl get developergroup alfie-developers -n alfie -o jsonpath='{.status.awsConfig}'
echo
echo "== console links (Switch role) for alfie-developers =="
kubectl get developergroup alfie-developers -n alfie \
  -o jsonpath='{range .status.profiles[*]}{.profile}{"  "}{.consoleUrl}{"\n"}{end}'

echo
echo "== guardrails: what alfie-prod does not allow is refused at kubectl apply =="
if kubectl apply -f - 2>&1 <<'EOF'
apiVersion: awsaccess.dev/v1alpha1
kind: CrossAccountRole
metadata: {name: prod-admin, namespace: alfie}
spec:
  account: {name: alfie-prod}
  trust: {developerGroups: [{name: alfie-developers}], requireMfa: true}
  permissions: {managedPolicyArns: [arn:aws:iam::aws:policy/AdministratorAccess]}
EOF
then
  echo "demo: the webhook let a role with AdministratorAccess into alfie-prod" >&2
  exit 1
fi

if [ "$cluster" = local ]; then
  echo
  echo "== plan: examples/ against what they made (exit 0: nothing left to change) =="
  "$operator_bin" plan -f examples/
  echo
  echo "== report: who can assume what, read from AWS =="
  "$operator_bin" report
  if [ -n "$report_svg" ]; then
    "$operator_bin" report -o svg >"$report_svg"
  fi
fi

if $keep; then
  echo
  echo "Still running. Go on with:"
  echo "  export KUBECONFIG=$KUBECONFIG KUBECACHEDIR=$KUBECACHEDIR"
  echo "  export AWS_ENDPOINT_URL=$AWS_ENDPOINT_URL AWS_ACCESS_KEY_ID=demo AWS_SECRET_ACCESS_KEY=demo AWS_REGION=us-east-1"
  echo "Stop with: kill ${pids[*]}"
fi

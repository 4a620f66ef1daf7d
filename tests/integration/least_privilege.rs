//! Issue 11, item 6: the operator's own least privilege, proven. moto runs
//! with IAM enforcement on; the operator signs with the access key of an IAM
//! user that holds `deploy/iam/operator-policy.json` and nothing else, and
//! works inside member accounts as their `OrganizationAccountAccessRole`,
//! which holds only what the operator does there: the policy's statements
//! granted on every role. The end-to-end scenario then becomes Ready, its
//! deletions go through, and a permission taken out of the policy shows up as
//! `Stalled`, reason `AccessDenied`, naming the action.
//!
//! What moto 5.2.5 enforces (moto/core/authorization.py, moto/iam/access_control.py):
//! - After `INITIAL_NO_AUTH_ACTION_COUNT` requests, every IAM, STS and
//!   Organizations request must be SigV4-signed by the access key of an IAM
//!   user (its inline, attached and group policies count) or of an STS
//!   AssumeRole session (the role's inline and attached policies, in the
//!   role's own account, so the access roles of member accounts are
//!   evaluated). `sts:GetCallerIdentity` is always allowed, as in AWS.
//! - Actions: exact names and `*` wildcards, `NotAction`; an explicit Deny wins.
//! - Resources: a request is matched against a resource only when it is
//!   AssumeRole (its `RoleArn`) or names, in `RoleName`, a role that exists;
//!   everything else (groups, users, a role not created yet, Organizations)
//!   is matched against `*`, which no ARN pattern matches. Statements scoped
//!   to ARNs would deny what AWS allows, so the copies given to moto keep
//!   every action and widen every Resource to `*`, but for the AssumeRole
//!   statement, whose scoping moto does check. The actions are proven here;
//!   the resource scoping beyond AssumeRole is not (tests/integration/deploy.rs reads it).
//! - Conditions: only `StringEquals`, and only on values a request carries
//!   (`sts:ExternalId` of AssumeRole); any other condition counts as met.
//!   So of the policy's own conditions none is evaluated here: the owner
//!   tag (`Null` on `aws:RequestTag/…` and `aws:ResourceTag/…`), the
//!   boundary (`ArnEquals`/`ArnEqualsIfExists` on `iam:PermissionsBoundary`)
//!   and the organization (`aws:ResourceOrgID`, a key no request carries in
//!   moto) all count as met; tests/integration/deploy.rs checks they are there. A
//!   conditional Deny would count as met too, hence denying everything: the
//!   policy's one Deny is unconditional, and moto enforces it on a role the
//!   request names (the operator's own role, below).
//! - A role's trust policy is evaluated only for AssumeRole within one
//!   account: the management account assuming a member's role is not checked.
//! - Permissions boundaries, SCPs and session policies are not evaluated.
//!
//! Two departures of moto from AWS, which only a client other than botocore
//! sees, are mended for these tests by tests/integration/support/moto_iam/sitecustomize.py:
//! moto checked a SigV4 signature against the form body re-encoded by Python
//! rather than the bytes received (the SDK for Rust writes a space as %20:
//! every role description with a space was refused), and it worded refusals in
//! a form the SDK cannot read (no code, no message reached the operator).

use std::time::Duration;

use aws_access_operator::api::{AwsAccount, CrossAccountRole, DeveloperGroup, PartnerAccess};
use aws_sdk_iam::config::Credentials;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::api::{Api, DeleteParams, Patch, PatchParams};
use serde_json::{Value, json};

use crate::support::moto::{ACCESS_ROLE, MANAGEMENT_ACCOUNT, Moto};
use crate::support::operator::{Env, adopted_account, test_config};

const OPERATOR_USER: &str = "aws-access-operator";
/// The role the operator runs as in a cluster (IRSA, Pod Identity), by the README's name.
const OPERATOR_ROLE: &str = "aws-access-operator";
/// More unauthenticated requests than the setup makes (about 30); what is
/// left is spent before the operator starts.
const SETUP_REQUESTS: usize = 100;
/// Every request is signed and checked in Python: moto is slower than usual.
const TIMEOUT: Duration = Duration::from_secs(60);

/// Seed 003 (accounts dev, qa and prod, a role in each, a developer group
/// granting them, in the identity account), a partner's role, and an
/// account the operator creates.
const OBJECTS: [(&str, &str, &str); 10] = [
    ("AwsAccount", "", "identity"),
    ("AwsAccount", "", "alfie-dev"),
    ("AwsAccount", "", "alfie-qa"),
    ("AwsAccount", "", "alfie-prod"),
    ("AwsAccount", "", "sandbox"),
    ("CrossAccountRole", "alfie", "alfie-full-access"),
    ("CrossAccountRole", "alfie", "alfie-deployment"),
    ("CrossAccountRole", "alfie", "alfie-read-only"),
    ("DeveloperGroup", "alfie", "alfie-developers"),
    ("PartnerAccess", "partners", "sembit"),
];

fn operator_policy() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/deploy/iam/operator-policy.json");
    let text = std::fs::read_to_string(path).unwrap_or_else(|err| panic!("{path}: {err}"));
    serde_json::from_str(&text).unwrap_or_else(|err| panic!("{path}: {err}"))
}

fn actions(statement: &Value) -> Vec<&str> {
    match &statement["Action"] {
        Value::String(one) => vec![one.as_str()],
        many => many
            .as_array()
            .expect("Action")
            .iter()
            .map(|action| action.as_str().expect("action"))
            .collect(),
    }
}

/// The same actions with every Resource `*`, but AssumeRole's and the
/// Denies' (moto matches a role a request names): what moto can check of the
/// policy (see the top of this file).
fn as_moto_checks(policy: &Value) -> Value {
    let mut policy = policy.clone();
    for statement in policy["Statement"].as_array_mut().expect("Statement") {
        if statement["Effect"] == "Allow" && !actions(statement).contains(&"sts:AssumeRole") {
            statement["Resource"] = json!("*");
        }
    }
    policy
}

/// What the operator does inside member accounts: the statements granted
/// on every role, and the listing of the whole account for its inventory.
fn access_role_policy(policy: &Value) -> Value {
    let on_every_role = |statement: &&Value| match &statement["Resource"] {
        Value::String(one) if one == "*" => actions(statement).iter().all(|action| action.starts_with("iam:")),
        Value::String(one) => one == "arn:aws:iam::*:role/*",
        many => many
            .as_array()
            .is_some_and(|list| list.contains(&json!("arn:aws:iam::*:role/*"))),
    };
    let statements: Vec<Value> = policy["Statement"]
        .as_array()
        .expect("Statement")
        .iter()
        .filter(on_every_role)
        .cloned()
        .collect();
    assert!(!statements.is_empty(), "no statement of the policy acts on roles");
    json!({"Version": "2012-10-17", "Statement": statements})
}

/// A copy of the policy without `action`, which it must grant exactly once;
/// a statement left with no action goes too. Denies stay.
fn without(policy: &Value, action: &str) -> Value {
    let mut removed = 0;
    let statements: Vec<Value> = policy["Statement"]
        .as_array()
        .expect("Statement")
        .iter()
        .filter_map(|statement| {
            if statement["Effect"] != "Allow" {
                return Some(statement.clone());
            }
            let granted = actions(statement);
            let kept: Vec<&str> = granted.iter().copied().filter(|granted| *granted != action).collect();
            removed += granted.len() - kept.len();
            (!kept.is_empty()).then(|| merged(statement, json!({"Action": kept})))
        })
        .collect();
    assert_eq!(removed, 1, "the policy grants {action} once");
    merged(policy, json!({"Statement": statements}))
}

/// `value` with `fields` set.
fn merged(value: &Value, fields: Value) -> Value {
    let mut value = value.clone();
    json_patch::merge(&mut value, &fields);
    value
}

/// moto with IAM enforced after an unauthenticated setup: the organization,
/// the member accounts and their access roles holding `policy`'s role
/// statements, users, and the operator's user holding `policy` with an
/// access key. Returns the operator's view of AWS.
async fn prepare(policy: &Value) -> (Moto, aws_config::SdkConfig, [String; 3]) {
    let moto = Moto::start_enforcing_iam_after(SETUP_REQUESTS).await;
    let root = moto.create_organization().await;
    let admin = moto.sdk_config().await;
    aws_sdk_organizations::Client::new(&admin)
        .create_organizational_unit()
        .parent_id(root)
        .name("Workloads")
        .send()
        .await
        .expect("CreateOrganizationalUnit");
    let mut members = vec![];
    for name in ["alfie-dev", "alfie-qa", "alfie-prod"] {
        let id = moto.create_member_account(name).await;
        moto.member_iam(&id)
            .await
            .put_role_policy()
            .role_name(ACCESS_ROLE)
            .policy_name(OPERATOR_USER)
            .policy_document(as_moto_checks(&access_role_policy(policy)).to_string())
            .send()
            .await
            .expect("PutRolePolicy on the access role");
        members.push(id);
    }
    let iam = aws_sdk_iam::Client::new(&admin);
    for user in ["alice", "bob", OPERATOR_USER] {
        iam.create_user().user_name(user).send().await.expect("CreateUser");
    }
    iam.create_role()
        .role_name(OPERATOR_ROLE)
        .assume_role_policy_document(
            json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "pods.eks.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
                .to_string(),
        )
        .send()
        .await
        .expect("CreateRole of the operator's own role");
    let created = iam
        .create_policy()
        .policy_name(OPERATOR_USER)
        .policy_document(as_moto_checks(policy).to_string())
        .send()
        .await
        .expect("CreatePolicy");
    let policy_arn = created.policy().and_then(|p| p.arn()).expect("policy ARN");
    iam.attach_user_policy()
        .user_name(OPERATOR_USER)
        .policy_arn(policy_arn)
        .send()
        .await
        .expect("AttachUserPolicy");
    let key = iam
        .create_access_key()
        .user_name(OPERATOR_USER)
        .send()
        .await
        .expect("CreateAccessKey");
    let key = key.access_key().expect("access key");
    moto.end_unauthenticated_setup().await;
    let credentials = Credentials::new(key.access_key_id(), key.secret_access_key(), None, None, OPERATOR_USER);
    let operator = moto.sdk_config_with(credentials).await;
    (moto, operator, members.try_into().expect("three member accounts"))
}

fn scenario([dev, qa, prod]: &[String; 3]) -> String {
    let role = |name: &str, account: &str, role: &str, policy: &str, extra: &str| {
        format!(
            r#"
---
apiVersion: awsaccess.dev/v1alpha1
kind: CrossAccountRole
metadata: {{name: {name}, namespace: alfie}}
spec:
  account: {{name: {account}}}
  roleName: {role}
  trust:
    developerGroups: [{{name: alfie-developers}}]
    requireMfa: true
  permissions:
    managedPolicyArns: [arn:aws:iam::aws:policy/{policy}]
{extra}"#
        )
    };
    let account = |name: &str, extra: &str| {
        format!(
            r#"
---
apiVersion: awsaccess.dev/v1alpha1
kind: AwsAccount
metadata: {{name: {name}}}
spec:
  accountName: {name}
  email: {name}@example.com
{extra}"#
        )
    };
    [
        r#"
---
apiVersion: v1
kind: Namespace
metadata: {name: alfie}
---
apiVersion: v1
kind: Namespace
metadata: {name: partners}
"#
        .to_string(),
        format!("---\n{}", adopted_account("identity", "master", MANAGEMENT_ACCOUNT, "")),
        account(
            "alfie-dev",
            &format!(
                r#"
  accountId: "{dev}"
  tags: {{team: alfie}}
  allowedNamespaces: [alfie]
"#
            ),
        ),
        account(
            "alfie-qa",
            &format!(
                r#"
  accountId: "{qa}"
  allowedNamespaces: [alfie, partners]
"#
            ),
        ),
        account(
            "alfie-prod",
            &format!(
                r#"
  accountId: "{prod}"
  organizationalUnit: Workloads
  allowedNamespaces: [alfie]
"#
            ),
        ),
        account("sandbox", "  deletionPolicy: Close\n"),
        role(
            "alfie-full-access",
            "alfie-dev",
            "AlfieFullAccess",
            "AdministratorAccess",
            r#"
    inlinePolicies:
      - name: deny-org-changes
        document: {Version: "2012-10-17", Statement: [{Effect: Deny, Action: "organizations:*", Resource: "*"}]}
  tags: {team: alfie}
"#,
        ),
        role(
            "alfie-deployment",
            "alfie-qa",
            "AlfieDeployment",
            "PowerUserAccess",
            "  description: Deployments to QA\n",
        ),
        role(
            "alfie-read-only",
            "alfie-prod",
            "AlfieReadOnly",
            "ReadOnlyAccess",
            r#"
    permissionsBoundaryArn: arn:aws:iam::aws:policy/ReadOnlyAccess
  maxSessionDuration: 7200
"#,
        ),
        r#"
---
apiVersion: awsaccess.dev/v1alpha1
kind: DeveloperGroup
metadata: {name: alfie-developers, namespace: alfie}
spec:
  members: [alice, bob]
  requireMfa: true
  access:
    - {role: {name: alfie-full-access}, profile: alfie-development}
    - {role: {name: alfie-deployment}, profile: alfie-qa}
    - {role: {name: alfie-read-only}, profile: alfie-production}
  managedPolicyArns: [arn:aws:iam::aws:policy/IAMUserChangePassword]
"#
        .to_string(),
        r#"
---
apiVersion: awsaccess.dev/v1alpha1
kind: PartnerAccess
metadata: {name: sembit, namespace: partners}
spec:
  partner: {name: Sembit, accountId: "444455556666"}
  accounts: [{name: alfie-qa}]
  permissions: {managedPolicyArns: [arn:aws:iam::aws:policy/ReadOnlyAccess]}
"#
        .to_string(),
    ]
    .concat()
}

/// The scenario with the operator running as `policy` says.
async fn run_scenario(policy: &Value) -> (Env, aws_config::SdkConfig) {
    let (moto, operator, members) = prepare(policy).await;
    let env = Env::around(moto, &operator).await.start_operator(test_config());
    env.apply(&scenario(&members)).await;
    (env, operator)
}

fn is(condition: &'static str, reason: Option<&'static str>) -> impl Fn(&[Condition]) -> Option<()> {
    move |holding| {
        holding
            .iter()
            .any(|c| c.type_ == condition && reason.is_none_or(|reason| c.reason == reason))
            .then_some(())
    }
}

async fn until(
    env: &Env,
    (kind, namespace, name): (&str, &str, &str),
    what: &str,
    done: impl Fn(&[Condition]) -> Option<()>,
) {
    env.watch(kind, namespace, name, TIMEOUT, done)
        .await
        .unwrap_or_else(|err| panic!("{kind} {name} not {what}: {err}"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_operator_policy_is_all_the_operator_needs() {
    let (env, operator) = run_scenario(&operator_policy()).await;
    for object in OBJECTS {
        until(&env, object, "Ready", is("Ready", None)).await;
    }

    // Taking things away needs its own permissions: every deletion goes through.
    let roles: Api<CrossAccountRole> = env.api(Some("alfie"));
    let groups: Api<DeveloperGroup> = env.api(Some("alfie"));
    let accounts: Api<AwsAccount> = Api::all(env.client.clone());
    let partners: Api<PartnerAccess> = env.api(Some("partners"));
    let suspend = Patch::Merge(json!({"spec": {"suspended": true}}));
    partners
        .patch("sembit", &PatchParams::default(), &suspend)
        .await
        .expect("suspend");
    groups
        .delete("alfie-developers", &DeleteParams::default())
        .await
        .expect("delete group");
    roles
        .delete("alfie-full-access", &DeleteParams::default())
        .await
        .expect("delete role");
    accounts
        .delete("sandbox", &DeleteParams::default())
        .await
        .expect("delete account");
    let partner = ("PartnerAccess", "partners", "sembit");
    until(&env, partner, "suspended", is("Ready", Some("Suspended"))).await;
    env.eventually("the deleted objects gone, their AWS side removed", async || {
        let gone = groups.get_opt("alfie-developers").await.expect("get").is_none()
            && roles.get_opt("alfie-full-access").await.expect("get").is_none()
            && accounts.get_opt("sandbox").await.expect("get").is_none();
        gone.then_some(())
    })
    .await;

    // The policy's Deny holds whatever its Allows say: with its own
    // credentials the operator cannot widen its own role.
    let widened = aws_sdk_iam::Client::new(&operator)
        .put_role_policy()
        .role_name(OPERATOR_ROLE)
        .policy_name("everything")
        .policy_document(
            json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})
                .to_string(),
        )
        .send()
        .await;
    let refusal = widened.expect_err("the operator widened its own role");
    assert_eq!(
        refusal.as_service_error().and_then(|e| e.meta().code()),
        Some("AccessDenied"),
        "{refusal:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_permission_taken_from_the_policy_stalls_what_needs_it_naming_the_action() {
    // The permission taken away, the objects that need it, and those that
    // wait for one of them: a group grants a role only once the operator
    // holds it (made, if not yet complete).
    let refusals: [(&str, &[&str], &[&str]); 5] = [
        // Without it the operator reads each role and group on its own: slower, never stuck.
        ("iam:GetAccountAuthorizationDetails", &[], &[]),
        ("iam:PutRolePolicy", &["alfie-full-access"], &[]),
        ("iam:PutGroupPolicy", &["alfie-developers"], &[]),
        (
            "sts:AssumeRole",
            &["alfie-full-access", "alfie-deployment", "alfie-read-only", "sembit"],
            &["alfie-developers"],
        ),
        ("organizations:TagResource", &["alfie-dev"], &[]),
    ];
    // Each scenario mostly waits on the operator's retries, not the CPU: side by side.
    futures::future::join_all(refusals.map(|(action, affected, waiting)| refused_without(action, affected, waiting)))
        .await;
}

/// The scenario without `action`: the `affected` objects stalled naming it,
/// those `waiting` for one of them saying so, the rest Ready.
async fn refused_without(action: &str, affected: &[&str], waiting: &[&str]) {
    let (env, _) = run_scenario(&without(&operator_policy(), action)).await;
    let denied = format!("is not authorized to perform: {action}");
    // The roles that cannot become Ready, which those waiting name.
    let unready: Vec<String> = OBJECTS
        .iter()
        .filter(|(kind, _, name)| *kind == "CrossAccountRole" && affected.contains(name))
        .map(|(_, namespace, name)| format!("CrossAccountRole {namespace}/{name} has no role the operator holds yet"))
        .collect();
    for object in OBJECTS {
        if affected.contains(&object.2) {
            let stalled = |holding: &[Condition]| {
                holding
                    .iter()
                    .any(|c| c.type_ == "Stalled" && c.reason == "AccessDenied" && c.message.contains(&denied))
                    .then_some(())
            };
            until(&env, object, &format!("Stalled for want of {action}"), stalled).await;
        } else if waiting.contains(&object.2) {
            let waits = |holding: &[Condition]| {
                holding
                    .iter()
                    .any(|c| {
                        c.type_ == "Reconciling"
                            && c.reason == "ReferenceNotReady"
                            && unready.iter().all(|role| c.message.contains(role))
                    })
                    .then_some(())
            };
            until(
                &env,
                object,
                &format!("waiting for {unready:?} without {action}"),
                waits,
            )
            .await;
        } else {
            until(&env, object, &format!("Ready without {action}"), is("Ready", None)).await;
        }
    }
}

//! Guardrails (issue 22; API.md "Guardrails"): what a namespace may grant in
//! an account. What violates is not granted and the object says which field
//! broke which guardrail; what was granted before a guardrail tightened is
//! removed at the next reconcile, which the AwsAccount's change triggers.
//! AWS is read back with the SDK from moto.

use std::collections::BTreeSet;
use std::time::Duration;

use aws_access_operator::controller::Config;

use crate::support::aws::{create_users, denies_everyone, group_attached_policies, trust_of};
use crate::support::moto::MANAGEMENT_ACCOUNT;
use crate::support::operator::{Env, test_config};

/// A resync far longer than the test: what happens, happens on the events.
const RESYNC: Duration = Duration::from_secs(300);
const ADMIN: &str = "arn:aws:iam::aws:policy/AdministratorAccess";
const READ_ONLY: &str = "arn:aws:iam::aws:policy/ReadOnlyAccess";
const CHANGE_PASSWORD: &str = "arn:aws:iam::aws:policy/IAMUserChangePassword";

fn prod_account(id: &str, guardrails: &str) -> String {
    format!(
        r#"
---
apiVersion: awsaccess.dev/v1alpha1
kind: AwsAccount
metadata: {{name: prod}}
spec:
  accountName: prod
  email: prod@example.com
  accountId: "{id}"
  allowedNamespaces: [alfie]
{guardrails}"#
    )
}

const ROLE: &str = r#"
---
apiVersion: awsaccess.dev/v1alpha1
kind: CrossAccountRole
metadata: {name: operator, namespace: alfie}
spec:
  account: {name: prod}
  roleName: Operator
  maxSessionDuration: 7200
  trust: {accounts: [{id: "123456789012"}]}
  permissions:
    managedPolicyArns: [arn:aws:iam::aws:policy/AdministratorAccess, arn:aws:iam::aws:policy/ReadOnlyAccess]
    inlinePolicies:
      - {name: s3, document: {Version: "2012-10-17", Statement: [{Effect: Allow, Action: "s3:*", Resource: "*"}]}}
      - {name: iam-writes, document: {Version: "2012-10-17", Statement: [{Effect: Allow, Action: "iam:Put*", Resource: "*"}]}}
"#;

/// What IAM holds of the role: attached policies, inline policy names,
/// session length and boundary.
async fn role_in_aws(env: &Env, account: &str) -> Option<(BTreeSet<String>, BTreeSet<String>, i32, Option<String>)> {
    let iam = env.moto.member_iam(account).await;
    let role = iam.get_role().role_name("Operator").send().await.ok()?.role?;
    let attached = iam
        .list_attached_role_policies()
        .role_name("Operator")
        .send()
        .await
        .ok()?;
    let inline = iam.list_role_policies().role_name("Operator").send().await.ok()?;
    Some((
        attached
            .attached_policies()
            .iter()
            .filter_map(|p| p.policy_arn().map(str::to_owned))
            .collect(),
        inline.policy_names().iter().cloned().collect(),
        role.max_session_duration.unwrap_or_default(),
        role.permissions_boundary.and_then(|b| b.permissions_boundary_arn),
    ))
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_guardrail_tightened_on_a_live_account_removes_what_now_violates() {
    let env = Env::without_operator().await.start_operator(Config {
        resync_interval: RESYNC,
        ..test_config()
    });
    env.moto.create_organization().await;
    let prod = env.moto.create_member_account("prod").await;
    env.apply(&format!(
        r#"
apiVersion: v1
kind: Namespace
metadata: {{name: alfie}}
{}{ROLE}"#,
        prod_account(&prod, "")
    ))
    .await;
    env.eventually("the role as its spec asks, with no guardrails", async || {
        let (attached, inline, session, _) = role_in_aws(&env, &prod).await?;
        (attached == set(&[ADMIN, READ_ONLY]) && inline == set(&["s3", "iam-writes"]) && session == 7200).then_some(())
    })
    .await;

    // The platform team tightens the account: one AwsAccount change, no resync needed.
    let boundary = "arn:aws:iam::aws:policy/PowerUserAccess";
    env.apply(&prod_account(
        &prod,
        &format!(
            r#"
  guardrails:
    allowedManagedPolicyArns: ["arn:aws:iam::aws:policy/ReadOnly*"]
    deniedActions: ["iam:*"]
    maxSessionDuration: 3600
    permissionsBoundaryArn: {boundary}
"#
        ),
    ))
    .await;
    env.eventually("what violates removed, the rest kept", async || {
        let (attached, inline, session, set_boundary) = role_in_aws(&env, &prod).await?;
        (attached == set(&[READ_ONLY])
            && inline == set(&["s3"])
            && session == 3600
            && set_boundary.as_deref() == Some(boundary))
        .then_some(())
    })
    .await;
    let said = env
        .stalled_message("CrossAccountRole", "alfie", "operator", "GuardrailViolation")
        .await;
    for expected in [
        "spec.permissions.managedPolicyArns[0]: arn:aws:iam::aws:policy/AdministratorAccess is not in AwsAccount prod's guardrails.allowedManagedPolicyArns",
        "spec.permissions.inlinePolicies[1].document.Statement[0]: Action \"iam:Put*\" allows what AwsAccount prod's guardrails.deniedActions denies (\"iam:*\")",
        "spec.maxSessionDuration: 7200s is longer than the 3600s AwsAccount prod's guardrails.maxSessionDuration allows",
    ] {
        assert!(said.contains(expected), "{expected}\nnot in: {said}");
    }

    // MFA for people: the role's trust does not ask for it, so it trusts nobody.
    env.apply(&prod_account(
        &prod,
        r#"
  guardrails:
    requireMfa: true
"#,
    ))
    .await;
    env.eventually("the role trusts nobody", async || {
        let trust = trust_of(&env, &prod, "Operator").await?;
        denies_everyone(&trust).then_some(())
    })
    .await;
    env.eventually(
        "the permissions come back once the guardrails do not forbid them",
        async || {
            let (attached, inline, session, set_boundary) = role_in_aws(&env, &prod).await?;
            (attached == set(&[ADMIN, READ_ONLY])
                && inline == set(&["s3", "iam-writes"])
                && session == 7200
                && set_boundary.is_none())
            .then_some(())
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_identity_account_never_lets_a_group_give_people_iam_power() {
    let env = Env::without_operator().await.start_operator(Config {
        resync_interval: RESYNC,
        ..test_config()
    });
    env.moto.create_organization().await;
    create_users(&env, &["mallory"]).await;
    let escalating = serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iam:AttachUserPolicy", "Resource": "*"}]});
    let identity_iam = aws_sdk_iam::Client::new(&env.moto.sdk_config().await);
    identity_iam
        .create_policy()
        .policy_name("HelpDesk")
        .policy_document(escalating.to_string())
        .send()
        .await
        .expect("CreatePolicy");
    let help_desk = format!("arn:aws:iam::{MANAGEMENT_ACCOUNT}:policy/HelpDesk");
    env.apply(&format!(
        r#"
apiVersion: v1
kind: Namespace
metadata: {{name: alfie}}
---
apiVersion: awsaccess.dev/v1alpha1
kind: AwsAccount
metadata: {{name: identity}}
spec:
  accountName: master
  email: master@example.com
  accountId: "{MANAGEMENT_ACCOUNT}"
  allowedNamespaces: [alfie]
---
apiVersion: awsaccess.dev/v1alpha1
kind: DeveloperGroup
metadata: {{name: admins, namespace: alfie}}
spec:
  members: [mallory]
  managedPolicyArns: [{ADMIN}, {CHANGE_PASSWORD}, {help_desk}]
"#
    ))
    .await;
    let said = env
        .stalled_message("DeveloperGroup", "alfie", "admins", "GuardrailViolation")
        .await;
    assert!(
        said.contains("spec.managedPolicyArns[0] (arn:aws:iam::aws:policy/AdministratorAccess)"),
        "{said}"
    );
    assert!(
        said.contains(&format!("spec.managedPolicyArns[2] ({help_desk})")),
        "{said}"
    );
    assert!(said.contains("iam:AttachUserPolicy"), "{said}");
    // Only what is free of escalation is attached; the member is in the group.
    env.eventually("only IAMUserChangePassword attached", async || {
        (group_attached_policies(&env, "admins").await == set(&[CHANGE_PASSWORD])).then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_workload_guardrails_reach_aws_as_deny_statements_with_their_condition_keys() {
    let env = Env::without_operator().await.start_operator(Config {
        resync_interval: RESYNC,
        ..test_config()
    });
    env.moto.create_organization().await;
    env.apply(
        r#"
apiVersion: awsaccess.dev/v1alpha1
kind: ServiceControlPolicy
metadata: {name: workloads}
spec:
  policyName: Workloads
  guardrails:
    allowedInstanceTypes: ["t3.*", m6i.large]
    denyIamUsers: true
    protectSecurityServices: true
    requireImdsV2: true
    denyDisablingEbsEncryption: true
  targets: {root: true}
"#,
    )
    .await;
    let organizations = aws_sdk_organizations::Client::new(&env.moto.sdk_config().await);
    let content: serde_json::Value = env
        .eventually("the policy in AWS", async || {
            let listed = organizations
                .list_policies()
                .filter(aws_sdk_organizations::types::PolicyType::ServiceControlPolicy)
                .send()
                .await
                .ok()?;
            let id = listed
                .policies()
                .iter()
                .find(|p| p.name() == Some("Workloads"))?
                .id()?
                .to_owned();
            let described = organizations.describe_policy().policy_id(id).send().await.ok()?;
            serde_json::from_str(described.policy()?.content()?).ok()
        })
        .await;
    let statements = content["Statement"].as_array().expect("statements");
    let by_sid = |sid: &str| {
        statements
            .iter()
            .find(|s| s["Sid"] == sid)
            .unwrap_or_else(|| panic!("{sid} in {content}"))
            .clone()
    };
    let exempt = "arn:aws:iam::*:role/OrganizationAccountAccessRole";
    let types = by_sid("DenyOtherInstanceTypes");
    assert_eq!(types["Effect"], "Deny");
    assert_eq!(
        types["Condition"]["StringNotLike"]["ec2:InstanceType"],
        serde_json::json!(["t3.*", "m6i.large"])
    );
    let imds = by_sid("RequireImdsV2");
    assert_eq!(
        imds["Condition"]["StringNotEquals"]["ec2:MetadataHttpTokens"],
        "required"
    );
    for sid in [
        "DenyIamUsers",
        "ProtectSecurityServices",
        "RequireImdsV2",
        "DenyDisablingEbsEncryption",
    ] {
        assert_eq!(
            by_sid(sid)["Condition"]["ArnNotLike"]["aws:PrincipalArn"],
            exempt,
            "{sid}"
        );
    }
    assert!(
        by_sid("DenyIamUsers")["Action"]
            .as_array()
            .expect("actions")
            .contains(&"iam:CreateUser".into())
    );
    assert_eq!(
        by_sid("DenyDisablingEbsEncryption")["Action"],
        "ec2:DisableEbsEncryptionByDefault"
    );
}

//! OrganizationalUnit and ServiceControlPolicy end to end: manifests applied
//! to kube-testserver, the operator's controllers running, Organizations
//! (moto) read back with the SDK.
//!
//! moto 5.2.5 differs from AWS here, and the tests work around it: it
//! accepts a second OU of the same name under the same parent, deletes an OU
//! that still holds accounts or OUs (and the OUs under it), attaches a
//! service control policy while the policy type is disabled, accepts a
//! detachment of a policy that is not attached and a policy over 5,120
//! characters, and lets any caller enable a policy type (AWS: only the
//! management account; the refusal is injected with the fault double). The
//! operator never relies on AWS refusing any of these.

use std::collections::BTreeSet;
use std::time::Duration;

use aws_access_operator::api::{OrganizationalUnit, ServiceControlPolicy};
use aws_access_operator::aws::AwsErrorKind;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::api::{Api, DeleteParams};
use serde_json::{Value, json};

use crate::support::operator::{Env, condition};

const PATIENCE: Duration = Duration::from_secs(30);
const FULL_AWS_ACCESS: &str = "p-FullAWSAccess";

fn ou(name: &str, spec: &str) -> String {
    format!(
        r#"
---
apiVersion: awsaccess.dev/v1alpha1
kind: OrganizationalUnit
metadata: {{name: {name}}}
spec:
{spec}"#
    )
}

fn scp(name: &str, spec: &str) -> String {
    format!(
        r#"
---
apiVersion: awsaccess.dev/v1alpha1
kind: ServiceControlPolicy
metadata: {{name: {name}}}
spec:
{spec}"#
    )
}

async fn organizations(env: &Env) -> aws_sdk_organizations::Client {
    aws_sdk_organizations::Client::new(&env.moto.sdk_config().await)
}

/// Waits until the condition `kind` holds with `reason`, and returns it.
async fn reports(env: &Env, kind: &str, name: &str, condition_type: &str, reason: &str) -> Condition {
    env.watch(kind, "", name, PATIENCE, |holding| {
        condition(holding, condition_type)
            .filter(|c| c.reason == reason)
            .cloned()
    })
    .await
    .unwrap_or_else(|said| panic!("{kind} {name} never reported {condition_type} {reason}: {said}"))
}

async fn ready(env: &Env, kind: &str, name: &str) -> Condition {
    env.watch(kind, "", name, PATIENCE, |holding| condition(holding, "Ready").cloned())
        .await
        .unwrap_or_else(|said| panic!("{kind} {name} never became Ready: {said}"))
}

fn ous(env: &Env) -> Api<OrganizationalUnit> {
    Api::all(env.client.clone())
}

fn policies(env: &Env) -> Api<ServiceControlPolicy> {
    Api::all(env.client.clone())
}

async fn ou_status(env: &Env, name: &str) -> (String, String) {
    let unit = ous(env).get(name).await.expect("get");
    let status = unit.status.expect("status");
    (status.id.expect("status.id"), status.path.expect("status.path"))
}

async fn create_ou_by_hand(env: &Env, parent: &str, name: &str) -> String {
    let created = organizations(env)
        .await
        .create_organizational_unit()
        .parent_id(parent)
        .name(name)
        .send()
        .await
        .expect("CreateOrganizationalUnit");
    created
        .organizational_unit()
        .and_then(|unit| unit.id())
        .expect("ou id")
        .to_owned()
}

async fn ou_name_in_aws(env: &Env, id: &str) -> Option<String> {
    let described = organizations(env)
        .await
        .describe_organizational_unit()
        .organizational_unit_id(id)
        .send()
        .await
        .ok()?;
    described.organizational_unit()?.name().map(str::to_owned)
}

async fn move_by_hand(env: &Env, account: &str, from: &str, to: &str) {
    organizations(env)
        .await
        .move_account()
        .account_id(account)
        .source_parent_id(from)
        .destination_parent_id(to)
        .send()
        .await
        .expect("MoveAccount");
}

async fn parent_of(env: &Env, id: &str) -> String {
    let parents = organizations(env)
        .await
        .list_parents()
        .child_id(id)
        .send()
        .await
        .expect("ListParents");
    parents.parents()[0].id().expect("parent id").to_owned()
}

async fn targets_of(env: &Env, policy: &str) -> BTreeSet<String> {
    let targets = organizations(env)
        .await
        .list_targets_for_policy()
        .policy_id(policy)
        .send()
        .await
        .expect("ListTargetsForPolicy");
    targets
        .targets()
        .iter()
        .filter_map(|t| t.target_id().map(str::to_owned))
        .collect()
}

/// The policy's document as AWS holds it, or None once it is gone.
async fn content_of(env: &Env, policy: &str) -> Option<Value> {
    let described = organizations(env)
        .await
        .describe_policy()
        .policy_id(policy)
        .send()
        .await
        .ok()?;
    let content = described.policy()?.content()?;
    Some(serde_json::from_str(content).expect("JSON content"))
}

fn sids(content: &Value) -> Vec<&str> {
    content["Statement"]
        .as_array()
        .expect("statements")
        .iter()
        .map(|s| s["Sid"].as_str().unwrap_or_default())
        .collect()
}

/// Waits until the policy reports a correction of drift that `text` names.
/// (Its Events cannot tell: the recorder folds Events of one reason into a
/// series that keeps the first note.)
async fn corrected(env: &Env, name: &str, text: &str) -> String {
    env.watch("ServiceControlPolicy", "", name, PATIENCE, |holding| {
        condition(holding, "Ready")
            .filter(|c| c.reason == "DriftCorrected" && c.message.contains(text))
            .map(|c| c.message.clone())
    })
    .await
    .unwrap_or_else(|said| panic!("{name} never reported DriftCorrected for {text:?}: {said}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ou_tree_is_created_once_and_an_account_placed_in_it_by_path() {
    let env = Env::start().await;
    env.moto.create_organization().await;
    // The account first: it waits for the OU path, which the OUs then make.
    env.apply(
        r#"
---
apiVersion: awsaccess.dev/v1alpha1
kind: AwsAccount
metadata: {name: shop-prod}
spec:
  accountName: shop-prod
  email: shop-prod@example.com
  organizationalUnit: Workloads/Prod
"#,
    )
    .await;
    reports(
        &env,
        "AwsAccount",
        "shop-prod",
        "Reconciling",
        "OrganizationalUnitNotFound",
    )
    .await;
    env.apply(&format!(
        "{}{}",
        ou(
            "workloads-prod",
            r#"
  ouName: Prod
  parent: {name: workloads}
  tags: {env: prod}
"#
        ),
        ou("workloads", "  ouName: Workloads\n")
    ))
    .await;

    ready(&env, "OrganizationalUnit", "workloads-prod").await;
    let (prod, path) = ou_status(&env, "workloads-prod").await;
    assert_eq!(path, "Workloads/Prod");
    let (workloads, _) = ou_status(&env, "workloads").await;
    assert_eq!(parent_of(&env, &prod).await, workloads);
    let arn = ous(&env)
        .get("workloads-prod")
        .await
        .expect("get")
        .status
        .and_then(|s| s.arn);
    assert!(arn.is_some_and(|arn| arn.ends_with(&prod)));

    // The account waited for the path and lands in the OU made by the kind.
    ready(&env, "AwsAccount", "shop-prod").await;
    let accounts: Api<aws_access_operator::api::AwsAccount> = Api::all(env.client.clone());
    let account = accounts.get("shop-prod").await.expect("get");
    let account_id = account.status.and_then(|s| s.account_id).expect("accountId");
    assert_eq!(parent_of(&env, &account_id).await, prod);
    assert_eq!(env.aws.count("CreateOrganizationalUnit"), 2);
    assert_eq!(env.aws.count("CreateAccount"), 1);

    // In sync, a resync reads and writes nothing.
    reports(&env, "OrganizationalUnit", "workloads-prod", "Ready", "InSync").await;
    reports(&env, "OrganizationalUnit", "workloads", "Ready", "InSync").await;
    reports(&env, "AwsAccount", "shop-prod", "Ready", "InSync").await;
    env.aws.clear();
    env.eventually("two resyncs of both OUs", async || {
        (env.aws.count("DescribeOrganizationalUnit") >= 4).then_some(())
    })
    .await;
    assert_eq!(env.aws.writes(), vec![], "an OU tree in sync costs no AWS write");
    assert_eq!(
        env.kubectl(&["get", "ou", "workloads-prod", "-o", "name"]).await.trim(),
        "organizationalunit.awsaccess.dev/workloads-prod"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_existing_ou_is_adopted_only_when_asked_renamed_in_place_and_released_never_deleted() {
    let env = Env::start().await;
    let root = env.moto.create_organization().await;
    let sandbox = create_ou_by_hand(&env, &root, "Sandbox").await;
    let spec = r#"
  ouName: Sandbox
  deletionPolicy: Delete
"#;
    env.apply(&ou("sandbox", spec)).await;

    let refused = reports(&env, "OrganizationalUnit", "sandbox", "Stalled", "AlreadyExists").await;
    assert!(refused.message.contains("adoptExisting"), "{}", refused.message);
    assert_eq!(env.aws.count("CreateOrganizationalUnit"), 0);
    assert_eq!(
        env.aws.writes(),
        vec![],
        "nothing written to an OU the operator did not create"
    );

    env.apply(&ou("sandbox", &format!("{spec}  adoptExisting: true\n")))
        .await;
    ready(&env, "OrganizationalUnit", "sandbox").await;
    assert_eq!(
        ou_status(&env, "sandbox").await,
        (sandbox.clone(), "Sandbox".to_owned())
    );
    assert_eq!(env.aws.count("CreateOrganizationalUnit"), 0);

    // Renamed in place: the same OU, by UpdateOrganizationalUnit.
    env.apply(&ou(
        "sandbox",
        r#"
  ouName: Experiments
  deletionPolicy: Delete
  adoptExisting: true
"#,
    ))
    .await;
    env.eventually("the OU renamed in AWS", async || {
        (ou_name_in_aws(&env, &sandbox).await.as_deref() == Some("Experiments")).then_some(())
    })
    .await;
    reports(&env, "OrganizationalUnit", "sandbox", "Ready", "Updated").await;
    assert_eq!(
        ou_status(&env, "sandbox").await,
        (sandbox.clone(), "Experiments".to_owned())
    );
    assert_eq!(env.aws.count("UpdateOrganizationalUnit"), 1);
    assert_eq!(env.aws.count("CreateOrganizationalUnit"), 0);

    // A child OU under the adopted one.
    env.apply(&ou(
        "trials",
        r#"
  ouName: Trials
  parent: {name: sandbox}
  deletionPolicy: Delete
"#,
    ))
    .await;
    ready(&env, "OrganizationalUnit", "trials").await;
    let (trials, path) = ou_status(&env, "trials").await;
    assert_eq!(path, "Experiments/Trials");

    // Deleted only once empty: an account inside holds the OU the operator
    // created, named in the condition.
    let member = env.moto.create_member_account("lab").await;
    move_by_hand(&env, &member, &root, &trials).await;
    ous(&env)
        .delete("trials", &DeleteParams::default())
        .await
        .expect("delete");
    let waiting = reports(&env, "OrganizationalUnit", "trials", "Reconciling", "NotEmpty").await;
    assert!(
        waiting.message.contains(&format!("still holds accounts {member}")),
        "{}",
        waiting.message
    );
    assert_eq!(env.aws.count("DeleteOrganizationalUnit"), 0);
    move_by_hand(&env, &member, &trials, &root).await;
    env.eventually("the child OU deleted", async || {
        ou_name_in_aws(&env, &trials).await.is_none().then_some(())
    })
    .await;

    // The adopted one is released, whatever deletionPolicy says: kept in
    // AWS, without the owner mark that would let a later object take it.
    ous(&env)
        .delete("sandbox", &DeleteParams::default())
        .await
        .expect("delete");
    env.eventually("the object gone", async || {
        ous(&env).get_opt("sandbox").await.expect("get").is_none().then_some(())
    })
    .await;
    assert_eq!(ou_name_in_aws(&env, &sandbox).await.as_deref(), Some("Experiments"));
    let tags = organizations(&env)
        .await
        .list_tags_for_resource()
        .resource_id(&sandbox)
        .send()
        .await
        .expect("ListTagsForResource");
    assert!(
        tags.tags().iter().all(|tag| tag.key() != "awsaccess.dev/owner"),
        "{:?}",
        tags.tags()
    );
    assert_eq!(env.aws.count("DeleteOrganizationalUnit"), 1, "only the child OU");
}

const BASELINE: &str = r#"
  policyName: WorkloadsBaseline
  description: No leaving the organization, EU regions only
  guardrails:
    denyLeavingOrganization: true
    allowedRegions: [eu-west-1, eu-central-1]
    denyRootUser: true
    protectRoles: [OrganizationAccountAccessRole]
  document:
    Version: "2012-10-17"
    Statement:
      - {Sid: NoBigInstances, Effect: Deny, Action: "ec2:RunInstances", Resource: "*", Condition: {StringLike: {"ec2:InstanceType": ["*.24xlarge"]}}}
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_policy_from_guardrails_is_attached_to_exactly_its_targets_and_every_hand_edit_reverted() {
    let env = Env::start().await;
    let root = env.moto.create_organization().await;
    let member = env.moto.create_member_account("shop-dev").await;
    let full_access_before = targets_of(&env, FULL_AWS_ACCESS).await;
    env.apply(&format!(
        "{}{}",
        ou("workloads", "  ouName: Workloads\n"),
        scp(
            "baseline",
            &format!(
                r#"
{BASELINE}  targets:
    organizationalUnits: [{{name: workloads}}]
    accounts: [{{id: "{member}"}}]
"#
            )
        )
    ))
    .await;

    ready(&env, "ServiceControlPolicy", "baseline").await;
    let (workloads, _) = ou_status(&env, "workloads").await;
    let status = policies(&env)
        .get("baseline")
        .await
        .expect("get")
        .status
        .expect("status");
    let id = status.policy_id.expect("policyId");
    let expected: BTreeSet<String> = [workloads.clone(), member.clone()].into();
    assert_eq!(status.attached_to.iter().cloned().collect::<BTreeSet<_>>(), expected);
    assert_eq!(status.target_count, Some(2));
    assert_eq!(targets_of(&env, &id).await, expected);
    // The type was disabled in the new organization: enabled once, on the root.
    assert_eq!(env.aws.count("EnablePolicyType"), 1);

    let content = content_of(&env, &id).await.expect("the policy");
    assert_eq!(
        sids(&content),
        [
            "DenyLeavingOrganization",
            "DenyOutsideAllowedRegions",
            "DenyRootUser",
            "ProtectRoles",
            "NoBigInstances"
        ]
    );
    let statements = content["Statement"].as_array().expect("statements");
    assert!(statements.iter().all(|s| s["Effect"] == "Deny"));
    assert_eq!(statements[0]["Action"], "organizations:LeaveOrganization");
    assert_eq!(
        statements[1]["Condition"]["StringNotEquals"]["aws:RequestedRegion"],
        json!(["eu-west-1", "eu-central-1"])
    );
    assert!(
        statements[1]["NotAction"]
            .as_array()
            .expect("NotAction")
            .contains(&json!("iam:*"))
    );
    assert_eq!(
        statements[2]["Condition"]["StringLike"]["aws:PrincipalArn"],
        "arn:aws:iam::*:root"
    );
    assert_eq!(
        statements[3]["Resource"],
        json!(["arn:aws:iam::*:role/OrganizationAccountAccessRole"])
    );
    reports(&env, "ServiceControlPolicy", "baseline", "Ready", "InSync").await;
    reports(&env, "OrganizationalUnit", "workloads", "Ready", "InSync").await;
    // In sync, a resync reads and writes nothing: compared by meaning, no diff loop.
    env.aws.clear();
    env.eventually("two resyncs of the policy", async || {
        (env.aws.count("DescribePolicy") >= 2).then_some(())
    })
    .await;
    assert_eq!(env.aws.writes(), vec![], "a policy in sync costs no AWS write");

    // The content changed by hand: put back, by meaning.
    organizations(&env)
        .await
        .update_policy()
        .policy_id(&id)
        .content(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#)
        .send()
        .await
        .expect("UpdatePolicy");
    corrected(&env, "baseline", "update the policy's content").await;
    env.eventually("the content restored", async || {
        (content_of(&env, &id).await == Some(content.clone())).then_some(())
    })
    .await;

    // Detached by hand from the OU, then attached by hand to the root: each undone.
    let hand = organizations(&env).await;
    hand.detach_policy()
        .policy_id(&id)
        .target_id(&workloads)
        .send()
        .await
        .expect("DetachPolicy");
    corrected(&env, "baseline", &format!("attach to {workloads}")).await;
    hand.attach_policy()
        .policy_id(&id)
        .target_id(&root)
        .send()
        .await
        .expect("AttachPolicy");
    corrected(&env, "baseline", &format!("detach from {root}")).await;
    assert_eq!(targets_of(&env, &id).await, expected);
    reports(&env, "ServiceControlPolicy", "baseline", "Ready", "InSync").await;
    assert!(targets_of(&env, FULL_AWS_ACCESS).await.is_superset(&full_access_before));

    // Deletion detaches everywhere, then deletes; FullAWSAccess is never touched.
    policies(&env)
        .delete("baseline", &DeleteParams::default())
        .await
        .expect("delete");
    env.eventually("the object gone", async || {
        policies(&env)
            .get_opt("baseline")
            .await
            .expect("get")
            .is_none()
            .then_some(())
    })
    .await;
    assert_eq!(content_of(&env, &id).await, None, "the policy is deleted in AWS");
    assert!(env.aws.count("DetachPolicy") >= 2);
    let full_access_after = targets_of(&env, FULL_AWS_ACCESS).await;
    assert!(
        full_access_after.is_superset(&full_access_before),
        "FullAWSAccess lost attachments"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_policy_is_refused_before_any_aws_call_and_a_missing_target_never_blocks_the_rest() {
    let env = Env::start().await;
    let root = env.moto.create_organization().await;
    let statements: Vec<String> = (0..120)
        .map(|i| format!("      - {{Sid: Deny{i}, Effect: Deny, Action: \"ec2:RunInstances\", Resource: \"*\"}}\n"))
        .collect();
    env.apply(&scp(
        "huge",
        &format!(
            r#"
  document:
    Version: "2012-10-17"
    Statement:
{}  targets: {{root: true}}
"#,
            statements.concat()
        ),
    ))
    .await;
    let refused = reports(&env, "ServiceControlPolicy", "huge", "Stalled", "InvalidSpec").await;
    assert!(refused.message.contains("characters"), "{}", refused.message);
    assert!(refused.message.contains("5120"), "{}", refused.message);
    assert_eq!(
        env.aws.writes(),
        vec![],
        "nothing written for a policy AWS would refuse"
    );
    assert_eq!(env.aws.count("ListPolicies") + env.aws.count("DescribePolicy"), 0);

    // The policy type cannot be enabled (AWS lets only the management
    // account): Stalled, saying who must; attached once it is.
    env.aws.fail_next("EnablePolicyType", AwsErrorKind::AccessDenied, 1);
    // A target whose object does not exist yet is left out and named; the root is attached meanwhile.
    env.apply(&scp(
        "no-leaving",
        r#"
  guardrails: {denyLeavingOrganization: true}
  targets:
    root: true
    organizationalUnits: [{name: later}]
"#,
    ))
    .await;
    let waiting = reports(
        &env,
        "ServiceControlPolicy",
        "no-leaving",
        "Reconciling",
        "ReferenceNotReady",
    )
    .await;
    assert!(
        waiting.message.contains("OrganizationalUnit later"),
        "{}",
        waiting.message
    );
    let id = policies(&env)
        .get("no-leaving")
        .await
        .expect("get")
        .status
        .and_then(|s| s.policy_id)
        .expect("policyId");
    assert_eq!(targets_of(&env, &id).await, [root.clone()].into());

    env.apply(&ou("later", "  ouName: Later\n")).await;
    // Attached as the spec asked all along: an update, not drift.
    reports(&env, "ServiceControlPolicy", "no-leaving", "Ready", "Updated").await;
    let (later, _) = ou_status(&env, "later").await;
    assert_eq!(targets_of(&env, &id).await, [root, later].into());

    // Observe writes nothing, and reports what Manage would do.
    let observe = r#"
  guardrails: {denyRootUser: true}
  managementPolicy: Observe
  targets: {root: true}
"#;
    env.aws.clear();
    env.apply(&scp("watch-only", observe)).await;
    let observed = env
        .wait_for(&policies(&env), "watch-only", "DriftDetected", |p| {
            p.status.as_ref().is_some_and(|s| {
                condition(&s.reconcile.conditions, "Ready").is_some_and(|c| c.reason == "DriftDetected")
            })
        })
        .await;
    let message = condition(&observed.status.expect("status").reconcile.conditions, "Ready")
        .map(|c| c.message.clone())
        .unwrap_or_default();
    assert!(message.contains("does not exist"), "{message}");
    let written: Vec<_> = env
        .aws
        .writes()
        .into_iter()
        .filter(|c| c.operation == "CreatePolicy")
        .collect();
    assert_eq!(written, vec![]);
}

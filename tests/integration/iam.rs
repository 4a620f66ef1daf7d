//! CrossAccountRole and DeveloperGroup end to end: manifests applied to
//! kube-testserver, the operator's controllers running, AWS (moto) read back
//! with the SDK.

use std::collections::BTreeSet;
use std::time::Duration;

use aws_access_operator::api::{CrossAccountRole, DeveloperGroup};
use aws_access_operator::aws::AwsErrorKind;
use aws_access_operator::controller::Config;
use aws_access_operator::policy::document::{decode_aws_document, equivalent};
use k8s_openapi::api::events::v1::Event;
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams};
use serde_json::{Value, json};

use crate::support::aws::{create_users, identity_iam, trusted_principals};
use crate::support::moto::MANAGEMENT_ACCOUNT;
use crate::support::operator::{Env, condition, ready_is, test_config};

/// The role as IAM holds it in `account`, or None.
async fn role_in(env: &Env, account: &str, name: &str) -> Option<(Value, BTreeSet<String>)> {
    let iam = env.moto.member_iam(account).await;
    let role = match iam.get_role().role_name(name).send().await {
        Ok(found) => found.role.expect("role"),
        Err(err) if err.as_service_error().is_some_and(|e| e.is_no_such_entity_exception()) => return None,
        Err(err) => panic!("GetRole: {err:?}"),
    };
    let trust = decode_aws_document(role.assume_role_policy_document().expect("trust")).expect("trust json");
    let attached = iam
        .list_attached_role_policies()
        .role_name(name)
        .send()
        .await
        // Deleted between the two reads.
        .ok()?;
    let arns = attached
        .attached_policies()
        .iter()
        .filter_map(|p| p.policy_arn().map(String::from))
        .collect();
    Some((trust, arns))
}

fn role_manifest(name: &str, namespace: &str, account: &str, role_name: &str, policy: &str) -> String {
    format!(
        r#"
apiVersion: awsaccess.dev/v1alpha1
kind: CrossAccountRole
metadata: {{name: {name}, namespace: {namespace}}}
spec:
  account: {{id: "{account}"}}
  roleName: {role_name}
  trust:
    developerGroups: [{{name: alfie-developers}}]
  permissions:
    managedPolicyArns: [arn:aws:iam::aws:policy/{policy}]
"#
    )
}

const NAMESPACE: &str = include_str!("../fixtures/alfie-namespace.yaml");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_developer_group_assumes_its_roles_in_each_account_and_loses_its_leavers() {
    let env = Env::start().await;
    env.moto.create_organization().await;
    let dev = env.moto.create_member_account("alfie-dev").await;
    let qa = env.moto.create_member_account("alfie-qa").await;
    let prod = env.moto.create_member_account("alfie-prod").await;
    env.open_accounts(&[("alfie-dev", &dev), ("alfie-qa", &qa), ("alfie-prod", &prod)])
        .await;
    create_users(&env, &["alice", "bob"]).await;

    let manifests = [
        NAMESPACE.to_string(),
        role_manifest(
            "alfie-full-access",
            "alfie",
            &dev,
            "AlfieFullAccess",
            "AdministratorAccess",
        ),
        role_manifest("alfie-deployment", "alfie", &qa, "AlfieDeployment", "PowerUserAccess"),
        role_manifest("alfie-read-only", "alfie", &prod, "AlfieReadOnly", "ReadOnlyAccess"),
        r#"
apiVersion: awsaccess.dev/v1alpha1
kind: DeveloperGroup
metadata: {name: alfie-developers, namespace: alfie}
spec:
  members: [alice, bob]
  access:
    - {role: {name: alfie-full-access}, profile: alfie-development}
    - {role: {name: alfie-deployment}, profile: alfie-qa}
    - {role: {name: alfie-read-only}, profile: alfie-production}
"#
        .to_string(),
    ];
    env.apply(&manifests.join("---\n")).await;

    let roles: Api<CrossAccountRole> = env.api(Some("alfie"));
    let groups: Api<DeveloperGroup> = env.api(Some("alfie"));
    for name in ["alfie-full-access", "alfie-deployment", "alfie-read-only"] {
        env.wait_for(&roles, name, "Ready", |r| {
            r.status.as_ref().is_some_and(|s| {
                ready_is(&s.reconcile.conditions, r.metadata.generation, "True", "Created")
                    || ready_is(&s.reconcile.conditions, r.metadata.generation, "True", "InSync")
            })
        })
        .await;
    }
    let group = env
        .wait_for(&groups, "alfie-developers", "Ready", |g| {
            g.status
                .as_ref()
                .is_some_and(|s| condition(&s.reconcile.conditions, "Ready").is_some_and(|c| c.status == "True"))
        })
        .await;

    // Each role trusts the identity account and carries its permissions.
    for (account, role, policy) in [
        (&dev, "AlfieFullAccess", "AdministratorAccess"),
        (&qa, "AlfieDeployment", "PowerUserAccess"),
        (&prod, "AlfieReadOnly", "ReadOnlyAccess"),
    ] {
        let (trust, attached) = role_in(&env, account, role).await.expect("role exists in its account");
        assert_eq!(
            trusted_principals(&trust),
            BTreeSet::from([format!("arn:aws:iam::{MANAGEMENT_ACCOUNT}:root")])
        );
        assert_eq!(trust["Statement"][0]["Action"], json!("sts:AssumeRole"));
        assert_eq!(attached, BTreeSet::from([format!("arn:aws:iam::aws:policy/{policy}")]));
        assert!(
            role_in(&env, MANAGEMENT_ACCOUNT, role).await.is_none(),
            "{role} only in its own account"
        );
    }

    // The group in the identity account: members and exactly the three role ARNs.
    let iam = identity_iam(&env).await;
    let members = iam
        .get_group()
        .group_name("alfie-developers")
        .send()
        .await
        .expect("GetGroup");
    let names: BTreeSet<&str> = members.users().iter().map(|u| u.user_name()).collect();
    assert_eq!(names, BTreeSet::from(["alice", "bob"]));
    let policy = iam
        .get_group_policy()
        .group_name("alfie-developers")
        .policy_name("awsaccess-assume-roles")
        .send()
        .await
        .expect("policy");
    let document = decode_aws_document(policy.policy_document()).expect("json");
    let resources: BTreeSet<String> = document["Statement"][0]["Resource"]
        .as_array()
        .expect("list")
        .iter()
        .map(|r| r.as_str().unwrap_or_default().to_string())
        .collect();
    let expected: BTreeSet<String> = [
        format!("arn:aws:iam::{dev}:role/AlfieFullAccess"),
        format!("arn:aws:iam::{qa}:role/AlfieDeployment"),
        format!("arn:aws:iam::{prod}:role/AlfieReadOnly"),
    ]
    .into();
    assert_eq!(resources, expected);
    assert_eq!(document["Statement"][0]["Action"], json!("sts:AssumeRole"));

    let status = group.status.expect("status");
    let config = status.aws_config.expect("awsConfig");
    assert!(config.contains(&format!("[profile alfie-development]\nrole_arn = arn:aws:iam::{dev}:role/AlfieFullAccess\nsource_profile = default\n")), "{config}");
    assert!(config.contains("[profile alfie-production]"), "{config}");
    assert_eq!(status.members, ["alice", "bob"]);
    // Switch-role links open each role in its account, named after the profile.
    let links: Vec<(&str, Option<&str>)> = status
        .profiles
        .iter()
        .map(|profile| (profile.profile.as_str(), profile.console_url.as_deref()))
        .collect();
    let link = |role: &str, account: &str, display: &str| {
        format!("https://signin.aws.amazon.com/switchrole?roleName={role}&account={account}&displayName={display}")
    };
    let expected = [
        ("alfie-development", link("AlfieFullAccess", &dev, "alfie-development")),
        ("alfie-qa", link("AlfieDeployment", &qa, "alfie-qa")),
        ("alfie-production", link("AlfieReadOnly", &prod, "alfie-production")),
    ];
    let expected: Vec<(&str, Option<&str>)> = expected.iter().map(|(p, l)| (*p, Some(l.as_str()))).collect();
    assert_eq!(links, expected);
    let full_access = roles
        .get("alfie-full-access")
        .await
        .expect("get")
        .status
        .expect("status");
    assert_eq!(
        full_access.console_url,
        Some(link("AlfieFullAccess", &dev, &format!("AlfieFullAccess%20%40%20{dev}")))
    );

    // In sync, a resync reads each of the four accounts whole, no role or
    // group on its own, and writes nothing.
    env.aws.clear();
    env.eventually("two resync rounds", async || {
        (env.aws.count("GetAccountAuthorizationDetails") >= 8).then_some(())
    })
    .await;
    assert_eq!(env.aws.writes(), vec![], "a resource in sync costs no AWS write");
    assert_eq!(
        (
            env.aws.count("GetRole"),
            env.aws.count("GetGroup"),
            env.aws.count("GetUser")
        ),
        (0, 0, 0),
        "resyncs read the accounts' inventories"
    );

    // A leaver is removed from the group.
    env.apply(include_str!("../fixtures/alfie-developers-without-bob.yaml"))
        .await;
    env.eventually("bob removed in AWS", async || {
        let group = iam
            .get_group()
            .group_name("alfie-developers")
            .send()
            .await
            .expect("GetGroup");
        (group.users().iter().map(|u| u.user_name()).collect::<Vec<_>>() == ["alice"]).then_some(())
    })
    .await;

    // Deleting the objects deletes the roles (with their policies) and the group.
    groups
        .delete("alfie-developers", &DeleteParams::default())
        .await
        .expect("delete group");
    roles
        .delete("alfie-full-access", &DeleteParams::default())
        .await
        .expect("delete role");
    env.eventually("group deleted in AWS", async || {
        iam.get_group()
            .group_name("alfie-developers")
            .send()
            .await
            .is_err()
            .then_some(())
    })
    .await;
    env.eventually("role deleted in AWS", async || {
        role_in(&env, &dev, "AlfieFullAccess").await.is_none().then_some(())
    })
    .await;
    env.eventually("objects gone", async || {
        (groups.get_opt("alfie-developers").await.expect("get").is_none()
            && roles.get_opt("alfie-full-access").await.expect("get").is_none())
        .then_some(())
    })
    .await;
    assert!(
        role_in(&env, &qa, "AlfieDeployment").await.is_some(),
        "other roles untouched"
    );
}

/// A role `deployer` in `dev` trusting the management account, created and Ready.
async fn deployer_created(env: &Env, dev: &str) -> Api<CrossAccountRole> {
    env.apply(&format!(
        r#"
{NAMESPACE}---
apiVersion: awsaccess.dev/v1alpha1
kind: CrossAccountRole
metadata: {{name: deployer, namespace: alfie}}
spec:
  account: {{id: "{dev}"}}
  trust: {{accounts: [{{id: "{MANAGEMENT_ACCOUNT}"}}]}}
  permissions: {{managedPolicyArns: [arn:aws:iam::aws:policy/ReadOnlyAccess]}}
"#
    ))
    .await;
    let roles: Api<CrossAccountRole> = env.api(Some("alfie"));
    env.wait_for(&roles, "deployer", "Ready", |r| {
        r.status
            .as_ref()
            .is_some_and(|s| ready_is(&s.reconcile.conditions, r.metadata.generation, "True", "Created"))
    })
    .await;
    roles
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drift_made_in_aws_is_reverted_and_reported() {
    let env = Env::start().await;
    env.moto.create_organization().await;
    let dev = env.moto.create_member_account("dev").await;
    env.open_accounts(&[("dev", &dev)]).await;
    // Settled before the role is made: each change of an AwsAccount reconciles
    // the role again, which would say InSync where the test reads Created.
    env.wait_settled(&["identity", "dev"]).await;
    let roles = deployer_created(&env, &dev).await;

    // Someone edits the role in the console.
    let iam = env.moto.member_iam(&dev).await;
    let open = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::999999999999:root"}, "Action": "sts:AssumeRole"}]});
    iam.update_assume_role_policy()
        .role_name("deployer")
        .policy_document(open.to_string())
        .send()
        .await
        .expect("edit trust");
    iam.attach_role_policy()
        .role_name("deployer")
        .policy_arn("arn:aws:iam::aws:policy/AdministratorAccess")
        .send()
        .await
        .expect("attach");

    let (trust, attached) = env
        .eventually("drift reverted", async || {
            let (trust, attached) = role_in(&env, &dev, "deployer").await?;
            (trusted_principals(&trust) == BTreeSet::from([format!("arn:aws:iam::{MANAGEMENT_ACCOUNT}:root")])
                && attached.len() == 1)
                .then_some((trust, attached))
        })
        .await;
    assert_eq!(
        attached,
        BTreeSet::from(["arn:aws:iam::aws:policy/ReadOnlyAccess".to_string()])
    );
    assert_eq!(trust["Statement"].as_array().map(Vec::len), Some(1));
    let role = env
        .wait_for(&roles, "deployer", "DriftCorrected", |r| {
            r.status
                .as_ref()
                .is_some_and(|s| ready_is(&s.reconcile.conditions, r.metadata.generation, "True", "DriftCorrected"))
        })
        .await;
    let message = condition(&role.status.expect("status").reconcile.conditions, "Ready")
        .expect("ready")
        .message
        .clone();
    assert!(
        message.contains("detach arn:aws:iam::aws:policy/AdministratorAccess"),
        "{message}"
    );
    let events: Api<Event> = Api::namespaced(env.client.clone(), "alfie");
    let drift_events = events
        .list(&ListParams::default())
        .await
        .expect("events")
        .items
        .into_iter()
        .filter(|e| e.reason.as_deref() == Some("DriftCorrected"))
        .count();
    assert!(drift_events >= 1, "a DriftCorrected Event is recorded");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_planned_from_the_inventory_is_read_fresh_before_it_is_written() {
    let env = Env::without_operator().await;
    env.moto.create_organization().await;
    let dev = env.moto.create_member_account("dev").await;
    env.open_accounts(&[("dev", &dev)]).await;
    // Resyncs an hour apart: only the spec change below reconciles the role again.
    let env = env.start_operator(Config {
        resync_interval: Duration::from_secs(3600),
        ..test_config()
    });
    // Active before the role is made: an account becoming Active reconciles
    // the role again, which would say InSync where the test reads Created.
    env.wait_active(&["identity", "dev"]).await;
    let roles = deployer_created(&env, &dev).await;

    // A policy attached by hand, which the account's inventory (read before
    // the role was created) cannot show; then a change to the spec.
    let iam = env.moto.member_iam(&dev).await;
    iam.attach_role_policy()
        .role_name("deployer")
        .policy_arn("arn:aws:iam::aws:policy/AdministratorAccess")
        .send()
        .await
        .expect("attach");
    env.aws.clear();
    let described = json!({"spec": {"description": "Deploys the app"}});
    roles
        .patch("deployer", &PatchParams::default(), &Patch::Merge(&described))
        .await
        .expect("patch");

    env.eventually("the change and the revert of the hand-attached policy", async || {
        let (_, attached) = role_in(&env, &dev, "deployer").await?;
        let role = iam.get_role().role_name("deployer").send().await.ok()?.role?;
        (role.description() == Some("Deploys the app") && attached.len() == 1).then_some(())
    })
    .await;
    let writes: BTreeSet<&str> = env.aws.writes().iter().map(|call| call.operation).collect();
    assert_eq!(writes, BTreeSet::from(["UpdateRole", "DetachRolePolicy"]));
    assert_eq!(
        (
            env.aws.count("GetRole"),
            env.aws.count("GetAccountAuthorizationDetails")
        ),
        (1, 0),
        "planned from the inventory, confirmed by one read of the role"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn observe_mode_reports_drift_and_writes_nothing() {
    let env = Env::start().await;
    env.moto.create_organization().await;
    let dev = env.moto.create_member_account("dev").await;
    env.open_accounts(&[("dev", &dev)]).await;
    let iam = env.moto.member_iam(&dev).await;
    let existing = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "sts:AssumeRole"}]});
    iam.create_role()
        .role_name("Legacy")
        .assume_role_policy_document(existing.to_string())
        .send()
        .await
        .expect("CreateRole");

    env.apply(&format!(
        r#"
{NAMESPACE}---
apiVersion: awsaccess.dev/v1alpha1
kind: CrossAccountRole
metadata: {{name: legacy, namespace: alfie}}
spec:
  account: {{id: "{dev}"}}
  roleName: Legacy
  managementPolicy: Observe
  trust: {{accounts: [{{id: "{MANAGEMENT_ACCOUNT}"}}]}}
"#
    ))
    .await;
    let roles: Api<CrossAccountRole> = env.api(Some("alfie"));
    let role = env
        .wait_for(&roles, "legacy", "DriftDetected", |r| {
            r.status
                .as_ref()
                .is_some_and(|s| ready_is(&s.reconcile.conditions, r.metadata.generation, "False", "DriftDetected"))
        })
        .await;
    let message = condition(&role.status.expect("status").reconcile.conditions, "Ready")
        .expect("ready")
        .message
        .clone();
    assert!(message.contains("update the trust policy"), "{message}");
    assert_eq!(env.aws.writes(), vec![], "Observe writes nothing");
    let (trust, _) = role_in(&env, &dev, "Legacy").await.expect("role");
    assert_eq!(
        trusted_principals(&trust),
        BTreeSet::from(["arn:aws:iam::111122223333:root".to_string()])
    );

    // Deleting an observed object leaves the role.
    roles.delete("legacy", &DeleteParams::default()).await.expect("delete");
    env.eventually("object gone", async || {
        roles.get_opt("legacy").await.expect("get").is_none().then_some(())
    })
    .await;
    assert!(role_in(&env, &dev, "Legacy").await.is_some());
    assert_eq!(env.aws.writes(), vec![]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_a_clear_condition_and_no_aws_write() {
    let env = Env::start().await;
    env.moto.create_organization().await;
    let dev = env.moto.create_member_account("dev").await;
    env.open_accounts(&[("dev", &dev)]).await;
    let role = |name: &str, body: &str| {
        format!(
            r#"
---
apiVersion: awsaccess.dev/v1alpha1
kind: CrossAccountRole
metadata: {{name: {name}, namespace: alfie}}
spec:
  account: {{id: "{dev}"}}
{body}"#
        )
    };
    let huge = "x".repeat(11_000);
    let manifests = [
        NAMESPACE.to_string(),
        r#"
---
apiVersion: v1
kind: Secret
metadata: {name: wrong-key, namespace: alfie, labels: {awsaccess.dev/external-id: "true"}}
stringData: {somethingElse: abcdefgh12345678}
"#
        .to_string(),
        role(
            "not-a-policy",
            &format!(
                r#"
  trust: {{accounts: [{{id: "{MANAGEMENT_ACCOUNT}"}}]}}
  permissions:
    inlinePolicies: [{{name: p, document: {{Version: "2012-10-17", Statement: [{{Effect: Maybe, Action: "s3:*", Resource: "*"}}]}}}}]
"#
            ),
        ),
        role(
            "too-big",
            &format!(
                r#"
  trust: {{accounts: [{{id: "{MANAGEMENT_ACCOUNT}"}}]}}
  permissions:
    inlinePolicies: [{{name: p, document: {{Version: "2012-10-17", Statement: [{{Effect: Deny, Action: "s3:*", Resource: "arn:aws:s3:::{huge}"}}]}}}}]
"#
            ),
        ),
        role(
            "group-principal",
            &format!("  trust: {{principals: [\"arn:aws:iam::{MANAGEMENT_ACCOUNT}:group/developers\"]}}\n"),
        ),
        role("no-such-group", "  trust: {developerGroups: [{name: nobody}]}\n"),
        role(
            "secret-without-key",
            &format!(
                r#"
  trust:
    accounts: [{{id: "{MANAGEMENT_ACCOUNT}"}}]
    externalIdSecretRef: {{name: wrong-key, key: externalId}}
"#
            ),
        ),
    ];
    env.apply(&manifests.concat()).await;
    let roles: Api<CrossAccountRole> = env.api(Some("alfie"));
    let expectations = [
        (
            "not-a-policy",
            "Stalled",
            "InvalidSpec",
            "spec.permissions.inlinePolicies[0].document",
        ),
        ("too-big", "Stalled", "InvalidSpec", "spec.permissions.inlinePolicies"),
        ("group-principal", "Stalled", "InvalidSpec", "spec.trust.principals[0]"),
        (
            "no-such-group",
            "Reconciling",
            "ReferenceNotReady",
            "spec.trust.developerGroups[0]: DeveloperGroup nobody does not exist",
        ),
        (
            "secret-without-key",
            "Stalled",
            "InvalidSpec",
            "Secret wrong-key has no key externalId",
        ),
    ];
    for (name, kind, reason, text) in expectations {
        let role = env
            .wait_for(&roles, name, reason, |r| {
                r.status
                    .as_ref()
                    .and_then(|s| condition(&s.reconcile.conditions, kind).cloned())
                    .is_some_and(|c| c.status == "True" && c.reason == reason && c.message.contains(text))
            })
            .await;
        let conditions = role.status.expect("status").reconcile.conditions;
        let message = &condition(&conditions, kind).expect("condition").message;
        assert!(message.contains(text), "{name}: {message}");
        assert_eq!(condition(&conditions, "Ready").expect("ready").status, "False");
        assert!(!message.contains("abcdefgh12345678"), "secrets never in status");
    }
    let writes = env.aws.writes();
    assert_eq!(writes, vec![], "nothing half-written in AWS");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roles_the_operator_did_not_create_are_never_touched_unless_adopted() {
    let env = Env::start().await;
    env.moto.create_organization().await;
    let dev = env.moto.create_member_account("dev").await;
    // Adoption is the platform team's decision, made on the account.
    env.open_accounts_with(&[("dev", &dev)], "  guardrails: {allowAdoption: true}\n")
        .await;
    let iam = env.moto.member_iam(&dev).await;
    let foreign = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "sts:AssumeRole"}]});
    for name in ["Foreign", "Adoptee"] {
        iam.create_role()
            .role_name(name)
            .assume_role_policy_document(foreign.to_string())
            .send()
            .await
            .expect("CreateRole");
    }
    let role = |object: &str, role_name: &str, adopt: bool| {
        format!(
            r#"
---
apiVersion: awsaccess.dev/v1alpha1
kind: CrossAccountRole
metadata: {{name: {object}, namespace: alfie}}
spec:
  account: {{id: "{dev}"}}
  roleName: {role_name}
  adoptExisting: {adopt}
  trust: {{accounts: [{{id: "{MANAGEMENT_ACCOUNT}"}}]}}
"#
        )
    };
    env.apply(
        &[
            NAMESPACE.to_string(),
            role("foreign", "Foreign", false),
            role("adopter", "Adoptee", true),
        ]
        .concat(),
    )
    .await;
    let roles: Api<CrossAccountRole> = env.api(Some("alfie"));
    env.wait_for(&roles, "foreign", "AlreadyExists", |r| {
        r.status
            .as_ref()
            .and_then(|s| condition(&s.reconcile.conditions, "Stalled").cloned())
            .is_some_and(|c| c.reason == "AlreadyExists")
    })
    .await;
    env.wait_for(&roles, "adopter", "adopted", |r| {
        r.status.as_ref().is_some_and(|s| {
            ready_is(&s.reconcile.conditions, r.metadata.generation, "True", "Updated")
                || ready_is(&s.reconcile.conditions, r.metadata.generation, "True", "InSync")
        })
    })
    .await;
    let (trust, _) = role_in(&env, &dev, "Foreign").await.expect("foreign role");
    assert_eq!(trust, foreign, "a foreign role is untouched");
    let (trust, _) = role_in(&env, &dev, "Adoptee").await.expect("adopted role");
    assert_eq!(
        trusted_principals(&trust),
        BTreeSet::from([format!("arn:aws:iam::{MANAGEMENT_ACCOUNT}:root")])
    );

    // A second object naming the adopted role is refused, not a tug-of-war.
    env.apply(&role("second", "Adoptee", true)).await;
    env.wait_for(&roles, "second", "AlreadyManaged", |r| {
        r.status
            .as_ref()
            .and_then(|s| condition(&s.reconcile.conditions, "Stalled").cloned())
            .is_some_and(|c| c.reason == "AlreadyManaged")
    })
    .await;

    // Deleting the refused object leaves the foreign role alone.
    roles.delete("foreign", &DeleteParams::default()).await.expect("delete");
    env.eventually("object gone", async || {
        roles.get_opt("foreign").await.expect("get").is_none().then_some(())
    })
    .await;
    assert!(role_in(&env, &dev, "Foreign").await.is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_account_that_does_not_allow_the_namespace_is_refused() {
    let env = Env::start().await;
    env.moto.create_organization().await;
    let dev = env.moto.create_member_account("dev").await;
    env.apply(&format!(
        r#"
{NAMESPACE}---
apiVersion: awsaccess.dev/v1alpha1
kind: AwsAccount
metadata: {{name: platform-dev}}
spec:
  accountName: platform-dev
  email: platform-dev@example.com
  accountId: "{dev}"
  allowedNamespaces: [platform]
---
apiVersion: awsaccess.dev/v1alpha1
kind: CrossAccountRole
metadata: {{name: sneaky, namespace: alfie}}
spec:
  account: {{name: platform-dev}}
  trust: {{accounts: [{{id: "{MANAGEMENT_ACCOUNT}"}}]}}
"#
    ))
    .await;
    let roles: Api<CrossAccountRole> = env.api(Some("alfie"));
    let role = env
        .wait_for(&roles, "sneaky", "NamespaceNotAllowed", |r| {
            r.status
                .as_ref()
                .and_then(|s| condition(&s.reconcile.conditions, "Stalled").cloned())
                .is_some_and(|c| c.reason == "NamespaceNotAllowed")
        })
        .await;
    let message = condition(&role.status.expect("status").reconcile.conditions, "Stalled")
        .expect("stalled")
        .message
        .clone();
    assert!(message.contains("does not allow namespace alfie"), "{message}");
    assert_eq!(env.aws.writes(), vec![]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_roles_trust_requires_mfa_and_the_external_id_its_secret_holds() {
    let env = Env::start().await;
    env.moto.create_organization().await;
    let prod = env.moto.create_member_account("prod").await;
    let dev = env.moto.create_member_account("dev").await;
    env.open_accounts(&[("prod", &prod), ("dev", &dev)]).await;
    // Settled before the role is made: each change of an AwsAccount reconciles
    // the role again, which would say InSync where the test reads Created.
    env.wait_settled(&["identity", "prod", "dev"]).await;
    let secret = |value: &str| {
        format!(
            r#"
---
apiVersion: v1
kind: Secret
metadata: {{name: prod-external-id, namespace: alfie, labels: {{awsaccess.dev/external-id: "true"}}}}
stringData: {{externalId: {value}}}
"#
        )
    };
    env.apply(&format!(
        r#"
{NAMESPACE}{}---
apiVersion: awsaccess.dev/v1alpha1
kind: CrossAccountRole
metadata: {{name: update-prod-app, namespace: alfie}}
spec:
  account: {{id: "{prod}"}}
  roleName: UpdateProdApp
  trust:
    accounts: [{{id: "{dev}"}}]
    requireMfa: true
    externalIdSecretRef: {{name: prod-external-id}}
"#,
        secret("first-external-id-0123456789")
    ))
    .await;
    let roles: Api<CrossAccountRole> = env.api(Some("alfie"));
    env.wait_for(&roles, "update-prod-app", "Ready", |r| {
        r.status
            .as_ref()
            .is_some_and(|s| ready_is(&s.reconcile.conditions, r.metadata.generation, "True", "Created"))
    })
    .await;
    let (trust, _) = role_in(&env, &prod, "UpdateProdApp").await.expect("role");
    let statement = &trust["Statement"][0];
    assert_eq!(
        trusted_principals(&trust),
        BTreeSet::from([format!("arn:aws:iam::{dev}:root")])
    );
    assert_eq!(
        statement["Condition"]["StringEquals"]["sts:ExternalId"],
        "first-external-id-0123456789"
    );
    assert_eq!(statement["Condition"]["Bool"]["aws:MultiFactorAuthPresent"], "true");

    env.apply(&secret("second-external-id-0123456789")).await;
    env.eventually("trust follows the Secret", async || {
        let (trust, _) = role_in(&env, &prod, "UpdateProdApp").await?;
        (trust["Statement"][0]["Condition"]["StringEquals"]["sts:ExternalId"] == "second-external-id-0123456789")
            .then_some(())
    })
    .await;
    let role = roles.get("update-prod-app").await.expect("get");
    let status = serde_json::to_string(&role.status).expect("json");
    assert!(
        !status.contains("external-id-0123456789"),
        "the external ID never appears in status"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn members_trust_names_each_member_and_follows_the_group() {
    let env = Env::start().await;
    env.moto.create_organization().await;
    let dev = env.moto.create_member_account("dev").await;
    env.open_accounts(&[("dev", &dev)]).await;
    create_users(&env, &["alice", "bob"]).await;
    let group = |members: &str| {
        format!(
            r#"
---
apiVersion: awsaccess.dev/v1alpha1
kind: DeveloperGroup
metadata: {{name: alfie-developers, namespace: alfie}}
spec:
  members: [{members}]
  access: [{{role: {{name: break-glass}}}}]
"#
        )
    };
    env.apply(&format!(
        r#"
{NAMESPACE}{}---
apiVersion: awsaccess.dev/v1alpha1
kind: CrossAccountRole
metadata: {{name: break-glass, namespace: alfie}}
spec:
  account: {{id: "{dev}"}}
  roleName: BreakGlass
  trust:
    developerGroups: [{{name: alfie-developers}}]
    developerGroupTrust: Members
"#,
        group("alice, bob, ghost")
    ))
    .await;
    let member = |user: &str| format!("arn:aws:iam::{MANAGEMENT_ACCOUNT}:user/{user}");
    env.eventually("both members trusted", async || {
        let (trust, _) = role_in(&env, &dev, "BreakGlass").await?;
        (trusted_principals(&trust) == BTreeSet::from([member("alice"), member("bob")])).then_some(())
    })
    .await;
    let groups: Api<DeveloperGroup> = env.api(Some("alfie"));
    let reported = env
        .wait_for(&groups, "alfie-developers", "MissingUsers", |g| {
            g.status
                .as_ref()
                .and_then(|s| condition(&s.reconcile.conditions, "Ready").cloned())
                .is_some_and(|c| c.reason == "MissingUsers")
        })
        .await;
    assert_eq!(reported.status.expect("status").missing_users, ["ghost"]);

    env.apply(&group("alice")).await;
    env.eventually("bob no longer trusted", async || {
        let (trust, _) = role_in(&env, &dev, "BreakGlass").await?;
        (trusted_principals(&trust) == BTreeSet::from([member("alice")])).then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttling_is_reported_and_retried() {
    let env = Env::start().await;
    env.moto.create_organization().await;
    let dev = env.moto.create_member_account("dev").await;
    env.open_accounts(&[("dev", &dev)]).await;
    // Settled before the role is made: each change of an AwsAccount reconciles
    // the role again, which would say InSync where the test reads Created.
    env.wait_settled(&["identity", "dev"]).await;
    env.aws.fail_next("CreateRole", AwsErrorKind::Throttled, 2);
    env.apply(&format!(
        r#"
{NAMESPACE}---
apiVersion: awsaccess.dev/v1alpha1
kind: CrossAccountRole
metadata: {{name: patient, namespace: alfie}}
spec:
  account: {{id: "{dev}"}}
  trust: {{accounts: [{{id: "{MANAGEMENT_ACCOUNT}"}}]}}
"#
    ))
    .await;
    let roles: Api<CrossAccountRole> = env.api(Some("alfie"));
    env.wait_for(&roles, "patient", "Throttled", |r| {
        r.status
            .as_ref()
            .and_then(|s| condition(&s.reconcile.conditions, "Reconciling").cloned())
            .is_some_and(|c| c.status == "True" && c.reason == "Throttled")
    })
    .await;
    env.wait_for(&roles, "patient", "Ready", |r| {
        r.status
            .as_ref()
            .is_some_and(|s| ready_is(&s.reconcile.conditions, r.metadata.generation, "True", "Created"))
    })
    .await;
    assert!(role_in(&env, &dev, "patient").await.is_some());
    let patch = Patch::Merge(json!({"spec": {"description": "now described"}}));
    roles
        .patch("patient", &PatchParams::default(), &patch)
        .await
        .expect("patch");
    env.wait_for(&roles, "patient", "Updated", |r| {
        r.status
            .as_ref()
            .is_some_and(|s| ready_is(&s.reconcile.conditions, r.metadata.generation, "True", "Updated"))
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aws_refusals_stall_and_unready_principals_are_retried() {
    let env = Env::start().await;
    env.moto.create_organization().await;
    let dev = env.moto.create_member_account("dev").await;
    // The role comes to trust 111122223333, outside the organization: the
    // account's guardrails allow it.
    env.open_accounts_with(&[("dev", &dev)], "  guardrails: {trustOutsideOrganization: Allow}\n")
        .await;
    // AWS refuses the inline policy once: reported with AWS's words, then the next resync succeeds.
    env.aws.fail_next("PutRolePolicy", AwsErrorKind::MalformedPolicy, 1);
    // IAM does not know a just-created principal yet: retried with backoff.
    env.aws
        .fail_next("UpdateAssumeRolePolicy", AwsErrorKind::PrincipalNotReady, 1);
    env.apply(&format!(r#"
{NAMESPACE}---
apiVersion: awsaccess.dev/v1alpha1
kind: CrossAccountRole
metadata: {{name: refused, namespace: alfie}}
spec:
  account: {{id: "{dev}"}}
  trust: {{accounts: [{{id: "{MANAGEMENT_ACCOUNT}"}}]}}
  permissions:
    inlinePolicies: [{{name: p, document: {{Version: "2012-10-17", Statement: [{{Effect: Allow, Action: "s3:ListBucket", Resource: "*"}}]}}}}]
"#)).await;
    let roles: Api<CrossAccountRole> = env.api(Some("alfie"));
    let stalled = env
        .wait_for(&roles, "refused", "PolicyRejected", |r| {
            r.status
                .as_ref()
                .and_then(|s| condition(&s.reconcile.conditions, "Stalled").cloned())
                .is_some_and(|c| c.status == "True" && c.reason == "PolicyRejected")
        })
        .await;
    let message = condition(&stalled.status.expect("status").reconcile.conditions, "Stalled")
        .expect("stalled")
        .message
        .clone();
    assert!(message.contains("PutRolePolicy"), "{message}");
    env.wait_for(&roles, "refused", "Ready after the refusal passed", |r| {
        r.status
            .as_ref()
            .and_then(|s| condition(&s.reconcile.conditions, "Ready").cloned())
            .is_some_and(|c| c.status == "True")
    })
    .await;

    roles
        .patch(
            "refused",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"trust": {"accounts": [{"id": "111122223333"}]}}})),
        )
        .await
        .expect("patch");
    env.wait_for(&roles, "refused", "PrincipalNotReady", |r| {
        r.status
            .as_ref()
            .and_then(|s| condition(&s.reconcile.conditions, "Reconciling").cloned())
            .is_some_and(|c| c.status == "True" && c.reason == "PrincipalNotReady")
    })
    .await;
    env.eventually("trust updated after the retry", async || {
        let (trust, _) = role_in(&env, &dev, "refused").await?;
        (trusted_principals(&trust) == BTreeSet::from(["arn:aws:iam::111122223333:root".to_string()])).then_some(())
    })
    .await;
}

/// Seed 004's policy: made by the operator in the role's account, owned by
/// the role's object, versioned by it and gone with it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_managed_policy_lives_and_dies_with_its_role() {
    let env = Env::start().await;
    env.moto.create_organization().await;
    let prod = env.moto.create_member_account("prod").await;
    env.open_accounts(&[("prod", &prod)]).await;
    // Settled before the role is made: each change of an AwsAccount reconciles
    // the role again, which would say InSync where the test reads Created.
    env.wait_settled(&["identity", "prod"]).await;
    let iam = env.moto.member_iam(&prod).await;
    let arn = format!("arn:aws:iam::{prod}:policy/read-write-prod-app-from-dev");
    let manifest = |action: &str| {
        format!(
            r#"
{NAMESPACE}---
apiVersion: awsaccess.dev/v1alpha1
kind: CrossAccountRole
metadata: {{name: update-prod-app, namespace: alfie}}
spec:
  account: {{id: "{prod}"}}
  roleName: UpdateProdApp
  trust: {{accounts: [{{id: "{MANAGEMENT_ACCOUNT}"}}]}}
  permissions:
    customerManagedPolicies:
      - name: read-write-prod-app-from-dev
        description: Update the production app
        document: {{Version: "2012-10-17", Statement: [{{Effect: Allow, Action: "{action}", Resource: "arn:aws:s3:::prod-app/*"}}]}}
"#
        )
    };
    let document_allowing = |action: &str| json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": action, "Resource": "arn:aws:s3:::prod-app/*"}]});
    // The default version's document, how many versions and the tags, as IAM
    // keeps them; None once the policy is gone, even between two of the reads.
    let policy_in_aws = async || {
        let policy = iam.get_policy().policy_arn(&arn).send().await.ok()?.policy?;
        let default = policy.default_version_id()?.to_owned();
        let version = iam
            .get_policy_version()
            .policy_arn(&arn)
            .version_id(&default)
            .send()
            .await
            .ok()?;
        let document = decode_aws_document(version.policy_version()?.document()?).expect("json");
        let versions = iam
            .list_policy_versions()
            .policy_arn(&arn)
            .send()
            .await
            .ok()?
            .versions()
            .len();
        let tags: BTreeSet<(String, String)> = policy
            .tags()
            .iter()
            .map(|t| (t.key().to_owned(), t.value().to_owned()))
            .collect();
        Some((document, versions, tags))
    };
    let roles: Api<CrossAccountRole> = env.api(Some("alfie"));

    env.apply(&manifest("s3:GetObject")).await;
    let role = env
        .wait_for(&roles, "update-prod-app", "Ready", |r| {
            r.status
                .as_ref()
                .is_some_and(|s| ready_is(&s.reconcile.conditions, r.metadata.generation, "True", "Created"))
        })
        .await;
    assert_eq!(
        role.status.expect("status").customer_managed_policy_arns,
        vec![arn.clone()]
    );
    let (document, versions, tags) = policy_in_aws().await.expect("the policy exists");
    assert!(equivalent(&document, &document_allowing("s3:GetObject")), "{document}");
    assert_eq!(versions, 1);
    assert!(tags.contains(&(
        "awsaccess.dev/owner".to_owned(),
        "CrossAccountRole/alfie/update-prod-app@default".to_owned()
    )));
    let (_, attached) = role_in(&env, &prod, "UpdateProdApp").await.expect("role");
    assert_eq!(attached, BTreeSet::from([arn.clone()]));

    // In sync: resyncs read, never write.
    env.aws.clear();
    env.eventually("two resync rounds", async || {
        (env.aws.count("GetAccountAuthorizationDetails") >= 2).then_some(())
    })
    .await;
    assert_eq!(env.aws.writes(), vec![], "a policy in sync costs no AWS write");
    // Ownership is proven in AWS, by the policy's owner tag, which the
    // account's inventory does not carry: one read of the policy per round,
    // the rest from the inventory.
    assert!(
        env.aws.count("GetPolicy") <= env.aws.count("GetAccountAuthorizationDetails"),
        "one GetPolicy a round: {} in {} rounds",
        env.aws.count("GetPolicy"),
        env.aws.count("GetAccountAuthorizationDetails")
    );
    assert_eq!(
        env.aws.count("GetPolicyVersion"),
        0,
        "read from the account's inventory"
    );

    // Six changes: each a new default version, never more than five kept.
    for change in 1..=6 {
        let action = format!("s3:Get{change}");
        env.apply(&manifest(&action)).await;
        let versions = env
            .eventually("the new default version", async || {
                let (document, versions, _) = policy_in_aws().await?;
                equivalent(&document, &document_allowing(&action)).then_some(versions)
            })
            .await;
        assert!(versions <= 5, "change {change}: {versions} versions");
    }
    assert_eq!(env.aws.count("CreatePolicy"), 0, "made once, before");
    assert_eq!(env.aws.count("CreatePolicyVersion"), 6);

    // A hand edit (a new default version) and a hand detach are reverted.
    iam.create_policy_version()
        .policy_arn(&arn)
        .policy_document(document_allowing("s3:*").to_string())
        .set_as_default(true)
        .send()
        .await
        .expect_err("five versions kept: AWS refuses a sixth");
    let oldest = iam
        .list_policy_versions()
        .policy_arn(&arn)
        .send()
        .await
        .expect("versions")
        .versions()
        .iter()
        .filter(|v| !v.is_default_version())
        .filter_map(|v| v.version_id().map(str::to_owned))
        .min_by_key(|id| id.trim_start_matches('v').parse::<u32>().unwrap_or(u32::MAX))
        .expect("a non-default version");
    iam.delete_policy_version()
        .policy_arn(&arn)
        .version_id(oldest)
        .send()
        .await
        .expect("DeletePolicyVersion");
    iam.create_policy_version()
        .policy_arn(&arn)
        .policy_document(document_allowing("s3:*").to_string())
        .set_as_default(true)
        .send()
        .await
        .expect("CreatePolicyVersion by hand");
    iam.detach_role_policy()
        .role_name("UpdateProdApp")
        .policy_arn(&arn)
        .send()
        .await
        .expect("DetachRolePolicy by hand");
    env.eventually("both hand edits reverted", async || {
        let (document, _, _) = policy_in_aws().await?;
        let (_, attached) = role_in(&env, &prod, "UpdateProdApp").await?;
        (equivalent(&document, &document_allowing("s3:Get6")) && attached.contains(&arn)).then_some(())
    })
    .await;
    env.wait_for(&roles, "update-prod-app", "DriftCorrected", |r| {
        r.status
            .as_ref()
            .is_some_and(|s| ready_is(&s.reconcile.conditions, r.metadata.generation, "True", "DriftCorrected"))
    })
    .await;

    // Removed from the list: detached and deleted, with all its versions.
    let role_only = json!({"spec": {"permissions": {"customerManagedPolicies": null}}});
    roles
        .patch("update-prod-app", &PatchParams::default(), &Patch::Merge(&role_only))
        .await
        .expect("patch");
    env.eventually("the policy deleted", async || {
        policy_in_aws().await.is_none().then_some(())
    })
    .await;
    let (_, attached) = role_in(&env, &prod, "UpdateProdApp").await.expect("the role stays");
    assert!(attached.is_empty(), "{attached:?}");
    let role = env
        .wait_for(&roles, "update-prod-app", "Ready", |r| {
            r.status.as_ref().is_some_and(|s| {
                ready_is(&s.reconcile.conditions, r.metadata.generation, "True", "InSync")
                    || ready_is(&s.reconcile.conditions, r.metadata.generation, "True", "Updated")
            })
        })
        .await;
    assert_eq!(
        role.status.expect("status").customer_managed_policy_arns,
        Vec::<String>::new()
    );

    // A policy of that name made by hand is not the operator's to take.
    iam.create_policy()
        .policy_name("read-write-prod-app-from-dev")
        .policy_document(document_allowing("s3:*").to_string())
        .send()
        .await
        .expect("CreatePolicy by hand");
    env.aws.clear();
    env.apply(&manifest("s3:GetObject")).await;
    let refused = env
        .wait_for(&roles, "update-prod-app", "AlreadyExists", |r| {
            r.status
                .as_ref()
                .is_some_and(|s| ready_is(&s.reconcile.conditions, r.metadata.generation, "False", "AlreadyExists"))
        })
        .await;
    let message = condition(&refused.status.expect("status").reconcile.conditions, "Stalled")
        .expect("stalled")
        .message
        .clone();
    assert!(
        message.contains(&arn) && message.contains("rename the policy in the spec"),
        "{message}"
    );
    assert_eq!(env.aws.writes(), vec![], "nothing written for a policy not ours");
    let (document, versions, _) = policy_in_aws().await.expect("untouched");
    assert_eq!((document, versions), (document_allowing("s3:*"), 1));

    // Deleting the object deletes what it owns, and only that.
    roles
        .delete("update-prod-app", &DeleteParams::default())
        .await
        .expect("delete");
    env.eventually("the role deleted", async || {
        role_in(&env, &prod, "UpdateProdApp").await.is_none().then_some(())
    })
    .await;
    assert!(policy_in_aws().await.is_some(), "the hand-made policy stays");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_describe_and_get_events_show_what_the_operator_recorded() {
    let env = Env::start().await;
    env.moto.create_organization().await;
    let prod = env.moto.create_member_account("prod").await;
    env.open_accounts(&[("prod", &prod)]).await;
    env.apply(&format!(
        r#"
{NAMESPACE}---
apiVersion: awsaccess.dev/v1alpha1
kind: CrossAccountRole
metadata: {{name: app, namespace: alfie}}
spec:
  account: {{id: "{prod}"}}
  roleName: App
  trust:
    accounts: [{{id: "{prod}"}}]
"#
    ))
    .await;
    let roles: Api<CrossAccountRole> = env.api(Some("alfie"));
    env.wait_for(&roles, "app", "Ready", |r| {
        r.status
            .as_ref()
            .is_some_and(|s| ready_is(&s.reconcile.conditions, r.metadata.generation, "True", "Created"))
    })
    .await;
    // The operator records through events.k8s.io/v1; kubectl reads core/v1.
    let described = env
        .kubectl(&["describe", "crossaccountrole", "-n", "alfie", "app"])
        .await;
    let events = described.split("Events:").nth(1).unwrap_or_default();
    assert!(
        events.contains("Created") && events.contains(&format!("created IAM role App in account {prod}")),
        "{described}"
    );
    let listed = env.kubectl(&["get", "events", "-n", "alfie"]).await;
    assert!(
        listed.contains("crossaccountrole/app") && listed.contains("Created"),
        "{listed}"
    );
}

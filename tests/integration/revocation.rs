//! Revocation never waits: a missing or deleted reference shrinks what is
//! granted and never holds a removal back, and a member who leaves a group
//! has their open sessions of its roles denied. The operator runs with a
//! five-minute resync, as in production, so everything measured here
//! happens on the events themselves.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use aws_access_operator::api::{CrossAccountRole, DeveloperGroup, PartnerAccess};
use aws_access_operator::controller::Config;
use k8s_openapi::api::events::v1::Event;
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, DeleteParams, ListParams};

use crate::support::aws::{
    assumable_roles, create_users, denies_everyone, group_members, sessions_denied_before, trust_of, trusted_principals,
};
use crate::support::moto::MANAGEMENT_ACCOUNT;
use crate::support::operator::{Env, condition, test_config};

const RESYNC: Duration = Duration::from_secs(300);
/// How long role sessions live in the tests of their Deny.
const SESSIONS_LIVE: Duration = Duration::from_secs(5);
const ASSUME_POLICY: &str = "awsaccess-assume-roles";
const NAMESPACE: &str = r#"
apiVersion: v1
kind: Namespace
metadata: {name: alfie}
---
"#;

async fn env_with_production_resync() -> Env {
    Env::without_operator().await.start_operator(Config {
        resync_interval: RESYNC,
        ..test_config()
    })
}

fn role(name: &str, account: &str, trust: &str) -> String {
    format!(
        r#"
---
apiVersion: awsaccess.dev/v1alpha1
kind: CrossAccountRole
metadata: {{name: {name}, namespace: alfie}}
spec:
  account: {{id: "{account}"}}
  roleName: {name}
  trust: {trust}
  permissions: {{managedPolicyArns: [arn:aws:iam::aws:policy/ReadOnlyAccess]}}
"#
    )
}

fn group(members: &[&str], roles: &[&str]) -> String {
    let access: Vec<String> = roles.iter().map(|r| format!("{{role: {{name: {r}}}}}")).collect();
    format!(
        r#"
---
apiVersion: awsaccess.dev/v1alpha1
kind: DeveloperGroup
metadata: {{name: developers, namespace: alfie}}
spec:
  members: [{}]
  access: [{}]
"#,
        members.join(", "),
        access.join(", ")
    )
}

fn arn(account: &str, role: &str) -> String {
    format!("arn:aws:iam::{account}:role/{role}")
}

fn user(name: &str) -> String {
    format!("arn:aws:iam::{MANAGEMENT_ACCOUNT}:user/{name}")
}

fn reconciling_about(conditions: &[k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition], field: &str) -> bool {
    condition(conditions, "Reconciling")
        .is_some_and(|c| c.status == "True" && c.reason == "ReferenceNotReady" && c.message.contains(field))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_role_never_holds_a_leaver_back() {
    let env = env_with_production_resync().await;
    env.moto.create_organization().await;
    let dev = env.moto.create_member_account("dev").await;
    env.open_accounts(&[("dev", &dev)]).await;
    create_users(&env, &["alice", "bob"]).await;
    // The group grants one role that exists and one nobody has made: the
    // second entry must hold back neither the group nor the role trusting
    // its members.
    let members_trust = "{developerGroups: [{name: developers}], developerGroupTrust: Members}";
    env.apply(&format!(
        "{NAMESPACE}{}{}",
        role("deploy", &dev, members_trust),
        group(&["alice", "bob"], &["deploy", "typo-in-a-name"])
    ))
    .await;
    let groups: Api<DeveloperGroup> = env.api(Some("alfie"));
    let everyone = BTreeSet::from([user("alice"), user("bob")]);
    env.eventually("both members in the group and in the role's trust", async || {
        let trust = trust_of(&env, &dev, "deploy").await?;
        (group_members(&env, "developers").await? == BTreeSet::from(["alice".into(), "bob".into()])
            && trusted_principals(&trust) == everyone)
            .then_some(())
    })
    .await;
    // The group grants a role once it is Ready, a moment after its trust is.
    let assumable = env
        .eventually("the group's policy written", async || {
            let assumable = assumable_roles(&env, "developers", ASSUME_POLICY).await;
            (!assumable.is_empty()).then_some(assumable)
        })
        .await;
    assert_eq!(
        assumable,
        BTreeSet::from([arn(&dev, "deploy")]),
        "the missing role is left out of what the group may assume"
    );
    env.wait_for(&groups, "developers", "the missing entry reported", |g| {
        g.status
            .as_ref()
            .is_some_and(|s| reconciling_about(&s.reconcile.conditions, "spec.access[1].role"))
    })
    .await;

    let removed = Instant::now();
    env.apply(&group(&["alice"], &["deploy", "typo-in-a-name"])).await;
    env.eventually("bob gone from the group and from the role's trust", async || {
        let trust = trust_of(&env, &dev, "deploy").await?;
        (group_members(&env, "developers").await? == BTreeSet::from(["alice".into()])
            && trusted_principals(&trust) == BTreeSet::from([user("alice")]))
        .then_some(())
    })
    .await;
    let took = removed.elapsed();
    println!("leaver out of the group and the trust in {took:?} (resync {RESYNC:?})");
    assert!(took < RESYNC / 10, "revocation waited for a resync: {took:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_role_leaves_the_groups_policy_on_its_deletion() {
    let env = env_with_production_resync().await;
    env.moto.create_organization().await;
    let dev = env.moto.create_member_account("dev").await;
    let prod = env.moto.create_member_account("prod").await;
    env.open_accounts(&[("dev", &dev), ("prod", &prod)]).await;
    create_users(&env, &["alice"]).await;
    let account_trust = format!("{{accounts: [{{id: \"{MANAGEMENT_ACCOUNT}\"}}]}}");
    env.apply(&format!(
        "{NAMESPACE}{}{}{}",
        role("dev-admin", &dev, &account_trust),
        role("prod-admin", &prod, &account_trust),
        group(&["alice"], &["dev-admin", "prod-admin"])
    ))
    .await;
    env.eventually("the group may assume both roles", async || {
        (assumable_roles(&env, "developers", ASSUME_POLICY).await
            == BTreeSet::from([arn(&dev, "dev-admin"), arn(&prod, "prod-admin")]))
        .then_some(())
    })
    .await;

    let roles: Api<CrossAccountRole> = env.api(Some("alfie"));
    let deleted = Instant::now();
    roles
        .delete("prod-admin", &DeleteParams::default())
        .await
        .expect("delete the role");
    env.eventually("the role out of the group's policy and out of AWS", async || {
        (assumable_roles(&env, "developers", ASSUME_POLICY).await == BTreeSet::from([arn(&dev, "dev-admin")])
            && trust_of(&env, &prod, "prod-admin").await.is_none())
        .then_some(())
    })
    .await;
    let took = deleted.elapsed();
    println!("deleted role out of the group's policy in {took:?} (resync {RESYNC:?})");
    assert!(took < RESYNC / 10, "revocation waited for a resync: {took:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_role_whose_trusted_group_is_deleted_trusts_nobody() {
    let env = env_with_production_resync().await;
    env.moto.create_organization().await;
    let dev = env.moto.create_member_account("dev").await;
    env.open_accounts(&[("dev", &dev)]).await;
    create_users(&env, &["alice"]).await;
    env.apply(&format!(
        "{NAMESPACE}{}{}",
        role("deploy", &dev, "{developerGroups: [{name: developers}]}"),
        group(&["alice"], &["deploy"])
    ))
    .await;
    env.eventually("the role trusts the group's account", async || {
        let trust = trust_of(&env, &dev, "deploy").await?;
        (trusted_principals(&trust) == BTreeSet::from([format!("arn:aws:iam::{MANAGEMENT_ACCOUNT}:root")])
            && !denies_everyone(&trust))
        .then_some(())
    })
    .await;

    let groups: Api<DeveloperGroup> = env.api(Some("alfie"));
    groups
        .delete("developers", &DeleteParams::default())
        .await
        .expect("delete the group");
    env.eventually("nobody may assume the role", async || {
        denies_everyone(&trust_of(&env, &dev, "deploy").await?).then_some(())
    })
    .await;
    let roles: Api<CrossAccountRole> = env.api(Some("alfie"));
    env.wait_for(&roles, "deploy", "the missing group reported", |r| {
        r.status
            .as_ref()
            .is_some_and(|s| reconciling_about(&s.reconcile.conditions, "spec.trust.developerGroups[0]"))
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partners_expiry_is_in_the_trust_aws_enforces() {
    let env = env_with_production_resync().await;
    env.moto.create_organization().await;
    let staging = env.moto.create_member_account("staging").await;
    env.open_accounts(&[("staging", &staging)]).await;
    env.apply(&format!(
        r#"
apiVersion: v1
kind: Namespace
metadata: {{name: partners}}
---
apiVersion: awsaccess.dev/v1alpha1
kind: PartnerAccess
metadata: {{name: sembit, namespace: partners}}
spec:
  partner: {{name: Sembit, accountId: "444455556666"}}
  accounts: [{{id: "{staging}"}}]
  roleName: SembitAccess
  permissions: {{managedPolicyArns: [arn:aws:iam::aws:policy/PowerUserAccess]}}
  expiresAt: "2031-01-31T00:00:00Z"
"#
    ))
    .await;
    let trust = env
        .eventually("the partner's role exists", async || {
            trust_of(&env, &staging, "SembitAccess").await
        })
        .await;
    let statement = &trust["Statement"][0];
    assert_eq!(
        statement["Condition"]["DateLessThan"]["aws:CurrentTime"], "2031-01-31T00:00:00Z",
        "{trust}"
    );
    assert!(
        statement["Condition"]["StringEquals"]["sts:ExternalId"].is_string(),
        "{trust}"
    );
    let partners: Api<PartnerAccess> = env.api(Some("partners"));
    env.wait_for(&partners, "sembit", "Ready", |p| {
        p.status
            .as_ref()
            .is_some_and(|s| condition(&s.reconcile.conditions, "Ready").is_some_and(|c| c.status == "True"))
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_taken_off_the_list_has_older_sessions_denied_on_every_role_the_group_could_assume_until_they_expire()
{
    // Sessions live 5 s here (an hour at least in AWS): the Deny is lifted
    // on time, long before the five-minute resync.
    let env = Env::without_operator().await.start_operator(Config {
        resync_interval: RESYNC,
        session_lifetime: Some(SESSIONS_LIVE),
        ..test_config()
    });
    env.moto.create_organization().await;
    let dev = env.moto.create_member_account("dev").await;
    env.open_accounts(&[("dev", &dev)]).await;
    create_users(&env, &["alice", "bob"]).await;
    // One role trusts the group, the other only its account and is granted by the group.
    let account_trust = format!("{{accounts: [{{id: \"{MANAGEMENT_ACCOUNT}\"}}]}}");
    env.apply(&format!(
        "{NAMESPACE}{}{}{}",
        role("deploy", &dev, "{developerGroups: [{name: developers}]}"),
        role("reader", &dev, &account_trust),
        group(&["alice", "bob"], &["reader"])
    ))
    .await;
    let granted = env
        .eventually("both members in the group, which may assume reader", async || {
            let assumable = assumable_roles(&env, "developers", ASSUME_POLICY).await;
            (group_members(&env, "developers").await? == BTreeSet::from(["alice".into(), "bob".into()])
                && assumable == BTreeSet::from([arn(&dev, "reader")]))
            .then_some(assumable)
        })
        .await;
    assert_eq!(sessions_denied_before(&env, &dev, "deploy").await, None);

    let asked = Timestamp::now();
    env.apply(&group(&["alice"], &["reader"])).await;
    let groups: Api<DeveloperGroup> = env.api(Some("alfie"));
    let removal = env
        .wait_for(&groups, "developers", "bob's removal recorded", |g| {
            g.status.as_ref().is_some_and(|s| s.last_removal.is_some())
        })
        .await
        .status
        .and_then(|s| s.last_removal)
        .expect("removal");
    assert_eq!(removal.users, ["bob"]);
    assert!(
        removal.at.0 >= asked,
        "dated at the removal: {} before {asked}",
        removal.at.0
    );
    let dated = removal.at.0.to_string();
    let both = env
        .eventually("both roles deny sessions issued before the removal", async || {
            let deploy = sessions_denied_before(&env, &dev, "deploy").await?;
            let reader = sessions_denied_before(&env, &dev, "reader").await?;
            (deploy == dated && reader == dated).then_some(Instant::now())
        })
        .await;
    println!(
        "the Deny on both roles {:?} after the removal was asked",
        asked.duration_until(Timestamp::now())
    );
    // Those who stay keep their grant: one re-assume, nothing more.
    assert_eq!(
        group_members(&env, "developers").await,
        Some(BTreeSet::from(["alice".into()]))
    );
    assert_eq!(assumable_roles(&env, "developers", ASSUME_POLICY).await, granted);
    let roles: Api<CrossAccountRole> = env.api(Some("alfie"));
    let deploy = env
        .wait_for(&roles, "deploy", "the Deny reported", |r| {
            r.status.as_ref().is_some_and(|s| s.sessions_denied.is_some())
        })
        .await;
    let denied = deploy.status.and_then(|s| s.sessions_denied).expect("reported");
    assert_eq!(
        (denied.issued_before.0, denied.reason.as_str()),
        (removal.at.0, "bob left developers")
    );
    let note = format!(
        "sessions issued before {dated} denied until {}: bob left developers",
        denied.until.0
    );
    let events: Api<Event> = Api::namespaced(env.client.clone(), "alfie");
    let notes: Vec<String> = events
        .list(&ListParams::default())
        .await
        .expect("events")
        .items
        .into_iter()
        .filter(|e| e.regarding.as_ref().and_then(|r| r.name.as_deref()) == Some("deploy"))
        .filter_map(|e| e.note)
        .collect();
    assert!(notes.iter().any(|n| n.ends_with(&note)), "{notes:?}");

    env.eventually("the Deny lifted once those sessions expired", async || {
        (sessions_denied_before(&env, &dev, "deploy").await.is_none()
            && sessions_denied_before(&env, &dev, "reader").await.is_none())
        .then_some(())
    })
    .await;
    let held = both.elapsed();
    println!("the Deny held {held:?} for sessions living {SESSIONS_LIVE:?} (resync {RESYNC:?})");
    assert!(held < RESYNC / 10, "lifted at a resync, not on time: {held:?}");
}

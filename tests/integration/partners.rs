//! PartnerAccess end to end: an outside partner's roles in the target
//! accounts, their external ID, revocation, expiry and transfer.

use std::collections::BTreeSet;
use std::time::Duration;

use aws_access_operator::api::{CrossAccountRole, PartnerAccess, PartnerPhase};
use aws_access_operator::policy::document::decode_aws_document;
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::api::events::v1::Event;
use kube::api::{Api, DeleteParams, ListParams, PostParams};
use serde_json::Value;

use crate::support::operator::{Env, condition, ready_is, test_config};

const NAMESPACE: &str = r#"
apiVersion: v1
kind: Namespace
metadata: {name: partners}
"#;

/// The role's trust policy and unique id in `account`, or None.
async fn role_in(env: &Env, account: &str, name: &str) -> Option<(Value, String)> {
    let iam = env.moto.member_iam(account).await;
    match iam.get_role().role_name(name).send().await {
        Ok(found) => {
            let role = found.role.expect("role");
            Some((
                decode_aws_document(role.assume_role_policy_document().expect("trust")).expect("json"),
                role.role_id().to_string(),
            ))
        }
        Err(err) if err.as_service_error().is_some_and(|e| e.is_no_such_entity_exception()) => None,
        Err(err) => panic!("GetRole: {err:?}"),
    }
}

fn partner(name: &str, partner_account: &str, accounts: &[&str], extra: &str) -> String {
    let accounts: Vec<String> = accounts.iter().map(|id| format!("{{id: \"{id}\"}}")).collect();
    format!(
        r#"
---
apiVersion: awsaccess.dev/v1alpha1
kind: PartnerAccess
metadata: {{name: {name}, namespace: partners}}
spec:
  partner: {{name: Sembit, accountId: "{partner_account}"}}
  accounts: [{}]
  permissions: {{managedPolicyArns: [arn:aws:iam::aws:policy/PowerUserAccess]}}
{extra}"#,
        accounts.join(", ")
    )
}

async fn external_id(env: &Env, secret: &str) -> String {
    let secrets: Api<Secret> = Api::namespaced(env.client.clone(), "partners");
    let secret = secrets.get(secret).await.expect("secret");
    String::from_utf8(secret.data.expect("data")["externalId"].0.clone()).expect("utf-8")
}

fn phase_is(access: &PartnerAccess, phase: PartnerPhase, reason: &str) -> bool {
    access.status.as_ref().is_some_and(|s| {
        s.phase == Some(phase) && ready_is(&s.reconcile.conditions, access.metadata.generation, "True", reason)
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partner_roles_trust_the_partner_with_a_stable_generated_external_id() {
    let env = Env::start().await;
    env.moto.create_organization().await;
    let staging = env.moto.create_member_account("staging").await;
    let qa = env.moto.create_member_account("qa").await;
    env.open_accounts(&[("staging", &staging), ("qa", &qa)]).await;
    env.apply(&format!(
        "{NAMESPACE}{}",
        partner("sembit", "444455556666", &[&staging, &qa], "")
    ))
    .await;
    let partners: Api<PartnerAccess> = env.api(Some("partners"));
    let access = env
        .wait_for(&partners, "sembit", "Active and Ready", |p| {
            phase_is(p, PartnerPhase::Active, "InSync")
        })
        .await;
    let status = access.status.expect("status");
    assert_eq!(status.external_id_secret.as_deref(), Some("sembit-external-id"));
    let id = external_id(&env, "sembit-external-id").await;
    assert!(id.len() >= 32, "external ID of {} characters", id.len());

    let listed: BTreeSet<(String, String)> = status
        .roles
        .iter()
        .map(|r| (r.account.clone(), r.role_arn.clone()))
        .collect();
    let expected: BTreeSet<(String, String)> = [&staging, &qa]
        .iter()
        .map(|a| (a.to_string(), format!("arn:aws:iam::{a}:role/partner-sembit")))
        .collect();
    assert_eq!(listed, expected);
    for account in [&staging, &qa] {
        let (trust, _) = role_in(&env, account, "partner-sembit")
            .await
            .expect("role in each account");
        let statement = &trust["Statement"][0];
        assert_eq!(
            statement["Principal"]["AWS"],
            serde_json::json!(["arn:aws:iam::444455556666:root"])
        );
        assert_eq!(
            statement["Condition"]["StringEquals"]["sts:ExternalId"],
            Value::String(id.clone())
        );
    }

    // Another reconcile (a spec change, with a policy of the partner's own)
    // keeps the same external ID.
    let with_policy = partner("sembit", "444455556666", &[&staging, &qa], "  requireMfa: true\n").replace(
        "permissions: {",
        "permissions: {customerManagedPolicies: [{name: sembit-deploy, document: {Version: '2012-10-17', Statement: [{Effect: Allow, Action: 'ecs:UpdateService', Resource: '*'}]}}], ",
    );
    env.apply(&with_policy).await;
    env.eventually("MFA required", async || {
        let (trust, _) = role_in(&env, &staging, "partner-sembit").await?;
        (trust["Statement"][0]["Condition"]["Bool"]["aws:MultiFactorAuthPresent"] == "true").then_some(())
    })
    .await;
    for account in [&staging, &qa] {
        let arn = format!("arn:aws:iam::{account}:policy/sembit-deploy");
        let iam = env.moto.member_iam(account).await;
        env.eventually("the partner's policy made and attached in each account", async || {
            let attached = iam
                .list_attached_role_policies()
                .role_name("partner-sembit")
                .send()
                .await
                .ok()?;
            let arns: Vec<&str> = attached
                .attached_policies()
                .iter()
                .filter_map(|p| p.policy_arn())
                .collect();
            arns.contains(&arn.as_str()).then_some(())
        })
        .await;
        let policy = iam.get_policy().policy_arn(&arn).send().await.expect("GetPolicy");
        let owner = policy
            .policy()
            .expect("policy")
            .tags()
            .iter()
            .find(|tag| tag.key() == "awsaccess.dev/owner")
            .map(|tag| tag.value().to_owned());
        assert!(
            owner.is_some_and(|owner| owner.starts_with("CrossAccountRole/partners/sembit-")),
            "owned by the partner's role in that account"
        );
    }
    assert_eq!(
        external_id(&env, "sembit-external-id").await,
        id,
        "the generated external ID never changes"
    );

    // The secret never shows in status or Events.
    let access = partners.get("sembit").await.expect("get");
    assert!(!serde_json::to_string(&access.status).expect("json").contains(&id));
    let events: Api<Event> = Api::namespaced(env.client.clone(), "partners");
    let all = serde_json::to_string(&events.list(&ListParams::default()).await.expect("events").items).expect("json");
    assert!(!all.contains(&id));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn suspension_expiry_and_deletion_each_leave_no_role() {
    // A long resync proves the expiry happens on time by itself, not at a resync.
    let config = aws_access_operator::controller::Config {
        resync_interval: Duration::from_secs(300),
        ..test_config()
    };
    let env = Env::without_operator().await.start_operator(config);
    env.moto.create_organization().await;
    let staging = env.moto.create_member_account("staging").await;
    env.open_accounts(&[("staging", &staging)]).await;
    let expires = k8s_openapi::jiff::Timestamp::now() + k8s_openapi::jiff::SignedDuration::from_secs(8);
    let manifests = [
        NAMESPACE.to_string(),
        partner("suspend-me", "444455556666", &[&staging], "  roleName: Suspended\n"),
        partner(
            "expire-me",
            "444455556666",
            &[&staging],
            &format!(
                r#"
  roleName: Expiring
  expiresAt: "{}"
"#,
                expires.strftime("%Y-%m-%dT%H:%M:%SZ")
            ),
        ),
        partner("delete-me", "444455556666", &[&staging], "  roleName: Deleted\n"),
    ];
    env.apply(&manifests.concat()).await;
    let partners: Api<PartnerAccess> = env.api(Some("partners"));
    for name in ["suspend-me", "expire-me", "delete-me"] {
        env.wait_for(&partners, name, "Active", |p| {
            phase_is(p, PartnerPhase::Active, "InSync")
        })
        .await;
    }
    for role in ["Suspended", "Expiring", "Deleted"] {
        assert!(
            role_in(&env, &staging, role).await.is_some(),
            "{role} exists while active"
        );
    }

    env.apply(&partner(
        "suspend-me",
        "444455556666",
        &[&staging],
        r#"
  roleName: Suspended
  suspended: true
"#,
    ))
    .await;
    env.wait_for(&partners, "suspend-me", "Suspended", |p| {
        phase_is(p, PartnerPhase::Suspended, "Suspended")
    })
    .await;
    assert!(
        role_in(&env, &staging, "Suspended").await.is_none(),
        "suspension removes the role"
    );

    partners
        .delete("delete-me", &DeleteParams::default())
        .await
        .expect("delete");
    env.eventually("deleted partner's role gone", async || {
        role_in(&env, &staging, "Deleted").await.is_none().then_some(())
    })
    .await;

    let expired = env
        .wait_for(&partners, "expire-me", "Expired", |p| {
            phase_is(p, PartnerPhase::Expired, "Expired")
        })
        .await;
    assert!(
        role_in(&env, &staging, "Expiring").await.is_none(),
        "expiry removes the role"
    );
    let ready = condition(&expired.status.expect("status").reconcile.conditions, "Ready")
        .cloned()
        .expect("ready");
    assert!(
        ready.last_transition_time.0 < expires + k8s_openapi::jiff::SignedDuration::from_secs(20),
        "expired on time, not at the 5-minute resync"
    );
    let roles: Api<CrossAccountRole> = env.api(Some("partners"));
    env.eventually("no role objects left", async || {
        roles
            .list(&ListParams::default())
            .await
            .expect("list")
            .items
            .is_empty()
            .then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transfer_to_another_partner_rewrites_the_trust_in_place() {
    let env = Env::start().await;
    env.moto.create_organization().await;
    let staging = env.moto.create_member_account("staging").await;
    env.open_accounts(&[("staging", &staging)]).await;
    env.apply(&format!(
        "{NAMESPACE}{}",
        partner("work", "444455556666", &[&staging], "")
    ))
    .await;
    let partners: Api<PartnerAccess> = env.api(Some("partners"));
    env.wait_for(&partners, "work", "Active", |p| {
        phase_is(p, PartnerPhase::Active, "InSync")
    })
    .await;
    let (_, role_id) = role_in(&env, &staging, "partner-work").await.expect("role");

    env.apply(&partner("work", "777788889999", &[&staging], "")).await;
    let (trust, new_id) = env
        .eventually("trust names the new partner", async || {
            let (trust, id) = role_in(&env, &staging, "partner-work").await?;
            (trust["Statement"][0]["Principal"]["AWS"] == serde_json::json!(["arn:aws:iam::777788889999:root"]))
                .then_some((trust, id))
        })
        .await;
    assert_eq!(new_id, role_id, "the same role, rewritten in place");
    assert!(
        !trust.to_string().contains("444455556666"),
        "the old partner is no longer trusted"
    );
    let events: Api<Event> = Api::namespaced(env.client.clone(), "partners");
    env.eventually("transfer recorded", async || {
        let items = events.list(&ListParams::default()).await.expect("events").items;
        items
            .iter()
            .any(|e| {
                e.reason.as_deref() == Some("PartnerChanged")
                    && e.note.as_deref().is_some_and(|n| n.contains("777788889999"))
            })
            .then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partner_account_id_that_is_not_12_digits_is_refused_by_the_api() {
    let env = Env::without_operator().await;
    env.apply(NAMESPACE).await;
    let partners: Api<PartnerAccess> = env.api(Some("partners"));
    let object: PartnerAccess = serde_yaml_ng::from_str(&partner("bad", "12345", &["555566667777"], "")).expect("yaml");
    let refused = partners
        .create(&PostParams::default(), &object)
        .await
        .expect_err("refused");
    let kube::Error::Api(status) = refused else {
        panic!("expected an API error, got {refused:?}")
    };
    assert_eq!(status.code, 422);
    assert!(status.message.contains("spec.partner.accountId"), "{}", status.message);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_account_that_does_not_allow_the_namespace_gets_no_partner_role() {
    let env = Env::start().await;
    env.moto.create_organization().await;
    let staging = env.moto.create_member_account("staging").await;
    env.apply(&format!(
        r#"
{NAMESPACE}---
apiVersion: awsaccess.dev/v1alpha1
kind: AwsAccount
metadata: {{name: staging}}
spec:
  accountName: staging
  email: staging@example.com
  accountId: "{staging}"
  allowedNamespaces: [platform]
---
apiVersion: awsaccess.dev/v1alpha1
kind: PartnerAccess
metadata: {{name: sembit, namespace: partners}}
spec:
  partner: {{name: Sembit, accountId: "444455556666"}}
  accounts: [{{name: staging}}]
"#
    ))
    .await;
    let partners: Api<PartnerAccess> = env.api(Some("partners"));
    env.wait_for(&partners, "sembit", "NamespaceNotAllowed", |p| {
        p.status
            .as_ref()
            .and_then(|s| condition(&s.reconcile.conditions, "Stalled").cloned())
            .is_some_and(|c| c.reason == "NamespaceNotAllowed")
    })
    .await;
    let roles: Api<CrossAccountRole> = env.api(Some("partners"));
    assert!(roles.list(&ListParams::default()).await.expect("list").items.is_empty());
    assert_eq!(env.aws.writes(), vec![]);
}

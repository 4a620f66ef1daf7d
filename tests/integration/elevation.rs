//! Access on request (issue 27), end to end: the chart's webhooks (mutating and validating)
//! served by the operator's code and called by kube-testserver with the impersonated user of
//! `kubectl --as`, the operator's controllers, and moto. A request grants nothing until someone
//! the role names approves it; the requester's own approval is refused; the grant is exactly
//! the role, dated, read back from IAM; AWS's end of the window is followed by the grant's
//! removal and a Deny on the role's older sessions; deleting a request does the same at once;
//! and what the namespace may not ask for is refused with the field named.

use std::time::{Duration, Instant};

use aws_access_operator::api::{
    APPROVED_BY_ANNOTATION, AccessPhase, AccessRequest, CrossAccountRole, REQUESTED_BY_ANNOTATION,
};
use aws_access_operator::controller::Config;
use aws_access_operator::policy::document::decode_aws_document;
use k8s_openapi::api::events::v1::Event;
use kube::ResourceExt;
use kube::api::{Api, DeleteParams, ListParams};
use serde_json::{Value, json};

use crate::support::aws::{identity_iam, sessions_denied_before};
use crate::support::moto::MANAGEMENT_ACCOUNT;
use crate::support::operator::{Env, condition, test_config};
use crate::support::webhook::{kubectl_apply, kubectl_apply_as, one, serve};

const ROLE: &str = "ProdOperator";
const ALICE: &str = "alice@example.com";
/// How long role sessions live here: the Deny on older sessions holds that long after an end.
const SESSIONS_LIVE: Duration = Duration::from_secs(60);

fn config() -> Config {
    Config {
        shortest_elevation: Some(Duration::from_secs(1)),
        session_lifetime: Some(SESSIONS_LIVE),
        resync_interval: Duration::from_secs(300),
        admission_webhooks: true,
        ..test_config()
    }
}

fn request(name: &str, duration: &str, role: Value, user: &str) -> Value {
    json!({
        "apiVersion": "awsaccess.dev/v1alpha1", "kind": "AccessRequest",
        "metadata": {"name": name, "namespace": "alfie",
                     // Forged: admission records the real requester over it.
                     "annotations": {REQUESTED_BY_ANNOTATION: "carol"}},
        "spec": {"user": user, "role": role, "duration": duration, "reason": "INC-1234: restart the stuck RDS instance"},
    })
}

fn approval(name: &str, request: &str, decision: &str) -> Value {
    json!({
        "apiVersion": "awsaccess.dev/v1alpha1", "kind": "AccessApproval",
        "metadata": {"name": name, "namespace": "alfie"},
        "spec": {"request": request, "decision": decision, "comment": "ok"},
    })
}

/// The grant on alice for `request`, as IAM returns it, or None.
async fn grant(env: &Env, request: &str) -> Option<Value> {
    let found = identity_iam(env)
        .await
        .get_user_policy()
        .user_name("alice")
        .policy_name(format!("awsaccess-elevation-{request}"))
        .send()
        .await;
    match found {
        Ok(found) => Some(decode_aws_document(found.policy_document()).expect("policy JSON")),
        Err(err) if err.as_service_error().is_some_and(|e| e.is_no_such_entity_exception()) => None,
        Err(err) => panic!("GetUserPolicy: {err:?}"),
    }
}

async fn phase_of(requests: &Api<AccessRequest>, name: &str) -> Option<AccessPhase> {
    requests.get_opt(name).await.expect("get")?.status?.phase
}

/// The reasons of the Events about `name`.
async fn event_reasons(env: &Env, name: &str) -> Vec<String> {
    let events: Api<Event> = Api::namespaced(env.client.clone(), "alfie");
    let listed = events.list(&ListParams::default()).await.expect("events");
    listed
        .items
        .into_iter()
        .filter(|e| e.regarding.as_ref().and_then(|r| r.name.as_deref()) == Some(name))
        .filter_map(|e| e.reason)
        .collect()
}

/// An organization with prod, alice's IamUser in namespace alfie, and a role in prod on
/// request only (its trust admits the identity account); the webhooks registered.
async fn setup() -> (Env, String, tokio::task::JoinHandle<()>) {
    let env = Env::without_operator().await.start_operator(config());
    let prod = organization(&env).await;
    let (server, docs) = serve(&env, config()).await;
    for kind in ["ValidatingWebhookConfiguration", "MutatingWebhookConfiguration"] {
        let (registered, said) = kubectl_apply(&env, one(&docs, kind)).await;
        assert!(registered, "{said}");
    }
    objects(&env, &prod).await;
    (env, prod, server)
}

/// The organization with its member account prod, opened to the operator; prod's id.
async fn organization(env: &Env) -> String {
    env.moto.create_organization().await;
    let prod = env.moto.create_member_account("prod").await;
    env.open_accounts(&[("prod", &prod)]).await;
    prod
}

/// alice's IamUser and the two roles in prod, made.
async fn objects(env: &Env, prod: &str) {
    env.apply(&format!(
        r#"
apiVersion: v1
kind: Namespace
metadata: {{name: alfie}}
---
apiVersion: awsaccess.dev/v1alpha1
kind: IamUser
metadata: {{name: alice, namespace: alfie}}
spec: {{}}
---
apiVersion: awsaccess.dev/v1alpha1
kind: CrossAccountRole
metadata: {{name: prod-operator, namespace: alfie}}
spec:
  account: {{id: "{prod}"}}
  roleName: {ROLE}
  trust: {{accounts: [{{id: "{MANAGEMENT_ACCOUNT}"}}]}}
  permissions: {{managedPolicyArns: [arn:aws:iam::aws:policy/AmazonRDSFullAccess]}}
  elevation:
    maxDuration: 1h
    approvers: {{users: [carol], groups: [alfie-leads]}}
---
apiVersion: awsaccess.dev/v1alpha1
kind: CrossAccountRole
metadata: {{name: standing, namespace: alfie}}
spec:
  account: {{id: "{prod}"}}
  trust: {{accounts: [{{id: "{MANAGEMENT_ACCOUNT}"}}]}}
"#
    ))
    .await;
    let roles: Api<CrossAccountRole> = env.api(Some("alfie"));
    env.wait_for(&roles, "prod-operator", "the role made", |role| {
        role.status
            .as_ref()
            .is_some_and(|s| s.role_arn.is_some() && s.ownership.is_some())
    })
    .await;
    let users: Api<aws_access_operator::api::IamUser> = env.api(Some("alfie"));
    env.wait_for(&users, "alice", "alice made", |user| {
        user.status.as_ref().is_some_and(|s| s.user_arn.is_some())
    })
    .await;
}

/// Without the admission webhooks who asked and who approved are whatever the client
/// wrote: a request with a forged approval is refused, saying why, and grants nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_admission_webhooks_nothing_is_granted() {
    let config = Config {
        admission_webhooks: false,
        ..config()
    };
    let env = Env::without_operator().await.start_operator(config);
    let prod = organization(&env).await;
    objects(&env, &prod).await;
    let mut forged = approval("forged", "restart", "Approve");
    forged["metadata"]["annotations"] = json!({APPROVED_BY_ANNOTATION: "carol"});
    for object in [
        request("restart", "1h", json!({"name": "prod-operator"}), "alice"),
        forged,
    ] {
        let (accepted, said) = kubectl_apply(&env, &object).await;
        assert!(accepted, "{said}");
    }
    let requests: Api<AccessRequest> = env.api(Some("alfie"));
    let refused = env
        .wait_for(&requests, "restart", "refused", |r| {
            r.status
                .as_ref()
                .is_some_and(|s| condition(&s.reconcile.conditions, "Stalled").is_some_and(|c| c.status == "True"))
        })
        .await;
    let stalled = condition(&refused.status.as_ref().unwrap().reconcile.conditions, "Stalled").cloned();
    assert!(
        stalled.unwrap().message.contains("serves no admission webhooks"),
        "the condition says why"
    );
    assert_ne!(phase_of(&requests, "restart").await, Some(AccessPhase::Active));
    assert_eq!(
        grant(&env, "restart").await,
        None,
        "nothing granted on the client's word"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_approved_request_grants_exactly_its_role_until_aws_ends_it() {
    let (env, prod, _server) = setup().await;
    let requests: Api<AccessRequest> = env.api(Some("alfie"));
    let role = json!({"name": "prod-operator"});
    // Long enough to read the grant back while it is active, even on a loaded
    // machine; what kubectl shows of an active request is checked on a longer one.
    let (accepted, said) = kubectl_apply_as(
        &env,
        &request("restart", "15s", role.clone(), "alice"),
        Some(ALICE),
        &[],
    )
    .await;
    assert!(accepted, "{said}");
    let pending = env
        .wait_for(&requests, "restart", "Pending", |r| {
            r.status.as_ref().is_some_and(|s| s.phase == Some(AccessPhase::Pending))
        })
        .await;
    assert_eq!(
        pending.annotations()[REQUESTED_BY_ANNOTATION],
        ALICE,
        "admission's record, not the client's"
    );
    assert_eq!(pending.status.unwrap().requested_by.as_deref(), Some(ALICE));
    assert_eq!(grant(&env, "restart").await, None, "nothing granted before an approval");

    // Separation of duties, at admission: the requester, even in an approvers' group, and
    // someone the role does not name.
    let (accepted, said) = kubectl_apply_as(
        &env,
        &approval("self", "restart", "Approve"),
        Some(ALICE),
        &["alfie-leads"],
    )
    .await;
    assert!(!accepted, "{said}");
    assert!(
        said.contains("alice@example.com may not approve or deny AccessRequest restart: it is their own request"),
        "{said}"
    );
    let (accepted, said) =
        kubectl_apply_as(&env, &approval("stranger", "restart", "Approve"), Some("mallory"), &[]).await;
    assert!(!accepted, "{said}");
    assert!(
        said.contains("spec.elevation.approvers names users [carol] and groups [alfie-leads]"),
        "{said}"
    );
    assert_eq!(phase_of(&requests, "restart").await, Some(AccessPhase::Pending));

    let approved_at = Instant::now();
    let (accepted, said) = kubectl_apply_as(
        &env,
        &approval("dave-ok", "restart", "Approve"),
        Some("dave"),
        &["alfie-leads"],
    )
    .await;
    assert!(accepted, "{said}");
    let active = env
        .wait_for(&requests, "restart", "Active", |r| {
            r.status.as_ref().is_some_and(|s| s.phase == Some(AccessPhase::Active))
        })
        .await;
    eprintln!("approval to grant: {:?}", approved_at.elapsed());
    let status = active.status.unwrap();
    assert_eq!(status.approved_by, ["dave"]);
    let expires_at = status.expires_at.expect("expiresAt").0.to_string();
    let role_arn = format!("arn:aws:iam::{prod}:role/{ROLE}");
    let document = grant(&env, "restart").await.expect("the grant in IAM");
    assert_eq!(
        document["Statement"],
        json!([{
            "Sid": "AssumeRoleUntilTheElevationEnds", "Effect": "Allow", "Action": "sts:AssumeRole",
            "Resource": role_arn, "Condition": {"DateLessThan": {"aws:CurrentTime": expires_at}},
        }]),
        "exactly that role, until the end of the window"
    );
    assert!(status.aws_config.unwrap().contains(&format!("role_arn = {role_arn}")));

    // At the end of the window: the grant gone, the role's sessions issued before then denied.
    let expired = env
        .wait_for(&requests, "restart", "Expired", |r| {
            r.status.as_ref().is_some_and(|s| s.phase == Some(AccessPhase::Expired))
        })
        .await;
    assert_eq!(expired.status.unwrap().ended_at.unwrap().0.to_string(), expires_at);
    assert_eq!(grant(&env, "restart").await, None);
    let denied_before = env
        .eventually("the role's Deny on sessions issued before the end", async || {
            sessions_denied_before(&env, &prod, ROLE)
                .await
                .filter(|at| *at == expires_at)
        })
        .await;
    assert_eq!(denied_before, expires_at);
    let reasons = event_reasons(&env, "restart").await;
    for reason in ["Requested", "Approved", "Granted", "Expired"] {
        assert!(reasons.iter().any(|r| r == reason), "{reason} in {reasons:?}");
    }
    assert!(
        event_reasons(&env, "stranger").await.is_empty(),
        "a refused approval is never stored"
    );

    // The trail can be cleaned up: an ended request goes at once, and the Deny stays on time.
    requests
        .delete("restart", &DeleteParams::default())
        .await
        .expect("delete");
    env.eventually("the ended request gone", async || {
        requests.get_opt("restart").await.expect("get").is_none().then_some(())
    })
    .await;
    assert_eq!(sessions_denied_before(&env, &prod, ROLE).await, Some(expires_at));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_an_active_request_revokes_it_within_seconds_and_a_deny_ends_one() {
    let (env, prod, _server) = setup().await;
    let requests: Api<AccessRequest> = env.api(Some("alfie"));
    let (accepted, said) = kubectl_apply_as(
        &env,
        &request("long", "1h", json!({"name": "prod-operator"}), "alice"),
        Some(ALICE),
        &[],
    )
    .await;
    assert!(accepted, "{said}");
    let (accepted, said) = kubectl_apply_as(&env, &approval("carol-ok", "long", "Approve"), Some("carol"), &[]).await;
    assert!(accepted, "{said}");
    let active = env
        .wait_for(&requests, "long", "Active", |r| {
            r.status.as_ref().is_some_and(|s| s.phase == Some(AccessPhase::Active))
        })
        .await;
    assert!(grant(&env, "long").await.is_some());
    let expires_at = active.status.unwrap().expires_at.expect("expiresAt").0.to_string();
    // What `kubectl get` and `kubectl explain` show of it.
    let listed = env.kubectl(&["get", "accessreq", "-n", "alfie"]).await;
    let lines: Vec<Vec<&str>> = listed.lines().map(|line| line.split_whitespace().collect()).collect();
    assert_eq!(lines[0], ["NAME", "USER", "ROLE", "PHASE", "UNTIL", "AGE"], "{listed}");
    assert_eq!(
        lines[1][..5],
        ["long", "alice", "prod-operator", "Active", expires_at.as_str()],
        "{listed}"
    );
    let explained = env.kubectl(&["explain", "accessrequest.spec.duration"]).await;
    let words = explained.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        words.contains("at most the role's `elevation.maxDuration`"),
        "{explained}"
    );

    let revoked_at = k8s_openapi::jiff::Timestamp::now();
    let started = Instant::now();
    requests.delete("long", &DeleteParams::default()).await.expect("delete");
    env.eventually("the grant removed and the role denying older sessions", async || {
        let denied = sessions_denied_before(&env, &prod, ROLE).await?;
        let denied: k8s_openapi::jiff::Timestamp = denied.parse().ok()?;
        (grant(&env, "long").await.is_none() && denied >= revoked_at).then_some(())
    })
    .await;
    eprintln!("revocation by deletion: {:?}", started.elapsed());
    env.eventually("the request gone once the role holds the Deny", async || {
        requests.get_opt("long").await.expect("get").is_none().then_some(())
    })
    .await;
    assert!(event_reasons(&env, "long").await.iter().any(|r| r == "Revoked"));

    // A Deny from an approver: before the grant the request is Denied, after it Revoked.
    for (name, approve_first, phase) in [
        ("denied", false, AccessPhase::Denied),
        ("cut", true, AccessPhase::Revoked),
    ] {
        let object = request(name, "1h", json!({"name": "prod-operator"}), "alice");
        let (accepted, said) = kubectl_apply_as(&env, &object, Some(ALICE), &[]).await;
        assert!(accepted, "{said}");
        if approve_first {
            let (accepted, said) = kubectl_apply_as(
                &env,
                &approval(&format!("{name}-ok"), name, "Approve"),
                Some("carol"),
                &[],
            )
            .await;
            assert!(accepted, "{said}");
            env.wait_for(&requests, name, "Active", |r| {
                r.status.as_ref().is_some_and(|s| s.phase == Some(AccessPhase::Active))
            })
            .await;
        }
        let (accepted, said) = kubectl_apply_as(
            &env,
            &approval(&format!("{name}-no"), name, "Deny"),
            Some("dave"),
            &["alfie-leads"],
        )
        .await;
        assert!(accepted, "{said}");
        let ended = env
            .wait_for(&requests, name, "ended by the Deny", |r| {
                r.status.as_ref().is_some_and(|s| s.phase == Some(phase))
            })
            .await;
        let status = ended.status.unwrap();
        assert_eq!(status.denied_by.as_deref(), Some("dave"));
        assert_eq!(
            status.ended_at.is_some(),
            approve_first,
            "only what was granted has sessions to deny"
        );
        assert_eq!(grant(&env, name).await, None);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_a_namespace_may_not_ask_for_is_refused_with_the_field_named() {
    let (env, _prod, _server) = setup().await;
    let role = json!({"name": "prod-operator"});
    let refused = [
        (
            request("too-long", "2h", role.clone(), "alice"),
            "spec.duration: 2h is longer than CrossAccountRole prod-operator's spec.elevation.maxDuration 1h",
        ),
        (
            request("standing", "1h", json!({"name": "standing"}), "alice"),
            "spec.role: CrossAccountRole standing has no spec.elevation",
        ),
        (
            request("someone-else", "1h", role.clone(), "bob"),
            "spec.user: no IamUser of namespace alfie makes IAM user bob",
        ),
        (
            request(
                "elsewhere",
                "1h",
                json!({"name": "prod-operator", "namespace": "bravo"}),
                "alice",
            ),
            "spec.role.namespace",
        ),
    ];
    for (object, field) in refused {
        let (accepted, said) = kubectl_apply_as(&env, &object, Some(ALICE), &[]).await;
        assert!(!accepted, "{said}");
        assert!(said.contains(field), "{field} in {said}");
    }
    // Once made, a request cannot be changed, nor what admission recorded.
    let (accepted, said) =
        kubectl_apply_as(&env, &request("fixed", "1h", role.clone(), "alice"), Some(ALICE), &[]).await;
    assert!(accepted, "{said}");
    let (accepted, said) = kubectl_apply_as(&env, &request("fixed", "30m", role, "alice"), Some(ALICE), &[]).await;
    assert!(!accepted, "{said}");
    assert!(said.contains("an AccessRequest cannot be changed"), "{said}");
}

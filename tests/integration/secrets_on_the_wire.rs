//! What the API server sends the operator about Secrets, read off the wire:
//! its watch of external-ID Secrets asks for metadata only, so no Secret's
//! data streams to it; the one Secret a role names is read when needed, and
//! a Secret nothing names is never sent at all.

use aws_access_operator::api::CrossAccountRole;
use kube::api::Api;

use crate::support::kube_wire::KubeWire;
use crate::support::operator::{Env, ready_is, test_config};

const NAMESPACE: &str = include_str!("../fixtures/alfie-namespace.yaml");
const EXTERNAL_ID: &str = "external-id-on-the-wire-0123456789";
const UNNAMED: &str = "a-secret-no-role-names-0123456789";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_operator_receives_no_secret_data_through_its_watches() {
    let env = Env::without_operator().await;
    let wire = KubeWire::start(env.kube.address()).await;
    let env = env.start_operator_with(wire.client(), test_config());
    env.moto.create_organization().await;
    let prod = env.moto.create_member_account("prod").await;
    env.open_accounts(&[("prod", &prod)]).await;
    env.apply(&format!(
        r#"
{NAMESPACE}---
apiVersion: v1
kind: Secret
metadata: {{name: prod-external-id, namespace: alfie, labels: {{awsaccess.dev/external-id: "true"}}}}
stringData: {{externalId: {EXTERNAL_ID}}}
---
apiVersion: v1
kind: Secret
metadata: {{name: unnamed, namespace: alfie, labels: {{awsaccess.dev/external-id: "true"}}}}
stringData: {{externalId: {UNNAMED}}}
---
apiVersion: awsaccess.dev/v1alpha1
kind: CrossAccountRole
metadata: {{name: partner-app, namespace: alfie}}
spec:
  account: {{id: "{prod}"}}
  roleName: PartnerApp
  trust:
    accounts: [{{id: "{prod}"}}]
    externalIdSecretRef: {{name: prod-external-id}}
"#
    ))
    .await;
    let roles: Api<CrossAccountRole> = env.api(Some("alfie"));
    env.wait_for(&roles, "partner-app", "Ready", |r| {
        r.status
            .as_ref()
            .is_some_and(|s| ready_is(&s.reconcile.conditions, r.metadata.generation, "True", "Created"))
    })
    .await;

    let exchanges = wire.exchanges();
    let secret_watches: Vec<_> = exchanges
        .iter()
        .filter(|e| e.path_and_query.contains("/secrets?") && e.path_and_query.contains("watch=true"))
        .collect();
    assert!(
        !secret_watches.is_empty(),
        "the operator watches Secrets: {exchanges:?}"
    );
    for watch in &secret_watches {
        let answer = String::from_utf8_lossy(&watch.answer);
        assert!(answer.contains("PartialObjectMetadata"), "{answer}");
        assert!(!answer.contains("\"data\""), "Secret data in a watch: {answer}");
    }
    let everything: String = exchanges
        .iter()
        .map(|e| String::from_utf8_lossy(&e.answer).into_owned())
        .collect();
    let encoded = |value: &str| base64_of(value);
    assert!(
        everything.contains(&encoded(EXTERNAL_ID)),
        "the named Secret is read when the role needs it"
    );
    assert!(
        !everything.contains(&encoded(UNNAMED)),
        "a Secret no role names never reaches the operator"
    );
}

fn base64_of(value: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(value)
}

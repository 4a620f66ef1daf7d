//! The admission webhook (issue 22), registered as the chart registers it
//! (its ValidatingWebhookConfiguration, Service and generated certificate,
//! rendered by the real helm), served by the operator's own code, and
//! called by kube-testserver as a real API server calls it: `kubectl apply`
//! of what a guardrail forbids is refused with the reconcile's message; with
//! the webhook down the apply is refused too (failurePolicy Fail); and the
//! reconcile refuses it anyway when the webhook is not registered.

use std::time::{Duration, Instant};

use kube::api::{Api, DynamicObject, Patch, PatchParams};
use serde_json::{Value, json};

use crate::support::operator::{Env, test_config};
use crate::support::webhook::{kubectl_apply, one, serve};
const ADMIN: &str = "arn:aws:iam::aws:policy/AdministratorAccess";
const READ_ONLY: &str = "arn:aws:iam::aws:policy/ReadOnlyAccess";

fn role(name: &str, policy: &str) -> Value {
    json!({
        "apiVersion": "awsaccess.dev/v1alpha1",
        "kind": "CrossAccountRole",
        "metadata": {"name": name, "namespace": "alfie"},
        "spec": {
            "account": {"name": "prod"},
            "trust": {"accounts": [{"id": "123456789012"}]},
            "permissions": {"managedPolicyArns": [policy]},
        },
    })
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// Server-side applies of an allowed change, timed: what a client waits.
async fn timed_applies(api: &Api<DynamicObject>, count: usize) -> Vec<Duration> {
    let mut times = Vec::with_capacity(count);
    for i in 0..count {
        let mut object = role("timed", READ_ONLY);
        object["spec"]["description"] = json!(format!("apply {i}"));
        let started = Instant::now();
        api.patch("timed", &PatchParams::apply("latency").force(), &Patch::Apply(&object))
            .await
            .expect("an allowed apply");
        times.push(started.elapsed());
    }
    times.sort();
    times
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_apply_of_what_a_guardrail_forbids_is_refused_by_the_webhook_the_chart_registers() {
    let env = Env::without_operator().await.start_operator(test_config());
    env.moto.create_organization().await;
    let prod = env.moto.create_member_account("prod").await;
    env.apply(&format!(
        r#"
apiVersion: v1
kind: Namespace
metadata: {{name: alfie}}
---
apiVersion: awsaccess.dev/v1alpha1
kind: AwsAccount
metadata: {{name: prod}}
spec:
  accountName: prod
  email: prod@example.com
  accountId: "{prod}"
  allowedNamespaces: [alfie]
  guardrails:
    allowedManagedPolicyArns: ["{READ_ONLY}"]
"#
    ))
    .await;

    // The operator's webhook, with the chart's certificate, where the chart's Service would route.
    let (server, docs) = serve(&env, test_config()).await;
    let registration = one(&docs, "ValidatingWebhookConfiguration");
    let (registered, said) = kubectl_apply(&env, registration).await;
    assert!(registered, "{said}");

    let (accepted, said) = kubectl_apply(&env, &role("admin", ADMIN)).await;
    assert!(!accepted, "{said}");
    assert!(
        said.contains(&format!("admission webhook \"tenancy.awsaccess.dev\" denied the request: spec.permissions.managedPolicyArns[0]: {ADMIN} is not in AwsAccount prod's guardrails.allowedManagedPolicyArns")),
        "{said}"
    );
    let roles = env.dynamic_api("CrossAccountRole", "alfie");
    assert!(
        roles.get_opt("admin").await.expect("get").is_none(),
        "refused objects are not stored"
    );
    let (accepted, said) = kubectl_apply(&env, &role("reader", READ_ONLY)).await;
    assert!(accepted, "{said}");

    // An IamUser: bad input named by its field, and the identity account,
    // which no AwsAccount represents here, refused as the reconcile would.
    let user = |spec: Value| {
        json!({
            "apiVersion": "awsaccess.dev/v1alpha1",
            "kind": "IamUser",
            "metadata": {"name": "alice", "namespace": "alfie"},
            "spec": spec,
        })
    };
    let (accepted, said) = kubectl_apply(&env, &user(json!({"console": {"enabled": true}}))).await;
    assert!(!accepted, "{said}");
    assert!(
        said.contains(
            "denied the request: spec.console.passwordSecretName: required when spec.console.enabled is true"
        ),
        "{said}"
    );
    let (accepted, said) = kubectl_apply(&env, &user(json!({"accessKeys": {"secretName": "alice-aws"}}))).await;
    assert!(!accepted, "{said}");
    assert!(
        said.contains("denied the request: spec.account: absent, so the identity account"),
        "{said}"
    );

    // A document nested beyond what any field needs is refused by name, not
    // with a decoding error of the whole review.
    let mut deep = role("deep", READ_ONLY);
    let mut values = json!("vpc-1");
    for _ in 0..100 {
        values = json!([values]);
    }
    deep["spec"]["permissions"]["inlinePolicies"] = json!([{"name": "p", "document": {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*", "Condition": {"StringEquals": {"aws:SourceVpc": values}}}
    ]}}]);
    let (accepted, said) = kubectl_apply(&env, &deep).await;
    assert!(!accepted, "{said}");
    assert!(
        said.contains("denied the request: spec.permissions.inlinePolicies[0].document.Statement[0].Condition.StringEquals.aws:SourceVpc")
            && said.contains("nests more than 32 levels"),
        "{said}"
    );

    // What the webhook adds to an apply: the same allowed change with and without it.
    let with_webhook = timed_applies(&roles, 200).await;
    let configurations = Api::<DynamicObject>::all_with(env.client.clone(), &validating_configurations());
    let name = registration["metadata"]["name"].as_str().expect("name");
    configurations
        .delete(name, &Default::default())
        .await
        .expect("unregister");
    let without = timed_applies(&roles, 200).await;
    eprintln!(
        "admission latency over 200 applies: p50 {:?} with the webhook, {:?} without ({:?} added); p99 {:?}, {:?} ({:?} added)",
        percentile(&with_webhook, 0.5),
        percentile(&without, 0.5),
        percentile(&with_webhook, 0.5).saturating_sub(percentile(&without, 0.5)),
        percentile(&with_webhook, 0.99),
        percentile(&without, 0.99),
        percentile(&with_webhook, 0.99).saturating_sub(percentile(&without, 0.99)),
    );

    // Unregistered, the apply goes through and the reconcile refuses it anyway.
    let (accepted, said) = kubectl_apply(&env, &role("admin", ADMIN)).await;
    assert!(accepted, "{said}");
    let stalled = env
        .stalled_message("CrossAccountRole", "alfie", "admin", "GuardrailViolation")
        .await;
    assert!(stalled.contains("spec.permissions.managedPolicyArns[0]"), "{stalled}");
    env.eventually("the role made without AdministratorAccess", async || {
        let iam = env.moto.member_iam(&prod).await;
        let attached = iam.list_attached_role_policies().role_name("admin").send().await.ok()?;
        let arns: Vec<&str> = attached
            .attached_policies()
            .iter()
            .filter_map(|p| p.policy_arn())
            .collect();
        arns.is_empty().then_some(())
    })
    .await;

    // Registered again with the webhook down: failurePolicy Fail refuses the apply.
    let (registered, said) = kubectl_apply(&env, registration).await;
    assert!(registered, "{said}");
    server.abort();
    let _ = server.await;
    let (accepted, said) = kubectl_apply(&env, &role("another", READ_ONLY)).await;
    assert!(!accepted, "{said}");
    assert!(
        said.contains("failed calling webhook \"tenancy.awsaccess.dev\""),
        "{said}"
    );
}

fn validating_configurations() -> kube::api::ApiResource {
    kube::api::ApiResource {
        group: "admissionregistration.k8s.io".into(),
        version: "v1".into(),
        api_version: "admissionregistration.k8s.io/v1".into(),
        kind: "ValidatingWebhookConfiguration".into(),
        plural: "validatingwebhookconfigurations".into(),
    }
}

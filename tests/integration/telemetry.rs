//! What Prometheus and the kubelet see: reconcile metrics under
//! controller-runtime's names, AWS calls by operation, health endpoints;
//! and what the logs hold at their most verbose.

use std::sync::{Arc, Mutex};

use aws_access_operator::api::{CrossAccountRole, PartnerAccess, PartnerPhase};
use aws_access_operator::aws::sdk::SdkAws;
use aws_access_operator::controller::{self, Telemetry};
use aws_access_operator::telemetry;
use aws_sdk_iam::config::{Credentials, SharedInterceptor};
use k8s_openapi::api::core::v1::Secret;
use kube::api::Api;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tracing_subscriber::util::SubscriberInitExt;

use crate::support::fault::FaultyAws;
use crate::support::moto::{MANAGEMENT_ACCOUNT, Moto};
use crate::support::operator::{Env, ready_is, test_config};

async fn http_get(address: std::net::SocketAddr, path: &str) -> String {
    let mut stream = tokio::net::TcpStream::connect(address).await.expect("connect");
    stream
        .write_all(format!("GET {path} HTTP/1.0\r\nHost: localhost\r\n\r\n").as_bytes())
        .await
        .expect("request");
    let mut response = String::new();
    stream.read_to_string(&mut response).await.expect("response");
    response
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_and_health_endpoints_report_reconciles_and_aws_calls() {
    let env = Env::without_operator().await;
    env.moto.create_organization().await;
    let dev = env.moto.create_member_account("dev").await;
    env.open_accounts(&[("dev", &dev)]).await;
    let telemetry = Telemetry::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address");
    tokio::spawn(telemetry::serve(
        listener,
        telemetry.metrics.clone(),
        telemetry.readiness.clone(),
    ));
    assert!(http_get(address, "/healthz").await.starts_with("HTTP/1.0 200"));

    let counter = SharedInterceptor::new(telemetry.metrics.aws_call_counter());
    let aws = Arc::new(FaultyAws::new(Arc::new(SdkAws::with_interceptors(
        &env.moto.sdk_config().await,
        vec![counter],
    ))));
    tokio::spawn(controller::run(
        env.client.clone(),
        aws,
        test_config(),
        telemetry.clone(),
        std::future::pending(),
    ));
    // Settled before the role is made: each change of an AwsAccount reconciles
    // the role again, which would say InSync where the test reads Created.
    env.wait_settled(&["identity", "dev"]).await;
    env.apply(&format!(
        r#"
apiVersion: awsaccess.dev/v1alpha1
kind: CrossAccountRole
metadata: {{name: measured, namespace: default}}
spec:
  account: {{id: "{dev}"}}
  trust: {{accounts: [{{id: "{MANAGEMENT_ACCOUNT}"}}]}}
"#
    ))
    .await;
    let roles: Api<CrossAccountRole> = env.api(Some("default"));
    env.wait_for(&roles, "measured", "Ready", |r| {
        r.status
            .as_ref()
            .is_some_and(|s| ready_is(&s.reconcile.conditions, r.metadata.generation, "True", "Created"))
    })
    .await;
    env.eventually("ready once the caches synced", async || {
        http_get(address, "/readyz")
            .await
            .starts_with("HTTP/1.0 200")
            .then_some(())
    })
    .await;

    let expected = [
        r#"controller_runtime_reconcile_total{controller="CrossAccountRole",result="success"}"#,
        r#"controller_runtime_reconcile_time_seconds_bucket{le="0.005",controller="CrossAccountRole"}"#,
        r#"awsaccess_aws_calls_total{service="IAM",operation="CreateRole",outcome="success"} 1"#,
        // One session for the account's reads, one named for the role for its writes.
        r#"awsaccess_aws_calls_total{service="STS",operation="AssumeRole",outcome="success"} 2"#,
    ];
    // The reconcile is counted when it returns, a moment after the status
    // write that made the role Ready.
    let mut metrics = String::new();
    for _ in 0..100 {
        metrics = http_get(address, "/metrics").await;
        if expected.iter().all(|line| metrics.contains(line)) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    for line in expected {
        assert!(metrics.contains(line), "{line} in\n{metrics}");
    }
}

/// Log lines as the operator writes them, kept for the test to read.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("log buffer").extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().expect("log buffer")).into_owned()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trace_logs_hold_no_external_id_and_no_aws_secret() {
    let captured = Captured::default();
    let writer = captured.clone();
    // Global, as in the binary: the operator's tasks log from every worker thread.
    telemetry::logs("trace", false, move || writer.clone()).init();

    let moto = Moto::start().await;
    // moto takes any key for its default account; one no log line could hold by chance.
    let secret_access_key = "operator-secret-key-8c1d3a7f5e2b9046";
    let operator = moto
        .sdk_config_with(Credentials::new(
            "AKIAOPERATORTRACE",
            secret_access_key,
            None,
            None,
            "test",
        ))
        .await;
    let env = Env::around(moto, &operator).await.start_operator(test_config());
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
  permissions: {{managedPolicyArns: [arn:aws:iam::aws:policy/ReadOnlyAccess]}}
"#
    ))
    .await;
    let partners: Api<PartnerAccess> = env.api(Some("partners"));
    env.wait_for(&partners, "sembit", "Active and Ready", |p| {
        p.status.as_ref().is_some_and(|s| {
            s.phase == Some(PartnerPhase::Active)
                && ready_is(&s.reconcile.conditions, p.metadata.generation, "True", "InSync")
        })
    })
    .await;
    let secrets: Api<Secret> = env.api(Some("partners"));
    let secret = secrets
        .get("sembit-external-id")
        .await
        .expect("the external ID's Secret");
    let external_id = String::from_utf8(secret.data.expect("data")["externalId"].0.clone()).expect("utf-8");

    let logs = captured.text();
    assert!(
        logs.contains("TRACE"),
        "no TRACE line: the subscriber captured nothing to judge"
    );
    assert!(
        logs.contains("aws_smithy_runtime"),
        "no line of the AWS SDK: its calls were not logged at all"
    );
    for (what, secret) in [
        ("the partner's external ID", external_id.as_str()),
        ("the operator's secret access key", secret_access_key),
        // The header of the role sessions' tokens, in the member accounts.
        ("a role session's token", "x-amz-security-token"),
    ] {
        if let Some(at) = logs.find(secret) {
            // Enough of what comes before to name the target, whose line may
            // be a few lines up (a canonical request spans several).
            let mut before: Vec<char> = logs[..at].chars().rev().take(600).collect();
            before.reverse();
            let before: String = before.into_iter().collect();
            panic!("{what} is in the trace logs, after:\n{before}");
        }
    }
}

//! What Prometheus and the kubelet see: reconcile metrics under
//! controller-runtime's names, AWS calls by operation, health endpoints.

mod support;

use std::sync::Arc;

use aws_access_operator::api::CrossAccountRole;
use aws_access_operator::aws::sdk::SdkAws;
use aws_access_operator::controller::{self, Telemetry};
use aws_access_operator::telemetry;
use aws_sdk_iam::config::SharedInterceptor;
use kube::api::Api;
use support::fault::FaultyAws;
use support::moto::MANAGEMENT_ACCOUNT;
use support::operator::{Env, ready_is, test_config};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

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
    env.apply(&format!("apiVersion: awsaccess.dev/v1alpha1\nkind: CrossAccountRole\nmetadata: {{name: measured, namespace: default}}\nspec:\n  account: {{id: \"{dev}\"}}\n  trust: {{accounts: [{{id: \"{MANAGEMENT_ACCOUNT}\"}}]}}\n")).await;
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

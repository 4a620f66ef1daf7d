//! Two replicas, one Lease: only the leader touches AWS, and when it dies
//! the other takes over within the lease duration.

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_access_operator::api::CrossAccountRole;
use aws_access_operator::aws::sdk::SdkAws;
use aws_access_operator::controller::{self, Telemetry};
use aws_access_operator::leader::{Elector, LeaseConfig};
use k8s_openapi::api::coordination::v1::Lease;
use kube::api::Api;
use support::fault::FaultyAws;
use support::moto::MANAGEMENT_ACCOUNT;
use support::operator::{Env, ready_is, test_config};
use tokio::task::JoinHandle;

const LEASE_DURATION: Duration = Duration::from_secs(2);

async fn replica(env: &Env, name: &str) -> (JoinHandle<()>, Arc<FaultyAws>) {
    let aws = Arc::new(FaultyAws::new(Arc::new(SdkAws::new(&env.moto.sdk_config().await))));
    let lease = LeaseConfig {
        namespace: "default".into(),
        name: "aws-access-operator".into(),
        holder: name.into(),
        duration: LEASE_DURATION,
    };
    let elector = Elector::new(env.client.clone(), lease);
    let controllers = controller::run(
        env.client.clone(),
        aws.clone(),
        test_config(),
        Telemetry::default(),
        std::future::pending(),
    );
    let task = tokio::spawn(async move {
        elector.acquire().await;
        elector.lead(controllers).await;
    });
    (task, aws)
}

fn role(name: &str, account: &str) -> String {
    format!(
        "apiVersion: awsaccess.dev/v1alpha1\nkind: CrossAccountRole\nmetadata: {{name: {name}, namespace: default}}\nspec:\n  account: {{id: \"{account}\"}}\n  trust: {{accounts: [{{id: \"{MANAGEMENT_ACCOUNT}\"}}]}}\n"
    )
}

async fn holder(leases: &Api<Lease>) -> Option<String> {
    leases
        .get_opt("aws-access-operator")
        .await
        .expect("get lease")?
        .spec?
        .holder_identity
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_replica_takes_over_when_the_leader_dies() {
    let env = Env::without_operator().await;
    env.moto.create_organization().await;
    let dev = env.moto.create_member_account("dev").await;
    let leases: Api<Lease> = Api::namespaced(env.client.clone(), "default");
    let roles: Api<CrossAccountRole> = env.api(Some("default"));
    let ready = |r: &CrossAccountRole| {
        r.status
            .as_ref()
            .is_some_and(|s| ready_is(&s.reconcile.conditions, r.metadata.generation, "True", "Created"))
    };

    let (first, first_aws) = replica(&env, "replica-a").await;
    env.eventually("replica-a leads", async || {
        (holder(&leases).await.as_deref() == Some("replica-a")).then_some(())
    })
    .await;
    let (second, second_aws) = replica(&env, "replica-b").await;
    env.apply(&role("before", &dev)).await;
    env.wait_for(&roles, "before", "Ready", ready).await;
    assert!(first_aws.count("CreateRole") == 1, "the leader did the work");
    assert!(second_aws.calls().is_empty(), "a follower touches no AWS API");

    // The leader dies without giving the lease up.
    first.abort();
    let died = Instant::now();
    env.eventually("replica-b leads", async || {
        (holder(&leases).await.as_deref() == Some("replica-b")).then_some(())
    })
    .await;
    let takeover = died.elapsed();
    assert!(takeover < LEASE_DURATION * 2, "took over in {takeover:?}");
    env.apply(&role("after", &dev)).await;
    env.wait_for(&roles, "after", "Ready", ready).await;
    assert_eq!(second_aws.count("CreateRole"), 1, "the new leader does the work");
    let transitions = leases
        .get("aws-access-operator")
        .await
        .expect("lease")
        .spec
        .and_then(|s| s.lease_transitions);
    assert_eq!(transitions, Some(1));
    second.abort();
}

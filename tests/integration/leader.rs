//! Several replicas, one Lease: only the leader touches AWS (its controllers
//! and its security review); a replica whose clock is off never deposes a
//! leader that keeps renewing; when the leader dies another takes over within
//! about a lease duration; and a leader cut off from the API server stops
//! before another may take over.

use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use aws_access_operator::api::CrossAccountRole;
use aws_access_operator::aws::sdk::SdkAws;
use aws_access_operator::controller::{self, Config, Telemetry};
use aws_access_operator::leader::{self, Elector, LeaseConfig, Timing, WallClock};
use aws_access_operator::report::{self, ReviewOptions, Thresholds};
use aws_access_operator::telemetry::Metrics;
use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::jiff::{SignedDuration, Timestamp};
use kube::api::Api;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::support::fault::FaultyAws;
use crate::support::moto::MANAGEMENT_ACCOUNT;
use crate::support::operator::{Env, ready_is, test_config};
use crate::support::proxy::{Cut, Proxy};

/// Short enough for tests, with two seconds between a leader giving up and
/// anyone else being allowed to take over: a loaded machine delays timers
/// far less than that.
const LEASE_DURATION: Duration = Duration::from_secs(4);
const RENEW_DEADLINE: Duration = Duration::from_secs(2);
const RETRY_PERIOD: Duration = Duration::from_millis(250);

fn timing() -> Timing {
    Timing::new(LEASE_DURATION, RENEW_DEADLINE, RETRY_PERIOD).expect("valid timing")
}

struct Replica {
    task: JoinHandle<()>,
    aws: Arc<FaultyAws>,
    leading: watch::Receiver<bool>,
    /// Set by the replica itself the moment it starts and stops leading, so no
    /// observer's scheduling delay blurs the order of two replicas' terms.
    led_at: Arc<OnceLock<Instant>>,
    stopped_at: Arc<OnceLock<Instant>>,
}

impl Replica {
    /// The operator with leader election, as `run --leader-election` wires it,
    /// reaching the API server through `client` and stamping the Lease with a
    /// clock `skew` ahead of the real one.
    async fn start(env: &Env, client: kube::Client, name: &str, skew: SignedDuration) -> Replica {
        let aws = Arc::new(FaultyAws::new(Arc::new(SdkAws::new(&env.moto.sdk_config().await))));
        let lease = LeaseConfig {
            namespace: "default".into(),
            name: "aws-access-operator".into(),
            holder: name.into(),
            timing: timing(),
            clock: WallClock::skewed(skew),
        };
        let mut elector = Elector::new(client.clone(), lease);
        let leading = elector.leading();
        // Drift checks this often keep a leader calling AWS all the time, so
        // two terms that overlap show as interleaved calls.
        let config = Config {
            resync_interval: Duration::from_millis(200),
            ..test_config()
        };
        let controllers = controller::run(
            client.clone(),
            aws.clone(),
            config,
            Telemetry::default(),
            std::future::pending(),
        );
        let review = report::metrics::keep_counted(
            aws.clone(),
            client,
            review_options(),
            Arc::new(Metrics::default()),
            Duration::from_secs(3600),
        );
        let duties = leader::duties(controllers, review);
        let (led_at, stopped_at) = (Arc::new(OnceLock::new()), Arc::new(OnceLock::new()));
        let (led, stopped) = (led_at.clone(), stopped_at.clone());
        let task = tokio::spawn(async move {
            elector.acquire().await;
            led.get_or_init(Instant::now);
            elector.lead(duties).await;
            stopped.get_or_init(Instant::now);
        });
        Replica {
            task,
            aws,
            leading,
            led_at,
            stopped_at,
        }
    }

    /// Whether the security review has asked IAM for a credential report.
    fn reviewed(&self) -> bool {
        self.aws.count("GenerateCredentialReport") + self.aws.count("GetCredentialReport") > 0
    }

    fn first_aws_call(&self) -> Option<Instant> {
        self.aws.timed_calls().first().map(|(at, _)| *at)
    }

    fn last_aws_call(&self) -> Option<Instant> {
        self.aws.timed_calls().last().map(|(at, _)| *at)
    }
}

/// The review as `run` sets it up by default, once an hour.
fn review_options() -> ReviewOptions {
    ReviewOptions {
        access_role: "OrganizationAccountAccessRole".into(),
        credential_report_max_age: Duration::from_secs(4 * 3600),
        thresholds: Thresholds {
            now: Timestamp::now(),
            key_max_age: Duration::from_secs(90 * 86_400),
            credentials_unused_after: Duration::from_secs(90 * 86_400),
            role_unused_after: Duration::from_secs(90 * 86_400),
        },
    }
}

fn role(name: &str, account: &str) -> String {
    format!(
        r#"
apiVersion: awsaccess.dev/v1alpha1
kind: CrossAccountRole
metadata: {{name: {name}, namespace: default}}
spec:
  account: {{id: "{account}"}}
  trust: {{accounts: [{{id: "{MANAGEMENT_ACCOUNT}"}}]}}
"#
    )
}

fn ready(role: &CrossAccountRole) -> bool {
    role.status
        .as_ref()
        .is_some_and(|s| ready_is(&s.reconcile.conditions, role.metadata.generation, "True", "Created"))
}

async fn lease(leases: &Api<Lease>) -> Option<LeaseSpec> {
    leases.get_opt("aws-access-operator").await.expect("get lease")?.spec
}

async fn holder(leases: &Api<Lease>) -> Option<String> {
    lease(leases).await?.holder_identity
}

async fn wait_for_holder(env: &Env, leases: &Api<Lease>, name: &str) {
    env.eventually(&format!("{name} leads"), async || {
        (holder(leases).await.as_deref() == Some(name)).then_some(())
    })
    .await;
}

/// An organization with one member account, open to every namespace, and
/// the API of the Lease and of the roles.
/// Waits, the leader running, until the accounts of `setup` are settled:
/// each change of an AwsAccount reconciles the roles in it again, which
/// would say InSync where the tests read Created.
async fn accounts_settled(env: &Env) {
    env.wait_settled(&["identity", "dev"]).await;
}

async fn setup() -> (Env, String, Api<Lease>, Api<CrossAccountRole>) {
    let env = Env::without_operator().await;
    env.moto.create_organization().await;
    let dev = env.moto.create_member_account("dev").await;
    env.open_accounts(&[("dev", &dev)]).await;
    let leases = Api::namespaced(env.client.clone(), "default");
    let roles = env.api(Some("default"));
    (env, dev, leases, roles)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_with_skewed_clocks_never_depose_a_healthy_leader() {
    let (env, dev, leases, roles) = setup().await;
    let leader = Replica::start(&env, env.client.clone(), "replica-a", SignedDuration::ZERO).await;
    wait_for_holder(&env, &leases, "replica-a").await;
    accounts_settled(&env).await;
    // Ahead by five lease durations, and by minutes: judged by the times in
    // the Lease, both would see the leader's renewals as long expired.
    let followers = [
        Replica::start(&env, env.client.clone(), "replica-b", SignedDuration::from_secs(20)).await,
        Replica::start(&env, env.client.clone(), "replica-c", SignedDuration::from_mins(7)).await,
    ];
    env.apply(&role("skewed", &dev)).await;
    env.wait_for(&roles, "skewed", "Ready", ready).await;
    assert_eq!(leader.aws.count("CreateRole"), 1, "the leader did the work");

    let first_renewal = lease(&leases).await.and_then(|spec| spec.renew_time);
    let watched = Instant::now();
    while watched.elapsed() < LEASE_DURATION * 4 {
        assert_eq!(
            holder(&leases).await.as_deref(),
            Some("replica-a"),
            "deposed after {:?}",
            watched.elapsed()
        );
        assert!(*leader.leading.borrow(), "the leader stopped leading");
        for follower in &followers {
            assert!(!*follower.leading.borrow(), "two leaders");
            assert_eq!(follower.aws.calls(), [], "a follower touched AWS");
            assert!(!follower.task.is_finished(), "a follower gave up");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let spec = lease(&leases).await.expect("lease");
    assert_ne!(spec.renew_time, first_renewal, "the leader kept renewing");
    assert_eq!(spec.lease_transitions, Some(0), "no takeover, not even a brief one");
    assert!(
        leader.aws.count("GetAccountAuthorizationDetails") > 1,
        "the leader kept checking for drift"
    );
    leader.task.abort();
    for follower in followers {
        follower.task.abort();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_replica_takes_over_when_the_leader_dies() {
    let (env, dev, leases, roles) = setup().await;
    // The dead leader stamped the Lease minutes into the future: judged by
    // that time, its successor would wait minutes.
    let first = Replica::start(&env, env.client.clone(), "replica-a", SignedDuration::from_mins(5)).await;
    wait_for_holder(&env, &leases, "replica-a").await;
    accounts_settled(&env).await;
    let second = Replica::start(&env, env.client.clone(), "replica-b", SignedDuration::ZERO).await;
    env.apply(&role("before", &dev)).await;
    env.wait_for(&roles, "before", "Ready", ready).await;
    assert_eq!(first.aws.count("CreateRole"), 1, "the leader did the work");
    env.eventually("the leader runs the security review", async || {
        first.reviewed().then_some(())
    })
    .await;
    assert_eq!(
        second.aws.calls(),
        [],
        "a follower touches no AWS API, for reconciles or the review"
    );

    // The leader dies without giving the lease up.
    first.task.abort();
    let died = Instant::now();
    wait_for_holder(&env, &leases, "replica-b").await;
    let takeover = died.elapsed();
    println!("replica-b took over {takeover:?} after replica-a died (lease duration {LEASE_DURATION:?})");
    // The last renewal came at most a renew deadline before the death.
    assert!(
        takeover > LEASE_DURATION - RENEW_DEADLINE,
        "took over after {takeover:?}, before the lease ran out"
    );
    assert!(takeover < LEASE_DURATION * 2, "took over after {takeover:?}");
    env.apply(&role("after", &dev)).await;
    env.wait_for(&roles, "after", "Ready", ready).await;
    assert_eq!(second.aws.count("CreateRole"), 1, "the new leader does the work");
    env.eventually("the new leader runs the security review", async || {
        second.reviewed().then_some(())
    })
    .await;
    let transitions = lease(&leases).await.and_then(|spec| spec.lease_transitions);
    assert_eq!(transitions, Some(1));
    second.task.abort();
}

/// The leader loses the API server as `cut` says; the other replica still reaches it.
async fn a_partitioned_leader_stops_before_another_takes_over(cut: Cut) {
    let (env, dev, leases, roles) = setup().await;
    let route = Proxy::start(env.kube.address()).await;
    let first = Replica::start(&env, route.client(), "replica-a", SignedDuration::ZERO).await;
    wait_for_holder(&env, &leases, "replica-a").await;
    accounts_settled(&env).await;
    let second = Replica::start(&env, env.client.clone(), "replica-b", SignedDuration::ZERO).await;
    env.apply(&role("before", &dev)).await;
    env.wait_for(&roles, "before", "Ready", ready).await;
    assert_eq!(first.aws.count("CreateRole"), 1, "the leader did the work");

    route.cut(cut);
    let partitioned = Instant::now();
    wait_for_holder(&env, &leases, "replica-b").await;
    let takeover = partitioned.elapsed();
    env.apply(&role("after", &dev)).await;
    env.wait_for(&roles, "after", "Ready", ready).await;
    assert_eq!(second.aws.count("CreateRole"), 1, "the new leader does the work");
    env.eventually("the new leader runs the security review", async || {
        second.reviewed().then_some(())
    })
    .await;

    let stopped = env
        .eventually("replica-a stops leading", async || first.stopped_at.get().copied())
        .await;
    let led = *second.led_at.get().expect("the other replica leads");
    assert!(!*first.leading.borrow());
    let last_call = first.last_aws_call().expect("the first leader called AWS");
    let first_call = second.first_aws_call().expect("the second leader called AWS");
    let since = |at: Instant| at.saturating_duration_since(partitioned);
    println!(
        "{cut:?}: replica-a stopped leading {:?} after the cut, its last AWS call {:?} after it; \
         replica-b led {:?} after it, its first AWS call {:?} after it; lease holder changed after {takeover:?}",
        since(stopped),
        since(last_call),
        since(led),
        since(first_call),
    );
    assert!(
        stopped < led,
        "both led from {:?} to {:?} after the cut",
        since(led),
        since(stopped)
    );
    assert!(
        last_call < first_call,
        "both called AWS: replica-a until {:?} after the cut, replica-b from {:?}",
        since(last_call),
        since(first_call)
    );
    assert!(
        since(stopped) < LEASE_DURATION,
        "replica-a led {:?} past the cut",
        since(stopped)
    );
    second.task.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_leader_whose_requests_hang_stops_before_another_takes_over() {
    a_partitioned_leader_stops_before_another_takes_over(Cut::Hang).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_leader_whose_connections_are_refused_stops_before_another_takes_over() {
    a_partitioned_leader_stops_before_another_takes_over(Cut::Refuse).await;
}

#[test]
fn timings_that_could_let_two_replicas_lead_are_refused() {
    let run = |extra: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_aws-access-operator"))
            .args(["run", "--leader-election", "--metrics-address", "127.0.0.1:0"])
            .args(extra)
            .env_remove("RENEW_DEADLINE")
            .env_remove("RETRY_PERIOD")
            .env_remove("LEASE_DURATION")
            .output()
            .expect("run the operator")
    };
    for (flags, message) in [
        (
            &["--lease-duration", "10s", "--renew-deadline", "10s"][..],
            "the renew deadline (10s) must be shorter than the lease duration (10s)",
        ),
        (
            &["--renew-deadline", "5s", "--retry-period", "5s"][..],
            "the retry period (5s) must be more than zero and shorter than the renew deadline (5s)",
        ),
        (
            &[
                "--lease-duration",
                "1500ms",
                "--renew-deadline",
                "1s",
                "--retry-period",
                "100ms",
            ][..],
            "the lease duration (1.5s) must be a whole number of seconds",
        ),
    ] {
        let out = run(flags);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{flags:?} accepted");
        assert!(stderr.contains(message), "{flags:?}: {stderr}");
    }
}

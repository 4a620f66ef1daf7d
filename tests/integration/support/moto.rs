//! moto_server as the AWS of integration tests: one server per test, on its own
//! loopback port, gone when the test drops it.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_iam::config::Credentials;
use aws_sdk_organizations::types::{CreateAccountState, OrganizationFeatureSet};
use aws_sdk_sts::error::ProvideErrorMetadata;

/// The account moto's default credentials belong to.
pub const MANAGEMENT_ACCOUNT: &str = "123456789012";
/// The role Organizations creates in each new member account.
pub const ACCESS_ROLE: &str = "OrganizationAccountAccessRole";

/// A port can be taken by another process between our probe and moto's bind;
/// then moto exits and the next attempt picks another port.
const START_ATTEMPTS: usize = 5;
/// Generous: moto imports for about a second, longer while compilers share the cores.
const READY_TIMEOUT: Duration = Duration::from_secs(60);
const POLL_INTERVAL: Duration = Duration::from_millis(50);

pub struct Moto {
    server: Child,
    endpoint: String,
}

enum Startup {
    Ready,
    Exited(std::process::ExitStatus),
}

impl Moto {
    pub async fn start() -> Moto {
        Moto::start_with(&[]).await
    }

    /// A moto that serves the first `unauthenticated` requests as it always
    /// does (the readiness probe takes one; the test's setup the rest) and
    /// then checks every request as IAM would: signed by an access key of a
    /// user or an assumed role whose policies allow the action
    /// (`INITIAL_NO_AUTH_ACTION_COUNT`). `end_unauthenticated_setup` marks
    /// where the checks begin. moto_iam/sitecustomize.py makes its checks and
    /// refusals those of AWS where a client other than botocore sees them.
    pub async fn start_enforcing_iam_after(unauthenticated: usize) -> Moto {
        let fixes = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/integration/support/moto_iam");
        let count = unauthenticated.to_string();
        Moto::start_with(&[("INITIAL_NO_AUTH_ACTION_COUNT", &count), ("PYTHONPATH", fixes)]).await
    }

    async fn start_with(environment: &[(&str, &str)]) -> Moto {
        let binary = server_binary();
        for _ in 0..START_ATTEMPTS {
            let port = free_port();
            let server = Command::new(&binary)
                .args(["-H", "127.0.0.1", "-p", &port.to_string()])
                .env("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
                .envs(environment.iter().copied())
                // moto logs every request; a pipe nobody reads would fill and stall it.
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap_or_else(|error| panic!("cannot start {}: {error}; run scripts/setup.sh", binary.display()));
            let mut moto = Moto {
                server,
                endpoint: format!("http://127.0.0.1:{port}"),
            };
            match moto.wait_until_ready().await {
                Startup::Ready => return moto,
                Startup::Exited(status) => {
                    eprintln!("moto_server on port {port} exited ({status}); retrying")
                }
            }
        }
        panic!(
            "moto_server ({}) did not start in {START_ATTEMPTS} attempts",
            binary.display()
        );
    }

    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The management account's view: static test credentials, us-east-1, moto's endpoint.
    pub async fn sdk_config(&self) -> SdkConfig {
        self.sdk_config_with(test_credentials()).await
    }

    /// us-east-1 and moto's endpoint, signed with `credentials`.
    pub async fn sdk_config_with(&self, credentials: Credentials) -> SdkConfig {
        sdk_config_at(&self.endpoint, credentials).await
    }

    /// The management account's view through `endpoint`, a proxy in front of moto.
    pub async fn sdk_config_through(&self, endpoint: &str) -> SdkConfig {
        sdk_config_at(endpoint, test_credentials()).await
    }

    /// Turns the management account into an organization; returns the root id.
    pub async fn create_organization(&self) -> String {
        let organizations = aws_sdk_organizations::Client::new(&self.sdk_config().await);
        organizations
            .create_organization()
            .feature_set(OrganizationFeatureSet::All)
            .send()
            .await
            .expect("CreateOrganization");
        let roots = organizations.list_roots().send().await.expect("ListRoots");
        roots
            .roots()
            .first()
            .and_then(|root| root.id())
            .expect("a root")
            .to_owned()
    }

    /// Creates a member account the way a user would; returns its id.
    pub async fn create_member_account(&self, name: &str) -> String {
        let organizations = aws_sdk_organizations::Client::new(&self.sdk_config().await);
        let created = organizations
            .create_account()
            .account_name(name)
            .email(format!("{name}@example.com"))
            .send()
            .await
            .expect("CreateAccount");
        let request_id = created
            .create_account_status()
            .and_then(|status| status.id())
            .expect("request id");
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            let described = organizations
                .describe_create_account_status()
                .create_account_request_id(request_id)
                .send()
                .await
                .expect("DescribeCreateAccountStatus");
            let status = described.create_account_status().expect("status");
            match status.state() {
                Some(CreateAccountState::Succeeded) => {
                    return status.account_id().expect("account id").to_owned();
                }
                Some(CreateAccountState::InProgress) if Instant::now() < deadline => {
                    tokio::time::sleep(POLL_INTERVAL).await
                }
                other => panic!("creating account {name} ended {other:?}: {:?}", status.failure_reason()),
            }
        }
    }

    /// An IAM client inside a member account, through its access role, as an
    /// administrator of the organization would reach it.
    pub async fn member_iam(&self, account_id: &str) -> aws_sdk_iam::Client {
        let config = self.sdk_config().await;
        let assumed = aws_sdk_sts::Client::new(&config)
            .assume_role()
            .role_arn(format!("arn:aws:iam::{account_id}:role/{ACCESS_ROLE}"))
            .role_session_name("test-administrator")
            .send()
            .await
            .expect("AssumeRole");
        let credentials = assumed.credentials().expect("credentials");
        let credentials = Credentials::new(
            credentials.access_key_id(),
            credentials.secret_access_key(),
            Some(credentials.session_token().to_owned()),
            None,
            "test-administrator",
        );
        aws_sdk_iam::Client::from_conf(
            aws_sdk_iam::config::Builder::from(&config)
                .credentials_provider(credentials)
                .build(),
        )
    }

    /// Spends what is left of `start_enforcing_iam_after`'s unauthenticated
    /// requests, so that every request from here on is checked, whatever
    /// number the setup took. The default credentials belong to no IAM user:
    /// moto's first refusal of them marks the end.
    pub async fn end_unauthenticated_setup(&self) {
        let config = self.sdk_config().await;
        let sts = aws_sdk_sts::Client::from_conf(
            aws_sdk_sts::config::Builder::from(&config)
                .retry_config(RetryConfig::disabled())
                .build(),
        );
        // Far more than any setup takes: a moto that never refuses does not enforce IAM at all.
        for _ in 0..10_000 {
            if let Err(err) = sts.get_caller_identity().send().await {
                assert_eq!(
                    err.code(),
                    Some("InvalidClientTokenId"),
                    "moto refused otherwise: {err:?}"
                );
                return;
            }
        }
        panic!("moto does not enforce IAM: start it with start_enforcing_iam_after");
    }

    /// Polls until moto answers as the management account (an STS call, so
    /// another program that grabbed the port would not pass), or until it exits.
    async fn wait_until_ready(&mut self) -> Startup {
        let config = self.sdk_config().await;
        let probe = aws_sdk_sts::Client::from_conf(
            aws_sdk_sts::config::Builder::from(&config)
                .retry_config(RetryConfig::disabled())
                .build(),
        );
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            if let Some(status) = self.server.try_wait().expect("moto_server status") {
                return Startup::Exited(status);
            }
            if let Ok(identity) = probe.get_caller_identity().send().await {
                assert_eq!(
                    identity.account(),
                    Some(MANAGEMENT_ACCOUNT),
                    "{} is not moto",
                    self.endpoint
                );
                return Startup::Ready;
            }
            assert!(
                Instant::now() < deadline,
                "moto_server at {} not ready after {READY_TIMEOUT:?}",
                self.endpoint
            );
            tokio::time::sleep(POLL_INTERVAL).await;
        }
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        // Already gone is fine; a server left running would keep its port and memory.
        let _ = self.server.kill();
        let _ = self.server.wait();
    }
}

fn server_binary() -> PathBuf {
    std::env::var_os("MOTO_SERVER_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".tools/moto/bin/moto_server"))
}

/// A port nobody listens on right now: the kernel's pick for port 0.
fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    listener.local_addr().expect("local address").port()
}

/// moto's default credentials: the management account.
fn test_credentials() -> Credentials {
    Credentials::new("testing", "testing", None, None, "moto")
}

async fn sdk_config_at(endpoint: &str, credentials: Credentials) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(credentials)
        .endpoint_url(endpoint)
        .load()
        .await
}

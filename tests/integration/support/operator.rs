//! The operator as users run it: its controllers (the `run` code path)
//! against kube-testserver and moto, with the AWS calls counted.

use std::fmt::Debug;
use std::sync::Arc;
use std::time::Duration;

use super::fault::FaultyAws;
use aws_access_operator::api::{
    AccessApproval, AccessRequest, AwsAccount, CrossAccountRole, DeveloperGroup, IamUser, OrganizationalUnit,
    PartnerAccess, ServiceControlPolicy, crds,
};
use aws_access_operator::aws::pacing::ServiceLimits;
use aws_access_operator::aws::sdk::SdkAws;
use aws_access_operator::controller::{self, Config};
use aws_config::SdkConfig;
use k8s_openapi::api::core::v1::{Namespace, Secret};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::api::{Api, ApiResource, DynamicObject, Patch, PatchParams, PostParams};
use kube::{Client, Resource};
use kube_testserver::TestServer;
use serde::de::DeserializeOwned;
use tokio::task::JoinHandle;

use super::moto::{MANAGEMENT_ACCOUNT, Moto};

/// Settings that make drift checks and retries quick enough for tests.
pub fn test_config() -> Config {
    Config {
        resync_interval: Duration::from_secs(2),
        retry_base: Duration::from_millis(200),
        retry_max: Duration::from_secs(2),
        poll_interval: Duration::from_millis(100),
        ..Config::default()
    }
}

/// `test_config` for tests that check the examples converge, not drift: a
/// resync every two seconds would spend most of Organizations' five calls a
/// second (the operator's pacing) re-reading OUs and policies already in
/// sync, and leave the objects still converging waiting their turn.
pub fn converging_config() -> Config {
    Config {
        resync_interval: Duration::from_secs(20),
        ..test_config()
    }
}

pub struct Env {
    pub kube: TestServer,
    pub client: Client,
    pub moto: Moto,
    /// The operator's AWS, counting every call.
    pub aws: Arc<FaultyAws>,
    operator: Option<JoinHandle<()>>,
}

impl Drop for Env {
    fn drop(&mut self) {
        if let Some(operator) = self.operator.take() {
            operator.abort();
        }
    }
}

/// The manifests of examples/, in the order `kubectl apply -f examples/`
/// takes them: its files, not its subdirectories (examples/ci/ holds a
/// pipeline, not manifests).
pub fn example_files() -> Vec<std::path::PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/examples"))
        .expect("examples/")
        .map(|entry| entry.expect("entry").path())
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    files
}

/// The resource of a kind the tests apply, and whether it is namespaced.
pub fn resource_of(kind: &str) -> (ApiResource, bool) {
    match kind {
        "AwsAccount" => (ApiResource::erase::<AwsAccount>(&()), false),
        "CrossAccountRole" => (ApiResource::erase::<CrossAccountRole>(&()), true),
        "DeveloperGroup" => (ApiResource::erase::<DeveloperGroup>(&()), true),
        "PartnerAccess" => (ApiResource::erase::<PartnerAccess>(&()), true),
        "OrganizationalUnit" => (ApiResource::erase::<OrganizationalUnit>(&()), false),
        "ServiceControlPolicy" => (ApiResource::erase::<ServiceControlPolicy>(&()), false),
        "IamUser" => (ApiResource::erase::<IamUser>(&()), true),
        "AccessRequest" => (ApiResource::erase::<AccessRequest>(&()), true),
        "AccessApproval" => (ApiResource::erase::<AccessApproval>(&()), true),
        "Namespace" => (ApiResource::erase::<Namespace>(&()), false),
        "Secret" => (ApiResource::erase::<Secret>(&()), true),
        other => panic!("the test harness does not know kind {other}"),
    }
}

impl Env {
    /// kube-testserver with the CRDs, moto with an organization, and the operator running.
    pub async fn start() -> Env {
        let env = Env::without_operator().await;
        env.start_operator(test_config())
    }

    pub async fn without_operator() -> Env {
        let moto = Moto::start().await;
        let config = moto.sdk_config().await;
        Env::around(moto, &config).await
    }

    /// kube-testserver with the CRDs, next to a moto the test has prepared;
    /// the operator reaches AWS as `operator_aws` says (its credentials).
    pub async fn around(moto: Moto, operator_aws: &SdkConfig) -> Env {
        let kube = TestServer::start().await.expect("kube-testserver starts");
        let client = kube.client().expect("client");
        let crd_api: Api<CustomResourceDefinition> = Api::all(client.clone());
        for crd in crds() {
            crd_api
                .create(&PostParams::default(), &crd)
                .await
                .expect("CRD accepted by the API server");
        }
        let sdk = SdkAws::new(operator_aws);
        let aws = Arc::new(FaultyAws::new(Arc::new(sdk)));
        Env {
            kube,
            client,
            moto,
            aws,
            operator: None,
        }
    }

    /// The operator reaches AWS at `endpoint`, a proxy in front of moto,
    /// instead of moto itself; tests still read moto directly.
    pub async fn reach_aws_through(&mut self, endpoint: &str) {
        self.reach_aws_through_limited(endpoint, ServiceLimits::default()).await;
    }

    /// The same, with the limits `--iam-calls-per-second` and its kin set.
    pub async fn reach_aws_through_limited(&mut self, endpoint: &str, limits: ServiceLimits) {
        let sdk = SdkAws::limited(&self.moto.sdk_config_through(endpoint).await, vec![], limits);
        self.aws = Arc::new(FaultyAws::new(Arc::new(sdk)));
    }

    /// Starts the controllers the way `aws-access-operator run` does.
    pub fn start_operator(mut self, config: Config) -> Env {
        self.spawn_operator(config);
        self
    }

    /// The same, the operator reaching the API server with `client` (a proxy's).
    pub fn start_operator_with(mut self, client: kube::Client, config: Config) -> Env {
        self.spawn_operator_with(client, config);
        self
    }

    fn spawn_operator(&mut self, config: Config) {
        self.spawn_operator_with(self.client.clone(), config);
    }

    fn spawn_operator_with(&mut self, client: kube::Client, config: Config) {
        let aws = self.aws.clone();
        self.operator = Some(tokio::spawn(controller::run(
            client,
            aws,
            config,
            controller::Telemetry::default(),
            std::future::pending(),
        )));
    }

    /// Stops the operator and waits until it is gone: nothing it would
    /// write comes after.
    pub async fn stop_operator(&mut self) {
        if let Some(operator) = self.operator.take() {
            operator.abort();
            let _ = operator.await;
        }
    }

    /// Kills the operator where it stands (a reconcile in flight never
    /// finishes) and starts a fresh one with empty caches, as a restarted pod
    /// would. The AWS double keeps what it holds; its call log starts empty.
    pub async fn restart_operator(&mut self, config: Config) {
        // Gone before the next one starts: two operators never overlap.
        self.stop_operator().await;
        self.aws.clear();
        self.spawn_operator(config);
    }

    /// Runs the real kubectl against the test server, with a discovery cache
    /// of its own; returns what it printed, or panics with what it said.
    pub async fn kubectl(&self, args: &[&str]) -> String {
        let cache = tempfile::tempdir().expect("temp dir");
        let mut command = std::process::Command::new("kubectl");
        command
            .args(args)
            .env("KUBECONFIG", self.kube.kubeconfig_path())
            .env("KUBECACHEDIR", cache.path())
            .env("HOME", cache.path());
        let output = tokio::task::spawn_blocking(move || command.output().expect("kubectl on PATH"))
            .await
            .expect("kubectl thread");
        assert!(
            output.status.success(),
            "kubectl {args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// Applies a YAML stream the way `kubectl apply --server-side` does.
    pub async fn apply(&self, yaml: &str) {
        for document in serde_yaml_ng::Deserializer::from_str(yaml) {
            let value: serde_json::Value = serde::Deserialize::deserialize(document).expect("yaml");
            if value.is_null() {
                continue;
            }
            self.try_apply(&value).await.unwrap_or_else(|err| {
                let (kind, name) = (&value["kind"], &value["metadata"]["name"]);
                panic!(
                    "applying {} {}: {err}",
                    kind.as_str().unwrap_or_default(),
                    name.as_str().unwrap_or_default()
                )
            });
        }
    }

    /// Applies one object the way `kubectl apply --server-side` does, and
    /// returns the API server's refusal instead of panicking on it.
    pub async fn try_apply(&self, value: &serde_json::Value) -> Result<DynamicObject, kube::Error> {
        let object: DynamicObject = serde_json::from_value(value.clone()).expect("object");
        let types = object.types.clone().expect("apiVersion and kind");
        let name = object.metadata.name.clone().expect("name");
        let namespace = object.metadata.namespace.as_deref().unwrap_or("default");
        self.dynamic_api(&types.kind, namespace)
            .patch(&name, &PatchParams::apply("test").force(), &Patch::Apply(value))
            .await
    }

    /// Objects of `kind`, one the tests apply, in `namespace` (unless the kind is cluster-scoped).
    pub fn dynamic_api(&self, kind: &str, namespace: &str) -> Api<DynamicObject> {
        let (resource, namespaced) = resource_of(kind);
        match namespaced {
            true => Api::namespaced_with(self.client.clone(), namespace, &resource),
            false => Api::all_with(self.client.clone(), &resource),
        }
    }

    pub fn api<K>(&self, namespace: Option<&str>) -> Api<K>
    where
        K: Resource<DynamicType = (), Scope = kube::core::NamespaceResourceScope> + Clone + DeserializeOwned + Debug,
    {
        match namespace {
            Some(ns) => Api::namespaced(self.client.clone(), ns),
            None => Api::default_namespaced(self.client.clone()),
        }
    }

    /// The AwsAccounts tenancy asks for before any namespace may work in an
    /// account, as a platform team writes them, each open to every
    /// namespace: the identity account (the management account, adopted
    /// as moto names it) and each member account of `members` (object
    /// name, account id), adopted as `Moto::create_member_account` made it
    /// (`<name>@example.com`). The organization must exist.
    pub async fn open_accounts(&self, members: &[(&str, &str)]) {
        self.open_accounts_with(members, "").await;
    }

    /// `open_accounts`, the member accounts' AwsAccounts with `extra`
    /// (spec lines, such as `"  guardrails: {allowAdoption: true}\n"`).
    pub async fn open_accounts_with(&self, members: &[(&str, &str)], extra: &str) {
        let identity = adopted_account("identity", "master", MANAGEMENT_ACCOUNT, "");
        let members = members.iter().map(|(name, id)| adopted_account(name, name, id, extra));
        let documents: Vec<String> = std::iter::once(identity).chain(members).collect();
        self.apply(&documents.join("---\n")).await;
    }

    /// Waits until each AwsAccount of `names` is Active and Ready, for at
    /// most 30 seconds each: for a test whose objects must not see an
    /// account become Active after they are made (each change of an
    /// AwsAccount reconciles what lives in or trusts it again).
    pub async fn wait_active(&self, names: &[&str]) {
        self.wait_accounts(names, "Active and Ready", |_| true).await;
    }

    /// `wait_active`, and each Ready InSync: past its first resync, after
    /// which its status no longer changes (nor reconciles, for its sake,
    /// what lives in or trusts it).
    pub async fn wait_settled(&self, names: &[&str]) {
        self.wait_accounts(names, "Active and InSync", |ready| ready.reason == "InSync")
            .await;
    }

    async fn wait_accounts(&self, names: &[&str], what: &str, check: impl Fn(&Condition) -> bool) {
        let accounts: Api<AwsAccount> = Api::all(self.client.clone());
        for name in names {
            self.wait_for(&accounts, name, what, |account| {
                account.status.as_ref().is_some_and(|s| {
                    s.state == Some(aws_access_operator::api::AccountState::Active)
                        && s.reconcile.is_ready_at(account.metadata.generation)
                        && condition(&s.reconcile.conditions, "Ready").is_some_and(&check)
                })
            })
            .await;
        }
    }

    /// Waits until `check` accepts the object, for at most 30 seconds.
    pub async fn wait_for<K>(&self, api: &Api<K>, name: &str, what: &str, check: impl Fn(&K) -> bool) -> K
    where
        K: Resource + Clone + DeserializeOwned + Debug,
    {
        let mut last = None;
        for _ in 0..600 {
            if let Some(object) = api.get_opt(name).await.expect("get") {
                if check(&object) {
                    return object;
                }
                last = Some(object);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("timed out waiting for {name}: {what}; last seen: {last:#?}");
    }

    /// The message of the object's Stalled condition once it holds with
    /// `reason`, for at most 30 seconds; panics saying what it reported.
    pub async fn stalled_message(&self, kind: &str, namespace: &str, name: &str, reason: &str) -> String {
        let stalled = |holding: &[Condition]| {
            holding
                .iter()
                .find(|c| c.type_ == "Stalled" && c.reason == reason)
                .map(|c| c.message.clone())
        };
        self.watch(kind, namespace, name, Duration::from_secs(30), stalled)
            .await
            .unwrap_or_else(|err| panic!("{kind} {namespace}/{name} not Stalled {reason}: {err}"))
    }

    /// Reads the object until `done` makes something of what it reports
    /// (`holding`), for at most `timeout`; else says what it reported last.
    pub async fn watch<T>(
        &self,
        kind: &str,
        namespace: &str,
        name: &str,
        timeout: Duration,
        done: impl Fn(&[Condition]) -> Option<T>,
    ) -> Result<T, String> {
        let api = self.dynamic_api(kind, namespace);
        let deadline = std::time::Instant::now() + timeout;
        loop {
            let object = api.get(name).await.map_err(|err| format!("reading it back: {err}"))?;
            let holding = holding(&object);
            if let Some(found) = done(&holding) {
                return Ok(found);
            }
            if std::time::Instant::now() > deadline {
                let said: Vec<String> = holding
                    .iter()
                    .map(|c| format!("{} {}: {}", c.type_, c.reason, c.message))
                    .collect();
                return Err(format!("after {timeout:?} it says {said:?}"));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until AWS matches `check`, for at most 30 seconds.
    pub async fn eventually<T>(&self, what: &str, mut check: impl AsyncFnMut() -> Option<T>) -> T {
        for _ in 0..600 {
            if let Some(found) = check().await {
                return found;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("timed out waiting for {what}");
    }
}

/// The AwsAccount `object` adopting account `id`, named `account_name` in
/// the organization with the email `<account_name>@example.com` (as
/// `Moto::create_member_account` makes them; moto's management account is
/// `master`), open to every namespace, with `extra` spec lines.
pub fn adopted_account(object: &str, account_name: &str, id: &str, extra: &str) -> String {
    format!(
        r#"
apiVersion: awsaccess.dev/v1alpha1
kind: AwsAccount
metadata: {{name: {object}}}
spec:
  accountName: {account_name}
  email: {account_name}@example.com
  accountId: "{id}"
  allowedNamespaces: ["*"]
{extra}"#
    )
}

/// The condition of type `kind` among `conditions`.
pub fn condition<'a>(conditions: &'a [Condition], kind: &str) -> Option<&'a Condition> {
    conditions.iter().find(|c| c.type_ == kind)
}

/// Whether the Ready condition has `status` and `reason` for the current generation.
pub fn ready_is(conditions: &[Condition], generation: Option<i64>, status: &str, reason: &str) -> bool {
    condition(conditions, "Ready")
        .is_some_and(|c| c.status == status && c.reason == reason && c.observed_generation == generation)
}

/// The conditions an object of any kind reports now: those holding (status
/// True) for its current generation.
pub fn holding(object: &DynamicObject) -> Vec<Condition> {
    let conditions: Vec<Condition> =
        serde_json::from_value(object.data["status"]["conditions"].clone()).unwrap_or_default();
    conditions
        .into_iter()
        .filter(|c| c.status == "True" && c.observed_generation == object.metadata.generation)
        .collect()
}

//! Each branch of the IamUser reconcile, through the real driver: AWS in
//! memory (`aws::fake`) behind the inventory, Kubernetes in process
//! (kube-testserver), so that each test takes milliseconds and says what
//! AWS holds, what the Secrets hold and what the status says.

use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use kube::{Client, ResourceExt};
use kube_testserver::TestServer;
use serde_json::{Value, json};

use super::apply::IAM_USER_LABEL;
use super::plan::{ACCESS_KEY_ID, MFA_POLICY_NAME, PASSWORD, SECRET_ACCESS_KEY};
use crate::api::{AwsAccount, IamUser, IamUserStatus};
use crate::aws::fake::{Call, FakeAws, Fault};
use crate::aws::inventory::Inventoried;
use crate::aws::{AwsErrorKind, Iam, KeyStatus, NewUser, UserState};
use crate::controller::context::{Config, Context, Stores};
use crate::controller::driver::reconcile;
use crate::controller::error::Result;
use crate::controller::index::Cache;
use crate::controller::ownership::OWNER_TAG;
use crate::controller::testing::cluster;

/// The operator's own account: the identity account.
const OWN: &str = "111111111111";
const NAMESPACE: &str = "team";
/// A namespace the identity account does not allow.
const OUTSIDER: &str = "outsider";

struct Harness {
    _kube: TestServer,
    client: Client,
    aws: FakeAws,
    ctx: Arc<Context>,
}

/// The identity account's AwsAccount, allowing `namespaces`.
fn identity(namespaces: &[&str]) -> AwsAccount {
    serde_json::from_value(json!({
        "apiVersion": "awsaccess.dev/v1alpha1",
        "kind": "AwsAccount",
        "metadata": {"name": "identity"},
        "spec": {
            "accountName": "master",
            "email": "master@example.com",
            "accountId": OWN,
            "allowedNamespaces": namespaces,
        },
        "status": {"accountId": OWN, "state": "Active"},
    }))
    .expect("AwsAccount")
}

impl Harness {
    /// The same Kubernetes and AWS, the identity account allowing `namespaces` now.
    fn allowing(&mut self, namespaces: &[&str]) {
        let config = Config::default();
        let inventoried = Inventoried::new(Arc::new(self.aws.clone()), config.resync_interval);
        let stores = Stores {
            accounts: Cache::of([identity(namespaces)]),
            ..Stores::empty()
        };
        let ctx = Context::new(
            self.client.clone(),
            Arc::new(inventoried),
            config,
            stores,
            Arc::default(),
        );
        self.ctx = Arc::new(ctx);
    }

    async fn start() -> Self {
        let (kube, client) = cluster(&[NAMESPACE, OUTSIDER]).await;
        let identity = identity(&[NAMESPACE]);
        let aws = FakeAws::new(OWN);
        let config = Config::default();
        let inventoried = Inventoried::new(Arc::new(aws.clone()), config.resync_interval);
        let stores = Stores {
            accounts: Cache::of([identity]),
            ..Stores::empty()
        };
        let ctx = Context::new(client.clone(), Arc::new(inventoried), config, stores, Arc::default());
        Harness {
            _kube: kube,
            client,
            aws,
            ctx: Arc::new(ctx),
        }
    }

    fn users(&self, namespace: &str) -> Api<IamUser> {
        Api::namespaced(self.client.clone(), namespace)
    }

    fn secrets(&self) -> Api<Secret> {
        Api::namespaced(self.client.clone(), NAMESPACE)
    }

    async fn reconcile(&self, namespace: &str, name: &str) -> Result<()> {
        let object = self.users(namespace).get(name).await.expect("object");
        reconcile(Arc::new(object), self.ctx.clone()).await.map(drop)
    }

    async fn apply(&self, namespace: &str, spec: Value) -> Result<()> {
        let object: IamUser = serde_json::from_value(json!({
            "apiVersion": "awsaccess.dev/v1alpha1",
            "kind": "IamUser",
            "metadata": {"name": "alice", "namespace": namespace},
            "spec": spec,
        }))
        .expect("object");
        self.users(namespace)
            .create(&PostParams::default(), &object)
            .await
            .expect("created");
        self.reconcile(namespace, "alice").await
    }

    async fn patch_spec(&self, spec: Value) {
        self.users(NAMESPACE)
            .patch("alice", &PatchParams::default(), &Patch::Merge(json!({"spec": spec})))
            .await
            .expect("patched");
    }

    async fn status(&self, namespace: &str) -> IamUserStatus {
        self.users(namespace)
            .get("alice")
            .await
            .expect("object")
            .status
            .expect("status")
    }

    /// The operations written to AWS since the last look; the log starts afresh.
    fn written(&self) -> Vec<&'static str> {
        let writes = self
            .aws
            .writes()
            .into_iter()
            .map(|Call { operation, .. }| operation)
            .collect();
        self.aws.clear_calls();
        writes
    }

    async fn user_in_aws(&self, name: &str) -> Option<UserState> {
        let user = self.aws.iam_in(OWN).get_user(name).await.expect("GetUser");
        self.aws.clear_calls();
        user
    }

    async fn secret_value(&self, name: &str, key: &str) -> Option<String> {
        let secret = self.secrets().get_opt(name).await.expect("read")?;
        let value = secret.data?.get(key)?.0.clone();
        Some(String::from_utf8(value).expect("utf-8"))
    }
}

fn reason(status: &IamUserStatus) -> (String, String) {
    let ready = status
        .reconcile
        .conditions
        .iter()
        .find(|c| c.type_ == "Ready")
        .expect("Ready");
    let holding = status
        .reconcile
        .conditions
        .iter()
        .find(|c| c.status == "True")
        .map(|c| c.type_.clone())
        .unwrap_or_default();
    (holding, ready.reason.clone())
}

fn person() -> Value {
    json!({
        "path": "/people/",
        "tags": {"team": "alfie"},
        "console": {"enabled": true, "passwordSecretName": "alice-console"},
        "requireMfa": true,
    })
}

fn service_account(rotate_after: &str) -> Value {
    json!({
        "accessKeys": {"secretName": "alice-keys", "rotateAfter": rotate_after, "gracePeriod": "1h"},
    })
}

#[tokio::test]
async fn a_joiner_gets_console_access_and_the_mfa_policy_and_an_in_sync_pass_writes_nothing() {
    let h = Harness::start().await;
    h.apply(NAMESPACE, person()).await.expect("reconcile");
    assert_eq!(
        h.written(),
        ["CreateUser", "PutUserPolicy", "CreateLoginProfile"],
        "the MFA policy before the password"
    );
    let user = h.user_in_aws("alice").await.expect("user");
    assert!(user.login_profile);
    assert!(user.inline_policies.contains_key(MFA_POLICY_NAME));
    assert_eq!(user.path, "/people/");
    assert_eq!(
        user.tags.get(OWNER_TAG).map(String::as_str),
        Some("IamUser/team/alice@default")
    );
    let password = h.secret_value("alice-console", PASSWORD).await.expect("password");
    assert!(password.len() >= 20);
    let status = h.status(NAMESPACE).await;
    assert_eq!(reason(&status), ("Ready".into(), "Created".into()));
    assert_eq!(
        status.user_arn.as_deref(),
        Some("arn:aws:iam::111111111111:user/people/alice")
    );
    assert_eq!(
        status.sign_in_url.as_deref(),
        Some("https://111111111111.signin.aws.amazon.com/console")
    );
    assert_eq!((status.console_access, status.mfa_active), (Some(true), Some(false)));
    // The password appears nowhere but in its Secret.
    let shown = serde_json::to_string(&h.users(NAMESPACE).get("alice").await.expect("object")).expect("json");
    assert!(!shown.contains(&password));

    // In sync: reads only, and the Secret keeps its password.
    h.reconcile(NAMESPACE, "alice").await.expect("resync");
    let calls = h.aws.calls();
    assert!(calls.iter().all(|call| !call.writes()), "{calls:?}");
    assert_eq!(calls.len(), 1, "one GetUser (with what hangs on the user): {calls:?}");
    h.aws.clear_calls();
    assert_eq!(h.secret_value("alice-console", PASSWORD).await, Some(password));
    assert_eq!(reason(&h.status(NAMESPACE).await).1, "InSync");

    // MFA enabled by the person shows in the status.
    h.aws.enable_mfa(OWN, "alice");
    h.reconcile(NAMESPACE, "alice").await.expect("resync");
    assert_eq!(h.status(NAMESPACE).await.mfa_active, Some(true));
}

#[tokio::test]
async fn keys_rotate_on_age_and_the_old_key_goes_inactive_then_away_never_three() {
    let h = Harness::start().await;
    h.apply(NAMESPACE, service_account("24h")).await.expect("reconcile");
    assert_eq!(h.written(), ["CreateUser", "CreateAccessKey"]);
    let first = h.secret_value("alice-keys", ACCESS_KEY_ID).await.expect("key id");
    let secret = h.secret_value("alice-keys", SECRET_ACCESS_KEY).await.expect("secret");
    assert_eq!(secret, format!("fake-secret-of-{first}"));
    let status = h.status(NAMESPACE).await;
    assert_eq!(status.access_keys.len(), 1);
    assert!(!serde_json::to_string(&status).expect("json").contains(&secret));

    // Young: nothing to do.
    h.reconcile(NAMESPACE, "alice").await.expect("resync");
    assert!(h.written().is_empty());

    // A day old: a new key into the Secret; the old one still works.
    h.aws.age_access_keys(OWN, "alice", Duration::from_secs(25 * 3600));
    h.reconcile(NAMESPACE, "alice").await.expect("rotate");
    assert_eq!(h.written(), ["CreateAccessKey"]);
    let second = h.secret_value("alice-keys", ACCESS_KEY_ID).await.expect("key id");
    assert_ne!(first, second);
    let keys = h.user_in_aws("alice").await.expect("user").access_keys;
    assert_eq!(keys.len(), 2);
    assert!(keys.iter().all(|key| key.status == KeyStatus::Active));
    assert_eq!(
        h.status(NAMESPACE).await.access_keys.len(),
        2,
        "the status read back after the writes"
    );

    // Past the grace period: the old key Inactive ...
    h.aws.age_access_keys(OWN, "alice", Duration::from_secs(3600));
    h.reconcile(NAMESPACE, "alice").await.expect("deactivate");
    assert_eq!(h.written(), ["UpdateAccessKey"]);
    let keys = h.user_in_aws("alice").await.expect("user").access_keys;
    let old = keys.iter().find(|key| key.id == first).expect("old key");
    assert_eq!(old.status, KeyStatus::Inactive);

    // ... and after another, gone; the new one stays.
    h.aws.age_access_keys(OWN, "alice", Duration::from_secs(3600));
    h.reconcile(NAMESPACE, "alice").await.expect("delete");
    assert_eq!(h.written(), ["DeleteAccessKey"]);
    let keys = h.user_in_aws("alice").await.expect("user").access_keys;
    assert_eq!(
        keys.iter().map(|key| key.id.as_str()).collect::<Vec<_>>(),
        [second.as_str()]
    );
}

#[tokio::test]
async fn a_key_whose_answer_was_lost_is_not_made_twice_blindly() {
    let h = Harness::start().await;
    h.aws
        .inject(OWN, "CreateAccessKey", Fault::Lost(AwsErrorKind::Transport));
    assert!(h.apply(NAMESPACE, service_account("24h")).await.is_err());
    h.aws.clear_calls();
    // The key exists, and no Secret holds its secret: it goes before another is made.
    h.reconcile(NAMESPACE, "alice").await.expect("retry");
    assert_eq!(h.written(), ["DeleteAccessKey", "CreateAccessKey"]);
    let keys = h.user_in_aws("alice").await.expect("user").access_keys;
    assert_eq!(keys.len(), 1);
    assert_eq!(
        h.secret_value("alice-keys", ACCESS_KEY_ID).await,
        Some(keys[0].id.clone())
    );
}

#[tokio::test]
async fn a_login_profile_whose_answer_was_lost_is_found_not_made_again() {
    let h = Harness::start().await;
    h.aws
        .inject(OWN, "CreateLoginProfile", Fault::Lost(AwsErrorKind::Transport));
    assert!(h.apply(NAMESPACE, person()).await.is_err());
    h.aws.clear_calls();
    h.reconcile(NAMESPACE, "alice").await.expect("retry");
    assert_eq!(h.written(), Vec::<&str>::new());
    assert_eq!(h.aws.count("CreateLoginProfile"), 0);
    assert!(h.secret_value("alice-console", PASSWORD).await.is_some());
}

#[tokio::test]
async fn a_leaver_loses_console_keys_and_groups_and_comes_back_with_a_new_password() {
    let h = Harness::start().await;
    let mut spec = person();
    spec["accessKeys"] = json!({"secretName": "alice-keys"});
    h.apply(NAMESPACE, spec).await.expect("reconcile");
    let iam = h.aws.iam_in(OWN);
    iam.create_group("devs").await.expect("group");
    iam.add_user_to_group("devs", "alice").await.expect("member");
    let password = h.secret_value("alice-console", PASSWORD).await.expect("password");
    h.aws.clear_calls();

    h.patch_spec(json!({"state": "Disabled"})).await;
    h.reconcile(NAMESPACE, "alice").await.expect("disable");
    let mut written = h.written();
    written.sort();
    assert_eq!(
        written,
        ["DeleteLoginProfile", "RemoveUserFromGroup", "UpdateAccessKey"]
    );
    let user = h.user_in_aws("alice").await.expect("the user and its ARN are kept");
    assert!(!user.login_profile && user.groups.is_empty());
    assert!(user.access_keys.iter().all(|key| key.status == KeyStatus::Inactive));
    assert_eq!(reason(&h.status(NAMESPACE).await).0, "Ready");

    let inactive = h.secret_value("alice-keys", ACCESS_KEY_ID).await.expect("key id");
    h.patch_spec(json!({"state": "Active"})).await;
    h.reconcile(NAMESPACE, "alice").await.expect("enable");
    let user = h.user_in_aws("alice").await.expect("user");
    assert!(user.login_profile);
    // The key set Inactive is not made Active again: a new one replaces it.
    let keys: Vec<(&str, KeyStatus)> = user.access_keys.iter().map(|k| (k.id.as_str(), k.status)).collect();
    let current = h.secret_value("alice-keys", ACCESS_KEY_ID).await.expect("key id");
    assert_eq!(keys, [(current.as_str(), KeyStatus::Active)]);
    assert_ne!(current, inactive);
    assert_ne!(h.secret_value("alice-console", PASSWORD).await, Some(password));
}

#[tokio::test]
async fn keys_and_console_taken_out_of_the_spec_go_with_the_secrets_made_for_them_and_no_other() {
    let h = Harness::start().await;
    let mut spec = person();
    spec["accessKeys"] = json!({"secretName": "alice-keys"});
    h.apply(NAMESPACE, spec).await.expect("reconcile");
    // Labelled as hers by someone, not made for her: never touched.
    let lookalike: Secret = serde_json::from_value(json!({
        "metadata": {"name": "alice-notes", "namespace": NAMESPACE, "labels": {IAM_USER_LABEL: "alice"}},
        "stringData": {"note": "mine"},
    }))
    .expect("secret");
    h.secrets()
        .create(&PostParams::default(), &lookalike)
        .await
        .expect("secret");
    h.written();

    h.patch_spec(json!({"accessKeys": null})).await;
    h.reconcile(NAMESPACE, "alice").await.expect("keys taken away");
    assert_eq!(h.written(), ["DeleteAccessKey"]);
    let user = h.user_in_aws("alice").await.expect("user");
    assert!(user.access_keys.is_empty() && user.login_profile);
    assert_eq!(h.secret_value("alice-keys", ACCESS_KEY_ID).await, None);
    assert!(h.secret_value("alice-console", PASSWORD).await.is_some());

    // Console off, its Secret still named: the login profile and the password go.
    h.patch_spec(json!({"console": {"enabled": false}})).await;
    h.reconcile(NAMESPACE, "alice").await.expect("console off");
    assert_eq!(h.written(), ["DeleteLoginProfile"]);
    assert!(!h.user_in_aws("alice").await.expect("user").login_profile);
    assert_eq!(h.secret_value("alice-console", PASSWORD).await, None);
    assert_eq!(h.status(NAMESPACE).await.console_access, Some(false));

    h.reconcile(NAMESPACE, "alice").await.expect("resync");
    assert_eq!(h.written(), Vec::<&str>::new());
    assert_eq!(reason(&h.status(NAMESPACE).await).1, "InSync");
    assert_eq!(h.secret_value("alice-notes", "note").await.as_deref(), Some("mine"));
}

#[tokio::test]
async fn deleting_removes_what_iam_requires_gone_then_the_user() {
    let h = Harness::start().await;
    let mut spec = person();
    spec["accessKeys"] = json!({"secretName": "alice-keys"});
    h.apply(NAMESPACE, spec).await.expect("reconcile");
    h.aws.enable_mfa(OWN, "alice");
    let iam = h.aws.iam_in(OWN);
    iam.create_group("devs").await.expect("group");
    iam.add_user_to_group("devs", "alice").await.expect("member");
    h.aws.clear_calls();
    h.users(NAMESPACE)
        .delete("alice", &DeleteParams::default())
        .await
        .expect("deleted");
    h.reconcile(NAMESPACE, "alice").await.expect("cleanup");
    assert!(h.user_in_aws("alice").await.is_none());
    assert!(h.users(NAMESPACE).get_opt("alice").await.expect("read").is_none());
}

#[tokio::test]
async fn a_user_the_operator_did_not_make_is_refused_and_left_alone() {
    let h = Harness::start().await;
    let new = NewUser {
        name: "alice".into(),
        path: "/".into(),
        ..NewUser::default()
    };
    h.aws.iam_in(OWN).create_user(&new).await.expect("CreateUser");
    h.aws.clear_calls();
    h.apply(NAMESPACE, person()).await.expect("reconcile");
    assert!(h.written().is_empty());
    let status = h.status(NAMESPACE).await;
    assert_eq!(reason(&status), ("Stalled".into(), "AlreadyExists".into()));
    assert!(h.secrets().get_opt("alice-console").await.expect("read").is_none());
}

#[tokio::test]
async fn a_secret_that_is_not_its_own_is_refused_before_aws_is_touched() {
    let h = Harness::start().await;
    let foreign: Secret = serde_json::from_value(json!({
        "metadata": {"name": "alice-keys", "namespace": NAMESPACE},
        "stringData": {"AWS_ACCESS_KEY_ID": "mine"},
    }))
    .expect("secret");
    h.secrets()
        .create(&PostParams::default(), &foreign)
        .await
        .expect("secret");
    h.apply(NAMESPACE, service_account("90d")).await.expect("reconcile");
    assert!(h.aws.calls().is_empty(), "{:?}", h.aws.calls());
    let status = h.status(NAMESPACE).await;
    assert_eq!(reason(&status), ("Stalled".into(), "AlreadyExists".into()));
    let message = &status.reconcile.conditions[0].message;
    assert!(
        message.starts_with("spec.accessKeys.secretName: Secret team/alice-keys exists"),
        "{message}"
    );
}

#[tokio::test]
async fn a_namespace_the_identity_account_does_not_allow_is_refused_and_nothing_is_read() {
    let h = Harness::start().await;
    h.apply(OUTSIDER, person()).await.expect("reconcile");
    assert!(h.aws.calls().is_empty(), "{:?}", h.aws.calls());
    let status = h.status(OUTSIDER).await;
    assert_eq!(reason(&status), ("Stalled".into(), "NamespaceNotAllowed".into()));
}

#[tokio::test]
async fn bad_input_is_refused_naming_the_field_and_nothing_is_read() {
    let h = Harness::start().await;
    h.apply(NAMESPACE, json!({"console": {"enabled": true}}))
        .await
        .expect("reconcile");
    assert!(h.aws.calls().is_empty());
    let status = h.status(NAMESPACE).await;
    assert_eq!(reason(&status), ("Stalled".into(), "InvalidSpec".into()));
    assert!(
        status.reconcile.conditions[0]
            .message
            .starts_with("spec.console.passwordSecretName")
    );
    let name = h.users(NAMESPACE).get("alice").await.expect("object").name_any();
    assert_eq!(name, "alice");
}

#[tokio::test]
async fn a_namespace_taken_away_locks_its_users_and_given_back_restores_them() {
    let mut h = Harness::start().await;
    let mut spec = person();
    spec["accessKeys"] = json!({"secretName": "alice-keys"});
    h.apply(NAMESPACE, spec).await.expect("reconcile");
    let password = h.secret_value("alice-console", PASSWORD).await;
    h.aws.clear_calls();

    h.allowing(&[]);
    h.reconcile(NAMESPACE, "alice").await.expect("lock");
    let mut written = h.written();
    written.sort();
    assert_eq!(written, ["DeleteLoginProfile", "UpdateAccessKey"]);
    let user = h.user_in_aws("alice").await.expect("nothing deleted");
    assert!(!user.login_profile);
    assert!(user.access_keys.iter().all(|key| key.status == KeyStatus::Inactive));
    assert_eq!(
        reason(&h.status(NAMESPACE).await),
        ("Stalled".into(), "NamespaceNotAllowed".into())
    );

    h.allowing(&[NAMESPACE]);
    h.reconcile(NAMESPACE, "alice").await.expect("restore");
    let user = h.user_in_aws("alice").await.expect("user");
    assert!(user.login_profile);
    assert!(user.access_keys.iter().all(|key| key.status == KeyStatus::Active));
    assert_ne!(h.secret_value("alice-console", PASSWORD).await, password);
}

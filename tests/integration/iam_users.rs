//! IamUser end to end: joiners, service accounts whose keys rotate, leavers
//! and refusals, with the operator's controllers running against
//! kube-testserver and moto, AWS read back with the SDK, and what the
//! operator sent read off the wire where moto keeps less (it ignores
//! `PasswordResetRequired`).

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use aws_access_operator::api::{DeveloperGroup, IamUser};
use aws_access_operator::controller::Config;
use aws_sdk_iam::types::StatusType;
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, DeleteParams, Patch, PatchParams};
use serde_json::json;

use crate::support::aws::{create_users, group_members, identity_iam, sessions_denied_before};
use crate::support::moto::MANAGEMENT_ACCOUNT;
use crate::support::operator::{Env, condition, test_config};
use crate::support::wire::{Fault, Faults, Wire};

const NAMESPACE: &str = include_str!("../fixtures/alfie-namespace.yaml");

/// The identity account, open to namespace alfie only.
fn identity_account() -> String {
    format!(
        r#"
apiVersion: awsaccess.dev/v1alpha1
kind: AwsAccount
metadata: {{name: identity}}
spec:
  accountName: master
  email: master@example.com
  accountId: "{MANAGEMENT_ACCOUNT}"
  allowedNamespaces: [alfie]
"#
    )
}

fn ready(user: &IamUser) -> bool {
    user.status.as_ref().is_some_and(|s| {
        s.reconcile.is_ready_at(user.metadata.generation)
            && condition(&s.reconcile.conditions, "Ready").is_some_and(|c| c.status == "True")
    })
}

async fn secret_value(env: &Env, name: &str, key: &str) -> Option<String> {
    let secrets: Api<Secret> = env.api(Some("alfie"));
    let secret = secrets.get_opt(name).await.expect("read")?;
    let value = secret.data?.get(key)?.0.clone();
    Some(String::from_utf8(value).expect("utf-8"))
}

/// The user's keys in AWS: id and whether Active.
async fn keys_of(env: &Env, user: &str) -> Vec<(String, bool)> {
    let iam = identity_iam(env).await;
    let listed = match iam.list_access_keys().user_name(user).send().await {
        Ok(listed) => listed,
        // Not made yet: no keys.
        Err(err) if err.as_service_error().is_some_and(|e| e.is_no_such_entity_exception()) => return vec![],
        Err(err) => panic!("ListAccessKeys: {err:?}"),
    };
    listed
        .access_key_metadata()
        .iter()
        .map(|key| {
            (
                key.access_key_id().unwrap_or_default().to_owned(),
                key.status() == Some(&StatusType::Active),
            )
        })
        .collect()
}

async fn has_login_profile(env: &Env, user: &str) -> bool {
    let iam = identity_iam(env).await;
    match iam.get_login_profile().user_name(user).send().await {
        Ok(_) => true,
        Err(err) if err.as_service_error().is_some_and(|e| e.is_no_such_entity_exception()) => false,
        Err(err) => panic!("GetLoginProfile: {err:?}"),
    }
}

async fn user_exists(env: &Env, user: &str) -> bool {
    let iam = identity_iam(env).await;
    match iam.get_user().user_name(user).send().await {
        Ok(_) => true,
        Err(err) if err.as_service_error().is_some_and(|e| e.is_no_such_entity_exception()) => false,
        Err(err) => panic!("GetUser: {err:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_joiner_with_console_and_mfa_reaches_ready_with_a_password_to_change_at_first_sign_in() {
    let mut env = Env::without_operator().await;
    let wire = Wire::start(env.moto.endpoint()).await;
    env.reach_aws_through(&wire.endpoint()).await;
    let env = env.start_operator(test_config());
    env.moto.create_organization().await;
    env.apply(&format!(
        r#"{NAMESPACE}---{}---
apiVersion: awsaccess.dev/v1alpha1
kind: IamUser
metadata: {{name: alice, namespace: alfie}}
spec:
  path: /people/
  tags: {{team: alfie}}
  console: {{enabled: true, passwordSecretName: alice-console}}
  requireMfa: true
"#,
        identity_account()
    ))
    .await;
    let users: Api<IamUser> = env.api(Some("alfie"));
    let alice = env.wait_for(&users, "alice", "Ready", ready).await;
    let status = alice.status.expect("status");
    assert_eq!(
        status.user_arn.as_deref(),
        Some(format!("arn:aws:iam::{MANAGEMENT_ACCOUNT}:user/people/alice").as_str())
    );
    assert_eq!(
        status.sign_in_url.as_deref(),
        Some(format!("https://{MANAGEMENT_ACCOUNT}.signin.aws.amazon.com/console").as_str())
    );
    assert_eq!(status.mfa_active, Some(false));

    // The Secret holds a password, and IAM a login profile ...
    let password = secret_value(&env, "alice-console", "password").await.expect("password");
    assert!(password.len() >= 20);
    assert!(has_login_profile(&env, "alice").await);
    // ... made with a reset at first sign-in, as the operator sent it (moto forgets it) ...
    let sent = wire.sent("CreateLoginProfile");
    assert_eq!(sent.len(), 1, "made once: {sent:?}");
    assert_eq!(sent[0].get("PasswordResetRequired").map(String::as_str), Some("true"));
    assert!(!sent[0].contains_key("Password"), "the wire record keeps no password");
    // ... and the MFA policy attached, which still lets the first password change through.
    let iam = identity_iam(&env).await;
    let policy = iam
        .get_user_policy()
        .user_name("alice")
        .policy_name("awsaccess-require-mfa")
        .send()
        .await
        .expect("GetUserPolicy");
    let document =
        aws_access_operator::policy::document::decode_aws_document(policy.policy_document()).expect("document");
    let exempt = document["Statement"][4]["NotAction"]
        .as_array()
        .expect("NotAction")
        .clone();
    assert!(exempt.contains(&json!("iam:ChangePassword")) && exempt.contains(&json!("iam:GetAccountPasswordPolicy")));

    // The password is in its Secret and nowhere else the operator writes.
    let shown = serde_json::to_string(&users.get("alice").await.expect("object")).expect("json");
    assert!(!shown.contains(&password));

    // A resync in sync reads and writes nothing: the calls of one pass, read off the wire.
    let user_calls = |tally: &crate::support::wire::Tally| -> BTreeMap<String, usize> {
        tally
            .forwarded
            .iter()
            .filter(|(op, _)| {
                ["User", "Login", "AccessKey", "MFA"]
                    .iter()
                    .any(|part| op.contains(part))
            })
            .map(|(op, count)| (op.clone(), *count))
            .collect()
    };
    env.aws.clear();
    env.eventually("a resync of alice", async || {
        (env.aws.count("GetUser") >= 1).then_some(())
    })
    .await;
    let before = user_calls(&wire.tally());
    env.eventually("another resync of alice", async || {
        (env.aws.count("GetUser") >= 2).then_some(())
    })
    .await;
    let after = user_calls(&wire.tally());
    let pass: BTreeMap<&String, usize> = after
        .iter()
        .map(|(op, count)| (op, count - before.get(op).copied().unwrap_or(0)))
        .filter(|(_, count)| *count > 0)
        .collect();
    println!("one pass over alice in sync: {pass:?}");
    // Of the user's: the identity AwsAccount reconciles beside it.
    let writes: Vec<_> = env
        .aws
        .writes()
        .into_iter()
        .map(|c| c.operation)
        .filter(|op| {
            ["User", "Login", "AccessKey", "MFA"]
                .iter()
                .any(|part| op.contains(part))
        })
        .collect();
    assert!(writes.is_empty(), "an in-sync pass wrote {writes:?}");
    assert_eq!(wire.sent("CreateLoginProfile").len(), 1, "never sent twice");

    // Console turned off: the login profile goes, and the password's Secret with it.
    users
        .patch(
            "alice",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"console": {"enabled": false}}})),
        )
        .await
        .expect("console off");
    env.eventually("no login profile, no password Secret", async || {
        (!has_login_profile(&env, "alice").await && secret_value(&env, "alice-console", "password").await.is_none())
            .then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_accounts_key_rotates_and_the_old_key_goes_inactive_then_away_never_three() {
    let env = Env::start().await;
    env.moto.create_organization().await;
    env.apply(&format!(
        r#"{NAMESPACE}---{}---
apiVersion: awsaccess.dev/v1alpha1
kind: IamUser
metadata: {{name: ci-bot, namespace: alfie}}
spec:
  path: /service/
  accessKeys: {{secretName: ci-bot-aws, rotateAfter: 3s, gracePeriod: 2s}}
"#,
        identity_account()
    ))
    .await;
    let users: Api<IamUser> = env.api(Some("alfie"));
    env.wait_for(&users, "ci-bot", "Ready", ready).await;
    let first = secret_value(&env, "ci-bot-aws", "AWS_ACCESS_KEY_ID")
        .await
        .expect("key id");
    assert!(
        secret_value(&env, "ci-bot-aws", "AWS_SECRET_ACCESS_KEY")
            .await
            .is_some()
    );

    // Watched from AWS the whole time: the Secret's key changes, the old key
    // goes Inactive, then away, and the user never holds three keys.
    let mut most = 0;
    let mut saw_inactive = false;
    let second = env
        .eventually("the first key rotated out", async || {
            let keys = keys_of(&env, "ci-bot").await;
            most = most.max(keys.len());
            saw_inactive |= keys.iter().any(|(id, active)| *id == first && !active);
            let current = secret_value(&env, "ci-bot-aws", "AWS_ACCESS_KEY_ID").await?;
            let gone = keys.iter().all(|(id, _)| *id != first);
            (current != first && gone).then_some(current)
        })
        .await;
    assert!(saw_inactive, "the old key went Inactive before it went");
    assert!(most <= 2, "never three keys: saw {most}");
    assert!(
        keys_of(&env, "ci-bot")
            .await
            .iter()
            .any(|(id, active)| *id == second && *active)
    );
    assert!(env.aws.count("CreateAccessKey") >= 2);
    assert!(
        !serde_json::to_string(&users.get("ci-bot").await.expect("object").status)
            .expect("json")
            .contains(
                &secret_value(&env, "ci-bot-aws", "AWS_SECRET_ACCESS_KEY")
                    .await
                    .expect("secret")
            )
    );

    // No more programmatic access: the keys go, and their Secret with them.
    users
        .patch(
            "ci-bot",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"accessKeys": null}})),
        )
        .await
        .expect("keys taken away");
    env.eventually("no key, no key Secret", async || {
        (keys_of(&env, "ci-bot").await.is_empty()
            && secret_value(&env, "ci-bot-aws", "AWS_ACCESS_KEY_ID").await.is_none())
        .then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_leaver_set_disabled_has_no_console_no_active_key_no_group_and_deleting_removes_the_user() {
    // Sessions live seconds here (an hour at least in AWS), to see their Deny lifted.
    let env = Env::without_operator().await.start_operator(Config {
        session_lifetime: Some(Duration::from_secs(5)),
        ..test_config()
    });
    env.moto.create_organization().await;
    env.apply(&format!(
        r#"{NAMESPACE}---{}---
apiVersion: awsaccess.dev/v1alpha1
kind: IamUser
metadata: {{name: bob, namespace: alfie}}
spec:
  console: {{enabled: true, passwordSecretName: bob-console}}
  requireMfa: true
  accessKeys: {{secretName: bob-aws}}
---
apiVersion: awsaccess.dev/v1alpha1
kind: DeveloperGroup
metadata: {{name: alfie-developers, namespace: alfie}}
spec:
  members: [bob]
---
apiVersion: awsaccess.dev/v1alpha1
kind: CrossAccountRole
metadata: {{name: deploy, namespace: alfie}}
spec:
  account: {{name: identity}}
  trust: {{developerGroups: [{{name: alfie-developers}}]}}
"#,
        identity_account()
    ))
    .await;
    let users: Api<IamUser> = env.api(Some("alfie"));
    env.wait_for(&users, "bob", "Ready", ready).await;
    env.eventually("bob in the group", async || {
        (group_members(&env, "alfie-developers").await? == BTreeSet::from(["bob".to_string()])).then_some(())
    })
    .await;

    let asked = Timestamp::now();
    users
        .patch(
            "bob",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"state": "Disabled"}})),
        )
        .await
        .expect("disable");
    env.wait_for(&users, "bob", "Ready as Disabled", ready).await;
    assert!(!has_login_profile(&env, "bob").await);
    let keys = keys_of(&env, "bob").await;
    assert!(!keys.is_empty() && keys.iter().all(|(_, active)| !active), "{keys:?}");
    assert_eq!(group_members(&env, "alfie-developers").await, Some(BTreeSet::new()));
    assert!(user_exists(&env, "bob").await, "the user and its ARN are kept");
    // The role the group could assume denies sessions issued before bob left, then lets them be.
    let groups: Api<DeveloperGroup> = env.api(Some("alfie"));
    let left = env
        .wait_for(&groups, "alfie-developers", "bob's leaving recorded", |g| {
            g.status.as_ref().is_some_and(|s| s.last_removal.is_some())
        })
        .await
        .status
        .and_then(|s| s.last_removal)
        .expect("removal");
    assert!(left.users == ["bob"] && left.at.0 >= asked, "{left:?}");
    env.eventually("the role denies sessions issued before bob left", async || {
        (sessions_denied_before(&env, MANAGEMENT_ACCOUNT, "deploy").await? == left.at.0.to_string()).then_some(())
    })
    .await;
    env.eventually("the Deny lifted once those sessions expired", async || {
        sessions_denied_before(&env, MANAGEMENT_ACCOUNT, "deploy")
            .await
            .is_none()
            .then_some(())
    })
    .await;
    // Put once and lifted once, through the resyncs (every 2 s) between: no churn.
    assert_eq!(
        (env.aws.count("PutRolePolicy"), env.aws.count("DeleteRolePolicy")),
        (1, 1)
    );
    // The group, which still names bob, does not take the leaver back.
    env.aws.clear();
    env.eventually("a resync of the group", async || {
        (env.aws.count("GetGroup") + env.aws.count("GetAccountAuthorizationDetails") >= 2).then_some(())
    })
    .await;
    assert_eq!(group_members(&env, "alfie-developers").await, Some(BTreeSet::new()));
    let group = groups.get("alfie-developers").await.expect("group");
    let status = group.status.expect("status");
    assert!(status.members.is_empty());
    let ready = condition(&status.reconcile.conditions, "Ready").expect("Ready");
    assert!(
        ready.status == "True"
            && ready
                .message
                .ends_with("left out as leavers (their IamUser is Disabled): bob"),
        "{ready:?}"
    );

    users.delete("bob", &DeleteParams::default()).await.expect("delete");
    env.eventually("bob deleted in AWS", async || {
        (!user_exists(&env, "bob").await).then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_touch_nothing_a_taken_name_a_foreign_secret_and_a_namespace_not_allowed() {
    let env = Env::start().await;
    env.moto.create_organization().await;
    create_users(&env, &["carol"]).await;
    env.apply(&format!(
        r#"{NAMESPACE}---
apiVersion: v1
kind: Namespace
metadata: {{name: outsider}}
---{}"#,
        identity_account()
    ))
    .await;
    env.wait_active(&["identity"]).await;

    // A namespace the identity account does not allow: refused, and nothing read or written in AWS.
    env.aws.clear();
    env.apply(
        r#"
apiVersion: awsaccess.dev/v1alpha1
kind: IamUser
metadata: {name: dave, namespace: outsider}
spec:
  console: {enabled: true, passwordSecretName: dave-console}
"#,
    )
    .await;
    let message = env
        .stalled_message("IamUser", "outsider", "dave", "NamespaceNotAllowed")
        .await;
    assert!(
        message.starts_with("spec.account: the identity account")
            && message.contains("does not allow namespace outsider"),
        "{message}"
    );
    let user_calls: Vec<_> = env
        .aws
        .calls()
        .into_iter()
        .filter(|c| c.operation.contains("User") || c.operation.contains("Login") || c.operation.contains("AccessKey"))
        .collect();
    assert!(user_calls.is_empty(), "{user_calls:?}");
    assert!(!user_exists(&env, "dave").await);

    // A name taken by a user the operator did not make: AlreadyExists, nothing changed.
    env.apply(
        r#"
apiVersion: awsaccess.dev/v1alpha1
kind: IamUser
metadata: {name: carol, namespace: alfie}
spec:
  console: {enabled: true, passwordSecretName: carol-console}
"#,
    )
    .await;
    env.stalled_message("IamUser", "alfie", "carol", "AlreadyExists").await;
    assert!(!has_login_profile(&env, "carol").await);
    let tags = identity_iam(&env)
        .await
        .list_user_tags()
        .user_name("carol")
        .send()
        .await
        .expect("tags");
    assert!(tags.tags().is_empty(), "carol untouched");
    assert!(secret_value(&env, "carol-console", "password").await.is_none());

    // A Secret of the name that is not its own: refused naming the field, never overwritten.
    env.apply(
        r#"
apiVersion: v1
kind: Secret
metadata: {name: erin-aws, namespace: alfie}
stringData: {AWS_ACCESS_KEY_ID: someone-elses}
---
apiVersion: awsaccess.dev/v1alpha1
kind: IamUser
metadata: {name: erin, namespace: alfie}
spec:
  accessKeys: {secretName: erin-aws}
"#,
    )
    .await;
    let message = env.stalled_message("IamUser", "alfie", "erin", "AlreadyExists").await;
    assert!(
        message.starts_with("spec.accessKeys.secretName: Secret alfie/erin-aws exists"),
        "{message}"
    );
    assert_eq!(
        secret_value(&env, "erin-aws", "AWS_ACCESS_KEY_ID").await.as_deref(),
        Some("someone-elses")
    );
    assert!(!user_exists(&env, "erin").await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn creations_whose_answers_are_lost_are_looked_for_not_sent_again_blindly() {
    let mut env = Env::without_operator().await;
    let wire = Wire::start(env.moto.endpoint()).await;
    env.reach_aws_through(&wire.endpoint()).await;
    let env = env.start_operator(test_config());
    env.moto.create_organization().await;
    // Each creation is carried out by AWS the first time, its answer lost on the way back.
    let creations = ["CreateUser", "CreateLoginProfile", "CreateAccessKey"];
    wire.inject(Faults {
        limit: Some(1),
        ..Faults::always(&creations, Fault::LostAnswer)
    });
    env.apply(&format!(
        r#"{NAMESPACE}---{}---
apiVersion: awsaccess.dev/v1alpha1
kind: IamUser
metadata: {{name: frank, namespace: alfie}}
spec:
  console: {{enabled: true, passwordSecretName: frank-console}}
  accessKeys: {{secretName: frank-aws}}
"#,
        identity_account()
    ))
    .await;
    let users: Api<IamUser> = env.api(Some("alfie"));
    let most = std::sync::atomic::AtomicUsize::new(0);
    env.eventually("frank Ready after the lost answers", async || {
        most.fetch_max(keys_of(&env, "frank").await.len(), std::sync::atomic::Ordering::Relaxed);
        ready(&users.get("frank").await.ok()?).then_some(())
    })
    .await;
    let tally = wire.tally();
    for operation in creations {
        assert_eq!(
            tally.injected_into(operation),
            1,
            "{operation}'s answer lost once\n{tally}"
        );
    }
    // The user found by its owner tag, the login profile found: neither sent again.
    assert_eq!(tally.forwarded("CreateUser"), 1, "{tally}");
    assert_eq!(tally.forwarded("CreateLoginProfile"), 1, "{tally}");
    // The key whose secret was lost with its answer is deleted before another is made.
    assert_eq!(tally.forwarded("CreateAccessKey"), 2, "{tally}");
    assert_eq!(tally.forwarded("DeleteAccessKey"), 1, "{tally}");
    let keys = keys_of(&env, "frank").await;
    assert_eq!(keys.len(), 1, "{keys:?}");
    assert!(most.into_inner() <= 2, "never three keys");
    assert_eq!(
        secret_value(&env, "frank-aws", "AWS_ACCESS_KEY_ID").await,
        Some(keys[0].0.clone())
    );
    assert!(has_login_profile(&env, "frank").await);
    assert!(secret_value(&env, "frank-console", "password").await.is_some());
}

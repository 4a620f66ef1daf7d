//! AwsAccount end to end: manifests applied to kube-testserver, the
//! operator's controllers running, Organizations (moto, made slow or faulty
//! where a test needs AWS's real pace) read back with the SDK.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use aws_access_operator::api::{AccountState, AwsAccount, CrossAccountRole};
use aws_access_operator::aws::AwsErrorKind;
use aws_access_operator::aws::sdk::SdkAws;
use aws_access_operator::controller;
use aws_sdk_organizations::types::Tag;
use k8s_openapi::api::events::v1::Event;
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams};
use serde_json::json;

use crate::support::fault::FaultyAws;
use crate::support::moto::MANAGEMENT_ACCOUNT;
use crate::support::operator::{Env, condition, test_config};

const NAMESPACE: &str = include_str!("../fixtures/alfie-namespace.yaml");

/// An AwsAccount named like its account, with the email moto's
/// `create_member_account` gives an account of that name.
fn account(name: &str, extra: &str) -> String {
    format!(
        r#"
---
apiVersion: awsaccess.dev/v1alpha1
kind: AwsAccount
metadata: {{name: {name}}}
spec:
  accountName: {name}
  email: {name}@example.com
{extra}"#
    )
}

fn role_in_account(account: &str) -> String {
    format!(
        r#"
---
apiVersion: awsaccess.dev/v1alpha1
kind: CrossAccountRole
metadata: {{name: deployer, namespace: alfie}}
spec:
  account: {{name: {account}}}
  trust: {{accounts: [{{id: "{MANAGEMENT_ACCOUNT}"}}]}}
"#
    )
}

fn accounts(env: &Env) -> Api<AwsAccount> {
    Api::all(env.client.clone())
}

/// Whether the account is Ready for its current generation, for whatever
/// reason: the first reasons (Created, Updated, DriftCorrected) give way to
/// InSync at the next resync, so tests read those from the Events.
fn ready(account: &AwsAccount) -> bool {
    account
        .status
        .as_ref()
        .is_some_and(|s| s.reconcile.is_ready_at(account.metadata.generation))
}

/// Whether the condition `kind` is True with `reason`, for the current generation.
fn holds(account: &AwsAccount, kind: &str, reason: &str) -> bool {
    account.status.as_ref().is_some_and(|s| {
        s.reconcile.observed_generation == account.metadata.generation
            && condition(&s.reconcile.conditions, kind).is_some_and(|c| c.status == "True" && c.reason == reason)
    })
}

fn state(account: &AwsAccount) -> Option<AccountState> {
    account.status.as_ref().and_then(|s| s.state)
}

fn message(account: &AwsAccount, kind: &str) -> String {
    account
        .status
        .as_ref()
        .and_then(|s| condition(&s.reconcile.conditions, kind))
        .map(|c| c.message.clone())
        .unwrap_or_default()
}

fn account_id(account: &AwsAccount) -> String {
    account
        .status
        .as_ref()
        .and_then(|s| s.account_id.clone())
        .expect("status.accountId")
}

async fn organizations(env: &Env) -> aws_sdk_organizations::Client {
    aws_sdk_organizations::Client::new(&env.moto.sdk_config().await)
}

/// (id, state) of every account in the organization with `email`.
async fn accounts_with_email(env: &Env, email: &str) -> Vec<(String, String)> {
    let listed = organizations(env)
        .await
        .list_accounts()
        .send()
        .await
        .expect("ListAccounts");
    listed
        .accounts()
        .iter()
        .filter(|a| a.email() == Some(email))
        .map(|a| {
            (
                a.id().unwrap_or_default().to_string(),
                a.state().map(|s| s.as_str().to_string()).unwrap_or_default(),
            )
        })
        .collect()
}

async fn parent_of(env: &Env, id: &str) -> String {
    let parents = organizations(env)
        .await
        .list_parents()
        .child_id(id)
        .send()
        .await
        .expect("ListParents");
    parents.parents()[0].id().expect("parent id").to_string()
}

async fn tags_of(env: &Env, id: &str) -> BTreeMap<String, String> {
    let tags = organizations(env)
        .await
        .list_tags_for_resource()
        .resource_id(id)
        .send()
        .await
        .expect("ListTagsForResource");
    tags.tags()
        .iter()
        .map(|t| (t.key().to_string(), t.value().to_string()))
        .collect()
}

async fn tag_by_hand(env: &Env, id: &str, key: &str, value: &str) {
    let tag = Tag::builder().key(key).value(value).build().expect("tag");
    organizations(env)
        .await
        .tag_resource()
        .resource_id(id)
        .tags(tag)
        .send()
        .await
        .expect("TagResource");
}

async fn create_ou(env: &Env, parent: &str, name: &str) -> String {
    let created = organizations(env)
        .await
        .create_organizational_unit()
        .parent_id(parent)
        .name(name)
        .send()
        .await
        .expect("CreateOrganizationalUnit");
    created
        .organizational_unit()
        .and_then(|ou| ou.id())
        .expect("ou id")
        .to_string()
}

/// (reason, note) of the Events about the AwsAccount `name`.
async fn events(env: &Env, name: &str) -> Vec<(String, String)> {
    let events: Api<Event> = Api::all(env.client.clone());
    let listed = events.list(&ListParams::default()).await.expect("events");
    listed
        .items
        .into_iter()
        .filter(|e| e.regarding.as_ref().and_then(|r| r.name.as_deref()) == Some(name))
        .map(|e| (e.reason.unwrap_or_default(), e.note.unwrap_or_default()))
        .collect()
}

/// The notes of the Events about `name` with `reason`, once there is one.
async fn event_notes(env: &Env, name: &str, reason: &str) -> Vec<String> {
    env.eventually(&format!("a {reason} Event about {name}"), async || {
        let notes: Vec<String> = events(env, name)
            .await
            .into_iter()
            .filter(|(r, _)| r == reason)
            .map(|(_, note)| note)
            .collect();
        (!notes.is_empty()).then_some(notes)
    })
    .await
}

fn tags(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_account_is_polled_to_active_and_a_role_is_made_inside_through_its_access_role() {
    let env = Env::start().await;
    let root = env.moto.create_organization().await;
    // As in AWS, creation takes a while.
    env.aws.hold_account_creations();
    let spec = r#"
  accessRoleName: OrgAdmin
  iamUserAccessToBilling: Deny
  tags: {team: alfie, env: dev}
  allowedNamespaces: [alfie]
"#;
    env.apply(&format!(
        "{NAMESPACE}{}{}",
        account("alfie-dev", spec),
        role_in_account("alfie-dev")
    ))
    .await;

    let accounts = accounts(&env);
    let creating = env
        .wait_for(&accounts, "alfie-dev", "Creating", |a| {
            holds(a, "Reconciling", "Creating") && state(a) == Some(AccountState::Creating)
        })
        .await;
    let request = creating
        .status
        .and_then(|s| s.create_account_request_id)
        .expect("the request id is recorded while AWS works");
    // Polled by requeue, one reconcile per look, never a second CreateAccount.
    env.eventually("polled twice", async || {
        (env.aws.count("DescribeCreateAccountStatus") >= 2).then_some(())
    })
    .await;
    assert_eq!(env.aws.count("CreateAccount"), 1);
    let roles: Api<CrossAccountRole> = env.api(Some("alfie"));
    env.wait_for(&roles, "deployer", "waiting for the account", |r| {
        r.status
            .as_ref()
            .and_then(|s| condition(&s.reconcile.conditions, "Reconciling").cloned())
            .is_some_and(|c| c.reason == "ReferenceNotReady")
    })
    .await;

    env.aws.finish_account_creations(None);
    let active = env
        .wait_for(&accounts, "alfie-dev", "Active", |a| {
            ready(a) && state(a) == Some(AccountState::Active)
        })
        .await;
    let id = account_id(&active);
    let status = active.status.expect("status");
    assert_eq!(status.create_account_request_id, Some(request));
    assert!(status.arn.is_some_and(|arn| arn.ends_with(&id)));
    assert_eq!(status.organizational_unit_id, Some(root));
    assert_eq!(
        accounts_with_email(&env, "alfie-dev@example.com").await,
        [(id.clone(), "ACTIVE".to_string())]
    );
    assert_eq!(tags_of(&env, &id).await, tags(&[("team", "alfie"), ("env", "dev")]));
    assert!(
        event_notes(&env, "alfie-dev", "Creating").await[0].contains("asked Organizations to create account alfie-dev")
    );
    assert_eq!(
        event_notes(&env, "alfie-dev", "Created").await,
        [format!("created account {id} (alfie-dev)")]
    );

    // The role referencing the account by name lands inside it, through the account's access role.
    env.wait_for(&roles, "deployer", "Ready", |r| {
        r.status
            .as_ref()
            .is_some_and(|s| condition(&s.reconcile.conditions, "Ready").is_some_and(|c| c.status == "True"))
    })
    .await;
    let iam = env.moto.member_iam(&id).await;
    iam.get_role()
        .role_name("deployer")
        .send()
        .await
        .expect("the role is in the new account");
    iam.get_role()
        .role_name("OrgAdmin")
        .send()
        .await
        .expect("CreateAccount was given the spec's accessRoleName");
    assert!(
        env.aws
            .calls()
            .iter()
            .any(|c| c.operation == "AssumeRole" && c.account == id)
    );

    // In sync, a resync costs reads only: no AWS write, and no status write
    // once the status says InSync.
    let in_sync = env
        .wait_for(&accounts, "alfie-dev", "InSync", |a| holds(a, "Ready", "InSync"))
        .await;
    let version = in_sync.metadata.resource_version;
    env.aws.clear();
    env.eventually("two resyncs", async || {
        (env.aws.count("DescribeAccount") >= 2 && env.aws.count("ListTagsForResource") >= 2).then_some(())
    })
    .await;
    assert_eq!(env.aws.writes(), vec![], "an account in sync costs no AWS write");
    assert_eq!(
        accounts.get("alfie-dev").await.expect("get").metadata.resource_version,
        version,
        "nor a status write"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_killed_right_after_create_account_leaves_exactly_one_account() {
    let mut env = Env::start().await;
    env.moto.create_organization().await;
    let created = env.aws.pause_after("CreateAccount");
    env.apply(&account("alfie-dev", "")).await;
    tokio::time::timeout(Duration::from_secs(30), created)
        .await
        .expect("CreateAccount returned");
    let accounts = accounts(&env);
    let before = accounts.get("alfie-dev").await.expect("get").status.unwrap_or_default();
    assert_eq!(
        (before.create_account_request_id, before.account_id),
        (None, None),
        "the operator died before recording anything"
    );

    env.restart_operator(test_config()).await;
    let active = env
        .wait_for(&accounts, "alfie-dev", "Active", |a| {
            ready(a) && state(a) == Some(AccountState::Active)
        })
        .await;
    assert_eq!(
        env.aws.count("CreateAccount"),
        0,
        "the restarted operator found the account instead of creating another"
    );
    assert!(event_notes(&env, "alfie-dev", "Adopted").await[0].contains("using it instead of creating another"));
    assert_eq!(
        accounts_with_email(&env, "alfie-dev@example.com").await,
        [(account_id(&active), "ACTIVE".to_string())]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reconcile_overtaken_after_its_search_never_sends_create_account() {
    let env = Env::start().await;
    env.moto.create_organization().await;
    // Replica A searches for earlier work, reads the object, and stalls just
    // before recording its intent (a leader deposed by a long pause would).
    let (stalled, resume) = env.aws.hold_after("ListRoots");
    env.apply(&account("alfie-dev", "")).await;
    tokio::time::timeout(Duration::from_secs(30), stalled)
        .await
        .expect("replica A reached the creation");

    // Replica B, the new leader, creates the account meanwhile.
    let b_aws = Arc::new(FaultyAws::new(Arc::new(SdkAws::new(&env.moto.sdk_config().await))));
    let replica_b = tokio::spawn(controller::run(
        env.client.clone(),
        b_aws.clone(),
        test_config(),
        controller::Telemetry::default(),
        std::future::pending(),
    ));
    let accounts = accounts(&env);
    env.wait_for(&accounts, "alfie-dev", "B's request recorded", |a| {
        a.status
            .as_ref()
            .is_some_and(|s| s.create_account_request_id.is_some() || s.account_id.is_some())
    })
    .await;

    // A goes on: its write of intent is refused (the object changed since it
    // read it), so it never sends CreateAccount, and follows B's request.
    resume.send(()).expect("replica A still held");
    let active = env
        .wait_for(&accounts, "alfie-dev", "Active", |a| {
            ready(a) && state(a) == Some(AccountState::Active)
        })
        .await;
    replica_b.abort();
    assert_eq!(env.aws.count("CreateAccount"), 0, "replica A sent CreateAccount");
    assert_eq!(b_aws.count("CreateAccount"), 1);
    assert_eq!(
        accounts_with_email(&env, "alfie-dev@example.com").await,
        [(account_id(&active), "ACTIVE".to_string())]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_killed_while_aws_creates_follows_the_same_request_after_restart() {
    let mut env = Env::start().await;
    env.moto.create_organization().await;
    env.aws.hold_account_creations();
    let created = env.aws.pause_after("CreateAccount");
    env.apply(&account("alfie-dev", "")).await;
    tokio::time::timeout(Duration::from_secs(30), created)
        .await
        .expect("CreateAccount returned");

    env.restart_operator(test_config()).await;
    let accounts = accounts(&env);
    let resumed = env
        .wait_for(&accounts, "alfie-dev", "following the running request", |a| {
            holds(a, "Reconciling", "Creating")
        })
        .await;
    assert!(
        resumed.status.and_then(|s| s.create_account_request_id).is_some(),
        "the running request is recorded"
    );
    assert!(env.aws.count("ListCreateAccountStatus") >= 1);
    env.aws.finish_account_creations(None);
    let active = env
        .wait_for(&accounts, "alfie-dev", "Active", |a| {
            ready(a) && state(a) == Some(AccountState::Active)
        })
        .await;
    assert_eq!(env.aws.count("CreateAccount"), 0);
    assert_eq!(
        accounts_with_email(&env, "alfie-dev@example.com").await,
        [(account_id(&active), "ACTIVE".to_string())]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_creation_is_stalled_with_aws_reason_until_the_spec_changes() {
    let env = Env::start().await;
    env.moto.create_organization().await;
    env.aws.hold_account_creations();
    env.apply(&account("alfie-dev", "  tags: {team: alfie}\n")).await;
    let accounts = accounts(&env);
    env.wait_for(&accounts, "alfie-dev", "Creating", |a| {
        holds(a, "Reconciling", "Creating")
    })
    .await;
    env.aws.finish_account_creations(Some("EMAIL_ALREADY_EXISTS"));

    let failed = env
        .wait_for(&accounts, "alfie-dev", "Stalled", |a| {
            holds(a, "Stalled", "CreateAccountFailed") && state(a) == Some(AccountState::Failed)
        })
        .await;
    assert!(
        message(&failed, "Stalled").contains("EMAIL_ALREADY_EXISTS"),
        "{}",
        message(&failed, "Stalled")
    );
    assert!(event_notes(&env, "alfie-dev", "CreateAccountFailed").await[0].contains("EMAIL_ALREADY_EXISTS"));
    // Nothing is tried again while the spec stays as it is.
    env.aws.clear();
    env.eventually("two resyncs", async || {
        (env.aws.count("DescribeCreateAccountStatus") >= 2).then_some(())
    })
    .await;
    assert_eq!(env.aws.count("CreateAccount"), 0);

    accounts
        .patch(
            "alfie-dev",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"tags": {"team": "alfie", "attempt": "2"}}})),
        )
        .await
        .expect("patch");
    let active = env
        .wait_for(&accounts, "alfie-dev", "Active", |a| {
            ready(a) && state(a) == Some(AccountState::Active)
        })
        .await;
    assert_eq!(env.aws.count("CreateAccount"), 1);
    assert_eq!(
        tags_of(&env, &account_id(&active)).await,
        tags(&[("team", "alfie"), ("attempt", "2")])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_existing_member_account_is_adopted_and_kept_in_sync() {
    let env = Env::start().await;
    env.moto.create_organization().await;
    let id = env.moto.create_member_account("legacy").await;
    tag_by_hand(&env, &id, "team", "old").await;
    tag_by_hand(&env, &id, "stray", "x").await;
    env.apply(&account(
        "legacy",
        &format!(
            r#"
  accountId: "{id}"
  tags: {{team: alfie}}
"#
        ),
    ))
    .await;

    let accounts = accounts(&env);
    let adopted = env
        .wait_for(&accounts, "legacy", "Ready", |a| {
            ready(a) && state(a) == Some(AccountState::Active)
        })
        .await;
    assert_eq!(account_id(&adopted), id);
    let updated = &event_notes(&env, "legacy", "Updated").await[0];
    assert!(
        updated.contains("tag team") && updated.contains("untag stray"),
        "{updated}"
    );
    assert_eq!(tags_of(&env, &id).await, tags(&[("team", "alfie")]));
    assert_eq!(env.aws.count("CreateAccount"), 0, "adopting creates nothing");
    assert_eq!(accounts_with_email(&env, "legacy@example.com").await.len(), 1);
    assert_eq!(
        event_notes(&env, "legacy", "Adopted").await,
        [format!("adopted account {id} (legacy), a member of the organization")]
    );

    // A tag changed by hand is reverted and reported as drift.
    tag_by_hand(&env, &id, "team", "bob").await;
    assert!(event_notes(&env, "legacy", "DriftCorrected").await[0].contains("tag team"));
    assert_eq!(tags_of(&env, &id).await, tags(&[("team", "alfie")]));

    // Organizations cannot rename: a new name is reported, nothing written.
    accounts
        .patch(
            "legacy",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"accountName": "legacy-renamed"}})),
        )
        .await
        .expect("patch");
    let renamed = env
        .wait_for(&accounts, "legacy", "NameDiffers", |a| {
            holds(a, "Stalled", "NameDiffers")
        })
        .await;
    assert!(
        message(&renamed, "Stalled").contains("cannot rename"),
        "{}",
        message(&renamed, "Stalled")
    );
    assert_eq!(state(&renamed), Some(AccountState::Active), "the account stays usable");

    // An id outside the organization, or one whose email is not the spec's, is refused untouched.
    env.aws.clear();
    env.apply(&account("stranger", "  accountId: \"999999999999\"\n")).await;
    env.apply(&format!(
        r#"
---
apiVersion: awsaccess.dev/v1alpha1
kind: AwsAccount
metadata: {{name: typo}}
spec:
  accountName: legacy
  email: someone-else@example.com
  accountId: "{id}"
  tags: {{team: typo}}
"#
    ))
    .await;
    env.wait_for(&accounts, "stranger", "NotInOrganization", |a| {
        holds(a, "Stalled", "NotInOrganization")
    })
    .await;
    let typo = env
        .wait_for(&accounts, "typo", "EmailDiffers", |a| {
            holds(a, "Stalled", "EmailDiffers")
        })
        .await;
    assert_eq!(
        state(&typo),
        None,
        "not confirmed, so not Active for objects that reference it"
    );
    assert_eq!(env.aws.writes(), vec![]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_account_is_moved_into_its_organizational_unit_by_path_or_id() {
    let env = Env::start().await;
    let root = env.moto.create_organization().await;
    let workloads = create_ou(&env, &root, "Workloads").await;
    let development = create_ou(&env, &workloads, "Development").await;
    let production = create_ou(&env, &workloads, "Production").await;
    let id = env.moto.create_member_account("alfie").await;
    env.apply(&account(
        "alfie",
        &format!(
            r#"
  accountId: "{id}"
  organizationalUnit: Workloads/Development
"#
        ),
    ))
    .await;

    let accounts = accounts(&env);
    let in_unit = |unit: &str| {
        let unit = unit.to_string();
        move |a: &AwsAccount| {
            ready(a) && a.status.as_ref().and_then(|s| s.organizational_unit_id.as_deref()) == Some(unit.as_str())
        }
    };
    env.wait_for(&accounts, "alfie", "in Development", in_unit(&development))
        .await;
    assert_eq!(parent_of(&env, &id).await, development);
    assert_eq!(
        event_notes(&env, "alfie", "Updated").await,
        [format!(
            "updated account {id} (alfie): move from {root} to {development}"
        )]
    );

    accounts
        .patch(
            "alfie",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"organizationalUnit": production}})),
        )
        .await
        .expect("patch");
    env.wait_for(&accounts, "alfie", "in Production", in_unit(&production))
        .await;
    assert_eq!(parent_of(&env, &id).await, production);

    // Moved away by hand: moved back, reported as drift.
    organizations(&env)
        .await
        .move_account()
        .account_id(&id)
        .source_parent_id(&production)
        .destination_parent_id(&root)
        .send()
        .await
        .expect("MoveAccount");
    assert_eq!(
        event_notes(&env, "alfie", "DriftCorrected").await,
        [format!(
            "reverted out-of-band changes to account {id} (alfie): move from {root} to {production}"
        )]
    );
    assert_eq!(parent_of(&env, &id).await, production);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_organizational_unit_that_does_not_exist_yet_is_waited_for() {
    let env = Env::start().await;
    let root = env.moto.create_organization().await;
    env.apply(&account("sandbox-1", "  organizationalUnit: Sandbox/Experiments\n"))
        .await;

    let accounts = accounts(&env);
    let waiting = env
        .wait_for(&accounts, "sandbox-1", "OrganizationalUnitNotFound", |a| {
            holds(a, "Reconciling", "OrganizationalUnitNotFound")
        })
        .await;
    assert!(
        message(&waiting, "Reconciling").contains("no OU named \"Sandbox\" under the root"),
        "{}",
        message(&waiting, "Reconciling")
    );
    env.eventually("looked again", async || {
        (env.aws.count("ListOrganizationalUnitsForParent") >= 2).then_some(())
    })
    .await;
    assert_eq!(env.aws.count("CreateAccount"), 0, "not created at the root meanwhile");

    let sandbox = create_ou(&env, &root, "Sandbox").await;
    env.wait_for(&accounts, "sandbox-1", "the next level", |a| {
        message(a, "Reconciling").contains("no OU named \"Experiments\" under Sandbox")
    })
    .await;
    let experiments = create_ou(&env, &sandbox, "Experiments").await;
    let created = env.wait_for(&accounts, "sandbox-1", "Ready", ready).await;
    assert_eq!(parent_of(&env, &account_id(&created)).await, experiments);
    assert_eq!(env.aws.count("CreateAccount"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deletion_retains_by_default_even_when_adopted_and_closes_only_when_asked() {
    let env = Env::start().await;
    env.moto.create_organization().await;
    let kept_id = env.moto.create_member_account("kept").await;
    env.apply(&format!(
        "{}{}",
        account("kept", &format!("  accountId: \"{kept_id}\"\n")),
        account("doomed", "  deletionPolicy: Close\n")
    ))
    .await;
    let accounts = accounts(&env);
    env.wait_for(&accounts, "kept", "Ready", |a| holds(a, "Ready", "InSync"))
        .await;
    let doomed = env.wait_for(&accounts, "doomed", "Ready", ready).await;
    let doomed_id = account_id(&doomed);

    // AWS's quota of closures per 30 days is used up.
    env.aws
        .fail_next("CloseAccount", AwsErrorKind::LimitExceeded, usize::MAX);
    accounts.delete("kept", &DeleteParams::default()).await.expect("delete");
    accounts
        .delete("doomed", &DeleteParams::default())
        .await
        .expect("delete");

    env.eventually("kept object gone", async || {
        accounts.get_opt("kept").await.expect("get").is_none().then_some(())
    })
    .await;
    assert_eq!(
        accounts_with_email(&env, "kept@example.com").await,
        [(kept_id.clone(), "ACTIVE".to_string())]
    );
    assert_eq!(
        event_notes(&env, "kept", "Retained").await,
        [format!(
            "left account {kept_id} in the organization (deletionPolicy: Retain)"
        )]
    );
    let refused = env
        .wait_for(&accounts, "doomed", "Stalled on the quota", |a| {
            holds(a, "Stalled", "LimitExceeded")
        })
        .await;
    assert!(
        message(&refused, "Stalled").contains("deletionPolicy: Retain"),
        "{}",
        message(&refused, "Stalled")
    );
    assert!(
        refused.metadata.deletion_timestamp.is_some(),
        "the object waits for the account to close"
    );
    assert_eq!(
        accounts_with_email(&env, "doomed@example.com").await,
        [(doomed_id.clone(), "ACTIVE".to_string())]
    );

    // The quota frees up: the retry closes the account and lets the object go.
    env.aws.fail_next("CloseAccount", AwsErrorKind::LimitExceeded, 0);
    env.eventually("doomed object gone", async || {
        accounts.get_opt("doomed").await.expect("get").is_none().then_some(())
    })
    .await;
    assert_eq!(
        accounts_with_email(&env, "doomed@example.com").await,
        [(doomed_id, "SUSPENDED".to_string())]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_account_deleted_while_aws_creates_it_is_closed_once_it_exists() {
    let env = Env::start().await;
    env.moto.create_organization().await;
    env.aws.hold_account_creations();
    env.apply(&account("short-lived", "  deletionPolicy: Close\n")).await;
    let accounts = accounts(&env);
    env.wait_for(&accounts, "short-lived", "Creating", |a| {
        holds(a, "Reconciling", "Creating")
    })
    .await;

    accounts
        .delete("short-lived", &DeleteParams::default())
        .await
        .expect("delete");
    env.eventually("closing waits for the creation", async || {
        (env.aws.count("DescribeCreateAccountStatus") >= 3).then_some(())
    })
    .await;
    assert!(
        accounts.get_opt("short-lived").await.expect("get").is_some(),
        "the object stays while AWS creates the account"
    );
    assert_eq!(env.aws.count("CloseAccount"), 0);

    env.aws.finish_account_creations(None);
    env.eventually("object gone", async || {
        accounts
            .get_opt("short-lived")
            .await
            .expect("get")
            .is_none()
            .then_some(())
    })
    .await;
    let closed = accounts_with_email(&env, "short-lived@example.com").await;
    assert_eq!(closed.len(), 1);
    assert_eq!(closed[0].1, "SUSPENDED", "closed, not orphaned");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_account_closed_behind_the_operators_back_is_reported_suspended() {
    let env = Env::start().await;
    env.moto.create_organization().await;
    env.apply(&format!(
        "{NAMESPACE}{}{}",
        account("alfie-dev", "  allowedNamespaces: [alfie]\n"),
        role_in_account("alfie-dev")
    ))
    .await;
    let accounts = accounts(&env);
    let active = env.wait_for(&accounts, "alfie-dev", "Active", ready).await;
    let roles: Api<CrossAccountRole> = env.api(Some("alfie"));
    env.wait_for(&roles, "deployer", "Ready", |r| {
        r.status
            .as_ref()
            .is_some_and(|s| condition(&s.reconcile.conditions, "Ready").is_some_and(|c| c.status == "True"))
    })
    .await;

    organizations(&env)
        .await
        .close_account()
        .account_id(account_id(&active))
        .send()
        .await
        .expect("CloseAccount");
    let suspended = env
        .wait_for(&accounts, "alfie-dev", "Suspended", |a| {
            holds(a, "Stalled", "Suspended") && state(a) == Some(AccountState::Suspended)
        })
        .await;
    assert!(
        message(&suspended, "Stalled").contains("SUSPENDED"),
        "{}",
        message(&suspended, "Stalled")
    );
    assert_eq!(
        event_notes(&env, "alfie-dev", "Suspended").await.len(),
        1,
        "one Event, when the state changed"
    );
    // What lives in the account waits for it.
    env.wait_for(&roles, "deployer", "waiting", |r| {
        r.status
            .as_ref()
            .and_then(|s| condition(&s.reconcile.conditions, "Reconciling").cloned())
            .is_some_and(|c| c.status == "True" && c.message.ends_with("AwsAccount alfie-dev is Suspended, not Active"))
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn observe_mode_finds_the_account_by_email_reports_differences_and_writes_nothing() {
    let env = Env::start().await;
    let root = env.moto.create_organization().await;
    create_ou(&env, &root, "Workloads").await;
    let id = env.moto.create_member_account("observed").await;
    tag_by_hand(&env, &id, "team", "old").await;
    env.apply(&account(
        "observed",
        r#"
  managementPolicy: Observe
  organizationalUnit: Workloads
  tags: {team: alfie}
"#,
    ))
    .await;

    let accounts = accounts(&env);
    let drifted = env
        .wait_for(&accounts, "observed", "DriftDetected", |a| {
            a.status.as_ref().is_some_and(|s| {
                condition(&s.reconcile.conditions, "Ready")
                    .is_some_and(|c| c.status == "False" && c.reason == "DriftDetected")
            })
        })
        .await;
    let message = message(&drifted, "Ready");
    assert!(
        message.contains("Manage would: move from") && message.contains("tag team"),
        "{message}"
    );
    assert_eq!(account_id(&drifted), id);
    assert_eq!(drifted.status.and_then(|s| s.organizational_unit_id), Some(root));

    accounts
        .delete("observed", &DeleteParams::default())
        .await
        .expect("delete");
    env.eventually("object gone", async || {
        accounts.get_opt("observed").await.expect("get").is_none().then_some(())
    })
    .await;
    assert_eq!(env.aws.writes(), vec![], "Observe writes nothing, not even on deletion");
    assert_eq!(tags_of(&env, &id).await, tags(&[("team", "old")]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_get_awsaccounts_shows_id_name_ou_state_and_ready() {
    let env = Env::start().await;
    let root = env.moto.create_organization().await;
    create_ou(&env, &root, "Workloads").await;
    let id = env.moto.create_member_account("legacy").await;
    env.apply(&account(
        "legacy",
        &format!(
            r#"
  accountId: "{id}"
  organizationalUnit: Workloads
"#
        ),
    ))
    .await;
    env.wait_for(&accounts(&env), "legacy", "Ready", ready).await;

    let table = env.kubectl(&["get", "awsaccounts"]).await;
    let lines: Vec<Vec<&str>> = table.lines().map(|line| line.split_whitespace().collect()).collect();
    assert_eq!(
        lines[0],
        ["NAME", "ACCOUNT-ID", "ACCOUNT-NAME", "OU", "STATE", "READY", "AGE"],
        "{table}"
    );
    assert_eq!(
        lines[1][..6],
        ["legacy", id.as_str(), "legacy", "Workloads", "Active", "True"],
        "{table}"
    );
    let short = env.kubectl(&["get", "awsacct", "legacy", "-o", "name"]).await;
    assert_eq!(short.trim(), "awsaccount.awsaccess.dev/legacy");
}

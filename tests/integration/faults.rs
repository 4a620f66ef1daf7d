//! Faults on the wire between the AWS SDK and moto (tests/integration/support/wire.rs):
//! throttling, 5xx before a call, connections reset, and answers lost after
//! moto carried the call out. The SDK meets them with its own retries; what
//! it gives up on, the operator must take for what it is, and AWS must end
//! exactly as the spec says, read back from moto directly.

use std::collections::{BTreeMap, BTreeSet};
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use aws_access_operator::api::{AccountState, AwsAccount, CrossAccountRole, OrganizationalUnit};
use aws_access_operator::aws::pacing::{Limits, ServiceLimits};
use aws_access_operator::aws::sdk::SdkAws;
use aws_access_operator::aws::{Aws, BillingAccess, NewAccount};
use aws_access_operator::policy::document::{decode_aws_document, normalize};
use aws_config::retry::RetryConfig;
use futures::StreamExt;
use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::api::events::v1::Event;
use kube::api::{Api, DynamicObject, ListParams};
use kube::runtime::{WatchStreamExt, watcher};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use tokio::task::JoinHandle;

use crate::support::aws::{group_attached_policies, group_members};
use crate::support::moto::{ACCESS_ROLE, MANAGEMENT_ACCOUNT, Moto};
use crate::support::operator::{Env, converging_config, example_files, ready_is, resource_of, test_config};
use crate::support::process::OperatorProcess;
use crate::support::wire::{Fault, Faults, Wire};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sdk_retries_each_fault_and_a_call_sent_once_reports_it_as_retryable() {
    let moto = Moto::start().await;
    moto.create_organization().await;
    let wire = Wire::start(moto.endpoint()).await;
    // The SDK's default retry classification with quick backoff: which
    // answers it retries is the point here, not how long it waits.
    let config = moto
        .sdk_config_through(&wire.endpoint())
        .await
        .into_builder()
        .retry_config(RetryConfig::standard().with_initial_backoff(Duration::from_millis(10)))
        .build();
    let aws = SdkAws::new(&config);
    let iam = aws.iam(MANAGEMENT_ACCOUNT, ACCESS_ROLE).await.expect("own IAM");
    let orgs = aws.organizations();

    // Reads and updates are retried by the SDK: two faults, then the call passes.
    for kind in Fault::ALL {
        let twice = |operation| Faults {
            limit: Some(2),
            ..Faults::always(&[operation], kind)
        };
        wire.inject(twice("GetRole"));
        assert_eq!(iam.get_role("absent").await, Ok(None), "GetRole through {kind:?}");
        wire.inject(twice("ListAccounts"));
        let accounts = orgs.list_accounts().await;
        assert!(accounts.is_ok(), "ListAccounts through {kind:?}: {accounts:?}");
    }
    let tally = wire.tally();
    for operation in ["GetRole", "ListAccounts"] {
        assert_eq!(tally.injected_into(operation), 8, "{operation}\n{tally}");
        // One passing attempt per kind, and the two lost answers moto saw.
        assert_eq!(tally.forwarded(operation), 6, "{operation}\n{tally}");
    }

    // A creating call is sent once: what it met reaches the operator, which
    // must see a fault it can retry (after looking for the effect), never a
    // refusal to stall on. Twice each: the two shapes of a 5xx alternate.
    let create = async |operation: &str, name: &str| match operation {
        "CreateGroup" => iam.create_group(name).await.map(|_| ()),
        _ => {
            let account = NewAccount {
                name: name.to_owned(),
                email: format!("{name}@example.com"),
                access_role_name: ACCESS_ROLE.into(),
                iam_user_access_to_billing: BillingAccess::Allow,
                tags: Default::default(),
            };
            orgs.create_account(&account).await.map(|_| ())
        }
    };
    let mut refused = vec![];
    for operation in ["CreateGroup", "CreateAccount"] {
        for kind in Fault::ALL {
            for attempt in 0..2 {
                wire.inject(Faults::always(&[operation], kind));
                let result = create(operation, &format!("{kind:?}-{attempt}").to_lowercase()).await;
                let seen = format!("{operation} through {kind:?} #{attempt}: {result:?}");
                println!("{seen}");
                if !result.is_err_and(|err| err.kind.retryable()) {
                    refused.push(seen);
                }
            }
        }
    }
    wire.calm();
    let tally = wire.tally();
    println!("{tally}");
    assert!(
        refused.is_empty(),
        "faults the operator would not retry:\n{}",
        refused.join("\n")
    );
    for operation in ["CreateGroup", "CreateAccount"] {
        assert_eq!(tally.injected_into(operation), 8, "{operation}\n{tally}");
        assert_eq!(tally.forwarded(operation), 2, "only lost answers reach moto\n{tally}");
    }
    // The lost answers' effects are there all the same.
    let groups = aws_sdk_iam::Client::new(&moto.sdk_config().await)
        .list_groups()
        .send()
        .await
        .expect("ListGroups");
    let mut names: Vec<&str> = groups.groups().iter().map(|g| g.group_name()).collect();
    names.sort();
    assert_eq!(names, ["lostanswer-0", "lostanswer-1"]);
}

/// How long objects may take to become Ready, faults and all. Generous:
/// these tests share two cores with others. Since the examples hold
/// IamUsers too (711 calls, about 200 of them faulted), the examples'
/// run took 31, 41 and 63 s in three runs of the whole suite.
const CONVERGE: Duration = Duration::from_secs(120);
/// The operator binary waits longer than the tests' Config: retries from
/// 2 s doubling, a running CreateAccount polled every 10 s.
const PROCESS_CONVERGE: Duration = Duration::from_secs(90);

/// moto with an organization and the identity account's users, the API
/// server with the CRDs, and the wire in front of moto for the operator.
async fn env_behind_wire() -> (Env, Wire) {
    let mut env = Env::without_operator().await;
    env.moto.create_organization().await;
    let identity = aws_sdk_iam::Client::new(&env.moto.sdk_config().await);
    for user in ["alice", "bob"] {
        identity.create_user().user_name(user).send().await.expect("CreateUser");
    }
    let wire = Wire::start(env.moto.endpoint()).await;
    env.reach_aws_through(&wire.endpoint()).await;
    (env, wire)
}

/// The kinds the operator reconciles.
const KINDS: [&str; 6] = [
    "AwsAccount",
    "CrossAccountRole",
    "DeveloperGroup",
    "PartnerAccess",
    "OrganizationalUnit",
    "ServiceControlPolicy",
];

/// Every object of the operator's kinds: (kind namespace/name, object).
async fn objects(client: &kube::Client) -> Vec<(String, DynamicObject)> {
    let mut found = vec![];
    for kind in KINDS {
        let (resource, _) = resource_of(kind);
        let api: Api<DynamicObject> = Api::all_with(client.clone(), &resource);
        for object in api.list(&ListParams::default()).await.expect("list").items {
            let namespace = object.metadata.namespace.clone().unwrap_or_default();
            let name = object.metadata.name.clone().unwrap_or_default();
            found.push((format!("{kind} {namespace}/{name}"), object));
        }
    }
    found
}

/// The condition `kind` of `object` when it is True.
fn holding<'a>(object: &'a DynamicObject, kind: &str) -> Option<&'a Value> {
    let conditions = object.data.pointer("/status/conditions")?.as_array()?;
    conditions.iter().find(|c| c["type"] == kind && c["status"] == "True")
}

/// (reason, message) of the condition `kind` when it is True.
fn holds(object: &DynamicObject, kind: &str) -> Option<(String, String)> {
    let condition = holding(object, kind)?;
    let text = |field: &str| condition[field].as_str().unwrap_or_default().to_owned();
    Some((text("reason"), text("message")))
}

fn ready(object: &DynamicObject) -> bool {
    let generation = object.metadata.generation.unwrap_or_default();
    holding(object, "Ready").is_some_and(|c| c["observedGeneration"] == generation)
}

/// Every Stalled condition any object showed, watched in the background
/// until dropped, every status write seen: a transient fault must never
/// stall an object, not even until the next reconcile.
struct Stalls {
    seen: Arc<Mutex<BTreeSet<String>>>,
    task: JoinHandle<()>,
}

impl Drop for Stalls {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Stalls {
    fn watch(client: &kube::Client) -> Stalls {
        let seen = Arc::new(Mutex::new(BTreeSet::new()));
        let streams = KINDS.map(|kind| {
            let (resource, _) = resource_of(kind);
            let api: Api<DynamicObject> = Api::all_with(client.clone(), &resource);
            watcher(api, watcher::Config::default())
                .applied_objects()
                .map(move |object| (kind, object))
                .boxed()
        });
        let noted = seen.clone();
        let task = tokio::spawn(async move {
            let mut changes = futures::stream::select_all(streams);
            while let Some((kind, object)) = changes.next().await {
                // A failed watch restarts by itself; what it missed is listed again.
                let Ok(object) = object else { continue };
                if let Some((reason, message)) = holds(&object, "Stalled") {
                    let namespace = object.metadata.namespace.unwrap_or_default();
                    let name = object.metadata.name.unwrap_or_default();
                    lock(&noted).insert(format!("{kind} {namespace}/{name}: {reason}: {message}"));
                }
            }
        });
        Stalls { seen, task }
    }

    fn seen(&self) -> BTreeSet<String> {
        lock(&self.seen).clone()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Waits until `names` all exist and every object is Ready for its
/// generation, for at most `within`; else says what is not.
async fn all_ready(client: &kube::Client, names: &[&str], within: Duration) -> Result<(), String> {
    let deadline = Instant::now() + within;
    loop {
        let objects = objects(client).await;
        let missing: Vec<&&str> = names
            .iter()
            .filter(|name| !objects.iter().any(|(found, _)| found == *name))
            .collect();
        let waiting: Vec<String> = objects
            .iter()
            .filter(|(_, object)| !ready(object))
            .map(|(name, object)| format!("{name}: {}", object.data.pointer("/status").unwrap_or(&Value::Null)))
            .collect();
        if missing.is_empty() && waiting.is_empty() {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(format!("missing {missing:?}; not Ready:\n{}", waiting.join("\n")));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// An AwsAccount named like its account.
fn account(name: &str) -> String {
    format!(
        r#"
apiVersion: awsaccess.dev/v1alpha1
kind: AwsAccount
metadata: {{name: {name}}}
spec:
  accountName: {name}
  email: {name}@example.com
"#
    )
}

/// Every account of the organization, as (email, id).
async fn accounts(moto: &Moto) -> Vec<(String, String)> {
    let organizations = aws_sdk_organizations::Client::new(&moto.sdk_config().await);
    let pages: Vec<_> = organizations
        .list_accounts()
        .into_paginator()
        .send()
        .try_collect()
        .await
        .expect("ListAccounts");
    let listed = pages.iter().flat_map(|page| page.accounts());
    listed
        .map(|a| {
            (
                a.email().unwrap_or_default().to_owned(),
                a.id().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

/// The ids of the organization's accounts with `email`.
async fn accounts_with_email(moto: &Moto, email: &str) -> Vec<String> {
    let accounts = accounts(moto).await;
    accounts
        .into_iter()
        .filter(|(e, _)| e == email)
        .map(|(_, id)| id)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_account_whose_create_answers_are_all_lost_is_created_exactly_once() {
    let (env, wire) = env_behind_wire().await;
    wire.inject(Faults::always(&["CreateAccount"], Fault::LostAnswer));
    let env = env.start_operator(test_config());
    let stalls = Stalls::watch(&env.client);
    env.apply(&account("alfie-dev")).await;

    let converged = all_ready(&env.client, &["AwsAccount /alfie-dev"], CONVERGE).await;
    let tally = wire.tally();
    println!("{tally}");
    converged.unwrap_or_else(|err| panic!("{err}\n{tally}"));
    let accounts: Api<AwsAccount> = Api::all(env.client.clone());
    let status = accounts.get("alfie-dev").await.expect("get").status.expect("status");
    assert_eq!(status.state, Some(AccountState::Active));
    let id = status.account_id.expect("status.accountId");
    assert_eq!(accounts_with_email(&env.moto, "alfie-dev@example.com").await, [id]);
    assert_eq!(
        (tally.forwarded("CreateAccount"), tally.injected_into("CreateAccount")),
        (1, 1),
        "one CreateAccount, its answer lost; the account then found by its email\n{tally}"
    );
    assert_eq!(stalls.seen(), BTreeSet::new(), "a lost answer stalled the account");
}

/// Applies every manifest in examples/, in order.
async fn apply_examples(env: &Env) {
    for file in example_files() {
        env.apply(&std::fs::read_to_string(&file).expect("read")).await;
    }
}

/// The objects of examples/ (`all_ready` waits for those they make too:
/// PartnerAccess sembit's CrossAccountRole).
const EXAMPLE_OBJECTS: [&str; 17] = [
    "OrganizationalUnit /workloads",
    "OrganizationalUnit /workloads-development",
    "OrganizationalUnit /workloads-test",
    "OrganizationalUnit /workloads-production",
    "ServiceControlPolicy /workloads-baseline",
    "ServiceControlPolicy /development-no-huge-instances",
    "AwsAccount /identity",
    "AwsAccount /alfie-dev",
    "AwsAccount /alfie-qa",
    "AwsAccount /alfie-prod",
    "AwsAccount /companyx-staging",
    "CrossAccountRole alfie/alfie-full-access",
    "CrossAccountRole alfie/alfie-deployment",
    "CrossAccountRole alfie/alfie-read-only",
    "CrossAccountRole alfie/update-prod-app",
    "DeveloperGroup alfie/alfie-developers",
    "PartnerAccess partners/sembit",
];

/// A role as IAM holds it, reduced to what the examples decide.
#[derive(Debug, PartialEq)]
struct Role {
    trust: Value,
    managed: BTreeSet<String>,
    inline: BTreeSet<String>,
}

/// Every role `iam` reaches but the account's access role, by name.
async fn roles_in(iam: &aws_sdk_iam::Client) -> BTreeMap<String, Role> {
    let listed = iam.list_roles().send().await.expect("ListRoles");
    let mut roles = BTreeMap::new();
    for role in listed.roles().iter().filter(|r| r.role_name() != ACCESS_ROLE) {
        let name = role.role_name();
        let trust = role.assume_role_policy_document().expect("trust policy");
        let attached = iam
            .list_attached_role_policies()
            .role_name(name)
            .send()
            .await
            .expect("ListAttachedRolePolicies");
        let inline = iam
            .list_role_policies()
            .role_name(name)
            .send()
            .await
            .expect("ListRolePolicies");
        roles.insert(
            name.to_owned(),
            Role {
                trust: decode_aws_document(trust).expect("trust JSON"),
                managed: attached
                    .attached_policies()
                    .iter()
                    .filter_map(|p| p.policy_arn().map(str::to_owned))
                    .collect(),
                inline: inline.policy_names().iter().cloned().collect(),
            },
        );
    }
    roles
}

/// The external IDs the examples put in trust policies: seed 004's, from
/// its Secret, and the one the operator generated for Sembit.
struct ExternalIds {
    update_prod_app: String,
    sembit: String,
}

impl ExternalIds {
    async fn read(client: &kube::Client) -> ExternalIds {
        let value = async |namespace: &str, name: &str| {
            let secrets: Api<Secret> = Api::namespaced(client.clone(), namespace);
            let secret = secrets.get(name).await.expect("the external ID's Secret");
            let data = secret.data.expect("data")["externalId"].0.clone();
            String::from_utf8(data).expect("UTF-8")
        };
        ExternalIds {
            update_prod_app: value("alfie", "update-prod-app-external-id").await,
            sembit: value("partners", "sembit-external-id").await,
        }
    }

    /// Each ID as it could show anywhere: as itself, and base64-encoded as
    /// a Secret's data travels.
    fn forms(&self) -> Vec<String> {
        [&self.update_prod_app, &self.sembit]
            .into_iter()
            .flat_map(|id| {
                let encoded = serde_json::to_value(ByteString(id.as_bytes().to_vec())).expect("base64");
                [id.clone(), encoded.as_str().unwrap_or_default().to_owned()]
            })
            .collect()
    }
}

/// Asserts that AWS holds exactly what examples/ asks for, read from moto
/// directly: each account once, each role once, in its account, with its
/// trust and permissions, the group with alice, bob and the joiner dana
/// (not the leaver erin), and nothing else.
async fn assert_aws_holds_the_examples(env: &Env) -> ExternalIds {
    let listed = accounts(&env.moto).await;
    let statuses: Api<AwsAccount> = Api::all(env.client.clone());
    let mut ids = BTreeMap::new();
    for (name, email) in [
        ("alfie-dev", "aws+alfie-dev@example.com"),
        ("alfie-qa", "aws+alfie-qa@example.com"),
        ("alfie-prod", "aws+alfie-prod@example.com"),
        ("companyx-staging", "aws+companyx-staging@example.com"),
    ] {
        let with_email: Vec<&str> = listed
            .iter()
            .filter(|(e, _)| e == email)
            .map(|(_, id)| id.as_str())
            .collect();
        let status = statuses.get(name).await.expect("get").status.expect("status");
        assert_eq!(
            with_email,
            [status.account_id.as_deref().expect("status.accountId")],
            "the accounts with {email}"
        );
        ids.insert(name, with_email[0].to_owned());
    }
    assert_eq!(listed.len(), 5, "the management account and the four of the examples");

    let external = ExternalIds::read(&env.client).await;
    let identity = aws_sdk_iam::Client::new(&env.moto.sdk_config().await);
    let mut roles = BTreeMap::new();
    for (name, id) in
        std::iter::once(("management", MANAGEMENT_ACCOUNT)).chain(ids.iter().map(|(n, id)| (*n, id.as_str())))
    {
        let iam = match id {
            MANAGEMENT_ACCOUNT => identity.clone(),
            member => env.moto.member_iam(member).await,
        };
        for (role, found) in roles_in(&iam).await {
            roles.insert((name.to_owned(), role), found);
        }
    }
    let trust = |principal: &str, condition: Option<Value>| {
        let mut statement = json!({"Effect": "Allow", "Principal": {"AWS": principal}, "Action": "sts:AssumeRole"});
        if let Some(condition) = condition {
            statement["Condition"] = condition;
        }
        normalize(&json!({"Version": "2012-10-17", "Statement": [statement]}))
    };
    let identity_root = format!("arn:aws:iam::{MANAGEMENT_ACCOUNT}:root");
    let managed = |names: &[&str]| names.iter().map(|n| format!("arn:aws:iam::aws:policy/{n}")).collect();
    let inline = |names: &[&str]| names.iter().map(|n| n.to_string()).collect();
    let expected = BTreeMap::from([
        (
            ("alfie-dev".to_owned(), "AlfieFullAccess".to_owned()),
            Role {
                trust: trust(&identity_root, None),
                managed: managed(&["AdministratorAccess"]),
                inline: inline(&["deny-org-changes"]),
            },
        ),
        (
            ("alfie-qa".to_owned(), "AlfieDeployment".to_owned()),
            Role {
                trust: trust(&identity_root, None),
                managed: managed(&["PowerUserAccess"]),
                inline: BTreeSet::new(),
            },
        ),
        (
            ("alfie-prod".to_owned(), "AlfieReadOnly".to_owned()),
            Role {
                trust: trust(&identity_root, None),
                managed: managed(&["ReadOnlyAccess"]),
                inline: BTreeSet::new(),
            },
        ),
        (
            ("alfie-prod".to_owned(), "UpdateProdApp".to_owned()),
            Role {
                trust: trust(
                    &format!("arn:aws:iam::{}:root", ids["alfie-dev"]),
                    Some(json!({
                        "StringEquals": {"sts:ExternalId": external.update_prod_app},
                        "Bool": {"aws:MultiFactorAuthPresent": "true"},
                    })),
                ),
                managed: BTreeSet::from([format!(
                    "arn:aws:iam::{}:policy/read-write-prod-app-from-dev",
                    ids["alfie-prod"]
                )]),
                inline: BTreeSet::new(),
            },
        ),
        (
            ("companyx-staging".to_owned(), "SembitAccess".to_owned()),
            Role {
                trust: trust(
                    "arn:aws:iam::444455556666:root",
                    // examples/50-partner-sembit.yaml's expiresAt, enforced by AWS.
                    Some(json!({
                        "StringEquals": {"sts:ExternalId": external.sembit},
                        "DateLessThan": {"aws:CurrentTime": "2031-01-31T00:00:00Z"},
                    })),
                ),
                managed: managed(&["PowerUserAccess"]),
                inline: BTreeSet::new(),
            },
        ),
    ]);
    let roles: BTreeMap<_, _> = roles
        .into_iter()
        .map(|(key, role)| {
            let trust = normalize(&role.trust);
            (key, Role { trust, ..role })
        })
        .collect();
    assert_eq!(roles, expected, "the roles of every account");

    let groups = identity.list_groups().send().await.expect("ListGroups");
    let names: Vec<&str> = groups.groups().iter().map(|g| g.group_name()).collect();
    assert_eq!(names, ["alfie-developers"]);
    assert_eq!(
        group_members(env, "alfie-developers").await,
        Some(BTreeSet::from([
            "alice".to_owned(),
            "bob".to_owned(),
            "dana".to_owned()
        ]))
    );
    assert_eq!(
        group_attached_policies(env, "alfie-developers").await,
        managed(&["IAMUserChangePassword"])
    );
    let policies = identity
        .list_group_policies()
        .group_name("alfie-developers")
        .send()
        .await
        .expect("ListGroupPolicies");
    assert_eq!(policies.policy_names(), ["awsaccess-assume-roles"]);
    let policy = identity
        .get_group_policy()
        .group_name("alfie-developers")
        .policy_name("awsaccess-assume-roles")
        .send()
        .await
        .expect("GetGroupPolicy");
    let document = decode_aws_document(policy.policy_document()).expect("JSON");
    let assumable = json!({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow",
        "Action": "sts:AssumeRole",
        "Resource": [
            format!("arn:aws:iam::{}:role/AlfieFullAccess", ids["alfie-dev"]),
            format!("arn:aws:iam::{}:role/AlfieDeployment", ids["alfie-qa"]),
            format!("arn:aws:iam::{}:role/AlfieReadOnly", ids["alfie-prod"]),
        ],
    }]});
    assert_eq!(normalize(&document), normalize(&assumable), "the group's policy");
    external
}

/// Fails if an external ID shows in an Event, or in the status of any object.
async fn assert_external_ids_unseen(client: &kube::Client, external: &ExternalIds) {
    let events: Api<Event> = Api::all(client.clone());
    let events = events.list(&ListParams::default()).await.expect("events").items;
    let mut seen = vec![];
    for id in external.forms() {
        for event in &events {
            if serde_json::to_string(event).expect("JSON").contains(&id) {
                seen.push(format!("Event {:?}: {:?}", event.reason, event.note));
            }
        }
        for (name, object) in objects(client).await {
            let status = object.data.pointer("/status").unwrap_or(&Value::Null).to_string();
            if status.contains(&id) {
                seen.push(format!("status of {name}: {status}"));
            }
        }
    }
    assert_eq!(seen, Vec::<String>::new(), "an external ID is shown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_examples_converge_exactly_when_every_creating_or_moving_call_loses_its_answer() {
    let (env, wire) = env_behind_wire().await;
    let lost = [
        "CreateAccount",
        "MoveAccount",
        "CreateRole",
        "CreateGroup",
        "CreateOrganizationalUnit",
        "CreatePolicy",
    ];
    wire.inject(Faults::always(&lost, Fault::LostAnswer));
    let env = env.start_operator(converging_config());
    let stalls = Stalls::watch(&env.client);
    // Every account is created at the root, then moved into its OU.
    apply_examples(&env).await;

    let converged = all_ready(&env.client, &EXAMPLE_OBJECTS, CONVERGE).await;
    let tally = wire.tally();
    println!("{tally}");
    converged.unwrap_or_else(|err| panic!("{err}\n{tally}"));
    assert_aws_holds_the_examples(&env).await;
    let accounts: Api<AwsAccount> = Api::all(env.client.clone());
    let dev = accounts.get("alfie-dev").await.expect("get").status.expect("status");
    let units: Api<OrganizationalUnit> = Api::all(env.client.clone());
    let development = units
        .get("workloads-development")
        .await
        .expect("get")
        .status
        .and_then(|s| s.id)
        .expect("status.id");
    let organizations = aws_sdk_organizations::Client::new(&env.moto.sdk_config().await);
    let parents = organizations
        .list_parents()
        .child_id(dev.account_id.expect("status.accountId"))
        .send()
        .await
        .expect("ListParents");
    assert_eq!(
        parents.parents()[0].id(),
        Some(development.as_str()),
        "alfie-dev is in Workloads/Development"
    );
    assert_eq!(stalls.seen(), BTreeSet::new(), "lost answers stalled objects\n{tally}");
    // Each created once, every answer lost; the SDK retried the lost moves.
    for (operation, calls) in [
        ("CreateAccount", 4),
        ("CreateRole", 5),
        ("CreateGroup", 1),
        ("CreateOrganizationalUnit", 4),
        // Two SCPs (Organizations) and seed 004's policy (IAM): one name for both.
        ("CreatePolicy", 3),
    ] {
        assert_eq!(
            (tally.forwarded(operation), tally.injected_into(operation)),
            (calls, calls),
            "{operation}\n{tally}"
        );
    }
    assert!(tally.forwarded("MoveAccount") >= 4, "{tally}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_examples_converge_exactly_through_faults_on_every_call() {
    let started = Instant::now();
    let (env, wire) = env_behind_wire().await;
    wire.inject(Faults::everywhere(0.3));
    let env = env.start_operator(converging_config());
    let stalls = Stalls::watch(&env.client);
    apply_examples(&env).await;

    let converged = all_ready(&env.client, &EXAMPLE_OBJECTS, CONVERGE).await;
    let tally = wire.tally();
    println!("Ready after {:?}, through {tally}", started.elapsed());
    converged.unwrap_or_else(|err| panic!("{err}\n{tally}"));
    let external = assert_aws_holds_the_examples(&env).await;
    assert_eq!(
        stalls.seen(),
        BTreeSet::new(),
        "transient faults stalled objects\n{tally}"
    );
    assert_external_ids_unseen(&env.client, &external).await;
    for fault in Fault::ALL {
        assert!(tally.injected(fault) > 0, "no {fault:?} was injected\n{tally}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_examples_converge_exactly_through_sigkills_of_the_operator_process_and_keep_external_ids_secret() {
    let started = Instant::now();
    let (env, wire) = env_behind_wire().await;
    let stalls = Stalls::watch(&env.client);
    wire.inject(Faults::everywhere(0.3));
    // The worst moments: the call carried out in AWS, its answer not back yet.
    let worst = ["CreateAccount", "CreateGroup", "CreateRole", "PutRolePolicy"];
    wire.trap(&worst);
    apply_examples(&env).await;
    let dir = tempfile::tempdir().expect("temp dir");
    // Convergence, not drift: see `converging_config`.
    let resync = format!("{}s", converging_config().resync_interval.as_secs());
    let mut operator = OperatorProcess::start(env.kube.kubeconfig_path(), &wire.endpoint(), &resync, dir.path());
    let mut kills = vec![];
    let since = |at: Instant| at.duration_since(started);

    let mut run_started = Instant::now();
    while !wire.armed().is_empty() {
        let (operation, at) = tokio::time::timeout(PROCESS_CONVERGE, wire.trapped())
            .await
            .unwrap_or_else(|_| {
                panic!(
                    "no call trapped in {PROCESS_CONVERGE:?}; armed {:?}\n{}\n{}",
                    wire.armed(),
                    wire.tally(),
                    operator.log_tail()
                )
            });
        // A call a killed run sent just before it died may reach AWS after:
        // it happened, but the run now living did not make it.
        if at < run_started {
            kills.push(format!(
                "(no kill: {operation} reached AWS after the run that sent it was killed)"
            ));
            continue;
        }
        operator.kill().await;
        wire.release();
        let also: Vec<String> = wire.also_trapped().await.into_iter().map(|(op, _)| op).collect();
        let with = match also.is_empty() {
            true => String::new(),
            false => format!(" (and {} in flight)", also.join(", ")),
        };
        kills.push(format!("{:.1?}: right after {operation} reached AWS{with}", since(at)));
        operator.start_again();
        run_started = Instant::now();
    }
    // The same seed replays the same moments.
    let mut rng = StdRng::seed_from_u64(wire.seed());
    for _ in 0..3 {
        tokio::time::sleep(Duration::from_millis(rng.random_range(300..2500))).await;
        operator.kill().await;
        kills.push(format!("{:.1?}: at a random moment", since(Instant::now())));
        operator.start_again();
    }

    let converged = all_ready(&env.client, &EXAMPLE_OBJECTS, PROCESS_CONVERGE).await;
    let tally = wire.tally();
    println!(
        "Ready after {:?}, {} runs of the operator, killed:\n  {}\nthrough {tally}",
        started.elapsed(),
        operator.runs(),
        kills.join("\n  ")
    );
    converged.unwrap_or_else(|err| panic!("{err}\n{tally}\n{}", operator.log_tail()));
    assert!(operator.runs() > 6, "six kills or more: {kills:?}");
    let external = assert_aws_holds_the_examples(&env).await;
    assert_eq!(
        stalls.seen(),
        BTreeSet::new(),
        "transient faults or kills stalled objects\n{tally}"
    );
    assert_external_ids_unseen(&env.client, &external).await;
    operator.kill().await;
    let log = operator.log();
    println!("the operator logged {} lines at debug level", log.lines().count());
    let shown: Vec<&str> = log
        .lines()
        .filter(|line| external.forms().iter().any(|id| line.contains(id.as_str())))
        .collect();
    assert_eq!(shown, Vec::<&str>::new(), "the operator logged an external ID");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revocations_whose_answers_are_lost_complete_without_stalling() {
    let (env, wire) = env_behind_wire().await;
    let env = env.start_operator(test_config());
    let stalls = Stalls::watch(&env.client);
    apply_examples(&env).await;
    all_ready(&env.client, &EXAMPLE_OBJECTS, CONVERGE)
        .await
        .unwrap_or_else(|err| panic!("{err}"));

    // The first answer of each revoking call is lost; the SDK's retry then
    // finds the work done, as it would in AWS.
    let revocations = [
        "RemoveUserFromGroup",
        "DetachGroupPolicy",
        "DetachRolePolicy",
        "DeleteRolePolicy",
    ];
    wire.inject(Faults {
        limit: Some(1),
        ..Faults::always(&revocations, Fault::LostAnswer)
    });
    // Bob leaves; the group loses its managed policy, AlfieFullAccess its
    // managed and its inline policy.
    env.apply(
        r#"
apiVersion: awsaccess.dev/v1alpha1
kind: DeveloperGroup
metadata: {name: alfie-developers, namespace: alfie}
spec:
  members: [alice, dana]
  access:
    - {role: {name: alfie-full-access}, profile: alfie-development}
    - {role: {name: alfie-deployment}, profile: alfie-qa}
    - {role: {name: alfie-read-only}, profile: alfie-production}
---
apiVersion: awsaccess.dev/v1alpha1
kind: CrossAccountRole
metadata: {name: alfie-full-access, namespace: alfie}
spec:
  account: {name: alfie-dev}
  roleName: AlfieFullAccess
  description: Full access for Alfie developers
  trust:
    developerGroups: [{name: alfie-developers}]
  permissions:
    managedPolicyArns: [arn:aws:iam::aws:policy/ReadOnlyAccess]
  tags: {team: alfie}
"#,
    )
    .await;
    let converged = all_ready(&env.client, &EXAMPLE_OBJECTS, CONVERGE).await;
    let tally = wire.tally();
    println!("{tally}");
    converged.unwrap_or_else(|err| panic!("{err}\n{tally}"));

    assert_eq!(
        group_members(&env, "alfie-developers").await,
        Some(BTreeSet::from(["alice".to_owned(), "dana".to_owned()]))
    );
    assert_eq!(group_attached_policies(&env, "alfie-developers").await, BTreeSet::new());
    let accounts: Api<AwsAccount> = Api::all(env.client.clone());
    let dev = accounts.get("alfie-dev").await.expect("get").status.expect("status");
    let iam = env.moto.member_iam(&dev.account_id.expect("status.accountId")).await;
    // Bob left: the role denies older sessions once the group has recorded
    // it, a moment after both are Ready; its spec's inline policy is gone.
    let deny = BTreeSet::from(["awsaccess-revoke-older-sessions".to_owned()]);
    let role = env
        .eventually("the role's Deny on older sessions", async || {
            let role = roles_in(&iam).await.remove("AlfieFullAccess")?;
            (role.inline == deny).then_some(role)
        })
        .await;
    assert_eq!(
        role.managed,
        BTreeSet::from(["arn:aws:iam::aws:policy/ReadOnlyAccess".to_owned()])
    );
    for operation in revocations {
        assert_eq!(
            (tally.injected_into(operation), tally.forwarded(operation)),
            (1, 2),
            "{operation}: its answer lost once, then retried by the SDK\n{tally}"
        );
    }
    assert_eq!(
        stalls.seen(),
        BTreeSet::new(),
        "a lost answer stalled an object\n{tally}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_into_an_account_never_exceed_its_limit_in_flight() {
    let mut env = Env::without_operator().await;
    env.moto.create_organization().await;
    let wire = Wire::start(env.moto.endpoint()).await;
    let limits = ServiceLimits {
        iam: Limits {
            calls_per_second: NonZeroU32::new(1000).expect("non-zero"),
            in_flight: 2,
        },
        ..ServiceLimits::default()
    };
    env.reach_aws_through_limited(&wire.endpoint(), limits).await;
    // The identity account, open to the namespace, is where the roles live.
    env.open_accounts(&[]).await;
    let env = env.start_operator(test_config());
    // Settled first: a change of the account would reconcile the roles again
    // as they are made, and they would say InSync where the test reads Created.
    env.wait_settled(&["identity"]).await;
    // Twenty roles in the operator's own account, reconciled 16 at a time.
    let roles: String = (0..20)
        .map(|i| {
            format!(
                r#"
---
apiVersion: awsaccess.dev/v1alpha1
kind: CrossAccountRole
metadata: {{name: role-{i}, namespace: limits}}
spec:
  account: {{id: "{MANAGEMENT_ACCOUNT}"}}
  trust: {{accounts: [{{id: "{MANAGEMENT_ACCOUNT}"}}]}}
  permissions: {{managedPolicyArns: [arn:aws:iam::aws:policy/ReadOnlyAccess]}}
"#
            )
        })
        .collect();
    env.apply(&format!(
        r#"
apiVersion: v1
kind: Namespace
metadata: {{name: limits}}
{roles}"#
    ))
    .await;
    let api: Api<CrossAccountRole> = env.api(Some("limits"));
    env.eventually("all twenty roles Ready", async || {
        let listed = api.list(&ListParams::default()).await.ok()?.items;
        let ready = listed.iter().filter(|role| {
            role.status
                .as_ref()
                .is_some_and(|s| ready_is(&s.reconcile.conditions, role.metadata.generation, "True", "Created"))
        });
        (ready.count() == 20).then_some(())
    })
    .await;
    let tally = wire.tally();
    assert_eq!(tally.forwarded("CreateRole"), 20, "{tally}");
    assert_eq!(
        wire.most_in_flight("iam"),
        2,
        "IAM calls in flight at once, with --iam-calls-in-flight 2\n{tally}"
    );
}

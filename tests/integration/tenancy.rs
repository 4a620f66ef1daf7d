//! Tenancy that holds (issue 21; API.md "Tenancy and guardrails", rules 1
//! to 8): attacks from tenant namespaces, applied at once against one moto,
//! one kube-testserver and one operator, each then checked in AWS (read
//! back with the SDK, never through the operator) and in Kubernetes. Each
//! shows no effect in AWS, and the object says why: its condition's reason,
//! and a message naming the field. Nothing is asserted before the operator
//! has demonstrably acted: the refused object reports its refusal at its
//! generation, and the legitimate objects applied with it are Ready.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_access_operator::api::crds;
use aws_access_operator::aws::sdk::SdkAws;
use aws_access_operator::controller::{self, Config};
use aws_access_operator::policy::document::{decode_aws_document, equivalent};
use aws_sdk_iam::types::Tag;
use futures::future::join_all;
use k8s_openapi::api::events::v1::Event;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::Client;
use kube::api::{Api, DeleteParams, DynamicObject, ListParams, Patch, PatchParams, PostParams};
use kube_testserver::TestServer;
use serde_json::{Value, json};

use crate::support::aws::{assumable_roles, create_users, denies_everyone, group_members, trusted_principals};
use crate::support::fault::FaultyAws;
use crate::support::moto::{ACCESS_ROLE, MANAGEMENT_ACCOUNT};
use crate::support::operator::{Env, condition, holding, resource_of, test_config};

/// An account outside the organization: no AwsAccount represents it.
const OUTSIDE: &str = "999988887777";
/// The group's inline policy that lets its members assume roles.
const ASSUME: &str = "awsaccess-assume-roles";
const OWNER_TAG: &str = "awsaccess.dev/owner";
/// How long an object may take to report, or AWS to show, what it should.
const WAIT: Duration = Duration::from_secs(30);

// ---------------------------------------------------------------- manifests

fn namespaces(names: &[&str]) -> String {
    names
        .iter()
        .map(|name| {
            format!(
                r#"
---
apiVersion: v1
kind: Namespace
metadata: {{name: {name}}}
"#
            )
        })
        .collect()
}

/// An AwsAccount adopting `id`, named as `Moto::create_member_account(name)`
/// made it (`master` for the management account); `body` adds spec lines.
fn aws_account(name: &str, moto_name: &str, id: &str, body: &str) -> String {
    format!(
        r#"
---
apiVersion: awsaccess.dev/v1alpha1
kind: AwsAccount
metadata: {{name: {name}}}
spec:
  accountName: {moto_name}
  email: {moto_name}@example.com
  accountId: "{id}"
{body}"#
    )
}

fn identity_account(body: &str) -> String {
    aws_account("identity", "master", MANAGEMENT_ACCOUNT, body)
}

fn by_id(id: &str) -> String {
    format!("{{id: \"{id}\"}}")
}

fn by_name(name: &str) -> String {
    format!("{{name: {name}}}")
}

fn role(namespace: &str, name: &str, account: &str, body: &str) -> String {
    format!(
        r#"
---
apiVersion: awsaccess.dev/v1alpha1
kind: CrossAccountRole
metadata: {{name: {name}, namespace: {namespace}}}
spec:
  account: {account}
{body}"#
    )
}

fn group(namespace: &str, name: &str, body: &str) -> String {
    format!(
        r#"
---
apiVersion: awsaccess.dev/v1alpha1
kind: DeveloperGroup
metadata: {{name: {name}, namespace: {namespace}}}
spec:
{body}"#
    )
}

/// Spec lines of a role trusting the management account's root.
fn trusting_management(role_name: &str) -> String {
    format!(
        r#"
  roleName: {role_name}
  trust: {{accounts: [{{id: "{MANAGEMENT_ACCOUNT}"}}]}}
"#
    )
}

fn role_arn(account: &str, name: &str) -> String {
    format!("arn:aws:iam::{account}:role/{name}")
}

fn root(account: &str) -> String {
    format!("arn:aws:iam::{account}:root")
}

// ---------------------------------------------------------------- AWS, read back

/// A role as IAM holds it: enough to tell any write to it.
#[derive(Clone, Debug, PartialEq)]
struct RoleState {
    id: String,
    trust: Value,
    tags: BTreeMap<String, String>,
    attached: BTreeSet<String>,
    inline: BTreeSet<String>,
}

/// The role `name` in `account`, or None when there is no such role.
async fn role_state(env: &Env, account: &str, name: &str) -> Option<RoleState> {
    let iam = env.moto.member_iam(account).await;
    let role = match iam.get_role().role_name(name).send().await {
        Ok(found) => found.role.expect("role"),
        Err(err) if err.as_service_error().is_some_and(|e| e.is_no_such_entity_exception()) => return None,
        Err(err) => panic!("GetRole {name} in {account}: {err:?}"),
    };
    let tags = iam.list_role_tags().role_name(name).send().await.expect("ListRoleTags");
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
    Some(RoleState {
        id: role.role_id().to_string(),
        trust: decode_aws_document(role.assume_role_policy_document().expect("trust")).expect("trust json"),
        tags: tags
            .tags()
            .iter()
            .map(|t| (t.key().to_string(), t.value().to_string()))
            .collect(),
        attached: attached
            .attached_policies()
            .iter()
            .filter_map(|p| p.policy_arn().map(String::from))
            .collect(),
        inline: inline.policy_names().iter().cloned().collect(),
    })
}

/// Creates a role by hand, as someone outside the operator would, trusting
/// the management account, with `tags` and `AdministratorAccess` attached.
async fn role_by_hand(env: &Env, account: &str, name: &str, tags: &[(&str, &str)]) {
    let iam = env.moto.member_iam(account).await;
    let trust = json!({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": root(MANAGEMENT_ACCOUNT)}, "Action": "sts:AssumeRole"}],
    });
    let tags: Vec<Tag> = tags
        .iter()
        .map(|(key, value)| Tag::builder().key(*key).value(*value).build().expect("tag"))
        .collect();
    iam.create_role()
        .role_name(name)
        .assume_role_policy_document(trust.to_string())
        .set_tags(Some(tags))
        .send()
        .await
        .expect("CreateRole");
    iam.attach_role_policy()
        .role_name(name)
        .policy_arn("arn:aws:iam::aws:policy/AdministratorAccess")
        .send()
        .await
        .expect("AttachRolePolicy");
}

/// The Locked Events of `namespace`: the names of the objects they are about.
async fn locked(client: &Client, namespace: &str) -> BTreeSet<String> {
    let events: Api<Event> = Api::namespaced(client.clone(), namespace);
    let listed = events.list(&ListParams::default()).await.expect("events");
    listed
        .items
        .into_iter()
        .filter(|e| e.reason.as_deref() == Some("Locked"))
        .filter_map(|e| e.regarding.and_then(|r| r.name))
        .collect()
}

/// What the operator said of an object in Events, to tell a failure's story.
async fn events_about(client: &Client, namespace: &str, name: &str) -> Vec<String> {
    let events: Api<Event> = Api::namespaced(client.clone(), namespace);
    let listed = events.list(&ListParams::default()).await.expect("events");
    listed
        .items
        .into_iter()
        .filter(|e| e.regarding.as_ref().and_then(|r| r.name.as_deref()) == Some(name))
        .map(|e| format!("{}: {}", e.reason.unwrap_or_default(), e.note.unwrap_or_default()))
        .collect()
}

// ---------------------------------------------------------------- Kubernetes

/// Waits until the object is Ready at its generation.
async fn ready(env: &Env, kind: &str, namespace: &str, name: &str) -> Result<(), String> {
    env.watch(kind, namespace, name, WAIT, |conditions| {
        condition(conditions, "Ready").map(|_| ())
    })
    .await
    .map_err(|err| format!("{kind} {namespace}/{name} not Ready: {err}"))
}

/// Waits until `api`'s object `name` is Ready at its generation (for a
/// cluster other than `Env`'s, which `ready` watches).
async fn ready_at(api: &Api<DynamicObject>, name: &str) -> Result<(), String> {
    let deadline = Instant::now() + WAIT;
    loop {
        let object = api.get(name).await.map_err(|err| format!("reading {name}: {err}"))?;
        if condition(&holding(&object), "Ready").is_some() {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(format!("{name} not Ready after {WAIT:?}: {:?}", object.data["status"]));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// What an object says it does not do: its condition `type_` holds at its
/// generation with `reason`, Ready is False with the same reason, and the
/// message names `field` (opening a clause: `spec.account: ...`) and holds
/// every one of `fragments`.
#[derive(Clone, Debug)]
struct Says {
    type_: &'static str,
    reason: &'static str,
    field: Option<&'static str>,
    fragments: Vec<String>,
}

impl Says {
    fn new(type_: &'static str, reason: &'static str, field: Option<&'static str>, fragments: &[&str]) -> Self {
        Says {
            type_,
            reason,
            field,
            fragments: fragments.iter().map(|f| f.to_string()).collect(),
        }
    }

    /// What `message` leaves out of what it should say.
    fn missing(&self, message: &str) -> Vec<String> {
        let mut missing: Vec<String> = self
            .fragments
            .iter()
            .filter(|f| !message.contains(f.as_str()))
            .cloned()
            .collect();
        if let Some(field) = self.field {
            let opens = format!("{field}: ");
            let named = message.starts_with(&opens)
                || message.contains(&format!("left out: {opens}"))
                || message.contains(&format!("; {opens}"));
            if !named {
                missing.insert(0, opens);
            }
        }
        missing
    }
}

/// Stalled with `reason`, naming `field`.
fn stalled(reason: &'static str, field: &'static str, fragments: &[&str]) -> Says {
    Says::new("Stalled", reason, Some(field), fragments)
}

/// Reconciling on a reference that cannot be used, naming `field`.
fn waiting(field: &'static str, fragments: &[&str]) -> Says {
    Says::new("Reconciling", "ReferenceNotReady", Some(field), fragments)
}

/// Stalled with `reason`, on ownership (no field is at fault).
fn owned_elsewhere(reason: &'static str, fragments: &[&str]) -> Says {
    Says::new("Stalled", reason, None, fragments)
}

/// Waits for what `api`'s object `name` should say; returns its message.
async fn reported(api: &Api<DynamicObject>, name: &str, expected: &Says, wait: Duration) -> Result<String, String> {
    let deadline = Instant::now() + wait;
    let mut last: Vec<Condition> = vec![];
    loop {
        let object = api.get(name).await.map_err(|err| format!("reading {name}: {err}"))?;
        let conditions = holding(&object);
        let found = condition(&conditions, expected.type_).filter(|c| c.reason == expected.reason);
        if let Some(found) = found {
            let all: Vec<Condition> =
                serde_json::from_value(object.data["status"]["conditions"].clone()).unwrap_or_default();
            let ready = condition(&all, "Ready");
            if !ready.is_some_and(|r| r.status == "False" && r.reason == expected.reason) {
                return Err(format!(
                    "{name}: {} {} but Ready is {ready:?}",
                    expected.type_, expected.reason
                ));
            }
            let missing = expected.missing(&found.message);
            return match missing.is_empty() {
                true => Ok(found.message.clone()),
                false => Err(format!(
                    "{name}: {} {} says {:?}, which does not name {missing:?}",
                    expected.type_, expected.reason, found.message
                )),
            };
        }
        if Instant::now() > deadline {
            let said: Vec<String> = last
                .iter()
                .map(|c| format!("{} {}: {}", c.type_, c.reason, c.message))
                .collect();
            return Err(format!(
                "{name}: not {} {} after {wait:?}; it says {said:?}",
                expected.type_, expected.reason
            ));
        }
        last = conditions;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

// ---------------------------------------------------------------- the table

/// What an attack must leave in AWS.
#[derive(Clone, Debug)]
enum Effect {
    /// The role is as it was before the attack (absent stays absent).
    RoleUnchanged { account: String, name: &'static str },
    /// No group of this name in the identity account.
    NoGroup(&'static str),
    /// The group exists (the operator acted on it) but lets its members assume no role.
    GrantsNothing(&'static str),
    /// The role exists trusting exactly these principals, nothing else.
    TrustsOnly {
        account: String,
        name: &'static str,
        principals: BTreeSet<String>,
    },
}

struct Attack {
    case: &'static str,
    kind: &'static str,
    namespace: &'static str,
    name: &'static str,
    says: Says,
    effects: Vec<Effect>,
}

impl Attack {
    fn new(case: &'static str, kind: &'static str, namespace: &'static str, name: &'static str, says: Says) -> Self {
        Attack {
            case,
            kind,
            namespace,
            name,
            says,
            effects: vec![],
        }
    }

    fn leaves(mut self, effect: Effect) -> Self {
        self.effects.push(effect);
        self
    }

    fn leaves_role(self, account: &str, name: &'static str) -> Self {
        self.leaves(Effect::RoleUnchanged {
            account: account.to_string(),
            name,
        })
    }
}

type Before = BTreeMap<(String, String), Option<RoleState>>;

async fn check_effect(env: &Env, effect: &Effect, before: &Before) -> Result<(), String> {
    match effect {
        Effect::RoleUnchanged { account, name } => {
            let then = &before[&(account.clone(), name.to_string())];
            let now = role_state(env, account, name).await;
            match &now == then {
                true => Ok(()),
                false => Err(format!("role {name} in {account} was {then:?}, is now {now:?}")),
            }
        }
        Effect::NoGroup(name) => match group_members(env, name).await {
            None => Ok(()),
            Some(members) => Err(format!("group {name} exists in the identity account with {members:?}")),
        },
        Effect::GrantsNothing(name) => {
            if group_members(env, name).await.is_none() {
                return Err(format!("group {name} was never made: the operator did not act on it"));
            }
            let granted = assumable_roles(env, name, ASSUME).await;
            match granted.is_empty() {
                true => Ok(()),
                false => Err(format!("group {name} lets its members assume {granted:?}")),
            }
        }
        Effect::TrustsOnly {
            account,
            name,
            principals,
        } => {
            let Some(role) = role_state(env, account, name).await else {
                return Err(format!("role {name} in {account} does not exist"));
            };
            let trusted = trusted_principals(&role.trust);
            match &trusted == principals {
                true => Ok(()),
                false => Err(format!("role {name} in {account} trusts {trusted:?}")),
            }
        }
    }
}

/// Runs one attack's checks: what the object says, then AWS.
async fn check_attack(env: &Env, attack: &Attack, before: &Before) -> Result<String, String> {
    let api = env.dynamic_api(attack.kind, attack.namespace);
    let message = reported(&api, attack.name, &attack.says, WAIT).await?;
    for effect in &attack.effects {
        check_effect(env, effect, before).await?;
    }
    Ok(message)
}

// ---------------------------------------------------------------- a second installation

/// Another cluster with its own operator (installation `config.installation_id`)
/// against the same organization: its own kube-testserver, the same moto.
struct Installation {
    _kube: TestServer,
    client: Client,
    aws: Arc<FaultyAws>,
    operator: tokio::task::JoinHandle<()>,
}

impl Drop for Installation {
    fn drop(&mut self) {
        self.operator.abort();
    }
}

impl Installation {
    async fn start(env: &Env, config: Config) -> Installation {
        let kube = TestServer::start().await.expect("kube-testserver starts");
        let client = kube.client().expect("client");
        let crd_api: Api<CustomResourceDefinition> = Api::all(client.clone());
        for crd in crds() {
            crd_api
                .create(&PostParams::default(), &crd)
                .await
                .expect("CRD accepted");
        }
        let sdk = SdkAws::new(&env.moto.sdk_config().await);
        let aws = Arc::new(FaultyAws::new(Arc::new(sdk)));
        let operator = tokio::spawn(controller::run(
            client.clone(),
            aws.clone(),
            config,
            controller::Telemetry::default(),
            std::future::pending(),
        ));
        Installation {
            _kube: kube,
            client,
            aws,
            operator,
        }
    }

    fn api(&self, kind: &str, namespace: &str) -> Api<DynamicObject> {
        let (resource, namespaced) = resource_of(kind);
        match namespaced {
            true => Api::namespaced_with(self.client.clone(), namespace, &resource),
            false => Api::all_with(self.client.clone(), &resource),
        }
    }

    /// `kubectl apply --server-side`, as `Env::apply` does.
    async fn apply(&self, yaml: &str) {
        for document in serde_yaml_ng::Deserializer::from_str(yaml) {
            let value: Value = serde::Deserialize::deserialize(document).expect("yaml");
            if value.is_null() {
                continue;
            }
            let kind = value["kind"].as_str().expect("kind").to_string();
            let name = value["metadata"]["name"].as_str().expect("name").to_string();
            let namespace = value["metadata"]["namespace"].as_str().unwrap_or("default").to_string();
            self.api(&kind, &namespace)
                .patch(&name, &PatchParams::apply("test").force(), &Patch::Apply(&value))
                .await
                .unwrap_or_else(|err| panic!("applying {kind} {name}: {err}"));
        }
    }
}

// ---------------------------------------------------------------- the suite

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attacks_from_tenant_namespaces_have_no_effect_in_aws() {
    let started = Instant::now();
    let env = Env::start().await;
    env.moto.create_organization().await;
    // orphan: a member of the organization that no AwsAccount represents.
    let (dev, prod, sealed, orphan) = tokio::join!(
        env.moto.create_member_account("dev"),
        env.moto.create_member_account("prod"),
        env.moto.create_member_account("sealed"),
        env.moto.create_member_account("orphan"),
    );
    create_users(&env, &["alice", "mallory"]).await;

    // What others made by hand: a legacy role (dev), a break-glass role and
    // one to adopt (prod), and a role tagged the way the operator did
    // before owner tags named the installation (dev).
    role_by_hand(&env, &dev, "Legacy", &[("team", "legacy")]).await;
    role_by_hand(&env, &prod, "BreakGlass", &[]).await;
    role_by_hand(&env, &prod, "LegacyAdopt", &[]).await;
    role_by_hand(
        &env,
        &dev,
        "OldTagged",
        &[(OWNER_TAG, "CrossAccountRole/team/old-tagged")],
    )
    .await;
    let old_tagged = role_state(&env, &dev, "OldTagged").await.expect("made by hand");

    let attacks = vec![
        Attack::new(
            "(1) role in prod by id, from a namespace prod does not allow",
            "CrossAccountRole",
            "intruder",
            "prod-grab",
            stalled("NamespaceNotAllowed", "spec.account", &[&prod, "intruder"]),
        )
        .leaves_role(&prod, "ProdGrab"),
        Attack::new(
            "(1c) PartnerAccess into prod, from a namespace prod does not allow",
            "PartnerAccess",
            "intruder",
            "vendor",
            stalled("NamespaceNotAllowed", "spec.accounts[0]", &[&prod, "intruder"]),
        )
        .leaves_role(&prod, "partner-vendor"),
        Attack::new(
            "(1b) role in an account whose allowedNamespaces is absent",
            "CrossAccountRole",
            "team",
            "sealed-grab",
            stalled("NamespaceNotAllowed", "spec.account", &["sealed", "team"]),
        )
        .leaves_role(&sealed, "SealedGrab"),
        Attack::new(
            "(2) role in the management account by id, no AwsAccount allowing the namespace",
            "CrossAccountRole",
            "outsider",
            "management-grab",
            stalled("NamespaceNotAllowed", "spec.account", &[MANAGEMENT_ACCOUNT, "outsider"]),
        )
        .leaves_role(MANAGEMENT_ACCOUNT, "ManagementGrab"),
        Attack::new(
            "(3) role in an account no AwsAccount represents",
            "CrossAccountRole",
            "team",
            "orphan-grab",
            stalled("NamespaceNotAllowed", "spec.account", &[&orphan, "team"]),
        )
        .leaves_role(&orphan, "OrphanGrab"),
        Attack::new(
            "(4) group in the identity account from a namespace it does not allow, members [mallory], AdministratorAccess",
            "DeveloperGroup",
            "outsider",
            "mallory-admins",
            stalled("NamespaceNotAllowed", "spec.account", &[MANAGEMENT_ACCOUNT, "outsider"]),
        )
        .leaves(Effect::NoGroup("mallory-admins")),
        Attack::new(
            "(5) group access to another namespace's role that does not consent",
            "DeveloperGroup",
            "intruder",
            "borrower",
            stalled("NamespaceNotAllowed", "spec.access[0].role", &["platform/platform-admin"]),
        )
        .leaves(Effect::GrantsNothing("borrower")),
        Attack::new(
            "(6) group roleArn to a member account's OrganizationAccountAccessRole",
            "DeveloperGroup",
            "intruder",
            "escalator",
            stalled("GuardrailViolation", "spec.access[0].roleArn", &[&role_arn(&prod, ACCESS_ROLE), "guardrails.allowedRoleArns"],
            ),
        )
        .leaves(Effect::GrantsNothing("escalator"))
        .leaves_role(&prod, ACCESS_ROLE),
        Attack::new(
            "(7) roleName OrganizationAccountAccessRole with adoptExisting, in an account allowing adoption",
            "CrossAccountRole",
            "prod-team",
            "access-grab",
            stalled("GuardrailViolation", "spec.roleName", &["role OrganizationAccountAccessRole may not be managed"],
            ),
        )
        .leaves_role(&prod, ACCESS_ROLE),
        Attack::new(
            "(7b) group granting refused roles by reference",
            "DeveloperGroup",
            "prod-team",
            "prod-ops",
            waiting("spec.access[0].role", &["access-grab"]),
        )
        .leaves(Effect::GrantsNothing("prod-ops")),
        Attack::new(
            "(8) protected role name (BreakGlass) with adoptExisting, adoption allowed",
            "CrossAccountRole",
            "prod-team",
            "break-glass",
            stalled("GuardrailViolation", "spec.roleName", &["role BreakGlass may not be managed", "protectedRoleNames"],
            ),
        )
        .leaves_role(&prod, "BreakGlass"),
        Attack::new(
            "(9) adoptExisting where the account does not allow adoption",
            "CrossAccountRole",
            "team",
            "legacy-grab",
            stalled("GuardrailViolation", "spec.adoptExisting", &["guardrails.allowAdoption"]),
        )
        .leaves_role(&dev, "Legacy"),
        Attack::new(
            "(10) a plain role trusting an account outside the organization",
            "CrossAccountRole",
            "team",
            "outside-trust",
            stalled("GuardrailViolation", "spec.trust.accounts[0]", &[OUTSIDE, "guardrails.trustOutsideOrganization"],
            ),
        )
        .leaves_role(&dev, "OutsideTrust"),
        Attack::new(
            "(10b) an outside principal next to an inside account: only the inside one trusted",
            "CrossAccountRole",
            "team",
            "outside-principal",
            stalled("GuardrailViolation", "spec.trust.principals[0]", &[OUTSIDE, "guardrails.trustOutsideOrganization"],
            ),
        )
        .leaves(Effect::TrustsOnly {
            account: dev.clone(),
            name: "MixedTrust",
            principals: BTreeSet::from([root(MANAGEMENT_ACCOUNT)]),
        }),
        Attack::new(
            "(15) externalIdSecretRef to a Secret not labelled as an external ID",
            "CrossAccountRole",
            "team",
            "secret-grab",
            stalled("InvalidSpec", "spec.trust.externalIdSecretRef", &["db-password", "awsaccess.dev/external-id"],
            ),
        )
        .leaves_role(&dev, "SecretGrab"),
        Attack::new(
            "(15b) externalIdSecretRef to another namespace's labelled Secret",
            "CrossAccountRole",
            "team",
            "cross-namespace-secret",
            waiting("spec.trust.externalIdSecretRef", &["partner-external-id"]),
        )
        .leaves_role(&dev, "CrossNamespaceSecret"),
    ];

    // Every role an attack must leave as it was, as it is now.
    let mut before = Before::new();
    for effect in attacks.iter().flat_map(|a| &a.effects) {
        if let Effect::RoleUnchanged { account, name } = effect {
            before.insert(
                (account.clone(), name.to_string()),
                role_state(&env, account, name).await,
            );
        }
    }
    assert!(
        before[&(prod.clone(), ACCESS_ROLE.to_string())].is_some(),
        "Organizations made the access role"
    );

    let secret_value = "hunter2-is-the-database-password";
    let manifests = [
        namespaces(&["team", "platform", "intruder", "prod-team", "outsider"]),
        identity_account(
            r#"
  allowedNamespaces: [team, platform, intruder, prod-team]
  guardrails: {allowedRoleArns: ["arn:aws:iam::*:role/AuditReadOnly"]}
"#,
        ),
        aws_account("dev", "dev", &dev, "  allowedNamespaces: [team, platform, intruder]\n"),
        aws_account(
            "prod",
            "prod",
            &prod,
            r#"
  allowedNamespaces: [prod-team]
  guardrails: {allowAdoption: true, protectedRoleNames: [BreakGlass]}
"#,
        ),
        aws_account("sealed", "sealed", &sealed, ""),
        // Secrets: one unlabelled, one labelled but in another namespace.
        format!(
            r#"
---
apiVersion: v1
kind: Secret
metadata: {{name: db-password, namespace: team}}
stringData: {{password: {secret_value}}}
"#
        ),
        r#"
---
apiVersion: v1
kind: Secret
metadata: {name: partner-external-id, namespace: platform, labels: {awsaccess.dev/external-id: "true"}}
stringData: {externalId: platform-external-id-0123456789}
"#
        .to_string(),
        // What tenants may do, applied with the attacks.
        role(
            "team",
            "team-app",
            &by_name("dev"),
            r#"
  roleName: TeamApp
  trust: {developerGroups: [{name: team-devs}]}
  permissions: {managedPolicyArns: [arn:aws:iam::aws:policy/ReadOnlyAccess]}
"#,
        ),
        role(
            "platform",
            "shared-readonly",
            &by_name("dev"),
            r#"
  roleName: SharedReadOnly
  trust: {developerGroups: [{name: team-devs, namespace: team}]}
  permissions: {managedPolicyArns: [arn:aws:iam::aws:policy/ReadOnlyAccess]}
"#,
        ),
        role(
            "platform",
            "platform-admin",
            &by_name("dev"),
            &format!(
                "{}  permissions: {{managedPolicyArns: [arn:aws:iam::aws:policy/AdministratorAccess]}}\n",
                trusting_management("PlatformAdmin")
            ),
        ),
        group(
            "team",
            "team-devs",
            &format!(
                r#"
  members: [alice]
  access:
    - {{role: {{name: team-app}}}}
    - {{role: {{name: shared-readonly, namespace: platform}}}}
    - {{roleArn: "{}"}}
"#,
                role_arn(&dev, "AuditReadOnly")
            ),
        ),
        role("team", "old-tagged", &by_name("dev"), &trusting_management("OldTagged")),
        role(
            "team",
            "retained",
            &by_name("dev"),
            &format!("{}  deletionPolicy: Retain\n", trusting_management("Retained")),
        ),
        role(
            "prod-team",
            "legacy-adopt",
            &by_name("prod"),
            &format!(
                r#"
{}  adoptExisting: true
  deletionPolicy: Delete
"#,
                trusting_management("LegacyAdopt")
            ),
        ),
        // The attacks.
        role(
            "intruder",
            "prod-grab",
            &by_id(&prod),
            &format!(
                "{}  permissions: {{managedPolicyArns: [arn:aws:iam::aws:policy/AdministratorAccess]}}\n",
                trusting_management("ProdGrab")
            ),
        ),
        format!(
            r#"
---
apiVersion: awsaccess.dev/v1alpha1
kind: PartnerAccess
metadata: {{name: vendor, namespace: intruder}}
spec:
  partner: {{name: Vendor, accountId: "444455556666"}}
  accounts: [{{id: "{prod}"}}]
  permissions: {{managedPolicyArns: [arn:aws:iam::aws:policy/AdministratorAccess]}}
"#
        ),
        role(
            "team",
            "sealed-grab",
            &by_name("sealed"),
            &trusting_management("SealedGrab"),
        ),
        role(
            "outsider",
            "management-grab",
            &by_id(MANAGEMENT_ACCOUNT),
            &format!(
                r#"
  roleName: ManagementGrab
  trust: {{accounts: [{{id: "{OUTSIDE}"}}]}}
  permissions: {{managedPolicyArns: [arn:aws:iam::aws:policy/AdministratorAccess]}}
"#
            ),
        ),
        role(
            "team",
            "orphan-grab",
            &by_id(&orphan),
            &trusting_management("OrphanGrab"),
        ),
        group(
            "outsider",
            "mallory-admins",
            r#"
  members: [mallory]
  managedPolicyArns: [arn:aws:iam::aws:policy/AdministratorAccess]
"#,
        ),
        group(
            "intruder",
            "borrower",
            r#"
  members: [mallory]
  access:
    - {role: {name: platform-admin, namespace: platform}}
"#,
        ),
        group(
            "intruder",
            "escalator",
            &format!(
                r#"
  members: [mallory]
  access:
    - {{roleArn: "{}"}}
"#,
                role_arn(&prod, ACCESS_ROLE)
            ),
        ),
        role(
            "prod-team",
            "access-grab",
            &by_name("prod"),
            &format!("{}  adoptExisting: true\n", trusting_management(ACCESS_ROLE)),
        ),
        role(
            "prod-team",
            "break-glass",
            &by_name("prod"),
            &format!("{}  adoptExisting: true\n", trusting_management("BreakGlass")),
        ),
        group(
            "prod-team",
            "prod-ops",
            r#"
  members: [alice]
  access:
    - {role: {name: access-grab}}
    - {role: {name: break-glass}}
"#,
        ),
        role(
            "team",
            "legacy-grab",
            &by_name("dev"),
            &format!("{}  adoptExisting: true\n", trusting_management("Legacy")),
        ),
        role(
            "team",
            "outside-trust",
            &by_name("dev"),
            &format!(
                r#"
  roleName: OutsideTrust
  trust: {{accounts: [{{id: "{OUTSIDE}"}}]}}
"#
            ),
        ),
        role(
            "team",
            "outside-principal",
            &by_name("dev"),
            &format!(
                r#"
  roleName: MixedTrust
  trust:
    accounts: [{{id: "{MANAGEMENT_ACCOUNT}"}}]
    principals: ["arn:aws:iam::{OUTSIDE}:user/eve"]
"#
            ),
        ),
        role(
            "team",
            "secret-grab",
            &by_name("dev"),
            &format!(
                r#"
  roleName: SecretGrab
  trust:
    accounts: [{{id: "{MANAGEMENT_ACCOUNT}"}}]
    externalIdSecretRef: {{name: db-password, key: password}}
"#
            ),
        ),
        role(
            "team",
            "cross-namespace-secret",
            &by_name("dev"),
            &format!(
                r#"
  roleName: CrossNamespaceSecret
  trust:
    accounts: [{{id: "{MANAGEMENT_ACCOUNT}"}}]
    externalIdSecretRef: {{name: partner-external-id, key: externalId}}
"#
            ),
        ),
    ];
    env.apply(&manifests.concat()).await;

    // The operator acts: every legitimate object applied with the attacks is Ready.
    let legitimate = [
        ("CrossAccountRole", "team", "team-app"),
        ("CrossAccountRole", "platform", "shared-readonly"),
        ("CrossAccountRole", "platform", "platform-admin"),
        ("DeveloperGroup", "team", "team-devs"),
        ("CrossAccountRole", "team", "old-tagged"),
        ("CrossAccountRole", "team", "retained"),
        ("CrossAccountRole", "prod-team", "legacy-adopt"),
    ];
    let waited = join_all(legitimate.iter().map(|(kind, ns, name)| ready(&env, kind, ns, name))).await;
    let not_ready: Vec<String> = waited.into_iter().filter_map(Result::err).collect();
    assert!(not_ready.is_empty(), "legitimate objects: {not_ready:#?}");
    eprintln!("legitimate objects Ready after {:?}", started.elapsed());

    // Consent and allowedRoleArns work: the legitimate group grants exactly
    // its own role, the role that names it, and the ARN the identity account allows.
    assert_eq!(
        assumable_roles(&env, "team-devs", ASSUME).await,
        BTreeSet::from([
            role_arn(&dev, "TeamApp"),
            role_arn(&dev, "SharedReadOnly"),
            role_arn(&dev, "AuditReadOnly"),
        ])
    );
    assert_eq!(
        group_members(&env, "team-devs").await,
        Some(BTreeSet::from(["alice".to_string()]))
    );

    // The table: each attack says why, then AWS shows nothing of it.
    let results = join_all(attacks.iter().map(|attack| check_attack(&env, attack, &before))).await;
    let mut failures = vec![];
    for (attack, result) in attacks.iter().zip(results) {
        match result {
            Ok(message) => eprintln!(
                "ok   {}\n       {} {}: {message}",
                attack.case, attack.says.type_, attack.says.reason
            ),
            Err(err) => {
                eprintln!("FAIL {}\n       {err}", attack.case);
                failures.push(format!("{}: {err}", attack.case));
            }
        }
    }
    // The unlabelled Secret's value is in no trust policy of the account.
    let dev_iam = env.moto.member_iam(&dev).await;
    let roles = dev_iam.list_roles().send().await.expect("ListRoles");
    for listed in roles.roles() {
        let trust = listed.assume_role_policy_document().unwrap_or_default();
        let decoded = decode_aws_document(trust).map(|t| t.to_string()).unwrap_or_default();
        if decoded.contains(secret_value) || trust.contains(secret_value) {
            failures.push(format!(
                "(15) the Secret's value is in the trust policy of {}",
                listed.role_name()
            ));
        }
    }
    // Not even a read in the accounts no namespace may work in.
    for (account, name) in [(&orphan, "orphan"), (&sealed, "sealed")] {
        let calls: Vec<_> = env.aws.calls().into_iter().filter(|c| &c.account == account).collect();
        if !calls.is_empty() {
            failures.push(format!(
                "(1b/3) the operator called AWS in the {name} account: {calls:?}"
            ));
        }
    }
    // (2, 4) In the management account the operator wrote only what the
    // groups of allowed namespaces asked for: no role, no managed policy.
    let in_management: BTreeSet<&str> = env
        .aws
        .writes()
        .into_iter()
        .filter(|c| c.account == MANAGEMENT_ACCOUNT)
        .map(|c| c.operation)
        .collect();
    let allowed_there = BTreeSet::from(["CreateGroup", "AddUserToGroup", "PutGroupPolicy"]);
    if !in_management.is_subset(&allowed_there) {
        failures.push(format!("(2/4) writes in the management account: {in_management:?}"));
    }
    eprintln!("attack table checked after {:?}", started.elapsed());

    // (14) The role tagged the old way is this object's: re-tagged in
    // place (the same role, not a new one), and the object Ready.
    let upgraded = env
        .eventually("OldTagged re-tagged with the installation", async || {
            let role = role_state(&env, &dev, "OldTagged").await?;
            (role.tags.get(OWNER_TAG).map(String::as_str) == Some("CrossAccountRole/team/old-tagged@default"))
                .then_some(role)
        })
        .await;
    assert_eq!(
        upgraded.id, old_tagged.id,
        "(14) the old-tagged role is kept, not re-created"
    );
    ready(&env, "CrossAccountRole", "team", "old-tagged")
        .await
        .expect("(14) Ready");
    eprintln!("ok   (14) old owner tag upgraded in place");

    // (13) A second installation against the same organization names the
    // same role from the same namespace and name: AlreadyManaged, nothing
    // written there; a role of its own elsewhere shows it acts.
    let team_app = role_state(&env, &dev, "TeamApp").await.expect("TeamApp");
    assert_eq!(
        team_app.tags.get(OWNER_TAG).map(String::as_str),
        Some("CrossAccountRole/team/team-app@default")
    );
    let other = Installation::start(
        &env,
        Config {
            installation_id: "other".into(),
            ..test_config()
        },
    )
    .await;
    other
        .apply(
            &[
                namespaces(&["team"]),
                aws_account("dev", "dev", &dev, "  allowedNamespaces: [\"*\"]\n"),
                aws_account("prod", "prod", &prod, "  allowedNamespaces: [\"*\"]\n"),
                role("team", "team-app", &by_name("dev"), &trusting_management("TeamApp")),
                role("team", "other-app", &by_name("prod"), &trusting_management("OtherApp")),
            ]
            .concat(),
        )
        .await;
    let refused = reported(
        &other.api("CrossAccountRole", "team"),
        "team-app",
        &owned_elsewhere("AlreadyManaged", &["TeamApp", "CrossAccountRole/team/team-app@default"]),
        WAIT,
    )
    .await;
    let theirs = ready_at(&other.api("CrossAccountRole", "team"), "other-app").await;
    match (refused, theirs) {
        (Ok(message), Ok(_)) => eprintln!("ok   (13) second installation: {message}"),
        (refused, theirs) => failures.push(format!(
            "(13) second installation: {refused:?}; its own role: {theirs:?}"
        )),
    }
    if let Some(other_app) = role_state(&env, &prod, "OtherApp").await {
        assert_eq!(
            other_app.tags.get(OWNER_TAG).map(String::as_str),
            Some("CrossAccountRole/team/other-app@other"),
            "(13) the second installation tags what it makes with its name"
        );
    }
    let written_in_dev: Vec<_> = other.aws.writes().into_iter().filter(|c| c.account == dev).collect();
    if !written_in_dev.is_empty() {
        failures.push(format!("(13) the second installation wrote in dev: {written_in_dev:?}"));
    }
    if role_state(&env, &dev, "TeamApp").await.as_ref() != Some(&team_app) {
        failures.push("(13) TeamApp changed under the second installation".to_string());
    }
    drop(other);

    // Deletions: (16) a Retain role released, then its object re-created;
    // an adopted role released though its deletionPolicy says Delete; the
    // refused adoptions (7, 8, 9) deleted, their roles untouched.
    let deleted = [
        ("team", "retained"),
        ("prod-team", "legacy-adopt"),
        ("prod-team", "access-grab"),
        ("prod-team", "break-glass"),
        ("team", "legacy-grab"),
    ];
    for (namespace, name) in deleted {
        env.dynamic_api("CrossAccountRole", namespace)
            .delete(name, &DeleteParams::default())
            .await
            .expect("delete");
    }
    env.eventually("the deleted objects gone", async || {
        for (namespace, name) in deleted {
            let api = env.dynamic_api("CrossAccountRole", namespace);
            if api.get_opt(name).await.expect("get").is_some() {
                return None;
            }
        }
        Some(())
    })
    .await;
    for (account, name, what, (namespace, object)) in [
        (&dev, "Retained", "(16) deletionPolicy Retain", deleted[0]),
        (&prod, "LegacyAdopt", "adopted, deletionPolicy Delete", deleted[1]),
    ] {
        match role_state(&env, account, name).await {
            Some(role) if !role.tags.contains_key(OWNER_TAG) => eprintln!("ok   {what}: {name} released"),
            found => failures.push(format!(
                "{what}: {name} should be kept without the owner tag: {found:?}; the operator said {:?}",
                events_about(&env.client, namespace, object).await
            )),
        }
    }
    for (account, name) in [(&prod, ACCESS_ROLE), (&prod, "BreakGlass"), (&dev, "Legacy")] {
        let then = &before[&(account.clone(), name.to_string())];
        if &role_state(&env, account, name).await != then {
            failures.push(format!("deleting the object that named {name} changed it"));
        }
    }
    // (16) The same object again, without adoption: the released role is not its.
    let retained = role_state(&env, &dev, "Retained").await;
    env.apply(&role(
        "team",
        "retained",
        &by_name("dev"),
        &format!("{}  deletionPolicy: Retain\n", trusting_management("Retained")),
    ))
    .await;
    match reported(
        &env.dynamic_api("CrossAccountRole", "team"),
        "retained",
        &owned_elsewhere("AlreadyExists", &["Retained", "adoptExisting"]),
        WAIT,
    )
    .await
    {
        Ok(message) => eprintln!("ok   (16) re-created object: {message}"),
        Err(err) => failures.push(format!("(16) re-created object: {err}")),
    }
    if role_state(&env, &dev, "Retained").await != retained {
        failures.push("(16) the re-created object changed the released role".to_string());
    }

    eprintln!("suite done after {:?}", started.elapsed());
    assert!(
        failures.is_empty(),
        "attacks that had an effect:\n{}",
        failures.join("\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn taking_a_namespace_away_locks_what_it_made_and_giving_it_back_restores_it() {
    let started = Instant::now();
    let env = Env::start().await;
    env.moto.create_organization().await;
    let lockable = env.moto.create_member_account("lockable").await;
    let doomed = env.moto.create_member_account("doomed").await;
    create_users(&env, &["alice"]).await;

    let allowing = |namespaces: &str| {
        [
            identity_account(&format!("  allowedNamespaces: [{namespaces}]\n")),
            aws_account(
                "lockable",
                "lockable",
                &lockable,
                &format!("  allowedNamespaces: [{namespaces}]\n"),
            ),
        ]
        .concat()
    };
    env.apply(
        &[
            namespaces(&["tenant", "bystander"]),
            allowing("tenant, bystander"),
            aws_account("doomed", "doomed", &doomed, "  allowedNamespaces: [\"*\"]\n"),
            role(
                "tenant",
                "app",
                &by_name("lockable"),
                r#"
  roleName: TenantApp
  trust: {developerGroups: [{name: tenant-devs}]}
  permissions: {managedPolicyArns: [arn:aws:iam::aws:policy/ReadOnlyAccess]}
"#,
            ),
            group(
                "tenant",
                "tenant-devs",
                r#"
  members: [alice]
  access:
    - {role: {name: app}}
"#,
            ),
            role(
                "bystander",
                "app",
                &by_name("lockable"),
                &trusting_management("BystanderApp"),
            ),
            role(
                "tenant",
                "doomed-by-id",
                &by_id(&doomed),
                &trusting_management("DoomedById"),
            ),
            role(
                "tenant",
                "doomed-by-name",
                &by_name("doomed"),
                &trusting_management("DoomedByName"),
            ),
        ]
        .concat(),
    )
    .await;
    let objects = [
        ("CrossAccountRole", "tenant", "app"),
        ("DeveloperGroup", "tenant", "tenant-devs"),
        ("CrossAccountRole", "bystander", "app"),
        ("CrossAccountRole", "tenant", "doomed-by-id"),
        ("CrossAccountRole", "tenant", "doomed-by-name"),
    ];
    let waited = join_all(objects.iter().map(|(kind, ns, name)| ready(&env, kind, ns, name))).await;
    let not_ready: Vec<String> = waited.into_iter().filter_map(Result::err).collect();
    assert!(not_ready.is_empty(), "{not_ready:#?}");
    let tenant_app = role_arn(&lockable, "TenantApp");
    env.eventually("the group grants the tenant's role", async || {
        (assumable_roles(&env, "tenant-devs", ASSUME).await == BTreeSet::from([tenant_app.clone()])).then_some(())
    })
    .await;
    let tenants_roles = [
        (&lockable, "TenantApp"),
        (&doomed, "DoomedById"),
        (&doomed, "DoomedByName"),
    ];
    let mut granting = BTreeMap::new();
    for (account, name) in tenants_roles {
        let role = role_state(&env, account, name).await.expect("made by the operator");
        assert!(!denies_everyone(&role.trust), "{name} grants before the lock");
        granting.insert(name, role);
    }
    let bystander = role_state(&env, &lockable, "BystanderApp").await.expect("BystanderApp");
    eprintln!("all Ready after {:?}", started.elapsed());

    // (11) The platform team takes namespace tenant away from the identity
    // account and from lockable; (12) it deletes AwsAccount doomed.
    let taken = Instant::now();
    env.aws.clear();
    env.apply(&allowing("bystander")).await;
    env.dynamic_api("AwsAccount", "")
        .delete("doomed", &DeleteParams::default())
        .await
        .expect("delete AwsAccount doomed");
    let trusts_nobody = async |account: &str, name: &str| {
        role_state(&env, account, name)
            .await
            .is_some_and(|role| denies_everyone(&role.trust))
    };
    env.eventually("what tenant made locked", async || {
        let group_empty = group_members(&env, "tenant-devs").await == Some(BTreeSet::new())
            && assumable_roles(&env, "tenant-devs", ASSUME).await.is_empty();
        (group_empty
            && trusts_nobody(&lockable, "TenantApp").await
            && trusts_nobody(&doomed, "DoomedById").await
            && trusts_nobody(&doomed, "DoomedByName").await)
            .then_some(())
    })
    .await;
    let lock_time = taken.elapsed();
    eprintln!("(11, 12) locked {lock_time:?} after the namespace was taken away");
    assert!(lock_time < Duration::from_secs(10), "locked only after {lock_time:?}");

    let mut failures = vec![];
    // Locked, not deleted: the only writes take grants away.
    let locking = BTreeSet::from(["UpdateAssumeRolePolicy", "RemoveUserFromGroup", "DeleteGroupPolicy"]);
    let written: BTreeSet<&str> = env.aws.writes().into_iter().map(|c| c.operation).collect();
    if !written.is_subset(&locking) {
        failures.push(format!("(11, 12) taking the namespace away wrote {written:?}"));
    }
    // Locked, not deleted: the same roles, with their permissions and owner
    // tags; only their trust changed, to their own account's root and a Deny.
    for (account, name) in tenants_roles {
        let before = &granting[name];
        match role_state(&env, account, name).await {
            Some(role)
                if RoleState {
                    trust: before.trust.clone(),
                    ..role.clone()
                } == *before =>
            {
                let trusted = trusted_principals(&role.trust);
                if trusted != BTreeSet::from([root(account)]) {
                    failures.push(format!("{name} trusts {trusted:?} besides its own account"));
                }
            }
            found => failures.push(format!("{name} should be kept as it was but for its trust: {found:?}")),
        }
    }
    // The bystander's role in the same account is untouched, and Ready.
    if role_state(&env, &lockable, "BystanderApp").await.as_ref() != Some(&bystander) {
        failures.push("(11) the bystander's role changed".to_string());
    }
    if let Err(err) = ready(&env, "CrossAccountRole", "bystander", "app").await {
        failures.push(format!("(11) {err}"));
    }
    let cases = [
        ("(11) role", "CrossAccountRole", "app", vec!["lockable", "tenant"]),
        (
            "(11) group",
            "DeveloperGroup",
            "tenant-devs",
            vec![MANAGEMENT_ACCOUNT, "tenant"],
        ),
        (
            "(12) role by id",
            "CrossAccountRole",
            "doomed-by-id",
            vec![&doomed, "tenant"],
        ),
        (
            "(12) role by name",
            "CrossAccountRole",
            "doomed-by-name",
            vec!["doomed", "tenant"],
        ),
    ];
    for (case, kind, name, fragments) in &cases {
        let api = env.dynamic_api(kind, "tenant");
        // AWS shows the lock already, and the status is written right after it.
        let says = stalled("NamespaceNotAllowed", "spec.account", fragments);
        match reported(&api, name, &says, Duration::from_secs(10)).await {
            Ok(message) => eprintln!("ok   {case} locked: {message}"),
            Err(err) => failures.push(format!("{case}: {err}")),
        }
    }
    let expected_events: BTreeSet<String> = cases.iter().map(|(_, _, name, _)| name.to_string()).collect();
    let deadline = Instant::now() + WAIT;
    let mut events = locked(&env.client, "tenant").await;
    while !expected_events.is_subset(&events) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
        events = locked(&env.client, "tenant").await;
    }
    if !expected_events.is_subset(&events) {
        failures.push(format!("Locked Events for {events:?}, expected {expected_events:?}"));
    }

    // (11) Given back, it grants again as before.
    let given = Instant::now();
    env.apply(&allowing("tenant, bystander")).await;
    env.eventually("tenant's role and group restored", async || {
        let role = role_state(&env, &lockable, "TenantApp").await?;
        let restored = equivalent(&role.trust, &granting["TenantApp"].trust)
            && group_members(&env, "tenant-devs").await == Some(BTreeSet::from(["alice".to_string()]))
            && assumable_roles(&env, "tenant-devs", ASSUME).await == BTreeSet::from([tenant_app.clone()]);
        restored.then_some(())
    })
    .await;
    eprintln!("(11) restored {:?} after the namespace was given back", given.elapsed());
    for (kind, ns, name) in &objects[..3] {
        if let Err(err) = ready(&env, kind, ns, name).await {
            failures.push(format!("(11) after restoring: {err}"));
        }
    }
    eprintln!("lock suite done after {:?}", started.elapsed());
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// An operator with `config` reaching moto through a wire that records who
/// signed each call, and the member account `dev` it works in.
async fn operator_on_the_wire(config: Config) -> (Env, String, crate::support::wire::Wire) {
    let mut env = Env::without_operator().await;
    env.moto.create_organization().await;
    let dev = env.moto.create_member_account("dev").await;
    let wire = crate::support::wire::Wire::start(env.moto.endpoint()).await;
    env.reach_aws_through(&wire.endpoint()).await;
    (env.start_operator(config), dev, wire)
}

/// Rule 9: every write in a member account carries the object that asked,
/// as the role session's name (what CloudTrail records as the caller); the
/// shared reads keep the operator's own session, and a pass in sync opens no
/// session at all. Read on the wire between the operator and moto: which
/// access key signed each call, and which session AssumeRole handed it to.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_write_in_a_member_account_names_the_object_that_asked() {
    let (env, dev, wire) = operator_on_the_wire(test_config()).await;
    env.apply(&format!(
        "{}{}{}",
        namespaces(&["alfie"]),
        aws_account("dev", "dev", &dev, "  allowedNamespaces: [alfie]\n"),
        role("alfie", "deployer", &by_name("dev"), &trusting_management("Deployer")),
    ))
    .await;
    ready(&env, "CrossAccountRole", "alfie", "deployer")
        .await
        .expect("the role is Ready");
    assert_eq!(wire.sessions_of("CreateRole"), ["alfie.deployer"]);
    let reads = wire.sessions_of("GetAccountAuthorizationDetails");
    assert!(
        !reads.is_empty() && reads.iter().all(|session| session == "aws-access-operator"),
        "the inventory is read in the operator's own session: {reads:?}"
    );

    // A change is written in the object's session again; two resyncs in sync open none.
    env.apply(&role(
        "alfie",
        "deployer",
        &by_name("dev"),
        r#"
  roleName: Deployer
  maxSessionDuration: 7200
  trust: {accounts: [{id: "123456789012"}]}
"#,
    ))
    .await;
    env.eventually("the new session length in AWS", async || {
        let role = env
            .moto
            .member_iam(&dev)
            .await
            .get_role()
            .role_name("Deployer")
            .send()
            .await
            .ok()?;
        (role.role()?.max_session_duration() == Some(7200)).then_some(())
    })
    .await;
    assert_eq!(wire.sessions_of("UpdateRole"), ["alfie.deployer"]);
    let assumed = wire.sessions_of("AssumeRole").len();
    let resyncs = wire.sessions_of("GetAccountAuthorizationDetails").len() + 2;
    env.eventually("two more resyncs", async || {
        (wire.sessions_of("GetAccountAuthorizationDetails").len() >= resyncs).then_some(())
    })
    .await;
    assert_eq!(
        wire.sessions_of("AssumeRole").len(),
        assumed,
        "a pass in sync opens no session"
    );
}

/// With `--write-sessions namespace` the writes name the namespace that
/// asked rather than each object, and one session serves all of them: a
/// namespace's many objects in one account cost one AssumeRole, not one each.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn namespace_write_sessions_name_the_tenant_and_are_opened_once() {
    let (env, dev, wire) = operator_on_the_wire(Config {
        write_sessions: controller::context::WriteSessions::Namespace,
        ..test_config()
    })
    .await;
    let names = ["deployer", "reader", "auditor"];
    let roles: String = (names.iter())
        .map(|name| role("alfie", name, &by_name("dev"), &trusting_management(name)))
        .collect();
    env.apply(&format!(
        "{}{}{roles}",
        namespaces(&["alfie"]),
        aws_account("dev", "dev", &dev, "  allowedNamespaces: [alfie]\n"),
    ))
    .await;
    for name in names {
        ready(&env, "CrossAccountRole", "alfie", name)
            .await
            .expect("the role is Ready");
    }
    assert_eq!(wire.sessions_of("CreateRole"), ["alfie", "alfie", "alfie"]);
    let mut opened = wire.sent("AssumeRole");
    opened.sort_by(|a, b| a.get("RoleSessionName").cmp(&b.get("RoleSessionName")));
    let sessions: Vec<_> = opened.iter().filter_map(|call| call.get("RoleSessionName")).collect();
    assert_eq!(
        sessions,
        ["alfie", "aws-access-operator"],
        "one session for the reads, one for the namespace's writes"
    );
}

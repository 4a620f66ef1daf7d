//! Issue 11, item 5: a catalogue of bad input, one table for the four kinds.
//! Each row is a manifest and what must become of it: refused by the API
//! server's schema (a 422 whose message names the field), or accepted and
//! reported on the object (a Stalled or Reconciling condition with the right
//! reason, its message naming the field). Either way nothing is written to
//! AWS: the operator fails closed.
//!
//! The rows run one after another against one kube-testserver, one moto and
//! one operator, so the AWS writes seen while a row runs are that row's. Every
//! row runs even when one fails, and the failures are reported together.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::api::{Api, DynamicObject};
use serde_json::{Value, json};

use crate::support::fault::Call;
use crate::support::moto::MANAGEMENT_ACCOUNT;
use crate::support::operator::Env;

const NAMESPACE: &str = "alfie";
/// A partner's account, outside the organization.
const PARTNER_ACCOUNT: &str = "444455556666";
/// How long the operator may take to report a row. Generous: a row that
/// meets its expectation ends as soon as it does.
const REPORT_TIMEOUT: Duration = Duration::from_secs(20);
const POLL_INTERVAL: Duration = Duration::from_millis(100);

/// What must become of a row's manifest.
enum Expect {
    /// The API server refuses it with a 422 whose message contains this.
    Refused(&'static str),
    /// The API server accepts it; the operator sets `condition` True with
    /// `reason`, for the object's current generation, in a message containing `names`.
    Reported {
        condition: &'static str,
        reason: &'static str,
        names: &'static str,
    },
}

fn refused(field: &'static str) -> Expect {
    Expect::Refused(field)
}

fn invalid(field: &'static str) -> Expect {
    stalled("InvalidSpec", field)
}

fn stalled(reason: &'static str, field: &'static str) -> Expect {
    Expect::Reported {
        condition: "Stalled",
        reason,
        names: field,
    }
}

/// A missing reference: the object waits for it, granting nothing through it.
fn waiting(field: &'static str) -> Expect {
    reconciling("ReferenceNotReady", field)
}

fn reconciling(reason: &'static str, field: &'static str) -> Expect {
    Expect::Reported {
        condition: "Reconciling",
        reason,
        names: field,
    }
}

struct Case {
    /// Also the object's name: short, and unique in the table.
    id: &'static str,
    /// Applied first, and accepted: a Secret the manifest reads, or the
    /// object as it was before the change the row makes.
    before: Vec<Value>,
    manifest: Value,
    expect: Expect,
}

/// The accounts the catalogue's objects point at.
struct Fixture {
    /// A member account whose AwsAccount, `dev`, allows namespace alfie.
    dev: String,
}

fn object(kind: &str, name: &str, spec: Value) -> Value {
    let metadata = match kind {
        "AwsAccount" => json!({"name": name}),
        _ => json!({"name": name, "namespace": NAMESPACE}),
    };
    json!({"apiVersion": "awsaccess.dev/v1alpha1", "kind": kind, "metadata": metadata, "spec": spec})
}

/// `base` with `patch` merged in (RFC 7386: objects merge, anything else replaces).
fn merged(mut base: Value, patch: &Value) -> Value {
    json_patch::merge(&mut base, patch);
    base
}

/// A valid object of `kind` that the row's `patch` makes bad.
fn case(kind: &str, base: Value, id: &'static str, patch: Value, expect: Expect) -> Case {
    Case {
        id,
        before: vec![],
        manifest: object(kind, id, merged(base, &patch)),
        expect,
    }
}

impl Fixture {
    fn role(&self, id: &'static str, patch: Value, expect: Expect) -> Case {
        let base = json!({"account": {"id": self.dev}, "trust": {"accounts": [{"id": MANAGEMENT_ACCOUNT}]}});
        case("CrossAccountRole", base, id, patch, expect)
    }

    fn group(&self, id: &'static str, patch: Value, expect: Expect) -> Case {
        case("DeveloperGroup", group_spec(), id, patch, expect)
    }

    fn partner(&self, id: &'static str, patch: Value, expect: Expect) -> Case {
        let base = json!({"partner": {"name": "Sembit", "accountId": PARTNER_ACCOUNT}, "accounts": [{"name": "dev"}]});
        case("PartnerAccess", base, id, patch, expect)
    }

    fn account(&self, id: &'static str, patch: Value, expect: Expect) -> Case {
        let base = json!({"accountName": id, "email": format!("{id}@example.com")});
        case("AwsAccount", base, id, patch, expect)
    }
}

impl Case {
    fn kind(&self) -> &str {
        self.manifest["kind"].as_str().unwrap_or_default()
    }

    /// The row reads its external ID from a Secret of its own name holding
    /// `data`, opted in as an external ID (the operator reads no other).
    fn with_secret(mut self, data: Value) -> Case {
        let metadata =
            json!({"name": self.id, "namespace": NAMESPACE, "labels": {"awsaccess.dev/external-id": "true"}});
        let secret = json!({"apiVersion": "v1", "kind": "Secret", "metadata": metadata, "stringData": data});
        self.before.push(secret);
        self
    }

    /// The object exists first as built; the row then applies `change` to
    /// its spec: for rules about changes rather than values.
    fn then(mut self, change: Value) -> Case {
        let first = self.manifest.clone();
        self.manifest = merged(first.clone(), &json!({"spec": change}));
        self.before.push(first);
        self
    }
}

fn group_spec() -> Value {
    json!({"members": ["alice"]})
}

fn inline(document: Value) -> Value {
    json!({"permissions": {"inlinePolicies": [{"name": "p", "document": document}]}})
}

fn statement(statement: Value) -> Value {
    json!({"Version": "2012-10-17", "Statement": [statement]})
}

/// A valid policy of about 29 characters per bucket.
fn buckets_policy(buckets: usize) -> Value {
    let resources: Vec<String> = (0..buckets).map(|n| format!("arn:aws:s3:::bucket-{n:04}/*")).collect();
    statement(json!({"Effect": "Allow", "Action": "s3:GetObject", "Resource": resources}))
}

/// An IAM ARN in the management account.
fn iam(resource: &str) -> String {
    format!("arn:aws:iam::{MANAGEMENT_ACCOUNT}:{resource}")
}

fn trusting(principal: String) -> Value {
    json!({"trust": {"principals": [principal]}})
}

fn granting(entries: &[Value]) -> Value {
    json!({"access": entries})
}

const DOCUMENT: &str = "spec.permissions.inlinePolicies[0].document";

fn table(fixture: &Fixture) -> Vec<Case> {
    let allow_all = json!({"Effect": "Allow", "Action": "s3:*", "Resource": "*"});
    let not_a_policy = |change: Value| inline(statement(merged(allow_all.clone(), &change)));
    let named = |name: &str| json!({"name": name, "document": statement(allow_all.clone())});
    let role_arn = |name: &str, profile: &str| json!({"roleArn": iam(&format!("role/{name}")), "profile": profile});
    let developers: Vec<String> = (0..60).map(|n| iam(&format!("user/developer-{n:02}"))).collect();
    // Role names of IAM's 64 characters: the group's policy outgrows IAM's 5,120 for a group.
    let many_roles: Vec<Value> = (0..60)
        .map(|n| json!({"roleArn": iam(&format!("role/{n:0>64}"))}))
        .collect();
    vec![
        // CrossAccountRole: ARNs.
        fixture.role("principal-short-account", trusting("arn:aws:iam::12345678901:user/alice".into()), refused("spec.trust.principals[0]")),
        fixture.role("principal-group", trusting(iam("group/developers")), invalid("spec.trust.principals[0]")),
        fixture.role("principal-session-missing", trusting(format!("arn:aws:sts::{MANAGEMENT_ACCOUNT}:assumed-role/ci")), invalid("spec.trust.principals[0]")),
        fixture.role("principal-partition-typo", trusting(format!("arn:aws-us:iam::{MANAGEMENT_ACCOUNT}:root")), invalid("spec.trust.principals[0]")),
        fixture.role("managed-policy-name-only", json!({"permissions": {"managedPolicyArns": ["AdministratorAccess"]}}), refused("spec.permissions.managedPolicyArns[0]")),
        fixture.role("managed-policy-space", json!({"permissions": {"managedPolicyArns": ["arn:aws:iam::aws:policy/Read Only"]}}), invalid("spec.permissions.managedPolicyArns[0]")),
        fixture.role("boundary-is-a-role", json!({"permissions": {"permissionsBoundaryArn": iam("role/Boundary")}}), refused("spec.permissions.permissionsBoundaryArn")),
        fixture.role("boundary-empty-path", json!({"permissions": {"permissionsBoundaryArn": "arn:aws:iam::aws:policy/team//Boundary"}}), invalid("spec.permissions.permissionsBoundaryArn")),
        // CrossAccountRole: inline policies that are not policies.
        fixture.role("effect-permit", not_a_policy(json!({"Effect": "Permit"})), invalid(DOCUMENT)),
        fixture.role("action-missing", not_a_policy(json!({"Action": null})), invalid(DOCUMENT)),
        fixture.role("resource-missing", not_a_policy(json!({"Resource": null})), invalid(DOCUMENT)),
        fixture.role("action-not-service-action", not_a_policy(json!({"Action": "GetObject"})), invalid(DOCUMENT)),
        fixture.role("action-and-not-action", not_a_policy(json!({"NotAction": "iam:*"})), invalid(DOCUMENT)),
        fixture.role("principal-in-identity-policy", not_a_policy(json!({"Principal": "*"})), invalid(DOCUMENT)),
        fixture.role("condition-operator-unknown", not_a_policy(json!({"Condition": {"StringEqualz": {"aws:username": "alice"}}})), invalid(DOCUMENT)),
        fixture.role("version-unknown", inline(merged(statement(allow_all.clone()), &json!({"Version": "2012-10-18"}))), invalid(DOCUMENT)),
        fixture.role("document-not-an-object", inline(json!("Allow everything")), refused(DOCUMENT)),
        fixture.role("inline-name-space", json!({"permissions": {"inlinePolicies": [named("deny org")]}}), refused("spec.permissions.inlinePolicies[0].name")),
        fixture.role("inline-name-twice", json!({"permissions": {"inlinePolicies": [named("p"), named("p")]}}), refused("spec.permissions.inlinePolicies[1]")),
        // IAM's size limits: one inline policy, a role's inline policies together, a trust policy, a group's policy.
        fixture.role("inline-policy-too-big", inline(buckets_policy(400)), invalid(DOCUMENT)),
        fixture.role("inline-policies-too-big-together", json!({"permissions": {"inlinePolicies": [{"name": "a", "document": buckets_policy(200)}, {"name": "b", "document": buckets_policy(200)}]}}), invalid("spec.permissions.inlinePolicies:")),
        fixture.role("trust-policy-too-big", json!({"trust": {"principals": developers}}), invalid("spec.trust")),
        fixture.group("group-policy-too-big", granting(&many_roles), invalid("spec.access")),
        // CrossAccountRole: names and numbers.
        fixture.role("session-too-long", json!({"maxSessionDuration": 43201}), refused("spec.maxSessionDuration")),
        fixture.role("session-too-short", json!({"maxSessionDuration": 900}), refused("spec.maxSessionDuration")),
        fixture.role("role-name-too-long", json!({"roleName": "R".repeat(65)}), refused("spec.roleName")),
        fixture.role("role-name-slash", json!({"roleName": "Alfie/FullAccess"}), refused("spec.roleName")),
        fixture.role("tag-key-reserved", json!({"tags": {"aws:team": "alfie"}}), refused("spec.tags")),
        fixture.role("account-name-and-id", json!({"account": {"name": "dev"}}), refused("spec.account")),
        fixture.role("trust-names-nobody", json!({"trust": {"accounts": null, "requireMfa": true}}), refused("spec.trust")),
        fixture.role("trusted-account-short", json!({"trust": {"accounts": [{"id": "12345678901"}]}}), refused("spec.trust.accounts[0].id")),
        // CrossAccountRole: references.
        fixture.role("secret-without-key", json!({"trust": {"externalIdSecretRef": {"name": "secret-without-key"}}}), invalid("spec.trust.externalIdSecretRef")).with_secret(json!({"external-id": "alfie-7f3a9c0123"})),
        fixture.role("external-id-with-space", json!({"trust": {"externalIdSecretRef": {"name": "external-id-with-space"}}}), invalid("spec.trust.externalIdSecretRef")).with_secret(json!({"externalId": "alfie 7f3a9c0123"})),
        fixture.role("secret-missing", json!({"trust": {"externalIdSecretRef": {"name": "no-such-secret"}}}), waiting("spec.trust.externalIdSecretRef")),
        fixture.role("account-missing", json!({"account": {"id": null, "name": "no-such-account"}}), waiting("spec.account")),
        fixture.role("account-forbids-namespace", json!({"account": {"id": null, "name": "platform-only"}}), stalled("NamespaceNotAllowed", "spec.account")),
        fixture.role("trusted-account-missing", json!({"trust": {"accounts": [{"name": "no-such-account"}]}}), waiting("spec.trust.accounts[0]")),
        fixture.role("trusted-group-missing", json!({"trust": {"accounts": null, "developerGroups": [{"name": "no-such-group"}]}}), waiting("spec.trust.developerGroups[0]")),
        // DeveloperGroup.
        fixture.group("role-arn-of-a-user", granting(&[json!({"roleArn": iam("user/alice")})]), refused("spec.access[0].roleArn")),
        fixture.group("role-arn-star", granting(&[role_arn("Has*Star", "alfie")]), invalid("spec.access[0].roleArn")),
        fixture.group("role-arn-partition-typo", granting(&[json!({"roleArn": format!("arn:aws-us:iam::{MANAGEMENT_ACCOUNT}:role/AlfieReadOnly")})]), invalid("spec.access[0].roleArn")),
        fixture.group("profile-twice", granting(&[role_arn("A", "alfie"), role_arn("B", "alfie")]), invalid("spec.access[1].profile")),
        fixture.group("profile-space", granting(&[role_arn("A", "alfie dev")]), refused("spec.access[0].profile")),
        fixture.group("profile-equals", granting(&[role_arn("A", "alfie=dev")]), invalid("spec.access[0].profile")),
        fixture.group("access-names-no-role", granting(&[json!({"profile": "alfie"})]), refused("spec.access[0]")),
        fixture.group("member-space", json!({"members": ["alice smith"]}), refused("spec.members[0]")),
        fixture.group("group-name-too-long", json!({"groupName": "g".repeat(129)}), refused("spec.groupName")),
        fixture.group("group-managed-policy-space", json!({"managedPolicyArns": ["arn:aws:iam::aws:policy/Read Only"]}), invalid("spec.managedPolicyArns[0]")),
        fixture.group("group-account-missing", json!({"account": {"name": "no-such-account"}}), waiting("spec.account")),
        // The group `steady` exists, Ready, with its member: it stays as it
        // is and grants nothing through the role that is not there.
        fixture.group("steady", granting(&[json!({"role": {"name": "no-such-role"}})]), waiting("spec.access[0].role")),
        // PartnerAccess.
        fixture.partner("partner-account-11-digits", json!({"partner": {"accountId": "44445555666"}}), refused("spec.partner.accountId")),
        fixture.partner("partner-session-too-long", json!({"maxSessionDuration": 50000}), refused("spec.maxSessionDuration")),
        fixture.partner("expiry-date-only", json!({"expiresAt": "2027-01-31"}), refused("spec.expiresAt")),
        fixture.partner("expiry-without-zone", json!({"expiresAt": "2027-01-31T00:00:00"}), refused("spec.expiresAt")),
        fixture.partner("partner-no-accounts", json!({"accounts": []}), refused("spec.accounts")),
        fixture.partner("partner-role-name-space", json!({"roleName": "Sembit Access"}), refused("spec.roleName")),
        fixture.partner("partner-account-forbids-namespace", json!({"accounts": [{"name": "platform-only"}]}), stalled("NamespaceNotAllowed", "spec.accounts[0]")),
        fixture.partner("partner-account-missing", json!({"accounts": [{"name": "no-such-account"}]}), waiting("spec.accounts[0]")),
        fixture.partner("partner-not-a-policy", not_a_policy(json!({"Effect": "Permit"})), invalid(DOCUMENT)),
        fixture.partner("partner-secret-missing", json!({"externalIdSecretRef": {"name": "no-such-secret"}}), waiting("spec.externalIdSecretRef")),
        fixture.partner("partner-external-id-short", json!({"externalIdSecretRef": {"name": "partner-external-id-short"}}), invalid("spec.externalIdSecretRef")).with_secret(json!({"externalId": "x"})),
        // AwsAccount: all of it is the schema's; a bad one must never reach CreateAccount.
        fixture.account("email-without-at", json!({"email": "alfie.example.com"}), refused("spec.email")),
        fixture.account("account-name-too-long", json!({"accountName": "a".repeat(51)}), refused("spec.accountName")),
        fixture.account("ou-path-empty-segment", json!({"organizationalUnit": "Workloads//Development"}), refused("spec.organizationalUnit")),
        fixture.account("ou-id-unknown", json!({"organizationalUnit": "ou-ab12-cd34ef56"}), reconciling("OrganizationalUnitNotFound", "spec.organizationalUnit")),
        fixture.account("account-id-11-digits", json!({"accountId": "12345678901"}), refused("spec.accountId")),
        fixture.account("access-role-space", json!({"accessRoleName": "Org Access"}), refused("spec.accessRoleName")),
        fixture.account("namespace-uppercase", json!({"allowedNamespaces": ["Alfie"]}), refused("spec.allowedNamespaces[0]")),
        // First created to be observed only (so nothing is written), then changed.
        fixture.account("account-id-added", json!({"managementPolicy": "Observe"}), refused("accountId can be neither added nor removed")).then(json!({"accountId": fixture.dev})),
        fixture.account("email-changed", json!({"managementPolicy": "Observe"}), refused("email is immutable")).then(json!({"email": "changed@example.com"})),
    ]
}

/// How a row ended when it went as expected.
enum Verdict {
    Refused,
    Reported,
}

fn api_for(env: &Env, manifest: &Value) -> (Api<DynamicObject>, String) {
    let kind = manifest["kind"].as_str().expect("kind");
    let name = manifest["metadata"]["name"].as_str().expect("name");
    (env.dynamic_api(kind, NAMESPACE), name.to_owned())
}

/// Runs one row; what went against its expectation, if anything.
async fn run(env: &Env, case: &Case) -> Result<Verdict, String> {
    for first in &case.before {
        env.try_apply(first)
            .await
            .map_err(|err| format!("what comes before the row was refused: {err}"))?;
    }
    match (&case.expect, env.try_apply(&case.manifest).await) {
        (Expect::Refused(names), Err(kube::Error::Api(refusal)))
            if refusal.code == 422 && refusal.message.contains(names) =>
        {
            Ok(Verdict::Refused)
        }
        (Expect::Refused(names), Err(err)) => Err(format!("refused, but not with a 422 naming {names}: {err}")),
        (Expect::Refused(names), Ok(_)) => Err(format!("accepted; expected the schema to refuse it naming {names}")),
        (Expect::Reported { .. }, Err(err)) => Err(format!("refused by the API server: {err}")),
        (
            Expect::Reported {
                condition,
                reason,
                names,
            },
            Ok(_),
        ) => {
            // Ready and Stalled are where an object rests: either, other than
            // expected, ends the wait. Reconciling messages change on the way.
            let expected = |holding: &[Condition]| {
                let found = holding
                    .iter()
                    .any(|held| held.type_ == *condition && held.reason == *reason && held.message.contains(names));
                let resting = holding
                    .iter()
                    .find(|held| held.type_ == "Ready" || held.type_ == "Stalled");
                match (found, resting) {
                    (true, _) => Some(Ok(Verdict::Reported)),
                    (false, Some(held)) => Some(Err(format!("{} {}: {}", held.type_, held.reason, held.message))),
                    (false, None) => None,
                }
            };
            env.watch(case.kind(), NAMESPACE, case.id, REPORT_TIMEOUT, expected)
                .await
                .map_err(|timeout| format!("not reported {condition} {reason} naming {names}: {timeout}"))?
                .map_err(|instead| format!("not reported {condition} {reason} naming {names}, but {instead}"))
        }
    }
}

/// Deletes the object and waits until it is gone, cleanup in AWS included.
async fn remove(env: &Env, manifest: &Value) -> Result<(), String> {
    let (api, name) = api_for(env, manifest);
    if let Err(err) = api.delete(&name, &Default::default()).await {
        return Err(format!("deleting it: {err}"));
    }
    let deadline = Instant::now() + REPORT_TIMEOUT;
    while api.get_opt(&name).await.map_err(|err| err.to_string())?.is_some() {
        if Instant::now() > deadline {
            return Err(format!("still there {REPORT_TIMEOUT:?} after its deletion"));
        }
        tokio::time::sleep(POLL_INTERVAL).await;
    }
    Ok(())
}

/// The writes in order, a run of the same call counted once: "PutRolePolicy ×10 in 123456789012".
fn describe(writes: &[Call]) -> String {
    let mut runs: Vec<(&Call, usize)> = vec![];
    for call in writes {
        match runs.last_mut() {
            Some((last, count)) if *last == call => *count += 1,
            _ => runs.push((call, 1)),
        }
    }
    let runs: Vec<String> = runs
        .iter()
        .map(|(call, count)| match count {
            1 => format!("{} in {}", call.operation, call.account),
            _ => format!("{} ×{count} in {}", call.operation, call.account),
        })
        .collect();
    runs.join(", ")
}

/// The accounts, a user and a Ready group that the rows refer to.
async fn setup(env: &Env) -> Fixture {
    env.moto.create_organization().await;
    let dev = env.moto.create_member_account("dev").await;
    let platform = env.moto.create_member_account("platform").await;
    aws_sdk_iam::Client::new(&env.moto.sdk_config().await)
        .create_user()
        .user_name("alice")
        .send()
        .await
        .expect("CreateUser");
    // Named and addressed as `create_member_account` made them.
    let adopted = |name: &str, account: &str, id: &str, namespace: &str| {
        let spec = json!({"accountName": account, "email": format!("{account}@example.com"), "accountId": id, "allowedNamespaces": [namespace]});
        object("AwsAccount", name, spec)
    };
    // The identity account, where the groups live; its guardrails let them
    // grant its own roles by raw ARN, as the group rows do.
    let identity = merged(
        adopted("identity", "master", MANAGEMENT_ACCOUNT, NAMESPACE),
        &json!({"spec": {"guardrails": {"allowedRoleArns": [iam("role/*")]}}}),
    );
    let fixtures = [
        identity,
        adopted("dev", "dev", &dev, NAMESPACE),
        adopted("platform-only", "platform", &platform, "platform"),
        object("DeveloperGroup", "steady", group_spec()),
    ];
    env.try_apply(&json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}}))
        .await
        .expect("namespace");
    for fixture in &fixtures {
        env.try_apply(fixture).await.expect("fixture accepted");
    }
    for fixture in &fixtures {
        let ready = |holding: &[Condition]| holding.iter().any(|held| held.type_ == "Ready").then_some(());
        let (kind, name) = (
            fixture["kind"].as_str().expect("kind"),
            fixture["metadata"]["name"].as_str().expect("name"),
        );
        env.watch(kind, NAMESPACE, name, REPORT_TIMEOUT, ready)
            .await
            .unwrap_or_else(|err| panic!("fixture {name} not Ready: {err}"));
    }
    Fixture { dev }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_refused_or_reported_and_nothing_is_written_to_aws() {
    let env = Env::start().await;
    let fixture = setup(&env).await;
    let cases = table(&fixture);
    let ids: BTreeSet<&str> = cases.iter().map(|case| case.id).collect();
    assert_eq!(ids.len(), cases.len(), "row ids are object names: each once");

    env.aws.clear();
    let (mut refused, mut reported, mut written) = (0, 0, 0);
    let mut failures = vec![];
    for case in &cases {
        let mut problems = vec![];
        match run(&env, case).await {
            Ok(Verdict::Refused) => refused += 1,
            Ok(Verdict::Reported) => reported += 1,
            Err(problem) => problems.push(problem),
        }
        let writes = env.aws.writes();
        if !writes.is_empty() {
            written += writes.len();
            problems.push(format!("AWS writes: {}", describe(&writes)));
            // Gone before the next row, so that row is measured alone; the
            // cleanup's own writes are this row's too.
            if let Err(problem) = remove(&env, &case.manifest).await {
                problems.push(problem);
            }
            env.aws.clear();
        }
        if !problems.is_empty() {
            failures.push(format!("{} {}: {}", case.kind(), case.id, problems.join("; ")));
        }
    }
    // Past a resync of every object left (test_config: every 2 s), still nothing written.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let late = env.aws.writes();
    if !late.is_empty() {
        written += late.len();
        failures.push(format!("AWS writes at a later resync: {}", describe(&late)));
    }
    println!(
        "{} cases, {refused} refused by the schema, {reported} reported by the operator, AWS writes caused: {written}",
        cases.len()
    );
    assert!(
        failures.is_empty(),
        "{} of {} cases went wrong:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

/// A CrossAccountRole whose inline policy nests `levels` lists inside a Condition.
fn nested_role(name: &str, dev: &str, levels: usize) -> Value {
    let mut value = json!("vpc-1");
    for _ in 0..levels {
        value = json!([value]);
    }
    let policy = inline(statement(
        json!({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*", "Condition": {"StringEquals": {"aws:SourceVpc": value}}}),
    ));
    let spec = merged(
        json!({"account": {"id": dev}, "trust": {"accounts": [{"id": MANAGEMENT_ACCOUNT}]}}),
        &policy,
    );
    object("CrossAccountRole", name, spec)
}

async fn wait_ready(env: &Env, name: &str) {
    let ready = |holding: &[Condition]| {
        holding
            .iter()
            .find(|c| c.type_ == "Ready")
            .and_then(|c| (c.status == "True").then_some(()))
    };
    env.watch("CrossAccountRole", NAMESPACE, name, REPORT_TIMEOUT, ready)
        .await
        .unwrap_or_else(|err| panic!("{name} not Ready: {err}"))
}

async fn role_in(iam: &aws_sdk_iam::Client, name: &str) -> Option<String> {
    match iam.get_role().role_name(name).send().await {
        Ok(found) => found.role().map(|role| role.arn().to_owned()),
        Err(err) if err.as_service_error().is_some_and(|e| e.is_no_such_entity_exception()) => None,
        Err(err) => panic!("GetRole {name}: {err}"),
    }
}

/// Issue 23, item 4: a document the API server accepts but nested beyond
/// what serde_json decodes in a list is that one object's Stalled condition.
/// The kind goes on, across a restart (whose initial list holds the deep
/// object), and the deep object can still be deleted, its role with it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_role_nested_beyond_reason_stalls_alone_even_across_a_restart() {
    const DEEP: usize = 117;
    let mut env = Env::start().await;
    env.moto.create_organization().await;
    let dev = env.moto.create_member_account("dev").await;
    env.open_accounts(&[("dev", &dev)]).await;
    env.wait_active(&["identity", "dev"]).await;
    let dev_iam = env.moto.member_iam(&dev).await;
    env.try_apply(&json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}}))
        .await
        .expect("namespace");

    env.try_apply(&nested_role("steady", &dev, 1))
        .await
        .expect("steady applied");
    wait_ready(&env, "steady").await;
    env.try_apply(&nested_role("deep", &dev, DEEP))
        .await
        .expect("the API server takes the deep role");
    let why = env
        .stalled_message("CrossAccountRole", NAMESPACE, "deep", "InvalidSpec")
        .await;
    assert!(
        why.starts_with(
            "spec.permissions.inlinePolicies[0].document.Statement[0].Condition.StringEquals.aws:SourceVpc"
        ),
        "the message names the field: {why}"
    );
    assert_eq!(
        role_in(&dev_iam, "deep").await,
        None,
        "nothing is made for a role read only in part"
    );

    // A fresh operator lists the deep role with the others: the list decodes.
    env.restart_operator(crate::support::operator::test_config()).await;
    env.try_apply(&nested_role("after-restart", &dev, 1))
        .await
        .expect("applied");
    wait_ready(&env, "after-restart").await;
    assert!(role_in(&dev_iam, "after-restart").await.is_some());

    // A role already made, turned deep: stalled, its AWS role left as it
    // was; then deleted, and its role leaves AWS.
    let before = role_in(&dev_iam, "steady").await.expect("steady made");
    env.try_apply(&nested_role("steady", &dev, DEEP))
        .await
        .expect("applied");
    env.stalled_message("CrossAccountRole", NAMESPACE, "steady", "InvalidSpec")
        .await;
    assert_eq!(role_in(&dev_iam, "steady").await, Some(before));
    remove(&env, &nested_role("steady", &dev, 1))
        .await
        .expect("the deep role deleted");
    assert_eq!(role_in(&dev_iam, "steady").await, None, "its role left AWS with it");
    let deep_too = remove(&env, &nested_role("deep", &dev, 1)).await;
    deep_too.expect("a deep role never made is deleted too");
}

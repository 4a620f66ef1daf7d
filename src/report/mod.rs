//! `aws-access-operator report`: who can assume what, read from AWS rather
//! than from the specs. Each account's inventory (one
//! GetAccountAuthorizationDetails) gives its roles with their trust
//! policies and owner tags, and its groups with members and policies;
//! `analyze` puts the two halves of cross-account access together.
//!
//! Service-linked roles (path `/aws-service-role/`) are left out: AWS
//! makes and trusts them, and no user can assume them.
//!
//! `review` adds the security review: the identities (`identities`, from the
//! credential report and the same listing), escalation paths (`escalation`),
//! and the organization's SCPs (`organization`); every finding names the
//! object that manages what it is about, or says none does.

mod elevations;
mod escalation;
mod guardrails;
mod html;
mod identities;
pub mod metrics;
mod organization;
mod render;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use futures::StreamExt;
use serde::Serialize;
use serde_json::Value;

pub use elevations::{Elevation, Elevations, SessionsDenied};
use guardrails::findings as guardrail_findings;
pub use html::html;
pub use identities::{ManagedGroups, Thresholds};
pub use organization::OrgTree;
pub use render::{csv, markdown, svg};

use crate::api::{AwsAccount, DeveloperGroup};
use crate::aws::{AccountDetails, Aws, CredentialReport, GroupState, OrgAccountState, RoleState, credential_report};
use crate::controller::developer_group::ASSUME_POLICY_NAME;
use crate::controller::ownership::{OWNER_TAG, parse_owner};
use crate::policy::document::normalize;

/// What AWS holds: the accounts of the organization, each read whole.
#[derive(Clone, Debug, Default)]
pub struct Inventory {
    /// Every account of the organization, id → name, those read and those not.
    pub organization: BTreeMap<String, String>,
    pub accounts: BTreeMap<String, AccountDetails>,
    /// Each account's credential report, where it was read.
    pub credentials: BTreeMap<String, CredentialReport>,
    /// The OUs and SCPs; None when the organization could not be read.
    pub tree: Option<OrgTree>,
    /// What could not be read (the organization, an account), as findings.
    pub unread: Vec<Finding>,
}

/// How `gather` reads, and what `review` counts as old.
#[derive(Clone, Debug)]
pub struct ReviewOptions {
    /// The role to enter member accounts through.
    pub access_role: String,
    /// A credential report younger than this is read rather than made again.
    pub credential_report_max_age: Duration,
    pub thresholds: Thresholds,
}

/// Accounts read at once.
const ACCOUNTS_IN_FLIGHT: usize = 8;

/// Reads every active account of the organization (and the operator's
/// own, should it not be a member) through `access_role`, as the operator
/// does: its listing and its credential report; then the organization's
/// OUs and SCPs.
pub async fn gather(aws: &dyn Aws, options: &ReviewOptions) -> anyhow::Result<Inventory> {
    let own = aws.own_account_id().await?;
    let mut inventory = Inventory::default();
    let listed = aws.organizations().list_accounts().await;
    let in_organization = listed.is_ok();
    let mut organization: BTreeMap<String, String> = match listed {
        Ok(accounts) => accounts
            .into_iter()
            // A closed account keeps its roles, but no one can use them.
            .filter(|account| account.state == OrgAccountState::Active)
            .map(|account| (account.id, account.name))
            .collect(),
        // An account in no organization, or credentials that may not list it:
        // the own account is still worth reporting, with the reason.
        Err(err) if !err.kind.retryable() => {
            inventory.unread.push(Finding::new(
                Severity::Medium,
                &format!("arn:aws:iam::{own}:root"),
                format!("the organization could not be listed, so only account {own} is reported: {err}"),
            ));
            BTreeMap::new()
        }
        Err(err) => return Err(err.into()),
    };
    organization.entry(own.clone()).or_default();
    inventory.organization = organization;
    read_accounts(aws, options, &mut inventory).await;
    if in_organization {
        match organization::read(aws.organizations().as_ref(), &own).await {
            Ok(tree) => inventory.tree = Some(tree),
            Err(err) => inventory.unread.push(Finding::new(
                Severity::Low,
                &format!("arn:aws:iam::{own}:root"),
                format!("the organization's OUs and service control policies could not be read: {err}"),
            )),
        }
    }
    Ok(inventory)
}

/// Each account's listing and credential report, a few accounts at a time;
/// an account that cannot be read becomes a finding that says so.
async fn read_accounts(aws: &dyn Aws, options: &ReviewOptions, inventory: &mut Inventory) {
    let now = options.thresholds.now;
    let ids: Vec<String> = inventory.organization.keys().cloned().collect();
    let mut reads = futures::stream::iter(ids)
        .map(|id| async move {
            let read = async {
                let iam = aws.iam(&id, &options.access_role).await?;
                let credentials = credential_report::read(iam.as_ref(), now, options.credential_report_max_age);
                Ok::<_, crate::aws::AwsError>(futures::join!(iam.account_details(), credentials))
            };
            let read = read.await;
            (id, read)
        })
        .buffer_unordered(ACCOUNTS_IN_FLIGHT);
    while let Some((id, read)) = reads.next().await {
        let unread = |what: &str, err: crate::aws::AwsError| {
            Finding::new(
                Severity::Medium,
                &format!("arn:aws:iam::{id}:root"),
                format!("account {id} could not be read, so {what} missing here: {err}"),
            )
        };
        let (details, credentials) = match read {
            Ok(both) => both,
            Err(err) => {
                inventory.unread.push(unread("its roles and users are", err));
                continue;
            }
        };
        match details {
            Ok(details) => {
                inventory.accounts.insert(id.clone(), details);
            }
            Err(err) => inventory.unread.push(unread("its roles and users are", err)),
        }
        match credentials {
            Ok(credentials) => {
                inventory.credentials.insert(id.clone(), credentials);
            }
            Err(err) => inventory
                .unread
                .push(unread("its credential report (passwords, MFA, keys) is", err)),
        }
    }
}

/// What the report reads from the cluster: the AwsAccounts (their
/// guardrails) and which IAM groups DeveloperGroups manage.
#[derive(Clone, Debug)]
pub struct ClusterView {
    pub accounts: Result<Vec<AwsAccount>, String>,
    pub managed_groups: ManagedGroups,
}

impl ClusterView {
    /// Reads both; what cannot be read is said in the report, not fatal.
    pub async fn read(client: anyhow::Result<kube::Client>) -> ClusterView {
        let client = match client {
            Ok(client) => client,
            Err(err) => {
                return ClusterView {
                    accounts: Err(format!("{err:#}")),
                    managed_groups: None,
                };
            }
        };
        let accounts =
            crate::controller::list_guarded(&kube::Api::<AwsAccount>::all(client.clone()), &Default::default())
                .await
                .map_err(|err| format!("{err:#}"));
        let groups = kube::Api::<DeveloperGroup>::all(client).list(&Default::default()).await;
        let managed_groups = groups.ok().map(|groups| {
            groups
                .items
                .iter()
                .filter_map(|group| {
                    let status = group.status.as_ref()?;
                    status.ownership.as_ref()?;
                    let owner = crate::controller::ownership::object_id(group);
                    Some((status.group_arn.clone()?, owner))
                })
                .collect()
        });
        ClusterView {
            accounts,
            managed_groups,
        }
    }
}

/// The whole review, as `report` prints it and the operator counts it.
pub async fn review(aws: &dyn Aws, cluster: &ClusterView, options: &ReviewOptions) -> anyhow::Result<Report> {
    let inventory = gather(aws, options).await?;
    let own = aws.own_account_id().await?;
    Ok(assess(&inventory, cluster, &own, &options.thresholds))
}

/// Every finding about `inventory`: who can assume what, the identities,
/// escalation, the elevations, the organization and the AwsAccounts' guardrails.
pub fn assess(inventory: &Inventory, cluster: &ClusterView, own: &str, thresholds: &Thresholds) -> Report {
    let mut report = analyze(inventory);
    report
        .findings
        .extend(identities::findings(inventory, thresholds, &cluster.managed_groups));
    report.findings.extend(escalation::findings(inventory));
    report.elevations = elevations::read(inventory, thresholds.now);
    report.findings.extend(elevations::findings(&report.elevations));
    if let Some(tree) = &inventory.tree {
        report
            .findings
            .extend(organization::findings(tree, &inventory.organization));
    }
    add_guardrail_findings(&mut report, inventory, cluster.accounts.clone(), own);
    report
}

/// `Kind/namespace/name` of the object an owner tag names.
fn owner_of(tags: &BTreeMap<String, String>) -> Option<String> {
    tags.get(OWNER_TAG).map(|tag| parse_owner(tag).0.to_owned())
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    High,
    Medium,
    Low,
}

impl Severity {
    pub const ALL: [Severity; 3] = [Severity::High, Severity::Medium, Severity::Low];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::High => "high",
            Severity::Medium => "medium",
            Severity::Low => "low",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Finding {
    pub severity: Severity,
    /// What it is about: an ARN (an account as its root).
    pub arn: String,
    pub message: String,
    /// `Kind/namespace/name` of the object that manages it; None: no object does.
    pub managed_by: Option<String>,
    /// What to change, when neither an object's path nor AWS alone says it: an elevation's
    /// grant names its AccessRequest, but not the request's namespace.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub change: Option<String>,
}

impl Finding {
    pub fn new(severity: Severity, arn: &str, message: String) -> Finding {
        Finding {
            severity,
            arn: arn.to_owned(),
            message,
            managed_by: None,
            change: None,
        }
    }

    pub fn change(self, change: String) -> Finding {
        Finding {
            change: Some(change),
            ..self
        }
    }

    pub fn managed_by(self, owner: Option<String>) -> Finding {
        Finding {
            managed_by: owner,
            ..self
        }
    }

    /// Where to make the change: the object, or AWS itself.
    pub fn what_to_change(&self) -> String {
        if let Some(change) = &self.change {
            return change.clone();
        }
        match &self.managed_by {
            Some(object) => {
                let mut parts = object.splitn(3, '/');
                let (kind, namespace, name) = (parts.next(), parts.next(), parts.next());
                match (kind, namespace, name) {
                    (Some(kind), Some(""), Some(name)) => format!("change {kind} {name}"),
                    (Some(kind), Some(namespace), Some(name)) => format!("change {kind} {namespace}/{name}"),
                    _ => format!("change {object}"),
                }
            }
            None => format!("not managed by the operator: change {} in AWS", self.arn),
        }
    }
}

/// An IAM user who may assume a role, and through what.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Assumer {
    pub user_arn: String,
    pub user: String,
    pub group: String,
    /// The group's policy that allows it.
    pub policy: String,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RoleReport {
    pub account_id: String,
    pub account_name: String,
    pub role_name: String,
    pub arn: String,
    /// `namespace/name` of the object that created it; None when the operator did not.
    pub managed_by: Option<String>,
    /// The kind of that object.
    pub managed_by_kind: Option<String>,
    /// Whom the trust policy allows to assume the role; empty when a Deny shuts everyone out.
    pub trusted_principals: Vec<String>,
    pub requires_mfa: bool,
    pub requires_external_id: bool,
    /// `aws:CurrentTime` must be before this (`DateLessThan`).
    pub valid_until: Option<String>,
    /// Trusted accounts that are not in the organization.
    pub outside_accounts: Vec<String>,
    pub assumable_by: Vec<Assumer>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Report {
    pub roles: Vec<RoleReport>,
    pub findings: Vec<Finding>,
    pub elevations: Elevations,
}

impl Report {
    /// The roles of each account, by (id, name), as the pages list them.
    pub fn roles_by_account(&self) -> BTreeMap<(&str, &str), Vec<&RoleReport>> {
        let mut by_account: BTreeMap<(&str, &str), Vec<&RoleReport>> = BTreeMap::new();
        for role in &self.roles {
            by_account
                .entry((role.account_id.as_str(), role.account_name.as_str()))
                .or_default()
                .push(role);
        }
        by_account
    }

    /// Whether a finding of `severity` or a worse one exists (`--fail-on`).
    pub fn fails_on(&self, severity: Severity) -> bool {
        self.findings.iter().any(|f| f.severity <= severity)
    }
}

const SERVICE_LINKED_PATH: &str = ":role/aws-service-role/";

/// The trust policy's Allow statements that let someone assume the role,
/// normalised (lowercase actions and condition keys, lists everywhere).
struct Trust {
    allows: Vec<Value>,
}

pub(crate) fn strings(value: &Value) -> Vec<&str> {
    match value {
        Value::Array(items) => items.iter().filter_map(Value::as_str).collect(),
        Value::String(item) => vec![item.as_str()],
        _ => vec![],
    }
}

/// `*` and `?` as IAM matches them in actions and resources.
fn glob(pattern: &str, text: &str) -> bool {
    match pattern.chars().next() {
        None => text.is_empty(),
        Some('*') => (0..=text.len())
            .filter(|&i| text.is_char_boundary(i))
            .any(|i| glob(&pattern[1..], &text[i..])),
        Some('?') => text
            .chars()
            .next()
            .is_some_and(|c| glob(&pattern[1..], &text[c.len_utf8()..])),
        Some(p) => text.starts_with(p) && glob(&pattern[p.len_utf8()..], &text[p.len_utf8()..]),
    }
}

fn allows_assume_role(statement: &Value) -> bool {
    strings(&statement["Action"])
        .iter()
        .any(|action| glob(action, "sts:assumerole"))
}

fn conditions<'a>(statement: &'a Value, key: &str) -> Vec<&'a str> {
    statement["Condition"]
        .as_object()
        .into_iter()
        .flat_map(|operators| operators.values())
        .flat_map(|keys| strings(&keys[key]))
        .collect()
}

fn principals(statement: &Value) -> Vec<&str> {
    statement["Principal"]
        .as_object()
        .into_iter()
        .flat_map(|by_type| by_type.values())
        .flat_map(strings)
        .collect()
}

fn aws_principals(statement: &Value) -> Vec<&str> {
    strings(&statement["Principal"]["AWS"])
}

/// The account an AWS principal belongs to: `arn:aws:iam::ID:...`.
fn account_of(principal: &str) -> Option<&str> {
    principal.split(':').nth(4).filter(|id| id.len() == 12)
}

impl Trust {
    fn of(role: &RoleState) -> Trust {
        let normalized = normalize(&role.trust_policy);
        let statements: Vec<Value> = match &normalized["Statement"] {
            Value::Array(items) => items.clone(),
            _ => vec![],
        };
        // A Deny on everyone without a condition: what the operator leaves
        // while the references saying who may are missing.
        let shut = statements.iter().any(|s| {
            s["Effect"] == "Deny"
                && aws_principals(s).contains(&"*")
                && s.get("Condition").is_none()
                && allows_assume_role(s)
        });
        let allows = statements
            .into_iter()
            .filter(|s| !shut && s["Effect"] == "Allow" && allows_assume_role(s))
            .collect();
        Trust { allows }
    }

    fn principals(&self) -> Vec<String> {
        let all: BTreeSet<&str> = self.allows.iter().flat_map(principals).collect();
        all.into_iter().map(String::from).collect()
    }

    /// Whether every Allow sets `key` to `value` (`every` for any value).
    fn all_require(&self, key: &str, value: Option<&str>) -> bool {
        !self.allows.is_empty()
            && self.allows.iter().all(|s| {
                let values = conditions(s, key);
                !values.is_empty() && value.is_none_or(|v| values.contains(&v))
            })
    }

    /// Whether some Allow admits `user_arn` of `account`: the user, its account, or everyone.
    fn admits(&self, account: &str, user_arn: &str) -> bool {
        let root = crate::policy::trust::account_root_arn(account);
        self.allows.iter().any(|s| {
            aws_principals(s)
                .iter()
                .any(|p| *p == "*" || *p == root || *p == user_arn)
        })
    }
}

/// A group's policy documents by name: its inline ones and the
/// customer-managed ones attached to it (their default version), which
/// the account's listing carries. AWS-managed ones it does not.
fn group_documents<'a>(group: &'a GroupState, details: &'a AccountDetails) -> Vec<(&'a str, &'a Value)> {
    let inline = group
        .inline_policies
        .iter()
        .map(|(name, document)| (name.as_str(), document));
    let managed = details
        .policies
        .iter()
        .filter(|(_, policy)| group.managed_policy_arns.contains(&policy.arn))
        .map(|(name, policy)| (name.as_str(), &policy.document));
    inline.chain(managed).collect()
}

/// The policies among `documents` that allow assuming `role_arn`, unless one of them denies it.
fn granting(documents: &[(&str, &Value)], role_arn: &str) -> Vec<String> {
    let matches = |statement: &Value| {
        allows_assume_role(statement)
            && strings(&statement["Resource"])
                .iter()
                .any(|resource| glob(resource, role_arn))
    };
    let statements = |document: &Value| match &normalize(document)["Statement"] {
        Value::Array(items) => items.clone(),
        _ => vec![],
    };
    let denied = documents
        .iter()
        .flat_map(|(_, document)| statements(document))
        .any(|s| s["Effect"] == "Deny" && matches(&s));
    if denied {
        return vec![];
    }
    documents
        .iter()
        .filter(|(_, document)| {
            statements(document)
                .iter()
                .any(|s| s["Effect"] == "Allow" && matches(s))
        })
        .map(|(name, _)| name.to_string())
        .collect()
}

/// Puts trust and identity policies together, and finds what is risky.
pub fn analyze(inventory: &Inventory) -> Report {
    let mut report = Report::default();
    for (account_id, details) in &inventory.accounts {
        for (role_name, role) in &details.roles {
            if role.arn.contains(SERVICE_LINKED_PATH) {
                continue;
            }
            let trust = Trust::of(role);
            let entry = role_report(inventory, account_id, role_name, role, &trust);
            report.findings.extend(findings(&entry, &trust, inventory));
            report.roles.push(entry);
        }
    }
    report.findings.extend(inventory.unread.iter().cloned());
    report.findings.extend(unread_managed_policies(inventory));
    report
        .findings
        .sort_by(|a, b| (a.severity, &a.arn).cmp(&(b.severity, &b.arn)));
    report
}

fn role_report(
    inventory: &Inventory,
    account_id: &str,
    role_name: &str,
    role: &RoleState,
    trust: &Trust,
) -> RoleReport {
    let owner = role.tags.get(OWNER_TAG).map(|tag| parse_owner(tag).0);
    let (managed_by_kind, managed_by) = match owner.map(|o| o.split_once('/')) {
        Some(Some((kind, name))) => (Some(kind.to_owned()), Some(name.to_owned())),
        _ => (None, None),
    };
    RoleReport {
        account_id: account_id.to_owned(),
        account_name: inventory.organization.get(account_id).cloned().unwrap_or_default(),
        role_name: role_name.to_owned(),
        arn: role.arn.clone(),
        managed_by,
        managed_by_kind,
        trusted_principals: trust.principals(),
        requires_mfa: trust.all_require("aws:multifactorauthpresent", Some("true")),
        requires_external_id: trust.all_require("sts:externalid", None),
        valid_until: trust
            .allows
            .iter()
            .flat_map(|s| conditions(s, "aws:currenttime"))
            .next()
            .map(String::from),
        outside_accounts: trust
            .principals()
            .iter()
            .filter_map(|p| account_of(p))
            .filter(|a| !inventory.organization.contains_key(*a))
            .map(String::from)
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect(),
        assumable_by: assumers(inventory, role, trust),
    }
}

/// The users of every account whose group's policy lets them assume `role`
/// and whom its trust admits, in order.
fn assumers(inventory: &Inventory, role: &RoleState, trust: &Trust) -> Vec<Assumer> {
    let mut assumable_by = BTreeSet::new();
    for (user_account, users) in &inventory.accounts {
        for (group_name, group) in &users.groups {
            for policy in granting(&group_documents(group, users), &role.arn) {
                for member in &group.members {
                    let user_arn = users
                        .users
                        .get(member)
                        .cloned()
                        .unwrap_or_else(|| format!("arn:aws:iam::{user_account}:user/{member}"));
                    if trust.admits(user_account, &user_arn) {
                        assumable_by.insert(Assumer {
                            user_arn,
                            user: member.clone(),
                            group: group_name.clone(),
                            policy: policy.clone(),
                        });
                    }
                }
            }
        }
    }
    assumable_by.into_iter().collect()
}

/// Adds the guardrail view: what breaks the guardrails of the AwsAccounts
/// read from the cluster, or, when they could not be read, a finding that
/// says so.
pub fn add_guardrail_findings(
    report: &mut Report,
    inventory: &Inventory,
    accounts: Result<Vec<crate::api::AwsAccount>, String>,
    own: &str,
) {
    match accounts {
        Ok(accounts) => report.findings.extend(guardrail_findings(inventory, &accounts, own)),
        Err(err) => report.findings.push(Finding::new(
            Severity::Low,
            &format!("arn:aws:iam::{own}:root"),
            format!("the guardrails were not checked: the cluster's AwsAccounts could not be read ({err})"),
        )),
    }
    report
        .findings
        .sort_by(|a, b| (a.severity, &a.arn).cmp(&(b.severity, &b.arn)));
}

/// AWS-managed policies' documents are not in the inventory, so what they
/// let a group's members assume is not shown: said, not guessed.
fn unread_managed_policies(inventory: &Inventory) -> Vec<Finding> {
    let mut found = vec![];
    for details in inventory.accounts.values() {
        let readable: BTreeSet<&str> = details.policies.values().map(|p| p.arn.as_str()).collect();
        for (name, group) in &details.groups {
            let unread: Vec<&str> = group
                .managed_policy_arns
                .iter()
                .map(String::as_str)
                .filter(|arn| !readable.contains(arn))
                .collect();
            if unread.is_empty() || group.members.is_empty() {
                continue;
            }
            found.push(Finding::new(
                Severity::Low,
                &group.arn,
                format!(
                    "group {name} has AWS-managed policies ({}) whose documents the report does not read: its members may assume roles not listed here",
                    unread.join(", ")
                ),
            ));
        }
    }
    found
}

fn findings(role: &RoleReport, trust: &Trust, inventory: &Inventory) -> Vec<Finding> {
    let owner = role
        .managed_by_kind
        .as_ref()
        .zip(role.managed_by.as_ref())
        .map(|(kind, name)| format!("{kind}/{name}"));
    let finding = |severity, message: String| Finding::new(severity, &role.arn, message).managed_by(owner.clone());
    let mut found = vec![];
    for statement in &trust.allows {
        let has_external_id = !conditions(statement, "sts:externalid").is_empty();
        for principal in aws_principals(statement) {
            if principal == "*" {
                let severity = match statement.get("Condition") {
                    None => Severity::High,
                    Some(_) => Severity::Medium,
                };
                found.push(finding(
                    severity,
                    "trusts every AWS principal (Principal \"*\"); only its conditions limit who may assume it".into(),
                ));
                continue;
            }
            let Some(account) = account_of(principal).filter(|a| !inventory.organization.contains_key(*a)) else {
                continue;
            };
            if role.managed_by.is_none() {
                found.push(finding(
                    Severity::High,
                    format!("trusts {principal}, outside the organization, and no object of the operator manages it"),
                ));
            }
            if !has_external_id {
                found.push(finding(
                    Severity::Medium,
                    format!("trusts account {account}, outside the organization, without requiring an external ID"),
                ));
            }
        }
    }
    for assumer in &role.assumable_by {
        if assumer.policy != ASSUME_POLICY_NAME {
            found.push(finding(
                Severity::Medium,
                format!(
                    "{} may assume it through policy {} of group {}, which no DeveloperGroup manages",
                    assumer.user_arn, assumer.policy, assumer.group
                ),
            ));
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde_json::json;

    use super::*;
    use crate::aws::GroupState;

    const ORG: [&str; 2] = ["111111111111", "222222222222"];

    fn role(account: &str, name: &str, trust: Value, owner: Option<&str>) -> RoleState {
        RoleState {
            arn: format!("arn:aws:iam::{account}:role/{name}"),
            trust_policy: trust,
            tags: owner
                .map(|o| BTreeMap::from([(OWNER_TAG.to_string(), o.to_string())]))
                .unwrap_or_default(),
            ..RoleState::default()
        }
    }

    fn inventory() -> Inventory {
        Inventory {
            organization: ORG.iter().map(|id| (id.to_string(), format!("name-{id}"))).collect(),
            accounts: BTreeMap::from([(ORG[0].to_string(), identity()), (ORG[1].to_string(), target())]),
            ..Inventory::default()
        }
    }

    /// Two groups of the identity account granting sts:AssumeRole: the operator's, and one made by hand.
    fn identity() -> AccountDetails {
        AccountDetails {
            groups: BTreeMap::from([
                (
                    "devs".to_string(),
                    GroupState {
                        members: ["alice".to_string()].into(),
                        inline_policies: BTreeMap::from([(
                            ASSUME_POLICY_NAME.to_string(),
                            json!({"Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "arn:aws:iam::222222222222:role/Dev*"}]}),
                        )]),
                        ..GroupState::default()
                    },
                ),
                (
                    "by-hand".to_string(),
                    GroupState {
                        arn: "arn:aws:iam::111111111111:group/by-hand".into(),
                        members: ["bob".to_string()].into(),
                        managed_policy_arns: ["arn:aws:iam::aws:policy/PowerUserAccess".to_string()].into(),
                        inline_policies: BTreeMap::from([(
                            "anything".to_string(),
                            json!({"Statement": [{"Effect": "Allow", "Action": "sts:*", "Resource": "*"}]}),
                        )]),
                    },
                ),
            ]),
            users: BTreeMap::from([
                ("alice".to_string(), "arn:aws:iam::111111111111:user/alice".to_string()),
                ("bob".to_string(), "arn:aws:iam::111111111111:user/bob".to_string()),
            ]),
            ..AccountDetails::default()
        }
    }

    /// Roles trusting the organization, a vendor, a partner and AWS itself.
    fn target() -> AccountDetails {
        AccountDetails {
            roles: [
                role(
                    "222222222222",
                    "DevAccess",
                    json!({"Statement": [{"Effect": "Allow", "Principal": {"AWS": "111111111111"}, "Action": "sts:AssumeRole", "Condition": {"Bool": {"aws:MultiFactorAuthPresent": true}}}]}),
                    Some("CrossAccountRole/alfie/dev-access@blue"),
                ),
                role(
                    "222222222222",
                    "Vendor",
                    json!({"Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::999999999999:root"}, "Action": "sts:AssumeRole"}]}),
                    None,
                ),
                role(
                    "222222222222",
                    "Partner",
                    json!({"Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::999999999999:root"}, "Action": "sts:AssumeRole", "Condition": {"StringEquals": {"sts:ExternalId": "s3cret"}, "DateLessThan": {"aws:CurrentTime": "2027-01-31T00:00:00Z"}}}]}),
                    Some("CrossAccountRole/partners/sembit"),
                ),
                role(
                    "222222222222",
                    "aws-service-role/support.amazonaws.com/AWSServiceRoleForSupport",
                    json!({"Statement": [{"Effect": "Allow", "Principal": {"Service": "support.amazonaws.com"}, "Action": "sts:AssumeRole"}]}),
                    None,
                ),
            ]
            .into_iter()
            .map(|r| (r.arn.rsplit('/').next().unwrap_or_default().to_string(), r))
            .collect(),
            ..AccountDetails::default()
        }
    }

    fn role_named<'a>(report: &'a Report, name: &str) -> &'a RoleReport {
        report.roles.iter().find(|r| r.role_name == name).expect(name)
    }

    #[test]
    fn roles_say_whom_they_trust_on_what_conditions_and_who_may_assume_them() {
        let report = analyze(&inventory());
        assert_eq!(report.roles.len(), 3, "the service-linked role is left out");
        let dev = role_named(&report, "DevAccess");
        assert_eq!(dev.managed_by.as_deref(), Some("alfie/dev-access"));
        assert_eq!(dev.managed_by_kind.as_deref(), Some("CrossAccountRole"));
        assert_eq!(dev.trusted_principals, ["arn:aws:iam::111111111111:root"]);
        assert!(dev.requires_mfa && !dev.requires_external_id);
        let users: Vec<(&str, &str)> = dev
            .assumable_by
            .iter()
            .map(|a| (a.user.as_str(), a.group.as_str()))
            .collect();
        assert_eq!(users, [("alice", "devs"), ("bob", "by-hand")]);
        let partner = role_named(&report, "Partner");
        assert!(partner.requires_external_id && !partner.requires_mfa);
        assert_eq!(partner.valid_until.as_deref(), Some("2027-01-31T00:00:00Z"));
        assert!(
            partner.assumable_by.is_empty(),
            "the trust admits no one of the identity account"
        );
        let vendor = role_named(&report, "Vendor");
        assert!(vendor.managed_by.is_none());
        assert_eq!(vendor.outside_accounts, ["999999999999"]);
    }

    #[test]
    fn findings_flag_outside_trust_and_access_no_developer_group_manages() {
        let report = analyze(&inventory());
        let messages: Vec<(Severity, &str, &str)> = report
            .findings
            .iter()
            .map(|f| {
                (
                    f.severity,
                    f.arn.rsplit('/').next().unwrap_or_default(),
                    f.message.as_str(),
                )
            })
            .collect();
        assert_eq!(messages.len(), 4, "{messages:#?}");
        assert!(
            messages[0].0 == Severity::High
                && messages[0].1 == "Vendor"
                && messages[0].2.contains("no object of the operator manages it")
        );
        assert!(messages[1].1 == "DevAccess" && messages[1].2.contains("bob may assume it through policy anything"));
        assert!(messages[2].1 == "Vendor" && messages[2].2.contains("without requiring an external ID"));
        assert!(
            messages[3].0 == Severity::Low
                && messages[3].1 == "by-hand"
                && messages[3]
                    .2
                    .contains("AWS-managed policies (arn:aws:iam::aws:policy/PowerUserAccess) whose documents the report does not read")
        );
        let json = serde_json::to_value(&report).expect("json");
        assert!(!json.to_string().contains("s3cret"), "an external ID is never reported");
    }

    #[test]
    fn a_customer_managed_policy_attached_to_a_group_is_read_like_an_inline_one() {
        let mut inventory = inventory();
        let identity = inventory.accounts.get_mut(ORG[0]).expect("identity");
        let arn = "arn:aws:iam::111111111111:policy/assume-dev";
        identity.policies.insert(
            "assume-dev".into(),
            crate::aws::ManagedPolicyState {
                arn: arn.into(),
                document: json!({"Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "arn:aws:iam::222222222222:role/DevAccess"}]}),
                ..Default::default()
            },
        );
        identity.groups.insert(
            "ops".into(),
            GroupState {
                arn: "arn:aws:iam::111111111111:group/ops".into(),
                members: ["carol".to_string()].into(),
                managed_policy_arns: [arn.to_string()].into(),
                ..GroupState::default()
            },
        );
        let report = analyze(&inventory);
        let carol = role_named(&report, "DevAccess")
            .assumable_by
            .iter()
            .find(|a| a.user == "carol")
            .expect("carol may assume DevAccess");
        assert_eq!((carol.group.as_str(), carol.policy.as_str()), ("ops", "assume-dev"));
        assert!(
            !report.findings.iter().any(|f| f.arn.ends_with("group/ops")),
            "a policy whose document was read is not reported unread"
        );
    }

    #[test]
    fn a_trust_shut_by_a_deny_on_everyone_admits_no_one() {
        let mut inventory = inventory();
        let roles = &mut inventory.accounts.get_mut(ORG[1]).expect("account").roles;
        roles.get_mut("DevAccess").expect("role").trust_policy = crate::policy::trust::trust_nobody("222222222222");
        let report = analyze(&inventory);
        let dev = role_named(&report, "DevAccess");
        assert!(dev.trusted_principals.is_empty() && dev.assumable_by.is_empty());
    }

    #[test]
    fn fail_on_counts_findings_at_or_above_the_severity() {
        let medium = Report {
            findings: vec![Finding::new(Severity::Medium, "arn:x", "m".into())],
            ..Report::default()
        };
        assert!(!medium.fails_on(Severity::High));
        assert!(medium.fails_on(Severity::Medium) && medium.fails_on(Severity::Low));
        assert!(!Report::default().fails_on(Severity::Low));
    }

    #[test]
    fn globs_match_as_iam_does() {
        assert!(glob("sts:*", "sts:assumerole"));
        assert!(glob("*", "anything"));
        assert!(glob("arn:aws:iam::1:role/Dev?ccess", "arn:aws:iam::1:role/DevAccess"));
        assert!(!glob("arn:aws:iam::1:role/Dev", "arn:aws:iam::1:role/DevAccess"));
    }
}

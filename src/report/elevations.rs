//! Access on request as AWS holds it: each grant (the inline policy
//! `awsaccess-elevation-<request>` on a user) read back into the roles it
//! allows and until when, and the roles whose Deny on older sessions says an
//! access ended recently. From the account listings alone: `report` needs no
//! cluster for it, and no AWS call beyond the listing.

use std::collections::BTreeSet;

use k8s_openapi::jiff::Timestamp;
use serde::Serialize;
use serde_json::Value;

use super::{Finding, Inventory, Severity, strings};
use crate::controller::access_request::plan::POLICY_PREFIX;
use crate::controller::cross_account_role::REVOKE_POLICY_NAME;
use crate::policy::document::normalize;
use crate::policy::validate::validate_role_arn;

/// A grant on a user, as its document reads.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Elevation {
    pub account_id: String,
    pub user: String,
    pub user_arn: String,
    /// The AccessRequest's name: AWS does not hold its namespace.
    pub request: String,
    pub policy: String,
    pub role_arns: Vec<String>,
    /// The latest `DateLessThan aws:CurrentTime` of its Allows; None when one has none.
    pub until: Option<Timestamp>,
    /// Whether AWS honours it at the report's time.
    pub in_force: bool,
    /// What it allows beyond what the operator writes; empty for a grant as written.
    pub beyond_the_grant: Vec<String>,
}

/// A role denying its sessions issued before an elevation of it ended or a member left.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionsDenied {
    pub account_id: String,
    pub role: String,
    pub role_arn: String,
    /// The latest `DateLessThan aws:TokenIssueTime` of its Deny.
    pub issued_before: Option<Timestamp>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Elevations {
    pub grants: Vec<Elevation>,
    pub sessions_denied: Vec<SessionsDenied>,
}

/// The grants on every user and the roles denying older sessions, at `now`.
pub fn read(inventory: &Inventory, now: Timestamp) -> Elevations {
    let mut elevations = Elevations::default();
    for (account_id, details) in &inventory.accounts {
        for (user, permissions) in &details.user_permissions {
            for (policy, document) in &permissions.inline_policies {
                let Some(request) = policy.strip_prefix(POLICY_PREFIX) else {
                    continue;
                };
                let grant = Grant::of(document);
                elevations.grants.push(Elevation {
                    account_id: account_id.clone(),
                    user: user.clone(),
                    user_arn: details
                        .users
                        .get(user)
                        .cloned()
                        .unwrap_or_else(|| format!("arn:aws:iam::{account_id}:user/{user}")),
                    request: request.to_owned(),
                    policy: policy.clone(),
                    in_force: grant.in_force(now),
                    role_arns: grant.role_arns.into_iter().collect(),
                    until: grant.until,
                    beyond_the_grant: grant.beyond,
                });
            }
        }
        for (role, state) in &details.roles {
            let Some(document) = state.inline_policies.get(REVOKE_POLICY_NAME) else {
                continue;
            };
            let denies = statements(document).filter(|s| s["Effect"] == "Deny");
            elevations.sessions_denied.push(SessionsDenied {
                account_id: account_id.clone(),
                role: role.clone(),
                role_arn: state.arn.clone(),
                issued_before: denies.filter_map(|s| date_less_than(&s, "aws:tokenissuetime")).max(),
            });
        }
    }
    elevations
}

/// A document's statements, normalised (lowercase actions and condition keys, lists everywhere).
fn statements(document: &Value) -> impl Iterator<Item = Value> {
    match normalize(document) {
        Value::Object(mut fields) => match fields.remove("Statement") {
            Some(Value::Array(items)) => items,
            _ => vec![],
        },
        _ => vec![],
    }
    .into_iter()
}

/// The latest date a normalised statement's `DateLessThan` sets `key` to: any of its values
/// satisfies IAM, so the latest is the end. None when it sets none the report can read.
fn date_less_than(statement: &Value, key: &str) -> Option<Timestamp> {
    strings(&statement["Condition"]["DateLessThan"][key])
        .iter()
        .filter_map(|date| date.parse().ok())
        .max()
}

/// What a grant's Allows come to. A Deny in it only takes away, so it is not read.
#[derive(Default)]
struct Grant {
    role_arns: BTreeSet<String>,
    until: Option<Timestamp>,
    /// An Allow without an end: AWS honours it for ever.
    open_ended: bool,
    beyond: Vec<String>,
}

impl Grant {
    /// The operator writes `sts:AssumeRole` on one role ARN until a date; anything else is noted.
    fn of(document: &Value) -> Grant {
        let mut grant = Grant::default();
        for statement in statements(document).filter(|s| s["Effect"] == "Allow") {
            for key in ["NotAction", "NotResource", "NotPrincipal"] {
                if statement.get(key).is_some() {
                    grant.beyond.push(format!("an Allow with {key}"));
                }
            }
            for action in strings(&statement["Action"]) {
                if action != "sts:assumerole" {
                    grant.beyond.push(format!("action {action}"));
                }
            }
            for resource in strings(&statement["Resource"]) {
                if validate_role_arn(resource).is_ok() && !resource.contains(['*', '?']) {
                    grant.role_arns.insert(resource.to_owned());
                } else {
                    grant.beyond.push(format!("resource {resource}"));
                }
            }
            match date_less_than(&statement, "aws:currenttime") {
                Some(end) => grant.until = grant.until.max(Some(end)),
                None => grant.open_ended = true,
            }
        }
        if grant.open_ended {
            grant.until = None;
            grant
                .beyond
                .push("an Allow with no DateLessThan aws:CurrentTime end".into());
        }
        grant
    }

    fn in_force(&self, now: Timestamp) -> bool {
        self.open_ended || self.until.is_some_and(|until| now < until)
    }
}

/// A grant still attached after its end (low: AWS refuses it already, but
/// the operator, down or failing, has not removed it), and a grant that
/// allows more than the operator writes (medium: someone changed it).
pub fn findings(elevations: &Elevations) -> Vec<Finding> {
    let mut found = vec![];
    for grant in &elevations.grants {
        let Elevation {
            user, request, policy, ..
        } = grant;
        let finding = |severity, message: String, change: String| {
            Finding::new(severity, &grant.user_arn, message)
                .change(format!("the AccessRequest {request}: {change}; if that request is gone, delete inline policy {policy} from user {user} in AWS"))
        };
        if !grant.in_force {
            let ended = grant
                .until
                .map_or_else(|| "has ended".to_string(), |at| format!("ended at {at}"));
            found.push(finding(
                Severity::Low,
                format!("user {user} still holds the grant of the AccessRequest {request} (inline policy {policy}), which {ended}: AWS refuses it, but the operator has not removed it (was it down, or failing?)"),
                "the operator removes the grant when it next reconciles it".into(),
            ));
        }
        if !grant.beyond_the_grant.is_empty() {
            found.push(finding(
                Severity::Medium,
                format!(
                    "user {user}'s grant of the AccessRequest {request} (inline policy {policy}) allows more than the operator writes: {}",
                    grant.beyond_the_grant.join("; ")
                ),
                format!("find who changed it (CloudTrail, PutUserPolicy on user {user}); the operator writes the grant back as approved, or removes it once ended, when it next reconciles the request"),
            ));
        }
    }
    found
}

/// A table of the Elevations section, which markdown and HTML render alike.
pub struct Table {
    pub title: &'static str,
    pub header: &'static [&'static str],
    pub rows: Vec<Vec<String>>,
}

impl Elevations {
    /// The grants in force, those ended but still attached, and the roles
    /// denying older sessions: the tables with rows.
    pub fn tables(&self) -> Vec<Table> {
        // A grant without a date has no end; a Deny without one, none the report can read.
        let date = |at: Option<Timestamp>, none: &str| at.map_or_else(|| none.to_string(), |at| at.to_string());
        let grants = |in_force: bool| -> Vec<Vec<String>> {
            self.grants
                .iter()
                .filter(|grant| grant.in_force == in_force)
                .map(|grant| {
                    let roles = grant.role_arns.join(", ");
                    vec![
                        grant.user.clone(),
                        roles,
                        date(grant.until, "no end"),
                        grant.request.clone(),
                    ]
                })
                .collect()
        };
        let denying = self
            .sessions_denied
            .iter()
            .map(|role| vec![role.role_arn.clone(), date(role.issued_before, "unreadable")])
            .collect();
        [
            Table {
                title: "In force",
                header: &["User", "Role", "Until", "AccessRequest"],
                rows: grants(true),
            },
            Table {
                title: "Ended, still attached",
                header: &["User", "Role", "Ended at", "AccessRequest"],
                rows: grants(false),
            },
            Table {
                title: "Roles denying sessions issued before an end",
                header: &["Role", "Sessions issued before"],
                rows: denying,
            },
        ]
        .into_iter()
        .filter(|table| !table.rows.is_empty())
        .collect()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde_json::json;

    use super::*;
    use crate::aws::{AccountDetails, RoleState};
    use crate::controller::access_request::plan::grant_document;
    use crate::policy::sessions::deny_sessions_issued_before;

    const IDENTITY: &str = "111111111111";
    const ROLE: &str = "arn:aws:iam::222222222222:role/AlfieProdOperator";

    fn at(text: &str) -> Timestamp {
        text.parse().expect("a time")
    }

    fn now() -> Timestamp {
        at("2026-12-06T09:30:00Z")
    }

    /// Users of the identity account with their inline policies, and a role of the target account.
    fn inventory(users: &[(&str, &str, Value)], role: Option<RoleState>) -> Inventory {
        let mut identity = AccountDetails::default();
        for (user, policy, document) in users {
            identity
                .users
                .insert(user.to_string(), format!("arn:aws:iam::{IDENTITY}:user/{user}"));
            let permissions = identity.user_permissions.entry(user.to_string()).or_default();
            permissions.inline_policies.insert(policy.to_string(), document.clone());
        }
        let mut target = AccountDetails::default();
        target.roles.extend(role.map(|r| ("AlfieProdOperator".to_string(), r)));
        Inventory {
            accounts: BTreeMap::from([(IDENTITY.to_string(), identity), ("222222222222".to_string(), target)]),
            ..Inventory::default()
        }
    }

    #[test]
    fn grants_are_read_in_force_or_ended_and_other_inline_policies_ignored() {
        let users = [
            (
                "alice",
                "awsaccess-elevation-alice-rds",
                grant_document(ROLE, at("2026-12-06T10:00:00Z")),
            ),
            (
                "bob",
                "awsaccess-elevation-bob-rds",
                grant_document(ROLE, at("2026-12-06T09:00:00Z")),
            ),
            (
                "carol",
                "self-service",
                json!({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}),
            ),
        ];
        let elevations = read(&inventory(&users, None), now());
        let read: Vec<_> = elevations
            .grants
            .iter()
            .map(|e| (e.user.as_str(), e.request.as_str(), e.in_force, e.until))
            .collect();
        assert_eq!(
            read,
            [
                ("alice", "alice-rds", true, Some(at("2026-12-06T10:00:00Z"))),
                ("bob", "bob-rds", false, Some(at("2026-12-06T09:00:00Z"))),
            ]
        );
        let alice = &elevations.grants[0];
        assert_eq!(
            (alice.role_arns.as_slice(), alice.account_id.as_str()),
            ([ROLE.to_string()].as_slice(), IDENTITY)
        );
        assert_eq!(alice.user_arn, format!("arn:aws:iam::{IDENTITY}:user/alice"));
        assert!(elevations.grants.iter().all(|e| e.beyond_the_grant.is_empty()));
        assert!(elevations.sessions_denied.is_empty());

        let found = findings(&elevations);
        assert_eq!(found.len(), 1, "only the ended grant: {found:#?}");
        assert_eq!(
            (found[0].severity, found[0].arn.as_str()),
            (Severity::Low, "arn:aws:iam::111111111111:user/bob")
        );
        assert_eq!(
            found[0].message,
            "user bob still holds the grant of the AccessRequest bob-rds (inline policy awsaccess-elevation-bob-rds), which ended at 2026-12-06T09:00:00Z: AWS refuses it, but the operator has not removed it (was it down, or failing?)"
        );
        let change = found[0].what_to_change();
        assert!(
            change.starts_with("the AccessRequest bob-rds: the operator removes the grant"),
            "{change}"
        );
        assert!(!change.contains("not managed by the operator"), "{change}");
    }

    #[test]
    fn a_grant_widened_or_without_an_end_is_found_tampered() {
        let widened = json!({"Statement": [
            {"Effect": "Allow", "Action": ["sts:AssumeRole", "iam:*"], "Resource": [ROLE, "arn:aws:iam::222222222222:role/*"],
             "Condition": {"DateLessThan": {"aws:CurrentTime": "2026-12-06T10:00:00Z"}}},
            {"Effect": "Deny", "Action": "*", "Resource": "*"}
        ]});
        let endless = json!({"Statement": {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": ROLE}});
        let users = [
            ("alice", "awsaccess-elevation-alice-rds", widened),
            ("bob", "awsaccess-elevation-bob-rds", endless),
        ];
        let elevations = read(&inventory(&users, None), now());
        let beyond: Vec<_> = elevations.grants.iter().map(|e| e.beyond_the_grant.clone()).collect();
        assert_eq!(
            beyond,
            [
                vec![
                    "action iam:*".to_string(),
                    "resource arn:aws:iam::222222222222:role/*".to_string()
                ],
                vec!["an Allow with no DateLessThan aws:CurrentTime end".to_string()],
            ]
        );
        let bob = &elevations.grants[1];
        assert!(
            bob.in_force && bob.until.is_none(),
            "AWS honours an Allow without an end for ever"
        );
        let found = findings(&elevations);
        assert_eq!(found.len(), 2, "{found:#?}");
        assert!(found.iter().all(|f| f.severity == Severity::Medium));
        assert_eq!(
            found[0].message,
            "user alice's grant of the AccessRequest alice-rds (inline policy awsaccess-elevation-alice-rds) allows more than the operator writes: action iam:*; resource arn:aws:iam::222222222222:role/*"
        );
        assert!(
            found[1]
                .what_to_change()
                .contains("CloudTrail, PutUserPolicy on user bob")
        );
    }

    #[test]
    fn a_role_denying_older_sessions_is_an_end_and_the_tables_show_each_kind() {
        let role = RoleState {
            arn: ROLE.into(),
            inline_policies: BTreeMap::from([(
                REVOKE_POLICY_NAME.to_string(),
                deny_sessions_issued_before(at("2026-12-06T09:00:01Z")),
            )]),
            ..RoleState::default()
        };
        let users = [(
            "alice",
            "awsaccess-elevation-alice-rds",
            grant_document(ROLE, at("2026-12-06T10:00:00Z")),
        )];
        let elevations = read(&inventory(&users, Some(role)), now());
        assert_eq!(
            elevations.sessions_denied,
            [SessionsDenied {
                account_id: "222222222222".into(),
                role: "AlfieProdOperator".into(),
                role_arn: ROLE.into(),
                issued_before: Some(at("2026-12-06T09:00:01Z")),
            }]
        );
        let tables: Vec<_> = elevations.tables().into_iter().map(|t| (t.title, t.rows)).collect();
        assert_eq!(
            tables,
            [
                (
                    "In force",
                    vec![vec![
                        "alice".to_string(),
                        ROLE.into(),
                        "2026-12-06T10:00:00Z".into(),
                        "alice-rds".into()
                    ]]
                ),
                (
                    "Roles denying sessions issued before an end",
                    vec![vec![ROLE.to_string(), "2026-12-06T09:00:01Z".into()]]
                ),
            ]
        );
        assert!(Elevations::default().tables().is_empty());
    }
}

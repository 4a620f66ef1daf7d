//! Who can make themselves administrator through IAM alone (the methods
//! PMapper and Rhino Security list): keys or passwords for an administrator,
//! policies put on themselves, their group or a role they may assume, a new
//! default version of a policy they hold, a trust rewritten and then
//! assumed, a seat in an administrators' group. Passing an administrator
//! role to a service is reported as possible: what the service would then
//! run is not read.
//!
//! A pure function of the inventory. Each principal's policies are read as
//! IAM evaluates one account's identity policies: an explicit unconditional
//! Deny wins, an Allow's conditions are taken as met (a review should rather
//! say too much). AWS-managed policies count where `aws_managed_policy`
//! knows them.

use std::collections::BTreeSet;

use serde_json::Value;

use super::{Finding, Inventory, SERVICE_LINKED_PATH, Severity, Trust, owner_of, strings};
use crate::aws::{AccountDetails, GroupState};
use crate::policy::document::normalize;
use crate::policy::glob;
use crate::policy::guardrails::aws_managed_policy;

/// One statement of a principal's policies, actions lowercased.
struct Grant {
    allow: bool,
    actions: Vec<String>,
    not_action: bool,
    resources: Vec<String>,
    not_resource: bool,
    conditional: bool,
    policy: String,
}

impl Grant {
    fn matches(&self, action: &str, resource: &str) -> bool {
        let action_listed = self.actions.iter().any(|a| glob::matches(a, action));
        let resource_listed = self.resources.iter().any(|r| glob::matches(r, resource));
        action_listed != self.not_action && resource_listed != self.not_resource
    }

    /// `*` on `*`, unconditionally.
    fn everything(&self) -> bool {
        let every = |items: &[String], not: bool| !not && items.iter().any(|i| i == "*" || i == "*:*");
        self.allow
            && !self.conditional
            && every(&self.actions, self.not_action)
            && every(&self.resources, self.not_resource)
    }
}

/// The statements of `document`, `${aws:username}` read as `user`.
fn grants(policy: &str, document: &Value, user: Option<&str>) -> Vec<Grant> {
    let normalized = normalize(document);
    let listed = |statement: &Value, key: &str, not_key: &str| -> (Vec<String>, bool) {
        let not = statement.get(not_key).is_some();
        let values = strings(&statement[if not { not_key } else { key }]);
        let values = values
            .iter()
            .map(|v| match user {
                Some(user) => v.replace("${aws:username}", user),
                None => v.to_string(),
            })
            .collect();
        (values, not)
    };
    normalized["Statement"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|statement| {
            let (actions, not_action) = listed(statement, "Action", "NotAction");
            let (resources, not_resource) = listed(statement, "Resource", "NotResource");
            Grant {
                allow: statement["Effect"] == "Allow",
                actions,
                not_action,
                resources,
                not_resource,
                conditional: statement.get("Condition").is_some(),
                policy: policy.to_owned(),
            }
        })
        .collect()
}

/// A user or role with every statement that applies to it.
struct Principal<'a> {
    kind: &'static str,
    name: &'a str,
    arn: &'a str,
    grants: Vec<Grant>,
    groups: BTreeSet<&'a str>,
    /// Customer-managed policies attached to it or its groups.
    attached: BTreeSet<&'a str>,
    owner: Option<String>,
}

impl Principal<'_> {
    /// The policy that allows `action` on `resource`, unless a Deny forbids it.
    fn allows(&self, action: &str, resource: &str) -> Option<&str> {
        let action = action.to_lowercase();
        let denied = self
            .grants
            .iter()
            .any(|g| !g.allow && !g.conditional && g.matches(&action, resource));
        if denied {
            return None;
        }
        self.grants
            .iter()
            .find(|g| g.allow && g.matches(&action, resource))
            .map(|g| g.policy.as_str())
    }
}

fn administrator(grants: &[Grant]) -> bool {
    grants.iter().any(Grant::everything) && !grants.iter().any(|g| !g.allow && !g.conditional)
}

/// The statements of inline policies and attached managed ones, by policy name.
fn documents_of<'a>(
    details: &'a AccountDetails,
    inline: &'a std::collections::BTreeMap<String, Value>,
    managed: &'a BTreeSet<String>,
    user: Option<&str>,
) -> Vec<Grant> {
    let mut found: Vec<Grant> = inline.iter().flat_map(|(name, doc)| grants(name, doc, user)).collect();
    for arn in managed {
        let customer = details
            .policies
            .values()
            .find(|p| &p.arn == arn)
            .map(|p| p.document.clone());
        if let Some(document) = customer.or_else(|| aws_managed_policy(arn)) {
            found.extend(grants(crate::aws::policy_name(arn), &document, user));
        }
    }
    found
}

fn group_grants(details: &AccountDetails, group: &GroupState) -> Vec<Grant> {
    documents_of(details, &group.inline_policies, &group.managed_policy_arns, None)
}

fn principals(details: &AccountDetails) -> Vec<Principal<'_>> {
    let customer: BTreeSet<&str> = details.policies.values().map(|p| p.arn.as_str()).collect();
    let mut found = vec![];
    for (name, permissions) in &details.user_permissions {
        let Some(arn) = details.users.get(name) else {
            continue;
        };
        let mut grants = documents_of(
            details,
            &permissions.inline_policies,
            &permissions.managed_policy_arns,
            Some(name),
        );
        let mut attached: BTreeSet<&str> = permissions.managed_policy_arns.iter().map(String::as_str).collect();
        for group in permissions.groups.iter().filter_map(|g| details.groups.get(g)) {
            grants.extend(documents_of(
                details,
                &group.inline_policies,
                &group.managed_policy_arns,
                Some(name),
            ));
            attached.extend(group.managed_policy_arns.iter().map(String::as_str));
        }
        attached.retain(|arn| customer.contains(arn));
        found.push(Principal {
            kind: "user",
            name,
            arn,
            grants,
            groups: permissions.groups.iter().map(String::as_str).collect(),
            attached,
            owner: owner_of(&permissions.tags),
        });
    }
    for (name, role) in details
        .roles
        .iter()
        .filter(|(_, r)| !r.arn.contains(SERVICE_LINKED_PATH))
    {
        found.push(Principal {
            kind: "role",
            name,
            arn: &role.arn,
            grants: documents_of(details, &role.inline_policies, &role.managed_policy_arns, None),
            groups: BTreeSet::new(),
            attached: role
                .managed_policy_arns
                .iter()
                .map(String::as_str)
                .filter(|arn| customer.contains(arn))
                .collect(),
            owner: owner_of(&role.tags),
        });
    }
    found
}

/// One way to administrator: the actions in order, on what, allowed by which policies.
#[derive(Clone)]
struct Method {
    chain: Vec<(&'static str, String)>,
    target: String,
    possible: bool,
}

impl Method {
    fn one(action: &'static str, resource: &str, target: String) -> Method {
        Method {
            chain: vec![(action, resource.to_owned())],
            target,
            possible: false,
        }
    }
}

/// What every principal of one account may aim at, worked out once:
/// methods toward its administrators (by their ARN), the roles with their
/// trust, and the administrators' groups.
struct Targets<'a> {
    account: &'a str,
    details: &'a AccountDetails,
    toward_administrators: Vec<(&'a str, Method)>,
    trusts: Vec<(&'a str, &'a str, Trust)>,
    administrator_groups: Vec<(&'a str, &'a str)>,
}

impl<'a> Targets<'a> {
    fn of(account: &'a str, details: &'a AccountDetails, everyone: &[Principal<'a>]) -> Targets<'a> {
        let toward_administrators = everyone
            .iter()
            .filter(|p| administrator(&p.grants))
            .flat_map(|p| toward_administrator(p).into_iter().map(move |m| (p.arn, m)))
            .collect();
        let trusts = details
            .roles
            .iter()
            .filter(|(_, role)| !role.arn.contains(SERVICE_LINKED_PATH))
            .map(|(name, role)| (name.as_str(), role.arn.as_str(), Trust::of(role)))
            .collect();
        let administrator_groups = details
            .groups
            .iter()
            .filter(|(_, group)| administrator(&group_grants(details, group)))
            .map(|(name, group)| (name.as_str(), group.arn.as_str()))
            .collect();
        Targets {
            account,
            details,
            toward_administrators,
            trusts,
            administrator_groups,
        }
    }
}

pub fn findings(inventory: &Inventory) -> Vec<Finding> {
    let mut found = vec![];
    for (account, details) in &inventory.accounts {
        let everyone = principals(details);
        let targets = Targets::of(account, details, &everyone);
        // One allowed everything already has what any method would give it.
        let allowed_everything = |p: &&Principal| p.grants.iter().any(Grant::everything);
        for principal in everyone.iter().filter(|p| !allowed_everything(p)) {
            for method in methods(&targets, principal) {
                if let Some(finding) = finding(principal, &method) {
                    found.push(finding);
                }
            }
        }
    }
    found
}

/// The finding for a method whose every step the principal's policies allow.
fn finding(principal: &Principal, method: &Method) -> Option<Finding> {
    let mut steps = vec![];
    for (action, resource) in &method.chain {
        let policy = principal.allows(action, resource)?;
        steps.push(format!("{action} on {resource} (policy {policy})"));
    }
    let (severity, may) = match method.possible {
        true => (Severity::Medium, "may possibly become administrator"),
        false => (Severity::High, "can become administrator"),
    };
    let message = format!(
        "{} {} {may}: {}; {}",
        principal.kind,
        principal.name,
        steps.join(", then "),
        method.target
    );
    Some(Finding::new(severity, principal.arn, message).managed_by(principal.owner.clone()))
}

/// The ways to act as an administrator user or role.
fn toward_administrator(administrator: &Principal) -> Vec<Method> {
    let target = format!("{} {} is an administrator", administrator.kind, administrator.name);
    let arn = administrator.arn;
    match administrator.kind {
        "user" => [
            "iam:CreateAccessKey",
            "iam:CreateLoginProfile",
            "iam:UpdateLoginProfile",
        ]
        .into_iter()
        .map(|action| Method::one(action, arn, target.clone()))
        .collect(),
        _ => vec![
            Method {
                chain: vec![
                    ("iam:UpdateAssumeRolePolicy", arn.to_owned()),
                    ("sts:AssumeRole", arn.to_owned()),
                ],
                target: target.clone(),
                possible: false,
            },
            Method {
                chain: vec![("iam:PassRole", arn.to_owned())],
                target: format!("{target}; a service it is passed to would act as it (services not read)"),
                possible: true,
            },
        ],
    }
}

/// Every method open to `principal` in its account, before its policies are checked.
fn methods(targets: &Targets, principal: &Principal) -> Vec<Method> {
    let mut found: Vec<Method> = targets
        .toward_administrators
        .iter()
        .filter(|(arn, _)| *arn != principal.arn)
        .map(|(_, method)| method.clone())
        .collect();
    found.extend(own_policies(targets, principal));
    if principal.kind == "user" {
        for (name, arn) in &targets.administrator_groups {
            if !principal.groups.contains(name) {
                let target = format!("group {name} is an administrators' group");
                found.push(Method::one("iam:AddUserToGroup", arn, target));
            }
        }
    }
    found
}

/// Policies written onto the principal itself, its groups, the roles it may
/// assume, or the customer-managed policies it holds.
fn own_policies(targets: &Targets, principal: &Principal) -> Vec<Method> {
    let details = targets.details;
    let mut found = vec![];
    let itself = "any policy on itself makes it one".to_string();
    let (put, attach) = match principal.kind {
        "user" => ("iam:PutUserPolicy", "iam:AttachUserPolicy"),
        _ => ("iam:PutRolePolicy", "iam:AttachRolePolicy"),
    };
    found.push(Method::one(put, principal.arn, itself.clone()));
    found.push(Method::one(attach, principal.arn, itself));
    for group in principal
        .groups
        .iter()
        .filter_map(|g| details.groups.get(*g).map(|s| (g, s)))
    {
        let target = format!("any policy on its group {} reaches it", group.0);
        found.push(Method::one("iam:PutGroupPolicy", &group.1.arn, target.clone()));
        found.push(Method::one("iam:AttachGroupPolicy", &group.1.arn, target));
    }
    for (name, arn, trust) in &targets.trusts {
        if *arn == principal.arn || !trust.admits(targets.account, principal.arn) {
            continue;
        }
        for action in ["iam:PutRolePolicy", "iam:AttachRolePolicy"] {
            found.push(Method {
                chain: vec![(action, arn.to_string()), ("sts:AssumeRole", arn.to_string())],
                target: format!("role {name} trusts it and would hold any policy"),
                possible: false,
            });
        }
    }
    for arn in &principal.attached {
        let target = format!("policy {} is attached to it", crate::aws::policy_name(arn));
        found.push(Method::one("iam:CreatePolicyVersion", arn, target.clone()));
        let older_versions = details.policies.values().any(|p| p.arn == *arn && p.versions.len() > 1);
        if older_versions {
            found.push(Method {
                chain: vec![("iam:SetDefaultPolicyVersion", arn.to_string())],
                target: format!("{target}; its older versions are not read"),
                possible: true,
            });
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde_json::json;

    use super::*;
    use crate::aws::{ManagedPolicyState, RoleState, UserPermissions};

    const ACCOUNT: &str = "111111111111";

    fn arn(kind: &str, name: &str) -> String {
        format!("arn:aws:iam::{ACCOUNT}:{kind}/{name}")
    }

    fn allow(actions: Value, resource: &str) -> Value {
        json!({"Statement": [{"Effect": "Allow", "Action": actions, "Resource": resource}]})
    }

    fn admin() -> Value {
        allow(json!("*"), "*")
    }

    /// An account with an administrator user, role and group, and `mallory`
    /// holding `policy` (inline) in group `devs`.
    fn account(policy: Value) -> AccountDetails {
        let mut details = AccountDetails::default();
        for (name, inline) in [("root-admin", Some(admin())), ("mallory", Some(policy))] {
            details.users.insert(name.into(), arn("user", name));
            let groups = match name {
                "mallory" => ["devs".to_string()].into(),
                _ => BTreeSet::new(),
            };
            details.user_permissions.insert(
                name.into(),
                UserPermissions {
                    groups,
                    inline_policies: inline.into_iter().map(|d| ("p".to_string(), d)).collect(),
                    ..UserPermissions::default()
                },
            );
        }
        details.roles.insert(
            "Admin".into(),
            RoleState {
                arn: arn("role", "Admin"),
                trust_policy: json!({"Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::222222222222:root"}, "Action": "sts:AssumeRole"}]}),
                managed_policy_arns: ["arn:aws:iam::aws:policy/AdministratorAccess".to_string()].into(),
                ..RoleState::default()
            },
        );
        details.groups.insert(
            "devs".into(),
            GroupState {
                arn: arn("group", "devs"),
                managed_policy_arns: [arn("policy", "dev-policy")].into(),
                ..GroupState::default()
            },
        );
        details.groups.insert(
            "admins".into(),
            GroupState {
                arn: arn("group", "admins"),
                inline_policies: BTreeMap::from([("all".to_string(), admin())]),
                ..GroupState::default()
            },
        );
        details.policies.insert(
            "dev-policy".into(),
            ManagedPolicyState {
                arn: arn("policy", "dev-policy"),
                document: allow(json!("s3:GetObject"), "*"),
                versions: vec!["v1".into(), "v2".into()],
                ..ManagedPolicyState::default()
            },
        );
        details
    }

    fn found(policy: Value) -> Vec<(Severity, String)> {
        let inventory = Inventory {
            accounts: BTreeMap::from([(ACCOUNT.to_string(), account(policy))]),
            ..Inventory::default()
        };
        findings(&inventory)
            .into_iter()
            .filter(|f| f.arn == arn("user", "mallory"))
            .map(|f| (f.severity, f.message))
            .collect()
    }

    fn one(policy: Value, expected: &str) {
        let found = found(policy);
        assert_eq!(found.len(), 1, "{found:#?}");
        assert_eq!(found[0].0, Severity::High);
        assert!(found[0].1.contains(expected), "{expected} in {}", found[0].1);
    }

    #[test]
    fn keys_and_passwords_for_an_administrator() {
        let admin_user = arn("user", "root-admin");
        one(
            allow(json!("iam:CreateAccessKey"), &admin_user),
            &format!("iam:CreateAccessKey on {admin_user} (policy p); user root-admin is an administrator"),
        );
        one(
            allow(json!("iam:CreateLoginProfile"), &admin_user),
            "iam:CreateLoginProfile",
        );
        one(
            allow(json!("iam:updateloginprofile"), "arn:aws:iam::*:user/root-*"),
            "iam:UpdateLoginProfile",
        );
    }

    #[test]
    fn policies_on_itself_and_its_group() {
        one(
            allow(json!("iam:PutUserPolicy"), "arn:aws:iam::*:user/${aws:username}"),
            "user mallory can become administrator: iam:PutUserPolicy on arn:aws:iam::111111111111:user/mallory",
        );
        one(
            allow(json!("iam:AttachUserPolicy"), &arn("user", "mallory")),
            "iam:AttachUserPolicy",
        );
        one(
            allow(json!("iam:PutGroupPolicy"), &arn("group", "devs")),
            "its group devs",
        );
        one(
            allow(json!("iam:AttachGroupPolicy"), &arn("group", "devs")),
            "iam:AttachGroupPolicy",
        );
    }

    #[test]
    fn a_role_it_may_assume_given_a_policy() {
        let mut details = account(allow(json!(["iam:PutRolePolicy", "sts:AssumeRole"]), "*"));
        details.roles.insert(
            "Deploy".into(),
            RoleState {
                arn: arn("role", "Deploy"),
                trust_policy: json!({"Statement": [{"Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:root")}, "Action": "sts:AssumeRole"}]}),
                ..RoleState::default()
            },
        );
        let inventory = Inventory {
            accounts: BTreeMap::from([(ACCOUNT.to_string(), details)]),
            ..Inventory::default()
        };
        let messages: Vec<String> = findings(&inventory)
            .into_iter()
            .filter(|f| f.arn == arn("user", "mallory"))
            .map(|f| f.message)
            .collect();
        assert!(
            messages.iter().any(
                |m| m.contains("iam:PutRolePolicy on arn:aws:iam::111111111111:role/Deploy")
                    && m.contains("role Deploy trusts it")
            ),
            "{messages:#?}"
        );
        assert!(
            !messages
                .iter()
                .any(|m| m.contains("iam:PutRolePolicy on arn:aws:iam::111111111111:role/Admin")),
            "Admin's trust does not admit mallory: {messages:#?}"
        );
    }

    #[test]
    fn a_new_version_of_a_policy_it_holds_and_an_older_one_possibly() {
        let dev_policy = arn("policy", "dev-policy");
        one(
            allow(json!("iam:CreatePolicyVersion"), &dev_policy),
            "policy dev-policy is attached to it",
        );
        let found = found(allow(json!("iam:SetDefaultPolicyVersion"), &dev_policy));
        assert_eq!(found.len(), 1, "{found:#?}");
        assert_eq!(
            found[0].0,
            Severity::Medium,
            "possible: the older versions are not read"
        );
    }

    #[test]
    fn a_trust_rewritten_then_assumed_and_a_passed_role() {
        let role = arn("role", "Admin");
        one(
            allow(json!(["iam:UpdateAssumeRolePolicy", "sts:AssumeRole"]), &role),
            &format!(
                "iam:UpdateAssumeRolePolicy on {role} (policy p), then sts:AssumeRole on {role} (policy p); role Admin is an administrator"
            ),
        );
        assert!(
            found(allow(json!("iam:UpdateAssumeRolePolicy"), &role)).is_empty(),
            "both steps are needed"
        );
        let passed = found(allow(json!("iam:PassRole"), &role));
        assert_eq!(passed.len(), 1);
        assert!(passed[0].0 == Severity::Medium && passed[0].1.contains("may possibly become administrator"));
    }

    #[test]
    fn a_seat_in_an_administrators_group() {
        one(
            allow(json!("iam:AddUserToGroup"), &arn("group", "admins")),
            "group admins is an administrators' group",
        );
    }

    #[test]
    fn wildcards_in_actions_count_and_an_explicit_deny_removes_a_method() {
        let everything_iam = found(allow(json!("iam:Put*"), "*"));
        assert!(everything_iam.iter().any(|(_, m)| m.contains("iam:PutUserPolicy")));
        assert!(everything_iam.iter().any(|(_, m)| m.contains("iam:PutGroupPolicy")));
        let denied = json!({"Statement": [
            {"Effect": "Allow", "Action": "iam:*", "Resource": "*"},
            {"Effect": "Deny", "NotAction": ["iam:Get*", "iam:List*"], "Resource": "*"},
        ]});
        assert!(found(denied).is_empty());
        let not_action = json!({"Statement": [{"Effect": "Allow", "NotAction": "s3:*", "Resource": "*"}]});
        assert!(
            !found(not_action).is_empty(),
            "a NotAction allows the IAM actions it does not name"
        );
    }

    #[test]
    fn administrators_and_harmless_principals_are_not_reported() {
        assert!(found(allow(json!("s3:*"), "*")).is_empty());
        assert!(
            found(admin()).is_empty(),
            "already an administrator: nothing to escalate to"
        );
    }
}

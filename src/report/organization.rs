//! The organization's side of the review: OUs and accounts that no service
//! control policy beyond AWS's `FullAWSAccess` limits, directly or through
//! a parent, and SCPs the operator does not manage.

use std::collections::{BTreeMap, BTreeSet};

use super::{Finding, Severity};
use crate::aws::{Organizations, PolicySummary, PolicyType};
use crate::controller::ownership::OWNER_TAG;

/// The organization's tree and its SCPs, as read for the review.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct OrgTree {
    pub root: String,
    /// OU id → (name, parent id, ARN).
    pub units: BTreeMap<String, (String, String, String)>,
    /// Account id → parent id; the management account is left out (no SCP applies to it).
    pub accounts: BTreeMap<String, String>,
    pub policies: Vec<Scp>,
}

/// A customer SCP: `FullAWSAccess` limits nothing and is left out.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Scp {
    pub summary: PolicySummary,
    pub owner_tag: Option<String>,
    /// Roots, OUs and accounts it is attached to.
    pub targets: BTreeSet<String>,
}

/// Reads the tree from the root down (two calls per OU), then each
/// customer SCP's targets and tags (two calls per SCP).
pub async fn read(organizations: &dyn Organizations, management: &str) -> crate::aws::AwsResult<OrgTree> {
    let root = organizations.root_id().await?;
    let mut tree = OrgTree {
        root: root.clone(),
        ..OrgTree::default()
    };
    let mut parents = vec![root];
    while let Some(parent) = parents.pop() {
        let (units, accounts) = futures::try_join!(
            organizations.list_organizational_units(&parent),
            organizations.list_child_accounts(&parent),
        )?;
        for unit in units {
            parents.push(unit.id.clone());
            tree.units.insert(unit.id, (unit.name, parent.clone(), unit.arn));
        }
        for account in accounts.into_iter().filter(|id| id != management) {
            tree.accounts.insert(account, parent.clone());
        }
    }
    for summary in organizations.list_policies(PolicyType::ServiceControlPolicy).await? {
        if summary.aws_managed {
            continue;
        }
        let (targets, tags) = futures::try_join!(
            organizations.list_targets_for_policy(&summary.id),
            organizations.list_tags(&summary.id),
        )?;
        tree.policies.push(Scp {
            owner_tag: tags.get(OWNER_TAG).cloned(),
            summary,
            targets,
        });
    }
    Ok(tree)
}

pub fn findings(tree: &OrgTree, account_names: &BTreeMap<String, String>) -> Vec<Finding> {
    let limited: BTreeSet<&str> = tree
        .policies
        .iter()
        .flat_map(|p| p.targets.iter().map(String::as_str))
        .collect();
    // Whether an SCP reaches `id` from itself or any parent up to the root.
    let covered = |start: &String| {
        let mut id = start;
        loop {
            if limited.contains(id.as_str()) {
                return true;
            }
            match tree
                .units
                .get(id)
                .map(|(_, parent, _)| parent)
                .or(tree.accounts.get(id))
            {
                Some(parent) => id = parent,
                None => return false,
            }
        }
    };
    let mut found = vec![];
    for (id, (name, _, arn)) in tree.units.iter().filter(|(id, _)| !covered(id)) {
        found.push(Finding::new(
            Severity::Medium,
            arn,
            format!("OU {name} ({id}) has no service control policy beyond FullAWSAccess, directly or inherited"),
        ));
    }
    for id in tree.accounts.keys().filter(|id| !covered(id)) {
        let name = account_names
            .get(id)
            .filter(|name| !name.is_empty())
            .map(|name| format!(" {name}"))
            .unwrap_or_default();
        found.push(Finding::new(
            Severity::Medium,
            &format!("arn:aws:iam::{id}:root"),
            format!("account {id}{name} has no service control policy beyond FullAWSAccess, directly or inherited"),
        ));
    }
    for policy in tree.policies.iter().filter(|p| p.owner_tag.is_none()) {
        found.push(Finding::new(
            Severity::Low,
            &policy.summary.arn,
            format!(
                "service control policy {} is not managed by the operator: make a ServiceControlPolicy for it, so that changes are reviewed",
                policy.summary.name
            ),
        ));
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scp(name: &str, owner: Option<&str>, targets: &[&str]) -> Scp {
        Scp {
            summary: PolicySummary {
                id: format!("p-{name}"),
                arn: format!("arn:aws:organizations::1:policy/p-{name}"),
                name: name.into(),
                ..PolicySummary::default()
            },
            owner_tag: owner.map(String::from),
            targets: targets.iter().map(|t| t.to_string()).collect(),
        }
    }

    /// Root → Workloads → Prod (account 3), root → Sandbox (account 2), account 1 under the root.
    fn tree(policies: Vec<Scp>) -> OrgTree {
        OrgTree {
            root: "r-1".into(),
            units: BTreeMap::from([
                ("ou-w".into(), ("Workloads".into(), "r-1".into(), "arn:ou-w".into())),
                ("ou-p".into(), ("Prod".into(), "ou-w".into(), "arn:ou-p".into())),
                ("ou-s".into(), ("Sandbox".into(), "r-1".into(), "arn:ou-s".into())),
            ]),
            accounts: BTreeMap::from([
                ("111111111111".into(), "r-1".into()),
                ("222222222222".into(), "ou-s".into()),
                ("333333333333".into(), "ou-p".into()),
            ]),
            policies,
        }
    }

    fn messages(tree: &OrgTree) -> Vec<String> {
        findings(
            tree,
            &BTreeMap::from([("222222222222".to_string(), "sandbox".to_string())]),
        )
        .into_iter()
        .map(|f| f.message)
        .collect()
    }

    #[test]
    fn an_scp_on_a_parent_covers_what_is_below_it() {
        let managed = "ServiceControlPolicy//baseline@default";
        let found = messages(&tree(vec![scp("baseline", Some(managed), &["ou-w", "111111111111"])]));
        assert_eq!(
            found,
            [
                "OU Sandbox (ou-s) has no service control policy beyond FullAWSAccess, directly or inherited",
                "account 222222222222 sandbox has no service control policy beyond FullAWSAccess, directly or inherited",
            ]
        );
        assert!(
            messages(&tree(vec![scp("baseline", Some(managed), &["r-1"])])).is_empty(),
            "the root covers all"
        );
    }

    #[test]
    fn an_scp_without_the_owner_tag_is_not_the_operators() {
        let found = messages(&tree(vec![scp("by-hand", None, &["r-1"])]));
        assert_eq!(
            found,
            [
                "service control policy by-hand is not managed by the operator: make a ServiceControlPolicy for it, so that changes are reviewed"
            ]
        );
    }
}

//! Pure: the OU as the spec wants it, and the writes that take AWS there.

use crate::api::{DeletionPolicy, OrganizationalUnitDeletionPolicy, OrganizationalUnitSpec, Tags};
use crate::aws::OrganizationalUnit;
use crate::controller::driver::owned::{Describe, Policies};
use crate::controller::tags;

/// The OU as the spec wants it, its parent resolved.
#[derive(Clone, Debug, PartialEq)]
pub struct DesiredOu {
    pub name: String,
    /// The id of the root or OU it sits in.
    pub parent_id: String,
    /// Names from the root down, its own last.
    pub path: String,
    /// The spec's tags plus the owner tag.
    pub tags: Tags,
}

/// The OU as Organizations shows it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct OuState {
    pub unit: OrganizationalUnit,
    pub tags: Tags,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Change {
    Create {
        parent_id: String,
        name: String,
        tags: Tags,
    },
    Rename(String),
    Tag(Tags),
    Untag(Vec<String>),
}

impl Describe for Change {
    fn describe(&self) -> String {
        match self {
            Change::Create { parent_id, name, .. } => format!("create OU {name} under {parent_id}"),
            Change::Rename(name) => format!("rename the OU to {name}"),
            Change::Tag(tags) => format!("tag {}", tags.keys().cloned().collect::<Vec<_>>().join(", ")),
            Change::Untag(keys) => format!("untag {}", keys.join(", ")),
        }
    }

    fn creates(&self) -> bool {
        matches!(self, Change::Create { .. })
    }
}

/// The spec's say over the OU's life. Its deletion policy is an enum of its
/// own because it defaults to Retain, the common one to Delete; the driver
/// reads the common one.
pub(super) fn policies(spec: &OrganizationalUnitSpec) -> Policies {
    Policies {
        management: spec.management_policy,
        deletion: match spec.deletion_policy {
            OrganizationalUnitDeletionPolicy::Retain => DeletionPolicy::Retain,
            OrganizationalUnitDeletionPolicy::Delete => DeletionPolicy::Delete,
        },
        adopt_existing: spec.adopt_existing,
    }
}

/// A path under its parent's: `Workloads` + `Prod` is `Workloads/Prod`; the root's path is empty.
pub fn child_path(parent_path: &str, name: &str) -> String {
    match parent_path {
        "" => name.to_owned(),
        parent => format!("{parent}/{name}"),
    }
}

pub fn plan(desired: &DesiredOu, observed: Option<&OuState>) -> Vec<Change> {
    let Some(current) = observed else {
        return vec![Change::Create {
            parent_id: desired.parent_id.clone(),
            name: desired.name.clone(),
            tags: desired.tags.clone(),
        }];
    };
    let mut changes = Vec::new();
    if current.unit.name != desired.name {
        changes.push(Change::Rename(desired.name.clone()));
    }
    let (tag, untag) = tags::diff(&desired.tags, &current.tags);
    if !tag.is_empty() {
        changes.push(Change::Tag(tag));
    }
    if !untag.is_empty() {
        changes.push(Change::Untag(untag));
    }
    changes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn desired() -> DesiredOu {
        DesiredOu {
            name: "Prod".into(),
            parent_id: "ou-ab12-11111111".into(),
            path: "Workloads/Prod".into(),
            tags: [("awsaccess.dev/owner".to_owned(), "OrganizationalUnit//prod".to_owned())].into(),
        }
    }

    fn existing(name: &str, tags: &[(&str, &str)]) -> OuState {
        OuState {
            unit: OrganizationalUnit {
                id: "ou-ab12-22222222".into(),
                arn: "arn:aws:organizations::123456789012:ou/o-x/ou-ab12-22222222".into(),
                name: name.into(),
            },
            tags: tags.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        }
    }

    #[test]
    fn a_missing_ou_is_created_under_its_parent_with_its_tags() {
        let changes = plan(&desired(), None);
        assert_eq!(
            changes,
            [Change::Create {
                parent_id: "ou-ab12-11111111".into(),
                name: "Prod".into(),
                tags: desired().tags,
            }]
        );
        assert!(changes[0].creates());
    }

    #[test]
    fn an_ou_in_sync_needs_nothing_and_a_new_name_is_a_rename_in_place() {
        let owner = ("awsaccess.dev/owner", "OrganizationalUnit//prod");
        assert_eq!(plan(&desired(), Some(&existing("Prod", &[owner]))), []);
        assert_eq!(
            plan(&desired(), Some(&existing("Production", &[owner, ("hand", "made")]))),
            [Change::Rename("Prod".into()), Change::Untag(vec!["hand".into()])]
        );
    }

    #[test]
    fn paths_join_names_from_the_root() {
        assert_eq!(child_path("", "Workloads"), "Workloads");
        assert_eq!(child_path("Workloads", "Prod"), "Workloads/Prod");
    }
}

//! Who may manage an IAM role or group, an OU or a policy: never one the operator did not
//! create unless the object asks to adopt it, and never one another object
//! already manages.

use kube::{Resource, ResourceExt};

use super::status::Outcome;
use crate::api::{Reason, Tags};

/// The tag that marks a role as the operator's, naming the owning object.
pub const OWNER_TAG: &str = "awsaccess.dev/owner";

/// `Kind/namespace/name` of an object: the value of the owner tag.
pub fn owner_id<K: Resource<DynamicType = ()>>(object: &K) -> String {
    format!(
        "{}/{}/{}",
        K::kind(&()),
        object.namespace().unwrap_or_default(),
        object.name_any()
    )
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Claim {
    /// Nothing of that name exists.
    Free,
    /// It is this object's.
    Ours,
    /// It exists unowned and the object asks to adopt it.
    Adoptable,
    /// Another object manages it.
    OwnedBy(String),
    /// It exists and the operator did not create it.
    Foreign,
}

/// The claim on a resource that carries the owner tag (roles, OUs,
/// policies), from its tags; None: nothing of that name exists.
pub fn claim_tagged(tags: Option<&Tags>, owner: &str, adopt_existing: bool) -> Claim {
    match tags.map(|tags| tags.get(OWNER_TAG)) {
        None => Claim::Free,
        Some(Some(tagged)) if tagged == owner => Claim::Ours,
        Some(Some(other)) => Claim::OwnedBy(other.clone()),
        Some(None) if adopt_existing => Claim::Adoptable,
        Some(None) => Claim::Foreign,
    }
}

impl Claim {
    /// The Stalled outcome for a claim that forbids touching the resource.
    pub fn refusal(&self, what: &str) -> Option<Outcome> {
        match self {
            Claim::Free | Claim::Ours | Claim::Adoptable => None,
            Claim::OwnedBy(owner) => Some(Outcome::stalled(
                Reason::AlreadyManaged,
                format!("{what} is already managed by {owner}; only one object may manage it"),
            )),
            Claim::Foreign => Some(Outcome::stalled(
                Reason::AlreadyExists,
                format!(
                    "{what} already exists and was not created by the operator; set spec.adoptExisting: true to take it over, or choose another name"
                ),
            )),
        }
    }
}

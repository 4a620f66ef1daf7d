//! Who may manage an IAM role or group, an OU or a policy: never one the operator did not
//! create unless the object asks to adopt it, and never one another object
//! already manages.

use kube::{Resource, ResourceExt};

use super::context::WriteSessions;
use super::status::Outcome;
use crate::api::{Reason, Tags};

/// The tag that marks a resource as the operator's, naming the owning
/// object and the installation.
pub const OWNER_TAG: &str = "awsaccess.dev/owner";

/// `Kind/namespace/name` of an object: which object, within one cluster.
pub fn object_id<K: Resource<DynamicType = ()>>(object: &K) -> String {
    format!(
        "{}/{}/{}",
        K::kind(&()),
        object.namespace().unwrap_or_default(),
        object.name_any()
    )
}

/// The role session name of the writes made for an object in a member
/// account, as `sessions` says: `namespace.name` or the namespace (a
/// cluster-scoped object: its name), as STS takes it (64 characters of
/// `[\w+=,.@-]`). A longer one keeps its start and ends in a hash of the
/// whole, so that sessions stay distinct.
pub fn requester<K: Resource<DynamicType = ()>>(object: &K, sessions: WriteSessions) -> String {
    let whole = match (object.namespace(), sessions) {
        (Some(namespace), WriteSessions::Object) => format!("{namespace}.{}", object.name_any()),
        (Some(namespace), WriteSessions::Namespace) => namespace,
        (None, _) => object.name_any(),
    };
    session_name(&whole)
}

const SESSION_NAME_MAX: usize = 64;

fn session_name(whole: &str) -> String {
    // STS takes two characters at least; a name of one (a namespace `a`)
    // ends in `-`, which no Kubernetes name ends in, so it stays distinct.
    if whole.len() < 2 {
        return format!("{whole}-");
    }
    if whole.len() <= SESSION_NAME_MAX {
        return whole.to_owned();
    }
    // FNV-1a: stable across builds and platforms, unlike std's hasher.
    let hash = whole.bytes().fold(0x811c_9dc5_u32, |hash, byte| {
        (hash ^ u32::from(byte)).wrapping_mul(0x0100_0193)
    });
    format!("{}-{hash:08x}", &whole[..SESSION_NAME_MAX - 9])
}

/// Whose a tagged resource is: the owner tag's value for one object of one
/// installation, `Kind/namespace/name@installation`. Object names never hold
/// `@`, so the installation is what follows the last one.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Owner {
    tag: String,
    /// The value before tags named the installation: taken as this object's
    /// and upgraded in place.
    legacy: String,
}

impl Owner {
    pub fn of<K: Resource<DynamicType = ()>>(object: &K, installation: &str) -> Self {
        Owner::new(object_id(object), installation)
    }

    /// The owner of the object `Kind/namespace/name` in `installation`.
    pub fn new(object: String, installation: &str) -> Self {
        Owner {
            tag: format!("{object}@{installation}"),
            legacy: object,
        }
    }

    /// The owner tag's value.
    pub fn tag(&self) -> &str {
        &self.tag
    }

    /// Whether an owner tag of `value` names this owner, in either form.
    pub fn is(&self, value: &str) -> bool {
        value == self.tag || value == self.legacy
    }
}

/// An owner tag's value read back: the object (`Kind/namespace/name`) and
/// the installation, absent in tags written before installations were named.
pub fn parse_owner(value: &str) -> (&str, Option<&str>) {
    match value.rsplit_once('@') {
        Some((object, installation)) => (object, Some(installation)),
        None => (value, None),
    }
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
pub fn claim_tagged(tags: Option<&Tags>, owner: &Owner, adopt_existing: bool) -> Claim {
    match tags.map(|tags| tags.get(OWNER_TAG)) {
        None => Claim::Free,
        Some(Some(tagged)) if owner.is(tagged) => Claim::Ours,
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
                    "{what} already exists and was not created by the operator; set spec.adoptExisting: true to take it over (where its AwsAccount's guardrails.allowAdoption permits), or choose another name"
                ),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_names_fit_sts_and_stay_distinct() {
        assert_eq!(session_name("alfie.alfie-full-access"), "alfie.alfie-full-access");
        let long = format!("team.{}", "a".repeat(100));
        let other = format!("team.{}b", "a".repeat(99));
        assert_eq!(session_name(&long).len(), 64);
        assert!(session_name(&long).starts_with("team.aaaa"));
        assert_ne!(session_name(&long), session_name(&other));
        let valid = |c: char| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c);
        assert!(session_name(&long).chars().all(valid));
        assert_eq!(session_name("a"), "a-");
    }

    #[test]
    fn write_sessions_name_the_object_or_its_namespace() {
        use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
        use kube::api::ObjectMeta;
        let named = |namespace: Option<&str>, name: &str| ObjectMeta {
            namespace: namespace.map(String::from),
            name: Some(name.into()),
            ..ObjectMeta::default()
        };
        let namespaced = ConfigMap {
            metadata: named(Some("alfie"), "deployer"),
            ..ConfigMap::default()
        };
        assert_eq!(requester(&namespaced, WriteSessions::Object), "alfie.deployer");
        assert_eq!(requester(&namespaced, WriteSessions::Namespace), "alfie");
        let cluster_scoped = Namespace {
            metadata: named(None, "dev"),
            ..Namespace::default()
        };
        assert_eq!(requester(&cluster_scoped, WriteSessions::Namespace), "dev");
    }
}

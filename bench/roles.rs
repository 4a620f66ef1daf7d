//! The roles the benchmark asks for, one definition for both sides: the
//! CrossAccountRole objects the operator reconciles and the IAM calls the
//! plain program makes.

use std::path::Path;

use anyhow::Context;
use aws_access_operator::controller::ownership::Owner;
use kube::api::{ApiResource, DynamicObject};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// The managed policy every role gets; moto knows AWS's managed policies
/// when started with `MOTO_IAM_LOAD_MANAGED_POLICIES=true`.
pub const MANAGED_POLICY: &str = "arn:aws:iam::aws:policy/ReadOnlyAccess";
pub const INLINE_POLICY_NAME: &str = "deny-org-changes";
pub const ACCESS_ROLE: &str = "OrganizationAccountAccessRole";
/// The namespace scripts/bench.sh times the operator's roles in, as the
/// plain program's owner tags name it.
pub const NAMESPACE: &str = "bench";
/// Stands for the installation id the operator takes from kube-system's UID,
/// a UUID too, so that the plain program's owner tags are as long as the
/// operator's.
const PLAIN_INSTALLATION: &str = "00000000-0000-4000-8000-000000000000";

/// The organization the benchmark made in moto: the operator's own
/// (identity) account and the member accounts the roles go into.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Accounts {
    pub identity: String,
    pub members: Vec<String>,
}

impl Accounts {
    pub fn load(path: &Path) -> anyhow::Result<Accounts> {
        let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))
    }
}

pub struct Role {
    pub name: String,
    pub account: String,
    pub description: String,
    /// Trusts the identity account as a whole, as the operator writes it.
    pub trust_policy: Value,
    pub inline_policy: Value,
    /// The owner tag's value, which the operator's CreateRole carries: the
    /// plain program sends it too, so that both ask AWS for the same work.
    pub owner: String,
}

/// Role `i` of the benchmark: round robin over the member accounts.
pub fn role(i: usize, accounts: &Accounts) -> Role {
    let name = format!("bench-{i:05}");
    Role {
        owner: Owner::new(format!("CrossAccountRole/{NAMESPACE}/{name}"), PLAIN_INSTALLATION)
            .tag()
            .to_owned(),
        name,
        account: accounts.members[i % accounts.members.len()].clone(),
        description: format!("benchmark role {i}"),
        trust_policy: json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Effect": "Allow",
                "Principal": {"AWS": format!("arn:aws:iam::{}:root", accounts.identity)},
                "Action": "sts:AssumeRole",
            }],
        }),
        inline_policy: json!({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Deny", "Action": "organizations:*", "Resource": "*"}],
        }),
    }
}

pub fn resource() -> ApiResource {
    ApiResource {
        group: "awsaccess.dev".into(),
        version: "v1alpha1".into(),
        api_version: "awsaccess.dev/v1alpha1".into(),
        kind: "CrossAccountRole".into(),
        plural: "crossaccountroles".into(),
    }
}

/// The CrossAccountRole for `role`, as a user would write it: the account
/// by id (so no AwsAccount objects take part), the identity account trusted.
pub fn object(role: &Role, accounts: &Accounts, namespace: &str, observe: bool) -> anyhow::Result<DynamicObject> {
    let management_policy = if observe { "Observe" } else { "Manage" };
    Ok(serde_json::from_value(json!({
        "apiVersion": "awsaccess.dev/v1alpha1",
        "kind": "CrossAccountRole",
        "metadata": {"name": role.name, "namespace": namespace},
        "spec": {
            "account": {"id": role.account},
            "description": role.description,
            "trust": {"accounts": [{"id": accounts.identity}]},
            "permissions": {
                "managedPolicyArns": [MANAGED_POLICY],
                "inlinePolicies": [{"name": INLINE_POLICY_NAME, "document": role.inline_policy}],
            },
            "managementPolicy": management_policy,
        },
    }))?)
}

/// Whether the operator has reconciled the object's current spec, and how
/// that ended: the Ready condition's status and reason at `metadata.generation`.
pub fn outcome(object: &DynamicObject) -> Option<String> {
    let status = object.data.get("status")?;
    let current = status.get("observedGeneration").and_then(Value::as_i64) == object.metadata.generation;
    let ready = status
        .get("conditions")?
        .as_array()?
        .iter()
        .find(|condition| condition.get("type").and_then(Value::as_str) == Some("Ready"))?;
    let text = |key: &str| ready.get(key).and_then(Value::as_str).unwrap_or("?").to_owned();
    current.then(|| format!("Ready={} {}", text("status"), text("reason")))
}

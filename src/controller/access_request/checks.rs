//! Pure: whether a namespace may ask for an elevation at all (the role of its own namespace
//! with `elevation`, a duration within it, an IAM user it manages, both accounts allowing
//! it), and whether an approval counts (recorded at admission, never the requester, an
//! approver the role names). One piece of code for the admission webhook, the reconcile
//! and `plan`, over what the caches hold.

use std::sync::Arc;
use std::time::Duration;

use kube::ResourceExt;
use kube::runtime::reflector::ObjectRef;

use crate::api::{
    APPROVED_BY_ANNOTATION, APPROVER_GROUPS_ANNOTATION, AccessApproval, AccessRequest, CrossAccountRole,
    DeveloperGroupTrust, Elevation, IamUser, REQUESTED_BY_ANNOTATION, Reason,
};
use crate::controller::context::{Config, Stores};
use crate::controller::iam_user::plan::duration as parse_duration;
use crate::controller::iam_user::resolve::user_name;
use crate::controller::refs;
use crate::controller::status::Outcome;
use crate::controller::tenancy::{self, Account, Refused};

/// The shortest elevation outside tests: the shortest role session AWS issues.
pub const SHORTEST_ELEVATION: Duration = Duration::from_secs(15 * 60);

/// The index key of an IamUser by the IAM user name it makes, in its namespace.
pub fn user_key(namespace: &str, user_name: &str) -> String {
    format!("user-name:{namespace}/{}", user_name.to_lowercase())
}

/// What a request that the namespace may make resolves to.
#[derive(Clone, Debug)]
pub struct Authorised {
    pub role: Arc<CrossAccountRole>,
    pub elevation: Elevation,
    pub duration: Duration,
    /// The account the IAM user lives in.
    pub identity: Account,
    pub user: Arc<IamUser>,
}

fn stalled(reason: Reason, message: String) -> Refused {
    Refused {
        outcome: Outcome::stalled(reason, message),
        lock: false,
    }
}

/// Whether `request`'s namespace may ask for it: refusals name the field.
pub fn request(
    stores: &Stores,
    config: &Config,
    own_account_id: &str,
    request: &AccessRequest,
) -> Result<Authorised, Refused> {
    let namespace = request.namespace().unwrap_or_default();
    let spec = &request.spec;
    let (role, elevation) = role_on_request(stores, &namespace, &spec.role.name)?;
    let duration = duration_within(spec.duration.as_str(), &spec.role.name, &elevation, config)?;
    let workplace = |reference, field| tenancy::workplace(stores, config, reference, own_account_id, &namespace, field);
    // The role's account must allow the namespace too: what it grants there is the namespace's doing.
    workplace(Some(&role.spec.account), "spec.role")?;
    let user = user_of_namespace(stores, &namespace, &spec.user)?;
    let identity = workplace(user.spec.account.as_ref(), "spec.user")?;
    Ok(Authorised {
        role,
        elevation,
        duration,
        identity,
        user,
    })
}

/// The CrossAccountRole `name` of `namespace`, which must have `elevation`.
fn role_on_request(
    stores: &Stores,
    namespace: &str,
    name: &str,
) -> Result<(Arc<CrossAccountRole>, Elevation), Refused> {
    let role = stores
        .roles
        .get(&ObjectRef::new(name).within(namespace))
        .filter(|role| role.metadata.deletion_timestamp.is_none())
        .ok_or_else(|| Refused {
            outcome: Outcome::reconciling(
                Reason::ReferenceNotReady,
                format!("spec.role: CrossAccountRole {name} does not exist in namespace {namespace}"),
            ),
            lock: false,
        })?;
    match role.spec.elevation.clone() {
        Some(elevation) => Ok((role, *elevation)),
        None => Err(stalled(
            Reason::InvalidSpec,
            format!(
                "spec.role: CrossAccountRole {name} has no spec.elevation, so it is not granted on request; ask for a role that sets it"
            ),
        )),
    }
}

/// The IamUser of `namespace` that makes IAM user `name`: a request names only a user its
/// namespace manages.
fn user_of_namespace(stores: &Stores, namespace: &str, name: &str) -> Result<Arc<IamUser>, Refused> {
    stores
        .users
        .find([user_key(namespace, name).as_str()])
        .into_iter()
        .find(|user| user_name(user).eq_ignore_ascii_case(name))
        .ok_or_else(|| {
            stalled(
                Reason::NamespaceNotAllowed,
                format!(
                    "spec.user: no IamUser of namespace {namespace} makes IAM user {name}; a request names a user this namespace manages"
                ),
            )
        })
}

/// The requested window, which must lie between the shortest session and the role's maximum.
fn duration_within(text: &str, role_name: &str, elevation: &Elevation, config: &Config) -> Result<Duration, Refused> {
    let invalid = |message: String| stalled(Reason::InvalidSpec, message);
    let duration = parse_duration("spec.duration", text).map_err(invalid)?;
    let most = parse_duration(
        &format!("spec.role: CrossAccountRole {role_name}'s spec.elevation.maxDuration"),
        &elevation.max_duration,
    )
    .map_err(invalid)?;
    if duration > most {
        return Err(invalid(format!(
            "spec.duration: {text} is longer than CrossAccountRole {role_name}'s spec.elevation.maxDuration {}; ask for {} or less",
            elevation.max_duration, elevation.max_duration
        )));
    }
    let least = config.shortest_elevation.unwrap_or(SHORTEST_ELEVATION);
    if duration < least {
        return Err(invalid(format!(
            "spec.duration: {text} is shorter than {}, the shortest role session AWS issues",
            humantime::format_duration(least)
        )));
    }
    Ok(duration)
}

/// Whether `role`'s trust admits IAM user `user` of account `identity`: its account trusted
/// outright or through a DeveloperGroup trusted as a whole, its ARN named, or it a member of a
/// DeveloperGroup trusted by members. The grant allows assuming the role; only the trust lets
/// AWS honour it.
pub fn trust_admits(stores: &Stores, role: &CrossAccountRole, identity: &str, user: &IamUser) -> bool {
    let namespace = role.namespace().unwrap_or_default();
    let trust = &role.spec.trust;
    let name = user_name(user);
    let account_trusted = trust
        .accounts
        .iter()
        .any(|reference| match (&reference.id, &reference.name) {
            (Some(id), _) => id == identity,
            (None, Some(name)) => stores
                .accounts
                .get(&ObjectRef::new(name))
                .and_then(|account| account.status.as_ref()?.account_id.clone())
                .is_some_and(|id| id == identity),
            (None, None) => false,
        });
    let user_arn = user.status.as_ref().and_then(|status| status.user_arn.as_deref());
    let named = user_arn.is_some_and(|arn| trust.principals.iter().any(|principal| principal == arn));
    let through_group = trust.developer_groups.iter().any(|reference| {
        let Some(group) = refs::group(stores, reference, &namespace) else {
            return false;
        };
        let status = group.status.as_ref();
        let in_identity = status.and_then(|s| s.account_id.as_deref()) == Some(identity);
        let member = status.is_some_and(|s| s.members.iter().any(|m| m.eq_ignore_ascii_case(&name)))
            && group.spec.members.iter().any(|m| m.eq_ignore_ascii_case(&name));
        in_identity && (trust.developer_group_trust == DeveloperGroupTrust::Account || member)
    });
    account_trusted || named || through_group
}

/// The elevation of the role `request` asks for, which approvals are judged by.
pub fn elevation_of(stores: &Stores, request: &AccessRequest) -> Result<Elevation, String> {
    let role_name = &request.spec.role.name;
    let namespace = request.namespace().unwrap_or_default();
    stores
        .roles
        .get(&ObjectRef::new(role_name).within(&namespace))
        .and_then(|role| role.spec.elevation.as_deref().cloned())
        .ok_or_else(|| {
            format!(
                "spec.request: AccessRequest {} asks for CrossAccountRole {role_name}, which does not exist or has no spec.elevation, so nobody may approve it",
                request.name_any()
            )
        })
}

/// A Kubernetes user as admission recorded them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Person {
    pub name: String,
    pub groups: Vec<String>,
}

fn annotation<'a, K: kube::Resource>(object: &'a K, key: &str) -> Option<&'a str> {
    object
        .annotations()
        .get(key)
        .map(String::as_str)
        .filter(|value| !value.is_empty())
}

/// Who created the request, as admission recorded it; without the record nobody can tell
/// whether an approval is the requester's own, so nothing is granted.
pub fn requester(request: &AccessRequest) -> Result<String, Outcome> {
    annotation(request, REQUESTED_BY_ANNOTATION).map(String::from).ok_or_else(|| {
        Outcome::stalled(
            Reason::InvalidSpec,
            format!("metadata.annotations[{REQUESTED_BY_ANNOTATION}]: absent; the operator's admission webhook records who asks, and without it nothing is granted: register the webhook and make the request again"),
        )
    })
}

/// Why `approval` counts for nothing on `request` for a role with `elevation`, or who it is.
pub fn approver(
    approval: &AccessApproval,
    request: &AccessRequest,
    role_name: &str,
    elevation: &Elevation,
) -> Result<Person, String> {
    let Some(name) = annotation(approval, APPROVED_BY_ANNOTATION) else {
        return Err(format!(
            "metadata.annotations[{APPROVED_BY_ANNOTATION}]: absent; the operator's admission webhook records who approves, and an approval without it counts for nothing"
        ));
    };
    let groups: Vec<String> = match annotation(approval, APPROVER_GROUPS_ANNOTATION) {
        None => vec![],
        Some(text) => serde_json::from_str(text).map_err(|err| {
            format!("metadata.annotations[{APPROVER_GROUPS_ANNOTATION}]: not a JSON list of groups ({err})")
        })?,
    };
    let person = Person {
        name: name.to_string(),
        groups,
    };
    judge(&person, request, role_name, elevation)?;
    Ok(person)
}

/// Separation of duties: never the requester; only someone the role's elevation names.
pub fn judge(person: &Person, request: &AccessRequest, role_name: &str, elevation: &Elevation) -> Result<(), String> {
    let request_name = request.name_any();
    if annotation(request, REQUESTED_BY_ANNOTATION) == Some(person.name.as_str()) {
        return Err(format!(
            "{} may not approve or deny AccessRequest {request_name}: it is their own request, and the requester never counts (separation of duties)",
            person.name
        ));
    }
    let approvers = &elevation.approvers;
    let named = approvers.users.contains(&person.name) || person.groups.iter().any(|g| approvers.groups.contains(g));
    if !named {
        return Err(format!(
            "{} may not approve or deny AccessRequest {request_name}: CrossAccountRole {role_name}'s spec.elevation.approvers names users [{}] and groups [{}]",
            person.name,
            approvers.users.join(", "),
            approvers.groups.join(", ")
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
    use serde_json::json;

    use super::*;
    use crate::api::{AccessApprovalSpec, AccountState, AwsAccount, AwsAccountStatus, Decision};
    use crate::controller::index::Cache;

    const OWN: &str = "111111111111";

    fn account(name: &str, id: &str) -> AwsAccount {
        let mut account: AwsAccount = serde_json::from_value(json!({
            "apiVersion": "awsaccess.dev/v1alpha1", "kind": "AwsAccount",
            "metadata": {"name": name},
            "spec": {"accountName": name, "email": format!("{name}@example.com"), "accountId": id, "allowedNamespaces": ["alfie"]},
        }))
        .unwrap();
        account.status = Some(AwsAccountStatus {
            account_id: Some(id.into()),
            state: Some(AccountState::Active),
            ..Default::default()
        });
        account
    }

    fn role(elevation: serde_json::Value) -> CrossAccountRole {
        serde_json::from_value(json!({
            "apiVersion": "awsaccess.dev/v1alpha1", "kind": "CrossAccountRole",
            "metadata": {"name": "prod-operator", "namespace": "alfie"},
            "spec": {"account": {"name": "prod"}, "trust": {"accounts": [{"id": OWN}]}, "elevation": elevation},
        }))
        .unwrap()
    }

    fn elevation() -> serde_json::Value {
        json!({"maxDuration": "4h", "approvers": {"users": ["carol"], "groups": ["alfie-leads"]}})
    }

    fn user(namespace: &str) -> IamUser {
        serde_json::from_value(json!({
            "apiVersion": "awsaccess.dev/v1alpha1", "kind": "IamUser",
            "metadata": {"name": "alice", "namespace": namespace}, "spec": {},
        }))
        .unwrap()
    }

    fn access_request(spec: serde_json::Value) -> AccessRequest {
        serde_json::from_value(json!({
            "apiVersion": "awsaccess.dev/v1alpha1", "kind": "AccessRequest",
            "metadata": {"name": "alice-rds", "namespace": "alfie", "annotations": {REQUESTED_BY_ANNOTATION: "alice@example.com"}},
            "spec": spec,
        }))
        .unwrap()
    }

    fn stores(roles: Vec<CrossAccountRole>, users: Vec<IamUser>) -> Stores {
        Stores {
            accounts: Cache::of([account("prod", "222222222222"), account("identity", OWN)]),
            roles: Cache::of(roles),
            users: Cache::of(users),
            ..Stores::empty()
        }
    }

    fn refusal(stores: &Stores, spec: serde_json::Value) -> String {
        match request(stores, &Config::default(), OWN, &access_request(spec)) {
            Ok(_) => panic!("allowed"),
            Err(refused) => refused.outcome.message,
        }
    }

    fn spec(role: &str, duration: &str) -> serde_json::Value {
        json!({"user": "alice", "role": {"name": role}, "duration": duration, "reason": "INC-1"})
    }

    #[test]
    fn a_request_within_the_role_s_elevation_for_a_user_of_the_namespace_is_authorised() {
        let stores = stores(vec![role(elevation())], vec![user("alfie")]);
        let authorised = request(
            &stores,
            &Config::default(),
            OWN,
            &access_request(spec("prod-operator", "1h")),
        )
        .unwrap();
        assert_eq!(authorised.duration, Duration::from_secs(3600));
        assert_eq!(authorised.identity.id, OWN);
    }

    #[test]
    fn refusals_name_the_field() {
        let stores = stores(vec![role(elevation())], vec![user("alfie")]);
        assert_eq!(
            refusal(&stores, spec("prod-operator", "8h")),
            "spec.duration: 8h is longer than CrossAccountRole prod-operator's spec.elevation.maxDuration 4h; ask for 4h or less"
        );
        assert!(refusal(&stores, spec("prod-operator", "5m")).starts_with("spec.duration: 5m is shorter than 15m"));
        assert!(refusal(&stores, spec("prod-operator", "soon")).starts_with("spec.duration: soon is not a duration"));
        assert_eq!(
            refusal(&stores, spec("elsewhere", "1h")),
            "spec.role: CrossAccountRole elsewhere does not exist in namespace alfie"
        );
        let mut standing = role(elevation());
        standing.spec.elevation = None;
        let without = super::tests::stores(vec![standing], vec![user("alfie")]);
        assert!(
            refusal(&without, spec("prod-operator", "1h"))
                .starts_with("spec.role: CrossAccountRole prod-operator has no spec.elevation")
        );
        // A user only another namespace manages is not this one's to name.
        let elsewhere = super::tests::stores(vec![role(elevation())], vec![user("bravo")]);
        assert_eq!(
            refusal(&elsewhere, spec("prod-operator", "1h")),
            "spec.user: no IamUser of namespace alfie makes IAM user alice; a request names a user this namespace manages"
        );
        // Tests may shorten the least window.
        let config = Config {
            shortest_elevation: Some(Duration::from_secs(1)),
            ..Config::default()
        };
        assert!(request(&stores, &config, OWN, &access_request(spec("prod-operator", "5s"))).is_ok());
    }

    #[test]
    fn the_role_s_account_must_allow_the_namespace() {
        let mut other = role(elevation());
        other.spec.account.name = Some("nowhere".into());
        let stores = stores(vec![other], vec![user("alfie")]);
        assert!(
            refusal(&stores, spec("prod-operator", "1h")).starts_with("spec.role: AwsAccount nowhere does not exist")
        );
    }

    fn approval(by: Option<&str>, groups: Option<&str>) -> AccessApproval {
        let mut annotations = std::collections::BTreeMap::new();
        annotations.extend(by.map(|by| (APPROVED_BY_ANNOTATION.to_string(), by.to_string())));
        annotations.extend(groups.map(|groups| (APPROVER_GROUPS_ANNOTATION.to_string(), groups.to_string())));
        AccessApproval {
            metadata: ObjectMeta {
                name: Some("ok".into()),
                namespace: Some("alfie".into()),
                annotations: Some(annotations),
                ..Default::default()
            },
            spec: AccessApprovalSpec {
                request: "alice-rds".into(),
                decision: Decision::Approve,
                comment: None,
            },
            status: None,
        }
    }

    #[test]
    fn only_a_named_approver_other_than_the_requester_counts() {
        let elevation: Elevation = serde_json::from_value(elevation()).unwrap();
        let request = access_request(spec("prod-operator", "1h"));
        let judged = |approval: AccessApproval| approver(&approval, &request, "prod-operator", &elevation);
        assert_eq!(judged(approval(Some("carol"), None)).unwrap().name, "carol");
        assert_eq!(
            judged(approval(
                Some("dave"),
                Some(r#"["alfie-leads","system:authenticated"]"#)
            ))
            .unwrap()
            .groups,
            ["alfie-leads", "system:authenticated"]
        );
        assert_eq!(
            judged(approval(Some("alice@example.com"), Some(r#"["alfie-leads"]"#))).unwrap_err(),
            "alice@example.com may not approve or deny AccessRequest alice-rds: it is their own request, and the requester never counts (separation of duties)"
        );
        assert_eq!(
            judged(approval(Some("mallory"), Some(r#"["system:authenticated"]"#))).unwrap_err(),
            "mallory may not approve or deny AccessRequest alice-rds: CrossAccountRole prod-operator's spec.elevation.approvers names users [carol] and groups [alfie-leads]"
        );
        assert!(
            judged(approval(None, None))
                .unwrap_err()
                .starts_with("metadata.annotations[awsaccess.dev/approved-by]: absent")
        );
        assert!(
            judged(approval(Some("carol"), Some("alfie-leads")))
                .unwrap_err()
                .contains("not a JSON list")
        );
    }

    #[test]
    fn the_role_s_trust_must_admit_the_user() {
        let stores = stores(vec![], vec![]);
        let alice = user("alfie");
        assert!(
            trust_admits(&stores, &role(elevation()), OWN, &alice),
            "its account is trusted"
        );
        assert!(!trust_admits(&stores, &role(elevation()), "333333333333", &alice));
        let mut by_group = role(elevation());
        by_group.spec.trust = serde_json::from_value(json!({
            "developerGroups": [{"name": "developers"}], "developerGroupTrust": "Members"
        }))
        .unwrap();
        let group = |members: &[&str]| -> crate::api::DeveloperGroup {
            serde_json::from_value(json!({
                "apiVersion": "awsaccess.dev/v1alpha1", "kind": "DeveloperGroup",
                "metadata": {"name": "developers", "namespace": "alfie"},
                "spec": {"members": members},
                "status": {"accountId": OWN, "members": members},
            }))
            .unwrap()
        };
        let with = |members: &[&str]| Stores {
            groups: Cache::of([group(members)]),
            ..super::tests::stores(vec![], vec![])
        };
        assert!(trust_admits(&with(&["alice"]), &by_group, OWN, &alice));
        assert!(!trust_admits(&with(&["bob"]), &by_group, OWN, &alice), "not a member");
    }

    #[test]
    fn a_request_without_its_recorded_requester_grants_nothing() {
        let mut request = access_request(spec("prod-operator", "1h"));
        assert_eq!(requester(&request).unwrap(), "alice@example.com");
        request.metadata.annotations = None;
        assert!(requester(&request).unwrap_err().message.contains("absent"));
    }
}

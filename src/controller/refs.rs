//! Resolving references between kinds from the caches, and the reverse
//! mappings that re-reconcile an object when something it references changes.

use kube::ResourceExt;
use kube::runtime::reflector::ObjectRef;

use super::context::{Context, Stores};
use super::driver::Stop;
use super::status::Outcome;
use super::tenancy;
use crate::api::{
    AccountRef, AccountState, AwsAccount, CrossAccountRole, DeveloperGroup, NamespacedRef, OrganizationalUnit,
    OrganizationalUnitRef, Reason, ServiceControlPolicy,
};

pub use super::tenancy::Account;

/// Why a reference cannot be used yet, as the outcome the referring object reports.
pub type Unresolved = Outcome;

fn live<K: kube::Resource>(object: &K) -> bool {
    object.meta().deletion_timestamp.is_none()
}

/// The account an object of `namespace` works in (`reference`; none: the
/// identity account), as tenancy allows it. `field` names the reference in
/// messages (`spec.account`).
pub async fn workplace(
    ctx: &Context,
    reference: Option<&AccountRef>,
    namespace: &str,
    field: &str,
) -> Result<Account, Stop> {
    let own = ctx.aws.own_account_id().await?;
    Ok(tenancy::workplace(
        &ctx.stores,
        &ctx.config,
        reference,
        &own,
        namespace,
        field,
    )?)
}

/// The id of an account a cluster-scoped object names (a service control
/// policy's target): an AwsAccount once Active, or an id as it is. The
/// platform team's objects are not a tenant's, so no namespace is checked.
pub fn account_id(stores: &Stores, reference: &AccountRef, field: &str) -> Result<String, Unresolved> {
    match (&reference.name, &reference.id) {
        (_, Some(id)) => Ok(id.clone()),
        (Some(name), None) => {
            let account = stores.accounts.get(&ObjectRef::new(name)).filter(|a| live(a.as_ref()));
            let status = account.as_ref().and_then(|a| a.status.as_ref());
            match (
                account.is_some(),
                status.and_then(|s| s.account_id.clone()),
                status.and_then(|s| s.state),
            ) {
                (true, Some(id), Some(AccountState::Active)) => Ok(id),
                (false, ..) => Err(Outcome::reconciling(
                    Reason::ReferenceNotReady,
                    format!("{field}: AwsAccount {name} does not exist"),
                )),
                _ => Err(Outcome::reconciling(
                    Reason::ReferenceNotReady,
                    format!("{field}: AwsAccount {name} is not Active yet"),
                )),
            }
        }
        (None, None) => Err(Outcome::stalled(
            Reason::InvalidSpec,
            format!("{field}: set name or id"),
        )),
    }
}

/// IAM in an account recorded in status, which the spec may no longer
/// resolve to (its AwsAccount gone, changed, or no longer allowing the
/// namespace): through the access role of the AwsAccount that represents
/// it, else the default.
pub async fn iam_in_recorded_account(
    ctx: &Context,
    account_id: &str,
    requester: &str,
) -> super::error::Result<std::sync::Arc<dyn crate::aws::Iam>> {
    let access_role = tenancy::account_with_id(&ctx.stores, account_id)
        .map(|account| account.spec.access_role_name.clone())
        .filter(|role| !role.is_empty())
        .unwrap_or_else(|| ctx.config.default_access_role.clone());
    Ok(ctx.aws.iam_for(account_id, &access_role, requester).await?)
}

/// The account a DeveloperGroup lives in: its own reference, or the
/// identity account when it names none.
pub async fn group_account(ctx: &Context, group: &DeveloperGroup) -> Result<Account, Stop> {
    let namespace = group.namespace().unwrap_or_default();
    workplace(ctx, group.spec.account.as_ref(), &namespace, "spec.account").await
}

fn namespaced_ref<K: kube::Resource<DynamicType = ()>>(
    reference: &NamespacedRef,
    default_namespace: &str,
) -> ObjectRef<K> {
    ObjectRef::new(&reference.name).within(reference.namespace.as_deref().unwrap_or(default_namespace))
}

pub fn group(stores: &Stores, reference: &NamespacedRef, namespace: &str) -> Option<std::sync::Arc<DeveloperGroup>> {
    stores
        .groups
        .get(&namespaced_ref(reference, namespace))
        .filter(|g| live(g.as_ref()))
}

pub fn role(stores: &Stores, reference: &NamespacedRef, namespace: &str) -> Option<std::sync::Arc<CrossAccountRole>> {
    stores
        .roles
        .get(&namespaced_ref(reference, namespace))
        .filter(|r| live(r.as_ref()))
}

fn refers_to(reference: &NamespacedRef, from_namespace: &str, name: &str, namespace: &str) -> bool {
    reference.name == name && reference.namespace.as_deref().unwrap_or(from_namespace) == namespace
}

/// The roles to revisit when a DeveloperGroup changes: those that trust it.
pub fn roles_trusting(stores: &Stores, group: &DeveloperGroup) -> Vec<ObjectRef<CrossAccountRole>> {
    let (name, namespace) = (group.name_any(), group.namespace().unwrap_or_default());
    stores
        .roles
        .state()
        .iter()
        .filter(|role| {
            let role_namespace = role.namespace().unwrap_or_default();
            role.spec
                .trust
                .developer_groups
                .iter()
                .any(|g| refers_to(g, &role_namespace, &name, &namespace))
        })
        .map(|role| ObjectRef::from_obj(role.as_ref()))
        .collect()
}

/// The groups to revisit when a CrossAccountRole changes: those granting it.
pub fn groups_granting(stores: &Stores, role: &CrossAccountRole) -> Vec<ObjectRef<DeveloperGroup>> {
    let (name, namespace) = (role.name_any(), role.namespace().unwrap_or_default());
    stores
        .groups
        .state()
        .iter()
        .filter(|group| {
            let group_namespace = group.namespace().unwrap_or_default();
            group
                .spec
                .access
                .iter()
                .filter_map(|a| a.role.as_ref())
                .any(|r| refers_to(r, &group_namespace, &name, &namespace))
        })
        .map(|group| ObjectRef::from_obj(group.as_ref()))
        .collect()
}

fn names_account(reference: &AccountRef, account: &str) -> bool {
    reference.name.as_deref() == Some(account)
}

/// Whether a reference names this AwsAccount, by name or by its account id.
fn refers_to_account(reference: &AccountRef, account: &AwsAccount) -> bool {
    let ids = [
        account.spec.account_id.as_deref(),
        account.status.as_ref().and_then(|s| s.account_id.as_deref()),
    ];
    names_account(reference, &account.name_any()) || reference.id.as_deref().is_some_and(|id| ids.contains(&Some(id)))
}

/// The roles to revisit when an AwsAccount changes: those living in it or trusting it.
pub fn roles_in_account(stores: &Stores, account: &AwsAccount) -> Vec<ObjectRef<CrossAccountRole>> {
    stores
        .roles
        .state()
        .iter()
        .filter(|role| {
            refers_to_account(&role.spec.account, account)
                || role.spec.trust.accounts.iter().any(|a| refers_to_account(a, account))
        })
        .map(|role| ObjectRef::from_obj(role.as_ref()))
        .collect()
}

/// The groups to revisit when an AwsAccount changes: those living in it,
/// and those in the identity account (no `account`), which any AwsAccount
/// may be.
pub fn groups_in_account(stores: &Stores, account: &AwsAccount) -> Vec<ObjectRef<DeveloperGroup>> {
    stores
        .groups
        .state()
        .iter()
        .filter(|group| {
            group
                .spec
                .account
                .as_ref()
                .is_none_or(|reference| refers_to_account(reference, account))
        })
        .map(|group| ObjectRef::from_obj(group.as_ref()))
        .collect()
}

/// The roles to revisit when a Secret changes: those taking their external ID from it.
pub fn roles_using_secret(stores: &Stores, secret_name: &str, namespace: &str) -> Vec<ObjectRef<CrossAccountRole>> {
    stores
        .roles
        .state()
        .iter()
        .filter(|role| {
            role.namespace().as_deref() == Some(namespace)
                && role
                    .spec
                    .trust
                    .external_id_secret_ref
                    .as_ref()
                    .is_some_and(|s| s.name == secret_name)
        })
        .map(|role| ObjectRef::from_obj(role.as_ref()))
        .collect()
}

/// An OU a reference resolves to; `path` is known when an OrganizationalUnit object names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResolvedOu {
    pub id: String,
    pub path: Option<String>,
}

/// Resolves an OU reference: an id as it is, an OrganizationalUnit once it
/// is Ready for its current spec. `field` names the reference in messages.
pub fn organizational_unit(
    stores: &Stores,
    reference: &OrganizationalUnitRef,
    field: &str,
) -> Result<ResolvedOu, Unresolved> {
    match (&reference.id, &reference.name) {
        (Some(id), _) => Ok(ResolvedOu {
            id: id.clone(),
            path: None,
        }),
        (None, Some(name)) => {
            let unit = stores.ous.get(&ObjectRef::new(name)).filter(|u| live(u.as_ref()));
            let ready = unit.as_ref().and_then(|unit| {
                let status = unit.status.as_ref()?;
                status
                    .reconcile
                    .is_ready_at(unit.metadata.generation)
                    .then(|| (status.id.clone(), status.path.clone()))
            });
            match (unit, ready) {
                (Some(_), Some((Some(id), path))) => Ok(ResolvedOu { id, path }),
                (None, _) => Err(Outcome::reconciling(
                    Reason::ReferenceNotReady,
                    format!("{field}: OrganizationalUnit {name} does not exist"),
                )),
                (Some(_), _) => Err(Outcome::reconciling(
                    Reason::ReferenceNotReady,
                    format!("{field}: OrganizationalUnit {name} is not Ready yet"),
                )),
            }
        }
        (None, None) => Err(Outcome::stalled(
            Reason::InvalidSpec,
            format!("{field}: set name or id"),
        )),
    }
}

/// The id of the OrganizationalUnit that is Ready with `path`, if any.
pub fn ou_with_path(stores: &Stores, path: Option<&str>) -> Option<String> {
    let path = path?;
    stores.ous.state().iter().find_map(|unit| {
        let status = unit.status.as_ref()?;
        (live(unit.as_ref())
            && status.path.as_deref() == Some(path)
            && status.reconcile.is_ready_at(unit.metadata.generation))
        .then(|| status.id.clone())
        .flatten()
    })
}

fn names_ou(reference: &OrganizationalUnitRef, name: &str) -> bool {
    reference.name.as_deref() == Some(name)
}

/// The OUs to revisit when an OrganizationalUnit changes: those under it.
pub fn ous_under(stores: &Stores, parent: &OrganizationalUnit) -> Vec<ObjectRef<OrganizationalUnit>> {
    let name = parent.name_any();
    stores
        .ous
        .state()
        .iter()
        .filter(|unit| unit.spec.parent.as_ref().is_some_and(|p| names_ou(p, &name)))
        .map(|unit| ObjectRef::from_obj(unit.as_ref()))
        .collect()
}

/// The accounts to revisit when an OrganizationalUnit changes: those whose
/// `organizationalUnit` names it by path or id, which may be waiting for it.
pub fn accounts_placed_in(stores: &Stores, unit: &OrganizationalUnit) -> Vec<ObjectRef<AwsAccount>> {
    let Some(status) = &unit.status else {
        return vec![];
    };
    let names = |placement: &str| status.path.as_deref() == Some(placement) || status.id.as_deref() == Some(placement);
    stores
        .accounts
        .state()
        .iter()
        .filter(|account| account.spec.organizational_unit.as_deref().is_some_and(names))
        .map(|account| ObjectRef::from_obj(account.as_ref()))
        .collect()
}

/// The policies to revisit when an OrganizationalUnit changes: those targeting it.
pub fn policies_targeting_ou(stores: &Stores, unit: &OrganizationalUnit) -> Vec<ObjectRef<ServiceControlPolicy>> {
    let name = unit.name_any();
    stores
        .policies
        .state()
        .iter()
        .filter(|policy| {
            policy
                .spec
                .targets
                .organizational_units
                .iter()
                .any(|r| names_ou(r, &name))
        })
        .map(|policy| ObjectRef::from_obj(policy.as_ref()))
        .collect()
}

/// The policies to revisit when an AwsAccount changes: those targeting it.
pub fn policies_targeting_account(stores: &Stores, account: &AwsAccount) -> Vec<ObjectRef<ServiceControlPolicy>> {
    let name = account.name_any();
    stores
        .policies
        .state()
        .iter()
        .filter(|policy| policy.spec.targets.accounts.iter().any(|a| names_account(a, &name)))
        .map(|policy| ObjectRef::from_obj(policy.as_ref()))
        .collect()
}

//! Resolving references between kinds from the caches. The reverse
//! mappings, which re-reconcile an object when something it references
//! changes, are each kind's `triggers`.

use kube::ResourceExt;
use kube::runtime::reflector::ObjectRef;

use super::context::{Context, Stores};
use super::driver::Stop;
use super::organizational_unit::triggers::at_path;
use super::status::Outcome;
use super::tenancy;
use crate::api::{
    AccountRef, AccountState, CrossAccountRole, DeveloperGroup, NamespacedRef, OrganizationalUnitRef, Reason,
};

pub use super::tenancy::Account;

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
pub fn account_id(stores: &Stores, reference: &AccountRef, field: &str) -> Result<String, Outcome> {
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
) -> Result<ResolvedOu, Outcome> {
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
    stores.ous.find([at_path(path).as_str()]).iter().find_map(|unit| {
        let status = unit.status.as_ref()?;
        (status.path.as_deref() == Some(path) && status.reconcile.is_ready_at(unit.metadata.generation))
            .then(|| status.id.clone())
            .flatten()
    })
}

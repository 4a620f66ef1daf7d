//! OrganizationalUnit: an OU of the organization under the root or another
//! OU. The Organizations driver runs the reconcile; this kind says where the
//! OU sits, what it should be called and tagged, and when it may go: only
//! once empty, since AWS deletes nothing else and accounts must not be
//! dropped at the root by surprise.

mod observe;
pub mod plan;
pub mod triggers;

use async_trait::async_trait;
use kube::api::Api;
use kube::{Client, ResourceExt};

use super::context::Context;
use super::driver::organization::{self, Found, Identity, Made, OrgOwned};
use super::driver::owned::{Policies, Resolved};
use super::driver::{Reconciler, Stop};
use super::error::{Error, Result};
use super::ownership::{OWNER_TAG, Owner};
use super::refs;
use super::status::Outcome;
use crate::api::{
    DeletionPolicy, OrganizationalUnit, OrganizationalUnitDeletionPolicy, OrganizationalUnitRef,
    OrganizationalUnitStatus, Reason,
};
use crate::aws::{AwsResult, Organizations, gone_is_done};
use plan::{Change, DesiredOu, OuState, child_path};

#[async_trait]
impl Reconciler for OrganizationalUnit {
    fn api(&self, client: Client) -> Api<Self> {
        Api::all(client)
    }

    async fn converge(
        &self,
        ctx: &Context,
        api: &Api<Self>,
        status: &mut OrganizationalUnitStatus,
    ) -> Result<Outcome, Stop> {
        organization::converge(self, ctx, api, status).await
    }

    async fn cleanup(&self, ctx: &Context, api: &Api<Self>) -> Result<()> {
        organization::cleanup(self, ctx, api).await
    }
}

/// The id and path of the OU's parent; the root's path is empty.
async fn parent(ctx: &Context, reference: Option<&OrganizationalUnitRef>) -> Result<(String, String), Stop> {
    let orgs = ctx.aws.organizations();
    let Some(reference) = reference else {
        return Ok((orgs.root_id().await?, String::new()));
    };
    let resolved = refs::organizational_unit(&ctx.stores, reference, "spec.parent")?;
    let path = match resolved.path {
        Some(path) => path,
        None if resolved.id.starts_with("r-") => String::new(),
        None => observe::path_of(orgs.as_ref(), &resolved.id).await?.ok_or_else(|| {
            Outcome::stalled(
                Reason::InvalidSpec,
                format!("spec.parent: no OU has id {}", resolved.id),
            )
        })?,
    };
    Ok((resolved.id, path))
}

#[async_trait]
impl OrgOwned for OrganizationalUnit {
    const NOUN: &'static str = "organizational unit";
    type Desired = DesiredOu;
    type Observed = Option<OuState>;
    type Change = Change;

    fn policies(&self) -> Policies {
        Policies {
            management: self.spec.management_policy,
            deletion: match self.spec.deletion_policy {
                OrganizationalUnitDeletionPolicy::Retain => DeletionPolicy::Retain,
                OrganizationalUnitDeletionPolicy::Delete => DeletionPolicy::Delete,
            },
            adopt_existing: self.spec.adopt_existing,
        }
    }

    fn identity(status: &mut OrganizationalUnitStatus) -> Identity<'_> {
        Identity {
            id: &mut status.id,
            arn: &mut status.arn,
            ownership: &mut status.ownership,
        }
    }

    async fn desired(&self, ctx: &Context) -> Result<Resolved<DesiredOu>, Stop> {
        let name = self.spec.ou_name.clone().unwrap_or_else(|| self.name_any());
        let (parent_id, parent_path) = parent(ctx, self.spec.parent.as_ref()).await?;
        let mut tags = self.spec.tags.clone();
        tags.insert(
            OWNER_TAG.into(),
            Owner::of(self, &ctx.config.installation_id).tag().into(),
        );
        Ok(Resolved::complete(DesiredOu {
            path: child_path(&parent_path, &name),
            name,
            parent_id,
            tags,
        }))
    }

    async fn observe(
        orgs: &dyn Organizations,
        desired: &DesiredOu,
        recorded_id: Option<&str>,
    ) -> AwsResult<Option<OuState>> {
        observe::ou(orgs, desired, recorded_id).await
    }

    fn found(observed: &Option<OuState>) -> Option<Found<'_>> {
        observed.as_ref().map(|state| Found {
            id: &state.unit.id,
            arn: &state.unit.arn,
            tags: &state.tags,
        })
    }

    fn plan(desired: &DesiredOu, observed: &Option<OuState>) -> Vec<Change> {
        plan::plan(desired, observed.as_ref())
    }

    async fn perform(orgs: &dyn Organizations, id: &str, change: &Change) -> AwsResult<Option<Made>> {
        match change {
            Change::Create { parent_id, name, tags } => {
                let unit = orgs.create_organizational_unit(parent_id, name, tags).await?;
                return Ok(Some(Made {
                    id: unit.id,
                    arn: unit.arn,
                }));
            }
            Change::Rename(name) => orgs.rename_organizational_unit(id, name).await?,
            Change::Tag(tags) => orgs.tag_resource(id, tags).await?,
            Change::Untag(keys) => orgs.untag_resource(id, keys).await?,
        }
        Ok(None)
    }

    async fn delete(orgs: &dyn Organizations, id: &str, what: &str) -> Result<()> {
        let accounts = orgs.list_child_accounts(id).await?;
        let units = orgs.list_organizational_units(id).await?;
        if !accounts.is_empty() || !units.is_empty() {
            let units: Vec<String> = units.iter().map(|u| format!("{} ({})", u.name, u.id)).collect();
            let inside: Vec<String> = [("accounts", accounts), ("OUs", units)]
                .into_iter()
                .filter(|(_, members)| !members.is_empty())
                .map(|(kind, members)| format!("{kind} {}", members.join(", ")))
                .collect();
            return Err(Error::Pending {
                reason: Reason::NotEmpty,
                message: format!(
                    "{what} still holds {}; it is deleted once empty (move them out, or set spec.deletionPolicy: Retain to keep it)",
                    inside.join(" and ")
                ),
            });
        }
        Ok(gone_is_done(orgs.delete_organizational_unit(id).await)?)
    }

    fn what(desired: &DesiredOu) -> String {
        format!("organizational unit {}", desired.path)
    }

    fn record(status: &mut OrganizationalUnitStatus, desired: &DesiredOu, observed: &Option<OuState>, applied: bool) {
        status.path = (applied || observed.is_some()).then(|| desired.path.clone());
    }
}

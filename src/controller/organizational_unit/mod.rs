//! OrganizationalUnit: an OU of the organization under the root or another
//! OU. The Organizations driver runs the reconcile; this kind says where the
//! OU sits, what it should be called and tagged, and when it may go: only
//! once empty, since AWS deletes nothing else and accounts must not be
//! dropped at the root by surprise.

mod apply;
mod observe;
mod plan;
mod resolve;
pub mod triggers;

use async_trait::async_trait;

use super::admission::Admitted;
use super::context::Context;
use super::driver::Stop;
use super::driver::organization::{Existing, Identity, NewResource, OrgOwned};
use super::driver::owned::{Policies, Resolved};
use super::error::Result;
use super::kind_reconciler::driver_kind_reconciler;
use crate::api::{OrganizationalUnit, OrganizationalUnitStatus};
use crate::aws::{AwsResult, Organizations};
use plan::{Change, DesiredOu, OuState};

driver_kind_reconciler!(OrganizationalUnit, organization, cluster);

#[async_trait]
impl OrgOwned for OrganizationalUnit {
    const NOUN: &'static str = "organizational unit";
    type Desired = DesiredOu;
    type Observed = Option<OuState>;
    type Change = Change;

    fn policies(&self) -> Policies {
        plan::policies(&self.spec)
    }

    fn identity(status: &mut OrganizationalUnitStatus) -> Identity<'_> {
        Identity {
            id: &mut status.id,
            arn: &mut status.arn,
            ownership: &mut status.ownership,
        }
    }

    async fn desired(&self, ctx: &Context) -> Result<Resolved<DesiredOu>, Stop> {
        resolve::desired(self, ctx).await
    }

    async fn observe(
        orgs: &dyn Organizations,
        desired: &DesiredOu,
        recorded_id: Option<&str>,
    ) -> AwsResult<Option<OuState>> {
        observe::ou(orgs, desired, recorded_id).await
    }

    fn existing(observed: &Option<OuState>) -> Option<Existing<'_>> {
        observed.as_ref().map(|state| Existing {
            id: &state.unit.id,
            arn: &state.unit.arn,
            tags: &state.tags,
        })
    }

    fn plan(desired: &DesiredOu, observed: &Option<OuState>) -> Vec<Change> {
        plan::plan(desired, observed.as_ref())
    }

    async fn perform(orgs: &dyn Organizations, id: &str, change: &Change) -> AwsResult<Option<NewResource>> {
        apply::perform(orgs, id, change).await
    }

    async fn delete(orgs: &dyn Organizations, id: &str, unit_label: &str) -> Result<()> {
        apply::delete(orgs, id, unit_label).await
    }

    fn label(desired: &DesiredOu) -> String {
        format!("organizational unit {}", desired.path)
    }

    fn record(status: &mut OrganizationalUnitStatus, desired: &DesiredOu, observed: &Option<OuState>, applied: bool) {
        status.path = (applied || observed.is_some()).then(|| desired.path.clone());
    }
}

/// Cluster-scoped and the platform team's: nothing a namespace could ask for.
impl Admitted for OrganizationalUnit {}

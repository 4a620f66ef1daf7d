//! IamUser: a person or a service account in the identity account. The
//! driver runs the reconcile; this kind says where the user lives, what it
//! should be, and how to read and write it, its Secrets included.

mod apply;
mod observe;
pub mod plan;
pub mod resolve;
pub mod triggers;

use std::time::Duration;

use async_trait::async_trait;
use k8s_openapi::jiff::Timestamp;

use super::admission::{Admitted, Review};
use super::context::{Config, Context};
use super::driver::owned::{Identity, Owned, Policies, Resolved, Target};
use super::driver::{Next, Stop};
use super::kind_reconciler::driver_kind_reconciler;
use super::ownership::{Claim, claim_tagged};
use super::status::Outcome;
use crate::api::{IamUser, IamUserStatus, ManagementPolicy};
use crate::aws::{AwsResult, Iam};
use plan::{Change, DesiredUser, ObservedUser};

driver_kind_reconciler!(
    IamUser,
    owned,
    namespaced,
    fn next(&self, outcome: &Outcome, status: &IamUserStatus, config: &Config) -> Next {
        // A rotation step due before the resync is looked at on time.
        match plan::next_rotation_step(&self.spec, status, Timestamp::now()) {
            Some(due) if outcome.is_ready() && due < config.resync_interval => {
                Next::After(due.max(Duration::from_secs(1)))
            }
            _ => Next::Resync,
        }
    }
);

#[async_trait]
impl Owned for IamUser {
    const NOUN: &'static str = "IAM user";
    const READ_BACK: bool = true;
    type Observed = ObservedUser;
    type Desired = DesiredUser;
    type Change = Change;

    fn policies(&self) -> Policies {
        Policies {
            management: ManagementPolicy::Manage,
            deletion: self.spec.deletion_policy,
            adopt_existing: self.spec.adopt_existing,
        }
    }

    fn identity(status: &mut IamUserStatus) -> Identity<'_> {
        Identity {
            account_id: &mut status.account_id,
            name: &mut status.user_name,
            arn: &mut status.user_arn,
            ownership: &mut status.ownership,
        }
    }

    fn validate(&self) -> Result<(), String> {
        plan::validate(&self.spec)
    }

    async fn target(&self, ctx: &Context) -> Result<Target, Stop> {
        resolve::target(self, ctx).await
    }

    async fn desired(&self, ctx: &Context, target: &Target) -> Result<Resolved<DesiredUser>, Stop> {
        resolve::desired(self, ctx, target).await
    }

    async fn observe(&self, iam: &dyn Iam, target: &Target) -> AwsResult<ObservedUser> {
        observe::user(iam, &target.name).await
    }

    fn arn(observed: &ObservedUser) -> Option<&str> {
        observed.user.as_ref().map(|user| user.arn.as_str())
    }

    fn claim(&self, _ctx: &Context, _status: &IamUserStatus, target: &Target, observed: &ObservedUser) -> Claim {
        claim_tagged(
            observed.user.as_ref().map(|user| &user.tags),
            &target.owner,
            self.spec.adopt_existing,
        )
    }

    fn plan(desired: &DesiredUser, observed: &ObservedUser) -> Vec<Change> {
        plan::plan(desired, observed)
    }

    async fn perform(iam: &dyn Iam, name: &str, change: &Change) -> AwsResult<Option<String>> {
        apply::perform(iam, name, change).await
    }

    async fn perform_for(
        &self,
        ctx: &Context,
        iam: &dyn Iam,
        target: &Target,
        change: &Change,
    ) -> Result<Option<String>, Stop> {
        apply::perform_for(self, ctx, iam, target, change).await
    }

    async fn delete(iam: &dyn Iam, name: &str, _observed: &ObservedUser) -> AwsResult<()> {
        apply::delete(iam, name).await
    }

    async fn release(iam: &dyn Iam, name: &str, observed: &ObservedUser) -> AwsResult<()> {
        apply::release(iam, name, observed).await
    }

    fn lock(_target: &Target, observed: &ObservedUser) -> Vec<Change> {
        plan::lock(observed)
    }

    fn record(&self, status: &mut IamUserStatus, _desired: &DesiredUser, observed: &ObservedUser, _applied: bool) {
        plan::record(status, observed);
    }
}

impl Admitted for IamUser {
    fn refusals(&self, review: &Review) -> Vec<String> {
        review.user(self)
    }
}

#[cfg(test)]
mod tests;

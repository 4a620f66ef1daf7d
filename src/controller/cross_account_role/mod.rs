//! CrossAccountRole: an IAM role in a target account whose trust policy
//! names who may assume it. The driver runs the reconcile; this kind says
//! where the role lives, what it should be, and how to read and write it.

mod apply;
mod observe;
mod plan;

use async_trait::async_trait;
use kube::api::Api;
use kube::{Client, ResourceExt};

use super::context::Context;
use super::driver::owned::{self, Describe, Identity, Owned, Resolved, Target, policies_from_spec};
use super::driver::{Reconciler, Stop};
use super::error::Result;
use super::ownership::{Claim, owner_id};
use super::refs;
use super::status::Outcome;
use crate::api::{CrossAccountRole, CrossAccountRoleStatus, Reason};
use crate::aws::{AwsResult, Iam, RoleState};
use crate::policy::console::switch_role_url;
use crate::policy::trust::trust_nobody;
use plan::{Change, DesiredRole};

#[async_trait]
impl Reconciler for CrossAccountRole {
    fn api(&self, client: Client) -> Api<Self> {
        Api::namespaced(client, &self.namespace().unwrap_or_default())
    }

    async fn converge(
        &self,
        ctx: &Context,
        api: &Api<Self>,
        status: &mut CrossAccountRoleStatus,
    ) -> Result<Outcome, Stop> {
        owned::converge(self, ctx, api, status).await
    }

    async fn cleanup(&self, ctx: &Context, _api: &Api<Self>) -> Result<()> {
        owned::cleanup(self, ctx).await
    }
}

#[async_trait]
impl Owned for CrossAccountRole {
    const NOUN: &'static str = "IAM role";
    type Observed = Option<RoleState>;
    type Desired = DesiredRole;
    type Change = Change;

    policies_from_spec!();

    fn identity(status: &mut CrossAccountRoleStatus) -> Identity<'_> {
        Identity {
            account_id: &mut status.account_id,
            name: &mut status.role_name,
            arn: &mut status.role_arn,
            ownership: &mut status.ownership,
        }
    }

    fn validate(&self) -> Result<(), String> {
        plan::validate(&self.spec)
    }

    async fn target(&self, ctx: &Context) -> Result<Target, Stop> {
        let namespace = self.namespace().unwrap_or_default();
        Ok(Target {
            account: refs::account(
                &ctx.stores,
                &ctx.config,
                &self.spec.account,
                Some(&namespace),
                "spec.account",
            )?,
            name: self.spec.role_name.clone().unwrap_or_else(|| self.name_any()),
        })
    }

    async fn desired(&self, ctx: &Context, target: &Target) -> Result<Resolved<DesiredRole>, Stop> {
        let trust = observe::trust(ctx, self).await?;
        let locked = trust.policy.is_none();
        let policy = trust.policy.unwrap_or_else(|| trust_nobody(&target.account.id));
        let mut desired = plan::desired(&self.spec, &target.name, policy, &owner_id(self))
            .map_err(|message| Outcome::stalled(Reason::InvalidSpec, message))?;
        desired.create_if_missing = !locked;
        Ok(Resolved {
            desired,
            waiting: trust.waiting,
        })
    }

    async fn observe(&self, iam: &dyn Iam, name: &str) -> AwsResult<Option<RoleState>> {
        iam.get_role(name).await
    }

    fn arn(observed: &Option<RoleState>) -> Option<&str> {
        observed.as_ref().map(|role| role.arn.as_str())
    }

    fn claim(
        &self,
        _ctx: &Context,
        _status: &CrossAccountRoleStatus,
        _target: &Target,
        observed: &Option<RoleState>,
    ) -> Claim {
        plan::claim(observed.as_ref(), &owner_id(self), self.spec.adopt_existing)
    }

    fn plan(desired: &DesiredRole, observed: &Option<RoleState>) -> Vec<Change> {
        plan::plan(desired, observed.as_ref())
    }

    fn explain(change: &Change, observed: &Option<RoleState>) -> Vec<String> {
        plan::explain(change, observed.as_ref())
    }

    async fn perform(iam: &dyn Iam, name: &str, change: &Change) -> AwsResult<Option<String>> {
        apply::perform(iam, name, change).await
    }

    async fn delete(iam: &dyn Iam, name: &str) -> AwsResult<()> {
        apply::delete_role(iam, name).await
    }

    fn record(
        &self,
        status: &mut CrossAccountRoleStatus,
        _desired: &DesiredRole,
        _observed: &Option<RoleState>,
        _applied: bool,
    ) {
        status.console_url = status.role_arn.as_deref().and_then(|arn| {
            let display = format!(
                "{} @ {}",
                status.role_name.as_deref().unwrap_or_default(),
                status.account_id.as_deref().unwrap_or_default()
            );
            switch_role_url(arn, &display)
        });
    }
}

impl Describe for Change {
    fn describe(&self) -> String {
        Change::describe(self)
    }

    fn creates(&self) -> bool {
        matches!(self, Change::Create(_))
    }
}

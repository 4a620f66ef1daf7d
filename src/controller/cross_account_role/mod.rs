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
use super::ownership::{Claim, claim_tagged, owner_id};
use super::refs;
use super::status::Outcome;
use crate::api::{CrossAccountRole, CrossAccountRoleStatus, Reason};
use crate::aws::{AwsResult, Iam, ManagedPolicyState, fresh, policy_name};
use crate::policy::console::switch_role_url;
use crate::policy::trust::trust_nobody;
use plan::{Change, DesiredRole, ObservedRole};

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
    type Observed = ObservedRole;
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
        let mut desired = plan::desired(
            &self.spec,
            &target.name,
            policy,
            &owner_id(self),
            &policy_arn_prefix(None, self.status.as_ref(), &target.account.id),
        )
        .map_err(|message| Outcome::stalled(Reason::InvalidSpec, message))?;
        desired.create_if_missing = !locked;
        Ok(Resolved {
            desired,
            waiting: trust.waiting,
        })
    }

    async fn observe(&self, iam: &dyn Iam, target: &Target) -> AwsResult<ObservedRole> {
        let role = iam.get_role(&target.name).await?;
        let partition_from = role.as_ref().map(|role| role.arn.as_str());
        let prefix = policy_arn_prefix(partition_from, self.status.as_ref(), &target.account.id);
        let recorded = self
            .status
            .as_ref()
            .map(|status| status.customer_managed_policy_arns.as_slice())
            .unwrap_or_default();
        let mut policies = std::collections::BTreeMap::new();
        for listed in &self.spec.permissions.customer_managed_policies {
            let found = self.policy(iam, &format!("{prefix}{}", listed.name), recorded).await?;
            policies.insert(listed.name.clone(), found);
        }
        let mut retired = vec![];
        for arn in recorded {
            let listed = self
                .spec
                .permissions
                .customer_managed_policies
                .iter()
                .any(|p| p.name.eq_ignore_ascii_case(policy_name(arn)));
            if !listed && let Some((policy, Claim::Ours | Claim::Adoptable)) = self.policy(iam, arn, recorded).await? {
                retired.push(policy);
            }
        }
        Ok(ObservedRole {
            role,
            policies,
            retired,
        })
    }

    fn arn(observed: &ObservedRole) -> Option<&str> {
        observed.role.as_ref().map(|role| role.arn.as_str())
    }

    fn claim(
        &self,
        _ctx: &Context,
        _status: &CrossAccountRoleStatus,
        _target: &Target,
        observed: &ObservedRole,
    ) -> Claim {
        plan::claim(observed.role.as_ref(), &owner_id(self), self.spec.adopt_existing)
    }

    fn refuse_part(&self, observed: &ObservedRole) -> Option<Outcome> {
        observed
            .policies
            .values()
            .flatten()
            .find_map(|(policy, claim)| claim.refusal(&format!("customer-managed policy {}", policy.arn)))
    }

    fn plan(desired: &DesiredRole, observed: &ObservedRole) -> Vec<Change> {
        plan::plan(desired, observed)
    }

    fn explain(change: &Change, observed: &ObservedRole) -> Vec<String> {
        plan::explain(change, observed)
    }

    async fn perform(iam: &dyn Iam, name: &str, change: &Change) -> AwsResult<Option<String>> {
        apply::perform(iam, name, change).await
    }

    async fn delete(iam: &dyn Iam, name: &str, observed: &ObservedRole) -> AwsResult<()> {
        apply::delete(iam, name, observed).await
    }

    fn record(
        &self,
        status: &mut CrossAccountRoleStatus,
        desired: &DesiredRole,
        observed: &ObservedRole,
        applied: bool,
    ) {
        if applied {
            // The observed ARN where the policy exists: it may sit under a path.
            status.customer_managed_policy_arns = desired
                .customer_policies
                .iter()
                .map(|(name, policy)| match observed.policies.get(name) {
                    Some(Some((found, _))) => found.arn.clone(),
                    _ => policy.arn.clone(),
                })
                .collect();
        }
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

impl CrossAccountRole {
    /// A customer-managed policy and whether this object may manage it.
    /// The account listing carries no tags for policies: one this object
    /// has not recorded as its own is read from AWS, tags and all.
    async fn policy(
        &self,
        iam: &dyn Iam,
        arn: &str,
        recorded: &[String],
    ) -> AwsResult<Option<(ManagedPolicyState, Claim)>> {
        let is_recorded = recorded.iter().any(|r| r == arn);
        let mut found = iam.get_policy(arn).await?;
        if !is_recorded && found.as_ref().is_some_and(|policy| policy.tags.is_none()) {
            found = fresh(iam).get_policy(arn).await?;
        }
        Ok(found.map(|policy| {
            let claim = match &policy.tags {
                // Only a policy this object recorded is left with its tags unread.
                None if is_recorded => Claim::Ours,
                None => Claim::Foreign,
                Some(tags) => match claim_tagged(Some(tags), &owner_id(self), self.spec.adopt_existing) {
                    // Adopted before: the status is its record.
                    Claim::Foreign | Claim::Adoptable if is_recorded => Claim::Ours,
                    claim => claim,
                },
            };
            (policy, claim)
        }))
    }
}

/// `arn:<partition>:iam::<account>:policy/`, the partition that of the
/// role's ARN as read or recorded (the default one before the role exists).
fn policy_arn_prefix(role_arn: Option<&str>, status: Option<&CrossAccountRoleStatus>, account_id: &str) -> String {
    let partition = role_arn
        .or_else(|| status.and_then(|s| s.role_arn.as_deref()))
        .and_then(|arn| arn.split(':').nth(1))
        .unwrap_or("aws");
    format!("arn:{partition}:iam::{account_id}:policy/")
}

impl Describe for Change {
    fn describe(&self) -> String {
        Change::describe(self)
    }

    fn creates(&self) -> bool {
        matches!(self, Change::Create(_))
    }
}

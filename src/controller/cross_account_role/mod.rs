//! CrossAccountRole: an IAM role in a target account whose trust policy
//! names who may assume it. The driver runs the reconcile; this kind says
//! where the role lives, what it should be, and how to read and write it.

mod apply;
mod observe;
mod plan;
pub mod triggers;

use async_trait::async_trait;
use kube::api::Api;
use kube::{Client, ResourceExt};

use super::context::Context;
use super::driver::owned::{self, Describe, Identity, Owned, Resolved, Target, policies_from_spec};
use super::driver::{Reconciler, Stop};
use super::error::Result;
use super::guardrails;
use super::ownership::{Claim, OWNER_TAG, Owner, claim_tagged};
use super::refs;
use super::status::Outcome;
use super::tenancy;
use crate::api::{CrossAccountRole, CrossAccountRoleSpec, CrossAccountRoleStatus, Reason};
use crate::aws::{AwsResult, Iam, ManagedPolicyState, fresh, gone_is_done, policy_name};
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

    /// Tenancy first: the account must allow the namespace, and the name
    /// must be one a namespace may manage there.
    async fn target(&self, ctx: &Context) -> Result<Target, Stop> {
        let namespace = self.namespace().unwrap_or_default();
        let account = refs::workplace(ctx, Some(&self.spec.account), &namespace, "spec.account").await?;
        let (name, field) = match &self.spec.role_name {
            Some(name) => (name.clone(), "spec.roleName"),
            None => (self.name_any(), "metadata.name"),
        };
        tenancy::role_name(&account, &name, self.spec.adopt_existing, None, field)?;
        Ok(Target {
            account,
            name,
            owner: Owner::of(self, &ctx.config.installation_id),
        })
    }

    /// What the spec asks for, as far as its references resolve and its
    /// account's guardrails allow: what either leaves out is not granted.
    async fn desired(&self, ctx: &Context, target: &Target) -> Result<Resolved<DesiredRole>, Stop> {
        let by_partner = tenancy::made_by_partner(&ctx.stores, self);
        let allowed = guardrails::role(&target.account, &self.spec, by_partner);
        let mut trust = observe::trust(ctx, self, &target.account).await?;
        if !allowed.granted.trust {
            trust.policy = None;
        }
        let locked = trust.policy.is_none();
        let policy = trust.policy.unwrap_or_else(|| trust_nobody(&target.account.id));
        let spec = CrossAccountRoleSpec {
            permissions: allowed.granted.permissions,
            max_session_duration: allowed.granted.max_session_duration,
            ..self.spec.clone()
        };
        trust.waiting.extend(allowed.refusals);
        let mut desired = plan::desired(
            &spec,
            &target.name,
            policy,
            &target.owner,
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
            let found = policy(iam, &format!("{prefix}{}", listed.name), &target.owner).await?;
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
            if !listed && let Some((policy, Claim::Ours)) = policy(iam, arn, &target.owner).await? {
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
        target: &Target,
        observed: &ObservedRole,
    ) -> Claim {
        plan::claim(observed.role.as_ref(), &target.owner, self.spec.adopt_existing)
    }

    /// A customer-managed policy is never adopted: one of that name the
    /// operator did not make stays someone else's.
    fn refuse_part(&self, observed: &ObservedRole) -> Option<Outcome> {
        observed.policies.values().flatten().find_map(|(policy, claim)| match claim {
            Claim::Foreign => Some(Outcome::stalled(
                Reason::AlreadyExists,
                format!(
                    "customer-managed policy {} already exists and was not created by the operator, which never takes a policy over; rename the policy in the spec, or delete the existing one",
                    policy.arn
                ),
            )),
            claim => claim.refusal(&format!("customer-managed policy {}", policy.arn)),
        })
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

    async fn release(iam: &dyn Iam, name: &str, observed: &ObservedRole) -> AwsResult<()> {
        match &observed.role {
            Some(_) => gone_is_done(iam.untag_role(name, &[OWNER_TAG.to_string()]).await),
            None => Ok(()),
        }
    }

    fn lock(target: &Target, observed: &ObservedRole) -> Vec<Change> {
        plan::lock(&target.account.id, observed.role.as_ref())
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

/// A customer-managed policy and whether this object may manage it: only
/// with its owner tag, which the account listing does not carry for
/// policies, so one read without its tags is read again from AWS.
async fn policy(iam: &dyn Iam, arn: &str, owner: &Owner) -> AwsResult<Option<(ManagedPolicyState, Claim)>> {
    let mut found = iam.get_policy(arn).await?;
    if found.as_ref().is_some_and(|policy| policy.tags.is_none()) {
        found = fresh(iam).get_policy(arn).await?;
    }
    Ok(found.map(|policy| {
        // Adopting a policy is not offered: its owner tag is its only proof of ownership.
        let claim = claim_tagged(Some(&policy.tags.clone().unwrap_or_default()), owner, false);
        (policy, claim)
    }))
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

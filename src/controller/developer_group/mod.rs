//! DeveloperGroup: an IAM group in the identity account whose members may
//! assume the listed roles. IAM groups take no tags, so ownership lives in
//! the object's status, claimed before the group is created.

mod plan;
pub mod triggers;

pub use plan::ASSUME_POLICY_NAME;

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use kube::api::Api;
use kube::{Client, ResourceExt};

use super::context::{Config, Context};
use super::driver::owned::{self, Describe, Identity, Owned, Resolved, Target, policies_from_spec};
use super::driver::{Next, Reconciler, Stop};
use super::error::Result;
use super::guardrails;
use super::ownership::{Claim, Owner, object_id, requester};
use super::refs;
use super::status::Outcome;
use super::tenancy;
use crate::api::{
    ConditionType, CrossAccountRole, DeveloperGroup, DeveloperGroupStatus, NamespacedRef, Profile, Reason,
};
use crate::aws::{AwsResult, GroupState, Iam, gone_is_done};
use crate::policy::console::switch_role_url;
use crate::policy::document::statement_changes;
use crate::policy::trust::{assume_role_policy, render_aws_config};
use crate::policy::validate::{GROUP_INLINE_POLICIES_MAX_CHARS, validate_inline_policies_size};
use plan::{Change, DesiredGroup};

/// How soon a group with missing users looks for them again.
const MISSING_USERS_RECHECK: Duration = Duration::from_secs(60);

/// The group as the spec wants it, before AWS says which members exist.
pub struct DesiredAccess {
    name: String,
    /// Profile name and role ARN of each access entry that resolves.
    profiles: Vec<(String, String)>,
    role_arns: Vec<String>,
    members: Vec<String>,
    require_mfa: bool,
    managed_policy_arns: Vec<String>,
}

/// The group, and which of the listed members exist as IAM users.
pub struct ObservedGroup {
    group: Option<GroupState>,
    users: BTreeMap<String, String>,
}

impl DesiredAccess {
    fn group(&self, observed: &ObservedGroup) -> (DesiredGroup, Vec<String>) {
        let (members, missing) = plan::split_members(&self.members, &observed.users);
        let desired = DesiredGroup {
            name: self.name.clone(),
            members,
            assume_policy: assume_role_policy(&self.role_arns, self.require_mfa),
            managed_policy_arns: self.managed_policy_arns.iter().cloned().collect(),
        };
        (desired, missing)
    }
}

#[async_trait]
impl Reconciler for DeveloperGroup {
    fn api(&self, client: Client) -> Api<Self> {
        Api::namespaced(client, &self.namespace().unwrap_or_default())
    }

    async fn converge(
        &self,
        ctx: &Context,
        api: &Api<Self>,
        status: &mut DeveloperGroupStatus,
    ) -> Result<Outcome, Stop> {
        owned::converge(self, ctx, api, status).await
    }

    async fn cleanup(&self, ctx: &Context, _api: &Api<Self>) -> Result<()> {
        owned::cleanup(self, ctx).await
    }

    fn next(&self, outcome: &Outcome, _config: &Config) -> Next {
        match outcome.reason {
            Reason::MissingUsers => Next::After(MISSING_USERS_RECHECK),
            _ => Next::Resync,
        }
    }
}

/// The ARN a CrossAccountRole reference stands for (rule 4): a role of the
/// group's namespace, or of another whose trust names the group, that the
/// operator manages for that object as its spec is now. Never the ARN its
/// spec alone would give: a role the operator refused (a protected name, a
/// namespace not allowed) must not become assumable through a group.
fn role_arn(
    group: &DeveloperGroup,
    role: Option<&CrossAccountRole>,
    reference: &NamespacedRef,
) -> Result<String, Outcome> {
    let group_namespace = group.namespace().unwrap_or_default();
    let role_namespace = reference.namespace.as_deref().unwrap_or(&group_namespace);
    let Some(role) = role else {
        return Err(Outcome::reconciling(
            Reason::ReferenceNotReady,
            format!("CrossAccountRole {role_namespace}/{} does not exist", reference.name),
        ));
    };
    if !tenancy::consents(role, &group.name_any(), &group_namespace) {
        return Err(Outcome::stalled(
            Reason::NamespaceNotAllowed,
            format!(
                "CrossAccountRole {role_namespace}/{} is in another namespace and its spec.trust.developerGroups does not name DeveloperGroup {group_namespace}/{}; a group grants another namespace's role only with that role's consent",
                reference.name,
                group.name_any()
            ),
        ));
    }
    // The role the operator holds for that object under its current name:
    // an edit of its permissions keeps it granted, a refused or locked one
    // (a protected name, a namespace taken away) is not.
    let name = role.spec.role_name.clone().unwrap_or_else(|| role.name_any());
    let managed = role.status.as_ref().and_then(|status| {
        let locked = status
            .reconcile
            .condition(ConditionType::Stalled)
            .is_some_and(|c| c.status == "True" && c.reason == Reason::NamespaceNotAllowed.as_str());
        let held = status.ownership.is_some() && status.role_name.as_deref() == Some(name.as_str()) && !locked;
        held.then(|| status.role_arn.clone()).flatten()
    });
    managed.ok_or_else(|| {
        Outcome::reconciling(
            Reason::ReferenceNotReady,
            format!(
                "CrossAccountRole {role_namespace}/{} has no role the operator holds yet",
                reference.name
            ),
        )
    })
}

impl DeveloperGroup {
    /// The managed policies the account's guardrails let the group attach;
    /// each customer-managed one is judged by its default version.
    async fn allowed_policies(&self, ctx: &Context, target: &Target) -> Result<guardrails::Allowed<Vec<String>>, Stop> {
        let account = &target.account;
        let customer_managed: Vec<&String> = self
            .spec
            .managed_policy_arns
            .iter()
            .filter(|arn| !arn.contains(":iam::aws:policy/"))
            .collect();
        let mut documents = BTreeMap::new();
        if !customer_managed.is_empty() {
            let iam = ctx
                .aws
                .iam_for(&account.id, &account.access_role, &requester(self))
                .await?;
            for arn in customer_managed {
                if let Some(policy) = iam.get_policy(arn).await? {
                    documents.insert(arn.clone(), policy.document);
                }
            }
        }
        let identity = ctx.aws.own_account_id().await? == account.id;
        Ok(guardrails::group(account, identity, &self.spec, &documents))
    }
}

/// Groups carry no tags: the claim is this object's status, and another
/// object's status claiming the same group makes it theirs.
fn claim(ctx: &Context, group: &DeveloperGroup, status: &DeveloperGroupStatus, target: &Target, exists: bool) -> Claim {
    let claims = |s: &DeveloperGroupStatus| {
        s.ownership.is_some()
            && s.account_id.as_deref() == Some(target.account.id.as_str())
            && s.group_name.as_deref() == Some(target.name.as_str())
    };
    if claims(status) {
        return Claim::Ours;
    }
    let me = object_id(group);
    let other = ctx
        .stores
        .groups
        .find([triggers::claim_key(&target.account.id, &target.name).as_str()])
        .into_iter()
        .find(|g| object_id(g.as_ref()) != me && g.status.as_ref().is_some_and(claims));
    match (other, exists) {
        (Some(other), _) => Claim::OwnedBy(object_id(other.as_ref())),
        (None, false) => Claim::Free,
        (None, true) if group.spec.adopt_existing => Claim::Adoptable,
        (None, true) => Claim::Foreign,
    }
}

#[async_trait]
impl Owned for DeveloperGroup {
    const NOUN: &'static str = "IAM group";
    type Observed = ObservedGroup;
    type Desired = DesiredAccess;
    type Change = Change;

    policies_from_spec!();

    fn identity(status: &mut DeveloperGroupStatus) -> Identity<'_> {
        Identity {
            account_id: &mut status.account_id,
            name: &mut status.group_name,
            arn: &mut status.group_arn,
            ownership: &mut status.ownership,
        }
    }

    fn validate(&self) -> Result<(), String> {
        plan::validate(&self.spec)
    }

    async fn target(&self, ctx: &Context) -> Result<Target, Stop> {
        let account = refs::group_account(ctx, self).await?;
        tenancy::adoption(&account, self.spec.adopt_existing)?;
        Ok(Target {
            account,
            name: self.spec.group_name.clone().unwrap_or_else(|| self.name_any()),
            owner: Owner::of(self, &ctx.config.installation_id),
        })
    }

    /// Fails closed: an access entry whose role cannot be resolved is left
    /// out of the group's policy (and named as waiting), while everything
    /// else, members leaving above all, goes ahead.
    async fn desired(&self, ctx: &Context, target: &Target) -> Result<Resolved<DesiredAccess>, Stop> {
        let namespace = self.namespace().unwrap_or_default();
        let mut profiles = vec![];
        let mut waiting = vec![];
        for (i, access) in self.spec.access.iter().enumerate() {
            let resolved = match (&access.role_arn, &access.role) {
                (Some(arn), _) => tenancy::role_arn_allowed(&target.account, arn, &format!("spec.access[{i}].roleArn"))
                    .map(|()| arn.clone()),
                (None, Some(reference)) => {
                    let role = refs::role(&ctx.stores, reference, &namespace);
                    role_arn(self, role.as_deref(), reference).map_err(|outcome| Outcome {
                        message: format!("spec.access[{i}].role: {}", outcome.message),
                        ..outcome
                    })
                }
                // validate refused the spec before anything was resolved.
                (None, None) => continue,
            };
            let arn = match resolved {
                Ok(arn) => arn,
                Err(outcome) => {
                    waiting.push(outcome);
                    continue;
                }
            };
            let profile = access
                .profile
                .clone()
                .unwrap_or_else(|| arn.rsplit('/').next().unwrap_or_default().to_string());
            profiles.push((profile, arn));
        }
        let mut role_arns: Vec<String> = profiles.iter().map(|(_, arn)| arn.clone()).collect();
        role_arns.sort();
        role_arns.dedup();
        // IAM measures a group's inline policies together against 5 120
        // characters; over it, PutGroupPolicy fails after the group exists.
        if let Some(policy) = assume_role_policy(&role_arns, self.spec.require_mfa) {
            validate_inline_policies_size([&policy], GROUP_INLINE_POLICIES_MAX_CHARS).map_err(|err| {
                Outcome::stalled(
                    Reason::InvalidSpec,
                    format!("spec.access: the policy letting the group assume these roles is too large: {err}; split the roles over several groups"),
                )
            })?;
        }
        let allowed = self.allowed_policies(ctx, target).await?;
        waiting.extend(allowed.refusals);
        Ok(Resolved {
            desired: DesiredAccess {
                name: target.name.clone(),
                profiles,
                role_arns,
                members: self.spec.members.clone(),
                require_mfa: self.spec.require_mfa,
                managed_policy_arns: allowed.granted,
            },
            waiting,
        })
    }

    async fn observe(&self, iam: &dyn Iam, target: &Target) -> AwsResult<ObservedGroup> {
        Ok(ObservedGroup {
            group: iam.get_group(&target.name).await?,
            users: iam.user_arns(&self.spec.members).await?,
        })
    }

    fn arn(observed: &ObservedGroup) -> Option<&str> {
        observed.group.as_ref().map(|group| group.arn.as_str())
    }

    fn claim(&self, ctx: &Context, status: &DeveloperGroupStatus, target: &Target, observed: &ObservedGroup) -> Claim {
        claim(ctx, self, status, target, observed.group.is_some())
    }

    fn plan(desired: &DesiredAccess, observed: &ObservedGroup) -> Vec<Change> {
        plan::plan(&desired.group(observed).0, observed.group.as_ref())
    }

    fn explain(change: &Change, observed: &ObservedGroup) -> Vec<String> {
        let Change::PutPolicy(name, document) = change else {
            return vec![];
        };
        let desired = serde_json::from_str(document).unwrap_or_default();
        let current = observed
            .group
            .as_ref()
            .and_then(|group| group.inline_policies.get(name))
            .cloned()
            .unwrap_or_else(|| serde_json::json!({}));
        statement_changes(&desired, &current)
            .into_iter()
            .map(|line| format!("inline policy {name}: {line}"))
            .collect()
    }

    /// A revocation that finds its target already gone is done: that is
    /// what a retry meets after an answer lost on the way back.
    async fn perform(iam: &dyn Iam, group: &str, change: &Change) -> AwsResult<Option<String>> {
        match change {
            Change::Create => return iam.create_group(group).await.map(Some),
            Change::AddMember(user) => iam.add_user_to_group(group, user).await?,
            Change::RemoveMember(user) => gone_is_done(iam.remove_user_from_group(group, user).await)?,
            Change::PutPolicy(name, document) => iam.put_group_policy(group, name, document).await?,
            Change::DeletePolicy(name) => gone_is_done(iam.delete_group_policy(group, name).await)?,
            Change::Attach(arn) => iam.attach_group_policy(group, arn).await?,
            Change::Detach(arn) => gone_is_done(iam.detach_group_policy(group, arn).await)?,
        }
        Ok(None)
    }

    /// Everyone out, and the policy that lets members assume roles gone;
    /// the group and its other policies stay.
    fn lock(_target: &Target, observed: &ObservedGroup) -> Vec<Change> {
        let Some(group) = &observed.group else {
            return vec![];
        };
        let members = group.members.iter().cloned().map(Change::RemoveMember);
        let assume = group
            .inline_policies
            .contains_key(ASSUME_POLICY_NAME)
            .then(|| Change::DeletePolicy(ASSUME_POLICY_NAME.to_string()));
        members.chain(assume).collect()
    }

    /// Empties the group (members, policies), which IAM requires, then deletes it.
    async fn delete(iam: &dyn Iam, name: &str, _observed: &ObservedGroup) -> AwsResult<()> {
        let Some(current) = iam.get_group(name).await? else {
            return Ok(());
        };
        for user in &current.members {
            gone_is_done(iam.remove_user_from_group(name, user).await)?;
        }
        for policy in current.inline_policies.keys() {
            gone_is_done(iam.delete_group_policy(name, policy).await)?;
        }
        for arn in &current.managed_policy_arns {
            gone_is_done(iam.detach_group_policy(name, arn).await)?;
        }
        gone_is_done(iam.delete_group(name).await)
    }

    fn record(
        &self,
        status: &mut DeveloperGroupStatus,
        desired: &DesiredAccess,
        observed: &ObservedGroup,
        applied: bool,
    ) {
        let (group, missing) = desired.group(observed);
        status.members = match (applied, &observed.group) {
            (true, _) => group.members.into_iter().collect(),
            (false, Some(current)) => current.members.iter().cloned().collect(),
            (false, None) => vec![],
        };
        status.member_count = Some(status.members.len() as i32);
        status.missing_users = missing;
        status.assumable_role_arns = desired.role_arns.clone();
        status.role_count = Some(desired.role_arns.len() as i32);
        let account_id = status.account_id.clone().unwrap_or_default();
        let mfa_serial = self
            .spec
            .require_mfa
            .then(|| format!("arn:aws:iam::{account_id}:mfa/YOUR-IAM-USER-NAME"));
        status.aws_config = (!desired.profiles.is_empty())
            .then(|| render_aws_config(&desired.profiles, mfa_serial.as_deref(), "default"));
        status.profiles = desired
            .profiles
            .iter()
            .map(|(profile, role_arn)| Profile {
                profile: profile.clone(),
                role_arn: role_arn.clone(),
                console_url: switch_role_url(role_arn, profile),
            })
            .collect();
    }

    fn conclude(&self, what: &str, desired: &DesiredAccess, observed: &ObservedGroup, outcome: Outcome) -> Outcome {
        let (_, missing) = desired.group(observed);
        if missing.is_empty() {
            return outcome;
        }
        Outcome::stalled(
            Reason::MissingUsers,
            format!(
                "{what} is in sync except for users that do not exist there: {}; create them or remove them from spec.members",
                missing.join(", ")
            ),
        )
    }
}

impl Describe for Change {
    fn describe(&self) -> String {
        Change::describe(self)
    }

    fn creates(&self) -> bool {
        *self == Change::Create
    }
}

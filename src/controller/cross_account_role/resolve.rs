//! What the role's references resolve to: the account it lives in and the
//! name it may take there (tenancy), what the account's guardrails grant
//! it, and whom it trusts: accounts, developer groups (their account, or
//! their members as confirmed in AWS), principals, and the external ID from
//! its Secret; and the latest removal from a group that could assume it, or
//! end of an AccessRequest for it, whose older sessions it denies.

use std::sync::Arc;

use k8s_openapi::jiff::Timestamp;
use kube::ResourceExt;
use serde_json::Value;

use super::plan::{self, DesiredRole, policy_arn_prefix};
use super::sessions::Revocation;
use crate::api::{
    CrossAccountRole, CrossAccountRoleSpec, DeveloperGroup, DeveloperGroupTrust, ManagementPolicy, Reason,
};
use crate::controller::access_request;
use crate::controller::context::Context;
use crate::controller::driver::Stop;
use crate::controller::driver::owned::{Resolved, Target};
use crate::controller::guardrails;
use crate::controller::index::keys;
use crate::controller::ownership::Owner;
use crate::controller::refs;
use crate::controller::secrets::{EXTERNAL_ID_LABEL, is_external_id_secret};
use crate::controller::status::Outcome;
use crate::controller::tenancy::{self, Account};
use crate::policy::PolicyError;
use crate::policy::trust::{TrustSpec, trust_nobody, trust_policy};
use crate::policy::validate::validate_external_id;

/// Tenancy first: the account must allow the namespace, and the name
/// must be one a namespace may manage there.
pub(super) async fn target(role: &CrossAccountRole, ctx: &Context) -> Result<Target, Stop> {
    let namespace = role.namespace().unwrap_or_default();
    let account = refs::workplace(ctx, Some(&role.spec.account), &namespace, "spec.account").await?;
    let (name, field) = match &role.spec.role_name {
        Some(name) => (name.clone(), "spec.roleName"),
        None => (role.name_any(), "metadata.name"),
    };
    tenancy::role_name(&account, &name, role.spec.adopt_existing, None, field)?;
    Ok(Target {
        account,
        name,
        owner: Owner::of(role, &ctx.config.installation_id),
    })
}

/// What the spec asks for, as far as its references resolve and its
/// account's guardrails allow: what either leaves out is not granted.
pub(super) async fn desired(
    role: &CrossAccountRole,
    ctx: &Context,
    target: &Target,
) -> Result<Resolved<DesiredRole>, Stop> {
    let by_partner = tenancy::made_by_partner(&ctx.stores, role);
    let allowed = guardrails::role(&target.account, &role.spec, by_partner);
    let mut trust = trust(ctx, role, &target.account).await?;
    if !allowed.granted.trust {
        trust.policy = None;
    }
    let locked = trust.policy.is_none();
    let policy = trust.policy.unwrap_or_else(|| trust_nobody(&target.account.id));
    let spec = CrossAccountRoleSpec {
        permissions: allowed.granted.permissions,
        max_session_duration: allowed.granted.max_session_duration,
        ..role.spec.clone()
    };
    trust.waiting.extend(allowed.refusals);
    let mut desired = plan::desired(
        &spec,
        &target.name,
        policy,
        &target.owner,
        &policy_arn_prefix(None, role.status.as_ref(), &target.account.id),
    )
    .map_err(|message| Outcome::stalled(Reason::InvalidSpec, message))?;
    desired.create_if_missing = !locked;
    desired.revocation = revocation(ctx, role);
    Ok(Resolved {
        desired,
        waiting: trust.waiting,
    })
}

/// The latest removal from a group that could assume the role, or the
/// one its own status still records: a group gone since, or one that does
/// not resolve, never lifts a Deny early. None for a role that only
/// observes, which is never written.
fn revocation(ctx: &Context, role: &CrossAccountRole) -> Option<Revocation> {
    if role.spec.management_policy == ManagementPolicy::Observe {
        return None;
    }
    let recorded = role
        .status
        .as_ref()
        .and_then(|status| status.sessions_denied.as_ref())
        .map(|denied| (denied.issued_before.0, denied.reason.clone()));
    let namespace = role.namespace().unwrap_or_default();
    let removals = groups_assuming(ctx, role).into_iter().filter_map(|group| {
        let removal = group.status.as_ref()?.last_removal.as_ref()?;
        let group_namespace = group.namespace().unwrap_or_default();
        let name = match group_namespace == namespace {
            true => group.name_any(),
            false => format!("{group_namespace}/{}", group.name_any()),
        };
        Some((removal.at.0, format!("{} left {name}", removal.users.join(", "))))
    });
    let (issued_before, reason) = recorded
        .into_iter()
        .chain(removals)
        .chain(elevations_ended(ctx, role))
        .max_by_key(|(at, _)| *at)?;
    Some(Revocation {
        issued_before,
        reason,
        now: Timestamp::now(),
        session_lifetime: ctx.config.session_lifetime,
    })
}

/// When each AccessRequest for the role ended (expired or revoked), and whose: the sessions
/// issued during the window are cut the way a leaver's are.
fn elevations_ended(ctx: &Context, role: &CrossAccountRole) -> Vec<(Timestamp, String)> {
    // Requests being deleted count most of all: a deletion is a revocation.
    let requests = &ctx.stores.requests;
    requests
        .refs([access_request::triggers::role_key(role).as_str()])
        .iter()
        .filter_map(|reference| requests.get(reference))
        .filter_map(|request| {
            let status = request.status.as_ref()?;
            let phase = status
                .phase
                .map(|phase| format!("{phase:?}").to_lowercase())
                .unwrap_or_default();
            let reason = format!("{}'s AccessRequest {} {phase}", request.spec.user, request.name_any());
            Some((status.ended_at.as_ref()?.0, reason))
        })
        .collect()
}

/// The groups whose members could assume the role: those its trust names,
/// and those granting it in `access` that may (rule 4: a group of another
/// namespace only with the role's consent), so that no namespace denies
/// sessions of a role it has no say over.
fn groups_assuming(ctx: &Context, role: &CrossAccountRole) -> Vec<Arc<DeveloperGroup>> {
    let namespace = role.namespace().unwrap_or_default();
    let trusted = role
        .spec
        .trust
        .developer_groups
        .iter()
        .filter_map(|reference| refs::group(&ctx.stores, reference, &namespace));
    let granting = ctx
        .stores
        .groups
        .find([keys::object("role", role).as_str()])
        .into_iter()
        .filter(|group| tenancy::consents(role, &group.name_any(), &group.namespace().unwrap_or_default()));
    trusted.chain(granting).collect()
}

/// Who the role may trust, as far as its references resolve. A reference
/// that does not resolve is left out, never waited for: trust only ever
/// shrinks while something is missing.
struct Trust {
    /// None: nobody may assume the role until the references resolve.
    policy: Option<Value>,
    waiting: Vec<Outcome>,
}

/// Records a reference that does not resolve, or stops the reconcile when
/// the spec itself is wrong: bad input writes nothing.
fn leave_out(waiting: &mut Vec<Outcome>, stop: Stop) -> Result<(), Stop> {
    match stop {
        // A referenced object's own account refused is this role's reference
        // left out, never a reason to lock this role.
        Stop::Report(outcome) | Stop::Lock(outcome) if outcome.reason != Reason::InvalidSpec => {
            waiting.push(outcome);
            Ok(())
        }
        other => Err(other),
    }
}

/// The trust policy the spec asks for, from what resolves now and what
/// tenancy lets the role trust from `account` (rule 3: outside the
/// organization only where its AwsAccount allows it).
async fn trust(ctx: &Context, role: &CrossAccountRole, account: &Account) -> Result<Trust, Stop> {
    let namespace = role.namespace().unwrap_or_default();
    let trust = &role.spec.trust;
    let mut waiting = vec![];
    let mut spec = TrustSpec {
        require_mfa: trust.require_mfa,
        valid_until: trust.valid_until.as_ref().map(|at| at.0.to_string()),
        ..TrustSpec::default()
    };
    named_outright(ctx, role, account, &mut spec, &mut waiting).await?;
    for (i, reference) in trust.developer_groups.iter().enumerate() {
        let field = format!("spec.trust.developerGroups[{i}]");
        match group_principals(ctx, &field, reference, &namespace, trust.developer_group_trust).await {
            Ok(GroupPrincipals {
                account,
                members,
                pending,
            }) => {
                spec.accounts.extend(account);
                spec.principals.extend(members);
                waiting.extend(pending);
            }
            Err(stop) => leave_out(&mut waiting, stop)?,
        }
    }
    if let Some(secret_ref) = &trust.external_id_secret_ref {
        match external_id(ctx, secret_ref, &namespace).await {
            Ok(id) => spec.external_id = Some(id),
            // Without its external ID the role must not be assumable at all:
            // trusting the rest without the condition would widen access.
            Err(stop) => {
                leave_out(&mut waiting, stop)?;
                return Ok(Trust { policy: None, waiting });
            }
        }
    }
    let policy = policy_or_nobody(trust, &spec)?;
    Ok(Trust { policy, waiting })
}

/// Adds the accounts and principals the spec names itself, each as far as
/// tenancy lets the role trust it from `account`.
async fn named_outright(
    ctx: &Context,
    role: &CrossAccountRole,
    account: &Account,
    spec: &mut TrustSpec,
    waiting: &mut Vec<Outcome>,
) -> Result<(), Stop> {
    let own = ctx.aws.own_account_id().await?;
    let by_partner = tenancy::made_by_partner(&ctx.stores, role);
    let trust = &role.spec.trust;
    for (i, reference) in trust.accounts.iter().enumerate() {
        let field = format!("spec.trust.accounts[{i}]");
        match tenancy::trusted_account(&ctx.stores, &own, account, by_partner, reference, &field) {
            Ok(id) => spec.accounts.push(id),
            Err(outcome) => leave_out(waiting, outcome.into())?,
        }
    }
    for (i, principal) in trust.principals.iter().enumerate() {
        let field = format!("spec.trust.principals[{i}]");
        match tenancy::trusted_principal(&ctx.stores, &own, account, by_partner, principal, &field) {
            Ok(()) => spec.principals.push(principal.clone()),
            Err(outcome) => leave_out(waiting, outcome.into())?,
        }
    }
    Ok(())
}

/// The policy trusting what resolved; None when the spec names someone but
/// nothing it names resolved, so that nobody may assume the role.
fn policy_or_nobody(trust: &crate::api::Trust, spec: &TrustSpec) -> Result<Option<Value>, Stop> {
    let names_anyone = !(trust.accounts.is_empty() && trust.developer_groups.is_empty() && trust.principals.is_empty());
    match trust_policy(spec) {
        Ok(policy) => Ok(Some(policy)),
        Err(PolicyError::NoTrustedPrincipal) if names_anyone => Ok(None),
        Err(err) => Err(Outcome::stalled(Reason::InvalidSpec, format!("spec.trust: {err}")).into()),
    }
}

/// What a trusted DeveloperGroup adds to the trust: its account as a
/// whole, or its members' user ARNs.
struct GroupPrincipals {
    account: Option<String>,
    members: Vec<String>,
    /// Why the members may not be all of them yet.
    pending: Option<Outcome>,
}

async fn group_principals(
    ctx: &Context,
    field: &str,
    reference: &crate::api::NamespacedRef,
    namespace: &str,
    how: DeveloperGroupTrust,
) -> Result<GroupPrincipals, Stop> {
    let Some(group) = refs::group(&ctx.stores, reference, namespace) else {
        return Err(Outcome::reconciling(
            Reason::ReferenceNotReady,
            format!("{field}: DeveloperGroup {} does not exist", reference.name),
        )
        .into());
    };
    let account = refs::group_account(ctx, &group)
        .await
        .map_err(|stop| stop.about(&format!("{field}: DeveloperGroup {}", reference.name)))?;
    if how == DeveloperGroupTrust::Account {
        return Ok(GroupPrincipals {
            account: Some(account.id),
            members: vec![],
            pending: None,
        });
    }
    // Members confirmed in AWS (the group's status) that its spec still
    // lists: a leaver is gone at once, a newcomer once the group has them.
    let status = group.status.as_ref();
    let members = status
        .map(|s| s.members.iter().filter(|user| group.spec.members.contains(user)))
        .into_iter()
        .flatten()
        .map(|user| format!("arn:aws:iam::{}:user/{user}", account.id))
        .collect();
    let current = status.is_some_and(|s| s.reconcile.observed_generation == group.metadata.generation);
    let pending = (!current).then(|| {
        Outcome::reconciling(
            Reason::ReferenceNotReady,
            format!(
                "{field}: waiting for DeveloperGroup {} to report its members",
                reference.name
            ),
        )
    });
    Ok(GroupPrincipals {
        account: None,
        members,
        pending,
    })
}

/// The external ID from its Secret, which must be labelled as one (rule 8):
/// whoever may create a role must not make the operator copy any Secret of
/// the namespace into a trust policy the target account can read.
async fn external_id(ctx: &Context, secret_ref: &crate::api::SecretKeyRef, namespace: &str) -> Result<String, Stop> {
    let field = "spec.trust.externalIdSecretRef";
    let Some(secret) = ctx.secret(namespace, &secret_ref.name).await? else {
        return Err(Outcome::reconciling(
            Reason::ReferenceNotReady,
            format!("{field}: Secret {} does not exist", secret_ref.name),
        )
        .into());
    };
    if !is_external_id_secret(&secret) {
        return Err(Outcome::stalled(
            Reason::InvalidSpec,
            format!(
                "{field}: Secret {} is not labelled {EXTERNAL_ID_LABEL}: \"true\"; the operator reads only Secrets opted in as external IDs, so label it (kubectl label secret {} {EXTERNAL_ID_LABEL}=true)",
                secret_ref.name, secret_ref.name
            ),
        )
        .into());
    }
    let value = secret
        .data
        .as_ref()
        .and_then(|d| d.get(&secret_ref.key))
        .map(|bytes| String::from_utf8(bytes.0.clone()));
    let invalid = |message: String| Stop::from(Outcome::stalled(Reason::InvalidSpec, format!("{field}: {message}")));
    let external_id = match value {
        Some(Ok(value)) => value,
        Some(Err(_)) => {
            return Err(invalid(format!(
                "key {} of Secret {} is not UTF-8 text",
                secret_ref.key, secret_ref.name
            )));
        }
        None => {
            return Err(invalid(format!(
                "Secret {} has no key {}; add the key or point key at the one holding the external ID",
                secret_ref.name, secret_ref.key
            )));
        }
    };
    validate_external_id(&external_id)
        .map_err(|err| invalid(format!("Secret {} key {}: {err}", secret_ref.name, secret_ref.key)))?;
    Ok(external_id)
}

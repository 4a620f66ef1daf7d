//! Resolving who the role trusts: accounts, developer groups (their
//! account, or their members as confirmed in AWS), principals, and the
//! external ID from its Secret.

use kube::ResourceExt;
use serde_json::Value;

use crate::api::{CrossAccountRole, DeveloperGroupTrust, Reason};
use crate::controller::context::Context;
use crate::controller::driver::Stop;
use crate::controller::refs;
use crate::controller::secrets::{EXTERNAL_ID_LABEL, is_external_id_secret};
use crate::controller::status::Outcome;
use crate::controller::tenancy::{self, Account};
use crate::policy::PolicyError;
use crate::policy::trust::{TrustSpec, trust_policy};
use crate::policy::validate::validate_external_id;

/// Who the role may trust, as far as its references resolve. A reference
/// that does not resolve is left out, never waited for: trust only ever
/// shrinks while something is missing.
pub struct Trust {
    /// None: nobody may assume the role until the references resolve.
    pub policy: Option<Value>,
    pub waiting: Vec<Outcome>,
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
pub async fn trust(ctx: &Context, role: &CrossAccountRole, account: &Account) -> Result<Trust, Stop> {
    let namespace = role.namespace().unwrap_or_default();
    let own = ctx.aws.own_account_id().await?;
    let by_partner = tenancy::made_by_partner(&ctx.stores, role);
    let trust = &role.spec.trust;
    let mut waiting = vec![];
    let mut spec = TrustSpec {
        require_mfa: trust.require_mfa,
        valid_until: trust.valid_until.as_ref().map(|at| at.0.to_string()),
        ..TrustSpec::default()
    };
    for (i, reference) in trust.accounts.iter().enumerate() {
        let field = format!("spec.trust.accounts[{i}]");
        match tenancy::trusted_account(&ctx.stores, &own, account, by_partner, reference, &field) {
            Ok(id) => spec.accounts.push(id),
            Err(outcome) => leave_out(&mut waiting, outcome.into())?,
        }
    }
    for (i, principal) in trust.principals.iter().enumerate() {
        let field = format!("spec.trust.principals[{i}]");
        match tenancy::trusted_principal(&ctx.stores, &own, account, by_partner, principal, &field) {
            Ok(()) => spec.principals.push(principal.clone()),
            Err(outcome) => leave_out(&mut waiting, outcome.into())?,
        }
    }
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
    let names_anyone = !(trust.accounts.is_empty() && trust.developer_groups.is_empty() && trust.principals.is_empty());
    let policy = match trust_policy(&spec) {
        Ok(policy) => Some(policy),
        Err(PolicyError::NoTrustedPrincipal) if names_anyone => None,
        Err(err) => return Err(Outcome::stalled(Reason::InvalidSpec, format!("spec.trust: {err}")).into()),
    };
    Ok(Trust { policy, waiting })
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

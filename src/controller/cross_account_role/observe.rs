//! Resolving who the role trusts: accounts, developer groups (their
//! account, or their members as confirmed in AWS), principals, and the
//! external ID from its Secret.

use k8s_openapi::api::core::v1::Secret;
use kube::ResourceExt;
use kube::api::Api;
use serde_json::Value;

use crate::api::{CrossAccountRole, DeveloperGroupTrust, Reason};
use crate::controller::context::Context;
use crate::controller::driver::Stop;
use crate::controller::refs;
use crate::controller::status::Outcome;
use crate::policy::trust::{TrustSpec, trust_policy};
use crate::policy::validate::validate_external_id;

/// The trust policy the spec asks for, or why it cannot be built yet.
pub async fn trust(ctx: &Context, role: &CrossAccountRole) -> Result<Value, Stop> {
    let namespace = role.namespace().unwrap_or_default();
    let trust = &role.spec.trust;
    let mut spec = TrustSpec {
        require_mfa: trust.require_mfa,
        principals: trust.principals.clone(),
        ..TrustSpec::default()
    };
    for (i, reference) in trust.accounts.iter().enumerate() {
        let field = format!("spec.trust.accounts[{i}]");
        spec.accounts
            .push(refs::account(&ctx.stores, &ctx.config, reference, Some(&namespace), &field)?.id);
    }
    for (i, reference) in trust.developer_groups.iter().enumerate() {
        let field = format!("spec.trust.developerGroups[{i}]");
        let Some(group) = refs::group(&ctx.stores, reference, &namespace) else {
            return Err(Outcome::reconciling(
                Reason::ReferenceNotReady,
                format!("{field}: DeveloperGroup {} does not exist", reference.name),
            )
            .into());
        };
        let account = refs::group_account(ctx, &group)
            .await
            .map_err(|stop| stop.about(&format!("{field}: DeveloperGroup {}", reference.name)))?;
        match trust.developer_group_trust {
            DeveloperGroupTrust::Account => spec.accounts.push(account.id),
            DeveloperGroupTrust::Members => {
                // Members are the group's as confirmed in AWS for its current spec.
                let status = group.status.as_ref();
                let current = status.is_some_and(|s| s.reconcile.observed_generation == group.metadata.generation);
                if !current {
                    return Err(Outcome::reconciling(
                        Reason::ReferenceNotReady,
                        format!(
                            "{field}: waiting for DeveloperGroup {} to report its members",
                            reference.name
                        ),
                    )
                    .into());
                }
                let members = status.map(|s| s.members.clone()).unwrap_or_default();
                spec.principals.extend(
                    members
                        .iter()
                        .map(|user| format!("arn:aws:iam::{}:user/{user}", account.id)),
                );
            }
        }
    }
    if let Some(secret_ref) = &trust.external_id_secret_ref {
        let field = "spec.trust.externalIdSecretRef";
        let secrets: Api<Secret> = Api::namespaced(ctx.client.clone(), &namespace);
        let Some(secret) = secrets.get_opt(&secret_ref.name).await? else {
            return Err(Outcome::reconciling(
                Reason::ReferenceNotReady,
                format!("{field}: Secret {} does not exist", secret_ref.name),
            )
            .into());
        };
        let value = secret
            .data
            .as_ref()
            .and_then(|d| d.get(&secret_ref.key))
            .map(|bytes| String::from_utf8(bytes.0.clone()));
        let external_id = match value {
            Some(Ok(value)) => value,
            Some(Err(_)) => {
                return Err(Outcome::stalled(
                    Reason::InvalidSpec,
                    format!(
                        "{field}: key {} of Secret {} is not UTF-8 text",
                        secret_ref.key, secret_ref.name
                    ),
                )
                .into());
            }
            None => {
                return Err(Outcome::stalled(
                    Reason::InvalidSpec,
                    format!(
                        "{field}: Secret {} has no key {}; add the key or point key at the one holding the external ID",
                        secret_ref.name, secret_ref.key
                    ),
                )
                .into());
            }
        };
        validate_external_id(&external_id).map_err(|err| {
            Outcome::stalled(
                Reason::InvalidSpec,
                format!("{field}: Secret {} key {}: {err}", secret_ref.name, secret_ref.key),
            )
        })?;
        spec.external_id = Some(external_id);
    }
    Ok(trust_policy(&spec).map_err(|err| Outcome::stalled(Reason::InvalidSpec, format!("spec.trust: {err}")))?)
}

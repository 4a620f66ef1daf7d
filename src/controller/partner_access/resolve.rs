//! What the spec's references resolve to, failing closed: the accounts
//! (refused before any child exists, when this namespace may not use them)
//! and the external ID's Secret.

use k8s_openapi::api::core::v1::Secret;
use kube::api::Api;
use kube::{Client, ResourceExt};

use crate::api::{PartnerAccess, Reason};
use crate::controller::context::Context;
use crate::controller::driver::Stop;
use crate::controller::error::{KubeContext, Result, named};
use crate::controller::refs;
use crate::controller::secrets::is_external_id_secret;
use crate::controller::status::{Outcome, State};

use super::new_external_id;
use super::plan::{ExternalId, Generated, external_id_secret, generated_secret_ref};

/// Refuses a spec whose accounts this namespace may not use; waiting on an
/// account is the children's business.
pub async fn refuse_accounts(partner: &PartnerAccess, ctx: &Context) -> Result<(), Stop> {
    let namespace = partner.namespace().unwrap_or_default();
    for (i, account) in partner.spec.accounts.iter().enumerate() {
        let field = format!("spec.accounts[{i}]");
        match refs::workplace(ctx, Some(account), &namespace, &field).await {
            Err(Stop::Report(outcome) | Stop::Lock(outcome)) if outcome.state == State::Stalled => {
                return Err(Stop::Report(outcome));
            }
            Err(Stop::Fail(error)) => return Err(Stop::Fail(error)),
            _ => {}
        }
    }
    Ok(())
}

/// Where the external ID is read from: the Secret the spec names, else the
/// one the operator generates, as it stands. A Secret of that name that is
/// not this object's is never taken over.
pub async fn external_id(partner: &PartnerAccess, ctx: &Context) -> Result<ExternalId, Stop> {
    if let Some(reference) = &partner.spec.external_id_secret_ref {
        return Ok(ExternalId {
            reference: reference.clone(),
            generated: None,
        });
    }
    let reference = generated_secret_ref(partner);
    let name = &reference.name;
    let secrets: Api<Secret> = Api::namespaced(ctx.client.clone(), &partner.namespace().unwrap_or_default());
    let existing = secrets
        .get_opt(name)
        .await
        .doing(|| format!("reading Secret {name}, the external ID of {}", named(partner)))?;
    let uid = partner.uid().unwrap_or_default();
    let generated = match existing {
        None => Generated::Missing,
        Some(secret) if secret.owner_references().iter().any(|owner| owner.uid == uid) => Generated::Ours {
            labelled: is_external_id_secret(&secret),
        },
        Some(_) => {
            return Err(Outcome::stalled(
                Reason::AlreadyExists,
                format!(
                    "Secret {name} exists and was not generated for this PartnerAccess; set spec.externalIdSecretRef to use it, or delete it"
                ),
            )
            .into());
        }
    };
    Ok(ExternalId {
        reference,
        generated: Some(generated),
    })
}

/// A stand-in for each external ID the operator would generate, so that
/// the partner's roles are planned with the condition they will carry. Its
/// value is never shown.
pub async fn external_ids_to_generate(
    client: &Client,
    partners: &[(usize, PartnerAccess)],
    given: &[Secret],
) -> anyhow::Result<Vec<Secret>> {
    let mut generated = vec![];
    for (_, partner) in partners.iter().filter(|(_, p)| p.spec.external_id_secret_ref.is_none()) {
        let namespace = partner.namespace().unwrap_or_default();
        let reference = generated_secret_ref(partner);
        let in_files = given.iter().any(|s| {
            s.metadata.name.as_ref() == Some(&reference.name) && s.metadata.namespace.as_ref() == Some(&namespace)
        });
        if in_files
            || Api::<Secret>::namespaced(client.clone(), &namespace)
                .get_opt(&reference.name)
                .await?
                .is_some()
        {
            continue;
        }
        generated.push(external_id_secret(partner, new_external_id()));
    }
    Ok(generated)
}

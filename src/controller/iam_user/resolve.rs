//! What the user's references resolve to: the account it lives in (the
//! identity account unless it names one, allowed for the namespace as a
//! DeveloperGroup's is), the Secrets it writes, which must be missing or
//! this object's own, and those it made that the spec no longer names.
//! Nothing here reads AWS.

use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, ListParams};
use kube::{Resource, ResourceExt};

use super::apply::IAM_USER_LABEL;
use super::plan::{
    ACCESS_KEY_ID, DEFAULT_GRACE_PERIOD, DesiredUser, KeysWanted, SecretState, duration as parse_duration,
};
use crate::api::{IamUser, IamUserSpec, Reason};
use crate::controller::context::Context;
use crate::controller::driver::Stop;
use crate::controller::driver::owned::{Resolved, Target};
use crate::controller::error::KubeContext;
use crate::controller::ownership::{OWNER_TAG, Owner};
use crate::controller::refs;
use crate::controller::status::Outcome;
use crate::controller::tenancy;

/// The IAM user name: `spec.userName`, else the object's name.
pub fn user_name(user: &IamUser) -> String {
    user.spec.user_name.clone().unwrap_or_else(|| user.name_any())
}

/// The account the user lives in, which must let it adopt an existing
/// user if its spec asks to, and the user's name there.
pub(super) async fn target(user: &IamUser, ctx: &Context) -> Result<Target, Stop> {
    let namespace = user.namespace().unwrap_or_default();
    let account = refs::workplace(ctx, user.spec.account.as_ref(), &namespace, "spec.account").await?;
    tenancy::adoption(&account, user.spec.adopt_existing)?;
    Ok(Target {
        account,
        name: user_name(user),
        owner: Owner::of(user, &ctx.config.installation_id),
    })
}

/// The user as the spec wants it; a Secret of a name the spec gives that
/// is not this object's refuses the whole, before anything is read in AWS.
pub(super) async fn desired(user: &IamUser, ctx: &Context, target: &Target) -> Result<Resolved<DesiredUser>, Stop> {
    let spec = &user.spec;
    let console = match &spec.console {
        Some(console) if console.enabled => match &console.password_secret_name {
            Some(name) => Some(secret(user, ctx, name, "spec.console.passwordSecretName").await?),
            None => None,
        },
        _ => None,
    };
    let keys = match &spec.access_keys {
        Some(keys) => Some(KeysWanted {
            secret: secret(user, ctx, &keys.secret_name, "spec.accessKeys.secretName").await?,
            rotate_after: keys
                .rotate_after
                .as_deref()
                .map(|text| parse_duration("spec.accessKeys.rotateAfter", text))
                .transpose()
                .map_err(|message| Outcome::stalled(Reason::InvalidSpec, message))?,
            grace: keys
                .grace_period
                .as_deref()
                .map(|text| parse_duration("spec.accessKeys.gracePeriod", text))
                .transpose()
                .map_err(|message| Outcome::stalled(Reason::InvalidSpec, message))?
                .unwrap_or(DEFAULT_GRACE_PERIOD),
        }),
        None => None,
    };
    let mut tags = spec.tags.clone();
    tags.insert(OWNER_TAG.to_string(), target.owner.tag().to_string());
    Ok(Resolved::complete(DesiredUser {
        name: target.name.clone(),
        path: spec.path.clone().unwrap_or_else(|| "/".into()),
        tags,
        state: spec.state,
        console,
        require_mfa: spec.require_mfa,
        keys,
        retired_secrets: retired_secrets(user, ctx).await?,
    }))
}

/// The Secrets the spec names now: the password's while the console is
/// enabled, the keys'.
fn named_secrets(spec: &IamUserSpec) -> Vec<&String> {
    let console = spec
        .console
        .as_ref()
        .filter(|console| console.enabled)
        .and_then(|console| console.password_secret_name.as_ref());
    let keys = spec.access_keys.as_ref().map(|keys| &keys.secret_name);
    console.into_iter().chain(keys).collect()
}

/// The Secrets made for this object (its label, and its owner reference:
/// never one someone else labelled so) that its spec no longer names, to
/// delete with the console or keys they held. Read as metadata only.
async fn retired_secrets(user: &IamUser, ctx: &Context) -> Result<Vec<String>, Stop> {
    let namespace = user.namespace().unwrap_or_default();
    let selector = format!("{IAM_USER_LABEL}={}", user.name_any());
    let listed = Api::<Secret>::namespaced(ctx.client.clone(), &namespace)
        .list_metadata(&ListParams::default().labels(&selector))
        .await
        .doing(|| format!("listing the Secrets of {namespace} labelled {selector}"))?;
    let named = named_secrets(&user.spec);
    Ok(listed
        .items
        .iter()
        .filter(|secret| owned_by(*secret, user))
        .map(|secret| secret.name_any())
        .filter(|name| !named.contains(&name))
        .collect())
}

/// Whether a Secret is this object's: made for it, owned through its ownerReferences.
pub fn owned_by<S: Resource>(secret: &S, user: &IamUser) -> bool {
    let uid = user.uid().unwrap_or_default();
    !uid.is_empty() && secret.owner_references().iter().any(|owner| owner.uid == uid)
}

/// The Secret `name` of the object's namespace as it stands: read by name
/// (the operator watches no Secret's data), only the access key id kept.
async fn secret(user: &IamUser, ctx: &Context, name: &str, field: &str) -> Result<SecretState, Stop> {
    let namespace = user.namespace().unwrap_or_default();
    let Some(secret) = ctx.secret(&namespace, name).await? else {
        return Ok(SecretState::Missing);
    };
    if !owned_by(&secret, user) {
        return Err(Outcome::stalled(
            Reason::AlreadyExists,
            format!(
                "{field}: Secret {namespace}/{name} exists and was not made for IamUser {namespace}/{}; the operator never overwrites it: name another Secret, or delete that one",
                user.name_any()
            ),
        )
        .into());
    }
    let key_id = secret
        .data
        .as_ref()
        .and_then(|data| data.get(ACCESS_KEY_ID))
        .map(|id| String::from_utf8_lossy(&id.0).into_owned());
    Ok(SecretState::Ours { key_id })
}

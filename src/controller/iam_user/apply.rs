//! Carrying the planned changes out: IAM writes, and for a password or a
//! key the Secret it goes into (written before the login profile is made,
//! and right after the key is: AWS hands a key's secret out once). Emptying
//! and deleting the user on cleanup, or releasing it.

use std::collections::BTreeMap;

use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{Api, DeleteParams, PostParams, Preconditions};
use kube::{Resource, ResourceExt};
use rand::TryRngCore;
use rand::seq::{IndexedRandom, SliceRandom};

use super::plan::{ACCESS_KEY_ID, Change, ObservedUser, PASSWORD, SECRET_ACCESS_KEY, sign_in_url};
use super::resolve::owned_by;
use crate::api::{IamUser, Reason};
use crate::aws::{AwsResult, Iam, gone_is_done};
use crate::controller::context::Context;
use crate::controller::driver::Stop;
use crate::controller::driver::owned::Target;
use crate::controller::error::{KubeContext, named};
use crate::controller::ownership::OWNER_TAG;
use crate::controller::status::{MANAGER, Outcome};

/// The label on the Secrets made for an IamUser, naming it.
pub const IAM_USER_LABEL: &str = "awsaccess.dev/iam-user";

/// Long enough that guessing is hopeless, short enough to type once.
const PASSWORD_LENGTH: usize = 24;

/// Performs one IAM change; returns the ARN when it created the user. A
/// revocation that finds its target already gone is done.
pub(super) async fn perform(iam: &dyn Iam, user: &str, change: &Change) -> AwsResult<Option<String>> {
    match change {
        Change::Create(new) => return iam.create_user(new).await.map(Some),
        Change::UpdatePath(path) => iam.update_user_path(user, path).await?,
        Change::Tag(tags) => iam.tag_user(user, tags).await?,
        Change::Untag(keys) => iam.untag_user(user, keys).await?,
        Change::PutPolicy(name, document) => iam.put_user_policy(user, name, document).await?,
        Change::DeletePolicy(name) => gone_is_done(iam.delete_user_policy(user, name).await)?,
        Change::Detach(arn) => gone_is_done(iam.detach_user_policy(user, arn).await)?,
        Change::DeleteKey(id) => gone_is_done(iam.delete_access_key(user, id).await)?,
        Change::SetKeyStatus(id, status) => iam.update_access_key(user, id, *status).await?,
        Change::DeleteLoginProfile => gone_is_done(iam.delete_login_profile(user).await)?,
        Change::LeaveGroup(group) => gone_is_done(iam.remove_user_from_group(group, user).await)?,
        // Only with the object's Secrets at hand (`perform_for`); a lock never plans them.
        Change::CreateKey | Change::CreateLoginProfile | Change::DeleteSecret(_) => {}
    }
    Ok(None)
}

/// Performs one change for `object`, writing its Secrets where the change
/// makes a secret.
pub(super) async fn perform_for(
    object: &IamUser,
    ctx: &Context,
    iam: &dyn Iam,
    target: &Target,
    change: &Change,
) -> Result<Option<String>, Stop> {
    let user = target.name.as_str();
    match change {
        Change::CreateLoginProfile => {
            let Some(name) = object
                .spec
                .console
                .as_ref()
                .and_then(|console| console.password_secret_name.as_ref())
            else {
                return Ok(None);
            };
            let password = new_password();
            let data = BTreeMap::from([
                (PASSWORD.to_string(), password.clone()),
                ("userName".to_string(), user.to_string()),
                ("signInUrl".to_string(), sign_in_url(&target.account.id)),
            ]);
            // The Secret first: a login profile whose password nobody holds helps no one.
            write_secret(object, ctx, name, "spec.console.passwordSecretName", data).await?;
            iam.create_login_profile(user, &password, true).await?;
            Ok(None)
        }
        Change::CreateKey => {
            let Some(keys) = &object.spec.access_keys else {
                return Ok(None);
            };
            let key = iam.create_access_key(user).await?;
            let data = BTreeMap::from([
                (ACCESS_KEY_ID.to_string(), key.id.clone()),
                (SECRET_ACCESS_KEY.to_string(), key.secret),
            ]);
            // Should this write fail, the key is one no Secret holds: the
            // next reconcile deletes it before it makes another.
            write_secret(object, ctx, &keys.secret_name, "spec.accessKeys.secretName", data).await?;
            Ok(None)
        }
        Change::DeleteSecret(name) => {
            delete_secret(object, ctx, name).await?;
            Ok(None)
        }
        change => Ok(perform(iam, user, change).await?),
    }
}

/// Deletes a Secret made for the object, only while it is still the
/// object's (its uid the precondition), so that one made by someone else
/// since under that name is never touched.
async fn delete_secret(object: &IamUser, ctx: &Context, name: &str) -> Result<(), Stop> {
    let namespace = object.namespace().unwrap_or_default();
    let secrets: Api<Secret> = Api::namespaced(ctx.client.clone(), &namespace);
    let Some(existing) = secrets
        .get_metadata_opt(name)
        .await
        .doing(|| format!("reading Secret {namespace}/{name} of {}", named(object)))?
    else {
        return Ok(());
    };
    if !owned_by(&existing, object) {
        return Ok(());
    }
    let params = DeleteParams {
        preconditions: Some(Preconditions {
            uid: existing.uid(),
            resource_version: None,
        }),
        ..DeleteParams::default()
    };
    match secrets.delete(name, &params).await {
        // Gone already, or replaced meanwhile by a Secret that is not this one.
        Err(kube::Error::Api(status)) if status.code == 404 || status.code == 409 => Ok(()),
        result => result
            .map(drop)
            .doing(|| format!("deleting Secret {namespace}/{name} of {}", named(object)))
            .map_err(Stop::from),
    }
}

/// A fresh password with upper and lower case letters, digits and symbols,
/// so that any password policy of IAM's choice of classes accepts it.
fn new_password() -> String {
    const UPPER: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ";
    const LOWER: &[u8] = b"abcdefghijkmnopqrstuvwxyz";
    const DIGITS: &[u8] = b"23456789";
    const SYMBOLS: &[u8] = b"!@#$%^&*()-_=+[]{}:,.?";
    let mut random = rand::rngs::OsRng.unwrap_err();
    let all: Vec<u8> = [UPPER, LOWER, DIGITS, SYMBOLS].concat();
    let mut chosen: Vec<u8> = [UPPER, LOWER, DIGITS, SYMBOLS]
        .iter()
        .filter_map(|class| class.choose(&mut random).copied())
        .collect();
    while chosen.len() < PASSWORD_LENGTH {
        chosen.extend(all.choose(&mut random).copied());
    }
    chosen.shuffle(&mut random);
    String::from_utf8_lossy(&chosen).into_owned()
}

/// Writes `data` into the object's Secret `name`: creates it owned by the
/// object, or replaces the one it owns; never one it does not.
async fn write_secret(
    object: &IamUser,
    ctx: &Context,
    name: &str,
    field: &str,
    data: BTreeMap<String, String>,
) -> Result<(), Stop> {
    let namespace = object.namespace().unwrap_or_default();
    let secrets: Api<Secret> = Api::namespaced(ctx.client.clone(), &namespace);
    let doing = |what: &str| format!("{what} Secret {namespace}/{name} of {}", named(object));
    let secret = Secret {
        metadata: ObjectMeta {
            name: Some(name.to_string()),
            namespace: Some(namespace.clone()),
            owner_references: object.controller_owner_ref(&()).map(|owner| vec![owner]),
            labels: Some(BTreeMap::from([(IAM_USER_LABEL.to_string(), object.name_any())])),
            ..ObjectMeta::default()
        },
        data: Some(
            data.into_iter()
                .map(|(key, value)| (key, ByteString(value.into_bytes())))
                .collect(),
        ),
        type_: Some("Opaque".into()),
        ..Secret::default()
    };
    let params = PostParams {
        field_manager: Some(MANAGER.into()),
        ..PostParams::default()
    };
    match secrets.get_metadata_opt(name).await.doing(|| doing("reading"))? {
        None => {
            secrets.create(&params, &secret).await.doing(|| doing("creating"))?;
        }
        Some(existing)
            if existing
                .owner_references()
                .iter()
                .any(|o| Some(&o.uid) == object.uid().as_ref()) =>
        {
            secrets
                .replace(name, &params, &secret)
                .await
                .doing(|| doing("replacing"))?;
        }
        Some(_) => {
            return Err(Outcome::stalled(
                Reason::AlreadyExists,
                format!(
                    "{field}: Secret {namespace}/{name} exists and was not made for {}; the operator never overwrites it: name another Secret, or delete that one",
                    named(object)
                ),
            )
            .into());
        }
    }
    Ok(())
}

/// Removes what IAM requires gone first (login profile, keys, MFA devices,
/// inline and attached policies, groups), then the user.
pub(super) async fn delete(iam: &dyn Iam, user: &str) -> AwsResult<()> {
    let Some(current) = iam.get_user(user).await? else {
        return Ok(());
    };
    if current.login_profile {
        gone_is_done(iam.delete_login_profile(user).await)?;
    }
    for key in &current.access_keys {
        gone_is_done(iam.delete_access_key(user, &key.id).await)?;
    }
    for serial in &current.mfa_devices {
        gone_is_done(iam.deactivate_mfa_device(user, serial).await)?;
        // A hardware device has no such entity to delete; a virtual one's serial is its ARN.
        if serial.contains(":mfa/") {
            gone_is_done(iam.delete_virtual_mfa_device(serial).await)?;
        }
    }
    for policy in current.inline_policies.keys() {
        gone_is_done(iam.delete_user_policy(user, policy).await)?;
    }
    for arn in &current.managed_policy_arns {
        gone_is_done(iam.detach_user_policy(user, arn).await)?;
    }
    for group in &current.groups {
        gone_is_done(iam.remove_user_from_group(group, user).await)?;
    }
    gone_is_done(iam.delete_user(user).await)
}

/// Removes the operator's owner tag; the user and its keys stay as they are.
pub(super) async fn release(iam: &dyn Iam, user: &str, observed: &ObservedUser) -> AwsResult<()> {
    match &observed.user {
        Some(_) => gone_is_done(iam.untag_user(user, &[OWNER_TAG.to_string()]).await),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_mix_every_class_and_differ() {
        let first = new_password();
        assert_eq!(first.len(), PASSWORD_LENGTH);
        assert!(first.chars().any(|c| c.is_ascii_uppercase()));
        assert!(first.chars().any(|c| c.is_ascii_lowercase()));
        assert!(first.chars().any(|c| c.is_ascii_digit()));
        assert!(first.chars().any(|c| !c.is_ascii_alphanumeric()));
        assert_ne!(first, new_password());
    }
}

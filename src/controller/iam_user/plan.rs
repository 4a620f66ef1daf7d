//! Pure: what the user should be, the changes that take AWS there (the
//! password and the keys included, as steps whose secrets are made when
//! they are carried out), when to look again for a rotation, and what the
//! status says.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;
use serde_json::{Value, json};

use crate::api::{AccessKeyStatus, IamUserSpec, IamUserStatus, Tags, UserState};
use crate::aws::{AccessKeyState, KeyStatus, NewUser, UserState as AwsUser};
use crate::controller::attachments;
use crate::controller::driver::owned::Describe;
use crate::controller::tags;

/// The inline policy that requires MFA for everything but setting MFA up.
pub const MFA_POLICY_NAME: &str = "awsaccess-require-mfa";
/// How long the old key keeps working after a rotation, when the spec says nothing.
pub const DEFAULT_GRACE_PERIOD: Duration = Duration::from_secs(24 * 3600);
/// The keys of the Secret an access key is written to.
pub const ACCESS_KEY_ID: &str = "AWS_ACCESS_KEY_ID";
pub const SECRET_ACCESS_KEY: &str = "AWS_SECRET_ACCESS_KEY";
/// The key of the console Secret holding the password.
pub const PASSWORD: &str = "password";

/// AWS's published policy "allows MFA-authenticated IAM users to manage
/// their own MFA device on the Security credentials page"
/// (BlockMostAccessUnlessSignedInWithMFA), with `iam:GetAccountPasswordPolicy`
/// kept allowed without MFA beside `iam:ChangePassword`, so that a first
/// sign-in that must change the password works.
pub fn require_mfa_policy() -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AllowViewAccountInfo",
                "Effect": "Allow",
                "Action": ["iam:GetAccountPasswordPolicy", "iam:ListVirtualMFADevices"],
                "Resource": "*"
            },
            {
                "Sid": "AllowManageOwnPasswords",
                "Effect": "Allow",
                "Action": ["iam:ChangePassword", "iam:GetUser"],
                "Resource": "arn:aws:iam::*:user/${aws:username}"
            },
            {
                "Sid": "AllowManageOwnVirtualMFADevice",
                "Effect": "Allow",
                "Action": ["iam:CreateVirtualMFADevice"],
                "Resource": "arn:aws:iam::*:mfa/*"
            },
            {
                "Sid": "AllowManageOwnUserMFA",
                "Effect": "Allow",
                "Action": [
                    "iam:DeactivateMFADevice",
                    "iam:EnableMFADevice",
                    "iam:ListMFADevices",
                    "iam:ResyncMFADevice"
                ],
                "Resource": "arn:aws:iam::*:user/${aws:username}"
            },
            {
                "Sid": "DenyAllExceptListedIfNoMFA",
                "Effect": "Deny",
                "NotAction": [
                    "iam:CreateVirtualMFADevice",
                    "iam:EnableMFADevice",
                    "iam:GetUser",
                    "iam:ChangePassword",
                    "iam:GetAccountPasswordPolicy",
                    "iam:ListMFADevices",
                    "iam:ListVirtualMFADevices",
                    "iam:ResyncMFADevice",
                    "sts:GetSessionToken"
                ],
                "Resource": "*",
                "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}
            }
        ]
    })
}

/// A Secret the spec names, as it stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SecretState {
    Missing,
    /// Made by the operator for this object; the access key id it holds, if any.
    Ours {
        key_id: Option<String>,
    },
}

/// The keys as the spec wants them.
#[derive(Clone, Debug, PartialEq)]
pub struct KeysWanted {
    pub secret: SecretState,
    pub rotate_after: Option<Duration>,
    pub grace: Duration,
}

/// The user as the spec wants it, its Secrets looked at.
#[derive(Clone, Debug, PartialEq)]
pub struct DesiredUser {
    pub name: String,
    pub path: String,
    /// The spec's tags and the owner tag.
    pub tags: Tags,
    pub state: UserState,
    /// The console Secret, when console access is enabled.
    pub console: Option<SecretState>,
    pub require_mfa: bool,
    pub keys: Option<KeysWanted>,
    /// Secrets the operator made for this object that the spec no longer
    /// names (its keys or its console taken away): deleted with what they held.
    pub retired_secrets: Vec<String>,
}

/// The user in AWS, and when it was read: rotation is a matter of age.
#[derive(Clone, Debug, PartialEq)]
pub struct ObservedUser {
    pub user: Option<AwsUser>,
    pub at: Timestamp,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Change {
    Create(NewUser),
    UpdatePath(String),
    Tag(Tags),
    Untag(Vec<String>),
    PutPolicy(String, String),
    DeletePolicy(String),
    Detach(String),
    /// A key no Secret holds (an answer lost, or made by hand) goes before another is made.
    DeleteKey(String),
    /// A new key, written to the Secret.
    CreateKey,
    SetKeyStatus(String, KeyStatus),
    /// A new password, written to the Secret, then the login profile, reset required.
    CreateLoginProfile,
    DeleteLoginProfile,
    LeaveGroup(String),
    /// A Secret this object made that the spec no longer names.
    DeleteSecret(String),
}

impl Describe for Change {
    fn describe(&self) -> String {
        match self {
            Change::Create(_) => "create the user".into(),
            Change::UpdatePath(path) => format!("move the user to path {path}"),
            Change::Tag(tags) => format!("tag {}", tags.keys().cloned().collect::<Vec<_>>().join(", ")),
            Change::Untag(keys) => format!("untag {}", keys.join(", ")),
            Change::PutPolicy(name, _) => format!("put inline policy {name}"),
            Change::DeletePolicy(name) => format!("delete inline policy {name}"),
            Change::Detach(arn) => format!("detach {arn}"),
            Change::DeleteKey(id) => format!("delete access key {id}"),
            Change::CreateKey => "create an access key into its Secret".into(),
            Change::SetKeyStatus(id, status) => format!("set access key {id} {}", status.as_str()),
            Change::CreateLoginProfile => "give console access (a new password into its Secret, reset required)".into(),
            Change::DeleteLoginProfile => "remove console access".into(),
            Change::LeaveGroup(group) => format!("remove from group {group}"),
            Change::DeleteSecret(name) => format!("delete Secret {name}, which the spec no longer names"),
        }
    }

    fn creates(&self) -> bool {
        matches!(self, Change::Create(_))
    }
}

/// A duration as the spec writes it: `90d`, `12h`, `30s`.
pub fn duration(field: &str, text: &str) -> Result<Duration, String> {
    match humantime::parse_duration(text.trim()) {
        Ok(duration) if duration >= Duration::from_secs(1) => Ok(duration),
        Ok(_) => Err(format!(
            "{field}: {text} is shorter than a second; write it as 90d, 12h or 30s"
        )),
        Err(err) => Err(format!(
            "{field}: {text} is not a duration ({err}); write it as 90d, 12h or 30s"
        )),
    }
}

/// Checks what the schema cannot before anything is read or written.
pub fn validate(spec: &IamUserSpec) -> Result<(), String> {
    let console_secret = match &spec.console {
        Some(console) if console.enabled => match &console.password_secret_name {
            Some(name) => Some(name),
            None => {
                return Err(
                    "spec.console.passwordSecretName: required when spec.console.enabled is true; name the Secret of this namespace the first password is generated into".into(),
                );
            }
        },
        _ => None,
    };
    if let Some(keys) = &spec.access_keys {
        if let Some(rotate_after) = &keys.rotate_after {
            duration("spec.accessKeys.rotateAfter", rotate_after)?;
        }
        if let Some(grace) = &keys.grace_period {
            duration("spec.accessKeys.gracePeriod", grace)?;
        }
        if console_secret == Some(&keys.secret_name) {
            return Err(format!(
                "spec.accessKeys.secretName: {} is also spec.console.passwordSecretName; give the password and the keys a Secret each",
                keys.secret_name
            ));
        }
    }
    if spec.tags.len() > 49 {
        return Err("spec.tags: at most 49 tags; the operator adds its owner tag, the 50th IAM allows".into());
    }
    Ok(())
}

/// The key the Secret holds, if it is one the user has and it is Active. A
/// key set Inactive (a leaver's, a lock's, or by hand, perhaps because it
/// leaked) is never made Active again: it is replaced.
fn current_key<'a>(keys: &'a [AccessKeyState], wanted: &KeysWanted) -> Option<&'a AccessKeyState> {
    let SecretState::Ours { key_id: Some(id) } = &wanted.secret else {
        return None;
    };
    keys.iter().find(|key| &key.id == id && key.status == KeyStatus::Active)
}

fn after(time: Timestamp, duration: Duration) -> Timestamp {
    time.checked_add(duration).unwrap_or(Timestamp::MAX)
}

/// The writes that take the keys to what the spec wants at `now`: the
/// Secret's key Active and younger than `rotateAfter`, the key it replaced
/// Inactive after the grace period and gone after another, no key no
/// Secret holds, never a third key, and no key made while one is going.
fn plan_keys(wanted: &KeysWanted, keys: &[AccessKeyState], now: Timestamp) -> Vec<Change> {
    let mut changes = vec![];
    let current = current_key(keys, wanted);
    let mut remaining = keys.len();
    let mut retiring = 0;
    for key in keys
        .iter()
        .filter(|key| Some(key.id.as_str()) != current.map(|c| c.id.as_str()))
    {
        match current {
            // The key the Secret's key replaced: retired on schedule.
            Some(current) if key.created <= current.created => {
                let inactive_at = after(current.created, wanted.grace);
                if now >= after(inactive_at, wanted.grace) {
                    changes.push(Change::DeleteKey(key.id.clone()));
                    remaining -= 1;
                } else if now >= inactive_at && key.status == KeyStatus::Active {
                    changes.push(Change::SetKeyStatus(key.id.clone(), KeyStatus::Inactive));
                    retiring += 1;
                } else {
                    retiring += 1;
                }
            }
            // No Secret holds it: its secret is lost to everyone.
            _ => {
                changes.push(Change::DeleteKey(key.id.clone()));
                remaining -= 1;
            }
        }
    }
    match current {
        None => changes.push(Change::CreateKey),
        Some(current) => {
            let due = wanted
                .rotate_after
                .is_some_and(|age| now >= after(current.created, age));
            // Never a third key: a rotation waits until the last one's old key is gone.
            if due && retiring == 0 && remaining < 2 {
                changes.push(Change::CreateKey);
            }
        }
    }
    changes
}

/// The writes that take `observed` to `desired`: the user made first, its
/// MFA policy before its password, grants before revocations.
pub fn plan(desired: &DesiredUser, observed: &ObservedUser) -> Vec<Change> {
    let mut changes = vec![];
    let created;
    let user = match &observed.user {
        Some(user) => user,
        None => {
            changes.push(Change::Create(NewUser {
                name: desired.name.clone(),
                path: desired.path.clone(),
                tags: desired.tags.clone(),
            }));
            // What CreateUser makes, for the rest of the plan.
            created = AwsUser {
                path: desired.path.clone(),
                tags: desired.tags.clone(),
                ..AwsUser::default()
            };
            &created
        }
    };
    if user.path != desired.path {
        changes.push(Change::UpdatePath(desired.path.clone()));
    }
    let (tag, untag) = tags::diff(&desired.tags, &user.tags);
    if !tag.is_empty() {
        changes.push(Change::Tag(tag));
    }
    let inline: BTreeMap<String, Value> = desired
        .require_mfa
        .then(|| (MFA_POLICY_NAME.to_string(), require_mfa_policy()))
        .into_iter()
        .collect();
    let (put, delete) = attachments::inline(&inline, &user.inline_policies);
    changes.extend(
        put.into_iter()
            .map(|(name, document)| Change::PutPolicy(name, document)),
    );
    if desired.state == UserState::Active {
        if let Some(keys) = &desired.keys {
            changes.extend(plan_keys(keys, &user.access_keys, observed.at));
        }
        if desired.console.is_some() && !user.login_profile {
            changes.push(Change::CreateLoginProfile);
        }
    }
    if !untag.is_empty() {
        changes.push(Change::Untag(untag));
    }
    changes.extend(delete.into_iter().map(Change::DeletePolicy));
    changes.extend(user.managed_policy_arns.iter().cloned().map(Change::Detach));
    changes.extend(revocations(desired, user));
    changes
}

/// What the user may no longer have: a console and keys the spec stopped
/// asking for (with the Secrets made for them), and a leaver's console,
/// active keys and groups.
fn revocations(desired: &DesiredUser, user: &AwsUser) -> Vec<Change> {
    let active = desired.state == UserState::Active;
    let mut changes = vec![];
    if user.login_profile && (!active || desired.console.is_none()) {
        changes.push(Change::DeleteLoginProfile);
    }
    match &desired.keys {
        None => changes.extend(user.access_keys.iter().map(|key| Change::DeleteKey(key.id.clone()))),
        Some(_) if !active => changes.extend(deactivate_keys(user)),
        Some(_) => {}
    }
    if !active {
        changes.extend(user.groups.iter().cloned().map(Change::LeaveGroup));
    }
    changes.extend(desired.retired_secrets.iter().cloned().map(Change::DeleteSecret));
    changes
}

fn deactivate_keys(user: &AwsUser) -> impl Iterator<Item = Change> + '_ {
    user.access_keys
        .iter()
        .filter(|key| key.status == KeyStatus::Active)
        .map(|key| Change::SetKeyStatus(key.id.clone(), KeyStatus::Inactive))
}

/// The namespace lost the account: the user can no longer sign in or use
/// its keys; nothing is deleted.
pub fn lock(observed: &ObservedUser) -> Vec<Change> {
    let Some(user) = &observed.user else {
        return vec![];
    };
    user.login_profile
        .then_some(Change::DeleteLoginProfile)
        .into_iter()
        .chain(deactivate_keys(user))
        .collect()
}

/// How long until the next step of a rotation is due (a key to rotate, an
/// old key to deactivate or delete), if one is planned.
pub fn next_rotation_step(spec: &IamUserSpec, status: &IamUserStatus, now: Timestamp) -> Option<Duration> {
    let keys = spec.access_keys.as_ref()?;
    if spec.state == UserState::Disabled {
        return None;
    }
    let rotate_after = keys.rotate_after.as_deref().and_then(|text| duration("", text).ok());
    let grace = keys
        .grace_period
        .as_deref()
        .and_then(|text| duration("", text).ok())
        .unwrap_or(DEFAULT_GRACE_PERIOD);
    let created: Vec<Timestamp> = status
        .access_keys
        .iter()
        .filter_map(|key| key.created_at.as_ref().map(|time| time.0))
        .collect();
    let newest = created.iter().max()?;
    let mut due = vec![];
    if let Some(age) = rotate_after {
        due.push(after(*newest, age));
    }
    if created.len() > 1 {
        due.push(after(*newest, grace));
        due.push(after(after(*newest, grace), grace));
    }
    let next = due.into_iter().filter(|at| *at > now).min()?;
    let wait = next.duration_since(now);
    Some(Duration::try_from(wait).unwrap_or_default() + Duration::from_secs(1))
}

/// The console sign-in address of an account.
pub fn sign_in_url(account_id: &str) -> String {
    format!("https://{account_id}.signin.aws.amazon.com/console")
}

/// What the status says of the user, as read.
pub fn record(status: &mut IamUserStatus, observed: &ObservedUser) {
    status.sign_in_url = status.account_id.as_deref().map(sign_in_url);
    let Some(user) = &observed.user else {
        status.mfa_active = None;
        status.console_access = None;
        status.password_last_used = None;
        status.access_keys = vec![];
        status.groups = vec![];
        return;
    };
    status.mfa_active = Some(!user.mfa_devices.is_empty());
    status.console_access = Some(user.login_profile);
    status.password_last_used = user.password_last_used.map(Time);
    status.access_keys = user
        .access_keys
        .iter()
        .map(|key| AccessKeyStatus {
            id: key.id.clone(),
            status: key.status.as_str().to_string(),
            created_at: Some(Time(key.created)),
            last_used_at: key.last_used.map(Time),
        })
        .collect();
    status.groups = user
        .groups
        .iter()
        .cloned()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: Duration = Duration::from_secs(3600);

    fn key(id: &str, created: Timestamp, status: KeyStatus) -> AccessKeyState {
        AccessKeyState {
            id: id.into(),
            status,
            created,
            last_used: None,
        }
    }

    fn wanted(secret_key: Option<&str>) -> KeysWanted {
        KeysWanted {
            secret: SecretState::Ours {
                key_id: secret_key.map(String::from),
            },
            rotate_after: Some(24 * HOUR),
            grace: HOUR,
        }
    }

    fn ago(now: Timestamp, hours: u32) -> Timestamp {
        now.checked_sub(HOUR * hours).unwrap()
    }

    #[test]
    fn a_young_key_in_its_secret_needs_nothing() {
        let now = Timestamp::now();
        let keys = [key("A", ago(now, 1), KeyStatus::Active)];
        assert_eq!(plan_keys(&wanted(Some("A")), &keys, now), vec![]);
    }

    #[test]
    fn an_old_key_is_rotated_once_and_retired_on_schedule() {
        let now = Timestamp::now();
        let old = [key("A", ago(now, 25), KeyStatus::Active)];
        assert_eq!(plan_keys(&wanted(Some("A")), &old, now), vec![Change::CreateKey]);
        // The Secret holds the new key: the old one works through the grace period ...
        let rotated = [
            key("A", ago(now, 25), KeyStatus::Active),
            key("B", now, KeyStatus::Active),
        ];
        assert_eq!(plan_keys(&wanted(Some("B")), &rotated, now), vec![]);
        // ... then goes Inactive ...
        let later = after(now, HOUR);
        assert_eq!(
            plan_keys(&wanted(Some("B")), &rotated, later),
            vec![Change::SetKeyStatus("A".into(), KeyStatus::Inactive)]
        );
        // ... then away.
        let gone = after(now, 2 * HOUR);
        assert_eq!(
            plan_keys(&wanted(Some("B")), &rotated, gone),
            vec![Change::DeleteKey("A".into())]
        );
    }

    #[test]
    fn never_a_third_key_and_no_rotation_while_the_old_key_goes() {
        let now = Timestamp::now();
        let wanted = KeysWanted {
            rotate_after: Some(HOUR / 2),
            ..wanted(Some("B"))
        };
        // B is due already, but A, which B replaced, is still in its grace period.
        let keys = [
            key("A", ago(now, 1), KeyStatus::Active),
            key("B", now.checked_sub(HOUR / 2 * 1).unwrap(), KeyStatus::Active),
        ];
        let changes = plan_keys(&wanted, &keys, after(now, HOUR / 4));
        assert!(!changes.contains(&Change::CreateKey), "{changes:?}");
    }

    #[test]
    fn the_next_look_is_when_the_next_rotation_step_is_due() {
        let now = Timestamp::now();
        let spec: IamUserSpec = serde_json::from_value(
            json!({"accessKeys": {"secretName": "k", "rotateAfter": "24h", "gracePeriod": "1h"}}),
        )
        .unwrap();
        let status = |created: &[Timestamp]| IamUserStatus {
            access_keys: created
                .iter()
                .map(|at| AccessKeyStatus {
                    id: "K".into(),
                    status: "Active".into(),
                    created_at: Some(Time(*at)),
                    last_used_at: None,
                })
                .collect(),
            ..IamUserStatus::default()
        };
        // One key, made an hour ago: rotated 23 hours from now.
        let one = next_rotation_step(&spec, &status(&[ago(now, 1)]), now).unwrap();
        assert!(one > 23 * HOUR && one <= 23 * HOUR + Duration::from_secs(2), "{one:?}");
        // Just rotated: the old key goes Inactive in an hour.
        let two = next_rotation_step(&spec, &status(&[ago(now, 25), now]), now).unwrap();
        assert!(two > HOUR && two <= HOUR + Duration::from_secs(2), "{two:?}");
        // No keys, or a leaver: nothing to time.
        assert_eq!(next_rotation_step(&spec, &status(&[]), now), None);
        let mut leaver = spec.clone();
        leaver.state = UserState::Disabled;
        assert_eq!(next_rotation_step(&leaver, &status(&[now]), now), None);
    }

    #[test]
    fn an_inactive_key_is_replaced_never_made_active_again() {
        let now = Timestamp::now();
        let keys = [key("A", ago(now, 1), KeyStatus::Inactive)];
        assert_eq!(
            plan_keys(&wanted(Some("A")), &keys, now),
            vec![Change::DeleteKey("A".into()), Change::CreateKey]
        );
    }

    #[test]
    fn a_key_no_secret_holds_goes_before_another_is_made() {
        let now = Timestamp::now();
        // An answer lost: B was made, but the Secret still holds A.
        let keys = [
            key("A", ago(now, 25), KeyStatus::Active),
            key("B", ago(now, 1), KeyStatus::Active),
        ];
        assert_eq!(
            plan_keys(&wanted(Some("A")), &keys, now),
            vec![Change::DeleteKey("B".into()), Change::CreateKey]
        );
        // No Secret at all: every key goes, and one is made.
        let missing = KeysWanted {
            secret: SecretState::Missing,
            ..wanted(None)
        };
        assert_eq!(
            plan_keys(&missing, &keys, now),
            vec![
                Change::DeleteKey("A".into()),
                Change::DeleteKey("B".into()),
                Change::CreateKey
            ]
        );
    }

    fn desired() -> DesiredUser {
        DesiredUser {
            name: "alice".into(),
            path: "/people/".into(),
            tags: Tags::from([("team".into(), "alfie".into())]),
            state: UserState::Active,
            console: Some(SecretState::Missing),
            require_mfa: true,
            keys: None,
            retired_secrets: vec![],
        }
    }

    #[test]
    fn a_joiner_gets_the_mfa_policy_before_the_password() {
        let observed = ObservedUser {
            user: None,
            at: Timestamp::now(),
        };
        let described: Vec<String> = plan(&desired(), &observed).iter().map(Describe::describe).collect();
        assert_eq!(
            described,
            [
                "create the user",
                "put inline policy awsaccess-require-mfa",
                "give console access (a new password into its Secret, reset required)"
            ]
        );
    }

    #[test]
    fn a_leaver_loses_console_keys_and_groups_and_keeps_the_user() {
        let now = Timestamp::now();
        let user = AwsUser {
            arn: "arn:aws:iam::1:user/people/alice".into(),
            path: "/people/".into(),
            tags: desired().tags,
            login_profile: true,
            access_keys: vec![key("A", now, KeyStatus::Active)],
            inline_policies: BTreeMap::from([(MFA_POLICY_NAME.to_string(), require_mfa_policy())]),
            groups: BTreeSet::from(["devs".to_string()]),
            ..AwsUser::default()
        };
        let leaver = DesiredUser {
            state: UserState::Disabled,
            keys: Some(wanted(Some("A"))),
            ..desired()
        };
        let observed = ObservedUser {
            user: Some(user.clone()),
            at: now,
        };
        assert_eq!(
            plan(&leaver, &observed),
            vec![
                Change::DeleteLoginProfile,
                Change::SetKeyStatus("A".into(), KeyStatus::Inactive),
                Change::LeaveGroup("devs".into())
            ]
        );
        // In sync as a person: nothing to write.
        let mut person = desired();
        person.console = Some(SecretState::Ours { key_id: None });
        let without_keys = ObservedUser {
            user: Some(AwsUser {
                access_keys: vec![],
                groups: BTreeSet::new(),
                ..user
            }),
            at: now,
        };
        assert_eq!(plan(&person, &without_keys), vec![]);
    }

    #[test]
    fn what_the_spec_stops_asking_for_goes_with_the_secrets_made_for_it() {
        let now = Timestamp::now();
        let user = AwsUser {
            path: "/people/".into(),
            tags: desired().tags,
            login_profile: true,
            access_keys: vec![key("A", now, KeyStatus::Active), key("B", now, KeyStatus::Inactive)],
            inline_policies: BTreeMap::from([(MFA_POLICY_NAME.to_string(), require_mfa_policy())]),
            ..AwsUser::default()
        };
        // Neither console nor keys asked for any more.
        let bare = DesiredUser {
            console: None,
            keys: None,
            retired_secrets: vec!["alice-console".into(), "alice-aws".into()],
            ..desired()
        };
        let observed = ObservedUser {
            user: Some(user),
            at: now,
        };
        assert_eq!(
            plan(&bare, &observed),
            vec![
                Change::DeleteLoginProfile,
                Change::DeleteKey("A".into()),
                Change::DeleteKey("B".into()),
                Change::DeleteSecret("alice-console".into()),
                Change::DeleteSecret("alice-aws".into()),
            ]
        );
    }

    #[test]
    fn bad_input_names_the_field() {
        let spec: IamUserSpec = serde_json::from_value(json!({"console": {"enabled": true}})).unwrap();
        assert!(
            validate(&spec)
                .unwrap_err()
                .starts_with("spec.console.passwordSecretName: required")
        );
        let spec: IamUserSpec =
            serde_json::from_value(json!({"accessKeys": {"secretName": "k", "rotateAfter": "ninety days"}})).unwrap();
        assert!(
            validate(&spec)
                .unwrap_err()
                .starts_with("spec.accessKeys.rotateAfter: ninety days is not a duration")
        );
        assert_eq!(duration("f", "90d"), Ok(Duration::from_secs(90 * 24 * 3600)));
        assert_eq!(duration("f", "30s"), Ok(Duration::from_secs(30)));
    }

    #[test]
    fn the_mfa_policy_keeps_the_first_password_change_possible() {
        let policy = require_mfa_policy();
        let deny = &policy["Statement"][4];
        let exempt = deny["NotAction"].as_array().unwrap();
        for action in [
            "iam:ChangePassword",
            "iam:GetAccountPasswordPolicy",
            "iam:EnableMFADevice",
        ] {
            assert!(exempt.contains(&json!(action)), "{action}");
        }
        assert_eq!(deny["Condition"]["BoolIfExists"]["aws:MultiFactorAuthPresent"], "false");
    }
}

//! AWS in memory, behind the seam, for unit tests of the reconcilers: IAM in
//! any account and one organization, answering as `sdk` maps AWS's answers
//! (NoSuchEntity: None from a read, NotFound from a write; EntityAlreadyExists:
//! AlreadyExists; DeleteConflict and a non-empty OU: ConcurrentModification).
//! Every call is logged with its account, in order, and a fault can be queued
//! for the next calls of an operation: refused before AWS acts, or carried
//! out with its answer lost.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use k8s_openapi::jiff::Timestamp;
use serde_json::{Value, json};

use super::read_only::reads_only;
use super::{
    AccessKeyState, AccountDetails, AccountInfo, Aws, AwsError, AwsErrorKind, AwsResult, CreateAccountState,
    CreateAccountStatus, CredentialReport, CredentialReportRead, DEFAULT_MAX_SESSION_DURATION, GroupState, Iam,
    KeyStatus, ManagedPolicyState, NewAccessKey, NewAccount, NewManagedPolicy, NewPolicy, NewRole, NewUser,
    OrgAccountState, OrganizationalUnit, Organizations, Policy, PolicySummary, PolicyType, RoleState, UserCredentials,
    UserState, policy_name,
};

/// What the log names as the account of Organizations' calls.
pub const ORGANIZATIONS: &str = "organizations";

/// One call through the seam: the AWS operation a trait method stands for
/// (its main one, where the SDK makes several) and where it went.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Call {
    /// The account id, or `ORGANIZATIONS`.
    pub account: String,
    pub operation: &'static str,
}

impl Call {
    pub fn writes(&self) -> bool {
        !reads_only(self.operation)
    }
}

#[derive(Clone, Copy, Debug)]
pub enum Fault {
    /// AWS refuses the call; nothing changes.
    Fail(AwsErrorKind),
    /// AWS carries the call out and the caller gets this error instead of its
    /// answer: `Transport` for an answer lost on the way back, `AlreadyExists`
    /// for a create sent again after its first answer was lost.
    Lost(AwsErrorKind),
}

/// Why AWS refused a call, before the operation's name is put to it.
struct Refusal(AwsErrorKind, String);

type Answer<T> = Result<T, Refusal>;

fn refuse<T>(kind: AwsErrorKind, message: impl Into<String>) -> Answer<T> {
    Err(Refusal(kind, message.into()))
}

fn missing<T>(what: impl std::fmt::Display) -> Answer<T> {
    refuse(AwsErrorKind::NotFound, format!("NoSuchEntity: {what} cannot be found"))
}

fn document(raw: &str) -> Answer<Value> {
    serde_json::from_str(raw).or_else(|_| {
        refuse(
            AwsErrorKind::MalformedPolicy,
            "MalformedPolicyDocument: Syntax errors in policy",
        )
    })
}

/// The entry whose name is `name` regardless of case, as IAM finds names.
fn named<'a, T>(entries: &'a mut BTreeMap<String, T>, name: &str, what: &str) -> Answer<&'a mut T> {
    match entries.iter_mut().find(|(key, _)| key.eq_ignore_ascii_case(name)) {
        Some((_, entry)) => Ok(entry),
        None => missing(format!("{what} {name}")),
    }
}

fn vacant<'a>(mut names: impl Iterator<Item = &'a str>, name: &str, what: &str) -> Answer<()> {
    match names.any(|taken| taken.eq_ignore_ascii_case(name)) {
        true => refuse(
            AwsErrorKind::AlreadyExists,
            format!("EntityAlreadyExists: {what} with name {name} already exists"),
        ),
        false => Ok(()),
    }
}

#[derive(Default)]
struct World {
    iam: BTreeMap<String, IamAccount>,
    org: Org,
    calls: Vec<Call>,
    faults: HashMap<(String, &'static str), VecDeque<Fault>>,
}

/// Logs the call, then answers it as the first fault queued for it says, or by `act`.
fn run<T>(
    world: &Mutex<World>,
    account: &str,
    operation: &'static str,
    act: impl FnOnce(&mut World) -> Answer<T>,
) -> AwsResult<T> {
    let mut world = world.lock().unwrap_or_else(PoisonError::into_inner);
    world.calls.push(Call {
        account: account.to_owned(),
        operation,
    });
    let fault = world
        .faults
        .get_mut(&(account.to_owned(), operation))
        .and_then(VecDeque::pop_front);
    match fault {
        Some(Fault::Fail(kind)) => Err(AwsError::new(kind, operation, "injected: refused")),
        Some(Fault::Lost(kind)) => {
            let _ = act(&mut world);
            Err(AwsError::new(kind, operation, "injected: carried out, its answer lost"))
        }
        None => act(&mut world).map_err(|Refusal(kind, message)| AwsError::new(kind, operation, message)),
    }
}

/// AWS with the operator's credentials in `own_account`, the management
/// account of an organization that has only it.
#[derive(Clone)]
pub struct FakeAws {
    own_account: String,
    world: Arc<Mutex<World>>,
}

impl FakeAws {
    pub fn new(own_account: &str) -> Self {
        let world = World {
            org: Org::new(own_account),
            ..World::default()
        };
        FakeAws {
            own_account: own_account.to_owned(),
            world: Arc::new(Mutex::new(world)),
        }
    }

    fn world(&self) -> std::sync::MutexGuard<'_, World> {
        self.world.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// IAM in `account`, as the reconcilers reach it.
    pub fn iam_in(&self, account: &str) -> FakeIam {
        FakeIam {
            account: account.to_owned(),
            world: self.world.clone(),
        }
    }

    /// Every call since the start or the last `clear_calls`, in order.
    pub fn calls(&self) -> Vec<Call> {
        self.world().calls.clone()
    }

    /// The calls that change something.
    pub fn writes(&self) -> Vec<Call> {
        self.calls().into_iter().filter(Call::writes).collect()
    }

    /// How many times `operation` was called, in any account.
    pub fn count(&self, operation: &str) -> usize {
        self.calls().iter().filter(|call| call.operation == operation).count()
    }

    pub fn clear_calls(&self) {
        self.world().calls.clear();
    }

    /// Makes every access key of `user` in `account` older by `by`, as time
    /// passing would, and says it was last used then.
    pub fn age_access_keys(&self, account: &str, user: &str, by: std::time::Duration) {
        let mut world = self.world();
        let Some(state) = world.iam.get_mut(account).and_then(|iam| iam.user_states.get_mut(user)) else {
            return;
        };
        for key in &mut state.access_keys {
            key.created -= by;
        }
    }

    /// Gives `user` in `account` an MFA device, as the person enabling one does.
    pub fn enable_mfa(&self, account: &str, user: &str) {
        let mut world = self.world();
        if let Some(iam) = world.iam.get_mut(account) {
            let serial = format!("arn:aws:iam::{account}:mfa/{user}");
            if let Some(state) = iam.user_states.get_mut(user) {
                state.mfa_devices.push(serial);
            }
        }
    }

    /// Queues `fault` for the next call of `operation` in `account` (or
    /// `ORGANIZATIONS`) that has none queued before it.
    pub fn inject(&self, account: &str, operation: &'static str, fault: Fault) {
        let key = (account.to_owned(), operation);
        self.world().faults.entry(key).or_default().push_back(fault);
    }
}

#[async_trait]
impl Aws for FakeAws {
    async fn own_account_id(&self) -> AwsResult<String> {
        Ok(self.own_account.clone())
    }

    async fn iam(&self, account_id: &str, _access_role: &str) -> AwsResult<Arc<dyn Iam>> {
        Ok(Arc::new(self.iam_in(account_id)))
    }

    async fn iam_for(&self, account_id: &str, _access_role: &str, _requester: &str) -> AwsResult<Arc<dyn Iam>> {
        Ok(Arc::new(self.iam_in(account_id)))
    }

    fn organizations(&self) -> Arc<dyn Organizations> {
        Arc::new(FakeOrganizations {
            world: self.world.clone(),
        })
    }
}

/// A customer-managed policy: every version, oldest first.
struct ManagedPolicy {
    description: String,
    versions: Vec<(String, Value)>,
    default_version: String,
    /// Versions ever made: IAM never gives an id twice.
    made: u32,
    tags: BTreeMap<String, String>,
}

impl ManagedPolicy {
    fn state(&self, arn: &str, tags: bool) -> ManagedPolicyState {
        let default = self.versions.iter().find(|(id, _)| *id == self.default_version);
        ManagedPolicyState {
            arn: arn.to_owned(),
            description: self.description.clone(),
            document: default.map(|(_, document)| document.clone()).unwrap_or_default(),
            default_version: self.default_version.clone(),
            versions: self.versions.iter().map(|(id, _)| id.clone()).collect(),
            tags: tags.then(|| self.tags.clone()),
        }
    }
}

/// IAM of one account; names as created, found regardless of case.
#[derive(Default)]
struct IamAccount {
    id: String,
    roles: BTreeMap<String, RoleState>,
    groups: BTreeMap<String, GroupState>,
    users: BTreeMap<String, String>,
    /// What hangs on each user, by name as created; `groups` is read from the groups.
    user_states: BTreeMap<String, UserState>,
    /// Access keys ever made here: IAM never gives an id twice.
    keys_made: u32,
    /// By ARN.
    policies: BTreeMap<String, ManagedPolicy>,
    /// When the last credential report was made.
    credential_report: Option<Timestamp>,
}

/// IAM keeps at most this many versions of a managed policy.
const MAX_POLICY_VERSIONS: usize = 5;
/// IAM gives a user at most this many access keys.
const MAX_ACCESS_KEYS: usize = 2;

impl IamAccount {
    fn role(&mut self, name: &str) -> Answer<&mut RoleState> {
        named(&mut self.roles, name, "role")
    }

    fn group(&mut self, name: &str) -> Answer<&mut GroupState> {
        named(&mut self.groups, name, "group")
    }

    fn user(&mut self, name: &str) -> Answer<&mut UserState> {
        named(&mut self.user_states, name, "user")
    }

    fn policy(&mut self, arn: &str) -> Answer<&mut ManagedPolicy> {
        match self.policies.get_mut(arn) {
            Some(policy) => Ok(policy),
            None => missing(format!("policy {arn}")),
        }
    }

    /// A managed policy may be attached when AWS or this account has it.
    fn attachable(&self, arn: &str) -> Answer<()> {
        match arn.starts_with("arn:aws:iam::aws:policy/") || self.policies.contains_key(arn) {
            true => Ok(()),
            false => missing(format!("policy {arn}")),
        }
    }
}

/// IAM in one account of the fake.
pub struct FakeIam {
    account: String,
    world: Arc<Mutex<World>>,
}

impl FakeIam {
    fn call<T>(&self, operation: &'static str, act: impl FnOnce(&mut IamAccount) -> Answer<T>) -> AwsResult<T> {
        run(&self.world, &self.account, operation, |world| {
            let iam = world.iam.entry(self.account.clone()).or_insert_with(|| IamAccount {
                id: self.account.clone(),
                ..IamAccount::default()
            });
            act(iam)
        })
    }
}

#[async_trait]
impl Iam for FakeIam {
    async fn get_role(&self, name: &str) -> AwsResult<Option<RoleState>> {
        self.call("GetRole", |iam| Ok(iam.role(name).ok().cloned()))
    }

    async fn create_role(&self, role: &NewRole) -> AwsResult<String> {
        self.call("CreateRole", |iam| {
            vacant(iam.roles.keys().map(String::as_str), &role.name, "Role")?;
            let state = RoleState {
                arn: format!("arn:aws:iam::{}:role/{}", iam.id, role.name),
                trust_policy: document(&role.trust_policy)?,
                description: role.description.clone(),
                max_session_duration: match role.max_session_duration {
                    0 => DEFAULT_MAX_SESSION_DURATION,
                    seconds => seconds,
                },
                permissions_boundary_arn: role.permissions_boundary_arn.clone(),
                tags: role.tags.clone(),
                ..RoleState::default()
            };
            let arn = state.arn.clone();
            iam.roles.insert(role.name.clone(), state);
            Ok(arn)
        })
    }

    async fn update_trust_policy(&self, role: &str, raw: &str) -> AwsResult<()> {
        self.call("UpdateAssumeRolePolicy", |iam| {
            let document = document(raw)?;
            iam.role(role)?.trust_policy = document;
            Ok(())
        })
    }

    async fn update_role(&self, role: &str, description: &str, max_session_duration: i32) -> AwsResult<()> {
        self.call("UpdateRole", |iam| {
            let role = iam.role(role)?;
            role.description = description.to_owned();
            role.max_session_duration = max_session_duration;
            Ok(())
        })
    }

    async fn put_permissions_boundary(&self, role: &str, policy_arn: &str) -> AwsResult<()> {
        self.call("PutRolePermissionsBoundary", |iam| {
            iam.attachable(policy_arn)?;
            iam.role(role)?.permissions_boundary_arn = Some(policy_arn.to_owned());
            Ok(())
        })
    }

    async fn delete_permissions_boundary(&self, role: &str) -> AwsResult<()> {
        self.call("DeleteRolePermissionsBoundary", |iam| {
            iam.role(role)?.permissions_boundary_arn = None;
            Ok(())
        })
    }

    async fn attach_role_policy(&self, role: &str, policy_arn: &str) -> AwsResult<()> {
        self.call("AttachRolePolicy", |iam| {
            iam.attachable(policy_arn)?;
            iam.role(role)?.managed_policy_arns.insert(policy_arn.to_owned());
            Ok(())
        })
    }

    async fn detach_role_policy(&self, role: &str, policy_arn: &str) -> AwsResult<()> {
        self.call("DetachRolePolicy", |iam| {
            match iam.role(role)?.managed_policy_arns.remove(policy_arn) {
                true => Ok(()),
                false => missing(format!("policy {policy_arn} attached to role {role}")),
            }
        })
    }

    async fn put_role_policy(&self, role: &str, policy_name: &str, raw: &str) -> AwsResult<()> {
        self.call("PutRolePolicy", |iam| {
            let document = document(raw)?;
            iam.role(role)?.inline_policies.insert(policy_name.to_owned(), document);
            Ok(())
        })
    }

    async fn delete_role_policy(&self, role: &str, policy_name: &str) -> AwsResult<()> {
        self.call("DeleteRolePolicy", |iam| {
            match iam.role(role)?.inline_policies.remove(policy_name) {
                Some(_) => Ok(()),
                None => missing(format!("policy {policy_name} of role {role}")),
            }
        })
    }

    async fn tag_role(&self, role: &str, tags: &BTreeMap<String, String>) -> AwsResult<()> {
        self.call("TagRole", |iam| {
            iam.role(role)?.tags.extend(tags.clone());
            Ok(())
        })
    }

    async fn untag_role(&self, role: &str, keys: &[String]) -> AwsResult<()> {
        self.call("UntagRole", |iam| {
            iam.role(role)?.tags.retain(|key, _| !keys.contains(key));
            Ok(())
        })
    }

    async fn delete_role(&self, role: &str) -> AwsResult<()> {
        self.call("DeleteRole", |iam| {
            let state = iam.role(role)?;
            if !state.managed_policy_arns.is_empty() || !state.inline_policies.is_empty() {
                return refuse(
                    AwsErrorKind::ConcurrentModification,
                    "DeleteConflict: Cannot delete entity, must detach all policies first",
                );
            }
            iam.roles.retain(|name, _| !name.eq_ignore_ascii_case(role));
            Ok(())
        })
    }

    async fn get_group(&self, name: &str) -> AwsResult<Option<GroupState>> {
        self.call("GetGroup", |iam| Ok(iam.group(name).ok().cloned()))
    }

    async fn create_group(&self, name: &str) -> AwsResult<String> {
        self.call("CreateGroup", |iam| {
            vacant(iam.groups.keys().map(String::as_str), name, "Group")?;
            let arn = format!("arn:aws:iam::{}:group/{name}", iam.id);
            let group = GroupState {
                arn: arn.clone(),
                ..GroupState::default()
            };
            iam.groups.insert(name.to_owned(), group);
            Ok(arn)
        })
    }

    async fn delete_group(&self, name: &str) -> AwsResult<()> {
        self.call("DeleteGroup", |iam| {
            let group = iam.group(name)?;
            if !group.members.is_empty() || !group.managed_policy_arns.is_empty() || !group.inline_policies.is_empty() {
                return refuse(
                    AwsErrorKind::ConcurrentModification,
                    "DeleteConflict: Cannot delete entity, must remove users and policies first",
                );
            }
            iam.groups.retain(|group, _| !group.eq_ignore_ascii_case(name));
            Ok(())
        })
    }

    async fn add_user_to_group(&self, group: &str, user: &str) -> AwsResult<()> {
        self.call("AddUserToGroup", |iam| {
            named(&mut iam.users, user, "user")?;
            iam.group(group)?.members.insert(user.to_owned());
            Ok(())
        })
    }

    async fn remove_user_from_group(&self, group: &str, user: &str) -> AwsResult<()> {
        self.call("RemoveUserFromGroup", |iam| {
            match iam.group(group)?.members.remove(user) {
                true => Ok(()),
                false => missing(format!("user {user} in group {group}")),
            }
        })
    }

    async fn put_group_policy(&self, group: &str, policy_name: &str, raw: &str) -> AwsResult<()> {
        self.call("PutGroupPolicy", |iam| {
            let document = document(raw)?;
            iam.group(group)?
                .inline_policies
                .insert(policy_name.to_owned(), document);
            Ok(())
        })
    }

    async fn delete_group_policy(&self, group: &str, policy_name: &str) -> AwsResult<()> {
        self.call("DeleteGroupPolicy", |iam| {
            match iam.group(group)?.inline_policies.remove(policy_name) {
                Some(_) => Ok(()),
                None => missing(format!("policy {policy_name} of group {group}")),
            }
        })
    }

    async fn attach_group_policy(&self, group: &str, policy_arn: &str) -> AwsResult<()> {
        self.call("AttachGroupPolicy", |iam| {
            iam.attachable(policy_arn)?;
            iam.group(group)?.managed_policy_arns.insert(policy_arn.to_owned());
            Ok(())
        })
    }

    async fn detach_group_policy(&self, group: &str, policy_arn: &str) -> AwsResult<()> {
        self.call("DetachGroupPolicy", |iam| {
            match iam.group(group)?.managed_policy_arns.remove(policy_arn) {
                true => Ok(()),
                false => missing(format!("policy {policy_arn} attached to group {group}")),
            }
        })
    }

    async fn user_arns(&self, users: &[String]) -> AwsResult<BTreeMap<String, String>> {
        self.call("GetUser", |iam| {
            let found = users
                .iter()
                .filter_map(|user| Some((user.clone(), iam.users.get(user)?.clone())));
            Ok(found.collect())
        })
    }

    async fn get_user(&self, name: &str) -> AwsResult<Option<UserState>> {
        self.call("GetUser", |iam| {
            let groups = iam
                .groups
                .iter()
                .filter(|(_, group)| group.members.iter().any(|m| m.eq_ignore_ascii_case(name)))
                .map(|(group, _)| group.clone())
                .collect();
            Ok(iam.user(name).ok().map(|user| UserState { groups, ..user.clone() }))
        })
    }

    async fn create_user(&self, user: &NewUser) -> AwsResult<String> {
        self.call("CreateUser", |iam| {
            vacant(iam.user_states.keys().map(String::as_str), &user.name, "User")?;
            let path = if user.path.is_empty() { "/" } else { user.path.as_str() };
            let arn = format!("arn:aws:iam::{}:user{path}{}", iam.id, user.name);
            let state = UserState {
                arn: arn.clone(),
                path: path.to_owned(),
                tags: user.tags.clone(),
                ..UserState::default()
            };
            iam.user_states.insert(user.name.clone(), state);
            iam.users.insert(user.name.clone(), arn.clone());
            Ok(arn)
        })
    }

    async fn update_user_path(&self, user: &str, path: &str) -> AwsResult<()> {
        self.call("UpdateUser", |iam| {
            let id = iam.id.clone();
            let state = iam.user(user)?;
            state.path = path.to_owned();
            state.arn = format!("arn:aws:iam::{id}:user{path}{user}");
            let arn = state.arn.clone();
            iam.users.insert(user.to_owned(), arn);
            Ok(())
        })
    }

    async fn tag_user(&self, user: &str, tags: &BTreeMap<String, String>) -> AwsResult<()> {
        self.call("TagUser", |iam| {
            iam.user(user)?.tags.extend(tags.clone());
            Ok(())
        })
    }

    async fn untag_user(&self, user: &str, keys: &[String]) -> AwsResult<()> {
        self.call("UntagUser", |iam| {
            iam.user(user)?.tags.retain(|key, _| !keys.contains(key));
            Ok(())
        })
    }

    /// Refused, as AWS refuses it, while anything still hangs on the user.
    async fn delete_user(&self, user: &str) -> AwsResult<()> {
        self.call("DeleteUser", |iam| {
            let in_group = iam
                .groups
                .values()
                .any(|group| group.members.iter().any(|m| m.eq_ignore_ascii_case(user)));
            let state = iam.user(user)?;
            if state.login_profile
                || !state.access_keys.is_empty()
                || !state.mfa_devices.is_empty()
                || !state.inline_policies.is_empty()
                || !state.managed_policy_arns.is_empty()
                || in_group
            {
                return refuse(
                    AwsErrorKind::ConcurrentModification,
                    "DeleteConflict: Cannot delete entity, must remove login profile, keys, MFA devices, policies and groups first",
                );
            }
            iam.user_states.retain(|name, _| !name.eq_ignore_ascii_case(user));
            iam.users.retain(|name, _| !name.eq_ignore_ascii_case(user));
            Ok(())
        })
    }

    async fn create_login_profile(&self, user: &str, _password: &str, _reset_required: bool) -> AwsResult<()> {
        self.call("CreateLoginProfile", |iam| {
            let state = iam.user(user)?;
            if state.login_profile {
                return refuse(
                    AwsErrorKind::AlreadyExists,
                    format!("EntityAlreadyExists: Login Profile for user {user} already exists"),
                );
            }
            state.login_profile = true;
            Ok(())
        })
    }

    async fn delete_login_profile(&self, user: &str) -> AwsResult<()> {
        self.call("DeleteLoginProfile", |iam| {
            let state = iam.user(user)?;
            match std::mem::replace(&mut state.login_profile, false) {
                true => Ok(()),
                false => missing(format!("Login Profile for User {user}")),
            }
        })
    }

    async fn create_access_key(&self, user: &str) -> AwsResult<NewAccessKey> {
        self.call("CreateAccessKey", |iam| {
            iam.keys_made += 1;
            let id = format!("AKIAFAKE{:012}", iam.keys_made);
            let state = iam.user(user)?;
            if state.access_keys.len() >= MAX_ACCESS_KEYS {
                return refuse(
                    AwsErrorKind::LimitExceeded,
                    format!("LimitExceeded: Cannot exceed quota for AccessKeysPerUser: {MAX_ACCESS_KEYS}"),
                );
            }
            state.access_keys.push(AccessKeyState {
                id: id.clone(),
                status: KeyStatus::Active,
                created: Timestamp::now(),
                last_used: None,
            });
            Ok(NewAccessKey {
                secret: format!("fake-secret-of-{id}"),
                id,
            })
        })
    }

    async fn update_access_key(&self, user: &str, key_id: &str, status: KeyStatus) -> AwsResult<()> {
        self.call("UpdateAccessKey", |iam| {
            match iam.user(user)?.access_keys.iter_mut().find(|key| key.id == key_id) {
                Some(key) => {
                    key.status = status;
                    Ok(())
                }
                None => missing(format!("access key {key_id}")),
            }
        })
    }

    async fn delete_access_key(&self, user: &str, key_id: &str) -> AwsResult<()> {
        self.call("DeleteAccessKey", |iam| {
            let keys = &mut iam.user(user)?.access_keys;
            let before = keys.len();
            keys.retain(|key| key.id != key_id);
            match keys.len() < before {
                true => Ok(()),
                false => missing(format!("access key {key_id}")),
            }
        })
    }

    async fn deactivate_mfa_device(&self, user: &str, serial: &str) -> AwsResult<()> {
        self.call("DeactivateMFADevice", |iam| {
            let devices = &mut iam.user(user)?.mfa_devices;
            let before = devices.len();
            devices.retain(|device| device != serial);
            match devices.len() < before {
                true => Ok(()),
                false => missing(format!("MFA device {serial}")),
            }
        })
    }

    async fn delete_virtual_mfa_device(&self, _serial: &str) -> AwsResult<()> {
        self.call("DeleteVirtualMFADevice", |_| Ok(()))
    }

    async fn put_user_policy(&self, user: &str, policy_name: &str, raw: &str) -> AwsResult<()> {
        self.call("PutUserPolicy", |iam| {
            let document = document(raw)?;
            iam.user(user)?.inline_policies.insert(policy_name.to_owned(), document);
            Ok(())
        })
    }

    async fn delete_user_policy(&self, user: &str, policy_name: &str) -> AwsResult<()> {
        self.call("DeleteUserPolicy", |iam| {
            match iam.user(user)?.inline_policies.remove(policy_name) {
                Some(_) => Ok(()),
                None => missing(format!("policy {policy_name} of user {user}")),
            }
        })
    }

    async fn detach_user_policy(&self, user: &str, policy_arn: &str) -> AwsResult<()> {
        self.call("DetachUserPolicy", |iam| {
            match iam.user(user)?.managed_policy_arns.remove(policy_arn) {
                true => Ok(()),
                false => missing(format!("policy {policy_arn} attached to user {user}")),
            }
        })
    }

    async fn get_policy(&self, arn: &str) -> AwsResult<Option<ManagedPolicyState>> {
        self.call("GetPolicy", |iam| {
            Ok(iam.policies.get(arn).map(|policy| policy.state(arn, true)))
        })
    }

    async fn create_policy(&self, policy: &NewManagedPolicy) -> AwsResult<String> {
        self.call("CreatePolicy", |iam| {
            let arn = format!("arn:aws:iam::{}:policy/{}", iam.id, policy.name);
            vacant(iam.policies.keys().map(|arn| policy_name(arn)), &policy.name, "Policy")?;
            let created = ManagedPolicy {
                description: policy.description.clone(),
                versions: vec![("v1".to_owned(), document(&policy.document)?)],
                default_version: "v1".to_owned(),
                made: 1,
                tags: policy.tags.clone(),
            };
            iam.policies.insert(arn.clone(), created);
            Ok(arn)
        })
    }

    async fn create_policy_version(&self, arn: &str, raw: &str) -> AwsResult<String> {
        self.call("CreatePolicyVersion", |iam| {
            let document = document(raw)?;
            let policy = iam.policy(arn)?;
            if policy.versions.len() >= MAX_POLICY_VERSIONS {
                return refuse(
                    AwsErrorKind::LimitExceeded,
                    format!("LimitExceeded: A managed policy can have up to {MAX_POLICY_VERSIONS} versions"),
                );
            }
            policy.made += 1;
            let id = format!("v{}", policy.made);
            policy.versions.push((id.clone(), document));
            policy.default_version = id.clone();
            Ok(id)
        })
    }

    async fn delete_policy_version(&self, arn: &str, version: &str) -> AwsResult<()> {
        self.call("DeletePolicyVersion", |iam| {
            let policy = iam.policy(arn)?;
            if policy.default_version == version {
                return refuse(
                    AwsErrorKind::ConcurrentModification,
                    "DeleteConflict: Cannot delete the default version of a policy",
                );
            }
            let before = policy.versions.len();
            policy.versions.retain(|(id, _)| id != version);
            match policy.versions.len() < before {
                true => Ok(()),
                false => missing(format!("version {version} of policy {arn}")),
            }
        })
    }

    /// As `sdk` does it: detached from every role and group, then deleted
    /// with its versions.
    async fn delete_policy(&self, arn: &str) -> AwsResult<()> {
        self.call("DeletePolicy", |iam| {
            iam.policy(arn)?;
            for role in iam.roles.values_mut() {
                role.managed_policy_arns.remove(arn);
            }
            for group in iam.groups.values_mut() {
                group.managed_policy_arns.remove(arn);
            }
            iam.policies.remove(arn);
            Ok(())
        })
    }

    async fn account_details(&self) -> AwsResult<AccountDetails> {
        self.call("GetAccountAuthorizationDetails", |iam| {
            Ok(AccountDetails {
                roles: iam.roles.clone(),
                groups: iam.groups.clone(),
                users: iam.users.clone(),
                policies: iam
                    .policies
                    .iter()
                    .map(|(arn, policy)| (policy_name(arn).to_owned(), policy.state(arn, false)))
                    .collect(),
                ..AccountDetails::default()
            })
        })
    }

    async fn get_credential_report(&self) -> AwsResult<CredentialReportRead> {
        self.call("GetCredentialReport", |iam| {
            Ok(match iam.credential_report {
                None => CredentialReportRead::Absent,
                Some(generated) => CredentialReportRead::Ready(CredentialReport {
                    generated: Some(generated),
                    users: iam
                        .users
                        .iter()
                        .map(|(user, arn)| UserCredentials {
                            user: user.clone(),
                            arn: arn.clone(),
                            ..UserCredentials::default()
                        })
                        .collect(),
                }),
            })
        })
    }

    async fn generate_credential_report(&self) -> AwsResult<()> {
        self.call("GenerateCredentialReport", |iam| {
            iam.credential_report = Some(Timestamp::now());
            Ok(())
        })
    }
}

struct OrgPolicy {
    policy: Policy,
    kind: PolicyType,
}

/// The organization: ids as AWS shapes them, the management account in the root.
#[derive(Default)]
struct Org {
    management: String,
    root: String,
    enabled: BTreeSet<PolicyType>,
    units: BTreeMap<String, OrganizationalUnit>,
    accounts: BTreeMap<String, AccountInfo>,
    /// Child (OU or account) → the root or OU it sits in.
    parents: BTreeMap<String, String>,
    requests: Vec<CreateAccountStatus>,
    policies: BTreeMap<String, OrgPolicy>,
    /// (policy, target).
    attached: BTreeSet<(String, String)>,
    tags: BTreeMap<String, BTreeMap<String, String>>,
    made: u64,
}

/// The AWS-managed policy every target has while SCPs are enabled.
const FULL_ACCESS: &str = "p-FullAWSAccess";

impl Org {
    fn new(management: &str) -> Self {
        let mut org = Org {
            management: management.to_owned(),
            root: "r-fake".to_owned(),
            ..Org::default()
        };
        org.join(management, "master", "master@example.com");
        let full_access = Policy {
            summary: PolicySummary {
                id: FULL_ACCESS.to_owned(),
                arn: format!("arn:aws:organizations::aws:policy/service_control_policy/{FULL_ACCESS}"),
                name: "FullAWSAccess".to_owned(),
                description: "Allows access to every operation".to_owned(),
                aws_managed: true,
            },
            content: json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}),
        };
        let kind = PolicyType::ServiceControlPolicy;
        org.policies.insert(
            FULL_ACCESS.to_owned(),
            OrgPolicy {
                policy: full_access,
                kind,
            },
        );
        org
    }

    fn next(&mut self) -> u64 {
        self.made += 1;
        self.made
    }

    fn arn(&self, what: &str, id: &str) -> String {
        format!("arn:aws:organizations::{}:{what}/o-fake/{id}", self.management)
    }

    /// An account in the root, as CreateAccount leaves it.
    fn join(&mut self, id: &str, name: &str, email: &str) {
        let account = AccountInfo {
            id: id.to_owned(),
            arn: self.arn("account", id),
            name: name.to_owned(),
            email: email.to_owned(),
            state: OrgAccountState::Active,
        };
        self.accounts.insert(id.to_owned(), account);
        self.placed(id, &self.root.clone());
    }

    /// A new child of `parent`, with what AWS attaches to it.
    fn placed(&mut self, child: &str, parent: &str) {
        self.parents.insert(child.to_owned(), parent.to_owned());
        self.tags.insert(child.to_owned(), BTreeMap::new());
        if self.enabled.contains(&PolicyType::ServiceControlPolicy) {
            self.attached.insert((FULL_ACCESS.to_owned(), child.to_owned()));
        }
    }

    fn is_parent(&self, id: &str) -> Answer<()> {
        match id == self.root || self.units.contains_key(id) {
            true => Ok(()),
            false => refuse(AwsErrorKind::NotFound, format!("ParentNotFoundException: {id}")),
        }
    }

    /// Roots, OUs, accounts and policies: what tags and policies reach.
    fn exists(&self, id: &str) -> Answer<()> {
        match id == self.root || self.parents.contains_key(id) || self.policies.contains_key(id) {
            true => Ok(()),
            false => refuse(AwsErrorKind::NotFound, format!("TargetNotFoundException: {id}")),
        }
    }

    fn children(&self, parent: &str) -> impl Iterator<Item = &String> {
        self.parents
            .iter()
            .filter(move |(_, of)| *of == parent)
            .map(|(child, _)| child)
    }

    fn policy(&mut self, id: &str) -> Answer<&mut OrgPolicy> {
        match self.policies.get_mut(id) {
            Some(policy) => Ok(policy),
            None => refuse(AwsErrorKind::NotFound, format!("PolicyNotFoundException: {id}")),
        }
    }

    fn unique_policy_name(&self, name: &str, except: &str) -> Answer<()> {
        match self
            .policies
            .iter()
            .any(|(id, p)| id != except && p.policy.summary.name == name)
        {
            true => refuse(AwsErrorKind::AlreadyExists, format!("DuplicatePolicyException: {name}")),
            false => Ok(()),
        }
    }

    fn unique_unit_name(&self, parent: &str, name: &str) -> Answer<()> {
        match self
            .children(parent)
            .any(|child| self.units.get(child).is_some_and(|u| u.name == name))
        {
            true => refuse(
                AwsErrorKind::AlreadyExists,
                format!("DuplicateOrganizationalUnitException: {name}"),
            ),
            false => Ok(()),
        }
    }
}

pub struct FakeOrganizations {
    world: Arc<Mutex<World>>,
}

impl FakeOrganizations {
    fn call<T>(&self, operation: &'static str, act: impl FnOnce(&mut Org) -> Answer<T>) -> AwsResult<T> {
        run(&self.world, ORGANIZATIONS, operation, |world| act(&mut world.org))
    }
}

#[async_trait]
impl Organizations for FakeOrganizations {
    /// Done at once; an email already in the organization fails the request, as AWS does.
    async fn create_account(&self, account: &NewAccount) -> AwsResult<String> {
        self.call("CreateAccount", |org| {
            let serial = org.next();
            let taken = org.accounts.values().any(|a| a.email == account.email);
            let id = format!("{:012}", 200_000_000_000 + serial);
            if !taken {
                org.join(&id, &account.name, &account.email);
                org.tags.insert(id.clone(), account.tags.clone());
            }
            let status = CreateAccountStatus {
                request_id: format!("car-{serial}"),
                state: match taken {
                    true => CreateAccountState::Failed,
                    false => CreateAccountState::Succeeded,
                },
                account_id: (!taken).then_some(id),
                account_name: account.name.clone(),
                failure_reason: taken.then(|| "EMAIL_ALREADY_EXISTS".to_owned()),
            };
            org.requests.push(status.clone());
            Ok(status.request_id)
        })
    }

    async fn describe_create_account_status(&self, request_id: &str) -> AwsResult<CreateAccountStatus> {
        self.call("DescribeCreateAccountStatus", |org| {
            match org.requests.iter().find(|r| r.request_id == request_id) {
                Some(request) => Ok(request.clone()),
                None => refuse(AwsErrorKind::NotFound, "CreateAccountStatusNotFoundException"),
            }
        })
    }

    async fn list_create_account_status(&self, states: &[CreateAccountState]) -> AwsResult<Vec<CreateAccountStatus>> {
        self.call("ListCreateAccountStatus", |org| {
            let requests = org.requests.iter().filter(|r| states.contains(&r.state));
            Ok(requests.cloned().collect())
        })
    }

    async fn list_accounts(&self) -> AwsResult<Vec<AccountInfo>> {
        self.call("ListAccounts", |org| Ok(org.accounts.values().cloned().collect()))
    }

    async fn describe_account(&self, account_id: &str) -> AwsResult<Option<AccountInfo>> {
        self.call("DescribeAccount", |org| Ok(org.accounts.get(account_id).cloned()))
    }

    async fn root_id(&self) -> AwsResult<String> {
        self.call("ListRoots", |org| Ok(org.root.clone()))
    }

    async fn list_organizational_units(&self, parent_id: &str) -> AwsResult<Vec<OrganizationalUnit>> {
        self.call("ListOrganizationalUnitsForParent", |org| {
            org.is_parent(parent_id)?;
            Ok(org
                .children(parent_id)
                .filter_map(|child| org.units.get(child).cloned())
                .collect())
        })
    }

    async fn parent_of(&self, child_id: &str) -> AwsResult<String> {
        self.call("ListParents", |org| match org.parents.get(child_id) {
            Some(parent) => Ok(parent.clone()),
            None => refuse(AwsErrorKind::NotFound, format!("ChildNotFoundException: {child_id}")),
        })
    }

    async fn move_account(&self, account_id: &str, from_parent: &str, to_parent: &str) -> AwsResult<()> {
        self.call("MoveAccount", |org| {
            org.is_parent(to_parent)?;
            match org.parents.get(account_id) {
                _ if !org.accounts.contains_key(account_id) => refuse(
                    AwsErrorKind::NotFound,
                    format!("AccountNotFoundException: {account_id}"),
                ),
                Some(parent) if parent == to_parent => refuse(
                    AwsErrorKind::AlreadyExists,
                    format!("DuplicateAccountException: {account_id}"),
                ),
                Some(parent) if parent != from_parent => refuse(
                    AwsErrorKind::NotFound,
                    format!("SourceParentNotFoundException: {from_parent}"),
                ),
                _ => {
                    org.parents.insert(account_id.to_owned(), to_parent.to_owned());
                    Ok(())
                }
            }
        })
    }

    async fn list_tags(&self, resource_id: &str) -> AwsResult<BTreeMap<String, String>> {
        self.call("ListTagsForResource", |org| {
            org.exists(resource_id)?;
            Ok(org.tags.get(resource_id).cloned().unwrap_or_default())
        })
    }

    async fn tag_resource(&self, resource_id: &str, tags: &BTreeMap<String, String>) -> AwsResult<()> {
        self.call("TagResource", |org| {
            org.exists(resource_id)?;
            org.tags.entry(resource_id.to_owned()).or_default().extend(tags.clone());
            Ok(())
        })
    }

    async fn untag_resource(&self, resource_id: &str, keys: &[String]) -> AwsResult<()> {
        self.call("UntagResource", |org| {
            org.exists(resource_id)?;
            org.tags
                .entry(resource_id.to_owned())
                .or_default()
                .retain(|key, _| !keys.contains(key));
            Ok(())
        })
    }

    async fn close_account(&self, account_id: &str) -> AwsResult<()> {
        self.call("CloseAccount", |org| match org.accounts.get_mut(account_id) {
            Some(account) => {
                account.state = OrgAccountState::PendingClosure;
                Ok(())
            }
            None => refuse(
                AwsErrorKind::NotFound,
                format!("AccountNotFoundException: {account_id}"),
            ),
        })
    }

    async fn create_organizational_unit(
        &self,
        parent_id: &str,
        name: &str,
        tags: &BTreeMap<String, String>,
    ) -> AwsResult<OrganizationalUnit> {
        self.call("CreateOrganizationalUnit", |org| {
            org.is_parent(parent_id)?;
            org.unique_unit_name(parent_id, name)?;
            let id = format!("ou-fake-{:08}", org.next());
            let unit = OrganizationalUnit {
                arn: org.arn("ou", &id),
                id: id.clone(),
                name: name.to_owned(),
            };
            org.units.insert(id.clone(), unit.clone());
            org.placed(&id, parent_id);
            org.tags.insert(id, tags.clone());
            Ok(unit)
        })
    }

    async fn describe_organizational_unit(&self, id: &str) -> AwsResult<Option<OrganizationalUnit>> {
        self.call("DescribeOrganizationalUnit", |org| Ok(org.units.get(id).cloned()))
    }

    async fn rename_organizational_unit(&self, id: &str, name: &str) -> AwsResult<()> {
        self.call("UpdateOrganizationalUnit", |org| {
            let parent = match org.parents.get(id) {
                Some(parent) if org.units.contains_key(id) => parent.clone(),
                _ => {
                    return refuse(
                        AwsErrorKind::NotFound,
                        format!("OrganizationalUnitNotFoundException: {id}"),
                    );
                }
            };
            org.unique_unit_name(&parent, name)?;
            if let Some(unit) = org.units.get_mut(id) {
                unit.name = name.to_owned();
            }
            Ok(())
        })
    }

    /// Only an empty OU; its attachments and tags go with it.
    async fn delete_organizational_unit(&self, id: &str) -> AwsResult<()> {
        self.call("DeleteOrganizationalUnit", |org| {
            if !org.units.contains_key(id) {
                return refuse(
                    AwsErrorKind::NotFound,
                    format!("OrganizationalUnitNotFoundException: {id}"),
                );
            }
            if org.children(id).next().is_some() {
                return refuse(
                    AwsErrorKind::ConcurrentModification,
                    format!("OrganizationalUnitNotEmptyException: {id}"),
                );
            }
            org.units.remove(id);
            org.parents.remove(id);
            org.tags.remove(id);
            org.attached.retain(|(_, target)| target != id);
            Ok(())
        })
    }

    async fn list_child_accounts(&self, parent_id: &str) -> AwsResult<Vec<String>> {
        self.call("ListChildren", |org| {
            org.is_parent(parent_id)?;
            Ok(org
                .children(parent_id)
                .filter(|child| org.accounts.contains_key(*child))
                .cloned()
                .collect())
        })
    }

    async fn enabled_policy_types(&self) -> AwsResult<BTreeSet<PolicyType>> {
        self.call("ListRoots", |org| Ok(org.enabled.clone()))
    }

    /// Enabling SCPs attaches FullAWSAccess everywhere, as AWS does.
    async fn enable_policy_type(&self, root_id: &str, policy_type: PolicyType) -> AwsResult<()> {
        self.call("EnablePolicyType", |org| {
            if root_id != org.root {
                return refuse(AwsErrorKind::NotFound, format!("RootNotFoundException: {root_id}"));
            }
            if org.enabled.insert(policy_type) && policy_type == PolicyType::ServiceControlPolicy {
                let targets: Vec<String> = std::iter::once(&org.root).chain(org.parents.keys()).cloned().collect();
                org.attached
                    .extend(targets.into_iter().map(|target| (FULL_ACCESS.to_owned(), target)));
            }
            Ok(())
        })
    }

    async fn list_policies(&self, policy_type: PolicyType) -> AwsResult<Vec<PolicySummary>> {
        self.call("ListPolicies", |org| {
            let of_type = org.policies.values().filter(|p| p.kind == policy_type);
            Ok(of_type.map(|p| p.policy.summary.clone()).collect())
        })
    }

    async fn describe_policy(&self, id: &str) -> AwsResult<Option<Policy>> {
        self.call("DescribePolicy", |org| {
            Ok(org.policies.get(id).map(|p| p.policy.clone()))
        })
    }

    async fn create_policy(&self, policy_type: PolicyType, policy: &NewPolicy) -> AwsResult<PolicySummary> {
        self.call("CreatePolicy", |org| {
            org.unique_policy_name(&policy.name, "")?;
            let content = document(&policy.content)?;
            let id = format!("p-{:08}", org.next());
            let summary = PolicySummary {
                arn: org.arn(&format!("policy/{}", policy_type.as_str().to_lowercase()), &id),
                id: id.clone(),
                name: policy.name.clone(),
                description: policy.description.clone(),
                aws_managed: false,
            };
            let created = OrgPolicy {
                policy: Policy {
                    summary: summary.clone(),
                    content,
                },
                kind: policy_type,
            };
            org.policies.insert(id.clone(), created);
            org.tags.insert(id, policy.tags.clone());
            Ok(summary)
        })
    }

    async fn update_policy(&self, id: &str, policy: &NewPolicy) -> AwsResult<()> {
        self.call("UpdatePolicy", |org| {
            org.unique_policy_name(&policy.name, id)?;
            let content = document(&policy.content)?;
            let found = org.policy(id)?;
            if found.policy.summary.aws_managed {
                return refuse(
                    AwsErrorKind::AccessDenied,
                    "AccessDeniedException: an AWS managed policy",
                );
            }
            found.policy.summary.name = policy.name.clone();
            found.policy.summary.description = policy.description.clone();
            found.policy.content = content;
            Ok(())
        })
    }

    async fn delete_policy(&self, id: &str) -> AwsResult<()> {
        self.call("DeletePolicy", |org| {
            if org.policy(id)?.policy.summary.aws_managed {
                return refuse(
                    AwsErrorKind::AccessDenied,
                    "AccessDeniedException: an AWS managed policy",
                );
            }
            if org.attached.iter().any(|(policy, _)| policy == id) {
                return refuse(
                    AwsErrorKind::ConcurrentModification,
                    format!("PolicyInUseException: {id}"),
                );
            }
            org.policies.remove(id);
            org.tags.remove(id);
            Ok(())
        })
    }

    async fn list_targets_for_policy(&self, id: &str) -> AwsResult<BTreeSet<String>> {
        self.call("ListTargetsForPolicy", |org| {
            org.policy(id)?;
            let targets = org.attached.iter().filter(|(policy, _)| policy == id);
            Ok(targets.map(|(_, target)| target.clone()).collect())
        })
    }

    async fn attach_policy(&self, id: &str, target_id: &str) -> AwsResult<()> {
        self.call("AttachPolicy", |org| {
            let kind = org.policy(id)?.kind;
            org.exists(target_id)?;
            if !org.enabled.contains(&kind) {
                return refuse(AwsErrorKind::ConcurrentModification, "PolicyTypeNotEnabledException");
            }
            match org.attached.insert((id.to_owned(), target_id.to_owned())) {
                true => Ok(()),
                false => refuse(AwsErrorKind::AlreadyExists, "DuplicatePolicyAttachmentException"),
            }
        })
    }

    /// Never a target's last service control policy, which AWS refuses.
    async fn detach_policy(&self, id: &str, target_id: &str) -> AwsResult<()> {
        self.call("DetachPolicy", |org| {
            let kind = org.policy(id)?.kind;
            let attachment = (id.to_owned(), target_id.to_owned());
            if !org.attached.contains(&attachment) {
                return refuse(AwsErrorKind::NotFound, "PolicyNotAttachedException");
            }
            let of_kind = org
                .attached
                .iter()
                .filter(|(policy, target)| target == target_id && org.policies[policy].kind == kind)
                .count();
            if of_kind == 1 && kind == PolicyType::ServiceControlPolicy {
                return refuse(
                    AwsErrorKind::LimitExceeded,
                    "ConstraintViolationException: MIN_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED",
                );
            }
            org.attached.remove(&attachment);
            Ok(())
        })
    }
}

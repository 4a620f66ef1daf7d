//! The account inventory: one snapshot of each account's roles, groups and
//! users, read in a few paginated calls (`Iam::account_details`) and shared
//! by every reconcile in that account, so that a pass over a thousand
//! objects in sync costs a few reads per account rather than four per object.
//!
//! A snapshot older than its maximum age is read again, once, by whichever
//! reconcile needs it first while the others wait for that read. The
//! operator's own writes are applied to it as they succeed (write-through),
//! so a reconcile right after a write plans from what it wrote; a write that
//! fails, its effect unknown, leaves the resource to be read fresh. Reads
//! answered from a snapshot may be up to its age behind AWS, so a difference
//! found in one is read fresh (`Iam::fresh`) before anything is changed.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use serde_json::Value;
use tokio::sync::Mutex as AsyncMutex;

use super::{
    AccountDetails, Aws, AwsErrorKind, AwsResult, CredentialReportRead, DEFAULT_MAX_SESSION_DURATION, GroupState, Iam,
    KeyStatus, ManagedPolicyState, NewAccessKey, NewManagedPolicy, NewRole, NewUser, Organizations, RoleState,
    UserState, policy_name,
};
use crate::policy::document::decode_aws_document;

/// `Aws` whose IAM reads come from each account's inventory.
pub struct Inventoried {
    aws: Arc<dyn Aws>,
    max_age: Duration,
    accounts: Mutex<HashMap<String, Arc<AccountInventory>>>,
}

impl Inventoried {
    /// Snapshots are read again once older than `max_age` (the resync interval:
    /// each pass over the objects reads each account about once).
    pub fn new(aws: Arc<dyn Aws>, max_age: Duration) -> Self {
        Self {
            aws,
            max_age,
            accounts: Mutex::default(),
        }
    }

    fn inventory(&self, account_id: &str) -> Arc<AccountInventory> {
        let mut accounts = self.accounts.lock().unwrap_or_else(PoisonError::into_inner);
        accounts
            .entry(account_id.to_owned())
            .or_insert_with(|| Arc::new(AccountInventory::new(self.max_age)))
            .clone()
    }
}

#[async_trait]
impl Aws for Inventoried {
    async fn own_account_id(&self) -> AwsResult<String> {
        self.aws.own_account_id().await
    }

    async fn iam(&self, account_id: &str, access_role: &str) -> AwsResult<Arc<dyn Iam>> {
        let aws = self.aws.iam(account_id, access_role).await?;
        Ok(self.over(account_id, aws))
    }

    async fn iam_for(&self, account_id: &str, access_role: &str, requester: &str) -> AwsResult<Arc<dyn Iam>> {
        let aws = self.aws.iam_for(account_id, access_role, requester).await?;
        Ok(self.over(account_id, aws))
    }

    fn organizations(&self) -> Arc<dyn Organizations> {
        self.aws.organizations()
    }
}

impl Inventoried {
    /// `aws` with its reads answered from the account's inventory.
    fn over(&self, account_id: &str, aws: Arc<dyn Iam>) -> Arc<dyn Iam> {
        let inventory = self.inventory(account_id);
        Arc::new(InventoriedIam {
            fresh: Some(Box::new(InventoriedIam {
                aws: aws.clone(),
                inventory: inventory.clone(),
                fresh: None,
            })),
            aws,
            inventory,
        })
    }
}

/// The version `CreatePolicy` makes.
const FIRST_VERSION: &str = "v1";

/// IAM names are unique regardless of case, and AWS finds them so.
fn key(name: &str) -> String {
    name.to_lowercase()
}

/// One account as last read, with the operator's writes since applied.
struct Snapshot {
    read_at: Instant,
    roles: HashMap<String, RoleState>,
    groups: HashMap<String, GroupState>,
    users: HashMap<String, String>,
    policies: HashMap<String, ManagedPolicyState>,
    /// Resources whose state a failed write left unknown: read from AWS
    /// until the next snapshot.
    unknown: HashSet<String>,
    /// False when the account could not be listed: every read goes to AWS.
    complete: bool,
}

impl Snapshot {
    fn of(details: AccountDetails) -> Self {
        fn keyed<T>(entries: BTreeMap<String, T>) -> HashMap<String, T> {
            entries.into_iter().map(|(name, entry)| (key(&name), entry)).collect()
        }
        Snapshot {
            read_at: Instant::now(),
            roles: keyed(details.roles),
            groups: keyed(details.groups),
            users: keyed(details.users),
            policies: keyed(details.policies),
            unknown: HashSet::new(),
            complete: true,
        }
    }

    /// An access role without `iam:GetAccountAuthorizationDetails` or
    /// `iam:ListRoles` still works, one resource at a time, until the next
    /// try at listing the account.
    fn unlisted() -> Self {
        Snapshot {
            complete: false,
            ..Snapshot::of(AccountDetails::default())
        }
    }
}

/// A kind of resource a snapshot keeps by name.
trait Listed: Clone + Send + Sync + 'static {
    /// Where `Snapshot::unknown` names it.
    const PREFIX: &'static str;
    fn listed_in(snapshot: &mut Snapshot) -> &mut HashMap<String, Self>;

    fn entry(name: &str) -> String {
        format!("{}/{}", Self::PREFIX, key(name))
    }
}

impl Listed for RoleState {
    const PREFIX: &'static str = "role";
    fn listed_in(snapshot: &mut Snapshot) -> &mut HashMap<String, Self> {
        &mut snapshot.roles
    }
}

impl Listed for GroupState {
    const PREFIX: &'static str = "group";
    fn listed_in(snapshot: &mut Snapshot) -> &mut HashMap<String, Self> {
        &mut snapshot.groups
    }
}

impl Listed for ManagedPolicyState {
    const PREFIX: &'static str = "policy";
    fn listed_in(snapshot: &mut Snapshot) -> &mut HashMap<String, Self> {
        &mut snapshot.policies
    }
}

struct AccountInventory {
    max_age: Duration,
    /// Held across a refresh: concurrent readers wait for one read of the
    /// account instead of each making their own.
    snapshot: AsyncMutex<Option<Snapshot>>,
}

impl AccountInventory {
    fn new(max_age: Duration) -> Self {
        Self {
            max_age,
            snapshot: AsyncMutex::new(None),
        }
    }

    /// Answers from the snapshot, reading the account first when it has
    /// none younger than the maximum age. None: the entry is unknown.
    async fn read<T>(
        &self,
        aws: &dyn Iam,
        entry: &str,
        answer: impl FnOnce(&mut Snapshot) -> T,
    ) -> AwsResult<Option<T>> {
        let mut snapshot = self.snapshot.lock().await;
        if snapshot
            .as_ref()
            .is_none_or(|taken| taken.read_at.elapsed() >= self.max_age)
        {
            let listed = match aws.account_details().await {
                Ok(details) => Snapshot::of(details),
                Err(err) if err.kind == AwsErrorKind::AccessDenied => {
                    tracing::warn!(%err, "cannot list the account; reading its roles and groups one by one");
                    Snapshot::unlisted()
                }
                Err(err) => return Err(err),
            };
            *snapshot = Some(listed);
        }
        Ok(snapshot
            .as_mut()
            .filter(|taken| taken.complete && !taken.unknown.contains(entry))
            .map(answer))
    }

    /// The resource as the snapshot shows it; None when it is unknown.
    async fn find<S: Listed>(&self, aws: &dyn Iam, name: &str) -> AwsResult<Option<Option<S>>> {
        self.read(aws, &S::entry(name), |snapshot| {
            S::listed_in(snapshot).get(&key(name)).cloned()
        })
        .await
    }

    async fn update(&self, change: impl FnOnce(&mut Snapshot)) {
        if let Some(snapshot) = self.snapshot.lock().await.as_mut() {
            change(snapshot);
        }
    }

    /// Leaves a resource to be read from AWS until the next snapshot.
    async fn forget<S: Listed, T>(&self, name: &str, result: AwsResult<T>) -> AwsResult<T> {
        self.update(|snapshot| {
            snapshot.unknown.insert(S::entry(name));
        })
        .await;
        result
    }

    /// Applies a write's effect on the snapshot once it succeeded; leaves
    /// the resource unknown when it failed, since a lost answer may hide a
    /// write that was done.
    async fn written<S: Listed, T>(
        &self,
        name: &str,
        result: AwsResult<T>,
        effect: impl FnOnce(&mut HashMap<String, S>, String, &T),
    ) -> AwsResult<T> {
        self.update(|snapshot| match &result {
            Ok(value) => effect(S::listed_in(snapshot), key(name), value),
            Err(_) => {
                snapshot.unknown.insert(S::entry(name));
            }
        })
        .await;
        result
    }

    /// `written` for a change to a resource that exists.
    async fn changed<S: Listed, T>(
        &self,
        name: &str,
        result: AwsResult<T>,
        effect: impl FnOnce(&mut S),
    ) -> AwsResult<T> {
        let mut missing = false;
        let result = self
            .written(name, result, |kept: &mut HashMap<String, S>, key, _| {
                match kept.get_mut(&key) {
                    Some(state) => effect(state),
                    None => missing = true,
                }
            })
            .await;
        match missing {
            true => self.forget::<S, T>(name, result).await,
            false => result,
        }
    }

    /// Records what a read from AWS found.
    async fn observed<S: Listed>(&self, name: &str, found: &Option<S>) {
        self.update(|snapshot| {
            snapshot.unknown.remove(&S::entry(name));
            let kept = S::listed_in(snapshot);
            match found {
                Some(state) => kept.insert(key(name), state.clone()),
                None => kept.remove(&key(name)),
            };
        })
        .await
    }
}

/// IAM in one account, reads from its inventory. `fresh` is the same
/// account with reads from AWS; it has no `fresh` of its own.
struct InventoriedIam {
    aws: Arc<dyn Iam>,
    inventory: Arc<AccountInventory>,
    fresh: Option<Box<InventoriedIam>>,
}

impl InventoriedIam {
    /// The resource from the snapshot, or, when this view reads AWS or the
    /// snapshot does not know it, from AWS, recorded for the next reader.
    async fn resource<S: Listed>(
        &self,
        name: &str,
        from_aws: impl Future<Output = AwsResult<Option<S>>> + Send,
    ) -> AwsResult<Option<S>> {
        if self.fresh.is_some()
            && let Some(known) = self.inventory.find::<S>(self.aws.as_ref(), name).await?
        {
            return Ok(known);
        }
        let found = from_aws.await?;
        self.inventory.observed(name, &found).await;
        Ok(found)
    }

    /// Sets a document of a resource (a trust or inline policy), or leaves
    /// the resource to be read again when the document is not what IAM keeps.
    async fn document_written<S: Listed>(
        &self,
        name: &str,
        raw: &str,
        result: AwsResult<()>,
        set: impl FnOnce(&mut S, Value),
    ) -> AwsResult<()> {
        match decode_aws_document(raw) {
            Ok(value) => self.inventory.changed(name, result, |state| set(state, value)).await,
            Err(_) => self.inventory.forget::<S, ()>(name, result).await,
        }
    }
}

#[async_trait]
impl Iam for InventoriedIam {
    async fn get_role(&self, name: &str) -> AwsResult<Option<RoleState>> {
        self.resource(name, self.aws.get_role(name)).await
    }

    async fn create_role(&self, role: &NewRole) -> AwsResult<String> {
        let result = self.aws.create_role(role).await;
        let Ok(trust_policy) = decode_aws_document(&role.trust_policy) else {
            return self.inventory.forget::<RoleState, _>(&role.name, result).await;
        };
        self.inventory
            .written(&role.name, result, |roles, key, arn: &String| {
                let state = RoleState {
                    arn: arn.clone(),
                    trust_policy,
                    description: role.description.clone(),
                    max_session_duration: match role.max_session_duration {
                        0 => DEFAULT_MAX_SESSION_DURATION,
                        seconds => seconds,
                    },
                    permissions_boundary_arn: role.permissions_boundary_arn.clone(),
                    tags: role.tags.clone(),
                    managed_policy_arns: BTreeSet::new(),
                    inline_policies: BTreeMap::new(),
                };
                roles.insert(key, state);
            })
            .await
    }

    async fn update_trust_policy(&self, role: &str, document: &str) -> AwsResult<()> {
        let result = self.aws.update_trust_policy(role, document).await;
        self.document_written(role, document, result, |state: &mut RoleState, value| {
            state.trust_policy = value
        })
        .await
    }

    async fn update_role(&self, role: &str, description: &str, max_session_duration: i32) -> AwsResult<()> {
        let result = self.aws.update_role(role, description, max_session_duration).await;
        self.inventory
            .changed(role, result, |state: &mut RoleState| {
                state.description = description.to_owned();
                state.max_session_duration = max_session_duration;
            })
            .await
    }

    async fn put_permissions_boundary(&self, role: &str, policy_arn: &str) -> AwsResult<()> {
        let result = self.aws.put_permissions_boundary(role, policy_arn).await;
        self.inventory
            .changed(role, result, |state: &mut RoleState| {
                state.permissions_boundary_arn = Some(policy_arn.to_owned())
            })
            .await
    }

    async fn delete_permissions_boundary(&self, role: &str) -> AwsResult<()> {
        let result = self.aws.delete_permissions_boundary(role).await;
        self.inventory
            .changed(role, result, |state: &mut RoleState| {
                state.permissions_boundary_arn = None
            })
            .await
    }

    async fn attach_role_policy(&self, role: &str, policy_arn: &str) -> AwsResult<()> {
        let result = self.aws.attach_role_policy(role, policy_arn).await;
        self.inventory
            .changed(role, result, |state: &mut RoleState| {
                state.managed_policy_arns.insert(policy_arn.to_owned());
            })
            .await
    }

    async fn detach_role_policy(&self, role: &str, policy_arn: &str) -> AwsResult<()> {
        let result = self.aws.detach_role_policy(role, policy_arn).await;
        self.inventory
            .changed(role, result, |state: &mut RoleState| {
                state.managed_policy_arns.remove(policy_arn);
            })
            .await
    }

    async fn put_role_policy(&self, role: &str, policy_name: &str, document: &str) -> AwsResult<()> {
        let result = self.aws.put_role_policy(role, policy_name, document).await;
        self.document_written(role, document, result, |state: &mut RoleState, value| {
            state.inline_policies.insert(policy_name.to_owned(), value);
        })
        .await
    }

    async fn delete_role_policy(&self, role: &str, policy_name: &str) -> AwsResult<()> {
        let result = self.aws.delete_role_policy(role, policy_name).await;
        self.inventory
            .changed(role, result, |state: &mut RoleState| {
                state.inline_policies.remove(policy_name);
            })
            .await
    }

    async fn tag_role(&self, role: &str, tags: &BTreeMap<String, String>) -> AwsResult<()> {
        let result = self.aws.tag_role(role, tags).await;
        self.inventory
            .changed(role, result, |state: &mut RoleState| state.tags.extend(tags.clone()))
            .await
    }

    async fn untag_role(&self, role: &str, keys: &[String]) -> AwsResult<()> {
        let result = self.aws.untag_role(role, keys).await;
        self.inventory
            .changed(role, result, |state: &mut RoleState| {
                for key in keys {
                    state.tags.remove(key);
                }
            })
            .await
    }

    async fn delete_role(&self, role: &str) -> AwsResult<()> {
        let result = self.aws.delete_role(role).await;
        self.inventory
            .written(role, result, |roles: &mut HashMap<String, RoleState>, key, _| {
                roles.remove(&key);
            })
            .await
    }

    async fn get_group(&self, name: &str) -> AwsResult<Option<GroupState>> {
        self.resource(name, self.aws.get_group(name)).await
    }

    async fn create_group(&self, name: &str) -> AwsResult<String> {
        let result = self.aws.create_group(name).await;
        self.inventory
            .written(name, result, |groups, key, arn: &String| {
                let state = GroupState {
                    arn: arn.clone(),
                    ..GroupState::default()
                };
                groups.insert(key, state);
            })
            .await
    }

    async fn delete_group(&self, name: &str) -> AwsResult<()> {
        let result = self.aws.delete_group(name).await;
        self.inventory
            .written(name, result, |groups: &mut HashMap<String, GroupState>, key, _| {
                groups.remove(&key);
            })
            .await
    }

    async fn add_user_to_group(&self, group: &str, user: &str) -> AwsResult<()> {
        let result = self.aws.add_user_to_group(group, user).await;
        self.inventory
            .changed(group, result, |state: &mut GroupState| {
                state.members.insert(user.to_owned());
            })
            .await
    }

    async fn remove_user_from_group(&self, group: &str, user: &str) -> AwsResult<()> {
        let result = self.aws.remove_user_from_group(group, user).await;
        self.inventory
            .changed(group, result, |state: &mut GroupState| {
                state.members.remove(user);
            })
            .await
    }

    async fn put_group_policy(&self, group: &str, policy_name: &str, document: &str) -> AwsResult<()> {
        let result = self.aws.put_group_policy(group, policy_name, document).await;
        self.document_written(group, document, result, |state: &mut GroupState, value| {
            state.inline_policies.insert(policy_name.to_owned(), value);
        })
        .await
    }

    async fn delete_group_policy(&self, group: &str, policy_name: &str) -> AwsResult<()> {
        let result = self.aws.delete_group_policy(group, policy_name).await;
        self.inventory
            .changed(group, result, |state: &mut GroupState| {
                state.inline_policies.remove(policy_name);
            })
            .await
    }

    async fn attach_group_policy(&self, group: &str, policy_arn: &str) -> AwsResult<()> {
        let result = self.aws.attach_group_policy(group, policy_arn).await;
        self.inventory
            .changed(group, result, |state: &mut GroupState| {
                state.managed_policy_arns.insert(policy_arn.to_owned());
            })
            .await
    }

    async fn detach_group_policy(&self, group: &str, policy_arn: &str) -> AwsResult<()> {
        let result = self.aws.detach_group_policy(group, policy_arn).await;
        self.inventory
            .changed(group, result, |state: &mut GroupState| {
                state.managed_policy_arns.remove(policy_arn);
            })
            .await
    }

    /// Users the snapshot does not show are looked up in AWS: one made
    /// since it was read is found at once, and a missing one costs a read.
    async fn user_arns(&self, users: &[String]) -> AwsResult<BTreeMap<String, String>> {
        let mut found = BTreeMap::new();
        if self.fresh.is_some() {
            let known = self
                .inventory
                .read(self.aws.as_ref(), "", |snapshot| {
                    users
                        .iter()
                        .filter_map(|user| Some((user.clone(), snapshot.users.get(&key(user))?.clone())))
                        .collect::<BTreeMap<_, _>>()
                })
                .await?;
            found = known.unwrap_or_default();
        }
        let unseen: Vec<String> = users
            .iter()
            .filter(|user| !found.contains_key(*user))
            .cloned()
            .collect();
        if !unseen.is_empty() {
            let looked_up = self.aws.user_arns(&unseen).await?;
            self.inventory
                .update(|snapshot| {
                    for (user, arn) in &looked_up {
                        snapshot.users.insert(key(user), arn.clone());
                    }
                })
                .await;
            found.extend(looked_up);
        }
        Ok(found)
    }

    /// Read from AWS every time: the account listing holds no login
    /// profiles, keys or MFA devices.
    async fn get_user(&self, name: &str) -> AwsResult<Option<UserState>> {
        self.aws.get_user(name).await
    }

    async fn create_user(&self, user: &NewUser) -> AwsResult<String> {
        let result = self.aws.create_user(user).await;
        if let Ok(arn) = &result {
            self.inventory
                .update(|snapshot| {
                    snapshot.users.insert(key(&user.name), arn.clone());
                })
                .await;
        }
        result
    }

    async fn update_user_path(&self, user: &str, path: &str) -> AwsResult<()> {
        let result = self.aws.update_user_path(user, path).await;
        // The ARN holds the path: the user is looked up again.
        self.inventory
            .update(|snapshot| {
                snapshot.users.remove(&key(user));
            })
            .await;
        result
    }

    async fn tag_user(&self, user: &str, tags: &BTreeMap<String, String>) -> AwsResult<()> {
        self.aws.tag_user(user, tags).await
    }

    async fn untag_user(&self, user: &str, keys: &[String]) -> AwsResult<()> {
        self.aws.untag_user(user, keys).await
    }

    async fn delete_user(&self, user: &str) -> AwsResult<()> {
        let result = self.aws.delete_user(user).await;
        if result.is_ok() {
            self.inventory
                .update(|snapshot| {
                    snapshot.users.remove(&key(user));
                    for group in snapshot.groups.values_mut() {
                        group.members.retain(|member| !member.eq_ignore_ascii_case(user));
                    }
                })
                .await;
        }
        result
    }

    async fn create_login_profile(&self, user: &str, password: &str, reset_required: bool) -> AwsResult<()> {
        self.aws.create_login_profile(user, password, reset_required).await
    }

    async fn delete_login_profile(&self, user: &str) -> AwsResult<()> {
        self.aws.delete_login_profile(user).await
    }

    async fn create_access_key(&self, user: &str) -> AwsResult<NewAccessKey> {
        self.aws.create_access_key(user).await
    }

    async fn update_access_key(&self, user: &str, key_id: &str, status: KeyStatus) -> AwsResult<()> {
        self.aws.update_access_key(user, key_id, status).await
    }

    async fn delete_access_key(&self, user: &str, key_id: &str) -> AwsResult<()> {
        self.aws.delete_access_key(user, key_id).await
    }

    async fn deactivate_mfa_device(&self, user: &str, serial: &str) -> AwsResult<()> {
        self.aws.deactivate_mfa_device(user, serial).await
    }

    async fn delete_virtual_mfa_device(&self, serial: &str) -> AwsResult<()> {
        self.aws.delete_virtual_mfa_device(serial).await
    }

    async fn put_user_policy(&self, user: &str, policy_name: &str, document: &str) -> AwsResult<()> {
        self.aws.put_user_policy(user, policy_name, document).await
    }

    async fn delete_user_policy(&self, user: &str, policy_name: &str) -> AwsResult<()> {
        self.aws.delete_user_policy(user, policy_name).await
    }

    async fn detach_user_policy(&self, user: &str, policy_arn: &str) -> AwsResult<()> {
        self.aws.detach_user_policy(user, policy_arn).await
    }

    async fn get_policy(&self, arn: &str) -> AwsResult<Option<ManagedPolicyState>> {
        self.resource(policy_name(arn), self.aws.get_policy(arn)).await
    }

    async fn create_policy(&self, policy: &NewManagedPolicy) -> AwsResult<String> {
        let result = self.aws.create_policy(policy).await;
        let Ok(document) = decode_aws_document(&policy.document) else {
            return self
                .inventory
                .forget::<ManagedPolicyState, _>(&policy.name, result)
                .await;
        };
        self.inventory
            .written(&policy.name, result, |policies, key, arn: &String| {
                let state = ManagedPolicyState {
                    arn: arn.clone(),
                    description: policy.description.clone(),
                    document,
                    default_version: FIRST_VERSION.into(),
                    versions: vec![FIRST_VERSION.into()],
                    tags: Some(policy.tags.clone()),
                };
                policies.insert(key, state);
            })
            .await
    }

    async fn create_policy_version(&self, arn: &str, document: &str) -> AwsResult<String> {
        let result = self.aws.create_policy_version(arn, document).await;
        let name = policy_name(arn);
        let Ok(value) = decode_aws_document(document) else {
            return self.inventory.forget::<ManagedPolicyState, _>(name, result).await;
        };
        let Ok(version) = &result else {
            return self.inventory.forget::<ManagedPolicyState, _>(name, result).await;
        };
        let version = version.clone();
        self.inventory
            .changed(name, result, |state: &mut ManagedPolicyState| {
                state.document = value;
                state.default_version = version.clone();
                state.versions.push(version);
            })
            .await
    }

    async fn delete_policy_version(&self, arn: &str, version: &str) -> AwsResult<()> {
        let result = self.aws.delete_policy_version(arn, version).await;
        self.inventory
            .changed(policy_name(arn), result, |state: &mut ManagedPolicyState| {
                state.versions.retain(|kept| kept != version);
            })
            .await
    }

    async fn delete_policy(&self, arn: &str) -> AwsResult<()> {
        let result = self.aws.delete_policy(arn).await;
        if result.is_ok() {
            // Deleting it detached it from everything first.
            self.inventory
                .update(|snapshot| {
                    for role in snapshot.roles.values_mut() {
                        role.managed_policy_arns.remove(arn);
                    }
                    for group in snapshot.groups.values_mut() {
                        group.managed_policy_arns.remove(arn);
                    }
                })
                .await;
        }
        self.inventory
            .written(
                policy_name(arn),
                result,
                |policies: &mut HashMap<String, ManagedPolicyState>, key, _| {
                    policies.remove(&key);
                },
            )
            .await
    }

    async fn account_details(&self) -> AwsResult<AccountDetails> {
        self.aws.account_details().await
    }

    async fn get_credential_report(&self) -> AwsResult<CredentialReportRead> {
        self.aws.get_credential_report().await
    }

    async fn generate_credential_report(&self) -> AwsResult<()> {
        self.aws.generate_credential_report().await
    }

    fn fresh(&self) -> Option<&dyn Iam> {
        self.fresh.as_deref().map(|fresh| fresh as &dyn Iam)
    }
}

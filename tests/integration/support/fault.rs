//! A wrapper around any `Aws` for tests: it logs every call, fails calls on
//! demand, and can stop the world right after a chosen call (a crash at the
//! worst moment), so retries, idempotency and restart safety can be proven
//! against moto, which never throttles, never lags and never crashes.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::future::{Future, IntoFuture};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use async_trait::async_trait;
use futures::FutureExt;
use futures::future::BoxFuture;
use tokio::sync::oneshot;

use aws_access_operator::aws::{
    AccountDetails, AccountInfo, Aws, AwsError, AwsErrorKind, AwsResult, CreateAccountState, CreateAccountStatus,
    GroupState, Iam, KeyStatus, ManagedPolicyState, NewAccessKey, NewAccount, NewManagedPolicy, NewPolicy, NewRole,
    NewUser, OrganizationalUnit, Organizations, Policy, PolicySummary, PolicyType, RoleState, UserState,
};

/// Where Organizations calls are logged, in place of an account id.
pub const ORGANIZATIONS: &str = "organizations";
/// Where the operator asks who it is.
pub const STS: &str = "sts";

/// One call as the wrapper saw it; `operation` is the AWS API name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Call {
    pub account: String,
    pub operation: &'static str,
    pub write: bool,
}

#[derive(Default)]
struct Faults {
    /// Each call with when it was made, so tests can order calls across replicas.
    calls: Mutex<Vec<(Instant, Call)>>,
    /// Operation → the error to inject and how many more calls get it.
    failures: Mutex<HashMap<&'static str, (AwsErrorKind, usize)>>,
    pauses: Mutex<HashMap<&'static str, Pause>>,
    creations: Mutex<Creations>,
}

/// A caller held right after its call completed: until `resume` fires, or
/// for ever without one.
struct Pause {
    reached: oneshot::Sender<()>,
    resume: Option<oneshot::Receiver<()>>,
}

/// Account creations made to last, as in AWS, where they take minutes and
/// may fail; moto finishes them at once.
#[derive(Default)]
struct Creations {
    holding: bool,
    /// Request id → how the request looks while held, or once failed. The
    /// account moto created for it is hidden: in AWS it does not exist yet,
    /// or never will.
    requests: HashMap<String, CreateAccountStatus>,
}

impl Creations {
    fn hides(&self, account_id: &str) -> bool {
        self.requests
            .values()
            .any(|request| request.account_id.as_deref() == Some(account_id))
    }

    /// The request as the test wants it seen, if it is one it holds or failed.
    fn shown(&self, request_id: &str) -> Option<CreateAccountStatus> {
        self.requests.get(request_id).map(|request| CreateAccountStatus {
            account_id: None,
            ..request.clone()
        })
    }
}

impl Faults {
    async fn run<T>(
        &self,
        account: &str,
        operation: &'static str,
        write: bool,
        call: impl Future<Output = AwsResult<T>>,
    ) -> AwsResult<T> {
        lock(&self.calls).push((
            Instant::now(),
            Call {
                account: account.to_owned(),
                operation,
                write,
            },
        ));
        if let Some(kind) = self.take_failure(operation) {
            return Err(AwsError::new(kind, operation, format!("injected {kind:?} failure")));
        }
        let result = call.await;
        let pause = lock(&self.pauses).remove(operation);
        if let Some(pause) = pause {
            // The test may have stopped waiting; the world stops all the same.
            let _ = pause.reached.send(());
            match pause.resume {
                // Resumed when the test says so, or when it drops the sender.
                Some(resume) => {
                    let _ = resume.await;
                }
                None => std::future::pending::<()>().await,
            }
        }
        result
    }

    fn take_failure(&self, operation: &str) -> Option<AwsErrorKind> {
        let mut failures = lock(&self.failures);
        let (kind, remaining) = failures.get_mut(operation)?;
        let kind = *kind;
        *remaining -= 1;
        if *remaining == 0 {
            failures.remove(operation);
        }
        Some(kind)
    }
}

/// Tests share the log with the code under test; a panic in one test thread
/// must not hide the log from the assertion that explains it.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Resolves once the paused operation has completed; the caller of that
/// operation stays blocked forever.
pub struct PauseHandle {
    completed: oneshot::Receiver<()>,
}

impl IntoFuture for PauseHandle {
    type Output = ();
    type IntoFuture = BoxFuture<'static, ()>;

    fn into_future(self) -> Self::IntoFuture {
        async move {
            // Dropped unfired means the wrapper is gone without the operation
            // having run: it never completed, so never resolve.
            if self.completed.await.is_err() {
                std::future::pending::<()>().await;
            }
        }
        .boxed()
    }
}

/// Wraps an `Aws` and everything it hands out. Clones share one log and one
/// set of faults.
#[derive(Clone)]
pub struct FaultyAws {
    inner: Arc<dyn Aws>,
    faults: Arc<Faults>,
}

impl FaultyAws {
    pub fn new(inner: Arc<dyn Aws>) -> Self {
        Self {
            inner,
            faults: Arc::default(),
        }
    }

    /// Every call so far, in order.
    pub fn calls(&self) -> Vec<Call> {
        lock(&self.faults.calls).iter().map(|(_, call)| call.clone()).collect()
    }

    /// Every call so far with when it was made, in order.
    pub fn timed_calls(&self) -> Vec<(Instant, Call)> {
        lock(&self.faults.calls).clone()
    }

    /// The calls so far that change something in AWS.
    pub fn writes(&self) -> Vec<Call> {
        self.calls().into_iter().filter(|call| call.write).collect()
    }

    /// How many times `operation` was called.
    pub fn count(&self, operation: &str) -> usize {
        lock(&self.faults.calls)
            .iter()
            .filter(|(_, call)| call.operation == operation)
            .count()
    }

    pub fn clear(&self) {
        lock(&self.faults.calls).clear();
    }

    /// The next `times` calls of `operation` fail with `kind` without reaching
    /// AWS. Replaces what an earlier `fail_next` set for the same operation.
    pub fn fail_next(&self, operation: &'static str, kind: AwsErrorKind, times: usize) {
        let mut failures = lock(&self.faults.failures);
        if times == 0 {
            failures.remove(operation);
        } else {
            failures.insert(operation, (kind, times));
        }
    }

    /// From now on CreateAccount requests stay `IN_PROGRESS`, their accounts
    /// absent from ListAccounts, until `finish_account_creations`.
    pub fn hold_account_creations(&self) {
        lock(&self.faults.creations).holding = true;
    }

    /// The held requests end: `SUCCEEDED`, or `FAILED` with `failure` (their
    /// accounts then stay hidden, as if never created). Later requests finish
    /// at once again.
    pub fn finish_account_creations(&self, failure: Option<&str>) {
        let mut creations = lock(&self.faults.creations);
        creations.holding = false;
        match failure {
            None => creations.requests.clear(),
            Some(reason) => {
                for request in creations.requests.values_mut() {
                    request.state = CreateAccountState::Failed;
                    request.failure_reason = Some(reason.into());
                }
            }
        }
    }

    /// The next call of `operation` reaches AWS and completes, then its caller
    /// blocks forever: "the process died right after CreateAccount returned".
    pub fn pause_after(&self, operation: &'static str) -> PauseHandle {
        let (reached, completed) = oneshot::channel();
        lock(&self.faults.pauses).insert(operation, Pause { reached, resume: None });
        PauseHandle { completed }
    }

    /// Like `pause_after`, but the caller goes on once the returned sender
    /// fires (or is dropped): another actor can be let through meanwhile.
    pub fn hold_after(&self, operation: &'static str) -> (PauseHandle, oneshot::Sender<()>) {
        let (reached, completed) = oneshot::channel();
        let (release, resume) = oneshot::channel();
        lock(&self.faults.pauses).insert(
            operation,
            Pause {
                reached,
                resume: Some(resume),
            },
        );
        (PauseHandle { completed }, release)
    }
}

impl FaultyAws {
    fn faulty(&self, account_id: &str, inner: Arc<dyn Iam>) -> Arc<dyn Iam> {
        Arc::new(FaultyIam {
            inner,
            account: account_id.to_owned(),
            faults: self.faults.clone(),
        })
    }
}

#[async_trait]
impl Aws for FaultyAws {
    async fn own_account_id(&self) -> AwsResult<String> {
        self.faults
            .run(STS, "GetCallerIdentity", false, self.inner.own_account_id())
            .await
    }

    /// Logged as `AssumeRole` whether or not the wrapped implementation had the
    /// credentials cached, so a test can make an access role unassumable.
    async fn iam(&self, account_id: &str, access_role: &str) -> AwsResult<Arc<dyn Iam>> {
        let inner = self
            .faults
            .run(account_id, "AssumeRole", false, self.inner.iam(account_id, access_role))
            .await?;
        Ok(self.faulty(account_id, inner))
    }

    async fn iam_for(&self, account_id: &str, access_role: &str, requester: &str) -> AwsResult<Arc<dyn Iam>> {
        let inner = self.inner.iam_for(account_id, access_role, requester);
        let inner = self.faults.run(account_id, "AssumeRole", false, inner).await?;
        Ok(self.faulty(account_id, inner))
    }

    fn organizations(&self) -> Arc<dyn Organizations> {
        Arc::new(FaultyOrganizations {
            inner: self.inner.organizations(),
            faults: self.faults.clone(),
        })
    }
}

struct FaultyIam {
    inner: Arc<dyn Iam>,
    account: String,
    faults: Arc<Faults>,
}

impl FaultyIam {
    async fn read<T>(&self, operation: &'static str, call: impl Future<Output = AwsResult<T>>) -> AwsResult<T> {
        self.faults.run(&self.account, operation, false, call).await
    }

    async fn write<T>(&self, operation: &'static str, call: impl Future<Output = AwsResult<T>>) -> AwsResult<T> {
        self.faults.run(&self.account, operation, true, call).await
    }
}

#[async_trait]
impl Iam for FaultyIam {
    async fn get_role(&self, name: &str) -> AwsResult<Option<RoleState>> {
        self.read("GetRole", self.inner.get_role(name)).await
    }
    async fn create_role(&self, role: &NewRole) -> AwsResult<String> {
        self.write("CreateRole", self.inner.create_role(role)).await
    }
    async fn update_trust_policy(&self, role: &str, document: &str) -> AwsResult<()> {
        self.write("UpdateAssumeRolePolicy", self.inner.update_trust_policy(role, document))
            .await
    }
    async fn update_role(&self, role: &str, description: &str, max_session_duration: i32) -> AwsResult<()> {
        self.write(
            "UpdateRole",
            self.inner.update_role(role, description, max_session_duration),
        )
        .await
    }
    async fn put_permissions_boundary(&self, role: &str, policy_arn: &str) -> AwsResult<()> {
        self.write(
            "PutRolePermissionsBoundary",
            self.inner.put_permissions_boundary(role, policy_arn),
        )
        .await
    }
    async fn delete_permissions_boundary(&self, role: &str) -> AwsResult<()> {
        self.write(
            "DeleteRolePermissionsBoundary",
            self.inner.delete_permissions_boundary(role),
        )
        .await
    }
    async fn attach_role_policy(&self, role: &str, policy_arn: &str) -> AwsResult<()> {
        self.write("AttachRolePolicy", self.inner.attach_role_policy(role, policy_arn))
            .await
    }
    async fn detach_role_policy(&self, role: &str, policy_arn: &str) -> AwsResult<()> {
        self.write("DetachRolePolicy", self.inner.detach_role_policy(role, policy_arn))
            .await
    }
    async fn put_role_policy(&self, role: &str, policy_name: &str, document: &str) -> AwsResult<()> {
        self.write("PutRolePolicy", self.inner.put_role_policy(role, policy_name, document))
            .await
    }
    async fn delete_role_policy(&self, role: &str, policy_name: &str) -> AwsResult<()> {
        self.write("DeleteRolePolicy", self.inner.delete_role_policy(role, policy_name))
            .await
    }
    async fn tag_role(&self, role: &str, tags: &BTreeMap<String, String>) -> AwsResult<()> {
        self.write("TagRole", self.inner.tag_role(role, tags)).await
    }
    async fn untag_role(&self, role: &str, keys: &[String]) -> AwsResult<()> {
        self.write("UntagRole", self.inner.untag_role(role, keys)).await
    }
    async fn delete_role(&self, role: &str) -> AwsResult<()> {
        self.write("DeleteRole", self.inner.delete_role(role)).await
    }
    async fn get_group(&self, name: &str) -> AwsResult<Option<GroupState>> {
        self.read("GetGroup", self.inner.get_group(name)).await
    }
    async fn create_group(&self, name: &str) -> AwsResult<String> {
        self.write("CreateGroup", self.inner.create_group(name)).await
    }
    async fn delete_group(&self, name: &str) -> AwsResult<()> {
        self.write("DeleteGroup", self.inner.delete_group(name)).await
    }
    async fn add_user_to_group(&self, group: &str, user: &str) -> AwsResult<()> {
        self.write("AddUserToGroup", self.inner.add_user_to_group(group, user))
            .await
    }
    async fn remove_user_from_group(&self, group: &str, user: &str) -> AwsResult<()> {
        self.write("RemoveUserFromGroup", self.inner.remove_user_from_group(group, user))
            .await
    }
    async fn put_group_policy(&self, group: &str, policy_name: &str, document: &str) -> AwsResult<()> {
        self.write(
            "PutGroupPolicy",
            self.inner.put_group_policy(group, policy_name, document),
        )
        .await
    }
    async fn delete_group_policy(&self, group: &str, policy_name: &str) -> AwsResult<()> {
        self.write("DeleteGroupPolicy", self.inner.delete_group_policy(group, policy_name))
            .await
    }
    async fn attach_group_policy(&self, group: &str, policy_arn: &str) -> AwsResult<()> {
        self.write("AttachGroupPolicy", self.inner.attach_group_policy(group, policy_arn))
            .await
    }
    async fn detach_group_policy(&self, group: &str, policy_arn: &str) -> AwsResult<()> {
        self.write("DetachGroupPolicy", self.inner.detach_group_policy(group, policy_arn))
            .await
    }
    async fn user_arns(&self, users: &[String]) -> AwsResult<BTreeMap<String, String>> {
        self.read("GetUser", self.inner.user_arns(users)).await
    }
    async fn get_user(&self, name: &str) -> AwsResult<Option<UserState>> {
        self.read("GetUser", self.inner.get_user(name)).await
    }
    async fn create_user(&self, user: &NewUser) -> AwsResult<String> {
        self.write("CreateUser", self.inner.create_user(user)).await
    }
    async fn update_user_path(&self, user: &str, path: &str) -> AwsResult<()> {
        self.write("UpdateUser", self.inner.update_user_path(user, path)).await
    }
    async fn tag_user(&self, user: &str, tags: &BTreeMap<String, String>) -> AwsResult<()> {
        self.write("TagUser", self.inner.tag_user(user, tags)).await
    }
    async fn untag_user(&self, user: &str, keys: &[String]) -> AwsResult<()> {
        self.write("UntagUser", self.inner.untag_user(user, keys)).await
    }
    async fn delete_user(&self, user: &str) -> AwsResult<()> {
        self.write("DeleteUser", self.inner.delete_user(user)).await
    }
    async fn create_login_profile(&self, user: &str, password: &str, reset_required: bool) -> AwsResult<()> {
        self.write(
            "CreateLoginProfile",
            self.inner.create_login_profile(user, password, reset_required),
        )
        .await
    }
    async fn delete_login_profile(&self, user: &str) -> AwsResult<()> {
        self.write("DeleteLoginProfile", self.inner.delete_login_profile(user))
            .await
    }
    async fn create_access_key(&self, user: &str) -> AwsResult<NewAccessKey> {
        self.write("CreateAccessKey", self.inner.create_access_key(user)).await
    }
    async fn update_access_key(&self, user: &str, key_id: &str, status: KeyStatus) -> AwsResult<()> {
        self.write("UpdateAccessKey", self.inner.update_access_key(user, key_id, status))
            .await
    }
    async fn delete_access_key(&self, user: &str, key_id: &str) -> AwsResult<()> {
        self.write("DeleteAccessKey", self.inner.delete_access_key(user, key_id))
            .await
    }
    async fn deactivate_mfa_device(&self, user: &str, serial: &str) -> AwsResult<()> {
        self.write("DeactivateMFADevice", self.inner.deactivate_mfa_device(user, serial))
            .await
    }
    async fn delete_virtual_mfa_device(&self, serial: &str) -> AwsResult<()> {
        self.write("DeleteVirtualMFADevice", self.inner.delete_virtual_mfa_device(serial))
            .await
    }
    async fn put_user_policy(&self, user: &str, policy_name: &str, document: &str) -> AwsResult<()> {
        self.write("PutUserPolicy", self.inner.put_user_policy(user, policy_name, document))
            .await
    }
    async fn delete_user_policy(&self, user: &str, policy_name: &str) -> AwsResult<()> {
        self.write("DeleteUserPolicy", self.inner.delete_user_policy(user, policy_name))
            .await
    }
    async fn detach_user_policy(&self, user: &str, policy_arn: &str) -> AwsResult<()> {
        self.write("DetachUserPolicy", self.inner.detach_user_policy(user, policy_arn))
            .await
    }
    async fn account_details(&self) -> AwsResult<AccountDetails> {
        self.read("GetAccountAuthorizationDetails", self.inner.account_details())
            .await
    }
    async fn get_credential_report(&self) -> AwsResult<aws_access_operator::aws::CredentialReportRead> {
        self.read("GetCredentialReport", self.inner.get_credential_report())
            .await
    }
    async fn generate_credential_report(&self) -> AwsResult<()> {
        self.read("GenerateCredentialReport", self.inner.generate_credential_report())
            .await
    }
    async fn get_policy(&self, arn: &str) -> AwsResult<Option<ManagedPolicyState>> {
        self.read("GetPolicy", self.inner.get_policy(arn)).await
    }
    async fn create_policy(&self, policy: &NewManagedPolicy) -> AwsResult<String> {
        self.write("CreatePolicy", self.inner.create_policy(policy)).await
    }
    async fn create_policy_version(&self, arn: &str, document: &str) -> AwsResult<String> {
        self.write("CreatePolicyVersion", self.inner.create_policy_version(arn, document))
            .await
    }
    async fn delete_policy_version(&self, arn: &str, version: &str) -> AwsResult<()> {
        self.write("DeletePolicyVersion", self.inner.delete_policy_version(arn, version))
            .await
    }
    async fn delete_policy(&self, arn: &str) -> AwsResult<()> {
        self.write("DeletePolicy", self.inner.delete_policy(arn)).await
    }
}

struct FaultyOrganizations {
    inner: Arc<dyn Organizations>,
    faults: Arc<Faults>,
}

impl FaultyOrganizations {
    async fn read<T>(&self, operation: &'static str, call: impl Future<Output = AwsResult<T>>) -> AwsResult<T> {
        self.faults.run(ORGANIZATIONS, operation, false, call).await
    }

    async fn write<T>(&self, operation: &'static str, call: impl Future<Output = AwsResult<T>>) -> AwsResult<T> {
        self.faults.run(ORGANIZATIONS, operation, true, call).await
    }
}

#[async_trait]
impl Organizations for FaultyOrganizations {
    async fn create_account(&self, account: &NewAccount) -> AwsResult<String> {
        let create = async {
            let request_id = self.inner.create_account(account).await?;
            if lock(&self.faults.creations).holding {
                let created = self.inner.describe_create_account_status(&request_id).await?;
                let held = CreateAccountStatus {
                    state: CreateAccountState::InProgress,
                    ..created
                };
                lock(&self.faults.creations).requests.insert(request_id.clone(), held);
            }
            Ok(request_id)
        };
        self.write("CreateAccount", create).await
    }
    async fn describe_create_account_status(&self, request_id: &str) -> AwsResult<CreateAccountStatus> {
        let describe = async {
            let shown = lock(&self.faults.creations).shown(request_id);
            match shown {
                Some(shown) => Ok(shown),
                None => self.inner.describe_create_account_status(request_id).await,
            }
        };
        self.read("DescribeCreateAccountStatus", describe).await
    }
    async fn list_create_account_status(&self, states: &[CreateAccountState]) -> AwsResult<Vec<CreateAccountStatus>> {
        let list = async {
            let mut listed = self.inner.list_create_account_status(states).await?;
            let creations = lock(&self.faults.creations);
            listed.retain(|request| !creations.requests.contains_key(&request.request_id));
            let shown = creations.requests.keys().filter_map(|id| creations.shown(id));
            listed.extend(shown.filter(|request| states.contains(&request.state)));
            Ok(listed)
        };
        self.read("ListCreateAccountStatus", list).await
    }
    async fn list_accounts(&self) -> AwsResult<Vec<AccountInfo>> {
        let list = async {
            let mut accounts = self.inner.list_accounts().await?;
            let creations = lock(&self.faults.creations);
            accounts.retain(|account| !creations.hides(&account.id));
            Ok(accounts)
        };
        self.read("ListAccounts", list).await
    }
    async fn describe_account(&self, account_id: &str) -> AwsResult<Option<AccountInfo>> {
        let describe = async {
            if lock(&self.faults.creations).hides(account_id) {
                return Ok(None);
            }
            self.inner.describe_account(account_id).await
        };
        self.read("DescribeAccount", describe).await
    }
    async fn root_id(&self) -> AwsResult<String> {
        self.read("ListRoots", self.inner.root_id()).await
    }
    async fn list_organizational_units(&self, parent_id: &str) -> AwsResult<Vec<OrganizationalUnit>> {
        self.read(
            "ListOrganizationalUnitsForParent",
            self.inner.list_organizational_units(parent_id),
        )
        .await
    }
    async fn parent_of(&self, account_id: &str) -> AwsResult<String> {
        self.read("ListParents", self.inner.parent_of(account_id)).await
    }
    async fn move_account(&self, account_id: &str, from_parent: &str, to_parent: &str) -> AwsResult<()> {
        self.write(
            "MoveAccount",
            self.inner.move_account(account_id, from_parent, to_parent),
        )
        .await
    }
    async fn list_tags(&self, resource_id: &str) -> AwsResult<BTreeMap<String, String>> {
        self.read("ListTagsForResource", self.inner.list_tags(resource_id))
            .await
    }
    async fn tag_resource(&self, resource_id: &str, tags: &BTreeMap<String, String>) -> AwsResult<()> {
        self.write("TagResource", self.inner.tag_resource(resource_id, tags))
            .await
    }
    async fn untag_resource(&self, resource_id: &str, keys: &[String]) -> AwsResult<()> {
        self.write("UntagResource", self.inner.untag_resource(resource_id, keys))
            .await
    }
    async fn close_account(&self, account_id: &str) -> AwsResult<()> {
        self.write("CloseAccount", self.inner.close_account(account_id)).await
    }
    async fn create_organizational_unit(
        &self,
        parent_id: &str,
        name: &str,
        tags: &BTreeMap<String, String>,
    ) -> AwsResult<OrganizationalUnit> {
        self.write(
            "CreateOrganizationalUnit",
            self.inner.create_organizational_unit(parent_id, name, tags),
        )
        .await
    }
    async fn describe_organizational_unit(&self, id: &str) -> AwsResult<Option<OrganizationalUnit>> {
        self.read(
            "DescribeOrganizationalUnit",
            self.inner.describe_organizational_unit(id),
        )
        .await
    }
    async fn rename_organizational_unit(&self, id: &str, name: &str) -> AwsResult<()> {
        self.write(
            "UpdateOrganizationalUnit",
            self.inner.rename_organizational_unit(id, name),
        )
        .await
    }
    async fn delete_organizational_unit(&self, id: &str) -> AwsResult<()> {
        self.write("DeleteOrganizationalUnit", self.inner.delete_organizational_unit(id))
            .await
    }
    async fn list_child_accounts(&self, parent_id: &str) -> AwsResult<Vec<String>> {
        self.read("ListChildren", self.inner.list_child_accounts(parent_id))
            .await
    }
    async fn enabled_policy_types(&self) -> AwsResult<BTreeSet<PolicyType>> {
        self.read("ListRoots", self.inner.enabled_policy_types()).await
    }
    async fn enable_policy_type(&self, root_id: &str, policy_type: PolicyType) -> AwsResult<()> {
        self.write("EnablePolicyType", self.inner.enable_policy_type(root_id, policy_type))
            .await
    }
    async fn list_policies(&self, policy_type: PolicyType) -> AwsResult<Vec<PolicySummary>> {
        self.read("ListPolicies", self.inner.list_policies(policy_type)).await
    }
    async fn describe_policy(&self, id: &str) -> AwsResult<Option<Policy>> {
        self.read("DescribePolicy", self.inner.describe_policy(id)).await
    }
    async fn create_policy(&self, policy_type: PolicyType, policy: &NewPolicy) -> AwsResult<PolicySummary> {
        self.write("CreatePolicy", self.inner.create_policy(policy_type, policy))
            .await
    }
    async fn update_policy(&self, id: &str, policy: &NewPolicy) -> AwsResult<()> {
        self.write("UpdatePolicy", self.inner.update_policy(id, policy)).await
    }
    async fn delete_policy(&self, id: &str) -> AwsResult<()> {
        self.write("DeletePolicy", self.inner.delete_policy(id)).await
    }
    async fn list_targets_for_policy(&self, id: &str) -> AwsResult<BTreeSet<String>> {
        self.read("ListTargetsForPolicy", self.inner.list_targets_for_policy(id))
            .await
    }
    async fn attach_policy(&self, id: &str, target_id: &str) -> AwsResult<()> {
        self.write("AttachPolicy", self.inner.attach_policy(id, target_id))
            .await
    }
    async fn detach_policy(&self, id: &str, target_id: &str) -> AwsResult<()> {
        self.write("DetachPolicy", self.inner.detach_policy(id, target_id))
            .await
    }
}

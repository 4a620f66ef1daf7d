//! The AWS seam implemented with the AWS SDK for Rust. SDK types stop here.

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::sync::Arc;

use async_trait::async_trait;
use aws_config::meta::region::RegionProviderChain;
use aws_config::{BehaviorVersion, SdkConfig};
use aws_sdk_iam::config::SharedInterceptor;
use aws_sdk_iam::error::BuildError;
use aws_sdk_iam::types::StatusType;
use aws_sdk_organizations::types::{self as organizations, ChildType, IamUserAccessToBilling, PolicyType};
use futures::{StreamExt, TryFutureExt, TryStreamExt};
use serde_json::Value;

use super::credentials::AccountClients;
use super::error::{AwsError, AwsErrorKind, sdk_error};
use super::gone_is_done;
use super::pacing::{ServiceLimits, base_http_client, paced, retry_partition};
use super::{
    AccessKeyState, AccountDetails, AccountInfo, Aws, AwsResult, BillingAccess, CreateAccountState,
    CreateAccountStatus, DEFAULT_MAX_SESSION_DURATION, GroupState, Iam, KeyStatus, ManagedPolicyState, NewAccessKey,
    NewAccount, NewManagedPolicy, NewPolicy, NewRole, NewUser, OrgAccountState, OrganizationalUnit, Organizations,
    Policy, PolicySummary, RoleActivity, RoleState, UserPermissions, UserState, credential_report, policy_name,
};
use crate::policy::document::decode_aws_document;

/// IAM, Organizations and STS answer from global endpoints whatever the region;
/// the SDK still needs one to sign and to pick the partition.
const DEFAULT_REGION: &str = "us-east-1";

/// A call that creates something is sent once: when its answer is lost (a
/// 5xx, a reset, a timeout after AWS carried it out), the SDK must not send
/// it again. The reconcile that follows looks for the effect first (the
/// account by its creation request and email, the role or group by name and
/// the claim recorded before the call) and adopts it.
fn iam_once() -> aws_sdk_iam::config::Builder {
    aws_sdk_iam::config::Builder::default().retry_config(aws_config::retry::RetryConfig::disabled())
}

fn organizations_once() -> aws_sdk_organizations::config::Builder {
    aws_sdk_organizations::config::Builder::default().retry_config(aws_config::retry::RetryConfig::disabled())
}

/// Entries per GetAccountAuthorizationDetails or ListRoles page: IAM's
/// most, so an account of a thousand roles reads in a call or two each.
const DETAILS_PAGE: i32 = 1000;

/// GetUser calls in flight at once: enough to be quick for a large group,
/// few enough not to spend IAM's request budget in one burst.
const CONCURRENT_USER_LOOKUPS: usize = 4;

pub struct SdkAws {
    clients: Arc<AccountClients>,
    organizations: Arc<SdkOrganizations>,
}

impl SdkAws {
    /// The SDK's default chain: environment, web identity (IRSA, EKS Pod
    /// Identity), profiles, instance metadata; `AWS_ENDPOINT_URL` and its
    /// per-service variants as the SDK reads them.
    /// `interceptors` see every AWS call of every client (metrics).
    /// `limits` pace the calls into each account and to Organizations.
    pub async fn from_env(interceptors: Vec<SharedInterceptor>, limits: ServiceLimits) -> Self {
        let region = RegionProviderChain::default_provider().or_else(DEFAULT_REGION);
        let config = aws_config::defaults(BehaviorVersion::latest())
            .region(region)
            .load()
            .await;
        Self::limited(&config, interceptors, limits)
    }

    pub fn new(config: &SdkConfig) -> Self {
        Self::with_interceptors(config, vec![])
    }

    pub fn with_interceptors(config: &SdkConfig, interceptors: Vec<SharedInterceptor>) -> Self {
        Self::limited(config, interceptors, ServiceLimits::default())
    }

    pub fn limited(config: &SdkConfig, interceptors: Vec<SharedInterceptor>, limits: ServiceLimits) -> Self {
        let mut organizations = aws_sdk_organizations::config::Builder::from(config)
            .http_client(paced(base_http_client(config), limits.organizations))
            .retry_partition(retry_partition("organizations"));
        for interceptor in &interceptors {
            organizations.push_interceptor(interceptor.clone());
        }
        Self {
            clients: Arc::new(AccountClients::new(config, interceptors, limits.iam)),
            organizations: Arc::new(SdkOrganizations::new(aws_sdk_organizations::Client::from_conf(
                organizations.build(),
            ))),
        }
    }

    /// How many times STS AssumeRole has been called, for metrics and tests.
    pub fn assume_role_calls(&self) -> u64 {
        self.clients.assume_role_calls()
    }
}

#[async_trait]
impl Aws for SdkAws {
    async fn own_account_id(&self) -> AwsResult<String> {
        self.clients.own_account_id().await
    }

    async fn iam(&self, account_id: &str, access_role: &str) -> AwsResult<Arc<dyn Iam>> {
        let client = self.clients.iam_client(account_id, access_role).await?;
        Ok(Arc::new(SdkIam::new(client)))
    }

    async fn iam_for(&self, account_id: &str, access_role: &str, requester: &str) -> AwsResult<Arc<dyn Iam>> {
        let client = self.clients.iam_client(account_id, access_role).await?;
        // The operator's own account is worked in with its own credentials.
        let writer = (self.clients.own_account_id().await? != account_id).then(|| SessionWriter {
            clients: self.clients.clone(),
            account_id: account_id.to_owned(),
            access_role: access_role.to_owned(),
            session: requester.to_owned(),
            client: tokio::sync::OnceCell::new(),
        });
        Ok(Arc::new(SdkIam { client, writer }))
    }

    fn organizations(&self) -> Arc<dyn Organizations> {
        self.organizations.clone()
    }
}

pub struct SdkIam {
    client: aws_sdk_iam::Client,
    /// Where the writes go, when they carry a requester of their own.
    writer: Option<SessionWriter>,
}

/// A role session named for the object that asks, opened at the first
/// write: CloudTrail of the member account shows who asked for each change,
/// and a reconcile that writes nothing opens none.
struct SessionWriter {
    clients: Arc<AccountClients>,
    account_id: String,
    access_role: String,
    session: String,
    client: tokio::sync::OnceCell<aws_sdk_iam::Client>,
}

impl SdkIam {
    pub fn new(client: aws_sdk_iam::Client) -> Self {
        Self { client, writer: None }
    }

    /// The client the writes go through.
    async fn writer(&self) -> AwsResult<&aws_sdk_iam::Client> {
        let Some(writer) = &self.writer else {
            return Ok(&self.client);
        };
        writer
            .client
            .get_or_try_init(|| {
                writer
                    .clients
                    .session_client(&writer.account_id, &writer.access_role, &writer.session)
            })
            .await
    }

    async fn read_role(&self, name: &str) -> AwsResult<RoleState> {
        let output = self
            .client
            .get_role()
            .role_name(name)
            .send()
            .await
            .map_err(sdk_error("GetRole"))?;
        let role = output.role.ok_or_else(|| missing("GetRole", "role"))?;
        let (managed_policy_arns, inline_policies) =
            futures::try_join!(self.attached_role_policies(name), self.role_inline_policies(name))?;
        Ok(RoleState {
            trust_policy: document_or_null("GetRole", role.assume_role_policy_document.as_deref())?,
            description: role.description.unwrap_or_default(),
            max_session_duration: role.max_session_duration.unwrap_or(DEFAULT_MAX_SESSION_DURATION),
            permissions_boundary_arn: boundary_arn(role.permissions_boundary),
            tags: tag_map(role.tags),
            arn: role.arn,
            managed_policy_arns,
            inline_policies,
        })
    }

    async fn attached_role_policies(&self, role: &str) -> AwsResult<BTreeSet<String>> {
        let attached = self
            .client
            .list_attached_role_policies()
            .role_name(role)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(sdk_error("ListAttachedRolePolicies"))?;
        Ok(attached_arns(Some(attached)))
    }

    async fn role_inline_policies(&self, role: &str) -> AwsResult<BTreeMap<String, Value>> {
        let names = self
            .client
            .list_role_policies()
            .role_name(role)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(sdk_error("ListRolePolicies"))?;
        inline_documents("GetRolePolicy", names, |policy| async move {
            let output = self
                .client
                .get_role_policy()
                .role_name(role)
                .policy_name(policy)
                .send()
                .await
                .map_err(sdk_error("GetRolePolicy"))?;
            Ok(output.policy_document)
        })
        .await
    }

    async fn read_group(&self, name: &str) -> AwsResult<GroupState> {
        let pages = self
            .client
            .get_group()
            .group_name(name)
            .into_paginator()
            .send()
            .try_collect()
            .await
            .map_err(sdk_error("GetGroup"))?;
        let arn = pages
            .first()
            .and_then(|page| page.group.as_ref())
            .map(|group| group.arn.clone())
            .ok_or_else(|| missing("GetGroup", "group"))?;
        let members = pages
            .into_iter()
            .flat_map(|page| page.users)
            .map(|user| user.user_name)
            .collect();
        let (managed_policy_arns, inline_policies) =
            futures::try_join!(self.attached_group_policies(name), self.group_inline_policies(name))?;
        Ok(GroupState {
            arn,
            members,
            managed_policy_arns,
            inline_policies,
        })
    }

    async fn attached_group_policies(&self, group: &str) -> AwsResult<BTreeSet<String>> {
        let attached = self
            .client
            .list_attached_group_policies()
            .group_name(group)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(sdk_error("ListAttachedGroupPolicies"))?;
        Ok(attached_arns(Some(attached)))
    }

    async fn group_inline_policies(&self, group: &str) -> AwsResult<BTreeMap<String, Value>> {
        let names = self
            .client
            .list_group_policies()
            .group_name(group)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(sdk_error("ListGroupPolicies"))?;
        inline_documents("GetGroupPolicy", names, |policy| async move {
            let output = self
                .client
                .get_group_policy()
                .group_name(group)
                .policy_name(policy)
                .send()
                .await
                .map_err(sdk_error("GetGroupPolicy"))?;
            Ok(output.policy_document)
        })
        .await
    }

    async fn user_arn(&self, user: &str) -> AwsResult<Option<(String, String)>> {
        let found = self
            .client
            .get_user()
            .user_name(user)
            .send()
            .await
            .map_err(sdk_error("GetUser"));
        Ok(absent_if_not_found(found)?
            .and_then(|output| output.user)
            .map(|found| (user.to_owned(), found.arn)))
    }
    /// A customer-managed policy: its tags and default version (GetPolicy),
    /// that version's document, and every version's id.
    async fn read_policy(&self, arn: &str) -> AwsResult<ManagedPolicyState> {
        let (policy, listed) = futures::try_join!(
            async {
                self.client
                    .get_policy()
                    .policy_arn(arn)
                    .send()
                    .await
                    .map_err(sdk_error("GetPolicy"))?
                    .policy
                    .ok_or_else(|| missing("GetPolicy", "policy"))
            },
            async {
                self.client
                    .list_policy_versions()
                    .policy_arn(arn)
                    .into_paginator()
                    .items()
                    .send()
                    .try_collect()
                    .await
                    .map_err(sdk_error("ListPolicyVersions"))
            },
        )?;
        let default_version = policy
            .default_version_id
            .ok_or_else(|| missing("GetPolicy", "default version"))?;
        let raw = self
            .client
            .get_policy_version()
            .policy_arn(arn)
            .version_id(&default_version)
            .send()
            .await
            .map_err(sdk_error("GetPolicyVersion"))?
            .policy_version
            .and_then(|version| version.document)
            .ok_or_else(|| missing("GetPolicyVersion", "document"))?;
        Ok(ManagedPolicyState {
            arn: arn.to_owned(),
            description: policy.description.unwrap_or_default(),
            document: decode_document("GetPolicyVersion", &raw)?,
            default_version,
            versions: oldest_first(listed.into_iter().filter_map(|version| version.version_id)),
            tags: Some(tag_map(policy.tags)),
        })
    }

    /// Roles, groups and users in GetAccountAuthorizationDetails pages;
    /// ListRoles adds what that leaves out (description, session duration).
    async fn read_account_details(&self) -> AwsResult<AccountDetails> {
        let (pages, listed) = self.list_account_details().await?;
        let mut settings = role_settings(listed);
        let mut account = AccountDetails::default();
        let mut members: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for page in pages {
            for role in page.role_detail_list.unwrap_or_default() {
                let activity = RoleActivity {
                    created: role.create_date.and_then(timestamp),
                    last_used: role
                        .role_last_used
                        .as_ref()
                        .and_then(|used| used.last_used_date)
                        .and_then(timestamp),
                };
                if let Some((name, state)) = detailed_role(role, &mut settings)? {
                    account.role_activity.insert(name.clone(), activity);
                    account.roles.insert(name, state);
                }
            }
            for group in page.group_detail_list.unwrap_or_default() {
                if let Some((name, state)) = detailed_group(group)? {
                    account.groups.insert(name, state);
                }
            }
            for user in page.user_detail_list.unwrap_or_default() {
                let (Some(name), Some(arn)) = (user.user_name, user.arn) else {
                    continue;
                };
                let groups: BTreeSet<String> = user.group_list.unwrap_or_default().into_iter().collect();
                for group in &groups {
                    members.entry(group.clone()).or_default().insert(name.clone());
                }
                let permissions = UserPermissions {
                    tags: tag_map(user.tags),
                    groups,
                    managed_policy_arns: attached_arns(user.attached_managed_policies),
                    inline_policies: detailed_documents(user.user_policy_list)?,
                };
                account.user_permissions.insert(name.clone(), permissions);
                account.users.insert(name, arn);
            }
            for policy in page.policies.unwrap_or_default() {
                if let Some((name, state)) = detailed_policy(policy)? {
                    account.policies.insert(name, state);
                }
            }
        }
        for (group, users) in members {
            if let Some(state) = account.groups.get_mut(&group) {
                state.members = users;
            }
        }
        Ok(account)
    }

    /// Both listings at once, every page of each.
    async fn list_account_details(&self) -> AwsResult<(Vec<AuthorizationDetailsPage>, Vec<aws_sdk_iam::types::Role>)> {
        use aws_sdk_iam::types::EntityType;
        let details = self
            .client
            .get_account_authorization_details()
            .filter(EntityType::Role)
            .filter(EntityType::Group)
            .filter(EntityType::User)
            .filter(EntityType::LocalManagedPolicy)
            .max_items(DETAILS_PAGE)
            .into_paginator()
            .send();
        let listed = self
            .client
            .list_roles()
            .max_items(DETAILS_PAGE)
            .into_paginator()
            .items()
            .send();
        futures::try_join!(
            details
                .try_collect()
                .map_err(sdk_error("GetAccountAuthorizationDetails")),
            listed.try_collect().map_err(sdk_error("ListRoles")),
        )
    }

    /// Detaches a managed policy from every role, group and user it is attached to.
    async fn detach_everywhere(&self, arn: &str) -> AwsResult<()> {
        let pages: Vec<_> = self
            .writer()
            .await?
            .list_entities_for_policy()
            .policy_arn(arn)
            .into_paginator()
            .send()
            .try_collect()
            .await
            .map_err(sdk_error("ListEntitiesForPolicy"))?;
        for page in pages {
            for role in page
                .policy_roles
                .unwrap_or_default()
                .into_iter()
                .filter_map(|r| r.role_name)
            {
                gone_is_done(self.detach_role_policy(&role, arn).await)?;
            }
            for group in page
                .policy_groups
                .unwrap_or_default()
                .into_iter()
                .filter_map(|g| g.group_name)
            {
                gone_is_done(self.detach_group_policy(&group, arn).await)?;
            }
            for user in page
                .policy_users
                .unwrap_or_default()
                .into_iter()
                .filter_map(|u| u.user_name)
            {
                gone_is_done(self.detach_user_policy(&user, arn).await)?;
            }
        }
        Ok(())
    }

    /// The user and everything that hangs on it, in one go after GetUser.
    async fn read_user(&self, name: &str) -> AwsResult<UserState> {
        let output = self
            .client
            .get_user()
            .user_name(name)
            .send()
            .await
            .map_err(sdk_error("GetUser"))?;
        let user = output.user.ok_or_else(|| missing("GetUser", "user"))?;
        let (login_profile, access_keys, mfa_devices, inline_policies, managed_policy_arns, groups) = futures::try_join!(
            self.login_profile(name),
            self.access_keys(name),
            self.mfa_devices(name),
            self.user_inline_policies(name),
            self.attached_user_policies(name),
            self.groups_for_user(name),
        )?;
        Ok(UserState {
            arn: user.arn,
            path: user.path,
            tags: tag_map(user.tags),
            password_last_used: user.password_last_used.and_then(timestamp),
            login_profile,
            access_keys,
            mfa_devices,
            inline_policies,
            managed_policy_arns,
            groups,
        })
    }

    async fn login_profile(&self, user: &str) -> AwsResult<bool> {
        let found = self
            .client
            .get_login_profile()
            .user_name(user)
            .send()
            .await
            .map_err(sdk_error("GetLoginProfile"));
        Ok(absent_if_not_found(found)?.is_some())
    }

    /// The user's keys, oldest first, each with when it was last used.
    async fn access_keys(&self, user: &str) -> AwsResult<Vec<AccessKeyState>> {
        let listed: Vec<aws_sdk_iam::types::AccessKeyMetadata> = self
            .client
            .list_access_keys()
            .user_name(user)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(sdk_error("ListAccessKeys"))?;
        let mut keys = vec![];
        for key in listed {
            let Some(id) = key.access_key_id else { continue };
            let last_used = self
                .client
                .get_access_key_last_used()
                .access_key_id(&id)
                .send()
                .await
                .map_err(sdk_error("GetAccessKeyLastUsed"))?
                .access_key_last_used
                .and_then(|used| used.last_used_date)
                .and_then(timestamp);
            keys.push(AccessKeyState {
                status: match key.status {
                    Some(StatusType::Active) => KeyStatus::Active,
                    _ => KeyStatus::Inactive,
                },
                created: key.create_date.and_then(timestamp).unwrap_or_default(),
                last_used,
                id,
            });
        }
        keys.sort_by(|a, b| (a.created, &a.id).cmp(&(b.created, &b.id)));
        Ok(keys)
    }

    async fn mfa_devices(&self, user: &str) -> AwsResult<Vec<String>> {
        let devices: Vec<aws_sdk_iam::types::MfaDevice> = self
            .client
            .list_mfa_devices()
            .user_name(user)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(sdk_error("ListMFADevices"))?;
        Ok(devices.into_iter().map(|device| device.serial_number).collect())
    }

    async fn user_inline_policies(&self, user: &str) -> AwsResult<BTreeMap<String, Value>> {
        let names = self
            .client
            .list_user_policies()
            .user_name(user)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(sdk_error("ListUserPolicies"))?;
        inline_documents("GetUserPolicy", names, |policy| async move {
            let output = self
                .client
                .get_user_policy()
                .user_name(user)
                .policy_name(policy)
                .send()
                .await
                .map_err(sdk_error("GetUserPolicy"))?;
            Ok(output.policy_document)
        })
        .await
    }

    async fn attached_user_policies(&self, user: &str) -> AwsResult<BTreeSet<String>> {
        let attached = self
            .client
            .list_attached_user_policies()
            .user_name(user)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(sdk_error("ListAttachedUserPolicies"))?;
        Ok(attached_arns(Some(attached)))
    }

    async fn groups_for_user(&self, user: &str) -> AwsResult<BTreeSet<String>> {
        let groups: Vec<aws_sdk_iam::types::Group> = self
            .client
            .list_groups_for_user()
            .user_name(user)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(sdk_error("ListGroupsForUser"))?;
        Ok(groups.into_iter().map(|group| group.group_name).collect())
    }
}

#[async_trait]
impl Iam for SdkIam {
    async fn account_details(&self) -> AwsResult<AccountDetails> {
        self.read_account_details().await
    }

    async fn get_credential_report(&self) -> AwsResult<credential_report::CredentialReportRead> {
        use aws_sdk_iam::operation::get_credential_report::GetCredentialReportError as Refused;
        use credential_report::CredentialReportRead as Read;
        let answer = match self.client.get_credential_report().send().await {
            Ok(answer) => answer,
            Err(err) => {
                return match err.as_service_error() {
                    Some(
                        Refused::CredentialReportNotPresentException(_) | Refused::CredentialReportExpiredException(_),
                    ) => Ok(Read::Absent),
                    Some(Refused::CredentialReportNotReadyException(_)) => Ok(Read::InProgress),
                    _ => Err(sdk_error("GetCredentialReport")(err)),
                };
            }
        };
        let content = answer.content.map(|blob| blob.into_inner()).unwrap_or_default();
        let text = String::from_utf8_lossy(&content);
        let generated = answer.generated_time.and_then(timestamp);
        Ok(Read::Ready(credential_report::parse(&text, generated)?))
    }

    async fn generate_credential_report(&self) -> AwsResult<()> {
        self.client
            .generate_credential_report()
            .send()
            .await
            .map_err(sdk_error("GenerateCredentialReport"))?;
        Ok(())
    }

    async fn get_role(&self, name: &str) -> AwsResult<Option<RoleState>> {
        // A role deleted halfway through the reads is as absent as one never made.
        absent_if_not_found(self.read_role(name).await)
    }

    async fn create_role(&self, role: &NewRole) -> AwsResult<String> {
        let tags = to_sdk_tags("CreateRole", &role.tags, |key, value| {
            aws_sdk_iam::types::Tag::builder().key(key).value(value).build()
        })?;
        let output = self
            .writer()
            .await?
            .create_role()
            .role_name(&role.name)
            .assume_role_policy_document(&role.trust_policy)
            .set_description(Some(role.description.clone()).filter(|description| !description.is_empty()))
            .set_max_session_duration(Some(role.max_session_duration).filter(|seconds| *seconds > 0))
            .set_permissions_boundary(role.permissions_boundary_arn.clone())
            .set_tags(Some(tags).filter(|tags| !tags.is_empty()))
            .customize()
            .config_override(iam_once())
            .send()
            .await
            .map_err(sdk_error("CreateRole"))?;
        Ok(output.role.ok_or_else(|| missing("CreateRole", "role"))?.arn)
    }

    async fn update_trust_policy(&self, role: &str, document: &str) -> AwsResult<()> {
        self.writer()
            .await?
            .update_assume_role_policy()
            .role_name(role)
            .policy_document(document)
            .send()
            .await
            .map_err(sdk_error("UpdateAssumeRolePolicy"))?;
        Ok(())
    }

    async fn update_role(&self, role: &str, description: &str, max_session_duration: i32) -> AwsResult<()> {
        self.writer()
            .await?
            .update_role()
            .role_name(role)
            .description(description)
            .max_session_duration(max_session_duration)
            .send()
            .await
            .map_err(sdk_error("UpdateRole"))?;
        Ok(())
    }

    async fn put_permissions_boundary(&self, role: &str, policy_arn: &str) -> AwsResult<()> {
        self.writer()
            .await?
            .put_role_permissions_boundary()
            .role_name(role)
            .permissions_boundary(policy_arn)
            .send()
            .await
            .map_err(sdk_error("PutRolePermissionsBoundary"))?;
        Ok(())
    }

    async fn delete_permissions_boundary(&self, role: &str) -> AwsResult<()> {
        self.writer()
            .await?
            .delete_role_permissions_boundary()
            .role_name(role)
            .send()
            .await
            .map_err(sdk_error("DeleteRolePermissionsBoundary"))?;
        Ok(())
    }

    async fn attach_role_policy(&self, role: &str, policy_arn: &str) -> AwsResult<()> {
        self.writer()
            .await?
            .attach_role_policy()
            .role_name(role)
            .policy_arn(policy_arn)
            .send()
            .await
            .map_err(sdk_error("AttachRolePolicy"))?;
        Ok(())
    }

    async fn detach_role_policy(&self, role: &str, policy_arn: &str) -> AwsResult<()> {
        self.writer()
            .await?
            .detach_role_policy()
            .role_name(role)
            .policy_arn(policy_arn)
            .send()
            .await
            .map_err(sdk_error("DetachRolePolicy"))?;
        Ok(())
    }

    async fn put_role_policy(&self, role: &str, policy_name: &str, document: &str) -> AwsResult<()> {
        self.writer()
            .await?
            .put_role_policy()
            .role_name(role)
            .policy_name(policy_name)
            .policy_document(document)
            .send()
            .await
            .map_err(sdk_error("PutRolePolicy"))?;
        Ok(())
    }

    async fn delete_role_policy(&self, role: &str, policy_name: &str) -> AwsResult<()> {
        self.writer()
            .await?
            .delete_role_policy()
            .role_name(role)
            .policy_name(policy_name)
            .send()
            .await
            .map_err(sdk_error("DeleteRolePolicy"))?;
        Ok(())
    }

    async fn tag_role(&self, role: &str, tags: &BTreeMap<String, String>) -> AwsResult<()> {
        // IAM refuses a TagRole without tags.
        if tags.is_empty() {
            return Ok(());
        }
        let tags = to_sdk_tags("TagRole", tags, |key, value| {
            aws_sdk_iam::types::Tag::builder().key(key).value(value).build()
        })?;
        self.writer()
            .await?
            .tag_role()
            .role_name(role)
            .set_tags(Some(tags))
            .send()
            .await
            .map_err(sdk_error("TagRole"))?;
        Ok(())
    }

    async fn untag_role(&self, role: &str, keys: &[String]) -> AwsResult<()> {
        if keys.is_empty() {
            return Ok(());
        }
        self.writer()
            .await?
            .untag_role()
            .role_name(role)
            .set_tag_keys(Some(keys.to_vec()))
            .send()
            .await
            .map_err(sdk_error("UntagRole"))?;
        Ok(())
    }

    async fn delete_role(&self, role: &str) -> AwsResult<()> {
        self.writer()
            .await?
            .delete_role()
            .role_name(role)
            .send()
            .await
            .map_err(sdk_error("DeleteRole"))?;
        Ok(())
    }

    async fn get_group(&self, name: &str) -> AwsResult<Option<GroupState>> {
        absent_if_not_found(self.read_group(name).await)
    }

    async fn create_group(&self, name: &str) -> AwsResult<String> {
        let output = self
            .writer()
            .await?
            .create_group()
            .group_name(name)
            .customize()
            .config_override(iam_once())
            .send()
            .await
            .map_err(sdk_error("CreateGroup"))?;
        Ok(output.group.ok_or_else(|| missing("CreateGroup", "group"))?.arn)
    }

    async fn delete_group(&self, name: &str) -> AwsResult<()> {
        self.writer()
            .await?
            .delete_group()
            .group_name(name)
            .send()
            .await
            .map_err(sdk_error("DeleteGroup"))?;
        Ok(())
    }

    async fn add_user_to_group(&self, group: &str, user: &str) -> AwsResult<()> {
        self.writer()
            .await?
            .add_user_to_group()
            .group_name(group)
            .user_name(user)
            .send()
            .await
            .map_err(sdk_error("AddUserToGroup"))?;
        Ok(())
    }

    async fn remove_user_from_group(&self, group: &str, user: &str) -> AwsResult<()> {
        self.writer()
            .await?
            .remove_user_from_group()
            .group_name(group)
            .user_name(user)
            .send()
            .await
            .map_err(sdk_error("RemoveUserFromGroup"))?;
        Ok(())
    }

    async fn put_group_policy(&self, group: &str, policy_name: &str, document: &str) -> AwsResult<()> {
        self.writer()
            .await?
            .put_group_policy()
            .group_name(group)
            .policy_name(policy_name)
            .policy_document(document)
            .send()
            .await
            .map_err(sdk_error("PutGroupPolicy"))?;
        Ok(())
    }

    async fn delete_group_policy(&self, group: &str, policy_name: &str) -> AwsResult<()> {
        self.writer()
            .await?
            .delete_group_policy()
            .group_name(group)
            .policy_name(policy_name)
            .send()
            .await
            .map_err(sdk_error("DeleteGroupPolicy"))?;
        Ok(())
    }

    async fn attach_group_policy(&self, group: &str, policy_arn: &str) -> AwsResult<()> {
        self.writer()
            .await?
            .attach_group_policy()
            .group_name(group)
            .policy_arn(policy_arn)
            .send()
            .await
            .map_err(sdk_error("AttachGroupPolicy"))?;
        Ok(())
    }

    async fn detach_group_policy(&self, group: &str, policy_arn: &str) -> AwsResult<()> {
        self.writer()
            .await?
            .detach_group_policy()
            .group_name(group)
            .policy_arn(policy_arn)
            .send()
            .await
            .map_err(sdk_error("DetachGroupPolicy"))?;
        Ok(())
    }

    async fn user_arns(&self, users: &[String]) -> AwsResult<BTreeMap<String, String>> {
        // Collected first: a lazy iterator here hides the futures' lifetime from
        // the Send check async_trait needs.
        let lookups: Vec<_> = users.iter().map(|user| self.user_arn(user)).collect();
        let found: Vec<_> = futures::stream::iter(lookups)
            .buffer_unordered(CONCURRENT_USER_LOOKUPS)
            .try_collect()
            .await?;
        Ok(found.into_iter().flatten().collect())
    }

    async fn get_user(&self, name: &str) -> AwsResult<Option<UserState>> {
        // A user deleted halfway through the reads is as absent as one never made.
        absent_if_not_found(self.read_user(name).await)
    }

    async fn create_user(&self, user: &NewUser) -> AwsResult<String> {
        let tags = to_sdk_tags("CreateUser", &user.tags, |key, value| {
            aws_sdk_iam::types::Tag::builder().key(key).value(value).build()
        })?;
        let output = self
            .writer()
            .await?
            .create_user()
            .user_name(&user.name)
            .set_path(Some(user.path.clone()).filter(|path| !path.is_empty()))
            .set_tags(Some(tags).filter(|tags| !tags.is_empty()))
            .customize()
            .config_override(iam_once())
            .send()
            .await
            .map_err(sdk_error("CreateUser"))?;
        Ok(output.user.ok_or_else(|| missing("CreateUser", "user"))?.arn)
    }

    async fn update_user_path(&self, user: &str, path: &str) -> AwsResult<()> {
        self.writer()
            .await?
            .update_user()
            .user_name(user)
            .new_path(path)
            .send()
            .await
            .map_err(sdk_error("UpdateUser"))?;
        Ok(())
    }

    async fn tag_user(&self, user: &str, tags: &BTreeMap<String, String>) -> AwsResult<()> {
        let tags = to_sdk_tags("TagUser", tags, |key, value| {
            aws_sdk_iam::types::Tag::builder().key(key).value(value).build()
        })?;
        self.writer()
            .await?
            .tag_user()
            .user_name(user)
            .set_tags(Some(tags))
            .send()
            .await
            .map_err(sdk_error("TagUser"))?;
        Ok(())
    }

    async fn untag_user(&self, user: &str, keys: &[String]) -> AwsResult<()> {
        self.writer()
            .await?
            .untag_user()
            .user_name(user)
            .set_tag_keys(Some(keys.to_vec()))
            .send()
            .await
            .map_err(sdk_error("UntagUser"))?;
        Ok(())
    }

    async fn delete_user(&self, user: &str) -> AwsResult<()> {
        self.writer()
            .await?
            .delete_user()
            .user_name(user)
            .send()
            .await
            .map_err(sdk_error("DeleteUser"))?;
        Ok(())
    }

    async fn create_login_profile(&self, user: &str, password: &str, reset_required: bool) -> AwsResult<()> {
        // Not repeated: after a lost answer the next reconcile reads the
        // login profile first.
        self.writer()
            .await?
            .create_login_profile()
            .user_name(user)
            .password(password)
            .password_reset_required(reset_required)
            .customize()
            .config_override(iam_once())
            .send()
            .await
            .map_err(sdk_error("CreateLoginProfile"))?;
        Ok(())
    }

    async fn delete_login_profile(&self, user: &str) -> AwsResult<()> {
        self.writer()
            .await?
            .delete_login_profile()
            .user_name(user)
            .send()
            .await
            .map_err(sdk_error("DeleteLoginProfile"))?;
        Ok(())
    }

    async fn create_access_key(&self, user: &str) -> AwsResult<NewAccessKey> {
        // Not repeated: a second key would be one whose secret nobody holds.
        let output = self
            .writer()
            .await?
            .create_access_key()
            .user_name(user)
            .customize()
            .config_override(iam_once())
            .send()
            .await
            .map_err(sdk_error("CreateAccessKey"))?;
        let key = output
            .access_key
            .ok_or_else(|| missing("CreateAccessKey", "access key"))?;
        Ok(NewAccessKey {
            id: key.access_key_id,
            secret: key.secret_access_key,
        })
    }

    async fn update_access_key(&self, user: &str, key_id: &str, status: KeyStatus) -> AwsResult<()> {
        let status = match status {
            KeyStatus::Active => StatusType::Active,
            KeyStatus::Inactive => StatusType::Inactive,
        };
        self.writer()
            .await?
            .update_access_key()
            .user_name(user)
            .access_key_id(key_id)
            .status(status)
            .send()
            .await
            .map_err(sdk_error("UpdateAccessKey"))?;
        Ok(())
    }

    async fn delete_access_key(&self, user: &str, key_id: &str) -> AwsResult<()> {
        self.writer()
            .await?
            .delete_access_key()
            .user_name(user)
            .access_key_id(key_id)
            .send()
            .await
            .map_err(sdk_error("DeleteAccessKey"))?;
        Ok(())
    }

    async fn deactivate_mfa_device(&self, user: &str, serial: &str) -> AwsResult<()> {
        self.writer()
            .await?
            .deactivate_mfa_device()
            .user_name(user)
            .serial_number(serial)
            .send()
            .await
            .map_err(sdk_error("DeactivateMFADevice"))?;
        Ok(())
    }

    async fn delete_virtual_mfa_device(&self, serial: &str) -> AwsResult<()> {
        self.writer()
            .await?
            .delete_virtual_mfa_device()
            .serial_number(serial)
            .send()
            .await
            .map_err(sdk_error("DeleteVirtualMFADevice"))?;
        Ok(())
    }

    async fn put_user_policy(&self, user: &str, policy_name: &str, document: &str) -> AwsResult<()> {
        self.writer()
            .await?
            .put_user_policy()
            .user_name(user)
            .policy_name(policy_name)
            .policy_document(document)
            .send()
            .await
            .map_err(sdk_error("PutUserPolicy"))?;
        Ok(())
    }

    async fn delete_user_policy(&self, user: &str, policy_name: &str) -> AwsResult<()> {
        self.writer()
            .await?
            .delete_user_policy()
            .user_name(user)
            .policy_name(policy_name)
            .send()
            .await
            .map_err(sdk_error("DeleteUserPolicy"))?;
        Ok(())
    }

    async fn detach_user_policy(&self, user: &str, policy_arn: &str) -> AwsResult<()> {
        self.writer()
            .await?
            .detach_user_policy()
            .user_name(user)
            .policy_arn(policy_arn)
            .send()
            .await
            .map_err(sdk_error("DetachUserPolicy"))?;
        Ok(())
    }

    async fn get_policy(&self, arn: &str) -> AwsResult<Option<ManagedPolicyState>> {
        // A policy deleted halfway through the reads is as absent as one never made.
        absent_if_not_found(self.read_policy(arn).await)
    }

    async fn create_policy(&self, policy: &NewManagedPolicy) -> AwsResult<String> {
        let tags = to_sdk_tags("CreatePolicy", &policy.tags, |key, value| {
            aws_sdk_iam::types::Tag::builder().key(key).value(value).build()
        })?;
        let output = self
            .writer()
            .await?
            .create_policy()
            .policy_name(&policy.name)
            .policy_document(&policy.document)
            .set_description(Some(policy.description.clone()).filter(|description| !description.is_empty()))
            .set_tags(Some(tags).filter(|tags| !tags.is_empty()))
            .customize()
            .config_override(iam_once())
            .send()
            .await
            .map_err(sdk_error("CreatePolicy"))?;
        output
            .policy
            .and_then(|created| created.arn)
            .ok_or_else(|| missing("CreatePolicy", "policy"))
    }

    async fn create_policy_version(&self, arn: &str, document: &str) -> AwsResult<String> {
        // Not repeated: a second version would take one of the five places.
        let output = self
            .writer()
            .await?
            .create_policy_version()
            .policy_arn(arn)
            .policy_document(document)
            .set_as_default(true)
            .customize()
            .config_override(iam_once())
            .send()
            .await
            .map_err(sdk_error("CreatePolicyVersion"))?;
        output
            .policy_version
            .and_then(|version| version.version_id)
            .ok_or_else(|| missing("CreatePolicyVersion", "version"))
    }

    async fn delete_policy_version(&self, arn: &str, version: &str) -> AwsResult<()> {
        self.writer()
            .await?
            .delete_policy_version()
            .policy_arn(arn)
            .version_id(version)
            .send()
            .await
            .map_err(sdk_error("DeletePolicyVersion"))?;
        Ok(())
    }

    async fn delete_policy(&self, arn: &str) -> AwsResult<()> {
        self.detach_everywhere(arn).await?;
        let Some(policy) = self.get_policy(arn).await? else {
            return Ok(());
        };
        for version in policy.versions.iter().filter(|id| **id != policy.default_version) {
            gone_is_done(self.delete_policy_version(arn, version).await)?;
        }
        let deleted = self
            .writer()
            .await?
            .delete_policy()
            .policy_arn(arn)
            .send()
            .await
            .map_err(sdk_error("DeletePolicy"));
        gone_is_done(deleted.map(|_| ()))
    }
}

pub struct SdkOrganizations {
    client: aws_sdk_organizations::Client,
    /// An organization's root is made with it and never changes: asked once.
    root_id: tokio::sync::OnceCell<String>,
}

impl SdkOrganizations {
    pub fn new(client: aws_sdk_organizations::Client) -> Self {
        Self {
            client,
            root_id: tokio::sync::OnceCell::new(),
        }
    }
}

#[async_trait]
impl Organizations for SdkOrganizations {
    async fn create_account(&self, account: &NewAccount) -> AwsResult<String> {
        let tags = organizations_tags("CreateAccount", &account.tags)?;
        let output = self
            .client
            .create_account()
            .account_name(&account.name)
            .email(&account.email)
            .role_name(&account.access_role_name)
            .iam_user_access_to_billing(match account.iam_user_access_to_billing {
                BillingAccess::Allow => IamUserAccessToBilling::Allow,
                BillingAccess::Deny => IamUserAccessToBilling::Deny,
            })
            .set_tags(Some(tags).filter(|tags| !tags.is_empty()))
            .customize()
            .config_override(organizations_once())
            .send()
            .await
            .map_err(sdk_error("CreateAccount"))?;
        output
            .create_account_status
            .and_then(|status| status.id)
            .ok_or_else(|| missing("CreateAccount", "request id"))
    }

    async fn describe_create_account_status(&self, request_id: &str) -> AwsResult<CreateAccountStatus> {
        let output = self
            .client
            .describe_create_account_status()
            .create_account_request_id(request_id)
            .send()
            .await
            .map_err(sdk_error("DescribeCreateAccountStatus"))?;
        output
            .create_account_status
            .map(create_account_status)
            .ok_or_else(|| missing("DescribeCreateAccountStatus", "status"))
    }

    async fn list_create_account_status(&self, states: &[CreateAccountState]) -> AwsResult<Vec<CreateAccountStatus>> {
        let states = states.iter().map(|state| match state {
            CreateAccountState::InProgress => organizations::CreateAccountState::InProgress,
            CreateAccountState::Succeeded => organizations::CreateAccountState::Succeeded,
            CreateAccountState::Failed => organizations::CreateAccountState::Failed,
            CreateAccountState::Unknown(state) => organizations::CreateAccountState::from(state.as_str()),
        });
        let pages: Vec<_> = self
            .client
            .list_create_account_status()
            .set_states(Some(states.collect()))
            .into_paginator()
            .send()
            .try_collect()
            .await
            .map_err(sdk_error("ListCreateAccountStatus"))?;
        let statuses = pages
            .into_iter()
            .flat_map(|page| page.create_account_statuses.unwrap_or_default());
        Ok(statuses.into_iter().map(create_account_status).collect())
    }

    async fn list_accounts(&self) -> AwsResult<Vec<AccountInfo>> {
        let pages: Vec<_> = self
            .client
            .list_accounts()
            .into_paginator()
            .send()
            .try_collect()
            .await
            .map_err(sdk_error("ListAccounts"))?;
        let accounts = pages.into_iter().flat_map(|page| page.accounts.unwrap_or_default());
        Ok(accounts.into_iter().map(account_info).collect())
    }

    async fn describe_account(&self, account_id: &str) -> AwsResult<Option<AccountInfo>> {
        let described = self
            .client
            .describe_account()
            .account_id(account_id)
            .send()
            .await
            .map_err(sdk_error("DescribeAccount"));
        Ok(absent_if_not_found(described)?
            .and_then(|output| output.account)
            .map(account_info))
    }

    async fn root_id(&self) -> AwsResult<String> {
        let root = self
            .root_id
            .get_or_try_init(|| async {
                let roots = self.client.list_roots().send().await.map_err(sdk_error("ListRoots"))?;
                roots
                    .roots
                    .into_iter()
                    .flatten()
                    .find_map(|root| root.id)
                    .ok_or_else(|| missing("ListRoots", "root"))
            })
            .await?;
        Ok(root.clone())
    }

    async fn list_organizational_units(&self, parent_id: &str) -> AwsResult<Vec<OrganizationalUnit>> {
        let pages: Vec<_> = self
            .client
            .list_organizational_units_for_parent()
            .parent_id(parent_id)
            .into_paginator()
            .send()
            .try_collect()
            .await
            .map_err(sdk_error("ListOrganizationalUnitsForParent"))?;
        let units = pages
            .into_iter()
            .flat_map(|page| page.organizational_units.unwrap_or_default());
        Ok(units.into_iter().map(organizational_unit).collect())
    }

    async fn parent_of(&self, account_id: &str) -> AwsResult<String> {
        // An account has exactly one parent, so the first page holds it.
        let parents = self
            .client
            .list_parents()
            .child_id(account_id)
            .send()
            .await
            .map_err(sdk_error("ListParents"))?;
        parents
            .parents
            .into_iter()
            .flatten()
            .find_map(|parent| parent.id)
            .ok_or_else(|| missing("ListParents", "parent"))
    }

    async fn move_account(&self, account_id: &str, from_parent: &str, to_parent: &str) -> AwsResult<()> {
        self.client
            .move_account()
            .account_id(account_id)
            .source_parent_id(from_parent)
            .destination_parent_id(to_parent)
            .send()
            .await
            .map_err(sdk_error("MoveAccount"))?;
        Ok(())
    }

    async fn list_tags(&self, resource_id: &str) -> AwsResult<BTreeMap<String, String>> {
        let tags: Vec<_> = self
            .client
            .list_tags_for_resource()
            .resource_id(resource_id)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(sdk_error("ListTagsForResource"))?;
        Ok(tags.into_iter().map(|tag| (tag.key, tag.value)).collect())
    }

    async fn tag_resource(&self, resource_id: &str, tags: &BTreeMap<String, String>) -> AwsResult<()> {
        if tags.is_empty() {
            return Ok(());
        }
        self.client
            .tag_resource()
            .resource_id(resource_id)
            .set_tags(Some(organizations_tags("TagResource", tags)?))
            .send()
            .await
            .map_err(sdk_error("TagResource"))?;
        Ok(())
    }

    async fn untag_resource(&self, resource_id: &str, keys: &[String]) -> AwsResult<()> {
        if keys.is_empty() {
            return Ok(());
        }
        self.client
            .untag_resource()
            .resource_id(resource_id)
            .set_tag_keys(Some(keys.to_vec()))
            .send()
            .await
            .map_err(sdk_error("UntagResource"))?;
        Ok(())
    }

    async fn close_account(&self, account_id: &str) -> AwsResult<()> {
        self.client
            .close_account()
            .account_id(account_id)
            .send()
            .await
            .map_err(sdk_error("CloseAccount"))?;
        Ok(())
    }

    async fn create_organizational_unit(
        &self,
        parent_id: &str,
        name: &str,
        tags: &BTreeMap<String, String>,
    ) -> AwsResult<OrganizationalUnit> {
        let tags = organizations_tags("CreateOrganizationalUnit", tags)?;
        let output = self
            .client
            .create_organizational_unit()
            .parent_id(parent_id)
            .name(name)
            .set_tags(Some(tags).filter(|tags| !tags.is_empty()))
            .customize()
            .config_override(organizations_once())
            .send()
            .await
            .map_err(sdk_error("CreateOrganizationalUnit"))?;
        output
            .organizational_unit
            .map(organizational_unit)
            .ok_or_else(|| missing("CreateOrganizationalUnit", "OU"))
    }

    async fn describe_organizational_unit(&self, id: &str) -> AwsResult<Option<OrganizationalUnit>> {
        let described = self
            .client
            .describe_organizational_unit()
            .organizational_unit_id(id)
            .send()
            .await
            .map_err(sdk_error("DescribeOrganizationalUnit"));
        Ok(absent_if_not_found(described)?
            .and_then(|output| output.organizational_unit)
            .map(organizational_unit))
    }

    async fn rename_organizational_unit(&self, id: &str, name: &str) -> AwsResult<()> {
        self.client
            .update_organizational_unit()
            .organizational_unit_id(id)
            .name(name)
            .send()
            .await
            .map_err(sdk_error("UpdateOrganizationalUnit"))?;
        Ok(())
    }

    async fn delete_organizational_unit(&self, id: &str) -> AwsResult<()> {
        self.client
            .delete_organizational_unit()
            .organizational_unit_id(id)
            .send()
            .await
            .map_err(sdk_error("DeleteOrganizationalUnit"))?;
        Ok(())
    }

    async fn list_child_accounts(&self, parent_id: &str) -> AwsResult<Vec<String>> {
        let pages: Vec<_> = self
            .client
            .list_children()
            .parent_id(parent_id)
            .child_type(ChildType::Account)
            .into_paginator()
            .send()
            .try_collect()
            .await
            .map_err(sdk_error("ListChildren"))?;
        let children = pages.into_iter().flat_map(|page| page.children.unwrap_or_default());
        Ok(children.filter_map(|child| child.id).collect())
    }

    async fn enabled_policy_types(&self) -> AwsResult<BTreeSet<super::PolicyType>> {
        let roots = self.client.list_roots().send().await.map_err(sdk_error("ListRoots"))?;
        let root = roots
            .roots
            .into_iter()
            .flatten()
            .next()
            .ok_or_else(|| missing("ListRoots", "root"))?;
        Ok(root
            .policy_types
            .unwrap_or_default()
            .into_iter()
            .filter(|policy_type| {
                policy_type
                    .status
                    .as_ref()
                    .is_some_and(|status| status.as_str() == "ENABLED")
            })
            .filter_map(|policy_type| match policy_type.r#type? {
                PolicyType::ServiceControlPolicy => Some(super::PolicyType::ServiceControlPolicy),
                _ => None,
            })
            .collect())
    }

    async fn enable_policy_type(&self, root_id: &str, policy_type: super::PolicyType) -> AwsResult<()> {
        let enabled = self
            .client
            .enable_policy_type()
            .root_id(root_id)
            .policy_type(sdk_policy_type(policy_type))
            .send()
            .await;
        match enabled {
            // Enabled meanwhile by someone else: what was asked for holds.
            Err(error)
                if error
                    .as_service_error()
                    .is_some_and(|e| e.is_policy_type_already_enabled_exception()) =>
            {
                Ok(())
            }
            result => result.map(|_| ()).map_err(sdk_error("EnablePolicyType")),
        }
    }

    async fn list_policies(&self, policy_type: super::PolicyType) -> AwsResult<Vec<PolicySummary>> {
        let pages: Vec<_> = self
            .client
            .list_policies()
            .filter(sdk_policy_type(policy_type))
            .into_paginator()
            .send()
            .try_collect()
            .await
            .map_err(sdk_error("ListPolicies"))?;
        let policies = pages.into_iter().flat_map(|page| page.policies.unwrap_or_default());
        Ok(policies.map(policy_summary).collect())
    }

    async fn describe_policy(&self, id: &str) -> AwsResult<Option<Policy>> {
        let described = self
            .client
            .describe_policy()
            .policy_id(id)
            .send()
            .await
            .map_err(sdk_error("DescribePolicy"));
        let Some(policy) = absent_if_not_found(described)?.and_then(|output| output.policy) else {
            return Ok(None);
        };
        let content = decode_document("DescribePolicy", policy.content.as_deref().unwrap_or("{}"))?;
        Ok(Some(Policy {
            summary: policy.policy_summary.map(policy_summary).unwrap_or_default(),
            content,
        }))
    }

    async fn create_policy(&self, policy_type: super::PolicyType, policy: &NewPolicy) -> AwsResult<PolicySummary> {
        let tags = organizations_tags("CreatePolicy", &policy.tags)?;
        let output = self
            .client
            .create_policy()
            .name(&policy.name)
            .description(&policy.description)
            .content(&policy.content)
            .r#type(sdk_policy_type(policy_type))
            .set_tags(Some(tags).filter(|tags| !tags.is_empty()))
            .customize()
            .config_override(organizations_once())
            .send()
            .await
            .map_err(sdk_error("CreatePolicy"))?;
        output
            .policy
            .and_then(|policy| policy.policy_summary)
            .map(policy_summary)
            .ok_or_else(|| missing("CreatePolicy", "policy"))
    }

    async fn update_policy(&self, id: &str, policy: &NewPolicy) -> AwsResult<()> {
        self.client
            .update_policy()
            .policy_id(id)
            .name(&policy.name)
            .description(&policy.description)
            .content(&policy.content)
            .send()
            .await
            .map_err(sdk_error("UpdatePolicy"))?;
        Ok(())
    }

    async fn delete_policy(&self, id: &str) -> AwsResult<()> {
        self.client
            .delete_policy()
            .policy_id(id)
            .send()
            .await
            .map_err(sdk_error("DeletePolicy"))?;
        Ok(())
    }

    async fn list_targets_for_policy(&self, id: &str) -> AwsResult<BTreeSet<String>> {
        let pages: Vec<_> = self
            .client
            .list_targets_for_policy()
            .policy_id(id)
            .into_paginator()
            .send()
            .try_collect()
            .await
            .map_err(sdk_error("ListTargetsForPolicy"))?;
        let targets = pages.into_iter().flat_map(|page| page.targets.unwrap_or_default());
        Ok(targets.filter_map(|target| target.target_id).collect())
    }

    async fn attach_policy(&self, id: &str, target_id: &str) -> AwsResult<()> {
        self.client
            .attach_policy()
            .policy_id(id)
            .target_id(target_id)
            .send()
            .await
            .map_err(sdk_error("AttachPolicy"))?;
        Ok(())
    }

    async fn detach_policy(&self, id: &str, target_id: &str) -> AwsResult<()> {
        self.client
            .detach_policy()
            .policy_id(id)
            .target_id(target_id)
            .send()
            .await
            .map_err(sdk_error("DetachPolicy"))?;
        Ok(())
    }
}

fn organizational_unit(unit: aws_sdk_organizations::types::OrganizationalUnit) -> OrganizationalUnit {
    OrganizationalUnit {
        id: unit.id.unwrap_or_default(),
        arn: unit.arn.unwrap_or_default(),
        name: unit.name.unwrap_or_default(),
    }
}

fn policy_summary(policy: aws_sdk_organizations::types::PolicySummary) -> PolicySummary {
    PolicySummary {
        id: policy.id.unwrap_or_default(),
        arn: policy.arn.unwrap_or_default(),
        name: policy.name.unwrap_or_default(),
        description: policy.description.unwrap_or_default(),
        aws_managed: policy.aws_managed,
    }
}

fn organizations_tags(
    operation: &'static str,
    tags: &BTreeMap<String, String>,
) -> AwsResult<Vec<aws_sdk_organizations::types::Tag>> {
    to_sdk_tags(operation, tags, |key, value| {
        aws_sdk_organizations::types::Tag::builder()
            .key(key)
            .value(value)
            .build()
    })
}

fn create_account_status(status: organizations::CreateAccountStatus) -> CreateAccountStatus {
    let state = match status.state {
        Some(organizations::CreateAccountState::InProgress) => CreateAccountState::InProgress,
        Some(organizations::CreateAccountState::Succeeded) => CreateAccountState::Succeeded,
        Some(organizations::CreateAccountState::Failed) => CreateAccountState::Failed,
        Some(other) => CreateAccountState::Unknown(other.as_str().to_owned()),
        None => CreateAccountState::Unknown(String::new()),
    };
    CreateAccountStatus {
        request_id: status.id.unwrap_or_default(),
        state,
        account_id: status.account_id,
        account_name: status.account_name.unwrap_or_default(),
        failure_reason: status.failure_reason.map(|reason| reason.as_str().to_owned()),
    }
}

fn account_info(account: organizations::Account) -> AccountInfo {
    use organizations::{AccountState as State, AccountStatus as Status};
    // `State` replaces the older `Status`; emulators and older partitions may
    // still send only `Status`.
    let state = match (account.state, account.status) {
        (Some(State::Active), _) | (None, Some(Status::Active)) => OrgAccountState::Active,
        (Some(State::PendingActivation), _) => OrgAccountState::PendingActivation,
        (Some(State::Suspended), _) | (None, Some(Status::Suspended)) => OrgAccountState::Suspended,
        (Some(State::PendingClosure), _) | (None, Some(Status::PendingClosure)) => OrgAccountState::PendingClosure,
        (Some(State::Closed), _) => OrgAccountState::Closed,
        (Some(other), _) => OrgAccountState::Unknown(other.as_str().to_owned()),
        (None, Some(other)) => OrgAccountState::Unknown(other.as_str().to_owned()),
        (None, None) => OrgAccountState::Unknown(String::new()),
    };
    AccountInfo {
        id: account.id.unwrap_or_default(),
        arn: account.arn.unwrap_or_default(),
        name: account.name.unwrap_or_default(),
        email: account.email.unwrap_or_default(),
        state,
    }
}

/// A page of GetAccountAuthorizationDetails.
type AuthorizationDetailsPage =
    aws_sdk_iam::operation::get_account_authorization_details::GetAccountAuthorizationDetailsOutput;

/// Each listed role's description and maximum session duration, by name.
type RoleSettings = BTreeMap<String, (String, i32)>;

fn role_settings(listed: Vec<aws_sdk_iam::types::Role>) -> RoleSettings {
    listed
        .into_iter()
        .map(|role| {
            let settings = (
                role.description.unwrap_or_default(),
                role.max_session_duration.unwrap_or(DEFAULT_MAX_SESSION_DURATION),
            );
            (role.role_name, settings)
        })
        .collect()
}

/// A role of the details listing with its settings from ListRoles, by name;
/// none when it lacks a name or ARN or is not in ListRoles.
fn detailed_role(
    role: aws_sdk_iam::types::RoleDetail,
    settings: &mut RoleSettings,
) -> AwsResult<Option<(String, RoleState)>> {
    let (Some(name), Some(arn)) = (role.role_name, role.arn) else {
        return Ok(None);
    };
    // A role made between the two listings is read again when needed.
    let Some((description, max_session_duration)) = settings.remove(&name) else {
        return Ok(None);
    };
    let state = RoleState {
        arn,
        trust_policy: document_or_null(
            "GetAccountAuthorizationDetails",
            role.assume_role_policy_document.as_deref(),
        )?,
        description,
        max_session_duration,
        permissions_boundary_arn: boundary_arn(role.permissions_boundary),
        tags: tag_map(role.tags),
        managed_policy_arns: attached_arns(role.attached_managed_policies),
        inline_policies: detailed_documents(role.role_policy_list)?,
    };
    Ok(Some((name, state)))
}

/// A group of the details listing, by name, its members still to be filled in.
fn detailed_group(group: aws_sdk_iam::types::GroupDetail) -> AwsResult<Option<(String, GroupState)>> {
    let (Some(name), Some(arn)) = (group.group_name, group.arn) else {
        return Ok(None);
    };
    let state = GroupState {
        arn,
        members: BTreeSet::new(),
        managed_policy_arns: attached_arns(group.attached_managed_policies),
        inline_policies: detailed_documents(group.group_policy_list)?,
    };
    Ok(Some((name, state)))
}

/// A customer-managed policy of the details listing, by name.
fn detailed_policy(policy: aws_sdk_iam::types::ManagedPolicyDetail) -> AwsResult<Option<(String, ManagedPolicyState)>> {
    let (Some(arn), Some(default_version)) = (policy.arn, policy.default_version_id) else {
        return Ok(None);
    };
    // Some emulators leave the name out; the ARN ends in it.
    let name = policy.policy_name.unwrap_or_else(|| policy_name(&arn).to_owned());
    let versions = policy.policy_version_list.unwrap_or_default();
    let default_document = versions
        .iter()
        .find(|version| version.version_id.as_deref() == Some(default_version.as_str()))
        .and_then(|version| version.document.as_deref());
    let state = ManagedPolicyState {
        arn,
        description: policy.description.unwrap_or_default(),
        document: document_or_null("GetAccountAuthorizationDetails", default_document)?,
        default_version,
        versions: oldest_first(versions.into_iter().filter_map(|version| version.version_id)),
        tags: None,
    };
    Ok(Some((name, state)))
}

/// Reads each named inline policy concurrently (a role or group has a handful:
/// IAM caps their total size); one deleted between listing and reading is gone.
async fn inline_documents<F, Fut>(
    operation: &'static str,
    names: Vec<String>,
    fetch: F,
) -> AwsResult<BTreeMap<String, Value>>
where
    F: Fn(String) -> Fut,
    Fut: Future<Output = AwsResult<String>>,
{
    let documents = futures::future::try_join_all(names.into_iter().map(|name| {
        let fetched = fetch(name.clone());
        async move {
            match absent_if_not_found(fetched.await)? {
                Some(raw) => Ok(Some((name, decode_document(operation, &raw)?))),
                None => Ok(None),
            }
        }
    }))
    .await?;
    Ok(documents.into_iter().flatten().collect())
}

/// Version ids (`v1`, `v2`, ...) in the order AWS made them.
fn oldest_first(ids: impl Iterator<Item = String>) -> Vec<String> {
    let mut ids: Vec<String> = ids.collect();
    ids.sort_by_key(|id| id.trim_start_matches('v').parse::<u64>().unwrap_or(u64::MAX));
    ids
}

/// A document as IAM returns it (URL-encoded), decoded; absent is null.
fn document_or_null(operation: &'static str, raw: Option<&str>) -> AwsResult<Value> {
    Ok(raw
        .map(|raw| decode_document(operation, raw))
        .transpose()?
        .unwrap_or_default())
}

fn boundary_arn(boundary: Option<aws_sdk_iam::types::AttachedPermissionsBoundary>) -> Option<String> {
    boundary.and_then(|boundary| boundary.permissions_boundary_arn)
}

fn tag_map(tags: Option<Vec<aws_sdk_iam::types::Tag>>) -> BTreeMap<String, String> {
    tags.unwrap_or_default()
        .into_iter()
        .map(|tag| (tag.key, tag.value))
        .collect()
}

fn attached_arns(attached: Option<Vec<aws_sdk_iam::types::AttachedPolicy>>) -> BTreeSet<String> {
    attached
        .unwrap_or_default()
        .into_iter()
        .filter_map(|policy| policy.policy_arn)
        .collect()
}

/// The inline policies a details listing carries, decoded.
fn detailed_documents(policies: Option<Vec<aws_sdk_iam::types::PolicyDetail>>) -> AwsResult<BTreeMap<String, Value>> {
    policies
        .unwrap_or_default()
        .into_iter()
        .filter_map(|policy| Some((policy.policy_name?, policy.policy_document?)))
        .map(|(name, raw)| Ok((name, decode_document("GetAccountAuthorizationDetails", &raw)?)))
        .collect()
}

fn decode_document(operation: &'static str, raw: &str) -> AwsResult<Value> {
    decode_aws_document(raw).map_err(|error| {
        AwsError::new(
            AwsErrorKind::Other,
            operation,
            format!("AWS returned a policy document that cannot be read: {error}"),
        )
    })
}

/// An SDK time as the seam's timestamp.
fn timestamp(time: aws_sdk_iam::primitives::DateTime) -> Option<k8s_openapi::jiff::Timestamp> {
    k8s_openapi::jiff::Timestamp::new(time.secs(), i32::try_from(time.subsec_nanos()).unwrap_or(0)).ok()
}

fn absent_if_not_found<T>(result: AwsResult<T>) -> AwsResult<Option<T>> {
    match result {
        Ok(found) => Ok(Some(found)),
        Err(error) if error.kind == AwsErrorKind::NotFound => Ok(None),
        Err(error) => Err(error),
    }
}

fn to_sdk_tags<T>(
    operation: &'static str,
    tags: &BTreeMap<String, String>,
    build: impl Fn(&str, &str) -> Result<T, BuildError>,
) -> AwsResult<Vec<T>> {
    tags.iter()
        .map(|(key, value)| build(key, value))
        .collect::<Result<_, _>>()
        .map_err(|error| AwsError::new(AwsErrorKind::InvalidInput, operation, error.to_string()))
}

fn missing(operation: &'static str, what: &str) -> AwsError {
    AwsError::new(
        AwsErrorKind::Other,
        operation,
        format!("AWS answered without the {what}"),
    )
}

fn sdk_policy_type(policy_type: super::PolicyType) -> PolicyType {
    match policy_type {
        super::PolicyType::ServiceControlPolicy => PolicyType::ServiceControlPolicy,
    }
}

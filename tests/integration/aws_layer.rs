//! The AWS layer against moto: what the SDK implementation reads and writes,
//! how AWS errors arrive, how it reaches member accounts, and the fault wrapper.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use aws_access_operator::aws::sdk::SdkAws;
use aws_access_operator::aws::{
    Aws, AwsErrorKind, BillingAccess, CreateAccountState, Iam, NewAccount, NewPolicy, NewRole, OrgAccountState,
    PolicyType,
};
use serde_json::{Value, json};

use crate::support::fault::{Call, FaultyAws, ORGANIZATIONS};
use crate::support::moto::{ACCESS_ROLE, MANAGEMENT_ACCOUNT, Moto};

const READ_ONLY: &str = "arn:aws:iam::aws:policy/ReadOnlyAccess";
const CHANGE_PASSWORD: &str = "arn:aws:iam::aws:policy/IAMUserChangePassword";

fn trust_account(account_id: &str) -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"AWS": format!("arn:aws:iam::{account_id}:root")},
            "Action": "sts:AssumeRole",
            "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}
        }]
    })
}

fn deny_organizations() -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Deny", "Action": "organizations:*", "Resource": "*"}]
    })
}

fn tags(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(key, value)| (key.to_string(), value.to_string()))
        .collect()
}

fn new_role(name: &str) -> NewRole {
    NewRole {
        name: name.to_owned(),
        trust_policy: trust_account(MANAGEMENT_ACCOUNT).to_string(),
        description: "Full access for Alfie developers".to_owned(),
        max_session_duration: 7200,
        permissions_boundary_arn: None,
        tags: tags(&[("team", "alfie"), ("awsaccess.dev/owner", "alfie/alfie-full-access")]),
    }
}

async fn own_iam(aws: &dyn Aws) -> Arc<dyn Iam> {
    let own = aws.own_account_id().await.expect("own account");
    aws.iam(&own, ACCESS_ROLE).await.expect("own IAM")
}

#[tokio::test]
async fn role_reads_back_what_was_written() {
    let moto = Moto::start().await;
    let aws = SdkAws::new(&moto.sdk_config().await);
    let iam = own_iam(&aws).await;
    assert_eq!(
        aws.assume_role_calls(),
        0,
        "the operator's own account needs no AssumeRole"
    );

    assert_eq!(iam.get_role("AlfieFullAccess").await.expect("get"), None);
    let arn = iam.create_role(&new_role("AlfieFullAccess")).await.expect("create");
    assert_eq!(arn, format!("arn:aws:iam::{MANAGEMENT_ACCOUNT}:role/AlfieFullAccess"));
    iam.attach_role_policy("AlfieFullAccess", READ_ONLY)
        .await
        .expect("attach");
    iam.put_role_policy("AlfieFullAccess", "deny-org-changes", &deny_organizations().to_string())
        .await
        .expect("put inline");

    let role = iam.get_role("AlfieFullAccess").await.expect("get").expect("exists");
    assert_eq!(role.arn, arn);
    assert_eq!(
        role.trust_policy,
        trust_account(MANAGEMENT_ACCOUNT),
        "decoded from IAM's URL encoding"
    );
    assert_eq!(role.description, "Full access for Alfie developers");
    assert_eq!(role.max_session_duration, 7200);
    assert_eq!(role.permissions_boundary_arn, None);
    assert_eq!(role.tags, new_role("AlfieFullAccess").tags);
    assert_eq!(role.managed_policy_arns, BTreeSet::from([READ_ONLY.to_owned()]));
    assert_eq!(
        role.inline_policies,
        BTreeMap::from([("deny-org-changes".to_owned(), deny_organizations())])
    );
}

#[tokio::test]
async fn each_change_to_a_role_reads_back_until_it_is_deleted() {
    let moto = Moto::start().await;
    let aws = SdkAws::new(&moto.sdk_config().await);
    let iam = own_iam(&aws).await;
    iam.create_role(&new_role("Deploy")).await.expect("create");
    iam.attach_role_policy("Deploy", READ_ONLY).await.expect("attach");
    iam.put_role_policy("Deploy", "deny", &deny_organizations().to_string())
        .await
        .expect("put inline");

    iam.update_trust_policy("Deploy", &trust_account("210987654321").to_string())
        .await
        .expect("trust");
    iam.update_role("Deploy", "", 3600).await.expect("update");
    iam.put_permissions_boundary("Deploy", READ_ONLY)
        .await
        .expect("boundary");
    iam.tag_role("Deploy", &tags(&[("env", "qa")])).await.expect("tag");
    iam.untag_role("Deploy", &["team".to_owned()]).await.expect("untag");
    let role = iam.get_role("Deploy").await.expect("get").expect("exists");
    assert_eq!(role.trust_policy, trust_account("210987654321"));
    assert_eq!(role.description, "");
    assert_eq!(role.max_session_duration, 3600);
    assert_eq!(role.permissions_boundary_arn.as_deref(), Some(READ_ONLY));
    assert_eq!(
        role.tags,
        tags(&[("awsaccess.dev/owner", "alfie/alfie-full-access"), ("env", "qa")])
    );

    iam.delete_permissions_boundary("Deploy")
        .await
        .expect("remove boundary");
    iam.detach_role_policy("Deploy", READ_ONLY).await.expect("detach");
    iam.delete_role_policy("Deploy", "deny").await.expect("delete inline");
    let bare = iam.get_role("Deploy").await.expect("get").expect("exists");
    assert_eq!(bare.permissions_boundary_arn, None);
    assert!(bare.managed_policy_arns.is_empty() && bare.inline_policies.is_empty());

    iam.delete_role("Deploy").await.expect("delete");
    assert_eq!(iam.get_role("Deploy").await.expect("get"), None);
}

#[tokio::test]
async fn aws_errors_arrive_classified() {
    let moto = Moto::start().await;
    let aws = SdkAws::new(&moto.sdk_config().await);
    let iam = own_iam(&aws).await;

    let missing = iam.delete_role("Missing").await.expect_err("no such role");
    assert_eq!(missing.kind, AwsErrorKind::NotFound);
    assert_eq!(missing.operation, "DeleteRole");
    assert!(
        missing.to_string().starts_with("AWS DeleteRole failed: NoSuchEntity"),
        "{missing}"
    );

    iam.create_role(&new_role("Twice")).await.expect("first");
    let twice = iam.create_role(&new_role("Twice")).await.expect_err("second");
    assert_eq!(twice.kind, AwsErrorKind::AlreadyExists);
    assert_eq!(twice.kind.reason().as_str(), "AlreadyExists");
    assert!(!twice.kind.retryable());

    let rejected = iam
        .put_role_policy("Twice", "broken", r#"{"Statement": "nonsense"}"#)
        .await
        .expect_err("malformed");
    assert_eq!(rejected.kind, AwsErrorKind::MalformedPolicy);
    assert_eq!(rejected.kind.reason().as_str(), "PolicyRejected");

    let no_policy = iam
        .attach_role_policy("Twice", "arn:aws:iam::aws:policy/NoSuchPolicy")
        .await
        .expect_err("absent");
    assert_eq!(no_policy.kind, AwsErrorKind::NotFound);
}

#[tokio::test]
async fn a_groups_members_and_policies_read_back_and_a_missing_user_is_absent() {
    let moto = Moto::start().await;
    let config = moto.sdk_config().await;
    let admin = aws_sdk_iam::Client::new(&config);
    for user in ["alice", "bob"] {
        admin.create_user().user_name(user).send().await.expect("create user");
    }
    let aws = SdkAws::new(&config);
    let iam = own_iam(&aws).await;

    assert_eq!(iam.get_group("alfie-developers").await.expect("get"), None);
    let arn = iam.create_group("alfie-developers").await.expect("create");
    assert_eq!(arn, format!("arn:aws:iam::{MANAGEMENT_ACCOUNT}:group/alfie-developers"));
    iam.add_user_to_group("alfie-developers", "alice")
        .await
        .expect("add alice");
    iam.add_user_to_group("alfie-developers", "bob").await.expect("add bob");
    iam.attach_group_policy("alfie-developers", CHANGE_PASSWORD)
        .await
        .expect("attach");
    iam.put_group_policy("alfie-developers", "deny", &deny_organizations().to_string())
        .await
        .expect("inline");

    let group = iam.get_group("alfie-developers").await.expect("get").expect("exists");
    assert_eq!(group.arn, arn);
    assert_eq!(group.members, BTreeSet::from(["alice".to_owned(), "bob".to_owned()]));
    assert_eq!(group.managed_policy_arns, BTreeSet::from([CHANGE_PASSWORD.to_owned()]));
    assert_eq!(
        group.inline_policies,
        BTreeMap::from([("deny".to_owned(), deny_organizations())])
    );

    let users = iam
        .user_arns(&["alice".to_owned(), "bob".to_owned(), "mallory".to_owned()])
        .await
        .expect("user arns");
    assert_eq!(
        users,
        BTreeMap::from([
            (
                "alice".to_owned(),
                format!("arn:aws:iam::{MANAGEMENT_ACCOUNT}:user/alice")
            ),
            ("bob".to_owned(), format!("arn:aws:iam::{MANAGEMENT_ACCOUNT}:user/bob")),
        ]),
        "a user that does not exist is absent, not an error"
    );

    iam.remove_user_from_group("alfie-developers", "bob")
        .await
        .expect("remove bob");
    iam.detach_group_policy("alfie-developers", CHANGE_PASSWORD)
        .await
        .expect("detach");
    iam.delete_group_policy("alfie-developers", "deny")
        .await
        .expect("delete inline");
    let group = iam.get_group("alfie-developers").await.expect("get").expect("exists");
    assert_eq!(group.members, BTreeSet::from(["alice".to_owned()]));
    assert!(group.managed_policy_arns.is_empty() && group.inline_policies.is_empty());

    iam.remove_user_from_group("alfie-developers", "alice")
        .await
        .expect("remove alice");
    iam.delete_group("alfie-developers").await.expect("delete");
    assert_eq!(iam.get_group("alfie-developers").await.expect("get"), None);
}

#[tokio::test]
async fn member_account_iam_goes_through_one_cached_assume_role() {
    let moto = Moto::start().await;
    moto.create_organization().await;
    let member = moto.create_member_account("alfie-dev").await;
    let aws = SdkAws::new(&moto.sdk_config().await);

    // Reconciles of several objects in one account, some at the same moment.
    let concurrent = futures::future::try_join_all((0..4).map(|_| aws.iam(&member, ACCESS_ROLE)))
        .await
        .expect("iam");
    let iam = aws.iam(&member, ACCESS_ROLE).await.expect("iam again");
    assert_eq!(concurrent.len(), 4);
    assert_eq!(
        aws.assume_role_calls(),
        1,
        "one AssumeRole per account, shared and cached"
    );

    let arn = iam
        .create_role(&new_role("AlfieFullAccess"))
        .await
        .expect("create in member");
    assert_eq!(arn, format!("arn:aws:iam::{member}:role/AlfieFullAccess"));
    let seen_by_member_admin = moto
        .member_iam(&member)
        .await
        .get_role()
        .role_name("AlfieFullAccess")
        .send()
        .await;
    assert_eq!(
        seen_by_member_admin
            .expect("role in the member account")
            .role()
            .map(|role| role.arn()),
        Some(arn.as_str())
    );
    assert_eq!(
        own_iam(&aws).await.get_role("AlfieFullAccess").await.expect("get"),
        None,
        "nothing lands in the operator's own account"
    );
    assert_eq!(aws.assume_role_calls(), 1);
}

#[tokio::test]
async fn an_account_is_created_tagged_moved_between_units_and_closed() {
    let moto = Moto::start().await;
    let root = moto.create_organization().await;
    let aws = SdkAws::new(&moto.sdk_config().await);
    let organizations = aws.organizations();
    assert_eq!(organizations.root_id().await.expect("root"), root);

    let request_id = organizations
        .create_account(&NewAccount {
            name: "alfie-development".to_owned(),
            email: "aws+alfie-dev@example.com".to_owned(),
            access_role_name: ACCESS_ROLE.to_owned(),
            iam_user_access_to_billing: BillingAccess::Allow,
            tags: tags(&[("team", "alfie")]),
        })
        .await
        .expect("create account");
    let status = organizations
        .describe_create_account_status(&request_id)
        .await
        .expect("status");
    assert_eq!(
        (status.request_id.as_str(), &status.state),
        (request_id.as_str(), &CreateAccountState::Succeeded)
    );
    assert_eq!(status.account_name, "alfie-development");
    assert_eq!(status.failure_reason, None);
    let account_id = status.account_id.expect("account id");
    let succeeded = organizations
        .list_create_account_status(&[CreateAccountState::Succeeded])
        .await
        .expect("list statuses");
    assert!(
        succeeded.iter().any(|listed| listed.request_id == request_id),
        "{succeeded:?}"
    );

    let account = organizations
        .describe_account(&account_id)
        .await
        .expect("describe")
        .expect("member");
    assert_eq!(
        (account.name.as_str(), account.email.as_str()),
        ("alfie-development", "aws+alfie-dev@example.com")
    );
    assert_eq!(account.state, OrgAccountState::Active);
    assert!(organizations.list_accounts().await.expect("list").contains(&account));
    assert_eq!(
        organizations.describe_account("000000000000").await.expect("describe"),
        None
    );

    assert_eq!(
        organizations.list_tags(&account_id).await.expect("tags"),
        tags(&[("team", "alfie")])
    );
    organizations
        .tag_resource(&account_id, &tags(&[("env", "dev")]))
        .await
        .expect("tag");
    organizations
        .untag_resource(&account_id, &["team".to_owned()])
        .await
        .expect("untag");
    assert_eq!(
        organizations.list_tags(&account_id).await.expect("tags"),
        tags(&[("env", "dev")])
    );

    let admin = aws_sdk_organizations::Client::new(&moto.sdk_config().await);
    let workloads = admin
        .create_organizational_unit()
        .parent_id(&root)
        .name("Workloads")
        .send()
        .await
        .expect("create OU");
    let workloads_id = workloads
        .organizational_unit()
        .and_then(|unit| unit.id())
        .expect("OU id");
    let units = organizations.list_organizational_units(&root).await.expect("OUs");
    assert_eq!(
        units
            .iter()
            .map(|unit| (unit.id.as_str(), unit.name.as_str()))
            .collect::<Vec<_>>(),
        [(workloads_id, "Workloads")]
    );

    assert_eq!(organizations.parent_of(&account_id).await.expect("parent"), root);
    organizations
        .move_account(&account_id, &root, workloads_id)
        .await
        .expect("move");
    assert_eq!(
        organizations.parent_of(&account_id).await.expect("parent"),
        workloads_id
    );

    organizations.close_account(&account_id).await.expect("close");
    let closed = organizations
        .describe_account(&account_id)
        .await
        .expect("describe")
        .expect("still listed");
    assert_eq!(closed.state, OrgAccountState::Suspended);
}

#[tokio::test]
async fn units_and_service_control_policies_are_created_attached_and_deleted() {
    let moto = Moto::start().await;
    let root = moto.create_organization().await;
    let organizations = SdkAws::new(&moto.sdk_config().await).organizations();

    let unit = organizations
        .create_organizational_unit(&root, "Workloads", &tags(&[("env", "prod")]))
        .await
        .expect("create OU");
    assert!(unit.arn.ends_with(&unit.id), "{unit:?}");
    assert_eq!(
        organizations.list_tags(&unit.id).await.expect("tags"),
        tags(&[("env", "prod")])
    );
    organizations
        .rename_organizational_unit(&unit.id, "Production")
        .await
        .expect("rename");
    let described = organizations
        .describe_organizational_unit(&unit.id)
        .await
        .expect("describe")
        .expect("exists");
    assert_eq!(
        (described.id.as_str(), described.name.as_str()),
        (unit.id.as_str(), "Production")
    );
    assert_eq!(
        organizations
            .describe_organizational_unit("ou-abcd-abcdefgh")
            .await
            .expect("describe"),
        None
    );
    let member = moto.create_member_account("shop-prod").await;
    organizations
        .move_account(&member, &root, &unit.id)
        .await
        .expect("move");
    assert_eq!(
        organizations.list_child_accounts(&unit.id).await.expect("children"),
        std::slice::from_ref(&member)
    );

    assert_eq!(
        organizations.enabled_policy_types().await.expect("types"),
        BTreeSet::new()
    );
    organizations
        .enable_policy_type(&root, PolicyType::ServiceControlPolicy)
        .await
        .expect("enable");
    // Enabled already: what was asked for holds.
    organizations
        .enable_policy_type(&root, PolicyType::ServiceControlPolicy)
        .await
        .expect("enable again");
    assert_eq!(
        organizations.enabled_policy_types().await.expect("types"),
        [PolicyType::ServiceControlPolicy].into()
    );

    let policy = NewPolicy {
        name: "NoLeaving".to_owned(),
        description: "Stay".to_owned(),
        content: deny_organizations().to_string(),
        tags: tags(&[("team", "platform")]),
    };
    let created = organizations
        .create_policy(PolicyType::ServiceControlPolicy, &policy)
        .await
        .expect("create policy");
    let duplicate = organizations
        .create_policy(PolicyType::ServiceControlPolicy, &policy)
        .await
        .expect_err("a second policy of the name");
    assert_eq!(duplicate.kind, AwsErrorKind::AlreadyExists);
    let listed = organizations
        .list_policies(PolicyType::ServiceControlPolicy)
        .await
        .expect("list");
    assert!(listed.iter().any(|p| p.name == "FullAWSAccess" && p.aws_managed));
    assert!(listed.contains(&created), "{listed:?}");
    let read = organizations
        .describe_policy(&created.id)
        .await
        .expect("describe")
        .expect("exists");
    assert_eq!(read.content, deny_organizations());
    assert_eq!(
        organizations.list_tags(&created.id).await.expect("tags"),
        tags(&[("team", "platform")])
    );
    organizations
        .update_policy(
            &created.id,
            &NewPolicy {
                description: "Still stay".to_owned(),
                ..policy
            },
        )
        .await
        .expect("update");

    organizations
        .attach_policy(&created.id, &unit.id)
        .await
        .expect("attach");
    organizations.attach_policy(&created.id, &root).await.expect("attach");
    assert_eq!(
        organizations
            .list_targets_for_policy(&created.id)
            .await
            .expect("targets"),
        [unit.id.clone(), root.clone()].into()
    );
    organizations.detach_policy(&created.id, &root).await.expect("detach");
    let in_use = organizations
        .delete_policy(&created.id)
        .await
        .expect_err("attached still");
    assert!(in_use.kind.retryable(), "{in_use:?}");
    organizations
        .detach_policy(&created.id, &unit.id)
        .await
        .expect("detach");
    organizations.delete_policy(&created.id).await.expect("delete");
    assert_eq!(
        organizations.describe_policy(&created.id).await.expect("describe"),
        None
    );

    organizations
        .move_account(&member, &unit.id, &root)
        .await
        .expect("move out");
    organizations
        .delete_organizational_unit(&unit.id)
        .await
        .expect("delete OU");
    assert_eq!(
        organizations
            .describe_organizational_unit(&unit.id)
            .await
            .expect("describe"),
        None
    );
}

#[tokio::test]
async fn faulty_aws_logs_calls_and_injects_failures() {
    let moto = Moto::start().await;
    moto.create_organization().await;
    let member = moto.create_member_account("alfie-qa").await;
    let faulty = FaultyAws::new(Arc::new(SdkAws::new(&moto.sdk_config().await)));
    let iam = faulty.iam(&member, ACCESS_ROLE).await.expect("iam");

    faulty.fail_next("CreateRole", AwsErrorKind::Throttled, 1);
    let throttled = iam.create_role(&new_role("Retried")).await.expect_err("injected");
    assert!(throttled.kind.retryable());
    assert_eq!(
        iam.get_role("Retried").await.expect("get"),
        None,
        "an injected failure never reaches AWS"
    );
    iam.create_role(&new_role("Retried")).await.expect("second try");
    assert!(iam.get_role("Retried").await.expect("get").is_some());

    let create_role = Call {
        account: member.clone(),
        operation: "CreateRole",
        write: true,
    };
    assert_eq!(faulty.writes(), [create_role.clone(), create_role]);
    assert_eq!(faulty.count("GetRole"), 2);
    assert_eq!(faulty.calls().first().map(|call| call.operation), Some("AssumeRole"));

    faulty.clear();
    faulty.organizations().list_accounts().await.expect("list");
    assert_eq!(
        faulty.calls(),
        [Call {
            account: ORGANIZATIONS.to_owned(),
            operation: "ListAccounts",
            write: false
        }]
    );
}

#[tokio::test]
async fn pause_after_stops_the_caller_once_the_call_is_done() {
    let moto = Moto::start().await;
    moto.create_organization().await;
    let faulty = FaultyAws::new(Arc::new(SdkAws::new(&moto.sdk_config().await)));
    let paused = faulty.pause_after("CreateAccount");

    let organizations = faulty.organizations();
    let creator = tokio::spawn(async move {
        let account = NewAccount {
            name: "crash-test".to_owned(),
            email: "crash-test@example.com".to_owned(),
            access_role_name: ACCESS_ROLE.to_owned(),
            iam_user_access_to_billing: BillingAccess::Deny,
            tags: BTreeMap::new(),
        };
        organizations.create_account(&account).await
    });
    tokio::time::timeout(Duration::from_secs(30), paused)
        .await
        .expect("CreateAccount completed");

    let accounts = faulty.organizations().list_accounts().await.expect("list");
    assert!(
        accounts.iter().any(|account| account.name == "crash-test"),
        "AWS did the work"
    );
    assert!(!creator.is_finished(), "the caller never hears back");
    creator.abort();
}

/// The wrapper itself, without moto.
mod fault_wrapper {
    use std::time::Duration;

    use std::sync::Arc;

    use async_trait::async_trait;
    use aws_access_operator::aws::{Aws, AwsError, AwsErrorKind, AwsResult, Iam, Organizations};

    use crate::support::fault::{Call, FaultyAws};

    /// Answers who it is and nothing else: enough to drive the wrapper.
    struct Caller;

    #[async_trait]
    impl Aws for Caller {
        async fn own_account_id(&self) -> AwsResult<String> {
            Ok("123456789012".to_owned())
        }
        async fn iam(&self, _account_id: &str, _access_role: &str) -> AwsResult<Arc<dyn Iam>> {
            Err(AwsError::new(
                AwsErrorKind::AccessDenied,
                "AssumeRole",
                "not authorized",
            ))
        }
        async fn iam_for(&self, account_id: &str, access_role: &str, _requester: &str) -> AwsResult<Arc<dyn Iam>> {
            self.iam(account_id, access_role).await
        }
        fn organizations(&self) -> Arc<dyn Organizations> {
            unreachable!("these tests do not use Organizations")
        }
    }

    #[tokio::test]
    async fn injected_failures_run_out_and_every_call_is_logged() {
        let aws = FaultyAws::new(Arc::new(Caller));
        aws.fail_next("GetCallerIdentity", AwsErrorKind::Throttled, 2);

        for _ in 0..2 {
            let error = aws.own_account_id().await.expect_err("injected");
            assert_eq!(error.kind, AwsErrorKind::Throttled);
            assert_eq!(error.operation, "GetCallerIdentity");
        }
        assert_eq!(aws.own_account_id().await.expect("passes again"), "123456789012");
        assert_eq!(aws.count("GetCallerIdentity"), 3);
        assert!(aws.writes().is_empty());

        let denied = aws
            .iam("210987654321", "OrganizationAccountAccessRole")
            .await
            .err()
            .expect("denied");
        assert_eq!(denied.kind, AwsErrorKind::AccessDenied);
        assert_eq!(
            aws.calls().last(),
            Some(&Call {
                account: "210987654321".to_owned(),
                operation: "AssumeRole",
                write: false
            })
        );

        aws.clear();
        assert!(aws.calls().is_empty());
    }

    #[tokio::test]
    async fn a_paused_call_completes_then_blocks_its_caller_once() {
        let aws = FaultyAws::new(Arc::new(Caller));
        let paused = aws.pause_after("GetCallerIdentity");

        let caller = tokio::spawn({
            let aws = aws.clone();
            async move { aws.own_account_id().await }
        });
        tokio::time::timeout(Duration::from_secs(5), paused)
            .await
            .expect("the call completed");
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!caller.is_finished(), "the caller must stay blocked");
        caller.abort();

        // One pause per request: the next caller goes through.
        assert_eq!(aws.own_account_id().await.expect("not paused"), "123456789012");
    }
}

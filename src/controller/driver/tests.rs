//! Each branch of the driver (`owned::converge` and `cleanup`, and the
//! Organizations sibling), through the real reconcile of CrossAccountRole and
//! OrganizationalUnit: AWS in memory (`aws::fake`) behind the inventory the
//! operator runs with, Kubernetes in process (kube-testserver), so that each
//! test takes milliseconds and says what AWS holds and what the status says.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use kube::{Client, ResourceExt};
use kube_testserver::TestServer;
use serde_json::{Value, json};

use super::{FINALIZER, Reconciler, reconcile};
use crate::api::{
    AwsAccount, CrossAccountRole, DeveloperGroup, OrganizationalUnit, Ownership, ReconcileStatus, ServiceControlPolicy,
    ServiceControlPolicyStatus,
};
use crate::aws::fake::{Call, FakeAws, FakeIam, Fault, ORGANIZATIONS};
use crate::aws::inventory::Inventoried;
use crate::aws::{Aws, AwsErrorKind, Iam, NewRole, RoleState};
use crate::controller::context::{Config, Context, Stores};
use crate::controller::cross_account_role::REVOKE_POLICY_NAME;
use crate::controller::error::Result;
use crate::controller::index::Cache;
use crate::controller::ownership::OWNER_TAG;
use crate::controller::testing::cluster;
use crate::policy::sessions::{deny_sessions_issued_before, issued_before};

/// The operator's own account, the organization's management account.
const OWN: &str = "111111111111";
/// Where the roles live: an account open to every namespace, adoption allowed.
const MEMBER: &str = "222222222222";
const NAMESPACE: &str = "team";
const POLICY_ARN: &str = "arn:aws:iam::222222222222:policy/AppPolicy";
const READ_ONLY: &str = "arn:aws:iam::aws:policy/ReadOnlyAccess";

struct Harness {
    _kube: TestServer,
    client: Client,
    aws: FakeAws,
    ctx: Arc<Context>,
}

impl Harness {
    async fn start() -> Self {
        let (kube, client) = cluster(&[NAMESPACE]).await;
        let aws = FakeAws::new(OWN);
        let ctx = context(&client, &aws, Config::default(), []);
        Harness {
            _kube: kube,
            client,
            aws,
            ctx,
        }
    }

    /// The same Kubernetes and AWS, the operator now seeing `groups` and
    /// running with `config`.
    fn seeing(&mut self, groups: impl IntoIterator<Item = DeveloperGroup>, config: Config) {
        self.ctx = context(&self.client, &self.aws, config, groups);
    }

    fn roles(&self) -> Api<CrossAccountRole> {
        Api::namespaced(self.client.clone(), NAMESPACE)
    }

    fn units(&self) -> Api<OrganizationalUnit> {
        Api::all(self.client.clone())
    }

    fn member(&self) -> FakeIam {
        self.aws.iam_in(MEMBER)
    }

    /// One reconcile of the object as the API server has it now, as the controller runs it.
    async fn reconcile<K: Reconciler>(&self, api: &Api<K>, name: &str) -> Result<()> {
        let object = api.get(name).await.expect("object");
        reconcile(Arc::new(object), self.ctx.clone()).await.map(drop)
    }

    /// Creates the object and runs its first reconcile.
    async fn apply<K: Reconciler + serde::Serialize>(&self, api: &Api<K>, object: Value) -> Result<()> {
        let object: K = serde_json::from_value(object).expect("object");
        let name = object.name_any();
        api.create(&PostParams::default(), &object).await.expect("created");
        self.reconcile(api, &name).await
    }

    /// Deletes the object and runs the reconcile that cleans up after it.
    async fn delete<K: Reconciler>(&self, api: &Api<K>, name: &str) {
        api.delete(name, &DeleteParams::default()).await.expect("deleted");
        self.reconcile(api, name).await.expect("cleanup");
        assert!(api.get_opt(name).await.expect("read").is_none(), "{name} still there");
    }

    async fn status<K: Reconciler>(&self, api: &Api<K>, name: &str) -> K::Status {
        api.get(name).await.expect("object").status().cloned().expect("status")
    }

    /// The operations written to AWS since the last look, in order; the log starts afresh.
    fn written(&self) -> Vec<&'static str> {
        let writes = self
            .aws
            .writes()
            .into_iter()
            .map(|Call { operation, .. }| operation)
            .collect();
        self.aws.clear_calls();
        writes
    }

    /// Someone outside the operator makes a role in the member account.
    async fn foreign_role(&self, name: &str) {
        let role = NewRole {
            name: name.into(),
            trust_policy: json!({"Version": "2012-10-17", "Statement": []}).to_string(),
            description: "made by hand".into(),
            ..NewRole::default()
        };
        self.member().create_role(&role).await.expect("CreateRole");
        self.aws.clear_calls();
    }

    async fn role_in_aws(&self, name: &str) -> Option<RoleState> {
        self.member().get_role(name).await.expect("GetRole")
    }
}

/// What the reconciles read: the member account open to every namespace,
/// adoption allowed, and `groups`.
fn context(
    client: &Client,
    aws: &FakeAws,
    config: Config,
    groups: impl IntoIterator<Item = DeveloperGroup>,
) -> Arc<Context> {
    let account: AwsAccount = serde_json::from_value(json!({
        "apiVersion": "awsaccess.dev/v1alpha1",
        "kind": "AwsAccount",
        "metadata": {"name": "member"},
        "spec": {
            "accountName": "member",
            "email": "member@example.com",
            "accountId": MEMBER,
            "allowedNamespaces": ["*"],
            "guardrails": {"allowAdoption": true},
        },
        "status": {"accountId": MEMBER, "state": "Active"},
    }))
    .expect("AwsAccount");
    let inventoried = Inventoried::new(Arc::new(aws.clone()), config.resync_interval);
    let stores = Stores {
        accounts: Cache::of([account]),
        groups: Cache::of(groups),
        ..Stores::empty()
    };
    Arc::new(Context::new(
        client.clone(),
        Arc::new(inventoried),
        config,
        stores,
        Arc::default(),
    ))
}

/// The conditions that hold, and the reason they all carry.
fn report(reconcile: &ReconcileStatus) -> (Vec<&str>, &str) {
    let holding = reconcile.conditions.iter().filter(|c| c.status == "True");
    let reason = reconcile
        .conditions
        .first()
        .map(|c| c.reason.as_str())
        .unwrap_or_default();
    (holding.map(|c| c.type_.as_str()).collect(), reason)
}

/// The CrossAccountRole `app` for IAM role `App` in the member account,
/// trusting the operator's account, with a managed, a customer-managed and
/// an inline policy; `spec` adds or replaces fields of its spec.
fn role(spec: Value) -> Value {
    let document =
        json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]});
    let mut role = json!({
        "apiVersion": "awsaccess.dev/v1alpha1",
        "kind": "CrossAccountRole",
        "metadata": {"name": "app", "namespace": NAMESPACE},
        "spec": {
            "account": {"id": MEMBER},
            "roleName": "App",
            "trust": {"accounts": [{"id": OWN}]},
            "permissions": {
                "managedPolicyArns": [READ_ONLY],
                "customerManagedPolicies": [{"name": "AppPolicy", "document": document}],
                "inlinePolicies": [{"name": "s3", "document": document}],
            },
        },
    });
    for (field, value) in spec.as_object().expect("fields") {
        role["spec"][field] = value.clone();
    }
    role
}

fn owner_tag(role: &RoleState) -> Option<&str> {
    role.tags.get(OWNER_TAG).map(String::as_str)
}

const CREATE_AND_GRANT: [&str; 5] = [
    "CreateRole",
    "CreatePolicy",
    "AttachRolePolicy",
    "AttachRolePolicy",
    "PutRolePolicy",
];

#[tokio::test]
async fn a_role_is_created_from_nothing_then_granted_its_policies() {
    let h = Harness::start().await;
    h.apply(&h.roles(), role(json!({}))).await.expect("reconcile");
    assert_eq!(h.written(), CREATE_AND_GRANT);

    let status = h.status(&h.roles(), "app").await;
    assert_eq!(report(&status.reconcile), (vec!["Ready"], "Created"));
    assert_eq!(status.ownership, Some(Ownership::Created));
    assert_eq!(status.role_arn.as_deref(), Some("arn:aws:iam::222222222222:role/App"));
    assert_eq!(status.customer_managed_policy_arns, [POLICY_ARN]);
    let object = h.roles().get("app").await.expect("role");
    assert_eq!(object.finalizers(), [FINALIZER]);
    let role = h.role_in_aws("App").await.expect("role in AWS");
    assert_eq!(owner_tag(&role), Some("CrossAccountRole/team/app@default"));
    assert_eq!(
        role.managed_policy_arns,
        [POLICY_ARN, READ_ONLY].map(String::from).into()
    );
    assert_eq!(role.inline_policies.keys().collect::<Vec<_>>(), ["s3"]);
}

#[tokio::test]
async fn a_role_in_sync_costs_no_write() {
    let h = Harness::start().await;
    h.apply(&h.roles(), role(json!({}))).await.expect("reconcile");
    h.written();

    h.reconcile(&h.roles(), "app").await.expect("reconcile");
    assert_eq!(h.written(), Vec::<&str>::new());
    let status = h.status(&h.roles(), "app").await;
    assert_eq!(report(&status.reconcile), (vec!["Ready"], "InSync"));
}

#[tokio::test]
async fn observe_mode_reports_the_difference_and_writes_nothing() {
    let h = Harness::start().await;
    h.foreign_role("App").await;
    h.apply(&h.roles(), role(json!({"managementPolicy": "Observe"})))
        .await
        .expect("reconcile");
    assert_eq!(h.written(), Vec::<&str>::new());

    let status = h.status(&h.roles(), "app").await;
    assert_eq!(report(&status.reconcile), (vec![], "DriftDetected"));
    let message = &status.reconcile.conditions[0].message;
    assert!(message.contains("Manage would: update the trust policy"), "{message}");
    assert!(message.contains("create policy AppPolicy"), "{message}");
    assert_eq!(status.ownership, None);
    assert_eq!(h.role_in_aws("App").await.expect("role").description, "made by hand");
    let object = h.roles().get("app").await.expect("object");
    assert!(object.finalizers().is_empty(), "nothing to undo, so no finalizer");

    // Managed from now on: the finalizer comes before the first write.
    let managed = json!({"spec": {"managementPolicy": "Manage", "adoptExisting": true}});
    h.roles()
        .patch("app", &PatchParams::default(), &Patch::Merge(managed))
        .await
        .expect("patch");
    h.reconcile(&h.roles(), "app").await.expect("reconcile");
    let object = h.roles().get("app").await.expect("object");
    assert_eq!(object.finalizers(), [FINALIZER.to_string()]);
}

#[tokio::test]
async fn a_role_without_the_owner_tag_is_refused() {
    let h = Harness::start().await;
    h.foreign_role("App").await;
    h.apply(&h.roles(), role(json!({}))).await.expect("reconcile");
    assert_eq!(h.written(), Vec::<&str>::new());

    let status = h.status(&h.roles(), "app").await;
    assert_eq!(report(&status.reconcile), (vec!["Stalled"], "AlreadyExists"));
    assert_eq!(status.ownership, None);
    assert_eq!(owner_tag(&h.role_in_aws("App").await.expect("role")), None);
}

#[tokio::test]
async fn an_adopted_role_is_taken_over_and_released_on_deletion() {
    let h = Harness::start().await;
    h.foreign_role("App").await;
    h.apply(&h.roles(), role(json!({"adoptExisting": true})))
        .await
        .expect("reconcile");
    let written = h.written();
    assert!(!written.contains(&"CreateRole"), "{written:?}");
    assert!(written.contains(&"TagRole"), "{written:?}");
    let status = h.status(&h.roles(), "app").await;
    assert_eq!(status.ownership, Some(Ownership::Adopted));
    assert_eq!(report(&status.reconcile).0, ["Ready"]);
    assert!(owner_tag(&h.role_in_aws("App").await.expect("role")).is_some());

    h.delete(&h.roles(), "app").await;
    assert_eq!(h.written(), ["UntagRole"]);
    let kept = h.role_in_aws("App").await.expect("the role stays");
    assert_eq!(owner_tag(&kept), None);
}

#[tokio::test]
async fn a_create_whose_answer_was_lost_is_found_and_not_repeated() {
    let h = Harness::start().await;
    h.aws.inject(MEMBER, "CreateRole", Fault::Lost(AwsErrorKind::Transport));
    let lost = h.apply(&h.roles(), role(json!({}))).await;
    assert!(lost.is_err(), "a lost answer is retried with backoff");
    assert_eq!(h.written(), ["CreateRole"]);
    let status = h.status(&h.roles(), "app").await;
    assert_eq!(status.ownership, Some(Ownership::Created), "claimed before the call");
    assert_eq!(report(&status.reconcile), (vec!["Reconciling"], "AwsError"));

    h.reconcile(&h.roles(), "app").await.expect("reconcile");
    assert_eq!(h.written(), &CREATE_AND_GRANT[1..]);
    let status = h.status(&h.roles(), "app").await;
    // It finishes the creation: no drift, no Warning, nothing for a drift alert.
    assert_eq!(report(&status.reconcile), (vec!["Ready"], "Created"));
    assert_eq!(status.ownership, Some(Ownership::Created));
    assert_eq!(status.role_arn.as_deref(), Some("arn:aws:iam::222222222222:role/App"));
}

#[tokio::test]
async fn a_create_retried_after_its_answer_was_lost_reclaims_the_role() {
    let h = Harness::start().await;
    // NewResource, its answer lost, sent again: AWS says it exists.
    h.aws
        .inject(MEMBER, "CreateRole", Fault::Lost(AwsErrorKind::AlreadyExists));
    h.apply(&h.roles(), role(json!({}))).await.expect("reconcile");
    assert_eq!(h.written(), CREATE_AND_GRANT, "one create, then the rest");

    let status = h.status(&h.roles(), "app").await;
    assert_eq!(report(&status.reconcile).0, ["Ready"]);
    assert_eq!(status.ownership, Some(Ownership::Created));
    assert_eq!(status.role_arn.as_deref(), Some("arn:aws:iam::222222222222:role/App"));
    let role = h.role_in_aws("App").await.expect("role");
    assert_eq!(role.managed_policy_arns.len(), 2);
}

#[tokio::test]
async fn a_create_that_meets_someone_elses_new_role_is_refused_and_forgets_ownership() {
    let h = Harness::start().await;
    // The inventory reads the account before the other role is made.
    let iam = h
        .ctx
        .aws
        .iam(MEMBER, "OrganizationAccountAccessRole")
        .await
        .expect("iam");
    assert_eq!(iam.get_role("App").await.expect("GetRole"), None);
    h.foreign_role("App").await;

    h.apply(&h.roles(), role(json!({}))).await.expect("reconcile");
    assert_eq!(h.written(), ["CreateRole"]);
    let status = h.status(&h.roles(), "app").await;
    assert_eq!(report(&status.reconcile), (vec!["Stalled"], "AlreadyExists"));
    assert_eq!(status.ownership, None);
    let role = h.role_in_aws("App").await.expect("role");
    assert_eq!((owner_tag(&role), role.description.as_str()), (None, "made by hand"));
}

#[tokio::test]
async fn a_role_moved_to_another_name_deletes_the_old_one() {
    let h = Harness::start().await;
    let without_customer_policy = json!({"permissions": {"managedPolicyArns": [READ_ONLY]}});
    h.apply(&h.roles(), role(without_customer_policy))
        .await
        .expect("reconcile");
    h.written();

    let renamed = json!({"spec": {"roleName": "AppRenamed"}});
    h.roles()
        .patch("app", &PatchParams::default(), &Patch::Merge(renamed))
        .await
        .expect("patched");
    h.reconcile(&h.roles(), "app").await.expect("reconcile");
    assert_eq!(
        h.written(),
        ["DetachRolePolicy", "DeleteRole", "CreateRole", "AttachRolePolicy"]
    );
    assert_eq!(h.role_in_aws("App").await, None);
    assert!(h.role_in_aws("AppRenamed").await.is_some());
    let status = h.status(&h.roles(), "app").await;
    assert_eq!(status.role_name.as_deref(), Some("AppRenamed"));
    assert_eq!(report(&status.reconcile), (vec!["Ready"], "Created"));
}

#[tokio::test]
async fn a_role_moved_to_another_name_keeps_its_customer_managed_policy() {
    let h = Harness::start().await;
    h.apply(&h.roles(), role(json!({}))).await.expect("reconcile");
    let renamed = json!({"spec": {"roleName": "AppRenamed"}});
    h.roles()
        .patch("app", &PatchParams::default(), &Patch::Merge(renamed))
        .await
        .expect("patched");
    h.reconcile(&h.roles(), "app").await.expect("reconcile");

    let status = h.status(&h.roles(), "app").await;
    assert_eq!(report(&status.reconcile).0, ["Ready"]);
    let moved = h.role_in_aws("AppRenamed").await.expect("the renamed role");
    assert!(moved.managed_policy_arns.contains(POLICY_ARN));
}

#[tokio::test]
async fn deletion_deletes_the_role_after_what_is_attached_to_it() {
    let h = Harness::start().await;
    h.apply(&h.roles(), role(json!({}))).await.expect("reconcile");
    h.written();

    h.delete(&h.roles(), "app").await;
    assert_eq!(
        h.written(),
        [
            "DetachRolePolicy",
            "DetachRolePolicy",
            "DeleteRolePolicy",
            "DeleteRole",
            "DeletePolicy"
        ]
    );
    assert_eq!(h.role_in_aws("App").await, None);
    assert_eq!(h.member().get_policy(POLICY_ARN).await.expect("GetPolicy"), None);
}

#[tokio::test]
async fn deletion_with_retain_keeps_the_role_without_the_owner_tag() {
    let h = Harness::start().await;
    h.apply(&h.roles(), role(json!({"deletionPolicy": "Retain"})))
        .await
        .expect("reconcile");
    h.written();

    h.delete(&h.roles(), "app").await;
    assert_eq!(h.written(), ["UntagRole"]);
    let kept = h.role_in_aws("App").await.expect("the role stays");
    assert_eq!(owner_tag(&kept), None);
    assert_eq!(kept.managed_policy_arns.len(), 2, "its grants stay with it");
}

fn unit() -> Value {
    json!({
        "apiVersion": "awsaccess.dev/v1alpha1",
        "kind": "OrganizationalUnit",
        "metadata": {"name": "workloads"},
        "spec": {"ouName": "Workloads"},
    })
}

impl Harness {
    async fn units_in_aws(&self) -> Vec<crate::aws::OrganizationalUnit> {
        let orgs = self.aws.organizations();
        let root = orgs.root_id().await.expect("root");
        orgs.list_organizational_units(&root).await.expect("OUs")
    }
}

#[tokio::test]
async fn an_ou_is_created_once_then_costs_no_write() {
    let h = Harness::start().await;
    h.apply(&h.units(), unit()).await.expect("reconcile");
    assert_eq!(h.written(), ["CreateOrganizationalUnit"]);
    let status = h.status(&h.units(), "workloads").await;
    assert_eq!(report(&status.reconcile), (vec!["Ready"], "Created"));
    assert_eq!(status.ownership, Some(Ownership::Created));
    let units = h.units_in_aws().await;
    assert_eq!(units.len(), 1);
    assert_eq!(status.id.as_deref(), Some(units[0].id.as_str()));

    h.aws.clear_calls();
    h.reconcile(&h.units(), "workloads").await.expect("reconcile");
    assert_eq!(h.written(), Vec::<&str>::new());
}

#[tokio::test]
async fn an_ou_whose_create_answer_was_lost_is_found_by_its_name() {
    let h = Harness::start().await;
    h.aws.inject(
        ORGANIZATIONS,
        "CreateOrganizationalUnit",
        Fault::Lost(AwsErrorKind::Transport),
    );
    assert!(h.apply(&h.units(), unit()).await.is_err());
    h.written();

    h.reconcile(&h.units(), "workloads").await.expect("reconcile");
    assert_eq!(
        h.written(),
        Vec::<&str>::new(),
        "found, tagged as ours: nothing to write"
    );
    let status = h.status(&h.units(), "workloads").await;
    assert_eq!(report(&status.reconcile).0, ["Ready"]);
    assert_eq!(status.id.as_deref(), Some(h.units_in_aws().await[0].id.as_str()));
}

#[tokio::test]
async fn an_ou_create_retried_after_its_answer_was_lost_is_looked_up_once() {
    let h = Harness::start().await;
    h.aws.inject(
        ORGANIZATIONS,
        "CreateOrganizationalUnit",
        Fault::Lost(AwsErrorKind::AlreadyExists),
    );
    h.apply(&h.units(), unit()).await.expect("reconcile");
    assert_eq!(
        h.aws.count("ListOrganizationalUnitsForParent"),
        2,
        "one look before, one after"
    );
    assert_eq!(h.written(), ["CreateOrganizationalUnit"]);
    let status = h.status(&h.units(), "workloads").await;
    assert_eq!(report(&status.reconcile).0, ["Ready"]);
    assert_eq!(status.ownership, Some(Ownership::Created));
    assert_eq!(status.id.as_deref(), Some(h.units_in_aws().await[0].id.as_str()));
}

#[tokio::test]
async fn an_ou_name_taken_out_of_sight_is_reported_not_retried_for_ever() {
    let h = Harness::start().await;
    // AWS holds the name under the root, and lists it nowhere the operator looks.
    for _ in 0..3 {
        h.aws.inject(
            ORGANIZATIONS,
            "CreateOrganizationalUnit",
            Fault::Fail(AwsErrorKind::AlreadyExists),
        );
    }
    h.apply(&h.units(), unit()).await.expect("reconcile");
    assert_eq!(
        h.aws.count("ListOrganizationalUnitsForParent"),
        2,
        "one look before, one after"
    );
    assert_eq!(h.written(), ["CreateOrganizationalUnit"]);
    let status = h.status(&h.units(), "workloads").await;
    assert_eq!(report(&status.reconcile), (vec!["Stalled"], "AlreadyExists"));
    assert_eq!(status.ownership, None, "nothing was made for it");
    assert!(h.units_in_aws().await.is_empty());
}

#[tokio::test]
async fn an_ou_deleted_with_its_object_goes_once_empty() {
    let h = Harness::start().await;
    let mut deleting = unit();
    deleting["spec"]["deletionPolicy"] = json!("Delete");
    h.apply(&h.units(), deleting).await.expect("reconcile");
    h.written();

    h.delete(&h.units(), "workloads").await;
    assert_eq!(h.written(), ["DeleteOrganizationalUnit"]);
    assert!(h.units_in_aws().await.is_empty());
}

fn scp() -> Value {
    json!({
        "apiVersion": "awsaccess.dev/v1alpha1",
        "kind": "ServiceControlPolicy",
        "metadata": {"name": "stay"},
        "spec": {
            "guardrails": {"denyLeavingOrganization": true},
            "targets": {"root": true},
            "deletionPolicy": "Delete",
        },
    })
}

impl Harness {
    fn policies(&self) -> Api<ServiceControlPolicy> {
        Api::all(self.client.clone())
    }

    /// The ids of the targets of the policy the status records.
    async fn targets_in_aws(&self, status: &ServiceControlPolicyStatus) -> BTreeSet<String> {
        let id = status.policy_id.as_deref().expect("policy id");
        self.aws
            .organizations()
            .list_targets_for_policy(id)
            .await
            .expect("targets")
    }
}

#[tokio::test]
async fn a_service_control_policy_is_created_and_attached_once_then_costs_no_write() {
    let h = Harness::start().await;
    h.apply(&h.policies(), scp()).await.expect("reconcile");
    assert_eq!(h.written(), ["EnablePolicyType", "CreatePolicy", "AttachPolicy"]);
    let status = h.status(&h.policies(), "stay").await;
    assert_eq!(report(&status.reconcile), (vec!["Ready"], "Created"));
    assert_eq!(status.ownership, Some(Ownership::Created));
    assert_eq!(h.targets_in_aws(&status).await, ["r-fake".to_owned()].into());
    h.written();

    h.reconcile(&h.policies(), "stay").await.expect("reconcile");
    assert_eq!(h.written(), Vec::<&str>::new());
}

#[tokio::test]
async fn a_service_control_policy_deleted_with_its_object_is_detached_first() {
    let h = Harness::start().await;
    h.apply(&h.policies(), scp()).await.expect("reconcile");
    let id = h.status(&h.policies(), "stay").await.policy_id.expect("policy id");
    h.written();

    h.delete(&h.policies(), "stay").await;
    assert_eq!(h.written(), ["DetachPolicy", "DeletePolicy"]);
    assert_eq!(h.aws.organizations().describe_policy(&id).await.expect("read"), None);
}

/// Not a driver branch: the fake refuses what AWS refuses, so a wrong order shows.
#[tokio::test]
async fn the_fake_refuses_to_delete_a_role_that_still_has_policies() {
    let aws = FakeAws::new(OWN);
    let iam = aws.iam_in(MEMBER);
    let role = NewRole {
        name: "App".into(),
        trust_policy: "{}".into(),
        ..NewRole::default()
    };
    iam.create_role(&role).await.expect("CreateRole");
    let again = iam.create_role(&role).await.expect_err("twice");
    assert_eq!(again.kind, AwsErrorKind::AlreadyExists);
    iam.attach_role_policy("App", READ_ONLY).await.expect("attach");
    let refused = iam.delete_role("app").await.expect_err("DeleteConflict");
    assert_eq!(refused.kind, AwsErrorKind::ConcurrentModification);
    iam.detach_role_policy("App", READ_ONLY).await.expect("detach");
    iam.delete_role("app")
        .await
        .expect("names are found regardless of case");
    assert_eq!(iam.get_role("App").await.expect("GetRole"), None);
    let gone = iam.delete_role("App").await.expect_err("NoSuchEntity");
    assert_eq!(gone.kind, AwsErrorKind::NotFound);
}

/// DeveloperGroup `devs` of `namespace`, granting role `app` of the test
/// namespace, whose status says `users` left at `left`. The reconciles see
/// it through their cache only.
fn group_with_leavers(namespace: &str, users: &[&str], left: Timestamp) -> DeveloperGroup {
    serde_json::from_value(json!({
        "apiVersion": "awsaccess.dev/v1alpha1",
        "kind": "DeveloperGroup",
        "metadata": {"name": "devs", "namespace": namespace},
        "spec": {"access": [{"role": {"name": "app", "namespace": NAMESPACE}}]},
        "status": {"lastRemoval": {"at": left.to_string(), "users": users}},
    }))
    .expect("DeveloperGroup")
}

fn seconds_ago(now: Timestamp, seconds: u64) -> Timestamp {
    issued_before(now.checked_sub(Duration::from_secs(seconds)).expect("time"))
}

#[tokio::test]
async fn a_member_leaving_denies_older_sessions_while_they_may_live_then_the_deny_is_lifted() {
    let mut h = Harness::start().await;
    let now = Timestamp::now();
    let (first, later) = (seconds_ago(now, 20), seconds_ago(now, 10));
    h.seeing([group_with_leavers(NAMESPACE, &["alice"], first)], Config::default());
    h.apply(&h.roles(), role(json!({}))).await.expect("reconcile");
    let deny = |role: &RoleState| role.inline_policies.get(REVOKE_POLICY_NAME).cloned();
    let role_in_aws = h.role_in_aws("App").await.expect("role");
    assert_eq!(deny(&role_in_aws), Some(deny_sessions_issued_before(first)));
    let denied = h.status(&h.roles(), "app").await.sessions_denied.expect("reported");
    assert_eq!(
        (denied.issued_before.0, denied.reason.as_str()),
        (first, "alice left devs")
    );
    assert_eq!(
        denied.until.0,
        first.checked_add(Duration::from_secs(3600)).expect("time")
    );

    // In sync while it holds: reads, no write; nor once the group is gone,
    // which never lifts the Deny early (the role's status keeps it).
    h.written();
    h.reconcile(&h.roles(), "app").await.expect("reconcile");
    h.seeing([], Config::default());
    h.reconcile(&h.roles(), "app").await.expect("reconcile");
    assert_eq!(h.written(), Vec::<&str>::new());
    let status = h.status(&h.roles(), "app").await;
    assert_eq!(report(&status.reconcile), (vec!["Ready"], "InSync"));
    let message = &status.reconcile.conditions[0].message;
    assert!(
        message.contains(&format!("sessions issued before {first} denied until")),
        "{message}"
    );

    // A later removal moves the date forward: an update, not drift.
    h.seeing([group_with_leavers(NAMESPACE, &["bob"], later)], Config::default());
    h.reconcile(&h.roles(), "app").await.expect("reconcile");
    assert_eq!(h.written(), ["PutRolePolicy"]);
    let status = h.status(&h.roles(), "app").await;
    assert_eq!(report(&status.reconcile), (vec!["Ready"], "Updated"));
    assert!(status.reconcile.conditions[0].message.contains(": bob left devs"));
    assert_eq!(
        deny(&h.role_in_aws("App").await.expect("role")),
        Some(deny_sessions_issued_before(later))
    );

    // Once every session it denies has expired (here they live 5 s), it goes, once.
    let short_sessions = Config {
        session_lifetime: Some(Duration::from_secs(5)),
        ..Config::default()
    };
    h.seeing([group_with_leavers(NAMESPACE, &["bob"], later)], short_sessions.clone());
    h.reconcile(&h.roles(), "app").await.expect("reconcile");
    h.reconcile(&h.roles(), "app").await.expect("reconcile");
    assert_eq!(h.written(), ["DeleteRolePolicy"]);
    assert_eq!(h.status(&h.roles(), "app").await.sessions_denied, None);
    assert_eq!(deny(&h.role_in_aws("App").await.expect("role")), None);
}

#[tokio::test]
async fn a_group_without_a_say_over_the_role_denies_none_of_its_sessions_nor_does_an_observed_role() {
    let mut h = Harness::start().await;
    let left = seconds_ago(Timestamp::now(), 10);
    // Another namespace's group grants the role, which does not trust it.
    h.seeing([group_with_leavers("other", &["alice"], left)], Config::default());
    h.apply(&h.roles(), role(json!({}))).await.expect("reconcile");
    let role_in_aws = h.role_in_aws("App").await.expect("role");
    assert!(!role_in_aws.inline_policies.contains_key(REVOKE_POLICY_NAME));
    assert_eq!(h.status(&h.roles(), "app").await.sessions_denied, None);

    // A role of its own namespace that only observes is never written, nor
    // told to: its difference is the spec's alone.
    h.seeing([group_with_leavers(NAMESPACE, &["alice"], left)], Config::default());
    let observe = json!({"spec": {"managementPolicy": "Observe"}});
    h.roles()
        .patch("app", &PatchParams::default(), &Patch::Merge(observe))
        .await
        .expect("patch");
    h.written();
    h.reconcile(&h.roles(), "app").await.expect("reconcile");
    assert_eq!(h.written(), Vec::<&str>::new());
    let status = h.status(&h.roles(), "app").await;
    assert_eq!(report(&status.reconcile), (vec!["Ready"], "InSync"));
}

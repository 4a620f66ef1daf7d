//! `plan` and `report` as users run them: the binary, with KUBECONFIG at
//! kube-testserver and AWS_ENDPOINT_URL at a counting proxy in front of
//! moto, on the seed 003 scenario the operator has applied.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use aws_access_operator::api::{CrossAccountRole, DeveloperGroup};
use aws_access_operator::aws::read_only::reads_only;
use kube::ResourceExt;
use kube::api::{Api, ListParams};
use serde_json::{Value, json};

use crate::support::aws::create_users;
use crate::support::moto::MANAGEMENT_ACCOUNT;
use crate::support::operator::{Env, condition};
use crate::support::wire::Wire;

/// The read-only role deploy/iam/read-role.yaml makes in every member account.
const READ_ROLE: &str = "AwsAccessOperatorReadOnly";

/// An account outside the organization, as a vendor's would be.
const OUTSIDE: &str = "999988887777";

/// The binary, as a user runs it, against the test's cluster and AWS.
pub struct Cli {
    pub kubeconfig: PathBuf,
    pub aws_endpoint: String,
    pub home: tempfile::TempDir,
}

pub struct Ran {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Cli {
    pub async fn run(&self, args: &[&str]) -> Ran {
        let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_aws-access-operator"))
            .args(args)
            // Only what is set here: no credentials, profile or endpoint of the machine.
            .env_clear()
            .env("HOME", self.home.path())
            .env("KUBECONFIG", &self.kubeconfig)
            .env("AWS_ENDPOINT_URL", &self.aws_endpoint)
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_REGION", "us-east-1")
            // The installation the tests' operator is (Config::default()),
            // whose owner tags plan must recognise as its own.
            .env("INSTALLATION_ID", "default")
            .stdin(Stdio::null())
            .output()
            .await
            .expect("run the operator binary");
        Ran {
            code: output.status.code().expect("exited, not killed"),
            stdout: String::from_utf8(output.stdout).expect("UTF-8 stdout"),
            stderr: String::from_utf8(output.stderr).expect("UTF-8 stderr"),
        }
    }

    async fn plan_json(&self, dir: &Path) -> (i32, Value) {
        let ran = self
            .run(&["plan", "-R", "-f", dir.to_str().expect("path"), "-o", "json"])
            .await;
        let plan = serde_json::from_str(&ran.stdout)
            .unwrap_or_else(|err| panic!("plan -o json: {err}\nstdout: {}\nstderr: {}", ran.stdout, ran.stderr));
        (ran.code, plan)
    }
}

fn role(name: &str, account: &str, role_name: &str, policy: &str, mfa: bool) -> String {
    format!(
        r#"
apiVersion: awsaccess.dev/v1alpha1
kind: CrossAccountRole
metadata: {{name: {name}, namespace: alfie}}
spec:
  account: {{id: "{account}"}}
  roleName: {role_name}
  trust:
    developerGroups: [{{name: alfie-developers}}]
    requireMfa: {mfa}
  permissions:
    managedPolicyArns: [arn:aws:iam::aws:policy/{policy}]
"#
    )
}

fn group(members: &str) -> String {
    format!(
        r#"
apiVersion: awsaccess.dev/v1alpha1
kind: DeveloperGroup
metadata: {{name: alfie-developers, namespace: alfie}}
spec:
  members: [{members}]
  access:
    - {{role: {{name: alfie-full-access}}, profile: alfie-development}}
    - {{role: {{name: alfie-deployment}}, profile: alfie-qa}}
    - {{role: {{name: alfie-read-only}}, profile: alfie-production}}
"#
    )
}

/// The seed 003 manifests as a repository would hold them: a directory
/// with a subdirectory, one file a stream of several documents.
fn write_manifests(dir: &Path, roles: &[String], group: &str) {
    std::fs::create_dir_all(dir.join("roles")).expect("dir");
    std::fs::write(
        dir.join("00-namespace.yaml"),
        include_str!("../fixtures/alfie-namespace.yaml"),
    )
    .expect("write");
    std::fs::write(dir.join("roles/roles.yaml"), roles.join("---\n")).expect("write");
    std::fs::write(dir.join("group.yml"), group).expect("write");
}

/// The changes `plan -o json` lists, by object name.
fn changes(plan: &Value) -> BTreeMap<String, Vec<String>> {
    plan["objects"]
        .as_array()
        .expect("objects")
        .iter()
        .filter(|o| !o["changes"].as_array().expect("changes").is_empty())
        .map(|o| {
            let changes = o["changes"].as_array().expect("changes");
            let described = changes
                .iter()
                .map(|c| c["change"].as_str().expect("change").to_owned())
                .collect();
            (o["name"].as_str().expect("name").to_owned(), described)
        })
        .collect()
}

async fn resource_versions(env: &Env) -> BTreeMap<String, String> {
    let roles: Api<CrossAccountRole> = Api::all(env.client.clone());
    let groups: Api<DeveloperGroup> = Api::all(env.client.clone());
    let mut versions = BTreeMap::new();
    for role in roles.list(&ListParams::default()).await.expect("roles").items {
        versions.insert(
            format!("role {}", role.name_any()),
            role.resource_version().unwrap_or_default(),
        );
    }
    for group in groups.list(&ListParams::default()).await.expect("groups").items {
        versions.insert(
            format!("group {}", group.name_any()),
            group.resource_version().unwrap_or_default(),
        );
    }
    versions
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plan_and_report_read_a_teams_roles_in_three_accounts_and_write_nothing() {
    let mut env = Env::start().await;
    env.moto.create_organization().await;
    let dev = env.moto.create_member_account("alfie-dev").await;
    let qa = env.moto.create_member_account("alfie-qa").await;
    let prod = env.moto.create_member_account("alfie-prod").await;
    env.open_accounts(&[("alfie-dev", &dev), ("alfie-qa", &qa), ("alfie-prod", &prod)])
        .await;
    create_users(&env, &["alice", "bob", "carol"]).await;
    let roles = [
        role(
            "alfie-full-access",
            &dev,
            "AlfieFullAccess",
            "AdministratorAccess",
            true,
        ),
        role("alfie-deployment", &qa, "AlfieDeployment", "PowerUserAccess", false),
        role("alfie-read-only", &prod, "AlfieReadOnly", "ReadOnlyAccess", false),
    ];
    let files = tempfile::tempdir().expect("temp dir");
    let manifests = files.path().join("alfie");
    write_manifests(&manifests, &roles, &group("alice, bob"));
    let applied: Vec<String> = ["00-namespace.yaml", "roles/roles.yaml", "group.yml"]
        .iter()
        .map(|file| std::fs::read_to_string(manifests.join(file)).expect("read"))
        .collect();
    env.apply(&applied.join("---\n")).await;
    let groups: Api<DeveloperGroup> = env.api(Some("alfie"));
    let roles_api: Api<CrossAccountRole> = env.api(Some("alfie"));
    for name in ["alfie-full-access", "alfie-deployment", "alfie-read-only"] {
        env.wait_for(&roles_api, name, "Ready", |r| {
            ready(r.status.as_ref().map(|s| &s.reconcile.conditions))
        })
        .await;
    }
    env.wait_for(&groups, "alfie-developers", "Ready", |g| {
        ready(g.status.as_ref().map(|s| &s.reconcile.conditions))
    })
    .await;
    // Stopped, so that whatever changes in the cluster or AWS from here on is
    // the commands' doing; a status write the operator sent just before it
    // stopped may still land, so the versions are taken once they hold still.
    env.stop_operator().await;
    let mut before = resource_versions(&env).await;
    loop {
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        let now = resource_versions(&env).await;
        if now == before {
            break;
        }
        before = now;
    }

    let wire = Wire::start(env.moto.endpoint()).await;
    let cli = Cli {
        kubeconfig: env.kube.kubeconfig_path().to_owned(),
        aws_endpoint: wire.endpoint(),
        home: tempfile::tempdir().expect("temp dir"),
    };

    // In sync: nothing to change.
    let ran = cli.run(&["plan", "-R", "-f", manifests.to_str().expect("path")]).await;
    assert_eq!(
        ran.code, 0,
        "plan of the applied manifests\n{}\n{}",
        ran.stdout, ran.stderr
    );
    assert_eq!(ran.stdout.matches("no change").count(), 4, "{}", ran.stdout);

    // A new member, a swapped managed policy: exactly those, and exit 2.
    let mut edited = roles.clone();
    edited[2] = role("alfie-read-only", &prod, "AlfieReadOnly", "ViewOnlyAccess", false);
    write_manifests(&manifests, &edited, &group("alice, bob, carol"));
    let (code, plan) = cli.plan_json(&manifests).await;
    assert_eq!(code, 2, "{plan:#}");
    assert_eq!(
        changes(&plan),
        BTreeMap::from([
            ("alfie-developers".to_string(), vec!["add carol".to_string()]),
            (
                "alfie-read-only".to_string(),
                vec![
                    "attach arn:aws:iam::aws:policy/ViewOnlyAccess".to_string(),
                    "detach arn:aws:iam::aws:policy/ReadOnlyAccess".to_string()
                ]
            ),
        ]),
        "{plan:#}"
    );
    let text = cli.run(&["plan", "-R", "-f", manifests.to_str().expect("path")]).await;
    assert_eq!(text.code, 2);
    assert!(
        text.stdout.contains(&format!("CrossAccountRole alfie/alfie-read-only: IAM role AlfieReadOnly in account {prod}\n  * attach arn:aws:iam::aws:policy/ViewOnlyAccess\n")),
        "{}",
        text.stdout
    );

    // A new role for a vendor outside the organization, its external ID in
    // a Secret of the files: a plain role may not trust outside the
    // organization where the account's guardrails do not allow it (only a
    // PartnerAccess may), and plan says so as the operator would, exit 1.
    let secret_value = "vendor-external-id-that-must-not-leak";
    let vendor = format!(
        r#"
apiVersion: v1
kind: Secret
metadata: {{name: vendor-external-id, namespace: alfie, labels: {{awsaccess.dev/external-id: "true"}}}}
stringData: {{externalId: {secret_value}}}
---
apiVersion: awsaccess.dev/v1alpha1
kind: CrossAccountRole
metadata: {{name: vendor, namespace: alfie}}
spec:
  account: {{id: "{dev}"}}
  roleName: VendorAccess
  trust:
    accounts: [{{id: "{OUTSIDE}"}}]
    externalIdSecretRef: {{name: vendor-external-id, key: externalId}}
"#
    );
    std::fs::write(manifests.join("roles/vendor.yaml"), &vendor).expect("write");
    let ran = cli
        .run(&["plan", "-R", "-f", manifests.to_str().expect("path"), "-o", "json"])
        .await;
    assert_eq!(ran.code, 1, "{}\n{}", ran.stdout, ran.stderr);
    assert!(
        !ran.stdout.contains(secret_value) && !ran.stderr.contains(secret_value),
        "the external ID is never printed:\n{}\n{}",
        ran.stdout,
        ran.stderr
    );
    let plan: Value = serde_json::from_str(&ran.stdout).expect("json");
    let vendor_plan = plan["objects"]
        .as_array()
        .expect("objects")
        .iter()
        .find(|o| o["name"] == "vendor")
        .expect("the vendor role is planned");
    let error = vendor_plan["error"].as_str().expect("an error");
    assert!(
        error.contains("spec.trust.accounts[0]")
            && error.contains(OUTSIDE)
            && error.contains("guardrails.trustOutsideOrganization"),
        "{vendor_plan:#}"
    );
    let created = vendor_plan["changes"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|c| c["change"] == "create role VendorAccess");
    assert!(!created, "nothing planned for a role that may not be: {vendor_plan:#}");
    std::fs::remove_file(manifests.join("roles/vendor.yaml")).expect("remove");

    // A new partner: planned with the role it would make, behind the external ID it would generate.
    let partner = format!(
        r#"
apiVersion: awsaccess.dev/v1alpha1
kind: PartnerAccess
metadata: {{name: sembit, namespace: alfie}}
spec:
  partner: {{name: Sembit, accountId: "{OUTSIDE}"}}
  accounts: [{{id: "{dev}"}}]
  permissions: {{managedPolicyArns: [arn:aws:iam::aws:policy/PowerUserAccess]}}
"#
    );
    std::fs::write(manifests.join("partner.yaml"), partner).expect("write");
    let (code, plan) = cli.plan_json(&manifests).await;
    assert_eq!(code, 2, "{plan:#}");
    let objects = plan["objects"].as_array().expect("objects");
    let partner = objects
        .iter()
        .find(|o| o["kind"] == "PartnerAccess")
        .expect("the partner is planned");
    assert_eq!(
        partner["notes"],
        json!(["the operator generates the external ID into Secret sembit-external-id"])
    );
    let child = objects
        .iter()
        .find(|o| o["via"] == "PartnerAccess alfie/sembit")
        .expect("the partner's role is planned");
    assert_eq!(child["kind"], "CrossAccountRole");
    assert_eq!(child["target"], format!("IAM role partner-sembit in account {dev}"));
    let created: Vec<&str> = child["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .map(|c| c["change"].as_str().expect("change"))
        .collect();
    assert_eq!(
        created,
        [
            "create role partner-sembit",
            "attach arn:aws:iam::aws:policy/PowerUserAccess"
        ]
    );
    let trust = child["changes"][0]["details"][0].as_str().expect("trust statement");
    assert!(trust.contains(OUTSIDE) && trust.contains("(secret)"), "{trust}");
    let secrets: Api<k8s_openapi::api::core::v1::Secret> = env.api(Some("alfie"));
    assert!(
        secrets.get_opt("sembit-external-id").await.expect("get").is_none(),
        "plan generates no Secret"
    );
    std::fs::remove_file(manifests.join("partner.yaml")).expect("remove");

    // A broken policy document: refused, naming the field, exit 1.
    let broken = role("alfie-deployment", &qa, "AlfieDeployment", "PowerUserAccess", false).replace(
        "  permissions:\n",
        r#"
  permissions:
    inlinePolicies:
      - name: odd
        document: {Version: "2012-10-17", Statement: [{Effect: Maybe, Action: "s3:*", Resource: "*"}]}
"#,
    );
    edited[1] = broken;
    write_manifests(&manifests, &edited, &group("alice, bob, carol"));
    let (code, plan) = cli.plan_json(&manifests).await;
    assert_eq!(code, 1, "{plan:#}");
    let refused = plan["objects"]
        .as_array()
        .expect("objects")
        .iter()
        .find(|o| o["name"] == "alfie-deployment")
        .expect("planned");
    let error = refused["error"].as_str().expect("an error");
    assert!(
        error.starts_with("spec.permissions.inlinePolicies[0].document: "),
        "{error}"
    );
    // A field of the wrong type is named too, before anything is read.
    std::fs::write(
        manifests.join("group.yml"),
        group("alice").replace("members:", "requireMfa: often\n  members:"),
    )
    .expect("write");
    let ran = cli.run(&["plan", "-R", "-f", manifests.to_str().expect("path")]).await;
    assert_eq!(ran.code, 1, "{}\n{}", ran.stdout, ran.stderr);
    assert!(
        ran.stderr.contains("DeveloperGroup: spec.requireMfa: "),
        "{}",
        ran.stderr
    );

    // A role made by hand, trusting an account outside the organization.
    env.moto
        .member_iam(&dev)
        .await
        .create_role()
        .role_name("HandMade")
        .assume_role_policy_document(
            json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{OUTSIDE}:root")}, "Action": "sts:AssumeRole"}]})
                .to_string(),
        )
        .send()
        .await
        .expect("CreateRole");
    // Entered through a read-only role of one name in every member account
    // (--read-role), never through the accounts' administrator access role.
    for member in [&dev, &qa, &prod] {
        env.moto
            .member_iam(member)
            .await
            .create_role()
            .role_name(READ_ROLE)
            .assume_role_policy_document(
                json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{MANAGEMENT_ACCOUNT}:root")}, "Action": "sts:AssumeRole"}]})
                    .to_string(),
            )
            .send()
            .await
            .expect("CreateRole of the read role");
    }
    let before_report = wire.tally();
    let assumed_before = wire.assumed_roles().len();
    let ran = cli.run(&["report", "-o", "json", "--read-role", READ_ROLE]).await;
    let assumed = wire.assumed_roles().split_off(assumed_before);
    assert!(!assumed.is_empty(), "the report read inside the member accounts");
    for arn in &assumed {
        assert!(
            arn.ends_with(&format!(":role/{READ_ROLE}")),
            "assumed {arn}: {assumed:?}"
        );
    }
    assert_eq!(ran.code, 0, "{}\n{}", ran.stdout, ran.stderr);
    let report: Value = serde_json::from_str(&ran.stdout).expect("report json");
    let roles_reported = report["roles"].as_array().expect("roles");
    let full = roles_reported
        .iter()
        .find(|r| r["arn"] == format!("arn:aws:iam::{dev}:role/AlfieFullAccess"))
        .expect("AlfieFullAccess reported");
    assert_eq!(full["accountId"], dev.as_str());
    assert_eq!(full["roleName"], "AlfieFullAccess");
    assert_eq!(full["managedBy"], "alfie/alfie-full-access");
    assert_eq!(
        full["trustedPrincipals"],
        json!([format!("arn:aws:iam::{MANAGEMENT_ACCOUNT}:root")])
    );
    assert_eq!(full["requiresMfa"], true);
    assert_eq!(full["requiresExternalId"], false);
    let assumers: Vec<&str> = full["assumableBy"]
        .as_array()
        .expect("assumableBy")
        .iter()
        .map(|a| a["user"].as_str().expect("user"))
        .collect();
    assert_eq!(
        assumers,
        ["alice", "bob"],
        "the group's members in AWS, not the edited files"
    );
    let read_only = roles_reported
        .iter()
        .find(|r| r["roleName"] == "AlfieReadOnly")
        .expect("AlfieReadOnly reported");
    assert_eq!(read_only["requiresMfa"], false);
    let hand_made = roles_reported
        .iter()
        .find(|r| r["roleName"] == "HandMade")
        .expect("the hand-made role is reported");
    assert_eq!(hand_made["managedBy"], Value::Null);
    let findings = report["findings"].as_array().expect("findings");
    let about_hand_made: Vec<&Value> = findings.iter().filter(|f| f["arn"] == hand_made["arn"]).collect();
    assert!(
        about_hand_made.iter().any(|f| f["severity"] == "high"
            && f["message"]
                .as_str()
                .is_some_and(|m| m.contains("outside the organization"))),
        "{findings:#?}"
    );
    assert!(
        findings.iter().all(|f| f["arn"] != full["arn"]),
        "nothing to say about a managed role in order: {findings:#?}"
    );

    let ran = cli.run(&["report", "-o", "svg"]).await;
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    let svg = roxmltree::Document::parse(&ran.stdout).expect("the SVG is XML");
    assert_eq!(svg.root_element().tag_name().name(), "svg");
    let texts: String = svg
        .descendants()
        .filter_map(|n| n.text())
        .collect::<Vec<_>>()
        .join("\n");
    for label in [
        "user alice",
        "group alfie-developers",
        "role AlfieFullAccess (alfie/alfie-full-access)",
        "role HandMade (unmanaged)",
        &format!("account {OUTSIDE} (outside)"),
    ] {
        assert!(texts.contains(label), "{label} in the graph:\n{texts}");
    }
    let markdown = cli.run(&["report"]).await;
    assert!(
        markdown.stdout.starts_with("# Who can assume what\n\n## Findings\n"),
        "{}",
        markdown.stdout
    );
    let csv = cli.run(&["report", "-o", "csv"]).await;
    assert!(
        csv.stdout
            .lines()
            .any(|l| l.contains(",AlfieFullAccess,") && l.contains("alfie/alfie-full-access")),
        "{}",
        csv.stdout
    );

    // Neither command wrote anything, in AWS or in Kubernetes.
    let tally = wire.tally();
    assert!(
        tally.calls() > before_report.calls(),
        "the commands read through the proxy"
    );
    let writes: Vec<&String> = tally.forwarded.keys().filter(|op| !reads_only(op)).collect();
    assert!(writes.is_empty(), "AWS writes: {writes:?}\n{tally}");
    assert_eq!(
        resource_versions(&env).await,
        before,
        "the cluster's objects are as they were"
    );
}

fn ready(conditions: Option<&Vec<k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition>>) -> bool {
    conditions.is_some_and(|c| condition(c, "Ready").is_some_and(|c| c.status == "True"))
}

/// Seed 002's kinds through `plan`: an OU to add under one the operator
/// made, and a policy whose guardrails and targets grow.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plan_lists_the_ou_and_service_control_policy_changes_and_writes_nothing() {
    use aws_access_operator::api::{OrganizationalUnit, ServiceControlPolicy};

    let mut env = Env::start().await;
    env.moto.create_organization().await;
    let shop = env.moto.create_member_account("shop-prod").await;
    let workloads = r#"
apiVersion: awsaccess.dev/v1alpha1
kind: OrganizationalUnit
metadata: {name: workloads}
spec: {ouName: Workloads}
"#;
    let prod = r#"
apiVersion: awsaccess.dev/v1alpha1
kind: OrganizationalUnit
metadata: {name: workloads-prod}
spec: {ouName: Prod, parent: {name: workloads}}
"#;
    let baseline = |guardrails: &str, accounts: &str| {
        format!(
            r#"
apiVersion: awsaccess.dev/v1alpha1
kind: ServiceControlPolicy
metadata: {{name: baseline}}
spec:
  policyName: Baseline
  guardrails: {{{guardrails}}}
  targets: {{organizationalUnits: [{{name: workloads}}], accounts: [{accounts}]}}
"#
        )
    };
    let files = tempfile::tempdir().expect("temp dir");
    let write = |documents: &[&str]| {
        std::fs::write(files.path().join("organization.yaml"), documents.join("---\n")).expect("write")
    };
    let applied = baseline("denyLeavingOrganization: true", "");
    write(&[workloads, &applied]);
    env.apply(&format!("{workloads}---\n{applied}")).await;
    let units: Api<OrganizationalUnit> = Api::all(env.client.clone());
    let policies: Api<ServiceControlPolicy> = Api::all(env.client.clone());
    env.wait_for(&units, "workloads", "Ready", |o| {
        ready(o.status.as_ref().map(|s| &s.reconcile.conditions))
    })
    .await;
    env.wait_for(&policies, "baseline", "Ready", |p| {
        ready(p.status.as_ref().map(|s| &s.reconcile.conditions))
    })
    .await;
    env.stop_operator().await;

    let wire = Wire::start(env.moto.endpoint()).await;
    let cli = Cli {
        kubeconfig: env.kube.kubeconfig_path().to_owned(),
        aws_endpoint: wire.endpoint(),
        home: tempfile::tempdir().expect("temp dir"),
    };
    let (code, plan) = cli.plan_json(files.path()).await;
    assert_eq!((code, changes(&plan)), (0, BTreeMap::new()), "in sync: {plan:#}");

    let grown = baseline(
        "denyLeavingOrganization: true, denyRootUser: true",
        &format!("{{id: \"{shop}\"}}"),
    );
    write(&[workloads, prod, &grown]);
    let (code, plan) = cli.plan_json(files.path()).await;
    assert_eq!(code, 2, "{plan:#}");
    let listed = changes(&plan);
    assert_eq!(
        listed.keys().collect::<Vec<_>>(),
        ["baseline", "workloads-prod"],
        "{plan:#}"
    );
    assert!(
        listed["workloads-prod"][0].starts_with("create OU Prod under ou-"),
        "{listed:?}"
    );
    assert_eq!(
        listed["baseline"],
        ["update the policy's content".to_string(), format!("attach to {shop}")],
        "{plan:#}"
    );
    // The content's difference, statement by statement: the new guardrail added, nothing removed.
    let details: Vec<&str> = plan["objects"]
        .as_array()
        .expect("objects")
        .iter()
        .filter(|o| o["name"] == "baseline")
        .flat_map(|o| o["changes"][0]["details"].as_array().expect("details"))
        .map(|d| d.as_str().expect("detail"))
        .collect();
    assert!(
        details.len() == 1 && details[0].starts_with("content: +") && details[0].contains("DenyRootUser"),
        "{details:?}"
    );
    let tally = wire.tally();
    let writes: Vec<&String> = tally.forwarded.keys().filter(|op| !reads_only(op)).collect();
    assert!(writes.is_empty(), "AWS writes: {writes:?}\n{tally}");
    assert!(
        units.get_opt("workloads-prod").await.expect("get").is_none(),
        "nothing applied"
    );
}

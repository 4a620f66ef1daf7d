//! The security review (`report`) as a user runs it against moto: a clean
//! organization gives no finding; seeding one of each problem gives exactly
//! those findings, each naming what to change; `--fail-on` exits 2; the
//! html page renders in headless Chromium; the operator's metric counts
//! the same findings and follows a fix; and elevations are listed.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use aws_access_operator::api::DeveloperGroup;
use aws_access_operator::aws::Aws;
use aws_access_operator::aws::sdk::SdkAws;
use aws_access_operator::controller::access_request::plan::{grant_document, policy_name};
use aws_access_operator::policy::sessions::{deny_sessions_issued_before, issued_before};
use aws_access_operator::report::{self, ReviewOptions, Thresholds};
use aws_access_operator::telemetry::Metrics;
use k8s_openapi::jiff::Timestamp;
use kube::api::Api;
use serde_json::{Value, json};

use crate::plan_report::Cli;
use crate::support::aws::{create_users, identity_iam};
use crate::support::moto::MANAGEMENT_ACCOUNT;
use crate::support::operator::{Env, condition};

const TEAM: &str = r#"
apiVersion: v1
kind: Namespace
metadata: {name: people}
---
apiVersion: awsaccess.dev/v1alpha1
kind: DeveloperGroup
metadata: {name: team, namespace: people}
spec:
  members: [alice, bob, eve]
"#;

/// The tag the operator puts on an SCP a ServiceControlPolicy manages.
const SCP_OWNER: &str = "ServiceControlPolicy//baseline@default";

fn user_arn(name: &str) -> String {
    format!("arn:aws:iam::{MANAGEMENT_ACCOUNT}:user/{name}")
}

fn role_arn(name: &str) -> String {
    format!("arn:aws:iam::{MANAGEMENT_ACCOUNT}:role/{name}")
}

/// `(severity, arn, message)` of each finding, and its "what to change".
fn findings(report: &Value) -> Vec<(String, String, String, Value)> {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            (
                f["severity"].as_str().expect("severity").to_owned(),
                f["arn"].as_str().expect("arn").to_owned(),
                f["message"].as_str().expect("message").to_owned(),
                f["managedBy"].clone(),
            )
        })
        .collect()
}

async fn report_json(cli: &Cli, extra: &[&str]) -> (i32, Value) {
    let mut args = vec!["report", "-o", "json"];
    args.extend_from_slice(extra);
    let ran = cli.run(&args).await;
    let report = serde_json::from_str(&ran.stdout)
        .unwrap_or_else(|err| panic!("report -o json: {err}\nstdout: {}\nstderr: {}", ran.stdout, ran.stderr));
    (ran.code, report)
}

/// The organization the DeveloperGroup `team` (alice, bob, eve) and an SCP
/// on both member accounts make clean; returns the SCP's id and the accounts.
async fn clean_organization(env: &Env) -> (String, String, String) {
    env.moto.create_organization().await;
    let dev = env.moto.create_member_account("dev").await;
    let sandbox = env.moto.create_member_account("sandbox").await;
    create_users(env, &["alice", "bob", "eve"]).await;
    // The identity account as an AwsAccount, open to the namespace of the team.
    env.open_accounts(&[]).await;
    env.apply(TEAM).await;
    let groups: Api<DeveloperGroup> = env.api(Some("people"));
    env.wait_for(&groups, "team", "Ready", |g| {
        g.status
            .as_ref()
            .is_some_and(|s| condition(&s.reconcile.conditions, "Ready").is_some_and(|c| c.status == "True"))
    })
    .await;
    let organizations = aws_sdk_organizations::Client::new(&env.moto.sdk_config().await);
    let content = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "organizations:LeaveOrganization", "Resource": "*"}]});
    let created = organizations
        .create_policy()
        .name("baseline")
        .description("made as a ServiceControlPolicy would")
        .content(content.to_string())
        .r#type(aws_sdk_organizations::types::PolicyType::ServiceControlPolicy)
        .tags(
            aws_sdk_organizations::types::Tag::builder()
                .key("awsaccess.dev/owner")
                .value(SCP_OWNER)
                .build()
                .expect("tag"),
        )
        .send()
        .await
        .expect("CreatePolicy");
    let id = created
        .policy()
        .and_then(|p| p.policy_summary())
        .and_then(|s| s.id())
        .expect("id");
    for account in [&dev, &sandbox] {
        organizations
            .attach_policy()
            .policy_id(id)
            .target_id(account)
            .send()
            .await
            .expect("AttachPolicy");
    }
    (id.to_owned(), dev, sandbox)
}

/// One of each problem: a console user without MFA (alice), a key (bob's,
/// old under `--key-max-age 0s`), a policy on a user that lets her make
/// herself administrator (eve), a user in a group no DeveloperGroup manages
/// (dave), a role that may rewrite an administrator role's trust and
/// assume it (deployer), and an account without SCP (sandbox).
async fn seed_problems(env: &Env, scp: &str, sandbox: &str) {
    let iam = identity_iam(env).await;
    iam.create_login_profile()
        .user_name("alice")
        .password("Correct-Horse-1")
        .send()
        .await
        .expect("CreateLoginProfile");
    iam.create_access_key()
        .user_name("bob")
        .send()
        .await
        .expect("CreateAccessKey");
    let self_service = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iam:PutUserPolicy", "Resource": "arn:aws:iam::*:user/${aws:username}"}]});
    iam.put_user_policy()
        .user_name("eve")
        .policy_name("self-service")
        .policy_document(self_service.to_string())
        .send()
        .await
        .expect("PutUserPolicy");
    create_users(env, &["dave"]).await;
    iam.create_group()
        .group_name("old-team")
        .send()
        .await
        .expect("CreateGroup");
    let read = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::old-team/*"}]});
    iam.put_group_policy()
        .group_name("old-team")
        .policy_name("old-bucket")
        .policy_document(read.to_string())
        .send()
        .await
        .expect("PutGroupPolicy");
    iam.add_user_to_group()
        .group_name("old-team")
        .user_name("dave")
        .send()
        .await
        .expect("AddUserToGroup");
    let trust = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{MANAGEMENT_ACCOUNT}:root")}, "Action": "sts:AssumeRole"}]});
    let everything =
        json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]});
    let rewrite = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["iam:UpdateAssumeRolePolicy", "sts:AssumeRole"], "Resource": role_arn("Admin")}]});
    for (role, policy) in [("Admin", everything), ("deployer", rewrite)] {
        iam.create_role()
            .role_name(role)
            .assume_role_policy_document(trust.to_string())
            .send()
            .await
            .expect("CreateRole");
        iam.put_role_policy()
            .role_name(role)
            .policy_name("permissions")
            .policy_document(policy.to_string())
            .send()
            .await
            .expect("PutRolePolicy");
    }
    aws_sdk_organizations::Client::new(&env.moto.sdk_config().await)
        .detach_policy()
        .policy_id(scp)
        .target_id(sandbox)
        .send()
        .await
        .expect("DetachPolicy");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_review_finds_one_of_each_problem_and_nothing_in_a_clean_organization() {
    let mut env = Env::start().await;
    let (scp, _dev, sandbox) = clean_organization(&env).await;
    // Whatever changes from here on is the test's doing.
    env.stop_operator().await;
    let cli = Cli {
        kubeconfig: env.kube.kubeconfig_path().to_owned(),
        aws_endpoint: env.moto.endpoint().to_owned(),
        home: tempfile::tempdir().expect("temp dir"),
    };

    let (code, clean) = report_json(&cli, &["--fail-on", "low", "--key-max-age", "0s"]).await;
    assert_eq!(findings(&clean), [], "{clean:#}");
    assert_eq!(code, 0, "nothing to fail on");

    seed_problems(&env, &scp, &sandbox).await;
    let (code, seeded) = report_json(&cli, &["--fail-on", "high", "--key-max-age", "0s"]).await;
    let admin = role_arn("Admin");
    let expected = [
        (
            "high",
            user_arn("alice"),
            "user alice signs in to the console with a password and no MFA device".to_string(),
        ),
        (
            "high",
            user_arn("eve"),
            format!(
                "user eve can become administrator: iam:PutUserPolicy on {} (policy self-service); any policy on itself makes it one",
                user_arn("eve")
            ),
        ),
        (
            "high",
            role_arn("deployer"),
            format!(
                "role deployer can become administrator: iam:UpdateAssumeRolePolicy on {admin} (policy permissions), then sts:AssumeRole on {admin} (policy permissions); role Admin is an administrator"
            ),
        ),
        (
            "medium",
            format!("arn:aws:iam::{sandbox}:root"),
            format!("account {sandbox} sandbox has no service control policy beyond FullAWSAccess, directly or inherited"),
        ),
        ("medium", user_arn("bob"), "user bob's access key 1 is 0 days old: rotate it".to_string()),
        (
            "medium",
            user_arn("dave"),
            "user dave is in group old-team, which no DeveloperGroup manages: leftover permissions from an earlier role?"
                .to_string(),
        ),
        (
            "low",
            user_arn("eve"),
            "user eve has policies attached directly (self-service): grant them through a DeveloperGroup".to_string(),
        ),
    ];
    let mut found: Vec<(String, String, String)> = findings(&seeded)
        .into_iter()
        .map(|(severity, arn, message, managed_by)| {
            assert_eq!(managed_by, Value::Null, "made by hand: no object manages {arn}");
            (severity, arn, message)
        })
        .collect();
    found.sort();
    let mut expected: Vec<(String, String, String)> = expected
        .into_iter()
        .map(|(severity, arn, message)| (severity.to_owned(), arn, message))
        .collect();
    expected.sort();
    assert_eq!(found, expected, "{seeded:#}");
    assert_eq!(code, 2, "--fail-on high with high findings");

    let markdown = cli.run(&["report", "--key-max-age", "0s"]).await;
    assert_eq!(markdown.code, 0, "no --fail-on: exit 0 whatever is found");
    assert!(
        markdown.stdout.contains(&format!(
            "not managed by the operator: change {} in AWS",
            user_arn("dave")
        )),
        "{}",
        markdown.stdout
    );

    let html = cli.run(&["report", "-o", "html", "--key-max-age", "0s"]).await;
    assert_eq!(html.code, 0, "{}", html.stderr);
    let text = rendered_text(&html.stdout);
    for expected in [
        "High (3)",
        "Medium (3)",
        "Low (1)",
        "user alice signs in to the console with a password and no MFA device",
        "Accounts and their roles",
        "Who can reach which role",
    ] {
        assert!(text.contains(expected), "{expected} on the page:\n{text}");
    }

    review_metric_follows_a_fix(&env).await;
    elevations_are_listed(&env, &cli).await;
}

/// Access on request as `report` reads it from AWS alone: alice's grant in
/// force, bob's past its end and still attached (the operator was down), and
/// the role's Deny on sessions issued before an end; each as the operator
/// writes it.
async fn elevations_are_listed(env: &Env, cli: &Cli) {
    let iam = identity_iam(env).await;
    let reader = role_arn("Reader");
    let trust = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{MANAGEMENT_ACCOUNT}:root")}, "Action": "sts:AssumeRole"}]});
    iam.create_role()
        .role_name("Reader")
        .assume_role_policy_document(trust.to_string())
        .send()
        .await
        .expect("CreateRole");
    let until = issued_before(Timestamp::now() + Duration::from_secs(3600));
    let ended: Timestamp = "2026-01-01T00:00:00Z".parse().expect("a time");
    for (user, end) in [("alice", until), ("bob", ended)] {
        iam.put_user_policy()
            .user_name(user)
            .policy_name(policy_name(&format!("{user}-rds")))
            .policy_document(grant_document(&reader, end).to_string())
            .send()
            .await
            .expect("PutUserPolicy");
    }
    iam.put_role_policy()
        .role_name("Reader")
        .policy_name("awsaccess-revoke-older-sessions")
        .policy_document(deny_sessions_issued_before(ended).to_string())
        .send()
        .await
        .expect("PutRolePolicy");
    let ran = cli.run(&["report"]).await;
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    for expected in [
        "\n## Elevations\n\n### In force\n".to_string(),
        format!("| alice | {reader} | {until} | alice-rds |"),
        format!("| bob | {reader} | 2026-01-01T00:00:00Z | bob-rds |"),
        format!("| {reader} | 2026-01-01T00:00:00Z |"),
        "user bob still holds the grant of the AccessRequest bob-rds (inline policy awsaccess-elevation-bob-rds), which ended at 2026-01-01T00:00:00Z".to_string(),
        "the AccessRequest bob-rds: the operator removes the grant when it next reconciles it".to_string(),
    ] {
        assert!(ran.stdout.contains(&expected), "{expected} in:\n{}", ran.stdout);
    }
    assert!(
        !ran.stdout.contains("user alice has policies attached directly"),
        "a grant is the operator's: {}",
        ran.stdout
    );
    // The page's screenshot, the README's, is this one: with its elevations.
    let html = cli.run(&["report", "-o", "html"]).await;
    assert_eq!(html.code, 0, "{}", html.stderr);
    let text = rendered_text(&html.stdout);
    let row = format!("Elevations In force User Role Until AccessRequest alice {reader} {until} alice-rds");
    assert!(text.contains(&row), "{row} on the page:\n{text}");
}

/// The operator's metric: the same findings by severity, refreshed on its
/// interval (a short one here), and down by one once alice's password goes.
async fn review_metric_follows_a_fix(env: &Env) {
    let metrics = Arc::new(Metrics::default());
    let aws: Arc<dyn Aws> = Arc::new(SdkAws::new(&env.moto.sdk_config().await));
    let options = ReviewOptions {
        access_role: "OrganizationAccountAccessRole".into(),
        credential_report_max_age: Duration::from_millis(500),
        thresholds: Thresholds {
            now: Timestamp::now(),
            key_max_age: Duration::ZERO,
            credentials_unused_after: Duration::from_secs(90 * 86_400),
            role_unused_after: Duration::from_secs(90 * 86_400),
        },
    };
    let reviews = tokio::spawn(report::metrics::keep_counted(
        aws,
        env.client.clone(),
        options,
        metrics.clone(),
        Duration::from_millis(500),
    ));
    let counted = |high: usize| {
        let metrics = metrics.clone();
        move || {
            let text = metrics.encode();
            let wanted = [
                format!("awsaccess_review_findings{{severity=\"high\"}} {high}"),
                "awsaccess_review_findings{severity=\"medium\"} 3".to_string(),
                "awsaccess_review_findings{severity=\"low\"} 1".to_string(),
            ];
            wanted.iter().all(|line| text.contains(line.as_str())).then_some(text)
        }
    };
    let seen = counted(3);
    env.eventually("the metric counts the review's findings", async || seen())
        .await;
    identity_iam(env)
        .await
        .delete_login_profile()
        .user_name("alice")
        .send()
        .await
        .expect("DeleteLoginProfile");
    let fixed = counted(2);
    env.eventually("the metric drops the fixed finding", async || fixed())
        .await;
    reviews.abort();
}

/// The page as headless Chromium renders it: its text (the DOM after
/// parsing), with a screenshot kept in the test output.
fn rendered_text(page: &str) -> String {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("review");
    std::fs::create_dir_all(&dir).expect("output dir");
    let file = dir.join("report.html");
    std::fs::write(&file, page).expect("write the page");
    let screenshot = dir.join("report.png");
    let dom = chromium(&file, &["--dump-dom"]);
    chromium(
        &file,
        &[
            &format!("--screenshot={}", screenshot.display()),
            "--window-size=1280,1400",
        ],
    );
    assert!(
        std::fs::metadata(&screenshot).is_ok_and(|m| m.len() > 10_000),
        "a screenshot at {}",
        screenshot.display()
    );
    println!("the report page and its screenshot: {}", dir.display());
    let document = dom.replace("<br>", "\n");
    // The text between tags, as a reader sees it.
    let mut text = String::new();
    let mut in_tag = false;
    for c in document.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                text.push(' ');
            }
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Runs Debian's headless Chromium on `file`; scripts/setup.sh installs it.
fn chromium(file: &Path, args: &[&str]) -> String {
    let output = std::process::Command::new("chromium")
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars"])
        .args(args)
        .arg(format!("file://{}", file.display()))
        .output()
        .unwrap_or_else(|err| panic!("chromium: {err}: scripts/setup.sh installs it (Debian's chromium package)"));
    assert!(
        output.status.success(),
        "chromium {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

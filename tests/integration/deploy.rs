//! What `deploy/` ships next to the chart stays true to the code: the IAM
//! policies grant exactly the AWS calls the operator makes (and its reads,
//! for `plan` and `report`), and the Grafana dashboard queries only metrics
//! the operator exports.

use std::collections::BTreeSet;
use std::path::Path;

use aws_access_operator::aws::read_only::reads_only;
use serde_json::Value;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn read(relative: &str) -> String {
    let path = root().join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|err| panic!("{}: {err}", path.display()))
}

fn json(relative: &str) -> Value {
    serde_json::from_str(&read(relative)).unwrap_or_else(|err| panic!("{relative}: {err}"))
}

/// Every AWS operation the SDK layer calls: each call's error is labelled
/// `sdk_error("Operation")`.
fn operations_called() -> BTreeSet<String> {
    let mut operations = BTreeSet::new();
    for file in ["src/aws/sdk.rs", "src/aws/credentials.rs"] {
        for piece in read(file).split("sdk_error(\"").skip(1) {
            let name = piece.split('"').next().expect("closing quote");
            operations.insert(name.to_owned());
        }
    }
    operations
}

/// `(action, statement)` for every action the policy allows.
fn allowed_actions(policy: &Value) -> Vec<(String, &Value)> {
    statement_actions(policy, "Allow")
}

/// `(action, statement)` for every action of the policy's statements with `effect`.
fn statement_actions<'a>(policy: &'a Value, effect: &str) -> Vec<(String, &'a Value)> {
    let mut actions = Vec::new();
    for statement in policy["Statement"].as_array().expect("Statement") {
        if statement["Effect"] != effect {
            continue;
        }
        match &statement["Action"] {
            Value::String(action) => actions.push((action.clone(), statement)),
            Value::Array(list) => {
                actions.extend(list.iter().map(|a| (a.as_str().expect("action").to_owned(), statement)))
            }
            other => panic!("Action {other}"),
        }
    }
    actions
}

#[test]
fn operator_policy_allows_exactly_the_aws_calls_the_operator_makes() {
    let policy = json("deploy/iam/operator-policy.json");
    let actions = allowed_actions(&policy);
    for (action, statement) in &actions {
        assert!(!action.contains('*'), "wildcard action {action}");
        // Organizations has no resources to scope to; neither has listing a whole account, nor its credential report.
        let account_wide = action.starts_with("organizations:")
            || [
                "iam:GetAccountAuthorizationDetails",
                "iam:ListRoles",
                "iam:GenerateCredentialReport",
                "iam:GetCredentialReport",
            ]
            .contains(&action.as_str());
        assert!(
            statement["Resource"] != "*" || account_wide,
            "{action} on every resource"
        );
    }
    let granted: BTreeSet<String> = actions
        .iter()
        .map(|(action, _)| action.split_once(':').expect("service:Action").1.to_owned())
        // Not called by the operator: Organizations needs it during CreateAccount.
        .filter(|operation| operation != "CreateServiceLinkedRole")
        .collect();
    let mut called = operations_called();
    // Needs no permission: every principal may ask who it is.
    assert!(
        called.remove("GetCallerIdentity"),
        "the operator no longer calls GetCallerIdentity?"
    );
    assert!(called.len() > 30, "found only {called:?} in src/aws/");
    assert_eq!(
        granted, called,
        "deploy/iam/operator-policy.json and the AWS calls in src/aws/ differ"
    );

    let assume = actions
        .iter()
        .find(|(action, _)| action == "sts:AssumeRole")
        .expect("sts:AssumeRole");
    assert_eq!(
        assume.1["Resource"],
        "arn:aws:iam::*:role/OrganizationAccountAccessRole"
    );
}

/// Issue 23: in the management account, where no SCP applies, the policy
/// itself keeps the operator to what it owns. Each write to a role or a
/// customer-managed policy needs the owner tag, on the request (creating,
/// adopting) or on the resource (changing); a boundary can only be the one
/// the management account's guardrail names; roles are assumed only inside
/// the organization; and the access role, the operator's own role and the
/// roles AWS reserves are denied outright, whatever else allows.
#[test]
fn the_operator_policy_writes_only_what_carries_its_owner_tag_and_never_the_roles_that_hold_the_keys() {
    let policy = json("deploy/iam/operator-policy.json");
    let owner_tag = |statement: &Value, on: &str| {
        statement["Condition"]["Null"][format!("aws:{on}/awsaccess.dev/owner")] == "false"
    };
    let denied = statement_actions(&policy, "Deny");
    for (action, statement) in allowed_actions(&policy) {
        let resource = statement["Resource"].as_str().unwrap_or_default();
        let write = !reads_only(action.split_once(':').expect("service:Action").1);
        if !(write && (resource.ends_with(":role/*") || resource.ends_with(":policy/*"))) {
            continue;
        }
        let tagged = match action.as_str() {
            "iam:CreateRole" | "iam:CreatePolicy" => owner_tag(statement, "RequestTag"),
            // Adopting an existing role tags it first; changing the tags of one owned needs its tag.
            "iam:TagRole" => true,
            _ => owner_tag(statement, "ResourceTag"),
        };
        assert!(tagged, "{action} is allowed without the owner tag: {statement}");
        let role_write = resource.ends_with(":role/*");
        if role_write && action != "iam:CreateServiceLinkedRole" {
            assert!(
                denied.iter().any(|(deny, _)| *deny == action),
                "{action} is not denied on the roles that hold the keys"
            );
        }
    }
    let tag_role: Vec<&Value> = allowed_actions(&policy)
        .into_iter()
        .filter(|(action, _)| action == "iam:TagRole")
        .map(|(_, statement)| statement)
        .collect();
    assert!(
        tag_role
            .iter()
            .all(|s| owner_tag(s, "RequestTag") || owner_tag(s, "ResourceTag")),
        "iam:TagRole only to claim a role or on one owned: {tag_role:?}"
    );
    let boundary = "arn:aws:iam::${aws:PrincipalAccount}:policy/AwsAccessOperatorBoundary";
    for (action, statement) in allowed_actions(&policy) {
        match action.as_str() {
            "iam:CreateRole" => assert_eq!(
                statement["Condition"]["ArnEqualsIfExists"]["iam:PermissionsBoundary"],
                boundary
            ),
            "iam:PutRolePermissionsBoundary" => {
                assert_eq!(statement["Condition"]["ArnEquals"]["iam:PermissionsBoundary"], boundary)
            }
            "sts:AssumeRole" => assert_eq!(
                statement["Condition"]["StringEquals"]["aws:ResourceOrgID"],
                "${aws:PrincipalOrgID}"
            ),
            _ => {}
        }
    }
    let protected = denied.first().expect("a Deny statement").1["Resource"].clone();
    for role in [
        "arn:aws:iam::*:role/OrganizationAccountAccessRole",
        "arn:aws:iam::*:role/aws-access-operator",
        "arn:aws:iam::*:role/AWSReserved*",
    ] {
        assert!(
            protected
                .as_array()
                .is_some_and(|list| list.contains(&Value::from(role))),
            "{role} is not protected: {protected}"
        );
    }
}

/// What CI runs `plan` and `report` with: every read the operator makes,
/// since they run its code, and nothing else.
#[test]
fn plan_policy_allows_exactly_the_reads_the_operator_makes() {
    let policy = json("deploy/iam/plan-policy.json");
    let granted: BTreeSet<String> = allowed_actions(&policy)
        .iter()
        .map(|(action, _)| action.split_once(':').expect("service:Action").1.to_owned())
        .collect();
    let mut reads: BTreeSet<String> = operations_called().into_iter().filter(|op| reads_only(op)).collect();
    assert!(reads.remove("GetCallerIdentity"), "needs no permission");
    assert_eq!(
        granted, reads,
        "deploy/iam/plan-policy.json and the reads in src/aws/ differ"
    );
    // Inside member accounts only through the read-only role the template makes, never an administrator.
    let template = read("deploy/iam/read-role.yaml");
    let (_, assume) = allowed_actions(&policy)
        .into_iter()
        .find(|(action, _)| action == "sts:AssumeRole")
        .expect("sts:AssumeRole");
    assert_eq!(assume["Resource"], "arn:aws:iam::*:role/AwsAccessOperatorReadOnly");
    assert_eq!(
        assume["Condition"]["StringEquals"]["aws:ResourceOrgID"],
        "${aws:PrincipalOrgID}"
    );
    assert!(template.contains("RoleName: AwsAccessOperatorReadOnly"), "{template}");
    assert!(
        template.contains("arn:aws:iam::aws:policy/IAMReadOnlyAccess"),
        "{template}"
    );
}

#[test]
fn grafana_dashboard_queries_only_exported_metrics() {
    let dashboard = json("deploy/grafana/aws-access-operator.json");
    let telemetry = read("src/telemetry.rs");
    let mut queried = BTreeSet::new();
    for panel in dashboard["panels"].as_array().expect("panels") {
        let targets = panel["targets"].as_array().expect("targets");
        assert!(!targets.is_empty(), "panel {} has no query", panel["title"]);
        for target in targets {
            let expr = target["expr"].as_str().expect("expr");
            let words = expr.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'));
            queried.extend(
                words
                    .filter(|w| w.starts_with("controller_runtime_") || w.starts_with("awsaccess_"))
                    .map(str::to_owned),
            );
        }
    }
    for metric in &queried {
        // prometheus-client registers the family name and adds these suffixes.
        let family = ["_total", "_bucket"].iter().fold(metric.as_str(), |name, suffix| {
            name.strip_suffix(suffix).unwrap_or(name)
        });
        assert!(
            telemetry.contains(&format!("\"{family}\"")),
            "the dashboard queries {metric}, which src/telemetry.rs does not register"
        );
    }
    let families = [
        "controller_runtime_reconcile_total",
        "controller_runtime_reconcile_errors_total",
        "controller_runtime_reconcile_time_seconds_bucket",
        "awsaccess_aws_calls_total",
        "awsaccess_drift_corrections_total",
        "awsaccess_objects_not_ready",
    ];
    assert_eq!(queried, families.map(String::from).into(), "every metric has a panel");
}

/// Issue 23: the CI example is safe to copy. It runs on `pull_request`
/// (never `pull_request_target`, which hands a fork's code the repository's
/// secrets), skips forks, pins every action by commit and the image by
/// digest, and enters member accounts through the read-only role.
#[test]
fn the_ci_example_pins_what_it_runs_and_reads_through_the_read_role() {
    let workflow: Value = serde_yaml_ng::from_str(&read("examples/ci/plan-on-pull-request.yaml")).expect("YAML");
    assert!(workflow["on"].get("pull_request").is_some() && workflow["on"].get("pull_request_target").is_none());
    let job = &workflow["jobs"]["plan"];
    assert_eq!(
        job["if"],
        "github.event.pull_request.head.repo.full_name == github.repository"
    );
    let image = job["env"]["IMAGE"].as_str().expect("IMAGE");
    let digest = image
        .split_once("@sha256:")
        .map(|(_, digest)| digest)
        .unwrap_or_default();
    assert!(
        digest.len() == 64 && digest.chars().all(|c| c.is_ascii_hexdigit()),
        "{image}"
    );
    let steps = job["steps"].as_array().expect("steps");
    let mut pinned = 0;
    for uses in steps.iter().filter_map(|step| step["uses"].as_str()) {
        let commit = uses.split_once('@').map(|(_, at)| at).unwrap_or_default();
        assert!(
            commit.len() == 40 && commit.chars().all(|c| c.is_ascii_hexdigit()),
            "{uses} is not pinned by commit"
        );
        pinned += 1;
    }
    assert_eq!(pinned, 3);
    let runs: String = steps.iter().filter_map(|step| step["run"].as_str()).collect();
    assert!(runs.contains("--read-role AwsAccessOperatorReadOnly"), "{runs}");
}

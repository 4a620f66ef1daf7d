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
    let mut actions = Vec::new();
    for statement in policy["Statement"].as_array().expect("Statement") {
        assert_eq!(statement["Effect"], "Allow");
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
        // Organizations has no resources to scope to; neither has listing a whole account.
        let account_wide = action.starts_with("organizations:")
            || ["iam:GetAccountAuthorizationDetails", "iam:ListRoles"].contains(&action.as_str());
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

//! The Helm chart, checked with the real helm (installed by scripts/setup.sh
//! into .tools/bin; `HELM_BIN` overrides): it lints, renders what a platform
//! team expects (hardened pod, leader election, least RBAC), its schema refuses
//! wrong types, and its CRDs are exactly `crds/`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde::Deserialize;
use serde_yaml_ng::Value;

const CHART: &str = "charts/aws-access-operator";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn helm_bin() -> PathBuf {
    std::env::var_os("HELM_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join(".tools/bin/helm"))
}

fn helm(args: &[&str]) -> Output {
    let bin = helm_bin();
    Command::new(&bin)
        .args(args)
        .current_dir(root())
        .output()
        .unwrap_or_else(|err| {
            panic!(
                "cannot run {} ({err}); run scripts/setup.sh to install helm",
                bin.display()
            )
        })
}

/// `helm template` with `args` added; panics with helm's stderr when it fails.
fn render(args: &[&str]) -> Vec<Value> {
    let mut all = vec!["template", "ops", CHART, "--namespace", "ops"];
    all.extend_from_slice(args);
    let out = helm(&all);
    assert!(
        out.status.success(),
        "helm template failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).expect("UTF-8 manifests");
    serde_yaml_ng::Deserializer::from_str(&text)
        .map(|doc| Value::deserialize(doc).expect("rendered YAML parses"))
        .filter(|doc| !doc.is_null())
        .collect()
}

fn find<'a>(docs: &'a [Value], kind: &str) -> Vec<&'a Value> {
    docs.iter().filter(|doc| doc["kind"].as_str() == Some(kind)).collect()
}

fn one<'a>(docs: &'a [Value], kind: &str) -> &'a Value {
    match find(docs, kind).as_slice() {
        [doc] => doc,
        found => panic!("expected one {kind}, rendered {}", found.len()),
    }
}

fn strings(value: &Value) -> Vec<&str> {
    value
        .as_sequence()
        .map(|seq| seq.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

/// Every (apiGroup, resource, verb, resourceName) a set of RBAC rules grants, one row each.
fn grants(rules: &Value) -> BTreeSet<String> {
    let mut rows = BTreeSet::new();
    for rule in rules.as_sequence().expect("rules") {
        let names = strings(&rule["resourceNames"]);
        for group in strings(&rule["apiGroups"]) {
            for resource in strings(&rule["resources"]) {
                for verb in strings(&rule["verbs"]) {
                    let name = if names.is_empty() {
                        "*".to_owned()
                    } else {
                        names.join(",")
                    };
                    rows.insert(format!("{group}/{resource} {verb} {name}"));
                }
            }
        }
    }
    rows
}

fn expected(rows: &[(&str, &[&str], &[&str])]) -> BTreeSet<String> {
    rows.iter()
        .flat_map(|(group, resources, verbs)| {
            resources
                .iter()
                .flat_map(move |resource| verbs.iter().map(move |verb| format!("{group}/{resource} {verb} *")))
        })
        .collect()
}

#[test]
fn helm_lint_passes() {
    let out = helm(&["lint", "--strict", CHART]);
    assert!(
        out.status.success(),
        "helm lint failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn deployment_is_hardened_and_runs_two_replicas_with_leader_election() {
    let docs = render(&[]);
    let deployment = one(&docs, "Deployment");
    assert_eq!(deployment["spec"]["replicas"].as_u64(), Some(2));
    let pod = &deployment["spec"]["template"]["spec"];
    assert_eq!(pod["securityContext"]["runAsNonRoot"].as_bool(), Some(true));
    let container = &pod["containers"][0];
    let security = &container["securityContext"];
    assert_eq!(security["runAsNonRoot"].as_bool(), Some(true));
    assert_eq!(security["readOnlyRootFilesystem"].as_bool(), Some(true));
    assert_eq!(security["allowPrivilegeEscalation"].as_bool(), Some(false));
    assert_eq!(strings(&security["capabilities"]["drop"]), ["ALL"]);
    assert_eq!(security["seccompProfile"]["type"].as_str(), Some("RuntimeDefault"));
    for (section, what) in [("requests", "cpu"), ("requests", "memory"), ("limits", "memory")] {
        assert!(
            container["resources"][section][what].is_string(),
            "resources.{section}.{what} is not set"
        );
    }

    let args = strings(&container["args"]);
    assert_eq!(args.first(), Some(&"run"));
    for arg in [
        "--leader-election",
        "--lease-name=aws-access-operator",
        "--lease-duration=15s",
        "--renew-deadline=10s",
        "--retry-period=2s",
        "--metrics-address=0.0.0.0:8080",
        "--resync-interval=10m",
    ] {
        assert!(args.contains(&arg), "{arg} missing from {args:?}");
    }
    let env = container["env"].as_sequence().expect("env");
    for (name, field) in [("POD_NAME", "metadata.name"), ("POD_NAMESPACE", "metadata.namespace")] {
        let var = env
            .iter()
            .find(|var| var["name"].as_str() == Some(name))
            .unwrap_or_else(|| panic!("{name} missing"));
        assert_eq!(var["valueFrom"]["fieldRef"]["fieldPath"].as_str(), Some(field));
    }
    assert_eq!(container["livenessProbe"]["httpGet"]["path"].as_str(), Some("/healthz"));
    assert_eq!(container["readinessProbe"]["httpGet"]["path"].as_str(), Some("/readyz"));

    let pdb = one(&docs, "PodDisruptionBudget");
    assert_eq!(pdb["spec"]["minAvailable"].as_u64(), Some(1));
    let service = one(&docs, "Service");
    assert_eq!(service["spec"]["ports"][0]["targetPort"].as_str(), Some("metrics"));
    assert!(
        find(&docs, "ServiceMonitor").is_empty(),
        "ServiceMonitor is off by default"
    );
}

#[test]
fn irsa_role_is_an_annotation_on_the_service_account() {
    let arn = "arn:aws:iam::012345678901:role/aws-access-operator";
    let docs = render(&[
        "--set",
        &format!("serviceAccount.annotations.eks\\.amazonaws\\.com/role-arn={arn}"),
    ]);
    let account = one(&docs, "ServiceAccount");
    assert_eq!(
        account["metadata"]["annotations"]["eks.amazonaws.com/role-arn"].as_str(),
        Some(arn)
    );
    let name = account["metadata"]["name"].as_str();
    assert_eq!(
        one(&docs, "Deployment")["spec"]["template"]["spec"]["serviceAccountName"].as_str(),
        name
    );
}

#[test]
fn cluster_role_grants_exactly_what_the_operator_uses() {
    let docs = render(&[]);
    let rules = &one(&docs, "ClusterRole")["rules"];
    let kinds = [
        "awsaccounts",
        "crossaccountroles",
        "developergroups",
        "partneraccesses",
        "organizationalunits",
        "servicecontrolpolicies",
    ];
    let statuses = kinds.map(|kind| format!("{kind}/status"));
    let finalizers = kinds.map(|kind| format!("{kind}/finalizers"));
    let statuses: Vec<&str> = statuses.iter().map(String::as_str).collect();
    let finalizers: Vec<&str> = finalizers.iter().map(String::as_str).collect();
    let want = expected(&[
        ("awsaccess.dev", &kinds, &["get", "list", "watch", "patch", "update"]),
        ("awsaccess.dev", &statuses, &["patch", "update"]),
        ("awsaccess.dev", &finalizers, &["update"]),
        ("awsaccess.dev", &["crossaccountroles"], &["create", "delete"]),
        ("", &["secrets"], &["get", "list", "watch", "create"]),
        ("events.k8s.io", &["events"], &["create", "patch"]),
        ("", &["events"], &["create", "patch"]),
    ]);
    let got = grants(rules);
    assert!(
        !got.iter()
            .any(|row| row.split(' ').take(2).any(|part| part.contains('*'))),
        "wildcard in {got:#?}"
    );
    assert_eq!(got, want);
}

#[test]
fn lease_permissions_stay_in_the_release_namespace() {
    let docs = render(&[]);
    let role = one(&docs, "Role");
    assert_eq!(role["metadata"]["namespace"].as_str(), Some("ops"));
    let want: BTreeSet<String> = [
        "coordination.k8s.io/leases create *",
        "coordination.k8s.io/leases get aws-access-operator",
        "coordination.k8s.io/leases update aws-access-operator",
    ]
    .map(String::from)
    .into();
    assert_eq!(grants(&role["rules"]), want);
    assert_eq!(one(&docs, "RoleBinding")["roleRef"]["name"], role["metadata"]["name"]);

    let single = render(&["--set", "leaderElection.enabled=false", "--set", "replicaCount=1"]);
    assert!(find(&single, "Role").is_empty() && find(&single, "PodDisruptionBudget").is_empty());
    let args = strings(&one(&single, "Deployment")["spec"]["template"]["spec"]["containers"][0]["args"]);
    assert!(!args.contains(&"--leader-election"));
}

#[test]
fn service_monitor_renders_when_enabled() {
    let docs = render(&[
        "--set",
        "serviceMonitor.enabled=true",
        "--set",
        "serviceMonitor.labels.release=prometheus",
    ]);
    let monitor = one(&docs, "ServiceMonitor");
    assert_eq!(monitor["metadata"]["labels"]["release"].as_str(), Some("prometheus"));
    assert_eq!(monitor["spec"]["endpoints"][0]["port"].as_str(), Some("metrics"));
}

#[test]
fn schema_refuses_a_wrong_type() {
    let out = helm(&["template", "ops", CHART, "--set", "replicaCount=two"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && stderr.contains("replicaCount"),
        "replicaCount=two was accepted:\n{stderr}"
    );
    let out = helm(&["template", "ops", CHART, "--set", "logFormat=yaml"]);
    assert!(!out.status.success(), "logFormat=yaml was accepted");
}

#[test]
fn several_replicas_without_leader_election_are_refused() {
    let out = helm(&["template", "ops", CHART, "--set", "leaderElection.enabled=false"]);
    assert!(!out.status.success(), "two replicas without leader election rendered");
}

#[test]
fn chart_crds_are_exactly_crds_directory() {
    let chart_crds = root().join(CHART).join("crds");
    let files: Vec<_> = std::fs::read_dir(&chart_crds)
        .expect("chart crds/")
        .map(|entry| entry.expect("entry").file_name())
        .collect();
    assert_eq!(
        files,
        ["awsaccess.dev.yaml"],
        "the chart's crds/ holds only the copy of crds/awsaccess.dev.yaml"
    );
    let source = std::fs::read(root().join("crds/awsaccess.dev.yaml")).expect("crds/awsaccess.dev.yaml");
    let copy = std::fs::read(chart_crds.join("awsaccess.dev.yaml")).expect("chart CRDs");
    assert!(
        copy == source,
        "{} is stale: run scripts/sync-chart-crds.sh",
        chart_crds.display()
    );
}

#[test]
fn kind_values_for_the_e2e_run_render() {
    let docs = render(&["--values", "deploy/kind/values.yaml"]);
    let container = &one(&docs, "Deployment")["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(container["image"].as_str(), Some("aws-access-operator:e2e"));
    assert_eq!(container["imagePullPolicy"].as_str(), Some("Never"));
}

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

/// The stderr of `helm template` with `args` added, which must fail.
fn refused(args: &[&str]) -> String {
    let mut all = vec!["template", "ops", CHART];
    all.extend_from_slice(args);
    let out = helm(&all);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!out.status.success(), "{args:?} rendered:\n{stderr}");
    stderr
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

/// The one `kind` named `name`.
fn named<'a>(docs: &'a [Value], kind: &str, name: &str) -> &'a Value {
    match find(docs, kind)
        .into_iter()
        .filter(|doc| doc["metadata"]["name"].as_str() == Some(name))
        .collect::<Vec<_>>()
        .as_slice()
    {
        [doc] => doc,
        found => panic!("expected one {kind} {name}, rendered {}", found.len()),
    }
}

fn names<'a>(docs: &'a [Value], kind: &str) -> BTreeSet<&'a str> {
    find(docs, kind)
        .into_iter()
        .filter_map(|doc| doc["metadata"]["name"].as_str())
        .collect()
}

/// The operator container's env var `name`, if it is set.
fn env_var<'a>(docs: &'a [Value], name: &str) -> Option<&'a Value> {
    one(docs, "Deployment")["spec"]["template"]["spec"]["containers"][0]["env"]
        .as_sequence()
        .expect("env")
        .iter()
        .find(|var| var["name"].as_str() == Some(name))
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
    let service = named(&docs, "Service", "ops-aws-access-operator-metrics");
    assert_eq!(service["spec"]["ports"][0]["targetPort"].as_str(), Some("metrics"));
    assert!(
        find(&docs, "ServiceMonitor").is_empty(),
        "ServiceMonitor is off by default"
    );
}

#[test]
fn the_webhook_is_registered_with_a_certificate_its_service_serves() {
    let docs = render(&[]);
    let registration = one(&docs, "ValidatingWebhookConfiguration");
    let webhook = &registration["webhooks"][0];
    assert_eq!(webhook["failurePolicy"].as_str(), Some("Fail"));
    assert_eq!(webhook["sideEffects"].as_str(), Some("None"));
    let service = &webhook["clientConfig"]["service"];
    assert_eq!(service["name"].as_str(), Some("ops-aws-access-operator-webhook"));
    assert_eq!(service["path"].as_str(), Some("/validate"));
    let rule = &webhook["rules"][0];
    assert_eq!(
        strings(&rule["resources"]),
        [
            "crossaccountroles",
            "developergroups",
            "partneraccesses",
            "iamusers",
            "accessrequests",
            "accessapprovals"
        ]
    );
    assert_eq!(strings(&rule["operations"]), ["CREATE", "UPDATE"]);
    // Who asks and who approves is stamped on create, by the same server and certificate.
    let mutating = &one(&docs, "MutatingWebhookConfiguration")["webhooks"][0];
    assert_eq!(mutating["failurePolicy"].as_str(), Some("Fail"));
    assert_eq!(mutating["clientConfig"]["service"]["path"].as_str(), Some("/mutate"));
    assert_eq!(
        mutating["clientConfig"]["caBundle"],
        webhook["clientConfig"]["caBundle"]
    );
    assert_eq!(
        strings(&mutating["rules"][0]["resources"]),
        ["accessrequests", "accessapprovals"]
    );
    assert_eq!(strings(&mutating["rules"][0]["operations"]), ["CREATE"]);
    // The CA registered is the one in the Secret the pods mount.
    let secret = named(&docs, "Secret", "ops-aws-access-operator-webhook-tls");
    assert_eq!(webhook["clientConfig"]["caBundle"], secret["data"]["ca.crt"]);
    let target = &named(&docs, "Service", "ops-aws-access-operator-webhook")["spec"]["ports"][0];
    assert_eq!(target["targetPort"].as_str(), Some("webhook"));
    let container = &one(&docs, "Deployment")["spec"]["template"]["spec"]["containers"][0];
    let cert_dir = env_var(&docs, "WEBHOOK_CERT_DIR").expect("WEBHOOK_CERT_DIR");
    assert_eq!(cert_dir["value"].as_str(), Some("/var/run/webhook-tls"));
    assert_eq!(
        container["volumeMounts"][0]["mountPath"].as_str(),
        Some("/var/run/webhook-tls")
    );

    let with_cert_manager = render(&["--set", "webhook.certManager.enabled=true"]);
    assert!(
        find(&with_cert_manager, "Secret").is_empty(),
        "cert-manager makes the Secret"
    );
    let injected = &one(&with_cert_manager, "ValidatingWebhookConfiguration")["metadata"]["annotations"];
    assert_eq!(
        injected["cert-manager.io/inject-ca-from"].as_str(),
        Some("ops/ops-aws-access-operator-webhook")
    );
    assert_eq!(
        one(&with_cert_manager, "Certificate")["spec"]["secretName"].as_str(),
        Some("ops-aws-access-operator-webhook-tls")
    );

    let without = render(&["--set", "webhook.enabled=false"]);
    assert!(find(&without, "ValidatingWebhookConfiguration").is_empty());
    assert!(find(&without, "MutatingWebhookConfiguration").is_empty());
    assert!(env_var(&without, "WEBHOOK_CERT_DIR").is_none());
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
    let rules = &named(&docs, "ClusterRole", "ops-aws-access-operator")["rules"];
    let kinds = [
        "awsaccounts",
        "crossaccountroles",
        "developergroups",
        "partneraccesses",
        "organizationalunits",
        "servicecontrolpolicies",
        "iamusers",
        "accessrequests",
        "accessapprovals",
    ];
    let statuses = kinds.map(|kind| format!("{kind}/status"));
    // An AccessApproval holds no finalizer: deleting one undoes nothing in AWS.
    let finalizers = kinds[..kinds.len() - 1]
        .iter()
        .map(|kind| format!("{kind}/finalizers"))
        .collect::<Vec<_>>();
    let statuses: Vec<&str> = statuses.iter().map(String::as_str).collect();
    let finalizers: Vec<&str> = finalizers.iter().map(String::as_str).collect();
    let want = expected(&[
        ("awsaccess.dev", &kinds, &["get", "list", "watch", "patch", "update"]),
        ("awsaccess.dev", &statuses, &["patch", "update"]),
        ("awsaccess.dev", &finalizers, &["update"]),
        ("awsaccess.dev", &["crossaccountroles"], &["create", "delete"]),
        // update: an IamUser's password or key replaced in the Secret it owns; delete: one its spec no longer names.
        (
            "",
            &["secrets"],
            &["get", "list", "watch", "create", "patch", "update", "delete"],
        ),
        ("events.k8s.io", &["events"], &["create", "patch"]),
        ("", &["events"], &["create", "patch"]),
    ])
    .into_iter()
    // The kube-system namespace's UID is the default installation id; no other namespace.
    .chain(["/namespaces get kube-system".to_owned()])
    .collect::<BTreeSet<_>>();
    let got = grants(rules);
    assert!(
        !got.iter()
            .any(|row| row.split(' ').take(2).any(|part| part.contains('*'))),
        "wildcard in {got:#?}"
    );
    assert_eq!(got, want);
    let binding = one(&docs, "ClusterRoleBinding");
    assert_eq!(binding["roleRef"]["name"].as_str(), Some("ops-aws-access-operator"));
}

const TENANT_ROLES: [&str; 3] = [
    "ops-aws-access-operator-tenant-edit",
    "ops-aws-access-operator-tenant-view",
    "ops-aws-access-operator-tenant-account-reader",
];

#[test]
fn tenant_cluster_roles_aggregate_the_namespaced_kinds_into_edit_admin_and_view() {
    let docs = render(&[]);
    let namespaced = [
        "crossaccountroles",
        "developergroups",
        "partneraccesses",
        "iamusers",
        "accessrequests",
        "accessapprovals",
    ];
    let aggregate = |role: &Value, to: &str| {
        role["metadata"]["labels"][format!("rbac.authorization.k8s.io/aggregate-to-{to}").as_str()].as_str()
            == Some("true")
    };

    let edit = named(&docs, "ClusterRole", TENANT_ROLES[0]);
    assert!(aggregate(edit, "edit") && aggregate(edit, "admin") && !aggregate(edit, "view"));
    let all = [
        "get",
        "list",
        "watch",
        "create",
        "update",
        "patch",
        "delete",
        "deletecollection",
    ];
    assert_eq!(
        grants(&edit["rules"]),
        expected(&[("awsaccess.dev", &namespaced, &all)])
    );

    let view = named(&docs, "ClusterRole", TENANT_ROLES[1]);
    assert!(aggregate(view, "view") && !aggregate(view, "edit") && !aggregate(view, "admin"));
    let read = ["get", "list", "watch"];
    assert_eq!(
        grants(&view["rules"]),
        expected(&[
            ("awsaccess.dev", &namespaced, &read),
            ("awsaccess.dev", &["awsaccounts"], &read),
        ])
    );

    // Bound with a ClusterRoleBinding by the platform team, never aggregated.
    let reader = named(&docs, "ClusterRole", TENANT_ROLES[2]);
    for to in ["edit", "admin", "view"] {
        assert!(!aggregate(reader, to), "the account reader aggregates to {to}");
    }
    assert_eq!(
        grants(&reader["rules"]),
        expected(&[("awsaccess.dev", &["awsaccounts"], &read)])
    );

    // Every row is `{group}/{resource} {verb} {names}`; a subresource adds a `/`.
    for name in TENANT_ROLES {
        for row in grants(&named(&docs, "ClusterRole", name)["rules"]) {
            let (group, resource) = row.split(' ').next().and_then(|gr| gr.split_once('/')).expect("row");
            assert!(
                !resource.ends_with("/status"),
                "{name} grants {row}: status is the operator's alone"
            );
            assert!(!resource.contains('/'), "{name} grants a subresource: {row}");
            assert!(resource != "secrets", "{name} grants Secrets: {row}");
            assert_eq!(group, "awsaccess.dev", "{name} grants {row}");
            assert!(
                !row.split(' ').take(2).any(|part| part.contains('*')),
                "{name} grants a wildcard: {row}"
            );
        }
    }
    assert!(
        find(&docs, "ClusterRoleBinding")
            .iter()
            .all(|binding| !TENANT_ROLES.contains(&binding["roleRef"]["name"].as_str().unwrap_or_default())),
        "the chart binds no tenant role: the platform team does"
    );
}

#[test]
fn tenant_cluster_roles_are_left_out_when_aggregation_is_off() {
    let docs = render(&["--set", "tenantRoles.aggregate=false"]);
    assert_eq!(names(&docs, "ClusterRole"), BTreeSet::from(["ops-aws-access-operator"]));
    let default = render(&[]);
    let want: BTreeSet<&str> = TENANT_ROLES.into_iter().chain(["ops-aws-access-operator"]).collect();
    assert_eq!(names(&default, "ClusterRole"), want, "on by default");
}

#[test]
fn installation_id_reaches_the_container_only_when_set() {
    let docs = render(&["--set", "installationId=abc"]);
    let var = env_var(&docs, "INSTALLATION_ID").expect("INSTALLATION_ID set");
    assert_eq!(var["value"].as_str(), Some("abc"));

    let default = render(&[]);
    assert!(
        env_var(&default, "INSTALLATION_ID").is_none(),
        "the default installation id (kube-system's UID) is the operator's to read"
    );
}

#[test]
fn schema_refuses_an_installation_id_with_a_slash() {
    let stderr = refused(&["--set", "installationId=a/b"]);
    assert!(stderr.contains("installationId"), "{stderr}");
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
    let stderr = refused(&["--set", "replicaCount=two"]);
    assert!(stderr.contains("replicaCount"), "{stderr}");
    refused(&["--set", "logFormat=yaml"]);
}

#[test]
fn several_replicas_without_leader_election_are_refused() {
    refused(&["--set", "leaderElection.enabled=false"]);
}

/// The operator container's `--metrics-address`, and the ports its probes
/// reach (a named port resolved to its containerPort), liveness then readiness.
fn metrics_address_and_probe_ports(docs: &[Value]) -> (String, Vec<Option<u64>>) {
    let container = &one(docs, "Deployment")["spec"]["template"]["spec"]["containers"][0];
    let address = strings(&container["args"])
        .into_iter()
        .find_map(|arg| arg.strip_prefix("--metrics-address="))
        .expect("--metrics-address")
        .to_owned();
    let ports = container["ports"].as_sequence().expect("ports");
    let probes = ["livenessProbe", "readinessProbe"].map(|probe| {
        let port = &container[probe]["httpGet"]["port"];
        port.as_u64().or_else(|| {
            ports
                .iter()
                .find(|p| p["name"] == *port)
                .and_then(|p| p["containerPort"].as_u64())
        })
    });
    (address, probes.into())
}

#[test]
fn the_metrics_bind_address_reaches_the_operator_and_its_probes_follow() {
    let (address, probes) = metrics_address_and_probe_ports(&render(&["--set", "metrics.port=9090"]));
    assert_eq!(address, "0.0.0.0:9090", "every interface by default");
    assert_eq!(
        probes,
        [Some(9090), Some(9090)],
        "the probes reach the port it listens on"
    );

    let (address, _) = metrics_address_and_probe_ports(&render(&["--set", "metrics.bindAddress=::"]));
    assert_eq!(address, "[::]:8080");

    // Bound to the loopback for a sidecar, the probes must go to the sidecar:
    // the kubelet calls the pod IP.
    let stderr = refused(&["--set", "metrics.bindAddress=127.0.0.1"]);
    assert!(
        stderr.contains(
            "livenessProbe probes port metrics, but metrics.bindAddress 127.0.0.1 listens only inside the pod"
        ),
        "{stderr}"
    );
    let sidecar = render(&[
        "--set",
        "metrics.bindAddress=127.0.0.1",
        "--set",
        "livenessProbe.httpGet.port=8443",
        "--set",
        "readinessProbe.httpGet.port=8443",
    ]);
    let (address, probes) = metrics_address_and_probe_ports(&sidecar);
    assert_eq!(address, "127.0.0.1:8080");
    assert_eq!(probes, [Some(8443), Some(8443)]);
    let without = render(&[
        "--set",
        "metrics.bindAddress=127.0.0.1",
        "--set",
        "livenessProbe=null",
        "--set",
        "readinessProbe=null",
    ]);
    let container = &one(&without, "Deployment")["spec"]["template"]["spec"]["containers"][0];
    assert!(container["livenessProbe"].is_null() && container["readinessProbe"].is_null());

    let stderr = refused(&["--set", "metrics.bindAddress=localhost"]);
    assert!(stderr.contains("bindAddress"), "a host name is no address: {stderr}");
}

#[test]
fn network_policy_admits_the_webhook_from_anywhere_and_metrics_only_from_monitoring() {
    let docs = render(&[]);
    let policy = one(&docs, "NetworkPolicy");
    let selector = &one(&docs, "Deployment")["spec"]["selector"]["matchLabels"];
    assert_eq!(&policy["spec"]["podSelector"]["matchLabels"], selector);
    assert_eq!(strings(&policy["spec"]["policyTypes"]), ["Ingress", "Egress"]);
    let ingress: serde_json::Value = serde_yaml_ng::from_value(policy["spec"]["ingress"].clone()).expect("ingress");
    assert_eq!(
        ingress,
        serde_json::json!([
            {"ports": [{"port": 9443, "protocol": "TCP"}]},
            {
                "from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}],
                "ports": [{"port": 8080, "protocol": "TCP"}],
            },
        ])
    );
    let egress: serde_json::Value = serde_yaml_ng::from_value(policy["spec"]["egress"].clone()).expect("egress");
    assert_eq!(egress, serde_json::json!([{}]), "all egress: the API server and AWS");

    let prometheus = r#"[{"podSelector": {"matchLabels": {"app": "prometheus"}}}]"#;
    let egress = r#"[{"ports": [{"port": 443}]}]"#;
    let custom = render(&[
        "--set-json",
        &format!("networkPolicy.metricsFrom={prometheus}"),
        "--set-json",
        &format!("networkPolicy.egress={egress}"),
        "--set",
        "webhook.enabled=false",
    ]);
    let spec = &one(&custom, "NetworkPolicy")["spec"];
    let ingress: serde_json::Value = serde_yaml_ng::from_value(spec["ingress"].clone()).expect("ingress");
    assert_eq!(
        ingress,
        serde_json::json!([{
            "from": [{"podSelector": {"matchLabels": {"app": "prometheus"}}}],
            "ports": [{"port": 8080, "protocol": "TCP"}],
        }]),
        "no webhook port without the webhook"
    );
    let rendered: serde_json::Value = serde_yaml_ng::from_value(spec["egress"].clone()).expect("egress");
    assert_eq!(
        rendered,
        serde_json::from_str::<serde_json::Value>(egress).expect("JSON")
    );

    // An ingress rule without `from` admits everyone: no metricsFrom must mean no rule.
    let nobody = render(&["--set-json", "networkPolicy.metricsFrom=[]"]);
    let rules = one(&nobody, "NetworkPolicy")["spec"]["ingress"]
        .as_sequence()
        .expect("ingress");
    assert_eq!(rules.len(), 1, "only the webhook's: {rules:?}");
    assert!(rules[0]["from"].is_null());

    let stderr = refused(&["--set-json", "networkPolicy.egress=[]"]);
    assert!(stderr.contains("networkPolicy.egress is empty"), "{stderr}");
    assert!(find(&render(&["--set", "networkPolicy.enabled=false"]), "NetworkPolicy").is_empty());
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

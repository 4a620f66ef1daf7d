//! The columns and cells of the kinds a cluster serves without a kubelet (Pods, Services,
//! Nodes, workloads, RBAC, certificates, API services), as kube-apiserver's printers
//! (pkg/printers/internalversion) make them. With no kubelet and no controllers, what those
//! would write (container statuses, node conditions, replica counts) prints as they leave it
//! unset: `0/1`, `<none>`, `Unknown`.

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};

use crate::registry::Builtin;

use super::{CREATION_DOC, age_column, column, name_column, parse_time, since, str_at};

const NONE: &str = "<none>";

fn string_column(name: &str, description: &str, priority: i64) -> Value {
    column(name, "string", "", description, priority)
}

fn created_at_column() -> Value {
    column("Created At", "date", "", CREATION_DOC, 0)
}

pub(super) fn cluster_columns(builtin: Builtin) -> Vec<Value> {
    match builtin {
        Builtin::Pod => vec![
            name_column(0),
            string_column(
                "Ready",
                "The aggregate readiness state of this pod for accepting traffic.",
                0,
            ),
            string_column("Status", "The aggregate status of the containers in this pod.", 0),
            string_column(
                "Restarts",
                "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.",
                0,
            ),
            age_column(),
            string_column(
                "IP",
                "IP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.",
                1,
            ),
            string_column(
                "Node",
                "NodeName is a request to schedule this pod onto a specific node. If it is non-empty, the scheduler simply schedules this pod onto that node, assuming that it fits resource requirements.",
                1,
            ),
            string_column(
                "Nominated Node",
                "nominatedNodeName is set only when this pod preempts other pods on the node, but it cannot be scheduled right away as preemption victims receive their graceful termination periods.",
                1,
            ),
            string_column(
                "Readiness Gates",
                "If specified, all readiness gates will be evaluated for pod readiness. A pod is ready when all its containers are ready AND all conditions specified in the readiness gates have status equal to \"True\"",
                1,
            ),
        ],
        Builtin::Service => vec![
            name_column(0),
            string_column(
                "Type",
                "type determines how the Service is exposed. Defaults to ClusterIP.",
                0,
            ),
            string_column(
                "Cluster-IP",
                "clusterIP is the IP address of the service and is usually assigned randomly.",
                0,
            ),
            string_column(
                "External-IP",
                "externalIPs is a list of IP addresses for which nodes in the cluster will also accept traffic for this service.",
                0,
            ),
            string_column("Port(s)", "The list of ports that are exposed by this service.", 0),
            age_column(),
            string_column(
                "Selector",
                "Route service traffic to pods with label keys and values matching this selector.",
                1,
            ),
        ],
        Builtin::ServiceAccount => vec![
            name_column(0),
            column(
                "Secrets",
                "string",
                "",
                "Secrets is a list of the secrets in the same namespace that pods running using this ServiceAccount are allowed to use.",
                0,
            ),
            age_column(),
        ],
        Builtin::Node => vec![
            name_column(0),
            string_column("Status", "The status of the node", 0),
            string_column("Roles", "The roles of the node", 0),
            age_column(),
            string_column("Version", "Kubelet Version reported by the node.", 0),
            string_column(
                "Internal-IP",
                "List of addresses reachable to the node. Queried from cloud provider, if available.",
                1,
            ),
            string_column(
                "External-IP",
                "List of addresses reachable to the node. Queried from cloud provider, if available.",
                1,
            ),
            string_column(
                "OS-Image",
                "OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).",
                1,
            ),
            string_column(
                "Kernel-Version",
                "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).",
                1,
            ),
            string_column(
                "Container-Runtime",
                "ContainerRuntime Version reported by the node through runtime remote API (e.g. containerd://1.4.2).",
                1,
            ),
        ],
        Builtin::ComponentStatus => vec![
            name_column(0),
            string_column("Status", "Status of the component conditions", 0),
            string_column("Message", "Message of the component conditions", 0),
            string_column("Error", "Error of the component conditions", 0),
        ],
        Builtin::Deployment => vec![
            name_column(0),
            string_column("Ready", "Number of the pod with ready state", 0),
            column(
                "Up-to-date",
                "integer",
                "",
                "Total number of non-terminated pods targeted by this deployment that have the desired template spec.",
                0,
            ),
            column(
                "Available",
                "integer",
                "",
                "Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.",
                0,
            ),
            age_column(),
            string_column("Containers", "Names of each container in the template.", 1),
            string_column("Images", "Images referenced by each container in the template.", 1),
            string_column(
                "Selector",
                "Label selector for pods. Existing ReplicaSets whose pods are selected by this will be the ones affected by this deployment.",
                1,
            ),
        ],
        Builtin::Job => vec![
            name_column(0),
            string_column("Status", "Status of the job.", 0),
            string_column("Completions", "The completion status of the job.", 0),
            string_column("Duration", "Time required to complete the job.", 0),
            age_column(),
            string_column("Containers", "Names of each container in the template.", 1),
            string_column("Images", "Images referenced by each container in the template.", 1),
            string_column(
                "Selector",
                "A label query over pods that should match the pod count.",
                1,
            ),
        ],
        Builtin::Role | Builtin::ClusterRole | Builtin::TokenReview => vec![name_column(0), created_at_column()],
        Builtin::RoleBinding | Builtin::ClusterRoleBinding => vec![
            name_column(0),
            string_column("Role", "Role references the role being bound.", 0),
            age_column(),
            string_column("Users", "Users in the roleBinding", 1),
            string_column("Groups", "Groups in the roleBinding", 1),
            string_column("ServiceAccounts", "ServiceAccounts in the roleBinding", 1),
        ],
        Builtin::CertificateSigningRequest => vec![
            name_column(0),
            age_column(),
            string_column(
                "SignerName",
                "Only requests with a matching signerName will be processed.",
                0,
            ),
            string_column(
                "Requestor",
                "Name of the user that created the CertificateSigningRequest.",
                0,
            ),
            string_column(
                "RequestedDuration",
                "The requested duration of validity of the issued certificate.",
                0,
            ),
            string_column("Condition", "Approved, denied or failed condition of the request.", 0),
        ],
        Builtin::ApiService => vec![
            name_column(0),
            string_column(
                "Service",
                "The reference to the service that hosts this API endpoint.",
                0,
            ),
            string_column("Available", "Whether this service is available.", 0),
            age_column(),
        ],
        _ => unreachable!("the kinds of builtins.rs are printed there"),
    }
}

fn or_none(text: &str) -> Value {
    json!(if text.is_empty() { NONE } else { text })
}

fn items<'a>(object: &'a Value, pointer: &str) -> &'a [Value] {
    object
        .pointer(pointer)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

fn joined(values: &[Value], field: &str) -> Value {
    let names: Vec<&str> = values.iter().filter_map(|v| v[field].as_str()).collect();
    or_none(&names.join(","))
}

fn condition_status<'a>(object: &'a Value, pointer: &str, kind: &str) -> Option<&'a str> {
    items(object, pointer)
        .iter()
        .find(|c| c["type"] == kind)
        .and_then(|c| c["status"].as_str())
}

fn int_at(object: &Value, pointer: &str) -> i64 {
    object.pointer(pointer).and_then(Value::as_i64).unwrap_or(0)
}

fn selector_text(selector: &Value) -> Value {
    let Some(labels) = selector.as_object() else {
        return json!(NONE);
    };
    let pairs: Vec<String> = labels
        .iter()
        .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
        .collect();
    or_none(&pairs.join(","))
}

fn pod_cells(name: Value, object: &Value, age: Value) -> Vec<Value> {
    let containers = items(object, "/spec/containers").len();
    let statuses = items(object, "/status/containerStatuses");
    let ready = statuses.iter().filter(|s| s["ready"] == true).count();
    let restarts: i64 = statuses.iter().filter_map(|s| s["restartCount"].as_i64()).sum();
    let reason = str_at(object, "/status/reason");
    let status = if object.pointer("/metadata/deletionTimestamp").is_some() {
        "Terminating"
    } else if !reason.is_empty() {
        reason
    } else {
        str_at(object, "/status/phase")
    };
    vec![
        name,
        json!(format!("{ready}/{containers}")),
        json!(status),
        json!(restarts.to_string()),
        age,
        or_none(str_at(object, "/status/podIP")),
        or_none(str_at(object, "/spec/nodeName")),
        or_none(str_at(object, "/status/nominatedNodeName")),
        json!(NONE),
    ]
}

fn service_cells(name: Value, object: &Value, age: Value) -> Vec<Value> {
    let service_type = str_at(object, "/spec/type");
    let ports: Vec<String> = items(object, "/spec/ports")
        .iter()
        .map(|p| {
            let protocol = p["protocol"].as_str().unwrap_or("TCP");
            match p["nodePort"].as_i64() {
                Some(node_port) => format!("{}:{node_port}/{protocol}", p["port"]),
                None => format!("{}/{protocol}", p["port"]),
            }
        })
        .collect();
    let external: Vec<&str> = items(object, "/spec/externalIPs")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    vec![
        name,
        json!(if service_type.is_empty() {
            "ClusterIP"
        } else {
            service_type
        }),
        or_none(str_at(object, "/spec/clusterIP")),
        or_none(&external.join(",")),
        or_none(&ports.join(",")),
        age,
        selector_text(&object["spec"]["selector"]),
    ]
}

fn node_cells(name: Value, object: &Value, age: Value) -> Vec<Value> {
    let mut status = match condition_status(object, "/status/conditions", "Ready") {
        Some("True") => "Ready",
        Some("False") => "NotReady",
        _ => "Unknown",
    }
    .to_string();
    if object.pointer("/spec/unschedulable") == Some(&json!(true)) {
        status.push_str(",SchedulingDisabled");
    }
    let roles: Vec<&str> = object["metadata"]["labels"]
        .as_object()
        .map(|labels| {
            labels
                .keys()
                .filter_map(|k| k.strip_prefix("node-role.kubernetes.io/"))
                .collect()
        })
        .unwrap_or_default();
    let address = |kind: &str| {
        let found = items(object, "/status/addresses").iter().find(|a| a["type"] == kind);
        or_none(found.and_then(|a| a["address"].as_str()).unwrap_or_default())
    };
    vec![
        name,
        json!(status),
        or_none(&roles.join(",")),
        age,
        json!(str_at(object, "/status/nodeInfo/kubeletVersion")),
        address("InternalIP"),
        address("ExternalIP"),
        json!(str_at(object, "/status/nodeInfo/osImage")),
        json!(str_at(object, "/status/nodeInfo/kernelVersion")),
        json!(str_at(object, "/status/nodeInfo/containerRuntimeVersion")),
    ]
}

fn template_cells(object: &Value) -> [Value; 3] {
    let containers = items(object, "/spec/template/spec/containers");
    [
        joined(containers, "name"),
        joined(containers, "image"),
        selector_text(&object["spec"]["selector"]["matchLabels"]),
    ]
}

fn binding_cells(name: Value, object: &Value, age: Value) -> Vec<Value> {
    let subjects = items(object, "/subjects");
    let of_kind = |kind: &str| {
        let names: Vec<String> = subjects
            .iter()
            .filter(|s| s["kind"] == kind)
            .map(|s| match s["namespace"].as_str() {
                Some(namespace) if kind == "ServiceAccount" => format!("{namespace}/{}", str_at(s, "/name")),
                _ => str_at(s, "/name").to_owned(),
            })
            .collect();
        json!(names.join(", "))
    };
    vec![
        name,
        json!(format!(
            "{}/{}",
            str_at(object, "/roleRef/kind"),
            str_at(object, "/roleRef/name")
        )),
        age,
        of_kind("User"),
        of_kind("Group"),
        of_kind("ServiceAccount"),
    ]
}

fn csr_condition(object: &Value) -> Value {
    let conditions: Vec<&str> = items(object, "/status/conditions")
        .iter()
        .filter_map(|c| c["type"].as_str())
        .collect();
    let mut text = if conditions.is_empty() {
        "Pending".to_owned()
    } else {
        conditions.join(",")
    };
    if object
        .pointer("/status/certificate")
        .is_some_and(|c| c.as_str().is_some_and(|c| !c.is_empty()))
    {
        text.push_str(",Issued");
    }
    json!(text)
}

pub(super) fn cluster_cells(builtin: Builtin, name: Value, object: &Value, now: DateTime<Utc>) -> Vec<Value> {
    let age = json!(since(&object["metadata"]["creationTimestamp"], now));
    let created_at = || {
        json!(parse_time(&object["metadata"]["creationTimestamp"]).map_or_else(
            || "0001-01-01T00:00:00Z".to_owned(),
            |time| time.to_rfc3339_opts(SecondsFormat::Secs, true),
        ))
    };
    match builtin {
        Builtin::Pod => pod_cells(name, object, age),
        Builtin::Service => service_cells(name, object, age),
        Builtin::ServiceAccount => vec![name, json!(items(object, "/secrets").len()), age],
        Builtin::Node => node_cells(name, object, age),
        Builtin::ComponentStatus => {
            let healthy = items(object, "/conditions").iter().find(|c| c["type"] == "Healthy");
            let status = match healthy.map(|c| &c["status"]) {
                Some(s) if s == "True" => "Healthy",
                Some(_) => "Unhealthy",
                None => "Unknown",
            };
            let field = |f: &str| json!(healthy.and_then(|c| c[f].as_str()).unwrap_or_default());
            vec![name, json!(status), field("message"), field("error")]
        }
        Builtin::Deployment => {
            let [containers, images, selector] = template_cells(object);
            let desired = object.pointer("/spec/replicas").and_then(Value::as_i64).unwrap_or(1);
            vec![
                name,
                json!(format!("{}/{desired}", int_at(object, "/status/readyReplicas"))),
                json!(int_at(object, "/status/updatedReplicas")),
                json!(int_at(object, "/status/availableReplicas")),
                age,
                containers,
                images,
                selector,
            ]
        }
        Builtin::Job => {
            let [containers, images, selector] = template_cells(object);
            let completions = object.pointer("/spec/completions").and_then(Value::as_i64).unwrap_or(1);
            let status = match (
                condition_status(object, "/status/conditions", "Complete"),
                condition_status(object, "/status/conditions", "Failed"),
            ) {
                (Some("True"), _) => "Complete",
                (_, Some("True")) => "Failed",
                _ if object.pointer("/spec/suspend") == Some(&json!(true)) => "Suspended",
                _ => "Running",
            };
            vec![
                name,
                json!(status),
                json!(format!("{}/{completions}", int_at(object, "/status/succeeded"))),
                json!(""),
                age,
                containers,
                images,
                selector,
            ]
        }
        Builtin::Role | Builtin::ClusterRole | Builtin::TokenReview => vec![name, created_at()],
        Builtin::RoleBinding | Builtin::ClusterRoleBinding => binding_cells(name, object, age),
        Builtin::CertificateSigningRequest => {
            let duration = object
                .pointer("/spec/expirationSeconds")
                .and_then(Value::as_i64)
                .map_or_else(
                    || json!(NONE),
                    |s| json!(super::human_duration(chrono::TimeDelta::seconds(s))),
                );
            vec![
                name,
                age,
                json!(str_at(object, "/spec/signerName")),
                json!(str_at(object, "/spec/username")),
                duration,
                csr_condition(object),
            ]
        }
        Builtin::ApiService => {
            let service = match object.pointer("/spec/service") {
                Some(s) if s.is_object() => format!("{}/{}", str_at(s, "/namespace"), str_at(s, "/name")),
                _ => "Local".to_owned(),
            };
            let available = match condition_status(object, "/status/conditions", "Available") {
                Some("True") => "True".to_owned(),
                Some(other) => format!("{other} ({})", str_at(object, "/status/conditions/0/reason")),
                None => "Unknown".to_owned(),
            };
            vec![name, json!(service), json!(available), age]
        }
        _ => unreachable!("the kinds of builtins.rs are printed there"),
    }
}

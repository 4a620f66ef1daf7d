//! What a new cluster holds before anyone writes to it, besides its namespaces: what
//! kube-apiserver itself creates (the `kubernetes` Service in `default`, the bootstrap RBAC
//! role `cluster-admin` bound to `system:masters`, a local APIService per built-in
//! group-version) and the ComponentStatuses it would compute, all healthy since nothing here
//! can fail. Nodes and ServiceAccounts are left out: a kubelet and the controller manager make
//! those, and envtest has neither.

use std::collections::BTreeSet;
use std::sync::Arc;

use serde_json::{Value, json};

use crate::registry::{Builtin, ResourceDef, builtins};
use crate::store::{Store, WriteOptions};

/// The ClusterIP of the `kubernetes` Service: the first address of kubeadm's default range.
const KUBERNETES_SERVICE_IP: &str = "10.96.0.1";

/// Creates the bootstrap objects in a new store.
#[allow(
    clippy::panic,
    reason = "bootstrap objects are constants: a failure is a bug every test meets at once"
)]
pub fn seed(store: &Store) {
    let defs: Vec<Arc<ResourceDef>> = builtins().into_iter().map(Arc::new).collect();
    let options = WriteOptions {
        field_manager: "kube-apiserver".into(),
        ..Default::default()
    };
    for (which, namespace, object) in objects(&defs) {
        let Some(def) = defs.iter().find(|d| d.builtin == Some(which)) else {
            continue;
        };
        // Bootstrap objects are always valid; an error here is a programming error every test catches.
        if let Err(err) = store.create(def, namespace, object, &options) {
            panic!("creating the bootstrap {}: {}", def.kind, err.message);
        }
    }
}

fn objects(defs: &[Arc<ResourceDef>]) -> Vec<(Builtin, Option<&'static str>, Value)> {
    let bootstrapping = json!({ "kubernetes.io/bootstrapping": "rbac-defaults" });
    let autoupdate = json!({ "rbac.authorization.kubernetes.io/autoupdate": "true" });
    let mut objects = vec![
        (
            Builtin::Service,
            Some("default"),
            json!({
                "apiVersion": "v1", "kind": "Service",
                "metadata": { "name": "kubernetes", "labels": { "component": "apiserver", "provider": "kubernetes" } },
                "spec": {
                    "clusterIP": KUBERNETES_SERVICE_IP,
                    "clusterIPs": [KUBERNETES_SERVICE_IP],
                    "internalTrafficPolicy": "Cluster",
                    "ipFamilies": ["IPv4"],
                    "ipFamilyPolicy": "SingleStack",
                    "ports": [{ "name": "https", "port": 443, "protocol": "TCP", "targetPort": 6443 }],
                    "sessionAffinity": "None",
                    "type": "ClusterIP",
                },
                "status": { "loadBalancer": {} },
            }),
        ),
        (
            Builtin::ClusterRole,
            None,
            json!({
                "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
                "metadata": { "name": "cluster-admin", "labels": bootstrapping, "annotations": autoupdate },
                "rules": [
                    { "apiGroups": ["*"], "resources": ["*"], "verbs": ["*"] },
                    { "nonResourceURLs": ["*"], "verbs": ["*"] },
                ],
            }),
        ),
        (
            Builtin::ClusterRoleBinding,
            None,
            json!({
                "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
                "metadata": { "name": "cluster-admin", "labels": bootstrapping, "annotations": autoupdate },
                "roleRef": { "apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin" },
                "subjects": [{ "apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "system:masters" }],
            }),
        ),
    ];
    for component in ["controller-manager", "etcd-0", "scheduler"] {
        objects.push((
            Builtin::ComponentStatus,
            None,
            json!({
                "apiVersion": "v1", "kind": "ComponentStatus",
                "metadata": { "name": component },
                "conditions": [{ "type": "Healthy", "status": "True", "message": "ok" }],
            }),
        ));
    }
    let group_versions: BTreeSet<(&str, &str)> = defs.iter().map(|d| (d.group.as_str(), d.version.as_str())).collect();
    // The core group's would be named "v1.", which the real server's APIService name check lets
    // through and this server's subdomain check does not: it is left out.
    for (group, version) in group_versions.into_iter().filter(|(group, _)| !group.is_empty()) {
        objects.push((Builtin::ApiService, None, local_api_service(group, version)));
    }
    objects
}

/// The APIService the apiserver registers for a group-version it serves itself: no service,
/// always available.
fn local_api_service(group: &str, version: &str) -> Value {
    json!({
        "apiVersion": "apiregistration.k8s.io/v1", "kind": "APIService",
        "metadata": { "name": format!("{version}.{group}"), "labels": { "kube-aggregator.kubernetes.io/automanaged": "onstart" } },
        "spec": {
            "group": group,
            "version": version,
            "groupPriorityMinimum": 17000,
            "versionPriority": 15,
        },
        "status": {
            "conditions": [{
                "type": "Available", "status": "True", "reason": "Local",
                "message": "Local APIServices are always available",
                "lastTransitionTime": crate::store::now_rfc3339(),
            }],
        },
    })
}

//! The discovery documents: aggregated discovery (`/api` and `/apis` as one
//! `APIGroupDiscoveryList` each, apidiscovery.k8s.io v2 or v2beta1), which kubectl and
//! kube-rs ask for first, and the legacy documents (`/api`, `/apis`, `/apis/{group}`,
//! `/apis/{group}/{version}`) they fall back to when the answer's content type says plain JSON.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::registry::{Builtin, ResourceDef};

const VERBS: [&str; 8] = [
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];

pub fn version() -> Value {
    json!({
        "major": "1", "minor": "34", "gitVersion": "v1.34.0-kube-testserver",
        "gitCommit": "0000000000000000000000000000000000000000", "gitTreeState": "clean",
        "buildDate": "2026-01-01T00:00:00Z", "goVersion": "go1.24", "compiler": "gc", "platform": "linux/amd64"
    })
}

pub fn core_versions(server_address: &str) -> Value {
    json!({
        "kind": "APIVersions", "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}]
    })
}

/// Versions of each named group, in the order the CRDs list them (the first is preferred).
fn groups(defs: &[ResourceDef]) -> BTreeMap<String, Vec<String>> {
    let mut groups: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for def in defs.iter().filter(|d| !d.group.is_empty()) {
        let versions = groups.entry(def.group.clone()).or_default();
        if !versions.contains(&def.version) {
            versions.push(def.version.clone());
        }
    }
    groups
}

fn group_json(name: &str, versions: &[String]) -> Value {
    let versions: Vec<Value> = versions
        .iter()
        .map(|v| json!({"groupVersion": format!("{name}/{v}"), "version": v}))
        .collect();
    json!({"name": name, "versions": versions.clone(), "preferredVersion": versions[0]})
}

pub fn group_list(defs: &[ResourceDef]) -> Value {
    let groups: Vec<Value> = groups(defs)
        .iter()
        .map(|(name, versions)| group_json(name, versions))
        .collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

pub fn group(defs: &[ResourceDef], name: &str) -> Option<Value> {
    let groups = groups(defs);
    let versions = groups.get(name)?;
    let mut group = group_json(name, versions);
    group["kind"] = json!("APIGroup");
    group["apiVersion"] = json!("v1");
    Some(group)
}

/// The `APIGroupDiscoveryList` of `/api` (`core`: the core group alone) or `/apis` (the named
/// groups), at `version` of apidiscovery.k8s.io. Versions come preferred first, as clients
/// take the first one for the preferred version.
pub fn aggregated(defs: &[ResourceDef], core: bool, version: &str) -> Value {
    let groups = if core {
        BTreeMap::from([(String::new(), vec!["v1".to_owned()])])
    } else {
        groups(defs)
    };
    let items: Vec<Value> = groups
        .iter()
        .map(|(group, versions)| {
            let versions: Vec<Value> = versions
                .iter()
                .map(|version| {
                    let resources: Vec<Value> = defs
                        .iter()
                        .filter(|d| &d.group == group && &d.version == version)
                        .map(resource_discovery)
                        .collect();
                    json!({"version": version, "resources": resources, "freshness": "Current"})
                })
                .collect();
            let mut metadata = json!({"creationTimestamp": null});
            if !group.is_empty() {
                metadata["name"] = json!(group);
            }
            json!({"metadata": metadata, "versions": versions})
        })
        .collect();
    json!({
        "kind": "APIGroupDiscoveryList",
        "apiVersion": format!("apidiscovery.k8s.io/{version}"),
        "metadata": {},
        "items": items,
    })
}

/// One resource of aggregated discovery (`APIResourceDiscovery`).
fn resource_discovery(def: &ResourceDef) -> Value {
    let kind = json!({"group": def.group, "version": def.version, "kind": def.kind});
    let mut resource = json!({
        "resource": def.plural,
        "responseKind": kind,
        "scope": if def.namespaced { "Namespaced" } else { "Cluster" },
        "singularResource": def.singular,
        "verbs": verbs(def),
    });
    if !def.short_names.is_empty() {
        resource["shortNames"] = json!(def.short_names);
    }
    if !def.categories.is_empty() {
        resource["categories"] = json!(def.categories);
    }
    let subresources: Vec<Value> = subresources(def)
        .into_iter()
        .map(|(name, (group, version, kind), verbs)| {
            json!({"subresource": name, "responseKind": {"group": group, "version": version, "kind": kind}, "verbs": verbs})
        })
        .collect();
    if !subresources.is_empty() {
        resource["subresources"] = json!(subresources);
    }
    resource
}

pub fn resource_list(defs: &[ResourceDef], group: &str, version: &str) -> Option<Value> {
    let served: Vec<&ResourceDef> = defs
        .iter()
        .filter(|d| d.group == group && d.version == version)
        .collect();
    if served.is_empty() {
        return None;
    }
    let mut resources = vec![];
    for def in served {
        let mut resource = json!({
            "name": def.plural, "singularName": def.singular, "namespaced": def.namespaced,
            "kind": def.kind, "verbs": verbs(def),
        });
        if !def.short_names.is_empty() {
            resource["shortNames"] = json!(def.short_names);
        }
        if !def.categories.is_empty() {
            resource["categories"] = json!(def.categories);
        }
        resources.push(resource);
        for (name, (group, version, kind), verbs) in subresources(def) {
            let mut subresource = json!({
                "name": format!("{}/{name}", def.plural), "singularName": "", "namespaced": def.namespaced,
                "kind": kind, "verbs": verbs,
            });
            if group != def.group || version != def.version {
                subresource["group"] = json!(group);
                subresource["version"] = json!(version);
            }
            resources.push(subresource);
        }
    }
    let group_version = if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    };
    Some(json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version, "resources": resources}))
}

/// The verbs of a resource: all of them, but for kinds that are only created (TokenReview) or
/// only read (ComponentStatus).
fn verbs(def: &ResourceDef) -> Value {
    match def.builtin {
        Some(builtin) if builtin.create_only() => json!(["create"]),
        Some(builtin) if builtin.read_only() => json!(["get", "list"]),
        _ => json!(VERBS),
    }
}

type SubresourceKind<'a> = (&'a str, &'a str, &'a str);

/// A resource's subresources: name, (group, version, kind) answered, verbs.
fn subresources(def: &ResourceDef) -> Vec<(&'static str, SubresourceKind<'_>, Vec<&'static str>)> {
    let own = (def.group.as_str(), def.version.as_str(), def.kind.as_str());
    let get_patch_update = vec!["get", "patch", "update"];
    let mut subresources = vec![];
    if def.builtin == Some(Builtin::CertificateSigningRequest) {
        subresources.push(("approval", own, get_patch_update.clone()));
    }
    if def.builtin == Some(Builtin::Pod) {
        subresources.push(("ephemeralcontainers", own, get_patch_update.clone()));
    }
    if def.scale.is_some() {
        subresources.push(("scale", ("autoscaling", "v1", "Scale"), get_patch_update.clone()));
    }
    if def.status_subresource {
        subresources.push(("status", own, get_patch_update));
    }
    if def.builtin == Some(Builtin::ServiceAccount) {
        subresources.push(("token", ("authentication.k8s.io", "v1", "TokenRequest"), vec!["create"]));
    }
    subresources
}

//! The kinds the server serves: a fixed set of built-ins plus whatever the
//! CustomResourceDefinitions stored in it declare.

use serde_json::{Value, json};

use crate::cel_rules::Programs;

/// One served resource at one group/version.
#[derive(Clone, Debug)]
pub struct ResourceDef {
    /// API group; empty for the core group (`/api/v1`).
    pub group: String,
    pub version: String,
    pub kind: String,
    pub list_kind: String,
    /// The URL segment: `crossaccountroles`.
    pub plural: String,
    pub singular: String,
    pub short_names: Vec<String>,
    pub categories: Vec<String>,
    pub namespaced: bool,
    /// Whether `/status` is a subresource (writes to the main resource then ignore `.status`).
    pub status_subresource: bool,
    /// The version's `openAPIV3Schema`, for custom resources.
    pub schema: Option<Value>,
    /// What the CEL rules of `schema` compile to.
    pub programs: Programs,
    /// The version's `additionalPrinterColumns`, as written in the CRD.
    pub printer_columns: Vec<Value>,
    /// True when a CRD declared it.
    pub custom: bool,
    /// The `/scale` subresource: `specReplicasPath`, `statusReplicasPath` and
    /// `labelSelectorPath` as a CRD's `subresources.scale` declares them.
    pub scale: Option<Value>,
    /// The strategy of the built-in kind: which patch types it accepts, how it is validated.
    pub builtin: Option<Builtin>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Builtin {
    Namespace,
    Secret,
    ConfigMap,
    CoreEvent,
    Event,
    Lease,
    CustomResourceDefinition,
    ValidatingWebhookConfiguration,
    MutatingWebhookConfiguration,
    Pod,
    Service,
    ServiceAccount,
    Node,
    ComponentStatus,
    Deployment,
    Job,
    Role,
    RoleBinding,
    ClusterRole,
    ClusterRoleBinding,
    CertificateSigningRequest,
    ApiService,
    TokenReview,
}

impl ResourceDef {
    /// `v1` for core, `group/version` otherwise: the `apiVersion` of objects.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// Where objects of this resource are stored (group, plural): events.k8s.io/v1 Events are
    /// the core/v1 Events seen through another API, one registry, as in the real server.
    pub fn storage(&self) -> (&str, &str) {
        match self.builtin {
            Some(Builtin::Event) => ("", "events"),
            _ => (&self.group, &self.plural),
        }
    }

    /// Whether objects stored under `group`/`plural` are this resource's.
    pub fn stores(&self, group: &str, plural: &str) -> bool {
        self.storage() == (group, plural)
    }

    /// The resource name used in messages: `crossaccountroles.awsaccess.dev`.
    pub fn qualified_resource(&self) -> String {
        if self.group.is_empty() {
            self.plural.clone()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }

    /// The kind qualified by group, as the real server names it in "is invalid" messages.
    pub fn qualified_kind(&self) -> String {
        if self.group.is_empty() {
            self.kind.clone()
        } else {
            format!("{}.{}", self.kind, self.group)
        }
    }
}

/// A built-in kind from its `apiVersion` (`v1` or `group/version`).
fn builtin(
    which: Builtin,
    api_version: &str,
    kind: &str,
    plural: &str,
    short_names: &[&str],
    namespaced: bool,
    status_subresource: bool,
) -> ResourceDef {
    let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
    ResourceDef {
        group: group.into(),
        version: version.into(),
        kind: kind.into(),
        list_kind: format!("{kind}List"),
        plural: plural.into(),
        singular: kind.to_lowercase(),
        short_names: short_names.iter().map(|s| s.to_string()).collect(),
        categories: vec![],
        namespaced,
        status_subresource,
        schema: None,
        programs: Programs::default(),
        printer_columns: vec![],
        custom: false,
        scale: None,
        builtin: Some(which),
    }
}

/// The built-in kinds: what the operator and kubectl need.
pub fn builtins() -> Vec<ResourceDef> {
    use Builtin::*;
    vec![
        builtin(Namespace, "v1", "Namespace", "namespaces", &["ns"], false, true),
        builtin(Secret, "v1", "Secret", "secrets", &[], true, false),
        builtin(ConfigMap, "v1", "ConfigMap", "configmaps", &["cm"], true, false),
        builtin(CoreEvent, "v1", "Event", "events", &["ev"], true, false),
        builtin(Event, "events.k8s.io/v1", "Event", "events", &["ev"], true, false),
        builtin(Lease, "coordination.k8s.io/v1", "Lease", "leases", &[], true, false),
        builtin(
            CustomResourceDefinition,
            "apiextensions.k8s.io/v1",
            "CustomResourceDefinition",
            "customresourcedefinitions",
            &["crd", "crds"],
            false,
            true,
        ),
        ResourceDef {
            categories: vec!["api-extensions".into()],
            ..builtin(
                ValidatingWebhookConfiguration,
                "admissionregistration.k8s.io/v1",
                "ValidatingWebhookConfiguration",
                "validatingwebhookconfigurations",
                &[],
                false,
                false,
            )
        },
        ResourceDef {
            categories: vec!["api-extensions".into()],
            ..builtin(
                MutatingWebhookConfiguration,
                "admissionregistration.k8s.io/v1",
                "MutatingWebhookConfiguration",
                "mutatingwebhookconfigurations",
                &[],
                false,
                false,
            )
        },
        ResourceDef {
            categories: vec!["all".into()],
            ..builtin(Pod, "v1", "Pod", "pods", &["po"], true, true)
        },
        ResourceDef {
            categories: vec!["all".into()],
            ..builtin(Service, "v1", "Service", "services", &["svc"], true, true)
        },
        builtin(
            ServiceAccount,
            "v1",
            "ServiceAccount",
            "serviceaccounts",
            &["sa"],
            true,
            false,
        ),
        builtin(Node, "v1", "Node", "nodes", &["no"], false, true),
        builtin(
            ComponentStatus,
            "v1",
            "ComponentStatus",
            "componentstatuses",
            &["cs"],
            false,
            false,
        ),
        ResourceDef {
            categories: vec!["all".into()],
            // The Deployment's scale maps to its replicas as a CRD's would.
            scale: Some(json!({"specReplicasPath": ".spec.replicas", "statusReplicasPath": ".status.replicas"})),
            ..builtin(
                Deployment,
                "apps/v1",
                "Deployment",
                "deployments",
                &["deploy"],
                true,
                true,
            )
        },
        ResourceDef {
            categories: vec!["all".into()],
            ..builtin(Job, "batch/v1", "Job", "jobs", &[], true, true)
        },
        builtin(Role, RBAC_V1, "Role", "roles", &[], true, false),
        builtin(RoleBinding, RBAC_V1, "RoleBinding", "rolebindings", &[], true, false),
        builtin(ClusterRole, RBAC_V1, "ClusterRole", "clusterroles", &[], false, false),
        builtin(
            ClusterRoleBinding,
            RBAC_V1,
            "ClusterRoleBinding",
            "clusterrolebindings",
            &[],
            false,
            false,
        ),
        builtin(
            CertificateSigningRequest,
            "certificates.k8s.io/v1",
            "CertificateSigningRequest",
            "certificatesigningrequests",
            &["csr"],
            false,
            true,
        ),
        ResourceDef {
            categories: vec!["api-extensions".into()],
            ..builtin(
                ApiService,
                "apiregistration.k8s.io/v1",
                "APIService",
                "apiservices",
                &[],
                false,
                true,
            )
        },
        builtin(
            TokenReview,
            "authentication.k8s.io/v1",
            "TokenReview",
            "tokenreviews",
            &[],
            false,
            false,
        ),
    ]
}

const RBAC_V1: &str = "rbac.authorization.k8s.io/v1";

impl Builtin {
    /// Kinds the server answers but does not store: a TokenReview is created and answered at once.
    pub fn create_only(self) -> bool {
        self == Builtin::TokenReview
    }

    /// The fields a field selector may name besides `metadata.name` and `metadata.namespace`,
    /// for the kinds registry.rs adds for kube-rs (the others' are listed where they are served).
    pub fn field_labels(self) -> &'static [&'static str] {
        match self {
            Builtin::Pod => &[
                "spec.nodeName",
                "spec.restartPolicy",
                "spec.schedulerName",
                "spec.serviceAccountName",
                "spec.hostNetwork",
                "status.phase",
                "status.podIP",
                "status.nominatedNodeName",
            ],
            Builtin::Node => &["spec.unschedulable"],
            Builtin::Service => &["spec.clusterIP", "spec.type"],
            Builtin::Job => &["status.successful"],
            Builtin::CertificateSigningRequest => &["spec.signerName"],
            _ => &[],
        }
    }

    /// Kinds the server computes and clients only read.
    pub fn read_only(self) -> bool {
        self == Builtin::ComponentStatus
    }
}

/// The resources a stored CustomResourceDefinition serves: one per served version.
pub fn defs_from_crd(crd: &Value) -> Vec<ResourceDef> {
    let spec = &crd["spec"];
    let names = &spec["names"];
    let str_of = |v: &Value| v.as_str().unwrap_or_default().to_string();
    let strings = |v: &Value| -> Vec<String> {
        v.as_array()
            .map(|a| a.iter().filter_map(|s| s.as_str().map(String::from)).collect())
            .unwrap_or_default()
    };
    let kind = str_of(&names["kind"]);
    let versions = spec["versions"].as_array().cloned().unwrap_or_default();
    versions
        .iter()
        .filter(|v| v["served"].as_bool().unwrap_or(false))
        .map(|version| ResourceDef {
            group: str_of(&spec["group"]),
            version: str_of(&version["name"]),
            kind: kind.clone(),
            list_kind: names["listKind"]
                .as_str()
                .map(String::from)
                .unwrap_or_else(|| format!("{kind}List")),
            plural: str_of(&names["plural"]),
            singular: names["singular"]
                .as_str()
                .map(String::from)
                .unwrap_or_else(|| kind.to_lowercase()),
            short_names: strings(&names["shortNames"]),
            categories: strings(&names["categories"]),
            namespaced: spec["scope"].as_str() != Some("Cluster"),
            status_subresource: version.pointer("/subresources/status").is_some(),
            schema: version.pointer("/schema/openAPIV3Schema").cloned(),
            programs: Programs::default(),
            printer_columns: version["additionalPrinterColumns"]
                .as_array()
                .cloned()
                .unwrap_or_default(),
            custom: true,
            scale: version.pointer("/subresources/scale").cloned(),
            builtin: None,
        })
        .collect()
}

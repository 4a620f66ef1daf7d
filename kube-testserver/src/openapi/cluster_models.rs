//! The schemas of the kinds a cluster serves without a kubelet (Pods, Services, Nodes,
//! workloads, RBAC, certificates, API services, token reviews), as kube-openapi names them.
//!
//! The small types (RBAC rules and subjects, CSR and TokenReview bodies, conditions) are
//! written out field by field. The large ones (PodSpec, ServiceSpec, NodeSpec, DeploymentSpec,
//! JobSpec and their statuses) are objects that declare no fields: the server then keeps
//! whatever a client writes there instead of pruning fields it does not know, which is what a
//! test server without controllers needs (`kubectl explain` shows them as plain objects).

use serde_json::{Value, json};

use super::models::{
    BuiltinModel, bool_prop, int_prop, model, named, object_reference_schema, object_schema, string_list_prop,
    string_prop,
};
use super::{CORE_V1, SPEC_STATUS_DOC, TIME, described_ref, schema_ref};
use crate::registry::Builtin;

pub(super) const APPS_V1: &str = "io.k8s.api.apps.v1";
pub(super) const BATCH_V1: &str = "io.k8s.api.batch.v1";
pub(super) const RBAC_V1: &str = "io.k8s.api.rbac.v1";
pub(super) const CERTIFICATES_V1: &str = "io.k8s.api.certificates.v1";
pub(super) const APIREGISTRATION_V1: &str = "io.k8s.kube-aggregator.pkg.apis.apiregistration.v1";
pub(super) const AUTHENTICATION_V1: &str = "io.k8s.api.authentication.v1";

/// A kind whose body is a `spec` and a `status` of types that declare no fields here.
fn spec_and_status(package: &str, kind: &str, description: &str) -> BuiltinModel {
    let spec = named(package, &format!("{kind}Spec"));
    let status = named(package, &format!("{kind}Status"));
    model(
        description,
        json!({
            "spec": described_ref(&spec, &format!("Spec defines the behavior of the {kind}. {SPEC_STATUS_DOC}")),
            "status": described_ref(&status, &format!("Most recently observed status of the {kind}. {SPEC_STATUS_DOC}")),
        }),
        &[],
        vec![
            (
                spec,
                json!({ "description": format!("{kind}Spec is the specification of a {kind}."), "type": "object" }),
            ),
            (
                status,
                json!({ "description": format!("{kind}Status is the observed state of a {kind}."), "type": "object" }),
            ),
        ],
    )
}

fn list_of(name: &str, description: &str) -> Value {
    json!({ "type": "array", "items": schema_ref(name), "description": description })
}

fn policy_rule() -> (String, Value) {
    let mut rule = object_schema(
        "PolicyRule holds information that describes a policy rule, but does not contain information about who the rule applies to or which namespace the rule applies to.",
        json!({
            "apiGroups": string_list_prop("APIGroups is the name of the APIGroup that contains the resources.  If multiple API groups are specified, any action requested against one of the enumerated resources in any API group will be allowed. \"\" represents the core API group and \"*\" represents all API groups."),
            "nonResourceURLs": string_list_prop("NonResourceURLs is a set of partial urls that a user should have access to.  *s are allowed, but only as the full, final step in the path."),
            "resourceNames": string_list_prop("ResourceNames is an optional white list of names that the rule applies to.  An empty set means that everything is allowed."),
            "resources": string_list_prop("Resources is a list of resources this rule applies to. '*' represents all resources."),
            "verbs": string_list_prop("Verbs is a list of Verbs that apply to ALL the ResourceKinds contained in this rule. '*' represents all verbs."),
        }),
    );
    rule["required"] = json!(["verbs"]);
    (named(RBAC_V1, "PolicyRule"), rule)
}

fn role_ref_and_subject() -> Vec<(String, Value)> {
    let mut role_ref = object_schema(
        "RoleRef contains information that points to the role being used",
        json!({
            "apiGroup": string_prop("APIGroup is the group for the resource being referenced"),
            "kind": string_prop("Kind is the type of resource being referenced"),
            "name": string_prop("Name is the name of resource being referenced"),
        }),
    );
    role_ref["required"] = json!(["apiGroup", "kind", "name"]);
    role_ref["x-kubernetes-map-type"] = json!("atomic");
    let mut subject = object_schema(
        "Subject contains a reference to the object or user identities a role binding applies to.  This can either hold a direct API object reference, or a value for non-objects such as user and group names.",
        json!({
            "apiGroup": string_prop("APIGroup holds the API group of the referenced subject. Defaults to \"\" for ServiceAccount subjects. Defaults to \"rbac.authorization.k8s.io\" for User and Group subjects."),
            "kind": string_prop("Kind of object being referenced. Values defined by this API group are \"User\", \"Group\", and \"ServiceAccount\". If the Authorizer does not recognized the kind value, the Authorizer should report an error."),
            "name": string_prop("Name of the object being referenced."),
            "namespace": string_prop("Namespace of the referenced object.  If the object kind is non-namespace, such as \"User\" or \"Group\", and this value is not empty the Authorizer should report an error."),
        }),
    );
    subject["required"] = json!(["kind", "name"]);
    subject["x-kubernetes-map-type"] = json!("atomic");
    vec![
        (named(RBAC_V1, "RoleRef"), role_ref),
        (named(RBAC_V1, "Subject"), subject),
    ]
}

fn role(description: &str, aggregation: bool) -> BuiltinModel {
    let rule = named(RBAC_V1, "PolicyRule");
    let mut properties = json!({ "rules": list_of(&rule, "Rules holds all the PolicyRules for this Role") });
    let mut helpers = vec![policy_rule()];
    if aggregation {
        let aggregation_rule = named(RBAC_V1, "AggregationRule");
        properties["aggregationRule"] = described_ref(
            &aggregation_rule,
            "AggregationRule is an optional field that describes how to build the Rules for this ClusterRole. If AggregationRule is set, then the Rules are controller managed and direct changes to Rules will be stomped by the controller.",
        );
        // Its label selectors are kept as written: nothing here aggregates roles.
        helpers.push((
            aggregation_rule,
            json!({ "description": "AggregationRule describes how to locate ClusterRoles to aggregate into the ClusterRole", "type": "object" }),
        ));
    }
    model(description, properties, &[], helpers)
}

fn binding(description: &str) -> BuiltinModel {
    let role_ref = named(RBAC_V1, "RoleRef");
    let subject = named(RBAC_V1, "Subject");
    model(
        description,
        json!({
            "roleRef": described_ref(&role_ref, "RoleRef can reference a Role in the current namespace or a ClusterRole in the global namespace. If the RoleRef cannot be resolved, the Authorizer must return an error. This field is immutable."),
            "subjects": list_of(&subject, "Subjects holds references to the objects the role applies to."),
        }),
        &["roleRef"],
        role_ref_and_subject(),
    )
}

fn condition(package: &str, name: &str, description: &str, time_fields: &[&str]) -> (String, Value) {
    let mut properties = json!({
        "message": string_prop("A human readable message indicating details about the transition."),
        "reason": string_prop("The reason for the condition's last transition."),
        "status": string_prop("Status of the condition, one of True, False, Unknown."),
        "type": string_prop("Type of the condition."),
    });
    for field in time_fields {
        properties[*field] = described_ref(TIME, "The last time the condition changed.");
    }
    let mut schema = object_schema(description, properties);
    schema["required"] = json!(["type", "status"]);
    (named(package, name), schema)
}

fn certificate_signing_request() -> BuiltinModel {
    let spec = named(CERTIFICATES_V1, "CertificateSigningRequestSpec");
    let status = named(CERTIFICATES_V1, "CertificateSigningRequestStatus");
    let condition_name = named(CERTIFICATES_V1, "CertificateSigningRequestCondition");
    let mut spec_schema = object_schema(
        "CertificateSigningRequestSpec contains the certificate request.",
        json!({
            "expirationSeconds": int_prop("int32", "expirationSeconds is the requested duration of validity of the issued certificate."),
            "extra": { "type": "object", "additionalProperties": { "type": "array", "items": { "type": "string", "default": "" } }, "description": "extra contains extra attributes of the user that created the CertificateSigningRequest. Populated by the API server on creation and immutable." },
            "groups": string_list_prop("groups contains group membership of the user that created the CertificateSigningRequest. Populated by the API server on creation and immutable."),
            "request": { "type": "string", "format": "byte", "description": "request contains an x509 certificate signing request encoded in a \"CERTIFICATE REQUEST\" PEM block. When serialized as JSON or YAML, the data is additionally base64-encoded." },
            "signerName": string_prop("signerName indicates the requested signer, and is a qualified name."),
            "uid": string_prop("uid contains the uid of the user that created the CertificateSigningRequest. Populated by the API server on creation and immutable."),
            "usages": string_list_prop("usages specifies a set of key usages requested in the issued certificate."),
            "username": string_prop("username contains the name of the user that created the CertificateSigningRequest. Populated by the API server on creation and immutable."),
        }),
    );
    spec_schema["required"] = json!(["request", "signerName"]);
    let mut conditions = list_of(
        &condition_name,
        "conditions applied to the request. Known conditions are \"Approved\", \"Denied\", and \"Failed\".",
    );
    conditions["x-kubernetes-list-type"] = json!("map");
    conditions["x-kubernetes-list-map-keys"] = json!(["type"]);
    model(
        "CertificateSigningRequest objects provide a mechanism to obtain x509 certificates by submitting a certificate signing request, and having it asynchronously approved and issued.",
        json!({
            "spec": described_ref(&spec, "spec contains the certificate request, and is immutable after creation. Only the request, signerName, expirationSeconds, and usages fields can be set on creation. Other fields are derived by Kubernetes and cannot be modified by users."),
            "status": described_ref(&status, "status contains information about whether the request is approved or denied, and the certificate issued by the signer, or the failure condition indicating signer failure."),
        }),
        &["spec"],
        vec![
            (spec, spec_schema),
            (
                status,
                object_schema(
                    "CertificateSigningRequestStatus contains conditions used to indicate approved/denied/failed status of the request, and the issued certificate.",
                    json!({
                        "certificate": { "type": "string", "format": "byte", "description": "certificate is populated with an issued certificate by the signer after an Approved condition is present." },
                        "conditions": conditions,
                    }),
                ),
            ),
            condition(
                CERTIFICATES_V1,
                "CertificateSigningRequestCondition",
                "CertificateSigningRequestCondition describes a condition of a CertificateSigningRequest object",
                &["lastTransitionTime", "lastUpdateTime"],
            ),
        ],
    )
}

fn token_review() -> BuiltinModel {
    let spec = named(AUTHENTICATION_V1, "TokenReviewSpec");
    let status = named(AUTHENTICATION_V1, "TokenReviewStatus");
    let user = named(AUTHENTICATION_V1, "UserInfo");
    model(
        "TokenReview attempts to authenticate a token to a known user. Note: TokenReview requests may be cached by the webhook token authenticator plugin in the kube-apiserver.",
        json!({
            "spec": described_ref(&spec, "Spec holds information about the request being evaluated"),
            "status": described_ref(&status, "Status is filled in by the server and indicates whether the request can be authenticated."),
        }),
        &["spec"],
        vec![
            (
                spec,
                object_schema(
                    "TokenReviewSpec is a description of the token authentication request.",
                    json!({
                        "audiences": string_list_prop("Audiences is a list of the identifiers that the resource server presented with the token identifies as."),
                        "token": string_prop("Token is the opaque bearer token."),
                    }),
                ),
            ),
            (
                status,
                object_schema(
                    "TokenReviewStatus is the result of the token authentication request.",
                    json!({
                        "audiences": string_list_prop("Audiences are audience identifiers chosen by the authenticator that are compatible with both the TokenReview and token."),
                        "authenticated": bool_prop("Authenticated indicates that the token was associated with a known user."),
                        "error": string_prop("Error indicates that the token couldn't be checked"),
                        "user": described_ref(&user, "User is the UserInfo associated with the provided token."),
                    }),
                ),
            ),
            (
                user,
                object_schema(
                    "UserInfo holds the information about the user needed to implement the user.Info interface.",
                    json!({
                        "extra": { "type": "object", "additionalProperties": { "type": "array", "items": { "type": "string", "default": "" } }, "description": "Any additional information provided by the authenticator." },
                        "groups": string_list_prop("The names of groups this user is a part of."),
                        "uid": string_prop("A unique value that identifies this user across time."),
                        "username": string_prop("The name that uniquely identifies this user among all active users."),
                    }),
                ),
            ),
        ],
    )
}

fn service_account() -> BuiltinModel {
    let reference = named(CORE_V1, "ObjectReference");
    let local = named(CORE_V1, "LocalObjectReference");
    let mut local_schema = object_schema(
        "LocalObjectReference contains enough information to let you locate the referenced object inside the same namespace.",
        json!({ "name": string_prop("Name of the referent. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names/#names") }),
    );
    local_schema["x-kubernetes-map-type"] = json!("atomic");
    let mut secrets = list_of(
        &reference,
        "Secrets is a list of the secrets in the same namespace that pods running using this ServiceAccount are allowed to use.",
    );
    secrets["x-kubernetes-patch-merge-key"] = json!("name");
    secrets["x-kubernetes-patch-strategy"] = json!("merge");
    model(
        "ServiceAccount binds together: * a name, understood by users, and perhaps by peripheral systems, for an identity * a principal that can be authenticated and authorized * a set of secrets",
        json!({
            "automountServiceAccountToken": bool_prop("AutomountServiceAccountToken indicates whether pods running as this service account should have an API token automatically mounted. Can be overridden at the pod level."),
            "imagePullSecrets": list_of(&local, "ImagePullSecrets is a list of references to secrets in the same namespace to use for pulling any images in pods that reference this ServiceAccount."),
            "secrets": secrets,
        }),
        &[],
        vec![(local, local_schema), object_reference_schema()],
    )
}

fn api_service() -> BuiltinModel {
    let spec = named(APIREGISTRATION_V1, "APIServiceSpec");
    let status = named(APIREGISTRATION_V1, "APIServiceStatus");
    let service = named(APIREGISTRATION_V1, "ServiceReference");
    let condition_name = named(APIREGISTRATION_V1, "APIServiceCondition");
    let mut conditions = list_of(&condition_name, "Current service state of apiService.");
    conditions["x-kubernetes-list-type"] = json!("map");
    conditions["x-kubernetes-list-map-keys"] = json!(["type"]);
    let mut spec_schema = object_schema(
        "APIServiceSpec contains information for locating and communicating with a server. Only https is supported, though you are able to disable certificate verification.",
        json!({
            "caBundle": { "type": "string", "format": "byte", "description": "CABundle is a PEM encoded CA bundle which will be used to validate an API server's serving certificate.", "x-kubernetes-list-type": "atomic" },
            "group": string_prop("Group is the API group name this server hosts"),
            "groupPriorityMinimum": int_prop("int32", "GroupPriorityMinimum is the priority this group should have at least."),
            "insecureSkipTLSVerify": bool_prop("InsecureSkipTLSVerify disables TLS certificate verification when communicating with this server. This is strongly discouraged.  You should use the CABundle instead."),
            "service": described_ref(&service, "Service is a reference to the service for this API server.  It must communicate on port 443. If the Service is nil, that means the handling for the API groupversion is handled locally on this server."),
            "version": string_prop("Version is the API version this server hosts.  For example, \"v1\""),
            "versionPriority": int_prop("int32", "VersionPriority controls the ordering of this API version inside of its group."),
        }),
    );
    spec_schema["required"] = json!(["groupPriorityMinimum", "versionPriority"]);
    model(
        "APIService represents a server for a particular GroupVersion. Name must be \"version.group\".",
        json!({
            "spec": described_ref(&spec, "Spec contains information for locating and communicating with a server"),
            "status": described_ref(&status, "Status contains derived information about an API server"),
        }),
        &[],
        vec![
            (spec, spec_schema),
            (
                status,
                object_schema(
                    "APIServiceStatus contains derived information about an API server",
                    json!({ "conditions": conditions }),
                ),
            ),
            (
                service,
                object_schema(
                    "ServiceReference holds a reference to Service.legacy.k8s.io",
                    json!({
                        "name": string_prop("Name is the name of the service"),
                        "namespace": string_prop("Namespace is the namespace of the service"),
                        "port": int_prop("int32", "If specified, the port on the service that hosting webhook. Default to 443 for backward compatibility. `port` should be a valid port number (1-65535, inclusive)."),
                    }),
                ),
            ),
            condition(
                APIREGISTRATION_V1,
                "APIServiceCondition",
                "APIServiceCondition describes the state of an APIService at a particular point",
                &["lastTransitionTime"],
            ),
        ],
    )
}

fn component_status() -> BuiltinModel {
    let condition_name = named(CORE_V1, "ComponentCondition");
    let mut conditions = list_of(&condition_name, "List of component conditions observed");
    conditions["x-kubernetes-list-type"] = json!("map");
    conditions["x-kubernetes-list-map-keys"] = json!(["type"]);
    let mut condition_schema = object_schema(
        "Information about the condition of a component.",
        json!({
            "error": string_prop("Condition error code for a component. For example, a health check error code."),
            "message": string_prop("Message about the condition for a component. For example, information about a health check."),
            "status": string_prop("Status of the condition for a component. Valid values for \"Healthy\": \"True\", \"False\", or \"Unknown\"."),
            "type": string_prop("Type of condition for a component. Valid value: \"Healthy\""),
        }),
    );
    condition_schema["required"] = json!(["type", "status"]);
    model(
        "ComponentStatus (and ComponentStatusList) holds the cluster validation info. Deprecated: This API is deprecated in v1.19+",
        json!({ "conditions": conditions }),
        &[],
        vec![(condition_name, condition_schema)],
    )
}

/// The model of one of the kinds of this module.
pub(super) fn cluster_model(builtin: Builtin) -> BuiltinModel {
    match builtin {
        Builtin::Pod => spec_and_status(
            CORE_V1,
            "Pod",
            "Pod is a collection of containers that can run on a host. This resource is created by clients and scheduled onto hosts.",
        ),
        Builtin::Service => spec_and_status(
            CORE_V1,
            "Service",
            "Service is a named abstraction of software service (for example, mysql) consisting of local port (for example 3306) that the proxy listens on, and the selector that determines which pods will answer requests sent through the proxy.",
        ),
        Builtin::Node => spec_and_status(
            CORE_V1,
            "Node",
            "Node is a worker node in Kubernetes. Each node will have a unique identifier in the cache (i.e. in etcd).",
        ),
        Builtin::Deployment => spec_and_status(
            APPS_V1,
            "Deployment",
            "Deployment enables declarative updates for Pods and ReplicaSets.",
        ),
        Builtin::Job => spec_and_status(BATCH_V1, "Job", "Job represents the configuration of a single job."),
        Builtin::ServiceAccount => service_account(),
        Builtin::ComponentStatus => component_status(),
        Builtin::Role => role(
            "Role is a namespaced, logical grouping of PolicyRules that can be referenced as a unit by a RoleBinding.",
            false,
        ),
        Builtin::ClusterRole => role(
            "ClusterRole is a cluster level, logical grouping of PolicyRules that can be referenced as a unit by a RoleBinding or ClusterRoleBinding.",
            true,
        ),
        Builtin::RoleBinding => binding(
            "RoleBinding references a role, but does not contain it.  It can reference a Role in the same namespace or a ClusterRole in the global namespace. It adds who information via Subjects and namespace information by which namespace it exists in.  RoleBindings in a given namespace only have effect in that namespace.",
        ),
        Builtin::ClusterRoleBinding => binding(
            "ClusterRoleBinding references a ClusterRole, but not contain it.  It can reference a ClusterRole in the global namespace, and adds who information via Subject.",
        ),
        Builtin::CertificateSigningRequest => certificate_signing_request(),
        Builtin::ApiService => api_service(),
        Builtin::TokenReview => token_review(),
        _ => unreachable!("the kinds of models.rs are modelled there"),
    }
}

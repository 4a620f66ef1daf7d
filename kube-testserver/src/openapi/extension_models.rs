//! The schemas of admissionregistration.k8s.io/v1's Validating- and MutatingWebhookConfiguration and
//! apiextensions.k8s.io/v1's CustomResourceDefinition.

use serde_json::{Value, json};

use super::models::{
    BuiltinModel, bool_prop, int_prop, model, named, object_schema, string_list_prop, string_map_prop, string_prop,
};
use super::{
    ADMISSIONREGISTRATION_V1, APIEXTENSIONS_V1, LABEL_SELECTOR, LABEL_SELECTOR_REQUIREMENT, described_ref, schema_ref,
};

/// An atomic list of strings, as the admissionregistration types declare theirs.
fn atomic_string_list_prop(description: &str) -> Value {
    let mut list = string_list_prop(description);
    list["x-kubernetes-list-type"] = json!("atomic");
    list
}

/// ValidatingWebhookConfiguration's, or (`mutating`) MutatingWebhookConfiguration's, whose
/// webhooks add `reinvocationPolicy`.
pub(super) fn webhook_configuration_model(mutating: bool) -> BuiltinModel {
    let (kind, description, webhook_description) = match mutating {
        true => (
            "MutatingWebhook",
            "MutatingWebhookConfiguration describes the configuration of and admission webhook that accept or reject and may change the object.",
            "MutatingWebhook describes an admission webhook and the resources and operations it applies to.",
        ),
        false => (
            "ValidatingWebhook",
            "ValidatingWebhookConfiguration describes the configuration of and admission webhook that accept or reject and object without changing it.",
            "ValidatingWebhook describes an admission webhook and the resources and operations it applies to.",
        ),
    };
    let webhook = named(ADMISSIONREGISTRATION_V1, kind);
    let client_config = named(ADMISSIONREGISTRATION_V1, "WebhookClientConfig");
    let service = named(ADMISSIONREGISTRATION_V1, "ServiceReference");
    let rule = named(ADMISSIONREGISTRATION_V1, "RuleWithOperations");
    let match_condition = named(ADMISSIONREGISTRATION_V1, "MatchCondition");
    let with_required = |mut schema: Value, required: &[&str]| {
        schema["required"] = json!(required);
        schema
    };
    let mut label_selector = object_schema(
        "A label selector is a label query over a set of resources. The result of matchLabels and matchExpressions are ANDed. An empty label selector matches all objects. A null label selector matches no objects.",
        json!({
            "matchExpressions": {
                "type": "array",
                "items": schema_ref(LABEL_SELECTOR_REQUIREMENT),
                "description": "matchExpressions is a list of label selector requirements. The requirements are ANDed.",
                "x-kubernetes-list-type": "atomic",
            },
            "matchLabels": string_map_prop("matchLabels is a map of {key,value} pairs. A single {key,value} in the matchLabels map is equivalent to an element of matchExpressions, whose key field is \"key\", the operator is \"In\", and the values array contains only \"value\". The requirements are ANDed."),
        }),
    );
    label_selector["x-kubernetes-map-type"] = json!("atomic");
    let mut webhook_properties = json!({
            "admissionReviewVersions": atomic_string_list_prop("AdmissionReviewVersions is an ordered list of preferred `AdmissionReview` versions the Webhook expects. API server will try to use first version in the list which it supports. If none of the versions specified in this list supported by API server, validation will fail for this object. If a persisted webhook configuration specifies allowed versions and does not include any versions known to the API Server, calls to the webhook will fail and be subject to the failure policy."),
            "clientConfig": described_ref(&client_config, "ClientConfig defines how to communicate with the hook. Required"),
            "failurePolicy": string_prop("FailurePolicy defines how unrecognized errors from the admission endpoint are handled - allowed values are Ignore or Fail. Defaults to Fail."),
            "matchConditions": {
                "type": "array",
                "items": schema_ref(&match_condition),
                "description": "MatchConditions is a list of conditions that must be met for a request to be sent to this webhook. Match conditions filter requests that have already been matched by the rules, namespaceSelector, and objectSelector. An empty list of matchConditions matches all requests. There are a maximum of 64 match conditions allowed.",
                "x-kubernetes-list-map-keys": ["name"],
                "x-kubernetes-list-type": "map",
                "x-kubernetes-patch-merge-key": "name",
                "x-kubernetes-patch-strategy": "merge",
            },
            "matchPolicy": string_prop("matchPolicy defines how the \"rules\" list is used to match incoming requests. Allowed values are \"Exact\" or \"Equivalent\". Defaults to \"Equivalent\""),
            "name": string_prop("The name of the admission webhook. Name should be fully qualified, e.g., imagepolicy.kubernetes.io, where \"imagepolicy\" is the name of the webhook, and kubernetes.io is the name of the organization. Required."),
            "namespaceSelector": described_ref(LABEL_SELECTOR, "NamespaceSelector decides whether to run the webhook on an object based on whether the namespace for that object matches the selector. If the object itself is a namespace, the matching is performed on object.metadata.labels. If the object is another cluster scoped resource, it never skips the webhook.\n\nDefault to the empty LabelSelector, which matches everything."),
            "objectSelector": described_ref(LABEL_SELECTOR, "ObjectSelector decides whether to run the webhook based on if the object has matching labels. objectSelector is evaluated against both the oldObject and newObject that would be sent to the webhook, and is considered to match if either object matches the selector. A null object (oldObject in the case of create, or newObject in the case of delete) or an object that cannot have labels (like a DeploymentRollback or a PodProxyOptions object) is not considered to match. Use the object selector only if the webhook is opt-in, because end users may skip the admission webhook by setting the labels. Default to the empty LabelSelector, which matches everything."),
            "rules": {
                "type": "array",
                "items": schema_ref(&rule),
                "description": "Rules describes what operations on what resources/subresources the webhook cares about. The webhook cares about an operation if it matches _any_ Rule. However, in order to prevent ValidatingAdmissionWebhooks and MutatingAdmissionWebhooks from putting the cluster in a state which cannot be recovered from without completely disabling the plugin, ValidatingAdmissionWebhooks and MutatingAdmissionWebhooks are never called on admission requests for ValidatingWebhookConfiguration and MutatingWebhookConfiguration objects.",
                "x-kubernetes-list-type": "atomic",
            },
            "sideEffects": string_prop("SideEffects states whether this webhook has side effects. Acceptable values are: None, NoneOnDryRun (webhooks created via v1beta1 may also specify Some or Unknown). Webhooks with side effects MUST implement a reconciliation system, since a request may be rejected by a future step in the admission chain and the side effects therefore need to be undone. Requests with the dryRun attribute will be auto-rejected if they match a webhook with sideEffects == Unknown or Some."),
            "timeoutSeconds": int_prop("int32", "TimeoutSeconds specifies the timeout for this webhook. After the timeout passes, the webhook call will be ignored or the API call will fail based on the failure policy. The timeout value must be between 1 and 30 seconds. Default to 10 seconds."),
    });
    if mutating {
        webhook_properties["reinvocationPolicy"] = string_prop(
            "reinvocationPolicy indicates whether this webhook should be called multiple times as part of a single admission evaluation. Allowed values are \"Never\" and \"IfNeeded\". Defaults to \"Never\".",
        );
    }
    model(
        description,
        json!({
            "webhooks": {
                "type": "array",
                "items": schema_ref(&webhook),
                "description": "Webhooks is a list of webhooks and the affected resources and operations.",
                "x-kubernetes-list-map-keys": ["name"],
                "x-kubernetes-list-type": "map",
                "x-kubernetes-patch-merge-key": "name",
                "x-kubernetes-patch-strategy": "merge",
            },
        }),
        &[],
        vec![
            (
                webhook,
                with_required(
                    object_schema(webhook_description, webhook_properties),
                    &["name", "clientConfig", "sideEffects", "admissionReviewVersions"],
                ),
            ),
            (
                client_config,
                object_schema(
                    "WebhookClientConfig contains the information to make a TLS connection with the webhook",
                    json!({
                        "caBundle": { "type": "string", "format": "byte", "description": "`caBundle` is a PEM encoded CA bundle which will be used to validate the webhook's server certificate. If unspecified, system trust roots on the apiserver are used." },
                        "service": described_ref(&service, "`service` is a reference to the service for this webhook. Either `service` or `url` must be specified.\n\nIf the webhook is running within the cluster, then you should use `service`."),
                        "url": string_prop("`url` gives the location of the webhook, in standard URL form (`scheme://host:port/path`). Exactly one of `url` or `service` must be specified."),
                    }),
                ),
            ),
            (
                service,
                with_required(
                    object_schema(
                        "ServiceReference holds a reference to Service.legacy.k8s.io",
                        json!({
                            "name": string_prop("`name` is the name of the service. Required"),
                            "namespace": string_prop("`namespace` is the namespace of the service. Required"),
                            "path": string_prop("`path` is an optional URL path which will be sent in any request to this service."),
                            "port": int_prop("int32", "If specified, the port on the service that hosting webhook. Default to 443 for backward compatibility. `port` should be a valid port number (1-65535, inclusive)."),
                        }),
                    ),
                    &["namespace", "name"],
                ),
            ),
            (
                rule,
                object_schema(
                    "RuleWithOperations is a tuple of Operations and Resources. It is recommended to make sure that all the tuple expansions are valid.",
                    json!({
                        "apiGroups": atomic_string_list_prop("APIGroups is the API groups the resources belong to. '*' is all groups. If '*' is present, the length of the slice must be one. Required."),
                        "apiVersions": atomic_string_list_prop("APIVersions is the API versions the resources belong to. '*' is all versions. If '*' is present, the length of the slice must be one. Required."),
                        "operations": atomic_string_list_prop("Operations is the operations the admission hook cares about - CREATE, UPDATE, DELETE, CONNECT or * for all of those operations and any future admission operations that are added. If '*' is present, the length of the slice must be one. Required."),
                        "resources": atomic_string_list_prop("Resources is a list of resources this rule applies to.\n\nFor example: 'pods' means pods. 'pods/log' means the log subresource of pods. '*' means all resources, but not subresources. 'pods/*' means all subresources of pods. '*/scale' means all scale subresources. '*/*' means all resources and their subresources.\n\nIf wildcard is present, the validation rule will ensure resources do not overlap with each other.\n\nDepending on the enclosing object, subresources might not be allowed. Required."),
                        "scope": string_prop("scope specifies the scope of this rule. Valid values are \"Cluster\", \"Namespaced\", and \"*\" \"Cluster\" means that only cluster-scoped resources will match this rule. Namespace API objects are cluster-scoped. \"Namespaced\" means that only namespaced resources will match this rule. \"*\" means that there are no scope restrictions. Subresources match the scope of their parent resource. Default is \"*\"."),
                    }),
                ),
            ),
            (
                match_condition,
                with_required(
                    object_schema(
                        "MatchCondition represents a condition which must by fulfilled for a request to be sent to a webhook.",
                        json!({
                            "expression": string_prop("Expression represents the expression which will be evaluated by CEL. Must evaluate to bool. Required."),
                            "name": string_prop("Name is an identifier for this match condition, used for strategic merging of MatchConditions, as well as providing an identifier for logging purposes. A good name should be descriptive of the associated expression. Required."),
                        }),
                    ),
                    &["name", "expression"],
                ),
            ),
            (LABEL_SELECTOR.to_owned(), label_selector),
            (
                LABEL_SELECTOR_REQUIREMENT.to_owned(),
                with_required(
                    object_schema(
                        "A label selector requirement is a selector that contains values, a key, and an operator that relates the key and values.",
                        json!({
                            "key": string_prop("key is the label key that the selector applies to."),
                            "operator": string_prop("operator represents a key's relationship to a set of values. Valid operators are In, NotIn, Exists and DoesNotExist."),
                            "values": atomic_string_list_prop("values is an array of string values. If the operator is In or NotIn, the values array must be non-empty. If the operator is Exists or DoesNotExist, the values array must be empty. This array is replaced during a strategic merge patch."),
                        }),
                    ),
                    &["key", "operator"],
                ),
            ),
        ],
    )
}

pub(super) fn custom_resource_definition_model() -> BuiltinModel {
    let spec = named(APIEXTENSIONS_V1, "CustomResourceDefinitionSpec");
    let status = named(APIEXTENSIONS_V1, "CustomResourceDefinitionStatus");
    let names = named(APIEXTENSIONS_V1, "CustomResourceDefinitionNames");
    let version = named(APIEXTENSIONS_V1, "CustomResourceDefinitionVersion");
    let column = named(APIEXTENSIONS_V1, "CustomResourceColumnDefinition");
    let selectable_field = named(APIEXTENSIONS_V1, "SelectableField");
    let with_required = |mut schema: Value, required: &[&str]| {
        schema["required"] = json!(required);
        schema
    };
    model(
        "CustomResourceDefinition represents a resource that should be exposed on the API server.  Its name MUST be in the format <.spec.name>.<.spec.group>.",
        json!({
            "spec": described_ref(&spec, "spec describes how the user wants the resources to appear"),
            "status": described_ref(&status, "status indicates the actual state of the CustomResourceDefinition"),
        }),
        &["spec"],
        vec![
            (
                spec.clone(),
                with_required(
                    object_schema(
                        "CustomResourceDefinitionSpec describes how a user wants their resource to appear",
                        json!({
                            "conversion": {
                                "type": "object",
                                "description": "conversion defines conversion settings for the CRD.",
                                "x-kubernetes-preserve-unknown-fields": true,
                            },
                            "group": string_prop("group is the API group of the defined custom resource. The custom resources are served under `/apis/<group>/...`. Must match the name of the CustomResourceDefinition (in the form `<names.plural>.<group>`)."),
                            "names": described_ref(&names, "names specify the resource and kind names for the custom resource."),
                            "preserveUnknownFields": bool_prop("preserveUnknownFields indicates that object fields which are not specified in the OpenAPI schema should be preserved when persisting to storage. apiVersion, kind, metadata and known fields inside metadata are always preserved."),
                            "scope": string_prop("scope indicates whether the defined custom resource is cluster- or namespace-scoped. Allowed values are `Cluster` and `Namespaced`."),
                            "versions": {
                                "type": "array",
                                "items": schema_ref(&version),
                                "description": "versions is the list of all API versions of the defined custom resource. Version names are used to compute the order in which served versions are listed in API discovery.",
                                "x-kubernetes-list-type": "atomic",
                            },
                        }),
                    ),
                    &["group", "names", "scope", "versions"],
                ),
            ),
            (
                status,
                object_schema(
                    "CustomResourceDefinitionStatus indicates the state of the CustomResourceDefinition",
                    json!({
                        "acceptedNames": described_ref(&names, "acceptedNames are the names that are actually being used to serve discovery. They may be different than the names in spec."),
                        "conditions": {
                            "type": "array",
                            "items": { "type": "object", "x-kubernetes-preserve-unknown-fields": true },
                            "description": "conditions indicate state for particular aspects of a CustomResourceDefinition",
                            "x-kubernetes-list-map-keys": ["type"],
                            "x-kubernetes-list-type": "map",
                        },
                        "storedVersions": string_list_prop("storedVersions lists all versions of CustomResources that were ever persisted. Tracking these versions allows a migration path for stored versions in etcd."),
                    }),
                ),
            ),
            (
                names.clone(),
                with_required(
                    object_schema(
                        "CustomResourceDefinitionNames indicates the names to serve this CustomResourceDefinition",
                        json!({
                            "categories": string_list_prop("categories is a list of grouped resources this custom resource belongs to (e.g. 'all'). This is published in API discovery documents, and used by clients to support invocations like `kubectl get all`."),
                            "kind": string_prop("kind is the serialized kind of the resource. It is normally CamelCase and singular. Custom resource instances will use this value as the `kind` attribute in API calls."),
                            "listKind": string_prop("listKind is the serialized kind of the list for this resource. Defaults to \"`kind`List\"."),
                            "plural": string_prop("plural is the plural name of the resource to serve. The custom resources are served under `/apis/<group>/<version>/.../<plural>`. Must match the name of the CustomResourceDefinition (in the form `<names.plural>.<group>`). Must be all lowercase."),
                            "shortNames": string_list_prop("shortNames are short names for the resource, exposed in API discovery documents, and used by clients to support invocations like `kubectl get <shortname>`. It must be all lowercase."),
                            "singular": string_prop("singular is the singular name of the resource. It must be all lowercase. Defaults to lowercased `kind`."),
                        }),
                    ),
                    &["plural", "kind"],
                ),
            ),
            (
                version,
                with_required(
                    object_schema(
                        "CustomResourceDefinitionVersion describes a version for CRD.",
                        json!({
                            "additionalPrinterColumns": {
                                "type": "array",
                                "items": schema_ref(&column),
                                "description": "additionalPrinterColumns specifies additional columns returned in Table output. If no columns are specified, a single column displaying the age of the custom resource is used.",
                                "x-kubernetes-list-type": "atomic",
                            },
                            "deprecated": bool_prop("deprecated indicates this version of the custom resource API is deprecated. When set to true, API requests to this version receive a warning header in the server response. Defaults to false."),
                            "deprecationWarning": string_prop("deprecationWarning overrides the default warning returned to API clients. May only be set when `deprecated` is true."),
                            "name": string_prop("name is the version name, e.g. “v1”, “v2beta1”, etc. The custom resources are served under this version at `/apis/<group>/<version>/...` if `served` is true."),
                            "schema": {
                                "type": "object",
                                "description": "schema describes the schema used for validation, pruning, and defaulting of this version of the custom resource.",
                                "x-kubernetes-preserve-unknown-fields": true,
                            },
                            "selectableFields": {
                                "type": "array",
                                "items": schema_ref(&selectable_field),
                                "description": "selectableFields specifies paths to fields that may be used as field selectors. A maximum of 8 selectable fields are allowed. See https://kubernetes.io/docs/concepts/overview/working-with-objects/field-selectors",
                                "x-kubernetes-list-type": "atomic",
                            },
                            "served": bool_prop("served is a flag enabling/disabling this version from being served via REST APIs"),
                            "storage": bool_prop("storage indicates this version should be used when persisting custom resources to storage. There must be exactly one version with storage=true."),
                            "subresources": {
                                "type": "object",
                                "description": "subresources specify what subresources this version of the defined custom resource have.",
                                "x-kubernetes-preserve-unknown-fields": true,
                            },
                        }),
                    ),
                    &["name", "served", "storage"],
                ),
            ),
            (
                column.clone(),
                with_required(
                    object_schema(
                        "CustomResourceColumnDefinition specifies a column for server side printing.",
                        json!({
                            "description": string_prop("description is a human readable description of this column."),
                            "format": string_prop("format is an optional OpenAPI type definition for this column. The 'name' format is applied to the primary identifier column to assist in clients identifying column is the resource name."),
                            "jsonPath": string_prop("jsonPath is a simple JSON path (i.e. with array notation) which is evaluated against each custom resource to produce the value for this column."),
                            "name": string_prop("name is a human readable name for the column."),
                            "priority": int_prop("int32", "priority is an integer defining the relative importance of this column compared to others. Lower numbers are considered higher priority. Columns that may be omitted in limited space scenarios should be given a priority greater than 0."),
                            "type": string_prop("type is an OpenAPI type definition for this column. See https://github.com/OAI/OpenAPI-Specification/blob/master/versions/2.0.md#data-types for details."),
                        }),
                    ),
                    &["name", "type", "jsonPath"],
                ),
            ),
            (
                selectable_field,
                with_required(
                    object_schema(
                        "SelectableField specifies the JSON path of a field that may be used with field selectors.",
                        json!({
                            "jsonPath": string_prop("jsonPath is a simple JSON path which is evaluated against each custom resource to produce a field selector value. Only JSON paths without the array notation are allowed. Must point to a field of type string, boolean or integer. Types with enum values and strings with formats are allowed. If jsonPath refers to absent field in a resource, the jsonPath evaluates to an empty string. Must not point to metdata fields. Required."),
                        }),
                    ),
                    &["jsonPath"],
                ),
            ),
        ],
    )
}

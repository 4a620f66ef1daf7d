//! The schemas of meta/v1's types and of the built-in kinds, as kube-openapi generates them
//! from the Go types (descriptions, list types and map keys included).

use serde_json::{Map, Value, json};

use crate::registry::Builtin;

use super::cluster_models::cluster_model;
use super::extension_models::{custom_resource_definition_model, webhook_configuration_model};
use super::{
    API_VERSION_DOC, COORDINATION_V1, CORE_V1, DELETE_OPTIONS, DRY_RUN_DOC, EVENTS_V1, FIELDS_V1, GRACE_PERIOD_DOC,
    KIND_DOC, LIST_META, MANAGED_FIELDS_ENTRY, MICRO_TIME, OBJECT_META, ORPHAN_DOC, OWNER_REFERENCE, PATCH,
    PRECONDITIONS, PROPAGATION_DOC, RESOURCE_VERSION_DOC, SPEC_STATUS_DOC, STATUS, STATUS_CAUSE, STATUS_DETAILS, TIME,
    described_ref, gvk, schema_ref,
};

pub(super) fn string_prop(description: &str) -> Value {
    json!({ "type": "string", "description": description })
}

pub(super) fn int_prop(format: &str, description: &str) -> Value {
    json!({ "type": "integer", "format": format, "description": description })
}

pub(super) fn bool_prop(description: &str) -> Value {
    json!({ "type": "boolean", "description": description })
}

pub(super) fn string_map_prop(description: &str) -> Value {
    json!({ "type": "object", "additionalProperties": { "type": "string", "default": "" }, "description": description })
}

pub(super) fn string_list_prop(description: &str) -> Value {
    json!({ "type": "array", "items": { "type": "string", "default": "" }, "description": description })
}

pub(super) fn object_schema(description: &str, properties: Value) -> Value {
    json!({ "description": description, "type": "object", "properties": properties })
}

/// ObjectMeta and the meta/v1 types every document refers to.
pub(super) fn meta_schemas() -> Map<String, Value> {
    let object_meta = object_schema(
        "ObjectMeta is metadata that all persisted resources must have, which includes all objects users must create.",
        json!({
            "annotations": string_map_prop("Annotations is an unstructured key value map stored with a resource that may be set by external tools to store and retrieve arbitrary metadata. They are not queryable and should be preserved when modifying objects. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/annotations"),
            "creationTimestamp": described_ref(TIME, "CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata"),
            "deletionGracePeriodSeconds": int_prop("int64", "Number of seconds allowed for this object to gracefully terminate before it will be removed from the system. Only set when deletionTimestamp is also set. May only be shortened. Read-only."),
            "deletionTimestamp": described_ref(TIME, "DeletionTimestamp is RFC 3339 date and time at which this resource will be deleted. This field is set by the server when a graceful deletion is requested by the user, and is not directly settable by a client. The resource is expected to be deleted (no longer visible from resource lists, and not reachable by name) after the time in this field, once the finalizers list is empty. As long as the finalizers list contains items, deletion is blocked.\n\nPopulated by the system when a graceful deletion is requested. Read-only. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata"),
            "finalizers": {
                "type": "array",
                "items": { "type": "string", "default": "" },
                "description": "Must be empty before the object is deleted from the registry. Each entry is an identifier for the responsible component that will remove the entry from the list. If the deletionTimestamp of the object is non-nil, entries in this list can only be removed. Finalizers may be processed and removed in any order.  Order is NOT enforced because it introduces significant risk of stuck finalizers.",
                "x-kubernetes-list-type": "set",
                "x-kubernetes-patch-strategy": "merge",
            },
            "generateName": string_prop("GenerateName is an optional prefix, used by the server, to generate a unique name ONLY IF the Name field has not been provided. If this field is used, the name returned to the client will be different than the name passed. This value will also be combined with a unique suffix. The provided value has the same validation rules as the Name field, and may be truncated by the length of the suffix required to make the value unique on the server.\n\nIf this field is specified and the generated name exists, the server will return a 409.\n\nApplied only if Name is not specified. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#idempotency"),
            "generation": int_prop("int64", "A sequence number representing a specific generation of the desired state. Populated by the system. Read-only."),
            "labels": string_map_prop("Map of string keys and values that can be used to organize and categorize (scope and select) objects. May match selectors of replication controllers and services. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/labels"),
            "managedFields": {
                "type": "array",
                "items": schema_ref(MANAGED_FIELDS_ENTRY),
                "description": "ManagedFields maps workflow-id and version to the set of fields that are managed by that workflow. This is mostly for internal housekeeping, and users typically shouldn't need to set or understand this field. A workflow can be the user's name, a controller's name, or the name of a specific apply path like \"ci-cd\". The set of fields is always in the version that the workflow used when modifying the object.",
                "x-kubernetes-list-type": "atomic",
            },
            "name": string_prop("Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names"),
            "namespace": string_prop("Namespace defines the space within which each name must be unique. An empty namespace is equivalent to the \"default\" namespace, but \"default\" is the canonical representation. Not all objects are required to be scoped to a namespace - the value of this field for those objects will be empty.\n\nMust be a DNS_LABEL. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/namespaces"),
            "ownerReferences": {
                "type": "array",
                "items": schema_ref(OWNER_REFERENCE),
                "description": "List of objects depended by this object. If ALL objects in the list have been deleted, this object will be garbage collected. If this object is managed by a controller, then an entry in this list will point to this controller, with the controller field set to true. There cannot be more than one managing controller.",
                "x-kubernetes-list-map-keys": ["uid"],
                "x-kubernetes-list-type": "map",
                "x-kubernetes-patch-merge-key": "uid",
                "x-kubernetes-patch-strategy": "merge",
            },
            "resourceVersion": string_prop("An opaque value that represents the internal version of this object that can be used by clients to determine when objects have changed. May be used for optimistic concurrency, change detection, and the watch operation on a resource or set of resources. Clients must treat these values as opaque and passed unmodified back to the server. They may only be valid for a particular resource or set of resources.\n\nPopulated by the system. Read-only. Value must be treated as opaque by clients and . More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#concurrency-control-and-consistency"),
            "selfLink": string_prop("Deprecated: selfLink is a legacy read-only field that is no longer populated by the system."),
            "uid": string_prop("UID is the unique in time and space value for this object. It is typically generated by the server on successful creation of a resource and is not allowed to change on PUT operations.\n\nPopulated by the system. Read-only. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#uids"),
        }),
    );

    let mut owner_reference = object_schema(
        "OwnerReference contains enough information to let you identify an owning object. An owning object must be in the same namespace as the dependent, or be cluster-scoped, so there is no namespace field.",
        json!({
            "apiVersion": string_prop("API version of the referent."),
            "blockOwnerDeletion": bool_prop("If true, AND if the owner has the \"foregroundDeletion\" finalizer, then the owner cannot be deleted from the key-value store until this reference is removed. See https://kubernetes.io/docs/concepts/architecture/garbage-collection/#foreground-deletion for how the garbage collector interacts with this field and enforces the foreground deletion. Defaults to false. To set this field, a user needs \"delete\" permission of the owner, otherwise 422 (Unprocessable Entity) will be returned."),
            "controller": bool_prop("If true, this reference points to the managing controller."),
            "kind": string_prop("Kind of the referent. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds"),
            "name": string_prop("Name of the referent. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names"),
            "uid": string_prop("UID of the referent. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#uids"),
        }),
    );
    owner_reference["required"] = json!(["apiVersion", "kind", "name", "uid"]);
    owner_reference["x-kubernetes-map-type"] = json!("atomic");

    let mut status_cause = object_schema(
        "StatusCause provides more information about an api.Status failure, including cases when multiple errors are encountered.",
        json!({
            "field": string_prop("The field of the resource that has caused this error, as named by its JSON serialization. May include dot and postfix notation for nested attributes. Arrays are zero-indexed.  Fields may appear more than once in an array of causes due to fields having multiple errors. Optional."),
            "message": string_prop("A human-readable description of the cause of the error.  This field may be presented as-is to a reader."),
            "reason": string_prop("A machine-readable description of the cause of the error. If this value is empty there is no information available."),
        }),
    );
    status_cause["x-kubernetes-map-type"] = json!("atomic");

    let mut status = object_schema(
        "Status is a return value for calls that don't return other objects.",
        json!({
            "apiVersion": string_prop(API_VERSION_DOC),
            "code": int_prop("int32", "Suggested HTTP return code for this status, 0 if not set."),
            "details": described_ref(STATUS_DETAILS, "Extended data associated with the reason.  Each reason may define its own extended details. This field is optional and the data returned is not guaranteed to conform to any schema except that defined by the reason type."),
            "kind": string_prop(KIND_DOC),
            "message": string_prop("A human-readable description of the status of this operation."),
            "metadata": described_ref(LIST_META, "Standard list metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds"),
            "reason": string_prop("A machine-readable description of why this operation is in the \"Failure\" status. If this value is empty there is no information available. A Reason clarifies an HTTP status code but does not override it."),
            "status": string_prop("Status of the operation. One of: \"Success\" or \"Failure\". More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#spec-and-status"),
        }),
    );
    status["x-kubernetes-group-version-kind"] = json!([gvk("", "v1", "Status")]);

    let mut delete_options = object_schema(
        "DeleteOptions may be provided when deleting an API object.",
        json!({
            "apiVersion": string_prop(API_VERSION_DOC),
            "dryRun": string_list_prop(DRY_RUN_DOC),
            "gracePeriodSeconds": int_prop("int64", GRACE_PERIOD_DOC),
            "kind": string_prop(KIND_DOC),
            "orphanDependents": bool_prop(ORPHAN_DOC),
            "preconditions": described_ref(PRECONDITIONS, "Must be fulfilled before a deletion is carried out. If not possible, a 409 Conflict status will be returned."),
            "propagationPolicy": string_prop(PROPAGATION_DOC),
        }),
    );
    delete_options["x-kubernetes-group-version-kind"] = json!([gvk("", "v1", "DeleteOptions")]);

    let schemas = [
        (OBJECT_META, object_meta),
        (
            MANAGED_FIELDS_ENTRY,
            object_schema(
                "ManagedFieldsEntry is a workflow-id, a FieldSet and the group version of the resource that the fieldset applies to.",
                json!({
                    "apiVersion": string_prop("APIVersion defines the version of this resource that this field set applies to. The format is \"group/version\" just like the top-level APIVersion field. It is necessary to track the version of a field set because it cannot be automatically converted."),
                    "fieldsType": string_prop("FieldsType is the discriminator for the different fields format and version. There is currently only one possible value: \"FieldsV1\""),
                    "fieldsV1": described_ref(FIELDS_V1, "FieldsV1 holds the first JSON version format as described in the \"FieldsV1\" type."),
                    "manager": string_prop("Manager is an identifier of the workflow managing these fields."),
                    "operation": string_prop("Operation is the type of operation which lead to this ManagedFieldsEntry being created. The only valid values for this field are 'Apply' and 'Update'."),
                    "subresource": string_prop("Subresource is the name of the subresource used to update that object, or empty string if the object was updated through the main resource. The value of this field is used to distinguish between managers, even if they share the same name. For example, a status update will be distinct from a regular update using the same manager name. Note that the APIVersion field is not related to the Subresource field and it always corresponds to the version of the main resource."),
                    "time": described_ref(TIME, "Time is the timestamp of when the ManagedFields entry was added. The timestamp will also be updated if a field is added, the manager changes any of the owned fields value or removes a field. The timestamp does not update when a field is removed from the entry because another manager took it over."),
                }),
            ),
        ),
        (OWNER_REFERENCE, owner_reference),
        (
            FIELDS_V1,
            json!({
                "description": "FieldsV1 stores a set of fields in a data structure like a Trie, in JSON format.\n\nEach key is either a '.' representing the field itself, and will always map to an empty set, or a string representing a sub-field or item. The string will follow one of these four formats: 'f:<name>', where <name> is the name of a field in a struct, or key in a map 'v:<value>', where <value> is the exact json formatted value of a list item 'i:<index>', where <index> is position of a item in a list 'k:<keys>', where <keys> is a map of  a list item's key fields to their unique values If a key maps to an empty Fields value, the field that key represents is part of the set.\n\nThe exact format is defined in sigs.k8s.io/structured-merge-diff",
                "type": "object",
            }),
        ),
        (
            TIME,
            json!({
                "description": "Time is a wrapper around time.Time which supports correct marshaling to YAML and JSON.  Wrappers are provided for many of the factory methods that the time package offers.",
                "type": "string",
                "format": "date-time",
            }),
        ),
        (
            MICRO_TIME,
            json!({
                "description": "MicroTime is version of Time with microsecond level precision.",
                "type": "string",
                "format": "date-time",
            }),
        ),
        (
            LIST_META,
            object_schema(
                "ListMeta describes metadata that synthetic resources must have, including lists and various status objects. A resource may have only one of {ObjectMeta, ListMeta}.",
                json!({
                    "continue": string_prop("continue may be set if the user set a limit on the number of items returned, and indicates that the server has more data available. The value is opaque and may be used to issue another request to the endpoint that served this list to retrieve the next set of available objects."),
                    "remainingItemCount": int_prop("int64", "remainingItemCount is the number of subsequent items in the list which are not included in this list response. If the list request contained label or field selectors, then the number of remaining items is unknown and the field will be left unset and omitted during serialization."),
                    "resourceVersion": string_prop(RESOURCE_VERSION_DOC),
                    "selfLink": string_prop("Deprecated: selfLink is a legacy read-only field that is no longer populated by the system."),
                }),
            ),
        ),
        (STATUS, status),
        (
            STATUS_DETAILS,
            object_schema(
                "StatusDetails is a set of additional properties that MAY be set by the server to provide additional information about a response. The Reason field of a Status object defines what attributes will be set. Clients must ignore fields that do not match the defined type of each attribute, and should assume that any attribute may be empty, invalid, or under defined.",
                json!({
                    "causes": {
                        "type": "array",
                        "items": schema_ref(STATUS_CAUSE),
                        "description": "The Causes array includes more details associated with the StatusReason failure. Not all StatusReasons may provide detailed causes.",
                        "x-kubernetes-list-type": "atomic",
                    },
                    "group": string_prop("The group attribute of the resource associated with the status StatusReason."),
                    "kind": string_prop("The kind attribute of the resource associated with the status StatusReason. On some operations may differ from the requested resource Kind. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds"),
                    "name": string_prop("The name attribute of the resource associated with the status StatusReason (when there is a single name which can be described)."),
                    "retryAfterSeconds": int_prop("int32", "If specified, the time in seconds before the operation should be retried. Some errors may indicate the client must take an alternate action - for those errors this field may indicate how long to wait before taking the alternate action."),
                    "uid": string_prop("UID of the resource. (when there is a single resource which can be described). More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#uids"),
                }),
            ),
        ),
        (STATUS_CAUSE, status_cause),
        (DELETE_OPTIONS, delete_options),
        (
            PRECONDITIONS,
            object_schema(
                "Preconditions must be fulfilled before an operation (update, delete, etc.) is carried out.",
                json!({
                    "resourceVersion": string_prop("Specifies the target ResourceVersion"),
                    "uid": string_prop("Specifies the target UID."),
                }),
            ),
        ),
        (
            PATCH,
            json!({
                "description": "Patch is provided to give a concrete name and type to the Kubernetes PATCH request body.",
                "type": "object",
            }),
        ),
    ];
    schemas
        .into_iter()
        .map(|(name, schema)| (name.to_owned(), schema))
        .collect()
}

/// A built-in kind's own fields (type meta is added later) and the schemas they refer to.
pub(super) struct BuiltinModel {
    pub(super) schema: Map<String, Value>,
    pub(super) helpers: Vec<(String, Value)>,
}

pub(super) fn model(
    description: &str,
    properties: Value,
    required: &[&str],
    helpers: Vec<(String, Value)>,
) -> BuiltinModel {
    let mut schema = Map::new();
    schema.insert("description".into(), json!(description));
    schema.insert("type".into(), json!("object"));
    schema.insert("properties".into(), properties);
    if !required.is_empty() {
        schema.insert("required".into(), json!(required));
    }
    BuiltinModel { schema, helpers }
}

pub(super) fn named(package: &str, name: &str) -> String {
    format!("{package}.{name}")
}

pub(super) fn object_reference_schema() -> (String, Value) {
    let mut schema = object_schema(
        "ObjectReference contains enough information to let you inspect or modify the referred object.",
        json!({
            "apiVersion": string_prop("API version of the referent."),
            "fieldPath": string_prop("If referring to a piece of an object instead of an entire object, this string should contain a valid JSON/Go field access statement, such as desiredState.manifest.containers[2]."),
            "kind": string_prop("Kind of the referent. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds"),
            "name": string_prop("Name of the referent. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names/#names"),
            "namespace": string_prop("Namespace of the referent. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/namespaces/"),
            "resourceVersion": string_prop("Specific resourceVersion to which this reference is made, if any. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#concurrency-control-and-consistency"),
            "uid": string_prop("UID of the referent. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names/#uids"),
        }),
    );
    schema["x-kubernetes-map-type"] = json!("atomic");
    (named(CORE_V1, "ObjectReference"), schema)
}

fn event_source_schema() -> (String, Value) {
    (
        named(CORE_V1, "EventSource"),
        object_schema(
            "EventSource contains information for an event.",
            json!({
                "component": string_prop("Component from which the event is generated."),
                "host": string_prop("Node name on which the event is generated."),
            }),
        ),
    )
}

fn event_series_schema(package: &str, description: &str) -> (String, Value) {
    let mut schema = object_schema(
        description,
        json!({
            "count": int_prop("int32", "Number of occurrences in this series up to the last heartbeat time."),
            "lastObservedTime": described_ref(MICRO_TIME, "Time of the last occurrence observed."),
        }),
    );
    if package == EVENTS_V1 {
        schema["required"] = json!(["count", "lastObservedTime"]);
    }
    (named(package, "EventSeries"), schema)
}

pub(super) fn builtin_model(builtin: Builtin) -> BuiltinModel {
    let reference = named(CORE_V1, "ObjectReference");
    let source = named(CORE_V1, "EventSource");
    match builtin {
        Builtin::Namespace => {
            let spec = named(CORE_V1, "NamespaceSpec");
            let status = named(CORE_V1, "NamespaceStatus");
            let condition = named(CORE_V1, "NamespaceCondition");
            model(
                "Namespace provides a scope for Names. Use of multiple namespaces is optional.",
                json!({
                    "spec": described_ref(&spec, &format!("Spec defines the behavior of the Namespace. {SPEC_STATUS_DOC}")),
                    "status": described_ref(&status, &format!("Status describes the current status of a Namespace. {SPEC_STATUS_DOC}")),
                }),
                &[],
                vec![
                    (
                        spec,
                        object_schema(
                            "NamespaceSpec describes the attributes on a Namespace.",
                            json!({
                                "finalizers": string_list_prop("Finalizers is an opaque list of values that must be empty to permanently remove object from storage. More info: https://kubernetes.io/docs/tasks/administer-cluster/namespaces/"),
                            }),
                        ),
                    ),
                    (
                        status,
                        object_schema(
                            "NamespaceStatus is information about the current status of a Namespace.",
                            json!({
                                "conditions": {
                                    "type": "array",
                                    "items": schema_ref(&condition),
                                    "description": "Represents the latest available observations of a namespace's current state.",
                                    "x-kubernetes-list-map-keys": ["type"],
                                    "x-kubernetes-list-type": "map",
                                    "x-kubernetes-patch-merge-key": "type",
                                    "x-kubernetes-patch-strategy": "merge",
                                },
                                "phase": {
                                    "type": "string",
                                    "enum": ["Active", "Terminating"],
                                    "description": "Phase is the current lifecycle phase of the namespace. More info: https://kubernetes.io/docs/tasks/administer-cluster/namespaces/\n\nPossible enum values:\n - `\"Active\"` means the namespace is available for use in the system\n - `\"Terminating\"` means the namespace is undergoing graceful termination",
                                },
                            }),
                        ),
                    ),
                    (condition, {
                        let mut schema = object_schema(
                            "NamespaceCondition contains details about state of namespace.",
                            json!({
                                "lastTransitionTime": described_ref(TIME, "Last time the condition transitioned from one status to another."),
                                "message": string_prop("Human-readable message indicating details about last transition."),
                                "reason": string_prop("Unique, one-word, CamelCase reason for the condition's last transition."),
                                "status": string_prop("Status of the condition, one of True, False, Unknown."),
                                "type": string_prop("Type of namespace controller condition."),
                            }),
                        );
                        schema["required"] = json!(["type", "status"]);
                        schema
                    }),
                ],
            )
        }
        Builtin::Secret => model(
            "Secret holds secret data of a certain type. The total bytes of the values in the Data field must be less than MaxSecretSize bytes.",
            json!({
                "data": {
                    "type": "object",
                    "additionalProperties": { "type": "string", "format": "byte" },
                    "description": "Data contains the secret data. Each key must consist of alphanumeric characters, '-', '_' or '.'. The serialized form of the secret data is a base64 encoded string, representing the arbitrary (possibly non-string) data value here. Described in https://tools.ietf.org/html/rfc4648#section-4",
                },
                "immutable": bool_prop("Immutable, if set to true, ensures that data stored in the Secret cannot be updated (only object metadata can be modified). If not set to true, the field can be modified at any time. Defaulted to nil."),
                "stringData": string_map_prop("stringData allows specifying non-binary secret data in string form. It is provided as a write-only input field for convenience. All keys and values are merged into the data field on write, overwriting any existing values. The stringData field is never output when reading from the API."),
                "type": string_prop("Used to facilitate programmatic handling of secret data. More info: https://kubernetes.io/docs/concepts/configuration/secret/#secret-types"),
            }),
            &[],
            vec![],
        ),
        Builtin::ConfigMap => model(
            "ConfigMap holds configuration data for pods to consume.",
            json!({
                "binaryData": {
                    "type": "object",
                    "additionalProperties": { "type": "string", "format": "byte" },
                    "description": "BinaryData contains the binary data. Each key must consist of alphanumeric characters, '-', '_' or '.'. BinaryData can contain byte sequences that are not in the UTF-8 range. The keys stored in BinaryData must not overlap with the ones in the Data field, this is enforced during validation process. Using this field will require 1.10+ apiserver and kubelet.",
                },
                "data": string_map_prop("Data contains the configuration data. Each key must consist of alphanumeric characters, '-', '_' or '.'. Values with non-UTF-8 byte sequences must use the BinaryData field. The keys stored in Data must not overlap with the keys in the BinaryData field, this is enforced during validation process."),
                "immutable": bool_prop("Immutable, if set to true, ensures that data stored in the ConfigMap cannot be updated (only object metadata can be modified). If not set to true, the field can be modified at any time. Defaulted to nil."),
            }),
            &[],
            vec![],
        ),
        Builtin::CoreEvent => {
            let series = named(CORE_V1, "EventSeries");
            model(
                "Event is a report of an event somewhere in the cluster.  Events have a limited retention time and triggers and messages may evolve with time.  Event consumers should not rely on the timing of an event with a given Reason reflecting a consistent underlying trigger, or the continued existence of events with that Reason.  Events should be treated as informative, best-effort, supplemental data.",
                json!({
                    "action": string_prop("What action was taken/failed regarding to the Regarding object."),
                    "count": int_prop("int32", "The number of times this event has occurred."),
                    "eventTime": described_ref(MICRO_TIME, "Time when this Event was first observed."),
                    "firstTimestamp": described_ref(TIME, "The time at which the event was first recorded. (Time of server receipt is in TypeMeta.)"),
                    "involvedObject": described_ref(&reference, "The object that this event is about."),
                    "lastTimestamp": described_ref(TIME, "The time at which the most recent occurrence of this event was recorded."),
                    "message": string_prop("A human-readable description of the status of this operation."),
                    "reason": string_prop("This should be a short, machine understandable string that gives the reason for the transition into the object's current status."),
                    "related": described_ref(&reference, "Optional secondary object for more complex actions."),
                    "reportingComponent": string_prop("Name of the controller that emitted this Event, e.g. `kubernetes.io/kubelet`."),
                    "reportingInstance": string_prop("ID of the controller instance, e.g. `kubelet-xyzf`."),
                    "series": described_ref(&series, "Data about the Event series this event represents or nil if it's a singleton Event."),
                    "source": described_ref(&source, "The component reporting this event. Should be a short machine understandable string."),
                    "type": string_prop("Type of this event (Normal, Warning), new types could be added in the future"),
                }),
                &["metadata", "involvedObject"],
                vec![
                    object_reference_schema(),
                    event_source_schema(),
                    event_series_schema(
                        CORE_V1,
                        "EventSeries contain information on series of events, i.e. thing that was/is happening continuously for some time.",
                    ),
                ],
            )
        }
        Builtin::Event => {
            let series = named(EVENTS_V1, "EventSeries");
            model(
                "Event is a report of an event somewhere in the cluster. It generally denotes some state change in the system. Events have a limited retention time and triggers and messages may evolve with time.  Event consumers should not rely on the timing of an event with a given Reason reflecting a consistent underlying trigger, or the continued existence of events with that Reason.  Events should be treated as informative, best-effort, supplemental data.",
                json!({
                    "action": string_prop("action is what action was taken/failed regarding to the regarding object. It is machine-readable. This field cannot be empty for new Events and it can have at most 128 characters."),
                    "deprecatedCount": int_prop("int32", "deprecatedCount is the deprecated field assuring backward compatibility with core.v1 Event type."),
                    "deprecatedFirstTimestamp": described_ref(TIME, "deprecatedFirstTimestamp is the deprecated field assuring backward compatibility with core.v1 Event type."),
                    "deprecatedLastTimestamp": described_ref(TIME, "deprecatedLastTimestamp is the deprecated field assuring backward compatibility with core.v1 Event type."),
                    "deprecatedSource": described_ref(&source, "deprecatedSource is the deprecated field assuring backward compatibility with core.v1 Event type."),
                    "eventTime": described_ref(MICRO_TIME, "eventTime is the time when this Event was first observed. It is required."),
                    "note": string_prop("note is a human-readable description of the status of this operation. Maximal length of the note is 1kB, but libraries should be prepared to handle values up to 64kB."),
                    "reason": string_prop("reason is why the action was taken. It is human-readable. This field cannot be empty for new Events and it can have at most 128 characters."),
                    "regarding": described_ref(&reference, "regarding contains the object this Event is about. In most cases it's an Object reporting controller implements, e.g. ReplicaSetController implements ReplicaSets and this event is emitted because it acts on some changes in a ReplicaSet object."),
                    "related": described_ref(&reference, "related is the optional secondary object for more complex actions. E.g. when regarding object triggers a creation or deletion of related object."),
                    "reportingController": string_prop("reportingController is the name of the controller that emitted this Event, e.g. `kubernetes.io/kubelet`. This field cannot be empty for new Events."),
                    "reportingInstance": string_prop("reportingInstance is the ID of the controller instance, e.g. `kubelet-xyzf`. This field cannot be empty for new Events and it can have at most 128 characters."),
                    "series": described_ref(&series, "series is data about the Event series this event represents or nil if it's a singleton Event."),
                    "type": string_prop("type is the type of this event (Normal, Warning), new types could be added in the future. It is machine-readable. This field cannot be empty for new Events."),
                }),
                &["eventTime"],
                vec![
                    object_reference_schema(),
                    event_source_schema(),
                    event_series_schema(
                        EVENTS_V1,
                        "EventSeries contain information on series of events, i.e. thing that was/is happening continuously for some time. How often to update the EventSeries is up to the event reporters.",
                    ),
                ],
            )
        }
        Builtin::Lease => {
            let spec = named(COORDINATION_V1, "LeaseSpec");
            model(
                "Lease defines a lease concept.",
                json!({
                    "spec": described_ref(&spec, &format!("spec contains the specification of the Lease. {SPEC_STATUS_DOC}")),
                }),
                &[],
                vec![(
                    spec,
                    object_schema(
                        "LeaseSpec is a specification of a Lease.",
                        json!({
                            "acquireTime": described_ref(MICRO_TIME, "acquireTime is a time when the current lease was acquired."),
                            "holderIdentity": string_prop("holderIdentity contains the identity of the holder of a current lease. If Coordinated Leader Election is used, the holder identity must be equal to the elected LeaseCandidate.metadata.name field."),
                            "leaseDurationSeconds": int_prop("int32", "leaseDurationSeconds is a duration that candidates for a lease need to wait to force acquire it. This is measured against the time of last observed renewTime."),
                            "leaseTransitions": int_prop("int32", "leaseTransitions is the number of transitions of a lease between holders."),
                            "preferredHolder": string_prop("PreferredHolder signals to a lease holder that the lease has a more optimal holder and should be given up. This field can only be set if Strategy is also set."),
                            "renewTime": described_ref(MICRO_TIME, "renewTime is a time when the current holder of a lease has last updated the lease."),
                            "strategy": string_prop("Strategy indicates the strategy for picking the leader for coordinated leader election. If the field is not specified, there is no active coordination for this lease. (Alpha) Using this field requires the CoordinatedLeaderElection feature gate to be enabled."),
                        }),
                    ),
                )],
            )
        }
        Builtin::CustomResourceDefinition => custom_resource_definition_model(),
        Builtin::ValidatingWebhookConfiguration => webhook_configuration_model(false),
        Builtin::MutatingWebhookConfiguration => webhook_configuration_model(true),
        other => cluster_model(other),
    }
}

use super::formats::valid_format;
use super::*;
use crate::cel_rules::Programs;
use serde_json::json;

/// What follows errors that keep CEL rules from running.
const BLOCKED: &str = "<nil>: Invalid value: \"null\": some validation rules were not checked because the object was invalid; correct the existing errors to complete validation";

/// A CRD version schema in the shape kubebuilder writes, AwsAccount-like.
fn account_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "apiVersion": {"type": "string"},
            "kind": {"type": "string"},
            "metadata": {"type": "object"},
            "spec": {
                "type": "object",
                "required": ["email"],
                "properties": {
                    "email": {"type": "string", "minLength": 3, "maxLength": 64, "pattern": "^[^@]+@[^@]+$"},
                    "deletionPolicy": {"type": "string", "enum": ["Retain", "Close"], "default": "Retain"},
                    "maxSessionDuration": {"type": "integer", "minimum": 3600, "maximum": 43200},
                    "ratio": {"type": "number", "exclusiveMinimum": true, "minimum": 0.5, "multipleOf": 0.25},
                    "tags": {"type": "object", "additionalProperties": {"type": "string"}, "maxProperties": 2},
                    "allowedNamespaces": {"type": "array", "items": {"type": "string"}, "maxItems": 2, "minItems": 1, "x-kubernetes-list-type": "set"},
                    "port": {"x-kubernetes-int-or-string": true},
                    "note": {"type": "string", "nullable": true},
                    "created": {"type": "string", "format": "date-time"},
                    "statements": {
                        "type": "array",
                        "x-kubernetes-list-type": "map",
                        "x-kubernetes-list-map-keys": ["sid"],
                        "items": {
                            "type": "object",
                            "properties": {
                                "sid": {"type": "string"},
                                "effect": {"type": "string", "default": "Allow"}
                            }
                        }
                    },
                    "extra": {"type": "object", "x-kubernetes-preserve-unknown-fields": true, "properties": {"known": {"type": "object", "properties": {"a": {"type": "string"}}}}},
                    "template": {"type": "object", "x-kubernetes-embedded-resource": true, "properties": {"spec": {"type": "object", "properties": {"x": {"type": "string"}}}}}
                }
            },
            "status": {"type": "object", "properties": {"accountId": {"type": "string"}}}
        }
    })
}

fn account(spec: Value) -> Value {
    json!({"apiVersion": "awsaccess.dev/v1alpha1", "kind": "AwsAccount", "metadata": {"name": "alfie-dev"}, "spec": spec})
}

fn messages(result: Result<Admitted, Vec<FieldError>>) -> Vec<String> {
    match result {
        Ok(admitted) => panic!("admitted: {admitted:?}"),
        Err(errors) => errors.iter().map(FieldError::message).collect(),
    }
}

fn rejects(spec: Value) -> Vec<String> {
    messages(admit(&account_schema(), &mut account(spec), None))
}

fn admits(spec: Value) -> (Value, Admitted) {
    let mut obj = account(spec);
    let admitted = admit(&account_schema(), &mut obj, None)
        .unwrap_or_else(|e| panic!("rejected: {:?}", e.iter().map(FieldError::message).collect::<Vec<_>>()));
    (obj, admitted)
}

#[test]
fn required_field_is_reported_with_its_cause_reason() {
    let errors = admit(&account_schema(), &mut account(json!({})), None).unwrap_err();
    assert_eq!(errors[0].message(), "spec.email: Required value");
    assert_eq!(errors[0].cause_reason(), "FieldValueRequired");
    assert_eq!(errors[0].body(), "Required value");
}

#[test]
fn numeric_bounds_use_the_kube_openapi_wording() {
    let found = rejects(json!({"email": "a@b.c", "maxSessionDuration": 100}));
    assert_eq!(
        found[0],
        "spec.maxSessionDuration: Invalid value: 100: spec.maxSessionDuration in body should be greater than or equal to 3600"
    );
    let found = rejects(json!({"email": "a@b.c", "maxSessionDuration": 50000}));
    assert_eq!(
        found[0],
        "spec.maxSessionDuration: Invalid value: 50000: spec.maxSessionDuration in body should be less than or equal to 43200"
    );
    let found = rejects(json!({"email": "a@b.c", "ratio": 0.5}));
    assert_eq!(
        found,
        vec!["spec.ratio: Invalid value: 0.5: spec.ratio in body should be greater than 0.5"]
    );
    let found = rejects(json!({"email": "a@b.c", "ratio": 0.6}));
    assert_eq!(
        found,
        vec!["spec.ratio: Invalid value: 0.6: spec.ratio in body should be a multiple of 0.25"]
    );
    admits(json!({"email": "a@b.c", "ratio": 0.75, "maxSessionDuration": 3600}));
}

#[test]
fn enum_lists_the_supported_values() {
    let errors = admit(
        &account_schema(),
        &mut account(json!({"email": "a@b.c", "deletionPolicy": "Foo"})),
        None,
    )
    .unwrap_err();
    assert_eq!(
        errors[0].message(),
        r#"spec.deletionPolicy: Unsupported value: "Foo": supported values: "Retain", "Close""#
    );
    assert_eq!(errors[0].cause_reason(), "FieldValueNotSupported");
}

#[test]
fn wrong_types_name_the_expected_and_actual_type() {
    let found = rejects(json!({"email": "a@b.c", "maxSessionDuration": "long"}));
    assert_eq!(
        found[0],
        r#"spec.maxSessionDuration: Invalid value: "string": spec.maxSessionDuration in body must be of type integer: "string""#
    );
    let found = rejects(json!({"email": ["a@b.c"]}));
    assert_eq!(
        found[0],
        r#"spec.email: Invalid value: "array": spec.email in body must be of type string: "array""#
    );
    let found = rejects(json!({"email": "a@b.c", "port": true}));
    assert_eq!(
        found[0],
        r#"spec.port: Invalid value: "boolean": spec.port in body must be of type integer,string: "boolean""#
    );
    // JSON has no integer type: 3600.0 is an integer.
    admits(json!({"email": "a@b.c", "maxSessionDuration": 3600.0, "port": "http"}));
    admits(json!({"email": "a@b.c", "port": 8080}));
}

#[test]
fn string_lengths_and_patterns() {
    assert_eq!(
        rejects(json!({"email": "a@"})),
        vec![r#"spec.email: Invalid value: "a@": spec.email in body should be at least 3 chars long"#]
    );
    assert_eq!(
        rejects(json!({"email": "x".repeat(65)})),
        vec!["spec.email: Too long: may not be more than 64 bytes", BLOCKED]
    );
    assert_eq!(
        rejects(json!({"email": "nobody"})),
        vec![r#"spec.email: Invalid value: "nobody": spec.email in body should match '^[^@]+@[^@]+$'"#]
    );
}

#[test]
fn counts_of_items_and_properties() {
    let found = rejects(
        json!({"email": "a@b.c", "allowedNamespaces": ["a", "b", "c"], "tags": {"a": "1", "b": "2", "c": "3"}}),
    );
    assert_eq!(
        found,
        vec![
            "spec.allowedNamespaces: Too many: 3: must have at most 2 items",
            "spec.tags: Too many: 3: must have at most 2 items",
            BLOCKED,
        ]
    );
    let found = rejects(json!({"email": "a@b.c", "allowedNamespaces": []}));
    assert_eq!(
        found,
        vec!["spec.allowedNamespaces: Invalid value: 0: spec.allowedNamespaces in body should have at least 1 items"]
    );
}

#[test]
fn map_values_are_validated_under_their_key() {
    let found = rejects(json!({"email": "a@b.c", "tags": {"team": 7}}));
    assert_eq!(
        found[0],
        r#"spec.tags.team: Invalid value: "integer": spec.tags.team in body must be of type string: "integer""#
    );
}

#[test]
fn formats_are_checked() {
    admits(json!({"email": "a@b.c", "created": "2024-02-29T10:00:00Z"}));
    admits(json!({"email": "a@b.c", "created": "2024-02-29t10:00:00.123+02:00"}));
    let found = rejects(json!({"email": "a@b.c", "created": "2023-02-29T10:00:00Z"}));
    assert_eq!(
        found[0],
        r#"spec.created: Invalid value: "2023-02-29T10:00:00Z": spec.created in body must be of type date-time: "2023-02-29T10:00:00Z""#
    );
    assert!(valid_format("uuid", "0b9f3b4e-53a1-4c5e-9b7a-0e0c4d8b9f10"));
    assert!(!valid_format("uuid", "0b9f3b4e"));
    assert!(valid_format("duration", "1h30m") && valid_format("duration", "3 days"));
    assert!(!valid_format("duration", "soon"));
    assert!(valid_format("cidr", "10.0.0.0/8") && !valid_format("cidr", "10.0.0.0/33"));
    assert!(valid_format("byte", "aGVsbG8=") && !valid_format("byte", "!!"));
    // int32 and int64 are not formats the server checks.
    let schema = json!({"type": "object", "properties": {"n": {"type": "integer", "format": "int32"}}});
    assert!(validate(&schema, &Programs::default(), &json!({"n": 9_000_000_000_i64}), None).is_empty());
}

#[test]
fn nulls_are_dropped_defaulted_or_kept_as_the_schema_says() {
    let (obj, _) = admits(json!({"email": "a@b.c", "maxSessionDuration": null, "deletionPolicy": null, "note": null}));
    assert_eq!(
        obj["spec"],
        json!({"email": "a@b.c", "deletionPolicy": "Retain", "note": null})
    );
    // A required field that is null is not missing: it has the wrong type.
    let found = rejects(json!({"email": null}));
    assert_eq!(found, vec!["spec.email: Required value", BLOCKED]);
    let schema = json!({"type": "object", "properties": {"spec": {"type": "object", "properties": {"a": {"type": "string", "default": "x"}}}}});
    let mut obj = json!({"spec": {"a": null}});
    normalize(&schema, &mut obj);
    assert_eq!(obj, json!({"spec": {"a": "x"}}));
    let schema = json!({"type": "object", "properties": {"a": {"type": "string", "enum": ["x"], "nullable": true}}});
    let found: Vec<String> = validate(&schema, &Programs::default(), &json!({"a": null}), None)
        .iter()
        .map(FieldError::message)
        .collect();
    assert_eq!(found[0], r#"a: Unsupported value: "null": supported values: "x""#);
}

#[test]
fn defaults_fill_absent_fields_at_every_level() {
    let (obj, _) = admits(json!({"email": "a@b.c", "statements": [{"sid": "one"}, {"sid": "two", "effect": "Deny"}]}));
    assert_eq!(obj["spec"]["deletionPolicy"], "Retain");
    assert_eq!(
        obj["spec"]["statements"],
        json!([{"sid": "one", "effect": "Allow"}, {"sid": "two", "effect": "Deny"}])
    );
    // Defaults are defaulted inside, and map values and list items default their nulls.
    let schema = json!({"type": "object", "properties": {
        "outer": {"type": "object", "default": {}, "properties": {"inner": {"type": "integer", "default": 3}}},
        "map": {"type": "object", "additionalProperties": {"type": "string", "default": "d"}},
        "list": {"type": "array", "items": {"type": "string", "default": "i"}}
    }});
    let mut obj = json!({"map": {"k": null}, "list": [null, "x"]});
    normalize(&schema, &mut obj);
    assert_eq!(
        obj,
        json!({"outer": {"inner": 3}, "map": {"k": "d"}, "list": ["i", "x"]})
    );
}

#[test]
fn unknown_fields_are_pruned_and_reported() {
    let mut obj = json!({
        "apiVersion": "awsaccess.dev/v1alpha1", "kind": "AwsAccount",
        "metadata": {"name": "a", "labels": {"x": "y"}, "colour": "red", "ownerReferences": [{"name": "o", "size": 1}]},
        "spec": {"email": "a@b.c", "foo": 1, "statements": [{"sid": "s", "bar": {}}],
                 "extra": {"anything": {"goes": 1}, "known": {"a": "1", "b": "2"}},
                 "template": {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "t", "bogus": 1}, "data": {}, "spec": {"x": "1", "y": "2"}}},
        "zzz": true
    });
    let admitted = admit(&account_schema(), &mut obj, None).unwrap();
    assert_eq!(
        admitted.unknown_fields,
        vec![
            "metadata.colour",
            "metadata.ownerReferences[0].size",
            "spec.extra.known.b",
            "spec.foo",
            "spec.statements[0].bar",
            "spec.template.data",
            "spec.template.spec.y",
            "zzz",
            "spec.template.metadata.bogus",
        ]
    );
    assert_eq!(
        obj["metadata"],
        json!({"name": "a", "labels": {"x": "y"}, "ownerReferences": [{"name": "o"}]})
    );
    assert_eq!(
        obj["spec"]["extra"],
        json!({"anything": {"goes": 1}, "known": {"a": "1"}})
    );
    assert_eq!(
        obj["spec"]["template"],
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "t"}, "spec": {"x": "1"}})
    );
    assert_eq!(obj["spec"]["statements"], json!([{"sid": "s", "effect": "Allow"}]));
    assert!(obj.get("zzz").is_none());
}

#[test]
fn without_a_schema_only_type_and_object_meta_survive() {
    let mut obj = json!({"apiVersion": "v1", "kind": "K", "metadata": {"name": "n"}, "spec": {"a": 1}});
    assert_eq!(normalize(&Value::Null, &mut obj), vec!["spec"]);
    assert_eq!(obj, json!({"apiVersion": "v1", "kind": "K", "metadata": {"name": "n"}}));
}

#[test]
fn set_and_map_lists_refuse_duplicates() {
    let found = rejects(
        json!({"email": "a@b.c", "allowedNamespaces": ["a", "a"], "statements": [{"sid": "x"}, {"sid": "x", "effect": "Deny"}, {}, {}]}),
    );
    assert_eq!(
        found,
        vec![
            r#"spec.allowedNamespaces[1]: Duplicate value: "a""#,
            r#"spec.statements[1]: Duplicate value: map[string]interface {}{"sid":"x"}"#,
            "spec.statements[3]: Duplicate value: map[string]interface {}{}",
        ]
    );
    let errors = admit(
        &account_schema(),
        &mut account(json!({"email": "a@b.c", "allowedNamespaces": ["a", "a"]})),
        None,
    )
    .unwrap_err();
    assert_eq!(errors[0].cause_reason(), "FieldValueDuplicate");
}

#[test]
fn embedded_resources_need_type_meta() {
    let found = rejects(json!({"email": "a@b.c", "template": {"metadata": {}}}));
    assert_eq!(
        found,
        vec![
            "spec.template.apiVersion: Required value: must not be empty",
            "spec.template.kind: Required value: must not be empty",
            BLOCKED,
        ]
    );
    let found = rejects(json!({"email": "a@b.c", "template": {"apiVersion": "a/b/c", "kind": "Config_Map"}}));
    assert_eq!(
        found,
        vec![
            r#"spec.template.apiVersion: Invalid value: "a/b/c": unexpected GroupVersion string: a/b/c"#,
            r#"spec.template.kind: Invalid value: "Config_Map": may have mixed case, but should otherwise match: a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"#,
        ]
    );
}

#[test]
fn errors_are_collected_across_the_object_in_a_stable_order() {
    let mut obj = account(json!({"maxSessionDuration": 1, "deletionPolicy": "Gone", "tags": {"b": 1, "a": 2}}));
    obj["status"] = json!({"accountId": 5});
    let found = messages(admit(&account_schema(), &mut obj, None));
    assert_eq!(
        found,
        vec![
            r#"spec.deletionPolicy: Unsupported value: "Gone": supported values: "Retain", "Close""#,
            "spec.maxSessionDuration: Invalid value: 1: spec.maxSessionDuration in body should be greater than or equal to 3600",
            r#"spec.tags.a: Invalid value: "integer": spec.tags.a in body must be of type string: "integer""#,
            r#"spec.tags.b: Invalid value: "integer": spec.tags.b in body must be of type string: "integer""#,
            "spec.email: Required value",
            r#"status.accountId: Invalid value: "integer": status.accountId in body must be of type string: "integer""#,
            BLOCKED,
        ]
    );
}

#[test]
fn updates_ratchet_errors_in_unchanged_values() {
    let schema = account_schema();
    // Stored before the schema tightened.
    let old = account(
        json!({"email": "a@b.c", "maxSessionDuration": 60, "deletionPolicy": "Retain", "allowedNamespaces": ["x", "x"]}),
    );
    let mut same = old.clone();
    same["metadata"]["labels"] = json!({"touched": "yes"});
    assert!(admit(&schema, &mut same, Some(&old)).is_ok());
    let mut changed = old.clone();
    changed["spec"]["maxSessionDuration"] = json!(61);
    let found = messages(admit(&schema, &mut changed, Some(&old)));
    assert_eq!(
        found,
        vec![
            "spec.maxSessionDuration: Invalid value: 61: spec.maxSessionDuration in body should be greater than or equal to 3600"
        ]
    );
    // The same value on create is refused.
    assert!(admit(&schema, &mut old.clone(), None).is_err());
}

#[test]
fn combinators() {
    let schema = json!({"type": "object", "properties": {"spec": {"type": "object",
        "properties": {"a": {"type": "string"}, "b": {"type": "string"}},
        "oneOf": [{"required": ["a"]}, {"required": ["b"]}],
        "not": {"required": ["c"]}}}});
    assert!(validate(&schema, &Programs::default(), &json!({"spec": {"a": "1"}}), None).is_empty());
    let found: Vec<String> = validate(
        &schema,
        &Programs::default(),
        &json!({"spec": {"a": "1", "b": "2"}}),
        None,
    )
    .iter()
    .map(FieldError::message)
    .collect();
    assert_eq!(
        found,
        vec![
            r#"<nil>: Invalid value: "": "spec" must validate one and only one schema (oneOf). Found 2 valid alternatives"#
        ]
    );
    let found: Vec<String> = validate(&schema, &Programs::default(), &json!({"spec": {}}), None)
        .iter()
        .map(FieldError::message)
        .collect();
    assert_eq!(
        found,
        vec![
            r#"<nil>: Invalid value: "": "spec" must validate one and only one schema (oneOf). Found none valid"#,
            "spec.a: Required value",
            BLOCKED,
        ]
    );
    let any =
        json!({"type": "object", "properties": {"n": {"type": "integer", "anyOf": [{"minimum": 10}, {"maximum": 1}]}}});
    let found: Vec<String> = validate(&any, &Programs::default(), &json!({"n": 5}), None)
        .iter()
        .map(FieldError::message)
        .collect();
    assert_eq!(
        found,
        vec![
            r#"<nil>: Invalid value: "": "n" must validate at least one schema (anyOf)"#,
            "n: Invalid value: 5: n in body should be greater than or equal to 10",
        ]
    );
}

use serde_json::{Value, json};

use crate::schema::{FieldError, admit};

fn with_rules(spec_properties: Value, spec_rules: Value) -> Value {
    json!({
        "type": "object",
        "properties": {
            "apiVersion": {"type": "string"},
            "kind": {"type": "string"},
            "metadata": {"type": "object"},
            "spec": {"type": "object", "properties": spec_properties, "x-kubernetes-validations": spec_rules}
        }
    })
}

fn resource(spec: Value) -> Value {
    json!({"apiVersion": "awsaccess.dev/v1alpha1", "kind": "CrossAccountRole", "metadata": {"name": "alfie"}, "spec": spec})
}

/// The messages of `spec` against `schema`, empty when admitted.
fn check(schema: &Value, spec: Value, old_spec: Option<Value>) -> Vec<String> {
    let old = old_spec.map(resource);
    match admit(schema, &mut resource(spec), old.as_ref()) {
        Ok(_) => Vec::new(),
        Err(errors) => errors.iter().map(FieldError::message).collect(),
    }
}

fn account_ref_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "apiVersion": {"type": "string"},
            "kind": {"type": "string"},
            "metadata": {"type": "object"},
            "spec": {"type": "object", "properties": {
                "account": {
                    "type": "object",
                    "properties": {"name": {"type": "string"}, "id": {"type": "string", "pattern": "^[0-9]{12}$"}},
                    "x-kubernetes-validations": [{"rule": "has(self.name) != has(self.id)", "message": "exactly one of name or id must be set"}]
                },
                "email": {"type": "string", "x-kubernetes-validations": [{"rule": "self == oldSelf", "message": "email is immutable"}]}
            }}
        }
    })
}

#[test]
fn exactly_one_of_two_fields() {
    let schema = account_ref_schema();
    assert!(check(&schema, json!({"account": {"name": "identity"}}), None).is_empty());
    assert!(check(&schema, json!({"account": {"id": "123456789012"}}), None).is_empty());
    let both = json!({"account": {"name": "identity", "id": "123456789012"}});
    assert_eq!(
        check(&schema, both, None),
        vec![r#"spec.account: Invalid value: "object": exactly one of name or id must be set"#]
    );
    let errors = admit(&schema, &mut resource(json!({"account": {}})), None).unwrap_err();
    assert_eq!(
        errors[0].message(),
        r#"spec.account: Invalid value: "object": exactly one of name or id must be set"#
    );
    assert_eq!(errors[0].cause_reason(), "FieldValueInvalid");
}

#[test]
fn transition_rules_need_an_old_value() {
    let schema = account_ref_schema();
    let spec = json!({"email": "a@example.com"});
    assert!(check(&schema, spec.clone(), None).is_empty());
    assert!(check(&schema, spec.clone(), Some(spec.clone())).is_empty());
    assert_eq!(
        check(&schema, json!({"email": "b@example.com"}), Some(spec)),
        vec![r#"spec.email: Invalid value: "string": email is immutable"#]
    );
    // Setting a field that was absent has nothing to compare with.
    assert!(check(&schema, json!({"email": "b@example.com"}), Some(json!({}))).is_empty());
}

#[test]
fn immutability_of_objects_and_lists() {
    let schema = with_rules(
        json!({"policy": {"type": "object", "properties": {"arns": {"type": "array", "items": {"type": "string"}}}}}),
        json!([{"rule": "self.policy == oldSelf.policy", "message": "policy is immutable"}]),
    );
    let old = json!({"policy": {"arns": ["a", "b"]}});
    assert!(check(&schema, old.clone(), Some(old.clone())).is_empty());
    assert_eq!(
        check(&schema, json!({"policy": {"arns": ["b", "a"]}}), Some(old)),
        vec![r#"spec: Invalid value: "object": policy is immutable"#]
    );
}

#[test]
fn optional_old_self_runs_on_create_too() {
    let schema = with_rules(
        json!({"size": {"type": "integer", "x-kubernetes-validations": [{
            "rule": "!oldSelf.hasValue() || self >= oldSelf.value()",
            "optionalOldSelf": true,
            "messageExpression": "'may only grow, not shrink to ' + string(self)"
        }]}}),
        json!([]),
    );
    assert!(check(&schema, json!({"size": 3}), None).is_empty());
    assert!(check(&schema, json!({"size": 4}), Some(json!({"size": 3}))).is_empty());
    assert_eq!(
        check(&schema, json!({"size": 2}), Some(json!({"size": 3}))),
        vec![r#"spec.size: Invalid value: "integer": may only grow, not shrink to 2"#]
    );
}

#[test]
fn messages_reasons_and_field_paths() {
    let schema = with_rules(
        json!({
            "min": {"type": "integer"},
            "max": {"type": "integer"},
            "tags": {"type": "object", "additionalProperties": {"type": "string"}},
            "mode": {"type": "string"}
        }),
        json!([
            {"rule": "self.min <= self.max"},
            {"rule": "self.min <= self.max", "messageExpression": "'min ' + string(self.min) + ' exceeds max ' + string(self.max)", "fieldPath": ".min"},
            {"rule": "!('team' in self.tags)", "message": "team is reserved", "reason": "FieldValueForbidden", "fieldPath": ".tags['team']"},
            {"rule": "has(self.mode)", "message": "mode is required", "reason": "FieldValueRequired", "fieldPath": ".mode"},
            {"rule": "self.min != 5", "reason": "FieldValueDuplicate"},
            {"rule": "self.min > 100", "messageExpression": "42", "message": "  min is small  "},
            {"rule": "self.min > 100", "messageExpression": "'   '", "fieldPath": ".nowhere"}
        ]),
    );
    assert_eq!(
        check(&schema, json!({"min": 5, "max": 4, "tags": {"team": "x"}}), None),
        vec![
            r#"spec: Invalid value: "object": failed rule: self.min <= self.max"#,
            r#"spec.min: Invalid value: "object": min 5 exceeds max 4"#,
            "spec.tags[team]: Forbidden: team is reserved",
            "spec.mode: Required value: mode is required",
            r#"spec: Duplicate value: "object""#,
            r#"spec: Invalid value: "object": min is small"#,
            r#"spec: Invalid value: "object": failed rule: self.min > 100"#,
        ]
    );
}

#[test]
fn broken_rules_are_invalid_errors() {
    let schema = with_rules(
        json!({"name": {"type": "string"}, "port": {"x-kubernetes-int-or-string": true, "x-kubernetes-validations": [{"rule": "self > 0"}]}}),
        json!([
            {"rule": "self.name.("},
            {"rule": "self.name == 'x'", "message": "name must be x"},
            {"rule": "self.name"}
        ]),
    );
    assert_eq!(
        check(&schema, json!({"port": "http"}), None),
        vec![
            "spec: Invalid value: \"object\": rule compile error: compilation failed: ERROR: <input>:1:11: Syntax error: no viable alternative at input '.('\n| self.name.(\n| ..........^",
            r#"spec: Invalid value: "object": no such key: name evaluating rule: name must be x"#,
            r#"spec: Invalid value: "object": no such key: name evaluating rule: self.name"#,
            r#"spec.port: Invalid value: "": 'no such overload': call arguments did not match a supported operator, function or macro signature for rule: self > 0"#,
        ]
    );
    assert_eq!(
        check(&schema, json!({"name": "x", "port": 1}), None),
        vec![
            "spec: Invalid value: \"object\": rule compile error: compilation failed: ERROR: <input>:1:11: Syntax error: no viable alternative at input '.('\n| self.name.(\n| ..........^",
            r#"spec: Invalid value: "object": rule compile error: cel expression must evaluate to a bool"#,
        ]
    );
}

#[test]
fn root_rules_see_type_and_object_meta() {
    let schema = json!({
        "type": "object",
        "properties": {"spec": {"type": "object", "properties": {"roleName": {"type": "string"}}}},
        "x-kubernetes-validations": [
            {"rule": "!has(self.spec.roleName) || self.spec.roleName.startsWith(self.metadata.name)", "message": "roleName must start with the object's name"},
            {"rule": "self.kind == 'CrossAccountRole' && self.apiVersion.endsWith('/v1alpha1') && !has(self.metadata.namespace)"}
        ]
    });
    assert!(check(&schema, json!({"roleName": "alfieAdmin"}), None).is_empty());
    assert_eq!(
        check(&schema, json!({"roleName": "Admin"}), None),
        vec![r#"<nil>: Invalid value: "object": roleName must start with the object's name"#]
    );
}

#[test]
fn standard_library_macros_and_escaping() {
    let rules: Vec<Value> = [
        "self.arns.all(a, a.startsWith('arn:aws:iam::')) && self.arns.exists(a, a.endsWith(':root'))",
        "self.arns.exists_one(a, a.contains('role/')) && self.arns.map(a, size(a)).filter(n, n > 100).size() == 0",
        "self.name.matches('^[a-z-]+$') && 'alfie' in self.members && !('nobody' in self.members)",
        "(self.count > 2 ? 'many' : 'few') == 'many' && int('12') == 12 && string(self.count) == '3' && self.ratio == 1.0",
        "self.__namespace__ == 'dev' && self.session__dash__tags['team'] == 'alfie' && self.tags.team == 'alfie'",
        "self.members.isSorted() && [1, 2, 3].sum() == 6 && self.members.min() == 'alfie' && self.members.max() == 'bob'",
        "self.name.find('[0-9]+') == '' && 'a1b22'.findAll('[0-9]+') == ['1', '22'] && self.name.upperAscii() == 'ALFIE-DEV'",
    ]
    .iter()
    .map(|rule| json!({"rule": rule}))
    .collect();
    let schema = with_rules(
        json!({
            "arns": {"type": "array", "items": {"type": "string"}},
            "name": {"type": "string"},
            "members": {"type": "array", "items": {"type": "string"}, "x-kubernetes-list-type": "set"},
            "count": {"type": "integer"},
            "ratio": {"type": "number"},
            "namespace": {"type": "string"},
            "session-tags": {"type": "object", "additionalProperties": {"type": "string"}},
            "tags": {"type": "object", "properties": {"team": {"type": "string"}}}
        }),
        Value::Array(rules),
    );
    let spec = json!({
        "arns": ["arn:aws:iam::123456789012:root", "arn:aws:iam::123456789012:role/x"],
        "name": "alfie-dev",
        "members": ["alfie", "bob"],
        "count": 3,
        "ratio": 1,
        "namespace": "dev",
        "session-tags": {"team": "alfie"},
        "tags": {"team": "alfie"}
    });
    assert_eq!(check(&schema, spec, None), Vec::<String>::new());
}

#[test]
fn map_list_items_are_compared_with_the_item_of_the_same_key() {
    let schema = with_rules(
        json!({"statements": {
            "type": "array",
            "x-kubernetes-list-type": "map",
            "x-kubernetes-list-map-keys": ["sid"],
            "items": {"type": "object", "properties": {"sid": {"type": "string"}, "effect": {"type": "string"}},
                      "x-kubernetes-validations": [{"rule": "self.effect == oldSelf.effect", "message": "effect is immutable"}]}
        }}),
        json!([]),
    );
    let old = json!({"statements": [{"sid": "a", "effect": "Allow"}, {"sid": "b", "effect": "Deny"}]});
    let reordered = json!({"statements": [{"sid": "b", "effect": "Deny"}, {"sid": "c", "effect": "Deny"}, {"sid": "a", "effect": "Allow"}]});
    assert!(check(&schema, reordered, Some(old.clone())).is_empty());
    let changed = json!({"statements": [{"sid": "b", "effect": "Allow"}]});
    assert_eq!(
        check(&schema, changed, Some(old)),
        vec![r#"spec.statements[0]: Invalid value: "object": effect is immutable"#]
    );
}

#[test]
fn unchanged_values_ratchet_rule_failures() {
    // A rule added to the CRD after the object was stored.
    let schema = with_rules(
        json!({"name": {"type": "string", "x-kubernetes-validations": [{"rule": "size(self) <= 5", "message": "too long"}]},
               "other": {"type": "string"}}),
        json!([]),
    );
    let old = json!({"name": "longname", "other": "a"});
    assert!(check(&schema, json!({"name": "longname", "other": "b"}), Some(old.clone())).is_empty());
    assert_eq!(
        check(&schema, json!({"name": "longername"}), Some(old)),
        vec![r#"spec.name: Invalid value: "string": too long"#]
    );
}

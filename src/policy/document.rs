//! IAM policy documents compared by what they mean rather than by their text.
//!
//! IAM keeps the text it was given, hands it back URL-encoded, and rewrites parts of it
//! (an account-id principal becomes the account's root ARN, a one-item principal list
//! can come back as a plain string). Comparing raw JSON would report drift on every
//! resync and write again forever; `equivalent` compares normalised forms instead.
//!
//! Normalisation never merges statements: two statements that differ only in their
//! actions stay two statements, so `{Allow a}{Allow b}` is *not* equivalent to
//! `{Allow [a, b]}` even though IAM would grant the same. Merging would need policy
//! evaluation logic (and Deny, NotAction, Condition make it subtle); a false "differs"
//! only costs one idempotent write, a false "same" would hide drift.

use std::borrow::Cow;
use std::collections::BTreeMap;

use percent_encoding::percent_decode_str;
use serde_json::{Map, Value, json};

use super::PolicyError;
use super::trust::account_root_arn;
use super::validate::is_account_id;

/// The policy language version every document the operator builds declares.
pub const POLICY_VERSION: &str = "2012-10-17";

/// What IAM assumes when a document has no `Version` (IAM User Guide, "IAM JSON policy
/// elements: Version").
pub const DEFAULT_POLICY_VERSION: &str = "2008-10-17";

/// Parses a policy document as IAM returns it (GetRole's AssumeRolePolicyDocument,
/// GetRolePolicy, GetGroupPolicy, GetAccountAuthorizationDetails: URL-encoded JSON) or
/// as a user wrote it (plain JSON).
///
/// Decoding follows botocore's `decode_quoted_jsondoc` (`urllib.parse.unquote`): `%XX`
/// escapes only, a `+` stays a `+`.
pub fn decode_aws_document(raw: &str) -> Result<Value, PolicyError> {
    // Encoded JSON starts with "%7B", never with '{', so the first character tells the
    // forms apart; a plain document is not decoded, which keeps a literal '%' in it intact.
    let json: Cow<'_, str> = if raw.trim_start().starts_with('{') {
        Cow::Borrowed(raw)
    } else {
        percent_decode_str(raw)
            .decode_utf8()
            .map_err(|error| PolicyError::MalformedDocument {
                detail: format!("URL-decoding does not give UTF-8 text ({error})"),
            })?
    };
    serde_json::from_str(&json).map_err(|error| PolicyError::MalformedDocument {
        detail: error.to_string(),
    })
}

/// True when IAM gives both documents the same meaning, as far as `normalize` can tell.
pub fn equivalent(a: &Value, b: &Value) -> bool {
    normalize(a) == normalize(b)
}

/// The form in which two documents with the same meaning are equal:
/// - `Version` defaults to 2008-10-17; an empty `Sid` and an empty `Condition` are dropped;
/// - statements, and the values of `Action`, `NotAction`, `Resource`, `NotResource`,
///   each principal type and each condition key, become sorted lists without duplicates
///   (a single string is a one-item list);
/// - actions are lowercased (IAM matches them case-insensitively);
/// - `Principal: "*"` becomes `{"AWS": ["*"]}`, and an AWS principal that is a bare
///   account id becomes `arn:aws:iam::<id>:root`, as IAM rewrites it;
/// - condition keys are lowercased (case-insensitive in IAM) while operators keep their
///   case (case-sensitive); condition values become strings (`true` means `"true"`).
///
/// Anything else (resources, principals, condition values) keeps its case, since IAM
/// compares those case-sensitively in general.
pub fn normalize(doc: &Value) -> Value {
    let Value::Object(fields) = doc else {
        return doc.clone();
    };
    let mut normalized: Map<String, Value> = fields
        .iter()
        .map(|(key, value)| {
            let value = match key.as_str() {
                "Statement" => sorted_set(as_list(value).iter().map(normalize_statement)),
                _ => value.clone(),
            };
            (key.clone(), value)
        })
        .collect();
    normalized
        .entry("Version")
        .or_insert_with(|| Value::from(DEFAULT_POLICY_VERSION));
    Value::Object(normalized)
}

/// Compact JSON with object keys sorted at every level: the same document always gives
/// the same text. It does not normalise; callers send what the user wrote.
pub fn canonical_json(doc: &Value) -> String {
    with_sorted_keys(doc).to_string()
}

// serde_json keeps insertion order when any crate in the build enables its
// `preserve_order` feature, so the order is made explicit rather than left to the map type.
fn with_sorted_keys(value: &Value) -> Value {
    match value {
        Value::Object(fields) => {
            let sorted: BTreeMap<&String, Value> = fields
                .iter()
                .map(|(key, value)| (key, with_sorted_keys(value)))
                .collect();
            Value::Object(sorted.into_iter().map(|(key, value)| (key.clone(), value)).collect())
        }
        Value::Array(items) => Value::Array(items.iter().map(with_sorted_keys).collect()),
        scalar => scalar.clone(),
    }
}

/// What changes from `current` to `desired`, statement by statement, for a
/// person to read: `+ statement` added, `- statement` removed, each
/// normalised. An `sts:ExternalId` is never shown, since it is a secret:
/// where it is all that changes, that is said without the values.
pub fn statement_changes(desired: &Value, current: &Value) -> Vec<String> {
    if equivalent(desired, current) {
        return vec![];
    }
    let statements = |doc: &Value| -> Vec<Value> {
        as_list(&normalize(doc)["Statement"])
            .iter()
            .filter(|s| !s.is_null())
            .map(without_external_id)
            .collect()
    };
    let (wanted, present) = (statements(desired), statements(current));
    let mut lines: Vec<String> = wanted
        .iter()
        .filter(|s| !present.contains(s))
        .map(|s| format!("+ {s}"))
        .chain(present.iter().filter(|s| !wanted.contains(s)).map(|s| format!("- {s}")))
        .collect();
    if lines.is_empty() {
        lines.push("external ID changed".into());
    }
    lines
}

const EXTERNAL_ID_KEY: &str = "sts:externalid";

/// A normalised statement with the values of its `sts:ExternalId` condition hidden.
fn without_external_id(statement: &Value) -> Value {
    let mut statement = statement.clone();
    if let Some(Value::Object(operators)) = statement.get_mut("Condition") {
        for keys in operators.values_mut() {
            if let Some(values) = keys.as_object_mut().and_then(|keys| keys.get_mut(EXTERNAL_ID_KEY)) {
                *values = json!(["(secret)"]);
            }
        }
    }
    statement
}

fn normalize_statement(statement: &Value) -> Value {
    let Value::Object(fields) = statement else {
        return statement.clone();
    };
    let mut normalized = Map::new();
    for (key, value) in fields {
        let value = match key.as_str() {
            "Sid" if value.as_str() == Some("") => continue,
            "Condition" if value.as_object().is_some_and(Map::is_empty) => continue,
            "Action" | "NotAction" => sorted_set(as_list(value).iter().map(lowercase)),
            "Resource" | "NotResource" => sorted_set(as_list(value).iter().cloned()),
            "Principal" | "NotPrincipal" => normalize_principal(value),
            "Condition" => normalize_condition(value),
            _ => value.clone(),
        };
        normalized.insert(key.clone(), value);
    }
    Value::Object(normalized)
}

fn normalize_principal(principal: &Value) -> Value {
    match principal {
        // IAM documents `"Principal": "*"` as the same as `{"AWS": "*"}`.
        Value::String(everyone) if everyone == "*" => json!({ "AWS": ["*"] }),
        Value::Object(by_type) => Value::Object(
            by_type
                .iter()
                .map(|(principal_type, ids)| {
                    let ids = as_list(ids).iter();
                    let ids = if principal_type == "AWS" {
                        sorted_set(ids.map(account_id_as_root_arn))
                    } else {
                        sorted_set(ids.cloned())
                    };
                    (principal_type.clone(), ids)
                })
                .collect(),
        ),
        other => other.clone(),
    }
}

fn account_id_as_root_arn(principal: &Value) -> Value {
    match principal.as_str() {
        Some(id) if is_account_id(id) => Value::from(account_root_arn(id)),
        _ => principal.clone(),
    }
}

fn normalize_condition(condition: &Value) -> Value {
    let Value::Object(operators) = condition else {
        return condition.clone();
    };
    Value::Object(
        operators
            .iter()
            .map(|(operator, keys)| {
                let keys = match keys {
                    Value::Object(keys) => Value::Object(normalize_condition_keys(keys)),
                    other => other.clone(),
                };
                (operator.clone(), keys)
            })
            .collect(),
    )
}

fn normalize_condition_keys(keys: &Map<String, Value>) -> Map<String, Value> {
    // Two keys that differ only in case are both evaluated (all must match), so folding
    // them into one key would change the meaning: such keys keep their spelling.
    let spelled_twice = |key: &str| keys.keys().filter(|other| other.eq_ignore_ascii_case(key)).count() > 1;
    keys.iter()
        .map(|(key, values)| {
            let key = if spelled_twice(key) {
                key.clone()
            } else {
                key.to_ascii_lowercase()
            };
            let values = sorted_set(as_list(values).iter().map(condition_value_as_string));
            (key, values)
        })
        .collect()
}

// IAM reads condition values as strings whatever their JSON type.
fn condition_value_as_string(value: &Value) -> Value {
    match value {
        Value::Bool(flag) => Value::from(flag.to_string()),
        Value::Number(number) => Value::from(number.to_string()),
        other => other.clone(),
    }
}

fn lowercase(value: &Value) -> Value {
    match value {
        Value::String(text) => Value::from(text.to_ascii_lowercase()),
        other => other.clone(),
    }
}

pub(super) fn as_list(value: &Value) -> &[Value] {
    match value {
        Value::Array(items) => items,
        single => std::slice::from_ref(single),
    }
}

fn sorted_set(values: impl IntoIterator<Item = Value>) -> Value {
    let by_text: BTreeMap<String, Value> = values
        .into_iter()
        .map(|value| (canonical_json(&value), value))
        .collect();
    Value::Array(by_text.into_values().collect())
}

#[cfg(test)]
mod tests {

    #[test]
    fn statement_changes_name_statements_and_never_an_external_id() {
        let trust = |principal: &str, external_id: &str| json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": principal}, "Action": "sts:AssumeRole", "Condition": {"StringEquals": {"sts:ExternalId": external_id}}}]});
        assert!(
            statement_changes(
                &trust("111122223333", "a"),
                &trust("arn:aws:iam::111122223333:root", "a")
            )
            .is_empty()
        );
        assert_eq!(
            statement_changes(
                &trust("111122223333", "new-secret"),
                &trust("111122223333", "old-secret")
            ),
            ["external ID changed"]
        );
        let changes = statement_changes(
            &trust("444455556666", "new-secret"),
            &trust("111122223333", "old-secret"),
        );
        assert_eq!(changes.len(), 2, "{changes:?}");
        assert!(changes[0].starts_with("+ ") && changes[0].contains("444455556666"));
        assert!(changes[1].starts_with("- ") && changes[1].contains("111122223333"));
        assert!(
            changes
                .iter()
                .all(|line| !line.contains("new-secret") && !line.contains("old-secret"))
        );
    }

    use super::*;

    // Seed 003's trust relationship, and how moto (urllib.parse.quote of json.dumps)
    // returns it from GetRole.
    const SEED_TRUST: &str = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::012345678901:root"}, "Action": "sts:AssumeRole"}]}"#;
    const SEED_TRUST_ENCODED: &str = "%7B%22Version%22%3A%20%222012-10-17%22%2C%20%22Statement%22%3A%20%5B%7B%22Effect%22%3A%20%22Allow%22%2C%20%22Principal%22%3A%20%7B%22AWS%22%3A%20%22arn%3Aaws%3Aiam%3A%3A012345678901%3Aroot%22%7D%2C%20%22Action%22%3A%20%22sts%3AAssumeRole%22%7D%5D%7D";

    fn statement_of(doc: Value) -> Value {
        json!({ "Version": "2012-10-17", "Statement": [doc] })
    }

    #[test]
    fn decodes_url_encoded_document_as_moto_and_iam_return_it() {
        let decoded = decode_aws_document(SEED_TRUST_ENCODED).unwrap();
        assert_eq!(decoded, serde_json::from_str::<Value>(SEED_TRUST).unwrap());
        assert_eq!(
            decoded["Statement"][0]["Principal"]["AWS"],
            "arn:aws:iam::012345678901:root"
        );
    }

    #[test]
    fn decodes_iam_style_encoding_with_newlines_and_unescaped_slashes() {
        let raw = "%7B%0A%20%20%22Version%22%3A%20%222012-10-17%22%2C%0A%20%20%22Statement%22%3A%20%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22s3%3AGetObject%22%2C%22Resource%22%3A%22arn%3Aaws%3As3%3A%3A%3Abucket/*%22%7D%0A%7D";
        let decoded = decode_aws_document(raw).unwrap();
        assert_eq!(decoded["Statement"]["Resource"], "arn:aws:s3:::bucket/*");
    }

    #[test]
    fn accepts_plain_json_and_keeps_a_literal_percent_in_it() {
        let raw = r#" {"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/100%25"}]}"#;
        let decoded = decode_aws_document(raw).unwrap();
        assert_eq!(decoded["Statement"][0]["Resource"], "arn:aws:s3:::b/100%25");
    }

    #[test]
    fn plus_in_encoded_document_stays_a_plus() {
        // Python's quote() encodes a space as %20 and leaves nothing as '+'; botocore's
        // unquote() therefore never turns '+' into a space, and neither do we.
        let decoded = decode_aws_document("%7B%22Id%22%3A%22a+b%20c%22%7D").unwrap();
        assert_eq!(decoded["Id"], "a+b c");
    }

    #[test]
    fn rejects_text_that_is_not_json_either_way() {
        let error = decode_aws_document("not%20a%20policy").unwrap_err();
        assert!(matches!(error, PolicyError::MalformedDocument { .. }));
        assert!(error.to_string().contains("not valid JSON"));
        assert!(matches!(
            decode_aws_document("{\"Version\":"),
            Err(PolicyError::MalformedDocument { .. })
        ));
        assert!(matches!(
            decode_aws_document("%FF%FE"),
            Err(PolicyError::MalformedDocument { .. })
        ));
    }

    #[test]
    fn a_trust_policy_equals_its_url_encoded_form_as_iam_returns_it() {
        let ours: Value = serde_json::from_str(SEED_TRUST).unwrap();
        let from_iam = decode_aws_document(SEED_TRUST_ENCODED).unwrap();
        assert!(equivalent(&ours, &from_iam));
    }

    #[test]
    fn single_string_equals_one_item_list_in_every_list_field() {
        let as_strings = statement_of(json!({
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::012345678901:root", "Service": "ec2.amazonaws.com", "Federated": "cognito-identity.amazonaws.com"},
            "Action": "sts:AssumeRole",
            "NotResource": "arn:aws:s3:::secret",
            "Condition": {"StringEquals": {"sts:ExternalId": "abc"}}
        }));
        let as_lists = statement_of(json!({
            "Effect": "Allow",
            "Principal": {"AWS": ["arn:aws:iam::012345678901:root"], "Service": ["ec2.amazonaws.com"], "Federated": ["cognito-identity.amazonaws.com"]},
            "Action": ["sts:AssumeRole"],
            "NotResource": ["arn:aws:s3:::secret"],
            "Condition": {"StringEquals": {"sts:ExternalId": ["abc"]}}
        }));
        assert!(equivalent(&as_strings, &as_lists));

        let not_action = statement_of(json!({"Effect": "Deny", "NotAction": "iam:*", "Resource": "*"}));
        let not_action_list = statement_of(json!({"Effect": "Deny", "NotAction": ["iam:*"], "Resource": ["*"]}));
        assert!(equivalent(&not_action, &not_action_list));
    }

    #[test]
    fn order_of_statements_and_values_does_not_matter_and_duplicates_collapse() {
        let read = json!({"Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"], "Resource": "*"});
        let deny = json!({"Effect": "Deny", "Action": "iam:*", "Resource": "*"});
        let a = json!({"Version": "2012-10-17", "Statement": [read, deny]});
        let b = json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Deny", "Action": "iam:*", "Resource": "*"},
            {"Effect": "Allow", "Action": ["s3:ListBucket", "s3:GetObject", "s3:ListBucket"], "Resource": "*"},
            {"Effect": "Deny", "Action": ["iam:*"], "Resource": ["*", "*"]}
        ]});
        assert!(equivalent(&a, &b));
        assert_eq!(normalize(&b)["Statement"].as_array().unwrap().len(), 2);
    }

    #[test]
    fn statement_object_equals_one_item_statement_list() {
        let object =
            json!({"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}});
        let list = statement_of(json!({"Effect": "Allow", "Action": "s3:*", "Resource": "*"}));
        assert!(equivalent(&object, &list));
    }

    #[test]
    fn split_actions_are_not_merged() {
        let split = json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"},
            {"Effect": "Allow", "Action": "s3:PutObject", "Resource": "*"}
        ]});
        let merged =
            statement_of(json!({"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"], "Resource": "*"}));
        assert!(!equivalent(&split, &merged));
    }

    #[test]
    fn empty_sid_equals_absent_sid_but_named_sids_differ() {
        let base = json!({"Effect": "Allow", "Action": "s3:*", "Resource": "*"});
        let mut empty_sid = base.clone();
        empty_sid["Sid"] = json!("");
        let mut named = base.clone();
        named["Sid"] = json!("ReadAll");
        assert!(equivalent(&statement_of(base.clone()), &statement_of(empty_sid)));
        assert!(!equivalent(&statement_of(base), &statement_of(named)));
    }

    #[test]
    fn missing_version_means_2008_10_17() {
        let statement = json!({"Effect": "Allow", "Action": "s3:*", "Resource": "*"});
        let without = json!({"Statement": [statement.clone()]});
        let old = json!({"Version": "2008-10-17", "Statement": [statement.clone()]});
        assert!(equivalent(&without, &old));
        assert!(!equivalent(&without, &statement_of(statement)));
    }

    #[test]
    fn condition_keys_ignore_case_but_operators_do_not() {
        let a = statement_of(json!({"Effect": "Allow", "Action": "s3:*", "Resource": "*",
            "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}}));
        let key_case = statement_of(json!({"Effect": "Allow", "Action": "s3:*", "Resource": "*",
            "Condition": {"Bool": {"AWS:multifactorauthpresent": ["true"]}}}));
        let operator_case = statement_of(json!({"Effect": "Allow", "Action": "s3:*", "Resource": "*",
            "Condition": {"bool": {"aws:MultiFactorAuthPresent": "true"}}}));
        assert!(equivalent(&a, &key_case));
        assert!(!equivalent(&a, &operator_case));
    }

    #[test]
    fn condition_values_keep_case_and_compare_as_strings() {
        let with = |value: Value| {
            statement_of(json!({"Effect": "Allow", "Action": "s3:*", "Resource": "*",
                "Condition": {"StringEquals": {"aws:PrincipalTag/team": value}}}))
        };
        assert!(!equivalent(&with(json!("Alfie")), &with(json!("alfie"))));
        assert!(equivalent(&with(json!(["b", "a", "a"])), &with(json!(["a", "b"]))));

        let boolean = |value: Value| {
            statement_of(json!({"Effect": "Allow", "Action": "s3:*", "Resource": "*",
                "Condition": {"Bool": {"aws:SecureTransport": value}}}))
        };
        assert!(equivalent(&boolean(json!(true)), &boolean(json!("true"))));
        assert!(equivalent(&boolean(json!([false])), &boolean(json!("false"))));
    }

    #[test]
    fn condition_keys_spelled_twice_are_not_folded_together() {
        let doc = statement_of(json!({"Effect": "Allow", "Action": "s3:*", "Resource": "*",
            "Condition": {"StringEquals": {"aws:username": "a", "AWS:UserName": "b"}}}));
        let folded = statement_of(json!({"Effect": "Allow", "Action": "s3:*", "Resource": "*",
            "Condition": {"StringEquals": {"aws:username": ["a", "b"]}}}));
        assert!(!equivalent(&doc, &folded));
        let keys = &normalize(&doc)["Statement"][0]["Condition"]["StringEquals"];
        assert_eq!(keys["aws:username"], json!(["a"]));
        assert_eq!(keys["AWS:UserName"], json!(["b"]));
    }

    #[test]
    fn empty_condition_equals_no_condition() {
        let bare = statement_of(json!({"Effect": "Allow", "Action": "s3:*", "Resource": "*"}));
        let empty = statement_of(json!({"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Condition": {}}));
        assert!(equivalent(&bare, &empty));
    }

    #[test]
    fn actions_ignore_case_resources_do_not() {
        let a = statement_of(
            json!({"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "arn:aws:iam::123456789012:role/AlfieReadOnly"}),
        );
        let action_case = statement_of(
            json!({"Effect": "Allow", "Action": "STS:assumerole", "Resource": "arn:aws:iam::123456789012:role/AlfieReadOnly"}),
        );
        let resource_case = statement_of(
            json!({"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "arn:aws:iam::123456789012:role/alfiereadonly"}),
        );
        assert!(equivalent(&a, &action_case));
        assert!(!equivalent(&a, &resource_case));
    }

    #[test]
    fn wildcard_principal_equals_aws_wildcard() {
        let star = statement_of(json!({"Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole"}));
        let aws_star = statement_of(json!({"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}));
        assert!(equivalent(&star, &aws_star));
    }

    #[test]
    fn account_id_principal_equals_its_root_arn() {
        let by_id = statement_of(json!({"Effect": "Allow",
            "Principal": {"AWS": ["012345678901", "arn:aws:iam::111111111111:user/alice"]},
            "Action": "sts:AssumeRole"}));
        let as_iam_returns_it = statement_of(json!({"Effect": "Allow",
            "Principal": {"AWS": ["arn:aws:iam::111111111111:user/alice", "arn:aws:iam::012345678901:root"]},
            "Action": "sts:AssumeRole"}));
        assert!(equivalent(&by_id, &as_iam_returns_it));
        let other_account = statement_of(json!({"Effect": "Allow",
            "Principal": {"AWS": ["arn:aws:iam::111111111111:user/alice", "arn:aws:iam::012345678902:root"]},
            "Action": "sts:AssumeRole"}));
        assert!(!equivalent(&by_id, &other_account));
    }

    #[test]
    fn different_effect_or_principal_is_not_equivalent() {
        let allow = statement_of(json!({"Effect": "Allow", "Action": "s3:*", "Resource": "*"}));
        let deny = statement_of(json!({"Effect": "Deny", "Action": "s3:*", "Resource": "*"}));
        assert!(!equivalent(&allow, &deny));
    }

    #[test]
    fn canonical_json_is_compact_and_independent_of_key_order() {
        let a: Value = serde_json::from_str(
            r#"{ "Version": "2012-10-17", "Statement": [ { "Effect": "Allow", "Action": "s3:*", "Resource": "*" } ] }"#,
        )
        .unwrap();
        let b: Value = serde_json::from_str(
            r#"{"Statement":[{"Resource":"*","Action":"s3:*","Effect":"Allow"}],"Version":"2012-10-17"}"#,
        )
        .unwrap();
        let expected = r#"{"Statement":[{"Action":"s3:*","Effect":"Allow","Resource":"*"}],"Version":"2012-10-17"}"#;
        assert_eq!(canonical_json(&a), expected);
        assert_eq!(canonical_json(&b), expected);
    }

    #[test]
    fn canonical_json_keeps_what_the_user_wrote() {
        let doc = json!({"Statement": {"Effect": "Allow", "Action": "S3:GetObject", "Resource": "*"}});
        assert_eq!(
            canonical_json(&doc),
            r#"{"Statement":{"Action":"S3:GetObject","Effect":"Allow","Resource":"*"}}"#
        );
    }

    #[test]
    fn normalize_leaves_non_documents_alone() {
        assert_eq!(normalize(&json!("text")), json!("text"));
        assert_eq!(normalize(&json!({"Statement": ["odd"]}))["Statement"], json!(["odd"]));
    }
}

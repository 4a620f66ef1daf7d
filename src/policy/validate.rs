//! Input checks run before any AWS write, so a mistake in a spec becomes a condition
//! that says what to fix instead of an IAM error after half the changes are made.
//!
//! Errors name the part of the value that is wrong; the caller adds the spec field
//! (e.g. `spec.trust.principals[1]`) when it turns them into a condition.

use std::collections::BTreeSet;
use std::fmt;

use serde_json::{Map, Value};

use super::PolicyError;
use super::document::{DEFAULT_POLICY_VERSION, POLICY_VERSION, as_list, canonical_json};

// Size limits from the IAM User Guide, "IAM and AWS STS quotas", section "IAM and AWS
// STS character limits". IAM counts characters and ignores whitespace; see `policy_size`.

/// All inline policies of one role together.
pub const ROLE_INLINE_POLICIES_MAX_CHARS: usize = 10_240;
/// All inline policies of one group together.
pub const GROUP_INLINE_POLICIES_MAX_CHARS: usize = 5_120;
/// One customer managed policy.
pub const MANAGED_POLICY_MAX_CHARS: usize = 6_144;
/// A role's trust policy by default; a Service Quotas increase raises it to at most 4,096.
pub const TRUST_POLICY_DEFAULT_MAX_CHARS: usize = 2_048;

// Name limits from the same page and the IAM API reference (CreateRole, CreateUser,
// CreatePolicy, AssumeRole).
const ROLE_NAME_MAX_CHARS: usize = 64;
const USER_NAME_MAX_CHARS: usize = 64;
const MANAGED_POLICY_NAME_MAX_CHARS: usize = 128;
const ROLE_SESSION_NAME_CHARS: (usize, usize) = (2, 64);
const EXTERNAL_ID_CHARS: (usize, usize) = (2, 1224);

const STATEMENT_FIELDS: [&str; 9] = [
    "Sid",
    "Effect",
    "Principal",
    "NotPrincipal",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Condition",
];
const PRINCIPAL_TYPES: [&str; 4] = ["AWS", "Service", "Federated", "CanonicalUser"];

/// An ARN split into its six parts (`arn:` excluded). The resource may contain ':'.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arn {
    pub partition: String,
    pub service: String,
    pub region: String,
    pub account: String,
    pub resource: String,
}

impl fmt::Display for Arn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Arn {
            partition,
            service,
            region,
            account,
            resource,
        } = self;
        write!(f, "arn:{partition}:{service}:{region}:{account}:{resource}")
    }
}

/// Which kind of ARN a check expected, so the message can show its form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArnKind {
    Any,
    Role,
    ManagedPolicy,
    Principal,
}

impl fmt::Display for ArnKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ArnKind::Any => "ARN (arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE)",
            ArnKind::Role => "IAM role ARN (like arn:aws:iam::123456789012:role/Name)",
            ArnKind::ManagedPolicy => {
                "managed policy ARN (like arn:aws:iam::aws:policy/ReadOnlyAccess or \
                 arn:aws:iam::123456789012:policy/Name)"
            }
            ArnKind::Principal => {
                "principal ARN (arn:aws:iam::ACCOUNT:root, arn:aws:iam::ACCOUNT:user/NAME, \
                 arn:aws:iam::ACCOUNT:role/NAME or arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION)"
            }
        })
    }
}

pub fn parse_arn(value: &str) -> Result<Arn, PolicyError> {
    validate_as(value, ArnKind::Any, |_| Ok(()))
}

pub fn validate_role_arn(value: &str) -> Result<Arn, PolicyError> {
    validate_as(value, ArnKind::Role, |arn| {
        expect_global_service(arn, "iam")?;
        expect_account_id(&arn.account)?;
        expect_named_resource(&arn.resource, "role", ROLE_NAME_MAX_CHARS)
    })
}

/// An AWS managed policy (account `aws`) or a customer managed one (12-digit account).
pub fn validate_managed_policy_arn(value: &str) -> Result<Arn, PolicyError> {
    validate_as(value, ArnKind::ManagedPolicy, |arn| {
        expect_global_service(arn, "iam")?;
        if arn.account != "aws" && !is_account_id(&arn.account) {
            return Err(format!(
                "the account {:?} must be \"aws\" for an AWS managed policy or the 12 digits of \
                 the account that owns the policy",
                arn.account
            ));
        }
        expect_named_resource(&arn.resource, "policy", MANAGED_POLICY_NAME_MAX_CHARS)
    })
}

/// An ARN that can stand in a trust policy's `Principal.AWS`.
pub fn validate_principal_arn(value: &str) -> Result<Arn, PolicyError> {
    validate_as(value, ArnKind::Principal, |arn| {
        expect_account_id(&arn.account)?;
        let resource = arn.resource.as_str();
        match arn.service.as_str() {
            "iam" if resource == "root" => expect_global_service(arn, "iam"),
            "iam" if resource.starts_with("user/") => {
                expect_global_service(arn, "iam")?;
                expect_named_resource(resource, "user", USER_NAME_MAX_CHARS)
            }
            "iam" if resource.starts_with("role/") => {
                expect_global_service(arn, "iam")?;
                expect_named_resource(resource, "role", ROLE_NAME_MAX_CHARS)
            }
            "iam" if resource.starts_with("group/") => Err(
                "IAM groups cannot be principals in a trust policy: trust the group's account, \
                 or list its members' user ARNs"
                    .into(),
            ),
            "sts" => {
                expect_global_service(arn, "sts")?;
                expect_assumed_role(resource)
            }
            _ => Err(format!(
                "{:?} in service {:?} is not a principal",
                arn.resource, arn.service
            )),
        }
    })
}

pub fn is_account_id(value: &str) -> bool {
    value.len() == 12 && value.bytes().all(|byte| byte.is_ascii_digit())
}

pub fn validate_account_id(value: &str) -> Result<(), PolicyError> {
    if is_account_id(value) {
        Ok(())
    } else {
        Err(PolicyError::InvalidAccountId {
            value: value.to_string(),
        })
    }
}

/// The rules STS applies to `ExternalId` (AssumeRole API reference: 2 to 1224 characters
/// of `[\w+=,.@:/-]`). A role whose trust policy needs an ID no caller can send would be
/// locked, so this is checked before the trust policy is written.
pub fn validate_external_id(external_id: &str) -> Result<(), PolicyError> {
    let (min, max) = EXTERNAL_ID_CHARS;
    let length = external_id.chars().count();
    let problem = if !(min..=max).contains(&length) {
        format!("has {length} characters")
    } else if !external_id.chars().all(|c| is_iam_name_char(c) || ":/".contains(c)) {
        "contains a character outside the allowed set".to_string()
    } else {
        return Ok(());
    };
    Err(PolicyError::InvalidExternalId { problem })
}

/// Profile names go into `[profile NAME]` lines users paste into `~/.aws/config`, so
/// anything that could end the line or the section header is refused.
pub fn validate_profile_name(name: &str) -> Result<(), PolicyError> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || "-_.@+".contains(c);
    if !name.is_empty() && name.chars().all(allowed) {
        Ok(())
    } else {
        Err(PolicyError::InvalidProfileName {
            value: name.to_string(),
        })
    }
}

/// An identity policy (inline or managed, attached to a role, user or group): its
/// structure as IAM checks it, and `max_chars` (one of the `*_MAX_CHARS` constants).
/// A missing `Version` is accepted, as IAM does (it then means 2008-10-17).
pub fn validate_policy_document(doc: &Value, max_chars: usize) -> Result<(), PolicyError> {
    validate_document(doc, DocumentKind::Identity, max_chars)
}

/// A role's trust policy: like an identity policy, but each statement names a
/// `Principal` and has no `Resource` (the resource is the role itself).
pub fn validate_trust_policy(doc: &Value, max_chars: usize) -> Result<(), PolicyError> {
    validate_document(doc, DocumentKind::Trust, max_chars)
}

/// The aggregate limit on inline policies (`ROLE_INLINE_POLICIES_MAX_CHARS`,
/// `GROUP_INLINE_POLICIES_MAX_CHARS`): IAM adds up every inline policy of the entity.
pub fn validate_inline_policies_size<'a>(
    docs: impl IntoIterator<Item = &'a Value>,
    limit: usize,
) -> Result<(), PolicyError> {
    let actual = docs.into_iter().map(policy_size).sum();
    if actual > limit {
        return Err(PolicyError::InlinePoliciesTooLarge { actual, limit });
    }
    Ok(())
}

/// The size IAM counts for a document as the operator sends it (`canonical_json`):
/// characters, not bytes, without whitespace. Whitespace inside strings is not counted
/// either, so the check never refuses a document IAM would take.
pub fn policy_size(doc: &Value) -> usize {
    canonical_json(doc).chars().filter(|c| !c.is_whitespace()).count()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DocumentKind {
    Identity,
    Trust,
}

fn validate_document(doc: &Value, kind: DocumentKind, max_chars: usize) -> Result<(), PolicyError> {
    let Value::Object(fields) = doc else {
        return Err(document_error(
            "top level",
            "must be a JSON object with Version and Statement",
        ));
    };
    validate_top_level_fields(fields)?;
    validate_statements(&statements(fields)?, kind)?;
    validate_text(doc, max_chars)
}

/// The fields besides Statement: no unknown one, and a Version IAM knows.
fn validate_top_level_fields(fields: &Map<String, Value>) -> Result<(), PolicyError> {
    if let Some(unknown) = fields
        .keys()
        .find(|key| !["Version", "Id", "Statement"].contains(&key.as_str()))
    {
        return Err(document_error(
            unknown,
            "unknown field: a policy has only Version, Id and Statement",
        ));
    }
    if let Some(version) = fields.get("Version") {
        let version = version.as_str();
        if version != Some(POLICY_VERSION) && version != Some(DEFAULT_POLICY_VERSION) {
            return Err(document_error(
                "Version",
                &format!("must be \"{POLICY_VERSION}\" (or the older \"{DEFAULT_POLICY_VERSION}\")"),
            ));
        }
    }
    Ok(())
}

/// The statements, each with the path that names it in an error; a single
/// statement may stand without a list.
fn statements(fields: &Map<String, Value>) -> Result<Vec<(String, &Value)>, PolicyError> {
    match fields.get("Statement") {
        None => Err(document_error("Statement", "is missing: add at least one statement")),
        Some(Value::Array(items)) if items.is_empty() => {
            Err(document_error("Statement", "is empty: add at least one statement"))
        }
        Some(Value::Array(items)) => Ok(items
            .iter()
            .enumerate()
            .map(|(index, statement)| (format!("Statement[{index}]"), statement))
            .collect()),
        Some(statement @ Value::Object(_)) => Ok(vec![("Statement".to_string(), statement)]),
        Some(_) => Err(document_error("Statement", "must be an object or a list of objects")),
    }
}

/// Each statement, and no Sid used twice.
fn validate_statements(statements: &[(String, &Value)], kind: DocumentKind) -> Result<(), PolicyError> {
    let mut sids = BTreeSet::new();
    for (path, statement) in statements {
        let sid = validate_statement(path, statement, kind)?;
        if let Some(sid) = sid.filter(|sid| !sid.is_empty())
            && !sids.insert(sid)
        {
            return Err(document_error(
                &format!("{path}.Sid"),
                &format!("{sid:?} is used by another statement: Sids must be unique"),
            ));
        }
    }
    Ok(())
}

/// The document as sent: characters IAM takes, and no more of them than `max_chars`.
fn validate_text(doc: &Value, max_chars: usize) -> Result<(), PolicyError> {
    let text = canonical_json(doc);
    if let Some(character) = text.chars().find(|&c| !is_policy_char(c)) {
        return Err(PolicyError::UnsupportedCharacter { character });
    }
    let actual = policy_size(doc);
    if actual > max_chars {
        return Err(PolicyError::DocumentTooLarge {
            actual,
            limit: max_chars,
        });
    }
    Ok(())
}

/// Checks one statement and returns its Sid, for the uniqueness check across statements.
fn validate_statement<'a>(
    path: &str,
    statement: &'a Value,
    kind: DocumentKind,
) -> Result<Option<&'a str>, PolicyError> {
    let Value::Object(fields) = statement else {
        return Err(document_error(path, "must be an object"));
    };
    let at = |field: &str| format!("{path}.{field}");
    if let Some(unknown) = fields.keys().find(|key| !STATEMENT_FIELDS.contains(&key.as_str())) {
        return Err(document_error(
            &at(unknown),
            &format!("unknown field: a statement has only {}", STATEMENT_FIELDS.join(", ")),
        ));
    }
    let sid = match fields.get("Sid") {
        None => None,
        Some(Value::String(sid)) if sid.chars().all(|c| c.is_ascii_alphanumeric()) => Some(sid.as_str()),
        Some(_) => {
            return Err(document_error(
                &at("Sid"),
                "must be a string of letters and digits only",
            ));
        }
    };
    match fields.get("Effect").and_then(Value::as_str) {
        Some("Allow" | "Deny") => {}
        _ => {
            return Err(document_error(&at("Effect"), "must be \"Allow\" or \"Deny\""));
        }
    }
    let (action_field, actions) = exactly_one_of(fields, path, "Action", "NotAction")?;
    expect_strings(actions, &at(action_field), expect_action)?;
    let (forbidden, required) = match kind {
        DocumentKind::Identity => (["Principal", "NotPrincipal"], ["Resource", "NotResource"]),
        DocumentKind::Trust => (["Resource", "NotResource"], ["Principal", "NotPrincipal"]),
    };
    if let Some(field) = forbidden.iter().find(|field| fields.contains_key(**field)) {
        let why = match kind {
            DocumentKind::Identity => {
                "an identity policy names no principal (whoever it is attached to is the \
                 principal): remove it"
            }
            DocumentKind::Trust => "a trust policy applies to its own role and takes no resource: remove it",
        };
        return Err(document_error(&at(field), why));
    }
    let (field, value) = exactly_one_of(fields, path, required[0], required[1])?;
    match kind {
        DocumentKind::Identity => expect_strings(value, &at(field), expect_resource)?,
        DocumentKind::Trust => expect_principal(value, &at(field))?,
    }
    if let Some(condition) = fields.get("Condition") {
        expect_condition(condition, &at("Condition"))?;
    }
    Ok(sid)
}

fn exactly_one_of<'a>(
    fields: &'a serde_json::Map<String, Value>,
    path: &str,
    one: &'static str,
    other: &'static str,
) -> Result<(&'static str, &'a Value), PolicyError> {
    match (fields.get(one), fields.get(other)) {
        (Some(value), None) => Ok((one, value)),
        (None, Some(value)) => Ok((other, value)),
        (Some(_), Some(_)) => Err(document_error(
            path,
            &format!("has both {one} and {other}: keep only one"),
        )),
        (None, None) => Err(document_error(path, &format!("needs {one} (or {other})"))),
    }
}

/// A string or a non-empty list of strings, each accepted by `check`.
fn expect_strings(value: &Value, path: &str, check: fn(&str) -> Result<(), String>) -> Result<(), PolicyError> {
    let shape_error = || document_error(path, "must be a string or a non-empty list of strings");
    if value.as_array().is_some_and(Vec::is_empty) {
        return Err(shape_error());
    }
    for item in as_list(value) {
        let text = item.as_str().ok_or_else(shape_error)?;
        check(text).map_err(|problem| document_error(path, &problem))?;
    }
    Ok(())
}

fn expect_action(action: &str) -> Result<(), String> {
    match action.split_once(':') {
        _ if action == "*" => Ok(()),
        Some((service, name)) if !service.is_empty() && !name.is_empty() => Ok(()),
        _ => Err(format!(
            "{action:?} is not an action: write service:Action, e.g. \"s3:GetObject\", or \"*\""
        )),
    }
}

fn expect_resource(resource: &str) -> Result<(), String> {
    if resource == "*" || resource.starts_with("arn:") {
        Ok(())
    } else {
        Err(format!("{resource:?} is not a resource: write an ARN or \"*\""))
    }
}

fn expect_non_empty(text: &str) -> Result<(), String> {
    if text.is_empty() {
        Err("must not be empty".into())
    } else {
        Ok(())
    }
}

fn expect_principal(principal: &Value, path: &str) -> Result<(), PolicyError> {
    match principal {
        Value::String(everyone) if everyone == "*" => Ok(()),
        Value::Object(by_type) if !by_type.is_empty() => {
            for (principal_type, ids) in by_type {
                let path = format!("{path}.{principal_type}");
                if !PRINCIPAL_TYPES.contains(&principal_type.as_str()) {
                    return Err(document_error(
                        &path,
                        &format!("unknown principal type: use {}", PRINCIPAL_TYPES.join(", ")),
                    ));
                }
                expect_strings(ids, &path, expect_non_empty)?;
            }
            Ok(())
        }
        _ => Err(document_error(
            path,
            "must be \"*\" or an object such as {\"AWS\": [\"arn:aws:iam::123456789012:root\"]}",
        )),
    }
}

fn expect_condition(condition: &Value, path: &str) -> Result<(), PolicyError> {
    let shape = "must map operators to {\"condition-key\": value}, e.g. {\"Bool\": \
                 {\"aws:MultiFactorAuthPresent\": \"true\"}}";
    let Value::Object(operators) = condition else {
        return Err(document_error(path, shape));
    };
    for (operator, keys) in operators {
        if !is_condition_operator(operator) {
            return Err(document_error(
                &format!("{path}.{operator}"),
                "is not an IAM condition operator (StringEquals, StringLike, ArnLike, Bool, DateLessThan, \
                 NumericEquals, IpAddress, Null, ..., optionally with ForAnyValue:/ForAllValues: or IfExists)",
            ));
        }
        let Value::Object(keys) = keys else {
            return Err(document_error(&format!("{path}.{operator}"), shape));
        };
        for (key, values) in keys {
            let is_scalar = |value: &Value| value.is_string() || value.is_boolean() || value.is_number();
            let valid = match values {
                Value::Array(items) => !items.is_empty() && items.iter().all(is_scalar),
                single => is_scalar(single),
            };
            if !valid {
                return Err(document_error(
                    &format!("{path}.{operator}.{key}"),
                    "must be a string, number or boolean, or a non-empty list of them",
                ));
            }
        }
    }
    Ok(())
}

/// IAM User Guide, "IAM JSON policy elements: Condition operators": the
/// operators, each optionally set-qualified (`ForAnyValue:`, `ForAllValues:`)
/// and, but for `Null`, optionally `...IfExists`.
fn is_condition_operator(operator: &str) -> bool {
    const OPERATORS: [&str; 27] = [
        "StringEquals",
        "StringNotEquals",
        "StringEqualsIgnoreCase",
        "StringNotEqualsIgnoreCase",
        "StringLike",
        "StringNotLike",
        "NumericEquals",
        "NumericNotEquals",
        "NumericLessThan",
        "NumericLessThanEquals",
        "NumericGreaterThan",
        "NumericGreaterThanEquals",
        "DateEquals",
        "DateNotEquals",
        "DateLessThan",
        "DateLessThanEquals",
        "DateGreaterThan",
        "DateGreaterThanEquals",
        "Bool",
        "BinaryEquals",
        "IpAddress",
        "NotIpAddress",
        "ArnEquals",
        "ArnLike",
        "ArnNotEquals",
        "ArnNotLike",
        "Null",
    ];
    let unqualified = operator
        .strip_prefix("ForAnyValue:")
        .or_else(|| operator.strip_prefix("ForAllValues:"))
        .unwrap_or(operator);
    let base = match unqualified.strip_suffix("IfExists") {
        Some(base) if base != "Null" => base,
        _ => unqualified,
    };
    OPERATORS.contains(&base)
}

fn document_error(path: &str, problem: &str) -> PolicyError {
    PolicyError::InvalidDocument {
        path: path.to_string(),
        problem: problem.to_string(),
    }
}

// IAM User Guide, "IAM and AWS STS quotas": policy documents may contain tab, line feed,
// carriage return and U+0020 to U+00FF.
fn is_policy_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{ff}')
}

// The `[\w+=,.@-]` class IAM uses for user, role, policy and session names.
fn is_iam_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "_+=,.@-".contains(c)
}

fn validate_as(
    value: &str,
    expected: ArnKind,
    check: impl FnOnce(&Arn) -> Result<(), String>,
) -> Result<Arn, PolicyError> {
    let invalid = |problem: String| PolicyError::InvalidArn {
        value: value.to_string(),
        expected,
        problem,
    };
    let arn = split_arn(value).map_err(invalid)?;
    check(&arn).map_err(invalid)?;
    Ok(arn)
}

/// Every partition AWS has: a typo here would reach IAM, which refuses an
/// ARN in a partition that does not exist only after other writes were made.
const AWS_PARTITIONS: [&str; 8] = [
    "aws",
    "aws-cn",
    "aws-us-gov",
    "aws-iso",
    "aws-iso-b",
    "aws-iso-e",
    "aws-iso-f",
    "aws-eusc",
];

fn split_arn(value: &str) -> Result<Arn, String> {
    if let Some(c) = value.chars().find(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!("it contains {c:?}; remove it"));
    }
    let parts: Vec<&str> = value.splitn(6, ':').collect();
    let ["arn", partition, service, region, account, resource] = parts[..] else {
        return Err("it must have six parts separated by ':', starting with \"arn\"".into());
    };
    if !AWS_PARTITIONS.contains(&partition) {
        return Err(format!(
            "the partition {partition:?} is not an AWS partition ({})",
            AWS_PARTITIONS.join(", ")
        ));
    }
    if service.is_empty() || resource.is_empty() {
        return Err("the service and the resource must not be empty".into());
    }
    Ok(Arn {
        partition: partition.to_string(),
        service: service.to_string(),
        region: region.to_string(),
        account: account.to_string(),
        resource: resource.to_string(),
    })
}

// IAM and STS are global: their ARNs name no region.
fn expect_global_service(arn: &Arn, service: &str) -> Result<(), String> {
    if arn.service != service {
        return Err(format!("the service is {:?}, expected {service:?}", arn.service));
    }
    if !arn.region.is_empty() {
        return Err(format!("{service} ARNs have no region: remove {:?}", arn.region));
    }
    Ok(())
}

fn expect_account_id(account: &str) -> Result<(), String> {
    if is_account_id(account) {
        Ok(())
    } else {
        Err(format!("the account {account:?} must be 12 digits"))
    }
}

/// `TYPE/NAME` or `TYPE/PATH/NAME`, as in `role/division/AlfieFullAccess`.
fn expect_named_resource(resource: &str, resource_type: &str, max_name: usize) -> Result<(), String> {
    let Some(path_and_name) = resource
        .strip_prefix(resource_type)
        .and_then(|rest| rest.strip_prefix('/'))
    else {
        return Err(format!("the resource must be {resource_type}/NAME, found {resource:?}"));
    };
    let (path, name) = path_and_name.rsplit_once('/').unwrap_or(("", path_and_name));
    let printable_segment = |segment: &str| !segment.is_empty() && segment.chars().all(|c| c.is_ascii_graphic());
    if !path.is_empty() && !path.split('/').all(printable_segment) {
        return Err(format!(
            "the path {path:?} must be names of printable ASCII characters separated by single '/'"
        ));
    }
    expect_name(name, resource_type, (1, max_name))
}

fn expect_assumed_role(resource: &str) -> Result<(), String> {
    let Some((role, session)) = resource
        .strip_prefix("assumed-role/")
        .and_then(|rest| rest.split_once('/'))
    else {
        return Err(format!(
            "the resource must be assumed-role/ROLE/SESSION, found {resource:?}"
        ));
    };
    expect_name(role, "role", (1, ROLE_NAME_MAX_CHARS))?;
    expect_name(session, "session", ROLE_SESSION_NAME_CHARS)
}

fn expect_name(name: &str, what: &str, (min, max): (usize, usize)) -> Result<(), String> {
    if (min..=max).contains(&name.len()) && name.chars().all(is_iam_name_char) {
        Ok(())
    } else {
        Err(format!(
            "the {what} name {name:?} must be {min} to {max} letters, digits or _ + = , . @ -"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::document::decode_aws_document;
    use serde_json::json;

    fn problem_of(error: PolicyError) -> (String, String) {
        match error {
            PolicyError::InvalidDocument { path, problem } => (path, problem),
            other => panic!("expected InvalidDocument, got {other:?}"),
        }
    }

    fn identity_error(doc: Value) -> (String, String) {
        problem_of(validate_policy_document(&doc, MANAGED_POLICY_MAX_CHARS).unwrap_err())
    }

    fn trust_error(doc: Value) -> (String, String) {
        problem_of(validate_trust_policy(&doc, TRUST_POLICY_DEFAULT_MAX_CHARS).unwrap_err())
    }

    fn with_statement(statement: Value) -> Value {
        json!({"Version": "2012-10-17", "Statement": [statement]})
    }

    #[test]
    fn parses_arn_parts_keeping_colons_in_the_resource() {
        let arn = parse_arn("arn:aws:logs:eu-west-1:123456789012:log-group:/app:*").unwrap();
        assert_eq!(
            arn,
            Arn {
                partition: "aws".into(),
                service: "logs".into(),
                region: "eu-west-1".into(),
                account: "123456789012".into(),
                resource: "log-group:/app:*".into(),
            }
        );
        assert_eq!(arn.to_string(), "arn:aws:logs:eu-west-1:123456789012:log-group:/app:*");
    }

    #[test]
    fn rejects_malformed_arns_with_the_reason() {
        for (value, problem) in [
            ("arn:aws:iam::123456789012", "six parts"),
            ("role/Foo", "six parts"),
            ("arn:gcp:iam::123456789012:role/Foo", "partition"),
            ("arn:aws-us:iam::123456789012:role/Foo", "partition"),
            ("arn:aws:::123456789012:role/Foo", "must not be empty"),
            ("arn:aws:iam::123456789012:role/Foo\n[profile x]", "remove it"),
        ] {
            let error = parse_arn(value).unwrap_err();
            assert!(error.to_string().contains(problem), "{value}: {error}");
        }
    }

    #[test]
    fn role_arns() {
        validate_role_arn("arn:aws:iam::345678901234:role/AlfieFullAccess").unwrap();
        validate_role_arn("arn:aws:iam::345678901234:role/division/team/Deploy+Bot@x").unwrap();
        let arn = validate_role_arn("arn:aws-cn:iam::345678901234:role/R").unwrap();
        assert_eq!(arn.partition, "aws-cn");
        for (value, problem) in [
            ("arn:aws:iam::345678901234:user/alice", "role/NAME"),
            ("arn:aws:iam::3456789:role/R", "12 digits"),
            ("arn:aws:iam:us-east-1:345678901234:role/R", "no region"),
            ("arn:aws:sts::345678901234:role/R", "expected \"iam\""),
            ("arn:aws:iam::345678901234:role/", "1 to 64"),
            ("arn:aws:iam::345678901234:role/Has*Star", "letters, digits"),
            ("arn:aws:iam::345678901234:role/a//R", "path"),
        ] {
            let error = validate_role_arn(value).unwrap_err();
            let message = error.to_string();
            assert!(message.contains(problem), "{value}: {message}");
            assert!(message.contains("IAM role ARN (like"), "{message}");
        }
        let too_long = format!("arn:aws:iam::345678901234:role/{}", "r".repeat(65));
        assert!(validate_role_arn(&too_long).is_err());
    }

    #[test]
    fn managed_policy_arns() {
        validate_managed_policy_arn("arn:aws:iam::aws:policy/AdministratorAccess").unwrap();
        validate_managed_policy_arn("arn:aws:iam::aws:policy/service-role/AWSLambdaRole").unwrap();
        validate_managed_policy_arn("arn:aws:iam::123456789012:policy/deny-org-changes").unwrap();
        for (value, problem) in [
            ("arn:aws:iam::amazon:policy/X", "\"aws\" for an AWS managed policy"),
            ("arn:aws:iam::aws:role/X", "policy/NAME"),
            ("arn:aws:s3:::aws:policy/X", "expected \"iam\""),
        ] {
            let message = validate_managed_policy_arn(value).unwrap_err().to_string();
            assert!(message.contains(problem), "{value}: {message}");
        }
    }

    #[test]
    fn principal_arns() {
        for value in [
            "arn:aws:iam::012345678901:root",
            "arn:aws:iam::012345678901:user/alice",
            "arn:aws:iam::012345678901:user/people/alice",
            "arn:aws:iam::012345678901:role/ci",
            "arn:aws:sts::012345678901:assumed-role/ci/build-42",
        ] {
            validate_principal_arn(value).unwrap();
        }
        for (value, problem) in [
            (
                "arn:aws:iam::012345678901:group/alfie-developers",
                "groups cannot be principals",
            ),
            ("arn:aws:sts::012345678901:assumed-role/ci", "assumed-role/ROLE/SESSION"),
            ("arn:aws:sts::012345678901:assumed-role/ci/x", "session name"),
            ("arn:aws:iam::012345678901:policy/p", "not a principal"),
            ("arn:aws:iam::alice:user/alice", "12 digits"),
        ] {
            let message = validate_principal_arn(value).unwrap_err().to_string();
            assert!(message.contains(problem), "{value}: {message}");
        }
    }

    #[test]
    fn account_ids() {
        validate_account_id("012345678901").unwrap();
        for value in ["12345678901", "1234567890123", "12345678901a", ""] {
            let error = validate_account_id(value).unwrap_err();
            assert!(error.to_string().contains("12 digits"));
        }
    }

    #[test]
    fn external_ids_follow_sts_rules_and_are_never_echoed() {
        validate_external_id("sembit-7f3a9c_Z+=,.@:/").unwrap();
        let too_short = validate_external_id("x").unwrap_err().to_string();
        assert!(too_short.contains("has 1 characters"), "{too_short}");
        assert!(validate_external_id(&"x".repeat(1225)).is_err());
        let bad_char = validate_external_id("secret value").unwrap_err().to_string();
        assert!(!bad_char.contains("secret value"), "{bad_char}");
        assert!(bad_char.contains("outside the allowed set"));
    }

    #[test]
    fn profile_names_cannot_break_the_config_file() {
        validate_profile_name("alfie-development").unwrap();
        for bad in ["", "a b", "x]\ncredential_process = sh", "x]", "a=b"] {
            assert!(validate_profile_name(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn accepts_seed_documents_and_the_api_example() {
        let group = json!({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Action": "sts:AssumeRole",
            "Resource": ["arn:aws:iam::123456789012:role/AlfieReadOnly", "arn:aws:iam::345678901234:role/AlfieFullAccess"]}]});
        validate_policy_document(&group, GROUP_INLINE_POLICIES_MAX_CHARS).unwrap();
        let deny_org = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "organizations:*", "Resource": "*"}]});
        validate_policy_document(&deny_org, ROLE_INLINE_POLICIES_MAX_CHARS).unwrap();
        let trust = json!({"Version": "2012-10-17", "Statement": [{"Sid": "", "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::012345678901:root"}, "Action": "sts:AssumeRole"}]});
        validate_trust_policy(&trust, TRUST_POLICY_DEFAULT_MAX_CHARS).unwrap();
    }

    #[test]
    fn accepts_a_document_decoded_from_iam() {
        let raw = "%7B%22Version%22%3A%20%222008-10-17%22%2C%20%22Statement%22%3A%20%7B%22Effect%22%3A%20%22Allow%22%2C%20%22Action%22%3A%20%5B%22s3%3AGetObject%22%5D%2C%20%22Resource%22%3A%20%22arn%3Aaws%3As3%3A%3A%3Abucket/*%22%2C%20%22Condition%22%3A%20%7B%22Bool%22%3A%20%7B%22aws%3ASecureTransport%22%3A%20true%7D%7D%7D%7D";
        let doc = decode_aws_document(raw).unwrap();
        validate_policy_document(&doc, MANAGED_POLICY_MAX_CHARS).unwrap();
    }

    #[test]
    fn version_must_be_a_known_one_or_absent() {
        let statement = json!({"Effect": "Allow", "Action": "s3:*", "Resource": "*"});
        validate_policy_document(&json!({"Statement": statement}), MANAGED_POLICY_MAX_CHARS).unwrap();
        let (path, problem) = identity_error(json!({"Version": "2012-10-18", "Statement": statement}));
        assert_eq!(path, "Version");
        assert!(problem.contains("2012-10-17"));
    }

    #[test]
    fn statement_must_be_an_object_or_a_non_empty_list() {
        assert_eq!(identity_error(json!({"Version": "2012-10-17"})).0, "Statement");
        let (_, problem) = identity_error(json!({"Version": "2012-10-17", "Statement": []}));
        assert!(problem.contains("empty"));
        let (_, problem) = identity_error(json!({"Version": "2012-10-17", "Statement": "Allow"}));
        assert!(problem.contains("object or a list"));
        assert_eq!(
            identity_error(json!({"Version": "2012-10-17", "Statement": ["x"]})).0,
            "Statement[0]"
        );
        assert_eq!(identity_error(json!(["not", "an", "object"])).0, "top level");
        assert_eq!(identity_error(json!({"Statement": {}, "Extra": 1})).0, "Extra");
    }

    #[test]
    fn effect_must_be_allow_or_deny() {
        let (path, problem) = identity_error(with_statement(
            json!({"Effect": "allow", "Action": "s3:*", "Resource": "*"}),
        ));
        assert_eq!(path, "Statement[0].Effect");
        assert!(problem.contains("\"Allow\" or \"Deny\""));
        let single = json!({"Statement": {"Action": "s3:*", "Resource": "*"}});
        assert_eq!(identity_error(single).0, "Statement.Effect");
    }

    #[test]
    fn exactly_one_of_action_and_not_action() {
        let (path, problem) = identity_error(with_statement(
            json!({"Effect": "Allow", "Action": "s3:*", "NotAction": "iam:*", "Resource": "*"}),
        ));
        assert_eq!(path, "Statement[0]");
        assert!(problem.contains("both Action and NotAction"));
        let (_, problem) = identity_error(with_statement(json!({"Effect": "Allow", "Resource": "*"})));
        assert!(problem.contains("needs Action"));
        let (path, problem) = identity_error(with_statement(
            json!({"Effect": "Allow", "Action": [], "Resource": "*"}),
        ));
        assert_eq!(path, "Statement[0].Action");
        assert!(problem.contains("non-empty list"));
        let (_, problem) = identity_error(with_statement(
            json!({"Effect": "Allow", "Action": "AssumeRole", "Resource": "*"}),
        ));
        assert!(problem.contains("service:Action"));
    }

    #[test]
    fn identity_policies_need_one_resource_field_and_no_principal() {
        let (_, problem) = identity_error(with_statement(json!({"Effect": "Allow", "Action": "s3:*"})));
        assert!(problem.contains("needs Resource (or NotResource)"));
        let (_, problem) = identity_error(with_statement(
            json!({"Effect": "Allow", "Action": "s3:*", "Resource": "*", "NotResource": "arn:aws:s3:::x"}),
        ));
        assert!(problem.contains("both Resource and NotResource"));
        let (path, problem) = identity_error(with_statement(
            json!({"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Principal": "*"}),
        ));
        assert_eq!(path, "Statement[0].Principal");
        assert!(problem.contains("remove it"));
        let (_, problem) = identity_error(with_statement(
            json!({"Effect": "Allow", "Action": "s3:*", "Resource": "my-bucket"}),
        ));
        assert!(problem.contains("write an ARN"));
    }

    #[test]
    fn unknown_statement_fields_are_named() {
        let (path, problem) = identity_error(with_statement(
            json!({"Effect": "Allow", "Action": "s3:*", "Resources": "*"}),
        ));
        assert_eq!(path, "Statement[0].Resources");
        assert!(problem.contains("unknown field"));
    }

    #[test]
    fn sids_are_alphanumeric_and_unique() {
        let (path, _) = identity_error(with_statement(
            json!({"Sid": "read-all", "Effect": "Allow", "Action": "s3:*", "Resource": "*"}),
        ));
        assert_eq!(path, "Statement[0].Sid");
        let twice = json!({"Version": "2012-10-17", "Statement": [
            {"Sid": "Read", "Effect": "Allow", "Action": "s3:Get*", "Resource": "*"},
            {"Sid": "Read", "Effect": "Allow", "Action": "s3:List*", "Resource": "*"}]});
        let (path, problem) = identity_error(twice);
        assert_eq!(path, "Statement[1].Sid");
        assert!(problem.contains("unique"));
    }

    #[test]
    fn conditions_must_map_operators_to_keys_and_values() {
        let with_condition = |condition: Value| {
            with_statement(json!({"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Condition": condition}))
        };
        validate_policy_document(
            &with_condition(
                json!({"NumericLessThan": {"s3:max-keys": 10}, "StringLike": {"s3:prefix": ["a/*", "b/*"]}}),
            ),
            MANAGED_POLICY_MAX_CHARS,
        )
        .unwrap();
        assert_eq!(
            identity_error(with_condition(json!("Bool"))).0,
            "Statement[0].Condition"
        );
        assert_eq!(
            identity_error(with_condition(json!({"Bool": "true"}))).0,
            "Statement[0].Condition.Bool"
        );
        assert_eq!(
            identity_error(with_condition(json!({"StringEquals": {"aws:username": []}}))).0,
            "Statement[0].Condition.StringEquals.aws:username"
        );
        assert_eq!(
            identity_error(with_condition(json!({"StringEqualz": {"aws:username": "a"}}))).0,
            "Statement[0].Condition.StringEqualz"
        );
        for qualified in [
            "ForAnyValue:StringLike",
            "ForAllValues:StringEqualsIfExists",
            "ArnLikeIfExists",
            "Null",
        ] {
            validate_policy_document(
                &with_condition(json!({qualified: {"aws:TagKeys": "a"}})),
                MANAGED_POLICY_MAX_CHARS,
            )
            .unwrap_or_else(|err| panic!("{qualified}: {err}"));
        }
        assert!(is_condition_operator("DateLessThan") && !is_condition_operator("NullIfExists"));
    }

    #[test]
    fn trust_policies_need_a_principal_and_no_resource() {
        let (path, problem) = trust_error(with_statement(
            json!({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::012345678901:root"}, "Action": "sts:AssumeRole", "Resource": "*"}),
        ));
        assert_eq!(path, "Statement[0].Resource");
        assert!(problem.contains("no resource"));
        let (_, problem) = trust_error(with_statement(json!({"Effect": "Allow", "Action": "sts:AssumeRole"})));
        assert!(problem.contains("needs Principal"));
        let (path, _) = trust_error(with_statement(
            json!({"Effect": "Allow", "Principal": {"Group": "devs"}, "Action": "sts:AssumeRole"}),
        ));
        assert_eq!(path, "Statement[0].Principal.Group");
        let (path, _) = trust_error(with_statement(
            json!({"Effect": "Allow", "Principal": {"AWS": []}, "Action": "sts:AssumeRole"}),
        ));
        assert_eq!(path, "Statement[0].Principal.AWS");
        validate_trust_policy(
            &with_statement(json!({"Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole"})),
            TRUST_POLICY_DEFAULT_MAX_CHARS,
        )
        .unwrap();
    }

    #[test]
    fn size_is_counted_without_whitespace() {
        let doc = json!({"Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Condition": {"StringEquals": {"aws:PrincipalTag/team": "a b"}}}});
        let compact = canonical_json(&doc);
        assert_eq!(policy_size(&doc), compact.chars().count() - 1);
        let pretty = serde_json::to_string_pretty(&doc).unwrap();
        assert_eq!(policy_size(&serde_json::from_str(&pretty).unwrap()), policy_size(&doc));
    }

    #[test]
    fn document_over_its_limit_reports_both_sizes() {
        let resources: Vec<String> = (0..60)
            .map(|n| format!("arn:aws:iam::{:012}:role/AlfieFullAccess", n))
            .collect();
        let doc = with_statement(json!({"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": resources}));
        let size = policy_size(&doc);
        assert!(size > TRUST_POLICY_DEFAULT_MAX_CHARS && size < MANAGED_POLICY_MAX_CHARS);
        validate_policy_document(&doc, MANAGED_POLICY_MAX_CHARS).unwrap();
        let error = validate_policy_document(&doc, TRUST_POLICY_DEFAULT_MAX_CHARS).unwrap_err();
        assert_eq!(
            error,
            PolicyError::DocumentTooLarge {
                actual: size,
                limit: TRUST_POLICY_DEFAULT_MAX_CHARS
            }
        );
        let message = error.to_string();
        assert!(
            message.contains(&size.to_string()) && message.contains("2048"),
            "{message}"
        );
    }

    #[test]
    fn inline_policies_are_limited_together() {
        let resources: Vec<String> = (0..40)
            .map(|n| format!("arn:aws:iam::{:012}:role/AlfieFullAccess", n))
            .collect();
        let doc = with_statement(json!({"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": resources}));
        let size = policy_size(&doc);
        assert!(size * 2 < GROUP_INLINE_POLICIES_MAX_CHARS && size * 3 > GROUP_INLINE_POLICIES_MAX_CHARS);
        validate_inline_policies_size([&doc, &doc], GROUP_INLINE_POLICIES_MAX_CHARS).unwrap();
        let error = validate_inline_policies_size([&doc, &doc, &doc], GROUP_INLINE_POLICIES_MAX_CHARS).unwrap_err();
        assert_eq!(
            error,
            PolicyError::InlinePoliciesTooLarge {
                actual: size * 3,
                limit: GROUP_INLINE_POLICIES_MAX_CHARS
            }
        );
    }

    #[test]
    fn characters_iam_refuses_are_reported() {
        let doc = with_statement(
            json!({"Sid": "", "Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::b/\u{1F600}"}),
        );
        let error = validate_policy_document(&doc, MANAGED_POLICY_MAX_CHARS).unwrap_err();
        assert_eq!(error, PolicyError::UnsupportedCharacter { character: '\u{1F600}' });
        assert!(error.to_string().contains("U+1F600"));
        let latin1 =
            with_statement(json!({"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::b/caf\u{e9}"}));
        validate_policy_document(&latin1, MANAGED_POLICY_MAX_CHARS).unwrap();
    }
}

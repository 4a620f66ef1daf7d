//! ValidatingWebhookConfiguration objects: the real defaults, the decoding of `caBundle`,
//! and `ValidateValidatingWebhookConfiguration`.

use serde_json::{Value, json};

use crate::go_format::go_quote;

use super::DEFAULT_TIMEOUT_SECONDS;

/// What the real server defaults in a ValidatingWebhookConfiguration (`SetDefaults_ValidatingWebhook`,
/// `SetDefaults_Rule`, `SetDefaults_ServiceReference`).
pub fn default_configuration(configuration: &mut Value, mutating: bool) {
    let Some(webhooks) = configuration.get_mut("webhooks").and_then(Value::as_array_mut) else {
        return;
    };
    for webhook in webhooks.iter_mut().filter_map(Value::as_object_mut) {
        webhook.entry("failurePolicy").or_insert_with(|| json!("Fail"));
        if mutating {
            webhook.entry("reinvocationPolicy").or_insert_with(|| json!("Never"));
        }
        webhook.entry("matchPolicy").or_insert_with(|| json!("Equivalent"));
        webhook.entry("namespaceSelector").or_insert_with(|| json!({}));
        webhook.entry("objectSelector").or_insert_with(|| json!({}));
        webhook
            .entry("timeoutSeconds")
            .or_insert_with(|| json!(DEFAULT_TIMEOUT_SECONDS));
        if let Some(rules) = webhook.get_mut("rules").and_then(Value::as_array_mut) {
            for rule in rules.iter_mut().filter_map(Value::as_object_mut) {
                rule.entry("scope").or_insert_with(|| json!("*"));
            }
        }
        if let Some(service) = webhook
            .get_mut("clientConfig")
            .and_then(|c| c.get_mut("service"))
            .and_then(Value::as_object_mut)
        {
            service.entry("port").or_insert_with(|| json!(443));
        }
    }
}

/// A `caBundle` that is not base64 fails decoding, before validation, as `[]byte` fields do.
pub fn configuration_decoding_error(configuration: &Value) -> Option<String> {
    use base64::Engine;
    configuration["webhooks"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|webhook| webhook.pointer("/clientConfig/caBundle"))
        .find_map(|bundle| match bundle {
            Value::Null => None,
            Value::String(text) => match base64::engine::general_purpose::STANDARD.decode(text) {
                Ok(_) => None,
                Err(base64::DecodeError::InvalidByte(offset, _)) => {
                    Some(format!("illegal base64 data at input byte {offset}"))
                }
                Err(_) => Some(format!("illegal base64 data at input byte {}", text.len())),
            },
            other => Some(format!(
                "json: cannot unmarshal {} into Go struct field WebhookClientConfig.webhooks.clientConfig.caBundle of type []uint8",
                match other {
                    Value::Bool(_) => "bool",
                    Value::Number(_) => "number",
                    Value::Array(_) => "array",
                    _ => "object",
                }
            )),
        })
}

type FieldError = (String, String, String);

fn required(field: &str, detail: &str) -> FieldError {
    let body = if detail.is_empty() {
        "Required value".to_string()
    } else {
        format!("Required value: {detail}")
    };
    ("FieldValueRequired".into(), field.into(), format!("{field}: {body}"))
}

fn invalid(field: &str, value: &str, detail: &str) -> FieldError {
    (
        "FieldValueInvalid".into(),
        field.into(),
        format!("{field}: Invalid value: {value}: {detail}"),
    )
}

fn not_supported(field: &str, value: &str, supported: &[&str]) -> FieldError {
    let supported: Vec<String> = supported.iter().map(|s| go_quote(s)).collect();
    (
        "FieldValueNotSupported".into(),
        field.into(),
        format!(
            "{field}: Unsupported value: {}: supported values: {}",
            go_quote(value),
            supported.join(", ")
        ),
    )
}

fn go_string_slice(items: &[&str]) -> String {
    let quoted: Vec<String> = items.iter().map(|s| go_quote(s)).collect();
    format!("[]string{{{}}}", quoted.join(", "))
}

/// `ValidateValidatingWebhookConfiguration`, for the mistakes a hand-written or chart-rendered
/// manifest makes: names, client configs, rules, side effects, review versions, timeouts, selectors.
pub fn configuration_errors(configuration: &Value, mutating: bool) -> Vec<FieldError> {
    let mut errors = vec![];
    let mut names: Vec<&str> = vec![];
    for (index, webhook) in configuration["webhooks"].as_array().into_iter().flatten().enumerate() {
        let path = format!("webhooks[{index}]");
        let text = |field: &str| webhook[field].as_str();
        let name = text("name").unwrap_or_default();
        errors.extend(fully_qualified_name_errors(&format!("{path}.name"), name));
        for (rule_index, rule) in webhook["rules"].as_array().into_iter().flatten().enumerate() {
            errors.extend(rule_errors(&format!("{path}.rules[{rule_index}]"), rule));
        }
        if let Some(policy) = text("failurePolicy")
            && !matches!(policy, "Fail" | "Ignore")
        {
            errors.push(not_supported(
                &format!("{path}.failurePolicy"),
                policy,
                &["Fail", "Ignore"],
            ));
        }
        if mutating
            && let Some(policy) = text("reinvocationPolicy")
            && !matches!(policy, "Never" | "IfNeeded")
        {
            errors.push(not_supported(
                &format!("{path}.reinvocationPolicy"),
                policy,
                &["IfNeeded", "Never"],
            ));
        }
        if let Some(policy) = text("matchPolicy")
            && !matches!(policy, "Equivalent" | "Exact")
        {
            errors.push(not_supported(
                &format!("{path}.matchPolicy"),
                policy,
                &["Equivalent", "Exact"],
            ));
        }
        match text("sideEffects") {
            None => errors.push(required(
                &format!("{path}.sideEffects"),
                "must specify one of None, NoneOnDryRun",
            )),
            Some("None" | "NoneOnDryRun") => {}
            Some(other) => errors.push(not_supported(
                &format!("{path}.sideEffects"),
                other,
                &["None", "NoneOnDryRun"],
            )),
        }
        if let Some(timeout) = webhook["timeoutSeconds"].as_i64()
            && !(1..=30).contains(&timeout)
        {
            errors.push(invalid(
                &format!("{path}.timeoutSeconds"),
                &timeout.to_string(),
                "the timeout value must be between 1 and 30 seconds",
            ));
        }
        for selector in ["namespaceSelector", "objectSelector"] {
            errors.extend(selector_errors(&format!("{path}.{selector}"), &webhook[selector]));
        }
        errors.extend(client_config_errors(
            &format!("{path}.clientConfig"),
            &webhook["clientConfig"],
        ));
        let mut condition_names: Vec<&str> = vec![];
        for (condition_index, condition) in webhook["matchConditions"].as_array().into_iter().flatten().enumerate() {
            let at = format!("{path}.matchConditions[{condition_index}]");
            let condition_name = condition["name"].as_str().unwrap_or_default();
            if condition_name.is_empty() {
                errors.push(required(&format!("{at}.name"), ""));
            } else if condition_names.contains(&condition_name) {
                errors.push((
                    "FieldValueDuplicate".into(),
                    format!("{at}.name"),
                    format!("{at}.name: Duplicate value: {}", go_quote(condition_name)),
                ));
            } else {
                condition_names.push(condition_name);
            }
            if condition["expression"].as_str().unwrap_or_default().is_empty() {
                errors.push(required(&format!("{at}.expression"), ""));
            }
        }
        let versions: Vec<&str> = webhook["admissionReviewVersions"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        let versions_path = format!("{path}.admissionReviewVersions");
        if versions.is_empty() {
            errors.push(required(&versions_path, "must specify one of v1, v1beta1"));
        } else {
            for (version_index, version) in versions.iter().enumerate() {
                if versions[..version_index].contains(version) {
                    errors.push(invalid(
                        &format!("{versions_path}[{version_index}]"),
                        &go_quote(version),
                        "duplicate version",
                    ));
                }
            }
            if !versions.iter().any(|v| matches!(*v, "v1" | "v1beta1")) {
                errors.push(invalid(
                    &versions_path,
                    &go_string_slice(&versions),
                    "must include at least one of v1, v1beta1",
                ));
            }
        }
        if !name.is_empty() {
            if names.contains(&name) {
                errors.push((
                    "FieldValueDuplicate".into(),
                    format!("{path}.name"),
                    format!("{path}.name: Duplicate value: {}", go_quote(name)),
                ));
            } else {
                names.push(name);
            }
        }
    }
    errors
}

fn fully_qualified_name_errors(field: &str, name: &str) -> Vec<FieldError> {
    if name.is_empty() {
        return vec![required(field, "")];
    }
    let name = name.strip_suffix('.').unwrap_or(name);
    let label = regex::Regex::new(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$");
    if name.len() > 253 || !label.is_ok_and(|re| re.is_match(name)) {
        return vec![invalid(
            field,
            &go_quote(name),
            "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
        )];
    }
    if name.split('.').count() < 3 {
        return vec![invalid(
            field,
            &go_quote(name),
            "should be a domain with at least three segments separated by dots",
        )];
    }
    vec![]
}

fn rule_errors(path: &str, rule: &Value) -> Vec<FieldError> {
    let mut errors = vec![];
    let strings = |field: &str| -> Vec<&str> {
        rule[field]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect()
    };
    let operations = strings("operations");
    if operations.is_empty() {
        errors.push(required(&format!("{path}.operations"), ""));
    }
    if operations.len() > 1 && operations.contains(&"*") {
        errors.push(invalid(
            &format!("{path}.operations"),
            &go_string_slice(&operations).replace("[]string", "[]admissionregistration.OperationType"),
            "if '*' is present, must not specify other operations",
        ));
    }
    for (index, operation) in operations.iter().enumerate() {
        if !matches!(*operation, "*" | "CONNECT" | "CREATE" | "DELETE" | "UPDATE") {
            errors.push(not_supported(
                &format!("{path}.operations[{index}]"),
                operation,
                &["*", "CONNECT", "CREATE", "DELETE", "UPDATE"],
            ));
        }
    }
    for field in ["apiGroups", "apiVersions", "resources"] {
        let values = strings(field);
        if values.is_empty() {
            errors.push(required(&format!("{path}.{field}"), ""));
        }
        if field != "resources" && values.len() > 1 && values.contains(&"*") {
            let what = if field == "apiGroups" {
                "API groups"
            } else {
                "API versions"
            };
            errors.push(invalid(
                &format!("{path}.{field}"),
                &go_string_slice(&values),
                &format!("if '*' is present, must not specify other {what}"),
            ));
        }
    }
    if let Some(scope) = rule["scope"].as_str()
        && !matches!(scope, "*" | "Cluster" | "Namespaced")
    {
        errors.push(not_supported(
            &format!("{path}.scope"),
            scope,
            &["*", "Cluster", "Namespaced"],
        ));
    }
    errors
}

fn selector_errors(path: &str, selector: &Value) -> Vec<FieldError> {
    let mut errors = vec![];
    for (index, expression) in selector["matchExpressions"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
    {
        let at = format!("{path}.matchExpressions[{index}]");
        let operator = expression["operator"].as_str().unwrap_or_default();
        let has_values = expression["values"].as_array().is_some_and(|v| !v.is_empty());
        match operator {
            "In" | "NotIn" if !has_values => errors.push(required(
                &format!("{at}.values"),
                "must be specified when `operator` is 'In' or 'NotIn'",
            )),
            "Exists" | "DoesNotExist" if has_values => errors.push((
                "FieldValueForbidden".into(),
                format!("{at}.values"),
                format!("{at}.values: Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'"),
            )),
            "In" | "NotIn" | "Exists" | "DoesNotExist" => {}
            other => errors.push(invalid(
                &format!("{at}.operator"),
                &go_quote(other),
                "not a valid selector operator",
            )),
        }
    }
    errors
}

fn client_config_errors(path: &str, client_config: &Value) -> Vec<FieldError> {
    let url = client_config["url"].as_str();
    let service = client_config.get("service").filter(|s| s.is_object());
    match (url, service) {
        (Some(_), Some(_)) | (None, None) => vec![required(path, "exactly one of url or service is required")],
        (Some(url), None) => {
            let field = format!("{path}.url");
            const FORM: &str = "; desired format: https://host[/path]";
            let mut errors = vec![];
            let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
            if scheme != "https" {
                errors.push(invalid(
                    &field,
                    &go_quote(scheme),
                    &format!("'https' is the only allowed URL scheme{FORM}"),
                ));
            }
            let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
            if host.is_empty() {
                errors.push(invalid(&field, "\"\"", &format!("host must be specified{FORM}")));
            }
            if let Some((_, fragment)) = url.split_once('#') {
                errors.push(invalid(
                    &field,
                    &go_quote(fragment),
                    "fragments are not permitted in the URL",
                ));
            }
            if let Some((_, query)) = url.split('#').next().unwrap_or(url).split_once('?') {
                errors.push(invalid(
                    &field,
                    &go_quote(query),
                    "query parameters are not permitted in the URL",
                ));
            }
            errors
        }
        (None, Some(service)) => {
            let mut errors = vec![];
            let field = format!("{path}.service");
            if service["name"].as_str().unwrap_or_default().is_empty() {
                errors.push(required(&format!("{field}.name"), ""));
            }
            if service["namespace"].as_str().unwrap_or_default().is_empty() {
                errors.push(required(&format!("{field}.namespace"), ""));
            }
            if let Some(port) = service["port"].as_i64()
                && !(1..=65535).contains(&port)
            {
                errors.push(invalid(
                    &format!("{field}.port"),
                    &port.to_string(),
                    "port is not valid: must be between 1 and 65535, inclusive",
                ));
            }
            if let Some(service_path) = service["path"].as_str()
                && !service_path.is_empty()
                && service_path != "/"
                && !service_path.starts_with('/')
            {
                errors.push(invalid(
                    &format!("{field}.path"),
                    &go_quote(service_path),
                    "must start with a '/'",
                ));
            }
            errors
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configurations_get_the_real_defaults() {
        let mut configuration = json!({"webhooks": [{
            "name": "a.example.com",
            "clientConfig": {"service": {"namespace": "system", "name": "webhook"}},
            "rules": [{"operations": ["CREATE"], "apiGroups": ["*"], "apiVersions": ["*"], "resources": ["*"]}],
        }]});
        default_configuration(&mut configuration, false);
        let webhook = &configuration["webhooks"][0];
        assert_eq!(webhook["failurePolicy"], "Fail");
        assert_eq!(webhook["matchPolicy"], "Equivalent");
        assert_eq!(webhook["namespaceSelector"], json!({}));
        assert_eq!(webhook["objectSelector"], json!({}));
        assert_eq!(webhook["timeoutSeconds"], 10);
        assert_eq!(webhook["rules"][0]["scope"], "*");
        assert_eq!(webhook["clientConfig"]["service"]["port"], 443);
    }

    #[test]
    fn configurations_are_validated_with_the_real_messages() {
        let configuration = json!({"webhooks": [
            {
                "name": "short.name",
                "clientConfig": {"url": "http://example.com/x"},
                "admissionReviewVersions": ["v2"],
                "timeoutSeconds": 31,
                "rules": [{"operations": ["MAKE"], "apiGroups": [], "apiVersions": ["v1"], "resources": ["widgets"]}],
            },
            {
                "name": "ok.example.com",
                "sideEffects": "Some",
                "clientConfig": {},
                "admissionReviewVersions": ["v1"],
            },
        ]});
        let messages: Vec<String> = configuration_errors(&configuration, false)
            .into_iter()
            .map(|(_, _, message)| message)
            .collect();
        assert_eq!(
            messages,
            [
                "webhooks[0].name: Invalid value: \"short.name\": should be a domain with at least three segments separated by dots",
                "webhooks[0].rules[0].operations[0]: Unsupported value: \"MAKE\": supported values: \"*\", \"CONNECT\", \"CREATE\", \"DELETE\", \"UPDATE\"",
                "webhooks[0].rules[0].apiGroups: Required value",
                "webhooks[0].sideEffects: Required value: must specify one of None, NoneOnDryRun",
                "webhooks[0].timeoutSeconds: Invalid value: 31: the timeout value must be between 1 and 30 seconds",
                "webhooks[0].clientConfig.url: Invalid value: \"http\": 'https' is the only allowed URL scheme; desired format: https://host[/path]",
                "webhooks[0].admissionReviewVersions: Invalid value: []string{\"v2\"}: must include at least one of v1, v1beta1",
                "webhooks[1].sideEffects: Unsupported value: \"Some\": supported values: \"None\", \"NoneOnDryRun\"",
                "webhooks[1].clientConfig: Required value: exactly one of url or service is required",
            ]
        );
    }

    #[test]
    fn bad_ca_bundles_fail_decoding() {
        assert_eq!(
            configuration_decoding_error(&json!({"webhooks": [{"clientConfig": {"caBundle": "ab$d"}}]})).as_deref(),
            Some("illegal base64 data at input byte 2")
        );
        assert_eq!(
            configuration_decoding_error(&json!({"webhooks": [{"clientConfig": {"caBundle": "YWJj"}}]})),
            None
        );
    }
}

//! Structural schema validation (kube-openapi's SchemaValidator), and the type metadata
//! of embedded resources.

use serde_json::{Map, Number, Value};

use crate::go_format::{go_float, go_quote};

use super::formats::{cached_regex, check_format, matches, supported_format};
use super::ratchet::{correlate_field, correlate_item, unchanged};
use super::{FieldError, Path, Schema, sorted_keys};

/// The field of an error kube-openapi names `name`.
pub(super) fn openapi_field(name: &str) -> String {
    let trimmed = name.strip_prefix('.').unwrap_or(name);
    if trimmed.is_empty() {
        "<nil>".to_owned()
    } else {
        trimmed.to_owned()
    }
}

/// The kube-openapi errors that are not `Validation`s carry no path.
fn composite_error(message: String) -> FieldError {
    FieldError::invalid("<nil>".to_owned(), Value::from(""), message)
}

pub(super) fn validate_value(s: Schema, data: &Value, path: &Path, old: Option<&Value>, errors: &mut Vec<FieldError>) {
    // Ratcheting: errors in a value the update leaves as it was are forgiven.
    if old.is_some_and(|old| unchanged(Some(s), data, old)) {
        return;
    }
    let name = path.dotted();
    if !check_type(s, data, &name, errors) {
        check_enum(s, data, &name, errors);
        return;
    }
    check_combinators(s, data, path, errors);
    match data {
        Value::String(text) => {
            check_string(s, text, &name, errors);
            check_format(s, text, &name, errors);
        }
        Value::Number(number) => check_number(s, number, &name, errors),
        Value::Array(items) => {
            if let Some(item_schema) = s.items() {
                for (index, item) in items.iter().enumerate() {
                    let old_item = correlate_item(s, old, item);
                    validate_value(item_schema, item, &path.index(index), old_item, errors);
                }
            }
            if let Some(min) = s.count("minItems")
                && (items.len() as i64) < min
            {
                let detail = format!("{name} in body should have at least {min} items");
                errors.push(FieldError::invalid(
                    openapi_field(&name),
                    Value::from(items.len()),
                    detail,
                ));
            }
            if let Some(max) = s.count("maxItems")
                && (items.len() as i64) > max
            {
                errors.push(FieldError::too_many(openapi_field(&name), items.len(), max));
            }
        }
        _ => {}
    }
    check_enum(s, data, &name, errors);
    if let Value::Object(fields) = data {
        check_object(s, fields, path, old, errors);
    }
}

/// The JSON type of a value and the format Go infers for it.
fn json_type(data: &Value) -> (&'static str, &'static str) {
    match data {
        Value::Null => ("null", ""),
        Value::Bool(_) => ("boolean", ""),
        Value::String(_) => ("string", ""),
        Value::Number(n) if n.is_i64() => ("integer", "int64"),
        Value::Number(_) => ("number", "float64"),
        Value::Array(_) => ("array", ""),
        Value::Object(_) => ("object", ""),
    }
}

/// The type validator; false when `data` is null, after which only `enum` applies.
fn check_type(s: Schema, data: &Value, name: &str, errors: &mut Vec<FieldError>) -> bool {
    let types: Vec<&str> = if s.int_or_string() {
        vec!["integer", "string"]
    } else if s.type_name().is_empty() {
        Vec::new()
    } else {
        vec![s.type_name()]
    };
    let format = supported_format(s);
    let type_error = |expected: &str, actual: &str| {
        let detail = format!("{name} in body must be of type {expected}: {}", go_quote(actual));
        FieldError::type_invalid(openapi_field(name), Value::from(actual), detail)
    };
    if data.is_null() {
        if !types.is_empty() && !types.contains(&"null") && !s.nullable() {
            errors.push(type_error(&types.join(","), "null"));
        }
        return false;
    }
    if types.is_empty() && format.is_none() {
        return true;
    }
    let (actual, actual_format) = json_type(data);
    let integral_number = data.as_f64().is_some_and(|f| f.fract() == 0.0);
    let compatible = types.contains(&actual)
        || (actual == "number" && integral_number && types.contains(&"integer"))
        || (actual == "integer" && types.contains(&"number"));
    let string_or_array = matches!(data, Value::String(_) | Value::Array(_));
    if let Some(format) = format
        && !string_or_array
        && !(compatible || actual_format == format)
    {
        errors.push(type_error(format, actual_format));
        return true;
    }
    let numeric = types.contains(&"number") || types.contains(&"integer");
    if format.is_some() && string_or_array && !numeric {
        return true;
    }
    if !compatible {
        errors.push(type_error(&types.join(","), actual));
    }
    true
}

fn check_string(s: Schema, text: &str, name: &str, errors: &mut Vec<FieldError>) {
    let length = text.chars().count() as i64;
    let field = openapi_field(name);
    if let Some(max) = s.count("maxLength")
        && length > max
    {
        errors.push(FieldError::too_long(field, max));
        return;
    }
    if let Some(min) = s.count("minLength")
        && length < min
    {
        let detail = format!("{name} in body should be at least {min} chars long");
        errors.push(FieldError::invalid(field, Value::from(text), detail));
        return;
    }
    if let Some(pattern) = s.get("pattern").and_then(Value::as_str)
        && !pattern.is_empty()
    {
        let shown = match cached_regex(pattern) {
            Ok(re) if re.is_match(text) => return,
            Ok(_) => pattern.to_owned(),
            Err(e) => format!("{pattern}, but pattern is invalid: {e}"),
        };
        let detail = format!("{name} in body should match '{shown}'");
        errors.push(FieldError::invalid(field, Value::from(text), detail));
    }
}

fn check_number(s: Schema, number: &Number, name: &str, errors: &mut Vec<FieldError>) {
    let field = openapi_field(name);
    let bad = || Value::Number(number.clone());
    // Go compares integers as integers, with the bound truncated to one.
    let integer = number.as_i64();
    let value = number.as_f64().unwrap_or(f64::NAN);
    let bound = |b: f64| match integer {
        Some(_) => (b as i64).to_string(),
        None => go_float(b),
    };
    if let Some(factor) = s.number("multipleOf") {
        let (positive, multiple) = match integer {
            Some(i) => {
                let factor = factor as i64;
                (factor > 0, factor > 0 && i % factor == 0)
            }
            None => {
                let quotient = if factor < 1.0 {
                    1.0 / factor * value
                } else {
                    value / factor
                };
                (factor > 0.0, quotient.fract() == 0.0)
            }
        };
        if !positive {
            let shown = bound(factor);
            let detail = format!("factor MultipleOf declared for {name} must be positive: {shown}");
            let factor = integer.map_or(Value::from(factor), |_| Value::from(factor as i64));
            errors.push(FieldError::invalid(field.clone(), factor, detail));
        } else if !multiple {
            let detail = format!("{name} in body should be a multiple of {}", bound(factor));
            errors.push(FieldError::invalid(field.clone(), bad(), detail));
        }
    }
    let below = |min: f64, exclusive: bool| match integer {
        Some(i) => {
            if exclusive {
                i <= min as i64
            } else {
                i < min as i64
            }
        }
        None => {
            if exclusive {
                value <= min
            } else {
                value < min
            }
        }
    };
    let above = |max: f64, exclusive: bool| match integer {
        Some(i) => {
            if exclusive {
                i >= max as i64
            } else {
                i > max as i64
            }
        }
        None => {
            if exclusive {
                value >= max
            } else {
                value > max
            }
        }
    };
    if let Some(min) = s.number("minimum") {
        let exclusive = s.flag("exclusiveMinimum");
        if below(min, exclusive) {
            let relation = if exclusive {
                "greater than"
            } else {
                "greater than or equal to"
            };
            let detail = format!("{name} in body should be {relation} {}", bound(min));
            errors.push(FieldError::invalid(field.clone(), bad(), detail));
        }
    }
    if let Some(max) = s.number("maximum") {
        let exclusive = s.flag("exclusiveMaximum");
        if above(max, exclusive) {
            let relation = if exclusive {
                "less than"
            } else {
                "less than or equal to"
            };
            let detail = format!("{name} in body should be {relation} {}", bound(max));
            errors.push(FieldError::invalid(field, bad(), detail));
        }
    }
}

fn check_enum(s: Schema, data: &Value, name: &str, errors: &mut Vec<FieldError>) {
    let Some(allowed) = s.get("enum").and_then(Value::as_array).filter(|a| !a.is_empty()) else {
        return;
    };
    // A null never matches, not even a null in the enum: kube-openapi skips it.
    if !data.is_null() && allowed.iter().any(|a| !a.is_null() && same_json(a, data)) {
        return;
    }
    let supported: Vec<String> = allowed
        .iter()
        .map(|a| match a {
            Value::String(text) => text.clone(),
            other => other.to_string(),
        })
        .collect();
    errors.push(FieldError::not_supported(openapi_field(name), data.clone(), &supported));
}

/// JSON equality where 1 and 1.0 are the same number.
fn same_json(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x == y || x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

fn check_object(
    s: Schema,
    fields: &Map<String, Value>,
    path: &Path,
    old: Option<&Value>,
    errors: &mut Vec<FieldError>,
) {
    let name = path.dotted();
    let count = fields.len();
    if let Some(min) = s.count("minProperties")
        && (count as i64) < min
    {
        let detail = format!("{name} in body should have at least {min} properties");
        errors.push(FieldError::invalid(openapi_field(&name), Value::from(count), detail));
    }
    if let Some(max) = s.count("maxProperties")
        && (count as i64) > max
    {
        errors.push(FieldError::too_many(openapi_field(&name), count, max));
    }
    if let Some(map_value) = s.additional_schema() {
        for key in sorted_keys(fields) {
            if s.property(&key).is_some() {
                continue;
            }
            if let Some(v) = fields.get(&key) {
                let old_v = correlate_field(s, old, &key);
                validate_value(map_value, v, &path.key(&key), old_v, errors);
            }
        }
    }
    for key in sorted_keys(fields) {
        if let (Some(property), Some(v)) = (s.property(&key), fields.get(&key)) {
            validate_value(property, v, &path.child(&key), correlate_field(s, old, &key), errors);
        }
    }
    for required in s.get("required").and_then(Value::as_array).into_iter().flatten() {
        if let Some(key) = required.as_str()
            && !fields.contains_key(key)
        {
            errors.push(FieldError::required(openapi_field(&format!("{name}.{key}")), ""));
        }
    }
}

/// `anyOf`, `oneOf`, `allOf` and `not`, each branch validating the same value.
fn check_combinators(s: Schema, data: &Value, path: &Path, errors: &mut Vec<FieldError>) {
    let quoted = go_quote(&path.dotted());
    let run = |branch: Schema| {
        let mut branch_errors = Vec::new();
        validate_value(branch, data, path, None, &mut branch_errors);
        branch_errors
    };
    let any_of = s.sub_schemas("anyOf");
    if !any_of.is_empty() {
        let results: Vec<Vec<FieldError>> = any_of.into_iter().map(run).collect();
        if results.iter().all(|r| !r.is_empty()) {
            errors.push(composite_error(format!(
                "{quoted} must validate at least one schema (anyOf)"
            )));
            errors.extend(results.into_iter().next().into_iter().flatten());
        }
    }
    let one_of = s.sub_schemas("oneOf");
    if !one_of.is_empty() {
        let results: Vec<Vec<FieldError>> = one_of.into_iter().map(run).collect();
        let valid = results.iter().filter(|r| r.is_empty()).count();
        if valid != 1 {
            let found = if valid == 0 {
                "Found none valid".to_owned()
            } else {
                format!("Found {valid} valid alternatives")
            };
            errors.push(composite_error(format!(
                "{quoted} must validate one and only one schema (oneOf). {found}"
            )));
            if valid == 0 {
                errors.extend(results.into_iter().next().into_iter().flatten());
            }
        }
    }
    let all_of = s.sub_schemas("allOf");
    if !all_of.is_empty() {
        let total = all_of.len();
        let mut valid = 0;
        for result in all_of.into_iter().map(run) {
            if result.is_empty() {
                valid += 1;
            }
            errors.extend(result);
        }
        if valid != total {
            let none = if valid == 0 { ". None validated" } else { "" };
            errors.push(composite_error(format!(
                "{quoted} must validate all the schemas (allOf){none}"
            )));
        }
    }
    if let Some(not) = s.get("not").and_then(Schema::new)
        && run(not).is_empty()
    {
        errors.push(composite_error(format!("{quoted} must not validate the schema (not)")));
    }
}

pub(super) fn validate_embedded_resources(
    value: &Value,
    schema: Option<Schema>,
    path: &Path,
    errors: &mut Vec<FieldError>,
) {
    let Some(s) = schema else { return };
    match value {
        Value::Object(fields) => {
            if s.embedded_resource() {
                validate_type_meta(fields, path, errors);
            }
            for key in sorted_keys(fields) {
                let Some(v) = fields.get(&key) else { continue };
                if let Some(property) = s.property(&key) {
                    validate_embedded_resources(v, Some(property), &path.child(&key), errors);
                } else if let Some(map_value) = s.additional_schema() {
                    validate_embedded_resources(v, Some(map_value), &path.key(&key), errors);
                }
            }
        }
        Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                validate_embedded_resources(item, s.items(), &path.index(index), errors);
            }
        }
        _ => {}
    }
}

/// An embedded resource needs an apiVersion and a kind that name a type.
fn validate_type_meta(fields: &Map<String, Value>, path: &Path, errors: &mut Vec<FieldError>) {
    for key in ["apiVersion", "kind"] {
        if !fields.contains_key(key) {
            errors.push(FieldError::required(path.child(key).field_path(), "must not be empty"));
        }
    }
    for key in ["apiVersion", "kind"] {
        let Some(value) = fields.get(key) else {
            continue;
        };
        let field = path.child(key).field_path();
        let Some(text) = value.as_str() else {
            errors.push(FieldError::invalid(field, value.clone(), "must be a string"));
            continue;
        };
        let problem = if text.is_empty() {
            Some("must not be empty".to_owned())
        } else if key == "apiVersion" {
            (text != "/" && text.matches('/').count() > 1).then(|| format!("unexpected GroupVersion string: {text}"))
        } else {
            dns1035_label_problems(&text.to_lowercase())
                .map(|p| format!("may have mixed case, but should otherwise match: {p}"))
        };
        if let Some(problem) = problem {
            errors.push(FieldError::invalid(field, value.clone(), problem));
        }
    }
}

fn dns1035_label_problems(text: &str) -> Option<String> {
    let mut problems = Vec::new();
    if text.len() > 63 {
        problems.push("must be no more than 63 characters".to_owned());
    }
    if !matches("^[a-z]([-a-z0-9]*[a-z0-9])?$", text) {
        problems.push("a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')".to_owned());
    }
    (!problems.is_empty()).then(|| problems.join(","))
}

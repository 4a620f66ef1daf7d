//! Formats: which the apiserver knows, and whether a string has one.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};

use regex::Regex;
use serde_json::Value;

use crate::go_format::go_quote;

use super::validate::openapi_field;
use super::{FieldError, Schema};

/// The formats the apiserver knows; others are ignored, as if absent.
pub(super) fn supported_format<'a>(s: Schema<'a>) -> Option<&'a str> {
    const SUPPORTED: &[&str] = &[
        "bsonobjectid",
        "uri",
        "email",
        "hostname",
        "ipv4",
        "ipv6",
        "cidr",
        "mac",
        "uuid",
        "uuid3",
        "uuid4",
        "uuid5",
        "isbn",
        "isbn10",
        "isbn13",
        "creditcard",
        "ssn",
        "hexcolor",
        "rgbcolor",
        "byte",
        "password",
        "date",
        "duration",
        "datetime",
    ];
    let format = s.format();
    SUPPORTED.contains(&format.replace('-', "").as_str()).then_some(format)
}

pub(super) fn check_format(s: Schema, text: &str, name: &str, errors: &mut Vec<FieldError>) {
    let Some(format) = supported_format(s) else {
        return;
    };
    if !valid_format(&format.replace('-', ""), text) {
        let detail = format!("{name} in body must be of type {format}: {}", go_quote(text));
        errors.push(FieldError::type_invalid(openapi_field(name), Value::from(text), detail));
    }
}

/// Compiled patterns, shared by the `pattern` keyword and the formats.
pub(crate) fn cached_regex(pattern: &str) -> Result<Regex, String> {
    static CACHE: LazyLock<Mutex<HashMap<String, Result<Regex, String>>>> = LazyLock::new(Mutex::default);
    let mut cache = CACHE.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    cache
        .entry(pattern.to_owned())
        .or_insert_with(|| Regex::new(pattern).map_err(|e| e.to_string()))
        .clone()
}

pub(super) fn matches(pattern: &str, text: &str) -> bool {
    cached_regex(pattern).is_ok_and(|re| re.is_match(text))
}

/// Whether `text` has the format named `format` (normalized, without dashes).
/// Formats too costly to check exactly (isbn, creditcard) are accepted.
pub(super) fn valid_format(format: &str, text: &str) -> bool {
    use base64::Engine as _;
    match format {
        "datetime" => valid_date_time(text),
        "date" => valid_date(text),
        "duration" => valid_duration(text),
        "byte" => base64::engine::general_purpose::STANDARD.decode(text).is_ok(),
        "uuid" => matches(
            r"(?i)^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$",
            text,
        ),
        "uuid3" => matches(
            r"(?i)^[0-9a-f]{8}-?[0-9a-f]{4}-?3[0-9a-f]{3}-?[0-9a-f]{4}-?[0-9a-f]{12}$",
            text,
        ),
        "uuid4" => matches(
            r"(?i)^[0-9a-f]{8}-?[0-9a-f]{4}-?4[0-9a-f]{3}-?[89ab][0-9a-f]{3}-?[0-9a-f]{12}$",
            text,
        ),
        "uuid5" => matches(
            r"(?i)^[0-9a-f]{8}-?[0-9a-f]{4}-?5[0-9a-f]{3}-?[89ab][0-9a-f]{3}-?[0-9a-f]{12}$",
            text,
        ),
        "hostname" => {
            matches(
                r"^([a-zA-Z0-9\p{S}\p{L}]((-?[a-zA-Z0-9\p{S}\p{L}]{0,62})?)|([a-zA-Z0-9\p{S}\p{L}](([a-zA-Z0-9-\p{S}\p{L}]{0,61}[a-zA-Z0-9\p{S}\p{L}])?)(\.)){1,}([a-zA-Z\p{L}]){2,63})$",
                text,
            ) && text.len() <= 255
                && text.split('.').all(|label| label.len() <= 63)
        }
        "email" => matches(r"^(?:[^<>@\s]+@[^<>@\s]+|[^<>]*<[^<>@\s]+@[^<>@\s]+>)$", text),
        "ipv4" => text.parse::<std::net::Ipv4Addr>().is_ok(),
        "ipv6" => text.contains(':') && text.parse::<std::net::IpAddr>().is_ok(),
        "cidr" => text.split_once('/').is_some_and(|(ip, bits)| {
            let max = match ip.parse::<std::net::IpAddr>() {
                Ok(std::net::IpAddr::V4(_)) => 32,
                Ok(std::net::IpAddr::V6(_)) => 128,
                Err(_) => return false,
            };
            bits.parse::<u8>().is_ok_and(|b| b <= max) && !bits.starts_with('+')
        }),
        "mac" => matches(
            r"^(?:[0-9A-Fa-f]{2}(?:[:-][0-9A-Fa-f]{2}){5}|[0-9A-Fa-f]{2}(?:[:-][0-9A-Fa-f]{2}){7}|[0-9A-Fa-f]{2}(?:[:-][0-9A-Fa-f]{2}){19}|[0-9A-Fa-f]{4}(?:\.[0-9A-Fa-f]{4}){2,9})$",
            text,
        ),
        "hexcolor" => matches(r"^#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$", text),
        "rgbcolor" => matches(
            r"^rgb\(\s*(0|[1-9]\d?|1\d\d?|2[0-4]\d|25[0-5])\s*,\s*(0|[1-9]\d?|1\d\d?|2[0-4]\d|25[0-5])\s*,\s*(0|[1-9]\d?|1\d\d?|2[0-4]\d|25[0-5])\s*\)$",
            text,
        ),
        "ssn" => matches(r"^\d{3}[- ]?\d{2}[- ]?\d{4}$", text),
        "bsonobjectid" => matches(r"^[0-9a-fA-F]{24}$", text),
        "uri" => matches(r"^(?:[a-zA-Z][a-zA-Z0-9+.-]*:|/)\S*$", text),
        _ => true,
    }
}

/// `2006-01-02`, with a real day of a real month.
fn valid_date(text: &str) -> bool {
    if !matches(r"^\d{4}-\d{2}-\d{2}$", text) {
        return false;
    }
    let part = |range: std::ops::Range<usize>| text[range].parse::<u32>().ok();
    match (part(0..4), part(5..7), part(8..10)) {
        (Some(y), Some(m), Some(d)) => chrono::NaiveDate::from_ymd_opt(y as i32, m, d).is_some(),
        _ => false,
    }
}

/// strfmt's `IsDateTime`: a date, a `T`, and a time with a zone.
fn valid_date_time(text: &str) -> bool {
    let lower = text.to_lowercase();
    let mut parts = lower.split('t');
    let (Some(date), Some(time)) = (parts.next(), parts.next()) else {
        return false;
    };
    if text.len() < 4 || !valid_date(date) {
        return false;
    }
    let Ok(re) = cached_regex(r"^([0-9]{2}):([0-9]{2}):([0-9]{2})(.[0-9]+)?(z|([+-][0-9]{2}:[0-9]{2}))$") else {
        return false;
    };
    re.captures(time)
        .is_some_and(|c| &c[1] <= "23" && &c[2] <= "59" && &c[3] <= "59")
}

/// Go's `time.ParseDuration`, or the looser "3 days" forms strfmt accepts.
fn valid_duration(text: &str) -> bool {
    if matches(
        r"^[-+]?(?:0|(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:ns|us|µs|μs|ms|s|m|h))+$",
        text,
    ) {
        return true;
    }
    const UNITS: &[&[&str]] = &[
        &["ns", "nano"],
        &["us", "µs", "micro"],
        &["ms", "milli"],
        &["s", "sec"],
        &["m", "min"],
        &["h", "hr", "hour"],
        &["d", "day"],
        &["w", "wk", "week"],
    ];
    let Ok(re) = cached_regex(r"(\d+)\s*([A-Za-zµ]+)") else {
        return false;
    };
    re.captures_iter(text).any(|c| {
        let unit = c[2].trim().to_lowercase();
        UNITS.iter().any(|variants| {
            variants
                .iter()
                .enumerate()
                .any(|(i, variant)| unit == *variant || (i == variants.len() - 1 && unit.starts_with(variant)))
        })
    })
}

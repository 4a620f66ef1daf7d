//! client-go's JSONPath dialect, as printer columns write it, rewritten as RFC 9535.

use serde_json::Value;

/// Rewrites a printer column's path in client-go's JSONPath dialect as RFC 9535, the dialect
/// `serde_json_path` reads: `.status.conditions[?(@.type=="Ready")].status` becomes
/// `$['status']['conditions'][?(@['type']=="Ready")]['status']`. Every member name is put in
/// brackets because client-go accepts names (`app.kubernetes.io\/name`, `foo-bar`) that RFC
/// 9535's dot shorthand does not.
pub(super) fn k8s_to_rfc9535(path: &str) -> Option<String> {
    let mut out = String::from("$");
    append_segments(path.trim(), &mut out)?;
    Some(out)
}

fn append_segments(path: &str, out: &mut String) -> Option<()> {
    let chars: Vec<char> = path.chars().collect();
    let mut at = 0;
    while at < chars.len() {
        match chars[at] {
            ' ' => at += 1,
            '.' if chars.get(at + 1) == Some(&'.') => {
                out.push_str("..");
                at += 2;
                if chars.get(at).is_some_and(|c| c.is_alphanumeric() || *c == '_') {
                    at = append_field(&chars, at, out);
                }
            }
            '.' => at = append_field(&chars, at + 1, out),
            '[' if chars.get(at + 1) == Some(&'?') => {
                let (filter, next) = filter_body(&chars, at)?;
                out.push_str(&format!("[?({})]", filter_to_rfc9535(&filter)?));
                at = next;
            }
            '[' => {
                let close = at + chars[at..].iter().position(|c| *c == ']')?;
                let inside: String = chars[at + 1..close].iter().collect();
                let selectors: Option<Vec<String>> =
                    inside.split(',').map(|part| bracket_selector(part.trim())).collect();
                out.push_str(&format!("[{}]", selectors?.join(",")));
                at = close + 1;
            }
            _ => return None,
        }
    }
    Some(())
}

/// A member name runs to the next `.`, `[`, `]`, `,`, space or brace; a backslash takes the
/// next character literally.
fn append_field(chars: &[char], start: usize, out: &mut String) -> usize {
    let mut name = String::new();
    let mut at = start;
    while let Some(&ch) = chars.get(at) {
        if ch == '\\' {
            if let Some(&escaped) = chars.get(at + 1) {
                name.push(escaped);
            }
            at += 2;
            continue;
        }
        if ch.is_whitespace() || matches!(ch, '.' | ',' | '[' | ']' | '$' | '@' | '{' | '}') {
            break;
        }
        name.push(ch);
        at += 1;
    }
    match name.as_str() {
        "" => {}
        "*" => out.push_str("[*]"),
        _ => out.push_str(&quoted_name(&name)),
    }
    at
}

fn quoted_name(name: &str) -> String {
    format!("[{}]", quoted_key(name))
}

fn quoted_key(name: &str) -> String {
    format!("'{}'", name.replace('\\', "\\\\").replace('\'', "\\'"))
}

/// One selector inside brackets: `*`, a quoted key, or an index or slice.
fn bracket_selector(selector: &str) -> Option<String> {
    if selector == "*" {
        return Some("*".to_owned());
    }
    if let Some(key) = unquote(selector) {
        return Some(quoted_key(&key));
    }
    let is_index_or_slice =
        !selector.is_empty() && selector.chars().all(|c| c.is_ascii_digit() || c == '-' || c == ':');
    is_index_or_slice.then(|| selector.to_owned())
}

fn unquote(text: &str) -> Option<String> {
    let quote = text.chars().next().filter(|c| *c == '\'' || *c == '"')?;
    let inner = text.strip_prefix(quote)?.strip_suffix(quote)?;
    Some(inner.replace(&format!("\\{quote}"), &quote.to_string()))
}

/// The text between `[?(` and its closing `)]`, skipping parentheses inside quotes, and the
/// position after the closing bracket.
fn filter_body(chars: &[char], start: usize) -> Option<(String, usize)> {
    if chars.get(start + 2) != Some(&'(') {
        return None;
    }
    let mut quote: Option<char> = None;
    let mut at = start + 3;
    while let Some(&ch) = chars.get(at) {
        match (quote, ch) {
            (Some(_), '\\') => at += 1,
            (Some(open), _) if ch == open => quote = None,
            (None, '\'' | '"') => quote = Some(ch),
            (None, ')') if chars.get(at + 1) == Some(&']') => {
                return Some((chars[start + 3..at].iter().collect(), at + 2));
            }
            _ => {}
        }
        at += 1;
    }
    None
}

/// client-go splits a filter at its first run of `!<>=` into operand, operator, operand; with no
/// operator it tests that the path exists.
fn filter_to_rfc9535(filter: &str) -> Option<String> {
    let Some(op_start) = filter.find(['!', '<', '>', '=']) else {
        return filter_operand(filter.trim());
    };
    let op_len = filter[op_start..]
        .find(|c: char| !matches!(c, '!' | '<' | '>' | '='))
        .unwrap_or(filter.len() - op_start);
    let operator = &filter[op_start..op_start + op_len];
    if !["==", "!=", "<", ">", "<=", ">="].contains(&operator) {
        return None;
    }
    let left = filter_operand(filter[..op_start].trim())?;
    let right = filter_operand(filter[op_start + op_len..].trim())?;
    Some(format!("{left}{operator}{right}"))
}

fn filter_operand(operand: &str) -> Option<String> {
    if let Some(rest) = operand.strip_prefix('@').or_else(|| operand.strip_prefix('$')) {
        let mut out = operand[..1].to_owned();
        append_segments(rest, &mut out)?;
        return Some(out);
    }
    if let Some(text) = unquote(operand) {
        return Some(Value::String(text).to_string());
    }
    let is_literal = matches!(operand, "true" | "false" | "null") || operand.parse::<f64>().is_ok();
    is_literal.then(|| operand.to_owned())
}

#[cfg(test)]
mod tests {
    use serde_json_path::JsonPath;

    use super::*;

    #[test]
    fn jsonpath_dialect_becomes_rfc9535() {
        let cases = [
            (".status.roleArn", "$['status']['roleArn']"),
            (
                ".status.conditions[?(@.type==\"Ready\")].status",
                "$['status']['conditions'][?(@['type']==\"Ready\")]['status']",
            ),
            (
                ".status.conditions[?(@.type == 'Ready')].status",
                "$['status']['conditions'][?(@['type']==\"Ready\")]['status']",
            ),
            (".spec.items[0].name", "$['spec']['items'][0]['name']"),
            (".spec.items[*]", "$['spec']['items'][*]"),
            (".spec.items[1:3]", "$['spec']['items'][1:3]"),
            (".spec['a.b']", "$['spec']['a.b']"),
            (".spec.*", "$['spec'][*]"),
            ("..name", "$..['name']"),
            (
                ".metadata.labels.app\\.kubernetes\\.io/name",
                "$['metadata']['labels']['app.kubernetes.io/name']",
            ),
            (".spec.replicas[?(@.count>2)]", "$['spec']['replicas'][?(@['count']>2)]"),
            (".spec.items[?(@.ready)]", "$['spec']['items'][?(@['ready'])]"),
        ];
        for (k8s, rfc) in cases {
            assert_eq!(k8s_to_rfc9535(k8s).as_deref(), Some(rfc), "{k8s}");
            assert!(JsonPath::parse(rfc).is_ok(), "{rfc}");
        }
        assert_eq!(k8s_to_rfc9535(".spec.items[?(@.a=~\"x\")]"), None);
        assert_eq!(k8s_to_rfc9535(".spec.items[?(@.a==\"x\""), None);
    }
}

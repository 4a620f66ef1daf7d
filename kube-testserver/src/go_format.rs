//! Go's text forms of values, for the messages and encodings that must match kube-apiserver's
//! byte for byte: `strconv.Quote` (`%q`), `fmt`'s `%v` and `%#v` of decoded JSON, and
//! encoding/json's output.

use serde_json::{Map, Number, Value};

/// Go's `strconv.Quote` (and `%q`): `\a \b \f \n \r \t \v` by name, other ASCII controls as
/// `\x`, other unprintable characters as `\u` or `\U`. What counts as printable follows
/// `unicode.IsPrint` for controls, format characters, spaces other than ' ', private use and
/// noncharacters; other unassigned code points pass as printable.
pub fn go_quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => out.push_str(&format!("\\x{:02x}", c as u32)),
            c if is_printable(c) => out.push(c),
            c if (c as u32) < 0x10000 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push_str(&format!("\\U{:08x}", c as u32)),
        }
    }
    out.push('"');
    out
}

fn is_printable(c: char) -> bool {
    // Unicode's format characters (category Cf).
    const FORMAT: &[(u32, u32)] = &[
        (0xad, 0xad),
        (0x600, 0x605),
        (0x61c, 0x61c),
        (0x6dd, 0x6dd),
        (0x70f, 0x70f),
        (0x890, 0x891),
        (0x8e2, 0x8e2),
        (0x180e, 0x180e),
        (0x200b, 0x200f),
        (0x202a, 0x202e),
        (0x2060, 0x2064),
        (0x2066, 0x206f),
        (0xfeff, 0xfeff),
        (0xfff9, 0xfffb),
        (0x110bd, 0x110bd),
        (0x110cd, 0x110cd),
        (0x13430, 0x1343f),
        (0x1bca0, 0x1bca3),
        (0x1d173, 0x1d17a),
        (0xe0001, 0xe0001),
        (0xe0020, 0xe007f),
    ];
    let code = c as u32;
    let private_use = (0xe000..=0xf8ff).contains(&code) || code >= 0xf0000;
    let noncharacter = (0xfdd0..=0xfdef).contains(&code) || code & 0xfffe == 0xfffe;
    !(c.is_control()
        || (c.is_whitespace() && c != ' ')
        || private_use
        || noncharacter
        || FORMAT.iter().any(|(first, last)| (*first..=*last).contains(&code)))
}

/// `fmt`'s `%v` of a `float64`: the shortest digits that read back as the value, with an
/// exponent (at least two digits) below 1e-4 and from 1e+06 on.
pub fn go_float(value: f64) -> String {
    if value.is_nan() {
        return "NaN".to_owned();
    }
    if value.is_infinite() {
        return if value > 0.0 { "+Inf" } else { "-Inf" }.to_owned();
    }
    let decimal = Decimal::of(value);
    if (-4..6).contains(&decimal.exponent) {
        decimal.fixed()
    } else {
        decimal.scientific()
    }
}

/// `fmt`'s `%v` of a JSON number as Go decodes one into an `interface{}` that keeps integers:
/// an `int64` when it is one, a `float64` otherwise.
pub fn go_number(number: &Number) -> String {
    match number.as_i64() {
        Some(i) => i.to_string(),
        None => go_float(number.as_f64().unwrap_or(f64::NAN)),
    }
}

/// `fmt`'s `%v` (and `%+v`) of a decoded JSON value: `map[key:value ...]` with sorted keys,
/// `[a b]`, strings bare, `<nil>`.
pub fn go_print(value: &Value) -> String {
    match value {
        Value::Null => "<nil>".to_owned(),
        Value::String(text) => text.clone(),
        Value::Number(number) => go_number(number),
        Value::Bool(b) => b.to_string(),
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(go_print).collect();
            format!("[{}]", items.join(" "))
        }
        Value::Object(fields) => {
            let entries: Vec<String> = sorted(fields)
                .into_iter()
                .map(|(key, value)| format!("{key}:{}", go_print(value)))
                .collect();
            format!("map[{}]", entries.join(" "))
        }
    }
}

/// `fmt`'s `%#v` of a decoded JSON value (an `interface{}`).
pub fn go_sharp_v(value: &Value) -> String {
    match value {
        Value::Null => "interface {}(nil)".to_owned(),
        Value::String(text) => go_quote(text),
        Value::Number(number) => go_number(number),
        Value::Bool(b) => b.to_string(),
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(go_sharp_v).collect();
            format!("[]interface {{}}{{{}}}", items.join(", "))
        }
        Value::Object(fields) => {
            let entries: Vec<String> = sorted(fields)
                .into_iter()
                .map(|(key, value)| format!("{}:{}", go_quote(key), go_sharp_v(value)))
                .collect();
            format!("map[string]interface {{}}{{{}}}", entries.join(", "))
        }
    }
}

fn sorted(fields: &Map<String, Value>) -> Vec<(&String, &Value)> {
    let mut entries: Vec<(&String, &Value)> = fields.iter().collect();
    entries.sort_by_key(|(key, _)| *key);
    entries
}

/// encoding/json's `Marshal` of a decoded value: object keys sorted, HTML-significant
/// characters escaped.
pub fn go_json(value: &Value) -> String {
    let mut out = String::new();
    write_json(value, &mut out);
    out
}

fn write_json(value: &Value, out: &mut String) {
    match value {
        Value::String(text) => out.push_str(&go_json_string(text)),
        Value::Array(items) => {
            out.push('[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                write_json(item, out);
            }
            out.push(']');
        }
        Value::Object(fields) => {
            out.push('{');
            for (index, (key, value)) in sorted(fields).into_iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                out.push_str(&go_json_string(key));
                out.push(':');
                write_json(value, out);
            }
            out.push('}');
        }
        Value::Number(number) => out.push_str(&json_number(number)),
        scalar => out.push_str(&scalar.to_string()),
    }
}

/// encoding/json's form of a number: integers as written, floats without exponent from 1e-6 up
/// to 1e21, beyond as `1e+21` and `1e-7` (strconv pads the exponent to two digits,
/// encoding/json takes the padding off negative ones).
fn json_number(number: &Number) -> String {
    let Some(float) = number.as_f64().filter(|_| number.is_f64()) else {
        return number.to_string();
    };
    let decimal = Decimal::of(float);
    if float == 0.0 || (-6..21).contains(&decimal.exponent) {
        decimal.fixed()
    } else {
        let scientific = decimal.scientific();
        match scientific.split_once("e-0") {
            Some((mantissa, digit)) => format!("{mantissa}e-{digit}"),
            None => scientific,
        }
    }
}

/// A JSON string as encoding/json writes it, escaping `<`, `>`, `&`, U+2028 and U+2029 too.
pub fn go_json_string(text: &str) -> String {
    Value::String(text.to_owned())
        .to_string()
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
        .replace('\u{2028}', "\\u2028")
        .replace('\u{2029}', "\\u2029")
}

/// A finite float as strconv's shortest formatting sees it: the fewest significant digits that
/// read back as the value, and the decimal exponent of the first one (1234.5 is `12345`, 3).
struct Decimal {
    negative: bool,
    digits: String,
    exponent: i32,
}

impl Decimal {
    fn of(value: f64) -> Self {
        // `{:e}` writes the shortest round-tripping digits: `1.2345e3`.
        let scientific = format!("{:e}", value.abs());
        let (mantissa, exponent) = scientific.split_once('e').unwrap_or((&scientific, "0"));
        Decimal {
            negative: value.is_sign_negative(),
            digits: mantissa.chars().filter(char::is_ascii_digit).collect(),
            exponent: exponent.parse().unwrap_or(0),
        }
    }

    fn sign(&self) -> &'static str {
        if self.negative { "-" } else { "" }
    }

    /// strconv's `'f'` with the shortest precision: `1234.5`, `0.0001`, `1000`.
    fn fixed(&self) -> String {
        let point = self.exponent + 1;
        let body = if point <= 0 {
            format!("0.{}{}", "0".repeat(point.unsigned_abs() as usize), self.digits)
        } else if point as usize >= self.digits.len() {
            format!("{}{}", self.digits, "0".repeat(point as usize - self.digits.len()))
        } else {
            let (whole, fraction) = self.digits.split_at(point as usize);
            format!("{whole}.{fraction}")
        };
        format!("{}{body}", self.sign())
    }

    /// strconv's `'e'` with the shortest precision: `1.2345e+03`, `1e-05`.
    fn scientific(&self) -> String {
        let (first, rest) = self.digits.split_at(1);
        let fraction = if rest.is_empty() {
            String::new()
        } else {
            format!(".{rest}")
        };
        let exponent_sign = if self.exponent < 0 { '-' } else { '+' };
        format!(
            "{}{first}{fraction}e{exponent_sign}{:02}",
            self.sign(),
            self.exponent.unsigned_abs()
        )
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn quote_escapes_as_strconv_does() {
        assert_eq!(go_quote("a\"b\\c\n\u{1}é"), r#""a\"b\\c\n\x01é""#);
        assert_eq!(go_quote("\u{7}\u{8}\u{b}\u{c}\u{7f}"), r#""\a\b\v\f\x7f""#);
        assert_eq!(
            go_quote("\u{a0}\u{ad}\u{200b}\u{2028}"),
            r#""\u00a0\u00ad\u200b\u2028""#
        );
        assert_eq!(go_quote("\u{e000}\u{10ffff}"), r#""\ue000\U0010ffff""#);
        assert_eq!(go_quote("日本 ✓ 😀"), "\"日本 ✓ 😀\"");
    }

    #[test]
    fn floats_print_as_percent_v() {
        assert_eq!(go_float(3600.0), "3600");
        assert_eq!(go_float(0.25), "0.25");
        assert_eq!(go_float(123456.0), "123456");
        assert_eq!(go_float(1_000_000.0), "1e+06");
        assert_eq!(go_float(1234567.5), "1.2345675e+06");
        assert_eq!(go_float(0.0001), "0.0001");
        assert_eq!(go_float(0.00001), "1e-05");
        assert_eq!(go_float(-2.5), "-2.5");
        assert_eq!(go_float(0.0), "0");
        assert_eq!(go_float(-0.0), "-0");
        assert_eq!(go_float(1e100), "1e+100");
        assert_eq!(go_float(f64::INFINITY), "+Inf");
    }

    #[test]
    fn decoded_json_prints_as_percent_v_and_percent_sharp_v() {
        assert_eq!(
            go_print(&json!({"b": [1, 2.5, null], "a": {"c": "x y", "d": true}})),
            "map[a:map[c:x y d:true] b:[1 2.5 <nil>]]"
        );
        assert_eq!(
            go_sharp_v(&json!({"b": [1, "x", null], "a": 1.5})),
            r#"map[string]interface {}{"a":1.5, "b":[]interface {}{1, "x", interface {}(nil)}}"#
        );
    }

    #[test]
    fn numbers_are_written_as_go_writes_them() {
        assert_eq!(
            go_json(&json!([2.0, 1.5, 3, 1e21, 1.5e-7, 2e-10, -0.25])),
            "[2,1.5,3,1e+21,1.5e-7,2e-10,-0.25]"
        );
        assert_eq!(
            go_json(&json!({"b": "<&>", "a": 1})),
            r#"{"a":1,"b":"\u003c\u0026\u003e"}"#
        );
        assert_eq!(
            go_json(&json!([0.000001, 1e20, -0.0])),
            "[0.000001,100000000000000000000,-0]"
        );
    }
}

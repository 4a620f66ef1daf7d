//! `x-kubernetes-validations`: the CEL rules of a CRD schema, evaluated as the
//! apiextensions-apiserver does: `self` is the value at the rule's node (typed by
//! the schema, property names escaped), `oldSelf` the stored value on update,
//! transition rules skipped without one, unchanged values ratcheted.
//!
//! The `cel` crate does no type checking, so mistakes the real server catches
//! when the CRD is written (an undefined field, a non-bool rule) surface here
//! when a rule runs, as the Invalid errors of a failed or broken rule.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock};

use cel::extractors::This;
use cel::objects::OptionalValue;
use cel::{Context, Env, ExecutionError, Value as CelValue};
use serde_json::{Map, Value};

use crate::go_format::go_float;
use crate::schema::{FieldError, Path, Schema, cached_regex, correlate_field, correlate_item, unchanged};

/// Longest message a `messageExpression` may produce.
const MAX_MESSAGE_EXPRESSION_BYTES: usize = 5 * 1024;

/// CEL's reserved words, which property names are escaped away from.
const RESERVED: &[&str] = &[
    "true",
    "false",
    "null",
    "in",
    "as",
    "break",
    "const",
    "continue",
    "else",
    "for",
    "function",
    "if",
    "import",
    "let",
    "loop",
    "package",
    "namespace",
    "return",
    "var",
    "void",
    "while",
];

/// Errors of every rule in the object, each node's rules before its children's.
pub(crate) fn validate(root: Schema, obj: &Value, old: Option<&Value>) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let ratchet = old.is_some_and(|old| unchanged(Some(root), obj, old));
    let node = Node {
        schema: root,
        value: obj,
        old,
        resource_root: true,
        ratchet,
    };
    node.validate(&Path::default(), &mut errors);
    errors
}

/// A value with its schema, and what the update did to it.
struct Node<'a> {
    schema: Schema<'a>,
    value: &'a Value,
    /// The stored value this one replaces, when the schema can tell.
    old: Option<&'a Value>,
    /// The root of the resource or of an embedded resource, which exposes
    /// apiVersion, kind and metadata.name/generateName to CEL.
    resource_root: bool,
    /// Whether the nearest value that has an old counterpart is unchanged: rule
    /// failures here are then forgiven, as the server's ratcheting does.
    ratchet: bool,
}

impl<'a> Node<'a> {
    fn child(&self, schema: Schema<'a>, value: &'a Value, old: Option<&'a Value>) -> Node<'a> {
        let ratchet = match old {
            Some(old) => unchanged(Some(schema), value, old),
            None => self.ratchet,
        };
        Node {
            schema,
            value,
            old,
            resource_root: schema.embedded_resource(),
            ratchet,
        }
    }

    fn validate(&self, path: &Path, errors: &mut Vec<FieldError>) {
        if self.value.is_null() {
            return;
        }
        self.validate_rules(path, errors);
        match self.value {
            Value::Array(items) => {
                let Some(item_schema) = self.schema.items() else {
                    return;
                };
                for (index, item) in items.iter().enumerate() {
                    let old = correlate_item(self.schema, self.old, item);
                    self.child(item_schema, item, old).validate(&path.index(index), errors);
                }
            }
            Value::Object(fields) => {
                let mut keys: Vec<&String> = fields.keys().collect();
                keys.sort();
                if let Some(map_value) = self.schema.additional_schema() {
                    for key in &keys {
                        let old = correlate_field(self.schema, self.old, key);
                        self.child(map_value, &fields[*key], old)
                            .validate(&path.key(key), errors);
                    }
                }
                for key in &keys {
                    let Some(property) = self.schema.property(key) else {
                        continue;
                    };
                    let old = correlate_field(self.schema, self.old, key);
                    let mut child = self.child(property, &fields[*key], old);
                    // The server cannot ratchet apiVersion and kind: both sides
                    // went through the same conversion.
                    if path.is_root() && (*key == "apiVersion" || *key == "kind") {
                        child.ratchet = false;
                    }
                    child.validate(&path.child(key), errors);
                }
            }
            _ => {}
        }
    }

    fn validate_rules(&self, path: &Path, errors: &mut Vec<FieldError>) {
        let rules = self.schema.validations();
        if rules.is_empty() {
            return;
        }
        // The bad value of every rule error is the type of the node.
        let node_type = || Value::from(self.schema.type_name());
        let env = match ENV.as_ref() {
            Ok(env) => env,
            Err(e) => {
                let detail = format!("rule compiler initialization error: {e}");
                errors.push(FieldError::invalid(path.field_path(), node_type(), detail));
                return;
            }
        };
        if !has_cel_type(self.schema) {
            let detail = "rule compiler initialization error: failed to convert to declType for CEL validation rules";
            errors.push(FieldError::invalid(path.field_path(), node_type(), detail));
            return;
        }
        let this = to_cel(self.schema, self.value, self.resource_root);
        let old = self
            .old
            .filter(|old| !old.is_null())
            .map(|old| to_cel(self.schema, old, self.resource_root));
        for rule in rules {
            let rule = Rule::new(rule);
            if rule.expression.trim().is_empty() {
                continue;
            }
            let program = match env.compile(rule.expression) {
                Ok(program) => program,
                Err(e) => {
                    let detail = format!("rule compile error: compilation failed: {e}");
                    errors.push(FieldError::invalid(path.field_path(), node_type(), detail));
                    continue;
                }
            };
            let uses_old_self = program.references().has_variable("oldSelf");
            // Transition rules need something to compare with.
            if uses_old_self && old.is_none() && !rule.optional_old_self {
                continue;
            }
            let mut context = new_context(env);
            context.add_variable_from_value("self", this.clone());
            if rule.optional_old_self {
                let optional = old.clone().map_or_else(OptionalValue::none, OptionalValue::of);
                context.add_variable_from_value("oldSelf", CelValue::Opaque(Arc::new(optional)));
            } else if let Some(old) = &old {
                context.add_variable_from_value("oldSelf", old.clone());
            }
            match program.execute(&context) {
                Ok(CelValue::Bool(true)) => {}
                Ok(CelValue::Bool(false)) => {
                    let error = rule.failure(env, &context, self.schema, path, node_type());
                    if uses_old_self || !self.ratchet {
                        errors.push(error);
                    }
                }
                Ok(_) => {
                    let detail = "rule compile error: cel expression must evaluate to a bool";
                    errors.push(FieldError::invalid(path.field_path(), node_type(), detail));
                }
                Err(e) => {
                    errors.push(FieldError::invalid(
                        path.field_path(),
                        node_type(),
                        rule.evaluation_error(&e),
                    ));
                }
            }
        }
    }
}

/// One entry of `x-kubernetes-validations`.
struct Rule<'a> {
    expression: &'a str,
    message: &'a str,
    message_expression: &'a str,
    reason: &'a str,
    field_path: &'a str,
    optional_old_self: bool,
}

impl<'a> Rule<'a> {
    fn new(rule: &'a Value) -> Self {
        let text = |key: &str| rule.get(key).and_then(Value::as_str).unwrap_or("");
        Rule {
            expression: text("rule"),
            message: text("message"),
            message_expression: text("messageExpression"),
            reason: text("reason"),
            field_path: text("fieldPath"),
            optional_old_self: rule.get("optionalOldSelf").and_then(Value::as_bool).unwrap_or(false),
        }
    }

    /// How messages name the rule: its message if it has one.
    fn name(&self) -> &'a str {
        if self.message.is_empty() {
            self.expression.trim()
        } else {
            self.message.trim()
        }
    }

    fn message_or_default(&self) -> String {
        if self.message.is_empty() {
            format!("failed rule: {}", self.name())
        } else {
            self.message.trim().to_owned()
        }
    }

    /// The `messageExpression`'s message, if it yields a usable one; the server
    /// falls back to `message` otherwise.
    fn evaluated_message(&self, env: &Env, context: &Context) -> Option<String> {
        if self.message_expression.is_empty() {
            return None;
        }
        let program = env.compile(self.message_expression).ok()?;
        let CelValue::String(message) = program.execute(context).ok()? else {
            return None;
        };
        let message = message.trim();
        let usable = !message.is_empty() && !message.contains('\n') && message.len() <= MAX_MESSAGE_EXPRESSION_BYTES;
        usable.then(|| message.to_owned())
    }

    /// The error of a rule that evaluated to false, at its `fieldPath` if that
    /// names a field of the node, with its `reason`.
    fn failure(&self, env: &Env, context: &Context, schema: Schema, path: &Path, node_type: Value) -> FieldError {
        let detail = self
            .evaluated_message(env, context)
            .unwrap_or_else(|| self.message_or_default());
        let path = if self.field_path.is_empty() {
            path.clone()
        } else {
            rule_field_path(self.field_path, schema, path).unwrap_or_else(|| path.clone())
        };
        let field = path.field_path();
        match self.reason {
            "FieldValueForbidden" => FieldError::forbidden(field, detail),
            "FieldValueRequired" => FieldError::required(field, detail),
            "FieldValueDuplicate" => FieldError::duplicate(field, node_type),
            _ => FieldError::invalid(field, node_type, detail),
        }
    }

    /// The detail of a rule that could not be evaluated, worded as cel-go's errors.
    fn evaluation_error(&self, error: &ExecutionError) -> String {
        let cause = match error {
            ExecutionError::NoSuchOverload(_)
            | ExecutionError::UnsupportedBinaryOperator(..)
            | ExecutionError::ValuesNotComparable(..)
            | ExecutionError::NotSupportedAsMethod { .. } => {
                return format!(
                    "'no such overload': call arguments did not match a supported operator, function or macro signature for rule: {}",
                    self.name()
                );
            }
            ExecutionError::NoSuchKey(key) => format!("no such key: {key}"),
            ExecutionError::DivisionByZero(_) => "division by zero".to_owned(),
            ExecutionError::RemainderByZero(_) => "modulus by zero".to_owned(),
            ExecutionError::Overflow(..) => "integer overflow".to_owned(),
            ExecutionError::IndexOutOfBounds(index) => {
                format!("index out of bounds: {}", cel_display(index))
            }
            other => other.to_string(),
        };
        format!("{cause} evaluating rule: {}", self.name())
    }
}

fn cel_display(value: &CelValue) -> String {
    match value {
        CelValue::Int(i) => i.to_string(),
        CelValue::UInt(u) => u.to_string(),
        CelValue::Float(f) => go_float(*f),
        CelValue::String(s) => s.to_string(),
        other => format!("{other:?}"),
    }
}

/// A rule's `fieldPath` (`.spec.name`, `.tags['team']`) resolved against the
/// node's schema and appended to `path`; `None` if it names no field.
fn rule_field_path(field_path: &str, schema: Schema, path: &Path) -> Option<Path> {
    let mut path = path.clone();
    let mut schema = schema;
    let mut rest = field_path;
    while !rest.is_empty() {
        let name = if let Some(after) = rest.strip_prefix('.') {
            let end = after.find(['.', '[']).unwrap_or(after.len());
            rest = &after[end..];
            after[..end].to_owned()
        } else if let Some(after) = rest.strip_prefix("['") {
            let end = quoted_end(after)?;
            rest = after[end + 1..].strip_prefix(']')?;
            unescape_single_quoted(&after[..end])?
        } else {
            return None;
        };
        if schema.properties().is_some() {
            schema = schema.property(&name)?;
            path = path.child(&name);
        } else {
            schema = schema.additional_schema()?;
            path = path.key(&name);
        }
    }
    Some(path)
}

/// Where the single-quoted string that `text` starts inside ends.
fn quoted_end(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    (0..bytes.len()).find(|&i| bytes[i] == b'\'' && (i == 0 || bytes[i - 1] != b'\\'))
}

fn unescape_single_quoted(text: &str) -> Option<String> {
    let mut out = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        out.push(match chars.next()? {
            'a' => '\u{7}',
            'b' => '\u{8}',
            'f' => '\u{c}',
            'n' => '\n',
            'r' => '\r',
            't' => '\t',
            'v' => '\u{b}',
            '\'' => '\'',
            '\\' => '\\',
            _ => return None,
        });
    }
    Some(out)
}

// ---------------------------------------------------------------------------
// The CEL environment

/// The standard library with the extensions Kubernetes enables that the `cel`
/// crate has: strings (`lowerAscii`, `split`, `indexOf`, ...) and lists.
/// One of an admission webhook's `matchConditions` against the request's variables (`object`,
/// `oldObject`, `request`), untyped as the JSON is: whether it holds, or why it could not say.
pub(crate) fn evaluate_match_condition(expression: &str, variables: &[(&str, &Value)]) -> Result<bool, String> {
    let env = ENV.as_ref().map_err(Clone::clone)?;
    let program = env
        .compile(expression)
        .map_err(|e| format!("compilation failed: {e}"))?;
    let mut context = new_context(env);
    for (name, value) in variables {
        context.add_variable_from_value(*name, untyped_to_cel(value));
    }
    match program.execute(&context) {
        Ok(CelValue::Bool(holds)) => Ok(holds),
        Ok(_) => Err(format!(
            "expression {} must evaluate to bool",
            crate::go_format::go_quote(expression)
        )),
        Err(e) => Err(format!(
            "expression {} resulted in error: {e}",
            crate::go_format::go_quote(expression)
        )),
    }
}

static ENV: LazyLock<Result<Arc<Env>, String>> = LazyLock::new(|| {
    let mut env = Env::stdlib();
    env.add_extension(cel::extensions::strings).map_err(|e| e.to_string())?;
    env.add_extension(cel::extensions::lists).map_err(|e| e.to_string())?;
    Ok(Arc::new(env))
});

/// A context with the parts of Kubernetes' list and regex libraries that the
/// crate lacks.
fn new_context(env: &Arc<Env>) -> Context<'static, 'static> {
    let mut context = Context::with_env(Arc::clone(env));
    // Only names the environment leaves free are added; a clash would just leave
    // the function out.
    let _ = context.add_function("isSorted", is_sorted);
    let _ = context.add_function("sum", sum);
    let _ = context.add_function("min", min);
    let _ = context.add_function("max", max);
    let _ = context.add_function("find", find);
    let _ = context.add_function("findAll", find_all);
    context
}

fn is_sorted(This(list): This<Arc<Vec<CelValue>>>) -> bool {
    list.windows(2).all(|pair| pair[0] <= pair[1])
}

fn sum(This(list): This<Arc<Vec<CelValue>>>) -> Result<CelValue, ExecutionError> {
    let Some(first) = list.first() else {
        return Ok(CelValue::Int(0));
    };
    let zero = match first {
        CelValue::Float(_) => CelValue::Float(0.0),
        CelValue::UInt(_) => CelValue::UInt(0),
        _ => CelValue::Int(0),
    };
    list.iter().try_fold(zero, |total, item| match (total, item) {
        (CelValue::Int(a), CelValue::Int(b)) => a
            .checked_add(*b)
            .map(CelValue::Int)
            .ok_or_else(|| ExecutionError::function_error("sum", "integer overflow")),
        (CelValue::UInt(a), CelValue::UInt(b)) => a
            .checked_add(*b)
            .map(CelValue::UInt)
            .ok_or_else(|| ExecutionError::function_error("sum", "integer overflow")),
        (CelValue::Float(a), CelValue::Float(b)) => Ok(CelValue::Float(a + b)),
        (_, item) => Err(ExecutionError::function_error("sum", format!("cannot add {item:?}"))),
    })
}

fn extreme(name: &str, list: &[CelValue], better: std::cmp::Ordering) -> Result<CelValue, ExecutionError> {
    let mut items = list.iter();
    let first = items
        .next()
        .ok_or_else(|| ExecutionError::function_error(name, format!("{name}(list) argument must not be empty")))?;
    Ok(items
        .fold(first, |best, item| {
            if item.partial_cmp(best) == Some(better) {
                item
            } else {
                best
            }
        })
        .clone())
}

fn min(This(list): This<Arc<Vec<CelValue>>>) -> Result<CelValue, ExecutionError> {
    extreme("min", &list, std::cmp::Ordering::Less)
}

fn max(This(list): This<Arc<Vec<CelValue>>>) -> Result<CelValue, ExecutionError> {
    extreme("max", &list, std::cmp::Ordering::Greater)
}

fn find(This(text): This<Arc<String>>, pattern: Arc<String>) -> Result<CelValue, ExecutionError> {
    let re = cached_regex(&pattern).map_err(|e| ExecutionError::function_error("find", e))?;
    Ok(CelValue::from(re.find(&text).map_or("", |m| m.as_str())))
}

fn find_all(This(text): This<Arc<String>>, pattern: Arc<String>) -> Result<CelValue, ExecutionError> {
    let re = cached_regex(&pattern).map_err(|e| ExecutionError::function_error("findAll", e))?;
    let found = re.find_iter(&text).map(|m| CelValue::from(m.as_str())).collect();
    Ok(CelValue::List(Arc::new(found)))
}

// ---------------------------------------------------------------------------
// JSON to CEL values, typed by the schema

/// Whether CEL can see values of this schema at all: untyped nodes (without
/// `x-kubernetes-int-or-string`) are left out of `self`.
fn has_cel_type(schema: Schema) -> bool {
    schema.int_or_string() || !schema.type_name().is_empty()
}

/// A property name as CEL sees it (`foo-bar` is `foo__dash__bar`, `namespace` is
/// `__namespace__`); `None` for names it cannot see.
fn escape(name: &str) -> Option<String> {
    let first = name.chars().next()?;
    if first.is_ascii_digit() {
        return None;
    }
    if RESERVED.contains(&name) {
        return Some(format!("__{name}__"));
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '/'))
    {
        return None;
    }
    Some(
        name.replace("__", "__underscores__")
            .replace('.', "__dot__")
            .replace('-', "__dash__")
            .replace('/', "__slash__"),
    )
}

fn to_cel(schema: Schema, value: &Value, resource_root: bool) -> CelValue {
    if schema.int_or_string() {
        return untyped_to_cel(value);
    }
    match (schema.type_name(), value) {
        ("object", Value::Object(fields)) => object_to_cel(schema, fields, resource_root),
        ("array", Value::Array(items)) => {
            let converted = items
                .iter()
                .map(|item| match schema.items() {
                    Some(item_schema) => to_cel(item_schema, item, item_schema.embedded_resource()),
                    None => untyped_to_cel(item),
                })
                .collect();
            CelValue::List(Arc::new(converted))
        }
        ("string", Value::String(text)) if schema.format() == "byte" => {
            use base64::Engine as _;
            match base64::engine::general_purpose::STANDARD.decode(text) {
                Ok(bytes) => CelValue::Bytes(Arc::new(bytes)),
                Err(_) => CelValue::from(text.as_str()),
            }
        }
        ("number", Value::Number(n)) => CelValue::Float(n.as_f64().unwrap_or(f64::NAN)),
        _ => untyped_to_cel(value),
    }
}

fn object_to_cel(schema: Schema, fields: &Map<String, Value>, resource_root: bool) -> CelValue {
    if let Some(map_value) = schema.additional_schema() {
        let entries: HashMap<String, CelValue> = fields
            .iter()
            .map(|(k, v)| (k.clone(), to_cel(map_value, v, map_value.embedded_resource())))
            .collect();
        return CelValue::from(entries);
    }
    // A resource's apiVersion, kind, metadata.name and metadata.generateName are
    // visible even where the schema leaves them out.
    let exposes_type_meta = resource_root && !declares_type_and_object_meta(schema);
    let mut entries = HashMap::new();
    for (key, v) in fields {
        if exposes_type_meta && matches!(key.as_str(), "apiVersion" | "kind" | "metadata") {
            let exposed = if key == "metadata" {
                let names: HashMap<String, CelValue> = ["name", "generateName"]
                    .into_iter()
                    .filter_map(|k| Some((k.to_owned(), untyped_to_cel(v.get(k)?))))
                    .collect();
                CelValue::from(names)
            } else {
                untyped_to_cel(v)
            };
            entries.insert(key.clone(), exposed);
            continue;
        }
        let Some(property) = schema.property(key).filter(|p| has_cel_type(*p)) else {
            continue;
        };
        if let Some(name) = escape(key) {
            entries.insert(name, to_cel(property, v, property.embedded_resource()));
        }
    }
    CelValue::from(entries)
}

fn declares_type_and_object_meta(schema: Schema) -> bool {
    let is = |s: Option<Schema>, t: &str| s.is_some_and(|s| s.type_name() == t);
    let metadata = schema.property("metadata");
    is(schema.property("kind"), "string")
        && is(schema.property("apiVersion"), "string")
        && is(metadata, "object")
        && is(metadata.and_then(|m| m.property("name")), "string")
        && is(metadata.and_then(|m| m.property("generateName")), "string")
}

/// JSON as CEL sees it without a schema: integers as `int`, other numbers as
/// `double`.
fn untyped_to_cel(value: &Value) -> CelValue {
    match value {
        Value::Null => CelValue::Null,
        Value::Bool(b) => CelValue::Bool(*b),
        Value::Number(n) => match n.as_i64() {
            Some(i) => CelValue::Int(i),
            None => CelValue::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        Value::String(text) => CelValue::from(text.as_str()),
        Value::Array(items) => CelValue::List(Arc::new(items.iter().map(untyped_to_cel).collect())),
        Value::Object(fields) => {
            let entries: HashMap<String, CelValue> =
                fields.iter().map(|(k, v)| (k.clone(), untyped_to_cel(v))).collect();
            CelValue::from(entries)
        }
    }
}

#[cfg(test)]
mod tests {
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

    #[test]
    fn escaping_follows_kubernetes() {
        assert_eq!(super::escape("namespace").as_deref(), Some("__namespace__"));
        assert_eq!(
            super::escape("foo-bar.baz/qux").as_deref(),
            Some("foo__dash__bar__dot__baz__slash__qux")
        );
        assert_eq!(super::escape("a__b").as_deref(), Some("a__underscores__b"));
        assert_eq!(super::escape("plain_name1").as_deref(), Some("plain_name1"));
        assert_eq!(super::escape("1st"), None);
        assert_eq!(super::escape("a b"), None);
    }
}

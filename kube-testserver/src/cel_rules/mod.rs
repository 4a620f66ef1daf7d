//! `x-kubernetes-validations`: the CEL rules of a CRD schema, evaluated as the
//! apiextensions-apiserver does: `self` is the value at the rule's node (typed by
//! the schema, property names escaped), `oldSelf` the stored value on update,
//! transition rules skipped without one, unchanged values ratcheted.
//!
//! The `cel` crate does no type checking, so mistakes the real server catches
//! when the CRD is written (an undefined field, a non-bool rule) surface here
//! when a rule runs, as the Invalid errors of a failed or broken rule.
//!
//! The CEL environment is built in `library`, JSON made CEL values in `values`.

use std::cell::OnceCell;
use std::sync::Arc;

use cel::objects::OptionalValue;
use cel::{Context, Env, ExecutionError, Value as CelValue};
use serde_json::Value;

use crate::go_format::go_float;
use crate::schema::{FieldError, Path, Schema, correlate_field, correlate_item, unchanged};

use library::{ENV, new_context};
use programs::CompiledRule;
use values::{has_cel_type, to_cel};

mod library;
mod programs;
#[cfg(test)]
mod tests;
mod values;

pub(crate) use library::evaluate_match_condition;
pub use programs::Programs;

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

/// Errors of every rule in the object, each node's rules before its children's. `programs`
/// holds what the schema's expressions compile to.
pub(crate) fn validate(root: Schema, programs: &Programs, obj: &Value, old: Option<&Value>) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let ratchet = old.is_some_and(|old| unchanged(Some(root), obj, old));
    let node = Node {
        programs,
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
    programs: &'a Programs,
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
            programs: self.programs,
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
        let env = match ENV.as_ref() {
            Ok(env) => env,
            Err(e) => {
                let detail = format!("rule compiler initialization error: {e}");
                errors.push(FieldError::invalid(path.field_path(), self.node_type(), detail));
                return;
            }
        };
        if !has_cel_type(self.schema) {
            let detail = "rule compiler initialization error: failed to convert to declType for CEL validation rules";
            errors.push(FieldError::invalid(path.field_path(), self.node_type(), detail));
            return;
        }
        let this = to_cel(self.schema, self.value, self.resource_root);
        // Only rules that may read `oldSelf` need the old value converted.
        let old = OnceCell::new();
        let old = || {
            old.get_or_init(|| {
                self.old
                    .filter(|old| !old.is_null())
                    .map(|old| to_cel(self.schema, old, self.resource_root))
            })
        };
        for rule in rules {
            let rule = Rule::new(rule);
            if rule.expression.trim().is_empty() {
                continue;
            }
            let compiled = self.programs.compiled(env, rule.expression);
            let compiled = match compiled.as_ref() {
                Ok(compiled) => compiled,
                Err(e) => {
                    let detail = format!("rule compile error: compilation failed: {e}");
                    errors.push(FieldError::invalid(path.field_path(), self.node_type(), detail));
                    continue;
                }
            };
            // A rule's message expression may read `oldSelf` even when the rule does not.
            let reads_old = compiled.uses_old_self || rule.optional_old_self || !rule.message_expression.is_empty();
            let old = if reads_old { old().as_ref() } else { None };
            // Transition rules need something to compare with.
            if compiled.uses_old_self && old.is_none() && !rule.optional_old_self {
                continue;
            }
            errors.extend(self.run(env, &rule, compiled, &this, old, path));
        }
    }

    /// The error of one compiled rule on this node, if it has one that counts.
    fn run(
        &self,
        env: &Arc<Env>,
        rule: &Rule,
        compiled: &CompiledRule,
        this: &CelValue,
        old: Option<&CelValue>,
        path: &Path,
    ) -> Option<FieldError> {
        let mut context = new_context(env);
        context.add_variable_from_value("self", this.clone());
        if rule.optional_old_self {
            let optional = old.cloned().map_or_else(OptionalValue::none, OptionalValue::of);
            context.add_variable_from_value("oldSelf", CelValue::Opaque(Arc::new(optional)));
        } else if let Some(old) = old {
            context.add_variable_from_value("oldSelf", old.clone());
        }
        match compiled.program.execute(&context) {
            Ok(CelValue::Bool(true)) => None,
            Ok(CelValue::Bool(false)) => {
                let error = rule.failure(env, self.programs, &context, self.schema, path, self.node_type());
                (compiled.uses_old_self || !self.ratchet).then_some(error)
            }
            Ok(_) => {
                let detail = "rule compile error: cel expression must evaluate to a bool";
                Some(FieldError::invalid(path.field_path(), self.node_type(), detail))
            }
            Err(e) => Some(FieldError::invalid(
                path.field_path(),
                self.node_type(),
                rule.evaluation_error(&e),
            )),
        }
    }

    /// The bad value of every rule error: the type of the node.
    fn node_type(&self) -> Value {
        Value::from(self.schema.type_name())
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
    fn evaluated_message(&self, env: &Env, programs: &Programs, context: &Context) -> Option<String> {
        if self.message_expression.is_empty() {
            return None;
        }
        let compiled = programs.compiled(env, self.message_expression);
        let CelValue::String(message) = compiled.as_ref().as_ref().ok()?.program.execute(context).ok()? else {
            return None;
        };
        let message = message.trim();
        let usable = !message.is_empty() && !message.contains('\n') && message.len() <= MAX_MESSAGE_EXPRESSION_BYTES;
        usable.then(|| message.to_owned())
    }

    /// The error of a rule that evaluated to false, at its `fieldPath` if that
    /// names a field of the node, with its `reason`.
    fn failure(
        &self,
        env: &Env,
        programs: &Programs,
        context: &Context,
        schema: Schema,
        path: &Path,
        node_type: Value,
    ) -> FieldError {
        let detail = self
            .evaluated_message(env, programs, context)
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

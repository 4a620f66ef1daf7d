//! The CEL environment: the standard library with the extensions Kubernetes enables.

use std::sync::{Arc, LazyLock};

use cel::extractors::This;
use cel::{Context, Env, ExecutionError, Value as CelValue};
use serde_json::Value;

use crate::schema::cached_regex;

use super::values::untyped_to_cel;

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

pub(super) static ENV: LazyLock<Result<Arc<Env>, String>> = LazyLock::new(|| {
    let mut env = Env::stdlib();
    env.add_extension(cel::extensions::strings).map_err(|e| e.to_string())?;
    env.add_extension(cel::extensions::lists).map_err(|e| e.to_string())?;
    Ok(Arc::new(env))
});

/// A context with the parts of Kubernetes' list and regex libraries that the
/// crate lacks.
pub(super) fn new_context(env: &Arc<Env>) -> Context<'static, 'static> {
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

//! The merging of list fields: by merge key, as sets, by `$patch` directives and
//! `$setElementOrder`, in the order strategicpatch leaves them.

use serde_json::Value;

use crate::go_format::go_print;

use super::{DIRECTIVE, Fields, JsonKind, ListStrategy, bad_arg_type, element_kind, merge_key_value, merge_map};

/// A list field: merged when its strategy says so (or for a deletion list), replaced otherwise.
pub(super) fn merge_list(
    current: Vec<Value>,
    patch: Vec<Value>,
    strategy: ListStrategy,
    is_delete_list: bool,
) -> Result<Vec<Value>, String> {
    if !strategy.merge && !is_delete_list {
        return Ok(patch);
    }
    if current.is_empty() && patch.is_empty() {
        return Ok(current);
    }
    let items_are_maps = element_kind(&[&current, &patch])? == JsonKind::Object;
    let (current, patch, merged) = if items_are_maps {
        let key = strategy.merge_key.ok_or("cannot merge lists without merge key")?;
        let (current, patch) = apply_item_directives(current, patch, key)?;
        let merged = merge_items_by_key(current.clone(), &patch, key, strategy.items)?;
        (current, patch, merged)
    } else {
        if is_delete_list {
            return Ok(current.into_iter().filter(|item| !patch.contains(item)).collect());
        }
        let both = current.iter().chain(&patch).cloned().collect();
        (current, patch, deduplicate_scalars(both))
    };
    let (in_patch, server_only) = partition(merged, &patch, strategy.merge_key)?;
    order_items(
        in_patch,
        server_only,
        &patch,
        &current,
        strategy.merge_key,
        items_are_maps,
    )
}

/// Handles `$patch` items of a map list: `delete` removes the original items with that key,
/// `replace` makes the patch's other items the whole list.
fn apply_item_directives(
    mut current: Vec<Value>,
    patch: Vec<Value>,
    key: &str,
) -> Result<(Vec<Value>, Vec<Value>), String> {
    let mut plain = Vec::new();
    let mut replace = false;
    for item in patch {
        let Some(directive) = item.get(DIRECTIVE) else {
            plain.push(item);
            continue;
        };
        match directive.as_str() {
            Some("delete") => {
                let value = merge_key_value(&item, key)?;
                ensure_all_maps(&current)?;
                current.retain(|candidate| candidate.get(key) != Some(value));
            }
            Some("replace") => replace = true,
            Some("merge") => {
                return Err("merging lists cannot yet be specified in the patch".to_owned());
            }
            _ => {
                return Err(format!(
                    "unknown patch type: {} in map: {}",
                    go_print(directive),
                    go_print(&item)
                ));
            }
        }
    }
    Ok(if replace { (plain, Vec::new()) } else { (current, plain) })
}

/// Merges each patch item into the original item with the same key, appending new ones.
fn merge_items_by_key(
    mut current: Vec<Value>,
    patch: &[Value],
    key: &str,
    fields: Fields,
) -> Result<Vec<Value>, String> {
    for item in patch {
        let value = merge_key_value(item, key)?;
        match position_by_key(&current, key, value)? {
            Some(index) => {
                let (Value::Object(current_fields), Value::Object(patch_fields)) =
                    (std::mem::take(&mut current[index]), item.clone())
                else {
                    return Err(bad_arg_type("map[string]interface {}", item));
                };
                current[index] = Value::Object(merge_map(current_fields, patch_fields, fields)?);
            }
            None => current.push(item.clone()),
        }
    }
    Ok(current)
}

fn ensure_all_maps(items: &[Value]) -> Result<(), String> {
    match items.iter().position(|item| !item.is_object()) {
        Some(index) => Err(format!("value for key {index} is not a map")),
        None => Ok(()),
    }
}

fn position_by_key(items: &[Value], key: &str, value: &Value) -> Result<Option<usize>, String> {
    ensure_all_maps(items)?;
    Ok(items.iter().position(|item| item.get(key) == Some(value)))
}

/// strategicpatch's `deduplicateScalars`, whose swaps the later ordering pass evens out.
fn deduplicate_scalars(mut items: Vec<Value>) -> Vec<Value> {
    let mut last = items.len().saturating_sub(1);
    let mut i = 0;
    while i < last {
        let mut j = i + 1;
        while j <= last {
            if items[i] == items[j] {
                items.swap_remove(j);
                last -= 1;
            } else {
                j += 1;
            }
        }
        i += 1;
    }
    items
}

/// Splits `merged` into the items present in `by` and the others.
pub(super) fn partition(
    merged: Vec<Value>,
    by: &[Value],
    merge_key: Option<&str>,
) -> Result<(Vec<Value>, Vec<Value>), String> {
    let mut present = Vec::new();
    let mut absent = Vec::new();
    for item in merged {
        let found = match merge_key {
            None => by.contains(&item),
            Some(key) => position_by_key(by, key, merge_key_value(&item, key)?)?.is_some(),
        };
        if found { present.push(item) } else { absent.push(item) }
    }
    Ok((present, absent))
}

/// strategicpatch's `normalizeElementOrder`: patch items in patch order, server-only items in
/// their original order, interleaved as the original had them.
pub(super) fn order_items(
    in_patch: Vec<Value>,
    server_only: Vec<Value>,
    patch_order: &[Value],
    server_order: &[Value],
    merge_key: Option<&str>,
    items_are_maps: bool,
) -> Result<Vec<Value>, String> {
    let in_patch = sort_by_order(in_patch, patch_order, merge_key, items_are_maps)?;
    let server_only = sort_by_order(server_only, server_order, merge_key, items_are_maps)?;
    let position = |item: &Value| position_in(server_order, item, merge_key, items_are_maps);
    let mut merged = Vec::with_capacity(in_patch.len() + server_only.len());
    let (mut left, mut right) = (server_only.into_iter().peekable(), in_patch.into_iter().peekable());
    loop {
        let take_left = match (left.peek(), right.peek()) {
            (None, None) => break,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (Some(server_item), Some(patch_item)) => {
                matches!((position(server_item), position(patch_item)), (Some(l), Some(r)) if l < r)
            }
        };
        merged.extend(if take_left { left.next() } else { right.next() });
    }
    Ok(merged)
}

/// A stable insertion sort, as Go's `sort.SliceStable` does for short lists, with the same
/// comparison: items missing from `order` count as smaller.
fn sort_by_order(
    items: Vec<Value>,
    order: &[Value],
    merge_key: Option<&str>,
    items_are_maps: bool,
) -> Result<Vec<Value>, String> {
    let (mut items, deletions) = if items_are_maps {
        let key = merge_key.ok_or("cannot merge lists without merge key")?;
        for item in items.iter().chain(order) {
            merge_key_value(item, key)?;
        }
        split_deletions(items)?
    } else {
        (items, Vec::new())
    };
    let less = |a: &Value, b: &Value| match (
        position_in(order, a, merge_key, items_are_maps),
        position_in(order, b, merge_key, items_are_maps),
    ) {
        (Some(a), Some(b)) => a < b,
        _ => true,
    };
    for i in 1..items.len() {
        let mut j = i;
        while j > 0 && less(&items[j], &items[j - 1]) {
            items.swap(j, j - 1);
            j -= 1;
        }
    }
    items.extend(deletions);
    Ok(items)
}

/// Separates `$patch: delete` items from the others.
fn split_deletions(items: Vec<Value>) -> Result<(Vec<Value>, Vec<Value>), String> {
    if let Some(item) = items.iter().find(|item| !item.is_object()) {
        return Err(bad_arg_type("map[string]interface {}", item));
    }
    Ok(items.into_iter().partition(|item| !is_delete_directive(item)))
}

pub(super) fn is_delete_directive(item: &Value) -> bool {
    item.get(DIRECTIVE).and_then(Value::as_str) == Some("delete")
}

/// Where `item` is in `list`: by merge key value for maps, by value otherwise.
fn position_in(list: &[Value], item: &Value, merge_key: Option<&str>, items_are_maps: bool) -> Option<usize> {
    let identity = |candidate: &'_ Value| -> Option<Value> {
        match (items_are_maps, merge_key) {
            (true, Some(key)) => candidate.get(key).cloned(),
            (true, None) => None,
            (false, _) => Some(candidate.clone()),
        }
    };
    let wanted = identity(item);
    list.iter().position(|candidate| identity(candidate) == wanted)
}

/// Drops maps holding a `$patch` directive; `None` when `value` itself is one.
pub(super) fn remove_directives(value: Value) -> Option<Value> {
    match value {
        Value::Object(fields) => {
            if fields.contains_key(DIRECTIVE) {
                return None;
            }
            Some(Value::Object(
                fields
                    .into_iter()
                    .filter_map(|(key, child)| Some((key, remove_directives(child)?)))
                    .collect(),
            ))
        }
        Value::Array(items) => Some(Value::Array(remove_directives_from_list(items))),
        other => Some(other),
    }
}

pub(super) fn remove_directives_from_list(items: Vec<Value>) -> Vec<Value> {
    items.into_iter().filter_map(remove_directives).collect()
}

pub(super) fn discard_nulls(value: &mut Value) {
    match value {
        Value::Object(fields) => {
            fields.retain(|_, child| !child.is_null());
            fields.values_mut().for_each(discard_nulls);
        }
        Value::Array(items) => items.iter_mut().for_each(discard_nulls),
        _ => {}
    }
}

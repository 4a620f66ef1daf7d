//! Walks over values, as structured-merge-diff's typed values do them: comparing two objects,
//! merging an applied configuration into a live one, removing a set of fields.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use serde_json::{Map, Value, json};

use super::field_set::{FieldSet, PathElement};
use super::shape::{ListKind, Shape, item_path_element};

/// What a change added, modified and removed (structured-merge-diff's `Compare`).
#[derive(Debug, Default)]
pub(super) struct Comparison {
    pub(super) added: FieldSet,
    pub(super) modified: FieldSet,
    pub(super) removed: FieldSet,
}

/// What a value is to the comparison walk.
enum Node {
    Absent,
    Map,
    List,
    Leaf,
}

fn node(value: Option<&Value>) -> Node {
    match value {
        None => Node::Absent,
        Some(Value::Object(_)) => Node::Map,
        Some(Value::Array(_)) => Node::List,
        Some(_) => Node::Leaf,
    }
}

impl Comparison {
    pub(super) fn of(old: &Value, new: &Value, shape: Shape) -> Comparison {
        let mut comparison = Comparison::default();
        comparison.walk(Some(old), Some(new), shape, &mut Vec::new());
        comparison
    }

    fn walk(&mut self, old: Option<&Value>, new: Option<&Value>, shape: Shape, path: &mut Vec<PathElement>) {
        match (node(old), node(new)) {
            (Node::Map | Node::Absent, Node::Map | Node::Absent) => {
                let old_fields = old.and_then(Value::as_object);
                let new_fields = new.and_then(Value::as_object);
                let empty = |fields: Option<&Map<String, Value>>| fields.is_none_or(Map::is_empty);
                if shape.map_is_atomic() || (empty(old_fields) && empty(new_fields)) {
                    return self.leaf(old, new, path);
                }
                let new_only = new_fields
                    .into_iter()
                    .flatten()
                    .map(|(key, _)| key)
                    .filter(|key| old_fields.is_none_or(|fields| !fields.contains_key(*key)));
                let keys: Vec<&String> = old_fields.into_iter().flat_map(Map::keys).chain(new_only).collect();
                for key in keys {
                    path.push(PathElement::Field(key.clone()));
                    let old_child = old_fields.and_then(|fields| fields.get(key));
                    let new_child = new_fields.and_then(|fields| fields.get(key));
                    self.walk(old_child, new_child, shape.field(key).0, path);
                    path.pop();
                }
                self.presence(old, new, path);
            }
            (Node::List | Node::Absent, Node::List | Node::Absent) => {
                let old_items = old.and_then(Value::as_array).map_or(&[][..], Vec::as_slice);
                let new_items = new.and_then(Value::as_array).map_or(&[][..], Vec::as_slice);
                let kind = shape.list_kind();
                if kind == ListKind::Atomic || (old_items.is_empty() && new_items.is_empty()) {
                    return self.leaf(old, new, path);
                }
                let item_shape = shape.item();
                let old_groups = group_items(old_items, &kind, item_shape);
                let new_groups = group_items(new_items, &kind, item_shape);
                let new_only = new_groups.keys().filter(|element| !old_groups.contains_key(*element));
                let elements: Vec<&PathElement> = old_groups.keys().chain(new_only).collect();
                for element in elements {
                    let olds = old_groups.get(element).map_or(&[][..], Vec::as_slice);
                    let news = new_groups.get(element).map_or(&[][..], Vec::as_slice);
                    path.push(element.clone());
                    // Repeated items are compared as a whole, as structured-merge-diff does.
                    match (olds, news) {
                        ([_, _, ..], [_, _, ..]) => {
                            if olds != news {
                                self.modified.insert(path);
                            }
                        }
                        ([_, _, ..], _) => {
                            if let Some(new_item) = news.first() {
                                self.walk(None, Some(new_item), item_shape, path);
                            }
                            self.removed.insert(path);
                        }
                        (_, [_, _, ..]) => {
                            if let Some(old_item) = olds.first() {
                                self.walk(Some(old_item), None, item_shape, path);
                            }
                            self.added.insert(path);
                        }
                        _ => self.walk(olds.first().copied(), news.first().copied(), item_shape, path),
                    }
                    path.pop();
                }
                self.presence(old, new, path);
            }
            _ => self.leaf(old, new, path),
        }
    }

    fn leaf(&mut self, old: Option<&Value>, new: Option<&Value>, path: &[PathElement]) {
        match (old, new) {
            (None, Some(_)) => self.added.insert(path),
            (Some(_), None) => self.removed.insert(path),
            (Some(old), Some(new)) if old != new => self.modified.insert(path),
            _ => {}
        }
    }

    fn presence(&mut self, old: Option<&Value>, new: Option<&Value>, path: &[PathElement]) {
        match (old, new) {
            (None, _) => self.added.insert(path),
            (_, None) => self.removed.insert(path),
            _ => {}
        }
    }
}

/// The items of a set or map list by path element.
fn group_items<'v>(items: &'v [Value], kind: &ListKind, item_shape: Shape) -> BTreeMap<PathElement, Vec<&'v Value>> {
    let mut grouped: BTreeMap<PathElement, Vec<&Value>> = BTreeMap::new();
    for item in items {
        if let Some(element) = item_path_element(item, kind, item_shape) {
            grouped.entry(element).or_default().push(item);
        }
    }
    grouped
}

/// Merges an applied configuration into the live object, the configuration winning on leaves.
pub(super) fn merge(live: &Value, applied: &Value, shape: Shape) -> Value {
    match (live, applied) {
        (Value::Object(live_fields), Value::Object(applied_fields)) => merge_maps(live_fields, applied_fields, shape),
        (Value::Array(live_items), Value::Array(applied_items)) => merge_lists(live_items, applied_items, shape),
        // A null is walked as an empty granular map or list, which keeps the live one.
        (Value::Object(live_fields), Value::Null) if !live_fields.is_empty() && !shape.map_is_atomic() => live.clone(),
        (Value::Array(live_items), Value::Null) if !live_items.is_empty() && shape.list_kind() != ListKind::Atomic => {
            live.clone()
        }
        _ => applied.clone(),
    }
}

fn merge_maps(live: &Map<String, Value>, applied: &Map<String, Value>, shape: Shape) -> Value {
    if shape.map_is_atomic() || (live.is_empty() && applied.is_empty()) {
        return Value::Object(applied.clone());
    }
    let mut merged = Map::new();
    for (key, live_value) in live {
        let value = match applied.get(key) {
            Some(applied_value) => merge(live_value, applied_value, shape.field(key).0),
            None => live_value.clone(),
        };
        merged.insert(key.clone(), value);
    }
    for (key, applied_value) in applied {
        if !live.contains_key(key) {
            merged.insert(key.clone(), applied_value.clone());
        }
    }
    Value::Object(merged)
}

/// structured-merge-diff's list merge: items match by path element; live-only items stay where
/// they were, around the applied items, which keep the configuration's order.
fn merge_lists(live: &[Value], applied: &[Value], shape: Shape) -> Value {
    let kind = shape.list_kind();
    if kind == ListKind::Atomic || (live.is_empty() && applied.is_empty()) {
        return Value::Array(applied.to_vec());
    }
    let item_shape = shape.item();
    let elements_of = |items: &'_ [Value]| -> Vec<PathElement> {
        items
            .iter()
            .filter_map(|item| item_path_element(item, &kind, item_shape))
            .collect()
    };
    let live_elements = elements_of(live);
    let applied_elements = elements_of(applied);
    let live_items: Vec<&Value> = live
        .iter()
        .filter(|item| item_path_element(item, &kind, item_shape).is_some())
        .collect();
    // A repeated live element has no single value to merge with: the applied item wins.
    let mut live_by_element: BTreeMap<&PathElement, Option<&Value>> = BTreeMap::new();
    for (element, item) in live_elements.iter().zip(&live_items) {
        live_by_element
            .entry(element)
            .and_modify(|value| *value = None)
            .or_insert(Some(*item));
    }
    let applied_by_element = group_items(applied, &kind, item_shape);
    let merge_item = |element: &PathElement| -> Option<Value> {
        let applied_item = applied_by_element.get(element)?.first()?;
        Some(match live_by_element.get(element).copied().flatten() {
            Some(live_item) => merge(live_item, applied_item, item_shape),
            None => (*applied_item).clone(),
        })
    };

    let mut shared: VecDeque<&PathElement> = applied_elements
        .iter()
        .filter(|element| live_by_element.contains_key(element))
        .collect();
    let mut next_shared = shared.pop_front();
    let mut merged_applied: BTreeSet<&PathElement> = BTreeSet::new();
    let mut merged = Vec::new();
    let (mut live_index, mut applied_index) = (0, 0);
    while live_index < live_elements.len() || applied_index < applied_elements.len() {
        if live_index < live_elements.len() && applied_index < applied_elements.len() {
            let element = &live_elements[live_index];
            if *element == applied_elements[applied_index] {
                merged_applied.insert(element);
                merged.extend(merge_item(element));
                live_index += 1;
                applied_index += 1;
                next_shared = shared.pop_front();
                continue;
            }
            if applied_by_element.contains_key(element) && next_shared.is_some_and(|next| next != element) {
                // A shared item that comes later in the applied order.
                live_index += 1;
                continue;
            }
        }
        if live_index < live_elements.len() {
            let element = &live_elements[live_index];
            if !applied_by_element.contains_key(element) {
                merged.push(live_items[live_index].clone());
                live_index += 1;
                continue;
            }
            if merged_applied.contains(element) {
                live_index += 1;
            }
        }
        if applied_index < applied_elements.len() {
            let element = &applied_elements[applied_index];
            merged_applied.insert(element);
            merged.extend(merge_item(element));
            applied_index += 1;
            if next_shared == Some(element) {
                next_shared = shared.pop_front();
            }
        }
    }
    Value::Array(merged)
}

/// `value` without the paths of `remove` (structured-merge-diff's `RemoveItems`).
pub(super) fn remove_fields(value: &Value, remove: &FieldSet, shape: Shape) -> Value {
    remove_items(value, remove, shape).unwrap_or_else(|| json!({}))
}

/// `None` when nothing is left: structured-merge-diff leaves a null there, which the apiserver
/// then drops.
fn remove_items(value: &Value, remove: &FieldSet, shape: Shape) -> Option<Value> {
    match value {
        Value::Object(fields) => {
            if fields.is_empty() || shape.map_is_atomic() {
                return None;
            }
            let mut kept = Map::new();
            for (key, child) in fields {
                let element = PathElement::Field(key.clone());
                if remove.members.contains(&element) {
                    continue;
                }
                let rest = match remove.children.get(&element) {
                    Some(nested) => remove_items(child, nested, shape.field(key).0),
                    None => Some(child.clone()),
                };
                if let Some(rest) = rest {
                    kept.insert(key.clone(), rest);
                }
            }
            (!kept.is_empty()).then_some(Value::Object(kept))
        }
        Value::Array(items) => {
            let kind = shape.list_kind();
            if items.is_empty() || kind == ListKind::Atomic {
                return None;
            }
            let item_shape = shape.item();
            let kept: Vec<Value> = items
                .iter()
                .filter_map(|item| {
                    let Some(element) = item_path_element(item, &kind, item_shape) else {
                        return Some(item.clone());
                    };
                    if remove.members.contains(&element) {
                        return None;
                    }
                    match remove.children.get(&element) {
                        Some(nested) => remove_items(item, nested, item_shape),
                        None => Some(item.clone()),
                    }
                })
                .collect();
            (!kept.is_empty()).then_some(Value::Array(kept))
        }
        scalar => Some(scalar.clone()),
    }
}

//! Field paths and sets of them (structured-merge-diff's `fieldpath`), in the `fieldsV1` form of
//! managed fields and the path form of conflict messages.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde_json::{Map, Value, json};

use super::shape::{ListKind, Shape, item_path_element};
use crate::go_format::{go_json, go_json_string, go_quote};

/// One step of a field path.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum PathElement {
    Field(String),
    /// A map-list item: its key fields sorted by name, each value in Go's JSON form.
    Key(Vec<(String, String)>),
    /// A set item, in Go's JSON form.
    Value(String),
    Index(u64),
}

impl PathElement {
    /// The `f:`, `k:`, `v:` or `i:` key of `fieldsV1`.
    fn serialize(&self) -> String {
        match self {
            PathElement::Field(name) => format!("f:{name}"),
            PathElement::Key(fields) => {
                let fields: Vec<String> = fields
                    .iter()
                    .map(|(name, value)| format!("{}:{value}", go_json_string(name)))
                    .collect();
                format!("k:{{{}}}", fields.join(","))
            }
            PathElement::Value(value) => format!("v:{value}"),
            PathElement::Index(index) => format!("i:{index}"),
        }
    }

    /// Parses a `fieldsV1` key; `None` for kinds of element the server skips too.
    fn deserialize(text: &str) -> Result<Option<Self>, String> {
        let Some((kind, rest)) = text.split_at_checked(2) else {
            return Err(format!("key must be 2 characters long: {text}"));
        };
        let parse = |json: &str| serde_json::from_str::<Value>(json).map_err(|error| error.to_string());
        let element = match kind {
            "f:" => PathElement::Field(rest.to_owned()),
            "v:" => PathElement::Value(go_json(&parse(rest)?)),
            "k:" => match parse(rest)? {
                Value::Object(fields) => {
                    let mut fields: Vec<(String, String)> = fields
                        .iter()
                        .map(|(name, value)| (name.clone(), go_json(value)))
                        .collect();
                    fields.sort();
                    PathElement::Key(fields)
                }
                _ => return Err(format!("key path element is not an object: {text}")),
            },
            "i:" => PathElement::Index(rest.parse().map_err(|_| format!("invalid index: {text}"))?),
            _ if kind.ends_with(':') => return Ok(None),
            _ => return Err(format!("missing colon: {text}")),
        };
        Ok(Some(element))
    }
}

impl fmt::Display for PathElement {
    /// The form of conflict messages: `.name`, `[type="Ready"]`, `[="value"]`, `[3]`.
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PathElement::Field(name) => write!(formatter, ".{name}"),
            PathElement::Key(fields) => {
                let fields: Vec<String> = fields
                    .iter()
                    .map(|(name, value)| format!("{name}={}", go_value_string(value)))
                    .collect();
                write!(formatter, "[{}]", fields.join(","))
            }
            PathElement::Value(value) => write!(formatter, "[={}]", go_value_string(value)),
            PathElement::Index(index) => write!(formatter, "[{index}]"),
        }
    }
}

pub(super) fn path_string(path: &[PathElement]) -> String {
    path.iter().map(PathElement::to_string).collect()
}

/// structured-merge-diff's `value.ToString` of a JSON scalar: strings Go-quoted, the rest as is.
fn go_value_string(json_text: &str) -> String {
    match serde_json::from_str::<Value>(json_text) {
        Ok(Value::String(text)) => go_quote(&text),
        _ => json_text.to_owned(),
    }
}

/// A set of field paths: `members` end here, `children` continue.
#[derive(Clone, Debug, Default, PartialEq)]
pub(super) struct FieldSet {
    pub(super) members: BTreeSet<PathElement>,
    /// Never holds an empty set.
    pub(super) children: BTreeMap<PathElement, FieldSet>,
}

impl FieldSet {
    /// The fields a value sets (structured-merge-diff's `ToFieldSet`): leaves, list items, and
    /// maps that are empty, null or keys of a map rather than declared fields.
    pub(super) fn of_value(value: &Value, shape: Shape) -> FieldSet {
        let mut set = FieldSet::default();
        set.collect(value, shape, &mut Vec::new());
        set
    }

    fn collect(&mut self, value: &Value, shape: Shape, path: &mut Vec<PathElement>) {
        match value {
            Value::Object(fields) => {
                if shape.map_is_atomic() {
                    self.insert(path);
                    return;
                }
                for (key, child) in fields {
                    let (child_shape, declared) = shape.field(key);
                    path.push(PathElement::Field(key.clone()));
                    self.collect(child, child_shape, path);
                    if child.is_null() || child.as_object().is_some_and(Map::is_empty) || !declared {
                        self.insert(path);
                    }
                    path.pop();
                }
            }
            Value::Array(items) => {
                let kind = shape.list_kind();
                if kind == ListKind::Atomic {
                    self.insert(path);
                    return;
                }
                let item_shape = shape.item();
                let elements: Vec<Option<PathElement>> = items
                    .iter()
                    .map(|item| item_path_element(item, &kind, item_shape))
                    .collect();
                for (item, element) in items.iter().zip(&elements) {
                    let Some(element) = element else {
                        continue;
                    };
                    path.push(element.clone());
                    // Items that repeat a key are owned as a whole, their fields untracked.
                    if elements.iter().flatten().filter(|other| *other == element).count() == 1 {
                        self.collect(item, item_shape, path);
                    }
                    self.insert(path);
                    path.pop();
                }
            }
            _ => self.insert(path),
        }
    }

    pub(super) fn insert(&mut self, path: &[PathElement]) {
        match path {
            // The object itself is never owned.
            [] => {}
            [last] => {
                self.members.insert(last.clone());
            }
            [first, rest @ ..] => self.children.entry(first.clone()).or_default().insert(rest),
        }
    }

    pub(super) fn has(&self, path: &[PathElement]) -> bool {
        match path {
            [] => false,
            [last] => self.members.contains(last),
            [first, rest @ ..] => self.children.get(first).is_some_and(|children| children.has(rest)),
        }
    }

    pub(super) fn is_empty(&self) -> bool {
        self.members.is_empty() && self.children.is_empty()
    }

    pub(super) fn union(&self, other: &FieldSet) -> FieldSet {
        let mut union = self.clone();
        union.members.extend(other.members.iter().cloned());
        for (element, children) in &other.children {
            let merged = match union.children.get(element) {
                Some(mine) => mine.union(children),
                None => children.clone(),
            };
            union.children.insert(element.clone(), merged);
        }
        union
    }

    pub(super) fn intersection(&self, other: &FieldSet) -> FieldSet {
        let members = self.members.intersection(&other.members).cloned().collect();
        let children = self
            .children
            .iter()
            .filter_map(|(element, mine)| {
                let common = mine.intersection(other.children.get(element)?);
                (!common.is_empty()).then(|| (element.clone(), common))
            })
            .collect();
        FieldSet { members, children }
    }

    /// Removes the paths of `other`, not what lies below its members.
    pub(super) fn difference(&self, other: &FieldSet) -> FieldSet {
        let members = self.members.difference(&other.members).cloned().collect();
        let children = self
            .children
            .iter()
            .filter_map(|(element, mine)| {
                let rest = match other.children.get(element) {
                    Some(theirs) => mine.difference(theirs),
                    None => mine.clone(),
                };
                (!rest.is_empty()).then(|| (element.clone(), rest))
            })
            .collect();
        FieldSet { members, children }
    }

    /// Removes the paths of `other` and everything below its members.
    pub(super) fn recursive_difference(&self, other: &FieldSet) -> FieldSet {
        let members = self.members.difference(&other.members).cloned().collect();
        let children = self
            .children
            .iter()
            .filter(|(element, _)| !other.members.contains(element))
            .filter_map(|(element, mine)| {
                let rest = match other.children.get(element) {
                    Some(theirs) => mine.recursive_difference(theirs),
                    None => mine.clone(),
                };
                (!rest.is_empty()).then(|| (element.clone(), rest))
            })
            .collect();
        FieldSet { members, children }
    }

    /// Makes declared fields with owned children members too, so that removing them removes the
    /// whole field (structured-merge-diff's `EnsureNamedFieldsAreMembers`, used when pruning).
    pub(super) fn with_named_fields_as_members(&self, shape: Shape) -> FieldSet {
        let mut members = self.members.clone();
        let mut children = BTreeMap::new();
        for (element, nested) in &self.children {
            let nested_shape = match element {
                PathElement::Field(name) => {
                    let (field_shape, declared) = shape.field(name);
                    if declared {
                        members.insert(element.clone());
                    }
                    field_shape
                }
                PathElement::Key(_) => shape.item(),
                PathElement::Value(_) | PathElement::Index(_) => Shape::Deduced,
            };
            children.insert(element.clone(), nested.with_named_fields_as_members(nested_shape));
        }
        FieldSet { members, children }
    }

    /// Every path, in the order the apiserver lists conflicts: members, then children.
    pub(super) fn paths(&self) -> Vec<Vec<PathElement>> {
        let mut paths = Vec::new();
        self.collect_paths(&mut Vec::new(), &mut paths);
        paths
    }

    fn collect_paths(&self, prefix: &mut Vec<PathElement>, paths: &mut Vec<Vec<PathElement>>) {
        for member in &self.members {
            let mut path = prefix.clone();
            path.push(member.clone());
            paths.push(path);
        }
        for (element, nested) in &self.children {
            prefix.push(element.clone());
            nested.collect_paths(prefix, paths);
            prefix.pop();
        }
    }

    pub(super) fn to_fields_v1(&self) -> Value {
        Value::Object(self.fields_v1_contents(false))
    }

    /// `"."` marks a path that is a member and has children.
    fn fields_v1_contents(&self, includes_itself: bool) -> Map<String, Value> {
        let mut contents = Map::new();
        if includes_itself && !self.is_empty() {
            contents.insert(".".to_owned(), json!({}));
        }
        for member in &self.members {
            if !self.children.contains_key(member) {
                contents.insert(member.serialize(), json!({}));
            }
        }
        for (element, nested) in &self.children {
            let contents_of_child = nested.fields_v1_contents(self.members.contains(element));
            contents.insert(element.serialize(), Value::Object(contents_of_child));
        }
        contents
    }

    pub(super) fn from_fields_v1(fields: &Value) -> Result<FieldSet, String> {
        Ok(Self::read_fields_v1(fields)?.0)
    }

    /// The set below a `fieldsV1` node, and whether the node itself is a member.
    fn read_fields_v1(node: &Value) -> Result<(FieldSet, bool), String> {
        let Value::Object(entries) = node else {
            return Err(format!("fieldsV1 entries must be objects, got {node}"));
        };
        let mut set = FieldSet::default();
        let mut is_member = false;
        for (key, child) in entries {
            if key == "." {
                is_member = true;
                continue;
            }
            let Some(element) = PathElement::deserialize(key)? else {
                continue;
            };
            let (nested, child_is_member) = Self::read_fields_v1(child)?;
            if child_is_member {
                set.members.insert(element.clone());
            }
            if !nested.is_empty() {
                set.children.insert(element, nested);
            }
        }
        // A node with nothing below it is a leaf, hence a member.
        if set.is_empty() {
            is_member = true;
        }
        Ok((set, is_member))
    }
}

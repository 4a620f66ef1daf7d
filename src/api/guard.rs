//! Decoding one object at a time, so that no object can stop a kind.
//!
//! The API server stores documents of any depth (a policy's `Condition` may
//! nest thousands of levels), while serde_json refuses more than 128 levels
//! per document and counts them from the top of a whole list. One tenant's
//! deep object would then fail every list of its kind, and after a restart
//! nothing of that kind would reconcile. [`Guarded`] takes each object of a
//! list or watch event as raw text (which serde_json skips without counting
//! depth) and decodes it on its own; what nests deeper than any of our
//! kinds needs is replaced by `null` and the object marked [`UNREADABLE`],
//! which the reconcile reports as that object's `Stalled` condition while
//! its deletion still works from the fields that remain.

use std::borrow::Cow;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::Resource;
use kube::core::PartialObjectMeta;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;

/// The annotation a cached object carries when parts of it were too deep to
/// decode: where, and why. Only ever set in the operator's cache.
pub const UNREADABLE: &str = "awsaccess.dev/unreadable";

/// Levels below an object's root beyond which nothing is decoded. Our
/// deepest field (a Condition's value list inside an inline policy) sits
/// about a dozen levels down; serde_json itself stops at 128.
pub const MAX_DEPTH: usize = 32;

/// An object decoded on its own, or the metadata of one that could not be.
#[derive(Clone, Debug)]
pub struct Guarded<K>(pub Result<K, Box<Undecodable>>);

/// An object whose fields do not match its kind at all (not a depth
/// problem: the API server's schema normally prevents this).
#[derive(Clone, Debug)]
pub struct Undecodable {
    pub metadata: ObjectMeta,
    pub error: String,
}

impl<K: Resource<DynamicType = ()>> Guarded<K> {
    /// The object; one that does not match its kind at all counts as
    /// absent (which only ever shrinks what is granted), with a warning
    /// naming it.
    pub fn readable(self) -> Option<K> {
        match self.0 {
            Ok(object) => Some(object),
            Err(undecodable) => {
                tracing::warn!(
                    kind = %K::kind(&()),
                    namespace = ?undecodable.metadata.namespace,
                    name = ?undecodable.metadata.name,
                    error = %undecodable.error,
                    "object does not match its kind; left out until it is fixed"
                );
                None
            }
        }
    }
}

impl<'de, K: Resource + DeserializeOwned> Deserialize<'de> for Guarded<K> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = Box::<RawValue>::deserialize(deserializer)?;
        Ok(Guarded(decode(raw.get())))
    }
}

/// Decodes one object's JSON, capping its depth at [`MAX_DEPTH`].
pub fn decode<K: Resource + DeserializeOwned>(json: &str) -> Result<K, Box<Undecodable>> {
    let undecodable = |error: serde_json::Error| {
        let metadata = serde_json::from_str::<PartialObjectMeta<K>>(json)
            .map(|partial| partial.metadata)
            .unwrap_or_default();
        Box::new(Undecodable {
            metadata,
            error: error.to_string(),
        })
    };
    let survey = survey(json);
    if survey.nesting <= MAX_DEPTH {
        let text = match survey.managed_fields {
            Some(value) => Cow::Owned(format!("{}null{}", &json[..value.start], &json[value.end..])),
            None => Cow::Borrowed(json),
        };
        return serde_json::from_str(&text).map_err(undecodable);
    }
    let Some((capped, paths)) = cap_depth(json, MAX_DEPTH) else {
        return serde_json::from_str(json).map_err(undecodable);
    };
    let mut object: K = serde_json::from_str(&capped).map_err(undecodable)?;
    object
        .meta_mut()
        .annotations
        .get_or_insert_default()
        .insert(UNREADABLE.to_string(), too_deep(&paths[0]));
    Ok(object)
}

/// What one quick pass over an object's text finds, before anything is decoded.
#[derive(Debug, PartialEq)]
struct Survey {
    /// The most containers open at once, the root's included.
    nesting: usize,
    /// Where the value of `metadata.managedFields` lies. Nothing the
    /// operator decodes reads it, and it is often the larger part of the
    /// object, as a tree of JSON values: it is decoded as `null`.
    managed_fields: Option<std::ops::Range<usize>>,
}

/// Reads `json` once, allocating nothing but a stack of open containers.
/// `json` must be valid JSON (serde_json's raw value checked it).
fn survey(json: &str) -> Survey {
    const METADATA: &str = r#""metadata""#;
    const MANAGED_FIELDS: &str = r#""managedFields""#;
    let bytes = json.as_bytes();
    // Whether each open container is an object, and whether it is the root's metadata.
    let mut open: Vec<(bool, bool)> = Vec::with_capacity(16);
    let (mut nesting, mut managed_fields) = (0, None);
    let (mut expecting_key, mut key) = (false, "");
    let mut at = 0;
    while at < bytes.len() {
        match bytes[at] {
            b'{' | b'[' => {
                let in_metadata = open.len() == 1 && key == METADATA;
                if open.len() == 2 && open[1].1 && key == MANAGED_FIELDS {
                    let end = skip_container(bytes, at);
                    managed_fields = Some(at..end);
                    at = end;
                    continue;
                }
                open.push((bytes[at] == b'{', in_metadata));
                nesting = nesting.max(open.len());
                expecting_key = bytes[at] == b'{';
            }
            b'}' | b']' => {
                open.pop();
                expecting_key = false;
            }
            b',' => expecting_key = open.last().is_some_and(|(object, _)| *object),
            b'"' => {
                let end = string_end(bytes, at);
                if expecting_key {
                    key = &json[at..end];
                    expecting_key = false;
                }
                at = end;
                continue;
            }
            _ => {}
        }
        at += 1;
    }
    Survey {
        nesting,
        managed_fields,
    }
}

/// What is wrong with a value nested too deep, and what to do.
pub fn too_deep(path: &str) -> String {
    format!(
        "{path} nests more than {MAX_DEPTH} levels below the object's root; no field of this kind needs more than a \
         dozen (an IAM policy's Condition holds operator, key and values): flatten it"
    )
}

/// Why a cached object could not be read in full, if it could not.
pub fn unreadable<K: Resource>(object: &K) -> Option<&str> {
    object.meta().annotations.as_ref()?.get(UNREADABLE).map(String::as_str)
}

/// One frame of the path to the value being copied.
enum Frame {
    Object { key: Option<String> },
    Array { index: usize },
}

/// `json` with every value nested more than `max_depth` levels replaced by
/// `null`, and the paths of those replaced; `None` when nothing is that
/// deep. Iterative, so that no depth reaches the stack. `json` must be
/// valid JSON (it comes from serde_json's raw value, which checked it).
pub fn cap_depth(json: &str, max_depth: usize) -> Option<(String, Vec<String>)> {
    let bytes = json.as_bytes();
    let mut out = String::with_capacity(json.len());
    let mut frames: Vec<Frame> = Vec::new();
    let mut capped = Vec::new();
    let mut expecting_key = false;
    let mut at = 0;
    while at < bytes.len() {
        match bytes[at] {
            b'{' | b'[' if frames.len() >= max_depth => {
                capped.push(path_of(&frames));
                at = skip_container(bytes, at);
                out.push_str("null");
                continue;
            }
            b'{' => {
                frames.push(Frame::Object { key: None });
                expecting_key = true;
                out.push('{');
            }
            b'[' => {
                frames.push(Frame::Array { index: 0 });
                out.push('[');
            }
            close @ (b'}' | b']') => {
                frames.pop();
                expecting_key = false;
                out.push(close as char);
            }
            b',' => {
                match frames.last_mut() {
                    Some(Frame::Array { index }) => *index += 1,
                    Some(Frame::Object { .. }) => expecting_key = true,
                    None => {}
                }
                out.push(',');
            }
            b'"' => {
                let end = string_end(bytes, at);
                let literal = &json[at..end];
                if expecting_key {
                    if let Some(Frame::Object { key }) = frames.last_mut() {
                        *key = serde_json::from_str(literal).ok();
                    }
                    expecting_key = false;
                }
                out.push_str(literal);
                at = end;
                continue;
            }
            _ => {
                // Whitespace, ':', numbers and literals are copied byte by
                // byte; a UTF-8 sequence only ever appears inside strings.
                out.push(bytes[at] as char);
            }
        }
        at += 1;
    }
    (!capped.is_empty()).then_some((out, capped))
}

/// The index just past the string literal starting at `start`.
fn string_end(bytes: &[u8], start: usize) -> usize {
    let mut at = start + 1;
    while at < bytes.len() {
        match bytes[at] {
            b'\\' => at += 2,
            b'"' => return at + 1,
            _ => at += 1,
        }
    }
    bytes.len()
}

/// The index just past the object or array starting at `start`.
fn skip_container(bytes: &[u8], start: usize) -> usize {
    let mut depth = 0usize;
    let mut at = start;
    while at < bytes.len() {
        match bytes[at] {
            b'"' => {
                at = string_end(bytes, at);
                continue;
            }
            b'{' | b'[' => depth += 1,
            b'}' | b']' => {
                depth -= 1;
                if depth == 0 {
                    return at + 1;
                }
            }
            _ => {}
        }
        at += 1;
    }
    bytes.len()
}

/// `spec.permissions.inlinePolicies[0].document`: where the frames point.
fn path_of(frames: &[Frame]) -> String {
    let mut path = String::new();
    for frame in frames {
        match frame {
            Frame::Object { key: Some(key) } => {
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(key);
            }
            Frame::Object { key: None } => {}
            Frame::Array { index } => path.push_str(&format!("[{index}]")),
        }
    }
    path
}

impl<K: Resource> Resource for Guarded<K> {
    type DynamicType = K::DynamicType;
    type Scope = K::Scope;

    fn kind(dt: &Self::DynamicType) -> Cow<'_, str> {
        K::kind(dt)
    }

    fn group(dt: &Self::DynamicType) -> Cow<'_, str> {
        K::group(dt)
    }

    fn version(dt: &Self::DynamicType) -> Cow<'_, str> {
        K::version(dt)
    }

    fn plural(dt: &Self::DynamicType) -> Cow<'_, str> {
        K::plural(dt)
    }

    fn meta(&self) -> &ObjectMeta {
        match &self.0 {
            Ok(object) => object.meta(),
            Err(undecodable) => &undecodable.metadata,
        }
    }

    fn meta_mut(&mut self) -> &mut ObjectMeta {
        match &mut self.0 {
            Ok(object) => object.meta_mut(),
            Err(undecodable) => &mut undecodable.metadata,
        }
    }
}

#[cfg(test)]
mod tests {
    use kube::api::ObjectList;
    use serde_json::json;

    use super::*;
    use crate::api::CrossAccountRole;

    fn nested(levels: usize) -> String {
        format!("{}\"x\"{}", "[".repeat(levels), "]".repeat(levels))
    }

    /// A role whose one condition holds `condition_value`, JSON text as given.
    fn role(name: &str, condition_value: &str) -> String {
        const CONDITION: &str = "the condition value";
        let role = json!({
            "apiVersion": "awsaccess.dev/v1alpha1",
            "kind": "CrossAccountRole",
            "metadata": {"name": name, "namespace": "team", "generation": 3},
            "spec": {
                "account": {"name": "dev"},
                "trust": {"developerGroups": []},
                "permissions": {"inlinePolicies": [{"name": "p", "document": {"Version": "2012-10-17", "Statement": [{
                    "Effect": "Allow",
                    "Action": "s3:GetObject",
                    "Resource": "*",
                    "Condition": {"StringEquals": {"aws:SourceVpc": CONDITION}},
                }]}}]},
            },
        });
        // Spliced in as text: a value nested deeper than serde_json parses cannot be a Value.
        role.to_string().replace(&format!("\"{CONDITION}\""), condition_value)
    }

    #[test]
    fn a_deep_object_in_a_list_costs_only_itself() {
        let deep = role("deep", &nested(5000));
        let fine = role("fine", r#"["vpc-1"]"#);
        let list = format!(r#"{{"apiVersion":"v1","kind":"List","metadata":{{}},"items":[{fine},{deep}]}}"#);

        let decoded: ObjectList<Guarded<CrossAccountRole>> = serde_json::from_str(&list).unwrap();
        let objects: Vec<CrossAccountRole> = decoded.items.into_iter().map(|g| g.0.unwrap()).collect();

        assert_eq!(unreadable(&objects[0]), None);
        let why = unreadable(&objects[1]).unwrap();
        assert!(
            why.starts_with(
                "spec.permissions.inlinePolicies[0].document.Statement[0].Condition.StringEquals.aws:SourceVpc"
            ),
            "{why}"
        );
        assert_eq!(objects[1].meta().generation, Some(3));
        assert_eq!(objects[1].spec.account.name.as_deref(), Some("dev"));
    }

    #[test]
    fn capping_keeps_strings_that_look_like_brackets_and_counts_from_the_root() {
        let json = json!({"a": {"b": ["[{\"", {"c": [1, 2]}]}, "d": "}]"}).to_string();
        assert_eq!(cap_depth(&json, 8), None);
        let (capped, paths) = cap_depth(&json, 3).unwrap();
        assert_eq!(paths, ["a.b[1]"]);
        let value: serde_json::Value = serde_json::from_str(&capped).unwrap();
        assert_eq!(value, json!({"a": {"b": ["[{\"", null]}, "d": "}]"}));
    }

    #[test]
    fn an_object_that_is_not_its_kind_keeps_its_name() {
        let json = r#"{"metadata":{"name":"odd","namespace":"team"},"spec":{"account":42}}"#;
        let undecodable = decode::<CrossAccountRole>(json).unwrap_err();
        assert_eq!(undecodable.metadata.name.as_deref(), Some("odd"));
        assert!(undecodable.error.contains("invalid type"), "{}", undecodable.error);
    }
}
#[cfg(test)]
mod survey_tests {
    use serde_json::json;

    use super::*;
    use crate::api::CrossAccountRole;

    #[test]
    fn managed_fields_are_decoded_as_null_and_nothing_else_is_lost() {
        let role = json!({
            "apiVersion": "awsaccess.dev/v1alpha1",
            "kind": "CrossAccountRole",
            "metadata": {
                "name": "x", "namespace": "n",
                "managedFields": [{"manager": "kubectl", "fieldsV1": {"f:spec": {"f:roleName": {}}}}],
                "labels": {"managedFields": "a label, not the field"},
            },
            "spec": {"account": {"name": "dev"}, "trust": {}, "roleName": "managedFields"},
        })
        .to_string();
        let found = survey(&role).managed_fields.expect("found");
        assert!(role[found].starts_with(r#"[{"#));

        let decoded: CrossAccountRole = decode(&role).expect("decodes");
        assert_eq!(decoded.metadata.managed_fields, None);
        assert_eq!(
            decoded.metadata.labels.expect("labels")["managedFields"],
            "a label, not the field"
        );
        assert_eq!(decoded.spec.role_name.as_deref(), Some("managedFields"));
    }

    #[test]
    fn only_the_roots_metadata_holds_the_managed_fields() {
        let elsewhere = r#"{"spec":{"metadata":{"managedFields":[1]}},"metadata":{"name":"x"}}"#;
        assert_eq!(survey(elsewhere).managed_fields, None);
    }

    #[test]
    fn nesting_counts_as_the_cap_does() {
        for levels in [MAX_DEPTH - 2, MAX_DEPTH - 1, MAX_DEPTH, MAX_DEPTH + 1] {
            let text = format!("{{\"a\":{}1{}}}", "[".repeat(levels), "]".repeat(levels));
            let capped = cap_depth(&text, MAX_DEPTH).is_some();
            assert_eq!(survey(&text).nesting > MAX_DEPTH, capped, "{levels} levels");
        }
    }
}

#[cfg(test)]
mod watch_event_tests {
    use kube::core::WatchEvent;

    use super::*;
    use crate::api::CrossAccountRole;

    #[test]
    fn a_watch_event_decodes() {
        let line = r#"{"type":"ADDED","object":{"apiVersion":"awsaccess.dev/v1alpha1","kind":"CrossAccountRole","metadata":{"name":"x","namespace":"n"},"spec":{"account":{"name":"dev"},"trust":{}}}}"#;
        let event: WatchEvent<Guarded<CrossAccountRole>> = serde_json::from_str(line).unwrap();
        match event {
            WatchEvent::Added(g) => assert!(g.0.is_ok(), "{:?}", g.0),
            other => panic!("{other:?}"),
        }
    }
}

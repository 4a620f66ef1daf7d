//! Pure: who asked and who decided, as admission records it. The mutating webhook stamps the
//! annotations from the API request's user on create, overwriting whatever the client sent;
//! the validating webhook refuses a create whose stamps are not its user's (the mutating
//! webhook did not run) and any later change to them, or to an approval's spec, so the trail
//! the reconcile copies into status is the API server's word, never a client's.

use json_patch::jsonptr::PointerBuf;
use json_patch::{AddOperation, Patch, PatchOperation};
use k8s_openapi::api::authentication::v1::UserInfo;
use serde_json::{Value, json};

use crate::api::{APPROVED_BY_ANNOTATION, APPROVER_GROUPS_ANNOTATION, REQUESTED_BY_ANNOTATION};

/// The annotations admission stamps on a create of `kind` by `user`; none for other kinds.
pub fn stamps(kind: &str, user: &UserInfo) -> Vec<(&'static str, String)> {
    let name = user.username.clone().unwrap_or_default();
    match kind {
        "AccessRequest" => vec![(REQUESTED_BY_ANNOTATION, name)],
        "AccessApproval" => {
            let groups = json!(user.groups.clone().unwrap_or_default()).to_string();
            vec![(APPROVED_BY_ANNOTATION, name), (APPROVER_GROUPS_ANNOTATION, groups)]
        }
        _ => vec![],
    }
}

/// The kinds whose stamps nobody may change after their create.
fn recorded(kind: &str) -> &'static [&'static str] {
    match kind {
        "AccessRequest" => &[REQUESTED_BY_ANNOTATION],
        "AccessApproval" => &[APPROVED_BY_ANNOTATION, APPROVER_GROUPS_ANNOTATION],
        _ => &[],
    }
}

/// A JSON patch that sets `stamps` on `object`, whatever annotations it had.
pub fn patch(object: &Value, stamps: &[(&str, String)]) -> Patch {
    let mut operations = vec![];
    if !object.pointer("/metadata/annotations").is_some_and(Value::is_object) {
        operations.push(add(&["metadata", "annotations"], json!({})));
    }
    for (key, value) in stamps {
        operations.push(add(&["metadata", "annotations", key], json!(value)));
    }
    Patch(operations)
}

fn add(tokens: &[&str], value: Value) -> PatchOperation {
    PatchOperation::Add(AddOperation {
        // Tokens are escaped as RFC 6901 says: `/` in an annotation key becomes `~1`.
        path: PointerBuf::from_tokens(tokens.iter().copied()),
        value,
    })
}

fn annotation<'a>(object: &'a Value, key: &str) -> Option<&'a str> {
    object.pointer("/metadata/annotations")?.get(key)?.as_str()
}

/// Whether admission stamps objects of `kind`.
pub fn is_stamped(kind: &str) -> bool {
    !recorded(kind).is_empty()
}

/// Why a create of `kind` by `user` is refused: its stamps are not the user's.
pub fn stamped_by(kind: &str, object: &Value, user: &UserInfo) -> Vec<String> {
    stamps(kind, user)
        .into_iter()
        .filter(|(key, value)| annotation(object, key) != Some(value.as_str()))
        .map(|(key, value)| {
            format!(
                "metadata.annotations[{key}]: must be {value}, as the API server authenticated the request; the operator's mutating webhook records it, so register it (the chart does)"
            )
        })
        .collect()
}

/// Why an update of `kind` from `old` to `new` is refused: a recorded stamp changed, or the
/// spec of an approval (its decision stands as it was made).
pub fn unchanged(kind: &str, old: &Value, new: &Value) -> Vec<String> {
    let mut refusals: Vec<String> = recorded(kind)
        .iter()
        .filter(|key| annotation(old, key) != annotation(new, key))
        .map(|key| format!("metadata.annotations[{key}]: recorded at admission and cannot be changed"))
        .collect();
    if kind == "AccessApproval" && old.get("spec") != new.get("spec") {
        refusals.push("spec: an AccessApproval cannot be changed: make a new one".into());
    }
    refusals
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(name: &str, groups: &[&str]) -> UserInfo {
        UserInfo {
            username: Some(name.into()),
            groups: Some(groups.iter().map(|g| g.to_string()).collect()),
            ..Default::default()
        }
    }

    fn applied(object: &Value, patch: &Patch) -> Value {
        let mut object = object.clone();
        json_patch::patch(&mut object, patch).unwrap();
        object
    }

    #[test]
    fn a_create_is_stamped_with_its_user_whatever_the_client_wrote() {
        let carol = user("carol", &["alfie-leads", "system:authenticated"]);
        let forged =
            json!({"metadata": {"name": "ok", "annotations": {"awsaccess.dev/approved-by": "alice", "note": "kept"}}});
        let stamped = applied(&forged, &patch(&forged, &stamps("AccessApproval", &carol)));
        assert_eq!(stamped["metadata"]["annotations"]["awsaccess.dev/approved-by"], "carol");
        assert_eq!(
            stamped["metadata"]["annotations"]["awsaccess.dev/approver-groups"],
            r#"["alfie-leads","system:authenticated"]"#
        );
        assert_eq!(stamped["metadata"]["annotations"]["note"], "kept");
        assert!(stamped_by("AccessApproval", &stamped, &carol).is_empty());
        assert_eq!(
            stamped_by("AccessApproval", &forged, &carol)[0],
            "metadata.annotations[awsaccess.dev/approved-by]: must be carol, as the API server authenticated the request; the operator's mutating webhook records it, so register it (the chart does)"
        );

        let bare = json!({"metadata": {"name": "alice-rds"}});
        let alice = user("alice", &[]);
        let stamped = applied(&bare, &patch(&bare, &stamps("AccessRequest", &alice)));
        assert_eq!(
            stamped["metadata"]["annotations"],
            json!({"awsaccess.dev/requested-by": "alice"})
        );
        assert!(stamps("CrossAccountRole", &alice).is_empty());
    }

    #[test]
    fn what_admission_recorded_and_an_approval_s_decision_cannot_be_changed() {
        let old =
            json!({"metadata": {"annotations": {"awsaccess.dev/requested-by": "alice"}}, "spec": {"user": "alice"}});
        let mut relabelled = old.clone();
        relabelled["metadata"]["annotations"]["awsaccess.dev/requested-by"] = json!("bob");
        assert_eq!(
            unchanged("AccessRequest", &old, &relabelled),
            ["metadata.annotations[awsaccess.dev/requested-by]: recorded at admission and cannot be changed"]
        );
        let mut finalized = old.clone();
        finalized["metadata"]["finalizers"] = json!(["awsaccess.dev/cleanup"]);
        assert!(unchanged("AccessRequest", &old, &finalized).is_empty());

        let approval = json!({"metadata": {"annotations": {"awsaccess.dev/approved-by": "carol"}}, "spec": {"request": "r", "decision": "Approve"}});
        let mut flipped = approval.clone();
        flipped["spec"]["decision"] = json!("Deny");
        assert_eq!(
            unchanged("AccessApproval", &approval, &flipped),
            ["spec: an AccessApproval cannot be changed: make a new one"]
        );
        let mut stripped = approval.clone();
        stripped["metadata"]["annotations"] = json!({});
        assert_eq!(unchanged("AccessApproval", &approval, &stripped).len(), 1);
    }
}

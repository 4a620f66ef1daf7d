//! Pure: where a request goes next (its phase from the approvals that count, the clock and
//! whether it is being deleted), the grant that phase wants on the requester's IAM user, and
//! the change that takes AWS there.

use std::time::Duration;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;
use serde_json::{Value, json};

use crate::api::{AccessPhase, AccessRequestStatus};
use crate::policy::document::equivalent;
use crate::policy::sessions::issued_before;

/// How the grants' inline policies are named, before the request's name: `report` finds them by it.
pub const POLICY_PREFIX: &str = "awsaccess-elevation-";

/// The inline policy on the requester's IAM user that grants the request `name`.
pub fn policy_name(name: &str) -> String {
    format!("{POLICY_PREFIX}{name}")
}

/// Allows assuming exactly `role_arn` until `until`, which AWS enforces itself: the access
/// ends on time even while the operator is down.
pub fn grant_document(role_arn: &str, until: Timestamp) -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "AssumeRoleUntilTheElevationEnds",
            "Effect": "Allow",
            "Action": "sts:AssumeRole",
            "Resource": role_arn,
            "Condition": {"DateLessThan": {"aws:CurrentTime": until.to_string()}}
        }]
    })
}

/// What the approvals on a request come to, as far as they count.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Decisions {
    /// Distinct approvers whose approval counts, in the order they approved.
    pub approved_by: Vec<String>,
    /// The first approver who denied it.
    pub denied_by: Option<String>,
}

/// Where the request is now and what it wants in AWS.
#[derive(Clone, Debug, PartialEq)]
pub struct Step {
    pub phase: AccessPhase,
    pub granted_at: Option<Timestamp>,
    pub expires_at: Option<Timestamp>,
    /// When the access ended, for a request that may have been granted: the role denies its
    /// sessions issued before then.
    pub ended_at: Option<Timestamp>,
    /// Whether the grant should exist on the user.
    pub grant: bool,
}

/// The next step of a request whose status is `status`, with `decisions` from approvals that
/// count, `needed` of them, for `duration`, at `now`.
pub fn next(
    status: &AccessRequestStatus,
    decisions: &Decisions,
    needed: u32,
    duration: Duration,
    deleting: bool,
    now: Timestamp,
) -> Step {
    let phase = status.phase.unwrap_or(AccessPhase::Pending);
    let kept = Step {
        phase,
        granted_at: status.granted_at.as_ref().map(|t| t.0),
        expires_at: status.expires_at.as_ref().map(|t| t.0),
        ended_at: status.ended_at.as_ref().map(|t| t.0),
        grant: false,
    };
    // Approved may have been written before its status was: it is ended as if granted.
    let may_be_granted = matches!(phase, AccessPhase::Approved | AccessPhase::Active);
    let ended = |phase| Step {
        phase,
        ended_at: Some(issued_before(now)),
        ..kept.clone()
    };
    match phase {
        _ if phase.is_final() => kept,
        _ if may_be_granted && (deleting || decisions.denied_by.is_some()) => ended(AccessPhase::Revoked),
        _ if deleting => kept,
        _ if decisions.denied_by.is_some() => Step {
            phase: AccessPhase::Denied,
            ..kept
        },
        AccessPhase::Active => match kept.expires_at {
            Some(at) if now < at => Step { grant: true, ..kept },
            at => Step {
                phase: AccessPhase::Expired,
                ended_at: Some(at.unwrap_or_else(|| issued_before(now))),
                ..kept
            },
        },
        _ if decisions.approved_by.len() >= usize::try_from(needed).unwrap_or(usize::MAX) => {
            let granted_at = issued_before(now);
            Step {
                phase: AccessPhase::Approved,
                granted_at: Some(granted_at),
                expires_at: Some(issued_before(
                    granted_at.checked_add(duration).unwrap_or(Timestamp::MAX),
                )),
                ended_at: None,
                grant: true,
            }
        }
        _ => Step {
            phase: AccessPhase::Pending,
            ..kept
        },
    }
}

/// How long until `status`'s access ends, while it is active: it is looked at again then.
pub fn until_expiry(status: &AccessRequestStatus, now: Timestamp) -> Option<Duration> {
    if status.phase != Some(AccessPhase::Active) {
        return None;
    }
    let wait = status.expires_at.as_ref()?.0.duration_since(now);
    Some(Duration::try_from(wait).unwrap_or_default())
}

/// A write to the requester's IAM user.
#[derive(Clone, Debug, PartialEq)]
pub enum Change {
    Put { policy: String, document: Value },
    Delete { policy: String },
}

/// From the grant the user has (`current`, as IAM returns it) to the one `step` wants:
/// nothing when they agree, so that a request in sync costs a read.
pub fn plan(step: &Step, policy: &str, role_arn: &str, current: Option<&Value>) -> Option<Change> {
    let wanted = match (step.grant, step.expires_at) {
        (true, Some(until)) => Some(grant_document(role_arn, until)),
        _ => None,
    };
    match (wanted, current) {
        (Some(document), Some(current)) if equivalent(&document, current) => None,
        (Some(document), _) => Some(Change::Put {
            policy: policy.to_string(),
            document,
        }),
        (None, Some(_)) => Some(Change::Delete {
            policy: policy.to_string(),
        }),
        (None, None) => None,
    }
}

/// Records `step` in `status`: Approved becomes Active once the grant is in AWS.
pub fn record(status: &mut AccessRequestStatus, step: &Step, granted: bool) {
    status.phase = Some(match step.phase {
        AccessPhase::Approved if granted => AccessPhase::Active,
        phase => phase,
    });
    let time = |at: Option<Timestamp>| at.map(Time);
    status.granted_at = time(step.granted_at);
    status.expires_at = time(step.expires_at);
    status.ended_at = time(step.ended_at);
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: Duration = Duration::from_secs(3600);
    const ROLE: &str = "arn:aws:iam::222222222222:role/AlfieProdOperator";

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    fn approved(by: &[&str]) -> Decisions {
        Decisions {
            approved_by: by.iter().map(|b| b.to_string()).collect(),
            denied_by: None,
        }
    }

    fn status_after(step: &Step, granted: bool) -> AccessRequestStatus {
        let mut status = AccessRequestStatus::default();
        record(&mut status, step, granted);
        status
    }

    #[test]
    fn a_request_waits_for_enough_approvals_then_is_granted_for_its_duration() {
        let now = at("2026-12-06T09:00:00.300Z");
        let pending = AccessRequestStatus::default();
        let step = next(&pending, &approved(&["carol"]), 2, HOUR, false, now);
        assert_eq!((step.phase, step.grant), (AccessPhase::Pending, false));

        let step = next(&pending, &approved(&["carol", "dave"]), 2, HOUR, false, now);
        assert_eq!((step.phase, step.grant), (AccessPhase::Approved, true));
        assert_eq!(step.granted_at, Some(at("2026-12-06T09:00:01Z")));
        assert_eq!(step.expires_at, Some(at("2026-12-06T10:00:01Z")));
        // Not yet in AWS: still Approved; written: Active.
        assert_eq!(status_after(&step, false).phase, Some(AccessPhase::Approved));
        let active = status_after(&step, true);
        assert_eq!(active.phase, Some(AccessPhase::Active));

        let later = next(
            &active,
            &approved(&["carol", "dave"]),
            2,
            HOUR,
            false,
            at("2026-12-06T09:30:00Z"),
        );
        assert_eq!(
            (later.phase, later.grant, later.expires_at),
            (AccessPhase::Active, true, step.expires_at)
        );
        assert_eq!(until_expiry(&active, at("2026-12-06T09:30:01Z")), Some(HOUR / 2));
    }

    #[test]
    fn at_the_end_of_the_window_the_grant_goes_and_older_sessions_are_denied() {
        let granted = next(
            &AccessRequestStatus::default(),
            &approved(&["carol"]),
            1,
            HOUR,
            false,
            at("2026-12-06T09:00:00Z"),
        );
        let active = status_after(&granted, true);
        let expired = next(
            &active,
            &approved(&["carol"]),
            1,
            HOUR,
            false,
            at("2026-12-06T10:00:00Z"),
        );
        assert_eq!((expired.phase, expired.grant), (AccessPhase::Expired, false));
        assert_eq!(expired.ended_at, Some(at("2026-12-06T10:00:00Z")));
        // Final: nothing brings it back.
        let after = status_after(&expired, false);
        let again = next(
            &after,
            &approved(&["carol", "dave"]),
            1,
            HOUR,
            false,
            at("2026-12-06T10:00:05Z"),
        );
        assert_eq!((again.phase, again.grant), (AccessPhase::Expired, false));
        assert_eq!(until_expiry(&after, at("2026-12-06T10:00:05Z")), None);
    }

    #[test]
    fn a_deny_or_a_deletion_ends_it_at_once_and_before_the_grant_nothing_is_denied() {
        let now = at("2026-12-06T09:10:00.5Z");
        let denial = Decisions {
            approved_by: vec!["carol".into()],
            denied_by: Some("dave".into()),
        };
        let pending = AccessRequestStatus::default();
        let denied = next(&pending, &denial, 1, HOUR, false, now);
        assert_eq!(
            (denied.phase, denied.grant, denied.ended_at),
            (AccessPhase::Denied, false, None)
        );
        assert_eq!(next(&pending, &approved(&[]), 1, HOUR, true, now).ended_at, None);

        let active = status_after(
            &next(
                &pending,
                &approved(&["carol"]),
                1,
                HOUR,
                false,
                at("2026-12-06T09:00:00Z"),
            ),
            true,
        );
        for (decisions, deleting) in [(denial.clone(), false), (approved(&["carol"]), true)] {
            let revoked = next(&active, &decisions, 1, HOUR, deleting, now);
            assert_eq!((revoked.phase, revoked.grant), (AccessPhase::Revoked, false));
            assert_eq!(revoked.ended_at, Some(at("2026-12-06T09:10:01Z")));
        }
    }

    #[test]
    fn the_grant_is_written_only_when_it_differs() {
        let step = next(
            &AccessRequestStatus::default(),
            &approved(&["carol"]),
            1,
            HOUR,
            false,
            at("2026-12-06T09:00:00Z"),
        );
        let policy = policy_name("alice-rds");
        let document = grant_document(ROLE, at("2026-12-06T10:00:00Z"));
        assert_eq!(
            document["Statement"][0]["Condition"]["DateLessThan"]["aws:CurrentTime"],
            "2026-12-06T10:00:00Z"
        );
        assert_eq!(
            plan(&step, &policy, ROLE, None),
            Some(Change::Put {
                policy: policy.clone(),
                document: document.clone()
            })
        );
        assert_eq!(plan(&step, &policy, ROLE, Some(&document)), None);
        let ended = Step { grant: false, ..step };
        assert_eq!(
            plan(&ended, &policy, ROLE, Some(&document)),
            Some(Change::Delete { policy: policy.clone() })
        );
        assert_eq!(plan(&ended, &policy, ROLE, None), None);
    }
}

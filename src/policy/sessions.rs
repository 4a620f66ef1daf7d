//! Ending sessions already issued: the Deny behind the IAM console's
//! "Revoke active sessions" (its policy AWSRevokeOlderSessions), which
//! refuses everything to a role's sessions issued before a moment, and
//! that moment as the operator writes it.

use k8s_openapi::jiff::{RoundMode, Timestamp, TimestampRound, Unit};
use serde_json::{Value, json};

/// The moment to deny sessions issued before, from when a removal was
/// seen: rounded up to the second, as IAM condition dates are written, so
/// that a session issued in the same second is denied too (fail closed).
pub fn issued_before(seen: Timestamp) -> Timestamp {
    let up = TimestampRound::new().smallest(Unit::Second).mode(RoundMode::Ceil);
    seen.round(up).unwrap_or(seen)
}

/// Denies every action to the role's sessions issued before `before`.
pub fn deny_sessions_issued_before(before: Timestamp) -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "DenySessionsIssuedBeforeAMemberLeft",
            "Effect": "Deny",
            "Action": ["*"],
            "Resource": ["*"],
            "Condition": {"DateLessThan": {"aws:TokenIssueTime": before.to_string()}}
        }]
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_moment_is_rounded_up_to_a_whole_second_in_utc() {
        let seen: Timestamp = "2026-12-06T09:00:00.250Z".parse().unwrap();
        let before = issued_before(seen);
        assert_eq!(before.to_string(), "2026-12-06T09:00:01Z");
        assert_eq!(issued_before(before), before, "a whole second stays");
        let policy = deny_sessions_issued_before(before);
        assert_eq!(
            policy["Statement"][0]["Condition"]["DateLessThan"]["aws:TokenIssueTime"],
            "2026-12-06T09:00:01Z"
        );
        assert_eq!(policy["Statement"][0]["Effect"], "Deny");
    }
}

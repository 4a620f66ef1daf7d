//! Pure: the Deny on a role's sessions issued before a member left a
//! DeveloperGroup that could assume it, for as long as those sessions may
//! live. Part of the role's desired state while it holds, so that a
//! reconcile never takes it for drift nor lifts it early.

use std::time::Duration;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;
use serde_json::Value;

use crate::api::SessionsDenied;
use crate::aws::RoleState;
use crate::policy::sessions::deny_sessions_issued_before;

/// The role's inline policy that denies sessions issued before someone left.
pub const REVOKE_POLICY_NAME: &str = "awsaccess-revoke-older-sessions";

/// The latest removal from a group that could assume the role.
#[derive(Clone, Debug, PartialEq)]
pub struct Revocation {
    /// Sessions issued before this are denied.
    pub issued_before: Timestamp,
    /// Who left which group, for the status and the Event.
    pub reason: String,
    /// When the plan is made.
    pub now: Timestamp,
    /// How long a session lives, when not the role's own maximum (tests).
    pub session_lifetime: Option<Duration>,
}

impl Revocation {
    /// The Deny while a session issued before the removal may still live:
    /// up to the role's longest session, as the spec asks or as AWS still
    /// has it, whichever is longer (sessions issued under the old maximum
    /// keep it).
    pub fn in_force(&self, max_session_duration: i32, current: Option<&RoleState>) -> Option<SessionsDenied> {
        let longest = self.session_lifetime.unwrap_or_else(|| {
            let seconds = current.map_or(max_session_duration, |role| {
                role.max_session_duration.max(max_session_duration)
            });
            Duration::from_secs(u64::try_from(seconds).unwrap_or_default())
        });
        let until = self.issued_before.checked_add(longest).unwrap_or(Timestamp::MAX);
        (self.now < until).then(|| SessionsDenied {
            issued_before: Time(self.issued_before),
            until: Time(until),
            reason: self.reason.clone(),
        })
    }
}

/// The Deny's policy document for `denied`.
pub fn document(denied: &SessionsDenied) -> Value {
    deny_sessions_issued_before(denied.issued_before.0)
}

/// How long until the Deny is to be lifted, if one is in force: the role
/// is looked at again then, not at the next resync.
pub fn until_lifted(denied: Option<&SessionsDenied>, now: Timestamp) -> Option<Duration> {
    let wait = denied?.until.0.duration_since(now);
    Some(Duration::try_from(wait).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: Duration = Duration::from_secs(3600);

    fn removal(issued_before: Timestamp, now: Timestamp) -> Revocation {
        Revocation {
            issued_before,
            reason: "alice left developers".into(),
            now,
            session_lifetime: None,
        }
    }

    #[test]
    fn the_deny_holds_for_the_longest_session_then_is_gone() {
        let left: Timestamp = "2026-12-06T09:00:00Z".parse().unwrap();
        let at = |after: Duration| removal(left, left.checked_add(after).unwrap());
        let denied = at(HOUR / 2).in_force(3600, None).expect("in force half an hour on");
        assert_eq!(denied.until.0, left.checked_add(HOUR).unwrap());
        assert_eq!(denied.reason, "alice left developers");
        assert_eq!(at(HOUR).in_force(3600, None), None, "lifted once every session expired");
        // AWS still has a longer maximum than the spec asks now: sessions
        // issued under it live that long.
        let current = RoleState {
            max_session_duration: 4 * 3600,
            ..RoleState::default()
        };
        assert!(at(2 * HOUR).in_force(3600, Some(&current)).is_some());
        assert_eq!(at(4 * HOUR).in_force(3600, Some(&current)), None);
        // Tests shorten the lifetime.
        let short = Revocation {
            session_lifetime: Some(Duration::from_secs(5)),
            ..at(Duration::from_secs(6))
        };
        assert_eq!(short.in_force(3600, None), None);
    }

    #[test]
    fn the_next_look_is_when_the_deny_is_lifted() {
        let now = Timestamp::now();
        let denied = removal(now, now).in_force(3600, None);
        let wait = until_lifted(denied.as_ref(), now).unwrap();
        assert_eq!(wait, HOUR);
        assert_eq!(until_lifted(None, now), None);
    }
}

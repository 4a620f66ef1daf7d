//! The two halves of cross-account access (seed 003): the trust policy on the role in
//! the target account, and the identity policy on the group whose members may assume
//! it; plus the `~/.aws/config` profiles that make those roles usable from the CLI.

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

use super::PolicyError;
use super::document::POLICY_VERSION;
use super::validate::{validate_account_id, validate_external_id, validate_principal_arn};

pub const ASSUME_ROLE_ACTION: &str = "sts:AssumeRole";

/// Who may assume a role: whole accounts (their own policies then decide which of
/// their identities may), and individual principal ARNs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustSpec {
    /// 12-digit account ids.
    pub accounts: Vec<String>,
    /// IAM user, role or assumed-role ARNs.
    pub principals: Vec<String>,
    /// Require `aws:MultiFactorAuthPresent` on the caller's session.
    pub require_mfa: bool,
    /// Require the caller to pass this `sts:ExternalId` (third-party access).
    pub external_id: Option<String>,
    /// The trust ends at this moment (RFC 3339), as AWS itself enforces it.
    pub valid_until: Option<String>,
}

/// The ARN that stands for a whole account in a policy, and the form IAM rewrites a bare
/// account-id principal into. Only the commercial `aws` partition is covered.
pub fn account_root_arn(account_id: &str) -> String {
    format!("arn:aws:iam::{account_id}:root")
}

/// The role's trust policy: one statement allowing `sts:AssumeRole` to the listed
/// accounts (as root ARNs) and principals, sorted and without duplicates.
///
/// Every input is validated here, so a bad entry is reported before IAM sees it; a
/// spec that trusts nobody is an error rather than a role no one can ever use.
pub fn trust_policy(spec: &TrustSpec) -> Result<Value, PolicyError> {
    for account in &spec.accounts {
        validate_account_id(account)?;
    }
    for principal in &spec.principals {
        validate_principal_arn(principal)?;
    }
    if let Some(external_id) = &spec.external_id {
        validate_external_id(external_id)?;
    }
    let trusted: BTreeSet<String> = spec
        .accounts
        .iter()
        .map(|account| account_root_arn(account))
        .chain(spec.principals.iter().cloned())
        .collect();
    if trusted.is_empty() {
        return Err(PolicyError::NoTrustedPrincipal);
    }
    let mut statement = json!({
        "Effect": "Allow",
        "Principal": { "AWS": trusted },
        "Action": ASSUME_ROLE_ACTION,
    });
    add_conditions(
        &mut statement,
        spec.require_mfa,
        spec.external_id.as_deref(),
        spec.valid_until.as_deref(),
    );
    Ok(json!({ "Version": POLICY_VERSION, "Statement": [statement] }))
}

/// The trust policy of a role that no one may assume: what a role keeps
/// while every reference that would say who may is missing, so that access
/// ends when they go rather than lingering. IAM wants a principal that an
/// Allow names; the Deny on everyone overrides it.
pub fn trust_nobody(account_id: &str) -> Value {
    json!({
        "Version": POLICY_VERSION,
        "Statement": [
            { "Effect": "Allow", "Principal": { "AWS": account_root_arn(account_id) }, "Action": ASSUME_ROLE_ACTION },
            { "Effect": "Deny", "Principal": { "AWS": "*" }, "Action": ASSUME_ROLE_ACTION },
        ]
    })
}

/// The identity-side inline policy of a group: its members may assume these roles.
/// `None` when there are no roles, since IAM rejects a statement without resources;
/// the caller then removes the inline policy instead.
pub fn assume_role_policy(role_arns: &[String], require_mfa: bool) -> Option<Value> {
    let roles: BTreeSet<&String> = role_arns.iter().collect();
    if roles.is_empty() {
        return None;
    }
    let mut statement = json!({
        "Effect": "Allow",
        "Action": ASSUME_ROLE_ACTION,
        "Resource": roles,
    });
    add_conditions(&mut statement, require_mfa, None, None);
    Some(json!({ "Version": POLICY_VERSION, "Statement": [statement] }))
}

fn add_conditions(statement: &mut Value, require_mfa: bool, external_id: Option<&str>, valid_until: Option<&str>) {
    let mut conditions = Map::new();
    if require_mfa {
        conditions.insert("Bool".into(), json!({ "aws:MultiFactorAuthPresent": "true" }));
    }
    if let Some(external_id) = external_id {
        conditions.insert("StringEquals".into(), json!({ "sts:ExternalId": external_id }));
    }
    if let Some(until) = valid_until {
        conditions.insert("DateLessThan".into(), json!({ "aws:CurrentTime": until }));
    }
    if !conditions.is_empty() {
        statement["Condition"] = Value::Object(conditions);
    }
}

/// `~/.aws/config` sections, one per `(profile, role ARN)` in the order given, each
/// assuming its role from `source_profile`.
///
/// The text is copied into users' config files, so profile names and ARNs must have been
/// checked with `validate_profile_name` and `validate_role_arn`: a newline in either
/// would let a spec inject settings such as `credential_process`.
/// `mfa_serial` is the caller's MFA device; it is per user, so a group-wide config can
/// only carry a placeholder the user replaces.
pub fn render_aws_config(profiles: &[(String, String)], mfa_serial: Option<&str>, source_profile: &str) -> String {
    let mfa_line = mfa_serial
        .map(|serial| format!("mfa_serial = {serial}\n"))
        .unwrap_or_default();
    profiles
        .iter()
        .map(|(profile, role_arn)| {
            format!("[profile {profile}]\nrole_arn = {role_arn}\nsource_profile = {source_profile}\n{mfa_line}")
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::document::equivalent;
    use crate::policy::validate::{TRUST_POLICY_DEFAULT_MAX_CHARS, validate_trust_policy};

    fn alfie_role_arns() -> Vec<String> {
        vec![
            "arn:aws:iam::345678901234:role/AlfieFullAccess".into(),
            "arn:aws:iam::123456789012:role/AlfieReadOnly".into(),
            "arn:aws:iam::234567890123:role/AlfieDeployment".into(),
        ]
    }

    #[test]
    fn a_trust_policy_for_an_account_trusts_its_root() {
        let spec = TrustSpec {
            accounts: vec!["012345678901".into()],
            ..TrustSpec::default()
        };
        let seed = json!({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::012345678901:root"}, "Action": "sts:AssumeRole"}]
        });
        let built = trust_policy(&spec).unwrap();
        assert!(equivalent(&built, &seed));
        assert_eq!(built["Statement"][0].get("Condition"), None);
        validate_trust_policy(&built, TRUST_POLICY_DEFAULT_MAX_CHARS).unwrap();
    }

    #[test]
    fn principals_are_sorted_and_deduplicated() {
        let spec = TrustSpec {
            accounts: vec!["444455556666".into(), "012345678901".into(), "444455556666".into()],
            principals: vec![
                "arn:aws:iam::012345678901:user/alice".into(),
                "arn:aws:iam::012345678901:root".into(),
            ],
            ..TrustSpec::default()
        };
        let built = trust_policy(&spec).unwrap();
        assert_eq!(
            built["Statement"][0]["Principal"]["AWS"],
            json!([
                "arn:aws:iam::012345678901:root",
                "arn:aws:iam::012345678901:user/alice",
                "arn:aws:iam::444455556666:root"
            ])
        );
    }

    #[test]
    fn mfa_and_external_id_become_conditions() {
        let spec = TrustSpec {
            accounts: vec!["444455556666".into()],
            require_mfa: true,
            external_id: Some("sembit-7f3a9c".into()),
            ..TrustSpec::default()
        };
        let built = trust_policy(&spec).unwrap();
        assert_eq!(
            built["Statement"][0]["Condition"],
            json!({
                "Bool": {"aws:MultiFactorAuthPresent": "true"},
                "StringEquals": {"sts:ExternalId": "sembit-7f3a9c"}
            })
        );
        validate_trust_policy(&built, TRUST_POLICY_DEFAULT_MAX_CHARS).unwrap();
    }

    #[test]
    fn a_time_bound_is_a_date_condition_aws_enforces() {
        let spec = TrustSpec {
            accounts: vec!["444455556666".into()],
            valid_until: Some("2027-01-31T00:00:00Z".into()),
            ..TrustSpec::default()
        };
        let built = trust_policy(&spec).unwrap();
        assert_eq!(
            built["Statement"][0]["Condition"],
            json!({"DateLessThan": {"aws:CurrentTime": "2027-01-31T00:00:00Z"}})
        );
        validate_trust_policy(&built, TRUST_POLICY_DEFAULT_MAX_CHARS).unwrap();
    }

    #[test]
    fn a_role_trusting_nobody_denies_everyone() {
        let locked = trust_nobody("345678901234");
        validate_trust_policy(&locked, TRUST_POLICY_DEFAULT_MAX_CHARS).unwrap();
        assert_eq!(locked["Statement"][1]["Effect"], "Deny");
        assert_eq!(locked["Statement"][1]["Principal"]["AWS"], "*");
    }

    #[test]
    fn trusting_nobody_is_an_error() {
        let error = trust_policy(&TrustSpec {
            require_mfa: true,
            ..TrustSpec::default()
        })
        .unwrap_err();
        assert_eq!(error, PolicyError::NoTrustedPrincipal);
        assert!(error.to_string().contains("at least one"));
    }

    #[test]
    fn bad_trust_inputs_are_reported_before_building() {
        let bad_account = TrustSpec {
            accounts: vec!["12345".into()],
            ..TrustSpec::default()
        };
        assert!(matches!(
            trust_policy(&bad_account),
            Err(PolicyError::InvalidAccountId { .. })
        ));
        let group_principal = TrustSpec {
            principals: vec!["arn:aws:iam::012345678901:group/alfie-developers".into()],
            ..TrustSpec::default()
        };
        assert!(matches!(
            trust_policy(&group_principal),
            Err(PolicyError::InvalidArn { .. })
        ));
        let bad_external_id = TrustSpec {
            accounts: vec!["444455556666".into()],
            external_id: Some("has space".into()),
            ..TrustSpec::default()
        };
        assert!(matches!(
            trust_policy(&bad_external_id),
            Err(PolicyError::InvalidExternalId { .. })
        ));
    }

    #[test]
    fn a_group_policy_allows_assuming_exactly_its_roles() {
        let seed = json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Effect": "Allow",
                "Action": "sts:AssumeRole",
                "Resource": [
                    "arn:aws:iam::123456789012:role/AlfieReadOnly",
                    "arn:aws:iam::234567890123:role/AlfieDeployment",
                    "arn:aws:iam::345678901234:role/AlfieFullAccess"
                ]
            }]
        });
        let built = assume_role_policy(&alfie_role_arns(), false).unwrap();
        assert_eq!(built, seed);
    }

    #[test]
    fn group_policy_deduplicates_and_can_require_mfa() {
        let mut arns = alfie_role_arns();
        arns.push(arns[0].clone());
        let built = assume_role_policy(&arns, true).unwrap();
        assert_eq!(built["Statement"][0]["Resource"].as_array().unwrap().len(), 3);
        assert_eq!(
            built["Statement"][0]["Condition"],
            json!({"Bool": {"aws:MultiFactorAuthPresent": "true"}})
        );
    }

    #[test]
    fn no_roles_means_no_group_policy() {
        assert_eq!(assume_role_policy(&[], true), None);
    }

    #[test]
    fn the_aws_config_has_one_profile_per_role() {
        let profiles = [
            ("alfie-development", "arn:aws:iam::345678901234:role/AlfieFullAccess"),
            ("alfie-qa", "arn:aws:iam::234567890123:role/AlfieDeployment"),
            ("alfie-production", "arn:aws:iam::123456789012:role/AlfieReadOnly"),
        ]
        .map(|(profile, arn)| (profile.to_string(), arn.to_string()));
        let expected = "\
[profile alfie-development]
role_arn = arn:aws:iam::345678901234:role/AlfieFullAccess
source_profile = default
[profile alfie-qa]
role_arn = arn:aws:iam::234567890123:role/AlfieDeployment
source_profile = default
[profile alfie-production]
role_arn = arn:aws:iam::123456789012:role/AlfieReadOnly
source_profile = default
";
        assert_eq!(render_aws_config(&profiles, None, "default"), expected);
    }

    #[test]
    fn aws_config_names_the_mfa_device_when_mfa_is_required() {
        let profiles = [(
            "alfie-development".to_string(),
            "arn:aws:iam::345678901234:role/AlfieFullAccess".to_string(),
        )];
        let config = render_aws_config(&profiles, Some("arn:aws:iam::012345678901:mfa/alice"), "identity");
        assert_eq!(
            config,
            "[profile alfie-development]\nrole_arn = arn:aws:iam::345678901234:role/AlfieFullAccess\n\
             source_profile = identity\nmfa_serial = arn:aws:iam::012345678901:mfa/alice\n"
        );
        assert_eq!(render_aws_config(&[], None, "default"), "");
    }
}

//! IAM's credential report: one CSV per account with every user's
//! password, MFA and access-key dates. IAM makes a new one at most every
//! four hours; `read` takes the one IAM has while it is young enough and
//! asks for a new one only when it is not.

use std::time::Duration;

use k8s_openapi::jiff::Timestamp;

use super::{AwsError, AwsErrorKind, AwsResult, Iam};

/// What IAM answers to GetCredentialReport.
#[derive(Clone, Debug, PartialEq)]
pub enum CredentialReportRead {
    Ready(CredentialReport),
    /// None made yet, or the last one is older than IAM keeps them.
    Absent,
    /// Being made.
    InProgress,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct CredentialReport {
    pub generated: Option<Timestamp>,
    pub users: Vec<UserCredentials>,
}

/// One row: a user's credentials. The `<root_account>` row is left out.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct UserCredentials {
    pub user: String,
    pub arn: String,
    pub created: Option<Timestamp>,
    /// Whether it has a console password.
    pub password_enabled: bool,
    pub password_last_used: Option<Timestamp>,
    pub mfa_active: bool,
    /// Its active keys, first then second.
    pub access_keys: Vec<KeyCredentials>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct KeyCredentials {
    /// 1 or 2, as the report numbers them.
    pub number: u8,
    /// When it was made or last rotated.
    pub last_rotated: Option<Timestamp>,
    pub last_used: Option<Timestamp>,
}

/// The report's CSV, by its column names (AWS adds columns over time).
pub fn parse(csv_text: &str, generated: Option<Timestamp>) -> AwsResult<CredentialReport> {
    let malformed = |detail: String| AwsError {
        kind: AwsErrorKind::Other,
        operation: "GetCredentialReport",
        message: format!("the credential report cannot be read: {detail}"),
        request_id: None,
    };
    let mut reader = ::csv::Reader::from_reader(csv_text.as_bytes());
    let header = reader.headers().map_err(|err| malformed(err.to_string()))?.clone();
    let mut users = vec![];
    for record in reader.records() {
        let record = record.map_err(|err| malformed(err.to_string()))?;
        let field = |name: &str| {
            header
                .iter()
                .position(|column| column == name)
                .and_then(|at| record.get(at))
                .unwrap_or_default()
        };
        let time = |name: &str| field(name).parse::<Timestamp>().ok();
        if field("user") == "<root_account>" {
            continue;
        }
        let access_keys = [1u8, 2]
            .into_iter()
            .filter(|n| field(&format!("access_key_{n}_active")) == "true")
            .map(|n| KeyCredentials {
                number: n,
                last_rotated: time(&format!("access_key_{n}_last_rotated")),
                last_used: time(&format!("access_key_{n}_last_used_date")),
            })
            .collect();
        users.push(UserCredentials {
            user: field("user").to_owned(),
            arn: field("arn").to_owned(),
            created: time("user_creation_time"),
            password_enabled: field("password_enabled") == "true",
            password_last_used: time("password_last_used"),
            mfa_active: field("mfa_active") == "true",
            access_keys,
        });
    }
    Ok(CredentialReport { generated, users })
}

/// How long to wait for IAM to finish a report, and how often to look.
const GENERATION_POLLS: u32 = 30;
const GENERATION_POLL: Duration = Duration::from_secs(2);

/// The account's credential report: the one IAM holds when it was made less
/// than `max_age` before `now`, else a new one. One call when IAM's is
/// young enough; three or more when a new one is made.
pub async fn read(iam: &dyn Iam, now: Timestamp, max_age: Duration) -> AwsResult<CredentialReport> {
    let young = |report: &CredentialReport| {
        report
            .generated
            .is_some_and(|at| now.duration_since(at).unsigned_abs() < max_age)
    };
    if let CredentialReportRead::Ready(report) = iam.get_credential_report().await?
        && young(&report)
    {
        return Ok(report);
    }
    iam.generate_credential_report().await?;
    for _ in 0..GENERATION_POLLS {
        // IAM answers "in progress" until the new one is made, never the old one.
        match iam.get_credential_report().await? {
            CredentialReportRead::Ready(report) => return Ok(report),
            _ => tokio::time::sleep(GENERATION_POLL).await,
        }
    }
    Err(AwsError {
        kind: AwsErrorKind::ServiceFailure,
        operation: "GenerateCredentialReport",
        message: format!(
            "the credential report was not ready after {} s",
            GENERATION_POLLS as u64 * GENERATION_POLL.as_secs()
        ),
        request_id: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const REPORT: &str = "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated
<root_account>,arn:aws:iam::123456789012:root,2020-01-01T00:00:00+00:00,not_supported,2026-01-01T00:00:00+00:00,not_supported,not_supported,true,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A
alice,arn:aws:iam::123456789012:user/alice,2026-12-06T07:16:32+00:00,true,no_information,2026-12-06T07:16:32+00:00,not_supported,false,true,2026-01-02T00:00:00+00:00,N/A,not_supported,not_supported,false,2026-01-03T00:00:00+00:00,N/A,not_supported,not_supported,false,N/A,false,N/A
";

    #[tokio::test]
    async fn a_report_younger_than_the_maximum_age_is_read_rather_than_made_again() {
        use crate::aws::Aws;
        use crate::aws::fake::FakeAws;
        let aws = FakeAws::new("111111111111");
        let iam = aws.iam("111111111111", "unused").await.expect("iam");
        let four_hours = Duration::from_secs(4 * 3600);
        read(iam.as_ref(), Timestamp::now(), four_hours).await.expect("made");
        assert_eq!(aws.count("GenerateCredentialReport"), 1);
        read(iam.as_ref(), Timestamp::now(), four_hours).await.expect("reused");
        assert_eq!(aws.count("GenerateCredentialReport"), 1, "a young report is reused");
        assert_eq!(aws.count("GetCredentialReport"), 3);
        let later = Timestamp::now() + k8s_openapi::jiff::SignedDuration::from_hours(5);
        read(iam.as_ref(), later, four_hours).await.expect("made again");
        assert_eq!(aws.count("GenerateCredentialReport"), 2, "an old one is made again");
    }

    #[test]
    fn rows_are_read_by_column_name_and_the_root_row_is_left_out() {
        let report = parse(REPORT, None).expect("parses");
        assert_eq!(report.users.len(), 1);
        let alice = &report.users[0];
        assert_eq!(alice.user, "alice");
        assert!(alice.password_enabled && !alice.mfa_active);
        assert_eq!(alice.password_last_used, None, "no_information is no date");
        assert_eq!(
            alice.access_keys,
            [KeyCredentials {
                number: 1,
                last_rotated: Some("2026-01-02T00:00:00Z".parse().expect("time")),
                last_used: None,
            }],
            "an inactive key is not listed"
        );
    }
}

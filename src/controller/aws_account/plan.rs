//! Pure: the steps of an account's life (find it or create it, follow the
//! creation, place it, tag it, close it), decided from the spec, the status
//! and what Organizations reports.

use crate::api::{
    AccountDeletionPolicy, AccountState, AwsAccountSpec, AwsAccountStatus, BillingAccess, ManagementPolicy, Tags,
};
use crate::aws::{AccountInfo, CreateAccountStatus, NewAccount, OrganizationalUnit};
use crate::controller::tags;

/// The state of a CreateAccount request that has not finished.
pub const IN_PROGRESS: &str = "IN_PROGRESS";

/// Where the reconcile finds the account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Locate {
    /// Its id is known: named by `spec.accountId` (adopted), or recorded in status.
    Account { id: String, adopted: bool },
    /// CreateAccount was called and its request id recorded: follow the request.
    Poll(String),
    /// Nothing recorded. An earlier run may have died between CreateAccount
    /// and recording its answer, so look for its work before creating.
    Search,
}

pub fn locate(spec: &AwsAccountSpec, status: &AwsAccountStatus, generation: Option<i64>) -> Locate {
    if let Some(id) = &spec.account_id {
        return Locate::Account {
            id: id.clone(),
            adopted: true,
        };
    }
    if let Some(id) = &status.account_id {
        return Locate::Account {
            id: id.clone(),
            adopted: false,
        };
    }
    match &status.create_account_request_id {
        // A failed request stays failed. A changed spec, the fix the Stalled
        // condition asks for, starts over.
        Some(_) if status.state == Some(AccountState::Failed) && status.reconcile.observed_generation != generation => {
            Locate::Search
        }
        Some(request) => Locate::Poll(request.clone()),
        None => Locate::Search,
    }
}

/// How a CreateAccount request stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Progress {
    Running,
    Succeeded(String),
    /// AWS's failure reason, such as `EMAIL_ALREADY_EXISTS`.
    Failed(String),
}

pub fn progress(request: &CreateAccountStatus) -> Progress {
    match (request.state.as_str(), &request.account_id) {
        ("SUCCEEDED", Some(id)) => Progress::Succeeded(id.clone()),
        ("FAILED", _) => Progress::Failed(
            request
                .failure_reason
                .clone()
                .unwrap_or_else(|| "no reason given".into()),
        ),
        // IN_PROGRESS, or a state this version does not know: look again later.
        _ => Progress::Running,
    }
}

/// What an earlier run of the operator may have left in AWS.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Earlier {
    /// An account with the spec's email.
    Account(String),
    /// A request still running under the spec's account name.
    Request(String),
    Nothing,
}

/// Finds the account by its email, which is unique across AWS, else a
/// request still running under the account's name: requests carry no email,
/// and the account's email is checked once it exists (`same_email`).
pub fn earlier(spec: &AwsAccountSpec, running: &[CreateAccountStatus], accounts: &[AccountInfo]) -> Earlier {
    if let Some(account) = accounts.iter().find(|a| a.email.eq_ignore_ascii_case(&spec.email)) {
        return Earlier::Account(account.id.clone());
    }
    match running
        .iter()
        .find(|r| r.state == IN_PROGRESS && r.account_name == spec.account_name)
    {
        Some(request) => Earlier::Request(request.request_id.clone()),
        None => Earlier::Nothing,
    }
}

/// Whether the account in AWS is the one the spec means. AWS compares
/// emails without regard to case.
pub fn same_email(spec: &AwsAccountSpec, account: &AccountInfo) -> bool {
    account.email.eq_ignore_ascii_case(&spec.email)
}

pub fn new_account(spec: &AwsAccountSpec) -> NewAccount {
    NewAccount {
        name: spec.account_name.clone(),
        email: spec.email.clone(),
        access_role_name: spec.access_role_name.clone(),
        iam_user_access_to_billing: match spec.iam_user_access_to_billing {
            BillingAccess::Allow => "ALLOW",
            BillingAccess::Deny => "DENY",
        }
        .into(),
        tags: spec.tags.clone(),
    }
}

/// Where the spec puts the account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Placement {
    Root,
    /// An OU id (`ou-ab12-cd34ef56`).
    Id(String),
    /// OU names from the root down.
    Path(Vec<String>),
}

pub fn placement(spec: &AwsAccountSpec) -> Placement {
    match spec.organizational_unit.as_deref() {
        None => Placement::Root,
        Some(id) if is_ou_id(id) => Placement::Id(id.into()),
        Some(path) => Placement::Path(path.split('/').map(String::from).collect()),
    }
}

/// `ou-` + the root's 4 to 32 characters + `-` + 8 to 32 characters, as the
/// schema's pattern says; anything else is a path.
fn is_ou_id(value: &str) -> bool {
    let parts: Vec<&str> = value.split('-').collect();
    let token = |part: &str, min: usize| {
        (min..=32).contains(&part.len()) && part.bytes().all(|b| b.is_ascii_digit() || b.is_ascii_lowercase())
    };
    matches!(parts.as_slice(), ["ou", root, unit] if token(root, 4) && token(unit, 8))
}

/// The id of the OU called `name` among a parent's children.
pub fn child_named<'a>(children: &'a [OrganizationalUnit], name: &str) -> Option<&'a str> {
    children
        .iter()
        .find(|unit| unit.name == name)
        .map(|unit| unit.id.as_str())
}

/// The account's state from Organizations' `State` (or older `Status`);
/// None for a state this version does not know.
pub fn state(aws_state: &str) -> Option<AccountState> {
    match aws_state {
        "ACTIVE" => Some(AccountState::Active),
        "PENDING_ACTIVATION" => Some(AccountState::Creating),
        "SUSPENDED" | "CLOSED" => Some(AccountState::Suspended),
        "PENDING_CLOSURE" => Some(AccountState::PendingClosure),
        _ => None,
    }
}

/// Where the account sits and its tags, as Organizations reports them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Observed {
    pub parent: String,
    pub tags: Tags,
}

/// One write to Organizations.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    Move { from: String, to: String },
    Tag(Tags),
    Untag(Vec<String>),
}

impl Change {
    pub fn describe(&self) -> String {
        match self {
            Change::Move { from, to } => format!("move from {from} to {to}"),
            Change::Tag(tags) => format!("tag {}", tags.keys().cloned().collect::<Vec<_>>().join(", ")),
            Change::Untag(keys) => format!("untag {}", keys.join(", ")),
        }
    }
}

/// The writes that put the account under `parent` with `desired` tags.
pub fn plan(parent: &str, desired: &Tags, observed: &Observed) -> Vec<Change> {
    let mut changes = vec![];
    if observed.parent != parent {
        changes.push(Change::Move {
            from: observed.parent.clone(),
            to: parent.into(),
        });
    }
    let (changed, removed) = tags::diff(desired, &observed.tags);
    if !changed.is_empty() {
        changes.push(Change::Tag(changed));
    }
    if !removed.is_empty() {
        changes.push(Change::Untag(removed));
    }
    changes
}

/// Organizations cannot rename an account, so a different name is reported,
/// with what to do about it.
pub fn name_difference(spec: &AwsAccountSpec, account: &AccountInfo) -> Option<String> {
    (account.name != spec.account_name).then(|| {
        format!(
            "the account is named {:?} in AWS, not {:?}; Organizations cannot rename accounts: rename it in the AWS console (Account settings) or set spec.accountName to {:?}",
            account.name, spec.account_name, account.name
        )
    })
}

/// Whether deleting the object closes the account: only `deletionPolicy:
/// Close`, and never in Observe. The schema defaults the policy to Retain, so
/// Close is always written by a user, never filled in: an adopted account is
/// closed only when its manifest says so.
pub fn closes(spec: &AwsAccountSpec) -> bool {
    spec.deletion_policy == AccountDeletionPolicy::Close && spec.management_policy == ManagementPolicy::Manage
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::ReconcileStatus;

    fn spec() -> AwsAccountSpec {
        serde_yaml_ng::from_str(
            "{accountName: alfie-development, email: aws+alfie-dev@example.com, tags: {team: alfie}}",
        )
        .expect("spec")
    }

    fn adopting() -> AwsAccountSpec {
        AwsAccountSpec {
            account_id: Some("345678901234".into()),
            ..spec()
        }
    }

    fn request(id: &str, state: &str, name: &str, account: Option<&str>, reason: Option<&str>) -> CreateAccountStatus {
        CreateAccountStatus {
            request_id: id.into(),
            state: state.into(),
            account_id: account.map(String::from),
            account_name: name.into(),
            failure_reason: reason.map(String::from),
        }
    }

    fn account(id: &str, email: &str) -> AccountInfo {
        AccountInfo {
            id: id.into(),
            arn: format!("arn:aws:organizations::123456789012:account/o-x/{id}"),
            name: "alfie-development".into(),
            email: email.into(),
            status: "ACTIVE".into(),
        }
    }

    fn status(
        account_id: Option<&str>,
        request: Option<&str>,
        state: Option<AccountState>,
        observed: Option<i64>,
    ) -> AwsAccountStatus {
        AwsAccountStatus {
            account_id: account_id.map(String::from),
            create_account_request_id: request.map(String::from),
            state,
            reconcile: ReconcileStatus {
                observed_generation: observed,
                ..ReconcileStatus::default()
            },
            ..AwsAccountStatus::default()
        }
    }

    #[test]
    fn nothing_recorded_searches_before_creating() {
        assert_eq!(locate(&spec(), &AwsAccountStatus::default(), Some(1)), Locate::Search);
    }

    #[test]
    fn a_recorded_request_is_polled_not_repeated() {
        let polling = status(None, Some("car-1"), Some(AccountState::Creating), Some(1));
        assert_eq!(locate(&spec(), &polling, Some(1)), Locate::Poll("car-1".into()));
        // Even after a spec change: the request is still the account's.
        assert_eq!(locate(&spec(), &polling, Some(2)), Locate::Poll("car-1".into()));
    }

    #[test]
    fn a_recorded_account_or_spec_account_id_is_used_as_is() {
        let created = status(Some("210987654321"), Some("car-1"), Some(AccountState::Active), Some(1));
        assert_eq!(
            locate(&spec(), &created, Some(1)),
            Locate::Account {
                id: "210987654321".into(),
                adopted: false
            }
        );
        assert_eq!(
            locate(&adopting(), &AwsAccountStatus::default(), Some(1)),
            Locate::Account {
                id: "345678901234".into(),
                adopted: true
            }
        );
    }

    #[test]
    fn a_failed_creation_starts_over_only_when_the_spec_changes() {
        let failed = status(None, Some("car-1"), Some(AccountState::Failed), Some(3));
        assert_eq!(locate(&spec(), &failed, Some(3)), Locate::Poll("car-1".into()));
        assert_eq!(locate(&spec(), &failed, Some(4)), Locate::Search);
    }

    #[test]
    fn request_progress_follows_aws() {
        assert_eq!(
            progress(&request("car-1", "IN_PROGRESS", "a", None, None)),
            Progress::Running
        );
        assert_eq!(
            progress(&request("car-1", "SUCCEEDED", "a", Some("210987654321"), None)),
            Progress::Succeeded("210987654321".into())
        );
        // Succeeded without an id yet is not done.
        assert_eq!(
            progress(&request("car-1", "SUCCEEDED", "a", None, None)),
            Progress::Running
        );
        assert_eq!(
            progress(&request("car-1", "FAILED", "a", None, Some("EMAIL_ALREADY_EXISTS"))),
            Progress::Failed("EMAIL_ALREADY_EXISTS".into())
        );
        assert_eq!(
            progress(&request("car-1", "FAILED", "a", None, None)),
            Progress::Failed("no reason given".into())
        );
    }

    #[test]
    fn earlier_work_is_found_by_email_then_by_running_request() {
        let spec = spec();
        let mine = account("210987654321", "AWS+Alfie-Dev@example.com");
        let other = account("111122223333", "someone@example.com");
        let running = request("car-7", IN_PROGRESS, "alfie-development", None, None);
        assert_eq!(
            earlier(&spec, std::slice::from_ref(&running), &[other.clone(), mine]),
            Earlier::Account("210987654321".into())
        );
        assert_eq!(
            earlier(&spec, std::slice::from_ref(&running), std::slice::from_ref(&other)),
            Earlier::Request("car-7".into())
        );
        let elsewhere = request("car-8", IN_PROGRESS, "alfie-qa", None, None);
        let finished = request("car-9", "SUCCEEDED", "alfie-development", Some("444455556666"), None);
        assert_eq!(earlier(&spec, &[elsewhere, finished], &[other]), Earlier::Nothing);
    }

    #[test]
    fn emails_compare_without_case() {
        assert!(same_email(&spec(), &account("1", "AWS+ALFIE-DEV@EXAMPLE.COM")));
        assert!(!same_email(&spec(), &account("1", "aws+alfie-qa@example.com")));
    }

    #[test]
    fn new_accounts_carry_the_spec() {
        let mut spec = spec();
        let created = new_account(&spec);
        assert_eq!(
            (created.name.as_str(), created.email.as_str()),
            ("alfie-development", "aws+alfie-dev@example.com")
        );
        assert_eq!(created.access_role_name, "OrganizationAccountAccessRole");
        assert_eq!(created.iam_user_access_to_billing, "ALLOW");
        assert_eq!(created.tags["team"], "alfie");
        spec.iam_user_access_to_billing = BillingAccess::Deny;
        assert_eq!(new_account(&spec).iam_user_access_to_billing, "DENY");
    }

    #[test]
    fn organizational_units_are_paths_or_ids() {
        let with = |ou: Option<&str>| {
            placement(&AwsAccountSpec {
                organizational_unit: ou.map(String::from),
                ..spec()
            })
        };
        assert_eq!(with(None), Placement::Root);
        assert_eq!(with(Some("ou-ab12-cd34ef56")), Placement::Id("ou-ab12-cd34ef56".into()));
        assert_eq!(
            with(Some("Workloads/Development")),
            Placement::Path(vec!["Workloads".into(), "Development".into()])
        );
        assert_eq!(with(Some("Workloads")), Placement::Path(vec!["Workloads".into()]));
        // Not the shape of an id: a name that happens to start with ou-.
        assert_eq!(with(Some("ou-team")), Placement::Path(vec!["ou-team".into()]));
        assert_eq!(
            with(Some("ou-AB12-cd34ef56")),
            Placement::Path(vec!["ou-AB12-cd34ef56".into()])
        );
    }

    #[test]
    fn children_are_found_by_exact_name() {
        let children = [
            OrganizationalUnit {
                id: "ou-ab12-11111111".into(),
                name: "Development".into(),
                ..Default::default()
            },
            OrganizationalUnit {
                id: "ou-ab12-22222222".into(),
                name: "Production".into(),
                ..Default::default()
            },
        ];
        assert_eq!(child_named(&children, "Production"), Some("ou-ab12-22222222"));
        assert_eq!(child_named(&children, "development"), None);
    }

    #[test]
    fn state_follows_aws() {
        assert_eq!(state("ACTIVE"), Some(AccountState::Active));
        assert_eq!(state("SUSPENDED"), Some(AccountState::Suspended));
        assert_eq!(state("PENDING_CLOSURE"), Some(AccountState::PendingClosure));
        assert_eq!(state("PENDING_ACTIVATION"), Some(AccountState::Creating));
        assert_eq!(state("SOMETHING_NEW"), None);
    }

    #[test]
    fn an_account_in_place_with_its_tags_needs_no_write() {
        let observed = Observed {
            parent: "ou-ab12-11111111".into(),
            tags: spec().tags,
        };
        assert_eq!(plan("ou-ab12-11111111", &spec().tags, &observed), vec![]);
    }

    #[test]
    fn an_account_elsewhere_is_moved_and_its_tags_synced() {
        let observed = Observed {
            parent: "r-ab12".into(),
            tags: [
                ("team".to_string(), "bob".to_string()),
                ("cost".to_string(), "x".to_string()),
            ]
            .into(),
        };
        let changes = plan("ou-ab12-11111111", &spec().tags, &observed);
        assert_eq!(
            changes,
            vec![
                Change::Move {
                    from: "r-ab12".into(),
                    to: "ou-ab12-11111111".into()
                },
                Change::Tag([("team".to_string(), "alfie".to_string())].into()),
                Change::Untag(vec!["cost".into()]),
            ]
        );
        assert_eq!(
            changes.iter().map(Change::describe).collect::<Vec<_>>(),
            ["move from r-ab12 to ou-ab12-11111111", "tag team", "untag cost"]
        );
    }

    #[test]
    fn a_different_name_is_reported_with_the_fix() {
        assert_eq!(name_difference(&spec(), &account("1", "x")), None);
        let renamed = AccountInfo {
            name: "alfie-dev-old".into(),
            ..account("1", "x")
        };
        let message = name_difference(&spec(), &renamed).expect("differs");
        assert!(
            message.contains("\"alfie-dev-old\"") && message.contains("spec.accountName"),
            "{message}"
        );
    }

    #[test]
    fn only_an_explicit_close_in_manage_mode_closes() {
        assert!(!closes(&spec()), "the default retains");
        assert!(!closes(&adopting()), "an adopted account is retained by default");
        let close = |spec: AwsAccountSpec| AwsAccountSpec {
            deletion_policy: AccountDeletionPolicy::Close,
            ..spec
        };
        assert!(closes(&close(spec())));
        assert!(
            closes(&close(adopting())),
            "Close written in the manifest closes an adopted account too"
        );
        assert!(!closes(&AwsAccountSpec {
            management_policy: ManagementPolicy::Observe,
            ..close(spec())
        }));
    }
}

//! Pure: the steps of an account's life (find it or create it, follow the
//! creation, place it, tag it, close it), decided from the spec, the status
//! and what Organizations reports.

use crate::api::{
    AccountDeletionPolicy, AccountState, AwsAccount, AwsAccountSpec, AwsAccountStatus, ManagementPolicy, Reason, Tags,
};
use crate::aws::{
    AccountInfo, CreateAccountState, CreateAccountStatus, NewAccount, OrgAccountState, OrganizationalUnit,
};
use crate::controller::driver::Stop;
use crate::controller::status::Outcome;
use crate::controller::tags;
use crate::plan::ObjectPlan;
use crate::plan::kinds::{change, lay_out};

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
    match (&request.state, &request.account_id) {
        (CreateAccountState::Succeeded, Some(id)) => Progress::Succeeded(id.clone()),
        (CreateAccountState::Failed, _) => Progress::Failed(
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
        .find(|r| r.state == CreateAccountState::InProgress && r.account_name == spec.account_name)
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
        iam_user_access_to_billing: spec.iam_user_access_to_billing,
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

/// The account's state as the object reports it; None for a state this
/// version does not know.
pub fn state(aws_state: &OrgAccountState) -> Option<AccountState> {
    match aws_state {
        OrgAccountState::Active => Some(AccountState::Active),
        OrgAccountState::PendingActivation => Some(AccountState::Creating),
        OrgAccountState::Suspended | OrgAccountState::Closed => Some(AccountState::Suspended),
        OrgAccountState::PendingClosure => Some(AccountState::PendingClosure),
        OrgAccountState::Unknown(_) => None,
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

/// Where the account sits, and the writes that place and tag it as the
/// spec says, or why the spec's OU is not found (yet).
pub struct Placing {
    pub current: Observed,
    /// The parent the spec names, and the writes.
    pub target: Result<(String, Vec<Change>), String>,
}

/// How the reconcile came by the account's id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// Named by `spec.accountId`.
    Adopted,
    /// Recorded in the status by an earlier reconcile.
    Recorded,
    /// Made by a CreateAccount request: the one the status records, or
    /// (`found_request`) one the search found running.
    Created { found_request: Option<String> },
    /// Found by its email: made by an earlier run that died before
    /// recording it, or by hand.
    Found,
}

impl Origin {
    /// Whether the account was made for this object, and is reported
    /// created: by its request, or by an earlier run's, not adopted by id.
    pub fn created(&self) -> bool {
        matches!(self, Origin::Created { .. } | Origin::Found)
    }
}

/// The account as Organizations describes it. Only an active account that
/// is the one the spec means is read further, for where it sits.
pub enum Sight {
    NotMember,
    OtherEmail(AccountInfo),
    /// Being activated, suspended, closing, or in a state this version does not know.
    Inactive(AccountInfo),
    Active(AccountInfo, Placing),
}

/// An account the reconcile found.
pub struct Sighted {
    pub id: String,
    pub origin: Origin,
    pub sight: Sight,
}

/// What converging would find, read without writing anything: the
/// reconcile acts on it (`next`), `plan` prints it.
pub enum AccountPreview {
    /// A CreateAccount request that has not made the account yet; `found`:
    /// by the search, not recorded in the status.
    Creating {
        request: String,
        found: bool,
    },
    /// A CreateAccount request that failed, with AWS's reason.
    Failed {
        request: String,
        found: bool,
        reason: String,
    },
    /// The status as the API server has it records a creation the cache
    /// did not show yet: it is resumed, never repeated.
    Recorded(AwsAccountStatus),
    /// No account and no request. None in Observe mode, which creates
    /// nothing and so reads no further.
    Absent(Option<Creation>),
    Account(Sighted),
}

/// What CreateAccount needs, read before it.
pub struct Creation {
    /// The object as the API server has it: its resourceVersion fences the call.
    pub fresh: Box<AwsAccount>,
    /// The root or OU the spec places the account in, or why no OU answers to it yet.
    pub parent: Result<String, String>,
}

/// The writes that follow a preview.
pub enum Writes<'a> {
    /// CreateAccount, the account to be made under `parent`.
    Create {
        fresh: &'a AwsAccount,
        parent: &'a str,
    },
    Place(Place<'a>),
}

/// The moves and tags that put an active account where the spec says.
pub struct Place<'a> {
    pub sighted: &'a Sighted,
    pub info: &'a AccountInfo,
    pub parent: &'a str,
    pub changes: &'a [Change],
}

impl Writes<'_> {
    /// Each write, as Events and `plan` describe it.
    pub fn describe(&self, spec: &AwsAccountSpec) -> Vec<String> {
        match self {
            Writes::Create { parent, .. } => vec![format!(
                "create account {} ({}) in {parent}",
                spec.account_name, spec.email
            )],
            Writes::Place(place) => place.describe(),
        }
    }
}

impl Place<'_> {
    pub fn describe(&self) -> Vec<String> {
        self.changes.iter().map(Change::describe).collect()
    }
}

/// A running CreateAccount request, as the conditions report it.
pub fn creating(request: &str) -> Outcome {
    Outcome::reconciling(
        Reason::Creating,
        format!("AWS is creating the account (request {request})"),
    )
}

impl AccountPreview {
    /// The account as messages name it, once the spec's account is known.
    pub fn label(&self, spec: &AwsAccountSpec) -> Option<String> {
        match self {
            AccountPreview::Absent(_) => Some(format!("account {} ({})", spec.account_name, spec.email)),
            AccountPreview::Account(sighted) => sighted.label(),
            _ => None,
        }
    }

    /// What the reconcile does next: the writes, or where it stops before
    /// any and what it reports then.
    pub fn next(&self, spec: &AwsAccountSpec) -> Result<Writes<'_>, Outcome> {
        match self {
            AccountPreview::Creating { request, .. } => Err(creating(request)),
            AccountPreview::Failed { request, reason, .. } => Err(Outcome::stalled(
                Reason::CreateAccountFailed,
                format!(
                    "AWS failed to create the account (request {request}): {reason}. Change the spec to try again; spec.email is immutable, so for EMAIL_ALREADY_EXISTS create a new AwsAccount (with spec.accountId to adopt that account, or with another email)"
                ),
            )),
            AccountPreview::Recorded(_) => Err(Outcome::reconciling(
                Reason::Creating,
                "resuming the account creation recorded in status",
            )),
            AccountPreview::Absent(None) => Err(Outcome::drifted(format!(
                "no account with email {} is in the organization; Manage would create it",
                spec.email
            ))),
            AccountPreview::Absent(Some(Creation { fresh, parent })) => match parent {
                Ok(parent) => Ok(Writes::Create { fresh, parent }),
                // An account is created where it belongs or not at all: a
                // path that names no OU must not leave a new account at the
                // root, outside the guardrails of its OU.
                Err(message) => Err(Outcome::reconciling(
                    Reason::OrganizationalUnitNotFound,
                    format!("{message}; the account is created once it exists"),
                )),
            },
            AccountPreview::Account(sighted) => sighted.next(spec),
        }
    }
}

impl Sighted {
    /// "account ID (NAME)", once the account is confirmed as the spec's.
    pub fn label(&self) -> Option<String> {
        match &self.sight {
            Sight::Inactive(info) | Sight::Active(info, _) => Some(format!("account {} ({})", self.id, info.name)),
            Sight::NotMember | Sight::OtherEmail(_) => None,
        }
    }

    fn next(&self, spec: &AwsAccountSpec) -> Result<Writes<'_>, Outcome> {
        let id = &self.id;
        let what = self.label().unwrap_or_default();
        match &self.sight {
            Sight::NotMember if self.origin == Origin::Adopted => Err(Outcome::stalled(
                Reason::NotInOrganization,
                format!("spec.accountId {id} is not a member of this organization; invite it, or correct the id"),
            )),
            Sight::NotMember => Err(Outcome::stalled(
                Reason::NotInOrganization,
                format!(
                    "account {id} is no longer a member of this organization (it was removed outside the operator)"
                ),
            )),
            Sight::OtherEmail(info) => Err(Outcome::stalled(
                Reason::EmailDiffers,
                format!(
                    "account {id} has email {} in AWS, not spec.email {}; the operator changes nothing in an account it cannot confirm is the one meant",
                    info.email, spec.email
                ),
            )),
            Sight::Inactive(info) => Err(inactive(&what, info)),
            Sight::Active(info, placing) => match &placing.target {
                Ok((parent, changes)) => Ok(Writes::Place(Place {
                    sighted: self,
                    info,
                    parent,
                    changes,
                })),
                Err(message) => Err(Outcome::reconciling(
                    Reason::OrganizationalUnitNotFound,
                    format!("{message}; {what} stays in {} until it exists", placing.current.parent),
                )),
            },
        }
    }
}

/// Why nothing is written to an account that is not active.
fn inactive(what: &str, info: &AccountInfo) -> Outcome {
    match state(&info.state) {
        Some(AccountState::Creating) => Outcome::reconciling(Reason::Creating, format!("AWS is activating {what}")),
        Some(AccountState::Suspended | AccountState::PendingClosure) => Outcome::stalled(
            Reason::Suspended,
            format!(
                "{what} is {} in AWS: closed or suspended outside the operator. Nothing in it is changed, and objects that reference it wait; delete this object, or have AWS reopen the account",
                info.state.as_str()
            ),
        ),
        Some(AccountState::Active | AccountState::Failed) | None => Outcome::stalled(
            Reason::AwsError,
            format!(
                "{what} is in state {:?}, which this operator does not know",
                info.state.as_str()
            ),
        ),
    }
}

/// Whether deleting the object closes the account: only `deletionPolicy:
/// Close`, and never in Observe. The schema defaults the policy to Retain, so
/// Close is always written by a user, never filled in: an adopted account is
/// closed only when its manifest says so.
pub fn closes(spec: &AwsAccountSpec) -> bool {
    spec.deletion_policy == AccountDeletionPolicy::Close && spec.management_policy == ManagementPolicy::Manage
}

/// The account's writes, or where its reconcile would stop; a name AWS
/// cannot change, as a note.
pub(crate) fn lay_account(plan: &mut ObjectPlan, account: &AwsAccount, preview: &AccountPreview) -> Result<(), Stop> {
    let spec = &account.spec;
    let what = preview.label(spec);
    plan.target = what.clone();
    let writes = preview.next(spec)?;
    if let Writes::Place(place) = &writes {
        plan.notes.extend(name_difference(spec, place.info));
    }
    let changes = writes.describe(spec).into_iter().map(change).collect();
    let observe_only = spec.management_policy == ManagementPolicy::Observe;
    lay_out(plan, what.unwrap_or_default(), &[], changes, observe_only, None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::BillingAccess;
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

    fn request(
        id: &str,
        state: CreateAccountState,
        name: &str,
        account: Option<&str>,
        reason: Option<&str>,
    ) -> CreateAccountStatus {
        CreateAccountStatus {
            request_id: id.into(),
            state,
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
            state: OrgAccountState::Active,
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
            progress(&request("car-1", CreateAccountState::InProgress, "a", None, None)),
            Progress::Running
        );
        assert_eq!(
            progress(&request(
                "car-1",
                CreateAccountState::Succeeded,
                "a",
                Some("210987654321"),
                None
            )),
            Progress::Succeeded("210987654321".into())
        );
        // Succeeded without an id yet is not done.
        assert_eq!(
            progress(&request("car-1", CreateAccountState::Succeeded, "a", None, None)),
            Progress::Running
        );
        assert_eq!(
            progress(&request(
                "car-1",
                CreateAccountState::Failed,
                "a",
                None,
                Some("EMAIL_ALREADY_EXISTS")
            )),
            Progress::Failed("EMAIL_ALREADY_EXISTS".into())
        );
        assert_eq!(
            progress(&request("car-1", CreateAccountState::Failed, "a", None, None)),
            Progress::Failed("no reason given".into())
        );
    }

    #[test]
    fn earlier_work_is_found_by_email_then_by_running_request() {
        let spec = spec();
        let mine = account("210987654321", "AWS+Alfie-Dev@example.com");
        let other = account("111122223333", "someone@example.com");
        let running = request("car-7", CreateAccountState::InProgress, "alfie-development", None, None);
        assert_eq!(
            earlier(&spec, std::slice::from_ref(&running), &[other.clone(), mine]),
            Earlier::Account("210987654321".into())
        );
        assert_eq!(
            earlier(&spec, std::slice::from_ref(&running), std::slice::from_ref(&other)),
            Earlier::Request("car-7".into())
        );
        let elsewhere = request("car-8", CreateAccountState::InProgress, "alfie-qa", None, None);
        let finished = request(
            "car-9",
            CreateAccountState::Succeeded,
            "alfie-development",
            Some("444455556666"),
            None,
        );
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
        assert_eq!(created.iam_user_access_to_billing, BillingAccess::Allow);
        assert_eq!(created.tags["team"], "alfie");
        spec.iam_user_access_to_billing = BillingAccess::Deny;
        assert_eq!(new_account(&spec).iam_user_access_to_billing, BillingAccess::Deny);
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
        assert_eq!(state(&OrgAccountState::Active), Some(AccountState::Active));
        assert_eq!(state(&OrgAccountState::Suspended), Some(AccountState::Suspended));
        assert_eq!(state(&OrgAccountState::Closed), Some(AccountState::Suspended));
        assert_eq!(
            state(&OrgAccountState::PendingClosure),
            Some(AccountState::PendingClosure)
        );
        assert_eq!(state(&OrgAccountState::PendingActivation), Some(AccountState::Creating));
        assert_eq!(state(&OrgAccountState::Unknown("SOMETHING_NEW".into())), None);
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

    fn sighted(origin: Origin, sight: Sight) -> AccountPreview {
        AccountPreview::Account(Sighted {
            id: "210987654321".into(),
            origin,
            sight,
        })
    }

    fn active(target: Result<(String, Vec<Change>), String>) -> Sight {
        let current = Observed {
            parent: "r-ab12".into(),
            tags: spec().tags,
        };
        Sight::Active(
            account("210987654321", "aws+alfie-dev@example.com"),
            Placing { current, target },
        )
    }

    fn stop(preview: &AccountPreview) -> Outcome {
        match preview.next(&spec()) {
            Err(outcome) => outcome,
            Ok(writes) => panic!("expected a stop, got writes {:?}", writes.describe(&spec())),
        }
    }

    #[test]
    fn a_request_not_done_or_a_resumed_one_stops_before_any_write() {
        let running = AccountPreview::Creating {
            request: "car-1".into(),
            found: true,
        };
        assert_eq!(stop(&running).reason, Reason::Creating);
        assert!(stop(&running).message.contains("request car-1"));
        let failed = AccountPreview::Failed {
            request: "car-1".into(),
            found: false,
            reason: "EMAIL_ALREADY_EXISTS".into(),
        };
        assert_eq!(stop(&failed).reason, Reason::CreateAccountFailed);
        assert!(stop(&failed).message.contains("EMAIL_ALREADY_EXISTS"));
        let resumed = AccountPreview::Recorded(AwsAccountStatus::default());
        assert_eq!(stop(&resumed).reason, Reason::Creating);
    }

    #[test]
    fn an_absent_account_is_created_in_its_ou_only_once_that_exists_and_never_in_observe() {
        let observing = AccountPreview::Absent(None);
        assert_eq!(stop(&observing).reason, Reason::DriftDetected);
        let creation = |parent| {
            AccountPreview::Absent(Some(Creation {
                fresh: Box::new(AwsAccount::new("alfie-dev", spec())),
                parent,
            }))
        };
        let waiting = creation(Err("spec.organizationalUnit: no OU named \"Dev\" under the root".into()));
        assert_eq!(stop(&waiting).reason, Reason::OrganizationalUnitNotFound);
        assert!(
            stop(&waiting)
                .message
                .ends_with("; the account is created once it exists")
        );
        let ready = creation(Ok("ou-ab12-11111111".into()));
        let writes = ready.next(&spec()).expect("a creation");
        assert_eq!(
            writes.describe(&spec()),
            ["create account alfie-development (aws+alfie-dev@example.com) in ou-ab12-11111111"]
        );
        assert_eq!(
            ready.label(&spec()).as_deref(),
            Some("account alfie-development (aws+alfie-dev@example.com)")
        );
    }

    #[test]
    fn an_account_not_confirmed_as_the_specs_or_not_active_is_not_written() {
        let adopted = sighted(Origin::Adopted, Sight::NotMember);
        assert!(
            stop(&adopted)
                .message
                .starts_with("spec.accountId 210987654321 is not a member")
        );
        let removed = sighted(Origin::Recorded, Sight::NotMember);
        assert!(stop(&removed).message.contains("no longer a member"));
        let other = sighted(
            Origin::Found,
            Sight::OtherEmail(account("210987654321", "x@example.com")),
        );
        assert_eq!(stop(&other).reason, Reason::EmailDiffers);
        assert_eq!(other.label(&spec()), None);
        let suspended = AccountInfo {
            state: OrgAccountState::Suspended,
            ..account("210987654321", "aws+alfie-dev@example.com")
        };
        let closed = sighted(Origin::Recorded, Sight::Inactive(suspended));
        assert_eq!(
            (stop(&closed).state, stop(&closed).reason),
            (crate::controller::status::State::Stalled, Reason::Suspended)
        );
        let waiting = sighted(
            Origin::Recorded,
            active(Err("spec.organizationalUnit: no OU has id x".into())),
        );
        assert!(
            stop(&waiting)
                .message
                .ends_with("; account 210987654321 (alfie-development) stays in r-ab12 until it exists")
        );
    }

    #[test]
    fn an_active_account_of_the_spec_is_placed_and_tagged() {
        let changes = vec![Change::Move {
            from: "r-ab12".into(),
            to: "ou-ab12-11111111".into(),
        }];
        let found = sighted(Origin::Found, active(Ok(("ou-ab12-11111111".into(), changes))));
        let Ok(Writes::Place(place)) = found.next(&spec()) else {
            panic!("expected the placing writes");
        };
        assert_eq!(place.parent, "ou-ab12-11111111");
        assert_eq!(place.describe(), ["move from r-ab12 to ou-ab12-11111111"]);
        assert!(place.sighted.origin.created(), "found by email: reported created");
        assert!(!Origin::Adopted.created() && !Origin::Recorded.created());
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

//! Who may work where: the tenancy rules of API.md ("Tenancy and
//! guardrails", rules 1 to 5), as pure checks over what the caches hold.
//! The reconcile runs them before it reads or writes anything in AWS for an
//! object, and `plan` runs the reconcile's own code, so the two never
//! disagree. Every refusal names the field and the rule.

use std::sync::Arc;

use kube::ResourceExt;
use kube::runtime::reflector::ObjectRef;

use super::context::{Config, Stores};
use super::status::Outcome;
use crate::api::{
    AccountGuardrails, AccountRef, AccountState, AwsAccount, CrossAccountRole, NamespacedRef, Reason,
    TrustOutsideOrganization,
};
use crate::policy::glob;

/// An account an object may work in, as its AwsAccount allows.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Account {
    pub id: String,
    /// The role assumed to work inside it.
    pub access_role: String,
    /// The AwsAccount that represents it: messages name it.
    pub object: String,
    pub guardrails: AccountGuardrails,
}

fn live<K: kube::Resource>(object: &K) -> bool {
    object.meta().deletion_timestamp.is_none()
}

/// The live AwsAccounts with this account id, recorded by the operator or
/// named by `spec.accountId` for an account being adopted.
fn accounts_with_id(stores: &Stores, id: &str) -> Vec<Arc<AwsAccount>> {
    let mut found: Vec<_> = stores
        .accounts
        .find([format!("account-id:{id}").as_str()])
        .into_iter()
        .filter(|account| {
            account.status.as_ref().and_then(|s| s.account_id.as_deref()) == Some(id)
                || account.spec.account_id.as_deref() == Some(id)
        })
        .collect();
    // The same answer whatever order the cache lists them in.
    found.sort_by_key(|account| account.name_any());
    found
}

/// An AwsAccount with this account id (the first by name, should several
/// represent it).
pub fn account_with_id(stores: &Stores, id: &str) -> Option<Arc<AwsAccount>> {
    accounts_with_id(stores, id).into_iter().next()
}

/// The AwsAccount through which `namespace` may work in account `id`: one
/// that allows it, else any, for the refusal to name.
fn account_for(stores: &Stores, id: &str, namespace: &str) -> Option<Arc<AwsAccount>> {
    let found = accounts_with_id(stores, id);
    let allowing = found.iter().find(|account| allows(account, namespace)).cloned();
    allowing.or_else(|| found.into_iter().next())
}

/// Whether `namespace` may work in `account`: `allowedNamespaces` lists it
/// or holds `*`; absent or empty, no namespace may.
pub fn allows(account: &AwsAccount, namespace: &str) -> bool {
    account
        .spec
        .allowed_namespaces
        .iter()
        .flatten()
        .any(|allowed| allowed == "*" || allowed == namespace)
}

/// Why a reference cannot be used, and whether what the object made in the
/// account it names must stop granting (rule 7: the namespace lost the
/// account, or the account's AwsAccount is gone).
#[derive(Clone, Debug, PartialEq)]
pub struct Refused {
    pub outcome: Outcome,
    pub lock: bool,
}

impl Refused {
    fn waiting(message: String) -> Self {
        Refused {
            outcome: Outcome::reconciling(Reason::ReferenceNotReady, message),
            lock: false,
        }
    }

    fn denied(message: String) -> Self {
        Refused {
            outcome: Outcome::stalled(Reason::NamespaceNotAllowed, message),
            lock: true,
        }
    }
}

/// Rule 1 and 2: the account an object of `namespace` works in. A
/// reference by name or by id resolves only through an AwsAccount that
/// allows the namespace; none (a DeveloperGroup's default) means the
/// AwsAccount of the operator's own account, the identity account.
pub fn workplace(
    stores: &Stores,
    config: &Config,
    reference: Option<&AccountRef>,
    own_account_id: &str,
    namespace: &str,
    field: &str,
) -> Result<Account, Refused> {
    let (account, named) = referenced_account(stores, reference, own_account_id, namespace, field)?;
    if !allows(&account, namespace) {
        let allowed = account.spec.allowed_namespaces.clone().unwrap_or_default();
        let listed = if allowed.is_empty() {
            "none".to_string()
        } else {
            allowed.join(", ")
        };
        return Err(Refused::denied(format!(
            "{field}: {named} does not allow namespace {namespace} (allowedNamespaces: {listed}); the platform team adds it there, or reference another account"
        )));
    }
    active_account(config, &account, &named, field)
}

/// The AwsAccount `reference` resolves to for `namespace`, and how messages name it.
fn referenced_account(
    stores: &Stores,
    reference: Option<&AccountRef>,
    own_account_id: &str,
    namespace: &str,
    field: &str,
) -> Result<(Arc<AwsAccount>, String), Refused> {
    match reference.map(|r| (&r.name, &r.id)) {
        Some((Some(name), _)) => account_named(stores, name, namespace, field),
        Some((None, Some(id))) => match account_for(stores, id, namespace) {
            Some(account) => {
                let name = account.name_any();
                Ok((account, format!("account {id} (AwsAccount {name})")))
            }
            None => Err(Refused::denied(format!(
                "{field}: no AwsAccount represents account {id}, so no namespace may work in it; ask the platform team for an AwsAccount with spec.accountId {id} that allows namespace {namespace}"
            ))),
        },
        Some((None, None)) => Err(Refused {
            outcome: Outcome::stalled(Reason::InvalidSpec, format!("{field}: set name or id")),
            lock: false,
        }),
        None => match account_for(stores, own_account_id, namespace) {
            Some(account) => {
                let name = account.name_any();
                Ok((
                    account,
                    format!("the identity account {own_account_id} (AwsAccount {name})"),
                ))
            }
            None => Err(Refused::denied(format!(
                "{field}: absent, so the identity account (the operator's own, {own_account_id}) is meant, and no AwsAccount represents it; ask the platform team to adopt it with an AwsAccount (spec.accountId {own_account_id}) that allows namespace {namespace}"
            ))),
        },
    }
}

fn account_named(
    stores: &Stores,
    name: &str,
    namespace: &str,
    field: &str,
) -> Result<(Arc<AwsAccount>, String), Refused> {
    match stores.accounts.get(&ObjectRef::new(name)).filter(|a| live(a.as_ref())) {
        Some(account) => Ok((account, format!("AwsAccount {name}"))),
        // Gone, or not applied yet: nothing of this namespace may keep working there.
        None => Err(Refused {
            lock: true,
            ..Refused::waiting(format!(
                "{field}: AwsAccount {name} does not exist, so namespace {namespace} may not work through it"
            ))
        }),
    }
}

/// The account `account` represents, once it is Active.
fn active_account(config: &Config, account: &AwsAccount, named: &str, field: &str) -> Result<Account, Refused> {
    let status = account.status.as_ref();
    match (status.and_then(|s| s.account_id.clone()), status.and_then(|s| s.state)) {
        (Some(id), Some(AccountState::Active)) => Ok(Account {
            id,
            access_role: if account.spec.access_role_name.is_empty() {
                config.default_access_role.clone()
            } else {
                account.spec.access_role_name.clone()
            },
            object: account.name_any(),
            guardrails: account.spec.guardrails.clone(),
        }),
        // A suspended or closing account is said so: it will not become Active by waiting.
        (_, Some(state @ (AccountState::Suspended | AccountState::PendingClosure | AccountState::Failed))) => {
            Err(Refused::waiting(format!("{field}: {named} is {state:?}, not Active")))
        }
        _ => Err(Refused::waiting(format!("{field}: {named} is not Active yet"))),
    }
}

/// An account a role trusts, and whether it belongs to the organization as
/// far as the operator knows: its own account, or one an AwsAccount
/// represents. Any other counts as outside (fail closed).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Trusted {
    pub id: String,
    pub inside: bool,
}

/// Resolves a trusted account reference. Trusting an account does not work
/// in it, so its AwsAccount need not allow the namespace.
pub fn trusted(stores: &Stores, reference: &AccountRef, own_account_id: &str, field: &str) -> Result<Trusted, Outcome> {
    match (&reference.name, &reference.id) {
        (Some(name), _) => {
            let account = stores.accounts.get(&ObjectRef::new(name)).filter(|a| live(a.as_ref()));
            let id = account.as_ref().and_then(|a| a.status.as_ref()?.account_id.clone());
            match (account, id) {
                (Some(_), Some(id)) => Ok(Trusted { id, inside: true }),
                (None, _) => Err(Outcome::reconciling(
                    Reason::ReferenceNotReady,
                    format!("{field}: AwsAccount {name} does not exist"),
                )),
                (Some(_), None) => Err(Outcome::reconciling(
                    Reason::ReferenceNotReady,
                    format!("{field}: AwsAccount {name} has no account id yet"),
                )),
            }
        }
        (None, Some(id)) => Ok(Trusted {
            id: id.clone(),
            inside: id == own_account_id || account_with_id(stores, id).is_some(),
        }),
        (None, None) => Err(Outcome::stalled(
            Reason::InvalidSpec,
            format!("{field}: set name or id"),
        )),
    }
}

/// The account id of a principal ARN (`arn:aws:iam::123456789012:user/x`).
pub fn principal_account(arn: &str) -> Option<&str> {
    arn.split(':').nth(4).filter(|id| !id.is_empty())
}

/// Rule 3: whether `role`, which lives in `account`, may trust what lies
/// outside the organization (`what`, named by `field`). A PartnerAccess's
/// own role may under the default; any role may where the account allows it.
pub fn outside_trust(account: &Account, made_by_partner: bool, field: &str, what: &str) -> Result<(), Outcome> {
    let allowed = match account.guardrails.trust_outside_organization {
        TrustOutsideOrganization::Allow => true,
        TrustOutsideOrganization::PartnerAccessOnly => made_by_partner,
        TrustOutsideOrganization::Deny => false,
    };
    if allowed {
        return Ok(());
    }
    let setting = account.guardrails.trust_outside_organization;
    let how = match setting {
        TrustOutsideOrganization::Deny => "no role there may trust outside the organization",
        _ => "only a PartnerAccess's roles, which require an external ID, may trust outside the organization",
    };
    Err(Outcome::stalled(
        Reason::GuardrailViolation,
        format!(
            "{field}: {what} is outside the organization (no AwsAccount represents it), and AwsAccount {}'s guardrails.trustOutsideOrganization is {setting:?}: {how}",
            account.object
        ),
    ))
}

/// Whether `role` is one a live PartnerAccess of its namespace made: its
/// controller, requiring the external ID the PartnerAccess always sets,
/// and trusting outside nothing but the partner's account.
pub fn made_by_partner(stores: &Stores, role: &CrossAccountRole) -> bool {
    let namespace = role.namespace().unwrap_or_default();
    let Some(owner) = role
        .owner_references()
        .iter()
        .find(|owner| owner.controller == Some(true) && owner.kind == "PartnerAccess")
    else {
        return false;
    };
    let Some(partner) = stores
        .partners
        .get(&ObjectRef::new(&owner.name).within(&namespace))
        .filter(|p| live(p.as_ref()) && p.uid().as_deref() == Some(owner.uid.as_str()))
    else {
        return false;
    };
    let trust = &role.spec.trust;
    trust.external_id_secret_ref.is_some()
        && trust.principals.is_empty()
        && trust
            .accounts
            .iter()
            .all(|a| a.id.as_deref() == Some(partner.spec.partner.account_id.as_str()))
}

/// Rule 3 for one account a role in `account` trusts: its id, when the
/// role may trust it.
pub fn trusted_account(
    stores: &Stores,
    own_account_id: &str,
    account: &Account,
    made_by_partner: bool,
    reference: &AccountRef,
    field: &str,
) -> Result<String, Outcome> {
    let trusted = trusted(stores, reference, own_account_id, field)?;
    if !trusted.inside {
        outside_trust(account, made_by_partner, field, &format!("account {}", trusted.id))?;
    }
    Ok(trusted.id)
}

/// Rule 3 for one principal ARN a role in `account` trusts.
pub fn trusted_principal(
    stores: &Stores,
    own_account_id: &str,
    account: &Account,
    made_by_partner: bool,
    principal: &str,
    field: &str,
) -> Result<(), Outcome> {
    let id = principal_account(principal).unwrap_or_default();
    if id == own_account_id || account_with_id(stores, id).is_some() {
        return Ok(());
    }
    outside_trust(account, made_by_partner, field, &format!("{principal} (account {id})"))
}

/// Names of roles AWS or the organization reserve: never a namespace's.
fn reserved_role(name: &str, account: &Account, operator_role: Option<&str>) -> Option<&'static str> {
    let same = |other: &str| name.eq_ignore_ascii_case(other);
    if same(&account.access_role) {
        Some(
            "it is the account's access role (AwsAccount spec.accessRoleName), through which the organization administers the account",
        )
    } else if operator_role.is_some_and(same) {
        Some("it is the operator's own role")
    } else if name.len() >= 11 && name[..11].eq_ignore_ascii_case("AWSReserved") {
        Some("names starting AWSReserved belong to IAM Identity Center")
    } else if name.len() >= 17 && name[..17].eq_ignore_ascii_case("AWSServiceRoleFor") {
        Some("it is a service-linked role, which AWS makes and trusts")
    } else if account.guardrails.protected_role_names.iter().any(|p| same(p)) {
        Some("it is in the AwsAccount's guardrails.protectedRoleNames")
    } else {
        None
    }
}

/// Rule 5, and the names no namespace may use: a role named `name` in
/// `account`, adopted if `adopt` says so.
pub fn role_name(
    account: &Account,
    name: &str,
    adopt: bool,
    operator_role: Option<&str>,
    field: &str,
) -> Result<(), Outcome> {
    if let Some(why) = reserved_role(name, account, operator_role) {
        return Err(Outcome::stalled(
            Reason::GuardrailViolation,
            format!(
                "{field}: role {name} may not be managed by a namespace in AwsAccount {}: {why}",
                account.object
            ),
        ));
    }
    adoption(account, adopt)
}

/// Rule 5: adoption only where the account's guardrails allow it.
pub fn adoption(account: &Account, adopt: bool) -> Result<(), Outcome> {
    if !adopt || account.guardrails.allow_adoption {
        return Ok(());
    }
    Err(Outcome::stalled(
        Reason::GuardrailViolation,
        format!(
            "spec.adoptExisting: AwsAccount {}'s guardrails.allowAdoption is false: taking over what the operator did not create there is the platform team's decision",
            account.object
        ),
    ))
}

/// Rule 4: whether the CrossAccountRole `role` lets the DeveloperGroup
/// `group_name` of `group_namespace` grant it: a role of the group's own
/// namespace always does, another namespace's only when its
/// `trust.developerGroups` names the group.
pub fn consents(role: &CrossAccountRole, group_name: &str, group_namespace: &str) -> bool {
    let role_namespace = role.namespace().unwrap_or_default();
    role_namespace == group_namespace
        || role.spec.trust.developer_groups.iter().any(|g: &NamespacedRef| {
            g.name == group_name && g.namespace.as_deref().unwrap_or(&role_namespace) == group_namespace
        })
}

/// Rule 4: a raw `roleArn` a group in the identity account may grant.
pub fn role_arn_allowed(identity: &Account, arn: &str, field: &str) -> Result<(), Outcome> {
    if identity
        .guardrails
        .allowed_role_arns
        .iter()
        .any(|glob| glob::matches(glob, arn))
    {
        return Ok(());
    }
    Err(Outcome::stalled(
        Reason::GuardrailViolation,
        format!(
            "{field}: {arn} is not in AwsAccount {}'s guardrails.allowedRoleArns; grant a CrossAccountRole by reference (role: {{name: ...}}), or have the platform team allow the ARN",
            identity.object
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{AwsAccountSpec, AwsAccountStatus, CrossAccountRoleSpec};
    use crate::controller::index::Cache;

    fn aws_account(name: &str, id: &str, allowed: Option<&[&str]>, state: AccountState) -> AwsAccount {
        let mut account = AwsAccount::new(
            name,
            AwsAccountSpec {
                account_name: name.into(),
                email: format!("{name}@example.com"),
                organizational_unit: None,
                access_role_name: "OrganizationAccountAccessRole".into(),
                iam_user_access_to_billing: Default::default(),
                tags: Default::default(),
                account_id: None,
                allowed_namespaces: allowed.map(|a| a.iter().map(|s| s.to_string()).collect()),
                guardrails: AccountGuardrails::default(),
                deletion_policy: Default::default(),
                management_policy: Default::default(),
            },
        );
        account.status = Some(AwsAccountStatus {
            account_id: Some(id.into()),
            state: Some(state),
            ..Default::default()
        });
        account
    }

    fn stores(accounts: Vec<AwsAccount>) -> Stores {
        Stores {
            accounts: Cache::of(accounts),
            ..Stores::empty()
        }
    }

    fn by_name(name: &str) -> AccountRef {
        AccountRef {
            name: Some(name.into()),
            id: None,
        }
    }

    fn by_id(id: &str) -> AccountRef {
        AccountRef {
            name: None,
            id: Some(id.into()),
        }
    }

    const OWN: &str = "123456789012";

    fn world() -> Stores {
        stores(vec![
            aws_account("identity", OWN, Some(&["alfie"]), AccountState::Active),
            aws_account("dev", "111111111111", Some(&["alfie"]), AccountState::Active),
            aws_account("shared", "222222222222", Some(&["*"]), AccountState::Active),
            aws_account("closed", "333333333333", None, AccountState::Active),
            aws_account("empty", "444444444444", Some(&[]), AccountState::Active),
            aws_account("new", "555555555555", Some(&["alfie"]), AccountState::Creating),
        ])
    }

    fn place(reference: Option<&AccountRef>, namespace: &str) -> Result<String, (Reason, bool, String)> {
        workplace(&world(), &Config::default(), reference, OWN, namespace, "spec.account")
            .map(|account| account.id)
            .map_err(|refused| (refused.outcome.reason, refused.lock, refused.outcome.message))
    }

    #[test]
    fn an_account_is_usable_only_through_an_aws_account_that_allows_the_namespace() {
        assert_eq!(place(Some(&by_name("dev")), "alfie"), Ok("111111111111".into()));
        assert_eq!(place(Some(&by_id("111111111111")), "alfie"), Ok("111111111111".into()));
        assert_eq!(place(Some(&by_name("shared")), "anyone"), Ok("222222222222".into()));
        assert_eq!(place(None, "alfie"), Ok(OWN.into()));

        for (reference, namespace, lock) in [
            (Some(by_name("dev")), "mallory", true),
            (Some(by_id("111111111111")), "mallory", true),
            (Some(by_name("closed")), "alfie", true),
            (Some(by_name("empty")), "alfie", true),
            (None, "mallory", true),
        ] {
            let (reason, locks, message) = place(reference.as_ref(), namespace).unwrap_err();
            assert_eq!((reason, locks), (Reason::NamespaceNotAllowed, lock), "{message}");
            assert!(message.starts_with("spec.account: "), "{message}");
            assert!(message.contains(namespace), "{message}");
        }
        let (reason, lock, message) = place(Some(&by_id("999999999999")), "alfie").unwrap_err();
        assert_eq!((reason, lock), (Reason::NamespaceNotAllowed, true));
        assert!(
            message.contains("no AwsAccount represents account 999999999999"),
            "{message}"
        );
        let (reason, lock, _) = place(Some(&by_name("gone")), "alfie").unwrap_err();
        assert_eq!((reason, lock), (Reason::ReferenceNotReady, true));
        let (reason, lock, _) = place(Some(&by_name("new")), "alfie").unwrap_err();
        assert_eq!((reason, lock), (Reason::ReferenceNotReady, false));
    }

    #[test]
    fn the_identity_account_must_be_an_aws_account_too() {
        let without = stores(vec![aws_account(
            "dev",
            "111111111111",
            Some(&["*"]),
            AccountState::Active,
        )]);
        let refused = workplace(&without, &Config::default(), None, OWN, "alfie", "spec.account").unwrap_err();
        assert_eq!(refused.outcome.reason, Reason::NamespaceNotAllowed);
        assert!(refused.outcome.message.contains("spec.accountId 123456789012"));
    }

    #[test]
    fn trust_is_inside_the_organization_only_for_represented_accounts() {
        let stores = world();
        let trusted = |reference: &AccountRef| trusted(&stores, reference, OWN, "spec.trust.accounts[0]");
        assert!(trusted(&by_id(OWN)).unwrap().inside);
        assert!(trusted(&by_id("333333333333")).unwrap().inside);
        assert!(!trusted(&by_id("999999999999")).unwrap().inside);
        assert_eq!(trusted(&by_name("closed")).unwrap().id, "333333333333");
    }

    fn account_with(guardrails: AccountGuardrails) -> Account {
        Account {
            id: "111111111111".into(),
            access_role: "OrganizationAccountAccessRole".into(),
            object: "dev".into(),
            guardrails,
        }
    }

    #[test]
    fn outside_trust_follows_the_account_setting() {
        let with = |setting| {
            account_with(AccountGuardrails {
                trust_outside_organization: setting,
                ..Default::default()
            })
        };
        let check = |setting, partner| {
            outside_trust(
                &with(setting),
                partner,
                "spec.trust.accounts[0]",
                "account 999999999999",
            )
        };
        assert!(check(TrustOutsideOrganization::PartnerAccessOnly, true).is_ok());
        assert!(check(TrustOutsideOrganization::Allow, false).is_ok());
        for (setting, partner) in [
            (TrustOutsideOrganization::PartnerAccessOnly, false),
            (TrustOutsideOrganization::Deny, true),
        ] {
            let refused = check(setting, partner).unwrap_err();
            assert_eq!(refused.reason, Reason::GuardrailViolation);
            assert!(
                refused
                    .message
                    .starts_with("spec.trust.accounts[0]: account 999999999999")
            );
            assert!(refused.message.contains("guardrails.trustOutsideOrganization"));
        }
    }

    #[test]
    fn reserved_and_protected_role_names_are_refused_and_adoption_needs_consent() {
        let account = account_with(AccountGuardrails {
            protected_role_names: vec!["BreakGlass".into()],
            ..Default::default()
        });
        for name in [
            "OrganizationAccountAccessRole",
            "organizationaccountaccessrole",
            "aws-access-operator",
            "AWSReservedSSO_Admin_1234",
            "AWSServiceRoleForSupport",
            "breakglass",
        ] {
            let refused = role_name(&account, name, false, Some("aws-access-operator"), "spec.roleName").unwrap_err();
            assert_eq!(refused.reason, Reason::GuardrailViolation, "{name}");
            assert!(refused.message.starts_with("spec.roleName: "), "{}", refused.message);
        }
        assert!(
            role_name(
                &account,
                "AlfieFullAccess",
                false,
                Some("aws-access-operator"),
                "spec.roleName"
            )
            .is_ok()
        );
        let refused = role_name(&account, "Legacy", true, None, "spec.roleName").unwrap_err();
        assert!(refused.message.contains("guardrails.allowAdoption"));
        let adopting = account_with(AccountGuardrails {
            allow_adoption: true,
            ..Default::default()
        });
        assert!(role_name(&adopting, "Legacy", true, None, "spec.roleName").is_ok());
    }

    #[test]
    fn a_role_of_another_namespace_consents_by_naming_the_group() {
        let spec: CrossAccountRoleSpec =
            serde_json::from_value(serde_json::json!({"account": {"name": "dev"}, "trust": {}}))
                .expect("a minimal spec");
        let mut role = CrossAccountRole::new("shared", spec);
        role.metadata.namespace = Some("platform".into());
        assert!(consents(&role, "devs", "platform"));
        assert!(!consents(&role, "devs", "alfie"));
        role.spec.trust.developer_groups = vec![NamespacedRef {
            name: "devs".into(),
            namespace: Some("alfie".into()),
        }];
        assert!(consents(&role, "devs", "alfie"));
        assert!(!consents(&role, "other", "alfie"));
        role.spec.trust.developer_groups = vec![NamespacedRef {
            name: "devs".into(),
            namespace: None,
        }];
        assert!(
            !consents(&role, "devs", "alfie"),
            "a name alone means the role's own namespace"
        );
    }

    #[test]
    fn raw_role_arns_need_the_identity_accounts_consent() {
        let identity = account_with(AccountGuardrails {
            allowed_role_arns: vec!["arn:aws:iam::*:role/ReadOnly".into()],
            ..Default::default()
        });
        assert!(
            role_arn_allowed(
                &identity,
                "arn:aws:iam::123456789012:role/ReadOnly",
                "spec.access[0].roleArn"
            )
            .is_ok()
        );
        let refused = role_arn_allowed(
            &identity,
            "arn:aws:iam::123456789012:role/OrganizationAccountAccessRole",
            "spec.access[1].roleArn",
        )
        .unwrap_err();
        assert!(refused.message.starts_with("spec.access[1].roleArn: "));
        assert!(refused.message.contains("guardrails.allowedRoleArns"));
    }
}

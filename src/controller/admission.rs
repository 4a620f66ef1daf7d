//! What the admission webhook refuses: the tenancy and guardrail checks the
//! reconcile makes (the same functions of `tenancy` and `guardrails`),
//! answered before the object is stored. Only a refusal that waiting will
//! not undo is one here: a reference not ready yet (an AwsAccount applied
//! later in the same GitOps sync) is the reconcile's to wait for.

use async_trait::async_trait;
use kube::api::Api;
use kube::{Client, ResourceExt};
use serde::de::DeserializeOwned;

use super::context::{Config, Stores};
use super::guardrails;
use super::iam_user;
use super::partner_access::{generated_secret_ref, plan as partner_plan};
use super::status::{Outcome, State};
use super::tenancy::{self, Account};
use crate::api::guard::Guarded;
use crate::api::{CrossAccountRole, DeveloperGroup, IamUser, PartnerAccess};

/// A kind the admission webhook reviews: what the review reads besides
/// every AwsAccount, and why the operator would refuse the object. A kind
/// with nothing to refuse at admission takes the defaults.
#[async_trait]
pub trait Admitted: DeserializeOwned + Send + Sync {
    /// Adds to `stores` the objects this one names that its review reads.
    async fn fetch_referenced(&self, _client: &Client, _stores: &mut Stores) -> kube::Result<()> {
        Ok(())
    }

    /// Why the operator would refuse it, each naming the field.
    fn refusals(&self, _review: &Review) -> Vec<String> {
        Vec::new()
    }
}

/// The objects `api` has of `names`, those that exist and can be read.
pub async fn fetch_named<K>(api: Api<Guarded<K>>, names: &[&str]) -> kube::Result<Vec<K>>
where
    K: kube::Resource<DynamicType = ()> + Clone + DeserializeOwned + std::fmt::Debug,
{
    let mut found = vec![];
    for name in names {
        found.extend(api.get_opt(name).await?.and_then(Guarded::readable));
    }
    Ok(found)
}

/// What the stores must hold for a review: every AwsAccount, and the
/// objects the reviewed one names (a group's roles, a role's PartnerAccess).
pub struct Review<'a> {
    pub stores: &'a Stores,
    pub config: &'a Config,
    pub own_account_id: &'a str,
}

fn refused(outcome: &Outcome) -> bool {
    outcome.state == State::Stalled
}

impl Review<'_> {
    /// The account an object of `namespace` works in, or the refusal.
    fn workplace(
        &self,
        reference: Option<&crate::api::AccountRef>,
        namespace: &str,
        field: &str,
    ) -> Result<Option<Account>, Outcome> {
        match tenancy::workplace(
            self.stores,
            self.config,
            reference,
            self.own_account_id,
            namespace,
            field,
        ) {
            Ok(account) => Ok(Some(account)),
            Err(refusal) if refused(&refusal.outcome) => Err(refusal.outcome),
            Err(_) => Ok(None),
        }
    }

    /// Why the operator would refuse `role`, each naming the field.
    pub fn role(&self, role: &CrossAccountRole) -> Vec<String> {
        self.role_as(role, tenancy::made_by_partner(self.stores, role))
    }

    fn role_as(&self, role: &CrossAccountRole, made_by_partner: bool) -> Vec<String> {
        let namespace = role.namespace().unwrap_or_default();
        let account = match self.workplace(Some(&role.spec.account), &namespace, "spec.account") {
            Ok(Some(account)) => account,
            Ok(None) => return vec![],
            Err(outcome) => return vec![outcome.message],
        };
        let mut found = vec![];
        let (name, field) = match &role.spec.role_name {
            Some(name) => (name.clone(), "spec.roleName"),
            None => (role.name_any(), "metadata.name"),
        };
        found.extend(tenancy::role_name(&account, &name, role.spec.adopt_existing, None, field).err());
        let trust = &role.spec.trust;
        let own = self.own_account_id;
        for (i, reference) in trust.accounts.iter().enumerate() {
            let field = format!("spec.trust.accounts[{i}]");
            let checked = tenancy::trusted_account(self.stores, own, &account, made_by_partner, reference, &field);
            found.extend(checked.err());
        }
        for (i, principal) in trust.principals.iter().enumerate() {
            let field = format!("spec.trust.principals[{i}]");
            let checked = tenancy::trusted_principal(self.stores, own, &account, made_by_partner, principal, &field);
            found.extend(checked.err());
        }
        found.extend(guardrails::role(&account, &role.spec, made_by_partner).refusals);
        found.into_iter().filter(refused).map(|o| o.message).collect()
    }

    /// Why the operator would refuse `group`. Customer-managed policies
    /// are judged at reconcile, where their default version is read.
    pub fn group(&self, group: &DeveloperGroup) -> Vec<String> {
        let namespace = group.namespace().unwrap_or_default();
        let account = match self.workplace(group.spec.account.as_ref(), &namespace, "spec.account") {
            Ok(Some(account)) => account,
            Ok(None) => return vec![],
            Err(outcome) => return vec![outcome.message],
        };
        let mut found: Vec<Outcome> = tenancy::adoption(&account, group.spec.adopt_existing)
            .err()
            .into_iter()
            .collect();
        for (i, access) in group.spec.access.iter().enumerate() {
            if let Some(arn) = &access.role_arn {
                found.extend(tenancy::role_arn_allowed(&account, arn, &format!("spec.access[{i}].roleArn")).err());
            }
            let Some(reference) = &access.role else {
                continue;
            };
            let role_namespace = reference.namespace.as_deref().unwrap_or(&namespace);
            if role_namespace == namespace {
                continue;
            }
            let consents = super::refs::role(self.stores, reference, &namespace)
                .is_some_and(|role| tenancy::consents(&role, &group.name_any(), &namespace));
            if !consents {
                found.push(Outcome::stalled(
                    crate::api::Reason::NamespaceNotAllowed,
                    format!(
                        "spec.access[{i}].role: CrossAccountRole {role_namespace}/{} is in another namespace and does not name DeveloperGroup {namespace}/{} in its spec.trust.developerGroups",
                        reference.name,
                        group.name_any()
                    ),
                ));
            }
        }
        let identity = account.id == self.own_account_id;
        found.extend(guardrails::group(&account, identity, &group.spec, &Default::default()).refusals);
        found.into_iter().map(|o| o.message).collect()
    }

    /// Why the operator would refuse `user`: a spec it cannot act on, the
    /// account (the identity account unless it names one) not allowing the
    /// namespace, an adoption the account does not allow.
    pub fn user(&self, user: &IamUser) -> Vec<String> {
        if let Err(message) = iam_user::plan::validate(&user.spec) {
            return vec![message];
        }
        let namespace = user.namespace().unwrap_or_default();
        let account = match self.workplace(user.spec.account.as_ref(), &namespace, "spec.account") {
            Ok(Some(account)) => account,
            Ok(None) => return vec![],
            Err(outcome) => return vec![outcome.message],
        };
        tenancy::adoption(&account, user.spec.adopt_existing)
            .err()
            .into_iter()
            .map(|o| o.message)
            .collect()
    }

    /// Why the operator would refuse `partner`: its accounts, and each of
    /// the roles it would make there, judged as those roles will be.
    pub fn partner(&self, partner: &PartnerAccess) -> Vec<String> {
        let namespace = partner.namespace().unwrap_or_default();
        let external_id = partner
            .spec
            .external_id_secret_ref
            .clone()
            .unwrap_or_else(|| generated_secret_ref(partner));
        let mut found = vec![];
        for (i, reference) in partner.spec.accounts.iter().enumerate() {
            let field = format!("spec.accounts[{i}]");
            if let Err(outcome) = self.workplace(Some(reference), &namespace, &field) {
                found.push(outcome.message);
                continue;
            }
            let mut child = CrossAccountRole::new(
                &partner_plan::child_name(partner, reference),
                partner_plan::child_spec(partner, reference, &external_id, false),
            );
            child.metadata.namespace = Some(namespace.clone());
            let refusals = self.role_as(&child, true);
            found.extend(
                refusals
                    .iter()
                    .map(|message| partner_plan::in_partner_terms(partner, &child, message)),
            );
        }
        found
    }
}

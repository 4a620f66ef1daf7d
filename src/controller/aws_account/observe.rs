//! What the reconcile reads before its first write, and `plan` reads alike:
//! where the account is (the id recorded, the CreateAccount request, or
//! what a search finds), how Organizations describes it, which OU the spec
//! names, and where the account sits with which tags.

use kube::ResourceExt;
use kube::api::Api;

use crate::api::{AccountState, AwsAccount, AwsAccountSpec, AwsAccountStatus, ManagementPolicy};
use crate::aws::{AwsErrorKind, AwsResult, CreateAccountState, Organizations};
use crate::controller::context::Context;
use crate::controller::driver::Stop;
use crate::controller::error::{KubeContext, Result, named};

use super::plan::{
    self, AccountPreview, Creation, Earlier, Locate, Observed, Origin, Placement, Placing, Progress, Sight, Sighted,
};
use super::resolve;

/// Everything up to the first write, reading only: the references
/// resolved, then where the account is and how it stands. The reconcile
/// acts on the preview, `plan` prints it.
pub async fn preview(account: &AwsAccount, ctx: &Context, status: &AwsAccountStatus) -> Result<AccountPreview, Stop> {
    let known_ou = resolve::known_ou(account, ctx, status).await?;
    let orgs = ctx.aws.organizations();
    let orgs = orgs.as_ref();
    let spec = &account.spec;
    let (id, origin) = match plan::locate(spec, status, account.metadata.generation) {
        Locate::Account { id, adopted: true } => (id, Origin::Adopted),
        Locate::Account { id, adopted: false } => (id, Origin::Recorded),
        Locate::Poll(request) => match follow(orgs, request, false).await? {
            Ok(id) => (id, Origin::Created { found_request: None }),
            Err(preview) => return Ok(preview),
        },
        Locate::Search => match earlier(orgs, spec).await? {
            Earlier::Account(id) => (id, Origin::Found),
            Earlier::Request(request) => match follow(orgs, request.clone(), true).await? {
                Ok(id) => (
                    id,
                    Origin::Created {
                        found_request: Some(request),
                    },
                ),
                Err(preview) => return Ok(preview),
            },
            Earlier::Nothing => return absent(ctx, account, orgs, known_ou).await,
        },
    };
    let sight = sight(orgs, spec, &id, known_ou).await?;
    Ok(AccountPreview::Account(Sighted { id, origin, sight }))
}

/// Follows a CreateAccount request: the id of the account it made, or the
/// preview while it runs or once it failed.
async fn follow(orgs: &dyn Organizations, request: String, found: bool) -> AwsResult<Result<String, AccountPreview>> {
    Ok(
        match plan::progress(&orgs.describe_create_account_status(&request).await?) {
            Progress::Succeeded(id) => Ok(id),
            Progress::Running => Err(AccountPreview::Creating { request, found }),
            Progress::Failed(reason) => Err(AccountPreview::Failed { request, found, reason }),
        },
    )
}

/// No account and no request: what CreateAccount needs, read in this
/// order: the status as the API server has it, then where the spec places
/// the account. Observe mode creates nothing, and so reads no further.
async fn absent(
    ctx: &Context,
    account: &AwsAccount,
    orgs: &dyn Organizations,
    known_ou: Option<String>,
) -> Result<AccountPreview, Stop> {
    if account.spec.management_policy == ManagementPolicy::Observe {
        return Ok(AccountPreview::Absent(None));
    }
    let fresh = fresh(ctx, account).await?;
    let recorded = fresh.status.clone().unwrap_or_default();
    if plan::locate(&account.spec, &recorded, account.metadata.generation) != Locate::Search {
        return Ok(AccountPreview::Recorded(recorded));
    }
    let parent = target_parent(orgs, &account.spec, known_ou).await?;
    Ok(AccountPreview::Absent(Some(Creation {
        fresh: Box::new(fresh),
        parent,
    })))
}

/// The object as the API server has it: the cache may not yet hold the
/// status the previous reconcile wrote. One read, only before the one call
/// that must not be repeated. An object that is not stored (a new manifest
/// `plan` reads) has nothing recorded but what it carries; a reconcile
/// whose object went meanwhile then fails at the fence.
async fn fresh(ctx: &Context, account: &AwsAccount) -> Result<AwsAccount> {
    let api: Api<AwsAccount> = Api::all(ctx.client.clone());
    match api.get_status(&account.name_any()).await {
        Err(kube::Error::Api(response)) if response.code == 404 => Ok(account.clone()),
        read => read.doing(|| format!("reading the status of {} before CreateAccount", named(account))),
    }
}

/// The account as Organizations describes it, and, when it is active and
/// the one the spec means, where it sits.
async fn sight(
    orgs: &dyn Organizations,
    spec: &AwsAccountSpec,
    id: &str,
    known_ou: Option<String>,
) -> AwsResult<Sight> {
    let Some(info) = orgs.describe_account(id).await? else {
        return Ok(Sight::NotMember);
    };
    if !plan::same_email(spec, &info) {
        return Ok(Sight::OtherEmail(info));
    }
    if plan::state(&info.state) != Some(AccountState::Active) {
        return Ok(Sight::Inactive(info));
    }
    let placing = placing(orgs, spec, id, known_ou).await?;
    Ok(Sight::Active(info, placing))
}

/// Looks for an account or a running request that an earlier run created
/// without recording it.
pub async fn earlier(orgs: &dyn Organizations, spec: &AwsAccountSpec) -> AwsResult<Earlier> {
    // Running requests first: one that finishes between the two reads is
    // then in the account list. The other order could miss it, and create twice.
    let running = orgs
        .list_create_account_status(&[CreateAccountState::InProgress])
        .await?;
    let accounts = orgs.list_accounts().await?;
    Ok(plan::earlier(spec, &running, &accounts))
}

/// The id of the root or OU the spec places the account in, or why no OU
/// answers to the spec's path (yet). `known` is the id of the Ready
/// OrganizationalUnit with the spec's path, if one has it: that OU is read
/// every resync by its own object, so the path is not walked again here.
async fn target_parent(
    orgs: &dyn Organizations,
    spec: &AwsAccountSpec,
    known: Option<String>,
) -> AwsResult<Result<String, String>> {
    let names = match plan::placement(spec) {
        Placement::Path(_) if let Some(id) = known => return Ok(Ok(id)),
        // An id that names no OU must stop a creation as a path does; asking
        // for its parent is how to learn it exists with the reads the
        // operator already holds.
        Placement::Id(id) => {
            return match orgs.parent_of(&id).await {
                Ok(_) => Ok(Ok(id)),
                Err(err) if err.kind == AwsErrorKind::NotFound => {
                    Ok(Err(format!("spec.organizationalUnit: no OU has id {id}")))
                }
                Err(err) => Err(err),
            };
        }
        Placement::Root => return Ok(Ok(orgs.root_id().await?)),
        Placement::Path(names) => names,
    };
    let mut parent = orgs.root_id().await?;
    for (depth, name) in names.iter().enumerate() {
        let children = orgs.list_organizational_units(&parent).await?;
        let Some(child) = plan::child_named(&children, name) else {
            let under = if depth == 0 {
                "the root".to_string()
            } else {
                names[..depth].join("/")
            };
            return Ok(Err(format!(
                "spec.organizationalUnit: no OU named {name:?} under {under}"
            )));
        };
        parent = child.to_owned();
    }
    Ok(Ok(parent))
}

/// Where the account sits, and the writes that place and tag it as the
/// spec says; `known` as for `target_parent`.
async fn placing(
    orgs: &dyn Organizations,
    spec: &AwsAccountSpec,
    account_id: &str,
    known: Option<String>,
) -> AwsResult<Placing> {
    let current = Observed {
        parent: orgs.parent_of(account_id).await?,
        tags: orgs.list_tags(account_id).await?,
    };
    let target = target_parent(orgs, spec, known).await?.map(|parent| {
        let changes = plan::plan(&parent, &spec.tags, &current);
        (parent, changes)
    });
    Ok(Placing { current, target })
}

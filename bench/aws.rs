//! The AWS side: the organization in moto, the plain program the operator
//! is compared with, and moto's own record of the requests it served.

use std::collections::BTreeMap;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use aws_access_operator::controller::ownership::OWNER_TAG;
use aws_config::{BehaviorVersion, SdkConfig};
use aws_sdk_iam::config::Credentials;
use aws_sdk_iam::types::Tag;
use aws_sdk_organizations::types::{CreateAccountState, OrganizationFeatureSet};
use base64::Engine;
use futures::{StreamExt, TryStreamExt};
use serde::{Deserialize, Serialize};

use crate::roles::{ACCESS_ROLE, Accounts, INLINE_POLICY_NAME, MANAGED_POLICY, role};

/// AWS as the environment names it (`AWS_ENDPOINT_URL` pointing at moto).
pub async fn config() -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest()).load().await
}

/// An organization with `members` new member accounts, as an administrator
/// would make it; moto creates each account's access role.
pub async fn set_up(members: usize) -> anyhow::Result<Accounts> {
    let config = config().await;
    let identity = aws_sdk_sts::Client::new(&config)
        .get_caller_identity()
        .send()
        .await
        .context("GetCallerIdentity: is moto running at AWS_ENDPOINT_URL?")?
        .account
        .context("no account in GetCallerIdentity")?;
    let organizations = aws_sdk_organizations::Client::new(&config);
    organizations
        .create_organization()
        .feature_set(OrganizationFeatureSet::All)
        .send()
        .await
        .context("CreateOrganization")?;
    let mut ids = vec![];
    for i in 0..members {
        let name = format!("bench-member-{i}");
        let request = organizations
            .create_account()
            .account_name(&name)
            .email(format!("{name}@example.com"))
            .send()
            .await
            .context("CreateAccount")?
            .create_account_status
            .and_then(|status| status.id)
            .context("no request id from CreateAccount")?;
        let deadline = Instant::now() + Duration::from_secs(60);
        let id = loop {
            let status = organizations
                .describe_create_account_status()
                .create_account_request_id(&request)
                .send()
                .await
                .context("DescribeCreateAccountStatus")?
                .create_account_status
                .context("no status from DescribeCreateAccountStatus")?;
            match status.state {
                Some(CreateAccountState::Succeeded) => break status.account_id.context("no account id")?,
                Some(CreateAccountState::InProgress) if Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(50)).await
                }
                other => bail!("creating account {name} ended {other:?}: {:?}", status.failure_reason),
            }
        };
        ids.push(id);
    }
    Ok(Accounts { identity, members: ids })
}

#[derive(Debug, Serialize, Deserialize)]
pub struct PlainResult {
    pub roles: usize,
    pub accounts: usize,
    /// Roles in flight: overall, or in each account when `per_account`.
    pub concurrency: usize,
    #[serde(default)]
    pub per_account: bool,
    /// What made the calls: the Rust SDK here, boto3 for bench/plain.py.
    #[serde(default = "rust_sdk")]
    pub language: String,
    pub seconds: f64,
    /// Operation → calls made, all of which succeeded.
    pub calls: BTreeMap<String, u64>,
    /// CPU seconds used during the run, by process (`plain program`, `moto`).
    #[serde(default)]
    pub cpu: BTreeMap<String, f64>,
}

pub fn rust_sdk() -> String {
    "Rust (aws-sdk-rust), tokio".into()
}

/// The least a program must do for the benchmark's roles: assume the access
/// role in each member account once, then CreateRole, AttachRolePolicy and
/// PutRolePolicy per role, `concurrency` roles at a time (in each account
/// when `per_account`).
pub async fn plain(
    accounts: &Accounts,
    roles: usize,
    concurrency: usize,
    per_account: bool,
) -> anyhow::Result<PlainResult> {
    let config = config().await;
    let sts = aws_sdk_sts::Client::new(&config);
    let started = Instant::now();
    let mut clients = BTreeMap::new();
    for account in &accounts.members {
        clients.insert(account.clone(), member_iam(&config, &sts, account).await?);
    }
    let clients = &clients;
    if per_account {
        let m = accounts.members.len();
        let streams = (0..m).map(|first| write_roles((first..roles).step_by(m), accounts, clients, concurrency));
        futures::future::try_join_all(streams).await?;
    } else {
        write_roles(0..roles, accounts, clients, concurrency).await?;
    }
    let seconds = started.elapsed().as_secs_f64();
    let n = roles as u64;
    let calls = [
        ("AssumeRole", accounts.members.len() as u64),
        ("CreateRole", n),
        ("AttachRolePolicy", n),
        ("PutRolePolicy", n),
    ]
    .into_iter()
    .map(|(operation, count)| (operation.to_owned(), count))
    .collect();
    Ok(PlainResult {
        roles,
        accounts: accounts.members.len(),
        concurrency,
        per_account,
        language: rust_sdk(),
        seconds,
        calls,
        cpu: BTreeMap::new(),
    })
}

/// The three writes of each role of `which`, `concurrency` roles at a time.
async fn write_roles(
    which: impl Iterator<Item = usize>,
    accounts: &Accounts,
    clients: &BTreeMap<String, aws_sdk_iam::Client>,
    concurrency: usize,
) -> anyhow::Result<()> {
    futures::stream::iter(which)
        .map(|i| {
            let role = role(i, accounts);
            let iam = clients[&role.account].clone();
            async move {
                let owner_tag = Tag::builder().key(OWNER_TAG).value(&role.owner).build()?;
                iam.create_role()
                    .role_name(&role.name)
                    .description(&role.description)
                    .max_session_duration(3600)
                    .assume_role_policy_document(role.trust_policy.to_string())
                    .tags(owner_tag)
                    .send()
                    .await
                    .with_context(|| format!("CreateRole {}", role.name))?;
                iam.attach_role_policy()
                    .role_name(&role.name)
                    .policy_arn(MANAGED_POLICY)
                    .send()
                    .await
                    .with_context(|| format!("AttachRolePolicy {}", role.name))?;
                iam.put_role_policy()
                    .role_name(&role.name)
                    .policy_name(INLINE_POLICY_NAME)
                    .policy_document(role.inline_policy.to_string())
                    .send()
                    .await
                    .with_context(|| format!("PutRolePolicy {}", role.name))?;
                anyhow::Ok(())
            }
        })
        .buffer_unordered(concurrency)
        .try_collect::<()>()
        .await
}

async fn member_iam(
    config: &SdkConfig,
    sts: &aws_sdk_sts::Client,
    account: &str,
) -> anyhow::Result<aws_sdk_iam::Client> {
    let credentials = sts
        .assume_role()
        .role_arn(format!("arn:aws:iam::{account}:role/{ACCESS_ROLE}"))
        .role_session_name("bench-plain")
        .send()
        .await
        .with_context(|| format!("AssumeRole into {account}"))?
        .credentials
        .context("no credentials from AssumeRole")?;
    let credentials = Credentials::new(
        credentials.access_key_id,
        credentials.secret_access_key,
        Some(credentials.session_token),
        None,
        "bench-plain",
    );
    Ok(aws_sdk_iam::Client::from_conf(
        aws_sdk_iam::config::Builder::from(config)
            .credentials_provider(credentials)
            .build(),
    ))
}

/// What moto recorded (`MOTO_ENABLE_RECORDING`) from a byte offset of its
/// recording on: how many requests, and the AssumeRole calls by the account
/// whose role they assumed, which the operator's metrics do not label.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Recorded {
    pub requests: u64,
    pub assume_role_by_account: BTreeMap<String, u64>,
}

#[derive(Deserialize)]
struct Entry {
    #[serde(default)]
    body: Option<String>,
    #[serde(default)]
    body_encoded: bool,
}

/// The recording's current length, where a window of requests starts.
pub fn recording_offset(path: &Path) -> anyhow::Result<u64> {
    Ok(std::fs::metadata(path).map(|m| m.len()).unwrap_or(0))
}

pub fn recorded_since(path: &Path, offset: u64) -> anyhow::Result<Recorded> {
    let mut file = std::fs::File::open(path).with_context(|| format!("opening moto's recording {}", path.display()))?;
    file.seek(SeekFrom::Start(offset))?;
    let mut text = String::new();
    file.read_to_string(&mut text)?;
    let mut recorded = Recorded::default();
    for line in text.lines().filter(|line| !line.is_empty()) {
        let entry: Entry = serde_json::from_str(line).context("a line of moto's recording")?;
        recorded.requests += 1;
        let body = match (entry.body, entry.body_encoded) {
            (Some(body), true) => {
                String::from_utf8_lossy(&base64::engine::general_purpose::STANDARD.decode(body)?).into_owned()
            }
            (Some(body), false) => body,
            (None, _) => continue,
        };
        // STS takes form-encoded queries: Action=AssumeRole&RoleArn=arn%3Aaws%3Aiam%3A%3A<account>%3Arole%2F...
        let params: BTreeMap<_, _> = body
            .split('&')
            .filter_map(|pair| pair.split_once('='))
            .map(|(key, value)| (key, percent_encoding::percent_decode_str(value).decode_utf8_lossy()))
            .collect();
        if params.get("Action").map(|a| a.as_ref()) == Some("AssumeRole") {
            let account = params
                .get("RoleArn")
                .and_then(|arn| arn.split(':').nth(4))
                .unwrap_or("?")
                .to_owned();
            *recorded.assume_role_by_account.entry(account).or_default() += 1;
        }
    }
    Ok(recorded)
}

//! IAM clients for every account the operator works in: its own credentials in
//! its own account, an assumed access role anywhere else.
//!
//! AssumeRole is called once per (account, role, session name) and its
//! credentials reused until shortly before they expire, so a resync of many
//! objects in one account costs one STS call an hour rather than one per
//! reconcile, and so do the writes of one namespace when write sessions are
//! named for namespaces. Credentials stay inside the SDK clients and are never logged.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use aws_config::SdkConfig;
use aws_sdk_iam::config::{Credentials, SharedHttpClient, SharedInterceptor};
use tokio::sync::{Mutex as AsyncMutex, OnceCell};

use super::AwsResult;
use super::error::{AwsError, AwsErrorKind, sdk_error};
use super::pacing::{Limits, base_http_client, paced, retry_partition};

/// The session of the operator's shared reads in a member account; its
/// writes carry a session named for the object that asked (`session_client`).
const ROLE_SESSION_NAME: &str = "aws-access-operator";

/// Assumed credentials are replaced this long before they expire, so a call
/// that started with them still finishes inside their lifetime.
const REFRESH_BEFORE_EXPIRY: Duration = Duration::from_secs(5 * 60);

/// Who the operator's own credentials are.
#[derive(Clone, Debug)]
struct CallerIdentity {
    account_id: String,
    /// `aws`, `aws-cn`, `aws-us-gov`: access role ARNs live in the same partition.
    partition: String,
}

struct AssumedClient {
    client: aws_sdk_iam::Client,
    replace_after: SystemTime,
}

/// (account, access role, role session name).
type CacheKey = (String, String, String);

/// Sessions kept for reuse, at most about this many: the shared read
/// session and each namespace's write session in every account, or the
/// objects written most recently, without growing with the number of objects.
const KEPT_SESSIONS: usize = 256;

pub struct AccountClients {
    base_config: SdkConfig,
    base_http: SharedHttpClient,
    limits: Limits,
    /// One paced HTTP client per account, kept across credential renewals
    /// so that an account's limits hold whichever credentials call it.
    http: Mutex<HashMap<String, SharedHttpClient>>,
    /// Installed on every client, including those made for assumed roles.
    interceptors: Vec<SharedInterceptor>,
    sts: aws_sdk_sts::Client,
    own_iam: aws_sdk_iam::Client,
    own_identity: OnceCell<CallerIdentity>,
    /// One slot per (account, access role, session); its async lock makes
    /// concurrent callers for the same session wait for one AssumeRole
    /// instead of each making their own.
    assumed: Mutex<HashMap<CacheKey, Arc<AsyncMutex<Option<AssumedClient>>>>>,
    assume_role_calls: AtomicU64,
}

impl AccountClients {
    /// `limits` hold for each account's IAM, the operator's own included.
    pub fn new(config: &SdkConfig, interceptors: Vec<SharedInterceptor>, limits: Limits) -> Self {
        let base_http = base_http_client(config);
        let mut sts = aws_sdk_sts::config::Builder::from(config);
        let mut own_iam = aws_sdk_iam::config::Builder::from(config)
            .http_client(paced(base_http.clone(), limits))
            .retry_partition(retry_partition("own"));
        for interceptor in &interceptors {
            sts.push_interceptor(interceptor.clone());
            own_iam.push_interceptor(interceptor.clone());
        }
        Self {
            base_config: config.clone(),
            base_http,
            limits,
            http: Mutex::default(),
            interceptors,
            sts: aws_sdk_sts::Client::from_conf(sts.build()),
            own_iam: aws_sdk_iam::Client::from_conf(own_iam.build()),
            own_identity: OnceCell::new(),
            assumed: Mutex::new(HashMap::new()),
            assume_role_calls: AtomicU64::new(0),
        }
    }

    /// The account of the operator's own credentials (STS GetCallerIdentity, asked once).
    pub async fn own_account_id(&self) -> AwsResult<String> {
        Ok(self.own_identity().await?.account_id.clone())
    }

    /// How many times STS AssumeRole has been called, for metrics and tests.
    pub fn assume_role_calls(&self) -> u64 {
        self.assume_role_calls.load(Ordering::Relaxed)
    }

    /// An IAM client acting inside `account_id`.
    pub async fn iam_client(&self, account_id: &str, access_role: &str) -> AwsResult<aws_sdk_iam::Client> {
        if self.own_identity().await?.account_id == account_id {
            return Ok(self.own_iam.clone());
        }
        self.session_client(account_id, access_role, ROLE_SESSION_NAME).await
    }

    /// An IAM client inside `account_id` under a role session named
    /// `session`: every call it makes shows `session` in the account's
    /// CloudTrail. Kept and reused until shortly before it expires.
    pub async fn session_client(
        &self,
        account_id: &str,
        access_role: &str,
        session: &str,
    ) -> AwsResult<aws_sdk_iam::Client> {
        let identity = self.own_identity().await?;
        let slot = self.slot(account_id, access_role, session);
        let mut cached = slot.lock().await;
        if let Some(assumed) = cached
            .as_ref()
            .filter(|assumed| SystemTime::now() < assumed.replace_after)
        {
            return Ok(assumed.client.clone());
        }
        let role_arn = format!("arn:{}:iam::{account_id}:role/{access_role}", identity.partition);
        let assumed = self.assume_role(account_id, &role_arn, session).await?;
        let client = assumed.client.clone();
        *cached = Some(assumed);
        Ok(client)
    }

    async fn own_identity(&self) -> AwsResult<&CallerIdentity> {
        self.own_identity
            .get_or_try_init(|| async {
                let identity = self
                    .sts
                    .get_caller_identity()
                    .send()
                    .await
                    .map_err(sdk_error("GetCallerIdentity"))?;
                let missing = |what: &str| {
                    AwsError::new(
                        AwsErrorKind::Other,
                        "GetCallerIdentity",
                        format!("STS returned no {what} for the operator's credentials"),
                    )
                };
                let account_id = identity.account().ok_or_else(|| missing("account"))?.to_owned();
                let partition = identity
                    .arn()
                    .and_then(|arn| arn.split(':').nth(1))
                    .ok_or_else(|| missing("ARN"))?
                    .to_owned();
                Ok(CallerIdentity { account_id, partition })
            })
            .await
    }

    fn slot(&self, account_id: &str, access_role: &str, session: &str) -> Arc<AsyncMutex<Option<AssumedClient>>> {
        // Held only to look up or insert, never across an await; a poisoned map
        // is still a valid map.
        let mut slots = self.assumed.lock().unwrap_or_else(PoisonError::into_inner);
        let key = (account_id.to_owned(), access_role.to_owned(), session.to_owned());
        if slots.len() >= KEPT_SESSIONS && !slots.contains_key(&key) {
            // Forgets write sessions no call is using (an arbitrary half of
            // them at worst), never an account's read session, which every
            // reconcile there uses; a forgotten one costs one AssumeRole when next needed.
            let mut idle = slots.len() / 2;
            slots.retain(|(_, _, name), slot| {
                let forget = idle > 0 && name != ROLE_SESSION_NAME && Arc::strong_count(slot) == 1;
                idle -= usize::from(forget);
                !forget
            });
        }
        slots.entry(key).or_default().clone()
    }

    fn http_client(&self, account_id: &str) -> SharedHttpClient {
        let mut clients = self.http.lock().unwrap_or_else(PoisonError::into_inner);
        clients
            .entry(account_id.to_owned())
            .or_insert_with(|| paced(self.base_http.clone(), self.limits))
            .clone()
    }

    async fn assume_role(&self, account_id: &str, role_arn: &str, session: &str) -> AwsResult<AssumedClient> {
        self.assume_role_calls.fetch_add(1, Ordering::Relaxed);
        let output = self
            .sts
            .assume_role()
            .role_arn(role_arn)
            .role_session_name(session)
            .send()
            .await
            .map_err(sdk_error("AssumeRole"))?;
        let credentials = output.credentials().ok_or_else(|| {
            AwsError::new(
                AwsErrorKind::Other,
                "AssumeRole",
                format!("STS returned no credentials for {role_arn}"),
            )
        })?;
        // An expiry the clock cannot represent is treated as already due, so the
        // next call assumes the role again rather than trusting it forever.
        let expires = SystemTime::try_from(*credentials.expiration()).unwrap_or(SystemTime::UNIX_EPOCH);
        let provider = Credentials::new(
            credentials.access_key_id(),
            credentials.secret_access_key(),
            Some(credentials.session_token().to_owned()),
            Some(expires),
            "AssumeRole",
        );
        let mut config = aws_sdk_iam::config::Builder::from(&self.base_config)
            .credentials_provider(provider)
            .http_client(self.http_client(account_id))
            .retry_partition(retry_partition(account_id));
        for interceptor in &self.interceptors {
            config.push_interceptor(interceptor.clone());
        }
        let config = config.build();
        tracing::debug!(role_arn, "assumed access role");
        Ok(AssumedClient {
            client: aws_sdk_iam::Client::from_conf(config),
            replace_after: replace_after(expires),
        })
    }
}

fn replace_after(expires: SystemTime) -> SystemTime {
    expires
        .checked_sub(REFRESH_BEFORE_EXPIRY)
        .unwrap_or(SystemTime::UNIX_EPOCH)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_replaced_five_minutes_before_they_expire() {
        let now = SystemTime::now();
        assert!(now < replace_after(now + Duration::from_secs(3600)));
        assert!(now >= replace_after(now + Duration::from_secs(4 * 60)));
    }
}

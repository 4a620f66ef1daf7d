//! The validating admission webhook: `kubectl apply` of a CrossAccountRole,
//! DeveloperGroup, PartnerAccess or IamUser that the operator would refuse (tenancy,
//! guardrails) is refused at once, with the message its `Stalled` condition
//! would carry, rather than minutes later in a condition. It answers from
//! the cluster as it is at that moment (the AwsAccounts, the objects the
//! request names) through the same checks as the reconcile
//! (`controller::admission`), and never writes. Every replica serves it,
//! leader or not. Deletions are always allowed: a removal is never blocked.
//! Its mutating path records who creates an AccessRequest or AccessApproval
//! (`controller::access_request::stamp`), which the validating path then
//! holds to: stamped by the API server's word, never changed after.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;
use axum::extract::{DefaultBodyLimit, State};
use axum::routing::post;
use axum::{Json, Router};
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use kube::Client;
use kube::api::Api;
use kube::core::DynamicObject;
use kube::core::admission::{AdmissionRequest, AdmissionResponse, AdmissionReview, Operation};
use serde::de::DeserializeOwned;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::api::AwsAccount;
use crate::api::guard;
use crate::aws::Aws;
use crate::controller::access_request::stamp;
use crate::controller::admission::{Admitted, Review};
use crate::controller::index::Cache;
use crate::controller::{Config, Stores, list_guarded};

/// The largest AdmissionReview the webhook reads.
const REVIEW_LIMIT: usize = 8 << 20;

/// The path the webhook answers on, which the ValidatingWebhookConfiguration names.
pub const PATH: &str = "/validate";

/// The path the mutating webhook answers on, which the MutatingWebhookConfiguration names:
/// it records who creates an AccessRequest or an AccessApproval.
pub const MUTATE_PATH: &str = "/mutate";

struct Shared {
    client: Client,
    aws: Arc<dyn Aws>,
    config: Config,
}

/// The serving certificate and key from `dir` (`tls.crt`, `tls.key`: what
/// cert-manager and the chart's generated Secret hold).
pub fn tls_from(dir: &Path) -> anyhow::Result<TlsAcceptor> {
    let (crt, key) = (dir.join("tls.crt"), dir.join("tls.key"));
    let chain = CertificateDer::pem_file_iter(&crt)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .with_context(|| format!("reading the webhook certificate {}", crt.display()))?;
    let key =
        PrivateKeyDer::from_pem_file(&key).with_context(|| format!("reading the webhook key {}", key.display()))?;
    let provider = Arc::new(tokio_rustls::rustls::crypto::aws_lc_rs::default_provider());
    let config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("TLS versions")?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .context("the webhook certificate and key do not go together")?;
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// Where `run` serves the webhook, if it does.
#[derive(Clone, Debug)]
pub struct Settings {
    pub address: std::net::SocketAddr,
    pub cert_dir: PathBuf,
}

/// Serves the webhook on `listener` over TLS until the process ends.
pub async fn serve(listener: TcpListener, tls: TlsAcceptor, client: Client, aws: Arc<dyn Aws>, config: Config) {
    let shared = Arc::new(Shared { client, aws, config });
    // A review carries the object and its old version, each up to the API
    // server's 3 MiB request limit: more than axum's default 2 MiB.
    let app = Router::new()
        .route(PATH, post(validate))
        .route(MUTATE_PATH, post(mutate))
        .layer(DefaultBodyLimit::max(REVIEW_LIMIT))
        .with_state(shared);
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(err) => {
                tracing::warn!(%err, "the webhook could not accept a connection");
                continue;
            }
        };
        let (tls, app) = (tls.clone(), app.clone());
        tokio::spawn(async move {
            let stream = match tls.accept(stream).await {
                Ok(stream) => stream,
                Err(err) => return tracing::debug!(%err, "a TLS handshake with the webhook failed"),
            };
            let service = TowerToHyperService::new(app);
            let served = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
            if let Err(err) = served {
                tracing::debug!(%err, "a webhook connection ended");
            }
        });
    }
}

async fn validate(State(shared): State<Arc<Shared>>, body: String) -> Json<AdmissionReview<DynamicObject>> {
    // The review is read as the cache reads objects (`api::guard`): a value
    // nested too deep in the new object is refused by name; one in the old
    // object (a fix of an object written before this check) is let go.
    let (body, too_deep) = match guard::cap_depth(&body, guard::MAX_DEPTH + REVIEW_LEVELS) {
        Some((capped, paths)) => (
            capped,
            paths
                .into_iter()
                .find_map(|path| path.strip_prefix("request.object.").map(guard::too_deep)),
        ),
        None => (body, None),
    };
    let review: AdmissionReview<DynamicObject> = match serde_json::from_str(&body) {
        Ok(review) => review,
        Err(err) => return Json(AdmissionResponse::invalid(format!("not an AdmissionReview: {err}")).into_review()),
    };
    let request: AdmissionRequest<DynamicObject> = match review.try_into() {
        Ok(request) => request,
        Err(err) => return Json(AdmissionResponse::invalid(err.to_string()).into_review()),
    };
    let response = AdmissionResponse::from(&request);
    if request.operation == Operation::Delete {
        return Json(response.into_review());
    }
    let refusals = match too_deep {
        Some(too_deep) => vec![too_deep],
        None => match refusals(&shared, &request).await {
            Ok(refusals) => refusals,
            // failurePolicy Fail: a request the operator cannot judge is refused, saying why.
            Err(err) => vec![format!("the operator could not check this object: {err:#}")],
        },
    };
    if refusals.is_empty() {
        return Json(response.into_review());
    }
    let mut denied = response.deny(refusals.join("; "));
    denied.result.code = 403;
    denied.result.reason = "Forbidden".into();
    Json(denied.into_review())
}

/// Stamps who creates an AccessRequest or AccessApproval, from the request's user, over
/// whatever the client wrote; anything else passes unchanged.
async fn mutate(body: String) -> Json<AdmissionReview<DynamicObject>> {
    let request: AdmissionRequest<DynamicObject> = match serde_json::from_str::<AdmissionReview<DynamicObject>>(&body)
        .map_err(|err| format!("not an AdmissionReview: {err}"))
        .and_then(|review| {
            review
                .try_into()
                .map_err(|err: kube::core::admission::ConvertAdmissionReviewError| err.to_string())
        }) {
        Ok(request) => request,
        Err(why) => return Json(AdmissionResponse::invalid(why).into_review()),
    };
    let response = AdmissionResponse::from(&request);
    let (Operation::Create, Some(object)) = (&request.operation, &request.object) else {
        return Json(response.into_review());
    };
    let stamps = stamp::stamps(&request.kind.kind, &request.user_info);
    if stamps.is_empty() {
        return Json(response.into_review());
    }
    let stamped = serde_json::to_value(object)
        .map_err(|err| err.to_string())
        .and_then(|object| {
            response
                .with_patch(stamp::patch(&object, &stamps))
                .map_err(|err| err.to_string())
        });
    match stamped {
        Ok(response) => Json(response.into_review()),
        Err(why) => {
            Json(AdmissionResponse::invalid(format!("the operator could not record who asked: {why}")).into_review())
        }
    }
}

/// The containers around an object in an AdmissionReview: the review and its request.
const REVIEW_LEVELS: usize = 2;

fn typed<K: DeserializeOwned>(object: &DynamicObject) -> anyhow::Result<K> {
    Ok(serde_json::from_value(serde_json::to_value(object)?)?)
}

/// Why the operator would refuse the object of `request`.
async fn refusals(shared: &Shared, request: &AdmissionRequest<DynamicObject>) -> anyhow::Result<Vec<String>> {
    let Some(object) = &request.object else {
        return Ok(vec![]);
    };
    // What admission recorded (who asked, who approved) is held to first; an update is judged
    // on that alone, so that the operator's own finalizer writes are never blocked.
    let kind = request.kind.kind.as_str();
    if stamp::is_stamped(kind) {
        let new = serde_json::to_value(object)?;
        let refusals = match request.operation {
            Operation::Update => stamp::unchanged(kind, &serde_json::to_value(&request.old_object)?, &new),
            _ => stamp::stamped_by(kind, &new, &request.user_info),
        };
        if request.operation == Operation::Update || !refusals.is_empty() {
            return Ok(refusals);
        }
    }
    macro_rules! review_by_kind {
        ($($field:ident: $kind:ident => $module:ident,)*) => {
            match request.kind.kind.as_str() {
                $(stringify!($kind) => review::<crate::api::$kind>(shared, typed(object)?).await,)*
                _ => Ok(vec![]),
            }
        };
    }
    crate::kinds::for_each_kind!(review_by_kind)
}

/// The review of one object against every AwsAccount and what it names.
async fn review<K: Admitted>(shared: &Shared, object: K) -> anyhow::Result<Vec<String>> {
    let client = &shared.client;
    let accounts = list_guarded(&Api::<AwsAccount>::all(client.clone()), &Default::default()).await?;
    let mut stores = Stores {
        accounts: Cache::of(accounts),
        ..Stores::empty()
    };
    object.fetch_referenced(client, &mut stores).await?;
    let own = shared.aws.own_account_id().await?;
    let review = Review {
        stores: &stores,
        config: &shared.config,
        own_account_id: &own,
    };
    Ok(object.refusals(&review))
}

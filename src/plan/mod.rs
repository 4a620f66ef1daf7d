//! `aws-access-operator plan`: the AWS changes that applying manifests would
//! make, against the cluster and AWS as they are now. The reconcilers' own
//! observe and plan code computes them (`owned::preview` and its kin), and
//! nothing is written: not to AWS (the SDK refuses every write, see
//! `aws::read_only`), not to Kubernetes (no finalizer, no status, no Event;
//! its client sends GETs only, see `read_only_client`).

pub(crate) mod kinds;
pub mod manifests;

use std::collections::BTreeMap;
use std::sync::Arc;

use anyhow::{Context as _, bail};
use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use kube::core::object::HasStatus;
use kube::{Client, CustomResourceExt, Resource, ResourceExt};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tower::BoxError;
use tower::filter::FilterLayer;

use crate::aws::Aws;
use crate::controller::context::{Config, Context, Stores};
use crate::controller::index::{Cache, Indexed};
use crate::telemetry::Metrics;
use kinds::Planned;
use manifests::Document;

/// What applying one object would change in AWS.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectPlan {
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    pub name: String,
    /// The file (and document) it comes from.
    pub source: String,
    /// The object that makes this one (a PartnerAccess, for its roles).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub via: Option<String>,
    /// What in AWS it manages, as the object's conditions name it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    pub changes: Vec<PlannedChange>,
    /// What the operator would say while part of the spec waits (a reference not ready).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// Why the operator would refuse the object, naming the field.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// One AWS write.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PlannedChange {
    pub change: String,
    /// The statements a policy gains (`+`) and loses (`-`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<String>,
}

impl ObjectPlan {
    pub(crate) fn of<K: Resource<DynamicType = ()>>(object: &K, source: &str) -> Self {
        ObjectPlan {
            kind: K::kind(&()).into_owned(),
            namespace: object.namespace(),
            name: object.name_any(),
            source: source.into(),
            ..ObjectPlan::default()
        }
    }

    fn heading(&self) -> String {
        let name = match &self.namespace {
            Some(namespace) => format!("{namespace}/{}", self.name),
            None => self.name.clone(),
        };
        let via = self.via.as_ref().map(|v| format!(" (made by {v})")).unwrap_or_default();
        let target = self.target.as_ref().map(|t| format!(": {t}")).unwrap_or_default();
        format!("{} {name}{via}{target}", self.kind)
    }
}

/// Every object of the files, planned.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Plan {
    pub objects: Vec<ObjectPlan>,
}

impl Plan {
    /// 1 when the operator would refuse an object, 2 when AWS would change, else 0.
    pub fn exit_code(&self) -> i32 {
        if self.objects.iter().any(|o| o.error.is_some()) {
            1
        } else if self.objects.iter().any(|o| !o.changes.is_empty()) {
            2
        } else {
            0
        }
    }

    pub fn text(&self) -> String {
        let mut out = String::new();
        for object in &self.objects {
            out.push_str(&object.heading());
            out.push('\n');
            if let Some(error) = &object.error {
                out.push_str(&format!("  error: {error}\n"));
            }
            for change in &object.changes {
                out.push_str(&format!("  * {}\n", change.change));
                for detail in &change.details {
                    out.push_str(&format!("      {detail}\n"));
                }
            }
            for note in &object.notes {
                out.push_str(&format!("  note: {note}\n"));
            }
            if object.error.is_none() && object.changes.is_empty() {
                out.push_str("  no change\n");
            }
        }
        let changes: usize = self.objects.iter().map(|o| o.changes.len()).sum();
        let changing = self.objects.iter().filter(|o| !o.changes.is_empty()).count();
        let refused = self.objects.iter().filter(|o| o.error.is_some()).count();
        out.push_str(&format!(
            "\n{changes} change(s) to AWS in {changing} of {} object(s); {refused} refused.\n",
            self.objects.len()
        ));
        out
    }
}

/// A client of the current kubeconfig's cluster (or the in-cluster one)
/// that can only read: any other request fails before it is sent.
pub async fn read_only_client() -> anyhow::Result<Client> {
    let config = kube::Config::infer().await.context("reading the kubeconfig")?;
    let builder = kube::client::ClientBuilder::try_from(config).context("connecting to Kubernetes")?;
    Ok(builder.with_layer(&FilterLayer::new(only_reads)).build())
}

fn only_reads(request: http::Request<kube::client::Body>) -> Result<http::Request<kube::client::Body>, BoxError> {
    if request.method() == http::Method::GET {
        return Ok(request);
    }
    Err(format!(
        "{} {} refused: this command only reads Kubernetes",
        request.method(),
        request.uri().path()
    )
    .into())
}

/// The files' objects, and which of them a kind has taken.
struct Files {
    documents: Vec<Document>,
    taken: Vec<bool>,
}

/// The objects of one kind: the files' over the cluster's.
struct Overlay<K: Indexed> {
    /// Both, as the reconcilers' caches would hold them after the apply.
    store: Cache<K>,
    /// The files' objects, with the status and identity of the cluster's
    /// object of the same name; with where each was written.
    named: Vec<(usize, K)>,
}

/// Lists the cluster's objects of kind `K` and lays the files' over them:
/// a file's object takes the place of the cluster's of the same name,
/// keeping its status, as an apply would.
async fn overlay<K>(client: &Client, files: &mut Files) -> anyhow::Result<Overlay<K>>
where
    K: Indexed + CustomResourceExt + HasStatus + Serialize + DeserializeOwned + std::fmt::Debug,
    K::Status: Clone,
{
    let kind = K::kind(&());
    let api_version = K::api_version(&());
    let cluster = crate::controller::list_guarded(&kube::Api::<K>::all(client.clone()), &Default::default())
        .await
        .with_context(|| format!("listing the cluster's {kind} objects"))?;
    let namespaced = K::crd().spec.scope == "Namespaced";
    let mut named = vec![];
    for (i, document) in files.documents.iter().enumerate() {
        if document.kind() != kind || document.api_version() != api_version {
            continue;
        }
        files.taken[i] = true;
        let mut object: K = serde_path_to_error::deserialize(&document.value)
            .map_err(|err| anyhow::anyhow!("{}: {kind}: {}: {}", document.source, err.path(), err.inner()))?;
        if namespaced && object.namespace().is_none() {
            object.meta_mut().namespace = Some(client.default_namespace().to_owned());
        }
        let current = cluster
            .iter()
            .find(|c| c.name_any() == object.name_any() && c.namespace() == object.namespace());
        match current {
            Some(current) => {
                let spec_changed = serde_json::to_value(&object)?["spec"] != serde_json::to_value(current)?["spec"];
                let meta = object.meta_mut();
                meta.uid = current.meta().uid.clone();
                meta.resource_version = current.meta().resource_version.clone();
                meta.finalizers = current.meta().finalizers.clone();
                meta.generation = current.meta().generation.map(|g| g + i64::from(spec_changed));
                *object.status_mut() = current.status().cloned();
            }
            // A stand-in identity, so that what the object would own can name it as its owner.
            None => {
                let meta = object.meta_mut();
                meta.generation = Some(1);
                let (namespace, name) = (
                    meta.namespace.clone().unwrap_or_default(),
                    meta.name.clone().unwrap_or_default(),
                );
                meta.uid = Some(format!("planned-{kind}-{namespace}-{name}"));
            }
        }
        named.push((i, object));
    }
    // The files' objects after the cluster's: they take their place.
    let store = Cache::of(cluster.into_iter().chain(named.iter().map(|(_, o)| o.clone())));
    Ok(Overlay { store, named })
}

macro_rules! overlays {
    ($($field:ident: $kind:ident => $module:ident,)*) => {
        /// Every kind's objects of the files, laid over the cluster's.
        struct Overlays {
            $($field: Overlay<crate::api::$kind>,)*
        }

        impl Overlays {
            async fn read(client: &Client, files: &mut Files) -> anyhow::Result<Self> {
                Ok(Overlays {
                    $($field: overlay(client, files).await?,)*
                })
            }

            fn stores(&self) -> Stores {
                Stores {
                    $($field: self.$field.store.clone(),)*
                }
            }

            /// Each object's plans, with where in the files it was written.
            async fn planned(&self, ctx: &Context, files: &Files) -> Vec<(usize, Vec<ObjectPlan>)> {
                let mut planned = vec![];
                $(planned.extend(each(ctx, &self.$field.named, files).await);)*
                planned
            }
        }
    };
}
crate::kinds::for_each_kind!(overlays);

/// The Secrets of the files, `stringData` folded into `data` as the API server does.
fn secrets(client: &Client, files: &mut Files) -> anyhow::Result<Vec<Secret>> {
    let mut secrets = vec![];
    for (i, document) in files.documents.iter().enumerate() {
        if document.kind() != "Secret" || document.api_version() != "v1" {
            continue;
        }
        files.taken[i] = true;
        let mut secret: Secret = serde_path_to_error::deserialize(&document.value)
            .map_err(|err| anyhow::anyhow!("{}: Secret: {}: {}", document.source, err.path(), err.inner()))?;
        secret
            .metadata
            .namespace
            .get_or_insert_with(|| client.default_namespace().to_owned());
        let strings = secret.string_data.take().unwrap_or_default();
        let data = secret.data.get_or_insert_with(BTreeMap::new);
        data.extend(
            strings
                .into_iter()
                .map(|(key, value)| (key, ByteString(value.into_bytes()))),
        );
        secrets.push(secret);
    }
    Ok(secrets)
}

/// Plans `documents` against the cluster of `client` and `aws`, which must
/// refuse writes: planning reads only, and this is its second guard.
pub async fn plan(client: Client, aws: Arc<dyn Aws>, config: Config, documents: Vec<Document>) -> anyhow::Result<Plan> {
    let mut files = Files {
        taken: vec![false; documents.len()],
        documents,
    };
    let mut secrets = secrets(&client, &mut files)?;
    let overlays = Overlays::read(&client, &mut files).await?;
    for (document, taken) in files.documents.iter().zip(&files.taken) {
        if !taken && document.api_version().starts_with("awsaccess.dev/") {
            bail!(
                "{}: kind {} is not one this operator knows",
                document.source,
                document.kind()
            );
        }
    }
    secrets.extend(
        crate::controller::partner_access::external_ids_to_generate(&client, &overlays.partners.named, &secrets)
            .await?,
    );
    let ctx = Context::new(client, aws, config, overlays.stores(), Arc::new(Metrics::default())).with_secrets(secrets);
    let mut planned = overlays.planned(&ctx, &files).await;
    planned.sort_by_key(|(i, _)| *i);
    Ok(Plan {
        objects: planned.into_iter().flat_map(|(_, plans)| plans).collect(),
    })
}

async fn each<K: Planned>(ctx: &Context, named: &[(usize, K)], files: &Files) -> Vec<(usize, Vec<ObjectPlan>)> {
    let mut planned = vec![];
    for (i, object) in named {
        planned.push((*i, object.planned(ctx, &files.documents[*i].source).await));
    }
    planned
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(name: &str, changes: &[&str], error: Option<&str>) -> ObjectPlan {
        ObjectPlan {
            kind: "CrossAccountRole".into(),
            namespace: Some("alfie".into()),
            name: name.into(),
            target: Some(format!("IAM role {name} in account 111122223333")),
            changes: changes
                .iter()
                .map(|c| PlannedChange {
                    change: c.to_string(),
                    details: vec![],
                })
                .collect(),
            error: error.map(String::from),
            ..ObjectPlan::default()
        }
    }

    #[test]
    fn the_kubernetes_client_only_reads() {
        let request = |method: http::Method| {
            http::Request::builder()
                .method(method)
                .uri("/apis/awsaccess.dev/v1alpha1/namespaces/alfie/crossaccountroles/x")
                .body(kube::client::Body::empty())
                .expect("request")
        };
        assert!(only_reads(request(http::Method::GET)).is_ok());
        for write in [
            http::Method::POST,
            http::Method::PUT,
            http::Method::PATCH,
            http::Method::DELETE,
        ] {
            let refused = only_reads(request(write.clone())).expect_err("a write").to_string();
            assert!(refused.starts_with(&format!("{write} /apis/")), "{refused}");
        }
    }

    #[test]
    fn the_exit_code_says_whether_anything_changes_and_a_refusal_wins() {
        let in_sync = object("a", &[], None);
        let changing = object("b", &["attach x"], None);
        let refused = object("c", &[], Some("spec.trust: no one"));
        let plan = |objects: Vec<ObjectPlan>| Plan { objects }.exit_code();
        assert_eq!(plan(vec![in_sync.clone()]), 0);
        assert_eq!(plan(vec![in_sync.clone(), changing.clone()]), 2);
        assert_eq!(plan(vec![changing, refused, in_sync]), 1);
        assert_eq!(plan(vec![]), 0);
    }

    #[test]
    fn text_names_each_object_and_its_changes() {
        let text = Plan {
            objects: vec![object("a", &[], None), object("b", &["attach x"], None)],
        }
        .text();
        assert_eq!(
            text,
            "CrossAccountRole alfie/a: IAM role a in account 111122223333\n  no change\n\
             CrossAccountRole alfie/b: IAM role b in account 111122223333\n  * attach x\n\
             \n1 change(s) to AWS in 1 of 2 object(s); 0 refused.\n"
        );
    }
}

//! Every manifest in examples/ is accepted by the API server and becomes
//! Ready against moto: what users copy works.

use kube::api::{Api, DynamicObject};

use crate::support::operator::{Env, converging_config, example_files, resource_of};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_example_is_accepted_and_becomes_ready() {
    let env = Env::without_operator().await.start_operator(converging_config());
    env.moto.create_organization().await;
    let identity = aws_sdk_iam::Client::new(&env.moto.sdk_config().await);
    for user in ["alice", "bob"] {
        identity.create_user().user_name(user).send().await.expect("CreateUser");
    }
    let files = example_files();
    let mut objects = vec![];
    for file in &files {
        let text = std::fs::read_to_string(file).expect("read");
        env.apply(&text).await;
        for document in serde_yaml_ng::Deserializer::from_str(&text) {
            let object: DynamicObject = serde::Deserialize::deserialize(document).expect("object");
            let types = object.types.clone().expect("types");
            if types.api_version.starts_with("awsaccess.dev/") {
                objects.push((
                    types.kind,
                    object.metadata.namespace.clone(),
                    object.metadata.name.clone().expect("name"),
                    file.clone(),
                ));
            }
        }
    }
    assert!(objects.len() >= 10, "the examples cover every kind: {objects:?}");
    for (kind, namespace, name, file) in objects {
        let (resource, _) = resource_of(&kind);
        let api: Api<DynamicObject> = match &namespace {
            Some(ns) => Api::namespaced_with(env.client.clone(), ns, &resource),
            None => Api::all_with(env.client.clone(), &resource),
        };
        env.wait_for(
            &api,
            &name,
            &format!("{kind} from {} Ready", file.display()),
            |object| {
                object
                    .data
                    .pointer("/status/conditions")
                    .and_then(|c| c.as_array())
                    .is_some_and(|conditions| {
                        conditions.iter().any(|c| {
                            c["type"] == "Ready"
                                && c["status"] == "True"
                                && c["observedGeneration"] == object.metadata.generation.unwrap_or_default()
                        })
                    })
            },
        )
        .await;
    }
}

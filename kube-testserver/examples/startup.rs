//! Prints how long a server takes to start and answer its first request,
//! and to serve a small list: `cargo run --release -p kube-testserver --example startup`.

use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, ListParams, PostParams};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    const SERVERS: usize = 50;
    let mut starts = vec![];
    let mut first_answers = vec![];
    for _ in 0..SERVERS {
        let begin = Instant::now();
        let server = kube_testserver::TestServer::start().await?;
        starts.push(begin.elapsed());
        let client = server.client()?;
        client.apiserver_version().await?;
        first_answers.push(begin.elapsed());
    }
    report("start", &mut starts);
    report("start + first request", &mut first_answers);

    let server = kube_testserver::TestServer::start().await?;
    let maps: Api<ConfigMap> = Api::default_namespaced(server.client()?);
    let begin = Instant::now();
    for i in 0..1000 {
        let map: ConfigMap =
            serde_json::from_value(serde_json::json!({"metadata": {"name": format!("map-{i}")}, "data": {"k": "v"}}))?;
        maps.create(&PostParams::default(), &map).await?;
    }
    println!(
        "1000 creates: {:?} ({:?} each)",
        begin.elapsed(),
        begin.elapsed() / 1000
    );
    let begin = Instant::now();
    let listed = maps.list(&ListParams::default()).await?;
    println!("list of {} objects: {:?}", listed.items.len(), begin.elapsed());
    Ok(())
}

fn report(what: &str, samples: &mut [Duration]) {
    samples.sort();
    let mean = samples.iter().sum::<Duration>() / samples.len() as u32;
    println!(
        "{what}: mean {mean:?}, median {:?}, max {:?} over {} servers",
        samples[samples.len() / 2],
        samples[samples.len() - 1],
        samples.len()
    );
}

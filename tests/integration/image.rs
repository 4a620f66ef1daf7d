//! The operator image is built two ways: from the `Dockerfile` (docker build,
//! the kind run in CI) and by `scripts/image.sh` (`podman import` of a root
//! filesystem it assembles, on machines that cannot pull base images). Both
//! must make the same image: the script's `--layout` is compared with the
//! Dockerfile's final stage, and its CA bundle with where the binary's TLS
//! stack looks for one. Reads files and `cargo metadata`; builds nothing.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// The base image whose layout scripts/image.sh reproduces.
const BASE: &str = "gcr.io/distroless/cc-debian12:nonroot";
/// How both build the binary the image carries.
const BUILD: &str = "cargo build --release --locked --bin aws-access-operator";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn read(path: impl AsRef<Path>) -> String {
    let path = root().join(path);
    std::fs::read_to_string(&path).unwrap_or_else(|err| panic!("{}: {err}", path.display()))
}

/// `scripts/image.sh --layout`, its `key=value` lines.
fn script_layout() -> BTreeMap<String, String> {
    let out = Command::new("scripts/image.sh")
        .arg("--layout")
        .current_dir(root())
        .output()
        .expect("scripts/image.sh runs");
    assert!(
        out.status.success(),
        "scripts/image.sh --layout failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stderr.is_empty(),
        "--layout must build nothing, yet said:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .expect("UTF-8")
        .lines()
        .map(|line| {
            let (key, value) = line.split_once('=').unwrap_or_else(|| panic!("not key=value: {line}"));
            (key.to_owned(), value.to_owned())
        })
        .collect()
}

/// The Dockerfile's instructions as `(KEYWORD, arguments)`: comments dropped,
/// continued lines joined, as docker reads them.
fn dockerfile_instructions() -> Vec<(String, String)> {
    let mut instructions = Vec::new();
    let mut current = String::new();
    for line in read("Dockerfile").lines() {
        let trimmed = line.trim();
        if trimmed.starts_with('#') || (trimmed.is_empty() && current.is_empty()) {
            continue;
        }
        match trimmed.strip_suffix('\\') {
            Some(continued) => {
                current.push_str(continued);
                current.push(' ');
            }
            None => {
                current.push_str(trimmed);
                let (keyword, arguments) = current.split_once(' ').unwrap_or((&current, ""));
                instructions.push((keyword.to_uppercase(), arguments.trim().to_owned()));
                current.clear();
            }
        }
    }
    assert!(current.is_empty(), "the Dockerfile ends inside a continued line");
    instructions
}

/// The last stage's instructions, from its FROM on.
fn final_stage() -> Vec<(String, String)> {
    let mut instructions = dockerfile_instructions();
    let from = instructions
        .iter()
        .rposition(|(keyword, _)| keyword == "FROM")
        .expect("a FROM");
    instructions.split_off(from)
}

/// The arguments of the final stage's one `keyword`.
fn only<'a>(stage: &'a [(String, String)], keyword: &str) -> &'a str {
    match stage
        .iter()
        .filter(|(k, _)| k == keyword)
        .map(|(_, arguments)| arguments.as_str())
        .collect::<Vec<_>>()
        .as_slice()
    {
        [arguments] => arguments,
        found => panic!("the Dockerfile's final stage has {} {keyword}", found.len()),
    }
}

/// An exec-form (JSON array) ENTRYPOINT or CMD.
fn exec_form(what: &str, text: &str) -> Vec<String> {
    serde_json::from_str(text).unwrap_or_else(|err| panic!("{what} {text} is not a JSON array of strings: {err}"))
}

#[test]
fn the_script_builds_the_dockerfiles_final_stage() {
    let layout = script_layout();
    let stage = final_stage();
    let field = |key: &str| layout.get(key).unwrap_or_else(|| panic!("--layout prints no {key}"));

    assert_eq!(
        stage[0].1, BASE,
        "the Dockerfile's base image changed: scripts/image.sh reproduces {BASE}'s layout"
    );
    assert_eq!(only(&stage, "USER"), field("user"), "USER");
    let exposed = only(&stage, "EXPOSE");
    assert_eq!(
        exposed.strip_suffix("/tcp").unwrap_or(exposed),
        field("expose"),
        "EXPOSE"
    );
    let entrypoint = exec_form("ENTRYPOINT", only(&stage, "ENTRYPOINT"));
    assert_eq!(
        entrypoint,
        exec_form("--layout entrypoint", field("entrypoint")),
        "ENTRYPOINT"
    );
    assert_eq!(
        exec_form("CMD", only(&stage, "CMD")),
        exec_form("--layout cmd", field("cmd")),
        "CMD"
    );

    // The binary: copied from the builder to where both run it from.
    let copy: Vec<&str> = only(&stage, "COPY").split_whitespace().collect();
    let (destination, sources) = copy.split_last().expect("COPY has a destination");
    assert!(
        sources.iter().any(|s| s.ends_with("/aws-access-operator")),
        "the final stage copies {sources:?}, not the operator"
    );
    assert_eq!(*destination, field("binary"), "where the binary is");
    assert_eq!(entrypoint, [field("binary").clone()], "the ENTRYPOINT runs the binary");

    // The user is distroless' nonroot, which the script's /etc/passwd and
    // /etc/group name, and which the chart runs the pod as.
    let (uid, gid) = field("user").split_once(':').expect("USER uid:gid");
    let script = read("scripts/image.sh");
    assert!(
        script.contains(&format!("\nnonroot:x:{uid}:{gid}:")),
        "no nonroot {uid}:{gid} in the image's /etc/passwd"
    );
    assert!(
        script.contains(&format!("\nnonroot:x:{gid}:")),
        "no nonroot group {gid} in the image's /etc/group"
    );
    let values: serde_yaml_ng::Value =
        serde_yaml_ng::from_str(&read("charts/aws-access-operator/values.yaml")).expect("values.yaml parses");
    assert_eq!(
        values["podSecurityContext"]["runAsUser"]
            .as_u64()
            .map(|u| u.to_string())
            .as_deref(),
        Some(uid)
    );
    assert_eq!(
        values["podSecurityContext"]["runAsGroup"]
            .as_u64()
            .map(|g| g.to_string())
            .as_deref(),
        Some(gid)
    );
}

#[test]
fn the_script_builds_the_binary_as_the_dockerfile_does() {
    let build = dockerfile_instructions()
        .into_iter()
        .filter(|(keyword, _)| keyword == "RUN")
        .map(|(_, arguments)| arguments)
        .find(|arguments| arguments.contains("cargo build"))
        .expect("the Dockerfile's builder runs cargo build");
    assert!(build.contains(BUILD), "the Dockerfile builds with {build}");
    assert!(
        read("scripts/image.sh").contains(&format!("\n{BUILD}\n")),
        "scripts/image.sh does not run {BUILD}"
    );
}

/// `cargo metadata` of the workspace, as Cargo.lock has it.
fn metadata() -> Value {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let out = Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--frozen"])
        .current_dir(root())
        .output()
        .expect("cargo metadata runs");
    assert!(
        out.status.success(),
        "cargo metadata failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("cargo metadata prints JSON")
}

/// The package ids the operator's own (library and binary) build links: its
/// normal dependencies, transitively, for any platform.
fn linked(metadata: &Value) -> BTreeSet<String> {
    let nodes: BTreeMap<&str, &Value> = metadata["resolve"]["nodes"]
        .as_array()
        .expect("resolve.nodes")
        .iter()
        .map(|node| (node["id"].as_str().expect("id"), node))
        .collect();
    let operator = metadata["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .find(|p| p["name"] == "aws-access-operator")
        .expect("the operator's package");
    let mut seen = BTreeSet::new();
    let mut next = vec![operator["id"].as_str().expect("id").to_owned()];
    while let Some(id) = next.pop() {
        if !seen.insert(id.clone()) {
            continue;
        }
        for dep in nodes[id.as_str()]["deps"].as_array().expect("deps") {
            if dep["dep_kinds"]
                .as_array()
                .expect("dep_kinds")
                .iter()
                .any(|k| k["kind"].is_null())
            {
                next.push(dep["pkg"].as_str().expect("pkg").to_owned());
            }
        }
    }
    seen
}

/// Where the linked package `name`'s source is.
fn source_of(metadata: &Value, linked: &BTreeSet<String>, name: &str) -> PathBuf {
    let package = metadata["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .find(|p| p["name"] == name && linked.contains(p["id"].as_str().expect("id")))
        .unwrap_or_else(|| panic!("the operator no longer links {name}"));
    Path::new(package["manifest_path"].as_str().expect("manifest_path"))
        .parent()
        .expect("the package's directory")
        .to_owned()
}

/// kube's and the AWS SDK's TLS clients (rustls) trust the system's CA bundle,
/// which rustls-native-certs finds with openssl-probe: the bundle must be at a
/// path openssl-probe looks at, since the script's image has nothing else.
#[test]
fn the_ca_bundle_is_where_the_tls_stack_reads_it() {
    let layout = script_layout();
    let bundle = &layout["ca_bundle"];
    assert_eq!(
        &layout["env.SSL_CERT_FILE"], bundle,
        "SSL_CERT_FILE names another bundle"
    );

    let metadata = metadata();
    let linked = linked(&metadata);
    let names: BTreeSet<&str> = metadata["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .filter(|p| linked.contains(p["id"].as_str().expect("id")))
        .map(|p| p["name"].as_str().expect("name"))
        .collect();
    // Every TLS client reads the system's roots; none brings its own.
    assert!(
        !names.contains("webpki-roots"),
        "a TLS client now trusts webpki-roots' compiled-in roots"
    );
    for client in ["hyper-rustls", "aws-smithy-http-client"] {
        assert!(names.contains(client), "the operator no longer links {client}");
    }

    let native_certs = source_of(&metadata, &linked, "rustls-native-certs");
    let unix = std::fs::read_to_string(native_certs.join("src/unix.rs")).expect("rustls-native-certs' src/unix.rs");
    assert!(
        unix.contains("openssl_probe::probe()"),
        "rustls-native-certs no longer asks openssl-probe where the bundle is"
    );

    let probe = std::fs::read_to_string(source_of(&metadata, &linked, "openssl-probe").join("src/lib.rs"))
        .expect("openssl-probe's src/lib.rs");
    let linux = probe
        .split("#[cfg(target_os = \"linux\")]")
        .find_map(|piece| piece.trim_start().strip_prefix("const CERTIFICATE_FILE_NAMES"))
        .expect("openssl-probe's CERTIFICATE_FILE_NAMES for Linux");
    let list = &linux[..linux.find("];").expect("the end of the list")];
    let files: Vec<&str> = list.split('"').skip(1).step_by(2).collect();
    assert!(
        files.contains(&bundle.as_str()),
        "openssl-probe reads {files:?} on Linux, not the image's {bundle}"
    );
}

//! `crds/` is what users apply; it must be exactly what the code generates.

#[test]
fn crds_directory_matches_generated() {
    let generated = aws_access_operator::api::crds_yaml().expect("render");
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("crds/awsaccess.dev.yaml");
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "{} is out of date: run `cargo run -- crd > crds/awsaccess.dev.yaml`",
        path.display()
    );
}

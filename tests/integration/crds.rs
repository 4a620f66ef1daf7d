//! `crds/` is what users apply; it must be exactly what the code generates.

#[test]
fn the_crds_directory_is_exactly_what_the_code_generates() {
    let generated = aws_access_operator::api::crds_yaml().expect("render");
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("crds/awsaccess.dev.yaml");
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "{} is out of date: run `cargo run -- crd > crds/awsaccess.dev.yaml`",
        path.display()
    );
}

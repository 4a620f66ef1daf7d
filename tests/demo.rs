//! The README's first command works as written: scripts/e2e.sh runs the
//! demo flow (moto, kube-testserver, kubectl, the operator binary) and
//! checks that AWS holds what the examples ask for.

use std::process::Command;

#[test]
fn the_demo_flow_ends_with_every_example_ready_and_aws_matching() {
    let root = env!("CARGO_MANIFEST_DIR");
    // The binaries this test run built, so the script need not build others with other features.
    let operator = std::path::Path::new(env!("CARGO_BIN_EXE_aws-access-operator"));
    let testserver = operator.with_file_name("kube-testserver");
    let mut e2e = Command::new(format!("{root}/scripts/e2e.sh"));
    e2e.current_dir(root);
    // Run without the workspace (-p), kube-testserver was not built: the script builds both.
    if testserver.exists() {
        e2e.env("OPERATOR_BIN", operator).env("TESTSERVER_BIN", &testserver);
    }
    let output = e2e.output().expect("scripts/e2e.sh runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "e2e failed\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    assert!(stdout.contains("e2e: AWS matches the examples"), "{stdout}");
    assert!(
        stdout.contains("crossaccountrole.awsaccess.dev/alfie-full-access"),
        "{stdout}"
    );
    assert!(stdout.contains("[profile alfie-development]"), "{stdout}");
}

//! The README's first command, run the way a new user runs it: `scripts/demo.sh`
//! from the checkout, with no binaries handed in and no environment beyond what
//! a shell with Rust and kubectl has. The script builds what it needs itself;
//! when it once built only the operator and waited for a kube-testserver that
//! was never built, nothing in the suite noticed because this test handed the
//! script binaries of its own.

use std::process::Command;

/// What a user's shell has that the demo may rely on: the tools on PATH and
/// where Rust keeps its toolchain, registry and build output.
const USER_ENVIRONMENT: &[&str] = &[
    "PATH",
    "HOME",
    "CARGO_HOME",
    "RUSTUP_HOME",
    "CARGO_TARGET_DIR",
    "TMPDIR",
];

#[test]
fn the_readmes_first_command_runs_to_the_end_on_its_own() {
    let root = env!("CARGO_MANIFEST_DIR");
    let readme = std::fs::read_to_string(format!("{root}/README.md")).expect("README.md");
    assert!(
        readme.contains("scripts/demo.sh        # the operator's main job"),
        "the README's first command changed"
    );

    let mut demo = Command::new("scripts/demo.sh");
    demo.current_dir(root).env_clear();
    for name in USER_ENVIRONMENT {
        if let Some(value) = std::env::var_os(name) {
            demo.env(name, value);
        }
    }
    let output = demo.output().expect("scripts/demo.sh runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "demo failed\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );

    // Every example object, as `kubectl get` shows it to the user.
    for object in [
        "awsaccount.awsaccess.dev/alfie-dev",
        "crossaccountrole.awsaccess.dev/alfie-full-access",
        "developergroup.awsaccess.dev/alfie-developers",
        "partneraccess.awsaccess.dev/sembit",
        "organizationalunit.awsaccess.dev/workloads-development",
        "servicecontrolpolicy.awsaccess.dev/workloads-baseline",
    ] {
        assert!(stdout.contains(object), "{object} missing from\n{stdout}");
    }
    // The AWS side, as the demo read it back from moto: each role trusted by
    // the right principal, the partner's role behind an external ID, the group
    // and its members, and the profiles developers copy.
    let line_with = |needles: &[&str]| stdout.lines().any(|line| needles.iter().all(|n| line.contains(n)));
    for role in ["AlfieFullAccess", "AlfieDeployment", "AlfieReadOnly"] {
        assert!(
            line_with(&[role, "trusts arn:aws:iam::", ":root"]),
            "{role} not trusted\n{stdout}"
        );
    }
    assert!(
        line_with(&[
            "SembitAccess",
            "trusts arn:aws:iam::444455556666:root",
            "sts:ExternalId"
        ]),
        "the partner's role lacks its external ID\n{stdout}"
    );
    assert!(
        line_with(&["policy read-write-prod-app-from-dev owned by CrossAccountRole/alfie/update-prod-app"]),
        "seed 004's policy was not made by the operator\n{stdout}"
    );
    assert!(
        line_with(&["group alfie-developers members alice, bob, dana"]),
        "{stdout}"
    );
    // A joiner with her sign-in URL and console, and a leaver with neither
    // console nor group, kept in IAM.
    assert!(
        line_with(&["joiner dana signs in at https://", ".signin.aws.amazon.com/console"]),
        "{stdout}"
    );
    assert!(
        line_with(&[
            "IAM user dana: console password, keys none, groups alfie-developers, inline policies awsaccess-require-mfa"
        ]),
        "{stdout}"
    );
    assert!(
        line_with(&["IAM user erin: no console password, keys none, groups none"]),
        "{stdout}"
    );
    assert!(
        line_with(&[
            "leaver erin: state Disabled, console access false, user kept as arn:aws:iam::",
            ":user/people/erin"
        ]),
        "{stdout}"
    );
    // The organization's tree: the accounts in their OUs, the policies attached.
    assert!(line_with(&["OU Workloads (ou-", "SCP WorkloadsBaseline"]), "{stdout}");
    assert!(
        line_with(&["OU Development (ou-", "SCP DevelopmentNoHugeInstances"]),
        "{stdout}"
    );
    assert!(line_with(&["account alfie-production ("]), "{stdout}");
    assert!(
        line_with(&[
            "SCP WorkloadsBaseline (p-",
            "Deny DenyLeavingOrganization, DenyOutsideAllowedRegions"
        ]),
        "{stdout}"
    );
    assert!(stdout.contains("[profile alfie-development]"), "{stdout}");
    assert!(
        line_with(&[
            "alfie-production  https://signin.aws.amazon.com/switchrole?roleName=AlfieReadOnly&account=",
            "&displayName=alfie-production"
        ]),
        "no console link for the production profile\n{stdout}"
    );
    // kubectl apply of what alfie-prod's guardrails forbid is refused by the webhook, as on a cluster.
    assert!(
        stdout.contains("admission webhook \"tenancy.awsaccess.dev\" denied the request: spec.permissions.managedPolicyArns[0]: arn:aws:iam::aws:policy/AdministratorAccess is not in AwsAccount alfie-prod's guardrails.allowedManagedPolicyArns"),
        "{stdout}"
    );
    // plan finds nothing left to do, and report names each role's owner and who may assume it.
    assert!(
        stdout.contains("0 change(s) to AWS in 0 of 21 object(s); 0 refused."),
        "{stdout}"
    );
    assert!(
        line_with(&[
            "| AlfieFullAccess | alfie/alfie-full-access |",
            "alice (group alfie-developers), bob (group alfie-developers)"
        ]),
        "{stdout}"
    );
}

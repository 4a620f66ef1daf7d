//! Pure: which actions a set of policy documents leaves allowed that a list
//! of denied action patterns forbids (API.md, "Guardrails": `deniedActions`,
//! and the identity account's default against IAM escalation). Wildcards
//! count on both sides, case does not, a `NotAction` allows what it does
//! not name, and an unconditional `Deny` of everything a denied pattern
//! covers makes any `Allow` of it harmless.

use serde_json::Value;

use super::glob;

/// What the identity account refuses to let a group give people when its
/// AwsAccount says nothing (seed 002: "make sure not to give IAM access to
/// IAM users, or they can escalate privileges"): the IAM-only ways to
/// become administrator, and every change to the organization. Reading the
/// organization (`Describe*`, `List*`) is no escalation, so `ReadOnlyAccess`
/// passes while `AdministratorAccess` and `AWSOrganizationsFullAccess` do not.
pub const IAM_ESCALATION_ACTIONS: [&str; 35] = [
    "iam:CreateUser",
    "iam:CreateAccessKey",
    "iam:CreateLoginProfile",
    "iam:UpdateLoginProfile",
    "iam:AttachUserPolicy",
    "iam:AttachGroupPolicy",
    "iam:AttachRolePolicy",
    "iam:PutUserPolicy",
    "iam:PutGroupPolicy",
    "iam:PutRolePolicy",
    "iam:AddUserToGroup",
    "iam:CreatePolicyVersion",
    "iam:SetDefaultPolicyVersion",
    "iam:UpdateAssumeRolePolicy",
    "iam:PassRole",
    "organizations:Accept*",
    "organizations:Attach*",
    "organizations:Cancel*",
    "organizations:Close*",
    "organizations:Create*",
    "organizations:Decline*",
    "organizations:Delete*",
    "organizations:Deregister*",
    "organizations:Detach*",
    "organizations:Disable*",
    "organizations:Enable*",
    "organizations:Invite*",
    "organizations:Leave*",
    "organizations:Move*",
    "organizations:Put*",
    "organizations:Register*",
    "organizations:Remove*",
    "organizations:Tag*",
    "organizations:Untag*",
    "organizations:Update*",
];

/// One statement, as far as actions go.
struct Statement {
    /// Its field within the document (`Statement[1]`, or `Statement` when there is one).
    field: String,
    allow: bool,
    /// `Action` (true) or `NotAction` (false), and its patterns.
    listed: bool,
    patterns: Vec<String>,
    /// A `Condition`, a `NotResource`, or a `Resource` narrower than `*`:
    /// a `Deny` like that does not deny everywhere.
    narrowed: bool,
}

fn strings(value: Option<&Value>) -> Vec<String> {
    match value {
        Some(Value::String(one)) => vec![one.clone()],
        Some(Value::Array(many)) => many.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect(),
        _ => vec![],
    }
}

fn statements(document: &Value) -> Vec<Statement> {
    let listed: Vec<(String, &Value)> = match document.get("Statement") {
        Some(Value::Array(many)) => many
            .iter()
            .enumerate()
            .map(|(i, s)| (format!("Statement[{i}]"), s))
            .collect(),
        Some(one) => vec![("Statement".to_string(), one)],
        None => vec![],
    };
    listed
        .into_iter()
        .map(|(field, statement)| {
            let every_resource = strings(statement.get("Resource")).iter().any(|r| r == "*");
            let (listed, patterns) = match statement.get("Action") {
                Some(actions) => (true, strings(Some(actions))),
                None => (false, strings(statement.get("NotAction"))),
            };
            Statement {
                field,
                allow: statement.get("Effect").and_then(Value::as_str) == Some("Allow"),
                listed,
                patterns,
                narrowed: statement.get("Condition").is_some()
                    || statement.get("NotResource").is_some()
                    || !every_resource,
            }
        })
        .collect()
}

/// A denied action a statement leaves allowed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Breach {
    /// Which document, as the caller listed them.
    pub document: usize,
    /// The statement's field within it (`Statement[0]`).
    pub statement: String,
    /// The denied pattern it allows.
    pub denied: String,
    /// What allows it: `Action "iam:Put*"`, or `NotAction` naming none of it.
    pub by: String,
}

impl Breach {
    /// `<field>.Statement[0]: Action "iam:Put*" allows what <whose> denies ("iam:*")`.
    pub fn message(&self, field: &str, whose: &str) -> String {
        format!(
            "{field}.{}: {} allows what {whose} denies ({:?})",
            self.statement, self.by, self.denied
        )
    }
}

/// What the documents allow of `denied`, statement by statement. An
/// unconditional `Deny` on every resource in any of them takes out the
/// denied patterns its `Action` covers, since IAM's explicit deny wins.
pub fn breaches(documents: &[&Value], denied: &[impl AsRef<str>]) -> Vec<Breach> {
    let parsed: Vec<Vec<Statement>> = documents.iter().map(|d| statements(d)).collect();
    let denied_everywhere: Vec<&String> = parsed
        .iter()
        .flatten()
        .filter(|s| !s.allow && s.listed && !s.narrowed)
        .flat_map(|s| &s.patterns)
        .collect();
    let mut found = vec![];
    for (document, statements) in parsed.iter().enumerate() {
        for statement in statements.iter().filter(|s| s.allow) {
            for denied in denied.iter().map(AsRef::as_ref) {
                if denied_everywhere.iter().any(|deny| glob::covers(deny, denied)) {
                    continue;
                }
                let by = if statement.listed {
                    statement
                        .patterns
                        .iter()
                        .find(|action| glob::overlap(action, denied))
                        .map(|action| format!("Action {action:?}"))
                } else {
                    // A NotAction allows every action it does not name.
                    let excluded = statement.patterns.iter().any(|action| glob::covers(action, denied));
                    (!excluded).then(|| format!("NotAction {:?}", statement.patterns))
                };
                if let Some(by) = by {
                    found.push(Breach {
                        document,
                        statement: statement.field.clone(),
                        denied: denied.to_owned(),
                        by,
                    });
                }
            }
        }
    }
    found
}

/// AWS-managed policies the operator knows, with the statements that
/// matter for escalation (the rest, reads, omitted). A group may attach an
/// AWS-managed policy in the identity account only when it is known here
/// or the platform team names it in `allowedManagedPolicyArns`.
pub fn aws_managed_policy(arn: &str) -> Option<Value> {
    let name = arn.strip_prefix("arn:")?.split_once(":iam::aws:policy/")?.1;
    let allow = |actions: &[&str]| serde_json::json!({"Effect": "Allow", "Action": actions, "Resource": "*"});
    let statements = match name {
        "AdministratorAccess" => vec![allow(&["*"])],
        "IAMFullAccess" => vec![allow(&[
            "iam:*",
            "organizations:DescribeAccount",
            "organizations:DescribeOrganization",
        ])],
        "AWSOrganizationsFullAccess" => vec![allow(&["organizations:*", "iam:CreateServiceLinkedRole"])],
        "PowerUserAccess" => vec![
            serde_json::json!({"Effect": "Allow", "NotAction": ["iam:*", "organizations:*", "account:*"], "Resource": "*"}),
            allow(&[
                "iam:CreateServiceLinkedRole",
                "iam:DeleteServiceLinkedRole",
                "iam:ListRoles",
                "organizations:DescribeOrganization",
                "account:ListRegions",
                "account:GetAccountInformation",
            ]),
        ],
        "ReadOnlyAccess" | "ViewOnlyAccess" | "SecurityAudit" => vec![allow(&[
            "*:Get*",
            "*:List*",
            "*:Describe*",
            "*:BatchGet*",
            "*:View*",
            "*:Search*",
        ])],
        "IAMReadOnlyAccess" => vec![allow(&[
            "iam:Get*",
            "iam:List*",
            "iam:GenerateCredentialReport",
            "iam:GenerateServiceLastAccessedDetails",
            "iam:SimulateCustomPolicy",
            "iam:SimulatePrincipalPolicy",
        ])],
        // Act on the caller's own user only (`${aws:username}`): not escalation.
        "IAMUserChangePassword" => vec![allow(&["iam:ChangePassword", "iam:GetAccountPasswordPolicy"])],
        "IAMSelfManageServiceSpecificCredentials" => vec![allow(&[
            "iam:CreateServiceSpecificCredential",
            "iam:ListServiceSpecificCredentials",
            "iam:UpdateServiceSpecificCredential",
            "iam:DeleteServiceSpecificCredential",
            "iam:ResetServiceSpecificCredential",
        ])],
        "IAMUserSSHKeys" => vec![allow(&[
            "iam:DeleteSSHPublicKey",
            "iam:GetSSHPublicKey",
            "iam:ListSSHPublicKeys",
            "iam:UpdateSSHPublicKey",
            "iam:UploadSSHPublicKey",
        ])],
        _ => return None,
    };
    Some(serde_json::json!({"Version": "2012-10-17", "Statement": statements}))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn document(statements: Value) -> Value {
        json!({"Version": "2012-10-17", "Statement": statements})
    }

    fn allow(actions: Value) -> Value {
        json!({"Effect": "Allow", "Action": actions, "Resource": "*"})
    }

    /// The denied patterns each case's documents leave allowed.
    fn allowed(documents: &[Value], denied: &[&str]) -> Vec<String> {
        let documents: Vec<&Value> = documents.iter().collect();
        breaches(&documents, denied).into_iter().map(|b| b.denied).collect()
    }

    #[test]
    fn wildcards_count_on_both_sides_and_case_does_not() {
        let cases: Vec<(Value, &[&str], &[&str])> = vec![
            (allow(json!("iam:Put*")), &["iam:PutUserPolicy"], &["iam:PutUserPolicy"]),
            (allow(json!("iam:PutUserPolicy")), &["iam:Put*"], &["iam:Put*"]),
            (
                allow(json!("*")),
                &["iam:*", "organizations:*"],
                &["iam:*", "organizations:*"],
            ),
            (
                allow(json!(["s3:*", "iam:*"])),
                &["iam:CreateUser"],
                &["iam:CreateUser"],
            ),
            (allow(json!("IAM:createuser")), &["iam:CreateUser"], &["iam:CreateUser"]),
            (
                allow(json!(["s3:GetObject", "iam:Get*"])),
                &["iam:*User*", "iam:Put*"],
                &["iam:*User*"],
            ),
            (allow(json!("iam:List*")), &["iam:CreateUser", "iam:Put*"], &[]),
        ];
        for (statement, denied, expected) in cases {
            assert_eq!(
                allowed(&[document(json!([statement.clone()]))], denied),
                expected,
                "{statement}"
            );
        }
    }

    #[test]
    fn a_not_action_allows_what_it_does_not_name() {
        let power_user = json!({"Effect": "Allow", "NotAction": ["iam:*", "organizations:*"], "Resource": "*"});
        assert_eq!(
            allowed(
                &[document(power_user.clone())],
                &["iam:PutUserPolicy", "organizations:*"]
            ),
            Vec::<String>::new()
        );
        assert_eq!(
            allowed(&[document(power_user)], &["ec2:RunInstances"]),
            ["ec2:RunInstances"]
        );
        let narrow = json!({"Effect": "Allow", "NotAction": "iam:PutUserPolicy", "Resource": "*"});
        assert_eq!(
            allowed(&[document(narrow)], &["iam:Put*"]),
            ["iam:Put*"],
            "iam:PutRolePolicy is left allowed"
        );
    }

    #[test]
    fn an_unconditional_deny_makes_an_allow_harmless_and_a_conditional_one_does_not() {
        let denied = ["iam:CreateUser", "iam:PutUserPolicy"];
        let fenced = document(json!([
            allow(json!("iam:*")),
            {"Effect": "Deny", "Action": ["iam:CreateUser", "iam:Put*"], "Resource": "*"},
        ]));
        assert_eq!(allowed(&[fenced], &denied), Vec::<String>::new());
        // The deny may sit in another of the object's documents.
        let elsewhere = document(json!({"Effect": "Deny", "Action": "iam:*", "Resource": "*"}));
        assert_eq!(
            allowed(&[document(allow(json!("iam:*"))), elsewhere], &denied),
            Vec::<String>::new()
        );
        for weak in [
            json!({"Effect": "Deny", "Action": "iam:*", "Resource": "*", "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "false"}}}),
            json!({"Effect": "Deny", "Action": "iam:*", "Resource": "arn:aws:iam::*:user/admin"}),
            json!({"Effect": "Deny", "NotAction": "s3:*", "Resource": "*"}),
            json!({"Effect": "Deny", "Action": "iam:Create*", "Resource": "*"}),
        ] {
            let documents = [document(json!([allow(json!("iam:*")), weak.clone()]))];
            assert!(
                allowed(&documents, &denied).contains(&"iam:PutUserPolicy".to_string()),
                "{weak}"
            );
        }
    }

    #[test]
    fn each_breach_names_its_statement() {
        let documents = [document(json!([allow(json!("s3:*")), allow(json!("iam:Put*"))]))];
        let found = breaches(&documents.iter().collect::<Vec<_>>(), &["iam:*"]);
        assert_eq!(found.len(), 1);
        assert_eq!(
            found[0].message(
                "spec.permissions.inlinePolicies[0].document",
                "AwsAccount prod's guardrails.deniedActions"
            ),
            "spec.permissions.inlinePolicies[0].document.Statement[1]: Action \"iam:Put*\" allows what AwsAccount prod's guardrails.deniedActions denies (\"iam:*\")"
        );
        let single = document(allow(json!("iam:PassRole")));
        let found = breaches(&[&single], &IAM_ESCALATION_ACTIONS);
        assert_eq!(found[0].statement, "Statement");
    }

    #[test]
    fn aws_managed_policies_are_known_by_name() {
        let escalating = ["AdministratorAccess", "IAMFullAccess", "AWSOrganizationsFullAccess"];
        for name in escalating {
            let policy = aws_managed_policy(&format!("arn:aws:iam::aws:policy/{name}")).unwrap();
            assert!(!breaches(&[&policy], &IAM_ESCALATION_ACTIONS).is_empty(), "{name}");
        }
        for name in [
            "PowerUserAccess",
            "ReadOnlyAccess",
            "IAMUserChangePassword",
            "IAMReadOnlyAccess",
        ] {
            let policy = aws_managed_policy(&format!("arn:aws:iam::aws:policy/{name}")).unwrap();
            assert_eq!(breaches(&[&policy], &IAM_ESCALATION_ACTIONS), vec![], "{name}");
        }
        assert_eq!(aws_managed_policy("arn:aws:iam::aws:policy/job-function/Billing"), None);
        assert_eq!(
            aws_managed_policy("arn:aws:iam::123456789012:policy/AdministratorAccess"),
            None
        );
    }
}

//! Pure: a service control policy compiled from guardrails (intent) and raw
//! statements, and the size AWS checks it against.

use serde_json::{Map, Value, json};

use super::document::{POLICY_VERSION, canonical_json};
use crate::api::Guardrails;

/// The most characters AWS takes in a service control policy.
pub const SCP_MAX_CHARS: usize = 5_120;

/// Actions of the global services, which AWS serves from us-east-1 whatever
/// region the caller works in: a region guardrail that denied them would
/// break IAM, Organizations, STS and billing in every account it reaches.
/// The list follows AWS's own example SCP "Deny access to AWS based on the
/// requested AWS Region".
pub const GLOBAL_ACTIONS: &[&str] = &[
    "a4b:*",
    "acm:*",
    "aws-marketplace-management:*",
    "aws-marketplace:*",
    "aws-portal:*",
    "budgets:*",
    "ce:*",
    "cloudfront:*",
    "cur:*",
    "directconnect:*",
    "ec2:DescribeRegions",
    "fms:*",
    "globalaccelerator:*",
    "health:*",
    "iam:*",
    "kms:*",
    "networkmanager:*",
    "organizations:*",
    "pricing:*",
    "route53:*",
    "route53domains:*",
    "s3:GetAccountPublic*",
    "s3:ListAllMyBuckets",
    "s3:PutAccountPublic*",
    "shield:*",
    "sso:*",
    "sts:*",
    "support:*",
    "trustedadvisor:*",
    "waf-regional:*",
    "waf:*",
    "wafv2:*",
];

/// The IAM writes that change or remove a role.
const ROLE_WRITES: &[&str] = &[
    "iam:AttachRolePolicy",
    "iam:DeleteRole",
    "iam:DeleteRolePermissionsBoundary",
    "iam:DeleteRolePolicy",
    "iam:DetachRolePolicy",
    "iam:PutRolePermissionsBoundary",
    "iam:PutRolePolicy",
    "iam:TagRole",
    "iam:UntagRole",
    "iam:UpdateAssumeRolePolicy",
    "iam:UpdateRole",
    "iam:UpdateRoleDescription",
];

/// What `denyIamUsers` denies: the ways to make a long-lived identity.
const IAM_USER_WRITES: &[&str] = &[
    "iam:CreateUser",
    "iam:CreateAccessKey",
    "iam:CreateLoginProfile",
    "iam:UpdateLoginProfile",
];

/// What `protectSecurityServices` denies: stopping, deleting or disabling
/// the services that watch the account.
const SECURITY_SERVICE_WRITES: &[&str] = &[
    "access-analyzer:DeleteAnalyzer",
    "cloudtrail:DeleteTrail",
    "cloudtrail:PutEventSelectors",
    "cloudtrail:StopLogging",
    "cloudtrail:UpdateTrail",
    "config:DeleteConfigRule",
    "config:DeleteConfigurationRecorder",
    "config:DeleteDeliveryChannel",
    "config:StopConfigurationRecorder",
    "guardduty:DeleteDetector",
    "guardduty:DeleteMembers",
    "guardduty:DisassociateFromAdministratorAccount",
    "guardduty:DisassociateFromMasterAccount",
    "guardduty:DisassociateMembers",
    "guardduty:StopMonitoringMembers",
    "guardduty:UpdateDetector",
    "securityhub:DeleteInvitations",
    "securityhub:DisableSecurityHub",
    "securityhub:DisassociateFromAdministratorAccount",
    "securityhub:DisassociateFromMasterAccount",
    "securityhub:DisassociateMembers",
];

/// The instances `ec2:RunInstances` creates: the resource its instance
/// conditions (type, metadata options) are evaluated on.
const INSTANCES: &str = "arn:aws:ec2:*:*:instance/*";

/// The policy document: the guardrails' Deny statements first, in a fixed
/// order, then the raw document's statements as written. `access_role` is
/// the role the organization's management (and the operator) works
/// through in member accounts: the one principal `protectRoles` lets
/// change the protected roles, or nobody could repair them.
pub fn compile(guardrails: &Guardrails, document: Option<&Map<String, Value>>, access_role: &str) -> Value {
    let mut statements = boundary_statements(guardrails, access_role);
    statements.extend(workload_statements(guardrails, access_role));
    match document.and_then(|document| document.get("Statement")) {
        Some(Value::Array(raw)) => statements.extend(raw.iter().cloned()),
        Some(single) => statements.push(single.clone()),
        None => {}
    }
    json!({"Version": POLICY_VERSION, "Statement": statements})
}

/// The guardrails on the account as a whole: staying in the organization,
/// its regions, its root user and the roles it is run through.
fn boundary_statements(guardrails: &Guardrails, access_role: &str) -> Vec<Value> {
    let mut statements = Vec::new();
    if guardrails.deny_leaving_organization {
        statements.push(json!({
            "Sid": "DenyLeavingOrganization",
            "Effect": "Deny",
            "Action": "organizations:LeaveOrganization",
            "Resource": "*",
        }));
    }
    if !guardrails.allowed_regions.is_empty() {
        statements.push(json!({
            "Sid": "DenyOutsideAllowedRegions",
            "Effect": "Deny",
            "NotAction": GLOBAL_ACTIONS,
            "Resource": "*",
            "Condition": {"StringNotEquals": {"aws:RequestedRegion": guardrails.allowed_regions}},
        }));
    }
    if guardrails.deny_root_user {
        statements.push(json!({
            "Sid": "DenyRootUser",
            "Effect": "Deny",
            "Action": "*",
            "Resource": "*",
            "Condition": {"StringLike": {"aws:PrincipalArn": "arn:aws:iam::*:root"}},
        }));
    }
    if !guardrails.protect_roles.is_empty() {
        let roles: Vec<String> = guardrails
            .protect_roles
            .iter()
            .map(|role| format!("arn:aws:iam::*:role/{role}"))
            .collect();
        statements.push(json!({
            "Sid": "ProtectRoles",
            "Effect": "Deny",
            "Action": ROLE_WRITES,
            "Resource": roles,
            "Condition": {"ArnNotLike": {"aws:PrincipalArn": format!("arn:aws:iam::*:role/{access_role}")}},
        }));
    }
    statements
}

/// The guardrails on what is made and run inside the account.
fn workload_statements(guardrails: &Guardrails, access_role: &str) -> Vec<Value> {
    let mut statements = Vec::new();
    // The organization's access role is exempt from what follows as from
    // protectRoles: the management account must be able to repair an account.
    let exempt = json!({"aws:PrincipalArn": format!("arn:aws:iam::*:role/{access_role}")});
    if !guardrails.allowed_instance_types.is_empty() {
        statements.push(json!({
            "Sid": "DenyOtherInstanceTypes",
            "Effect": "Deny",
            "Action": "ec2:RunInstances",
            "Resource": INSTANCES,
            "Condition": {"StringNotLike": {"ec2:InstanceType": guardrails.allowed_instance_types}},
        }));
    }
    if guardrails.deny_iam_users {
        statements.push(json!({
            "Sid": "DenyIamUsers",
            "Effect": "Deny",
            "Action": IAM_USER_WRITES,
            "Resource": "*",
            "Condition": {"ArnNotLike": exempt},
        }));
    }
    if guardrails.protect_security_services {
        statements.push(json!({
            "Sid": "ProtectSecurityServices",
            "Effect": "Deny",
            "Action": SECURITY_SERVICE_WRITES,
            "Resource": "*",
            "Condition": {"ArnNotLike": exempt},
        }));
    }
    if guardrails.require_imds_v2 {
        statements.push(json!({
            "Sid": "RequireImdsV2",
            "Effect": "Deny",
            "Action": "ec2:RunInstances",
            "Resource": INSTANCES,
            "Condition": {"StringNotEquals": {"ec2:MetadataHttpTokens": "required"}, "ArnNotLike": exempt},
        }));
    }
    if guardrails.deny_disabling_ebs_encryption {
        statements.push(json!({
            "Sid": "DenyDisablingEbsEncryption",
            "Effect": "Deny",
            "Action": "ec2:DisableEbsEncryptionByDefault",
            "Resource": "*",
            "Condition": {"ArnNotLike": exempt},
        }));
    }
    statements
}

/// The characters AWS counts: the document is sent as `canonical_json`,
/// and AWS counts every character of what it is sent.
pub fn size(document: &Value) -> usize {
    canonical_json(document).chars().count()
}

/// Why the compiled document cannot be sent, naming the field to fix.
pub fn check(document: &Value) -> Result<(), String> {
    if document["Statement"].as_array().is_none_or(Vec::is_empty) {
        return Err(
            "spec: no guardrail is on and spec.document has no statement; a service control policy needs at least one"
                .into(),
        );
    }
    let size = size(document);
    if size > SCP_MAX_CHARS {
        return Err(format!(
            "spec: the compiled policy document is {size} characters; AWS takes at most {SCP_MAX_CHARS} in a service control policy (shorten spec.document or spec.guardrails.allowedRegions)"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guardrails() -> Guardrails {
        Guardrails {
            deny_leaving_organization: true,
            allowed_regions: vec!["eu-west-1".into(), "eu-central-1".into()],
            deny_root_user: true,
            protect_roles: vec!["OrganizationAccountAccessRole".into()],
            ..Guardrails::default()
        }
    }

    #[test]
    fn the_workload_guardrails_follow_in_order_with_their_condition_keys() {
        let all = Guardrails {
            allowed_instance_types: vec!["t3.*".into(), "m6i.large".into()],
            deny_iam_users: true,
            protect_security_services: true,
            require_imds_v2: true,
            deny_disabling_ebs_encryption: true,
            ..guardrails()
        };
        let document = compile(&all, None, "OrganizationAccountAccessRole");
        let statements = document["Statement"].as_array().unwrap();
        let sids: Vec<&str> = statements.iter().map(sid).collect();
        assert_eq!(
            sids[4..],
            [
                "DenyOtherInstanceTypes",
                "DenyIamUsers",
                "ProtectSecurityServices",
                "RequireImdsV2",
                "DenyDisablingEbsEncryption"
            ]
        );
        let exempt = json!("arn:aws:iam::*:role/OrganizationAccountAccessRole");
        let types = &statements[4];
        assert_eq!(types["Action"], "ec2:RunInstances");
        assert_eq!(
            types["Condition"],
            json!({"StringNotLike": {"ec2:InstanceType": ["t3.*", "m6i.large"]}})
        );
        for statement in &statements[5..] {
            assert_eq!(
                statement["Condition"]["ArnNotLike"]["aws:PrincipalArn"], exempt,
                "{statement}"
            );
            assert_eq!(statement["Effect"], "Deny");
        }
        assert!(
            statements[5]["Action"]
                .as_array()
                .unwrap()
                .contains(&json!("iam:CreateAccessKey"))
        );
        assert!(
            statements[6]["Action"]
                .as_array()
                .unwrap()
                .contains(&json!("cloudtrail:StopLogging"))
        );
        assert_eq!(
            statements[7]["Condition"]["StringNotEquals"]["ec2:MetadataHttpTokens"],
            "required"
        );
        assert_eq!(statements[8]["Action"], "ec2:DisableEbsEncryptionByDefault");
        assert_eq!(
            check(&document),
            Ok(()),
            "every guardrail together fits {SCP_MAX_CHARS} characters"
        );
    }

    fn sid(statement: &Value) -> &str {
        statement["Sid"].as_str().unwrap_or_default()
    }

    #[test]
    fn each_guardrail_becomes_one_deny_statement_in_a_fixed_order() {
        let document = compile(&guardrails(), None, "OrganizationAccountAccessRole");
        let statements = document["Statement"].as_array().unwrap();
        let sids: Vec<&str> = statements.iter().map(sid).collect();
        assert_eq!(
            sids,
            [
                "DenyLeavingOrganization",
                "DenyOutsideAllowedRegions",
                "DenyRootUser",
                "ProtectRoles"
            ]
        );
        assert!(statements.iter().all(|s| s["Effect"] == "Deny"));
        assert_eq!(statements[0]["Action"], "organizations:LeaveOrganization");
        let regions = &statements[1];
        assert_eq!(
            regions["Condition"]["StringNotEquals"]["aws:RequestedRegion"],
            json!(["eu-west-1", "eu-central-1"])
        );
        let excepted = regions["NotAction"].as_array().unwrap();
        for global in [
            "iam:*",
            "organizations:*",
            "sts:*",
            "cloudfront:*",
            "route53:*",
            "support:*",
            "budgets:*",
        ] {
            assert!(excepted.contains(&json!(global)), "{global} is not excepted");
        }
        assert_eq!(
            statements[2]["Condition"]["StringLike"]["aws:PrincipalArn"],
            "arn:aws:iam::*:root"
        );
        let protect = &statements[3];
        assert_eq!(
            protect["Resource"],
            json!(["arn:aws:iam::*:role/OrganizationAccountAccessRole"])
        );
        assert_eq!(
            protect["Condition"]["ArnNotLike"]["aws:PrincipalArn"],
            "arn:aws:iam::*:role/OrganizationAccountAccessRole"
        );
        assert!(protect["Action"].as_array().unwrap().contains(&json!("iam:DeleteRole")));
    }

    #[test]
    fn raw_statements_come_after_the_guardrails() {
        let raw = json!({"Version": "2012-10-17", "Statement": [{"Sid": "NoBigInstances", "Effect": "Deny", "Action": "ec2:RunInstances", "Resource": "*"}]});
        let only_leaving = Guardrails {
            deny_leaving_organization: true,
            ..Guardrails::default()
        };
        let document = compile(&only_leaving, raw.as_object(), "Access");
        let sids: Vec<&str> = document["Statement"].as_array().unwrap().iter().map(sid).collect();
        assert_eq!(sids, ["DenyLeavingOrganization", "NoBigInstances"]);

        let single = json!({"Statement": {"Sid": "One", "Effect": "Deny", "Action": "s3:*", "Resource": "*"}});
        let document = compile(&Guardrails::default(), single.as_object(), "Access");
        assert_eq!(document["Statement"].as_array().unwrap().len(), 1);
        assert_eq!(document["Version"], POLICY_VERSION);
    }

    #[test]
    fn nothing_to_deny_and_too_large_are_refused_naming_the_size() {
        let empty = compile(&Guardrails::default(), None, "Access");
        assert!(check(&empty).unwrap_err().contains("at least one"));
        assert_eq!(check(&compile(&guardrails(), None, "Access")), Ok(()));

        let huge: Vec<Value> = (0..200)
            .map(|i| json!({"Sid": format!("S{i}"), "Effect": "Deny", "Action": "ec2:RunInstances", "Resource": "*"}))
            .collect();
        let raw = json!({"Statement": huge});
        let document = compile(&guardrails(), raw.as_object(), "Access");
        let message = check(&document).unwrap_err();
        assert!(
            message.contains(&format!("is {} characters", size(&document))),
            "{message}"
        );
        assert!(message.contains("5120"), "{message}");
    }
}

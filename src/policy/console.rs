//! Links that open the AWS console as a role (the console's "Switch role"),
//! for people: what `aws sts assume-role` and a profile are for programs.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// A query value: everything encoded but RFC 3986's unreserved characters.
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// What the console shows for the role it switched to, at most.
const DISPLAY_NAME_LIMIT: usize = 64;

/// The switch-role link for `role_arn`, with `display_name` as the console
/// shows it once switched; None for what is not an IAM role ARN. The sign-in
/// host is the partition's, so links for AWS China and GovCloud open there.
pub fn switch_role_url(role_arn: &str, display_name: &str) -> Option<String> {
    let mut parts = role_arn.splitn(6, ':');
    let (Some("arn"), Some(partition), Some("iam"), Some(""), Some(account), Some(resource)) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return None;
    };
    // A role's path is part of the name the console asks for.
    let role = resource.strip_prefix("role/").filter(|role| !role.is_empty())?;
    let host = match partition {
        "aws-cn" => "signin.amazonaws.cn",
        "aws-us-gov" => "signin.amazonaws-us-gov.com",
        _ => "signin.aws.amazon.com",
    };
    let display: String = display_name.chars().take(DISPLAY_NAME_LIMIT).collect();
    let encode = |text: &str| utf8_percent_encode(text, QUERY_VALUE).to_string();
    Some(format!(
        "https://{host}/switchrole?roleName={}&account={account}&displayName={}",
        encode(role),
        encode(&display)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_switch_role_link_names_the_role_account_and_display_name() {
        assert_eq!(
            switch_role_url(
                "arn:aws:iam::123456789012:role/UpdateProdApp",
                "UpdateProdApp @ 123456789012"
            )
            .as_deref(),
            Some(
                "https://signin.aws.amazon.com/switchrole?roleName=UpdateProdApp&account=123456789012&displayName=UpdateProdApp%20%40%20123456789012"
            )
        );
    }

    #[test]
    fn paths_partitions_and_long_names_are_carried_over() {
        let url = switch_role_url("arn:aws-cn:iam::123456789012:role/teams/Ops", &"x".repeat(80)).expect("a role");
        assert!(url.starts_with("https://signin.amazonaws.cn/switchrole?roleName=teams%2FOps&account=123456789012&"));
        assert!(url.ends_with(&format!("displayName={}", "x".repeat(64))), "{url}");
    }

    #[test]
    fn what_is_not_a_role_has_no_link() {
        for arn in [
            "arn:aws:iam::123456789012:user/alice",
            "arn:aws:iam::123456789012:role/",
            "arn:aws:s3:::bucket",
            "UpdateProdApp",
        ] {
            assert_eq!(switch_role_url(arn, "x"), None, "{arn}");
        }
    }
}

//! `report -o html`: one self-contained page to send to an auditor or put
//! on a wall. Inline CSS and the graph as inline SVG; no script, font or
//! image is fetched. Every name comes from AWS (account names, tags) and is
//! escaped: whoever administers an account writes them, not the reader.

use std::fmt::Write;

use super::{Report, Severity, svg};

const STYLE: &str = "
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:2rem;color:#1b1b1f;background:#fff}
h1{font-size:1.6rem}h2{margin-top:2rem;border-bottom:1px solid #ccc}h3{margin-bottom:.3rem}
table{border-collapse:collapse;width:100%;font-size:.9rem;margin:.5rem 0 1rem}
th,td{border:1px solid #ddd;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f3f3f6}code{font-size:.85em;word-break:break-all}
.high h3,.high .badge{color:#a4161a}.medium h3,.medium .badge{color:#b35c00}.low h3,.low .badge{color:#35618f}
.summary span{display:inline-block;margin-right:1.5rem;font-weight:600}
.graph{overflow-x:auto;border:1px solid #ddd;padding:.5rem}
";

/// `<`, `>`, `&` and both quotes as entities: safe in text and in attributes.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn title(severity: Severity) -> &'static str {
    match severity {
        Severity::High => "High",
        Severity::Medium => "Medium",
        Severity::Low => "Low",
    }
}

/// Findings by severity, worst first; then the elevations; then each
/// account's roles and who may assume them; then the graph.
pub fn html(report: &Report) -> String {
    let mut page = String::new();
    let _ = write!(
        page,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>AWS access review</title><style>{STYLE}</style></head><body>\n<h1>AWS access review</h1>\n"
    );
    findings(&mut page, report);
    elevations(&mut page, report);
    accounts(&mut page, report);
    let graph = svg(report);
    // The SVG alone, without an XML declaration before it.
    let graph = graph.find("<svg").map_or("", |at| &graph[at..]);
    let _ = write!(
        page,
        "<h2>Who can reach which role</h2>\n<div class=\"graph\">{graph}</div>\n</body></html>\n"
    );
    page
}

fn findings(page: &mut String, report: &Report) {
    page.push_str("<h2>Findings</h2>\n<p class=\"summary\">");
    for severity in Severity::ALL {
        let count = report.findings.iter().filter(|f| f.severity == severity).count();
        let _ = write!(
            page,
            "<span class=\"{}\">{}: {count}</span>",
            severity.as_str(),
            title(severity)
        );
    }
    page.push_str("</p>\n");
    for severity in Severity::ALL {
        let found: Vec<_> = report.findings.iter().filter(|f| f.severity == severity).collect();
        if found.is_empty() {
            continue;
        }
        let _ = write!(
            page,
            "<section class=\"{}\"><h3>{} ({})</h3>\n<table><tr><th>Finding</th><th>Resource</th><th>What to change</th></tr>\n",
            severity.as_str(),
            title(severity),
            found.len()
        );
        for finding in found {
            let _ = writeln!(
                page,
                "<tr><td>{}</td><td><code>{}</code></td><td>{}</td></tr>",
                escape(&finding.message),
                escape(&finding.arn),
                escape(&finding.what_to_change())
            );
        }
        page.push_str("</table></section>\n");
    }
    if report.findings.is_empty() {
        page.push_str("<p>None.</p>\n");
    }
}

/// The grants in force, those past their end, and the roles denying
/// sessions issued before an end.
fn elevations(page: &mut String, report: &Report) {
    page.push_str("<h2>Elevations</h2>\n");
    let tables = report.elevations.tables();
    if tables.is_empty() {
        page.push_str("<p>None.</p>\n");
    }
    for table in tables {
        let _ = write!(page, "<h3>{}</h3>\n<table><tr>", escape(table.title));
        for name in table.header {
            let _ = write!(page, "<th>{}</th>", escape(name));
        }
        page.push_str("</tr>\n");
        for row in &table.rows {
            page.push_str("<tr>");
            for text in row {
                let _ = write!(page, "<td>{}</td>", escape(text));
            }
            page.push_str("</tr>\n");
        }
        page.push_str("</table>\n");
    }
}

fn accounts(page: &mut String, report: &Report) {
    page.push_str("<h2>Accounts and their roles</h2>\n");
    for ((id, name), roles) in report.roles_by_account() {
        let _ = write!(
            page,
            "<h3>Account {} {}</h3>\n<table><tr><th>Role</th><th>Managed by</th><th>Trusts</th><th>MFA</th><th>External ID</th><th>Assumable by</th></tr>\n",
            escape(id),
            escape(name)
        );
        for role in roles {
            let managed_by = role
                .managed_by_kind
                .as_ref()
                .zip(role.managed_by.as_ref())
                .map_or("not managed by the operator".to_string(), |(kind, name)| {
                    format!("{kind} {name}")
                });
            let assumers: Vec<String> = role
                .assumable_by
                .iter()
                .map(|a| format!("{} (group {})", a.user, a.group))
                .collect();
            let _ = writeln!(
                page,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(&role.role_name),
                escape(&managed_by),
                escape(&role.trusted_principals.join(", ")),
                if role.requires_mfa { "yes" } else { "no" },
                if role.requires_external_id { "yes" } else { "no" },
                escape(&assumers.join(", "))
            );
        }
        page.push_str("</table>\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{Elevation, Elevations, Finding, RoleReport};

    #[test]
    fn names_from_aws_cannot_inject_markup() {
        let hostile = "<script>alert('x')</script>";
        let report = Report {
            roles: vec![RoleReport {
                account_id: "111111111111".into(),
                account_name: hostile.into(),
                role_name: "r".into(),
                arn: "arn:aws:iam::111111111111:role/r".into(),
                ..RoleReport::default()
            }],
            findings: vec![Finding::new(
                Severity::High,
                "arn:x",
                format!("user \"{hostile}\" & co"),
            )],
            elevations: Elevations {
                grants: vec![Elevation {
                    account_id: "111111111111".into(),
                    user: hostile.into(),
                    user_arn: "arn:aws:iam::111111111111:user/x".into(),
                    request: format!("{hostile}-rds"),
                    policy: "awsaccess-elevation-x".into(),
                    role_arns: vec!["arn:aws:iam::111111111111:role/r".into()],
                    until: None,
                    in_force: true,
                    beyond_the_grant: vec![],
                }],
                sessions_denied: vec![],
            },
        };
        let page = html(&report);
        assert!(!page.contains("<script"), "{page}");
        assert!(page.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"));
        assert!(page.contains("user &quot;&lt;script&gt;"));
        assert!(page.contains("<h3>High (1)</h3>"));
        assert!(page.contains(concat!(
            "<h2>Elevations</h2>\n<h3>In force</h3>\n",
            "<table><tr><th>User</th><th>Role</th><th>Until</th><th>AccessRequest</th></tr>\n",
            "<tr><td>&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;</td><td>arn:aws:iam::111111111111:role/r</td>",
            "<td>no end</td><td>&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;-rds</td></tr>\n</table>\n",
            "<h2>Accounts and their roles</h2>"
        )));
        for external in ["src=", "href=", "@import", "url("] {
            assert!(!page.contains(external), "nothing fetched: {external}");
        }
    }
}

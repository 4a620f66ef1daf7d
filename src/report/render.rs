//! The report as people read it: Markdown, CSV, and a graph of users →
//! groups → roles → accounts laid out by layout-rs.

use std::collections::{BTreeMap, BTreeSet};

use layout::adt::dag::NodeHandle;
use layout::backends::svg::SVGWriter;
use layout::core::base::Orientation;
use layout::core::color::Color;
use layout::core::geometry::Point;
use layout::core::style::StyleAttr;
use layout::std_shapes::shapes::{Arrow, Element, ShapeKind};
use layout::topo::layout::VisualGraph;

use super::{Report, RoleReport};

fn yes(flag: bool) -> &'static str {
    if flag { "yes" } else { "no" }
}

fn assumers(role: &RoleReport) -> Vec<String> {
    role.assumable_by
        .iter()
        .map(|a| format!("{} (group {})", a.user, a.group))
        .collect()
}

/// Markdown table cells: a `|` would end the cell.
fn cell(text: &str) -> String {
    text.replace('|', "\\|")
}

/// Findings first, worst first; then the elevations; then a table of roles per account.
pub fn markdown(report: &Report) -> String {
    let mut out = String::from("# Who can assume what\n\n## Findings\n\n");
    if report.findings.is_empty() {
        out.push_str("None.\n");
    } else {
        out.push_str("| Severity | Resource | Finding | What to change |\n| --- | --- | --- | --- |\n");
        for finding in &report.findings {
            out.push_str(&format!(
                "| {:?} | `{}` | {} | {} |\n",
                finding.severity,
                finding.arn,
                cell(&finding.message),
                cell(&finding.what_to_change())
            ));
        }
    }
    elevations(&mut out, report);
    for ((id, name), roles) in report.roles_by_account() {
        out.push_str(&format!("\n## Account {id} {name}\n\n"));
        out.push_str("| Role | Managed by | Trusts | MFA | External ID | Until | Assumable by |\n");
        out.push_str("| --- | --- | --- | --- | --- | --- | --- |\n");
        for role in roles {
            out.push_str(&format!(
                "| {} | {} | {} | {} | {} | {} | {} |\n",
                cell(&role.role_name),
                role.managed_by.as_deref().map_or("-".into(), cell),
                cell(&role.trusted_principals.join(", ")),
                yes(role.requires_mfa),
                yes(role.requires_external_id),
                role.valid_until.as_deref().unwrap_or("-"),
                cell(&assumers(role).join(", ")),
            ));
        }
    }
    out
}

/// What access on request holds in AWS: the grants in force, those past
/// their end, and the roles denying sessions issued before an end.
fn elevations(out: &mut String, report: &Report) {
    out.push_str("\n## Elevations\n");
    let tables = report.elevations.tables();
    if tables.is_empty() {
        out.push_str("\nNone.\n");
    }
    for table in tables {
        out.push_str(&format!(
            "\n### {}\n\n| {} |\n|{}\n",
            table.title,
            table.header.join(" | "),
            " --- |".repeat(table.header.len())
        ));
        for row in &table.rows {
            let cells: Vec<String> = row.iter().map(|text| cell(text)).collect();
            out.push_str(&format!("| {} |\n", cells.join(" | ")));
        }
    }
}

/// Spreadsheets run a cell that starts with one of these as a formula; a
/// leading `'` keeps it text (OWASP, CSV injection). Names, tags and
/// principals are written by whoever administers each account, not by the
/// report's reader.
fn inert(text: String) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text
    }
}

/// One row per role; lists inside a field separated by spaces.
pub fn csv(report: &Report) -> anyhow::Result<String> {
    let mut out = ::csv::Writer::from_writer(vec![]);
    let header = [
        "accountId",
        "accountName",
        "roleName",
        "arn",
        "managedBy",
        "trustedPrincipals",
        "requiresMfa",
        "requiresExternalId",
        "validUntil",
        "assumableBy",
    ];
    out.write_record(header)?;
    for role in &report.roles {
        let users: Vec<&str> = role.assumable_by.iter().map(|a| a.user_arn.as_str()).collect();
        let row = [
            role.account_id.clone(),
            role.account_name.clone(),
            role.role_name.clone(),
            role.arn.clone(),
            role.managed_by.clone().unwrap_or_default(),
            role.trusted_principals.join(" "),
            role.requires_mfa.to_string(),
            role.requires_external_id.to_string(),
            role.valid_until.clone().unwrap_or_default(),
            users.join(" "),
        ];
        out.write_record(row.map(inert))?;
    }
    let bytes = out.into_inner().map_err(|err| err.into_error())?;
    Ok(String::from_utf8(bytes)?)
}

/// Users → groups → roles → accounts: the roles someone may assume, that
/// the operator manages, or that a finding is about. A role trusted from
/// outside the organization shows that account too.
pub fn svg(report: &Report) -> String {
    let mut graph = Graph::new();
    let flagged = |role: &RoleReport| report.findings.iter().any(|f| f.arn == role.arn);
    for role in &report.roles {
        if role.assumable_by.is_empty() && role.managed_by.is_none() && !flagged(role) {
            continue;
        }
        graph.role(role, flagged(role));
    }
    graph.render()
}

/// The graph being drawn: each node once by its key, each edge once.
struct Graph {
    visual: VisualGraph,
    nodes: BTreeMap<String, NodeHandle>,
    edges: BTreeSet<(NodeHandle, NodeHandle)>,
}

impl Graph {
    fn new() -> Self {
        Graph {
            visual: VisualGraph::new(Orientation::LeftToRight),
            nodes: BTreeMap::new(),
            edges: BTreeSet::new(),
        }
    }

    fn node(&mut self, key: String, label: &str, fill: &str) -> NodeHandle {
        *self.nodes.entry(key).or_insert_with(|| {
            let look = StyleAttr::new(Color::fast("black"), 1, Some(Color::fast(fill)), 4, 13);
            // Wide enough for the label at this font size; layout-rs does not measure text.
            let size = Point::new(label.len() as f64 * 7.0 + 24.0, 36.0);
            self.visual.add_node(Element::create(
                ShapeKind::new_box(label),
                look,
                Orientation::LeftToRight,
                size,
            ))
        })
    }

    /// The role, its account, the users and groups that may assume it, and
    /// the accounts outside the organization it trusts.
    fn role(&mut self, role: &RoleReport, flagged: bool) {
        let label = match &role.managed_by {
            Some(owner) => format!("role {} ({owner})", role.role_name),
            None => format!("role {} (unmanaged)", role.role_name),
        };
        let fill = if flagged { "mistyrose" } else { "lightyellow" };
        let role_node = self.node(role.arn.clone(), &label, fill);
        let account_label = format!("account {} {}", role.account_id, role.account_name);
        let account = self.node(
            format!("account {}", role.account_id),
            account_label.trim(),
            "lightgrey",
        );
        self.edges.insert((role_node, account));
        for assumer in &role.assumable_by {
            let user = self.node(assumer.user_arn.clone(), &format!("user {}", assumer.user), "lightblue");
            let group_key = format!(
                "{}:{}",
                assumer.user_arn.split(":user/").next().unwrap_or_default(),
                assumer.group
            );
            let group = self.node(group_key, &format!("group {}", assumer.group), "palegreen");
            self.edges.insert((user, group));
            self.edges.insert((group, role_node));
        }
        for account in &role.outside_accounts {
            let label = format!("account {account} (outside)");
            // Red only when a finding is about the trust: a partner's account behind an external ID is expected.
            let fill = if flagged { "salmon" } else { "wheat" };
            let trusted = self.node(format!("account {account}"), &label, fill);
            self.edges.insert((trusted, role_node));
        }
    }

    fn render(mut self) -> String {
        for (from, to) in self.edges {
            self.visual.add_edge(Arrow::simple(""), from, to);
        }
        if self.visual.num_nodes() == 0 {
            return "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"0\" height=\"0\"></svg>\n".into();
        }
        let mut svg = SVGWriter::new();
        self.visual.do_it(false, false, false, &mut svg);
        svg.finalize()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{Assumer, Elevation, Elevations, SessionsDenied};

    fn elevation(user: &str, until: &str, in_force: bool) -> Elevation {
        Elevation {
            account_id: "111111111111".into(),
            user: user.into(),
            user_arn: format!("arn:aws:iam::111111111111:user/{user}"),
            request: format!("{user}-rds"),
            policy: format!("awsaccess-elevation-{user}-rds"),
            role_arns: vec!["arn:aws:iam::222222222222:role/Ops".into()],
            until: Some(until.parse().unwrap()),
            in_force,
            beyond_the_grant: vec![],
        }
    }

    #[test]
    fn markdown_lists_elevations_in_force_ended_and_the_roles_denying_older_sessions() {
        let role = RoleReport {
            account_id: "222222222222".into(),
            account_name: "prod".into(),
            role_name: "Ops".into(),
            arn: "arn:aws:iam::222222222222:role/Ops".into(),
            ..RoleReport::default()
        };
        let report = Report {
            roles: vec![role],
            elevations: Elevations {
                grants: vec![
                    elevation("alice", "2026-12-06T10:00:00Z", true),
                    elevation("bob|x", "2026-12-06T09:00:00Z", false),
                ],
                sessions_denied: vec![SessionsDenied {
                    account_id: "222222222222".into(),
                    role: "Ops".into(),
                    role_arn: "arn:aws:iam::222222222222:role/Ops".into(),
                    issued_before: Some("2026-12-06T09:00:01Z".parse().unwrap()),
                }],
            },
            ..Report::default()
        };
        let text = markdown(&report);
        let section = concat!(
            "\n## Elevations\n",
            "\n### In force\n\n| User | Role | Until | AccessRequest |\n| --- | --- | --- | --- |\n",
            "| alice | arn:aws:iam::222222222222:role/Ops | 2026-12-06T10:00:00Z | alice-rds |\n",
            "\n### Ended, still attached\n\n| User | Role | Ended at | AccessRequest |\n| --- | --- | --- | --- |\n",
            "| bob\\|x | arn:aws:iam::222222222222:role/Ops | 2026-12-06T09:00:00Z | bob\\|x-rds |\n",
            "\n### Roles denying sessions issued before an end\n\n| Role | Sessions issued before |\n| --- | --- |\n",
            "| arn:aws:iam::222222222222:role/Ops | 2026-12-06T09:00:01Z |\n",
        );
        assert!(text.contains(section), "{text}");
        let (findings, elevations, accounts) = (
            text.find("## Findings"),
            text.find("## Elevations"),
            text.find("## Account 222222222222"),
        );
        assert!(findings < elevations && elevations < accounts, "{text}");
        assert!(markdown(&Report::default()).contains("\n## Elevations\n\nNone.\n"));
    }

    #[test]
    fn csv_cells_a_spreadsheet_would_run_are_text_and_quoted_as_rfc_4180() {
        let report = Report {
            roles: vec![RoleReport {
                account_id: "111111111111".into(),
                account_name: "Acme, \"Prod\"".into(),
                role_name: "=HYPERLINK(\"http://evil\",\"x\")".into(),
                arn: "arn:aws:iam::111111111111:role/x".into(),
                managed_by: Some("@SUM(1)".into()),
                managed_by_kind: None,
                trusted_principals: vec!["+1".into(), "arn:aws:iam::222222222222:root".into()],
                requires_mfa: true,
                requires_external_id: false,
                valid_until: Some("-2".into()),
                outside_accounts: vec![],
                assumable_by: vec![Assumer {
                    user_arn: "\tcmd|' /C calc'!A0".into(),
                    user: "mallory".into(),
                    group: "g".into(),
                    policy: "p".into(),
                }],
            }],
            ..Report::default()
        };
        assert_eq!(
            csv(&report).unwrap(),
            concat!(
                "accountId,accountName,roleName,arn,managedBy,trustedPrincipals,",
                "requiresMfa,requiresExternalId,validUntil,assumableBy\n",
                r#"111111111111,"Acme, ""Prod""","'=HYPERLINK(""http://evil"",""x"")","#,
                r#"arn:aws:iam::111111111111:role/x,'@SUM(1),'+1 arn:aws:iam::222222222222:root,"#,
                "true,false,'-2,'\tcmd|' /C calc'!A0\n",
            )
        );
    }
}

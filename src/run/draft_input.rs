//! The draft's input for an open finding: timeline from the policy, references, the
//! project's own advisory data.

use crate::config::Project;
use crate::monitor::{self, TrackedFinding};
use crate::policy::Policy;
use crate::publish::affected::{self, Basis};
use crate::publish::draft::{DraftInput, TimelineEntry};
use jiff::Timestamp;

/// The draft's input for an open finding.
pub fn draft_input(p: &Project, policy: &Policy, f: &TrackedFinding, now: Timestamp) -> DraftInput {
    let rules = policy.deadline_rules(f.finding.severity);
    let rule = |k: monitor::DeadlineKind| {
        rules
            .iter()
            .find(|(kind, _)| *kind == k)
            .map(|(_, r)| r.clone())
            .unwrap_or_else(|| "no deadline".into())
    };
    let d = &f.deadlines;
    let mut timeline = vec![
        TimelineEntry {
            label: "Initial response".into(),
            due: d.respond_by,
            rule: rule(monitor::DeadlineKind::Respond),
        },
        TimelineEntry {
            label: "Status update".into(),
            due: d.update_by,
            rule: rule(monitor::DeadlineKind::Update),
        },
    ];
    // Only a policy that promises an assessment has this deadline.
    if policy.assessment.is_some() {
        timeline.push(TimelineEntry {
            label: "Assessment complete".into(),
            due: d.assess_by,
            rule: rule(monitor::DeadlineKind::Assess),
        });
    }
    timeline.extend([
        TimelineEntry {
            label: "Fix released".into(),
            due: d.fix_by,
            rule: rule(monitor::DeadlineKind::Fix),
        },
        TimelineEntry {
            label: "Public disclosure".into(),
            due: d.disclose_by,
            rule: rule(monitor::DeadlineKind::Disclose),
        },
    ]);
    let mut references: Vec<String> = f.finding.url.iter().cloned().collect();
    for id in &f.finding.ids {
        // Ids of a kind depwatch does not know get no guessed link.
        let Some(link) = crate::advisory::AdvisoryId::new(id).url() else {
            continue;
        };
        if !references.contains(&link) {
            references.push(link);
        }
    }
    // The project's own advisory: its versions (config, else the supported rows of its
    // SECURITY.md table), the release that fixes it and its CVE come from the project only.
    let own = p.advisory_for(&f.finding.ids);
    let basis = if !p.versions.is_empty() {
        Basis::Config(p.versions.clone())
    } else {
        let rows: Vec<(String, String)> = policy
            .supported
            .iter()
            .filter(|r| r.supported)
            .map(|r| (r.version.clone(), r.origin.to_string()))
            .collect();
        if rows.is_empty() {
            Basis::None
        } else {
            Basis::Supported(rows)
        }
    };
    let fixed_in = match own {
        Some(a) if !a.fixed_in.is_empty() => &a.fixed_in,
        _ => &p.fixed_in,
    };
    DraftInput {
        project: p.name.clone(),
        project_versions: affected::project_versions(&basis, fixed_in),
        cve_id: own.and_then(|a| a.cve_id.clone()),
        finding: f.clone(),
        timeline,
        references,
        credits: Vec::new(),
        // The feeds carry no workaround field (the upgrade is under "Patches"); the project's
        // own VEX `affected` statements say what to do, each naming its document.
        workarounds: vex_actions(&f.finding),
        generated_at: now,
        zone: crate::policy::Zone::default(),
        policy_source: p
            .security_policy
            .as_ref()
            .and_then(|s| s.file_name())
            .map(|s| s.to_string_lossy().into_owned()),
    }
}

/// The action statements of the project's VEX `affected` statements about the finding.
fn vex_actions(f: &crate::report::Finding) -> Option<String> {
    let lines: Vec<String> = f
        .vex
        .iter()
        .filter(|c| c.status == crate::vex::Status::Affected)
        .filter_map(|c| {
            // Checkout text: one cleaned line, so it cannot end the draft with a line of its own.
            let a = c.action_statement.as_deref()?.trim();
            (!a.is_empty())
                .then(|| crate::publish::draft::one_line(&format!("{a} (VEX: {})", c.origin)))
        })
        .collect();
    (!lines.is_empty()).then(|| lines.join("\n\n"))
}

//! Server-rendered pages: plain HTML and CSS (no scripts), readable on a phone. Every value
//! that comes from a user (team names, notes, problems) goes through [`esc`].

mod format;

pub(crate) use format::format_page;

/// `s` with `& < > " '` escaped for HTML text and attribute values (the report's escaping).
pub(crate) use chexlocalize_report::escape_html as esc;

const CSS: &str = "\
:root{--ink:#1d2330;--muted:#5b6472;--line:#e2e5ea;--head:#f1f3f6;--accent:#4c72b0}\
body{margin:0;background:#eef0f3;color:var(--ink);font:15px/1.5 system-ui,-apple-system,'Segoe UI',Roboto,Arial,sans-serif}\
header{background:#1d2330;color:#fff;padding:10px 16px}header a{color:#fff;margin-right:14px;text-decoration:none}\
main{max-width:1800px;margin:0 auto;padding:12px 16px;background:#fff}td{white-space:nowrap}\
table{border-collapse:collapse;width:100%;font-size:13px}th,td{padding:5px 8px;border-bottom:1px solid var(--line);text-align:right}\
th{background:var(--head)}td.l,th.l{text-align:left}.ci{display:block;color:var(--muted);font-size:12px}\
.wrap{overflow-x:auto}tr.baseline td{color:var(--muted);font-style:italic}pre{background:var(--head);padding:8px;overflow-x:auto}\
.note{color:var(--muted)}.bad{color:#a4262c}.ok{color:#2e7d32}\
@media (max-width:700px){th.task,td.task{display:none}}";

/// A whole page around `body`.
pub(crate) fn layout(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <title>{} · CheXplanation</title><style>{CSS}</style></head><body>\
         <header><a href=\"/\">Leaderboard</a><a href=\"/team\">My team</a>\
         <a href=\"/format\">How to submit</a></header><main>{body}</main></body></html>",
        esc(title)
    )
}

/// A score with its interval: `0.412` and a small `[0.380, 0.441]` under it.
fn score(mean: Option<f64>, lower: Option<f64>, upper: Option<f64>) -> String {
    match mean {
        Some(m) if m.is_finite() => {
            let ci = match (lower, upper) {
                (Some(l), Some(u)) if l.is_finite() && u.is_finite() => {
                    format!("<span class=\"ci\">[{l:.3}, {u:.3}]</span>")
                }
                _ => String::new(),
            };
            format!("{m:.3}{ci}")
        }
        _ => "–".to_owned(),
    }
}

/// The leaderboard: one row per team (and the baselines), overall mIoU with its CI, hit rate,
/// and one column per task.
pub(crate) fn leaderboard_page(competition: &str, board: &crate::Leaderboard) -> String {
    let phase = if board.phase == crate::Phase::Final {
        "Final ranking on the private split."
    } else {
        "Public split: the final ranking uses the private split after the phase ends."
    };
    let mut h = format!(
        "<h1>{}</h1><p class=\"note\">{phase}</p><div class=\"wrap\"><table id=\"leaderboard\">\
         <thead><tr><th>#</th><th class=\"l\">Team</th><th>mIoU</th><th>vs next</th><th>Hit rate</th>",
        esc(competition)
    );
    for t in chexlocalize_io::Task::SORTED {
        h.push_str(&format!("<th class=\"task\">{}</th>", esc(t.name())));
    }
    h.push_str("<th class=\"l\">Submitted</th></tr></thead><tbody>");
    // Baselines sit among the teams where their mIoU puts them, unranked.
    let mut baselines = board.baselines.iter().peekable();
    for row in &board.rows {
        let key = |m: Option<f64>| m.unwrap_or(f64::NEG_INFINITY);
        while let Some(b) = baselines.next_if(|b| key(b.scores.miou) > key(row.scores.miou)) {
            h.push_str(&baseline_row(b));
        }
        h.push_str(&format!("<tr><td>{}</td>", row.rank));
        h.push_str(&cells(&row.team, &row.scores, &gap(row), row.submitted_at));
    }
    for b in baselines {
        h.push_str(&baseline_row(b));
    }
    if board.rows.is_empty() {
        h.push_str("<tr><td colspan=\"15\" class=\"l note\">No scored submission yet.</td></tr>");
    }
    h.push_str(
        "</tbody></table></div><p class=\"note\">mIoU: mean IoU over the CXRs where the \
                finding is present (95% bootstrap interval below). vs next: whether a team's \
                mIoU differs from the next team's, by a paired bootstrap over the same CXRs \
                (difference and Holm-adjusted p below).</p>",
    );
    layout("Leaderboard", &h)
}

/// A baseline's row: "baseline" where the rank would be.
fn baseline_row(b: &crate::BaselineRow) -> String {
    format!(
        "<tr class=\"baseline\"><td>baseline</td>{}",
        cells(&b.name, &b.scores, "", b.submitted_at)
    )
}

/// Whether a team's mIoU differs from the next team's: "differs" (the paired interval of the
/// difference excludes 0, Holm p < 0.05) or "tied", with the difference and p under it.
fn gap(row: &crate::LeaderboardRow) -> String {
    match &row.vs_next {
        None => String::new(),
        Some(g) => format!(
            "<span class=\"{}\">{}</span><span class=\"ci\">{:+.3}, p {:.3}</span>",
            if g.differs { "ok" } else { "note" },
            if g.differs { "differs" } else { "tied" },
            g.difference,
            g.p_holm
        ),
    }
}

/// A row's cells after the rank: name, overall mIoU, the comparison with the next row, hit
/// rate, the tasks, the time; closes the row.
fn cells(name: &str, s: &crate::SplitScores, vs_next: &str, at: crate::DateTime) -> String {
    let mut h = format!(
        "<td class=\"l\">{}</td><td>{}</td><td>{vs_next}</td><td>{}</td>",
        esc(name),
        score(s.miou, s.miou_lower, s.miou_upper),
        score(s.hit_rate, None, None),
    );
    for t in chexlocalize_io::Task::SORTED {
        let cell = s.tasks.get(t.name());
        h.push_str(&format!(
            "<td class=\"task\">{}</td>",
            cell.map_or_else(|| "–".to_owned(), |c| score(c.miou, c.lower, c.upper))
        ));
    }
    h.push_str(&format!(
        "<td class=\"l\">{}</td></tr>",
        at.format("%Y-%m-%d %H:%M UTC")
    ));
    h
}

/// The token form of the team page.
pub(crate) fn login_page() -> String {
    layout(
        "My team",
        "<h1>My team</h1><form method=\"post\" action=\"/team\"><label>Team token \
         <input name=\"token\" type=\"password\" autocomplete=\"off\" required></label> \
         <button>Open</button></form><p class=\"note\">The token is kept in a cookie that \
         scripts cannot read and other sites cannot send.</p>",
    )
}

/// The token form after a wrong token.
pub(crate) fn login_page_failed() -> String {
    layout(
        "My team",
        "<h1>My team</h1><p class=\"bad\">That token is not valid.</p><form method=\"post\" \
         action=\"/team\"><label>Team token <input name=\"token\" type=\"password\" \
         autocomplete=\"off\" required></label> <button>Open</button></form>",
    )
}

/// A team's submissions with their statuses, problems and public scores.
pub(crate) fn team_page(team: &crate::Team, subs: &[crate::SubmissionView]) -> String {
    let mut h = format!(
        "<h1>{}</h1><form method=\"post\" action=\"/team/logout\"><button>Log out</button></form>\
         <div class=\"wrap\"><table id=\"submissions\"><thead><tr><th>Id</th><th class=\"l\">Status</th>\
         <th>mIoU (public)</th><th class=\"l\">Note</th><th class=\"l\">Submitted</th></tr></thead><tbody>",
        esc(&team.name)
    );
    for s in subs {
        let problems: String = s
            .problems
            .iter()
            .take(20)
            .map(|p| format!("<br><span class=\"bad\">{}</span>", esc(p)))
            .collect();
        let more = if s.problems.len() > 20 {
            format!("<br>… and {} more", s.problems.len() - 20)
        } else {
            String::new()
        };
        let miou = s.public.as_ref().and_then(|sc| sc.miou);
        h.push_str(&format!(
            "<tr><td>{}</td><td class=\"l\">{}{problems}{more}</td><td>{}</td><td class=\"l\">{}</td><td class=\"l\">{}</td></tr>",
            s.id,
            esc(s.status.as_str()),
            score(miou, None, None),
            esc(s.note.as_deref().unwrap_or("")),
            s.submitted_at.format("%Y-%m-%d %H:%M UTC"),
        ));
    }
    if subs.is_empty() {
        h.push_str("<tr><td colspan=\"5\" class=\"l note\">No submission yet: see <a href=\"/format\">How to submit</a>.</td></tr>");
    }
    h.push_str("</tbody></table></div>");
    layout(&team.name, &h)
}

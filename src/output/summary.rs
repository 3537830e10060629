//! The summary printed after a run: pure `RunReport` → text, in sections, one fact a line.
//! The same text serves terminals (with colour) and cron logs (without: no escape codes, no
//! symbols, greppable `label  value` lines).

use chrono::{DateTime, Utc};
use console::Style;

use super::format::{ago, compact, count, duration, minutes, nano_usd, percent, thousands, usd};
use crate::run::PreviousImport;
use crate::run::RunReport;
use crate::run::{ReportKind, BREAKDOWNS_TABLE, MODELS_USED_TABLE};

/// Usage older than this many days gets a warning.
/// How many models and projects the summary lists.
const TOP_MODELS: usize = 5;
const TOP_PROJECTS: usize = 3;

/// How the summary should look.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Look {
    /// Colours and bold section titles (a terminal on stdout, or `--color always`).
    pub color: bool,
    /// The live view already showed each report's outcome, so only failures are repeated.
    pub live: bool,
}

#[cfg(test)]
impl Look {
    /// Cron logs, pipes, `NO_COLOR`.
    pub const PLAIN: Look = Look {
        color: false,
        live: false,
    };
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tone {
    Normal,
    Good,
    Warn,
    Bad,
}

/// One titled block of `label  value` lines.
struct Section {
    title: &'static str,
    lines: Vec<(String, String, Tone)>,
}

impl Section {
    fn new(title: &'static str) -> Self {
        Section {
            title,
            lines: Vec::new(),
        }
    }

    fn line(&mut self, label: impl Into<String>, value: impl Into<String>) {
        self.toned(label, value, Tone::Normal);
    }

    /// Labels and values hold ccusage's text (model names, session ids, project paths), so
    /// their control characters are escaped: a crafted path cannot forge a line or drive the
    /// terminal. Colour is added after, in `render`.
    fn toned(&mut self, label: impl Into<String>, value: impl Into<String>, tone: Tone) {
        let (label, value) = (label.into(), value.into());
        let label = crate::log::printable(&label).into_owned();
        let value = crate::log::printable(&value).into_owned();
        self.lines.push((label, value, tone));
    }

    fn render(&self, look: Look, out: &mut String) {
        if self.lines.is_empty() {
            return;
        }
        out.push('\n');
        out.push_str(&paint(look, Style::new().bold(), self.title));
        out.push('\n');
        let width = self
            .lines
            .iter()
            .map(|(label, _, _)| label.chars().count())
            .max()
            .unwrap_or(0)
            .max(14)
            + 2;
        for (label, value, tone) in &self.lines {
            let padded = format!("{label:<width$}");
            let value_style = match tone {
                Tone::Normal => Style::new(),
                Tone::Good => Style::new().green(),
                Tone::Warn => Style::new().yellow(),
                Tone::Bad => Style::new().red(),
            };
            out.push_str("  ");
            out.push_str(&paint(look, Style::new().dim(), &padded));
            out.push_str(&paint(look, value_style, value));
            out.push('\n');
        }
    }
}

/// Styles text only when the look has colour, so plain output never holds an escape code.
fn paint(look: Look, style: Style, text: &str) -> String {
    if look.color {
        style.force_styling(true).apply_to(text).to_string()
    } else {
        text.to_owned()
    }
}

/// The full summary.
pub fn render(run: &RunReport, look: Look) -> String {
    let mut out = String::new();
    let mode = if run.dry_run {
        " (dry run: nothing written)"
    } else {
        ""
    };
    out.push_str(&paint(
        look,
        Style::new().bold(),
        &format!(
            "ccusage-import: machine {}, run at {}{mode}",
            run.machine_name,
            run.started_at.format("%Y-%m-%d %H:%M:%S UTC")
        ),
    ));
    out.push('\n');
    let ran = !run.reports.is_empty();
    let mut sections = vec![reports(run, look)];
    if ran {
        sections.push(records(run));
        sections.push(cost_and_tokens(run));
        sections.push(date_range(run));
        sections.push(models(run));
        sections.push(sessions(run));
        sections.push(active_block(run));
    }
    sections.push(machine(run));
    for section in &sections {
        section.render(look, &mut out);
    }
    if let Some(line) = fleet_line(run) {
        out.push('\n');
        out.push_str(&paint(look, Style::new().bold(), &line));
        out.push('\n');
    }
    out
}

fn reports(run: &RunReport, look: Look) -> Section {
    let mut s = Section::new("Reports");
    if run.clickhouse_error.is_some() {
        let what = if run.reports.is_empty() {
            "failed before ccusage ran"
        } else {
            "failed"
        };
        s.toned(
            "ClickHouse",
            format!("{what} (see the error below)"),
            Tone::Bad,
        );
    }
    for (kind, outcome) in &run.reports {
        match &outcome.error {
            None if look.live => {}
            None => s.toned(
                kind.name(),
                format!(
                    "ok, {}, {}",
                    count(outcome.rows as u64, "row", "rows"),
                    duration(outcome.elapsed)
                ),
                Tone::Good,
            ),
            Some(_) => s.toned(
                kind.name(),
                format!(
                    "failed after {} (see the error below)",
                    duration(outcome.elapsed)
                ),
                Tone::Bad,
            ),
        }
    }
    s
}

/// Tables in the order of the reports they come from (the registry's), then the child tables.
fn table_rank(table: &str) -> usize {
    let order: Vec<&str> = crate::reports::summary_tables()
        .chain([BREAKDOWNS_TABLE, MODELS_USED_TABLE])
        .collect();
    order
        .iter()
        .position(|t| *t == table)
        .unwrap_or(order.len())
}

fn records(run: &RunReport) -> Section {
    let mut s = Section::new("Records");
    let verb = match (run.dry_run, &run.dry_run_uncompared) {
        (false, _) => "written",
        (true, None) => "to write",
        (true, Some(_)) => "mapped",
    };
    let mut tables: Vec<(&str, String)> = run
        .tables
        .iter()
        .map(|(table, rows)| (*table, thousands(*rows as u64)))
        .collect();
    tables.sort_by_key(|(table, _)| (table_rank(table), *table));
    let width = tables.iter().map(|(_, n)| n.len()).max().unwrap_or(0);
    for (table, rows) in tables {
        s.line(table, format!("{rows:>width$} {verb}"));
    }
    if let Some(why) = run.dry_run_uncompared.as_ref().filter(|_| run.dry_run) {
        s.line("not compared", format!("with what is stored: {why}"));
    }
    if run.dry_run {
        return s;
    }
    s.line(
        "unchanged",
        count(run.rows_unchanged as u64, "row", "rows") + " already stored",
    );
    match run.previous_import {
        PreviousImport::Unknown => {}
        PreviousImport::Never => {
            s.line("previous import", "none: the first import of this machine")
        }
        PreviousImport::At(at) => s.line(
            "previous import",
            format!("{} ({})", minute(at), ago(run.started_at - at)),
        ),
    }
    if run.clickhouse_error.is_none() {
        let new = |table: &str| run.new_rows.get(table).copied().unwrap_or(0) as u64;
        s.line("new days", thousands(new("ccusage_usage_daily")));
        s.line("new sessions", thousands(new("ccusage_usage_sessions")));
        s.line("new blocks", thousands(new("ccusage_usage_blocks")));
        let written: usize = run
            .new_rows
            .keys()
            .map(|table| run.tables.get(table).copied().unwrap_or(0))
            .sum();
        let new_total: usize = run.new_rows.values().sum();
        s.line(
            "updated rows",
            thousands(written.saturating_sub(new_total) as u64),
        );
    }
    s
}

fn cost_and_tokens(run: &RunReport) -> Section {
    let mut s = Section::new("Cost and tokens");
    if !report_ok(run, ReportKind::Daily) {
        s.toned("daily report", "failed: no totals", Tone::Bad);
        return s;
    }
    s.line("total cost", nano_usd(run.total_cost));
    let days = run.digest.active_days;
    if days > 0 {
        s.line(
            "per active day",
            format!(
                "{} (over {})",
                nano_usd(run.total_cost / days as i64),
                count(days as u64, "day", "days")
            ),
        );
    }
    let t = &run.totals;
    s.line("input", compact(t.input));
    s.line("output", compact(t.output));
    s.line("cache creation", compact(t.cache_creation));
    s.line("cache read", compact(t.cache_read));
    s.line("total tokens", compact(t.total().unwrap_or(u64::MAX)));
    // The database keeps each day's largest figure, so after a cleanup or a downgrade it can
    // hold more than this run's ccusage printed: say so, and why, where the two differ.
    if let Some(stored) = run.stored_days.filter(|stored| stored.differ(run)) {
        s.line(
            "stored",
            format!(
                "{}, {} tokens for these days: each day keeps its largest figure \
                 (logs deleted since, or a ccusage that counted more)",
                usd(stored.cost_usd),
                compact(stored.total_tokens)
            ),
        );
    }
    s
}

fn date_range(run: &RunReport) -> Section {
    let mut s = Section::new("Date range");
    if !report_ok(run, ReportKind::Daily) {
        return s;
    }
    if let (Some(first), Some(last)) = (run.first_date, run.last_date) {
        let span = (last - first).num_days() + 1;
        s.line("first day", first.to_string());
        s.line("last day", last.to_string());
        s.line(
            "active days",
            format!(
                "{} of {}",
                thousands(run.digest.active_days as u64),
                thousands(span.max(0) as u64)
            ),
        );
    }
    if let Some(warning) = crate::run::usage_warning(run) {
        s.toned("warning", warning, Tone::Warn);
    }
    s
}

fn models(run: &RunReport) -> Section {
    let mut s = Section::new("Top models by cost");
    let digest = &run.digest;
    let costs: Vec<String> = digest
        .models
        .iter()
        .take(TOP_MODELS)
        .map(|m| nano_usd(m.cost))
        .collect();
    let width = costs.iter().map(String::len).max().unwrap_or(0);
    for (model, cost) in digest.models.iter().zip(&costs) {
        s.line(
            &model.model,
            format!("{cost:>width$}  {:>6}", percent(digest.model_share(model))),
        );
    }
    let more = digest.models.len().saturating_sub(TOP_MODELS);
    if more > 0 {
        s.line("others", count(more as u64, "more model", "more models"));
    }
    s
}

fn sessions(run: &RunReport) -> Section {
    let mut s = Section::new("Sessions");
    let sessions = &run.digest.sessions;
    if report_ok(run, ReportKind::Session) {
        s.line("sessions", thousands(sessions.count as u64));
        if let Some(average) = sessions.average_cost() {
            s.line("average cost", nano_usd(average));
        }
        if let Some(top) = &sessions.most_expensive {
            let project = if top.project_name.is_empty() {
                String::new()
            } else {
                format!(" in {}", top.project_name)
            };
            s.line(
                "most expensive",
                format!("{} {}{project}", nano_usd(top.cost), top.session_id),
            );
        }
    }
    let projects: Vec<(String, &str)> = run
        .digest
        .projects
        .iter()
        .take(TOP_PROJECTS)
        .map(|p| (nano_usd(p.cost), p.name.as_str()))
        .collect();
    let width = projects
        .iter()
        .map(|(cost, _)| cost.len())
        .max()
        .unwrap_or(0);
    for (cost, project) in projects {
        s.line("project", format!("{cost:>width$} {project}"));
    }
    s
}

fn active_block(run: &RunReport) -> Section {
    let mut s = Section::new("Active block");
    let Some(block) = &run.digest.active_block else {
        return s;
    };
    let now = run.started_at;
    s.line(
        "started",
        format!("{} ({})", minute(block.start), ago(now - block.start)),
    );
    // ccusage prints no burn rate, projection or time left for a block with one entry: a
    // dash, not a zero (ASCII, as all plain output).
    let none = || "-".to_owned();
    s.line(
        "time left",
        block.minutes_left(now).map_or_else(none, minutes),
    );
    s.line(
        "so far",
        format!("{} tokens, {}", compact(block.tokens), nano_usd(block.cost)),
    );
    let burn = match (block.cost_per_hour, block.tokens_per_minute) {
        (Some(per_hour), Some(per_minute)) => format!(
            "{}/h, {} tokens/min",
            usd(per_hour),
            compact(per_minute.max(0.0).round() as u64)
        ),
        _ => none(),
    };
    s.line("burn rate", burn);
    let projected = match (block.projected_tokens, block.projected_cost) {
        (Some(tokens), Some(cost)) => format!("{} tokens, {}", compact(tokens), nano_usd(cost)),
        _ => none(),
    };
    s.line("projected", projected);
    s
}

fn machine(run: &RunReport) -> Section {
    let mut s = Section::new("Machine");
    s.line("machine name", &run.machine_name);
    let hostname = if run.hostname.is_empty() {
        "unknown"
    } else {
        &run.hostname
    };
    s.line("hostname", hostname);
    s.line(
        "settings file",
        run.settings_file.as_deref().unwrap_or("none"),
    );
    let ccusage = match &run.ccusage_version {
        Some(version) => version.as_str(),
        None if run.reports.is_empty() => "not run",
        None => "not found",
    };
    s.line("ccusage", ccusage);
    let clickhouse = match &run.server_version {
        Some(version) => format!(
            "{version}, database {} at {}",
            run.database, run.clickhouse_url
        ),
        None if run.dry_run => "not contacted (dry run)".to_owned(),
        // Only a failed connection is "unreachable": a server that answered and refused
        // (the login, a permission) is reachable, and the fix differs.
        None => match run.clickhouse_error.as_deref() {
            Some(e) if e.contains("refused the login") => {
                format!("refused the login at {}", run.clickhouse_url)
            }
            Some(e) if !e.starts_with("cannot reach") && !e.contains("did not answer") => {
                format!("failed at {} (see the error below)", run.clickhouse_url)
            }
            _ => format!("unreachable at {}", run.clickhouse_url),
        },
    };
    s.line("ClickHouse", clickhouse);
    if !run.reports.is_empty() {
        s.line("fetch", duration(run.fetch_time));
        s.line("map", duration(run.map_time));
        if !run.dry_run {
            s.line("write", duration(run.write_time));
        }
    }
    s.line("total", duration(run.duration));
    s
}

/// `all machines: 4 machines, $812.40 in 93 days`, from the database after writing.
fn fleet_line(run: &RunReport) -> Option<String> {
    if let Some(fleet) = &run.fleet {
        return Some(format!(
            "all machines: {}, {} in {}",
            count(fleet.machines, "machine", "machines"),
            usd(fleet.cost_usd),
            count(fleet.days, "day", "days")
        ));
    }
    run.history_error
        .as_ref()
        .map(|e| format!("all machines: not read ({e})"))
}

fn report_ok(run: &RunReport, kind: ReportKind) -> bool {
    run.reports.get(&kind).is_some_and(|r| r.error.is_none())
}

fn minute(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// The one closing line of `--quiet`.
pub fn closing_line(run: &RunReport) -> String {
    let written: usize = run.tables.values().sum();
    let failed = run.reports.values().filter(|r| r.error.is_some()).count();
    let status = if run.exit().code() == 0 {
        "ok"
    } else {
        "failed"
    };
    let mut line = format!(
        "ccusage-import: {status}: machine {}, {} rows written, {} unchanged, {failed} reports failed, {}",
        run.machine_name,
        thousands(written as u64),
        thousands(run.rows_unchanged as u64),
        duration(run.duration)
    );
    if let Some(fleet) = fleet_line(run) {
        line.push_str("; ");
        line.push_str(&fleet);
    }
    line
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::output::fixture::{at, run};

    /// The snapshot: what a cron log holds after a run. Update it deliberately.
    const EXPECTED: &str = r"ccusage-import: machine laptop, run at 2026-11-22 17:25:30 UTC

Reports
  daily           ok, 8 rows, 1.9 s
  session         ok, 16 rows, 2.2 s
  blocks          ok, 21 rows, 1.9 s
  projects_daily  ok, 10 rows, 2.0 s

Records
  ccusage_usage_daily               2 written
  ccusage_usage_monthly             1 written
  ccusage_usage_sessions            3 written
  ccusage_usage_blocks              1 written
  ccusage_usage_projects_daily      2 written
  ccusage_model_breakdowns      1,234 written
  ccusage_models_used               0 written
  unchanged                     40 rows already stored
  previous import               2026-11-22 16:25 UTC (1 h 00 min ago)
  new days                      1
  new sessions                  2
  new blocks                    1
  updated rows                  4

Cost and tokens
  total cost      $1,234.56
  per active day  $30.86 (over 40 days)
  input           999
  output          560.0K
  cache creation  12.3M
  cache read      5.6B
  total tokens    5.6B

Date range
  first day       2026-10-01
  last day        2026-11-22
  active days     40 of 53

Top models by cost
  claude-opus-4-1-20250805    $800.00   64.8%
  claude-sonnet-4-20250514    $300.00   24.3%
  claude-sonnet-4-5-20250929  $100.00    8.1%
  claude-haiku-4-5-20251001    $30.00    2.4%
  claude-3-5-haiku-20241022     $4.56    0.4%
  others                      1 more model

Sessions
  sessions        120
  average cost    $10.29
  most expensive  $98.77 108f43ef-5258-42c3-8b52-ed09bf61cfd4 in -home-alice-proj-a
  project         $900.00 -home-alice-proj-a
  project         $300.00 -home-alice-work-proj-b
  project          $30.00 -tmp-scratch

Active block
  started         2026-11-22 16:00 UTC (1 h 25 min ago)
  time left       3 h 35 min
  so far          274.5K tokens, $0.55
  burn rate       $1.33/h, 11.2K tokens/min
  projected       2.7M tokens, $5.33

Machine
  machine name    laptop
  hostname        laptop.example.org
  settings file   none
  ccusage         20.0.24
  ClickHouse      25.3.2.39, database ccusage at http://localhost:8123
  fetch           2.3 s
  map             38 ms
  write           412 ms
  total           2.7 s

all machines: 4 machines, $812.40 in 93 days
";

    #[test]
    fn the_plain_summary_on_fixed_input() {
        let text = render(&run(), Look::PLAIN);
        assert_eq!(text, EXPECTED, "\n{text}");
    }

    #[test]
    fn plain_output_has_no_escape_codes_and_colour_output_has() {
        let plain = render(&run(), Look::PLAIN);
        assert!(!plain.contains('\x1b'));
        assert!(plain.is_ascii(), "plain output keeps to ASCII: {plain}");
        let coloured = render(
            &run(),
            Look {
                color: true,
                live: false,
            },
        );
        assert!(coloured.contains("\x1b["));
        assert_eq!(console::strip_ansi_codes(&coloured), plain);
    }

    #[test]
    fn under_the_live_view_only_failed_reports_are_repeated() {
        let mut run = run();
        run.reports.get_mut(&ReportKind::Blocks).unwrap().error = Some("boom".into());
        let look = Look {
            color: false,
            live: true,
        };
        let text = render(&run, look);
        assert!(text.starts_with("ccusage-import: machine laptop"), "{text}");
        assert!(text.contains("\nReports\n  blocks  "), "{text}");
        assert!(text.contains("failed after 1.9 s (see the error below)"));
        assert!(!text.contains("ok, 8 rows"), "{text}");
        let quiet = render(&self::run(), look);
        assert!(!quiet.contains("Reports"), "{quiet}");
    }

    #[test]
    fn a_block_without_a_burn_rate_shows_dashes_not_zeros() {
        let mut run = run();
        let block = run.digest.active_block.as_mut().unwrap();
        block.cost_per_hour = None;
        block.tokens_per_minute = None;
        block.projected_tokens = None;
        block.projected_cost = None;
        let text = render(&run, Look::PLAIN);
        assert!(text.contains("\n  time left       -\n"), "{text}");
        assert!(text.contains("\n  burn rate       -\n"), "{text}");
        assert!(text.contains("\n  projected       -\n"), "{text}");
        let value = crate::output::json::to_json(&run);
        let block = &value["active_block"];
        assert!(block["burn_rate_cost_per_hour"].is_null(), "{block}");
        assert!(block["projected_total_tokens"].is_null(), "{block}");
        assert!(block["projected_total_cost_usd"].is_null(), "{block}");
        assert!(block["minutes_left"].is_null(), "{block}");
        assert!(block["total_tokens"].is_u64());
    }

    #[test]
    fn old_usage_and_no_usage_give_a_warning() {
        let mut run = run();
        assert!(!render(&run, Look::PLAIN).contains("warning"));
        run.started_at = at("2026-11-25T23:59:59Z");
        assert!(!render(&run, Look::PLAIN).contains("warning"));
        run.started_at = at("2026-11-26T00:00:00Z");
        let stale = render(&run, Look::PLAIN);
        assert!(
            stale.contains("  warning         the newest usage is 4 days old: stale logs"),
            "{stale}"
        );
        run.first_date = None;
        run.last_date = None;
        let empty = render(&run, Look::PLAIN);
        assert!(empty.contains("no usage found"), "{empty}");
    }

    #[test]
    fn a_dry_run_says_so_and_reads_nothing_back() {
        let mut run = run();
        run.dry_run = true;
        run.server_version = None;
        run.previous_import = PreviousImport::Unknown;
        run.fleet = None;
        run.new_rows.clear();
        let text = render(&run, Look::PLAIN);
        assert!(text.contains("(dry run: nothing written)"));
        assert!(
            text.contains("  ccusage_usage_daily               2 to write\n"),
            "{text}"
        );
        assert!(text.contains("not contacted (dry run)"));
        for absent in [
            "all machines",
            "previous import",
            "new days",
            "unchanged",
            "write  ",
        ] {
            assert!(!text.contains(absent), "{absent}: {text}");
        }
        // ClickHouse could not be read: the counts say what they are.
        run.dry_run_uncompared = Some("cannot reach ClickHouse at http://db:8123".into());
        let text = render(&run, Look::PLAIN);
        assert!(
            text.contains("  ccusage_usage_daily               2 mapped\n")
                && text.contains("with what is stored: cannot reach ClickHouse"),
            "{text}"
        );
    }

    #[test]
    fn a_clickhouse_failure_before_ccusage_shows_only_what_is_known() {
        let run = RunReport {
            machine_name: "laptop".into(),
            clickhouse_url: "http://db:8123".into(),
            started_at: at("2026-11-22T17:25:30Z"),
            clickhouse_error: Some("cannot reach ClickHouse".into()),
            duration: Duration::from_millis(12),
            ..RunReport::default()
        };
        let text = render(&run, Look::PLAIN);
        assert!(text.contains("failed before ccusage ran (see the error below)"));
        assert!(text.contains("unreachable at http://db:8123"));
        let refused = RunReport {
            clickhouse_error: Some(
                "ClickHouse at http://db:8123 refused the login for user bob: check CH_USER \
                 and CH_PASSWORD"
                    .into(),
            ),
            ..run.clone()
        };
        let shown = render(&refused, Look::PLAIN);
        assert!(
            shown.contains("  ClickHouse      refused the login at http://db:8123\n"),
            "{shown}"
        );
        assert!(text.contains("  ccusage         not run\n"), "{text}");
        assert!(text.contains("  total           12 ms\n"), "{text}");
        for absent in [
            "Records",
            "Cost and tokens",
            "all machines",
            "fetch",
            "write",
        ] {
            assert!(!text.contains(absent), "{absent}: {text}");
        }
    }

    #[test]
    fn the_closing_line_holds_the_run_and_the_fleet() {
        assert_eq!(
            closing_line(&run()),
            "ccusage-import: ok: machine laptop, 1,243 rows written, 40 unchanged, \
             0 reports failed, 2.7 s; all machines: 4 machines, $812.40 in 93 days"
        );
        let mut failed = run();
        failed.fleet = None;
        failed.history_error = Some("cannot read the totals of all machines".into());
        assert!(closing_line(&failed)
            .ends_with("; all machines: not read (cannot read the totals of all machines)"));
    }
}

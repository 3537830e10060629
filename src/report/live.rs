//! The live view on a terminal: one spinner per step, each turning into a ✓ or ✗ line when
//! it ends. Drawn on stderr (indicatif hides it when stderr is not a terminal), so stdout
//! keeps only the summary.
//!
//! ```text
//! ✓ ClickHouse       25.3.2.39, database ccusage at http://localhost:8123        38 ms
//! ✓ ccusage          6/6 reports                                                 2.4 s
//!   ✓ daily                 8 rows                                               1.9 s
//!   ⠙ session               running                                              1.2 s
//! ✓ ClickHouse       6 tables written                                          310 ms
//!   ✓ ccusage_usage_daily            8 written, 8 new, 0 unchanged               52 ms
//! ```

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use console::Style;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};

use super::format::{count, duration, thousands};
use super::Reporter;
use crate::pipeline::ReportOutcome;
use crate::sink::WriteStats;
use crate::source::ReportKind;

const TICK: Duration = Duration::from_millis(100);
const SPINNER: &[&str] = &["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏", " "];
/// Longest error text shown on a ✗ line; the full error follows the summary.
const ERROR_CHARS: usize = 60;
/// Width of a step's name column (fits `ccusage_usage_projects_daily`).
const GROUP_WIDTH: usize = 16;
const REPORT_WIDTH: usize = 20;
const TABLE_WIDTH: usize = 30;
/// Where the elapsed time starts, so times line up in one column.
const TIME_COLUMN: usize = 82;

/// The indicatif reporter: only used when `Output::Human { fancy: true }`.
pub struct Live {
    multi: MultiProgress,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    connect: Option<ProgressBar>,
    reports: Option<Group>,
    writes: Option<Group>,
    report_bars: HashMap<ReportKind, ProgressBar>,
    write_bars: HashMap<String, (ProgressBar, Instant)>,
    finished: bool,
}

/// A header line with a counter over its steps.
struct Group {
    bar: ProgressBar,
    started: Instant,
    last_end: Instant,
    steps: usize,
    done: usize,
    failed: usize,
}

impl Default for Live {
    fn default() -> Self {
        Self::new()
    }
}

impl Live {
    pub fn new() -> Live {
        // indicatif styles its template with console's default, which follows stdout; the
        // live view is on stderr and only exists when colour is wanted there.
        console::set_colors_enabled(true);
        Live {
            multi: MultiProgress::with_draw_target(ProgressDrawTarget::stderr()),
            state: Mutex::new(State::default()),
        }
    }

    /// Ends the live view: closes the group lines and marks any step still running as
    /// interrupted, so no spinner is left on screen. Call before printing the summary.
    pub fn finish(&self) {
        let mut state = self.state.lock().expect("the live view's lock is not poisoned");
        if state.finished {
            return;
        }
        state.finished = true;
        let interrupted = |bar: &ProgressBar, indent: &str, name: &str, width: usize| {
            if !bar.is_finished() {
                let line = row(indent, &cross(), name, width, "interrupted", bar.elapsed());
                done(bar, line);
            }
        };
        if let Some(bar) = &state.connect {
            interrupted(bar, "", "ClickHouse", GROUP_WIDTH);
        }
        for (kind, bar) in &state.report_bars {
            interrupted(bar, "  ", kind.name(), REPORT_WIDTH);
        }
        for (table, (bar, _)) in &state.write_bars {
            interrupted(bar, "  ", table, TABLE_WIDTH);
        }
        if let Some(group) = &state.reports {
            finish_reports(group);
        }
        if let Some(group) = &state.writes {
            finish_writes(group);
        }
    }

    fn spinner(&self, indent: &'static str, name: &str, width: usize, msg: &str) -> ProgressBar {
        let bar = self.multi.add(ProgressBar::new_spinner());
        bar.set_style(running_style(indent, width));
        bar.set_prefix(name.to_owned());
        bar.set_message(msg.to_owned());
        bar.enable_steady_tick(TICK);
        bar
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        self.finish();
    }
}

impl Reporter for Live {
    fn connect_started(&self, url: &str, database: &str) {
        let bar = self.spinner(
            "",
            "ClickHouse",
            GROUP_WIDTH,
            &format!("connecting to {url}, database {database}"),
        );
        self.lock().connect = Some(bar);
    }

    fn connect_finished(&self, result: Result<&str, &str>) {
        let state = self.lock();
        let Some(bar) = &state.connect else { return };
        let (mark, text) = match result {
            Ok(version) => (tick(), format!("{version}, {}", connect_target(bar))),
            Err(error) => (cross(), shorten(error)),
        };
        done(bar, row("", &mark, "ClickHouse", GROUP_WIDTH, &text, bar.elapsed()));
    }

    fn report_started(&self, kind: ReportKind) {
        let mut state = self.lock();
        if state.reports.is_none() {
            let bar = self.spinner("", "ccusage", GROUP_WIDTH, "");
            state.reports = Some(Group::new(bar));
        }
        let group = state.reports.as_mut().expect("just set");
        group.steps += 1;
        group.show_progress("reports");
        let bar = self.spinner("  ", kind.name(), REPORT_WIDTH, "running");
        state.report_bars.insert(kind, bar);
    }

    fn report_finished(&self, kind: ReportKind, outcome: &ReportOutcome) {
        let mut state = self.lock();
        if let Some(bar) = state.report_bars.get(&kind) {
            let (mark, text) = match &outcome.error {
                None => (tick(), count(outcome.rows as u64, "row", "rows")),
                Some(error) => (cross(), shorten(error)),
            };
            done(
                bar,
                row("  ", &mark, kind.name(), REPORT_WIDTH, &text, outcome.elapsed),
            );
        }
        if let Some(group) = state.reports.as_mut() {
            group.step_done(outcome.error.is_some());
            if group.done == group.steps {
                finish_reports(group);
            } else {
                group.show_progress("reports");
            }
        }
    }

    fn write_started(&self, table: &str) {
        let mut state = self.lock();
        if state.writes.is_none() {
            let bar = self.spinner("", "ClickHouse", GROUP_WIDTH, "writing");
            state.writes = Some(Group::new(bar));
        }
        let group = state.writes.as_mut().expect("just set");
        group.steps += 1;
        group.show_progress("tables written");
        let bar = self.spinner("  ", table, TABLE_WIDTH, "writing");
        state
            .write_bars
            .insert(table.to_owned(), (bar, Instant::now()));
    }

    fn write_finished(&self, table: &str, stats: Option<&WriteStats>) {
        let mut state = self.lock();
        if let Some((bar, started)) = state.write_bars.get(table) {
            let (mark, text) = match stats {
                Some(stats) => (tick(), write_text(stats)),
                None => (cross(), "failed (see the error below)".to_owned()),
            };
            done(
                bar,
                row("  ", &mark, table, TABLE_WIDTH, &text, started.elapsed()),
            );
        }
        if let Some(group) = state.writes.as_mut() {
            group.step_done(stats.is_none());
            group.show_progress("tables written");
        }
    }
}

impl Live {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .expect("the live view's lock is not poisoned")
    }
}

impl Group {
    fn new(bar: ProgressBar) -> Group {
        let now = Instant::now();
        Group {
            bar,
            started: now,
            last_end: now,
            steps: 0,
            done: 0,
            failed: 0,
        }
    }

    fn step_done(&mut self, failed: bool) {
        self.done += 1;
        self.failed += usize::from(failed);
        self.last_end = Instant::now();
    }

    fn show_progress(&self, what: &str) {
        self.bar
            .set_message(format!("{}/{} {what}", self.done, self.steps));
    }

    fn took(&self) -> Duration {
        self.last_end - self.started
    }
}

fn finish_reports(group: &Group) {
    if group.bar.is_finished() {
        return;
    }
    let (mark, text) = if group.failed == 0 && group.done == group.steps {
        (tick(), format!("{}/{} reports", group.done, group.steps))
    } else {
        (
            cross(),
            format!(
                "{}/{} reports ok, {} failed",
                group.done - group.failed,
                group.steps,
                group.failed + (group.steps - group.done)
            ),
        )
    };
    done(
        &group.bar,
        row("", &mark, "ccusage", GROUP_WIDTH, &text, group.took()),
    );
}

fn finish_writes(group: &Group) {
    if group.bar.is_finished() {
        return;
    }
    let ok = group.done - group.failed;
    let (mark, text) = if group.failed == 0 && group.done == group.steps {
        (tick(), format!("{} written", count(ok as u64, "table", "tables")))
    } else {
        (
            cross(),
            format!("{ok}/{} tables written", group.steps),
        )
    };
    done(
        &group.bar,
        row("", &mark, "ClickHouse", GROUP_WIDTH, &text, group.took()),
    );
}

fn write_text(stats: &WriteStats) -> String {
    let mut text = format!(
        "{} written, {} new, {} unchanged",
        thousands(stats.written as u64),
        thousands(stats.new as u64),
        thousands(stats.unchanged as u64)
    );
    let children = stats.breakdowns + stats.models;
    if children > 0 {
        text.push_str(&format!(" (+{} model rows)", thousands(children as u64)));
    }
    text
}

/// The connect spinner's message holds `connecting to URL, database DB`; the ✓ line keeps
/// the target.
fn connect_target(bar: &ProgressBar) -> String {
    let message = bar.message();
    let target = message.strip_prefix("connecting to ").unwrap_or(&message);
    match target.split_once(", database ") {
        Some((url, database)) => format!("database {database} at {url}"),
        None => target.to_owned(),
    }
}

fn running_style(indent: &'static str, width: usize) -> ProgressStyle {
    let name_width = indent.len() + 2 + width;
    let template = format!(
        "{indent}{{spinner:.cyan}} {{prefix:<{width}}} {{msg:<{msg_width}}} {{secs:>8.dim}}",
        msg_width = TIME_COLUMN.saturating_sub(name_width + 1),
    );
    ProgressStyle::with_template(&template)
        .expect("the template is valid")
        .tick_strings(SPINNER)
        .with_key("secs", |state: &ProgressState, w: &mut dyn std::fmt::Write| {
            let _ = write!(w, "{:.1} s", state.elapsed().as_secs_f64());
        })
}

/// A finished line: mark, name, text and time in fixed columns.
fn row(
    indent: &str,
    mark: &str,
    name: &str,
    width: usize,
    text: &str,
    took: Duration,
) -> String {
    let name_width = indent.len() + 2 + width;
    let text_width = TIME_COLUMN.saturating_sub(name_width + 1);
    let time = Style::new()
        .dim()
        .force_styling(true)
        .apply_to(format!("{:>8}", duration(took)));
    format!("{indent}{mark} {name:<width$} {text:<text_width$} {time}")
}

/// Replaces a spinner with its final line, which stays on screen.
fn done(bar: &ProgressBar, line: String) {
    bar.set_style(ProgressStyle::with_template("{msg}").expect("the template is valid"));
    bar.finish_with_message(line);
}

fn tick() -> String {
    Style::new()
        .green()
        .force_styling(true)
        .apply_to("✓")
        .to_string()
}

fn cross() -> String {
    Style::new()
        .red()
        .force_styling(true)
        .apply_to("✗")
        .to_string()
}

/// The first line of an error, cut to fit the screen.
fn shorten(error: &str) -> String {
    let line = error.lines().next().unwrap_or_default();
    if line.chars().count() <= ERROR_CHARS {
        line.to_owned()
    } else {
        let cut: String = line.chars().take(ERROR_CHARS - 1).collect();
        format!("{cut}…")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_are_cut_to_one_short_line() {
        assert_eq!(shorten("short"), "short");
        let long = "x".repeat(200) + "\nsecond line";
        let cut = shorten(&long);
        assert_eq!(cut.chars().count(), ERROR_CHARS);
        assert!(cut.ends_with('…'));
        assert!(!shorten("a\nb").contains('b'));
    }

    #[test]
    fn finished_rows_line_up_their_times() {
        let strip = |s: String| console::strip_ansi_codes(&s).into_owned();
        let a = strip(row(
            "",
            "✓",
            "ccusage",
            GROUP_WIDTH,
            "6/6 reports",
            Duration::from_millis(2400),
        ));
        let b = strip(row(
            "  ",
            "✓",
            "daily",
            REPORT_WIDTH,
            "8 rows",
            Duration::from_millis(52),
        ));
        assert!(a.ends_with("   2.4 s") && b.ends_with("   52 ms"), "{a}\n{b}");
        assert_eq!(a.chars().count(), b.chars().count());
    }

    #[test]
    fn write_lines_count_new_and_unchanged_rows() {
        let stats = WriteStats {
            written: 1234,
            unchanged: 5,
            breakdowns: 3,
            models: 3,
            new: 1000,
        };
        assert_eq!(
            write_text(&stats),
            "1,234 written, 1,000 new, 5 unchanged (+6 model rows)"
        );
    }

    #[test]
    fn a_live_view_without_a_terminal_draws_nothing_and_ends_cleanly() {
        // Under `cargo test` stderr is captured, so indicatif hides the bars; this checks
        // the bookkeeping (counters, finishing twice, dropping with a step still running).
        let live = Live::new();
        live.connect_started("http://localhost:8123", "ccusage");
        live.connect_finished(Ok("25.3"));
        live.report_started(ReportKind::Daily);
        live.report_started(ReportKind::Session);
        live.report_finished(
            ReportKind::Daily,
            &ReportOutcome {
                rows: 3,
                elapsed: Duration::from_millis(10),
                error: None,
            },
        );
        live.write_started("ccusage_usage_daily");
        live.finish();
        live.finish();
        let state = live.lock();
        assert!(state.report_bars.values().all(ProgressBar::is_finished));
        assert!(state.reports.as_ref().unwrap().bar.is_finished());
        assert!(state.write_bars.values().all(|(bar, _)| bar.is_finished()));
    }
}

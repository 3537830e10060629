//! The live view on a terminal: one spinner per step, each turning into a ✓ or ✗ line when
//! it ends. Drawn on stderr (indicatif hides it when stderr is not a terminal), so stdout
//! keeps only the summary.
//!
//! ```text
//! ✓ ClickHouse       25.3.2.39, database ccusage at http://localhost:8123        38 ms
//! ✓ ccusage          6/6 reports                                                 2.4 s
//!   ✓ daily                8 rows                                                1.9 s
//!   ⠙ session              running                                               1.2 s
//! ✓ ClickHouse       6 tables written                                          310 ms
//!   ✓ ccusage_usage_daily            8 new, 0 updated, 0 unchanged               52 ms
//! ```

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use console::Style;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};

use super::format::{count, duration, thousands};
use super::Reporter;
use crate::run::ReportOutcome;
use crate::run::{ReportKind, WriteStats};

const TICK: Duration = Duration::from_millis(100);
const SPINNER: &[&str] = &["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏", " "];
/// Width of a step's name column: group lines, reports, tables
/// (`ccusage_usage_projects_daily`).
const GROUP_WIDTH: usize = 16;
const REPORT_WIDTH: usize = 20;
const TABLE_WIDTH: usize = 30;
/// Width of the time column, right-aligned.
const TIME_WIDTH: usize = 8;

/// Where the time column starts: times line up, and a line fits the terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Layout {
    time_column: usize,
}

impl Layout {
    fn for_width(columns: usize) -> Layout {
        Layout {
            time_column: columns.saturating_sub(TIME_WIDTH + 2).clamp(56, 80),
        }
    }

    /// Room for a line's text after its indent, mark and name.
    fn text_width(self, indent: &str, name_width: usize) -> usize {
        self.time_column
            .saturating_sub(indent.len() + 2 + name_width + 1)
    }
}

/// The indicatif reporter: only used when `Output::Human { live: true, .. }`.
pub struct Live {
    multi: MultiProgress,
    layout: Layout,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    connect: Option<(ProgressBar, String)>,
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
        let (_rows, columns) = console::Term::stderr().size();
        Live {
            multi: MultiProgress::with_draw_target(ProgressDrawTarget::stderr()),
            layout: Layout::for_width(usize::from(columns)),
            state: Mutex::new(State::default()),
        }
    }

    /// Ends the live view: closes the group lines and marks any step still running as
    /// interrupted, so no spinner is left on screen. Call before printing the summary.
    pub fn finish(&self) {
        let mut state = self.lock();
        if state.finished {
            return;
        }
        state.finished = true;
        let interrupted = |bar: &ProgressBar, indent: &str, name: &str, width: usize| {
            if !bar.is_finished() {
                let line = self.row(indent, &cross(), name, width, "interrupted", bar.elapsed());
                done(bar, line);
            }
        };
        if let Some((bar, _)) = &state.connect {
            interrupted(bar, "", "ClickHouse", GROUP_WIDTH);
        }
        for (kind, bar) in &state.report_bars {
            interrupted(bar, "  ", kind.name(), REPORT_WIDTH);
        }
        for (table, (bar, _)) in &state.write_bars {
            interrupted(bar, "  ", table, TABLE_WIDTH);
        }
        if let Some(group) = &state.reports {
            self.finish_reports(group);
        }
        if let Some(group) = &state.writes {
            self.finish_writes(group);
        }
        // indicatif leaves the cursor at the end of its last line: end that line, and leave
        // a blank one before whatever follows (the summary on stdout).
        let drew = state.connect.is_some() || state.reports.is_some() || state.writes.is_some();
        if drew && !self.multi.is_hidden() {
            crate::log::emit("\n\n");
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .expect("the live view's lock is not poisoned")
    }

    fn spinner(&self, indent: &'static str, name: &str, width: usize, msg: &str) -> ProgressBar {
        let text_width = self.layout.text_width(indent, width);
        let bar = self.multi.add(ProgressBar::new_spinner());
        bar.set_style(running_style(indent, width, text_width));
        bar.set_prefix(name.to_owned());
        bar.set_message(cut(msg, text_width));
        bar.enable_steady_tick(TICK);
        bar
    }

    /// A finished line: mark, name, text and time in fixed columns.
    fn row(
        &self,
        indent: &str,
        mark: &str,
        name: &str,
        width: usize,
        text: &str,
        took: Duration,
    ) -> String {
        let text_width = self.layout.text_width(indent, width);
        let text = cut(text, text_width);
        let time = Style::new()
            .dim()
            .force_styling(true)
            .apply_to(format!("{:>TIME_WIDTH$}", duration(took)));
        format!("{indent}{mark} {name:<width$} {text:<text_width$} {time}")
    }

    fn finish_reports(&self, group: &Group) {
        if group.bar.is_finished() {
            return;
        }
        let (mark, text) = if group.failed == 0 && group.done == group.steps {
            (tick(), format!("{}/{} reports", group.done, group.steps))
        } else {
            let ok = group.done - group.failed;
            let failed = group.steps - ok;
            (
                cross(),
                format!("{ok}/{} reports ok, {failed} failed", group.steps),
            )
        };
        let line = self.row("", &mark, "ccusage", GROUP_WIDTH, &text, group.took());
        done(&group.bar, line);
    }

    fn finish_writes(&self, group: &Group) {
        if group.bar.is_finished() {
            return;
        }
        let ok = group.done - group.failed;
        let (mark, text) = if group.failed == 0 && group.done == group.steps {
            let tables = count(ok as u64, "table", "tables");
            (tick(), format!("{tables} written"))
        } else {
            (cross(), format!("{ok}/{} tables written", group.steps))
        };
        let line = self.row("", &mark, "ClickHouse", GROUP_WIDTH, &text, group.took());
        done(&group.bar, line);
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
            &format!("connecting to {url}"),
        );
        self.lock().connect = Some((bar, format!("database {database} at {url}")));
    }

    fn connect_finished(&self, result: Result<&str, &str>) {
        let state = self.lock();
        let Some((bar, target)) = &state.connect else {
            return;
        };
        let (mark, text) = match result {
            Ok(version) => (tick(), format!("{version}, {target}")),
            Err(error) => (cross(), first_line(error).into_owned()),
        };
        let line = self.row("", &mark, "ClickHouse", GROUP_WIDTH, &text, bar.elapsed());
        done(bar, line);
    }

    fn report_started(&self, kind: ReportKind) {
        let mut state = self.lock();
        if state.reports.is_none() {
            let bar = self.spinner("", "ccusage", GROUP_WIDTH, "");
            state.reports = Some(Group::new(bar));
        }
        let group = state.reports.as_mut().expect("just set");
        group.steps += 1;
        group.show_reports();
        let bar = self.spinner("  ", kind.name(), REPORT_WIDTH, "running");
        state.report_bars.insert(kind, bar);
    }

    fn report_finished(&self, kind: ReportKind, outcome: &ReportOutcome) {
        let mut state = self.lock();
        if let Some(bar) = state.report_bars.get(&kind) {
            let (mark, text) = match &outcome.error {
                None => (tick(), count(outcome.rows as u64, "row", "rows")),
                Some(error) => (cross(), first_line(error).into_owned()),
            };
            let line = self.row(
                "  ",
                &mark,
                kind.name(),
                REPORT_WIDTH,
                &text,
                outcome.elapsed,
            );
            done(bar, line);
        }
        if let Some(group) = state.reports.as_mut() {
            group.step_done(outcome.error.is_some());
            if group.done == group.steps {
                self.finish_reports(group);
            } else {
                group.show_reports();
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
        group.show_written();
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
            let line = self.row("  ", &mark, table, TABLE_WIDTH, &text, started.elapsed());
            done(bar, line);
        }
        if let Some(group) = state.writes.as_mut() {
            group.step_done(stats.is_none());
            group.show_written();
        }
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

    fn show_reports(&self) {
        self.bar
            .set_message(format!("{}/{} reports", self.done, self.steps));
    }

    /// Tables are written at once, and how many there will be is not known in advance.
    fn show_written(&self) {
        self.bar.set_message(format!(
            "writing, {} done",
            count(self.done as u64, "table", "tables")
        ));
    }

    fn took(&self) -> Duration {
        self.last_end - self.started
    }
}

/// `8 new, 2 updated, 40 unchanged`: written rows are new keys or changed figures.
fn write_text(stats: &WriteStats) -> String {
    format!(
        "{} new, {} updated, {} unchanged",
        thousands(stats.new as u64),
        thousands(stats.written.saturating_sub(stats.new) as u64),
        thousands(stats.unchanged as u64)
    )
}

fn running_style(indent: &'static str, width: usize, text_width: usize) -> ProgressStyle {
    let template = format!(
        "{indent}{{spinner:.cyan}} {{prefix:<{width}}} {{msg:<{text_width}}} \
         {{secs:>{TIME_WIDTH}.dim}}"
    );
    ProgressStyle::with_template(&template)
        .expect("the template is valid")
        .tick_strings(SPINNER)
        .with_key(
            "secs",
            |state: &ProgressState, w: &mut dyn std::fmt::Write| {
                let _ = write!(w, "{:.1} s", state.elapsed().as_secs_f64());
            },
        )
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

/// The first line of an error, control characters escaped: the full error follows the summary.
fn first_line(text: &str) -> std::borrow::Cow<'_, str> {
    crate::log::printable(text.lines().next().unwrap_or_default())
}

/// Cuts text to `width` characters, marking the cut with `…`.
fn cut(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        text.to_owned()
    } else {
        let kept: String = text.chars().take(width.saturating_sub(1)).collect();
        format!("{kept}…")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn live(columns: usize) -> Live {
        Live {
            multi: MultiProgress::with_draw_target(ProgressDrawTarget::hidden()),
            layout: Layout::for_width(columns),
            state: Mutex::new(State::default()),
        }
    }

    #[test]
    fn long_text_is_cut_to_fit() {
        assert_eq!(cut("short", 10), "short");
        assert_eq!(cut("exactly 10", 10), "exactly 10");
        assert_eq!(cut("longer than ten", 10), "longer th…");
        assert_eq!(first_line("a\nb"), "a");
        assert_eq!(first_line(""), "");
    }

    #[test]
    fn finished_rows_line_up_their_times_and_fit_the_terminal() {
        let strip = |s: String| console::strip_ansi_codes(&s).into_owned();
        for columns in [80, 120, 200] {
            let live = live(columns);
            let took = Duration::from_millis(2400);
            let group = strip(live.row("", "✓", "ccusage", GROUP_WIDTH, "6/6 reports", took));
            let took = Duration::from_millis(52);
            let long = "x".repeat(300);
            let table = strip(live.row("  ", "✗", "t", TABLE_WIDTH, &long, took));
            assert!(group.ends_with("   2.4 s"), "{group}");
            assert!(
                table.ends_with("   52 ms") && table.contains('…'),
                "{table}"
            );
            assert_eq!(group.chars().count(), table.chars().count());
            assert!(group.chars().count() < columns, "{columns}: {group}");
        }
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
        assert_eq!(write_text(&stats), "1,000 new, 234 updated, 5 unchanged");
    }

    #[test]
    fn finishing_leaves_no_step_running() {
        let live = live(120);
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
        {
            let state = live.lock();
            let group = state.reports.as_ref().unwrap();
            assert_eq!((group.done, group.steps), (1, 2));
            assert!(!group.bar.is_finished());
        }
        live.finish();
        live.finish();
        let state = live.lock();
        assert!(state.connect.as_ref().unwrap().0.is_finished());
        assert!(state.report_bars.values().all(ProgressBar::is_finished));
        assert!(state.reports.as_ref().unwrap().bar.is_finished());
        assert!(state.writes.as_ref().unwrap().bar.is_finished());
        assert!(state.write_bars.values().all(|(bar, _)| bar.is_finished()));
    }
}

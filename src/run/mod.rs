//! What a run found out, shared by the pipeline that fills it and the report that shows it:
//! the outcome of each report and table, the digest of this run's rows, what was read back
//! (the previous import, the fleet), and how it all merges into one exit code. The pipeline,
//! the source and the sink depend on these types; so does the report; none of them on the
//! others through here.

pub mod digest;

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use clickhouse::Row;
use serde::Deserialize;

use crate::exit::Exit;
use crate::transform::rows::{Nanodollars, Tokens};
use digest::Digest;

/// The reports an import runs: four Claude reports, plus the all-agent daily report from
/// ccusage 19 on. ccusage's monthly report is not among them: the monthly table is summed
/// from the stored days (see `derive::months`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ReportKind {
    Daily,
    Session,
    Blocks,
    /// ccusage's blocks one hour long: one row per UTC hour with usage, which the 5-hour
    /// blocks are derived from (see `derive::blocks`).
    Hours,
    ProjectsDaily,
    AgentsDaily,
}

impl ReportKind {
    /// The Claude reports every supported version has.
    pub const CLAUDE: [ReportKind; 5] = [
        ReportKind::Daily,
        ReportKind::Session,
        ReportKind::Blocks,
        ReportKind::Hours,
        ReportKind::ProjectsDaily,
    ];

    /// The name used in messages, `--json` output and ledger columns.
    pub fn name(self) -> &'static str {
        match self {
            ReportKind::Daily => "daily",
            ReportKind::Session => "session",
            ReportKind::Blocks => "blocks",
            ReportKind::Hours => "hours",
            ReportKind::ProjectsDaily => "projects_daily",
            ReportKind::AgentsDaily => "agents_daily",
        }
    }
}

impl fmt::Display for ReportKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The child tables every usage table's rows bring rows into.
pub const BREAKDOWNS_TABLE: &str = "ccusage_model_breakdowns";
pub const MODELS_USED_TABLE: &str = "ccusage_models_used";

/// How one table's write went.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct WriteStats {
    /// Report rows inserted.
    pub written: usize,
    /// Report rows left out because the database already holds them (or a larger figure).
    pub unchanged: usize,
    /// Model breakdown rows inserted with them.
    pub breakdowns: usize,
    /// Models-used rows inserted with them.
    pub models: usize,
    /// Of `written`, the rows whose key the database did not hold yet (a new day, session,
    /// block, …); the rest replaced a stored row with a changed figure. For the summary.
    pub new: usize,
}

/// Everything a run found out, for the summary, `--json` and the ledger. `Default` is for
/// tests that build one by hand.
#[derive(Debug, Clone, Default)]
pub struct RunReport {
    pub run_id: String,
    pub machine_name: String,
    pub hostname: String,
    /// The settings file read (`None`: none was found).
    pub settings_file: Option<String>,
    pub ccusage_version: Option<String>,
    pub ccusage_command: Option<String>,
    pub server_version: Option<String>,
    pub clickhouse_url: String,
    pub database: String,
    pub dry_run: bool,
    /// In a dry run, why `tables` counts the rows mapped rather than what a run would write
    /// (ClickHouse could not be read); `None` when they were compared with what is stored.
    pub dry_run_uncompared: Option<String>,
    pub started_at: DateTime<Utc>,
    pub reports: BTreeMap<ReportKind, ReportOutcome>,
    /// Rows written per table (with `--dry-run`: rows that would be written).
    pub tables: BTreeMap<&'static str, usize>,
    pub rows_unchanged: usize,
    pub totals: Tokens,
    pub total_cost: Nanodollars,
    pub first_date: Option<NaiveDate>,
    pub last_date: Option<NaiveDate>,
    /// Wall time of running the reports (mapping included, as each report maps when it ends).
    pub fetch_time: Duration,
    /// Of that, the time spent parsing and mapping, summed over the reports.
    pub map_time: Duration,
    pub write_time: Duration,
    pub duration: Duration,
    /// Models, sessions, projects and the active block, from this run's rows.
    pub digest: Digest,
    /// Per usage table, the written rows whose key was new to the database (a new day,
    /// session, block, …); the other written rows replaced a changed figure.
    pub new_rows: BTreeMap<&'static str, usize>,
    /// This machine's import before this one (from the ledger).
    pub previous_import: PreviousImport,
    /// Every machine's totals, read back after writing (`None` in a dry run).
    pub fleet: Option<Fleet>,
    /// Why `previous_import` or `fleet` could not be read; the run itself is not failed.
    pub history_error: Option<String>,
    /// Why ClickHouse failed, if it did.
    pub clickhouse_error: Option<String>,
    /// Things worth knowing that did not stop the run (an untested ccusage version, …).
    pub warnings: Vec<String>,
    /// Months summed from the stored days (the monthly table's rows for this machine).
    pub derived_months: usize,
    /// What the database holds for this machine over the days of this run's daily report,
    /// read back after writing: more than the run's totals where it kept a day's larger figure
    /// (logs deleted since, or a ccusage that counted more, before a downgrade).
    pub stored_days: Option<StoredDays>,
}

#[derive(Debug, Clone)]
pub struct ReportOutcome {
    /// Rows in ccusage's output (blocks include gaps).
    pub rows: usize,
    pub elapsed: Duration,
    pub error: Option<String>,
}

/// Usage newer than this many days before the run counts as current; older is "stale".
pub const STALE_AFTER_DAYS: i64 = 3;

/// The warnings the date range can give: no usage at all, or only old usage. `None` when the
/// daily report failed (its own error says more).
pub fn usage_warning(run: &RunReport) -> Option<String> {
    if run
        .reports
        .get(&ReportKind::Daily)
        .is_none_or(|r| r.error.is_some())
    {
        return None;
    }
    let Some(last) = run.last_date else {
        return Some(
            "no usage found: is ccusage reading the right logs? (CLAUDE_CONFIG_DIR)".to_owned(),
        );
    };
    let age = (run.started_at.date_naive() - last).num_days();
    (age > STALE_AFTER_DAYS).then(|| {
        format!(
            "the newest usage is {age} days old: stale logs, or ccusage is looking in the wrong \
             place (CLAUDE_CONFIG_DIR)"
        )
    })
}

impl RunReport {
    pub fn exit(&self) -> Exit {
        if self.clickhouse_error.is_some() {
            Exit::ClickHouse
        } else if self.reports.values().all(|r| r.error.is_some()) {
            // No report at all is nothing imported too.
            Exit::NothingImported
        } else if self.reports.values().any(|r| r.error.is_some()) {
            Exit::Reports
        } else {
            Exit::Ok
        }
    }

    /// One line per failure; when every report failed for the same cause (ccusage missing,
    /// no logs), one line saying it once and what to do, instead of a line per report.
    pub fn errors(&self) -> Vec<String> {
        let failed: Vec<(ReportKind, &str)> = self
            .reports
            .iter()
            .filter_map(|(kind, r)| r.error.as_deref().map(|e| (*kind, e)))
            .collect();
        let common = match failed.first() {
            Some((_, first))
                if failed.len() > 1
                    && failed.len() == self.reports.len()
                    && failed.iter().all(|(_, e)| cause(e) == cause(first)) =>
            {
                Some(common_failure(first))
            }
            _ => None,
        };
        let reports: Vec<String> = match common {
            Some(line) => vec![line],
            None => failed
                .iter()
                .map(|(kind, e)| format!("{kind} report failed: {e}"))
                .collect(),
        };
        reports
            .into_iter()
            .chain(self.clickhouse_error.clone())
            .collect()
    }
}

/// A report's error without what differs between reports: the command line and the start of
/// the output that `pipeline::fetch_one` and `source::RunError` append in parentheses.
fn cause(error: &str) -> &str {
    [" (command: ", " (ccusage "]
        .iter()
        .filter_map(|mark| error.find(mark))
        .min()
        .map_or(error, |end| &error[..end])
}

/// The one line for every report failing alike: the cause once, and what to do.
fn common_failure(first: &str) -> String {
    let why = cause(first);
    let command = first[why.len()..]
        .trim_start()
        .trim_start_matches('(')
        .trim_end_matches(')');
    let advice = if why.contains("ccusage was not found")
        || why.contains("does not exist")
        || why.contains("is not executable")
    {
        // The cause already says what to do (install ccusage, fix --ccusage-bin).
        String::new()
    } else if why.contains("CLAUDE_CONFIG_DIR") || why.contains("Claude data director") {
        "; set CLAUDE_CONFIG_DIR to the directory holding your Claude Code logs (the one with \
         projects/ in it), or unset it to use ~/.claude"
            .to_owned()
    } else if command.is_empty() {
        String::new()
    } else {
        format!("; run it yourself to see why ({command})")
    };
    format!("every ccusage report failed, nothing was imported: {why}{advice}")
}

/// Every machine's usage in the database, each counted once.
#[derive(Debug, Clone, Copy, Default, PartialEq, Row, Deserialize)]
pub struct Fleet {
    pub machines: u64,
    pub days: u64,
    pub cost_usd: f64,
    pub total_tokens: u64,
}

/// This machine's stored days over a run's date range.
#[derive(Debug, Clone, Copy, Default, PartialEq, Row, Deserialize)]
pub struct StoredDays {
    pub cost_usd: f64,
    pub total_tokens: u64,
}

impl StoredDays {
    /// Whether the stored figures differ from what the run's daily report printed (cost to
    /// the cent, as the summary shows it).
    pub fn differ(&self, run: &RunReport) -> bool {
        let printed = run.total_cost as f64 / 1e9;
        let tokens = run.totals.total().unwrap_or(u64::MAX);
        self.total_tokens != tokens || (self.cost_usd - printed).abs() >= 0.005
    }
}

/// This machine's import before this one, as far as the ledger knows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum PreviousImport {
    /// Not read: a dry run, or ClickHouse failed.
    #[default]
    Unknown,
    /// The ledger holds no earlier import of this machine.
    Never,
    At(DateTime<Utc>),
}

/// Hooks the pipeline calls as it goes. All methods default to doing nothing, which is what
/// `--json`, `--quiet`, plain output (cron logs) and tests want.
pub trait Reporter: Send + Sync {
    fn connect_started(&self, _url: &str, _database: &str) {}
    /// The server's version, or why connecting (or applying the schema) failed.
    fn connect_finished(&self, _result: Result<&str, &str>) {}
    fn report_started(&self, _kind: ReportKind) {}
    fn report_finished(&self, _kind: ReportKind, _outcome: &ReportOutcome) {}
    fn write_started(&self, _table: &str) {}
    fn write_finished(&self, _table: &str, _stats: Option<&WriteStats>) {}
}

/// A reporter that shows nothing.
pub struct Silent;

impl Reporter for Silent {}

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
    pub ccusage_version: Option<String>,
    pub ccusage_command: Option<String>,
    pub server_version: Option<String>,
    pub clickhouse_url: String,
    pub database: String,
    pub dry_run: bool,
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

impl RunReport {
    pub fn exit(&self) -> Exit {
        if self.clickhouse_error.is_some() {
            Exit::ClickHouse
        } else if self.reports.values().any(|r| r.error.is_some()) || self.reports.is_empty() {
            Exit::Reports
        } else {
            Exit::Ok
        }
    }

    pub fn errors(&self) -> Vec<String> {
        let reports = self.reports.iter().filter_map(|(kind, r)| {
            r.error
                .as_ref()
                .map(|e| format!("{kind} report failed: {e}"))
        });
        reports.chain(self.clickhouse_error.clone()).collect()
    }
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

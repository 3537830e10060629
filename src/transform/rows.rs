//! Pure mapping from parsed ccusage reports to ClickHouse rows: no I/O, no clock, no hostname.
//! Everything a row needs beyond the report comes in through [`Context`].

use anyhow::{bail, ensure, Context as _, Result};
use chrono::{DateTime, NaiveDate, Utc};
use clickhouse::{Row, RowOwned, RowWrite};
use serde::Serialize;

use super::json::{Block, BlocksReport, DailyReport, ProjectsReport, SessionReport};
use super::json::{ModelBreakdown, UsageRow};
use super::projects::{Projects, UNKNOWN_PROJECT};
use std::sync::Arc;

/// What every row carries besides the report's own figures.
#[derive(Debug, Clone)]
pub struct Context {
    pub machine_name: String,
    pub ccusage_version: String,
    /// Whole seconds, so the value stored equals the value compared.
    pub imported_at: DateTime<Utc>,
    /// This import's place in the machine's order of imports: the low bits of every
    /// `row_version` it writes. Starts as [`tick_of`] the import time; the pipeline raises it
    /// above the last stored tick, so two imports in one minute never tie.
    pub tick: u64,
    /// How projects are named and how much of them is stored (`--projects`).
    pub projects: Arc<Projects>,
}

impl Context {
    pub fn new(machine_name: &str, ccusage_version: &str, imported_at: DateTime<Utc>) -> Self {
        Context {
            machine_name: machine_name.to_owned(),
            ccusage_version: ccusage_version.to_owned(),
            imported_at,
            tick: tick_of(imported_at),
            projects: Arc::new(Projects::default()),
        }
    }

    /// ccusage 15–18 (the classic command set): a session is a whole project directory.
    pub fn classic(&self) -> bool {
        is_classic(&self.ccusage_version)
    }
}

/// Whether rows of this ccusage version use the classic (15–18) session shapes.
pub fn is_classic(ccusage_version: &str) -> bool {
    let major = ccusage_version.split('.').next();
    major
        .and_then(|m| m.parse::<u32>().ok())
        .is_some_and(|m| m < 19)
}

/// The project a session row belongs to, as its fields hold it: ccusage 15–18 name a whole
/// project's session after the directory (its `project_path` is `Unknown Project`) and list
/// sub-agent files under `<project>/<session>`; 19+ give the project as `project_path`.
pub fn session_project<'a>(classic: bool, session_id: &'a str, project_path: &'a str) -> &'a str {
    if !classic {
        project_path
    } else if project_path == UNKNOWN_PROJECT {
        session_id
    } else {
        project_path
            .split_once('/')
            .map_or(project_path, |(project, _)| project)
    }
}

/// One mapped report row: the row itself, its natural key as text (the same text that
/// `sql/import.sql` builds for rows already stored, so the two can be compared), and the
/// child rows that belong to exactly this version of it.
#[derive(Debug, Clone)]
pub struct Record<R> {
    pub key: String,
    pub row: R,
    pub breakdowns: Vec<ModelBreakdownRow>,
    pub models: Vec<ModelUsedRow>,
}

/// The token total stored in a row; the version rule and the skip rule both compare it.
pub trait UsageRecord {
    fn tokens(&self) -> Tokens;
    fn total_tokens(&self) -> u64;
    fn content_hash(&self) -> u64;
}

/// Where the ClickHouse `Decimal(18, 9)` columns get their value: USD scaled by 1e9.
pub type Nanodollars = i64;

const NANOS_PER_USD: f64 = 1e9;
/// Decimal(18, 9) holds up to 999,999,999.999999999.
pub const MAX_USD: f64 = 999_999_999.0;

/// A cost above [`MAX_USD`]: no machine spends it, but a corrupt log line (9·10¹⁵ tokens) makes
/// ccusage print one. Its own type, so that only the rows holding it are refused
/// (`reports::map`), while other bad costs fail the report.
#[derive(Debug)]
pub struct CostTooLarge(pub f64);

impl std::fmt::Display for CostTooLarge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "cost {} is larger than {MAX_USD} USD", self.0)
    }
}

impl std::error::Error for CostTooLarge {}

/// Bits of `row_version` given to the import time, in minutes since [`VERSION_EPOCH`]:
/// 2^24 minutes is about 31 years.
const VERSION_TIME_BITS: u32 = 24;
/// 2025-01-01T00:00:00Z.
const VERSION_EPOCH: i64 = 1_735_689_600;

/// The largest tick `row_version` can hold.
pub const MAX_TICK: u64 = (1u64 << VERSION_TIME_BITS) - 1;

/// The tick of an import that starts at `imported_at`: minutes since [`VERSION_EPOCH`].
pub fn tick_of(imported_at: DateTime<Utc>) -> u64 {
    let minutes = ((imported_at.timestamp() - VERSION_EPOCH).max(0) / 60) as u64;
    minutes.min(MAX_TICK)
}

/// The tick of an import that follows one which stored `last_tick`: its own minute, or one
/// past the last when imports come faster than one a minute. Strictly increasing, so a later
/// import with the same usage always replaces an earlier one and its children.
pub fn next_tick(own: u64, last_tick: u64) -> u64 {
    own.max(last_tick.saturating_add(1)).min(MAX_TICK)
}

/// `row_version` = token total in the high bits, the import's tick in the low bits. A row
/// that shrank because Claude Code deleted old logs therefore never replaces the complete one,
/// while a re-import of the same usage (say, re-priced by a newer ccusage) does.
pub fn row_version(total_tokens: u64, tick: u64) -> u64 {
    let max_tokens = (1u64 << (64 - VERSION_TIME_BITS)) - 1;
    (total_tokens.min(max_tokens) << VERSION_TIME_BITS) | tick.min(MAX_TICK)
}

/// Converts a ccusage cost (USD, float) into the stored decimal, refusing values that are not
/// a cost: NaN, infinities, negatives and amounts no single machine can spend.
pub fn usd(cost: f64) -> Result<Nanodollars> {
    ensure!(cost.is_finite(), "cost {cost} is not a finite number");
    ensure!(cost >= 0.0, "cost {cost} is negative");
    if cost > MAX_USD {
        return Err(CostTooLarge(cost).into());
    }
    Ok((cost * NANOS_PER_USD).round() as Nanodollars)
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Tokens {
    pub input: u64,
    pub output: u64,
    pub cache_creation: u64,
    pub cache_read: u64,
}

impl Tokens {
    pub fn total(&self) -> Result<u64> {
        [self.output, self.cache_creation, self.cache_read]
            .iter()
            .try_fold(self.input, |sum, n| sum.checked_add(*n))
            .context("token counts add up to more than 2^64")
    }

    fn of_row(row: &UsageRow) -> Self {
        Tokens {
            input: row.input_tokens,
            output: row.output_tokens,
            cache_creation: row.cache_creation_tokens,
            cache_read: row.cache_read_tokens,
        }
    }

    pub fn add(&mut self, other: &Tokens) {
        self.input = self.input.saturating_add(other.input);
        self.output = self.output.saturating_add(other.output);
        self.cache_creation = self.cache_creation.saturating_add(other.cache_creation);
        self.cache_read = self.cache_read.saturating_add(other.cache_read);
    }
}

/// The table a row type is written to, and the `sql/import.sql` statement that reads back
/// what this machine stored in it.
pub trait Table: RowOwned + RowWrite + UsageRecord + Send + Sync {
    const TABLE: &'static str;
    const EXISTING: &'static str;
}

/// The content hash of a row: of the fields each row names in its `content`, so an
/// unchanged row hashes the same on every run (the import's stamp and version are left out).
fn hash_of(content: &impl Serialize) -> Result<u64> {
    let bytes = serde_json::to_vec(content).context("the row cannot be stored")?;
    Ok(xxhash_rust::xxh3::xxh3_64(&bytes))
}

/// What a classic row lends its child rows.
pub(crate) trait ClassicRow {
    fn version_and_models(&self) -> (u64, &[String]);
}

/// The usage columns every classic row has, read back as [`Tokens`].
macro_rules! usage_record {
    ($row:ty) => {
        impl UsageRecord for $row {
            fn tokens(&self) -> Tokens {
                Tokens {
                    input: self.input_tokens,
                    output: self.output_tokens,
                    cache_creation: self.cache_creation_tokens,
                    cache_read: self.cache_read_tokens,
                }
            }
            fn total_tokens(&self) -> u64 {
                self.total_tokens
            }
            fn content_hash(&self) -> u64 {
                self.content_hash
            }
        }
    };
}

/// A row of `ccusage_usage_daily`: one UTC day.
#[derive(Debug, Clone, PartialEq, Row, Serialize)]
pub struct DailyRow {
    pub machine_name: String,
    #[serde(with = "clickhouse::serde::chrono::date")]
    pub date: NaiveDate,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cache_creation_tokens: u64,
    pub cache_read_tokens: u64,
    pub total_tokens: u64,
    pub total_cost: Nanodollars,
    pub models_used: Vec<String>,
    pub ccusage_version: String,
    #[serde(with = "clickhouse::serde::chrono::datetime")]
    pub imported_at: DateTime<Utc>,
    pub row_version: u64,
    pub content_hash: u64,
    /// The day's model breakdown, one element per model in each `breakdown_*` field, sorted
    /// by model. Kept in the day's own row (as well as in `ccusage_model_breakdowns`) so the
    /// winning import and its models are one row: `ccusage_v_model_daily` reads them with
    /// `FINAL` instead of resolving the newest children of every day.
    pub breakdown_models: Vec<String>,
    pub breakdown_input_tokens: Vec<u64>,
    pub breakdown_output_tokens: Vec<u64>,
    pub breakdown_cache_creation_tokens: Vec<u64>,
    pub breakdown_cache_read_tokens: Vec<u64>,
    pub breakdown_total_tokens: Vec<u64>,
    pub breakdown_cost: Vec<Nanodollars>,
}

impl Table for DailyRow {
    const TABLE: &'static str = "ccusage_usage_daily";
    const EXISTING: &'static str = "existing_daily";
}

usage_record!(DailyRow);

impl ClassicRow for DailyRow {
    fn version_and_models(&self) -> (u64, &[String]) {
        (self.row_version, &self.models_used)
    }
}

impl DailyRow {
    pub(super) fn new(
        ctx: &Context,
        figures: Figures,
        date: NaiveDate,
        breakdown: &[ModelFigures],
    ) -> Result<Self> {
        let mut breakdown = breakdown.to_vec();
        breakdown.sort_by(|a, b| a.model_name.cmp(&b.model_name));
        let totals = breakdown
            .iter()
            .map(|b| b.tokens.total())
            .collect::<Result<Vec<_>>>()?;
        let of = |field: fn(&Tokens) -> u64| breakdown.iter().map(|b| field(&b.tokens)).collect();
        let mut row = DailyRow {
            machine_name: ctx.machine_name.clone(),
            date,
            input_tokens: figures.tokens.input,
            output_tokens: figures.tokens.output,
            cache_creation_tokens: figures.tokens.cache_creation,
            cache_read_tokens: figures.tokens.cache_read,
            total_tokens: figures.total_tokens,
            total_cost: figures.total_cost,
            models_used: figures.models_used,
            ccusage_version: ctx.ccusage_version.clone(),
            imported_at: ctx.imported_at,
            row_version: row_version(figures.total_tokens, ctx.tick),
            content_hash: 0,
            breakdown_models: breakdown.iter().map(|b| b.model_name.clone()).collect(),
            breakdown_input_tokens: of(|t| t.input),
            breakdown_output_tokens: of(|t| t.output),
            breakdown_cache_creation_tokens: of(|t| t.cache_creation),
            breakdown_cache_read_tokens: of(|t| t.cache_read),
            breakdown_total_tokens: totals,
            breakdown_cost: breakdown.iter().map(|b| b.cost).collect(),
        };
        let hash = hash_of(&row.content())?;
        row.content_hash = hash;
        Ok(row)
    }

    /// What the content hash covers: the key, the figures, the model breakdown and the
    /// ccusage version. A row stored before the breakdown was kept in it hashes differently,
    /// so the next import stores the day again, breakdown included, while its logs last.
    fn content(&self) -> impl Serialize + '_ {
        (
            (&self.machine_name, (&self.date)),
            self.tokens(),
            self.total_cost,
            &self.models_used,
            &self.ccusage_version,
            (
                &self.breakdown_models,
                &self.breakdown_input_tokens,
                &self.breakdown_output_tokens,
                &self.breakdown_cache_creation_tokens,
                &self.breakdown_cache_read_tokens,
                &self.breakdown_total_tokens,
                &self.breakdown_cost,
            ),
        )
    }
}

/// A row of `ccusage_usage_monthly`: one month, summed from the stored days (`derive::months`).
#[derive(Debug, Clone, PartialEq, Row, Serialize)]
pub struct MonthlyRow {
    pub machine_name: String,
    pub month: String,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cache_creation_tokens: u64,
    pub cache_read_tokens: u64,
    pub total_tokens: u64,
    pub total_cost: Nanodollars,
    pub models_used: Vec<String>,
    pub ccusage_version: String,
    #[serde(with = "clickhouse::serde::chrono::datetime")]
    pub imported_at: DateTime<Utc>,
    pub row_version: u64,
    pub content_hash: u64,
}

impl Table for MonthlyRow {
    const TABLE: &'static str = "ccusage_usage_monthly";
    const EXISTING: &'static str = "existing_monthly";
}

usage_record!(MonthlyRow);

impl ClassicRow for MonthlyRow {
    fn version_and_models(&self) -> (u64, &[String]) {
        (self.row_version, &self.models_used)
    }
}

impl MonthlyRow {
    pub(super) fn new(ctx: &Context, figures: Figures, month: String) -> Result<Self> {
        let mut row = MonthlyRow {
            machine_name: ctx.machine_name.clone(),
            month,
            input_tokens: figures.tokens.input,
            output_tokens: figures.tokens.output,
            cache_creation_tokens: figures.tokens.cache_creation,
            cache_read_tokens: figures.tokens.cache_read,
            total_tokens: figures.total_tokens,
            total_cost: figures.total_cost,
            models_used: figures.models_used,
            ccusage_version: ctx.ccusage_version.clone(),
            imported_at: ctx.imported_at,
            row_version: row_version(figures.total_tokens, ctx.tick),
            content_hash: 0,
        };
        let hash = hash_of(&row.content())?;
        row.content_hash = hash;
        Ok(row)
    }

    /// What the content hash covers: the key, the figures and the ccusage version.
    fn content(&self) -> impl Serialize + '_ {
        (
            &self.machine_name,
            (&self.month),
            self.tokens(),
            self.total_cost,
            &self.models_used,
            &self.ccusage_version,
        )
    }
}

/// A row of `ccusage_usage_sessions`: one session (ccusage 15–18: one project directory).
#[derive(Debug, Clone, PartialEq, Row, Serialize, serde::Deserialize)]
pub struct SessionRow {
    pub machine_name: String,
    pub session_id: String,
    pub project_path: String,
    /// The project as people read it (see `projects.rs`), in the run's privacy mode.
    pub project_name: String,
    #[serde(with = "clickhouse::serde::chrono::datetime::option")]
    pub first_activity: Option<DateTime<Utc>>,
    #[serde(with = "clickhouse::serde::chrono::datetime")]
    pub last_activity: DateTime<Utc>,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cache_creation_tokens: u64,
    pub cache_read_tokens: u64,
    pub total_tokens: u64,
    pub total_cost: Nanodollars,
    pub models_used: Vec<String>,
    pub ccusage_version: String,
    #[serde(with = "clickhouse::serde::chrono::datetime")]
    pub imported_at: DateTime<Utc>,
    pub row_version: u64,
    pub content_hash: u64,
    /// 1 on the copy `--rekey-projects` stores of a row it re-keyed: readers skip it.
    pub superseded: u8,
}

impl Table for SessionRow {
    const TABLE: &'static str = "ccusage_usage_sessions";
    const EXISTING: &'static str = "existing_sessions";
}

usage_record!(SessionRow);

impl ClassicRow for SessionRow {
    fn version_and_models(&self) -> (u64, &[String]) {
        (self.row_version, &self.models_used)
    }
}

impl SessionRow {
    pub(super) fn new(
        ctx: &Context,
        figures: Figures,
        session_id: String,
        project_path: String,
        first_activity: Option<DateTime<Utc>>,
        last_activity: DateTime<Utc>,
    ) -> Result<Self> {
        let project_name =
            ctx.projects
                .name_of(session_project(ctx.classic(), &session_id, &project_path));
        let mut row = SessionRow {
            machine_name: ctx.machine_name.clone(),
            session_id,
            project_path,
            project_name,
            first_activity,
            last_activity,
            input_tokens: figures.tokens.input,
            output_tokens: figures.tokens.output,
            cache_creation_tokens: figures.tokens.cache_creation,
            cache_read_tokens: figures.tokens.cache_read,
            total_tokens: figures.total_tokens,
            total_cost: figures.total_cost,
            models_used: figures.models_used,
            ccusage_version: ctx.ccusage_version.clone(),
            imported_at: ctx.imported_at,
            row_version: row_version(figures.total_tokens, ctx.tick),
            content_hash: 0,
            superseded: 0,
        };
        let hash = hash_of(&row.content())?;
        row.content_hash = hash;
        Ok(row)
    }

    /// Hashes the row again after its project fields were rewritten (`privacy.rs`).
    pub(super) fn rehash(&mut self) -> Result<()> {
        let hash = hash_of(&self.content())?;
        self.content_hash = hash;
        Ok(())
    }

    /// What the content hash covers: the key, the name, the figures and the ccusage version.
    fn content(&self) -> impl Serialize + '_ {
        (
            &self.machine_name,
            (
                &self.session_id,
                &self.project_path,
                &self.project_name,
                &self.first_activity,
                &self.last_activity,
            ),
            self.tokens(),
            self.total_cost,
            &self.models_used,
            &self.ccusage_version,
        )
    }
}

/// A row of `ccusage_usage_session_days`: one session's usage on one UTC day, from
/// `claude session --since D --until D` (ccusage 19+). A session's day only grows while it is
/// current and only shrinks after, so "more usage wins" keeps it, as for days; the session rows
/// are summed from it (`derive::sessions`). Keys and names are in the run's privacy mode.
#[derive(Debug, Clone, PartialEq, Row, Serialize, serde::Deserialize)]
pub struct SessionDayRow {
    pub machine_name: String,
    pub session_id: String,
    pub project_path: String,
    pub project_name: String,
    #[serde(with = "clickhouse::serde::chrono::date")]
    pub date: NaiveDate,
    #[serde(with = "clickhouse::serde::chrono::datetime::option")]
    pub first_activity: Option<DateTime<Utc>>,
    #[serde(with = "clickhouse::serde::chrono::datetime")]
    pub last_activity: DateTime<Utc>,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cache_creation_tokens: u64,
    pub cache_read_tokens: u64,
    pub total_tokens: u64,
    pub total_cost: Nanodollars,
    pub models_used: Vec<String>,
    pub ccusage_version: String,
    #[serde(with = "clickhouse::serde::chrono::datetime")]
    pub imported_at: DateTime<Utc>,
    pub row_version: u64,
    pub content_hash: u64,
    pub superseded: u8,
}

impl Table for SessionDayRow {
    const TABLE: &'static str = "ccusage_usage_session_days";
    const EXISTING: &'static str = "existing_session_days";
}

usage_record!(SessionDayRow);

impl ClassicRow for SessionDayRow {
    fn version_and_models(&self) -> (u64, &[String]) {
        (self.row_version, &self.models_used)
    }
}

impl SessionDayRow {
    /// Hashes the row again after its fields were rewritten (`rekey.rs`).
    pub(super) fn rehash(&mut self) -> Result<()> {
        let hash = hash_of(&self.content())?;
        self.content_hash = hash;
        Ok(())
    }

    /// What the content hash covers: the key, the name, the figures and the ccusage version.
    fn content(&self) -> impl Serialize + '_ {
        (
            &self.machine_name,
            (
                &self.session_id,
                &self.project_path,
                &self.project_name,
                self.date,
                &self.first_activity,
                &self.last_activity,
            ),
            self.tokens(),
            self.total_cost,
            &self.models_used,
            &self.ccusage_version,
        )
    }
}

/// The key text of a session's day: the date first (fixed width), then the session's key.
pub fn session_day_key(date: NaiveDate, project_path: &str, session_id: &str) -> String {
    format!("{date} {}", session_key(project_path, session_id))
}

/// One session's row of a one-day session report, as a row of that day (same figures, keys
/// and names; its children re-parented to the session's day).
pub fn session_day(record: &Record<SessionRow>, date: NaiveDate) -> Result<Record<SessionDayRow>> {
    let s = &record.row;
    let mut row = SessionDayRow {
        machine_name: s.machine_name.clone(),
        session_id: s.session_id.clone(),
        project_path: s.project_path.clone(),
        project_name: s.project_name.clone(),
        date,
        first_activity: s.first_activity,
        last_activity: s.last_activity,
        input_tokens: s.input_tokens,
        output_tokens: s.output_tokens,
        cache_creation_tokens: s.cache_creation_tokens,
        cache_read_tokens: s.cache_read_tokens,
        total_tokens: s.total_tokens,
        total_cost: s.total_cost,
        models_used: s.models_used.clone(),
        ccusage_version: s.ccusage_version.clone(),
        imported_at: s.imported_at,
        row_version: s.row_version,
        content_hash: 0,
        superseded: 0,
    };
    row.rehash()?;
    let key = session_day_key(date, &s.project_path, &s.session_id);
    let mut breakdowns = record.breakdowns.clone();
    let mut models = record.models.clone();
    for b in &mut breakdowns {
        b.parent_kind = ParentKind::SessionDay.as_str().to_owned();
        b.parent_key = key.clone();
    }
    for m in &mut models {
        m.parent_kind = ParentKind::SessionDay.as_str().to_owned();
        m.parent_key = key.clone();
    }
    Ok(Record {
        key,
        row,
        breakdowns,
        models,
    })
}

/// A row of `ccusage_usage_projects_daily`: one project on one day.
#[derive(Debug, Clone, PartialEq, Row, Serialize, serde::Deserialize)]
pub struct ProjectDailyRow {
    pub machine_name: String,
    pub project: String,
    /// The project as people read it (see `projects.rs`), in the run's privacy mode.
    pub project_name: String,
    #[serde(with = "clickhouse::serde::chrono::date")]
    pub date: NaiveDate,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cache_creation_tokens: u64,
    pub cache_read_tokens: u64,
    pub total_tokens: u64,
    pub total_cost: Nanodollars,
    pub models_used: Vec<String>,
    pub ccusage_version: String,
    #[serde(with = "clickhouse::serde::chrono::datetime")]
    pub imported_at: DateTime<Utc>,
    pub row_version: u64,
    pub content_hash: u64,
    /// 1 on the copy `--rekey-projects` stores of a row it re-keyed: readers skip it.
    pub superseded: u8,
}

impl Table for ProjectDailyRow {
    const TABLE: &'static str = "ccusage_usage_projects_daily";
    const EXISTING: &'static str = "existing_projects_daily";
}

usage_record!(ProjectDailyRow);

impl ClassicRow for ProjectDailyRow {
    fn version_and_models(&self) -> (u64, &[String]) {
        (self.row_version, &self.models_used)
    }
}

impl ProjectDailyRow {
    pub(super) fn new(
        ctx: &Context,
        figures: Figures,
        project: String,
        date: NaiveDate,
    ) -> Result<Self> {
        let mut row = ProjectDailyRow {
            machine_name: ctx.machine_name.clone(),
            project_name: ctx.projects.name_of(&project),
            project,
            date,
            input_tokens: figures.tokens.input,
            output_tokens: figures.tokens.output,
            cache_creation_tokens: figures.tokens.cache_creation,
            cache_read_tokens: figures.tokens.cache_read,
            total_tokens: figures.total_tokens,
            total_cost: figures.total_cost,
            models_used: figures.models_used,
            ccusage_version: ctx.ccusage_version.clone(),
            imported_at: ctx.imported_at,
            row_version: row_version(figures.total_tokens, ctx.tick),
            content_hash: 0,
            superseded: 0,
        };
        let hash = hash_of(&row.content())?;
        row.content_hash = hash;
        Ok(row)
    }

    /// Hashes the row again after its project fields were rewritten (`privacy.rs`).
    pub(super) fn rehash(&mut self) -> Result<()> {
        let hash = hash_of(&self.content())?;
        self.content_hash = hash;
        Ok(())
    }

    /// What the content hash covers: the key, the name, the figures and the ccusage version.
    fn content(&self) -> impl Serialize + '_ {
        (
            &self.machine_name,
            (&self.project, &self.project_name, &self.date),
            self.tokens(),
            self.total_cost,
            &self.models_used,
            &self.ccusage_version,
        )
    }
}

/// A row of `ccusage_usage_agents_daily`: one agent on one day (ccusage 19+).
#[derive(Debug, Clone, PartialEq, Row, Serialize)]
pub struct AgentDailyRow {
    pub machine_name: String,
    pub agent: String,
    #[serde(with = "clickhouse::serde::chrono::date")]
    pub date: NaiveDate,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cache_creation_tokens: u64,
    pub cache_read_tokens: u64,
    pub total_tokens: u64,
    pub total_cost: Nanodollars,
    pub models_used: Vec<String>,
    pub ccusage_version: String,
    #[serde(with = "clickhouse::serde::chrono::datetime")]
    pub imported_at: DateTime<Utc>,
    pub row_version: u64,
    pub content_hash: u64,
}

impl Table for AgentDailyRow {
    const TABLE: &'static str = "ccusage_usage_agents_daily";
    const EXISTING: &'static str = "existing_agents_daily";
}

usage_record!(AgentDailyRow);

impl ClassicRow for AgentDailyRow {
    fn version_and_models(&self) -> (u64, &[String]) {
        (self.row_version, &self.models_used)
    }
}

impl AgentDailyRow {
    pub(crate) fn new(
        ctx: &Context,
        figures: Figures,
        agent: String,
        date: NaiveDate,
    ) -> Result<Self> {
        let mut row = AgentDailyRow {
            machine_name: ctx.machine_name.clone(),
            agent,
            date,
            input_tokens: figures.tokens.input,
            output_tokens: figures.tokens.output,
            cache_creation_tokens: figures.tokens.cache_creation,
            cache_read_tokens: figures.tokens.cache_read,
            total_tokens: figures.total_tokens,
            total_cost: figures.total_cost,
            models_used: figures.models_used,
            ccusage_version: ctx.ccusage_version.clone(),
            imported_at: ctx.imported_at,
            row_version: row_version(figures.total_tokens, ctx.tick),
            content_hash: 0,
        };
        let hash = hash_of(&row.content())?;
        row.content_hash = hash;
        Ok(row)
    }

    /// What the content hash covers: the key, the figures and the ccusage version.
    fn content(&self) -> impl Serialize + '_ {
        (
            &self.machine_name,
            (&self.agent, &self.date),
            self.tokens(),
            self.total_cost,
            &self.models_used,
            &self.ccusage_version,
        )
    }
}

/// A row of `ccusage_usage_blocks`: one 5-hour billing block (gaps are not stored).
#[derive(Debug, Clone, PartialEq, Row, Serialize)]
pub struct BlockRow {
    pub machine_name: String,
    pub block_id: String,
    #[serde(with = "clickhouse::serde::chrono::datetime")]
    pub start_time: DateTime<Utc>,
    #[serde(with = "clickhouse::serde::chrono::datetime")]
    pub end_time: DateTime<Utc>,
    #[serde(with = "clickhouse::serde::chrono::datetime::option")]
    pub actual_end_time: Option<DateTime<Utc>>,
    pub is_active: u8,
    pub entries: u64,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cache_creation_tokens: u64,
    pub cache_read_tokens: u64,
    pub total_tokens: u64,
    pub cost_usd: Nanodollars,
    pub models: Vec<String>,
    pub burn_rate_cost_per_hour: f64,
    pub burn_rate_tokens_per_minute: f64,
    pub projected_total_tokens: u64,
    pub projected_total_cost: Nanodollars,
    pub projected_remaining_minutes: u64,
    pub ccusage_version: String,
    #[serde(with = "clickhouse::serde::chrono::datetime")]
    pub imported_at: DateTime<Utc>,
    pub row_version: u64,
    pub content_hash: u64,
    /// 1 where ccusage printed a burn rate: the zeros above are then no figure, not a rate
    /// of zero (ccusage prints none for a block with one entry: too early to tell).
    pub has_burn_rate: u8,
    /// 1 where ccusage printed a projection.
    pub has_projection: u8,
}

impl Table for BlockRow {
    const TABLE: &'static str = "ccusage_usage_blocks";
    const EXISTING: &'static str = "existing_blocks";
}

usage_record!(BlockRow);

impl BlockRow {
    /// What the content hash covers. The burn rate and the projection are left out: they move
    /// with the clock, not with usage, so an active block whose usage did not change is not
    /// written again.
    fn content(&self) -> impl Serialize + '_ {
        (
            &self.machine_name,
            &self.block_id,
            (self.start_time, self.end_time, self.actual_end_time),
            (self.is_active, self.entries),
            self.tokens(),
            self.cost_usd,
            &self.models,
            &self.ccusage_version,
            (self.has_burn_rate, self.has_projection),
        )
    }
}

/// A row of `ccusage_usage_hours`: one UTC hour with usage, from ccusage's blocks one hour
/// long. An hour keeps its identity when old logs are deleted (like a day), so the version
/// rule "more usage wins" keeps it whole; the 5-hour blocks are derived from these rows.
#[derive(Debug, Clone, PartialEq, Row, Serialize)]
pub struct HourRow {
    pub machine_name: String,
    #[serde(with = "clickhouse::serde::chrono::datetime")]
    pub hour: DateTime<Utc>,
    /// The hour's last entry (ccusage's `actualEndTime`).
    #[serde(with = "clickhouse::serde::chrono::datetime")]
    pub last_entry: DateTime<Utc>,
    pub entries: u64,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cache_creation_tokens: u64,
    pub cache_read_tokens: u64,
    pub total_tokens: u64,
    pub total_cost: Nanodollars,
    pub models_used: Vec<String>,
    pub ccusage_version: String,
    #[serde(with = "clickhouse::serde::chrono::datetime")]
    pub imported_at: DateTime<Utc>,
    pub row_version: u64,
    pub content_hash: u64,
}

impl Table for HourRow {
    const TABLE: &'static str = "ccusage_usage_hours";
    const EXISTING: &'static str = "existing_hours";
}

usage_record!(HourRow);

impl HourRow {
    fn content(&self) -> impl Serialize + '_ {
        (
            (&self.machine_name, self.hour, self.last_entry, self.entries),
            self.tokens(),
            self.total_cost,
            &self.models_used,
            &self.ccusage_version,
        )
    }
}

/// The key of an hour or a derived block: its start as `toString` prints a `DateTime('UTC')`.
pub fn time_key(time: DateTime<Utc>) -> String {
    time.format("%Y-%m-%d %H:%M:%S").to_string()
}

/// A row of `ccusage_usage_derived_blocks`: a 5-hour block summed from the stored hours
/// (`derive::blocks`), keyed by its start. Rows whose start is no longer a block start (a
/// back-dated hour moved the chain) are stored once more with `superseded` = 1.
#[derive(Debug, Clone, PartialEq, Row, Serialize)]
pub struct DerivedBlockRow {
    pub machine_name: String,
    #[serde(with = "clickhouse::serde::chrono::datetime")]
    pub start_time: DateTime<Utc>,
    #[serde(with = "clickhouse::serde::chrono::datetime")]
    pub end_time: DateTime<Utc>,
    #[serde(with = "clickhouse::serde::chrono::datetime")]
    pub last_entry: DateTime<Utc>,
    pub hours: u64,
    pub entries: u64,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cache_creation_tokens: u64,
    pub cache_read_tokens: u64,
    pub total_tokens: u64,
    pub cost_usd: Nanodollars,
    pub models: Vec<String>,
    pub superseded: u8,
    pub ccusage_version: String,
    #[serde(with = "clickhouse::serde::chrono::datetime")]
    pub imported_at: DateTime<Utc>,
    pub row_version: u64,
    pub content_hash: u64,
}

impl Table for DerivedBlockRow {
    const TABLE: &'static str = "ccusage_usage_derived_blocks";
    const EXISTING: &'static str = "existing_derived_blocks";
}

usage_record!(DerivedBlockRow);

impl DerivedBlockRow {
    pub(super) fn rehash(mut self) -> Result<Self> {
        self.content_hash = hash_of(&(
            (&self.machine_name, self.start_time, self.end_time),
            (self.last_entry, self.hours, self.entries),
            self.tokens(),
            self.cost_usd,
            &self.models,
            (&self.ccusage_version, self.superseded),
        ))?;
        Ok(self)
    }
}

/// A row of `ccusage_machines`: what the readers must know about a machine's current import.
#[derive(Debug, Clone, PartialEq, Row, Serialize)]
pub struct MachineRow {
    pub machine_name: String,
    pub session_scheme: String,
    /// `--projects` of the import that wrote it: a run in another mode is refused.
    pub project_mode: String,
    /// Which key hashed the rows: a run with another key is refused.
    pub key_fingerprint: String,
    pub ccusage_version: String,
    #[serde(with = "clickhouse::serde::chrono::datetime")]
    pub imported_at: DateTime<Utc>,
    pub row_version: u64,
}

impl MachineRow {
    pub fn new(ctx: &Context, session_scheme: &str, project_mode: &str) -> MachineRow {
        MachineRow {
            machine_name: ctx.machine_name.clone(),
            session_scheme: session_scheme.to_owned(),
            project_mode: project_mode.to_owned(),
            key_fingerprint: ctx.projects.fingerprint(),
            ccusage_version: ctx.ccusage_version.clone(),
            imported_at: ctx.imported_at,
            row_version: ctx.tick,
        }
    }
}

/// A row of `ccusage_model_breakdowns`.
#[derive(Debug, Clone, PartialEq, Row, Serialize)]
pub struct ModelBreakdownRow {
    pub machine_name: String,
    pub parent_kind: String,
    pub parent_key: String,
    pub model_name: String,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cache_creation_tokens: u64,
    pub cache_read_tokens: u64,
    pub total_tokens: u64,
    pub cost: Nanodollars,
    pub parent_version: u64,
    pub ccusage_version: String,
    #[serde(with = "clickhouse::serde::chrono::datetime")]
    pub imported_at: DateTime<Utc>,
}

/// A row of `ccusage_models_used`.
#[derive(Debug, Clone, PartialEq, Row, Serialize)]
pub struct ModelUsedRow {
    pub machine_name: String,
    pub parent_kind: String,
    pub parent_key: String,
    pub model_name: String,
    pub parent_version: u64,
    pub ccusage_version: String,
    #[serde(with = "clickhouse::serde::chrono::datetime")]
    pub imported_at: DateTime<Utc>,
}

/// The parent kinds child rows refer to.
#[derive(Debug, Clone, Copy)]
pub(crate) enum ParentKind {
    Daily,
    Monthly,
    Session,
    Block,
    ProjectDaily,
    AgentDaily,
    SessionDay,
}

impl ParentKind {
    fn as_str(self) -> &'static str {
        match self {
            ParentKind::Daily => "daily",
            ParentKind::Monthly => "monthly",
            ParentKind::Session => "session",
            ParentKind::Block => "block",
            ParentKind::ProjectDaily => "project_daily",
            ParentKind::AgentDaily => "agent_daily",
            ParentKind::SessionDay => "session_day",
        }
    }
}

/// The figures every classic report row has, checked and converted once.
pub(crate) struct Figures {
    pub tokens: Tokens,
    pub total_tokens: u64,
    pub total_cost: Nanodollars,
    pub models_used: Vec<String>,
}

impl Figures {
    pub(crate) fn check(
        tokens: Tokens,
        total_cost: f64,
        models_used: &[String],
    ) -> Result<Figures> {
        Ok(Figures {
            total_tokens: tokens.total()?,
            tokens,
            total_cost: usd(total_cost).context("totalCost")?,
            models_used: sorted_models(models_used),
        })
    }

    fn of_row(row: &UsageRow) -> Result<Figures> {
        Figures::check(Tokens::of_row(row), row.total_cost, &row.models_used)
    }
}

/// Model lists are sets; ccusage's order varies between runs and versions, so sort them to
/// keep the content hash stable.
fn sorted_models(models: &[String]) -> Vec<String> {
    let mut models = models.to_vec();
    models.sort();
    models.dedup();
    models
}

/// One model's share of a row, checked and converted once.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelFigures {
    pub model_name: String,
    pub tokens: Tokens,
    pub cost: Nanodollars,
}

impl ModelFigures {
    fn of_breakdown(b: &ModelBreakdown) -> Result<ModelFigures> {
        Ok(ModelFigures {
            model_name: b.model_name.clone(),
            tokens: Tokens {
                input: b.input_tokens,
                output: b.output_tokens,
                cache_creation: b.cache_creation_tokens,
                cache_read: b.cache_read_tokens,
            },
            cost: usd(b.cost).with_context(|| format!("cost of model {}", b.model_name))?,
        })
    }
}

pub(super) fn children<P>(
    ctx: &Context,
    kind: ParentKind,
    key: &str,
    row: P,
    parent_version: u64,
    models: &[String],
    breakdowns: &[ModelFigures],
) -> Result<Record<P>> {
    let breakdown_rows = breakdowns
        .iter()
        .map(|b| {
            Ok(ModelBreakdownRow {
                machine_name: ctx.machine_name.clone(),
                parent_kind: kind.as_str().to_owned(),
                parent_key: key.to_owned(),
                model_name: b.model_name.clone(),
                input_tokens: b.tokens.input,
                output_tokens: b.tokens.output,
                cache_creation_tokens: b.tokens.cache_creation,
                cache_read_tokens: b.tokens.cache_read,
                total_tokens: b.tokens.total()?,
                cost: b.cost,
                parent_version,
                ccusage_version: ctx.ccusage_version.clone(),
                imported_at: ctx.imported_at,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let model_rows = models
        .iter()
        .map(|model| ModelUsedRow {
            machine_name: ctx.machine_name.clone(),
            parent_kind: kind.as_str().to_owned(),
            parent_key: key.to_owned(),
            model_name: model.clone(),
            parent_version,
            ccusage_version: ctx.ccusage_version.clone(),
            imported_at: ctx.imported_at,
        })
        .collect();
    Ok(Record {
        key: key.to_owned(),
        row,
        breakdowns: breakdown_rows,
        models: model_rows,
    })
}

/// A classic row with the child rows that belong to exactly this version of it.
pub(crate) fn classic_record<R: ClassicRow>(
    ctx: &Context,
    kind: ParentKind,
    key: String,
    row: R,
    breakdowns: &[ModelBreakdown],
) -> Result<Record<R>> {
    let (version, models) = row.version_and_models();
    let models = models.to_vec();
    let breakdowns = model_figures(breakdowns)?;
    children(ctx, kind, &key, row, version, &models, &breakdowns)
}

fn model_figures(breakdowns: &[ModelBreakdown]) -> Result<Vec<ModelFigures>> {
    breakdowns.iter().map(ModelFigures::of_breakdown).collect()
}

fn required<'a>(value: &'a Option<String>, field: &str) -> Result<&'a str> {
    value
        .as_deref()
        .with_context(|| format!("missing field `{field}`"))
}

/// ClickHouse's `Date` and `DateTime` (both used, for 18.16) start at 1970 and end in 2149
/// and 2106; a time outside that cannot be stored, so it fails the report instead.
const FIRST_DAY: NaiveDate = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap();
const LAST_DAY: NaiveDate = NaiveDate::from_ymd_opt(2105, 12, 31).unwrap();

pub(crate) fn parse_date(text: &str) -> Result<NaiveDate> {
    let date = NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .with_context(|| format!("`{text}` is not a YYYY-MM-DD date"))?;
    ensure!(
        (FIRST_DAY..=LAST_DAY).contains(&date),
        "`{text}` is outside the dates ClickHouse stores ({FIRST_DAY} to {LAST_DAY})"
    );
    Ok(date)
}

/// ccusage prints activity times as a date (up to 20.0.7) or an RFC 3339 timestamp (20.0.8+).
/// A bare date is taken as midnight UTC.
fn parse_time(text: &str) -> Result<DateTime<Utc>> {
    if let Ok(time) = DateTime::parse_from_rfc3339(text) {
        let time = time.with_timezone(&Utc);
        parse_date(&time.date_naive().to_string())
            .with_context(|| format!("`{text}` cannot be stored"))?;
        return Ok(time);
    }
    Ok(parse_date(text)
        .with_context(|| format!("`{text}` is neither a timestamp nor a date"))?
        .and_hms_opt(0, 0, 0)
        .expect("midnight exists")
        .and_utc())
}

/// Maps rows one by one, naming the failing row in the error.
pub(crate) fn each<T, R>(items: &[T], what: &str, map: impl Fn(&T) -> Result<R>) -> Result<Vec<R>> {
    items
        .iter()
        .enumerate()
        .map(|(i, item)| map(item).with_context(|| format!("{what} {}", i + 1)))
        .collect()
}

pub fn map_daily(report: Option<&DailyReport>, ctx: &Context) -> Result<Vec<Record<DailyRow>>> {
    let rows = report.map_or(&[][..], |r| &r.daily[..]);
    each(rows, "daily row", |src| {
        let date = parse_date(required(&src.date, "date")?)?;
        let breakdown = model_figures(&src.model_breakdowns)?;
        let row = DailyRow::new(ctx, Figures::of_row(src)?, date, &breakdown)?;
        let (version, models) = (row.row_version, row.models_used.clone());
        let key = date.to_string();
        children(
            ctx,
            ParentKind::Daily,
            &key,
            row,
            version,
            &models,
            &breakdown,
        )
    })
}

pub fn map_sessions(
    report: Option<&SessionReport>,
    ctx: &Context,
) -> Result<Vec<Record<SessionRow>>> {
    let rows = report.map_or(&[][..], |r| &r.sessions[..]);
    each(rows, "session", |src| {
        let session_id = required(&src.session_id, "sessionId")?.to_owned();
        ensure!(
            !session_id.is_empty() && !session_id.contains('/'),
            "sessionId {session_id:?} is not a file name"
        );
        let project_path = src.project_path.clone().unwrap_or_default();
        let last_activity = parse_time(required(&src.last_activity, "lastActivity")?)?;
        let first_activity = src.first_activity.as_deref().map(parse_time).transpose()?;
        let key = session_key(&project_path, &session_id);
        let row = SessionRow::new(
            ctx,
            Figures::of_row(src)?,
            session_id,
            project_path,
            first_activity,
            last_activity,
        )?;
        classic_record(ctx, ParentKind::Session, key, row, &src.model_breakdowns)
    })
}

/// The key text of a session. Session ids are file names, so the last `/` splits the key
/// unambiguously; ccusage 15-18 reuse the id `subagents` in every project.
pub fn session_key(project_path: &str, session_id: &str) -> String {
    format!("{project_path}/{session_id}")
}

/// The key text of a project-day; the date comes first because its width is fixed, which
/// keeps the key unambiguous whatever characters the project name holds.
pub fn project_day_key(date: NaiveDate, project: &str) -> String {
    format!("{date} {project}")
}

pub fn map_projects_daily(
    report: Option<&ProjectsReport>,
    ctx: &Context,
) -> Result<Vec<Record<ProjectDailyRow>>> {
    let Some(report) = report else {
        return Ok(Vec::new());
    };
    let mut records = Vec::new();
    for (project, rows) in &report.projects {
        let mapped = each(rows, &format!("project {project:?} row"), |src| {
            let date = parse_date(required(&src.date, "date")?)?;
            let row = ProjectDailyRow::new(ctx, Figures::of_row(src)?, project.clone(), date)?;
            let key = project_day_key(date, project);
            classic_record(
                ctx,
                ParentKind::ProjectDaily,
                key,
                row,
                &src.model_breakdowns,
            )
        })?;
        records.extend(mapped);
    }
    Ok(records)
}

/// The key text of an agent-day, built like [`project_day_key`].
pub fn agent_day_key(date: NaiveDate, agent: &str) -> String {
    format!("{date} {agent}")
}

pub fn map_blocks(report: Option<&BlocksReport>, ctx: &Context) -> Result<Vec<Record<BlockRow>>> {
    let blocks = report.map_or(&[][..], |r| &r.blocks[..]);
    let mapped = each(blocks, "block", |src| {
        if src.is_gap {
            return Ok(None);
        }
        map_block(src, ctx).map(Some)
    })?;
    Ok(mapped.into_iter().flatten().collect())
}

fn map_block(src: &Block, ctx: &Context) -> Result<Record<BlockRow>> {
    ensure!(!src.id.is_empty(), "empty block id");
    let tokens = Tokens {
        input: src.token_counts.input_tokens,
        output: src.token_counts.output_tokens,
        cache_creation: src.token_counts.cache_creation_input_tokens,
        cache_read: src.token_counts.cache_read_input_tokens,
    };
    let has_burn_rate = u8::from(src.burn_rate.is_some());
    let has_projection = u8::from(src.projection.is_some());
    let burn = src.burn_rate.clone().unwrap_or(super::json::BurnRate {
        cost_per_hour: 0.0,
        tokens_per_minute: 0.0,
    });
    ensure!(
        burn.cost_per_hour.is_finite() && burn.tokens_per_minute.is_finite(),
        "burnRate is not a finite number"
    );
    let (projected_tokens, projected_cost, remaining) = match &src.projection {
        Some(p) => (
            non_negative_whole(p.total_tokens).context("projection.totalTokens")?,
            usd(p.total_cost).context("projection.totalCost")?,
            non_negative_whole(p.remaining_minutes).context("projection.remainingMinutes")?,
        ),
        None => (0, 0, 0),
    };
    let models = sorted_models(&src.models);
    let total_tokens = tokens.total()?;
    let mut row = BlockRow {
        machine_name: ctx.machine_name.clone(),
        block_id: src.id.clone(),
        start_time: parse_time(&src.start_time).context("startTime")?,
        end_time: parse_time(&src.end_time).context("endTime")?,
        actual_end_time: src
            .actual_end_time
            .as_deref()
            .map(parse_time)
            .transpose()
            .context("actualEndTime")?,
        is_active: u8::from(src.is_active),
        entries: src.entries,
        input_tokens: tokens.input,
        output_tokens: tokens.output,
        cache_creation_tokens: tokens.cache_creation,
        cache_read_tokens: tokens.cache_read,
        total_tokens,
        cost_usd: usd(src.cost_usd).context("costUSD")?,
        models: models.clone(),
        burn_rate_cost_per_hour: burn.cost_per_hour,
        burn_rate_tokens_per_minute: burn.tokens_per_minute,
        projected_total_tokens: projected_tokens,
        projected_total_cost: projected_cost,
        projected_remaining_minutes: remaining,
        ccusage_version: ctx.ccusage_version.clone(),
        imported_at: ctx.imported_at,
        row_version: row_version(total_tokens, ctx.tick),
        content_hash: 0,
        has_burn_rate,
        has_projection,
    };
    let hash = hash_of(&row.content())?;
    row.content_hash = hash;
    let version = row.row_version;
    children(ctx, ParentKind::Block, &src.id, row, version, &models, &[])
}

/// ccusage's blocks one hour long (`blocks --session-length 1`): one row per hour with usage.
/// The models are kept in the row only (no child rows: nothing reads an hour's models apart).
pub fn map_hours(report: Option<&BlocksReport>, ctx: &Context) -> Result<Vec<Record<HourRow>>> {
    let blocks = report.map_or(&[][..], |r| &r.blocks[..]);
    let mapped = each(blocks, "hour", |src| {
        if src.is_gap {
            return Ok(None);
        }
        map_hour(src, ctx).map(Some)
    })?;
    Ok(mapped.into_iter().flatten().collect())
}

fn map_hour(src: &Block, ctx: &Context) -> Result<Record<HourRow>> {
    use chrono::Timelike as _;
    let hour = parse_time(&src.start_time).context("startTime")?;
    // Blocks one hour long start on the hour; any other start is not this report.
    ensure!(
        hour.minute() == 0 && hour.second() == 0 && hour.nanosecond() == 0,
        "startTime `{}` is not on the hour: not a report of blocks one hour long",
        src.start_time
    );
    let last_entry = match src.actual_end_time.as_deref() {
        Some(text) => parse_time(text).context("actualEndTime")?,
        None => hour,
    };
    let tokens = Tokens {
        input: src.token_counts.input_tokens,
        output: src.token_counts.output_tokens,
        cache_creation: src.token_counts.cache_creation_input_tokens,
        cache_read: src.token_counts.cache_read_input_tokens,
    };
    let figures = Figures::check(tokens, src.cost_usd, &src.models)?;
    let mut row = HourRow {
        machine_name: ctx.machine_name.clone(),
        hour,
        last_entry,
        entries: src.entries,
        input_tokens: tokens.input,
        output_tokens: tokens.output,
        cache_creation_tokens: tokens.cache_creation,
        cache_read_tokens: tokens.cache_read,
        total_tokens: figures.total_tokens,
        total_cost: figures.total_cost,
        models_used: figures.models_used,
        ccusage_version: ctx.ccusage_version.clone(),
        imported_at: ctx.imported_at,
        row_version: row_version(figures.total_tokens, ctx.tick),
        content_hash: 0,
    };
    let hash = hash_of(&row.content())?;
    row.content_hash = hash;
    Ok(Record {
        key: time_key(hour),
        row,
        breakdowns: Vec::new(),
        models: Vec::new(),
    })
}

fn non_negative_whole(value: f64) -> Result<u64> {
    if !value.is_finite() || value < 0.0 || value > u64::MAX as f64 {
        bail!("{value} is not a non-negative number");
    }
    Ok(value.round() as u64)
}

/// The fixture tests' helpers are shared with the report files' tests (`reports/`).
#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::transform::derive::{months, StoredDay};
    use crate::transform::json::parse_report;
    use serde_json::Value;
    use std::path::PathBuf;

    pub(crate) fn fixture(version: &str, file: &str) -> Vec<u8> {
        let path: PathBuf = [
            env!("CARGO_MANIFEST_DIR"),
            "tests/fixtures/ccusage",
            version,
            file,
        ]
        .iter()
        .collect();
        std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    pub(crate) fn expected() -> Value {
        serde_json::from_slice(&fixture("", "expected-summary.json")).unwrap()
    }

    /// ccusage up to 18 keeps the first copy of a repeated API response, 19+ the largest.
    pub(crate) fn truth_for(version: &str) -> Value {
        let policy = if version.starts_with("18.") {
            "firstWins"
        } else {
            "maxWins"
        };
        expected()[policy].clone()
    }

    pub(crate) fn ctx() -> Context {
        Context::new("laptop", "20.0.24", "2026-11-22T18:00:00Z".parse().unwrap())
    }

    pub(crate) fn tokens_of<R: UsageRecord>(records: &[Record<R>]) -> Tokens {
        let mut sum = Tokens::default();
        for record in records {
            sum.add(&record.row.tokens());
        }
        sum
    }

    pub(crate) fn truth_tokens(v: &Value) -> Tokens {
        Tokens {
            input: v["input"].as_u64().unwrap(),
            output: v["output"].as_u64().unwrap(),
            cache_creation: v["cacheCreate"].as_u64().unwrap(),
            cache_read: v["cacheRead"].as_u64().unwrap(),
        }
    }

    /// The classic (Claude-only) file names of each captured version.
    fn classic(version: &str, report: &str) -> String {
        if version.starts_with("18.") {
            format!("{report}.json")
        } else {
            format!("claude-{report}.json")
        }
    }

    const VERSIONS: [&str; 2] = ["18.0.11", "20.0.24"];

    #[test]
    fn daily_rows_match_the_ground_truth_day_by_day() {
        for version in VERSIONS {
            let truth = truth_for(version);
            let report = parse_report(&fixture(version, &classic(version, "daily"))).unwrap();
            let records = map_daily(report.as_ref(), &ctx()).unwrap();
            assert_eq!(tokens_of(&records), truth_tokens(&truth["totals"]));
            for record in &records {
                let day = &truth["daily"][record.key.as_str()];
                assert_eq!(
                    record.row.tokens(),
                    truth_tokens(day),
                    "{version} {}",
                    record.key
                );
                let models: Vec<String> = serde_json::from_value(day["models"].clone()).unwrap();
                assert_eq!(record.row.models_used, models);
                let breakdown_total: u64 = record.breakdowns.iter().map(|b| b.total_tokens).sum();
                assert_eq!(breakdown_total, record.row.total_tokens);
            }
        }
    }

    #[test]
    fn monthly_session_and_project_rows_add_up_to_the_same_totals() {
        for version in VERSIONS {
            let want = truth_tokens(&truth_for(version)["totals"]);
            let daily = parse_report(&fixture(version, &classic(version, "daily"))).unwrap();
            let daily = map_daily(daily.as_ref(), &ctx()).unwrap();
            let days: Vec<StoredDay> = daily.iter().map(StoredDay::of_record).collect();
            let monthly = months(&days, &ctx()).unwrap();
            assert_eq!(tokens_of(&monthly), want, "{version} monthly");

            let sessions = parse_report(&fixture(version, &classic(version, "session"))).unwrap();
            let sessions = map_sessions(sessions.as_ref(), &ctx()).unwrap();
            assert_eq!(tokens_of(&sessions), want, "{version} sessions");

            let projects =
                parse_report(&fixture(version, &classic(version, "daily-instances"))).unwrap();
            let projects = map_projects_daily(projects.as_ref(), &ctx()).unwrap();
            assert_eq!(tokens_of(&projects), want, "{version} projects");
            let by_project = &truth_for(version)["dailyByProject"];
            for record in &projects {
                let key = format!("{}|{}", record.row.date, record.row.project);
                assert_eq!(
                    record.row.tokens(),
                    truth_tokens(&by_project[&key]),
                    "{key}"
                );
            }
        }
    }

    #[test]
    fn blocks_add_up_and_gaps_are_left_out() {
        for version in VERSIONS {
            let file = if version.starts_with("18.") {
                "blocks.json"
            } else {
                "claude-blocks.json"
            };
            let report: Option<BlocksReport> = parse_report(&fixture(version, file)).unwrap();
            let gaps = report
                .as_ref()
                .unwrap()
                .blocks
                .iter()
                .filter(|b| b.is_gap)
                .count();
            let records = map_blocks(report.as_ref(), &ctx()).unwrap();
            assert!(gaps > 0);
            assert_eq!(records.len() + gaps, report.as_ref().unwrap().blocks.len());
            let want = truth_tokens(&truth_for(version)["totals"]);
            assert_eq!(tokens_of(&records), want, "{version} blocks");
            let active: Vec<_> = records.iter().filter(|r| r.row.is_active == 1).collect();
            assert_eq!(active.len(), 1);
            assert!(active[0].row.projected_total_tokens > 0);
        }
    }

    #[test]
    fn session_times_are_dates_in_old_versions_and_timestamps_in_new_ones() {
        let old = parse_report(&fixture("18.0.11", "session.json")).unwrap();
        let old = map_sessions(old.as_ref(), &ctx()).unwrap();
        assert!(old.iter().all(|r| r.row.first_activity.is_none()));
        assert!(old
            .iter()
            .all(|r| r.row.last_activity.timestamp() % 86_400 == 0));
        let new = parse_report(&fixture("20.0.24", "claude-session.json")).unwrap();
        let new = map_sessions(new.as_ref(), &ctx()).unwrap();
        assert!(new.iter().all(|r| r.row.first_activity.is_some()));
    }

    #[test]
    fn more_usage_always_wins_and_equal_usage_takes_the_newest_import() {
        let early: DateTime<Utc> = "2026-01-01T00:00:00Z".parse().unwrap();
        let late: DateTime<Utc> = "2026-06-01T00:00:00Z".parse().unwrap();
        let (early, late) = (tick_of(early), tick_of(late));
        assert!(row_version(1001, early) > row_version(1000, late));
        assert!(row_version(1000, late) > row_version(1000, early));
        assert!(row_version(u64::MAX, early) > row_version(1 << 39, late));
    }

    #[test]
    fn imports_in_the_same_minute_still_order_strictly() {
        let minute = tick_of("2026-06-01T00:00:00Z".parse().unwrap());
        let second = next_tick(minute, minute);
        assert!(row_version(1000, second) > row_version(1000, minute));
        assert_eq!(next_tick(minute + 5, minute), minute + 5);
        assert_eq!(next_tick(MAX_TICK, MAX_TICK), MAX_TICK);
    }

    #[test]
    fn a_month_is_the_sum_of_its_days_models_and_breakdowns_included() {
        let report = parse_report(&fixture("20.0.24", "claude-daily.json")).unwrap();
        let daily = map_daily(report.as_ref(), &ctx()).unwrap();
        let days: Vec<StoredDay> = daily.iter().map(StoredDay::of_record).collect();
        let months = months(&days, &ctx()).unwrap();
        let by_month = |month: &str| -> Vec<&Record<DailyRow>> {
            daily
                .iter()
                .filter(|d| d.row.date.to_string().starts_with(month))
                .collect()
        };
        assert!(!months.is_empty());
        for month in &months {
            let days = by_month(&month.key);
            let cost: i64 = days.iter().map(|d| d.row.total_cost).sum();
            let tokens: u64 = days.iter().map(|d| d.row.total_tokens).sum();
            assert_eq!(month.row.total_cost, cost);
            assert_eq!(month.row.total_tokens, tokens);
            let breakdown_tokens: u64 = month.breakdowns.iter().map(|b| b.total_tokens).sum();
            assert_eq!(breakdown_tokens, tokens);
            let breakdown_cost: i64 = month.breakdowns.iter().map(|b| b.cost).sum();
            assert_eq!(breakdown_cost, cost);
            assert!(month
                .breakdowns
                .iter()
                .all(|b| b.parent_version == month.row.row_version && b.parent_kind == "monthly"));
            let mut models: Vec<String> = days
                .iter()
                .flat_map(|d| d.row.models_used.clone())
                .collect();
            models.sort();
            models.dedup();
            assert_eq!(month.row.models_used, models);
        }
    }

    #[test]
    fn the_content_hash_ignores_the_import_time_but_not_the_content() {
        let report = parse_report(&fixture("20.0.24", "claude-daily.json")).unwrap();
        let first = map_daily(report.as_ref(), &ctx()).unwrap();
        let later_ctx = Context::new("laptop", "20.0.24", "2026-11-23T18:00:00Z".parse().unwrap());
        let later = map_daily(report.as_ref(), &later_ctx).unwrap();
        assert_eq!(first[0].row.content_hash, later[0].row.content_hash);
        assert!(first[0].row.row_version < later[0].row.row_version);
        assert_ne!(first[0].row.content_hash, first[1].row.content_hash);
    }

    #[test]
    fn an_active_block_hashes_the_same_while_only_its_projection_moves() {
        let text = std::str::from_utf8(&fixture("20.0.24", "claude-blocks.json"))
            .unwrap()
            .to_owned();
        let later = text.replace("\"remainingMinutes\": 215", "\"remainingMinutes\": 150");
        assert_ne!(
            text, later,
            "the fixture's active block has remainingMinutes 215"
        );
        let active = |text: &str| {
            let report = parse_report::<BlocksReport>(text.as_bytes()).unwrap();
            let records = map_blocks(report.as_ref(), &ctx()).unwrap();
            records
                .into_iter()
                .find(|r| r.row.is_active == 1)
                .unwrap()
                .row
        };
        let (now, then) = (active(&text), active(&later));
        assert_eq!(now.content_hash, then.content_hash);
        assert_eq!(
            (
                now.projected_remaining_minutes,
                then.projected_remaining_minutes
            ),
            (215, 150)
        );
    }

    #[test]
    fn bad_costs_are_refused_with_the_field_named() {
        assert!(usd(f64::NAN).is_err());
        assert!(usd(-0.01).is_err());
        assert!(usd(f64::INFINITY).is_err());
        assert_eq!(usd(7.9602784).unwrap(), 7_960_278_400);
        let text = br#"{"daily":[{"date":"2026-11-14","inputTokens":1,"outputTokens":1,
            "cacheCreationTokens":0,"cacheReadTokens":0,"totalCost":-1}]}"#;
        let report = parse_report(text).unwrap();
        let error = map_daily(report.as_ref(), &ctx()).unwrap_err();
        assert!(
            format!("{error:#}").contains("daily row 1: totalCost"),
            "{error:#}"
        );
    }

    #[test]
    fn dates_clickhouse_cannot_store_fail_the_row_instead_of_panicking() {
        let row = |date: &str| {
            format!(
                r#"{{"daily":[{{"date":"{date}","inputTokens":1,"outputTokens":1,
                "cacheCreationTokens":0,"cacheReadTokens":0,"totalCost":0}}]}}"#
            )
        };
        for date in ["1013-11-21", "1969-12-31", "2106-01-01"] {
            let report = parse_report(row(date).as_bytes()).unwrap();
            let error = map_daily(report.as_ref(), &ctx()).unwrap_err();
            assert!(
                format!("{error:#}").contains("outside the dates ClickHouse stores"),
                "{error:#}"
            );
        }
        let session = br#"{"sessions":[{"sessionId":"s","lastActivity":"1013-11-21T05:00:00Z",
            "inputTokens":1,"outputTokens":1,"cacheCreationTokens":0,"cacheReadTokens":0,
            "totalCost":0}]}"#;
        let report = parse_report(session).unwrap();
        assert!(map_sessions(report.as_ref(), &ctx()).is_err());
    }

    #[test]
    fn a_missing_key_field_is_named() {
        let text = br#"{"daily":[{"inputTokens":1,"outputTokens":1,
            "cacheCreationTokens":0,"cacheReadTokens":0,"totalCost":0}]}"#;
        let report = parse_report(text).unwrap();
        let error = map_daily(report.as_ref(), &ctx()).unwrap_err();
        assert!(
            format!("{error:#}").contains("missing field `date`"),
            "{error:#}"
        );
    }

    #[test]
    fn a_day_row_holds_its_model_breakdown_sorted_and_equal_to_its_children() {
        for version in VERSIONS {
            let report = parse_report(&fixture(version, &classic(version, "daily"))).unwrap();
            for record in map_daily(report.as_ref(), &ctx()).unwrap() {
                let row = &record.row;
                let mut children = record.breakdowns.clone();
                children.sort_by(|a, b| a.model_name.cmp(&b.model_name));
                let names: Vec<&str> = children.iter().map(|b| b.model_name.as_str()).collect();
                assert_eq!(row.breakdown_models, names, "{version} {}", record.key);
                let column = |f: fn(&ModelBreakdownRow) -> u64| -> Vec<u64> {
                    children.iter().map(f).collect()
                };
                assert_eq!(row.breakdown_input_tokens, column(|b| b.input_tokens));
                assert_eq!(row.breakdown_output_tokens, column(|b| b.output_tokens));
                let creation = column(|b| b.cache_creation_tokens);
                assert_eq!(row.breakdown_cache_creation_tokens, creation);
                assert_eq!(
                    row.breakdown_cache_read_tokens,
                    column(|b| b.cache_read_tokens)
                );
                assert_eq!(row.breakdown_total_tokens, column(|b| b.total_tokens));
                let costs: Vec<Nanodollars> = children.iter().map(|b| b.cost).collect();
                assert_eq!(row.breakdown_cost, costs);
            }
        }
        // ccusage lists a day's models in no fixed order; the row and its hash do not follow it.
        let day = |models: &str| {
            let text = format!(
                r#"{{"daily":[{{"date":"2026-11-20","inputTokens":2,"outputTokens":0,"cacheCreationTokens":0,"cacheReadTokens":0,"totalTokens":2,"totalCost":1,"modelsUsed":["a","b"],"modelBreakdowns":[{models}]}}],"totals":{{}}}}"#
            );
            let report = parse_report(text.as_bytes()).unwrap();
            map_daily(report.as_ref(), &ctx()).unwrap().remove(0).row
        };
        let a = r#"{"modelName":"a","inputTokens":1,"outputTokens":0,"cacheCreationTokens":0,"cacheReadTokens":0,"cost":0.25}"#;
        let b = r#"{"modelName":"b","inputTokens":1,"outputTokens":0,"cacheCreationTokens":0,"cacheReadTokens":0,"cost":0.75}"#;
        let (ab, ba) = (day(&format!("{a},{b}")), day(&format!("{b},{a}")));
        assert_eq!(ab, ba);
        assert_eq!(ab.breakdown_cost, vec![250_000_000, 750_000_000]);
        // A moved share is new content, to be stored again.
        let moved = b.replace("0.75", "0.5");
        assert_ne!(day(&format!("{a},{moved}")).content_hash, ab.content_hash);
    }

    #[test]
    fn every_row_carries_machine_version_and_import_time() {
        let report = parse_report(&fixture("20.0.24", "claude-daily.json")).unwrap();
        for record in map_daily(report.as_ref(), &ctx()).unwrap() {
            assert_eq!(record.row.machine_name, "laptop");
            assert_eq!(record.row.ccusage_version, "20.0.24");
            assert_eq!(record.row.imported_at, ctx().imported_at);
            for child in &record.breakdowns {
                assert_eq!(child.parent_version, record.row.row_version);
                assert_eq!(child.parent_key, record.key);
            }
        }
    }
}

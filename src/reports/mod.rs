//! The ccusage reports an import reads, one file each: which kind it is, the command that gives
//! it, its JSON, the rows it maps into, which tables it shows in the summary and what it lends
//! the run's digest. [`REPORTS`] lists them once; the command lines (`source/command.rs`), the
//! summary's order of tables (`output/summary.rs`) and the checks on the ledger's columns and
//! on `sql/import.sql` read that list. The path from output to written rows is written once,
//! generically, in [`map`] and [`Mapped`].
//!
//! Adding a report: see docs/architecture.md ("A new report").

pub(crate) mod agents_daily;
mod blocks;
mod daily;
mod hours;
mod projects_daily;
mod session;

use anyhow::{Context as _, Result};
use futures_util::future::BoxFuture;
use serde::de::DeserializeOwned;

use crate::run::digest::DigestBuilder;
use crate::run::{ReportKind, RunReport, WriteStats};
use crate::sink::Sink;
use crate::transform::json::parse_report;
use crate::transform::rows::{self, Context, Record, Table};
use crate::transform::{costcap, unique_keys};

pub use agents_daily::AgentsDaily;
pub use blocks::Blocks;
pub use daily::Daily;
pub use hours::Hours;
pub use projects_daily::ProjectsDaily;
pub use session::Session;

/// What every report file needs.
mod prelude {
    pub(super) use super::{Command, MappedReports, Report, Rows};
    pub(super) use crate::run::digest::DigestBuilder;
    pub(super) use crate::run::{ReportKind, RunReport};
    pub(super) use crate::transform::json;
    pub(super) use crate::transform::rows::{self, Context, Record, Table as _, UsageRecord as _};
    pub(super) use anyhow::Result;
}

/// One ccusage report.
pub trait Report {
    const KIND: ReportKind;
    /// The ccusage command that prints it.
    const COMMAND: Command;
    /// The tables the summary lists for it, in this order (after those of the reports listed
    /// before it in [`REPORTS`]).
    const SUMMARY_TABLES: &'static [&'static str];
    /// What ccusage prints.
    type Json: DeserializeOwned;
    /// What it is stored as.
    type Row: Table + 'static;
    /// Rows in ccusage's output, for the summary and the ledger (blocks include gaps).
    fn printed(json: &Self::Json) -> usize;
    fn map(json: Option<&Self::Json>, ctx: &Context) -> Result<Vec<Record<Self::Row>>>;
    /// Its field in [`MappedReports`].
    fn rows(mapped: &mut MappedReports) -> &mut Option<Rows<Self::Row>>;
    /// What the report lends the summary: most lend the digest something.
    fn summarise(
        _records: &[Record<Self::Row>],
        _run: &mut RunReport,
        _digest: &mut DigestBuilder,
    ) {
    }
}

/// The words of a report's command line before the flags every report gets (see
/// `source::CommandSet::args`).
#[derive(Debug, Clone, Copy)]
pub struct Command {
    pub words: &'static [&'static str],
    /// From 19 the top-level reports cover all agents: a Claude-only report is asked under
    /// `claude` there.
    pub under_claude: bool,
    /// Whether it takes `--mode auto` (costs from the logs where they have them).
    pub mode_auto: bool,
}

impl Command {
    /// A Claude-only report with `--mode auto`: what most reports are.
    pub const fn claude(words: &'static [&'static str]) -> Command {
        Command {
            words,
            under_claude: true,
            mode_auto: true,
        }
    }
}

type MapFn = fn(&[u8], &Context) -> Result<(usize, MappedReports)>;

/// One report in the registry: what the rest of the importer reads of it.
pub struct Entry {
    pub kind: ReportKind,
    pub command: Command,
    pub summary_tables: &'static [&'static str],
    /// Its table, for the checks on `sql/import.sql`.
    #[cfg(test)]
    pub table: &'static str,
    map: MapFn,
}

const fn entry<R: Report>() -> Entry {
    Entry {
        kind: R::KIND,
        command: R::COMMAND,
        summary_tables: R::SUMMARY_TABLES,
        #[cfg(test)]
        table: <R::Row as Table>::TABLE,
        map: map_report::<R>,
    }
}

/// Every report the importer knows, once.
pub const REPORTS: [Entry; 6] = [
    entry::<Daily>(),
    entry::<Session>(),
    entry::<Blocks>(),
    entry::<Hours>(),
    entry::<ProjectsDaily>(),
    entry::<AgentsDaily>(),
];

/// The registry's line for `kind`.
pub fn of(kind: ReportKind) -> &'static Entry {
    REPORTS
        .iter()
        .find(|entry| entry.kind == kind)
        .expect("every report kind has a Report")
}

/// The tables the summary lists first, in the registry's order.
pub fn summary_tables() -> impl Iterator<Item = &'static str> {
    REPORTS
        .iter()
        .flat_map(|entry| entry.summary_tables.iter().copied())
}

/// Parses and maps one report's stdout; returns the number of rows ccusage printed, and a
/// warning when rows were refused for a cost above the cap (the rest are imported).
pub fn map(
    kind: ReportKind,
    stdout: &[u8],
    ctx: &Context,
) -> Result<(usize, MappedReports, Option<String>)> {
    let map = of(kind).map;
    match map(stdout, ctx) {
        Err(e) if e.chain().any(|c| c.is::<rows::CostTooLarge>()) => {
            let (kept, days) = costcap::refuse_rows(stdout)?;
            let (printed, mapped) = map(&kept, ctx)?;
            let warning = format!(
                "{} report: refused the rows of {} whose cost is above {} USD, which no machine \
                 spends (a corrupt log line?); they are not stored, the other rows are",
                kind.name(),
                days.join(", "),
                rows::MAX_USD
            );
            Ok((printed, mapped, Some(warning)))
        }
        other => other.map(|(printed, mapped)| (printed, mapped, None)),
    }
}

/// Parses and maps one report's stdout into its own field of an otherwise empty
/// [`MappedReports`].
fn map_report<P: Report>(stdout: &[u8], ctx: &Context) -> Result<(usize, MappedReports)> {
    let json = parse_report::<P::Json>(stdout).context("output is not the expected JSON")?;
    let printed = json.as_ref().map_or(0, P::printed);
    let records = unique_keys(P::map(json.as_ref(), ctx)?)?;
    let mut mapped = MappedReports::default();
    *P::rows(&mut mapped) = Some(Rows::new(records, P::summarise));
    Ok((printed, mapped))
}

/// Every report's rows of one run, one typed field each; `None` where the report failed or
/// did not run. A report names its field ([`Report::rows`]), so reading a report's rows as
/// another table's is a compile error, not an empty list.
#[derive(Default)]
pub struct MappedReports {
    pub daily: Option<Rows<rows::DailyRow>>,
    pub session: Option<Rows<rows::SessionRow>>,
    pub blocks: Option<Rows<rows::BlockRow>>,
    pub hours: Option<Rows<rows::HourRow>>,
    pub projects_daily: Option<Rows<rows::ProjectDailyRow>>,
    pub agents_daily: Option<Rows<rows::AgentDailyRow>>,
    /// The one-day session reports' rows (ccusage 19+), which the sessions are summed from.
    pub session_days: Option<Rows<rows::SessionDayRow>>,
}

impl MappedReports {
    /// Takes the reports `other` holds (each report is mapped on its own, then gathered).
    pub fn merge(&mut self, other: MappedReports) {
        // Destructured whole, so a new field cannot be forgotten here.
        let MappedReports {
            daily,
            session,
            blocks,
            hours,
            projects_daily,
            agents_daily,
            session_days,
        } = other;
        fn take<R>(mine: &mut Option<Rows<R>>, theirs: Option<Rows<R>>) {
            if theirs.is_some() {
                *mine = theirs;
            }
        }
        take(&mut self.daily, daily);
        take(&mut self.session, session);
        take(&mut self.blocks, blocks);
        take(&mut self.hours, hours);
        take(&mut self.projects_daily, projects_daily);
        take(&mut self.agents_daily, agents_daily);
        take(&mut self.session_days, session_days);
    }

    /// Every report's rows that are there, as the tables they write.
    pub fn all(&self) -> Vec<&dyn Mapped> {
        let MappedReports {
            daily,
            session,
            blocks,
            hours,
            projects_daily,
            agents_daily,
            session_days,
        } = self;
        fn some<R: Table + 'static>(rows: &Option<Rows<R>>) -> Option<&dyn Mapped> {
            rows.as_ref().map(|rows| rows as &dyn Mapped)
        }
        [
            some(daily),
            some(session),
            some(blocks),
            some(hours),
            some(projects_daily),
            some(agents_daily),
            some(session_days),
        ]
        .into_iter()
        .flatten()
        .collect()
    }
}

/// A report's rows, ready to write: whatever the report, one interface.
pub trait Mapped: Send + Sync {
    fn table(&self) -> &'static str;
    fn len(&self) -> usize;
    /// Model breakdown and models-used rows that come with them.
    fn children(&self) -> (usize, usize);
    fn summarise(&self, run: &mut RunReport, digest: &mut DigestBuilder);
    /// Writes what the database lacks; the stats count what was written even on a failure.
    fn write<'a>(
        &'a self,
        sink: &'a Sink,
        machine: &'a str,
    ) -> BoxFuture<'a, (WriteStats, Result<()>)>;
    /// What `write` would write, counted against what is stored, and those rows' keys
    /// (`--dry-run`).
    fn count<'a>(&'a self, sink: &'a Sink, machine: &'a str) -> BoxFuture<'a, Result<Counted>>;
}

/// What a dry run would write of one table, and the keys of those rows.
pub type Counted = (WriteStats, std::collections::HashSet<String>);

type Summarise<R> = fn(&[Record<R>], &mut RunReport, &mut DigestBuilder);

/// The rows of one table.
pub struct Rows<R> {
    pub records: Vec<Record<R>>,
    summarise: Summarise<R>,
}

impl<R> Rows<R> {
    pub fn new(records: Vec<Record<R>>, summarise: Summarise<R>) -> Rows<R> {
        Rows { records, summarise }
    }

    /// Rows that lend the summary nothing (the rows the importer sums itself).
    pub fn derived(records: Vec<Record<R>>) -> Rows<R> {
        Rows::new(records, |_, _, _| {})
    }
}

/// The records of one report's rows (none when that report failed or did not run).
pub fn records<R>(rows: &Option<Rows<R>>) -> &[Record<R>] {
    rows.as_ref().map_or(&[], |rows| &rows.records)
}

impl<R: Table + 'static> Mapped for Rows<R> {
    fn table(&self) -> &'static str {
        R::TABLE
    }

    fn len(&self) -> usize {
        self.records.len()
    }

    fn children(&self) -> (usize, usize) {
        self.records.iter().fold((0, 0), |(b, m), r| {
            (b + r.breakdowns.len(), m + r.models.len())
        })
    }

    fn summarise(&self, run: &mut RunReport, digest: &mut DigestBuilder) {
        (self.summarise)(&self.records, run, digest);
    }

    fn write<'a>(
        &'a self,
        sink: &'a Sink,
        machine: &'a str,
    ) -> BoxFuture<'a, (WriteStats, Result<()>)> {
        Box::pin(sink.write(machine, &self.records))
    }

    fn count<'a>(&'a self, sink: &'a Sink, machine: &'a str) -> BoxFuture<'a, Result<Counted>> {
        Box::pin(sink.count(machine, &self.records))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_report_kind_has_exactly_one_report() {
        let all = [
            ReportKind::Daily,
            ReportKind::Session,
            ReportKind::Blocks,
            ReportKind::Hours,
            ReportKind::ProjectsDaily,
            ReportKind::AgentsDaily,
        ];
        for kind in all {
            assert_eq!(
                REPORTS.iter().filter(|entry| entry.kind == kind).count(),
                1,
                "{kind}"
            );
        }
        assert_eq!(REPORTS.len(), all.len());
    }

    /// Each report's rows land in its own field of [`MappedReports`], and in no other: the
    /// run reads a report's rows from that field.
    #[test]
    fn every_report_maps_into_its_own_field() {
        let ctx = Context::new("m", "20.0.24", chrono::Utc::now());
        for entry in &REPORTS {
            let (printed, mapped, warning) = map(entry.kind, b"[]", &ctx).unwrap();
            assert_eq!((printed, warning), (0, None));
            let tables: Vec<_> = mapped.all().iter().map(|rows| rows.table()).collect();
            assert_eq!(tables, [entry.table], "{}", entry.kind);
        }
    }

    /// The ledger keeps one status and one row count per report, for the queries that read
    /// it: a report added to the registry needs its two columns.
    #[test]
    fn the_ledger_has_the_columns_of_every_report() {
        use clickhouse::Row as _;
        let columns = crate::sink::ledger::RunRow::COLUMN_NAMES;
        for entry in &REPORTS {
            for column in ["status", "rows"] {
                let name = format!("{}_{column}", entry.kind.name());
                assert!(columns.contains(&name.as_str()), "{name}");
            }
        }
    }

    /// The import's tick is read from every table it writes: a report's table missing from
    /// `last_tick` could let a later import tie with an earlier one there.
    #[test]
    fn the_last_tick_reads_every_reports_table() {
        let sql = crate::sqlfile::import("last_tick");
        for entry in &REPORTS {
            assert!(
                sql.contains(&format!(" FROM {} WHERE", entry.table)),
                "{}",
                entry.table
            );
        }
        assert_eq!(
            crate::sqlfile::placeholders(&sql),
            sql.matches("UNION ALL").count() + 1
        );
    }
}

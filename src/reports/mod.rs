//! The ccusage reports an import reads, one file each: which kind it is, the command that gives
//! it, its JSON, the rows it maps into, which tables it shows in the summary and what it lends
//! the run's digest. [`REPORTS`] lists them once; the command lines (`source/command.rs`), the
//! summary's order of tables (`output/summary.rs`) and the checks on the ledger's columns and
//! on `sql/import.sql` read that list. The path from output to written rows is written once,
//! generically, in [`map`] and [`Mapped`].
//!
//! Adding a report: see docs/architecture.md ("A new report").

mod agents_daily;
mod blocks;
mod daily;
mod hours;
mod projects_daily;
mod session;

use std::any::Any;

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
    pub(super) use super::{Command, Report};
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

type MapFn = fn(&[u8], &Context) -> Result<(usize, Box<dyn Mapped>)>;

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
) -> Result<(usize, Box<dyn Mapped>, Option<String>)> {
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

fn map_report<P: Report>(stdout: &[u8], ctx: &Context) -> Result<(usize, Box<dyn Mapped>)> {
    let json = parse_report::<P::Json>(stdout).context("output is not the expected JSON")?;
    let printed = json.as_ref().map_or(0, P::printed);
    let records = unique_keys(P::map(json.as_ref(), ctx)?)?;
    Ok((printed, Box::new(Rows::new(records, P::summarise))))
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
    fn as_any(&self) -> &dyn Any;
    fn as_any_mut(&mut self) -> &mut dyn Any;
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

/// The records of table `R` among `mapped` (none when that report failed).
pub fn records_of<R: Table + 'static>(mapped: &[Box<dyn Mapped>]) -> &[Record<R>] {
    mapped
        .iter()
        .find_map(|m| m.as_any().downcast_ref::<Rows<R>>())
        .map_or(&[], |rows| &rows.records)
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

    fn as_any(&self) -> &dyn Any {
        self
    }

    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
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
            sql.matches('?').count(),
            sql.matches("UNION ALL").count() + 1
        );
    }
}

//! The ccusage reports an import reads, one unit each: which kind it is (and so which command
//! gives it), its JSON, the rows it maps into, and what it lends the run's summary. The path
//! from output to written rows is written once, generically, in [`map`] and [`Mapped`].
//!
//! Adding a report: its kind and command in `src/source/command.rs`, its JSON model and rows in
//! `src/transform/`, and a `Report` here (with its line in [`map`]); its table in
//! `sql/schema.sql` and its read-back statement in `sql/import.sql`.

use std::any::Any;

use anyhow::{Context as _, Result};
use futures_util::future::BoxFuture;
use serde::de::DeserializeOwned;

use crate::run::digest::DigestBuilder;
use crate::run::{ReportKind, RunReport, WriteStats};
use crate::sink::Sink;
use crate::transform::json::{self, parse_report};
use crate::transform::rows::{self, Context, Record, Table, UsageRecord};
use crate::transform::{costcap, privacy, unique_keys};

/// One ccusage report.
pub trait Report {
    const KIND: ReportKind;
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

type MapFn = fn(&[u8], &Context) -> Result<(usize, Box<dyn Mapped>)>;

/// Every report the importer knows, by kind.
const REPORTS: [(ReportKind, MapFn); 6] = [
    (Daily::KIND, map_report::<Daily>),
    (Session::KIND, map_report::<Session>),
    (Blocks::KIND, map_report::<Blocks>),
    (Hours::KIND, map_report::<Hours>),
    (ProjectsDaily::KIND, map_report::<ProjectsDaily>),
    (AgentsDaily::KIND, map_report::<AgentsDaily>),
];

/// Parses and maps one report's stdout; returns the number of rows ccusage printed, and a
/// warning when rows were refused for a cost above the cap (the rest are imported).
pub fn map(
    kind: ReportKind,
    stdout: &[u8],
    ctx: &Context,
) -> Result<(usize, Box<dyn Mapped>, Option<String>)> {
    let (_, map) = REPORTS
        .iter()
        .find(|(known, _)| *known == kind)
        .expect("every report kind has a Report");
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

pub struct Daily;

impl Report for Daily {
    const KIND: ReportKind = ReportKind::Daily;
    type Json = json::DailyReport;
    type Row = rows::DailyRow;

    fn printed(json: &Self::Json) -> usize {
        json.daily.len()
    }

    fn map(json: Option<&Self::Json>, ctx: &Context) -> Result<Vec<Record<Self::Row>>> {
        rows::map_daily(json, ctx)
    }

    /// The run's totals and date range come from the daily report, like ccusage's own.
    fn summarise(records: &[Record<Self::Row>], run: &mut RunReport, digest: &mut DigestBuilder) {
        for record in records {
            let row = &record.row;
            run.totals.add(&row.tokens());
            run.total_cost = run.total_cost.saturating_add(row.total_cost);
            run.first_date = run.first_date.min(Some(row.date)).or(Some(row.date));
            run.last_date = run.last_date.max(Some(row.date));
        }
        digest.daily(records);
    }
}

pub struct Session;

impl Report for Session {
    const KIND: ReportKind = ReportKind::Session;
    type Json = json::SessionReport;
    type Row = rows::SessionRow;

    fn printed(json: &Self::Json) -> usize {
        json.sessions.len()
    }

    fn map(json: Option<&Self::Json>, ctx: &Context) -> Result<Vec<Record<Self::Row>>> {
        // Keys are checked as ccusage printed them, then put in the run's project mode.
        privacy::sessions(unique_keys(rows::map_sessions(json, ctx)?)?, ctx)
    }

    fn summarise(records: &[Record<Self::Row>], _run: &mut RunReport, digest: &mut DigestBuilder) {
        digest.sessions(records);
    }
}

pub struct Blocks;

impl Report for Blocks {
    const KIND: ReportKind = ReportKind::Blocks;
    type Json = json::BlocksReport;
    type Row = rows::BlockRow;

    fn printed(json: &Self::Json) -> usize {
        json.blocks.len()
    }

    fn map(json: Option<&Self::Json>, ctx: &Context) -> Result<Vec<Record<Self::Row>>> {
        rows::map_blocks(json, ctx)
    }

    fn summarise(records: &[Record<Self::Row>], _run: &mut RunReport, digest: &mut DigestBuilder) {
        digest.blocks(records);
    }
}

/// ccusage's blocks one hour long: the hours the 5-hour blocks are derived from.
pub struct Hours;

impl Report for Hours {
    const KIND: ReportKind = ReportKind::Hours;
    type Json = json::BlocksReport;
    type Row = rows::HourRow;

    fn printed(json: &Self::Json) -> usize {
        json.blocks.len()
    }

    fn map(json: Option<&Self::Json>, ctx: &Context) -> Result<Vec<Record<Self::Row>>> {
        rows::map_hours(json, ctx)
    }
}

pub struct ProjectsDaily;

impl Report for ProjectsDaily {
    const KIND: ReportKind = ReportKind::ProjectsDaily;
    type Json = json::ProjectsReport;
    type Row = rows::ProjectDailyRow;

    fn printed(json: &Self::Json) -> usize {
        json.projects.values().map(Vec::len).sum()
    }

    fn map(json: Option<&Self::Json>, ctx: &Context) -> Result<Vec<Record<Self::Row>>> {
        privacy::projects_daily(unique_keys(rows::map_projects_daily(json, ctx)?)?, ctx)
    }

    fn summarise(records: &[Record<Self::Row>], _run: &mut RunReport, digest: &mut DigestBuilder) {
        digest.projects_daily(records);
    }
}

pub struct AgentsDaily;

impl Report for AgentsDaily {
    const KIND: ReportKind = ReportKind::AgentsDaily;
    type Json = json::AgentsReport;
    type Row = rows::AgentDailyRow;

    fn printed(json: &Self::Json) -> usize {
        json.daily.len()
    }

    fn map(json: Option<&Self::Json>, ctx: &Context) -> Result<Vec<Record<Self::Row>>> {
        rows::map_agents_daily(json, ctx)
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
                REPORTS.iter().filter(|(k, _)| *k == kind).count(),
                1,
                "{kind}"
            );
        }
        assert_eq!(REPORTS.len(), all.len());
    }
}

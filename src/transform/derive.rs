//! Coarse rows summed from finer stored rows instead of taken from ccusage's snapshot.
//!
//! A month (and, in ccusage 15–18, a project's one long "session") can shrink because Claude
//! Code deleted its oldest logs and grow with new usage in the same snapshot: no version rule on
//! that one row can tell the lost part from the new part. A stored day only ever keeps its
//! largest figure, so a coarse row summed from the stored days never loses usage and always
//! equals them. Pure: the stored rows come in, the rows to write come out.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::{Context as _, Result};
use chrono::{DateTime, NaiveDate, TimeDelta, Utc};

use super::rows::{
    children, row_version, session_key, time_key, ClassicRow, Context, DailyRow, DerivedBlockRow,
    Figures, HourRow, ModelFigures, MonthlyRow, Nanodollars, ParentKind, ProjectDailyRow, Record,
    SessionDayRow, SessionRow, Tokens, UsageRecord,
};

/// The figures of one stored row, with its model breakdowns.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Usage {
    pub tokens: Tokens,
    pub total_cost: Nanodollars,
    pub models_used: Vec<String>,
    pub breakdowns: Vec<ModelFigures>,
}

impl Usage {
    pub(super) fn of_record<R: UsageRecord>(
        record: &Record<R>,
        total_cost: Nanodollars,
        models: &[String],
    ) -> Usage {
        Usage {
            tokens: record.row.tokens(),
            total_cost,
            models_used: models.to_vec(),
            breakdowns: record
                .breakdowns
                .iter()
                .map(|b| ModelFigures {
                    model_name: b.model_name.clone(),
                    tokens: Tokens {
                        input: b.input_tokens,
                        output: b.output_tokens,
                        cache_creation: b.cache_creation_tokens,
                        cache_read: b.cache_read_tokens,
                    },
                    cost: b.cost,
                })
                .collect(),
        }
    }
}

/// A day of `ccusage_usage_daily` as stored (or, in a dry run, as this run maps it).
#[derive(Debug, Clone, PartialEq)]
pub struct StoredDay {
    pub date: NaiveDate,
    pub usage: Usage,
}

impl StoredDay {
    pub fn of_record(record: &Record<DailyRow>) -> StoredDay {
        let row = &record.row;
        StoredDay {
            date: row.date,
            usage: Usage::of_record(record, row.total_cost, &row.models_used),
        }
    }
}

/// A project's day of `ccusage_usage_projects_daily`.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredProjectDay {
    pub project: String,
    pub date: NaiveDate,
    pub usage: Usage,
}

impl StoredProjectDay {
    pub fn of_record(record: &Record<ProjectDailyRow>) -> StoredProjectDay {
        let row = &record.row;
        StoredProjectDay {
            project: row.project.clone(),
            date: row.date,
            usage: Usage::of_record(record, row.total_cost, &row.models_used),
        }
    }
}

/// A ccusage 15–18 session row that is not a whole project: sub-agent transcripts, listed
/// under `project_path` = "<project>/<parent session>".
#[derive(Debug, Clone, PartialEq)]
pub struct StoredSubSession {
    /// The session's key (`rows::session_key`).
    pub key: String,
    pub project_path: String,
    pub usage: Usage,
}

impl StoredSubSession {
    pub fn of_record(record: &Record<SessionRow>) -> StoredSubSession {
        let row = &record.row;
        StoredSubSession {
            key: record.key.clone(),
            project_path: row.project_path.clone(),
            usage: Usage::of_record(record, row.total_cost, &row.models_used),
        }
    }

    fn project(&self) -> &str {
        self.project_path
            .split_once('/')
            .map_or(&self.project_path[..], |(project, _)| project)
    }
}

/// What ccusage 15–18 name the project of a session that is a whole project directory.
pub const WHOLE_PROJECT: &str = "Unknown Project";

/// Whether a ccusage 15–18 session row is a whole project (its id is the project directory),
/// which [`project_sessions`] derives, rather than a sub-agent row taken as ccusage prints it.
pub fn is_whole_project(row: &SessionRow) -> bool {
    row.project_path == WHOLE_PROJECT
}

/// The monthly table: each month is the sum of the machine's stored days of that month.
pub fn months(days: &[StoredDay], ctx: &Context) -> Result<Vec<Record<MonthlyRow>>> {
    let mut months: BTreeMap<String, Sum> = BTreeMap::new();
    for day in days {
        let month = day.date.format("%Y-%m").to_string();
        months.entry(month).or_default().add(&day.usage)?;
    }
    months
        .into_iter()
        .map(|(month, sum)| {
            let (figures, breakdowns) = sum.finish()?;
            let row = MonthlyRow::new(ctx, figures, month.clone())?;
            with_children(ctx, ParentKind::Monthly, month, row, &breakdowns)
        })
        .collect()
}

/// ccusage 15–18's whole-project sessions: each is its project's stored days less the
/// project's stored sub-agent rows (which ccusage lists apart and which are stored as they
/// are), last active on its last day.
pub fn project_sessions(
    days: &[StoredProjectDay],
    sub_sessions: &[StoredSubSession],
    ctx: &Context,
) -> Result<Vec<Record<SessionRow>>> {
    let mut projects: BTreeMap<&str, (Sum, NaiveDate)> = BTreeMap::new();
    for day in days {
        let (sum, last) = projects
            .entry(&day.project)
            .or_insert_with(|| (Sum::default(), day.date));
        sum.add(&day.usage)?;
        *last = (*last).max(day.date);
    }
    for sub in sub_sessions {
        if let Some((sum, _)) = projects.get_mut(sub.project()) {
            sum.subtract(&sub.usage);
        }
    }
    projects
        .into_iter()
        .map(|(project, (sum, last_day))| {
            let (figures, breakdowns) = sum.finish()?;
            let last_activity = last_day.and_hms_opt(0, 0, 0).expect("midnight").and_utc();
            let row = SessionRow::new(
                ctx,
                figures,
                project.to_owned(),
                WHOLE_PROJECT.to_owned(),
                None,
                last_activity,
            )?;
            let key = session_key(WHOLE_PROJECT, project);
            with_children(ctx, ParentKind::Session, key, row, &breakdowns)
        })
        .collect()
}

/// A session's day of `ccusage_usage_session_days` as stored (or, in a dry run, as this run
/// maps it).
#[derive(Debug, Clone, PartialEq)]
pub struct StoredSessionDay {
    pub session_id: String,
    pub project_path: String,
    pub project_name: String,
    pub date: NaiveDate,
    pub first_activity: Option<DateTime<Utc>>,
    pub last_activity: DateTime<Utc>,
    pub usage: Usage,
}

impl StoredSessionDay {
    pub fn of_record(record: &Record<SessionDayRow>) -> StoredSessionDay {
        let row = &record.row;
        StoredSessionDay {
            session_id: row.session_id.clone(),
            project_path: row.project_path.clone(),
            project_name: row.project_name.clone(),
            date: row.date,
            first_activity: row.first_activity,
            last_activity: row.last_activity,
            usage: Usage::of_record(record, row.total_cost, &row.models_used),
        }
    }
}

/// ccusage 19+'s sessions: each is the sum of its stored days, first and last active on the
/// first and last entry of those days. A session's whole figure can shrink (a sub-agent file
/// deleted) while it grows, and a resumed session takes its original's replayed lines once the
/// original is deleted; a session's day does neither once the day is stored (see
/// `pipeline::session_days_to_ask`), so the sum keeps what ccusage printed while every log existed.
pub fn sessions(days: &[StoredSessionDay], ctx: &Context) -> Result<Vec<Record<SessionRow>>> {
    struct Acc<'a> {
        sum: Sum,
        name: &'a str,
        first: Option<DateTime<Utc>>,
        last: DateTime<Utc>,
    }
    let mut sessions: BTreeMap<(&str, &str), Acc> = BTreeMap::new();
    for day in days {
        let acc = sessions
            .entry((&day.project_path, &day.session_id))
            .or_insert_with(|| Acc {
                sum: Sum::default(),
                name: &day.project_name,
                first: None,
                last: day.last_activity,
            });
        acc.sum.add(&day.usage)?;
        acc.first = match (acc.first, day.first_activity) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        acc.last = acc.last.max(day.last_activity);
    }
    sessions
        .into_iter()
        .map(|((project_path, session_id), acc)| {
            let (figures, breakdowns) = acc.sum.finish()?;
            let mut row = SessionRow::new(
                ctx,
                figures,
                session_id.to_owned(),
                project_path.to_owned(),
                acc.first,
                acc.last,
            )?;
            // The name the days were stored under (the run's privacy mode applied to them).
            row.project_name = acc.name.to_owned();
            row.rehash()?;
            let key = session_key(project_path, session_id);
            with_children(ctx, ParentKind::Session, key, row, &breakdowns)
        })
        .collect()
}

/// An hour of `ccusage_usage_hours` as stored (or, in a dry run, as this run maps it).
#[derive(Debug, Clone, PartialEq)]
pub struct StoredHour {
    pub hour: DateTime<Utc>,
    pub last_entry: DateTime<Utc>,
    pub entries: u64,
    pub tokens: Tokens,
    pub total_cost: Nanodollars,
    pub models: Vec<String>,
}

impl StoredHour {
    pub fn of_record(record: &Record<HourRow>) -> StoredHour {
        let row = &record.row;
        StoredHour {
            hour: row.hour,
            last_entry: row.last_entry,
            entries: row.entries,
            tokens: row.tokens(),
            total_cost: row.total_cost,
            models: row.models_used.clone(),
        }
    }
}

/// ccusage's block length.
const BLOCK: TimeDelta = TimeDelta::hours(5);

/// The 5-hour blocks, as ccusage would print them had no log been deleted: a block starts at
/// the first hour with usage and takes every hour with usage before its start + 5 h; the next
/// hour with usage starts the next block. ccusage starts a block at the floored hour of an
/// entry more than 5 h after the block's start (its other rule, more than 5 h since the last
/// entry, follows from that one), so the blocks are a function of the set of used hours, and
/// a block keyed by its start always holds exactly the hours of [start, start + 5 h): its
/// figure only grows, like an hour's.
///
/// `history_until`: where the machine's blocks stored before its hours end (the end of the
/// last such block that reaches past the first stored hour); hours before it are in that
/// block already and start nothing. `stored`: the start and token total of every derived
/// block stored as current; a start that is no block start any more (an earlier hour moved
/// the chain) is written again marked `superseded`, so no reader counts it.
pub fn blocks(
    hours: &[StoredHour],
    history_until: Option<DateTime<Utc>>,
    stored: &BTreeMap<DateTime<Utc>, u64>,
    ctx: &Context,
) -> Result<Vec<Record<DerivedBlockRow>>> {
    let mut sorted: Vec<&StoredHour> = hours
        .iter()
        .filter(|h| history_until.is_none_or(|until| h.hour >= until))
        .collect();
    sorted.sort_by_key(|h| h.hour);
    let mut chains: Vec<Vec<&StoredHour>> = Vec::new();
    for hour in sorted {
        match chains.last_mut() {
            Some(block) if hour.hour < block[0].hour + BLOCK => block.push(hour),
            _ => chains.push(vec![hour]),
        }
    }
    let mut records = Vec::with_capacity(chains.len());
    for block in &chains {
        let start = block[0].hour;
        let mut tokens = Tokens::default();
        let mut cost: Nanodollars = 0;
        let mut models = BTreeSet::new();
        for hour in block {
            tokens = checked_add(&tokens, &hour.tokens)?;
            cost = add_cost(cost, hour.total_cost)?;
            models.extend(hour.models.iter().cloned());
        }
        let total_tokens = tokens.total()?;
        let row = DerivedBlockRow {
            machine_name: ctx.machine_name.clone(),
            start_time: start,
            end_time: start + BLOCK,
            last_entry: block.iter().map(|h| h.last_entry).max().unwrap_or(start),
            hours: block.len() as u64,
            entries: block.iter().map(|h| h.entries).sum(),
            input_tokens: tokens.input,
            output_tokens: tokens.output,
            cache_creation_tokens: tokens.cache_creation,
            cache_read_tokens: tokens.cache_read,
            total_tokens,
            cost_usd: cost,
            models: models.into_iter().collect(),
            superseded: 0,
            ccusage_version: ctx.ccusage_version.clone(),
            imported_at: ctx.imported_at,
            row_version: row_version(total_tokens, ctx.tick),
            content_hash: 0,
        }
        .rehash()?;
        records.push(plain_record(time_key(start), row));
    }
    let starts: BTreeSet<DateTime<Utc>> = chains.iter().map(|b| b[0].hour).collect();
    for (&start, &stored_tokens) in stored {
        if starts.contains(&start) {
            continue;
        }
        // Only the key, the mark and a version above the stored row's matter: no reader
        // reads a superseded row's figures.
        let row = DerivedBlockRow {
            machine_name: ctx.machine_name.clone(),
            start_time: start,
            end_time: start + BLOCK,
            last_entry: start,
            hours: 0,
            entries: 0,
            input_tokens: 0,
            output_tokens: 0,
            cache_creation_tokens: 0,
            cache_read_tokens: 0,
            total_tokens: stored_tokens,
            cost_usd: 0,
            models: Vec::new(),
            superseded: 1,
            ccusage_version: ctx.ccusage_version.clone(),
            imported_at: ctx.imported_at,
            row_version: row_version(stored_tokens, ctx.tick),
            content_hash: 0,
        }
        .rehash()?;
        records.push(plain_record(time_key(start), row));
    }
    Ok(records)
}

fn plain_record<R>(key: String, row: R) -> Record<R> {
    Record {
        key,
        row,
        breakdowns: Vec::new(),
        models: Vec::new(),
    }
}

fn with_children<R: ClassicRow>(
    ctx: &Context,
    kind: ParentKind,
    key: String,
    row: R,
    breakdowns: &[ModelFigures],
) -> Result<Record<R>> {
    let (version, models) = row.version_and_models();
    let models = models.to_vec();
    children(ctx, kind, &key, row, version, &models, breakdowns)
}

/// Usage added up, per model too.
#[derive(Default)]
pub(super) struct Sum {
    tokens: Tokens,
    total_cost: Nanodollars,
    models_used: BTreeSet<String>,
    breakdowns: BTreeMap<String, (Tokens, Nanodollars)>,
}

impl Sum {
    pub(super) fn add(&mut self, usage: &Usage) -> Result<()> {
        self.tokens = checked_add(&self.tokens, &usage.tokens)?;
        self.total_cost = add_cost(self.total_cost, usage.total_cost)?;
        self.models_used.extend(usage.models_used.iter().cloned());
        for b in &usage.breakdowns {
            let (tokens, cost) = self.breakdowns.entry(b.model_name.clone()).or_default();
            *tokens = checked_add(tokens, &b.tokens)?;
            *cost = add_cost(*cost, b.cost)?;
        }
        Ok(())
    }

    /// Takes away a part that was added with the rest. It cannot go below zero: when ccusage's
    /// reports disagree, the part is capped at what is there.
    fn subtract(&mut self, usage: &Usage) {
        self.tokens = saturating_sub(&self.tokens, &usage.tokens);
        self.total_cost = (self.total_cost - usage.total_cost).max(0);
        for b in &usage.breakdowns {
            if let Some((tokens, cost)) = self.breakdowns.get_mut(&b.model_name) {
                *tokens = saturating_sub(tokens, &b.tokens);
                *cost = (*cost - b.cost).max(0);
            }
        }
        self.breakdowns
            .retain(|_, (tokens, _)| tokens.total().is_ok_and(|t| t > 0));
    }

    pub(super) fn finish(self) -> Result<(Figures, Vec<ModelFigures>)> {
        let figures = Figures {
            total_tokens: self.tokens.total()?,
            tokens: self.tokens,
            total_cost: self.total_cost,
            models_used: self.models_used.into_iter().collect(),
        };
        let breakdowns = self
            .breakdowns
            .into_iter()
            .map(|(model_name, (tokens, cost))| ModelFigures {
                model_name,
                tokens,
                cost,
            })
            .collect();
        Ok((figures, breakdowns))
    }
}

fn add_cost(a: Nanodollars, b: Nanodollars) -> Result<Nanodollars> {
    a.checked_add(b)
        .context("a summed cost does not fit the stored decimal")
}

fn checked_add(a: &Tokens, b: &Tokens) -> Result<Tokens> {
    let add = |x: u64, y: u64| x.checked_add(y).context("summed tokens pass 2^64");
    Ok(Tokens {
        input: add(a.input, b.input)?,
        output: add(a.output, b.output)?,
        cache_creation: add(a.cache_creation, b.cache_creation)?,
        cache_read: add(a.cache_read, b.cache_read)?,
    })
}

fn saturating_sub(a: &Tokens, b: &Tokens) -> Tokens {
    Tokens {
        input: a.input.saturating_sub(b.input),
        output: a.output.saturating_sub(b.output),
        cache_creation: a.cache_creation.saturating_sub(b.cache_creation),
        cache_read: a.cache_read.saturating_sub(b.cache_read),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transform::json::parse_report;
    use crate::transform::rows::{map_projects_daily, map_sessions};

    fn fixture(file: &str) -> Vec<u8> {
        let path = format!(
            "{}/tests/fixtures/ccusage/18.0.11/{file}",
            env!("CARGO_MANIFEST_DIR")
        );
        std::fs::read(&path).unwrap()
    }

    fn ctx() -> Context {
        Context::new("laptop", "18.0.11", "2026-11-22T18:00:00Z".parse().unwrap())
    }

    fn hour(text: &str, tokens: u64) -> StoredHour {
        let hour: DateTime<Utc> = format!("2026-12-01T{text}:00:00Z").parse().unwrap();
        StoredHour {
            hour,
            last_entry: hour + TimeDelta::minutes(30),
            entries: 1,
            tokens: Tokens {
                input: tokens,
                ..Tokens::default()
            },
            total_cost: tokens as i64,
            models: vec![format!("m{tokens}")],
        }
    }

    fn starts(blocks: &[Record<DerivedBlockRow>]) -> Vec<(String, u64, u8)> {
        blocks
            .iter()
            .map(|b| {
                (
                    b.key[11..13].to_owned(),
                    b.row.total_tokens,
                    b.row.superseded,
                )
            })
            .collect()
    }

    #[test]
    fn blocks_start_at_the_first_used_hour_five_hours_after_the_last_start() {
        let hours = [
            hour("14", 4),
            hour("09", 1),
            hour("13", 2),
            hour("15", 8),
            hour("20", 16),
        ];
        let blocks = blocks(&hours, None, &BTreeMap::new(), &ctx()).unwrap();
        // 09 takes 09..13 (13 is 4 h on); 14 is 5 h on: a new block, which takes 15;
        // 20 is 6 h after 14.
        assert_eq!(
            starts(&blocks),
            [
                ("09".into(), 3, 0),
                ("14".into(), 12, 0),
                ("20".into(), 16, 0)
            ]
        );
        let first = &blocks[0].row;
        assert_eq!(first.hours, 2);
        assert_eq!(first.entries, 2);
        assert_eq!(first.cost_usd, 3);
        assert_eq!(first.models, ["m1", "m2"]);
        assert_eq!(first.end_time - first.start_time, TimeDelta::hours(5));
        assert_eq!(first.last_entry, hours[2].last_entry);
        // Σ blocks = Σ hours.
        let sum: u64 = blocks.iter().map(|b| b.row.total_tokens).sum();
        assert_eq!(sum, 31);
    }

    #[test]
    fn an_earlier_hour_moves_the_chain_and_supersedes_the_old_starts() {
        let mut hours = vec![hour("10", 1), hour("12", 2), hour("15", 4)];
        let before = blocks(&hours, None, &BTreeMap::new(), &ctx()).unwrap();
        assert_eq!(starts(&before), [("10".into(), 3, 0), ("15".into(), 4, 0)]);
        let stored: BTreeMap<_, _> = before
            .iter()
            .map(|b| (b.row.start_time, b.row.total_tokens))
            .collect();
        // A back-dated line at 07:00: 07 takes 07..11, 12 starts a block that takes 15; the
        // old starts 10 and 15 are superseded.
        hours.push(hour("07", 8));
        let mut later = ctx();
        later.tick += 1;
        let after = blocks(&hours, None, &stored, &later).unwrap();
        assert_eq!(
            starts(&after),
            [
                ("07".into(), 9, 0),
                ("12".into(), 6, 0),
                ("10".into(), 3, 1),
                ("15".into(), 4, 1)
            ]
        );
        // The superseded copy outranks the stored row under the version rule.
        let superseded = &after[2].row;
        assert!(superseded.row_version > before[0].row.row_version);
    }

    #[test]
    fn hours_inside_a_block_stored_before_the_hours_start_nothing() {
        let hours = [hour("10", 1), hour("12", 2), hour("13", 4)];
        let until: DateTime<Utc> = "2026-12-01T13:00:00Z".parse().unwrap();
        let blocks = blocks(&hours, Some(until), &BTreeMap::new(), &ctx()).unwrap();
        assert_eq!(starts(&blocks), [("13".into(), 4, 0)]);
    }

    #[test]
    fn whole_project_sessions_are_their_days_less_their_sub_agents() {
        let projects = parse_report(&fixture("daily-instances.json")).unwrap();
        let projects = map_projects_daily(projects.as_ref(), &ctx()).unwrap();
        let sessions = parse_report(&fixture("session.json")).unwrap();
        let sessions = map_sessions(sessions.as_ref(), &ctx()).unwrap();
        let days: Vec<_> = projects.iter().map(StoredProjectDay::of_record).collect();
        let subs: Vec<_> = sessions
            .iter()
            .filter(|s| !is_whole_project(&s.row))
            .map(StoredSubSession::of_record)
            .collect();
        let derived = project_sessions(&days, &subs, &ctx()).unwrap();
        // On a snapshot with nothing deleted, the derived rows are exactly ccusage's.
        let whole: Vec<_> = sessions
            .iter()
            .filter(|s| is_whole_project(&s.row))
            .collect();
        assert_eq!(derived.len(), whole.len());
        for record in &derived {
            let ccusage = whole.iter().find(|s| s.key == record.key).unwrap();
            assert_eq!(record.row.tokens(), ccusage.row.tokens(), "{}", record.key);
            assert!((record.row.total_cost - ccusage.row.total_cost).abs() < 1_000);
            let models: u64 = record.breakdowns.iter().map(|b| b.total_tokens).sum();
            assert_eq!(models, record.row.total_tokens);
        }
    }
}

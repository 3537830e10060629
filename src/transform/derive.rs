//! Coarse rows summed from finer stored rows instead of taken from ccusage's snapshot.
//!
//! A month (and, in ccusage 15–18, a project's one long "session") can shrink because Claude
//! Code deleted its oldest logs and grow with new usage in the same snapshot: no version rule on
//! that one row can tell the lost part from the new part. A stored day only ever keeps its
//! largest figure, so a coarse row summed from the stored days never loses usage and always
//! equals them. Pure: the stored rows come in, the rows to write come out.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::{Context as _, Result};
use chrono::NaiveDate;

use super::rows::{
    children, session_key, ClassicRow, Context, DailyRow, Figures, ModelFigures, MonthlyRow,
    Nanodollars, ParentKind, ProjectDailyRow, Record, SessionRow, Tokens, UsageRecord,
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
    pub project_path: String,
    pub usage: Usage,
}

impl StoredSubSession {
    pub fn of_record(record: &Record<SessionRow>) -> StoredSubSession {
        let row = &record.row;
        StoredSubSession {
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

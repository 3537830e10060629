//! `--dry-run` counts what a run would write against what is stored: it connects as a run
//! does and reads what a run reads, but changes nothing (no schema change, no row, no ledger
//! row). Where the database does not exist yet, everything mapped would be written; where it
//! cannot be read (the server is unreachable, or its schema is one a run would upgrade first)
//! the counts are the rows mapped, and the summary says so.

use std::collections::{BTreeMap, HashMap, HashSet};

use anyhow::Result;
use chrono::{DateTime, SubsecRound, Utc};

use super::{add_stats, derive, Stored};
use crate::config::Config;
use crate::reports::{records, MappedReports, Rows};
use crate::run::RunReport;
use crate::sink::{SchemaState, Sink};
use crate::source::CommandSet;
use crate::transform::derive::{
    StoredDay, StoredHour, StoredProjectDay, StoredSessionDay, StoredSubSession,
};
use crate::transform::rows::{project_day_key, session_day_key, Context, Record, Table};

/// What a dry run found at the server.
pub(super) struct Connection {
    /// The database to compare with; `None` when there is none (or it cannot be read).
    pub sink: Option<Sink>,
    pub server_version: Option<String>,
    /// Why the counts are the rows mapped, not compared with what is stored.
    pub uncompared: Option<String>,
}

/// Connects without retrying (a dry run waits for no flapping server) and without DDL.
pub(super) async fn connect(config: &Config) -> Connection {
    let mut settings = config.clickhouse.clone();
    settings.retry.max_retries = 0;
    let mut sink = match Sink::connect(&settings).await {
        Ok(sink) => sink,
        Err(e) => {
            return Connection {
                sink: None,
                server_version: None,
                uncompared: Some(format!("{e:#}")),
            }
        }
    };
    let server_version = Some(sink.server_version.clone());
    let (sink, uncompared) = match sink.schema_state().await {
        Ok(SchemaState::Current) => (Some(sink), None),
        // Nothing stored: every row mapped is a row to write.
        Ok(SchemaState::Missing) => (None, None),
        Ok(SchemaState::Older) => (
            None,
            Some(format!(
                "the database {} has an older schema, which a run upgrades first",
                config.clickhouse.database
            )),
        ),
        Err(e) => (None, Some(format!("{e:#}"))),
    };
    Connection {
        sink,
        server_version,
        uncompared,
    }
}

/// Counts this run's rows and the rows summed from what would then be stored, as
/// `write_everything` would write them.
pub(super) async fn count(
    sink: &Sink,
    ctx: &Context,
    set: Option<CommandSet>,
    mapped: &MappedReports,
    run: &mut RunReport,
) -> Result<()> {
    let machine = &ctx.machine_name;
    let mut fresh = HashMap::new();
    for report in mapped.all() {
        let (stats, keys) = report.count(sink, machine).await?;
        add_stats(run, report.table(), stats);
        fresh.insert(report.table(), keys);
    }
    // What a run reads back after writing: the stored rows, with the rows it writes in
    // their place.
    let stored = Stored::read(sink, machine, set, run).await?;
    let stored = overlay(stored, written(mapped, &fresh));
    for report in derive(&stored, ctx, set, run)? {
        let (stats, _) = report.count(sink, machine).await?;
        add_stats(run, report.table(), stats);
    }
    Ok(())
}

/// This run's rows that a run would write, as they would be read back (whole seconds).
fn written(mapped: &MappedReports, fresh: &HashMap<&'static str, HashSet<String>>) -> Stored {
    fn of<'a, R: Table + 'static>(
        rows: &'a Option<Rows<R>>,
        fresh: &'a HashMap<&'static str, HashSet<String>>,
    ) -> impl Iterator<Item = &'a Record<R>> {
        let keys = fresh.get(R::TABLE);
        records(rows)
            .iter()
            .filter(move |r| keys.is_some_and(|k| k.contains(&r.key)))
    }
    let second = |t: DateTime<Utc>| t.trunc_subsecs(0);
    Stored {
        days: of(&mapped.daily, fresh).map(StoredDay::of_record).collect(),
        project_days: of(&mapped.projects_daily, fresh)
            .map(StoredProjectDay::of_record)
            .collect(),
        sub_sessions: of(&mapped.session, fresh)
            .map(StoredSubSession::of_record)
            .collect(),
        session_days: of(&mapped.session_days, fresh)
            .map(|r| {
                let mut day = StoredSessionDay::of_record(r);
                day.first_activity = day.first_activity.map(second);
                day.last_activity = second(day.last_activity);
                day
            })
            .collect(),
        hours: crate::sink::StoredHours {
            hours: of(&mapped.hours, fresh)
                .map(|r| {
                    let mut hour = StoredHour::of_record(r);
                    hour.last_entry = second(hour.last_entry);
                    hour
                })
                .collect(),
            ..Default::default()
        },
    }
}

fn overlay(stored: Stored, run: Stored) -> Stored {
    let mut hours = stored.hours;
    hours.hours = newer(hours.hours, run.hours.hours, |h| h.hour.to_rfc3339());
    Stored {
        days: newer(stored.days, run.days, |d| d.date.to_string()),
        project_days: newer(stored.project_days, run.project_days, |d| {
            project_day_key(d.date, &d.project)
        }),
        sub_sessions: newer(stored.sub_sessions, run.sub_sessions, |s| s.key.clone()),
        session_days: newer(stored.session_days, run.session_days, |d| {
            session_day_key(d.date, &d.project_path, &d.session_id)
        }),
        hours,
    }
}

/// `stored` with each of `run` in place of the stored row of its key.
fn newer<T>(stored: Vec<T>, run: Vec<T>, key: impl Fn(&T) -> String) -> Vec<T> {
    let mut by_key: BTreeMap<String, T> = stored.into_iter().map(|t| (key(&t), t)).collect();
    for row in run {
        by_key.insert(key(&row), row);
    }
    by_key.into_values().collect()
}

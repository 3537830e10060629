//! One project, one name. A project's rows are named when they are stored; a row is only
//! stored again when its figure changes, so rows stored before a project could be named (a
//! first import before its checkout existed, an importer that read names from the disk only)
//! kept ccusage's text beside the readable name of later rows: two rows of one project in
//! everything that groups by name. Each run reads the names its rows are stored under and
//! stores the rows of a key again under this run's name when they differ (through
//! `transform::rekey` with the same mode on both sides: same keys, new name, newer version);
//! and a name stored once is what a key is called when neither its logs nor the disk can
//! tell any more (`Projects::with_stored_names`), so a readable name is never lost again.

use anyhow::{Context as _, Result};
use clickhouse::Row;
use serde::Deserialize;

use crate::run::{RunReport, WriteStats};
use crate::sink::Sink;
use crate::sqlfile;
use crate::transform::projects::{renamed, Mode, StoredName};
use crate::transform::rekey::{self as rekeying, Rekeyed, Translation};
use crate::transform::rows::{self, Context, Table};

#[derive(Debug, Row, Deserialize)]
struct NameRow {
    project: String,
    project_name: String,
    imported_at: u32,
}

/// The names this machine's project rows are stored under. Hidden mode has one name.
pub(super) async fn stored(sink: &Sink, machine: &str, mode: Mode) -> Result<Vec<StoredName>> {
    if mode == Mode::Hidden {
        return Ok(Vec::new());
    }
    let sql = sqlfile::import("stored_project_names");
    let rows = sink
        .request("read this machine's project names", || {
            sink.client()
                .query(&sql)
                .bind(machine)
                .bind(machine)
                .bind(machine)
                .fetch_all::<NameRow>()
        })
        .await
        .context("cannot read the project names this machine stored")?;
    Ok(rows
        .into_iter()
        .map(|r| StoredName {
            project: r.project,
            name: r.project_name,
            imported_at: r.imported_at,
        })
        .collect())
}

/// Stores again, under this run's name, the sessions, session days and project days of
/// every key stored under another name; counted with the run's rows written (in a dry run:
/// counted, not written).
pub(super) async fn rename(
    sink: &Sink,
    ctx: &Context,
    stored: &[StoredName],
    run: &mut RunReport,
) -> Result<()> {
    let keys = renamed(stored, &ctx.projects);
    if keys.is_empty() {
        return Ok(());
    }
    crate::log::verbose!(
        "{} projects stored under another name: renaming",
        keys.len()
    );
    // The same mode on both sides: keys and ids stay, only the names change.
    let same = Translation::new(&ctx.projects, &ctx.projects);
    let machine = &ctx.machine_name;
    let sessions = sink
        .rekey_rows(
            machine,
            "rekey_sessions",
            "session",
            |r: &rows::SessionRow| rows::session_key(&r.project_path, &r.session_id),
        )
        .await?;
    let sessions = rekeying::sessions(sessions, &same, ctx)?;
    let days = sink
        .rekey_rows(
            machine,
            "rekey_projects_daily",
            "project_daily",
            |r: &rows::ProjectDailyRow| rows::project_day_key(r.date, &r.project),
        )
        .await?;
    let days = rekeying::projects_daily(days, &same, ctx)?;
    let session_days = sink
        .rekey_rows(
            machine,
            "rekey_session_days",
            "session_day",
            |r: &rows::SessionDayRow| rows::session_day_key(r.date, &r.project_path, &r.session_id),
        )
        .await?;
    let session_days = rekeying::session_days(session_days, &same, ctx)?;
    store(sink, &sessions, run).await?;
    store(sink, &days, run).await?;
    store(sink, &session_days, run).await
}

async fn store<R: Table>(sink: &Sink, renamed: &Rekeyed<R>, run: &mut RunReport) -> Result<()> {
    // Same keys: nothing is superseded.
    debug_assert!(renamed.superseded.is_empty());
    if !run.dry_run {
        sink.write_rekeyed(renamed).await?;
    }
    let stats = WriteStats {
        written: renamed.records.len(),
        breakdowns: renamed.records.iter().map(|r| r.breakdowns.len()).sum(),
        models: renamed.records.iter().map(|r| r.models.len()).sum(),
        unchanged: 0,
        new: 0,
    };
    super::add_stats(run, R::TABLE, stats);
    Ok(())
}

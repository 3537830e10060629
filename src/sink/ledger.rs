//! The `ccusage_import_runs` ledger: one row per run, written at its end, success or not.

use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{Context as _, Result};
use chrono::{DateTime, Utc};
use clickhouse::Row;
use serde::Serialize;

use super::Sink;
use crate::sqlfile;

#[derive(Debug, Clone, Row, Serialize)]
pub struct RunRow {
    pub run_id: String,
    pub machine_name: String,
    pub hostname: String,
    pub importer_version: String,
    pub ccusage_version: String,
    pub server_version: String,
    #[serde(with = "clickhouse::serde::chrono::datetime")]
    pub started_at: DateTime<Utc>,
    pub duration_ms: u64,
    pub dry_run: u8,
    pub exit_code: u8,
    pub daily_status: String,
    pub daily_rows: u64,
    pub monthly_status: String,
    pub monthly_rows: u64,
    pub session_status: String,
    pub session_rows: u64,
    pub blocks_status: String,
    pub blocks_rows: u64,
    pub hours_status: String,
    pub hours_rows: u64,
    pub projects_daily_status: String,
    pub projects_daily_rows: u64,
    pub agents_daily_status: String,
    pub agents_daily_rows: u64,
    pub rows_written: u64,
    pub rows_unchanged: u64,
    pub error: String,
    /// One line each, so cron's runs keep what they warned about where people look.
    pub warnings: String,
}

pub const TABLE: &str = "ccusage_import_runs";

/// Writes the run's row exactly once. The ledger is a plain MergeTree (nothing replaces a
/// row), and an insert whose answer was lost may have been stored all the same: so before
/// each retry, and once more when the insert finally failed, the ledger is asked whether it
/// already holds this run_id. One run is one row however often the insert was tried, and a
/// run whose row did arrive is not reported as failed.
pub async fn record(sink: &Sink, row: &RunRow) -> Result<()> {
    let first = AtomicBool::new(true);
    let what = format!("insert 1 row into {TABLE}");
    let written = sink
        .request(&what, || async {
            if !first.swap(false, Ordering::SeqCst) && stored(sink, row).await? {
                return Ok(());
            }
            sink.insert_once(TABLE, &[row]).await
        })
        .await;
    let Err(error) = written else {
        return Ok(());
    };
    let check = sink
        .request("look for this run in the ledger", || stored(sink, row))
        .await;
    match check {
        Ok(true) => Ok(()),
        _ => Err(error).with_context(|| format!("cannot write {TABLE}")),
    }
}

async fn stored(sink: &Sink, row: &RunRow) -> clickhouse::error::Result<bool> {
    let sql = sqlfile::import("ledger_has_run");
    let count = sink
        .client()
        .query(&sql)
        .bind(&row.machine_name)
        .bind(&row.run_id)
        .fetch_one::<u64>()
        .await?;
    Ok(count > 0)
}

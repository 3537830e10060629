//! The `ccusage_import_runs` ledger: one row per run, written at its end, success or not.

use chrono::{DateTime, Utc};
use clickhouse::Row;
use serde::Serialize;

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
    pub projects_daily_status: String,
    pub projects_daily_rows: u64,
    pub agents_daily_status: String,
    pub agents_daily_rows: u64,
    pub rows_written: u64,
    pub rows_unchanged: u64,
    pub error: String,
}

pub const TABLE: &str = "ccusage_import_runs";

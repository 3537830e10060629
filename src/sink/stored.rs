//! What this machine already stored, read back through `sql/import.sql`: the rows an import
//! compares with, the machine's settings, its last tick, and the fine rows coarse rows are
//! summed from. Every read goes through [`Sink::request`].

use std::collections::HashMap;

use anyhow::{Context as _, Result};
use clickhouse::Row;
use serde::Deserialize;

use super::Sink;
use crate::sqlfile;
use crate::transform::derive::{StoredHour, StoredSessionDay, Usage};
use crate::transform::rows::{ModelFigures, Table, Tokens};

/// A machine's row of `ccusage_machines` as the importer reads it.
#[derive(Debug, Clone, Row, Deserialize)]
pub struct StoredMachine {
    pub session_scheme: String,
    /// Empty in rows written before project modes existed (all plain).
    pub project_mode: String,
    /// [`crate::transform::projects::Projects::fingerprint`] of the key the rows were
    /// stored with; empty in plain mode and in rows written before fingerprints.
    pub key_fingerprint: String,
}

/// A row of a `stored_*` statement in `sql/import.sql`.
#[derive(Debug, Row, Deserialize)]
struct StoredUsage {
    key: String,
    name: String,
    #[serde(with = "clickhouse::serde::chrono::date")]
    date: chrono::NaiveDate,
    input_tokens: u64,
    output_tokens: u64,
    cache_creation_tokens: u64,
    cache_read_tokens: u64,
    total_cost: i64,
    models_used: Vec<String>,
}

#[derive(Debug, Row, Deserialize)]
struct StoredSessionDayRow {
    key: String,
    session_id: String,
    project_path: String,
    project_name: String,
    #[serde(with = "clickhouse::serde::chrono::date")]
    date: chrono::NaiveDate,
    #[serde(with = "clickhouse::serde::chrono::datetime::option")]
    first_activity: Option<chrono::DateTime<chrono::Utc>>,
    #[serde(with = "clickhouse::serde::chrono::datetime")]
    last_activity: chrono::DateTime<chrono::Utc>,
    input_tokens: u64,
    output_tokens: u64,
    cache_creation_tokens: u64,
    cache_read_tokens: u64,
    total_cost: i64,
    models_used: Vec<String>,
}

#[derive(Debug, Row, Deserialize)]
struct StoredDate {
    #[serde(with = "clickhouse::serde::chrono::date")]
    date: chrono::NaiveDate,
}

/// What [`Sink::stored_hours`] reads.
#[derive(Debug, Default)]
pub struct StoredHours {
    pub hours: Vec<StoredHour>,
    pub history_until: Option<chrono::DateTime<chrono::Utc>>,
    pub blocks: std::collections::BTreeMap<chrono::DateTime<chrono::Utc>, u64>,
}

#[derive(Debug, Row, Deserialize)]
struct StoredHourRow {
    #[serde(with = "clickhouse::serde::chrono::datetime")]
    hour: chrono::DateTime<chrono::Utc>,
    #[serde(with = "clickhouse::serde::chrono::datetime")]
    last_entry: chrono::DateTime<chrono::Utc>,
    entries: u64,
    input_tokens: u64,
    output_tokens: u64,
    cache_creation_tokens: u64,
    cache_read_tokens: u64,
    total_cost: i64,
    models_used: Vec<String>,
}

#[derive(Debug, Row, Deserialize)]
struct StoredBlockStart {
    #[serde(with = "clickhouse::serde::chrono::datetime")]
    start_time: chrono::DateTime<chrono::Utc>,
    total_tokens: u64,
}

#[derive(Debug, Row, Deserialize)]
struct StoredModel {
    parent_key: String,
    model_name: String,
    input_tokens: u64,
    output_tokens: u64,
    cache_creation_tokens: u64,
    cache_read_tokens: u64,
    cost: i64,
}

#[derive(Debug, Row, Deserialize)]
pub(super) struct Stored {
    pub(super) key: String,
    pub(super) content_hash: u64,
    pub(super) total_tokens: u64,
}

impl Sink {
    /// What `ccusage_machines` holds for `machine` (`None` before its first import).
    pub async fn stored_machine(&self, machine: &str) -> Result<Option<StoredMachine>> {
        let sql = sqlfile::import("stored_machine");
        self.request(
            "read this machine's session scheme and project mode",
            || {
                self.client()
                    .query(&sql)
                    .bind(machine)
                    .fetch_optional::<StoredMachine>()
            },
        )
        .await
        .context("cannot read ccusage_machines")
    }

    /// The tick of this machine's newest stored rows (0 when it stored none): read from every
    /// table, only when `ccusage_machine_ticks` has no row for the machine (see `last_tick`).
    pub(super) async fn last_row_tick(&self, machine: &str) -> Result<u64> {
        let sql = sqlfile::import("last_tick");
        self.request("read this machine's last import tick", || {
            let mut query = self.client().query(&sql);
            // One `?` (the machine) per table of its UNION: counted from the statement, so a
            // table added to it needs no count kept here.
            for _ in 0..sqlfile::placeholders(&sql) {
                query = query.bind(machine);
            }
            query.fetch_one::<u64>()
        })
        .await
        .context("cannot read this machine's last import")
    }

    /// What the 5-hour blocks are derived from (see `derive::blocks`): this machine's stored
    /// hours, where its blocks stored before the hours end, and the derived blocks stored as
    /// current (start → tokens).
    pub async fn stored_hours(&self, machine: &str) -> Result<StoredHours> {
        let hours_sql = sqlfile::import("stored_hours");
        let hours = self
            .request("read the stored hours", || {
                self.client()
                    .query(&hours_sql)
                    .bind(machine)
                    .fetch_all::<StoredHourRow>()
            })
            .await
            .context("cannot read ccusage_usage_hours")?;
        let until_sql = sqlfile::import("blocks_history_until");
        let until = self
            .request("read where the blocks stored before the hours end", || {
                self.client()
                    .query(&until_sql)
                    .bind(machine)
                    .bind(machine)
                    .fetch_one::<u32>()
            })
            .await
            .context("cannot read ccusage_usage_blocks")?;
        let blocks_sql = sqlfile::import("stored_derived_blocks");
        let blocks = self
            .request("read the stored derived blocks", || {
                self.client()
                    .query(&blocks_sql)
                    .bind(machine)
                    .fetch_all::<StoredBlockStart>()
            })
            .await
            .context("cannot read ccusage_usage_derived_blocks")?;
        Ok(StoredHours {
            hours: hours
                .into_iter()
                .map(|h| StoredHour {
                    hour: h.hour,
                    last_entry: h.last_entry,
                    entries: h.entries,
                    tokens: Tokens {
                        input: h.input_tokens,
                        output: h.output_tokens,
                        cache_creation: h.cache_creation_tokens,
                        cache_read: h.cache_read_tokens,
                    },
                    total_cost: h.total_cost,
                    models: h.models_used,
                })
                .collect(),
            history_until: (until > 0)
                .then(|| chrono::DateTime::from_timestamp(i64::from(until), 0))
                .flatten(),
            blocks: blocks
                .into_iter()
                .map(|b| (b.start_time, b.total_tokens))
                .collect(),
        })
    }

    /// Stored rows of one kind with their model breakdowns, for coarse rows summed from
    /// them: `query` names a `stored_*` statement, `parent_kind` its breakdowns. Returns each
    /// row's key, name, day and usage.
    pub async fn stored_usage(
        &self,
        machine: &str,
        query: &str,
        parent_kind: &str,
    ) -> Result<Vec<(String, String, chrono::NaiveDate, Usage)>> {
        let rows_sql = sqlfile::import(query);
        let rows = self
            .request(&format!("read {query}"), || {
                self.client()
                    .query(&rows_sql)
                    .bind(machine)
                    .fetch_all::<StoredUsage>()
            })
            .await
            .with_context(|| format!("cannot read {query}"))?;
        let mut by_parent = self.stored_breakdowns(machine, parent_kind).await?;
        Ok(rows
            .into_iter()
            .map(|r| {
                let usage = Usage {
                    tokens: Tokens {
                        input: r.input_tokens,
                        output: r.output_tokens,
                        cache_creation: r.cache_creation_tokens,
                        cache_read: r.cache_read_tokens,
                    },
                    total_cost: r.total_cost,
                    models_used: r.models_used,
                    breakdowns: by_parent.remove(&r.key).unwrap_or_default(),
                };
                (r.key, r.name, r.date, usage)
            })
            .collect())
    }

    /// This machine's stored session days with their model breakdowns (see `derive::sessions`).
    pub async fn stored_session_days(&self, machine: &str) -> Result<Vec<StoredSessionDay>> {
        let sql = sqlfile::import("stored_session_days");
        let rows = self
            .request("read stored_session_days", || {
                self.client()
                    .query(&sql)
                    .bind(machine)
                    .fetch_all::<StoredSessionDayRow>()
            })
            .await
            .context("cannot read stored_session_days")?;
        let mut by_parent = self.stored_breakdowns(machine, "session_day").await?;
        Ok(rows
            .into_iter()
            .map(|r| StoredSessionDay {
                session_id: r.session_id,
                project_path: r.project_path,
                project_name: r.project_name,
                date: r.date,
                first_activity: r.first_activity,
                last_activity: r.last_activity,
                usage: Usage {
                    tokens: Tokens {
                        input: r.input_tokens,
                        output: r.output_tokens,
                        cache_creation: r.cache_creation_tokens,
                        cache_read: r.cache_read_tokens,
                    },
                    total_cost: r.total_cost,
                    models_used: r.models_used,
                    breakdowns: by_parent.remove(&r.key).unwrap_or_default(),
                },
            })
            .collect())
    }

    /// The days whose sessions this machine stored.
    pub async fn session_day_dates(
        &self,
        machine: &str,
    ) -> Result<std::collections::BTreeSet<chrono::NaiveDate>> {
        let sql = sqlfile::import("session_day_dates");
        let dates = self
            .request("read the days whose sessions are stored", || {
                self.client()
                    .query(&sql)
                    .bind(machine)
                    .fetch_all::<StoredDate>()
            })
            .await
            .context("cannot read ccusage_usage_session_days")?;
        Ok(dates.into_iter().map(|d| d.date).collect())
    }

    /// The winning model breakdowns of one kind of this machine's stored rows, by parent key.
    pub(super) async fn stored_breakdowns(
        &self,
        machine: &str,
        parent_kind: &str,
    ) -> Result<HashMap<String, Vec<ModelFigures>>> {
        let models_sql = sqlfile::import("stored_models");
        let models = self
            .request(&format!("read the {parent_kind} model breakdowns"), || {
                self.client()
                    .query(&models_sql)
                    .bind(machine)
                    .bind(parent_kind)
                    .bind(machine)
                    .bind(parent_kind)
                    .fetch_all::<StoredModel>()
            })
            .await
            .context("cannot read ccusage_model_breakdowns")?;
        let mut by_parent: HashMap<String, Vec<ModelFigures>> = HashMap::new();
        for m in models {
            by_parent
                .entry(m.parent_key)
                .or_default()
                .push(ModelFigures {
                    model_name: m.model_name,
                    tokens: Tokens {
                        input: m.input_tokens,
                        output: m.output_tokens,
                        cache_creation: m.cache_creation_tokens,
                        cache_read: m.cache_read_tokens,
                    },
                    cost: m.cost,
                });
        }
        Ok(by_parent)
    }

    pub(super) async fn stored<R: Table>(&self, machine: &str) -> Result<HashMap<String, Stored>> {
        let sql = sqlfile::import(R::EXISTING);
        let what = format!("read what {} holds for this machine", R::TABLE);
        let rows = self
            .request(&what, || {
                self.client()
                    .query(&sql)
                    .bind(machine)
                    .fetch_all::<Stored>()
            })
            .await
            .with_context(|| format!("cannot read {}", R::TABLE))?;
        Ok(rows.into_iter().map(|s| (s.key.clone(), s)).collect())
    }
}

//! Sink: ClickHouse. Connects, applies `sql/schema.sql`, and writes rows so that a re-import
//! replaces instead of adding, and unchanged rows are not sent at all.

mod connection;
pub mod history;
mod http;
pub mod ledger;
pub mod migrate;
pub mod retry;
pub mod verify;

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{anyhow, Context as _, Result};
use clickhouse::sql::Identifier;
use clickhouse::{Client, Row, RowOwned, RowWrite};
use serde::Deserialize;

use crate::log::verbose;
pub use crate::run::WriteStats;
use crate::transform::derive::{StoredHour, StoredSessionDay, Usage};
use crate::transform::rekey::Rekeyed;
use crate::transform::rows::{
    MachineRow, ModelBreakdownRow, ModelFigures, ModelUsedRow, Record, Table, Tokens, UsageRecord,
};
use crate::{schema, sqlfile};
pub use connection::{CaCerts, ClickHouse, Secret};
use retry::RetryPolicy;

/// A connected ClickHouse with the database selected.
pub struct Sink {
    /// One client per endpoint, in the order given; `serving` is the one in use.
    clients: Vec<Client>,
    urls: Vec<String>,
    serving: AtomicUsize,
    /// The endpoint in use, for messages.
    pub url: String,
    pub database: String,
    /// `--ch-cluster`.
    pub cluster: Option<String>,
    /// sql/schema.sql, or its cluster form.
    pub schema: schema::Schema,
    pub server_version: String,
    /// `CH_USER`, to name it when the server refuses the login.
    pub user: String,
    timeout: Duration,
    retry: RetryPolicy,
    /// After this, no retry starts (`--ch-deadline`, counted from connecting).
    retries_end: Instant,
}

/// A wait before a retry at least this long is said on stderr, so a server that refuses the
/// connection does not leave the run silent for seconds; the dashboard's short waits are not.
const ANNOUNCED_WAIT: Duration = Duration::from_millis(500);

pub use crate::run::{BREAKDOWNS_TABLE, MODELS_USED_TABLE};
pub const MACHINES_TABLE: &str = "ccusage_machines";

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
struct Stored {
    key: String,
    content_hash: u64,
    total_tokens: u64,
}

impl Sink {
    /// Connects to the first endpoint that answers and asks its version. The database may
    /// not exist yet.
    pub async fn connect(cfg: &ClickHouse) -> Result<Sink> {
        let clients = cfg.urls.iter().map(|url| client(cfg, url)).collect();
        let schema = match &cfg.cluster {
            Some(cluster) => schema::schema().on_cluster(cluster, &cfg.database),
            None => schema::schema().clone(),
        };
        let mut sink = Sink {
            clients,
            urls: cfg.urls.clone(),
            serving: AtomicUsize::new(0),
            url: cfg.urls.first().cloned().unwrap_or_default(),
            database: cfg.database.clone(),
            cluster: cfg.cluster.clone(),
            schema,
            server_version: String::new(),
            user: cfg.user.clone(),
            timeout: cfg.timeout,
            retry: cfg.retry,
            retries_end: Instant::now() + cfg.retry.deadline,
        };
        let version_sql = sqlfile::import("server_version");
        sink.server_version = sink
            .request("ask the server version", || {
                sink.client().query(&version_sql).fetch_one::<String>()
            })
            .await?;
        sink.url = sink.serving_url().to_owned();
        if let Some(cluster) = &cfg.cluster {
            sink.wait_for_replicas(cluster, cfg.timeout).await?;
        }
        Ok(sink)
    }

    /// Where the cluster's shards have two replicas or more, every request from here on asks
    /// the server to acknowledge an insert only once two replicas hold it (`insert_quorum`,
    /// which the Distributed table's synchronous insert passes on to each shard): a replica
    /// that dies right after its insert cannot take rows no other node has with it, while the
    /// run goes on to say `ok`. With a replica down, the quorum cannot be met and the run
    /// fails (exit 3) until it is back; the next run then writes what is missing.
    async fn wait_for_replicas(&mut self, cluster: &str, timeout: Duration) -> Result<()> {
        let sql = sqlfile::import("cluster_min_replicas");
        let replicas = self
            .request("count the replicas of the cluster's shards", || {
                self.client().query(&sql).bind(cluster).fetch_one::<u64>()
            })
            .await?;
        if replicas < 2 {
            return Ok(());
        }
        // The server gives up waiting for the second replica before the client gives up on
        // the request, so the answer says why.
        let quorum_timeout = (timeout / 2).as_millis().to_string();
        self.clients = std::mem::take(&mut self.clients)
            .into_iter()
            .map(|client| {
                client
                    .with_setting("insert_quorum", "2")
                    .with_setting("insert_quorum_timeout", quorum_timeout.as_str())
            })
            .collect();
        Ok(())
    }

    /// Every endpoint's URL and client, in the order given.
    pub fn endpoints(&self) -> impl Iterator<Item = (&str, &Client)> {
        self.urls.iter().map(String::as_str).zip(&self.clients)
    }

    /// The URL of the endpoint in use.
    pub fn serving_url(&self) -> &str {
        &self.urls[self.serving.load(Ordering::Relaxed)]
    }

    /// After a failure of the endpoint in use: the next one, when there are several.
    /// Returns whether it moved.
    fn next_endpoint(&self) -> bool {
        if self.clients.len() < 2 {
            return false;
        }
        let next = (self.serving.load(Ordering::Relaxed) + 1) % self.clients.len();
        self.serving.store(next, Ordering::Relaxed);
        true
    }

    /// Brings the database to `sql/schema.sql` (see [`migrate`]): fails naming every
    /// mismatch a person must fix, before anything is written; sends no DDL when the
    /// database is up to date.
    pub async fn apply_schema(&mut self) -> Result<()> {
        let live = migrate::read(self).await?;
        let findings = migrate::review(&self.schema, &live, &self.database);
        let mismatches = migrate::mismatches(&findings);
        if !mismatches.is_empty() {
            anyhow::bail!(
                "the database {} does not match sql/schema.sql: {}",
                self.database,
                mismatches.join("; ")
            );
        }
        for step in migrate::plan(&live, &findings) {
            self.apply(&step).await?;
        }
        self.use_database();
        Ok(())
    }

    /// Runs one schema change. A refusal names the statement, so a user without DDL rights
    /// learns which change the database still needs.
    async fn apply(&mut self, step: &migrate::Step) -> Result<()> {
        use migrate::Step;
        let what = match step {
            Step::CreateDatabase => format!("create the database {}", self.database),
            Step::Create { what, .. } => format!("create the {what}"),
            Step::AddColumn { table, column, .. } => format!("add column {column} to {table}"),
            Step::ReplaceView { name, .. } => format!("re-create the view {name}"),
            Step::RecreateDistributed { name, .. } => {
                format!("re-create the Distributed table {name} (it holds no rows)")
            }
        };
        verbose!("schema: {what}");
        let sent = match step {
            Step::CreateDatabase => {
                let sql = self.schema.create_database.replace("`{database}`", "?");
                self.request(&what, || {
                    self.client()
                        .query(&sql)
                        .bind(Identifier(&self.database))
                        .execute()
                })
                .await
            }
            Step::Create { sql, .. } => self.ddl(&what, sql).await,
            Step::AddColumn {
                table,
                column,
                column_type,
            } => {
                // The type comes from sql/schema.sql, never from input; names are bound.
                let sql = self
                    .on_cluster(sqlfile::import("add_column"))
                    .replace("{type}", column_type);
                self.ddl_on(&what, &sql, table, Some(column)).await
            }
            Step::ReplaceView { name, sql } | Step::RecreateDistributed { name, sql } => {
                let drop = self.on_cluster(sqlfile::import("drop_view"));
                match self.ddl_on(&what, &drop, name, None).await {
                    Ok(()) => self.ddl(&what, sql).await,
                    Err(e) => Err(e),
                }
            }
        };
        sent.with_context(|| format!("cannot {what} (sql/schema.sql)"))
    }

    /// `ALTER TABLE ? …` / `DROP TABLE IF EXISTS ?` with `ON CLUSTER` after the name in
    /// cluster mode (the cluster name is a checked identifier).
    fn on_cluster(&self, sql: String) -> String {
        match &self.cluster {
            Some(cluster) => sql.replacen(" ?", &format!(" ? ON CLUSTER `{cluster}`"), 1),
            None => sql,
        }
    }

    async fn ddl(&self, what: &str, sql: &str) -> Result<()> {
        self.request(what, || {
            self.client()
                .clone()
                .with_database(&self.database)
                .query(sql)
                .execute()
        })
        .await
    }

    /// A DDL statement whose `?` marks are the object's (and the column's) name.
    async fn ddl_on(
        &self,
        what: &str,
        sql: &str,
        object: &str,
        column: Option<&str>,
    ) -> Result<()> {
        self.request(what, || {
            let query = self
                .client()
                .clone()
                .with_database(&self.database)
                .query(sql)
                .bind(Identifier(object));
            match column {
                Some(column) => query.bind(Identifier(column)),
                None => query,
            }
            .execute()
        })
        .await
    }

    /// Selects the database without creating anything (for --verify).
    pub fn use_database(&mut self) {
        for client in &mut self.clients {
            *client = client.clone().with_database(&self.database);
        }
    }

    /// The same connection with a fresh retry budget: a long-lived reader (the dashboard)
    /// gets the whole --ch-deadline for each request, as each import run does.
    pub fn renewed(&self) -> Sink {
        Sink {
            clients: self.clients.clone(),
            urls: self.urls.clone(),
            serving: AtomicUsize::new(self.serving.load(Ordering::Relaxed)),
            url: self.url.clone(),
            database: self.database.clone(),
            cluster: self.cluster.clone(),
            schema: self.schema.clone(),
            server_version: self.server_version.clone(),
            user: self.user.clone(),
            timeout: self.timeout,
            retry: self.retry,
            retries_end: Instant::now() + self.retry.deadline,
        }
    }

    /// The client of the endpoint in use: ask it anew for every try, since a failure may
    /// move the run to the next endpoint.
    pub fn client(&self) -> &Client {
        &self.clients[self.serving.load(Ordering::Relaxed)]
    }

    /// Writes the records this machine's database does not already hold, children first so a
    /// stored parent never points at children that are missing. The stats count what was
    /// written even when a later insert failed: a failed run's summary tells what it stored.
    pub async fn write<R: Table>(
        &self,
        machine: &str,
        records: &[Record<R>],
    ) -> (WriteStats, Result<()>) {
        let mut stats = WriteStats::default();
        let result = self.write_counting(machine, records, &mut stats).await;
        (stats, result)
    }

    async fn write_counting<R: Table>(
        &self,
        machine: &str,
        records: &[Record<R>],
        stats: &mut WriteStats,
    ) -> Result<()> {
        let stored = self.stored::<R>(machine).await?;
        let fresh: Vec<&Record<R>> = records
            .iter()
            .filter(|record| needs_writing(record, stored.get(&record.key)))
            .collect();
        let breakdowns: Vec<&ModelBreakdownRow> =
            fresh.iter().flat_map(|r| r.breakdowns.iter()).collect();
        let models: Vec<&ModelUsedRow> = fresh.iter().flat_map(|r| r.models.iter()).collect();
        self.insert(BREAKDOWNS_TABLE, breakdowns.iter().copied())
            .await?;
        stats.breakdowns = breakdowns.len();
        self.insert(MODELS_USED_TABLE, models.iter().copied())
            .await?;
        stats.models = models.len();
        self.insert(R::TABLE, fresh.iter().map(|r| &r.row)).await?;
        stats.written = fresh.len();
        stats.unchanged = records.len() - fresh.len();
        stats.new = fresh
            .iter()
            .filter(|r| !stored.contains_key(&r.key))
            .count();
        Ok(())
    }

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

    /// Records the machine's session scheme and project mode when either changed, so the
    /// sessions view reads the scheme of the ccusage it runs now and a run in another mode is
    /// refused. Returns whether a row was written.
    pub async fn write_machine(&self, row: &MachineRow) -> Result<bool> {
        let stored = self.stored_machine(&row.machine_name).await?;
        let same = stored.is_some_and(|s| {
            s.session_scheme == row.session_scheme
                && s.project_mode == row.project_mode
                && s.key_fingerprint == row.key_fingerprint
        });
        if same {
            return Ok(false);
        }
        self.insert(MACHINES_TABLE, std::iter::once(row)).await?;
        Ok(true)
    }

    /// Gives this machine's days stored without their breakdown arrays (by an older importer)
    /// the arrays, from their winning version's child rows (`fill_day_breakdowns`).
    pub async fn fill_day_breakdowns(&self, machine: &str) -> Result<()> {
        let sql = sqlfile::import("fill_day_breakdowns");
        self.request("fill in the model breakdown of older stored days", || {
            self.client()
                .query(&sql)
                .bind(machine)
                .bind(machine)
                .execute()
        })
        .await
        .context("cannot fill in the model breakdown of days stored by an older importer")
    }

    /// The tick of this machine's newest stored rows (0 when it stored none).
    pub async fn last_tick(&self, machine: &str) -> Result<u64> {
        let sql = sqlfile::import("last_tick");
        self.request("read this machine's last import tick", || {
            let mut query = self.client().query(&sql);
            // One `?` (the machine) per table of its UNION: counted from the statement, so a
            // table added to it needs no count kept here.
            for _ in 0..sql.matches('?').count() {
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
    /// row's name, day and usage.
    pub async fn stored_usage(
        &self,
        machine: &str,
        query: &str,
        parent_kind: &str,
    ) -> Result<Vec<(String, chrono::NaiveDate, Usage)>> {
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
                (r.name, r.date, usage)
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
    async fn stored_breakdowns(
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

    /// `--rekey-projects`: this machine's rows of one table as stored (`query` names a
    /// `rekey_*` statement), each with its model breakdowns (`key` gives its parent key).
    pub async fn rekey_rows<R>(
        &self,
        machine: &str,
        query: &str,
        parent_kind: &str,
        key: impl Fn(&R) -> String,
    ) -> Result<Vec<(R, Vec<ModelFigures>)>>
    where
        R: RowOwned + clickhouse::RowRead,
    {
        let sql = sqlfile::import(query);
        let rows = self
            .request(&format!("read {query}"), || {
                self.client().query(&sql).bind(machine).fetch_all::<R>()
            })
            .await
            .with_context(|| format!("cannot read {query}"))?;
        let mut breakdowns = self.stored_breakdowns(machine, parent_kind).await?;
        Ok(rows
            .into_iter()
            .map(|row| {
                let children = breakdowns.remove(&key(&row)).unwrap_or_default();
                (row, children)
            })
            .collect())
    }

    /// Writes what `--rekey-projects` made of one table: the children of the re-keyed rows,
    /// then those rows and the superseded copies of the old ones in one insert, so the old
    /// keys are never skipped without their new rows stored, nor the reverse.
    pub async fn write_rekeyed<R: Table>(&self, rekeyed: &Rekeyed<R>) -> Result<usize> {
        let records = &rekeyed.records;
        self.insert(
            BREAKDOWNS_TABLE,
            records.iter().flat_map(|r| r.breakdowns.iter()),
        )
        .await?;
        self.insert(
            MODELS_USED_TABLE,
            records.iter().flat_map(|r| r.models.iter()),
        )
        .await?;
        let rows = records
            .iter()
            .map(|r| &r.row)
            .chain(rekeyed.superseded.iter());
        self.insert(R::TABLE, rows).await?;
        Ok(records.len() + rekeyed.superseded.len())
    }

    async fn stored<R: Table>(&self, machine: &str) -> Result<HashMap<String, Stored>> {
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

    /// One INSERT with named columns, sent as RowBinary: values never become SQL text.
    /// A retried insert sends the same rows again; the tables replace equal keys, so a retry
    /// after a lost answer never counts anything twice.
    pub async fn insert<'a, T>(&self, table: &str, rows: impl Iterator<Item = &'a T>) -> Result<()>
    where
        T: RowOwned + RowWrite,
    {
        let rows: Vec<&T> = rows.collect();
        if rows.is_empty() {
            return Ok(());
        }
        let what = format!("insert {} rows into {table}", rows.len());
        self.request(&what, || self.insert_once(table, &rows))
            .await
            .with_context(|| format!("cannot write {table}"))
    }

    /// One try of an insert, without retries.
    pub async fn insert_once<T>(&self, table: &str, rows: &[&T]) -> clickhouse::error::Result<()>
    where
        T: RowOwned + RowWrite,
    {
        let mut insert = self
            .client()
            .insert::<T>(table)
            .await?
            .with_timeouts(Some(self.timeout), Some(self.timeout));
        for row in rows {
            insert.write(row).await?;
        }
        insert.end().await
    }

    /// Sends one request, bounded by the timeout, again after a transient failure with
    /// backoff; the final error is one line that says what to do.
    pub async fn request<T, F, Fut>(&self, what: &str, mut send: F) -> Result<T>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = clickhouse::error::Result<T>>,
    {
        let mut attempt = 0;
        // Endpoints refused in a row: a connection failure moves to the next one at once,
        // until every endpoint has failed; then the retries wait as usual.
        let mut unreachable = 0;
        loop {
            let started = Instant::now();
            let result = self.bounded(send()).await;
            let url = self.serving_url().to_owned();
            verbose!("{what}: {} ms ({url})", started.elapsed().as_millis());
            let error = match result {
                Ok(value) => return Ok(value),
                Err(e) => e,
            };
            let reason = match retry::classify(&error) {
                retry::Verdict::Final(reason) => {
                    verbose!("{what} failed ({error}); not retried: {reason}");
                    return Err(describe(error, &url, &self.user));
                }
                retry::Verdict::Retry(reason) => reason,
            };
            let connection_failed = matches!(error, clickhouse::error::Error::Network(_));
            if connection_failed && unreachable + 1 < self.clients.len() && self.next_endpoint() {
                unreachable += 1;
                verbose!(
                    "{what}: {url} cannot be reached ({error}); moving to {}",
                    self.serving_url()
                );
                continue;
            }
            unreachable = 0;
            if attempt >= self.retry.max_retries {
                verbose!("{what} failed ({error}); {reason}, but --max-retries is used up");
                return Err(describe(error, &url, &self.user));
            }
            let delay = self.retry.delay(attempt, retry::jitter());
            if Instant::now() + delay > self.retries_end {
                verbose!("{what} failed ({error}); {reason}, but the retry budget is spent");
                let budget = self.retry.deadline.as_secs();
                return Err(describe(error, &url, &self.user).context(format!(
                    "ClickHouse kept failing and the run's retry budget (--ch-deadline \
                     {budget} s) is spent; fix the server or raise --ch-deadline"
                )));
            }
            attempt += 1;
            if attempt == 1 && connection_failed && delay >= ANNOUNCED_WAIT {
                crate::log::emit(&format!(
                    "ccusage-import: ClickHouse at {url} cannot be reached: retrying (up to {} \
                     times within {} s; --max-retries, --ch-deadline)\n",
                    self.retry.max_retries,
                    self.retry.deadline.as_secs()
                ));
            }
            if self.next_endpoint() {
                verbose!(
                    "{what} failed at {url} ({error}); retried: {reason}; retry {attempt} in {} ms at {}",
                    delay.as_millis(),
                    self.serving_url()
                );
            } else {
                verbose!(
                    "{what} failed ({error}); retried: {reason}; retry {attempt} in {} ms",
                    delay.as_millis()
                );
            }
            tokio::time::sleep(delay).await;
        }
    }

    /// Runs a request under the configured timeout, once; [`Sink::request`] adds retries.
    pub async fn bounded<T>(
        &self,
        work: impl Future<Output = clickhouse::error::Result<T>>,
    ) -> clickhouse::error::Result<T> {
        match tokio::time::timeout(self.timeout, work).await {
            Ok(result) => result,
            Err(_) => Err(clickhouse::error::Error::TimedOut),
        }
    }
}

/// The client of one endpoint. In a cluster, an insert into a Distributed table returns
/// once every shard stored its rows (`insert_distributed_sync`), and every request of the run
/// reads from the same replica of each shard (`load_balancing = in_order`, the local replica
/// first) that the inserts went to, so the importer reads back what it just wrote; a
/// JOIN or IN over a Distributed table in a query runs as GLOBAL (18.16 refuses it otherwise).
fn client(cfg: &ClickHouse, url: &str) -> Client {
    // Validation needs RowBinaryWithNamesAndTypes, which 18.16 lacks; inserts name their
    // columns either way, and --verify checks every column's type against the schema.
    let client = Client::with_http_client(http::client(cfg.max_response, cfg.ca.as_ref()))
        .with_url(url)
        .with_user(&cfg.user)
        .with_password(cfg.password.expose())
        .with_validation(false)
        .with_product_info("ccusage-import", env!("CARGO_PKG_VERSION"));
    match cfg.cluster {
        Some(_) => client
            .with_setting("insert_distributed_sync", "1")
            .with_setting("load_balancing", "in_order")
            .with_setting("distributed_product_mode", "global"),
        None => client,
    }
}

/// A row is written unless the database holds exactly it, or a figure with more usage (the
/// complete figure from before Claude Code deleted some of its logs).
fn needs_writing<R: UsageRecord>(record: &Record<R>, stored: Option<&Stored>) -> bool {
    match stored {
        None => true,
        Some(s) => {
            s.content_hash != record.row.content_hash()
                && s.total_tokens <= record.row.total_tokens()
        }
    }
}

/// Turns a client error into one line that says what failed and what to do. The password is
/// redacted from it, since a server or a proxy may echo what it was sent.
pub fn describe(error: clickhouse::error::Error, url: &str, user: &str) -> anyhow::Error {
    anyhow!(crate::log::redact(&describe_text(error, url, user)).into_owned())
}

fn describe_text(error: clickhouse::error::Error, url: &str, user: &str) -> String {
    use clickhouse::error::Error;
    let text = match &error {
        Error::Network(source) if http::too_large(source.as_ref()).is_some() => {
            let limit = http::too_large(source.as_ref()).unwrap_or_default();
            format!(
                "ClickHouse at {url} answered more than {limit} bytes, the bound on an answer \
                 (CH_MAX_RESPONSE): is CH_URL a ClickHouse server? If it is, raise \
                 CH_MAX_RESPONSE"
            )
        }
        Error::Network(source) => {
            let chain = error_chain(source.as_ref());
            let hint = if chain.contains("refused") {
                "is the server running? check CH_HOST and CH_PORT"
            } else if chain.contains("dns") || chain.contains("resolve") || chain.contains("lookup")
            {
                "check CH_HOST"
            } else {
                "check CH_HOST, CH_PORT and CH_SECURE"
            };
            format!("cannot reach ClickHouse at {url}: {chain}; {hint}")
        }
        Error::TimedOut => format!(
            "ClickHouse at {url} did not answer in time; check the server or raise --ch-timeout"
        ),
        Error::BadResponse(message) => match retry::proxy_page(message) {
            Some(page) => {
                let status = page
                    .status
                    .map_or_else(|| "with an HTML page".to_owned(), |s| format!("HTTP {s}"));
                format!(
                    "ClickHouse at {url} did not answer: a proxy answered {status} instead; \
                     check that the server behind it is running, and CH_URL"
                )
            }
            None => {
                let first = message.lines().next().unwrap_or_default();
                // Said in our words: the server's text adds only its exception boilerplate.
                if retry::is_login_refused(first) {
                    let user = crate::log::printable(user);
                    return format!(
                        "ClickHouse at {url} refused the login for user {user}: check CH_USER \
                         and CH_PASSWORD"
                    );
                }
                let hint = server_error_hint(first);
                format!(
                    "ClickHouse at {url} refused: {}{hint}",
                    crate::log::printable(first)
                )
            }
        },
        other => format!("ClickHouse at {url}: {other}"),
    };
    text
}

fn server_error_hint(message: &str) -> &'static str {
    match retry::server_code(message) {
        Some(164 | 497) => "; the user may not write: grant it INSERT and CREATE on the database",
        Some(81) => "; check CH_DATABASE",
        Some(242 | 225 | 999) => {
            "; ClickHouse has no ZooKeeper session (replicated tables are read-only and ON \
             CLUSTER changes cannot be queued without it): is ZooKeeper running and reachable \
             from every node? Nothing stored was changed; run again once it is back"
        }
        Some(285 | 286 | 319) => {
            "; in this cluster an insert is acknowledged once two replicas of its shard hold it \
             (insert_quorum), and a replica is down or behind: start it; nothing was lost, and \
             the next run writes what is missing"
        }
        Some(392) => {
            "; the user may not run DDL (allow_ddl=0) and the database needs this change: \
             run ccusage-import once as a user who may"
        }
        _ => "",
    }
}

fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![error.to_string()];
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = cause.source();
    }
    parts.join(": ")
}

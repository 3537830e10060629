//! Sink: ClickHouse. Connects, applies `sql/schema.sql`, and writes rows so that a re-import
//! replaces instead of adding, and unchanged rows are not sent at all.

mod connection;
mod error;
pub mod history;
mod http;
pub mod ledger;
pub mod migrate;
pub mod retry;
mod stored;
mod tick;
pub mod verify;

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result};
use clickhouse::sql::Identifier;
use clickhouse::{Client, RowOwned, RowWrite};

use crate::log::verbose;
pub use crate::run::WriteStats;
use crate::transform::rekey::Rekeyed;
use crate::transform::rows::{
    MachineRow, ModelBreakdownRow, ModelFigures, ModelUsedRow, Record, Table, UsageRecord,
};
use crate::{schema, sqlfile};
pub use connection::{CaCerts, ClickHouse, Secret};
pub use error::describe;
use retry::RetryPolicy;
use stored::Stored;
pub use stored::{StoredHours, StoredMachine};

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

/// What [`Sink::schema_state`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SchemaState {
    Missing,
    /// A run would change it first (or refuse to write).
    Older,
    Current,
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

    /// For `--dry-run`, which sends no DDL: whether the database is there and up to date
    /// (then the sink reads it, and what a run would write can be counted against it).
    pub async fn schema_state(&mut self) -> Result<SchemaState> {
        let live = migrate::read(self).await?;
        if !live.database_exists {
            return Ok(SchemaState::Missing);
        }
        let findings = migrate::review(&self.schema, &live, &self.database);
        if !migrate::mismatches(&findings).is_empty() || !migrate::plan(&live, &findings).is_empty()
        {
            return Ok(SchemaState::Older);
        }
        self.use_database();
        Ok(SchemaState::Current)
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

    /// What [`Sink::write`] would write, counted the same way, written not (`--dry-run`);
    /// with the keys of the rows it would write.
    pub async fn count<R: Table>(
        &self,
        machine: &str,
        records: &[Record<R>],
    ) -> Result<(WriteStats, HashSet<String>)> {
        let stored = self.stored::<R>(machine).await?;
        let fresh: Vec<&Record<R>> = records
            .iter()
            .filter(|record| needs_writing(record, stored.get(&record.key)))
            .collect();
        let stats = WriteStats {
            written: fresh.len(),
            unchanged: records.len() - fresh.len(),
            breakdowns: fresh.iter().map(|r| r.breakdowns.len()).sum(),
            models: fresh.iter().map(|r| r.models.len()).sum(),
            new: fresh
                .iter()
                .filter(|r| !stored.contains_key(&r.key))
                .count(),
        };
        Ok((stats, fresh.iter().map(|r| r.key.clone()).collect()))
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

//! What the summary reads back from ClickHouse after writing: the previous import of this
//! machine (from the `ccusage_import_runs` ledger) and the totals of all machines (from the
//! `FINAL` views). Statements live in `sql/import.sql`; values are bound, never spliced.

use anyhow::{Context as _, Result};
use chrono::{DateTime, Utc};
use clickhouse::Row;
use serde::Deserialize;

use super::Sink;
use crate::run::{Fleet, PreviousImport, RunReport, StoredDays};
use crate::sqlfile;

#[derive(Debug, Row, Deserialize)]
struct PreviousRow {
    #[serde(with = "clickhouse::serde::chrono::datetime")]
    started_at: DateTime<Utc>,
}

/// The start of this machine's last import before `run_id` that wrote to the database.
pub async fn previous_import(sink: &Sink, machine: &str, run_id: &str) -> Result<PreviousImport> {
    let sql = sqlfile::import("previous_import");
    let row = sink
        .request("read this machine's previous import", || {
            sink.client()
                .query(&sql)
                .bind(machine)
                .bind(run_id)
                .fetch_optional::<PreviousRow>()
        })
        .await
        .context("cannot read the previous import from ccusage_import_runs")?;
    Ok(row.map_or(PreviousImport::Never, |r| PreviousImport::At(r.started_at)))
}

/// The fleet line's totals, from one row per machine (ccusage_machine_totals) instead of every
/// machine's days: this machine's row is written first (when it changed), then, on this
/// machine's first import with this release only, the rows of machines whose last import was
/// by an older release. Both writes are idempotent, so a retry sends them again safely.
pub async fn fleet(sink: &Sink, machine: &str) -> Result<Fleet> {
    let has = sqlfile::import("has_totals");
    let had_totals = sink
        .request("read whether this machine has its totals", || {
            sink.client().query(&has).bind(machine).fetch_one::<u64>()
        })
        .await
        .context("cannot read ccusage_machine_totals")?
        > 0;
    let own = sqlfile::import("machine_totals");
    sink.request("write this machine's totals", || {
        sink.client()
            .query(&own)
            .bind(machine)
            .bind(machine)
            .bind(machine)
            .execute()
    })
    .await
    .context("cannot write this machine's totals into ccusage_machine_totals")?;
    if !had_totals {
        let missing = sqlfile::import("fill_missing_totals");
        sink.request(
            "write the totals of machines imported by older releases",
            || sink.client().query(&missing).execute(),
        )
        .await
        .context("cannot write the totals of older machines into ccusage_machine_totals")?;
    }
    let sql = sqlfile::import("fleet_totals");
    sink.request("read the totals of all machines", || {
        sink.client().query(&sql).fetch_one::<Fleet>()
    })
    .await
    .context("cannot read the totals of all machines")
}

/// This machine's stored days from `first` to `last`.
pub async fn stored_days(
    sink: &Sink,
    machine: &str,
    first: chrono::NaiveDate,
    last: chrono::NaiveDate,
) -> Result<StoredDays> {
    let sql = sqlfile::import("stored_range");
    let (first, last) = (first.to_string(), last.to_string());
    sink.request("read this machine's stored days", || {
        sink.client()
            .query(&sql)
            .bind(machine)
            .bind(&first)
            .bind(&last)
            .fetch_one::<StoredDays>()
    })
    .await
    .context("cannot read this machine's stored days")
}

/// This machine's sessions that another machine stored too: one row per other machine.
#[derive(Debug, Row, Deserialize)]
struct SharedRow {
    other: String,
    sessions: u64,
    cost_usd: f64,
}

/// A warning for each other machine that stored this machine's sessions: synced logs (a
/// dotfiles repository, a cloud folder holding `~/.claude`) make the fleet count them twice.
///
/// This machine's sessions are first copied into ccusage_session_owners (those new or changed
/// there), whose key starts with the session: the check then looks up this machine's sessions
/// by key, and its cost does not grow with the fleet.
pub async fn shared_sessions(sink: &Sink, machine: &str) -> Result<Vec<String>> {
    let owners = sqlfile::import("session_owners");
    sink.request(
        "write this machine's sessions into ccusage_session_owners",
        || {
            sink.client()
                .query(&owners)
                .bind(machine)
                .bind(machine)
                .execute()
        },
    )
    .await
    .context("cannot write this machine's sessions into ccusage_session_owners")?;
    let sql = sqlfile::import("shared_sessions");
    let rows = sink
        .request("read the sessions other machines stored too", || {
            sink.client()
                .query(&sql)
                .bind(machine)
                .bind(machine)
                .bind(machine)
                .fetch_all::<SharedRow>()
        })
        .await
        .context("cannot read the sessions other machines stored")?;
    Ok(rows
        .into_iter()
        .map(|r| {
            format!(
                "{} of this machine's sessions (${:.2}) are also stored under machine {}: the same Claude logs are imported on both (synced ~/.claude?), so fleet totals count them twice; see `ccusage-import query fleet_shared_sessions` and docs/data-fidelity.md, \"Logs shared between machines\"",
                r.sessions, r.cost_usd, r.other
            )
        })
        .collect())
}

/// Fills the run's `previous_import` and `fleet` after a successful write, before the run's
/// own ledger row exists. A failed read only costs the summary a line: it is noted in
/// `history_error` and does not change the exit code.
pub async fn read(sink: &Sink, run: &mut RunReport) {
    if run.clickhouse_error.is_some() {
        return;
    }
    let previous = previous_import(sink, &run.machine_name, &run.run_id).await;
    let fleet = fleet(sink, &run.machine_name).await;
    let shared = shared_sessions(sink, &run.machine_name).await;
    let mut errors = Vec::new();
    match shared {
        Ok(warnings) => run.warnings.extend(warnings),
        Err(e) => errors.push(format!("{e:#}")),
    }
    match previous {
        Ok(previous) => run.previous_import = previous,
        Err(e) => errors.push(format!("{e:#}")),
    }
    match fleet {
        Ok(fleet) => run.fleet = Some(fleet),
        Err(e) => errors.push(format!("{e:#}")),
    }
    if let (Some(first), Some(last)) = (run.first_date, run.last_date) {
        match stored_days(sink, &run.machine_name, first, last).await {
            Ok(stored) => run.stored_days = Some(stored),
            Err(e) => errors.push(format!("{e:#}")),
        }
    }
    if !errors.is_empty() {
        run.history_error = Some(errors.join("; "));
    }
}

/// The current month's cost of the fleet and of one machine, for the budget check.
#[derive(Debug, Row, Deserialize)]
struct BudgetMonth {
    fleet_cost: f64,
    machine_cost: f64,
    days_elapsed: u32,
    days_in_month: u32,
}

/// After the fleet's totals are written (`fleet`), a warning for each budget this month's
/// projection crosses: the fleet's (`--budget`) and this machine's (the budget file). Read
/// only when a budget is set; a failed read is noted in `history_error` as the others are.
pub async fn budgets(sink: &Sink, run: &mut RunReport, budgets: &crate::budget::Budgets) {
    use crate::budget::{warning, Month};
    let own = budgets.for_machine(&run.machine_name);
    if run.clickhouse_error.is_some() || run.fleet.is_none() {
        return;
    }
    if own.fleet.is_none() && own.machine.is_none() {
        return;
    }
    let sql = sqlfile::import("budget_month");
    let read = sink
        .request("read this month's cost for the budget", || {
            sink.client()
                .query(&sql)
                .bind(&run.machine_name)
                .fetch_one::<BudgetMonth>()
        })
        .await
        .context("cannot read this month's cost from ccusage_machine_totals");
    let row = match read {
        Ok(row) => row,
        Err(e) => {
            let error = format!("{e:#}");
            run.history_error = Some(match run.history_error.take() {
                Some(before) => format!("{before}; {error}"),
                None => error,
            });
            return;
        }
    };
    let month = |cost| Month {
        cost,
        days_elapsed: row.days_elapsed,
        days_in_month: row.days_in_month,
    };
    if let Some(budget) = own.fleet {
        let source = "--budget / CCUSAGE_IMPORT_BUDGET";
        run.warnings
            .extend(warning("the fleet", month(row.fleet_cost), budget, source));
    }
    if let Some(budget) = own.machine {
        let source = match &budgets.file {
            Some(path) => format!("the budget file {}", path.display()),
            None => "the budget file".to_owned(),
        };
        let whose = format!("machine {}", run.machine_name);
        run.warnings
            .extend(warning(&whose, month(row.machine_cost), budget, &source));
    }
}

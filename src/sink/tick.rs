//! The import tick's fence (issue 29): the newest tick a machine stored, kept in one row per
//! machine (`ccusage_machine_ticks`) so an import reads one row for it instead of the newest
//! row version of every table the machine stored rows in.

use anyhow::{Context as _, Result};
use clickhouse::Row;
use serde::{Deserialize, Serialize};

use super::Sink;
use crate::sqlfile;

const TICKS_TABLE: &str = "ccusage_machine_ticks";

/// The newest tick this machine stored, and whether it came from `ccusage_machine_ticks`
/// (`false`: the machine's first import with this release, or its first import ever).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LastTick {
    pub tick: u64,
    pub kept: bool,
}

#[derive(Debug, Row, Deserialize)]
struct StoredTick {
    stored: u64,
    tick: u64,
}

#[derive(Debug, Row, Serialize)]
struct TickRow {
    machine_name: String,
    tick: u64,
}

impl Sink {
    /// The tick of this machine's newest import: from its row of `ccusage_machine_ticks`, or,
    /// when it has none (an older release stored its rows), from its rows of every table once.
    pub async fn last_tick(&self, machine: &str) -> Result<LastTick> {
        let sql = sqlfile::import("stored_tick");
        let kept = self
            .request("read this machine's last import tick", || {
                self.client()
                    .query(&sql)
                    .bind(machine)
                    .fetch_one::<StoredTick>()
            })
            .await
            .context("cannot read this machine's last import tick from ccusage_machine_ticks")?;
        if kept.stored > 0 {
            return Ok(LastTick {
                tick: kept.tick,
                kept: true,
            });
        }
        Ok(LastTick {
            tick: self.last_row_tick(machine).await?,
            kept: false,
        })
    }

    /// Records `tick` as this machine's newest before any row of its import is written, so a
    /// run that fails part way leaves the fence ahead of the rows (never behind: the next run's
    /// versions must be larger than all it stored). On the machine's first import with this
    /// release (`last.kept` false) it also gives the days an older release stored without
    /// their breakdown arrays those arrays, which this release's rows always carry: the fill
    /// reads all the machine's days and breakdowns, so it is not run hourly.
    pub async fn fence(&self, machine: &str, tick: u64, last: LastTick) -> Result<()> {
        // A machine with no stored row (tick 0) has no day to fill.
        if !last.kept && last.tick > 0 {
            self.fill_day_breakdowns(machine).await?;
        }
        if last.kept && tick <= last.tick {
            return Ok(());
        }
        let row = TickRow {
            machine_name: machine.to_owned(),
            tick,
        };
        self.insert(TICKS_TABLE, std::iter::once(&row))
            .await
            .context("cannot write this import's tick into ccusage_machine_ticks")
    }
}

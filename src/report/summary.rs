//! The plain summary printed after a run: pure `RunReport` → text.

use std::fmt::Write as _;

use super::format::{compact, duration, nano_usd, thousands};
use crate::pipeline::RunReport;

/// The full summary, one fact a line, for terminals and cron logs alike.
pub fn render(run: &RunReport) -> String {
    let mut out = String::new();
    let mode = if run.dry_run {
        " (dry run: nothing written)"
    } else {
        ""
    };
    let _ = writeln!(out, "ccusage-import: machine {}{mode}", run.machine_name);
    let _ = writeln!(out, "Reports:");
    for (kind, outcome) in &run.reports {
        match &outcome.error {
            None => {
                let _ = writeln!(
                    out,
                    "  {:<15} ok      {:>7} rows  {}",
                    kind.name(),
                    thousands(outcome.rows as u64),
                    duration(outcome.elapsed)
                );
            }
            Some(error) => {
                let _ = writeln!(out, "  {:<15} FAILED  {error}", kind.name());
            }
        }
    }
    let verb = if run.dry_run {
        "would write"
    } else {
        "written"
    };
    let _ = writeln!(out, "Rows {verb}:");
    for (table, rows) in &run.tables {
        let _ = writeln!(out, "  {table:<30} {:>7}", thousands(*rows as u64));
    }
    if !run.dry_run {
        let _ = writeln!(
            out,
            "  {:<30} {:>7}",
            "unchanged (skipped)",
            thousands(run.rows_unchanged as u64)
        );
    }
    let total = run.totals.total().unwrap_or(u64::MAX);
    let _ = writeln!(out, "Usage (daily report):");
    let _ = writeln!(out, "  cost            {}", nano_usd(run.total_cost));
    let _ = writeln!(out, "  total tokens    {}", compact(total));
    let _ = writeln!(out, "  input           {}", compact(run.totals.input));
    let _ = writeln!(out, "  output          {}", compact(run.totals.output));
    let _ = writeln!(
        out,
        "  cache creation  {}",
        compact(run.totals.cache_creation)
    );
    let _ = writeln!(out, "  cache read      {}", compact(run.totals.cache_read));
    if let (Some(first), Some(last)) = (run.first_date, run.last_date) {
        let _ = writeln!(out, "  days            {first} to {last}");
    }
    let _ = writeln!(
        out,
        "Machine: {} (host {}), ccusage {}, ClickHouse {} at {} database {}",
        run.machine_name,
        run.hostname,
        run.ccusage_version.as_deref().unwrap_or("unknown"),
        run.server_version.as_deref().unwrap_or("not contacted"),
        run.clickhouse_url,
        run.database,
    );
    let _ = writeln!(
        out,
        "Time: fetch {}, write {}, total {}",
        duration(run.fetch_time),
        duration(run.write_time),
        duration(run.duration)
    );
    out
}

/// The one closing line of `--quiet`.
pub fn closing_line(run: &RunReport) -> String {
    let written: usize = run.tables.values().sum();
    let failed = run.reports.values().filter(|r| r.error.is_some()).count();
    let status = if run.exit().code() == 0 {
        "ok"
    } else {
        "failed"
    };
    format!(
        "ccusage-import: {status}: machine {}, {} rows written, {} unchanged, {failed} reports failed, {}",
        run.machine_name,
        thousands(written as u64),
        thousands(run.rows_unchanged as u64),
        duration(run.duration)
    )
}

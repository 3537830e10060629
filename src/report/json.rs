//! `--json`: the run as one JSON object on stdout.

use serde_json::{json, Map, Value};

use crate::pipeline::RunReport;

pub fn to_json(run: &RunReport) -> Value {
    let reports: Map<String, Value> = run
        .reports
        .iter()
        .map(|(kind, outcome)| {
            let mut entry = json!({
                "status": if outcome.error.is_none() { "ok" } else { "failed" },
                "rows": outcome.rows,
                "duration_ms": outcome.elapsed.as_millis() as u64,
            });
            if let Some(error) = &outcome.error {
                entry["error"] = json!(error);
            }
            (kind.name().to_owned(), entry)
        })
        .collect();
    let tables: Map<String, Value> = run
        .tables
        .iter()
        .map(|(table, rows)| ((*table).to_owned(), json!(rows)))
        .collect();
    json!({
        "run_id": run.run_id,
        "machine_name": run.machine_name,
        "hostname": run.hostname,
        "ccusage_version": run.ccusage_version,
        "server_version": run.server_version,
        "database": run.database,
        "dry_run": run.dry_run,
        "ok": run.exit().code() == 0,
        "exit_code": run.exit().code(),
        "reports": reports,
        "tables": tables,
        "rows_unchanged": run.rows_unchanged,
        "totals": {
            "input_tokens": run.totals.input,
            "output_tokens": run.totals.output,
            "cache_creation_tokens": run.totals.cache_creation,
            "cache_read_tokens": run.totals.cache_read,
            "total_tokens": run.totals.total().unwrap_or(u64::MAX),
            "cost_usd": run.total_cost as f64 / 1e9,
        },
        "first_date": run.first_date.map(|d| d.to_string()),
        "last_date": run.last_date.map(|d| d.to_string()),
        "duration_ms": run.duration.as_millis() as u64,
        "errors": run.errors(),
        "warnings": run.warnings,
    })
}

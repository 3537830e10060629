//! `--json`: the run as one JSON object on stdout.

use serde_json::{json, Map, Value};

use super::history::PreviousImport;
use crate::pipeline::RunReport;
use crate::transform::rows::Nanodollars;

fn usd(nanos: Nanodollars) -> f64 {
    nanos as f64 / 1e9
}

fn models(run: &RunReport) -> Value {
    let digest = &run.digest;
    digest
        .models
        .iter()
        .map(|m| {
            json!({
                "model": m.model,
                "cost_usd": usd(m.cost),
                "total_tokens": m.tokens,
                "share": digest.model_share(m),
            })
        })
        .collect()
}

fn sessions(run: &RunReport) -> Value {
    let sessions = &run.digest.sessions;
    json!({
        "count": sessions.count,
        "cost_usd": usd(sessions.total_cost),
        "average_cost_usd": sessions.average_cost().map(usd),
        "most_expensive": sessions.most_expensive.as_ref().map(|s| json!({
            "session_id": s.session_id,
            "project_path": s.project,
            "cost_usd": usd(s.cost),
            "last_activity": s.last_activity.to_rfc3339(),
        })),
    })
}

fn active_block(run: &RunReport) -> Value {
    let Some(block) = &run.digest.active_block else {
        return Value::Null;
    };
    json!({
        "start_time": block.start.to_rfc3339(),
        "end_time": block.end.to_rfc3339(),
        "minutes_left": block.minutes_left(run.started_at),
        "total_tokens": block.tokens,
        "cost_usd": usd(block.cost),
        "burn_rate_cost_per_hour": block.cost_per_hour,
        "burn_rate_tokens_per_minute": block.tokens_per_minute,
        "projected_total_tokens": block.projected_tokens,
        "projected_total_cost_usd": usd(block.projected_cost),
    })
}

/// What this run changed in the database: rows with new keys per usage table, and when the
/// previous import of this machine ran (`null` when unknown, e.g. in a dry run).
fn changes(run: &RunReport) -> Value {
    let previous = match run.previous_import {
        PreviousImport::Unknown => Value::Null,
        PreviousImport::Never => json!("none"),
        PreviousImport::At(at) => json!(at.to_rfc3339()),
    };
    let new_rows: Map<String, Value> = run
        .new_rows
        .iter()
        .map(|(table, n)| ((*table).to_owned(), json!(n)))
        .collect();
    json!({
        "previous_import": previous,
        "new_rows": new_rows,
    })
}

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
        "timings_ms": {
            "fetch": run.fetch_time.as_millis() as u64,
            "map": run.map_time.as_millis() as u64,
            "write": run.write_time.as_millis() as u64,
        },
        "active_days": run.digest.active_days,
        "models": models(run),
        "sessions": sessions(run),
        "projects": run.digest.projects.iter().map(|p| json!({
            "project": p.project,
            "cost_usd": usd(p.cost),
        })).collect::<Vec<_>>(),
        "active_block": active_block(run),
        "changes": changes(run),
        "fleet": run.fleet.map(|f| json!({
            "machines": f.machines,
            "days": f.days,
            "cost_usd": f.cost_usd,
            "total_tokens": f.total_tokens,
        })),
        "history_error": run.history_error,
        "errors": run.errors(),
        "warnings": run.warnings,
    })
}

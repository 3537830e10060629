//! `--json`: the run as one JSON object on stdout.

use serde_json::{json, Map, Value};

use crate::run::PreviousImport;
use crate::run::RunReport;
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
            "project_name": s.project_name,
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
        "projected_total_cost_usd": block.projected_cost.map(usd),
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

/// This process's peak resident set size in bytes (children excluded), for benchmarks;
/// `None` where getrusage fails.
fn peak_rss_bytes() -> Option<u64> {
    // SAFETY: getrusage only writes into the zeroed struct it is given.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) } != 0 {
        return None;
    }
    // Linux reports ru_maxrss in KiB.
    u64::try_from(usage.ru_maxrss).ok().map(|kib| kib * 1024)
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
        "settings_file": run.settings_file,
        "ccusage_version": run.ccusage_version,
        "server_version": run.server_version,
        "database": run.database,
        "dry_run": run.dry_run,
        // Why a dry run's `tables` are the rows mapped, not what a run would write.
        "dry_run_uncompared": run.dry_run_uncompared,
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
        "peak_rss_bytes": peak_rss_bytes(),
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
            "project_name": p.name,
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
        "stored_days": run.stored_days.map(|s| json!({
            "cost_usd": s.cost_usd,
            "total_tokens": s.total_tokens,
            "differs": s.differ(run),
        })),
        "history_error": run.history_error,
        "errors": run.errors(),
        "warnings": run.warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::fixture::run;

    #[test]
    fn the_digest_changes_and_fleet_are_in_the_json() {
        let value = to_json(&run());
        assert_eq!(value["active_days"], 40);
        assert_eq!(value["models"][0]["model"], "claude-opus-4-1-20250805");
        assert!((value["models"][0]["share"].as_f64().unwrap() - 0.648).abs() < 1e-3);
        assert_eq!(value["sessions"]["count"], 120);
        assert_eq!(
            value["sessions"]["most_expensive"]["project_path"],
            "-home-alice-proj-a"
        );
        assert_eq!(value["projects"][0]["cost_usd"], 900.0);
        assert_eq!(value["active_block"]["minutes_left"], 215);
        assert_eq!(value["active_block"]["projected_total_cost_usd"], 5.33);
        assert_eq!(
            value["changes"]["previous_import"],
            "2026-11-22T16:25:02+00:00"
        );
        assert_eq!(value["changes"]["new_rows"]["ccusage_usage_sessions"], 2);
        assert_eq!(value["fleet"]["machines"], 4);
        assert_eq!(value["timings_ms"]["map"], 38);

        let mut dry = run();
        dry.digest.active_block = None;
        dry.previous_import = PreviousImport::Unknown;
        dry.fleet = None;
        let value = to_json(&dry);
        assert!(value["active_block"].is_null());
        assert!(value["changes"]["previous_import"].is_null());
        assert!(value["fleet"].is_null());
    }
}

//! A fixed run for the report's tests (summary snapshot, JSON).

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::run::digest::{ActiveBlock, Digest, ModelCost, ProjectCost, SessionCost, Sessions};
use crate::run::{Fleet, PreviousImport};
use crate::run::{ReportKind, BREAKDOWNS_TABLE, MODELS_USED_TABLE};
use crate::run::{ReportOutcome, RunReport};
use crate::transform::rows::Tokens;

pub fn at(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

pub fn ok(rows: usize, ms: u64) -> ReportOutcome {
    ReportOutcome {
        rows,
        elapsed: Duration::from_millis(ms),
        error: None,
    }
}

/// A fixed run: every section of the summary has something to show.
pub fn run() -> RunReport {
    let reports = BTreeMap::from([
        (ReportKind::Daily, ok(8, 1912)),
        (ReportKind::Session, ok(16, 2210)),
        (ReportKind::Blocks, ok(21, 1875)),
        (ReportKind::ProjectsDaily, ok(10, 2044)),
    ]);
    let tables = BTreeMap::from([
        ("ccusage_usage_daily", 2),
        ("ccusage_usage_monthly", 1),
        ("ccusage_usage_sessions", 3),
        ("ccusage_usage_blocks", 1),
        ("ccusage_usage_projects_daily", 2),
        (BREAKDOWNS_TABLE, 1234),
        (MODELS_USED_TABLE, 0),
    ]);
    let new_rows = BTreeMap::from([
        ("ccusage_usage_daily", 1),
        ("ccusage_usage_monthly", 0),
        ("ccusage_usage_sessions", 2),
        ("ccusage_usage_blocks", 1),
        ("ccusage_usage_projects_daily", 1),
    ]);
    let model = |model: &str, cost: i64, tokens: u64| ModelCost {
        model: model.into(),
        cost,
        tokens,
    };
    let project = |project: &str, cost: i64| ProjectCost {
        project: project.into(),
        name: project.into(),
        cost,
    };
    RunReport {
        run_id: "run-1".into(),
        machine_name: "laptop".into(),
        hostname: "laptop.example.org".into(),
        ccusage_version: Some("20.0.24".into()),
        server_version: Some("25.3.2.39".into()),
        clickhouse_url: "http://localhost:8123".into(),
        database: "ccusage".into(),
        started_at: at("2026-11-22T17:25:30Z"),
        reports,
        tables,
        rows_unchanged: 40,
        totals: Tokens {
            input: 999,
            output: 560_000,
            cache_creation: 12_345_678,
            cache_read: 5_600_000_000,
        },
        total_cost: 1_234_564_999_999,
        first_date: Some("2026-10-01".parse().unwrap()),
        last_date: Some("2026-11-22".parse().unwrap()),
        fetch_time: Duration::from_millis(2_250),
        map_time: Duration::from_millis(38),
        write_time: Duration::from_millis(412),
        duration: Duration::from_millis(2_730),
        digest: Digest {
            active_days: 40,
            models: vec![
                model("claude-opus-4-1-20250805", 800_000_000_000, 2_000_000_000),
                model("claude-sonnet-4-20250514", 300_000_000_000, 3_000_000_000),
                model("claude-sonnet-4-5-20250929", 100_000_000_000, 500_000_000),
                model("claude-haiku-4-5-20251001", 30_000_000_000, 100_000_000),
                model("claude-3-5-haiku-20241022", 4_564_999_999, 10_000),
                model("<synthetic>", 0, 1),
            ],
            sessions: Sessions {
                count: 120,
                total_cost: 1_234_564_999_999,
                most_expensive: Some(SessionCost {
                    session_id: "108f43ef-5258-42c3-8b52-ed09bf61cfd4".into(),
                    project: "-home-alice-proj-a".into(),
                    project_name: "-home-alice-proj-a".into(),
                    cost: 98_765_000_000,
                    last_activity: at("2026-11-20T14:00:43Z"),
                }),
            },
            projects: vec![
                project("-home-alice-proj-a", 900_000_000_000),
                project("-home-alice-work-proj-b", 300_000_000_000),
                project("-tmp-scratch", 30_000_000_000),
                project("-home-alice-old", 4_564_999_999),
            ],
            active_block: Some(ActiveBlock {
                start: at("2026-11-22T16:00:00Z"),
                end: at("2026-11-22T21:00:00Z"),
                tokens: 274_518,
                cost: 546_407_100,
                cost_per_hour: Some(1.334_918_777_616_187_3),
                tokens_per_minute: Some(11_177.845_022_927_67),
                projected_tokens: Some(2_677_755),
                projected_cost: Some(5_330_000_000),
            }),
        },
        new_rows,
        previous_import: PreviousImport::At(at("2026-11-22T16:25:02Z")),
        fleet: Some(Fleet {
            machines: 4,
            days: 93,
            cost_usd: 812.4,
            total_tokens: 9_000_000_000,
        }),
        ..RunReport::default()
    }
}

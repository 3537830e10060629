//! Every ccusage a user may have (issue 5): versions 15 to 20, the all-agent table, and the
//! memory-aware limit on concurrent reports.

use std::path::{Path, PathBuf};

use crate::harness::*;

fn truth(policy: &str) -> [u64; 4] {
    let path = Path::new(ROOT).join("tests/fixtures/ccusage/expected-summary.json");
    let summary: serde_json::Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    let t = &summary[policy]["totals"];
    let n = |k: &str| t[k].as_u64().unwrap();
    [n("input"), n("output"), n("cacheCreate"), n("cacheRead")]
}

fn totals_of(env: &TestEnv, table: &str) -> [u64; 4] {
    let line = env.sql(&format!(
        "SELECT sum(input_tokens), sum(output_tokens), sum(cache_creation_tokens), \
         sum(cache_read_tokens), 0 FROM {table} FINAL"
    ));
    tsv_totals(&line).0
}

#[test]
fn every_major_from_15_to_20_uses_its_command_set_and_matches_its_own_totals() {
    let cases = [
        ("15.10.0", "18.0.11", "firstWins"),
        ("16.2.5", "18.0.11", "firstWins"),
        ("17.2.1", "18.0.11", "firstWins"),
        ("18.0.11", "18.0.11", "firstWins"),
        ("19.0.3", "20.0.24", "maxWins"),
        ("20.0.24", "20.0.24", "maxWins"),
    ];
    for (version, fixtures, policy) in cases {
        let env = TestEnv::new("matrix");
        let (dir, bin) = fixture_stand_in(&env, version, fixtures);
        let summary = env.importer("laptop").ccusage(&bin).import_ok();
        assert_eq!(summary["ccusage_version"], version);
        for table in [
            "ccusage_usage_daily",
            "ccusage_usage_monthly",
            "ccusage_usage_sessions",
            "ccusage_usage_blocks",
            "ccusage_usage_projects_daily",
        ] {
            assert_eq!(totals_of(&env, table), truth(policy), "{version} {table}");
        }
        let versions = env.sql("SELECT DISTINCT ccusage_version FROM ccusage_usage_daily");
        assert_eq!(versions.trim(), version);

        let calls = std::fs::read_to_string(dir.join("calls.log")).unwrap();
        let new = !fixtures.starts_with("18.");
        assert_eq!(
            calls.contains("claude daily --instances"),
            new,
            "{version}: {calls}"
        );
        assert_eq!(calls.contains("claude session"), new, "{version}: {calls}");
        assert_eq!(
            calls.contains("daily --by-agent"),
            new,
            "{version}: {calls}"
        );
        assert!(
            calls.lines().any(|l| l.starts_with("blocks --json")),
            "{version}: {calls}"
        );
        let agents = env.sql("SELECT count() FROM ccusage_usage_agents_daily");
        assert_eq!(agents.trim() != "0", new, "{version}");
    }
}

#[test]
fn a_version_older_than_15_is_refused() {
    let env = TestEnv::new("too_old");
    let (_, bin) = fixture_stand_in(&env, "14.3.0", "18.0.11");
    let run = env.importer("laptop").ccusage(&bin).run();
    // No report could be imported.
    assert_eq!(run.code, 6, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("ccusage 14.3.0 is too old"),
        "{}",
        run.stderr
    );
    assert_eq!(env.count("ccusage_usage_daily"), "0");
}

#[test]
fn a_newer_major_warns_once_and_uses_the_newest_command_set() {
    let env = TestEnv::new("newer");
    let (dir, bin) = fixture_stand_in(&env, "21.1.0", "20.0.24");
    let run = env.importer("laptop").ccusage(&bin).arg("--json").run();
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(
        run.stderr
            .matches("warning: ccusage 21.1.0 is newer")
            .count(),
        1,
        "{}",
        run.stderr
    );
    // Once in --json too (beside the stale-logs warning the old fixtures bring).
    let warnings = run.json()["warnings"].as_array().unwrap().clone();
    let newer = warnings
        .iter()
        .filter(|w| w.as_str().unwrap().contains("is newer"));
    assert_eq!(newer.count(), 1, "{warnings:?}");
    let calls = std::fs::read_to_string(dir.join("calls.log")).unwrap();
    assert!(calls.contains("claude daily --instances"));

    // If its output no longer parses, the report fails and the message names the version.
    std::fs::write(dir.join("session.json"), r#"{"session":[]}"#).unwrap();
    let run = env.importer("laptop").ccusage(&bin).run();
    assert_eq!(run.code, 4);
    let line = run
        .stderr
        .lines()
        .find(|l| l.contains("session report failed"))
        .unwrap();
    assert!(line.contains("ccusage 21.1.0"), "{line}");
    assert!(line.contains("missing field `sessions`"), "{line}");
}

#[test]
fn the_agents_table_keeps_every_agent_and_the_claude_tables_only_claude() {
    let env = TestEnv::new("agents");
    let (dir, bin) = fixture_stand_in(&env, "20.0.24", "20.0.24");
    let codex_day = r#"{"daily":[{"period":"2026-11-20","agent":"all","metadata":{"agents":["claude","codex"]},
        "agents":[
          {"agent":"claude","inputTokens":10,"outputTokens":20,"cacheCreationTokens":0,"cacheReadTokens":0,
           "totalCost":0.1,"modelsUsed":["claude-sonnet-4-5"],"modelBreakdowns":[{"modelName":"claude-sonnet-4-5",
           "inputTokens":10,"outputTokens":20,"cacheCreationTokens":0,"cacheReadTokens":0,"cost":0.1}]},
          {"agent":"codex","inputTokens":300,"outputTokens":400,"cacheCreationTokens":0,"cacheReadTokens":50,
           "totalCost":0.7,"modelsUsed":["gpt-5"],"modelBreakdowns":[{"modelName":"gpt-5",
           "inputTokens":300,"outputTokens":400,"cacheCreationTokens":0,"cacheReadTokens":50,"cost":0.7}]}],
        "inputTokens":310,"outputTokens":420,"cacheCreationTokens":0,"cacheReadTokens":50,"totalCost":0.8}],
        "totals":{}}"#;
    std::fs::write(dir.join("agents.json"), codex_day).unwrap();
    env.importer("laptop").ccusage(&bin).import_ok();
    let agents = env.sql(
        "SELECT agent, total_tokens, toFloat64(total_cost) FROM ccusage_usage_agents_daily FINAL \
         ORDER BY agent FORMAT TSV",
    );
    assert_eq!(agents, "claude\t30\t0.1\ncodex\t750\t0.7\n");
    let models = env.sql(
        "SELECT model_name FROM ccusage_v_model_breakdowns WHERE parent_kind = 'agent_daily' \
         ORDER BY model_name FORMAT TSV",
    );
    assert_eq!(models, "claude-sonnet-4-5\ngpt-5\n");
    // The Claude tables still hold exactly the Claude report's usage.
    assert_eq!(totals_of(&env, "ccusage_usage_daily"), truth("maxWins"));
}

#[test]
fn ccusage_18_for_real_end_to_end() {
    let bin = std::env::var_os("CCUSAGE18_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(ROOT).join("target/ccusage-18/node_modules/.bin/ccusage"));
    assert!(
        bin.exists(),
        "ccusage 18.0.11 is missing at {}: run scripts/ensure-deps.sh --test",
        bin.display()
    );
    let env = TestEnv::new("real18");
    let claude = env.generate_logs(
        "claude",
        &[
            "--projects",
            "2",
            "--days",
            "6",
            "--lines",
            "300",
            "--seed",
            "5",
        ],
    );
    let summary = env
        .importer("old-laptop")
        .logs(&claude)
        .ccusage(&bin)
        .import_ok();
    assert_eq!(summary["ccusage_version"], "18.0.11");
    let ground: serde_json::Value =
        serde_json::from_slice(&std::fs::read(claude.join("expected-summary.json")).unwrap())
            .unwrap();
    let t = &ground["firstWins"]["totals"];
    let want = ["input", "output", "cacheCreate", "cacheRead"].map(|k| t[k].as_u64().unwrap());
    for table in [
        "ccusage_usage_daily",
        "ccusage_usage_monthly",
        "ccusage_usage_projects_daily",
        "ccusage_usage_blocks",
        "ccusage_usage_sessions",
    ] {
        assert_eq!(totals_of(&env, table), want, "{table}");
    }
    assert_eq!(
        env.sql("SELECT count() FROM ccusage_usage_agents_daily")
            .trim(),
        "0"
    );
}

/// Each report of this stand-in logs its start and end around a short sleep, so the log shows
/// whether two reports ever ran at once.
fn overlapping(env: &TestEnv, jobs: Option<&str>) -> bool {
    let (dir, bin) = fixture_stand_in(env, "20.0.24", "20.0.24");
    for report in REPORTS {
        let body = format!(
            "echo start >> \"$D/order.log\"\nsleep 0.3\necho end >> \"$D/order.log\"\ncat \"$D/{report}.json\""
        );
        script_report(&dir, report, &body);
    }
    let mut importer = env.importer("laptop").ccusage(&bin);
    if let Some(jobs) = jobs {
        importer = importer.arg("--jobs").arg(jobs);
    }
    importer.import_ok();
    let order = std::fs::read_to_string(dir.join("order.log")).unwrap();
    // The five reports, then the one-day session report of each of the fixture's 8 days.
    assert_eq!(order.lines().count(), 2 * (5 + 8));
    order
        .lines()
        .collect::<Vec<_>>()
        .windows(2)
        .any(|w| w == ["start", "start"])
}

#[test]
fn jobs_limits_how_many_reports_run_at_once() {
    assert!(!overlapping(&TestEnv::new("jobs1"), Some("1")));
    assert!(overlapping(&TestEnv::new("jobs_default"), None));
}

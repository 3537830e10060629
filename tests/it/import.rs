//! The foundation (issue 3): totals, idempotency, machines, lost logs, odd paths.

use std::path::Path;

use crate::harness::*;

fn assert_totals_match(env: &TestEnv, claude: &Path, filter: &str) {
    let (want_tokens, want_cost) = ccusage_totals(claude);
    let (got_tokens, got_cost) = tsv_totals(&env.sql(&format!("{DAILY_TOTALS} {filter}")));
    assert_eq!(
        got_tokens, want_tokens,
        "token totals differ from ccusage's"
    );
    assert!(
        (got_cost - want_cost).abs() < 1e-6,
        "cost {got_cost} != ccusage's {want_cost}"
    );
}

#[test]
fn totals_in_clickhouse_equal_ccusage_totals() {
    let env = TestEnv::new("totals");
    let claude = env.generate_logs("claude", SMALL);
    let summary = env.importer("laptop").logs(&claude).import_ok();
    assert_totals_match(&env, &claude, "");

    let (tokens, cost) = ccusage_totals(&claude);
    let totals = &summary["totals"];
    assert_eq!(totals["input_tokens"], tokens[0]);
    assert_eq!(totals["output_tokens"], tokens[1]);
    assert_eq!(totals["cache_creation_tokens"], tokens[2]);
    assert_eq!(totals["cache_read_tokens"], tokens[3]);
    assert!((totals["cost_usd"].as_f64().unwrap() - cost).abs() < 1e-6);
    assert_eq!(summary["ok"], true);
    assert_eq!(summary["machine_name"], "laptop");
    assert_eq!(summary["ccusage_version"], "20.0.24");
    for report in ["daily", "session", "blocks", "projects_daily"] {
        assert_eq!(summary["reports"][report]["status"], "ok", "{report}");
    }
    // The monthly table is summed from the days; ccusage's monthly report is not run.
    assert!(summary["reports"].get("monthly").is_none());
    let daily_rows = summary["reports"]["daily"]["rows"].as_u64().unwrap();
    assert_eq!(summary["tables"]["ccusage_usage_daily"], daily_rows);
    let stored = env.sql("SELECT count() FROM ccusage_usage_daily FINAL");
    assert_eq!(stored.trim(), daily_rows.to_string());

    // Every report kind holds the same usage on its own, so each sums to ccusage's totals.
    for table in [
        "ccusage_usage_monthly",
        "ccusage_usage_sessions",
        "ccusage_usage_projects_daily",
        "ccusage_usage_blocks",
    ] {
        let line = env.sql(&format!(
            "SELECT sum(input_tokens), sum(output_tokens), sum(cache_creation_tokens), \
             sum(cache_read_tokens), 0 FROM {table} FINAL"
        ));
        assert_eq!(tsv_totals(&line).0, tokens, "{table}");
    }
    let ledger = env.sql("SELECT machine_name, exit_code, daily_status FROM ccusage_import_runs");
    assert_eq!(ledger.trim(), "laptop\t0\tok");
}

#[test]
fn a_second_import_changes_nothing() {
    let env = TestEnv::new("rerun");
    let claude = env.generate_logs("claude", SMALL);
    env.importer("laptop").logs(&claude).import_ok();
    let before = snapshot(&env);
    let again = env.importer("laptop").logs(&claude).import_ok();
    assert_eq!(snapshot(&env), before);
    // Not a single usage row is sent again, the active block included: its projection
    // moves with the clock, its usage does not.
    let tables = again["tables"].as_object().unwrap();
    assert!(tables.len() >= 8, "{tables:?}");
    for (table, written) in tables {
        assert_eq!(written, 0, "{table} was written again");
    }
    assert!(again["rows_unchanged"].as_u64().unwrap() > 0);
    let runs = env.sql("SELECT count() FROM ccusage_import_runs");
    assert_eq!(runs.trim(), "2");
}

#[test]
fn two_machines_add_up_and_neither_disturbs_the_other() {
    let env = TestEnv::new("machines");
    let laptop = env.generate_logs("laptop", SMALL);
    let desktop = env.generate_logs(
        "desktop",
        &[
            "--projects",
            "3",
            "--days",
            "5",
            "--lines",
            "300",
            "--seed",
            "7",
        ],
    );
    env.importer("laptop").logs(&laptop).import_ok();
    let laptop_rows = env.sql("SELECT * FROM ccusage_usage_daily FINAL WHERE machine_name = 'laptop' ORDER BY date FORMAT TSV");
    env.importer("desktop").logs(&desktop).import_ok();
    // Re-importing one machine must leave the other's rows exactly as they were.
    env.importer("desktop").logs(&desktop).import_ok();
    let laptop_after = env.sql("SELECT * FROM ccusage_usage_daily FINAL WHERE machine_name = 'laptop' ORDER BY date FORMAT TSV");
    assert_eq!(laptop_after, laptop_rows);

    assert_totals_match(&env, &laptop, "WHERE machine_name = 'laptop'");
    assert_totals_match(&env, &desktop, "WHERE machine_name = 'desktop'");
    let (a, a_cost) = ccusage_totals(&laptop);
    let (b, b_cost) = ccusage_totals(&desktop);
    let (fleet, fleet_cost) = tsv_totals(&env.sql(DAILY_TOTALS));
    for i in 0..4 {
        assert_eq!(fleet[i], a[i] + b[i]);
    }
    assert!((fleet_cost - a_cost - b_cost).abs() < 1e-6);
}

/// Deletes session files whose last change is older than `cutoff`, the way Claude Code's
/// cleanup does; returns how many it deleted.
pub fn delete_logs_older_than(claude: &Path, cutoff: std::time::SystemTime) -> usize {
    let mut deleted = 0;
    let mut stack = vec![claude.join("projects")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "jsonl")
                && path.metadata().unwrap().modified().unwrap() < cutoff
            {
                std::fs::remove_file(&path).unwrap();
                deleted += 1;
            }
        }
    }
    deleted
}

#[test]
fn deleted_logs_never_lower_what_is_stored() {
    let env = TestEnv::new("cleanup");
    let claude = env.generate_logs(
        "claude",
        &[
            "--projects",
            "2",
            "--days",
            "20",
            "--lines",
            "900",
            "--seed",
            "4",
            "--touch-old",
            "--now",
            "2026-11-20T12:00:00Z",
        ],
    );
    env.importer("laptop").logs(&claude).import_ok();
    let full_days =
        env.sql("SELECT date, total_tokens FROM ccusage_v_daily_summary ORDER BY date FORMAT TSV");
    let full_month = env.sql(
        "SELECT month, total_tokens FROM ccusage_usage_monthly FINAL ORDER BY month FORMAT TSV",
    );
    let full_projects = env.sql("SELECT project, date, total_tokens FROM ccusage_usage_projects_daily FINAL ORDER BY project, date FORMAT TSV");
    let before = ccusage(&claude, &["claude", "daily"]);

    let cutoff = chrono::DateTime::parse_from_rfc3339("2026-11-10T00:00:00Z").unwrap();
    let cutoff = std::time::SystemTime::from(cutoff);
    assert!(delete_logs_older_than(&claude, cutoff) > 0);
    let after = ccusage(&claude, &["claude", "daily"]);
    // The precondition this test is about: ccusage now reports fewer days and less usage.
    let days = |v: &serde_json::Value| v["daily"].as_array().unwrap().len();
    assert!(days(&after) < days(&before), "no day vanished");
    let total = |v: &serde_json::Value| v["totals"]["outputTokens"].as_u64().unwrap();
    assert!(total(&after) < total(&before), "usage did not shrink");

    env.importer("laptop").logs(&claude).import_ok();
    assert_eq!(
        env.sql("SELECT date, total_tokens FROM ccusage_v_daily_summary ORDER BY date FORMAT TSV"),
        full_days
    );
    assert_eq!(
        env.sql(
            "SELECT month, total_tokens FROM ccusage_usage_monthly FINAL ORDER BY month FORMAT TSV"
        ),
        full_month
    );
    assert_eq!(env.sql("SELECT project, date, total_tokens FROM ccusage_usage_projects_daily FINAL ORDER BY project, date FORMAT TSV"), full_projects);
    // The model breakdowns still belong to the complete figures.
    let mismatched = env.sql(
        "SELECT count() FROM ccusage_v_daily_summary AS d ANY LEFT JOIN \
         (SELECT parent_key, sum(total_tokens) AS model_tokens FROM ccusage_v_model_breakdowns \
          WHERE parent_kind = 'daily' GROUP BY parent_key) AS b ON toString(d.date) = b.parent_key \
         WHERE d.total_tokens != b.model_tokens",
    );
    assert_eq!(mismatched.trim(), "0");
}

fn daily_json(date: &str, models: &[(&str, u64)]) -> String {
    let rows: Vec<String> = models
        .iter()
        .map(|(name, output)| {
            format!(
                r#"{{"modelName":"{name}","inputTokens":1,"outputTokens":{output},"cacheCreationTokens":0,"cacheReadTokens":0,"cost":0.5}}"#
            )
        })
        .collect();
    let output: u64 = models.iter().map(|(_, o)| o).sum();
    let names: Vec<String> = models.iter().map(|(n, _)| format!("\"{n}\"")).collect();
    format!(
        r#"{{"daily":[{{"date":"{date}","inputTokens":{},"outputTokens":{output},"cacheCreationTokens":0,"cacheReadTokens":0,"totalTokens":0,"totalCost":{},"modelsUsed":[{}],"modelBreakdowns":[{}]}}],"totals":{{}}}}"#,
        models.len(),
        0.5 * models.len() as f64,
        names.join(","),
        rows.join(",")
    )
}

#[test]
fn a_changed_model_breakdown_leaves_no_stale_model_counted() {
    let env = TestEnv::new("breakdown");
    let fake = env.path("fake");
    let bin = env.stand_in(&fake, "ccusage 20.0.24");
    std::fs::write(
        fake.join("daily.json"),
        daily_json("2026-11-20", &[("opus", 100), ("sonnet", 50)]),
    )
    .unwrap();
    env.importer("laptop").ccusage(&bin).import_ok();
    // Later the same day was re-read with more usage, all of it on one model (ccusage 19+
    // keeps the largest copy of a streamed response, so a model's share can move).
    std::fs::write(
        fake.join("daily.json"),
        daily_json("2026-11-20", &[("opus", 400)]),
    )
    .unwrap();
    // Row versions carry the import minute; make the second import a later one.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    env.importer("laptop").ccusage(&bin).import_ok();
    let models = env.sql("SELECT model_name, output_tokens FROM ccusage_v_model_breakdowns WHERE parent_kind = 'daily' ORDER BY model_name FORMAT TSV");
    assert_eq!(models, "opus\t400\n");
    let by_day = env.sql("SELECT model_name, output_tokens FROM ccusage_v_model_daily FORMAT TSV");
    assert_eq!(by_day, "opus\t400\n");
    let used = env
        .sql("SELECT model_name FROM ccusage_v_models_used WHERE parent_kind = 'daily' FORMAT TSV");
    assert_eq!(used, "opus\n");
    let day = env.sql("SELECT output_tokens, models_used FROM ccusage_v_daily_summary FORMAT TSV");
    assert_eq!(day, "400\t['opus']\n");
}

#[test]
fn a_project_path_with_quotes_backslashes_newlines_and_unicode_arrives_intact() {
    let env = TestEnv::new("paths");
    let odd = "/home/o'neil/\"quoted\" back\\slash/new\nline/café-日本";
    let claude = env.generate_logs(
        "claude",
        &[
            "--projects",
            "1",
            "--days",
            "3",
            "--lines",
            "120",
            "--seed",
            "3",
            "--project-cwd",
            odd,
        ],
    );
    env.importer("laptop").logs(&claude).import_ok();
    let instances = ccusage(&claude, &["claude", "daily", "--instances"]);
    let projects: Vec<&String> = instances["projects"].as_object().unwrap().keys().collect();
    assert_eq!(projects.len(), 1);
    let want = projects[0];
    assert!(want.contains('\'') && want.contains('"') && want.contains('\\') && want.contains('é'));
    // JSONEachRow escapes nothing away: decode the project back and compare exactly.
    let stored =
        env.sql("SELECT DISTINCT project FROM ccusage_usage_projects_daily FORMAT JSONEachRow");
    let stored: serde_json::Value = serde_json::from_str(stored.trim()).unwrap();
    assert_eq!(stored["project"].as_str().unwrap(), want.as_str());
    let sessions =
        env.sql("SELECT DISTINCT project_path FROM ccusage_usage_sessions FORMAT JSONEachRow");
    let sessions: serde_json::Value = serde_json::from_str(sessions.trim()).unwrap();
    assert_eq!(sessions["project_path"].as_str().unwrap(), want.as_str());
    // A re-import recognises the odd keys as already stored.
    let again = env.importer("laptop").logs(&claude).import_ok();
    assert_eq!(again["tables"]["ccusage_usage_projects_daily"], 0);
    assert_eq!(again["tables"]["ccusage_usage_sessions"], 0);
}

#[test]
fn dry_run_maps_everything_and_writes_nothing() {
    let env = TestEnv::new("dryrun");
    let claude = env.generate_logs("claude", SMALL);
    let summary = env
        .importer("laptop")
        .logs(&claude)
        .arg("--dry-run")
        .import_ok();
    assert_eq!(summary["dry_run"], true);
    assert!(summary["tables"]["ccusage_usage_daily"].as_u64().unwrap() > 0);
    let exists = sql(
        "default",
        &format!(
            "SELECT count() FROM system.databases WHERE name = '{}'",
            env.database
        ),
    );
    assert_eq!(exists.trim(), "0", "dry run created the database");
}

#[test]
fn verify_passes_on_a_fresh_schema_and_fails_on_a_missing_one() {
    let env = TestEnv::new("verify");
    let missing = env.importer("laptop").arg("--verify").run();
    assert_eq!(missing.code, 3, "{}{}", missing.stdout, missing.stderr);
    assert!(missing.stdout.contains("FAIL"), "{}", missing.stdout);

    let claude = env.generate_logs("claude", SMALL);
    env.importer("laptop").logs(&claude).import_ok();
    let ok = env.importer("laptop").arg("--verify").run();
    assert_eq!(ok.code, 0, "{}{}", ok.stdout, ok.stderr);
    assert!(ok.stdout.contains("ok   table ccusage_usage_daily"));
    assert!(ok.stdout.contains("ok   write access"));
    assert!(!ok.stdout.contains("FAIL"));
    let runs = env.sql("SELECT count() FROM ccusage_import_runs");
    assert_eq!(runs.trim(), "1", "--verify wrote to the ledger");

    let reader = env
        .importer("laptop")
        .arg("--verify")
        .arg("--ch-user")
        .arg("ccusage_reader")
        .env("CH_PASSWORD", "reader-secret-pw")
        .run();
    assert_eq!(reader.code, 3);
    assert!(
        reader.stdout.contains("FAIL write access"),
        "{}",
        reader.stdout
    );
    assert!(
        !reader.stdout.contains("reader-secret-pw") && !reader.stderr.contains("reader-secret-pw")
    );
}

#[test]
fn a_failed_report_fails_the_run_but_the_others_are_imported() {
    let env = TestEnv::new("partial");
    let fake = env.path("fake");
    let bin = env.stand_in(&fake, "ccusage 20.0.24");
    use_fixture(&fake, "20.0.24", "claude-daily.json", "daily");
    use_fixture(&fake, "20.0.24", "claude-monthly.json", "monthly");
    std::fs::write(
        fake.join("blocks.json"),
        "Date must be in YYYYMMDD format\n",
    )
    .unwrap();
    let run = env.importer("laptop").ccusage(&bin).arg("--json").run();
    assert_eq!(run.code, 4, "{}\n{}", run.stdout, run.stderr);
    let summary = run.json();
    assert_eq!(summary["ok"], false);
    assert_eq!(summary["reports"]["blocks"]["status"], "failed");
    let error = summary["reports"]["blocks"]["error"].as_str().unwrap();
    assert!(error.contains("Date must be in YYYYMMDD format"), "{error}");
    assert_eq!(summary["reports"]["daily"]["status"], "ok");
    assert_eq!(env.count("ccusage_usage_daily"), "8");
    assert_eq!(env.count("ccusage_usage_monthly"), "1");
    let line = run
        .stderr
        .lines()
        .find(|l| l.contains("blocks report failed"))
        .unwrap();
    assert!(
        line.starts_with("ccusage-import: error: blocks report failed"),
        "{line}"
    );
    let ledger = env
        .sql("SELECT exit_code, blocks_status, daily_status FROM ccusage_import_runs FORMAT TSV");
    assert_eq!(ledger, "4\tfailed\tok\n");
}

#[test]
fn an_unreachable_server_exits_3_without_running_ccusage() {
    let env = TestEnv::new("refused");
    let fake = env.path("fake");
    let bin = env.stand_in(&fake, "ccusage 20.0.24");
    let run = env
        .importer("laptop")
        .ccusage(&bin)
        .arg("--ch-url")
        .arg("http://127.0.0.1:1")
        .arg("--quiet")
        .run();
    assert_eq!(run.code, 3, "{}{}", run.stdout, run.stderr);
    // Issue 30: the retries took 5.6 s without a word; the first one says so, under --quiet
    // too, then the one error line.
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(
        lines.first().copied(),
        Some(
            "ccusage-import: ClickHouse at http://127.0.0.1:1 cannot be reached: retrying (up to \
             3 times within 600 s; --max-retries, --ch-deadline)"
        ),
        "{}",
        run.stderr
    );
    assert_eq!(lines.len(), 2, "{}", run.stderr);
    assert!(
        lines[1]
            .starts_with("ccusage-import: error: cannot reach ClickHouse at http://127.0.0.1:1"),
        "{}",
        run.stderr
    );
    assert!(
        !fake.join("calls.log").exists(),
        "ccusage ran although ClickHouse was down"
    );
}

#[test]
fn a_table_made_by_an_older_release_gains_the_new_columns_and_keeps_its_rows() {
    let env = TestEnv::new("upgrade");
    sql("default", &format!("CREATE DATABASE {}", env.database));
    // The ledger as the first release made it, before the all-agent report existed.
    env.sql(
        "CREATE TABLE ccusage_import_runs (run_id String, machine_name String, \
         started_at DateTime('UTC'), exit_code UInt8, error String) \
         ENGINE = MergeTree ORDER BY (machine_name, started_at)",
    );
    env.sql("INSERT INTO ccusage_import_runs (run_id, machine_name) VALUES ('old-run', 'laptop')");
    let claude = env.generate_logs("claude", SMALL);
    env.importer("laptop").logs(&claude).import_ok();
    // The ledger gains `warnings` too (issue 30); the new run warned of nothing.
    let runs = env.sql("SELECT run_id = 'old-run', agents_daily_status, warnings FROM ccusage_import_runs ORDER BY started_at FORMAT TSV");
    assert_eq!(runs, "1\t\t\n0\tok\t\n");
    let verify = env.importer("laptop").arg("--verify").run();
    assert_eq!(verify.code, 0, "{}", verify.stdout);
}

#[test]
fn a_machine_without_usage_imports_nothing_and_succeeds() {
    let env = TestEnv::new("empty");
    let claude = env.path("claude");
    std::fs::create_dir_all(claude.join("projects")).unwrap();
    let summary = env.importer("fresh").logs(&claude).import_ok();
    for (report, outcome) in summary["reports"].as_object().unwrap() {
        assert_eq!(outcome["status"], "ok", "{report}: {outcome}");
        assert_eq!(outcome["rows"], 0, "{report}");
    }
    assert_eq!(summary["reports"].as_object().unwrap().len(), 6);
    assert_eq!(env.count("ccusage_usage_daily"), "0");
    assert_eq!(env.count("ccusage_import_runs"), "1");
}

//! `--dry-run` counts what a run would write against what is stored (issue 28, item 7): the
//! same figures a real run then writes, 0 where nothing changed, and nothing written by it.

use serde_json::Value;

use crate::harness::*;
use crate::sequences::add_logs;

/// Logs that end well before now: no active block, whose figures change by the minute.
fn logs(env: &TestEnv, name: &str, seed: &str, days: &str) -> std::path::PathBuf {
    env.generate_logs(
        name,
        &[
            "--projects",
            "2",
            "--days",
            days,
            "--lines",
            "300",
            "--seed",
            seed,
            "--touch-old",
            "--now",
            "2026-11-20T12:00:00Z",
        ],
    )
}

fn tables(summary: &Value) -> &serde_json::Map<String, Value> {
    summary["tables"].as_object().unwrap()
}

fn total(summary: &Value) -> u64 {
    tables(summary).values().map(|v| v.as_u64().unwrap()).sum()
}

#[test]
fn a_dry_run_counts_what_the_next_run_writes() {
    counts("dry_counts", None);
}

/// ccusage 18, whose whole-project sessions are summed from project days and sub-agents.
#[test]
fn a_dry_run_counts_what_the_next_run_writes_with_ccusage_18() {
    counts("dry_counts18", Some(crate::sequences::ccusage18()));
}

/// Dry run, import, dry run, new usage, dry run, import, dry run.
fn counts(name: &str, ccusage: Option<std::path::PathBuf>) {
    let env = TestEnv::new(name);
    let claude = logs(&env, "claude", "7", "6");
    let importer = |env: &TestEnv| {
        let importer = env.importer("laptop").logs(&claude);
        match &ccusage {
            Some(bin) => importer.ccusage(bin),
            None => importer,
        }
    };
    let dry = |env: &TestEnv| {
        let summary = importer(env).arg("--dry-run").import_ok();
        assert_eq!(summary["dry_run_uncompared"], Value::Null, "{summary}");
        summary
    };

    // No database yet: everything mapped is to write, and the database is not created.
    let before_any = dry(&env);
    let databases = sql(
        "default",
        &format!(
            "SELECT count() FROM system.databases WHERE name = '{}'",
            env.database
        ),
    );
    assert_eq!(databases.trim(), "0");
    let first = importer(&env).import_ok();
    assert_eq!(tables(&before_any), tables(&first));
    assert!(total(&first) > 0);

    // Stored: a dry run has nothing to write, and writes nothing (no ledger row either).
    let stored = snapshot(&env);
    let runs = env.count("ccusage_import_runs");
    let again = dry(&env);
    assert_eq!(total(&again), 0, "{again}");
    assert_eq!(env.count("ccusage_import_runs"), runs);

    // New sessions on the same days and one more: the dry run counts each table's rows, and
    // the real run writes exactly those.
    let later = logs(&env, "later", "8", "2");
    add_logs(&later, &claude);
    let counted = dry(&env);
    assert_eq!(snapshot(&env), stored, "the dry run wrote");
    assert!(total(&counted) > 0, "{counted}");
    let written = importer(&env).import_ok();
    assert_eq!(tables(&counted), tables(&written), "{counted}\n{written}");
    assert_eq!(total(&dry(&env)), 0);
}

#[test]
fn a_dry_run_that_cannot_read_clickhouse_says_its_counts_are_rows_mapped() {
    let env = TestEnv::new("dry_unread");
    let claude = logs(&env, "claude", "9", "3");
    let run = env
        .importer("laptop")
        .logs(&claude)
        .env("CH_URL", format!("http://127.0.0.1:{}", free_port()))
        .args(["--dry-run", "--color", "never"])
        .run();
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains(" mapped\n") && run.stdout.contains("not compared"),
        "{}",
        run.stdout
    );
    let summary = env
        .importer("laptop")
        .logs(&claude)
        .env("CH_URL", format!("http://127.0.0.1:{}", free_port()))
        .arg("--dry-run")
        .import_ok();
    assert!(total(&summary) > 0);
    assert!(
        summary["dry_run_uncompared"]
            .as_str()
            .is_some_and(|why| why.contains("127.0.0.1")),
        "{summary}"
    );
}

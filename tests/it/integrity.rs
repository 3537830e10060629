//! Never lose, never double count (issue 13 items 4–10) and schema upgrades that really
//! upgrade (issue 15 point 5), through the real binary.

use std::path::Path;

use serde_json::Value;

use crate::harness::*;
use crate::proxy::{Fault, Proxy};

fn read_json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn write_json(path: &Path, value: &Value) {
    std::fs::write(path, serde_json::to_vec(value).unwrap()).unwrap();
}

/// Item 4: two daily rows for one date would be written as one (the table keeps one row per
/// key), losing the other's usage while the summary counted both.
#[test]
fn a_report_that_repeats_a_key_fails_naming_the_key() {
    let env = TestEnv::new("dupkey");
    let (dir, bin) = fixture_stand_in(&env, "20.0.24", "20.0.24");
    let daily = dir.join("daily.json");
    let mut report = read_json(&daily);
    let rows = report["daily"].as_array_mut().unwrap();
    let mut twin = rows[0].clone();
    twin["inputTokens"] = Value::from(12345);
    rows.push(twin);
    let date = rows[0]["date"].as_str().unwrap().to_owned();
    write_json(&daily, &report);

    let run = env.importer("laptop").ccusage(&bin).arg("--json").run();
    assert_eq!(run.code, 4, "{}{}", run.stdout, run.stderr);
    let line = run
        .stderr
        .lines()
        .find(|l| l.starts_with("ccusage-import: error: daily report failed"))
        .unwrap_or_else(|| panic!("{}", run.stderr));
    assert!(line.contains(&format!("the same key \"{date}\"")), "{line}");
    assert_eq!(run.json()["reports"]["daily"]["status"], "failed");
    // Nothing of the refused report is stored; the other reports are.
    assert_eq!(env.count("ccusage_usage_daily"), "0");
    assert_ne!(env.count("ccusage_usage_sessions"), "0");
}

/// Issue 15 point 7: a server that keeps answering "not now" is retried only while the run's
/// retry budget lasts; then the run ends with exit 3 and says so. `--verbose` names why each
/// failure was (not) retried.
#[test]
fn a_server_answering_code_252_is_retried_until_the_ch_deadline_is_spent() {
    let env = TestEnv::new("deadline");
    let (dir, bin) = fixture_stand_in(&env, "20.0.24", "20.0.24");
    let server = Proxy::start(None);
    server.fault(
        "",
        Fault::Refuse(
            "Code: 252, e.displayText() = DB::Exception: Too many parts (300). Merges are \
             processing significantly slower than inserts., e.what() = DB::Exception",
        ),
        usize::MAX,
    );
    let started = std::time::Instant::now();
    let run = env
        .importer("laptop")
        .ccusage(&bin)
        .arg("--ch-url")
        .arg(server.url())
        .args(["--max-retries", "1000", "--retry-delay", "100"])
        .args(["--ch-deadline", "2", "--verbose"])
        .run();
    let took = started.elapsed();
    assert_eq!(run.code, 3, "{}{}", run.stdout, run.stderr);
    assert!(took < std::time::Duration::from_secs(8), "{took:?}");
    let error = run
        .stderr
        .lines()
        .find(|l| l.starts_with("ccusage-import: error:"))
        .unwrap_or_else(|| panic!("{}", run.stderr));
    assert!(
        error.contains("the run's retry budget (--ch-deadline 2 s) is spent")
            && error.contains("Code: 252"),
        "{error}"
    );
    assert!(
        run.stderr.contains("retried: code 252: too many parts"),
        "{}",
        run.stderr
    );
    // Backoff from 100 ms, doubling: a handful of tries in 2 s, not one and not hundreds.
    let tries = server.requests.load(std::sync::atomic::Ordering::SeqCst);
    assert!((3..=12).contains(&tries), "{tries} requests");
    assert!(!dir.join("calls.log").exists(), "ccusage ran");
}

#[test]
fn a_server_answering_code_516_is_not_retried_and_verbose_says_why() {
    let env = TestEnv::new("final");
    let (_, bin) = fixture_stand_in(&env, "20.0.24", "20.0.24");
    let server = Proxy::start(None);
    server.fault(
        "",
        Fault::Refuse(
            "Code: 516. DB::Exception: laptop: Authentication failed: password is incorrect, \
             or there is no user with such name. (AUTHENTICATION_FAILED)",
        ),
        usize::MAX,
    );
    let run = env
        .importer("laptop")
        .ccusage(&bin)
        .arg("--ch-url")
        .arg(server.url())
        .args(["--max-retries", "5", "--retry-delay", "100", "--verbose"])
        .run();
    assert_eq!(run.code, 3, "{}{}", run.stdout, run.stderr);
    assert_eq!(server.requests.load(std::sync::atomic::Ordering::SeqCst), 1);
    assert!(
        run.stderr
            .contains("not retried: code 516 means authentication failed"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("check CH_USER and CH_PASSWORD"),
        "{}",
        run.stderr
    );
}

/// The harness server behind a proxy that can lose answers.
fn proxied() -> Proxy {
    let upstream = server_url().trim_start_matches("http://").to_owned();
    Proxy::start(Some(upstream))
}

fn ledger_rows(env: &TestEnv, machine: &str) -> Vec<String> {
    env.sql(&format!(
        "SELECT exit_code, daily_status, rows_written > 0 FROM ccusage_import_runs \
         WHERE machine_name = '{machine}' FORMAT TSV"
    ))
    .lines()
    .map(str::to_owned)
    .collect()
}

/// Item 5: the ledger insert's answer is lost after the server stored the row. Retried, the
/// run must still leave one row; not retried, the run must not call itself failed while its
/// ledger row says it succeeded.
#[test]
fn a_lost_answer_to_the_ledger_insert_leaves_one_ledger_row_and_exit_0() {
    let env = TestEnv::new("ledgerlost");
    let (_, bin) = fixture_stand_in(&env, "20.0.24", "20.0.24");
    for (machine, retries) in [("retried", "3"), ("not-retried", "0")] {
        let proxy = proxied();
        proxy.fault(
            "INSERT+INTO+%60ccusage_import_runs%60",
            Fault::LoseAnswer,
            1,
        );
        let run = env
            .importer(machine)
            .ccusage(&bin)
            .arg("--ch-url")
            .arg(proxy.url())
            .args(["--max-retries", retries, "--retry-delay", "100", "--json"])
            .run();
        assert_eq!(
            proxy.faults.load(std::sync::atomic::Ordering::SeqCst),
            1,
            "{machine}: the fault never happened"
        );
        assert_eq!(run.code, 0, "{machine}: {}{}", run.stdout, run.stderr);
        assert_eq!(ledger_rows(&env, machine), ["0\tok\t1"], "{machine}");
    }
}

/// Item 9: the blocks insert is refused while every other table is written; the failed run's
/// summary and ledger count exactly the rows that were stored.
#[test]
fn a_failed_run_counts_the_rows_it_did_write() {
    let env = TestEnv::new("partial");
    let (dir, bin) = fixture_stand_in(&env, "20.0.24", "20.0.24");
    // Blocks finish first, so its failure comes before the other tables' results.
    for report in REPORTS.iter().filter(|r| **r != "blocks") {
        script_report(
            &dir,
            report,
            &format!("sleep 0.5; cat \"$D/{report}.json\""),
        );
    }
    let proxy = proxied();
    proxy.fault(
        "INSERT+INTO+%60ccusage_usage_blocks%60",
        Fault::Refuse("Code: 243, e.displayText() = DB::Exception: Cannot reserve 1.00 MiB, not enough space, e.what() = DB::Exception"),
        usize::MAX,
    );
    let run = env
        .importer("laptop")
        .ccusage(&bin)
        .arg("--ch-url")
        .arg(proxy.url())
        .args(["--max-retries", "0", "--json"])
        .run();
    assert_eq!(run.code, 3, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("cannot write ccusage_usage_blocks"),
        "{}",
        run.stderr
    );
    let summary = run.json();
    let tables = summary["tables"].as_object().unwrap();
    let mut total = 0;
    for table in [
        "ccusage_usage_daily",
        "ccusage_usage_monthly",
        "ccusage_usage_sessions",
        "ccusage_usage_session_days",
        "ccusage_usage_blocks",
        "ccusage_usage_projects_daily",
        "ccusage_usage_agents_daily",
        "ccusage_model_breakdowns",
        "ccusage_models_used",
    ] {
        let stored: u64 = env
            .sql(&format!("SELECT count() FROM {table}"))
            .trim()
            .parse()
            .unwrap();
        // A table the run never reached (the months, summed after every report is written)
        // is absent from the summary: it wrote nothing there.
        let counted = tables.get(table).map_or(Some(0), Value::as_u64);
        assert_eq!(counted, Some(stored), "{table}: {summary}");
        total += stored;
    }
    assert_eq!(tables["ccusage_usage_blocks"], 0);
    assert!(total > 0);
    let ledger = env.sql("SELECT exit_code, rows_written FROM ccusage_import_runs FORMAT TSV");
    assert_eq!(ledger.trim(), format!("3\t{total}"));
}

/// A statement of sql/schema.sql by the object it creates, comments dropped.
fn schema_statement(object: &str) -> String {
    let schema = std::fs::read_to_string(Path::new(ROOT).join("sql/schema.sql")).unwrap();
    schema
        .split("\n;\n")
        .map(|chunk| {
            chunk
                .lines()
                .filter(|l| !l.trim_start().starts_with("--"))
                .collect::<Vec<_>>()
                .join("\n")
        })
        .find(|s| {
            let head = s.trim_start().lines().next().unwrap_or_default();
            head.ends_with(&format!(" {object}")) || head.ends_with(&format!(" {object} AS"))
        })
        .unwrap_or_else(|| panic!("sql/schema.sql creates no {object}"))
        .trim()
        .to_owned()
}

fn error_line(run: &Run) -> &str {
    run.stderr
        .lines()
        .find(|l| l.starts_with("ccusage-import: error:"))
        .unwrap_or_else(|| panic!("no error line in:\n{}{}", run.stdout, run.stderr))
}

fn import_fixture(env: &TestEnv, bin: &Path) -> Run {
    env.importer("laptop").ccusage(bin).arg("--json").run()
}

fn verify(env: &TestEnv) -> Run {
    env.importer("laptop").arg("--verify").run()
}

/// Item 6: `total_cost` already present as Float64 took the Decimal's bytes (costs of
/// 1.5e-315) with exit 0. Now the run fails before it runs ccusage or writes a row, naming the
/// table, the column, both types and what to do.
#[test]
fn a_column_of_another_type_fails_the_run_before_anything_is_written() {
    let env = TestEnv::new("coltype");
    let (dir, bin) = fixture_stand_in(&env, "20.0.24", "20.0.24");
    sql("default", &format!("CREATE DATABASE {}", env.database));
    env.sql(
        &schema_statement("ccusage_usage_daily")
            .replace("total_cost Decimal(18, 9)", "total_cost Float64"),
    );
    let run = import_fixture(&env, &bin);
    assert_eq!(run.code, 3, "{}{}", run.stdout, run.stderr);
    let line = error_line(&run);
    assert!(
        line.contains(
            "table ccusage_usage_daily column total_cost is Float64, sql/schema.sql says \
             Decimal(18, 9)"
        ) && line.contains("RENAME TABLE ccusage_usage_daily TO ccusage_usage_daily_old"),
        "{line}"
    );
    assert!(!dir.join("calls.log").exists(), "ccusage ran");
    assert_eq!(env.count("ccusage_usage_daily"), "0");
    assert_eq!(
        env.sql("SELECT count() FROM system.tables WHERE database = currentDatabase()")
            .trim(),
        "1",
        "the run created tables"
    );
}

/// Item 6: a plain MergeTree cannot replace a re-imported row; the run refuses it.
#[test]
fn a_table_of_another_engine_fails_the_run_naming_both_engines() {
    let env = TestEnv::new("engine");
    let (_, bin) = fixture_stand_in(&env, "20.0.24", "20.0.24");
    sql("default", &format!("CREATE DATABASE {}", env.database));
    env.sql(&schema_statement("ccusage_usage_monthly").replace(
        "ENGINE = ReplacingMergeTree(row_version)",
        "ENGINE = MergeTree",
    ));
    let run = import_fixture(&env, &bin);
    assert_eq!(run.code, 3, "{}{}", run.stdout, run.stderr);
    assert!(
        error_line(&run).contains(
            "table ccusage_usage_monthly is MergeTree, sql/schema.sql says ReplacingMergeTree"
        ),
        "{}",
        run.stderr
    );
    assert_eq!(env.count("ccusage_usage_monthly"), "0");
}

/// Item 6: `--verify` reports a wrong engine, a view that is not the schema's, and a table
/// standing in for a view; its advice is true: done as it says, the next import repairs the
/// rest and `--verify` passes, with every stored row kept.
#[test]
fn verify_reports_a_wrong_engine_a_changed_view_and_a_table_for_a_view_and_its_advice_works() {
    let env = TestEnv::new("verifyadvice");
    let (_, bin) = fixture_stand_in(&env, "20.0.24", "20.0.24");
    assert_eq!(import_fixture(&env, &bin).code, 0);
    let monthly = env.sql("SELECT count() FROM ccusage_usage_monthly FINAL");
    // An older release's view without FINAL, a table where a view belongs, a plain MergeTree.
    env.sql("DROP TABLE ccusage_v_daily_summary");
    env.sql(
        &schema_statement("ccusage_v_daily_summary")
            .replace("FROM ccusage_usage_daily FINAL", "FROM ccusage_usage_daily"),
    );
    env.sql("DROP TABLE ccusage_v_machine_monthly");
    env.sql(
        "CREATE TABLE ccusage_v_machine_monthly (month String) ENGINE = MergeTree ORDER BY month",
    );
    env.sql("RENAME TABLE ccusage_usage_monthly TO ccusage_usage_monthly_saved");
    env.sql(&schema_statement("ccusage_usage_monthly").replace(
        "ENGINE = ReplacingMergeTree(row_version)",
        "ENGINE = MergeTree",
    ));
    env.sql("INSERT INTO ccusage_usage_monthly SELECT * FROM ccusage_usage_monthly_saved");

    let run = verify(&env);
    assert_eq!(run.code, 3, "{}{}", run.stdout, run.stderr);
    let line = |prefix: &str| {
        run.stdout
            .lines()
            .find(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no {prefix:?} in:\n{}", run.stdout))
            .to_owned()
    };
    let view = line("FAIL view ccusage_v_daily_summary:");
    assert!(
        view.contains("its query differs from sql/schema.sql: run ccusage-import once"),
        "{view}"
    );
    let stand_in = line("FAIL view ccusage_v_machine_monthly:");
    assert!(
        stand_in.contains("is a table (MergeTree) where sql/schema.sql has a view")
            && stand_in.contains("RENAME TABLE ccusage_v_machine_monthly TO"),
        "{stand_in}"
    );
    let engine = line("FAIL table ccusage_usage_monthly:");
    assert!(
        engine.contains("is MergeTree, sql/schema.sql says ReplacingMergeTree")
            && engine.contains("RENAME TABLE ccusage_usage_monthly TO ccusage_usage_monthly_old"),
        "{engine}"
    );
    assert!(
        error_line(&run).contains("fix the lines marked FAIL as each says"),
        "{}",
        run.stderr
    );
    // The importer refuses to write while a person's part is undone.
    assert_eq!(import_fixture(&env, &bin).code, 3);

    // Follow the advice, word for word.
    env.sql("RENAME TABLE ccusage_v_machine_monthly TO ccusage_v_machine_monthly_old");
    env.sql("RENAME TABLE ccusage_usage_monthly TO ccusage_usage_monthly_old");
    let run = import_fixture(&env, &bin);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    env.sql("INSERT INTO ccusage_usage_monthly SELECT * FROM ccusage_usage_monthly_old");
    let run = verify(&env);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(
        env.sql("SELECT count() FROM ccusage_usage_monthly FINAL"),
        monthly
    );
    // The view is the schema's again: it reads through FINAL.
    assert!(env
        .sql("SELECT create_table_query FROM system.tables WHERE database = currentDatabase() AND name = 'ccusage_v_daily_summary'")
        .contains("ccusage_usage_daily FINAL"));
}

/// Item 7: an older table lacks a column a view reads. The view's DDL used to fail before the
/// column was added, and every later run failed with it.
#[test]
fn a_table_missing_a_column_a_view_reads_is_upgraded() {
    let env = TestEnv::new("viewcolumn");
    let (_, bin) = fixture_stand_in(&env, "20.0.24", "20.0.24");
    sql("default", &format!("CREATE DATABASE {}", env.database));
    let old = schema_statement("ccusage_usage_sessions");
    let old: String = old
        .lines()
        .filter(|l| !l.trim_start().starts_with("first_activity "))
        .collect::<Vec<_>>()
        .join("\n");
    env.sql(&old);
    let run = import_fixture(&env, &bin);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let sessions = run.json()["tables"]["ccusage_usage_sessions"].clone();
    assert_eq!(
        env.sql("SELECT count() FROM ccusage_v_session_summary WHERE first_activity IS NOT NULL")
            .trim(),
        sessions.to_string()
    );
    assert_eq!(verify(&env).code, 0);
}

/// Issue 15 point 5: a view whose definition in sql/schema.sql changed since it was created
/// is re-created on the next run; `--verify` names it and the fix first. No data is touched.
#[test]
fn a_view_whose_definition_changed_is_re_created_on_the_next_run() {
    let env = TestEnv::new("viewchanged");
    let (_, bin) = fixture_stand_in(&env, "20.0.24", "20.0.24");
    assert_eq!(import_fixture(&env, &bin).code, 0);
    let before = snapshot(&env);
    // As an older release created it: fewer columns.
    env.sql("DROP TABLE ccusage_v_machine_daily");
    env.sql(
        "CREATE VIEW ccusage_v_machine_daily AS SELECT machine_name, date, total_tokens \
         FROM ccusage_usage_daily FINAL",
    );
    let run = verify(&env);
    assert_eq!(run.code, 3, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains(
            "FAIL view ccusage_v_machine_daily: its query differs from sql/schema.sql: run \
             ccusage-import once (as a user allowed DDL) to repair it"
        ),
        "{}",
        run.stdout
    );
    assert!(
        error_line(&run).contains("run ccusage-import once (as a user allowed DDL)"),
        "{}",
        run.stderr
    );
    let run = import_fixture(&env, &bin);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(verify(&env).code, 0);
    assert_eq!(snapshot(&env), before);
    assert_eq!(
        env.sql("SELECT count() FROM ccusage_v_machine_daily WHERE cost_usd > 0")
            .trim(),
        env.sql("SELECT count() FROM ccusage_usage_daily FINAL")
            .trim()
    );
}

/// SQL on a test's own server, as `user`.
fn sql_at(url: &str, database: &str, query: &str, user: &str, password: &str) -> String {
    let out = std::process::Command::new("curl")
        .args(["-sS", "--fail-with-body", "--data-binary", query])
        .args(["-H", &format!("X-ClickHouse-User: {user}")])
        .args(["-H", &format!("X-ClickHouse-Key: {password}")])
        .arg(format!("{url}/?database={database}"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{query}: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Item 8: a user who may write but not run DDL imports into an up-to-date database (no DDL
/// is sent); when the database needs a change, the refusal names it, and nothing is written.
#[test]
fn a_user_without_ddl_rights_imports_when_the_schema_matches_and_is_told_which_change_is_needed() {
    let env = TestEnv::new("noddl");
    let server = PrivateServer::start(env.path("server"));
    let url = server.url();
    let (dir, bin) = fixture_stand_in(&env, "20.0.24", "20.0.24");
    let import = |machine: &str, user: &str, password: &str| {
        env.importer(machine)
            .ccusage(&bin)
            .arg("--ch-url")
            .arg(&url)
            .args(["--ch-user", user, "--json"])
            .env("CH_PASSWORD", password)
            .run()
    };
    let run = import("admin", "default", "");
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);

    let run = import("laptop", "ccusage_noddl", "noddl-secret-pw");
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let daily = |machine: &str| {
        sql_at(
            &url,
            &env.database,
            &format!(
                "SELECT count() FROM ccusage_usage_daily FINAL WHERE machine_name = '{machine}'"
            ),
            "default",
            "",
        )
    };
    assert_eq!(daily("laptop"), daily("admin"));
    assert_ne!(daily("laptop").trim(), "0");

    // The database now lacks a view: the change is DDL, which this user may not run.
    sql_at(
        &url,
        &env.database,
        "DROP TABLE ccusage_v_project_daily",
        "default",
        "",
    );
    std::fs::remove_file(dir.join("calls.log")).unwrap();
    let run = import("desktop", "ccusage_noddl", "noddl-secret-pw");
    assert_eq!(run.code, 3, "{}{}", run.stdout, run.stderr);
    let line = error_line(&run);
    assert!(
        line.contains("cannot create the view ccusage_v_project_daily")
            && line.contains("the user may not run DDL (allow_ddl=0)"),
        "{line}"
    );
    assert!(!dir.join("calls.log").exists(), "ccusage ran");
    assert_eq!(daily("desktop").trim(), "0");
}

/// A zone whose date differs from the UTC date right now, so a query that takes the server's
/// local day for today answers differently from one that takes the UTC day.
fn zone_on_another_day() -> &'static str {
    use chrono::Timelike;
    match chrono::Utc::now().hour() {
        19.. => "Asia/Kolkata",          // UTC+5:30: already tomorrow
        11..=18 => "Pacific/Kiritimati", // UTC+14: already tomorrow
        _ => "Etc/GMT+12",               // UTC−12: still yesterday
    }
}

/// Creates `from`'s tables and views on the server at `to` and copies every table's rows.
fn copy_database(from: &str, to: &str, database: &str) {
    sql_at(
        to,
        "default",
        &format!("CREATE DATABASE {database}"),
        "default",
        "",
    );
    let listed = sql_at(
        from,
        database,
        "SELECT engine = 'View', create_table_query FROM system.tables \
         WHERE database = currentDatabase() FORMAT JSONCompact",
        "default",
        "",
    );
    let listed: Value = serde_json::from_str(&listed).unwrap();
    let mut objects: Vec<(bool, String)> = listed["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| (row[0] == 1, row[1].as_str().unwrap().to_owned()))
        .collect();
    objects.sort_by_key(|(view, _)| *view);
    // A view may read a view: create what can be created until all are.
    while !objects.is_empty() {
        let before = objects.len();
        objects.retain(|(_, create)| {
            let out = std::process::Command::new("curl")
                .args(["-sS", "--fail", "--data-binary", create])
                .arg(format!("{to}/?database={database}"))
                .output()
                .unwrap();
            !out.status.success()
        });
        assert!(objects.len() < before, "cannot create {objects:?}");
    }
    let tables = sql_at(
        from,
        database,
        "SELECT name FROM system.tables WHERE database = currentDatabase() AND engine != 'View'",
        "default",
        "",
    );
    for table in tables.lines() {
        let dump = std::process::Command::new("curl")
            .args(["-sS", "--fail", "--data-binary"])
            .arg(format!("SELECT * FROM {table} FORMAT Native"))
            .arg(format!("{from}/?database={database}"))
            .output()
            .unwrap();
        assert!(dump.status.success());
        let file = std::env::temp_dir().join(format!("{database}-{table}.native"));
        std::fs::write(&file, &dump.stdout).unwrap();
        let load = std::process::Command::new("curl")
            .args(["-sS", "--fail-with-body", "--data-binary"])
            .arg(format!("@{}", file.display()))
            .arg(format!(
                "{to}/?database={database}&query=INSERT%20INTO%20{table}%20FORMAT%20Native"
            ))
            .output()
            .unwrap();
        std::fs::remove_file(&file).unwrap();
        assert!(
            load.status.success(),
            "{table}: {}",
            String::from_utf8_lossy(&load.stdout)
        );
    }
}

fn query_names() -> Vec<String> {
    let text = std::fs::read_to_string(Path::new(ROOT).join("sql/queries.sql")).unwrap();
    text.lines()
        .filter_map(|l| l.strip_prefix("-- name:"))
        .map(|n| n.trim().to_owned())
        // NAME_zone stands in for NAME under --timezone (checked below); not run by name.
        .filter(|n| !n.ends_with("_zone"))
        .collect()
}

/// A query's answer as JSON, without the hours since the last import (which moves with the
/// clock between two runs of the same query).
fn answer(env: &TestEnv, url: &str, name: &str) -> Value {
    answer_in(env, url, name, "UTC")
}

fn answer_in(env: &TestEnv, url: &str, name: &str, zone: &str) -> Value {
    let run = env
        .importer("laptop")
        .arg("--ch-url")
        .arg(url)
        .args(["query", name, "--format", "json", "--timezone", zone])
        .run();
    assert_eq!(run.code, 0, "{name}: {}{}", run.stdout, run.stderr);
    let mut answer: Value = serde_json::from_str(&run.stdout).unwrap();
    for row in answer.as_array_mut().unwrap() {
        row.as_object_mut().unwrap().remove("hours_ago");
    }
    answer
}

/// Item 10: "today" is the UTC day whatever the server's time zone. The same rows on a server
/// in another zone (one whose date differs from UTC's now) give every query the same answer
/// as on a UTC server; before, `last_7_days` showed an empty tomorrow and dropped a real day,
/// and `month_projection` divided by the wrong number of days.
#[test]
fn every_query_answers_the_same_on_a_server_in_another_time_zone() {
    let env = TestEnv::new("timezone");
    let logs = env.generate_logs("claude", SMALL);
    env.importer("laptop").logs(&logs).import_ok();
    let zone = zone_on_another_day();
    let server = PrivateServer::start_in(env.path("server"), zone);
    let local_today = sql_at(
        &server.url(),
        "default",
        "SELECT today() = toDate(now(), 'UTC')",
        "default",
        "",
    );
    assert_eq!(
        local_today.trim(),
        "0",
        "{zone} is on the UTC day: the test would prove nothing"
    );
    copy_database(server_url(), &server.url(), &env.database);

    let today = chrono::Utc::now().date_naive().to_string();
    let utc_week = answer(&env, server_url(), "last_7_days");
    assert_eq!(
        utc_week.as_array().unwrap().last().unwrap()["date"],
        today.as_str()
    );
    let differing: Vec<String> = query_names()
        .into_iter()
        .filter(|name| answer(&env, server_url(), name) != answer(&env, &server.url(), name))
        .collect();
    assert!(
        differing.is_empty(),
        "on a server in {zone} these queries answer otherwise: {differing:?}"
    );
    // Days in a zone picked with --timezone do not depend on the server's zone either.
    for name in ["daily", "fleet_daily", "usage_by_hour"] {
        let la = "America/Los_Angeles";
        assert_eq!(
            answer_in(&env, server_url(), name, la),
            answer_in(&env, &server.url(), name, la),
            "{name} in {la} on a server in {zone}"
        );
    }
}

/// Item 5, the reader's side: an insert still running on the server when `--ch-timeout`
/// expired can slip a second copy of a run's row past the importer's check. Every ledger
/// query counts runs by run_id, so such a copy never counts twice.
#[test]
fn a_run_stored_twice_in_the_ledger_counts_once_in_every_ledger_query() {
    let env = TestEnv::new("ledgertwice");
    let (dir, bin) = fixture_stand_in(&env, "20.0.24", "20.0.24");
    assert_eq!(import_fixture(&env, &bin).code, 0);
    script_report(&dir, "daily", "echo broken; exit 1");
    assert_eq!(import_fixture(&env, &bin).code, 4);
    env.sql("INSERT INTO ccusage_import_runs SELECT * FROM ccusage_import_runs");
    assert_eq!(env.count("ccusage_import_runs"), "4");
    let ask = |name: &str| answer(&env, server_url(), name);
    let last = ask("fleet_last_import");
    assert_eq!(last[0]["runs"], 2, "{last}");
    assert_eq!(last[0]["runs_24h"], 2, "{last}");
    assert_eq!(last[0]["failed_runs"], 1, "{last}");
    assert_eq!(ask("fleet_import_failures")[0]["failed_runs"], 1);
    assert_eq!(ask("import_history").as_array().unwrap().len(), 2);
}

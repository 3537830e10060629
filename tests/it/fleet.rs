//! One machine's import costs the server the same whatever the fleet's size (issue 29): the
//! rows the importer's queries read, from the server's query log (the `ccusage_logged` user of
//! scripts/clickhouse-server.sh has log_queries=1), with 2,000 and with 4,000 other machines
//! stored. The other machines are this machine's rows copied under other names (their session
//! ids and projects made their own), which is cheap and holds the same shape as real ones.

use crate::harness::*;

/// Copies `machine`'s rows of every table holding a `machine_name` under `count` other
/// names (`other-<from>` …), session ids and project keys prefixed with the name, then merges
/// each table to one part, so rows read depend on the queries and not on how many inserts
/// came before.
fn copy_machine(env: &TestEnv, machine: &str, from: usize, count: usize) {
    let tables = env.sql(
        "SELECT table FROM system.columns WHERE database = currentDatabase() \
         AND name = 'machine_name' AND table IN (SELECT name FROM system.tables \
         WHERE database = currentDatabase() AND engine LIKE '%MergeTree') ORDER BY table",
    );
    for table in tables.lines() {
        let columns = env.sql(&format!(
            "SELECT name FROM system.columns WHERE database = currentDatabase() \
             AND table = '{table}' AND default_kind NOT IN ('MATERIALIZED', 'ALIAS')"
        ));
        let columns: Vec<&str> = columns.lines().collect();
        let name =
            "concat('other-', toString(number + {from}))".replace("{from}", &from.to_string());
        let values: Vec<String> = columns
            .iter()
            .map(|c| match *c {
                "machine_name" => name.clone(),
                "session_id" | "project_path" | "project" | "parent_key" => {
                    format!("concat({name}, '-', {c})")
                }
                other => other.to_owned(),
            })
            .collect();
        env.sql(&format!(
            "INSERT INTO {table} ({}) SELECT {} FROM {table} ARRAY JOIN range({count}) AS number \
             WHERE machine_name = '{machine}'",
            columns.join(", "),
            values.join(", ")
        ));
        env.sql(&format!("OPTIMIZE TABLE {table} FINAL"));
    }
}

/// Rows read and queries of one import of `machine` that changes nothing, as the server's
/// query log counts them.
fn reimport_reads(env: &TestEnv, machine: &str, claude: &std::path::Path) -> (u64, String) {
    sql("default", "SYSTEM FLUSH LOGS");
    let since = sql("default", "SELECT toUInt32(now())").trim().to_owned();
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let run = env
        .importer(machine)
        .logs(claude)
        .env("CH_USER", "ccusage_logged")
        .run();
    assert_eq!(run.code, 0, "{}", run.stderr);
    sql("default", "SYSTEM FLUSH LOGS");
    let reads = |what: &str, tail: &str| {
        sql(
            "default",
            &format!(
                "SELECT {what} FROM system.query_log WHERE type = 2 AND user = 'ccusage_logged' \
                 AND event_time > toDateTime({since}) {tail}"
            ),
        )
    };
    let rows: u64 = reads("sum(read_rows)", "").trim().parse().unwrap();
    let top = reads(
        "concat(toString(read_rows), ' ', replaceRegexpAll(substring(query, 1, 80), '\\\\s+', ' '))",
        "ORDER BY read_rows DESC LIMIT 5",
    );
    (rows, top)
}

#[test]
fn one_machines_import_reads_as_many_rows_with_twice_the_fleet() {
    let env = TestEnv::new("fleet");
    let claude = env.generate_logs("claude", SMALL);
    env.importer("alpha").logs(&claude).import_ok();
    // Enough machines that every table spans many granules (8,192 rows): below that a read of
    // one machine reads the whole table's one granule whatever its filter.
    copy_machine(&env, "alpha", 0, 2_000);
    let (small, small_top) = reimport_reads(&env, "alpha", &claude);
    copy_machine(&env, "alpha", 2_000, 2_000);
    let machines = env.sql("SELECT uniqExact(machine_name) FROM ccusage_usage_daily");
    assert_eq!(machines.trim(), "4001");
    let (large, large_top) = reimport_reads(&env, "alpha", &claude);
    eprintln!("rows read by one import: {small} with 2,001 machines, {large} with 4,001");
    // A read of one row per machine (the fleet line) adds a few thousand rows; a read of every
    // machine's days, sessions or breakdowns doubles.
    assert!(
        large as f64 <= small as f64 * 1.2 + 10_000.0,
        "rows read by one import: {small} with 2,001 machines, {large} with 4,001\n\
         largest reads at 2,001:\n{small_top}\nlargest reads at 4,001:\n{large_top}"
    );
    // The copies' sessions are their own: nobody shares alpha's logs.
    let run = env.importer("alpha").logs(&claude).arg("--json").run();
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(!run.stderr.contains("also stored under"), "{}", run.stderr);
    let fleet = &run.json()["fleet"];
    assert_eq!(fleet["machines"], 4001, "{fleet}");
}

/// The statements of one import of `machine` as `ccusage_logged`, each with the rows it read.
fn import_statements(env: &TestEnv, machine: &str, claude: &std::path::Path) -> String {
    sql("default", "SYSTEM FLUSH LOGS");
    let since = sql("default", "SELECT toUInt32(now())").trim().to_owned();
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let run = env
        .importer(machine)
        .logs(claude)
        .env("CH_USER", "ccusage_logged")
        .run();
    assert_eq!(run.code, 0, "{}", run.stderr);
    sql("default", "SYSTEM FLUSH LOGS");
    sql(
        "default",
        &format!(
            "SELECT concat(toString(read_rows), ' ', replaceRegexpAll(query, '\\\\s+', ' ')) \
             FROM system.query_log WHERE type = 2 AND user = 'ccusage_logged' \
             AND event_time > toDateTime({since}) AND query NOT LIKE 'SYSTEM%'"
        ),
    )
}

/// The newest tick of `machine`'s rows in the tables `last_tick` reads, and its kept tick.
fn ticks(env: &TestEnv, machine: &str) -> (u64, u64) {
    let rows = env.sql(&format!(
        "SELECT max(bitAnd(row_version, 16777215)) FROM ccusage_usage_daily \
         WHERE machine_name = '{machine}'"
    ));
    let kept = env.sql(&format!(
        "SELECT max(tick) FROM ccusage_machine_ticks WHERE machine_name = '{machine}'"
    ));
    (rows.trim().parse().unwrap(), kept.trim().parse().unwrap())
}

#[test]
fn an_import_reads_its_tick_from_one_row_and_fills_old_days_once() {
    let env = TestEnv::new("fleet_tick");
    let claude = env.generate_logs("claude", SMALL);
    env.importer("alpha").logs(&claude).import_ok();
    let (rows, kept) = ticks(&env, "alpha");
    assert!(rows > 0 && kept >= rows, "rows' tick {rows}, kept {kept}");
    // Every later import: the tick from its one row, no read of every table's versions, and
    // no fill of days older releases stored without their breakdown arrays.
    let union = "bitAnd(row_version, 16777215)";
    let fill = "empty(breakdown_models)";
    let statements = import_statements(&env, "alpha", &claude);
    assert!(statements.contains("ccusage_machine_ticks"), "{statements}");
    assert!(!statements.contains(union), "{statements}");
    assert!(!statements.contains(fill), "{statements}");
    let (_, after) = ticks(&env, "alpha");
    assert!(after > kept, "a later import's tick {after} is past {kept}");
    // A database an older release wrote (no tick kept): its rows' tick is read once, the
    // fill runs once, and the import's versions are still past everything stored.
    let (stored, _) = ticks(&env, "alpha");
    env.sql("TRUNCATE TABLE ccusage_machine_ticks");
    let older = import_statements(&env, "alpha", &claude);
    assert!(older.contains(union), "{older}");
    assert!(older.contains(fill), "{older}");
    let (_, kept) = ticks(&env, "alpha");
    assert!(kept > stored, "kept {kept}, stored rows' {stored}");
    let again = import_statements(&env, "alpha", &claude);
    assert!(!again.contains(union), "{again}");
    assert!(!again.contains(fill), "{again}");
}

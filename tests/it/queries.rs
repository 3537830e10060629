//! Named queries (issue 7): after two machines' imports every query of sql/queries.sql runs on
//! the test server through `ccusage-import query`, and the key answers equal ccusage's totals.

use std::collections::HashMap;

use serde_json::Value;

use crate::harness::*;

const LAPTOP: &[&str] = &[
    "--projects",
    "3",
    "--days",
    "35",
    "--lines",
    "1200",
    "--seed",
    "3",
    "--active",
];

const DESKTOP: &[&str] = &[
    "--projects",
    "2",
    "--days",
    "6",
    "--lines",
    "300",
    "--seed",
    "9",
];

/// The names in sql/queries.sql, read by the importer's own parser.
fn query_names() -> Vec<String> {
    use ccusage_import::sqlfile;
    sqlfile::parse_named(sqlfile::QUERIES)
        .into_iter()
        .map(|query| query.name.to_owned())
        // NAME_zone stands in for NAME under --timezone; it is not run by name.
        .filter(|name| !name.ends_with("_zone"))
        .collect()
}

fn query(env: &TestEnv, machine: &str, args: &[&str]) -> Run {
    args.iter()
        .fold(env.importer(machine).arg("query"), |importer, arg| {
            importer.arg(arg)
        })
        .run()
}

fn number(row: &Value, key: &str) -> f64 {
    match &row[key] {
        Value::Number(n) => n.as_f64().unwrap(),
        Value::String(s) => s.parse().unwrap(),
        other => panic!("{key} is {other} in {row}"),
    }
}

/// A row of `totals`, `fleet_machine_totals` or `fleet_totals` against ccusage's totals.
fn assert_row_equals(row: &Value, tokens: [u64; 4], cost: f64, what: &str) {
    let got = ["input", "output", "cache_write", "cache_read"].map(|k| number(row, k) as u64);
    assert_eq!(
        got, tokens,
        "{what}: token totals differ from ccusage's: {row}"
    );
    let got_cost = number(row, "cost");
    assert!(
        (got_cost - cost).abs() < 1e-6,
        "{what}: cost {got_cost} != ccusage's {cost}"
    );
}

#[test]
fn every_named_query_runs_and_the_totals_equal_ccusage() {
    let env = TestEnv::new("queries");
    let laptop = env.generate_logs("laptop", LAPTOP);
    let desktop = env.generate_logs("desktop", DESKTOP);
    env.importer("laptop").logs(&laptop).import_ok();
    env.importer("desktop").logs(&desktop).import_ok();

    let names = query_names();
    let fleet = names.iter().filter(|n| n.starts_with("fleet_")).count();
    assert!(names.len() >= 40, "only {} named queries", names.len());
    assert!(fleet >= 13, "only {fleet} fleet queries");
    let list = query(&env, "laptop", &["--list"]);
    assert_eq!(list.code, 0, "{}", list.stderr);
    assert!(list
        .stdout
        .starts_with(&format!("{} named queries", names.len())));
    for name in &names {
        assert!(
            list.stdout
                .lines()
                .any(|l| l.trim_start().starts_with(&format!("{name} "))),
            "--list misses {name}:\n{}",
            list.stdout
        );
    }

    // Every query, as JSON: machine queries for each machine, fleet queries once.
    let mut answers: HashMap<(String, &str), Vec<Value>> = HashMap::new();
    for name in &names {
        let machines: &[&str] = if name.starts_with("fleet_") {
            &["laptop"]
        } else {
            &["laptop", "desktop"]
        };
        for machine in machines {
            let run = query(&env, machine, &[name, "--format", "json"]);
            assert_eq!(
                run.code, 0,
                "query {name} for {machine} failed:\n{}",
                run.stderr
            );
            let rows = run.json().as_array().cloned().unwrap_or_else(|| {
                panic!("query {name} did not print a JSON array: {}", run.stdout)
            });
            answers.insert((name.clone(), machine), rows);
        }
    }

    // The key answers: each machine's totals are its ccusage totals, the fleet's their sum.
    let mut sum_tokens = [0u64; 4];
    let mut sum_cost = 0.0;
    for (machine, logs) in [("laptop", &laptop), ("desktop", &desktop)] {
        let (tokens, cost) = ccusage_totals(logs);
        let totals = &answers[&("totals".to_owned(), machine)];
        assert_eq!(totals.len(), 1, "{totals:?}");
        assert_eq!(totals[0]["machine"], machine);
        assert_row_equals(&totals[0], tokens, cost, &format!("totals for {machine}"));
        let row = answers[&("fleet_machine_totals".to_owned(), "laptop")]
            .iter()
            .find(|r| r["machine"] == machine)
            .unwrap_or_else(|| panic!("fleet_machine_totals has no row for {machine}"));
        assert_row_equals(
            row,
            tokens,
            cost,
            &format!("fleet_machine_totals {machine}"),
        );
        for i in 0..4 {
            sum_tokens[i] += tokens[i];
        }
        sum_cost += cost;
    }
    let fleet_totals = &answers[&("fleet_totals".to_owned(), "laptop")];
    assert_eq!(number(&fleet_totals[0], "machines"), 2.0);
    assert_row_equals(&fleet_totals[0], sum_tokens, sum_cost, "fleet_totals");
    assert_eq!(
        answers[&("fleet_machine_totals".to_owned(), "laptop")].len(),
        2
    );

    // Machine queries answer for the machine asked about only.
    let days = |machine: &str| answers[&("daily".to_owned(), machine)].len();
    assert_eq!(
        days("laptop") as f64,
        number(&answers[&("totals".to_owned(), "laptop")][0], "days")
    );
    assert_eq!(
        days("desktop") as f64,
        number(&answers[&("totals".to_owned(), "desktop")][0], "days")
    );
    assert_ne!(days("laptop"), days("desktop"));
    // The active session's block is still open.
    assert_eq!(answers[&("current_block".to_owned(), "laptop")].len(), 1);

    // The other two formats.
    let table = query(&env, "laptop", &["fleet_machine_totals"]);
    assert_eq!(table.code, 0, "{}", table.stderr);
    let lines: Vec<&str> = table.stdout.lines().collect();
    assert!(lines[0].starts_with("machine  "), "{}", table.stdout);
    assert!(lines[1].starts_with("-------"), "{}", table.stdout);
    assert_eq!(lines.last(), Some(&"(2 rows)"));
    assert_eq!(lines.len(), 5);
    let csv = query(&env, "desktop", &["daily", "--format", "csv"]);
    assert_eq!(csv.code, 0, "{}", csv.stderr);
    assert!(csv.stdout.starts_with("date,input,"), "{}", csv.stdout);
    assert_eq!(csv.stdout.lines().count(), days("desktop") + 1);
}

#[test]
fn an_unknown_query_exits_2_and_clickhouse_failures_exit_3() {
    let env = TestEnv::new("queryfail");
    let run = query(&env, "laptop", &["no_such_query"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("no_such_query") && run.stderr.contains("query --list"),
        "{}",
        run.stderr
    );
    assert!(run.stdout.is_empty());

    // A typo is answered with the query meant; no name at all with the list.
    let run = query(&env, "laptop", &["fleet_total"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("did you mean fleet_totals?"),
        "{}",
        run.stderr
    );
    let run = query(&env, "laptop", &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout, query(&env, "laptop", &["--list"]).stdout);
    assert!(run.stdout.contains("fleet_totals"), "{}", run.stdout);

    // Nothing imported yet: the database does not exist.
    let run = query(&env, "laptop", &["totals"]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(
        run.stderr.contains("ccusage-import: error:"),
        "{}",
        run.stderr
    );

    let run = env
        .importer("laptop")
        .env("CH_URL", "http://127.0.0.1:9")
        .arg("query")
        .arg("fleet_totals")
        .run();
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(
        run.stderr.contains("cannot reach ClickHouse"),
        "{}",
        run.stderr
    );
}

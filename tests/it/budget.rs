//! Monthly budgets (issue 28): the import warns, under `--quiet` too and in its ledger row,
//! when this month's projection crosses the fleet's budget (`CCUSAGE_IMPORT_BUDGET`) or the
//! machine's (the budget file), and stops warning when the budget is raised.

use chrono::{Datelike, Duration, Timelike, Utc};

use crate::harness::*;
use crate::sequences::add_logs;

const FLEET_WARNING: &str = "the fleet's projected cost this month";
const MACHINE_WARNING: &str = "machine laptop's projected cost this month";

/// What the import projects for this month: the stored month so far over the days elapsed,
/// times the days in the month (UTC), as the dashboard's month_projection does.
fn projected(env: &TestEnv) -> f64 {
    let month: f64 = env
        .sql(
            "SELECT toFloat64(sum(total_cost)) FROM ccusage_usage_daily FINAL \
             WHERE date >= toStartOfMonth(toDate(now(), 'UTC'))",
        )
        .trim()
        .parse()
        .unwrap();
    let today = Utc::now().date_naive();
    let first = today.with_day(1).unwrap();
    let next = first.checked_add_months(chrono::Months::new(1)).unwrap();
    month / f64::from(today.day()) * (next - first).num_days() as f64
}

/// Logs ending now, with an open session: usage in this month. In a month's first hour the
/// generated "now" is an hour on, so the open session is in this month too.
fn logs_of_this_month(env: &TestEnv, name: &str, lines: &str, seed: &str) -> std::path::PathBuf {
    let now = Utc::now();
    let at = if now.day() == 1 && now.hour() < 1 {
        now + Duration::hours(1)
    } else {
        now
    };
    let at = at.format("%Y-%m-%dT%H:%M:%SZ").to_string();
    env.generate_logs(
        name,
        &[
            "--days", "2", "--lines", lines, "--seed", seed, "--active", "--now", &at,
        ],
    )
}

fn warnings_of(run: &Run) -> Vec<String> {
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    format!("{}{}", run.stdout, run.stderr)
        .lines()
        .filter(|l| l.contains("projected cost this month"))
        .map(str::to_owned)
        .collect()
}

#[test]
fn the_import_warns_when_the_month_is_projected_past_a_budget_until_it_is_raised() {
    let env = TestEnv::new("budget");
    let claude = logs_of_this_month(&env, "claude", "80", "41");
    let quiet = |budget: &str| {
        env.importer("laptop")
            .logs(&claude)
            .env("CCUSAGE_IMPORT_BUDGET", budget)
            .arg("--quiet")
            .run()
    };

    // Under the budget: no warning.
    env.importer("laptop").logs(&claude).import_ok();
    let before = projected(&env);
    assert!(before > 0.0, "the precondition: usage this month");
    let budget = format!("{:.2}", before * 1.5);
    assert_eq!(warnings_of(&quiet(&budget)), Vec::<String>::new());

    // More usage this month: the same budget is crossed, and said under --quiet.
    let more = logs_of_this_month(&env, "more", "600", "42");
    add_logs(&more, &claude);
    let run = quiet(&budget);
    let after = projected(&env);
    assert!(
        after > before * 1.5,
        "the precondition: the month grew past the budget"
    );
    let warned = warnings_of(&run);
    assert_eq!(warned.len(), 1, "{warned:?}");
    assert!(warned[0].contains(FLEET_WARNING), "{warned:?}");
    let shown = format!("crosses its budget of ${budget}");
    assert!(warned[0].contains(&shown), "{warned:?}");
    // The ledger keeps it, so `schedule status`, `doctor` and the dashboard show it.
    let stored = env.sql(
        "SELECT warnings FROM ccusage_import_runs WHERE machine_name = 'laptop' \
         ORDER BY started_at DESC, run_id LIMIT 1",
    );
    // (TSV escapes the apostrophe.)
    assert!(stored.contains("projected cost this month, $"), "{stored}");

    // The budget raised: the warning is gone.
    let raised = format!("{:.2}", after * 2.0);
    assert_eq!(warnings_of(&quiet(&raised)), Vec::<String>::new());

    // The machine's own budget, from the budget file, is checked beside the fleet's.
    let file = env.path("budgets");
    std::fs::write(
        &file,
        format!(
            "# USD per month\nlaptop = {:.2}\nLAPTOP = 10\n",
            after / 2.0
        ),
    )
    .unwrap();
    let run = env
        .importer("laptop")
        .logs(&claude)
        .env("CCUSAGE_IMPORT_BUDGET", &raised)
        .env("CCUSAGE_IMPORT_BUDGET_FILE", &file)
        .arg("--quiet")
        .run();
    let warned = warnings_of(&run);
    assert_eq!(warned.len(), 1, "{warned:?}");
    assert!(warned[0].contains(MACHINE_WARNING), "{warned:?}");
    assert!(warned[0].contains("the budget file"), "{warned:?}");
    // A name no machine is likely to have is said, not ignored silently.
    assert!(
        run.stderr
            .contains("names \"LAPTOP\", which has capital letters"),
        "{}",
        run.stderr
    );
    // A budget no card can show is refused: a cent to a billion.
    for bad in ["1e308", "1e-9"] {
        let run = env.importer("laptop").args(["--budget", bad]).run();
        assert_eq!(run.code, 2, "{bad}: {}", run.stderr);
        assert!(
            run.stderr.contains("from 0.01 to 1000000000"),
            "{}",
            run.stderr
        );
    }

    // A broken budget file is a warning naming the line; the import itself goes on.
    std::fs::write(&file, "laptop 5\n").unwrap();
    let run = env
        .importer("laptop")
        .logs(&claude)
        .env("CCUSAGE_IMPORT_BUDGET_FILE", &file)
        .arg("--quiet")
        .run();
    assert_eq!(run.code, 0, "{}", run.stderr);
    let all = format!("{}{}", run.stdout, run.stderr);
    assert!(all.contains("no `=` on line 1"), "{all}");
}

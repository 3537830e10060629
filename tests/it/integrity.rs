//! Never lose, never double count (issue 13 items 4–10) and schema upgrades that really
//! upgrade (issue 15 point 5), through the real binary.

use std::path::Path;

use serde_json::Value;

use crate::harness::*;

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

    let run = env
        .importer("laptop")
        .arg("--ccusage-bin")
        .arg(&bin)
        .arg("--json")
        .run();
    assert_eq!(run.code, 4, "{}{}", run.stdout, run.stderr);
    let line = run
        .stderr
        .lines()
        .find(|l| l.starts_with("ccusage-import: error: daily report failed"))
        .unwrap_or_else(|| panic!("{}", run.stderr));
    assert!(line.contains(&format!("the same key \"{date}\"")), "{line}");
    assert_eq!(run.json()["reports"]["daily"]["status"], "failed");
    // Nothing of the refused report is stored; the other reports are.
    assert_eq!(env.sql("SELECT count() FROM ccusage_usage_daily").trim(), "0");
    assert_ne!(
        env.sql("SELECT count() FROM ccusage_usage_monthly").trim(),
        "0"
    );
}

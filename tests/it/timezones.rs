//! Days in a time zone (issue 28): `query --timezone`, `--since/--until` and the dashboard's
//! `tz`, counted from the stored hours. The sequence: usage at 03:00 UTC is imported, read in
//! America/Los_Angeles (the day before), more usage is added and imported, and read again.
//! The browser half is in `dashboard::the_zone_in_the_url_moves_days_and_hours_and_survives_a_reload`.

use std::path::Path;

use serde_json::Value;

use crate::harness::*;

pub const LA: &str = "America/Los_Angeles";

/// The first logs: 03:00 UTC on 10 November is 19:00 on the 9th in Los Angeles (PST, UTC-8);
/// 20:00 UTC is noon on the 10th.
pub fn first_logs(claude: &Path) {
    write_transcript(
        claude,
        "early",
        &[
            ("2026-11-10T03:05:00.000Z", 1000, 100),
            ("2026-11-10T20:10:00.000Z", 2000, 200),
        ],
    );
}

/// More usage: 02:30 UTC on the 11th is 18:30 on the 10th in Los Angeles.
pub fn more_logs(claude: &Path) {
    write_transcript(claude, "late", &[("2026-11-11T02:30:00.000Z", 500, 50)]);
}

/// `query NAME ARGS --format json` for the machine laptop: the rows.
fn query(env: &TestEnv, name: &str, args: &[&str]) -> Vec<Value> {
    let run = env
        .importer("laptop")
        .args(["query", name, "--format", "json"])
        .args(args)
        .run();
    assert_eq!(run.code, 0, "query {name} {args:?}: {}", run.stderr);
    run.json().as_array().unwrap().clone()
}

/// (day, tokens) of each row of a daily answer.
fn days(rows: &[Value]) -> Vec<(String, u64)> {
    rows.iter()
        .map(|r| {
            (
                r["date"].as_str().unwrap().to_owned(),
                r["tokens"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn day(date: &str, tokens: u64) -> (String, u64) {
    (date.to_owned(), tokens)
}

/// (hour of day, tokens) of each row of usage_by_hour.
fn hours(rows: &[Value]) -> Vec<(u64, u64)> {
    rows.iter()
        .map(|r| {
            (
                r["hour_of_day"].as_u64().unwrap(),
                r["tokens"].as_u64().unwrap(),
            )
        })
        .collect()
}

#[test]
fn usage_at_three_utc_counts_on_the_day_before_in_los_angeles() {
    let env = TestEnv::new("tz_query");
    let claude = env.path("claude");
    first_logs(&claude);
    env.importer("laptop").logs(&claude).import_ok();

    // UTC: the stored days, as ccusage printed them.
    assert_eq!(days(&query(&env, "daily", &[])), [day("2026-11-10", 3300)]);
    // Los Angeles: the 03:00 UTC usage is on the 9th; the same from the environment.
    let la = [day("2026-11-09", 1100), day("2026-11-10", 2200)];
    assert_eq!(days(&query(&env, "daily", &["--timezone", LA])), la);
    let from_env = env
        .importer("laptop")
        .env("CCUSAGE_IMPORT_TIMEZONE", LA)
        .args(["query", "fleet_daily", "--format", "json"])
        .run();
    assert_eq!(from_env.code, 0, "{}", from_env.stderr);
    assert_eq!(days(from_env.json().as_array().unwrap()), la);
    // The hour of day moves with the zone: 03 and 20 UTC are 19 and 12 in Los Angeles, and
    // 08 (08:30) and 01 (01:30) in Kolkata, whose half hour a UTC hour cannot split.
    assert_eq!(
        hours(&query(&env, "usage_by_hour", &[])),
        [(3, 1100), (20, 2200)]
    );
    assert_eq!(
        hours(&query(&env, "usage_by_hour", &["--timezone", LA])),
        [(12, 2200), (19, 1100)]
    );
    assert_eq!(
        hours(&query(
            &env,
            "usage_by_hour",
            &["--timezone", "Asia/Kolkata"]
        )),
        [(1, 2200), (8, 1100)]
    );

    // More usage, imported: 02:30 UTC on the 11th joins the 10th in Los Angeles.
    more_logs(&claude);
    env.importer("laptop").logs(&claude).import_ok();
    assert_eq!(
        days(&query(&env, "daily", &[])),
        [day("2026-11-10", 3300), day("2026-11-11", 550)]
    );
    assert_eq!(
        days(&query(&env, "daily", &["--timezone", LA])),
        [day("2026-11-09", 1100), day("2026-11-10", 2750)]
    );
    // A range is days in the zone, both included.
    let one_day = [
        "--timezone",
        LA,
        "--since",
        "2026-11-10",
        "--until",
        "2026-11-10",
    ];
    assert_eq!(
        days(&query(&env, "daily", &one_day)),
        [day("2026-11-10", 2750)]
    );
    assert_eq!(
        days(&query(&env, "fleet_daily", &one_day)),
        [day("2026-11-10", 2750)]
    );
    let utc_day = ["--since", "2026-11-11", "--until", "2026-11-11"];
    assert_eq!(
        days(&query(&env, "daily", &utc_day)),
        [day("2026-11-11", 550)]
    );
    let totals = query(&env, "totals", &utc_day);
    assert_eq!(totals[0]["tokens"], 550, "{totals:?}");
    // A range without usage is blamed on the range, not on the machine's name.
    let empty = env
        .importer("laptop")
        .args([
            "query",
            "totals",
            "--since",
            "2026-10-01",
            "--until",
            "2026-10-02",
        ])
        .run();
    assert_eq!(empty.code, 0, "{}", empty.stderr);
    assert!(
        empty
            .stderr
            .contains("no usage from 2026-10-01 to 2026-10-02")
            && !empty.stderr.contains("--machine-name"),
        "{}",
        empty.stderr
    );
    // Coarse = Σ fine: the zone moves usage between days, never adds or drops any.
    let all_la: u64 = days(&query(&env, "daily", &["--timezone", LA]))
        .iter()
        .map(|d| d.1)
        .sum();
    assert_eq!(all_la, 3850);

    // A day stored before the machine's first stored hour (by an importer older than the
    // hours, its logs gone since) has no hours: it stays on its UTC day in every zone.
    env.sql(
        "INSERT INTO ccusage_usage_daily (machine_name, date, input_tokens, output_tokens, \
         total_tokens, total_cost, row_version) VALUES ('laptop', '2026-11-01', 700, 70, 770, 1, 1)",
    );
    assert_eq!(
        days(&query(&env, "daily", &["--timezone", LA])),
        [
            day("2026-11-01", 770),
            day("2026-11-09", 1100),
            day("2026-11-10", 2750)
        ]
    );
}

#[test]
fn an_unknown_zone_or_a_range_a_query_cannot_take_is_one_line_and_exit_2() {
    let env = TestEnv::new("tz_refused");
    let claude = env.path("claude");
    first_logs(&claude);
    env.importer("laptop").logs(&claude).import_ok();
    let cases: [(&[&str], &str); 6] = [
        (
            &["query", "daily", "--timezone", ""],
            "--timezone: is empty",
        ),
        (
            &[
                "query",
                "daily",
                "--since",
                "2026-11-02",
                "--until",
                "2026-11-01",
            ],
            "bad parameter --until: 2026-11-01 is before --since",
        ),
        (
            &["query", "daily", "--timezone", "America/Los_Angles"],
            "did you mean America/Los_Angeles?",
        ),
        (
            &["query", "daily", "--timezone", "UTC'; DROP TABLE x"],
            "is not a time zone",
        ),
        (
            &["query", "blocks_by_hour", "--since", "2026-11-01"],
            "the query blocks_by_hour takes no range: --since and --until apply to",
        ),
        (&["query", "daily", "--until", "11/10/2026"], "--until"),
    ];
    for (args, says) in cases {
        let run = env.importer("laptop").args(args).run();
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert_eq!(run.stderr.trim().lines().count(), 1, "{}", run.stderr);
        assert!(run.stderr.contains(says), "{args:?}: {}", run.stderr);
        assert!(run.stdout.is_empty(), "{}", run.stdout);
    }
    let dashboard = env
        .importer("laptop")
        .args(["dashboard", "--html"])
        .arg(env.path("report.html"))
        .args(["--timezone", "Mars/Olympus"])
        .run();
    assert_eq!(dashboard.code, 2, "{}", dashboard.stderr);
    assert!(
        dashboard.stderr.contains("--timezone") && dashboard.stderr.contains("is not a time zone"),
        "{}",
        dashboard.stderr
    );
    assert!(!env.path("report.html").exists());
    // A query whose report has no hours says that its days stay UTC days.
    let models = env
        .importer("laptop")
        .args(["query", "cost_by_model", "--timezone", LA])
        .run();
    assert_eq!(models.code, 0, "{}", models.stderr);
    assert!(
        models.stderr.contains("cost_by_model counts UTC days"),
        "{}",
        models.stderr
    );
}

#[test]
fn the_static_report_counts_days_in_its_zone() {
    let env = TestEnv::new("tz_html");
    let claude = env.path("claude");
    first_logs(&claude);
    more_logs(&claude);
    env.importer("laptop").logs(&claude).import_ok();
    let file = env.path("report.html");
    let run = env
        .importer("laptop")
        .args(["dashboard", "--html"])
        .arg(&file)
        .args([
            "--timezone",
            LA,
            "--since",
            "2026-11-10",
            "--until",
            "2026-11-10",
        ])
        .run();
    assert_eq!(run.code, 0, "{}", run.stderr);
    let html = std::fs::read_to_string(&file).unwrap();
    // The page embeds its data as JSON: the one LA day, 2,750 tokens, and the zone.
    let compact: String = html.chars().filter(|c| !c.is_whitespace()).collect();
    assert!(
        compact.contains("\"tz\":\"America/Los_Angeles\""),
        "no zone"
    );
    assert!(
        compact.contains("[\"2026-11-10\",1,2500,250,0,0,2750,"),
        "the days panel: {}",
        &compact[compact.find("\"days\"").unwrap_or(0)..][..300.min(compact.len())]
    );
}

//! Sessions through Claude Code's cleanup (issue 25): with ccusage 19+ the importer stores each
//! session's days (`claude session --since D --until D`) and sums the sessions from them, so a
//! resumed session whose original is deleted never takes the original's replayed lines, and a
//! session that loses an old sub-agent file while it grows keeps both its old and its new
//! usage. Each test writes its transcripts entry by entry, imports with the real ccusage,
//! changes the logs as Claude Code does, imports again, and compares every session the database
//! shows with what ccusage printed while all logs existed.

use std::collections::BTreeMap;
use std::path::Path;

use chrono::{DateTime, Duration, Utc};

use crate::harness::*;
use crate::sequences::assert_months_equal_their_days;

/// A session: tokens, cost, last activity (as ClickHouse prints it).
type Figure = (u64, f64, String);

/// ccusage's sessions, by session id.
fn printed(claude: &Path) -> BTreeMap<String, Figure> {
    ccusage(claude, &["claude", "session"])["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["sessionId"].as_str().unwrap().to_owned(),
                (
                    s["totalTokens"].as_u64().unwrap(),
                    s["totalCost"].as_f64().unwrap(),
                    clickhouse_time(s["lastActivity"].as_str().unwrap()),
                ),
            )
        })
        .collect()
}

/// The sessions every session query reads.
fn shown(env: &TestEnv) -> BTreeMap<String, Figure> {
    env.sql(
        "SELECT session_id, total_tokens, toFloat64(total_cost), toString(last_activity) \
         FROM ccusage_v_session_summary WHERE machine_name = 'laptop' FORMAT TSV",
    )
    .lines()
    .map(|line| {
        let f: Vec<&str> = line.split('\t').collect();
        (
            f[0].to_owned(),
            (
                f[1].parse().unwrap(),
                f[2].parse().unwrap(),
                f[3].to_owned(),
            ),
        )
    })
    .collect()
}

/// Every session as ccusage printed it while all logs existed, and the invariants: the
/// sessions add up to the days, no stored day's sessions add up to more than the day, every
/// month is its days.
fn assert_as_printed(env: &TestEnv, step: &str, printed: &BTreeMap<String, Figure>) {
    let shown = shown(env);
    assert_eq!(
        shown.keys().collect::<Vec<_>>(),
        printed.keys().collect::<Vec<_>>(),
        "{step}: sessions"
    );
    for (id, s) in &shown {
        let p = &printed[id];
        assert_eq!((s.0, &s.2), (p.0, &p.2), "{step}: session {id}");
        assert!(
            (s.1 - p.1).abs() < 1e-6,
            "{step}: session {id} cost {s:?} {p:?}"
        );
    }
    let sessions: u64 = shown.values().map(|s| s.0).sum();
    let days = env
        .sql("SELECT sum(total_tokens) FROM ccusage_v_daily_summary WHERE machine_name = 'laptop'");
    assert_eq!(
        sessions,
        days.trim().parse::<u64>().unwrap(),
        "{step}: Σ sessions = Σ days"
    );
    let over = env.sql(
        "SELECT count() FROM (SELECT date, sum(total_tokens) AS t FROM ccusage_usage_session_days \
         FINAL WHERE machine_name = 'laptop' AND superseded = 0 GROUP BY date) AS s \
         ANY INNER JOIN (SELECT date, total_tokens FROM ccusage_usage_daily FINAL \
         WHERE machine_name = 'laptop') AS d USING date WHERE t > total_tokens",
    );
    assert_eq!(over.trim(), "0", "{step}: Σ a day's sessions ≤ the day");
    assert_months_equal_their_days(env, step);
}

fn days_ago(days: i64, hour: u32) -> DateTime<Utc> {
    let day = (Utc::now() - Duration::days(days)).date_naive();
    day.and_hms_opt(hour, 0, 0).unwrap().and_utc()
}

#[test]
fn a_resumed_session_whose_original_is_deleted_is_counted_once() {
    let env = TestEnv::new("session_resumed");
    let claude = env.path("claude");
    let old = [
        (days_ago(10, 9), 1_000, 100),
        (days_ago(10, 10), 2_000, 200),
    ];
    let original = write_transcript(&claude, "orig", &old);
    write_transcript(&claude, "other", &[(days_ago(10, 11), 500, 50)]);
    // The resumed transcript replays the original's lines (same ids and times), then goes on.
    let resumed = transcript_project(&claude).join("resumed.jsonl");
    let mut lines: Vec<_> = old
        .iter()
        .enumerate()
        .map(|(i, e)| ("orig", i, *e))
        .collect();
    lines.push(("resumed", 0, (days_ago(5, 9), 3_000, 300)));
    lines.push(("resumed", 1, (days_ago(5, 12), 4_000, 400)));
    write_transcript_lines(&resumed, "resumed", &lines, false);

    let before = printed(&claude);
    assert_eq!(before["resumed"].0, 7_700, "the precondition: {before:?}");
    env.importer("laptop").logs(&claude).import_ok();
    assert_as_printed(&env, "first import", &before);

    // The cleanup deletes the original: ccusage now counts its lines in the resumed session.
    std::fs::remove_file(original).unwrap();
    let after = printed(&claude);
    assert_eq!(
        after["resumed"].0,
        7_700 + 3_300,
        "the precondition: {after:?}"
    );
    env.importer("laptop").logs(&claude).import_ok();
    assert_as_printed(&env, "after the cleanup", &before);
}

#[test]
fn a_session_that_loses_a_sub_agent_file_while_it_grows_keeps_its_usage() {
    let env = TestEnv::new("session_subagent");
    let claude = env.path("claude");
    let old = (days_ago(6, 10), 1_000, 100);
    write_transcript(&claude, "grow", &[old]);
    let agent = transcript_project(&claude).join("grow/subagents/agent-a1.jsonl");
    write_transcript_lines(
        &agent,
        "grow",
        &[(
            "a1",
            0,
            (days_ago(6, 10) + Duration::minutes(5), 20_000, 2_000),
        )],
        true,
    );
    env.importer("laptop").logs(&claude).import_ok();
    assert_as_printed(&env, "first import", &printed(&claude));

    // The cleanup deletes the old sub-agent file while the session goes on today: ccusage's
    // figure for the session is smaller than stored, yet it holds new usage.
    std::fs::remove_file(&agent).unwrap();
    let now = Utc::now() - Duration::minutes(1);
    write_transcript(&claude, "grow", &[old, (now, 3_000, 300)]);
    let after = printed(&claude);
    assert!(after["grow"].0 < 23_100, "the precondition: {after:?}");
    env.importer("laptop").logs(&claude).import_ok();

    let shown = shown(&env);
    assert_eq!(shown["grow"].0, 1_100 + 22_000 + 3_300, "{shown:?}");
    let today = now.format("%Y-%m-%d %H:%M:%S").to_string();
    assert_eq!(shown["grow"].2, today, "last activity today");
    let mut expected = after;
    expected.get_mut("grow").unwrap().0 = shown["grow"].0;
    expected.get_mut("grow").unwrap().1 = shown["grow"].1;
    assert_as_printed(&env, "after the cleanup", &expected);
}

/// An hourly run starts its reports while ccusage is asked its version (with the command set
/// of the machine's last import), and today's one-day session report with the other reports,
/// not after them (issue 29: each added a whole ccusage run to every import). The real
/// ccusage runs behind a wrapper that logs when each command starts and ends; the stored
/// sessions are what ccusage prints.
#[test]
fn an_hourly_run_asks_the_version_the_reports_and_today_at_once() {
    let env = TestEnv::new("session_early_day");
    let claude = env.path("claude");
    write_transcript(&claude, "old", &[(days_ago(3, 10), 1_000, 100)]);
    let log = env.path("ccusage-calls.log");
    let wrapper = env.path("ccusage-wrapper");
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\necho \"start $*\" >> '{log}'\nccusage \"$@\"\nrc=$?\necho \"end $*\" >> '{log}'\nexit $rc\n",
            log = log.display()
        ),
    )
    .unwrap();
    make_executable(&wrapper);
    env.importer("laptop")
        .logs(&claude)
        .ccusage(&wrapper)
        .import_ok();
    assert_as_printed(&env, "first import", &printed(&claude));

    let now = Utc::now() - Duration::minutes(1);
    write_transcript(&claude, "new", &[(now, 2_000, 200)]);
    std::fs::write(&log, "").unwrap();
    env.importer("laptop")
        .logs(&claude)
        .ccusage(&wrapper)
        .import_ok();
    assert_as_printed(&env, "the hourly run", &printed(&claude));

    let calls = std::fs::read_to_string(&log).unwrap();
    let lines: Vec<&str> = calls.lines().collect();
    let today = now.format("--since %Y%m%d").to_string();
    let day_started = lines
        .iter()
        .position(|l| l.starts_with("start ") && l.contains(&today))
        .unwrap_or_else(|| panic!("no one-day report of today: {calls}"));
    let last_report_ended = lines
        .iter()
        .rposition(|l| l.starts_with("end ") && !l.contains("--since") && !l.contains("--version"))
        .unwrap_or_else(|| panic!("no report: {calls}"));
    assert!(
        day_started < last_report_ended,
        "today's one-day report waited for the reports: {calls}"
    );
    let version_ended = lines
        .iter()
        .position(|l| l.starts_with("end ") && l.contains("--version"))
        .unwrap_or_else(|| panic!("no version asked: {calls}"));
    let first_report_started = lines
        .iter()
        .position(|l| l.starts_with("start ") && !l.contains("--version"))
        .unwrap_or_else(|| panic!("no report: {calls}"));
    assert!(
        first_report_started < version_ended,
        "the reports waited for the version: {calls}"
    );
}

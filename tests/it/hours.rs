//! 5-hour blocks through Claude Code's cleanup (issue 25): the importer stores ccusage's hours
//! and derives the blocks from them, so a block whose first transcript is deleted, a chain of
//! blocks that shifts, or a back-dated line never stores a block twice. Each test writes its
//! transcripts entry by entry (the times decide the blocks), imports with the real ccusage,
//! changes the logs, imports again, and compares every block and hour the database shows with
//! what ccusage printed while all logs existed.
//!
//! Each test also shows what the readers before the hours read (`ccusage_usage_blocks`, which
//! the importer still fills with ccusage's own blocks): there the same sequence stores more
//! blocks and more tokens than ccusage printed, so every test fails on the old readers.

use std::path::{Path, PathBuf};

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::Value;

use crate::harness::*;
use crate::sequences::{assert_months_equal_their_days, ccusage18};

/// One assistant entry: its time (RFC 3339), input and output tokens.
pub(crate) type Entry<'a> = (&'a str, u64, u64);

/// Writes a main transcript as Claude Code does: `projects/<dir>/<session>.jsonl`, one
/// assistant line per entry, with unique message and request ids.
pub(crate) fn write_transcript(claude: &Path, session: &str, entries: &[Entry]) -> PathBuf {
    let dir = claude.join("projects").join("-home-alice-proj");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{session}.jsonl"));
    let mut text = String::new();
    for (i, (time, input, output)) in entries.iter().enumerate() {
        let line = serde_json::json!({
            "parentUuid": null,
            "isSidechain": false,
            "userType": "external",
            "cwd": "/home/alice/proj",
            "sessionId": session,
            "version": "2.0.14",
            "message": {
                "id": format!("msg_{session}_{i}"),
                "type": "message",
                "role": "assistant",
                "model": "claude-sonnet-4-20250514",
                "content": [{"type": "text", "text": "ok"}],
                "usage": {
                    "input_tokens": input,
                    "cache_creation_input_tokens": 0,
                    "cache_read_input_tokens": 0,
                    "output_tokens": output
                }
            },
            "requestId": format!("req_{session}_{i}"),
            "type": "assistant",
            "uuid": format!("{session}-{i}"),
            "timestamp": time,
        });
        text.push_str(&line.to_string());
        text.push('\n');
    }
    std::fs::write(&path, text).unwrap();
    path
}

/// A block or an hour: (start, tokens, cost, entries, last entry), times as ClickHouse prints
/// them (whole seconds, UTC).
type Span = (String, u64, f64, u64, String);

fn clickhouse_time(iso: &str) -> String {
    let time: DateTime<Utc> = iso.parse().unwrap();
    time.format("%Y-%m-%d %H:%M:%S").to_string()
}

/// ccusage's blocks (5 hours, or one with `--session-length 1`), gaps left out.
fn printed(claude: &Path, hours: bool) -> Vec<Span> {
    let mut args = vec!["claude", "blocks"];
    if hours {
        args.extend(["--session-length", "1"]);
    }
    spans_of(&ccusage(claude, &args))
}

/// ccusage 18.0.11's blocks: the top-level command, which takes `--session-length` too.
fn printed18(claude: &Path, hours: bool) -> Vec<Span> {
    let mut command = std::process::Command::new(ccusage18());
    command.args(["blocks", "--json", "--offline", "--timezone", "UTC"]);
    if hours {
        command.args(["--session-length", "1"]);
    }
    let out = command
        .env("CLAUDE_CONFIG_DIR", claude)
        .env("TZ", "UTC")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    spans_of(&serde_json::from_slice(&out.stdout).unwrap())
}

fn spans_of(report: &Value) -> Vec<Span> {
    report["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["isGap"] != true)
        .map(|b| {
            (
                clickhouse_time(b["startTime"].as_str().unwrap()),
                b["totalTokens"].as_u64().unwrap(),
                b["costUSD"].as_f64().unwrap(),
                b["entries"].as_u64().unwrap(),
                clickhouse_time(b["actualEndTime"].as_str().unwrap()),
            )
        })
        .collect()
}

fn spans(env: &TestEnv, sql: &str) -> Vec<Span> {
    env.sql(sql)
        .lines()
        .map(|line| {
            let f: Vec<&str> = line.split('\t').collect();
            (
                f[0].to_owned(),
                f[1].parse().unwrap(),
                f[2].parse().unwrap(),
                f[3].parse().unwrap(),
                f[4].to_owned(),
            )
        })
        .collect()
}

/// The blocks every block query reads.
fn shown_blocks(env: &TestEnv) -> Vec<Span> {
    spans(
        env,
        "SELECT toString(start_time), total_tokens, toFloat64(cost_usd), entries, \
         toString(actual_end_time) FROM ccusage_v_blocks WHERE machine_name = 'laptop' \
         ORDER BY start_time FORMAT TSV",
    )
}

fn stored_hours(env: &TestEnv) -> Vec<Span> {
    spans(
        env,
        "SELECT toString(hour), total_tokens, toFloat64(total_cost), entries, \
         toString(last_entry) FROM ccusage_usage_hours FINAL WHERE machine_name = 'laptop' \
         ORDER BY hour FORMAT TSV",
    )
}

/// What the readers before the hours read: ccusage's blocks as each import stored them.
fn old_readers_blocks(env: &TestEnv) -> (usize, u64) {
    let line = env.sql(
        "SELECT count(), sum(total_tokens) FROM ccusage_usage_blocks FINAL \
         WHERE machine_name = 'laptop' FORMAT TSV",
    );
    let f: Vec<&str> = line.trim().split('\t').collect();
    (f[0].parse().unwrap(), f[1].parse().unwrap())
}

fn assert_same(step: &str, what: &str, shown: &[Span], printed: &[Span]) {
    assert_eq!(
        shown.len(),
        printed.len(),
        "{step}: {what}: shown {shown:?}, ccusage printed {printed:?}"
    );
    for (s, p) in shown.iter().zip(printed) {
        assert_eq!(
            (&s.0, s.1, s.3, &s.4),
            (&p.0, p.1, p.3, &p.4),
            "{step}: {what}"
        );
        assert!((s.2 - p.2).abs() < 1e-6, "{step}: {what} cost {s:?} {p:?}");
    }
}

/// Every block and hour as ccusage printed them while all logs existed, and the invariants:
/// the blocks add up to the hours, every month to its days.
fn assert_as_printed(env: &TestEnv, step: &str, blocks: &[Span], hours: &[Span]) {
    assert_same(step, "blocks", &shown_blocks(env), blocks);
    assert_same(step, "hours", &stored_hours(env), hours);
    let sum = |spans: &[Span]| spans.iter().map(|s| s.1).sum::<u64>();
    assert_eq!(
        sum(&shown_blocks(env)),
        sum(&stored_hours(env)),
        "{step}: Σ blocks = Σ hours"
    );
    let days = env
        .sql("SELECT sum(total_tokens) FROM ccusage_v_daily_summary WHERE machine_name = 'laptop'");
    assert_eq!(
        days.trim().parse::<u64>().unwrap(),
        sum(hours),
        "{step}: Σ hours = Σ days"
    );
    assert_months_equal_their_days(env, step);
}

#[test]
fn a_cleanup_that_cuts_a_block_in_the_middle_stores_it_once() {
    let env = TestEnv::new("block_cut");
    let claude = env.path("claude");
    let first = write_transcript(
        &claude,
        "a",
        &[
            ("2026-11-20T10:10:00.000Z", 100, 10),
            ("2026-11-20T11:20:00.000Z", 200, 20),
        ],
    );
    write_transcript(
        &claude,
        "b",
        &[
            ("2026-11-20T12:30:00.000Z", 300, 30),
            ("2026-11-20T14:50:00.000Z", 400, 40),
        ],
    );
    write_transcript(
        &claude,
        "c",
        &[
            ("2026-11-20T15:40:00.000Z", 500, 50),
            ("2026-11-20T16:20:00.000Z", 600, 60),
        ],
    );
    let (blocks, hours) = (printed(&claude, false), printed(&claude, true));
    assert_eq!(blocks.len(), 2, "the precondition: {blocks:?}");
    env.importer("laptop").logs(&claude).import_ok();
    assert_as_printed(&env, "first import", &blocks, &hours);

    // The cleanup deletes the transcript that holds the first block's first entries: ccusage
    // now starts that block at 12:00, and it takes the next block's entries with it.
    std::fs::remove_file(first).unwrap();
    let after = printed(&claude, false);
    assert_eq!(after.len(), 1, "the precondition: {after:?}");
    assert_eq!(after[0].0, "2026-11-20 12:00:00");
    env.importer("laptop").logs(&claude).import_ok();
    assert_as_printed(&env, "after the cleanup", &blocks, &hours);

    // What the readers before the hours read: three blocks where ccusage printed two.
    let total: u64 = blocks.iter().map(|b| b.1).sum();
    let (count, tokens) = old_readers_blocks(&env);
    assert_eq!(count, 3);
    assert!(tokens > total, "{tokens} vs {total}");
}

#[test]
fn a_chain_of_blocks_whose_first_file_goes_keeps_its_starts() {
    let env = TestEnv::new("block_chain");
    let claude = env.path("claude");
    let first = write_transcript(&claude, "a", &[("2026-11-21T08:10:00.000Z", 100, 10)]);
    write_transcript(
        &claude,
        "b",
        &[
            ("2026-11-21T12:20:00.000Z", 200, 20),
            ("2026-11-21T13:30:00.000Z", 300, 30),
        ],
    );
    write_transcript(
        &claude,
        "c",
        &[
            ("2026-11-21T17:40:00.000Z", 400, 40),
            ("2026-11-21T18:30:00.000Z", 500, 50),
        ],
    );
    let (blocks, hours) = (printed(&claude, false), printed(&claude, true));
    let starts: Vec<&str> = blocks.iter().map(|b| &b.0[11..13]).collect();
    assert_eq!(starts, ["08", "13", "18"], "the precondition");
    env.importer("laptop").logs(&claude).import_ok();

    std::fs::remove_file(first).unwrap();
    let after: Vec<String> = printed(&claude, false).into_iter().map(|b| b.0).collect();
    assert_eq!(
        after,
        ["2026-11-21 12:00:00", "2026-11-21 17:00:00"],
        "the precondition"
    );
    env.importer("laptop").logs(&claude).import_ok();
    assert_as_printed(&env, "after the cleanup", &blocks, &hours);
    // And once more with nothing changed: nothing moves.
    env.importer("laptop").logs(&claude).import_ok();
    assert_as_printed(&env, "again", &blocks, &hours);

    let (count, _) = old_readers_blocks(&env);
    assert_eq!(
        count, 5,
        "the readers before the hours count every block twice but one"
    );
}

#[test]
fn a_back_dated_line_before_a_block_moves_the_chain() {
    let env = TestEnv::new("block_backdated");
    let claude = env.path("claude");
    write_transcript(
        &claude,
        "b",
        &[
            ("2026-11-22T10:30:00.000Z", 100, 10),
            ("2026-11-22T12:10:00.000Z", 200, 20),
            ("2026-11-22T15:20:00.000Z", 300, 30),
        ],
    );
    let before = printed(&claude, false);
    let starts: Vec<&str> = before.iter().map(|b| &b.0[11..13]).collect();
    assert_eq!(starts, ["10", "15"], "the precondition");
    env.importer("laptop").logs(&claude).import_ok();
    assert_as_printed(&env, "first import", &before, &printed(&claude, true));

    // A transcript arrives with a line from before the first block (a session synced late):
    // ccusage's blocks now start at 07:00 and 12:00.
    write_transcript(&claude, "a", &[("2026-11-22T07:45:00.000Z", 400, 40)]);
    let (blocks, hours) = (printed(&claude, false), printed(&claude, true));
    let starts: Vec<&str> = blocks.iter().map(|b| &b.0[11..13]).collect();
    assert_eq!(starts, ["07", "12"], "the precondition");
    env.importer("laptop").logs(&claude).import_ok();
    assert_as_printed(&env, "after the back-dated line", &blocks, &hours);
    // The blocks that no longer start anything are kept, marked superseded.
    let superseded = env.sql(
        "SELECT toString(start_time) FROM ccusage_usage_derived_blocks FINAL \
         WHERE superseded = 1 ORDER BY start_time FORMAT TSV",
    );
    assert_eq!(superseded, "2026-11-22 10:00:00\n2026-11-22 15:00:00\n");

    let (count, _) = old_readers_blocks(&env);
    assert_eq!(
        count, 4,
        "the readers before the hours show four blocks of ccusage's two"
    );
}

fn current_block(env: &TestEnv) -> Value {
    let run = env
        .importer("laptop")
        .args(["query", "current_block", "--format", "json"])
        .run();
    assert_eq!(run.code, 0, "{}", run.stderr);
    let rows = run.json();
    rows.as_array()
        .unwrap()
        .first()
        .cloned()
        .unwrap_or(Value::Null)
}

#[test]
fn a_one_entry_active_block_shows_no_burn_rate_until_ccusage_prints_one() {
    let env = TestEnv::new("block_one_entry");
    let claude = env.path("claude");
    let now = Utc::now();
    let at = |minutes_ago: i64| {
        (now - chrono::TimeDelta::minutes(minutes_ago)).to_rfc3339_opts(SecondsFormat::Millis, true)
    };
    let (first, second) = (at(12), at(4));
    write_transcript(&claude, "a", &[(first.as_str(), 100, 10)]);
    let live = ccusage(&claude, &["claude", "blocks"]);
    let active = live["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["isActive"] == true)
        .cloned()
        .expect("the precondition: an active block");
    assert!(active["burnRate"].is_null(), "the precondition: {active}");
    assert!(active["projection"].is_null(), "the precondition: {active}");

    let summary = env.importer("laptop").logs(&claude).import_ok();
    let block = &summary["active_block"];
    assert_eq!(block["total_tokens"], 110, "{block}");
    for key in [
        "burn_rate_cost_per_hour",
        "burn_rate_tokens_per_minute",
        "projected_total_tokens",
        "projected_total_cost_usd",
        "minutes_left",
    ] {
        assert!(block[key].is_null(), "{key}: {block}");
    }
    let text = env.importer("laptop").logs(&claude).run();
    assert!(
        text.stdout.contains("  burn rate       -\n"),
        "{}",
        text.stdout
    );
    let current = current_block(&env);
    assert_eq!(current["tokens"].to_string().trim_matches('"'), "110");
    for key in [
        "usd_per_hour",
        "tokens_per_minute",
        "projected_tokens",
        "projected_cost",
        "remaining_minutes",
    ] {
        assert!(current[key].is_null(), "{key}: {current}");
    }

    // A second entry: ccusage has a rate now, and so has every reader.
    write_transcript(
        &claude,
        "a",
        &[(first.as_str(), 100, 10), (second.as_str(), 200, 20)],
    );
    // The projection moves with the clock (the rate falls as the block ages), so the stored
    // one lies between ccusage's answers just before and just after the import.
    let projected = || {
        let live = ccusage(&claude, &["claude", "blocks"]);
        let active = live["blocks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|b| b["isActive"] == true)
            .cloned()
            .unwrap();
        active["projection"]["totalTokens"].as_u64().unwrap()
    };
    let before = projected();
    env.importer("laptop").logs(&claude).import_ok();
    let after = projected();
    let current = current_block(&env);
    let stored: u64 = current["projected_tokens"]
        .to_string()
        .trim_matches('"')
        .parse()
        .unwrap_or_else(|_| panic!("no projection stored: {current}"));
    assert!(
        before.min(after) <= stored && stored <= before.max(after),
        "stored projection {stored} is not between ccusage's {before} and {after}: {current}"
    );
    let left: u64 = current["remaining_minutes"]
        .to_string()
        .trim_matches('"')
        .parse()
        .unwrap();
    let end: DateTime<Utc> = active["endTime"].as_str().unwrap().parse().unwrap();
    let expected = (end - Utc::now()).num_minutes() as u64;
    assert!(left.abs_diff(expected) <= 1, "{left} vs {expected}");
    let (blocks, hours) = (printed(&claude, false), printed(&claude, true));
    assert_as_printed(&env, "active", &blocks, &hours);
}

#[test]
fn ccusage_18_gives_the_hours_too() {
    let env = TestEnv::new("block_cut18");
    let claude = env.path("claude");
    let first = write_transcript(
        &claude,
        "a",
        &[
            ("2026-11-20T10:10:00.000Z", 100, 10),
            ("2026-11-20T11:20:00.000Z", 200, 20),
        ],
    );
    write_transcript(
        &claude,
        "b",
        &[
            ("2026-11-20T12:30:00.000Z", 300, 30),
            ("2026-11-20T15:50:00.000Z", 400, 40),
        ],
    );
    let (blocks, hours) = (printed18(&claude, false), printed18(&claude, true));
    assert_eq!(blocks.len(), 2, "the precondition: {blocks:?}");
    assert_eq!(hours.len(), 4, "the precondition: {hours:?}");
    let import = || {
        env.importer("laptop")
            .logs(&claude)
            .ccusage(ccusage18())
            .import_ok()
    };
    let summary = import();
    assert_eq!(summary["reports"]["hours"]["status"], "ok", "{summary}");
    std::fs::remove_file(first).unwrap();
    import();
    assert_as_printed(&env, "ccusage 18, after the cleanup", &blocks, &hours);
}

/// Issue 25, item 5: after a downgrade from ccusage 20 to 18 the stored days stay 20's (more
/// usage wins) while the run's totals are 18's; the summary says both, and why.
#[test]
fn a_downgrade_says_why_the_stored_figures_are_larger() {
    let env = TestEnv::new("downgrade_summary");
    let claude = env.generate_logs(
        "claude",
        &[
            "--projects",
            "2",
            "--days",
            "4",
            "--lines",
            "300",
            "--seed",
            "25",
        ],
    );
    let new = env.importer("laptop").logs(&claude).import_ok();
    assert_eq!(new["stored_days"]["differs"], false, "{new}");
    let stored = new["stored_days"]["total_tokens"].as_u64().unwrap();
    assert_eq!(stored, new["totals"]["total_tokens"].as_u64().unwrap());

    let old = env
        .importer("laptop")
        .logs(&claude)
        .ccusage(ccusage18())
        .import_ok();
    let printed = old["totals"]["total_tokens"].as_u64().unwrap();
    assert!(
        printed < stored,
        "the precondition: 18 counts less ({printed} vs {stored})"
    );
    assert_eq!(old["stored_days"]["differs"], true, "{old}");
    assert_eq!(old["stored_days"]["total_tokens"], stored, "{old}");
    let text = env
        .importer("laptop")
        .logs(&claude)
        .ccusage(ccusage18())
        .run();
    assert_eq!(text.code, 0, "{}", text.stderr);
    assert!(
        text.stdout
            .contains("tokens for these days: each day keeps its largest figure"),
        "{}",
        text.stdout
    );
}

//! A hostile but realistic tester's sequences (review of issue 13's fixes). Each test states the
//! sequence, what the promise "never lose, never double count" expects, and checks it.

use std::path::{Path, PathBuf};

use crate::harness::*;
use crate::sequences::{add_logs, ccusage18};

/// One agent's usage on a day: (agent, input, output, cost).
pub type AgentUse<'a> = (&'a str, u64, u64, f64);

/// The all-agent report (`daily --by-agent`) for one day, split by the agents given.
pub fn agents_day(date: &str, agents: &[AgentUse]) -> String {
    let usage = |(agent, input, output, cost): &AgentUse| {
        format!(
            r#"{{"agent":"{agent}","inputTokens":{input},"outputTokens":{output},"cacheCreationTokens":0,"cacheReadTokens":0,"totalCost":{cost},"modelsUsed":["m-{agent}"],"modelBreakdowns":[{{"modelName":"m-{agent}","inputTokens":{input},"outputTokens":{output},"cacheCreationTokens":0,"cacheReadTokens":0,"cost":{cost}}}]}}"#
        )
    };
    let names: Vec<String> = agents.iter().map(|a| format!("\"{}\"", a.0)).collect();
    let (input, output, cost) = agents
        .iter()
        .fold((0, 0, 0.0), |(i, o, c), a| (i + a.1, o + a.2, c + a.3));
    let rows: Vec<String> = agents.iter().map(usage).collect();
    format!(
        r#"{{"daily":[{{"period":"{date}","agent":"all","agents":[{}],"metadata":{{"agents":[{}]}},"inputTokens":{input},"outputTokens":{output},"cacheCreationTokens":0,"cacheReadTokens":0,"totalCost":{cost},"modelsUsed":[],"modelBreakdowns":[]}}]}}"#,
        rows.join(","),
        names.join(",")
    )
}

/// Per agent, the tokens `ccusage_v_agent_daily` shows for `date` on machine laptop.
fn agent_view(env: &TestEnv, date: &str) -> Vec<(String, u64)> {
    env.sql(&format!(
        "SELECT agent, total_tokens FROM ccusage_v_agent_daily WHERE machine_name = 'laptop' \
         AND date = '{date}' ORDER BY agent FORMAT TSV"
    ))
    .lines()
    .map(|l| {
        let (a, t) = l.split_once('\t').unwrap();
        (a.to_owned(), t.parse().unwrap())
    })
    .collect()
}

fn agents_stand_in(env: &TestEnv) -> (PathBuf, PathBuf) {
    fixture_stand_in(env, "20.0.24", "20.0.24")
}

fn import_agents(env: &TestEnv, dir: &Path, bin: &Path, report: &str) {
    std::fs::write(dir.join("agents.json"), report).unwrap();
    env.importer("laptop").ccusage(bin).import_ok();
}

/// One day reported twice by the all-agent report, the agents changing between the runs.
struct AgentDay<'a> {
    /// The database's name, and the case's in every failure message.
    name: &'a str,
    first: &'a [AgentUse<'a>],
    second: &'a [AgentUse<'a>],
    /// Per agent, the tokens the day must show after the second import.
    want: &'a [(&'a str, u64)],
    /// What went wrong when it does not.
    why: &'a str,
}

/// The day every `AgentDay` case reports.
const AGENT_DAY: &str = "2026-10-20";

/// Claude's day first, then Codex's alone (Claude's logs deleted): the first case below.
const CLAUDE_THEN_CODEX: AgentDay = AgentDay {
    name: "hostile_agent_gain",
    first: &[("claude", 400, 600, 1.0)],
    second: &[("codex", 100, 200, 0.3)],
    want: &[("claude", 1000), ("codex", 300)],
    why: "codex's usage is hidden (the stored claude row keeps the larger day_version)",
};

impl AgentDay<'_> {
    /// Imports the first report, checks the day shows it, imports the second, checks `want`;
    /// returns the test's database for more checks.
    fn check(&self) -> TestEnv {
        let env = TestEnv::new(self.name);
        let (dir, bin) = agents_stand_in(&env);
        let d = AGENT_DAY;
        import_agents(&env, &dir, &bin, &agents_day(d, self.first));
        let first: Vec<(String, u64)> = self
            .first
            .iter()
            .map(|&(agent, input, output, _)| (agent.to_owned(), input + output))
            .collect();
        assert_eq!(
            agent_view(&env, d),
            first,
            "{}: the first import",
            self.name
        );
        import_agents(&env, &dir, &bin, &agents_day(d, self.second));
        let want: Vec<(String, u64)> = self
            .want
            .iter()
            .map(|&(agent, tokens)| (agent.to_owned(), tokens))
            .collect();
        assert_eq!(agent_view(&env, d), want, "{}: {}", self.name, self.why);
        env
    }
}

/// Day D first holds only Claude's usage. Later Claude Code's cleanup deletes D's logs, and a
/// ccusage upgrade that newly reads another agent's logs (Codex) reports D with Codex alone.
/// Neither part may be lost: D must show claude 1000 and codex 300.
#[test]
fn an_agent_day_that_loses_claude_and_gains_codex_keeps_both() {
    CLAUDE_THEN_CODEX.check();
}

/// The same with the new agent larger than what was stored: now Claude's day is lost.
#[test]
fn an_agent_day_that_loses_claude_and_gains_more_codex_keeps_both() {
    AgentDay {
        name: "hostile_agent_gain_more",
        first: &[("claude", 400, 600, 1.0)],
        second: &[("codex", 1000, 1000, 3.0)],
        want: &[("claude", 1000), ("codex", 2000)],
        why: "claude's stored day is hidden by the newer, larger day_version",
    }
    .check();
}

/// A split day where one agent shrinks (a Claude project directory deleted by hand, or the
/// cleanup at the edge) while another grows, the day total growing: the shrunken Claude figure
/// replaces the complete one, although the daily table keeps the complete one.
#[test]
fn a_split_agent_day_where_claude_shrinks_and_codex_grows_keeps_claude() {
    // Claude shrinks 600 -> 300, codex grows 400 -> 800: the day 1000 -> 1100.
    AgentDay {
        name: "hostile_agent_shrink_grow",
        first: &[("claude", 300, 300, 1.0), ("codex", 200, 200, 0.5)],
        second: &[("claude", 150, 150, 0.5), ("codex", 400, 400, 1.0)],
        want: &[("claude", 600), ("codex", 800)],
        why: "a shrunken agent replaced its complete figure",
    }
    .check();
}

/// The same with the day total shrinking: Codex's growth is dropped.
#[test]
fn a_split_agent_day_where_claude_shrinks_more_than_codex_grows_keeps_codex_growth() {
    // Claude 600 -> 100, codex 400 -> 500: the day 1000 -> 600.
    AgentDay {
        name: "hostile_agent_shrink_grow_less",
        first: &[("claude", 300, 300, 1.0), ("codex", 200, 200, 0.5)],
        second: &[("claude", 50, 50, 0.1), ("codex", 250, 250, 0.6)],
        want: &[("claude", 600), ("codex", 500)],
        why: "codex's growth is dropped",
    }
    .check();
}

/// (month, tokens) of the monthly table, and the same summed from the stored days.
fn months_vs_days(env: &TestEnv) -> (String, String) {
    (
        env.sql(
            "SELECT month, total_tokens FROM ccusage_usage_monthly FINAL \
             WHERE machine_name = 'laptop' ORDER BY month FORMAT TSV",
        ),
        env.sql(
            "SELECT substring(toString(date), 1, 7) AS m, sum(total_tokens) \
             FROM ccusage_v_daily_summary WHERE machine_name = 'laptop' GROUP BY m ORDER BY m \
             FORMAT TSV",
        ),
    )
}

/// Held: the daily report fails in one run (after it succeeded before), its days are deleted
/// meanwhile, and it succeeds again with a new day: the month stays the sum of every stored day.
#[test]
fn a_daily_report_failing_between_good_runs_keeps_the_month_whole() {
    let env = TestEnv::new("hostile_daily_fails");
    let (dir, bin) = agents_stand_in(&env);
    env.importer("laptop").ccusage(&bin).import_ok();
    let (months, days) = months_vs_days(&env);
    assert_eq!(months, days);
    let daily_file = dir.join("daily.json");
    let mut daily: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&daily_file).unwrap()).unwrap();
    script_report(&dir, "daily", "echo 'boom' >&2; exit 1");
    let failed = env.importer("laptop").ccusage(&bin).arg("--json").run();
    assert_eq!(failed.code, 4, "{}{}", failed.stdout, failed.stderr);
    assert_eq!(
        months_vs_days(&env).0,
        months,
        "a failed daily report moved the months"
    );
    // The first three days' logs are gone; a day later in the month is new.
    let rows = daily["daily"].as_array_mut().unwrap();
    let mut new_day = rows.last().unwrap().clone();
    new_day["date"] = "2026-11-29".into();
    rows.drain(0..3);
    rows.push(new_day);
    std::fs::write(&daily_file, daily.to_string()).unwrap();
    std::fs::remove_file(dir.join("daily.sh")).unwrap();
    env.importer("laptop").ccusage(&bin).import_ok();
    let (months, days) = months_vs_days(&env);
    assert_eq!(months, days);
    assert_eq!(
        env.sql("SELECT count() FROM ccusage_usage_daily FINAL")
            .trim(),
        "9"
    );
}

/// Held: a dry run first changes nothing a later real import stores.
#[test]
fn a_dry_run_before_an_import_changes_nothing() {
    let env = TestEnv::new("hostile_dry_first");
    let (_, bin) = agents_stand_in(&env);
    let dry = env
        .importer("laptop")
        .ccusage(&bin)
        .arg("--dry-run")
        .import_ok();
    env.importer("laptop").ccusage(&bin).import_ok();
    let once = snapshot(&env);
    let other = TestEnv::new("hostile_dry_first_ref");
    other.importer("laptop").ccusage(&bin).import_ok();
    // Same rows, apart from the import times and versions.
    let strip = |s: String| s.lines().count();
    assert_eq!(strip(once), strip(snapshot(&other)));
    assert_eq!(dry["tables"]["ccusage_usage_monthly"], 1, "{dry}");
}

/// Held: a day first split, then unsplit (`all`) with the same total, then split again with
/// the same figures (every row's content hash equals a stored one): counted once each time.
#[test]
fn split_unsplit_split_with_equal_totals_counts_once() {
    let env = TestEnv::new("hostile_split_unsplit");
    let (dir, bin) = agents_stand_in(&env);
    let d = "2026-10-21";
    let split = agents_day(d, &[("claude", 300, 300, 1.0), ("codex", 200, 200, 0.5)]);
    let unsplit = format!(
        r#"{{"daily":[{{"period":"{d}","agent":"all","metadata":{{"agents":["claude","codex"]}},"inputTokens":500,"outputTokens":500,"cacheCreationTokens":0,"cacheReadTokens":0,"totalCost":1.5,"modelsUsed":[],"modelBreakdowns":[]}}]}}"#
    );
    for (step, report) in [
        ("split", &split),
        ("unsplit", &unsplit),
        ("split again", &split),
    ] {
        import_agents(&env, &dir, &bin, report);
        let total: u64 = agent_view(&env, d).iter().map(|a| a.1).sum();
        assert_eq!(total, 1000, "{step}: {:?}", agent_view(&env, d));
    }
}

/// Held: 18, then 20 with new usage (new sessions in the 20 scheme, some old logs deleted),
/// then 18 again with more new usage: at every step the sessions sum to at most the days, and
/// back on 18 exactly to them (whole projects are summed from every stored project day,
/// including those the 20 phase stored).
#[test]
fn ccusage_18_then_20_then_18_with_new_usage_between_never_double_counts_sessions() {
    let env = TestEnv::new("hostile_18_20_18");
    let gen = |name: &str, seed: &str, now: &str| {
        env.generate_logs(
            name,
            &[
                "--projects",
                "2",
                "--days",
                "4",
                "--lines",
                "300",
                "--seed",
                seed,
                "--touch-old",
                "--now",
                now,
            ],
        )
    };
    let claude = gen("claude", "41", "2026-11-04T12:00:00Z");
    let one = |sql: &str| env.sql(sql).trim().parse::<u64>().unwrap();
    let sums = || {
        (
            one("SELECT sum(total_tokens) FROM ccusage_v_session_summary WHERE machine_name = 'laptop'"),
            one("SELECT sum(total_tokens) FROM ccusage_v_daily_summary WHERE machine_name = 'laptop'"),
        )
    };
    env.importer("laptop")
        .logs(&claude)
        .ccusage(ccusage18())
        .import_ok();
    let (s, d) = sums();
    assert_eq!(s, d, "18 first");

    let cutoff = chrono::DateTime::parse_from_rfc3339("2026-11-02T00:00:00Z").unwrap();
    crate::import::delete_logs_older_than(&claude, std::time::SystemTime::from(cutoff));
    add_logs(&gen("mid", "42", "2026-11-10T12:00:00Z"), &claude);
    env.importer("laptop").logs(&claude).import_ok();
    let (s, d) = sums();
    assert!(s <= d, "20 phase: sessions {s} > days {d}");

    add_logs(&gen("late", "43", "2026-11-16T12:00:00Z"), &claude);
    env.importer("laptop")
        .logs(&claude)
        .ccusage(ccusage18())
        .import_ok();
    let (s, d) = sums();
    assert_eq!(s, d, "back on 18: sessions {s} vs days {d}");
    // And the monthly table is the days'.
    let (months, days) = months_vs_days(&env);
    assert_eq!(months, days);
}

/// The same sequence as the first agent test seen from the model breakdowns: the hidden
/// agent's breakdowns stay visible in `ccusage_v_model_breakdowns`, so the agent table and its
/// own breakdowns disagree about the day.
#[test]
fn an_agent_day_agrees_with_its_model_breakdowns() {
    let env = AgentDay {
        name: "hostile_agent_children",
        ..CLAUDE_THEN_CODEX
    }
    .check();
    let d = AGENT_DAY;
    let rows: u64 = agent_view(&env, d).iter().map(|a| a.1).sum();
    let models = env.sql(&format!(
        "SELECT sum(total_tokens) FROM ccusage_v_model_breakdowns WHERE machine_name = 'laptop' \
         AND parent_kind = 'agent_daily' AND parent_key LIKE '{d} %'"
    ));
    assert_eq!(
        models.trim().parse::<u64>().unwrap(),
        rows,
        "breakdowns vs agent rows"
    );
}

/// A day stored unsplit (`all`, 1000 tokens) and later reported split with less usage (its
/// older logs deleted meanwhile): the day keeps the larger, unsplit figure.
#[test]
fn an_unsplit_day_larger_than_its_later_split_keeps_the_unsplit_figure() {
    let env = TestEnv::new("unsplit_larger");
    let (dir, bin) = agents_stand_in(&env);
    import_agents(&env, &dir, &bin, &crate::sequences::agents_report(false));
    let day = "2026-11-20";
    import_agents(
        &env,
        &dir,
        &bin,
        &agents_day(day, &[("claude", 100, 200, 0.5)]),
    );
    assert_eq!(agent_view(&env, day), [("all".to_owned(), 1000)]);
    // More usage split by agent than the unsplit figure: the split wins.
    let more = agents_day(day, &[("claude", 300, 400, 1.0), ("codex", 200, 300, 1.0)]);
    import_agents(&env, &dir, &bin, &more);
    assert_eq!(
        agent_view(&env, day),
        [("claude".to_owned(), 700), ("codex".to_owned(), 500)]
    );
}

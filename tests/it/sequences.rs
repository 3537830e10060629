//! Sequences of imports with something changed in between (issue 13): logs deleted while new
//! usage arrives, ccusage upgraded and downgraded, a day's agent split changing, two imports in
//! one minute. The promise under test: no usage is ever lost and none is counted twice.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::harness::*;
use crate::import::delete_logs_older_than;

/// Copies every file under `from`/projects into `to`/projects, as new sessions arriving.
pub fn add_logs(from: &Path, to: &Path) {
    let mut stack = vec![from.join("projects")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let target = to.join(path.strip_prefix(from).unwrap());
            if path.is_dir() {
                std::fs::create_dir_all(&target).unwrap();
                stack.push(path);
            } else {
                std::fs::copy(&path, &target).unwrap();
            }
        }
    }
}

/// (month, tokens, cost).
type Month = (String, u64, f64);

/// This machine's months from the monthly table, and the same months summed from its days.
fn months_and_their_days(env: &TestEnv) -> (Vec<Month>, Vec<Month>) {
    let parse = |tsv: String| -> Vec<Month> {
        tsv.lines()
            .map(|line| {
                let f: Vec<&str> = line.split('\t').collect();
                (
                    f[0].to_owned(),
                    f[1].parse().unwrap(),
                    f[2].parse().unwrap(),
                )
            })
            .collect()
    };
    let months = env.sql(
        "SELECT month, total_tokens, toFloat64(total_cost) FROM ccusage_usage_monthly FINAL \
         WHERE machine_name = 'laptop' ORDER BY month FORMAT TSV",
    );
    let days = env.sql(
        "SELECT substring(toString(date), 1, 7) AS month, sum(total_tokens), \
         toFloat64(sum(total_cost)) FROM ccusage_v_daily_summary WHERE machine_name = 'laptop' \
         GROUP BY month ORDER BY month FORMAT TSV",
    );
    (parse(months), parse(days))
}

pub fn assert_months_equal_their_days(env: &TestEnv, step: &str) {
    let (months, days) = months_and_their_days(env);
    assert!(!months.is_empty(), "{step}: no month stored");
    assert_eq!(months.len(), days.len(), "{step}: {months:?} vs {days:?}");
    for (month, day_sum) in months.iter().zip(&days) {
        assert_eq!(month.0, day_sum.0, "{step}");
        assert_eq!(month.1, day_sum.1, "{step}: tokens of {}", month.0);
        assert!(
            (month.2 - day_sum.2).abs() < 1e-6,
            "{step}: cost of {}: {} vs {}",
            month.0,
            month.2,
            day_sum.2
        );
    }
    // The model breakdowns of each month add up to the month, too.
    let mismatched = env.sql(
        "SELECT count() FROM (SELECT month, total_tokens FROM ccusage_usage_monthly FINAL) AS m \
         ANY LEFT JOIN \
         (SELECT parent_key, sum(total_tokens) AS model_tokens FROM ccusage_v_model_breakdowns \
          WHERE parent_kind = 'monthly' GROUP BY parent_key) AS b ON m.month = b.parent_key \
         WHERE m.total_tokens != b.model_tokens",
    );
    assert_eq!(mismatched.trim(), "0", "{step}: month breakdowns");
}

fn month_tokens(env: &TestEnv, month: &str) -> u64 {
    months_and_their_days(env)
        .0
        .into_iter()
        .find(|m| m.0 == month)
        .map_or(0, |m| m.1)
}

#[test]
fn a_month_that_loses_old_logs_while_it_grows_keeps_every_day() {
    let env = TestEnv::new("month_shrink_grow");
    let early = [
        "--projects",
        "2",
        "--days",
        "12",
        "--lines",
        "600",
        "--seed",
        "11",
        "--touch-old",
        "--now",
        "2026-11-12T12:00:00Z",
    ];
    let claude = env.generate_logs("claude", &early);
    env.importer("laptop").logs(&claude).import_ok();
    assert_months_equal_their_days(&env, "first import");
    let first = month_tokens(&env, "2026-11");
    assert!(first > 0);

    // Claude Code's cleanup takes the month's first days while later usage of the same month
    // arrives, more of it than was deleted: ccusage's own monthly figure is now larger than
    // what was stored, yet it lacks the deleted days.
    let cutoff = chrono::DateTime::parse_from_rfc3339("2026-11-06T00:00:00Z").unwrap();
    assert!(delete_logs_older_than(&claude, std::time::SystemTime::from(cutoff)) > 0);
    let later = env.generate_logs(
        "later",
        &[
            "--projects",
            "2",
            "--days",
            "6",
            "--lines",
            "1500",
            "--seed",
            "12",
            "--touch-old",
            "--now",
            "2026-11-28T12:00:00Z",
        ],
    );
    add_logs(&later, &claude);
    let snapshot = ccusage(&claude, &["claude", "monthly"]);
    let snapshot_tokens = snapshot["monthly"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["month"] == "2026-11")
        .map(|m| m["totalTokens"].as_u64().unwrap())
        .unwrap();
    assert!(snapshot_tokens > first, "the precondition: the month grew");

    env.importer("laptop").logs(&claude).import_ok();
    assert_months_equal_their_days(&env, "after deletion and growth");
    let kept = month_tokens(&env, "2026-11");
    assert!(
        kept > snapshot_tokens,
        "the deleted days are lost: stored {kept}, ccusage now says {snapshot_tokens}"
    );

    // And again, with nothing changed: nothing is written, nothing moves.
    let again = env.importer("laptop").logs(&claude).import_ok();
    assert_eq!(again["tables"]["ccusage_usage_monthly"], 0, "{again}");
    assert_eq!(month_tokens(&env, "2026-11"), kept);
}

/// Sums over this machine's sessions through the view every session query reads, and over its
/// days.
fn session_and_daily_tokens(env: &TestEnv) -> (u64, u64) {
    let one = |sql: &str| env.sql(sql).trim().parse::<u64>().unwrap();
    (
        one(
            "SELECT sum(total_tokens) FROM ccusage_v_session_summary WHERE machine_name = 'laptop'",
        ),
        one("SELECT sum(total_tokens) FROM ccusage_v_daily_summary WHERE machine_name = 'laptop'"),
    )
}

pub fn ccusage18() -> PathBuf {
    let bin = std::env::var_os("CCUSAGE18_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(ROOT).join("target/ccusage-18/node_modules/.bin/ccusage"));
    assert!(
        bin.exists(),
        "ccusage 18.0.11 is missing at {}: run scripts/ensure-deps.sh --test",
        bin.display()
    );
    bin
}

#[test]
fn upgrading_and_downgrading_ccusage_never_counts_a_session_twice() {
    let env = TestEnv::new("session_schemes");
    let claude = env.generate_logs(
        "claude",
        &[
            "--projects",
            "2",
            "--days",
            "6",
            "--lines",
            "500",
            "--seed",
            "21",
        ],
    );
    let old = ccusage18();
    let steps: [(&str, Option<&Path>); 3] = [
        ("ccusage 18", Some(&old)),
        ("upgraded to 20", None),
        ("back to 18", Some(&old)),
    ];
    for (step, bin) in steps {
        let mut importer = env.importer("laptop").logs(&claude);
        if let Some(bin) = bin {
            importer = importer.ccusage(bin);
        }
        importer.import_ok();
        let (sessions, days) = session_and_daily_tokens(&env);
        assert!(sessions > 0, "{step}: no sessions");
        assert!(
            sessions <= days,
            "{step}: sessions add up to {sessions} tokens, more than the days' {days}"
        );
        // The named queries read the same view.
        let stats = env
            .importer("laptop")
            .arg("query")
            .arg("fleet_sessions_by_machine")
            .arg("--format")
            .arg("json")
            .run();
        assert_eq!(stats.code, 0, "{}", stats.stderr);
        let rows: Value = serde_json::from_str(&stats.stdout).unwrap();
        assert_eq!(rows.as_array().unwrap().len(), 1, "{step}: {rows}");
    }
    // Both schemes' rows are still stored: the old scheme is history, not deleted.
    let schemes = env
        .sql("SELECT count(DISTINCT substring(ccusage_version, 1, 2)) FROM ccusage_usage_sessions");
    assert_eq!(schemes.trim(), "2");
}

/// The all-agent report for one day, unsplit (`all`) or split by agent.
pub fn agents_report(split: bool) -> String {
    let usage = |agent: &str, input: u64, output: u64, cost: f64| {
        format!(
            r#"{{"agent":"{agent}","inputTokens":{input},"outputTokens":{output},"cacheCreationTokens":0,"cacheReadTokens":0,"totalCost":{cost},"modelsUsed":[],"modelBreakdowns":[]}}"#
        )
    };
    let agents = if split {
        format!(
            r#""agents":[{},{}],"#,
            usage("claude", 100, 200, 0.5),
            usage("codex", 300, 400, 1.5)
        )
    } else {
        String::new()
    };
    format!(
        r#"{{"daily":[{{"period":"2026-11-20","agent":"all",{agents}"metadata":{{"agents":["claude","codex"]}},"inputTokens":400,"outputTokens":600,"cacheCreationTokens":0,"cacheReadTokens":0,"totalCost":2.0,"modelsUsed":[],"modelBreakdowns":[]}}]}}"#
    )
}

fn fleet_agent_tokens(env: &TestEnv) -> u64 {
    let run = env
        .importer("laptop")
        .arg("query")
        .arg("fleet_agents")
        .arg("--format")
        .arg("json")
        .run();
    assert_eq!(run.code, 0, "{}", run.stderr);
    let rows: Value = serde_json::from_str(&run.stdout).unwrap();
    rows.as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r["tokens"]
                .as_u64()
                .or_else(|| r["tokens"].as_str().and_then(|s| s.parse().ok()))
                .unwrap()
        })
        .sum()
}

#[test]
fn a_day_first_unsplit_then_split_by_agent_counts_once() {
    let env = TestEnv::new("agent_split");
    let (dir, bin) = fixture_stand_in(&env, "20.0.24", "20.0.24");
    for (step, split) in [
        ("unsplit", false),
        ("split", true),
        ("unsplit again", false),
    ] {
        std::fs::write(dir.join("agents.json"), agents_report(split)).unwrap();
        env.importer("laptop").ccusage(&bin).import_ok();
        assert_eq!(fleet_agent_tokens(&env), 1000, "{step}");
    }
    let agents = env.sql(
        "SELECT agent FROM ccusage_v_agent_daily WHERE machine_name = 'laptop' ORDER BY agent \
         FORMAT TSV",
    );
    assert_eq!(agents, "claude\ncodex\n", "the split is the newest shape");
}

#[test]
fn two_imports_in_one_minute_with_equal_usage_leave_only_the_newest_children() {
    let env = TestEnv::new("same_minute");
    let (dir, bin) = fixture_stand_in(&env, "20.0.24", "20.0.24");
    let blocks_file = dir.join("blocks.json");
    let mut blocks: Value = serde_json::from_slice(&std::fs::read(&blocks_file).unwrap()).unwrap();
    let first = blocks["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .position(|b| b["isGap"] != true)
        .unwrap();
    let id = blocks["blocks"][first]["id"].as_str().unwrap().to_owned();
    blocks["blocks"][first]["models"]
        .as_array_mut()
        .unwrap()
        .push("<synthetic>".into());
    std::fs::write(&blocks_file, blocks.to_string()).unwrap();
    env.importer("laptop").ccusage(&bin).import_ok();

    // Same tokens, one model fewer: a newer ccusage that no longer lists `<synthetic>`.
    blocks["blocks"][first]["models"]
        .as_array_mut()
        .unwrap()
        .pop();
    std::fs::write(&blocks_file, blocks.to_string()).unwrap();
    env.importer("laptop").ccusage(&bin).import_ok();
    let models = env.sql(&format!(
        "SELECT model_name FROM ccusage_v_models_used WHERE machine_name = 'laptop' \
         AND parent_kind = 'block' AND parent_key = '{id}' ORDER BY model_name FORMAT TSV"
    ));
    assert!(!models.contains("<synthetic>"), "{models}");
    assert!(!models.is_empty());
}

/// Per project: (its whole-project session, its sub-agent sessions, its stored days), in tokens.
fn project_figures(env: &TestEnv) -> Vec<(String, u64, u64, u64)> {
    let sums = |sql: &str| -> std::collections::BTreeMap<String, u64> {
        env.sql(sql)
            .lines()
            .map(|line| {
                let (name, tokens) = line.split_once('\t').unwrap();
                (name.to_owned(), tokens.parse().unwrap())
            })
            .collect()
    };
    let days = sums(
        "SELECT project, sum(total_tokens) FROM ccusage_usage_projects_daily FINAL \
         WHERE machine_name = 'laptop' GROUP BY project FORMAT TSV",
    );
    let whole = sums(
        "SELECT session_id, sum(total_tokens) FROM ccusage_v_session_summary \
         WHERE machine_name = 'laptop' AND project_path = 'Unknown Project' \
         GROUP BY session_id FORMAT TSV",
    );
    let subs = sums(
        "SELECT splitByChar('/', project_path)[1] AS project, sum(total_tokens) \
         FROM ccusage_v_session_summary WHERE machine_name = 'laptop' \
         AND project_path != 'Unknown Project' GROUP BY project FORMAT TSV",
    );
    days.into_iter()
        .map(|(project, days)| {
            let whole = whole.get(&project).copied().unwrap_or(0);
            let subs = subs.get(&project).copied().unwrap_or(0);
            (project, whole, subs, days)
        })
        .collect()
}

#[test]
fn ccusage_18_project_sessions_that_lose_old_logs_while_they_grow_keep_every_day() {
    let env = TestEnv::new("project_sessions");
    let old = ccusage18();
    let logs = |name: &str, seed: &str, lines: &str, days: &str, now: &str| {
        env.generate_logs(
            name,
            &[
                "--project-cwd",
                "/home/alice/proj-a",
                "--project-cwd",
                "/home/alice/work/proj-b",
                "--days",
                days,
                "--lines",
                lines,
                "--seed",
                seed,
                "--touch-old",
                "--now",
                now,
            ],
        )
    };
    let claude = logs("claude", "31", "500", "10", "2026-11-10T12:00:00Z");
    let import = || {
        env.importer("laptop")
            .logs(&claude)
            .ccusage(&old)
            .import_ok()
    };
    import();
    let first = project_figures(&env);
    assert_eq!(first.len(), 2, "{first:?}");
    for (project, whole, subs, days) in &first {
        assert_eq!(whole + subs, *days, "first import: {project}");
    }

    let cutoff = chrono::DateTime::parse_from_rfc3339("2026-11-05T00:00:00Z").unwrap();
    assert!(delete_logs_older_than(&claude, std::time::SystemTime::from(cutoff)) > 0);
    let later = logs("later", "32", "1500", "5", "2026-11-20T12:00:00Z");
    add_logs(&later, &claude);
    import();
    let after = project_figures(&env);
    for ((project, whole, subs, days), (_, first_whole, _, _)) in after.iter().zip(&first) {
        assert_eq!(whole + subs, *days, "after deletion and growth: {project}");
        assert!(
            whole >= first_whole,
            "{project} lost usage: {whole} < {first_whole}"
        );
    }
    let (sessions, days) = session_and_daily_tokens(&env);
    assert_eq!(sessions, days, "every session together is every day");
}

#[test]
fn a_panic_inside_one_report_fails_that_report_alone() {
    let env = TestEnv::new("panic");
    let (_, bin) = fixture_stand_in(&env, "20.0.24", "20.0.24");
    let run = env
        .importer("laptop")
        .ccusage(&bin)
        .env("CCUSAGE_IMPORT_TEST_PANIC", "blocks")
        .arg("--json")
        .run();
    assert_eq!(run.code, 4, "{}{}", run.stdout, run.stderr);
    let summary = run.json();
    assert_eq!(summary["reports"]["blocks"]["status"], "failed");
    let error = summary["reports"]["blocks"]["error"].as_str().unwrap();
    assert!(
        error.contains("crashed while reading this report"),
        "{error}"
    );
    assert!(error.contains("a panic injected for the tests"), "{error}");
    for other in ["daily", "session", "projects_daily", "agents_daily"] {
        assert_eq!(summary["reports"][other]["status"], "ok", "{other}");
    }
    assert_eq!(env.count("ccusage_usage_blocks"), "0");
    assert_ne!(env.count("ccusage_usage_daily"), "0");
    assert_eq!(
        env.sql("SELECT blocks_status FROM ccusage_import_runs")
            .trim(),
        "failed"
    );
}

#[test]
fn a_machine_whose_importer_has_not_recorded_its_scheme_still_shows_its_sessions() {
    let env = TestEnv::new("unrecorded_scheme");
    let (_, bin) = fixture_stand_in(&env, "20.0.24", "20.0.24");
    env.importer("laptop").ccusage(&bin).import_ok();
    // Another machine's rows as an older release wrote them: sessions, no ccusage_machines row.
    let columns = "session_id, project_path, first_activity, last_activity, input_tokens, \
                   output_tokens, cache_creation_tokens, cache_read_tokens, total_tokens, \
                   total_cost, models_used, ccusage_version, imported_at, row_version, \
                   content_hash";
    env.sql(&format!(
        "INSERT INTO ccusage_usage_sessions (machine_name, {columns}) SELECT 'older', {columns} \
         FROM ccusage_usage_sessions WHERE machine_name = 'laptop'"
    ));
    let sessions = |machine: &str| {
        env.sql(&format!(
            "SELECT count() FROM ccusage_v_session_summary WHERE machine_name = '{machine}'"
        ))
        .trim()
        .to_owned()
    };
    assert_ne!(sessions("laptop"), "0");
    assert_eq!(sessions("older"), sessions("laptop"));
}

#[test]
fn days_written_by_an_importer_that_kept_models_only_as_child_rows_still_show_their_models() {
    let env = TestEnv::new("legacy_breakdown");
    let (_, bin) = fixture_stand_in(&env, "20.0.24", "20.0.24");
    env.importer("laptop").ccusage(&bin).import_ok();
    // Another machine's days as an older release wrote them: the day row without its
    // breakdown arrays, the breakdown as child rows only.
    let day_columns = "date, input_tokens, output_tokens, cache_creation_tokens, \
                       cache_read_tokens, total_tokens, total_cost, models_used, \
                       ccusage_version, imported_at, row_version, content_hash";
    env.sql(&format!(
        "INSERT INTO ccusage_usage_daily (machine_name, {day_columns}) SELECT 'older', \
         {day_columns} FROM ccusage_usage_daily WHERE machine_name = 'laptop'"
    ));
    let child_columns = "parent_kind, parent_key, model_name, input_tokens, output_tokens, \
                         cache_creation_tokens, cache_read_tokens, total_tokens, cost, \
                         parent_version, ccusage_version, imported_at";
    env.sql(&format!(
        "INSERT INTO ccusage_model_breakdowns (machine_name, {child_columns}) SELECT 'older', \
         {child_columns} FROM ccusage_model_breakdowns WHERE machine_name = 'laptop'"
    ));
    let per_model = |view_and_filter: &str, machine: &str| {
        env.sql(&format!(
            "SELECT toString(date), model_name, total_tokens, round(cost_usd, 6) FROM \
             ({view_and_filter}) WHERE machine_name = '{machine}' \
             ORDER BY date, model_name FORMAT TSV"
        ))
    };
    let view = "SELECT * FROM ccusage_v_model_daily";
    let children = "SELECT machine_name, toDate(parent_key) AS date, model_name, total_tokens, \
                    toFloat64(cost) AS cost_usd FROM ccusage_v_model_breakdowns \
                    WHERE parent_kind = 'daily'";
    let laptop = per_model(view, "laptop");
    assert!(laptop.lines().count() > 3, "{laptop}");
    assert_eq!(laptop, per_model(children, "laptop"));
    assert_eq!(per_model(view, "older"), laptop);
    // The older release then stores a day again with more usage: its children win over the
    // arrays of the row it replaces.
    let (day, model) = {
        let first = laptop.lines().next().unwrap();
        let mut fields = first.split('\t');
        (
            fields.next().unwrap().to_owned(),
            fields.next().unwrap().to_owned(),
        )
    };
    env.sql(&format!(
        "INSERT INTO ccusage_usage_daily (machine_name, {day_columns}) SELECT 'laptop', date, \
         input_tokens, output_tokens + 1000, cache_creation_tokens, cache_read_tokens, \
         total_tokens + 1000, total_cost, models_used, ccusage_version, imported_at, \
         row_version + (1000 * 16777216), content_hash FROM ccusage_usage_daily FINAL \
         WHERE machine_name = 'laptop' AND toString(date) = '{day}'"
    ));
    env.sql(&format!(
        "INSERT INTO ccusage_model_breakdowns (machine_name, {child_columns}) SELECT \
         machine_name, parent_kind, parent_key, model_name, input_tokens, output_tokens + 1000, \
         cache_creation_tokens, cache_read_tokens, total_tokens + 1000, cost, \
         parent_version + (1000 * 16777216), ccusage_version, imported_at \
         FROM ccusage_model_breakdowns WHERE machine_name = 'laptop' \
         AND parent_kind = 'daily' AND parent_key = '{day}' AND model_name = '{model}' \
         ORDER BY parent_version DESC LIMIT 1"
    ));
    let after = per_model(view, "laptop");
    assert_eq!(after, per_model(children, "laptop"));
    let first_day: Vec<&str> = after.lines().filter(|l| l.starts_with(&day)).collect();
    assert_eq!(
        first_day.len(),
        1,
        "only the model the newer day holds: {after}"
    );
    assert!(
        first_day[0].starts_with(&format!("{day}\t{model}\t")),
        "{after}"
    );
    let without_arrays = |machine: &str| {
        env.sql(&format!(
            "SELECT count() FROM ccusage_usage_daily FINAL WHERE machine_name = '{machine}' \
             AND empty(breakdown_models)"
        ))
        .trim()
        .to_owned()
    };
    assert_eq!(without_arrays("laptop"), "1");
    // This release, importing the same logs again, does not undo the larger day, and gives it
    // (only its own machine's days) the arrays of its children.
    let the_day = format!(
        "SELECT total_tokens, total_cost, models_used, row_version, content_hash \
         FROM ccusage_usage_daily FINAL WHERE machine_name = 'laptop' \
         AND toString(date) = '{day}' FORMAT TSV"
    );
    let day_before = env.sql(&the_day);
    // The fill runs on a machine's first import with this release only (it reads all of the
    // machine's days and breakdowns): without its row of ccusage_machine_ticks, as an older
    // release left it, the next import is that one.
    env.sql("TRUNCATE TABLE ccusage_machine_ticks");
    env.importer("laptop").ccusage(&bin).import_ok();
    assert_eq!(per_model(view, "laptop"), after);
    assert_eq!(env.sql(&the_day), day_before, "only the arrays change");
    assert_eq!(without_arrays("laptop"), "0");
    assert_ne!(without_arrays("older"), "0");
    assert_eq!(per_model(view, "older"), laptop);
}

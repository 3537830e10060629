//! Bad input from ccusage (issue 6): a ccusage that cannot start, fails, hangs, floods or
//! prints something that is not its report. Each such report fails alone, with one line that
//! names the cause, exit 4 and no panic; the other reports are still imported and rows stored
//! before are left as they were. Odd but valid ids arrive byte for byte; 10 MB of stderr is
//! cut to its tail.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::harness::*;

/// Each report of the stand-in: its file name there, the 20.0.24 fixture it prints when not
/// broken, its name in messages and `--json`, and its table.
const REPORTS: [(&str, &str, &str, &str); 5] = [
    ("daily", "claude-daily.json", "daily", "ccusage_usage_daily"),
    (
        "session",
        "claude-session.json",
        "session",
        "ccusage_usage_sessions",
    ),
    (
        "blocks",
        "claude-blocks.json",
        "blocks",
        "ccusage_usage_blocks",
    ),
    (
        "instances",
        "claude-daily-instances.json",
        "projects_daily",
        "ccusage_usage_projects_daily",
    ),
    (
        "agents",
        "daily-sections-by-agent.json",
        "agents_daily",
        "ccusage_usage_agents_daily",
    ),
];

fn report(file: &str) -> (&'static str, &'static str, &'static str, &'static str) {
    *REPORTS
        .iter()
        .find(|r| r.0 == file)
        .expect("a known report")
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(ROOT)
            .join("tests/fixtures/ccusage/20.0.24")
            .join(name),
    )
    .unwrap()
}

/// How many rows a good report's fixture puts into its table (blocks without gaps).
fn fixture_rows(file: &str) -> usize {
    let v: Value = serde_json::from_slice(&fixture(report(file).1)).unwrap();
    let len = |key: &str| v[key].as_array().unwrap().len();
    match file {
        "daily" | "agents" => len("daily"),
        "session" => len("sessions"),
        "blocks" => v["blocks"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|b| b["isGap"] != true)
            .count(),
        "instances" => v["projects"]
            .as_object()
            .unwrap()
            .values()
            .map(|rows| rows.as_array().unwrap().len())
            .sum(),
        _ => unreachable!(),
    }
}

/// A stand-in ccusage 20.0.24 whose every report prints its captured fixture.
fn good_stand_in(env: &TestEnv) -> (PathBuf, PathBuf) {
    let dir = env.path("fake");
    let bin = env.stand_in(&dir, "ccusage 20.0.24");
    for (file, fixture, _, _) in REPORTS {
        use_fixture(&dir, "20.0.24", fixture, file);
    }
    (dir, bin)
}

/// What the broken report does instead of printing its fixture.
enum Bad {
    /// Prints these bytes and exits 0.
    Prints(Vec<u8>),
    /// Runs this shell script; `$D` is the stand-in's directory.
    Script(&'static str),
}

fn break_report(dir: &Path, file: &str, bad: &Bad) {
    match bad {
        Bad::Prints(bytes) => std::fs::write(dir.join(format!("{file}.json")), bytes).unwrap(),
        Bad::Script(body) => script_report(dir, file, body),
    }
}

fn run_with(env: &TestEnv, bin: &Path, args: &[&str]) -> Run {
    let mut importer = env.importer("laptop").ccusage(bin);
    for arg in args {
        importer = importer.arg(arg);
    }
    importer.arg("--json").run()
}

/// The error lines on stderr; anything else there but warnings fails the test, so a cause
/// that spills over several lines is caught.
fn error_lines(run: &Run) -> Vec<&str> {
    let mut errors = Vec::new();
    for line in run.stderr.lines() {
        if line.starts_with("ccusage-import: error: ") {
            errors.push(line);
        } else {
            assert!(
                line.starts_with("ccusage-import: warning: "),
                "stray stderr line {line:?} in:\n{}",
                run.stderr
            );
        }
    }
    errors
}

/// Exit 4, no panic, exactly one error line, for `kind`, naming every one of `causes`; in
/// `--json` that report failed with the same causes and every other report was ok.
fn assert_fails_alone(run: &Run, kind: &str, causes: &[&str]) {
    let all = format!(
        "exit {}\nstdout:\n{}\nstderr:\n{}",
        run.code, run.stdout, run.stderr
    );
    assert!(!run.stderr.contains("panicked"), "{all}");
    assert_eq!(run.code, 4, "{all}");
    let errors = error_lines(run);
    assert_eq!(errors.len(), 1, "{all}");
    let prefix = format!("ccusage-import: error: {kind} report failed: ");
    assert!(errors[0].starts_with(&prefix), "{all}");
    for cause in causes {
        assert!(
            errors[0].contains(cause),
            "{cause:?} is not named in: {}",
            errors[0]
        );
    }
    let summary = run.json();
    let reports = summary["reports"].as_object().expect("reports in --json");
    // And the hours, which the stand-in answers with no rows (`[]`).
    assert_eq!(reports.len(), REPORTS.len() + 1, "{all}");
    for (name, outcome) in reports {
        let want = if name == kind { "failed" } else { "ok" };
        assert_eq!(outcome["status"], want, "{name}: {all}");
    }
    let error = summary["reports"][kind]["error"].as_str().unwrap();
    for cause in causes {
        assert!(error.contains(cause), "{cause:?} is not in --json: {error}");
    }
}

/// Every report but the broken one put its fixture's rows in its table; the broken one none.
fn assert_others_imported(env: &TestEnv, broken: &str) {
    for (file, _, _, table) in REPORTS {
        let want = if file == broken {
            0
        } else {
            fixture_rows(file)
        };
        let got = env.sql(&format!("SELECT count() FROM {table} FINAL"));
        assert_eq!(got.trim(), want.to_string(), "{table}");
    }
}

fn assert_ledger_says_failed(env: &TestEnv, kind: &str) {
    let failed = env.sql(&format!(
        "SELECT count() FROM ccusage_import_runs WHERE exit_code = 4 AND {kind}_status = 'failed'"
    ));
    assert_eq!(failed.trim(), "1", "the ledger does not record the failure");
}

struct Case {
    name: &'static str,
    /// The stand-in report that is broken (daily, monthly, session, blocks, instances, agents).
    file: &'static str,
    bad: Bad,
    args: &'static [&'static str],
    /// Words the error line must hold.
    causes: &'static [&'static str],
    /// Import a good run first and insist the bad run leaves every table as it was.
    good_first: bool,
}

fn run_case(case: &Case) {
    let env = TestEnv::new("bad");
    let (dir, bin) = good_stand_in(&env);
    let before = case.good_first.then(|| {
        run_ok(&env, &bin);
        snapshot(&env)
    });
    break_report(&dir, case.file, &case.bad);
    let run = run_with(&env, &bin, case.args);
    let kind = report(case.file).2;
    assert_fails_alone(&run, kind, case.causes);
    match before {
        Some(before) => assert!(snapshot(&env) == before, "stored rows changed"),
        None => assert_others_imported(&env, case.file),
    }
    assert_ledger_says_failed(&env, kind);
}

fn run_ok(env: &TestEnv, bin: &Path) {
    let run = run_with(env, bin, &[]);
    assert_eq!(
        run.code, 0,
        "the good run failed:\n{}\n{}",
        run.stdout, run.stderr
    );
}

/// Runs every case, then fails once, listing every case that failed.
fn run_cases(cases: &[Case]) {
    let failed: Vec<&str> = cases
        .iter()
        .filter(|case| catch_unwind(AssertUnwindSafe(|| run_case(case))).is_err())
        .map(|case| case.name)
        .collect();
    assert!(
        failed.is_empty(),
        "failed cases (see the panics above): {failed:?}"
    );
}

/// One daily row with `input` as inputTokens and `cost` as totalCost, spliced in verbatim.
fn daily_with(input: &str, cost: &str) -> Vec<u8> {
    format!(
        r#"{{"daily":[{{"date":"2026-11-20","inputTokens":{input},"outputTokens":5,
        "cacheCreationTokens":0,"cacheReadTokens":0,"totalTokens":0,"totalCost":{cost},
        "modelsUsed":["claude-sonnet-4-5"],"modelBreakdowns":[]}}],"totals":{{}}}}"#
    )
    .into_bytes()
}

const ROW: &str = r#"{"date":"2026-11-20","inputTokens":1,"outputTokens":5,"cacheCreationTokens":0,"cacheReadTokens":0,"totalCost":0.5}"#;

/// A session report with one session, its id given as raw bytes (quotes included).
fn session_with_id(id: &[u8]) -> Vec<u8> {
    let mut out = br#"{"sessions":[{"sessionId":"#.to_vec();
    out.extend_from_slice(id);
    out.extend_from_slice(
        br#","projectPath":"-home-alice","lastActivity":"2026-11-20T10:00:00Z","inputTokens":1,
        "outputTokens":1,"cacheCreationTokens":0,"cacheReadTokens":0,"totalCost":0.1}]}"#,
    );
    out
}

#[test]
fn a_report_that_fails_or_prints_no_valid_report_fails_alone_and_names_the_cause() {
    let truncated = fixture("claude-daily.json")[..4000].to_vec();
    let cases = [
        Case {
            name: "exits non-zero with a message on stderr",
            file: "daily",
            bad: Bad::Script("echo 'Error: cannot read /root/.claude: permission denied' >&2; exit 1"),
            args: &[],
            causes: &["exited with code 1", "cannot read /root/.claude: permission denied"],
            good_first: true,
        },
        Case {
            name: "is killed by a signal",
            file: "session",
            bad: Bad::Script("kill -9 $$"),
            args: &[],
            causes: &["was killed by signal 9"],
            good_first: false,
        },
        Case {
            name: "exits 0 but prints an error text",
            file: "daily",
            bad: Bad::Prints(b"Date must be in YYYYMMDD format\n".to_vec()),
            args: &[],
            causes: &["not the expected JSON", "Date must be in YYYYMMDD format"],
            good_first: true,
        },
        Case {
            name: "prints nothing",
            file: "session",
            bad: Bad::Prints(Vec::new()),
            args: &[],
            causes: &["EOF while parsing", "output began: nothing"],
            good_first: false,
        },
        Case {
            name: "prints truncated JSON",
            file: "daily",
            bad: Bad::Prints(truncated),
            args: &[],
            causes: &["not the expected JSON", "EOF while parsing"],
            good_first: true,
        },
        Case {
            name: "wrong shape: an object where rows belong",
            file: "session",
            bad: Bad::Prints(br#"{"sessions":{"s1":{}},"totals":{}}"#.to_vec()),
            args: &[],
            causes: &["invalid type: map, expected a sequence"],
            good_first: false,
        },
        Case {
            name: "wrong shape: the report's key is missing",
            file: "session",
            bad: Bad::Prints(br#"{"session":[]}"#.to_vec()),
            args: &[],
            causes: &["missing field `sessions`"],
            good_first: false,
        },
        Case {
            name: "wrong shape: a non-empty array",
            file: "blocks",
            bad: Bad::Prints(br#"[{"id":"x"}]"#.to_vec()),
            args: &[],
            causes: &["non-empty array"],
            good_first: false,
        },
        Case {
            name: "wrong type: a token count as a string",
            file: "daily",
            bad: Bad::Prints(daily_with(r#""12""#, "0.5")),
            args: &[],
            causes: &[r#"invalid type: string "12", expected u64"#],
            good_first: false,
        },
        Case {
            name: "a token count above u64",
            file: "daily",
            bad: Bad::Prints(daily_with("18446744073709551616", "0.5")),
            args: &[],
            causes: &["expected u64"],
            good_first: true,
        },
        Case {
            name: "a negative token count",
            file: "instances",
            bad: Bad::Prints(format!(r#"{{"projects":{{"p":[{}]}}}}"#, ROW.replace(r#""inputTokens":1"#, r#""inputTokens":-5"#)).into_bytes()),
            args: &[],
            causes: &["invalid value: integer `-5`, expected u64"],
            good_first: false,
        },
        Case {
            name: "token counts that add up beyond u64",
            file: "daily",
            bad: Bad::Prints(daily_with("18446744073709551615", "0.5")),
            args: &[],
            causes: &["daily row 1", "more than 2^64"],
            good_first: false,
        },
        Case {
            name: "a negative cost",
            file: "daily",
            bad: Bad::Prints(daily_with("1", "-0.5")),
            args: &[],
            causes: &["daily row 1: totalCost", "negative"],
            good_first: true,
        },
        Case {
            name: "a NaN cost (invalid JSON)",
            file: "daily",
            bad: Bad::Prints(br#"{"daily":[{"date":"2026-11-20","inputTokens":1,"outputTokens":1,"cacheCreationTokens":0,"cacheReadTokens":0,"totalCost":NaN}]}"#.to_vec()),
            args: &[],
            causes: &["not the expected JSON", "expected value"],
            good_first: false,
        },
        Case {
            name: "a cost as a string",
            file: "daily",
            bad: Bad::Prints(daily_with("1", r#""0.50""#)),
            args: &[],
            causes: &[r#"invalid type: string "0.50", expected f64"#],
            good_first: false,
        },
        Case {
            name: "a negative block cost",
            file: "blocks",
            bad: Bad::Prints(br#"{"blocks":[{"id":"2026-11-20T10:00:00.000Z","startTime":"2026-11-20T10:00:00.000Z",
                "endTime":"2026-11-20T15:00:00.000Z","isActive":false,"isGap":false,"entries":1,
                "tokenCounts":{"inputTokens":1,"outputTokens":1,"cacheCreationInputTokens":0,
                "cacheReadInputTokens":0},"costUSD":-1,"models":[]}]}"#.to_vec()),
            args: &[],
            causes: &["block 1: costUSD", "negative"],
            good_first: false,
        },
        Case {
            name: "invalid UTF-8 in a session id",
            file: "session",
            bad: Bad::Prints(session_with_id(b"\"abc\xff\xfedef\"")),
            args: &[],
            causes: &["not the expected JSON", "invalid unicode code point"],
            good_first: true,
        },
        Case {
            name: "invalid UTF-8 in a project name",
            file: "instances",
            bad: Bad::Prints([&b"{\"projects\":{\"-home-\xff\":["[..], ROW.as_bytes(), b"]}}"].concat()),
            args: &[],
            causes: &["invalid unicode code point"],
            good_first: false,
        },
        Case {
            name: "a duplicate report key",
            file: "daily",
            bad: Bad::Prints(format!(r#"{{"daily":[],"daily":[{ROW}]}}"#).into_bytes()),
            args: &[],
            causes: &["duplicate field `daily`"],
            good_first: false,
        },
        Case {
            name: "a duplicate field in a row",
            file: "daily",
            bad: Bad::Prints(format!(r#"{{"daily":[{}]}}"#, ROW.replace(r#""outputTokens":5"#, r#""outputTokens":5,"outputTokens":7"#)).into_bytes()),
            args: &[],
            causes: &["duplicate field `outputTokens`"],
            good_first: false,
        },
        Case {
            name: "a duplicate project",
            file: "instances",
            bad: Bad::Prints(format!(r#"{{"projects":{{"-home-a":[{ROW}],"-home-a":[]}}}}"#).into_bytes()),
            args: &[],
            causes: &["duplicate key \"-home-a\""],
            good_first: true,
        },
        Case {
            name: "a duplicate field in an all-agent day",
            file: "agents",
            bad: Bad::Prints(br#"{"daily":[{"period":"2026-11-20","inputTokens":1,"inputTokens":9,"outputTokens":0,"cacheCreationTokens":0,"cacheReadTokens":0,"totalCost":0}]}"#.to_vec()),
            args: &[],
            causes: &["duplicate field `inputTokens`"],
            good_first: false,
        },
        Case {
            name: "output beyond --max-output",
            file: "agents",
            // The all-agent fixture (48 KB) is the only one above 30,000 bytes.
            bad: Bad::Prints(fixture("daily-sections-by-agent.json")),
            args: &["--max-output", "30000"],
            causes: &["printed more than 30000 bytes", "--max-output"],
            good_first: true,
        },
    ];
    run_cases(&cases);
}

/// A hung report is killed after --timeout together with everything it started, the run ends
/// soon after, and the other reports are imported.
#[test]
fn a_hung_report_is_killed_with_its_whole_process_group_after_the_timeout() {
    let env = TestEnv::new("hang");
    let (dir, bin) = good_stand_in(&env);
    run_ok(&env, &bin);
    let before = snapshot(&env);
    break_report(&dir, "daily", &Bad::Script(HUNG_WITH_GRANDCHILD));
    let started = Instant::now();
    let run = run_with(&env, &bin, &["--timeout", "2"]);
    let took = started.elapsed();
    assert_fails_alone(&run, "daily", &["timed out after 2 s", "--timeout"]);
    assert!(took < Duration::from_secs(10), "the run took {took:?}");
    for file in ["script.pid", "grandchild.pid"] {
        let pid = read_pid(&dir.join(file));
        // The run has ended, so the kill was sent; allow the kernel a moment to finish it.
        assert!(
            ends_within(pid, Duration::from_secs(2)),
            "{file} {pid} outlived the run"
        );
    }
    assert!(snapshot(&env) == before, "stored rows changed");
    assert_ledger_says_failed(&env, "daily");
}

/// A report that floods stdout and keeps running is killed as soon as it passes --max-output,
/// not at the timeout, and the message names --max-output.
#[test]
fn a_report_over_max_output_that_keeps_running_is_killed_at_once() {
    let env = TestEnv::new("flood");
    let (dir, bin) = good_stand_in(&env);
    break_report(
        &dir,
        "agents",
        &Bad::Script("echo $$ > \"$D/script.pid\"\ncat \"$D/agents.json\"\nsleep 300"),
    );
    let started = Instant::now();
    let run = run_with(&env, &bin, &["--max-output", "30000", "--timeout", "30"]);
    let took = started.elapsed();
    assert_fails_alone(
        &run,
        "agents_daily",
        &["printed more than 30000 bytes", "--max-output"],
    );
    assert!(took < Duration::from_secs(15), "the run took {took:?}");
    let pid = read_pid(&dir.join("script.pid"));
    assert!(
        ends_within(pid, Duration::from_secs(2)),
        "the report {pid} outlived the run"
    );
    assert_others_imported(&env, "agents");
}

/// A ccusage that cannot be started fails every report, and leaves what is stored alone. One
/// cause, one line (issue 30: it was one identical line per report) that says what to do; exit
/// 6, "no report could be imported" (it was 4, "the others were imported", though none was).
#[test]
fn a_missing_or_non_executable_ccusage_fails_every_report_and_says_what_to_do() {
    let env = TestEnv::new("nobin");
    let (_, bin) = good_stand_in(&env);
    run_ok(&env, &bin);
    let before = snapshot(&env);
    let plain = env.path("plain/ccusage");
    std::fs::create_dir_all(plain.parent().unwrap()).unwrap();
    std::fs::copy(&bin, &plain).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&plain, std::fs::Permissions::from_mode(0o644)).unwrap();
    let cases: [(&Path, &[&str]); 2] = [
        (
            Path::new("/nonexistent/ccusage"),
            &[
                "/nonexistent/ccusage does not exist",
                "install ccusage or fix --ccusage-bin",
            ],
        ),
        (
            &plain,
            &["is not executable", "chmod +x it or fix --ccusage-bin"],
        ),
    ];
    for (program, causes) in cases {
        let run = run_with(&env, program, &[]);
        let all = format!("exit {}\n{}\n{}", run.code, run.stdout, run.stderr);
        assert!(!run.stderr.contains("panicked"), "{all}");
        assert_eq!(run.code, 6, "{all}");
        let errors = error_lines(&run);
        assert_eq!(errors.len(), 1, "{all}");
        assert!(
            errors[0].starts_with(
                "ccusage-import: error: every ccusage report failed, nothing was imported: "
            ),
            "{all}"
        );
        for cause in causes {
            assert!(errors[0].contains(cause), "{cause:?} not in {}", errors[0]);
        }
        for kind in ["daily", "session", "blocks", "hours", "projects_daily"] {
            assert_eq!(run.json()["reports"][kind]["status"], "failed");
        }
        assert_eq!(run.json()["exit_code"], 6);
        assert!(
            snapshot(&env) == before,
            "{}: stored rows changed",
            program.display()
        );
    }
}

/// Session ids and project names with quotes, backslashes, newlines, NUL and 10 KB of text are
/// stored exactly as ccusage printed them, and a second import finds them already stored.
#[test]
fn ids_with_quotes_backslashes_newlines_nul_and_10_kb_arrive_intact() {
    let env = TestEnv::new("odd_ids");
    let (dir, bin) = good_stand_in(&env);
    let long: String = "é日x".repeat(10 * 1024 / 6 + 1);
    assert!(long.len() >= 10 * 1024);
    let odd: Vec<(String, String)> = vec![
        (r#"say "hi" and 'bye'"#.into(), r#"/home/o'neil/"q""#.into()),
        (r"back\slash\\x".into(), r"C:\Users\al\proj\".into()),
        ("new\nline\r\nand\ttab".into(), "/home/al/new\nline".into()),
        ("nul\u{0}byte".into(), "/home/al/nul\u{0}dir".into()),
        (long.clone(), format!("/home/{long}")),
    ];
    let row = |extra: Value| {
        let mut row = json!({
            "inputTokens": 3, "outputTokens": 4, "cacheCreationTokens": 0, "cacheReadTokens": 0,
            "totalCost": 0.25, "modelsUsed": ["claude-sonnet-4-5"],
            "modelBreakdowns": [{"modelName": "claude-sonnet-4-5", "inputTokens": 3,
                "outputTokens": 4, "cacheCreationTokens": 0, "cacheReadTokens": 0, "cost": 0.25}]
        });
        row.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        row
    };
    let sessions: Vec<Value> = odd
        .iter()
        .map(|(id, path)| {
            row(json!({"sessionId": id, "projectPath": path,
                "firstActivity": "2026-11-20T09:00:00Z", "lastActivity": "2026-11-20T10:00:00Z"}))
        })
        .collect();
    let projects: serde_json::Map<String, Value> = odd
        .iter()
        .map(|(id, _)| (id.clone(), json!([row(json!({"date": "2026-11-20"}))])))
        .collect();
    let write = |file: &str, v: Value| {
        std::fs::write(
            dir.join(format!("{file}.json")),
            serde_json::to_vec(&v).unwrap(),
        )
        .unwrap()
    };
    write("session", json!({"sessions": sessions, "totals": {}}));
    write("instances", json!({"projects": projects, "totals": {}}));

    let summary = env.importer("laptop").ccusage(&bin).import_ok();
    assert_eq!(summary["tables"]["ccusage_usage_sessions"], odd.len());

    let rows = |query: &str| -> Vec<Value> {
        let text = env.sql(&format!("{query} FORMAT JSONEachRow"));
        text.lines()
            .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line:?}")))
            .collect()
    };
    let mut want: Vec<(String, String)> = odd.clone();
    want.sort();
    let mut got: Vec<(String, String)> =
        rows("SELECT session_id, project_path FROM ccusage_usage_sessions FINAL")
            .iter()
            .map(|r| {
                let s = |k: &str| r[k].as_str().unwrap().to_owned();
                (s("session_id"), s("project_path"))
            })
            .collect();
    got.sort();
    assert!(
        got == want,
        "stored sessions differ:\n{got:?}\nwant:\n{want:?}"
    );

    let mut want_projects: Vec<&String> = projects.keys().collect();
    want_projects.sort();
    let stored = rows("SELECT DISTINCT project FROM ccusage_usage_projects_daily FINAL");
    let mut got_projects: Vec<&str> = stored
        .iter()
        .map(|r| r["project"].as_str().unwrap())
        .collect();
    got_projects.sort();
    assert!(
        got_projects == want_projects,
        "stored projects differ: {got_projects:?}"
    );

    // The children point at their parent by the same key text.
    let mut want_keys: Vec<String> = odd
        .iter()
        .map(|(id, path)| format!("{path}/{id}"))
        .collect();
    want_keys.sort();
    let stored =
        rows("SELECT parent_key FROM ccusage_v_model_breakdowns WHERE parent_kind = 'session'");
    let mut got_keys: Vec<String> = stored
        .iter()
        .map(|r| r["parent_key"].as_str().unwrap().to_owned())
        .collect();
    got_keys.sort();
    assert!(
        got_keys == want_keys,
        "session breakdowns lost their parents"
    );

    let again = env.importer("laptop").ccusage(&bin).import_ok();
    assert_eq!(
        again["tables"]["ccusage_usage_sessions"], 0,
        "odd session keys not recognised"
    );
    assert_eq!(
        again["tables"]["ccusage_usage_projects_daily"], 0,
        "odd project keys not recognised"
    );
}

/// Issue 30: CLAUDE_CONFIG_DIR pointing where there are no logs made real ccusage fail every
/// report with the same long error, printed five times (about 450 characters each), exit 4.
/// It is one line now, the cause once and what to do, exit 6; the ledger says the same.
#[test]
fn logs_that_are_not_there_are_one_line_and_exit_6() {
    let env = TestEnv::new("nologs");
    let nowhere = env.path("nowhere");
    let run = env
        .importer("nologs-box")
        .logs(&nowhere)
        .arg("--quiet")
        .run();
    let all = format!("exit {}\n{}\n{}", run.code, run.stdout, run.stderr);
    assert_eq!(run.code, 6, "{all}");
    let errors = error_lines(&run);
    assert_eq!(errors.len(), 1, "{all}");
    assert_eq!(run.stderr.lines().count(), 1, "{all}");
    let line = &errors[0];
    assert!(
        line.starts_with(
            "ccusage-import: error: every ccusage report failed, nothing was imported: "
        ),
        "{line}"
    );
    assert!(line.contains(&nowhere.display().to_string()), "{line}");
    assert!(
        line.ends_with("set CLAUDE_CONFIG_DIR to the directory holding your Claude Code logs (the one with projects/ in it), or unset it to use ~/.claude"),
        "{line}"
    );
    assert!(!line.contains("(command: "), "{line}");
    let stored = env.sql(
        "SELECT exit_code, error FROM ccusage_import_runs WHERE machine_name = 'nologs-box' \
         FORMAT TSVRaw",
    );
    assert_eq!(
        stored.trim_end(),
        format!("6\t{}", line.trim_start_matches("ccusage-import: error: "))
    );
}

#[test]
fn a_report_writing_10_mb_to_stderr_imports_or_fails_naming_the_tail() {
    for (exit, code) in [(0, 0), (3, 4)] {
        let env = TestEnv::new("stderr10mb");
        let (_, run, took) = run_daily_script(
            &env,
            &format!(
                "head -c 10485760 /dev/zero | tr '\\0' 'x' >&2\n\
                 echo ' the last words: disk on fire' >&2\n\
                 cat \"$D/daily.json\"\nexit {exit}"
            ),
        );
        assert_eq!(
            run.code,
            code,
            "{}",
            &run.stderr[..run.stderr.len().min(2000)]
        );
        assert!(took < Duration::from_secs(30), "{took:?}");
        if exit == 0 {
            let days = env.sql("SELECT count() FROM ccusage_usage_daily FINAL");
            assert_ne!(days.trim(), "0");
        } else {
            let line = run
                .stderr
                .lines()
                .find(|l| l.contains("daily report failed"))
                .unwrap_or_else(|| panic!("{}", run.stderr));
            assert!(line.contains("exited with code 3"), "{line}");
            assert!(line.contains("it wrote 1048579"), "{line}");
            assert!(line.contains("bytes to stderr, ending: \"…"), "{line}");
            assert!(line.contains("the last words: disk on fire\""), "{line}");
            assert!(line.len() < 1000, "{line}");
        }
    }
}

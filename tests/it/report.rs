//! The run as a person sees it (issue 4): the live view in a real terminal (tmux), a clean
//! plain log without one, and --quiet and --json printing only their own; warnings in the
//! JSON too, ccusage's text with control characters escaped, the active block's minutes left,
//! `--verbose` timings, and a full disk on stdout.

use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::harness::*;

const SPINNER: &[char] = &['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/// Removes CSI escape sequences (colours, cursor moves) from captured terminal text.
fn strip_escapes(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            if chars.peek() == Some(&'[') {
                chars.next();
                for c in chars.by_ref() {
                    if ('@'..='~').contains(&c) {
                        break;
                    }
                }
            } else {
                chars.next();
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// The summary's value for `label` (the text after the padded label), first match.
fn value<'a>(summary: &'a str, label: &str) -> Option<&'a str> {
    summary.lines().find_map(|line| {
        let rest = line.strip_prefix("  ")?.strip_prefix(label)?;
        rest.starts_with("  ").then(|| rest.trim())
    })
}

#[test]
fn report_without_a_terminal_is_plain_complete_and_clean() {
    let env = TestEnv::new("report_plain");
    let claude = env.generate_logs("claude", SMALL);
    let days = usage_days(&claude);
    // Neither stdout nor stderr is a terminal here: indicatif draws nothing, and the summary
    // is plain unless `--color always` asked for colour anyway (`| less -R`).
    for color in ["auto", "never", "always"] {
        // A database each: machines importing the same logs into one get a warning on stderr.
        let db = TestEnv::new("report_plain");
        let run = db
            .importer(&format!("cron-{color}"))
            .logs(&claude)
            .arg("--color")
            .arg(color)
            .run();
        assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
        assert_eq!(
            run.stdout.contains('\x1b'),
            color == "always",
            "--color {color}: escape codes in stdout: {:?}",
            run.stdout
        );
        assert!(
            run.stderr.is_empty(),
            "stderr is not empty: {:?}",
            run.stderr
        );
        assert!(!run.stdout.contains(SPINNER), "{}", run.stdout);
        assert!(!run.stdout.contains('✓'), "{}", run.stdout);
    }

    let first = env.importer("cron-box").logs(&claude).run();
    assert_eq!(first.code, 0, "{}\n{}", first.stdout, first.stderr);
    let out = &first.stdout;
    assert!(
        out.starts_with("ccusage-import: machine cron-box, run at "),
        "{out}"
    );
    for section in [
        "\nReports\n",
        "\nRecords\n",
        "\nCost and tokens\n",
        "\nDate range\n",
        "\nTop models by cost\n",
        "\nSessions\n",
        "\nActive block\n",
        "\nMachine\n",
    ] {
        assert!(out.contains(section), "no {section:?} in\n{out}");
    }
    let (_, cost) = ccusage_totals(&claude);
    assert_eq!(
        value(out, "total cost"),
        Some(format!("${cost:.2}").as_str()),
        "{out}"
    );
    assert!(
        value(out, "daily")
            .unwrap()
            .starts_with(&format!("ok, {days} rows, ")),
        "{out}"
    );
    assert_eq!(
        value(out, "previous import"),
        Some("none: the first import of this machine")
    );
    assert_eq!(
        value(out, "new days"),
        Some(days.to_string().as_str()),
        "{out}"
    );
    let span = usage_span_days(&claude);
    assert_eq!(
        value(out, "active days"),
        Some(format!("{days} of {span}").as_str()),
        "{out}"
    );
    assert_eq!(value(out, "ccusage"), Some("20.0.24"));
    assert!(
        value(out, "time left").is_some(),
        "the active block is missing:\n{out}"
    );
    // The fleet line reads the database: this machine alone (the colour loop had its own).
    assert!(
        out.trim_end()
            .lines()
            .last()
            .unwrap()
            .starts_with("all machines: 1 machine, $"),
        "{out}"
    );
    assert!(!out.contains("warning"), "{out}");

    // Again: nothing new, and the previous import is the first run.
    let second = env.importer("cron-box").logs(&claude).run();
    assert_eq!(second.code, 0, "{}\n{}", second.stdout, second.stderr);
    let out = &second.stdout;
    let previous = value(out, "previous import").unwrap();
    assert!(previous.ends_with(" UTC (just now)"), "{out}");
    for label in ["new days", "new sessions", "new blocks", "updated rows"] {
        assert_eq!(value(out, label), Some("0"), "{label}: {out}");
    }
    assert!(value(out, "ccusage_usage_daily")
        .unwrap()
        .starts_with("0 written"));
}

/// `ccusage-import --color always | less -R`: the summary keeps its colours in a pipe, while
/// stderr (a pipe too) gets no spinners; NO_COLOR does not override the explicit choice.
#[test]
fn color_always_keeps_colour_when_stdout_is_a_pipe() {
    let env = TestEnv::new("report_always");
    let claude = env.generate_logs("claude", SMALL);
    for (machine, how) in [("flag-box", "flag"), ("env-box", "env")] {
        // A database each: machines importing the same logs into one get a warning on stderr.
        let db = TestEnv::new("report_always");
        let importer = db.importer(machine).logs(&claude).env("NO_COLOR", "1");
        let importer = match how {
            "flag" => importer.arg("--color").arg("always"),
            _ => importer.env("CCUSAGE_IMPORT_COLOR", "always"),
        };
        let run = importer.run();
        assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
        assert!(
            run.stdout.contains("\x1b["),
            "{how}: no colour in stdout: {:?}",
            run.stdout
        );
        assert!(
            strip_escapes(&run.stdout)
                .starts_with(&format!("ccusage-import: machine {machine}, run at ")),
            "{}",
            run.stdout
        );
        assert!(run.stderr.is_empty(), "{how}: stderr: {:?}", run.stderr);
        assert!(!run.stdout.contains(SPINNER), "{}", run.stdout);
    }
}

#[test]
fn report_stale_logs_get_a_warning() {
    let env = TestEnv::new("report_stale");
    // Logs that ended ten days ago.
    let now = chrono::Utc::now() - chrono::Duration::days(10);
    let claude = env.generate_logs(
        "claude",
        &[
            "--projects",
            "1",
            "--days",
            "3",
            "--lines",
            "60",
            "--seed",
            "3",
            "--now",
            &now.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        ],
    );
    let run = env.importer("stale-box").logs(&claude).run();
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let warning = value(&run.stdout, "warning").unwrap_or_else(|| panic!("{}", run.stdout));
    assert!(warning.starts_with("the newest usage is "), "{warning}");
    assert!(warning.contains("CLAUDE_CONFIG_DIR"), "{warning}");
    assert!(!run.stdout.contains("\nActive block\n"), "{}", run.stdout);
}

#[test]
fn report_quiet_and_json_print_only_their_own() {
    let env = TestEnv::new("report_quiet");
    let claude = env.generate_logs("claude", SMALL);
    let quiet = env.importer("quiet-box").logs(&claude).arg("--quiet").run();
    assert_eq!(quiet.code, 0, "{}\n{}", quiet.stdout, quiet.stderr);
    assert!(quiet.stderr.is_empty(), "{}", quiet.stderr);
    let lines: Vec<&str> = quiet.stdout.lines().collect();
    assert_eq!(lines.len(), 1, "{}", quiet.stdout);
    assert!(lines[0].starts_with("ccusage-import: ok: machine quiet-box, "));
    assert!(
        lines[0].contains("; all machines: 1 machine, $"),
        "{}",
        lines[0]
    );
    let days = usage_days(&claude);
    assert!(
        lines[0].ends_with(&format!(" in {days} days")),
        "{}",
        lines[0]
    );

    let json = env
        .importer("json-box")
        .logs(&claude)
        .arg("--json")
        .arg("--color")
        .arg("always")
        .run();
    assert_eq!(json.code, 0, "{}\n{}", json.stdout, json.stderr);
    // The same logs as quiet-box: stderr holds that warning and nothing else.
    assert!(
        json.stderr.lines().count() == 1
            && json
                .stderr
                .contains("are also stored under machine quiet-box"),
        "{}",
        json.stderr
    );
    let value = json.json();
    assert_eq!(value["fleet"]["machines"], 2);
    assert_eq!(value["changes"]["previous_import"], "none");
    assert_eq!(value["changes"]["new_rows"]["ccusage_usage_daily"], days);
    assert_eq!(value["active_days"], days);
    assert!(
        value["active_block"]["projected_total_tokens"]
            .as_u64()
            .unwrap()
            > 0
    );
    assert!(value["models"].as_array().unwrap().len() >= 2);
    assert!(value["sessions"]["count"].as_u64().unwrap() > 0);
}

#[test]
fn report_live_view_draws_in_a_real_terminal_and_ends_cleanly() {
    let env = TestEnv::new("report_tty");
    let claude = env.generate_logs("claude", SMALL);
    // Each report waits a second before running the real ccusage, so the spinners are on
    // screen long enough to be seen however fast the machine is.
    let slow = env.path("slow-ccusage");
    std::fs::write(
        &slow,
        "#!/bin/sh\ncase \" $* \" in *\" --version \"*) ;; *) sleep 1 ;; esac\nexec ccusage \"$@\"\n",
    )
    .unwrap();
    make_executable(&slow);
    let script = env.path("run.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\ncd '{dir}'\nenv -i PATH='{path}' HOME='{dir}' TERM=\"$TERM\" \
             CLAUDE_CONFIG_DIR='{claude}' CH_URL='{url}' CH_DATABASE='{db}' \
             CCUSAGE_BIN='{slow}' '{bin}' --machine-name tty-box\n\
             echo \"exit=$?\"\nsleep 120\n",
            dir = env.dir.path().display(),
            path = std::env::var("PATH").unwrap_or_default(),
            claude = claude.display(),
            url = server_url(),
            db = env.database,
            slow = slow.display(),
            bin = BIN,
        ),
    )
    .unwrap();
    make_executable(&script);

    let tmux = Tmux {
        socket: format!("ccusage-import-it-{}", std::process::id()),
    };
    let started = tmux.cmd(&[
        "new-session",
        "-d",
        "-s",
        "live",
        "-x",
        "120",
        "-y",
        "40",
        &script.display().to_string(),
    ]);
    assert!(
        started.status.success(),
        "tmux new-session failed: {}",
        String::from_utf8_lossy(&started.stderr)
    );

    let deadline = Instant::now() + Duration::from_secs(180);
    let mut saw_spinner = false;
    let mut saw_counter = false;
    let last = loop {
        let screen = tmux.capture();
        let plain = strip_escapes(&screen);
        for line in plain.lines() {
            let line = line.trim_start();
            if line.starts_with(SPINNER) && line.contains("running") {
                saw_spinner = true;
            }
            if line.starts_with(SPINNER) && line.contains(" reports") && line.contains('/') {
                saw_counter = true;
            }
        }
        if plain.contains("exit=") {
            break screen;
        }
        assert!(
            Instant::now() < deadline,
            "the run did not end in time; screen:\n{plain}"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    let plain = strip_escapes(&last);
    assert!(plain.contains("exit=0"), "{plain}");
    assert!(saw_spinner, "no running spinner was ever on screen");
    assert!(saw_counter, "no n/N reports counter was ever on screen");

    // The live view ended: every step is a ✓ line, nothing spins, nothing is left running.
    assert!(
        !plain.contains(SPINNER),
        "a spinner was left on screen:\n{plain}"
    );
    assert!(!plain.contains("running"), "{plain}");
    assert!(!plain.contains("interrupted"), "{plain}");
    assert!(!plain.contains('✗'), "{plain}");
    let line = |start: &str| {
        plain
            .lines()
            .find(|l| l.trim_start().starts_with(start))
            .unwrap_or_else(|| panic!("no line starting {start:?} in\n{plain}"))
    };
    assert!(line("✓ ClickHouse").contains(&env.database), "{plain}");
    let counter = line("✓ ccusage");
    assert!(counter.contains("6/6 reports"), "{counter}");
    for report in [
        "daily",
        "session",
        "blocks",
        "hours",
        "projects_daily",
        "agents_daily",
    ] {
        line(&format!("✓ {report} "));
    }
    let days = usage_days(&claude);
    assert!(line("✓ ccusage_usage_daily").contains(&format!("{days} new, 0 updated, 0 unchanged")));
    assert!(plain.contains("tables written"), "{plain}");

    // Then the summary, after the live view, in colour.
    let live_end = plain.find("tables written").unwrap();
    let summary = plain
        .find("ccusage-import: machine tty-box")
        .unwrap_or_else(|| panic!("no summary in\n{plain}"));
    assert!(live_end < summary, "{plain}");
    // A blank line between the last ✓ line and the summary.
    let before: Vec<&str> = plain[..summary].lines().rev().take(2).collect();
    assert!(
        before.len() == 2 && before[0].trim().is_empty() && before[1].contains('✓'),
        "{plain}"
    );
    for section in [
        "Records",
        "Cost and tokens",
        "Top models by cost",
        "Machine",
    ] {
        assert!(plain[summary..].contains(section), "{section}: {plain}");
    }
    assert!(plain.contains("all machines: 1 machine, $"), "{plain}");
    assert!(last.contains("\x1b["), "no colour on a terminal");
    // Under the live view the summary does not repeat the reports that went well.
    assert!(!plain[summary..].contains("\nReports\n"), "{plain}");
}

/// Issue 30: under --quiet (cron's mode), logs 17 days old gave `ok`, exit 0 and no warning,
/// and a machine without ~/.claude `ok: … 0 rows written`. Each warning is now on stderr under
/// --quiet too and kept in the run's ledger row (`warnings`), where the dashboard shows it; a
/// machine with current logs warns of nothing.
#[test]
fn under_quiet_stale_or_missing_logs_warn_and_the_ledger_keeps_it() {
    let env = TestEnv::new("report_quiet_stale");
    let stored = |machine: &str| {
        env.sql(&format!(
            "SELECT warnings FROM ccusage_import_runs WHERE machine_name = '{machine}' \
             ORDER BY started_at DESC LIMIT 1 FORMAT TSVRaw"
        ))
        .trim_end()
        .to_owned()
    };

    let current = env.generate_logs("current", SMALL);
    let run = env
        .importer("fresh-box")
        .logs(&current)
        .arg("--quiet")
        .run();
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stderr.is_empty(), "{}", run.stderr);
    assert_eq!(stored("fresh-box"), "");

    // A typo in the settings file (./.env, mode 600): warned once, kept in the ledger too.
    let settings = env.path(".env");
    std::fs::write(&settings, "CH_HSOT=db\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&settings, std::fs::Permissions::from_mode(0o600)).unwrap();
    let typo = ".env line 1: CH_HSOT is not a setting of ccusage-import: did you mean CH_HOST?";
    // Logs of its own: the same logs under two names would warn of shared logs.
    let own = env.generate_logs("own", &["--days", "3", "--lines", "60", "--seed", "9"]);
    let run = env.importer("typo-box").logs(&own).arg("--quiet").run();
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(run.stderr, format!("ccusage-import: warning: {typo}\n"));
    assert_eq!(stored("typo-box"), typo);
    std::fs::remove_file(&settings).unwrap();

    // Seventeen days without usage: the last usage at noon, 17 UTC days ago, so a run just
    // after midnight still counts 17 days (from now - 17 × 24 h, the lines could fall on the
    // day before).
    let old = (chrono::Utc::now().date_naive() - chrono::Duration::days(17))
        .and_hms_opt(12, 0, 0)
        .unwrap()
        .and_utc();
    let stale = env.generate_logs(
        "stale",
        &[
            "--projects",
            "1",
            "--days",
            "3",
            "--lines",
            "60",
            "--seed",
            "3",
            "--now",
            &old.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        ],
    );
    let run = env.importer("stale-box").logs(&stale).arg("--quiet").run();
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(
        run.stderr,
        "ccusage-import: warning: the newest usage is 17 days old: stale logs, or ccusage is \
         looking in the wrong place (CLAUDE_CONFIG_DIR)\n"
    );
    assert!(
        run.stdout.starts_with("ccusage-import: ok: "),
        "{}",
        run.stdout
    );
    assert_eq!(
        stored("stale-box"),
        "the newest usage is 17 days old: stale logs, or ccusage is looking in the wrong place \
         (CLAUDE_CONFIG_DIR)"
    );

    // No ~/.claude at all (HOME is the empty test directory, no CLAUDE_CONFIG_DIR).
    let run = env.importer("bare-box").arg("--quiet").run();
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(
        run.stderr,
        "ccusage-import: warning: no usage found: is ccusage reading the right logs? \
         (CLAUDE_CONFIG_DIR)\n"
    );
    assert_eq!(
        stored("bare-box"),
        "no usage found: is ccusage reading the right logs? (CLAUDE_CONFIG_DIR)"
    );
}

#[test]
fn verbose_shows_commands_and_requests_with_timings() {
    let env = TestEnv::new("verbose");
    let (_, bin) = fixture_stand_in(&env, "20.0.24", "20.0.24");
    let run = env
        .importer("laptop")
        .ccusage(&bin)
        .env("CCUSAGE_IMPORT_VERBOSE", "1")
        .arg("--quiet")
        .run();
    assert_eq!(run.code, 0, "{}", run.stderr);
    let verbose: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.contains("verbose:"))
        .collect();
    assert!(verbose
        .iter()
        .any(|l| l.contains("run ") && l.contains("claude daily --json")));
    assert!(verbose
        .iter()
        .any(|l| l.contains("insert") && l.contains(" ms")));
    assert!(verbose.iter().any(|l| l.contains("ask the server version")));
}

#[test]
fn a_full_disk_on_stdout_exits_1_with_a_message() {
    let env = TestEnv::new("devfull");
    let (_, bin) = fixture_stand_in(&env, "20.0.24", "20.0.24");
    for args in [
        vec!["--json"],
        vec!["--color", "never"],
        vec!["query", "--list"],
    ] {
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap();
        let mut importer = env.importer("laptop").ccusage(&bin);
        for arg in &args {
            importer = importer.arg(arg);
        }
        let out = importer
            .command
            .stdout(full)
            .stderr(Stdio::piped())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert!(
            stderr.contains("ccusage-import: error: cannot write to standard output"),
            "{stderr}"
        );
    }
    // The import itself went through.
    assert!(env.sql("SELECT count() FROM ccusage_usage_daily").trim() != "0");
}

#[test]
fn ccusage_text_is_printed_with_control_characters_escaped() {
    let env = TestEnv::new("controlchars");
    let (dir, bin) = fixture_stand_in(&env, "20.0.24", "20.0.24");
    let forged = "-home-a\nccusage-import: error: forged\u{1b}[2J\u{7}";
    let session = std::fs::read_to_string(dir.join("session.json")).unwrap();
    let mut value: serde_json::Value = serde_json::from_str(&session).unwrap();
    for s in value["sessions"].as_array_mut().unwrap() {
        s["projectPath"] = forged.into();
    }
    std::fs::write(dir.join("session.json"), value.to_string()).unwrap();
    let run = env
        .importer("laptop")
        .ccusage(&bin)
        .arg("--color")
        .arg("never")
        .run();
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout
            .contains("-home-a\\nccusage-import: error: forged\\u{1b}[2J\\u{7}"),
        "{}",
        run.stdout
    );
    for output in [&run.stdout, &run.stderr] {
        assert!(!output.contains('\u{1b}') && !output.contains('\u{7}'));
        assert!(!output
            .lines()
            .any(|l| l.starts_with("ccusage-import: error: forged")));
    }
}

#[test]
fn the_stale_logs_warning_is_in_the_json_too() {
    let env = TestEnv::new("stalejson");
    let (_, bin) = fixture_stand_in(&env, "20.0.24", "20.0.24");
    let human = env
        .importer("laptop")
        .ccusage(&bin)
        .arg("--dry-run")
        .arg("--color")
        .arg("never")
        .run();
    assert_eq!(human.code, 0, "{}", human.stderr);
    let warning = human
        .stdout
        .lines()
        .find_map(|l| l.trim_start().strip_prefix("warning"))
        .unwrap_or_else(|| panic!("the fixtures are old, yet: {}", human.stdout))
        .trim()
        .to_owned();
    assert!(warning.contains("days old: stale logs"), "{warning}");
    let value = env
        .importer("laptop")
        .ccusage(&bin)
        .arg("--dry-run")
        .import_ok();
    let warnings: Vec<&str> = value["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap())
        .collect();
    assert_eq!(warnings, vec![warning.as_str()]);
}

#[test]
fn the_active_blocks_minutes_left_round_as_ccusage_rounds_them() {
    let env = TestEnv::new("minutesleft");
    let (dir, bin) = fixture_stand_in(&env, "20.0.24", "20.0.24");
    // An open block ending 240 min 40 s from now: ccusage says 241 (Math.round), not 240.
    let end = chrono::Utc::now() + chrono::Duration::seconds(240 * 60 + 40);
    let start = end - chrono::Duration::hours(5);
    let blocks = std::fs::read_to_string(dir.join("blocks.json")).unwrap();
    let mut value: serde_json::Value = serde_json::from_str(&blocks).unwrap();
    let list = value["blocks"].as_array_mut().unwrap();
    let active = list
        .iter_mut()
        .find(|b| b["isActive"] == true)
        .expect("the fixture has an active block");
    let at = |t: chrono::DateTime<chrono::Utc>| t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string();
    active["startTime"] = at(start).into();
    active["endTime"] = at(end).into();
    active["actualEndTime"] = at(chrono::Utc::now()).into();
    std::fs::write(dir.join("blocks.json"), value.to_string()).unwrap();
    let value = env
        .importer("laptop")
        .ccusage(&bin)
        .arg("--dry-run")
        .import_ok();
    assert_eq!(
        value["active_block"]["minutes_left"], 241,
        "{}",
        value["active_block"]
    );
}

#[test]
fn query_current_block_without_an_open_block_says_there_is_none() {
    let env = TestEnv::new("noblock");
    let (_, bin) = fixture_stand_in(&env, "20.0.24", "20.0.24");
    // The fixtures' block ended long ago.
    env.importer("laptop").ccusage(&bin).import_ok();
    let run = env
        .importer("laptop")
        .arg("query")
        .arg("current_block")
        .run();
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("there is no open block for machine \"laptop\""),
        "{}",
        run.stderr
    );
    assert!(
        !run.stderr.contains("no rows for machine"),
        "{}",
        run.stderr
    );
}

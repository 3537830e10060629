//! Project names people can read, always (issue 28, item 8): read from the `cwd` Claude Code
//! writes on each transcript line, not from whether the directory exists on this disk; rows
//! stored under ccusage's text before a name was known are stored again under the name.

use std::path::{Path, PathBuf};

use crate::harness::*;
use crate::projects::sums;

/// Directories that exist on no disk here: a deleted worktree of another Linux user, a macOS
/// home, root's; with dashes and dots.
const CWDS: [&str; 3] = [
    "/home/ghost/projects/spotter/worktrees/w0",
    "/Users/alice/work/acme-payments.v2",
    "/root/work/api-server",
];
/// Their names, sorted: relative to the home each lies in, on whatever machine.
const NAMES: [&str; 3] = [
    "projects/spotter/worktrees/w0",
    "work/acme-payments.v2",
    "work/api-server",
];

fn logs(env: &TestEnv) -> PathBuf {
    let mut args = vec![
        "--days",
        "8",
        "--lines",
        "400",
        "--seed",
        "28",
        "--touch-old",
    ];
    for cwd in CWDS {
        assert!(!Path::new(cwd).exists(), "{cwd} must not exist here");
        args.extend(["--project-cwd", cwd]);
    }
    env.generate_logs("claude", &args)
}

fn transcripts(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(transcripts(&path));
        } else if path.extension().is_some_and(|e| e == "jsonl") {
            files.push(path);
        }
    }
    files.sort();
    files
}

/// A copy of `claude` whose lines carry no `cwd` (logs of a Claude Code that wrote none, or
/// a harness that left it out): only the disk could name them, and it cannot.
fn without_cwd(claude: &Path, to: &Path) {
    for file in transcripts(claude) {
        let target = to.join(file.strip_prefix(claude).unwrap());
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        let text = std::fs::read_to_string(&file).unwrap();
        let mut out = String::new();
        for line in text.lines() {
            let mut value: serde_json::Value = serde_json::from_str(line).unwrap();
            if let Some(object) = value.as_object_mut() {
                object.remove("cwd");
            }
            out.push_str(&value.to_string());
            out.push('\n');
        }
        std::fs::write(target, out).unwrap();
    }
}

fn names(env: &TestEnv, from: &str) -> Vec<String> {
    let mut names: Vec<String> = env
        .sql(&format!(
            "SELECT DISTINCT project_name FROM {from} FORMAT TSV"
        ))
        .lines()
        .map(str::to_owned)
        .collect();
    names.sort();
    names
}

#[test]
fn names_come_from_the_logged_cwd_and_rows_stored_under_the_raw_name_are_renamed() {
    sequence("names_cwd", None);
}

/// The same with ccusage 18, whose sessions name their project in another way.
#[test]
fn ccusage_18_rows_stored_under_the_raw_name_are_renamed_too() {
    sequence("names_cwd18", Some(crate::sequences::ccusage18()));
}

/// Import without cwd and directories (raw names), delete the older transcripts, import
/// with cwd (every row renamed, totals unchanged), then again (nothing written) and without
/// cwd again (the stored names stay).
fn sequence(name: &str, ccusage: Option<PathBuf>) {
    let env = TestEnv::new(name);
    let home = env.path("dev");
    std::fs::create_dir_all(&home).unwrap();
    let claude = logs(&env);
    let bare = env.path("claude-without-cwd");
    without_cwd(&claude, &bare);
    let run = |logs: &Path| {
        let importer = env.importer("laptop").env("HOME", &home).logs(logs);
        match &ccusage {
            Some(bin) => importer.ccusage(bin),
            None => importer,
        }
        .import_ok()
    };

    // 1. No cwd and no directory: ccusage's text, as before.
    run(&bare);
    let raw = names(&env, "ccusage_v_project_daily");
    assert!(raw.iter().all(|n| n.starts_with('-')), "{raw:?}");
    assert_eq!(raw.len(), 3);
    let project_totals = sums(&env, "ccusage_v_project_daily", "project");
    let session_totals = sums(
        &env,
        "ccusage_v_session_summary",
        "(project_path, session_id)",
    );

    // 2. Claude Code deletes the older transcripts (the rows of those days are only stored
    //    now), and the logs that remain carry their cwd: every row takes the readable name,
    //    the deleted days' rows too, and nothing is counted twice.
    let mut files = transcripts(&claude);
    files.sort_by_key(|f| std::fs::metadata(f).unwrap().modified().unwrap());
    for file in &files[..files.len() / 3] {
        std::fs::remove_file(file).unwrap();
    }
    let second = run(&claude);
    let want = NAMES.to_vec();
    for from in [
        "ccusage_v_project_daily",
        "ccusage_v_session_summary",
        "ccusage_usage_session_days FINAL WHERE superseded = 0",
        "ccusage_usage_projects_daily FINAL WHERE superseded = 0",
    ] {
        // ccusage 15-18 have no one-day session reports: no session days.
        if ccusage.is_some() && from.contains("session_days") {
            assert_eq!(names(&env, from), Vec::<String>::new());
            continue;
        }
        assert_eq!(names(&env, from), want, "{from}");
    }
    assert_eq!(
        sums(&env, "ccusage_v_project_daily", "project"),
        project_totals
    );
    assert_eq!(
        sums(
            &env,
            "ccusage_v_session_summary",
            "(project_path, session_id)"
        ),
        session_totals
    );
    // One row per project where a query groups by name.
    let top = env
        .importer("laptop")
        .args(["query", "top_projects", "--format", "json"])
        .run();
    assert_eq!(top.code, 0, "{}", top.stderr);
    let rows: serde_json::Value = serde_json::from_str(&top.stdout).unwrap();
    let mut shown: Vec<&str> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["project"].as_str().unwrap())
        .collect();
    shown.sort();
    assert_eq!(shown, want, "{rows}");
    assert!(
        second["tables"]["ccusage_usage_projects_daily"]
            .as_u64()
            .unwrap()
            > 0,
        "{second}"
    );

    // 3. Once named, a run renames nothing more, and a run whose logs lost their cwd again
    //    keeps the names stored (never ccusage's text again).
    let third = run(&claude);
    for table in [
        "ccusage_usage_projects_daily",
        "ccusage_usage_sessions",
        "ccusage_usage_session_days",
    ] {
        // Absent: a table this ccusage has no report for.
        assert_eq!(
            third["tables"][table].as_u64().unwrap_or(0),
            0,
            "{table}: {third}"
        );
    }
    let bare_again = env.path("claude-without-cwd-again");
    without_cwd(&claude, &bare_again);
    let fourth = run(&bare_again);
    assert_eq!(
        fourth["tables"]["ccusage_usage_projects_daily"], 0,
        "{fourth}"
    );
    assert_eq!(names(&env, "ccusage_v_project_daily"), want);
    let summary: Vec<&str> = fourth["projects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["project_name"].as_str().unwrap())
        .collect();
    assert!(summary.iter().all(|n| want.contains(n)), "{summary:?}");
}

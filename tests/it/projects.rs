//! Projects people can read and can hide (issue 18): readable names, `--projects plain|hash|
//! hidden`, a changed mode refused or re-keyed without double counting, nothing of a real path
//! leaving the machine, and the same logs imported by two machines found.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::harness::*;

/// Logs of two projects under `home`, whose directories exist there (so they can be read).
pub fn logs_under(env: &TestEnv, home: &Path, dirs: &[&str], seed: &str) -> PathBuf {
    let mut args: Vec<String> = ["--days", "6", "--lines", "300", "--seed", seed]
        .map(String::from)
        .to_vec();
    for dir in dirs {
        let path = home.join(dir);
        std::fs::create_dir_all(&path).unwrap();
        args.push("--project-cwd".into());
        args.push(path.to_str().unwrap().to_owned());
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    env.generate_logs("claude", &args)
}

fn column(env: &TestEnv, sql: &str) -> Vec<String> {
    let mut values: Vec<String> = env
        .sql(&format!("{sql} FORMAT TSV"))
        .lines()
        .map(str::to_owned)
        .collect();
    values.sort();
    values
}

/// Tokens and cost of a view, and how many keys it holds: `(tokens, cost, keys)`.
pub fn sums(env: &TestEnv, view: &str, keys: &str) -> (u64, f64, u64) {
    let cost = if view.contains("project") {
        "sum(cost_usd)"
    } else {
        "toFloat64(sum(total_cost))"
    };
    let line = env.sql(&format!(
        "SELECT sum(total_tokens), {cost}, uniqExact({keys}) FROM {view} FORMAT TSV"
    ));
    let f: Vec<&str> = line.trim().split('\t').collect();
    (
        f[0].parse().unwrap(),
        f[1].parse().unwrap(),
        f[2].parse().unwrap(),
    )
}

/// ccusage's own session and per-project totals: `(tokens, cost, sessions)`,
/// `(tokens, cost, projects)`.
pub fn ccusage_sums(claude: &Path) -> ((u64, f64, u64), (u64, f64, u64)) {
    let sessions = ccusage(claude, &["claude", "session"]);
    let total = |v: &Value| {
        (
            v["totalTokens"].as_u64().unwrap(),
            v["totalCost"].as_f64().unwrap(),
        )
    };
    let (st, sc) = total(&sessions["totals"]);
    let count = sessions["sessions"].as_array().unwrap().len() as u64;
    let instances = ccusage(claude, &["claude", "daily", "--instances"]);
    let projects = instances["projects"].as_object().unwrap();
    let (mut pt, mut pc) = (0, 0.0);
    for rows in projects.values() {
        for row in rows.as_array().unwrap() {
            let (t, c) = total(row);
            pt += t;
            pc += c;
        }
    }
    ((st, sc, count), (pt, pc, projects.len() as u64))
}

fn assert_totals(env: &TestEnv, claude: &Path, step: &str) {
    let (sessions, projects) = ccusage_sums(claude);
    let got_s = sums(
        env,
        "ccusage_v_session_summary",
        "(project_path, session_id)",
    );
    let got_p = sums(env, "ccusage_v_project_daily", "project");
    assert_eq!(
        (got_s.0, got_s.2),
        (sessions.0, sessions.2),
        "{step}: sessions"
    );
    assert!((got_s.1 - sessions.1).abs() < 1e-6, "{step}: session cost");
    // Each project once: as many keys as ccusage has projects, and its totals exactly.
    assert_eq!(
        (got_p.0, got_p.2),
        (projects.0, projects.2),
        "{step}: projects"
    );
    assert!((got_p.1 - projects.1).abs() < 1e-6, "{step}: project cost");
}

#[test]
fn project_names_are_read_relative_to_home_and_shown_everywhere() {
    let env = TestEnv::new("names");
    let home = env.path("dev");
    let claude = logs_under(&env, &home, &["work/my-app.v2", ".config/tool-x"], "4");
    let summary = env
        .importer("laptop")
        .env("HOME", &home)
        .logs(&claude)
        .import_ok();
    let want = [".config/tool-x", "work/my-app.v2"];
    let names = column(
        &env,
        "SELECT DISTINCT project_name FROM ccusage_usage_projects_daily",
    );
    assert_eq!(names, want);
    let names = column(
        &env,
        "SELECT DISTINCT project_name FROM ccusage_v_session_summary",
    );
    assert_eq!(names, want);
    // The key stays ccusage's own text.
    let keys = column(
        &env,
        "SELECT DISTINCT project FROM ccusage_usage_projects_daily",
    );
    assert!(
        keys.iter()
            .all(|k| k.starts_with('-') && k.ends_with("-my-app-v2")
                || k.ends_with("--config-tool-x")),
        "{keys:?}"
    );
    let shown: Vec<&str> = summary["projects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["project_name"].as_str().unwrap())
        .collect();
    assert!(shown.iter().all(|n| want.contains(n)), "{shown:?}");
    for query in ["top_projects", "sessions_by_project", "fleet_projects"] {
        let run = env
            .importer("laptop")
            .args(["query", query, "--format", "json"])
            .run();
        assert_eq!(run.code, 0, "{}", run.stderr);
        let rows: Value = serde_json::from_str(&run.stdout).unwrap();
        for row in rows.as_array().unwrap() {
            assert!(
                want.contains(&row["project"].as_str().unwrap()),
                "{query}: {row}"
            );
        }
    }
    // The human summary names them too.
    let text = env
        .importer("laptop")
        .env("HOME", &home)
        .logs(&claude)
        .args(["--color", "never"])
        .run();
    assert!(text.stdout.contains("work/my-app.v2"), "{}", text.stdout);
}

#[test]
fn a_changed_mode_is_refused_and_rekeying_plain_hash_plain_never_counts_twice() {
    let env = TestEnv::new("rekey");
    let home = env.path("dev");
    let claude = logs_under(&env, &home, &["proj-a", "work/proj-b"], "6");
    let key = env.path("project.key");
    let run = |mode: &str, rekey: bool| {
        let mut importer = env
            .importer("laptop")
            .env("HOME", &home)
            .env("CCUSAGE_IMPORT_PROJECT_KEY_FILE", &key)
            .logs(&claude)
            .args(["--projects", mode, "--json"]);
        if rekey {
            importer = importer.arg("--rekey-projects");
        }
        importer.run()
    };
    assert_eq!(run("plain", false).code, 0);
    assert_totals(&env, &claude, "plain");
    let plain_keys = column(&env, "SELECT DISTINCT project FROM ccusage_v_project_daily");

    // Another mode without --rekey-projects: refused, exit 2, nothing written.
    let before = snapshot(&env);
    let refused = run("hash", false);
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert!(
        refused.stderr.contains(
            "ccusage-import: error: machine laptop stored its projects with --projects plain"
        ) && refused.stderr.contains("count them twice")
            && refused.stderr.contains("--rekey-projects"),
        "{}",
        refused.stderr
    );
    assert_eq!(snapshot(&env), before);

    let hashed = run("hash", true);
    assert_eq!(hashed.code, 0, "{}", hashed.stderr);
    assert_totals(&env, &claude, "plain -> hash");
    let keys = column(&env, "SELECT DISTINCT project FROM ccusage_v_project_daily");
    assert!(
        keys.iter()
            .all(|k| k.len() == 16 && k.chars().all(|c| c.is_ascii_hexdigit())),
        "{keys:?}"
    );
    let mode = env.sql("SELECT project_mode FROM ccusage_machines FINAL FORMAT TSV");
    assert_eq!(mode.trim(), "hash");
    // The mode stays: a second hash run changes nothing and is not refused.
    let again = run("hash", false);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert_eq!(again.json()["tables"]["ccusage_usage_projects_daily"], 0);
    assert_totals(&env, &claude, "hash again");

    let back = run("plain", true);
    assert_eq!(back.code, 0, "{}", back.stderr);
    assert_totals(&env, &claude, "hash -> plain");
    let keys = column(&env, "SELECT DISTINCT project FROM ccusage_v_project_daily");
    assert_eq!(keys, plain_keys);
    let names = column(
        &env,
        "SELECT DISTINCT project_name FROM ccusage_v_project_daily",
    );
    assert_eq!(names, ["proj-a", "work/proj-b"]);
    // Superseded rows are stored, not deleted.
    let superseded = env.sql(
        "SELECT count() FROM ccusage_usage_projects_daily FINAL WHERE superseded = 1 FORMAT TSV",
    );
    assert!(superseded.trim().parse::<u64>().unwrap() > 0);
}

#[test]
fn ccusage_18_project_sessions_keep_their_sums_in_hash_and_hidden() {
    let bin = Path::new(ROOT).join("target/ccusage-18/node_modules/.bin/ccusage");
    let bin = std::env::var_os("CCUSAGE18_BIN").map_or(bin, PathBuf::from);
    let env = TestEnv::new("rekey18");
    let home = env.path("dev");
    let claude = logs_under(&env, &home, &["proj-a", "work/proj-b"], "5");
    let key = env.path("project.key");
    let run = |mode: &str, rekey: bool| {
        let mut importer = env
            .importer("old")
            .env("HOME", &home)
            .env("CCUSAGE_IMPORT_PROJECT_KEY_FILE", &key)
            .logs(&claude)
            .arg("--ccusage-bin")
            .arg(&bin)
            .args(["--projects", mode]);
        if rekey {
            importer = importer.arg("--rekey-projects");
        }
        importer.import_ok()
    };
    run("plain", false);
    let sessions = |env: &TestEnv| {
        sums(
            env,
            "ccusage_v_session_summary",
            "(project_path, session_id)",
        )
    };
    let projects = |env: &TestEnv| sums(env, "ccusage_v_project_daily", "project");
    let (plain_s, plain_p) = (sessions(&env), projects(&env));
    let whole = column(
        &env,
        "SELECT project_name FROM ccusage_v_session_summary WHERE project_path = 'Unknown Project'",
    );
    assert_eq!(whole, ["proj-a", "work/proj-b"]);
    for (mode, projects_left) in [("hash", 2), ("hidden", 1)] {
        run(mode, true);
        let (s, p) = (sessions(&env), projects(&env));
        assert_eq!(s.0, plain_s.0, "{mode}: session tokens");
        assert!((s.1 - plain_s.1).abs() < 1e-6, "{mode}: session cost");
        assert_eq!(p.0, plain_p.0, "{mode}: project tokens");
        assert!((p.1 - plain_p.1).abs() < 1e-6, "{mode}: project cost");
        assert_eq!(p.2, projects_left, "{mode}: projects");
        // An import in the mode itself changes none of it.
        run(mode, false);
        assert_eq!(sessions(&env).0, plain_s.0, "{mode}: again");
    }
    // Hidden rows cannot be told apart again: re-keying out of hidden is refused.
    let out = env
        .importer("old")
        .env("HOME", &home)
        .env("CCUSAGE_IMPORT_PROJECT_KEY_FILE", &key)
        .logs(&claude)
        .arg("--ccusage-bin")
        .arg(&bin)
        .args(["--projects", "plain", "--rekey-projects"])
        .run();
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr.contains("cannot be told apart by project again"),
        "{}",
        out.stderr
    );
}

#[test]
fn hash_then_hidden_leaves_no_part_of_a_real_path_in_any_column_or_output() {
    let env = TestEnv::new("leak");
    let home = env.path("qxuserlk");
    let claude = logs_under(&env, &home, &["qxacmeclient/qxpay-svc", "qxpriv.repo"], "7");
    let key = env.path("project.key");
    let tmp_name = env
        .dir
        .path()
        .file_name()
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    let parts = [
        "qxuserlk",
        "qxacmeclient",
        "qxpay",
        "svc",
        "qxpriv",
        tmp_name.as_str(),
    ];
    let mut outputs = String::new();
    for (mode, rekey) in [("hash", false), ("hidden", true)] {
        let mut importer = env
            .importer("laptop")
            .env("HOME", &home)
            .env("CCUSAGE_IMPORT_PROJECT_KEY_FILE", &key)
            .logs(&claude)
            .args(["--projects", mode, "--json", "--verbose"]);
        if rekey {
            importer = importer.arg("--rekey-projects");
        }
        let run = importer.run();
        assert_eq!(run.code, 0, "{}", run.stderr);
        outputs.push_str(&run.stdout);
        outputs.push_str(&run.stderr);
    }
    // A failing report's error text too.
    // The stand-in lives under the home, as a user's own tools do: its path shows as ~.
    let stand_in = env.stand_in(&home.join("bad"), "20.0.24");
    std::fs::write(
        home.join("bad/session.json"),
        format!(r#"{{"sessions":[{{"sessionId":"qxpriv","projectPath":"-{tmp_name}-qxuserlk","lastActivity":"x"}}]}}"#),
    )
    .unwrap();
    let failed = env
        .importer("other")
        .env("HOME", &home)
        .env("CCUSAGE_IMPORT_PROJECT_KEY_FILE", &key)
        .arg("--ccusage-bin")
        .arg(&stand_in)
        .args(["--projects", "hash", "--verbose"])
        .run();
    assert_eq!(failed.code, 4, "{}", failed.stderr);
    outputs.push_str(&failed.stdout);
    outputs.push_str(&failed.stderr);
    for part in parts {
        assert!(
            !outputs.contains(part),
            "{part:?} in the output:\n{outputs}"
        );
    }
    assert!(
        outputs.contains("\"sessions\""),
        "the outputs were captured"
    );

    let columns = env.sql(&format!(
        "SELECT c.table, c.name, c.type FROM system.columns AS c \
         WHERE c.database = '{}' AND (c.type = 'String' OR c.type = 'Array(String)') FORMAT TSV",
        env.database
    ));
    let tables: Vec<(String, String, String)> = columns
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            (f[0].to_owned(), f[1].to_owned(), f[2].to_owned())
        })
        .collect();
    assert!(
        tables.iter().any(|(t, ..)| t == "ccusage_import_runs"),
        "the ledger is searched"
    );
    assert!(tables.iter().any(|(_, c, _)| c == "project_name"));
    for (table, column, kind) in &tables {
        for part in parts {
            let test = if kind == "String" {
                format!("position({column}, '{part}') > 0")
            } else {
                format!("arrayExists(x -> position(x, '{part}') > 0, {column})")
            };
            let hits = env.sql(&format!(
                "SELECT count() FROM {table} WHERE {test} FORMAT TSV"
            ));
            assert_eq!(hits.trim(), "0", "{part:?} stored in {table}.{column}");
        }
    }
    let rows = env.sql("SELECT count() FROM ccusage_usage_sessions FORMAT TSV");
    assert!(rows.trim().parse::<u64>().unwrap() > 0);
}

#[test]
fn two_machines_importing_the_same_logs_are_found_and_warned_about() {
    let env = TestEnv::new("shared");
    let claude = env.generate_logs("claude", SMALL);
    env.importer("laptop").logs(&claude).import_ok();
    let second = env.importer("desktop").logs(&claude).arg("--json").run();
    assert_eq!(second.code, 0, "{}", second.stderr);
    let sessions = ccusage(&claude, &["claude", "session"]);
    let count = sessions["sessions"].as_array().unwrap().len();
    let warning = format!("{count} of this machine's sessions");
    assert!(
        second
            .stderr
            .contains(&format!("ccusage-import: warning: {warning}"))
            && second.stderr.contains("also stored under machine laptop"),
        "{}",
        second.stderr
    );
    assert!(second.json()["warnings"].to_string().contains(&warning));
    let run = env
        .importer("laptop")
        .args(["query", "fleet_shared_sessions", "--format", "json"])
        .run();
    assert_eq!(run.code, 0, "{}", run.stderr);
    let rows: Value = serde_json::from_str(&run.stdout).unwrap();
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), count);
    let num = |v: &Value| match v {
        Value::Number(n) => n.as_f64().unwrap(),
        Value::String(s) => s.parse().unwrap(),
        other => panic!("{other}"),
    };
    let twice: f64 = rows.iter().map(|r| num(&r["counted_twice"])).sum();
    let cost = sessions["totals"]["totalCost"].as_f64().unwrap();
    assert!(
        (twice - cost).abs() < 0.01 * rows.len() as f64,
        "{twice} vs {cost}"
    );
    assert!(rows.iter().all(|r| num(&r["machines"]) == 2.0));
    // A machine with its own logs is not warned about.
    let own = env.generate_logs("own", &["--days", "3", "--lines", "100", "--seed", "11"]);
    let third = env.importer("tablet").logs(&own).arg("--json").run();
    assert_eq!(third.code, 0);
    assert!(
        !third.stderr.contains("also stored under"),
        "{}",
        third.stderr
    );
}

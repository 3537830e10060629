//! `ccusage-import config` (issue 15): every setting as a run resolves it and where it came
//! from, the password never shown; and a settings file that sets a name twice, where the first
//! one counts, for `config` and for the import alike (scripts ask `config`, so they agree).

use serde_json::Value;

use crate::harness::*;

/// The test server's host and port, as a .env would name them.
fn host_and_port() -> (String, String) {
    let rest = server_url().split_once("://").unwrap().1;
    let (host, port) = rest.trim_end_matches('/').rsplit_once(':').unwrap();
    (host.to_owned(), port.to_owned())
}

/// A .env in the test's directory (the importer's cwd, so it is read by default) that sets
/// CH_PORT twice: `first`, then `second`. It is readable by its owner only, so no warning.
fn write_env(env: &TestEnv, first: &str, second: &str) {
    use std::os::unix::fs::PermissionsExt;
    let (host, _) = host_and_port();
    let path = env.path(".env");
    std::fs::write(
        &path,
        format!(
            "# CH_PORT twice: the importer keeps the first\n\
             CH_HOST={host}\n\
             CH_PORT={first}\n\
             export CH_PORT={second}\n\
             CH_USER=ccusage_writer\n\
             CH_PASSWORD=\"writer-secret-pw\"\n\
             CH_TIMEOUT=7\n\
             MACHINE_NAME=file-box\n\
             CLAUDE_CONFIG_DIR=/logs/from/the/file\n"
        ),
    )
    .unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
}

/// The importer without the harness's CH_URL, so the URL is built from the file's host and
/// port; the environment sets CH_TIMEOUT (beating the file) and the harness's
/// --machine-name flag beats the file's MACHINE_NAME.
fn importer(env: &TestEnv, machine: &str) -> Importer {
    let mut importer = env.importer(machine).env("CH_TIMEOUT", "9");
    importer.command.env_remove("CH_URL");
    importer
}

fn setting<'a>(all: &'a Value, name: &str) -> (&'a Value, &'a str) {
    let entry = &all[name];
    (
        &entry["value"],
        entry["source"].as_str().unwrap_or("missing"),
    )
}

#[test]
fn config_shows_each_setting_and_where_it_came_from_but_never_the_password() {
    let env = TestEnv::new("config_sources");
    let (host, port) = host_and_port();
    write_env(&env, &port, "1");

    let run = importer(&env, "flag-box").arg("config").arg("--json").run();
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stderr.is_empty(), "{}", run.stderr);
    let all = run.json();
    let url = format!("http://{host}:{port}");
    let expected = [
        ("CCUSAGE_IMPORT_ENV_FILE", Value::from(".env"), "default"),
        ("MACHINE_NAME", Value::from("flag-box"), "flag"),
        ("CH_URL", Value::from(url.as_str()), "default"),
        ("CH_HOST", Value::from(host.as_str()), "file"),
        // Set twice in the file: the first counts.
        ("CH_PORT", Value::from(port.as_str()), "file"),
        ("CH_SECURE", Value::from("false"), "default"),
        ("CH_USER", Value::from("ccusage_writer"), "file"),
        ("CH_PASSWORD", Value::from("***"), "file"),
        (
            "CH_DATABASE",
            Value::from(env.database.as_str()),
            "environment",
        ),
        ("CH_TIMEOUT", Value::from("9"), "environment"),
        ("CH_MAX_RETRIES", Value::from("3"), "default"),
        ("CCUSAGE_BIN", Value::Null, "default"),
        ("CCUSAGE_JOBS", Value::Null, "default"),
        // Passed on to ccusage, which reads it.
        (
            "CLAUDE_CONFIG_DIR",
            Value::from("/logs/from/the/file"),
            "file",
        ),
    ];
    for (name, value, source) in expected {
        assert_eq!(setting(&all, name), (&value, source), "{name}: {all}");
    }

    // The table, one value, one source: the same answers, and the password nowhere.
    let table = importer(&env, "flag-box").arg("config").run();
    assert_eq!(table.code, 0, "{}", table.stderr);
    let port_line = table
        .stdout
        .lines()
        .find(|l| l.trim_start().starts_with("CH_PORT "))
        .unwrap_or_else(|| panic!("{}", table.stdout));
    assert!(
        port_line.contains(&format!(" {port} ")) && port_line.ends_with("file .env"),
        "{port_line}"
    );
    let get = |args: &[&str]| {
        let run = args
            .iter()
            .fold(importer(&env, "flag-box").arg("config"), |i, a| i.arg(a))
            .run();
        assert_eq!(run.code, 0, "{args:?}: {}", run.stderr);
        run
    };
    assert_eq!(get(&["--get", "CH_PORT"]).stdout, format!("{port}\n"));
    assert_eq!(get(&["--get", "ch_password"]).stdout, "***\n");
    assert_eq!(get(&["--get", "CCUSAGE_BIN"]).stdout, "\n");
    assert_eq!(get(&["--source", "CH_TIMEOUT"]).stdout, "environment\n");
    assert_eq!(
        get(&["--ch-port", "5", "--source", "CH_PORT"]).stdout,
        "flag\n"
    );
    for out in [&run.stdout, &table.stdout, &table.stderr] {
        assert!(!out.contains("writer-secret-pw"), "{out}");
    }

    let unknown = importer(&env, "flag-box")
        .arg("config")
        .arg("--get")
        .arg("CH_PORTS")
        .run();
    assert_eq!(unknown.code, 2, "{}", unknown.stdout);
    assert!(
        unknown
            .stderr
            .starts_with("ccusage-import: error: there is no setting named \"CH_PORTS\"")
            && unknown.stderr.lines().count() == 1,
        "{}",
        unknown.stderr
    );
}

/// The drift case of issue 15: install.sh used to take the last of a name set twice while the
/// binary takes the first. Each order is tried; the import goes where `config` says.
#[test]
fn a_name_the_settings_file_sets_twice_counts_the_first_time() {
    let env = TestEnv::new("config_twice");
    let claude = env.generate_logs("claude", SMALL);
    let (_, port) = host_and_port();

    write_env(&env, &port, "1");
    let said = importer(&env, "twice-box")
        .arg("config")
        .arg("--get")
        .arg("CH_PORT")
        .run();
    assert_eq!(said.stdout.trim(), port);
    let run = importer(&env, "twice-box")
        .logs(&claude)
        .arg("--quiet")
        .run();
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(
        env.sql("SELECT count() FROM ccusage_import_runs WHERE machine_name = 'twice-box'")
            .trim(),
        "1"
    );

    write_env(&env, "1", &port);
    let said = importer(&env, "twice-box")
        .arg("config")
        .arg("--get")
        .arg("CH_PORT")
        .run();
    assert_eq!(said.stdout.trim(), "1");
    let run = importer(&env, "twice-box")
        .logs(&claude)
        .arg("--quiet")
        .arg("--max-retries")
        .arg("0")
        .run();
    assert_eq!(run.code, 3, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stderr.contains(":1"), "{}", run.stderr);
}

/// scripts/install.sh starts a local ClickHouse only when the database is on this machine. It
/// used to read .env itself and took the last of a CH_HOST set twice, while the import took the
/// first; now it asks the binary, so both go to the first. Run in a copy of the project with
/// stand-ins for the dependency installer, cargo and the server script.
#[test]
fn install_sh_asks_the_binary_where_clickhouse_is() {
    let env = TestEnv::new("config_install");
    let (_, port) = host_and_port();
    let root = env.path("clone");
    for dir in ["scripts", "target/release", "bin"] {
        std::fs::create_dir_all(root.join(dir)).unwrap();
    }
    std::fs::copy(
        std::path::Path::new(ROOT).join("scripts/install.sh"),
        root.join("scripts/install.sh"),
    )
    .unwrap();
    let calls = env.path("calls.log");
    for (stub, body) in [
        (
            "scripts/ensure-deps.sh",
            "echo \"ensure-deps $*\" >>\"$CALLS\"",
        ),
        (
            "scripts/clickhouse-server.sh",
            "echo \"clickhouse-server $*\" >>\"$CALLS\"; exit 1",
        ),
        ("bin/cargo", "exit 0"),
    ] {
        let path = root.join(stub);
        std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
        make_executable(&path);
    }
    std::os::unix::fs::symlink(BIN, root.join("target/release/ccusage-import")).unwrap();

    let install = |hosts: [&str; 2], port: &str, flags: &[&str]| {
        std::fs::write(
            root.join(".env"),
            format!(
                "CH_HOST={}\nCH_HOST={}\nCH_PORT={port}\nCH_DATABASE={}\n",
                hosts[0], hosts[1], env.database
            ),
        )
        .unwrap();
        let _ = std::fs::remove_file(&calls);
        let path = format!(
            "{}:{}",
            root.join("bin").display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let out = std::process::Command::new("bash")
            .arg(root.join("scripts/install.sh"))
            .args(flags)
            .args(["--verify", "--max-retries", "0", "--ch-timeout", "5"])
            .env_clear()
            .env("PATH", path)
            .env("HOME", env.dir.path())
            .env("CALLS", &calls)
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        let calls = std::fs::read_to_string(&calls).unwrap_or_default();
        (
            out.status.code(),
            format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
            calls,
        )
    };

    // The first CH_HOST is elsewhere: nothing local is installed or started, and the import
    // (here --verify) goes there too and cannot reach it (exit 3, passed through).
    let (code, stdout, calls) = install(["db.invalid", "127.0.0.1"], &port, &[]);
    assert!(
        stdout.contains(&format!("using the ClickHouse at http://db.invalid:{port}")),
        "{stdout}"
    );
    assert_eq!(calls, "ensure-deps --no-clickhouse\n", "{stdout}");
    assert_eq!(code, Some(3), "{stdout}");

    // The first CH_HOST is this machine, where the test server answers: it is used as it is.
    let (_, stdout, calls) = install(["127.0.0.1", "db.invalid"], &port, &[]);
    assert!(
        stdout.contains(&format!(
            "a server already answers on 127.0.0.1:{port}: using it"
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("ok   connect to http://127.0.0.1:{port}")),
        "{stdout}"
    );
    assert_eq!(calls, "ensure-deps --no-clickhouse\n", "{stdout}");

    // This machine, where nothing answers (a second machine whose .env still says localhost):
    // no private server unless asked; the message says how to join the fleet instead.
    let free = free_port().to_string();
    let (code, out, calls) = install(["127.0.0.1", "db.invalid"], &free, &[]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("ccusage-import init"), "{out}");
    assert!(out.contains("--local-clickhouse"), "{out}");
    assert_eq!(calls, "ensure-deps --no-clickhouse\n", "{out}");
    // Asked for: the packages and the server (whose stand-in fails here).
    let (code, out, calls) = install(["127.0.0.1", "db.invalid"], &free, &["--local-clickhouse"]);
    assert_eq!(code, Some(1), "{out}");
    assert!(
        calls.contains(&format!("clickhouse-server start --http-port {free}")),
        "{calls}"
    );
}

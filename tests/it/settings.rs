//! Settings: `ccusage-import config` (issue 15), every setting as a run resolves it and where it
//! came from, the password never shown; a settings file that sets a name twice, where the first
//! one counts, for `config` and for the import alike (scripts ask `config`, so they agree); the
//! settings file itself (found from any directory, its mode, lines that do not parse, unknown
//! names, control characters, a `$`, a FIFO, a device or a huge file); values that are wrong
//! (an empty port, a host with a scheme, ClickHouse's own databases) and machine names that
//! look like another name or like nothing.

use std::path::Path;
use std::time::{Duration, Instant};

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
    // Unset, the zone is UTC, as docs/configuration.md says (not a bare "default").
    let zone_line = table
        .stdout
        .lines()
        .find(|l| l.trim_start().starts_with("CCUSAGE_IMPORT_TIMEZONE "))
        .unwrap_or_else(|| panic!("{}", table.stdout));
    assert!(zone_line.ends_with("default: UTC"), "{zone_line}");
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

/// Writes `text` to `path` (its directory created), readable by its owner only.
fn write_private(path: &std::path::Path, text: &[u8]) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
}

/// Issue 30: the binary read ./.env only while the cron job read
/// ~/.config/ccusage-import/.env, so `query` and `config` run from `~` saw another database
/// than cron wrote. Every command now finds the same file: --env-file, then
/// CCUSAGE_IMPORT_ENV_FILE, then ./.env, then $XDG_CONFIG_HOME/ccusage-import/.env
/// (~/.config/… without XDG_CONFIG_HOME), from any directory.
#[test]
fn config_finds_the_user_settings_file_from_any_directory() {
    let env = TestEnv::new("config_xdg");
    let claude = env.generate_logs("claude", SMALL);
    let user_file = env.path(".config/ccusage-import/.env");
    write_private(
        &user_file,
        format!(
            "CH_DATABASE={}\nMACHINE_NAME=xdg-box\nCLAUDE_CONFIG_DIR={}\n",
            env.database,
            claude.display()
        )
        .as_bytes(),
    );
    let elsewhere = env.path("some/where");
    std::fs::create_dir_all(&elsewhere).unwrap();
    // Without the harness's CH_DATABASE and --machine-name, which would beat the file.
    let importer = |cwd: &std::path::Path| {
        let mut command = std::process::Command::new(BIN);
        command
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", env.dir.path())
            .env("CH_URL", server_url())
            .current_dir(cwd);
        Importer { command }
    };
    let get = |importer: Importer, name: &str| {
        let run = importer.args(["config", "--get", name]).run();
        assert_eq!(run.code, 0, "{}", run.stderr);
        run.stdout.trim().to_owned()
    };

    for cwd in [
        env.dir.path(),
        elsewhere.as_path(),
        std::path::Path::new("/"),
    ] {
        assert_eq!(get(importer(cwd), "CH_DATABASE"), env.database, "{cwd:?}");
        assert_eq!(
            get(importer(cwd), "CCUSAGE_IMPORT_ENV_FILE"),
            user_file.display().to_string()
        );
    }
    let table = importer(&elsewhere).arg("config").run();
    assert!(
        table
            .stdout
            .contains(&format!("Settings file: {}", user_file.display())),
        "{}",
        table.stdout
    );

    // The import from elsewhere lands in the file's database, and its summary names the file;
    // the file's CLAUDE_CONFIG_DIR reaches ccusage though it never enters the environment.
    let json = importer(&elsewhere).import_ok();
    assert_eq!(json["settings_file"], user_file.display().to_string());
    assert_eq!(json["machine_name"], "xdg-box");
    assert!(
        json["tables"]["ccusage_usage_daily"].as_u64() > Some(0),
        "{json}"
    );
    assert_eq!(
        env.sql("SELECT count() FROM ccusage_import_runs WHERE machine_name = 'xdg-box'")
            .trim(),
        "1"
    );
    let human = importer(&elsewhere).args(["--color", "never"]).run();
    assert_eq!(human.code, 0, "{}", human.stderr);
    let line = human
        .stdout
        .lines()
        .find(|l| l.trim_start().starts_with("settings file"))
        .unwrap_or_else(|| panic!("{}", human.stdout));
    assert!(line.ends_with(&user_file.display().to_string()), "{line}");

    // XDG_CONFIG_HOME moves it; ./.env comes before it; CCUSAGE_IMPORT_ENV_FILE before both.
    let xdg = env.path("xdg");
    write_private(&xdg.join("ccusage-import/.env"), b"CH_USER=from_xdg\n");
    let with_xdg = |cwd: &std::path::Path| importer(cwd).env("XDG_CONFIG_HOME", &xdg);
    assert_eq!(get(with_xdg(&elsewhere), "CH_USER"), "from_xdg");
    write_private(&elsewhere.join(".env"), b"CH_USER=from_cwd\n");
    assert_eq!(get(with_xdg(&elsewhere), "CH_USER"), "from_cwd");
    assert_eq!(get(with_xdg(env.dir.path()), "CH_USER"), "from_xdg");
    let named = env.path("named.env");
    write_private(&named, b"CH_USER=from_named\n");
    let by_variable = with_xdg(&elsewhere).env("CCUSAGE_IMPORT_ENV_FILE", &named);
    assert_eq!(get(by_variable, "CH_USER"), "from_named");
    let by_flag = with_xdg(&elsewhere).arg("--env-file").arg(&named);
    assert_eq!(get(by_flag, "CH_USER"), "from_named");

    // No file at all: the summary and config say so.
    let bare = env.path("bare");
    std::fs::create_dir_all(&bare).unwrap();
    let none = importer(&bare)
        .env("XDG_CONFIG_HOME", env.path("empty"))
        .arg("config")
        .run();
    assert!(
        none.stdout
            .contains("Settings file: none (neither ./.env nor "),
        "{}",
        none.stdout
    );
}

/// Issue 30: `CH_HSOT=` or `CH_PASWORD=` were accepted without a word and the default used.
/// A name no setting has is a warning naming the file's line and the nearest setting, under
/// --quiet too; its value is never shown.
#[test]
fn an_unknown_name_in_the_settings_file_is_named_with_the_nearest_setting() {
    let env = TestEnv::new("config_typo");
    write_private(
        &env.path(".env"),
        b"# typos\nCH_HSOT=typo-host-value\nCH_PASWORD=typo-secret-value\nLOG_LEVEL=0\n",
    );
    let run = env
        .importer("typo-box")
        .args(["--quiet", "config", "--get", "CH_HOST"])
        .run();
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout, "localhost\n");
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(lines.len(), 3, "{}", run.stderr);
    assert_eq!(
        lines[0],
        "ccusage-import: warning: .env line 2: CH_HSOT is not a setting of ccusage-import: \
         did you mean CH_HOST?"
    );
    assert!(
        lines[1].ends_with(
            ".env line 3: CH_PASWORD is not a setting of ccusage-import: did you mean CH_PASSWORD?"
        ),
        "{}",
        lines[1]
    );
    assert!(
        lines[2].ends_with(".env line 4: LOG_LEVEL is not a setting of ccusage-import: it is only passed on to ccusage"),
        "{}",
        lines[2]
    );
    assert!(!run.stderr.contains("typo-"), "{}", run.stderr);
}

/// Issue 27: a NUL in a settings file's value made `set_var` panic (exit 101) with the whole
/// value, the password, in its message. The file never reaches the environment now, and a
/// control character in a value is one line naming the key and the line, never the value: exit 2.
#[test]
fn a_control_character_in_a_settings_file_value_is_refused_without_showing_it() {
    let env = TestEnv::new("config_nul");
    for (text, key, line) in [
        (
            &b"CH_USER=u\nCH_PASSWORD=pw\0nul-secret\n"[..],
            "CH_PASSWORD",
            2,
        ),
        (b"CH_PASSWORD=\"pw\\nnl-secret\"\n", "CH_PASSWORD", 1),
        (b"\nMACHINE_NAME=a\x1b[31mesc-secret\n", "MACHINE_NAME", 2),
    ] {
        write_private(&env.path(".env"), text);
        for args in [&["--quiet"][..], &["config"], &["--dry-run", "--json"]] {
            let run = env.importer("nul-box").args(args).run();
            assert_eq!(run.code, 2, "{args:?}: {}\n{}", run.stdout, run.stderr);
            assert_eq!(
                run.stderr,
                format!(
                    "ccusage-import: error: the settings file .env gives {key} a value holding \
                     a control character (line {line}): remove it (the value is not shown, \
                     since it may be the password)\n"
                )
            );
            assert!(!run.stdout.contains("secret"), "{}", run.stdout);
        }
    }
}

/// Issue 30 / 26: `config` missed CH_CLUSTER, CH_DEADLINE and CCUSAGE_IMPORT_PLAN_PRICE,
/// which `--help` documents. Every `[env: NAME=]` of every command's help is listed by
/// `config --json`, and each answers `--get`.
#[test]
fn config_lists_every_setting_the_help_documents() {
    let env = TestEnv::new("config_all");
    write_private(
        &env.path(".env"),
        b"CH_DEADLINE=42\nCCUSAGE_IMPORT_PLAN_PRICE=200\nCH_CLUSTER=fleet\n\
          CCUSAGE_IMPORT_VERBOSE=yes\nCH_SECURE=1\n",
    );
    let help = |args: &[&str]| {
        let run = env.importer("all-box").args(args).arg("--help").run();
        assert_eq!(run.code, 0, "{}", run.stderr);
        run.stdout
    };
    let mut documented: Vec<String> = Vec::new();
    for args in [&[][..], &["dashboard"], &["query"], &["config"]] {
        // `[env: NAME=]`, wrapped at any space.
        for part in help(args).split("[env:").skip(1) {
            let name = part
                .trim_start()
                .split(['=', ']'])
                .next()
                .unwrap()
                .to_owned();
            if !documented.contains(&name) {
                documented.push(name);
            }
        }
    }
    for name in [
        "CH_DEADLINE",
        "CH_CLUSTER",
        "CCUSAGE_IMPORT_PLAN_PRICE",
        "CH_URL",
    ] {
        assert!(documented.iter().any(|n| n == name), "{documented:?}");
    }
    let all = env
        .importer("all-box")
        .args(["config", "--json"])
        .run()
        .json();
    for name in &documented {
        assert!(all.get(name).is_some(), "{name} is not in config: {all}");
    }
    assert_eq!(setting(&all, "CH_DEADLINE"), (&Value::from("42"), "file"));
    assert_eq!(setting(&all, "CH_CLUSTER"), (&Value::from("fleet"), "file"));
    assert_eq!(
        setting(&all, "CCUSAGE_IMPORT_PLAN_PRICE"),
        (&Value::from("200"), "file")
    );
    // Flags that take no value take the file's too (clap refused to hide their default).
    assert_eq!(
        setting(&all, "CCUSAGE_IMPORT_VERBOSE"),
        (&Value::from("true"), "file")
    );
    assert_eq!(setting(&all, "CH_SECURE"), (&Value::from("true"), "file"));
    let deadline = env
        .importer("all-box")
        .args(["--ch-deadline", "7", "config", "--get", "ch_deadline"])
        .run();
    assert_eq!(deadline.stdout, "7\n", "{}", deadline.stderr);
}

/// Every setting `--help` documents can come from the settings file, now that the file's
/// values reach the command line's definition as defaults instead of the environment: each is
/// reported with source `file` (CH_CA_FILE, which must name a real certificate, and the
/// settings file's own name aside).
#[test]
fn every_setting_can_come_from_the_settings_file() {
    let env = TestEnv::new("config_every");
    let values = [
        ("CCUSAGE_IMPORT_COLOR", "never"),
        ("MACHINE_NAME", "file-box"),
        ("CH_URL", "http://db.example:8123"),
        ("CH_HOST", "db.example"),
        ("CH_CLUSTER", "fleet"),
        ("CH_PORT", "9123"),
        ("CH_SECURE", "false"),
        ("CH_USER", "alice"),
        ("CH_PASSWORD", "file-secret-pw"),
        ("CH_DATABASE", "usage_file"),
        ("CCUSAGE_BIN", "/opt/ccusage"),
        ("CCUSAGE_TIMEOUT", "77"),
        ("CCUSAGE_MAX_OUTPUT", "12345"),
        ("CCUSAGE_JOBS", "2"),
        ("CH_MAX_RETRIES", "1"),
        ("CH_RETRY_DELAY", "5"),
        ("CH_DEADLINE", "42"),
        ("CCUSAGE_IMPORT_LOCK", "/tmp/file.lock"),
        ("CCUSAGE_IMPORT_VERBOSE", "false"),
        ("CCUSAGE_IMPORT_PROJECTS", "hash"),
        ("CCUSAGE_IMPORT_PROJECT_KEY_FILE", "/tmp/file.key"),
        ("CCUSAGE_IMPORT_PROJECT_ALIAS", "/tmp/file.alias"),
        ("CH_TIMEOUT", "8"),
        ("CH_MAX_RESPONSE", "1048576"),
        ("CCUSAGE_IMPORT_DASHBOARD_TOKEN_FILE", "/tmp/file.token"),
        ("CCUSAGE_IMPORT_PLAN_PRICE", "20"),
        ("CCUSAGE_IMPORT_BUDGET", "500"),
        ("CCUSAGE_IMPORT_BUDGET_FILE", "/tmp/file.budgets"),
        ("CCUSAGE_IMPORT_TIMEZONE", "America/Los_Angeles"),
        (
            "CCUSAGE_IMPORT_DASHBOARD_TOKEN",
            "a-token-of-the-file-0123456789",
        ),
        ("CLAUDE_CONFIG_DIR", "/logs/of/the/file"),
    ];
    let text: String = values.iter().map(|(k, v)| format!("{k}={v}\n")).collect();
    write_private(&env.path(".env"), text.as_bytes());
    let mut command = std::process::Command::new(BIN);
    command
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", env.dir.path())
        .current_dir(env.dir.path())
        .args(["config", "--json"]);
    let run = Importer { command }.run();
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.is_empty(), "{}", run.stderr);
    let all = run.json();
    for (name, value) in values {
        let (shown, source) = setting(&all, name);
        assert_eq!(source, "file", "{name}: {all}");
        let secret = name == "CH_PASSWORD" || name == "CCUSAGE_IMPORT_DASHBOARD_TOKEN";
        let expected = if secret { "***" } else { value };
        assert_eq!(shown, &Value::from(expected), "{name}: {all}");
    }
    assert!(!run.stdout.contains("file-secret-pw"));
    // Every other setting is one of the two that cannot be set this way here.
    let listed: Vec<&String> = all.as_object().unwrap().keys().collect();
    for name in listed {
        assert!(
            values.iter().any(|(k, _)| k == name)
                || ["CCUSAGE_IMPORT_ENV_FILE", "CH_CA_FILE"].contains(&name.as_str()),
            "{name} is not covered"
        );
    }
}

#[test]
fn a_settings_file_others_can_read_gets_a_warning() {
    let env = TestEnv::new("envfile");
    let (_, bin) = fixture_stand_in(&env, "20.0.24", "20.0.24");
    let file = env.path("settings.env");
    std::fs::write(&file, "CH_PASSWORD=\n").unwrap();
    let mode = |m| {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(m)).unwrap();
    };
    mode(0o644);
    let open = env
        .importer("laptop")
        .ccusage(&bin)
        .arg("--env-file")
        .arg(&file)
        .run();
    assert_eq!(open.code, 0, "{}", open.stderr);
    assert!(
        open.stderr.contains("is readable by other users"),
        "{}",
        open.stderr
    );
    mode(0o600);
    let closed = env
        .importer("laptop")
        .ccusage(&bin)
        .arg("--env-file")
        .arg(&file)
        .run();
    assert_eq!(closed.code, 0, "{}", closed.stderr);
    assert!(!closed.stderr.contains("readable"), "{}", closed.stderr);
}

#[test]
fn a_settings_file_line_that_does_not_parse_is_named_by_its_number_only() {
    let env = TestEnv::new("envline");
    let file = env.path("settings.env");
    std::fs::write(&file, "CH_USER=x\n# note\nCH_PASSWORD=\"s3cr3t-pass\n").unwrap();
    let run = env.importer("laptop").arg("--env-file").arg(&file).run();
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains(&format!("{} has a line", file.display())),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("(line 3)"), "{}", run.stderr);
    assert!(!run.stderr.contains("s3cr3t"), "{}", run.stderr);
}

#[test]
fn a_dollar_in_a_settings_file_value_is_kept_as_written() {
    let env = TestEnv::new("envdollar");
    let (_, bin) = fixture_stand_in(&env, "20.0.24", "20.0.24");
    let file = env.path("settings.env");
    std::fs::write(&file, "MACHINE_NAME=box$HOME-${USER}$1\n").unwrap();
    let mut importer = env.importer("unused");
    // The harness names the machine with a flag; this test needs the file's name.
    importer.command = std::process::Command::new(BIN);
    importer
        .command
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", env.dir.path())
        .env("USER", "someone")
        .current_dir(env.dir.path())
        .env("CH_URL", server_url())
        .env("CH_DATABASE", &env.database);
    let value = importer
        .arg("--env-file")
        .arg(&file)
        .ccusage(&bin)
        .arg("--dry-run")
        .import_ok();
    assert_eq!(value["machine_name"], "box$HOME-${USER}$1");
}

#[test]
fn an_endless_or_huge_settings_file_is_refused() {
    let env = TestEnv::new("envhuge");
    let huge = env.path("huge.env");
    std::fs::write(&huge, "A=1\n".repeat(300_000)).unwrap();
    // A FIFO would wait for a writer forever, under cron every hour (review of issue 30).
    let fifo = env.fifo("fifo.env");
    for (file, said) in [
        (Path::new("/dev/zero"), "it is a device, not a regular file"),
        (huge.as_path(), "is larger than 64 KiB"),
        (fifo.as_path(), "it is a FIFO, not a regular file"),
    ] {
        let started = Instant::now();
        let run = env
            .importer("laptop")
            .arg("--env-file")
            .arg(file)
            .run_within(Duration::from_secs(10));
        assert_eq!(run.code, 2, "{}: {}", file.display(), run.stderr);
        assert!(run.stderr.contains(said), "{}", run.stderr);
        assert!(started.elapsed() < Duration::from_secs(10));
    }
}

#[test]
fn settings_are_named_when_their_values_are_wrong() {
    let env = TestEnv::new("settings");
    // An empty port, from the environment and from the settings file.
    let run = env.importer("laptop").env("CH_PORT", "").run();
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("ccusage-import: error: CH_PORT is set but empty (in the environment)"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("--ch-port"), "{}", run.stderr);
    let file = env.path("settings.env");
    std::fs::write(&file, "CH_PORT=\n").unwrap();
    let run = env.importer("laptop").arg("--env-file").arg(&file).run();
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains(&format!("CH_PORT is set but empty (in {})", file.display())),
        "{}",
        run.stderr
    );
    // A host with a scheme or a path.
    for host in ["http://db.example.com", "db.example.com/ccusage"] {
        let mut importer = env.importer("laptop").env("CH_HOST", host);
        importer.command.env_remove("CH_URL");
        let run = importer.run();
        assert_eq!(run.code, 2, "{host}: {}", run.stderr);
        assert!(
            run.stderr.contains("holds a scheme or a path") && run.stderr.contains("host:port"),
            "{}",
            run.stderr
        );
    }
    // ClickHouse's own databases.
    for database in ["system", "information_schema", "INFORMATION_SCHEMA"] {
        let run = env.importer("laptop").env("CH_DATABASE", database).run();
        assert_eq!(run.code, 2, "{database}: {}", run.stderr);
        assert!(
            run.stderr.contains("one of ClickHouse's own databases"),
            "{}",
            run.stderr
        );
    }
}

/// Each name in `refused`, given as MACHINE_NAME to a run with `args`: exit 2 and one line
/// naming what is wrong with it.
fn assert_machine_names_refused(env: &TestEnv, args: &[&str], refused: &[(&str, &str)]) {
    for &(name, says) in refused {
        let run = env.importer(name).args(args).run();
        assert_eq!(run.code, 2, "{name:?}: {}", run.stderr);
        assert!(run.stderr.contains(says), "{name:?}: {}", run.stderr);
        assert_eq!(
            run.stderr.trim().lines().count(),
            1,
            "{name:?}: {}",
            run.stderr
        );
    }
}

#[test]
fn machine_names_with_edge_spaces_or_invisible_characters_are_refused() {
    let env = TestEnv::new("machinename");
    assert_machine_names_refused(
        &env,
        &[],
        &[
            (" laptop", "starts or ends with a space"),
            ("laptop ", "starts or ends with a space"),
            ("lap\u{200B}top", "U+200B"),
            ("\u{FEFF}laptop", "U+FEFF"),
        ],
    );
}

/// Machine names that look like another name or like nothing, found by Unicode's properties
/// (default-ignorable, format, separators, a combining mark with nothing under it): refused,
/// exit 2, naming the character. Names in other scripts and accents on letters pass.
#[test]
fn machine_names_with_blank_format_or_baseless_combining_characters_are_refused() {
    let env = TestEnv::new("attack_names");
    assert_machine_names_refused(
        &env,
        &["query", "--list"],
        &[
            ("lap\u{2800}top", "invisible character U+2800"),
            ("lap\u{FFF9}top", "invisible character U+FFF9"),
            ("\u{0301}", "combining character U+0301"),
            ("\u{0301}laptop", "combining character U+0301"),
            ("lap \u{20DD}top", "combining character U+20DD"),
            ("lap\u{3164}top", "invisible character U+3164"),
            ("lap\u{00A0}top", "invisible character U+00A0"),
            ("lap\u{2029}top", "invisible character U+2029"),
            ("lap\u{E0041}top", "invisible character U+E0041"),
            ("lap\u{0378}top", "invisible character U+0378"),
            ("lap\u{200D}top", "invisible character U+200D"),
        ],
    );
    for name in [
        "café",
        "cafe\u{0301}",
        "büro-ŝtacio",
        "東京の机",
        "Ελλάδα 2",
        "dev box",
    ] {
        let run = env.importer(name).args(["query", "--list"]).run();
        assert_eq!(run.code, 0, "{name:?}: {}", run.stderr);
    }
}

//! A machine joins the fleet (issue 30): `ccusage-import init --yes` on a "second machine" (its
//! own HOME, XDG directories and Claude logs) checks the running server, writes its settings
//! file and its first import lands beside the first machine's rows; a refused login writes
//! nothing. Also `completions` and `man`.

use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::harness::*;

const USER: &str = "ccusage_writer";
const PASSWORD: &str = "writer-secret-pw";

/// The second machine: a HOME of its own, with the XDG directories elsewhere, and logs.
struct Machine {
    home: PathBuf,
    config: PathBuf,
    state: PathBuf,
    logs: PathBuf,
}

impl Machine {
    fn new(env: &TestEnv) -> Machine {
        let home = env.path("second-home");
        let machine = Machine {
            config: env.path("second-xdg-config"),
            state: env.path("second-xdg-state"),
            logs: env.generate_logs(
                "second-home/claude",
                &[
                    "--projects",
                    "1",
                    "--days",
                    "4",
                    "--lines",
                    "120",
                    "--seed",
                    "7",
                ],
            ),
            home,
        };
        std::fs::create_dir_all(&machine.home).unwrap();
        machine
    }

    /// The binary as this machine runs it: nothing of the test's environment but PATH.
    fn command(&self, password: &str) -> Command {
        let mut command = Command::new(BIN);
        command
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", &self.home)
            .env("XDG_CONFIG_HOME", &self.config)
            .env("XDG_STATE_HOME", &self.state)
            .env("CLAUDE_CONFIG_DIR", &self.logs)
            .current_dir(&self.home)
            .stdin(std::process::Stdio::null());
        if !password.is_empty() {
            command.env("CH_PASSWORD", password);
        }
        command
    }

    fn settings_file(&self) -> PathBuf {
        self.config.join("ccusage-import/.env")
    }
}

fn init(machine: &Machine, database: &str, password: &str) -> Run {
    let out = machine
        .command(password)
        .args(["init", "--yes", "--no-schedule", "--ch-url", server_url()])
        .args(["--ch-user", USER, "--ch-database", database])
        .args(["--machine-name", "second-box"])
        .output()
        .unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn rows_of(env: &TestEnv, machine: &str) -> u64 {
    env.sql(&format!(
        "SELECT count() FROM ccusage_usage_daily WHERE machine_name = '{machine}'"
    ))
    .trim()
    .parse()
    .unwrap()
}

#[test]
fn a_second_machine_joins_a_running_server_with_init_and_its_first_import_lands_there() {
    let env = TestEnv::new("join_init");
    // The fleet: a first machine already imports into the server.
    let first_logs = env.generate_logs("first-claude", SMALL);
    env.importer("first-box").logs(&first_logs).import_ok();
    let first_rows = rows_of(&env, "first-box");
    assert!(first_rows > 0);

    let machine = Machine::new(&env);
    let run = init(&machine, &env.database, PASSWORD);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("ok   database"), "{}", run.stdout);
    for text in [&run.stdout, &run.stderr] {
        assert!(!text.contains(PASSWORD), "the password was shown: {text}");
    }

    // The settings file: where the XDG directory says, readable by the owner only, and it
    // carries what the job needs from this shell (the logs' directory).
    let file = machine.settings_file();
    let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(
        text.contains(&format!("CH_URL=\"{}\"", server_url())),
        "{text}"
    );
    assert!(text.contains(&format!("CLAUDE_CONFIG_DIR=\"{}\"", machine.logs.display())));

    // The first import landed beside the first machine's rows, which are untouched.
    assert!(rows_of(&env, "second-box") > 0);
    assert_eq!(rows_of(&env, "first-box"), first_rows);
    let runs = env.sql(
        "SELECT count() FROM ccusage_import_runs WHERE machine_name = 'second-box' \
         AND exit_code = 0 AND dry_run = 0",
    );
    assert_eq!(runs.trim(), "1");

    // Any later command finds the same settings through the file, from any directory, and
    // imports again without a change.
    let second_rows = rows_of(&env, "second-box");
    let again = machine
        .command("")
        .arg("--env-file")
        .arg(&file)
        .args(["--quiet"])
        .current_dir("/")
        .output()
        .unwrap();
    assert!(again.status.success(), "{:?}", again);
    assert_eq!(rows_of(&env, "second-box"), second_rows);

    // init again, the same answers: the same file.
    let rerun = init(&machine, &env.database, PASSWORD);
    assert_eq!(rerun.code, 0, "{}\n{}", rerun.stdout, rerun.stderr);
    assert_eq!(std::fs::read_to_string(&file).unwrap(), text);
}

#[test]
fn a_refused_login_makes_init_fail_before_it_writes_anything() {
    let env = TestEnv::new("join_refused");
    let machine = Machine::new(&env);
    let run = init(&machine, &env.database, "not-the-password");
    assert_eq!(run.code, 3, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("nothing was written"), "{}", run.stderr);
    assert!(!run.stderr.contains("not-the-password"), "{}", run.stderr);
    assert!(!machine.settings_file().exists());
    assert!(
        !machine.config.exists(),
        "init created {}",
        machine.config.display()
    );
    assert!(!machine.state.exists());
    let tables = sql(
        "system",
        &format!(
            "SELECT count() FROM system.databases WHERE name = '{}'",
            env.database
        ),
    );
    assert_eq!(tables.trim(), "0", "init created the database");
}

#[test]
fn init_without_a_terminal_or_yes_asks_for_the_flags_and_writes_nothing() {
    let env = TestEnv::new("join_no_tty");
    let machine = Machine::new(&env);
    let out = machine.command(PASSWORD).arg("init").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--yes"));
    assert!(!machine.settings_file().exists());
}

#[test]
fn completions_and_the_man_page_come_from_the_command_line_definition() {
    let bash = Command::new(BIN)
        .args(["completions", "bash"])
        .output()
        .unwrap();
    assert!(bash.status.success());
    let bash = String::from_utf8_lossy(&bash.stdout);
    for word in ["ccusage-import", "schedule", "--ch-url", "dashboard"] {
        assert!(bash.contains(word), "bash completion lacks {word}");
    }
    let man = Command::new(BIN).arg("man").output().unwrap();
    assert!(man.status.success());
    let man = String::from_utf8_lossy(&man.stdout);
    assert!(
        man.starts_with(".ie") || man.contains(".TH ccusage-import"),
        "{man}"
    );
    assert!(
        man.contains("\\-\\-ch\\-url") || man.contains("ch\\-url"),
        "{man}"
    );
    assert!(Path::new(ROOT).join("Cargo.toml").exists());
}

#[test]
fn doctor_warns_of_logs_that_point_nowhere_and_of_another_host_with_this_name() {
    let env = TestEnv::new("join_doctor");
    let logs = env.generate_logs("claude", SMALL);
    env.importer("doc-box").logs(&logs).import_ok();
    let doctor = |logs: &Path| {
        let out = env
            .importer("doc-box")
            .logs(logs)
            .env("CCUSAGE_IMPORT_CRONTAB", env.path("no-crontab"))
            .env("XDG_CONFIG_HOME", env.path("xdg"))
            .arg("doctor")
            .run();
        assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
        out.stdout
    };
    let healthy = doctor(&logs);
    for line in [
        "ok   Claude Code logs",
        "ok   clock",
        "ok   shared logs",
        "ok   machine name",
    ] {
        assert!(healthy.contains(line), "{line}:\n{healthy}");
    }
    assert!(
        healthy.contains("warn hourly job: none installed"),
        "{healthy}"
    );

    // Another host imported under the same name; the logs' directory is gone.
    env.sql(
        "INSERT INTO ccusage_import_runs (run_id, machine_name, hostname, started_at, dry_run, \
         exit_code) VALUES ('doctor-test', 'doc-box', 'other-host', now(), 0, 0)",
    );
    let sick = doctor(&env.path("no-such-claude"));
    assert!(
        sick.contains("warn CLAUDE_CONFIG_DIR: points nowhere"),
        "{sick}"
    );
    assert!(sick.contains("warn Claude Code logs: none under"), "{sick}");
    assert!(
        sick.contains("warn machine name: host(s) other-host"),
        "{sick}"
    );
    assert_eq!(
        sick.lines().filter(|l| l.starts_with("warn")).count(),
        4,
        "{sick}"
    );
}

#[test]
fn init_on_a_terminal_asks_each_question_and_never_shows_the_password() {
    let env = TestEnv::new("join_tty");
    let machine = Machine::new(&env);
    let script = env.path("init.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\ncd '{home}'\nenv -i PATH='{path}' HOME='{home}' TERM=\"$TERM\" \
             XDG_CONFIG_HOME='{config}' XDG_STATE_HOME='{state}' CLAUDE_CONFIG_DIR='{logs}' \
             '{bin}' init --no-schedule --no-import\necho \"exit=$?\"\nsleep 120\n",
            home = machine.home.display(),
            path = std::env::var("PATH").unwrap_or_default(),
            config = machine.config.display(),
            state = machine.state.display(),
            logs = machine.logs.display(),
            bin = BIN,
        ),
    )
    .unwrap();
    make_executable(&script);
    let tmux = Tmux {
        socket: format!("ccusage-import-init-{}", std::process::id()),
    };
    let started = tmux.cmd(&["new-session", "-d", "-s", "live", "-x", "200", "-y", "50"]);
    assert!(started.status.success());
    tmux.cmd(&[
        "respawn-pane",
        "-k",
        "-t",
        "live",
        &script.display().to_string(),
    ]);
    // The pane as text, without escape codes.
    let screen = || {
        let out = tmux.cmd(&["capture-pane", "-p", "-J", "-S", "-", "-t", "live"]);
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let wait_for = |text: &str| {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        loop {
            let plain = screen();
            if plain.contains(text) {
                return plain;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "no {text:?} on screen:\n{plain}"
            );
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    };
    let answer = |text: &str| {
        tmux.cmd(&["send-keys", "-t", "live", "-l", text]);
        tmux.cmd(&["send-keys", "-t", "live", "Enter"]);
    };
    wait_for("ClickHouse URL or host");
    answer(server_url());
    wait_for("ClickHouse user [default]");
    answer(USER);
    wait_for("ClickHouse password [none]");
    answer(PASSWORD);
    wait_for("Database [ccusage]");
    answer(&env.database);
    wait_for("This machine's name [");
    answer("tty-joiner");
    let end = wait_for("exit=");
    assert!(end.contains("exit=0"), "{end}");
    assert!(!end.contains(PASSWORD), "the password was echoed:\n{end}");
    let text = std::fs::read_to_string(machine.settings_file()).unwrap();
    assert!(
        text.contains(&format!("CH_PASSWORD=\"{PASSWORD}\"")),
        "{text}"
    );
    assert!(text.contains("MACHINE_NAME=\"tty-joiner\""), "{text}");
    assert!(text.contains(&format!("CH_DATABASE=\"{}\"", env.database)));
}

#[test]
fn the_first_machine_inits_against_an_empty_server_and_its_import_creates_the_schema() {
    let env = TestEnv::new("join_first");
    let machine = Machine::new(&env);
    let run = init(&machine, &env.database, PASSWORD);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("todo database") && run.stdout.contains("the first import creates"),
        "{}",
        run.stdout
    );
    assert!(rows_of(&env, "second-box") > 0);
}

/// Review of issue 30: in a clone whose `./.env` (from `.env.example`) still says localhost,
/// `init` wrote the user file without a word, and every command run there kept reading
/// `./.env`. It now says which file those commands read first.
#[test]
fn init_says_when_a_dot_env_here_hides_the_file_it_writes() {
    let env = TestEnv::new("join_hidden");
    let machine = Machine::new(&env);
    std::fs::write(machine.home.join(".env"), "CH_HOST=localhost\n").unwrap();
    let out = machine
        .command(PASSWORD)
        .args([
            "init",
            "--yes",
            "--no-schedule",
            "--no-import",
            "--ch-url",
            server_url(),
        ])
        .args(["--ch-user", USER, "--ch-database", &env.database])
        .args(["--machine-name", "second-box"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(machine.settings_file().exists());
    assert!(
        stderr.contains("warning: commands run in this directory read")
            && stderr.contains(".env before"),
        "{stderr}"
    );
}

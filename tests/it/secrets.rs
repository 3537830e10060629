//! Never leak, never crash (issue 14): the password, the lock file, signals, and messages
//! under hostile input. Each test drives the real binary.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::harness::*;

/// The test server's writer account (scripts/clickhouse-server.sh).
const USER: &str = "ccusage_writer";
const PASSWORD: &str = "writer-secret-pw";

fn wait_for(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(started.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn assert_no_password(what: &str, text: &str) {
    assert!(
        !text.contains(PASSWORD),
        "the password is in {what}:\n{text}"
    );
}

/// Every row of every table in the test's database, as TSV.
fn all_stored_text(env: &TestEnv) -> String {
    let tables = env.sql(&format!(
        "SELECT name FROM system.tables WHERE database = '{}' AND engine NOT LIKE '%View' \
         FORMAT TSV",
        env.database
    ));
    tables
        .lines()
        .map(|table| env.sql(&format!("SELECT * FROM {table} FORMAT TSV")))
        .collect()
}

#[test]
fn the_password_is_in_no_output_stored_row_or_child_environment() {
    let env = TestEnv::new("secret");
    let (dir, bin) = fixture_stand_in(&env, "20.0.24", "20.0.24");
    // A report that records the environment it was given, and one whose failure text holds
    // the password, as a server echoing a request would.
    script_report(&dir, "daily", "env > \"$D/env.txt\"\ncat \"$D/daily.json\"");
    script_report(
        &dir,
        "blocks",
        &format!("echo 'login as {USER}:{PASSWORD} refused' >&2\nexit 1"),
    );
    let env_file = env.path(".env");
    std::fs::write(
        &env_file,
        format!("CH_USER={USER}\nCH_PASSWORD={PASSWORD}\n"),
    )
    .unwrap();
    std::fs::set_permissions(
        &env_file,
        std::os::unix::fs::PermissionsExt::from_mode(0o600),
    )
    .unwrap();
    let claude = env.path("claude");
    let mut outputs = Vec::new();
    for output in ["--json", "--verbose"] {
        let run = env
            .importer("laptop")
            .arg("--ccusage-bin")
            .arg(&bin)
            .arg(output)
            .logs(&claude)
            .env("CH_TIMEOUT", "30")
            .env("CCUSAGE_IMPORT_COLOR", "never")
            .run();
        assert_eq!(run.code, 4, "{}{}", run.stdout, run.stderr);
        assert!(
            run.stderr.contains("blocks report failed"),
            "{}",
            run.stderr
        );
        assert!(
            run.stderr.contains(&format!("{USER}:***")),
            "{}",
            run.stderr
        );
        outputs.push(run);
    }
    // What the stored runs and the settings look like to a person.
    for args in [
        &["query", "import_history", "--format", "json"][..],
        &["config", "--json"][..],
        &["config"][..],
    ] {
        let mut importer = env.importer("laptop").logs(&claude);
        for arg in args {
            importer = importer.arg(arg);
        }
        let run = importer.run();
        assert_eq!(run.code, 0, "{args:?}: {}", run.stderr);
        outputs.push(run);
    }
    assert!(outputs[2].stdout.contains("***"), "{}", outputs[2].stdout);
    for run in &outputs {
        assert_no_password("stdout", &run.stdout);
        assert_no_password("stderr", &run.stderr);
    }
    let child_env = std::fs::read_to_string(dir.join("env.txt")).unwrap();
    assert_no_password("the report's environment", &child_env);
    for line in child_env.lines() {
        let name = line.split('=').next().unwrap();
        assert!(
            !name.starts_with("CH_") && !name.starts_with("CCUSAGE_IMPORT_"),
            "the report got {name}"
        );
    }
    for needed in ["PATH=", "HOME=", "CLAUDE_CONFIG_DIR=", "TZ=UTC"] {
        assert!(
            child_env.lines().any(|l| l.starts_with(needed)),
            "{needed} missing: {child_env}"
        );
    }
    let stored = all_stored_text(&env);
    assert_no_password("a stored row", &stored);
    let ledger = env.sql("SELECT error FROM ccusage_import_runs FORMAT TSV");
    assert!(ledger.contains(&format!("{USER}:***")), "{ledger}");
}

#[test]
fn a_url_with_credentials_is_refused_without_showing_them() {
    let env = TestEnv::new("urlcreds");
    for url in [
        "https://alice:s3cr3t-pass@abc.clickhouse.cloud:8443",
        "http://127.0.0.1:8123/?user=alice&password=s3cr3t-pass",
    ] {
        let run = env.importer("laptop").env("CH_URL", url).run();
        assert_eq!(run.code, 2, "{url}: {}", run.stderr);
        assert!(run.stderr.contains("holds credentials"), "{}", run.stderr);
        assert!(run.stderr.contains("CH_PASSWORD"), "{}", run.stderr);
        assert!(!run.stderr.contains("s3cr3t"), "{}", run.stderr);
        assert!(!run.stderr.contains("alice"), "{}", run.stderr);
    }
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
        .arg("--ccusage-bin")
        .arg(&bin)
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
    let fifo = env.path("fifo.env");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
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

/// A one-answer HTTP server on loopback: answers every request with `answer(request head)`
/// and counts the requests.
fn http_stand_in(answer: fn(&str) -> String) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let count = Arc::new(AtomicUsize::new(0));
    let counter = count.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            counter.fetch_add(1, Ordering::SeqCst);
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).unwrap_or(0) == 1 {
                head.push(byte[0]);
            }
            let response = answer(&String::from_utf8_lossy(&head));
            let _ = stream.write_all(response.as_bytes());
        }
    });
    (url, count)
}

fn http_response(status: &str, content_type: &str, body: &str) -> String {
    format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    )
}

#[test]
fn a_server_or_proxy_that_echoes_the_password_has_it_redacted() {
    let env = TestEnv::new("echo");
    // A proxy whose error page shows the request, headers and all.
    let (proxy, requests) = http_stand_in(|head| {
        let body = format!(
            "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n\
             <center><h1>502 Bad Gateway</h1></center><pre>{head}</pre>\r\n</body>\r\n</html>\r\n"
        );
        http_response("502 Bad Gateway", "text/html", &body)
    });
    let run = env
        .importer("laptop")
        .env("CH_URL", &proxy)
        .env("CH_USER", USER)
        .env("CH_PASSWORD", PASSWORD)
        .args_retry()
        .arg("--verbose")
        .run();
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(
        run.stderr.contains("a proxy answered HTTP 502"),
        "{}",
        run.stderr
    );
    assert_eq!(requests.load(Ordering::SeqCst), 3, "retried as transient");
    // The page's lines never become lines of the importer's own.
    for line in run.stderr.lines() {
        assert!(line.starts_with("ccusage-import: "), "{line}");
    }
    assert!(
        run.stderr.contains("***"),
        "the echo reached --verbose: {}",
        run.stderr
    );
    assert_no_password("stderr", &run.stderr);
    assert_no_password("stdout", &run.stdout);

    // A server whose message quotes the password it was sent.
    let (server, requests) = http_stand_in(|head| {
        let key = head
            .lines()
            .find_map(|l| l.strip_prefix("X-ClickHouse-Key: "))
            .or_else(|| {
                head.lines()
                    .find_map(|l| l.strip_prefix("x-clickhouse-key: "))
            })
            .unwrap_or("none");
        let body = format!(
            "Code: 516. DB::Exception: {USER}: Authentication failed: password {key} is \
             incorrect. (AUTHENTICATION_FAILED)\n"
        );
        http_response("500 Internal Server Error", "text/plain", &body)
    });
    let run = env
        .importer("laptop")
        .env("CH_URL", &server)
        .env("CH_USER", USER)
        .env("CH_PASSWORD", PASSWORD)
        .args_retry()
        .arg("--json")
        .run();
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert_eq!(
        requests.load(Ordering::SeqCst),
        1,
        "authentication is final"
    );
    // Since issue 30 a refused login is said in the importer's words, so the echo is not
    // even quoted; --verbose, which does quote the server, has it redacted.
    assert!(
        run.stderr.contains(&format!(
            "refused the login for user {USER}: check CH_USER and CH_PASSWORD"
        )),
        "{}",
        run.stderr
    );
    assert_no_password("stderr", &run.stderr);
    assert_no_password("stdout", &run.stdout);
    let verbose = env
        .importer("laptop")
        .env("CH_URL", &server)
        .env("CH_USER", USER)
        .env("CH_PASSWORD", PASSWORD)
        .args_retry()
        .arg("--verbose")
        .run();
    assert_eq!(verbose.code, 3, "{}", verbose.stderr);
    assert!(
        verbose.stderr.contains("password *** is incorrect"),
        "{}",
        verbose.stderr
    );
    assert_no_password("stderr", &verbose.stderr);
    assert_no_password("stdout", &verbose.stdout);
}

trait RetryArgs {
    fn args_retry(self) -> Self;
}

impl RetryArgs for Importer {
    /// Two quick retries, so a test of them takes milliseconds.
    fn args_retry(self) -> Self {
        self.arg("--max-retries")
            .arg("2")
            .arg("--retry-delay")
            .arg("10")
            .arg("--ch-timeout")
            .arg("5")
    }
}

/// A fresh run with the fixtures, taking the lock at `lock`.
fn run_with_lock(env: &TestEnv, lock: &Path) -> Run {
    let (_, bin) = fixture_stand_in(env, "20.0.24", "20.0.24");
    env.importer("laptop")
        .arg("--ccusage-bin")
        .arg(&bin)
        .arg("--lock-file")
        .arg(lock)
        .run()
}

#[test]
fn the_lock_file_is_never_followed_through_a_link_nor_rewritten_when_foreign() {
    let env = TestEnv::new("locklink");
    let victim = env.path("precious.txt");
    std::fs::write(&victim, "precious data\n").unwrap();
    let link = env.path("import.lock");
    std::os::unix::fs::symlink(&victim, &link).unwrap();
    let run = run_with_lock(&env, &link);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains(&format!(
            "the lock file {} is a symbolic link",
            link.display()
        )),
        "{}",
        run.stderr
    );
    // A link to a file that does not exist yet is not followed to create it either.
    let dangling = env.path("dangling.lock");
    let target = env.path("created-through-link");
    std::os::unix::fs::symlink(&target, &dangling).unwrap();
    let run = run_with_lock(&env, &dangling);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(!target.exists(), "the link was followed");

    // A plain file that is not a lock of ours is left alone.
    let foreign = env.path("notes.txt");
    std::fs::write(&foreign, "my notes, not a lock\n").unwrap();
    let run = run_with_lock(&env, &foreign);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("holds something other than a lock"),
        "{}",
        run.stderr
    );
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious data\n");
    assert_eq!(
        std::fs::read_to_string(&foreign).unwrap(),
        "my notes, not a lock\n"
    );
    // Nothing was imported by the refused runs.
    let tables = sql(
        "default",
        &format!(
            "SELECT count() FROM system.tables WHERE database = '{}'",
            env.database
        ),
    );
    assert_eq!(tables.trim(), "0");
    // A lock file a previous run left is taken again.
    let own = env.path("own.lock");
    assert_eq!(run_with_lock(&env, &own).code, 0);
    assert_eq!(run_with_lock(&env, &own).code, 0);
}

#[test]
fn a_lock_path_that_is_a_directory_fifo_or_device_fails_naming_it() {
    let env = TestEnv::new("lockkind");
    let dir = env.path("a-dir");
    std::fs::create_dir(&dir).unwrap();
    let fifo = env.path("a-fifo");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    for (path, kind) in [
        (dir.clone(), "a directory"),
        (fifo.clone(), "a FIFO"),
        (PathBuf::from("/dev/null"), "a device"),
    ] {
        let started = Instant::now();
        let run = run_with_lock(&env, &path);
        assert_eq!(run.code, 2, "{kind}: {}", run.stderr);
        let said = format!("the lock file {} is {kind}", path.display());
        assert!(run.stderr.contains(&said), "{}", run.stderr);
        assert!(started.elapsed() < Duration::from_secs(20), "{kind} hung");
    }
}

#[test]
fn without_home_or_xdg_state_home_there_is_no_default_lock_and_nothing_lands_in_tmp() {
    let env = TestEnv::new("lockhome");
    let (_, bin) = fixture_stand_in(&env, "20.0.24", "20.0.24");
    let tmp = env.path("tmp");
    std::fs::create_dir(&tmp).unwrap();
    let mut importer = env.importer("laptop").arg("--ccusage-bin").arg(&bin);
    importer
        .command
        .env_remove("HOME")
        .env_remove("XDG_STATE_HOME")
        .env("TMPDIR", &tmp);
    let run = importer.run();
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("neither HOME nor XDG_STATE_HOME is set"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("--lock-file"), "{}", run.stderr);
    assert_eq!(std::fs::read_dir(&tmp).unwrap().count(), 0);
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
        let mut importer = env.importer("laptop").arg("--ccusage-bin").arg(&bin);
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

/// Starts a run whose daily report hangs (with a grandchild), and waits until it runs.
fn start_hung_run(env: &TestEnv) -> (std::process::Child, PathBuf) {
    let (dir, bin) = fixture_stand_in(env, "20.0.24", "20.0.24");
    script_report(
        &dir,
        "daily",
        "sleep 300 &\necho $! > \"$D/grandchild.pid\"\necho $$ > \"$D/script.pid\"\nsleep 300",
    );
    let child = env
        .importer("laptop")
        .arg("--ccusage-bin")
        .arg(&bin)
        .spawn(Stdio::null(), Stdio::piped());
    wait_for("the hung report", Duration::from_secs(20), || {
        dir.join("script.pid").exists() && dir.join("grandchild.pid").exists()
    });
    (child, dir)
}

#[test]
fn hup_usr1_and_alrm_end_every_report_too() {
    for (signal, code) in [("HUP", 129), ("USR1", 138), ("ALRM", 142)] {
        let env = TestEnv::new("signal2");
        let (mut child, dir) = start_hung_run(&env);
        let sent = std::process::Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(child.id().to_string())
            .status()
            .unwrap();
        assert!(sent.success());
        let exit = child.wait().unwrap();
        let mut stderr = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut stderr)
            .unwrap();
        assert_eq!(exit.code(), Some(code), "{signal}: {stderr}");
        assert!(stderr.contains("stopped by a signal"), "{stderr}");
        for pid_file in ["script.pid", "grandchild.pid"] {
            let pid = read_pid(&dir.join(pid_file));
            assert!(
                ends_within(pid, Duration::from_secs(5)),
                "{signal}: {pid_file} {pid} still runs"
            );
        }
    }
}

#[test]
fn a_report_dies_when_the_importer_is_killed_with_sigkill() {
    let env = TestEnv::new("pdeath");
    let (mut child, dir) = start_hung_run(&env);
    child.kill().unwrap();
    child.wait().unwrap();
    let pid = read_pid(&dir.join("script.pid"));
    assert!(
        ends_within(pid, Duration::from_secs(5)),
        "the report {pid} outlived the importer"
    );
    // What the report started itself is its own business once it is gone: end it here.
    let grandchild = read_pid(&dir.join("grandchild.pid"));
    let _ = std::process::Command::new("kill")
        .arg(grandchild.to_string())
        .status();
}

#[test]
fn a_report_that_leaves_a_grandchild_holding_stdout_is_judged_by_its_exit() {
    for (exit, code) in [(0, 0), (3, 4)] {
        let env = TestEnv::new("grandchild");
        let (dir, bin) = fixture_stand_in(&env, "20.0.24", "20.0.24");
        script_report(
            &dir,
            "daily",
            &format!(
                "cat \"$D/daily.json\"\nsleep 120 &\necho $! > \"$D/grandchild.pid\"\nexit {exit}"
            ),
        );
        let started = Instant::now();
        let run = env
            .importer("laptop")
            .arg("--ccusage-bin")
            .arg(&bin)
            .arg("--timeout")
            .arg("60")
            .arg("--json")
            .run();
        assert_eq!(run.code, code, "{}", run.stderr);
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "{:?}",
            started.elapsed()
        );
        assert!(!run.stderr.contains("timed out"), "{}", run.stderr);
        if exit == 0 {
            let days = env.sql("SELECT count() FROM ccusage_usage_daily FINAL");
            assert_ne!(days.trim(), "0");
        } else {
            assert!(
                run.stderr
                    .contains("daily report failed: exited with code 3"),
                "{}",
                run.stderr
            );
        }
        let grandchild = read_pid(&dir.join("grandchild.pid"));
        assert!(ends_within(grandchild, Duration::from_secs(5)));
    }
}

#[test]
fn a_report_writing_10_mb_to_stderr_imports_or_fails_naming_the_tail() {
    for (exit, code) in [(0, 0), (3, 4)] {
        let env = TestEnv::new("stderr10mb");
        let (dir, bin) = fixture_stand_in(&env, "20.0.24", "20.0.24");
        script_report(
            &dir,
            "daily",
            &format!(
                "head -c 10485760 /dev/zero | tr '\\0' 'x' >&2\n\
                 echo ' the last words: disk on fire' >&2\n\
                 cat \"$D/daily.json\"\nexit {exit}"
            ),
        );
        let started = Instant::now();
        let run = env
            .importer("laptop")
            .arg("--ccusage-bin")
            .arg(&bin)
            .arg("--timeout")
            .arg("60")
            .arg("--json")
            .run();
        assert_eq!(
            run.code,
            code,
            "{}",
            &run.stderr[..run.stderr.len().min(2000)]
        );
        assert!(started.elapsed() < Duration::from_secs(30));
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

#[test]
fn machine_names_with_edge_spaces_or_invisible_characters_are_refused() {
    let env = TestEnv::new("machinename");
    for (name, said) in [
        (" laptop", "starts or ends with a space"),
        ("laptop ", "starts or ends with a space"),
        ("lap\u{200B}top", "U+200B"),
        ("\u{FEFF}laptop", "U+FEFF"),
    ] {
        let run = env.importer(name).run();
        assert_eq!(run.code, 2, "{name:?}: {}", run.stderr);
        assert!(run.stderr.contains(said), "{}", run.stderr);
    }
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
        .arg("--ccusage-bin")
        .arg(&bin)
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
        .arg("--ccusage-bin")
        .arg(&bin)
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
        .arg("--ccusage-bin")
        .arg(&bin)
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
        .arg("--ccusage-bin")
        .arg(&bin)
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
    env.importer("laptop")
        .arg("--ccusage-bin")
        .arg(&bin)
        .import_ok();
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

#[test]
fn a_ch_host_list_is_tried_in_order_until_a_server_answers() {
    let env = TestEnv::new("hostlist");
    let (_, bin) = fixture_stand_in(&env, "20.0.24", "20.0.24");
    let live = server_url().trim_start_matches("http://").to_owned();
    let dead = format!("127.0.0.1:{}", free_port());
    let mut importer = env
        .importer("laptop")
        .env("CH_HOST", format!("{dead}, {live}"))
        .arg("--ccusage-bin")
        .arg(&bin)
        .arg("--color")
        .arg("never")
        .arg("--verbose");
    importer.command.env_remove("CH_URL");
    let run = importer.run();
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr
            .contains(&format!("http://{dead} cannot be reached")),
        "{}",
        run.stderr
    );
    assert!(
        run.stdout.contains(&format!("at http://{live}")),
        "{}",
        run.stdout
    );
    let days = env.sql("SELECT count() FROM ccusage_usage_daily FINAL");
    assert_ne!(days.trim(), "0");
}

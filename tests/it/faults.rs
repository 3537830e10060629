//! Unattended runs (issue 6): ClickHouse faults, retries, overlapping runs, secrets.

use std::io::Read;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::harness::*;

/// Makes every report of a stand-in wait until `dir/go` exists before printing.
fn hold_reports_until_go(dir: &Path) {
    for report in REPORTS {
        let body = format!(
            "while [ ! -e \"$D/go\" ]; do sleep 0.1; done\n\
             if [ -f \"$D/{report}.json\" ]; then cat \"$D/{report}.json\"; else echo '[]'; fi"
        );
        script_report(dir, report, &body);
    }
}

fn wait_for(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(started.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_wrong_password_fails_fast_without_retrying_or_showing_the_password() {
    let env = TestEnv::new("password");
    let (_, bin) = fixture_stand_in(&env, "20.0.24", "20.0.24");
    let started = Instant::now();
    let run = env
        .importer("laptop")
        .ccusage(&bin)
        .arg("--verbose")
        .arg("--ch-user")
        .arg("ccusage_writer")
        .env("CH_PASSWORD", "not-the-Secret-42")
        .run();
    assert_eq!(run.code, 3, "{}{}", run.stdout, run.stderr);
    // Retries would wait at least 0.5 s; authentication errors are final at once.
    assert!(
        started.elapsed() < Duration::from_millis(1500),
        "{:?}",
        started.elapsed()
    );
    assert!(!run.stderr.contains("retry"), "{}", run.stderr);
    // Issue 30: said in our words, without the server's `e.displayText() = DB::Exception: …,
    // e.what() = DB::Exception`, and not summarised as "unreachable".
    let errors: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.starts_with("ccusage-import: error: "))
        .collect();
    assert_eq!(
        errors,
        [format!(
            "ccusage-import: error: ClickHouse at {} refused the login for user ccusage_writer: \
             check CH_USER and CH_PASSWORD",
            server_url().trim_end_matches('/')
        )],
        "{}",
        run.stderr
    );
    assert!(
        run.stdout.contains("ClickHouse      refused the login at ")
            && !run.stdout.contains("unreachable"),
        "{}",
        run.stdout
    );
    for output in [&run.stdout, &run.stderr] {
        assert!(!output.contains("not-the-Secret-42"));
    }
}

#[test]
fn a_host_that_does_not_resolve_says_check_ch_host() {
    let env = TestEnv::new("dns");
    let (dir, bin) = fixture_stand_in(&env, "20.0.24", "20.0.24");
    let run = env
        .importer("laptop")
        .ccusage(&bin)
        .arg("--ch-url")
        .arg("http://no-such-host.invalid:8123")
        .arg("--max-retries")
        .arg("0")
        .run();
    assert_eq!(run.code, 3, "{}{}", run.stdout, run.stderr);
    let line = run.stderr.lines().next().unwrap_or_default();
    assert!(
        line.starts_with(
            "ccusage-import: error: cannot reach ClickHouse at http://no-such-host.invalid:8123"
        ),
        "{line}"
    );
    assert!(line.ends_with("check CH_HOST"), "{line}");
    assert!(!dir.join("calls.log").exists());
}

#[test]
fn a_read_only_user_gets_a_clear_error_and_the_data_stays() {
    let env = TestEnv::new("readonly");
    let (_, bin) = fixture_stand_in(&env, "20.0.24", "20.0.24");
    env.importer("laptop").ccusage(&bin).import_ok();
    let before = snapshot(&env);
    let run = env
        .importer("laptop")
        .ccusage(&bin)
        .arg("--ch-user")
        .arg("ccusage_reader")
        .env("CH_PASSWORD", "reader-secret-pw")
        .run();
    assert_eq!(run.code, 3, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("the user may not write"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("reader-secret-pw"));
    assert_eq!(snapshot(&env), before);
}

#[test]
fn a_server_that_never_answers_times_out() {
    let env = TestEnv::new("silent");
    let (dir, bin) = fixture_stand_in(&env, "20.0.24", "20.0.24");
    // Accepts connections and never says a word.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream);
        }
    });
    let started = Instant::now();
    let run = env
        .importer("laptop")
        .ccusage(&bin)
        .arg("--ch-url")
        .arg(format!("http://127.0.0.1:{port}"))
        .args_timeouts()
        .run();
    assert_eq!(run.code, 3, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("did not answer in time"),
        "{}",
        run.stderr
    );
    // One try and one retry of 1 s each, a short backoff between them.
    assert!(
        started.elapsed() < Duration::from_secs(6),
        "{:?}",
        started.elapsed()
    );
    assert!(
        !dir.join("calls.log").exists(),
        "ccusage ran although ClickHouse never answered"
    );
}

trait Timeouts {
    fn args_timeouts(self) -> Self;
}

impl Timeouts for Importer {
    fn args_timeouts(self) -> Self {
        self.arg("--ch-timeout")
            .arg("1")
            .arg("--max-retries")
            .arg("1")
            .arg("--retry-delay")
            .arg("100")
    }
}

#[test]
fn a_server_stopped_mid_run_and_started_again_is_retried_and_nothing_is_lost() {
    let env = TestEnv::new("restart");
    let server = PrivateServer::start(env.path("server"));
    let url = server.url();
    let (dir, bin) = fixture_stand_in(&env, "20.0.24", "20.0.24");
    let totals = "SELECT sum(input_tokens), sum(output_tokens), sum(cache_creation_tokens), \
                  sum(cache_read_tokens), toFloat64(sum(total_cost)) FROM ccusage_v_daily_summary";
    let query = |sql_text: &str| {
        let out = std::process::Command::new("curl")
            .args(["-sS", "--fail-with-body", "--data-binary", sql_text])
            .arg(format!("{url}/?database={}", env.database))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stdout)
        );
        String::from_utf8(out.stdout).unwrap()
    };

    // A machine imported before the failure.
    env.importer("before")
        .ccusage(&bin)
        .arg("--ch-url")
        .arg(&url)
        .import_ok();
    let before = query(&format!("{totals} WHERE machine_name = 'before'"));

    hold_reports_until_go(&dir);
    let mut child = env
        .importer("laptop")
        .ccusage(&bin)
        .arg("--ch-url")
        .arg(&url)
        .arg("--retry-delay")
        .arg("700")
        .arg("--max-retries")
        .arg("6")
        .arg("--json")
        .spawn(Stdio::piped(), Stdio::piped());
    // The schema is applied before ccusage runs; stop the server while the reports run.
    wait_for("the reports to start", Duration::from_secs(20), || {
        std::fs::read_to_string(dir.join("calls.log")).is_ok_and(|c| c.lines().count() >= 6)
    });
    server.stop();
    std::fs::write(dir.join("go"), "").unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    server.resume();
    let status = child.wait().unwrap();
    let mut stdout = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .unwrap();
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert_eq!(status.code(), Some(0), "{stdout}\n{stderr}");

    assert_eq!(
        query(&format!("{totals} WHERE machine_name = 'before'")),
        before
    );
    assert_eq!(
        query(&format!("{totals} WHERE machine_name = 'laptop'")),
        before,
        "the retried import must hold exactly the same usage as the one before"
    );
    // The next run finds everything in place and writes no usage row.
    std::fs::remove_file(dir.join("calls.log")).unwrap();
    let again = env
        .importer("laptop")
        .ccusage(&bin)
        .arg("--ch-url")
        .arg(&url)
        .import_ok();
    assert_eq!(again["tables"]["ccusage_usage_daily"], 0);
    assert_eq!(again["tables"]["ccusage_usage_sessions"], 0);
}

#[test]
fn a_second_run_is_refused_while_the_first_holds_the_lock_and_a_killed_run_leaves_none() {
    let env = TestEnv::new("lock");
    let (dir, bin) = fixture_stand_in(&env, "20.0.24", "20.0.24");
    hold_reports_until_go(&dir);
    let mut first = env
        .importer("laptop")
        .ccusage(&bin)
        .spawn(Stdio::null(), Stdio::null());
    wait_for("the first run's reports", Duration::from_secs(20), || {
        std::fs::read_to_string(dir.join("calls.log")).is_ok_and(|c| c.lines().count() >= 6)
    });
    let second = env.importer("laptop").ccusage(&bin).run();
    assert_eq!(second.code, 5, "{}{}", second.stdout, second.stderr);
    let pid = first.id();
    assert!(
        second
            .stderr
            .contains(&format!("another import is still running (pid {pid} since")),
        "{}",
        second.stderr
    );
    // A run killed outright leaves no stale lock: the kernel drops it with the process.
    first.kill().unwrap();
    first.wait().unwrap();
    std::fs::write(dir.join("go"), "").unwrap();
    let third = env.importer("laptop").ccusage(&bin).run();
    assert_eq!(third.code, 0, "{}{}", third.stdout, third.stderr);
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
fn tls_is_used_with_certificate_verification() {
    let env = TestEnv::new("tls");
    let (dir, bin) = fixture_stand_in(&env, "20.0.24", "20.0.24");
    // A TLS server with a self-signed certificate: the handshake must be refused.
    let key = env.path("key.pem");
    let cert = env.path("cert.pem");
    let made = std::process::Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
        ])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .unwrap();
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let port = free_port();
    let mut server = std::process::Command::new("openssl")
        .args(["s_server", "-quiet", "-accept", &port.to_string(), "-www"])
        .arg("-cert")
        .arg(&cert)
        .arg("-key")
        .arg(&key)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for("openssl s_server", Duration::from_secs(10), || {
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    let run = env
        .importer("laptop")
        .ccusage(&bin)
        .arg("--ch-url")
        .arg("")
        .arg("--ch-host")
        .arg("localhost")
        .arg("--ch-port")
        .arg(port.to_string())
        .arg("--ch-secure")
        .arg("true")
        .arg("--max-retries")
        .arg("0")
        .run();
    server.kill().unwrap();
    server.wait().unwrap();
    assert_eq!(run.code, 3, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains(&format!("https://localhost:{port}")),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.to_lowercase().contains("certificate"),
        "{}",
        run.stderr
    );
    assert!(!dir.join("calls.log").exists());
}

#[test]
fn ctrl_c_or_sigterm_kills_every_report_and_exits_130_or_143() {
    for (signal, code) in [("INT", 130), ("TERM", 143)] {
        let env = TestEnv::new("signal");
        let (dir, bin) = fixture_stand_in(&env, "20.0.24", "20.0.24");
        script_report(
            &dir,
            "daily",
            "sleep 300 &\necho $! > \"$D/grandchild.pid\"\necho $$ > \"$D/script.pid\"\nsleep 300",
        );
        let mut child = env
            .importer("laptop")
            .ccusage(&bin)
            .spawn(Stdio::null(), Stdio::piped());
        wait_for("the hung report", Duration::from_secs(20), || {
            dir.join("script.pid").exists() && dir.join("grandchild.pid").exists()
        });
        let status = std::process::Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(child.id().to_string())
            .status()
            .unwrap();
        assert!(status.success());
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
                "{pid_file} {pid} still runs"
            );
        }
    }
}

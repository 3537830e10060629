//! Unattended runs (issue 6): ClickHouse faults (a refused login, a read-only user, a server
//! that never answers or stops mid-run) and the retries that carry an import through them.

use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::harness::*;

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
    let child = env
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
    let run = finished(child);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);

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

//! Never leak (issue 14): the password in no output, stored row or child environment, a URL
//! holding credentials refused unshown, a server or proxy echoing the password redacted. Each
//! test drives the real binary. (The lock, signals and settings that issue also hardened are in
//! `lock.rs`, `signals.rs` and `settings.rs`.)

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use crate::harness::*;

/// The test server's writer account (scripts/clickhouse-server.sh).
const USER: &str = "ccusage_writer";
const PASSWORD: &str = "writer-secret-pw";

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
            .ccusage(&bin)
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

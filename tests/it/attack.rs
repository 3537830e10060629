//! Issue 27, "hostile input, round three": the dashboard, the key files and the cluster under
//! attack. Each test is one attack from the issue, replayed as a sequence, with what must hold.
//! (Its invisible machine names share a table driver with the others in `settings.rs`.)

use std::io::{ErrorKind, Read as _, Write as _};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::dashboard::Dashboard;
use crate::harness::*;

/// GET `path` from a running dashboard; the body.
fn get(dashboard: &Dashboard, path: &str) -> String {
    let out = Command::new("curl")
        .args(["-sS", "--max-time", "30"])
        .arg(format!("{}{path}", dashboard.url))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{path}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Whether a CSV field (unquoted) would run as a formula in a spreadsheet.
fn live_formula(field: &str) -> bool {
    field.starts_with(['=', '+', '-', '@', '\t', '\r'])
}

/// RFC 4180 records as a spreadsheet reads them: quoted fields unquoted.
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let (mut records, mut record, mut field) = (Vec::new(), Vec::new(), String::new());
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') => quoted = true,
            (false, ',') => record.push(std::mem::take(&mut field)),
            (false, '\r') => {}
            (false, '\n') => {
                record.push(std::mem::take(&mut field));
                records.push(std::mem::take(&mut record));
            }
            (false, c) => field.push(c),
        }
    }
    records
}

/// A project directory and a machine named as formulas, on a fleet machine: every CSV (the
/// dashboard's downloads and `query --format csv`) writes them inert with a leading `'`; the
/// JSON API and `--format json` keep them exact.
#[test]
fn names_that_look_like_formulas_are_inert_in_every_csv_and_exact_in_json() {
    let env = TestEnv::new("attack_csv");
    let project = "=HYPERLINK(\"http://evil.example\",\"x\")";
    let machine = "@SUM(1+1)";
    std::fs::create_dir_all(env.path(project)).unwrap();
    let cwd = env.path(project).display().to_string();
    let args = [
        "--days",
        "3",
        "--lines",
        "80",
        "--seed",
        "7",
        "--project-cwd",
        &cwd,
    ];
    let claude = env.generate_logs("logs", &args);
    env.importer(machine).logs(&claude).import_ok();

    let dashboard = Dashboard::start(env.importer("viewer"), &[]);
    let json: Value = serde_json::from_str(&get(&dashboard, "api/panel/projects")).unwrap();
    let exact = json["rows"][0][0].as_str().unwrap().to_owned();
    // Named from the logged cwd: the directory itself, a formula from its first character.
    assert_eq!(exact, project, "the JSON API keeps the name");
    let json: Value = serde_json::from_str(&get(&dashboard, "api/panel/machines_usage")).unwrap();
    assert_eq!(
        json["rows"][0][0], machine,
        "the JSON API keeps the machine"
    );

    let query = |args: &[&str]| {
        let run = env.importer(machine).arg("query").args(args).run();
        assert_eq!(run.code, 0, "{}", run.stderr);
        run.stdout
    };
    let csvs = [
        (
            "api projects",
            get(&dashboard, "api/panel/projects?format=csv"),
        ),
        (
            "api machines",
            get(&dashboard, "api/panel/machines_usage?format=csv"),
        ),
        (
            "query fleet_machine_totals",
            query(&["fleet_machine_totals", "--format", "csv"]),
        ),
        (
            "query fleet_projects",
            query(&["fleet_projects", "--format", "csv"]),
        ),
    ];
    for (what, csv) in &csvs {
        let records = parse_csv(csv);
        assert!(records.len() > 1, "{what}: no rows");
        for field in records.iter().flatten() {
            assert!(!live_formula(field), "{what}: a live formula {field:?}");
        }
        let fields: Vec<&String> = records.iter().flatten().collect();
        assert!(
            fields
                .iter()
                .any(|f| **f == format!("'{machine}") || **f == format!("'{exact}")),
            "{what}: the name is written with a leading quote:\n{csv}"
        );
    }
    let json = query(&["fleet_machine_totals", "--format", "json"]);
    assert!(json.contains(&format!("\"{machine}\"")), "{json}");
}

/// The dashboard's header timeout and connection cap (src/dashboard/mod.rs), as the test knows
/// them.
const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
const MAX_CONNECTIONS: usize = 256;
const TOKEN: &str = "attack-test-token-0123456789abcdef";

/// Whether the server closed `stream` within `limit` (a read sees the end or a reset).
fn closed_within(stream: &mut TcpStream, limit: Duration) -> bool {
    let started = Instant::now();
    stream
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let mut buf = [0u8; 4096];
    while started.elapsed() < limit {
        match stream.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => {}
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => return true,
        }
    }
    false
}

/// Idle clients (connected, sending nothing) beyond the connection cap, and slow clients
/// trickling their headers a byte at a time, are all closed after the header timeout, and a
/// request with the token still gets its answer while they hold the server: at once while
/// they fit under the cap, within the header timeout when they fill it.
#[test]
fn idle_and_slow_clients_are_closed_and_never_lock_out_a_real_request() {
    let env = TestEnv::new("attack_idle");
    let dashboard = Dashboard::start(
        env.importer("viewer")
            .env("CCUSAGE_IMPORT_DASHBOARD_TOKEN", TOKEN),
        &[],
    );
    let address = dashboard
        .url
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned();
    let answer = || {
        let started = Instant::now();
        let out = Command::new("curl")
            .args([
                "-sS",
                "-o",
                "/dev/null",
                "-w",
                "%{http_code}",
                "--max-time",
                "60",
            ])
            .args(["-H", &format!("Authorization: Bearer {TOKEN}")])
            .arg(format!("{}api/config", dashboard.url))
            .output()
            .unwrap();
        (
            String::from_utf8_lossy(&out.stdout).into_owned(),
            started.elapsed(),
        )
    };
    let connect = |n: usize| -> Vec<TcpStream> {
        (0..n)
            .map(|_| TcpStream::connect(&address).unwrap())
            .collect()
    };

    // Under the cap: the real request is answered at once.
    let mut idle = connect(MAX_CONNECTIONS / 2);
    let (code, took) = answer();
    assert_eq!(code, "200");
    assert!(took < Duration::from_secs(3), "answered after {took:?}");

    // Over the cap, with slow clients among them.
    idle.extend(connect(MAX_CONNECTIONS));
    let slow: Vec<std::thread::JoinHandle<Duration>> = (0..4)
        .map(|_| {
            let mut stream = TcpStream::connect(&address).unwrap();
            std::thread::spawn(move || {
                let started = Instant::now();
                let request =
                    format!("GET /api/config HTTP/1.1\r\nAuthorization: Bearer {TOKEN}\r\nX-Pad: ");
                for byte in request.bytes().chain(std::iter::repeat(b'a')) {
                    if stream.write_all(&[byte]).is_err() || started.elapsed() > HEADER_TIMEOUT * 4
                    {
                        break;
                    }
                    std::thread::sleep(Duration::from_millis(300));
                }
                started.elapsed()
            })
        })
        .collect();
    let (code, took) = answer();
    assert_eq!(code, "200");
    assert!(
        took < HEADER_TIMEOUT * 2 + Duration::from_secs(5),
        "a real request waited {took:?} behind idle clients"
    );
    for handle in slow {
        let lasted = handle.join().unwrap();
        assert!(
            lasted < HEADER_TIMEOUT * 3,
            "a client trickling its headers was served for {lasted:?}"
        );
    }
    // Every idle connection is closed by the server, none kept past the timeouts.
    let started = Instant::now();
    for stream in &mut idle {
        let left = (HEADER_TIMEOUT * 4).saturating_sub(started.elapsed());
        assert!(
            closed_within(stream, left),
            "an idle connection was kept open"
        );
    }
}

/// The status line's code and the headers of a GET, as curl prints them (`-D -`).
fn head(url: &str, extra: &[&str]) -> (String, String) {
    let out = Command::new("curl")
        .args([
            "-sS",
            "-o",
            "/dev/null",
            "-D",
            "-",
            "--max-time",
            "30",
            "--path-as-is",
        ])
        .args(extra)
        .arg(url)
        .output()
        .unwrap();
    let headers = String::from_utf8_lossy(&out.stdout).into_owned();
    let code = headers
        .split_whitespace()
        .nth(1)
        .unwrap_or_default()
        .to_owned();
    (code, headers)
}

fn header_value(headers: &str, name: &str) -> Option<String> {
    headers.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        key.eq_ignore_ascii_case(name)
            .then(|| value.trim().to_owned())
    })
}

/// A `?token=` visit, however the parameter's name is encoded and whatever path it names,
/// redirects to a path of this server without it; the cookie holds a value derived from the
/// token (never the token), good only for this dashboard process, `Secure` behind HTTPS.
#[test]
fn the_cookie_never_holds_the_token_and_the_redirect_stays_here_without_it() {
    let env = TestEnv::new("attack_cookie");
    let start = || {
        Dashboard::start(
            env.importer("viewer")
                .env("CCUSAGE_IMPORT_DASHBOARD_TOKEN", TOKEN),
            &[],
        )
    };
    let dashboard = start();
    let base = dashboard.url.trim_end_matches('/').to_owned();
    let visits = [
        ("/?token=T&machine=a", "/?machine=a"),
        ("/?tok%65n=T&machine=a", "/?machine=a"),
        ("/?%74%6F%6B%65%6E=T", "/"),
        ("//evil.example/?token=T", "/evil.example/"),
        ("/\\evil.example/?token=T", "/evil.example/"),
    ];
    let mut cookie = String::new();
    for (visit, location) in visits {
        let (code, headers) = head(&format!("{base}{}", visit.replace('T', TOKEN)), &[]);
        assert_eq!(code, "303", "{visit}: {headers}");
        assert_eq!(
            header_value(&headers, "location").as_deref(),
            Some(location),
            "{visit}"
        );
        let set = header_value(&headers, "set-cookie").unwrap();
        assert!(
            !set.contains(TOKEN),
            "{visit}: the cookie holds the token: {set}"
        );
        assert!(
            set.contains("HttpOnly") && set.contains("SameSite=Strict"),
            "{set}"
        );
        assert!(!set.contains("Secure"), "plain HTTP: {set}");
        cookie = set.split(';').next().unwrap().to_owned();
    }
    let config = format!("{base}/api/config");
    assert_eq!(
        head(&config, &["-H", &format!("Cookie: {cookie}")]).0,
        "200"
    );
    // The token itself in a cookie is not a session; the session is not a token.
    let value = cookie.split_once('=').unwrap().1;
    let forged = format!("Cookie: ccusage_dashboard_session={TOKEN}");
    assert_eq!(head(&config, &["-H", &forged]).0, "401");
    let old_name = format!("Cookie: ccusage_dashboard_token={TOKEN}");
    assert_eq!(head(&config, &["-H", &old_name]).0, "401");
    let bearer = format!("Authorization: Bearer {value}");
    assert_eq!(head(&config, &["-H", &bearer]).0, "401");
    // Behind a TLS proxy the cookie is Secure.
    let (_, headers) = head(
        &format!("{base}/?token={TOKEN}"),
        &["-H", "X-Forwarded-Proto: https"],
    );
    assert!(header_value(&headers, "set-cookie")
        .unwrap()
        .contains("; Secure"));
    // Another dashboard with the same token (another port, or this one restarted) does not
    // take the cookie.
    let other = start();
    let other_config = format!("{}api/config", other.url);
    assert_eq!(
        head(&other_config, &["-H", &format!("Cookie: {cookie}")]).0,
        "401"
    );
    assert_eq!(
        head(&config, &["-H", &format!("Cookie: {cookie}")]).0,
        "200"
    );
}

/// What a person may mistakenly point the key or the token file at.
fn not_small_files(env: &TestEnv) -> Vec<(PathBuf, &'static str)> {
    let fifo = env.fifo("fifo");
    let big = env.path("big");
    std::fs::write(&big, "0123456789abcdef".repeat(1024)).unwrap();
    let dir = env.path("a-directory");
    std::fs::create_dir_all(&dir).unwrap();
    vec![
        (fifo, "is a FIFO, not a regular file"),
        (
            PathBuf::from("/dev/zero"),
            "is a device, not a regular file",
        ),
        (dir, "is a directory, not a regular file"),
        (big, "is larger than 4096 bytes"),
    ]
}

/// A FIFO, a device, a directory or a 16 KiB file as the project key file or the dashboard's
/// token file: refused at once with one line naming what lies there, exit 2, nothing written
/// (a FIFO used to hang the import, SIGTERM included).
#[test]
fn key_and_token_files_that_are_fifos_devices_directories_or_huge_are_refused_at_once() {
    let env = TestEnv::new("attack_keyfile");
    let claude = env.generate_logs("logs", &["--days", "2", "--lines", "40", "--seed", "8"]);
    env.importer("laptop")
        .logs(&claude)
        .args(["--projects", "hash"])
        .env("CCUSAGE_IMPORT_PROJECT_KEY_FILE", env.path("good.key"))
        .import_ok();
    let before = snapshot(&env);
    for (path, says) in not_small_files(&env) {
        let what = path.display().to_string();
        let run = env
            .importer("laptop")
            .logs(&claude)
            .args(["--projects", "hash"])
            .env("CCUSAGE_IMPORT_PROJECT_KEY_FILE", &path)
            .run_within(Duration::from_secs(20));
        assert_eq!(run.code, 2, "key {what}: {}", run.stderr);
        assert_eq!(run.stderr.trim().lines().count(), 1, "{}", run.stderr);
        assert!(
            run.stderr.contains("project key file") && run.stderr.contains(says),
            "key {what}: {}",
            run.stderr
        );
        let run = env
            .importer("viewer")
            .args(["dashboard", "--listen", "127.0.0.1:0", "--token-file"])
            .arg(&path)
            .run_within(Duration::from_secs(20));
        assert_eq!(run.code, 2, "token {what}: {}", run.stderr);
        assert_eq!(run.stderr.trim().lines().count(), 1, "{}", run.stderr);
        assert!(
            run.stderr.contains("token file") && run.stderr.contains(says),
            "token {what}: {}",
            run.stderr
        );
    }
    assert_eq!(snapshot(&env), before, "stored rows changed");
}

/// A peer on loopback that answers every HTTP request with 200 and a body that never ends;
/// each connection's thread stops when the client goes away. Returns its URL.
fn endless_server() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            std::thread::spawn(move || {
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") {
                    match stream.read(&mut byte) {
                        Ok(1) => head.push(byte[0]),
                        _ => return,
                    }
                }
                let _ = stream.write_all(
                    b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n",
                );
                let chunk = vec![b'7'; 64 * 1024];
                while stream.write_all(&chunk).is_ok() {}
            });
        }
    });
    url
}

/// The largest resident size of a finished command, from GNU time's `%M` (KiB) on its last
/// stderr line; the run without that line.
fn peak_kib(run: &Run) -> (u64, String) {
    let (rest, last) = run
        .stderr
        .trim_end()
        .rsplit_once('\n')
        .unwrap_or(("", &run.stderr));
    (last.trim().parse().unwrap_or(u64::MAX), rest.to_owned())
}

/// A "ClickHouse" that streams an endless answer: the import, a named query and the dashboard
/// (its static file and its API) each stop reading at CH_MAX_RESPONSE and fail with one line
/// saying so, exit 3, instead of reading gigabytes into memory. The default bound (256 MiB)
/// holds too.
#[test]
fn an_endless_answer_from_clickhouse_fails_at_the_bound_for_the_importer_and_the_dashboard() {
    let env = TestEnv::new("attack_endless");
    let url = endless_server();
    let timed = |importer: Importer| {
        let command = importer.env("CH_URL", &url).command;
        let program = command.get_program().to_owned();
        let args: Vec<_> = command.get_args().map(|a| a.to_owned()).collect();
        // GNU time prints the peak resident size last (--quiet: not the exit status).
        let mut timed = Command::new("/usr/bin/time");
        timed.args(["--quiet", "-f", "%M"]).arg(program).args(args);
        timed.env_clear();
        for (key, value) in command.get_envs() {
            if let Some(value) = value {
                timed.env(key, value);
            }
        }
        timed.current_dir(env.dir.path());
        Importer { command: timed }.run_within(Duration::from_secs(60))
    };
    let mib = |n: u64| (n << 20).to_string();
    let cases: Vec<(&str, Importer, u64)> = vec![
        (
            "import",
            env.importer("laptop").env("CH_MAX_RESPONSE", mib(8)),
            8,
        ),
        (
            "query",
            env.importer("laptop")
                .env("CH_MAX_RESPONSE", mib(8))
                .args(["query", "fleet_machine_totals"]),
            8,
        ),
        (
            "dashboard --html",
            env.importer("viewer")
                .env("CH_MAX_RESPONSE", mib(8))
                .args(["dashboard", "--html"])
                .arg(env.path("report.html")),
            8,
        ),
        ("import, the default bound", env.importer("laptop"), 256),
    ];
    for (what, importer, bound) in cases {
        let run = timed(importer);
        let (peak, stderr) = peak_kib(&run);
        assert_eq!(run.code, 3, "{what}: {stderr}");
        assert_eq!(stderr.trim().lines().count(), 1, "{what}: {stderr}");
        assert!(
            stderr.contains(&format!("answered more than {} bytes", bound << 20))
                && stderr.contains("CH_MAX_RESPONSE"),
            "{what}: {stderr}"
        );
        assert!(
            peak < (2 * bound + 100) * 1024,
            "{what}: {peak} KiB resident for a bound of {bound} MiB"
        );
        eprintln!("{what}: peak {peak} KiB");
    }

    // The served dashboard: the panel fails with a 503 saying so, and it keeps serving.
    let dashboard = Dashboard::start(
        env.importer("viewer")
            .env("CH_URL", &url)
            .env("CH_MAX_RESPONSE", mib(8)),
        &[],
    );
    let out = Command::new("curl")
        .args(["-sS", "--max-time", "60", "-w", "\n%{http_code}"])
        .arg(format!("{}api/panel/headline", dashboard.url))
        .output()
        .unwrap();
    let body = String::from_utf8_lossy(&out.stdout);
    assert!(body.ends_with("\n503"), "{body}");
    assert!(body.contains("CH_MAX_RESPONSE"), "{body}");
}

/// Sessions (tokens, count) and projects (tokens) as stored, against ccusage's: a key change
/// that stored usage again would double them.
fn assert_counted_once(env: &TestEnv, claude: &Path, step: &str) {
    use crate::projects::{ccusage_sums, sums};
    let (sessions, projects) = ccusage_sums(claude);
    let stored = sums(
        env,
        "ccusage_v_session_summary",
        "(project_path, session_id)",
    );
    assert_eq!(
        (stored.0, stored.2),
        (sessions.0, sessions.2),
        "{step}: sessions"
    );
    let stored = sums(env, "ccusage_v_project_daily", "project");
    assert_eq!(stored.0, projects.0, "{step}: project tokens");
}

/// In hash and hidden mode, the project key file moved away, or replaced by another key: the
/// import is refused (exit 2, one line saying what happened and to restore the key), no key
/// is created, nothing is written; with the key back, the next import counts everything once.
/// (Before, a new key was created silently and every project and session counted twice.)
#[test]
fn a_lost_or_replaced_project_key_is_refused_and_the_restored_key_counts_once() {
    for mode in ["hash", "hidden"] {
        let env = TestEnv::new(&format!("attack_key_{mode}"));
        let home = env.path("dev");
        let claude = crate::projects::logs_under(&env, &home, &["proj-a", "work/proj-b"], "9");
        let key = env.path("keys/project.key");
        let run = |extra: &[&str]| {
            env.importer("laptop")
                .env("HOME", &home)
                .env("CCUSAGE_IMPORT_PROJECT_KEY_FILE", &key)
                .logs(&claude)
                .args(["--projects", mode])
                .args(extra)
                .run()
        };
        // The machine's first run in this mode creates the key.
        let first = run(&[]);
        assert_eq!(first.code, 0, "{mode}: {}", first.stderr);
        assert!(key.exists());
        assert_counted_once(&env, &claude, mode);
        let text = std::fs::read_to_string(&key).unwrap();
        let before = snapshot(&env);

        let moved = env.path("project.key.bak");
        std::fs::rename(&key, &moved).unwrap();
        let other = env.path("other.key");
        std::fs::write(&other, "another-key-0123456789abcdef\n").unwrap();
        let cases: [(&str, Option<&Path>, &[&str], &str); 4] = [
            ("key moved away", None, &[], "is missing"),
            (
                "another key",
                Some(&other),
                &[],
                "under another project key",
            ),
            (
                "another key, --rekey-projects",
                Some(&other),
                &["--rekey-projects"],
                "under another project key",
            ),
            (
                "key moved away, --rekey-projects",
                None,
                &["--rekey-projects"],
                "is missing",
            ),
        ];
        for (what, put, extra, says) in cases {
            let _ = std::fs::remove_file(&key);
            if let Some(put) = put {
                std::fs::copy(put, &key).unwrap();
            }
            let refused = run(extra);
            assert_eq!(refused.code, 2, "{mode}, {what}: {}", refused.stderr);
            assert_eq!(
                refused.stderr.trim().lines().count(),
                1,
                "{}",
                refused.stderr
            );
            assert!(
                refused.stderr.contains(says) && refused.stderr.contains("Restore"),
                "{mode}, {what}: {}",
                refused.stderr
            );
            assert!(!refused.stderr.contains(text.trim()), "the key was shown");
            assert_eq!(
                key.exists(),
                put.is_some(),
                "{mode}, {what}: a key was created"
            );
            assert_eq!(
                snapshot(&env),
                before,
                "{mode}, {what}: stored rows changed"
            );
        }

        let _ = std::fs::remove_file(&key);
        std::fs::rename(&moved, &key).unwrap();
        let back = run(&["--json"]);
        assert_eq!(back.code, 0, "{mode}: {}", back.stderr);
        assert_counted_once(&env, &claude, &format!("{mode}, key restored"));
        // What is stored is a fingerprint of the key, not the key.
        let fingerprint = env.sql("SELECT key_fingerprint FROM ccusage_machines FINAL FORMAT TSV");
        assert_eq!(fingerprint.trim().len(), 16, "{fingerprint}");
        assert!(!text.contains(fingerprint.trim()) && !fingerprint.contains(text.trim()));
    }
}

/// Total tokens per day as ccusage reports them and as stored.
fn days_by_ccusage(claude: &Path) -> std::collections::BTreeMap<String, u64> {
    ccusage(claude, &["claude", "daily"])["daily"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["date"].as_str().unwrap().to_owned(),
                d["totalTokens"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn days_stored(env: &TestEnv) -> std::collections::BTreeMap<String, u64> {
    env.sql("SELECT date, total_tokens FROM ccusage_v_daily_summary FORMAT TSV")
        .lines()
        .map(|l| {
            let (d, t) = l.split_once('\t').unwrap();
            (d.to_owned(), t.parse().unwrap())
        })
        .collect()
}

/// A log line with 9·10¹⁵ input tokens (a cost far above the $999,999,999 a row can hold)
/// appears after a good import: only the rows holding it (its day, its session, its block) are
/// refused with a warning naming the day; the other days are imported, and the day keeps the
/// figure stored before. (Before, every report failed, and kept failing while the file stayed.)
#[test]
fn a_log_line_with_an_absurd_cost_refuses_only_its_rows_and_names_the_day() {
    let env = TestEnv::new("attack_cost");
    let claude = env.generate_logs("logs", &["--days", "5", "--lines", "200", "--seed", "11"]);
    env.importer("laptop").logs(&claude).import_ok();
    let before = days_stored(&env);
    assert_eq!(before, days_by_ccusage(&claude));

    // The line: a copy of a real one, with its own ids and the absurd count.
    let file = std::fs::read_dir(claude.join("projects"))
        .unwrap()
        .flat_map(|d| std::fs::read_dir(d.unwrap().path()).unwrap())
        .map(|f| f.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "jsonl"))
        .unwrap();
    let text = std::fs::read_to_string(&file).unwrap();
    let mut line: Value = text
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|v| v["message"]["usage"].is_object())
        .unwrap();
    line["message"]["id"] = "msg_attack_absurd".into();
    line["requestId"] = "req_attack_absurd".into();
    line["uuid"] = "00000000-0000-4000-8000-000000000027".into();
    line["message"]["usage"]["input_tokens"] = 9_000_000_000_000_000u64.into();
    let day = line["timestamp"].as_str().unwrap()[..10].to_owned();
    std::fs::write(&file, format!("{text}{line}\n")).unwrap();
    let reported = days_by_ccusage(&claude);
    assert!(
        reported[&day] > 9_000_000_000_000_000,
        "ccusage counts the line"
    );

    let run = env.importer("laptop").logs(&claude).arg("--json").run();
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let warnings = run.json()["warnings"].to_string();
    assert!(
        warnings.contains("daily report: refused the rows of")
            && warnings.contains(&day)
            && warnings.contains("999999999"),
        "{warnings}"
    );
    let after = days_stored(&env);
    for (date, tokens) in &reported {
        let want = if *date == day { before[date] } else { *tokens };
        assert_eq!(after.get(date), Some(&want), "{date}");
    }
    // Sessions and blocks without the line are stored; the session holding it keeps its
    // earlier figure.
    let sessions = env.sql("SELECT count() FROM ccusage_v_session_summary FORMAT TSV");
    assert!(sessions.trim().parse::<u64>().unwrap() > 0);
}

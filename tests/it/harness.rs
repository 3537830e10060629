//! The test harness: a real ClickHouse server, real ccusage on generated logs, a stand-in
//! ccusage for versions and failures, and a cleared environment for every run of the binary.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::Value;

pub const BIN: &str = env!("CARGO_BIN_EXE_ccusage-import");
pub const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// The server every test uses: `CLICKHOUSE_URL` when set (scripts/test.sh sets it), else one
/// started once under target/ by scripts/clickhouse-server.sh and left running for the next run.
pub fn server_url() -> &'static str {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| {
        if let Ok(url) = std::env::var("CLICKHOUSE_URL") {
            return url;
        }
        let dir = Path::new(ROOT).join("target/it-clickhouse");
        let out = Command::new("bash")
            .arg(Path::new(ROOT).join("scripts/clickhouse-server.sh"))
            .args(["start", "--dir"])
            .arg(&dir)
            .args(["--http-port", "28124", "--tcp-port", "29001"])
            .output()
            .expect("run scripts/clickhouse-server.sh");
        assert!(
            out.status.success(),
            "could not start ClickHouse for the tests (set CLICKHOUSE_URL or run scripts/test.sh): {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let stdout = String::from_utf8_lossy(&out.stdout);
        stdout.lines().last().expect("the script prints the URL").trim().to_owned()
    })
}

/// Runs SQL on the test server and returns TabSeparated text.
pub fn sql(database: &str, query: &str) -> String {
    sql_as(database, query, "default", "")
}

pub fn sql_as(database: &str, query: &str, user: &str, password: &str) -> String {
    curl_sql(server_url(), database, query, Some((user, password)))
}

/// Posts `query` to the server at `url` with curl, as `user` when given; insists on success.
fn curl_sql(url: &str, database: &str, query: &str, user: Option<(&str, &str)>) -> String {
    let mut curl = Command::new("curl");
    curl.args(["-sS", "--fail-with-body", "--data-binary", "@-"]);
    if let Some((user, password)) = user {
        curl.args(["-H", &format!("X-ClickHouse-User: {user}")])
            .args(["-H", &format!("X-ClickHouse-Key: {password}")]);
    }
    let out = curl
        .arg(format!("{url}/?database={database}"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child.stdin.take().unwrap().write_all(query.as_bytes())?;
            child.wait_with_output()
        })
        .expect("run curl");
    assert!(
        out.status.success(),
        "query failed at {url}: {query}\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The small data set the fixtures were captured from: 2 projects, 8 days, an active block.
pub const SMALL: &[&str] = &[
    "--projects",
    "2",
    "--days",
    "8",
    "--lines",
    "400",
    "--seed",
    "1",
    "--active",
];

/// One test's world: a temp dir, a database of its own, logs and settings.
pub struct TestEnv {
    pub dir: tempfile::TempDir,
    pub database: String,
}

impl TestEnv {
    pub fn new(name: &str) -> TestEnv {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let database = format!("it_{name}_{}_{n}", std::process::id());
        TestEnv {
            dir: tempfile::tempdir().unwrap(),
            database,
        }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// A FIFO in the test's directory: a file that a careless open waits on forever.
    pub fn fifo(&self, name: &str) -> PathBuf {
        let path = self.path(name);
        let made = Command::new("mkfifo").arg(&path).status().unwrap();
        assert!(made.success(), "mkfifo {}", path.display());
        path
    }

    /// Writes Claude Code logs with the project's generator; returns the config dir.
    pub fn generate_logs(&self, name: &str, args: &[&str]) -> PathBuf {
        let out = self.path(name);
        let run = Command::new("python3")
            .arg(Path::new(ROOT).join("scripts/gen_claude_logs.py"))
            .arg("--out")
            .arg(&out)
            .args(args)
            .output()
            .expect("run python3");
        assert!(
            run.status.success(),
            "the log generator failed: {}",
            String::from_utf8_lossy(&run.stderr)
        );
        out
    }

    /// A run of the importer with a cleared environment: nothing leaks in from the
    /// developer's shell, and no stray .env is read (the cwd is the temp dir).
    pub fn importer(&self, machine: &str) -> Importer {
        let mut command = Command::new(BIN);
        command
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.dir.path())
            .current_dir(self.dir.path())
            .env("CH_URL", server_url())
            .env("CH_DATABASE", &self.database)
            .args(["--machine-name", machine]);
        Importer { command }
    }

    /// How many rows `table` holds, all versions counted (no FINAL).
    pub fn count(&self, table: &str) -> String {
        self.sql(&format!("SELECT count() FROM {table}"))
            .trim()
            .to_owned()
    }

    pub fn sql(&self, query: &str) -> String {
        sql(&self.database, query)
    }

    /// A stand-in ccusage that prints `version` for --version and the file named after the
    /// report for each report (daily, session, blocks, hours, instances, agents), from `dir`
    /// (`[]`, no rows, where the file is missing);
    /// an executable `<report>.sh` there runs instead. A one-day session report (`session
    /// --since D`) runs `session_day.sh`, else prints the sessions the session report prints
    /// (`session.sh` or `session.json`) whose last activity falls on D.
    /// Every call's arguments are appended to dir/calls.log.
    pub fn stand_in(&self, dir: &Path, version: &str) -> PathBuf {
        std::fs::create_dir_all(dir).unwrap();
        let script = dir.join("ccusage");
        let body = format!(
            r#"#!/bin/sh
d='{dir}'
echo "$*" >> "$d/calls.log"
case " $* " in
  *" --version "*) echo '{version}'; exit 0 ;;
  *" --instances "*) r=instances ;;
  *" --by-agent "*) r=agents ;;
  *" session "*" --since "*) r=session_day ;;
  *" session "*) r=session ;;
  *" --session-length "*) r=hours ;;
  *" blocks "*) r=blocks ;;
  *" daily "*) r=daily ;;
  *) echo "stand-in: unexpected arguments $*" >&2; exit 64 ;;
esac
if [ "$r" = session_day ] && [ ! -x "$d/session_day.sh" ]; then
  # A one-day session report: what the session report prints (its script's output, or
  # session.json), each session on the day of its last activity (so the days add up to the
  # sessions); a failing script fails it, output of another shape passes unchanged.
  out="$d/session_day.$$.out"
  if [ -x "$d/session.sh" ]; then
    "$d/session.sh" > "$out"; rc=$?
    if [ $rc -ne 0 ]; then cat "$out"; rm -f "$out"; exit $rc; fi
  elif [ -f "$d/session.json" ]; then cp "$d/session.json" "$out"
  else echo '[]' > "$out"
  fi
  prev=; for a in "$@"; do [ "$prev" = --since ] && since=$a; prev=$a; done
  python3 -c '
import json, sys
text = open(sys.argv[1]).read()
try:
    report = json.loads(text)
except ValueError:
    report = None
if not isinstance(report, dict) or not isinstance(report.get("sessions"), list):
    sys.stdout.write(text)
    sys.exit(0)
day = sys.argv[2][:4] + "-" + sys.argv[2][4:6] + "-" + sys.argv[2][6:]
report["sessions"] = [s for s in report["sessions"]
                      if str(s.get("lastActivity", ""))[:10] == day]
print(json.dumps(report))
' "$out" "$since"; rc=$?
  rm -f "$out"; exit $rc
fi
if [ -x "$d/$r.sh" ]; then exec "$d/$r.sh"; fi
if [ -f "$d/$r.json" ]; then cat "$d/$r.json"; exit 0; fi
echo '[]'
"#,
            dir = dir.display()
        );
        std::fs::write(&script, body).unwrap();
        make_executable(&script);
        script
    }
}

/// The reports a stand-in answers, by the name of the file it prints.
pub const REPORTS: [&str; 5] = ["daily", "session", "blocks", "instances", "agents"];

/// Makes a stand-in run `body` for `report` instead of printing its file; `$D` in the body is
/// the stand-in's directory.
pub fn script_report(dir: &Path, report: &str, body: &str) {
    let script = dir.join(format!("{report}.sh"));
    std::fs::write(
        &script,
        format!("#!/bin/sh\nD='{}'\n{body}\n", dir.display()),
    )
    .unwrap();
    make_executable(&script);
}

pub fn make_executable(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// Copies a captured fixture into a stand-in's directory under the report's name.
pub fn use_fixture(dir: &Path, version: &str, file: &str, report: &str) {
    let from = Path::new(ROOT)
        .join("tests/fixtures/ccusage")
        .join(version)
        .join(file);
    std::fs::create_dir_all(dir).unwrap();
    std::fs::copy(&from, dir.join(format!("{report}.json"))).unwrap();
}

pub struct Importer {
    pub command: Command,
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!("stdout is not JSON ({e}): {}\n{}", self.stdout, self.stderr)
        })
    }
}

impl Importer {
    pub fn arg(mut self, arg: impl AsRef<std::ffi::OsStr>) -> Self {
        self.command.arg(arg);
        self
    }

    pub fn args<I: AsRef<std::ffi::OsStr>>(mut self, args: impl IntoIterator<Item = I>) -> Self {
        self.command.args(args);
        self
    }

    pub fn env(mut self, key: &str, value: impl AsRef<std::ffi::OsStr>) -> Self {
        self.command.env(key, value);
        self
    }

    pub fn logs(self, claude_dir: &Path) -> Self {
        self.env("CLAUDE_CONFIG_DIR", claude_dir)
    }

    /// Runs `bin` as ccusage (a stand-in, or another real version).
    pub fn ccusage(self, bin: impl AsRef<std::ffi::OsStr>) -> Self {
        self.arg("--ccusage-bin").arg(bin)
    }

    /// Starts the run in the background, stdin closed.
    pub fn spawn(
        mut self,
        stdout: std::process::Stdio,
        stderr: std::process::Stdio,
    ) -> std::process::Child {
        self.command
            .stdin(std::process::Stdio::null())
            .stdout(stdout)
            .stderr(stderr)
            .spawn()
            .expect("start ccusage-import")
    }

    pub fn run(mut self) -> Run {
        let Output {
            status,
            stdout,
            stderr,
        } = self.command.output().expect("run ccusage-import");
        Run {
            code: status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&stdout).into_owned(),
            stderr: String::from_utf8_lossy(&stderr).into_owned(),
        }
    }

    /// Runs, but kills the run after `limit` (exit code -1 then): a regression that hangs
    /// fails its test instead of hanging the suite.
    pub fn run_within(self, limit: std::time::Duration) -> Run {
        let mut child = self.spawn(std::process::Stdio::piped(), std::process::Stdio::piped());
        let started = std::time::Instant::now();
        while child.try_wait().unwrap().is_none() && started.elapsed() < limit {
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        let _ = child.kill();
        finished(child)
    }

    /// Runs with --json and insists on exit 0.
    pub fn import_ok(self) -> Value {
        let run = self.arg("--json").run();
        assert_eq!(
            run.code, 0,
            "import failed:\n{}\n{}",
            run.stdout, run.stderr
        );
        run.json()
    }
}

/// A report script that hangs, having started a grandchild that hangs too; their pids in
/// `script.pid` and `grandchild.pid` of the stand-in's directory.
pub const HUNG_WITH_GRANDCHILD: &str =
    "sleep 300 &\necho $! > \"$D/grandchild.pid\"\necho $$ > \"$D/script.pid\"\nsleep 300";

/// A run (`--timeout 60 --json`) whose daily report is the shell `script` (`$D` its stand-in's
/// directory), the other reports the fixtures': the directory, the run, and how long it took.
pub fn run_daily_script(env: &TestEnv, script: &str) -> (PathBuf, Run, Duration) {
    let (dir, bin) = fixture_stand_in(env, "20.0.24", "20.0.24");
    script_report(&dir, "daily", script);
    let started = Instant::now();
    let run = env
        .importer("laptop")
        .ccusage(&bin)
        .args(["--timeout", "60", "--json"])
        .run();
    (dir, run, started.elapsed())
}

/// Waits for a spawned run and reads what it wrote to the pipes `spawn` was given.
pub fn finished(child: std::process::Child) -> Run {
    let out = child.wait_with_output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Runs the real ccusage (the pinned version on PATH) and returns its JSON.
pub fn ccusage(claude_dir: &Path, args: &[&str]) -> Value {
    let out = Command::new("ccusage")
        .args(args)
        .args([
            "--json",
            "--offline",
            "--mode",
            "auto",
            "--order",
            "asc",
            "--timezone",
            "UTC",
        ])
        .env("CLAUDE_CONFIG_DIR", claude_dir)
        .env("TZ", "UTC")
        .output()
        .expect("ccusage is installed (scripts/ensure-deps.sh)");
    assert!(
        out.status.success(),
        "ccusage failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The totals of ccusage's own Claude daily report, as [input, output, cache create, cache read].
pub fn ccusage_totals(claude_dir: &Path) -> ([u64; 4], f64) {
    let report = ccusage(claude_dir, &["claude", "daily"]);
    let t = &report["totals"];
    let n = |k: &str| t[k].as_u64().unwrap();
    (
        [
            n("inputTokens"),
            n("outputTokens"),
            n("cacheCreationTokens"),
            n("cacheReadTokens"),
        ],
        t["totalCost"].as_f64().unwrap(),
    )
}

/// The same four token sums and the cost from a query that returns them in one TSV line.
pub fn tsv_totals(line: &str) -> ([u64; 4], f64) {
    let fields: Vec<&str> = line.trim().split('\t').collect();
    assert_eq!(fields.len(), 5, "expected 5 fields in {line:?}");
    let n = |i: usize| fields[i].parse::<u64>().unwrap();
    ([n(0), n(1), n(2), n(3)], fields[4].parse().unwrap())
}

pub const DAILY_TOTALS: &str = "SELECT sum(input_tokens), sum(output_tokens), \
    sum(cache_creation_tokens), sum(cache_read_tokens), toFloat64(sum(total_cost)) \
    FROM ccusage_v_daily_summary";

/// Every view and FINAL table of the schema, dumped in a fixed order, to compare states.
pub fn snapshot(env: &TestEnv) -> String {
    let objects = [
        "ccusage_v_daily_summary",
        "ccusage_v_session_summary",
        "ccusage_v_model_breakdowns",
        "ccusage_v_models_used",
        "ccusage_usage_daily FINAL",
        "ccusage_usage_monthly FINAL",
        "ccusage_usage_sessions FINAL",
        "ccusage_usage_blocks FINAL",
        "ccusage_usage_projects_daily FINAL",
    ];
    objects
        .iter()
        .map(|object| {
            let rows = env.sql(&format!("SELECT * FROM {object} FORMAT TSV"));
            let mut lines: Vec<&str> = rows.lines().collect();
            lines.sort_unstable();
            format!("== {object}\n{}\n", lines.join("\n"))
        })
        .collect()
}

/// A free TCP port on loopback (free when asked; good enough for a test's own server).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A ClickHouse server of a test's own, which the test may stop and start again.
pub struct PrivateServer {
    pub dir: PathBuf,
    pub http_port: u16,
    pub tcp_port: u16,
    timezone: String,
}

impl PrivateServer {
    pub fn start(dir: PathBuf) -> PrivateServer {
        PrivateServer::start_in(dir, "UTC")
    }

    /// A server whose time zone is `timezone`.
    pub fn start_in(dir: PathBuf, timezone: &str) -> PrivateServer {
        let server = PrivateServer {
            dir,
            http_port: free_port(),
            tcp_port: free_port(),
            timezone: timezone.to_owned(),
        };
        server.resume();
        server
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.http_port)
    }

    fn script(&self, command: &str) -> Command {
        let mut script = Command::new("bash");
        script
            .arg(Path::new(ROOT).join("scripts/clickhouse-server.sh"))
            .arg(command)
            .arg("--dir")
            .arg(&self.dir);
        script
    }

    pub fn resume(&self) {
        let out = self
            .script("start")
            .args(["--http-port", &self.http_port.to_string()])
            .args(["--tcp-port", &self.tcp_port.to_string()])
            .args(["--timezone", &self.timezone])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    pub fn stop(&self) {
        let out = self.script("stop").output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

impl Drop for PrivateServer {
    fn drop(&mut self) {
        let _ = self.script("stop").output();
    }
}

/// Whether a process is running (a zombie counts as ended).
pub fn alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => {
            let state = stat.rsplit(')').next().unwrap_or("").trim_start();
            !state.starts_with('Z') && !state.starts_with('X')
        }
        Err(_) => false,
    }
}

pub fn read_pid(path: &Path) -> u32 {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e} (the hung report never started?)", path.display()));
    text.trim().parse().unwrap()
}

/// Waits up to `limit` for `pid` to end.
pub fn ends_within(pid: u32, limit: Duration) -> bool {
    let started = Instant::now();
    while alive(pid) {
        if started.elapsed() > limit {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    true
}

/// A stand-in that prints the captured output of `fixtures` as version `version` prints it.
pub fn fixture_stand_in(env: &TestEnv, version: &str, fixtures: &str) -> (PathBuf, PathBuf) {
    let dir = env.path(&format!("fake-{version}"));
    let printed = if version.starts_with("1") && !version.starts_with("19") {
        version.to_owned() // 15–18 print the bare version
    } else {
        format!("ccusage {version}")
    };
    let bin = env.stand_in(&dir, &printed);
    let classic = fixtures.starts_with("18.");
    let name = |report: &str| {
        if classic {
            format!("{report}.json")
        } else {
            format!("claude-{report}.json")
        }
    };
    use_fixture(&dir, fixtures, &name("daily"), "daily");
    use_fixture(&dir, fixtures, &name("session"), "session");
    use_fixture(&dir, fixtures, &name("blocks"), "blocks");
    use_fixture(&dir, fixtures, &name("daily-instances"), "instances");
    if !classic {
        use_fixture(&dir, fixtures, "daily-sections-by-agent.json", "agents");
    }
    (dir, bin)
}

/// How many UTC days hold usage in generated logs, from the generator's ground truth. The
/// small data set ends at the current time, so this is 7 or 8 depending on the hour.
pub fn usage_days(claude_dir: &Path) -> usize {
    let truth = std::fs::read(claude_dir.join("expected-summary.json")).unwrap();
    let truth: Value = serde_json::from_slice(&truth).unwrap();
    truth["maxWins"]["daily"].as_object().unwrap().len()
}

/// How many calendar days lie between the first and the last day with usage, both included.
pub fn usage_span_days(claude_dir: &Path) -> i64 {
    let truth = std::fs::read(claude_dir.join("expected-summary.json")).unwrap();
    let truth: Value = serde_json::from_slice(&truth).unwrap();
    let days: Vec<chrono::NaiveDate> = truth["maxWins"]["daily"]
        .as_object()
        .unwrap()
        .keys()
        .map(|d| d.parse().unwrap())
        .collect();
    let (first, last) = (days.iter().min().unwrap(), days.iter().max().unwrap());
    (*last - *first).num_days() + 1
}

/// The cluster the cluster tests share (scripts/clickhouse-cluster.sh: ZooKeeper and 2 shards
/// × 2 replicas of 18.16 on loopback), started on first use and stopped when the test
/// binary exits. Tests take it one at a time: some stop a node or ZooKeeper. Each test
/// uses a database of its own.
pub struct Cluster {
    pub dir: PathBuf,
    /// The HTTP URL of nodes 1..4 (nodes 1, 2: shard 1; nodes 3, 4: shard 2).
    pub urls: Vec<String>,
}

pub const CLUSTER_NAME: &str = "fleet";

pub fn cluster() -> std::sync::MutexGuard<'static, Cluster> {
    static CLUSTER: OnceLock<std::sync::Mutex<Cluster>> = OnceLock::new();
    let cluster = CLUSTER.get_or_init(|| {
        let dir = Path::new(ROOT).join(format!("target/it-cluster-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        CLUSTER_DIR.set(dir.clone()).unwrap();
        extern "C" fn stop_cluster() {
            if let Some(dir) = CLUSTER_DIR.get() {
                let _ = Command::new("bash")
                    .arg(Path::new(ROOT).join("scripts/clickhouse-cluster.sh"))
                    .arg("stop")
                    .arg("--dir")
                    .arg(dir)
                    .output();
                let _ = std::fs::remove_dir_all(dir);
            }
        }
        // Registered before the start, so a start that fails halfway is stopped at exit too.
        // SAFETY: registers a plain function with no captured state, run once at exit.
        unsafe { libc::atexit(stop_cluster) };
        let out = cluster_script(&dir, &["start"]);
        let urls = out
            .lines()
            .filter_map(|line| line.split_once(' ').map(|(_, url)| url.to_owned()))
            .collect::<Vec<_>>();
        assert_eq!(urls.len(), 4, "{out}");
        std::sync::Mutex::new(Cluster { dir, urls })
    });
    // A test that failed while holding the cluster (a node or ZooKeeper still stopped) leaves
    // it usable for the next: whatever is down starts again.
    let guard = cluster
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    cluster_script(&guard.dir, &["start"]);
    guard
}

static CLUSTER_DIR: OnceLock<PathBuf> = OnceLock::new();

fn cluster_script(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("bash")
        .arg(Path::new(ROOT).join("scripts/clickhouse-cluster.sh"))
        .args(args)
        .arg("--dir")
        .arg(dir)
        .args(["--name", CLUSTER_NAME])
        .output()
        .expect("run scripts/clickhouse-cluster.sh");
    assert!(
        out.status.success(),
        "scripts/clickhouse-cluster.sh {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

impl Cluster {
    /// `host:port` of every node, for CH_HOST.
    pub fn hosts(&self) -> String {
        let hosts: Vec<&str> = self
            .urls
            .iter()
            .map(|url| url.trim_start_matches("http://"))
            .collect();
        hosts.join(",")
    }

    /// Runs SQL on node `n` (1..4) and returns TabSeparated text.
    pub fn sql(&self, n: usize, database: &str, query: &str) -> String {
        sql_at(&self.urls[n - 1], database, query)
    }

    pub fn stop_node(&self, n: usize) {
        cluster_script(&self.dir, &["stop-node", &n.to_string()]);
    }

    pub fn start_node(&self, n: usize) {
        cluster_script(&self.dir, &["start-node", &n.to_string()]);
    }

    pub fn stop_zookeeper(&self) {
        cluster_script(&self.dir, &["stop-zk"]);
    }

    pub fn start_zookeeper(&self) {
        cluster_script(&self.dir, &["start-zk"]);
    }

    /// Waits until every replica of the database has fetched what its shard holds.
    pub fn sync_replicas(&self, database: &str) {
        for n in 1..=4 {
            let tables = self.sql(
                n,
                "system",
                &format!(
                    "SELECT name FROM system.tables WHERE database = '{database}' \
                     AND engine LIKE 'Replicated%'"
                ),
            );
            for table in tables.lines() {
                self.sql(n, database, &format!("SYSTEM SYNC REPLICA {table}"));
            }
        }
    }
}

/// Runs SQL on the server at `url`.
pub fn sql_at(url: &str, database: &str, query: &str) -> String {
    curl_sql(url, database, query, None)
}

/// A tmux server of the test's own (its own socket), killed when the test ends however it
/// ends.
pub struct Tmux {
    pub socket: String,
}

impl Tmux {
    pub fn cmd(&self, args: &[&str]) -> Output {
        Command::new("tmux")
            .args(["-L", &self.socket, "-f", "/dev/null"])
            .args(args)
            .output()
            .expect("tmux is installed")
    }

    /// The pane with its scrollback, escape codes kept.
    pub fn capture(&self) -> String {
        let out = self.cmd(&["capture-pane", "-p", "-e", "-J", "-S", "-", "-t", "live"]);
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.cmd(&["kill-server"]);
    }
}

/// Makes every report of a stand-in wait until `dir/go` exists before printing.
pub fn hold_reports_until_go(dir: &Path) {
    for report in REPORTS {
        let body = format!(
            "while [ ! -e \"$D/go\" ]; do sleep 0.1; done\n\
             if [ -f \"$D/{report}.json\" ]; then cat \"$D/{report}.json\"; else echo '[]'; fi"
        );
        script_report(dir, report, &body);
    }
}

/// Polls `done` until it holds; fails the test after `limit`.
pub fn wait_for(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(started.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A transcript line's time: RFC 3339 text as written, or a time written with milliseconds as
/// Claude Code does.
pub trait TranscriptTime {
    fn rfc3339(&self) -> String;
}

impl TranscriptTime for &str {
    fn rfc3339(&self) -> String {
        (*self).to_owned()
    }
}

impl TranscriptTime for chrono::DateTime<chrono::Utc> {
    fn rfc3339(&self) -> String {
        self.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
    }
}

/// The project directory the transcript writers use, as Claude Code names `/home/alice/proj`.
pub fn transcript_project(claude: &Path) -> PathBuf {
    claude.join("projects").join("-home-alice-proj")
}

/// Writes a transcript at `path` as Claude Code does, one assistant line per `(ids, n, (time,
/// input, output))`: the message and request ids are `msg_{ids}_{n}` and `req_{ids}_{n}`, so a
/// resumed session replays its original's lines by giving the original's ids and times.
pub fn write_transcript_lines<T: TranscriptTime>(
    path: &Path,
    session: &str,
    lines: &[(&str, usize, (T, u64, u64))],
    sidechain: bool,
) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let mut text = String::new();
    for (ids, i, (time, input, output)) in lines {
        let line = serde_json::json!({
            "parentUuid": null,
            "isSidechain": sidechain,
            "userType": "external",
            "cwd": "/home/alice/proj",
            "sessionId": session,
            "version": "2.0.14",
            "message": {
                "id": format!("msg_{ids}_{i}"),
                "type": "message",
                "role": "assistant",
                "model": "claude-sonnet-4-20250514",
                "content": [{"type": "text", "text": "ok"}],
                "usage": {
                    "input_tokens": input,
                    "cache_creation_input_tokens": 0,
                    "cache_read_input_tokens": 0,
                    "output_tokens": output
                }
            },
            "requestId": format!("req_{ids}_{i}"),
            "type": "assistant",
            "uuid": format!("{session}-{ids}-{i}"),
            "timestamp": time.rfc3339(),
        });
        text.push_str(&line.to_string());
        text.push('\n');
    }
    std::fs::write(path, text).unwrap();
}

/// A main transcript, `projects/<dir>/<session>.jsonl`, whose `(time, input, output)` entries
/// are its own (ids from the session's name).
pub fn write_transcript<T: TranscriptTime + Copy>(
    claude: &Path,
    session: &str,
    entries: &[(T, u64, u64)],
) -> PathBuf {
    let path = transcript_project(claude).join(format!("{session}.jsonl"));
    let lines: Vec<_> = entries
        .iter()
        .enumerate()
        .map(|(i, e)| (session, i, *e))
        .collect();
    write_transcript_lines(&path, session, &lines, false);
    path
}

/// An RFC 3339 time as ClickHouse prints a `DateTime` (whole seconds, UTC).
pub fn clickhouse_time(iso: &str) -> String {
    let time: chrono::DateTime<chrono::Utc> = iso.parse().unwrap();
    time.format("%Y-%m-%d %H:%M:%S").to_string()
}

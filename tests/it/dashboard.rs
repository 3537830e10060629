//! The dashboard in a real browser: Debian's headless Chromium, driven through chromedriver
//! (WebDriver) by fantoccini, against the dashboard served from the test ClickHouse with
//! machines imported from generated logs by the real ccusage.
//!
//! The page's testing contract (docs/dashboard.md): `body[data-state]` is `loading`, `ready`
//! or `error`; each headline figure is `[data-metric=NAME]` with its exact value in
//! `data-value`; a chart that drew has `data-drawn="1"`.

use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};

use crate::harness::*;

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// Long enough for a loaded two-core machine running the other tests beside these.
const PATIENCE: Duration = Duration::from_secs(60);
const TOKEN: &str = "dashboard-test-token-0123456789abcdef";

/// One browser at a time: Chromium is heavy, and the machine runs every other test too.
static BROWSER: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A headless Chromium with a fresh profile, behind its own chromedriver.
struct Browser {
    client: Client,
    driver: Child,
    driver_url: String,
    session: String,
    _profile: tempfile::TempDir,
}

impl Browser {
    async fn start() -> Browser {
        let port = free_port();
        // In a process group of its own, with the Chromium it starts: a failing test kills
        // the whole group, so no browser outlives it.
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .process_group(0)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver is installed (scripts/ensure-deps.sh --test)");
        let profile = tempfile::tempdir().unwrap();
        // The background-networking flags keep Chromium from calling home on a closed network.
        let args = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--window-size=1400,2400",
            &format!("--user-data-dir={}", profile.path().display()),
        ];
        let capabilities = json!({
            "browserName": "chrome",
            "goog:chromeOptions": { "binary": CHROMIUM, "args": args },
            "goog:loggingPrefs": { "browser": "ALL" },
        });
        let Value::Object(capabilities) = capabilities else {
            unreachable!()
        };
        let driver_url = format!("http://127.0.0.1:{port}");
        let started = Instant::now();
        let client = loop {
            let connector = hyper_util::client::legacy::connect::HttpConnector::new();
            match ClientBuilder::new(connector)
                .capabilities(capabilities.clone())
                .connect(&driver_url)
                .await
            {
                Ok(client) => break client,
                Err(error) if started.elapsed() > PATIENCE => {
                    panic!("cannot start Chromium through chromedriver: {error}")
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
            }
        };
        let session = client.session_id().await.unwrap().expect("a session");
        Browser {
            client,
            driver,
            driver_url,
            session,
            _profile: profile,
        }
    }

    /// A chromedriver command outside WebDriver's standard set (the browser log, DevTools).
    fn driver_command(&self, path: &str, body: Value) -> Value {
        let url = format!("{}/session/{}/{path}", self.driver_url, self.session);
        let out = Command::new("curl")
            .args([
                "-sS",
                "-H",
                "Content-Type: application/json",
                "--data-binary",
            ])
            .arg(body.to_string())
            .arg(url)
            .output()
            .unwrap();
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "chromedriver answered {path} with no JSON ({e}): {}",
                String::from_utf8_lossy(&out.stdout)
            )
        })
    }

    /// The console's errors since the last call (the log empties as it is read).
    fn console_errors(&self) -> Vec<String> {
        let log = self.driver_command("se/log", json!({ "type": "browser" }));
        log["value"]
            .as_array()
            .unwrap_or_else(|| panic!("no browser log: {log}"))
            .iter()
            .filter(|entry| entry["level"] == "SEVERE")
            .map(|entry| entry["message"].as_str().unwrap_or_default().to_owned())
            .collect()
    }

    /// Light or dark, as the system setting the page follows (`prefers-color-scheme`); waits
    /// until the page has drawn itself again in it: the redraw replaces the menus' options, so
    /// an element found before it is stale after it.
    async fn color_scheme(&self, scheme: &str) {
        let params = json!({ "features": [{ "name": "prefers-color-scheme", "value": scheme }] });
        let answer = self.driver_command(
            "goog/cdp/execute",
            json!({ "cmd": "Emulation.setEmulatedMedia", "params": params }),
        );
        assert!(
            answer["value"].is_object(),
            "cannot emulate {scheme}: {answer}"
        );
        let drawn = format!("ready {scheme}");
        self.poll(
            "document.body.dataset.state + ' ' + document.body.dataset.scheme",
            |now| now == drawn,
        )
        .await;
    }

    async fn script(&self, body: &str) -> Value {
        self.client.execute(body, vec![]).await.unwrap()
    }

    /// Opens `url` and waits for the page to settle, `ready` or `error`.
    async fn open(&self, url: &str) -> String {
        self.client.goto(url).await.unwrap();
        self.settled().await
    }

    async fn settled(&self) -> String {
        self.until(|state| state == "ready" || state == "error" || state == "empty")
            .await
    }

    /// Waits until the page's state satisfies `done`; the state then.
    async fn until(&self, done: impl Fn(&str) -> bool) -> String {
        self.poll("document.body.dataset.state || ''", done).await
    }

    /// Evaluates the script `expression` in the page until its text satisfies `done`; the
    /// text then.
    async fn poll(&self, expression: &str, done: impl Fn(&str) -> bool) -> String {
        let started = Instant::now();
        loop {
            // A navigation in flight has no document to ask: that is "not yet".
            let now = match self
                .client
                .execute(&format!("return {expression}"), vec![])
                .await
            {
                Ok(value) => value.as_str().unwrap_or_default().to_owned(),
                Err(_) => String::new(),
            };
            if done(&now) {
                return now;
            }
            assert!(
                started.elapsed() < PATIENCE,
                "the page's {expression} is still '{now}' after {PATIENCE:?}: {}",
                self.error_text().await
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn error_text(&self) -> String {
        let text = self
            .client
            .execute(
                "return document.getElementById('error').textContent",
                vec![],
            )
            .await;
        text.ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default()
    }

    /// The headline figures: `data-metric` → `data-value`.
    async fn metrics(&self) -> Value {
        self.script(
            "return Object.fromEntries([...document.querySelectorAll('[data-metric]')]\
             .map((e) => [e.dataset.metric, e.dataset.value]))",
        )
        .await
    }

    /// Every chart in a visible panel: its id, whether it drew, and how many SVG elements
    /// it holds.
    async fn charts(&self) -> Vec<(String, bool, u64)> {
        let charts = self
            .script(
                "return [...document.querySelectorAll('.chart')]\
                 .filter((e) => !e.closest('[hidden]'))\
                 .map((e) => [e.id, e.dataset.drawn === '1', e.querySelectorAll('svg *').length])",
            )
            .await;
        charts
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                (
                    c[0].as_str().unwrap().to_owned(),
                    c[1].as_bool().unwrap(),
                    c[2].as_u64().unwrap(),
                )
            })
            .collect()
    }

    async fn screenshot(&self, name: &str) {
        self.script("window.scrollTo(0, 0); return null").await;
        let png = self.client.screenshot().await.unwrap();
        let dir = Path::new(ROOT).join("target/dashboard-screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
    }

    /// Ends the session (Chromium quits); the drop then stops chromedriver.
    async fn close(self) {
        let _ = self.client.clone().close().await;
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // SAFETY: killpg only sends a signal; the group is chromedriver's own (process_group).
        unsafe { libc::killpg(self.driver.id() as libc::pid_t, libc::SIGKILL) };
        let _ = self.driver.wait();
    }
}

/// A running `ccusage-import dashboard`, stopped when dropped.
pub struct Dashboard {
    pub child: Child,
    pub url: String,
}

impl Dashboard {
    /// Starts the dashboard on a free loopback port with `extra` arguments; waits for the
    /// line that prints its URL.
    pub fn start(importer: Importer, extra: &[&str]) -> Dashboard {
        let listen = format!("127.0.0.1:{}", free_port());
        let mut child = importer
            .args(["dashboard", "--listen", &listen])
            .args(extra)
            .spawn(Stdio::piped(), Stdio::piped());
        let stdout = child.stdout.take().unwrap();
        let mut first = String::new();
        BufReader::new(stdout).read_line(&mut first).unwrap();
        assert!(
            first.contains("dashboard at"),
            "the dashboard did not start: {first:?}"
        );
        Dashboard {
            child,
            url: format!("http://{listen}/"),
        }
    }
}

impl Drop for Dashboard {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Cost and tokens from ccusage's own daily report: the whole of it, or the days from `since`.
fn ccusage_figures(claude: &Path, since: Option<&str>) -> (f64, u64) {
    let report = ccusage(claude, &["claude", "daily"]);
    let mut cost = 0.0;
    let mut tokens = 0;
    for day in report["daily"].as_array().unwrap() {
        let date = day["date"].as_str().unwrap();
        if since.is_some_and(|since| date < since) {
            continue;
        }
        cost += day["totalCost"].as_f64().unwrap();
        tokens += [
            "inputTokens",
            "outputTokens",
            "cacheCreationTokens",
            "cacheReadTokens",
        ]
        .iter()
        .map(|k| day[*k].as_u64().unwrap())
        .sum::<u64>();
    }
    (cost, tokens)
}

fn assert_figures(metrics: &Value, (cost, tokens): (f64, u64), what: &str) {
    let shown_cost: f64 = metrics["total_cost"].as_str().unwrap().parse().unwrap();
    let shown_tokens: u64 = metrics["total_tokens"].as_str().unwrap().parse().unwrap();
    assert!(
        (shown_cost - cost).abs() < 1e-6 * cost.max(1.0),
        "{what}: the page shows cost {shown_cost}, ccusage says {cost}"
    );
    assert_eq!(shown_tokens, tokens, "{what}: tokens");
    assert!(tokens > 0, "{what}: the data must not be empty");
}

/// Every visible chart drew something: a chart container left empty is a broken panel.
/// (Panels with nothing to compare, one machine's share or one agent's, stand down.)
async fn assert_all_drawn(browser: &Browser, what: &str) {
    let charts = browser.charts().await;
    assert!(charts.len() >= 8, "{what}: only {} charts", charts.len());
    for (id, drawn, elements) in charts {
        assert!(
            drawn && elements > 0,
            "{what}: {id} did not draw ({elements} SVG elements)"
        );
    }
}

/// The projects both machines work on, relative to the importer's home (the test's dir).
const PROJECTS: [&str; 2] = ["projects/spotter.v2", "work/my-app"];

fn two_machines(env: &TestEnv) -> Vec<(&'static str, PathBuf)> {
    let machines = [("laptop", "11"), ("desktop", "12")];
    let cwds: Vec<String> = PROJECTS
        .iter()
        .map(|p| {
            std::fs::create_dir_all(env.path(p)).unwrap();
            env.path(p).display().to_string()
        })
        .collect();
    machines
        .iter()
        .map(|(name, seed)| {
            let mut args = vec!["--days", "20", "--lines", "500", "--seed", seed, "--active"];
            for cwd in &cwds {
                args.extend(["--project-cwd", cwd]);
            }
            let claude = env.generate_logs(name, &args);
            env.importer(name).logs(&claude).import_ok();
            (*name, claude)
        })
        .collect()
}

fn today_minus(days: i64) -> String {
    (chrono::Utc::now().date_naive() - chrono::Duration::days(days)).to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_shows_what_ccusage_counts_for_the_fleet_a_machine_and_a_week() {
    let env = TestEnv::new("dash_browser");
    let machines = two_machines(&env);
    let fleet = machines
        .iter()
        .map(|(_, claude)| ccusage_figures(claude, None))
        .fold((0.0, 0), |a, b| (a.0 + b.0, a.1 + b.1));
    // A fleet budget of $30 and, in the budget file, desktop's of $20.
    let budgets = env.path("budgets");
    std::fs::write(&budgets, "desktop = 20\n").unwrap();
    let budget_file = budgets.display().to_string();
    let dashboard = Dashboard::start(
        env.importer("viewer"),
        &[
            "--plan-price",
            "200",
            "--budget",
            "30",
            "--budget-file",
            &budget_file,
        ],
    );
    let _one = BROWSER.lock().await;
    let browser = Browser::start().await;

    // The fleet.
    assert_eq!(
        browser.open(&dashboard.url).await,
        "ready",
        "{}",
        browser.error_text().await
    );
    let metrics = browser.metrics().await;
    assert_figures(&metrics, fleet, "the fleet");
    assert_eq!(metrics["machines"], "2");
    assert_all_drawn(&browser, "the fleet").await;
    assert_budget(&browser, &metrics, 30.0, "chart-plan", "budget $30.00").await;
    assert_round_axes(&browser, "the fleet").await;
    // Two machines, one agent (Claude Code): the machines compare, the agents do not; no
    // logs are shared.
    assert_eq!(
        hidden_panels(&browser).await,
        ["agents", "agents_daily"],
        "the fleet"
    );
    assert_eq!(
        browser
            .script("return document.getElementById('shared').hidden")
            .await,
        true
    );
    assert_eq!(browser.console_errors(), Vec::<String>::new(), "the fleet");
    assert_projects_read_as_stored(&browser).await;
    assert_csv_download_matches_the_api(&env, &browser, &dashboard, "projects").await;
    assert_csv_download_matches_the_api(&env, &browser, &dashboard, "sessions").await;
    assert_sessions_sort_by_cost(&browser).await;
    browser.screenshot("fleet-light").await;
    browser.color_scheme("dark").await;
    assert_all_drawn(&browser, "the fleet, dark").await;
    browser.screenshot("fleet-dark").await;
    browser.color_scheme("light").await;

    // One machine, chosen in the page's own machine menu.
    let (name, claude) = &machines[1];
    let menu = browser.client.find(Locator::Css("#machine")).await.unwrap();
    menu.select_by_value(name).await.unwrap();
    wait_for_url(&browser, &format!("machine={name}")).await;
    assert_eq!(browser.settled().await, "ready");
    let metrics = browser.metrics().await;
    assert_figures(&metrics, ccusage_figures(claude, None), "one machine");
    assert_eq!(metrics["machines"], "1");
    assert_budget(&browser, &metrics, 20.0, "chart-cost-per-day", "/day").await;
    assert_round_axes(&browser, "one machine").await;
    // One machine has no share of anything: its per-machine panels stand down.
    assert_eq!(
        hidden_panels(&browser).await,
        ["machine_share", "machine_tokens", "agents", "agents_daily"],
        "one machine"
    );
    let scope = browser
        .script("return document.getElementById('scope').dataset.scope")
        .await;
    assert_eq!(scope, "machine");
    assert_all_drawn(&browser, "one machine").await;
    browser.screenshot("machine-light").await;
    browser.color_scheme("dark").await;
    browser.screenshot("machine-dark").await;
    browser.color_scheme("light").await;

    // The last 7 days of the fleet, through the range button.
    browser.open(&dashboard.url).await;
    let week = browser
        .client
        .find(Locator::Css("[data-range='7']"))
        .await
        .unwrap();
    week.click().await.unwrap();
    let since = today_minus(6);
    wait_for_url(&browser, &format!("since={since}")).await;
    assert_eq!(browser.settled().await, "ready");
    let url = browser.client.current_url().await.unwrap();
    assert!(
        url.as_str().contains(&format!("until={}", today_minus(0))),
        "{url}"
    );
    let week_figures = machines
        .iter()
        .map(|(_, claude)| ccusage_figures(claude, Some(&since)))
        .fold((0.0, 0), |a, b| (a.0 + b.0, a.1 + b.1));
    assert!(week_figures.1 < fleet.1, "the logs span more than a week");
    assert_figures(&browser.metrics().await, week_figures, "7 days");
    assert_eq!(
        browser.console_errors(),
        Vec::<String>::new(),
        "after filtering"
    );

    // A bookmarked bad filter names the parameter.
    browser
        .client
        .goto(&format!("{}?since=yesterday", dashboard.url))
        .await
        .unwrap();
    let body = browser.script("return document.body.textContent").await;
    assert!(body.as_str().unwrap().contains("since"), "{body}");
    browser.console_errors(); // the 400 just asked for

    // Without a token, only requests addressed to a loopback name are served: a page on
    // another site that points its own name at 127.0.0.1 (DNS rebinding) gets a 403.
    let addressed_to = |host: &str| {
        let out = Command::new("curl")
            .args([
                "-sS",
                "-w",
                "\n%{http_code}",
                "-H",
                &format!("Host: {host}"),
            ])
            .arg(format!("{}api/panel/headline", dashboard.url))
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let rebound = addressed_to("evil.example:8787");
    assert!(rebound.ends_with("\n403"), "{rebound}");
    assert!(rebound.contains("token"), "{rebound}");
    assert!(addressed_to("localhost:8787").ends_with("\n200"));
    let icon = Command::new("curl")
        .args(["-sS", "-o", "/dev/null", "-w", "%{http_code}"])
        .arg(format!("{}favicon.ico", dashboard.url))
        .output()
        .unwrap();
    // The icon browsers ask for after a page without one (the 400 above) is no error.
    assert_eq!(String::from_utf8_lossy(&icon.stdout), "204");

    // The static report, opened from disk, shows the same figures with no server.
    let file = env.path("report.html");
    let run = env
        .importer("viewer")
        .arg("dashboard")
        .arg("--html")
        .arg(&file)
        .run();
    assert_eq!(run.code, 0, "{}", run.stderr);
    drop(dashboard);
    assert_eq!(
        browser.open(&format!("file://{}", file.display())).await,
        "ready"
    );
    assert_figures(&browser.metrics().await, fleet, "the static report");
    assert_all_drawn(&browser, "the static report").await;
    assert_eq!(
        browser.console_errors(),
        Vec::<String>::new(),
        "the static report"
    );
    let machine_file = env.path("laptop.html");
    let run = env
        .importer("viewer")
        .args(["dashboard", "--machine", machines[0].0, "--html"])
        .arg(&machine_file)
        .run();
    assert_eq!(run.code, 0, "{}", run.stderr);
    browser
        .open(&format!("file://{}", machine_file.display()))
        .await;
    assert_figures(
        &browser.metrics().await,
        ccusage_figures(&machines[0].1, None),
        "the static report of one machine",
    );
    // A machine that is not there is a usage error naming the ones that are, not a file of
    // zeros.
    let typo_file = env.path("typo.html");
    let run = env
        .importer("viewer")
        .args(["dashboard", "--machine", "laptpo", "--html"])
        .arg(&typo_file)
        .run();
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert_eq!(run.stderr.trim().lines().count(), 1, "{}", run.stderr);
    assert!(run.stderr.contains("--machine") && run.stderr.contains(machines[0].0));
    assert!(!typo_file.exists());
    browser.close().await;
}

/// The budget card shows `budget` with the month's projection against it, and `chart` draws
/// the budget's line labelled with `label`.
async fn assert_budget(browser: &Browser, metrics: &Value, budget: f64, chart: &str, label: &str) {
    let shown: f64 = metrics["budget"].as_str().unwrap().parse().unwrap();
    assert_eq!(shown, budget, "{metrics}");
    let projected: f64 = metrics["projected_month_cost"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let over = browser
        .script("return document.querySelector('[data-metric=budget]').dataset.over")
        .await;
    let expected = if projected > budget { "1" } else { "0" };
    assert_eq!(over, expected, "projected {projected} against {budget}");
    let texts = browser
        .script(&format!(
            "return [...document.querySelectorAll('#{chart} svg text')].map((t) => t.textContent)"
        ))
        .await;
    assert!(
        texts
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t.as_str().unwrap().contains(label)),
        "{chart} draws no line labelled {label}: {texts}"
    );
}

/// The `data-panel` names of the panels that stand down (hidden) in the page now.
async fn hidden_panels(browser: &Browser) -> Vec<String> {
    let hidden = browser
        .script(
            "return [...document.querySelectorAll('main > [data-panel]')]\
             .filter((e) => e.hidden).map((e) => e.dataset.panel)",
        )
        .await;
    serde_json::from_value(hidden).unwrap()
}

/// The money axes of the cost charts step evenly, so no label is drawn over another (a
/// fixed maximum of $52 put its label on $50's).
async fn assert_round_axes(browser: &Browser, what: &str) {
    let axes = browser
        .script(
            "return ['chart-plan', 'chart-cost-per-day'].map((id) => \
               [...document.querySelectorAll('#' + id + ' svg text')] \
                 .filter((t) => /^\\$[0-9.]+$/.test(t.textContent)) \
                 .map((t) => [Number(t.textContent.slice(1)), t.getBoundingClientRect().top]) \
                 .sort((a, b) => a[0] - b[0]))",
        )
        .await;
    for labels in axes.as_array().unwrap() {
        let labels: Vec<(f64, f64)> = serde_json::from_value(labels.clone()).unwrap();
        assert!(labels.len() >= 3, "{what}: {labels:?}");
        let step = labels[1].0 - labels[0].0;
        for pair in labels.windows(2) {
            assert!(
                ((pair[1].0 - pair[0].0) - step).abs() < 1e-9,
                "{what}: the axis does not step evenly: {labels:?}"
            );
            assert!(
                (pair[0].1 - pair[1].1) > 10.0,
                "{what}: labels drawn over each other: {labels:?}"
            );
        }
    }
}

/// The projects table shows each project once, by the name people read (not ccusage's
/// encoded directory), with both machines that work on it.
async fn assert_projects_read_as_stored(browser: &Browser) {
    let shown = browser
        .script(
            "return [...document.querySelectorAll('[data-table=projects] tbody tr')]\
             .map((r) => [r.cells[0].textContent, r.cells[4].textContent])",
        )
        .await;
    let mut shown: Vec<(String, String)> = serde_json::from_value(shown).unwrap();
    shown.sort();
    let expected: Vec<(String, String)> = PROJECTS
        .iter()
        .map(|p| ((*p).to_owned(), "2".to_owned()))
        .collect();
    assert_eq!(shown, expected, "the projects table: name, machines");
}

/// The table's CSV button saves every row, the same CSV the API gives for the panel.
async fn assert_csv_download_matches_the_api(
    env: &TestEnv,
    browser: &Browser,
    dashboard: &Dashboard,
    table: &str,
) {
    let dir = env.path(&format!("downloads-{table}"));
    std::fs::create_dir_all(&dir).unwrap();
    let behavior = json!({ "behavior": "allow", "downloadPath": dir.display().to_string() });
    browser.driver_command(
        "goog/cdp/execute",
        json!({ "cmd": "Browser.setDownloadBehavior", "params": behavior }),
    );
    let button = format!("button[data-csv='{table}']");
    browser
        .client
        .find(Locator::Css(&button))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let file = dir.join(format!("{table}.csv"));
    let started = Instant::now();
    while !file.exists() {
        assert!(started.elapsed() < PATIENCE, "no {table}.csv was saved");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let saved = std::fs::read_to_string(&file).unwrap();
    let api = Command::new("curl")
        .args(["-sS", "--fail"])
        .arg(format!("{}api/panel/{table}?format=csv", dashboard.url))
        .output()
        .unwrap();
    assert!(api.status.success());
    let api = String::from_utf8(api.stdout).unwrap();
    assert!(saved.lines().count() > 2, "{saved}");
    assert_eq!(saved, api, "{table}: the page's CSV and the API's");
}

/// A click on the sessions table's Cost heading sorts by cost, most first; a second, least.
async fn assert_sessions_sort_by_cost(browser: &Browser) {
    let costs = "return [...document.querySelectorAll('[data-table=sessions] tbody tr')]\
                 .map((r) => Number(r.cells[6].title))";
    for descending in [true, false] {
        let heading = browser
            .client
            .find(Locator::XPath(
                "//table[@data-table='sessions']//th[text()='Cost']",
            ))
            .await
            .unwrap();
        heading.click().await.unwrap();
        let shown: Vec<f64> = serde_json::from_value(browser.script(costs).await).unwrap();
        assert!(shown.len() > 1, "sessions: {shown:?}");
        let mut sorted = shown.clone();
        sorted.sort_by(|a, b| a.partial_cmp(b).unwrap());
        if descending {
            sorted.reverse();
        }
        assert_eq!(
            shown, sorted,
            "sessions sorted by cost, descending {descending}"
        );
    }
}

async fn wait_for_url(browser: &Browser, part: &str) {
    let started = Instant::now();
    loop {
        let url = browser.client.current_url().await.unwrap();
        if url.as_str().contains(part) {
            return;
        }
        assert!(
            started.elapsed() < PATIENCE,
            "the URL {url} never got {part}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_guards_every_request_and_the_network_needs_one() {
    let env = TestEnv::new("dash_token");
    let claude = env.generate_logs("laptop", &["--days", "5", "--lines", "200", "--seed", "3"]);
    env.importer("laptop").logs(&claude).import_ok();

    // Beyond loopback without a token: refused before anything listens.
    let run = env
        .importer("viewer")
        .args(["dashboard", "--listen", &format!("0.0.0.0:{}", free_port())])
        .run();
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("without a token"), "{}", run.stderr);
    assert_eq!(run.stderr.trim().lines().count(), 1, "{}", run.stderr);

    let dashboard = Dashboard::start(
        env.importer("viewer")
            .env("CCUSAGE_IMPORT_DASHBOARD_TOKEN", TOKEN),
        &[],
    );
    let status = |extra: &[&str], path: &str| {
        let out = Command::new("curl")
            .args(["-sS", "-o", "/dev/null", "-w", "%{http_code}"])
            .args(extra)
            .arg(format!("{}{path}", dashboard.url))
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    for path in ["", "api/panel/headline", "assets/app.js", "api/config"] {
        assert_eq!(status(&[], path), "401", "/{path} without the token");
        let wrong = [
            "-H",
            "Authorization: Bearer dashboard-test-token-0123456789abcdeX",
        ];
        assert_eq!(status(&wrong, path), "401", "/{path} with a wrong token");
    }
    let bearer = format!("Authorization: Bearer {TOKEN}");
    assert_eq!(status(&["-H", &bearer], "api/panel/headline"), "200");

    // A browser comes once with ?token=; the cookie carries it from then on.
    let _one = BROWSER.lock().await;
    let browser = Browser::start().await;
    let state = browser
        .open(&format!("{}?token={TOKEN}", dashboard.url))
        .await;
    assert_eq!(state, "ready", "{}", browser.error_text().await);
    let url = browser.client.current_url().await.unwrap();
    assert!(
        !url.as_str().contains("token"),
        "the token stays in the address bar: {url}"
    );
    assert_figures(
        &browser.metrics().await,
        ccusage_figures(&claude, None),
        "with a token",
    );
    let cookie = browser.script("return document.cookie").await;
    assert_eq!(cookie, "", "the cookie must be HttpOnly");
    assert_eq!(
        browser.open(&dashboard.url).await,
        "ready",
        "the cookie is kept"
    );
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_says_when_clickhouse_is_down_and_recovers_when_it_is_back() {
    let env = TestEnv::new("dash_down");
    let server = PrivateServer::start(env.path("clickhouse"));
    let claude = env.generate_logs("laptop", &["--days", "5", "--lines", "200", "--seed", "4"]);
    env.importer("laptop")
        .env("CH_URL", server.url())
        .logs(&claude)
        .import_ok();
    let dashboard = Dashboard::start(env.importer("viewer").env("CH_URL", server.url()), &[]);
    let _one = BROWSER.lock().await;
    let browser = Browser::start().await;
    assert_eq!(browser.open(&dashboard.url).await, "ready");
    let before = browser.metrics().await;
    assert_figures(&before, ccusage_figures(&claude, None), "before");

    server.stop();
    assert_eq!(browser.open(&dashboard.url).await, "error");
    let message = browser.error_text().await;
    assert!(message.contains("HTTP 503"), "{message}");
    // One sentence saying what to check; the server's own text only behind "details".
    let sentence = browser
        .script("return document.querySelector('#error > p').textContent")
        .await;
    assert!(
        sentence
            .as_str()
            .unwrap()
            .contains("check that the server runs"),
        "{sentence}"
    );
    // It says once that it retries (the server's sentence said so too).
    let sentence = sentence.as_str().unwrap().to_lowercase();
    assert_eq!(sentence.matches("retr").count(), 1, "{sentence}");
    let folded = browser
        .script("return document.querySelector('#error details').open")
        .await;
    assert_eq!(folded, false);
    assert!(
        message.contains("ClickHouse") || message.contains("clickhouse"),
        "{message}"
    );
    let status = browser
        .script("return document.getElementById('error').dataset.status")
        .await;
    assert_eq!(status, "503");

    // The page retries on its own; nobody reloads it.
    server.resume();
    assert_eq!(browser.until(|s| s == "ready").await, "ready");
    let hidden = browser
        .script("return document.getElementById('error').hidden")
        .await;
    assert_eq!(hidden, true, "the error is gone");
    assert_eq!(browser.metrics().await, before);
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn names_that_look_like_html_stay_text_on_the_page_and_in_the_static_file() {
    let env = TestEnv::new("dash_html");
    let machine = r#"<img src=x onerror="document.body.dataset.pwned='machine'">"#;
    let project = r#"<svg onload=document.body.dataset.pwned='project'> & "q" <!--<script>"#;
    std::fs::create_dir_all(env.path(project)).unwrap();
    let cwd = env.path(project).display().to_string();
    let args = [
        "--days",
        "4",
        "--lines",
        "150",
        "--seed",
        "5",
        "--project-cwd",
        &cwd,
    ];
    let claude = env.generate_logs("logs", &args);
    env.importer(machine).logs(&claude).import_ok();
    let file = env.path("report.html");
    let run = env
        .importer("viewer")
        .arg("dashboard")
        .arg("--html")
        .arg(&file)
        .run();
    assert_eq!(run.code, 0, "{}", run.stderr);
    let dashboard = Dashboard::start(env.importer("viewer"), &[]);
    let _one = BROWSER.lock().await;
    let browser = Browser::start().await;
    let machine_filter = format!("{}?machine={}", dashboard.url, url_encode(machine));
    for url in [
        dashboard.url.clone(),
        machine_filter,
        format!("file://{}", file.display()),
    ] {
        assert_eq!(
            browser.open(&url).await,
            "ready",
            "{url}: {}",
            browser.error_text().await
        );
        let page = browser
            .script(
                "return { pwned: document.body.dataset.pwned || null,
                    injected: document.querySelectorAll('img, #cards svg, table svg').length,
                    machine: document.querySelector('[data-table=machines] tbody td').textContent,
                    project: document.querySelector('[data-table=projects] tbody td').textContent }",
            )
            .await;
        assert_eq!(page["pwned"], Value::Null, "{url}: a name ran as HTML");
        assert_eq!(page["injected"], 0, "{url}: a name became an element");
        assert_eq!(page["machine"], machine, "{url}");
        assert_eq!(page["project"], project, "{url}");
        assert_figures(
            &browser.metrics().await,
            ccusage_figures(&claude, None),
            &url,
        );
        assert_eq!(browser.console_errors(), Vec::<String>::new(), "{url}");
    }
    browser.close().await;
}

/// Percent-encodes everything but unreserved characters, as a query value.
fn url_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The page at a phone's, a tablet's and a desktop's width (issue 28): nothing runs off the
/// right edge, so the page never scrolls sideways (wide tables scroll inside their panel);
/// below 600 px the panels stand in one column. Screenshots go to
/// `target/dashboard-screenshots/width-N.png`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_fits_a_phone_a_tablet_and_a_desktop_without_sideways_scrolling() {
    let env = TestEnv::new("dash_widths");
    two_machines(&env);
    let dashboard = Dashboard::start(env.importer("viewer"), &["--plan-price", "200"]);
    let _one = BROWSER.lock().await;
    let browser = Browser::start().await;
    for (width, height) in [(390, 844), (768, 1024), (1440, 900)] {
        let metrics = json!({
            "width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600,
        });
        let answer = browser.driver_command(
            "goog/cdp/execute",
            json!({ "cmd": "Emulation.setDeviceMetricsOverride", "params": metrics }),
        );
        assert!(
            answer["value"].is_object(),
            "cannot emulate {width} px: {answer}"
        );
        assert_eq!(browser.open(&dashboard.url).await, "ready", "at {width} px");
        assert_all_drawn(&browser, &format!("{width} px")).await;
        let fit = browser
            .script(
                "const d = document.documentElement; \
                 const over = [...document.querySelectorAll('body *')] \
                   .filter((e) => !e.closest('.scroll') && e.getBoundingClientRect().right > window.innerWidth + 1) \
                   .slice(0, 5).map((e) => e.tagName + '#' + e.id + '.' + e.getAttribute('class')); \
                 const columns = new Set([...document.querySelectorAll('main > .panel:not([hidden])')] \
                   .map((e) => Math.round(e.getBoundingClientRect().left))).size; \
                 return [d.scrollWidth, window.innerWidth, over, columns]",
            )
            .await;
        // A phone widens its layout viewport (zooms out) to fit a page wider than itself, so
        // both the viewport and the page must stay within the device's width.
        let (scroll, inner) = (fit[0].as_u64().unwrap(), fit[1].as_u64().unwrap());
        assert!(
            scroll <= width && inner <= width,
            "at {width} px the page is {scroll} px wide (viewport {inner} px); past the edge: {}",
            fit[2]
        );
        if width < 600 {
            assert_eq!(fit[3], 1, "below 600 px the panels stand in one column");
        }
        // Every card's text stays inside its border (the plan card's hint names a long
        // setting), and no date outside a chart breaks across lines at its hyphens.
        let broken = browser
            .script(
                "const out = []; \
                 for (const card of document.querySelectorAll('.card')) { \
                   const r = card.getBoundingClientRect(); \
                   for (const part of card.children) { \
                     if (part.getBoundingClientRect().right > r.right + 1) out.push('card ' + card.dataset.metric); } } \
                 const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT); \
                 const date = /\\d{4}-\\d{2}(-\\d{2})?/g; \
                 for (let n = walk.nextNode(); n; n = walk.nextNode()) { \
                   if (n.parentElement.closest('svg, [hidden], script, style, .scroll')) continue; \
                   for (const m of n.textContent.matchAll(date)) { \
                     const range = document.createRange(); \
                     range.setStart(n, m.index); range.setEnd(n, m.index + m[0].length); \
                     const lines = new Set([...range.getClientRects()].map((x) => Math.round(x.top))); \
                     if (lines.size > 1) out.push('date ' + m[0] + ' in ' + n.parentElement.className); } } \
                 return out",
            )
            .await;
        assert_eq!(broken, json!([]), "at {width} px");
        browser.screenshot(&format!("width-{width}")).await;
    }
    assert_eq!(browser.console_errors(), Vec::<String>::new());
    browser.close().await;
}

/// Issue 30: the machines table said `ok` beside "17 days since usage", since its Stale column
/// looked at imports only. Its Status now tells a machine that stopped importing ("no import
/// for N hours") from one that imports but finds no new usage ("no new usage for N days"), and
/// shows the last run's warnings. The old import is a ledger row dated 30 hours back, since a
/// test cannot wait for a day to pass; the stale logs and their import are real.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_machines_table_tells_no_import_from_no_new_usage() {
    let env = TestEnv::new("dash_status");
    let fresh = env.generate_logs("fresh", &["--days", "3", "--lines", "100", "--seed", "5"]);
    env.importer("fresh-box").logs(&fresh).import_ok();
    let old = chrono::Utc::now() - chrono::Duration::days(12);
    let stale = env.generate_logs(
        "stale",
        &[
            "--days",
            "3",
            "--lines",
            "100",
            "--seed",
            "6",
            "--now",
            &old.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        ],
    );
    env.importer("stale-box").logs(&stale).import_ok();
    // gone-box: its last good import 30 hours ago.
    env.sql(
        "INSERT INTO ccusage_import_runs (run_id, machine_name, started_at, exit_code) \
         SELECT 'gone-run', 'gone-box', now() - 30 * 3600, 0",
    );
    let dashboard = Dashboard::start(env.importer("viewer"), &[]);
    let _one = BROWSER.lock().await;
    let browser = Browser::start().await;
    assert_eq!(browser.open(&dashboard.url).await, "ready");
    let status = browser
        .script(
            "const t = document.getElementById('table-machines');
             const heads = [...t.querySelectorAll('thead th')].map((h) => h.textContent);
             const col = (name) => heads.findIndex((h) => h.startsWith(name));
             return [...t.querySelectorAll('tbody tr')].map((tr) => [
               tr.cells[col('Machine')].textContent,
               tr.cells[col('Status')].textContent,
               tr.cells[col('Last warnings')].textContent]);",
        )
        .await;
    let rows: Vec<Vec<String>> = serde_json::from_value(status.clone()).unwrap();
    let of = |machine: &str| {
        rows.iter()
            .find(|r| r[0] == machine)
            .unwrap_or_else(|| panic!("{machine}: {status}"))
            .clone()
    };
    assert_eq!(of("fresh-box")[1], "ok", "{status}");
    // Twelve days back, or thirteen when the last generated line fell before midnight; the
    // status and the stored warning say the same.
    let days = of("stale-box")[1]
        .strip_prefix("no new usage for ")
        .and_then(|rest| rest.strip_suffix(" days"))
        .and_then(|n| n.parse::<i64>().ok())
        .unwrap_or_else(|| panic!("{status}"));
    assert!((12..=13).contains(&days), "{status}");
    assert!(
        of("stale-box")[2].starts_with(&format!("the newest usage is {days} days old")),
        "{status}"
    );
    assert_eq!(of("gone-box")[1], "no import for 30 hours", "{status}");
    browser.close().await;
}

/// Issue 28: the first visit, before any import (no database yet), is not an error: no 503,
/// no server text; the page says what to run (`body[data-state="empty"]`) and shows the usage
/// by itself once the first import lands.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn before_any_import_the_page_says_what_to_run_and_fills_itself_after() {
    let env = TestEnv::new("dash_empty");
    let dashboard = Dashboard::start(env.importer("viewer"), &[]);
    let _one = BROWSER.lock().await;
    let browser = Browser::start().await;
    assert_eq!(browser.open(&dashboard.url).await, "empty");
    let shown = browser
        .script("return document.querySelector('#error > p').textContent + '\\n' + document.querySelector('#error > pre').textContent")
        .await;
    let shown = shown.as_str().unwrap();
    assert!(shown.contains("ccusage-import init"), "{shown}");
    assert!(
        !shown.contains("DB::Exception") && !shown.contains("Code:"),
        "{shown}"
    );
    assert!(!browser.error_text().await.contains("Code:"), "{shown}");
    assert_eq!(browser.console_errors(), Vec::<String>::new());

    // The first import lands; the page, left alone, shows it.
    let claude = env.generate_logs("laptop", &["--days", "3", "--lines", "100", "--seed", "5"]);
    env.importer("laptop").logs(&claude).import_ok();
    assert_eq!(browser.until(|s| s == "ready").await, "ready");
    assert_figures(
        &browser.metrics().await,
        ccusage_figures(&claude, None),
        "after the first import",
    );
    browser.close().await;
}

/// The page's own CSV button writes formula-like names inert, as the API's CSV does (review of
/// issue 27: the button wrote `=HYPERLINK(…)` as a live formula).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pages_csv_button_writes_formula_like_names_inert() {
    let env = TestEnv::new("dash_formula");
    let project = "=HYPERLINK(\"http://evil.example\",\"x\")";
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
    let claude = env.generate_logs("laptop", &args);
    // A second, plainly named project: the download check wants more than one row.
    let plain = env.generate_logs("desktop", &["--days", "3", "--lines", "80", "--seed", "8"]);
    env.importer("desktop").logs(&plain).import_ok();
    env.importer("laptop").logs(&claude).import_ok();
    let dashboard = Dashboard::start(env.importer("viewer"), &[]);
    let _one = BROWSER.lock().await;
    let browser = Browser::start().await;
    assert_eq!(browser.open(&dashboard.url).await, "ready");
    assert_csv_download_matches_the_api(&env, &browser, &dashboard, "projects").await;
    let saved = std::fs::read_to_string(env.path("downloads-projects/projects.csv")).unwrap();
    // ccusage names the project after its directory (`-…-=HYPERLINK(…)`): a cell starting
    // with `-` or `=` is evaluated by a spreadsheet, so every one must start with `'`.
    let formula: Vec<&str> = saved
        .lines()
        .skip(1)
        .filter(|line| line.contains("HYPERLINK"))
        .collect();
    assert!(!formula.is_empty(), "{saved}");
    for line in formula {
        assert!(
            line.starts_with("\"'") || line.starts_with('\''),
            "a live formula: {line}"
        );
    }
    browser.close().await;
}

/// Issue 28: the page warns where people look and draws only what compares something. Two
/// machines import the same logs (a synced `~/.claude`): a banner says how many sessions are
/// stored twice, what the fleet counts twice and which query lists them. A third machine's
/// all-agent report holds Codex beside Claude: under `agent=codex` the panels that read Claude
/// Code's own reports stand down, and a note names them. That machine's usage is of an earlier
/// month: its month cards say so instead of "$0.00". One open block: "1 row", and a machine
/// with none says so once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_warns_of_shared_logs_and_narrows_only_what_an_agent_filter_can() {
    let env = TestEnv::new("dash_warn");
    let claude = env.generate_logs(
        "shared",
        &["--days", "4", "--lines", "150", "--seed", "31", "--active"],
    );
    for machine in ["laptop", "desk"] {
        env.importer(machine).logs(&claude).import_ok();
    }
    let (dir, bin) = fixture_stand_in(&env, "20.0.24", "20.0.24");
    let day = "2026-11-20";
    std::fs::write(
        dir.join("agents.json"),
        crate::hostile::agents_day(
            day,
            &[("claude", 1000, 500, 2.0), ("codex", 3000, 700, 1.25)],
        ),
    )
    .unwrap();
    env.importer("agents-box").ccusage(&bin).import_ok();
    let this_month = chrono::Utc::now().format("%Y-%m").to_string();
    assert!(
        env.sql(
            "SELECT max(date) FROM ccusage_usage_daily FINAL WHERE machine_name = 'agents-box'"
        )
        .trim()
            < this_month.as_str(),
        "the precondition: agents-box has no usage this month"
    );
    let shared = env
        .importer("laptop")
        .args(["query", "fleet_shared_sessions", "--format", "json"])
        .run()
        .json();
    let shared = shared.as_array().unwrap();
    assert!(!shared.is_empty(), "the precondition: shared sessions");
    let twice: f64 = shared
        .iter()
        .map(|r| r["counted_twice"].as_f64().unwrap())
        .sum();

    let dashboard = Dashboard::start(env.importer("viewer"), &[]);
    let _one = BROWSER.lock().await;
    let browser = Browser::start().await;

    // The fleet: the banner, with the figures of `query fleet_shared_sessions`.
    assert_eq!(browser.open(&dashboard.url).await, "ready");
    let banner = browser
        .script(
            "const b = document.getElementById('shared'); \
             return [b.hidden, b.dataset.sessions, b.dataset.counted, b.textContent]",
        )
        .await;
    assert_eq!(banner[0], false, "{banner}");
    assert_eq!(banner[1], shared.len().to_string(), "{banner}");
    let counted: f64 = banner[2].as_str().unwrap().parse().unwrap();
    assert!(
        (counted - twice).abs() < 0.01 * shared.len() as f64,
        "{counted} vs {twice}"
    );
    let text = banner[3].as_str().unwrap();
    assert!(
        text.contains("(desk, laptop)")
            && text.contains(&format!("count ${counted:.2}"))
            && text.contains("ccusage-import query fleet_shared_sessions"),
        "{text}"
    );
    // Two agents: their panels compare them, and draw.
    assert!(!hidden_panels(&browser).await.contains(&"agents".to_owned()));
    assert_all_drawn(&browser, "the fleet of three").await;
    // Under "All agents" the cards count Claude Code's reports: the note says Codex's cost is
    // elsewhere (the hostile review found it unseen).
    let note = browser
        .script("const n = document.getElementById('agent-note'); return [n.hidden, n.textContent]")
        .await;
    assert_eq!(note[0], false, "{note}");
    let note = note[1].as_str().unwrap();
    assert!(
        note.starts_with("All agents") && note.contains("codex ($1.25)"),
        "{note}"
    );

    // Codex: the cards and days are Codex's; what reads Claude Code's reports stands down.
    browser
        .open(&format!("{}?agent=codex", dashboard.url))
        .await;
    let metrics = browser.metrics().await;
    let cost: f64 = metrics["total_cost"].as_str().unwrap().parse().unwrap();
    assert_eq!(cost, 1.25, "{metrics}");
    for gone in ["month_cost", "projected_month_cost", "cache_saving"] {
        let hidden = browser
            .script(&format!(
                "return document.querySelector('[data-metric={gone}]').hidden"
            ))
            .await;
        assert_eq!(hidden, true, "{gone}");
    }
    let hidden = hidden_panels(&browser).await;
    for panel in ["models", "projects", "sessions", "model_mix", "heatmap"] {
        assert!(hidden.contains(&panel.to_owned()), "{panel}: {hidden:?}");
    }
    for kept in ["tokens_per_day", "days"] {
        assert!(!hidden.contains(&kept.to_owned()), "{kept}: {hidden:?}");
    }
    let note = browser
        .script("const n = document.getElementById('agent-note'); return [n.hidden, n.textContent]")
        .await;
    assert_eq!(note[0], false, "{note}");
    let note = note[1].as_str().unwrap();
    assert!(
        note.contains("Agent codex")
            && note.contains("Top projects")
            && note.contains("Top sessions"),
        "{note}"
    );

    // A machine without usage this month says so; it shares no logs and has no open block.
    browser
        .open(&format!("{}?machine=agents-box", dashboard.url))
        .await;
    let cards = browser
        .script(
            "return ['month_cost', 'projected_month_cost'].map((m) => \
               document.querySelector('[data-metric=' + m + '] .value').textContent)",
        )
        .await;
    assert_eq!(cards, json!(["No usage", "—"]));
    assert_eq!(
        browser
            .script("return document.getElementById('shared').hidden")
            .await,
        true
    );
    let said = browser
        .script(
            "return document.querySelector('[data-panel=active_blocks]').textContent \
             .split('No machine is in an open 5-hour block now.').length - 1",
        )
        .await;
    assert_eq!(said, 1, "the empty message, once");

    // One machine in an open block: one row, in the singular.
    browser
        .open(&format!("{}?machine=laptop", dashboard.url))
        .await;
    let info = browser
        .script("return document.querySelector('#table-blocks .note').textContent")
        .await;
    assert_eq!(info, "1 row");
    assert_eq!(browser.console_errors(), Vec::<String>::new());
    browser.close().await;
}

/// Review of issue 28: the shared-logs banner follows the filter. Two machines import the same
/// logs; over a range with no activity, and under another agent than Claude Code, the panel
/// finds no shared session (it gave the all-time figures whatever the range and agent).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_shared_logs_banner_follows_the_date_range_and_the_agent() {
    let env = TestEnv::new("dash_shared_range");
    let claude = env.generate_logs("shared", &["--days", "3", "--lines", "60", "--seed", "32"]);
    for machine in ["laptop", "desk"] {
        env.importer(machine).logs(&claude).import_ok();
    }
    let dashboard = Dashboard::start(env.importer("viewer"), &[]);
    let sessions = |query: &str| -> u64 {
        let out = Command::new("curl")
            .args(["-sS", "--max-time", "30"])
            .arg(format!(
                "{}api/panel/shared_sessions?{query}",
                dashboard.url
            ))
            .output()
            .unwrap();
        let body: Value = serde_json::from_slice(&out.stdout).unwrap();
        let n = &body["rows"][0][0];
        n.as_u64()
            .or_else(|| n.as_str().and_then(|s| s.parse().ok()))
            .unwrap_or_else(|| panic!("{query}: {body}"))
    };
    let all = "since=2000-01-01&until=2100-12-31";
    let shared = sessions(all);
    assert!(shared > 0, "the precondition: shared sessions");
    assert_eq!(sessions(&format!("{all}&agent=claude")), shared);
    assert_eq!(sessions(&format!("{all}&machine=desk")), shared);
    assert_eq!(
        sessions("since=2001-01-01&until=2001-01-31"),
        0,
        "a range without activity"
    );
    assert_eq!(sessions(&format!("{all}&agent=codex")), 0, "another agent");
}

/// Review of issue 28: the plan card's average per month is over the months of the range,
/// from the first with usage to its end, not only the months with usage. Usage in March and
/// in June; the range March to August: six months, four of them without usage.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_average_per_month_counts_the_months_without_usage() {
    let env = TestEnv::new("dash_months");
    for (machine, now, seed) in [
        ("march-box", "2026-03-15T12:00:00Z", "51"),
        ("june-box", "2026-06-15T12:00:00Z", "52"),
    ] {
        let args = ["--days", "2", "--lines", "40", "--seed", seed, "--now", now];
        let claude = env.generate_logs(machine, &args);
        env.importer(machine).logs(&claude).import_ok();
    }
    let dashboard = Dashboard::start(env.importer("viewer"), &[]);
    let range = "since=2026-03-01&until=2026-08-31";
    let out = Command::new("curl")
        .args(["-sS", "--max-time", "30"])
        .arg(format!("{}api/panel/plan?{range}", dashboard.url))
        .output()
        .unwrap();
    let plan: Value = serde_json::from_slice(&out.stdout).unwrap();
    let rows = plan["rows"].as_array().unwrap();
    assert_eq!(
        rows.len(),
        2,
        "the precondition: two months with usage: {plan}"
    );
    let cost_at = plan["columns"]
        .as_array()
        .unwrap()
        .iter()
        .position(|c| c == "cost" || c["name"] == "cost")
        .unwrap_or_else(|| panic!("{plan}"));
    let total: f64 = rows
        .iter()
        .map(|r| {
            let v = &r[cost_at];
            v.as_f64()
                .unwrap_or_else(|| v.as_str().unwrap().parse().unwrap())
        })
        .sum();

    let _one = BROWSER.lock().await;
    let browser = Browser::start().await;
    assert_eq!(
        browser.open(&format!("{}?{range}", dashboard.url)).await,
        "ready"
    );
    let metrics = browser.metrics().await;
    let average: f64 = metrics["monthly_average_cost"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        (average - total / 6.0).abs() < 1e-5,
        "{average} vs {total} / 6"
    );
    let hint = browser
        .script("return document.querySelector('[data-metric=monthly_average_cost]').textContent")
        .await;
    assert!(
        hint.as_str()
            .unwrap()
            .contains("over 6 months, 2026-03 to 2026-08 (2 with usage)"),
        "{hint}"
    );
    browser.close().await;
}

/// Issue 28: the zone picker lands in the URL as `tz`; days and the heat map's hours move to
/// that zone (03:00 UTC is the evening before in Los Angeles), a reload keeps it, usage added
/// later lands on the zone's day, and an unknown zone is a 400 that says so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_zone_in_the_url_moves_days_and_hours_and_survives_a_reload() {
    use crate::timezones::{first_logs, more_logs, LA};
    let env = TestEnv::new("dash_tz");
    let claude = env.path("claude");
    first_logs(&claude);
    env.importer("laptop").logs(&claude).import_ok();
    let dashboard = Dashboard::start(env.importer("viewer"), &[]);
    let _one = BROWSER.lock().await;
    let browser = Browser::start().await;
    let days = "return [...document.querySelectorAll('[data-table=days] tbody tr')]\
                .map((r) => r.cells[0].textContent + ' ' + r.cells[6].title).join(', ')";
    let hours = "return document.getElementById('chart-heatmap').dataset.hours";
    let zone = "return document.getElementById('tz').value";

    // UTC by default: one day, Tuesday's 03:00 and 20:00.
    assert_eq!(browser.open(&dashboard.url).await, "ready");
    assert_eq!(browser.script(days).await, "2026-11-10 3300");
    assert_eq!(browser.script(hours).await, "2:3 2:20");
    assert_eq!(browser.script(zone).await, "UTC");

    // Los Angeles picked: Monday 19:00 and Tuesday noon, two days.
    browser
        .script(&format!(
            "const s = document.getElementById('tz'); s.value = '{LA}'; \
             s.dispatchEvent(new Event('change')); return null"
        ))
        .await;
    wait_for_url(&browser, "tz=America%2FLos_Angeles").await;
    assert_eq!(browser.settled().await, "ready");
    assert_eq!(
        browser.script(days).await,
        "2026-11-10 2200, 2026-11-09 1100"
    );
    assert_eq!(browser.script(hours).await, "1:19 2:12");
    // The heat map's title names the zone (it said UTC in every zone); the sessions' times
    // stay UTC instants and their headers say so.
    let titles = browser
        .script(
            "return [document.querySelector('[data-panel=heatmap] h2').textContent,              [...document.querySelectorAll('[data-table=sessions] th')].map((t) => t.textContent)              .filter((t) => t.includes('activity')).join(', ')]",
        )
        .await;
    assert_eq!(
        titles,
        json!([
            format!("Tokens by hour and weekday ({LA})"),
            "First activity (UTC), Last activity (UTC)"
        ])
    );
    let footer = browser
        .script("return document.getElementById('footer').textContent")
        .await;
    assert!(footer.as_str().unwrap().contains(LA), "{footer}");

    // A reload keeps the zone; usage imported meanwhile lands on the 10th in Los Angeles.
    more_logs(&claude);
    env.importer("laptop").logs(&claude).import_ok();
    browser.client.refresh().await.unwrap();
    assert_eq!(browser.settled().await, "ready");
    assert_eq!(browser.script(zone).await, LA);
    assert_eq!(
        browser.script(days).await,
        "2026-11-10 2750, 2026-11-09 1100"
    );
    assert_eq!(browser.script(hours).await, "1:19 2:12 2:18");
    assert_eq!(browser.console_errors(), Vec::<String>::new());

    // An unknown zone: the page and the API answer 400 with what is wrong.
    browser
        .client
        .goto(&format!("{}?tz=America/Los_Angles", dashboard.url))
        .await
        .unwrap();
    let shown = browser.error_text().await;
    assert!(
        shown.contains("bad parameter tz") && shown.contains("did you mean America/Los_Angeles?"),
        "{shown}"
    );
    for path in ["?tz=Mars/Olympus", "api/panel/days?tz=Mars/Olympus"] {
        let out = Command::new("curl")
            .args(["-s", "-w", "\n%{http_code}"])
            .arg(format!("{}{path}", dashboard.url))
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.ends_with("\n400"), "{path}: {text}");
        assert!(text.contains("is not a time zone"), "{path}: {text}");
    }
    browser.close().await;

    // --timezone sets the zone of a request without tz.
    let la = Dashboard::start(env.importer("viewer"), &["--timezone", LA]);
    let get = |path: &str| {
        let out = Command::new("curl")
            .args(["-sf", &format!("{}{path}", la.url)])
            .output()
            .unwrap();
        serde_json::from_slice::<Value>(&out.stdout).unwrap()
    };
    assert_eq!(get("api/config")["timezone"], LA);
    let rows = get("api/panel/days")["rows"].clone();
    let shown: Vec<(String, u64)> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r[0].as_str().unwrap().to_owned(), r[6].as_u64().unwrap()))
        .collect();
    assert_eq!(
        shown,
        [
            ("2026-11-09".to_owned(), 1100),
            ("2026-11-10".to_owned(), 2750)
        ]
    );
    let utc = get("api/panel/days?tz=UTC")["rows"].clone();
    assert_eq!(utc.as_array().unwrap().len(), 2, "{utc}");
}

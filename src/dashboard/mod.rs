//! `ccusage-import dashboard`: ClickHouse → a web page. Serves one page and a small read-only
//! JSON API (`api`), or writes the page with its data embedded (`--html`). Every figure comes
//! from a named statement of `sql/dashboard.sql` (`data`), bound to the URL's filter
//! (`filter`); the page and its chart library are embedded in the binary (`page`).

pub mod api;
pub mod data;
pub mod filter;
pub mod page;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{anyhow, Context as _, Result};
use serde_json::{json, Value};

use crate::cli::DashboardArgs;
use crate::config::Config;
use crate::exit::{Exit, ExitContext, Failure};
use crate::output::format;
use crate::sink::ClickHouse;
use data::Data;
use filter::Filter;

/// The environment variable that gives the token itself (`--token-file` gives a file).
pub const TOKEN_VARIABLE: &str = crate::cli::DASHBOARD_TOKEN_VARIABLE;

/// Shorter tokens are refused: a dashboard on the network must not be guessable.
const MIN_TOKEN: usize = 16;

/// A page waits for its figures: one quick retry instead of the importer's patient backoff,
/// so a failure shows within a second and the page retries on its own.
const MAX_RETRIES: u32 = 1;
const RETRY_DELAY: Duration = Duration::from_millis(250);

/// How long a client may take to send a request's headers, counted from when its connection
/// opens or its previous answer was sent: a connection that sends nothing (idle) or trickles
/// its headers (slowloris) is closed then. Browsers open a new connection when they need one.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(10);

/// Connections served at once; more wait in the kernel's queue until one closes, which the
/// header timeout bounds. Without it, every idle connection would hold a task and a file
/// descriptor until the process runs out of them.
pub const MAX_CONNECTIONS: usize = 256;

pub async fn run(config: &Config, args: &DashboardArgs) -> Result<Exit, Failure> {
    let token = load_token(
        args.token_file.as_deref(),
        config
            .dashboard_token
            .as_ref()
            .map(|token| token.expose().to_owned()),
    )
    .exit_code(Exit::Usage)?;
    if let Some(price) = args.plan_price {
        if !(price.is_finite() && price >= 0.0) {
            return Err(usage(anyhow!(
                "--plan-price {price} is not a price: give USD per month, e.g. 200"
            )));
        }
    }
    let budgets = budget_json(&config.budgets().exit_code(Exit::Usage)?);
    let zone = args
        .timezone
        .as_deref()
        .map(|value| filter::zone("--timezone", value))
        .transpose()
        .map_err(|bad| usage(anyhow!("{bad}")))?;
    let data = Data::new(dashboard_clickhouse(&config.clickhouse));
    match &args.html {
        Some(file) => write_html(&data, args, zone, file, budgets).await,
        None => serve(data, args, zone, token, budgets).await,
    }
}

/// The budgets as the page reads them: the fleet's and each machine's, USD per month.
fn budget_json(budgets: &crate::budget::Budgets) -> Value {
    json!({ "fleet": budgets.fleet, "machines": budgets.machines })
}

fn usage(error: anyhow::Error) -> Failure {
    Failure {
        exit: Exit::Usage,
        error,
    }
}

/// The ClickHouse settings with the dashboard's short retries.
fn dashboard_clickhouse(clickhouse: &ClickHouse) -> ClickHouse {
    let mut clickhouse = clickhouse.clone();
    clickhouse.retry.max_retries = clickhouse.retry.max_retries.min(MAX_RETRIES);
    clickhouse.retry.base_delay = clickhouse.retry.base_delay.min(RETRY_DELAY);
    clickhouse
}

/// The token from `--token-file`, else from the environment; `None` when neither is set.
pub fn load_token(file: Option<&Path>, variable: Option<String>) -> Result<Option<String>> {
    let (token, source) = match file {
        Some(path) => {
            let text =
                crate::smallfile::read(path, crate::smallfile::SECRET_LIMIT).map_err(|e| {
                    anyhow!(
                        "cannot read the token file {}: {e:#}; give --token-file a file holding \
                         only the token (make one with `openssl rand -hex 32 > FILE`)",
                        path.display()
                    )
                })?;
            warn_if_readable_by_others(path);
            (text, format!("the token file {}", path.display()))
        }
        None => match variable {
            Some(value) => (value, TOKEN_VARIABLE.to_owned()),
            None => return Ok(None),
        },
    };
    let token = token.trim().to_owned();
    check_token(&token).with_context(|| format!("{source} holds no usable token"))?;
    Ok(Some(token))
}

fn check_token(token: &str) -> Result<()> {
    anyhow::ensure!(
        token.len() >= MIN_TOKEN,
        "a token needs at least {MIN_TOKEN} characters: make one with \
         `openssl rand -hex 32 > FILE`"
    );
    // It travels in a header and a cookie: printable ASCII without separators.
    anyhow::ensure!(
        token
            .bytes()
            .all(|b| b.is_ascii_graphic() && !matches!(b, b';' | b',' | b'"' | b'\\')),
        "a token may hold only printable ASCII without spaces, quotes, commas, semicolons or \
         backslashes: make one with `openssl rand -hex 32 > FILE`"
    );
    Ok(())
}

fn warn_if_readable_by_others(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let shared = path
        .metadata()
        .map(|m| m.permissions().mode() & 0o044 != 0)
        .unwrap_or(false);
    if shared {
        eprintln!(
            "ccusage-import: warning: the token file {} is readable by other users: chmod 600 {0}",
            path.display()
        );
    }
}

/// Whether `listen` may serve without a token: loopback only.
pub fn check_listen(listen: SocketAddr, token: Option<&str>) -> Result<()> {
    if listen.ip().is_loopback() || token.is_some() {
        return Ok(());
    }
    Err(anyhow!(
        "refusing to serve the dashboard on {listen} without a token: anyone who can reach \
         that address could read every machine's usage; give --token-file FILE or set \
         {TOKEN_VARIABLE} (make one with `openssl rand -hex 32`), or listen on 127.0.0.1"
    ))
}

async fn serve(
    data: Data,
    args: &DashboardArgs,
    zone: Option<chrono_tz::Tz>,
    token: Option<String>,
    budgets: Value,
) -> Result<Exit, Failure> {
    check_listen(args.listen, token.as_deref()).exit_code(Exit::Usage)?;
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|e| {
            anyhow!(
                "cannot listen on {}: {e}; pick another address or port with --listen",
                args.listen
            )
        })
        .exit_code(Exit::Other)?;
    let local = listener
        .local_addr()
        .map_err(anyhow::Error::from)
        .exit_code(Exit::Other)?;
    // Ask ClickHouse once now, so a wrong setting shows at start; the page shows it as well,
    // and the dashboard keeps serving until ClickHouse answers.
    let probe = data::statement_for("meta_machines", &Filter::default()).expect("a panel");
    if let Err(error) = data.panel(probe, &Filter::default()).await {
        eprintln!(
            "ccusage-import: warning: {error:#}; the dashboard shows the error until ClickHouse \
             answers"
        );
    }
    let url = page_url(local);
    let protected = if token.is_some() {
        " (every request needs the token)"
    } else {
        ""
    };
    println!("ccusage-import: dashboard at {url}{protected}; Ctrl-C stops it");
    if args.open {
        open_browser(&url, token.as_deref());
    }
    let mut state = api::AppState::new(data, token, args.plan_price);
    state.budgets = budgets;
    state.zone = zone;
    let state = Arc::new(state);
    accept_until_stopped(listener, api::router(state)).await;
    Ok(Exit::Ok)
}

/// Serves connections until Ctrl-C or SIGTERM, each with hyper's HTTP/1 server and its header
/// read timeout ([`HEADER_TIMEOUT`]), at most [`MAX_CONNECTIONS`] at once (a permit of tokio's
/// semaphore is held for a connection's life, the pattern tokio documents for this).
async fn accept_until_stopped(listener: tokio::net::TcpListener, router: axum::Router) {
    use hyper_util::rt::{TokioIo, TokioTimer};
    use hyper_util::service::TowerToHyperService;
    let permits = Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
    let service = TowerToHyperService::new(router);
    let stop = stop_signal();
    tokio::pin!(stop);
    loop {
        let permit = tokio::select! {
            _ = &mut stop => return,
            permit = permits.clone().acquire_owned() => permit.expect("the semaphore is never closed"),
        };
        let stream = tokio::select! {
            _ = &mut stop => return,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                // Out of file descriptors or a connection reset before it was taken: the
                // listener itself is fine, so wait a moment and take the next one.
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let service = service.clone();
        tokio::spawn(async move {
            let _permit = permit;
            // A connection's error (a timeout, a reset) ends only that connection.
            let _ = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(HEADER_TIMEOUT)
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

/// The URL to print: an unspecified address (0.0.0.0, ::) is reached through loopback here.
fn page_url(local: SocketAddr) -> String {
    let host = match local.ip() {
        ip if ip.is_unspecified() && ip.is_ipv4() => "127.0.0.1".to_owned(),
        ip if ip.is_unspecified() => "[::1]".to_owned(),
        std::net::IpAddr::V6(ip) => format!("[{ip}]"),
        ip => ip.to_string(),
    };
    format!("http://{host}:{}/", local.port())
}

/// Opens the page in the desktop's browser. With a token, the URL carries it once; the
/// page then keeps it in a cookie and drops it from the address bar.
fn open_browser(url: &str, token: Option<&str>) {
    let target = match token {
        Some(token) => format!("{url}?token={token}"),
        None => url.to_owned(),
    };
    let opener = if cfg!(target_os = "macos") {
        "open"
    } else {
        "xdg-open"
    };
    let spawned = std::process::Command::new(opener)
        .arg(&target)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn();
    if let Err(error) = spawned {
        eprintln!(
            "ccusage-import: warning: cannot open a browser ({opener}: {error}); open {url} yourself"
        );
    }
}

/// Resolves on Ctrl-C or SIGTERM: the server stops taking requests and ends.
async fn stop_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut interrupt), Ok(mut terminate)) = (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
    ) else {
        return std::future::pending().await;
    };
    tokio::select! {
        _ = interrupt.recv() => {}
        _ = terminate.recv() => {}
    }
}

/// `--html FILE`: every panel under the flags' filter, written into one page.
async fn write_html(
    data: &Data,
    args: &DashboardArgs,
    zone: Option<chrono_tz::Tz>,
    file: &Path,
    budgets: Value,
) -> Result<Exit, Failure> {
    let mut filter = Filter::from_flags(
        args.since.as_deref(),
        args.until.as_deref(),
        args.machine.as_deref(),
        args.agent.as_deref(),
    )
    .map_err(|bad| usage(anyhow!("{bad}")))?;
    filter.zone = zone;
    let panels = data.all(&filter).await.exit_code(Exit::ClickHouse)?;
    // A report of a machine or agent that is not there would be all zeros, which reads as
    // "no usage" rather than as the typo it is.
    check_known(
        "--machine",
        filter.machine.as_deref(),
        &panels["meta_machines"],
    )?;
    check_known("--agent", filter.agent.as_deref(), &panels["meta_agents"])?;
    let generated = chrono::Utc::now();
    let embedded = json!({
        "config": {
            "plan_price": args.plan_price,
            "timezone": filter.zone_value(),
            "today": crate::zone::today(zone).to_string(),
            "version": env!("CARGO_PKG_VERSION"),
            "static": true,
            "budget": budgets,
            "agent_panels": data::agent_panels(),
            "generated_at": generated.format("%Y-%m-%d %H:%M UTC").to_string(),
        },
        "filter": {
            "since": filter.since.map(|d| d.to_string()),
            "until": filter.until.map(|d| d.to_string()),
            "machine": filter.machine,
            "agent": filter.agent,
            "tz": filter.zone.map(|z| z.name()),
        },
        "panels": panels,
    });
    let html = page::standalone(&embedded);
    write_atomically(file, &html)
        .with_context(|| format!("cannot write {}", file.display()))
        .exit_code(Exit::Other)?;
    let headline = &embedded["panels"]["headline"]["rows"][0];
    println!(
        "ccusage-import: wrote {} ({}, {}, {}); open it in a browser",
        file.display(),
        counted(&headline[0], "machine"),
        counted(&headline[1], "active day"),
        format::usd(
            headline[7]
                .as_str()
                .and_then(|cost| cost.parse::<f64>().ok())
                .unwrap_or(0.0)
        ),
    );
    Ok(Exit::Ok)
}

/// Fails with a usage error naming the known values when `wanted` is not among the first
/// column of `panel` (meta_machines or meta_agents).
fn check_known(flag: &str, wanted: Option<&str>, panel: &Value) -> Result<(), Failure> {
    let Some(wanted) = wanted else { return Ok(()) };
    let known: Vec<&str> = panel["rows"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|row| row[0].as_str())
        .collect();
    if known.contains(&wanted) {
        return Ok(());
    }
    let choices = match known.len() {
        0 => "there is none yet".to_owned(),
        n if n <= 10 => format!("known: {}", known.join(", ")),
        n => format!("known: {}, … ({n} in all)", known[..10].join(", ")),
    };
    Err(usage(anyhow!(
        "bad parameter {flag}: {wanted:?} has no usage in this database ({choices})"
    )))
}

fn counted(n: &Value, noun: &str) -> String {
    let n = n.as_u64().unwrap_or(0);
    let plural = if n == 1 { "" } else { "s" };
    format!("{} {noun}{plural}", format::thousands(n))
}

/// Writes beside the target and renames, so a failed write never leaves half a report.
fn write_atomically(file: &Path, text: &str) -> Result<()> {
    let dir = match file.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let mut temp = tempfile::NamedTempFile::new_in(dir)?;
    std::io::Write::write_all(&mut temp, text.as_bytes())?;
    temp.persist(file)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_serves_without_a_token_and_other_addresses_need_one() {
        let loopback: SocketAddr = "127.0.0.1:8787".parse().unwrap();
        let any: SocketAddr = "0.0.0.0:8787".parse().unwrap();
        let v6: SocketAddr = "[::1]:8787".parse().unwrap();
        assert!(check_listen(loopback, None).is_ok());
        assert!(check_listen(v6, None).is_ok());
        let refused = check_listen(any, None).unwrap_err().to_string();
        assert!(refused.contains("without a token") && refused.contains(TOKEN_VARIABLE));
        assert!(check_listen(any, Some("0123456789abcdef")).is_ok());
    }

    #[test]
    fn tokens_come_from_the_file_first_and_must_be_long_and_plain() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("token");
        std::fs::write(&file, "0123456789abcdef0123\n").unwrap();
        let from_file = load_token(Some(&file), Some("from-the-environment-123".into()));
        assert_eq!(from_file.unwrap().as_deref(), Some("0123456789abcdef0123"));
        let from_env = load_token(None, Some("from-the-environment-123".into()));
        assert_eq!(
            from_env.unwrap().as_deref(),
            Some("from-the-environment-123")
        );
        assert_eq!(load_token(None, None).unwrap(), None);
        let short = load_token(None, Some("short".into())).unwrap_err();
        assert!(format!("{short:#}").contains("at least 16"), "{short:#}");
        let spaced = load_token(None, Some("has a space in it, really".into())).unwrap_err();
        assert!(format!("{spaced:#}").contains("printable ASCII"));
        let missing = load_token(Some(&dir.path().join("none")), None).unwrap_err();
        assert!(format!("{missing:#}").contains("cannot read the token file"));
    }

    #[test]
    fn the_printed_url_reaches_the_server() {
        assert_eq!(
            page_url("0.0.0.0:8787".parse().unwrap()),
            "http://127.0.0.1:8787/"
        );
        assert_eq!(page_url("[::]:80".parse().unwrap()), "http://[::1]:80/");
        assert_eq!(
            page_url("192.168.1.5:9000".parse().unwrap()),
            "http://192.168.1.5:9000/"
        );
    }

    #[test]
    fn the_dashboard_retries_briefly() {
        let cfg = ClickHouse {
            url: "http://x".into(),
            urls: vec!["http://x".into()],
            cluster: None,
            user: "u".into(),
            password: crate::sink::Secret::new("p".into()),
            database: "d".into(),
            timeout: Duration::from_secs(60),
            max_response: 1 << 20,
            retry: crate::sink::retry::RetryPolicy {
                max_retries: 3,
                base_delay: Duration::from_secs(1),
                deadline: Duration::from_secs(600),
            },
            ca: None,
        };
        let short = dashboard_clickhouse(&cfg);
        assert_eq!(short.retry.max_retries, 1);
        assert_eq!(short.retry.base_delay, RETRY_DELAY);
    }
}

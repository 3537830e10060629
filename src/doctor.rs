//! `ccusage-import doctor`: what makes this machine's numbers wrong without making anything
//! fail. One line per check, `ok` or `warn`; exit 0 unless a check could not be made.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use anyhow::{anyhow, Context as _, Result};
use clickhouse::Row;
use serde::Deserialize;

use crate::config::Config;
use crate::envfile::EnvFile;
use crate::exit::{Exit, ExitContext as _, Failure};
use crate::sink::{self, Sink};
use crate::sqlfile;

/// Logs older than this mean Claude Code has not run here lately, or its logs are elsewhere.
const STALE_LOGS: Duration = Duration::from_secs(7 * 86400);
/// A clock further off than this puts usage into the wrong hour, or the wrong day.
const CLOCK_SKEW: u64 = 120;
/// An hourly job whose last import is older than this has stopped.
const NO_RUN: u64 = 3 * 3600;
/// The most directory entries read while looking for the newest log.
const MAX_ENTRIES: usize = 200_000;

struct Report {
    lines: String,
    unchecked: Vec<String>,
}

impl Report {
    fn line(&mut self, ok: bool, what: &str, detail: &str) {
        let mark = if ok { "ok  " } else { "warn" };
        self.lines.push_str(&format!(
            "{mark} {what}: {}\n",
            crate::log::printable(detail)
        ));
    }
}

pub async fn run(
    config: &Config,
    _explicit: Option<&Path>,
    _file: &EnvFile,
) -> Result<Exit, Failure> {
    let mut report = Report {
        lines: String::new(),
        unchecked: Vec::new(),
    };
    check_logs(&mut report);
    check_schedule(&mut report);
    match Sink::connect(&config.clickhouse).await {
        Ok(mut sink) => {
            sink.use_database();
            if let Err(e) = check_server(&mut report, &sink, config).await {
                report.unchecked.push(format!("{e:#}"));
            }
        }
        Err(e) => report
            .unchecked
            .push(format!("cannot reach ClickHouse, so the clock, shared logs, the name and the last run were not checked: {e:#}")),
    }
    crate::log::stdout(&report.lines).exit_code(Exit::Other)?;
    if report.unchecked.is_empty() {
        return Ok(Exit::Ok);
    }
    Err(Failure {
        exit: Exit::ClickHouse,
        error: anyhow!("{}", report.unchecked.join("; ")),
    })
}

/// The directories ccusage reads: CLAUDE_CONFIG_DIR's (comma-separated), else ~/.claude and
/// ~/.config/claude.
fn log_dirs() -> (Vec<PathBuf>, bool) {
    let home = std::env::var_os("HOME").map(PathBuf::from);
    crate::claude_logs::dirs(
        std::env::var("CLAUDE_CONFIG_DIR").ok().as_deref(),
        home.as_deref(),
    )
}

/// The newest `.jsonl` under `dir/projects`, by modification time; reads at most
/// [`MAX_ENTRIES`] entries.
fn newest_log(dir: &Path) -> Option<SystemTime> {
    let mut newest = None;
    let mut stack = vec![(dir.join("projects"), 0)];
    let mut seen = 0;
    while let Some((dir, depth)) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            seen += 1;
            if seen > MAX_ENTRIES {
                return newest;
            }
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            let path = entry.path();
            if kind.is_dir() && depth < 4 {
                stack.push((path, depth + 1));
            } else if kind.is_file() && path.extension().is_some_and(|e| e == "jsonl") {
                if let Ok(modified) = entry.metadata().and_then(|m| m.modified()) {
                    newest = newest.max(Some(modified));
                }
            }
        }
    }
    newest
}

fn check_logs(report: &mut Report) {
    let (dirs, from_setting) = log_dirs();
    let missing: Vec<String> = dirs
        .iter()
        .filter(|d| !d.is_dir())
        .map(|d| d.display().to_string())
        .collect();
    if from_setting {
        if missing.is_empty() {
            report.line(true, "CLAUDE_CONFIG_DIR", "every directory it names exists");
        } else {
            report.line(
                false,
                "CLAUDE_CONFIG_DIR",
                &format!(
                    "points nowhere: {} does not exist; fix it in the settings file",
                    missing.join(", ")
                ),
            );
        }
    }
    let newest = dirs.iter().filter_map(|d| newest_log(d)).max();
    let names: Vec<String> = dirs.iter().map(|d| d.display().to_string()).collect();
    match newest {
        None => report.line(
            false,
            "Claude Code logs",
            &format!(
                "none under {}/projects: this machine imports nothing; set CLAUDE_CONFIG_DIR \
                 if its logs are elsewhere",
                names.join(", ")
            ),
        ),
        Some(newest) => {
            let age = SystemTime::now().duration_since(newest).unwrap_or_default();
            let days = age.as_secs() / 86400;
            if age > STALE_LOGS {
                report.line(
                    false,
                    "Claude Code logs",
                    &format!(
                        "the newest is {days} days old: no usage here since, or the logs \
                         are elsewhere (CLAUDE_CONFIG_DIR)"
                    ),
                );
            } else {
                report.line(
                    true,
                    "Claude Code logs",
                    &format!("the newest is {} h old", age.as_secs() / 3600),
                );
            }
        }
    }
}

fn check_schedule(report: &mut Report) {
    match crate::schedule::status::find() {
        Err(e) => report.line(false, "hourly job", &format!("cannot tell: {e:#}")),
        Ok(found) if !found.any => report.line(
            false,
            "hourly job",
            "none installed: `ccusage-import schedule install`",
        ),
        Ok(found) => {
            let tail = crate::schedule::status::log_tail(&found);
            let detail = match tail {
                Some((log, Some(text))) => {
                    let last = text
                        .lines()
                        .rev()
                        .find(|l| l.starts_with("ccusage-import"))
                        .unwrap_or("(no run in it yet)")
                        .to_owned();
                    format!("installed; its log {} ends: {last}", log.display())
                }
                Some((log, None)) => {
                    format!("installed; its log {} is not written yet", log.display())
                }
                None => "installed".into(),
            };
            report.line(true, "hourly job", &detail);
        }
    }
}

#[derive(Debug, Row, Deserialize)]
struct Clock {
    now: u64,
}

#[derive(Debug, Row, Deserialize)]
struct Host {
    hostname: String,
    last: u64,
}

#[derive(Debug, Row, Deserialize)]
struct Last {
    last: u64,
}

async fn check_server(report: &mut Report, sink: &Sink, config: &Config) -> Result<()> {
    let machine = config.machine_name.as_str();
    let clock_sql = sqlfile::import("doctor_server_clock");
    let clock = sink
        .request("read the server's clock", || {
            sink.client().query(&clock_sql).fetch_one::<Clock>()
        })
        .await?;
    let here = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .context("this machine's clock is before 1970")?
        .as_secs();
    let skew = here.abs_diff(clock.now);
    report.line(
        skew <= CLOCK_SKEW,
        "clock",
        &if skew <= CLOCK_SKEW {
            format!("{skew} s from the server's")
        } else {
            format!(
                "{skew} s from the server's: usage may land in the wrong hour or day; sync \
                 this machine's clock (NTP)"
            )
        },
    );
    match sink::history::shared_sessions(sink, machine).await {
        Ok(warnings) if warnings.is_empty() => report.line(
            true,
            "shared logs",
            "no other machine stored this machine's sessions",
        ),
        Ok(warnings) => {
            for warning in warnings {
                report.line(false, "shared logs", &warning);
            }
        }
        Err(e) => report.line(false, "shared logs", &format!("cannot tell: {e:#}")),
    }
    let hosts_sql = sqlfile::import("doctor_hosts_of_machine");
    let hosts = sink
        .request("read the hosts of this machine name", || {
            sink.client()
                .query(&hosts_sql)
                .bind(machine)
                .fetch_all::<Host>()
        })
        .await?;
    let others: Vec<String> = hosts
        .iter()
        .filter(|h| !config.hostname.is_empty() && h.hostname != config.hostname)
        .map(|h| {
            let ago = crate::schedule::status::ago(here.saturating_sub(h.last) as i64);
            format!("{} (last {ago})", h.hostname)
        })
        .collect();
    if others.is_empty() {
        report.line(
            true,
            "machine name",
            &format!("only this host imports as '{machine}'"),
        );
    } else {
        report.line(
            false,
            "machine name",
            &format!(
                "host(s) {} imported as '{machine}' too: two machines with one name overwrite \
                 each other's days; give each its own MACHINE_NAME",
                others.join(", ")
            ),
        );
    }
    let last_sql = sqlfile::import("doctor_last_run");
    let last = sink
        .request("read this machine's last run", || {
            sink.client()
                .query(&last_sql)
                .bind(machine)
                .fetch_one::<Last>()
        })
        .await?;
    if last.last == 0 {
        report.line(false, "last import", "none stored for this machine yet");
    } else {
        let age = here.saturating_sub(last.last);
        report.line(
            age <= NO_RUN,
            "last import",
            &if age <= NO_RUN {
                crate::schedule::status::ago(age as i64)
            } else {
                format!(
                    "{}: the hourly job has not run since (see `ccusage-import schedule status`)",
                    crate::schedule::status::ago(age as i64)
                )
            },
        );
    }
    Ok(())
}

//! `ccusage-import schedule status`: the installed job, read back from whichever scheduler
//! holds it, the end of its log with its warnings, and this machine's last runs in the ledger,
//! read with the job's own settings. `doctor` reads the same.

use std::io::Read as _;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context as _, Result};

use super::units::{self, Installed, UNIT};
use super::{
    as_job, capture, crontab_command, default_env_file, job_path, plist_path, read_crontab,
    setting, unit_dir, which,
};
use crate::cli_machine::StatusArgs;
use crate::envfile::EnvFile;
use crate::exit::{Exit, ExitContext as _, Failure};

/// The most of the log's end (or of a unit file) that is read.
const MAX_LOG_TAIL: u64 = 64 << 10;

/// What status found installed, for `doctor` too.
#[derive(Debug, Default)]
pub struct Found {
    /// One line per scheduler that holds the job, with what it says.
    pub lines: Vec<String>,
    pub installed: Installed,
    pub any: bool,
}

/// The installed job, from whichever scheduler holds it.
pub fn find() -> Result<Found> {
    let mut found = Found::default();
    let crontab = crontab_command();
    if which(&crontab).is_some() {
        let current = read_crontab(&crontab)?;
        match current.lines().find(|l| units::is_ours(l)) {
            Some(line) => {
                found
                    .lines
                    .push(format!("crontab entry ({crontab} -l):\n  {line}"));
                found.installed = units::parse_cron_line(line);
                found.any = true;
            }
            None => found.lines.push("crontab entry: none".into()),
        }
    } else {
        found.lines.push(format!(
            "crontab: not available on this machine ('{crontab}' not found)"
        ));
    }
    let service = unit_dir()?.join(format!("{UNIT}.service"));
    let timer = unit_dir()?.join(format!("{UNIT}.timer"));
    if service.exists() || timer.exists() {
        let calendar = read_bounded(&timer, MAX_LOG_TAIL)
            .unwrap_or_default()
            .lines()
            .find(|l| l.starts_with("OnCalendar="))
            .map(|l| format!("\n  {l}"))
            .unwrap_or_default();
        found
            .lines
            .push(format!("systemd user timer: {}{calendar}", timer.display()));
        if !found.any {
            found.installed = units::parse_service_unit(
                &read_bounded(&service, MAX_LOG_TAIL).unwrap_or_default(),
            );
        }
        found.any = true;
    }
    let plist = plist_path()?;
    if plist.exists() {
        found
            .lines
            .push(format!("launchd agent: {}", plist.display()));
        if !found.any {
            found.installed = units::parse_plist(&read_bounded(&plist, MAX_LOG_TAIL)?);
        }
        found.any = true;
    }
    Ok(found)
}

fn read_bounded(path: &Path, limit: u64) -> Result<String> {
    let mut text = Vec::new();
    crate::smallfile::open_regular(path)
        .and_then(|f| Ok(f.take(limit).read_to_end(&mut text)?))
        .with_context(|| format!("cannot read {}", path.display()))?;
    Ok(String::from_utf8_lossy(&text).into_owned())
}

/// The last `limit` bytes of a file, from the first whole line in them.
pub fn tail(path: &Path, limit: u64) -> Result<String> {
    use std::io::{Seek as _, SeekFrom};
    let mut file = crate::smallfile::open_regular(path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let length = file.metadata()?.len();
    let start = length.saturating_sub(limit);
    file.seek(SeekFrom::Start(start))?;
    let mut text = Vec::new();
    file.take(limit).read_to_end(&mut text)?;
    let text = String::from_utf8_lossy(&text).into_owned();
    Ok(match (start > 0, text.find('\n')) {
        (true, Some(at)) => text[at + 1..].to_owned(),
        _ => text,
    })
}

/// The job's log: its path, and the last bytes of it when it exists.
pub fn log_tail(found: &Found) -> Option<(PathBuf, Option<String>)> {
    let log = found.installed.log.clone()?;
    let text = tail(&log, MAX_LOG_TAIL).ok();
    Some((log, text))
}

/// The warnings of the log's last runs (newest last), at most `most`.
pub fn warnings(log: &str, most: usize) -> Vec<String> {
    let all: Vec<&str> = log
        .lines()
        .filter(|l| l.starts_with("ccusage-import: warning: ") || l.contains(" warning: "))
        .collect();
    let skip = all.len().saturating_sub(most);
    all[skip..].iter().map(|l| (*l).to_owned()).collect()
}

/// A run of this machine in the ledger.
#[derive(Debug, Clone)]
pub struct LedgerRun {
    pub started_at: String,
    pub exit_code: i64,
    pub duration_ms: i64,
    pub rows_written: i64,
    pub rows_unchanged: i64,
    pub error: String,
}

/// The settings the ledger is read with, and its newest runs (not dry runs), newest first.
pub struct Ledger {
    pub machine: String,
    pub url: String,
    pub database: String,
    pub runs: Result<Vec<LedgerRun>>,
}

/// Reads this machine's last runs from `ccusage_import_runs` with the job's settings, by
/// asking the binary (`query import_history`), once, briefly: status must answer quickly
/// even when the server is down.
pub fn ledger(bin: &Path, env_file: &Path, path: &str) -> Result<Ledger> {
    let machine = setting(bin, env_file, path, "MACHINE_NAME")?;
    let url = setting(bin, env_file, path, "CH_URL")?;
    let database = setting(bin, env_file, path, "CH_DATABASE")?;
    let ran = capture(
        as_job(bin, path)
            .arg("--env-file")
            .arg(env_file)
            .args(["--max-retries", "0", "--ch-timeout", "10"])
            .args(["query", "import_history", "--format", "json"]),
    )?;
    let runs = if ran.code == Some(0) {
        parse_history(&ran.stdout)
    } else {
        let line = ran.error_line();
        Err(anyhow!("{}", line.chars().take(300).collect::<String>()))
    };
    Ok(Ledger {
        machine,
        url,
        database,
        runs,
    })
}

fn parse_history(json: &str) -> Result<Vec<LedgerRun>> {
    let rows: Vec<serde_json::Value> =
        serde_json::from_str(json).context("cannot read the ledger's answer")?;
    let number = |row: &serde_json::Value, key: &str| {
        let v = &row[key];
        v.as_i64()
            .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
            .unwrap_or(-1)
    };
    Ok(rows
        .iter()
        .filter(|row| number(row, "dry_run") == 0)
        .map(|row| LedgerRun {
            started_at: row["started_at"].as_str().unwrap_or_default().to_owned(),
            exit_code: number(row, "exit_code"),
            duration_ms: number(row, "duration_ms"),
            rows_written: number(row, "rows_written"),
            rows_unchanged: number(row, "rows_unchanged"),
            error: row["error_start"]
                .as_str()
                .unwrap_or_default()
                .replace(['\n', '\r', '\t'], " "),
        })
        .collect())
}

/// How long ago a UTC `YYYY-MM-DD HH:MM:SS` was, in words; `None` when unreadable.
pub fn age(started_at: &str) -> Option<i64> {
    let then = chrono::NaiveDateTime::parse_from_str(started_at, "%Y-%m-%d %H:%M:%S").ok()?;
    Some((chrono::Utc::now().naive_utc() - then).num_seconds())
}

pub fn ago(seconds: i64) -> String {
    match seconds {
        s if s < 120 => format!("{s} s ago"),
        s if s < 7200 => format!("{} min ago", s / 60),
        s if s < 172_800 => format!("{} h ago", s / 3600),
        s => format!("{} days ago", s / 86400),
    }
}

pub fn status(args: &StatusArgs, explicit: Option<&Path>, file: &EnvFile) -> Result<Exit, Failure> {
    let found = find().exit_code(Exit::Other)?;
    let mut text = found.lines.join("\n");
    text.push('\n');
    if let Some((log, tail_text)) = log_tail(&found) {
        match tail_text {
            Some(tail_text) => {
                let lines: Vec<&str> = tail_text.lines().collect();
                let shown = &lines[lines.len().saturating_sub(args.lines as usize)..];
                text.push_str(&format!(
                    "\nlog {} (last {} lines):\n",
                    log.display(),
                    shown.len()
                ));
                for line in shown {
                    text.push_str(&format!("  {}\n", crate::log::printable(line)));
                }
                let warnings = warnings(&tail_text, 5);
                if !warnings.is_empty() {
                    text.push_str("warnings in the log's last runs:\n");
                    for w in warnings {
                        text.push_str(&format!("  {}\n", crate::log::printable(&w)));
                    }
                }
            }
            None => text.push_str(&format!("\nlog {}: not written yet\n", log.display())),
        }
    }
    // A file named now wins; else the job's own, so the ledger is read as the job writes it.
    let env_file = explicit
        .map(Path::to_path_buf)
        .or_else(|| found.installed.env_file.clone())
        .or_else(|| file.path.clone())
        .or_else(|| default_env_file().ok().filter(|p| p.is_file()));
    let bin = found
        .installed
        .bin
        .clone()
        .filter(|b| b.is_file())
        .or_else(|| std::env::current_exe().ok());
    text.push('\n');
    match (env_file, bin) {
        (Some(env_file), Some(bin)) if env_file.is_file() => {
            text.push_str(&ledger_text(&bin, &env_file));
        }
        (env_file, _) => text.push_str(&format!(
            "last runs: unknown (no readable settings file{}; pass --env-file)\n",
            env_file
                .map(|p| format!(": {}", p.display()))
                .unwrap_or_default()
        )),
    }
    crate::log::stdout(&text).exit_code(Exit::Other)?;
    if !found.any {
        return Err(Failure {
            exit: Exit::Other,
            error: anyhow!("not installed: install it with `ccusage-import schedule install`"),
        });
    }
    Ok(Exit::Ok)
}

fn ledger_text(bin: &Path, env_file: &Path) -> String {
    let ledger = match ledger(bin, env_file, &job_path()) {
        Ok(ledger) => ledger,
        Err(e) => return format!("last runs: unknown ({e:#})\n"),
    };
    let mut text = format!(
        "last runs of machine '{}' (ledger {}.ccusage_import_runs at {}):\n",
        ledger.machine, ledger.database, ledger.url
    );
    match ledger.runs {
        Err(e) => text.push_str(&format!("  (cannot read the ledger: {e:#})\n")),
        Ok(runs) if runs.is_empty() => {
            text.push_str("  (no run of this machine in the ledger yet)\n");
        }
        Ok(runs) => {
            for run in runs.iter().take(3) {
                let when = age(&run.started_at).map_or("unknown".into(), ago);
                let result = if run.exit_code == 0 { "ok" } else { "FAILED" };
                text.push_str(&format!(
                    "  {} UTC ({when}): {result}, exit code {}, {} rows written, {} unchanged, \
                     {} ms\n",
                    run.started_at,
                    run.exit_code,
                    run.rows_written,
                    run.rows_unchanged,
                    run.duration_ms
                ));
                if !run.error.is_empty() {
                    text.push_str(&format!("  error: {}\n", crate::log::printable(&run.error)));
                }
            }
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ledger_answer_is_read_without_dry_runs() {
        let json = r#"[{"started_at":"2026-12-07 10:00:00","exit_code":0,"dry_run":1,
            "duration_ms":5,"rows_written":1,"rows_unchanged":0,"error_start":""},
            {"started_at":"2026-12-07 09:00:00","exit_code":4,"dry_run":0,"duration_ms":"7",
            "rows_written":0,"rows_unchanged":3,"error_start":"a\nb"}]"#;
        let runs = parse_history(json).unwrap();
        assert_eq!(runs.len(), 1);
        assert_eq!(runs[0].exit_code, 4);
        assert_eq!(runs[0].duration_ms, 7);
        assert_eq!(runs[0].error, "a b");
    }

    #[test]
    fn the_log_tail_starts_at_a_whole_line_and_keeps_the_warnings() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("cron.log");
        let mut text = String::new();
        for i in 0..5000 {
            text.push_str(&format!("line {i}\n"));
        }
        text.push_str("ccusage-import: warning: the newest log is 17 days old\n");
        text.push_str("ccusage-import: ok: machine m\n");
        std::fs::write(&log, &text).unwrap();
        let tail = tail(&log, 1000).unwrap();
        assert!(tail.len() <= 1000 && tail.starts_with("line "));
        assert!(tail.ends_with("ccusage-import: ok: machine m\n"));
        assert_eq!(
            warnings(&tail, 5),
            vec!["ccusage-import: warning: the newest log is 17 days old"]
        );
        assert_eq!(ago(30), "30 s ago");
        assert_eq!(ago(3 * 86400), "3 days ago");
    }
}

//! Turns the parsed command line into a checked [`Config`]. Nothing after this reads the
//! environment or the arguments.

use std::fmt;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, ensure, Context as _, Result};

use crate::cli::{Cli, ColorChoice, Command, QueryArgs};
use crate::sink::retry::RetryPolicy;
use crate::source::Limits;

#[derive(Debug, Clone)]
pub struct Config {
    pub mode: Mode,
    pub output: Output,
    pub machine_name: String,
    /// Recorded beside the machine name in the ledger; empty where it cannot be read.
    pub hostname: String,
    pub clickhouse: ClickHouse,
    pub ccusage_bin: Option<PathBuf>,
    pub limits: Limits,
    /// `--jobs`; `None` picks by ccusage version and memory.
    pub jobs: Option<usize>,
    pub lock_file: PathBuf,
    pub verbose: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    Import,
    DryRun,
    Verify,
    Query(QueryArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    /// Progress and the full report; `fancy` when stderr is a terminal that takes colour.
    Human {
        fancy: bool,
    },
    Quiet,
    Json,
}

#[derive(Clone)]
pub struct ClickHouse {
    pub url: String,
    pub user: String,
    pub password: Secret,
    pub database: String,
    pub timeout: Duration,
    pub retry: RetryPolicy,
}

impl fmt::Debug for ClickHouse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClickHouse")
            .field("url", &self.url)
            .field("user", &self.user)
            .field("password", &self.password)
            .field("database", &self.database)
            .field("timeout", &self.timeout)
            .field("retry", &self.retry)
            .finish()
    }
}

/// A password: usable, never printed.
#[derive(Clone, Default)]
pub struct Secret(String);

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_empty() { "\"\"" } else { "\"***\"" })
    }
}

/// Loads `--env-file` (or `./.env` when it exists) without overriding the environment, so
/// flags beat the environment, which beats the file. Returns a warning when others may read
/// the file, since it usually holds the ClickHouse password.
pub fn load_env_file(explicit: Option<&Path>) -> Result<Option<String>> {
    let path = match explicit {
        Some(path) => path,
        None if Path::new(".env").exists() => Path::new(".env"),
        None => return Ok(None),
    };
    dotenvy::from_path(path)
        .with_context(|| format!("cannot read the settings file {}", path.display()))?;
    Ok(readable_by_others(path).then(|| {
        format!(
            "{} is readable by other users and may hold the ClickHouse password: chmod 600 {0}",
            path.display()
        )
    }))
}

fn readable_by_others(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .map(|m| m.permissions().mode() & 0o044 != 0)
        .unwrap_or(false)
}

impl Config {
    pub fn from_cli(cli: Cli, hostname: impl FnOnce() -> Option<String>) -> Result<Config> {
        let hostname = hostname();
        let mode = if let Some(Command::Query(args)) = cli.command {
            Mode::Query(args)
        } else if cli.verify {
            Mode::Verify
        } else if cli.dry_run {
            Mode::DryRun
        } else {
            Mode::Import
        };
        let output = if cli.json {
            Output::Json
        } else if cli.quiet {
            Output::Quiet
        } else {
            Output::Human {
                fancy: wants_fancy(cli.color),
            }
        };
        let machine_name = match cli.machine_name.filter(|name| !name.is_empty()) {
            Some(name) => name,
            None => hostname
                .clone()
                .context("cannot read the hostname: set MACHINE_NAME or --machine-name")?
                .to_lowercase(),
        };
        check_machine_name(&machine_name)?;
        check_database_name(&cli.ch_database)?;
        // An empty setting (`CH_URL=` in a .env) means "not set".
        let url = match cli.ch_url.filter(|url| !url.trim().is_empty()) {
            Some(url) => url,
            None => {
                let scheme = if cli.ch_secure { "https" } else { "http" };
                let port = cli
                    .ch_port
                    .unwrap_or(if cli.ch_secure { 8443 } else { 8123 });
                format!("{scheme}://{}:{port}", cli.ch_host)
            }
        };
        check_url(&url)?;
        Ok(Config {
            mode,
            output,
            machine_name,
            hostname: hostname.unwrap_or_default(),
            clickhouse: ClickHouse {
                url,
                user: cli.ch_user,
                password: Secret(cli.ch_password.unwrap_or_default()),
                database: cli.ch_database,
                timeout: Duration::from_secs(cli.ch_timeout),
                retry: RetryPolicy {
                    max_retries: cli.max_retries,
                    base_delay: Duration::from_millis(cli.retry_delay),
                    deadline: Duration::from_secs(cli.ch_deadline),
                },
            },
            ccusage_bin: cli.ccusage_bin,
            jobs: cli.jobs.map(|n| n as usize),
            lock_file: cli.lock_file.unwrap_or_else(crate::lock::default_path),
            verbose: cli.verbose,
            limits: Limits {
                timeout: Duration::from_secs(cli.timeout),
                max_output: cli.max_output,
            },
        })
    }
}

fn wants_fancy(choice: ColorChoice) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
            let dumb = std::env::var("TERM").is_ok_and(|t| t == "dumb");
            std::io::stderr().is_terminal() && !no_color && !dumb
        }
    }
}

fn check_machine_name(name: &str) -> Result<()> {
    ensure!(
        !name.trim().is_empty(),
        "the machine name is empty: set MACHINE_NAME"
    );
    ensure!(
        name.len() <= 200 && !name.chars().any(char::is_control),
        "the machine name {name:?} is too long or holds control characters: set MACHINE_NAME"
    );
    Ok(())
}

/// Database names are identifiers in DDL; keeping them to plain identifiers means they never
/// need quoting rules that differ between ClickHouse versions.
fn check_database_name(name: &str) -> Result<()> {
    let mut chars = name.chars();
    let valid = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    ensure!(
        valid,
        "CH_DATABASE {name:?} is not a plain name: use letters, digits and _ only"
    );
    Ok(())
}

fn check_url(url: &str) -> Result<()> {
    let Some((scheme, rest)) = url.split_once("://") else {
        bail!(
            "the ClickHouse URL {url:?} has no scheme: use http://HOST:PORT or https://HOST:PORT"
        );
    };
    ensure!(
        scheme == "http" || scheme == "https",
        "the ClickHouse URL {url:?} must start with http:// or https://"
    );
    ensure!(
        !rest.is_empty() && !rest.contains('@'),
        "the ClickHouse URL {url:?} must name a host and hold no credentials: use CH_USER and CH_PASSWORD"
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn config(args: &[&str]) -> Result<Config> {
        let mut argv = vec!["ccusage-import", "--color", "never"];
        argv.extend_from_slice(args);
        Config::from_cli(Cli::try_parse_from(argv)?, || Some("Laptop-1".into()))
    }

    #[test]
    fn machine_name_defaults_to_the_lowercased_hostname() {
        assert_eq!(config(&[]).unwrap().machine_name, "laptop-1");
        let named = config(&["--machine-name", "Work"]).unwrap();
        assert_eq!(named.machine_name, "Work");
    }

    #[test]
    fn url_is_built_from_host_port_and_secure() {
        let cfg = config(&["--ch-host", "db", "--ch-secure", "true"]).unwrap();
        assert_eq!(cfg.clickhouse.url, "https://db:8443");
        let cfg = config(&["--ch-host", "db", "--ch-port", "9999"]).unwrap();
        assert_eq!(cfg.clickhouse.url, "http://db:9999");
        let cfg = config(&["--ch-url", "https://x.cloud:8443"]).unwrap();
        assert_eq!(cfg.clickhouse.url, "https://x.cloud:8443");
    }

    #[test]
    fn bad_database_names_and_urls_are_refused() {
        assert!(config(&["--ch-database", "a`b"]).is_err());
        assert!(config(&["--ch-database", "1abc"]).is_err());
        assert!(config(&["--ch-database", "usage_2"]).is_ok());
        assert!(config(&["--ch-url", "localhost:8123"]).is_err());
        assert!(config(&["--ch-url", "http://u:p@h:1"]).is_err());
    }

    #[test]
    fn the_password_never_shows_in_debug_output() {
        let cfg = config(&["--ch-password", "hunter2-secret"]).unwrap();
        let shown = format!("{cfg:?}");
        assert!(!shown.contains("hunter2-secret"), "{shown}");
        assert!(shown.contains("***"));
    }
}

//! Turns the parsed command line into a checked [`Config`]. Nothing after this reads the
//! environment or the arguments.

use std::collections::{HashMap, HashSet};
use std::ffi::{OsStr, OsString};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, ensure, Context as _, Result};

use crate::cli::{Cli, ColorChoice, Command, ConfigArgs, ProjectsChoice, QueryArgs};
use crate::sink::retry::RetryPolicy;
use crate::sink::{ClickHouse, Secret};
use crate::source::Limits;
use crate::transform::projects::Mode as ProjectMode;

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
    pub projects: ProjectSettings,
}

/// `--projects` and what it needs; the key is read (or created) only by an import that
/// hashes, in `crate::projects`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectSettings {
    pub mode: ProjectMode,
    pub key_file: PathBuf,
    pub alias_file: Option<PathBuf>,
    /// `$HOME`, for readable names.
    pub home: Option<String>,
    pub rekey: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    Import,
    DryRun,
    Verify,
    Query(QueryArgs),
    /// `ccusage-import config`: print the settings, run nothing.
    Config(ConfigArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    /// The full report on stdout, decided once here so nothing later asks the terminal again.
    Human {
        /// Colours in the summary on stdout.
        color: bool,
        /// Spinners on stderr while the run goes.
        live: bool,
    },
    Quiet,
    Json,
}

/// What the process's streams and environment say about colour: read once, in
/// [`Config::from_cli`], and passed in so the policy can be tested.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Terminal {
    pub stdout_is_terminal: bool,
    pub stderr_is_terminal: bool,
    /// `NO_COLOR` set and not empty, or `TERM=dumb`.
    pub colorless: bool,
}

impl Terminal {
    pub fn probe() -> Terminal {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let dumb = std::env::var("TERM").is_ok_and(|t| t == "dumb");
        Terminal {
            stdout_is_terminal: std::io::stdout().is_terminal(),
            stderr_is_terminal: std::io::stderr().is_terminal(),
            colorless: no_color || dumb,
        }
    }
}

/// The look of a human-readable run. `always` colours the summary wherever stdout goes
/// (`| less -R`); spinners need a terminal on stderr whatever is asked, and `--verbose` lines
/// would tear them. `auto` wants both streams on a terminal that takes colour.
pub fn human_output(choice: ColorChoice, verbose: bool, terminal: Terminal) -> Output {
    let (color, live) = match choice {
        ColorChoice::Never => (false, false),
        ColorChoice::Always => (true, terminal.stderr_is_terminal),
        ColorChoice::Auto => {
            let fancy = terminal.stderr_is_terminal && !terminal.colorless;
            (fancy && terminal.stdout_is_terminal, fancy)
        }
    };
    Output::Human {
        color,
        live: live && !verbose,
    }
}

/// The settings file a run read, if any.
#[derive(Debug, Clone, Default)]
pub struct EnvFile {
    pub path: Option<PathBuf>,
    /// Set when others may read the file, since it usually holds the ClickHouse password.
    pub warning: Option<String>,
}

/// Loads `--env-file` (or `./.env` when it exists) without overriding the environment, so
/// flags beat the environment, which beats the file. dotenvy never overrides a variable that
/// is set, so of a name the file sets twice the first one counts.
pub fn load_env_file(explicit: Option<&Path>) -> Result<EnvFile> {
    let path = match explicit {
        Some(path) => path,
        None if Path::new(".env").exists() => Path::new(".env"),
        None => return Ok(EnvFile::default()),
    };
    dotenvy::from_path(path)
        .with_context(|| format!("cannot read the settings file {}", path.display()))?;
    Ok(EnvFile {
        path: Some(path.to_owned()),
        warning: readable_by_others(path).then(|| {
            format!(
                "{} is readable by other users and may hold the ClickHouse password: chmod 600 {0}",
                path.display()
            )
        }),
    })
}

/// Where a setting's value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Flag,
    Environment,
    File,
    Default,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Flag => "flag",
            Source::Environment => "environment",
            Source::File => "file",
            Source::Default => "default",
        }
    }
}

/// What it takes to say where each setting came from: clap knows a flag from an environment
/// variable, and the environment as it was before the settings file was loaded tells the
/// real environment from the file. Both are snapshots, so nothing reads the environment later.
#[derive(Debug, Clone)]
pub struct Provenance {
    matches: clap::ArgMatches,
    before_file: HashSet<OsString>,
    after_file: HashMap<OsString, OsString>,
}

impl Provenance {
    /// Call right after [`load_env_file`]; `before_file` is the names set before it ran.
    pub fn new(matches: clap::ArgMatches, before_file: HashSet<OsString>) -> Provenance {
        Provenance {
            matches,
            before_file,
            after_file: std::env::vars_os().collect(),
        }
    }

    /// The source of a setting read from `variable`, and also from the flag whose clap id is
    /// `arg` when there is one.
    pub fn source(&self, arg: Option<&str>, variable: &str) -> Source {
        use clap::parser::ValueSource;
        match arg.and_then(|id| self.matches.value_source(id)) {
            Some(ValueSource::CommandLine) => Source::Flag,
            Some(ValueSource::DefaultValue) => Source::Default,
            _ if self.before_file.contains(OsStr::new(variable)) => Source::Environment,
            _ if self.after_file.contains_key(OsStr::new(variable)) => Source::File,
            _ => Source::Default,
        }
    }

    /// A variable the importer does not read but passes on to ccusage (`CLAUDE_CONFIG_DIR`).
    pub fn passed_on(&self, variable: &str) -> Option<String> {
        let value = self.after_file.get(OsStr::new(variable))?;
        Some(value.to_string_lossy().into_owned())
    }
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
        let mode = match cli.command {
            Some(Command::Query(args)) => Mode::Query(args),
            Some(Command::Config(args)) => Mode::Config(args),
            None if cli.verify => Mode::Verify,
            None if cli.dry_run => Mode::DryRun,
            None => Mode::Import,
        };
        let output = if cli.json {
            Output::Json
        } else if cli.quiet {
            Output::Quiet
        } else {
            human_output(cli.color, cli.verbose, Terminal::probe())
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
                format!(
                    "{scheme}://{}:{}",
                    cli.ch_host,
                    port(cli.ch_port, cli.ch_secure)
                )
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
                password: Secret::new(cli.ch_password.unwrap_or_default()),
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
            projects: ProjectSettings {
                mode: match cli.projects {
                    ProjectsChoice::Plain => ProjectMode::Plain,
                    ProjectsChoice::Hash => ProjectMode::Hash,
                    ProjectsChoice::Hidden => ProjectMode::Hidden,
                },
                key_file: cli
                    .project_key_file
                    .unwrap_or_else(crate::projects::default_key_path),
                alias_file: cli.project_alias,
                home: std::env::var("HOME").ok().filter(|h| !h.is_empty()),
                rekey: cli.rekey_projects,
            },
            limits: Limits {
                timeout: Duration::from_secs(cli.timeout),
                max_output: cli.max_output,
            },
        })
    }
}

/// CH_PORT, or the default for CH_SECURE: what the URL is built with when CH_URL is unset.
pub fn port(ch_port: Option<u16>, secure: bool) -> u16 {
    ch_port.unwrap_or(if secure { 8443 } else { 8123 })
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
    fn colour_and_spinners_are_decided_from_the_choice_and_the_streams() {
        let term = |stdout, stderr, colorless| Terminal {
            stdout_is_terminal: stdout,
            stderr_is_terminal: stderr,
            colorless,
        };
        let look = |choice, verbose, t| match human_output(choice, verbose, t) {
            Output::Human { color, live } => (color, live),
            other => panic!("{other:?}"),
        };
        use ColorChoice::*;
        // A terminal: colour and spinners, unless asked otherwise or --verbose.
        assert_eq!(look(Auto, false, term(true, true, false)), (true, true));
        assert_eq!(look(Auto, true, term(true, true, false)), (true, false));
        assert_eq!(look(Never, false, term(true, true, false)), (false, false));
        assert_eq!(look(Auto, false, term(true, true, true)), (false, false));
        // `| less -R`: auto is plain, always keeps colour (but no spinners on a pipe).
        assert_eq!(look(Auto, false, term(false, true, false)), (false, true));
        assert_eq!(look(Always, false, term(false, true, false)), (true, true));
        assert_eq!(look(Always, false, term(false, false, true)), (true, false));
        // Cron: nothing is a terminal.
        assert_eq!(look(Auto, false, term(false, false, false)), (false, false));
    }

    #[test]
    fn the_password_never_shows_in_debug_output() {
        let cfg = config(&["--ch-password", "hunter2-secret"]).unwrap();
        let shown = format!("{cfg:?}");
        assert!(!shown.contains("hunter2-secret"), "{shown}");
        assert!(shown.contains("***"));
    }
}

//! Turns the parsed command line into a checked [`Config`]. Nothing after this reads the
//! environment or the arguments.

use std::collections::{HashMap, HashSet};
use std::ffi::{OsStr, OsString};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, ensure, Context as _, Result};

use crate::cli::{Cli, ColorChoice, Command, ConfigArgs, DashboardArgs, ProjectsChoice, QueryArgs};
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
    /// Where the import's lock lives; `None` when none was given and there is no default
    /// (neither HOME nor XDG_STATE_HOME), which only the modes that take no lock accept.
    pub lock_file: Option<PathBuf>,
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

#[derive(Debug, Clone, PartialEq)]
pub enum Mode {
    Import,
    DryRun,
    Verify,
    Query(QueryArgs),
    /// `ccusage-import config`: print the settings, run nothing.
    Config(ConfigArgs),
    /// `ccusage-import dashboard`: serve the web dashboard, or write it with --html.
    Dashboard(DashboardArgs),
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
    /// The file read, if any.
    pub path: Option<PathBuf>,
    /// The keys it set (those not already in the environment).
    pub keys: Vec<String>,
    /// Set when others may read the file, since it usually holds the ClickHouse password.
    pub warning: Option<String>,
}

/// Loads `--env-file` (or `./.env` when it exists) without overriding the environment, so
/// flags beat the environment, which beats the file. A variable that is set is never
/// overridden, and of a name the file sets twice the first one counts.
pub fn load_env_file(explicit: Option<&Path>) -> Result<EnvFile> {
    let path = match explicit {
        Some(path) => path,
        None if Path::new(".env").exists() => Path::new(".env"),
        None => return Ok(EnvFile::default()),
    };
    let mut keys = Vec::new();
    for (key, value) in crate::envfile::read(path)? {
        if std::env::var_os(&key).is_none() {
            // Single-threaded still: the runtime starts after the settings are read.
            std::env::set_var(&key, value);
            keys.push(key);
        }
    }
    let warning = readable_by_others(path).then(|| {
        format!(
            "{} is readable by other users and may hold the ClickHouse password: chmod 600 {0}",
            path.display()
        )
    });
    Ok(EnvFile {
        path: Some(path.to_path_buf()),
        keys,
        warning,
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
            Some(Command::Dashboard(args)) => Mode::Dashboard(args),
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
        let urls = endpoints(
            cli.ch_url.as_deref(),
            &cli.ch_host,
            cli.ch_port,
            cli.ch_secure,
        )?;
        if let Some(cluster) = &cli.ch_cluster {
            check_cluster_name(cluster)?;
        }
        let lock_file = match cli.lock_file.filter(|p| !p.as_os_str().is_empty()) {
            Some(path) => Some(path),
            None => match crate::lock::default_path() {
                Ok(path) => Some(path),
                // Only an import takes the lock; the other modes run without a default.
                Err(e) if mode == Mode::Import => return Err(e),
                Err(_) => None,
            },
        };
        Ok(Config {
            mode,
            output,
            machine_name,
            hostname: hostname.unwrap_or_default(),
            clickhouse: ClickHouse {
                url: urls.join(","),
                urls,
                cluster: cli.ch_cluster.filter(|name| !name.is_empty()),
                user: cli.ch_user,
                password: Secret::new(cli.ch_password.unwrap_or_default()),
                database: cli.ch_database,
                timeout: Duration::from_secs(cli.ch_timeout),
                max_response: cli.ch_max_response,
                retry: RetryPolicy {
                    max_retries: cli.max_retries,
                    base_delay: Duration::from_millis(cli.retry_delay),
                    deadline: Duration::from_secs(cli.ch_deadline),
                },
            },
            ccusage_bin: cli.ccusage_bin,
            jobs: cli.jobs.map(|n| n as usize),
            lock_file,
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

/// The endpoints to try, in order: CH_URL's comma-separated URLs, else one URL for each of
/// CH_HOST's comma-separated `host` or `host:port` (CH_PORT where no port is given).
fn endpoints(
    ch_url: Option<&str>,
    ch_host: &str,
    ch_port: Option<u16>,
    secure: bool,
) -> Result<Vec<String>> {
    // An empty setting (`CH_URL=` in a .env) means "not set".
    if let Some(list) = ch_url.filter(|url| !url.trim().is_empty()) {
        let urls: Vec<String> = list
            .split(',')
            .map(|url| url.trim().trim_end_matches('/').to_owned())
            .collect();
        for url in &urls {
            check_url(url)?;
        }
        return Ok(urls);
    }
    let urls = parse_hosts(ch_host, ch_port)?
        .into_iter()
        .map(|(host, p)| {
            let scheme = if secure { "https" } else { "http" };
            format!("{scheme}://{host}:{}", port(p, secure))
        })
        .collect();
    Ok(urls)
}

/// The cluster name goes into DDL (`ON CLUSTER`, the Distributed engine), so it is kept to a
/// plain identifier, like the database name.
fn check_cluster_name(name: &str) -> Result<()> {
    let mut chars = name.chars();
    let valid = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    ensure!(
        valid,
        "CH_CLUSTER {name:?} is not a plain name: use the cluster's name from remote_servers \
         (letters, digits and _ only)"
    );
    Ok(())
}

/// The machine name keys every row, so two spellings that look alike on screen (a trailing
/// space, a zero-width space) would split one machine's usage in two without anyone seeing why.
fn check_machine_name(name: &str) -> Result<()> {
    ensure!(
        !name.trim().is_empty(),
        "the machine name is empty: set MACHINE_NAME"
    );
    ensure!(
        name.len() <= 200,
        "the machine name is longer than 200 bytes: set a shorter MACHINE_NAME"
    );
    ensure!(
        name.trim() == name,
        "the machine name {:?} starts or ends with a space: set MACHINE_NAME without it",
        name
    );
    if let Some(c) = name.chars().find(|&c| c.is_control() || is_invisible(c)) {
        bail!(
            "the machine name {:?} holds the invisible character U+{:04X}: set MACHINE_NAME to \
             plain text",
            crate::log::printable(name),
            c as u32
        );
    }
    if let Some(c) = combining_without_base(name) {
        bail!(
            "the machine name {:?} holds the combining character U+{:04X} with no letter before \
             it: set MACHINE_NAME to plain text",
            crate::log::printable(name),
            c as u32
        );
    }
    Ok(())
}

/// Characters that print as nothing, by Unicode's own properties (ICU4X's tables, so new
/// Unicode versions come with the crate): default-ignorable code points (zero-width spaces and
/// joiners, bidi controls, variation selectors, Hangul fillers, the soft hyphen), format
/// characters (Cf, which also holds the interlinear annotation marks U+FFF9–U+FFFB that
/// default-ignorable leaves out), separators other than the plain space (no-break, ideographic
/// and the other Zs, the line and paragraph separators), unassigned code points (nothing to
/// draw yet), and U+2800, the Braille pattern with no dots, which Unicode files as a symbol
/// although it draws as a blank cell.
fn is_invisible(c: char) -> bool {
    use icu_properties::props::{DefaultIgnorableCodePoint, GeneralCategory};
    use icu_properties::{CodePointMapData, CodePointSetData};
    const BRAILLE_BLANK: char = '\u{2800}';
    let category = CodePointMapData::<GeneralCategory>::new().get(c);
    c != ' '
        && (c == BRAILLE_BLANK
            || CodePointSetData::new::<DefaultIgnorableCodePoint>().contains(c)
            || matches!(
                category,
                GeneralCategory::Format
                    | GeneralCategory::SpaceSeparator
                    | GeneralCategory::LineSeparator
                    | GeneralCategory::ParagraphSeparator
                    | GeneralCategory::Unassigned
            ))
}

/// A combining mark (Mn, Mc, Me) at the start of the name or after a space: it has no
/// character to sit on, so it draws alone or on the space, and reads as nothing or as a stray
/// accent.
fn combining_without_base(name: &str) -> Option<char> {
    use icu_properties::props::{GeneralCategory, GeneralCategoryGroup};
    use icu_properties::CodePointMapData;
    let categories = CodePointMapData::<GeneralCategory>::new();
    let mut previous: Option<char> = None;
    for c in name.chars() {
        let mark = GeneralCategoryGroup::Mark.contains(categories.get(c));
        if mark && previous.is_none_or(|p| p == ' ') {
            return Some(c);
        }
        previous = Some(c);
    }
    None
}

/// Database names are identifiers in DDL; keeping them to plain identifiers means they never
/// need quoting rules that differ between ClickHouse versions. ClickHouse's own databases are
/// refused: the importer creates tables in the database it is given.
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
    ensure!(
        !SYSTEM_DATABASES.contains(&name),
        "CH_DATABASE {name:?} is one of ClickHouse's own databases: name a database of \
         your own (default ccusage)"
    );
    Ok(())
}

const SYSTEM_DATABASES: [&str; 3] = ["system", "information_schema", "INFORMATION_SCHEMA"];

/// `CH_HOST` is a host, `host:port`, or a comma-separated list of them (tried in order).
fn parse_hosts(hosts: &str, port: Option<u16>) -> Result<Vec<(String, Option<u16>)>> {
    hosts
        .split(',')
        .map(|host| parse_host(host, port))
        .collect()
}

/// One host name or address, optionally with `:port` (then `CH_PORT` must not say otherwise).
/// A scheme or a path there would be glued into a URL nobody meant.
fn parse_host(host: &str, port: Option<u16>) -> Result<(String, Option<u16>)> {
    let host = host.trim();
    let how = "write CH_HOST as a host (db.example.com), host:port (db.example.com:8123) or \
               a comma-separated list of them, or give the whole URL as CH_URL";
    if host.contains("://") || host.contains('/') {
        let shown = crate::log::printable(host);
        bail!("CH_HOST {shown:?} holds a scheme or a path: {how}");
    }
    let bare_ipv6 = host.matches(':').count() > 1 && !host.starts_with('[');
    // `[v6]` and `[v6]:port` keep their colons inside the brackets.
    let split_at = match host.rfind(']') {
        Some(end) => host[end..].find(':').map(|i| end + i),
        None if bare_ipv6 => None,
        None => host.rfind(':'),
    };
    let (name, port_text) = match split_at {
        Some(i) => (&host[..i], Some(&host[i + 1..])),
        None => (host, None),
    };
    let name_ok = !name.is_empty()
        && if let Some(inner) = name.strip_prefix('[').and_then(|n| n.strip_suffix(']')) {
            inner
                .chars()
                .all(|c| c.is_ascii_hexdigit() || c == ':' || c == '.')
        } else if bare_ipv6 {
            name.chars()
                .all(|c| c.is_ascii_hexdigit() || c == ':' || c == '.')
        } else {
            name.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.' || c == '_')
        };
    if !name_ok {
        let shown = crate::log::printable(host);
        bail!("CH_HOST {shown:?} is not a host name: {how}");
    }
    let from_host = match port_text {
        None => None,
        Some(p) => Some(p.parse::<u16>().ok().filter(|&p| p > 0).with_context(|| {
            format!("CH_HOST {host:?} ends in {p:?}, which is not a port: {how}")
        })?),
    };
    if let (Some(a), Some(b)) = (from_host, port) {
        ensure!(
            a == b,
            "CH_HOST {host:?} names port {a} but CH_PORT says {b}: give the port once"
        );
    }
    let name = if bare_ipv6 {
        format!("[{name}]")
    } else {
        name.to_owned()
    };
    Ok((name, from_host.or(port)))
}

/// Refuses a URL that carries credentials without repeating it: it would show the password.
fn check_url(url: &str) -> Result<()> {
    let lower = url.to_ascii_lowercase();
    let query = lower.split_once('?').map_or("", |(_, q)| q);
    let in_query = query
        .split('&')
        .any(|pair| pair.starts_with("password=") || pair.starts_with("user="));
    ensure!(
        !url.contains('@') && !in_query,
        "the ClickHouse URL (CH_URL or --ch-url) holds credentials (user:password@ or \
         password= in it); it is not shown here: remove them from the URL and set CH_USER and \
         CH_PASSWORD instead"
    );
    let shown = crate::log::printable(url);
    let Some((scheme, rest)) = url.split_once("://") else {
        bail!(
            "the ClickHouse URL {shown:?} has no scheme: use http://HOST:PORT or https://HOST:PORT"
        );
    };
    ensure!(
        scheme == "http" || scheme == "https",
        "the ClickHouse URL {shown:?} must start with http:// or https://"
    );
    ensure!(
        !rest.is_empty(),
        "the ClickHouse URL {shown:?} must name a host: use http://HOST:PORT or https://HOST:PORT"
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
    fn several_endpoints_are_tried_in_the_order_given() {
        let cfg = config(&["--ch-host", "ch1, ch2:8124,ch3"]).unwrap();
        assert_eq!(
            cfg.clickhouse.urls,
            ["http://ch1:8123", "http://ch2:8124", "http://ch3:8123"]
        );
        let cfg = config(&["--ch-url", "https://a:8443,https://b:8443/"]).unwrap();
        assert_eq!(cfg.clickhouse.urls, ["https://a:8443", "https://b:8443"]);
        let err = config(&["--ch-host", "ch1,http://ch2:8123"]).unwrap_err();
        assert!(format!("{err}").contains("or a comma-separated list"));
        assert!(config(&["--ch-url", "https://a:8443,b:8123"]).is_err());
        assert!(config(&["--ch-cluster", "fleet"]).is_ok());
        assert!(config(&["--ch-cluster", "a`b"]).is_err());
    }

    #[test]
    fn bad_database_names_and_urls_are_refused() {
        assert!(config(&["--ch-database", "a`b"]).is_err());
        assert!(config(&["--ch-database", "1abc"]).is_err());
        assert!(config(&["--ch-database", "usage_2"]).is_ok());
        assert!(config(&["--ch-url", "localhost:8123"]).is_err());
        assert!(config(&["--ch-url", "http://u:p@h:1"]).is_err());
        assert!(config(&["--ch-database", "system"]).is_err());
        assert!(config(&["--ch-database", "INFORMATION_SCHEMA"]).is_err());
    }

    #[test]
    fn ch_host_takes_a_host_or_host_and_port_only() {
        let url = |args: &[&str]| config(args).map(|c| c.clickhouse.url);
        assert_eq!(url(&["--ch-host", "db:9123"]).unwrap(), "http://db:9123");
        assert_eq!(url(&["--ch-host", "::1"]).unwrap(), "http://[::1]:8123");
        assert_eq!(url(&["--ch-host", "[::1]:99"]).unwrap(), "http://[::1]:99");
        assert!(url(&["--ch-host", "db:9123", "--ch-port", "9123"]).is_ok());
        let cfg = config(&["--ch-host", "a, b:9000,[::1]"]).unwrap();
        assert_eq!(
            cfg.clickhouse.urls,
            ["http://a:8123", "http://b:9000", "http://[::1]:8123"]
        );
        assert_eq!(
            cfg.clickhouse.url,
            "http://a:8123,http://b:9000,http://[::1]:8123"
        );
        assert!(config(&["--ch-host", "a,,b"]).is_err());
        for bad in ["http://db", "db/ccusage", "db:x", "db:1", "a b"] {
            let args = ["--ch-host", bad, "--ch-port", "2"];
            assert!(url(&args).is_err(), "{bad}");
        }
    }

    #[test]
    fn machine_names_that_look_like_others_are_refused() {
        for bad in [
            " laptop",
            "laptop ",
            "lap\u{200B}top",
            "\u{FEFF}laptop",
            "a\tb",
        ] {
            assert!(config(&["--machine-name", bad]).is_err(), "{bad:?}");
        }
        assert!(config(&["--machine-name", "Büro-PC 2"]).is_ok());
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

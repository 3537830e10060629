//! Turns the parsed command line into a checked [`Config`]. Nothing after this reads the
//! environment or the arguments.

use std::collections::HashMap;
use std::ffi::{OsStr, OsString};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, ensure, Context as _, Result};

use crate::cli::{Cli, ColorChoice, Command, ConfigArgs, DashboardArgs, ProjectsChoice, QueryArgs};
use crate::envfile::EnvFile;
use crate::projects::ProjectSettings;
use crate::sink::retry::RetryPolicy;
use crate::sink::{CaCerts, ClickHouse, Secret};
use crate::source::Limits;
use crate::transform::projects::Mode as ProjectMode;

/// Where ccusage reads the Claude logs; passed on to it, and read for project names.
const CLAUDE_CONFIG_DIR: &str = "CLAUDE_CONFIG_DIR";

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
    /// The settings file read, for the summary (`None`: none was found).
    pub settings_file: Option<PathBuf>,
    /// What the settings file gives ccusage's environment: its names that are not
    /// ccusage-import's own settings (`CLAUDE_CONFIG_DIR`, …).
    pub child_env: Vec<(String, String)>,
    /// `CCUSAGE_IMPORT_DASHBOARD_TOKEN` from the environment or the settings file.
    pub dashboard_token: Option<Secret>,
    /// `--budget`: the fleet's monthly budget in USD.
    pub budget: Option<f64>,
    /// `--budget-file`, else the default location (`None`: neither).
    pub budget_file: Option<PathBuf>,
    /// Whether `budget_file` was named (then it must exist) or is the default.
    pub budget_file_given: bool,
    /// What the settings file deserves a warning for (a name no setting has, others may read
    /// it): an import keeps them with its own warnings, in its ledger row.
    pub settings_warnings: Vec<String>,
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
    /// `init`, `schedule`, `doctor`, `completions`, `man`: setting this machine up.
    Machine(crate::cli_machine::MachineCommand),
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

/// Every name a setting is read from: each `env = …` of the clap definition (the
/// subcommands' included), then the variables read outside clap. Derived, so `config` and the
/// settings file's check of unknown names can never miss one.
pub fn setting_variables() -> Vec<String> {
    fn walk(command: &clap::Command, out: &mut Vec<String>) {
        for arg in command.get_arguments() {
            if let Some(name) = arg.get_env().and_then(|e| e.to_str()) {
                if !out.iter().any(|n| n == name) {
                    out.push(name.to_owned());
                }
            }
        }
        for sub in command.get_subcommands() {
            walk(sub, out);
        }
    }
    let mut names = Vec::new();
    walk(&<Cli as clap::CommandFactory>::command(), &mut names);
    names.extend(crate::cli::OTHER_VARIABLES.map(String::from));
    names
}

/// The clap definition with the settings file's values as defaults, so a flag beats the
/// environment, which beats the file, which beats the built-in default, without the file's
/// values ever entering the process's environment. The help shown is the first parse's, made
/// before the file is read, so a file's password never shows as a "default".
pub fn with_file(mut command: clap::Command, file: &EnvFile) -> clap::Command {
    let from_file: Vec<(clap::Id, String)> = command
        .get_arguments()
        .filter_map(|arg| {
            let name = arg.get_env()?.to_str()?;
            Some((arg.get_id().clone(), file.get(name)?.to_owned()))
        })
        .collect();
    for (id, value) in from_file {
        command = command.mut_arg(id, |arg| {
            // clap hides a default only of an argument that takes a value (not --verbose).
            let hide = arg.get_action().takes_values();
            arg.default_value(value).hide_default_value(hide)
        });
    }
    let subcommands: Vec<String> = command
        .get_subcommands()
        .map(|s| s.get_name().to_owned())
        .collect();
    for name in subcommands {
        command = command.mut_subcommand(name, |sub| with_file(sub, file));
    }
    command
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
/// variable from a default, and the settings file tells its defaults from the built-in ones.
/// The environment is a snapshot, so nothing reads it later.
#[derive(Debug, Clone)]
pub struct Provenance {
    matches: clap::ArgMatches,
    environment: HashMap<OsString, OsString>,
    file: EnvFile,
}

impl Provenance {
    pub fn new(matches: clap::ArgMatches, file: &EnvFile) -> Provenance {
        Provenance {
            matches,
            environment: std::env::vars_os().collect(),
            file: file.clone(),
        }
    }

    /// The source of a setting read from `variable`, and also from the flag whose clap id is
    /// `arg` when there is one (a flag of the top-level command; `None` for the others).
    pub fn source(&self, arg: Option<&str>, variable: &str) -> Source {
        use clap::parser::ValueSource;
        match arg.and_then(|id| self.matches.value_source(id)) {
            Some(ValueSource::CommandLine) => Source::Flag,
            Some(ValueSource::EnvVariable) => Source::Environment,
            Some(ValueSource::DefaultValue) if self.file.get(variable).is_some() => Source::File,
            Some(_) => Source::Default,
            None if self.environment.contains_key(OsStr::new(variable)) => Source::Environment,
            None if self.file.get(variable).is_some() => Source::File,
            None => Source::Default,
        }
    }

    /// A variable's value from the environment, else from the settings file: for what the
    /// top-level command does not parse (`CLAUDE_CONFIG_DIR`, a subcommand's settings).
    pub fn variable(&self, variable: &str) -> Option<String> {
        match self.environment.get(OsStr::new(variable)) {
            Some(value) => Some(value.to_string_lossy().into_owned()),
            None => self.file.get(variable).map(str::to_owned),
        }
    }

    /// A top-level argument's value as given (flag, environment or file), before parsing.
    pub fn raw(&self, arg: &str) -> Option<String> {
        let values = self.matches.get_raw(arg)?;
        let values: Vec<String> = values.map(|v| v.to_string_lossy().into_owned()).collect();
        Some(values.join(","))
    }
}

impl Config {
    pub fn from_cli(cli: Cli, hostname: impl FnOnce() -> Option<String>) -> Result<Config> {
        let hostname = hostname();
        let mode = match cli.command {
            Some(Command::Query(args)) => Mode::Query(args),
            Some(Command::Config(args)) => Mode::Config(args),
            Some(Command::Dashboard(args)) => Mode::Dashboard(args),
            Some(Command::Machine(command)) => Mode::Machine(command),
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
                ca: match cli.ch_ca_file.filter(|p| !p.as_os_str().is_empty()) {
                    Some(path) => Some(CaCerts::load(&path)?),
                    None => None,
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
                claude_config_dir: std::env::var(CLAUDE_CONFIG_DIR).ok(),
                rekey: cli.rekey_projects,
            },
            limits: Limits {
                timeout: Duration::from_secs(cli.timeout),
                max_output: cli.max_output,
            },
            budget: cli.budget,
            budget_file_given: cli
                .budget_file
                .as_ref()
                .is_some_and(|p| !p.as_os_str().is_empty()),
            budget_file: cli
                .budget_file
                .filter(|p| !p.as_os_str().is_empty())
                .or_else(crate::budget::default_path),
            settings_file: None,
            child_env: Vec::new(),
            settings_warnings: Vec::new(),
            dashboard_token: std::env::var(crate::cli::DASHBOARD_TOKEN_VARIABLE)
                .ok()
                .map(Secret::new),
        })
    }

    /// What the settings file adds beyond clap's settings: its name, what it passes on to
    /// ccusage, and the values read outside clap.
    pub fn with_file(mut self, file: &EnvFile) -> Config {
        self.settings_file = file.path.clone();
        self.settings_warnings = file.warnings.clone();
        self.child_env = file
            .entries
            .iter()
            .filter(|e| !crate::source::is_own_setting(&e.key))
            .map(|e| (e.key.clone(), e.value.clone()))
            .collect();
        // ccusage gets the file's value over the environment's (`source::child_environment`).
        if let Some(dir) = file.get(CLAUDE_CONFIG_DIR) {
            self.projects.claude_config_dir = Some(dir.to_owned());
        }
        if self.dashboard_token.is_none() {
            self.dashboard_token = file
                .get(crate::cli::DASHBOARD_TOKEN_VARIABLE)
                .map(|t| Secret::new(t.to_owned()));
        }
        self
    }
}

impl Config {
    /// The fleet's budget and the machines' from the budget file.
    pub fn budgets(&self) -> Result<crate::budget::Budgets> {
        crate::budget::load(
            self.budget,
            self.budget_file.as_deref(),
            self.budget_file_given,
        )
    }
}

/// CH_PORT, or the default for CH_SECURE: what the URL is built with when CH_URL is unset.
pub fn port(ch_port: Option<u16>, secure: bool) -> u16 {
    ch_port.unwrap_or(if secure { 8443 } else { 8123 })
}

/// The endpoints to try, in order: CH_URL's comma-separated URLs, else one URL for each of
/// CH_HOST's comma-separated `host` or `host:port` (CH_PORT where no port is given).
pub fn endpoints(
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
pub fn check_machine_name(name: &str) -> Result<()> {
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

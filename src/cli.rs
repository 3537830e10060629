//! The command line: what can be said, and the help text. No logic lives here; `config.rs`
//! turns a parsed [`Cli`] into a checked [`crate::config::Config`].

use std::path::PathBuf;

use clap::{Parser, ValueEnum};

/// The variable that gives the dashboard's token itself (`--token-file` gives a file).
pub const DASHBOARD_TOKEN_VARIABLE: &str = "CCUSAGE_IMPORT_DASHBOARD_TOKEN";

/// The variable of `--timezone` (dashboard and query).
pub const TIMEZONE_VARIABLE: &str = "CCUSAGE_IMPORT_TIMEZONE";

/// Settings read outside clap: the dashboard's token, and what is passed on to ccusage,
/// which reads it (where the Claude logs are).
pub const OTHER_VARIABLES: [&str; 2] = [DASHBOARD_TOKEN_VARIABLE, "CLAUDE_CONFIG_DIR"];

const AFTER_HELP: &str = "\
Settings come from flags, then the environment, then the settings file, then the defaults
shown above. The settings file is --env-file (CCUSAGE_IMPORT_ENV_FILE), else ./.env, else
$XDG_CONFIG_HOME/ccusage-import/.env (~/.config/ccusage-import/.env), the first that exists;
when it sets a name twice, the first one counts.
`ccusage-import config` shows each setting as resolved and where it came from.
";

/// The settings paragraph, then the exit codes made from `Exit::ALL`, so the two cannot drift.
fn after_help() -> String {
    format!("{AFTER_HELP}\n{}", crate::exit::Exit::help_table())
}

/// Imports Claude Code usage from ccusage into ClickHouse, from every machine, idempotently.
///
/// Runs the ccusage reports (daily, session, blocks, blocks one hour long, daily per project,
/// and from ccusage 19 the all-agent daily and the sessions of each new day) at once, tags every
/// row with this machine's name and writes them into ClickHouse; months, 5-hour blocks and (from
/// ccusage 19) sessions are summed from the stored days, hours and session days. Running it again changes nothing unless usage changed; rows of other machines and
/// days whose logs were deleted are never touched.
#[derive(Debug, Clone, Parser)]
#[command(name = "ccusage-import", version, after_long_help = after_help())]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    /// Check the connection, the schema and write access instead of importing.
    #[arg(long, conflicts_with = "dry_run")]
    pub verify: bool,

    /// Run ccusage and map its output, but write nothing to ClickHouse.
    #[arg(long)]
    pub dry_run: bool,

    /// Print the run's summary as one JSON object on stdout, and nothing else there.
    #[arg(long)]
    pub json: bool,

    /// Print only errors and one closing line.
    #[arg(long, short, conflicts_with = "json")]
    pub quiet: bool,

    /// When to use colours and spinners.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, global = true,
        env = "CCUSAGE_IMPORT_COLOR")]
    pub color: ColorChoice,

    /// The name rows are tagged with [default: the hostname, lowercased].
    #[arg(long, global = true, env = "MACHINE_NAME", value_name = "NAME")]
    pub machine_name: Option<String>,

    /// The fleet's budget in USD per month: an import warns when this month's projection
    /// crosses it, and the dashboard draws it.
    #[arg(long, global = true, env = "CCUSAGE_IMPORT_BUDGET", value_name = "USD",
          value_parser = crate::budget::parse_usd)]
    pub budget: Option<f64>,

    /// A file of `MACHINE = USD` lines: each machine's budget per month
    /// [default: ~/.config/ccusage-import/budgets, when it exists].
    #[arg(
        long,
        global = true,
        env = "CCUSAGE_IMPORT_BUDGET_FILE",
        value_name = "PATH"
    )]
    pub budget_file: Option<PathBuf>,

    /// Read settings from this file [default: ./.env, else
    /// ~/.config/ccusage-import/.env, the first that exists].
    #[arg(
        long,
        global = true,
        env = "CCUSAGE_IMPORT_ENV_FILE",
        value_name = "PATH"
    )]
    pub env_file: Option<PathBuf>,

    /// ClickHouse URL, or several separated by commas (tried in order: the first that
    /// answers serves); overrides CH_HOST, CH_PORT and CH_SECURE (e.g. https://host:8443).
    #[arg(long, global = true, env = "CH_URL", value_name = "URL[,URL…]")]
    pub ch_url: Option<String>,

    /// ClickHouse host, `host:port`, or several separated by commas (tried in order).
    #[arg(
        long,
        global = true,
        env = "CH_HOST",
        default_value = "localhost",
        value_name = "HOST"
    )]
    pub ch_host: String,

    /// A ClickHouse cluster (a name in the servers' remote_servers): the schema is created ON
    /// CLUSTER, with replicated local tables and a Distributed table under each public name.
    #[arg(long, global = true, env = "CH_CLUSTER", value_name = "NAME")]
    pub ch_cluster: Option<String>,

    /// ClickHouse HTTP port [default: 8123, or 8443 with CH_SECURE].
    #[arg(long, global = true, env = "CH_PORT", value_name = "PORT")]
    pub ch_port: Option<u16>,

    /// Use HTTPS (TLS with certificate verification).
    #[arg(long, global = true,
        env = "CH_SECURE", value_name = "BOOL", default_value = "false",
          action = clap::ArgAction::Set, value_parser = clap::builder::BoolishValueParser::new())]
    pub ch_secure: bool,

    /// A PEM file of a private CA's certificate, trusted beside the bundled Mozilla roots, for
    /// a server whose HTTPS certificate that CA signed.
    #[arg(long, global = true, env = "CH_CA_FILE", value_name = "PATH")]
    pub ch_ca_file: Option<PathBuf>,

    /// ClickHouse user.
    #[arg(
        long,
        global = true,
        env = "CH_USER",
        default_value = "default",
        value_name = "USER"
    )]
    pub ch_user: String,

    /// ClickHouse password (prefer the environment or .env: flags show in `ps`).
    #[arg(
        long,
        global = true,
        env = "CH_PASSWORD",
        hide_env_values = true,
        value_name = "PASSWORD"
    )]
    pub ch_password: Option<String>,

    /// ClickHouse database; an import creates it when missing.
    #[arg(
        long,
        global = true,
        env = "CH_DATABASE",
        default_value = "ccusage",
        value_name = "NAME"
    )]
    pub ch_database: String,

    /// The ccusage executable [default: ccusage on PATH, else npx --yes ccusage@20.0.24].
    #[arg(long, env = "CCUSAGE_BIN", value_name = "PATH")]
    pub ccusage_bin: Option<PathBuf>,

    /// Seconds each ccusage report may take before it is killed.
    #[arg(long, env = "CCUSAGE_TIMEOUT", default_value_t = 300, value_name = "SECONDS",
          value_parser = clap::value_parser!(u64).range(1..))]
    pub timeout: u64,

    /// Largest output, in bytes, a ccusage report may print before it is killed.
    #[arg(long, env = "CCUSAGE_MAX_OUTPUT", default_value_t = 1 << 30, value_name = "BYTES",
          value_parser = clap::value_parser!(u64).range(1..))]
    pub max_output: u64,

    /// How many ccusage reports may run at once [default: all from ccusage 19, and two one-day
    /// session reports; up to 18, one per 4 GB of available memory, since each can take 1 to
    /// 3.6 GB].
    #[arg(long, env = "CCUSAGE_JOBS", value_name = "N",
          value_parser = clap::value_parser!(u64).range(1..=16))]
    pub jobs: Option<u64>,

    /// How often a ClickHouse request that failed for a passing reason (network, timeout,
    /// server busy) is tried again. Authentication, permission and SQL errors are not retried.
    #[arg(
        long,
        global = true,
        env = "CH_MAX_RETRIES",
        default_value_t = 3,
        value_name = "N"
    )]
    pub max_retries: u32,

    /// Milliseconds before the first retry; each further retry waits about twice as long,
    /// with jitter.
    #[arg(
        long,
        global = true,
        env = "CH_RETRY_DELAY",
        default_value_t = 1000,
        value_name = "MS"
    )]
    pub retry_delay: u64,

    /// Seconds after connecting in which a failed ClickHouse request may still be retried:
    /// the retry budget of the whole run, so a flapping server cannot make an hourly run
    /// overlap the next one.
    #[arg(
        long,
        global = true,
        env = "CH_DEADLINE",
        default_value_t = 600,
        value_name = "SECONDS"
    )]
    pub ch_deadline: u64,

    /// Where the lock that keeps two imports from overlapping lives
    /// [default: ~/.local/state/ccusage-import/import.lock].
    #[arg(long, env = "CCUSAGE_IMPORT_LOCK", value_name = "PATH")]
    pub lock_file: Option<PathBuf>,

    /// Show each command run and each ClickHouse request with its timing on stderr.
    #[arg(long, short, global = true,
        env = "CCUSAGE_IMPORT_VERBOSE",
          value_parser = clap::builder::BoolishValueParser::new(),
          action = clap::ArgAction::SetTrue)]
    pub verbose: bool,

    /// How much of each project leaves the machine: plain (ccusage's directory and a
    /// readable name), hash (a keyed hash, named project-<hash> or by --project-alias) or
    /// hidden (one project per machine, session ids hashed; totals stay exact).
    #[arg(long, value_enum, default_value_t = ProjectsChoice::Plain, env = "CCUSAGE_IMPORT_PROJECTS",
          value_name = "MODE")]
    pub projects: ProjectsChoice,

    /// The secret key of --projects hash and hidden, created (mode 600) when missing; never
    /// printed or stored [default: ~/.config/ccusage-import/project.key].
    #[arg(long, env = "CCUSAGE_IMPORT_PROJECT_KEY_FILE", value_name = "PATH")]
    pub project_key_file: Option<PathBuf>,

    /// A file of `hash = name` lines naming hashed projects (kept on this machine).
    #[arg(long, env = "CCUSAGE_IMPORT_PROJECT_ALIAS", value_name = "FILE")]
    pub project_alias: Option<PathBuf>,

    /// Rewrite this machine's stored project keys into the --projects mode of this run (the
    /// old rows are superseded, not deleted), instead of refusing a changed mode.
    #[arg(long)]
    pub rekey_projects: bool,

    /// Seconds a ClickHouse request may take.
    #[arg(long, global = true,
        env = "CH_TIMEOUT", default_value_t = 60, value_name = "SECONDS",
          value_parser = clap::value_parser!(u64).range(1..))]
    pub ch_timeout: u64,

    /// Largest answer, in bytes, read from ClickHouse; a larger one fails the request.
    #[arg(long, global = true, env = "CH_MAX_RESPONSE", default_value_t = 256 << 20,
          value_name = "BYTES", value_parser = clap::value_parser!(u64).range(1..))]
    pub ch_max_response: u64,
}

/// For a bad value clap rejected: when it came from the environment or the settings file
/// rather than the command line, a message that names that setting (`CH_PORT is empty …`)
/// instead of a flag the user never passed. `None` leaves clap's own message.
pub fn setting_error(error: &clap::Error, env_file: &crate::envfile::EnvFile) -> Option<String> {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    use clap::CommandFactory as _;
    if !matches!(
        error.kind(),
        ErrorKind::InvalidValue | ErrorKind::ValueValidation | ErrorKind::InvalidUtf8
    ) {
        return None;
    }
    let Some(ContextValue::String(arg)) = error.get(ContextKind::InvalidArg) else {
        return None;
    };
    let long = arg.split_whitespace().next()?.strip_prefix("--")?;
    let flag = format!("--{long}");
    let typed = std::env::args_os().skip(1).any(|a| {
        let a = a.to_string_lossy();
        a == flag || a.starts_with(&format!("{flag}="))
    });
    if typed {
        return None;
    }
    let command = Cli::command();
    let env = command
        .get_arguments()
        .find(|a| a.get_long() == Some(long))?
        .get_env()?
        .to_str()?
        .to_owned();
    let (value, source) = match (std::env::var_os(&env), &env_file.path) {
        (Some(value), _) => (value, "in the environment".to_owned()),
        (None, Some(path)) => (env_file.get(&env)?.into(), format!("in {}", path.display())),
        (None, None) => return None,
    };
    let why = std::error::Error::source(error)
        .map(|e| format!(" ({e})"))
        .unwrap_or_default();
    Some(if value.is_empty() {
        format!("{env} is set but empty ({source}): give it a value or remove it")
    } else {
        format!(
            "{env} {source} is not a valid value for {flag}{why}: fix it or remove it (see --help)"
        )
    })
}

#[derive(Debug, Clone, PartialEq, clap::Subcommand)]
pub enum Command {
    /// Run one of the named queries of sql/queries.sql and print its answer.
    Query(QueryArgs),
    /// Print the settings as a run would use them, and where each came from: a flag, the
    /// environment, the settings file or the default. The password is shown as ***.
    Config(ConfigArgs),
    /// Serve a web dashboard of every machine's usage (http://127.0.0.1:8787), or write it as
    /// one self-contained HTML file with --html.
    Dashboard(DashboardArgs),
    #[command(flatten)]
    Machine(crate::cli_machine::MachineCommand),
}

#[derive(Debug, Clone, PartialEq, clap::Args)]
pub struct DashboardArgs {
    /// Where to listen. Any address other than loopback needs a token (--token-file or
    /// CCUSAGE_IMPORT_DASHBOARD_TOKEN).
    #[arg(long, default_value = "127.0.0.1:8787", value_name = "ADDR:PORT")]
    pub listen: std::net::SocketAddr,

    /// Open the dashboard in the default browser once it is listening.
    #[arg(long, conflicts_with = "html")]
    pub open: bool,

    /// Write the dashboard, its data embedded, to FILE and exit: one file that opens from
    /// disk with no server. --since, --until, --machine and --agent pick its data.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,

    /// With --html: the first day (YYYY-MM-DD, in --timezone) [default: the first day stored].
    #[arg(long, value_name = "DAY", requires = "html")]
    pub since: Option<String>,

    /// With --html: the last day (YYYY-MM-DD, in --timezone), included [default: the last day
    /// stored].
    #[arg(long, value_name = "DAY", requires = "html")]
    pub until: Option<String>,

    /// With --html: one machine only [default: every machine].
    #[arg(long, value_name = "NAME", requires = "html")]
    pub machine: Option<String>,

    /// With --html: one agent only (claude, codex, opencode, …) [default: every agent].
    #[arg(long, value_name = "NAME", requires = "html")]
    pub agent: Option<String>,

    /// A file holding the token every request must carry (Authorization: Bearer TOKEN, or
    /// ?token=TOKEN once, which sets a cookie). CCUSAGE_IMPORT_DASHBOARD_TOKEN gives the token
    /// itself instead.
    #[arg(long, value_name = "PATH", env = "CCUSAGE_IMPORT_DASHBOARD_TOKEN_FILE")]
    pub token_file: Option<PathBuf>,

    /// Your subscription's price per month in USD, for the plan card (API-equivalent cost
    /// against what you pay).
    #[arg(long, value_name = "USD", env = "CCUSAGE_IMPORT_PLAN_PRICE")]
    pub plan_price: Option<f64>,

    /// The time zone days, today, months and the hour heat map are counted in: an IANA name
    /// such as America/Los_Angeles [default: UTC]. The page's zone picker overrides it.
    #[arg(long, value_name = "ZONE", env = TIMEZONE_VARIABLE)]
    pub timezone: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, clap::Args)]
pub struct ConfigArgs {
    /// Print them as one JSON object, for scripts.
    #[arg(long, conflicts_with_all = ["get", "source"])]
    pub json: bool,

    /// Print only this setting's value (e.g. CH_PORT), for shell scripts.
    #[arg(long, value_name = "NAME", conflicts_with = "source")]
    pub get: Option<String>,

    /// Print only where this setting came from: flag, environment, file or default.
    #[arg(long, value_name = "NAME")]
    pub source: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, clap::Args)]
pub struct QueryArgs {
    /// List the named queries with what each answers.
    #[arg(long, conflicts_with = "name")]
    pub list: bool,

    /// The query to run; without one, the list (as --list).
    pub name: Option<String>,

    /// How to print the answer.
    #[arg(long, value_enum, default_value_t = QueryFormat::Table)]
    pub format: QueryFormat,

    /// The first day (YYYY-MM-DD, in --timezone), for the queries that take a range.
    #[arg(long, value_name = "DAY")]
    pub since: Option<String>,

    /// The last day (YYYY-MM-DD, in --timezone), included, for the queries that take a range.
    #[arg(long, value_name = "DAY")]
    pub until: Option<String>,

    /// The time zone days are counted in: an IANA name such as America/Los_Angeles
    /// [default: UTC].
    #[arg(long, value_name = "ZONE", env = TIMEZONE_VARIABLE)]
    pub timezone: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum QueryFormat {
    Table,
    Csv,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ProjectsChoice {
    Plain,
    Hash,
    Hidden,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }
}

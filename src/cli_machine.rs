//! The command line of the subcommands that set a machine up (`init`, `schedule`, `doctor`,
//! `completions`, `man`): kept apart from `cli.rs`, which flattens them into its commands.
//! No logic lives here.

use std::path::PathBuf;

use clap::Subcommand;

#[derive(Debug, Clone, PartialEq, Eq, Subcommand)]
pub enum MachineCommand {
    /// Join this machine to a fleet: asks for the fleet's ClickHouse (or takes the flags),
    /// checks the connection and the schema, writes the settings file (mode 600), installs the
    /// hourly job and runs the first import. Never starts a server.
    Init(InitArgs),
    /// Install, show or remove the hourly import job: a crontab entry where crontab exists, a
    /// systemd user timer with --systemd, a launchd agent on macOS.
    Schedule(ScheduleArgs),
    /// Check what can make this machine's numbers wrong (stale or missing logs, the clock,
    /// shared logs, a duplicate machine name, a job that has not run); one line per check.
    Doctor,
    /// Print the completion script of SHELL on stdout (e.g. `ccusage-import completions bash
    /// > ~/.local/share/bash-completion/completions/ccusage-import`).
    Completions {
        /// The shell to complete in.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff) on stdout: `ccusage-import man | man -l -`.
    Man,
}

#[derive(Debug, Clone, PartialEq, Eq, clap::Args)]
pub struct InitArgs {
    /// Take every answer from the flags, the environment and the settings file; ask nothing.
    #[arg(long, short)]
    pub yes: bool,

    /// Write the settings and run the first import, but install no hourly job.
    #[arg(long)]
    pub no_schedule: bool,

    /// Check the server and write the settings file, but run no import.
    #[arg(long)]
    pub no_import: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, clap::Args)]
pub struct ScheduleArgs {
    #[command(subcommand)]
    pub action: ScheduleAction,
}

#[derive(Debug, Clone, PartialEq, Eq, Subcommand)]
pub enum ScheduleAction {
    /// Add (or replace) the job, after one import run exactly as the job will run it. Running
    /// it again replaces the job: there is never more than one.
    Install(InstallArgs),
    /// Show the job, the last lines and warnings of its log, and this machine's last runs in
    /// the ledger. Exits 1 when no job is installed.
    Status(StatusArgs),
    /// Remove the job and nothing else (other crontab lines stay as they are; the log stays).
    Uninstall,
}

#[derive(Debug, Clone, PartialEq, Eq, clap::Args)]
pub struct InstallArgs {
    /// The importer the job runs [default: this binary].
    #[arg(long, value_name = "PATH")]
    pub bin: Option<PathBuf>,

    /// Run every MINUTES minutes: a divisor of 60, or a multiple of 60 that divides 1440. The
    /// minute (and hour) is derived from the machine name, so the machines of a fleet do not
    /// all write at once [default: 60].
    #[arg(long, value_name = "MINUTES", conflicts_with = "schedule")]
    pub every: Option<u32>,

    /// A five-field cron schedule instead, used as given (e.g. "7 */2 * * *").
    #[arg(long, value_name = "EXPR")]
    pub schedule: Option<String>,

    /// Append the job's output to PATH [default: $XDG_STATE_HOME/ccusage-import/cron.log,
    /// else ~/.local/state/ccusage-import/cron.log].
    #[arg(long, value_name = "PATH")]
    pub log: Option<PathBuf>,

    /// Before a run, move the log to PATH.1 once it exceeds N KiB (cron only).
    #[arg(long, value_name = "N", default_value_t = 1024,
          value_parser = clap::value_parser!(u64).range(1..=1 << 30))]
    pub log_max_kb: u64,

    /// Install a systemd user timer instead of a crontab entry.
    #[arg(long, conflicts_with = "launchd")]
    pub systemd: bool,

    /// Install a launchd agent (the default on macOS; elsewhere only with --print).
    #[arg(long)]
    pub launchd: bool,

    /// Print what would be installed (the crontab line, the units or the plist); change
    /// nothing and run nothing.
    #[arg(long, visible_alias = "dry-run")]
    pub print: bool,

    /// Install without running the test import first.
    #[arg(long)]
    pub no_test_import: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, clap::Args)]
pub struct StatusArgs {
    /// Log lines to show.
    #[arg(long, value_name = "N", default_value_t = 10,
          value_parser = clap::value_parser!(u64).range(0..=10_000))]
    pub lines: u64,
}

//! The subcommands that set a machine up, dispatched from `app.rs`: `init`, `schedule`,
//! `doctor`, `completions` and `man`.

use std::path::PathBuf;

use clap::CommandFactory as _;

use crate::cli::Cli;
use crate::cli_machine::MachineCommand;
use crate::config::{Config, Source};
use crate::envfile::EnvFile;
use crate::exit::{Exit, ExitContext as _, Failure};
use crate::settings::Setting;

pub async fn run(
    command: &MachineCommand,
    config: &Config,
    settings: &[Setting],
    file: &EnvFile,
) -> Result<Exit, Failure> {
    let explicit = explicit_env_file(settings);
    match command {
        MachineCommand::Schedule(args) => {
            crate::schedule::run(&args.action, explicit.as_deref(), file)
        }
        MachineCommand::Init(args) => crate::init::run(args, config, settings, file).await,
        MachineCommand::Doctor => crate::doctor::run(config, explicit.as_deref(), file).await,
        MachineCommand::Completions { shell } => {
            let mut text = Vec::new();
            clap_complete::generate(*shell, &mut Cli::command(), "ccusage-import", &mut text);
            crate::log::stdout(&String::from_utf8_lossy(&text)).exit_code(Exit::Other)?;
            Ok(Exit::Ok)
        }
        MachineCommand::Man => {
            crate::log::stdout(&man_page()).exit_code(Exit::Other)?;
            Ok(Exit::Ok)
        }
    }
}

/// The manual page, in roff, from the same definition as `--help`.
pub fn man_page() -> String {
    let mut text = Vec::new();
    // Writing into a Vec cannot fail.
    let _ = clap_mangen::Man::new(Cli::command()).render(&mut text);
    String::from_utf8_lossy(&text).into_owned()
}

/// The settings file named by `--env-file` or `CCUSAGE_IMPORT_ENV_FILE`, not found by looking.
fn explicit_env_file(settings: &[Setting]) -> Option<PathBuf> {
    settings
        .iter()
        .find(|s| s.name == "CCUSAGE_IMPORT_ENV_FILE")
        .filter(|s| matches!(s.source, Source::Flag | Source::Environment))
        .and_then(|s| s.value.as_ref())
        .map(PathBuf::from)
}

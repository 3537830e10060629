//! The program: command line → [`Config`] → the mode it asks for (import, dry run, verify,
//! query, config) → what is printed and the exit code.

use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches};

use crate::cli::Cli;
use crate::config::{Config, Mode, Output, Provenance};
use crate::envfile::EnvFile;
use crate::exit::{Exit, ExitContext, Failure};
use crate::{cli, config, dashboard, lock, log, machine, output, pipeline, query, settings, sink};

/// Runs the program: parses the command line, runs the mode it asks for, and turns the
/// outcome into the process's exit code.
pub fn main() -> ExitCode {
    match run() {
        Ok(exit) => exit.into(),
        Err(failure) => {
            let text = failure.to_string();
            log::emit(&format!(
                "ccusage-import: error: {}\n",
                log::printable(&text)
            ));
            failure.exit.into()
        }
    }
}

fn run() -> Result<Exit, Failure> {
    let (config, resolved, file) = configure()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(anyhow::Error::from)
        .exit_code(Exit::Other)?;
    runtime.block_on(dispatch(config, &resolved, &file))
}

/// The checked configuration, every setting with where it came from (for `config`), and the
/// settings file read.
fn configure() -> Result<(Config, Vec<settings::Setting>, EnvFile), Failure> {
    // Parse once to learn --env-file (and to answer --help before any file is read), read the
    // file, then parse again with its values as clap's defaults: flags > environment > file.
    let first = parse_cli(Cli::command(), &EnvFile::default());
    // `init --env-file PATH` names the file it is about to write: no file there yet is fine.
    let init = matches!(
        first.1.command,
        Some(cli::Command::Machine(
            crate::cli_machine::MachineCommand::Init(_)
        ))
    );
    let explicit = first.1.env_file.as_deref().filter(|p| !init || p.exists());
    let file = EnvFile::load(explicit, &config::setting_variables()).exit_code(Exit::Usage)?;
    let (matches, cli) = parse_cli(config::with_file(Cli::command(), &file), &file);
    // Before anything can be printed: every message from here on is redacted.
    log::set_secret(cli.ch_password.as_deref().unwrap_or_default());
    let provenance = Provenance::new(matches, &file);
    let config = Config::from_cli(cli.clone(), local_hostname)
        .exit_code(Exit::Usage)?
        .with_file(&file);
    log::enable(config.verbose);
    // Printed under --quiet too, before anything runs: cron's log is where a typo in the file
    // would otherwise hide. An import also keeps them in its ledger row.
    print_warnings(&file.warnings);
    let resolved = settings::resolve(&cli, &config, &file, &provenance);
    Ok((config, resolved, file))
}

/// Parses the command line; a bad value that came from the environment or the settings file
/// is named as that setting (`CH_PORT`), not as a flag the user never typed.
fn parse_cli(command: clap::Command, env_file: &EnvFile) -> (clap::ArgMatches, Cli) {
    let parsed = command
        .try_get_matches()
        .and_then(|matches| Ok((Cli::from_arg_matches(&matches)?, matches)));
    match parsed {
        Ok((cli, matches)) => (matches, cli),
        Err(error) => match cli::setting_error(&error, env_file) {
            Some(message) => {
                log::emit(&format!("ccusage-import: error: {message}\n"));
                std::process::exit(Exit::Usage.code().into());
            }
            None => error.exit(),
        },
    }
}

fn local_hostname() -> Option<String> {
    hostname::get().ok()?.into_string().ok()
}

/// Runs the mode the command line asked for; `settings` and `file` are for `config`.
async fn dispatch(
    config: Config,
    settings: &[settings::Setting],
    file: &EnvFile,
) -> Result<Exit, Failure> {
    match config.mode {
        Mode::Config(ref args) => settings::run(args, settings, file),
        Mode::Verify => verify(&config).await,
        Mode::Query(ref args) => query::run(&config, args).await,
        Mode::Dashboard(ref args) => dashboard::run(&config, args).await,
        Mode::Machine(ref command) => machine::run(command, &config, settings, file).await,
        Mode::DryRun => import(&config).await,
        Mode::Import => {
            // Held until the import returns; the kernel frees it if the process dies.
            let Some(lock_file) = &config.lock_file else {
                unreachable!("config refuses an import without a lock file")
            };
            let _lock = match lock::acquire(lock_file).exit_code(Exit::Usage)? {
                lock::Acquired::Locked(lock) => lock,
                lock::Acquired::HeldBy(holder) => {
                    return Err(Failure {
                        exit: Exit::Locked,
                        error: anyhow::anyhow!(
                            "another import is still running ({holder}; lock file {}): \
                             this run did nothing, the next one will catch up",
                            lock_file.display()
                        ),
                    })
                }
            };
            import(&config).await
        }
    }
}

async fn import(config: &Config) -> Result<Exit, Failure> {
    // The live view (spinners on stderr) only when config decided it (a terminal, colour
    // allowed, no --verbose lines to tear it); --json, --quiet and plain output (cron logs,
    // pipes, NO_COLOR) show nothing while the run goes.
    let live = matches!(config.output, Output::Human { live: true, .. }).then(output::Live::new);
    let reporter: &dyn output::Reporter = match &live {
        Some(live) => live,
        None => &output::Silent,
    };
    // On Ctrl-C or SIGTERM the import is dropped, which kills every ccusage process group
    // it started; nothing half-written stays, since every insert is whole or not at all.
    let run = tokio::select! {
        run = pipeline::import(config, reporter) => run,
        exit = stop_signal() => Err(Failure {
            exit,
            error: anyhow::anyhow!(
                "stopped by a signal: the ccusage reports were killed and nothing more was \
                 written; rows already stored are intact"
            ),
        }),
    };
    if let Some(live) = &live {
        live.finish();
    }
    let run = run?;
    let printed = match config.output {
        Output::Json => log::stdout_json(output::json::to_json(&run)),
        Output::Quiet => log::stdout(&format!("{}\n", output::summary::closing_line(&run))),
        Output::Human { color, live } => {
            let look = output::summary::Look { color, live };
            log::stdout(&output::summary::render(&run, look))
        }
    };
    // One line each, whatever ccusage or the server put into them; the settings file's were
    // printed before the run.
    let fresh: Vec<String> = run
        .warnings
        .iter()
        .filter(|w| !config.settings_warnings.contains(w))
        .cloned()
        .collect();
    print_warnings(&fresh);
    for error in run.errors() {
        let error = log::printable(&error);
        log::emit(&format!("ccusage-import: error: {error}\n"));
    }
    // The import itself is done and stored; an unwritable stdout still fails the run, so cron
    // and scripts learn that its summary was lost.
    printed.exit_code(Exit::Other)?;
    Ok(run.exit())
}

/// One `warning:` line each on stderr, under --quiet too.
fn print_warnings(warnings: &[String]) {
    for warning in warnings {
        let warning = log::printable(warning);
        log::emit(&format!("ccusage-import: warning: {warning}\n"));
    }
}

/// Resolves when the process is asked to stop, with the exit code that says how. Every signal
/// whose default action would end the process is caught here, so that ending it always goes
/// through dropping the import, which kills the ccusage process groups.
async fn stop_signal() -> Exit {
    use tokio::signal::unix::{signal, SignalKind};
    let stops = [
        (SignalKind::interrupt(), Exit::Interrupted),
        (SignalKind::terminate(), Exit::Terminated),
        (SignalKind::hangup(), Exit::Hangup),
        (SignalKind::user_defined1(), Exit::User1),
        (SignalKind::user_defined2(), Exit::User2),
        (SignalKind::alarm(), Exit::Alarm),
        (SignalKind::quit(), Exit::Quit),
    ];
    let mut waits = Vec::new();
    for (kind, exit) in stops {
        let Ok(mut stream) = signal(kind) else {
            return std::future::pending().await;
        };
        waits.push(Box::pin(async move {
            stream.recv().await;
            exit
        }));
    }
    futures_util::future::select_all(waits).await.0
}

async fn verify(config: &Config) -> Result<Exit, Failure> {
    let mut sink = sink::Sink::connect(&config.clickhouse)
        .await
        .exit_code(Exit::ClickHouse)?;
    let checks = sink::verify::run(&mut sink).await;
    let mut all_ok = true;
    let mut text = String::new();
    for check in &checks {
        let mark = if check.ok { "ok  " } else { "FAIL" };
        text.push_str(&format!("{mark} {}: {}\n", check.what, check.detail));
        all_ok &= check.ok;
    }
    log::stdout(&text).exit_code(Exit::Other)?;
    let advice = if all_ok {
        return Ok(Exit::Ok);
    } else if checks.iter().all(|c| c.ok || c.repairable) {
        "run ccusage-import once (as a user allowed DDL) to create or repair it"
    } else {
        "fix the lines marked FAIL as each says, then run ccusage-import once"
    };
    Err(Failure {
        exit: Exit::ClickHouse,
        error: anyhow::anyhow!("the schema check failed: {advice}"),
    })
}

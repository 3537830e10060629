//! The program: command line → [`Config`] → the mode it asks for (import, dry run, verify,
//! query, config) → what is printed and the exit code.

use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches, Parser};

use crate::cli::Cli;
use crate::config::{Config, Mode, Output, Provenance};
use crate::exit::{Exit, ExitContext, Failure};
use crate::{config, lock, log, pipeline, query, report, settings, sink};

/// Runs the program: parses the command line, runs the mode it asks for, and turns the
/// outcome into the process's exit code.
pub fn main() -> ExitCode {
    match run() {
        Ok(exit) => exit.into(),
        Err(failure) => {
            eprintln!("ccusage-import: error: {failure}");
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
fn configure() -> Result<(Config, Vec<settings::Setting>, config::EnvFile), Failure> {
    // Parse once to learn --env-file, load it (never overriding the real environment), then
    // parse again so its values reach clap's env fallbacks: flags > environment > file. The
    // names set before the file was loaded tell `config` the environment from the file.
    let environment = std::env::vars_os().map(|(name, _)| name).collect();
    let first = Cli::parse();
    let file = config::load_env_file(first.env_file.as_deref()).exit_code(Exit::Usage)?;
    let matches = Cli::command().get_matches();
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    let provenance = Provenance::new(matches, environment);
    let config = Config::from_cli(cli.clone(), local_hostname).exit_code(Exit::Usage)?;
    log::enable(config.verbose);
    if let Some(warning) = &file.warning {
        eprintln!("ccusage-import: warning: {warning}");
    }
    let resolved = settings::resolve(&cli, &config, &file, &provenance);
    Ok((config, resolved, file))
}

fn local_hostname() -> Option<String> {
    hostname::get().ok()?.into_string().ok()
}

/// Runs the mode the command line asked for; `settings` and `file` are for `config`.
async fn dispatch(
    config: Config,
    settings: &[settings::Setting],
    file: &config::EnvFile,
) -> Result<Exit, Failure> {
    match config.mode {
        Mode::Config(ref args) => settings::run(args, settings, file),
        Mode::Verify => verify(&config).await,
        Mode::Query(ref args) => query::run(&config, args).await,
        Mode::DryRun => import(&config).await,
        Mode::Import => {
            // Held until the import returns; the kernel frees it if the process dies.
            let _lock = match lock::acquire(&config.lock_file).exit_code(Exit::Other)? {
                lock::Acquired::Locked(lock) => lock,
                lock::Acquired::HeldBy(holder) => {
                    return Err(Failure {
                        exit: Exit::Locked,
                        error: anyhow::anyhow!(
                            "another import is still running ({holder}; lock file {}): \
                             this run did nothing, the next one will catch up",
                            config.lock_file.display()
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
    let live = matches!(config.output, Output::Human { live: true, .. }).then(report::Live::new);
    let reporter: &dyn report::Reporter = match &live {
        Some(live) => live,
        None => &report::Silent,
    };
    // On Ctrl-C or SIGTERM the import is dropped, which kills every ccusage process group
    // it started; nothing half-written stays, since every insert is whole or not at all.
    let run = tokio::select! {
        run = pipeline::import(config, reporter) => run.map_err(failure_of),
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
    match config.output {
        Output::Json => println!("{}", report::json::to_json(&run)),
        Output::Quiet => println!("{}", report::summary::closing_line(&run)),
        Output::Human { color, live } => {
            let look = report::summary::Look { color, live };
            print!("{}", report::summary::render(&run, look));
        }
    }
    for warning in &run.warnings {
        eprintln!("ccusage-import: warning: {warning}");
    }
    for error in run.errors() {
        eprintln!("ccusage-import: error: {error}");
    }
    Ok(run.exit())
}

/// An import's error keeps the exit code it was tagged with (a refused project mode, an
/// unreadable key file: 2), else it is [`Exit::Other`].
fn failure_of(error: anyhow::Error) -> Failure {
    match error.downcast::<Failure>() {
        Ok(failure) => failure,
        Err(error) => Failure {
            exit: Exit::Other,
            error,
        },
    }
}

/// Resolves when the process is asked to stop, with the exit code that says how.
async fn stop_signal() -> Exit {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut interrupt), Ok(mut terminate)) = (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
    ) else {
        return std::future::pending().await;
    };
    tokio::select! {
        _ = interrupt.recv() => Exit::Interrupted,
        _ = terminate.recv() => Exit::Terminated,
    }
}

async fn verify(config: &Config) -> Result<Exit, Failure> {
    let mut sink = sink::Sink::connect(&config.clickhouse)
        .await
        .exit_code(Exit::ClickHouse)?;
    let checks = sink::verify::run(&mut sink).await;
    let mut all_ok = true;
    for check in &checks {
        let mark = if check.ok { "ok  " } else { "FAIL" };
        println!("{mark} {}: {}", check.what, check.detail);
        all_ok &= check.ok;
    }
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

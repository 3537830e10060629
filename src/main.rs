//! ccusage-import: ccusage reports → rows → ClickHouse → summary.

mod cli;
mod config;
mod exit;
mod lock;
mod log;
mod pipeline;
mod query;
mod report;
mod schema;
mod sink;
mod source;
mod sqlfile;
mod transform;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::Cli;
use crate::config::{Config, Mode, Output};
use crate::exit::{Exit, ExitContext, Failure};

fn main() -> ExitCode {
    match run() {
        Ok(exit) => exit.into(),
        Err(failure) => {
            eprintln!("ccusage-import: error: {failure}");
            failure.exit.into()
        }
    }
}

fn run() -> Result<Exit, Failure> {
    // Parse once to learn --env-file, load it (never overriding the real environment), then
    // parse again so its values reach clap's env fallbacks: flags > environment > file.
    let first = Cli::parse();
    let env_warning = config::load_env_file(first.env_file.as_deref()).exit_code(Exit::Usage)?;
    let cli = Cli::parse();
    let config = Config::from_cli(cli, local_hostname).exit_code(Exit::Usage)?;
    log::enable(config.verbose);
    if let Some(warning) = env_warning {
        eprintln!("ccusage-import: warning: {warning}");
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(anyhow::Error::from)
        .exit_code(Exit::Other)?;
    runtime.block_on(dispatch(config))
}

fn local_hostname() -> Option<String> {
    hostname::get().ok()?.into_string().ok()
}

async fn dispatch(config: Config) -> Result<Exit, Failure> {
    match config.mode {
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
    use std::io::IsTerminal;
    // The live view (spinners on stderr) only on a terminal that takes colour; --json,
    // --quiet and plain output (cron logs, pipes, NO_COLOR) show nothing while the run goes.
    // --verbose lines are the progress then: spinners would be torn by them.
    let fancy = matches!(config.output, Output::Human { fancy: true });
    let live = (fancy && !config.verbose).then(report::Live::new);
    let reporter: &dyn report::Reporter = match &live {
        Some(live) => live,
        None => &report::Silent,
    };
    // On Ctrl-C or SIGTERM the import is dropped, which kills every ccusage process group
    // it started; nothing half-written stays, since every insert is whole or not at all.
    let run = tokio::select! {
        run = pipeline::import(config, reporter) => run.exit_code(Exit::Other),
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
        Output::Human { fancy } => {
            let look = report::summary::Look {
                color: fancy && std::io::stdout().is_terminal(),
                live: live.is_some() && std::io::stderr().is_terminal(),
            };
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

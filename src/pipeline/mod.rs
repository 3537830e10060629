//! One import: ccusage (its reports at once) → rows → ClickHouse → a [`RunReport`].

mod dry;
mod names;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result};
use chrono::{SubsecRound, Utc};
use tokio::task::JoinSet;

use crate::config::{Config, Mode};
use crate::exit::{ExitContext as _, Failure};
use crate::reports::{self, records, Mapped, MappedReports, Rows};
use crate::run::digest::{Digest, DigestBuilder};
use crate::run::Reporter;
use crate::run::{PreviousImport, ReportOutcome, RunReport};
use crate::sink::history;
use crate::sink::ledger::{self, RunRow};
use crate::sink::{Sink, WriteStats, BREAKDOWNS_TABLE, MODELS_USED_TABLE};
use crate::source::{self, CommandSet, Launcher, ReportKind};
use crate::transform::derive;
use crate::transform::rows::{self, Context, Tokens};

/// Runs one import (or dry run) from start to end. Failures of single reports or of
/// ClickHouse end up in the report; only setup errors are returned as `Err`, each with the
/// exit code it ends the program with.
pub async fn import(config: &Config, reporter: &dyn Reporter) -> Result<RunReport, Failure> {
    let started = Instant::now();
    let started_at = Utc::now().trunc_subsecs(0);
    let mut run = RunReport {
        run_id: uuid::Uuid::new_v4().to_string(),
        machine_name: config.machine_name.clone(),
        hostname: config.hostname.clone(),
        settings_file: config
            .settings_file
            .as_ref()
            .map(|p| p.display().to_string()),
        ccusage_version: None,
        ccusage_command: None,
        server_version: None,
        clickhouse_url: config.clickhouse.url.clone(),
        database: config.clickhouse.database.clone(),
        dry_run: config.mode == Mode::DryRun,
        dry_run_uncompared: None,
        started_at,
        reports: BTreeMap::new(),
        tables: BTreeMap::new(),
        rows_unchanged: 0,
        totals: Tokens::default(),
        total_cost: 0,
        first_date: None,
        last_date: None,
        fetch_time: Duration::ZERO,
        map_time: Duration::ZERO,
        write_time: Duration::ZERO,
        duration: Duration::ZERO,
        digest: Digest::default(),
        new_rows: BTreeMap::new(),
        previous_import: PreviousImport::Unknown,
        fleet: None,
        history_error: None,
        clickhouse_error: None,
        // The settings file's warnings first, so the ledger keeps them with the run's own.
        warnings: config.settings_warnings.clone(),
        derived_months: 0,
        stored_days: None,
    };

    // ClickHouse first: when it is down there is no point in running ccusage for minutes.
    let sink;
    if run.dry_run {
        reporter.connect_started(&config.clickhouse.url, &config.clickhouse.database);
        let connection = dry::connect(config).await;
        match (&connection.server_version, &connection.uncompared) {
            (Some(version), _) => reporter.connect_finished(Ok(version)),
            (None, Some(why)) => reporter.connect_finished(Err(why)),
            (None, None) => {}
        }
        run.server_version = connection.server_version;
        run.dry_run_uncompared = connection.uncompared;
        sink = connection.sink;
    } else {
        reporter.connect_started(&config.clickhouse.url, &config.clickhouse.database);
        match connect(config).await {
            Ok(connected) => {
                reporter.connect_finished(Ok(&connected.server_version));
                run.server_version = Some(connected.server_version.clone());
                // The server that answered, when CH_HOST lists several.
                run.clickhouse_url = connected.url.clone();
                sink = Some(connected);
            }
            Err(e) => {
                reporter.connect_finished(Err(&format!("{e:#}")));
                run.clickhouse_error = Some(format!("{e:#}"));
                run.duration = started.elapsed();
                return Ok(run);
            }
        }
    }

    let stored_machine = match &sink {
        Some(sink) => match sink.stored_machine(&config.machine_name).await {
            Ok(stored) => stored,
            Err(e) => {
                run.clickhouse_error = Some(format!("{e:#}"));
                run.duration = started.elapsed();
                return Ok(run);
            }
        },
        None => None,
    };
    if let Some(stored) = &stored_machine {
        check_project_mode(config, stored)?;
    }
    let stored_names = match &sink {
        Some(sink) => match names::stored(sink, &config.machine_name, config.projects.mode).await {
            Ok(names) => names,
            Err(e) => {
                run.clickhouse_error = Some(format!("{e:#}"));
                run.duration = started.elapsed();
                return Ok(run);
            }
        },
        None => Vec::new(),
    };
    let projects = load_projects(config, stored_machine.as_ref())?
        .with_stored_names(crate::transform::projects::stored_names(&stored_names));
    let projects = std::sync::Arc::new(projects);
    crate::log::redact_projects_with(projects.clone());

    let last_tick = match &sink {
        Some(sink) => match sink.last_tick(&config.machine_name).await {
            Ok(tick) => tick,
            Err(e) => {
                run.clickhouse_error = Some(format!("{e:#}"));
                run.duration = started.elapsed();
                return Ok(run);
            }
        },
        None => Default::default(),
    };

    // The days whose sessions are stored: a past one is not asked again (see session_days_to_ask).
    let session_dates = match &sink {
        Some(sink) => match sink.session_day_dates(&config.machine_name).await {
            Ok(dates) => dates,
            Err(e) => {
                run.clickhouse_error = Some(format!("{e:#}"));
                run.duration = started.elapsed();
                return Ok(run);
            }
        },
        None => Default::default(),
    };

    let fetch_started = Instant::now();
    let (mut mapped, ctx, set) = fetch_all(
        config,
        &projects,
        &mut run,
        last_tick.tick,
        &session_dates,
        stored_machine
            .as_ref()
            .and_then(|m| CommandSet::of_scheme(&m.session_scheme)),
        reporter,
    )
    .await;
    run.fetch_time = fetch_started.elapsed();
    // Before any row of this run is written (rekey and rename write too): see Sink::fence.
    if let (Some(sink), false) = (&sink, run.dry_run) {
        if let Err(e) = sink.fence(&config.machine_name, ctx.tick, last_tick).await {
            run.clickhouse_error = Some(format!("{e:#}"));
            run.duration = started.elapsed();
            return Ok(run);
        }
    }
    let rekeyed = !run.dry_run
        && stored_machine
            .as_ref()
            .is_some_and(|stored| rekey_wanted(config, stored));
    if let (Some(sink), Some(stored)) = (&sink, &stored_machine) {
        if rekeyed {
            if let Err(e) = rekey(sink, config, &ctx, stored, &mapped, &mut run).await {
                run.clickhouse_error = Some(format!("{e:#}"));
                run.duration = started.elapsed();
                return Ok(run);
            }
        }
    }
    // Only with the run's own projects (ccusage ran): a run that stopped before has none.
    if let (Some(sink), Some(_), false) = (&sink, set, rekeyed) {
        if let Err(e) = names::rename(sink, &ctx, &stored_names, &mut run).await {
            run.clickhouse_error = Some(format!("{e:#}"));
            run.duration = started.elapsed();
            return Ok(run);
        }
    }
    summarise(&mut run, &mapped);
    // A warning of the run itself, so it is printed under --quiet and stored in the ledger:
    // a machine whose logs stopped must not look fine under cron.
    run.warnings.extend(crate::run::usage_warning(&run));
    if set == Some(CommandSet::Classic) {
        leave_whole_projects_to_derive(&mut mapped);
    }
    if derives_sessions(set, &run) {
        leave_sessions_to_derive(&mut mapped);
    }

    let write_started = Instant::now();
    match &sink {
        Some(sink) if run.dry_run => {
            if let Err(e) = dry::count(sink, &ctx, set, &mapped, &mut run).await {
                run.clickhouse_error = Some(format!("{e:#}"));
            }
        }
        Some(sink) => {
            let stored_scheme = stored_machine.map(|m| m.session_scheme);
            let write =
                write_everything(sink, &ctx, set, stored_scheme, &mapped, &mut run, reporter);
            if let Err(e) = write.await {
                run.clickhouse_error = Some(format!("{e:#}"));
            }
        }
        None => {
            count_dry_run(&mapped.all(), &mut run);
            let stored = Stored::of_run(&mapped);
            match derive(&stored, &ctx, set, &mut run) {
                Ok(derived) => {
                    let derived: Vec<&dyn Mapped> = derived.iter().map(|rows| &**rows).collect();
                    count_dry_run(&derived, &mut run);
                }
                Err(e) => run.warnings.push(format!("{e:#}")),
            }
        }
    }
    run.write_time = write_started.elapsed();
    // A dry run reads nothing back and leaves no ledger row.
    let sink = sink.filter(|_| !run.dry_run);
    if let Some(sink) = &sink {
        history::read(sink, &mut run).await;
        match config.budgets() {
            Ok(budgets) => history::budgets(sink, &mut run, &budgets).await,
            Err(e) => run.warnings.push(format!("{e:#}; no budget is checked")),
        }
    }
    run.duration = started.elapsed();
    if let Some(sink) = &sink {
        record_run(sink, &mut run).await;
    }
    Ok(run)
}

async fn connect(config: &Config) -> Result<Sink> {
    let mut sink = Sink::connect(&config.clickhouse).await?;
    sink.apply_schema().await?;
    Ok(sink)
}

/// Finds ccusage, asks its version, runs its reports at once and maps each as it ends.
async fn fetch_all(
    config: &Config,
    projects: &std::sync::Arc<crate::transform::projects::Projects>,
    run: &mut RunReport,
    last_tick: u64,
    session_dates: &std::collections::BTreeSet<chrono::NaiveDate>,
    stored_set: Option<CommandSet>,
    reporter: &dyn Reporter,
) -> (MappedReports, Context, Option<CommandSet>) {
    let imported_at = run.started_at;
    let fail_all = |run: &mut RunReport, error: String| {
        for kind in ReportKind::CLAUDE {
            run.reports.insert(
                kind,
                ReportOutcome {
                    rows: 0,
                    elapsed: Duration::ZERO,
                    error: Some(error.clone()),
                },
            );
        }
    };
    let launcher = match Launcher::locate(config.ccusage_bin.as_deref()) {
        Ok(launcher) => Launcher {
            env: config.child_env.clone(),
            ..launcher
        },
        Err(e) => {
            fail_all(run, format!("{e:#}"));
            return (
                MappedReports::default(),
                Context::new(&config.machine_name, "", imported_at),
                None,
            );
        }
    };
    let empty_config = match empty_config_file() {
        Ok(file) => file,
        Err(e) => {
            fail_all(run, format!("{e:#}"));
            return (
                MappedReports::default(),
                Context::new(&config.machine_name, "", imported_at),
                None,
            );
        }
    };
    let mut ctx = Context::new(&config.machine_name, "", imported_at);
    ctx.tick = rows::next_tick(ctx.tick, last_tick);
    ctx.projects = projects.clone();
    // The reports of the command set this machine's last import used start while ccusage is
    // asked its version, which cost a whole ccusage start before them (issue 29). They map
    // nothing before the version is known, and are stopped and run again with the right set
    // if the version says otherwise (an upgrade from 18 to 19 or a downgrade).
    let start =
        |set: CommandSet| start_reports(set, &launcher, &empty_config, config, &ctx, session_dates);
    let speculative = stored_set.map(start);
    let version = match source::version(&launcher, config.limits).await {
        Ok(version) => version,
        Err(e) => {
            fail_all(run, format!("{e:#}"));
            return (
                MappedReports::default(),
                Context::new(&config.machine_name, "", imported_at),
                None,
            );
        }
    };
    run.ccusage_version = Some(version.to_string());
    run.ccusage_command = Some(projects.redact(&launcher.display(&[])));
    if version.major < source::OLDEST_SUPPORTED_MAJOR {
        let error = format!(
            "ccusage {version} is too old: ccusage-import reads ccusage {} and newer; \
             upgrade with npm install -g ccusage@{}",
            source::OLDEST_SUPPORTED_MAJOR,
            source::PINNED_CCUSAGE
        );
        fail_all(run, error);
        return (
            MappedReports::default(),
            Context::new(&config.machine_name, "", imported_at),
            None,
        );
    }
    if version.major > source::NEWEST_TESTED_MAJOR {
        run.warnings.push(format!(
            "ccusage {version} is newer than the newest tested major version ({}); \
             using its command set",
            source::NEWEST_TESTED_MAJOR
        ));
    }
    let set = CommandSet::for_major(version.major);
    // A speculative start with another set is dropped here, which stops its children.
    let Started {
        mut tasks,
        kinds,
        mut early,
        early_days,
        slots,
        version: known,
        ..
    } = match speculative {
        Some(started) if started.set == set => started,
        _ => start(set),
    };
    ctx.ccusage_version = version.to_string();
    known.send_replace(Some(ctx.ccusage_version.clone()));
    for kind in set.reports() {
        reporter.report_started(kind);
    }
    let today = imported_at.date_naive();
    let mut mapped = MappedReports::default();
    while let Some(joined) = tasks.join_next().await {
        // A panic inside one report's task is that report's failure, not the run's.
        let (kind, elapsed, result) = match joined {
            Ok(done) => done,
            Err(e) => (
                kinds[&e.id()],
                Duration::ZERO,
                Err(format!(
                    "ccusage-import crashed while reading this report ({}); please report it",
                    panic_text(e)
                )),
            ),
        };
        let outcome = match result {
            Ok((rows, records, warning, map_time)) => {
                run.map_time += map_time;
                run.warnings.extend(warning);
                mapped.merge(records);
                ReportOutcome {
                    rows,
                    elapsed,
                    error: None,
                }
            }
            Err(error) => ReportOutcome {
                rows: 0,
                elapsed,
                error: Some(error),
            },
        };
        reporter.report_finished(kind, &outcome);
        run.reports.insert(kind, outcome);
    }
    if set == CommandSet::ClaudeSubcommand && report_ok(run, ReportKind::Session) {
        // The days with usage are the daily report's; when it failed, the days the sessions
        // began and ended on (a day left out is not stored, so a later run asks for it).
        let dates: Vec<chrono::NaiveDate> = if report_ok(run, ReportKind::Daily) {
            records(&mapped.daily).iter().map(|r| r.row.date).collect()
        } else {
            records(&mapped.session)
                .iter()
                .flat_map(|r| [r.row.first_activity, Some(r.row.last_activity)])
                .flatten()
                .map(|time| time.date_naive())
                .collect()
        };
        let days = session_days_to_ask(dates, session_dates, today);
        let started = Instant::now();
        let later: Vec<_> = days
            .iter()
            .filter(|day| !early_days.contains(day))
            .map(|&day| (day, set.session_day_args(day, empty_config.path())))
            .collect();
        let ready = tokio::sync::watch::channel(Some(ctx.ccusage_version.clone())).1;
        let limits = config.limits;
        let mut result = fetch_session_days(&later, &launcher, limits, &slots, &ctx, &ready).await;
        if let Some(joined) = early.join_next().await {
            // Only the days this run asks count: a day without usage is left out, as before.
            let early_result = match joined {
                Ok(result) => result,
                Err(e) => Err(format!(
                    "ccusage-import crashed while reading a one-day session report ({})",
                    panic_text(e)
                )),
            };
            let wanted = |day: &chrono::NaiveDate| days.contains(day);
            result = match (result, early_result) {
                (Err(e), _) => Err(e),
                (Ok(_), Err(e)) if early_days.iter().any(wanted) => Err(e),
                (Ok(mut all), Ok(records)) => {
                    all.extend(records.into_iter().filter(|r| wanted(&r.row.date)));
                    Ok(all)
                }
                (Ok(all), Err(_)) => Ok(all),
            };
        }
        let outcome = run
            .reports
            .get_mut(&ReportKind::Session)
            .expect("the session report ran");
        outcome.elapsed += started.elapsed();
        match result {
            Ok(session_days) => mapped.session_days = Some(Rows::derived(session_days)),
            // Without every asked day the sessions are not summed: they stay as stored.
            Err(error) => outcome.error = Some(error),
        }
    }
    (mapped, ctx, Some(set))
}

/// The days whose one-day session report this run asks for: every day of this run's daily
/// report whose sessions are not stored yet; today (UTC), which may still grow; and yesterday
/// until a run has stored today's sessions (that run asked for yesterday after it ended, so
/// yesterday is complete). A past day whose sessions are stored is never asked again: once it
/// is over its sessions only shrink (logs deleted), and a resumed session whose original is
/// deleted would take the original's replayed lines on it. An hourly run asks for one day,
/// the first one after midnight for two.
fn session_days_to_ask(
    dates: Vec<chrono::NaiveDate>,
    stored: &std::collections::BTreeSet<chrono::NaiveDate>,
    today: chrono::NaiveDate,
) -> Vec<chrono::NaiveDate> {
    let yesterday = today.pred_opt().unwrap_or(today);
    let dates: std::collections::BTreeSet<_> = dates.into_iter().collect();
    dates
        .into_iter()
        .filter(|date| {
            !stored.contains(date)
                || *date >= today
                || (*date == yesterday && !stored.contains(&today))
        })
        .collect()
}

/// Runs the one-day session report for each of `days`, as many at once as `--jobs` allows,
/// and maps each session's row as a row of its day.
async fn fetch_session_days(
    days: &[(chrono::NaiveDate, Vec<String>)],
    launcher: &Launcher,
    limits: source::Limits,
    slots: &std::sync::Arc<tokio::sync::Semaphore>,
    ctx: &Context,
    version: &KnownVersion,
) -> Result<Vec<rows::Record<rows::SessionDayRow>>, String> {
    let mut tasks = JoinSet::new();
    for (date, args) in days {
        let (date, args) = (*date, args.clone());
        let (launcher, ctx, version) = (launcher.clone(), ctx.clone(), version.clone());
        let slots = slots.clone();
        tasks.spawn(async move {
            let _slot = slots
                .acquire_owned()
                .await
                .expect("the semaphore is never closed");
            let (_, mapped, _, _) =
                fetch_one(ReportKind::Session, &launcher, &args, limits, &ctx, version).await?;
            let sessions = mapped
                .session
                .expect("the session report maps into its own rows");
            sessions
                .records
                .iter()
                .map(|r| rows::session_day(r, date))
                .collect::<Result<Vec<_>>>()
                .map_err(|e| format!("{e:#}"))
        });
    }
    let mut all = Vec::new();
    let mut first_error = None;
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok(Ok(records)) => all.extend(records),
            Ok(Err(e)) => {
                first_error.get_or_insert(format!("the one-day session report failed: {e}"));
            }
            Err(e) => {
                first_error.get_or_insert(format!(
                    "ccusage-import crashed while reading a one-day session report ({}); please report it",
                    panic_text(e)
                ));
            }
        }
    }
    first_error.map_or(Ok(all), Err)
}

/// Whether this run read `kind` without a failure.
fn report_ok(run: &RunReport, kind: ReportKind) -> bool {
    run.reports.get(&kind).is_some_and(|r| r.error.is_none())
}

/// Fault injection for the tests, in debug builds only: no input is known to make mapping
/// panic, so the test that a panic stays one report's failure needs a way to cause one.
fn panic_on_request(kind: ReportKind) {
    #[cfg(debug_assertions)]
    if std::env::var("CCUSAGE_IMPORT_TEST_PANIC").is_ok_and(|k| k == kind.name()) {
        panic!("a panic injected for the tests");
    }
    #[cfg(not(debug_assertions))]
    let _ = kind;
}

fn panic_text(error: tokio::task::JoinError) -> String {
    if !error.is_panic() {
        return error.to_string();
    }
    let payload = error.into_panic();
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic".to_owned())
}

/// ccusage 16+ reads `--config`; pointing it at `{}` keeps a user's own ccusage.json from
/// changing mode, order or timezone.
fn empty_config_file() -> Result<tempfile::NamedTempFile> {
    use std::io::Write;
    let mut file = tempfile::Builder::new()
        .prefix("ccusage-import-config-")
        .suffix(".json")
        .tempfile()
        .context("cannot create a temporary file for ccusage's --config")?;
    file.write_all(b"{}\n")
        .context("cannot write ccusage's empty --config file")?;
    Ok(file)
}

/// ccusage's version once it is known: the reports may start before it (see [`Started`]).
type KnownVersion = tokio::sync::watch::Receiver<Option<String>>;

type FetchResult = Result<(usize, MappedReports, Option<String>, Duration), String>;

/// The reports of one command set, started (each waits for a slot), and the one-day session
/// reports an hourly run starts beside them.
struct Started {
    set: CommandSet,
    tasks: JoinSet<(ReportKind, Duration, FetchResult)>,
    kinds: std::collections::HashMap<tokio::task::Id, ReportKind>,
    early: JoinSet<Result<Vec<rows::Record<rows::SessionDayRow>>, String>>,
    early_days: Vec<chrono::NaiveDate>,
    slots: std::sync::Arc<tokio::sync::Semaphore>,
    /// Sends the version; the reports map their output once it is sent.
    version: tokio::sync::watch::Sender<Option<String>>,
}

/// Starts `set`'s reports with `ctx` (its version still empty). An hourly run asks today's
/// one-day session report (and yesterday's until today's sessions are stored) whatever the
/// daily report says, unless today has no usage: it starts here with the reports instead of
/// after them, where it added a whole ccusage run to the import's time (issue 29). A first
/// import asks every day after the reports.
fn start_reports(
    set: CommandSet,
    launcher: &Launcher,
    empty_config: &tempfile::NamedTempFile,
    config: &Config,
    ctx: &Context,
    session_dates: &std::collections::BTreeSet<chrono::NaiveDate>,
) -> Started {
    let jobs = config
        .jobs
        .unwrap_or_else(|| set.default_jobs(source::available_memory()));
    let slots = std::sync::Arc::new(tokio::sync::Semaphore::new(jobs));
    let (version, known) = tokio::sync::watch::channel(None);
    let today = ctx.imported_at.date_naive();
    let mut early = JoinSet::new();
    let early_days: Vec<chrono::NaiveDate> =
        if set == CommandSet::ClaudeSubcommand && !session_dates.is_empty() {
            let yesterday = today.pred_opt().filter(|_| !session_dates.contains(&today));
            yesterday.into_iter().chain([today]).collect()
        } else {
            Vec::new()
        };
    if !early_days.is_empty() {
        let days: Vec<_> = early_days
            .iter()
            .map(|&day| (day, set.session_day_args(day, empty_config.path())))
            .collect();
        let (launcher, slots, ctx, limits, known) = (
            launcher.clone(),
            slots.clone(),
            ctx.clone(),
            config.limits,
            known.clone(),
        );
        early.spawn(async move {
            fetch_session_days(&days, &launcher, limits, &slots, &ctx, &known).await
        });
    }
    let mut tasks = JoinSet::new();
    let mut kinds = std::collections::HashMap::new();
    for kind in set.reports() {
        let args = set.args(kind, empty_config.path());
        let (launcher, ctx, limits) = (launcher.clone(), ctx.clone(), config.limits);
        let (slots, known) = (slots.clone(), known.clone());
        let task = tasks.spawn(async move {
            let _slot = slots
                .acquire_owned()
                .await
                .expect("the semaphore is never closed");
            let started = Instant::now();
            let result = fetch_one(kind, &launcher, &args, limits, &ctx, known).await;
            (kind, started.elapsed(), result)
        });
        kinds.insert(task.id(), kind);
    }
    Started {
        set,
        tasks,
        kinds,
        early,
        early_days,
        slots,
        version,
    }
}

/// Runs, parses and maps one report (once `version` is known: `ctx`'s may be empty). The
/// error is one line: the cause, the command line, and the start of what ccusage printed.
async fn fetch_one(
    kind: ReportKind,
    launcher: &Launcher,
    args: &[String],
    limits: source::Limits,
    ctx: &Context,
    mut version: KnownVersion,
) -> FetchResult {
    // In hash and hidden runs an error leaves the machine too: it loses what could name a
    // project (ccusage's output, ids, keys, the home directory).
    let redact = |text: String| ctx.projects.redact(&text);
    let output = source::run(launcher, args, limits)
        .await
        .map_err(|e| redact(e.to_string()))?;
    let known = version
        .wait_for(Option::is_some)
        .await
        .map_err(|_| "stopped: ccusage's version asks for other reports".to_owned())?
        .clone()
        .unwrap_or_default();
    let ctx = &Context {
        ccusage_version: known,
        ..ctx.clone()
    };
    let command_line = launcher.display(args);
    let map_started = Instant::now();
    panic_on_request(kind);
    let (rows, mapped, warning) = reports::map(kind, &output.stdout, ctx).map_err(|e| {
        redact(format!(
            "{e:#} (ccusage {}; command: {command_line}; output began: {})",
            ctx.ccusage_version,
            source::quote(&output.stdout)
        ))
    })?;
    Ok((rows, mapped, warning, map_started.elapsed()))
}

/// `totals` and the date range come from the daily report, like ccusage's own totals; the
/// digest (models, sessions, projects, active block) from the report that holds each.
fn summarise(run: &mut RunReport, mapped: &MappedReports) {
    let mut digest = DigestBuilder::default();
    for report in mapped.all() {
        report.summarise(run, &mut digest);
    }
    run.digest = digest.finish();
}

/// Writes every report's rows, all tables at once: each table's write is independent, and
/// ClickHouse answers small inserts in parallel about as fast as one.
async fn write_all(
    sink: &Sink,
    machine: &str,
    mapped: &[&dyn Mapped],
    run: &mut RunReport,
    reporter: &dyn Reporter,
) -> Result<()> {
    let writes = mapped.iter().map(|report| async move {
        let table = report.table();
        reporter.write_started(table);
        let (stats, result) = report.write(sink, machine).await;
        reporter.write_finished(table, result.is_ok().then_some(&stats));
        (table, stats, result)
    });
    // Every table's rows are counted, written before a failure or not: the summary of a
    // failed run says what it did store. The first error fails the run.
    let mut first_error = None;
    for (table, stats, result) in futures_util::future::join_all(writes).await {
        add_stats(run, table, stats);
        if let Err(e) = result {
            first_error.get_or_insert(e);
        }
    }
    first_error.map_or(Ok(()), Err)
}

fn add_stats(run: &mut RunReport, table: &'static str, stats: WriteStats) {
    *run.tables.entry(table).or_default() += stats.written;
    *run.tables.entry(BREAKDOWNS_TABLE).or_default() += stats.breakdowns;
    *run.tables.entry(MODELS_USED_TABLE).or_default() += stats.models;
    run.rows_unchanged += stats.unchanged;
    *run.new_rows.entry(table).or_default() += stats.new;
}

/// Writes this run's rows, then the rows summed from what is now stored, then (once the
/// sessions are in) the machine's session scheme.
async fn write_everything(
    sink: &Sink,
    ctx: &Context,
    set: Option<CommandSet>,
    stored_scheme: Option<String>,
    mapped: &MappedReports,
    run: &mut RunReport,
    reporter: &dyn Reporter,
) -> Result<()> {
    let machine = &ctx.machine_name;
    write_all(sink, machine, &mapped.all(), run, reporter).await?;
    let stored = Stored::read(sink, machine, set, run).await?;
    let derived = derive(&stored, ctx, set, run)?;
    let derived: Vec<&dyn Mapped> = derived.iter().map(|rows| &**rows).collect();
    write_all(sink, machine, &derived, run, reporter).await?;
    // The machine's row records its project mode on every run that wrote, and its session
    // scheme once the sessions are in (until then, the scheme stored before).
    if let Some(set) = set {
        let scheme = match stored_scheme {
            Some(stored) if !report_ok(run, ReportKind::Session) => stored,
            _ => set.session_scheme().to_owned(),
        };
        let row = rows::MachineRow::new(ctx, &scheme, ctx.projects.mode.as_str());
        sink.write_machine(&row).await?;
    }
    Ok(())
}

/// Refuses a run whose `--projects` mode differs from the one this machine's rows are stored
/// in: the same usage would be stored again under new keys, and every project and session
/// sum would count it twice.
fn check_project_mode(config: &Config, stored: &crate::sink::StoredMachine) -> Result<(), Failure> {
    let wanted = config.projects.mode;
    let Some(was) = crate::transform::projects::Mode::parse(&stored.project_mode) else {
        return Err(anyhow::anyhow!(
            "ccusage_machines holds the project mode {:?} for machine {}, which this ccusage-import does not know: upgrade ccusage-import",
            stored.project_mode,
            config.machine_name
        ))
        .exit_code(crate::exit::Exit::Usage);
    };
    if was == wanted {
        return Ok(());
    }
    if config.projects.rekey && was == crate::transform::projects::Mode::Hidden {
        return Err(anyhow::anyhow!(
            "machine {} stored its projects with --projects hidden: those rows cannot be told apart by project again, so --rekey-projects cannot move them to --projects {}; nothing was written. Keep --projects hidden on this machine",
            config.machine_name,
            wanted.as_str()
        ))
        .exit_code(crate::exit::Exit::Usage);
    }
    if config.projects.rekey {
        return Ok(());
    }
    Err(anyhow::anyhow!(
        "machine {} stored its projects with --projects {} and this run asks for --projects {}: importing would store the same sessions and project days again under new keys, and every project and session sum would count them twice; nothing was written. Run with --projects {} (CCUSAGE_IMPORT_PROJECTS) as before, or run once with --projects {} --rekey-projects to rewrite this machine's stored projects into the new mode",
        config.machine_name,
        was.as_str(),
        wanted.as_str(),
        was.as_str(),
        wanted.as_str()
    ))
    .exit_code(crate::exit::Exit::Usage)
}

/// The run's projects, from a key file that must be the one the machine's rows were stored
/// with: a new or another key would store the same sessions and project days again under new
/// hashes. A missing key file is created only while the machine has no rows under a key.
fn load_projects(
    config: &Config,
    stored: Option<&crate::sink::StoredMachine>,
) -> Result<crate::transform::projects::Projects, Failure> {
    use crate::projects::{load, Create};
    use crate::transform::projects::Mode;
    let keyed = stored.filter(|s| {
        matches!(
            Mode::parse(&s.project_mode),
            Some(Mode::Hash | Mode::Hidden)
        )
    });
    let create = match keyed {
        None => Create::Yes,
        Some(s) => Create::No {
            machine: config.machine_name.clone(),
            fingerprint: s.key_fingerprint.clone(),
        },
    };
    let projects = load(&config.projects, create).exit_code(crate::exit::Exit::Usage)?;
    let Some(stored) = keyed.filter(|s| !s.key_fingerprint.is_empty()) else {
        return Ok(projects);
    };
    // The key file in the stored mode: the one a re-key from hash reads as well.
    let was = Mode::parse(&stored.project_mode).unwrap_or_default();
    let key_file = crate::projects::ProjectSettings {
        mode: was,
        ..config.projects.clone()
    };
    let create = Create::No {
        machine: config.machine_name.clone(),
        fingerprint: stored.key_fingerprint.clone(),
    };
    let fingerprint = load(&key_file, create)
        .exit_code(crate::exit::Exit::Usage)?
        .fingerprint();
    if fingerprint == stored.key_fingerprint {
        return Ok(projects);
    }
    Err(anyhow::anyhow!(
        "machine {} stored its projects with --projects {} under another project key \
         (fingerprint {}…) than the key file {} holds (fingerprint {}…): importing would store \
         the same sessions and project days again under new hashes, and every project and \
         session sum would count them twice; nothing was written. Restore the key file this \
         machine used (from a backup, or from another machine of the fleet that shares it); \
         stored hashes can be translated only with the key that made them",
        config.machine_name,
        was.as_str(),
        stored.key_fingerprint.get(..8).unwrap_or_default(),
        config.projects.key_file.display(),
        fingerprint.get(..8).unwrap_or_default(),
    ))
    .exit_code(crate::exit::Exit::Usage)
}

fn rekey_wanted(config: &Config, stored: &crate::sink::StoredMachine) -> bool {
    let was = crate::transform::projects::Mode::parse(&stored.project_mode);
    config.projects.rekey && was.is_some_and(|was| was != config.projects.mode)
}

/// `--rekey-projects`: stores this machine's sessions and project days again under the keys
/// of this run's mode and supersedes the old rows (see `transform::rekey`), then records the
/// new mode at once, so a later run never re-keys rows that are already in it.
async fn rekey(
    sink: &Sink,
    config: &Config,
    ctx: &Context,
    stored: &crate::sink::StoredMachine,
    mapped: &MappedReports,
    run: &mut RunReport,
) -> Result<()> {
    use crate::transform::rekey::{self as rekeying, Translation};
    let was = crate::transform::projects::Mode::parse(&stored.project_mode).unwrap_or_default();
    let old_settings = crate::projects::ProjectSettings {
        mode: was,
        ..config.projects.clone()
    };
    // The key was checked against the stored fingerprint before anything ran.
    let old = crate::projects::load(
        &old_settings,
        crate::projects::Create::No {
            machine: config.machine_name.clone(),
            fingerprint: stored.key_fingerprint.clone(),
        },
    )
    .exit_code(crate::exit::Exit::Usage)?;
    let mut translation = Translation::new(&old, &ctx.projects);
    translation.learn(records(&mapped.session), records(&mapped.projects_daily));
    let machine = &ctx.machine_name;
    let sessions = sink
        .rekey_rows(
            machine,
            "rekey_sessions",
            "session",
            |r: &rows::SessionRow| rows::session_key(&r.project_path, &r.session_id),
        )
        .await?;
    let days = sink
        .rekey_rows(
            machine,
            "rekey_projects_daily",
            "project_daily",
            |r: &rows::ProjectDailyRow| rows::project_day_key(r.date, &r.project),
        )
        .await?;
    let session_days = sink
        .rekey_rows(
            machine,
            "rekey_session_days",
            "session_day",
            |r: &rows::SessionDayRow| rows::session_day_key(r.date, &r.project_path, &r.session_id),
        )
        .await?;
    let sessions = rekeying::sessions(sessions, &translation, ctx)?;
    let days = rekeying::projects_daily(days, &translation, ctx)?;
    let session_days = rekeying::session_days(session_days, &translation, ctx)?;
    let written = sink.write_rekeyed(&sessions).await?
        + sink.write_rekeyed(&days).await?
        + sink.write_rekeyed(&session_days).await?;
    let row = rows::MachineRow::new(ctx, &stored.session_scheme, ctx.projects.mode.as_str());
    sink.write_machine(&row).await?;
    run.warnings.push(format!(
        "re-keyed this machine's stored projects from --projects {} to --projects {}: {} sessions and {} project days stored under their new keys ({written} rows written); the {} old rows stay, marked superseded, and no reader counts them",
        was.as_str(),
        ctx.projects.mode.as_str(),
        sessions.records.len(),
        days.records.len(),
        sessions.superseded.len() + days.superseded.len()
    ));
    Ok(())
}

/// ccusage 15–18 print a whole project as one session that shrinks and grows; it is summed
/// from the project's stored days instead (see `derive::project_sessions`).
fn leave_whole_projects_to_derive(mapped: &mut MappedReports) {
    if let Some(sessions) = &mut mapped.session {
        sessions
            .records
            .retain(|r| !derive::is_whole_project(&r.row));
    }
}

/// ccusage 19+ sessions are summed from their stored days (see `derive::sessions`): the
/// report's own whole-session rows lend the summary their figures and are not stored.
fn leave_sessions_to_derive(mapped: &mut MappedReports) {
    if let Some(sessions) = &mut mapped.session {
        sessions.records.clear();
    }
}

/// Whether this run sums the sessions from session days: ccusage 19+, and every one-day
/// session report it asked for answered (a failure is the session report's).
fn derives_sessions(set: Option<CommandSet>, run: &RunReport) -> bool {
    set == Some(CommandSet::ClaudeSubcommand) && report_ok(run, ReportKind::Session)
}

/// The stored rows that coarse rows are summed from; empty where the report failed.
#[derive(Default)]
struct Stored {
    days: Vec<derive::StoredDay>,
    project_days: Vec<derive::StoredProjectDay>,
    sub_sessions: Vec<derive::StoredSubSession>,
    session_days: Vec<derive::StoredSessionDay>,
    hours: crate::sink::StoredHours,
}

impl Stored {
    async fn read(
        sink: &Sink,
        machine: &str,
        set: Option<CommandSet>,
        run: &RunReport,
    ) -> Result<Stored> {
        let mut stored = Stored::default();
        if report_ok(run, ReportKind::Daily) {
            let days = sink.stored_usage(machine, "stored_days", "daily").await?;
            stored.days = days
                .into_iter()
                .map(|(_, _, date, usage)| derive::StoredDay { date, usage })
                .collect();
        }
        if report_ok(run, ReportKind::Hours) {
            stored.hours = sink.stored_hours(machine).await?;
        }
        if derives_sessions(set, run) {
            stored.session_days = sink.stored_session_days(machine).await?;
        }
        if derives_project_sessions(set, run) {
            let days = sink
                .stored_usage(machine, "stored_project_days", "project_daily")
                .await?;
            stored.project_days = days
                .into_iter()
                .map(|(_, project, date, usage)| derive::StoredProjectDay {
                    project,
                    date,
                    usage,
                })
                .collect();
            let subs = sink
                .stored_usage(machine, "stored_sub_sessions", "session")
                .await?;
            stored.sub_sessions = subs
                .into_iter()
                .map(|(key, project_path, _, usage)| derive::StoredSubSession {
                    key,
                    project_path,
                    usage,
                })
                .collect();
        }
        Ok(stored)
    }

    /// In a dry run nothing is read: the coarse rows are summed from this run's rows alone.
    fn of_run(mapped: &MappedReports) -> Stored {
        Stored {
            days: records(&mapped.daily)
                .iter()
                .map(derive::StoredDay::of_record)
                .collect(),
            project_days: records(&mapped.projects_daily)
                .iter()
                .map(derive::StoredProjectDay::of_record)
                .collect(),
            sub_sessions: records(&mapped.session)
                .iter()
                .map(derive::StoredSubSession::of_record)
                .collect(),
            session_days: records(&mapped.session_days)
                .iter()
                .map(derive::StoredSessionDay::of_record)
                .collect(),
            hours: crate::sink::StoredHours {
                hours: records(&mapped.hours)
                    .iter()
                    .map(derive::StoredHour::of_record)
                    .collect(),
                ..Default::default()
            },
        }
    }
}

fn derives_project_sessions(set: Option<CommandSet>, run: &RunReport) -> bool {
    set == Some(CommandSet::Classic)
        && report_ok(run, ReportKind::ProjectsDaily)
        && report_ok(run, ReportKind::Session)
}

/// The coarse rows summed from `stored`: the months, the 5-hour blocks, and with ccusage
/// 15–18 the whole-project sessions.
fn derive(
    stored: &Stored,
    ctx: &Context,
    set: Option<CommandSet>,
    run: &mut RunReport,
) -> Result<Vec<Box<dyn Mapped>>> {
    let mut derived: Vec<Box<dyn Mapped>> = Vec::new();
    if report_ok(run, ReportKind::Daily) {
        let months = derive::months(&stored.days, ctx)?;
        run.derived_months = months.len();
        derived.push(Box::new(Rows::derived(months)) as Box<dyn Mapped>);
    }
    if report_ok(run, ReportKind::Hours) {
        let hours = &stored.hours;
        let blocks = derive::blocks(&hours.hours, hours.history_until, &hours.blocks, ctx)?;
        derived.push(Box::new(Rows::derived(blocks)));
    }
    if derives_project_sessions(set, run) {
        let sessions = derive::project_sessions(&stored.project_days, &stored.sub_sessions, ctx)?;
        derived.push(Box::new(Rows::derived(sessions)));
    }
    if derives_sessions(set, run) {
        let sessions = derive::sessions(&stored.session_days, ctx)?;
        derived.push(Box::new(Rows::derived(sessions)));
    }
    Ok(derived)
}

fn count_dry_run(mapped: &[&dyn Mapped], run: &mut RunReport) {
    for &report in mapped {
        let (breakdowns, models) = report.children();
        *run.tables.entry(report.table()).or_default() += report.len();
        *run.tables.entry(BREAKDOWNS_TABLE).or_default() += breakdowns;
        *run.tables.entry(MODELS_USED_TABLE).or_default() += models;
    }
}

/// Appends the run to the ledger. A failure here is reported but never hides the run's own
/// outcome.
async fn record_run(sink: &Sink, run: &mut RunReport) {
    let status = |kind: ReportKind| match run.reports.get(&kind) {
        Some(r) if r.error.is_none() => ("ok".to_owned(), r.rows as u64),
        Some(r) => ("failed".to_owned(), r.rows as u64),
        None => ("skipped".to_owned(), 0),
    };
    let (daily_status, daily_rows) = status(ReportKind::Daily);
    // The monthly table is summed from the stored days; it has no report of its own.
    let (monthly_status, monthly_rows) = match status(ReportKind::Daily) {
        (ok, _) if ok == "ok" => ("derived".to_owned(), run.derived_months as u64),
        other => other,
    };
    let (session_status, session_rows) = status(ReportKind::Session);
    let (blocks_status, blocks_rows) = status(ReportKind::Blocks);
    let (hours_status, hours_rows) = status(ReportKind::Hours);
    let (projects_daily_status, projects_daily_rows) = status(ReportKind::ProjectsDaily);
    let (agents_daily_status, agents_daily_rows) = status(ReportKind::AgentsDaily);
    let row = RunRow {
        run_id: run.run_id.clone(),
        machine_name: run.machine_name.clone(),
        hostname: run.hostname.clone(),
        importer_version: env!("CARGO_PKG_VERSION").to_owned(),
        ccusage_version: run.ccusage_version.clone().unwrap_or_default(),
        server_version: run.server_version.clone().unwrap_or_default(),
        started_at: run.started_at,
        duration_ms: run.duration.as_millis() as u64,
        dry_run: u8::from(run.dry_run),
        exit_code: run.exit().code(),
        daily_status,
        daily_rows,
        monthly_status,
        monthly_rows,
        session_status,
        session_rows,
        blocks_status,
        blocks_rows,
        hours_status,
        hours_rows,
        projects_daily_status,
        projects_daily_rows,
        agents_daily_status,
        agents_daily_rows,
        rows_written: run.tables.values().sum::<usize>() as u64,
        rows_unchanged: run.rows_unchanged as u64,
        error: crate::log::redact(&run.errors().join("\n")).into_owned(),
        warnings: crate::log::redact(&run.warnings.join("\n")).into_owned(),
    };
    if let Err(e) = ledger::record(sink, &row).await {
        if run.clickhouse_error.is_none() {
            run.clickhouse_error = Some(format!("{e:#}"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stored_past_day_is_never_asked_again_and_yesterday_until_today_is_stored() {
        let day = |d: u32| chrono::NaiveDate::from_ymd_opt(2026, 12, d).unwrap();
        let today = day(7);
        let shown = vec![day(1), day(2), day(5), day(6), day(7), day(2)];
        let stored: std::collections::BTreeSet<_> = [day(1), day(5), day(6)].into();
        // Day 2 is not stored, yesterday is asked while today is not stored, today always.
        assert_eq!(
            session_days_to_ask(shown.clone(), &stored, today),
            vec![day(2), day(6), day(7)]
        );
        let stored: std::collections::BTreeSet<_> = [day(1), day(2), day(5), day(6), day(7)].into();
        assert_eq!(session_days_to_ask(shown, &stored, today), vec![day(7)]);
    }
}

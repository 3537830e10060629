//! `ccusage-import schedule install|status|uninstall`: the hourly job, as a crontab entry
//! (where `crontab` exists), a systemd user timer (`--systemd`) or a launchd agent (macOS).
//!
//! Each is idempotent: install replaces the one job there is, uninstall removes only it. The
//! job runs this binary by its absolute path with `--quiet --env-file <file>`, so it reads the
//! same settings file whatever directory cron starts it in, and appends its output to a log
//! under `$XDG_STATE_HOME/ccusage-import/`. Whatever the job will see is asked of the binary
//! itself, run as the job runs it (that file, the job's PATH, no other environment), so
//! install and status never read the settings differently from the job.

pub mod status;
pub mod timing;
pub mod units;

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{bail, Context as _, Result};

use crate::cli_machine::{InstallArgs, ScheduleAction};
use crate::envfile::EnvFile;
use crate::exit::{Exit, ExitContext as _, Failure};
use timing::Timing;
use units::{Job, UNIT};

/// The most of a child's output (the test import, `config --get`, the ledger) kept.
const MAX_CHILD_OUTPUT: u64 = 1 << 20;

/// `explicit` is the settings file named by `--env-file` or `CCUSAGE_IMPORT_ENV_FILE`;
/// `file` the one this process read.
pub fn run(
    action: &ScheduleAction,
    explicit: Option<&Path>,
    file: &EnvFile,
) -> Result<Exit, Failure> {
    match action {
        ScheduleAction::Install(args) => install(args, file).map(|_| Exit::Ok),
        ScheduleAction::Status(args) => status::status(args, explicit, file),
        ScheduleAction::Uninstall => uninstall().exit_code(Exit::Other).map(|_| Exit::Ok),
    }
}

fn say(text: &str) {
    // The messages of a command the user typed; a closed stdout does not undo the work.
    let _ = crate::log::stdout(&format!("{text}\n"));
}

fn warn(text: &str) {
    crate::log::emit(&format!("ccusage-import: warning: {text}\n"));
}

fn env_dir(variable: &str, under_home: &str) -> Result<PathBuf> {
    let set = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
    if let Some(dir) = set(variable) {
        return Ok(PathBuf::from(dir));
    }
    let home = set("HOME").context("HOME is not set")?;
    Ok(Path::new(&home).join(under_home))
}

/// `$XDG_CONFIG_HOME`, else `~/.config`.
pub fn config_home() -> Result<PathBuf> {
    env_dir("XDG_CONFIG_HOME", ".config")
}

/// `$XDG_STATE_HOME`, else `~/.local/state`.
pub fn state_home() -> Result<PathBuf> {
    env_dir("XDG_STATE_HOME", ".local/state")
}

/// The settings file the job reads unless another is given: `$XDG_CONFIG_HOME/ccusage-import/.env`
/// (the last place every command looks, [`crate::envfile::discover`]).
pub fn default_env_file() -> Result<PathBuf> {
    crate::envfile::user_file().context("neither XDG_CONFIG_HOME nor HOME is set")
}

/// The settings file of the job: the one this command read (`--env-file`, …), else the
/// default, which must exist.
pub fn job_env_file(file: &EnvFile) -> Result<PathBuf> {
    let path = match &file.path {
        Some(path) => path.clone(),
        None => default_env_file()?,
    };
    if !path.is_file() {
        bail!(
            "no settings file at {}: run `ccusage-import init`, or pass --env-file PATH",
            path.display()
        );
    }
    absolute(&path)
}

fn absolute(path: &Path) -> Result<PathBuf> {
    let path = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()
            .context("cannot read the current directory")?
            .join(path)
    };
    // The directory is resolved, the name kept: a link on PATH stays the name the user gave.
    match (path.parent(), path.file_name()) {
        (Some(dir), Some(name)) if dir.exists() => Ok(dir
            .canonicalize()
            .with_context(|| format!("cannot resolve {}", dir.display()))?
            .join(name)),
        _ => Ok(path),
    }
}

/// An executable called `name` on PATH (or `name` itself when it holds a slash).
pub fn which(name: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt as _;
    let executable = |p: &Path| {
        p.metadata()
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    };
    if name.contains('/') {
        return executable(Path::new(name)).then(|| PathBuf::from(name));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| executable(p))
}

fn crontab_command() -> String {
    std::env::var("CCUSAGE_IMPORT_CRONTAB")
        .ok()
        .filter(|c| !c.is_empty())
        .unwrap_or_else(|| "crontab".into())
}

/// A child's end: its exit code (`None`: killed by a signal) and what it printed, each cut at
/// [`MAX_CHILD_OUTPUT`].
pub struct Ran {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Ran {
    /// The first `ccusage-import: error:` line, else the first line of stderr.
    pub fn error_line(&self) -> String {
        let lines = || self.stderr.lines();
        lines()
            .find_map(|l| l.strip_prefix("ccusage-import: error: "))
            .or_else(|| lines().find(|l| !l.trim().is_empty()))
            .unwrap_or("(it printed nothing)")
            .to_owned()
    }
}

/// Runs `command`, keeping at most [`MAX_CHILD_OUTPUT`] of each stream (the rest is read
/// and dropped, so the child never blocks on a full pipe).
pub fn capture(command: &mut Command) -> Result<Ran> {
    let program = command.get_program().to_string_lossy().into_owned();
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("cannot run {program}"))?;
    fn drain(mut stream: impl std::io::Read) -> String {
        let mut kept = Vec::new();
        let _ = stream
            .by_ref()
            .take(MAX_CHILD_OUTPUT)
            .read_to_end(&mut kept);
        let _ = std::io::copy(&mut stream, &mut std::io::sink());
        String::from_utf8_lossy(&kept).into_owned()
    }
    let stderr = child
        .stderr
        .take()
        .map(|s| std::thread::spawn(move || drain(s)));
    let stdout = child.stdout.take().map(drain).unwrap_or_default();
    let stderr = stderr.and_then(|t| t.join().ok()).unwrap_or_default();
    let status = child
        .wait()
        .with_context(|| format!("cannot wait for {program}"))?;
    Ok(Ran {
        code: status.code(),
        stdout,
        stderr,
    })
}

/// `bin` as the job will run it: in HOME, with the job's PATH and no other environment than
/// who the user is, so nothing exported in this shell hides a setting the job would miss.
pub fn as_job(bin: &Path, path: &str) -> Command {
    let mut command = Command::new(bin);
    command.env_clear();
    for name in ["HOME", "USER", "LOGNAME"] {
        if let Some(value) = std::env::var_os(name) {
            command.env(name, value);
        }
    }
    command.env("SHELL", "/bin/sh").env("PATH", path);
    if let Some(home) = std::env::var_os("HOME") {
        command.current_dir(home);
    }
    command
}

/// A setting as the job will see it: `bin --env-file FILE config --get NAME`.
pub fn setting(bin: &Path, env_file: &Path, path: &str, name: &str) -> Result<String> {
    let ran = capture(
        as_job(bin, path)
            .arg("--env-file")
            .arg(env_file)
            .args(["config", "--get", name]),
    )?;
    if ran.code != Some(0) {
        bail!(
            "{} cannot read the settings in {}: {}",
            bin.display(),
            env_file.display(),
            ran.error_line()
        );
    }
    Ok(ran.stdout.trim_end_matches('\n').to_owned())
}

/// The job's PATH: the directories where ccusage, node and npx are now (cron's own PATH
/// finds none of them), then the system's.
pub fn job_path() -> String {
    let mut dirs: Vec<String> = Vec::new();
    for tool in ["ccusage", "node", "npx"] {
        let Some(found) = which(tool) else { continue };
        let Some(dir) = found.parent().and_then(|d| d.canonicalize().ok()) else {
            continue;
        };
        let dir = dir.display().to_string();
        if dir.contains(['\'', '%', ':', '\n', '\r']) {
            warn(&format!(
                "leaving {dir} out of the job's PATH: it holds a quote, %, : or a newline"
            ));
            continue;
        }
        if !dirs.contains(&dir) {
            dirs.push(dir);
        }
    }
    for dir in ["/usr/local/bin", "/usr/bin", "/bin"] {
        if !dirs.iter().any(|d| d == dir) {
            dirs.push(dir.into());
        }
    }
    dirs.join(":")
}

/// The importer the job runs: `--bin` (a name is looked up on PATH), else this binary.
fn resolve_bin(given: Option<&Path>) -> Result<PathBuf> {
    let bin = match given {
        Some(bin) => {
            let text = bin.to_string_lossy();
            if text.contains('/') {
                bin.to_path_buf()
            } else {
                which(&text).with_context(|| format!("--bin {text}: not found on PATH"))?
            }
        }
        None => std::env::current_exe().context("cannot tell where this binary is")?,
    };
    if !bin.is_file() {
        bail!("the importer {} does not exist", bin.display());
    }
    let bin = absolute(&bin)?;
    let ran = capture(Command::new(&bin).arg("--version"))
        .with_context(|| format!("{} --version failed: is it ccusage-import?", bin.display()))?;
    let first = ran.stdout.lines().next().unwrap_or_default();
    if !first.starts_with("ccusage-import ") {
        bail!(
            "{} does not look like ccusage-import (its --version said: {first})",
            bin.display()
        );
    }
    Ok(bin)
}

/// Which scheduler a command talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Cron,
    Systemd,
    Launchd,
}

fn unit_dir() -> Result<PathBuf> {
    Ok(config_home()?.join("systemd").join("user"))
}

fn plist_path() -> Result<PathBuf> {
    let home = std::env::var_os("HOME").context("HOME is not set")?;
    Ok(Path::new(&home)
        .join("Library/LaunchAgents")
        .join(format!("{}.plist", units::LAUNCHD_LABEL)))
}

/// What install will do, worked out before anything runs.
struct Plan {
    kind: Kind,
    job: Job,
    timing: Timing,
    name: String,
}

/// Installs the job; `Ok(false)` when it only printed it (`--print`).
pub fn install(args: &InstallArgs, file: &EnvFile) -> Result<bool, Failure> {
    // Bad --every/--schedule values are usage errors, reported before anything is looked at.
    timing::timing(args.every, args.schedule.as_deref(), "").exit_code(Exit::Usage)?;
    let kind = if args.launchd || (cfg!(target_os = "macos") && !args.systemd) {
        Kind::Launchd
    } else if args.systemd {
        Kind::Systemd
    } else {
        Kind::Cron
    };
    let plan = plan(args, file, kind).exit_code(Exit::Other)?;
    install_plan(args, &plan).exit_code(Exit::Other)
}

fn plan(args: &InstallArgs, file: &EnvFile, kind: Kind) -> Result<Plan> {
    let bin = resolve_bin(args.bin.as_deref())?;
    let env_file = job_env_file(file)?;
    let path = job_path();
    let name = setting(&bin, &env_file, &path, "MACHINE_NAME")?;
    let timing = timing::timing(args.every, args.schedule.as_deref(), &name)?;
    let no_ccusage = which("ccusage").is_none() && which("npx").is_none();
    if no_ccusage && setting(&bin, &env_file, &path, "CCUSAGE_BIN")?.is_empty() {
        warn(&format!(
            "neither ccusage nor npx is on PATH (and CCUSAGE_BIN is not set in {})",
            env_file.display()
        ));
    }
    let log = match &args.log {
        Some(log) => absolute(log)?,
        None => state_home()?.join("ccusage-import").join("cron.log"),
    };
    let job = Job {
        bin,
        env_file,
        path,
        log,
        log_max_bytes: args.log_max_kb * 1024,
    };
    Ok(Plan {
        kind,
        job,
        timing,
        name,
    })
}

fn systemd_text(plan: &Plan) -> Result<(String, String)> {
    let Some(times) = &plan.timing.times else {
        bail!(
            "--schedule '{}' cannot be turned into a timer: use --every, or a schedule of \
             numbers, ranges, lists and steps whose day, month and weekday are *",
            plan.timing.cron
        );
    };
    Ok((units::service_unit(&plan.job), units::timer_unit(times)))
}

fn print_units(service: &str, timer: &str) -> Result<()> {
    let dir = unit_dir()?;
    say(&format!(
        "# ---- {}\n{service}\n# ---- {}\n{timer}",
        dir.join(format!("{UNIT}.service")).display(),
        dir.join(format!("{UNIT}.timer")).display()
    ));
    Ok(())
}

fn install_plan(args: &InstallArgs, plan: &Plan) -> Result<bool> {
    let crontab = crontab_command();
    let have_crontab = which(&crontab).is_some();
    let mut cron_line = None;
    match plan.kind {
        Kind::Cron => {
            if !have_crontab {
                say("there is no crontab command on this machine (no cron installed).");
                if let Ok((service, timer)) = systemd_text(plan) {
                    say("this systemd user timer would run the import instead:\n");
                    print_units(&service, &timer)?;
                }
                bail!(
                    "'{crontab}' not found: install cron (e.g. sudo apt-get install cron), or \
                     run again with --systemd to install the timer above; nothing was installed"
                );
            }
            let line = units::cron_line(&plan.job, &plan.timing)?;
            if args.print {
                say(&line);
                return Ok(false);
            }
            // Fail on an unreadable crontab before spending an import on it.
            read_crontab(&crontab)?;
            cron_line = Some(line);
        }
        Kind::Systemd => {
            let (service, timer) = systemd_text(plan)?;
            if args.print {
                print_units(&service, &timer)?;
                return Ok(false);
            }
            if !cfg!(target_os = "linux") {
                bail!("--systemd: systemd user timers exist on Linux only");
            }
            which("systemctl").context("--systemd: systemctl not found")?;
        }
        Kind::Launchd => {
            let Some(times) = &plan.timing.times else {
                bail!(
                    "--schedule '{}' cannot be said to launchd: use --every, or a schedule \
                     whose day, month and weekday are *",
                    plan.timing.cron
                );
            };
            if args.print {
                say(&format!(
                    "# ---- {}\n{}",
                    plist_path()?.display(),
                    units::plist(&plan.job, times)
                ));
                return Ok(false);
            }
            if !cfg!(target_os = "macos") {
                bail!("--launchd: launchd agents exist on macOS only (--print shows the plist)");
            }
        }
    }
    if let Some(dir) = plan.job.log.parent() {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create the log directory {}", dir.display()))?;
    }
    if !args.no_test_import {
        test_import(&plan.job)?;
    }
    match plan.kind {
        Kind::Cron => {
            let line = cron_line.expect("set above for cron");
            // Read again: it may have changed during the import.
            let current = read_crontab(&crontab)?;
            let replaced = current.lines().any(units::is_ours);
            let mut next: String = current
                .lines()
                .filter(|l| !units::is_ours(l))
                .map(|l| format!("{l}\n"))
                .collect();
            next.push_str(&line);
            next.push('\n');
            write_crontab(&crontab, &next)?;
            if remove_systemd_units()? {
                say("removed the systemd user timer (the crontab entry replaces it)");
            }
            let verb = if replaced { "replaced" } else { "installed" };
            say(&format!(
                "{verb} the crontab entry (schedule: {}, machine: {})",
                plan.timing.cron, plan.name
            ));
        }
        Kind::Systemd => {
            install_systemd(plan)?;
            if have_crontab {
                let current = read_crontab(&crontab)?;
                if current.lines().any(units::is_ours) {
                    write_crontab(&crontab, &others(&current))?;
                    say("removed the crontab entry (the timer replaces it)");
                }
            }
        }
        Kind::Launchd => install_launchd(plan)?,
    }
    say(&format!(
        "log: {} (see: ccusage-import schedule status)",
        plan.job.log.display()
    ));
    Ok(true)
}

fn others(crontab: &str) -> String {
    crontab
        .lines()
        .filter(|l| !units::is_ours(l))
        .map(|l| format!("{l}\n"))
        .collect()
}

/// Runs one import exactly as the job will; its failure installs nothing.
fn test_import(job: &Job) -> Result<()> {
    say(&format!(
        "running one import as the job will: {} --quiet --env-file {}",
        job.bin.display(),
        job.env_file.display()
    ));
    let ran = capture(
        as_job(&job.bin, &job.path)
            .arg("--quiet")
            .arg("--env-file")
            .arg(&job.env_file),
    )?;
    let output = format!("{}{}", ran.stdout, ran.stderr);
    for line in output.lines() {
        say(&format!("  {line}"));
    }
    if ran.code != Some(0) {
        let why = match ran.code {
            Some(2) => "bad usage or configuration",
            Some(3) => "ClickHouse failed",
            Some(4) => "a ccusage report failed",
            _ => "see its output above",
        };
        let code = ran.code.map_or("a signal".into(), |c| c.to_string());
        bail!("the test import failed (exit {code}: {why}); nothing was installed");
    }
    // The log starts with this run, so that status has something to show right away.
    let entry = format!(
        "{}\n{output}",
        chrono::Utc::now().format("%a %b %e %T UTC %Y")
    );
    let appended = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&job.log)
        .and_then(|mut f| std::io::Write::write_all(&mut f, entry.as_bytes()));
    if appended.is_err() {
        warn(&format!("cannot write the log {}", job.log.display()));
    }
    Ok(())
}

/// The user's crontab (empty when there is none).
fn read_crontab(crontab: &str) -> Result<String> {
    let ran = capture(Command::new(crontab).arg("-l"))?;
    if ran.code == Some(0) {
        return Ok(ran.stdout);
    }
    if ran.stderr.to_lowercase().contains("no crontab") {
        return Ok(String::new());
    }
    bail!("{crontab} -l failed: {}", ran.error_line())
}

fn write_crontab(crontab: &str, text: &str) -> Result<()> {
    let mut file = tempfile::NamedTempFile::new().context("cannot create a temporary file")?;
    std::io::Write::write_all(&mut file, text.as_bytes())
        .context("cannot write a temporary file")?;
    let ran = capture(Command::new(crontab).arg(file.path()))?;
    if ran.code != Some(0) {
        bail!(
            "{crontab} could not install the new crontab: {}",
            ran.error_line()
        );
    }
    Ok(())
}

fn systemctl(args: &[&str]) -> Result<Ran> {
    capture(Command::new("systemctl").arg("--user").args(args))
}

fn install_systemd(plan: &Plan) -> Result<()> {
    let (service, timer) = systemd_text(plan)?;
    let dir = unit_dir()?;
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let service_file = dir.join(format!("{UNIT}.service"));
    let timer_file = dir.join(format!("{UNIT}.timer"));
    write_atomically(&service_file, &service)?;
    write_atomically(&timer_file, &timer)?;
    let enabled = systemctl(&["daemon-reload"]).and_then(|r| {
        let timer = format!("{UNIT}.timer");
        match r.code {
            Some(0) => systemctl(&["enable", "--now", &timer]),
            _ => Ok(r),
        }
    });
    match enabled {
        Ok(ran) if ran.code == Some(0) => {}
        failed => {
            let why = match failed {
                Ok(ran) => ran.error_line(),
                Err(e) => format!("{e:#}"),
            };
            let _ = std::fs::remove_file(&service_file);
            let _ = std::fs::remove_file(&timer_file);
            let _ = systemctl(&["daemon-reload"]);
            bail!("systemctl --user could not enable {UNIT}.timer ({why}); nothing was installed");
        }
    }
    say(&format!(
        "installed the systemd user timer {} (OnCalendar={})",
        timer_file.display(),
        plan.timing
            .times
            .as_ref()
            .map(|t| t.calendar())
            .unwrap_or_default()
    ));
    if let Some(user) = std::env::var_os("USER") {
        let linger = capture(
            Command::new("loginctl")
                .arg("show-user")
                .arg(user)
                .args(["-p", "Linger"]),
        );
        if linger.is_ok_and(|r| r.stdout.trim() == "Linger=no") {
            say(
                "note: user timers run only while you are logged in; `loginctl enable-linger` \
                 makes them run always",
            );
        }
    }
    Ok(())
}

fn write_atomically(path: &Path, text: &str) -> Result<()> {
    let dir = path.parent().context("a file without a directory")?;
    let mut file = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("cannot write in {}", dir.display()))?;
    std::io::Write::write_all(&mut file, text.as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))?;
    file.persist(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

/// Removes our systemd units; `Ok(false)` when there were none.
fn remove_systemd_units() -> Result<bool> {
    let dir = unit_dir()?;
    let files = [
        dir.join(format!("{UNIT}.service")),
        dir.join(format!("{UNIT}.timer")),
    ];
    if !files.iter().any(|f| f.exists()) {
        return Ok(false);
    }
    if which("systemctl").is_some() {
        let _ = systemctl(&["disable", "--now", &format!("{UNIT}.timer")]);
    }
    for file in &files {
        if file.exists() {
            std::fs::remove_file(file)
                .with_context(|| format!("cannot remove {}", file.display()))?;
        }
    }
    if which("systemctl").is_some() {
        let _ = systemctl(&["daemon-reload"]);
    }
    Ok(true)
}

fn launchd_domain() -> String {
    // SAFETY: getuid has no preconditions and cannot fail.
    format!("gui/{}", unsafe { libc::getuid() })
}

fn install_launchd(plan: &Plan) -> Result<()> {
    let times = plan.timing.times.as_ref().context("checked before")?;
    let path = plist_path()?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let domain = launchd_domain();
    // Unload the old agent (if any) so the new one's times count.
    let _ = capture(
        Command::new("launchctl")
            .args(["bootout", &domain])
            .arg(&path),
    );
    write_atomically(&path, &units::plist(&plan.job, times))?;
    let ran = capture(
        Command::new("launchctl")
            .args(["bootstrap", &domain])
            .arg(&path),
    )?;
    if ran.code != Some(0) {
        let _ = std::fs::remove_file(&path);
        bail!(
            "launchctl could not load {} ({}); nothing was installed",
            path.display(),
            ran.error_line()
        );
    }
    say(&format!("installed the launchd agent {}", path.display()));
    Ok(())
}

fn remove_launchd() -> Result<bool> {
    let path = plist_path()?;
    if !path.exists() {
        return Ok(false);
    }
    if which("launchctl").is_some() {
        let _ = capture(
            Command::new("launchctl")
                .args(["bootout", &launchd_domain()])
                .arg(&path),
        );
    }
    std::fs::remove_file(&path).with_context(|| format!("cannot remove {}", path.display()))?;
    Ok(true)
}

pub fn uninstall() -> Result<()> {
    let mut did = false;
    let crontab = crontab_command();
    if which(&crontab).is_some() {
        let current = read_crontab(&crontab)?;
        if let Some(ours) = current.lines().find(|l| units::is_ours(l)) {
            let log = units::parse_cron_line(ours).log;
            write_crontab(&crontab, &others(&current))?;
            let stays = log
                .map(|l| format!(" (its log stays in {})", l.display()))
                .unwrap_or_default();
            say(&format!("removed the crontab entry{stays}"));
            did = true;
        }
    }
    if remove_systemd_units()? {
        say("removed the systemd user timer");
        did = true;
    }
    if remove_launchd()? {
        say("removed the launchd agent");
        did = true;
    }
    if !did {
        say("nothing to remove: no job of ccusage-import is installed");
    }
    Ok(())
}

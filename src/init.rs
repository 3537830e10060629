//! `ccusage-import init`: a machine joins the fleet. Asks for the fleet's ClickHouse (or
//! takes the flags), checks the connection and the schema as `--verify` does BEFORE writing
//! anything, writes the settings file (mode 600, the password never shown), installs the
//! hourly job and runs the first import. It never starts a server.

use std::io::{BufRead as _, IsTerminal as _, Read as _, Write as _};
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context as _, Result};

use crate::cli_machine::{InitArgs, InstallArgs};
use crate::config::{Config, Source};
use crate::envfile::EnvFile;
use crate::exit::{Exit, ExitContext as _, Failure};
use crate::settings::Setting;
use crate::sink::{self, ClickHouse, Secret};

/// The answers, as they will be written.
struct Answers {
    url: String,
    user: String,
    password: String,
    database: String,
    machine: String,
}

/// The keys init writes; lines of these in an existing file are replaced, others kept.
/// CH_HOST, CH_PORT and CH_SECURE go too: CH_URL says all three.
const WRITTEN: &[&str] = &[
    "CH_URL",
    "CH_HOST",
    "CH_PORT",
    "CH_SECURE",
    "CH_USER",
    "CH_PASSWORD",
    "CH_DATABASE",
    "MACHINE_NAME",
];
/// Taken from this shell when set, since the job sees only the file.
const CARRIED: &[&str] = &["CLAUDE_CONFIG_DIR", "CCUSAGE_BIN"];

fn say(text: &str) {
    let _ = crate::log::stdout(&format!("{text}\n"));
}

pub async fn run(
    args: &InitArgs,
    config: &Config,
    settings: &[Setting],
    file: &EnvFile,
) -> Result<Exit, Failure> {
    let target = target_file(settings).exit_code(Exit::Usage)?;
    let interactive = !args.yes;
    if interactive && !std::io::stdin().is_terminal() {
        return Err(Failure {
            exit: Exit::Usage,
            error: anyhow!(
                "init asks its questions on a terminal: pass --yes with --ch-url, --ch-user, \
                 --ch-database and --machine-name (the password in CH_PASSWORD) instead"
            ),
        });
    }
    let ch = &config.clickhouse;
    let mut answers = Answers {
        url: ch.url.clone(),
        user: ch.user.clone(),
        password: ch.password.expose().to_owned(),
        database: ch.database.clone(),
        machine: config.machine_name.clone(),
    };
    if interactive {
        ask_all(&mut answers).exit_code(Exit::Other)?;
    }
    let urls = endpoints(&answers.url).exit_code(Exit::Usage)?;
    crate::config::check_machine_name(&answers.machine).exit_code(Exit::Usage)?;
    let clickhouse = ClickHouse {
        url: urls.join(","),
        urls,
        cluster: ch.cluster.clone(),
        user: answers.user.clone(),
        password: Secret::new(answers.password.clone()),
        database: answers.database.clone(),
        // The rest (timeouts, retries, a private CA, …) as this command was configured.
        ..ch.clone()
    };
    answers.url = clickhouse.url.clone();
    check(&clickhouse).await?;
    write_settings(&target, &answers, file).exit_code(Exit::Other)?;
    say(&format!(
        "wrote {} (mode 600): CH_URL={}, CH_USER={}, CH_PASSWORD={}, CH_DATABASE={}, \
         MACHINE_NAME={}",
        target.display(),
        answers.url,
        answers.user,
        if answers.password.is_empty() {
            "(none)"
        } else {
            "***"
        },
        answers.database,
        answers.machine
    ));
    // A command run here without --env-file reads the first file it finds; when that is not
    // the one just written (a ./.env in this directory, CCUSAGE_IMPORT_ENV_FILE), say so, or
    // `config`, `query` and a plain import here would quietly use other settings.
    if let Some(first) = crate::envfile::discover(None) {
        let same = |p: &Path| std::fs::canonicalize(p).ok();
        if same(&first) != same(&target) {
            crate::log::emit(&format!(
                "ccusage-import: warning: commands run in this directory read {} before {}: \
                 remove or rename it (or unset CCUSAGE_IMPORT_ENV_FILE), or give --env-file {1}\n",
                first.display(),
                target.display()
            ));
        }
    }
    let written = EnvFile {
        path: Some(target.clone()),
        ..EnvFile::default()
    };
    let mut scheduled = true;
    if !args.no_schedule {
        let install = InstallArgs {
            bin: None,
            every: None,
            schedule: None,
            log: None,
            log_max_kb: 1024,
            systemd: false,
            launchd: false,
            print: false,
            // The first import below is the test.
            no_test_import: true,
        };
        if let Err(failure) = crate::schedule::install(&install, &written) {
            scheduled = false;
            crate::log::emit(&format!(
                "ccusage-import: warning: the hourly job was not installed: {failure}; install \
                 it later with `ccusage-import schedule install`\n"
            ));
        }
    }
    if args.no_import {
        say("no import run (--no-import): run `ccusage-import` to import now");
        return Ok(Exit::Ok);
    }
    let exit = first_import(&target).exit_code(Exit::Other)?;
    match exit {
        Exit::Ok if !scheduled => Err(Failure {
            exit: Exit::Other,
            error: anyhow!("joined and imported, but the hourly job is not installed (see above)"),
        }),
        Exit::Ok => Ok(Exit::Ok),
        exit => Err(Failure {
            exit,
            error: anyhow!(
                "the first import failed (see above); the settings are written: fix what it \
                 says and run `ccusage-import`"
            ),
        }),
    }
}

/// `--env-file` (or `CCUSAGE_IMPORT_ENV_FILE`) when given, else the XDG settings file.
fn target_file(settings: &[Setting]) -> Result<PathBuf> {
    let given = settings
        .iter()
        .find(|s| s.name == "CCUSAGE_IMPORT_ENV_FILE")
        .filter(|s| matches!(s.source, Source::Flag | Source::Environment))
        .and_then(|s| s.value.clone());
    let path = match given {
        Some(path) => PathBuf::from(path),
        None => crate::schedule::default_env_file()?,
    };
    if path.is_absolute() {
        return Ok(path);
    }
    Ok(std::env::current_dir()
        .context("cannot read the current directory")?
        .join(path))
}

fn endpoints(answer: &str) -> Result<Vec<String>> {
    if answer.contains("://") {
        crate::config::endpoints(Some(answer), "", None, false)
    } else {
        crate::config::endpoints(None, answer, None, false)
    }
}

fn ask_all(answers: &mut Answers) -> Result<()> {
    eprintln!("Join this machine to a fleet's ClickHouse (Enter keeps the value in brackets).");
    answers.url = ask(
        "ClickHouse URL or host (https://host:8443, host:8123)",
        &answers.url,
    )?;
    answers.user = ask("ClickHouse user", &answers.user)?;
    let hint = if answers.password.is_empty() {
        "none"
    } else {
        "keep"
    };
    let password = ask_password(&format!("ClickHouse password [{hint}]: "))?;
    if !password.is_empty() {
        answers.password = password;
        crate::log::set_secret(&answers.password);
    }
    answers.database = ask("Database", &answers.database)?;
    answers.machine = ask("This machine's name", &answers.machine)?;
    Ok(())
}

/// One line from the terminal, at most 4 KiB.
fn read_line() -> Result<String> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .take(4096)
        .read_line(&mut line)
        .context("cannot read the answer")?;
    if line.is_empty() {
        bail!("no answer (end of input): nothing was written");
    }
    Ok(line.trim().to_owned())
}

fn ask(question: &str, current: &str) -> Result<String> {
    eprint!("{question} [{current}]: ");
    let _ = std::io::stderr().flush();
    let answer = read_line()?;
    Ok(if answer.is_empty() {
        current.to_owned()
    } else {
        answer
    })
}

/// Reads the password with the terminal's echo off, so it never shows on the screen.
fn ask_password(prompt: &str) -> Result<String> {
    eprint!("{prompt}");
    let _ = std::io::stderr().flush();
    // SAFETY: termios of stdin, a plain struct filled by tcgetattr; restored below.
    let mut term: libc::termios = unsafe { std::mem::zeroed() };
    let saved = (unsafe { libc::tcgetattr(0, &mut term) } == 0).then_some(term);
    if let Some(saved) = saved {
        let mut quiet = saved;
        quiet.c_lflag &= !libc::ECHO;
        // SAFETY: as above.
        unsafe { libc::tcsetattr(0, libc::TCSANOW, &quiet) };
    }
    let answer = read_line();
    if let Some(saved) = saved {
        // SAFETY: as above.
        unsafe { libc::tcsetattr(0, libc::TCSANOW, &saved) };
        eprintln!();
    }
    answer
}

/// Connects and runs `--verify`'s checks; a check a person must fix (a refused login, no
/// write access, a column of another type) stops init before anything is written, a
/// missing schema does not (the first import creates it).
async fn check(clickhouse: &ClickHouse) -> Result<(), Failure> {
    let nothing = "nothing was written";
    let mut sink = sink::Sink::connect(clickhouse).await.map_err(|e| Failure {
        exit: Exit::ClickHouse,
        error: e.context(format!(
            "cannot use the ClickHouse at {} as user {}; {nothing}",
            clickhouse.url, clickhouse.user
        )),
    })?;
    let checks = sink::verify::run(&mut sink).await;
    let mut text = String::new();
    for check in &checks {
        // What the first import creates or repairs is a step still to come, not a failure.
        let mark = match (check.ok, check.repairable) {
            (true, _) => "ok  ",
            (false, true) => "todo",
            (false, false) => "FAIL",
        };
        text.push_str(&format!("{mark} {}: {}\n", check.what, check.detail));
    }
    crate::log::stdout(&text).exit_code(Exit::Other)?;
    if checks.iter().any(|c| !c.ok && !c.repairable) {
        return Err(Failure {
            exit: Exit::ClickHouse,
            error: anyhow!(
                "the server at {} is not ready for this machine: fix the lines marked FAIL; \
                 {nothing}",
                clickhouse.url
            ),
        });
    }
    if checks.iter().any(|c| !c.ok) {
        say("the first import creates or repairs the schema (it needs a user allowed DDL)");
    }
    Ok(())
}

/// A value as the settings file reads it back exactly (`src/envfile.rs`).
fn quoted(value: &str) -> String {
    let mut out = String::from("\"");
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '$' => out.push_str("\\$"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The file's new text: the answers, what the job needs from this shell, and the lines of an
/// existing file that set anything else, as they were.
fn settings_text(answers: &Answers, old: &str, carried: &[(String, String)]) -> String {
    let mut text = format!(
        "# Written by `ccusage-import init`; `ccusage-import config` shows every setting.\n\
         CH_URL={}\nCH_USER={}\nCH_PASSWORD={}\nCH_DATABASE={}\nMACHINE_NAME={}\n",
        quoted(&answers.url),
        quoted(&answers.user),
        quoted(&answers.password),
        quoted(&answers.database),
        quoted(&answers.machine),
    );
    let key_of = |line: &str| -> Option<String> {
        let line = line.trim_start();
        let line = line.strip_prefix("export ").unwrap_or(line);
        Some(line.split_once('=')?.0.trim().to_owned())
    };
    let mut kept: Vec<String> = Vec::new();
    for line in old.lines() {
        if line.starts_with("# Written by `ccusage-import init`") {
            continue;
        }
        match key_of(line) {
            Some(key) if WRITTEN.contains(&key.as_str()) => {}
            Some(key) if carried.iter().any(|(k, _)| *k == key) => {}
            _ => kept.push(line.to_owned()),
        }
    }
    for (key, value) in carried {
        text.push_str(&format!("{key}={}\n", quoted(value)));
    }
    for line in kept {
        text.push_str(&line);
        text.push('\n');
    }
    text
}

fn write_settings(target: &Path, answers: &Answers, file: &EnvFile) -> Result<()> {
    use std::os::unix::fs::{DirBuilderExt as _, PermissionsExt as _};
    let dir = target
        .parent()
        .context("the settings file has no directory")?;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .with_context(|| format!("cannot create {}", dir.display()))?;
    let old = if target.exists() {
        let mut text = String::new();
        std::fs::File::open(target)
            .and_then(|f| f.take(crate::envfile::MAX_BYTES).read_to_string(&mut text))
            .with_context(|| format!("cannot read {}", target.display()))?;
        text
    } else {
        String::new()
    };
    // What the shell (not the file being replaced) says the job needs.
    let carried: Vec<(String, String)> = CARRIED
        .iter()
        .filter(|key| !file.entries.iter().any(|e| e.key == **key))
        .filter_map(|key| Some(((*key).to_owned(), std::env::var(key).ok()?)))
        .filter(|(_, v)| !v.is_empty())
        .collect();
    let text = settings_text(answers, &old, &carried);
    // A temporary file of mode 600 in the same directory, renamed over: never a moment where
    // the password is readable by others or the file half-written.
    let mut temp = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("cannot write in {}", dir.display()))?;
    temp.as_file()
        .set_permissions(std::fs::Permissions::from_mode(0o600))
        .context("cannot make the settings file private")?;
    temp.write_all(text.as_bytes())
        .with_context(|| format!("cannot write {}", target.display()))?;
    temp.persist(target)
        .with_context(|| format!("cannot write {}", target.display()))?;
    Ok(())
}

/// The first import, run as the hourly job runs it (the written file, the job's PATH, no
/// other environment), its summary shown here.
fn first_import(target: &Path) -> Result<Exit> {
    let bin = std::env::current_exe().context("cannot tell where this binary is")?;
    say(&format!(
        "first import: {} --env-file {}",
        bin.display(),
        target.display()
    ));
    let status = crate::schedule::as_job(&bin, &crate::schedule::job_path())
        .arg("--env-file")
        .arg(target)
        .stdin(std::process::Stdio::null())
        .status()
        .context("cannot run the first import")?;
    Ok(match status.code() {
        Some(0) => Exit::Ok,
        Some(2) => Exit::Usage,
        Some(3) => Exit::ClickHouse,
        Some(4) => Exit::Reports,
        Some(5) => Exit::Locked,
        _ => Exit::Other,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_settings_file_reads_back_and_keeps_other_lines() {
        let answers = Answers {
            url: "https://ch.example:8443".into(),
            user: "alice".into(),
            password: "p\"a$s\\w #rd".into(),
            database: "ccusage".into(),
            machine: "o'neil laptop".into(),
        };
        let old = "# mine\nCH_HOST=localhost\nexport CH_PORT=8123\nCCUSAGE_TIMEOUT=60\n\
                   CLAUDE_CONFIG_DIR=/old\n";
        let carried = vec![("CLAUDE_CONFIG_DIR".to_owned(), "/new logs".to_owned())];
        let text = settings_text(&answers, old, &carried);
        let read = crate::envfile::parse(&text).unwrap();
        let get = |k: &str| {
            read.iter()
                .find(|entry| entry.key == k)
                .map(|entry| entry.value.as_str())
        };
        assert_eq!(get("CH_URL"), Some("https://ch.example:8443"));
        assert_eq!(get("CH_PASSWORD"), Some("p\"a$s\\w #rd"));
        assert_eq!(get("MACHINE_NAME"), Some("o'neil laptop"));
        assert_eq!(get("CLAUDE_CONFIG_DIR"), Some("/new logs"));
        assert_eq!(get("CCUSAGE_TIMEOUT"), Some("60"));
        assert_eq!(get("CH_HOST"), None);
        assert_eq!(get("CH_PORT"), None);
        assert!(text.contains("# mine\n"));
        // Written again over itself: the same text.
        assert_eq!(settings_text(&answers, &text, &carried), text);
    }
}

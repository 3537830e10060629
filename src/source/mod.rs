//! Source: finds ccusage, asks its version, and runs the reports as child processes.
//!
//! Each report runs in its own process group with a timeout and an output limit, so a hung
//! `npx` wrapper or a runaway child is killed with everything it started.

mod command;

use std::fmt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::{bail, Context as _, Result};
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::process::Command;

pub use crate::run::ReportKind;
pub use command::{CommandSet, NEWEST_TESTED_MAJOR, OLDEST_SUPPORTED_MAJOR};

/// The version ccusage-import falls back to through npx, and tests against.
pub const PINNED_CCUSAGE: &str = "20.0.24";

/// How many bytes of a failed report's output the error message quotes.
const OUTPUT_QUOTE_BYTES: usize = 300;

/// How to start ccusage: the program and the arguments that come before the report's own.
#[derive(Debug, Clone)]
pub struct Launcher {
    pub program: PathBuf,
    pub prefix: Vec<String>,
    /// Set in each report's environment: what the settings file passes on to ccusage.
    pub env: Vec<(String, String)>,
}

impl Launcher {
    /// `--ccusage-bin` / `CCUSAGE_BIN`, else `ccusage` on PATH, else `npx --yes ccusage@PIN`.
    pub fn locate(explicit: Option<&Path>) -> Result<Self> {
        if let Some(path) = explicit {
            return Ok(Launcher::direct(path.to_path_buf()));
        }
        if let Some(path) = find_on_path("ccusage") {
            return Ok(Launcher::direct(path));
        }
        if let Some(npx) = find_on_path("npx") {
            return Ok(Launcher {
                program: npx,
                prefix: vec!["--yes".into(), format!("ccusage@{PINNED_CCUSAGE}")],
                env: Vec::new(),
            });
        }
        bail!(
            "ccusage was not found: install it (npm install -g ccusage@{PINNED_CCUSAGE}) \
             or name it with --ccusage-bin"
        )
    }

    fn direct(program: PathBuf) -> Self {
        Launcher {
            program,
            prefix: Vec::new(),
            env: Vec::new(),
        }
    }

    fn command(&self, args: &[String]) -> Command {
        let mut command = Command::new(&self.program);
        command.args(&self.prefix).args(args);
        command
    }

    /// The command line as a person would type it, for messages.
    pub fn display(&self, args: &[String]) -> String {
        let mut words = vec![self.program.display().to_string()];
        words.extend(self.prefix.iter().cloned());
        words.extend(args.iter().cloned());
        words.join(" ")
    }
}

fn find_on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| is_executable(candidate))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

/// `MemAvailable` from /proc/meminfo, in bytes; `None` where it cannot be read.
pub fn available_memory() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// A parsed `major.minor.patch`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Version {
    pub major: u32,
    pub minor: u32,
    pub patch: u32,
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

impl Version {
    /// Finds the version in `ccusage --version` output: `18.0.11` on old versions,
    /// `ccusage 20.0.24` on new ones.
    pub fn find_in(text: &str) -> Option<Version> {
        text.split(|c: char| c.is_whitespace() || c == 'v')
            .find_map(|word| {
                let mut parts = word.trim().splitn(3, '.');
                let major = parts.next()?.parse().ok()?;
                let minor = parts.next()?.parse().ok()?;
                let patch_text = parts.next()?;
                let digits: String = patch_text
                    .chars()
                    .take_while(char::is_ascii_digit)
                    .collect();
                Some(Version {
                    major,
                    minor,
                    patch: digits.parse().ok()?,
                })
            })
    }
}

/// Limits that apply to every child process.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub timeout: Duration,
    pub max_output: u64,
}

/// What a report printed.
#[derive(Debug)]
pub struct Output {
    pub stdout: Vec<u8>,
}

/// Why a report failed; the message is one line naming the cause and what to do.
#[derive(Debug)]
pub struct RunError {
    pub command_line: String,
    pub cause: String,
}

impl fmt::Display for RunError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (command: {})", self.cause, self.command_line)
    }
}

/// Asks ccusage for its version.
pub async fn version(launcher: &Launcher, limits: Limits) -> Result<Version> {
    let args = vec!["--version".to_owned()];
    let output = run(launcher, &args, limits)
        .await
        .map_err(|e| anyhow::anyhow!("could not ask ccusage for its version: {e}"))?;
    let text = String::from_utf8_lossy(&output.stdout);
    Version::find_in(&text).with_context(|| {
        format!(
            "`{}` printed no version number (it printed: {})",
            launcher.display(&args),
            quote(&output.stdout)
        )
    })
}

/// How much of a report's stderr is kept for its error message: the end, where the cause is.
/// All of it is read, so a report that writes a lot there never blocks on a full pipe.
const STDERR_TAIL_BYTES: usize = 64 * 1024;

/// How long the output pipes may stay open after the report itself exited: a grandchild it
/// left behind may hold them, and the report is judged by its own exit, not by that.
const PIPE_GRACE: Duration = Duration::from_secs(1);

/// Settings of ccusage-import itself, which ccusage has no use for; the password among them.
/// Children start without any of them.
pub fn is_own_setting(name: &str) -> bool {
    const OWN: [&str; 5] = [
        "MACHINE_NAME",
        "CCUSAGE_BIN",
        "CCUSAGE_TIMEOUT",
        "CCUSAGE_MAX_OUTPUT",
        "CCUSAGE_JOBS",
    ];
    name.starts_with("CH_") || name.starts_with("CCUSAGE_IMPORT_") || OWN.contains(&name)
}

/// The child's environment is ours minus our own settings, plus what the settings file
/// passes on to it (already without our own settings: `Config::with_file`).
fn child_environment(command: &mut Command, passed_on: &[(String, String)]) {
    for (name, _) in std::env::vars_os() {
        if name.to_str().is_some_and(is_own_setting) {
            command.env_remove(name);
        }
    }
    command.envs(passed_on.iter().map(|(k, v)| (k, v)));
}

/// What a report wrote, read while it runs.
#[derive(Default)]
struct Captured {
    stdout: Vec<u8>,
    /// The last [`STDERR_TAIL_BYTES`] (up to twice that while reading).
    stderr: Vec<u8>,
    stderr_total: u64,
    /// Set when stdout went past `--max-output`.
    overflow: bool,
}

/// Runs ccusage with `args`; fails on a non-zero exit, a timeout, or too much output.
pub async fn run(launcher: &Launcher, args: &[String], limits: Limits) -> Result<Output, RunError> {
    let command_line = launcher.display(args);
    crate::log::verbose!("run {command_line}");
    let started = std::time::Instant::now();
    let fail = |cause: String| RunError {
        command_line: command_line.clone(),
        cause,
    };
    let mut command = launcher.command(args);
    child_environment(&mut command, &launcher.env);
    command
        .env("TZ", "UTC")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true);
    die_with_parent(&mut command);
    let mut child = command.spawn().map_err(|e| {
        fail(match e.kind() {
            std::io::ErrorKind::NotFound => format!(
                "{} does not exist: install ccusage or fix --ccusage-bin",
                launcher.program.display()
            ),
            std::io::ErrorKind::PermissionDenied => format!(
                "{} is not executable: chmod +x it or fix --ccusage-bin",
                launcher.program.display()
            ),
            _ => format!("could not start {}: {e}", launcher.program.display()),
        })
    })?;
    let group = GroupKiller(child.id());
    let mut captured = Captured::default();
    let work = collect(&mut child, &group, limits.max_output, &mut captured);
    let (read, status) = match tokio::time::timeout(limits.timeout, work).await {
        Ok(done) => done,
        Err(_) => {
            return Err(fail(format!(
                "timed out after {} s and was killed: raise --timeout if ccusage needs longer",
                limits.timeout.as_secs()
            )))
        }
    };
    if captured.overflow {
        return Err(fail(format!(
            "printed more than {} bytes and was killed: raise --max-output",
            limits.max_output
        )));
    }
    read.map_err(|e| fail(format!("could not read its output: {e}")))?;
    let status = status.map_err(|e| fail(format!("could not wait for it: {e}")))?;
    drop(group);
    crate::log::verbose!(
        "{command_line}: {} ms, {} bytes of output",
        started.elapsed().as_millis(),
        captured.stdout.len()
    );
    if !status.success() {
        let how = match (
            status.code(),
            std::os::unix::process::ExitStatusExt::signal(&status),
        ) {
            (Some(code), _) => format!("exited with code {code}"),
            (None, Some(signal)) => format!("was killed by signal {signal}"),
            (None, None) => "failed".to_owned(),
        };
        return Err(fail(format!("{how}; {}", what_it_said(&captured))));
    }
    Ok(Output {
        stdout: captured.stdout,
    })
}

/// Reads both pipes to the end while waiting for the report, and returns how reading went and
/// how the report exited. A report is judged by its own exit: when it ends with its pipes
/// still held (by a grandchild), they get [`PIPE_GRACE`], then its group is killed and what
/// was written is taken.
async fn collect(
    child: &mut tokio::process::Child,
    group: &GroupKiller,
    max_output: u64,
    captured: &mut Captured,
) -> (
    std::io::Result<()>,
    std::io::Result<std::process::ExitStatus>,
) {
    let stdout = child.stdout.take().expect("stdout is piped");
    let stderr = child.stderr.take().expect("stderr is piped");
    let Captured {
        stdout: out_buf,
        stderr: err_buf,
        stderr_total,
        overflow,
    } = captured;
    let reading = async {
        let (out, err) = tokio::join!(
            async {
                let within = read_limited(stdout, out_buf, max_output).await;
                if matches!(within, Ok(false)) {
                    // Over the limit: kill now, or a report that keeps running (or a
                    // grandchild holding stderr) would only end at the timeout.
                    *overflow = true;
                    group.kill();
                }
                within
            },
            read_tail(stderr, err_buf, stderr_total)
        );
        out.map(|_| ()).and(err)
    };
    tokio::pin!(reading);
    let (read, status) = tokio::select! {
        read = &mut reading => (Some(read), child.wait().await),
        status = child.wait() => (None, status),
    };
    let read = match read {
        Some(read) => read,
        None => match tokio::time::timeout(PIPE_GRACE, &mut reading).await {
            Ok(read) => read,
            Err(_) => {
                group.kill();
                tokio::time::timeout(PIPE_GRACE, &mut reading)
                    .await
                    .unwrap_or(Ok(()))
            }
        },
    };
    (read, status)
}

/// The part of a failed report's output that names the cause: stderr, or stdout when stderr
/// is empty; the end of stderr when it was too long to keep whole.
fn what_it_said(captured: &Captured) -> String {
    let stderr = &captured.stderr;
    if !stderr.iter().any(|b| !b.is_ascii_whitespace()) {
        return format!("it printed: {}", quote(&captured.stdout));
    }
    if captured.stderr_total <= STDERR_TAIL_BYTES as u64 {
        return format!("it printed: {}", quote(stderr));
    }
    let tail = &stderr[stderr.len().saturating_sub(STDERR_TAIL_BYTES)..];
    format!(
        "it wrote {} bytes to stderr, ending: {}",
        captured.stderr_total,
        quote_tail(tail)
    )
}

/// On Linux, the report is killed when the importer dies, even by SIGKILL, which leaves no
/// chance to kill its process group.
fn die_with_parent(command: &mut Command) {
    #[cfg(target_os = "linux")]
    {
        let parent = std::process::id();
        // SAFETY: the closure runs in the forked child before exec and only makes two
        // async-signal-safe system calls.
        unsafe {
            command.pre_exec(move || {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                // The importer may have died between fork and prctl: then nobody would kill us.
                if libc::getppid() as u32 != parent {
                    libc::_exit(1);
                }
                Ok(())
            });
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = command;
}

/// Reads everything into `bytes`; `false` as soon as more than `limit` bytes arrive.
async fn read_limited(
    mut reader: impl AsyncRead + Unpin,
    bytes: &mut Vec<u8>,
    limit: u64,
) -> std::io::Result<bool> {
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        let n = reader.read(&mut chunk).await?;
        if n == 0 {
            return Ok(true);
        }
        if bytes.len() as u64 + n as u64 > limit {
            return Ok(false);
        }
        bytes.extend_from_slice(&chunk[..n]);
    }
}

/// Reads to the end, keeping the last [`STDERR_TAIL_BYTES`] (and counting all).
async fn read_tail(
    mut reader: impl AsyncRead + Unpin,
    tail: &mut Vec<u8>,
    total: &mut u64,
) -> std::io::Result<()> {
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        let n = reader.read(&mut chunk).await?;
        if n == 0 {
            return Ok(());
        }
        *total += n as u64;
        tail.extend_from_slice(&chunk[..n]);
        if tail.len() > 2 * STDERR_TAIL_BYTES {
            tail.drain(..tail.len() - STDERR_TAIL_BYTES);
        }
    }
}

/// Kills the child's whole process group when dropped: on success that is a no-op (the group
/// is gone), on timeout, output overflow or Ctrl-C it takes grandchildren (npx → node) along.
struct GroupKiller(Option<u32>);

impl GroupKiller {
    fn kill(&self) {
        if let Some(pid) = self.0 {
            // SAFETY: killpg only sends a signal; the group id is the child's own pid because
            // it was spawned with process_group(0).
            unsafe {
                libc::killpg(pid as libc::pid_t, libc::SIGKILL);
            }
        }
    }
}

impl Drop for GroupKiller {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Some output on one line, control characters gone.
fn one_line(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes)
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// The end of some output, on one line, for an error message.
fn quote_tail(bytes: &[u8]) -> String {
    let line = one_line(bytes);
    let chars: Vec<char> = line.chars().collect();
    let keep = chars.len().saturating_sub(OUTPUT_QUOTE_BYTES / 2);
    let end: String = chars[keep..].iter().collect();
    format!("\"…{end}\"")
}

/// The start of some output, on one line, for an error message.
pub fn quote(bytes: &[u8]) -> String {
    let mut one_line = one_line(bytes);
    if one_line.is_empty() {
        return "nothing".to_owned();
    }
    if one_line.len() > OUTPUT_QUOTE_BYTES {
        let mut end = OUTPUT_QUOTE_BYTES;
        while !one_line.is_char_boundary(end) {
            end -= 1;
        }
        one_line.truncate(end);
        one_line.push('…');
    }
    format!("\"{one_line}\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_versions_in_both_formats() {
        let v = |s| Version::find_in(s).map(|v| v.to_string());
        assert_eq!(v("18.0.11\n").as_deref(), Some("18.0.11"));
        assert_eq!(v("ccusage 20.0.24\n").as_deref(), Some("20.0.24"));
        assert_eq!(v("ccusage v19.0.3-beta").as_deref(), Some("19.0.3"));
        assert_eq!(v("Command not found"), None);
    }

    #[test]
    fn quotes_output_on_one_line_and_cuts_it() {
        assert_eq!(quote(b"a\nb\tc"), "\"a b c\"");
        assert_eq!(quote(b"  "), "nothing");
        let long = "é".repeat(400);
        assert!(quote(long.as_bytes()).chars().count() < 200);
    }
}

//! One import at a time per lock file: a slow run must not overlap the next one cron starts.
//!
//! The lock is an advisory `flock` on a file that also records the holder's pid and start
//! time. The kernel drops the lock when its holder exits, however it exits, so a killed run
//! never leaves a stale lock behind.
//!
//! The importer may run as root, so the lock path is treated as hostile: a symbolic link is
//! never followed (it could point at any file), a file that is not one of our lock files is
//! never written to, and the default never lies in a directory everyone may write to.

use std::fs::{DirBuilder, File, OpenOptions};
use std::io::{ErrorKind, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::{DirBuilderExt as _, FileTypeExt as _, OpenOptionsExt as _};
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _, Result};

/// Held for as long as it lives.
#[derive(Debug)]
pub struct RunLock {
    _file: File,
}

/// What a lock file of ours holds at most (`pid N since TIME`); anything longer is not ours.
const MAX_LOCK_TEXT: u64 = 256;

/// Where the lock lives unless `--lock-file` says otherwise: under `$XDG_STATE_HOME`, else
/// `$HOME/.local/state`. Without either there is no directory that is surely the user's own,
/// and a shared one like `/tmp` would let anyone plant a link there, so the run is refused.
pub fn default_path() -> Result<PathBuf> {
    let set = |name: &str| {
        std::env::var_os(name)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    let state = set("XDG_STATE_HOME")
        .or_else(|| set("HOME").map(|home| home.join(".local/state")))
        .context(
            "neither HOME nor XDG_STATE_HOME is set, so there is no private place for the lock \
             file: set HOME, or give --lock-file (CCUSAGE_IMPORT_LOCK) a path in a directory \
             only you can write",
        )?;
    Ok(state.join("ccusage-import").join("import.lock"))
}

/// Takes the lock or says who holds it.
pub fn acquire(path: &Path) -> Result<Acquired> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .with_context(|| format!("cannot create {} for the lock file", dir.display()))?;
    }
    let (mut file, created) = open(path)?;
    // SAFETY: flock on a descriptor we own; it only changes the lock state of the file.
    let locked = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0;
    if !locked {
        let error = std::io::Error::last_os_error();
        if error.raw_os_error() != Some(libc::EWOULDBLOCK) {
            bail!("cannot lock {}: {error}", path.display());
        }
        let holder = read_text(&mut file).unwrap_or_default();
        let holder = crate::log::printable(holder.trim()).into_owned();
        return Ok(Acquired::HeldBy(holder));
    }
    // Only a file this run created, or one that holds what a run of ours wrote, is rewritten.
    if !created && !looks_like_ours(&mut file) {
        bail!(
            "the lock file {} already exists and holds something other than a lock of \
             ccusage-import, so it is left untouched: name another --lock-file \
             (CCUSAGE_IMPORT_LOCK)",
            path.display()
        );
    }
    let write = |file: &mut File| -> std::io::Result<()> {
        file.set_len(0)?;
        file.seek(SeekFrom::Start(0))?;
        let started = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ");
        write!(file, "pid {} since {started}", std::process::id())?;
        file.flush()
    };
    write(&mut file).with_context(|| format!("cannot write the lock file {}", path.display()))?;
    Ok(Acquired::Locked(RunLock { _file: file }))
}

/// Opens the lock file without following a link, creating it if missing; says whether it was
/// created. `O_NONBLOCK` keeps a FIFO or a device at that path from hanging the open.
fn open(path: &Path) -> Result<(File, bool)> {
    let options = |create: bool| {
        let mut options = OpenOptions::new();
        options
            .read(true)
            .write(true)
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC);
        if create {
            options.create_new(true).mode(0o600);
        }
        options
    };
    let opened = match options(true).open(path) {
        Ok(file) => Ok((file, true)),
        Err(e) if e.kind() == ErrorKind::AlreadyExists => {
            check_kind(path)?;
            options(false).open(path).map(|file| (file, false))
        }
        Err(e) => Err(e),
    };
    let (file, created) = opened.map_err(|e| match e.raw_os_error() {
        Some(libc::ELOOP) => not_a_file(path, "a symbolic link"),
        Some(libc::EISDIR) => not_a_file(path, "a directory"),
        _ => anyhow::Error::new(e).context(format!("cannot open the lock file {}", path.display())),
    })?;
    // The path may have been swapped between the check and the open; the descriptor is what
    // counts.
    let meta = file
        .metadata()
        .with_context(|| format!("cannot inspect the lock file {}", path.display()))?;
    if !meta.is_file() {
        return Err(not_a_file(path, kind_name(&meta.file_type())));
    }
    Ok((file, created))
}

/// Names what lies at the path when it is not a plain file, before opening it.
fn check_kind(path: &Path) -> Result<()> {
    match std::fs::symlink_metadata(path) {
        Ok(meta) if !meta.is_file() => Err(not_a_file(path, kind_name(&meta.file_type()))),
        _ => Ok(()),
    }
}

pub(crate) fn kind_name(kind: &std::fs::FileType) -> &'static str {
    if kind.is_symlink() {
        "a symbolic link"
    } else if kind.is_dir() {
        "a directory"
    } else if kind.is_fifo() {
        "a FIFO"
    } else if kind.is_char_device() || kind.is_block_device() {
        "a device"
    } else if kind.is_socket() {
        "a socket"
    } else {
        "not a plain file"
    }
}

fn not_a_file(path: &Path, what: &str) -> anyhow::Error {
    anyhow::anyhow!(
        "the lock file {} is {what}, not a plain file; it is never followed or written through: \
         remove it or name another --lock-file (CCUSAGE_IMPORT_LOCK)",
        path.display()
    )
}

/// Empty, or `pid N since TIME` as [`acquire`] writes it.
fn looks_like_ours(file: &mut File) -> bool {
    let Some(text) = read_text(file) else {
        return false;
    };
    let text = text.trim();
    if text.is_empty() {
        return true;
    }
    let mut words = text.split(' ');
    words.next() == Some("pid")
        && words.next().is_some_and(|pid| pid.parse::<u32>().is_ok())
        && words.next() == Some("since")
        && words.next().is_some_and(|t| t.ends_with('Z'))
        && words.next().is_none()
}

/// The start of the file, or `None` when it is longer than a lock of ours or not text.
fn read_text(file: &mut File) -> Option<String> {
    file.seek(SeekFrom::Start(0)).ok()?;
    let mut bytes = Vec::new();
    file.take(MAX_LOCK_TEXT + 1).read_to_end(&mut bytes).ok()?;
    if bytes.len() as u64 > MAX_LOCK_TEXT {
        return None;
    }
    String::from_utf8(bytes).ok()
}

#[derive(Debug)]
pub enum Acquired {
    Locked(RunLock),
    /// What the holder wrote: `pid N since TIME`.
    HeldBy(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_is_refused_until_the_first_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/import.lock");
        let first = acquire(&path).unwrap();
        assert!(matches!(first, Acquired::Locked(_)));
        match acquire(&path).unwrap() {
            Acquired::HeldBy(holder) => {
                assert!(
                    holder.contains(&format!("pid {}", std::process::id())),
                    "{holder}"
                )
            }
            Acquired::Locked(_) => panic!("locked twice"),
        }
        drop(first);
        assert!(matches!(acquire(&path).unwrap(), Acquired::Locked(_)));
    }

    #[test]
    fn only_empty_files_and_our_own_text_count_as_a_lock_file() {
        let dir = tempfile::tempdir().unwrap();
        let check = |text: &str| {
            let path = dir.path().join("l");
            std::fs::write(&path, text).unwrap();
            looks_like_ours(&mut File::open(&path).unwrap())
        };
        assert!(check(""));
        assert!(check("pid 12 since 2026-01-01T00:00:00Z"));
        assert!(!check("root:x:0:0:root:/root:/bin/bash\n"));
        assert!(!check(&"pid 1 since x".repeat(100)));
    }
}

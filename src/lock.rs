//! One import at a time per lock file: a slow run must not overlap the next one cron starts.
//!
//! The lock is an advisory `flock` on a file that also records the holder's pid and start
//! time. The kernel drops the lock when its holder exits, however it exits, so a killed run
//! never leaves a stale lock behind.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _, Result};

/// Held for as long as it lives.
#[derive(Debug)]
pub struct RunLock {
    _file: File,
}

/// Where the lock lives unless `--lock-file` says otherwise.
pub fn default_path() -> PathBuf {
    let state = std::env::var_os("XDG_STATE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".local/state")))
        .unwrap_or_else(std::env::temp_dir);
    state.join("ccusage-import").join("import.lock")
}

/// Takes the lock or says who holds it.
pub fn acquire(path: &Path) -> Result<Acquired> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create {} for the lock file", dir.display()))?;
    }
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .with_context(|| format!("cannot open the lock file {}", path.display()))?;
    // SAFETY: flock on a descriptor we own; it only changes the lock state of the file.
    let locked = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0;
    if !locked {
        let error = std::io::Error::last_os_error();
        if error.raw_os_error() != Some(libc::EWOULDBLOCK) {
            bail!("cannot lock {}: {error}", path.display());
        }
        let mut holder = String::new();
        let _ = file.read_to_string(&mut holder);
        return Ok(Acquired::HeldBy(holder.trim().to_owned()));
    }
    file.set_len(0)?;
    file.seek(SeekFrom::Start(0))?;
    let started = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ");
    write!(file, "pid {} since {started}", std::process::id())?;
    file.flush()?;
    Ok(Acquired::Locked(RunLock { _file: file }))
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
}

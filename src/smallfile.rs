//! Reading the small files a person points the importer at (the project key, the dashboard's
//! token, the alias file): regular files only, opened without blocking, read up to a bound.
//!
//! A FIFO would hang the open or the read (and a blocked thread never sees SIGTERM, which the
//! importer catches to kill its reports), `/dev/zero` would never end, a directory is a slip.

use std::fs::OpenOptions;
use std::io::Read as _;
use std::path::Path;

use anyhow::{anyhow, bail, Result};

/// Bound for a key or a token file: a few KiB, far above any key (a new key is 65 bytes).
pub const SECRET_LIMIT: u64 = 4 * 1024;

/// The text of `path` (UTF-8), which must be a regular file of at most `limit` bytes. The error
/// says what lies there (`a FIFO`, `a device`, `a directory`) or that it is too large; its text
/// is never shown.
pub fn read(path: &Path, limit: u64) -> Result<String> {
    let file = open_regular(path)?;
    let mut bytes = Vec::new();
    file.take(limit + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        bail!("it is larger than {limit} bytes: is it the right file?");
    }
    String::from_utf8(bytes).map_err(|_| anyhow!("it is not UTF-8 text"))
}

/// The first `limit` bytes of `path`, a regular file (opened as [`open_regular`] does): for
/// files of any length whose start is all that is needed (a transcript's first lines).
pub fn head(path: &Path, limit: u64) -> Result<Vec<u8>> {
    let mut bytes = Vec::new();
    open_regular(path)?.take(limit).read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// Opens `path` for reading without waiting (a FIFO would wait for a writer, and a blocked
/// thread never sees SIGTERM) and refuses anything but a regular file, judged by the opened
/// descriptor, since the path may change between a check and the open. For every file a
/// person names: settings, keys, tokens, a CA, the job's log.
pub fn open_regular(path: &Path) -> Result<std::fs::File> {
    let mut options = OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.custom_flags(libc::O_NONBLOCK | libc::O_CLOEXEC);
    }
    let file = options.open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        bail!(
            "it is {}, not a regular file",
            crate::lock::kind_name(&meta.file_type())
        );
    }
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_small_regular_files_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("key");
        std::fs::write(&file, "0123456789abcdef\n").unwrap();
        assert_eq!(read(&file, SECRET_LIMIT).unwrap(), "0123456789abcdef\n");
        let fifo = dir.path().join("fifo");
        let c = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: mkfifo reads a NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let cases = [
            (fifo.as_path(), "a FIFO"),
            (Path::new("/dev/zero"), "a device"),
            (dir.path(), "a directory"),
        ];
        for (path, kind) in cases {
            let error = read(path, SECRET_LIMIT).unwrap_err().to_string();
            assert!(error.contains(kind), "{}: {error}", path.display());
        }
        std::fs::write(&file, vec![b'a'; SECRET_LIMIT as usize + 1]).unwrap();
        let error = read(&file, SECRET_LIMIT).unwrap_err().to_string();
        assert!(error.contains("larger than 4096 bytes"), "{error}");
        std::fs::write(&file, [0xff, 0xfe]).unwrap();
        assert!(read(&file, SECRET_LIMIT).is_err());
    }
}

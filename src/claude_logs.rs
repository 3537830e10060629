//! Where Claude Code's logs are, and the working directory its transcripts name: the one
//! thing of the logs the importer reads itself (ccusage reads the rest). Bounded: a few
//! transcripts of a project directory, the first KiB of each, regular files only.

use std::path::{Path, PathBuf};

use crate::transform::projects::logged_cwd_in;

/// Bytes read from the start of one transcript: its first lines carry the `cwd`.
const HEAD_BYTES: u64 = 16 * 1024;
/// Transcripts of one project directory tried before giving up on it.
const MAX_FILES: usize = 3;
/// Entries of one project directory looked at to find them.
const MAX_ENTRIES: usize = 256;

/// The directories ccusage reads: `CLAUDE_CONFIG_DIR`'s (comma-separated) when it is set,
/// else `~/.claude` and `~/.config/claude`; and whether the setting named them.
pub fn dirs(setting: Option<&str>, home: Option<&Path>) -> (Vec<PathBuf>, bool) {
    match setting.filter(|v| !v.trim().is_empty()) {
        Some(list) => (
            list.split(',')
                .map(str::trim)
                .filter(|d| !d.is_empty())
                .map(PathBuf::from)
                .collect(),
            true,
        ),
        None => {
            let home = home.map(Path::to_path_buf).unwrap_or_default();
            (
                vec![home.join(".claude"), home.join(".config/claude")],
                false,
            )
        }
    }
}

/// The `cwd` a transcript of `<dir>/projects/<encoded>/` logged, from the first of `dirs`
/// that has one. `encoded` comes from ccusage's output: a name that is not one directory
/// name (`/`, `..`) reads nothing.
pub fn logged_cwd(dirs: &[PathBuf], encoded: &str) -> Option<String> {
    if encoded.is_empty() || encoded == "." || encoded == ".." || encoded.contains(['/', '\0']) {
        return None;
    }
    dirs.iter()
        .find_map(|dir| cwd_in_dir(&dir.join("projects").join(encoded), encoded))
}

fn cwd_in_dir(dir: &Path, encoded: &str) -> Option<String> {
    let entries = std::fs::read_dir(dir).ok()?;
    entries
        .take(MAX_ENTRIES)
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|e| e == "jsonl"))
        .take(MAX_FILES)
        .find_map(|path| {
            // A FIFO or a device named `*.jsonl` is refused without blocking.
            let head = crate::smallfile::head(&path, HEAD_BYTES).ok()?;
            logged_cwd_in(&head, encoded)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cwd_is_read_from_a_transcript_and_nothing_else() {
        let root = tempfile::tempdir().unwrap();
        let (a, b) = (root.path().join("a"), root.path().join("b"));
        let cwd = "/Users/alice/work/acme-payments.v2";
        let encoded = "-Users-alice-work-acme-payments-v2";
        let project = b.join("projects").join(encoded);
        std::fs::create_dir_all(&project).unwrap();
        std::fs::create_dir_all(a.join("projects")).unwrap();
        // A FIFO first in line must not hang the read; a long first line is cut.
        let fifo = project.join("0-fifo.jsonl");
        let c = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: mkfifo reads a NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let line = format!(
            "{{\"type\":\"user\",\"cwd\":\"{cwd}\",\"message\":\"{}\"}}\n",
            "x".repeat(100_000)
        );
        std::fs::write(project.join("s1.jsonl"), &line).unwrap();
        let dirs = vec![a.clone(), b.clone()];
        assert_eq!(logged_cwd(&dirs, encoded).as_deref(), Some(cwd));
        assert_eq!(logged_cwd(&dirs, "-Users-alice-other"), None);
        assert_eq!(logged_cwd(&dirs, "../b/projects"), None);
        assert_eq!(logged_cwd(&[a], encoded), None);
    }

    #[test]
    fn claude_config_dir_names_the_directories_else_the_two_defaults() {
        let home = Path::new("/home/dev");
        assert_eq!(
            dirs(Some(" /a , /b,"), Some(home)),
            (vec![PathBuf::from("/a"), PathBuf::from("/b")], true)
        );
        assert_eq!(
            dirs(Some(" "), Some(home)),
            (
                vec![home.join(".claude"), home.join(".config/claude")],
                false
            )
        );
    }
}

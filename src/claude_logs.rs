//! Where Claude Code's logs are, and the working directory its transcripts name: the one
//! thing of the logs the importer reads itself (ccusage reads the rest). Bounded: the largest
//! transcripts of a project directory, the first KiB of each within a total, regular files only.

use std::path::{Path, PathBuf};

use crate::transform::projects::logged_cwd_in;

/// Bytes read from the start of one transcript: its first lines carry the `cwd`.
const HEAD_BYTES: u64 = 16 * 1024;
/// Transcripts of one project directory tried before giving up on it: enough to get past
/// the summary-only transcripts a directory may hold many of.
const MAX_FILES: usize = 32;
/// Bytes read from one project directory's transcripts in all.
const MAX_BYTES: u64 = 256 * 1024;
/// Entries of one project directory looked at to find them.
const MAX_ENTRIES: usize = 4096;

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
    // Largest first, then by name: a summary-only transcript (no cwd) is small, and the
    // order is the same on every machine holding the same logs, not the directory's.
    let mut files: Vec<(u64, PathBuf)> = entries
        .take(MAX_ENTRIES)
        .flatten()
        .filter(|entry| entry.path().extension().is_some_and(|e| e == "jsonl"))
        .map(|entry| (entry.metadata().map_or(0, |m| m.len()), entry.path()))
        .collect();
    files.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    let mut budget = MAX_BYTES;
    files.into_iter().take(MAX_FILES).find_map(|(_, path)| {
        let bytes = HEAD_BYTES.min(budget);
        if bytes == 0 {
            return None;
        }
        // A FIFO or a device named `*.jsonl` is refused without blocking.
        let head = crate::smallfile::head(&path, bytes).ok()?;
        budget -= (head.len() as u64).min(budget);
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

    /// Many summary-only transcripts (no cwd) before the one that names the project, whatever
    /// the directory's order: the largest is read first, and more than three are tried.
    #[test]
    fn the_cwd_is_found_past_many_summary_only_transcripts() {
        let root = tempfile::tempdir().unwrap();
        let cwd = "/home/dev/projects/spotter";
        let encoded = "-home-dev-projects-spotter";
        let project = root.path().join("projects").join(encoded);
        std::fs::create_dir_all(&project).unwrap();
        for i in 0..40 {
            let summary = format!("{{\"type\":\"summary\",\"summary\":\"s{i}\"}}\n");
            std::fs::write(project.join(format!("{i:02}-summary.jsonl")), summary).unwrap();
        }
        let line = format!("{{\"type\":\"user\",\"cwd\":\"{cwd}\",\"message\":\"hello\"}}\n");
        std::fs::write(project.join("zz-session.jsonl"), line.repeat(4)).unwrap();
        let dirs = vec![root.path().to_path_buf()];
        assert_eq!(logged_cwd(&dirs, encoded).as_deref(), Some(cwd));
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

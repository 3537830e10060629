//! Projects as people read them, and as much of them as leaves the machine.
//!
//! ccusage names a project by its encoded directory (`/` and `.` written as `-`):
//! `-home-dev-projects-spotter`. Beside it every project row gets a `project_name`: the
//! directory relative to `$HOME` where the encoding can be told apart on this machine's disk.
//! The privacy mode (`--projects plain|hash|hidden`) then decides what the stored key is:
//! ccusage's text, a keyed hash of it, or `hidden`. Applied to the mapped rows before anything
//! reads them (the sink, the summary, `--json`), so nothing downstream ever sees a real path.
//! Pure: the key, the aliases and the directory probe come in.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use anyhow::Result;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// What ccusage prints where a session has no project directory.
pub const UNKNOWN_PROJECT: &str = "Unknown Project";
/// The name shown for [`UNKNOWN_PROJECT`].
pub const UNKNOWN_PROJECT_NAME: &str = "(unknown project)";
/// The one project of a machine in `hidden` mode.
pub const HIDDEN: &str = "hidden";
/// ccusage 15–18 name every sub-agent file `subagents`: no identity, kept as it is.
const SUBAGENTS: &str = "subagents";
/// Hex digits of the HMAC kept as the stored key: 64 bits, no collision among a fleet's
/// projects, short enough to read.
const HASH_HEX: usize = 16;
/// What [`Projects::fingerprint`] hashes: a NUL cannot be in a path or a session file name.
const FINGERPRINT_TEXT: &str = "\0ccusage-import project key fingerprint";
/// Hex digits shown in `project-<prefix>`.
const NAME_HEX: usize = 8;

/// `--projects`: how much of a project's identity is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    #[default]
    Plain,
    Hash,
    Hidden,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Plain => "plain",
            Mode::Hash => "hash",
            Mode::Hidden => "hidden",
        }
    }

    /// The mode stored in `ccusage_machines`; empty is a row written before modes existed,
    /// which were all plain.
    pub fn parse(text: &str) -> Option<Mode> {
        match text {
            "" | "plain" => Some(Mode::Plain),
            "hash" => Some(Mode::Hash),
            "hidden" => Some(Mode::Hidden),
            _ => None,
        }
    }
}

/// Tells whether a directory exists: the piece of the disk that decoding a name needs.
pub type IsDir = dyn Fn(&Path) -> bool + Send + Sync;

/// The `cwd` Claude Code logged in a transcript of the project directory it named `encoded`
/// (read from the first lines of one file, see `crate::claude_logs`); `None` when there is none.
pub type LoggedCwd = dyn Fn(&str) -> Option<String> + Send + Sync;

/// Everything that turns ccusage's project text into what is stored.
#[derive(Clone)]
pub struct Projects {
    pub mode: Mode,
    /// The HMAC key (hash and hidden modes); never printed: `Debug` leaves it out.
    key: Arc<Vec<u8>>,
    /// `--project-alias`: stored hash (or its `project-` prefix) → name.
    aliases: Arc<HashMap<String, String>>,
    /// `$HOME`, for readable names; `None` keeps ccusage's text.
    home: Option<String>,
    is_dir: Arc<IsDir>,
    logged_cwd: Arc<LoggedCwd>,
    /// The readable names this machine stored before, by key: what a project is called when
    /// neither its logs nor the disk can tell any more, so a name never falls back to
    /// ccusage's text once it was known.
    stored: Arc<HashMap<String, String>>,
    /// Readable names already decoded: each looks at the logs and the disk once per run.
    names: Arc<Mutex<HashMap<String, String>>>,
}

impl std::fmt::Debug for Projects {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Projects")
            .field("mode", &self.mode)
            .field("key", &"***")
            .field("aliases", &self.aliases.len())
            .field("home", &self.home)
            .finish()
    }
}

impl Default for Projects {
    /// Plain, without a home: names are ccusage's text (unit tests, the fuzz target).
    fn default() -> Self {
        Projects::new(
            Mode::Plain,
            Vec::new(),
            HashMap::new(),
            None,
            Arc::new(|_| false),
        )
    }
}

impl Projects {
    pub fn new(
        mode: Mode,
        key: Vec<u8>,
        aliases: HashMap<String, String>,
        home: Option<String>,
        is_dir: Arc<IsDir>,
    ) -> Projects {
        Projects {
            mode,
            key: Arc::new(key),
            aliases: Arc::new(aliases),
            home: home.map(|h| h.trim_end_matches('/').to_owned()),
            is_dir,
            logged_cwd: Arc::new(|_| None),
            stored: Arc::default(),
            names: Arc::default(),
        }
    }

    /// Names read from the `cwd` of the logs first (see [`LoggedCwd`]).
    pub fn with_logged_cwd(mut self, logged_cwd: Arc<LoggedCwd>) -> Projects {
        self.logged_cwd = logged_cwd;
        self
    }

    /// The names this machine stored (see [`stored_names`]), for what nothing else can name.
    pub fn with_stored_names(mut self, stored: HashMap<String, String>) -> Projects {
        self.stored = Arc::new(stored);
        self
    }

    /// The keyed hash of `text`, as hex.
    pub fn hash(&self, text: &str) -> String {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes a key of any length");
        mac.update(text.as_bytes());
        let bytes = mac.finalize().into_bytes();
        let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        hex[..HASH_HEX].to_owned()
    }

    /// Which key this is, safe to store and show: an HMAC under the key of a constant that no
    /// project or session is named, so it reveals nothing of the key nor matches any stored
    /// hash. Empty in plain mode (no key).
    pub fn fingerprint(&self) -> String {
        match self.mode {
            Mode::Plain => String::new(),
            Mode::Hash | Mode::Hidden => self.hash(FINGERPRINT_TEXT),
        }
    }

    /// The stored key of a project ccusage printed as `project`.
    pub fn project_key(&self, project: &str) -> String {
        match self.mode {
            _ if project == UNKNOWN_PROJECT => project.to_owned(),
            Mode::Plain => project.to_owned(),
            Mode::Hash => self.hash(project),
            Mode::Hidden => HIDDEN.to_owned(),
        }
    }

    /// The stored id of a session (a file name): hashed unless plain.
    pub fn session_id(&self, id: &str) -> String {
        match self.mode {
            Mode::Plain => id.to_owned(),
            _ if id == SUBAGENTS => id.to_owned(),
            Mode::Hash | Mode::Hidden => self.hash(id),
        }
    }

    /// The readable name of a stored project key (what [`Projects::project_key`] returned).
    pub fn name_of(&self, key: &str) -> String {
        if key == UNKNOWN_PROJECT {
            return UNKNOWN_PROJECT_NAME.to_owned();
        }
        match self.mode {
            // A hash `--rekey-projects` could not turn back (its logs are gone) keeps its
            // hashed name: ccusage's own text always starts with `-`.
            Mode::Plain if !is_hash(key) => self.readable(key),
            Mode::Plain | Mode::Hash => {
                let prefix = &key[..key.len().min(NAME_HEX)];
                let shown = format!("project-{prefix}");
                self.aliases
                    .get(key)
                    .or_else(|| self.aliases.get(prefix))
                    .or_else(|| self.aliases.get(&shown))
                    .cloned()
                    .unwrap_or(shown)
            }
            Mode::Hidden => HIDDEN.to_owned(),
        }
    }

    /// The plain name of `key`, found once: from the `cwd` its logs hold (exact, and there
    /// on every line Claude Code writes, wherever the logs came from and whether or not the
    /// directory still exists), else from this disk, else the name stored before, else
    /// ccusage's text.
    fn readable(&self, key: &str) -> String {
        let mut names = self.names.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(name) = names.get(key) {
            return name.clone();
        }
        let home = self.home.as_deref();
        let name = (self.logged_cwd)(key)
            .filter(|cwd| encodes_to(cwd, key))
            .map(|cwd| path_name(&cwd, home))
            .or_else(|| home.and_then(|home| decode(key, home, &*self.is_dir)))
            .or_else(|| self.stored.get(key).cloned())
            .unwrap_or_else(|| key.to_owned());
        names.insert(key.to_owned(), name.clone());
        name
    }

    /// Text about to leave the machine in a hash or hidden run (an error, a command line):
    /// quoted parts (ccusage's output, ids, keys) become `…` and `$HOME` becomes `~`.
    pub fn redact(&self, text: &str) -> String {
        if self.mode == Mode::Plain {
            return text.to_owned();
        }
        let mut text = match &self.home {
            Some(home) if !home.is_empty() => text.replace(home.as_str(), "~"),
            _ => text.to_owned(),
        };
        for marker in ["output began: ", "it printed: "] {
            text = hide_output(&text, marker);
        }
        redact_quoted(&text)
    }
}

/// ccusage's output quoted after `marker` becomes `"…"`. Its own quotes are not escaped, so
/// the quote ends at the last `"` before the command line that follows it (or the end).
fn hide_output(text: &str, marker: &str) -> String {
    let Some(at) = text.find(marker) else {
        return text.to_owned();
    };
    let start = at + marker.len();
    let rest = &text[start..];
    let limit = rest.find(" (command: ").unwrap_or(rest.len());
    match rest[..limit].rfind('"') {
        Some(end) if rest.starts_with('"') && end > 0 => {
            format!("{}\"…\"{}", &text[..start], &rest[end + 1..])
        }
        _ => text.to_owned(),
    }
}

/// Whether `key` is a stored hash rather than ccusage's text.
fn is_hash(key: &str) -> bool {
    key.len() == HASH_HEX
        && key
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Replaces the inside of every `"…"` (with `\"` escapes, as `{:?}` writes them) by `…`.
fn redact_quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        out.push(c);
        if c != '"' {
            continue;
        }
        let mut closed = false;
        while let Some(inner) = chars.next() {
            match inner {
                '\\' => {
                    chars.next();
                }
                '"' => {
                    closed = true;
                    break;
                }
                _ => {}
            }
        }
        out.push('…');
        if closed {
            out.push('"');
        }
    }
    out
}

/// Whether Claude Code names the project directory `cwd` as `encoded`: every character but
/// ASCII letters and digits written as `-` (one per UTF-16 unit), or, in older versions, only
/// `/` and `.` (the others kept).
pub fn encodes_to(cwd: &str, encoded: &str) -> bool {
    if cwd.is_empty() {
        return false;
    }
    let mut want = encoded.chars().peekable();
    for c in cwd.chars() {
        if c.is_ascii_alphanumeric() || (c != '/' && c != '.' && want.peek() == Some(&c)) {
            if want.next() != Some(c) {
                return false;
            }
            continue;
        }
        for _ in 0..c.len_utf16() {
            if want.next() != Some('-') {
                return false;
            }
        }
    }
    want.next().is_none()
}

/// The name people read for the directory `cwd`: relative to `home` (`~` for the home
/// itself), or to the home it lies in on another machine or of another user (`/home/<user>`,
/// `/Users/<user>`, `/root`, `C:\Users\<user>`), so one project is named alike on Linux and
/// macOS; else the whole path.
pub fn path_name(cwd: &str, home: Option<&str>) -> String {
    let windows = cwd.as_bytes().get(1) == Some(&b':') && cwd.contains('\\');
    let cwd = if windows {
        cwd.replace('\\', "/")
    } else {
        cwd.to_owned()
    };
    let path = match cwd.trim_end_matches('/') {
        "" => "/",
        trimmed => trimmed,
    };
    if let Some(home) = home
        .map(|h| h.trim_end_matches('/'))
        .filter(|h| !h.is_empty())
    {
        if path == home {
            return "~".to_owned();
        }
        if let Some(rest) = path.strip_prefix(home).and_then(|r| r.strip_prefix('/')) {
            return rest.to_owned();
        }
    }
    let parts: Vec<&str> = path.split('/').collect();
    let depth = match parts.get(1).copied() {
        Some("home" | "Users") if parts.get(2).is_some_and(|u| !u.is_empty()) => 3,
        Some("root") if !windows => 2,
        _ => 0,
    };
    if depth == 0 {
        return path.to_owned();
    }
    match parts[depth..].join("/") {
        rest if rest.is_empty() => "~".to_owned(),
        rest => rest,
    }
}

/// Lines of a transcript looked at for a `cwd`: the first lines carry it (every line does).
const CWD_LINES: usize = 64;

/// The first `cwd` in `head` (the first bytes of a transcript, maybe cut mid-line) that
/// Claude Code named `encoded` after. The lines are not parsed whole: a line may be cut, and
/// may be megabytes long; a `"cwd"` key of a tool's input that names another directory does
/// not match `encoded` and is passed over.
pub fn logged_cwd_in(head: &[u8], encoded: &str) -> Option<String> {
    const KEY: &[u8] = b"\"cwd\"";
    for line in head.split(|b| *b == b'\n').take(CWD_LINES) {
        let mut rest = line;
        while let Some(at) = rest.windows(KEY.len()).position(|w| w == KEY) {
            rest = &rest[at + KEY.len()..];
            let value = rest.trim_ascii_start();
            let Some(value) = value.strip_prefix(b":") else {
                continue;
            };
            if let Some(cwd) = json_string(value.trim_ascii_start()) {
                // A cwd with a control character (ESC, BEL) or a bidi override would be
                // stored raw and rewrite a terminal or reorder a page: refused, as if none.
                if encodes_to(&cwd, encoded) && !cwd.chars().any(unsafe_in_a_name) {
                    return Some(cwd);
                }
            }
        }
    }
    None
}

/// Characters a stored name must not carry: controls (C0, DEL, C1) and the bidi marks,
/// embeddings, overrides and isolates that make text display other than it reads.
fn unsafe_in_a_name(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// The JSON string `text` starts with, if it is whole.
fn json_string(text: &[u8]) -> Option<String> {
    if text.first() != Some(&b'"') {
        return None;
    }
    let mut escaped = false;
    for (i, b) in text.iter().enumerate().skip(1) {
        match b {
            _ if escaped => escaped = false,
            b'\\' => escaped = true,
            b'"' => return serde_json::from_slice(&text[..=i]).ok(),
            _ => {}
        }
    }
    None
}

/// One project name stored for a key, and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredName {
    pub project: String,
    pub name: String,
    pub imported_at: u32,
}

/// The readable name stored for each key: the newest name that is not the key itself
/// (ccusage's text, stored while nothing could name it).
pub fn stored_names(stored: &[StoredName]) -> HashMap<String, String> {
    let mut best: HashMap<&str, &StoredName> = HashMap::new();
    for s in stored {
        if s.name == s.project || s.name.is_empty() || s.project == UNKNOWN_PROJECT {
            continue;
        }
        let newer = best
            .get(s.project.as_str())
            .is_none_or(|b| (b.imported_at, &b.name) < (s.imported_at, &s.name));
        if newer {
            best.insert(&s.project, s);
        }
    }
    best.into_iter()
        .map(|(project, s)| (project.to_owned(), s.name.clone()))
        .collect()
}

/// The keys whose stored rows carry another name than this run gives them: their rows are
/// stored again under the name (one project, one name, however its rows were first named).
pub fn renamed(stored: &[StoredName], projects: &Projects) -> std::collections::BTreeSet<String> {
    stored
        .iter()
        .filter(|s| s.project != UNKNOWN_PROJECT && projects.name_of(&s.project) != s.name)
        .map(|s| s.project.clone())
        .collect()
}

/// The readable name of `encoded` relative to `home`: `~` for the home itself, `a/b.c` below
/// it. `None` (keep ccusage's text) when the project is not under `home`, or when the disk
/// does not tell exactly one directory that encodes to it.
pub fn decode(encoded: &str, home: &str, is_dir: &IsDir) -> Option<String> {
    let home = home.trim_end_matches('/');
    if home.is_empty() {
        return None;
    }
    // Claude Code writes `/` and `.` (some versions every other character too) as `-`, so
    // the whole path is read back from the root: a home that is only a prefix of another
    // user's (`/home/dev` of `/home/devops`) never matches.
    let tokens: Vec<&str> = encoded.strip_prefix('-')?.split('-').collect();
    let mut found = Vec::new();
    let mut budget = STAT_BUDGET;
    walk(Path::new("/"), &tokens, is_dir, &mut found, &mut budget);
    let [path] = &found[..] else {
        return None;
    };
    let path = path.to_str()?;
    if path == home {
        return Some("~".to_owned());
    }
    path.strip_prefix(home)?
        .strip_prefix('/')
        .map(str::to_owned)
}

/// The most directories one name may look at: a name with many dashes has many readings.
const STAT_BUDGET: usize = 4096;
/// The most tokens one directory name is made of.
const MAX_PARTS: usize = 6;
/// What a `-` inside one directory name may have been.
const JOINERS: [char; 4] = ['-', '.', '_', ' '];

/// Every directory under `dir` that encodes to `tokens` (stops at two: one is all we use).
fn walk(dir: &Path, tokens: &[&str], is_dir: &IsDir, found: &mut Vec<PathBuf>, budget: &mut usize) {
    for parts in 1..=tokens.len().min(MAX_PARTS) {
        for name in joinings(&tokens[..parts]) {
            if found.len() > 1 || *budget == 0 {
                return;
            }
            *budget -= 1;
            let candidate = dir.join(&name);
            if !is_dir(&candidate) {
                continue;
            }
            if parts == tokens.len() {
                found.push(candidate);
            } else {
                walk(&candidate, &tokens[parts..], is_dir, found, budget);
            }
        }
    }
}

/// Each way `parts` can be joined into one directory name.
fn joinings(parts: &[&str]) -> Vec<String> {
    let mut names = vec![parts[0].to_owned()];
    for part in &parts[1..] {
        names = names
            .iter()
            .flat_map(|head| JOINERS.iter().map(move |j| format!("{head}{j}{part}")))
            .collect();
    }
    names.retain(|n| !n.is_empty() && n != "." && n != "..");
    names
}

/// Reads `--project-alias`: `hash = name` lines; `#` starts a comment.
pub fn parse_aliases(text: &str) -> Result<HashMap<String, String>> {
    let mut aliases = BTreeMap::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((hash, name)) = line.split_once('=') else {
            anyhow::bail!("line {}: expected `hash = name`", number + 1);
        };
        let (hash, name) = (hash.trim(), name.trim());
        anyhow::ensure!(
            !hash.is_empty() && !name.is_empty(),
            "line {}: expected `hash = name`",
            number + 1
        );
        aliases.insert(hash.to_owned(), name.to_owned());
    }
    Ok(aliases.into_iter().collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    /// A disk holding exactly `dirs` (and their parents).
    fn disk(dirs: &[&str]) -> Arc<IsDir> {
        let mut all = HashSet::new();
        for dir in dirs {
            let mut path = PathBuf::from(dir);
            loop {
                all.insert(path.clone());
                if !path.pop() {
                    break;
                }
            }
        }
        Arc::new(move |p: &Path| all.contains(p))
    }

    fn name(encoded: &str, home: &str, dirs: &[&str]) -> Option<String> {
        decode(encoded, home, &*disk(dirs))
    }

    #[test]
    fn linux_and_macos_homes_decode_relative_to_home() {
        let linux = ["/home/dev/projects/spotter/worktrees/w0"];
        assert_eq!(
            name(
                "-home-dev-projects-spotter-worktrees-w0",
                "/home/dev",
                &linux
            )
            .as_deref(),
            Some("projects/spotter/worktrees/w0")
        );
        let mac = ["/Users/alice/work/acme-payments"];
        assert_eq!(
            name("-Users-alice-work-acme-payments", "/Users/alice/", &mac).as_deref(),
            Some("work/acme-payments")
        );
        assert_eq!(name("-home-dev", "/home/dev", &linux).as_deref(), Some("~"));
    }

    #[test]
    fn dashes_and_dots_in_directory_names_are_told_apart_by_the_disk() {
        let dirs = ["/home/dev/my-app.v2/src", "/home/dev/.config/tool"];
        assert_eq!(
            name("-home-dev-my-app-v2-src", "/home/dev", &dirs).as_deref(),
            Some("my-app.v2/src")
        );
        assert_eq!(
            name("-home-dev--config-tool", "/home/dev", &dirs).as_deref(),
            Some(".config/tool")
        );
    }

    #[test]
    fn what_the_disk_cannot_tell_is_kept_as_ccusage_prints_it() {
        // Both readings exist: ambiguous.
        let both = ["/home/dev/a-b", "/home/dev/a/b"];
        assert_eq!(name("-home-dev-a-b", "/home/dev", &both), None);
        // Gone from the disk (a deleted worktree), or another machine's logs.
        assert_eq!(name("-home-dev-gone-x", "/home/dev", &["/home/dev"]), None);
        // Outside the home, and a home that is only a prefix of another user's.
        let other = ["/srv/app", "/home/devops/x"];
        assert_eq!(name("-srv-app", "/home/dev", &other), None);
        assert_eq!(name("-home-devops-x", "/home/dev", &other), None);
        assert_eq!(name("-home-dev-x", "/", &["/home/dev/x"]), None);
    }

    #[test]
    fn the_logged_cwd_names_a_project_whether_or_not_its_directory_exists() {
        let cases = [
            // A deleted worktree under this home, with dashes and dots.
            (
                "/home/dev/projects/spotter/worktrees/w0",
                Some("/home/dev"),
                "projects/spotter/worktrees/w0",
            ),
            (
                "/home/dev/my-app.v2/src",
                Some("/home/dev"),
                "my-app.v2/src",
            ),
            ("/home/dev", Some("/home/dev/"), "~"),
            // Logs of another machine: a macOS home on Linux, another user, root, Windows.
            (
                "/Users/alice/work/acme-payments",
                Some("/home/dev"),
                "work/acme-payments",
            ),
            ("/home/devops/x.y", Some("/home/dev"), "x.y"),
            ("/root/work/api-server", None, "work/api-server"),
            ("C:\\Users\\bob\\repo-1", None, "repo-1"),
            ("/Users/alice", None, "~"),
            // Outside any home: the path itself.
            ("/srv/app.d/api", Some("/home/dev"), "/srv/app.d/api"),
        ];
        for (cwd, home, want) in cases {
            assert_eq!(path_name(cwd, home), want, "{cwd}");
        }
        let logged: Arc<LoggedCwd> = Arc::new(|key: &str| match key {
            "-home-dev-projects-spotter-worktrees-w0" => {
                Some("/home/dev/projects/spotter/worktrees/w0".into())
            }
            // A cwd that is not this directory's is not believed.
            "-home-dev-a" => Some("/home/dev/b".into()),
            _ => None,
        });
        let plain = Projects::new(
            Mode::Plain,
            vec![],
            HashMap::new(),
            Some("/home/dev".into()),
            disk(&["/home/dev"]),
        )
        .with_logged_cwd(logged)
        .with_stored_names([("-home-dev-gone".to_owned(), "gone".to_owned())].into());
        assert_eq!(
            plain.name_of("-home-dev-projects-spotter-worktrees-w0"),
            "projects/spotter/worktrees/w0"
        );
        assert_eq!(plain.name_of("-home-dev-a"), "-home-dev-a");
        // Neither logs nor disk: the name stored before, never ccusage's text again.
        assert_eq!(plain.name_of("-home-dev-gone"), "gone");
    }

    #[test]
    fn a_cwd_matches_the_directory_name_of_every_claude_code_encoding() {
        assert!(encodes_to("/home/dev/my-app.v2", "-home-dev-my-app-v2"));
        assert!(encodes_to("/home/dev/my_app", "-home-dev-my-app"));
        assert!(encodes_to("/home/dev/my_app", "-home-dev-my_app"));
        assert!(encodes_to("/home/o'neil/café", "-home-o-neil-caf-"));
        assert!(encodes_to("C:\\Users\\bob", "C--Users-bob"));
        assert!(!encodes_to("/home/dev/my-app", "-home-dev-my-app-v2"));
        assert!(!encodes_to("/home/dev/x", "-home-dev-y"));
        assert!(!encodes_to("", ""));
    }

    #[test]
    fn the_cwd_is_found_in_cut_and_odd_first_lines() {
        let encoded = "-home-dev-p-q";
        let head = concat!(
            "{\"type\":\"summary\",\"summary\":\"has \\\"cwd\\\":\\\"/x\\\" in text\"}\n",
            "not json at all \"cwd\"\n",
            "{\"type\":\"assistant\",\"message\":{\"input\":{\"cwd\":\"/tmp\"}},",
            "\"cwd\" : \"/home/dev/p.q\",\"sessionId\":\"s\"}\n",
            "{\"cwd\":\"/home/dev/p-q\"",
        );
        assert_eq!(
            logged_cwd_in(head.as_bytes(), encoded).as_deref(),
            Some("/home/dev/p.q")
        );
        // Cut inside the value: nothing.
        assert_eq!(logged_cwd_in(b"{\"cwd\":\"/home/dev/p-", encoded), None);
        // Control characters and bidi overrides: refused, as if no cwd were logged.
        for (cwd, encoded) in [
            (r"/home/dev/a\u001b[2Jb", "-home-dev-a--2Jb"),
            (r"/home/dev/a\u0007b", "-home-dev-a-b"),
            (r"/home/dev/a\u202eb", "-home-dev-a-b"),
        ] {
            let line = format!("{{\"cwd\":\"{cwd}\"}}\n");
            assert_eq!(logged_cwd_in(line.as_bytes(), encoded), None, "{cwd}");
        }
        let escaped = br#"{"cwd":"/home/dev/a\"b"}"#;
        assert_eq!(
            logged_cwd_in(escaped, "-home-dev-a-b").as_deref(),
            Some("/home/dev/a\"b")
        );
    }

    #[test]
    fn stored_names_prefer_the_newest_readable_and_mismatches_are_renamed() {
        let at = |project: &str, name: &str, imported_at| StoredName {
            project: project.into(),
            name: name.into(),
            imported_at,
        };
        let stored = [
            at("-root-work-api-server", "-root-work-api-server", 1),
            at("-root-work-api-server", "work/api-server", 2),
            at("-home-x-old", "old", 1),
            at("-home-x-old", "older", 0),
            at(UNKNOWN_PROJECT, UNKNOWN_PROJECT_NAME, 3),
        ];
        let names = stored_names(&stored);
        assert_eq!(names.len(), 2, "{names:?}");
        assert_eq!(names["-root-work-api-server"], "work/api-server");
        assert_eq!(names["-home-x-old"], "old");
        let plain = Projects::default().with_stored_names(names);
        let renamed: Vec<_> = renamed(&stored, &plain).into_iter().collect();
        assert_eq!(renamed, ["-home-x-old", "-root-work-api-server"]);
    }

    #[test]
    fn the_modes_key_and_name_projects() {
        let plain = Projects::new(
            Mode::Plain,
            vec![],
            HashMap::new(),
            Some("/home/dev".into()),
            disk(&["/home/dev/proj"]),
        );
        assert_eq!(plain.project_key("-home-dev-proj"), "-home-dev-proj");
        assert_eq!(plain.name_of("-home-dev-proj"), "proj");
        assert_eq!(plain.name_of(UNKNOWN_PROJECT), UNKNOWN_PROJECT_NAME);
        assert_eq!(plain.name_of("0123456789abcdef"), "project-01234567");

        let aliases = parse_aliases("# mine\n").unwrap();
        let hash = Projects::new(Mode::Hash, b"k1".to_vec(), aliases, None, disk(&[]));
        let key = hash.project_key("-home-dev-proj");
        assert_eq!(key.len(), HASH_HEX);
        assert!(key.chars().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(hash.name_of(&key), format!("project-{}", &key[..8]));
        assert_eq!(hash.project_key(UNKNOWN_PROJECT), UNKNOWN_PROJECT);
        // Another key, another hash: nobody without the key can test a guessed path.
        let other = Projects::new(Mode::Hash, b"k2".to_vec(), HashMap::new(), None, disk(&[]));
        assert_ne!(other.project_key("-home-dev-proj"), key);

        let aliases = parse_aliases(&format!("{} = Payments\n", &key[..8])).unwrap();
        let named = Projects::new(Mode::Hash, b"k1".to_vec(), aliases, None, disk(&[]));
        assert_eq!(named.name_of(&key), "Payments");

        let hidden = Projects::new(Mode::Hidden, b"k".to_vec(), HashMap::new(), None, disk(&[]));
        assert_eq!(hidden.project_key("-home-dev-proj"), HIDDEN);
        assert_eq!(hidden.name_of(HIDDEN), HIDDEN);
        assert_ne!(hidden.session_id("0b1c-uuid"), "0b1c-uuid");
        assert_eq!(hidden.session_id("subagents"), "subagents");
    }

    #[test]
    fn redaction_hides_quoted_text_and_the_home() {
        let p = Projects::new(
            Mode::Hash,
            b"k".to_vec(),
            HashMap::new(),
            Some("/home/alice".into()),
            disk(&[]),
        );
        let text = r#"project "-home-alice-x\"y" row 1: bad (command: /home/alice/bin/ccusage; output began: "{\"a\"")"#;
        assert_eq!(
            p.redact(text),
            r#"project "…" row 1: bad (command: ~/bin/ccusage; output began: "…")"#
        );
        let unescaped = r#"bad (command: x; output began: "{"projectPath":"-home-alice-x"}")"#;
        assert_eq!(
            p.redact(unescaped),
            r#"bad (command: x; output began: "…")"#
        );
        let printed = r#"exited with code 1; it printed: "no "alice" here" (command: ccusage)"#;
        assert_eq!(
            p.redact(printed),
            r#"exited with code 1; it printed: "…" (command: ccusage)"#
        );
        assert!(parse_aliases("nohash\n").is_err());
    }
}

//! The `.env` settings file, read by hand rather than with dotenvy, because dotenvy quotes the
//! text of a line it cannot parse (a password line included) in its error, reads a file of any
//! size, and silently expands `$NAME` in unquoted values, so a password holding `$` arrived cut.
//!
//! The format is the one `scripts/setup_cronjob.sh` reads too: `KEY=VALUE` lines, an optional
//! `export ` before the key, `#` comments; 'single' quotes are literal, "double" quotes take
//! backslash escapes (`\n`, `\t`, `\\`, `\"`, `\$`), unquoted values end at ` #`. A `$` is kept
//! as written everywhere. The first definition of a key wins.
//!
//! Which file is read is decided here too ([`discover`]), once for every command, and the
//! values never enter the process's environment: they reach clap as defaults (see
//! `config::with_file`), so a value holding a NUL cannot panic `set_var` with the password in
//! its message, and ccusage gets only what is meant for it.

use std::ffi::OsString;
use std::io::Read as _;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _, Result};

/// Far above any real settings file (a few hundred bytes), far below what would hurt.
pub const MAX_BYTES: u64 = 64 * 1024;

/// One `KEY=VALUE` of a settings file.
#[derive(Clone, PartialEq, Eq)]
pub struct Entry {
    pub key: String,
    pub value: String,
    /// 1-based, for messages that must name a line but never show its value.
    pub line: usize,
}

/// Never the value: it may be the password.
impl std::fmt::Debug for Entry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (line {})", self.key, self.line)
    }
}

/// The settings file a run reads, the same for every command: `--env-file` (or
/// `CCUSAGE_IMPORT_ENV_FILE`, which clap folds into `explicit`), else `./.env` when it exists,
/// else `$XDG_CONFIG_HOME/ccusage-import/.env` (`~/.config/ccusage-import/.env` when
/// XDG_CONFIG_HOME is unset) when it exists. `None`: no file is read.
pub fn discover(explicit: Option<&Path>) -> Option<PathBuf> {
    discover_with(explicit, |p| p.exists(), |name| std::env::var_os(name))
}

/// The user's settings file, where `init` writes and [`discover`] looks last, whether or not
/// it exists. `None` without XDG_CONFIG_HOME and HOME.
pub fn user_file() -> Option<PathBuf> {
    user_file_with(|name| std::env::var_os(name))
}

fn user_file_with(var: impl Fn(&str) -> Option<OsString>) -> Option<PathBuf> {
    let set = |name: &str| var(name).filter(|v| !v.is_empty()).map(PathBuf::from);
    let config = set("XDG_CONFIG_HOME").or_else(|| set("HOME").map(|h| h.join(".config")))?;
    Some(config.join("ccusage-import").join(".env"))
}

fn discover_with(
    explicit: Option<&Path>,
    exists: impl Fn(&Path) -> bool,
    var: impl Fn(&str) -> Option<OsString>,
) -> Option<PathBuf> {
    // An empty --env-file / CCUSAGE_IMPORT_ENV_FILE means "not set", as for other settings.
    if let Some(path) = explicit.filter(|p| !p.as_os_str().is_empty()) {
        return Some(path.to_path_buf());
    }
    let local = Path::new(".env");
    if exists(local) {
        return Some(local.to_path_buf());
    }
    user_file_with(var).filter(|p| exists(p))
}

/// The settings file a run read: its values, which apply only where neither a flag nor the
/// environment gives the setting, and what is worth a warning about it.
#[derive(Debug, Clone, Default)]
pub struct EnvFile {
    /// The file read, if any.
    pub path: Option<PathBuf>,
    /// Its settings whose names the environment does not set, first definition of each.
    pub entries: Vec<Entry>,
    /// Things the user should fix (others may read it, a name no setting has).
    pub warnings: Vec<String>,
}

impl EnvFile {
    /// The file's value for `key`, unless the environment sets it.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|e| e.key == key)
            .map(|e| e.value.as_str())
    }

    /// Reads the file [`discover`] finds. A variable the environment sets is never taken from
    /// the file (flags beat the environment, which beats the file). `known` are the names a
    /// setting has: any other name gets a warning naming the nearest of them, since a typo
    /// (`CH_HSOT=`) would otherwise leave the default in use without a word.
    pub fn load(explicit: Option<&Path>, known: &[String]) -> Result<EnvFile> {
        let Some(path) = discover(explicit) else {
            return Ok(EnvFile::default());
        };
        let mut warnings = Vec::new();
        if readable_by_others(&path) {
            warnings.push(format!(
                "{} is readable by other users and may hold the ClickHouse password: chmod \
                 600 {0}",
                path.display()
            ));
        }
        let all = read(&path)?;
        for entry in &all {
            if known.contains(&entry.key) {
                continue;
            }
            let hint = match crate::suggest::nearest(&entry.key, known.iter().map(String::as_str)) {
                Some(name) => format!("did you mean {name}?"),
                None => "it is only passed on to ccusage".to_owned(),
            };
            warnings.push(format!(
                "{} line {}: {} is not a setting of ccusage-import: {hint}",
                path.display(),
                entry.line,
                entry.key
            ));
        }
        let entries = all
            .into_iter()
            .filter(|e| std::env::var_os(&e.key).is_none())
            .collect();
        Ok(EnvFile {
            path: Some(path),
            entries,
            warnings,
        })
    }
}

fn readable_by_others(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .map(|m| m.permissions().mode() & 0o044 != 0)
        .unwrap_or(false)
}

/// The settings a file holds, in order, first definition of each key only. A value holding a
/// control character (a NUL, a newline from `\n`, an escape sequence) is refused by key and
/// line, never shown: no setting takes one, and it may be the password.
pub fn read(path: &Path) -> Result<Vec<Entry>> {
    let text = read_bounded(path)?;
    // Editors on some systems start the file with a byte-order mark.
    let text = text.strip_prefix('\u{FEFF}').unwrap_or(&text);
    let entries = parse(text).map_err(|line| {
        anyhow::anyhow!(
            "the settings file {} has a line that is not KEY=VALUE (line {line}): fix or \
             remove it (its text is not shown, since it may hold the password)",
            path.display()
        )
    })?;
    if let Some(bad) = entries
        .iter()
        .find(|e| e.value.chars().any(|c| c.is_control() && c != '\t'))
    {
        bail!(
            "the settings file {} gives {} a value holding a control character (line {}): \
             remove it (the value is not shown, since it may be the password)",
            path.display(),
            bad.key,
            bad.line
        );
    }
    Ok(entries)
}

/// Reads at most [`MAX_BYTES`], so `--env-file /dev/zero` or a huge file is refused instead of
/// filling memory.
fn read_bounded(path: &Path) -> Result<String> {
    let what = || format!("cannot read the settings file {}", path.display());
    let file = crate::smallfile::open_regular(path).with_context(what)?;
    let mut bytes = Vec::new();
    file.take(MAX_BYTES + 1)
        .read_to_end(&mut bytes)
        .with_context(what)?;
    if bytes.len() as u64 > MAX_BYTES {
        bail!(
            "the settings file {} is larger than {} KiB: is it the right file? pass the .env \
             with --env-file",
            path.display(),
            MAX_BYTES / 1024
        );
    }
    String::from_utf8(bytes).map_err(|e| {
        let line = e.as_bytes()[..e.utf8_error().valid_up_to()]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1;
        anyhow::anyhow!(
            "the settings file {} is not UTF-8 text (line {line}): save it as UTF-8",
            path.display()
        )
    })
}

/// Parses the text; a line that does not parse is returned as its 1-based number.
pub fn parse(text: &str) -> Result<Vec<Entry>, usize> {
    let mut settings: Vec<Entry> = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let Some((key, value)) = parse_line(line).ok_or(index + 1)? else {
            continue;
        };
        if !settings.iter().any(|e| e.key == key) {
            settings.push(Entry {
                key,
                value,
                line: index + 1,
            });
        }
    }
    Ok(settings)
}

/// `None`: the line is malformed; `Some(None)`: blank or a comment.
fn parse_line(line: &str) -> Option<Option<(String, String)>> {
    let line = line.strip_suffix('\r').unwrap_or(line).trim_start();
    if line.is_empty() || line.starts_with('#') {
        return Some(None);
    }
    let line = line
        .strip_prefix("export")
        .filter(|rest| rest.starts_with([' ', '\t']))
        .map_or(line, str::trim_start);
    let (key, value) = line.split_once('=')?;
    let key = key.trim_end();
    let mut chars = key.chars();
    let valid_key = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.');
    if !valid_key {
        return None;
    }
    Some(Some((key.to_owned(), parse_value(value.trim_start())?)))
}

fn parse_value(value: &str) -> Option<String> {
    let (parsed, rest) = match value.chars().next() {
        Some('\'') => {
            let end = value[1..].find('\'')? + 1;
            (value[1..end].to_owned(), &value[end + 1..])
        }
        Some('"') => double_quoted(&value[1..])?,
        _ => {
            // Unquoted: up to a comment that follows whitespace, trimmed.
            let end = value
                .char_indices()
                .find(|&(i, c)| c == '#' && value[..i].ends_with([' ', '\t']))
                .map_or(value.len(), |(i, _)| i);
            return Some(value[..end].trim_end().to_owned());
        }
    };
    let rest = rest.trim_start();
    (rest.is_empty() || rest.starts_with('#')).then_some(parsed)
}

/// The inside of a double-quoted value and what follows the closing quote.
fn double_quoted(text: &str) -> Option<(String, &str)> {
    let mut out = String::new();
    let mut chars = text.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Some((out, &text[i + 1..])),
            '\\' => out.push(match chars.next()?.1 {
                'n' => '\n',
                't' => '\t',
                other @ ('\\' | '"' | '$' | '\'' | ' ') => other,
                _ => return None,
            }),
            other => out.push(other),
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(line: &str) -> Option<String> {
        parse(line).ok()?.into_iter().next().map(|e| e.value)
    }

    #[test]
    fn values_are_read_as_setup_cronjob_reads_them() {
        assert_eq!(one("A=b").as_deref(), Some("b"));
        assert_eq!(one("export A = b c # note").as_deref(), Some("b c"));
        assert_eq!(one("A=b#c").as_deref(), Some("b#c"));
        assert_eq!(one("A='x y # $Z'").as_deref(), Some("x y # $Z"));
        assert_eq!(one(r#"A="a\"b\n\$c" # c"#).as_deref(), Some("a\"b\n$c"));
        assert_eq!(one("A=").as_deref(), Some(""));
        assert_eq!(one("A=pa$HOME$1").as_deref(), Some("pa$HOME$1"));
        assert_eq!(one("A=\"p$HOME\"").as_deref(), Some("p$HOME"));
    }

    #[test]
    fn the_first_definition_wins_and_comments_are_skipped() {
        let got: Vec<_> = parse("# c\n\nA=1\r\nA=2\nB=3\n")
            .unwrap()
            .into_iter()
            .map(|e| (e.key, e.value, e.line))
            .collect();
        assert_eq!(
            got,
            vec![("A".into(), "1".into(), 3), ("B".into(), "3".into(), 5)]
        );
    }

    #[test]
    fn the_file_is_found_the_same_way_for_every_command() {
        let home = |name: &str| match name {
            "HOME" => Some(OsString::from("/home/u")),
            _ => None,
        };
        let xdg = |name: &str| match name {
            "XDG_CONFIG_HOME" => Some(OsString::from("/cfg")),
            "HOME" => Some(OsString::from("/home/u")),
            _ => None,
        };
        let all = |_: &Path| true;
        let user_only = |p: &Path| p != Path::new(".env");
        let none = |_: &Path| false;
        let found = |e: Option<&str>, exists: &dyn Fn(&Path) -> bool, var: &dyn Fn(&str) -> _| {
            discover_with(e.map(Path::new), exists, var)
        };
        assert_eq!(found(Some("/x/.env"), &all, &home), Some("/x/.env".into()));
        assert_eq!(found(None, &all, &home), Some(".env".into()));
        assert_eq!(
            found(None, &user_only, &home),
            Some("/home/u/.config/ccusage-import/.env".into())
        );
        assert_eq!(
            found(None, &user_only, &xdg),
            Some("/cfg/ccusage-import/.env".into())
        );
        assert_eq!(
            found(Some(""), &user_only, &xdg),
            Some("/cfg/ccusage-import/.env".into())
        );
        assert_eq!(found(None, &none, &xdg), None);
        assert_eq!(found(None, &all, &|_: &str| None), Some(".env".into()));
        assert_eq!(found(None, &user_only, &|_: &str| None), None);
    }

    #[test]
    fn a_bad_line_is_named_by_number() {
        assert_eq!(parse("A=1\nnot a setting\n"), Err(2));
        assert_eq!(parse("A=1\nB='open\n"), Err(2));
        assert_eq!(parse("A=\"x\" y"), Err(1));
        assert_eq!(parse("1A=x"), Err(1));
    }
}

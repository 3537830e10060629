//! `--verbose`, and the one place every message passes before it leaves the process: the
//! password is redacted from all of them (errors, warnings, `--verbose`, `--json`, the summary,
//! the ledger's error column), including text a server or a proxy echoed back. The password is
//! never formatted on purpose; this catches what others put in front of us.

use std::borrow::Cow;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use crate::transform::projects::Projects;

static VERBOSE: AtomicBool = AtomicBool::new(false);
static SECRETS: OnceLock<Vec<String>> = OnceLock::new();

pub fn enable(on: bool) {
    VERBOSE.store(on, Ordering::Relaxed);
}

pub fn enabled() -> bool {
    VERBOSE.load(Ordering::Relaxed)
}

/// Registers the password, once, before anything is printed. Its percent-encoded form is
/// redacted too, since a proxy that echoes a request may show it that way.
pub fn set_secret(password: &str) {
    if password.is_empty() {
        return;
    }
    let mut forms = vec![password.to_owned(), percent_encode(password)];
    forms.dedup();
    // Longest first, so a form that contains another is replaced whole.
    forms.sort_by_key(|form| std::cmp::Reverse(form.len()));
    let _ = SECRETS.set(forms);
}

/// `text` with every occurrence of the password replaced by `***`.
pub fn redact(text: &str) -> Cow<'_, str> {
    let Some(secrets) = SECRETS.get() else {
        return Cow::Borrowed(text);
    };
    let mut text = Cow::Borrowed(text);
    for secret in secrets {
        if text.contains(secret.as_str()) {
            text = Cow::Owned(text.replace(secret.as_str(), "***"));
        }
    }
    text
}

fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Text that came from outside (ccusage's paths, session ids, model names; a server's
/// message) made safe for a terminal and a log: control characters are written as escapes,
/// so a crafted project path cannot start a forged log line or send terminal commands.
pub fn printable(text: &str) -> Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

static PROJECTS: OnceLock<Arc<Projects>> = OnceLock::new();

/// In hash and hidden runs (`--projects`) verbose lines lose what could name a project (the
/// home directory, quoted ids and output), as the errors of a report do.
pub fn redact_projects_with(projects: Arc<Projects>) {
    let _ = PROJECTS.set(projects);
}

pub fn redact_projects(line: String) -> String {
    match PROJECTS.get() {
        Some(projects) => projects.redact(&line),
        None => line,
    }
}

/// Prints a `ccusage-import: verbose:` line on stderr when `--verbose` is on, redacted, and
/// one line whatever a server put into it.
macro_rules! verbose {
    ($($arg:tt)*) => {
        if $crate::log::enabled() {
            let line = $crate::log::redact_projects(format!($($arg)*));
            let line = $crate::log::printable(&line);
            $crate::log::emit(&format!("ccusage-import: verbose: {line}\n"));
        }
    };
}
pub(crate) use verbose;

/// Writes to stderr, redacted; a stderr that cannot be written to is ignored, since there is
/// nowhere left to say so, and it must not end the run.
pub fn emit(text: &str) {
    use std::io::Write as _;
    let _ = std::io::stderr().lock().write_all(redact(text).as_bytes());
}

/// Writes to stdout, redacted, and flushes; a full disk or a closed pipe is an error for the
/// caller to report, never a panic as with `print!`.
pub fn stdout(text: &str) -> anyhow::Result<()> {
    write_stdout(&redact(text))
}

/// One JSON object on a line of stdout, redacted as [`redact_json`] does.
pub fn stdout_json(mut value: serde_json::Value) -> anyhow::Result<()> {
    redact_json(&mut value);
    write_stdout(&format!("{value}\n"))
}

fn write_stdout(text: &str) -> anyhow::Result<()> {
    use anyhow::Context as _;
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .context("cannot write to standard output (a full disk or a closed pipe?)")
}

/// A JSON value with the password redacted from its strings only, so the output stays valid
/// JSON whatever the password looks like (a password `1` must not turn a count into `***`).
fn redact_json(value: &mut serde_json::Value) {
    use serde_json::Value;
    match value {
        Value::String(text) => {
            if let Cow::Owned(redacted) = redact(text) {
                *text = redacted;
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact_json),
        Value::Object(map) => map.values_mut().for_each(redact_json),
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped_and_other_text_is_kept() {
        assert_eq!(printable("/home/ü/p"), "/home/ü/p");
        assert_eq!(
            printable("a\nccusage-import: error: x\u{1b}[2J"),
            "a\\nccusage-import: error: x\\u{1b}[2J"
        );
    }

    /// The only test that registers a secret: it is process-wide, once.
    #[test]
    fn the_password_is_redacted_from_text_and_from_json_strings_only() {
        set_secret("7");
        assert_eq!(redact("pw 7 or 7"), "pw *** or ***");
        let mut value = serde_json::json!({"rows": 7, "error": "key 7", "list": ["7"]});
        redact_json(&mut value);
        assert_eq!(
            value,
            serde_json::json!({"rows": 7, "error": "key ***", "list": ["***"]})
        );
    }

    #[test]
    fn percent_encoding_covers_everything_but_unreserved_characters() {
        assert_eq!(percent_encode("a b/c~"), "a%20b%2Fc~");
    }
}

//! `--verbose`, and the one place every message passes before it leaves the process: the
//! password is redacted from all of them (errors, warnings, `--verbose`, `--json`, the summary,
//! the ledger's error column), including text a server or a proxy echoed back. The password is
//! never formatted on purpose; this catches what others put in front of us.

use std::borrow::Cow;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;

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

/// Prints a `ccusage-import: verbose:` line on stderr when `--verbose` is on, redacted.
macro_rules! verbose {
    ($($arg:tt)*) => {
        if $crate::log::enabled() {
            let line = format!($($arg)*);
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
    use anyhow::Context as _;
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    out.write_all(redact(text).as_bytes())
        .and_then(|()| out.flush())
        .context("cannot write to standard output (a full disk or a closed pipe?)")
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

    #[test]
    fn percent_encoding_covers_everything_but_unreserved_characters() {
        assert_eq!(percent_encode("a b/c~"), "a%20b%2Fc~");
    }
}

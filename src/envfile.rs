//! The `.env` settings file, read by hand rather than with dotenvy, because dotenvy quotes the
//! text of a line it cannot parse (a password line included) in its error, reads a file of any
//! size, and silently expands `$NAME` in unquoted values, so a password holding `$` arrived cut.
//!
//! The format is the one `scripts/setup_cronjob.sh` reads too: `KEY=VALUE` lines, an optional
//! `export ` before the key, `#` comments; 'single' quotes are literal, "double" quotes take
//! backslash escapes (`\n`, `\t`, `\\`, `\"`, `\$`), unquoted values end at ` #`. A `$` is kept
//! as written everywhere. The first definition of a key wins.

use std::fs::File;
use std::io::Read as _;
use std::path::Path;

use anyhow::{bail, Context as _, Result};

/// Far above any real settings file (a few hundred bytes), far below what would hurt.
pub const MAX_BYTES: u64 = 64 * 1024;

/// The settings a file holds, in order, first definition of each key only.
pub fn read(path: &Path) -> Result<Vec<(String, String)>> {
    let text = read_bounded(path)?;
    // Editors on some systems start the file with a byte-order mark.
    let text = text.strip_prefix('\u{FEFF}').unwrap_or(&text);
    parse(text).map_err(|line| {
        anyhow::anyhow!(
            "the settings file {} has a line that is not KEY=VALUE (line {line}): fix or \
             remove it (its text is not shown, since it may hold the password)",
            path.display()
        )
    })
}

/// Reads at most [`MAX_BYTES`], so `--env-file /dev/zero` or a huge file is refused instead of
/// filling memory.
fn read_bounded(path: &Path) -> Result<String> {
    let what = || format!("cannot read the settings file {}", path.display());
    let file = File::open(path).with_context(what)?;
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
pub fn parse(text: &str) -> Result<Vec<(String, String)>, usize> {
    let mut settings: Vec<(String, String)> = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let Some((key, value)) = parse_line(line).ok_or(index + 1)? else {
            continue;
        };
        if !settings.iter().any(|(k, _)| *k == key) {
            settings.push((key, value));
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
        parse(line).ok()?.into_iter().next().map(|(_, v)| v)
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
        let got = parse("# c\n\nA=1\r\nA=2\nB=3\n").unwrap();
        assert_eq!(
            got,
            vec![("A".into(), "1".into()), ("B".into(), "3".into())]
        );
    }

    #[test]
    fn a_bad_line_is_named_by_number() {
        assert_eq!(parse("A=1\nnot a setting\n"), Err(2));
        assert_eq!(parse("A=1\nB='open\n"), Err(2));
        assert_eq!(parse("A=\"x\" y"), Err(1));
        assert_eq!(parse("1A=x"), Err(1));
    }
}

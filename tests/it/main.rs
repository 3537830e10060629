//! One integration-test binary: a real ClickHouse server, real ccusage on generated logs, and a
//! stand-in ccusage for what cannot be produced for real. Each test has its own database.

mod attack;
mod bad_input;
mod budget;
mod cluster;
mod dashboard;
mod dry_run;
mod endpoints;
mod faults;
mod fleet;
mod harness;
mod hostile;
mod hours;
mod import;
mod integrity;
mod join;
mod lock;
mod names;
mod projects;
mod proxy;
mod queries;
mod report;
mod secrets;
mod sequences;
mod sessions;
mod settings;
mod signals;
mod timezones;
mod tls;
mod versions;

/// The test files of this binary, by module name, with the names of their tests.
fn test_files() -> Vec<(String, String)> {
    let dir = std::path::Path::new(harness::ROOT).join("tests/it");
    let mut files: Vec<(String, String)> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|entry| {
            let name = entry.file_name().to_string_lossy().into_owned();
            let text = std::fs::read_to_string(entry.path()).unwrap();
            (name.trim_end_matches(".rs").to_owned(), text)
        })
        .filter(|(_, text)| text.contains("#[test]") || text.contains("#[tokio::test"))
        .collect();
    files.sort();
    files
}

/// docs/testing.md says which file holds which feature's tests: every file is in its table.
#[test]
fn the_testing_doc_names_every_test_file() {
    let doc = std::fs::read_to_string(std::path::Path::new(harness::ROOT).join("docs/testing.md"))
        .unwrap();
    let missing: Vec<String> = test_files()
        .into_iter()
        .map(|(module, _)| format!("| `{module}.rs`"))
        .filter(|row| !doc.lines().any(|line| line.starts_with(row.as_str())))
        .collect();
    assert!(
        missing.is_empty(),
        "docs/testing.md has no row for {missing:?}"
    );
}

/// Every `` `module::name` `` in `text` (no deeper path): the module and the name.
fn cited_tests(text: &str) -> Vec<(&str, &str)> {
    let ident = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_';
    text.match_indices("::")
        .filter_map(|(at, _)| {
            let (before, after) = (&text[..at], &text[at + 2..]);
            let module = &before[before.trim_end_matches(ident).len()..];
            let name = &after[..after.len() - after.trim_start_matches(ident).len()];
            let opened = before[..before.len() - module.len()].ends_with('`');
            let closed = after[name.len()..].starts_with('`');
            (opened && closed && !module.is_empty() && !name.is_empty()).then_some((module, name))
        })
        .collect()
}

/// A test the docs cite as `module::name` (a file of this binary) exists under that name, so
/// moving or renaming a test cannot leave a doc pointing at nothing.
#[test]
fn every_test_the_docs_cite_exists() {
    let files = test_files();
    let docs = std::path::Path::new(harness::ROOT).join("docs");
    let mut dangling = Vec::new();
    for entry in std::fs::read_dir(docs).unwrap().flatten() {
        if entry.path().extension().is_none_or(|e| e != "md") {
            continue;
        }
        let text = std::fs::read_to_string(entry.path()).unwrap();
        for (module, name) in cited_tests(&text) {
            let Some((_, source)) = files.iter().find(|(m, _)| m == module) else {
                continue;
            };
            if !source.contains(&format!("fn {name}()")) {
                let doc = entry.file_name().to_string_lossy().into_owned();
                dangling.push(format!("{doc}: {module}::{name}"));
            }
        }
    }
    assert!(
        dangling.is_empty(),
        "docs cite tests that do not exist: {dangling:#?}"
    );
}

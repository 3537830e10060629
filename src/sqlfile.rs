//! Named SQL statements kept in `sql/*.sql`, so SQL lives in SQL files and the code refers to
//! statements by name. This is the one place that reads them: the migration, `--verify` and
//! `query` all ask here.

/// The schema applied at the start of every run.
pub const SCHEMA: &str = include_str!("../sql/schema.sql");
/// The statements the importer runs.
pub const IMPORT: &str = include_str!("../sql/import.sql");
/// The named queries of `ccusage-import query`.
pub const QUERIES: &str = include_str!("../sql/queries.sql");
/// The statements of `ccusage-import dashboard`, one per panel.
pub const DASHBOARD: &str = include_str!("../sql/dashboard.sql");

/// A statement from a file of `-- name: NAME` blocks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Named<'a> {
    pub name: &'a str,
    /// Comment lines directly above the `-- name:` line: what the statement answers.
    pub description: String,
    pub sql: String,
}

/// Splits a file of `-- name: NAME` blocks. A block's SQL runs to the next block's comments.
pub fn parse_named(text: &str) -> Vec<Named<'_>> {
    let mut out: Vec<Named<'_>> = Vec::new();
    let mut comments: Vec<&str> = Vec::new();
    for line in text.lines() {
        let trimmed = line.trim();
        if let Some(name) = trimmed.strip_prefix("-- name:") {
            out.push(Named {
                name: name.trim(),
                description: comments.join(" "),
                sql: String::new(),
            });
            comments.clear();
        } else if trimmed.is_empty() {
            // A blank line ends a comment block: only the comments right above a name
            // describe it.
            comments.clear();
        } else if let Some(comment) = trimmed.strip_prefix("--") {
            comments.push(comment.trim());
        } else if let Some(current) = out.last_mut() {
            comments.clear();
            current.sql.push_str(line);
            current.sql.push('\n');
        }
    }
    for named in &mut out {
        named.sql = named.sql.trim().trim_end_matches(';').to_owned();
    }
    out
}

/// A statement of `sql/import.sql` by name. The names are fixed at build time, and a test
/// checks that every name the code asks for exists.
pub fn import(name: &str) -> String {
    static PARSED: std::sync::OnceLock<Vec<Named<'static>>> = std::sync::OnceLock::new();
    PARSED
        .get_or_init(|| parse_named(IMPORT))
        .iter()
        .find(|n| n.name == name)
        .map(|n| n.sql.clone())
        .unwrap_or_else(|| panic!("sql/import.sql has no statement named {name}"))
}

/// The schema's statements in order, comments dropped. Statements are separated by a line
/// holding only `;`.
/// How many `?` bind markers a statement holds (`??` is a literal `?` to the client): for
/// statements that bind one value to every marker, so no count is kept beside the SQL.
pub fn placeholders(sql: &str) -> usize {
    sql.replace("??", "").matches('?').count()
}

pub fn schema_statements() -> Vec<String> {
    SCHEMA
        .split("\n;\n")
        .map(|chunk| {
            chunk
                .lines()
                .filter(|line| !line.trim_start().starts_with("--"))
                .collect::<Vec<_>>()
                .join("\n")
                .trim()
                .to_owned()
        })
        .filter(|statement| !statement.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_count_bind_markers_only() {
        assert_eq!(placeholders("SELECT 1 WHERE a = ? AND b = ?"), 2);
        assert_eq!(placeholders("SELECT '??'"), 0);
        assert_eq!(placeholders("SELECT 1"), 0);
    }

    #[test]
    fn every_statement_name_is_used_once() {
        for text in [IMPORT, QUERIES, DASHBOARD] {
            let mut names: Vec<&str> = parse_named(text).iter().map(|n| n.name).collect();
            let all = names.len();
            names.sort_unstable();
            names.dedup();
            assert_eq!(
                names.len(),
                all,
                "a name is used twice: the second is never run"
            );
        }
    }

    #[test]
    fn named_blocks_keep_their_description_and_sql() {
        let text = "-- header\n\n-- What it answers.\n-- name: one\nSELECT 1\n\n-- name: two\nSELECT\n  2;\n";
        let parsed = parse_named(text);
        assert_eq!(parsed.len(), 2);
        assert_eq!(parsed[0].name, "one");
        assert_eq!(parsed[0].description, "What it answers.");
        assert_eq!(parsed[0].sql, "SELECT 1");
        assert_eq!(parsed[1].sql, "SELECT\n  2");
    }

    #[test]
    fn the_schema_has_no_bind_markers_besides_the_database_name() {
        let statements = schema_statements();
        assert!(statements[0].starts_with("CREATE DATABASE IF NOT EXISTS"));
        for statement in &statements[1..] {
            assert!(!statement.contains('?'), "{statement}");
        }
        assert!(statements.len() >= 12);
    }

    #[test]
    fn the_schema_never_deletes() {
        let import = parse_named(IMPORT)
            .into_iter()
            .filter(|n| n.name != "drop_view")
            .map(|n| n.sql);
        for statement in schema_statements().into_iter().chain(import) {
            let upper = statement.to_uppercase();
            for word in ["DELETE", "DROP", "TRUNCATE", "UPDATE", "MODIFY", "RENAME"] {
                assert!(!upper.contains(word), "{statement}");
            }
            // The only change to an existing table: adding a column.
            if upper.contains("ALTER") {
                assert!(
                    upper.starts_with("ALTER TABLE ? ADD COLUMN ?"),
                    "{statement}"
                );
            }
        }
    }

    /// The one statement that drops anything drops one object by bound name, and the only
    /// code that sends it re-creates a view, after system.tables showed a View, or a cluster's
    /// Distributed table (no rows), after system.tables showed it Distributed.
    #[test]
    fn the_only_drop_is_of_a_view_the_schema_owns() {
        assert_eq!(import("drop_view"), "DROP TABLE IF EXISTS ?");
        let code = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/src/sink/mod.rs"))
            .unwrap();
        assert_eq!(code.matches("\"drop_view\"").count(), 1);
        let at = code.find("\"drop_view\"").unwrap();
        let arm = &code[code[..at].rfind("            Step::").unwrap()..at];
        assert!(
            arm.trim_start().starts_with(
                "Step::ReplaceView { name, sql } | Step::RecreateDistributed { name, sql } =>"
            ),
            "{arm}"
        );
        let migrate =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/src/sink/migrate.rs"))
                .unwrap();
        let migrate = migrate.split("#[cfg(test)]").next().unwrap();
        // ReplaceView is planned in one place, behind the check that the object is a View.
        assert_eq!(migrate.matches("Step::ReplaceView {").count(), 1);
        let planned = migrate.find("Step::ReplaceView {").unwrap();
        let guard = &migrate[..planned];
        assert!(guard.rfind("engine != \"View\"").is_some());
        // RecreateDistributed likewise, only for a table the schema's cluster form declares
        // Distributed, after the check that the server's table has the declared engine.
        assert_eq!(migrate.matches("Step::RecreateDistributed {").count(), 1);
        let planned = migrate.find("Step::RecreateDistributed {").unwrap();
        let guard = &migrate[..planned];
        let engine_checked = guard.rfind("if *engine != table.engine").unwrap();
        let distributed = guard
            .rfind("None if table.engine == \"Distributed\"")
            .unwrap();
        assert!(engine_checked < distributed);
    }

    /// Every statement name the code asks sql/import.sql for exists, and every statement there
    /// is asked for: names passed to `sqlfile::import("…")` and the `EXISTING` reads of the
    /// `table!` rows.
    #[test]
    fn every_import_statement_is_used_and_every_used_name_exists() {
        use std::collections::BTreeSet;
        let mut asked = BTreeSet::new();
        let src = concat!(env!("CARGO_MANIFEST_DIR"), "/src");
        let mut dirs = vec![std::path::PathBuf::from(src)];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    dirs.push(path);
                    continue;
                }
                let code = std::fs::read_to_string(&path).unwrap();
                for (marker, skip) in [
                    ("sqlfile::import(\"", 17),
                    ("\"existing_", 1),
                    ("\"stored_", 1),
                    ("\"rekey_", 1),
                ] {
                    for (at, _) in code.match_indices(marker) {
                        let name: String = code[at + skip..]
                            .chars()
                            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                            .collect();
                        // The markers themselves, quoted in this test, end in `_` or nothing.
                        if !name.is_empty() && !name.ends_with('_') {
                            asked.insert(name);
                        }
                    }
                }
            }
        }
        let defined: BTreeSet<String> = parse_named(IMPORT)
            .iter()
            .map(|n| n.name.to_owned())
            .collect();
        let missing: Vec<&String> = asked.difference(&defined).collect();
        let unused: Vec<&String> = defined.difference(&asked).collect();
        assert!(
            missing.is_empty(),
            "asked for but not in sql/import.sql: {missing:?}"
        );
        assert!(
            unused.is_empty(),
            "in sql/import.sql but never asked for: {unused:?}"
        );
        assert!(asked.contains("existing_daily") && asked.contains("ledger_has_run"));
    }
}

//! Named SQL statements kept in `sql/*.sql`, so SQL lives in SQL files and the code refers to
//! statements by name. This is the one place that reads them: the migration, `--verify` and
//! `query` all ask here.

use std::collections::BTreeMap;

/// The schema applied at the start of every run.
pub const SCHEMA: &str = include_str!("../sql/schema.sql");
/// The statements the importer runs.
pub const IMPORT: &str = include_str!("../sql/import.sql");
/// The named queries of `ccusage-import query`.
pub const QUERIES: &str = include_str!("../sql/queries.sql");

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
    parse_named(IMPORT)
        .into_iter()
        .find(|n| n.name == name)
        .map(|n| n.sql)
        .unwrap_or_else(|| panic!("sql/import.sql has no statement named {name}"))
}

/// The schema's statements in order, comments dropped. Statements are separated by a line
/// holding only `;`.
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

/// What `sql/schema.sql` declares: object name → columns (name, type). Views list columns
/// with an empty type; their types follow the tables they read.
pub fn schema_objects() -> BTreeMap<String, Vec<(String, String)>> {
    let mut objects = BTreeMap::new();
    for statement in schema_statements() {
        let mut lines = statement.lines();
        let head = lines.next().unwrap_or_default();
        if let Some(name) = head.strip_prefix("CREATE TABLE IF NOT EXISTS ") {
            let columns = lines
                .take_while(|line| !line.starts_with(')'))
                .filter_map(table_column)
                .collect();
            objects.insert(name.trim().to_owned(), columns);
        } else if let Some(rest) = head.strip_prefix("CREATE VIEW IF NOT EXISTS ") {
            let name = rest
                .split_whitespace()
                .next()
                .unwrap_or_default()
                .to_owned();
            let columns = statement
                .lines()
                .skip_while(|line| line.trim() != "SELECT")
                .skip(1)
                .take_while(|line| !line.starts_with("FROM"))
                .map(|line| (line.trim().trim_end_matches(',').to_owned(), String::new()))
                .collect();
            objects.insert(name, columns);
        }
    }
    objects
}

/// `    name Type COMMENT '…',` → (name, Type).
fn table_column(line: &str) -> Option<(String, String)> {
    let line = line.trim().trim_end_matches(',');
    if line == "(" || line.is_empty() {
        return None;
    }
    let (name, rest) = line.split_once(' ')?;
    let column_type = rest.split(" COMMENT ").next().unwrap_or(rest).trim();
    Some((name.to_owned(), column_type.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let import = parse_named(IMPORT).into_iter().map(|n| n.sql);
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

    #[test]
    fn every_table_and_view_of_the_schema_is_known_with_its_columns() {
        let objects = schema_objects();
        assert_eq!(objects.len(), 19, "{:?}", objects.keys());
        let daily = &objects["ccusage_usage_daily"];
        assert!(daily.contains(&("date".into(), "Date".into())));
        assert!(daily.contains(&("total_cost".into(), "Decimal(18, 9)".into())));
        let view = &objects["ccusage_v_daily_summary"];
        assert!(view.iter().any(|(name, _)| name == "total_cost"));
    }
}

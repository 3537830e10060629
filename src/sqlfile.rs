//! Named SQL statements kept in `sql/*.sql`, so SQL lives in SQL files and the code refers to
//! statements by name.

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
}

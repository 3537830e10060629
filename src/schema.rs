//! What `sql/schema.sql` declares, parsed once: the database statement, every table with its
//! columns and engine, every view with its query. Migration and `--verify` both read it here.

use std::sync::OnceLock;

use crate::sqlfile;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schema {
    /// `CREATE DATABASE IF NOT EXISTS` with `{database}` where the name goes.
    pub create_database: String,
    pub tables: Vec<TableDef>,
    /// In the order of the file: a view may read a view declared above it.
    pub views: Vec<ViewDef>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableDef {
    pub name: String,
    /// (name, type) as written in the schema.
    pub columns: Vec<(String, String)>,
    /// The engine's name (`ReplacingMergeTree`), as `system.tables.engine` shows it.
    pub engine: String,
    pub create: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ViewDef {
    pub name: String,
    pub columns: Vec<String>,
    /// The view's query, from its `SELECT` on.
    pub query: String,
    pub create: String,
}

/// The schema, parsed on first use.
pub fn schema() -> &'static Schema {
    static SCHEMA: OnceLock<Schema> = OnceLock::new();
    SCHEMA.get_or_init(|| parse(&sqlfile::schema_statements()))
}

fn parse(statements: &[String]) -> Schema {
    let mut schema = Schema {
        create_database: String::new(),
        tables: Vec::new(),
        views: Vec::new(),
    };
    for statement in statements {
        let head = statement.lines().next().unwrap_or_default();
        if head.starts_with("CREATE DATABASE") {
            schema.create_database = statement.clone();
        } else if let Some(name) = head.strip_prefix("CREATE TABLE IF NOT EXISTS ") {
            schema.tables.push(table(name.trim(), statement));
        } else if let Some(rest) = head.strip_prefix("CREATE VIEW IF NOT EXISTS ") {
            let name = rest.split_whitespace().next().unwrap_or_default();
            schema.views.push(view(name, statement));
        } else {
            panic!("sql/schema.sql holds a statement the importer does not know: {head}");
        }
    }
    schema
}

fn table(name: &str, statement: &str) -> TableDef {
    let columns = statement
        .lines()
        .skip(1)
        .take_while(|line| !line.starts_with(')'))
        .filter_map(table_column)
        .collect();
    let engine = statement
        .lines()
        .find_map(|line| line.strip_prefix("ENGINE = "))
        .map(|engine| {
            engine
                .split(|c: char| c == '(' || c.is_whitespace())
                .next()
                .unwrap_or_default()
                .to_owned()
        })
        .unwrap_or_else(|| panic!("sql/schema.sql: table {name} names no ENGINE"));
    TableDef {
        name: name.to_owned(),
        columns,
        engine,
        create: statement.to_owned(),
    }
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

fn view(name: &str, statement: &str) -> ViewDef {
    let columns = statement
        .lines()
        .skip_while(|line| line.trim() != "SELECT")
        .skip(1)
        .take_while(|line| !line.starts_with("FROM"))
        .map(|line| line.trim().trim_end_matches(',').to_owned())
        .collect();
    let query = statement
        .split_once(" AS\n")
        .map(|(_, query)| query.trim().to_owned())
        .unwrap_or_else(|| panic!("sql/schema.sql: view {name} has no AS line"));
    ViewDef {
        name: name.to_owned(),
        columns,
        query,
        create: statement.to_owned(),
    }
}

impl Schema {
    /// Every table and view name.
    #[cfg(test)]
    pub fn object_names(&self) -> std::collections::BTreeSet<String> {
        let tables = self.tables.iter().map(|t| t.name.clone());
        tables
            .chain(self.views.iter().map(|v| v.name.clone()))
            .collect()
    }

    #[cfg(test)]
    pub fn table(&self, name: &str) -> Option<&TableDef> {
        self.tables.iter().find(|t| t.name == name)
    }
}

/// Whether a view stored on the server (`system.tables.create_table_query`, which every
/// release prints its own way: one line, names qualified with the database, backquotes,
/// a column list before `AS`) runs the query the schema declares.
pub fn same_view_query(stored: &str, expected: &str, database: &str) -> bool {
    let Some(at) = stored.find(" AS SELECT") else {
        return false;
    };
    let query = &stored[at + " AS ".len()..];
    let canonical = |sql: &str| {
        sql.replace('`', "")
            .replace(&format!("{database}."), "")
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
    };
    canonical(query) == canonical(expected)
}

/// Servers print some types their own way (`Decimal(18, 9)`, `DateTime('UTC')`), so compare
/// without spaces and quotes.
pub fn same_type(found: &str, expected: &str) -> bool {
    let norm = |s: &str| s.replace([' ', '\'', '"'], "");
    norm(found) == norm(expected)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_table_and_view_of_the_schema_is_known_with_its_columns_and_engine() {
        let schema = schema();
        assert!(schema.create_database.contains("`{database}`"));
        let daily = schema.table("ccusage_usage_daily").unwrap();
        assert_eq!(daily.engine, "ReplacingMergeTree");
        assert!(daily.columns.contains(&("date".into(), "Date".into())));
        assert!(daily
            .columns
            .contains(&("total_cost".into(), "Decimal(18, 9)".into())));
        assert_eq!(
            schema.table("ccusage_import_runs").unwrap().engine,
            "MergeTree"
        );
        let view = schema
            .views
            .iter()
            .find(|v| v.name == "ccusage_v_daily_summary")
            .unwrap();
        assert!(view.columns.iter().any(|name| name == "total_cost"));
        assert!(view.query.starts_with("SELECT\n"));
        assert!(view.query.ends_with("FROM ccusage_usage_daily FINAL"));
    }

    #[test]
    fn a_view_compares_as_18_16_and_current_releases_print_it() {
        let expected = "SELECT\n    a,\n    b\nFROM t FINAL\nWHERE (a, b) IN\n(\n    SELECT a, max(b) FROM t GROUP BY a\n)";
        let old = "CREATE VIEW db.v ( a UInt8,  b Date) AS SELECT a, b FROM db.t FINAL  WHERE (a, b) IN (SELECT a, max(b) FROM db.t  GROUP BY a)";
        let new = "CREATE VIEW db.v\n(\n    `a` UInt8,\n    `b` Date\n) AS SELECT\n    a,\n    b\nFROM db.t FINAL\nWHERE (a, b) IN (\n    SELECT\n        a,\n        max(b)\n    FROM db.t\n    GROUP BY a\n)";
        assert!(same_view_query(old, expected, "db"));
        assert!(same_view_query(new, expected, "db"));
        let changed = old.replace("max(b)", "min(b)");
        assert!(!same_view_query(&changed, expected, "db"));
    }

    #[test]
    fn types_compare_without_spacing_and_quotes() {
        assert!(same_type("Decimal(18,9)", "Decimal(18, 9)"));
        assert!(same_type("DateTime('UTC')", "DateTime('UTC')"));
        assert!(!same_type("UInt32", "UInt64"));
        assert!(!same_type("Float64", "Decimal(18, 9)"));
    }
}

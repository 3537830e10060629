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

/// The suffix of a cluster's replicated tables; the Distributed table takes the public name,
/// so views, queries and the importer's own statements read all shards unchanged.
pub const LOCAL: &str = "_local";

impl Schema {
    /// The cluster form of this schema, derived from it (sql/schema.sql stays the one source):
    ///
    /// * every table becomes `<name>_local` with the replicated form of its engine, its data
    ///   kept in ZooKeeper under `/clickhouse/tables/{shard}/<database>/<name>_local`, and a
    ///   `Distributed` table under the public name that sends each row to a shard by
    ///   `cityHash64(machine_name)`: all of a machine's rows live on one shard, so `FINAL`
    ///   (which the shards apply each on their own) merges every version of a row;
    /// * every statement runs `ON CLUSTER`, names qualified (the servers run it in their own
    ///   default database);
    /// * a view's `IN (SELECT … FROM t …)` reads `t_local`: the outer query is sent to every
    ///   shard, and each shard's subquery then sees that shard's machines, which are the ones
    ///   its rows belong to (18.16 refuses a Distributed table inside a distributed query).
    ///
    /// `cluster` and `database` are plain identifiers (checked by `config`), so they can be
    /// written into DDL; no value ever is.
    pub fn on_cluster(&self, cluster: &str, database: &str) -> Schema {
        let table_names: Vec<&str> = self.tables.iter().map(|t| t.name.as_str()).collect();
        let tables = self
            .tables
            .iter()
            .flat_map(|t| {
                let local = replicated(t, cluster, database);
                let distributed = distributed(t, cluster, database);
                [local, distributed]
            })
            .collect();
        let views = self
            .views
            .iter()
            .map(|v| cluster_view(v, cluster, database, &table_names))
            .collect();
        Schema {
            create_database: format!("{} ON CLUSTER `{cluster}`", self.create_database.trim_end()),
            tables,
            views,
        }
    }

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

fn replicated(table: &TableDef, cluster: &str, database: &str) -> TableDef {
    let name = format!("{}{LOCAL}", table.name);
    let path = format!("'/clickhouse/tables/{{shard}}/{database}/{name}', '{{replica}}'");
    let create = table
        .create
        .lines()
        .map(|line| {
            if line.starts_with("CREATE TABLE IF NOT EXISTS ") {
                format!("CREATE TABLE IF NOT EXISTS `{database}`.{name} ON CLUSTER `{cluster}`")
            } else if let Some(engine) = line.strip_prefix("ENGINE = ") {
                // ReplacingMergeTree(row_version) → ReplicatedReplacingMergeTree(path, replica, row_version)
                let (engine_name, args) = match engine.split_once('(') {
                    Some((engine_name, args)) => (engine_name, format!(", {args}")),
                    None => (engine.trim(), ")".to_owned()),
                };
                format!("ENGINE = Replicated{engine_name}({path}{args}")
            } else {
                without_comment(line)
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    TableDef {
        name,
        columns: table.columns.clone(),
        engine: format!("Replicated{}", table.engine),
        create,
    }
}

/// 18.16 creates a replicated table whose columns carry comments on the first replica only:
/// the others find "Table structure in ZooKeeper is too different". The cluster form leaves
/// the comments out (sql/schema.sql keeps them, as the documentation).
fn without_comment(line: &str) -> String {
    match line.split_once(" COMMENT '") {
        Some((column, rest)) => {
            let comma = if rest.trim_end().ends_with(',') {
                ","
            } else {
                ""
            };
            format!("{column}{comma}")
        }
        None => line.to_owned(),
    }
}

fn distributed(table: &TableDef, cluster: &str, database: &str) -> TableDef {
    let name = &table.name;
    TableDef {
        name: name.clone(),
        columns: table.columns.clone(),
        engine: "Distributed".into(),
        create: format!(
            "CREATE TABLE IF NOT EXISTS `{database}`.{name} ON CLUSTER `{cluster}` \
             AS `{database}`.{name}{LOCAL}\n\
             ENGINE = Distributed(`{cluster}`, `{database}`, {name}{LOCAL}, cityHash64(machine_name))"
        ),
    }
}

fn cluster_view(view: &ViewDef, cluster: &str, database: &str, tables: &[&str]) -> ViewDef {
    let query = local_subqueries(&view.query, tables);
    let query = qualified(&query, database, tables, &view_names_in(&query));
    let head = format!(
        "CREATE VIEW IF NOT EXISTS `{database}`.{} ON CLUSTER `{cluster}` AS",
        view.name
    );
    ViewDef {
        name: view.name.clone(),
        columns: view.columns.clone(),
        create: format!("{head}\n{query}"),
        query,
    }
}

/// `FROM t` inside an `IN\n(` … `)` block, or after ` IN (` on one line, reads `t_local`.
fn local_subqueries(query: &str, tables: &[&str]) -> String {
    let lines: Vec<&str> = query.lines().collect();
    let mut inside = false;
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let trimmed = line.trim();
        if trimmed == "(" && i > 0 && lines[i - 1].trim_end().ends_with(" IN") {
            inside = true;
        } else if trimmed.starts_with(')') {
            inside = false;
        }
        let at = if inside { Some(0) } else { line.find(" IN (") };
        let line = match at {
            Some(at) => {
                let (head, mut tail) = (&line[..at], line[at..].to_owned());
                for table in tables {
                    let local = format!("FROM {table}{LOCAL}");
                    tail = replace_word(&tail, &format!("FROM {table}"), &local);
                }
                format!("{head}{tail}")
            }
            None => (*line).to_owned(),
        };
        out.push(line);
    }
    out.join("\n")
}

/// The views a query reads (`FROM ccusage_v_…`), to qualify them too.
fn view_names_in(query: &str) -> Vec<String> {
    query
        .split_whitespace()
        .filter(|word| word.starts_with("ccusage_v_"))
        .map(|word| word.trim_end_matches([',', ')']).to_owned())
        .collect()
}

/// `FROM name` → ``FROM `database`.name`` for every table (local or distributed) and view.
fn qualified(query: &str, database: &str, tables: &[&str], views: &[String]) -> String {
    let mut names: Vec<String> = tables
        .iter()
        .flat_map(|t| [format!("{t}{LOCAL}"), (*t).to_owned()])
        .collect();
    names.extend(views.iter().cloned());
    query
        .lines()
        .map(|line| {
            let mut line = line.to_owned();
            for name in &names {
                line = replace_word(
                    &line,
                    &format!("FROM {name}"),
                    &format!("FROM `{database}`.{name}"),
                );
            }
            line
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Replaces `from` where it is followed by the end of the line or a character that cannot
/// continue a name (so `FROM t` does not match `FROM t_local`).
fn replace_word(line: &str, from: &str, to: &str) -> String {
    let mut out = String::new();
    let mut rest = line;
    while let Some(at) = rest.find(from) {
        let after = &rest[at + from.len()..];
        let ends = after
            .chars()
            .next()
            .is_none_or(|c| !(c.is_ascii_alphanumeric() || c == '_'));
        out.push_str(&rest[..at]);
        out.push_str(if ends { to } else { from });
        rest = after;
    }
    out.push_str(rest);
    out
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
    fn the_cluster_form_is_derived_table_by_table_and_view_by_view() {
        let plain = schema();
        let cluster = plain.on_cluster("fleet", "db");
        assert_eq!(cluster.tables.len(), 2 * plain.tables.len());
        assert_eq!(cluster.views.len(), plain.views.len());
        assert!(cluster.create_database.ends_with("ON CLUSTER `fleet`"));
        for table in &plain.tables {
            // The sharding key: every table must say whose rows it holds.
            assert!(
                table.columns.iter().any(|(c, _)| c == "machine_name"),
                "{}",
                table.name
            );
            let local = cluster.table(&format!("{}_local", table.name)).unwrap();
            assert_eq!(local.engine, format!("Replicated{}", table.engine));
            assert_eq!(local.columns, table.columns);
            assert!(!local.create.contains("COMMENT"), "{}", local.create);
            assert!(local.create.contains(&format!(
                "Replicated{}('/clickhouse/tables/{{shard}}/db/{}_local', '{{replica}}'",
                table.engine, table.name
            )));
            let distributed = cluster.table(&table.name).unwrap();
            assert_eq!(distributed.engine, "Distributed");
            assert!(distributed.create.ends_with(&format!(
                "Distributed(`fleet`, `db`, {}_local, cityHash64(machine_name))",
                table.name
            )));
        }
        let daily = cluster.table("ccusage_usage_daily_local").unwrap();
        assert!(daily.create.contains(
            "ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/db/ccusage_usage_daily_local', '{replica}', row_version)"
        ));
        let runs = cluster.table("ccusage_import_runs_local").unwrap();
        assert!(runs.create.contains(
            "ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/db/ccusage_import_runs_local', '{replica}')"
        ));
        let view = |name: &str| cluster.views.iter().find(|v| v.name == name).unwrap();
        let breakdowns = &view("ccusage_v_model_breakdowns").query;
        assert!(breakdowns.contains("FROM `db`.ccusage_model_breakdowns FINAL"));
        assert!(breakdowns.contains("    FROM `db`.ccusage_model_breakdowns_local\n"));
        let sessions = &view("ccusage_v_session_summary").query;
        assert!(sessions.contains(
            "SELECT machine_name, session_scheme FROM `db`.ccusage_machines_local FINAL"
        ));
        // A derived table (not an IN) reads the Distributed table: every shard's rows; the
        // IN inside it reads the shard's own.
        let model_daily = &view("ccusage_v_model_daily").query;
        assert!(model_daily.contains("FROM `db`.ccusage_model_breakdowns\n"));
        assert!(model_daily.contains("FROM `db`.ccusage_usage_daily FINAL\n        ARRAY JOIN"));
        assert!(model_daily.contains("FROM `db`.ccusage_usage_daily_local FINAL\n"));
        assert!(view("ccusage_v_daily_summary").create.starts_with(
            "CREATE VIEW IF NOT EXISTS `db`.ccusage_v_daily_summary ON CLUSTER `fleet` AS\nSELECT"
        ));
    }

    #[test]
    fn types_compare_without_spacing_and_quotes() {
        assert!(same_type("Decimal(18,9)", "Decimal(18, 9)"));
        assert!(same_type("DateTime('UTC')", "DateTime('UTC')"));
        assert!(!same_type("UInt32", "UInt64"));
        assert!(!same_type("Float64", "Decimal(18, 9)"));
    }
}

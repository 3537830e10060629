//! Brings a database to `sql/schema.sql` before anything is written, and tells `--verify`
//! how far it is from it. The server's state is read once and compared object by object:
//!
//! * what the importer can repair without losing anything is planned as DDL — a missing
//!   database, table, column or view, and a view whose query differs (views hold no data, so
//!   one is dropped and created again; 18.16 has no `CREATE OR REPLACE VIEW`);
//! * what only a person may decide (a column of another type, a table of another engine, a
//!   table standing where a view should be) is a mismatch: the run fails before it writes
//!   anything, and the message says what to do;
//! * when nothing needs repair no DDL is sent, so a user without DDL rights (`allow_ddl=0`)
//!   can import into a database that is up to date.
//!
//! Tables and their columns come before views: a view cannot be created before the columns
//! it reads exist.

use std::collections::HashMap;

use anyhow::Result;
use clickhouse::Row;
use serde::Deserialize;

use super::Sink;
use crate::schema::{same_type, same_view_query, Schema, TableDef, ViewDef};
use crate::sqlfile;

/// What the server holds of the database.
#[derive(Debug, Default)]
pub struct Live {
    pub database_exists: bool,
    /// Object name → (engine, `create_table_query`).
    pub objects: HashMap<String, (String, String)>,
    /// (table, column) → type.
    pub columns: HashMap<(String, String), String>,
}

#[derive(Debug, Row, Deserialize)]
struct ObjectRow {
    name: String,
    engine: String,
    create_table_query: String,
}

#[derive(Debug, Row, Deserialize)]
struct ColumnRow {
    table: String,
    name: String,
    #[serde(rename = "type")]
    column_type: String,
}

/// One change the importer makes to reach the schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    CreateDatabase,
    Create {
        what: String,
        sql: String,
    },
    AddColumn {
        table: String,
        column: String,
        column_type: String,
    },
    /// Drop the view (only ever an object whose engine is `View`) and create it again.
    ReplaceView {
        name: String,
        sql: String,
    },
    /// Drop a cluster's Distributed table (only ever an object whose engine is
    /// `Distributed`: it holds no rows) and create it again over its local table.
    RecreateDistributed {
        name: String,
        sql: String,
    },
}

/// How one table or view compares with the schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// "table ccusage_usage_daily", "view ccusage_v_daily_summary".
    pub what: String,
    /// What the object is when it matches (for `--verify`).
    pub detail: String,
    /// What the importer will change, said for `--verify`, with the step that does it.
    pub repairs: Vec<(String, Step)>,
    /// What a person must fix; the importer refuses to write while any is left.
    pub mismatches: Vec<String>,
}

/// Reads the database's tables, engines, view queries and column types.
pub async fn read(sink: &Sink) -> Result<Live> {
    read_from(sink, None).await
}

/// [`read`], from one given endpoint (`--verify` reads every endpoint of a cluster) or from
/// the one in use.
pub async fn read_from(sink: &Sink, endpoint: Option<&clickhouse::Client>) -> Result<Live> {
    let client = || endpoint.unwrap_or_else(|| sink.client());
    let exists_sql = sqlfile::import("database_exists");
    let exists = sink
        .request("look for the database", || {
            client()
                .query(&exists_sql)
                .bind(&sink.database)
                .fetch_one::<u64>()
        })
        .await?;
    let objects_sql = sqlfile::import("schema_objects");
    let objects = sink
        .request("list the schema's tables", || {
            client()
                .query(&objects_sql)
                .bind(&sink.database)
                .fetch_all::<ObjectRow>()
        })
        .await?;
    let columns_sql = sqlfile::import("schema_columns");
    let columns = sink
        .request("list the schema's columns", || {
            client()
                .query(&columns_sql)
                .bind(&sink.database)
                .fetch_all::<ColumnRow>()
        })
        .await?;
    Ok(Live {
        database_exists: exists > 0,
        objects: objects
            .into_iter()
            .map(|o| (o.name, (o.engine, o.create_table_query)))
            .collect(),
        columns: columns
            .into_iter()
            .map(|c| ((c.table, c.name), c.column_type))
            .collect(),
    })
}

/// Compares every table and view of the schema with the server, in the schema's order,
/// tables first.
pub fn review(schema: &Schema, live: &Live, database: &str) -> Vec<Finding> {
    let tables = schema.tables.iter().map(|t| review_table(t, live));
    let views = schema.views.iter().map(|v| review_view(v, live, database));
    tables.chain(views).collect()
}

/// The DDL that brings the database to the schema, in order; empty when it is up to date.
pub fn plan(live: &Live, findings: &[Finding]) -> Vec<Step> {
    let create_database = (!live.database_exists).then_some(Step::CreateDatabase);
    let repairs = findings
        .iter()
        .flat_map(|f| f.repairs.iter().map(|(_, step)| step.clone()));
    create_database.into_iter().chain(repairs).collect()
}

pub fn mismatches(findings: &[Finding]) -> Vec<String> {
    findings
        .iter()
        .flat_map(|f| f.mismatches.iter().cloned())
        .collect()
}

fn review_table(table: &TableDef, live: &Live) -> Finding {
    let mut finding = Finding {
        what: format!("table {}", table.name),
        detail: format!("{}, {} columns", table.engine, table.columns.len()),
        repairs: Vec::new(),
        mismatches: Vec::new(),
    };
    let Some((engine, _)) = live.objects.get(&table.name) else {
        let step = Step::Create {
            what: finding.what.clone(),
            sql: table.create.clone(),
        };
        finding.repairs.push(("missing".into(), step));
        return finding;
    };
    if *engine != table.engine {
        finding.mismatches.push(wrong_engine(table, engine));
        return finding;
    }
    for (column, column_type) in &table.columns {
        match live.columns.get(&(table.name.clone(), column.clone())) {
            // A cluster's Distributed table holds no rows (inserts are synchronous), and
            // 18.16 refuses ALTER … ON CLUSTER on it: it is created again over its local
            // table, which gained the column first.
            None if table.engine == "Distributed" => {
                let step = Step::RecreateDistributed {
                    name: table.name.clone(),
                    sql: table.create.clone(),
                };
                if !finding.repairs.iter().any(|(_, s)| *s == step) {
                    finding
                        .repairs
                        .push((format!("column {column} missing"), step));
                }
            }
            None => finding.repairs.push((
                format!("column {column} missing"),
                Step::AddColumn {
                    table: table.name.clone(),
                    column: column.clone(),
                    column_type: column_type.clone(),
                },
            )),
            Some(found) if !same_type(found, column_type) => {
                finding
                    .mismatches
                    .push(wrong_type(&table.name, column, found, column_type));
            }
            Some(_) => {}
        }
    }
    finding
}

fn review_view(view: &ViewDef, live: &Live, database: &str) -> Finding {
    let mut finding = Finding {
        what: format!("view {}", view.name),
        detail: format!("the schema's query, {} columns", view.columns.len()),
        repairs: Vec::new(),
        mismatches: Vec::new(),
    };
    match live.objects.get(&view.name) {
        None => {
            let step = Step::Create {
                what: finding.what.clone(),
                sql: view.create.clone(),
            };
            finding.repairs.push(("missing".into(), step));
        }
        Some((engine, _)) if engine != "View" => finding.mismatches.push(format!(
            "{name} is a table ({engine}) where sql/schema.sql has a view: it may hold data, \
             so ccusage-import leaves it alone; rename it (RENAME TABLE {name} TO {name}_old) \
             and run ccusage-import to create the view",
            name = view.name
        )),
        Some((_, stored)) if !same_view_query(stored, &view.query, database) => {
            let step = Step::ReplaceView {
                name: view.name.clone(),
                sql: view.create.clone(),
            };
            finding
                .repairs
                .push(("its query differs from sql/schema.sql".into(), step));
        }
        Some(_) => {}
    }
    finding
}

fn wrong_engine(table: &TableDef, found: &str) -> String {
    let name = &table.name;
    let why = match table.engine.as_str() {
        "ReplacingMergeTree" => "without it a re-imported row is counted twice",
        _ => "the importer relies on it",
    };
    let fix = if found == "View" {
        format!("drop the view (DROP TABLE {name}: a view holds no data)")
    } else {
        format!("move the table aside (RENAME TABLE {name} TO {name}_old)")
    };
    format!(
        "table {name} is {found}, sql/schema.sql says {engine} ({why}); nothing was written: \
         {fix}, run ccusage-import to create it, then copy old rows back if there are any \
         (INSERT INTO {name} SELECT * FROM {name}_old)",
        engine = table.engine
    )
}

fn wrong_type(table: &str, column: &str, found: &str, expected: &str) -> String {
    format!(
        "table {table} column {column} is {found}, sql/schema.sql says {expected}: rows \
         written now would be stored wrongly, so nothing was written; move the table aside \
         (RENAME TABLE {table} TO {table}_old), run ccusage-import to create it, then copy \
         the rows back (INSERT INTO {table} SELECT * FROM {table}_old)"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::schema;

    /// The server state of a database created from the schema.
    fn up_to_date(database: &str) -> Live {
        let schema = schema();
        let mut live = Live {
            database_exists: true,
            ..Live::default()
        };
        for table in &schema.tables {
            live.objects.insert(
                table.name.clone(),
                (table.engine.clone(), table.create.clone()),
            );
            for (column, column_type) in &table.columns {
                live.columns
                    .insert((table.name.clone(), column.clone()), column_type.clone());
            }
        }
        for view in &schema.views {
            let stored = format!(
                "CREATE VIEW {database}.{} AS {}",
                view.name,
                view.query
                    .replace("FROM ccusage", &format!("FROM {database}.ccusage"))
            );
            live.objects
                .insert(view.name.clone(), ("View".into(), stored));
        }
        live
    }

    #[test]
    fn an_up_to_date_database_needs_no_ddl() {
        let live = up_to_date("db");
        let findings = review(schema(), &live, "db");
        assert_eq!(plan(&live, &findings), Vec::new());
        assert!(mismatches(&findings).is_empty());
    }

    #[test]
    fn a_missing_column_is_added_before_any_view_is_replaced() {
        let mut live = up_to_date("db");
        live.columns
            .remove(&("ccusage_usage_sessions".into(), "first_activity".into()));
        let view = live.objects.get_mut("ccusage_v_session_summary").unwrap();
        view.1 = view.1.replace("first_activity,", "");
        let findings = review(schema(), &live, "db");
        let steps = plan(&live, &findings);
        assert_eq!(steps.len(), 2, "{steps:?}");
        assert!(matches!(&steps[0], Step::AddColumn { column, .. } if column == "first_activity"));
        assert!(
            matches!(&steps[1], Step::ReplaceView { name, .. } if name == "ccusage_v_session_summary")
        );
    }

    #[test]
    fn a_wrong_type_a_wrong_engine_and_a_table_for_a_view_are_mismatches() {
        let mut live = up_to_date("db");
        live.columns.insert(
            ("ccusage_usage_daily".into(), "total_cost".into()),
            "Float64".into(),
        );
        live.objects.get_mut("ccusage_usage_monthly").unwrap().0 = "MergeTree".into();
        live.objects.get_mut("ccusage_v_daily_summary").unwrap().0 = "MergeTree".into();
        let findings = review(schema(), &live, "db");
        let found = mismatches(&findings);
        assert_eq!(found.len(), 3, "{found:?}");
        assert!(found[0].starts_with(
            "table ccusage_usage_daily column total_cost is Float64, sql/schema.sql says Decimal(18, 9)"
        ));
        assert!(found[1].starts_with(
            "table ccusage_usage_monthly is MergeTree, sql/schema.sql says ReplacingMergeTree"
        ));
        assert!(found[2].starts_with("ccusage_v_daily_summary is a table (MergeTree)"));
        assert_eq!(plan(&live, &findings), Vec::new());
    }
}

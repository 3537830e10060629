//! `--verify`: checks the connection, every table, view and column of `sql/schema.sql`, and
//! that the user may write, one line per check. Writes nothing.

use std::collections::HashMap;

use clickhouse::Row;
use serde::Deserialize;

use super::Sink;
use crate::sqlfile;

/// One check and how it went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    pub what: String,
    pub ok: bool,
    pub detail: String,
}

#[derive(Debug, Row, Deserialize)]
struct ObjectRow {
    name: String,
    engine: String,
}

#[derive(Debug, Row, Deserialize)]
pub(super) struct ColumnRow {
    pub table: String,
    pub name: String,
    #[serde(rename = "type")]
    pub column_type: String,
}

/// Runs every check; the connection itself was checked by [`Sink::connect`].
pub async fn run(sink: &mut Sink) -> Vec<Check> {
    let mut checks = vec![Check {
        what: format!("connect to {}", sink.url),
        ok: true,
        detail: format!("ClickHouse {}", sink.server_version),
    }];
    let objects_sql = sqlfile::import("schema_objects");
    let objects = sink
        .request("list the schema's tables", || {
            sink.client()
                .query(&objects_sql)
                .bind(&sink.database)
                .fetch_all::<ObjectRow>()
        })
        .await;
    let objects: HashMap<String, String> = match objects {
        Ok(rows) => rows.into_iter().map(|r| (r.name, r.engine)).collect(),
        Err(e) => {
            checks.push(failed("read the schema", format!("{e:#}")));
            return checks;
        }
    };
    if objects.is_empty() {
        checks.push(failed(
            &format!("database {}", sink.database),
            "missing or empty: run ccusage-import once to create it".into(),
        ));
        return checks;
    }
    checks.push(passed(
        &format!("database {}", sink.database),
        "exists".into(),
    ));
    let columns_sql = sqlfile::import("schema_columns");
    let columns = sink
        .request("list the schema's columns", || {
            sink.client()
                .query(&columns_sql)
                .bind(&sink.database)
                .fetch_all::<ColumnRow>()
        })
        .await
        .unwrap_or_default();
    let mut actual: HashMap<(String, String), String> = HashMap::new();
    for column in columns {
        actual.insert((column.table, column.name), column.column_type);
    }
    for (object, expected) in sqlfile::schema_objects() {
        checks.push(check_object(
            &object,
            &expected,
            objects.get(&object),
            &actual,
        ));
    }
    sink.use_database();
    let can_insert = sqlfile::import("can_insert");
    let write = sink
        .request("check write access", || {
            sink.client().query(&can_insert).execute()
        })
        .await;
    checks.push(match write {
        Ok(()) => passed("write access", "the user may insert".into()),
        Err(e) => failed("write access", format!("{e:#}")),
    });
    checks
}

fn check_object(
    object: &str,
    expected: &[(String, String)],
    engine: Option<&String>,
    actual: &HashMap<(String, String), String>,
) -> Check {
    let kind = if expected.iter().all(|(_, t)| t.is_empty()) {
        "view"
    } else {
        "table"
    };
    let what = format!("{kind} {object}");
    let Some(engine) = engine else {
        return failed(
            &what,
            "missing: run ccusage-import once to create it".into(),
        );
    };
    let mut problems = Vec::new();
    for (column, column_type) in expected {
        match actual.get(&(object.to_owned(), column.clone())) {
            None => problems.push(format!("column {column} missing")),
            Some(found) if !column_type.is_empty() && !same_type(found, column_type) => problems
                .push(format!(
                    "column {column} is {found}, expected {column_type}"
                )),
            Some(_) => {}
        }
    }
    if problems.is_empty() {
        passed(&what, format!("{engine}, {} columns", expected.len()))
    } else {
        failed(&what, problems.join("; "))
    }
}

/// Servers print some types their own way (`Decimal(18, 9)`, `DateTime('UTC')`), so compare
/// without spaces and quotes.
fn same_type(found: &str, expected: &str) -> bool {
    let norm = |s: &str| s.replace([' ', '\'', '"'], "");
    norm(found) == norm(expected)
}

fn passed(what: &str, detail: String) -> Check {
    Check {
        what: what.to_owned(),
        ok: true,
        detail,
    }
}

fn failed(what: &str, detail: String) -> Check {
    Check {
        what: what.to_owned(),
        ok: false,
        detail,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_compare_without_spacing_and_quotes() {
        assert!(same_type("Decimal(18,9)", "Decimal(18, 9)"));
        assert!(same_type(
            "DateTime(\\'UTC\\')".replace('\\', "").as_str(),
            "DateTime('UTC')"
        ));
        assert!(!same_type("UInt32", "UInt64"));
    }
}

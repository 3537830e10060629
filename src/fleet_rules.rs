//! The statement rules that keep one machine's import costing the server the same at 10
//! machines and at 10,000 (issue 29): a static check of `sql/import.sql` against the tables and
//! views `sql/schema.sql` declares. Test-only: it changes nothing at run time.
//!
//! Every read of a `ccusage_` table in a statement the hourly import runs is one of:
//! - **per machine**: the table, or the `FINAL` of it, filtered by `WHERE machine_name = ?`
//!   before anything else (grouping, joining, `IN`), so the server reads this machine's rows
//!   only (every table's primary key starts with `machine_name`);
//! - in a statement whose description carries a line starting `Fleet-wide:`, also a **key
//!   lookup** (`WHERE <first column of the table's ORDER BY> IN (…)`, the list coming from a
//!   per-machine read) or a read of a table that holds **one row per machine** (its ORDER BY
//!   is `machine_name` alone).
//!
//! No hourly statement reads a view: every view of the schema reads the whole fleet (a
//! `FINAL`, a grouping or a subquery over every machine), and 18.16 does not push a
//! `machine_name` filter into a view's subquery. Statements whose description carries a line
//! starting `Not hourly:` (migration, `--rekey-projects`) are left out.

use crate::schema::{schema, TableDef};
use crate::sqlfile::{parse_named, IMPORT};

/// What a statement's description says about where it runs.
#[derive(Debug, PartialEq, Eq)]
enum Kind {
    PerMachine,
    FleetWide,
    NotHourly,
}

fn kind(description: &str) -> Kind {
    // The description is the comment lines joined with spaces; a marker starts a sentence.
    let marked = |marker: &str| {
        description.starts_with(marker) || description.contains(&format!(". {marker}"))
    };
    match (marked("Fleet-wide:"), marked("Not hourly:")) {
        (true, false) => Kind::FleetWide,
        (false, true) => Kind::NotHourly,
        (false, false) => Kind::PerMachine,
        (true, true) => panic!("both markers in: {description}"),
    }
}

/// The statement's words, with `(`, `)`, `,` and `=` as words of their own.
fn words(sql: &str) -> Vec<String> {
    let spaced = sql
        .replace('(', " ( ")
        .replace(')', " ) ")
        .replace(',', " , ")
        .replace('=', " = ")
        .replace("! =", "!=");
    spaced.split_whitespace().map(str::to_owned).collect()
}

/// The columns of a table's ORDER BY, in order.
fn order_by(table: &TableDef) -> Vec<String> {
    let line = table
        .create
        .lines()
        .find_map(|l| l.trim().strip_prefix("ORDER BY "))
        .unwrap_or_else(|| panic!("{} has no ORDER BY", table.name));
    line.trim_matches(|c| c == '(' || c == ')' || c == ' ')
        .split(',')
        .map(|c| c.trim().to_owned())
        .collect()
}

/// Every way a statement breaks the rules, one line each (empty: it keeps them).
fn violations(name: &str, description: &str, sql: &str) -> Vec<String> {
    let kind = kind(description);
    if kind == Kind::NotHourly {
        return Vec::new();
    }
    let schema = schema();
    let words = words(sql);
    let mut found = Vec::new();
    for (at, word) in words.iter().enumerate() {
        if !(word.eq_ignore_ascii_case("FROM") || word.eq_ignore_ascii_case("JOIN")) {
            continue;
        }
        let Some(object) = words.get(at + 1) else {
            continue;
        };
        if !object.starts_with("ccusage_") {
            // system.* (bounded by the number of tables) or a subquery, whose own FROM is
            // checked where it stands.
            continue;
        }
        if schema.views.iter().any(|v| &v.name == object) {
            found.push(format!(
                "{name}: reads the view {object}, which reads every machine's rows"
            ));
            continue;
        }
        let Some(table) = schema.tables.iter().find(|t| &t.name == object) else {
            found.push(format!(
                "{name}: reads {object}, which sql/schema.sql does not declare"
            ));
            continue;
        };
        let mut next = at + 2;
        if words
            .get(next)
            .is_some_and(|w| w.eq_ignore_ascii_case("FINAL"))
        {
            next += 1;
        }
        let rest: Vec<&str> = words[next..].iter().take(4).map(String::as_str).collect();
        if rest == ["WHERE", "machine_name", "=", "?"] {
            continue;
        }
        if kind == Kind::FleetWide {
            let key = order_by(table);
            if key == ["machine_name"] {
                continue;
            }
            if rest.len() >= 3 && rest[..3] == ["WHERE", key[0].as_str(), "IN"] {
                continue;
            }
        }
        found.push(format!(
            "{name}: reads {object} without `WHERE machine_name = ?` right after it{}",
            if kind == Kind::FleetWide {
                ", nor by its key, nor one row per machine"
            } else {
                " (a statement that must read other machines says `Fleet-wide:` and why it is bounded)"
            }
        ));
    }
    found
}

#[test]
fn every_hourly_read_filters_by_machine_or_is_bounded() {
    let mut found = Vec::new();
    for statement in parse_named(IMPORT) {
        found.extend(violations(
            statement.name,
            &statement.description,
            &statement.sql,
        ));
    }
    assert!(found.is_empty(), "{}", found.join("\n"));
}

/// The check catches what issue 29 found: the whole-fleet view under stored_models, a view
/// filtered outside, a table grouped before its machine filter, a fleet-wide read of a table
/// neither by key nor one row per machine.
#[test]
fn reads_whose_rows_grow_with_the_fleet_are_caught() {
    let caught = |description: &str, sql: &str| !violations("t", description, sql).is_empty();
    assert!(caught(
        "",
        "SELECT * FROM ccusage_v_model_breakdowns WHERE machine_name = ? AND parent_kind = ?"
    ));
    assert!(caught(
        "",
        "SELECT count() FROM ccusage_v_session_summary WHERE machine_name = ?"
    ));
    assert!(caught(
        "",
        "SELECT * FROM (SELECT machine_name, max(parent_version) FROM ccusage_model_breakdowns \
         GROUP BY machine_name) WHERE machine_name = ?"
    ));
    assert!(caught(
        "",
        "SELECT * FROM ccusage_usage_sessions FINAL WHERE session_id IN (SELECT session_id \
         FROM ccusage_usage_sessions WHERE machine_name = ?)"
    ));
    assert!(caught(
        "Fleet-wide: the sessions of every machine.",
        "SELECT * FROM ccusage_usage_sessions FINAL WHERE session_id IN (SELECT session_id \
         FROM ccusage_usage_sessions WHERE machine_name = ?)"
    ));
    assert!(caught(
        "Fleet-wide: every day.",
        "SELECT sum(total_cost) FROM ccusage_usage_daily FINAL"
    ));
    // What passes: a per-machine read, one row per machine, a statement not on the hourly path.
    assert!(!caught(
        "",
        "SELECT * FROM ccusage_usage_daily FINAL WHERE machine_name = ? AND date > ?"
    ));
    assert!(!caught(
        "Fleet-wide: one row per machine.",
        "SELECT count() FROM ccusage_machines FINAL"
    ));
    assert!(!caught(
        "Not hourly: --rekey-projects only.",
        "SELECT * FROM ccusage_v_session_summary"
    ));
    assert_eq!(
        order_by(
            schema()
                .tables
                .iter()
                .find(|t| t.name == "ccusage_usage_sessions")
                .unwrap()
        ),
        ["machine_name", "project_path", "session_id"]
    );
}

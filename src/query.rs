//! `ccusage-import query`: runs a named query of `sql/queries.sql` and prints its answer as an
//! aligned table, CSV or a JSON array.
//!
//! Queries whose name starts with `fleet_` answer across machines. The others answer for one
//! machine: every `?` in them is bound to the machine name (MACHINE_NAME or `--machine-name`),
//! which the client escapes. The markers `{since}`, `{until}` and `{tz}` of the queries that
//! take a range (`--since`, `--until`) or a zone (`--timezone`) are bound the same way.

use anyhow::{anyhow, Context as _};

use crate::cli::{QueryArgs, QueryFormat};
use crate::config::Config;
use crate::csv;
use crate::exit::{Exit, ExitContext, Failure};
use crate::sink::{describe, Sink};
use crate::sqlfile::{self, Named};

/// Names of queries that answer across machines start with this.
pub const FLEET_PREFIX: &str = "fleet_";

/// A query `NAME_zone` stands in for `NAME` under a zone other than UTC; it is not listed.
pub const ZONE_VARIANT: &str = "_zone";

/// What a bind mark `?` of a query stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bind {
    Machine,
    Since,
    Until,
    Zone,
}

const MARKERS: [(&str, Bind); 3] = [
    ("{since}", Bind::Since),
    ("{until}", Bind::Until),
    ("{tz}", Bind::Zone),
];

/// Width `--list` wraps descriptions to.
const LIST_WIDTH: usize = 100;

pub async fn run(config: &Config, args: &QueryArgs) -> Result<Exit, Failure> {
    let (variants, queries): (Vec<Named<'_>>, Vec<Named<'_>>) =
        sqlfile::parse_named(sqlfile::QUERIES)
            .into_iter()
            .partition(|q| q.name.ends_with(ZONE_VARIANT));
    if args.list {
        crate::log::stdout(&render_list(&queries, &config.machine_name)).exit_code(Exit::Other)?;
        return Ok(Exit::Ok);
    }
    // No name is a question, not a mistake: the answer is the list.
    let Some(name) = args.name.as_deref() else {
        crate::log::stdout(&render_list(&queries, &config.machine_name)).exit_code(Exit::Other)?;
        return Ok(Exit::Ok);
    };
    let Some(query) = queries.iter().find(|q| q.name == name) else {
        let hint = crate::suggest::nearest(name, queries.iter().map(|q| q.name))
            .map(|near| format!("did you mean {near}? "))
            .unwrap_or_default();
        return Err(Failure {
            exit: Exit::Usage,
            error: anyhow!(
                "there is no query named {name:?}: {hint}`ccusage-import query --list` lists the {} named queries",
                queries.len()
            ),
        });
    };
    let usage = |bad: crate::dashboard::filter::BadParameter| Failure {
        exit: Exit::Usage,
        error: anyhow!("{bad}"),
    };
    let zone = args
        .timezone
        .as_deref()
        .map(|value| crate::dashboard::filter::zone("--timezone", value))
        .transpose()
        .map_err(usage)?;
    let range = crate::dashboard::filter::Filter::from_flags(
        args.since.as_deref(),
        args.until.as_deref(),
        None,
        None,
    )
    .map_err(usage)?;
    let zoned = |q: &Named<'_>| {
        q.sql.contains("{tz}")
            || variants
                .iter()
                .any(|v| v.name.strip_suffix(ZONE_VARIANT) == Some(q.name))
    };
    let query = match variants
        .iter()
        .find(|v| v.name.strip_suffix(ZONE_VARIANT) == Some(name))
    {
        Some(variant) if !crate::zone::is_utc(zone) => variant,
        _ => query,
    };
    let (sql, binds) = bind_marks(&query.sql);
    if (args.since.is_some() || args.until.is_some()) && !binds.contains(&Bind::Since) {
        let ranged: Vec<&str> = queries
            .iter()
            .filter(|q| q.sql.contains("{since}"))
            .map(|q| q.name)
            .collect();
        return Err(Failure {
            exit: Exit::Usage,
            error: anyhow!(
                "the query {name} takes no range: --since and --until apply to {}",
                ranged.join(", ")
            ),
        });
    }
    if !crate::zone::is_utc(zone) && !binds.contains(&Bind::Zone) {
        let listed: Vec<&str> = queries
            .iter()
            .filter(|q| zoned(q))
            .map(|q| q.name)
            .collect();
        crate::log::emit(&format!(
            "ccusage-import: note: {name} counts UTC days, as its report is stored; \
             --timezone applies to {}\n",
            listed.join(", ")
        ));
    }
    let mut sink = Sink::connect(&config.clickhouse)
        .await
        .exit_code(Exit::ClickHouse)?;
    sink.use_database();
    let mut request = sink.client().query(&sql);
    for bind in &binds {
        request = match bind {
            Bind::Machine => request.bind(config.machine_name.as_str()),
            Bind::Since => request.bind(range.since_value()),
            Bind::Until => request.bind(range.until_value()),
            Bind::Zone => request.bind(crate::zone::name(zone)),
        };
    }
    let format = match args.format {
        // CSV is written here from the typed answer, not by ClickHouse: text cells a
        // spreadsheet would evaluate need a guard that only the column's type can decide.
        QueryFormat::Table | QueryFormat::Csv => "TSVWithNamesAndTypes",
        QueryFormat::Json => {
            // Token counts as JSON numbers, not strings (both old and new servers quote 64-bit
            // integers by default).
            request = request.with_setting("output_format_json_quote_64bit_integers", "0");
            "JSONEachRow"
        }
    };
    let bytes = sink
        .bounded(async move { request.fetch_bytes(format)?.collect().await })
        .await
        .map_err(|e| describe(e, &sink.url, &sink.user))
        .with_context(|| format!("the query {name} failed"))
        .exit_code(Exit::ClickHouse)?;
    let text = String::from_utf8_lossy(&bytes);
    let rows = match args.format {
        QueryFormat::Table => {
            let table = parse_tsv_with_names_and_types(&text)
                .context("cannot read ClickHouse's answer")
                .exit_code(Exit::Other)?;
            crate::log::stdout(&render_table(&table)).exit_code(Exit::Other)?;
            table.rows.len()
        }
        QueryFormat::Csv => {
            let table = parse_tsv_with_names_and_types(&text)
                .context("cannot read ClickHouse's answer")
                .exit_code(Exit::Other)?;
            crate::log::stdout(&render_csv(&table)).exit_code(Exit::Other)?;
            table.rows.len()
        }
        QueryFormat::Json => {
            crate::log::stdout(&json_array(&text)).exit_code(Exit::Other)?;
            text.lines().filter(|l| !l.trim().is_empty()).count()
        }
    };
    if rows == 0 && name == "current_block" {
        // No row is the answer here, not a sign of a wrong machine name.
        crate::log::emit(&format!(
            "ccusage-import: there is no open block for machine {:?}: its last import found \
             none, or that block has ended\n",
            config.machine_name
        ));
    } else if rows == 0 && (args.since.is_some() || args.until.is_some()) {
        // The machine may well be right: the range is what holds nothing.
        crate::log::emit(&format!(
            "ccusage-import: no usage from {} to {} (both days included){}; widen --since/--until\n",
            range.since_value(),
            range.until_value(),
            if is_fleet(name) {
                String::new()
            } else {
                format!(" for machine {:?}", config.machine_name)
            }
        ));
    } else if rows == 0 && !is_fleet(name) {
        crate::log::emit(&format!(
            "ccusage-import: no rows for machine {:?}; name another with --machine-name NAME \
             (`ccusage-import query fleet_machines` lists the machines)\n",
            config.machine_name
        ));
    }
    Ok(Exit::Ok)
}

pub fn is_fleet(name: &str) -> bool {
    name.starts_with(FLEET_PREFIX)
}

/// The SQL with each marker (`{since}`, `{until}`, `{tz}`) turned into a bind mark `?`, and
/// what every `?` binds, in order: a `?` written in the SQL is the machine's name.
pub fn bind_marks(sql: &str) -> (String, Vec<Bind>) {
    let mut out = String::with_capacity(sql.len());
    let mut binds = Vec::new();
    let mut rest = sql;
    while let Some(at) = rest.find(['?', '{']) {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        if let Some(after) = tail.strip_prefix("??") {
            // A literal `?` to the client.
            out.push_str("??");
            rest = after;
        } else if let Some(after) = tail.strip_prefix('?') {
            out.push('?');
            binds.push(Bind::Machine);
            rest = after;
        } else if let Some((marker, bind)) = MARKERS.iter().find(|(m, _)| tail.starts_with(m)) {
            out.push('?');
            binds.push(*bind);
            rest = &tail[marker.len()..];
        } else {
            out.push('{');
            rest = &tail[1..];
        }
    }
    out.push_str(rest);
    (out, binds)
}

/// `--list`: the machine queries, then the fleet queries, each with what it answers.
pub fn render_list(queries: &[Named<'_>], machine: &str) -> String {
    let width = queries.iter().map(|q| q.name.len()).max().unwrap_or(0) + 2;
    let (fleet, one): (Vec<&Named<'_>>, Vec<&Named<'_>>) =
        queries.iter().partition(|q| is_fleet(q.name));
    let mut out = format!(
        "{} named queries; run one with `ccusage-import query NAME [--format table|csv|json]`.\n",
        queries.len()
    );
    let sections = [
        (
            format!(
                "For one machine ({}): MACHINE_NAME, now {machine:?} (--machine-name NAME picks \
                 another)",
                one.len()
            ),
            one,
        ),
        (
            format!("Across machines ({}): {FLEET_PREFIX}*", fleet.len()),
            fleet,
        ),
    ];
    for (title, list) in sections {
        out.push_str(&format!("\n{title}\n"));
        for query in list {
            let lines = wrap(
                &query.description,
                LIST_WIDTH.saturating_sub(width + 2).max(30),
            );
            let mut lines = lines.into_iter();
            let first = lines.next().unwrap_or_default();
            let head = format!("  {:<width$}{first}", query.name);
            out.push_str(head.trim_end());
            out.push('\n');
            for line in lines {
                out.push_str(&format!("  {:width$}{line}\n", ""));
            }
        }
    }
    out
}

/// Splits text into lines of at most `width` characters, at spaces.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// A result set: column names, their ClickHouse types, and rows of values (`None` is NULL).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    pub names: Vec<String>,
    pub types: Vec<String>,
    pub rows: Vec<Vec<Option<String>>>,
}

/// Reads ClickHouse's TSVWithNamesAndTypes: a line of names, a line of types, then rows.
pub fn parse_tsv_with_names_and_types(text: &str) -> anyhow::Result<Table> {
    let mut lines = text.lines();
    let names: Vec<String> = lines
        .next()
        .context("no header line")?
        .split('\t')
        .map(unescape)
        .collect();
    let types: Vec<String> = lines
        .next()
        .context("no line of types")?
        .split('\t')
        .map(unescape)
        .collect();
    anyhow::ensure!(
        names.len() == types.len(),
        "{} names but {} types",
        names.len(),
        types.len()
    );
    let mut rows = Vec::new();
    for (i, line) in lines.enumerate() {
        let row: Vec<Option<String>> = line
            .split('\t')
            .map(|field| (field != "\\N").then(|| unescape(field)))
            .collect();
        anyhow::ensure!(
            row.len() == names.len(),
            "row {} has {} fields, expected {}",
            i + 1,
            row.len(),
            names.len()
        );
        rows.push(row);
    }
    Ok(Table { names, types, rows })
}

/// Undoes TSV escaping (`\t`, `\n`, `\\`, `\'` and the rest).
fn unescape(field: &str) -> String {
    let mut out = String::with_capacity(field.len());
    let mut chars = field.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('t') => out.push('\t'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('0') => out.push('\0'),
            Some('b') => out.push('\u{8}'),
            Some('f') => out.push('\u{c}'),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

/// A value as a person reads it in a table: money to the cent, counts with thousands
/// separators, other fractions to three places, arrays as a list, NULL as `-`. CSV and JSON
/// keep ClickHouse's exact values.
fn display(value: &Option<String>, column_type: &str, column: &str) -> String {
    let Some(value) = value else {
        return "-".to_owned();
    };
    let inner = csv::unwrap_nullable(column_type);
    if inner.starts_with("Array(") {
        return escape_controls(&array_items(value).join(", "));
    }
    let money = ["cost", "usd", "saving", "price", "spend"]
        .iter()
        .any(|word| column.contains(word));
    match numeric_kind(inner) {
        Some(Numeric::Integer) => value
            .parse::<i128>()
            .map_or_else(|_| escape_controls(value), |n| thousands(n, "")),
        Some(Numeric::Fraction) => match value.parse::<f64>() {
            Ok(x) if x.is_finite() && money => fixed(x, 2),
            Ok(x) if x.is_finite() => {
                let text = fixed(x, 3);
                let text = text.trim_end_matches('0');
                text.trim_end_matches('.').to_owned()
            }
            _ => escape_controls(value),
        },
        None => escape_controls(value),
    }
}

/// `x` to `places` decimals with thousands separators in its whole part.
fn fixed(x: f64, places: usize) -> String {
    let text = format!("{:.places$}", x.abs());
    let (whole, fraction) = text.split_once('.').unwrap_or((&text, ""));
    let sign = if x < 0.0 && text.bytes().any(|b| b.is_ascii_digit() && b != b'0') {
        "-"
    } else {
        ""
    };
    let whole = thousands(whole.parse::<i128>().unwrap_or(0), sign);
    if fraction.is_empty() {
        whole
    } else {
        format!("{whole}.{fraction}")
    }
}

/// An integer with a comma every three digits.
fn thousands(n: i128, sign: &str) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::from(if n < 0 { "-" } else { sign });
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// The items of an array as ClickHouse writes it in TSV (`['a','b\'c']`, `[1,2]`).
fn array_items(text: &str) -> Vec<String> {
    let body = text
        .strip_prefix('[')
        .and_then(|t| t.strip_suffix(']'))
        .unwrap_or(text);
    let mut items = Vec::new();
    let mut item = String::new();
    let (mut quoted, mut escaped, mut any) = (false, false, false);
    for c in body.chars() {
        any = true;
        match c {
            _ if escaped => {
                item.push(c);
                escaped = false;
            }
            '\\' if quoted => escaped = true,
            '\'' => quoted = !quoted,
            ',' if !quoted => items.push(std::mem::take(&mut item)),
            c => item.push(c),
        }
    }
    if any {
        items.push(item);
    }
    items
}

/// Control characters shown as escapes, so a value stays on its line.
fn escape_controls(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => out.push_str(&c.escape_unicode().to_string()),
            c => out.push(c),
        }
    }
    out
}

enum Numeric {
    Integer,
    Fraction,
}

fn numeric_kind(inner: &str) -> Option<Numeric> {
    if inner.starts_with("Int") || inner.starts_with("UInt") {
        Some(Numeric::Integer)
    } else if inner.starts_with("Float") || inner.starts_with("Decimal") {
        Some(Numeric::Fraction)
    } else {
        None
    }
}

/// An aligned table: numbers right-aligned, NULL as `-`, and the row count last.
pub fn render_table(table: &Table) -> String {
    let cells: Vec<Vec<String>> = table
        .rows
        .iter()
        .map(|row| {
            row.iter()
                .enumerate()
                .map(|(i, value)| display(value, &table.types[i], &table.names[i]))
                .collect()
        })
        .collect();
    let widths: Vec<usize> = table
        .names
        .iter()
        .enumerate()
        .map(|(i, name)| {
            cells
                .iter()
                .map(|row| console::measure_text_width(&row[i]))
                .chain(std::iter::once(console::measure_text_width(name)))
                .max()
                .unwrap_or(0)
        })
        .collect();
    let right: Vec<bool> = table.types.iter().map(|t| csv::is_numeric(t)).collect();
    let line = |values: &[String]| -> String {
        let padded: Vec<String> = values
            .iter()
            .enumerate()
            .map(|(i, value)| {
                let pad = " ".repeat(widths[i] - console::measure_text_width(value));
                if right[i] {
                    format!("{pad}{value}")
                } else {
                    format!("{value}{pad}")
                }
            })
            .collect();
        padded.join("  ").trim_end().to_owned() + "\n"
    };
    let mut out = line(&table.names);
    let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
    out.push_str(&line(&rule));
    for row in &cells {
        out.push_str(&line(row));
    }
    let n = table.rows.len();
    out.push_str(&format!("({n} row{})\n", if n == 1 { "" } else { "s" }));
    out
}

/// CSV with a header line (see [`crate::csv`]); NULL is an empty field.
pub fn render_csv(table: &Table) -> String {
    let text: Vec<bool> = table.types.iter().map(|t| !csv::is_numeric(t)).collect();
    let mut out = csv::record(table.names.iter().map(|n| csv::field(n, true)));
    for row in &table.rows {
        out.push_str(&csv::record(row.iter().zip(&text).map(|(v, &text)| {
            v.as_deref()
                .map(|v| csv::field(v, text))
                .unwrap_or_default()
        })));
    }
    out
}

/// JSONEachRow (one object a line) as one JSON array.
pub fn json_array(each_row: &str) -> String {
    let objects: Vec<&str> = each_row
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    if objects.is_empty() {
        "[]\n".to_owned()
    } else {
        format!("[\n{}\n]\n", objects.join(",\n"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn queries() -> Vec<Named<'static>> {
        sqlfile::parse_named(sqlfile::QUERIES)
    }

    /// The named queries and the dashboard's statements: both keep the same rules.
    fn queries_and_dashboard() -> Vec<Named<'static>> {
        let dashboard = crate::dashboard::data::statements().iter().map(|s| Named {
            name: s.name,
            description: s.description.clone(),
            sql: s.sql.clone(),
        });
        queries().into_iter().chain(dashboard).collect()
    }

    /// docs/queries.md counts the queries `query --list` lists (its zone variants are not
    /// listed), and those across machines: a query added without the doc fails here.
    #[test]
    fn the_doc_counts_the_queries_the_list_shows() {
        let doc = include_str!("../docs/queries.md");
        let listed: Vec<Named<'_>> = queries()
            .into_iter()
            .filter(|q| !q.name.ends_with(ZONE_VARIANT))
            .collect();
        let fleet = listed.iter().filter(|q| is_fleet(q.name)).count();
        let says = format!("holds {} named queries", listed.len());
        assert!(
            doc.replace('\n', " ").contains(&says),
            "docs/queries.md: {says}"
        );
        let says = format!("The {fleet} whose names start with `fleet_`");
        assert!(
            doc.replace('\n', " ").contains(&says),
            "docs/queries.md: {says}"
        );
    }

    #[test]
    fn there_are_forty_named_queries_and_thirteen_across_machines() {
        let all = queries();
        let fleet = all.iter().filter(|q| is_fleet(q.name)).count();
        assert!(all.len() >= 40, "{} queries", all.len());
        assert!(fleet >= 13, "{fleet} fleet queries");
        let names: BTreeSet<&str> = all.iter().map(|q| q.name).collect();
        assert_eq!(names.len(), all.len(), "a name is used twice");
    }

    #[test]
    fn every_query_says_what_it_answers_and_is_one_select() {
        for q in queries_and_dashboard() {
            assert!(
                q.name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
                "{}",
                q.name
            );
            assert!(
                q.description.len() > 20,
                "{} has no description above it",
                q.name
            );
            assert!(q.sql.starts_with("SELECT"), "{}", q.name);
            assert!(!q.sql.contains(';'), "{}: one statement only", q.name);
            let upper = q.sql.to_uppercase();
            for word in [
                "INSERT", "DELETE", "DROP", "ALTER", "TRUNCATE", "CREATE", " OVER ",
            ] {
                assert!(!upper.contains(word), "{}: {word}", q.name);
            }
            assert!(
                !upper.contains("FORMAT "),
                "{}: the client picks the format",
                q.name
            );
        }
    }

    #[test]
    fn machine_queries_bind_the_machine_and_fleet_queries_bind_nothing() {
        for q in queries() {
            let n = crate::sqlfile::placeholders(&q.sql);
            if is_fleet(q.name) {
                assert_eq!(n, 0, "{} answers across machines", q.name);
            } else {
                assert!(n > 0, "{} must filter on machine_name = ?", q.name);
                assert_eq!(
                    n,
                    q.sql.matches("machine_name = ?").count(),
                    "{}: every ? is a machine_name",
                    q.name
                );
            }
        }
    }

    /// The report kind an object of the schema holds (`None`: the kind comes from a
    /// `parent_kind = '…'` filter).
    fn kind_of(object: &str) -> Option<&'static str> {
        match object {
            "ccusage_usage_daily"
            | "ccusage_v_daily_summary"
            | "ccusage_v_machine_daily"
            | "ccusage_v_model_daily" => Some("daily"),
            "ccusage_usage_monthly" | "ccusage_v_machine_monthly" => Some("monthly"),
            "ccusage_usage_sessions" | "ccusage_v_session_summary" | "ccusage_session_owners" => {
                Some("sessions")
            }
            "ccusage_usage_blocks" | "ccusage_v_blocks" => Some("blocks"),
            "ccusage_usage_hours" => Some("hours"),
            "ccusage_usage_projects_daily" | "ccusage_v_project_daily" => Some("projects_daily"),
            "ccusage_usage_agents_daily" | "ccusage_v_agent_daily" => Some("agents"),
            "ccusage_import_runs" => Some("ledger"),
            "ccusage_v_model_breakdowns" | "ccusage_v_models_used" => None,
            other => panic!("{other} is not an object queries may read"),
        }
    }

    fn parent_kind(literal: &str) -> &'static str {
        match literal {
            "daily" => "daily",
            "monthly" => "monthly",
            "session" => "sessions",
            "block" => "blocks",
            "project_daily" => "projects_daily",
            "agent_daily" => "agents",
            other => panic!("unknown parent_kind {other}"),
        }
    }

    fn objects(sql: &str) -> Vec<(usize, String)> {
        let bytes = sql.as_bytes();
        let mut found = Vec::new();
        let mut at = 0;
        while let Some(i) = sql[at..].find("ccusage_") {
            let start = at + i;
            let end = sql[start..]
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .map_or(sql.len(), |n| start + n);
            let preceded =
                start > 0 && (bytes[start - 1].is_ascii_alphanumeric() || bytes[start - 1] == b'_');
            if !preceded {
                found.push((end, sql[start..end].to_owned()));
            }
            at = end;
        }
        found
    }

    #[test]
    fn every_query_reads_one_report_kind_and_usage_tables_only_with_final() {
        let schema = crate::schema::schema().object_names();
        for q in queries_and_dashboard() {
            let mut kinds = BTreeSet::new();
            let read = objects(&q.sql);
            assert!(!read.is_empty(), "{} reads no table", q.name);
            for (end, object) in read {
                if !schema.contains(&object) {
                    // A column such as ccusage_version, not a table or view.
                    continue;
                }
                if object.starts_with("ccusage_usage_") {
                    assert!(
                        q.sql[end..].starts_with(" FINAL"),
                        "{}: {object} without FINAL",
                        q.name
                    );
                }
                match kind_of(&object) {
                    Some(kind) => {
                        kinds.insert(kind);
                    }
                    None => {
                        let literals: Vec<&str> = q
                            .sql
                            .split("parent_kind = '")
                            .skip(1)
                            .map(|rest| rest.split('\'').next().unwrap())
                            .collect();
                        assert!(
                            !literals.is_empty(),
                            "{}: {object} without parent_kind",
                            q.name
                        );
                        kinds.extend(literals.into_iter().map(parent_kind));
                    }
                }
            }
            // A zone variant counts days from the stored hours and, before a machine's first
            // stored hour only, from its stored days: the two never cover the same usage.
            let stitched = q.name.ends_with(ZONE_VARIANT)
                && q.sql.contains("date < toDate(first_hour)")
                && kinds == BTreeSet::from(["daily", "hours"]);
            assert!(kinds.len() == 1 || stitched, "{} reads {kinds:?}", q.name);
        }
    }

    #[test]
    fn agent_queries_come_last() {
        let all = queries();
        let first_agent = all
            .iter()
            .position(|q| q.sql.contains("ccusage_v_agent_daily"))
            .unwrap();
        assert!(all[first_agent..]
            .iter()
            .all(|q| q.sql.contains("ccusage_v_agent_daily")));
        assert!(all.len() - first_agent <= 2);
    }

    #[test]
    fn the_list_shows_every_query_under_its_scope() {
        let all = queries();
        let list = render_list(&all, "laptop");
        for q in all.iter().filter(|q| !q.name.ends_with(ZONE_VARIANT)) {
            assert!(
                list.lines()
                    .any(|l| l.trim_start().starts_with(&format!("{} ", q.name))),
                "{}",
                q.name
            );
        }
        let fleet_at = list.find("Across machines").unwrap();
        assert!(list.find("\n  totals ").unwrap() < fleet_at);
        assert!(list.find("\n  fleet_totals ").unwrap() > fleet_at);
        assert!(list.contains("\"laptop\""));
        assert!(
            list.lines().all(|l| l.chars().count() <= LIST_WIDTH),
            "{list}"
        );
    }

    #[test]
    fn descriptions_wrap_at_spaces() {
        assert_eq!(wrap("aa bb cc dd", 5), ["aa bb", "cc dd"]);
        assert_eq!(wrap("", 5), Vec::<String>::new());
        assert_eq!(wrap("longerword x", 5), ["longerword", "x"]);
    }

    #[test]
    fn markers_and_machine_marks_bind_in_order() {
        let (sql, binds) = bind_marks(
            "WHERE machine_name = ? AND toDate(h, {tz}) >= toDate({since}) AND x = '{y}??'",
        );
        assert_eq!(
            sql,
            "WHERE machine_name = ? AND toDate(h, ?) >= toDate(?) AND x = '{y}??'"
        );
        assert_eq!(binds, [Bind::Machine, Bind::Zone, Bind::Since]);
        for q in queries() {
            let (sql, binds) = bind_marks(&q.sql);
            assert_eq!(
                crate::sqlfile::placeholders(&sql),
                binds.len(),
                "{}",
                q.name
            );
            assert!(
                !sql.contains("{since") && !sql.contains("{tz"),
                "{}",
                q.name
            );
            // A range is both bounds; a zone variant stands in for a query that exists.
            assert_eq!(
                binds.contains(&Bind::Since),
                binds.contains(&Bind::Until),
                "{}",
                q.name
            );
            if let Some(base) = q.name.strip_suffix(ZONE_VARIANT) {
                let base = queries().into_iter().find(|b| b.name == base).unwrap();
                assert!(binds.contains(&Bind::Zone), "{}", q.name);
                assert_eq!(
                    bind_marks(&base.sql).1.contains(&Bind::Since),
                    binds.contains(&Bind::Since),
                    "{}: the range as its query",
                    q.name
                );
            }
        }
    }

    const TSV: &str = "date\tproject\ttokens\tcost\tchange_pct\tmodels\n\
        Date\tString\tUInt64\tFloat64\tNullable(Float64)\tArray(String)\n\
        2026-01-01\t-home-o\\'neil-caf\u{e9}\t1234567\t1.5\t\\N\t['a','b']\n\
        2026-01-02\ttab\\there\\nline\t7\t12.25\t-3.5\t[]\n";

    #[test]
    fn tsv_with_names_and_types_is_read_with_escapes_and_nulls() {
        let table = parse_tsv_with_names_and_types(TSV).unwrap();
        assert_eq!(table.names.len(), 6);
        assert_eq!(table.types[4], "Nullable(Float64)");
        assert_eq!(table.rows[0][1].as_deref(), Some("-home-o'neil-caf\u{e9}"));
        assert_eq!(table.rows[0][4], None);
        assert_eq!(table.rows[1][1].as_deref(), Some("tab\there\nline"));
        assert!(parse_tsv_with_names_and_types("a\tb\nUInt8\n").is_err());
        assert!(parse_tsv_with_names_and_types("a\nUInt8\n1\t2\n").is_err());
        assert!(parse_tsv_with_names_and_types("").is_err());
    }

    #[test]
    fn tables_align_numbers_right_and_text_left() {
        let table = parse_tsv_with_names_and_types(TSV).unwrap();
        let expected = "\
date        project               tokens   cost  change_pct  models
----------  -----------------  ---------  -----  ----------  ------
2026-01-01  -home-o'neil-caf\u{e9}  1,234,567   1.50           -  a, b
2026-01-02  tab\\there\\nline            7  12.25        -3.5
(2 rows)
";
        assert_eq!(render_table(&table), expected);
        let empty = parse_tsv_with_names_and_types("a\nUInt8\n").unwrap();
        assert_eq!(render_table(&empty), "a\n-\n(0 rows)\n");
    }

    #[test]
    fn table_values_read_as_money_counts_fractions_and_lists() {
        let shown = |value: &str, ty: &str, column: &str| display(&Some(value.into()), ty, column);
        assert_eq!(
            shown("80.177213400", "Decimal(18, 9)", "total_cost"),
            "80.18"
        );
        assert_eq!(shown("1234.5", "Float64", "cost_usd"), "1,234.50");
        assert_eq!(shown("-0.001", "Float64", "cost_usd"), "0.00");
        assert_eq!(shown("-1234.567", "Float64", "change_usd"), "-1,234.57");
        assert_eq!(shown("53513357", "UInt64", "tokens"), "53,513,357");
        assert_eq!(shown("-1000", "Int64", "delta"), "-1,000");
        assert_eq!(shown("0.96213", "Float64", "cache_share"), "0.962");
        assert_eq!(shown("2", "Float64", "ratio"), "2");
        assert_eq!(shown("nan", "Float64", "ratio"), "nan");
        assert_eq!(
            shown("['laptop','workvm']", "Array(String)", "machines"),
            "laptop, workvm"
        );
        assert_eq!(
            shown("['a,b','o\\'neil']", "Array(String)", "x"),
            "a,b, o'neil"
        );
        assert_eq!(shown("[]", "Array(String)", "x"), "");
        assert_eq!(shown("2026-01-01", "Date", "date"), "2026-01-01");
    }

    #[test]
    fn csv_guards_text_cells_and_leaves_numbers_alone() {
        let table = parse_tsv_with_names_and_types(TSV).unwrap();
        let expected = "date,project,tokens,cost,change_pct,models\r\n\
            2026-01-01,'-home-o'neil-caf\u{e9},1234567,1.5,,\"['a','b']\"\r\n\
            2026-01-02,\"tab\there\nline\",7,12.25,-3.5,[]\r\n";
        assert_eq!(render_csv(&table), expected);
    }

    #[test]
    fn json_rows_become_one_array() {
        assert_eq!(json_array(""), "[]\n");
        assert_eq!(
            json_array("{\"a\":1}\n{\"a\":2}\n"),
            "[\n{\"a\":1},\n{\"a\":2}\n]\n"
        );
        let parsed: serde_json::Value =
            serde_json::from_str(&json_array("{\"a\":1}\n{\"a\":2}\n")).unwrap();
        assert_eq!(parsed.as_array().unwrap().len(), 2);
    }
}

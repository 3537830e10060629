//! `--verify`: checks the connection, every table, view and column of `sql/schema.sql`, and
//! that the user may write, one line per check. Writes nothing.

use super::{migrate, Sink};
use crate::sqlfile;

/// One check and how it went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    pub what: String,
    pub ok: bool,
    pub detail: String,
    /// Whether running ccusage-import repairs it (false: a person must act first).
    pub repairable: bool,
}

/// Runs every check; the connection itself was checked by [`Sink::connect`].
pub async fn run(sink: &mut Sink) -> Vec<Check> {
    let mut checks = vec![passed(
        &format!("connect to {}", sink.url),
        format!("ClickHouse {}", sink.server_version),
    )];
    let live = match migrate::read(sink).await {
        Ok(live) => live,
        Err(e) => {
            checks.push(failed("read the schema", format!("{e:#}"), false));
            return checks;
        }
    };
    if live.objects.is_empty() {
        checks.push(failed(
            &format!("database {}", sink.database),
            "missing or empty: run ccusage-import once to create it".into(),
            true,
        ));
        return checks;
    }
    checks.push(passed(
        &format!("database {}", sink.database),
        "exists".into(),
    ));
    for finding in migrate::review(&sink.schema, &live, &sink.database) {
        checks.push(check_object(&finding));
    }
    if sink.cluster.is_some() {
        checks.extend(check_replicas(sink).await);
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
        Err(e) => failed("write access", format!("{e:#}"), false),
    });
    checks
}

/// In a cluster, each endpoint is a replica with a schema of its own (a node can lose a
/// table or be altered by hand without ON CLUSTER): one line per endpoint, naming what
/// differs. Only the endpoints given are read, with the run's own credentials.
async fn check_replicas(sink: &Sink) -> Vec<Check> {
    let mut checks = Vec::new();
    for (url, client) in sink.endpoints() {
        let what = format!("replica {url}");
        let live = match migrate::read_from(sink, Some(client)).await {
            Ok(live) => live,
            Err(e) => {
                checks.push(failed(
                    &what,
                    format!("cannot read its schema: {e:#}"),
                    false,
                ));
                continue;
            }
        };
        let findings = migrate::review(&sink.schema, &live, &sink.database);
        let problems: Vec<String> = findings
            .iter()
            .flat_map(|f| {
                let repairs = f
                    .repairs
                    .iter()
                    .map(move |(r, _)| format!("{}: {r}", f.what));
                repairs.chain(f.mismatches.iter().cloned())
            })
            .collect();
        let repairable = findings.iter().all(|f| f.mismatches.is_empty());
        checks.push(if problems.is_empty() {
            passed(&what, "the schema's tables, columns and views".into())
        } else {
            failed(&what, problems.join("; "), repairable)
        });
    }
    checks
}

/// One line per object. Its advice is what is true: what the importer repairs by itself,
/// and what a person must do first.
fn check_object(finding: &migrate::Finding) -> Check {
    if finding.repairs.is_empty() && finding.mismatches.is_empty() {
        return passed(&finding.what, finding.detail.clone());
    }
    let mut problems: Vec<String> = finding.mismatches.clone();
    if !finding.repairs.is_empty() {
        let repairs: Vec<&str> = finding.repairs.iter().map(|(r, _)| r.as_str()).collect();
        let fix = if finding.mismatches.is_empty() {
            "run ccusage-import once (as a user allowed DDL) to repair it"
        } else {
            "ccusage-import repairs this once the rest is fixed"
        };
        problems.push(format!("{}: {fix}", repairs.join(", ")));
    }
    failed(
        &finding.what,
        problems.join("; "),
        finding.mismatches.is_empty(),
    )
}

fn passed(what: &str, detail: String) -> Check {
    Check {
        what: what.to_owned(),
        ok: true,
        detail,
        repairable: true,
    }
}

fn failed(what: &str, detail: String, repairable: bool) -> Check {
    Check {
        what: what.to_owned(),
        ok: false,
        detail,
        repairable,
    }
}

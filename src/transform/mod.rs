//! Transform: ccusage's JSON → typed rows. Pure: no I/O, no clock.

pub mod costcap;
pub mod derive;
pub mod json;
pub mod privacy;
pub mod projects;
pub mod rekey;
pub mod rows;

use std::collections::HashMap;

use anyhow::{bail, Result};

use rows::Record;

/// Fails a report whose rows repeat a key (two daily rows for one date, …). The tables keep
/// one row per key, so writing both would silently keep one and lose the other's usage; like
/// a duplicate JSON field, the report is refused instead, naming the key.
pub fn unique_keys<R>(records: Vec<Record<R>>) -> Result<Vec<Record<R>>> {
    let mut seen: HashMap<&str, usize> = HashMap::with_capacity(records.len());
    for (index, record) in records.iter().enumerate() {
        if let Some(first) = seen.insert(&record.key, index) {
            bail!(
                "rows {} and {} have the same key {:?}: a report must hold one row per key, \
                 so none of it is imported; the rows already stored are kept",
                first + 1,
                index + 1,
                record.key
            );
        }
    }
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(key: &str) -> Record<()> {
        Record {
            key: key.to_owned(),
            row: (),
            breakdowns: Vec::new(),
            models: Vec::new(),
        }
    }

    #[test]
    fn a_repeated_key_is_refused_and_named() {
        let ok = unique_keys(vec![record("2026-11-20"), record("2026-11-21")]).unwrap();
        assert_eq!(ok.len(), 2);
        let error = unique_keys(vec![
            record("2026-11-20"),
            record("2026-11-21"),
            record("2026-11-20"),
        ])
        .unwrap_err()
        .to_string();
        assert!(
            error.contains("rows 1 and 3 have the same key \"2026-11-20\""),
            "{error}"
        );
    }
}

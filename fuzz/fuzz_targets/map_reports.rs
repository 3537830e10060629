//! ccusage JSON → rows: whatever ccusage prints, mapping returns rows or an error, never
//! panics, and every row it returns is internally consistent.
#![no_main]

use libfuzzer_sys::fuzz_target;

use ccusage_import::fuzzing;
use ccusage_import::transform::derive;
use ccusage_import::transform::json::{self, parse_report};
use ccusage_import::transform::rows::{self, Context, Record, UsageRecord};

fn check<R: UsageRecord>(records: &[Record<R>]) {
    for record in records {
        let tokens = record.row.tokens();
        let sum = tokens.total().expect("a mapped row's tokens add up");
        assert_eq!(sum, record.row.total_tokens());
        for child in &record.breakdowns {
            assert_eq!(child.parent_key, record.key);
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, text)) = data.split_first() else {
        return;
    };
    let ctx = Context::new(
        "fuzz",
        "20.0.24",
        chrono::DateTime::from_timestamp(1_795_000_000, 0).unwrap(),
    );
    match selector % 6 {
        0 => {
            if let Ok(report) = parse_report::<json::DailyReport>(text) {
                if let Ok(records) = rows::map_daily(report.as_ref(), &ctx) {
                    check(&records);
                }
            }
        }
        1 => {
            // The monthly table is summed from the days.
            if let Ok(report) = parse_report::<json::DailyReport>(text) {
                if let Ok(days) = rows::map_daily(report.as_ref(), &ctx) {
                    let days: Vec<_> = days.iter().map(derive::StoredDay::of_record).collect();
                    if let Ok(records) = derive::months(&days, &ctx) {
                        check(&records);
                    }
                }
            }
        }
        2 => {
            if let Ok(report) = parse_report::<json::SessionReport>(text) {
                if let Ok(records) = rows::map_sessions(report.as_ref(), &ctx) {
                    check(&records);
                }
            }
        }
        3 => {
            if let Ok(report) = parse_report::<json::BlocksReport>(text) {
                if let Ok(records) = rows::map_blocks(report.as_ref(), &ctx) {
                    check(&records);
                }
                // The same shape one hour long: the hours, and the blocks derived from them.
                if let Ok(hours) = rows::map_hours(report.as_ref(), &ctx) {
                    check(&hours);
                    let hours: Vec<_> = hours.iter().map(derive::StoredHour::of_record).collect();
                    let none = std::collections::BTreeMap::new();
                    if let Ok(records) = derive::blocks(&hours, None, &none, &ctx) {
                        check(&records);
                    }
                }
            }
        }
        4 => {
            if let Ok(report) = parse_report::<json::ProjectsReport>(text) {
                if let Ok(records) = rows::map_projects_daily(report.as_ref(), &ctx) {
                    check(&records);
                }
            }
        }
        _ => {
            if let Ok(report) = parse_report::<fuzzing::AgentsReport>(text) {
                if let Ok(records) = fuzzing::map_agents_daily(report.as_ref(), &ctx) {
                    check(&records);
                }
            }
        }
    }
});

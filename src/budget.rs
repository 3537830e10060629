//! Monthly budgets: the fleet's (`--budget` / `CCUSAGE_IMPORT_BUDGET`) and each machine's, from
//! a small file of `NAME = USD` lines (`--budget-file` / `CCUSAGE_IMPORT_BUDGET_FILE`, by
//! default `budgets` beside the user's settings file). The import warns when this month's
//! projection crosses one; the dashboard draws them. Reading and checking only; the month's
//! figures come from ClickHouse (`sink::history`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Result};

/// Bound for the budget file: a line per machine of a large fleet still fits.
pub const FILE_LIMIT: u64 = 256 * 1024;

/// The budgets in force for a run or a page.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Budgets {
    /// The whole fleet's, USD per month.
    pub fleet: Option<f64>,
    /// Each machine's, USD per month, by machine name.
    pub machines: BTreeMap<String, f64>,
    /// The file they came from, for messages (`None`: none was read).
    pub file: Option<PathBuf>,
}

/// The budgets one machine's import checks: the fleet's and its own.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct RunBudget {
    pub fleet: Option<f64>,
    pub machine: Option<f64>,
}

impl Budgets {
    pub fn for_machine(&self, machine: &str) -> RunBudget {
        RunBudget {
            fleet: self.fleet,
            machine: self.machines.get(machine).copied(),
        }
    }
}

/// The default budget file: `$XDG_CONFIG_HOME/ccusage-import/budgets`, else
/// `~/.config/ccusage-import/budgets`; `None` without either.
pub fn default_path() -> Option<PathBuf> {
    crate::envfile::user_file().map(|settings| settings.with_file_name("budgets"))
}

/// The smallest budget taken: a cent, what the cards can show.
pub const MIN_USD: f64 = 0.01;
/// The largest: a billion USD a month; beyond it the cards and charts lose their scale.
pub const MAX_USD: f64 = 1e9;

/// `--budget`'s parser: USD per month, from a cent to a billion.
pub fn parse_usd(text: &str) -> Result<f64, String> {
    let value: f64 = text
        .trim()
        .trim_start_matches('$')
        .parse()
        .map_err(|_| format!("{text:?} is not an amount of USD (e.g. 500 or 120.50)"))?;
    if (MIN_USD..=MAX_USD).contains(&value) {
        Ok(value)
    } else {
        Err(format!(
            "{text:?} is not a budget: give USD per month from 0.01 to 1000000000"
        ))
    }
}

/// Reads the budgets: `fleet` as given, the machines' from `file` (`explicit`: the person named
/// it, so it must exist; else the default location, which may be missing).
pub fn load(fleet: Option<f64>, file: Option<&Path>, explicit: bool) -> Result<Budgets> {
    let mut budgets = Budgets {
        fleet,
        ..Budgets::default()
    };
    let Some(path) = file.filter(|p| !p.as_os_str().is_empty()) else {
        return Ok(budgets);
    };
    if !explicit && !path.exists() {
        return Ok(budgets);
    }
    let text = crate::smallfile::read(path, FILE_LIMIT)
        .map_err(|e| anyhow!("cannot read the budget file {}: {e:#}", path.display()))?;
    budgets.machines = parse(&text).map_err(|e| {
        anyhow!(
            "the budget file {} {e:#}: write one `MACHINE = USD` line per machine \
             (docs/configuration.md, \"Budgets\")",
            path.display()
        )
    })?;
    // Read, but never matched if no machine is so named: said, not ignored silently.
    for (name, why) in budgets
        .machines
        .keys()
        .filter_map(|name| unlikely_name(name).map(|why| (name, why)))
    {
        crate::log::emit(&format!(
            "ccusage-import: warning: the budget file {} names {:?}, which {why}: its budget \
             counts only for a machine named exactly so (`ccusage-import query fleet_machines` \
             lists them)\n",
            path.display(),
            crate::log::printable(name)
        ));
    }
    budgets.file = Some(path.to_path_buf());
    Ok(budgets)
}

/// Why a budget file's name is unlikely to be a machine's (they are hostnames, lowercased,
/// unless MACHINE_NAME says otherwise), or `None`. A warning, not a refusal: MACHINE_NAME
/// may be set to any of these.
pub fn unlikely_name(name: &str) -> Option<&'static str> {
    // (The machine name's own check is config's, which reads this module: not called here.)
    if name.chars().any(char::is_control) {
        Some("holds a control character")
    } else if name.starts_with(['"', '\'']) || name.ends_with(['"', '\'']) {
        Some("is quoted (write it bare)")
    } else if name.chars().any(char::is_whitespace) {
        Some("holds a space")
    } else if name.chars().any(char::is_uppercase) {
        Some("has capital letters (machine names default to the hostname in lower case)")
    } else {
        None
    }
}

/// `NAME = USD` lines; `#` starts a comment, blank lines are skipped. A machine named twice is
/// an error (which one would count?), as is an amount that is no budget.
pub fn parse(text: &str) -> Result<BTreeMap<String, f64>> {
    let mut out = BTreeMap::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let Some((name, amount)) = line.split_once('=') else {
            bail!("has no `=` on line {}", n + 1);
        };
        let name = name.trim();
        if name.is_empty() {
            bail!("names no machine on line {}", n + 1);
        }
        let usd = parse_usd(amount).map_err(|e| anyhow!("line {}: {e}", n + 1))?;
        if out.insert(name.to_owned(), usd).is_some() {
            bail!("names machine {name:?} twice (line {})", n + 1);
        }
    }
    Ok(out)
}

/// This month so far and where it ends at the same daily rate, as the dashboard's
/// `month_projection` computes it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Month {
    pub cost: f64,
    pub days_elapsed: u32,
    pub days_in_month: u32,
}

impl Month {
    pub fn projected(&self) -> f64 {
        self.cost / f64::from(self.days_elapsed.max(1)) * f64::from(self.days_in_month)
    }
}

/// The warning when `month`'s projection crosses `budget`, `None` below it. `whose` names the
/// spender ("the fleet", "machine laptop"), `source` where the budget was set.
pub fn warning(whose: &str, month: Month, budget: f64, source: &str) -> Option<String> {
    let projected = month.projected();
    if projected <= budget {
        return None;
    }
    let usd = crate::output::format::usd;
    let already = if month.cost > budget {
        ", already over it"
    } else {
        ""
    };
    Some(format!(
        "{whose}'s projected cost this month, {} ({} in {} of {} days{already}), crosses its \
         budget of {} ({source}); the dashboard's budget card shows where it goes",
        usd(projected),
        usd(month.cost),
        month.days_elapsed,
        month.days_in_month,
        usd(budget),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_holds_a_budget_per_machine() {
        let text = "# USD per month\nlaptop = 150\n\n  build-vm=40.5   # the CI box\n";
        let parsed = parse(text).unwrap();
        assert_eq!(parsed["laptop"], 150.0);
        assert_eq!(parsed["build-vm"], 40.5);
        for (bad, why) in [
            ("laptop 150", "no `=` on line 1"),
            ("= 3", "names no machine"),
            ("a = -3", "line 1"),
            ("a = lots", "not an amount"),
            ("a = 1\na = 2", "twice (line 2)"),
        ] {
            let error = format!("{:#}", parse(bad).unwrap_err());
            assert!(error.contains(why), "{bad:?}: {error}");
        }
    }

    #[test]
    fn a_missing_default_file_is_no_budget_and_a_named_one_must_exist() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("budgets");
        assert_eq!(
            load(Some(10.0), Some(&missing), false).unwrap(),
            Budgets {
                fleet: Some(10.0),
                ..Budgets::default()
            }
        );
        let error = format!("{:#}", load(None, Some(&missing), true).unwrap_err());
        assert!(error.contains("cannot read the budget file"), "{error}");
        std::fs::write(&missing, "laptop = 5\n").unwrap();
        let budgets = load(None, Some(&missing), false).unwrap();
        assert_eq!(
            budgets.for_machine("laptop"),
            RunBudget {
                fleet: None,
                machine: Some(5.0)
            }
        );
        std::fs::write(&missing, vec![b'#'; FILE_LIMIT as usize + 1]).unwrap();
        assert!(load(None, Some(&missing), false).is_err());
    }

    #[test]
    fn the_warning_comes_when_the_projection_crosses_the_budget() {
        let month = Month {
            cost: 40.0,
            days_elapsed: 10,
            days_in_month: 30,
        };
        assert_eq!(month.projected(), 120.0);
        assert_eq!(warning("the fleet", month, 120.0, "--budget"), None);
        let warned = warning("machine laptop", month, 100.0, "the budget file b").unwrap();
        assert!(
            warned.starts_with(
                "machine laptop's projected cost this month, $120.00 ($40.00 in 10 of 30 days), \
                 crosses its budget of $100.00 (the budget file b)"
            ),
            "{warned}"
        );
        assert!(warning("the fleet", month, 30.0, "x")
            .unwrap()
            .contains("already over it"));
        assert_eq!(parse_usd("$500"), Ok(500.0));
        assert!(parse_usd("0").is_err() && parse_usd("inf").is_err());
    }

    #[test]
    fn a_budget_is_a_cent_to_a_billion_and_odd_names_are_told() {
        assert_eq!(parse_usd("0.01"), Ok(0.01));
        assert_eq!(parse_usd("1e9"), Ok(1e9));
        for bad in ["1e308", "1e-9", "0.009", "1000000001", "NaN"] {
            let error = parse_usd(bad).unwrap_err();
            assert!(error.contains("from 0.01 to 1000000000"), "{bad}: {error}");
        }
        assert!(format!("{:#}", parse("laptop = 1e308").unwrap_err()).contains("line 1"));
        for odd in ["LAPTOP", "lap top", "\"laptop\"", "'laptop'"] {
            assert!(unlikely_name(odd).is_some(), "{odd}");
        }
        for plain in ["laptop", "build-vm", "dev.example.com", "ноутбук"] {
            assert_eq!(unlikely_name(plain), None, "{plain}");
        }
    }
}

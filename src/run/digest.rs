//! The figures the summary shows beyond totals, taken from the mapped rows of one run: top
//! models, sessions, projects and the active 5-hour block. Pure: rows in, a [`Digest`] out.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use crate::transform::rows::{
    BlockRow, DailyRow, Nanodollars, ProjectDailyRow, Record, SessionRow,
};

/// How many projects a digest keeps (the summary shows fewer).
const PROJECTS_KEPT: usize = 10;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Digest {
    /// Days with usage in the daily report.
    pub active_days: usize,
    /// Every model of the daily report's breakdowns, most expensive first.
    pub models: Vec<ModelCost>,
    pub sessions: Sessions,
    /// Projects with the most cost, most expensive first (from the per-project report, or
    /// from the sessions when that report gave nothing).
    pub projects: Vec<ProjectCost>,
    /// The 5-hour block that is still running, if any.
    pub active_block: Option<ActiveBlock>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ModelCost {
    pub model: String,
    pub cost: Nanodollars,
    pub tokens: u64,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Sessions {
    pub count: usize,
    pub total_cost: Nanodollars,
    pub most_expensive: Option<SessionCost>,
}

impl Sessions {
    pub fn average_cost(&self) -> Option<Nanodollars> {
        (self.count > 0).then(|| self.total_cost / self.count as i64)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct SessionCost {
    pub session_id: String,
    pub project: String,
    /// The project as people read it (`project_name`).
    pub project_name: String,
    pub cost: Nanodollars,
    pub last_activity: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ProjectCost {
    /// The project's stored key; the digest groups by its readable name (`project_name`),
    /// which ccusage 15–18's sessions and project days share.
    pub project: String,
    pub name: String,
    pub cost: Nanodollars,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ActiveBlock {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub tokens: u64,
    pub cost: Nanodollars,
    /// `None` where ccusage printed no burn rate (a block with one entry: too early to tell).
    pub cost_per_hour: Option<f64>,
    pub tokens_per_minute: Option<f64>,
    /// `None` where ccusage printed no projection.
    pub projected_tokens: Option<u64>,
    pub projected_cost: Option<Nanodollars>,
}

impl ActiveBlock {
    /// Minutes until the block ends, seen from `now`, rounded to the nearest as ccusage rounds
    /// its `remainingMinutes` (`Math.round`), so both show the same figure; never negative.
    /// `None`, like ccusage's, where ccusage printed no projection.
    pub fn minutes_left(&self, now: DateTime<Utc>) -> Option<u64> {
        self.projected_tokens?;
        let millis = (self.end - now).num_milliseconds().max(0);
        Some((millis + 30_000) as u64 / 60_000)
    }
}

impl Digest {
    /// The share of the models' summed cost that `model` has (0 when nothing cost anything).
    pub fn model_share(&self, model: &ModelCost) -> f64 {
        let total: i64 = self.models.iter().map(|m| m.cost).sum();
        if total <= 0 {
            0.0
        } else {
            model.cost as f64 / total as f64
        }
    }
}

/// Collects the digest as the pipeline walks its mapped reports, in any order.
#[derive(Debug, Default)]
pub struct DigestBuilder {
    digest: Digest,
    models: HashMap<String, (Nanodollars, u64)>,
    projects: HashMap<String, (String, Nanodollars)>,
    session_projects: HashMap<String, (String, Nanodollars)>,
}

impl DigestBuilder {
    pub fn daily(&mut self, records: &[Record<DailyRow>]) {
        self.digest.active_days += records.len();
        for breakdown in records.iter().flat_map(|r| &r.breakdowns) {
            let entry = self.models.entry(breakdown.model_name.clone()).or_default();
            entry.0 = entry.0.saturating_add(breakdown.cost);
            entry.1 = entry.1.saturating_add(breakdown.total_tokens);
        }
    }

    pub fn sessions(&mut self, records: &[Record<SessionRow>]) {
        let sessions = &mut self.digest.sessions;
        for row in records.iter().map(|r| &r.row) {
            sessions.count += 1;
            sessions.total_cost = sessions.total_cost.saturating_add(row.total_cost);
            let costlier = sessions
                .most_expensive
                .as_ref()
                .is_none_or(|top| row.total_cost > top.cost);
            if costlier {
                sessions.most_expensive = Some(SessionCost {
                    session_id: row.session_id.clone(),
                    project: row.project_path.clone(),
                    project_name: row.project_name.clone(),
                    cost: row.total_cost,
                    last_activity: row.last_activity,
                });
            }
            let (_, cost) = self
                .session_projects
                .entry(row.project_name.clone())
                .or_insert_with(|| (row.project_path.clone(), 0));
            *cost = cost.saturating_add(row.total_cost);
        }
    }

    pub fn blocks(&mut self, records: &[Record<BlockRow>]) {
        let active = records.iter().map(|r| &r.row).filter(|b| b.is_active != 0);
        // ccusage marks at most one block active; should it ever mark more, the latest wins.
        if let Some(row) = active.max_by_key(|b| b.start_time) {
            self.digest.active_block = Some(ActiveBlock {
                start: row.start_time,
                end: row.end_time,
                tokens: row.total_tokens,
                cost: row.cost_usd,
                cost_per_hour: (row.has_burn_rate != 0).then_some(row.burn_rate_cost_per_hour),
                tokens_per_minute: (row.has_burn_rate != 0)
                    .then_some(row.burn_rate_tokens_per_minute),
                projected_tokens: (row.has_projection != 0).then_some(row.projected_total_tokens),
                projected_cost: (row.has_projection != 0).then_some(row.projected_total_cost),
            });
        }
    }

    pub fn projects_daily(&mut self, records: &[Record<ProjectDailyRow>]) {
        for row in records.iter().map(|r| &r.row) {
            let (_, cost) = self
                .projects
                .entry(row.project_name.clone())
                .or_insert_with(|| (row.project.clone(), 0));
            *cost = cost.saturating_add(row.total_cost);
        }
    }

    pub fn finish(mut self) -> Digest {
        let mut models: Vec<ModelCost> = self
            .models
            .into_iter()
            .filter(|(_, (cost, tokens))| *cost != 0 || *tokens != 0)
            .map(|(model, (cost, tokens))| ModelCost {
                model,
                cost,
                tokens,
            })
            .collect();
        models.sort_by(|a, b| b.cost.cmp(&a.cost).then_with(|| a.model.cmp(&b.model)));
        self.digest.models = models;
        let projects = if self.projects.is_empty() {
            self.session_projects
        } else {
            self.projects
        };
        let mut projects: Vec<ProjectCost> = projects
            .into_iter()
            .map(|(name, (project, cost))| ProjectCost {
                project,
                name,
                cost,
            })
            .collect();
        projects.sort_by(|a, b| b.cost.cmp(&a.cost).then_with(|| a.name.cmp(&b.name)));
        projects.truncate(PROJECTS_KEPT);
        self.digest.projects = projects;
        self.digest
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transform::json::parse_report;
    use crate::transform::rows::{self, Context};
    use std::path::PathBuf;

    fn fixture(file: &str) -> Vec<u8> {
        let path: PathBuf = [
            env!("CARGO_MANIFEST_DIR"),
            "tests/fixtures/ccusage/20.0.24",
            file,
        ]
        .iter()
        .collect();
        std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    fn ctx() -> Context {
        Context::new("m", "20.0.24", "2026-11-22T17:00:00Z".parse().unwrap())
    }

    /// The digest of the captured 20.0.24 reports.
    fn fixture_digest() -> Digest {
        let ctx = ctx();
        let mut builder = DigestBuilder::default();
        let daily = parse_report(&fixture("claude-daily.json")).unwrap();
        builder.daily(&rows::map_daily(daily.as_ref(), &ctx).unwrap());
        let sessions = parse_report(&fixture("claude-session.json")).unwrap();
        builder.sessions(&rows::map_sessions(sessions.as_ref(), &ctx).unwrap());
        let blocks = parse_report(&fixture("blocks.json")).unwrap();
        builder.blocks(&rows::map_blocks(blocks.as_ref(), &ctx).unwrap());
        let projects = parse_report(&fixture("claude-daily-instances.json")).unwrap();
        builder.projects_daily(&rows::map_projects_daily(projects.as_ref(), &ctx).unwrap());
        builder.finish()
    }

    #[test]
    fn models_are_ranked_by_cost_and_their_shares_add_up() {
        let digest = fixture_digest();
        assert!(digest.models.len() >= 2, "{:?}", digest.models);
        assert!(digest.models.windows(2).all(|w| w[0].cost >= w[1].cost));
        let shares: f64 = digest.models.iter().map(|m| digest.model_share(m)).sum();
        assert!((shares - 1.0).abs() < 1e-9, "{shares}");
        assert!(digest.active_days > 0);
    }

    #[test]
    fn sessions_projects_and_the_active_block() {
        let digest = fixture_digest();
        let sessions = &digest.sessions;
        assert!(sessions.count > 0);
        let top = sessions.most_expensive.as_ref().unwrap();
        assert!(top.cost * sessions.count as i64 >= sessions.total_cost);
        assert_eq!(
            sessions.average_cost(),
            Some(sessions.total_cost / sessions.count as i64)
        );
        let names: Vec<&str> = digest.projects.iter().map(|p| p.project.as_str()).collect();
        assert!(names.contains(&"-home-alice-proj-a"), "{names:?}");
        assert!(digest.projects.windows(2).all(|w| w[0].cost >= w[1].cost));

        let block = digest.active_block.unwrap();
        assert_eq!(
            block.start,
            "2026-11-22T16:00:00Z".parse::<DateTime<Utc>>().unwrap()
        );
        assert_eq!(block.projected_cost, Some(5_330_000_000));
        assert_eq!(block.projected_tokens, Some(2_677_755));
        let now = "2026-11-22T17:25:30Z".parse().unwrap();
        // 214.5 minutes: ccusage's own projection for this block says 215.
        assert_eq!(block.minutes_left(now), Some(215));
        let just_under = "2026-11-22T17:25:31Z".parse().unwrap();
        assert_eq!(block.minutes_left(just_under), Some(214));
        let later = "2026-11-23T00:00:00Z".parse().unwrap();
        assert_eq!(block.minutes_left(later), Some(0));
    }

    #[test]
    fn nothing_in_gives_an_empty_digest() {
        let mut builder = DigestBuilder::default();
        builder.daily(&[]);
        builder.sessions(&[]);
        builder.blocks(&[]);
        let digest = builder.finish();
        assert_eq!(digest, Digest::default());
        assert_eq!(digest.sessions.average_cost(), None);
    }
}

//! Applies the privacy mode (`ctx.projects`) to mapped rows: project keys, session ids, keys
//! and child keys rewritten, names set, hashes taken again. In `hidden` mode the projects of
//! one day (and ccusage 15–18's whole-project sessions) fall on one key and are summed, so
//! totals stay exact. Runs on every report's rows before anything reads them. Pure.

use std::collections::BTreeMap;

use anyhow::Result;

use super::derive::{Sum, Usage};
use super::projects::UNKNOWN_PROJECT;
use super::rows::{
    children, project_day_key, session_key, session_project, Context, ParentKind, ProjectDailyRow,
    Record, SessionRow,
};

/// Session rows in the run's mode.
pub fn sessions(
    records: Vec<Record<SessionRow>>,
    ctx: &Context,
) -> Result<Vec<Record<SessionRow>>> {
    let records = records
        .into_iter()
        .map(|record| rekey_session(record, ctx))
        .collect::<Result<Vec<_>>>()?;
    merge(records, |group| merge_sessions(group, ctx))
}

/// Project-day rows in the run's mode.
pub fn projects_daily(
    records: Vec<Record<ProjectDailyRow>>,
    ctx: &Context,
) -> Result<Vec<Record<ProjectDailyRow>>> {
    let records = records
        .into_iter()
        .map(|mut record| {
            let row = &mut record.row;
            row.project = ctx.projects.project_key(&row.project);
            row.project_name = ctx.projects.name_of(&row.project);
            row.rehash()?;
            let key = project_day_key(row.date, &row.project);
            Ok(with_key(record, key))
        })
        .collect::<Result<Vec<_>>>()?;
    merge(records, |group| merge_project_days(group, ctx))
}

fn rekey_session(mut record: Record<SessionRow>, ctx: &Context) -> Result<Record<SessionRow>> {
    let projects = &ctx.projects;
    let row = &mut record.row;
    let classic = super::rows::is_classic(&row.ccusage_version);
    let project =
        projects.project_key(session_project(classic, &row.session_id, &row.project_path));
    if classic && row.project_path == UNKNOWN_PROJECT {
        // The id is the project directory: it takes the project's key, so the sums of
        // derive.rs find it under the key its days are stored by.
        row.session_id = project.clone();
    } else if classic {
        let parent = row.project_path.split_once('/').map_or("", |(_, s)| s);
        row.project_path = format!("{project}/{}", projects.session_id(parent));
        row.session_id = projects.session_id(&row.session_id);
    } else {
        row.project_path = project.clone();
        row.session_id = projects.session_id(&row.session_id);
    }
    row.project_name = projects.name_of(&project);
    row.rehash()?;
    let key = session_key(&row.project_path, &row.session_id);
    Ok(with_key(record, key))
}

/// The record under `key`, its child rows pointing at it.
pub(super) fn with_key<R>(mut record: Record<R>, key: String) -> Record<R> {
    for child in &mut record.breakdowns {
        child.parent_key = key.clone();
    }
    for child in &mut record.models {
        child.parent_key = key.clone();
    }
    record.key = key;
    record
}

/// Records that now share a key, summed into one; the others as they are, in order.
pub(super) fn merge<R>(
    records: Vec<Record<R>>,
    sum: impl Fn(Vec<Record<R>>) -> Result<Record<R>>,
) -> Result<Vec<Record<R>>> {
    let mut groups: BTreeMap<String, Vec<Record<R>>> = BTreeMap::new();
    let mut order = Vec::new();
    for record in records {
        let group = groups.entry(record.key.clone()).or_default();
        if group.is_empty() {
            order.push(record.key.clone());
        }
        group.push(record);
    }
    order
        .into_iter()
        .map(|key| {
            let mut group = groups.remove(&key).expect("every key has its group");
            if group.len() == 1 {
                Ok(group.pop().expect("one record"))
            } else {
                sum(group)
            }
        })
        .collect()
}

pub(super) fn total<R>(
    group: &[Record<R>],
    cost: impl Fn(&R) -> i64,
    models: impl Fn(&R) -> &[String],
) -> Result<Sum>
where
    R: super::rows::UsageRecord,
{
    let mut sum = Sum::default();
    for record in group {
        sum.add(&Usage::of_record(
            record,
            cost(&record.row),
            models(&record.row),
        ))?;
    }
    Ok(sum)
}

pub(super) fn merge_project_days(
    group: Vec<Record<ProjectDailyRow>>,
    ctx: &Context,
) -> Result<Record<ProjectDailyRow>> {
    let first = &group[0].row;
    let (project, date, key) = (first.project.clone(), first.date, group[0].key.clone());
    let sum = total(&group, |r| r.total_cost, |r| &r.models_used)?;
    let (figures, breakdowns) = sum.finish()?;
    let row = ProjectDailyRow::new(ctx, figures, project, date)?;
    let (version, models) = (row.row_version, row.models_used.clone());
    children(
        ctx,
        ParentKind::ProjectDaily,
        &key,
        row,
        version,
        &models,
        &breakdowns,
    )
}

pub(super) fn merge_sessions(
    group: Vec<Record<SessionRow>>,
    ctx: &Context,
) -> Result<Record<SessionRow>> {
    let first = &group[0].row;
    let (session_id, project_path) = (first.session_id.clone(), first.project_path.clone());
    let key = group[0].key.clone();
    let first_activity = group.iter().filter_map(|r| r.row.first_activity).min();
    let last_activity = group
        .iter()
        .map(|r| r.row.last_activity)
        .max()
        .expect("a group is never empty");
    let sum = total(&group, |r| r.total_cost, |r| &r.models_used)?;
    let (figures, breakdowns) = sum.finish()?;
    let row = SessionRow::new(
        ctx,
        figures,
        session_id,
        project_path,
        first_activity,
        last_activity,
    )?;
    let (version, models) = (row.row_version, row.models_used.clone());
    children(
        ctx,
        ParentKind::Session,
        &key,
        row,
        version,
        &models,
        &breakdowns,
    )
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::sync::Arc;

    use super::*;
    use crate::transform::derive::{project_sessions, StoredProjectDay, StoredSubSession};
    use crate::transform::json::parse_report;
    use crate::transform::projects::{Mode, Projects, HIDDEN};
    use crate::transform::rows::{map_projects_daily, map_sessions, UsageRecord};

    fn fixture(version: &str, file: &str) -> Vec<u8> {
        let path = format!(
            "{}/tests/fixtures/ccusage/{version}/{file}",
            env!("CARGO_MANIFEST_DIR")
        );
        std::fs::read(&path).unwrap()
    }

    fn ctx(version: &str, mode: Mode) -> Context {
        let mut ctx = Context::new("m", version, "2026-11-22T18:00:00Z".parse().unwrap());
        let home = Some("/home/alice".to_owned());
        let real = ["/home/alice/proj-a", "/home/alice/work/proj-b"];
        let is_dir = Arc::new(move |p: &std::path::Path| {
            real.iter().any(|d| std::path::Path::new(d).starts_with(p))
        });
        ctx.projects = Arc::new(Projects::new(
            mode,
            b"key".to_vec(),
            HashMap::new(),
            home,
            is_dir,
        ));
        ctx
    }

    fn tokens<R: UsageRecord>(records: &[Record<R>]) -> u64 {
        records.iter().map(|r| r.row.total_tokens()).sum()
    }

    fn cost_of<R>(records: &[Record<R>], cost: impl Fn(&R) -> i64) -> i64 {
        records.iter().map(|r| cost(&r.row)).sum()
    }

    /// ccusage 18's project days and sessions through each mode, and the whole-project
    /// sessions derive.rs sums from them.
    fn classic(mode: Mode) -> (Vec<Record<ProjectDailyRow>>, Vec<Record<SessionRow>>) {
        let ctx = ctx("18.0.11", mode);
        let days = parse_report(&fixture("18.0.11", "daily-instances.json")).unwrap();
        let days = projects_daily(map_projects_daily(days.as_ref(), &ctx).unwrap(), &ctx).unwrap();
        let report = parse_report(&fixture("18.0.11", "session.json")).unwrap();
        let sessions = sessions(map_sessions(report.as_ref(), &ctx).unwrap(), &ctx).unwrap();
        let stored: Vec<_> = days.iter().map(StoredProjectDay::of_record).collect();
        let subs: Vec<_> = sessions
            .iter()
            .filter(|s| s.row.project_path != UNKNOWN_PROJECT)
            .map(StoredSubSession::of_record)
            .collect();
        let derived = project_sessions(&stored, &subs, &ctx).unwrap();
        let mut all: Vec<_> = sessions
            .into_iter()
            .filter(|s| s.row.project_path != UNKNOWN_PROJECT)
            .collect();
        all.extend(derived);
        (days, all)
    }

    #[test]
    fn plain_names_the_real_fixture_projects_relative_to_home() {
        let (days, sessions) = classic(Mode::Plain);
        let mut names: Vec<_> = days.iter().map(|d| d.row.project_name.as_str()).collect();
        names.dedup();
        assert_eq!(names, ["proj-a", "work/proj-b"]);
        assert!(days
            .iter()
            .any(|d| d.row.project == "-home-alice-work-proj-b"));
        assert!(sessions
            .iter()
            .all(|s| s.row.project_name == "proj-a" || s.row.project_name == "work/proj-b"));
    }

    #[test]
    fn every_mode_keeps_the_totals_and_the_sub_agent_grouping() {
        let (plain_days, plain_sessions) = classic(Mode::Plain);
        for mode in [Mode::Hash, Mode::Hidden] {
            let (days, sessions) = classic(mode);
            assert_eq!(tokens(&days), tokens(&plain_days), "{mode:?}");
            assert_eq!(
                cost_of(&days, |r| r.total_cost),
                cost_of(&plain_days, |r| r.total_cost)
            );
            // derive.rs subtracted each project's sub-agents from its days in every mode.
            assert_eq!(tokens(&sessions), tokens(&plain_sessions), "{mode:?}");
            for s in &sessions {
                assert!(
                    !s.row.project_path.contains("alice") && !s.row.session_id.contains("alice")
                );
                assert!(s.breakdowns.iter().all(|b| b.parent_key == s.key));
            }
        }
        let (days, sessions) = classic(Mode::Hidden);
        assert!(days
            .iter()
            .all(|d| d.row.project == HIDDEN && d.row.project_name == HIDDEN));
        let whole: Vec<_> = sessions
            .iter()
            .filter(|s| s.row.project_path == UNKNOWN_PROJECT)
            .collect();
        assert_eq!(whole.len(), 1, "one project per machine");
        let mut dates: Vec<_> = days.iter().map(|d| d.row.date).collect();
        dates.dedup();
        assert_eq!(dates.len(), days.len(), "one row per day");
    }

    #[test]
    fn hash_mode_gives_ccusage_20_sessions_hashed_ids_and_one_key_per_project() {
        let ctx = ctx("20.0.24", Mode::Hash);
        let report = parse_report(&fixture("20.0.24", "claude-session.json")).unwrap();
        let plain = map_sessions(report.as_ref(), &ctx).unwrap();
        let hashed = sessions(plain.clone(), &ctx).unwrap();
        assert_eq!(hashed.len(), plain.len());
        assert_eq!(tokens(&hashed), tokens(&plain));
        let mut projects: Vec<_> = hashed.iter().map(|s| s.row.project_path.clone()).collect();
        projects.sort();
        projects.dedup();
        assert_eq!(projects.len(), 2);
        for (h, p) in hashed.iter().zip(&plain) {
            assert_ne!(h.row.session_id, p.row.session_id);
            assert_ne!(h.row.content_hash, p.row.content_hash);
            assert!(h.row.project_name.starts_with("project-"));
        }
    }
}

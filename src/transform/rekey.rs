//! `--rekey-projects`: a machine's stored sessions and project days, moved from the project
//! mode they were stored in to this run's. Insert-only, like every write: each re-keyed row is
//! stored under its new key, and the old row is stored once more with `superseded = 1` and a
//! newer version, so `FINAL` returns that copy and every reader skips it. Pure: stored rows in,
//! rows to write out.
//!
//! A key that cannot be translated stays as it is: a hash becomes a readable name again only
//! for the projects and sessions this run's ccusage still reports (their hashes are computed
//! and matched); the rest keep their hash, under which nothing new is ever imported, so
//! nothing is counted twice. Rows stored `hidden` cannot be told apart again and are refused
//! before this runs.

use std::collections::HashMap;

use anyhow::Result;

use super::privacy::{merge, merge_project_days, merge_sessions, total, with_key};
use super::projects::{Mode, Projects, HIDDEN, UNKNOWN_PROJECT};
use super::rows::{
    children, project_day_key, row_version, session_day_key, session_key, session_project,
    ClassicRow, Context, ModelFigures, ParentKind, ProjectDailyRow, Record, SessionDayRow,
    SessionRow,
};

/// The rows one table gets: the re-keyed records and the superseded copies of the old rows.
#[derive(Debug)]
pub struct Rekeyed<R> {
    pub records: Vec<Record<R>>,
    pub superseded: Vec<R>,
}

/// How stored keys of the old mode translate into this run's mode.
pub struct Translation<'a> {
    pub old: &'a Projects,
    pub new: &'a Projects,
    /// Old-mode hash → ccusage's text, for what this run's ccusage reports (filled when the
    /// new mode is plain: only then are the texts at hand).
    pub projects: HashMap<String, String>,
    pub sessions: HashMap<String, String>,
}

impl<'a> Translation<'a> {
    pub fn new(old: &'a Projects, new: &'a Projects) -> Self {
        Translation {
            old,
            new,
            projects: HashMap::new(),
            sessions: HashMap::new(),
        }
    }

    /// Learns ccusage's texts from this run's rows (in the new mode, plain: as printed).
    pub fn learn(
        &mut self,
        sessions: &[Record<SessionRow>],
        project_days: &[Record<ProjectDailyRow>],
    ) {
        if self.new.mode != Mode::Plain || self.old.mode == Mode::Plain {
            return;
        }
        for day in project_days {
            self.learn_project(&day.row.project);
        }
        for s in sessions {
            let row = &s.row;
            let classic = super::rows::is_classic(&row.ccusage_version);
            self.learn_project(session_project(classic, &row.session_id, &row.project_path));
            self.learn_session(&row.session_id);
            if let Some((_, parent)) = row.project_path.split_once('/') {
                self.learn_session(parent);
            }
        }
    }

    fn learn_project(&mut self, text: &str) {
        self.projects
            .insert(self.old.project_key(text), text.to_owned());
    }

    fn learn_session(&mut self, text: &str) {
        self.sessions
            .insert(self.old.session_id(text), text.to_owned());
    }

    fn project(&self, old_key: &str) -> String {
        if old_key == UNKNOWN_PROJECT {
            return old_key.to_owned();
        }
        match self.old.mode {
            Mode::Plain => self.new.project_key(old_key),
            _ => match self.projects.get(old_key) {
                Some(text) => self.new.project_key(text),
                None if self.new.mode == Mode::Hidden => HIDDEN.to_owned(),
                None => old_key.to_owned(),
            },
        }
    }

    /// Hash and hidden hash session ids alike (one HMAC, one key): a hashed id stays.
    fn session(&self, old_id: &str) -> String {
        match self.old.mode {
            Mode::Plain => self.new.session_id(old_id),
            _ => match self.sessions.get(old_id) {
                Some(text) => self.new.session_id(text),
                None => old_id.to_owned(),
            },
        }
    }
}

/// A stored row the re-key moves: how its key translates, and the fields every table's copy
/// shares (the version, the superseded mark), so one loop serves the three tables.
trait Rekey: ClassicRow + Clone {
    const KIND: ParentKind;
    /// Moves the row's project and session into the new mode, its project name included.
    fn translate(&mut self, t: &Translation<'_>);
    fn key(&self) -> String;
    fn project_name(&self) -> &str;
    /// The version is the row's tokens at this run's tick: a newer write of the same figures.
    fn stamp(&mut self, ctx: &Context);
    fn mark_superseded(&mut self);
    fn rehash(&mut self) -> Result<()>;
}

/// The methods alike in every row type: its fields of the same names, its own `rehash`.
macro_rules! shared_fields {
    () => {
        fn project_name(&self) -> &str {
            &self.project_name
        }
        fn stamp(&mut self, ctx: &Context) {
            self.row_version = row_version(self.total_tokens, ctx.tick);
        }
        fn mark_superseded(&mut self) {
            self.superseded = 1;
        }
        fn rehash(&mut self) -> Result<()> {
            // The row type's inherent `rehash`, which path resolution prefers to this one.
            Self::rehash(self)
        }
    };
}

impl Rekey for SessionRow {
    const KIND: ParentKind = ParentKind::Session;
    fn translate(&mut self, t: &Translation<'_>) {
        let classic = super::rows::is_classic(&self.ccusage_version);
        let project = t.project(session_project(
            classic,
            &self.session_id,
            &self.project_path,
        ));
        if classic && self.project_path == UNKNOWN_PROJECT {
            self.session_id = project.clone();
        } else if classic {
            let parent = self.project_path.split_once('/').map_or("", |(_, s)| s);
            self.project_path = format!("{project}/{}", t.session(parent));
            self.session_id = t.session(&self.session_id);
        } else {
            self.project_path = project.clone();
            self.session_id = t.session(&self.session_id);
        }
        self.project_name = t.new.name_of(&project);
    }
    fn key(&self) -> String {
        session_key(&self.project_path, &self.session_id)
    }
    shared_fields!();
}

impl Rekey for ProjectDailyRow {
    const KIND: ParentKind = ParentKind::ProjectDaily;
    fn translate(&mut self, t: &Translation<'_>) {
        self.project = t.project(&self.project);
        self.project_name = t.new.name_of(&self.project);
    }
    fn key(&self) -> String {
        project_day_key(self.date, &self.project)
    }
    shared_fields!();
}

impl Rekey for SessionDayRow {
    const KIND: ParentKind = ParentKind::SessionDay;
    fn translate(&mut self, t: &Translation<'_>) {
        self.project_path = t.project(&self.project_path);
        self.session_id = t.session(&self.session_id);
        self.project_name = t.new.name_of(&self.project_path);
    }
    fn key(&self) -> String {
        session_day_key(self.date, &self.project_path, &self.session_id)
    }
    shared_fields!();
}

/// One table's stored rows in the new mode: a row whose key and name stay is left alone; a
/// moved row is written under its new key (rows meeting on one key summed by `merge_group`),
/// and its old key once more, superseded and newer, so `FINAL` keeps that copy.
fn rekey<R: Rekey>(
    stored: Vec<(R, Vec<ModelFigures>)>,
    t: &Translation<'_>,
    ctx: &Context,
    merge_group: impl Fn(Vec<Record<R>>) -> Result<Record<R>>,
) -> Result<Rekeyed<R>> {
    let mut superseded = Vec::new();
    let mut moved = Vec::new();
    for (old, breakdowns) in stored {
        let mut row = old.clone();
        row.translate(t);
        row.stamp(ctx);
        row.rehash()?;
        let (old_key, key) = (old.key(), row.key());
        if key == old_key && row.project_name() == old.project_name() {
            continue;
        }
        if key != old_key {
            let mut marked = old;
            marked.mark_superseded();
            marked.stamp(ctx);
            superseded.push(marked);
        }
        moved.push(record(ctx, R::KIND, key, row, &breakdowns)?);
    }
    Ok(Rekeyed {
        records: merge(moved, merge_group)?,
        superseded,
    })
}

/// The machine's stored sessions in the new mode.
pub fn sessions(
    stored: Vec<(SessionRow, Vec<ModelFigures>)>,
    t: &Translation<'_>,
    ctx: &Context,
) -> Result<Rekeyed<SessionRow>> {
    rekey(stored, t, ctx, |group| merge_sessions(group, ctx))
}

/// The machine's stored project days in the new mode.
pub fn projects_daily(
    stored: Vec<(ProjectDailyRow, Vec<ModelFigures>)>,
    t: &Translation<'_>,
    ctx: &Context,
) -> Result<Rekeyed<ProjectDailyRow>> {
    rekey(stored, t, ctx, |group| merge_project_days(group, ctx))
}

/// The machine's stored session days (ccusage 19+ only) in the new mode, translated as the
/// sessions they are summed into, so the sessions summed after the re-key keep every stored day.
pub fn session_days(
    stored: Vec<(SessionDayRow, Vec<ModelFigures>)>,
    t: &Translation<'_>,
    ctx: &Context,
) -> Result<Rekeyed<SessionDayRow>> {
    rekey(stored, t, ctx, |group| merge_session_days(group, ctx))
}

/// Session days that fall on one key in the new mode (`hidden`), summed.
fn merge_session_days(
    group: Vec<Record<SessionDayRow>>,
    ctx: &Context,
) -> Result<Record<SessionDayRow>> {
    let key = group[0].key.clone();
    let first_activity = group.iter().filter_map(|r| r.row.first_activity).min();
    let last_activity = group.iter().map(|r| r.row.last_activity).max();
    let (figures, breakdowns) = total(&group, |r| r.total_cost, |r| &r.models_used)?.finish()?;
    let mut row = group[0].row.clone();
    row.first_activity = first_activity;
    row.last_activity = last_activity.expect("a group is never empty");
    row.input_tokens = figures.tokens.input;
    row.output_tokens = figures.tokens.output;
    row.cache_creation_tokens = figures.tokens.cache_creation;
    row.cache_read_tokens = figures.tokens.cache_read;
    row.total_tokens = figures.total_tokens;
    row.total_cost = figures.total_cost;
    row.models_used = figures.models_used;
    row.row_version = row_version(row.total_tokens, ctx.tick);
    row.rehash()?;
    record(ctx, ParentKind::SessionDay, key, row, &breakdowns)
}

fn record<R: ClassicRow>(
    ctx: &Context,
    kind: ParentKind,
    key: String,
    row: R,
    breakdowns: &[ModelFigures],
) -> Result<Record<R>> {
    let (version, models) = row.version_and_models();
    let models = models.to_vec();
    let record = children(ctx, kind, &key, row, version, &models, breakdowns)?;
    Ok(with_key(record, key))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::transform::json::parse_report;
    use crate::transform::rows::{map_projects_daily, map_sessions, UsageRecord};

    fn projects(mode: Mode) -> Projects {
        Projects::new(
            mode,
            b"key".to_vec(),
            HashMap::new(),
            None,
            Arc::new(|_| false),
        )
    }

    fn ctx(tick_later: u64) -> Context {
        let mut ctx = Context::new("m", "20.0.24", "2026-11-22T18:00:00Z".parse().unwrap());
        ctx.tick += tick_later;
        ctx
    }

    fn stored_days(ctx: &Context) -> Vec<(ProjectDailyRow, Vec<ModelFigures>)> {
        let path = format!(
            "{}/tests/fixtures/ccusage/20.0.24/claude-daily-instances.json",
            env!("CARGO_MANIFEST_DIR")
        );
        let report = parse_report(&std::fs::read(path).unwrap()).unwrap();
        map_projects_daily(report.as_ref(), ctx)
            .unwrap()
            .into_iter()
            .map(|r| (r.row, Vec::new()))
            .collect()
    }

    #[test]
    fn plain_to_hash_and_back_keeps_every_total_and_supersedes_each_old_key_once() {
        let (plain, hash) = (projects(Mode::Plain), projects(Mode::Hash));
        let first = ctx(0);
        let days = stored_days(&first);
        let total: u64 = days.iter().map(|(r, _)| r.total_tokens()).sum();
        let to_hash =
            projects_daily(days.clone(), &Translation::new(&plain, &hash), &ctx(1)).unwrap();
        assert_eq!(to_hash.superseded.len(), days.len());
        assert!(to_hash.superseded.iter().all(|r| r.superseded == 1));
        let hashed: Vec<_> = to_hash
            .records
            .iter()
            .map(|r| (r.row.clone(), Vec::new()))
            .collect();
        assert_eq!(
            hashed.iter().map(|(r, _)| r.total_tokens).sum::<u64>(),
            total
        );
        assert!(hashed.iter().all(|(r, _)| r.project.len() == 16));

        // Back to plain: the hashes this run's ccusage still reports turn into their text.
        let mut back = Translation::new(&hash, &plain);
        let report: Vec<Record<ProjectDailyRow>> = days
            .iter()
            .map(|(r, _)| Record {
                key: String::new(),
                row: r.clone(),
                breakdowns: vec![],
                models: vec![],
            })
            .collect();
        back.learn(&[], &report);
        let restored = projects_daily(hashed, &back, &ctx(2)).unwrap();
        let mut keys: Vec<_> = restored
            .records
            .iter()
            .map(|r| r.row.project.clone())
            .collect();
        keys.sort();
        keys.dedup();
        let mut want: Vec<_> = days.iter().map(|(r, _)| r.project.clone()).collect();
        want.sort();
        want.dedup();
        assert_eq!(keys, want);
        // Newer than the superseded copies of the same keys, so they win under FINAL.
        for marked in &to_hash.superseded {
            let back = restored
                .records
                .iter()
                .find(|r| r.row.project == marked.project && r.row.date == marked.date);
            assert!(back.unwrap().row.row_version > marked.row_version);
        }
    }

    #[test]
    fn hash_to_hidden_keeps_session_ids_and_sums_the_projects() {
        let (hash, hidden) = (projects(Mode::Hash), projects(Mode::Hidden));
        let mut c = ctx(0);
        c.projects = Arc::new(hash.clone());
        let path = format!(
            "{}/tests/fixtures/ccusage/20.0.24/claude-session.json",
            env!("CARGO_MANIFEST_DIR")
        );
        let report = parse_report(&std::fs::read(path).unwrap()).unwrap();
        let stored =
            crate::transform::privacy::sessions(map_sessions(report.as_ref(), &c).unwrap(), &c)
                .unwrap();
        let ids: Vec<_> = stored.iter().map(|r| r.row.session_id.clone()).collect();
        let input: Vec<_> = stored.iter().map(|r| (r.row.clone(), Vec::new())).collect();
        let out = sessions(input, &Translation::new(&hash, &hidden), &ctx(1)).unwrap();
        assert_eq!(out.records.len(), stored.len());
        for r in &out.records {
            assert_eq!(r.row.project_path, HIDDEN);
            assert!(ids.contains(&r.row.session_id), "{}", r.row.session_id);
        }
    }
}

//! Which ccusage command gives which report, per major version (see docs/versions.md).

use std::path::Path;

use crate::run::ReportKind;

/// The oldest major version whose output ccusage-import understands.
pub const OLDEST_SUPPORTED_MAJOR: u32 = 15;
/// The newest major version tested; newer ones get a warning and this command set.
pub const NEWEST_TESTED_MAJOR: u32 = 20;

/// The argument lists of one ccusage generation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommandSet {
    /// 15 to 18: the top-level reports are Claude-only.
    Classic,
    /// 19 and later: the top-level reports cover all agents; `claude <report>` keeps the
    /// classic Claude-only shape. `blocks` stays top-level.
    ClaudeSubcommand,
}

impl CommandSet {
    pub fn for_major(major: u32) -> CommandSet {
        if major >= 19 {
            CommandSet::ClaudeSubcommand
        } else {
            CommandSet::Classic
        }
    }

    /// How this generation keys a session: by project directory up to 18, by session file
    /// from 19. Stored per machine, so sums read only the scheme in use (see the sessions view).
    pub fn session_scheme(self) -> &'static str {
        match self {
            CommandSet::Classic => "project",
            CommandSet::ClaudeSubcommand => "session",
        }
    }

    /// The generation whose [`CommandSet::session_scheme`] is `scheme`, as stored for a
    /// machine by its last import; `None` for an empty or unknown one.
    pub fn of_scheme(scheme: &str) -> Option<CommandSet> {
        [CommandSet::Classic, CommandSet::ClaudeSubcommand]
            .into_iter()
            .find(|set| set.session_scheme() == scheme)
    }

    /// The reports this generation can give.
    pub fn reports(self) -> Vec<ReportKind> {
        let mut kinds = ReportKind::CLAUDE.to_vec();
        if self == CommandSet::ClaudeSubcommand {
            kinds.push(ReportKind::AgentsDaily);
        }
        kinds
    }

    /// How many reports may run at once by default. Up to 18 a report can take 1 to 3.6 GB on
    /// a heavy user's logs, so run as many as a 4 GB share of the available memory allows;
    /// from 19 on a report takes about 200 MB and all run at once, with the one-day session
    /// reports of today and yesterday an hourly run starts beside them.
    pub fn default_jobs(self, available_memory: Option<u64>) -> usize {
        const PER_OLD_REPORT: u64 = 4 << 30;
        match self {
            CommandSet::ClaudeSubcommand => self.reports().len() + 2,
            CommandSet::Classic => {
                let fit = available_memory.map_or(1, |bytes| bytes / PER_OLD_REPORT);
                (fit as usize).clamp(1, ReportKind::CLAUDE.len())
            }
        }
    }

    /// The full argument list for `kind`: its command (from the report's file in
    /// `src/reports/`), with the flags that make output dependable:
    /// JSON, no network for prices, UTC days, ascending order, and an empty config file so a
    /// user's own `ccusage.json` cannot change any of that.
    pub fn args(self, kind: ReportKind, empty_config: &Path) -> Vec<String> {
        let command = crate::reports::of(kind).command;
        let mut args: Vec<&str> = command.words.to_vec();
        if self == CommandSet::ClaudeSubcommand && command.under_claude {
            args.insert(0, "claude");
        }
        args.extend(["--json", "--offline"]);
        if command.mode_auto {
            args.extend(["--mode", "auto"]);
        }
        args.extend(["--order", "asc", "--timezone", "UTC", "--config"]);
        let mut args: Vec<String> = args.into_iter().map(str::to_owned).collect();
        args.push(empty_config.display().to_string());
        args
    }

    /// The session report restricted to one UTC day (19+): each session's usage on `date`,
    /// the grain the sessions are summed from (see `derive::sessions`).
    pub fn session_day_args(self, date: chrono::NaiveDate, empty_config: &Path) -> Vec<String> {
        let mut args = self.args(ReportKind::Session, empty_config);
        let day = date.format("%Y%m%d").to_string();
        args.extend(["--since".to_owned(), day.clone(), "--until".to_owned(), day]);
        args
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn first_words(set: CommandSet, kind: ReportKind) -> String {
        let args = set.args(kind, Path::new("/tmp/empty.json"));
        let end = args.iter().position(|a| a == "--json").unwrap();
        args[..end].join(" ")
    }

    #[test]
    fn classic_versions_use_top_level_reports() {
        let set = CommandSet::for_major(18);
        assert_eq!(first_words(set, ReportKind::Daily), "daily");
        assert_eq!(
            first_words(set, ReportKind::ProjectsDaily),
            "daily --instances"
        );
        assert_eq!(first_words(set, ReportKind::Blocks), "blocks");
        assert_eq!(
            first_words(set, ReportKind::Hours),
            "blocks --session-length 1"
        );
    }

    #[test]
    fn new_versions_use_the_claude_subcommand_except_for_blocks() {
        let set = CommandSet::for_major(20);
        assert_eq!(first_words(set, ReportKind::Session), "claude session");
        assert_eq!(
            first_words(set, ReportKind::ProjectsDaily),
            "claude daily --instances"
        );
        assert_eq!(first_words(set, ReportKind::Blocks), "blocks");
        assert_eq!(
            first_words(set, ReportKind::Hours),
            "claude blocks --session-length 1"
        );
    }

    #[test]
    fn a_session_day_is_the_session_report_of_one_day() {
        let set = CommandSet::for_major(20);
        let date = chrono::NaiveDate::from_ymd_opt(2026, 2, 11).unwrap();
        let line = set.session_day_args(date, Path::new("/e.json")).join(" ");
        assert!(line.starts_with("claude session --json"), "{line}");
        assert!(
            line.ends_with("--since 20260211 --until 20260211"),
            "{line}"
        );
    }

    #[test]
    fn the_all_agent_report_comes_with_19_only() {
        assert!(!CommandSet::for_major(18)
            .reports()
            .contains(&ReportKind::AgentsDaily));
        let set = CommandSet::for_major(19);
        assert!(set.reports().contains(&ReportKind::AgentsDaily));
        assert_eq!(
            first_words(set, ReportKind::AgentsDaily),
            "daily --by-agent"
        );
        let args = set
            .args(ReportKind::AgentsDaily, Path::new("/e.json"))
            .join(" ");
        assert!(!args.contains("--mode"), "{args}");
    }

    #[test]
    fn old_versions_run_as_many_reports_as_memory_allows() {
        let gib = 1u64 << 30;
        let old = CommandSet::Classic;
        assert_eq!(old.default_jobs(Some(3 * gib)), 1);
        assert_eq!(old.default_jobs(Some(9 * gib)), 2);
        assert_eq!(old.default_jobs(Some(64 * gib)), 5);
        assert_eq!(old.default_jobs(None), 1);
        assert_eq!(CommandSet::ClaudeSubcommand.default_jobs(Some(gib)), 8);
    }

    #[test]
    fn a_stored_scheme_names_its_command_set() {
        for set in [CommandSet::Classic, CommandSet::ClaudeSubcommand] {
            assert_eq!(CommandSet::of_scheme(set.session_scheme()), Some(set));
        }
        assert_eq!(CommandSet::of_scheme(""), None);
    }

    #[test]
    fn every_report_gets_the_dependable_flags() {
        for kind in ReportKind::CLAUDE {
            let args = CommandSet::Classic.args(kind, Path::new("/e.json"));
            let line = args.join(" ");
            assert!(line.ends_with(
                "--json --offline --mode auto --order asc --timezone UTC --config /e.json"
            ));
        }
    }
}

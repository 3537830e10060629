//! Which ccusage command gives which report, per major version (see the README's version table).

use std::fmt;
use std::path::Path;

/// The five reports an import runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ReportKind {
    Daily,
    Monthly,
    Session,
    Blocks,
    ProjectsDaily,
}

impl ReportKind {
    pub const ALL: [ReportKind; 5] = [
        ReportKind::Daily,
        ReportKind::Monthly,
        ReportKind::Session,
        ReportKind::Blocks,
        ReportKind::ProjectsDaily,
    ];

    /// The name used in messages, `--json` output and ledger columns.
    pub fn name(self) -> &'static str {
        match self {
            ReportKind::Daily => "daily",
            ReportKind::Monthly => "monthly",
            ReportKind::Session => "session",
            ReportKind::Blocks => "blocks",
            ReportKind::ProjectsDaily => "projects_daily",
        }
    }
}

impl fmt::Display for ReportKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

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

    /// The full argument list for `kind`, with the flags that make output dependable:
    /// JSON, no network for prices, UTC days, ascending order, and an empty config file so a
    /// user's own `ccusage.json` cannot change any of that.
    pub fn args(self, kind: ReportKind, empty_config: &Path) -> Vec<String> {
        let claude = self == CommandSet::ClaudeSubcommand;
        let mut args: Vec<&str> = match kind {
            ReportKind::Blocks => vec!["blocks"],
            ReportKind::Daily | ReportKind::ProjectsDaily => vec!["daily"],
            ReportKind::Monthly => vec!["monthly"],
            ReportKind::Session => vec!["session"],
        };
        if claude && kind != ReportKind::Blocks {
            args.insert(0, "claude");
        }
        if kind == ReportKind::ProjectsDaily {
            args.push("--instances");
        }
        args.extend([
            "--json",
            "--offline",
            "--mode",
            "auto",
            "--order",
            "asc",
            "--timezone",
            "UTC",
            "--config",
        ]);
        let mut args: Vec<String> = args.into_iter().map(str::to_owned).collect();
        args.push(empty_config.display().to_string());
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
    }

    #[test]
    fn every_report_gets_the_dependable_flags() {
        for kind in ReportKind::ALL {
            let args = CommandSet::Classic.args(kind, Path::new("/e.json"));
            let line = args.join(" ");
            assert!(line.ends_with(
                "--json --offline --mode auto --order asc --timezone UTC --config /e.json"
            ));
        }
    }
}

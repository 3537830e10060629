//! Exit codes: one table, shown in `--help` (made from [`Exit::ALL`]) and docs/failures.md (a test
//! compares it).

/// How a run ended. The numeric values are a documented interface: cron wrappers and
/// scripts branch on them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Exit {
    /// Every report was imported (or every `--verify` check passed).
    Ok = 0,
    /// Anything not covered below.
    Other = 1,
    /// Bad usage or configuration (clap also exits 2 on a bad flag).
    Usage = 2,
    /// ClickHouse failed: connection, authentication, schema or write.
    ClickHouse = 3,
    /// One or more ccusage reports failed; the others were imported.
    Reports = 4,
    /// Another import holds the lock.
    Locked = 5,
    /// Every ccusage report failed: nothing was imported.
    NothingImported = 6,
    /// Stopped by Ctrl-C (SIGINT), 128 + 2 as shells report it.
    Interrupted = 130,
    /// Stopped by SIGTERM, 128 + 15.
    Terminated = 143,
    /// Stopped by SIGHUP (the terminal closed), 128 + 1.
    Hangup = 129,
    /// Stopped by SIGQUIT, 128 + 3.
    Quit = 131,
    /// Stopped by SIGUSR1, 128 + 10.
    User1 = 138,
    /// Stopped by SIGUSR2, 128 + 12.
    User2 = 140,
    /// Stopped by SIGALRM, 128 + 14.
    Alarm = 142,
}

impl Exit {
    /// Every exit code, in the order of the documented table.
    pub const ALL: [Exit; 14] = [
        Exit::Ok,
        Exit::Other,
        Exit::Usage,
        Exit::ClickHouse,
        Exit::Reports,
        Exit::Locked,
        Exit::NothingImported,
        Exit::Interrupted,
        Exit::Terminated,
        Exit::Hangup,
        Exit::Quit,
        Exit::User1,
        Exit::User2,
        Exit::Alarm,
    ];

    pub fn code(self) -> u8 {
        self as u8
    }

    /// What the code tells a script, as `--help` and docs/failures.md say it.
    pub fn meaning(self) -> &'static str {
        match self {
            Exit::Ok => "every report was imported (or, with --verify, every check passed)",
            Exit::Other => "anything else went wrong",
            Exit::Usage => "bad usage or configuration",
            Exit::ClickHouse => "ClickHouse failed (connection, authentication, schema, write)",
            Exit::Reports => "one or more ccusage reports failed; the others were imported",
            Exit::Locked => "another import is still running (it holds the lock file)",
            Exit::NothingImported => {
                "no ccusage report could be imported (ccusage missing, no logs, ...)"
            }
            Exit::Interrupted => "stopped by Ctrl-C; the ccusage reports were killed",
            Exit::Terminated => "stopped by SIGTERM; the ccusage reports were killed",
            Exit::Hangup => "stopped by SIGHUP, the same way",
            Exit::Quit => "stopped by SIGQUIT, the same way",
            Exit::User1 => "stopped by SIGUSR1, the same way",
            Exit::User2 => "stopped by SIGUSR2, the same way",
            Exit::Alarm => "stopped by SIGALRM, the same way",
        }
    }

    /// The table `--help` prints.
    pub fn help_table() -> String {
        let mut out = String::from("Exit codes:\n");
        for exit in Exit::ALL {
            out.push_str(&format!("  {:<3}  {}\n", exit.code(), exit.meaning()));
        }
        out
    }
}

impl From<Exit> for std::process::ExitCode {
    fn from(exit: Exit) -> Self {
        std::process::ExitCode::from(exit.code())
    }
}

/// An error that knows its exit code. Errors without one exit with [`Exit::Other`].
#[derive(Debug)]
pub struct Failure {
    pub exit: Exit,
    pub error: anyhow::Error,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:#}", self.error)
    }
}

impl std::error::Error for Failure {}

/// Tags an error with the exit code it should end the program with.
pub trait ExitContext<T> {
    fn exit_code(self, exit: Exit) -> Result<T, Failure>;
}

impl<T> ExitContext<T> for anyhow::Result<T> {
    fn exit_code(self, exit: Exit) -> Result<T, Failure> {
        self.map_err(|error| Failure { exit, error })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_match_the_documented_table() {
        let table = [
            (Exit::Ok, 0),
            (Exit::Other, 1),
            (Exit::Usage, 2),
            (Exit::ClickHouse, 3),
            (Exit::Reports, 4),
            (Exit::Locked, 5),
            (Exit::NothingImported, 6),
            (Exit::Interrupted, 130),
            (Exit::Terminated, 143),
            (Exit::Hangup, 129),
            (Exit::Quit, 131),
            (Exit::User1, 138),
            (Exit::User2, 140),
            (Exit::Alarm, 142),
        ];
        for (exit, code) in table {
            assert_eq!(exit.code(), code);
        }
    }

    /// The README's table (wherever the docs keep it: a `| code | meaning |` table under an
    /// "Exit codes" heading in README.md or docs/*.md) lists exactly the codes of [`Exit::ALL`].
    #[test]
    fn the_docs_list_every_exit_code() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files = vec![root.join("README.md")];
        if let Ok(docs) = std::fs::read_dir(root.join("docs")) {
            files.extend(
                docs.flatten()
                    .map(|e| e.path())
                    .filter(|p| p.extension().is_some_and(|x| x == "md")),
            );
        }
        let mut documented = Vec::new();
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap_or_default();
            let mut in_table = false;
            for line in text.lines() {
                if line.starts_with('#') {
                    in_table = line.to_ascii_lowercase().contains("exit codes");
                } else if in_table && line.starts_with("| ") {
                    let cell = line[2..].split('|').next().unwrap_or("");
                    documented.extend(cell.split(',').filter_map(|c| c.trim().parse::<u8>().ok()));
                }
            }
        }
        documented.sort_unstable();
        let mut codes: Vec<u8> = Exit::ALL.iter().map(|e| e.code()).collect();
        codes.sort_unstable();
        assert_eq!(documented, codes, "the exit-code table of the docs");
    }
}
